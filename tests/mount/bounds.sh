#!/usr/bin/env bash
# Resource bounds (README, "Limits"): decompression bombs and the
# messages of compressed pickles. Real mounts of the ASan picklefs and the
# ASan pickletool; the bombs are real (a 330-byte bzip2 file of a 256 MiB
# pickle, a 65 KB gzip file of a 64 MiB one) and the bounds small.
#
#   BUILD=build PYTHON=/usr/bin/python3 bash tests/mount/bounds.sh
#
#   lookup        ls -la of a folder with bombs is quick and decompresses
#                 at most 1 MiB of each (the daemon's bytes written,
#                 /proc/PID/io wchar); small compressed pickles are
#                 parsed as before
#   max_expand    -o max_expand=8M: opening a bomb fails with EFBIG at
#                 once, the log says "NAME: byte N of the compressed
#                 input: expands past the limit of 8 MiB (-o
#                 max_expand=SIZE)" with N inside the file; a second try
#                 does not decompress again; the mount stays up
#   cache folder  a 16 MiB tmpfs as the cache folder ($TMPDIR, then -o
#                 cache_dir): the bomb stops at its free space less the
#                 margin, said so; nothing is left in it; the old code
#                 filled it ("write failed")
#   messages      bzip2 with trailing junk is read (as Python reads it,
#                 logged); gzip with trailing junk is refused as Python
#                 refuses it (byte N of the compressed input); a pickle
#                 cut short inside a good gzip stream: byte N of the
#                 decompressed data; a bomb as the file SOURCE: exit 1
#                 with the message; bad -o max_expand / cache_dir: exit 2
#   pickletool    on a bomb: exit 1, the message, max RSS under 100 MB
#                 (/usr/bin/time), with --max-expand and with the
#                 folder's room as the bound
#   max_tree      20 MB of EMPTY_LIST (1 GB of nodes): pickletool
#                 --max-tree 64M and -o max_tree=64M refuse it with the
#                 offset and the bound, memory stays bounded, a normal
#                 pickle beside it is unaffected
#
# Ends with "bounds: N passed, N failed"; exit 1 when something failed.
set -u

SUITE=bounds
. "$(dirname "$0")/lib.sh"

TOOL=${PICKLETOOL:-$REPO/$BUILD/asan/pickletool}
case "$BUILD" in /*) TOOL=${PICKLETOOL:-$BUILD/asan/pickletool} ;; esac

if [ ! -x "$BIN" ] || [ ! -x "$TOOL" ]; then
	echo "FAIL no $BIN or $TOOL"
	echo "bounds: 0 passed, 1 failed"
	exit 1
fi

S=$WORK/src
M=$WORK/m
CACHE=$WORK/cache # a small tmpfs, when we may mount one
mkdir -p "$S" "$CACHE" "$WORK/single"
TMPFS=0
if mount -t tmpfs -o size=16m picklefs-bounds "$CACHE" 2>/dev/null; then
	TMPFS=1
	trap 'umount "$CACHE" 2>/dev/null; cleanup' EXIT INT TERM
else
	echo "SKIP bounds: cannot mount a tmpfs (not root?): the cache-folder checks are left out"
fi

"$PYTHON" - "$S" "$WORK/single" <<'EOF'
import bz2, gzip, pickle, struct, sys, zlib
src, single = sys.argv[1], sys.argv[2]

def bomb(path, n, fmt):
    # a protocol 4 pickle of n zero bytes (BINBYTES8), streamed into
    # the compressor: never n bytes in memory
    c = bz2.BZ2Compressor(9) if fmt == 'bz2' else zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [c.compress(b'\x80\x04\x8e' + struct.pack('<Q', n))]
    chunk = bytes(1 << 20)
    for _ in range(n >> 20):
        out.append(c.compress(chunk))
    out.append(c.compress(b'.'))
    out.append(c.flush())
    open(path, 'wb').write(b''.join(out))

bomb(src + '/bomb.pkl.bz2', 256 << 20, 'bz2')
bomb(src + '/bomb.pkl.gz', 64 << 20, 'gz')
pickle.dump({'a': 1, 'b': [1, 2]}, open(src + '/good.pkl', 'wb'))
open(src + '/good.pkl.gz', 'wb').write(gzip.compress(pickle.dumps({'x': 'y'}, protocol=4)))
good = bz2.compress(pickle.dumps({'j': 5}, protocol=4))
open(src + '/junk.pkl.bz2', 'wb').write(good + b'junk')
open(src + '/junk.pkl.gz', 'wb').write(gzip.compress(pickle.dumps({'j': 5}, protocol=4)) + b'junk')
open(src + '/cut.pkl.gz', 'wb').write(gzip.compress(pickle.dumps({'k': list(range(50))}, protocol=4)[:40]))
EOF
cp "$S/bomb.pkl.bz2" "$WORK/single/"

wchar() { sed -n 's/^wchar: //p' "/proc/$1/io"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
size_of() { stat -c %s "$1"; }
# in_log PATTERN: the daemon's log has a line matching the extended regex
in_log() { grep -qE "$1" "$MLOG"; }
# offset_in LINE_REGEX FILE: the N of "byte N" of the log line is inside FILE
offset_in() {
	local n
	n=$(grep -E "$1" "$MLOG" | head -n 1 | sed -nE 's/.*: byte ([0-9]+) of the compressed input.*/\1/p')
	[ -n "$n" ] && [ "$n" -le "$(size_of "$2")" ]
}
bz=$(size_of "$S/bomb.pkl.bz2")
gz=$(size_of "$S/bomb.pkl.gz")
check "the bzip2 bomb is small ($bz bytes)" test "$bz" -lt 2000
check "the gzip bomb is small ($gz bytes)" test "$gz" -lt 100000

