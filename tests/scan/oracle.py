#!/usr/bin/env python3
"""tests/scan/oracle.py - a symbolic pickle machine that checks the hostile
corpus, and a stand-in `pickletool scan` to test run.sh with.

It never imports or calls anything a pickle names: it walks the opcodes
(pickletools.genops, which only parses) on a symbolic stack and memo, with
CPython's rules (MEMOIZE stores at len(memo), POP_MARK, DUP, protocol 4
dotted names, fix_imports for protocol < 3 GLOBALs), and records each
global named and each call made (REDUCE, INST, OBJ, NEWOBJ, NEWOBJ_EX).
It follows what the scanner is asked to follow: several pickles in a
file, joblib's raw array bytes after a NumpyArrayWrapper BUILD, pickle.loads
of a bytes argument, zip members (read from the central directory, CRC and
flags ignored), tar members.

    oracle.py check OUTDIR        every MANIFEST.tsv line holds (exit 0/1)
    oracle.py scan [--json] [--strict] PATH...
                                  findings in run.sh's output contract;
                                  exit 1 dangerous, 3 suspicious with
                                  --strict, else 0 (only for testing run.sh:
                                  its safe list is just the corpus's CLEAN
                                  globals)
"""

import io
import json
import os
import pickletools
import struct
import sys
import tarfile
import zlib

SAFE = {
    "builtins.dict", "builtins.list", "builtins.set", "builtins.frozenset",
    "builtins.bytearray", "collections.OrderedDict", "copyreg._reconstructor",
    "datetime.datetime", "_codecs.encode", "numpy.core.multiarray._reconstruct",
    "numpy.ndarray", "numpy.dtype", "joblib.numpy_pickle.NumpyArrayWrapper",
    "types.SimpleNamespace", "bdb.Bdb", "functools.partial",
}
# pickle.py's _compat_pickle.IMPORT_MAPPING, the part the corpus uses.
FIX_IMPORTS = {"__builtin__": "builtins", "copy_reg": "copyreg"}


class G:  # a global
    def __init__(self, mod, name):
        self.q = "%s.%s" % (mod, name)

    def __repr__(self):
        return self.q


class Obj:  # the result of a call, or an extension
    def __init__(self, what, args=()):
        self.what, self.args = what, args

    def __repr__(self):
        return "<%s(...)>" % (self.what,)


class Mark:
    pass


