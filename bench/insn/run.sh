#!/bin/bash
# bench/insn/run.sh - count the instructions of the message slot's 128-byte
# write+read against a pipe's (and through io_uring), kernel and user
# space, per function.
#
# Usage: bench/insn/run.sh [--kernel K] [--out DIR] [-n ITERS]
# (the io_uring loop runs ITERS/8 times: each is 32 pairs)
# Boots one 1-vCPU guest under TCG with bench/insn/insn-plugin.so (QEMU's
# -plugin), runs insn-loop there and maps the counted blocks to the guest's
# /proc/kallsyms (same boot). Writes DIR/insn.md (default build/bench) and
# prints it. Deterministic up to interrupts (the median hides them): unlike
# the timed benchmarks, these counts do not depend on the host's load.
# Needs TCG (a plugin cannot see KVM's execution) and make all.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
kernel=6.1 out=$top/build/bench iters=2000
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	-n) iters=$2; shift 2 ;;
	-h|--help) sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) echo "bench/insn/run.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
done
plugin=$top/build/user/bench/insn-plugin.so
loop=$top/build/user/bench/insn-loop
for f in "$plugin" "$loop"; do
	[ -e "$f" ] || { echo "bench/insn/run.sh: $f missing (make all)" >&2; exit 1; }
done
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
KIPC_ACCEL=tcg "$top/vm/run" --kernel "$kernel" --smp 1 --load \
	--qemu-arg -plugin --qemu-arg "$plugin,out=$tmp/plugin.out" \
	--add "$loop:/root/insn-loop" -- sh -c \
	"[ -e /dev/slot0 ] || mknod /dev/slot0 c 235 0; \
	 ./insn-loop -n $iters /dev/slot0 && echo KALLSYMS && \
	 grep ' [tT] ' /proc/kallsyms" >"$tmp/guest.out"
rel=$("$top/scripts/kver.sh" "$kernel")
sed -n '/^KALLSYMS/,$p' "$tmp/guest.out" | tr -d '\r' |
	awk 'NF >= 3 && $1 ~ /^[0-9a-f]+$/ {
		print $1, "S", $3 ($4 == "" ? "" : " " $4) }' >"$tmp/syms"
[ -s "$tmp/syms" ] || { echo "bench/insn/run.sh: no kallsyms from the guest" >&2;
	cat "$tmp/guest.out" >&2; exit 1; }
grep '^exp ' "$tmp/plugin.out" >"$tmp/exps" || true
[ "$(wc -l <"$tmp/exps")" = 10 ] || { echo "bench/insn/run.sh: expected 10 experiments" >&2;
	cat "$tmp/plugin.out" "$tmp/guest.out" >&2; exit 1; }
awk '$1 == "prof" { print $3, "P", $2, $4 }' "$tmp/plugin.out" >"$tmp/prof"
# One merge by address (16 hex digits sort as strings): each block belongs
# to the last symbol at or below it; user-space blocks come before any.
LC_ALL=C sort -k1,1 -k2,2r "$tmp/syms" "$tmp/prof" |
	awk '$2 == "S" { $1 = $2 = ""; cur = substr($0, 3); next }
	     { f = (cur == "" || $1 !~ /^ffff/) ? "[user space]" : cur
	       sum[$3 "\t" f] += $4 }
	     END { for (k in sum) print k "\t" sum[k] }' >"$tmp/byfn"
name=(x slot pipe null uring write wview read view poll vchg)
{
	echo "Instructions per iteration (median of $iters; guest $rel, 1 vCPU, TCG plugin):"
	echo
	echo "| loop | what | median | min | p90 | blocks |"
	echo "| --- | --- | ---: | ---: | ---: | ---: |"
	while read -r _ n _ it _ min _ med _ p90 _ blk; do
		case $n in
		1) what="128 B write(2)+read(2), message slot" ;;
		2) what="128 B write(2)+read(2), pipe" ;;
		3) what="two getppid(2): the system calls alone" ;;
		4) what="32 write+read pairs in one io_uring_enter, message slot" ;;
		5) what="128 B write(2), slot channel without a view" ;;
		6) what="128 B write(2), slot channel with a mapped view (slot view)" ;;
		7) what="128 B read(2), message slot" ;;
		8) what="128 B read through the slot view (kipc_slot_view_read)" ;;
		9) what="poll(2), zero timeout, message slot" ;;
		10) what="\"changed?\" through the slot view (kipc_slot_view_changed)" ;;
		esac
		echo "| ${name[$n]} | $what | $med | $min | $p90 | $blk |"
	done <"$tmp/exps"
	med=$(awk '$2 == 4 { print $8 }' "$tmp/exps")
	blk=$(awk '$2 == 4 { print $12 }' "$tmp/exps")
	[ -z "$med" ] || echo "| uring/32 | the same, per pair | $((med / 32)) | | | $((blk / 32)) |"
	# the slot view's targets (issue "read-only mapped views"), in
	# instructions: what a view read and a "changed?" cost against the
	# system calls they replace, and what a view adds to every writer
	m() { awk -v n="$1" '$2 == n { print $8 }' "$tmp/exps"; }
	echo
	echo "| slot view ratio (instructions) | value | target |"
	echo "| --- | ---: | ---: |"
	awk -v w="$(m 5)" -v wv="$(m 6)" -v r="$(m 7)" -v v="$(m 8)" \
	    -v p="$(m 9)" -v c="$(m 10)" -v pipe="$(m 2)" 'BEGIN {
		printf "| slot view read / read(2), 128 B | %.3f | <= 0.05 |\n", v / r
		printf "| slot view changed? / poll(2) zero timeout | %.3f | <= 0.05 |\n", c / p
		printf "| write(2) + slot view read / pipe write+read, 128 B | %.3f | <= 0.6 |\n", (wv + v) / pipe
		printf "| write(2) with a mapped slot view / without | %.3f | <= 1.1 |\n", wv / w
	}'
	for n in 1 2 4 6; do
		it=$(awk -v n=$n '$2 == n { print $4 }' "$tmp/exps")
		echo
		per=; [ "$n" = 4 ] && per=", 32 pairs"
		echo "Top functions, ${name[$n]} (instructions per iteration$per):"
		echo
		echo "| function | insns/iter |"
		echo "| --- | ---: |"
		awk -F'\t' -v n=$n -v it="$it" '$1 == n {
			printf "| %s | %.1f |\n", $2, $3 / it }' "$tmp/byfn" |
			sort -t'|' -k3,3 -g -r | head -25
	done
} >"$out/insn.md"
cat "$out/insn.md"
