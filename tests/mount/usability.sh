#!/usr/bin/env bash
# Edits as users expect them (README "Editing"): real mounts of the ASan
# picklefs, the real shell and tools, /usr/bin/python3 as the oracle.
#
#   BUILD=build PYTHON=/usr/bin/python3 bash tests/mount/usability.sh
#
#   widening       echo 9.5 > an int makes a float, 2 > a bool an int; a
#                  None takes any literal; text that can never be a number
#                  is refused at write() (the shell prints the error) and
#                  logged with the value's path
#   dict calls     OrderedDict, defaultdict, Counter take new keys, rm, mv
#                  and mkdir like dict (protocols 0, 2, 4, 5)
#   numpy          data of arrays pickled at protocols 0-2 is writable;
#                  datetime64 / timedelta64 dtype keeps its unit
#   small things   a scalar top value's type; cp -a between mounts keeps
#                  key order; a second mount on a served mountpoint is
#                  refused; the bundled examples (make run) mount
#   rm -r          of an object, a tuple, a set, an array, a hostile call
#
# Ends with "usability: N passed, N failed"; exit 1 when something failed.
set -u

SUITE=usability
. "$(dirname "$0")/lib.sh"

# pyval FILE EXPR: repr(EXPR) with d the loaded pickle (gzip/bz2 by magic)
pyval() {
	"$PYTHON" - "$1" "$2" <<'EOF' 2>&1
import bz2, gzip, pickle, sys
import numpy as np
raw = open(sys.argv[1], 'rb').read()
if raw[:2] == b'\x1f\x8b':
    raw = gzip.decompress(raw)
elif raw[:3] == b'BZh':
    raw = bz2.decompress(raw)
d = pickle.loads(raw)
print(repr(eval(sys.argv[2])))
EOF
}

need_bin

S=$WORK/src
M=$WORK/m
mkdir -p "$S"
"$PYTHON" - "$S" <<'EOF'
import collections, os, pickle, sys
import numpy as np
out = sys.argv[1]
for p in (0, 2, 4, 5):
    d = {'i': 3, 'b': True, 'n': None, 'n2': None, 'n3': None, 'f': 1.5,
         'a': np.arange(4, dtype='u1'),
         'od': collections.OrderedDict(a=1, b=2),
         'dd': collections.defaultdict(list, {'x': [1]}),
         'c': collections.Counter('aab'),
         'e': collections.OrderedDict()}
    with open(os.path.join(out, 'p%d.pkl' % p), 'wb') as f:
        pickle.dump(d, f, protocol=p)
    dt = {'ns': np.array(['2020-01-01'], dtype='M8[ns]'),
          'D': np.array(['2020-01-01'], dtype='M8[D]'),
          'td': np.array([1], dtype='m8[10s]')}
    if p >= 2:
        with open(os.path.join(out, 'dt%d.pkl' % p), 'wb') as f:
            pickle.dump(dt, f, protocol=p)
with open(os.path.join(out, 'scalar.pkl'), 'wb') as f:
    pickle.dump(42, f)
with open(os.path.join(out, 'order.pkl'), 'wb') as f:
    pickle.dump({k: i for i, k in enumerate(
        ['zeta', 'alpha', 'mid', 'beta', 'omega', 'gamma', 'a1', 'b2'])}, f)
with open(os.path.join(out, 'target.pkl'), 'wb') as f:
    pickle.dump({'x': 1}, f)
EOF

