#!/usr/bin/env python3
"""make-py2-fixtures.py [OUTDIR] - Python 2 pickles, written by hand.

No Python 2 is available, so these are byte strings written opcode by
opcode the way Python 2.7 wrote them, following its two picklers:

  pickle.py  (the pure-Python module): memo indices count from 0 and every
             str, unicode, tuple, list, dict, global and instance is
             memoized (PUT); save_inst() keeps __getinitargs__ arguments
             alive in the memo dict itself, which skips one memo index.
  cPickle    (the C module, what most py2 programs used): memo indices count
             from 1; no PUT for objects only the pickler references
             (refcount < 2) nor for str objects shorter than 2 bytes.

and Python 2.7's value rules: str -> STRING (repr() with its quoting and
\\xNN escapes) / SHORT_BINSTRING / BINSTRING, unicode -> UNICODE
(raw-unicode-escape, with \\ and newline escaped first) / BINUNICODE, int
-> INT / BININT*, long -> LONG with the trailing L (protocols 0, 1) / LONG1 /
LONG4, bool -> I01 / I00 before protocol 2, old-style class instances ->
INST / OBJ + BUILD, new-style instances -> copy_reg._reconstructor (0, 1) /
NEWOBJ (2), globals from __builtin__, dicts in Python 2's hash order (the
order is checked below with Python 2.7's string hash).  The numpy file is
an mnist.pkl-like (train, valid, test) tuple as numpy 1.x on Python 2
pickled it with cPickle at protocol 2 (numpy.core.multiarray._reconstruct,
dtype state with the '<' byte order as a one-byte str, data as a str).

Writes OUTDIR (default tests/fixtures/py2)/NAME.pkl, a gzip copy of the mnist
one, and MANIFEST: file, the encoding argument pickle.loads() needs
("default" or "latin1"), the py2 pickler imitated, a description.  Every file
is loaded with this Python 3 (tests/fixtures/pymod on sys.path) and compared
with the value it stands for; a mismatch is an error.
"""

import sys
sys.dont_write_bytecode = True     # keep the source tree free of __pycache__

import gzip
import os
import pickle
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, 'tests', 'fixtures', 'pymod'))

FILES = []      # (name, bytes, style, description, expected python 3 value)


def add(name, data, style, what, expected):
    FILES.append((name, data, style, what, expected))


# ---------------------------------------------------------- py2 helpers

def py2_hash(s):
    """Python 2.7 str/unicode hash, 64-bit build, hash randomisation off."""
    m = 1 << 64
    units = [ord(c) for c in s]
    if not units:
        return 0
    x = units[0] << 7
    for u in units:
        x = ((1000003 * x) ^ u) % m
    x ^= len(units)
    x = x - m if x >= 1 << 63 else x
    return -2 if x == -1 else x


def py2_dict_order(keys):
    """The iteration order of a Python 2.7 dict built by inserting keys
    (at most 5: no resize) into the 8-slot small table."""
    assert len(keys) <= 5
    table = [None] * 8
    for k in keys:
        h = py2_hash(k) % (1 << 64)
        i, perturb = h & 7, h
        while table[i & 7] is not None:
            i = (i << 2) + i + perturb + 1
            perturb >>= 5
        table[i & 7] = k
    return [k for k in table if k is not None]


def py2_str_repr(b):
    """repr() of a Python 2 str, as protocol 0 STRING writes it."""
    quote = b"'"
    if b"'" in b and b'"' not in b:
        quote = b'"'
    out = bytearray(quote)
    for c in b:
        if bytes([c]) == quote or c == 0x5c:
            out += b'\\' + bytes([c])
        elif c == 9:
            out += b'\\t'
        elif c == 10:
            out += b'\\n'
        elif c == 13:
            out += b'\\r'
        elif c < 0x20 or c >= 0x7f:
            out += b'\\x%02x' % c
        else:
            out.append(c)
    return bytes(out + quote)


def long1(x):
    """LONG1 as Python 2.7's pickle.encode_long wrote it (the same minimal
    two's complement little-endian bytes Python 3 uses)."""
    b = pickle.encode_long(x)
    return b'\x8a' + bytes([len(b)]) + b