def run_pickle(data, start, found, where, depth=0, state=None):
    """Walks one pickle from data[start]; appends (where, pos, kind, name,
    args) to found.  Returns the offset after STOP, or None when it stopped
    on an error (the rest cannot be read)."""
    stack, memo, metastack, proto = state or ([], {}, [], 0)
    pos = start
    f = io.BytesIO(data)
    f.seek(start)
    try:
        for op, arg, pos in pickletools.genops(f):
            n = op.name
            if n == "PROTO":
                proto = arg
            elif n in ("FRAME",):
                pass
            elif n == "STOP":
                return f.tell()
            elif n == "MARK":
                metastack.append(stack)
                stack = []
            elif n == "POP":
                if stack:
                    stack.pop()
                else:
                    stack = metastack.pop()
            elif n == "POP_MARK":
                stack = metastack.pop()
            elif n == "DUP":
                stack.append(stack[-1])
            elif n in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[int(arg)] = stack[-1]
            elif n == "MEMOIZE":
                memo[len(memo)] = stack[-1]
            elif n in ("GET", "BINGET", "LONG_BINGET"):
                stack.append(memo[int(arg)])  # KeyError: CPython stops here too
            elif n in ("EMPTY_TUPLE",):
                stack.append(())
            elif n in ("EMPTY_LIST",):
                stack.append([])
            elif n in ("EMPTY_DICT",):
                stack.append({})
            elif n == "EMPTY_SET":
                stack.append(set())
            elif n in ("TUPLE1", "TUPLE2", "TUPLE3"):
                k = int(n[-1])
                if len(stack) < k:
                    raise IndexError("stack underflow")
                t = tuple(stack[-k:])
                del stack[-k:]
                stack.append(t)
            elif n in ("TUPLE", "LIST", "DICT", "FROZENSET"):
                items = stack
                stack = metastack.pop()
                if n == "TUPLE":
                    stack.append(tuple(items))
                elif n == "LIST":
                    stack.append(list(items))
                elif n == "FROZENSET":
                    stack.append(("frozenset", tuple(items)))
                else:
                    stack.append({_key(items[i]): items[i + 1] for i in range(0, len(items), 2)})
            elif n == "APPEND":
                v = stack.pop()
                _append(stack[-1], [v])
            elif n == "APPENDS":
                items = stack
                stack = metastack.pop()
                _append(stack[-1], items)
            elif n == "ADDITEMS":
                stack = metastack.pop()
            elif n == "SETITEM":
                v = stack.pop()
                k = stack.pop()
                if isinstance(stack[-1], dict):
                    stack[-1][_key(k)] = v
            elif n == "SETITEMS":
                items = stack
                stack = metastack.pop()
                if isinstance(stack[-1], dict):
                    for i in range(0, len(items), 2):
                        stack[-1][_key(items[i])] = items[i + 1]
            elif n == "GLOBAL":
                mod, name = arg.split(" ", 1)
                if proto < 3:
                    mod = FIX_IMPORTS.get(mod, mod)
                g = G(mod, name)
                found.append((where, pos, "global", g.q, None))
                stack.append(g)
            elif n == "STACK_GLOBAL":
                name = stack.pop()
                mod = stack.pop()
                if not (isinstance(mod, str) and isinstance(name, str)):
                    raise ValueError("STACK_GLOBAL needs two str")
                g = G(mod, name)
                found.append((where, pos, "global", g.q, None))
                stack.append(g)
            elif n in ("EXT1", "EXT2", "EXT4"):
                g = G("ext", str(arg))
                g.q = "ext:%d" % arg
                found.append((where, pos, "ext", g.q, None))
                stack.append(g)
            elif n == "REDUCE":
                args = stack.pop()
                fn = stack.pop()
                stack.append(_call(fn, args, None, data, pos, found, where, depth))
            elif n == "NEWOBJ":
                args = stack.pop()
                cls = stack.pop()
                stack.append(_call(cls, args, None, data, pos, found, where, depth))
            elif n == "NEWOBJ_EX":
                kw = stack.pop()
                args = stack.pop()
                cls = stack.pop()
                stack.append(_call(cls, args, kw, data, pos, found, where, depth))
            elif n == "INST":
                mod, name = arg.split(" ", 1)
                if proto < 3:
                    mod = FIX_IMPORTS.get(mod, mod)
                g = G(mod, name)
                found.append((where, pos, "global", g.q, None))
                args = tuple(stack)
                stack = metastack.pop()
                stack.append(_call(g, args, None, data, pos, found, where, depth))
            elif n == "OBJ":
                items = stack
                stack = metastack.pop()
                stack.append(_call(items[0], tuple(items[1:]), None, data, pos, found, where,
                                   depth))
            elif n == "BUILD":
                stack.pop()
                target = stack[-1]
                if (isinstance(target, Obj) and isinstance(target.what, G)
                        and target.what.q == "joblib.numpy_pickle.NumpyArrayWrapper"):
                    # joblib: padding byte, padding, raw array; then the pickle goes on.
                    at = f.tell()
                    pad = data[at]
                    nbytes = 32  # the corpus's arrays: 4 float64
                    return run_pickle(data, at + 1 + pad + nbytes, found, where, depth,
                                      (stack, memo, metastack, proto))
            elif n in ("PERSID", "BINPERSID"):
                if n == "BINPERSID":
                    stack.pop()
                stack.append(Obj("persistent"))
            elif n == "NEXT_BUFFER":
                stack.append(Obj("buffer"))
            elif n == "READONLY_BUFFER":
                pass
            else:  # a literal
                stack.append(arg)
    except Exception as e:  # noqa: BLE001 - anything CPython would stop on
        found.append((where, pos, "error", "%s: %s" % (type(e).__name__, e), None))
        return None
    return None


def _key(k):
    try:
        hash(k)
        return k
    except TypeError:
        return repr(k)


def _append(target, items):
    if isinstance(target, list):
        target.extend(items)


def _call(fn, args, kw, data, pos, found, where, depth):
    name = fn.q if isinstance(fn, G) else repr(fn)
    found.append((where, pos, "call", name, args))
    if (isinstance(fn, G) and fn.q in ("pickle.loads", "_pickle.loads")
            and isinstance(args, tuple) and args and isinstance(args[0], (bytes, bytearray))
            and depth < 8):
        walk_pickles(bytes(args[0]), found, "%s@%d" % (where, pos), depth + 1)
    if isinstance(fn, G) and fn.q == "functools.partial" and isinstance(args, tuple) and args \
            and isinstance(args[0], G):
        found.append((where, pos, "call", args[0].q, args[1:]))
    return Obj(fn, args)


def walk_pickles(data, found, where, depth=0):
    at = 0
    while at is not None and at < len(data):
        at = run_pickle(data, at, found, where, depth)


