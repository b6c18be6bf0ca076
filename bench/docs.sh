#!/bin/bash
# bench/docs.sh - put the last `make bench` results into docs/benchmarks.md.
#
# Usage: bench/docs.sh [DIR]     (default build/bench)
# Copies DIR's charts and its CSV (as results.csv) to docs/bench/, and
# replaces the text between the
# "<!-- BEGIN RESULTS" and "<!-- END RESULTS" lines of docs/benchmarks.md
# with the tables and charts (bench/report.sh's results.md, with image links
# relative to docs/).  The hand-written analysis around them stays.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/build/bench}
doc=$top/docs/benchmarks.md
[ -s "$dir/all.csv" ] || { echo "bench/docs.sh: no results in $dir (run make bench)" >&2; exit 1; }
if ! grep -q '^<!-- BEGIN RESULTS' "$doc" || ! grep -q '^<!-- END RESULTS' "$doc"; then
	echo "bench/docs.sh: $doc has no RESULTS markers" >&2
	exit 1
fi

BENCH_IMG_PREFIX=bench "$top/bench/report.sh" "$dir" >/dev/null
out=$top/docs/bench
mkdir -p "$out"
# Only the charts report.sh makes (docs/bench holds others' files too).
for c in msg-write-read msg-pingpong-1cpu msg-pingpong-2cpu channels \
	shm-memcpy shm-first-touch shm-transfer shm-mutex kshm-cycle; do
	rm -f "$out/$c.png"
	[ -e "$dir/$c.png" ] && cp "$dir/$c.png" "$out/"
done
cp "$dir/all.csv" "$out/results.csv"
awk -v frag="$dir/results.md" '
/^<!-- BEGIN RESULTS/ { print; while ((getline l < frag) > 0) print l; skip = 1; next }
/^<!-- END RESULTS/ { skip = 0 }
!skip' "$doc" >"$doc.tmp"
mv "$doc.tmp" "$doc"
echo "bench: updated docs/benchmarks.md and docs/bench/ (charts, results.csv)"
