#!/usr/bin/env bash
# Mount benchmark (issue "Browse"), side by side with CPython in one run:
#  1. start picklefs on a ~100 MB list-of-dicts pickle and `cat` the last
#     element's name, vs a python3 one-liner that loads it and prints it;
#  2. peak memory (max RSS) of picklefs for that, vs the one-liner's;
#  3. `cat` of the 100 MB `data` of a numpy array pickle, vs a trivial
#     in-memory FUSE file (scripts/bench-memfs.c) on the same machine;
#  4. mount of a folder of 1,000 pickles and `ls` of it.
# Figures are best of $RUNS. Not a test: it prints, it does not judge.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3}
BUILD=${BUILD:-build}
RUNS=${RUNS:-3}
W=${BENCH_DIR:-$BUILD/bench}
PF=$BUILD/picklefs
mkdir -p "$W"
MNT=$(mktemp -d)
pids=()
cleanup() {
	mountpoint -q "$MNT" && fusermount3 -u "$MNT" 2>/dev/null || true
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rmdir "$MNT" 2>/dev/null || true
}
trap cleanup EXIT

"$PYTHON" - "$W" <<'PY'
import os, pickle, sys, numpy as np
w = sys.argv[1]
if not os.path.exists(w + '/dicts.pkl'):
    cities = ('Paris', 'Lima', 'Oslo')
    data = [{'id': i, 'name': 'user%07d' % i, 'score': i * 0.5,
             'ok': i % 3 == 0, 'city': cities[i % 3], 'rank': i % 1000}
            for i in range(2_000_000)]
    open(w + '/dicts.pkl', 'wb').write(pickle.dumps(data, 4))
if not os.path.exists(w + '/array.pkl'):
    a = np.arange(100 * 2**20 // 8, dtype=np.float64)
    open(w + '/array.pkl', 'wb').write(pickle.dumps(a, 4))
d = w + '/folder'
if not os.path.isdir(d):
    os.makedirs(d)
    for i in range(1000):
        with open('%s/p%04d.pkl' % (d, i), 'wb') as f:
            pickle.dump({'id': i, 'values': list(range(50))}, f, 4)
PY
gcc -std=c11 -D_GNU_SOURCE -O2 $(pkg-config --cflags fuse3) scripts/bench-memfs.c -o "$W/bench-memfs" $(pkg-config --libs fuse3) -lpthread

. scripts/bench-lib.sh # (the script runs from the repo root)

size=$(stat -c %s "$W/dicts.pkl")
echo "dicts.pkl: $((size / 1000000)) MB, 2,000,000 dicts"

# 1 + 2: time to the last element, and peak memory
t_py=() ; t_pk=() ; m_py=() ; m_pk=()
for r in $(seq "$RUNS"); do
	sync; s=$(now)
	out=$(/usr/bin/time -f '%M' -o "$W/py.rss" "$PYTHON" -c \
		"import pickle,sys; print(pickle.load(open(sys.argv[1],'rb'))[-1]['name'])" "$W/dicts.pkl")
	t_py+=("$(echo "$(now) - $s" | bc -l)"); m_py+=("$(cat "$W/py.rss")")
	[ "$out" = user1999999 ] || { echo "python printed $out" >&2; exit 1; }

	s=$(now)
	/usr/bin/time -f '%M' -o "$W/pk.rss" "$PF" -f "$W/dicts.pkl" "$MNT" &
	pids+=($!)
	wait_mounted
	out=$(cat "$MNT/1999999/name")
	t_pk+=("$(echo "$(now) - $s" | bc -l)")
	[ "$out" = user1999999 ] || { echo "picklefs printed $out" >&2; exit 1; }
	unmount; wait "${pids[-1]}" || true
	m_pk+=("$(cat "$W/pk.rss")")
done
tp=$(printf '%s\n' "${t_py[@]}" | best); tk=$(printf '%s\n' "${t_pk[@]}" | best)
mp=$(printf '%s\n' "${m_py[@]}" | best); mk=$(printf '%s\n' "${m_pk[@]}" | best)
printf 'last element: python %.3f s, picklefs %.3f s -> %.1fx faster\n' "$tp" "$tk" "$(echo "$tp / $tk" | bc -l)"
printf 'peak memory:  python %d MB, picklefs %d MB -> %.2f of python\n' $((mp / 1024)) $((mk / 1024)) "$(echo "$mk / $mp" | bc -l)"

# 3: array data throughput vs the in-memory reference
rd() { dd if="$1" of=/dev/null bs=1M 2>&1 | awk '/copied/ {print $(NF-1), $NF}'; }
secs() { local s; s=$(now); cat "$1" >/dev/null; echo "$(now) - $s" | bc -l; }
"$W/bench-memfs" $((100 * 1024 * 1024)) "$MNT" & pids+=($!)
wait_mounted
t_ref=(); for r in $(seq "$RUNS"); do t_ref+=("$(secs "$MNT/data")"); done
unmount; wait "${pids[-1]}" || true
"$PF" -f "$W/array.pkl" "$MNT" & pids+=($!)
wait_mounted
cat "$MNT/data" >/dev/null # first read maps the pickle
t_arr=(); for r in $(seq "$RUNS"); do t_arr+=("$(secs "$MNT/data")"); done
dsize=$(stat -c %s "$MNT/data")
unmount; wait "${pids[-1]}" || true
tr_=$(printf '%s\n' "${t_ref[@]}" | best); ta=$(printf '%s\n' "${t_arr[@]}" | best)
printf 'array data:   reference %.0f MB/s, picklefs %.0f MB/s -> %.0f%% of reference (%d bytes)\n' \
	"$(echo "104857600 / $tr_ / 1000000" | bc -l)" "$(echo "$dsize / $ta / 1000000" | bc -l)" \
	"$(echo "100 * ($dsize / $ta) / (104857600 / $tr_)" | bc -l)" "$dsize"

# 4: folder of 1,000 pickles
t_f=()
for r in $(seq "$RUNS"); do
	s=$(now)
	"$PF" -f "$W/folder" "$MNT" & pids+=($!)
	wait_mounted
	n=$(ls "$MNT" | wc -l)
	t_f+=("$(echo "$(now) - $s" | bc -l)")
	[ "$n" -eq 1000 ] || { echo "ls showed $n entries" >&2; exit 1; }
	unmount; wait "${pids[-1]}" || true
done
printf 'folder of 1,000 pickles: mount + ls %.3f s\n' "$(printf '%s\n' "${t_f[@]}" | best)"
