#!/usr/bin/env bash
# Archive benchmark (issue "Dataset archives and model files"), side by side
# with CPython in one run:
#  1. a ~1 GB tar.gz of 100 pickles (batches/batch_NNN.pkl, CIFAR-like dicts
#     of ~10 MB): start picklefs until `cat` of the last member's
#     batch_label returns, vs a python3 one-liner that reads the tar.gz with
#     tarfile up to the last member and pickle.loads it; then `cat` again on
#     the live mount, and `cat` of a value in another member; peak RSS of
#     the daemon and the size of its (unlinked) cache file;
#  2. a ~500 MB PyTorch zip checkpoint (20 Linear(3072, 2048) layers),
#     written without torch by scripts/make-bench-archives.py as torch 1.13
#     writes it: start picklefs until `cat` of layers.0.weight's shape
#     returns, vs torch.load (if torch imports) and vs zipfile + pickletools
#     scanning data.pkl for the first size tuple; the same on a 50 MB
#     checkpoint of 2 layers, to show the time does not grow with size.
# Inputs are made once into $BUILD/bench and reused. Figures are best of
# $RUNS. Not a test: it prints, it does not judge.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3}
BUILD=${BUILD:-build}
RUNS=${RUNS:-3}
W=${BENCH_DIR:-$BUILD/bench}
PF=$BUILD/picklefs
GEN=scripts/make-bench-archives.py
mkdir -p "$W" "$W/cache"
MNT=$(mktemp -d)
pids=()
cleanup() {
	mountpoint -q "$MNT" && fusermount3 -u "$MNT" 2>/dev/null || true
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rmdir "$MNT" 2>/dev/null || true
}
trap cleanup EXIT