if mount_fs "$M" "$S"; then
	for p in 0 2 4 5; do
		W=$M/p$p.pkl
		F=$S/p$p.pkl
		echo 9.5 >"$W/i"
		echo 2 >"$W/b"
		echo 7 >"$W/n"
		echo hello >"$W/n2"
		echo 1e3 >"$W/n3"
		is "p$p: widening" "$(pyval "$F" "(d['i'], d['b'], d['n'], d['n2'], d['n3'])")" "(9.5, 2, 7, 'hello', 1000.0)"
		is "p$p: cat shows the widened float" "$(cat "$W/i")" 9.5
		check "p$p: echo abc > a float fails at write()" sh -c "! echo abc > '$W/f'"
		is "p$p: the shell says why" "$(bash -c "echo abc > '$W/f'" 2>&1 | grep -c 'write error: Invalid argument')" 1
		is "p$p: the refused float is unchanged" "$(pyval "$F" "d['f']")" "1.5"
		check "p$p: the log names the value" grep -q "p$p.pkl: f: edit refused: can no longer become a number (Invalid argument)" "$MLOG"
		printf '\001\002\003\004' >"$W/a/data"
		is "p$p: numpy data written" "$(pyval "$F" "d['a'].tolist()")" "[1, 2, 3, 4]"
		check "p$p: numpy data longer than the array refused at write()" sh -c "! printf 'abcde' > '$W/a/data'"
		check "p$p: numpy data shorter than the array refused at close()" sh -c "! /usr/bin/printf 'abc' > '$W/a/data'"
		is "p$p: refused numpy data left the array" "$(pyval "$F" "d['a'].tolist()")" "[1, 2, 3, 4]"
		# OrderedDict, defaultdict, Counter
		echo 3 >"$W/od/z"
		rm "$W/od/a"
		mv "$W/od/b" "$W/od/bb"
		echo 5 >"$W/c/n"
		rm "$W/c/b"
		mkdir "$W/dd/new"
		rm -r "$W/dd/x"
		echo 1 >"$W/e/k"
		echo 4 >"$W/od/bb"
		is "p$p: OrderedDict listing" "$(mlisting "$W/od")" "bb z "
		is "p$p: OrderedDict, defaultdict, Counter edited" "$(pyval "$F" "(type(d['od']).__name__, list(d['od'].items()), type(d['dd']).__name__, d['dd'].default_factory, dict(d['dd']), type(d['c']).__name__, dict(d['c']), list(d['e'].items()))")" "('OrderedDict', [('bb', 4), ('z', 3)], 'defaultdict', <class 'list'>, {'new': {}}, 'Counter', {'a': 2, 'n': 5}, [('k', 1)])"
	done
	for p in 2 4 5; do
		is "dt$p: datetime64 / timedelta64 dtype with its unit" "$(cat "$M/dt$p.pkl/ns/dtype" "$M/dt$p.pkl/D/dtype" "$M/dt$p.pkl/td/dtype" | tr '\n' ' ')" "<M8[ns] <M8[D] <m8[10s] "
	done
	# a size no value can hold is refused at once, with EFBIG
	check "truncate -s 1T on a str fails" sh -c "! truncate -s 1T '$M/p4.pkl/n2'"
	check "and says File too large" sh -c "truncate -s 1T '$M/p4.pkl/n2' 2>&1 | grep -q 'File too large'"
	is "the str is unchanged" "$(pyval "$S/p4.pkl" "d['n2']")" "'hello'"
	is "a scalar top value's type is its own" "$(getfattr --only-values -n user.pickle.type "$M/scalar.pkl" 2>/dev/null)" int
	# a second mount on the same mountpoint
	"$BIN" "$S" "$M" 2>"$WORK/second.err"
	is "a second mount on a served mountpoint exits 1" "$?" 1
	check "and says so" grep -q "already a picklefs mount" "$WORK/second.err"
	is "the first mount is still the one served" "$(grep -c " $M fuse" /proc/mounts)" 1
	# cp -a from one mount into another keeps key order
	M2=$WORK/m2
	if mount_fs "$M2" "$S/target.pkl"; then
		cp -a "$M/order.pkl" "$M2/copy"
		cp -r "$M/order.pkl" "$M2/copy2"
		is "cp -a keeps key order" "$(pyval "$S/target.pkl" "(list(d['copy']), list(d['copy2']))")" "(['zeta', 'alpha', 'mid', 'beta', 'omega', 'gamma', 'a1', 'b2'], ['zeta', 'alpha', 'mid', 'beta', 'omega', 'gamma', 'a1', 'b2'])"
		umount_fs "$M2"
	fi
	umount_fs "$M"
