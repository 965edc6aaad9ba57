#!/usr/bin/python3
"""Fixtures of tests/mount/frames.sh: pickled pandas DataFrames and Series
and, beside each pickle NAME.pkl, NAME.json: the views the mount must show
for it (README, "How values appear": a frame is a directory of one file per
column, then __index__, __frame__.csv and __raw__).

    /usr/bin/python3 tests/mount/make_frames.py OUTDIR

The expected texts are computed here from the pandas values (pandas 1.5,
numpy 1.24 on Debian), by the text rules of the spec, never from a mount:

  int/uint        decimal
  float64         Python repr (0.1, 1e+100, nan, inf, -0.0)
  float32         numpy's repr of the np.float32 without the type (0.1)
  bool            True / False
  object          str: its text with \\ \n \r \t escaped; None: None;
                  float nan: nan; int / float / bool as above
  datetime64[ns]  str(pd.Timestamp(x)); NaT: NaT
  categorical     the category's text (as above for the categories' dtype);
                  code -1: nan
  index           one line per row; a MultiIndex: its levels' texts joined
                  by a TAB

NAME.json holds {"frames": [...]} with one entry per frame in the pickle:
  path       where the frame is below the pickle's directory ("" when the
             pickle's top value is the frame, "ints" for d['ints'])
  raw        true: the mount must show it raw (no views); "why": words of
             which the log line must hold one (case-insensitive)
  kind       "frame" or "series"
  names      the column files' names, in column order
  entries    what the directory lists, in order
  files      name -> expected text (every column, and __index__)
  writable   name -> true when the file must be rw (numeric, bool and
             all-str columns), false when r-- (datetime, categorical, mixed
             object columns, __index__, __frame__.csv)
  dtypes     name -> the column's dtype (str) (as pandas has it)
  csv_header the first line of __frame__.csv (without its "\\n")
  csv_fields how many fields every record of __frame__.csv has
  nrows      rows
  csv_check  true when pandas.read_csv of __frame__.csv must give the frame
             back (numeric, bool, str and datetime columns only)
  klass, typ what __raw__/__class__ and __raw__/_typ print
  raw_entries what __raw__ lists (as the object is shown without views:
             __class__, then the keys of its pickled state dict)

The 'pandas-2-style' pickle (pd2.pkl): pandas 2 has no Int64Index,
UInt64Index or Float64Index; its pickles name the plain
pandas.core.indexes.base.Index in _new_Index(cls, {'data': ..., 'name':
...}). We pickle the frames with pandas 1.5 at protocol 2, where a class is
a GLOBAL opcode followed by the text "module\\nname\\n" and nothing in the
stream records lengths or offsets of opcodes (no FRAME before protocol 4,
memo entries are numbered, not addressed), and replace those texts byte for
byte ("pandas.core.indexes.numeric\\nInt64Index\\n" ->
"pandas.core.indexes.base\\nIndex\\n"); every occurrence is checked to be
the argument of a GLOBAL opcode (pickletools.genops), and the result is
loaded again (pandas 1.5's Index() of int64 data gives an Int64Index back)
and compared with the original frames. The expected texts come from the
original frames.
"""
import io
import json
import os
import pickle
import pickletools
import re
import sys

import numpy as np
import pandas as pd


# ---- the text of one value ---------------------------------------------
def esc(s):
    return (s.replace('\\', '\\\\').replace('\n', '\\n')
            .replace('\r', '\\r').replace('\t', '\\t'))


def obj_text(v):
    if v is None:
        return 'None'
    if isinstance(v, str):
        return esc(v)
    if isinstance(v, (bool, np.bool_)):
        return 'True' if v else 'False'
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, np.float32):
        return str(v)
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    raise TypeError('no text rule for %r' % (v,))


def value_text(v, dtype):
    k = dtype.kind
    if k in 'iu':
        return str(int(v))
    if k == 'f':
        if dtype == np.float32:
            return str(np.float32(v))   # numpy's repr, no type: '0.1'
        return repr(float(v))
    if k == 'b':
        return 'True' if v else 'False'
    if k == 'M':
        return 'NaT' if np.isnat(v) else str(pd.Timestamp(v))
    if k == 'O':
        return obj_text(v)
    raise TypeError('no text rule for dtype %s' % dtype)


