#!/usr/bin/python3
"""Writes tests/fixtures/text_vectors.txt: CPython's own answers for the
text forms codec/text.c implements, read by tests/unit/test_text.c.

Run with /usr/bin/python3 (CPython 3.11) from anywhere:

    /usr/bin/python3 scripts/gen-text-vectors.py

The random cases use a fixed seed, so the output only changes when this
script (or the interpreter) does.

Format: one case per line, fields separated by one tab, the first field
the kind. Input texts are hex (so any byte can appear in a case); reprs
are written as they are (UTF-8; a repr never holds a tab or newline);
"!" in an expected field means Python rejects the input; a float is the
16 hex digits of its IEEE bits (big-endian, as struct '>d' packs it).

  int         LE-hex  decimal          decimal(LE) and the LE of int(decimal)
  intparse    text    LE-hex | !       int(text), LE as pickle.encode_long
  float       bits    repr             repr(v), and float(repr) == v
  floatparse  text    bits | !         float(text)
  complex     bits    bits  repr       repr(complex(re, im)), and back
  complexparse text   bits  bits | !   complex(text)
  str         utf8    repr             repr(s); utf8 is 'surrogatepass'
  rue         utf8    arg              pickle protocol 0 UNICODE argument
  ruedecode   arg     utf8 | !         str(arg, 'raw-unicode-escape')
  bytes       data    repr             repr(b)
  string      data    literal          Python 2 repr(str), and decoded back
  stringdecode arg    data | !         STRING argument as pickle loads it
  utf8        data    strict surrogatepass   1 if it decodes
  bool        text    0 | 1 | !        our rule: 'True'/'False' after strip
  none        text    1 | !            our rule: 'None' after strip
"""

import codecs
import io
import math
import os
import pickle
import random
import struct
import sys
import warnings

sys.set_int_max_str_digits(0)
warnings.simplefilter("ignore", DeprecationWarning)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                   "tests", "fixtures", "text_vectors.txt")
rng = random.Random(20240611)
lines = []


def hx(b):
    return b.hex()


def u8(s):
    return s.encode("utf-8", "surrogatepass")


def fbits(v):
    return struct.pack(">d", v).hex()


def bits_to_float(x):
    return struct.unpack(">d", struct.pack(">Q", x))[0]


def emit(*fields):
    for f in fields:
        assert "\t" not in f and "\n" not in f, fields
    lines.append("\t".join(fields))


# --- ints ----------------------------------------------------------------

def int_cases():
    vals = {0, 1, -1, 127, 128, -128, -129, 255, 256, -255, -256,
            2**31, -2**31, 2**31 - 1, -2**31 - 1, 2**63, -2**63,
            2**63 - 1, -2**63 - 1, 2**64, -2**64, 2**64 - 1,
            10**500, -10**500, 10**18, -10**18, 10**19, -10**19}
    for k in list(range(0, 72)) + [127, 128, 129, 255, 256, 1000]:
        for d in (-1, 0, 1):
            vals.add(2**k + d)
            vals.add(-(2**k) + d)
    for k in range(0, 60):
        vals.add(10**k)
        vals.add(-(10**k) + 1)
    for _ in range(500):
        bits = rng.choice([8, 16, 31, 32, 33, 63, 64, 65, 100, 300,
                           rng.randrange(1, 700)])
        v = rng.getrandbits(bits)
        vals.add(v if rng.random() < 0.5 else -v)
    for v in sorted(vals):
        emit("int", hx(pickle.encode_long(v)), str(v))


