#!/usr/bin/env bash
# tests/corpus/run.sh - the corpus test suite for pickletool.
#
#   BUILD=build PYTHON=/usr/bin/python3 bash tests/corpus/run.sh
#
# Drives $PICKLETOOL (default $BUILD/asan/pickletool, the sanitizer build)
# with CPython as the oracle.  The corpus is generated once into
# $BUILD/corpus and reused while the scripts that make it are unchanged:
#   cpython/   scripts/make-corpus.py: CPython's own pickle test corpus
#              (good/ pickles the tests write or load, bad/ inputs they
#              expect the unpickler to refuse)
#   fixtures/  scripts/make-fixtures.py: numpy, pandas, sklearn, dill,
#              stdlib, deep, shared, compressed ... at protocols 0-5
#   tests/fixtures/py2/ (committed, scripts/make-py2-fixtures.py)
#   trunc/     every proper prefix of 20 varied pickles
#   mutants/   2000 copies of small pickles with random byte flips (seeded)
#   dis/       what `python3 -m pickletools` prints for each good pickle
#
# Checks (each counts as one check):
#   good pickles      roundtrip exits 0; the output is byte-identical (tier
#                     "identical": CPython 3.11 wrote it) or has the same
#                     opcode form (tier "literal": hand-written, Python 2);
#                     compressed input gives output compressed the same way
#                     and the decompressed bytes are compared; CPython loads
#                     input and output to equal objects (pycheck.py equal;
#                     for the pickles that load stand-alone); `pickletool
#                     dis` prints what `python3 -m pickletools` prints (for
#                     those it can disassemble in under 32 MiB of text)
#   structural bad    roundtrip exits 1 and stderr starts "NAME: byte N: why"
#                     (for a compressed file "NAME: byte N of the compressed
#                     input: why" or "... of the decompressed data: why")
#   semantic bad      roundtrip exits 0 or 1 (no crash)
#   truncations       roundtrip exits 1 with such a message
#   mutants           roundtrip exits 0 or 1; if 0, the output is a valid
#                     pickle (pycheck.py vm)
# Everywhere: no sanitizer report (LeakSanitizer included), no signal, no
# timeout.
#
# pickletool runs in batches (`pickletool batch`: up to $CORPUS_BATCH
# commands in one process, one result line each), not once per file: the
# sanitizer build's start-up was most of the suite's time. A command that
# ends a batch (crash, report, timeout), and every command of a batch that
# LeakSanitizer finds a leak in at exit, is run again alone, so each
# failure is still reported with its own file and reason (see the worker).
#
# Prints one line per check group and one per failure ("FAIL file: why",
# the first $SHOW of each group; all of them in $BUILD/corpus-run/LOG),
# then "corpus: N passed, N failed".  Exits 1 if anything failed.
#
# Environment: BUILD, PYTHON, PICKLETOOL, JOBS (default: nproc),
# TIMEOUT (seconds per pickletool command, default 30), SHOW (default 20),
# CORPUS_BATCH (commands per pickletool process, default 500; 1 gives
# every command a process of its own),
# CORPUS_STRICT=1 (literal-tier pickles must be byte-identical too).

set -u

