#!/usr/bin/env bash
# Identity tests: entries are values, not positions (README, "Identity").
# Real mounts of the ASan picklefs, driven by ls / rm / echo / mv and
# Python, checked with /usr/bin/python3 loading the pickle on disk.
#
#   BUILD=build PYTHON=/usr/bin/python3 bash tests/mount/identity.sh
#
#   names        rm of list items leaves the other names (0 2 3 4); a new
#                item is the highest name + 1; other names are refused at
#                open; names survive the kernel dropping its caches; a
#                remount and an outside rewrite give 0..n-1 again
#   handles      an open file whose sibling was removed writes its own
#                entry; one whose entry was removed (and re-created)
#                writes nowhere: close() fails with ESTALE or ENOENT
#   rm -r        of a list, and of a dict holding lists, removes all
#   outside      truncating or rewriting the source in place (10 rounds
#                each) does not kill the daemon: reads fail or show the
#                new content, and an edit never writes over the new file
#
# Ends with "identity: N passed, N failed"; exit 1 when something failed.
set -u

SUITE=identity
. "$(dirname "$0")/lib.sh"

# loads FILE and prints repr(EXPR) where `d` is the loaded value
pyval() { "$PYTHON" -c "import pickle,sys; d=pickle.load(open(sys.argv[1],'rb')); print(repr($2))" "$1" 2>&1; }

need_bin

make_pickle() { # make_pickle FILE: {'l': [10..50], 'n': {'a': [1,2], 'b': 3}, k000..k099}
	"$PYTHON" - "$1" <<'EOF'
import pickle, sys
d = {'l': [10, 20, 30, 40, 50], 'n': {'a': [1, 2], 'b': [3]}}
d.update({'k%03d' % i: i for i in range(100)})
with open(sys.argv[1], 'wb') as f:
    pickle.dump(d, f, protocol=4)
EOF
}

S=$WORK/src
M=$WORK/m
mkdir -p "$S"
make_pickle "$S/a.pkl"

# ---- names of list items ------------------------------------------------------
if mount_fs "$M" "$S/a.pkl"; then
	rm "$M/l/1" "$M/l/2"
	is "rm l/1 l/2: the items the user named are gone" "$(pyval "$S/a.pkl" "d['l']")" "[10, 40, 50]"
	is "rm l/1 l/2: the other names stay" "$(mlisting "$M/l")" "0 3 4 "
	is "cat l/3 after the removals" "$(cat "$M/l/3")" 40
	echo 2 >/proc/sys/vm/drop_caches
	is "names survive the kernel dropping its caches" "$(mlisting "$M/l")" "0 3 4 "
	check "a new item named one more than the highest name appends" sh -c "echo 60 > '$M/l/5'"
	is "append after removals" "$(pyval "$S/a.pkl" "d['l']")" "[10, 40, 50, 60]"
	is "the appended item's name" "$(mlisting "$M/l")" "0 3 4 5 "
	check "another name is refused at open (EINVAL)" sh -c "! echo 7 > '$M/l/3x' && ! echo 7 > '$M/l/9' 2>&1"
	check "the refusal says Invalid argument" sh -c "echo 7 2>&1 > '$M/l/9' | grep -q 'Invalid argument'"
	is "refused names changed nothing" "$(pyval "$S/a.pkl" "d['l']")" "[10, 40, 50, 60]"
	check "mkdir of the next name appends a dict" mkdir "$M/l/6"
	is "mkdir in a list" "$(pyval "$S/a.pkl" "d['l']")" "[10, 40, 50, 60, {}]"
	rm "$M/k001"
	mv "$M/k003" "$M/kk3"
	is "dict: rm and mv leave the other names in order" "$(mlisting "$M" | cut -d' ' -f1-6)" "l n k000 k002 kk3 k004"
	is "mv kept the value and the position" "$(pyval "$S/a.pkl" "list(d)[2:6]")" "['k000', 'k002', 'kk3', 'k004']"
	umount_fs "$M"
fi
if mount_fs "$M" "$S/a.pkl"; then
	is "a remount names list items 0..n-1 again" "$(mlisting "$M/l")" "0 1 2 3 4 "
	umount_fs "$M"
fi

# ---- open files and removed entries ------------------------------------------
make_pickle "$S/a.pkl"
if mount_fs "$M" "$S/a.pkl"; then
	check "an open file whose sibling is removed writes its own entry" "$PYTHON" - "$M" <<'EOF'