def long4(x):
    b = pickle.encode_long(x)
    return b'\x8b' + struct.pack('<i', len(b)) + b


def binstring(b):
    return b'T' + struct.pack('<i', len(b)) + b


# ---------------------------------------------------------- the pickles

def dict_str():
    # {'name': 'alice', 'age': 30, 'score': 9.5, 'active': True,
    #  'tags': ['x', 'y']}: Python 2 iterates active, age, score, name, tags
    assert py2_dict_order(['name', 'age', 'score', 'active', 'tags']) == \
        ['active', 'age', 'score', 'name', 'tags']
    value = {'active': True, 'age': 30, 'score': 9.5, 'name': 'alice', 'tags': ['x', 'y']}
    p0 = (b"(dp0\n"
          b"S'active'\np1\nI01\ns"
          b"S'age'\np2\nI30\ns"
          b"S'score'\np3\nF9.5\ns"
          b"S'name'\np4\nS'alice'\np5\ns"
          b"S'tags'\np6\n(lp7\nS'x'\np8\naS'y'\np9\nas"
          b".")
    body1 = (b"}q\x00("
             b"U\x06activeq\x01%s"
             b"U\x03ageq\x02K\x1e"
             b"U\x05scoreq\x03G@#\x00\x00\x00\x00\x00\x00"
             b"U\x04nameq\x04U\x05aliceq\x05"
             b"U\x04tagsq\x06]q\x07(U\x01xq\x08U\x01yq\te"
             b"u.")
    add('dict-str-p0.pkl', p0, 'pickle.py', 'dict of str, int, float, bool, list', value)
    add('dict-str-p1.pkl', body1 % b'I01\n', 'pickle.py', 'dict of str ... protocol 1', value)
    add('dict-str-p2.pkl', b'\x80\x02' + body1 % b'\x88', 'pickle.py',
        'dict of str ... protocol 2', value)


def latin1_str():
    # {'city': 'M\xfcnchen', 'blob': 300 bytes}: str with non-ASCII bytes
    assert py2_dict_order(['city', 'blob']) == ['city', 'blob']
    city = b'M\xfcnchen'
    blob = bytes(range(256)) + b'x' * 44
    value = {'city': city.decode('latin1'), 'blob': blob.decode('latin1')}
    p0 = (b"(dp0\nS'city'\np1\nS" + py2_str_repr(city) + b"\np2\ns"
          b"S'blob'\np3\nS" + py2_str_repr(blob) + b"\np4\ns.")
    body1 = (b"}q\x00(U\x04cityq\x01U" + bytes([len(city)]) + city + b"q\x02"
             b"U\x04blobq\x03" + binstring(blob) + b"q\x04u.")
    add('latin1-str-p0.pkl', p0, 'pickle.py', 'str with non-ASCII bytes (STRING escapes)', value)
    add('latin1-str-p1.pkl', body1, 'pickle.py',
        'str with non-ASCII bytes (SHORT_BINSTRING, BINSTRING)', value)
    add('latin1-str-p2.pkl', b'\x80\x02' + body1, 'pickle.py',
        'str with non-ASCII bytes, protocol 2', value)


def unicode_dict():
    # {u'greek': u'\u03c0\u03c3', u'emoji': u'\U0001f600', u'latin': u'caf\xe9',
    #  u'nl': u'a\nb\\c'}, a UCS-4 ("wide") Python 2 build
    assert py2_dict_order(['greek', 'emoji', 'latin', 'nl']) == ['greek', 'latin', 'nl', 'emoji']
    value = {'greek': '\u03c0\u03c3', 'latin': 'caf\xe9', 'nl': 'a\nb\\c', 'emoji': '\U0001f600'}
    p0 = (b"(dp0\n"
          b"Vgreek\np1\nV\\u03c0\\u03c3\np2\ns"
          b"Vlatin\np3\nVcaf\xe9\np4\ns"
          b"Vnl\np5\nVa\\u000ab\\u005cc\np6\ns"
          b"Vemoji\np7\nV\\U0001f600\np8\ns"
          b".")
    body1 = (b"}q\x00("
             b"X\x05\x00\x00\x00greekq\x01X\x04\x00\x00\x00\xcf\x80\xcf\x83q\x02"
             b"X\x05\x00\x00\x00latinq\x03X\x05\x00\x00\x00caf\xc3\xa9q\x04"
             b"X\x02\x00\x00\x00nlq\x05X\x05\x00\x00\x00a\nb\\cq\x06"
             b"X\x05\x00\x00\x00emojiq\x07X\x04\x00\x00\x00\xf0\x9f\x98\x80q\x08"
             b"u.")
    add('unicode-p0.pkl', p0, 'pickle.py', 'unicode keys and values (UNICODE)', value)
    add('unicode-p1.pkl', body1, 'pickle.py', 'unicode keys and values (BINUNICODE)', value)
    add('unicode-p2.pkl', b'\x80\x02' + body1, 'pickle.py', 'unicode, protocol 2', value)


