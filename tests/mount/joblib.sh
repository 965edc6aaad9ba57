#!/usr/bin/env bash
# joblib files and files of several pickles (README, "joblib files",
# "Several pickles in one file"), on real mounts of the ASan picklefs,
# checked with /usr/bin/python3 (numpy, joblib, scikit-learn).
#
#   BUILD=build PYTHON=/usr/bin/python3 bash tests/mount/joblib.sh
#
#   read     joblib.dump of a dict of float64 (C and Fortran order), int32,
#            bool, uint8 (H, W, 3), str, object, 0-d, empty and big-endian
#            arrays and scalars: every array directory's data is the
#            array's bytes, array.npy np.load's to the same array (dtype,
#            shape, order), values.txt np.loadtxt's to it (str: the
#            items' reprs), an object array's data/ holds its items, and
#            scalars read as they were dumped
#   edit     sed -i of a values.txt and echo > of a scalar: joblib.load
#            reads the new values and everything else equal; in place,
#            only the edited bytes change; a longer str before the arrays
#            moves them and they stay aligned to 16 (joblib.load with
#            mmap_mode='r': every array's offset)
#   sklearn  a LogisticRegression and a StandardScaler: read; echo > C of
#            the model: joblib.load gives C and the same predictions
#   compress compress=3 (zlib), gzip, bz2, xz, lzma: read, sed -i a
#            values.txt, the file keeps its format and joblib.load reads
#            the edit
#   multi    pickle.dump six times (protocols 0-5) into one file: entries
#            0..5, cat of values, an edit in the second pickle (all six
#            load back with repeated pickle.load, the first pickle's bytes
#            unchanged), adding or removing a top entry is EPERM
#
# Ends with "joblib: N passed, N failed"; exit 1 when something failed.
set -u

SUITE=joblib
. "$(dirname "$0")/lib.sh"

need_bin
if ! "$PYTHON" -c 'import numpy, joblib, sklearn' 2>/dev/null; then
	echo "FAIL $PYTHON has no numpy, joblib or sklearn"
	echo "joblib: 0 passed, 1 failed"
	exit 1
fi

S=$WORK/src
mkdir -p "$S"
"$PYTHON" - "$S" <<'EOF'
import joblib, numpy as np, pickle, sys, warnings
warnings.simplefilter('ignore')
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
s = sys.argv[1]
d = {
    'name': 'abc',
    'f8': np.arange(12.).reshape(3, 4) / 4,
    'fort': np.asfortranarray(np.arange(12.).reshape(3, 4)),
    'i4': np.arange(-3, 4, dtype=np.int32),
    'b': np.array([[True, False], [False, True]]),
    'img': ((np.arange(5 * 6 * 3) * 13) % 256).astype(np.uint8).reshape(5, 6, 3),
    'U': np.array(['ab', "it's", '']),
    'obj': np.array([1, 'x', None], dtype=object),
    'zero_d': np.array(3.25),
    'empty': np.zeros((0, 3)),
    'be': np.arange(5, dtype='>i8') * 1000,
    'n': 42, 'x': 2.5, 's': 'hello',
}
want = {k: v for k, v in d.items()
        if isinstance(v, np.ndarray) and v.dtype != object}
np.savez(s + '/want.npz', **want)
joblib.dump(d, s + '/mix.joblib')
for c, name in ((3, 'c.zlib'), (('gzip', 3), 'c.gz'), (('bz2', 3), 'c.bz2'),
                (('xz', 3), 'c.xz'), (('lzma', 3), 'c.lzma')):
    joblib.dump(d, s + '/' + name, compress=c)
r = np.random.RandomState(0)
X = r.randn(60, 4)
y = (X[:, 0] + X[:, 1] > 0).astype(int)
joblib.dump(LogisticRegression().fit(X, y), s + '/lr.joblib')
joblib.dump(StandardScaler().fit(X), s + '/sc.joblib')
np.save(s + '/X.npy', X)
with open(s + '/multi.pkl', 'wb') as f:
    vals = [{'a': 1}, {'b': 'second', 'c': [1, 2]}, 'str', 7.5, (1, 2), None]
    for p, v in enumerate(vals):
        pickle.dump(v, f, protocol=p)
with open(s + '/multi.pkl', 'rb') as f:
    pickle.load(f)
    open(s + '/multi.first', 'wb').write(open(s + '/multi.pkl', 'rb').read()[:f.tell()])
