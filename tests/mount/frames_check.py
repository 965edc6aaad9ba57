#!/usr/bin/python3
"""The Python side of tests/mount/frames.sh (pandas frame views).

    frames_check.py read MOUNT SRC ORIG    every frame of SRC/*.json as the
                                           mount at MOUNT shows it
    frames_check.py text SRC NAME PATH COL the expected text of a column file
    frames_check.py edits SRC ORIG LIST    the pickles in SRC after the edits
                                           of LIST, against ORIG's frames

MOUNT mounts the folder SRC (each SRC/NAME.pkl is the directory
MOUNT/NAME.pkl); SRC/NAME.json (tests/mount/make_frames.py) says what each
frame must look like; ORIG holds untouched copies of the pickles.

`read` and `edits` print "FAIL ..." per failure, then "ok N" (the number
of checks that passed). LIST has one line per edited column file:
NAME TAB PATH TAB COLUMN-FILE TAB NEW-TEXT-FILE TAB PYTHON-EXPR, where
NEW-TEXT-FILE holds the text written and PYTHON-EXPR must be true of `f`,
the object the edited pickle holds at PATH (say "f['i64'].iloc[5] == 777").
"""
import csv
import io
import json
import os
import pickle
import re
import sys
import warnings

N = 0


def fail(msg):
    print('FAIL', msg)


def good():
    global N
    N += 1


def expect(cond, msg):
    if cond:
        good()
    else:
        fail(msg)


def load_json(src, name):
    with open(os.path.join(src, name + '.json'), encoding='utf-8') as f:
        return json.load(f)['frames']


def at(obj, path):
    return obj[path] if path else obj


def load(path):
    with open(path, 'rb') as f:
        return pickle.load(f)


def read_bytes(p):
    with open(p, 'rb') as f:
        return f.read()


# ---- read ----------------------------------------------------------------
def check_size(p, what):
    """stat before and after a read both give the size a read gets"""
    try:
        before = os.stat(p).st_size
        data = read_bytes(p)
        after = os.stat(p).st_size
    except OSError as e:
        fail('%s: %s' % (what, e))
        return None
    expect(before == len(data) == after,
           '%s: stat size %d (after reading %d), read %d bytes' % (what, before, after, len(data)))
    return data


def csv_roundtrip(pd, np, p, obj, what):
    df = obj.to_frame() if isinstance(obj, pd.Series) else obj
    nl = df.index.nlevels
    dates = [i for i in range(nl)
             if df.index.get_level_values(i).dtype.kind == 'M']
    dates += [nl + i for i in range(df.shape[1]) if df.dtypes.iloc[i].kind == 'M']
    try:
        got = pd.read_csv(p, index_col=list(range(nl)), parse_dates=dates or False,
                          keep_default_na=True)
    except Exception as e:  # noqa: BLE001 - any reader error is a failure
        fail('%s: read_csv: %s' % (what, e))
        return
    cols = {}
    for i in range(df.shape[1]):
        s = df.iloc[:, i]
        if s.dtype == object:   # an empty str is an empty field: NaN back
            s = s.where(s != '', np.nan)
        cols[i] = s.to_numpy()
    want = pd.DataFrame(cols, index=df.index, columns=range(df.shape[1]))
    # read_csv gives str labels; the header line is checked as text
    got.columns = range(got.shape[1])
    try:
        pd.testing.assert_frame_equal(got, want, check_dtype=False, check_index_type=False,
                                      check_column_type=False, check_names=False)
        good()
    except AssertionError as e:
        fail('%s: read_csv differs from the frame: %s' % (what, str(e).replace('\n', ' ')[:600]))