. scripts/bench-lib.sh # (the script runs from the repo root)
# the time of one `cat`, in seconds; its output must be $2
timed_cat() {
	local s out; s=$(now); out=$(cat "$1"); since "$s"
	[ "$out" = "$2" ] || { echo "cat $1 printed '$out', not '$2'" >&2; exit 1; }
}
# the daemon's unlinked cache files in $2 (it maps them; the fd is closed):
# their total size in bytes, from the mappings, each file counted once
cache_bytes() {
	local range perm off dev ino path a b n=0; declare -A seen=()
	while read -r range perm off dev ino path; do
		case $path in "$(realpath "$2")"/*" (deleted)") ;; *) continue ;; esac
		[ -n "${seen[$ino]:-}" ] && continue; seen[$ino]=1
		a=${range%-*}; b=${range#*-}
		n=$((n + $(stat -L -c %s "/proc/$1/map_files/$range" 2>/dev/null || echo $((16#$b - 16#$a)))))
	done < /proc/"$1"/maps
	echo "$n"
}

TGZ=$W/batches.tar.gz
CKPT=$W/ckpt500.pt
CKPT50=$W/ckpt50.pt
[ -f "$TGZ" ] || { echo "making $TGZ (100 pickles, gzip -1)..."; "$PYTHON" "$GEN" targz "$TGZ" 100; }
[ -f "$CKPT" ] || { echo "making $CKPT (20 layers)..."; "$PYTHON" "$GEN" ckpt "$CKPT" 20; }
[ -f "$CKPT50" ] || { echo "making $CKPT50 (2 layers)..."; "$PYTHON" "$GEN" ckpt "$CKPT50" 2; }

# the checkpoint writer, proven: byte-identical to torch's own fixture, and
# (where torch imports) read back by torch.load
echo "checkpoint writer: $("$PYTHON" "$GEN" selfcheck tests/fixtures/torch)"
set +e; tc=$("$PYTHON" "$GEN" torchcheck "$PYTHON"); rc=$?; set -e
case $rc in
0) echo "torch check: ran: $tc" ;;
3) echo "torch check: not run (torch does not import)" ;;
*) echo "torch check: FAILED: torch.load did not read the generated checkpoint right" >&2; exit 1 ;;
esac
echo

# ---- 1. tar.gz of 100 pickles ----------------------------------------------
tgz_size=$(stat -c %s "$TGZ")
tgz_raw=$(gzip -dc "$TGZ" | wc -c)
echo "batches.tar.gz: $(mb "$tgz_size") MB on disk, $(mb "$tgz_raw") MB uncompressed ($(printf '%.1f' "$(ratio "$tgz_raw" "$tgz_size")")x), 100 members"
LABEL99="training batch 100 of 100"
LABEL50="training batch 51 of 100"
REF_TAR='
import pickle, sys, tarfile
with tarfile.open(sys.argv[1], "r:gz") as tf:
    for m in tf:  # one pass over the stream; tarfile cannot seek in gzip
        if m.name == "batches/batch_099.pkl":
            print(pickle.loads(tf.extractfile(m).read())["batch_label"])
            break
'
echo "$LABEL99" > "$W/floor.txt"
rss_py=(); rq=(); t_floor=(); t_py=(); t_pk=(); t_mnt=(); t_live=(); t_other=(); hwm=(); cachesz=(); cpu_py=(); cpu_pk=()
tck=$(getconf CLK_TCK)
for r in $(seq "$RUNS"); do
	s=$(now)
	out=$(/usr/bin/time -f '%U + %S %M' -o "$W/py.cpu" "$PYTHON" -c "$REF_TAR" "$TGZ")
	t_py+=("$(since "$s")")
	read -r u _ k m < "$W/py.cpu"; cpu_py+=("$(echo "$u + $k" | bc -l)"); rss_py+=("$m")
	[ "$out" = "$LABEL99" ] || { echo "python printed '$out'" >&2; exit 1; }

	s=$(now)
	"$PF" -f -o cache_dir="$W/cache" "$TGZ" "$MNT" & pids+=($!)
	wait_mounted
	t_mnt+=("$(since "$s")")
	# time the daemon's threads spent runnable but waiting for a CPU: on a
	# shared machine, the part of the wall clock that is other people's
	rq+=("$(cat /proc/"${pids[-1]}"/task/*/schedstat | awk '{n += $2} END {print n / 1e9}')")
	out=$(cat "$MNT/batches/batch_099.pkl/batch_label")
	t_pk+=("$(since "$s")")
	[ "$out" = "$LABEL99" ] || { echo "picklefs printed '$out'" >&2; exit 1; }
	# taking turns with what this way of timing costs by itself: the same
	# `cat` of a small file on disk
	for i in $(seq "$RUNS"); do
		t_floor+=("$(timed_cat "$W/floor.txt" "$LABEL99")")
		t_live+=("$(timed_cat "$MNT/batches/batch_099.pkl/batch_label" "$LABEL99")")
	done
	t_other+=("$(timed_cat "$MNT/batches/batch_050.pkl/batch_label" "$LABEL50")")
	hwm+=("$(awk '/^VmHWM/ {print $2}' /proc/"${pids[-1]}"/status)")
	# user + system time of the daemon so far (fields 14, 15; comm has no spaces)
	cpu_pk+=("$(awk -v t="$tck" '{print ($14 + $15) / t}' /proc/"${pids[-1]}"/stat)")
	cachesz+=("$(cache_bytes "${pids[-1]}" "$W/cache")")
	unmount; wait "${pids[-1]}" || true
done
tp=$(printf '%s\n' "${t_py[@]}" | best); tk=$(printf '%s\n' "${t_pk[@]}" | best)
tl=$(printf '%s\n' "${t_live[@]}" | best); to=$(printf '%s\n' "${t_other[@]}" | best)
hk=$(printf '%s\n' "${hwm[@]}" | best); hp=$(printf '%s\n' "${rss_py[@]}" | best); cz=$(printf '%s\n' "${cachesz[@]}" | best)
tm=$(printf '%s\n' "${t_mnt[@]}" | best)
FLOOR=$(printf '%s\n' "${t_floor[@]}" | best)
# the run-queue wait of the fastest run
rqk=$(for i in "${!t_pk[@]}"; do echo "${t_pk[$i]} ${rq[$i]}"; done | sort -g | head -n 1 | cut -d' ' -f2)
cp=$(printf '%s\n' "${cpu_py[@]}" | best); ck=$(printf '%s\n' "${cpu_pk[@]}" | best)
printf 'last member, start to batch_label: python tarfile+pickle %.3f s, picklefs %.3f s -> %s\n' \
	"$tp" "$tk" "$(x "$tp" "$tk")"
