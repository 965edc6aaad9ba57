#!/usr/bin/env python3
"""pycheck.py - CPython as the oracle for picklefs tests.

Usage:
  pycheck.py equal A B       exit 0 iff A and B load to equal objects
  pycheck.py loads A         exit 0 iff A loads
  pycheck.py sameform A B    exit 0 iff A and B have the same opcode form
                             (opcodes and arguments, ignoring memo and
                             frame bookkeeping: PUT/GET/MEMOIZE/DUP/FRAME)
  pycheck.py vm A            exit 0 iff the non-executing stack machine
                             accepts A; else prints "byte N: why", exit 1
  pycheck.py inert A         exit 0 iff CPython's own unpickler accepts A
                             with everything that would execute neutralised
  pycheck.py dis A OUT       writes to OUT what `python3 -m pickletools A`
                             prints; fails if pickletools cannot disassemble A
                             or the disassembly is over 32 MiB (deep nesting)
  pycheck.py batch           reads commands from stdin, one per line, the
                             words separated by TABs ("equal<TAB>A<TAB>B");
                             prints "ok<TAB>line" or "FAIL<TAB>line<TAB>why"
                             per line; exit 0 iff all were ok

Loading: gzip and bzip2 files are recognised by their magic bytes and
decompressed (concatenated members too).  A pickle is loaded with the
default encoding, and if that fails with a UnicodeDecodeError (Python 2
str data) again with encoding='latin1'; pickles written by dill are loaded
with dill.loads.  tests/fixtures/pymod is put on
sys.path, and test.pickletester is imported when a pickle names it or
__main__ (it registers the classes the CPython tests pickle as __main__.C).
Loading runs in a thread with a 1 GiB stack and a high recursion limit, so
100000-deep structures load, compare and re-pickle; the address space is
capped at $PYCHECK_MEM_GB (default 6) GiB so that corrupt input makes a
MemoryError rather than exhausting the machine.

Equality ("equal"): the two objects are equal if they re-pickle to the same
bytes (pickle protocol 5, or dill for what pickle refuses); otherwise a
structural comparison decides: same types; floats by value with NaN equal
NaN and -0.0 unequal to 0.0; containers element by element (dict key order
included); numpy arrays by dtype, shape, memory order and raw bytes;
pandas objects by .equals(); functions by code, defaults and closure;
other objects by their __reduce_ex__(4) value.  It is recursion- and
sharing-aware: a container met twice on one side must be met twice, at
the same places, on the other side (the pairing of containers is a
bijection), so a lost or extra shared reference is a difference.

The stack machine ("vm") is documented at class PickleVM.
"""

import sys
sys.dont_write_bytecode = True     # keep the source tree free of __pycache__

import bz2
import codecs
import copyreg
import gzip
import io
import math
import os
import pickle
import re
import struct
import sys
import threading
import types

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYMOD = os.path.join(REPO, 'tests', 'fixtures', 'pymod')
if PYMOD not in sys.path:
    sys.path.insert(0, PYMOD)

HIGHEST_PROTOCOL = 5


# ---------------------------------------------------------------- reading

def raw_bytes(path):
    with open(path, 'rb') as f:
        return f.read()


def compression_of(data):
    if data[:2] == b'\x1f\x8b':
        return 'gzip'
    if data[:3] == b'BZh':
        return 'bzip2'
    return None


def decompress(data):
    kind = compression_of(data)
    if kind == 'gzip':
        return gzip.decompress(data)       # handles concatenated members
    if kind == 'bzip2':
        return bz2.decompress(data)        # handles concatenated streams
    return data


def pickle_bytes(path):
    return decompress(raw_bytes(path))


_pickletester_loaded = False


def _prepare(data):
    global _pickletester_loaded
    if not _pickletester_loaded and (b'pickletester' in data or b'__main__' in data):
        try:
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                import test.pickletester  # noqa: F401  registers __main__.C etc.
        except Exception:
            pass
        _pickletester_loaded = True


def load_bytes(data):
    """Returns (object, encoding used).  Raises what pickle raises."""
    _prepare(data)
    loads = pickle.loads
    if b'dill._dill' in data:
        # dill writes __main__ as the global __builtin__.__main__, which only
        # dill's Unpickler resolves
        import dill
        loads = dill.loads
    try:
        return loads(data), 'ASCII'
    except UnicodeDecodeError:
        return loads(data, encoding='latin1'), 'latin1'


def load_path(path):
    return load_bytes(pickle_bytes(path))


# ---------------------------------------------------------------- equality

class Diff(Exception):
    pass


