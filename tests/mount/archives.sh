#!/usr/bin/env bash
# Archives (README, "Dataset archives and model files"): tar (plain,
# gzip, bzip2, xz, zstd) and zip archives in a mounted folder, and one
# as SOURCE, made at test time by tarfile, zipfile and the zstd CLI
# (tests/mount/make_archives.py), through the ASan picklefs:
#
#   browse   every archive is a directory mirroring its members (nested
#            archives too: a tar in a zip, a zip in that tar); the names
#            `find` shows are exactly Python's members (".." skipped,
#            a leading "/" dropped, symlinks not shown); a plain member
#            cats byte for byte as Python extracts it, a pickle member
#            is a tree that check_tree.py finds equal to what CPython
#            loads from the extracted member; a CIFAR-10-style tar.gz of
#            Python 2 pickles reads like the real one
#   refuse   archives are read-only: writing a value, creating, removing
#            and renaming inside them fail with EROFS; the archives'
#            bytes are unchanged; an encrypted zip member fails with
#            EOPNOTSUPP and says so in the log
#   outside  an archive rewritten by someone else shows its new members
#            (within a second or two)
#   raw      files shown raw say why in user.pickle.error and in the log
#            of -o log=FILE: an HDF5 file, a .npy file, a tar.gz cut
#            short (listing it fails with EIO)
#   source   a .tar.gz named as SOURCE is the mount's root directory
#
# Ends with "archives: N passed, N failed"; exit 1 when something failed.
set -u

SUITE=archives
. "$(dirname "$0")/lib.sh"

need_bin

S=$WORK/src
R=$WORK/ref
M=$WORK/m
"$PYTHON" "$HERE/make_archives.py" "$S" "$R" || bad "making the archives failed"
sha() { (cd "$S" && find . -type f -print0 | sort -z | xargs -0 sha256sum) ; }
sha >"$WORK/sha.before"

mount_fs "$M" -o log="$WORK/daemon.log" "$S" || {
	echo "archives: $PASS passed, $((FAIL + 1)) failed"
	exit 1
}

# ---- browse ---------------------------------------------------------------
# the tree: every archive's entries, nothing more, nothing less
for a in cifar-10-python.tar.gz data.zip frames.tar.bz2 frames.tar.xz \
	frames.tar.zst plain.tar evil.zip frame.pkl.zip frame.pkl.tar.gz; do
	got=$(cd "$M" && find "$a" -mindepth 1 -maxdepth 5 \( -path "$a/*.pkl/*" -o -path "$a/*.pkl.gz/*" -o -path "$a/*.pkl.tar.gz/*" -o -path "*/data_batch_?/*" -o -path "*/test_batch/*" -o -path "*/batches.meta/*" \) -prune -o -print 2>&1 | sort)
	want=$(awk -F'\t' -v a="$a" 'index($1, a "/") == 1 { print $1 }' "$R/expect.tsv" | sort)
	is "$a: find shows Python's members" "$got" "$want"
	[ -d "$M/$a" ] && ok || bad "$a is not a directory"
done
: >"$WORK/batch"
while IFS=$'\t' read -r path kind ref; do
	case $kind in
	dir) [ -d "$M/$path" ] && ok || bad "$path: not a directory" ;;
	file) check "$path: bytes as Python extracts them" cmp "$M/$path" "$ref" ;;
	pickle) printf '%s\t%s\n' "$M/$path" "$ref" >>"$WORK/batch" ;;
	esac
done <"$R/expect.tsv"
check "archives: $(wc -l <"$WORK/batch") member pickles match CPython" \
	"$PYTHON" "$HERE/check_tree.py" --batch "$WORK/batch"

C="$M/cifar-10-python.tar.gz/cifar-10-batches-py"
is "cifar: the batches" "$(ls "$C" | tr '\n' ' ')" \
	"batches.meta data_batch_1 data_batch_2 readme.html test_batch "
is "cifar: batch_label" "$(cat "$C/data_batch_1/batch_label")" "training batch 1 of 5"
is "cifar: label names" "$(cat "$C/batches.meta/label_names/3")" "cat"
check "cifar: data/values.txt is the batch's pixels" "$PYTHON" -c '
import numpy as np, pickle, sys, tarfile
t = tarfile.open(sys.argv[1])
d = pickle.load(t.extractfile("cifar-10-batches-py/data_batch_2"), encoding="bytes")
got = np.loadtxt(sys.argv[2], dtype=np.uint8, ndmin=2)
assert got.shape == (4, 3072) and (got == d[b"data"]).all(), got.shape
' "$S/cifar-10-python.tar.gz" "$C/data_batch_2/data/values.txt"
is "cifar: st_size of a member is its size" "$(stat -c %s "$C/readme.html")" \
	"$(tar -xOzf "$S/cifar-10-python.tar.gz" cifar-10-batches-py/readme.html | wc -c)"