printf '  of which until the mount appeared: %.3f s (%.0f%%); in that run the daemon waited %.3f s for a CPU\n' \
	"$tm" "$(echo "100 * $tm / $tk" | bc -l)" "$rqk"
printf '  CPU time (user + system): python %.2f s, picklefs daemon %.2f s (until unmount, with the cats below)\n' "$cp" "$ck"
printf '(timing floor: `cat` of a small file on disk, timed the same way: %.1f ms)\n' "$(echo "$FLOOR * 1000" | bc -l)"
printf 'live mount, cat batch_099 batch_label again: %.1f ms\n' "$(echo "$tl * 1000" | bc -l)"
printf 'live mount, first cat of batch_050 batch_label: %.1f ms\n' "$(echo "$to * 1000" | bc -l)"
printf 'peak RSS: python %d MB, picklefs (VmHWM) %d MB; picklefs'"'"'s unlinked cache file(s) in -o cache_dir: %d MB\n' \
	$((hp / 1024)) $((hk / 1024)) "$(mb "$cz")"
echo

# ---- 2. PyTorch checkpoint -------------------------------------------------
REF_TORCH='
import sys, torch
print(",".join(map(str, torch.load(sys.argv[1])["layers.0.weight"].shape)))
'
REF_SCAN='
import pickletools, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
pkl = z.read(next(n for n in z.namelist() if n.endswith("/data.pkl")))
ints, seen = [], False
for op, arg, pos in pickletools.genops(pkl):
    if op.name == "BINPERSID":  # a tensor: storage offset, then the size tuple
        seen = True
    elif seen and op.name in ("BININT", "BININT1", "BININT2", "LONG1"):
        ints.append(arg)
    elif seen and op.name in ("TUPLE", "TUPLE1", "TUPLE2", "TUPLE3"):
        print(",".join(map(str, ints[1:])))
        break
'
have_torch=0; "$PYTHON" -c 'import torch' 2>/dev/null && have_torch=1
t_imp=()
if [ $have_torch = 1 ]; then
	for r in $(seq "$RUNS"); do s=$(now); "$PYTHON" -c 'import torch'; t_imp+=("$(since "$s")"); done
fi
# which path shows layers.0.weight's first dimension: the tensor layout's
# `shape`, else the rebuild call's size tuple
"$PF" -f "$CKPT50" "$MNT" & pids+=($!)
wait_mounted
if [ -e "$MNT/layers.0.weight/shape" ]; then SHAPE=shape; else SHAPE=__args__/2/0; fi
unmount; wait "${pids[-1]}" || true
echo "tensor shape read from <tensor>/$SHAPE$([ "$SHAPE" = shape ] || echo ' (no <tensor>/shape in this build: fallback)')"
want() { if [ "$SHAPE" = shape ]; then echo "$1"; else echo "${1%%,*}"; fi; }