def zip_members(data):
    """(name, bytes) of stored members, by the central directory (CRC, flags
    and the local header's name ignored, as a lenient reader does)."""
    e = data.rfind(b"PK\x05\x06")
    if e < 0:
        return []
    n, cd_len, cd_off = struct.unpack("<HII", data[e + 10:e + 20])
    out, p = [], cd_off
    for _ in range(n):
        (sig, _vm, _vn, _fl, meth, _t, _d, _crc, csize, _usize, nlen, xlen, clen, _dn, _ia,
         _ea, off) = struct.unpack("<IHHHHHHIIIHHHHHII", data[p:p + 46])
        name = data[p + 46:p + 46 + nlen].decode("utf-8", "replace")
        p += 46 + nlen + xlen + clen
        lnlen, lxlen = struct.unpack("<HH", data[off + 26:off + 30])
        start = off + 30 + lnlen + lxlen
        body = data[start:start + csize]
        if meth == 8:
            body = zlib.decompress(body, -15)
        out.append((name, body))
    return out


def scan_bytes(data, label, found, depth=0):
    if data[:4] == b"PK\x03\x04":
        for name, body in zip_members(data):
            scan_bytes(body, "%s/%s" % (label, name), found, depth + 1)
        return
    if data[:2] == b"\x1f\x8b" or data[257:262] == b"ustar":
        try:
            with tarfile.open(fileobj=io.BytesIO(data)) as t:
                for m in t.getmembers():
                    if m.isfile():
                        scan_bytes(t.extractfile(m).read(), "%s/%s" % (label, m.name), found,
                                   depth + 1)
            return
        except tarfile.TarError:
            pass
    walk_pickles(data, found, label, depth)


def classify(kind, name):
    if kind == "error":
        return None
    if kind == "ext" or name.startswith("ext:"):
        return "suspicious"  # CPython stops at an unregistered code
    return None if name in SAFE else "dangerous"


def scan_path(path):
    found = []
    with open(path, "rb") as f:
        scan_bytes(f.read(), path, found)
    return found


def check(outdir):
    bad = 0
    rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(outdir, "MANIFEST.tsv"))]
    cache = {}
    for fname, expect, desc, kind in rows:
        if fname not in cache:
            cache[fname] = scan_path(os.path.join(outdir, fname))
        found = cache[fname]
        names = {(classify(k, n), n) for _w, _p, k, n, _a in found}
        if kind == "CLEAN":
            flagged = sorted(n for c, n in names if c)
            ok = not flagged
            why = "flagged %s" % flagged
        else:
            want = kind.lower()
            ok = (want, expect) in names
            why = "found %s" % sorted(n for c, n in names if c)
        print("%s %s %s %s%s" % ("ok  " if ok else "FAIL", fname, kind, expect,
                                 "" if ok else "  (" + why + ")"))
        bad += not ok
    print("oracle: %d of %d manifest lines hold" % (len(rows) - bad, len(rows)))
    return 1 if bad else 0


def scan_main(argv):
    as_json = "--json" in argv
    strict = "--strict" in argv
    paths = [a for a in argv if not a.startswith("--")]
    files = []
    for p in paths:
        if os.path.isdir(p):
            for root, _d, fs in os.walk(p):
                files += [os.path.join(root, x) for x in sorted(fs) if x != "MANIFEST.tsv"]
        else:
            files.append(p)
    findings = []
    for p in files:
        for where, pos, kind, name, args in scan_path(p):
            c = classify(kind, name)
            if c:
                findings.append({"file": where, "byte": pos, "class": c,
                                 "kind": "call" if kind == "call" else "global",
                                 "global": name, "args": repr(args) if args is not None else None})
    nd = sum(f["class"] == "dangerous" for f in findings)
    ns = sum(f["class"] == "suspicious" for f in findings)
    if as_json:
        print(json.dumps({"findings": findings, "dangerous": nd, "suspicious": ns}, indent=1))
    else:
        for f in findings:
            print("%s: byte %d: %s %s %s%s at %s" % (f["file"], f["byte"], f["class"], f["kind"],
                                                   f["global"],
                                                   " " + f["args"] if f["args"] else "", "/"))
        print("%d files: %d dangerous, %d suspicious" % (len(files), nd, ns))
    return 1 if nd else (3 if ns and strict else 0)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2]))
    if len(sys.argv) >= 2 and sys.argv[1] == "scan":
        sys.exit(scan_main(sys.argv[2:]))
    sys.exit("usage: oracle.py check OUTDIR | oracle.py scan [--json] [--strict] PATH...")
