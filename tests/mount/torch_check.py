#!/usr/bin/python3
"""torch_check.py - checks a mounted PyTorch checkpoint against what real
torch loaded from it (tests/fixtures/torch/expected.json, made by
scripts/make-torch-fixtures.py). Needs only Python 3 and numpy: no torch.

  torch_check.py EXPECTED_JSON FIXTURE_NAME MOUNTED_ROOT
  torch_check.py --scalars [--types int,float] EXPECTED_JSON FIXTURE_NAME MOUNTED_ROOT
  torch_check.py --make-fake DIR EXPECTED_JSON [FIXTURE_NAME] [--corrupt]
  torch_check.py --self-test EXPECTED_JSON

FIXTURE_NAME is a key of expected.json's "fixtures" ("state_dict.pt",
"nested/checkpoint.pt"; the ".pt" may be left off). MOUNTED_ROOT is the
directory the mount shows for that file's top object.

Each tensor is looked up by its key path (dict keys and list indices as
directory names) and its directory must hold:
  dtype       torch's name and a newline: "float32\\n", "bfloat16\\n"
  shape       repr of a tuple of ints and a newline: "(2, 3)\\n", "(3,)\\n",
              "()\\n"
  stride      the same form, in elements
  data        the values in logical C order, contiguous, little-endian,
              in the tensor's own dtype (bytes_hex)
  values.txt  (not for bfloat16, where it is checked only if present)
              one line per last-axis row, numbers separated by blanks or
              commas; each must round to the stored value in the tensor's
              dtype (so shortest float32 digits are fine); bool as
              True/False/true/false/1/0; complex as Python writes it
  array.npy   (not for bfloat16) np.load gives numpy_dtype, shape and the
              same bytes
With --scalars, each entry of "scalars" must be a file holding its Python
repr and a newline ("3\\n", "0.25\\n"); --types limits them to some types
(the names in expected.json: int, float, bool, NoneType, str).

Prints "ok NAME PATH WHAT" or "FAIL NAME PATH WHAT: detail" per check and
exits 1 if any failed (2 on a usage error). Nothing the mount does should
give a traceback: a missing or unreadable file is a FAIL line.

--make-fake writes such a tree from expected.json (for DIR/<fixture>/ for
every fixture, or DIR itself for one); --corrupt flips one byte of the
first non-empty tensor's data. --self-test makes fakes in a temporary
directory and checks that they pass and that corrupted ones fail; it is
how this checker is tested while there is no mount to check.
"""

import json
import os
import shutil
import sys
import tempfile

import numpy as np


# ---------------------------------------------------------------- output

class Report:
    def __init__(self, out=sys.stdout):
        self.failures = 0
        self.oks = 0
        self.out = out

    def ok(self, name, path, what):
        self.oks += 1
        print("ok %s %s %s" % (name, path, what), file=self.out)

    def fail(self, name, path, what, detail):
        self.failures += 1
        print("FAIL %s %s %s: %s" % (name, path, what, detail), file=self.out)


def show_path(path):
    return "/".join(path) if path else "."


def read_file(fpath, mode="rb"):
    """(content, None) or (None, why)"""
    try:
        if os.path.isdir(fpath):
            return None, "is a directory"
        with open(fpath, mode) as f:
            return f.read(), None
    except FileNotFoundError:
        parent = os.path.dirname(fpath)
        try:
            have = sorted(os.listdir(parent))
            tail = "; %s holds %s" % (parent, ", ".join(have[:12])
                                      + (" ..." if len(have) > 12 else ""))
        except OSError:
            tail = ""
        return None, "missing%s" % tail
    except (OSError, UnicodeDecodeError) as e:
        return None, "%s: %s" % (type(e).__name__, e)


def short(b, n=60):
    r = repr(b)
    return r if len(r) <= n else r[:n] + "..."


# ------------------------------------------------------------- numbers

def np_dtype(numpy_dtype):
    return np.dtype("<u2") if numpy_dtype == "bfloat16" else np.dtype(
        numpy_dtype)


def bf16_round(vals):
    """float64 values to bfloat16 (round to nearest even), as float64"""
    f = np.asarray(vals, dtype=np.float64).astype(np.float32)
    u = f.view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return (u.astype(np.uint32) << 16).view(np.float32).astype(np.float64)


