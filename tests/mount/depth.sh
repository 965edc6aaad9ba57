#!/usr/bin/env bash
# Depth tests: walking to the bottom of a deeply nested pickle keeps the
# daemon's memory bounded (README, "Limits"). A tester once saw 4.7 KB
# per level kept for a dict chain (each visited directory's listing and
# a 64 KiB name pool); a walk to the bottom of a 1M-deep pickle must
# finish under 1 GB, so here the memory the daemon adds per level must
# stay under 1 KB.
#
#   BUILD=build PYTHON=/usr/bin/python3 bash tests/mount/depth.sh
#
#   dict      {'a': {'a': ...}}, DEPTH levels (protocol 2)
#   object    C() with state {'a': C() ...}, DEPTH levels: __class__
#             and a state dict at each level
#   list      [[[...]]], DEPTH levels
#   find      find(1) down a dict chain DEPTH/4 deep: every level found,
#             under 1 KB kept per level
#
# The walk is tests/mount/depth_walk.py (listdir, lstat of every entry,
# chdir into `a`), the memory is the daemon's VmRSS from /proc. It uses
# the release picklefs ($BUILD/picklefs), not the ASan one: ASan's
# shadow memory and quarantine of freed blocks would measure ASan, not
# picklefs. The walks' correctness is the ASan suites' job.
#
# Prints "FAIL ..." per failure and ends with "depth: N passed, N failed".
set -u
SUITE=depth
DEPTH=${DEPTH:-200000}
. "$(dirname "$0")/lib.sh"
BIN=${PICKLEFS_RELEASE:-$REPO/$BUILD/picklefs}
case "$BUILD" in /*) BIN=${PICKLEFS_RELEASE:-$BUILD/picklefs} ;; esac

need_bin

S=$WORK/src
mkdir -p "$S"
# hand-written opcodes: CPython's pickler cannot write nesting this deep
"$PYTHON" - "$S" "$DEPTH" <<'PY'
import sys
d, n = sys.argv[1], int(sys.argv[2])
key = b'X\x01\x00\x00\x00a'
with open(d + '/dict.pkl', 'wb') as f:
    f.write(b'\x80\x02' + (b'}' + key) * n + b'}' + b's' * n + b'.')
with open(d + '/object.pkl', 'wb') as f:
    f.write(b'\x80\x02' + (b'c__main__\nC\n)\x81}' + key) * n + b'N' +
            b'sb' * n + b'.')
with open(d + '/find.pkl', 'wb') as f:
    m = n // 4
    f.write(b'\x80\x02' + (b'}' + key) * m + b'}' + b's' * m + b'.')
with open(d + '/list.pkl', 'wb') as f:
    f.write(b'\x80\x02' + b']' * n + b']' + b'a' * n + b'.')
PY

M=$WORK/mnt
mount_fs "$M" "$S" || { echo "depth: $PASS passed, $FAIL failed"; exit 1; }
for kind in dict object list; do
	out=$("$PYTHON" "$HERE/depth_walk.py" "$M/$kind.pkl" "$MPID" 2>&1)
	read -r levels rss0 rss1 hwm <<<"$out"
	# a list's items are named 0, 1, ...: its walk goes down `0`
	if [ "$kind" = list ]; then
		out=$(cd "$M/$kind.pkl" && "$PYTHON" - "$MPID" <<'PY'
import os, sys
pid = int(sys.argv[1])
def mem():
    g = {}
    for line in open('/proc/%d/status' % pid):
        k, _, v = line.partition(':')
        g[k] = v.split()[0] if v.split() else ''
    return int(g['VmRSS']), int(g['VmHWM'])
r0, _ = mem()
n = 0
while True:
    names = os.listdir('.')
    for x in names:
        os.lstat(x)
    if '0' not in names:
        break
    os.chdir('0')
    n += 1
r1, h = mem()
print(n, r0, r1, h)
PY
)
		read -r levels rss0 rss1 hwm <<<"$out"
	fi
	# the innermost object's `a` is None, a file
	want=$DEPTH
	[ "$kind" = object ] && want=$((DEPTH - 1))
	is "$kind: levels walked" "$levels" "$want"
	per=$(( (${rss1:-0} - ${rss0:-0}) * 1024 / (${levels:-0} > 0 ? levels : 1) ))
	echo "info: $kind: $levels levels, daemon RSS ${rss0} kB -> ${rss1} kB (peak ${hwm} kB), $per bytes per level"
	if [ "${levels:-0}" -gt 0 ] && [ "$per" -lt 1024 ]; then ok; else
		bad "$kind: the daemon kept $per bytes per level (over 1 KB: a 1M-deep walk would pass 1 GB): $out"
	fi
done
# find(1) down a dict chain DEPTH/4 deep: every level listed and stat'd
FIND_DEPTH=$((DEPTH / 4))
rss0=$(awk '/VmRSS/ {print $2}' "/proc/$MPID/status")
n=$(find "$M/find.pkl" 2>"$WORK/find.err" | wc -l)
rss1=$(awk '/VmRSS/ {print $2}' "/proc/$MPID/status")
is "find: every level found" "$n" "$((FIND_DEPTH + 1))"
per=$(( (rss1 - rss0) * 1024 / FIND_DEPTH ))
echo "info: find: $n entries, daemon RSS ${rss0} kB -> ${rss1} kB, $per bytes per level"
if [ "$per" -lt 1024 ]; then ok; else
	bad "find: the daemon kept $per bytes per level (over 1 KB)"
fi
umount_fs "$M"
echo "depth: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
