#!/usr/bin/python3
"""pandas-seeds.py OUTDIR - small pandas pickles for the fuzz seeds
(tests/fuzz/seeds-pandas, committed): DataFrames and Series of the
layouts fs/view/frame.c reads (numeric, bool, str, datetime, categorical
blocks; range, str, datetime and multi indexes; the older Series state)
at protocols 2 and 4, so that the harnesses start from frames.
Deterministic; run with /usr/bin/python3 (Debian's pandas 1.5)."""
import os
import pickle
import sys

import numpy as np
import pandas as pd

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
frames = {
    'numeric': pd.DataFrame({'a': [1, 2, 3], 'b': [0.5, np.nan, 2.0],
                             'c': np.array([1, 2, 3], np.int32)}),
    'mixed': pd.DataFrame({'n': [1, 2], 's': ['x', 'y,z'], 'ok': [True, False],
                           't': pd.to_datetime(['2020-01-01', None]),
                           'cat': pd.Categorical(['lo', 'hi'])},
                          index=pd.Index(['r1', 'r2'], name='row')),
    'multi': pd.DataFrame({'v': [1.5, 2.5]},
                          index=pd.MultiIndex.from_tuples([('a', 1), ('b', 2)],
                                                          names=['k', 'i'])),
    'series': pd.Series([1.0, 2.0], name='s',
                        index=pd.DatetimeIndex(['2020-01-01', '2020-01-02'])),
    'intcols': pd.DataFrame(np.arange(6).reshape(2, 3)),
}
for name, obj in sorted(frames.items()):
    for proto in (2, 4):
        with open(os.path.join(out, '%s-p%d.pkl' % (name, proto)), 'wb') as f:
            pickle.dump(obj, f, protocol=proto)