def _repickle(obj):
    try:
        return pickle.dumps(obj, 5)
    except Exception:
        pass
    if 'dill' not in sys.modules:       # only for what dill loaded
        return None
    try:
        return sys.modules['dill'].dumps(obj, 5)
    except Exception:
        return None


class Comparer:
    ATOMS = (type(None), bool, int, str, bytes, type(Ellipsis),
             type(NotImplemented), range, slice)

    def __init__(self):
        self.fwd = {}
        self.rev = {}
        self.keep = []

    def fail(self, path, why):
        raise Diff('%s: %s' % (path or '<top>', why))

    def same_pairing(self, a, b, path):
        """Checks the a<->b pairing; returns True if already compared."""
        ia, ib = id(a), id(b)
        self.keep.append((a, b))
        if ia in self.fwd or ib in self.rev:
            if self.fwd.get(ia) is not b or self.rev.get(ib) is not a:
                self.fail(path, 'shared references differ')
            return True
        self.fwd[ia] = b
        self.rev[ib] = a
        return False

    def eq(self, a, b, path=''):
        if a is b:
            return
        ta, tb = type(a), type(b)
        if ta is not tb:
            self.fail(path, 'type %s != %s' % (ta.__qualname__, tb.__qualname__))
        if ta in self.ATOMS:
            if a != b:
                self.fail(path, '%.80r != %.80r' % (a, b))
            return
        if ta is float:
            self.float_eq(a, b, path)
            return
        if ta is complex:
            self.float_eq(a.real, b.real, path + '.real')
            self.float_eq(a.imag, b.imag, path + '.imag')
            return
        np = sys.modules.get('numpy')
        if np is not None and isinstance(a, np.generic):
            if a.dtype != b.dtype or a.tobytes() != b.tobytes():
                if a.dtype.kind == 'O' or a.dtype.hasobject:
                    self.eq(a.item(), b.item(), path)
                    return
                self.fail(path, 'numpy scalar %r != %r' % (a, b))
            return
        if ta is tuple and len(a) == 0:
            return
        if self.same_pairing(a, b, path):
            return
        if isinstance(a, (list, tuple)):
            if len(a) != len(b):
                self.fail(path, 'length %d != %d' % (len(a), len(b)))
            # iterate instead of recursing along the last element, so that
            # [[[...]]] 100000 deep costs a loop, not recursion
            self.seq_eq(a, b, path)
            self.attrs_eq(a, b, path)
            return
        if isinstance(a, dict):
            self.dict_eq(a, b, path)
            return
        if isinstance(a, (set, frozenset)):
            if len(a) != len(b):
                self.fail(path, 'set size %d != %d' % (len(a), len(b)))
            try:
                same = (a == b)
            except Exception:
                same = False
            if not same:
                self.seq_eq(sorted(a, key=repr), sorted(b, key=repr), path)
            self.attrs_eq(a, b, path)
            return
        if isinstance(a, (bytearray, memoryview)):
            if bytes(a) != bytes(b):
                self.fail(path, 'bytes differ')
            return
        if np is not None and isinstance(a, np.ndarray):
            self.ndarray_eq(a, b, np, path)
            return
        if np is not None and isinstance(a, np.dtype):
            if a != b:
                self.fail(path, 'dtype %r != %r' % (a, b))
            return
        pd = sys.modules.get('pandas')
        if pd is not None and isinstance(a, (pd.DataFrame, pd.Series, pd.Index)):
            if not a.equals(b):
                self.fail(path, 'pandas %s differ' % ta.__name__)
            if isinstance(a, pd.DataFrame):
                self.eq(list(a.columns), list(b.columns), path + '.columns')
                self.eq(list(a.dtypes.astype(str)), list(b.dtypes.astype(str)), path + '.dtypes')
            elif isinstance(a, pd.Series):
                self.eq(a.name, b.name, path + '.name')
                self.eq(str(a.dtype), str(b.dtype), path + '.dtype')
            self.eq(a.index.tolist(), b.index.tolist(), path + '.index')
            return
        if isinstance(a, types.FunctionType):
            self.function_eq(a, b, path)
            return
        if isinstance(a, (type, types.BuiltinFunctionType, types.ModuleType,
                          types.MethodType, types.CodeType)) or ta.__eq__ is not object.__eq__:
            try:
                if a == b:
                    return
            except Exception:
                pass
            if isinstance(a, (type, types.BuiltinFunctionType, types.ModuleType)):
                self.fail(path, '%r != %r' % (a, b))
        self.reduce_eq(a, b, path)

    def float_eq(self, a, b, path):
        if math.isnan(a) and math.isnan(b):
            return
        if a != b or math.copysign(1.0, a) != math.copysign(1.0, b):
            self.fail(path, '%r != %r' % (a, b))

    def seq_eq(self, a, b, path):
        # Deep chains are walked with an explicit stack on the last item.
        work = [(a, b, path)]
        while work:
            x, y, p = work.pop()
            n = len(x)
            for i in range(n - 1):
                self.eq(x[i], y[i], '%s[%d]' % (p, i))
            if n == 0:
                continue
            lx, ly = x[n - 1], y[n - 1]
            lp = '%s[%d]' % (p, n - 1) if len(p) < 200 else p[:60] + '...'
            if (type(lx) is type(ly) and type(lx) in (list, tuple) and lx is not ly
                    and len(lx) == len(ly) and len(lx) > 0):
                if self.same_pairing(lx, ly, lp):
                    continue
                work.append((lx, ly, lp))
            else:
                self.eq(lx, ly, lp)

    def dict_eq(self, a, b, path):
        if len(a) != len(b):
            self.fail(path, 'dict size %d != %d' % (len(a), len(b)))
        ka, kb = list(a.keys()), list(b.keys())
        for i, (x, y) in enumerate(zip(ka, kb)):
            self.eq(x, y, '%s.keys()[%d]' % (path, i))
        for i, (x, y) in enumerate(zip(ka, kb)):
            self.eq(a[x], b[y], '%s[%.40r]' % (path, x))
        if hasattr(a, 'default_factory'):
            self.eq(a.default_factory, b.default_factory, path + '.default_factory')
        self.attrs_eq(a, b, path)

    def attrs_eq(self, a, b, path):
        da = getattr(a, '__dict__', None)
        db = getattr(b, '__dict__', None)
        if da or db:
            self.eq(dict(da or {}), dict(db or {}), path + '.__dict__')
        missing = object()
        for cls in type(a).__mro__:
            slots = cls.__dict__.get('__slots__', ())
            for name in ([slots] if isinstance(slots, str) else slots):
                if name in ('__dict__', '__weakref__'):
                    continue
                self.eq(getattr(a, name, missing) is missing,
                        getattr(b, name, missing) is missing, path + '.' + name)
                if hasattr(a, name):
                    self.eq(getattr(a, name), getattr(b, name), path + '.' + name)

    def ndarray_eq(self, a, b, np, path):
        if a.dtype != b.dtype:
            self.fail(path, 'dtype %r != %r' % (a.dtype, b.dtype))
        if a.shape != b.shape:
            self.fail(path, 'shape %r != %r' % (a.shape, b.shape))
        if a.ndim > 1 and a.flags.f_contiguous != b.flags.f_contiguous:
            self.fail(path, 'memory order differs')
        if a.dtype.hasobject:
            self.seq_eq(list(a.ravel(order='K')), list(b.ravel(order='K')), path + '.flat')
        elif a.tobytes(order='A') != b.tobytes(order='A'):
            self.fail(path, 'array data differ')
        self.attrs_eq(a, b, path)

    def function_eq(self, a, b, path):
        for attr in ('__name__', '__qualname__', '__module__', '__defaults__',
                     '__kwdefaults__', '__dict__', '__annotations__'):
            self.eq(getattr(a, attr, None), getattr(b, attr, None), path + '.' + attr)
        if a.__code__ != b.__code__:
            self.fail(path, 'function code differs')
        ca = [c.cell_contents for c in (a.__closure__ or ())]
        cb = [c.cell_contents for c in (b.__closure__ or ())]
        self.eq(ca, cb, path + '.__closure__')

    def reduce_eq(self, a, b, path):
        try:
            ra = a.__reduce_ex__(4)
            rb = b.__reduce_ex__(4)
        except Exception as e:
            self.fail(path, 'cannot compare %s objects (%s)' % (type(a).__qualname__, e))
        if isinstance(ra, str) or isinstance(rb, str):
            if ra != rb:
                self.fail(path, 'global %r != %r' % (ra, rb))
            return
        ra, rb = list(ra), list(rb)
        for r in (ra, rb):
            for i in (3, 4):
                if len(r) > i and r[i] is not None:
                    r[i] = list(r[i])
        if len(ra) != len(rb):
            self.fail(path, 'reduce values differ in length')
        for i, (x, y) in enumerate(zip(ra, rb)):
            self.eq(x, y, '%s.__reduce__[%d]' % (path, i))