def int_parse_cases():
    texts = ["0", "-0", "+0", "007", "+7", "-7", " 12 ", "\t\n\v\f\r12\r\n",
             "1_000", "1__0", "_1", "1_", "+_1", "-_1", "0_0", "0x10",
             "0o7", "0b1", "", " ", "+", "-", "+-1", "-+1", "- 1", "1 2",
             "1.0", "1e3", "12a", "a12", "1\x00", "\x001",
             "\x1c1", "1\x1f", "\x851", "1\x85", "\xa012\u3000",
             "\u0661\u0662\u0663", "\u0663_\u0664", "-\u0661",
             "\U0001D7CE\U0001D7D9", "\uff11\uff12", "\u2007-5\u2028",
             "1\u200b", "\u00b2", "\u2155", "1\u0301",
             "9" * 1000, "-" + "9" * 1000, "1" + "_0" * 300,
             "9223372036854775807", "9223372036854775808",
             "-9223372036854775808", "-9223372036854775809",
             "18446744073709551616", "00000000000000000000000001",
             "-00000000000000000000009223372036854775808"]
    alpha = "0123456789_+- \t.xe\u00a0\u0661\x1c"
    for _ in range(600):
        n = rng.randrange(0, 12)
        texts.append("".join(rng.choice(alpha) for _ in range(n)))
    for _ in range(200):
        # Plausible ints with separators, signs and spaces.
        v = rng.getrandbits(rng.randrange(1, 200))
        s = str(v)
        if rng.random() < 0.5:
            s = "_".join(s[i:i + 3] for i in range(0, len(s), 3))
        s = rng.choice(["", "+", "-"]) + s
        s = rng.choice(["", " ", "\n"]) + s + rng.choice(["", " ", "\n"])
        texts.append(s)
    for t in dict.fromkeys(texts):
        try:
            out = hx(pickle.encode_long(int(t)))
        except ValueError:
            out = "!"
        emit("intparse", hx(u8(t)), out)


# --- floats --------------------------------------------------------------

def float_values():
    vals = [0.0, -0.0, 1.0, -1.0, 0.1, 0.2, 0.3, 1 / 3, 2 / 3, 1e22, 1e23,
            5e-324, -5e-324, 1e-323, sys.float_info.max,
            -sys.float_info.max, sys.float_info.min, sys.float_info.epsilon,
            math.inf, -math.inf, math.nan, 123456789012345.0,
            1234567890123456.0, 12345678901234567.0, 9007199254740992.0,
            9007199254740993.0, 2.0**53 - 1, 0.1 + 0.2, 100.0, 1.5, 2.5,
            123.0, 1e100, 1.5e16, 1e-5, 1e-4, 0.00012, 9.999999999999999e15,
            9.999999999999998e15, 1e16 - 2, 0.30000000000000004,
            2.2250738585072009e-308, 4.9406564584124654e-324,
            1.7976931348623157e308, 8.98846567431158e307]
    for e in range(-330, 310):
        v = float("1e%d" % e)
        vals.append(v)
        if -25 <= e <= 25:
            vals += [math.nextafter(v, math.inf), math.nextafter(v, 0.0)]
    for e in range(-8, 20):
        for m in ("1", "9.5", "1.25", "9.999999999999999", "5"):
            vals.append(float("%se%d" % (m, e)))
    # Powers of two: the gap below is half the gap above, which is where
    # a shortest-digits search is most easily wrong. Keep every one whose
    # nearest 16-digit decimal does not read back, and a third of the rest.
    for k in range(-1074, 1024):
        v = math.ldexp(1.0, k)
        if k % 3 == 0 or float("%.15e" % v) != v:
            vals.append(v)
    for _ in range(600):
        v = bits_to_float(rng.getrandbits(64))
        vals.append(v)
    for _ in range(200):
        vals.append(bits_to_float(rng.getrandbits(52)))  # subnormals
    for _ in range(300):
        digits = rng.randrange(1, 18)
        v = float("%.*e" % (digits - 1, rng.uniform(1, 10) *
                            10.0**rng.randrange(-30, 30)))
        vals.append(v if rng.random() < 0.7 else -v)
    for _ in range(100):
        vals.append(float(rng.randrange(-2**60, 2**60)))
    out, seen = [], set()
    for v in vals:
        b = fbits(v)
        if b not in seen:
            seen.add(b)
            out.append(v)
    return out


def float_cases():
    for v in float_values():
        emit("float", fbits(v), repr(v))


