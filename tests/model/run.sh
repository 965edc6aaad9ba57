#!/usr/bin/env bash
# Model-based tests of the write side, against real mounts of the ASan
# picklefs ($BUILD/asan/picklefs):
#
#   BUILD=build PYTHON=/usr/bin/python3 bash tests/model/run.sh
#
#   regressions.py   every counterexample the model found, replayed as a
#                    plain sequence of steps (and the contract's own
#                    examples)
#   edit_model.py    Hypothesis stateful test: random edits with real tools
#                    (echo, Python, sed -i, vim, truncate, rm, rm -r, mkdir,
#                    mv, setfattr, outside rewrites ...), every check after
#                    every step, over file and folder SOURCEs, protocols
#                    0/2/5, none/gzip/bzip2, write-back at close and
#                    -o writeback=1. Derandomized: CI runs the same examples.
#   soak.py          8 writer processes and 2 readers on one 200-key pickle
#                    for SOAK_SECONDS; every acknowledged value on disk
#
# Longer runs: MODEL_EXAMPLES=200 MODEL_STEPS=30 SOAK_SECONDS=300; random
# (not derandomized) examples: MODEL_SEED=1. MODEL_KEEP=1 keeps the
# examples' folders (sources, mount logs) in $MODEL_WORK.
# Prints "FAIL ..." per failure and ends with "model: N passed, N failed";
# exit status 1 when something failed.
set -u

BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BIN=${PICKLEFS:-$REPO/$BUILD/asan/picklefs}
case "$BUILD" in /*) BIN=${PICKLEFS:-$BUILD/asan/picklefs} ;; esac
export PICKLEFS=$BIN BUILD
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
MODEL_WORK=$(mktemp -d /tmp/picklefs-model-XXXXXX)
export MODEL_WORK

# The Python scripts list every mount point and picklefs pid they start in
# $MODEL_WORK/mounts and $MODEL_WORK/pids; whatever is still there when we
# exit (a crash, ^C) is unmounted and stopped here, by pid, only if it is
# the picklefs we started.
cleanup() {
	local m p
	if [ -f "$MODEL_WORK/mounts" ]; then
		while read -r m; do
			if mountpoint -q "$m" 2>/dev/null; then
				fusermount3 -u "$m" 2>/dev/null || fusermount3 -u -z "$m" 2>/dev/null
			fi
		done <"$MODEL_WORK/mounts"
	fi
	if [ -f "$MODEL_WORK/pids" ]; then
		while read -r p; do
			if kill -0 "$p" 2>/dev/null && tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q "^$BIN "; then
				kill "$p" 2>/dev/null
			fi
		done <"$MODEL_WORK/pids"
	fi
	if [ "${MODEL_KEEP:-0}" = 1 ]; then
		echo "model: kept $MODEL_WORK"
	else
		rm -rf "$MODEL_WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PASS=0
FAIL=0
if [ ! -x "$BIN" ]; then
	echo "FAIL no $BIN (make $BUILD/asan/picklefs)"
	echo "model: 0 passed, 1 failed"
	exit 1
fi
if [ ! -e /dev/fuse ]; then
	echo "FAIL /dev/fuse is missing"
	echo "model: 0 passed, 1 failed"
	exit 1
fi
if ! "$PYTHON" -c 'import hypothesis' 2>/dev/null; then
	echo "FAIL $PYTHON has no hypothesis (bash scripts/install-deps.sh)"
	echo "model: 0 passed, 1 failed"
	exit 1
fi

# part NAME SCRIPT ARGS...: runs one part, adds its "N passed, N failed"
part() {
	local name=$1 out line p f rc
	shift
	out=$MODEL_WORK/out.$name
	echo "== model: $name"
	"$PYTHON" "$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+')
	f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+')
	p=${p:-0}
	f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL model $name: exit $rc without a count"
		f=1
	fi
	PASS=$((PASS + p))
	FAIL=$((FAIL + f))
}

part regressions "$HERE/regressions.py"
part hypothesis "$HERE/edit_model.py"
part soak "$HERE/soak.py"

echo "model: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
