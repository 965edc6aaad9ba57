#!/usr/bin/python3
"""make-examples.py OUTDIR - the example pickles `make run` mounts.

OUTDIR/alumnos            the tutorial grades dict, saved without extension
OUTDIR/compress_alumnos   the same, bzip2-compressed (still no extension)
OUTDIR/mnist.pkl.gz       a gzip dataset of numpy arrays, shaped like the
                          classic mnist.pkl.gz ((train, valid, test) pairs
                          of float32 images and int64 labels; random data)
OUTDIR/dataframe.pkl      a pandas DataFrame
OUTDIR/model.pkl          an object (a dataclass with nested values)
OUTDIR/shared.pkl         a dict that holds the same list twice and itself

Numpy and pandas examples are skipped (with a note) when the module is
missing. Deterministic: fixed seeds, gzip mtime 0.
"""

import bz2
import dataclasses
import gzip
import os
import pickle
import sys


@dataclasses.dataclass
class Model:
    name: str
    weights: list
    params: dict


def main(out):
    os.makedirs(out, exist_ok=True)

    def save(name, data):
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)

    # the tutorial's own dict, saved as it does: pickle.dump to a file
    # named alumnos, and a bz2.BZ2File copy named compress_alumnos
    alumnos = {'Jose': 7, 'Arnoldo': 8, 'Mario': 5, 'Maria': 78,
               'Amara': 50, 'Rolando': 67, 'Hemeregildo': 78,
               'Prudencio': 79, 'Zoraida': 0}
    with open(os.path.join(out, 'alumnos'), 'wb') as f:
        pickle.dump(alumnos, f)
    with bz2.BZ2File(os.path.join(out, 'compress_alumnos'), 'wb') as f:
        pickle.dump(alumnos, f)

    Model.__module__ = 'examples'
    sys.modules['examples'] = sys.modules[__name__]
    save('model.pkl', pickle.dumps(Model('linear', [0.5, -1.25, 3.0],
                                         {'lr': 0.01, 'epochs': 10})))

    shared = ['x', 'y']
    d = {'first': shared, 'second': shared}
    d['me'] = d
    save('shared.pkl', pickle.dumps(d))

    try:
        import numpy as np
        rng = np.random.default_rng(1998)

        def part(n):
            return (rng.random((n, 784), dtype=np.float32),
                    rng.integers(0, 10, n, dtype=np.int64))
        data = (part(500), part(100), part(100))
        save('mnist.pkl.gz', gzip.compress(pickle.dumps(data, 2),
                                           mtime=0))
    except ImportError:
        print('make-examples: no numpy, skipping mnist.pkl.gz')
    try:
        import pandas as pd
        df = pd.DataFrame({'alumno': list(alumnos),
                           'nota': list(alumnos.values())})
        save('dataframe.pkl', pickle.dumps(df, 4))
    except ImportError:
        print('make-examples: no pandas, skipping dataframe.pkl')


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else 'examples')