def objects_equal(a, b):
    """Returns None if equal, else a string saying where they differ."""
    pa, pb = _repickle(a), _repickle(b)
    if pa is not None and pa == pb:
        return None
    try:
        Comparer().eq(a, b)
    except Diff as e:
        return str(e)
    except RecursionError:
        return 'recursion too deep to compare'
    return None


# ---------------------------------------------------------------- opcodes

def _opinfo():
    import pickletools
    table = {}
    for op in pickletools.opcodes:
        table[op.code.encode('latin-1')[0]] = op.name
    return table


OPNAMES = _opinfo()


class Refused(Exception):
    def __init__(self, pos, msg):
        Exception.__init__(self, 'byte %d: %s' % (pos, msg))
        self.pos = pos
        self.msg = msg


_STRTOL = re.compile(rb'[ \t\n\v\f\r]*[+-]?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)')
_FLOAT = re.compile(rb'[+-]?(((\d+\.?\d*)|(\.\d+))([eE][+-]?\d+)?|inf|infinity|nan)\Z', re.I)


def _pylong(text, base):
    """PyLong_FromString(text, NULL, base): whitespace around is allowed;
    it reads a C string, so a NUL byte ends the text."""
    text = text.split(b'\0', 1)[0]
    try:
        return int(text.decode('ascii'), base)
    except (ValueError, UnicodeDecodeError):
        return None


