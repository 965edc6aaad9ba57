# scripts/bench-lib.sh - what the benchmarks (scripts/bench-*.sh) share:
# timing, taking the best run, formatting figures and ratios, waiting for
# a mount at $MNT. Sourced, never run; a script that needs another form
# of a helper defines its own after sourcing this.

best() { sort -g | head -n 1; }          # the least of the numbers on stdin
now() { date +%s.%N; }                   # seconds since the epoch
since() { echo "$(now) - $1" | bc -l; }  # seconds since $1 (a now)
ratio() { echo "$1 / $2" | bc -l; }
mb() { echo "$1 / 1000000" | bc; }       # bytes as whole MB
ms() { printf '%.1f ms' "$(echo "$1 * 1000" | bc -l)"; }
s3() { printf '%.3f s' "$1"; }
# "N.Nx faster" when $1 (the reference's time) >= $2 (ours), else slower
x() { if [ "$(echo "$1 >= $2" | bc)" = 1 ]; then printf '%.1fx faster' "$(ratio "$1" "$2")"; else printf '%.1fx slower' "$(ratio "$2" "$1")"; fi; }
# "met" when $1 >= $2
met() { if [ "$(echo "$1 >= $2" | bc -l)" = 1 ]; then echo met; else echo "not met"; fi; }
# waits up to 60 s for $MNT to be a mount point; unmounts it and waits
wait_mounted() { local i; for i in $(seq 6000); do mountpoint -q "$MNT" && return 0; sleep 0.01; done; return 1; }
unmount() { fusermount3 -u "$MNT"; local i; for i in $(seq 500); do mountpoint -q "$MNT" || return 0; sleep 0.01; done; }
