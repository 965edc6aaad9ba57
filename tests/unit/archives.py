"""Writes into the folder argv[1] tar and zip archives for test_archive.c,
each with a manifest of what Python's tarfile / zipfile say its members
are: ARCHIVE.txt has one line per member that the index must list,
    KIND OFFSET SIZE USIZE CRC NAME
(KIND f or d; OFFSET of the data in the archive; for tar USIZE == SIZE and
CRC 0) and ARCHIVE.N holds the bytes of the member of line N (from 1),
as Python extracts them. Members the index must not list (links, "..")
are not in the manifest. With argv[2] == "many" it writes only many.zip:
70000 members in one directory (zip64 by count)."""
import io
import os
import struct
import sys
import tarfile
import warnings
import zipfile
import zlib

d = sys.argv[1]
warnings.simplefilter('ignore')  # zipfile: Duplicate name
MTIME = 1700000000


def payload(n, seed):
    """n bytes, compressible but not trivially"""
    out = bytearray()
    x = seed
    while len(out) < n:
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out += b'%d,' % (x % 1000)
    return bytes(out[:n])


def norm(name):
    """the index's name for an archive name, or None when it skips it"""
    parts = []
    for c in name.split('/'):
        if c in ('', '.'):
            continue
        if c == '..' or len(c.encode('utf-8', 'surrogateescape')) > 255:
            return None
        parts.append(c)
    return '/'.join(parts) or None


def manifest(arc, rows):
    """rows: (kind, offset, size, usize, crc, name, data); names are the
    archive's bytes (surrogate escapes: tarfile's reading of what is not
    UTF-8)"""
    with open(os.path.join(d, arc + '.txt'), 'w', encoding='utf-8',
              errors='surrogateescape') as f:
        for i, (kind, off, size, usize, crc, name, data) in enumerate(rows):
            f.write('%s %d %d %d %d %s\n' % (kind, off, size, usize, crc,
                                             name))
            with open(os.path.join(d, '%s.%d' % (arc, i + 1)), 'wb') as g:
                g.write(data or b'')


# ---- tar ---------------------------------------------------------------

def add(tf, name, data=None, kind=tarfile.REGTYPE, **kw):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mtime = kw.pop('mtime', MTIME)
    ti.mode = kw.pop('mode', 0o644)
    for k, v in kw.items():
        setattr(ti, k, v)
    if data is not None:
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    else:
        tf.addfile(ti)


def tar_manifest(arc):
    rows = {}
    with tarfile.open(os.path.join(d, arc)) as tf:
        for ti in tf.getmembers():
            n = norm(ti.name)
            if n is None:
                continue
            if ti.isreg() and not ti.issparse():
                data = tf.extractfile(ti).read()
                rows[n] = ('f', ti.offset_data, ti.size, ti.size, 0, n, data)
            elif ti.isdir():
                rows[n] = ('d', 0, 0, 0, 0, n, b'')
            else:
                rows.pop(n, None)
    manifest(arc, list(rows.values()))


