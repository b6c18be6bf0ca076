#!/bin/bash
# chan-ivshmem.sh KERNEL - TAP: libkipc channels between VMs and the host
# over ivshmem doorbells (docs/chan.md "Wake-ups across VMs", "Peers that
# die"): a kipc-ivshmem-server (8 MiB, 2 vectors), two guests (each --smp
# 1) and host programs, all with kipc-chan(1).  100 MiB streams compared
# by SHA-256: guest A -> host, host -> guest B and B -> A, all three at
# once; pub/sub from the host to 3 receivers (A, B, a host program); then
# deaths: B kills its senders to A and to the host (processes of a VM
# that keeps running: judged by their heartbeat), and A's VM powers off
# in the middle of streams to the host (the server's "peer left") and to
# B (the heartbeat).  Every receiver must end with EOWNERDEAD within a
# bound, timed on the host's clock: each guest console line is stamped
# as it arrives.  Guest halves: chan-ivshmem.guest.
top=$(cd "$(dirname "$0")/../.." && pwd)
k=${1:-6.1}
srv=$top/build/user/tools/kipc-ivshmem-server
chan=$top/build/user/tools/kipc-chan
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kipc-chanivs.XXXXXX")
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$tmp"' EXIT
rel=$("$top/scripts/kver.sh" "$k")
case $rel in
*-kipc-debug|*-kipc-kcsan)
	# as tests/rig/ivshmem-pair.sh: two sanitizer guests would double the lane
	echo "1..1"
	echo "ok 1 - channels between VMs # SKIP Debian's kernels only"
	exit 0 ;;
esac
echo "1..14"
n=0
check() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; fi; }
M=1048576
BIG=104857600
head -c $M /dev/urandom >"$tmp/in"
"$srv" -F -v -S "$tmp/sock" -m "$tmp" -l 8M -n 2 2>"$tmp/srv.log" &
pids+=("$!")
for _ in $(seq 50); do [ -S "$tmp/sock" ] && break; sleep 0.1; done
h="ivshmem-host:$tmp/sock"
# Two host programs first (each its own server connection, eventfds as
# doorbells), at 7.5 MiB.
"$chan" -c -S 4000 -n 16 recv "$h@7864320" >"$tmp/hh" 2>"$tmp/hh.err" &
hh=$!
"$chan" -w 10000 send "$h@7864320" <"$tmp/in" 2>>"$tmp/hh.err"
hhs=$?
wait "$hh"
hhr=$?
check "host program -> host program: 1 MiB byte-exact (exit $hhs, $hhr)" \
	'[ $hhs = 0 ] && [ $hhr = 0 ] && cmp -s "$tmp/in" "$tmp/hh"'
# end NAME: record when a host program ends (its exit status, our clock)
end() { echo "$? $EPOCHREALTIME" >"$tmp/$1.end"; }
# The host creates the channels it takes part in before the guests boot.
# Streams and pub/sub judge peers with a 30 s heartbeat bound (as in
# chan-ivshmem.guest: a TCG guest on a loaded host can stall for 2 s);
# the death checks (r2, r6 and the guests' receivers) keep the default.
w="$chan -w 300000"
lb="env KIPC_CHAN_HEARTBEAT_MS=30000"
($lb "$chan" -c -S 65536 -n 8 recv "$h@0" 2>"$tmp/r0.err" | sha256sum >"$tmp/r0.sum") &
pids+=("$!")
(head -c $BIG /dev/urandom | tee >(sha256sum >"$tmp/s1.sum") |
	$lb "$chan" -c -S 65536 -n 8 send "$h@$M" 2>"$tmp/s1.err"; end s1) &
pids+=("$!")
("$chan" -c -S 4000 -n 16 recv "$h@$((2 * M))" >"$tmp/dead" 2>"$tmp/r2.err"; end r2) &
pids+=("$!")
(head -c $((4 * M)) /dev/urandom | tee >(sha256sum >"$tmp/pub.sum") |
	$lb $w -c -s spmc -P 3 -r 3 -S 4096 -n 16 send "$h@$((4 * M))" 2>"$tmp/pub.err"; end pub) &
pids+=("$!")
sleep 0.3
($lb $w recv "$h@$((4 * M))" 2>"$tmp/pubh.err" | tee >(wc -c >"$tmp/pubh.count") |
	sha256sum >"$tmp/pubh.sum") &
pids+=("$!")
("$chan" -c -S 4000 -n 16 recv "$h@$((6 * M))" >"$tmp/o6" 2>"$tmp/r6.err"; end r6) &
pids+=("$!")
sleep 0.5
# guest NAME: boot it; each console line stamped with our clock on arrival
guest() {
	"$top/vm/run" --kernel "$k" --smp 1 --timeout 500 \
		--ivshmem-doorbell "$tmp/sock:2" \
		--add "$top/tests/rig/chan-ivshmem.guest:/root/chan" -- sh /root/chan "$1" \
		2>"$tmp/$1.err" | while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done >"$tmp/$1"
	return "${PIPESTATUS[0]}"
}
guest B &
b=$!
pids+=("$b")
guest A
arc=$?
a_end=$EPOCHREALTIME
wait "$b"
brc=$?
# the hosts programs that wait for A's or B's deaths: at most 20 s more
for _ in $(seq 200); do
	[ -e "$tmp/r2.end" ] && [ -e "$tmp/r6.end" ] && break
	sleep 0.1
