#!/usr/bin/env bash
# Array views (README, "How values appear"): values.txt, array.npy and
# image.png of numpy arrays, on real mounts of the ASan picklefs, checked
# with /usr/bin/python3 (numpy, PIL) against the arrays that were pickled.
#
#   BUILD=build PYTHON=/usr/bin/python3 bash tests/mount/views.sh
#
#   read         for int8, >u2, int64, float32, float64 (nan, inf), float16,
#                bool, complex128, Fortran order, 0-d, empty, 3-D, at
#                protocols 2, 4 and 5: np.loadtxt(values.txt) reshaped
#                equals the array, np.load(array.npy) equals it exactly
#                (dtype with byte order, shape, Fortran flag), PIL reads
#                image.png of (28, 28) and (H, W, 3) uint8 arrays with the
#                same pixels (a 2-D bool array: 0 / 255 gray), a (784,)
#                array and a (16385, 2) one have no image.png, and stat's
#                size is what cat reads for every view
#                str (U) and bytes (S) arrays: values.txt is the items'
#                Python reprs; datetime64 (ns, s, D, M, W): str() of
#                each item, as numpy prints it; object arrays of
#                scalars: each item's repr (C order, also when Fortran),
#                r--; an object array holding lists has none;
#                structured arrays of plain fields (and padding): each
#                item as repr(item.item()), r--; nested fields: none
#   modes        array.npy, image.png and a str array's values.txt are
#                r--; writing them is EPERM
#   edit         sed -i of one number in values.txt changes that element in
#                the pickle (Fortran and big-endian arrays too); text with
#                a bad value or a wrong count is EINVAL, pickle unchanged
#   rm           rm of a view is EPERM (pickle unchanged); rm -r of an
#                array directory removes the array
#   large        a 4M-element float64 array: stat's size is what cat reads,
#                the rows beside each chunk boundary and every 97th are
#                Python's reprs, a read from an offset is that slice, and
#                the daemon's peak RSS grows by under 40% of the text's
#                size while stat and cat make it (the text is streamed)
#
# Ends with "views: N passed, N failed"; exit 1 when something failed.
set -u

SUITE=views
. "$(dirname "$0")/lib.sh"

need_bin
if ! "$PYTHON" -c 'import numpy, PIL' 2>/dev/null; then
	echo "FAIL $PYTHON has no numpy or PIL (scripts/install-deps.sh)"
	echo "views: 0 passed, 1 failed"
	exit 1
fi

S=$WORK/src
mkdir -p "$S"
# the arrays, kept beside the pickles as .npz (the pickle's own byte order:
# pickle.load may hand back native order)
"$PYTHON" - "$S" <<'EOF'
import numpy as np, pickle, sys
d = {
    'i8': np.arange(-6, 6, dtype=np.int8).reshape(3, 4),
    'u2be': (np.arange(12, dtype='>u2') * 5000).reshape(4, 3),
    'i64': np.array([-2**63, 2**63 - 1, 0, 42], np.int64),
    'f32': np.array([0.1, 1 / 3, 3e38, -1e-8, np.nan, np.inf], np.float32),
    'f64': np.array([[0.1, np.nan, np.inf], [-np.inf, -0.0, 1e100],
                     [5e-324, 1.7976931348623157e308, 2.5]]),
    'f16': np.array([0.1, 65504, 6e-8, -2.5, np.inf], np.float16),
    'b': np.array([[True, False, True], [False, False, True]]),
    'c128': np.array([1 + 2j, 2j, complex(np.nan, -np.inf), -1.5 - 0.25j]),
    'fort': np.asfortranarray(np.arange(12, dtype=np.int32).reshape(3, 4)),
    'fortf': np.asfortranarray(np.linspace(0, 1, 6).reshape(2, 3)),
    'zero_d': np.array(3.25),
    'empty': np.zeros((0, 3)),
    'd3': np.arange(24, dtype=np.int16).reshape(2, 3, 4),
    'img': ((np.arange(28 * 28) * 7) % 256).astype(np.uint8).reshape(28, 28),
    'rgb': ((np.arange(5 * 6 * 3) * 13) % 256).astype(np.uint8).reshape(5, 6, 3),
    'flat': np.arange(784).astype(np.uint8),
    # a side over 16384: rows of data (MNIST's (50000, 784)), no picture
    'rows': np.zeros((16385, 2), np.uint8),
    'names': np.array([['ab', "it's"], ['\u00e9 x', '']]),
    'raw': np.array([b'x\x00y', b'', b'a b']),
    # datetime64: str() of each item (ISO 8601 to the unit), read-only
    'when_ns': np.array(['2020-01-02T03:04:05.123456789', '1969-12-31T23:59:59.5',
                         'NaT', '1677-09-22', '2262-04-11T23:47:16'], 'M8[ns]'),
    'when_s': np.array([['2020-01-02T03:04:05', 'NaT'], ['1900-03-01', '2999-12-31T23:59:59']],
                       'M8[s]'),
    'days': np.array(['2020-02-29', '1583-01-01', '9999-12-31'], 'M8[D]'),
    'months': np.array(['2020-02', '1969-12'], 'M8[M]'),
    'weeks': np.array([0, -1, 2000], 'M8[W]'),
    # the ends of int64 (UBSan watches the arithmetic; numpy prints these
    # units right there, not Y, W or D, whose own str overflows)
    'ends_ns': np.array([2**63 - 1, -2**63 + 1], 'M8[ns]'),
    'ends_ms': np.array([2**63 - 1, -2**63 + 1], 'M8[ms]'),
    'ends_m': np.array([2**63 - 1, -2**63 + 1], 'M8[M]'),
}
np.savez(sys.argv[1] + '/want.npz', **d)
for p in (2, 4, 5):
    with open('%s/a%d.pkl' % (sys.argv[1], p), 'wb') as f:
        pickle.dump(d, f, protocol=p)