class OpReader:
    """Reads opcodes and their arguments the way CPython's C unpickler
    (Modules/_pickle.c, 3.11) does, without executing anything.  Yields
    (pos, name, arg).  Raises Refused for what CPython refuses while
    reading: unknown opcode, truncation, malformed text arguments (INT,
    LONG, FLOAT, GET/PUT keys), bad STRING quoting or escapes, bad
    UNICODE escapes, invalid UTF-8 in BINUNICODE*, GLOBAL/INST names and
    non-ASCII PERSID ids, negative BINSTRING/LONG4 sizes, sizes beyond
    2**63-1, FRAME longer than the rest of the data, PROTO above 5,
    EXT codes <= 0."""

    def __init__(self, data):
        self.data = bytes(data)
        self.i = 0

    def read(self, n, pos):
        if n < 0 or self.i + n > len(self.data):
            raise Refused(pos, 'pickle data was truncated')
        s = self.data[self.i:self.i + n]
        self.i += n
        return s

    def line(self, pos):
        j = self.data.find(b'\n', self.i)
        if j < 0:
            raise Refused(pos, 'pickle data was truncated (no newline)')
        s = self.data[self.i:j + 1]
        self.i = j + 1
        return s          # with the newline, like _Unpickler_Readline

    def u(self, n, pos):
        return int.from_bytes(self.read(n, pos), 'little', signed=False)

    def s32(self, pos):
        return int.from_bytes(self.read(4, pos), 'little', signed=True)

    def size8(self, pos, what):
        n = self.u(8, pos)
        if n > 2 ** 63 - 1:
            raise Refused(pos, '%s size exceeds the maximum' % what)
        return n

    def utf8(self, b, pos, what):
        try:
            return b.decode('utf-8', 'surrogatepass')
        except UnicodeDecodeError as e:
            raise Refused(pos, '%s is not valid UTF-8 (%s)' % (what, e.reason))

    def int_line(self, pos):
        s = self.line(pos)
        if len(s) < 2:
            raise Refused(pos, 'pickle data was truncated (empty INT)')
        # strtol(s, &end, 0); with no digits at all, end is s itself
        m = _STRTOL.match(s)
        end, x = (m.end(), None) if m else (0, 0)
        if s[end:end + 1] in (b'\n', b'\0'):
            if m:
                txt = m.group(0).strip()
                try:
                    x = int(txt, 0) if not re.match(rb'[+-]?0[0-7]+\Z', txt) else int(txt, 8)
                except ValueError:
                    x = None
            if x is not None and -2 ** 63 <= x < 2 ** 63:
                if len(s) == 3 and x in (0, 1):
                    return bool(x)
                return x
        x = _pylong(s, 0)
        if x is None:
            raise Refused(pos, 'could not convert string to int')
        return x

    def ops(self):
        data = self.data
        while True:
            pos = self.i
            if pos >= len(data):
                raise Refused(pos, 'pickle data was truncated (no STOP)')
            code = data[pos]
            self.i += 1
            name = OPNAMES.get(code)
            if name is None:
                raise Refused(pos, 'unknown opcode 0x%02x' % code)
            arg = None
            if name in ('INT',):
                arg = self.int_line(pos)
            elif name == 'LONG':
                s = self.line(pos)
                if len(s) < 2:
                    raise Refused(pos, 'pickle data was truncated (empty LONG)')
                t = s[:-1]
                if t.endswith(b'L'):
                    t = t[:-1]
                arg = _pylong(t, 0)
                if arg is None:
                    raise Refused(pos, 'could not convert LONG argument')
            elif name == 'FLOAT':
                s = self.line(pos)
                if len(s) < 2:
                    raise Refused(pos, 'pickle data was truncated (empty FLOAT)')
                t = s[:-1].split(b'\0', 1)[0]
                if not _FLOAT.match(t):
                    raise Refused(pos, 'could not convert string to float')
                arg = float(t)
                if math.isinf(arg) and b'inf' not in t.lower():
                    raise Refused(pos, 'FLOAT out of range')
            elif name in ('BININT', 'EXT4'):
                arg = self.s32(pos)
            elif name in ('BININT1', 'BINGET', 'BINPUT', 'EXT1', 'PROTO'):
                arg = self.u(1, pos)
            elif name in ('BININT2', 'EXT2'):
                arg = self.u(2, pos)
            elif name in ('LONG_BINGET', 'LONG_BINPUT'):
                arg = self.u(4, pos)
            elif name == 'LONG1':
                n = self.u(1, pos)
                arg = int.from_bytes(self.read(n, pos), 'little', signed=True)
            elif name == 'LONG4':
                n = self.s32(pos)
                if n < 0:
                    raise Refused(pos, 'LONG pickle has negative byte count')
                arg = int.from_bytes(self.read(n, pos), 'little', signed=True)
            elif name == 'STRING':
                s = self.line(pos)[:-1]
                if len(s) >= 2 and s[0] == s[-1] and s[:1] in (b"'", b'"'):
                    s = s[1:-1]
                else:
                    raise Refused(pos, 'the STRING opcode argument must be quoted')
                try:
                    arg = codecs.escape_decode(s)[0]
                except ValueError as e:
                    raise Refused(pos, 'bad STRING escape (%s)' % e)
            elif name == 'BINSTRING':
                n = self.s32(pos)
                if n < 0:
                    raise Refused(pos, 'BINSTRING pickle has negative byte count')
                arg = self.read(n, pos)
            elif name == 'SHORT_BINSTRING':
                arg = self.read(self.u(1, pos), pos)
            elif name == 'BINBYTES':
                arg = self.read(self.u(4, pos), pos)
            elif name == 'SHORT_BINBYTES':
                arg = self.read(self.u(1, pos), pos)
            elif name in ('BINBYTES8', 'BYTEARRAY8'):
                arg = self.read(self.size8(pos, name), pos)
            elif name == 'UNICODE':
                s = self.line(pos)[:-1]
                try:
                    arg = codecs.raw_unicode_escape_decode(s)[0]
                except UnicodeDecodeError as e:
                    raise Refused(pos, 'bad UNICODE escape (%s)' % e.reason)
            elif name == 'BINUNICODE':
                arg = self.utf8(self.read(self.u(4, pos), pos), pos, name)
            elif name == 'SHORT_BINUNICODE':
                arg = self.utf8(self.read(self.u(1, pos), pos), pos, name)
            elif name == 'BINUNICODE8':
                arg = self.utf8(self.read(self.size8(pos, name), pos), pos, name)
            elif name == 'BINFLOAT':
                arg = struct.unpack('>d', self.read(8, pos))[0]
            elif name in ('GLOBAL', 'INST'):
                parts = []
                for what in ('module', 'name'):
                    s = self.line(pos)
                    if len(s) < 2:
                        raise Refused(pos, 'pickle data was truncated (empty %s %s)' % (name, what))
                    parts.append(self.utf8(s[:-1], pos, '%s %s' % (name, what)))
                arg = tuple(parts)
            elif name in ('GET', 'PUT'):
                s = self.line(pos)
                if len(s) < 2:
                    raise Refused(pos, 'pickle data was truncated (empty %s)' % name)
                arg = _pylong(s, 10)
                if arg is None:
                    raise Refused(pos, 'bad %s key' % name)
            elif name == 'PERSID':
                s = self.line(pos)
                try:
                    arg = s[:-1].decode('ascii')
                except UnicodeDecodeError:
                    raise Refused(pos, 'persistent IDs in protocol 0 must be ASCII strings')
            elif name == 'FRAME':
                n = self.size8(pos, name)
                if self.i + n > len(data):
                    raise Refused(pos, 'FRAME is longer than the data that follows')
                arg = n
            if name == 'PROTO' and arg > HIGHEST_PROTOCOL:
                raise Refused(pos, 'unsupported pickle protocol: %d' % arg)
            if name in ('EXT1', 'EXT2', 'EXT4') and arg <= 0:
                raise Refused(pos, 'EXT specifies code <= 0')
            yield pos, name, arg
            if name == 'STOP':
                return


