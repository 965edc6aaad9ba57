#!/usr/bin/env python3
"""Inputs, references and checks for scripts/bench-views.sh.

  make-bench-views.py array OUT ROWS COLS   a float64 (ROWS, COLS) array of
                                            standard normals, pickle protocol 5
                                            (COLS 0: a 1-D array of ROWS)
  make-bench-views.py frame OUT ROWS        a DataFrame of ROWS rows, 6 numeric
                                            columns (4 float64, 2 int64),
                                            protocol 5
  make-bench-views.py savetxt PKL OUT       the reference: load the pickle,
                                            np.savetxt it (default format);
                                            prints the call's wall clock and
                                            its CPU time (user + system), s
  make-bench-views.py tocsv PKL OUT         the same with df.to_csv(OUT)
  make-bench-views.py checktext PKL TXT     TXT (values.txt) holds the array:
                                            read back whole, equal bit for bit
  make-bench-views.py checkcsv PKL CSV      CSV (__frame__.csv) holds the
                                            frame's columns, equal by value

The reference's timed call is only the savetxt / to_csv call; the shell
script times the whole process around it. A check exits 1 and says why
when the text is not the value, so that the benchmark cannot pass wrong.
"""
import os
import pickle
import sys
import time

import numpy as np


def timed(f):
    w, c = time.perf_counter(), time.process_time()
    f()
    print('%.6f %.6f' % (time.perf_counter() - w, time.process_time() - c))


def load(p):
    with open(p, 'rb') as f:
        return pickle.load(f)


def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def main(a):
    cmd = a[0]
    if cmd == 'array':
        rows, cols = int(a[2]), int(a[3])
        g = np.random.default_rng(20261130)
        x = g.standard_normal(rows * max(cols, 1))
        if cols:
            x = x.reshape(rows, cols)
        with open(a[1] + '.tmp', 'wb') as f:
            pickle.dump(x, f, 5)
        os.rename(a[1] + '.tmp', a[1])
    elif cmd == 'frame':
        import pandas as pd
        n = int(a[2])
        g = np.random.default_rng(20261201)
        df = pd.DataFrame({
            'x': g.standard_normal(n), 'y': g.standard_normal(n) * 1e3,
            'id': np.arange(n, dtype=np.int64),
            'p': g.random(n), 'q': g.standard_normal(n) * 1e-3,
            'count': g.integers(-10**6, 10**6, n, dtype=np.int64)})
        with open(a[1] + '.tmp', 'wb') as f:
            pickle.dump(df, f, 5)
        os.rename(a[1] + '.tmp', a[1])
    elif cmd == 'savetxt':
        x = load(a[1])
        timed(lambda: np.savetxt(a[2], x))
    elif cmd == 'tocsv':
        df = load(a[1])
        timed(lambda: df.to_csv(a[2]))
    elif cmd == 'checktext':
        import pandas as pd
        x = load(a[1])
        # read_csv with the exact float parser: values.txt's floats are the
        # shortest text that reads back as the same float64
        t = pd.read_csv(a[2], sep=' ', header=None, dtype=np.float64,
                        float_precision='round_trip').to_numpy()
        want = x.reshape(-1, x.shape[-1]) if x.ndim > 1 else x.reshape(1, -1)
        if t.shape != want.shape:
            fail('values.txt has shape %s, the array %s' % (t.shape, want.shape))
        if not np.array_equal(t, want):
            fail('values.txt differs from the array at %d values'
                 % int((t != want).sum()))
        print('values.txt equal to the array: %d lines, %d values, bit for bit'
              % (t.shape[0], t.size))
    elif cmd == 'checkcsv':
        import pandas as pd
        df = load(a[1])
        t = pd.read_csv(a[2], float_precision='round_trip')
        if len(t) != len(df):
            fail('__frame__.csv has %d rows, the frame %d' % (len(t), len(df)))
        for c in df.columns:
            if str(c) not in t.columns:
                fail('__frame__.csv has no column %r (it has %s)'
                     % (c, list(t.columns)))
            got = t[str(c)].to_numpy(dtype=np.float64)
            want = df[c].to_numpy(dtype=np.float64)
            if not np.array_equal(got, want):
                fail('__frame__.csv column %r differs at %d rows'
                     % (c, int((got != want).sum())))
        print('__frame__.csv equal to the frame: %d rows, columns %s'
              % (len(t), ', '.join(map(str, df.columns))))
    else:
        fail(__doc__)


if __name__ == '__main__':
    main(sys.argv[1:])
