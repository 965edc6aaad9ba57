#!/usr/bin/python3
"""make_archives.py SRC REF - the archives of tests/mount/archives.sh.

Writes into SRC the archives a user meets (each made by the library that
makes them in the wild: tarfile, zipfile, the zstd CLI) and, into REF,
what Python reads from them: every member extracted by tarfile/zipfile
(nested archives opened in turn), and REF/expect.tsv, one line per entry
the mount must show:

    MOUNT_PATH <TAB> dir|pickle|file <TAB> EXTRACTED_PATH

MOUNT_PATH is relative to the mount's root; member names as the README
says the mount names them (leading "/" dropped, ".." members skipped).
"""

import gzip
import io
import os
import pickle
import struct
import subprocess
import sys
import tarfile
import zipfile

import numpy as np

SRC, REF = sys.argv[1], sys.argv[2]
os.makedirs(SRC, exist_ok=True)
os.makedirs(REF, exist_ok=True)


# ---- CIFAR-10-style batches: Python 2 cPickle protocol 2 dicts --------

def sbs(b):
    """SHORT_BINSTRING or BINSTRING: a Python 2 str."""
    if len(b) < 256:
        return b'U' + bytes([len(b)]) + b
    return b'T' + struct.pack('<i', len(b)) + b


def py2_batch(label, labels, data, names):
    """dict(batch_label=..., labels=[...], data=uint8 (n, 3072) array,
    filenames=[...]) as Python 2.7's cPickle wrote CIFAR-10's batches."""
    shape = b'M' + struct.pack('<H', data.shape[0]) + b'M' + struct.pack('<H', data.shape[1]) + b'\x86'
    arr = (b'cnumpy.core.multiarray\n_reconstruct\nq\x01cnumpy\nndarray\nq\x02'
           b'K\x00\x85U\x01b\x87Rq\x03(K\x01' + shape +
           b'cnumpy\ndtype\nq\x04U\x02u1K\x00K\x01\x87Rq\x05'
           b'(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89' +
           sbs(data.tobytes()) + b'tb')
    lab = b']q\x06(' + b''.join(b'K' + bytes([x]) for x in labels) + b'e'
    fn = b']q\x07(' + b''.join(sbs(n) for n in names) + b'e'
    return (b'\x80\x02}q\x00(' + sbs(b'data') + arr + sbs(b'labels') + lab +
            sbs(b'batch_label') + sbs(label) + sbs(b'filenames') + fn + b'u.')


def add_bytes(tar, name, data, mtime=1500000000):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mtime = mtime
    tar.addfile(ti, io.BytesIO(data))


rng = np.random.RandomState(0)
cifar = io.BytesIO()
with tarfile.open(fileobj=cifar, mode='w:gz') as t:
    d = tarfile.TarInfo('cifar-10-batches-py')
    d.type = tarfile.DIRTYPE
    d.mode = 0o755
    t.addfile(d)
    for i in (1, 2):
        add_bytes(t, 'cifar-10-batches-py/data_batch_%d' % i,
                  py2_batch(b'training batch %d of 5' % i, [6, 9, 9, 4],
                            rng.randint(0, 256, (4, 3072)).astype(np.uint8),
                            [b'leptodactylus_pentadactylus_s_000004.png',
                             b'camion_s_000148.png', b'tipper_truck_s_001250.png',
                             b'american_elk_s_001521.png']))
    add_bytes(t, 'cifar-10-batches-py/test_batch',
              py2_batch(b'testing batch 1 of 1', [3, 8],
                        rng.randint(0, 256, (2, 3072)).astype(np.uint8),
                        [b'domestic_cat_s_000907.png', b'hydrofoil_s_000078.png']))
    add_bytes(t, 'cifar-10-batches-py/batches.meta',
              b'\x80\x02}q\x01(' + sbs(b'num_vis') + b'J' + struct.pack('<i', 3072) +
              sbs(b'label_names') + b']q\x02(' +
              b''.join(sbs(n) for n in (b'airplane', b'automobile', b'bird', b'cat')) +
              b'e' + sbs(b'num_cases_per_batch') + b'M' + struct.pack('<H', 10000) + b'u.')
    add_bytes(t, 'cifar-10-batches-py/readme.html', b'<meta HTTP-EQUIV="REFRESH">\n')
open(os.path.join(SRC, 'cifar-10-python.tar.gz'), 'wb').write(cifar.getvalue())


