#!/usr/bin/env bash
# Library scalars (README, "How values appear", "Library scalars"): numpy
# scalars, datetime / date / time / timedelta, Decimal and UUID shown as
# files, on real mounts of the ASan picklefs, checked with
# /usr/bin/python3 against the values that were pickled.
#
#   BUILD=build PYTHON=/usr/bin/python3 bash tests/mount/scalars.sh
#
#   read    at protocols 0, 2, 4 and 5: cat of each is str(value) + "\n"
#           as Python prints it from the same pickle; user.pickle.type;
#           a datetime with a zoneinfo zone stays a directory
#   edit    (protocols 0, 2, 4) echo of a new value: the pickle loads with that value (and
#           the same type), every other value unchanged; writing the old
#           text back gives the original bytes; a bad literal (not a
#           date, an int out of its dtype's range, an offset that is not
#           the value's zone) is "Invalid argument", pickle unchanged
#
# Ends with "scalars: N passed, N failed"; exit 1 when something failed.
set -u

SUITE=scalars
. "$(dirname "$0")/lib.sh"

need_bin

S=$WORK/src
mkdir -p "$S"
"$PYTHON" - "$S" <<'PY'
import datetime as dt, decimal, pickle, sys, uuid, zoneinfo, numpy as np
utc = dt.timezone.utc
d = {
    'f64': np.float64(0.97), 'f64big': np.float64(1e16),
    'f64nan': np.float64('nan'), 'f32': np.float32(0.1),
    'f32big': np.float32(1e10), 'f16': np.float16(0.1),
    'i64': np.int64(-5), 'i32': np.int32(7), 'u8': np.uint8(200),
    'b': np.bool_(True), 'c128': np.complex128(1 + 2j),
    'dt': dt.datetime(2020, 1, 2, 3, 4, 5, 6),
    'dtz': dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=utc),
    'dtm': dt.datetime(2020, 1, 2, 3, 4, 5, 120000,
                       tzinfo=dt.timezone(dt.timedelta(hours=-5), 'EST')),
    'd': dt.date(2020, 1, 2), 't': dt.time(3, 4, 5),
    'tz': dt.time(23, 59, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
    'td': dt.timedelta(1, 7384, 5), 'tdneg': dt.timedelta(-1, 3600),
    'tdsmall': dt.timedelta(0, 5), 'tddays': dt.timedelta(3),
    'dec': decimal.Decimal('1.10'), 'dec2': decimal.Decimal('-1.5E+7'),
    'dec3': decimal.Decimal('0.000001'), 'decnan': decimal.Decimal('NaN'),
    'uu': uuid.UUID('12345678-1234-5678-1234-567812345678'),
    'zone': dt.datetime(2020, 1, 2, tzinfo=zoneinfo.ZoneInfo('Europe/Paris')),
    'n': 42,
}
for p in (0, 2, 4, 5):
    with open('%s/s%d.pkl' % (sys.argv[1], p), 'wb') as f:
        pickle.dump(d, f, protocol=p)
PY

# edited OLD NEW KEY CHECK: True when CHECK holds on NEW's dict d and
# OLD and NEW hold the same values (repr and type) but at KEY
edited() {
	"$PYTHON" - "$@" <<'PY' 2>&1
import pickle, sys, numpy as np, datetime, decimal, uuid
a = pickle.load(open(sys.argv[1], 'rb'))
d = pickle.load(open(sys.argv[2], 'rb'))
k = sys.argv[3]
rest = sorted(a) == sorted(d) and all(
    repr(a[x]) == repr(d[x]) and type(a[x]) == type(d[x]) for x in a if x != k)
print(bool(eval(sys.argv[4])) and rest)
PY
}

TYPES="f64=numpy.float64 f32=numpy.float32 f16=numpy.float16 i64=numpy.int64 i32=numpy.int32 u8=numpy.uint8 b=numpy.bool_ c128=numpy.complex128 dt=datetime dtz=datetime d=date t=time td=timedelta dec=decimal uu=uuid"

# edit P KEY TEXT CHECK: echo TEXT > KEY; CHECK (Python, on d) is True
# and the other values are unchanged (one Python run); the old text
# written back gives the original bytes
edit() {
	local p=$1 k=$2 text=$3 want=$4 old
	old=$(cat "$M/$k")
	cp "$S/s$p.pkl" "$WORK/orig"
	check "p$p: echo '$text' > $k" sh -c "echo '$text' > '$M/$k'"
	is "p$p: $k after edit, the rest unchanged" "$(edited "$WORK/orig" "$S/s$p.pkl" "$k" "$want")" True
	check "p$p: $k written back" sh -c "printf '%s\n' '$old' > '$M/$k'"
	check "p$p: $k edit and back gives the original bytes" cmp -s "$WORK/orig" "$S/s$p.pkl"
}
# refused P KEY TEXT: Invalid argument, pickle and file unchanged
refused() {
	local p=$1 k=$2 text=$3 err old
	old=$(cat "$M/$k")
	cp "$S/s$p.pkl" "$WORK/orig"
	err=$(bash -c "echo '$text' > '$M/$k'" 2>&1)
	case "$err" in *"Invalid argument"*) ok ;; *) bad "p$p: '$text' > $k: '$err'" ;; esac
	check "p$p: '$text' > $k leaves the pickle" cmp -s "$WORK/orig" "$S/s$p.pkl"
	is "p$p: '$text' > $k leaves the file" "$(cat "$M/$k")" "$old"
}