def column_text(s):
    """the lines of a column file: one value per line, each ending \\n"""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = s.cat.categories
        cv = cats.to_numpy()
        return ''.join(('nan' if c == -1 else value_text(cv[c], cats.dtype)) + '\n'
                       for c in s.cat.codes.to_numpy())
    a = s.to_numpy()
    return ''.join(value_text(v, a.dtype) + '\n' for v in a)


def index_text(ix):
    levels = [ix.get_level_values(i) for i in range(ix.nlevels)]
    arrs = [(lv.to_numpy(), lv.dtype) for lv in levels]
    return ''.join('\t'.join(value_text(a[r], dt) for a, dt in arrs) + '\n'
                   for r in range(len(ix)))


# ---- names ---------------------------------------------------------------
# a str key's name (README, Names): the one escaping the tree checker has
from check_tree import escape as key_name  # noqa: E402


def column_names(labels):
    """the column files' names: str labels their escaped text, int labels
    their decimal; on a clash str labels win, then earlier ones, and a loser
    gets %TYPE (then %TYPE2 ...)"""
    base = []
    for lab in labels:
        if isinstance(lab, str):
            base.append((key_name(lab), None))
        elif isinstance(lab, (int, np.integer)) and not isinstance(lab, (bool, np.bool_)):
            base.append((str(int(lab)), 'int'))
        else:
            raise TypeError('no name rule for label %r' % (lab,))
    taken = {n for n, t in base if t is None}
    names = []
    for n, t in base:
        if t is None:
            names.append(n)
            continue
        if n not in taken:
            taken.add(n)
            names.append(n)
            continue
        cand, i = n + '%' + t, 2
        while cand in taken:
            cand, i = '%s%%%s%d' % (n, t, i), i + 1
        taken.add(cand)
        names.append(cand)
    return names


# ---- __frame__.csv ---------------------------------------------------------
def csv_field(t):
    if any(c in t for c in ',"\r\n'):
        return '"' + t.replace('"', '""') + '"'
    return t


def is_str_column(s):
    return (s.dtype == object and len(s) > 0
            and all(isinstance(v, str) for v in s.to_numpy()))


def writable(s):
    if isinstance(s.dtype, pd.CategoricalDtype):
        return False
    if s.dtype.kind in 'iufb':
        return True
    return is_str_column(s)


def expect(obj, path):
    if isinstance(obj, pd.Series):
        kind, klass, typ = 'series', 'pandas.core.series.Series', 'series'
        df = obj.to_frame()          # an unnamed Series is column 0
    else:
        kind, klass, typ = 'frame', 'pandas.core.frame.DataFrame', 'dataframe'
        df = obj
    labels = list(df.columns)
    names = column_names(labels)
    files, wr, dtypes = {}, {}, {}
    csv_ok = True
    for i, n in enumerate(names):
        s = df.iloc[:, i]
        files[n] = column_text(s)
        wr[n] = writable(s)
        dtypes[n] = str(s.dtype)
        if not (s.dtype.kind in 'iufbM' and not isinstance(s.dtype, pd.CategoricalDtype)
                or is_str_column(s) or (s.dtype == object and len(s) == 0)):
            csv_ok = False
    files['__index__'] = index_text(df.index)
    wr['__index__'] = False
    wr['__frame__.csv'] = False
    ixnames = [('' if nm is None else str(nm)) for nm in df.index.names]
    header = ','.join(csv_field(t) for t in ixnames + [str(lab) for lab in labels])
    return {
        'path': path, 'raw': False, 'kind': kind, 'names': names,
        'entries': names + ['__index__', '__frame__.csv', '__raw__'],
        'files': files, 'writable': wr, 'dtypes': dtypes,
        'csv_header': header, 'csv_fields': df.index.nlevels + len(labels),
        'nrows': len(df), 'csv_check': csv_ok, 'klass': klass, 'typ': typ,
        'raw_entries': raw_entries(obj),
    }


def raw_entries(obj):
    return ['__class__'] + list(obj.__getstate__())


# ---- the frames ----------------------------------------------------------
STRS = ['plain', 'a,b', 'say "hi"', 'line1\nline2', 'tab\there',
        'caf\u00e9 \u00fc \u65e5\u672c', '', 'back\\slash', 'cr\rx']


