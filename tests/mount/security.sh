#!/usr/bin/env bash
# Security tests: a daemon that can't be turned against its host (README,
# "Security"). picklefs runs as root with -o allow_other over a folder
# SOURCE in which an unprivileged user (made here, pkfs_sec_PID, removed
# on exit) owns a subfolder. The user attacks through the mount and the
# source folder; results are checked as root and with /usr/bin/python3.
#
#   BUILD=build PYTHON=/usr/bin/python3 bash tests/mount/security.sh
#
#   swap        (a) the user swaps a file of their folder for a symlink to
#               a root-only 0600 file: on a -o ro mount (entries cached)
#               between a stat and a cat; on a rw mount in a loop for
#               RACE_SECONDS against a reader (files and a pickle);
#               and their folder for a symlink to a root-only 0700
#               folder under a cwd held in the mount: the secret is never
#               read, the root-only folder never listed
#   plant       (b) the user's edits race with their pickle's folder being
#               swapped for a symlink to a root-only folder (RACE_SECONDS),
#               then the swap stays: nothing appears in the root-only
#               folder, the pickle stays loadable, no temporary file left
#   links       (c) symlinks in SOURCE are symlinks in the mount with their
#               own target text; the kernel follows them with the
#               reader's permissions (EACCES for the user, not for root)
#   owner       (d) the user edits pickles that are user:user 0644,
#               root:user 0660, user:root 0640: owner, group and mode are
#               kept and python loads the new values; a daemon that cannot
#               chown (no CAP_CHOWN) refuses with EPERM and logs the file
#   perms       (e) root-only files, pickles and folders of SOURCE are
#               closed to the user through the mount (default_permissions)
#   file        (f) a file SOURCE in the user's folder swapped for a
#               symlink to a root-only pickle: not read, by root either
#
# RACE_SECONDS (3) is the length of each race, PLANT_PAUSE (0.001) the
# pause between two swaps of the folder in (b); SEC_DEBUG=1 prints the
# daemon's log after (b). The races print their counts (exchanges, reads,
# writes, secrets seen).
#
# Ends with "security: N passed, N failed"; exit 1 when something failed.
# Needs root (useradd, setpriv).
set -u

SUITE=security
. "$(dirname "$0")/lib.sh"
RACE_SECONDS=${RACE_SECONDS:-3}
OPS=$HERE/security_ops.py
U=pkfs_sec_$$

need_bin
if [ "$(id -u)" -ne 0 ]; then
	echo "FAIL security.sh needs root"
	echo "security: 0 passed, 1 failed"
	exit 1
fi

sec_cleanup() {
	local p
	cleanup # lib.sh: unmounts, stops our processes, removes WORK
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	if id "$U" >/dev/null 2>&1; then userdel -f "$U" 2>/dev/null; fi
	if getent group "$U" >/dev/null; then groupdel "$U" 2>/dev/null; fi
}
trap sec_cleanup EXIT
trap 'exit 1' INT TERM

if ! useradd --no-create-home --user-group --shell /usr/sbin/nologin "$U"; then
	echo "FAIL useradd $U"
	echo "security: 0 passed, 1 failed"
	exit 1
fi
UU=$(id -u "$U")
UG=$(id -g "$U")
cd /
# as_user CMD...: runs CMD as the test user, nothing inherited but env
as_user() { setpriv --reuid="$UU" --regid="$UG" --init-groups -- "$@"; }
# user_sh SCRIPT: sh -c SCRIPT as the test user, stderr into stdout
user_sh() { as_user sh -c "$1" 2>&1; }
pyval() { "$PYTHON" -c "import pickle,sys; d=pickle.load(open(sys.argv[1],'rb')); print(repr($2))" "$1" 2>&1; }
owner() { stat -c '%U:%G %a' "$1"; }
mkpkl() { "$PYTHON" "$OPS" pickle "$1" "$2"; } # as root; chown after
# user_put FILE TEXT: the user writes TEXT into FILE; "ok" or the error
user_put() { as_user "$PYTHON" -I "$OPS" put "$1" "$2" 2>&1; }