def check_frame(pd, np, mount, orig, name, e):
    d = os.path.join(mount, name + '.pkl', e['path']) if e['path'] else os.path.join(mount, name + '.pkl')
    what = name + ('/' + e['path'] if e['path'] else '')
    try:
        ls = os.listdir(d)
    except OSError as err:
        fail('%s: listdir: %s' % (what, err))
        return
    expect(ls == e['entries'], '%s: lists %s, expected %s' % (what, ls, e['entries']))
    if e['raw']:
        expect(not os.path.exists(os.path.join(d, '__frame__.csv')),
               '%s: a frame that must be shown raw has __frame__.csv' % what)
        try:
            expect(read_bytes(os.path.join(d, '_typ')) == b'dataframe\n',
                   '%s: _typ of the raw frame is not dataframe' % what)
        except OSError as err:
            fail('%s: _typ: %s' % (what, err))
        return
    for fn, text in e['files'].items():
        p = os.path.join(d, fn)
        data = check_size(p, '%s/%s' % (what, fn))
        if data is None:
            continue
        expect(data == text.encode('utf-8'),
               '%s/%s: %r, expected %r' % (what, fn, data[:300], text.encode('utf-8')[:300]))
    for fn, w in e['writable'].items():
        try:
            mode = os.stat(os.path.join(d, fn)).st_mode
        except OSError as err:
            fail('%s/%s: stat: %s' % (what, fn, err))
            continue
        expect(bool(mode & 0o200) == w and not mode & 0o022 and mode & 0o444 == 0o444,
               '%s/%s: mode %o, expected %s' % (what, fn, mode & 0o777, 'rw-r--r--' if w else 'r--r--r--'))
    # __frame__.csv
    p = os.path.join(d, '__frame__.csv')
    data = check_size(p, what + '/__frame__.csv')
    obj = at(load(os.path.join(orig, name + '.pkl')), e['path'])
    if data is not None:
        text = data.decode('utf-8', 'replace')
        expect(text.split('\n', 1)[0] == e['csv_header'],
               '%s/__frame__.csv: header %r, expected %r' % (what, text.split('\n', 1)[0], e['csv_header']))
        expect(text.endswith('\n'), '%s/__frame__.csv: does not end in \\n' % what)
        recs = list(csv.reader(io.StringIO(text, newline='')))
        expect(len(recs) == e['nrows'] + 1 and all(len(r) == e['csv_fields'] for r in recs),
               '%s/__frame__.csv: %d records of %s fields, expected %d of %d'
               % (what, len(recs), sorted({len(r) for r in recs}), e['nrows'] + 1, e['csv_fields']))
        if e['csv_check']:
            csv_roundtrip(pd, np, p, obj, what + '/__frame__.csv')
    # __raw__: the object as it is shown without views
    r = os.path.join(d, '__raw__')
    try:
        ls = os.listdir(r)
        expect(ls == e['raw_entries'], '%s/__raw__ lists %s, expected %s' % (what, ls, e['raw_entries']))
        expect(read_bytes(os.path.join(r, '__class__')) == (e['klass'] + '\n').encode(),
               '%s/__raw__/__class__ is not %s' % (what, e['klass']))
        expect(read_bytes(os.path.join(r, '_typ')) == (e['typ'] + '\n').encode(),
               '%s/__raw__/_typ is not %s' % (what, e['typ']))
        expect(os.path.isdir(os.path.join(r, '_mgr')), '%s/__raw__/_mgr is not a directory' % what)
    except OSError as err:
        fail('%s/__raw__: %s' % (what, err))
    # np.loadtxt of the numeric columns gives their values
    df = obj.to_frame() if isinstance(obj, pd.Series) else obj
    for i, fn in enumerate(e['names']):
        s = df.iloc[:, i]
        if e['nrows'] == 0 or isinstance(s.dtype, pd.CategoricalDtype) or s.dtype.kind not in 'iuf':
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                t = np.loadtxt(os.path.join(d, fn), dtype=s.dtype, ndmin=1)
            ok = np.array_equal(t, s.to_numpy(), equal_nan=s.dtype.kind == 'f')
        except Exception as err:  # noqa: BLE001
            ok, t = False, err
        expect(ok, '%s/%s: np.loadtxt gives %r' % (what, fn, t))


def cmd_read(mount, src, orig):
    import numpy as np
    import pandas as pd
    for fn in sorted(os.listdir(src)):
        if fn.endswith('.json'):
            name = fn[:-5]
            for e in load_json(src, name):
                check_frame(pd, np, mount, orig, name, e)


