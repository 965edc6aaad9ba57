#!/usr/bin/env bash
# tests/scan/run.sh - `pickletool scan` against the hostile corpus.
#
#   BUILD=build PYTHON=/usr/bin/python3 bash tests/scan/run.sh
#
# Writes the corpus with tests/scan/make_hostile.py into $SCAN_OUT (default
# $BUILD/scan-hostile) and runs $PICKLETOOL (default $BUILD/asan/pickletool)
# on it.  Each line of MANIFEST.tsv (FILE, EXPECT, DESCRIPTION, KIND) is one
# check:
#   DANGEROUS   `scan FILE` exits 1 and prints a finding line
#               "...: byte N: dangerous ..." containing EXPECT (grep -F)
#   SUSPICIOUS  `scan FILE` exits 0, `scan --strict FILE` exits 3, and a
#               finding line "...: byte N: suspicious ..." contains EXPECT
#   CLEAN       `scan FILE` exits 0 with no dangerous/suspicious finding line
# and for every kind `scan --json FILE` prints valid JSON (python -m
# json.tool) that contains EXPECT (not checked for CLEAN's '-'), with the
# same exit status.  No run may print a sanitizer report or take over 60 s.
# Then `scan OUTDIR` (the whole directory at once): exits 1 (one check) and
# has a dangerous finding line naming each DANGEROUS line's FILE and EXPECT
# (one check each).  One more check first: tests/scan/oracle.py check, the
# corpus against its manifest on a symbolic pickle machine.
#
# Output contract followed by the scanner: one line per finding
#   FILE[/member/path]: byte N: dangerous|suspicious call|global MODULE.NAME [ARGS] at PATH
# then a summary line.
#
# Prints "FAIL ..." for each failed check and ends with
# "scan: N passed, N failed"; exits 1 when any check failed.  Without a
# `scan` command (pickletool exits 2 with its usage) every check fails
# with that reason.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
PICKLETOOL=${PICKLETOOL:-$BUILD/asan/pickletool}
cd "$(dirname "$0")/../.." || exit 2
REPO=$(pwd)
OUT=${SCAN_OUT:-$BUILD/scan-hostile}
TIMEOUT=${SCAN_TIMEOUT:-60}

pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() {
	echo "FAIL $*"
	fail=$((fail + 1))
}
finish() {
	echo "scan: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit $?
}

tmp=$(mktemp -d)
mpid=
# unmount what we mounted and stop what we started, even on failure
trap 'if mountpoint -q "$tmp/mnt" 2>/dev/null; then fusermount3 -u "$tmp/mnt" 2>/dev/null || fusermount3 -u -z "$tmp/mnt"; fi; [ -z "$mpid" ] || kill "$mpid" 2>/dev/null; rm -rf "$tmp"' EXIT

rm -rf "$OUT"
mkdir -p "$OUT"
if ! "$PYTHON" tests/scan/make_hostile.py "$OUT" >"$tmp/make.log" 2>&1; then
	cat "$tmp/make.log"
	bad "make_hostile.py: could not write the corpus"
	finish
fi
MANIFEST=$OUT/MANIFEST.tsv

# The corpus itself: each expectation holds on a symbolic pickle machine
# (tests/scan/oracle.py; it imports and calls nothing a pickle names).
if "$PYTHON" tests/scan/oracle.py check "$OUT" >"$tmp/oracle.log" 2>&1; then
	ok
else
	grep -E '^FAIL|Error' "$tmp/oracle.log" | sed 's/^/    /'
	bad "oracle.py check: the corpus does not hold what MANIFEST.tsv says"
fi

# Every check fails with one reason (no tool, no scan command).
fail_all() {
	local why=$1 file expect desc kind
	while IFS=$'\t' read -r file expect desc kind <&3; do
		bad "$file: $kind $expect: $why"
	done 3<"$MANIFEST"
	bad "scan $OUT (whole directory): $why"
	finish
}

if [ ! -x "$PICKLETOOL" ]; then
	fail_all "$PICKLETOOL not found (build it: make $PICKLETOOL)"
fi

# run NAME ARGS...: runs pickletool with a timeout; stdout, stderr and the
# exit status in $tmp/NAME.{out,err,rc}.
run() {
	local name=$1 rc
	shift
	timeout "$TIMEOUT" "$PICKLETOOL" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null
	rc=$?
	echo "$rc" >"$tmp/$name.rc"
}
rc_of() { cat "$tmp/$1.rc"; }

