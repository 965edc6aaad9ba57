#!/usr/bin/env bash
# Codec benchmark, side by side with CPython in one run (not a test):
#  - decode / encode of a ~100 MB pickle of 2M small dicts and of a
#    100 MB numpy array: pickletool bench vs pickle.loads / pickle.dumps
#  - disassembly: pickletool dis vs python3 -m pickletools
# Prints ratios (CPython time / picklefs time). Each figure is the best
# of $RUNS runs, to keep a noisy machine from deciding the result.
# SKIP_DIS=1 leaves out the disassembly (pickletools takes minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3}
BUILD=${BUILD:-build}
RUNS=${RUNS:-3}
W=${BENCH_DIR:-$BUILD/bench}
mkdir -p "$W"
PT=$BUILD/pickletool

if [ ! -s "$W/dicts.pkl" ] || [ ! -s "$W/array.pkl" ] ||
	[ scripts/bench.sh -nt "$W/dicts.pkl" ]; then
	"$PYTHON" - "$W" <<'PY'
import pickle, sys, numpy as np
w = sys.argv[1]
# 2M small dicts, ~100 MB: a user table as people pickle it
CITIES = ('Paris', 'Lima', 'Oslo')
data = [{'id': i, 'name': 'user%07d' % i, 'score': i * 0.5, 'ok': i % 3 == 0,
         'city': CITIES[i % 3], 'rank': i % 1000} for i in range(2_000_000)]
open(w + '/dicts.pkl', 'wb').write(pickle.dumps(data, 4))
a = np.arange(100 * 2**20 // 8, dtype=np.float64)
open(w + '/array.pkl', 'wb').write(pickle.dumps(a, 4))
PY
fi

best() { sort -g | head -n 1; }

py_codec_once() { # file -> "loads dumps", in a fresh interpreter
	"$PYTHON" - "$1" <<'PY'
import pickle, sys, time
b = open(sys.argv[1], 'rb').read()
t = time.perf_counter(); o = pickle.loads(b); t1 = time.perf_counter()
pickle.dumps(o, 4); t2 = time.perf_counter()
print(t1 - t, t2 - t1)
PY
}

pk_codec_once() { # file -> "decode encode decode-cpu"
	local out
	out=$("$PT" bench "$1")
	grep -q "identical yes" <<<"$out" || { echo "bench: $1 not identical" >&2; exit 1; }
	awk '$1 == "decode" {d = $2} $1 == "encode" {e = $2}
	     $1 == "decode-cpu" {c = $2} END {print d, e, c}' <<<"$out"
}

# CPython and picklefs take turns, so both meet the machine in the same
# state (on this VM, memory that has been free for a few seconds costs
# more to fault in again); each figure is the best of its RUNS runs.
codec_rounds() { # file -> "loads dumps decode encode decode-cpu"
	local i lo=() du=() d=() e=() c=() a b x y z
	for i in $(seq "$RUNS"); do
		read -r a b <<<"$(py_codec_once "$1")"
		read -r x y z <<<"$(pk_codec_once "$1")"
		lo+=("$a"); du+=("$b"); d+=("$x"); e+=("$y"); c+=("$z")
	done
	echo "$(printf '%s\n' "${lo[@]}" | best) $(printf '%s\n' "${du[@]}" | best)" \
		"$(printf '%s\n' "${d[@]}" | best) $(printf '%s\n' "${e[@]}" | best)" \
		"$(printf '%s\n' "${c[@]}" | best)"
}

timeit() { # command... -> seconds (best of RUNS)
	local i t=()
	for i in $(seq "$RUNS"); do
		local s=$(date +%s.%N)
		"$@" >/dev/null
		t+=("$(echo "$(date +%s.%N) - $s" | bc -l)")
	done
	printf '%s\n' "${t[@]}" | best
}

ratio() { echo "scale=1; $1 / $2" | bc -l 2>/dev/null || echo "-"; }

# dec.x compares wall times; pk.dec.cpu is decode's CPU time over all its
# threads (a helper prefaults the tree's memory on the second core), and
# cpu.x compares it with loads, which runs on one thread.
printf '%-10s %10s %10s %10s %10s %10s %8s %8s %8s\n' file py.loads pk.decode pk.dec.cpu py.dumps pk.encode dec.x cpu.x enc.x
# (the array decode is a few microseconds: its ratio is not meaningful)
for f in dicts array; do
	read -r pl pd kd ke kc <<<"$(codec_rounds "$W/$f.pkl")"
	[ -n "$kc" ] || { echo "bench: $f failed" >&2; exit 1; }
	printf '%-10s %10.4f %10.6f %10.6f %10.4f %10.4f %8s %8s %8s\n' "$f" "$pl" "$kd" "$kc" "$pd" "$ke" \
		"$(ratio "$pl" "$kd")" "$(ratio "$pl" "$kc")" "$(ratio "$pd" "$ke")"
done

[ "${SKIP_DIS:-0}" = 1 ] && exit 0
td_py=$(timeit "$PYTHON" -m pickletools "$W/dicts.pkl")
td_pk=$(timeit "$PT" dis "$W/dicts.pkl")
cmp <("$PT" dis "$W/dicts.pkl") <("$PYTHON" -m pickletools "$W/dicts.pkl") >/dev/null &&
	same=identical || same=DIFFERENT
printf 'dis dicts.pkl: pickletools %.2f s, pickletool %.2f s, %sx (output %s)\n' \
	"$td_py" "$td_pk" "$(ratio "$td_py" "$td_pk")" "$same"
