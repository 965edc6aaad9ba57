#!/usr/bin/env bash
# Trust tests: the write side never lies and never overwrites someone
# else's data. Real mounts with the ASan binary, results checked by
# loading the pickle with CPython (tests/mount/trust_ops.py).
#
#   BUILD=build PYTHON=/usr/bin/python3 bash tests/mount/trust.sh
#
#   daemon      -o writeback in the background (no -f): edits reach the
#               disk while mounted; after fusermount3 -u the daemon writes
#               what is pending and exits by itself
#   fsync       -o writeback: fsync() returns once the pickle is on disk;
#               a failed write-back (ENOSPC on a small tmpfs) is logged,
#               retried, reported to the next fsync/close; unmount with an
#               unwritable edit logs "edits lost" and exits 1
#   refused     default mode: an edit whose write-back fails (ENOSPC,
#               EROFS) leaves no trace: cat shows the old value and the
#               next good edit does not write it
#   outside     a change on disk wins: over an edit pending with
#               -o writeback (ESTALE, logged), during the encoding of a
#               big pickle's write-back (5 rounds, replaced and rewritten
#               in place), after rm of the source (ENOENT, not created
#               again); owner, group and mode are kept
#   latin1      a Python 2 str read as latin-1 is written back as latin-1
#   temp files  leftover .NAME.pkfs-XXXXXX files are removed at mount
#               start (and at a folder's first listing), never shown
#
# Prints "FAIL ..." per failure and ends with "trust: N passed, N failed";
# exit status 1 when something failed. Needs root (tmpfs mounts).
set -u

SUITE=trust
BIG_ROWS=${BIG_ROWS:-1500000} # ~60 MB at protocol 4
RACE_ROUNDS=${RACE_ROUNDS:-5}
. "$(dirname "$0")/lib.sh"