def longs():
    # [0L, 1L, -1L, 255L, 2**64, -2**70, 12345678901234567890L, 2**1000, 30,
    #  2**2100]: longs (and one int) as a list
    vals = [0, 1, -1, 255, 2 ** 64, -2 ** 70, 12345678901234567890, 2 ** 1000, 30, 2 ** 2100]
    text = [b'L%dL\n' % v for v in vals]
    text[8] = b'I30\n'
    p0 = b'(lp0\n' + b''.join(t + b'a' for t in text) + b'.'
    text[8] = b'K\x1e'
    p1 = b']q\x00(' + b''.join(text) + b'e.'
    bins = [b'K\x1e' if i == 8 else long1(v) if i != 9 else long4(v)
            for i, v in enumerate(vals)]          # 2**2100 needs 263 bytes: LONG4
    p2 = b'\x80\x02]q\x00(' + b''.join(bins) + b'e.'
    add('longs-p0.pkl', p0, 'pickle.py', 'longs with the trailing L (LONG)', vals)
    add('longs-p1.pkl', p1, 'pickle.py', 'longs, protocol 1 (LONG text)', vals)
    add('longs-p2.pkl', p2, 'pickle.py', 'longs, protocol 2 (LONG1, LONG4)', vals)


def oldstyle():
    import fixturemod
    a = fixturemod.OldStyle()
    a.a, a.b = 1, 'x'
    b = fixturemod.OldStyleArgs(1, 'two')
    value = [a, b]
    assert py2_dict_order(['a', 'b']) == ['a', 'b']
    # save_inst: MARK [args] INST/OBJ, memoize, then the __dict__ and BUILD.
    # The attribute names are interned, so the second dict GETs them; the
    # __getinitargs__ tuple is kept alive in the memo (index 7 / 8 skipped).
    p0 = (b"(lp0\n"
          b"(ifixturemod\nOldStyle\np1\n(dp2\nS'a'\np3\nI1\nsS'b'\np4\nS'x'\np5\nsba"
          b"(I1\nS'two'\np7\nifixturemod\nOldStyleArgs\np8\n(dp9\ng3\nI1\nsg4\ng7\nsba"
          b".")
    body1 = (b"]q\x00("
             b"(cfixturemod\nOldStyle\nq\x01oq\x02}q\x03(U\x01aq\x04K\x01U\x01bq\x05U\x01xq\x06ub"
             b"(cfixturemod\nOldStyleArgs\nq\x08K\x01U\x03twoq\toq\n}q\x0b(h\x04K\x01h\x05h\tub"
             b"e.")
    add('oldstyle-p0.pkl', p0, 'pickle.py', 'old-style class instances (INST + BUILD)', value)
    add('oldstyle-p1.pkl', body1, 'pickle.py', 'old-style class instances (OBJ + BUILD)', value)
    add('oldstyle-p2.pkl', b'\x80\x02' + body1, 'pickle.py',
        'old-style class instances, protocol 2 (still OBJ)', value)


