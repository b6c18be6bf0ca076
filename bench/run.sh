#!/bin/bash
# bench/run.sh - run kipc's benchmarks in one guest and collect the results.
#
# Usage: bench/run.sh [--kernel K] [--out DIR] [--quick] [AREA...]
#   --kernel K  guest kernel for vm/run (default 6.1)
#   --out DIR   where results go (default build/bench)
#   --quick     few short samples (smoke test; numbers are not meaningful)
#   AREA        msg, channels, shm, kshm, chan, ivshmem (default: all)
# Boots one guest that runs vm/guest/run-bench, streams its progress lines
# to the terminal and splits its CSV rows into DIR/AREA.csv (and
# DIR/all.csv), then calls bench/report.sh DIR for charts and tables.
# The ivshmem area boots two guests of its own afterwards (bench/ivshmem.sh:
# DIR/ivshmem.md).
# Needs the modules and user space built (make bench does that).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

kernel=6.1 out=$top/build/bench quick=
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--quick) quick=--quick; shift ;;
	-h|--help) sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	-*) echo "bench/run.sh: unknown option '$1'" >&2; exit 2 ;;
	*) break ;;
	esac
done

rel=$("$top/scripts/kver.sh" "$kernel")
areas=() ivs=0
for a in "$@"; do
	if [ "$a" = ivshmem ]; then ivs=1; else areas+=("$a"); fi
done
[ $# = 0 ] && ivs=1
if [ $# -gt 0 ] && [ ${#areas[@]} = 0 ]; then
	exec "$top/bench/ivshmem.sh" --kernel "$kernel" --out "$out" $quick
fi
set -- "${areas[@]+"${areas[@]}"}"
mkdir -p "$out"
rm -f "$out"/*.csv "$out"/*.png "$out"/*.md "$out"/*.dat "$out"/run.log
SECONDS=0
load_start=$(cut -d' ' -f1 /proc/loadavg)
echo "bench: booting a $rel guest ($(date -u '+%Y-%m-%d %H:%M UTC'))"

# The guest's stdout and stderr share one serial line: CSV rows have nine
# fields with a number in the sixth; every other line is progress.  (A
# shell loop, not awk: mawk reads a pipe in large blocks, which would hold
# the progress lines back.)
hdr="area,benchmark,mechanism,param,unit,median,p10,p90,samples"
row_re='^[a-z][a-z0-9_-]*,([^,]*,){4}[-0-9.eE+]+,[^,]*,[^,]*,[0-9]+$'
split_stream() {
	local line area
	while IFS= read -r line; do
		line=${line%$'\r'}
		case $line in
		area,benchmark,*) continue ;;
		esac
		if [[ $line =~ $row_re ]]; then
			area=${line%%,*}
			[ -e "$out/$area.csv" ] || echo "$hdr" >"$out/$area.csv"
			[ -e "$out/all.csv" ] || echo "$hdr" >"$out/all.csv"
			echo "$line" >>"$out/$area.csv"
			echo "$line" >>"$out/all.csv"
		else
			printf 'bench [%3ds] %s\n' "$SECONDS" "${line#\# }"
		fi
	done
}
set +e
# A 4 MiB ivshmem-plain device for the shm area's ivshmem rows.
rm -f "$out/ivshmem-plain"
"$top/vm/run" --kernel "$kernel" --timeout 560 \
	--ivshmem-plain "$out/ivshmem-plain:4M" -- run-bench $quick "$@" 2>&1 |
	tee "$out/run.log" | split_stream
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" != 0 ]; then
	echo "bench: the guest run failed (vm/run exit $rc); log: $out/run.log" >&2
	exit 1
fi
[ -s "$out/all.csv" ] || { echo "bench: no results" >&2; exit 1; }
{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "kernel: $rel"
	echo "host: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
		"$(nproc) CPUs"
	sed -n 's/^# env: /guest: /p' "$out/run.log" | head -n 1
	echo "accel: ${KIPC_ACCEL:-$(cat "${TMPDIR:-/tmp}/kipc-kvm-probe.$(cat /proc/sys/kernel/random/boot_id)" 2>/dev/null || echo auto)}"
	echo "mode: ${quick:+quick (smoke test)}${quick:-full}"
	echo "load: $load_start at the start, $(cut -d' ' -f1 /proc/loadavg) at the end (1-minute load average of the $(nproc)-CPU host)"
} >"$out/meta.txt"
"$top/bench/report.sh" "$out"
if [ $ivs = 1 ]; then
	"$top/bench/ivshmem.sh" --kernel "$kernel" --out "$out" $quick ||
		echo "bench: the ivshmem pair failed (see above)" >&2
fi
echo "bench: done in $SECONDS s: $out/ (CSV, PNG, ratios.md, ivshmem.md)"
