#!/usr/bin/env bash
# Scan benchmark (issue "Scan"), side by side with a picklescan-style
# reference scanner in one run:
#  1. `pickletool scan` of a folder of 1,000 pickles (~100 MB: dicts of
#     lists/strings/floats, numpy arrays, pandas DataFrames, nested lists;
#     10 KB to 1 MB; protocols 2-5; 40 of them malicious, written as raw
#     opcodes, never loaded), vs the reference on the same folder; both
#     must count the same malicious files, and pickletool must exit 1;
#  2. `pickletool scan` of a ~500 MB and a ~50 MB PyTorch zip checkpoint
#     (scripts/make-bench-archives.py's writer, shared with
#     bench-archives.sh), vs the reference on each: the time must not grow
#     with the tensors' size.
# The reference is built the way picklescan is: os.walk, zipfile for zip
# files (every member ending in .pkl: data.pkl for a checkpoint),
# pickletools.genops over the bytes, GLOBAL / INST arguments and, for
# STACK_GLOBAL, the last two strings before it, against a small deny-list.
# Inputs are made once into $BUILD/bench and reused. Figures are best of
# $RUNS, wall clock (user + system beside them). Not a test: it prints, it
# does not judge.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3}
BUILD=${BUILD:-build}
RUNS=${RUNS:-3}
W=${BENCH_DIR:-$BUILD/bench}
PT=$BUILD/pickletool
GEN=scripts/make-bench-archives.py
DIR=$W/scan-folder
CKPT=$W/ckpt500.pt
CKPT50=$W/ckpt50.pt
mkdir -p "$W"
TMP=$(mktemp -d)
cleanup() { rm -rf "$TMP"; }
trap cleanup EXIT

# ---- inputs ------------------------------------------------------------------
[ -f "$CKPT" ] || { echo "making $CKPT (20 layers)..."; "$PYTHON" "$GEN" ckpt "$CKPT" 20; }
[ -f "$CKPT50" ] || { echo "making $CKPT50 (2 layers)..."; "$PYTHON" "$GEN" ckpt "$CKPT50" 2; }
if [ ! -f "$DIR/.complete" ]; then
	echo "making $DIR (1,000 pickles, ~100 MB)..."
	rm -rf "$DIR.tmp"
	"$PYTHON" - "$DIR.tmp" <<'PY'
import os, pickle, random, struct, sys
import numpy as np, pandas as pd

out = sys.argv[1]
os.makedirs(out)
R = random.Random(1234)
WORDS = ('alpha beta gamma delta north south paris lima oslo red green blue '
         'train test valid cat dog bird user item order').split()

def word():
    return R.choice(WORDS) + str(R.randrange(10000))

# one object of each kind, of scale n
def k_dict(n, v):
    return {'ids': list(range(n)), 'names': [word() for _ in range(n)],
            'scores': [R.random() for _ in range(n)],
            'meta': {'source': word(), 'version': R.randrange(10), 'ok': True,
                     'tags': [word() for _ in range(5)]}}
