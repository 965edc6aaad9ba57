#!/usr/bin/env python3
"""make-fuzz-seeds.py [OUTDIR] - seed inputs for tests/fuzz/fuzz_decode.c.

Writes small valid pickles (each under 4096 bytes, the fuzzer's -max_len;
all together under 100 KB) into OUTDIR (default tests/fuzz/seeds), named
NN-what-pP.pkl.  Together they use every one of the 68 opcodes of
protocols 0-5; the script checks that, and that CPython's C unpickler
accepts each seed when what it names is neutralised (pycheck.py inert):
PERSID/EXT/NEXT_BUFFER seeds need a persistent_load, the extension registry
or out-of-band buffers, which no stand-alone load has.

Deterministic: PYTHONHASHSEED=0, no randomness.
"""

import sys
sys.dont_write_bytecode = True     # keep the source tree free of __pycache__

import collections
import io
import os
import pickle
import pickletools
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, 'tests', 'fixtures', 'pymod'))
import pycheck  # noqa: E402

SEEDS = []


def add(what, data):
    SEEDS.append((what, bytes(data)))


class PersPickler(pickle.Pickler):
    def persistent_id(self, obj):
        return 'pid-%d' % obj if isinstance(obj, int) and obj >= 1000 else None


def pers_dumps(obj, proto):
    f = io.BytesIO()
    PersPickler(f, proto).dump(obj)
    return f.getvalue()


def build():
    import fixturemod
    mixed = {'s': 'text', 'u': 'caf\xe9 \u20ac \U0001F600', 'i': [0, 1, -1, 255, 256, 65536,
             -2 ** 31, 2 ** 40], 'f': [0.5, -0.0, float('inf')], 't': (1, (2,), (3, 4), (5, 6, 7)),
             'b': b'\x00\x01bytes', 'n': None, 'tf': [True, False]}
    for p in range(6):
        add('mixed-p%d' % p, pickle.dumps(mixed, p))
    shared = [1, 2]
    for p in (0, 1, 2, 4):
        add('shared-p%d' % p, pickle.dumps([shared, shared, {'k': shared}], p))
    rec = []
    rec.append(rec)
    t = ([],)
    t[0].append(t)
    for p in (0, 2, 4):
        add('recursive-p%d' % p, pickle.dumps([rec, t], p))
    fs = frozenset([1, 2])
    fr = [fs]
    for p in (4, 5):
        add('sets-p%d' % p, pickle.dumps([{1, 2, 3}, fs, set(), fr], p))
    for p in (0, 2, 4):
        add('objects-p%d' % p, pickle.dumps(
            [fixturemod.Point(1.0, 2.0, 'p'), fixturemod.Slotted(1, 2) if p >= 2 else None,
             fixturemod.WithState(3), fixturemod.Color.RED, len, 1 + 2j], p))
    # NEWOBJ_EX: __getnewargs_ex__
    add('newobj-ex-p4', b'\x80\x04\x8c\x08builtins\x94\x8c\x03int\x94\x93\x94'
        b'\x8c\x02ff\x94\x85\x94}\x94\x8c\x04base\x94K\x10s\x92\x94.')  # int('ff', base=16)
    add('bigint-p2', pickle.dumps([2 ** 100, -2 ** 2100], 2))         # LONG1, LONG4
    add('bigint-p0', pickle.dumps([2 ** 100, -(2 ** 70)], 0))          # LONG
    add('bytes-p5', pickle.dumps([bytearray(b'ba'), b'x' * 300, 'y' * 300], 5))
    add('large8-p4', b'\x80\x04\x8e\x03\x00\x00\x00\x00\x00\x00\x00abc'
        b'\x8d\x02\x00\x00\x00\x00\x00\x00\x00hi\x86\x94.')           # BINBYTES8, BINUNICODE8
    add('bytearray8-p5', b'\x80\x05\x96\x03\x00\x00\x00\x00\x00\x00\x00xyz.')
    # Python 2 style (see scripts/make-py2-fixtures.py)
    add('py2-dict-p0', b"(dp0\nS'a'\np1\nI1\nsS'b'\np2\n(lp3\nL12L\naF0.5\naI01\nasS'c'\np4\n"
        b"S'\\x00\\xff'\np5\ns.")
    add('py2-binstring-p1', b']q\x00(T\x03\x00\x00\x00abcU\x01zq\x01h\x01I00\ne.')
    add('py2-unicode-p0', b'(lp0\nVcaf\xe9\np1\naV\\u20ac\\U0001f600\np2\na.')
    add('py2-oldstyle-p0', b"(lp0\n(ifixturemod\nOldStyle\np1\n(dp2\nS'a'\np3\nI1\nsba"
        b"(I1\nS'two'\np7\nifixturemod\nOldStyleArgs\np8\n(dp9\ng3\nI1\nsS'b'\np10\ng7\nsba.")
    add('py2-oldstyle-p1', b'(cfixturemod\nOldStyle\nq\x00oq\x01}q\x02b.')
    add('py2-reconstructor-p0', b"ccopy_reg\n_reconstructor\np0\n(cfixturemod\nNewStyle\np1\n"
        b"c__builtin__\nobject\np2\nNtp3\nRp4\n(dp5\nS'x'\np6\nI1\nsb.")
    add('py2-numpy-p2', b"\x80\x02cnumpy.core.multiarray\n_reconstruct\nq\x01cnumpy\nndarray\n"
        b"q\x02K\x00\x85U\x01b\x87Rq\x03(K\x01K\x02\x85cnumpy\ndtype\nq\x04U\x02f4K\x00K\x01"
        b"\x87Rq\x05(K\x03U\x01<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89U\x08"
        b"\x00\x00\x80?\x00\x00\x00@tb.")
    # memo and stack bookkeeping opcodes
    add('memo-long-p1', b'(]r\x00\x00\x01\x00j\x00\x00\x01\x00t.')       # LONG_BINPUT/GET
    add('memo-get-p0', b'((lp100000\ng100000\nt.')                       # PUT/GET
    add('dup-pop-p1', b'(]2t0N(N1.')                                     # DUP POP POP_MARK
    add('frame-readline-p4', b'\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00I42\n.')
    # need external things: persistent ids, extension codes, buffers
    add('persid-p0', pers_dumps([1, 1000, 'x'], 0))
    add('binpersid-p2', pers_dumps([1000, 2000], 2))
    add('ext-p2', b'\x80\x02]q\x00(\x82\x01\x83\x00\x01\x84\x00\x00\x01\x00e.')
    add('nextbuffer-p5', b'\x80\x05\x97\x97\x98\x86.')
    add('stack-global-p4', b'\x80\x04\x8c\x08builtins\x8c\x03len\x93.')