for p in 0 2 4 5; do
	M=$WORK/m$p
	mount_fs "$M" "$S/s$p.pkl" || continue
	# str(value) + "\n" of each value (the zoneinfo one aside), as Python
	# prints it from the same pickle, and its user.pickle.type
	rm -rf "$WORK/want" && mkdir -p "$WORK/want"
	"$PYTHON" - "$S/s$p.pkl" "$WORK/want" "$M" $TYPES <<'PY'
import os, pickle, sys
d = pickle.load(open(sys.argv[1], 'rb'))
for k, v in d.items():
    if k != 'zone':
        open(os.path.join(sys.argv[2], k), 'w').write(str(v) + '\n')
with open(os.path.join(sys.argv[2], '.types'), 'w') as f:
    for kt in sys.argv[4:]:
        k = kt.split('=')[0]
        try:
            t = os.getxattr(os.path.join(sys.argv[3], k), 'user.pickle.type').decode()
        except OSError as e:
            t = str(e)
        f.write('%s=%s ' % (k, t))
PY
	for w in "$WORK/want"/*; do
		k=$(basename "$w")
		check "p$p: $k is a file" test -f "$M/$k"
		check "p$p: cat $k is str()" cmp "$M/$k" "$w"
		is "p$p: stat size of $k" "$(stat -c %s "$M/$k")" "$(stat -c %s "$w")"
	done
	is "p$p: user.pickle.type" "$(cat "$WORK/want/.types")" "$TYPES "
	check "p$p: a zoneinfo datetime stays a directory" test -d "$M/zone"
	# protocol 5 writes these values as protocol 4 does: read only here
	if [ "$p" = 5 ]; then
		umount_fs "$M"
		continue
	fi
	edit $p f64 2.5 "type(d['f64']) is np.float64 and d['f64'] == 2.5"
	edit $p f32 0.3 "type(d['f32']) is np.float32 and d['f32'] == np.float32(0.3)"
	edit $p i32 -70000 "type(d['i32']) is np.int32 and d['i32'] == -70000"
	edit $p u8 255 "type(d['u8']) is np.uint8 and d['u8'] == 255"
	edit $p b False "type(d['b']) is np.bool_ and not d['b']"
	edit $p dt "2021-12-31 23:59:58.5" "d['dt'] == datetime.datetime(2021, 12, 31, 23, 59, 58, 500000)"
	edit $p dt "2021-12-31T01:02" "d['dt'] == datetime.datetime(2021, 12, 31, 1, 2)"
	edit $p dtz "2021-06-01 12:00:00+00:00" "d['dtz'] == datetime.datetime(2021, 6, 1, 12, tzinfo=datetime.timezone.utc)"
	edit $p dtm "1999-12-31 23:59:59" "d['dtm'] == datetime.datetime(1999, 12, 31, 23, 59, 59, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))) and d['dtm'].tzname() == 'EST'"
	edit $p d 2024-02-29 "d['d'] == datetime.date(2024, 2, 29)"
	edit $p t 12:00:00.000001 "d['t'] == datetime.time(12, 0, 0, 1)"
	edit $p td "2 days, 1:00:00" "d['td'] == datetime.timedelta(2, 3600)"
	edit $p td "-1 day, 23:00:00" "d['td'] == datetime.timedelta(hours=-1)"
	edit $p td -90.5 "d['td'] == datetime.timedelta(seconds=-90.5)"
	edit $p dec 3.14159 "d['dec'] == decimal.Decimal('3.14159') and str(d['dec']) == '3.14159'"
	edit $p dec 1e3 "str(d['dec']) == '1E+3'"
	edit $p uu "{87654321-4321-8765-4321-876543218765}" "d['uu'] == uuid.UUID('87654321-4321-8765-4321-876543218765')"

	refused $p f64 abc
	refused $p f64 "1 2"
	refused $p i32 3000000000
	refused $p u8 256
	refused $p u8 -1
	refused $p b maybe
	refused $p dt 2021-13-01
	refused $p dt "2021-01-01 25:00"
	refused $p dt "2021-01-01 10:00+01:00"
	refused $p dtz "2021-01-01 10:00+01:00"
	refused $p d 2023-02-29
	refused $p d "2023-02-01 10:00"
	refused $p t 24:00
	refused $p td "1 fortnight"
	refused $p td "1000000000 days, 0:00:00"
	refused $p dec 1.2.3
	refused $p uu 1234
	umount_fs "$M"
done

echo "scalars: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