# ---- edits ---------------------------------------------------------------
ESC = {'\\': '\\', 'n': '\n', 'r': '\r', 't': '\t'}


def parse(np, text, s):
    lines = text.split('\n')
    assert lines[-1] == '', 'the new text does not end in a newline'
    lines = lines[:-1]
    k = s.dtype.kind
    if k in 'iu':
        return np.array([int(x) for x in lines], s.dtype)
    if k == 'f':
        return np.array([float(x) for x in lines], s.dtype)
    if k == 'b':
        return np.array([x == 'True' for x in lines])
    return np.array([re.sub(r'\\(.)', lambda m: ESC[m.group(1)], x) for x in lines], dtype=object)


def cmd_edits(src, orig, listfile):
    import numpy as np
    import pandas as pd
    edits = {}
    with open(listfile, encoding='utf-8') as f:
        for line in f:
            name, path, col, newf, ex = line.rstrip('\n').split('\t')
            edits.setdefault(name, []).append((path, col, newf, ex))
    for name, lst in edits.items():
        try:
            before = load(os.path.join(orig, name + '.pkl'))
            after = load(os.path.join(src, name + '.pkl'))
        except Exception as err:  # noqa: BLE001
            fail('%s: pickle.load after the edits: %s' % (name, err))
            continue
        for e in load_json(src, name):
            path = e['path']
            want, got = at(before, path), at(after, path)
            what = name + ('/' + path if path else '')
            mine = [x for x in lst if x[0] == path]
            for _, col, newf, _ in mine:
                with open(newf, encoding='utf-8') as f:
                    text = f.read()
                i = e['names'].index(col)
                if isinstance(want, pd.Series):
                    want = pd.Series(parse(np, text, want), index=want.index, name=want.name)
                else:
                    want = want.copy()
                    want.isetitem(i, parse(np, text, want.iloc[:, i]))
            if type(got) is not type(want):
                fail('%s: the pickle holds a %s after the edits' % (what, type(got).__name__))
                continue
            # column by column (a failure names the column), then whole
            gf = got.to_frame() if isinstance(got, pd.Series) else got
            wf = want.to_frame() if isinstance(want, pd.Series) else want
            edited = {c for _, c, _, _ in mine}
            for i, col in enumerate(e['names']):
                try:
                    pd.testing.assert_series_equal(gf.iloc[:, i], wf.iloc[:, i], check_exact=True)
                    good()
                except (AssertionError, IndexError) as err:
                    fail('%s: column %s %s: %s' % (what, col, 'edited' if col in edited else 'changed',
                                                   str(err).replace('\n', ' ')[:400]))
            try:
                if isinstance(got, pd.Series):
                    pd.testing.assert_series_equal(got, want, check_exact=True)
                else:
                    pd.testing.assert_frame_equal(got, want, check_exact=True)
                good()
            except AssertionError as err:
                fail('%s: after the edits: %s' % (what, str(err).replace('\n', ' ')[:400]))
            nb = at(before, path)._mgr.nblocks
            expect(got._mgr.nblocks == nb, '%s: %d blocks after the edits, %d before'
                   % (what, got._mgr.nblocks, nb))
            for _, col, _, ex in mine:
                try:
                    r = eval(ex, {'np': np, 'pd': pd, 'f': got})  # noqa: S307 - our own text
                except Exception as err:  # noqa: BLE001
                    r = err
                expect(r is True or r is np.True_, '%s: %s: %r' % (what, ex, r))


def main():
    cmd = sys.argv[1]
    if cmd == 'read':
        cmd_read(*sys.argv[2:5])
    elif cmd == 'edits':
        cmd_edits(*sys.argv[2:5])
    elif cmd == 'text':
        src, name, path, col = sys.argv[2:6]
        for e in load_json(src, name):
            if e['path'] == path:
                sys.stdout.write(e['files'][col])
                return
        sys.exit('no frame %s at %r' % (name, path))
    else:
        sys.exit('usage: frames_check.py read|text|edits ...')
    print('ok', N)


if __name__ == '__main__':
    main()
