#!/usr/bin/python3
"""Writes the fixtures of tests/unit/test_dis.c into tests/fixtures/dis/.
Run from the repo root with the Python whose pickletools we copy:

    /usr/bin/python3 scripts/make-dis-fixtures.py

For every case NAME it writes NAME.pickle and NAME.dis, the exact stdout
of `python3 -m pickletools NAME.pickle` (CPython 3.11), plus one line in
MANIFEST:

    NAME ok                      pickletools printed the listing
    NAME PK_E_xxx OFFSET         pickletools raised; NAME.dis holds the
                                 complete lines it printed first, the
                                 C disassembler must print the same and
                                 return that code at that offset

The pickles come from pickle.dumps for protocols 0-5 over many values,
plus hand-written Python 2 style and malformed ones. Nothing here loads a
pickle. The output is deterministic.
"""
import collections
import datetime
import os
import pickle
import struct
import subprocess
import sys

PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")
OUT = os.path.join("tests", "fixtures", "dis")


# --- classes for REDUCE / BUILD / NEWOBJ / NEWOBJ_EX (never loaded) -----

class Plain:
    def __init__(self):
        self.a = 1
        self.b = "two"


class Slotted:
    __slots__ = ("x", "y")

    def __init__(self):
        self.x = 1.5
        self.y = None


class WithReduce:
    def __reduce__(self):
        return (WithReduce, (1, "arg"), {"state": True})


class NewArgs:
    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        self.args = args

    def __getnewargs__(self):
        return (7, 8)


class NewArgsEx(NewArgs):
    def __getnewargs_ex__(self):
        return ((1,), {"key": "word"})


def a_function():
    pass


def values():
    """(name, value) pickled under every protocol."""
    big = 2 ** 1000
    rec_list = []
    rec_list.append(rec_list)
    rec_dict = {}
    rec_dict["self"] = rec_dict
    shared = [1, 2]
    return [
        ("none_bools", [None, True, False]),
        ("small_ints", [0, 1, 255, 256, 65535, 65536, -1, -256,
                        2 ** 31 - 1, -2 ** 31]),
        ("big_ints", [2 ** 31, 2 ** 63, -2 ** 63 - 1, 2 ** 64, big, -big,
                      10 ** 300, -(10 ** 300)]),
        ("floats", [0.0, -0.0, 1.5, 0.1, 1e100, 1e-5, 1e16,
                    123456789012345.0, 5e-324, 1.7976931348623157e308,
                    -2.5e-300, float("inf"), float("-inf"),
                    float("nan")]),
        ("str_quotes", ["", "abc", "it's", 'say "hi"', "both ' and \"",
                        "back\\slash"]),
        ("str_controls", ["ctl \n\r\t\x00\x1f\x7f\x1b", "\x85\x9f\xa0\xad",
                          "latin \xe9 \xff \xd7"]),
        ("str_unicode", ["\u20ac \u2028 \u2029 \ufeff \u0378 \ue000",
                         "\U0001F600 \U000E0001 \U0010FFFF \U00020000",
                         "\u0300 combining", "\ud800 \udfff \udbff\udc00"]),
        ("str_long", "x" * 300 + "'" + "\u20ac"),
        ("bytes_values", [b"", b"abc", b"'", b'"', b"'\"", b"\\\n\t\x00",
                          bytes(range(256))]),
        ("bytes_long", b"y" * 300),
        ("bytearray", [bytearray(b"ab'c"), bytearray(), bytearray(b"\\'"),
                       bytearray(b"a\"'b"), bytearray(range(256))]),
        ("tuples", [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)]),
        ("nested", {"a": [1, (2, [3, {4: (5,)}])], "b": {"c": {"d": []}}}),
        ("sets", [set(), {1, 2, 3}, frozenset(), frozenset({"x"})]),
        ("recursive_list", rec_list),
        ("recursive_dict", rec_dict),
        ("shared_refs", [shared, shared, (shared,)]),
        ("objects", [Plain(), Slotted(), WithReduce()]),
        ("newobj", [NewArgs(), NewArgsEx()]),
        ("globals", [a_function, Plain, len, collections.OrderedDict]),
        ("ordered_defaultdict",
         [collections.OrderedDict([("k", 1)]),
          collections.defaultdict(list, {"z": [1]})]),
        ("complex_datetime",
         [complex(1, 2), datetime.date(2024, 5, 1),
          datetime.datetime(2024, 5, 1, 12, 30, 15, 123)]),
        ("dict_keys", {1: "a", 2.5: "b", None: "c", (1, "t"): "d",
                       b"k": "e", "\u20ac": "f"}),
    ]