EOF

# checks the arrays and scalars of the mount at $1 (a mount of a joblib
# dump of d above): one line per failure, then "ok N"
check_mix() {
	"$PYTHON" - "$1" "$S/want.npz" <<'EOF'
import numpy as np, os, sys, warnings
warnings.simplefilter('ignore')
m, want = sys.argv[1], np.load(sys.argv[2])
n = 0
def fail(msg):
    print('FAIL', msg)
for k in want.files:
    a = want[k]
    p = os.path.join(m, k)
    order = 'F' if a.flags.f_contiguous and not a.flags.c_contiguous else 'C'
    if open(p + '/data', 'rb').read() != a.tobytes(order=order):
        fail('%s: data is not the array bytes' % k)
    else:
        n += 1
    b = np.load(p + '/array.npy')
    if (b.dtype.str != a.dtype.str or b.shape != a.shape
            or b.flags.f_contiguous != a.flags.f_contiguous
            or not np.array_equal(a, b)):
        fail('%s: np.load(array.npy) gives %s %s' % (k, b.dtype.str, b.shape))
    else:
        n += 1
    if a.dtype.kind == 'U':
        want_t = ' '.join(repr(x) for x in a.tolist()) + '\n'
        got = open(p + '/values.txt', encoding='utf-8').read()
        if got != want_t:
            fail('%s: values.txt %r' % (k, got))
        else:
            n += 1
    elif a.size == 0:
        if open(p + '/values.txt').read() != '':
            fail('%s: values.txt of an empty array is not empty' % k)
        else:
            n += 1
    else:
        if a.dtype == bool:
            t = np.loadtxt(p + '/values.txt', dtype=str, ndmin=1) == 'True'
        else:
            t = np.loadtxt(p + '/values.txt', dtype=a.dtype, ndmin=1)
        if not np.array_equal(t.reshape(a.shape), a):
            fail('%s: np.loadtxt(values.txt) differs' % k)
        else:
            n += 1
    if (k in ('img', 'b')) != os.path.exists(p + '/image.png'):
        fail('%s: image.png presence' % k)
    else:
        n += 1
    if open(p + '/dtype').read().strip() != a.dtype.str:
        fail('%s: dtype %r' % (k, open(p + '/dtype').read()))
    else:
        n += 1
ents = sorted(os.listdir(m + '/obj/data'))
items = [open(m + '/obj/data/' + e).read().strip() for e in ents]
if ents != ['0', '1', '2'] or items[:2] != ['1', 'x']:
    fail('obj: data/ %r %r' % (ents, items))
else:
    n += 1
for k, v in (('n', '42'), ('x', '2.5'), ('s', 'hello'), ('name', 'abc')):
    got = open(os.path.join(m, k)).read().strip()
    if got != v:
        fail('%s: %r, expected %r' % (k, got, v))
    else:
        n += 1
print('ok', n)
EOF
}

run_check() { # run_check NAME OUTFILE: folds a checker's output into ours
	grep '^FAIL' "$2" | sed "s/^FAIL /FAIL $1: /"
	FAIL=$((FAIL + $(grep -c '^FAIL' "$2")))
	local okn
	okn=$(sed -n 's/^ok //p' "$2")
	if [ -n "$okn" ]; then PASS=$((PASS + okn)); else bad "$1: checker died: $(tail -3 "$2" | tr '\n' ' ')"; fi
}