declare -A T_PK T_LIVE T_TORCH T_SCAN SZ
for c in "$CKPT50" "$CKPT"; do
	n=$(basename "$c" .pt); SZ[$n]=$(stat -c %s "$c")
	last=layers.19.weight; [ "$c" = "$CKPT50" ] && last=layers.1.weight
	a=(); b=(); t=(); sc=()
	for r in $(seq "$RUNS"); do
		if [ $have_torch = 1 ]; then
			s=$(now); out=$("$PYTHON" -c "$REF_TORCH" "$c"); t+=("$(since "$s")")
			[ "$out" = 2048,3072 ] || { echo "torch.load printed '$out'" >&2; exit 1; }
		fi
		s=$(now); out=$("$PYTHON" -c "$REF_SCAN" "$c"); sc+=("$(since "$s")")
		[ "$out" = 2048,3072 ] || { echo "pickletools scan printed '$out'" >&2; exit 1; }

		s=$(now)
		"$PF" -f "$c" "$MNT" & pids+=($!)
		wait_mounted
		out=$(cat "$MNT/layers.0.weight/$SHAPE")
		a+=("$(since "$s")")
		# `shape`'s text is the layout's to choose: compare its numbers only
		[ "$(echo "$out" | grep -o '[0-9]\+' | paste -sd, -)" = "$(want 2048,3072)" ] ||
			{ echo "picklefs printed '$out'" >&2; exit 1; }
		b+=("$(timed_cat "$MNT/$last/$SHAPE" "$out")")
		unmount; wait "${pids[-1]}" || true
	done
	T_PK[$n]=$(printf '%s\n' "${a[@]}" | best); T_LIVE[$n]=$(printf '%s\n' "${b[@]}" | best)
	T_SCAN[$n]=$(printf '%s\n' "${sc[@]}" | best)
	[ $have_torch = 1 ] && T_TORCH[$n]=$(printf '%s\n' "${t[@]}" | best)
	printf '%s (%d MB): start to `cat layers.0.weight/%s`: picklefs %.1f ms; live `cat %s/%s` %.1f ms\n' \
		"$n" "$(mb "${SZ[$n]}")" "$SHAPE" "$(echo "${T_PK[$n]} * 1000" | bc -l)" \
		"$last" "$SHAPE" "$(echo "${T_LIVE[$n]} * 1000" | bc -l)"
	if [ $have_torch = 1 ]; then
		printf '  vs torch.load + shape: %.3f s -> %s\n' "${T_TORCH[$n]}" "$(x "${T_TORCH[$n]}" "${T_PK[$n]}")"
	else
		echo "  vs torch.load: not run (torch does not import)"
	fi
	printf '  vs zipfile + pickletools.genops scan of data.pkl: %.1f ms -> %s\n' \
		"$(echo "${T_SCAN[$n]} * 1000" | bc -l)" "$(x "${T_SCAN[$n]}" "${T_PK[$n]}")"
done
[ $have_torch = 1 ] && printf '(`import torch` alone: %.3f s)\n' "$(printf '%s\n' "${t_imp[@]}" | best)"
echo "(times of one \`cat\` include about $(ms "$FLOOR") of timing floor, see above)"
echo

# ---- summary ---------------------------------------------------------------
echo "| what | picklefs | reference | ratio |"
echo "|---|---|---|---|"
echo "| $(mb "$tgz_size") MB tar.gz of 100 pickles ($(mb "$tgz_raw") MB): start until \`cat\` of the last member's \`batch_label\` | $(s3 "$tk") | tarfile + pickle.loads: $(s3 "$tp") | $(x "$tp" "$tk") |"
echo "| of which until the mount appears (of that, waiting for a CPU: $(s3 "$rqk")) | $(s3 "$tm") | | |"
echo "| CPU time (user + system) for that | $(s3 "$ck") | $(s3 "$cp") | |"
echo "| the same \`cat\` again, live mount | $(ms "$tl") | \`cat\` of a small file on disk (the timing floor): $(ms "$FLOOR") | |"
echo "| first \`cat\` of another member's value, live mount | $(ms "$to") | | |"
echo "| peak RSS for that (picklefs: and its unlinked cache file) | $((hk / 1024)) MB (+ $(mb "$cz") MB on disk) | $((hp / 1024)) MB | |"
for n in ckpt500 ckpt50; do
	label="$(mb "${SZ[$n]}") MB checkpoint"
	if [ $have_torch = 1 ]; then
		echo "| $label: start until \`cat layers.0.weight/$SHAPE\` | $(ms "${T_PK[$n]}") | torch.load: $(s3 "${T_TORCH[$n]}") | $(x "${T_TORCH[$n]}" "${T_PK[$n]}") |"
		echo "| $label: the same, vs a zipfile + pickletools scan | $(ms "${T_PK[$n]}") | $(ms "${T_SCAN[$n]}") | $(x "${T_SCAN[$n]}" "${T_PK[$n]}") |"
	else
		echo "| $label: start until \`cat layers.0.weight/$SHAPE\` | $(ms "${T_PK[$n]}") | zipfile + pickletools scan: $(ms "${T_SCAN[$n]}") | $(x "${T_SCAN[$n]}" "${T_PK[$n]}") |"
	fi
	echo "| $label: \`cat\` of the last layer's $SHAPE, live mount | $(ms "${T_LIVE[$n]}") | | |"
done