def wide_values():
    """Values whose listing is long: one protocol each."""
    return [
        ("batched_appends", 2, list(range(1003))),
        ("batched_setitems", 4, {i: None for i in range(1001)}),
        ("deep_marks", 0, [[[[[[["deep"]]]]]]]),
        ("deep_marks_p1", 1, [(1, [2, (3, [4, {5: (6, 7, 8, 9)}])])]),
    ]


def buffers():
    pb_ro = pickle.PickleBuffer(b"readonly data")
    pb_rw = pickle.PickleBuffer(bytearray(b"writable"))
    bufs = []
    return pickle.dumps([pb_ro, pb_rw], protocol=5,
                        buffer_callback=bufs.append)


def hand_written():
    """Python 2 style and other opcode sequences pickle.dumps never
    writes. Each is a valid pickle as far as pickletools is concerned."""
    return [
        # Python 2 protocol 0: STRING literals with escapes and quotes
        ("py2_strings",
         b"(lp0\nS'abc'\np1\naS\"it's\"\np2\naS'a\\n\\t\\\\b\\x41\\101"
         b"\\'q\\\"'\np3\naS'\\0\\477\\q\\x7f'\np4\naS''\naS'\"'\na."),
        ("py2_string_lone_quote", b"S'\nS\"\n0."),
        ("py2_unicode",
         b"(lp0\nVabc\\u20ac\\U0001f600\xe9\np1\naV\np2\naV\\\\u\np3\na"
         b"V\\ud800\np4\na."),
        ("py2_ints",
         b"(I0\nI00\nI01\nI-5\nI007\nI 42 \nI+3\nI1_000\n"
         b"I123456789012345678901234567890\nI-0\nL5L\nL-99L\nL0\n"
         b"L123456789012345678901234567890L\nL 7L\nt."),
        ("py2_floats",
         b"(F1.5\nF-0.0\nFinf\nF-Infinity\nFnan\nF1e100\nF 2_0.5 \nF1.\n"
         b"F.5\nF1e500\nF0.1000000000000000055511151231257827\nt."),
        ("py2_binstring",
         b"(T\x03\x00\x00\x00abcU\x02\xe9\xffU\x04it'sT\x00\x00\x00\x00"
         b"U\x01\x80U\x05a\"'\\\nt."),
        ("py2_inst",
         b"(i__main__\nOld\np0\n(dp1\nS'x'\np2\nI1\nsb."),
        ("py2_obj",
         b"(c__main__\nOld\nI1\nI2\noq\x00."),
        ("py2_global_escapes",
         b"(ccopy_reg\n_reconstructor\ncmod\\x41\nna\\'me\nt."),
        ("persid", b"(Pkey 1\nP\nP\\x41\\n\n]Qt."),
        ("ext_codes", b"\x80\x02(\x82\x01\x83\x02\x01\x84\x03\x02\x01\x00"
                      b"\x84\xff\xff\xff\xfft."),
        ("dup_pop_mark",
         b"(N2(K\x01K\x021(0N0\x880\x89t."),
        ("pop_mark_object", b"(0N."),
        ("text_memo_keys",
         b"(lp0\nNp-5\nap01\ng01\nag-5\naNp99999999999999999999999\n"
         b"ag99999999999999999999999\nag0\nag1\naNp-99999999999999999999\n"
         b"ag-99999999999999999999\naNp 1_0\nag10\na."),
        ("long_binput", b"]r\x00\x01\x00\x00j\x00\x01\x00\x00a."),
        ("long_opcodes",
         b"\x80\x02(\x8a\x00\x8a\x01\xff\x8a\x02\xff\x00\x8a\x02\x00\x80"
         b"\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01"
         b"\x8b\x00\x00\x00\x00\x8b\x03\x00\x00\x00\x00\x00\x80"
         b"\x8a\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00t."),
        ("binint_kinds",
         b"(K\x00K\xffM\x00\x00M\xff\xffJ\x00\x00\x00\x80J\xff\xff\xff"
         b"\x7fJ\xff\xff\xff\xffG\x7f\xf8\x00\x00\x00\x00\x00\x01"
         b"G\xff\xf0\x00\x00\x00\x00\x00\x00t."),
        ("proto_numbers", b"\x80\x05\x80\x00\x80\xffN."),
        ("frame_sizes", b"\x95\xff\xff\xff\xff\xff\xff\xff\xffN."),
        ("multi_frames",
         b"\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00]\x94("
         b"\x95\x04\x00\x00\x00\x00\x00\x00\x00K\x01K\x02e."),
        ("unicode_sizes",
         b"(X\x00\x00\x00\x00\x8d\x03\x00\x00\x00\x00\x00\x00\x00a'b"
         b"\x8c\x03\xed\xa0\x80B\x00\x00\x00\x00C\x00"
         b"\x8e\x01\x00\x00\x00\x00\x00\x00\x00\xfft."),
        ("trailing_data", b"N.garbage after stop"),
        ("stack_global_memoize",
         b"\x80\x04\x8c\x03mod\x94\x8c\x04name\x94\x93\x94)\x81\x94."),
        ("newobj_ex_by_hand",
         b"\x80\x04\x8c\x01m\x8c\x01C\x93)}\x92."),
        ("no_trailing_newline_text", b"Vno newline needed\n."),
        ("markobject_popped_by_append",
         b"(N(Nat."),
    ]


