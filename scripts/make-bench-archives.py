#!/usr/bin/env python3
"""Inputs for scripts/bench-archives.sh, made without torch.

  make-bench-archives.py targz OUT.tar.gz [N]   N (100) members batches/batch_NNN.pkl
  make-bench-archives.py ckpt OUT.pt LAYERS     a state dict of LAYERS Linear(3072, 2048)
  make-bench-archives.py selfcheck FIXTURES     rebuild tests/fixtures/torch/state_dict.pt
                                                from its expected.json; must be byte-identical
  make-bench-archives.py torchcheck             if torch imports: torch.load a small
                                                generated checkpoint, compare the tensors

The checkpoint is written the way torch 1.13's torch.save writes its zip
(caffe2/serialize/inline_container.cc over miniz): members PREFIX/data.pkl,
PREFIX/data/KEY, PREFIX/version, stored, no dates, flags 0x0808 (data
descriptor, UTF-8), each member's data aligned to 64 bytes by a local extra
field b'FB' + length + b'Z' * n, zip64 end records always. data.pkl is
protocol 2, tensors as torch._utils._rebuild_tensor_v2(persistent id,
offset, size, stride, False, OrderedDict()), persistent ids ('storage',
torch.FloatStorage, KEY, 'cpu', numel). pickle writes those GLOBALs from
stand-in modules put in sys.modules; torch is never imported here (except
by torchcheck, in a child process).
"""
import collections
import io
import os
import pickle
import struct
import subprocess
import sys
import tarfile
import types
import zlib

# ---- stand-ins for the two torch names data.pkl refers to ----------------

_torch = types.ModuleType('torch')
_utils = types.ModuleType('torch._utils')


class FloatStorage:  # only its name is pickled
    pass


FloatStorage.__module__ = 'torch'
_torch.FloatStorage = FloatStorage


def _rebuild_tensor_v2(*args):  # never called: only its name is pickled
    raise RuntimeError('stand-in')


_rebuild_tensor_v2.__module__ = 'torch._utils'
_utils._rebuild_tensor_v2 = _rebuild_tensor_v2
_torch._utils = _utils


class Storage:
    """Marker: pickled as persistent id ('storage', FloatStorage, key, 'cpu', numel)."""
    def __init__(self, key, data):
        self.key, self.data = key, data  # data: little-endian float32 bytes


class Tensor:
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, tuple(size), tuple(stride))

    def __reduce__(self):
        s, off, size, stride = self.args
        return (_rebuild_tensor_v2, (s, off, size, stride, False, collections.OrderedDict()))


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ('storage', FloatStorage, obj.key, 'cpu', len(obj.data) // 4)
        return None


def dump_data_pkl(obj):
    saved = {k: sys.modules.get(k) for k in ('torch', 'torch._utils')}
    sys.modules['torch'], sys.modules['torch._utils'] = _torch, _utils
    try:
        f = io.BytesIO()
        _Pickler(f, protocol=2).dump(obj)
        return f.getvalue()
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


# ---- the zip, as miniz writes it for torch --------------------------------

class TorchZip:
    def __init__(self, f):
        self.f, self.pos, self.central = f, 0, []

    def _w(self, b):
        self.f.write(b)
        self.pos += len(b)

    def add(self, name, chunks):
        """chunks: an iterable of bytes-like objects, the member's data."""
        name = name.encode()
        off = self.pos
        start = off + 30 + len(name) + 4
        pad = (-start) % 64
        extra = b'FB' + struct.pack('<H', pad) + b'Z' * pad
        self._w(struct.pack('<IHHHHHIIIHH', 0x04034b50, 0, 0x0808, 0, 0, 0, 0, 0, 0,
                            len(name), len(extra)) + name + extra)
        crc = size = 0
        for c in chunks:
            crc = zlib.crc32(c, crc)
            size += len(c)
            self._w(c)
        self._w(struct.pack('<IIII', 0x08074b50, crc, size, size))
        self.central.append((name, crc, size, off))

    def close(self):
        cd = self.pos
        for name, crc, size, off in self.central:
            self._w(struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 0, 0, 0x0808, 0, 0, 0,
                                crc, size, size, len(name), 0, 0, 0, 0, 0, off) + name)
        cdsize, n = self.pos - cd, len(self.central)
        z64 = self.pos
        self._w(struct.pack('<IQHHIIQQQQ', 0x06064b50, 44, 0x031e, 0x2d, 0, 0, n, n, cdsize, cd))
        self._w(struct.pack('<IIQI', 0x07064b50, 0, z64, 1))
        self._w(struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, n, n, cdsize, cd, 0))


def write_checkpoint(path, prefix, state, metadata, storages):
    """state: OrderedDict of Tensor; storages: [Storage] in key order."""
    sd = collections.OrderedDict(state)
    sd._metadata = metadata
    pkl = dump_data_pkl(sd)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        z = TorchZip(f)
        z.add(prefix + '/data.pkl', [pkl])
        for s in storages:
            mv = memoryview(s.data)
            z.add(prefix + '/data/' + s.key, (mv[i:i + (16 << 20)] for i in range(0, len(mv), 16 << 20)))
        z.add(prefix + '/version', [b'3\n'])
        z.close()
    os.replace(tmp, path)