import os, subprocess, sys
m = sys.argv[1]
f = open(os.path.join(m, 'k050'), 'w')
subprocess.run(['rm', os.path.join(m, 'k000')], check=True)
f.write('999')
f.close()
EOF
	is "k050 took the write, k051 did not" "$(pyval "$S/a.pkl" "(d['k050'], d['k051'], 'k000' in d)")" "(999, 51, False)"
	check "an open file whose entry is removed writes nowhere (ESTALE/ENOENT)" "$PYTHON" - "$M" <<'EOF'
import errno, os, subprocess, sys
m = sys.argv[1]
f = open(os.path.join(m, 'k060'), 'w')
subprocess.run(['rm', os.path.join(m, 'k060')], check=True)
f.write('999')
try:
    f.close()
except OSError as e:
    sys.exit(0 if e.errno in (errno.ESTALE, errno.ENOENT) else 'close: %r' % e)
sys.exit('close() returned without an error')
EOF
	is "k060 stays removed, k061 untouched" "$(pyval "$S/a.pkl" "('k060' in d, d['k061'])")" "(False, 61)"
	check "a handle on a removed entry does not write its re-created namesake" "$PYTHON" - "$M" <<'EOF'
import errno, os, subprocess, sys
m = sys.argv[1]
p = os.path.join(m, 'k070')
f = open(p, 'w')
subprocess.run(['rm', p], check=True)
subprocess.run(['sh', '-c', 'echo 7000 > "$1"', 'sh', p], check=True)
f.write('1')
try:
    f.close()
except OSError as e:
    sys.exit(0 if e.errno in (errno.ESTALE, errno.ENOENT) else 'close: %r' % e)
sys.exit('close() returned without an error')
EOF
	is "the re-created k070 keeps its own value" "$(pyval "$S/a.pkl" "d['k070']")" "7000"
	check "rm -r of a list" rm -r "$M/l"
	check "rm -r of a dict holding lists" rm -r "$M/n"
	is "rm -r removed both" "$(pyval "$S/a.pkl" "('l' in d, 'n' in d, len(d))")" "(False, False, 98)"
	umount_fs "$M"
fi

# ---- the source changed from outside ------------------------------------------
make_pickle "$S/a.pkl"
if mount_fs "$M" "$S/a.pkl"; then
	rm "$M/l/1"
	"$PYTHON" -c "import pickle,sys; pickle.dump({'l': [7, 8, 9]}, open(sys.argv[1] + '.new', 'wb')); import os; os.replace(sys.argv[1] + '.new', sys.argv[1])" "$S/a.pkl"
	sleep 1.2
	is "after an outside rewrite, list names are 0..n-1 again" "$(mlisting "$M/l")" "0 1 2 "
	check "an edit after the rewrite applies to the new content" sh -c "echo 80 > '$M/l/1'"
	is "the rewrite's content with the edit" "$(pyval "$S/a.pkl" "d")" "{'l': [7, 80, 9]}"
	umount_fs "$M"
fi

big_pickle() { # big_pickle FILE: 2,000 keys of 5,000 bytes
	"$PYTHON" -c "import pickle,sys; pickle.dump({'k%04d' % i: 'x' * 5000 for i in range(2000)}, open(sys.argv[1], 'wb'), protocol=4)" "$1"
}
big_pickle "$S/b.pkl"
if mount_fs "$M" "$S/b.pkl"; then
	alive=1
	for round in $(seq 10); do
		exec 3<"$M/k1999"
		ls "$M" >/dev/null 2>&1
		if [ $((round % 2)) -eq 1 ]; then
			truncate -s 0 "$S/b.pkl"
		else
			# the usual way Python saves: in place, shorter
			"$PYTHON" -c "import pickle,sys; pickle.dump({'small': 1}, open(sys.argv[1], 'wb'))" "$S/b.pkl"
		fi
		cat "$M/k1999" >/dev/null 2>&1
		head -c 100 <&3 >/dev/null 2>&1
		ls "$M" >/dev/null 2>&1
		grep -r x "$M" >/dev/null 2>&1
		exec 3<&-
		kill -0 "$MPID" 2>/dev/null || alive=0
		big_pickle "$S/b.pkl"
		sleep 1.1
	done
	is "the daemon survived 10 truncations and in-place rewrites" "$alive" 1
	is "and shows the file as it is now" "$(ls "$M" | wc -l)" 2000
	# an edit right after an in-place rewrite applies to the new content
	# (a new key there, or ESTALE for the old entry): never the old tree
	"$PYTHON" -c "import pickle,sys; pickle.dump({'small': 1}, open(sys.argv[1], 'wb'))" "$S/b.pkl"
	echo y >"$M/k0001" 2>/dev/null
	is "an edit after an in-place rewrite keeps the rewrite" "$(pyval "$S/b.pkl" "d['small'] == 1 and set(d) <= {'small', 'k0001'}")" "True"
	umount_fs "$M"
fi

echo "identity: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
