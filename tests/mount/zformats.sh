#!/usr/bin/env bash
# xz, lzma-alone, zstd and zlib pickles (README, "Which files are
# pickles"): real mounts of the ASan picklefs over files written by
# Python's lzma and zlib modules, python-zstandard, pandas' to_pickle,
# joblib.dump and the zstd CLI.
#
#   BUILD=build PYTHON=/usr/bin/python3 bash tests/mount/zformats.sh
#
#   browse   each is a directory (xz, zstd and zlib by content, whatever
#            the name; lzma-alone when named .lzma), values cat right,
#            user.pickle.compression names the format; junk after an xz
#            stream or a zstd frame is skipped and logged; a file starting
#            with a zlib-like 0x78 header that is not a zlib pickle stays
#            a plain file, its bytes unchanged
#   edit     one value changed in each: the file keeps its format (magic,
#            xz check type, zlib level bits) and CPython loads it with
#            lzma.open / zlib.decompress / joblib.load / zstandard and
#            the zstd CLI, with the new value and the rest unchanged;
#            files not edited stay byte-identical
#   bombs    an xz and a zstd bomb: ls -la of them decompresses at most
#            1 MiB of each (the daemon's wchar); with -o max_expand=8M
#            opening one fails with EFBIG, the log says "NAME: byte N of
#            the compressed input: expands past the limit of 8 MiB (-o
#            max_expand=SIZE)"; pickletool --max-expand 8M exits 1 with
#            the same message
#
# Ends with "zformats: N passed, N failed"; exit 1 when something failed.
set -u

SUITE=zformats
. "$(dirname "$0")/lib.sh"

