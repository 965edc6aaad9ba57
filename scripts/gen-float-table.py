#!/usr/bin/python3
"""Writes codec/text_float_table.h: the powers of ten of the Schubfach
digit generator in codec/text_float.c.

Run from the repository root:

    /usr/bin/python3 scripts/gen-float-table.py

Entry E (E from E_MIN to E_MAX) is g = ceil(10**E / 2**r) with
r = floor(log2(10**E)) - 127, so 2**127 <= g < 2**128: 10**E rounded up
to 128 bits, exact when 10**E fits (0 <= E <= 55). Python's integers are exact, so no
step here rounds twice. The output goes through clang-format (the repo's
style), so `make format` leaves it be.
"""

import os
import shutil
import subprocess
import sys

# text_float.c looks up 10**-k for k = floor(log10(2**q)) (or of 3/4 2**q)
# and q from -1074 (subnormals) to 971 (the largest finite double).
E_MIN = -292
E_MAX = 324


def g_of(e):
    """g, and whether g * 2**r is 10**e exactly."""
    if e >= 0:
        n = 10**e
        r = n.bit_length() - 1 - 127
        g = n << -r if r <= 0 else -((-n) >> r)
        exact = r <= 0 or n % (1 << r) == 0
    else:
        d = 10**-e
        # 10**-e is no power of two (e < 0), so floor(log2(1/d)) is
        # -bit_length(d), and r = -bit_length(d) - 127.
        s = d.bit_length() + 127
        g = -((-(1 << s)) // d)
        exact = False
    assert 1 << 127 <= g < 1 << 128, e
    return g, exact


def main():
    out = os.path.join("codec", "text_float_table.h")
    exact = [e for e in range(E_MIN, E_MAX + 1) if g_of(e)[1]]
    exact_max = max(exact)
    assert exact == list(range(0, exact_max + 1)), exact
    lines = [
        "/*",
        " * text_float_table.h - written by scripts/gen-float-table.py; do not",
        " * edit. Included by text_float.c only.",
        " *",
        " * float_pow10[E - FLOAT_POW10_MIN] is 10**E rounded up to 128 bits",
        " * (hi, lo): ceil(10**E / 2**r), r = floor(log2(10**E)) - 127.",
        " */",
        "#ifndef PK_TEXT_FLOAT_TABLE_H",
        "#define PK_TEXT_FLOAT_TABLE_H",
        "",
        "#include <stdint.h>",
        "",
        "#define FLOAT_POW10_MIN (%d)" % E_MIN,
        "#define FLOAT_POW10_MAX %d" % E_MAX,
        "/* 10**E for 0 <= E <= FLOAT_POW10_EXACT_MAX are exact (5**E < 2**128) */",
        "#define FLOAT_POW10_EXACT_MAX %d" % exact_max,
        "",
        "static const uint64_t float_pow10[%d][2] = {" % (E_MAX - E_MIN + 1),
    ]
    for e in range(E_MIN, E_MAX + 1):
        g = g_of(e)[0]
        lines.append(
            "\t{0x%016xu, 0x%016xu}, /* %d */" % (g >> 64, g & ((1 << 64) - 1), e)
        )
    lines += ["};", "", "#endif", ""]
    text = "\n".join(lines)
    cf = shutil.which("clang-format")
    if cf:
        text = subprocess.run(
            [cf, "--assume-filename=" + out],
            input=text,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    else:
        print("clang-format not found: output left unformatted", file=sys.stderr)
    with open(out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
