# tests/mount/lib.sh - what the mount suites (run.sh and every suite it
# runs) share: their setup (binary, work folder, counters, sanitizer
# options), cleanup on exit (every mount unmounted, every picklefs we
# started stopped, by pid, every small tmpfs unmounted), pass/fail
# counting, mounting and the small checks. A suite sets SUITE (the name
# of its work folder) and sources it; BIN, WORK, PASS, FAIL, MOUNTS, PIDS
# and TMPFS are set here unless the suite set them first.

BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
if [ -z "${BIN:-}" ]; then
	BIN=${PICKLEFS:-$REPO/$BUILD/asan/picklefs}
	case "$BUILD" in /*) BIN=${PICKLEFS:-$BUILD/asan/picklefs} ;; esac
fi
PASS=${PASS:-0}
FAIL=${FAIL:-0}
WORK=${WORK:-$(mktemp -d "/tmp/picklefs-${SUITE:-mount}-XXXXXX")}
[ -n "${MOUNTS+x}" ] || MOUNTS=() # mount points we mounted
[ -n "${PIDS+x}" ] || PIDS=()     # processes we started
[ -n "${TMPFS+x}" ] || TMPFS=()   # tmpfs mounts we made (small_tmpfs)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

cleanup() {
	local m p
	for m in "${MOUNTS[@]}"; do
		if mountpoint -q "$m" 2>/dev/null; then
			fusermount3 -u "$m" 2>/dev/null || fusermount3 -u -z "$m" 2>/dev/null
		fi
	done
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	# a daemon we stopped may still hold a file on a tmpfs for a moment
	[ ${#TMPFS[@]} -eq 0 ] || sleep 0.2
	for m in "${TMPFS[@]}"; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# small_tmpfs DIR SIZE: a tmpfs of SIZE on DIR (unmounted at exit)
small_tmpfs() {
	mkdir -p "$1"
	mount -t tmpfs -o "size=$2" tmpfs "$1" || return 1
	TMPFS+=("$1")
}

# need_bin: a suite without the picklefs it tests ends here, failed
need_bin() {
	if [ ! -x "$BIN" ]; then
		echo "FAIL no $BIN"
		echo "$SUITE: 0 passed, 1 failed"
		exit 1
	fi
}

ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $*"; }
check() { # check NAME COMMAND...: passes when the command succeeds
	local name=$1
	shift
	if "$@" >"$WORK/out" 2>&1; then ok; else
		bad "$name: $(head -c 600 "$WORK/out" | tr '\n' ' ')"
	fi
}


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

is() { # is NAME GOT WANT
	if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', expected '$3'"; fi
}
mlisting() { ls -f "$1" | grep -v '^\.\.\?$' | tr '\n' ' '; } # in the mount, in order