def expected_array(t):
    """the values of expected.json as a numpy array in the tensor's dtype
    (bfloat16: as float64), C order, shaped"""
    vals = t["values"]
    if t["numpy_dtype"] == "bfloat16":
        a = np.array(vals, dtype=np.float64)
    elif np.dtype(t["numpy_dtype"]).kind == "c":
        a = np.array([complex(r, i) for r, i in vals],
                     dtype=t["numpy_dtype"])
    else:
        a = np.array(vals, dtype=t["numpy_dtype"])
    return a.reshape(t["shape"])


def parse_token(tok, kind):
    if kind == "b":
        m = {"true": True, "false": False, "1": True, "0": False}
        if tok.lower() not in m:
            raise ValueError("not a bool: %r" % tok)
        return m[tok.lower()]
    if kind in "iu":
        return int(tok)
    if kind == "c":
        return complex(tok.strip("()").replace(" ", ""))
    return float(tok)


def parse_values_txt(text, t):
    """(array in the tensor's dtype, or float64 for bfloat16) or raises
    ValueError with why"""
    shape = t["shape"]
    nd = t["numpy_dtype"]
    kind = "f" if nd == "bfloat16" else np.dtype(nd).kind
    rows = []
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        rows.append(s.replace(",", " ").split())
    numel = int(np.prod(shape, dtype=np.int64))
    if numel == 0:
        if any(rows):
            raise ValueError("%d numbers for an empty tensor"
                             % sum(len(r) for r in rows))
        return expected_array(t)
    nrows = int(np.prod(shape[:-1], dtype=np.int64)) if shape else 1
    ncols = shape[-1] if shape else 1
    if len(rows) != nrows:
        raise ValueError("%d rows, want %d" % (len(rows), nrows))
    for i, r in enumerate(rows):
        if len(r) != ncols:
            raise ValueError("row %d has %d numbers, want %d"
                             % (i, len(r), ncols))
    flat = [parse_token(tok, kind) for r in rows for tok in r]
    if nd == "bfloat16":
        a = bf16_round(flat)
    else:
        with np.errstate(over="ignore"):
            a = np.array(flat, dtype=nd)
    return a.reshape(shape)