# A sanitizer report or a timeout, as a reason string (empty if none).
trouble() {
	local name=$1
	if [ "$(rc_of "$name")" = 124 ]; then
		echo "timed out after ${TIMEOUT}s"
	elif grep -qE 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' "$tmp/$name.err"; then
		echo "sanitizer: $(grep -m1 -E 'ERROR: |runtime error:' "$tmp/$name.err")"
	fi
}

# Does pickletool have a scan command?  Asked with a harmless fixture.
run probe scan "$OUT/clean_dict.pkl"
if [ "$(rc_of probe)" = 2 ] && grep -qi 'usage' "$tmp/probe.err" "$tmp/probe.out"; then
	fail_all "pickletool has no scan command (exit 2: $(grep -h -m1 -i usage "$tmp/probe.err" "$tmp/probe.out" | head -n1 | cut -c1-120))"
fi

# Finding lines (not the summary): "...: byte N: dangerous ..." or suspicious.
findings() { # name kind(dangerous|suspicious)
	grep -E ": byte [0-9]+: $2 " "$tmp/$1.out"
}

json_ok() { # name expect
	local name=$1 expect=$2
	if ! "$PYTHON" -m json.tool "$tmp/$name.out" >/dev/null 2>"$tmp/$name.jsonerr"; then
		echo "--json output is not valid JSON ($(head -c 120 "$tmp/$name.jsonerr"))"
		return
	fi
	if [ "$expect" != "-" ] && ! grep -qF -- "$expect" "$tmp/$name.out"; then
		echo "--json output does not contain $expect"
	fi
}