OPS=$HERE/trust_ops.py
ops() { "$PYTHON" "$OPS" "$@" 2>&1; }
AL() { echo "{'Jose': $1, 'Arnoldo': $2, 'Maria': $3}"; }
mkal() { # mkal FILE: {'Jose': 7, 'Arnoldo': 8, 'Maria': 10}, protocol 4
	"$PYTHON" -c 'import pickle,sys; pickle.dump({"Jose": 7, "Arnoldo": 8, "Maria": 10}, open(sys.argv[1], "wb"), protocol=4)' "$1"
}
# waitfor SECONDS COMMAND...: polls until the command succeeds
waitfor() {
	local t=$1 i
	shift
	for i in $(seq $((t * 10))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	"$@" >/dev/null 2>&1
}
loads_to() { [ "$(ops load "$1")" = "$2" ]; }
temps_in() { find "$1" -maxdepth 1 -name '.*.pkfs-*' | wc -l; }
# umount_rc MOUNTPOINT: unmounts the picklefs started by mount_fs and
# sets URC to its exit status (the caller checks it)
umount_rc() {
	local mp=$1 i
	for i in $(seq 50); do
		fusermount3 -u "$mp" 2>/dev/null && break
		sleep 0.1
	done
	wait "$MPID"
	URC=$?
	if grep -q "AddressSanitizer\|LeakSanitizer\|runtime error" "$MLOG"; then
		bad "sanitizer report on $mp: $(grep -m3 "Sanitizer\|runtime error" "$MLOG" | tr '\n' ' ')"
	else ok; fi
}
# the 200 kB pickle of the tmpfs tests, and a check of it
WB0="{'Jose': 7, 'Arnoldo': 8, 'Maria': 10, 'pad': 'x' * 200000}"
mkpad() {
	"$PYTHON" -c 'import pickle,sys; pickle.dump(eval(sys.argv[2]), open(sys.argv[1], "wb"), protocol=4)' "$1" "$WB0"
}
wbis() { # wbis FILE EXPR: FILE loads to EXPR (keys in order)
	"$PYTHON" -c 'import pickle,sys; d = pickle.load(open(sys.argv[1], "rb")); e = eval(sys.argv[2]); sys.exit(0 if d == e and list(d) == list(e) else "%r" % {k: v for k, v in d.items() if k != "pad"})' "$1" "$2"
}
fill() { # fill DIR: no space left on DIR's filesystem
	dd if=/dev/zero of="$1/filler" bs=4k 2>/dev/null
	sync
}

if [ ! -x "$BIN" ]; then
	echo "FAIL no $BIN (make $BUILD/asan/picklefs)"
	echo "trust: 0 passed, 1 failed"
	exit 1
fi
if [ ! -e /dev/fuse ] || [ "$(id -u)" != 0 ]; then
	echo "FAIL needs /dev/fuse and root (tmpfs mounts)"
	echo "trust: 0 passed, 1 failed"
	exit 1
fi

# =============================================================================
# 1. -o writeback in the background: threads start after the fork
# =============================================================================
mkdir -p "$WORK/bg"
mkal "$WORK/bg/al.pkl"
M=$WORK/m-bg-$$-$RANDOM
mkdir -p "$M"
"$BIN" -o writeback=1 "$WORK/bg/al.pkl" "$M" 2>"$WORK/bg.log"
check "daemon: picklefs without -f exits 0 after forking" test $? -eq 0
MOUNTS+=("$M")
BGPID=$(pgrep -f -- "$M" | head -n 1)
check "daemon: its pid" test -n "$BGPID"
check "daemon: serves" test "$(cat "$M/Jose" 2>&1)" = 7
echo 9 >"$M/Jose"
waitfor 4 loads_to "$WORK/bg/al.pkl" "$(AL 9 8 10)"
check "daemon: -o writeback=1 edit on disk within 4 s, still mounted" loads_to "$WORK/bg/al.pkl" "$(AL 9 8 10)"
echo 5 >"$M/Arnoldo"
fusermount3 -u "$M"
gone() { ! kill -0 "$1" 2>/dev/null; }
if [ -n "$BGPID" ]; then
	waitfor 15 gone "$BGPID"
	if gone "$BGPID"; then ok; else
		bad "daemon: still running 15 s after fusermount3 -u (killed)"
		kill -9 "$BGPID" 2>/dev/null
	fi
fi
check "daemon: the edit pending at unmount is on disk" loads_to "$WORK/bg/al.pkl" "$(AL 9 5 10)"
is "daemon: no temporary files" "$(temps_in "$WORK/bg")" 0

# =============================================================================
# 2. -o writeback: fsync means on disk; failed write-backs are reported
# =============================================================================
mkdir -p "$WORK/fs"
mkal "$WORK/fs/al.pkl"
M=$WORK/m_fsync
if mount_fs "$M" -o writeback=30 "$WORK/fs/al.pkl"; then
	is "fsync: write + fsync + close" "$(ops write "$M/Jose" 9 fsync)" "open=0 write=0 fsync=0 close=0"
	check "fsync: on disk when fsync returned (writeback=30)" loads_to "$WORK/fs/al.pkl" "$(AL 9 8 10)"
	echo 6 >"$M/Maria"
	check "fsync: close alone does not write (writeback=30)" loads_to "$WORK/fs/al.pkl" "$(AL 9 8 10)"
	is "fsync: of another file of the pickle, read-only" "$(ops fsync "$M/Arnoldo")" "open=0 fsync=0 close=0"
	check "fsync: ... wrote the pending edit" loads_to "$WORK/fs/al.pkl" "$(AL 9 8 6)"
	umount_fs "$M"
fi

T=$WORK/tfs_wb
if small_tmpfs "$T" 1m; then
	mkpad "$T/al.pkl"
	M=$WORK/m_enospc_wb
	if mount_fs "$M" -o writeback=1 "$T/al.pkl"; then
		fill "$T"
		is "ENOSPC wb: close returns before the write" "$(ops write "$M/Jose" 9)" "open=0 write=0 close=0"
		waitfor 4 grep -q "al.pkl: cannot write back: No space left on device" "$MLOG"
		check "ENOSPC wb: logged with name and errno" grep -q "al.pkl: cannot write back: No space left on device" "$MLOG"
		check "ENOSPC wb: pickle unchanged" wbis "$T/al.pkl" "$WB0"
		is "ENOSPC wb: the next close of the pickle fails" "$(ops write "$M/Arnoldo" 6)" "open=0 write=0 close=ENOSPC"
		check "ENOSPC wb: the edit that close accepted is not logged as refused" sh -c "! grep 'edit refused' '$MLOG'"
		is "ENOSPC wb: fsync fails" "$(ops fsync "$M/Maria")" "open=0 fsync=ENOSPC close=0"
		is "ENOSPC wb: no temporary file" "$(temps_in "$T")" 0
		rm -f "$T/filler"
		waitfor 4 wbis "$T/al.pkl" "dict($WB0, Jose=9, Arnoldo=6)"
		check "ENOSPC wb: retried and written once there is space" wbis "$T/al.pkl" "dict($WB0, Jose=9, Arnoldo=6)"
		is "ENOSPC wb: fsync after the retry" "$(ops fsync "$M/Maria")" "open=0 fsync=0 close=0"
		# unmount with an edit that cannot be written
		fill "$T"
		echo 11 >"$M/Maria"
		umount_rc "$M"
		is "ENOSPC wb: unmount with unwritable edits exits 1" "$URC" 1
		check "ENOSPC wb: unmount logs the loss" grep -q "al.pkl: cannot write back: No space left on device; edits lost" "$MLOG"
		check "ENOSPC wb: pickle as last written" wbis "$T/al.pkl" "dict($WB0, Jose=9, Arnoldo=6)"
		is "ENOSPC wb: no temporary file after unmount" "$(temps_in "$T")" 0
		rm -f "$T/filler"
	fi
fi

# =============================================================================
# 3. default mode: a refused edit leaves no trace
# =============================================================================
T=$WORK/tfs_sync
if small_tmpfs "$T" 1m; then
	mkpad "$T/al.pkl"
	M=$WORK/m_refused
	if mount_fs "$M" "$T/al.pkl"; then
		# EROFS first: once a write-back replaced the file, the old one
		# (unlinked, still mapped) makes a remount read-only EBUSY
		mount -o remount,ro "$T"
		is "refused EROFS: close fails" "$(ops write "$M/Maria" 99)" "open=0 write=0 close=EROFS"
		is "refused EROFS: cat shows the old value" "$(cat "$M/Maria")" 10
		mount -o remount,rw "$T"
		is "refused EROFS: a later good edit" "$(ops write "$M/Jose" 3)" "open=0 write=0 close=0"
		check "refused EROFS: ... does not write the refused one" wbis "$T/al.pkl" "dict($WB0, Jose=3)"
		fill "$T"
		is "refused ENOSPC: close fails" "$(ops write "$M/Jose" 99)" "open=0 write=0 close=ENOSPC"
		is "refused ENOSPC: cat shows the old value" "$(cat "$M/Jose")" 3
		rm -f "$T/filler"
		is "refused ENOSPC: a later good edit" "$(ops write "$M/Arnoldo" 5)" "open=0 write=0 close=0"
		check "refused ENOSPC: ... does not write the refused one" wbis "$T/al.pkl" "dict($WB0, Jose=3, Arnoldo=5)"
		is "refused: no temporary file" "$(temps_in "$T")" 0
		umount_fs "$M"
	fi
fi

# =============================================================================
# 4. never overwrite another program's change
# =============================================================================
# a. -o writeback: an edit pending while the file is changed from outside
mkdir -p "$WORK/outside"
mkal "$WORK/outside/al.pkl"
M=$WORK/m_outside_wb
if mount_fs "$M" -o writeback=30 "$WORK/outside/al.pkl"; then
	echo 9 >"$M/Jose"
	"$PYTHON" -c 'import pickle,os,sys; pickle.dump({"Jose": 7, "Arnoldo": 8, "Maria": 100}, open(sys.argv[1] + ".new", "wb"), protocol=4); os.replace(sys.argv[1] + ".new", sys.argv[1])' "$WORK/outside/al.pkl"
	sleep 1.2
	is "outside wb: the mount shows the outside change" "$(cat "$M/Maria")" 100
	is "outside wb: the pending edit is dropped" "$(cat "$M/Jose")" 7
	check "outside wb: logged" grep -q "al.pkl: changed on disk; 1 pending edits not written" "$MLOG"
	is "outside wb: the next fsync fails with ESTALE" "$(ops fsync "$M/Jose")" "open=0 fsync=ESTALE close=0"
	is "outside wb: reported once" "$(ops fsync "$M/Jose")" "open=0 fsync=0 close=0"
	# pending again, changed again, not looked at before unmount
	echo 1 >"$M/Arnoldo"
	"$PYTHON" -c 'import pickle,os,sys; pickle.dump({"Jose": 70, "Arnoldo": 8, "Maria": 100}, open(sys.argv[1] + ".new", "wb"), protocol=4); os.replace(sys.argv[1] + ".new", sys.argv[1])' "$WORK/outside/al.pkl"
	umount_rc "$M"
	is "outside wb: unmount over an outside change exits 1" "$URC" 1
	check "outside wb: the outside version survives the unmount" loads_to "$WORK/outside/al.pkl" "$(AL 70 8 100)"
	is "outside wb: no temporary file" "$(temps_in "$WORK/outside")" 0
fi

# b. default mode: the file changes while the write-back encodes
mkdir -p "$WORK/big"
ops big "$WORK/big/big.pkl" "$BIG_ROWS" >/dev/null
# the races below need a pickle whose write-back takes a while: what
# was asked for was made (a row pickles to ~40 bytes at protocol 4)
big_size=$(stat -c %s "$WORK/big/big.pkl" 2>/dev/null || echo 0)
if [ "$big_size" -ge $((BIG_ROWS * 30)) ]; then ok
else bad "big pickle: $big_size bytes for $BIG_ROWS rows (want at least $((BIG_ROWS * 30)))"; fi
M=$WORK/m_race
if mount_fs "$M" "$WORK/big/big.pkl"; then
	hits=0 kept=0
	for r in $(seq "$RACE_ROUNDS"); do
		mode=replace
		[ $((r % 2)) -eq 0 ] && mode=inplace
		"$PYTHON" "$OPS" race "$WORK/big/big.pkl" "$r" "$mode" >"$WORK/race.out" 2>&1 &
		rpid=$!
		PIDS+=("$rpid")
		res=$(ops write "$M/edit" "$r")
		wait "$rpid"
		[ "$(cat "$WORK/race.out")" = hit ] && hits=$((hits + 1))
		got=$(ops marker "$WORK/big/big.pkl")
		want=$(printf 'outs-%03d' "$r")
		case "$got" in "$want "*) kept=$((kept + 1)) ;; esac
		# README "Someone else's change always wins": the edit is not
		# written over the change; it is made again on the new content
		# (close 0, on disk: the outside marker and edit = r) or fails
		# with EAGAIN (the outside version as it was, edit != r)
		case "$res/$got" in
		"open=0 write=0 close=0/$want $r") ok ;;
		"open=0 write=0 close=EAGAIN/$want "*)
			if [ "${got#"$want "}" != "$r" ]; then ok
			else bad "outside race round $r ($mode): close EAGAIN but the edit is on disk: $got"; fi ;;
		*) bad "outside race round $r ($mode): close: $res; on disk: $got (want close 0 with '$want $r', or EAGAIN)" ;;
		esac
	done
	is "outside race: the outside change hit the encoding ($RACE_ROUNDS rounds)" "$hits" "$RACE_ROUNDS"
	is "outside race: the outside version always survives" "$kept" "$RACE_ROUNDS"
	is "outside race: no temporary file" "$(temps_in "$WORK/big")" 0
	umount_fs "$M"
