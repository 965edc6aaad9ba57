#!/usr/bin/env bash
# Mount tests: real mounts of real pickles, driven with the real tools.
#
#   BUILD=build PYTHON=/usr/bin/python3 bash tests/mount/run.sh
#
# Uses $BUILD/asan/picklefs (ASan+UBSan: every mount's stderr is checked
# for sanitizer reports, and its exit status after unmount). Compares what
# the mount shows with what $PYTHON loads from the same pickles
# (tests/mount/check_tree.py), for the fixtures of scripts/make-fixtures.py
# (every producer and protocol), tests/fixtures/py2, and the cases of
# tests/mount/make_cases.py. Then the sub-suites (write.sh ... archives.sh,
# frames.sh: pandas DataFrame / Series views), their counts folded in.
# Prints "FAIL ..." per failure and ends with
# "mount: N passed, N failed"; exit status 1 when something failed.
set -u

BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BIN=${PICKLEFS:-$REPO/$BUILD/asan/picklefs}
case "$BUILD" in /*) BIN=${PICKLEFS:-$BUILD/asan/picklefs} ;; esac

PASS=0
FAIL=0
WORK=$(mktemp -d /tmp/picklefs-mount-XXXXXX)
MOUNTS=()   # mount points we mounted
PIDS=()     # picklefs processes we started

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"


if [ ! -x "$BIN" ]; then
	echo "FAIL no $BIN (make $BUILD/asan/picklefs)"
	echo "mount: 0 passed, 1 failed"
	exit 1
fi
if [ ! -e /dev/fuse ]; then
	echo "FAIL /dev/fuse is missing"
	echo "mount: 0 passed, 1 failed"
	exit 1
fi

# ---- inputs ----------------------------------------------------------------
"$PYTHON" "$HERE/make_cases.py" "$WORK/cases" || bad "make_cases.py failed"
CASES=$WORK/cases
FX=$WORK/fx
if [ -f "$REPO/scripts/make-fixtures.py" ]; then
	"$PYTHON" "$REPO/scripts/make-fixtures.py" "$FX" >"$WORK/fx.log" 2>&1 ||
		bad "make-fixtures.py failed: $(tail -3 "$WORK/fx.log")"
fi

# ---- command line ----------------------------------------------------------
"$BIN" --help >"$WORK/help" 2>&1
check "--help exits 0" test $? -eq 0
check "--help shows usage" grep -q "SOURCE MOUNTPOINT" "$WORK/help"
"$BIN" --version >"$WORK/version" 2>&1
check "--version exits 0" test $? -eq 0
check "--version names picklefs" grep -q "picklefs" "$WORK/version"
"$BIN" >/dev/null 2>&1
check "no arguments exit 2" test $? -eq 2
"$BIN" "$CASES/single.pkl" >/dev/null 2>&1
check "no mount point exits 2" test $? -eq 2
mkdir -p "$WORK/m_x"
"$BIN" -o cache_size=lots "$CASES/single.pkl" "$WORK/m_x" >/dev/null 2>&1
check "bad cache_size exits 2" test $? -eq 2
"$BIN" -o no_such_option "$CASES/single.pkl" "$WORK/m_x" >/dev/null 2>&1
check "unknown -o exits 2" test $? -eq 2
"$BIN" "$WORK/does-not-exist" "$WORK/m_x" >/dev/null 2>"$WORK/err"
check "missing SOURCE exits 1" test $? -eq 1
"$BIN" "$CASES/broken_single.pkl" "$WORK/m_x" >/dev/null 2>"$WORK/err"
check "broken SOURCE exits 1" test $? -eq 1
check "broken SOURCE message" grep -Eq "broken_single.pkl: byte [0-9]+: " "$WORK/err"
check "broken SOURCE did not mount" sh -c "! grep -q ' $WORK/m_x fuse' /proc/mounts"

# ---- a file SOURCE ---------------------------------------------------------
M=$WORK/m_single
if mount_fs "$M" "$CASES/single.pkl"; then
	check "single: keys in order" test "$(ls -f "$M" | grep -v '^\.\.\?$' | tr '\n' ' ')" = "title values big cplx flag nested "
	check "single: str" test "$(cat "$M/title")" = single
	check "single: str ends with newline" test "$(od -An -c "$M/title" | tr -d ' \n')" = 'single\n'
	check "single: float repr" test "$(cat "$M/values/0") $(cat "$M/values/1") $(cat "$M/values/2")" = "1.5 -0.0 inf"
	check "single: bigint" test "$(cat "$M/big")" = 1267650600228229401496703205376
	check "single: complex" test "$(cat "$M/cplx")" = "(1-2j)"
	check "single: bool/None" test "$(cat "$M/flag") $(cat "$M/nested/list/0") $(cat "$M/nested/list/1")" = "False None True"
	check "single: wc -c == st_size" test "$(wc -c <"$M/big")" = "$(stat -c %s "$M/big")"
	check "single: xattr type" test "$(getfattr --absolute-names --only-values -n user.pickle.type "$M/values")" = list
	check "single: xattr keytype" test "$(getfattr --absolute-names --only-values -n user.pickle.keytype "$M/values/1")" = index
	check "single: root type" test "$(getfattr --absolute-names --only-values -n user.pickle.type "$M")" = dict
	check "single: protocol xattr" test "$(getfattr --absolute-names --only-values -n user.pickle.protocol "$M")" = 5
	check "single: mtime from source" test "$(stat -c %Y "$M/title")" = "$(stat -c %Y "$CASES/single.pkl")"
	check "single: dir nlink" test "$(stat -c %h "$M")" = 4
	check "single: checker" "$PYTHON" "$HERE/check_tree.py" "$M" "$CASES/single.pkl"
	umount_fs "$M"
fi

# ---- the cases folder -------------------------------------------------------
M=$WORK/m_cases
if mount_fs "$M" "$CASES/folder"; then
	check "folder: pickle without extension is a dir" test -d "$M/alumnos"
	check "folder: alumnos order" test "$(ls -f "$M/alumnos" | grep -v '^\.\.\?$' | tr '\n' ' ')" = "Jose Arnoldo Maria Lucia "
	check "folder: cat alumnos/Jose" test "$(cat "$M/alumnos/Jose")" = 7
	check "folder: bz2 without extension" test "$(cat "$M/compress_alumnos/Arnoldo")" = 8
	check "folder: compression xattr" test "$(getfattr --absolute-names --only-values -n user.pickle.compression "$M/compress_alumnos")" = bzip2
	check "folder: gz arrays" test "$(cat "$M/arrays.pkl.gz/train/0/shape")" = "(3, 4)"
	check "folder: gz array dtype" test "$(cat "$M/arrays.pkl.gz/train/0/dtype")" = "<f4"
	check "folder: gz array data size" test "$(stat -c %s "$M/arrays.pkl.gz/train/0/data")" = 48
	check "folder: ndarray type" test "$(getfattr --absolute-names --only-values -n user.pickle.type "$M/arrays.pkl.gz/test")" = ndarray
	check "folder: text file is itself" cmp "$M/readme.txt" "$CASES/folder/readme.txt"
	check "folder: csv is itself" cmp "$M/table.csv" "$CASES/folder/table.csv"
	check "folder: gzip of text is itself" cmp "$M/notes.gz" "$CASES/folder/notes.gz"
	check "folder: empty file is itself" test -f "$M/empty.pkl"
	check "folder: protocol 0 .pickle" test "$(cat "$M/proto0.pickle/text")" = hola
	check "folder: protocol 0 without extension" test "$(cat "$M/proto0_noext/n")" = 42
	check "folder: protocol 1 .p" test "$(cat "$M/proto1.p/f")" = 0.1
	check "folder: subfolders mirrored" test "$(cat "$M/sub/dir/nested.pkl/deep")" = True
	check "folder: broken pickle is its raw file" cmp "$M/broken.pkl" "$CASES/folder/broken.pkl"
	check "folder: broken pickle logged" grep -Eq "broken.pkl: byte [0-9]+: " "$MLOG"
	cat "$M/bigbroken.pkl/n" >/dev/null 2>&1
	sleep 1.3
	check "folder: big broken pickle becomes its raw file" cmp "$M/bigbroken.pkl" "$CASES/folder/bigbroken.pkl"
	check "folder: big broken pickle logged" grep -Eq "bigbroken.pkl: byte [0-9]+: unknown opcode" "$MLOG"
	check "folder: dataclass __class__" test "$(cat "$M/point.pkl/__class__")" = casemod.Point
	check "folder: dataclass attribute" test "$(cat "$M/point.pkl/y")" = 2.5
	check "folder: protocol 0 object attribute" test "$(cat "$M/point_p0.pkl/tags/1")" = b
	check "folder: object class xattr" test "$(getfattr --absolute-names --only-values -n user.pickle.class "$M/point.pkl")" = casemod.Point
	# names
	N=$M/names.pkl
	check "names: slash escaped" test "$(cat "$N/a%2Fb")" = slash
	check "names: empty key" test "$(cat "$N/%")" = empty
	check "names: dot keys" test "$(cat "$N/%2E") $(cat "$N/%2E%2E")" = "dot dotdot"
	check "names: NUL escaped" test "$(cat "$N/x%00y")" = nul
	check "names: str 1 keeps its name" test "$(cat "$N/1")" = "str one"
	check "names: int 1 suffixed" test "$(cat "$N/1%int")" = "int one"
	check "names: str that looks suffixed" test "$(cat "$N/1%25int")" = "looks suffixed"
	check "names: None vs 'None'" test "$(cat "$N/None")|$(cat "$N/None%none")" = "str None|none key"
	check "names: bytes key repr" test "$(cat "$N/b'k'")" = "bytes key"
	check "names: tuple key repr" test "$(cat "$N/(1, 'a')")" = "tuple key"
	check "names: float key" test "$(cat "$N/1.5")" = "float key"
	check "names: percent escaped" test "$(cat "$N/%2541")" = percent
	check "names: two NaN keys" test "$(cat "$N/nan")|$(cat "$N/nan%float")" = "nan 1|nan 2"
	check "names: negative int" test "$(cat "$N/-7")" = negative
	check "names: long key cut" test "$(cat "$N/$(printf 'L%.0s' $(seq 200))%long")" = long
	check "names: keytype of int key" test "$(getfattr --absolute-names --only-values -n user.pickle.keytype "$N/1%int")" = int
	check "names: keytype of str key" test "$(getfattr --absolute-names --only-values -n user.pickle.keytype "$N/1")" = str
	check "names: key xattr" test "$(getfattr --absolute-names --only-values -n user.pickle.key "$N/(1, 'a')")" = "(1, 'a')"
	check "names: missing name" sh -c "! test -e '$N/nope'"
	check "names: non-canonical escape" sh -c "! test -e '$N/a%2fb'"
	# shared and recursive
	S=$M/shared.pkl
	check "shared: second occurrence is a symlink" test "$(readlink "$S/b")" = a
	check "shared: nested link is relative" test "$(readlink "$S/c/deep")" = ../a
	check "shared: cycle to itself" test "$(readlink "$S/rec/self")" = .
	check "shared: list cycle" test "$(readlink "$S/lst/1")" = .
	check "shared: read through a link" test "$(cat "$S/pair/1/1")" = 2
	check "shared: find terminates" timeout 30 find "$M" -name nothing
	check "shared: grep -r finds a value" sh -c "timeout 30 grep -rl Arnoldo '$M' >/dev/null; timeout 30 grep -r -q '^loop$' '$M/shared.pkl'"
	check "shared: du terminates" timeout 30 du -s "$M"
	check "shared: tree terminates" timeout 30 tree "$S"
	check "shared: cp -r terminates" timeout 30 cp -r "$S" "$WORK/copy"
	check "shared: cp -r keeps links" test "$(readlink "$WORK/copy/b")" = a
	check "shared: find -L sees the cycle" sh -c "timeout 30 find -L '$S' >/dev/null 2>&1; true"
	# Python side by side
	for f in alumnos compress_alumnos names.pkl shared.pkl proto0.pickle proto0_noext proto1.p arrays.pkl.gz sub/dir/nested.pkl; do
		check "checker: $f" "$PYTHON" "$HERE/check_tree.py" "$M/$f" "$CASES/folder/$f"
	done
	umount_fs "$M"
fi

# ---- every producer and protocol -------------------------------------------
if [ -d "$FX" ]; then
	M=$WORK/m_fx
	if mount_fs "$M" "$FX"; then
		: >"$WORK/batch"
		# (one protocol of the 10k-record tables is walked: a walk
		# takes 10 s; the corpus suite checks the others)
		for f in $(ls "$FX" | grep -v '^MANIFEST$\|^NOTES$\|1e6\|records-10k-p[345]'); do
			printf '%s\t%s\n' "$M/$f" "$FX/$f" >>"$WORK/batch"
		done
		check "fixtures: $(wc -l <"$WORK/batch") pickles match CPython" "$PYTHON" "$HERE/check_tree.py" --batch "$WORK/batch"
		# (the 100000-deep fixtures are walked by the checker to depth 200
		# and by the 3000-level walk below; a full walk takes minutes)
		check "fixtures: cat every file" sh -c "find '$M' -path '*deep*' -prune -o -type f -print0 | xargs -0 -P4 cat >/dev/null"
		check "fixtures: du" sh -c "du -s --exclude='*deep*' '$M' >/dev/null"
		deep=$(ls "$FX" | grep -m1 'deep-list-1e6')
		if [ -n "$deep" ]; then
			check "fixtures: 3000 levels of a 1e6-deep list" "$PYTHON" - "$M/$deep" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
for depth in range(3000):
    names = os.listdir(fd)
    assert names == ['0'], (depth, names)
    nfd = os.open('0', os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
    os.close(fd)
    fd = nfd
EOF
		fi
		umount_fs "$M"
	fi
	# link counts are 2 + subdirectories, counted with links (the shared
	# table) and without (a tree: no first-occurrence walk); on a mount
	# of the one pickle, as a folder's pickle says 1 ("unknown") until
	# it is parsed, and the kernel may keep that answer for a while
	for f in records-10k-p4.pkl records-10k-shared-p4.pkl; do
		[ -f "$FX/$f" ] || continue
		M=$WORK/m_records
		if mount_fs "$M" "$FX/$f"; then
			check "$f: root link count" test "$(stat -c %h "$M")" = 10002
			check "$f: record link count" test "$(stat -c %h "$M/9990")" = 2
			if [ "$f" = records-10k-shared-p4.pkl ]; then
				check "$f: the first record with the shared dict" test "$(stat -c %h "$M/0")" = 3
				check "$f: a record with a link to it" test "$(stat -c %h "$M/10")" = 2
				check "$f: the link" test "$(readlink "$M/10/tags")" = ../0/tags
			fi
			umount_fs "$M"
		fi
	done
	# a tiny cache: trees are dropped and parsed again, nothing changes
	M=$WORK/m_fx_small
	if mount_fs "$M" -o cache_size=64k "$FX"; then
		grep -v 'deep\|large\|records' "$WORK/batch" | sed "s#$WORK/m_fx/#$M/#" >"$WORK/batch_small"
		check "cache_size=64k: fixtures still match" "$PYTHON" "$HERE/check_tree.py" --batch "$WORK/batch_small"
		check "cache_size=64k: second pass" "$PYTHON" "$HERE/check_tree.py" --batch "$WORK/batch_small"
		# many threads reading many pickles while trees are dropped
		check "cache_size=64k: parallel readers" sh -c "find '$M' -path '*deep*' -prune -o -path '*records*' -prune -o -type f -print0 | xargs -0 -n 20 -P 8 cat >/dev/null"
		check "cache_size=64k: parallel listings" sh -c "ls '$M' | grep -v 'deep\|records' | xargs -P 8 -I{} ls -lR '$M/{}' >/dev/null"
		umount_fs "$M"
	fi
fi

# ---- Python 2 pickles --------------------------------------------------------
PY2=$REPO/tests/fixtures/py2
if [ -d "$PY2" ]; then
	M=$WORK/m_py2
	if mount_fs "$M" "$PY2"; then
		: >"$WORK/batch2"
		for f in $(ls "$PY2" | grep -v '^MANIFEST$'); do
			printf '%s\t%s\n' "$M/$f" "$PY2/$f" >>"$WORK/batch2"
		done
		check "py2: $(wc -l <"$WORK/batch2") pickles match CPython" "$PYTHON" "$HERE/check_tree.py" --batch "$WORK/batch2"
		umount_fs "$M"
	fi
fi

# ---- a folder of 1000 pickles ----------------------------------------------
M=$WORK/m_many
start=$(date +%s%N)
if mount_fs "$M" "$CASES/many"; then
	t_ms=$((($(date +%s%N) - start) / 1000000))
	check "many: mounted in ${t_ms} ms (< 2000)" test "$t_ms" -lt 2000
	check "many: 1000 entries" test "$(ls "$M" | wc -l)" = 1000
	check "many: all are directories" test "$(find "$M" -mindepth 1 -maxdepth 1 -type d | wc -l)" = 1000
	check "many: one value" test "$(cat "$M/p0500.pkl/name")" = "item 500"
	check "many: grep across all" test "$(grep -rh '^item 9' "$M" | wc -l)" = 111
	check "many: parallel reads" sh -c "ls '$M' | xargs -P8 -I{} cat '$M/{}/id' | sort -n | tail -1 | grep -qx 999"
	umount_fs "$M"
fi

# ---- read-only and daemon mode ----------------------------------------------
M=$WORK/m_ro
if mount_fs "$M" -o ro "$CASES/single.pkl"; then
	check "ro: reads" test "$(cat "$M/title")" = single
	check "ro: mount is read-only" grep -q " $M fuse.* ro," /proc/mounts
	cp "$CASES/single.pkl" "$WORK/single.before"
	check "ro: write refused" sh -c "! echo x > '$M/title'"
	check "ro: mkdir refused" sh -c "! mkdir '$M/new'"
	check "ro: rm refused" sh -c "! rm -f '$M/title'"
	check "ro: value kept" test "$(cat "$M/title")" = single
	check "ro: file unchanged" cmp -s "$CASES/single.pkl" "$WORK/single.before"
	umount_fs "$M"
fi
M=$WORK/m_daemon
mkdir -p "$M"
"$BIN" "$CASES/single.pkl" "$M" 2>"$WORK/daemon.log"
check "daemon: exit 0 after daemonizing" test $? -eq 0
MOUNTS+=("$M")
check "daemon: serves" test "$(cat "$M/title" 2>&1)" = single
fusermount3 -u "$M" 2>/dev/null
check "daemon: unmounted" sh -c "! grep -q ' $M fuse' /proc/mounts"

# ---- suites of their own (the write side, security, bounds, depth, the
# xz / lzma / zstd / zlib formats, array views, library scalars, joblib
# files and several pickles in one file, archives, pandas frames), their
# counts folded into ours
for sub in write identity usability trust security bounds depth zformats views scalars joblib archives frames; do
	sub_start=$SECONDS
	BUILD=$BUILD PYTHON=$PYTHON bash "$HERE/$sub.sh" 2>&1 | tee "$WORK/$sub.out" | grep -v "^$sub: [0-9]* passed, [0-9]* failed\$"
	echo "info: $sub.sh took $((SECONDS - sub_start)) s"
	wsum=$(grep -E "^$sub: [0-9]+ passed, [0-9]+ failed\$" "$WORK/$sub.out" | tail -n 1)
	if [ -n "$wsum" ]; then
		PASS=$((PASS + $(echo "$wsum" | cut -d' ' -f2)))
		FAIL=$((FAIL + $(echo "$wsum" | cut -d' ' -f4)))
	else
		bad "$sub.sh ended without its summary line"
	fi
done


echo "mount: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
