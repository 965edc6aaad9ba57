#!/usr/bin/env bash
# Array and frame views benchmark (issue "Views"), side by side with numpy
# and pandas in one run:
#  1. `cat values.txt` of a 10M-element float64 array (1,000,000 x 10,
#     protocol 5) on a fresh mount, vs np.savetxt of the same array (the
#     call alone, timed inside python, and the whole python process that
#     loads the pickle and calls it, against start of picklefs + mount +
#     cat); the text is then read back with pandas' exact float parser and
#     must equal the array bit for bit;
#  2. `cat __frame__.csv` of a 1M-row DataFrame of 6 numeric columns vs
#     df.to_csv, the same two ways, and read back equal by value; skipped
#     when the mounted frame has no __frame__.csv;
#  3. `cat array.npy` vs `cat data` of a 100 MB float64 array, each the
#     first read on a fresh mount (the page cache of the mount is empty;
#     the pickle file's own pages are warm): throughput;
#  4. `ls -l` of a folder (a dict) holding that array (the issue's case: a
#     stat of the array's directory, no view is made), and `ls -l` of the
#     array's own directory (a stat of each view: values.txt's size is
#     only known once the text was counted), each on a fresh mount, vs
#     `cat data` on a fresh mount;
#  5. memory: the daemon's peak RSS (VmHWM) after mount + stat of the
#     directory and its raw files, after `stat values.txt`, and after `cat
#     values.txt`, for 1M and 10M elements, each on its own mount, so that
#     the peak is that case's. RSS counts the pickle's pages the daemon
#     touched through its mapping (RssFile) as well as its own memory
#     (RssAnon); both are printed beside the peak.
# Inputs are made once into $BUILD/bench (scripts/make-bench-views.py) and
# reused. Figures are best of $RUNS (of 5 at least for the 100 MB reads),
# wall clock, with user + system beside
# them (picklefs: the daemon's CPU time for the request plus cat's). Not a
# test: it prints, it does not judge.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3}
BUILD=${BUILD:-build}
RUNS=${RUNS:-3}
W=${BENCH_DIR:-$BUILD/bench}
PF=${PICKLEFS:-$BUILD/picklefs}
GEN=scripts/make-bench-views.py
mkdir -p "$W"
MNT=$(mktemp -d)
pids=()
cleanup() {
	mountpoint -q "$MNT" && fusermount3 -u "$MNT" 2>/dev/null || true
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rmdir "$MNT" 2>/dev/null || true
	rm -f "$W/values.out" "$W/savetxt.out" "$W/frame.out" "$W/tocsv.out"
}
trap cleanup EXIT

. scripts/bench-lib.sh # (the script runs from the repo root)
# start the release daemon on $1, wait for the mount; its pid is ${pids[-1]}
mount_pf() { "$PF" -f "$1" "$MNT" & pids+=($!); wait_mounted; }
umount_pf() { unmount; wait "${pids[-1]}" || true; }
mb() { printf '%.1f' "$(echo "$1 / 1000000" | bc -l)"; }
tck=$(getconf CLK_TCK)
# user + system time of process $1 so far, seconds (fields 14, 15 of stat;
# the daemon's comm has no spaces)
cpu() { awk -v t="$tck" '{print ($14 + $15) / t}' /proc/"$1"/stat; }
kb() { awk -v k="$2:" '$1 == k {print $2}' /proc/"$1"/status; }
# run a command with its stdout to $1; prints "wall cpu" (cpu: its user + system)
timed() {
	local out=$1 s t; shift; s=$(now)
	/usr/bin/time -f '%U %S' -o "$W/cmd.cpu" "$@" > "$out"
	t=$(since "$s"); echo "$t $(awk '{print $1 + $2}' "$W/cmd.cpu")"
}

A1M=$W/views1m.pkl
A10M=$W/views10m.pkl
A100=$W/views100mb.pkl
FRAME=$W/frame1m.pkl
[ -f "$A1M" ] || { echo "making $A1M (100,000 x 10 float64)..."; "$PYTHON" "$GEN" array "$A1M" 100000 10; }
[ -f "$A10M" ] || { echo "making $A10M (1,000,000 x 10 float64)..."; "$PYTHON" "$GEN" array "$A10M" 1000000 10; }
[ -f "$A100" ] || { echo "making $A100 (1,310,720 x 10 float64, 100 MB)..."; "$PYTHON" "$GEN" array "$A100" 1310720 10; }
HOLD=$W/holder100mb.pkl
[ -f "$HOLD" ] || { echo "making $HOLD (a dict: the 100 MB array and 3 scalars)..."; "$PYTHON" - "$A100" "$HOLD" <<'PY2'
import pickle, sys
a = pickle.load(open(sys.argv[1], 'rb'))
pickle.dump({'weights': a, 'name': 'run 7', 'epoch': 12, 'loss': 0.25}, open(sys.argv[2], 'wb'), protocol=5)
PY2
}
[ -f "$FRAME" ] || { echo "making $FRAME (1,000,000 x 6 numeric DataFrame)..."; "$PYTHON" "$GEN" frame "$FRAME" 1000000; }
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
echo