fi

# c. the source removed: an edit fails and creates nothing
mkdir -p "$WORK/rm"
mkal "$WORK/rm/al.pkl"
M=$WORK/m_rm
if mount_fs "$M" "$WORK/rm/al.pkl"; then
	is "rm file SOURCE: the edit fails with ENOENT" "$(ops writerm "$M/Jose" 9 "$WORK/rm/al.pkl")" "open=0 write=0 close=ENOENT"
	check "rm file SOURCE: not created again" test ! -e "$WORK/rm/al.pkl"
	is "rm file SOURCE: nothing left in the folder" "$(ls -A "$WORK/rm" | wc -l)" 0
	umount_fs "$M"
fi
mkdir -p "$WORK/rmd"
mkal "$WORK/rmd/al.pkl"
M=$WORK/m_rmd
if mount_fs "$M" "$WORK/rmd"; then
	is "rm in folder SOURCE: the edit fails with ENOENT" "$(ops writerm "$M/al.pkl/Jose" 9 "$WORK/rmd/al.pkl")" "open=0 write=0 close=ENOENT"
	check "rm in folder SOURCE: not created again" test ! -e "$WORK/rmd/al.pkl"
	umount_fs "$M"
fi
mkdir -p "$WORK/rmw"
mkal "$WORK/rmw/al.pkl"
M=$WORK/m_rmw
if mount_fs "$M" -o writeback=30 "$WORK/rmw/al.pkl"; then
	echo 9 >"$M/Jose"
	is "rm with -o writeback: fsync fails with ESTALE" "$(ops fsyncrm "$M/Jose" "$WORK/rmw/al.pkl")" "open=0 fsync=ESTALE close=0"
	check "rm with -o writeback: logged" grep -q "al.pkl: removed on disk; 1 pending edits not written" "$MLOG"
	umount_rc "$M"
	check "rm with -o writeback: not created again" test ! -e "$WORK/rmw/al.pkl"