n=0
while IFS=$'\t' read -r file expect desc kind <&3; do
	n=$((n + 1))
	path=$OUT/$file
	kind=${kind:-DANGEROUS}
	why=()
	run "p$n" scan "$path"
	run "j$n" scan --json "$path"
	for r in "p$n" "j$n"; do
		t=$(trouble "$r")
		[ -z "$t" ] || why+=("$t")
	done
	rc=$(rc_of "p$n")
	jrc=$(rc_of "j$n")
	case $kind in
	DANGEROUS)
		[ "$rc" = 1 ] || why+=("exit $rc, want 1")
		findings "p$n" dangerous | grep -qF -- "$expect" ||
			why+=("no 'dangerous' finding line with $expect")
		;;
	SUSPICIOUS)
		[ "$rc" = 0 ] || why+=("exit $rc, want 0 without --strict")
		run "s$n" scan --strict "$path"
		t=$(trouble "s$n")
		[ -z "$t" ] || why+=("--strict: $t")
		[ "$(rc_of "s$n")" = 3 ] || why+=("--strict exit $(rc_of "s$n"), want 3")
		findings "p$n" suspicious | grep -qF -- "$expect" ||
			why+=("no 'suspicious' finding line with $expect")
		if findings "p$n" dangerous >/dev/null; then
			why+=("reported dangerous, want suspicious")
		fi
		;;
	CLEAN)
		[ "$rc" = 0 ] || why+=("exit $rc, want 0")
		if findings "p$n" '(dangerous|suspicious)' >"$tmp/fp$n"; then
			why+=("false positive: $(head -n1 "$tmp/fp$n" | cut -c1-160)")
		fi
		;;
	*)
		why+=("manifest kind '$kind' unknown")
		;;
	esac
	[ "$jrc" = "$rc" ] || why+=("--json exit $jrc, plain exit $rc")
	j=$(json_ok "j$n" "$expect")
	[ -z "$j" ] || why+=("$j")
	if [ ${#why[@]} -eq 0 ]; then
		ok
	else
		msg=$(printf '%s; ' "${why[@]}")
		bad "$file: $kind $expect: ${msg%; } [$desc]"
		head -n 5 "$tmp/p$n.out" "$tmp/p$n.err" 2>/dev/null | sed 's/^/    /'
	fi
done 3<"$MANIFEST"

# The whole directory at once.
run dir scan "$OUT"
t=$(trouble dir)
rc=$(rc_of dir)
if [ -z "$t" ] && [ "$rc" = 1 ]; then
	ok
else
	bad "scan $OUT (whole directory): exit $rc, want 1 ${t:+($t)}"
	head -n 5 "$tmp/dir.err" | sed 's/^/    /'
fi
while IFS=$'\t' read -r file expect desc kind <&3; do
	[ "${kind:-DANGEROUS}" = DANGEROUS ] || continue
	if findings dir dangerous | grep -F -- "/$file" | grep -qF -- "$expect"; then
		ok
	else
		bad "scan $OUT (whole directory): no dangerous finding line for $file with $expect"
	fi
done 3<"$MANIFEST"

# Benign real producers (the corpus suite's fixtures: CPython, numpy,
# pandas, scikit-learn, dill, ...; and the committed torch checkpoints):
# what is not clean is exactly what does run code of its own: dill's
# closures call builtins.setattr (dangerous); classes of the test module,
# dill's lambdas (types.CodeType) and namedtuple/dataclass/enum types are
# suspicious; numpy, pandas, scikit-learn and torch are clean.
FX=$BUILD/corpus/fixtures
if [ -d "$FX" ]; then
	"$PICKLETOOL" scan "$FX" "$REPO/tests/fixtures/torch" >"$tmp/benign.out" 2>"$tmp/benign.err"
	echo "info: benign corpus: $(tail -n 1 "$tmp/benign.out")"
	dang=$(grep ': byte [0-9]*: dangerous ' "$tmp/benign.out" | sed 's/: byte.*//' | xargs -rn1 basename | sed 's/-p[0-9]*\.pkl$//' | sort -u | tr '\n' ' ')
	if [ "$dang" = "dill-nested-function " ]; then ok; else
		bad "benign corpus: dangerous should be dill-nested-function only, got '$dang'"
	fi
	notclean=$(grep ': byte [0-9]*: \(dangerous\|suspicious\) ' "$tmp/benign.out" | sed 's/: byte.*//' | xargs -rn1 basename | grep -E '^(numpy|pandas|sklearn|datetime|decimal|ordereddict|counter|defaultdict|fraction|complex|bytes|str|ints|floats)|\.pt$' | sort -u | tr '\n' ' ')
	if [ -z "$notclean" ]; then ok; else
		bad "benign corpus: numpy / pandas / sklearn / stdlib / torch files not clean: $notclean"
	fi
	if grep -q "Sanitizer\|runtime error" "$tmp/benign.err"; then
		bad "benign corpus: sanitizer report: $(head -c 300 "$tmp/benign.err")"
	else ok; fi
else
	echo "info: no $FX (the corpus suite makes it): benign corpus not scanned"
fi

# The same verdicts in a mount: user.pickle.scan on each pickle's top,
# user.pickle.danger on the value a dangerous call makes.
PF=${PICKLEFS:-$REPO/$BUILD/asan/picklefs}
case "$BUILD" in /*) PF=${PICKLEFS:-$BUILD/asan/picklefs} ;; esac
MNT=$tmp/mnt
mkdir -p "$MNT"
if [ -x "$PF" ] && [ -e /dev/fuse ]; then
	"$PF" -f "$OUT" "$MNT" 2>"$tmp/mount.err" &
	mpid=$!
	for _ in $(seq 100); do mountpoint -q "$MNT" && break; sleep 0.05; done
	xa() { getfattr --absolute-names --only-values -n "$1" "$2" 2>&1; }
	want() { # name got want
		if [ "$2" = "$3" ]; then ok; else bad "mount $1: got '$2', want '$3'"; fi
	}
	want "plain_os_system.pkl user.pickle.scan" "$(xa user.pickle.scan "$MNT/plain_os_system.pkl")" "dangerous: posix.system"
	want "clean_dict.pkl user.pickle.scan" "$(xa user.pickle.scan "$MNT/clean_dict.pkl")" "clean"
	want "nested.tar.gz member user.pickle.scan" "$(xa user.pickle.scan "$MNT/nested.tar.gz/inner.zip/evil.pkl")" "dangerous: posix.system"
	want "user.pickle.danger of the call" "$(xa user.pickle.danger "$MNT/plain_os_system.pkl")" "posix.system ('echo pwned',)"
	fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -u -z "$MNT"
	wait "$mpid"
	mpid=
	if grep -q "Sanitizer\|runtime error" "$tmp/mount.err"; then
		bad "mount: sanitizer report: $(head -c 300 "$tmp/mount.err")"
	else ok; fi
else
	bad "no $PF or /dev/fuse: the mount's scan xattrs not checked"
fi

finish
