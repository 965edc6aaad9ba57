#!/usr/bin/env bash
# pandas frame views (README, "How values appear"): a pickled DataFrame or
# Series is a directory of one file per column, then __index__,
# __frame__.csv and __raw__, on a real mount (of a folder of pickles) of
# the ASan picklefs, checked with /usr/bin/python3 (pandas) against the
# frames that were pickled (tests/mount/make_frames.py writes them and,
# beside each, the views expected of it; tests/mount/frames_check.py
# compares).
#
#   BUILD=build PYTHON=/usr/bin/python3 bash tests/mount/frames.sh
#
#   read    int64/int32/uint8/float64/float32/bool/str/mixed object/
#           datetime64/categorical columns; RangeIndex (with start and
#           step), str, datetime, float and Multi indexes; int column
#           labels, a label with '/' or '%', an int label that clashes
#           with a str one (1%int); a block of non-adjacent columns (after
#           copy()) and one block per column; an empty frame; named and
#           unnamed Series; protocols 2, 4, 5 and to_pickle; a
#           pandas-2-style pickle (numeric indexes as plain Index) of
#           frames below the top: os.listdir is the columns in order, then
#           __index__ __frame__.csv __raw__; every column file and
#           __index__ is the expected text, its stat size what cat reads;
#           __frame__.csv's header, records and pandas.read_csv give the
#           frame back; __raw__ is the object as shown without views;
#           np.loadtxt of numeric columns gives their values
#   raw     a frame with a tz-aware datetime column, one with a timedelta
#           column: shown as before (__class__ _mgr ...), no views, and
#           the log (-o log=FILE) names the file and why; no other
#           fixture is named in the log
#   modes   numeric, bool and str columns rw-, __index__, __frame__.csv,
#           datetime, categorical and mixed columns r--; writing those is
#           EPERM, pickle unchanged
#   edit    sed -i / printf of column files (int, uint, float32/64, bool,
#           str with escapes, a column in a block of non-adjacent columns,
#           a Series, protocols 2 / 4 / 5 / to_pickle, the pandas-2-style
#           pickle): pickle.load gives the frame with that column changed
#           and everything else equal; a wrong line count, a non-number,
#           1.5 for an int, a value out of range is EINVAL, pickle and
#           column file unchanged
#
# Ends with "frames: N passed, N failed"; exit 1 when something failed.
set -u

SUITE=frames
. "$(dirname "$0")/lib.sh"

need_bin
if ! "$PYTHON" -c 'import numpy, pandas' 2>/dev/null; then
	echo "FAIL $PYTHON has no numpy or pandas (scripts/install-deps.sh)"
	echo "frames: 0 passed, 1 failed"
	exit 1
fi

S=$WORK/src  # the pickles (mounted) and their NAME.json
O=$WORK/orig # untouched copies of the pickles
M=$WORK/m
LOG=$WORK/daemon.log
mkdir -p "$S" "$O"
if ! "$PYTHON" "$HERE/make_frames.py" "$S" >"$WORK/make.out" 2>&1; then
	bad "make_frames.py failed: $(tail -c 600 "$WORK/make.out" | tr '\n' ' ')"
	echo "frames: $PASS passed, $FAIL failed"
	exit 1