def num_frame():
    n = len(STRS)
    return pd.DataFrame({
        'i64': np.array([-5, 0, 2**62, -2**63, 7, 42, 1, 3, 2**63 - 1], np.int64),
        'i32': np.array([-2**31, 2**31 - 1, 0, -1, 5, 6, 7, 8, 9], np.int32),
        'u8': np.array([0, 255, 1, 2, 3, 4, 5, 6, 200], np.uint8),
        'f64': np.array([0.1, np.nan, np.inf, -0.0, 1e100, -np.inf, 2.5, 5e-324, 1 / 3]),
        'f32': np.array([0.1, 1 / 3, 3e38, -2.5, np.nan, 1e10, 1e-5, 16777216.0, np.inf],
                        np.float32),
        'b': np.array([True, False, True, True, False, False, True, False, True]),
        's': np.array(STRS, dtype=object),
        'when': pd.to_datetime(['2020-01-01', None, '2021-02-03 04:05:06.25',
                                '1999-12-31 23:59:59.000001',
                                '2021-02-03 04:05:06.000000001', '1970-01-01',
                                '2262-04-11', '1677-09-22', '2000-02-29 12:00']),
    }, index=pd.RangeIndex(n))


def misc_frame():
    return pd.DataFrame({
        'n': np.arange(6, dtype=np.int64) * 10,
        'mix': np.array(['x', None, np.nan, 3, 2.5, True], dtype=object),
        'cat': pd.Categorical(['lo', 'hi', 'lo', None, 'mid', 'hi'],
                              categories=['lo', 'mid', 'hi']),
        'cati': pd.Categorical([3, 1, None, 3, 2, 1]),
        'when': pd.to_datetime(['2020-01-01 00:00:01', '2020-01-02', None,
                                '2020-01-04', '2020-01-05', '2020-01-06']),
    })


def blocks_frame():
    """int columns at 0, 2, 3, 5: after copy() one block, placed by an int
    ndarray (not a slice)"""
    df = pd.DataFrame(index=pd.RangeIndex(4))
    df['a'] = np.array([1, 2, 3, 4], np.int64)
    df['s'] = np.array(['w', 'x', 'y', 'z'], dtype=object)
    df['b'] = np.array([10, 20, 30, 40], np.int64)
    df['c'] = np.array([100, 200, 300, 400], np.int64)
    df['f'] = np.array([0.5, 1.5, 2.5, 3.5])
    df['d'] = np.array([-1, -2, -3, -4], np.int64)
    df = df.copy()
    ints = [b for b in df._mgr.blocks if b.dtype == np.int64]
    assert len(ints) == 1, df._mgr
    loc = ints[0].mgr_locs.indexer
    assert isinstance(loc, np.ndarray) and loc.tolist() == [0, 2, 3, 5], loc
    return df


def unconsol_frame():
    """built column by column: one block per column"""
    df = pd.DataFrame(index=pd.Index(['r0', 'r1', 'r2'], name='row'))
    df['a'] = np.array([1, 2, 3], np.int64)
    df['s'] = np.array(['p', 'q', 'r'], dtype=object)
    df['b'] = np.array([4, 5, 6], np.int64)
    df['f'] = np.array([0.25, 0.5, 0.75])
    assert df._mgr.nblocks == 4, df._mgr
    return df


def frames():
    """name -> (object, protocols or 'to_pickle')"""
    xy = {'x': np.array([1, 2, 3], np.int64), 'y': np.array([0.5, -1.0, 1e-7])}
    return {
        'num': (num_frame(), (2, 4, 5)),
        'misc': (misc_frame(), (2, 4)),
        'idx_range': (pd.DataFrame({'x': np.arange(5, dtype=np.int64),
                                    'y': np.linspace(0, 1, 5)},
                                   index=pd.RangeIndex(10, 20, 2)), (4,)),
        'idx_str': (pd.DataFrame(xy, index=pd.Index(['alpha', 'beta', 'gamma'],
                                                    name='key')), (4,)),
        'idx_dt': (pd.DataFrame({'x': np.array([1, 2, 3], np.int64)},
                                index=pd.DatetimeIndex(['2020-01-01', '2020-01-02 12:00',
                                                        '2020-01-03 00:00:00.5'],
                                                       name='when')), (5,)),
        'idx_float': (pd.DataFrame(xy, index=pd.Index([0.5, 1.0, 1e-7])), (4,)),
        'idx_multi': (pd.DataFrame(xy, index=pd.MultiIndex.from_tuples(
            [('a', 1), ('a', 2), ('b', 1)], names=['letter', 'num'])), (2, 4)),
        'labels': (pd.DataFrame(np.arange(6, dtype=np.int64).reshape(2, 3)), (2,)),
        'names': (pd.DataFrame({'a/b': [0.5, 1.5], '50%': np.array([1, 2], np.int64),
                                1: np.array([3, 4], np.int64), '1': ['u', 'v']}), (5,)),
        'blocks': (blocks_frame(), (2, 4)),
        'unconsol': (unconsol_frame(), (4,)),
        'empty': (pd.DataFrame({'a': np.array([], np.int64),
                                'b': np.array([], np.float64)}), (4,)),
        'ser_named': (pd.Series([1.5, np.nan, -0.0, 1e100], name='price',
                                index=['a', 'b', 'c', 'd']), (2,)),
        'ser_unnamed': (pd.Series(np.array(['x', 'y, z', 'w'], dtype=object)), (5,)),
        'topickle': (num_frame(), 'to_pickle'),
    }


