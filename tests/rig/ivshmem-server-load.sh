#!/bin/bash
# ivshmem-server-load.sh - TAP tests of kipc-ivshmem-server under hostile
# and heavy load, on the host (no module, no guest).  The server runs as an
# unprivileged user with a 1024 soft RLIMIT_NOFILE, as the README and the
# man page show it (root would not see ETOOMANYREFS: CAP_SYS_ADMIN lifts the
# limit on descriptors in flight); the clients (build/user/rig/ivshmem-clients)
# run as a second unprivileged user.  Issue 26 items 1-3:
#   1. clients that never read must not get a prompt reader dropped (they
#      used to fill the server user's in-flight descriptor budget, and
#      sendmsg's ETOOMANYREFS dropped whoever was being sent to);
#   2. clients that never read must not get a newcomer with a big setup
#      dropped (the old global budget of dup'ed queued descriptors);
#   3. 64 peers x 8 vectors joining, leaving and joining again while some
#      read slowly or never: every prompt reader stays, its peer list is
#      exact, the server's descriptors return to their baseline;
# and -U (peers per user, SO_PEERCRED): a user's extra connection is
# refused, another user still gets in.
# KIPC_IVSHMEM_LOAD_SECONDS sets how long the churn of 3 runs (default 3;
# `make check-ivshmem-load` runs it for 60).
# Independent of the kernel: with KIPC_RIG_KERNEL_ONLY=1 it skips itself.
top=$(cd "$(dirname "$0")/../.." && pwd)
srv=${KIPC_IVSHMEM_SERVER:-$top/build/user/tools/kipc-ivshmem-server}
clients=$top/build/user/rig/ivshmem-clients
secs=${KIPC_IVSHMEM_LOAD_SECONDS:-3}
plan=11
echo "1..$plan"
skip_all() {
	for i in $(seq $plan); do echo "ok $i - server load test $i # SKIP $1"; done
	exit 0
}
[ "${KIPC_RIG_KERNEL_ONLY:-0}" = 1 ] && skip_all "kernel-independent, checked with the first kernel"
[ "$(id -u)" = 0 ] || skip_all "needs root to run the server and clients as other users (setpriv)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kipc-ivsload.XXXXXX")
chmod 0777 "$tmp"
# Users of this run only: in-flight descriptors are counted per user.
suid=$((3000000 + $$)) cuid=$((4000000 + $$))
spid=
cleanup() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
n=0
check() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; fi; }
sock=$tmp/sock

# start_server ARGS...: the server as user $suid, RLIMIT_NOFILE 1024 soft
start_server() {
	: >"$tmp/srv.log"
	prlimit --nofile=1024:4096 setpriv --reuid=$suid --regid=$suid --clear-groups \
		sh -c 'umask 0; exec "$@"' sh "$srv" -F -v -S "$sock" -m "$tmp" -l 1M "$@" \
		2>>"$tmp/srv.log" &
	spid=$!
	for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
	base=$(fds)
}
stop_server() {
	kill -TERM "$spid" 2>/dev/null
	wait "$spid"
	spid=
}
fds() { ls "/proc/$spid/fd" 2>/dev/null | wc -l; }
# run_clients ARGS...: ivshmem-clients as user $cuid; output in $out, status $crc
run_clients() {
	out=$(prlimit --nofile=1024:4096 setpriv --reuid=$cuid --regid=$cuid --clear-groups \
		"$clients" -S "$sock" "$@" 2>&1)
	crc=$?
	sed 's/^/# /' <<<"$out" | sed 's/^# # /# /'
	sleep 0.3	# the server sees the last leaves
}

# ---- 1: never readers vs a prompt reader (ETOOMANYREFS) ----
start_server -n 2 -P 64
run_clients -n 2 -x 23 -p 1 -c 8 -t "$secs" -i 100
check "23 never-reading connections: no prompt reader dropped, peer lists exact" \
	'[ $crc = 0 ] && grep -q "dropped by the server: 0 prompt, 0 churn" <<<"$out"'
check "... no sendmsg failed with ETOOMANYREFS" \
	'! grep -q "Too many references" "$tmp/srv.log"'
check "... the server's descriptors are back to $base" '[ "$(fds)" = "$base" ]'
stop_server

# ---- 2: never readers vs newcomers with big setups ----
start_server -n 8 -P 64
run_clients -n 8 -x 10 -p 40 -c 4 -t "$secs" -i 300
check "10 never readers, then 40 prompt readers x 8 vectors: none of those dropped" \
	'[ $crc = 0 ] && grep -q "dropped by the server: 0 prompt, 0 churn" <<<"$out"'
check "... the server's descriptors are back to $base" '[ "$(fds)" = "$base" ]'
stop_server

# ---- 3: the load test ----
start_server -n 8 -P 64
run_clients -n 8 -x 8 -s 8 -p 16 -c 32 -t "$secs" -i 200 -r
check "64 peers x 8 vectors churning ${secs}s, 8 slow and 8 never readers: every prompt reader stays" \
	'grep -q "dropped by the server: 0 prompt, 0 churn" <<<"$out" && grep -q " 0 protocol errors" <<<"$out"'
check "... every prompt reader's peer list is exact at the end" \
	'[ $crc = 0 ] && grep -q "with a wrong peer list" <<<"$out" && grep -q ", 0 with a wrong peer list" <<<"$out"'
check "... the server's descriptors are back to $base" '[ "$(fds)" = "$base" ]'
stop_server
check "... and it logged nothing but joins, leaves and its start and stop" \
	'! grep -v -e "joined" -e "left (" -e "serving " -e "each client:" -e "signal 15" "$tmp/srv.log" | grep -q .'
# ---- -U: peers per user ----
start_server -n 1 -P 8 -U 2
prlimit --nofile=1024:4096 setpriv --reuid=$cuid --regid=$cuid --clear-groups \
	"$clients" -S "$sock" -n 1 -x 3 -t 3 >"$tmp/u.out" 2>&1 &
upid=$!
sleep 1
out=$(prlimit --nofile=1024:4096 setpriv --reuid=$((cuid + 1)) --regid=$((cuid + 1)) --clear-groups \
	"$clients" -S "$sock" -n 1 -p 1 -t 1 -o 2 2>&1)
wait $upid
sed 's/^/# /' <<<"$out"
check "-U 2: a user's third connection is closed at once (and logged)" \
	'grep -q "dropped by the server: 0 prompt, 0 churn, 0 slow, 1 never" "$tmp/u.out" && grep -q "refused a client of uid $cuid: 2 peers" "$tmp/srv.log"'
# (its setup: version, id, memory, the 2 others' vectors, its own = 6)
check "... while another user's client still joins and reads its setup (6 messages)" \
	'grep -q "dropped by the server: 0 prompt" <<<"$out" && grep -q "1 connections made, 6 messages read, 0 protocol errors" <<<"$out" &&
	 grep -q "1 readers connected at the end, 0 with a wrong peer list" <<<"$out"'
stop_server
echo "# server log (last lines):"
tail -n 3 "$tmp/srv.log" | sed 's/^/#   /'