MARK = object()
OPAQUE = 'opaque'          # the kind of anything made by executing
MEMO_OPS = {'PUT', 'BINPUT', 'LONG_BINPUT', 'MEMOIZE', 'GET', 'BINGET',
            'LONG_BINGET', 'DUP', 'FRAME'}


class PickleVM:
    """The non-executing stack machine that defines "structural".

    It reads opcodes with OpReader and keeps a stack of value kinds, a mark
    stack and a memo exactly like CPython's C unpickler, but never imports
    or calls anything: GLOBAL, STACK_GLOBAL, EXT*, REDUCE, NEWOBJ(_EX), INST,
    OBJ, BUILD, PERSID/BINPERSID, NEXT_BUFFER and READONLY_BUFFER produce an
    opaque value; APPEND/SETITEM/ADDITEMS/BUILD accept any target.  An input
    is refused (structural) if, besides what OpReader refuses:
      - an opcode needs more stack items than there are above the topmost
        mark (CPython's "fence"), or needs a mark that is not there;
      - DICT/SETITEMS get an odd number of items;
      - GET names a memo key never stored, PUT a negative one;
      - STACK_GLOBAL's operands are values known not to be strings;
      - the data ends before STOP.
    Everything after STOP is ignored, as CPython does.  What it accepts can
    still fail in CPython when executed (find_class, a call, a type error
    on a value, missing persistent_load/buffers, unregistered EXT code,
    encoding): that is "semantic"."""

    def __init__(self, data):
        self.data = data

    def run(self):
        """Returns (end offset, ops list); raises Refused."""
        stack, marks, memo = [], [], {}
        ops = []

        def fence():
            return marks[-1] if marks else 0

        def need(n, pos, name):
            if len(stack) - n < fence():
                raise Refused(pos, 'stack underflow at %s' % name)

        def pop_mark(pos, name):
            if not marks:
                raise Refused(pos, 'could not find MARK for %s' % name)
            return marks.pop()

        for pos, name, arg in OpReader(self.data).ops():
            ops.append((pos, name, arg))
            if name in ('NONE', 'NEWTRUE', 'NEWFALSE', 'INT', 'BININT', 'BININT1',
                        'BININT2', 'LONG', 'LONG1', 'LONG4', 'FLOAT', 'BINFLOAT',
                        'BINBYTES', 'SHORT_BINBYTES', 'BINBYTES8', 'BYTEARRAY8',
                        'EMPTY_LIST', 'EMPTY_DICT', 'EMPTY_TUPLE', 'EMPTY_SET'):
                stack.append(name)
            elif name in ('STRING', 'BINSTRING', 'SHORT_BINSTRING', 'UNICODE',
                          'BINUNICODE', 'SHORT_BINUNICODE', 'BINUNICODE8'):
                stack.append('str')
            elif name in ('GLOBAL', 'EXT1', 'EXT2', 'EXT4', 'PERSID', 'NEXT_BUFFER'):
                stack.append(OPAQUE)
            elif name in ('PROTO', 'FRAME'):
                pass
            elif name == 'MARK':
                marks.append(len(stack))
            elif name == 'STOP':
                need(1, pos, name)
                return pos + 1, ops
            elif name == 'POP':
                if marks and marks[-1] == len(stack):
                    marks.pop()
                else:
                    need(1, pos, name)
                    stack.pop()
            elif name == 'POP_MARK':
                del stack[pop_mark(pos, name):]
            elif name == 'DUP':
                need(1, pos, name)
                stack.append(stack[-1])
            elif name in ('TUPLE', 'LIST', 'FROZENSET'):
                del stack[pop_mark(pos, name):]
                stack.append(name)
            elif name == 'DICT':
                m = pop_mark(pos, name)
                if (len(stack) - m) % 2:
                    raise Refused(pos, 'odd number of items for DICT')
                del stack[m:]
                stack.append(name)
            elif name in ('TUPLE1', 'TUPLE2', 'TUPLE3'):
                n = int(name[-1])
                need(n, pos, name)
                del stack[len(stack) - n:]
                stack.append('TUPLE')
            elif name == 'APPEND':
                need(2, pos, name)
                stack.pop()
            elif name == 'SETITEM':
                need(3, pos, name)
                del stack[-2:]
            elif name in ('APPENDS', 'SETITEMS', 'ADDITEMS'):
                m = pop_mark(pos, name)
                if m <= fence():
                    raise Refused(pos, 'stack underflow at %s (no target below MARK)' % name)
                if name == 'SETITEMS' and (len(stack) - m) % 2:
                    raise Refused(pos, 'odd number of items for SETITEMS')
                del stack[m:]
            elif name == 'BUILD':
                need(2, pos, name)
                stack.pop()
                stack[-1] = OPAQUE
            elif name in ('REDUCE', 'NEWOBJ'):
                need(2, pos, name)
                del stack[-2:]
                stack.append(OPAQUE)
            elif name == 'NEWOBJ_EX':
                need(3, pos, name)
                del stack[-3:]
                stack.append(OPAQUE)
            elif name == 'STACK_GLOBAL':
                need(2, pos, name)
                if any(k not in ('str', OPAQUE) for k in stack[-2:]):
                    raise Refused(pos, 'STACK_GLOBAL requires str')
                del stack[-2:]
                stack.append(OPAQUE)
            elif name == 'INST':
                del stack[pop_mark(pos, name):]
                stack.append(OPAQUE)
            elif name == 'OBJ':
                m = pop_mark(pos, name)
                if len(stack) - m < 1:
                    raise Refused(pos, 'stack underflow at OBJ (no class after MARK)')
                del stack[m:]
                stack.append(OPAQUE)
            elif name in ('BINPERSID', 'READONLY_BUFFER'):
                need(1, pos, name)
                stack[-1] = OPAQUE
            elif name in ('PUT', 'BINPUT', 'LONG_BINPUT', 'MEMOIZE'):
                need(1, pos, name)
                key = len(memo) if name == 'MEMOIZE' else arg
                if key < 0:
                    raise Refused(pos, 'negative PUT argument')
                memo[key] = stack[-1]
            elif name in ('GET', 'BINGET', 'LONG_BINGET'):
                if arg not in memo:
                    raise Refused(pos, 'memo value not found at index %s' % arg)
                stack.append(memo[arg])
            else:                                   # pragma: no cover
                raise Refused(pos, 'opcode %s not handled' % name)
        raise Refused(len(self.data), 'pickle data was truncated (no STOP)')