def make_tars():
    long1 = 'long-' + 'x' * 120 + '/y.pkl'  # > 100: ustar prefix / GNU L
    long2 = '/'.join(['c%03d' % i + 'z' * 60 for i in range(5)]) + '/deep.pkl'
    assert len(long2) > 255
    for fmt, name in ((tarfile.USTAR_FORMAT, 'ustar.tar'),
                      (tarfile.GNU_FORMAT, 'gnu.tar'),
                      (tarfile.PAX_FORMAT, 'pax.tar')):
        kw = {}
        if fmt == tarfile.PAX_FORMAT:
            kw['pax_headers'] = {'comment': 'a global header'}
        with tarfile.open(os.path.join(d, name), 'w', format=fmt,
                          **kw) as tf:
            add(tf, 'a.pkl', payload(100, 1))
            add(tf, 'd', kind=tarfile.DIRTYPE, mode=0o755)
            add(tf, 'd/x.bin', payload(1000, 2), mode=0o600)
            add(tf, 'd/empty', b'')
            add(tf, './dot/./y', payload(512, 3))
            add(tf, 'link', kind=tarfile.SYMTYPE, linkname='a.pkl')
            add(tf, 'hard', kind=tarfile.LNKTYPE, linkname='a.pkl')
            add(tf, 'fifo', kind=tarfile.FIFOTYPE)
            add(tf, long1, payload(300, 4))
            if fmt != tarfile.USTAR_FORMAT:
                add(tf, long2, payload(77, 5))
                add(tf, 'neg-mtime', b'old', mtime=-1000)
                add(tf, 'big-uid', b'uid', uid=10 ** 9)
            if fmt == tarfile.PAX_FORMAT:
                add(tf, 'caf\u00e9/\u00e9t\u00e9.pkl', payload(10, 6))
                add(tf, 'frac', b'f', mtime=1700000000.5)
            add(tf, '../evil', b'evil')
            add(tf, '/abs/olute', b'abs')
            add(tf, 'a.pkl', payload(200, 7))  # again: the later wins
        tar_manifest(name)
    # v7: a ustar archive whose headers lose their magic (and prefix)
    raw = bytearray(open(os.path.join(d, 'ustar.tar'), 'rb').read())
    with tarfile.open(os.path.join(d, 'ustar.tar')) as tf:
        heads = [ti.offset for ti in tf.getmembers()]
    keep = bytearray()
    for off in heads:
        h = raw[off:off + 512]
        if h[345] != 0:  # has a prefix: not for v7
            continue
        h[257:265] = bytes(8)
        h[148:156] = b' ' * 8
        h[148:156] = b'%06o\0 ' % sum(h)
        size = int(h[124:136].rstrip(b'\0 ') or b'0', 8)
        body = raw[off + 512:off + 512 + (size + 511) // 512 * 512]
        if h[156:157] in (b'2', b'1', b'6', b'5'):
            body = b''
        keep += h + body
    keep += bytes(1024)
    with open(os.path.join(d, 'v7.tar'), 'wb') as f:
        f.write(keep)
    tar_manifest('v7.tar')
    # CPython's own test archive (libpython3.11-testsuite): old GNU,
    # ustar, pax, v7 headers, signed checksums, sparse files
    src = '/usr/lib/python3.11/test/testtar.tar'
    with open(src, 'rb') as f, open(os.path.join(d, 'testtar.tar'),
                                     'wb') as g:
        g.write(f.read())
    tar_manifest('testtar.tar')


# ---- zip ---------------------------------------------------------------

def zip_manifest(arc):
    """as Python's zipfile reads it; members whose local name is not the
    central one (zipfile refuses them) are read from their bytes; an
    encrypted member has KIND x and no bytes"""
    rows = {}
    raw = open(os.path.join(d, arc), 'rb').read()
    with zipfile.ZipFile(os.path.join(d, arc)) as zf:
        for zi in zf.infolist():
            n = norm(zi.filename)
            if n is None:
                continue
            ho = zi.header_offset
            nl, xl = struct.unpack('<HH', raw[ho + 26:ho + 30])
            off = ho + 30 + nl + xl
            kind, data = 'f', b''
            if (zi.external_attr >> 16) & 0o170000 == 0o120000:
                rows.pop(n, None)
                continue
            if zi.is_dir():
                kind = 'd'
            elif zi.flag_bits & 1:
                kind = 'x'
            elif raw[ho + 30:ho + 30 + nl] == zi.orig_filename.encode():
                data = zf.read(zi)
            else:
                data = raw[off:off + zi.compress_size]
                if zi.compress_type == 8:
                    data = zlib.decompress(data, -15)
            rows[n] = (kind, off, zi.compress_size, zi.file_size, zi.CRC, n,
                       data)
    manifest(arc, list(rows.values()))


def make_zips():
    p = os.path.join(d, 'plain.zip')
    with zipfile.ZipFile(p, 'w') as zf:
        zf.writestr('stored.pkl', payload(1000, 10))
        zf.writestr(zipfile.ZipInfo('deflated.pkl', (2020, 5, 6, 7, 8, 10)),
                    payload(5000, 11), compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr('big/big.bin', payload(200000, 12),
                    compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr('big/stored.bin', payload(70000, 13))
        zf.writestr('dir/', b'')
        zf.writestr('dir/sub/x', b'x', compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr('empty', b'', compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr('../evil', b'evil')
        zf.writestr('/abs', b'abs')
        link = zipfile.ZipInfo('dir/link')
        link.create_system = 3
        link.external_attr = 0o120777 << 16
        zf.writestr(link, b'../stored.pkl')  # a symlink: not listed
        zf.writestr('twice', b'first')
        zf.writestr('twice', b'second')
        zf.comment = b'a comment'
    zip_manifest('plain.zip')
    p = os.path.join(d, 'zip64.zip')
    with zipfile.ZipFile(p, 'w') as zf:
        with zf.open('forced.pkl', 'w', force_zip64=True) as f:
            f.write(payload(3000, 14))
        zi = zipfile.ZipInfo('forced-deflated.pkl')
        zi.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(zi, 'w', force_zip64=True) as f:
            f.write(payload(3000, 15))
        zf.writestr('small', b'small')
    zip_manifest('zip64.zip')
    # CPython's: a name in code page 437 (flag bit 11 clear), directories
    for name in ('zip_cp437_header.zip', 'zipdir.zip'):
        with open('/usr/lib/python3.11/test/' + name, 'rb') as f, \
                open(os.path.join(d, name), 'wb') as g:
            g.write(f.read())
        zip_manifest(name)


def make_many():
    p = os.path.join(d, 'many.zip')
    with zipfile.ZipFile(p, 'w') as zf:
        for i in range(70000):
            zf.writestr('many/m%05d' % (69999 - i), b'%d' % i)
        zf.writestr('top', b'top')


# A zip made by hand: each member (central name, local name, local extra,
# data, method, flags); stored data is aligned to 64 bytes by the local
# extra (as PyTorch does) when pad.
def hand_zip(name, members, pad=False):
    out = bytearray()
    cen = bytearray()
    for cname, lname, lextra, data, method, flags in members:
        comp = data
        if method == 8:
            co = zlib.compressobj(6, zlib.DEFLATED, -15)
            comp = co.compress(data) + co.flush()
        crc = zlib.crc32(data)
        lho = len(out)
        if pad:
            at = lho + 30 + len(lname) + len(lextra) + 4
            lextra += struct.pack('<HH', 0x4246, (-at) % 64) + \
                bytes((-at) % 64)
        out += struct.pack('<IHHHHHIIIHH', 0x04034b50, 20, flags, method,
                           0, 0x21, crc, len(comp), len(data), len(lname),
                           len(lextra)) + lname + lextra + comp
        cen += struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 0x0314, 20,
                           flags, method, 0, 0x21, crc, len(comp), len(data),
                           len(cname), 0, 0, 0, 0, 0o100644 << 16,
                           lho) + cname
    eocd = struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, len(members),
                       len(members), len(cen), len(out), 0)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(out + cen + eocd)


def make_hand():
    hand_zip('torch.zip', [
        (b'archive/data.pkl', b'archive/data.pkl', b'', payload(333, 20), 0,
         0),
        (b'archive/data/0', b'archive/data/0', b'', payload(4096, 21), 0, 0),
        (b'archive/data/1', b'archive/data/1', b'', payload(1000, 22), 8, 0),
        (b'archive/version', b'archive/version', b'', b'3\n', 0, 0),
    ], pad=True)
    zip_manifest('torch.zip')
    # the central names are the truth; the local ones only move the data
    hand_zip('names.zip', [
        (b'central.pkl', b'a-much-longer-local-name.pkl', b'\x00\x00\x00\x00',
         payload(100, 23), 0, 0),
        (b'c2', b'', b'', payload(100, 24), 8, 0),
        (b'secret', b'secret', b'', payload(50, 25), 0, 1),
    ])
    zip_manifest('names.zip')


if len(sys.argv) > 2 and sys.argv[2] == 'many':
    make_many()
else:
    make_tars()
    make_zips()
    make_hand()