# ---- 1 and 2: a text view vs the library's writer ---------------------------
# text_case NAME PICKLE VIEW REFCMD CHECKCMD: sets T_CAT T_START C_CAT C_START
# T_CALL C_CALL T_PROC C_PROC SZ_VIEW SZ_REF (best of $RUNS each)
text_case() {
	local name=$1 pkl=$2 view=$3 refcmd=$4 check=$5 r s t0 c0 w c
	local tc=() ts=() cc=() cs=() tk=() ck=() tp=() cp=()
	for r in $(seq "$RUNS"); do
		read -r w c < <(timed "$W/ref.times" "$PYTHON" "$GEN" "$refcmd" "$pkl" "$W/$refcmd.out")
		tp+=("$w"); cp+=("$c")
		read -r w c < "$W/ref.times"; tk+=("$w"); ck+=("$c")

		s=$(now)
		mount_pf "$pkl"
		t0=$(now); c0=$(cpu "${pids[-1]}")
		read -r w c < <(timed "$W/$name.out" cat "$MNT/$view")
		ts+=("$(since "$s")"); tc+=("$w")
		cc+=("$(echo "$(cpu "${pids[-1]}") - $c0 + $c" | bc -l)")
		cs+=("$(echo "$(cpu "${pids[-1]}") + $c" | bc -l)")
		umount_pf
	done
	T_CAT=$(printf '%s\n' "${tc[@]}" | best); C_CAT=$(printf '%s\n' "${cc[@]}" | best)
	T_START=$(printf '%s\n' "${ts[@]}" | best); C_START=$(printf '%s\n' "${cs[@]}" | best)
	T_CALL=$(printf '%s\n' "${tk[@]}" | best); C_CALL=$(printf '%s\n' "${ck[@]}" | best)
	T_PROC=$(printf '%s\n' "${tp[@]}" | best); C_PROC=$(printf '%s\n' "${cp[@]}" | best)
	SZ_VIEW=$(stat -c %s "$W/$name.out"); SZ_REF=$(stat -c %s "$W/$refcmd.out")
	"$PYTHON" "$GEN" "$check" "$pkl" "$W/$name.out" | sed 's/^/  check: /'
}

echo "1. values.txt of $(basename "$A10M"): 10,000,000 float64 (1,000,000 x 10)"
text_case values "$A10M" values.txt savetxt checktext
V=("$T_CAT" "$C_CAT" "$T_START" "$C_START" "$T_CALL" "$C_CALL" "$T_PROC" "$C_PROC" "$SZ_VIEW" "$SZ_REF")
printf '  cat values.txt (fresh mount): %.3f s (user + sys %.2f s), %s MB\n' "$T_CAT" "$C_CAT" "$(mb "$SZ_VIEW")"
printf '  np.savetxt call:              %.3f s (user + sys %.2f s), %s MB -> %s\n' "$T_CALL" "$C_CALL" "$(mb "$SZ_REF")" "$(x "$T_CALL" "$T_CAT")"
printf '  start picklefs + mount + cat: %.3f s (user + sys %.2f s)\n' "$T_START" "$C_START"
printf '  python3 load + np.savetxt:    %.3f s (user + sys %.2f s) -> %s\n' "$T_PROC" "$C_PROC" "$(x "$T_PROC" "$T_START")"
echo