# object arrays: values.txt of scalar items (Python's repr of each, rows of
# the last axis; numpy pickles the items in C order even when the array
# is Fortran-ordered); none when an item is a container
o = {'mixed': np.array([1, 'x', None, 2.5, True, b'b', -7, 'it\'s'], dtype=object),
     'fort': np.asfortranarray(np.array([['a', 'b', 'c'], [1, 2, 3]], dtype=object)),
     'nested': np.array([[1, 2], [3]], dtype=object)}
for p in (2, 4, 5):
    with open('%s/o%d.pkl' % (sys.argv[1], p), 'wb') as f:
        pickle.dump(o, f, protocol=p)
# structured arrays: repr(item.item()) (floats are float64 here, so
# Python's repr is the shortest text); padding skipped; none when nested
o['rec'] = np.array([(1, 2.5, b'ab', 'x\u00e9', True), (-3, 1e100, b'', '', False)],
                    dtype=[('a', '<i4'), ('b', '>f8'), ('c', 'S3'), ('d', 'U2'), ('e', '?')])
o['aligned'] = np.array([(7, 2**40)], dtype=np.dtype([('a', 'u1'), ('b', '<i8')], align=True))
o['one'] = np.array([(5,), (6,)], dtype=[('a', '<i2')])
o['deep'] = np.zeros(1, dtype=[('p', [('x', '<f4')]), ('q', '<i2', (2,))])
for p in (2, 4, 5):
    with open('%s/o%d.pkl' % (sys.argv[1], p), 'wb') as f:
        pickle.dump(o, f, protocol=p)
with open(sys.argv[1] + '/rec.want', 'w') as f:
    for k in ('rec', 'aligned', 'one'):
        f.write(k + '\n' + ' '.join(repr(x.item()) for x in o[k]) + '\n')
with open(sys.argv[1] + '/o.want', 'w') as f:
    for k in ('mixed', 'fort'):
        a = o[k]
        f.write(k + '\n' + ''.join(' '.join(repr(x) for x in r) + '\n'
                                  for r in a.reshape(-1, a.shape[-1]).tolist()))
EOF

