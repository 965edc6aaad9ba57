#!/usr/bin/python3
"""make_cases.py OUTDIR - the pickles and files the mount tests need
beyond scripts/make-fixtures.py: a folder SOURCE with files that are and
are not pickles, keys that need the naming scheme, broken pickles, and a
folder of 1000 small pickles.

OUTDIR/folder/      the folder SOURCE of most tests
OUTDIR/many/        1000 small pickles (p0000.pkl .. p0999.pkl)
OUTDIR/single.pkl   a file SOURCE
OUTDIR/broken_single.pkl   a truncated pickle (picklefs must exit 1)
OUTDIR/expect.txt   facts the shell tests compare against (KEY<TAB>VALUE)
"""

import bz2
import collections
import dataclasses
import gzip
import os
import pickle
import sys

OUT = sys.argv[1]
FOLDER = os.path.join(OUT, 'folder')


@dataclasses.dataclass
class Point:
    x: int
    y: float
    tags: list


Point.__module__ = 'casemod'
Point.__qualname__ = 'Point'
sys.modules['casemod'] = sys.modules[__name__]


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)


def main():
    alumnos = {'Jose': 7, 'Arnoldo': 8, 'Maria': 10, 'Lucia': 9}
    write(os.path.join(FOLDER, 'alumnos'), pickle.dumps(alumnos))
    write(os.path.join(FOLDER, 'compress_alumnos'),
          bz2.compress(pickle.dumps(alumnos)))

    nan1, nan2 = float('nan'), float('nan')
    names = {
        'plain': 'p', 'a/b': 'slash', '': 'empty', '.': 'dot',
        '..': 'dotdot', 'x\0y': 'nul', 1: 'int one', '1': 'str one',
        None: 'none key', 'None': 'str None', b'k': 'bytes key',
        (1, 'a'): 'tuple key', 1.5: 'float key', '%41': 'percent',
        'caf\u00e9': 'accent', 'L' * 300: 'long', nan1: 'nan 1',
        nan2: 'nan 2', '1%int': 'looks suffixed',
        '__class__': 'not reserved here', -7: 'negative',
        frozenset([3]): 'frozenset key',
    }
    write(os.path.join(FOLDER, 'names.pkl'), pickle.dumps(names, 4))

    shared = [1, 2]
    rec = {'name': 'loop'}
    rec['self'] = rec
    lst = ['x']
    lst.append(lst)
    graph = {'a': shared, 'b': shared, 'c': {'deep': shared},
             'rec': rec, 'lst': lst, 'pair': (shared, shared)}
    write(os.path.join(FOLDER, 'shared.pkl'), pickle.dumps(graph, 4))

    p0 = {'text': 'hola', 'n': 42, 'f': 0.1, 'items': [1, (2, 3)]}
    write(os.path.join(FOLDER, 'proto0.pickle'), pickle.dumps(p0, 0))
    write(os.path.join(FOLDER, 'proto0_noext'), pickle.dumps(p0, 0))
    write(os.path.join(FOLDER, 'proto1.p'), pickle.dumps(p0, 1))

    write(os.path.join(FOLDER, 'readme.txt'), b'I am not a pickle\n')
    write(os.path.join(FOLDER, 'table.csv'), b'(a,b)\n(1,2)\n')
    write(os.path.join(FOLDER, 'notes.gz'), gzip.compress(b'just text\n'))
    write(os.path.join(FOLDER, 'empty.pkl'), b'')

    good = pickle.dumps({'k': list(range(100))}, 4)
    write(os.path.join(FOLDER, 'broken.pkl'), good[:len(good) // 2])
    # big, starts and ends like a pickle, broken inside: only a full
    # parse finds out
    big = bytearray(pickle.dumps({'blob': b'\0' * (2 << 20), 'n': 1}, 4))
    i = big.index(b'\x94', len(big) - 20)      # a MEMOIZE near the end
    big[i] = 0xff                              # not an opcode
    write(os.path.join(FOLDER, 'bigbroken.pkl'), bytes(big))

    write(os.path.join(FOLDER, 'sub', 'dir', 'nested.pkl'),
          pickle.dumps({'deep': True}, 2))
    write(os.path.join(FOLDER, 'point.pkl'),
          pickle.dumps(Point(1, 2.5, ['a', 'b']), 4))
    write(os.path.join(FOLDER, 'point_p0.pkl'),
          pickle.dumps(Point(1, 2.5, ['a', 'b']), 0))
    try:
        import numpy
        arrays = {'train': (numpy.arange(12, dtype='<f4').reshape(3, 4),
                            numpy.array([1, 2, 3], dtype='<i8')),
                  'test': numpy.zeros((2, 2), dtype='u1')}
        write(os.path.join(FOLDER, 'arrays.pkl.gz'),
              gzip.compress(pickle.dumps(arrays, 2), mtime=0))
    except ImportError:
        pass

    for k in range(1000):
        write(os.path.join(OUT, 'many', 'p%04d.pkl' % k),
              pickle.dumps({'id': k, 'name': 'item %d' % k}, 4))

    single = {'title': 'single', 'values': [1.5, -0.0, float('inf')],
              'big': 2 ** 100, 'cplx': 1 - 2j, 'flag': False,
              'nested': {'list': [None, True]}}
    write(os.path.join(OUT, 'single.pkl'), pickle.dumps(single, 5))
    write(os.path.join(OUT, 'broken_single.pkl'), good[:30])

    with open(os.path.join(OUT, 'expect.txt'), 'w') as f:
        f.write('broken_offset\t%d\n' % 30)


if __name__ == '__main__':
    main()