# ---- a zip with stored and deflated members, nested archives ----------

deep = io.BytesIO()
with zipfile.ZipFile(deep, 'w') as z:
    z.writestr('d.pkl', pickle.dumps({'deep': [1, 2, 3]}, 4))
nested = io.BytesIO()
with tarfile.open(fileobj=nested, mode='w') as t:
    add_bytes(t, 'x.pkl', pickle.dumps({'in': 'nested tar', 'n': 7}, 2))
    add_bytes(t, 'deep.zip', deep.getvalue())
big = np.arange(20000, dtype=np.float64).reshape(200, 100)
with zipfile.ZipFile(os.path.join(SRC, 'data.zip'), 'w') as z:
    z.writestr('a.pkl', pickle.dumps({'x': 1, 'y': [1.5, 'two'], 'z': None}, 5))
    z.writestr('dir/b.pkl', pickle.dumps([1, 2, 3], 0),
               compress_type=zipfile.ZIP_DEFLATED)
    z.writestr('dir/big.pkl', pickle.dumps({'w': big}, 4),
               compress_type=zipfile.ZIP_DEFLATED)
    z.writestr('notes.txt', 'hello from a zip\n' * 100,
               compress_type=zipfile.ZIP_DEFLATED)
    z.writestr(zipfile.ZipInfo('empty/'), b'')
    z.writestr('inner/nested.tar', nested.getvalue())

# ---- tars compressed every way tarfile and the zstd CLI do ------------

frames = {'a': [1, 2, 3], 'b': 'text', 'c': {'k': 2.5}}
for mode, name in (('w:bz2', 'frames.tar.bz2'), ('w:xz', 'frames.tar.xz'),
                   ('w', 'frames.tar')):
    with tarfile.open(os.path.join(SRC, name), mode) as t:
        add_bytes(t, 'f/one.pkl', pickle.dumps(frames, 3))
        add_bytes(t, 'f/two.pkl', pickle.dumps(list(range(50)), 2))
subprocess.run(['zstd', '-q', '-f', os.path.join(SRC, 'frames.tar'), '-o',
                os.path.join(SRC, 'frames.tar.zst')], check=True)
os.unlink(os.path.join(SRC, 'frames.tar'))

# a plain tar: a gzip-compressed pickle inside, a pax long name, a symlink
with tarfile.open(os.path.join(SRC, 'plain.tar'), 'w', format=tarfile.PAX_FORMAT) as t:
    add_bytes(t, 'c.pkl.gz', gzip.compress(pickle.dumps({'gz': 'inside a tar'}, 4), mtime=0))
    add_bytes(t, 'long/' + 'n' * 150 + '.pkl', pickle.dumps({'long': 'name'}, 4))
    ln = tarfile.TarInfo('link.pkl')
    ln.type = tarfile.SYMTYPE
    ln.linkname = 'c.pkl.gz'
    t.addfile(ln)

# hostile names: "../evil.pkl" is skipped, "/abs.pkl" shown as abs.pkl
with zipfile.ZipFile(os.path.join(SRC, 'evil.zip'), 'w') as z:
    z.writestr(zipfile.ZipInfo('../evil.pkl'), pickle.dumps('evil', 4))
    z.writestr(zipfile.ZipInfo('/abs.pkl'), pickle.dumps('abs', 4))
    z.writestr('ok.pkl', pickle.dumps('ok', 4))

# an encrypted member (flag bit 0 set in both headers): listed, not read
buf = io.BytesIO()
with zipfile.ZipFile(buf, 'w') as z:
    z.writestr('secret.pkl', pickle.dumps('secret', 4))
    z.writestr('open.pkl', pickle.dumps('open', 4))
raw = bytearray(buf.getvalue())
raw[6] |= 1                                   # local header flags
cd = raw.rfind(b'PK\x01\x02', 0, raw.rfind(b'PK\x01\x02'))
raw[cd + 8] |= 1                              # central directory flags
open(os.path.join(SRC, 'enc.zip'), 'wb').write(raw)

# pandas' to_pickle into a zip and a tar.gz (compression by the name)
import pandas
frame = pandas.DataFrame({'a': [1, 2, 3], 'b': ['x', 'y', 'z']})
frame.to_pickle(os.path.join(SRC, 'frame.pkl.zip'))
frame.to_pickle(os.path.join(SRC, 'frame.pkl.tar.gz'))