# checks every array of the mount at $1 against want.npz: prints one line
# per failure, then "ok N" with the number of checks that passed
check_arrays() {
	"$PYTHON" - "$1" "$S/want.npz" <<'EOF'
import numpy as np, os, sys, warnings
from PIL import Image
warnings.simplefilter('ignore')
m, want = sys.argv[1], np.load(sys.argv[2])
n = 0
def fail(msg):
    print('FAIL', msg)
for k in want.files:
    a = want[k]
    p = os.path.join(m, k)
    ents = set(os.listdir(p))
    # values.txt
    if a.dtype.kind in 'USM':
        # read-only text: Python's repr of each str / bytes item, str() of
        # each datetime64, rows of the last axis
        rows = a.reshape(-1, a.shape[-1]) if a.ndim else a.reshape(1, 1)
        if a.dtype.kind == 'M':
            want_t = ''.join(' '.join(str(x) for x in r) + '\n' for r in rows)
        else:
            want_t = ''.join(' '.join(repr(x) for x in r) + '\n' for r in rows.tolist())
        with open(p + '/values.txt', encoding='utf-8') as f:
            got_t = f.read()
        if got_t != want_t:
            fail('%s: values.txt %r, expected %r' % (k, got_t, want_t))
        else:
            n += 1
        if os.stat(p + '/values.txt').st_mode & 0o222:
            fail('%s: values.txt of a str array is writable' % k)
        else:
            n += 1
    else:
        if a.dtype == bool:
            t = np.loadtxt(p + '/values.txt', dtype=str, ndmin=1) == 'True'
        else:
            t = np.loadtxt(p + '/values.txt', dtype=a.dtype, ndmin=1)
        if not np.array_equal(t.reshape(a.shape), a,
                              equal_nan=a.dtype.kind in 'fc'):
            fail('%s: np.loadtxt(values.txt) differs' % k)
        else:
            n += 1
    # array.npy: exact
    b = np.load(p + '/array.npy')
    if (b.dtype.str != a.dtype.str or b.shape != a.shape
            or b.flags.f_contiguous != a.flags.f_contiguous
            or b.flags.c_contiguous != a.flags.c_contiguous
            or not np.array_equal(a, b, equal_nan=a.dtype.kind in 'fcM')):
        fail('%s: np.load(array.npy) gives %s %s' % (k, b.dtype.str, b.shape))
    else:
        n += 1
    # image.png where the shape is an image's
    isimg = k in ('img', 'rgb', 'b')  # (H, W[, 1|3|4]) uint8 / bool
    if isimg != ('image.png' in ents):
        fail('%s: image.png %s' % (k, 'missing' if isimg else 'present'))
    else:
        n += 1
    if isimg:
        im = np.asarray(Image.open(p + '/image.png'))
        px = a.astype(np.uint8) * 255 if a.dtype == bool else a
        if im.shape != a.shape or not np.array_equal(im, px):
            fail('%s: image.png pixels differ' % k)
        else:
            n += 1
    # stat size == bytes read
    for v in ('values.txt', 'array.npy', 'image.png'):
        if v in ents:
            with open(os.path.join(p, v), 'rb') as f:
                got = len(f.read())
            if os.stat(os.path.join(p, v)).st_size != got:
                fail('%s/%s: st_size differs from what is read' % (k, v))
            else:
                n += 1
print('ok', n)
EOF
}

# loads the pickle and prints repr(EXPR) of `d`
pyval() { "$PYTHON" -c "import pickle,sys,numpy as np; d=pickle.load(open(sys.argv[1],'rb')); print($2)" "$1" 2>&1; }