is "nested: a pickle in a zip in a tar in a zip" \
	"$(cat "$M/data.zip/inner/nested.tar/deep.zip/d.pkl/deep/2")" "3"
is "gzip pickle inside a tar" "$(cat "$M/plain.tar/c.pkl.gz/gz")" "inside a tar"
is "compression of a pickle member" \
	"$(getfattr --absolute-names --only-values -n user.pickle.compression "$M/plain.tar/c.pkl.gz" 2>&1)" "gzip"
check "grep -r finds a value inside a tar.xz" grep -rqx "text" "$M/frames.tar.xz"

# ---- refuse ---------------------------------------------------------------
expect_fail() { # expect_fail NAME WANT COMMAND...
	local name=$1 want=$2
	shift 2
	if "$@" >"$WORK/out" 2>&1; then bad "$name: succeeded"; elif grep -q "$want" "$WORK/out"; then ok; else
		bad "$name: $(head -c 300 "$WORK/out")"
	fi
}
expect_fail "echo > a value in a zip" "Read-only" bash -c "echo 5 > '$M/data.zip/a.pkl/x'"
expect_fail "sed -i of a value in a tar.gz" "Read-only" sed -i s/1/2/ "$C/data_batch_1/batch_label"
expect_fail "new file in an archive" "Read-only" touch "$M/data.zip/new.txt"
expect_fail "new key in a member pickle" "Read-only" bash -c "echo 1 > '$M/data.zip/a.pkl/new'"
expect_fail "rm of a member" "Read-only" rm "$M/data.zip/notes.txt"
expect_fail "rm of a value in a member" "Read-only" rm "$M/data.zip/a.pkl/z"
expect_fail "mv inside an archive" "Read-only" mv "$M/data.zip/a.pkl/x" "$M/data.zip/a.pkl/w"
expect_fail "mkdir in an archive" "Read-only" mkdir "$M/data.zip/d2"
is "a value file in an archive is r--" "$(stat -c %A "$M/data.zip/a.pkl/x")" "-r--r--r--"
ls "$M/enc.zip" >/dev/null 2>&1
expect_fail "cat of an encrypted member" "not supported" cat "$M/enc.zip/secret.pkl"
is "the open member of that zip" "$(cat "$M/enc.zip/open.pkl/__value__" 2>/dev/null || cat "$M/enc.zip/open.pkl")" "open"
sha >"$WORK/sha.after"
check "archives unchanged on disk" cmp "$WORK/sha.before" "$WORK/sha.after"

# ---- raw ------------------------------------------------------------------
ls -la "$M" >/dev/null
is "HDF5: user.pickle.error" "$(getfattr --absolute-names --only-values -n user.pickle.error "$M/model.h5" 2>&1)" \
	"model.h5: HDF5 file, not a pickle"
is "structured npy: user.pickle.error" "$(getfattr --absolute-names --only-values -n user.pickle.error "$M/arr.npy" 2>&1)" \
	"arr.npy: byte 20: a structured or unusual .npy dtype"
check "npy and npz: array.npy and values.txt as numpy loads them" "$PYTHON" - "$S/np" "$M/np" <<'EOF'
import numpy as np, os, sys
src, mnt = sys.argv[1], sys.argv[2]
def same(want, d, name):
    got = np.load(d + '/array.npy')
    assert got.dtype == want.dtype and got.shape == want.shape and (got == want).all(), name
    assert open(d + '/dtype').read().strip() == want.dtype.str, name
    assert open(d + '/shape').read() == repr(want.shape) + '\n', name
    if want.dtype.kind in 'iuf' and want.ndim:
        txt = np.loadtxt(d + '/values.txt', dtype=want.dtype, ndmin=2)
        assert (txt.reshape(want.shape) == want).all(), name
for f in sorted(os.listdir(src)):
    if f.endswith('.npy'):
        same(np.load(os.path.join(src, f)), os.path.join(mnt, f), f)
    else:
        z = np.load(os.path.join(src, f))
        assert sorted(os.listdir(os.path.join(mnt, f))) == sorted(k + '.npy' for k in z.files), f
        for k in z.files:
            same(z[k], os.path.join(mnt, f, k + '.npy'), f + '/' + k)
assert os.path.exists(mnt + '/img.npy/image.png')
EOF
expect_fail "npy arrays are read-only" "Read-only" bash -c "echo 1 > '$M/np/f8.npy/values.txt'"
check "HDF5: cat gives its bytes" cmp "$M/model.h5" "$S/model.h5"
expect_fail "a tar.gz cut short: ls fails" "Input/output error" ls "$M/cut.tar.gz"
check "cut tar.gz: user.pickle.error names the file and the byte" bash -c \
	"getfattr --absolute-names --only-values -n user.pickle.error '$M/cut.tar.gz' | grep -q '^cut.tar.gz: byte [0-9]* of the compressed input: '"
