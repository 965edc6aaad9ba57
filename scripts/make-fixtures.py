#!/usr/bin/env python3
"""make-fixtures.py OUTDIR - pickles from real producers, made at test time.

Writes OUTDIR/NAME-pP.pkl (P = protocol) for numpy arrays, a pandas
DataFrame and Series, scikit-learn models, dill functions, the standard
library's containers and scalars, instances of the classes in
tests/fixtures/pymod/fixturemod.py, shared and recursive structures, big
ints, special floats, bytes, non-BMP and surrogate strings, and 100000-deep
nestings; each at every protocol 0-5 that can pickle it.  Also gzip and
bzip2 copies of a few (NAME-pP.pkl.gz / .pkl.bz2, one with the file name in
the gzip header, one with two gzip members, one with two bzip2 streams).

OUTDIR/MANIFEST: file, tier, load, source (TAB separated) as in
make-corpus.py; every fixture is tier "identical" (CPython 3.11 wrote it,
or, for deep-list-1e6-*, a generator that writes what CPython writes; that
generator is checked against CPython at depth 100000).  The load column is
filled in by running scripts/pycheck.py on the files in a fresh process.
OUTDIR/NOTES lists the (object, protocol) pairs CPython refused to pickle.

Deterministic: fixed seeds, PYTHONHASHSEED=0, gzip mtime 0.
"""

import sys
sys.dont_write_bytecode = True     # keep the source tree free of __pycache__

import bz2
import collections
import datetime
import decimal
import fractions
import gzip
import io
import os
import pickle
import subprocess
import sys
import threading
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, 'tests', 'fixtures', 'pymod'))
import fixturemod  # noqa: E402

PYTHON = os.environ.get('PYTHON', '/usr/bin/python3')
DEPTH = 100000
ALL = range(6)

FIXTURES = []        # (filename, bytes, description)
NOTES = []


def add(name, obj, protocols=ALL, dumps=pickle.dumps, what=None):
    for p in protocols:
        try:
            data = dumps(obj, p)
        except Exception as e:
            NOTES.append('%s at protocol %d: not picklable (%s: %s)'
                         % (name, p, type(e).__name__, str(e)[:100]))
            continue
        FIXTURES.append(('%s-p%d.pkl' % (name, p), data, what or name))


# ------------------------------------------------------------ producers

def numpy_fixtures():
    import numpy as np
    f64 = np.array([0.0, 0.5, -1.25, np.nan, np.inf, -np.inf, -0.0, 1e300, 5e-324, 3.0])
    add('numpy-float64', f64, ALL)
    add('numpy-int32-2d', np.arange(12, dtype=np.int32).reshape(3, 4), (2, 4, 5))
    add('numpy-bool', np.array([True, False, True, True, False]), (2, 4, 5))
    add('numpy-complex128', np.array([1 + 2j, -0.5j, complex(np.nan, 1)]), (2, 4, 5))
    add('numpy-fortran-f32', np.asfortranarray(np.arange(24, dtype=np.float32).reshape(4, 6)),
        (2, 4, 5))
    rec = np.array([('ann', 31, 55.5), ('bob', 42, 80.25), ('cyd', 7, 20.0)],
                   dtype=[('name', 'U8'), ('age', '<i4'), ('weight', '<f8')])
    add('numpy-structured', rec, (2, 4, 5))
    add('numpy-bigendian-i8', np.arange(5, dtype='>i8'), (2, 4, 5))
    add('numpy-uint8-3d', np.arange(60, dtype=np.uint8).reshape(3, 4, 5), (2, 4, 5))
    add('numpy-object', np.array([1, 'two', None, 3.5], dtype=object), (2, 4, 5))
    add('numpy-0d', np.array(7.5), (2, 4, 5))
    add('numpy-empty', np.zeros((0, 3)), (2, 4, 5))
    add('numpy-scalars', [np.float64(1.5), np.int64(-7), np.bool_(True), np.float32(0.25)],
        (2, 4, 5))
    rng = np.random.default_rng(7)
    add('numpy-large-f64', rng.standard_normal(200_000), (2, 4, 5))
    add('numpy-dict-of-arrays', {'x': rng.integers(0, 255, (8, 8), dtype=np.uint8),
                                 'y': rng.standard_normal(5)}, (2, 4, 5))


