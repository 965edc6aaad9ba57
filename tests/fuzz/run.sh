#!/usr/bin/env bash
# run.sh NAME... [-- LIBFUZZER-OPTIONS] - runs the libFuzzer harnesses
# $BUILD/fuzz-NAME one after the other (one process each, -jobs not used)
# for $FUZZ_SECONDS each, on $BUILD/fuzz-corpus/NAME (kept between runs)
# plus the seeds make-seeds.sh builds. A crash, leak or failed check is
# saved in $BUILD/fuzz-artifacts/NAME/ and makes the exit status 1, after
# the other harnesses ran. The whole output of each run is in
# $BUILD/fuzz-NAME.log; printed here: libFuzzer's last status line
# (executions, cov, ft, corpus) and its -print_final_stats figures.
set -u
BUILD=${BUILD:-build}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
cd "$(dirname "$0")/../.."

names=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	names+=("$1")
	shift
done
[ $# -gt 0 ] && shift
[ ${#names[@]} -gt 0 ] || names=(decode compress dis names edit archive)

# -max_len per harness: what its seeds need (compressed fixtures are ~7 KB;
# compress inputs are also compressed as they are, so allow more; archive
# seeds are a few KB, and a tar member takes 1 KB)
max_len() {
	case $1 in
	compress) echo 65536 ;;
	archive) echo 16384 ;;
	dis) echo 8192 ;;
	*) echo 4096 ;;
	esac
}

bash tests/fuzz/make-seeds.sh "$BUILD/fuzz-seeds" "${names[@]}" || exit 1
failed=()
for n in "${names[@]}"; do
	corpus=$BUILD/fuzz-corpus/$n
	art=$BUILD/fuzz-artifacts/$n/
	log=$BUILD/fuzz-$n.log
	mkdir -p "$corpus" "$art"
	echo "== fuzz-$n: ${FUZZ_SECONDS}s, -max_len=$(max_len "$n")"
	"$BUILD/fuzz-$n" -max_total_time="$FUZZ_SECONDS" \
		-max_len="$(max_len "$n")" -rss_limit_mb=2048 -timeout=60 \
		-print_final_stats=1 -artifact_prefix="$art" "$@" \
		"$corpus" "$BUILD/fuzz-seeds/$n" >"$log" 2>&1
	rc=$?
	grep -E '^#[0-9]+' "$log" | tail -n 1
	grep -E '^Done [0-9]+ runs|^stat::' "$log"
	find "$corpus" -type f -printf '%s\n' |
		awk '{n++; b += $1} END {printf "corpus: %d files, %d bytes\n", n, b}'
	if [ "$rc" -ne 0 ]; then
		tail -n 40 "$log"
		echo "== fuzz-$n FAILED (exit $rc): $art, $log"
		failed+=("$n")
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: failed: ${failed[*]}"
	exit 1
fi
echo "fuzz: ${names[*]}: no failure"
