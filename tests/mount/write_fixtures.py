#!/usr/bin/python3
"""write_fixtures.py OUTDIR [big N] - the pickles the write tests edit.

OUTDIR gets (all written by this CPython, so they are the oracle's own
bytes; names without extension on purpose, as tutorials save them):

  a_p0 a_p1 a_p2 a_p4 a_p5    ALUMNOS at protocols 0, 1, 2, 4, 5
  e_*                         ALUMNOS at the default protocol (4), one copy
                              per editing tool so each test has its own
  alumnos.pkl.gz  alumnos_gz  gzip (with / without extension)
  alumnos.bz2     alumnos_bz2 bzip2 (with / without extension)
  types.pkl        one value of every scalar type
  strs.pkl         {'a': 'uno', 'b': 'dos', 'n': 1} (truncate + append)
  list.pkl         [1, 2, 3]
  tuple.pkl        (1, 'a', 2.5)
  set.pkl          {'s': {1, 2, 3}, 'fs': frozenset({'x', 'y'})}
  point.pkl        fixturemod.Point(1.0, 2.0, 'a')  (a dataclass)
  plain.pkl        fixturemod.Plain(a=1, b='x')    (a plain instance)
  arr.pkl          numpy.arange(4.0)  (float64)
  tree.pkl         nested dicts and lists for mkdir / rm / mv
  scalar.pkl       the int 5 (the top value is a file: __value__)
  e_dst            {'x': 1} (a key moves in with coreutils mv)
  bigstr.pkl       {'s': 'small', 't': 'end'} (a 1 MB value goes in)
  par.pkl          {'k0': 0 .. 'k19': 19} (parallel writers)
  sub/dir/nested.pkl  {'deep': True, 'n': 1} (a mirrored subfolder)
  notes.txt data.csv   files that are not pickles

"write_fixtures.py FILE big N" writes instead one protocol-4 pickle of a
list of N small dicts (the crash test and the benchmark).
"""

import bz2
import gzip
import os
import pickle
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, 'tests', 'fixtures', 'pymod'))
sys.path.insert(0, HERE)

ALUMNOS = {'Jose': 7, 'Arnoldo': 8, 'Maria': 10}

TYPES = {'s': 'hello', 'i': 7, 'big': 2 ** 70, 'f': 0.5, 't': True,
         'n': None, 'b': b'raw\x00', 'c': 1 + 2j, 's2': 'two', 'f2': 1.25,
         'i2': 3}

EDITORS = ['echo', 'printf', 'cat', 'dd', 'py', 'sed', 'perl', 'replace',
           'vim', 'vimauto', 'vimbcn', 'back', 'ren', 'inval', 'inval2', 'scratch',
           'excl', 'new', 'rm', 'mv', 'mvover', 'xdev', 'xattr', 'conc',
           'conc2', 'wb', 'wb2', 'ro', 'mkd', 'cp', 'newc']


def write(path, data):
    with open(path, 'wb') as f:
        f.write(data)


def big(path, n):
    rows = [{'id': i, 'name': 'item %d' % i, 'v': i * 0.5} for i in range(n)]
    write(path, pickle.dumps(rows, protocol=4))


def main():
    if len(sys.argv) == 4 and sys.argv[2] == 'big':
        big(sys.argv[1], int(sys.argv[3]))
        return
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for p in (0, 1, 2, 4, 5):
        write(os.path.join(out, 'a_p%d' % p), pickle.dumps(ALUMNOS, p))
    for name in EDITORS:
        write(os.path.join(out, 'e_' + name), pickle.dumps(ALUMNOS, 4))
    raw = pickle.dumps(ALUMNOS, 4)
    # fixed mtime so the gzip header is reproducible
    write(os.path.join(out, 'alumnos.pkl.gz'), gzip.compress(raw, mtime=0))
    write(os.path.join(out, 'alumnos_gz'), gzip.compress(raw))
    write(os.path.join(out, 'alumnos.bz2'), bz2.compress(raw))
    write(os.path.join(out, 'alumnos_bz2'), bz2.compress(raw))
    write(os.path.join(out, 'types.pkl'), pickle.dumps(TYPES, 4))
    write(os.path.join(out, 'strs.pkl'),
          pickle.dumps({'a': 'uno', 'b': 'dos', 'n': 1}, 4))
    write(os.path.join(out, 'list.pkl'), pickle.dumps([1, 2, 3], 4))
    write(os.path.join(out, 'tuple.pkl'), pickle.dumps((1, 'a', 2.5), 4))
    write(os.path.join(out, 'set.pkl'),
          pickle.dumps({'s': {1, 2, 3}, 'fs': frozenset({'x', 'y'})}, 4))
    import fixturemod
    write(os.path.join(out, 'point.pkl'),
          pickle.dumps(fixturemod.Point(1.0, 2.0, 'a'), 4))
    write(os.path.join(out, 'plain.pkl'),
          pickle.dumps(fixturemod.Plain(a=1, b='x'), 4))
    import numpy
    write(os.path.join(out, 'arr.pkl'),
          pickle.dumps(numpy.arange(4.0), 4))
    write(os.path.join(out, 'tree.pkl'), pickle.dumps(
        {'a': 1, 'sub': {'x': 1, 'y': 'two'}, 'empty': {}, 'lst': [1, 2, 3],
         'other': {'k': 'v'}, 'z': 'last'}, 4))
    write(os.path.join(out, 'scalar.pkl'), pickle.dumps(5, 4))
    write(os.path.join(out, 'e_dst'), pickle.dumps({'x': 1}, 4))
    write(os.path.join(out, 'bigstr.pkl'),
          pickle.dumps({'s': 'small', 't': 'end'}, 4))
    write(os.path.join(out, 'par.pkl'),
          pickle.dumps({'k%d' % i: i for i in range(20)}, 4))
    os.makedirs(os.path.join(out, 'sub', 'dir'), exist_ok=True)
    write(os.path.join(out, 'sub', 'dir', 'nested.pkl'),
          pickle.dumps({'deep': True, 'n': 1}, 4))
    write(os.path.join(out, 'notes.txt'), b'not a pickle\n')
    write(os.path.join(out, 'data.csv'), b'a,b\n1,2\n')


if __name__ == '__main__':
    main()