def float_parse_cases():
    texts = ["1", " 1.5\n", "1_000.5", "inf", "-Infinity", "nan", "-nan",
             "+NaN", "nAn", "INF", "-iNfInItY", "+inf", "1.2.3", "1__0",
             "_1", "1_", "0x10", "0x1p3", "", " ", "Tru", "1e", "1e+",
             "1e-", "e5", ".", ".5", "5.", "1.e5", ".e5", "1_e5", "1e_5",
             "1e1_0", "1._5", "1_.5", "in_f", "infinit", "infinityy",
             "infinity", "nan(123)", "nanq", "+", "-", "+-1", "--1",
             "1e400", "-1e400", "1e-400", "-1e-400", "1e308", "1.8e308",
             "2.4703282292062327e-324", "2.4703282292062328e-324",
             "-2.4703282292062327e-324", "0e99999999999999999999",
             "1e-99999999999999999", "1e99999999999999999",
             "0.0000000000000000000000000000000001e34",
             "0." + "0" * 500 + "1e500", "9" * 400, "9" * 310,
             "1" + "0" * 400 + "e-400", "\u0661.\u0665", "\u0661_\u0665",
             "\xa01.5\u3000", "\x1c1", "1\x1f", "1\x00", "1 2",
             "1.5j", "(1.5)", "١٫٥", "1,5", "1.5e0_1", "1e00001",
             "00.5", "-.5", "+.5e-3", "\t-0\n", "0_0.0_0e0_0",
             "9007199254740993", "9007199254740993.0000000000000000001",
             "1.00000000000000011102230246251565404236316680908203125",
             "1.00000000000000011102230246251565404236316680908203124",
             "1.00000000000000011102230246251565404236316680908203126",
             "179769313486231580793728971405303415079934132710037826936173"
             "778980444968292764750946649017977587207096330286416692887910"
             "946555547851940402630657488671505820681908902000708383676273"
             "854845817711531764475730270069855571366959622842914819860834"
             "936475292719074168444365510704342711559699508093042880177904"
             "1744.0"]
    # Midpoints between neighbouring doubles, written out exactly: the
    # hardest inputs for a correctly rounding parser.
    from decimal import Decimal, getcontext
    getcontext().prec = 1200
    mids = [math.ldexp(rng.random() + 0.5, rng.randrange(-60, 60))
            for _ in range(40)]
    mids += [5e-324, 2.2250738585072014e-308, 1.7976931348623155e308]
    for v in mids:
        w = math.nextafter(v, math.inf)
        mid = (Decimal(v) + Decimal(w)) / 2
        texts.append(format(mid, "f") if abs(mid.adjusted()) < 40
                     else format(mid, "e"))
        tiny = Decimal(10) ** (mid.adjusted() - 120)
        texts.append(format(mid + tiny, "e"))
        texts.append(format(mid - tiny, "e"))
    alpha = "0123456789._eE+-_ infa"
    for _ in range(450):
        n = rng.randrange(0, 10)
        texts.append("".join(rng.choice(alpha) for _ in range(n)))
    for v in float_values()[::13]:
        s = repr(v)
        r = rng.random()
        if r < 0.3:
            s = s.upper()
        elif r < 0.5:
            s = " " + s + "\n"
        elif r < 0.6 and len(s) > 2:
            i = rng.randrange(1, len(s))
            s = s[:i] + "_" + s[i:]
        texts.append(s)
    for t in dict.fromkeys(texts):
        try:
            out = fbits(float(t))
        except ValueError:
            out = "!"
        emit("floatparse", hx(u8(t)), out)


# --- complex ------------------------------------------------------------

