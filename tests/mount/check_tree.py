#!/usr/bin/python3
"""check_tree.py - compares a mounted pickle with what CPython loads.

Usage:
  check_tree.py MOUNTED_DIR PICKLE [MAXDEPTH]
  check_tree.py --batch FILE      lines "MOUNTED_DIR<TAB>PICKLE"

Walks the directory the mount shows for PICKLE and the object
/usr/bin/python3 loads from the same file side by side, and checks the
user-facing rules of the README independently of the C code:

  - a dict (also OrderedDict, defaultdict, Counter) is a directory whose
    entries are its keys in insertion order, named by the naming scheme
    (str key: its text, escaped; other keys: int decimal / Python repr;
    collisions get "%TYPE" suffixes, str keys first); a defaultdict
    starts with __default_factory__;
  - list / tuple / set / frozenset are directories 0 .. n-1 (sets are
    compared as multisets);
  - scalars are files with exactly the documented bytes (the library
    scalars: numpy scalars, datetime, date, time, timedelta, Decimal,
    UUID, str() and a newline), and st_size is
    the number of bytes read;
  - numpy arrays are dtype / shape / [order] / data;
  - a DataFrame or Series is its column files, __index__, __frame__.csv
    and __raw__, which holds the object (frames.sh checks the views'
    text against pandas);
  - any other object is a directory with __class__;
  - a container met a second time is a symlink whose target, resolved in
    the mount, is the entry where the same Python object was met first;
  - every entry has user.pickle.type, every entry of a directory inside a
    pickle has user.pickle.keytype.

Prints one "FAIL path: why" line per difference; the last line is
"checked N entries, M failures"; exit status 1 when M > 0.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, 'scripts'))
sys.path.insert(0, os.path.join(REPO, 'tests', 'fixtures', 'pymod'))
if hasattr(sys, 'set_int_max_str_digits'):
    sys.set_int_max_str_digits(0)

import pycheck  # noqa: E402  (the shared loader: gzip/bz2, latin1, dill)

try:
    import numpy
except ImportError:  # pragma: no cover
    numpy = None

import ast  # noqa: E402
import collections  # noqa: E402
import datetime  # noqa: E402
import decimal  # noqa: E402
import uuid  # noqa: E402
import types  # noqa: E402

DICTS = (dict, collections.OrderedDict, collections.defaultdict,
         collections.Counter)


# ---------------------------------------------------------------- naming

def escape(text):
    """The escaped natural name of a str key (README: names)."""
    if text == '':
        return '%'
    if text == '.':
        return '%2E'
    if text == '..':
        return '%2E%2E'
    out = []
    for ch in text:
        if ch == '%':
            out.append('%25')
        elif ch == '/':
            out.append('%2F')
        elif ch == '\0':
            out.append('%00')
        else:
            out.append(ch)
    return ''.join(out)


def utf8(text):
    return text.encode('utf-8', 'surrogatepass')


def key_type(k):
    if isinstance(k, bool):
        return 'bool'
    if k is None:
        return 'none'
    for t, name in ((int, 'int'), (float, 'float'), (complex, 'complex'),
                    (str, 'str'), (bytes, 'bytes'), (tuple, 'tuple'),
                    (frozenset, 'frozenset')):
        if type(k) is t:
            return name
    return None   # a key the checker does not name (objects ...)


def key_repr(k):
    if isinstance(k, str):
        return escape(k)
    if isinstance(k, float):
        return escape(repr(k))
    return escape(repr(k))


def names_for(entries):
    """entries: list of (kind, value) with kind 'reserved', 'str',
    'other' (value: the key) -> list of names or None when unknown."""
    nat, prio, types = [], [], []
    for kind, v in entries:
        if kind == 'reserved':
            nat.append(v)
            prio.append(0)
            types.append('attr')
        elif kind == 'str':
            nat.append(escape(v))
            prio.append(1)
            types.append('str')
        else:
            t = key_type(v)
            if t is None:
                return None
            nat.append(key_repr(v))
            prio.append(2)
            types.append(t)
    names = [None] * len(nat)
    taken = set()
    pending = []
    for p in (0, 1, 2):
        for i, n in enumerate(nat):
            if prio[i] != p:
                continue
            if len(utf8(n)) > 240 or n in taken:
                pending.append(i)
            else:
                names[i] = n
                taken.add(n)
    for i in sorted(pending):
        if len(utf8(nat[i])) > 240:
            b = utf8(nat[i])[:200]
            base = b.decode('utf-8', 'ignore')
            t = 'long'
        else:
            base, t = nat[i], types[i]
        k = 1
        while True:
            cand = base + '%' + t + (str(k) if k > 1 else '')
            if cand not in taken:
                break
            k += 1
        names[i] = cand
        taken.add(cand)
    return names


# ---------------------------------------------------------------- values

def is_frame(obj):
    pd = sys.modules.get('pandas')
    return pd is not None and isinstance(obj, (pd.DataFrame, pd.Series))


def is_ndarray(obj):
    return numpy is not None and isinstance(obj, numpy.ndarray)


DT_UNITS = ('[Y]', '[M]', '[W]', '[D]', '[h]', '[m]', '[s]', '[ms]', '[us]',
            '[ns]')


def has_text(dt):
    """A plain dtype whose items values.txt shows."""
    return (dt.kind in 'biu' or (dt.kind == 'f' and dt.itemsize <= 8)
            or (dt.kind == 'c' and dt.itemsize <= 16)
            or (dt.kind in 'US' and dt.itemsize > 0)
            or (dt.kind == 'M' and dt.str[3:] in DT_UNITS))


def array_views(a):
    """The derived files of an array directory (README, "How values
    appear"): values.txt for bool / int / float / complex dtypes (not
    longdouble), str / bytes ones and datetime64 in units numpy prints,
    structured ones of such fields (and padding), object ones whose items
    are all shown as files, array.npy for any plain dtype (not object, not
    structured), image.png for (H, W[, 1|3|4]) uint8 / bool arrays."""
    dt = a.dtype
    plain = not dt.hasobject and dt.names is None
    out = []
    if dt.kind == 'O':
        # an object array of values shown as files: a values.txt of reprs
        if all(scalar_bytes(x) is not None for x in a.ravel()):
            out.append('values.txt')
        return out
    if (plain and has_text(dt)) or (dt.names is not None and all(
            len(f) == 2 and isinstance(f[1], str) and
            (has_text(numpy.dtype(f[1])) or (f[0] == '' and f[1][1] == 'V'))
            for f in dt.descr)):
        out.append('values.txt')
    if plain:
        out.append('array.npy')
    if (dt.str in ('|u1', '|b1') and a.ndim in (2, 3) and a.shape[0] > 0
            and a.shape[1] > 0 and (a.ndim == 2 or a.shape[2] in (1, 3, 4))):
        out.append('image.png')
    return out


def scalar_bytes(obj):
    """Expected file content, or None when obj is shown as a directory."""
    if obj is None:
        return [b'None\n']
    if isinstance(obj, bool):
        return [b'True\n' if obj else b'False\n']
    if numpy is not None and isinstance(obj, numpy.generic):
        dt = obj.dtype
        if dt.kind + str(dt.itemsize) in ('b1', 'i1', 'i2', 'i4', 'i8', 'u1',
                                          'u2', 'u4', 'u8', 'f2', 'f4', 'f8',
                                          'c8', 'c16'):
            return [str(obj).encode() + b'\n']
        return None
    if type(obj) in (datetime.datetime, datetime.time) and (
            obj.tzinfo is None or type(obj.tzinfo) is datetime.timezone):
        return [str(obj).encode() + b'\n']
    if type(obj) in (datetime.date, datetime.timedelta, decimal.Decimal,
                     uuid.UUID):
        return [str(obj).encode() + b'\n']
    if type(obj) is int:
        return [str(obj).encode() + b'\n']
    if type(obj) is float:
        return [repr(obj).encode() + b'\n']
    if type(obj) is complex:
        return [repr(obj).encode() + b'\n']
    if type(obj) is str:
        if obj == '':
            return [b'']  # an empty str is an empty file
        out = [utf8(obj) + b'\n']
        try:
            # a Python 2 str loaded with encoding='latin1': the mount
            # shows its bytes when they are UTF-8
            raw = obj.encode('latin1')
            out.append(raw.decode('utf-8').encode('utf-8') + b'\n')
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
        return out
    if type(obj) in (bytes, bytearray):
        return [bytes(obj)]
    if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType,
                        types.MethodType)):
        return ['GLOBAL']
    return None


def pickled_state(o):
    """The attributes the pickle holds for o: the dict state (merged with
    the slots dict of a (dict, slots) state), as __reduce_ex__ gives it."""
    try:
        rv = o.__reduce_ex__(4)
    except Exception:
        return None
    if not isinstance(rv, tuple) or len(rv) < 3:
        return None
    state = rv[2]
    if isinstance(state, dict):
        return state
    if isinstance(state, tuple) and len(state) == 2 and \
            all(s is None or isinstance(s, dict) for s in state):
        merged = {}
        for s in state:
            merged.update(s or {})
        return merged
    return None


class Checker:
    def __init__(self, top, maxdepth):
        self.top = os.path.realpath(top)
        self.maxdepth = maxdepth
        self.seen = {}        # id(obj) -> mount path of first occurrence
        self.keep = []
        self.count = 0
        self.failures = 0

    def fail(self, path, why):
        self.failures += 1
        if self.failures <= 60:
            print('FAIL %s: %s' % (path, why))

    def xattr(self, path, name):
        try:
            return os.getxattr(path, name, follow_symlinks=False).decode()
        except OSError:
            return None

    def check_file(self, path, expected):
        st = os.lstat(path)
        with open(path, 'rb') as f:
            data = f.read()
        if st.st_size != len(data):
            self.fail(path, 'st_size %d but read %d bytes'
                      % (st.st_size, len(data)))
        if expected == ['GLOBAL']:
            if not data.endswith(b'\n') or b'.' not in data:
                self.fail(path, 'not a global: %r' % data[:80])
            return
        if data not in expected:
            self.fail(path, 'content %r, expected %r'
                      % (data[:120], expected[0][:120]))

    def expected_entries(self, obj):
        """(names or None, [child objects], unordered) for a directory."""
        if type(obj) in DICTS:
            ents, kids = [], []
            if type(obj) is collections.defaultdict:
                ents.append(('reserved', '__default_factory__'))
                kids.append(obj.default_factory)
            for k, v in obj.items():
                ents.append(('str', k) if type(k) is str else ('other', k))
                kids.append(v)
            return names_for(ents), kids, False
        if type(obj) in (list, tuple):
            return [str(i) for i in range(len(obj))], list(obj), False
        if type(obj) in (set, frozenset):
            return [str(i) for i in range(len(obj))], list(obj), True
        if is_ndarray(obj):
            names = ['dtype', 'shape']
            kids = [obj.dtype.str, repr(obj.shape)]
            f_order = obj.flags.f_contiguous and not obj.flags.c_contiguous
            if f_order:
                names.append('order')
                kids.append('F')
            names.append('data')
            if obj.dtype.hasobject:
                # numpy pickles an object array's items in C order
                kids.append(list(obj.ravel(order='C')))
            else:
                kids.append(obj.tobytes(order='F' if f_order else 'C'))
            for view in array_views(obj):
                names.append(view)
                kids.append(None)
            return names, kids, False
        return None, None, False

    def run(self, root, obj):
        stack = [(root, obj, 0)]
        while stack:
            path, o, depth = stack.pop()
            self.count += 1
            if os.path.islink(path):
                self.check_link(path, o)
                continue
            t = self.xattr(path, 'user.pickle.type')
            if t is None:
                self.fail(path, 'no user.pickle.type')
            if path != root and self.xattr(path, 'user.pickle.keytype') is None:
                self.fail(path, 'no user.pickle.keytype')
            exp = scalar_bytes(o)
            if os.path.isdir(path):
                if exp is not None and exp != ['GLOBAL']:
                    self.fail(path, 'a directory, expected a file %r'
                              % exp[0][:60])
                    continue
                self.remember(path, o)
                if depth >= self.maxdepth:
                    continue
                stack.extend(self.check_dir(path, o, depth))
            else:
                if exp is None:
                    # objects shown as files: complex, bytes calls
                    self.check_file_any(path)
                    continue
                self.check_file(path, exp)

    def check_file_any(self, path):
        st = os.lstat(path)
        with open(path, 'rb') as f:
            data = f.read()
        if st.st_size != len(data):
            self.fail(path, 'st_size %d but read %d' % (st.st_size,
                                                        len(data)))

    def remember(self, path, o):
        if isinstance(o, (list, dict, set)) or hasattr(o, '__dict__') \
                or (type(o) is tuple and len(o) > 0):
            if id(o) in self.seen:
                prev = self.seen[id(o)]
                # tuples are only memoized by identity when the pickler
                # saw the same object; CPython rebuilds equal tuples too
                if type(o) is not tuple and not isinstance(o, str):
                    self.fail(path, 'a directory, but the object was '
                              'already shown at %s' % prev)
            else:
                self.seen[id(o)] = path
                self.keep.append(o)

    def check_link(self, path, o):
        target = os.readlink(path)
        if target.startswith('/'):
            self.fail(path, 'absolute symlink %s' % target)
            return
        real = os.path.realpath(path)
        if not (real == self.top or real.startswith(self.top + os.sep)):
            self.fail(path, 'symlink leaves the mount: %s' % target)
            return
        if not os.path.isdir(real):
            self.fail(path, 'symlink target is not a directory: %s' % target)
            return
        first = self.seen.get(id(o))
        if first is not None and os.path.realpath(first) != real:
            self.fail(path, 'symlink to %s, expected %s' % (target, first))

    def check_dir(self, path, o, depth):
        listed = os.listdir(path)
        names, kids, unordered = self.expected_entries(o)
        out = []
        if names is None and kids is None and '__raw__' in listed and \
                is_frame(o):
            # a DataFrame or Series: its column files, __index__ and
            # __frame__.csv (checked against pandas by frames.sh), then
            # the object itself under __raw__
            ncols = 1 if o.ndim == 1 else o.shape[1]
            if listed[ncols:] != ['__index__', '__frame__.csv', '__raw__']:
                self.fail(path, 'frame entries %r' % listed[:8])
                return []
            for name in listed[:-1]:
                self.check_file_any(os.path.join(path, name))
            path = os.path.join(path, '__raw__')
            listed = os.listdir(path)
        if names is None and kids is None:
            # any other object: __class__ and attributes
            if '__class__' not in listed:
                self.fail(path, 'object without __class__ (%s)'
                          % type(o).__name__)
            d = pickled_state(o)
            for name in listed:
                p = os.path.join(path, name)
                if isinstance(d, dict) and name in d:
                    out.append((p, d[name], depth + 1))
                else:
                    out.extend(self.walk_unknown(p, depth + 1))
            return out
        if names is not None and listed != names:
            self.fail(path, 'entries %r, expected %r'
                      % (listed[:8], names[:8]))
            return []
        if len(listed) != len(kids):
            self.fail(path, '%d entries, expected %d'
                      % (len(listed), len(kids)))
            return []
        if unordered:
            self.check_unordered(path, listed, kids)
            return []
        if is_ndarray(o):
            return self.check_ndarray(path, o, listed, kids, depth)
        for name, kid in zip(listed, kids):
            out.append((os.path.join(path, name), kid, depth + 1))
        return out

    def check_ndarray(self, path, o, listed, kids, depth):
        def text(name):
            with open(os.path.join(path, name), 'rb') as f:
                return f.read().decode()
        self.count += len(listed)
        dt = text('dtype').rstrip('\n')
        dtype = numpy.dtype(ast.literal_eval(dt) if dt.startswith('[')
                            else dt)
        shape = text('shape').rstrip('\n')
        if shape != repr(o.shape):
            self.fail(path + '/shape', '%s, expected %r' % (shape, o.shape))
        if dtype.newbyteorder('=') != o.dtype.newbyteorder('='):
            self.fail(path + '/dtype', '%s, expected %s' % (dtype, o.dtype))
            return []
        order = 'F' if 'order' in listed else 'C'
        datap = os.path.join(path, 'data')
        if o.dtype.hasobject:
            if 'values.txt' in listed:
                self.check_file_any(os.path.join(path, 'values.txt'))
            return [(datap, kids[listed.index('data')], depth + 1)]
        self.check_file_any(datap)
        with open(datap, 'rb') as f:
            raw = f.read()
        try:
            got = numpy.frombuffer(raw, dtype=dtype).reshape(o.shape,
                                                             order=order)
        except ValueError as e:
            self.fail(datap, 'cannot rebuild the array: %s' % e)
            return []
        if not numpy.array_equal(got, o, equal_nan=o.dtype.kind in 'fc'):
            self.fail(datap, 'array values differ')
        if 'array.npy' in listed:
            npy = os.path.join(path, 'array.npy')
            self.check_file_any(npy)
            back = numpy.load(npy)
            # the byte order is the pickle's; pickle.load may give numpy's
            # native order for it (protocols 2-4), as for dtype above
            if (back.dtype.newbyteorder('=') != o.dtype.newbyteorder('=')
                    or back.shape != o.shape
                    or not numpy.array_equal(back, o,
                                             equal_nan=o.dtype.kind in 'fc')):
                self.fail(npy, 'np.load gives another array')
        if 'values.txt' in listed:
            self.check_file_any(os.path.join(path, 'values.txt'))
        return []

    def check_unordered(self, path, listed, kids):
        remaining = [e for e in (scalar_bytes(k) for k in kids)
                     if e not in (None, ['GLOBAL'])]
        for name in listed:
            p = os.path.join(path, name)
            self.count += 1
            if os.path.islink(p) or os.path.isdir(p):
                continue
            with open(p, 'rb') as f:
                data = f.read()
            for i, alts in enumerate(remaining):
                if data in alts:
                    del remaining[i]
                    break
            else:
                self.fail(p, 'set member %r not in the set' % data[:60])
        if remaining:
            self.fail(path, 'set members missing: %r' % remaining[:3])

    def walk_unknown(self, path, depth):
        """Entries whose Python counterpart is not checked: still every
        file must read with st_size bytes and every link resolve."""
        self.count += 1
        if os.path.islink(path):
            real = os.path.realpath(path)
            if not (real == self.top or real.startswith(self.top + os.sep)):
                self.fail(path, 'symlink leaves the mount')
            return []
        if self.xattr(path, 'user.pickle.type') is None:
            self.fail(path, 'no user.pickle.type')
        if os.path.isdir(path):
            if depth >= self.maxdepth:
                return []
            out = []
            for name in os.listdir(path):
                out.extend(self.walk_unknown(os.path.join(path, name),
                                             depth + 1))
            return out
        self.check_file_any(path)
        return []


def check_one(mounted, pickle_path, maxdepth=200):
    obj, _ = pycheck.load_path(pickle_path)
    c = Checker(mounted, maxdepth)
    try:
        if os.listdir(mounted) == ['__value__'] and \
                scalar_bytes(obj) is not None:
            # a top value shown as a file sits in a one-entry directory
            c.run(os.path.join(mounted, '__value__'), obj)
        else:
            c.run(mounted, obj)
    except OSError as e:
        c.fail(mounted, 'OSError %s' % e)
    return c


def main(argv):
    if len(argv) >= 3 and argv[1] == '--batch':
        total = fails = 0
        with open(argv[2]) as f:
            for line in f:
                line = line.rstrip('\n')
                if not line:
                    continue
                mounted, pk = line.split('\t')[:2]
                try:
                    c = check_one(mounted, pk)
                except Exception as e:  # loading failed: report it
                    print('FAIL %s: checker error %s: %s'
                          % (mounted, type(e).__name__, str(e)[:200]))
                    fails += 1
                    continue
                total += c.count
                if c.failures:
                    fails += 1
        print('checked %d entries, %d failures' % (total, fails))
        return 1 if fails else 0
    mounted, pk = argv[1], argv[2]
    maxdepth = int(argv[3]) if len(argv) > 3 else 200
    c = check_one(mounted, pk, maxdepth)
    print('checked %d entries, %d failures' % (c.count, c.failures))
    return 1 if c.failures else 0


if __name__ == '__main__':
    sys.setrecursionlimit(10000)
    sys.exit(main(sys.argv))
