#!/usr/bin/python3
"""write_check.py - CPython's view of a pickle after an edit.

  write_check.py FILE EXPR [--proto N] [--comp none|gzip|bzip2]
                           [--base ORIGINAL]

Loads FILE (gzip / bzip2 recognised by magic) with this CPython and checks
it against the Python expression EXPR, strictly: same types everywhere
(7 is not 7.0 is not True), dict key order, floats by repr (so -0.0 is not
0.0), tuples stay tuples, sets compared as sets of (type, value), numpy
arrays by dtype, shape and bytes, objects by class and __dict__.  With
--proto, the pickle must still be at that protocol (the PROTO opcode for
2-5; for 0 and 1, the highest protocol among its opcodes); the file
must be compressed as --comp says (magic bytes; default none, `any` to
skip).  EXPR sees numpy
(also as np), fixturemod and its classes, `base` (what ORIGINAL loads to,
with --base) and three helpers that keep key order:
upd(d, **kw) (dict(d, **kw): new values in place, new keys at the end),
drop(d, *keys) and ren(d, old, new) (a key renamed in place).

Exit status 0 when everything matches; otherwise prints why and exits 1.
"""

import bz2
import gzip
import os
import pickle
import pickletools
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, 'tests', 'fixtures', 'pymod'))


def compression(raw):
    if raw[:2] == b'\x1f\x8b':
        return 'gzip'
    if raw[:3] == b'BZh':
        return 'bzip2'
    return 'none'


def plain(raw):
    c = compression(raw)
    if c == 'gzip':
        return gzip.decompress(raw)
    if c == 'bzip2':
        return bz2.decompress(raw)
    return raw


def protocol(data):
    if data[:1] == b'\x80':
        return data[1]
    top = 0
    for op, _arg, _pos in pickletools.genops(data):
        top = max(top, op.proto)
    return top


def diff(a, b, path='top'):
    """None when a and b are the same, else a message."""
    np = sys.modules.get('numpy')
    if type(a) is not type(b):
        return '%s: type %s, expected %s (%r vs %r)' % (
            path, type(a).__name__, type(b).__name__, a, b)
    if isinstance(a, dict):
        if list(a.keys()) != list(b.keys()):
            return '%s: keys %r, expected %r' % (path, list(a), list(b))
        for k in a:
            d = diff(a[k], b[k], '%s[%r]' % (path, k))
            if d:
                return d
        return None
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return '%s: %r, expected %r' % (path, a, b)
        for i, (x, y) in enumerate(zip(a, b)):
            d = diff(x, y, '%s[%d]' % (path, i))
            if d:
                return d
        return None
    if isinstance(a, (set, frozenset)):
        ta = {(type(x).__name__, repr(x)) for x in a}
        tb = {(type(x).__name__, repr(x)) for x in b}
        if ta != tb:
            return '%s: %r, expected %r' % (path, a, b)
        return None
    if isinstance(a, (float, complex)):
        if repr(a) != repr(b):
            return '%s: %r, expected %r' % (path, a, b)
        return None
    if np is not None and isinstance(a, np.ndarray):
        if a.dtype != b.dtype or a.shape != b.shape or \
                a.tobytes() != b.tobytes():
            return '%s: array %r %s, expected %r %s' % (
                path, a, a.dtype, b, b.dtype)
        return None
    if hasattr(a, '__dict__') and not isinstance(a, type):
        return diff(vars(a), vars(b), path + '.__dict__')
    if a != b:
        return '%s: %r, expected %r' % (path, a, b)
    return None


def upd(d, **kw):
    return dict(d, **kw)


def drop(d, *keys):
    return {k: v for k, v in d.items() if k not in keys}


def ren(d, old, new):
    return {(new if k == old else k): v for k, v in d.items()}


def load(path):
    with open(path, 'rb') as f:
        return pickle.loads(plain(f.read()))


def main():
    args = sys.argv[1:]
    want_proto = base = None
    want_comp = 'none'
    if '--base' in args:
        i = args.index('--base')
        base = args[i + 1]
        del args[i:i + 2]
    if '--proto' in args:
        i = args.index('--proto')
        want_proto = int(args[i + 1])
        del args[i:i + 2]
    if '--comp' in args:
        i = args.index('--comp')
        want_comp = args[i + 1]
        del args[i:i + 2]
    path, expr = args
    ns = {}
    if 'np' in expr or 'numpy' in expr:
        import numpy
        ns['numpy'] = ns['np'] = numpy
    import fixturemod
    ns['fixturemod'] = fixturemod
    ns.update(upd=upd, drop=drop, ren=ren)
    if base is not None:
        ns['base'] = load(base)
    ns.update({k: getattr(fixturemod, k) for k in dir(fixturemod)
               if not k.startswith('_')})
    expected = eval(expr, ns)
    with open(path, 'rb') as f:
        raw = f.read()
    problems = []
    if want_comp != 'any' and compression(raw) != want_comp:
        problems.append('compression %s, expected %s' %
                        (compression(raw), want_comp))
    try:
        data = plain(raw)
        got = pickle.loads(data)
    except Exception as e:  # noqa: BLE001
        print('%s: does not load: %s: %s (%d bytes)' %
              (path, type(e).__name__, e, len(raw)))
        return 1
    d = diff(got, expected)
    if d:
        problems.append(d)
    if want_proto is not None:
        p = protocol(data)
        if p != want_proto:
            problems.append('protocol %d, expected %d' % (p, want_proto))
    if problems:
        print('%s: %s' % (os.path.basename(path), '; '.join(problems)))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