# joblib.load of FILE, then python EXPR on it (d), printed
jl() { "$PYTHON" -c "
import joblib, numpy as np, sys, warnings
warnings.simplefilter('ignore')
d = joblib.load(sys.argv[1])
print($2)" "$1" 2>&1; }

# everything but the keys given equals the original dump
same_but() { # same_but FILE KEY...
	"$PYTHON" - "$S/mix.joblib" "$@" <<'EOF'
import joblib, numpy as np, sys, warnings
warnings.simplefilter('ignore')
a, b = joblib.load(sys.argv[1]), joblib.load(sys.argv[2])
skip = set(sys.argv[3:])
assert a.keys() == b.keys()
for k in a:
    if k in skip:
        continue
    x, y = a[k], b[k]
    if isinstance(x, np.ndarray):
        assert x.dtype == y.dtype and x.shape == y.shape, k
        assert list(x.ravel()) == list(y.ravel()), k
    else:
        assert x == y, k
EOF
}

# ---- read and edit a plain joblib file
cp "$S/mix.joblib" "$WORK/mix.joblib"
M=$WORK/m_mix
if mount_fs "$M" "$WORK/mix.joblib"; then
	check_mix "$M" >"$WORK/mix.out" 2>&1
	run_check mix "$WORK/mix.out"
	is "mix: order of a Fortran array" "$(cat "$M/fort/order")" "F"
	is "mix: shape" "$(cat "$M/img/shape")" "(5, 6, 3)"

	check "mix: sed -i on values.txt" sed -i 's/^2.0 2.25 2.5 2.75$/2.0 9.5 2.5 2.75/' "$M/f8/values.txt"
	is "mix: joblib.load reads the edit" "$(jl "$WORK/mix.joblib" "d['f8'][2].tolist()")" "[2.0, 9.5, 2.5, 2.75]"
	check "mix: the rest unchanged" same_but "$WORK/mix.joblib" f8
	check "mix: in place, at most the 8 bytes of the item changed" test "$(cmp -l "$S/mix.joblib" "$WORK/mix.joblib" | wc -l)" -le 8
	check "mix: sed -i on Fortran values.txt" sed -i 's/^4.0 5.0 6.0 7.0$/4.0 55.0 6.0 7.0/' "$M/fort/values.txt"
	is "mix: Fortran element changed, order kept" \
		"$(jl "$WORK/mix.joblib" "(d['fort'][1].tolist(), d['fort'].flags.f_contiguous)")" \
		"([4.0, 55.0, 6.0, 7.0], True)"
	check "mix: sed -i on big-endian values.txt" sed -i 's/^0 1000 2000/0 1234 2000/' "$M/be/values.txt"
	is "mix: big-endian element changed" "$(jl "$WORK/mix.joblib" "d['be'].tolist()")" "[0, 1234, 2000, 3000, 4000]"
	check "mix: size unchanged" test "$(stat -c %s "$S/mix.joblib")" = "$(stat -c %s "$WORK/mix.joblib")"
	cp "$WORK/mix.joblib" "$WORK/mix.before"
	check "mix: echo > a scalar" sh -c "echo world > '$M/s'"
	is "mix: joblib.load reads the scalar" "$(jl "$WORK/mix.joblib" "d['s']")" "world"
	is "mix: in place, only the scalar's bytes" "$(cmp -l "$WORK/mix.before" "$WORK/mix.joblib" | wc -l)" "4"
	check "mix: echo > int" sh -c "echo 43 > '$M/n'"
	is "mix: int changed" "$(jl "$WORK/mix.joblib" "d['n']")" "43"
	# a longer str before the arrays: they move, and stay aligned
	check "mix: echo > a longer str" sh -c "echo 'a much longer name than before' > '$M/name'"
	is "mix: moved arrays load" "$(jl "$WORK/mix.joblib" "(d['name'], d['i4'].tolist(), d['obj'].tolist())")" \
		"('a much longer name than before', [-3, -2, -1, 0, 1, 2, 3], [1, 'x', None])"
	check "mix: the rest unchanged after the move" same_but "$WORK/mix.joblib" f8 fort be s n name
	is "mix: moved arrays aligned to 16" "$("$PYTHON" -c "
import joblib, numpy as np, sys, warnings
warnings.simplefilter('ignore')
d = joblib.load(sys.argv[1], mmap_mode='r')
print(sorted(set(v.offset % 16 for v in d.values() if isinstance(v, np.memmap))))" "$WORK/mix.joblib" 2>&1)" "[0]"
	check "mix: the mount follows" test "$(cat "$M/name")" = "a much longer name than before"
	umount_fs "$M"
fi

# ---- scikit-learn models
cp "$S/lr.joblib" "$S/sc.joblib" "$WORK/"
M=$WORK/m_lr
if mount_fs "$M" "$WORK/lr.joblib"; then
	is "lr: C" "$(cat "$M/C")" "1.0"
	check "lr: coef_ values.txt" "$PYTHON" -c "
import joblib, numpy as np, sys
m = joblib.load(sys.argv[1])
t = np.loadtxt(sys.argv[2] + '/coef_/values.txt', ndmin=2)
assert np.array_equal(t, m.coef_), (t, m.coef_)
assert np.array_equal(np.load(sys.argv[2] + '/coef_/array.npy'), m.coef_)" "$S/lr.joblib" "$M"
	check "lr: echo > C" sh -c "echo 2.0 > '$M/C'"
	check "lr: C changed, same predictions" "$PYTHON" -c "
import joblib, numpy as np, sys
a, b = joblib.load(sys.argv[1]), joblib.load(sys.argv[2])
X = np.load(sys.argv[3])
assert b.C == 2.0 and a.C == 1.0
assert np.array_equal(a.predict(X), b.predict(X))
assert np.array_equal(a.coef_, b.coef_)" "$S/lr.joblib" "$WORK/lr.joblib" "$S/X.npy"
	umount_fs "$M"
fi
M=$WORK/m_sc
if mount_fs "$M" "$WORK/sc.joblib"; then
	check "scaler: mean_ and scale_" "$PYTHON" -c "
import joblib, numpy as np, sys
m = joblib.load(sys.argv[1])
for k in ('mean_', 'scale_', 'var_'):
    assert np.array_equal(np.load(sys.argv[2] + '/' + k + '/array.npy'), getattr(m, k)), k
    assert open(sys.argv[2] + '/' + k + '/data', 'rb').read() == getattr(m, k).tobytes(), k" "$S/sc.joblib" "$M"
	umount_fs "$M"
fi

# ---- compressed joblib files: read, edit, same format
magic() { "$PYTHON" -c "import sys; print(open(sys.argv[1], 'rb').read(3).hex())" "$1"; }
for c in c.zlib c.gz c.bz2 c.xz c.lzma; do
	cp "$S/$c" "$WORK/$c"
	M=$WORK/m_$c
	mount_fs "$M" "$WORK/$c" || continue
	check_mix "$M" >"$WORK/$c.out" 2>&1
	run_check "$c" "$WORK/$c.out"
	m0=$(magic "$WORK/$c")
	check "$c: sed -i on values.txt" sed -i 's/^-3 -2 -1 0/-3 -2 77 0/' "$M/i4/values.txt"
	is "$c: joblib.load reads the edit" "$(jl "$WORK/$c" "d['i4'].tolist()")" "[-3, -2, 77, 0, 1, 2, 3]"
	check "$c: the rest unchanged" same_but "$WORK/$c" i4
	is "$c: same format" "$(magic "$WORK/$c")" "$m0"
	umount_fs "$M"
done

# ---- several pickles in one file
cp "$S/multi.pkl" "$WORK/multi.pkl"
M=$WORK/m_multi
if mount_fs "$M" "$WORK/multi.pkl"; then
	is "multi: entries" "$(mlisting "$M" | tr ' ' '\n' | sort | tr '\n' ' ')" "0 1 2 3 4 5 "
	is "multi: cat of a top str" "$(cat "$M/2")" "str"
	is "multi: cat of a top float" "$(cat "$M/3")" "7.5"
	is "multi: cat in a dict" "$(cat "$M/0/a")" "1"
	is "multi: a tuple" "$(cat "$M/4/1")" "2"
	check "multi: echo > in the second pickle" sh -c "echo 'second, edited' > '$M/1/b'"
	is "multi: all six load back" "$("$PYTHON" -c "
import pickle, sys
f = open(sys.argv[1], 'rb')
v = [pickle.load(f) for i in range(6)]
print(v, f.read())" "$WORK/multi.pkl" 2>&1)" \
		"[{'a': 1}, {'b': 'second, edited', 'c': [1, 2]}, 'str', 7.5, (1, 2), None] b''"
	check "multi: the first pickle's bytes unchanged" cmp -n "$(stat -c %s "$S/multi.first")" "$S/multi.first" "$WORK/multi.pkl"
	cp "$WORK/multi.pkl" "$WORK/multi.before"
	err=$("$PYTHON" -c "
import sys
try:
    with open(sys.argv[1], 'w') as f:
        f.write('x')
    print('no error')
except OSError as e:
    print(e.errno)" "$M/6")
	is "multi: a new top entry is EPERM" "$err" "1"
	err=$("$PYTHON" -c "
import os, sys
try:
    os.unlink(sys.argv[1])
    print('no error')
except OSError as e:
    print(e.errno)" "$M/3")
	is "multi: removing a top entry is EPERM" "$err" "1"
	check "multi: file unchanged by refusals" cmp -s "$WORK/multi.before" "$WORK/multi.pkl"
	umount_fs "$M"
fi

echo "joblib: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
