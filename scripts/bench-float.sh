#!/bin/bash
# bench-float.sh - ns per value of repr(float): pk_float_repr against the
# former snprintf + strtod search (scripts/bench-float.c), then CPython's
# own repr() on the same kinds of doubles, for context.
#   BUILD=build PYTHON=/usr/bin/python3 bash scripts/bench-float.sh [COUNT]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
N=${1:-1000000}

make -s BUILD="$BUILD" "$BUILD/bench-float"
"$BUILD/bench-float" "$N"
"$PYTHON" - "$N" <<'PY'
import math, random, struct, sys, time

n = int(sys.argv[1])
random.seed(1)

def bits():
    while True:
        v = struct.unpack("<d", random.getrandbits(64).to_bytes(8, "little"))[0]
        if math.isfinite(v):
            return v

sets = [
    ("random bit patterns", [bits() for _ in range(n)]),
    ("uniform [0, 1)", [random.random() for _ in range(n)]),
    ("short decimals",
     [float("%de%d" % (random.randrange(100000), random.randrange(12) - 8))
      for _ in range(n)]),
]
for name, xs in sets:
    best = 1e30
    for _ in range(3):
        t = time.perf_counter()
        "\n".join(map(repr, xs))
        best = min(best, time.perf_counter() - t)
    print("%-20s %10.1f ns  (CPython %s repr + join)"
          % (name, best * 1e9 / n, sys.version.split()[0]))
PY