def first_diff(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


# -------------------------------------------------------------- checks

def check_tensor(rep, name, root, t):
    p = show_path(t["path"])
    d = os.path.join(root, *t["path"])
    if not os.path.isdir(d):
        _, why = read_file(d)
        rep.fail(name, p, "dir", "not a directory (%s)"
                 % ("a file" if why is None else why))
        return

    def text_check(what, want):
        got, why = read_file(os.path.join(d, what))
        if got is None:
            rep.fail(name, p, what, why)
        elif got != want.encode():
            rep.fail(name, p, what, "got %s, want %r" % (short(got), want))
        else:
            rep.ok(name, p, what)

    text_check("dtype", t["dtype"] + "\n")
    text_check("shape", repr(tuple(t["shape"])) + "\n")
    text_check("stride", repr(tuple(t["stride"])) + "\n")

    want = bytes.fromhex(t["bytes_hex"])
    got, why = read_file(os.path.join(d, "data"))
    if got is None:
        rep.fail(name, p, "data", why)
    elif got != want:
        i = first_diff(got, want)
        rep.fail(name, p, "data", "%d bytes, want %d; first difference at "
                 "byte %d (got %s, want %s)" % (
                     len(got), len(want), i, got[i:i + 8].hex(),
                     want[i:i + 8].hex()))
    else:
        rep.ok(name, p, "data")

    bf16 = t["numpy_dtype"] == "bfloat16"
    vpath = os.path.join(d, "values.txt")
    if not (bf16 and not os.path.exists(vpath)):
        text, why = read_file(vpath, "r")
        if text is None:
            rep.fail(name, p, "values.txt", why)
        else:
            try:
                got_a = parse_values_txt(text, t)
                want_a = expected_array(t)
                if not np.array_equal(got_a, want_a):
                    g, w = got_a.reshape(-1), want_a.reshape(-1)
                    i = int(np.nonzero(g != w)[0][0])
                    rep.fail(name, p, "values.txt",
                             "element %d is %r, want %r" % (i, g[i], w[i]))
                else:
                    rep.ok(name, p, "values.txt")
            except (ValueError, OverflowError) as e:
                rep.fail(name, p, "values.txt", "unparsable: %s" % e)

    if not bf16:
        npy = os.path.join(d, "array.npy")
        if not os.path.isfile(npy):
            _, why = read_file(npy)
            rep.fail(name, p, "array.npy", why or "not a regular file")
        else:
            try:
                a = np.load(npy, allow_pickle=False)
                if not isinstance(a, np.ndarray):
                    rep.fail(name, p, "array.npy", "not one array")
                elif a.dtype.str != t["numpy_dtype"]:
                    rep.fail(name, p, "array.npy", "dtype %s, want %s"
                             % (a.dtype.str, t["numpy_dtype"]))
                elif list(a.shape) != t["shape"]:
                    rep.fail(name, p, "array.npy", "shape %r, want %r"
                             % (a.shape, tuple(t["shape"])))
                elif np.ascontiguousarray(a).tobytes() != want:
                    rep.fail(name, p, "array.npy", "values differ")
                elif not np.array_equal(a, expected_array(t)):
                    rep.fail(name, p, "array.npy", "values differ from "
                             "values (but not bytes?)")
                else:
                    rep.ok(name, p, "array.npy")
            except Exception as e:  # np.load raises many kinds
                rep.fail(name, p, "array.npy", "np.load: %s: %s"
                         % (type(e).__name__, e))


def check_scalar(rep, name, root, s):
    p = show_path(s["path"])
    want = s["repr"] + "\n"
    got, why = read_file(os.path.join(root, *s["path"]))
    if got is None:
        rep.fail(name, p, "scalar", why)
    elif got != want.encode():
        rep.fail(name, p, "scalar", "got %s, want %r" % (short(got), want))
    else:
        rep.ok(name, p, "scalar")


def find_fixture(expected, fname):
    fx = expected["fixtures"]
    for k in (fname, fname + ".pt"):
        if k in fx:
            return k, fx[k]
    hits = [k for k in fx if os.path.basename(k) in (fname, fname + ".pt")]
    if len(hits) == 1:
        return hits[0], fx[hits[0]]
    return None, None


def run_checks(expected, fname, root, scalars=False, types=None, out=None):
    rep = Report(out or sys.stdout)
    name, fx = find_fixture(expected, fname)
    if fx is None:
        rep.fail(fname, ".", "fixture", "not in expected.json (have %s)"
                 % ", ".join(expected["fixtures"]))
        return rep
    if not os.path.isdir(root):
        rep.fail(name, ".", "root", "%s is not a directory" % root)
        return rep
    if scalars:
        for s in fx["scalars"]:
            if types is None or s["type"] in types:
                check_scalar(rep, name, root, s)
    else:
        for t in fx["tensors"]:
            check_tensor(rep, name, root, t)
    return rep


# ------------------------------------------------------------ the fakes

def fmt_value(v, t):
    nd = t["numpy_dtype"]
    if nd == "bfloat16":
        return repr(float(v))
    k = np.dtype(nd).kind
    if k == "b":
        return "True" if v else "False"
    if k == "c":
        return str(np.dtype(nd).type(complex(v[0], v[1])))
    if k == "f":
        return str(np.dtype(nd).type(v))   # shortest digits in its dtype
    return str(int(v))


def make_fake_fixture(fx, root):
    os.makedirs(root, exist_ok=True)
    for t in fx["tensors"]:
        d = os.path.join(root, *t["path"])
        os.makedirs(d, exist_ok=True)

        def put(fn, content):
            with open(os.path.join(d, fn), "wb") as f:
                f.write(content.encode() if isinstance(content, str)
                        else content)

        put("dtype", t["dtype"] + "\n")
        put("shape", repr(tuple(t["shape"])) + "\n")
        put("stride", repr(tuple(t["stride"])) + "\n")
        put("data", bytes.fromhex(t["bytes_hex"]))
        vals = [fmt_value(v, t) for v in t["values"]]
        ncols = t["shape"][-1] if t["shape"] else 1
        lines = [" ".join(vals[i:i + ncols])
                 for i in range(0, len(vals), max(ncols, 1))]
        put("values.txt", "".join(line + "\n" for line in lines))
        if t["numpy_dtype"] != "bfloat16":
            a = np.frombuffer(bytes.fromhex(t["bytes_hex"]),
                              dtype=t["numpy_dtype"]).reshape(t["shape"])
            np.save(os.path.join(d, "array.npy"), a)
    for s in fx["scalars"]:
        fpath = os.path.join(root, *s["path"])
        os.makedirs(os.path.dirname(fpath), exist_ok=True)
        with open(fpath, "w") as f:
            f.write(s["repr"] + "\n")


def corrupt_fake(fx, root):
    """flips one byte of the first non-empty tensor's data; returns its
    path"""
    for t in fx["tensors"]:
        if t["bytes_hex"]:
            fpath = os.path.join(root, *t["path"], "data")
            with open(fpath, "r+b") as f:
                b = f.read(1)
                f.seek(0)
                f.write(bytes([b[0] ^ 0x01]))
            return show_path(t["path"])
    return None


def self_test(expected):
    """fakes pass; each kind of damage fails, with FAIL lines and no
    traceback"""
    import io
    problems = []
    tmp = tempfile.mkdtemp(prefix="torch_check.")
    try:
        for name, fx in expected["fixtures"].items():
            root = os.path.join(tmp, name)
            make_fake_fixture(fx, root)
            for sc in (False, True):
                buf = io.StringIO()
                rep = run_checks(expected, name, root, scalars=sc, out=buf)
                if rep.failures:
                    problems.append("clean fake %s failed:\n%s"
                                    % (name, buf.getvalue()))
            print("self-test: clean fake %s: %d tensors, %d scalars pass"
                  % (name, len(fx["tensors"]), len(fx["scalars"])))

        def expect_fail(label, name, root, what, scalars=False, path=None):
            buf = io.StringIO()
            rep = run_checks(expected, name, root, scalars=scalars, out=buf)
            lines = [ln for ln in buf.getvalue().splitlines()
                     if ln.startswith("FAIL") and (" %s:" % what) in ln
                     and (path is None
                          or ln.startswith("FAIL %s %s " % (name, path)))]
            if rep.failures == 0 or not lines:
                problems.append("%s: no FAIL for %s" % (label, what))
            else:
                print("self-test: %s gives %s" % (label, lines[0]))

        for name, fx in expected["fixtures"].items():
            root = os.path.join(tmp, name)
            where = corrupt_fake(fx, root)
            expect_fail("one byte flipped in %s %s/data" % (name, where),
                        name, root, "data", path=where)
            shutil.rmtree(root)
            make_fake_fixture(fx, root)

        name = "view_offset.pt"
        fx = expected["fixtures"][name]
        root = os.path.join(tmp, name)
        m = os.path.join(root, "m")
        os.remove(os.path.join(m, "array.npy"))
        expect_fail("array.npy removed", name, root, "array.npy")
        with open(os.path.join(m, "values.txt"), "w") as f:
            f.write("7 8\n12 14\n")
        expect_fail("a wrong number in values.txt", name, root,
                    "values.txt")
        with open(os.path.join(m, "values.txt"), "w") as f:
            f.write("7 8 12 13\n")
        expect_fail("values.txt in one row", name, root, "values.txt")
        with open(os.path.join(m, "values.txt"), "w") as f:
            f.write("7 8\n12 x\n")
        expect_fail("values.txt unparsable", name, root, "values.txt")
        with open(os.path.join(m, "shape"), "w") as f:
            f.write("(2,2)\n")
        expect_fail("shape without the blank", name, root, "shape")
        with open(os.path.join(m, "dtype"), "w") as f:
            f.write("float32")
        expect_fail("dtype without the newline", name, root, "dtype")
        shutil.rmtree(os.path.join(root, "v"))
        expect_fail("a tensor's directory missing", name, root, "dir")
        with open(os.path.join(root, "v"), "w") as f:
            f.write("x\n")
        expect_fail("a file where the directory should be", name, root,
                    "dir")
        np.save(os.path.join(root, "b", "array.npy"),
                np.arange(20, dtype=">f4"))
        expect_fail("array.npy big-endian", name, root, "array.npy")
        with open(os.path.join(root, "b", "array.npy"), "wb") as f:
            f.write(b"\x93NUMPY garbage")
        expect_fail("array.npy garbage", name, root, "array.npy")

        name = "dtypes.pt"
        fx = expected["fixtures"][name]
        root = os.path.join(tmp, name)
        with open(os.path.join(root, "bf16", "values.txt"), "w") as f:
            f.write("1.5 -2.25 3.39e38 1.1754944e-38 0 -0 0.0079\n")
        expect_fail("bfloat16 values.txt off by one bf16 step", name, root,
                    "values.txt")
        with open(os.path.join(root, "bf16", "values.txt"), "w") as f:
            f.write("1.5 -2.25 3.3895e38 1.1755e-38 0 -0 0.0078125\n")
        buf = io.StringIO()
        if run_checks(expected, name, root, out=buf).failures:
            problems.append("bfloat16 values.txt in short digits failed:\n"
                            + buf.getvalue())
        else:
            print("self-test: bfloat16 values.txt in short digits passes")
        os.remove(os.path.join(root, "bf16", "values.txt"))
        buf = io.StringIO()
        if run_checks(expected, name, root, out=buf).failures:
            problems.append("bfloat16 without values.txt failed")
        with open(os.path.join(root, "b", "values.txt"), "w") as f:
            f.write("True False True False False\n")
        expect_fail("a wrong bool", name, root, "values.txt", path="b")
        with open(os.path.join(root, "empty", "values.txt"), "w") as f:
            f.write("0 0 0\n")
        expect_fail("numbers for an empty tensor", name, root, "values.txt",
                    path="empty")
        with open(os.path.join(root, "scalar0d", "shape"), "w") as f:
            f.write("(1,)\n")
        expect_fail("0-d shape as (1,)", name, root, "shape",
                    path="scalar0d")

        name = "nested/checkpoint.pt"
        root = os.path.join(tmp, name)
        with open(os.path.join(root, "loss"), "w") as f:
            f.write("0.250\n")
        expect_fail("scalar 0.250", name, root, "scalar", scalars=True)
        os.remove(os.path.join(root, "epoch"))
        expect_fail("scalar missing", name, root, "scalar", scalars=True)

        buf = io.StringIO()
        rep = run_checks(expected, "nosuch.pt", root, out=buf)
        if rep.failures != 1:
            problems.append("unknown fixture not one FAIL")
        buf = io.StringIO()
        rep = run_checks(expected, "checkpoint", os.path.join(tmp, "none"),
                         out=buf)
        if rep.failures != 1:
            problems.append("missing root not one FAIL")
    finally:
        shutil.rmtree(tmp)
    for p in problems:
        print("SELF-TEST PROBLEM: " + p)
    print("self-test: %s" % ("FAILED" if problems else "passed"))
    return 1 if problems else 0


# ---------------------------------------------------------------- main

def usage():
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    sys.exit(2)


def load_expected(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print("FAIL - - expected.json: cannot read %s: %s" % (path, e))
        sys.exit(2)


def main(argv):
    args = list(argv)
    if not args:
        usage()
    if args[0] == "--self-test":
        if len(args) != 2:
            usage()
        return self_test(load_expected(args[1]))
    if args[0] == "--make-fake":
        corrupt = "--corrupt" in args
        args = [a for a in args if a != "--corrupt"]
        if len(args) not in (3, 4):
            usage()
        d, expected = args[1], load_expected(args[2])
        if len(args) == 4:
            name, fx = find_fixture(expected, args[3])
            if fx is None:
                print("no fixture %s" % args[3], file=sys.stderr)
                return 2
            make_fake_fixture(fx, d)
            if corrupt:
                print("corrupted %s/data" % corrupt_fake(fx, d))
        else:
            for name, fx in expected["fixtures"].items():
                make_fake_fixture(fx, os.path.join(d, name))
                if corrupt:
                    print("corrupted %s %s/data"
                          % (name, corrupt_fake(fx, os.path.join(d, name))))
        return 0
    scalars, types = False, None
    while args and args[0].startswith("--"):
        if args[0] == "--scalars":
            scalars = True
            args.pop(0)
        elif args[0] == "--types" and len(args) > 1:
            types = set(args[1].split(","))
            args[:2] = []
        else:
            usage()
    if len(args) != 3:
        usage()
    expected = load_expected(args[0])
    rep = run_checks(expected, args[1], args[2], scalars=scalars,
                     types=types)
    return 1 if rep.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