def complex_cases():
    special = [0.0, -0.0, 1.0, -1.0, 1.5, -2.5, math.nan, -math.nan,
               math.inf, -math.inf, 1e16, 1e15, 1e-5, 1e-4, 2.5e-300,
               5e-324, 0.1, 123.0, 1e100]
    pairs = [(a, b) for a in special for b in special]
    for _ in range(150):
        pairs.append((bits_to_float(rng.getrandbits(64)),
                      bits_to_float(rng.getrandbits(64))))
    for re_, im in pairs:
        emit("complex", fbits(re_), fbits(im), repr(complex(re_, im)))

    texts = ["(1+2j)", "1+2j", "2j", "3", " (1-0j) ", "j", "-j", "+J",
             "1+j", "1-j", "1-", "1+", "()", "(j)", "(1+2j", "1+2j)",
             "nanj", "-nanj", "infj", "-infinityJ", "(nan+infj)",
             "(-0-1j)", "-0j", "0j", "1e5j", "( 1+2j )", "1 + 2j",
             "1_0+2_0j", "(1_+2j)", "1e+j", "0+1j", "\x851j", "1+2",
             "", " ", "(", ")", "(1)", "((1))", "1j+2", "1+2j+3",
             "1e1000+1e1000j", "-1e-400-1e-400j", "1.5e", "1.5ej",
             "j1", "1jj", "+1+j", "--1j", "1+-2j", "inf+nanj",
             "(1+2J)", "\u0661+\u0662j", "1_j", "1e1_0j", "\t(\n2j\n)\t",
             "1 j", "1+ 2j", "( 1 )", "(\u3000j\u3000)", "nan", "-inf",
             "infinit", "infj j", "1+infinityj", "1+infinj", "0x1+2j"]
    alpha = "0123456789.eEjJ+-() _n"
    for _ in range(800):
        n = rng.randrange(0, 9)
        texts.append("".join(rng.choice(alpha) for _ in range(n)))
    for t in dict.fromkeys(texts):
        try:
            c = complex(t)
            emit("complexparse", hx(u8(t)), fbits(c.real), fbits(c.imag))
        except ValueError:
            emit("complexparse", hx(u8(t)), "!")


# --- str ----------------------------------------------------------------

def nonprintable_ranges():
    out, start = [], None
    for cp in range(0x110000):
        if not chr(cp).isprintable():
            if start is None:
                start = cp
        elif start is not None:
            out.append((start, cp - 1))
            start = None
    if start is not None:
        out.append((start, 0x10FFFF))
    return out


def str_values(edges=True):
    vals = ["", "a", "'", '"', "'\"", "a'b", 'a"b', "it's \"x\"", "\\",
            "\\'", "\\n", "\t\n\r", "\x00\x01\x1f\x7f\x80\x9f\xa0\xad\xff",
            "caf\xe9", "\u0100\u0378\u2028\u3000\ufeff\uffff",
            "\ud800", "\udfff", "\ud83d\ude00", "\ud83d", "x\udc80y",
            "\U0001F600", "\U0010FFFF", "\U000E0001", "\U000F0000",
            "\U0001D7CE", "e\u0301", "\u200d", "\u00ad", "\u0085",
            "\u1680", "\U00020000", "\U0002FFFF", "\U000E0100",
            "\u061c", "\u2066", "\U00016FE4", "\U0001F1E6\U0001F1E8"]
    vals += [chr(c) for c in range(0, 0x100)]
    # Every edge of every non-printable range, 32 code points a case.
    edge = []
    for lo, hi in nonprintable_ranges():
        for cp in (lo - 1, lo, hi, hi + 1):
            if 0 <= cp <= 0x10FFFF:
                edge.append(chr(cp))
    for i in range(0, len(edge) if edges else 0, 32):
        vals.append("".join(edge[i:i + 32]))
    pool = ("abc XYZ 019 ~!@#$%^&*()_+-=[]{};:,./<>?|`'\"\\\t\n\r"
            "\x00\x07\x1b\x7f\x85\xa0\xe9\xff\u0100\u0301\u200b\u2028"
            "\u4e2d\ud800\udbff\udc00\udfff\ue000\ufffd\uffff"
            "\U0001F600\U0010FFFF\U000E0001")
    for _ in range(250):
        n = rng.randrange(0, 16)
        s = []
        for _ in range(n):
            r = rng.random()
            if r < 0.7:
                s.append(rng.choice(pool))
            else:
                s.append(chr(rng.randrange(0, 0x110000)))
        vals.append("".join(s))
    return list(dict.fromkeys(vals))