fi

# ---- empty bytes of protocols 0-2 (bytes(), bytearray()) take content -------
B=$WORK/bsrc
BM=$WORK/bm
mkdir -p "$B"
"$PYTHON" - "$B" <<'EOF'
import os, pickle, sys
for p in (0, 1, 2, 3, 4):
    with open(os.path.join(sys.argv[1], 'b%d.pkl' % p), 'wb') as f:
        pickle.dump({'c': b'', 'ba': bytearray(b'q'), 'e': bytearray()}, f,
                    protocol=p)
EOF
if mount_fs "$BM" "$B"; then
	for p in 0 1 2 3 4; do
		check "b$p: truncate -s 0 of an empty bytes" truncate -s 0 "$BM/b$p.pkl/c"
		check "b$p: an empty bytes takes content" sh -c "printf 'a\\377b' > '$BM/b$p.pkl/c'"
		check "b$p: an empty bytearray takes content" sh -c "printf QQ > '$BM/b$p.pkl/e'"
		printf Z >"$BM/b$p.pkl/ba"
		is "b$p: bytes and bytearray keep their types" "$(pyval "$B/b$p.pkl" "d")" "{'c': b'a\\xffb', 'ba': bytearray(b'Z'), 'e': bytearray(b'QQ')}"
	done
	umount_fs "$BM"
fi

# ---- rm -r of any entry --------------------------------------------------------
# The hostile entry is a REDUCE of posix.system: the oracle below refuses
# every global it does not know, so nothing in these pickles can run.
R=$WORK/rmsrc
RM=$WORK/rm
mkdir -p "$R"
"$PYTHON" - "$R" <<'EOF'
import argparse, os, pickle, sys
import numpy as np
class Hostile:
    def __reduce__(self):
        return (os.system, ('touch /tmp/picklefs-hostile-ran',))
for p in (0, 2, 4, 5):
    d = {'t': (), 't2': (1, 2), 's': {1, 2}, 'fs': frozenset([3]),
         'a': np.arange(3), 'evil': Hostile(), 'l': [1],
         'o': argparse.Namespace(x=1, y=[1, 2]), 'o2': argparse.Namespace(),
         'keep': 1}
    with open(os.path.join(sys.argv[1], 'r%d.pkl' % p), 'wb') as f:
        pickle.dump(d, f, protocol=p)
EOF
safe_load() { # safe_load FILE: repr of the pickle, refusing unknown globals
	"$PYTHON" - "$1" <<'EOF' 2>&1
import pickle, sys
class Safe(pickle.Unpickler):
    def find_class(self, module, name):
        raise pickle.UnpicklingError('global %s.%s' % (module, name))
print(repr(Safe(open(sys.argv[1], 'rb')).load()))
EOF
}
if mount_fs "$RM" "$R"; then
	for p in 0 2 4 5; do
		D=$RM/r$p.pkl
		check "p$p: rmdir of an empty tuple" rmdir "$D/t"
		check "p$p: rm -r of a tuple" rm -r "$D/t2"
		check "p$p: rm -r of a set and a frozenset" rm -r "$D/s" "$D/fs"
		check "p$p: rm -r of an array" rm -r "$D/a"
		check "p$p: rm -r of a hostile call" rm -r "$D/evil"
		check "p$p: rm -r of an object" rm -r "$D/o"
		check "p$p: rm of an object's __class__ removes the object" rm "$D/o2/__class__"
		check "p$p: rm -r of a list" rm -r "$D/l"
		is "p$p: only keep is left" "$(safe_load "$R/r$p.pkl")" "{'keep': 1}"
		is "p$p: the listing says so" "$(mlisting "$D")" "keep "
	done
	umount_fs "$RM"
fi
check "nothing in the hostile pickles ran" test ! -e /tmp/picklefs-hostile-ran