def k_array(n, v):  # v: a dict of two arrays or one array, float64 or float32
    a = np.random.default_rng(R.randrange(1 << 30)).standard_normal(max(n, 1))
    a = a.astype('<f8' if v < 0.25 or v > 0.75 else '<f4')
    return {'x': a, 'y': np.arange(max(n // 8, 1), dtype=np.int64)} if v < 0.5 else a
def k_frame(n, v):
    g = np.random.default_rng(R.randrange(1 << 30))
    return pd.DataFrame({'id': np.arange(n), 'value': g.standard_normal(n),
                         'name': [word() for _ in range(n)],
                         'flag': g.integers(0, 2, n).astype(bool)})
def k_nested(n, v):
    return [[i, R.random(), word(), [R.randrange(100) for _ in range(3)]] for i in range(n)]
KINDS = [(k_dict, 35), (k_array, 30), (k_frame, 15), (k_nested, 20)]

def make(kind, target, proto):
    """A pickle of about target bytes: scale measured on a small one,
    then corrected once on the result."""
    v = R.random()
    n = max(10, int(200 * target / len(pickle.dumps(kind(200, v), proto))))
    data = pickle.dumps(kind(n, v), proto)
    if abs(len(data) - target) > target // 20:
        data = pickle.dumps(kind(max(10, int(n * target / len(data))), v), proto)
    return data

# the payloads: hand-written opcodes, each an import of a dangerous name
# and a call of it; none is ever loaded
def su(s):  # SHORT_BINUNICODE
    b = s.encode(); return b'\x8c' + bytes([len(b)]) + b
def bu(s):  # BINUNICODE
    b = s.encode(); return b'X' + struct.pack('<I', len(b)) + b
def g_global(mod, name):        # GLOBAL (protocols 0-2)
    return b'c' + mod.encode() + b'\n' + name.encode() + b'\n'
def g_stack(mod, name):         # STACK_GLOBAL, memoized as pickle writes it
    return su(mod) + b'\x94' + su(name) + b'\x94' + b'\x93' + b'\x94'
CALLS = [('posix', 'system', 'touch /tmp/pwned'), ('os', 'system', 'id'),
         ('nt', 'system', 'calc.exe'), ('subprocess', 'check_output', 'ls'),
         ('builtins', 'eval', "__import__('os').system('id')"),
         ('builtins', 'exec', 'import os'), ('runpy', '_run_code', 'print(1)'),
         ('webbrowser', 'open', 'http://example.com/')]
def payload(i):
    """(protocol, opcodes that leave nothing on the stack)"""
    mod, name, arg = CALLS[i % len(CALLS)]
    v = i // len(CALLS) % 4
    if v == 0:  # protocol 0: GLOBAL, MARK, STRING, TUPLE, REDUCE
        return 0, g_global(mod, name) + b"(S'" + arg.encode() + b"'\ntR0"
    if v == 1:  # protocol 2: GLOBAL, BINUNICODE, TUPLE1, REDUCE
        return 2, g_global(mod, name) + bu(arg) + b'\x85R0'
    if v == 2:  # protocol 4: STACK_GLOBAL
        return 4, g_stack(mod, name) + su(arg) + b'\x85R0'
    return 0, b"(S'" + arg.encode() + b"'\ni" + mod.encode() + b'\n' + name.encode() + b'\n0'  # INST

sizes = [10_000] * 432 + [30_000] * 250 + [100_000] * 160 + [300_000] * 100 + [1_000_000] * 42
R.shuffle(sizes)
bad = set(R.sample(range(1000), 40))
kinds = [k for k, w in KINDS for _ in range(w)]
it = iter(sizes)
for i in range(1000):
    path = '%s/%s%04d.pkl' % (out, R.choice(('batch_', 'feat_', 'run_', 'cache_')), i)
    if i in bad and len(bad & set(range(i))) % 2 == 0:
        # a bare malicious pickle: PROTO, the payload, None, STOP
        proto, p = payload(i)
        data = (b'\x80' + bytes([max(proto, 2)]) if proto else b'') + p + b'N.'
    else:
        proto = R.choice((2, 3, 4, 5))
        data = make(R.choice(kinds), next(it), proto)
        if i in bad:
            # a payload put in front of a real pickle, as fickling does:
            # PROTO, the payload, then the pickle after its own PROTO
            pp, p = payload(i)
            if pp > proto:
                pp, p = 2, g_global(*CALLS[i % len(CALLS)][:2]) + bu(CALLS[i % len(CALLS)][2]) + b'\x85R0'
            data = data[:2] + p + data[2:]
    open(path, 'wb').write(data)
PY
	"$PYTHON" - "$DIR.tmp" <<'PY'
# every file is a well-formed pickle (read with genops, not loaded)
import os, pickletools, sys
for f in os.listdir(sys.argv[1]):
    for _ in pickletools.genops(open(os.path.join(sys.argv[1], f), 'rb').read()):
        pass
PY
	touch "$DIR.tmp/.complete"
	rm -rf "$DIR"; mv "$DIR.tmp" "$DIR"
fi

# ---- the reference -----------------------------------------------------------
REF='
import io, os, pickletools, sys, zipfile
DENY = {"os": "*", "posix": "*", "nt": "*", "subprocess": "*", "runpy": "*",
        "socket": "*", "webbrowser": "*", "pty": "*", "shutil": "*", "sys": "*",
        "builtins": {"eval", "exec", "compile", "open", "getattr", "__import__", "execfile"},
        "__builtin__": {"eval", "exec", "compile", "open", "getattr", "__import__", "execfile"}}
STRINGS = {"SHORT_BINUNICODE", "UNICODE", "BINUNICODE", "BINUNICODE8"}

def globals_of(data):
    found, f = set(), io.BytesIO(data)
    while f.tell() < len(data):  # a file may hold several pickles
        last = [None, None]
        for op, arg, at in pickletools.genops(f):
            n = op.name
            if n in ("GLOBAL", "INST"):
                found.add(tuple(arg.split(" ", 1)))
            elif n in STRINGS:
                last = [last[1], arg]
            elif n == "STACK_GLOBAL":
                found.add(tuple(last))
            elif n == "STOP":
                break
        else:
            break
    return found

def scan(name, data, hits):
    bad = sorted(".".join(g) for g in globals_of(data)
                 if g[0] in DENY and (DENY[g[0]] == "*" or g[1] in DENY[g[0]]))
    if bad:
        hits.append(name)
        print("%s: dangerous globals: %s" % (name, ", ".join(bad)))

def scan_file(path, hits):
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            for m in z.namelist():
                if m.endswith(".pkl"):
                    scan(path + ":" + m, z.read(m), hits)
    else:
        with open(path, "rb") as f:
            scan(path, f.read(), hits)

hits = []
for top in sys.argv[1:]:
    if os.path.isdir(top):
        for root, dirs, files in os.walk(top):
            for f in files:
                scan_file(os.path.join(root, f), hits)
    else:
        scan_file(top, hits)
print("%d dangerous" % len(hits))
'

. scripts/bench-lib.sh # (the script runs from the repo root)
# run "$@" once: wall clock into $TMP/wall, "user sys" into $TMP/cpu,
# stdout into $TMP/out, exit status into $TMP/rc
timed() {
	local s rc=0; s=$(now)
	/usr/bin/time -f '%U %S' -o "$TMP/cpu" "$@" > "$TMP/out" 2> "$TMP/err" || rc=$?
	since "$s" > "$TMP/wall"; echo "$rc" > "$TMP/rc"
	# /usr/bin/time adds a line when the status is not 0
	tail -n 1 "$TMP/cpu" > "$TMP/cpu1"
}

nfiles=$(find "$DIR" -name '*.pkl' | wc -l)
dsize=$(du -sb --exclude=.complete "$DIR" | cut -f1)
echo "folder: $nfiles pickles, $(mb "$dsize") MB"
echo "checkpoints: $(basename "$CKPT") $(mb "$(stat -c %s "$CKPT")") MB, $(basename "$CKPT50") $(mb "$(stat -c %s "$CKPT50")") MB"
echo "pickletool: $PT; reference: $PYTHON $($PYTHON -c 'import sys; print(sys.version.split()[0])') (pickletools.genops)"
cat "$DIR"/*.pkl "$CKPT" "$CKPT50" > /dev/null # the page cache, for both
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs (wall clock is shared; CPU time is not)"
echo

declare -A T_PT T_REF C_PT C_REF U_PT U_REF
# measure NAME PATH WANT_RC [K]: RUNS runs of each, taking turns; with
# K, each run is K invocations in a row, timed together and divided by K
# (a run of a few ms is then not swamped by the cost of timing it)
measure() {
	local n=$1 p=$2 want=$3 k=${4:-1} a=() b=() ca=() cb=() r
	for r in $(seq "$RUNS"); do
		timed sh -c 'i=0; while [ $i -lt "$1" ]; do "$2" -c "$3" "$4" || exit $?; i=$((i + 1)); done' sh "$k" "$PYTHON" "$REF" "$p"
		[ "$(cat "$TMP/rc")" = 0 ] || { echo "reference failed on $p:" >&2; cat "$TMP/err" >&2; exit 1; }
		b+=("$(echo "$(cat "$TMP/wall") / $k" | bc -l)"); cb+=("$(awk -v k="$k" '{print $1 / k, $2 / k}' "$TMP/cpu1")")
		cp "$TMP/out" "$TMP/ref.$n"
		timed sh -c 'i=0; while [ $i -lt "$1" ]; do "$2" scan "$3" >"$4" 2>&1; rc=$?; i=$((i + 1)); done; exit $rc' sh "$k" "$PT" "$p" "$TMP/pt1"
		[ "$(cat "$TMP/rc")" = "$want" ] ||
			{ echo "pickletool scan $p: exit $(cat "$TMP/rc"), not $want" >&2; tail -n 3 "$TMP/pt1" "$TMP/err" >&2; exit 1; }
		a+=("$(echo "$(cat "$TMP/wall") / $k" | bc -l)"); ca+=("$(awk -v k="$k" '{print $1 / k, $2 / k}' "$TMP/cpu1")")
		cp "$TMP/pt1" "$TMP/pt.$n"
	done
	T_PT[$n]=$(printf '%s\n' "${a[@]}" | best); T_REF[$n]=$(printf '%s\n' "${b[@]}" | best)
	# user and system time of the fastest run
	C_PT[$n]=$(for i in "${!a[@]}"; do echo "${a[$i]} ${ca[$i]}"; done | sort -g | head -n 1 | cut -d' ' -f2-)
	C_REF[$n]=$(for i in "${!b[@]}"; do echo "${b[$i]} ${cb[$i]}"; done | sort -g | head -n 1 | cut -d' ' -f2-)
	# and the least user + system time of any run: on a busy machine the
	# wall clock also holds the time spent waiting for a CPU
	U_PT[$n]=$(printf '%s\n' "${ca[@]}" | awk '{print $1 + $2}' | best)
	U_REF[$n]=$(printf '%s\n' "${cb[@]}" | awk '{print $1 + $2}' | best)
}
cpu() { printf 'user %s s, sys %s s' $1 $2; }

# ---- 1. the folder -------------------------------------------------------------
measure folder "$DIR" 1
printf 'folder: pickletool scan %s, reference %s -> %s (target: 20x)\n' \
	"$(s3 "${T_PT[folder]}")" "$(s3 "${T_REF[folder]}")" "$(x "${T_REF[folder]}" "${T_PT[folder]}")"
echo "  pickletool: $(cpu ${C_PT[folder]}); reference: $(cpu ${C_REF[folder]})"
printf '  CPU time (user + system), least of the runs: pickletool %s, reference %s -> %s\n' \
	"$(s3 "${U_PT[folder]}")" "$(s3 "${U_REF[folder]}")" "$(x "${U_REF[folder]}" "${U_PT[folder]}")"
pt_bad=$(tail -n 1 "$TMP/pt.folder" | sed -n 's/.* \([0-9]*\) dangerous.*/\1/p')
ref_bad=$(tail -n 1 "$TMP/ref.folder" | cut -d' ' -f1)
echo "  $(tail -n 1 "$TMP/pt.folder") (exit 1)"
# which files, by name
pt_names() { grep -E ': byte [0-9]+: dangerous' "$1" | sed 's/: byte .*//' | sort -u; }
ref_names() { grep ': dangerous globals:' "$1" | sed 's/: dangerous globals:.*//' | sort -u; }
only_pt=$(comm -23 <(pt_names "$TMP/pt.folder") <(ref_names "$TMP/ref.folder") | xargs -r basename -a | paste -sd' ')
only_ref=$(comm -13 <(pt_names "$TMP/pt.folder") <(ref_names "$TMP/ref.folder") | xargs -r basename -a | paste -sd' ')
if [ "$pt_bad" = "$ref_bad" ] && [ -z "$only_pt$only_ref" ]; then same="same (the same files)"; else same=DIFFERENT; fi
echo "  malicious files: pickletool $pt_bad, reference $ref_bad -> $same"
[ -z "$only_pt" ] || echo "  only pickletool: $only_pt"
[ -z "$only_ref" ] || echo "  only reference:  $only_ref"
echo

# ---- 2. the checkpoints --------------------------------------------------------
for c in "$CKPT50" "$CKPT"; do
	n=$(basename "$c" .pt)
	measure "$n" "$c" 0 20
	printf '%s (%d MB, mean of 20 in a row): pickletool scan %s, reference %s -> %s\n' "$n" "$(mb "$(stat -c %s "$c")")" \
		"$(ms "${T_PT[$n]}")" "$(ms "${T_REF[$n]}")" "$(x "${T_REF[$n]}" "${T_PT[$n]}")"
	echo "  pickletool: $(cpu ${C_PT[$n]}); reference: $(cpu ${C_REF[$n]}); $(tail -n 1 "$TMP/pt.$n")"
done
printf 'checkpoint, 50 MB vs 500 MB: pickletool %s vs %s (x%.2f), reference %s vs %s (x%.2f)\n' \
	"$(ms "${T_PT[ckpt50]}")" "$(ms "${T_PT[ckpt500]}")" "$(ratio "${T_PT[ckpt500]}" "${T_PT[ckpt50]}")" \
	"$(ms "${T_REF[ckpt50]}")" "$(ms "${T_REF[ckpt500]}")" "$(ratio "${T_REF[ckpt500]}" "${T_REF[ckpt50]}")"
printf '\x80\x04N.' > "$TMP/none.pkl"
pass_=(); one=()
for r in $(seq "$RUNS"); do
	s=$(now); "$PYTHON" -c pass; pass_+=("$(since "$s")")
	s=$(now); "$PT" scan "$TMP/none.pkl" > /dev/null; one+=("$(since "$s")")
done
printf '(start-up floors: `python3 -c pass` %s; `pickletool scan` of a 4-byte pickle %s)\n' \
	"$(ms "$(printf '%s\n' "${pass_[@]}" | best)")" "$(ms "$(printf '%s\n' "${one[@]}" | best)")"
echo

# ---- summary -------------------------------------------------------------------
echo "| what | pickletool | reference | ratio |"
echo "|---|---|---|---|"
echo "| folder of $nfiles pickles, $(mb "$dsize") MB | $(s3 "${T_PT[folder]}") | $(s3 "${T_REF[folder]}") | $(x "${T_REF[folder]}" "${T_PT[folder]}") |"
echo "| of which user / sys | $(echo ${C_PT[folder]} | tr ' ' /) s | $(echo ${C_REF[folder]} | tr ' ' /) s | |"
echo "| folder: CPU time (user + system), least of the runs | $(s3 "${U_PT[folder]}") | $(s3 "${U_REF[folder]}") | $(x "${U_REF[folder]}" "${U_PT[folder]}") |"
echo "| malicious files found | $pt_bad (exit 1) | $ref_bad | $same |"
for n in ckpt50 ckpt500; do
	c=$W/$n.pt
	echo "| $(mb "$(stat -c %s "$c")") MB checkpoint ($n.pt) | $(ms "${T_PT[$n]}") | $(ms "${T_REF[$n]}") | $(x "${T_REF[$n]}" "${T_PT[$n]}") |"
done