check "log: HDF5 said why" grep -q "model.h5: HDF5 file, not a pickle (shown as it is)" "$WORK/daemon.log"
check "log: the cut tar.gz said why" grep -q "cut.tar.gz: byte [0-9]* of the compressed input" "$WORK/daemon.log"
check "log: the encrypted member said why" grep -q "enc.zip/secret.pkl: byte [0-9]* of the archive: an encrypted member" "$WORK/daemon.log"
check "log lines carry a time and the pid" grep -qE "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} picklefs\[[0-9]+\]: " "$WORK/daemon.log"

# ---- outside --------------------------------------------------------------
"$PYTHON" - "$S/frames.tar.xz" <<'EOF' || bad "rewriting frames.tar.xz failed"
import io, pickle, sys, tarfile
with tarfile.open(sys.argv[1] + '.new', 'w:xz') as t:
    for name, obj in (('f/one.pkl', {'b': 'rewritten'}), ('g/three.pkl', [3])):
        data = pickle.dumps(obj, 4)
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
import os
os.replace(sys.argv[1] + '.new', sys.argv[1])
EOF
for i in $(seq 30); do
	[ "$(cat "$M/frames.tar.xz/f/one.pkl/b" 2>/dev/null)" = rewritten ] && break
	sleep 0.1
done
is "outside rewrite: the new value" "$(cat "$M/frames.tar.xz/f/one.pkl/b" 2>&1)" "rewritten"
is "outside rewrite: the new members" "$(ls "$M/frames.tar.xz" | tr '\n' ' ')" "f g "
is "outside rewrite: a member gone" "$(ls "$M/frames.tar.xz/f" | tr '\n' ' ')" "one.pkl "

umount_fs "$M"

# ---- checkpoints ----------------------------------------------------------
# real torch.save files (tests/fixtures/torch, made once with torch 1.13):
# each tensor's dtype, shape, stride, data, values.txt and array.npy
# against what torch loaded (tests/mount/torch_check.py, no torch needed)
T=$WORK/torch
mkdir -p "$T"
cp -r "$REPO/tests/fixtures/torch/." "$T/"
head -c 800 "$T/legacy.pt" >"$T/cut_legacy.pt" # the last storage cut short
M3=$WORK/m3
if mount_fs "$M3" "$T"; then
	for fx in state_dict view_offset noncontig dtypes parameter legacy nested/checkpoint; do
		check "checkpoint $fx.pt: every tensor as torch loaded it" \
			"$PYTHON" "$HERE/torch_check.py" "$T/expected.json" "$fx.pt" "$M3/$fx.pt"
	done
	check "checkpoint: epoch, loss and the optimizer's numbers" \
		"$PYTHON" "$HERE/torch_check.py" --scalars "$T/expected.json" nested/checkpoint.pt "$M3/nested/checkpoint.pt"
	is "checkpoint root is the state dict" "$(ls "$M3/state_dict.pt" | tr '\n' ' ')" \
		"0.bias 0.weight 2.bias 2.weight __state__ "
	is "a tensor's class" "$(getfattr --absolute-names --only-values -n user.pickle.class "$M3/parameter.pt/param" 2>&1)" \
		"torch.nn.Parameter"
	is "a tensor's storage id stays reachable" \
		"$(cat "$M3/view_offset.pt/v/__storage__/__persid__/2")" "0"
	expect_fail "checkpoints are read-only" "Read-only" bash -c "echo 1 > '$M3/nested/checkpoint.pt/epoch'"
	expect_fail "legacy checkpoints too" "Read-only" bash -c "echo 1 > '$M3/legacy.pt/0.bias/values.txt'"
	is "a legacy checkpoint cut short is raw, and says where" \
		"$(getfattr --absolute-names --only-values -n user.pickle.error "$M3/cut_legacy.pt" 2>&1)" \
		"cut_legacy.pt: byte 782: a storage runs past the end"
	umount_fs "$M3"
fi
rm -f "$T/cut_legacy.pt"
check "checkpoints unchanged" bash -c "cd '$T' && sha256sum *.pt nested/*.pt | sed 's,  ,  $REPO/tests/fixtures/torch/,' | (cd / && sha256sum -c --quiet)"

# ---- source ---------------------------------------------------------------
M2=$WORK/m2
if mount_fs "$M2" "$S/cifar-10-python.tar.gz"; then
	is "SOURCE tar.gz: its root" "$(ls "$M2" | tr '\n' ' ')" "cifar-10-batches-py "
	is "SOURCE tar.gz: a value" "$(cat "$M2/cifar-10-batches-py/test_batch/batch_label")" "testing batch 1 of 1"
	umount_fs "$M2"
fi

echo "archives: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