TOOL=${PICKLETOOL:-$REPO/$BUILD/asan/pickletool}
case "$BUILD" in /*) TOOL=${PICKLETOOL:-$BUILD/asan/pickletool} ;; esac

if [ ! -x "$BIN" ] || [ ! -x "$TOOL" ]; then
	echo "FAIL no $BIN or $TOOL"
	echo "zformats: 0 passed, 1 failed"
	exit 1
fi

S=$WORK/src
B=$WORK/bombs
M=$WORK/m
mkdir -p "$S" "$B" "$WORK/orig" "$WORK/cache"

"$PYTHON" - "$S" "$B" <<'EOF' || bad "making the files failed"
import lzma, os, pickle, struct, subprocess, sys, zlib
import joblib, pandas, zstandard
src, bombs = sys.argv[1], sys.argv[2]
cfg = {'name': 'picklefs', 'n': 7, 'lst': [1, 2, 3], 'x': 0.5}
with lzma.open(src + '/cfg.pkl.xz', 'wb') as f:
    pickle.dump(cfg, f)
with lzma.open(src + '/data', 'wb') as f:          # no name: by content
    pickle.dump({'k': 'by content'}, f)
with open(src + '/cfg.pkl.zst', 'wb') as f:
    with zstandard.ZstdCompressor().stream_writer(f) as z:
        z.write(pickle.dumps(cfg, 4))
open(src + '/raw.pkl', 'wb').write(pickle.dumps({'cli': 'zstd', 'v': 1}, 4))
subprocess.run(['zstd', '-q', '--rm', src + '/raw.pkl', '-o', src + '/cli.zst'], check=True)
joblib.dump({'alpha': 0.5, 'n_iter': 3}, src + '/model.z')
with lzma.open(src + '/old.lzma', 'wb', format=lzma.FORMAT_ALONE) as f:
    pickle.dump(cfg, f, protocol=2)
open(src + '/compress.z', 'wb').write(zlib.compress(pickle.dumps(cfg, 0)))
df = pandas.DataFrame({'a': [1, 2, 3], 'b': ['x', 'y', 'z']})
df.to_pickle(src + '/frame.pkl.xz', compression='xz')
df.to_pickle(src + '/frame.pkl.zst', compression='zstd')
open(src + '/formula.txt', 'wb').write(b'x^2 + 1 = 0\n')
open(src + '/junk.pkl.xz', 'wb').write(lzma.compress(pickle.dumps({'j': 5}, 4)) + b'junk')
open(src + '/junk.pkl.zst', 'wb').write(zstandard.ZstdCompressor().compress(pickle.dumps({'j': 6}, 4)) + b'junk')
r = bytes((i * 7919 + 13) % 251 for i in range(4096))
open(src + '/random.bin', 'wb').write(b'\x78\x9c' + r)

def bomb(path, n, comp):
    # a protocol 4 pickle of n zero bytes, streamed into the compressor
    out = [comp.compress(b'\x80\x04\x8e' + struct.pack('<Q', n))]
    chunk = bytes(1 << 20)
    for _ in range(n >> 20):
        out.append(comp.compress(chunk))
    out.append(comp.compress(b'.'))
    out.append(comp.flush())
    open(path, 'wb').write(b''.join(out))

bomb(bombs + '/bomb.pkl.xz', 64 << 20, lzma.LZMACompressor(preset=1))
bomb(bombs + '/bomb.pkl.zst', 64 << 20, zstandard.ZstdCompressor().compressobj())
EOF
cp -p "$S"/* "$WORK/orig/"

in_log() { grep -qE "$1" "$MLOG"; }
magic() { head -c "$2" "$1" | od -An -tx1 | tr -d ' \n'; }
pyload() { # pyload FILE EXPR: prints repr(EXPR), p the file's path
	"$PYTHON" -c "import io, lzma, pickle, sys, zlib, joblib, zstandard
p = sys.argv[1]
print(repr($2))" "$1" 2>&1
}

# ---- browse and edit -------------------------------------------------------
if mount_fs "$M" "$S"; then
	for f in cfg.pkl.xz data cfg.pkl.zst cli.zst model.z old.lzma compress.z frame.pkl.xz frame.pkl.zst; do
		is "$f is a directory" "$(stat -c %F "$M/$f" 2>&1)" directory
	done
	is "xz: cat" "$(cat "$M/cfg.pkl.xz/name")" picklefs
	is "xz: list" "$(cat "$M/cfg.pkl.xz/lst/2")" 3
	is "xz by content (no name)" "$(cat "$M/data/k")" "by content"
	is "zstd (pandas-style writer): cat" "$(cat "$M/cfg.pkl.zst/n")" 7
	is "zstd CLI, named .zst only: cat" "$(cat "$M/cli.zst/cli")" zstd
	is "joblib .z: cat" "$(cat "$M/model.z/alpha")" 0.5
	is "lzma-alone: cat" "$(cat "$M/old.lzma/name")" picklefs
	is "zlib protocol 0: cat" "$(cat "$M/compress.z/x")" 0.5
	is "pandas xz: a DataFrame" "$(cat "$M/frame.pkl.xz/__raw__/__class__" 2>&1)" pandas.core.frame.DataFrame
	is "pandas zstd: a DataFrame" "$(cat "$M/frame.pkl.zst/__raw__/__class__" 2>&1)" pandas.core.frame.DataFrame
	for f in cfg.pkl.xz:xz cfg.pkl.zst:zstd model.z:zlib old.lzma:lzma; do
		is "${f%%:*}: user.pickle.compression" "$(getfattr --absolute-names --only-values -n user.pickle.compression "$M/${f%%:*}" 2>&1)" "${f##*:}"
	done
	is "xz + junk: read" "$(cat "$M/junk.pkl.xz/j")" 5
	is "zstd + junk: read" "$(cat "$M/junk.pkl.zst/j")" 6
	check "xz + junk: the skipped bytes are logged" in_log "junk\.pkl\.xz: byte [0-9]+ of the compressed input: 4 bytes after the last xz / lzma stream ignored"
	check "zstd + junk: the skipped bytes are logged" in_log "junk\.pkl\.zst: byte [0-9]+ of the compressed input: 4 bytes after the last zstd frame ignored"
	is "0x78 text is a plain file" "$(stat -c %F "$M/formula.txt")" "regular file"
	check "0x78 text: its bytes" cmp -s "$M/formula.txt" "$S/formula.txt"
	is "0x78 random bytes are a plain file" "$(stat -c %F "$M/random.bin")" "regular file"
	check "0x78 random bytes: its bytes" cmp -s "$M/random.bin" "$S/random.bin"

	echo 8 >"$M/cfg.pkl.xz/n"
	echo zst >"$M/cfg.pkl.zst/name"
	echo 2 >"$M/cli.zst/v"
	echo 0.25 >"$M/model.z/alpha"
	echo lzma >"$M/old.lzma/name"
	echo 9 >"$M/compress.z/n"
	is "xz edit: read back" "$(cat "$M/cfg.pkl.xz/n")" 8

	is "xz edit: still xz" "$(magic "$S/cfg.pkl.xz" 6)" fd377a585a00
	is "xz edit: check type CRC64 kept" "$(head -c 8 "$S/cfg.pkl.xz" | tail -c 1 | od -An -tx1 | tr -d ' ')" 04
	is "xz edit: lzma.open loads it" "$(pyload "$S/cfg.pkl.xz" "pickle.load(lzma.open(p))")" "{'name': 'picklefs', 'n': 8, 'lst': [1, 2, 3], 'x': 0.5}"
	is "zstd edit: still zstd" "$(magic "$S/cfg.pkl.zst" 4)" 28b52ffd
	is "zstd edit: zstandard loads it" "$(pyload "$S/cfg.pkl.zst" "pickle.load(zstandard.ZstdDecompressor().stream_reader(open(p, 'rb')))")" "{'name': 'zst', 'n': 7, 'lst': [1, 2, 3], 'x': 0.5}"
	is "zstd edit: the zstd CLI reads it" "$(zstd -dc "$S/cfg.pkl.zst" | "$PYTHON" -c 'import pickle,sys; print(pickle.load(sys.stdin.buffer)["name"])')" zst
	is "zstd CLI file edit: loads" "$(zstd -dc "$S/cli.zst" | "$PYTHON" -c 'import pickle,sys; print(pickle.load(sys.stdin.buffer))')" "{'cli': 'zstd', 'v': 2}"
	check "zstd CLI file edit: checksum kept (zstd -t)" zstd -tq "$S/cli.zst"
	is "joblib .z edit: zlib header of level 3 kept" "$(magic "$S/model.z" 2)" 785e
	is "joblib .z edit: joblib.load loads it" "$(pyload "$S/model.z" "joblib.load(p)")" "{'alpha': 0.25, 'n_iter': 3}"
	is "lzma edit: lzma.open FORMAT_ALONE loads it" "$(pyload "$S/old.lzma" "pickle.load(lzma.open(p, format=lzma.FORMAT_ALONE))")" "{'name': 'lzma', 'n': 7, 'lst': [1, 2, 3], 'x': 0.5}"
	is "lzma edit: protocol 2 kept" "$(pyload "$S/old.lzma" "lzma.open(p, format=lzma.FORMAT_ALONE).read()[:2]")" "b'\\x80\\x02'"
	is "zlib edit: zlib.decompress loads it, protocol 0 kept" "$(pyload "$S/compress.z" "(pickle.loads(zlib.decompress(open(p, 'rb').read()))['n'], zlib.decompress(open(p, 'rb').read())[:1])")" "(9, b'(')"
	for f in data frame.pkl.xz frame.pkl.zst formula.txt random.bin; do
		check "$f not edited: byte-identical" cmp -s "$S/$f" "$WORK/orig/$f"
	done
	is "pandas xz: read_pickle still reads it" "$(pyload "$S/frame.pkl.xz" "__import__('pandas').read_pickle(p)['b'].tolist()")" "['x', 'y', 'z']"
	umount_fs "$M"
fi

# ---- bombs -------------------------------------------------------------------
xz=$(stat -c %s "$B/bomb.pkl.xz")
zs=$(stat -c %s "$B/bomb.pkl.zst")
check "the xz bomb is small ($xz bytes)" test "$xz" -lt 20000
check "the zstd bomb is small ($zs bytes)" test "$zs" -lt 20000
wchar() { sed -n 's/^wchar: //p' "/proc/$1/io"; }
if mount_fs "$M" -o max_expand=8M -o cache_dir="$WORK/cache" "$B"; then
	w0=$(wchar "$MPID")
	ls -la "$M" >"$WORK/ls.out" 2>&1
	w1=$(wchar "$MPID")
	check "ls -la of the bombs decompresses at most 1 MiB of each (daemon wrote $((w1 - w0)) bytes)" test $((w1 - w0)) -lt $((3 << 20))
	for b in bomb.pkl.xz bomb.pkl.zst; do
		is "$b is a directory until opened" "$(stat -c %F "$M/$b")" directory
		ls "$M/$b/" >"$WORK/out.$b" 2>&1
		check "$b: opening it fails with EFBIG" grep -q "File too large" "$WORK/out.$b"
		bre=${b//./\\.}
		check "$b: the log names the file, the offset and the limit" in_log "^picklefs: $bre: byte [0-9]+ of the compressed input: expands past the limit of 8 MiB \(-o max_expand=SIZE\)\$"
		n=$(grep -oE "$bre: byte [0-9]+" "$MLOG" | head -n 1 | grep -oE "[0-9]+\$")
		check "$b: the offset ${n:-?} is inside the file" test "${n:-999999999}" -le "$(stat -c %s "$B/$b")"
	done
	check "the cache folder holds nothing" test -z "$(ls -A "$WORK/cache")"
	umount_fs "$M"
fi
"$TOOL" --max-expand 8M dis "$B/bomb.pkl.xz" >/dev/null 2>"$WORK/tool.err"
rc=$?
check "pickletool on the xz bomb: exit 1 (got $rc)" test "$rc" -eq 1
check "pickletool on the xz bomb: the message" grep -qE "bomb\.pkl\.xz: byte [0-9]+ of the compressed input: expands past the limit of 8 MiB \(--max-expand SIZE\)\$" "$WORK/tool.err"

echo "zformats: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