fi

# d. owner, group and mode are kept
mkdir -p "$WORK/own"
mkal "$WORK/own/al.pkl"
chown 1234:2345 "$WORK/own/al.pkl"
chmod 0640 "$WORK/own/al.pkl"
M=$WORK/m_own
if mount_fs "$M" "$WORK/own/al.pkl"; then
	echo 9 >"$M/Jose"
	check "owner: edit written" loads_to "$WORK/own/al.pkl" "$(AL 9 8 10)"
	is "owner: uid, gid and mode kept" "$(stat -c '%u:%g %a' "$WORK/own/al.pkl")" "1234:2345 640"
	umount_fs "$M"
fi

# e. a symlink SOURCE: the file it points to is edited, the link stays
mkdir -p "$WORK/ln"
mkal "$WORK/ln/al.pkl"
ln -s al.pkl "$WORK/ln/link.pkl"
M=$WORK/m_ln
if mount_fs "$M" "$WORK/ln/link.pkl"; then
	is "symlink SOURCE: edit" "$(ops write "$M/Jose" 9)" "open=0 write=0 close=0"
	check "symlink SOURCE: the file it points to is edited" loads_to "$WORK/ln/al.pkl" "$(AL 9 8 10)"
	check "symlink SOURCE: the link stays a link" test -L "$WORK/ln/link.pkl"
	umount_fs "$M"