def pandas_fixtures():
    import pandas as pd
    df = pd.DataFrame({
        'id': [1, 2, 3, 4],
        'score': [0.5, float('nan'), 2.25, -1.0],
        'name': ['ann', 'bob', None, 'dé'],
        'ok': [True, False, True, False],
        'when': pd.to_datetime(['2020-01-01', '2021-06-30', '2022-12-31', '2023-03-15']),
    }, index=pd.Index(['a', 'b', 'c', 'd'], name='key'))
    add('pandas-dataframe', df, (2, 4, 5))
    add('pandas-series', pd.Series([1.5, 2.5, None], name='s', index=[10, 20, 30]), (2, 4, 5))


def sklearn_fixtures():
    import numpy as np
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        from sklearn.linear_model import LinearRegression
        from sklearn.tree import DecisionTreeClassifier
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 3))
    y = X @ np.array([1.5, -2.0, 0.5]) + 0.25
    add('sklearn-linreg', LinearRegression().fit(X, y), (2, 4, 5))
    labels = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1).astype(int)
    add('sklearn-tree', DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, labels),
        (2, 4, 5))


def dill_fixtures():
    import dill

    def outer(k):
        def inner(x, scale=2):
            return (x + k) * scale
        return inner

    add('dill-lambda', lambda x: x * 2 + 1, ALL, dumps=dill.dumps)
    add('dill-nested-function', outer(3), ALL, dumps=dill.dumps)


def stdlib_fixtures():
    dd = collections.defaultdict(list)
    dd['a'].append(1)
    dd['b'].extend([2, 3])
    add('defaultdict', dd)
    add('ordereddict', collections.OrderedDict([('z', 1), ('a', 2), ('m', [3])]))
    add('counter', collections.Counter('abracadabra'))
    add('complex', [1 + 2j, complex(0, -0.0), complex(float('inf'), float('nan'))])
    add('set-frozenset', [{1, 2, 3}, frozenset({'x', 'y'}), set(), frozenset()])
    add('decimal', [decimal.Decimal('3.14159265358979323846264338327950288'),
                    decimal.Decimal('-0'), decimal.Decimal('NaN')])
    add('fraction', fractions.Fraction(355, 113))
    add('datetime', [datetime.date(2024, 2, 29),
                     datetime.datetime(2024, 2, 29, 12, 30, 1, 5,
                                       tzinfo=datetime.timezone.utc),
                     datetime.timedelta(days=-1, seconds=5)])
    add('dataclass', fixturemod.Point(1.5, -2.0, 'p'))
    add('dataclass-frozen', fixturemod.FrozenPoint(3, 4))
    add('slots', fixturemod.Slotted([1, 2], 'b'))
    add('instance', fixturemod.Plain(a=1, b='two', c=[3.0]))
    add('getstate', fixturemod.WithState(42))
    add('enum', [fixturemod.Color.RED, fixturemod.Color.GREEN])
    add('namedtuple', fixturemod.Pair(left=1, right=(2, 3)))
    add('globals', [len, fixturemod.Point, int, collections.OrderedDict, Ellipsis,
                    NotImplemented, type(None)])
    add('config-dict', {'name': 'run-17', 'lr': 0.001, 'epochs': 30, 'layers': [64, 32],
                        'dropout': None, 'use_gpu': False, 'tags': ('a', 'b'),
                        1: 'int key', (1, 2): 'tuple key', None: 'none key',
                        b'raw': 'bytes key', 2.5: 'float key', '': 'empty key',
                        'a/b': 'slash', '..': 'dotdot'})
    add('empty-containers', [[], {}, (), '', b''])
    add('scalars', [None, True, False, 0, -1, 1.0])


def shared_fixtures():
    rec_list = [1]
    rec_list.append(rec_list)
    add('recursive-list', rec_list)
    d = {'k': [1, 2]}
    add('shared-dict', [d, d, {'again': d}])
    lst = []
    t = (lst, 'x')
    lst.append(t)
    add('recursive-tuple', t)
    rd = {}
    rd['self'] = rd
    add('recursive-dict', rd)
    p = fixturemod.Plain(name='node')
    p.me = p
    p.friends = [p]
    add('recursive-instance', p)
    s = 'shared string'
    add('shared-str', [s, s, (s,)])