def newstyle():
    import fixturemod
    n = fixturemod.NewStyle()
    n.x = 1
    p0 = (b"ccopy_reg\n_reconstructor\np0\n"
          b"(cfixturemod\nNewStyle\np1\nc__builtin__\nobject\np2\nNtp3\nRp4\n"
          b"(dp5\nS'x'\np6\nI1\nsb.")
    p1 = (b"ccopy_reg\n_reconstructor\nq\x00"
          b"(cfixturemod\nNewStyle\nq\x01c__builtin__\nobject\nq\x02Ntq\x03Rq\x04"
          b"}q\x05U\x01xq\x06K\x01sb.")
    p2 = b"\x80\x02cfixturemod\nNewStyle\nq\x00)\x81q\x01}q\x02U\x01xq\x03K\x01sb."
    add('newstyle-p0.pkl', p0, 'pickle.py', 'new-style instance via copy_reg._reconstructor', n)
    add('newstyle-p1.pkl', p1, 'pickle.py', 'new-style instance via copy_reg._reconstructor', n)
    add('newstyle-p2.pkl', p2, 'pickle.py', 'new-style instance via NEWOBJ', n)


def builtins_():
    # [set([1, 2]), xrange(5), complex(1, 2), len]
    value = [{1, 2}, range(0, 5, 1), 1 + 2j, len]
    p0 = (b"(lp0\n"
          b"c__builtin__\nset\np1\n((lp2\nI1\naI2\natp3\nRp4\na"
          b"c__builtin__\nxrange\np5\n(I0\nI5\nI1\ntp6\nRp7\na"
          b"c__builtin__\ncomplex\np8\n(F1.0\nF2.0\ntp9\nRp10\na"
          b"c__builtin__\nlen\np11\na"
          b".")
    p2 = (b"\x80\x02]q\x00("
          b"c__builtin__\nset\nq\x01]q\x02(K\x01K\x02e\x85q\x03Rq\x04"
          b"c__builtin__\nxrange\nq\x05K\x00K\x05K\x01\x87q\x06Rq\x07"
          b"c__builtin__\ncomplex\nq\x08G?\xf0\x00\x00\x00\x00\x00\x00"
          b"G@\x00\x00\x00\x00\x00\x00\x00\x86q\tRq\n"
          b"c__builtin__\nlen\nq\x0b"
          b"e.")
    add('builtins-p0.pkl', p0, 'pickle.py', '__builtin__ set, xrange, complex, len', value)
    add('builtins-p2.pkl', p2, 'pickle.py', '__builtin__ set, xrange, complex, len', value)


def datetime_():
    import datetime
    value = datetime.datetime(2020, 1, 2, 3, 4, 5, 6)
    p2 = (b"\x80\x02cdatetime\ndatetime\nq\x00"
          b"U\n\x07\xe4\x01\x02\x03\x04\x05\x00\x00\x06q\x01\x85q\x02Rq\x03.")
    add('datetime-p2.pkl', p2, 'pickle.py', 'datetime (state as a str)', value)


def cpickle_dict():
    # cPickle: memo from 1; 'a' and 'b' (1 byte) never memoized
    value = {'a': 1, 'b': 'xy'}
    p0 = b"(dp1\nS'a'\nI1\nsS'b'\nS'xy'\np2\ns."
    p2 = b"\x80\x02}q\x01(U\x01aK\x01U\x01bU\x02xyq\x02u."
    add('cpickle-dict-p0.pkl', p0, 'cPickle', 'dict, cPickle memo numbering', value)
    add('cpickle-dict-p2.pkl', p2, 'cPickle', 'dict, cPickle memo numbering', value)