def vm_check(data):
    """Returns None if the VM accepts data, else the Refused exception."""
    try:
        PickleVM(data).run()
    except Refused as e:
        return e
    return None


def form(data):
    """The opcode form: (name, arg) for every opcode up to STOP except memo
    and frame bookkeeping."""
    try:
        _, ops = PickleVM(data).run()
    except Refused:
        ops = []
        try:
            for op in OpReader(data).ops():
                ops.append(op)
        except Refused:
            pass
    return [(name, arg) for _, name, arg in ops if name not in MEMO_OPS]


# ------------------------------------------------- CPython, neutralised

class Inert:
    """Stands for every class or function a pickle names: accepts any
    arguments and any state, and acts as a list, dict and set."""

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        pass

    def __call__(self, *args, **kwargs):
        return Inert()

    def append(self, x):
        pass

    def extend(self, xs):
        for _ in xs:
            pass

    def add(self, x):
        pass

    def __setitem__(self, k, v):
        pass


class InertUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        return Inert

    def persistent_load(self, pid):
        return Inert()


def inert_load(data):
    """Loads data with CPython's C unpickler with execution neutralised:
    every global is Inert, persistent ids and out-of-band buffers are
    supplied, extension codes are registered, encoding is latin1.
    Returns None on success, else the exception."""
    import itertools
    codes = []
    try:
        for _, name, arg in OpReader(data).ops():
            if name in ('EXT1', 'EXT2', 'EXT4') and arg not in copyreg._inverted_registry:
                codes.append(arg)
    except Refused:
        pass
    for c in codes:
        copyreg.add_extension('inert_ext', 'c%d' % c, c)
    try:
        InertUnpickler(io.BytesIO(data), encoding='latin1',
                       buffers=itertools.repeat(b'')).load()
    except BaseException as e:            # noqa: B902 - we report anything
        if isinstance(e, KeyboardInterrupt):
            raise
        return e
    finally:
        for c in codes:
            copyreg.remove_extension('inert_ext', 'c%d' % c, c)
    return None