def records_fixtures():
    # A table as people pickle it, big enough that the decoder's arena
    # prepares chunks on its helper thread; once as a tree, once with a
    # dict shared by every 10th record (the mount then links).
    cities = ('Paris', 'Lima', 'Oslo')
    rows = [{'id': i, 'name': 'user%05d' % i, 'score': i * 0.5,
             'ok': i % 3 == 0, 'city': cities[i % 3], 'rank': i % 1000}
            for i in range(10000)]
    add('records-10k', rows, (2, 3, 4, 5))
    tags = {'team': 'blue', 'level': 3}
    shared = [dict(r, tags=tags) if i % 10 == 0 else r
              for i, r in enumerate(rows)]
    add('records-10k-shared', shared, (4,))


def number_fixtures():
    add('bigint-2p1000', 2 ** 1000)
    add('bigint-neg2p1000', -2 ** 1000)
    add('ints', [0, 1, -1, 255, 256, -256, 65535, 65536, 2 ** 31 - 1, -2 ** 31, 2 ** 31,
                 2 ** 63 - 1, -2 ** 63, 2 ** 64, 12345678901234567890123])
    add('bigint-long4', 7 << (8 * 300))
    add('floats', [float('nan'), float('inf'), float('-inf'), -0.0, 0.0, 0.1, 1e100,
                   5e-324, 1.7976931348623157e308, 1 / 3])
    add('float-nan', float('nan'))
    add('float-negzero', -0.0)


def bytes_str_fixtures():
    add('bytes', [b'', b'\x00\xff' * 10, bytes(range(256)), b'x' * 300, b'\n\\\'"'])
    add('bytearray', bytearray(b'abc\x00\xfe'))
    add('bytes-large', bytes(range(256)) * 400)
    add('str', ['ascii', 'h\xe9llo w\xf6rld', '\U0001F600\U0001D11E', '\udc80\ud800x',
                '\n\\ "q" \'s\' \u005cu1234', '', 'z' * 300, '\x00\x7f\x80'])
    add('str-nonbmp', '\U0001F600 and \U00010348')
    add('str-surrogates', 'lone \udc80 \ud800 and pair-like \ud83d\ude00')
    add('str-large', '\u00e9\u4e2d' * 50000)


def deep_fixtures():
    def build():
        x = []
        for _ in range(DEPTH):
            x = [x]
        add('deep-list', x)
        d = {}
        for _ in range(DEPTH):
            d = {'a': d}
        add('deep-dict', d, (0, 2, 4))
        t = ()
        for _ in range(DEPTH):
            t = (t,)
        add('deep-tuple', t, (0, 2, 4))
    run_big(build)
    # Written opcode by opcode (CPython cannot recurse this deep); checked
    # against CPython's own output at DEPTH.
    for p in (0, 1, 2, 3):
        ref = dict((n, b) for n, b, _ in FIXTURES)['deep-list-p%d.pkl' % p]
        if deep_list_opcodes(DEPTH, p) != ref:
            raise SystemExit('make-fixtures: deep_list_opcodes(%d, %d) differs from CPython'
                             % (DEPTH, p))
        FIXTURES.append(('deep-list-1e6-p%d.pkl' % p, deep_list_opcodes(10 ** 6, p),
                         'deep-list-1e6 (opcodes written directly)'))


def deep_list_opcodes(depth, proto):
    """What CPython's pickler writes for depth-times nested [[...[]...]]."""
    out = io.BytesIO()
    w = out.write
    if proto >= 2:
        w(bytes([0x80, proto]))
    for i in range(depth + 1):
        if proto == 0:
            w(b'(lp%d\n' % i)
        else:
            w(b']')
            w(b'q' + bytes([i]) if i < 256 else b'r' + i.to_bytes(4, 'little'))
    w(b'a' * depth)
    w(b'.')
    return out.getvalue()


def pyimpl_fixtures():
    """The same CPython, its pure-Python pickler (what dill and other
    pickle._Pickler subclasses write)."""
    obj = {'list': list(range(20)), 'text': 'caf\xe9', 'blob': b'\x00' * 70000,
           'nested': [(1, 2), {3: 4}], 'f': 0.1}
    add('pyimpl-mixed', obj, dumps=pickle._dumps)