fi
cp "$S"/*.pkl "$O"/
mount_fs "$M" -o log="$LOG" "$S" || {
	echo "frames: $PASS passed, $FAIL failed"
	exit 1
}

# fold OUT WHAT: the FAIL lines and "ok N" of a frames_check.py run
fold() {
	local n
	grep '^FAIL' "$1"
	FAIL=$((FAIL + $(grep -c '^FAIL' "$1")))
	n=$(sed -n 's/^ok //p' "$1")
	if [ -n "$n" ]; then PASS=$((PASS + n)); else
		bad "$2: checker died: $(tail -3 "$1" | tr '\n' ' ')"
	fi
}
colf() { # colf NAME PATH FILE: a file of the frame at PATH in NAME.pkl
	if [ -n "$2" ]; then echo "$M/$1.pkl/$2/$3"; else echo "$M/$1.pkl/$3"; fi
}
want_text() { "$PYTHON" "$HERE/frames_check.py" text "$S" "$1" "$2" "$3"; }
# pywrite FILE TEXT: writes TEXT (open 'w', one write, close); prints
# "no error" or the errno
pywrite() {
	"$PYTHON" -c '
import sys
try:
    with open(sys.argv[1], "w", encoding="utf-8", newline="") as f:
        f.write(sys.argv[2])
    print("no error")
except OSError as e:
    print(e.errno)' "$1" "$2"
}

# ---- read ------------------------------------------------------------------
"$PYTHON" "$HERE/frames_check.py" read "$M" "$S" "$O" >"$WORK/read.out" 2>&1
fold "$WORK/read.out" read
is "num4: ls -f" "$(mlisting "$M/num4.pkl")" "i64 i32 u8 f64 f32 b s when __index__ __frame__.csv __raw__ "
is "names: ls -f" "$(mlisting "$M/names.pkl")" "a%2Fb 50%25 1%int 1 __index__ __frame__.csv __raw__ "
is "ser_unnamed: ls -f" "$(mlisting "$M/ser_unnamed.pkl")" "0 __index__ __frame__.csv __raw__ "
is "pd2/ints: ls -f" "$(mlisting "$M/pd2.pkl/ints")" "10 20 __index__ __frame__.csv __raw__ "
is "num4: cat __raw__/_typ" "$(cat "$M/num4.pkl/__raw__/_typ" 2>&1)" dataframe
is "num4: cat __raw__/__class__" "$(cat "$M/num4.pkl/__raw__/__class__" 2>&1)" pandas.core.frame.DataFrame
is "ser_named: cat __raw__/__class__" "$(cat "$M/ser_named.pkl/__raw__/__class__" 2>&1)" pandas.core.series.Series
is "num4: head -3 s" "$(head -3 "$M/num4.pkl/s" 2>&1)" "plain
a,b
say \"hi\""
is "num4: __frame__.csv header" "$(head -1 "$M/num4.pkl/__frame__.csv" 2>&1)" ",i64,i32,u8,f64,f32,b,s,when"
is "idx_multi4: __frame__.csv header" "$(head -1 "$M/idx_multi4.pkl/__frame__.csv" 2>&1)" "letter,num,x,y"
is "idx_multi4: __index__ (TAB between levels)" "$(cat "$M/idx_multi4.pkl/__index__" 2>&1)" $'a\t1\na\t2\nb\t1'
is "idx_range: __index__" "$(tr '\n' ' ' 2>&1 <"$M/idx_range.pkl/__index__")" "10 12 14 16 18 "
is "empty: a column of no rows is empty" "$(stat -c %s "$M/empty.pkl/a" 2>&1)" 0

# ---- shown raw -------------------------------------------------------------
for r in aware deltas; do
	check "$r: shown raw (__class__)" test -f "$M/$r.pkl/__class__"
	check "$r: shown raw (_mgr)" test -d "$M/$r.pkl/_mgr"
	check "$r: no __frame__.csv" test ! -e "$M/$r.pkl/__frame__.csv"
	check "$r: no __raw__" test ! -e "$M/$r.pkl/__raw__"
	is "$r: cat _typ" "$(cat "$M/$r.pkl/_typ" 2>&1)" dataframe
done
check "log: the tz-aware frame, and why" sh -c "grep -F 'aware.pkl' '$LOG' | grep -qiE 'tz|utc|zone'"
check "log: the timedelta frame, and why" sh -c "grep -F 'deltas.pkl' '$LOG' | grep -qi 'timedelta'"
for j in "$S"/*.json; do
	n=$(basename "$j" .json)
	case $n in aware | deltas) continue ;; esac
	check "log: nothing about $n.pkl (shown with views)" sh -c "! grep -F '$n.pkl' '$LOG'"
done

# ---- modes, EPERM ----------------------------------------------------------
is "num4/i64 is rw-" "$(stat -c %A "$M/num4.pkl/i64" 2>&1)" "-rw-r--r--"
is "num4/s is rw-" "$(stat -c %A "$M/num4.pkl/s" 2>&1)" "-rw-r--r--"
is "num4/__index__ is r--" "$(stat -c %A "$M/num4.pkl/__index__" 2>&1)" "-r--r--r--"
is "num4/__frame__.csv is r--" "$(stat -c %A "$M/num4.pkl/__frame__.csv" 2>&1)" "-r--r--r--"
is "num4/when is r--" "$(stat -c %A "$M/num4.pkl/when" 2>&1)" "-r--r--r--"
is "misc4/cat is r--" "$(stat -c %A "$M/misc4.pkl/cat" 2>&1)" "-r--r--r--"
# eperm NAME PATH FILE: echo x > FILE is "Operation not permitted", the
# pickle and the file unchanged
eperm() {
	local f err w=$1${2:+/$2}
	f=$(colf "$1" "$2" "$3")
	cp "$S/$1.pkl" "$WORK/before"
	cat "$f" >"$WORK/oldtext" 2>&1
	err=$(bash -c 'echo x > "$1"' _ "$f" 2>&1)
	case $err in *"Operation not permitted"*) ok ;; *) bad "$w/$3: echo x > it: '$err'" ;; esac
	check "$w/$3: pickle unchanged by the refused write" cmp -s "$WORK/before" "$S/$1.pkl"
	check "$w/$3: unchanged by the refused write" cmp -s "$WORK/oldtext" "$f"
}
eperm num4 "" __index__
eperm num4 "" __frame__.csv
eperm num4 "" when
eperm misc4 "" cat
eperm misc4 "" cati
eperm misc4 "" mix
eperm misc2 "" when
eperm idx_multi4 "" __index__
eperm ser_named "" __index__
eperm pd2 floats __frame__.csv

# ---- EINVAL ----------------------------------------------------------------
# einval NAME PATH COL TEXT WHAT: writing TEXT is EINVAL, the pickle and
# the column file unchanged
einval() {
	local f err w=$1${2:+/$2}
	f=$(colf "$1" "$2" "$3")
	cp "$S/$1.pkl" "$WORK/before"
	cat "$f" >"$WORK/oldtext" 2>&1
	err=$(pywrite "$f" "$4")
	is "$w/$3: $5: EINVAL" "$err" 22
	check "$w/$3: $5: pickle unchanged" cmp -s "$WORK/before" "$S/$1.pkl"
	check "$w/$3: $5: file unchanged" cmp -s "$WORK/oldtext" "$f"
}
# the expected text of NAME PATH COL with line L replaced by TEXT
with_line() { want_text "$1" "$2" "$3" | sed "$4s/.*/$5/"; }
einval num4 "" i64 $'1\n2\n' "fewer lines"
einval num4 "" i64 "$(want_text num4 "" i64)"$'\n5\n' "one line more"
einval num4 "" i64 "$(with_line num4 "" i64 3 abc)"$'\n' "not a number"
einval num4 "" i64 "$(with_line num4 "" i64 1 1.5)"$'\n' "1.5 in an int column"
einval num4 "" i64 "$(with_line num4 "" i64 1 9223372036854775808)"$'\n' "2**63 in int64"
einval num4 "" i32 "$(with_line num4 "" i32 4 2147483648)"$'\n' "2**31 in int32"
einval num4 "" u8 "$(with_line num4 "" u8 2 256)"$'\n' "256 in uint8"
einval num4 "" u8 "$(with_line num4 "" u8 2 -1)"$'\n' "-1 in uint8"
einval num4 "" b "$(with_line num4 "" b 2 maybe)"$'\n' "maybe in a bool column"
einval num4 "" f64 "$(with_line num4 "" f64 2 x)"$'\n' "x in a float column"
einval num4 "" s $'one line\n' "fewer lines of str"
einval ser_named "" price $'1.0\n2.0\n' "fewer lines in a Series"
einval blocks4 "" b "$(with_line blocks4 "" b 2 abc)"$'\n' "not a number in a shared block"
cp "$S/num4.pkl" "$WORK/before"
check "num4/i64: sed -i with a bad value fails" sh -c "! sed -i 's/^7\$/seven/' '$M/num4.pkl/i64' 2>/dev/null"
check "num4/i64: pickle unchanged by the failed sed -i" cmp -s "$WORK/before" "$S/num4.pkl"