def pickle_unicode_arg(s):
    # What pickle protocol 0 writes, checked against both picklers.
    arg = (s.replace("\\", "\\u005c").replace("\0", "\\u0000")
           .replace("\n", "\\u000a").replace("\r", "\\u000d")
           .replace("\x1a", "\\u001a").encode("raw-unicode-escape"))
    for dumps in (pickle.dumps, lambda o, p: _py_dumps(o, p)):
        data = dumps(s, 0)
        assert data.startswith(b"V" + arg + b"\n"), (s, data)
    return arg


def _py_dumps(obj, proto):
    f = io.BytesIO()
    pickle._Pickler(f, proto).dump(obj)
    return f.getvalue()


def str_cases():
    for s in str_values():
        emit("str", hx(u8(s)), repr(s))
    for s in str_values(edges=False):
        emit("rue", hx(u8(s)), hx(pickle_unicode_arg(s)))

    args = [b"\\u0041", b"\\\\u0041", b"\\\\\\u0041", b"\\x41", b"abc\\",
            b"\\", b"\\U0001f600", b"\\U0001F600", b"\\U00110000",
            b"\\u004", b"\\u004g", b"\\ug000", b"\\U0010ffff",
            b"\\ud83d\\ude00", b"\\uD800", b"\xe9\xff\x80", b"\\\xe9",
            b"", b"plain", b"\\n", b"\\u", b"\\U", b"\\U0000004",
            b"\\UFFFFFFFF", b"a\\u00e9b"]
    alpha = [b"\\", b"u", b"U", b"0", b"1", b"a", b"F", b"d", b"8", b"x",
             b"g", b"\xe9", b" "]
    for _ in range(400):
        n = rng.randrange(0, 14)
        args.append(b"".join(rng.choice(alpha) for _ in range(n)))
    for a in dict.fromkeys(args):
        try:
            out = hx(u8(str(a, "raw-unicode-escape")))
        except UnicodeDecodeError:
            out = "!"
        emit("ruedecode", hx(a), out)


# --- bytes and Python 2 str ----------------------------------------------

def bytes_values():
    vals = [b"", b"'", b'"', b"'\"", b"a'b", b'a"b', b"\\", b"\t\n\r",
            bytes(range(256)), b"\x00", b"\x7f\x80\xff", b"caf\xc3\xa9"]
    vals += [bytes([c]) for c in range(256)]
    for _ in range(300):
        n = rng.randrange(0, 20)
        vals.append(bytes(rng.choice(b"ab'\"\\\t\n\r\x00\x1a\x7f\x80\xff ~")
                          if rng.random() < 0.6 else rng.randrange(256)
                          for _ in range(n)))
    return list(dict.fromkeys(vals))


def load_string_arg(arg):
    # pickle.py's load_string, which takes the argument up to the newline;
    # the unpickler itself confirms it wherever a pickle can hold the
    # argument (one without a raw newline).
    if len(arg) >= 2 and arg[0] == arg[-1] and arg[:1] in (b"'", b'"'):
        try:
            v = codecs.escape_decode(arg[1:-1])[0]
        except ValueError:
            v = None
    else:
        v = None
    if b"\n" not in arg:
        try:
            loaded = pickle.loads(b"S" + arg + b"\n.", encoding="bytes")
        except Exception:
            loaded = None
        assert loaded == v, (arg, loaded, v)
    return v