done
sleep 0.2
has() { grep -qF "CHAN ok $2" "$tmp/$1"; }
# stamp G TEXT: our clock when guest G printed the line holding TEXT
stamp() { grep -F "$2" "$tmp/$1" | head -n 1 | cut -d' ' -f1; }
# sumof G NAME: "SHA BYTES" of a "CHAN sum NAME" line
sumof() { grep -F "CHAN sum $2 " "$tmp/$1" | head -n 1 | awk '{ print $5, $6 }'; }
# ms T0 T1: milliseconds from T0 to T1 (EPOCHREALTIME stamps), or "none"
ms() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }' || echo none; }
endrc() { cut -d' ' -f1 "$tmp/$1.end" 2>/dev/null || echo none; }
endat() { cut -d' ' -f2 "$tmp/$1.end" 2>/dev/null; }
sum_a_host=$(sumof A A-host)
sum_host_b=$(sumof B host-B)
sum_b_a=$(sumof B B-A)
sum_b_a_got=$(sumof A B-A)
r0=$(cut -d' ' -f1 "$tmp/r0.sum")
s1=$(cut -d' ' -f1 "$tmp/s1.sum")
pub=$(cut -d' ' -f1 "$tmp/pub.sum")
check "guest A -> host: 100 MiB, SHA-256 equal (A sent ${sum_a_host% *})" \
	'[ -n "$r0" ] && [ "$sum_a_host" = "$r0 $BIG" ]'
check "host -> guest B: 100 MiB, SHA-256 equal (host sender exit $(endrc s1))" \
	'[ "$(endrc s1)" = 0 ] && [ -n "$s1" ] && [ "$sum_host_b" = "$s1 $BIG" ]'
check "guest B -> guest A: 100 MiB, SHA-256 equal" \
	'[ "${sum_b_a#* }" = $BIG ] && [ "$sum_b_a" = "$sum_b_a_got" ]'
check "pub/sub, 3 receivers (A, B, host): each got all 1024 messages, SHA-256 equal (publisher exit $(endrc pub))" \
	'[ "$(endrc pub)" = 0 ] && [ -n "$pub" ] && [ "$(sumof A pub-A)" = "$pub $((4 * M))" ] &&
	 [ "$(sumof B pub-B)" = "$pub $((4 * M))" ] &&
	 [ "$(cut -d" " -f1 "$tmp/pubh.sum") $(cat "$tmp/pubh.count")" = "$pub $((4 * M))" ]'
check "guest B ended cleanly (vm/run $brc; A powers off: $arc)" '[ $brc = 0 ]'
kill_at=$(stamp B "CHAN mark B kills its senders")
ms_ba=$(ms "$kill_at" "$(stamp A "CHAN ok A saw B's killed sender die")")
ms_bh=$(ms "$kill_at" "$(endat r6)")
check "a process killed in guest B (B runs on): its receiver in guest A gets EOWNERDEAD (heartbeat; ${ms_ba} ms)" \
	'has A "A saw B'"'"'s killed sender die" && [ "$ms_ba" != none ] && [ "$ms_ba" -lt 10000 ]'
check "... and its receiver on the host gets EOWNERDEAD (heartbeat; ${ms_bh} ms; exit $(endrc r6))" \
	'[ "$(endrc r6)" = 1 ] && grep -q died "$tmp/r6.err" && [ "$(stat -c %s "$tmp/o6")" = 4000 ] &&
	 [ "$ms_bh" != none ] && [ "$ms_bh" -lt 10000 ]'
# A's death: its last line (poweroff -f follows at once)
off_at=$(stamp A "CHAN mark A powers off")
ms_ah=$(ms "$off_at" "$(endat r2)")
ms_ab=$(ms "$off_at" "$(stamp B "CHAN mark B's receiver of A ended")")
check "A powered off mid-stream: the host receiver got its first message" \
	'has A "A powers off" && [ "$(stat -c %s "$tmp/dead")" = 4000 ]'
check "... and ended with EOWNERDEAD (exit $(endrc r2): $(tr '\n' ' ' <"$tmp/r2.err"))" \
	'[ "$(endrc r2)" = 1 ] && grep -q "died" "$tmp/r2.err"'
check "... within 10 s of the guest's end (server's peer left; ${ms_ah} ms after A's last line, $(ms "$a_end" "$(endat r2)") ms after vm/run returned)" \
	'[ "$ms_ah" != none ] && [ "$ms_ah" -lt 10000 ]'
check "A's VM off: its receiver in guest B gets EOWNERDEAD (heartbeat; ${ms_ab} ms after A's last line)" \
	'has B "B saw A'"'"'s VM die" && [ "$ms_ab" != none ] && [ "$ms_ab" -lt 10000 ]'
check "no guest step failed (no \"CHAN fail\" line)" '! grep -q "CHAN fail" "$tmp/A" "$tmp/B"'
check "no host program reported trouble" \
	'! grep -v "died\|Owner died" "$tmp/r0.err" "$tmp/s1.err" "$tmp/pub.err" "$tmp/pubh.err" | grep -q .'
for g in A B; do
	grep -h "CHAN" "$tmp/$g" | sed "s/^/# $g: /"
	if grep -q "CHAN fail" "$tmp/$g" || ! grep -q "CHAN ok" "$tmp/$g"; then
		grep -v "CHAN" "$tmp/$g" | sed "s/^/# $g out: /" | tail -n 15
		sed "s/^/# $g err: /" "$tmp/$g.err" | tail -n 15
	fi
done
echo "# 100 MiB streams: A $(ms "$(stamp A "CHAN mark A starts")" "$(stamp A "CHAN ok A streams done")") ms, B $(ms "$(stamp B "CHAN mark B starts")" "$(stamp B "CHAN ok B streams done")") ms from each guest's start"
for e in hh r0 s1 r2 pub pubh r6; do sed "s/^/# host $e: /" "$tmp/$e.err"; done
echo "# took ${SECONDS} s"