# data that is no pickle: the reason is in user.pickle.error
open(os.path.join(SRC, 'model.h5'), 'wb').write(b'\x89HDF\r\n\x1a\n' + bytes(200))
# numpy's own files: array directories (npy, npz stored and deflated);
# a structured or object .npy is raw, and says why
os.makedirs(os.path.join(SRC, 'np'), exist_ok=True)
np.save(os.path.join(SRC, 'np', 'f8.npy'), np.linspace(0, 1, 12).reshape(3, 4))
np.save(os.path.join(SRC, 'np', 'fortran.npy'),
        np.asfortranarray(np.arange(6, dtype='>i4').reshape(2, 3)))
np.save(os.path.join(SRC, 'np', 'str.npy'), np.array(['ab', 'c', '']))
np.save(os.path.join(SRC, 'np', 'img.npy'),
        (np.arange(16 * 12 * 3) % 251).astype(np.uint8).reshape(16, 12, 3))
np.save(os.path.join(SRC, 'np', 'bool0d.npy'), np.array(True))
np.savez(os.path.join(SRC, 'np', 'pair.npz'), x=np.arange(3), y=np.eye(2))
np.savez_compressed(os.path.join(SRC, 'np', 'packed.npz'), big=np.arange(5000, dtype=np.int16))
np.save(os.path.join(SRC, 'arr.npy'), np.zeros(2, dtype=[('a', '<i4'), ('b', '<f8')]))
# a tar.gz cut short: a directory that cannot be listed, said why
open(os.path.join(SRC, 'cut.tar.gz'), 'wb').write(cifar.getvalue()[:len(cifar.getvalue()) // 2])


# ---- what Python reads: the reference --------------------------------

def norm(name):
    parts = [p for p in name.split('/') if p not in ('', '.')]
    if '..' in parts:
        return None
    return '/'.join(parts)


lines = []
serial = [0]


def is_archive(data):
    return (data[:4] == b'PK\x03\x04' or
            (len(data) > 262 and data[257:262] == b'ustar'))


def members(data):
    """(name, bytes or None for a directory) of a tar or zip in data."""
    if data[:2] == b'PK':
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for zi in z.infolist():
                yield zi.filename, None if zi.is_dir() else z.read(zi)
        return
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        for ti in t.getmembers():
            if ti.isdir():
                yield ti.name, None
            elif ti.isfile():
                yield ti.name, t.extractfile(ti).read()


def walk(mpath, data):
    dirs = set()
    for name, body in members(data):
        n = norm(name)
        if n is None:
            continue
        parts = n.split('/')
        for i in range(1, len(parts)):
            dirs.add('/'.join(parts[:i]))
        path = mpath + '/' + n
        if body is None:
            dirs.add(n)
            continue
        serial[0] += 1
        out = os.path.join(REF, 'm%d' % serial[0])
        open(out, 'wb').write(body)
        plain = body
        if body[:2] == b'\x1f\x8b':
            plain = gzip.decompress(body)
        if is_archive(plain):
            lines.append((path, 'dir', out))
            walk(path, plain)
        elif plain[:1] == b'\x80' or n.endswith(('.pkl', '.pkl.gz')):
            lines.append((path, 'pickle', out))
        else:
            lines.append((path, 'file', out))
    for d in dirs:
        lines.append((mpath + '/' + d, 'dir', ''))


def decompressed(path):
    data = open(path, 'rb').read()
    if path.endswith('.zst'):
        return subprocess.run(['zstd', '-dc', path], check=True,
                              stdout=subprocess.PIPE).stdout
    if data[:2] == b'PK':
        return data
    with tarfile.open(path) as t:   # any compression tarfile knows
        pass
    import bz2, lzma
    for f in (gzip.decompress, bz2.decompress, lzma.decompress):
        try:
            return f(data)
        except Exception:
            pass
    return data


for arc in ('cifar-10-python.tar.gz', 'data.zip', 'frames.tar.bz2',
            'frames.tar.xz', 'frames.tar.zst', 'plain.tar', 'evil.zip',
            'frame.pkl.zip', 'frame.pkl.tar.gz'):
    walk(arc, decompressed(os.path.join(SRC, arc)))

with open(os.path.join(REF, 'expect.tsv'), 'w') as f:
    for line in sorted(lines):
        f.write('\t'.join(line) + '\n')