# ---- lookup and -o max_expand ----------------------------------------------
CD=$WORK/cachedir
mkdir -p "$CD"
if mount_fs "$M" -o max_expand=8M -o cache_dir="$CD" "$S"; then
	w0=$(wchar "$MPID")
	t0=$(now_ms)
	ls -la "$M" >"$WORK/ls.out" 2>&1
	t1=$(now_ms)
	w1=$(wchar "$MPID")
	check "ls -la of the folder lists the bombs" grep -q "bomb.pkl.bz2" "$WORK/ls.out"
	check "ls -la says nothing about the bombs" sh -c "! grep -q 'too large\|Input/output' '$WORK/ls.out'"
	check "ls -la is quick ($((t1 - t0)) ms)" test $((t1 - t0)) -lt 3000
	check "ls -la decompresses at most 1 MiB of each bomb (daemon wrote $((w1 - w0)) bytes)" test $((w1 - w0)) -lt $((3 << 20))
	is "a bomb is a directory until opened" "$(stat -c %F "$M/bomb.pkl.bz2")" directory
	is "a small gzip pickle is parsed" "$(cat "$M/good.pkl.gz/x")" y
	for b in bomb.pkl.bz2 bomb.pkl.gz; do
		w0=$(wchar "$MPID")
		t0=$(now_ms)
		ls "$M/$b/" >"$WORK/out.$b" 2>&1
		rc=$?
		t1=$(now_ms)
		w1=$(wchar "$MPID")
		check "$b: opening it fails" test "$rc" -ne 0
		check "$b: with EFBIG (File too large)" grep -q "File too large" "$WORK/out.$b"
		check "$b: refused in $((t1 - t0)) ms" test $((t1 - t0)) -lt 10000
		check "$b: no more than the bound written ($((w1 - w0)) bytes)" test $((w1 - w0)) -le $(((8 << 20) + (1 << 20)))
		bre=${b//./\\.}
		check "$b: the log names the file, the offset and the limit" in_log "^picklefs: $bre: byte [0-9]+ of the compressed input: expands past the limit of 8 MiB \(-o max_expand=SIZE\)\$"
		check "$b: the offset is inside the compressed file" offset_in "^picklefs: $bre: byte" "$S/$b"
		w0=$(wchar "$MPID")
		check "$b: a second try fails the same" sh -c "ls '$M/$b/' 2>&1 | grep -q 'File too large'"
		w1=$(wchar "$MPID")
		check "$b: without decompressing again ($((w1 - w0)) bytes)" test $((w1 - w0)) -lt 65536
	done
	check "the cache folder holds nothing" test -z "$(ls -A "$CD")"
	check "the mount stays up" mountpoint -q "$M"
	is "the other pickles still read" "$(cat "$M/good.pkl/a")" 1
	# what Python's bz2 reads, we read; the log says what was skipped
	is "bzip2 + trailing junk reads as Python reads it" "$(cat "$M/junk.pkl.bz2/j")" \
		"$("$PYTHON" -c "import bz2,pickle,sys; print(pickle.loads(bz2.decompress(open(sys.argv[1],'rb').read()))['j'])" "$S/junk.pkl.bz2")"
	check "and the log says the junk was ignored" in_log "^picklefs: junk\.pkl\.bz2: byte $(($(size_of "$S/junk.pkl.bz2") - 4)) of the compressed input: 4 bytes after the last bzip2 stream ignored"
	# gzip + junk: Python refuses it, so do we (shown as its raw file)
	check "python refuses gzip + trailing junk" sh -c "! '$PYTHON' -c 'import gzip,sys; gzip.decompress(open(sys.argv[1],\"rb\").read())' '$S/junk.pkl.gz' 2>/dev/null"
	is "gzip + trailing junk is its raw file" "$(stat -c %F "$M/junk.pkl.gz")" "regular file"
	check "the log says where, in the compressed input" in_log "^picklefs: junk\.pkl\.gz: byte $(($(size_of "$S/junk.pkl.gz") - 4)) of the compressed input: trailing garbage after gzip member \(shown as a plain file\)\$"
	stat "$M/cut.pkl.gz" >/dev/null 2>&1
	check "a pickle cut inside good gzip: byte N of the decompressed data" in_log "^picklefs: cut\.pkl\.gz: byte [0-9]+ of the decompressed data: "
	check "getfattr of a small gzip pickle" sh -c "getfattr -n user.pickle.compression --only-values '$M/good.pkl.gz' | grep -qx gzip"
	umount_fs "$M"
fi

# ---- the cache folder's room -------------------------------------------------
if [ "$TMPFS" = 1 ]; then
	# $TMPDIR names the cache folder when -o cache_dir does not
	M=$WORK/m2
	if TMPDIR=$CACHE mount_fs "$M" "$S"; then
		w0=$(wchar "$MPID")
		t0=$(now_ms)
		ls -la "$M" >/dev/null 2>&1
		t1=$(now_ms)
		w1=$(wchar "$MPID")
		check "tmpfs cache: ls -la decompresses at most 1 MiB of each bomb ($((w1 - w0)) bytes)" test $((w1 - w0)) -lt $((3 << 20))
		check "tmpfs cache: ls -la is quick ($((t1 - t0)) ms)" test $((t1 - t0)) -lt 3000
		check "tmpfs cache: ls -la leaves no message" sh -c "! grep -q 'write failed\|expands past' '$MLOG'"
		w0=$(wchar "$MPID")
		ls "$M/bomb.pkl.bz2/" >"$WORK/out.tmpfs" 2>&1
		w1=$(wchar "$MPID")
		check "tmpfs cache: opening the bomb fails with EFBIG" grep -q "File too large" "$WORK/out.tmpfs"
		check "tmpfs cache: it wrote less than the folder holds ($((w1 - w0)) bytes)" test $((w1 - w0)) -lt $((16 << 20))
		check "tmpfs cache: the log gives the folder's room as the limit" in_log "^picklefs: bomb\.pkl\.bz2: byte [0-9]+ of the compressed input: expands past the limit of [0-9]+ (bytes|KiB|MiB) \(the free space of the cache folder ${CACHE//./\\.}, [0-9]+ (bytes|KiB|MiB), less a margin of 1 MiB; -o cache_dir=DIR picks another folder\)\$"
		check "tmpfs cache: no write failed" sh -c "! grep -q 'write failed' '$MLOG'"
		# the small pickles' cache files stay (they are read from them)
		used=$(df --output=used "$CACHE" | tail -n 1 | tr -d ' ')
		check "tmpfs cache: nothing of the bomb left in it (df used: $used KB)" test "$used" -lt 1024
		is "tmpfs cache: a small gzip pickle reads" "$(cat "$M/good.pkl.gz/x")" y
		check "tmpfs cache: the mount stays up" mountpoint -q "$M"
		umount_fs "$M"
	fi
	# pickletool: the room of $TMPDIR bounds it too, and its memory stays
	# small (the old code decompressed into memory)
	/usr/bin/time -f "%M" -o "$WORK/rss" env TMPDIR="$CACHE" "$TOOL" dis "$S/bomb.pkl.bz2" >/dev/null 2>"$WORK/tool.err"
	rc=$?
	rss=$(tail -n 1 "$WORK/rss")
	check "pickletool on a bomb, the room of \$TMPDIR the bound: exit 1 (got $rc)" test "$rc" -eq 1
	check "pickletool: max RSS ${rss} KB under 100 MB" test "${rss:-999999}" -lt 102400
	check "pickletool: the message gives the folder's room" grep -qE "^$S/bomb\.pkl\.bz2: byte [0-9]+ of the compressed input: expands past the limit of [0-9]+ (bytes|KiB|MiB) \(the free space of the cache folder ${CACHE//./\\.}, .*; the TMPDIR variable picks another folder\)\$" "$WORK/tool.err"
	is "pickletool: nothing left in \$TMPDIR (df used, KB)" "$(df --output=used "$CACHE" | tail -n 1 | tr -d ' ')" 0
fi

# ---- pickletool --max-expand ---------------------------------------------------
/usr/bin/time -f "%M" -o "$WORK/rss" "$TOOL" --max-expand 8M dis "$S/bomb.pkl.bz2" >/dev/null 2>"$WORK/tool.err"
rc=$?
rss=$(tail -n 1 "$WORK/rss")
check "pickletool --max-expand 8M on a bomb: exit 1 (got $rc)" test "$rc" -eq 1
check "pickletool --max-expand: max RSS ${rss} KB under 100 MB" test "${rss:-999999}" -lt 102400
check "pickletool --max-expand: the message" grep -qE "^$S/bomb\.pkl\.bz2: byte [0-9]+ of the compressed input: expands past the limit of 8 MiB \(--max-expand SIZE\)\$" "$WORK/tool.err"
printf 'dis\t%s\t%s\n' "$S/bomb.pkl.gz" "$WORK/dis.out" | "$TOOL" --max-expand 8M batch >"$WORK/batch.out" 2>&1
check "pickletool batch --max-expand: status 1 and the message" grep -qE "^1	$S/bomb\.pkl\.gz: byte [0-9]+ of the compressed input: expands past the limit of 8 MiB" "$WORK/batch.out"
check "pickletool reads bzip2 + trailing junk" "$TOOL" dis "$S/junk.pkl.bz2"
"$TOOL" dis "$S/cut.pkl.gz" >/dev/null 2>"$WORK/tool.err"
check "pickletool: a pickle cut inside good gzip: byte N of the decompressed data" grep -qE "^$S/cut\.pkl\.gz: byte [0-9]+ of the decompressed data: " "$WORK/tool.err"
"$TOOL" dis "$S/junk.pkl.gz" >/dev/null 2>"$WORK/tool.err"
check "pickletool: gzip + junk: byte N of the compressed input" grep -qE "^$S/junk\.pkl\.gz: byte $(($(size_of "$S/junk.pkl.gz") - 4)) of the compressed input: trailing garbage after gzip member\$" "$WORK/tool.err"
check "pickletool --max-expand 0 is a usage error" sh -c "'$TOOL' --max-expand 0 dis '$S/good.pkl' 2>/dev/null; test \$? -eq 2"

# ---- a bomb as the file SOURCE; bad options ----------------------------------
mkdir -p "$M"
"$BIN" -f -o max_expand=8M "$WORK/single/bomb.pkl.bz2" "$M" 2>"$WORK/single.err"
rc=$?
check "a bomb as SOURCE: exit 1 (got $rc)" test "$rc" -eq 1
check "a bomb as SOURCE: the message" grep -qE "^$WORK/single/bomb\.pkl\.bz2: byte [0-9]+ of the compressed input: expands past the limit of 8 MiB \(-o max_expand=SIZE\)\$" "$WORK/single.err"
check "not mounted" sh -c "! mountpoint -q '$M'"
"$BIN" -f -o max_expand=lots "$S" "$M" 2>"$WORK/opt.err"
rc=$?
check "-o max_expand=lots: exit 2 (got $rc)" test "$rc" -eq 2
check "-o max_expand=lots: says why" grep -q "bad max_expand 'lots'" "$WORK/opt.err"
"$BIN" -f -o cache_dir="$WORK/nowhere" "$S" "$M" 2>"$WORK/opt.err"
rc=$?
check "-o cache_dir=missing: exit 2 (got $rc)" test "$rc" -eq 2
check "-o cache_dir=missing: says why" grep -q "bad cache_dir" "$WORK/opt.err"

# ---- the tree a pickle builds: -o max_tree / --max-tree ----------------------
# 20 MB of EMPTY_LIST opcodes ask for about 1 GB of nodes (an opcode is
# one byte, its node 40, its stack slot 8): a hostile pickle that is
# small on disk and large in memory. Past the bound the parse stops,
# with the offset where it was.
T=$WORK/tree
mkdir -p "$T"
"$PYTHON" -c 'import sys; open(sys.argv[1], "wb").write(b"\x80\x04" + b"]" * 20000000 + b".")' "$T/amp.pkl"
"$PYTHON" -c 'import pickle,sys; pickle.dump([[i] for i in range(1000)], open(sys.argv[1], "wb"), protocol=4)' "$T/fine.pkl"
/usr/bin/time -f "%M" -o "$WORK/rss" "$TOOL" --max-tree 64M roundtrip "$T/amp.pkl" "$WORK/amp.out" 2>"$WORK/tool.err"
rc=$?
rss=$(tail -n 1 "$WORK/rss")
check "pickletool --max-tree 64M on 20 MB of EMPTY_LIST: exit 1 (got $rc)" test "$rc" -eq 1
check "pickletool --max-tree: max RSS ${rss} KB under 300 MB" test "${rss:-999999}" -lt 307200
check "pickletool --max-tree: the message" grep -qE "^$T/amp\.pkl: byte [0-9]+: the decoded tree passes its memory limit of 64 MiB \(--max-tree SIZE\)\$" "$WORK/tool.err"
check "pickletool --max-tree: nothing written" test ! -e "$WORK/amp.out"
check "pickletool --max-tree 64M: a normal pickle still round-trips" "$TOOL" --max-tree 64M roundtrip "$T/fine.pkl" "$WORK/fine.out"
check "pickletool --max-tree 0 is a usage error" sh -c "'$TOOL' --max-tree 0 dis '$T/fine.pkl' 2>/dev/null; test \$? -eq 2"
if mount_fs "$M" -o max_tree=64M "$T"; then
	ls "$M/amp.pkl" >/dev/null 2>"$WORK/ls.err"
	check "-o max_tree=64M: the big tree is refused" grep -q "File too large" "$WORK/ls.err"
	hwm=$(awk '/VmHWM/ {print $2}' "/proc/$MPID/status")
	check "-o max_tree=64M: the daemon's peak RSS ${hwm} KB under 400 MB (ASan)" test "${hwm:-999999}" -lt 409600
	check "-o max_tree: the log names the file, offset and bound" grep -qE "amp\.pkl: byte [0-9]+: the decoded tree passes its memory limit of 64 MiB \(-o max_tree=SIZE\)" "$MLOG"
	is "-o max_tree: the other pickle is whole" "$(ls "$M/fine.pkl" | wc -l)" 1000
	is "-o max_tree: the mount is up" "$(cat "$M/fine.pkl/7/0")" 7
	umount_fs "$M"
fi
"$BIN" -f -o max_tree=lots "$S" "$M" 2>"$WORK/opt.err"
rc=$?
check "-o max_tree=lots: exit 2 (got $rc)" test "$rc" -eq 2

echo "bounds: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
