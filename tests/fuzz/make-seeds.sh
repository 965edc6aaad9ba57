#!/usr/bin/env bash
# make-seeds.sh OUTDIR [NAME...] - seed corpora of the libFuzzer harnesses
# (tests/fuzz/fuzz_NAME.c), built from the committed fixtures into
# OUTDIR/NAME (emptied first). Nothing here is committed: the seeds are
# the fixtures, copied. Deterministic. Runs from the repo root.
#
#   decode, dis  the fuzz seeds, the Python 2 fixtures, every pickle of
#                tests/fixtures/dis (malformed ones included) and
#                tests/fuzz/seeds-joblib (joblib.dump at protocols 2, 4
#                and 5 with object and str arrays, pickle.dump six times
#                into one file, joblib.dump twice into one file) and
#                tests/fuzz/seeds-pandas (DataFrames and Series at
#                protocols 2 and 4: tests/fuzz/pandas-seeds.py)
#   names        the same pickles (their dicts' keys are named)
#   edit         the same pickles, each followed by 32 bytes (its SHA-256):
#                the harness reads what follows STOP as the edits to make
#   compress     tests/fixtures/compress (gzip and bzip2 from Python, also
#                corrupt, truncated and concatenated ones), the gzip of
#                tests/fixtures/py2, a few plain pickles (which the
#                harness compresses), and tests/fuzz/seeds-z: a small
#                pickle as xz (lzma.compress, preset 6 and 1 without a
#                check), zlib (levels 3 and 9) and zstd (the CLI, with
#                and without a checksum)
#   archive      small tar (ustar, GNU, pax) and zip (stored, deflated,
#                zip64, directory entries, a symlink) archives written by
#                /usr/bin/python3's tarfile and zipfile (tests/fuzz/
#                archive-seeds.py), the tar ones cut after their two zero
#                blocks
# and, for every harness, tests/fuzz/regress/NAME: the inputs that found
# bugs (each fixed, with a unit test), so a run starts by replaying them.
set -eu
out=${1:?usage: make-seeds.sh OUTDIR [NAME...]}
shift
[ $# -gt 0 ] || set -- decode compress dis names edit archive

pickles() {
	ls tests/fuzz/seeds/* tests/fixtures/py2/*.pkl tests/fixtures/dis/*.pickle \
	    tests/fuzz/seeds-joblib/* tests/fuzz/seeds-pandas/*
}

for name in "$@"; do
	dir=$out/$name
	rm -rf "$dir"
	mkdir -p "$dir"
	case $name in
	decode | dis | names)
		pickles | while read -r f; do
			cp "$f" "$dir/$(basename "$(dirname "$f")")-$(basename "$f")"
		done
		;;
	edit)
		pickles | while read -r f; do
			seed=$dir/$(basename "$(dirname "$f")")-$(basename "$f")
			cp "$f" "$seed"
			printf "$(sha256sum "$f" | cut -c1-64 | sed 's/../\\x&/g')" \
			    >>"$seed"
		done
		;;
	compress)
		cp tests/fixtures/compress/* tests/fixtures/py2/*.gz "$dir/"
		cp tests/fuzz/seeds/0[1-6]-* tests/fuzz/seeds-z/* "$dir/"
		;;
	archive)
		/usr/bin/python3 tests/fuzz/archive-seeds.py "$dir"
		;;
	*)
		echo "make-seeds.sh: no seeds for $name" >&2
		;;
	esac
	if [ -d "tests/fuzz/regress/$name" ]; then
		for f in tests/fuzz/regress/"$name"/*; do
			cp "$f" "$dir/regress-$(basename "$f")"
		done
	fi
done