def linear_state(layers, out_f=2048, in_f=3072, seed=0):
    import numpy as np
    rng = np.random.default_rng(seed)
    state, storages = collections.OrderedDict(), []
    meta = collections.OrderedDict([('', {'version': 1}), ('layers', {'version': 1})])
    for i in range(layers):
        w = (rng.standard_normal((out_f, in_f), dtype=np.float32) * 0.02).astype('<f4')
        b = (rng.standard_normal(out_f, dtype=np.float32) * 0.02).astype('<f4')
        for name, a in (('layers.%d.weight' % i, w), ('layers.%d.bias' % i, b)):
            s = Storage(str(len(storages)), a.tobytes())
            storages.append(s)
            stride = tuple(x // 4 for x in a.strides)
            state[name] = Tensor(s, 0, a.shape, stride)
        meta['layers.%d' % i] = {'version': 1}
    return state, meta, storages


def cmd_ckpt(path, layers):
    state, meta, storages = linear_state(layers)
    prefix = os.path.splitext(os.path.basename(path))[0]
    write_checkpoint(path, prefix, state, meta, storages)


def cmd_selfcheck(fixtures):
    import json
    exp = json.load(open(os.path.join(fixtures, 'expected.json')))['fixtures']['state_dict.pt']
    state, storages = collections.OrderedDict(), []
    for t in exp['tensors']:
        # str(int): a new string object, as torch's str(len(id_map)); the
        # metadata's '0' (a slice in torch) is the shared one-character string,
        # so pickle memoizes them apart, as torch's data.pkl shows
        s = Storage(str(int(t['storage_key'])), bytes.fromhex(t['bytes_hex']))
        storages.append(s)
        state[t['path'][0]] = Tensor(s, t['storage_offset'], t['shape'], t['stride'])
    meta = collections.OrderedDict([('', {'version': 1})] +
                                   [(k, {'version': 1}) for k in ('0', '1', '2')])
    out = os.path.join(os.environ.get('TMPDIR', '/tmp'), 'picklefs-selfcheck-%d.pt' % os.getpid())
    try:
        write_checkpoint(out, 'state_dict', state, meta, storages)
        mine, theirs = open(out, 'rb').read(), open(os.path.join(fixtures, 'state_dict.pt'), 'rb').read()
    finally:
        if os.path.exists(out):
            os.unlink(out)
    if mine != theirs:
        i = next((i for i in range(min(len(mine), len(theirs))) if mine[i] != theirs[i]), None)
        sys.exit('selfcheck: differs from torch 1.13\'s state_dict.pt at byte %s (%d vs %d bytes)'
                 % (i, len(mine), len(theirs)))
    print('byte-identical to torch 1.13\'s tests/fixtures/torch/state_dict.pt')


TORCHCHECK = r'''
import sys, numpy as np, torch
sd = torch.load(sys.argv[1])
for k, shape, hexbytes in eval(sys.argv[2]):
    t = sd[k]
    assert tuple(t.shape) == shape and t.dtype == torch.float32, (k, t.shape, t.dtype)
    assert t.numpy().tobytes() == bytes.fromhex(hexbytes), k
assert list(sd) == [k for k, _, _ in eval(sys.argv[2])]
print(torch.__version__)
'''


def cmd_torchcheck(python):
    """0: torch.load read a small generated checkpoint right; 3: no torch."""
    if subprocess.run([python, '-c', 'import torch'], capture_output=True).returncode != 0:
        return 3
    path = os.path.join(os.environ.get('TMPDIR', '/tmp'), 'picklefs-torchcheck-%d.pt' % os.getpid())
    try:
        state, meta, storages = linear_state(2, 8, 12, seed=1)
        write_checkpoint(path, 'torchcheck', state, meta, storages)
        want = [(k, t.args[2], t.args[0].data.hex()) for k, t in state.items()]
        r = subprocess.run([python, '-c', TORCHCHECK, path, repr(want)], capture_output=True, text=True)
    finally:
        if os.path.exists(path):
            os.unlink(path)
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        return 1
    print('torch %s loaded a generated 2-layer checkpoint: same keys, shapes and bytes' % r.stdout.strip())
    return 0


def cmd_targz(path, n=100):
    import numpy as np
    rows, cols = 10000, 1024  # 10.24 MB of uint8 a batch
    y = np.arange(rows, dtype=np.int32)[:, None]
    x = np.arange(cols, dtype=np.int32)[None, :]
    tmp = path + '.tmp'
    with tarfile.open(tmp, 'w:gz', compresslevel=1, format=tarfile.PAX_FORMAT) as tf:
        for i in range(n):
            rng = np.random.default_rng(i)
            # a smooth gradient that moves from batch to batch, plus small
            # noise on one pixel in eight: gzip -1 makes about a third of it
            noise = (rng.integers(0, 8, (rows, cols)) == 0) * rng.integers(0, 8, (rows, cols))
            data = ((x // 4 + y // 40 + 3 * i) % 256 + noise).astype(np.uint8)
            batch = {'batch_label': 'training batch %d of %d' % (i + 1, n),
                     'labels': [int(v) for v in rng.integers(0, 10, rows)],
                     'data': data}
            b = pickle.dumps(batch, 4)
            ti = tarfile.TarInfo('batches/batch_%03d.pkl' % i)
            ti.size, ti.mtime, ti.mode = len(b), 1700000000, 0o644
            tf.addfile(ti, io.BytesIO(b))
    os.replace(tmp, path)


if __name__ == '__main__':
    a = sys.argv[1:]
    if a[:1] == ['targz']:
        cmd_targz(a[1], int(a[2]) if len(a) > 2 else 100)
    elif a[:1] == ['ckpt']:
        cmd_ckpt(a[1], int(a[2]))
    elif a[:1] == ['selfcheck']:
        cmd_selfcheck(a[1])
    elif a[:1] == ['torchcheck']:
        sys.exit(cmd_torchcheck(a[1] if len(a) > 1 else sys.executable))
    else:
        sys.exit(__doc__)