# ---- the source folder ---------------------------------------------------------
# WORK is 0700 (mktemp): the user must reach SOURCE and the mount points
chmod 0711 "$WORK"
S=$WORK/src
R=$WORK/rootonly # root 0700, outside SOURCE
SECRET=TOPSECRET-$$ # grep for TOPSECRET: a read may be cut to a cached size
PUBLIC=ROOTDIR-PUBLIC-$$
USERTEXT="harmless, the own file of the user, longer than any secret"
mkdir -m 0700 "$R"
printf '%s\n' "$SECRET" >"$R/secret.txt"
chmod 0600 "$R/secret.txt"
mkpkl "$R/secret.pkl" "{'key': '$SECRET-PKL', 'name': 'x'}"
chmod 0600 "$R/secret.pkl"
printf '%s\n' "$PUBLIC" >"$R/public.txt"
chmod 0644 "$R/public.txt"
R_BEFORE=$(ls -A "$R" | tr '\n' ' ')

mkdir -m 0755 "$S" "$S/pub" "$S/pub/u" "$S/links" "$S/own" "$S/own2"
printf '%s\n' "$USERTEXT" >"$S/pub/u/f"
mkpkl "$S/pub/u/a.pkl" "{'key': 1, 'name': 'x'}"
chown -R "$U:$U" "$S/pub"
chmod 0644 "$S/pub/u/f" "$S/pub/u/a.pkl"
ln -s "$R/secret.txt" "$S/links/abs"
ln -s ../pub/u/f "$S/links/rel"
ln -s "$R" "$S/links/dirlink"
printf 'ROOTFILE\n' >"$S/root.txt"
chmod 0600 "$S/root.txt"
mkpkl "$S/root.pkl" "{'key': 5}"
chmod 0600 "$S/root.pkl"
mkpkl "$S/r644.pkl" "{'key': 6}"
chmod 0644 "$S/r644.pkl"
mkdir -m 0700 "$S/rootdir"
printf 'INSIDE\n' >"$S/rootdir/inside.txt"
chmod 0644 "$S/rootdir/inside.txt"
mkpkl "$S/own/d1.pkl" "{'key': 1}"
chown "$U:$U" "$S/own/d1.pkl"
chmod 0644 "$S/own/d1.pkl"
mkpkl "$S/own/d2.pkl" "{'key': 2}"
chown "root:$U" "$S/own/d2.pkl"
chmod 0660 "$S/own/d2.pkl"
mkpkl "$S/own/d3.pkl" "{'key': 3}"
chown "$U:root" "$S/own/d3.pkl"
chmod 0640 "$S/own/d3.pkl"
mkpkl "$S/own2/e.pkl" "{'key': 4}"
chown "$U:$U" "$S/own2/e.pkl"
chmod 0644 "$S/own2/e.pkl"

# the user's folder back to its first state (after a swap)
restore_u() {
	local d=$S/pub/u
	if [ -L "$d" ]; then rm -f "$d"; fi
	if [ -d "$S/pub/u.real" ]; then mv "$S/pub/u.real" "$d"; fi
	rm -f "$d/f" "$d/f.alt" "$d/a.alt"
	printf '%s\n' "$USERTEXT" >"$d/f"
	chown "$U:$U" "$d/f"
}

M=$WORK/m   # rw, allow_other
MR=$WORK/mr # ro, allow_other: entries and attributes cached for 1 s
mount_fs "$M" -o allow_other "$S" || { echo "security: $PASS passed, $FAIL failed"; exit 1; }
MPID_RW=$MPID MLOG_RW=$MLOG
mount_fs "$MR" -o ro,allow_other "$S" || { echo "security: $PASS passed, $FAIL failed"; exit 1; }
MPID_RO=$MPID MLOG_RO=$MLOG
is "the user browses the mount" "$(user_sh "cat '$M/pub/u/f'")" "$USERTEXT"
is "the user reads their pickle" "$(user_sh "cat '$M/pub/u/a.pkl/key'")" 1
is "the user cannot read the secret directly" "$(user_sh "cat '$R/secret.txt'" | grep -c TOPSECRET)" 0