def main(argv):
    out = argv[1] if len(argv) > 1 else os.path.join(REPO, 'tests', 'fuzz', 'seeds')
    build()
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        if f.endswith('.pkl'):
            os.unlink(os.path.join(out, f))
    used = collections.Counter()
    errors = 0
    total = 0
    for i, (what, data) in enumerate(SEEDS, 1):
        name = '%02d-%s.pkl' % (i, what)
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)
        total += len(data)
        if len(data) >= 4096:
            sys.stderr.write('make-fuzz-seeds: %s is %d bytes (max 4095)\n' % (name, len(data)))
            errors += 1
        r = pycheck.vm_check(data)
        e = pycheck.inert_load(data)
        if r is not None or e is not None:
            sys.stderr.write('make-fuzz-seeds: %s is not a valid pickle: %s / %s\n'
                             % (name, r, e))
            errors += 1
        for _, op, _ in pycheck.OpReader(data).ops():
            used[op] += 1
    missing = sorted(set(o.name for o in pickletools.opcodes) - set(used))
    if missing:
        sys.stderr.write('make-fuzz-seeds: opcodes no seed uses: %s\n' % ' '.join(missing))
        errors += 1
    if total >= 100_000:
        sys.stderr.write('make-fuzz-seeds: %d bytes in total (max 100000)\n' % total)
        errors += 1
    sys.stdout.write('make-fuzz-seeds: %d seeds, %d bytes, %d of %d opcodes, %d errors\n'
                     % (len(SEEDS), total, len(used), len(pickletools.opcodes), errors))
    return 1 if errors else 0


if __name__ == '__main__':
    if os.environ.get('PYTHONHASHSEED') != '0':
        os.environ['PYTHONHASHSEED'] = '0'
        os.execv(sys.executable, [sys.executable] + sys.argv)
    sys.exit(main(sys.argv))