def many_memo_keys():
    """Memo keys far from 0..n: LONG_BINPUT near 2**32, negative and huge
    text PUT keys (the C memo keeps those apart from small keys)."""
    out = bytearray(b"]")
    for i in range(40):
        out += b"Nr" + struct.pack("<I", 0xFFFFFFFF - 7 * i) + b"0"
        out += b"Np%d\n0" % (-(10 ** 25) - i)
    for i in range(40):
        out += b"j" + struct.pack("<I", 0xFFFFFFFF - 7 * i) + b"a"
        out += b"g%d\na" % (-(10 ** 25) - i)
    return bytes(out + b".")


def malformed():
    """(name, bytes, code, offset): pickletools raises on these."""
    huge = (b"\x8b" + struct.pack("<i", 1800) + b"\x01" * 1799 + b"\x7f"
            + b".")
    return [
        ("err_empty", b"", "PK_E_TRUNCATED", 0),
        ("err_no_stop", b"\x80\x02N", "PK_E_TRUNCATED", 3),
        ("err_unknown_opcode", b"\x80\x02(\xff.", "PK_E_OPCODE", 3),
        ("err_truncated_binunicode", b"\x80\x02X\x05\x00\x00\x00ab",
         "PK_E_TRUNCATED", 2),
        ("err_truncated_binint", b"(J\x01\x02", "PK_E_TRUNCATED", 1),
        ("err_truncated_len", b"(B\x01\x02", "PK_E_TRUNCATED", 1),
        ("err_bad_utf8", b"(\x8c\x02\xff\xfe.", "PK_E_ARG", 1),
        ("err_get_undefined", b"(h\x05.", "PK_E_MEMO", 1),
        ("err_memo_redefined", b"Nq\x00q\x00.", "PK_E_MEMO", 3),
        ("err_memoize_redefined", b"\x80\x04Nq\x01\x94.",
         "PK_E_MEMO", 5),
        ("err_put_empty", b"q\x00.", "PK_E_MEMO", 0),
        ("err_put_mark", b"(p0\n.", "PK_E_MEMO", 1),
        ("err_underflow", b"]a.", "PK_E_STACK", 1),
        ("err_no_mark", b"]N]e.", "PK_E_STACK", 3),
        ("err_underflow_after_mark", b"(]Ne.", "PK_E_STACK", 3),
        ("err_mark_gone", b"(NaNt.", "PK_E_STACK", 4),
        ("err_put_twice_true", b"(lp01\np1\n.", "PK_E_MEMO", 6),
        ("err_not_empty", b"NN.", "PK_E_STACK", 2),
        ("err_bad_int", b"(Iabc\n.", "PK_E_ARG", 1),
        ("err_int_no_newline", b"(I12", "PK_E_TRUNCATED", 1),
        ("err_bad_float", b"(F1.5x\n.", "PK_E_ARG", 1),
        ("err_string_quotes", b"(S'abc\n.", "PK_E_ARG", 1),
        ("err_string_noquotes", b"(Sabc\n.", "PK_E_ARG", 1),
        ("err_string_nonascii", b"(S'\\xe9'\n.", "PK_E_ARG", 1),
        ("err_string_bad_x", b"(S'\\x4'\n.", "PK_E_ARG", 1),
        ("err_string_trailing_bs", b"(S'\\'\n.", "PK_E_ARG", 1),
        ("err_global_nonascii", b"(cm\xc3\xa9\nx\n.", "PK_E_ARG", 1),
        ("err_binstring_negative", b"(T\xff\xff\xff\xff.", "PK_E_ARG", 1),
        ("err_long4_negative", b"(\x8b\xfe\xff\xff\xff.", "PK_E_ARG", 1),
        ("err_raw_unicode", b"(V\\u12\n.", "PK_E_ARG", 1),
        ("err_huge_int", b"(" + huge, "PK_E_UNSUPPORTED", 1),
        ("err_huge_int_text", b"(I" + b"9" * 4301 + b"\n.",
         "PK_E_UNSUPPORTED", 1),
        # int() and float() of bytes read ASCII only: no Unicode digits
        # or spaces, which they take in a str (found by fuzz_dis)
        ("err_int_unicode_digit", b"(I\xd9\xa5\n.", "PK_E_ARG", 1),
        ("err_long_unicode_space", b"(L5\xc2\xa0L\n.", "PK_E_ARG", 1),
        ("err_float_fullwidth_digit", b"(F\xef\xbc\x95\n.", "PK_E_ARG",
         1),
        ("err_put_unicode_digit", b"Np\xdf\x80\n.", "PK_E_ARG", 1),
    ]