if [ "${1:-}" = "--worker" ]; then
    # ---------------------------------------------------------- worker
    # --worker LIST RESULTS: runs the tool on each line of LIST and appends
    # P<TAB>group, F<TAB>group<TAB>why or I<TAB>group lines to RESULTS.
    list=$2
    res=$3
    exec 3>>"$res"
    tmpd=$(mktemp -d "${TMPDIR:-/tmp}/corpus-worker.XXXXXX")
    trap 'rm -rf "$tmpd"' EXIT

    err=$tmpd/err
    # run_tool ARGS...: runs the tool; sets rc, and why (non-empty if the
    # run counts as a crash: sanitizer report, signal, timeout)
    run_tool() {
        timeout -k 5 "$TIMEOUT" "$TOOL" "$@" 2>"$err" >"$tmpd/stdout"
        rc=$?
        why=
        if [ -s "$err" ] && grep -qE 'Sanitizer|runtime error:' "$err"; then
            why="sanitizer report: $(grep -m1 -E 'ERROR: |runtime error:|SUMMARY:' "$err" | cut -c1-200)"
        elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
            why="timed out after ${TIMEOUT}s"
        elif [ "$rc" = 98 ] || [ "$rc" = 99 ]; then
            why="sanitizer exit code $rc"
        elif [ "$rc" -gt 128 ]; then
            why="killed by signal $((rc - 128))"
        fi
    }
    # the first line of the run's stderr (its result line's message)
    first_err() { printf '%s\n' "${msg:0:300}"; }
    kind_of() {
        case $(head -c 3 "$1" | od -An -tx1 | tr -d ' \n') in
            1f8b*) echo gzip ;;
            425a68) echo bzip2 ;;
            *) echo plain ;;
        esac
    }
    pass() { printf 'P\t%s\n' "$1" >&3; }
    fail() { printf 'F\t%s\t%s\n' "$1" "$2" >&3; }
    info() { printf 'I\t%s\n' "$1" >&3; }
    msg_ok() {  # msg_ok FILE: stderr's first line is "FILE: byte N: why"
        # (compressed: "byte N of the compressed input" / "... of the
        # decompressed data", whose offset it is)
        local line=$msg
        case $line in
            "$1: byte "* | "${1##*/}: byte "*) ;;
            *) return 1 ;;
        esac
        [[ $line =~ :\ byte\ [0-9]+(\ of\ the\ (compressed\ input|decompressed\ data))?:\ .+ ]]
    }

    # The tool runs in batches: `pickletool batch` takes up to $BATCH
    # commands in one process and prints "STATUS<TAB>first stderr line"
    # after each (pickletool --help), so the ASan binary starts once per
    # batch, not once per file. What a run of its own would catch is
    # still caught, and said the same way, by running alone (run_tool)
    # whatever the batch cannot tell apart:
    #   - a command that ends the process (sanitizer report, signal,
    #     SIGALRM after $TIMEOUT s: the -t option) is the one after the
    #     last result line; it is run alone for the report, and counts as
    #     a failure even if alone it passes (then the earlier commands
    #     left the process broken);
    #   - a sanitizer report at exit (LeakSanitizer: it looks for leaks
    #     when the process ends) runs every command of the batch alone.
    # Every run, in a batch or alone, has leak detection on.
    # run_alone LINE BRC: one command line of a batch in a process of its
    # own; prints its result line ("X<TAB>why" for a crash).
    run_alone() {
        local c a b
        IFS=$'\t' read -r c a b <<<"$1"
        if [ "$c" = dis ]; then
            run_tool dis "$a"
            cp "$tmpd/stdout" "$b"
        else
            run_tool "$c" "$a" "$b"
        fi
        if [ -z "$why" ] && [ "$2" != 0 ]; then
            why="ended a batch run (exit $2); alone: exit $rc"
        fi
        if [ -n "$why" ]; then printf 'X\t%s\n' "$(printf '%s' "$why" | tr '\t\n' '  ')"
        else printf '%s\t%s\n' "$rc" "$(head -c 300 "$err" | head -n1 | tr '\t' ' ')"; fi
    }
    # run_batch CMDS STATUS: runs the command lines of CMDS, one result
    # line per command into STATUS, in order.
    run_batch() {
        local cmds=$1 st=$2 want done=0 end got brc line nx
        want=$(wc -l <"$cmds")
        : >"$st"
        while [ "$done" -lt "$want" ]; do
            end=$((done + BATCH))
            [ "$end" -gt "$want" ] && end=$want
            sed -n "$((done + 1)),${end}p" "$cmds" >"$tmpd/window"
            timeout -k 5 $((TIMEOUT * 2 + BATCH * 2)) "$TOOL" batch -t "$TIMEOUT" \
                <"$tmpd/window" >"$tmpd/window.st" 2>"$tmpd/window.err"
            brc=$?
            got=$(wc -l <"$tmpd/window.st")
            if [ "$got" -lt $((end - done)) ]; then
                head -n "$got" "$tmpd/window.st" >>"$st"
                run_alone "$(sed -n "$((got + 1))p" "$tmpd/window")" "$brc" >>"$st"
                done=$((done + got + 1))
            elif [ "$brc" != 0 ] || grep -qE 'Sanitizer|runtime error:' "$tmpd/window.err"; then
                nx=0
                while IFS= read -r line; do
                    run_alone "$line" 0
                done <"$tmpd/window" >"$tmpd/window.st"
                nx=$(grep -c $'^X\t' "$tmpd/window.st")
                if [ "$nx" = 0 ]; then
                    # no command alone has it: the first one takes the blame
                    why="batch run from here ended with exit $brc: $(grep -m1 -E 'ERROR: |runtime error:|SUMMARY:' "$tmpd/window.err" | cut -c1-200)"
                    sed -i "1s|.*|X\t$(printf '%s' "$why" | tr '\t\n|' '  /')|" "$tmpd/window.st"
                fi
                cat "$tmpd/window.st" >>"$st"
                done=$end
            else
                cat "$tmpd/window.st" >>"$st"
                done=$end
            fi
        done
    }

    # roundtrip: every line; dis: the good pickles that have a
    # disassembly and whose roundtrip exited 0, in the same order
    awk -F'\t' '{ print "roundtrip\t" $2 "\t" $6 }' "$list" >"$tmpd/rt.cmds"
    run_batch "$tmpd/rt.cmds" "$tmpd/rt.st"
    paste "$list" "$tmpd/rt.st" | awk -F'\t' -v d="$tmpd" '
        $1 == "good" && $5 != "-" && $7 == "0" { print "dis\t" $2 "\t" d "/dis." NR }' >"$tmpd/dis.cmds"
    run_batch "$tmpd/dis.cmds" "$tmpd/dis.st"
    exec 4<"$tmpd/dis.st" 5<"$tmpd/dis.cmds"

    while IFS=$'\t' read -r kind in tier load dis out rc msg; do
        why=
        if [ "$rc" = X ]; then why=$msg; fi
        case $kind in
        good)
            if [ -n "$why" ]; then fail roundtrip "$in: $why"; continue; fi
            if [ "$rc" != 0 ]; then
                fail roundtrip "$in: roundtrip exit $rc: $(first_err)"
                continue
            fi
            pass roundtrip
            printf 'R\t%s\n' "$out" >&3
            a=$in b=$out
            k=plain
            case $in in *.gz | *.bz2) k=$(kind_of "$in") ;; esac
            if [ "$k" != plain ]; then
                if [ "$(kind_of "$out")" = "$k" ]; then pass compression
                else fail compression "$in: input is $k, output is $(kind_of "$out")"; fi
                case $k in
                    gzip) gzip -dc <"$in" >"$tmpd/a" 2>/dev/null; gzip -dc <"$out" >"$tmpd/b" 2>/dev/null ;;
                    bzip2) bzip2 -dc <"$in" >"$tmpd/a" 2>/dev/null; bzip2 -dc <"$out" >"$tmpd/b" 2>/dev/null ;;
                esac
                a=$tmpd/a b=$tmpd/b
            fi
            if cmp -s "$a" "$b"; then
                if [ "$tier" = identical ] || [ "${CORPUS_STRICT:-0}" = 1 ]; then pass identical
                else info literal-identical; fi
            else
                if [ "$tier" = identical ] || [ "${CORPUS_STRICT:-0}" = 1 ]; then
                    fail identical "$in: output differs from input ($(cmp "$a" "$b" 2>&1 | head -n1 | sed 's/^.* differ: //'))"
                else info literal-different; fi
            fi
            if [ "$dis" != - ]; then
                IFS=$'\t' read -r rc msg <&4
                why=
                if [ "$rc" = X ]; then why=$msg; fi
                IFS=$'\t' read -r _ _ text <&5
                if [ -n "$why" ]; then fail dis "$in: $why"
                elif [ "$rc" != 0 ]; then fail dis "$in: dis exit $rc: $(first_err)"
                elif cmp -s "$text" "$dis"; then pass dis
                else
                    fail dis "$in: differs from pickletools at line $(diff "$text" "$dis" | head -n1 | sed 's/[^0-9].*//')"
                fi
                rm -f "$text"
            fi
            ;;
        structural|trunc)
            group=$([ "$kind" = trunc ] && echo truncation || echo structural)
            if [ -n "$why" ]; then fail "$group" "$in: $why"
            elif [ "$rc" != 1 ]; then fail "$group" "$in: exit $rc, want 1 (refused)"
            elif ! msg_ok "$in"; then fail "$group" "$in: stderr is not 'NAME: byte N[ of the ...]: why': $(first_err)"
            else pass "$group"; fi
            ;;
        semantic)
            if [ -n "$why" ]; then fail semantic "$in: $why"
            elif [ "$rc" != 0 ] && [ "$rc" != 1 ]; then fail semantic "$in: exit $rc, want 0 or 1"
            else pass semantic; fi
            ;;
        mutant)
            if [ -n "$why" ]; then fail mutation "$in: $why"
            elif [ "$rc" = 0 ]; then pass mutation; printf 'A\t%s\t%s\n' "$in" "$out" >&3
            elif [ "$rc" = 1 ]; then pass mutation; rm -f "$out"
            else fail mutation "$in: exit $rc, want 0 or 1"; fi
            ;;
        esac
    done < <(paste "$list" "$tmpd/rt.st")
    exit 0