# ---------------------------------------------------------------- commands

def cmd_equal(a, b):
    oa, _ = load_path(a)
    ob, _ = load_path(b)
    why = objects_equal(oa, ob)
    return why


def cmd_loads(a):
    load_path(a)
    return None


def cmd_sameform(a, b):
    fa, fb = form(pickle_bytes(a)), form(pickle_bytes(b))
    if fa == fb:
        return None
    for i, (x, y) in enumerate(zip(fa, fb)):
        if x != y:
            return 'opcode %d differs: %.100r != %.100r' % (i, x, y)
    return 'different number of opcodes: %d != %d' % (len(fa), len(fb))


def cmd_vm(a):
    e = vm_check(pickle_bytes(a))
    return None if e is None else str(e)


def cmd_inert(a):
    e = inert_load(pickle_bytes(a))
    return None if e is None else '%s: %s' % (type(e).__name__, e)


DIS_LIMIT = 32 << 20      # deep MARK nesting makes pickletools' output quadratic


class _TooLong(Exception):
    pass


class _CappedText(io.StringIO):
    def __init__(self, limit):
        io.StringIO.__init__(self)
        self.left = limit

    def write(self, s):
        self.left -= len(s)
        if self.left < 0:
            raise _TooLong()
        return io.StringIO.write(self, s)


