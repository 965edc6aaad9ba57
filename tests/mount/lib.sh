# tests/mount/lib.sh - mounting and unmounting picklefs in the mount
# suites (sourced by run.sh and write.sh). Uses the caller's BIN, WORK,
# PIDS, MOUNTS and its ok / bad counters.

# mount_fs MOUNTPOINT ARGS... : starts picklefs -f in the background and
# waits for the mount. Sets MPID and MLOG.
mount_fs() {
	local mp=$1
	shift
	mkdir -p "$mp"
	MLOG="$WORK/log.$(basename "$mp")"
	"$BIN" -f "$@" "$mp" 2>>"$MLOG" &
	MPID=$!
	PIDS+=("$MPID")
	MOUNTS+=("$mp")
	local i
	for i in $(seq 200); do
		if mountpoint -q "$mp"; then return 0; fi
		if ! kill -0 "$MPID" 2>/dev/null; then break; fi
		sleep 0.05
	done
	bad "mount $*: did not mount ($(head -c 300 "$MLOG"))"
	return 1
}

# umount_fs MOUNTPOINT: unmounts, waits for picklefs to exit, checks its
# exit status and its log for sanitizer reports.
umount_fs() {
	local mp=$1 rc i
	for i in $(seq 50); do
		fusermount3 -u "$mp" 2>/dev/null && break
		sleep 0.1
	done
	wait "$MPID"
	rc=$?
	if [ "$rc" -ne 0 ]; then bad "picklefs on $mp exited $rc: $(tail -c 300 "$MLOG" | tr '\n' ' ')"; else ok; fi
	if grep -q "AddressSanitizer\|LeakSanitizer\|runtime error" "$MLOG"; then
		bad "sanitizer report on $mp: $(grep -m3 "Sanitizer\|runtime error" "$MLOG" | tr '\n' ' ')"
	else ok; fi
}
