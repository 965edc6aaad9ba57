#!/usr/bin/env bash
# pickletool's tree commands (ls, get, set, find): the mount without FUSE.
# Each is checked against a real mount of the same file, the mount being
# the oracle for names, order, contents and what an edit writes:
#
#   BUILD=build PYTHON=/usr/bin/python3 bash tests/tool/run.sh
#
#   read     for pickles made here (a dict of scalars, nested containers,
#            numpy arrays, a shared container and a cycle (symlinks), a
#            gzip pickle,
#            a tar.gz archive, tests/fixtures/torch/state_dict.pt) and the
#            folder and single pickle of tests/mount/make_cases.py:
#            `pickletool find` = `find MOUNT -mindepth 1` (paths relative),
#            `pickletool ls` = `ls -f` of every directory, `ls -l` of the
#            root = type, size, name and link target as lstat/readlink see
#            them, `pickletool get` = `cat` of every file
#   edit     the same edits through a mount (a copy) and through
#            `pickletool set` (another copy) give the same bytes, and
#            $PYTHON loads what was meant (int, float, str with unicode, a
#            new key, a list member, one trailing newline from stdin); a
#            refused literal exits 1 with EINVAL's message and leaves the
#            file byte-identical; inside an archive EROFS; an edit and the
#            edit back give the original bytes; a write-back that fails
#            (a full tmpfs) exits 1 with the reason, the file as it was
#   errors   exit 1 with "pickletool: FILE/PATH: strerror", the mount's
#            message for a broken pickle, exit 2 for bad usage
#   depth    find down a list nested 100,000 deep: no crash (the output
#            to /dev/null; ls at the bottom), 20,000 deep: every level
#
# Uses $BUILD/asan/pickletool and $BUILD/asan/picklefs (their stderr is
# checked for sanitizer reports). Prints "FAIL ..." per failure and ends
# with "tool: N passed, N failed"; exit status 1 when something failed.
set -u
SUITE=tool
. "$(dirname "$0")/../mount/lib.sh"
TOOL=${PICKLETOOL:-$REPO/$BUILD/asan/pickletool}
case "$BUILD" in /*) TOOL=${PICKLETOOL:-$BUILD/asan/pickletool} ;; esac

finish() {
	echo "tool: $PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
	exit
}
for b in "$TOOL" "$BIN"; do
	if [ ! -x "$b" ]; then
		bad "no $b"
		finish
	fi
done

S=$WORK/src
mkdir -p "$S/read" "$S/edit"
"$PYTHON" - "$S" "$REPO" <<'PY' || bad "making the pickles failed"
import gzip, io, pickle, shutil, sys, tarfile
import numpy as np
s, repo = sys.argv[1], sys.argv[2]
r = s + '/read/'
pickle.dump({'i': 7, 'f': 2.5, 's': 'héllo ✓', 'b': True, 'n': None,
             'by': b'a\x00b', 'big': 2 ** 80}, open(r + 'scalars.pkl', 'wb'))
pickle.dump({'l': [1, [2, 3], {'x': (4, 5.5)}], 'd': {'a': {'b': 'c'}},
             't': (), 'set': {1, 2}}, open(r + 'nested.pkl', 'wb'), 2)
pickle.dump({'a': np.arange(12, dtype=np.int32).reshape(3, 4),
             'f': np.linspace(0, 1, 5), 'z': np.zeros(0)},
            open(r + 'arrays.pkl', 'wb'), 4)
x = [1, 'two']
cyc = [1]
cyc.append(cyc)
pickle.dump({'p': x, 'q': x, 'r': {'again': x}, 'cycle': cyc},
            open(r + 'shared.pkl', 'wb'))
with gzip.open(r + 'gz.pkl.gz', 'wb') as f:
    pickle.dump({'gz': [1.5, 'in gzip']}, f)
with tarfile.open(r + 'arch.tar.gz', 'w:gz') as t:
    for name, obj in (('m.pkl', {'k': 1, 'v': 'member'}),
                      ('dir/n.pkl', [1, 2])):
        b = pickle.dumps(obj)
        ti = tarfile.TarInfo(name)
        ti.size = len(b)
        t.addfile(ti, io.BytesIO(b))
shutil.copy(repo + '/tests/fixtures/torch/state_dict.pt', r + 'state_dict.pt')
# the edit fixture, twice: one for the mount, one for pickletool
e = {'i': 7, 'f': 2.5, 's': 'abc', 'l': [1, 2], 'd': {'k': 'v'}}
for d in ('m', 't'):
    import os
    os.makedirs(s + '/edit/' + d)
    pickle.dump(e, open(s + '/edit/%s/edit.pkl' % d, 'wb'))
    shutil.copy(r + 'arch.tar.gz', s + '/edit/%s/arch.tar.gz' % d)
# hand-written opcodes: CPython cannot pickle nesting this deep
for n, name in ((100000, 'deep.pkl'), (20000, 'deep20k.pkl')):
    open(s + '/' + name, 'wb').write(b'\x80\x02' + b']' * n + b']' + b'a' * n + b'.')
PY
"$PYTHON" "$REPO/tests/mount/make_cases.py" "$WORK/cases" >/dev/null 2>&1 ||
	bad "make_cases.py failed"

# the deep walks run meanwhile. find's output 100,000 deep is 10 GB of
# paths ("0/0/.../0"): counting its lines through a pipe takes 10 s and
# more on a loaded machine, so the count is checked 20,000 deep (400 MB)
# and the 100,000-deep walk goes to /dev/null, its bottom checked by ls
(
	"$TOOL" find "$S/deep.pkl" >/dev/null 2>"$WORK/deep.err"
	echo $? >"$WORK/deep.rc"
	"$TOOL" find "$S/deep20k.pkl" 2>>"$WORK/deep.err" | wc -l >"$WORK/deep.count"
) &
DEEP=$!

sanitizer_free() { # NAME FILE: no sanitizer report in FILE
	if grep -q "AddressSanitizer\|LeakSanitizer\|runtime error" "$2"; then
		bad "$1: sanitizer: $(grep -m3 "Sanitizer\|runtime error" "$2" | tr '\n' ' ')"
	else ok; fi
}

# ---- reading: pickletool against a mount of the same file ------------------
# long form of a directory of the mount, as `pickletool ls -l` prints it
long_ls() {
	"$PYTHON" - "$1" <<'PY'
import os, stat, sys
for e in os.scandir(sys.argv[1]):
    st = os.lstat(e.path)
    t = 'd' if stat.S_ISDIR(st.st_mode) else 'l' if stat.S_ISLNK(st.st_mode) else '-'
    tail = ' -> ' + os.readlink(e.path) if t == 'l' else ''
    print('%s %d %s%s' % (t, st.st_size, e.name, tail))
PY
}

compare_tree() { # NAME SOURCE [top]: top: find, ls and ls -l of the root only
	local name=$1 src=$2 m=$WORK/m_$1 p n=0 bad_ls=0 bad_get=0 t=$WORK/t
	mount_fs "$m" "$src" || return
	# the root first: a folder's pickles are loaded when first listed
	# (a broken one turns into its raw file then), by find below
	ls -f "$m" | grep -v '^\.\.\?$' >"$t.mls"
	"$TOOL" ls "$src" >"$t.tls" 2>"$t.err"
	check "$name: ls exits 0" test $? -eq 0
	check "$name: ls = ls -f" cmp "$t.mls" "$t.tls"
	long_ls "$m" >"$t.mls"
	"$TOOL" ls -l "$src" >"$t.tls" 2>"$t.err"
	check "$name: ls -l" cmp "$t.mls" "$t.tls"
	(cd "$m" && find . -mindepth 1 2>/dev/null | sed 's|^\./||') >"$t.mfind"
	"$TOOL" find "$src" >"$t.tfind" 2>"$t.err"
	sanitizer_free "$name: find" "$t.err"
	if cmp -s "$t.mfind" "$t.tfind"; then ok; else
		bad "$name: find differs: $(diff "$t.mfind" "$t.tfind" | head -5 | tr '\n' ' ')"
	fi
	if [ "${3:-}" = top ]; then
		umount_fs "$m"
		return
	fi
	# every directory listed, every file read (NUL-separated: names
	# may hold newlines)
	while IFS= read -r -d '' p; do
		p=${p#./}
		n=$((n + 1))
		if [ -L "$m/$p" ]; then
			continue
		elif [ -d "$m/$p" ]; then
			ls -f "$m/$p" 2>/dev/null | grep -v '^\.\.\?$' >"$t.mls"
			"$TOOL" ls "$src" "$p" >"$t.tls" 2>>"$t.err2"
			cmp -s "$t.mls" "$t.tls" || { bad_ls=$((bad_ls + 1)); echo "  ls differs: $p"; }
		elif [ -f "$m/$p" ]; then
			cat "$m/$p" >"$t.mcat" 2>/dev/null
			"$TOOL" get "$src" "$p" >"$t.tcat" 2>>"$t.err2"
			cmp -s "$t.mcat" "$t.tcat" || { bad_get=$((bad_get + 1)); echo "  get differs: $p"; }
		fi
	done < <(cd "$m" && find . -mindepth 1 -print0 2>/dev/null)
	is "$name: ls of every directory ($n entries)" "$bad_ls" 0
	is "$name: get = cat of every file" "$bad_get" 0
	sanitizer_free "$name: ls/get" "$t.err2"
	rm -f "$t.err2"
	umount_fs "$m"
}

for f in scalars.pkl nested.pkl arrays.pkl shared.pkl gz.pkl.gz arch.tar.gz state_dict.pt; do
	compare_tree "${f%%.*}" "$S/read/$f"
done
compare_tree folder "$S/read" top # its pickles are the ones above
compare_tree cases_single "$WORK/cases/single.pkl"
compare_tree cases_folder "$WORK/cases/folder"

# what the pickles hold, by name (the comparisons above could agree on
# nothing at all)
is "get a str" "$("$TOOL" get "$S/read/scalars.pkl" s)" "héllo ✓"
is "get through a shared container's symlink" \
	"$("$TOOL" get "$S/read/shared.pkl" q/1)" two
is "ls -l of a symlink" "$("$TOOL" ls -l "$S/read/shared.pkl" q)" \
	"l 1 q -> p"
is "ls of a file prints its path" "$("$TOOL" ls "$S/read/scalars.pkl" i)" i
is "find below a path" "$("$TOOL" find "$S/read/nested.pkl" l/2 | tr '\n' ' ')" \
	"l/2/x l/2/x/0 l/2/x/1 "
is "find does not follow a cycle" \
	"$("$TOOL" find "$S/read/shared.pkl" cycle | tr '\n' ' ')" "cycle/0 cycle/1 "
is "get a tar.gz member's value" "$("$TOOL" get "$S/read/arch.tar.gz" m.pkl/v)" member
"$TOOL" get "$S/read/state_dict.pt" 0.weight/dtype >/dev/null 2>&1
check "get a tensor's file" test $? -eq 0

# ---- edits: pickletool set against the same edits through a mount ----------
EM=$S/edit/m
ET=$S/edit/t
cp "$ET/edit.pkl" "$WORK/edit.orig"
M=$WORK/m_edit
mount_fs "$M" "$EM"
same_edit() { # NAME PATH VALUE: printf %s VALUE > mount, pickletool set
	printf %s "$3" >"$M/edit.pkl/$2"
	"$TOOL" set "$ET/edit.pkl" "$2" "$3" 2>"$WORK/set.err"
	check "$1: set exits 0 ($(head -c 200 "$WORK/set.err"))" test $? -eq 0
	check "$1: same bytes as the mount's" cmp "$EM/edit.pkl" "$ET/edit.pkl"
}
pyis() { # NAME EXPR WANT: EXPR of the pickle d that pickletool edited
	is "$1" "$("$PYTHON" -c "import pickle,sys; d = pickle.load(open(sys.argv[1], 'rb')); print($2)" "$ET/edit.pkl" 2>&1)" "$3"
}
same_edit "int" i 42
pyis "int written" "repr(d['i'])" 42
same_edit "float" f 3.25
pyis "float written" "repr(d['f'])" 3.25
same_edit "str with unicode" s "ünï ✓ 日本"
pyis "str written" "d['s'] == 'ünï ✓ 日本'" True
same_edit "new key" nk 5
pyis "new key made" "repr(d['nk']), list(d)[-1]" "5 nk"
same_edit "list member" l/1 9
pyis "list member written" "d['l']" "[1, 9]"
same_edit "nested dict value" d/k "w"
pyis "nested value written" "d['d']" "{'k': 'w'}"

# from stdin, a trailing newline as the mount takes `echo x > file`
printf 'xyz\n' >"$M/edit.pkl/s"
printf 'xyz\n' | "$TOOL" set "$ET/edit.pkl" s - 2>"$WORK/set.err"
check "stdin: exits 0" test $? -eq 0
check "stdin: same bytes as the mount's" cmp "$EM/edit.pkl" "$ET/edit.pkl"
pyis "stdin: one newline dropped" "repr(d['s'])" "'xyz'"
echo 77 | "$TOOL" set "$ET/edit.pkl" i - 2>"$WORK/set.err"
pyis "stdin: echo into an int" "repr(d['i'])" 77
umount_fs "$M"

# FILE a folder: PATH goes through its pickle
"$TOOL" set "$S/edit/t" edit.pkl/i 8 2>"$WORK/set.err"
check "set through a folder exits 0" test $? -eq 0
pyis "set through a folder" "repr(d['i'])" 8

# a refused literal: EINVAL, the file untouched
cp "$ET/edit.pkl" "$WORK/before"
"$TOOL" set "$ET/edit.pkl" i "not a number" 2>"$WORK/set.err"
is "refused literal exits 1" $? 1
check "refused literal: EINVAL message" \
	grep -qF "pickletool: $ET/edit.pkl/i: Invalid argument" "$WORK/set.err"
check "refused literal: file byte-identical" cmp "$WORK/before" "$ET/edit.pkl"
sanitizer_free "refused literal" "$WORK/set.err"
"$TOOL" set "$ET/edit.pkl" f "1.5.5" 2>"$WORK/set.err"
is "refused float exits 1" $? 1
check "refused float: file byte-identical" cmp "$WORK/before" "$ET/edit.pkl"

# inside an archive: EROFS
cp "$ET/arch.tar.gz" "$WORK/before"
"$TOOL" set "$ET/arch.tar.gz" m.pkl/k 5 2>"$WORK/set.err"
is "archive member exits 1" $? 1
check "archive member: EROFS message" \
	grep -qF "pickletool: $ET/arch.tar.gz/m.pkl/k: Read-only file system" "$WORK/set.err"
check "archive: file byte-identical" cmp "$WORK/before" "$ET/arch.tar.gz"

# an edit and the edit back: the original bytes (the mount's guarantee)
cp "$WORK/edit.orig" "$WORK/id.pkl"
"$TOOL" set "$WORK/id.pkl" i 123456 && "$TOOL" set "$WORK/id.pkl" i 7
check "edit and back: exit 0" test $? -eq 0
check "edit and back: the original bytes" cmp "$WORK/edit.orig" "$WORK/id.pkl"
"$TOOL" set "$WORK/id.pkl" s "other text" && "$TOOL" set "$WORK/id.pkl" s abc
check "str edit and back: the original bytes" cmp "$WORK/edit.orig" "$WORK/id.pkl"

# a write-back that fails (a full tmpfs): exit 1, the reason, the file as
# it was
if small_tmpfs "$WORK/small" 64k 2>/dev/null; then
	"$PYTHON" -c "import pickle, sys; pickle.dump({'a': 1, 'pad': 'x' * 40000}, open(sys.argv[1], 'wb'))" "$WORK/small/p.pkl"
	cp "$WORK/small/p.pkl" "$WORK/before"
	"$TOOL" set "$WORK/small/p.pkl" a 5 2>"$WORK/set.err"
	is "full disk exits 1" $? 1
	check "full disk: ENOSPC message" \
		grep -qxF "pickletool: $WORK/small/p.pkl/a: No space left on device" "$WORK/set.err"
	check "full disk: file as it was" cmp "$WORK/before" "$WORK/small/p.pkl"
	check "full disk: no temporary file left" \
		test "$(ls -A "$WORK/small")" = p.pkl
fi

# ---- errors and usage --------------------------------------------------------
"$TOOL" get "$S/read/scalars.pkl" nope >/dev/null 2>"$WORK/err"
is "missing path exits 1" $? 1
check "missing path message" grep -qxF \
	"pickletool: $S/read/scalars.pkl/nope: No such file or directory" "$WORK/err"
"$TOOL" get "$S/read/nested.pkl" l >/dev/null 2>"$WORK/err"
is "get of a directory exits 1" $? 1
check "get of a directory: EISDIR" grep -qF "Is a directory" "$WORK/err"
"$TOOL" set "$S/read/nested.pkl" l 5 2>"$WORK/err"
is "set of a directory exits 1" $? 1
"$TOOL" ls "$WORK/no-such.pkl" >/dev/null 2>"$WORK/err"
is "missing FILE exits 1" $? 1
check "missing FILE message" grep -qF "No such file or directory" "$WORK/err"
"$TOOL" ls "$WORK/cases/broken_single.pkl" >/dev/null 2>"$WORK/err"
is "broken pickle exits 1" $? 1
check "broken pickle: the mount's message" \
	grep -Eq "broken_single.pkl: byte [0-9]+: " "$WORK/err"
for args in "ls" "get F" "set F P" "find" "ls -l" "get F P X" "set F P V X"; do
	# shellcheck disable=SC2086
	"$TOOL" $args >/dev/null 2>&1
	is "usage '$args' exits 2" $? 2
done
"$TOOL" --help | grep -q "set FILE PATH VALUE"
check "usage names set" test $? -eq 0

# ---- depth --------------------------------------------------------------------
wait "$DEEP"
is "deep find exits 0" "$(cat "$WORK/deep.rc" 2>/dev/null)" 0
is "deep find 20,000 deep: every level" "$(tr -d ' ' <"$WORK/deep.count" 2>/dev/null)" 20000
bottom=$(printf "0/%.0s" $(seq 59999))
is "ls 59,999 deep (a walk of 60,000 lookups)" "$("$TOOL" ls "$S/deep.pkl" "$bottom" 2>&1)" 0
sanitizer_free "deep find" "$WORK/deep.err"

finish