def cmd_dis(a, out):
    """Writes to OUT what `python3 -m pickletools A` prints on stdout (UTF-8),
    if pickletools can disassemble A; otherwise fails and writes nothing."""
    import pickletools
    buf = _CappedText(DIS_LIMIT)
    with open(a, 'rb') as f:
        try:
            pickletools.dis(f, buf, None, 4, 0)
        except _TooLong:
            return 'the disassembly is longer than %d characters' % DIS_LIMIT
        except Exception as e:
            return 'pickletools cannot disassemble it: %s: %s' % (type(e).__name__, e)
    with open(out, 'wb') as f:
        f.write(buf.getvalue().encode('utf-8', 'surrogateescape'))
    return None


COMMANDS = {'equal': (cmd_equal, 2), 'loads': (cmd_loads, 1), 'dis': (cmd_dis, 2),
            'sameform': (cmd_sameform, 2), 'vm': (cmd_vm, 1),
            'inert': (cmd_inert, 1)}


def run_one(words):
    if not words or words[0] not in COMMANDS:
        return 'unknown command %r' % (words[:1],)
    fn, nargs = COMMANDS[words[0]]
    if len(words) != nargs + 1:
        return 'usage: %s takes %d file(s)' % (words[0], nargs)
    try:
        return fn(*words[1:])
    except Exception as e:
        return '%s: %s' % (type(e).__name__, str(e)[:300])


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    if argv[1] == 'batch':
        bad = 0
        out = sys.stdout
        for line in sys.stdin:
            line = line.rstrip('\n')
            if not line:
                continue
            why = run_one(line.split('\t'))
            if why is None:
                out.write('ok\t%s\n' % line)
            else:
                bad += 1
                out.write('FAIL\t%s\t%s\n' % (line, why.replace('\n', ' ')))
            out.flush()
        return 1 if bad else 0
    if argv[1] not in COMMANDS:
        sys.stderr.write(__doc__)
        return 2
    why = run_one(argv[1:])
    if why is None:
        return 0
    sys.stderr.write('%s: %s\n' % (argv[1], why))
    return 1


def limit_memory():
    """Caps the address space (PYCHECK_MEM_GB, default 6) so that a corrupt
    pickle asking CPython for 30 GB gets a MemoryError, not the OOM killer."""
    try:
        import resource
        gb = float(os.environ.get('PYCHECK_MEM_GB', '6'))
        if gb > 0:
            lim = int(gb * (1 << 30))
            soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            if hard != resource.RLIM_INFINITY:
                lim = min(lim, hard)
            resource.setrlimit(resource.RLIMIT_AS, (lim, hard))
    except (ImportError, ValueError, OSError):
        pass


def run_big(fn, *args):
    """Runs fn in a thread with a big stack (deep pickles, deep compare)."""
    limit_memory()
    sys.setrecursionlimit(int(os.environ.get('PYCHECK_RECURSION', '2500000')))
    threading.stack_size(1 << 30)
    result = []

    def target():
        try:
            result.append(fn(*args))
        except SystemExit as e:
            result.append(e.code)
        except BaseException:
            import traceback
            traceback.print_exc()
            result.append(3)

    t = threading.Thread(target=target)
    t.start()
    t.join()
    return result[0] if result else 3


if __name__ == '__main__':
    rc = run_big(main, sys.argv)
    sys.stdout.flush()
    os._exit(rc if isinstance(rc, int) else 1)