echo "2. __frame__.csv of $(basename "$FRAME"): 1,000,000 rows x 6 numeric columns"
mount_pf "$FRAME"
have_csv=0; [ -f "$MNT/__frame__.csv" ] && have_csv=1
umount_pf
if [ $have_csv = 1 ]; then
	text_case frame "$FRAME" __frame__.csv tocsv checkcsv
	F=("$T_CAT" "$C_CAT" "$T_START" "$C_START" "$T_CALL" "$C_CALL" "$T_PROC" "$C_PROC" "$SZ_VIEW" "$SZ_REF")
	printf '  cat __frame__.csv (fresh mount): %.3f s (user + sys %.2f s), %s MB\n' "$T_CAT" "$C_CAT" "$(mb "$SZ_VIEW")"
	printf '  df.to_csv call:                  %.3f s (user + sys %.2f s), %s MB -> %s\n' "$T_CALL" "$C_CALL" "$(mb "$SZ_REF")" "$(x "$T_CALL" "$T_CAT")"
	printf '  start picklefs + mount + cat:    %.3f s (user + sys %.2f s)\n' "$T_START" "$C_START"
	printf '  python3 load + df.to_csv:        %.3f s (user + sys %.2f s) -> %s\n' "$T_PROC" "$C_PROC" "$(x "$T_PROC" "$T_START")"
else
	echo "  skipped: no __frame__.csv in this build"
fi
echo

# ---- 3 and 4: array.npy and ls -l against data -------------------------------
echo "3, 4. $(basename "$A100"): 1,310,720 x 10 float64 (100 MB), each figure on a fresh mount"
td=(); tn=(); cd_=(); cn=(); tl=(); cl=()
# a 100 MB read takes a few tens of ms: at least 5 runs of it, so that
# one slice of another process's time does not decide the figure
RUNS_IO=$((RUNS > 5 ? RUNS : 5))
for r in $(seq "$RUNS_IO"); do
	# both orders, so neither is always the first read of the pickle's pages
	for f in data array.npy; do
		[ $((r % 2)) = 0 ] && f=$([ "$f" = data ] && echo array.npy || echo data)
		mount_pf "$A100"
		c0=$(cpu "${pids[-1]}")
		read -r w c < <(timed /dev/null cat "$MNT/$f")
		c=$(echo "$(cpu "${pids[-1]}") - $c0 + $c" | bc -l)
		if [ "$f" = data ]; then td+=("$w"); cd_+=("$c"); else tn+=("$w"); cn+=("$c"); fi
		umount_pf
	done
	[ "$r" -gt "$RUNS" ] && continue
	mount_pf "$A100"
	c0=$(cpu "${pids[-1]}")
	read -r w c < <(timed /dev/null ls -l "$MNT")
	tl+=("$w"); cl+=("$(echo "$(cpu "${pids[-1]}") - $c0 + $c" | bc -l)")
	umount_pf
done
mount_pf "$A100"
SZ_DATA=$(stat -c %s "$MNT/data"); SZ_NPY=$(stat -c %s "$MNT/array.npy")
umount_pf
# 4b. the issue's case: `ls -l` of a folder (a dict) holding the 100 MB
# array beside a few scalars: a stat of the array's directory, no view
tf=()
for r in $(seq "$RUNS_IO"); do
	mount_pf "$HOLD"
	c0=$(cpu "${pids[-1]}")
	read -r w c < <(timed "$W/ls.out" ls -l "$MNT")
	tf+=("$w")
	umount_pf
done
TF=$(printf '%s\n' "${tf[@]}" | best)
TD=$(printf '%s\n' "${td[@]}" | best); TN=$(printf '%s\n' "${tn[@]}" | best); TL=$(printf '%s\n' "${tl[@]}" | best)
CD=$(printf '%s\n' "${cd_[@]}" | best); CN=$(printf '%s\n' "${cn[@]}" | best); CL=$(printf '%s\n' "${cl[@]}" | best)
BD=$(echo "$SZ_DATA / $TD / 1000000" | bc -l); BN=$(echo "$SZ_NPY / $TN / 1000000" | bc -l)
PCT=$(echo "100 * $BN / $BD" | bc -l)
printf '  cat data:      %.3f s (user + sys %.2f s), %.0f MB/s\n' "$TD" "$CD" "$BD"
printf '  cat array.npy: %.3f s (user + sys %.2f s), %.0f MB/s -> %.0f%% of data'"'"'s throughput\n' "$TN" "$CN" "$BN" "$PCT"
printf '  ls -l of the array directory (its views stat'"'"'ed): %.3f s (user + sys %.2f s) -> %s than cat data\n' "$TL" "$CL" "$(x "$TD" "$TL")"
printf '  ls -l of a dict holding the array:                 %.3f s -> %s than cat data\n' "$TF" "$(x "$TD" "$TF")"
echo