for p in 2 4 5; do
	M=$WORK/m$p
	mount_fs "$M" "$S/a$p.pkl" || continue
	check_arrays "$M" >"$WORK/arr$p" 2>&1
	grep '^FAIL' "$WORK/arr$p" | sed "s/^FAIL /FAIL p$p: /"
	FAIL=$((FAIL + $(grep -c '^FAIL' "$WORK/arr$p")))
	okn=$(sed -n 's/^ok //p' "$WORK/arr$p")
	if [ -n "$okn" ]; then PASS=$((PASS + okn)); else bad "p$p: checker died: $(tail -3 "$WORK/arr$p" | tr '\n' ' ')"; fi

	# modes and refusals
	is "p$p: array.npy is r--" "$(stat -c %A "$M/i8/array.npy")" "-r--r--r--"
	is "p$p: image.png is r--" "$(stat -c %A "$M/img/image.png")" "-r--r--r--"
	is "p$p: values.txt is rw-" "$(stat -c %A "$M/i8/values.txt" | cut -c1-4)" "-rw-"
	cp "$S/a$p.pkl" "$WORK/before"
	err=$("$PYTHON" -c "
import sys
try:
    open(sys.argv[1], 'wb').write(b'x')
    print('no error')
except OSError as e:
    print(e.errno)" "$M/i8/array.npy")
	is "p$p: writing array.npy is EPERM" "$err" "1"
	err=$("$PYTHON" -c "
import sys
try:
    open(sys.argv[1], 'ab').write(b'x')
    print('no error')
except OSError as e:
    print(e.errno)" "$M/img/image.png")
	is "p$p: appending to image.png is EPERM" "$err" "1"
	err=$("$PYTHON" -c "
import sys
try:
    open(sys.argv[1], 'w').write('x')
    print('no error')
except OSError as e:
    print(e.errno)" "$M/names/values.txt")
	is "p$p: writing a str array's values.txt is EPERM" "$err" "1"
	check "p$p: pickle unchanged by refused writes" cmp -s "$S/a$p.pkl" "$WORK/before"

	# edits with sed -i: one number
	check "p$p: sed -i on int8 values.txt" sed -i 's/^-2 -1 0 1$/-2 -1 99 1/' "$M/i8/values.txt"
	is "p$p: the element changed in the pickle" "$(pyval "$S/a$p.pkl" "d['i8'].tolist()")" \
		"[[-6, -5, -4, -3], [-2, -1, 99, 1], [2, 3, 4, 5]]"
	check "p$p: sed -i on Fortran values.txt" sed -i 's/^4 5 6 7$/4 55 6 7/' "$M/fort/values.txt"
	is "p$p: Fortran element changed, order kept" \
		"$(pyval "$S/a$p.pkl" "(d['fort'].tolist(), d['fort'].flags.f_contiguous)")" \
		"([[0, 1, 2, 3], [4, 55, 6, 7], [8, 9, 10, 11]], True)"
	check "p$p: sed -i on big-endian values.txt" sed -i 's/^15000 20000 25000$/15000 65535 25000/' "$M/u2be/values.txt"
	is "p$p: big-endian element changed" "$(pyval "$S/a$p.pkl" "d['u2be'][1].tolist()")" "[15000, 65535, 25000]"
	check "p$p: sed -i on float64 values.txt" sed -i 's/^-inf -0.0 1e+100$/-inf 0.5 1e+100/' "$M/f64/values.txt"
	is "p$p: float element changed" "$(pyval "$S/a$p.pkl" "repr(d['f64'][1].tolist())")" "[-inf, 0.5, 1e+100]"
	is "p$p: values.txt shows the edit" "$(sed -n 2p "$M/f64/values.txt")" "-inf 0.5 1e+100"
	check "p$p: image.png follows an edit of values.txt" "$PYTHON" -c "
import numpy as np, sys
from PIL import Image
im = np.asarray(Image.open(sys.argv[1] + '/img/image.png'))
t = np.loadtxt(sys.argv[1] + '/img/values.txt', dtype=np.uint8)
assert (im == t).all()" "$M"

	# refused: a bad value, a wrong count; nothing changes
	cp "$S/a$p.pkl" "$WORK/before"
	err=$("$PYTHON" -c "
import sys
try:
    with open(sys.argv[1], 'w') as f:
        f.write('1 2 x\n')
    print('no error')
except OSError as e:
    print(e.errno)" "$M/i64/values.txt")
	is "p$p: a value that is not an int: EINVAL" "$err" "22"
	err=$("$PYTHON" -c "
import sys
try:
    with open(sys.argv[1], 'w') as f:
        f.write('1 2 3\n')
    print('no error')
except OSError as e:
    print(e.errno)" "$M/i64/values.txt")
	is "p$p: fewer values than the array: EINVAL" "$err" "22"
	err=$("$PYTHON" -c "
import sys
try:
    with open(sys.argv[1], 'w') as f:
        f.write('-6 -5 -4 -3\n-2 -1 99 1\n2 3 4 128\n')
    print('no error')
except OSError as e:
    print(e.errno)" "$M/i8/values.txt")
	is "p$p: a value past int8: EINVAL" "$err" "22"
	check "p$p: sed -i with a bad value fails" sh -c "! sed -i 's/^0.1 /zz /' '$M/f64/values.txt' 2>/dev/null"
	check "p$p: pickle unchanged by refused edits" cmp -s "$S/a$p.pkl" "$WORK/before"
	is "p$p: values.txt unchanged" "$(head -c 4 "$M/f64/values.txt")" "0.1 "

	# a view is not in the pickle: rm of it is refused; rm -r of the
	# array removes the array
	check "p$p: rm values.txt fails" sh -c "! rm -f '$M/f64/values.txt' 2>/dev/null"
	check "p$p: rm image.png fails" sh -c "! rm -f '$M/img/image.png' 2>/dev/null"
	check "p$p: pickle unchanged by refused rm" cmp -s "$S/a$p.pkl" "$WORK/before"
	check "p$p: rm -r of an array" rm -r "$M/rgb"
	is "p$p: rm -r removed the array" "$(pyval "$S/a$p.pkl" "'rgb' in d, len(d)")" "False 26"
	umount_fs "$M"

	# object arrays
	mount_fs "$M" "$S/o$p.pkl" || continue
	is "p$p: object arrays' values.txt" \
		"$(for k in mixed fort; do echo $k; cat "$M/$k/values.txt"; done)" "$(cat "$S/o.want")"
	is "p$p: object values.txt is r--" "$(stat -c %A "$M/mixed/values.txt")" "-r--r--r--"
	is "p$p: stat size of object values.txt" "$(stat -c %s "$M/fort/values.txt")" "$(cat "$M/fort/values.txt" | wc -c)"
	is "p$p: no values.txt for an array of lists" "$(ls "$M/nested")" "$(printf 'data\ndtype\nshape')"
	is "p$p: structured arrays' values.txt" \
		"$(for k in rec aligned one; do echo $k; cat "$M/$k/values.txt"; done)" "$(cat "$S/rec.want")"
	is "p$p: structured values.txt is r--" "$(stat -c %A "$M/rec/values.txt")" "-r--r--r--"
	is "p$p: no values.txt for nested fields" "$(ls "$M/deep")" "$(printf 'data\ndtype\nshape')"
	umount_fs "$M"
done

# a large values.txt is served in chunks (fs/view/chunked.h): the
# daemon's peak RSS grows by far less than the text while `stat` and `cat`
# make it (the pickle's own pages, which `cat data` touches first, are
# counted apart). ASan's quarantine of freed blocks is kept small here so
# that it does not count as the daemon's memory.
"$PYTHON" -c "
import numpy as np, pickle, sys
a = np.random.default_rng(7).standard_normal(4_000_000).reshape(400_000, 10)
np.save(sys.argv[1] + '/big.npy', a)
pickle.dump(a, open(sys.argv[1] + '/big.pkl', 'wb'), 5)" "$S"
M=$WORK/mbig
hwm() { awk '/^VmHWM/ {print $2 * 1024}' "/proc/$MPID/status"; }
if ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=8" mount_fs "$M" "$S/big.pkl"; then
	cat "$M/data" >/dev/null
	base=$(hwm)
	size=$(stat -c %s "$M/values.txt")
	cat "$M/values.txt" >"$WORK/big.txt"
	grown=$(($(hwm) - base))
	is "big: st_size is what cat reads" "$(stat -c %s "$WORK/big.txt")" "$size"
	if [ "$grown" -lt $((size * 2 / 5)) ]; then ok; else
		bad "big: peak RSS grew by $((grown >> 20)) MB for a $((size >> 20)) MB values.txt (bound: 40%)"
	fi
	# rows on each side of every chunk boundary (65530 values: 6553
	# rows), and every 97th row, as Python's repr of the floats
	check "big: values.txt has the array's values" "$PYTHON" -c "
import numpy as np, sys
a = np.load(sys.argv[1])
lines = open(sys.argv[2]).read().split('\n')
assert len(lines) == a.shape[0] + 1 and lines[-1] == '', len(lines)
rows = set(range(0, a.shape[0], 97)) | {a.shape[0] - 1}
for b in range(6553, a.shape[0], 6553):
    rows |= {b - 1, b, b + 1}
for i in sorted(rows):
    want = ' '.join(map(repr, a[i].tolist()))
    assert lines[i] == want, (i, lines[i], want)
" "$S/big.npy" "$WORK/big.txt"
	# a read at an offset inside the text (not from the start) gives
	# that slice
	check "big: a read at an offset is that slice of the text" bash -c \
		"cmp <(tail -c +40000001 '$M/values.txt' | head -c 3000000) <(tail -c +40000001 '$WORK/big.txt' | head -c 3000000)"
	umount_fs "$M"
fi

echo "views: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