fi

# -------------------------------------------------------------- main
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
TOOL=${PICKLETOOL:-$BUILD/asan/pickletool}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
TIMEOUT=${TIMEOUT:-30}
BATCH=${CORPUS_BATCH:-500}
SHOW=${SHOW:-20}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CORPUS=$BUILD/corpus
RUN=$BUILD/corpus-run
START=$(date +%s)

case $TOOL in /*) ;; *) TOOL=$PWD/$TOOL ;; esac
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
CORPUS=$BUILD/corpus
RUN=$BUILD/corpus-run
export TOOL TIMEOUT BATCH CORPUS_STRICT="${CORPUS_STRICT:-0}"
# exitcode: tell a sanitizer report from "bad input" (1); max_allocation_size_mb:
# an allocation over 2 GiB (sized from the input, unchecked) is a report
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=99:detect_leaks=1:max_allocation_size_mb=2048:allocator_may_return_null=0"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:exitcode=98:print_stacktrace=1"
export PYTHONUTF8=1 PYTHONDONTWRITEBYTECODE=1

if [ ! -x "$TOOL" ]; then
    echo "FAIL $TOOL: not built (make $BUILD/asan/pickletool)"
    echo "corpus: 0 passed, 1 failed"
    exit 1
fi

# ------------------------------------------------------- the corpus
# The stamp: the generators, the generating part of this script, the
# committed inputs and the versions of Python and its packages.
stamp=$( { cat "$ROOT/scripts/make-corpus.py" "$ROOT/scripts/make-fixtures.py" \
            "$ROOT/scripts/pycheck.py" "$ROOT/tests/fixtures/pymod/fixturemod.py" \
            "$ROOT/tests/fixtures/py2/MANIFEST"
           sed -n '/^    "\$PYTHON" - "\$ROOT" "\$CORPUS" <<.EOF/,/^EOF$/p' "$ROOT/tests/corpus/run.sh"
           cat "$ROOT"/tests/fuzz/seeds/*.pkl 2>/dev/null; } | sha256sum | cut -c1-16)-$("$PYTHON" -c \
        'import sys, numpy, pandas, sklearn, dill; print(sys.version.split()[0], numpy.__version__, pandas.__version__, sklearn.__version__, dill.__version__)' | tr ' ' _)
if [ "$(cat "$CORPUS/STAMP" 2>/dev/null)" != "$stamp" ]; then
    echo "corpus: generating $CORPUS (log: $BUILD/corpus.log)"
    rm -rf "$CORPUS"
    mkdir -p "$CORPUS"
    gen_failed() {
        echo "FAIL $1 failed: $(tail -n 1 "$BUILD/corpus.log")"
        echo "corpus: 0 passed, 1 failed"
        exit 1
    }
    PYTHON=$PYTHON "$PYTHON" "$ROOT/scripts/make-corpus.py" "$CORPUS/cpython" >"$BUILD/corpus.log" 2>&1 ||
        gen_failed make-corpus.py
    PYTHON=$PYTHON "$PYTHON" "$ROOT/scripts/make-fixtures.py" "$CORPUS/fixtures" >>"$BUILD/corpus.log" 2>&1 ||
        gen_failed make-fixtures.py
    "$PYTHON" - "$ROOT" "$CORPUS" <<'EOF' >>"$BUILD/corpus.log" 2>&1 || gen_failed "making the corpus lists"
# Makes the lists run.sh works from, the expected disassemblies, the
# truncated prefixes and the mutants.
import os, random, subprocess, sys
root, corpus = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(root, 'scripts'))
import pycheck

def manifest(path):
    for line in open(path):
        if not line.startswith('#') and line.strip():
            yield line.rstrip('\n').split('\t')

good = []        # (path, tier, load)
for f, tier, load, _ in manifest(os.path.join(corpus, 'cpython', 'good', 'MANIFEST')):
    good.append((os.path.join(corpus, 'cpython', 'good', f), tier, load))
for f, tier, load, _ in manifest(os.path.join(corpus, 'fixtures', 'MANIFEST')):
    good.append((os.path.join(corpus, 'fixtures', f), tier, load))
py2 = os.path.join(root, 'tests', 'fixtures', 'py2')
for f, enc, _, _ in manifest(os.path.join(py2, 'MANIFEST')):
    good.append((os.path.join(py2, f), 'literal', 'ok' if enc == 'default' else 'ok:' + enc))

# What `python3 -m pickletools FILE` prints, for those it can disassemble.
disdir = os.path.join(corpus, 'dis')
os.makedirs(disdir, exist_ok=True)
dis = {}
for i, (path, _, _) in enumerate(good):
    if pycheck.compression_of(open(path, 'rb').read(3)):
        continue
    out = os.path.join(disdir, '%05d.dis' % i)
    if pycheck.cmd_dis(path, out) is None:
        dis[path] = out
# pycheck's dis must be what the real command prints: check a sample.
for path in list(dis)[::97]:
    real = subprocess.run([sys.executable, '-m', 'pickletools', path], capture_output=True,
                          env=dict(os.environ, PYTHONUTF8='1')).stdout
    if real != open(dis[path], 'rb').read():
        sys.exit('corpus: pycheck dis differs from python3 -m pickletools on %s' % path)

with open(os.path.join(corpus, 'good.list'), 'w') as f:
    for path, tier, load in good:
        f.write('%s\t%s\t%s\t%s\n' % (path, tier, load, dis.get(path, '-')))
with open(os.path.join(corpus, 'bad.list'), 'w') as f:
    bdir = os.path.join(corpus, 'cpython', 'bad')
    for name, cls, _, _, _ in manifest(os.path.join(bdir, 'MANIFEST')):
        f.write('%s\t%s\n' % (cls, os.path.join(bdir, name)))

# Every proper prefix of 20 varied pickles.
trunc = ['py2/dict-str-p0.pkl', 'py2/unicode-p1.pkl', 'py2/oldstyle-p0.pkl',
         'py2/newstyle-p0.pkl', 'py2/builtins-p2.pkl', 'py2/latin1-str-p1.pkl',
         'py2/datetime-p2.pkl', 'py2/mnist-like-p2.pkl.gz',
         'fixtures/config-dict-p0.pkl', 'fixtures/config-dict-p4.pkl',
         'fixtures/numpy-float64-p5.pkl', 'fixtures/dataclass-p4.pkl',
         'fixtures/slots-p2.pkl', 'fixtures/recursive-instance-p2.pkl',
         'fixtures/shared-dict-p0.pkl', 'fixtures/str-surrogates-p0.pkl',
         'fixtures/set-frozenset-p5.pkl', 'fixtures/floats-p1.pkl',
         'fixtures/bigint-2p1000-p3.pkl', 'fixtures/str-p0.pkl.bz2']
tdir = os.path.join(corpus, 'trunc')
os.makedirs(tdir, exist_ok=True)
with open(os.path.join(corpus, 'trunc.list'), 'w') as f:
    for rel in trunc:
        src = os.path.join(py2, rel[4:]) if rel.startswith('py2/') else os.path.join(corpus, rel)
        data = open(src, 'rb').read()
        base = os.path.basename(rel)
        for k in range(len(data)):
            p = os.path.join(tdir, '%s.%d' % (base, k))
            with open(p, 'wb') as g:
                g.write(data[:k])
            f.write(p + '\n')

# 2000 mutants of small pickles: byte flips mostly, some inserts/deletes.
rng = random.Random(20240601)
small = [p for p, _, _ in good if os.path.getsize(p) <= 2048]
cpy = [p for p in small if '/cpython/' in p]
bases = [p for p in small if '/cpython/' not in p] + cpy[::max(1, len(cpy) // 400)]
seeds = os.path.join(root, 'tests', 'fuzz', 'seeds')
if os.path.isdir(seeds):
    bases += sorted(os.path.join(seeds, s) for s in os.listdir(seeds) if s.endswith('.pkl'))
bases.sort()
special = [0x00, 0xff, 0x7f, 0x80, 0x28, 0x2e, 0x0a, 0x30, 0x31, 0x32, 0x94, 0x95, 0x97]
mdir = os.path.join(corpus, 'mutants')
os.makedirs(mdir, exist_ok=True)
with open(os.path.join(corpus, 'mutants.list'), 'w') as f, \
     open(os.path.join(mdir, 'MANIFEST'), 'w') as m:
    for i in range(2000):
        src = rng.choice(bases)
        data = bytearray(open(src, 'rb').read())
        ops = []
        for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4, 8))):
            if not data:
                break
            pos = rng.randrange(len(data))
            r = rng.random()
            if r < 0.45:
                data[pos] = rng.randrange(256); ops.append('set@%d' % pos)
            elif r < 0.75:
                data[pos] ^= 1 << rng.randrange(8); ops.append('bit@%d' % pos)
            elif r < 0.9:
                data[pos] = rng.choice(special); ops.append('special@%d' % pos)
            elif r < 0.95:
                n = rng.randrange(1, 5)
                data[pos:pos] = bytes(rng.randrange(256) for _ in range(n)); ops.append('ins%d@%d' % (n, pos))
            else:
                n = rng.randrange(1, 5)
                del data[pos:pos + n]; ops.append('del%d@%d' % (n, pos))
        p = os.path.join(mdir, '%04d.pkl' % i)
        with open(p, 'wb') as g:
            g.write(data)
        f.write(p + '\n')
        m.write('%04d.pkl\t%s\t%s\n' % (i, os.path.relpath(src, root if src.startswith(root) else corpus), ' '.join(ops)))
print('corpus: %d good (%d with a pickletools disassembly), %d truncations, 2000 mutants'
      % (len(good), len(dis), sum(1 for _ in open(os.path.join(corpus, 'trunc.list')))))
EOF
    echo "$stamp" >"$CORPUS/STAMP"
    sed -n 's/^make-corpus: \(good\|bad\|skipped\): /corpus: CPython test corpus \1: /p; s/^make-fixtures: /corpus: /p' "$BUILD/corpus.log"
    echo "corpus: generated in $(( $(date +%s) - START ))s"
fi

# ------------------------------------------------------- running
rm -rf "$RUN"
mkdir -p "$RUN/out"
awk -F'\t' -v out="$RUN/out" '
    FILENAME ~ /good.list$/   { n++; f = $1; sub(/.*\//, "", f)
                                printf "good\t%s\t%s\t%s\t%s\t%s/g%d-%s\n", $1, $2, $3, $4, out, n, f; next }
    FILENAME ~ /bad.list$/    { n++; printf "%s\t%s\t-\t-\t-\t%s/b%d.pkl\n", $1, $2, out, n; next }
    FILENAME ~ /trunc.list$/  { n++; printf "trunc\t%s\t-\t-\t-\t%s/t%d.pkl\n", $1, out, n; next }
    FILENAME ~ /mutants.list$/ { n++; printf "mutant\t%s\t-\t-\t-\t%s/m%d.pkl\n", $1, out, n; next }
' "$CORPUS/good.list" "$CORPUS/bad.list" "$CORPUS/trunc.list" "$CORPUS/mutants.list" >"$RUN/work"

# Deal the work round-robin to $JOBS workers.
T_RUN=$(date +%s)
awk -v j="$JOBS" -v d="$RUN" '{ print > (d "/chunk." (NR % j)) }' "$RUN/work"
pids=()
for chunk in "$RUN"/chunk.*; do
    bash "$0" --worker "$chunk" "$chunk.res" 2>>"$RUN/worker.err" &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
cat "$RUN"/chunk.*.res >"$RUN/results"
T_TOOL=$(date +%s)

# CPython's verdicts: equal objects, same opcode form, valid outputs.
{
    # the outputs of the good pickles that roundtrip exited 0 on
    awk -F'\t' '$1 == "R" { ok[$2] = 1; next }
                $1 == "good" && ($6 in ok) {
                    if ($4 ~ /^ok/) print "equal\t" $2 "\t" $6
                    if ($3 == "literal") print "sameform\t" $2 "\t" $6 }' "$RUN/results" "$RUN/work"
    awk -F'\t' '$1 == "A" { print "vm\t" $3 }' "$RUN/results"
} >"$RUN/pycheck.in"
split -n "r/$JOBS" "$RUN/pycheck.in" "$RUN/pc."
parts=("$RUN"/pc.*)
# pycheck_part PART: runs pycheck.py batch on PART into PART.out; if the
# interpreter dies on a line, records that line as failed and goes on.
pycheck_part() {
    local part=$1 done=0 want rest=$1.rest
    want=$(wc -l <"$part")
    : >"$part.out"
    while [ "$done" -lt "$want" ]; do
        tail -n +"$((done + 1))" "$part" >"$rest"
        "$PYTHON" "$ROOT/scripts/pycheck.py" batch <"$rest" >>"$part.out" 2>>"$part.err"
        local rc=$? got
        got=$(wc -l <"$part.out")
        if [ "$got" -lt "$want" ]; then
            sed -n "$((got + 1))p" "$part" | tr -d '\n' >>"$part.out"
            printf '\tpycheck.py died (exit %s) on this line\n' "$rc" >>"$part.out"
            sed -i "$((got + 1))s/^/FAIL\t/" "$part.out"
            got=$((got + 1))
        fi
        done=$got
    done
    rm -f "$rest"
}
pids=()
for part in "${parts[@]}"; do
    pycheck_part "$part" &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
for part in "${parts[@]}"; do cat "$part.out"; done | awk -F'\t' '
    { g = ($2 == "vm") ? "mutation-output" : $2
      if ($1 == "ok") print "P\t" g
      else if ($2 == "vm") print "F\t" g "\t" $3 ": exit 0 but the output is not a valid pickle: " $4
      else print "F\t" g "\t" $3 ": " $5 }' >>"$RUN/results"

# ------------------------------------------------------- report
{
    echo "# corpus run $(date -u +%Y-%m-%dT%H:%M:%SZ) tool $TOOL"
    grep $'^F\t' "$RUN/results" | cut -f2- | sed 's/\t/: /'
} >"$RUN/LOG"
awk -F'\t' -v show="$SHOW" '
    $1 == "P" { pass[$2]++; total[$2]++ }
    $1 == "F" { fail[$2]++; total[$2]++
                if (fail[$2] <= show) print "FAIL " $3
                else if (fail[$2] == show + 1) more[$2] = 1 }
    $1 == "I" { info[$2]++ }
    END {
        split("roundtrip identical compression equal sameform dis structural semantic truncation mutation mutation-output pycheck", order, " ")
        for (i = 1; i in order; i++) {
            g = order[i]
            if (!(g in total)) continue
            printf "group %-16s %6d checks, %d failures\n", g ":", total[g], fail[g] + 0
            if (g in more) printf "  (%d more %s failures in the LOG)\n", fail[g] - show, g
        }
        if (info["literal-identical"] + info["literal-different"] > 0)
            printf "info: literal-tier pickles re-encoded byte-identical: %d of %d\n",
                info["literal-identical"], info["literal-identical"] + info["literal-different"]
    }' "$RUN/results"
passed=$(grep -c $'^P\t' "$RUN/results")
failed=$(grep -c $'^F\t' "$RUN/results")
accepted=$(grep -c $'^A\t' "$RUN/results")
echo "info: mutants accepted (exit 0): $accepted of 2000; log: $RUN/LOG"
echo "info: $(( $(date +%s) - START ))s in all, $(( T_TOOL - T_RUN ))s running pickletool ($JOBS jobs)"
if [ "$failed" = 0 ]; then rm -rf "$RUN/out"; fi
echo "corpus: $passed passed, $failed failed"
[ "$failed" = 0 ]
