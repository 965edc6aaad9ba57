#!/usr/bin/env bash
# Write benchmark, side by side with CPython in one run (best of $RUNS):
#  a. change one value in a ~100 MB pickle (2,000,000 small dicts,
#     protocol 4) through the mount, timed from open() until close()
#     returns (the pickle is on disk then; the tree is already parsed),
#     vs CPython doing pickle.load + the change + pickle.dump of the same
#     file (to a temporary file, fsync, rename: the same guarantees as
#     picklefs' write-back); also once cold (mount + first access + edit);
#  b. `sed -i` over 1,000 small values of one pickle (a dict of 1,000 ints,
#     each its own file) with -o writeback=1: the time of the 1,000 sed
#     runs, and until all 1,000 edits are in the pickle on disk; and the
#     same without writeback (every sed -i rewrites the pickle).
# Not a test: it prints, it does not judge.
#
#   BUILD=build RUNS=3 bash scripts/bench-write.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3}
BUILD=${BUILD:-build}
RUNS=${RUNS:-3}
W=${BENCH_DIR:-$BUILD/bench}/write
PF=${PICKLEFS:-$BUILD/picklefs}
mkdir -p "$W"
MNT=$(mktemp -d /tmp/picklefs-bench-write-XXXXXX)
pids=()
cleanup() {
	mountpoint -q "$MNT" && fusermount3 -u "$MNT" 2>/dev/null || true
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rmdir "$MNT" 2>/dev/null || true
	rm -rf "$W/a" "$W/b" # the edited copies (dicts.orig stays, a cache)
}
trap cleanup EXIT

[ -x "$PF" ] || { echo "no $PF (make $PF)" >&2; exit 1; }

# fresh inputs every run: the benchmark edits them
rm -rf "$W/a" "$W/b"
mkdir -p "$W/a" "$W/b"
"$PYTHON" - "$W" <<'PY'
import os, pickle, sys
w = sys.argv[1]
if not os.path.exists(w + '/dicts.orig'):
    rows = [{'id': i, 'name': 'user%07d' % i, 'mail': 'u%07d@x' % i,
             'score': i * 0.5} for i in range(2_000_000)]
    with open(w + '/dicts.orig', 'wb') as f:
        pickle.dump(rows, f, 4)
with open(w + '/b/ints', 'wb') as f:
    pickle.dump({'k%04d' % i: i for i in range(1000)}, f, 4)
PY
cp "$W/dicts.orig" "$W/a/dicts.pkl"

. scripts/bench-lib.sh # (the script runs from the repo root)
mount_pf() { # mount_pf ARGS... (SOURCE last): picklefs -f in the background
	"$PF" -f "$@" "$MNT" 2>>"$W/picklefs.log" &
	MPID=$!
	pids+=("$MPID")
	local i
	for i in $(seq 1000); do mountpoint -q "$MNT" && return 0; sleep 0.01; done
	echo "picklefs did not mount: $(tail -3 "$W/picklefs.log")" >&2
	exit 1
}
unmount_pf() {
	fusermount3 -u "$MNT"
	wait "$MPID" || true
}
# edit_time PATH TEXT: seconds from open() until close() returned
edit_time() {
	"$PYTHON" - "$1" "$2" <<'PY'
import sys, time
t = time.perf_counter()
f = open(sys.argv[1], 'w')
f.write(sys.argv[2])
f.close()
print('%.3f' % (time.perf_counter() - t))
PY
}

size=$(stat -c %s "$W/a/dicts.pkl")
echo "a. one value in dicts.pkl ($((size / 1000000)) MB, 2,000,000 dicts, protocol 4)"
sync

# cold: mount + first access (parse) + edit
s=$(now)
mount_pf "$W/a"
e=$(edit_time "$MNT/dicts.pkl/1000000/score" "0.25")
t_cold=$(echo "$(now) - $s" | bc)
# warm: the tree is parsed; each edit is open/write/close
t_pk=()
for r in $(seq "$RUNS"); do
	t_pk+=("$(edit_time "$MNT/dicts.pkl/1000000/score" "$r.5")")
done
unmount_pf
"$PYTHON" -c '
import pickle, sys
rows = pickle.load(open(sys.argv[1], "rb"))
assert rows[1000000]["score"] == float(sys.argv[2]), rows[1000000]
assert len(rows) == 2000000' "$W/a/dicts.pkl" "$RUNS.5" || echo "   (!) the edit is not in the pickle on disk"

t_py=()
for r in $(seq "$RUNS"); do
	t_py+=("$("$PYTHON" - "$W/a/dicts.pkl" "$r" <<'PY'
import os, pickle, sys, time
path = sys.argv[1]
t = time.perf_counter()
with open(path, 'rb') as f:
    rows = pickle.load(f)
rows[1000000]['score'] = float(sys.argv[2]) + 0.75
tmp = path + '.tmp'
with open(tmp, 'wb') as f:
    pickle.dump(rows, f, 4)
    f.flush()
    os.fsync(f.fileno())
os.replace(tmp, path)
print('%.3f' % (time.perf_counter() - t))
PY
)")
done
pk=$(printf '%s\n' "${t_pk[@]}" | best)
py=$(printf '%s\n' "${t_py[@]}" | best)
printf '   picklefs, open/write/close of one value:   %7.3f s  (best of %d: %s)\n' "$pk" "$RUNS" "${t_pk[*]}"
printf '   CPython, load + change + dump (fsync):     %7.3f s  (best of %d: %s)\n' "$py" "$RUNS" "${t_py[*]}"
printf '   ratio picklefs / CPython:                  %7.2f\n' "$(echo "scale=4; $pk / $py" | bc)"
printf '   picklefs cold (mount + parse + edit):      %7.3f s  (the first open/write/close, parse included: %s s)\n' "$t_cold" "$e"

echo "b. sed -i over 1,000 values of one pickle (a dict of 1,000 ints)"
for mode in writeback=1 default; do
	cp "$W/b/ints" "$W/b/ints.work"
	mkdir -p "$W/b/src"
	mv "$W/b/ints.work" "$W/b/src/ints"
	if [ "$mode" = default ]; then mount_pf "$W/b/src"; else mount_pf -o "$mode" "$W/b/src"; fi
	ls "$MNT/ints" >/dev/null
	s=$(now)
	for f in "$MNT"/ints/*; do sed -i 's/^/1/' "$f"; done
	t_sed=$(echo "$(now) - $s" | bc)
	# until all 1,000 edits are in the pickle on disk
	"$PYTHON" - "$W/b/src/ints" <<'PY'
import pickle, sys, time
deadline = time.time() + 30
while time.time() < deadline:
    try:
        d = pickle.load(open(sys.argv[1], 'rb'))
        if all(v == int('1%d' % i) for i, v in enumerate(d.values())):
            break
    except Exception:
        pass
    time.sleep(0.02)
else:
    print('   (!) not all 1,000 edits reached the disk within 30 s')
PY
	t_disk=$(echo "$(now) - $s" | bc)
	unmount_pf
	printf '   %-12s 1,000 x sed -i: %6.2f s (%.1f ms each); all on disk after %6.2f s\n' \
		"$mode:" "$t_sed" "$t_sed" "$t_disk"
	rm -rf "$W/b/src"
done