def compressed_fixtures():
    byname = dict((n, b) for n, b, _ in FIXTURES)
    for src in ('numpy-float64-p2.pkl', 'config-dict-p4.pkl', 'pandas-dataframe-p4.pkl',
                'str-p0.pkl', 'deep-list-p4.pkl'):
        data = byname[src]
        FIXTURES.append((src + '.gz', gzip.compress(data, mtime=0), 'gzip of ' + src))
        FIXTURES.append((src + '.bz2', bz2.compress(data), 'bzip2 of ' + src))
    data = byname['numpy-int32-2d-p4.pkl']
    buf = io.BytesIO()
    with gzip.GzipFile(filename='model.pkl', mode='wb', fileobj=buf, mtime=0) as g:
        g.write(data)
    FIXTURES.append(('named-numpy-int32-2d-p4.pkl.gz', buf.getvalue(),
                     'gzip with FNAME "model.pkl" in the header'))
    data = byname['ints-p2.pkl']
    half = len(data) // 2
    FIXTURES.append(('two-members-ints-p2.pkl.gz',
                     gzip.compress(data[:half], mtime=0) + gzip.compress(data[half:], mtime=0),
                     'gzip of ints-p2.pkl as two concatenated members'))
    FIXTURES.append(('two-streams-ints-p2.pkl.bz2',
                     bz2.compress(data[:half]) + bz2.compress(data[half:]),
                     'bzip2 of ints-p2.pkl as two concatenated streams'))


# ------------------------------------------------------------ plumbing

def run_big(fn):
    sys.setrecursionlimit(1_000_000)
    old = threading.stack_size(1 << 30)
    err = []

    def target():
        try:
            fn()
        except BaseException as e:
            err.append(e)
    t = threading.Thread(target=target)
    t.start()
    t.join()
    threading.stack_size(old)
    if err:
        raise err[0]


def check_loads(out, names):
    cmd = [PYTHON, os.path.join(HERE, 'pycheck.py'), 'batch']
    lines = ''.join('loads\t%s\n' % os.path.join(out, n) for n in names)
    p = subprocess.run(cmd, input=lines, capture_output=True, text=True)
    res = {}
    for line in p.stdout.splitlines():
        parts = line.split('\t')
        res[os.path.basename(parts[2])] = None if parts[0] == 'ok' else parts[3]
    return res


def main(argv):
    if len(argv) != 2:
        sys.stderr.write('usage: make-fixtures.py OUTDIR\n')
        return 2
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        os.unlink(os.path.join(out, f))
    for step in (numpy_fixtures, pandas_fixtures, sklearn_fixtures, dill_fixtures,
                 stdlib_fixtures, shared_fixtures, records_fixtures, number_fixtures,
                 bytes_str_fixtures,
                 deep_fixtures, pyimpl_fixtures, compressed_fixtures):
        step()
    names = []
    for name, data, _ in FIXTURES:
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)
        names.append(name)
    loads = check_loads(out, names)
    bad = 0
    with open(os.path.join(out, 'MANIFEST'), 'w') as m:
        m.write('# file\ttier\tload\tsource\n')
        for name, data, what in FIXTURES:
            why = loads.get(name, 'not checked')
            if why is None:
                load = 'ok'
            else:
                load = 'noload:' + why.split(':')[0]
                bad += 1
                sys.stderr.write('make-fixtures: %s does not load: %s\n' % (name, why))
            m.write('%s\tidentical\t%s\t%s\n' % (name, load, what))
    with open(os.path.join(out, 'NOTES'), 'w') as n:
        n.write(''.join(x + '\n' for x in NOTES))
    size = sum(len(d) for _, d, _ in FIXTURES)
    sys.stdout.write('make-fixtures: %d fixtures, %.1f MB, %d not loadable, %d refused by '
                     'the pickler (see NOTES)\n' % (len(FIXTURES), size / 1e6, bad, len(NOTES)))
    return 1 if bad else 0


if __name__ == '__main__':
    if os.environ.get('PYTHONHASHSEED') != '0':
        os.environ['PYTHONHASHSEED'] = '0'
        os.execv(sys.executable, [sys.executable] + sys.argv)
    sys.exit(main(sys.argv))