def pd2_frames():
    return {
        'ints': pd.DataFrame({10: np.array([1, 2, 3], np.int64),
                              20: np.array([0.5, 1.5, 2.5])},
                             index=pd.Index(np.array([100, -5, 7], np.int64), name='id')),
        'floats': pd.DataFrame({'v': np.array([1, 2, 3], np.int64)},
                               index=pd.Index([0.25, 1e-3, 2.0])),
        'uints': pd.DataFrame({'v': np.array([1.0, 2.0, 3.0])},
                              index=pd.Index(np.array([2**63, 1, 5], np.uint64))),
    }


PD2_GLOBALS = [(b'pandas.core.indexes.numeric\n%s\n' % c, b'pandas.core.indexes.base\nIndex\n')
               for c in (b'Int64Index', b'UInt64Index', b'Float64Index')]


def pandas2_style(data):
    """protocol 2 bytes with the numeric Index classes named as pandas 2
    names them (see the module's docstring)"""
    assert data[:2] == b'\x80\x02'
    glob = {pos for op, arg, pos in pickletools.genops(data) if op.name == 'GLOBAL'}
    assert not any(op.name == 'FRAME' for op, _, _ in pickletools.genops(data))
    out, n = data, 0
    for old, new in PD2_GLOBALS:
        # each occurrence is the argument of a GLOBAL opcode (1 byte before)
        for m in re.finditer(re.escape(old), data):
            assert m.start() - 1 in glob, (old, m.start())
            n += 1
        out = out.replace(old, new)
    assert n >= 3, n
    assert b'Int64Index' not in out and b'Float64Index' not in out
    list(pickletools.genops(out))   # still a well-formed pickle
    return out


def write_json(path, entries):
    with open(path, 'w', encoding='utf-8') as f:
        json.dump({'frames': entries}, f, ensure_ascii=False, indent=1)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, (obj, protos) in frames().items():
        e = expect(obj, '')
        if protos == 'to_pickle':
            obj.to_pickle(os.path.join(out, name + '.pkl'))
            write_json(os.path.join(out, name + '.json'), [e])
            continue
        for p in protos:
            fn = '%s%d' % (name, p) if len(protos) > 1 else name
            with open(os.path.join(out, fn + '.pkl'), 'wb') as f:
                pickle.dump(obj, f, protocol=p)
            write_json(os.path.join(out, fn + '.json'), [e])

    # pandas-2-style: a dict of frames (frames below the top, too)
    d = pd2_frames()
    data = pandas2_style(pickle.dumps(d, protocol=2))
    back = pickle.loads(data)
    for k in d:
        pd.testing.assert_frame_equal(back[k], d[k])
    with open(os.path.join(out, 'pd2.pkl'), 'wb') as f:
        f.write(data)
    write_json(os.path.join(out, 'pd2.json'), [expect(v, k) for k, v in d.items()])

    # frames the mount must show raw: a block it cannot read
    aware = pd.DataFrame({'n': np.array([1, 2], np.int64),
                          'z': pd.to_datetime(['2020-01-01', '2020-06-01 12:00']).tz_localize('UTC')})
    deltas = pd.DataFrame({'t': pd.to_timedelta([1, 90], unit='s'), 'f': [0.5, 1.5]})
    for fn, df, why in (('aware', aware, ['tz', 'utc', 'zone']),
                        ('deltas', deltas, ['timedelta'])):
        with open(os.path.join(out, fn + '.pkl'), 'wb') as f:
            pickle.dump(df, f, protocol=4)
        write_json(os.path.join(out, fn + '.json'),
                   [{'path': '', 'raw': True, 'why': why, 'entries': raw_entries(df)}])


if __name__ == '__main__':
    main()