# ---- a key longer than an xattr holds ----------------------------------------
# user.pickle.key is the key's repr; the kernel caps one xattr value at
# 64 KiB, so a longer repr is cut there and ends with "..." (README,
# "Extended attributes"), where it used to fail with E2BIG.
K=$WORK/longkey
mkdir -p "$K"
"$PYTHON" -c 'import pickle,sys; pickle.dump({"k" * 100000: 1, "short": 2}, open(sys.argv[1], "wb"))' "$K/a.pkl"
KM=$WORK/m_longkey
if mount_fs "$KM" "$K"; then
	long=$(ls "$KM/a.pkl" | grep -v '^short$')
	v=$(getfattr --absolute-names --only-values -n user.pickle.key "$KM/a.pkl/$long" 2>&1 | head -c 70000)
	is "a 100000-byte key: user.pickle.key is 65536 bytes" "${#v}" 65536
	is "a 100000-byte key: its repr's start" "${v:0:4}" "'kkk"
	is "a 100000-byte key: the cut is marked" "${v: -4}" "k..."
	is "a short key is whole" "$(getfattr --absolute-names --only-values -n user.pickle.key "$KM/a.pkl/short" 2>&1)" "'short'"
	umount_fs "$KM"
fi

# ---- why a pickle is shown raw: user.pickle.error ------------------------------
# The log may be syslog, which a container often lacks: the reason is
# also an xattr of the file shown raw (README, "Which files are pickles").
E=$WORK/errs
mkdir -p "$E"
printf '\x80\x04K\x07\x41.' >"$E/bad.pkl"
"$PYTHON" -c 'import pickle,sys; pickle.dump({"a": 1}, open(sys.argv[1], "wb"))' "$E/good.pkl"
"$PYTHON" -c 'import sys; open(sys.argv[1], "wb").write(b"\x80\x04" + b"]" * 3000000 + b".")' "$E/amp.pkl"
echo hello >"$E/note.txt"
EM=$WORK/m_errs
if mount_fs "$EM" -o max_tree=32M "$E"; then
	xa() { getfattr --absolute-names --only-values -n "$2" "$1" 2>&1; }
	is "a broken pickle: user.pickle.error says why" "$(xa "$EM/bad.pkl" user.pickle.error)" "bad.pkl: byte 4: unknown opcode"
	is "a broken pickle: getfattr -d lists it" "$(getfattr --absolute-names -d "$EM/bad.pkl" 2>&1 | grep -c '^user.pickle.error=')" 1
	check "a tree past -o max_tree: user.pickle.error names the bound" sh -c "getfattr --absolute-names -d '$EM/amp.pkl' 2>&1 | grep -q 'user.pickle.error=\"amp.pkl: byte [0-9]*: the decoded tree passes its memory limit of 32 MiB (-o max_tree=SIZE)\"'"
	is "a good pickle has no user.pickle.error" "$(getfattr --absolute-names -d "$EM/good.pkl" 2>&1 | grep -c error)" 0
	is "a text file has no user.pickle.error" "$(xa "$EM/note.txt" user.pickle.error | grep -c 'No such attribute')" 1
	umount_fs "$EM"
fi

# ---- the bundled examples (what make run mounts) ----------------------------
EX=$WORK/examples
EM=$WORK/exm
if PYTHON=$PYTHON BUILD=$BUILD bash "$REPO/scripts/run-examples.sh" "$EX" "$EM" >"$WORK/run.out" 2>&1; then
	ok
	MOUNTS+=("$EM")
	is "examples: alumnos as the tutorial has it" "$(mlisting "$EM/alumnos")" "Jose Arnoldo Mario Maria Amara Rolando Hemeregildo Prudencio Zoraida "
	is "examples: compress_alumnos (bz2.BZ2File)" "$(cat "$EM/compress_alumnos/Maria" "$EM/compress_alumnos/Zoraida" | tr '\n' ' ')" "78 0 "
	fusermount3 -u "$EM"
else
	bad "scripts/run-examples.sh failed: $(tail -c 300 "$WORK/run.out")"
fi

echo "usability: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