# ---- edits -----------------------------------------------------------------
EDITS=$WORK/edits.tsv
: >"$EDITS"
NE=0
# sed_edit NAME PATH COL PY-CHECK SED-ARGS...: sed -i on the column file
# and on its expected text; the mount shows the result; the edit is noted
# for frames_check.py edits (PY-CHECK is true of the object it loads)
sed_edit() {
	local name=$1 path=$2 col=$3 py=$4 f w
	shift 4
	f=$(colf "$name" "$path" "$col")
	NE=$((NE + 1))
	w=$WORK/new.$NE
	want_text "$name" "$path" "$col" >"$w"
	sed -i "$@" "$w"
	check "$name${path:+/$path}/$col: sed -i $*" sed -i "$@" "$f"
	check "$name${path:+/$path}/$col shows the edit" cmp "$f" "$w"
	printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$path" "$col" "$w" "$py" >>"$EDITS"
}
# put_edit NAME PATH COL TEXT PY-CHECK: printf of a whole new text
put_edit() {
	local name=$1 path=$2 col=$3 text=$4 py=$5 f w
	f=$(colf "$name" "$path" "$col")
	NE=$((NE + 1))
	w=$WORK/new.$NE
	printf '%s' "$text" >"$w"
	# shellcheck disable=SC2016 # $1 and $2 are the inner bash's
	check "$name${path:+/$path}/$col: printf > it" bash -c 'printf "%s" "$1" > "$2"' _ "$text" "$f"
	check "$name${path:+/$path}/$col shows the edit" cmp "$f" "$w"
	printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$path" "$col" "$w" "$py" >>"$EDITS"
}
for n in num2 num4 num5 topickle; do
	sed_edit $n "" i64 "f['i64'].iloc[5] == 777 and f['i64'].dtype == np.int64" 's/^42$/777/'