def bytes_cases():
    for b in bytes_values():
        r = repr(b)
        emit("bytes", hx(b), r)
        assert load_string_arg(r[1:].encode("ascii")) == b, b
        emit("string", hx(b), r[1:])

    args = [b"'abc'", b'"abc"', b"'a'b'", b"'abc\\'", b"'\\777'",
            b"'\\400'", b"'\\8'", b"'\\q'", b"'\\\nx'", b"'\\x4'",
            b"'\\x4g'", b"'\\x41'", b"'\\X41'", b"'\\xfF'", b"'", b"''",
            b'""', b"'abc\"", b"abc", b"", b"'\\a\\b\\f\\n\\r\\t\\v'",
            b"'\\0\\00\\000\\0000\\08'", b"'\\\\'", b"'\\''", b"'\\\"'",
            b'"\\""', b"'\xe9\x00\xff'", b"' '", b"'\\x'", b"'\\x1'",
            b"'\\N{DASH}'", b"'\\u0041'", b"'\\'", b"'\\\\\\'", b"\"'",
            b"'\\1234'", b"'\\12x'"]
    alpha = [b"\\", b"'", b'"', b"x", b"4", b"f", b"g", b"7", b"0", b"8",
             b"n", b"\n", b"\xe9", b"q"]
    for _ in range(500):
        n = rng.randrange(0, 8)
        q = rng.choice([b"'", b'"'])
        body = b"".join(rng.choice(alpha) for _ in range(n))
        args.append(q + body + (q if rng.random() < 0.9 else b""))
    for a in dict.fromkeys(args):
        v = load_string_arg(a)
        emit("stringdecode", hx(a), "!" if v is None else hx(v))


# --- UTF-8 --------------------------------------------------------------

def utf8_cases():
    vals = [b"", b"abc", b"\xc3\xa9", b"\xed\xa0\x80", b"\xed\xbf\xbf",
            b"\xed\x9f\xbf", b"\xee\x80\x80", b"\xc0\x80", b"\xc1\xbf",
            b"\xe0\x80\x80", b"\xe0\x9f\xbf", b"\xe0\xa0\x80",
            b"\xf0\x80\x80\x80", b"\xf0\x8f\xbf\xbf", b"\xf0\x90\x80\x80",
            b"\xf4\x8f\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80",
            b"\xe2\x82", b"\xe2\x82\xac", b"\x80", b"\xbf", b"\xfe",
            b"\xff", b"a\xc3", b"\xc3a", b"\xed\xa0\xbd\xed\xb8\x80",
            b"\xf0\x9f\x98\x80", b"\x00", b"\xf8\x88\x80\x80\x80"]
    for _ in range(400):
        n = rng.randrange(0, 8)
        vals.append(bytes(rng.choice([rng.randrange(0x80, 0x100),
                                      rng.randrange(0x80, 0xc0),
                                      0xed, 0xe0, 0xf0, 0xf4, 0x41])
                          for _ in range(n)))
    for _ in range(100):
        s = "".join(chr(rng.randrange(0, 0x110000)) for _ in range(5))
        vals.append(u8(s))
    for b in dict.fromkeys(vals):
        res = []
        for errors in ("strict", "surrogatepass"):
            try:
                b.decode("utf-8", errors)
                res.append("1")
            except UnicodeDecodeError:
                res.append("0")
        emit("utf8", hx(b), *res)


# --- bool and None (our rule, written down here) -------------------------

SPACE = " \t\n\v\f\r" + "".join(chr(c) for c in range(0x80, 0x110000)
                                 if chr(c).isspace())


def word_cases():
    texts = ["True", "False", " True\n", "\tFalse \r\n", "true", "TRUE",
             "Tru", "True False", "", " ", "\xa0True\u3000", "\x1cTrue",
             "True\x00", "1", "0", "None", " None ", "none", "Nonee",
             "NONE", "\nNone\n", "None\x1f", "Fal se", "'True'"]
    for t in texts:
        w = t.strip(SPACE)
        emit("bool", hx(u8(t)), {"True": "1", "False": "0"}.get(w, "!"))
        emit("none", hx(u8(t)), "1" if w == "None" else "!")


def main():
    int_cases()
    int_parse_cases()
    float_cases()
    float_parse_cases()
    complex_cases()
    str_cases()
    bytes_cases()
    utf8_cases()
    word_cases()
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write("# Generated by scripts/gen-text-vectors.py with CPython %s;"
                " do not edit.\n" % sys.version.split()[0])
        f.write("\n".join(lines) + "\n")
    print("wrote %s: %d cases, %d bytes" % (os.path.normpath(OUT), len(lines),
                                           os.path.getsize(OUT)))


if __name__ == "__main__":
    main()