fi

# =============================================================================
# 5. a Python 2 str is written back in the encoding it was read in
# =============================================================================
mkdir -p "$WORK/py2"
"$PYTHON" - "$WORK/py2" <<'EOF'
import sys
d = sys.argv[1]
# protocol 0: STRING; protocol 2: SHORT_BINSTRING and BINSTRING
open(d + '/p0.pkl', 'wb').write(
    b"(dp0\nS'name'\np1\nS'Jos\\xe9'\np2\nsS'city'\np3\nS'M\\xc3\\xa1laga'\np4\ns.")
open(d + '/p2.pkl', 'wb').write(
    b'\x80\x02}q\x00(U\x04nameq\x01U\x04Jos\xe9q\x02U\x04cityq\x03'
    b'T\x07\x00\x00\x00M\xc3\xa1lagaq\x04u.')
EOF
M=$WORK/m_py2
if mount_fs "$M" "$WORK/py2"; then
	for p in p0 p2; do
		is "latin1 $p: shown as latin-1" "$(cat "$M/$p.pkl/name")" "José"
		is "latin1 $p: echo María" "$(ops write "$M/$p.pkl/name" "María")" "open=0 write=0 close=0"
		is "latin1 $p: loads as 'María' with encoding=latin1" "$(ops load "$WORK/py2/$p.pkl" latin1)" "{'name': 'María', 'city': 'MÃ¡laga'}"
		is "latin1 $p: the bytes are latin-1" "$(ops load "$WORK/py2/$p.pkl" bytes)" "{b'name': b'Mar\\xeda', b'city': b'M\\xc3\\xa1laga'}"
		is "latin1 $p: a UTF-8 str stays UTF-8" "$(ops write "$M/$p.pkl/city" "Córdoba")" "open=0 write=0 close=0"
		is "latin1 $p: ... its bytes" "$(ops load "$WORK/py2/$p.pkl" bytes)" "{b'name': b'Mar\\xeda', b'city': b'C\\xc3\\xb3rdoba'}"
		cp "$WORK/py2/$p.pkl" "$WORK/py2.before"
		is "latin1 $p: a code point above 255 is EINVAL" "$(ops write "$M/$p.pkl/name" "€uro")" "open=0 write=0 close=EINVAL"
		check "latin1 $p: ... and nothing changed" cmp "$WORK/py2/$p.pkl" "$WORK/py2.before"
		is "latin1 $p: cat after the refusal" "$(cat "$M/$p.pkl/name")" "María"
	done
	umount_fs "$M"