done
sed_edit num4 "" i32 "f['i32'].iloc[1] == -7 and f['i32'].dtype == np.int32" '2s/.*/-7/'
put_edit num4 "" u8 $'9\n8\n7\n6\n5\n4\n3\n2\n255\n' \
	"f['u8'].tolist() == [9, 8, 7, 6, 5, 4, 3, 2, 255] and f['u8'].dtype == np.uint8"
put_edit num4 "" f64 $'1.5\n-2.0\nnan\n0.0\n1e-300\ninf\n3.0\n4.25\n-1e+100\n' \
	"repr(f['f64'].tolist()) == '[1.5, -2.0, nan, 0.0, 1e-300, inf, 3.0, 4.25, -1e+100]'"
put_edit num4 "" f32 $'0.3\n-1.0\nnan\ninf\n1e-05\n2.5\n100.0\n0.1\n-0.0\n' \
	"f['f32'].dtype == np.float32 and f['f32'].iloc[0] == np.float32(0.3) and f['f32'].iloc[6] == 100"
sed_edit num4 "" b "f['b'].dtype == bool and not f['b'].iloc[0] and f['b'].iloc[2]" '1s/True/False/'
sed_edit num4 "" s "f['s'].iloc[0] == 'hello, world' and f['s'].iloc[4] == 'TAB\\there' and f['s'].iloc[3] == 'line1\\nline2' and f['s'].iloc[8] == 'cr\\rx' and f['s'].iloc[7] == 'back\\\\slash'" \
	-e 's/^plain$/hello, world/' -e 's/^tab/TAB/'
# the block of a, b, c, d (placed at 0, 2, 3, 5): its other columns stay
sed_edit blocks4 "" b "f['b'].tolist() == [10, 25, 30, 40] and f['a'].tolist() == [1, 2, 3, 4] and f['c'].tolist() == [100, 200, 300, 400] and f['d'].tolist() == [-1, -2, -3, -4]" 's/^20$/25/'
sed_edit blocks2 "" d "f['d'].tolist() == [-1, -2, -33, -4] and f['a'].tolist() == [1, 2, 3, 4] and f['b'].tolist() == [10, 20, 30, 40] and f['c'].tolist() == [100, 200, 300, 400]" 's/^-3$/-33/'
sed_edit unconsol "" b "f['b'].tolist() == [4, 55, 6]" 's/^5$/55/'
sed_edit misc4 "" n "f['n'].tolist() == [0, 10, 20, 30, 5, 50]" 's/^40$/5/'
sed_edit idx_multi2 "" x "f['x'].tolist() == [1, -2, 3]" 's/^2$/-2/'
sed_edit names "" "1%int" "f[1].tolist() == [3, 99] and f['1'].tolist() == ['u', 'v']" 's/^4$/99/'
sed_edit pd2 ints 10 "f[10].tolist() == [1, 2, 30]" 's/^3$/30/'
put_edit ser_named "" price $'2.5\n-1.0\nnan\n1e+100\n' \
	"repr(f.tolist()) == '[2.5, -1.0, nan, 1e+100]' and f.name == 'price'"
sed_edit ser_unnamed "" 0 "f.tolist() == ['x', 'hello, world', 'w'] and f.name is None" 's/^y, z$/hello, world/'

"$PYTHON" "$HERE/frames_check.py" edits "$S" "$O" "$EDITS" >"$WORK/edits.out" 2>&1
fold "$WORK/edits.out" edits
umount_fs "$M"

echo "frames: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