# ---- (a) a file swapped for a symlink to a root-only file ----------------------
out=$(user_sh "stat '$MR/pub/u/f' >/dev/null &&
	ln -s '$R/secret.txt' '$S/pub/u/f.new' && mv -fT '$S/pub/u/f.new' '$S/pub/u/f' &&
	cat '$MR/pub/u/f'")
is "swap: a cached file swapped for a symlink does not read the root-only file" "$(echo "$out" | grep -c TOPSECRET)" 0
restore_u

# a file and a pickle swapped back and forth while the user reads them
ln -s "$R/secret.txt" "$S/pub/u/f.alt"
ln -s "$R/secret.pkl" "$S/pub/u/a.alt"
chown -h "$U:$U" "$S/pub/u/f.alt" "$S/pub/u/a.alt"
as_user "$PYTHON" -I "$OPS" toggle "$RACE_SECONDS" 0 "$S/pub/u/f" "$S/pub/u/f.alt" \
	"$S/pub/u/a.pkl" "$S/pub/u/a.alt" >"$WORK/toggle.a" 2>&1 &
TPID=$!
PIDS+=("$TPID")
race=$(as_user "$PYTHON" -I "$OPS" read "$RACE_SECONDS" TOPSECRET "$M/pub/u/f" "$M/pub/u/a.pkl/key" 2>&1)
wait "$TPID"
echo "swap race ($RACE_SECONDS s): $(cat "$WORK/toggle.a") exchanges; $race"
is "swap race: the reader never got the root-only file or pickle" "$(echo "$race" | sed -n 's/.*secrets \([0-9]*\).*/\1/p')" 0
check "swap race: the reader read the user's files" sh -c "echo '$race' | grep -Eq 'reads [1-9]'"
check "swap race: the swapping ran" grep -Eq '^[1-9][0-9]*$' "$WORK/toggle.a"
restore_u
rm -f "$S/pub/u/a.alt"
is "swap race: the pickle is the user's again" "$(user_sh "cat '$M/pub/u/a.pkl/key'")" 1

# the user's folder swapped for a symlink to a root-only folder, under a
# cwd held in the (cached) mount
out=$(user_sh "cd '$MR/pub/u' && ls . >/dev/null &&
	mv '$S/pub/u' '$S/pub/u.real' && ln -s '$R' '$S/pub/u' &&
	ls -a . ; cat ./public.txt ./secret.txt")
is "swap: a folder swapped under a cwd does not list the root-only folder" "$(echo "$out" | grep -c "secret\.pkl\|public\.txt$")" 0
is "swap: nor read a file in it" "$(echo "$out" | grep -c "ROOTDIR-PUBLIC\|TOPSECRET")" 0
restore_u

# ---- (b) write-back through a folder swapped for a symlink ---------------------
ln -s "$R" "$S/pub/u.alt"
chown -h "$U:$U" "$S/pub/u.alt"
as_user "$PYTHON" -I "$OPS" write "$((RACE_SECONDS + 1))" "$M/pub/u/a.pkl" key "$S/pub/u/a.pkl" >"$WORK/write.b" 2>&1 &
WPID=$!
PIDS+=("$WPID")
sleep 0.5 # the writer holds its cwd in the pickle before the swapping starts
as_user "$PYTHON" -I "$OPS" toggle "$RACE_SECONDS" "${PLANT_PAUSE:-0.001}" "$S/pub/u" "$S/pub/u.alt" >"$WORK/toggle.b" 2>&1
wait "$WPID"
echo "plant race ($RACE_SECONDS s): $(cat "$WORK/toggle.b") exchanges; $(cat "$WORK/write.b")"
is "plant race: nothing new in the root-only folder" "$(ls -A "$R" | tr '\n' ' ')" "$R_BEFORE"
[ -n "${SEC_DEBUG:-}" ] && sort "$MLOG_RW" | uniq -c | sort -rn | head -20
check "plant race: the writer ran" grep -Eq '^ok [1-9][0-9]* refused [0-9]+ pokes [0-9]+$' "$WORK/write.b"
check "plant race: the swapping ran" grep -Eq '^[1-9][0-9]*$' "$WORK/toggle.b"
is "plant race: the user's pickle loads" "$(pyval "$S/pub/u/a.pkl" "type(d['key']).__name__")" "'int'"
is "plant race: no temporary file left in the user's folder" "$(ls -A "$S/pub/u" | grep -c pkfs)" 0
is "plant race: still the user's pickle" "$(owner "$S/pub/u/a.pkl")" "$U:$U 644"
# the swap stays: an edit through the held cwd is refused
out=$(user_sh "cd '$M/pub/u/a.pkl' && mv '$S/pub/u' '$S/pub/u.real' && ln -s '$R' '$S/pub/u' &&
	'$PYTHON' -I '$OPS' put key 77")
is "plant: the edit through a swapped folder is refused" "$(echo "$out" | grep -c '^ok$')" 0
is "plant: nothing in the root-only folder" "$(ls -A "$R" | tr '\n' ' ')" "$R_BEFORE"
rm -f "$S/pub/u.alt"
restore_u
is "plant: the pickle is unchanged" "$(pyval "$S/pub/u/a.pkl" "d['key'] != 77")" True

# ---- (c) symlinks of SOURCE are symlinks, followed with the reader's rights ------
is "links: an absolute symlink is a symlink" "$(stat -c %F "$M/links/abs")" "symbolic link"
is "links: its own target text" "$(readlink "$M/links/abs")" "$R/secret.txt"
is "links: a relative symlink's text" "$(readlink "$M/links/rel")" "../pub/u/f"
is "links: a symlink to a folder's text" "$(readlink "$M/links/dirlink")" "$R"
is "links: the user follows a relative link inside" "$(user_sh "cat '$M/links/rel'")" "$USERTEXT"
out=$(user_sh "cat '$M/links/abs'")
is "links: the user following a link to a root-only file gets EACCES" "$(echo "$out" | grep -c "Permission denied")" 1
is "links: and not the secret" "$(echo "$out" | grep -c TOPSECRET)" 0
out=$(user_sh "ls '$M/links/dirlink/'")
is "links: the user listing a link to a root-only folder gets EACCES" "$(echo "$out" | grep -c "Permission denied")" 1
is "links: root follows the same link (the kernel, with root's rights)" "$(cat "$M/links/abs")" "$SECRET"

# ---- (d) owner, group and mode kept ------------------------------------------------
out=$(user_put "$M/own/d1.pkl/key" 11)
is "owner: the user edits their 0644 pickle" "$out" ok
is "owner: user:user 0644 kept" "$(owner "$S/own/d1.pkl")" "$U:$U 644"
is "owner: the new value loads" "$(pyval "$S/own/d1.pkl" "d['key']")" 11
out=$(user_put "$M/own/d2.pkl/key" 12)
is "owner: the user edits a group-writable root:user 0660 pickle" "$out" ok
is "owner: root:user 0660 kept" "$(owner "$S/own/d2.pkl")" "root:$U 660"
is "owner: its new value loads" "$(pyval "$S/own/d2.pkl" "d['key']")" 12
out=$(user_put "$M/own/d3.pkl/key" 13)
is "owner: the user edits their user:root 0640 pickle" "$out" ok
is "owner: user:root 0640 kept" "$(owner "$S/own/d3.pkl")" "$U:root 640"
is "owner: its new value loads" "$(pyval "$S/own/d3.pkl" "d['key']")" 13
is "owner: no temporary file left" "$(ls -A "$S/own" | grep -c pkfs)" 0

# a daemon without CAP_CHOWN cannot give the new file the user's owner
M2=$WORK/m2
printf '#!/bin/sh\nexec setpriv --bounding-set=-chown -- "%s" "$@"\n' "$BIN" >"$WORK/nochown"
chmod 0755 "$WORK/nochown"
REAL_BIN=$BIN
BIN=$WORK/nochown
if mount_fs "$M2" -o allow_other "$S/own2"; then
	is "owner: without CAP_CHOWN the edit is refused with EPERM" "$(user_put "$M2/e.pkl/key" 14)" "Operation not permitted"
	is "owner: and not written" "$(pyval "$S/own2/e.pkl" "d['key']")" 4
	is "owner: the file keeps its owner and mode" "$(owner "$S/own2/e.pkl")" "$U:$U 644"
	is "owner: no temporary file left" "$(ls -A "$S/own2" | grep -c pkfs)" 0
	check "owner: the log names the file and the reason" grep -q "e.pkl: cannot write back: the new file cannot keep the owner, group and mode of the old one (Operation not permitted)" "$MLOG"
	umount_fs "$M2"
fi
BIN=$REAL_BIN

# ---- (e) the source's permissions hold in the mount --------------------------------
is "perms: a root 0600 file is closed to the user" "$(user_sh "cat '$M/root.txt'" | grep -c "Permission denied")" 1
is "perms: a root 0600 pickle cannot be listed" "$(user_sh "ls '$M/root.pkl'" | grep -c "Permission denied")" 1
is "perms: nor its values read" "$(user_sh "cat '$M/root.pkl/key'" | grep -c "Permission denied")" 1
is "perms: nor edited" "$(user_put "$M/root.pkl/key" 9)" "Permission denied"
is "perms: a root 0700 folder cannot be listed" "$(user_sh "ls '$M/rootdir'" | grep -c "Permission denied")" 1
is "perms: nor a 0644 file in it read" "$(user_sh "cat '$M/rootdir/inside.txt'" | grep -c "Permission denied")" 1
is "perms: a root 0644 pickle is readable" "$(user_sh "cat '$M/r644.pkl/key'")" 6
is "perms: but not writable by the user" "$(user_put "$M/r644.pkl/key" 9)" "Permission denied"
is "perms: the root pickles are unchanged" "$(pyval "$S/root.pkl" "d['key']"),$(pyval "$S/r644.pkl" "d['key']")" 5,6

# ---- (f) a file SOURCE swapped for a symlink ------------------------------------------
MF=$WORK/mf
mkpkl "$S/pub/u/solo.pkl" "{'key': 'mine'}"
chown "$U:$U" "$S/pub/u/solo.pkl"
if mount_fs "$MF" -o allow_other "$S/pub/u/solo.pkl"; then
	is "file SOURCE: the user reads it" "$(user_sh "cat '$MF/key'")" mine
	user_sh "ln -s '$R/secret.pkl' '$S/pub/u/solo.new' && mv -fT '$S/pub/u/solo.new' '$S/pub/u/solo.pkl'" >/dev/null
	sleep 1.2 # the mount looks at its file again after a second
	is "file SOURCE swapped for a symlink: root does not read the file it names" "$(cat "$MF/key" 2>&1 | grep -c TOPSECRET)" 0
	is "file SOURCE swapped for a symlink: nor does the user" "$(user_sh "cat '$MF/key'" | grep -c TOPSECRET)" 0
	umount_fs "$MF"
fi
rm -f "$S/pub/u/solo.pkl"

# ---- unmount: both daemons exit 0, no sanitizer report -----------------------------
MPID=$MPID_RW MLOG=$MLOG_RW umount_fs "$M"
MPID=$MPID_RO MLOG=$MLOG_RO umount_fs "$MR"

echo "security: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