fi

# =============================================================================
# 6. leftover temporary files
# =============================================================================
TF=$WORK/tf
mkdir -p "$TF/sub"
mkal "$TF/al.pkl"
mkal "$TF/sub/b.pkl"
for f in .al.pkl.pkfs-Ab12Cd sub/.b.pkl.pkfs-Zz99Yy .al.pkl.pkfs-Ab12C .al.pkl.pkfs-Ab12C_ .pkfs-Ab12Cd .al.pkl.pkfs-Fresh1 sub/.b.pkl.pkfs-Fresh2; do
	head -c 1000 /dev/urandom >"$TF/$f"
done
touch -d '2020-01-01 12:00:00' "$TF/.al.pkl.pkfs-Ab12Cd" "$TF/sub/.b.pkl.pkfs-Zz99Yy" "$TF/.al.pkl.pkfs-Ab12C" "$TF/.al.pkl.pkfs-Ab12C_" "$TF/.pkfs-Ab12Cd"
touch -d '+1 hour' "$TF/.al.pkl.pkfs-Fresh1" "$TF/sub/.b.pkl.pkfs-Fresh2"
M=$WORK/m_ro_tf
if mount_fs "$M" -o ro "$TF"; then
	check "temp ro: hidden" sh -c "! ls -A '$M' | grep -qx '.al.pkl.pkfs-Ab12Cd'"
	check "temp ro: a read-only mount removes nothing" test -e "$TF/.al.pkl.pkfs-Ab12Cd"
	umount_fs "$M"
fi
M=$WORK/m_tf
if mount_fs "$M" "$TF"; then
	check "temp: a stale one removed at mount start" test ! -e "$TF/.al.pkl.pkfs-Ab12Cd"
	check "temp: one younger than the mount is kept" test -e "$TF/.al.pkl.pkfs-Fresh1"
	is "temp: the listing shows none of them" "$(ls -A "$M" | grep -c '^\.[^.].*\.pkfs-[A-Za-z0-9]\{6\}$')" 0
	is "temp: names that do not match are shown" "$(ls -A "$M" | grep -c 'pkfs')" 3
	check "temp: lookup does not find one" test ! -e "$M/.al.pkl.pkfs-Fresh1"
	check "temp: in a subfolder, still there before its first listing" test -e "$TF/sub/.b.pkl.pkfs-Zz99Yy"
	is "temp: subfolder listing" "$(ls -A "$M/sub" | tr '\n' ' ')" "b.pkl "
	check "temp: in a subfolder, removed at its first listing" test ! -e "$TF/sub/.b.pkl.pkfs-Zz99Yy"
	check "temp: non-matching names kept" test -e "$TF/.al.pkl.pkfs-Ab12C" -a -e "$TF/.al.pkl.pkfs-Ab12C_" -a -e "$TF/.pkfs-Ab12Cd"
	is "temp: each removal logged" "$(grep -c 'removed a temporary file' "$MLOG")" 2
	umount_fs "$M"
fi
# a real crash: kill -9 during the write-back of the big pickle
if [ -f "$WORK/big/big.pkl" ]; then
	left=0
	for r in 1 2; do
		M=$WORK/m_crash$r
		if mount_fs "$M" "$WORK/big/big.pkl"; then
			ops write "$M/edit" "$((100 + r))" >/dev/null &
			wpid=$!
			waitfor 60 sh -c "ls -A '$WORK/big' | grep -q '^\.big\.pkl\.pkfs-'"
			kill -9 "$MPID"
			wait "$MPID" 2>/dev/null
			wait "$wpid" 2>/dev/null
			fusermount3 -u "$M" 2>/dev/null || fusermount3 -u -z "$M" 2>/dev/null
			left=$(temps_in "$WORK/big")
		fi
	done
	check "crash: kill -9 during write-back left temporary files (precondition; $left after 2 kills)" test "$left" -ge 1
	M=$WORK/m_crash_after
	if mount_fs "$M" "$WORK/big/big.pkl"; then
		is "crash: the next mount removed them" "$(temps_in "$WORK/big")" 0
		check "crash: the pickle is intact" sh -c "'$PYTHON' '$OPS' marker '$WORK/big/big.pkl' | grep -q '^outs-'"
		umount_fs "$M"
	fi
fi

echo "trust: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