def disassemble(path):
    env = dict(os.environ, PYTHONIOENCODING="utf-8", LC_ALL="C.UTF-8")
    return subprocess.run([PYTHON, "-m", "pickletools", path],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env)


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.unlink(os.path.join(OUT, f))
    cases = []
    for name, value in values():
        for proto in range(6):
            try:
                data = pickle.dumps(value, protocol=proto)
            except TypeError:
                continue  # e.g. __slots__ without __getstate__ before 2
            cases.append(("%s_p%d" % (name, proto), data))
    for name, proto, value in wide_values():
        cases.append((name, pickle.dumps(value, protocol=proto)))
    cases.append(("buffers_p5", buffers()))
    cases.extend(hand_written())
    cases.append(("many_memo_keys", many_memo_keys()))

    manifest = []
    for name, data in cases:
        path = os.path.join(OUT, name + ".pickle")
        with open(path, "wb") as f:
            f.write(data)
        r = disassemble(path)
        if r.returncode != 0:
            sys.exit("%s: pickletools failed:\n%s" % (name,
                                                      r.stderr.decode()))
        with open(os.path.join(OUT, name + ".dis"), "wb") as f:
            f.write(r.stdout)
        manifest.append("%s ok" % name)

    for name, data, code, offset in malformed():
        path = os.path.join(OUT, name + ".pickle")
        with open(path, "wb") as f:
            f.write(data)
        r = disassemble(path)
        if r.returncode == 0:
            sys.exit("%s: pickletools accepted it" % name)
        out = r.stdout
        # dis() prints "%5d: " before it builds a line; when it raises
        # before finishing that line the prefix is left dangling. The C
        # version prints whole lines only.
        out = out[:out.rfind(b"\n") + 1]
        with open(os.path.join(OUT, name + ".dis"), "wb") as f:
            f.write(out)
        manifest.append("%s %s %d" % (name, code, offset))

    with open(os.path.join(OUT, "MANIFEST"), "w") as f:
        f.write("\n".join(manifest) + "\n")
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print("%d cases, %d bytes in %s" % (len(manifest), total, OUT))


if __name__ == "__main__":
    main()