# ---- 5. memory ---------------------------------------------------------------
echo "5. the daemon's memory, each line a mount of its own (MB: peak RSS; RSS now = own + the pickle's mapped pages)"
declare -A HWM ANON FILE_
for n in 1m 10m; do
	pkl=$W/views$n.pkl
	for what in stat statview cat; do
		mount_pf "$pkl"
		case $what in
		stat) stat "$MNT" "$MNT/data" "$MNT/dtype" "$MNT/shape" > /dev/null ;;
		statview) stat "$MNT/values.txt" > /dev/null ;;
		cat) cat "$MNT/values.txt" > /dev/null ;;
		esac
		p=${pids[-1]}
		HWM[$n$what]=$(kb "$p" VmHWM); ANON[$n$what]=$(kb "$p" RssAnon); FILE_[$n$what]=$(kb "$p" RssFile)
		[ "$what" = stat ] && eval "SZV$n=$(stat -c %s "$MNT/values.txt")"
		umount_pf
	done
done
mbk() { printf '%.0f' "$(echo "$1 / 1024" | bc -l)"; }
for n in 1m 10m; do
	v=SZV$n
	for what in stat statview cat; do
		case $what in stat) l="mount + stat of the directory, data, dtype, shape" ;;
		statview) l="mount + stat values.txt" ;; cat) l="mount + cat values.txt" ;; esac
		printf '  %-3s (values.txt %s MB) %-50s peak %4s MB (now: own %4s, pickle %4s)\n' "$n" "$(mb "${!v}")" "$l" \
			"$(mbk "${HWM[$n$what]}")" "$(mbk "${ANON[$n$what]}")" "$(mbk "${FILE_[$n$what]}")"
	done
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# ---- summary -------------------------------------------------------------------
echo "| what | picklefs | reference | ratio | target |"
echo "|---|---|---|---|---|"
echo "| \`cat values.txt\`, 10M float64 ($(mb "${V[8]}") MB of text; savetxt's \`%.18e\`: $(mb "${V[9]}") MB), fresh mount | $(s3 "${V[0]}") (user + sys $(s3 "${V[1]}")) | \`np.savetxt\` call: $(s3 "${V[4]}") ($(s3 "${V[5]}")) | $(x "${V[4]}" "${V[0]}") | 5x: $(met "$(ratio "${V[4]}" "${V[0]}")" 5) |"
echo "| the same from the start: picklefs start, mount, \`cat\` | $(s3 "${V[2]}") ($(s3 "${V[3]}")) | python3 process: load + \`np.savetxt\`: $(s3 "${V[6]}") ($(s3 "${V[7]}")) | $(x "${V[6]}" "${V[2]}") | |"
if [ $have_csv = 1 ]; then
	echo "| \`cat __frame__.csv\`, 1M x 6 ($(mb "${F[8]}") MB; to_csv: $(mb "${F[9]}") MB), fresh mount | $(s3 "${F[0]}") ($(s3 "${F[1]}")) | \`df.to_csv\` call: $(s3 "${F[4]}") ($(s3 "${F[5]}")) | $(x "${F[4]}" "${F[0]}") | 3x: $(met "$(ratio "${F[4]}" "${F[0]}")" 3) |"
	echo "| the same from the start | $(s3 "${F[2]}") ($(s3 "${F[3]}")) | python3 process: load + \`df.to_csv\`: $(s3 "${F[6]}") ($(s3 "${F[7]}")) | $(x "${F[6]}" "${F[2]}") | |"
else
	echo "| \`cat __frame__.csv\`, 1M x 6 | skipped: no \`__frame__.csv\` in this build | | | 3x |"
fi
echo "| \`cat array.npy\` of a 100 MB array, fresh mount | $(printf '%.0f MB/s' "$BN") ($(s3 "$TN"), $(s3 "$CN")) | \`cat data\`: $(printf '%.0f MB/s' "$BD") ($(s3 "$TD"), $(s3 "$CD")) | $(printf '%.0f%%' "$PCT") | 80%: $(met "$PCT" 80) |"
echo "| \`ls -l\` of a folder (a dict) holding that array, fresh mount | $(s3 "$TF") | \`cat data\`: $(s3 "$TD") | $(x "$TD" "$TF") | not slower: $(met "$TD" "$TF") |"
echo "| \`ls -l\` of the array's own directory (stats \`values.txt\`: counts its text), fresh mount | $(s3 "$TL") ($(s3 "$CL")) | \`cat data\`: $(s3 "$TD") | $(x "$TD" "$TL") | |"
for n in 1m 10m; do
	v=SZV$n
	echo "| peak RSS, $n elements ($(mb "${!v}") MB of text): mount + stat / + \`stat values.txt\` / + \`cat values.txt\` | $(mbk "${HWM[${n}stat]}") / $(mbk "${HWM[${n}statview]}") / $(mbk "${HWM[${n}cat]}") MB | | | |"
done
