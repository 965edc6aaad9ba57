#!/usr/bin/env bash
# Runs every test suite: Criterion unit tests (ASan+UBSan), the corpus
# suite (CPython's pickles and real producers through pickletool), the
# tool suite (pickletool ls/get/set/find against real mounts), the scan
# suite (pickletool scan against a corpus of hostile pickles), the
# mount suite (real FUSE mounts driven by real tools) and the model suite
# (tests/model: a Hypothesis model of the write side, its regressions and
# a concurrency soak, on real mounts). Prints one
# summary line per suite and a total "N passed, N failed" line.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
export BUILD PYTHON
cd "$(dirname "$0")/.."

total_pass=0
total_fail=0
failed_suites=()

count() { # suite-name, output file, exit code, seconds it took
	local name=$1 out=$2 rc=$3 secs=$4 line p f
	line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' | tail -n 1)
	f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' | tail -n 1)
	p=${p:-0}
	f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1 # a suite that died without counting its failure
	fi
	echo "== $name: $p passed, $f failed (exit $rc, ${secs}s)"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	[ "$f" -eq 0 ] || failed_suites+=("$name")
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Criterion prints "Synthesis: Tested: N | Passing: N | Failing: N | Crashing: N".
echo "== unit tests (ASan+UBSan)"
start=$SECONDS
ASAN_OPTIONS=detect_leaks=1 "$BUILD/asan/test-unit" --jobs 2 2>&1 | tee "$tmp/unit"
rc=${PIPESTATUS[0]}
syn=$(grep -E 'Synthesis' "$tmp/unit" | tail -n 1)
up=$(sed -nE 's/.*Passing: ([0-9]+).*/\1/p' <<<"$syn")
uf=$(sed -nE 's/.*Failing: ([0-9]+) \| Crashing: ([0-9]+).*/\1 \2/p' <<<"$syn")
echo "unit: ${up:-0} passed, $(( ${uf% *} + ${uf#* } )) failed" >"$tmp/unit.sum"
count unit "$tmp/unit.sum" "$rc" $((SECONDS - start))

for suite in corpus tool scan mount model; do
	[ -f "tests/$suite/run.sh" ] || continue
	echo "== $suite tests"
	start=$SECONDS
	bash "tests/$suite/run.sh" 2>&1 | tee "$tmp/$suite"
	count "$suite" "$tmp/$suite" "${PIPESTATUS[0]}" $((SECONDS - start))
done

echo
echo "all: $total_pass passed, $total_fail failed"
if [ "$total_fail" -ne 0 ]; then
	echo "failing suites: ${failed_suites[*]}"
	exit 1
fi
exit 0