def mnist_like():
    import numpy as np
    tx = (np.arange(128, dtype=np.float32).reshape(16, 8) % 17) / np.float32(16)
    ty = np.arange(16, dtype=np.int64) % 10
    vx = np.linspace(0, 1, 32, dtype=np.float32).reshape(4, 8)
    vy = np.array([3, 1, 4, 1], dtype=np.int64)
    sx = np.full((4, 8), 0.5, dtype=np.float32)
    sy = np.array([5, 9, 2, 6], dtype=np.int64)
    value = ((tx, ty), (vx, vy), (sx, sy))

    dtype_state = b"(K\x03U\x01<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"

    def data(a):
        raw = a.tobytes()
        return (b'U' + bytes([len(raw)]) + raw) if len(raw) < 256 else binstring(raw)

    def shape(a):
        return b''.join(b'K' + bytes([n]) for n in a.shape) + {1: b'\x85', 2: b'\x86'}[a.ndim]

    def array(a, put, dtype_ops):
        return (b"h\x01h\x02K\x00\x85U\x01b\x87Rq" + bytes([put]) +
                b"(K\x01" + shape(a) + dtype_ops + b"\x89" + data(a) + b"tb")

    p = (b"\x80\x02"
         # train_x: defines _reconstruct (1), ndarray (2), the array (3),
         # numpy.dtype (4) and the float32 descr (5)
         b"cnumpy.core.multiarray\n_reconstruct\nq\x01cnumpy\nndarray\nq\x02"
         b"K\x00\x85U\x01b\x87Rq\x03(K\x01" + shape(tx) +
         b"cnumpy\ndtype\nq\x04U\x02f4K\x00K\x01\x87Rq\x05" + dtype_state +
         b"\x89" + data(tx) + b"tb" +
         array(ty, 6, b"h\x04U\x02i8K\x00K\x01\x87Rq\x07" + dtype_state) + b"\x86q\x08" +
         array(vx, 9, b"h\x05") + array(vy, 10, b"h\x07") + b"\x86q\x0b" +
         array(sx, 12, b"h\x05") + array(sy, 13, b"h\x07") + b"\x86q\x0e" +
         b"\x87q\x0f.")
    add('mnist-like-p2.pkl', p, 'cPickle',
        'mnist.pkl-like ((train_x, train_y), (valid_x, valid_y), (test_x, test_y)) of numpy '
        'arrays; train_x data is a BINSTRING', value)
    buf = __import__('io').BytesIO()
    with gzip.GzipFile(filename='mnist.pkl', mode='wb', fileobj=buf, mtime=0) as g:
        g.write(p)
    add('mnist-like-p2.pkl.gz', buf.getvalue(), 'cPickle', 'gzip of mnist-like-p2.pkl '
        '(file name in the header, like mnist.pkl.gz)', value)


# ---------------------------------------------------------- checking

def same(a, b):
    np = sys.modules.get('numpy')
    if np is not None and isinstance(a, np.ndarray):
        return (isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
                and a.tobytes() == b.tobytes())
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict):
        return (type(a) is type(b) and list(a) == list(b)
                and all(same(a[k], b[k]) for k in a))
    if hasattr(a, '__dict__') and not isinstance(a, type) and not callable(a):
        return type(a) is type(b) and same(a.__dict__, b.__dict__)
    return type(a) is type(b) and a == b


def needed_encoding(data):
    if data[:2] == b'\x1f\x8b':
        data = gzip.decompress(data)
    try:
        return 'default', pickle.loads(data)
    except UnicodeDecodeError:
        return 'latin1', pickle.loads(data, encoding='latin1')


def main(argv):
    out = argv[1] if len(argv) > 1 else os.path.join(REPO, 'tests', 'fixtures', 'py2')
    os.makedirs(out, exist_ok=True)
    for step in (dict_str, latin1_str, unicode_dict, longs, oldstyle, newstyle, builtins_,
                 datetime_, cpickle_dict, mnist_like):
        step()
    errors = 0
    lines = ['# file\tencoding\tpy2 pickler\tdescription',
             '# encoding: the argument pickle.loads() needs: "default" (none) or "latin1" '
             '(encoding=\'latin1\'; encoding=\'bytes\' loads them too, as bytes)']
    for name, data, style, what, expected in FILES:
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)
        try:
            enc, got = needed_encoding(data)
        except Exception as e:
            sys.stderr.write('make-py2-fixtures: %s does not load: %s: %s\n'
                             % (name, type(e).__name__, e))
            errors += 1
            continue
        if not same(expected, got):
            sys.stderr.write('make-py2-fixtures: %s loads as %r, expected %r\n'
                             % (name, got, expected))
            errors += 1
        lines.append('%s\t%s\t%s\t%s' % (name, enc, style, what))
    with open(os.path.join(out, 'MANIFEST'), 'w') as m:
        m.write('\n'.join(lines) + '\n')
    sys.stdout.write('make-py2-fixtures: %d files in %s, %d errors\n' % (len(FILES), out, errors))
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
