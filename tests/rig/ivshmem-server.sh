#!/bin/bash
# ivshmem-server.sh - TAP tests of kipc-ivshmem-server, run on the host
# (no module, no guest kernel): options, the protocol as QEMU's
# ivshmem-doorbell device and libkipc's host peer (kipc-ivshmem) see it,
# hostile clients (garbage, death mid-handshake, never reading, many at
# once), descriptor leaks, shutdown by signal, daemon mode.
# Independent of the kernel: with KIPC_RIG_KERNEL_ONLY=1 it skips itself.
top=$(cd "$(dirname "$0")/../.." && pwd)
srv=$top/build/user/tools/kipc-ivshmem-server
peer=$top/build/user/tools/kipc-ivshmem
clients=$top/build/user/rig/ivshmem-clients
plan=24
echo "1..$plan"
if [ "${KIPC_RIG_KERNEL_ONLY:-0}" = 1 ]; then
	for i in $(seq $plan); do
		echo "ok $i - server test $i # SKIP kernel-independent, checked with the first kernel"
	done
	exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kipc-ivsrv.XXXXXX")
shm=kipc-rig-$$
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
	rm -f "/dev/shm/$shm" "/dev/shm/$shm-2"
}
trap cleanup EXIT
n=0
check() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; fi; }
sock=$tmp/sock

# start_server ARGS...: foreground server on $sock, pid in $spid
start_server() {
	"$srv" -F -v -S "$sock" "$@" 2>>"$tmp/srv.log" &
	spid=$!
	pids+=("$spid")
	for _ in $(seq 50); do [ -S "$sock" ] && return 0; sleep 0.1; done
	return 1
}
stop_server() {
	kill -TERM "$spid" 2>/dev/null
	wait "$spid"
}
fds() { ls "/proc/$spid/fd" 2>/dev/null | wc -l; }
# perl client: connect, then ACTION (garbage | half | hold SECONDS)
pclient() {
	perl -MSocket -e '
		my ($path, $act, $arg) = @ARGV;
		socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die "socket: $!";
		connect($s, pack_sockaddr_un($path)) or die "connect: $!";
		if ($act eq "garbage") { syswrite($s, "\xde\xad\xbe\xef" x 64); sleep 1; }
		elsif ($act eq "half") { my $b; sysread($s, $b, 8); exit 0; }
		elsif ($act eq "hold") { sleep $arg; }' "$sock" "$@"
}

# ---- options ----
"$srv" --help >"$tmp/out" 2>&1
check "--help exits 0 and lists the QEMU options" \
	'[ $? = 0 ] && grep -q -- "-S, --socket-path" "$tmp/out" && grep -q -- "-l, --size" "$tmp/out"'
out=$("$srv" --version)
check "--version" '[ $? = 0 ] && [[ $out == kipc-ivshmem-server* ]]'
bad=0
for a in "-l 0" "-l 3X" "-l -4M" "-l 2T" "-n 0" "-n 65" "-v" "-F -P 0" "-F --bogus" \
	"-F -M a/b" "-F -M x -m /tmp" "-F extra" "-F -U 0"; do
	# shellcheck disable=SC2086
	"$srv" -S "$tmp/never" $a >/dev/null 2>"$tmp/err"
	rc=$?
	if [ $rc != 2 ] || [ ! -s "$tmp/err" ] || [ -e "$tmp/never" ]; then
		echo "# '$a': exit $rc, $(cat "$tmp/err")"
		bad=1
	fi
done
check "every bad option: exit 2, a message, nothing created" '[ $bad = 0 ]'

# ---- sizes ----
start_server -M "$shm" -l 4G -n 2
out=$("$peer" -S "$sock" info 2>&1)
check "-l 4G: a peer maps 4 GiB (sizes >= 2 GiB work)" 'grep -qx "size 4294967296" <<<"$out" && grep -qx "vectors 2" <<<"$out"'
stop_server
rm -f "/dev/shm/$shm"
start_server -M "$shm" -l 3M
out=$("$peer" -S "$sock" info 2>&1)
check "-l 3M is rounded up to a power of two (4 MiB), 1 vector by default" \
	'grep -qx "size 4194304" <<<"$out" && grep -qx "vectors 1" <<<"$out"'
stop_server
check "SIGTERM: exit 0, socket removed" '[ $? = 0 ] && [ ! -e "$sock" ]'
rm -f "/dev/shm/$shm"
mkdir -p "$tmp/hugedir"
start_server -m "$tmp/hugedir" -l 1M
out=$("$peer" -S "$sock" info 2>&1)
check "-m DIR: memory from an unlinked file in DIR" \
	'grep -qx "size 1048576" <<<"$out" && [ -z "$(ls "$tmp/hugedir")" ]'
stop_server

# ---- peers ----
start_server -M "$shm" -l 1M -n 2
base=$(fds)
"$peer" -S "$sock" monitor 30 >"$tmp/mon" 2>&1 &
mon=$!
pids+=("$mon")
sleep 0.5
"$peer" -S "$sock" -t 20000 wait 1 >"$tmp/waiter" 2>&1 &
w=$!
pids+=("$w")
sleep 0.5
out=$("$peer" -S "$sock" info)
check "peer ids are distinct, in order, and the newcomer sees the others" \
	'grep -qx "id 0" "$tmp/mon" && grep -qx "id 2" <<<"$out" && grep -qx "peers 0 1" <<<"$out"'
"$peer" -S "$sock" ring 1 1
wait "$w"
check "a host peer's doorbell wakes another host peer's vector 1" \
	'[ $? = 0 ] && grep -q "^count " "$tmp/waiter"'
"$peer" -S "$sock" write 100 "hello from a peer"
out=$("$peer" -S "$sock" read 100)
check "peers share the memory" '[ "$out" = "hello from a peer" ]'
sleep 0.3
check "the monitor saw joins and leaves" \
	'grep -qx "join 1" "$tmp/mon" && grep -qx "leave 1" "$tmp/mon" && grep -qx "leave 2" "$tmp/mon"'

# ---- QEMU as the client ----
qemu_pci() {
	(sleep 3; echo "info pci"; sleep 1; echo quit) |
		timeout 30 qemu-system-x86_64 -accel tcg -S -nodefaults -display none \
		-monitor stdio -chardev "socket,path=$sock,id=iv" \
		-device ivshmem-doorbell,chardev=iv,vectors=2 2>"$tmp/qemu.err"
}
"$peer" -S "$sock" -t 20000 wait 0 >/dev/null 2>&1 &
hold=$!
pids+=("$hold")
sleep 0.3
out=$(qemu_pci)
check "QEMU's ivshmem-doorbell (vectors=2) connects and starts; BAR2 is the memory" \
	'grep -q "PCI device 1af4:1110" <<<"$out" && grep -q "BAR2: 64 bit prefetchable" <<<"$out"'
check "QEMU refuses nothing the server sends (no error on its stderr)" \
	'! grep -v "^$" "$tmp/qemu.err" | grep -q .'
"$peer" -S "$sock" ring 3 0 2>/dev/null
wait "$hold"

# ---- hostile clients ----
pclient garbage
out=$("$peer" -S "$sock" info 2>&1)
check "a client that sends garbage is dropped; the server serves on" \
	'kill -0 $spid && grep -q "^id " <<<"$out" && grep -q "sent data" "$tmp/srv.log"'
for _ in 1 2 3 4 5; do pclient half; done
out=$("$peer" -S "$sock" info 2>&1)
check "clients dying mid-handshake do not hurt the server" \
	'kill -0 $spid && grep -q "^id " <<<"$out"'
pclient hold 6 &
hung=$!
sleep 0.3
"$peer" -S "$sock" -t 5000 wait 0 >"$tmp/w2" 2>&1 &
w=$!
sleep 0.3
ids=$("$peer" -S "$sock" info | sed -n 's/^peers //p')
me=$(sed -n 's/^peers //p' <<<"$ids")
"$peer" -S "$sock" ring "$(awk '{print $NF}' <<<"$ids")" 0
wait "$w"
check "a client that never reads does not stall the others" '[ $? = 0 ]'
wait "$hung"
sleep 0.3
kill "$mon" 2>/dev/null
wait "$mon" 2>/dev/null
sleep 0.3
check "no descriptor leak after all of that (back to $base fds)" '[ "$(fds)" = "$base" ]'
stop_server
rm -f "/dev/shm/$shm"

start_server -M "$shm" -l 1M -n 4 -P 200
base=$(fds)
# 64 clients that never read, from one process (64 perl processes take
# seconds to start on a loaded machine, and the first had left by then)
"$clients" -S "$sock" -n 4 -x 64 -t 4 >/dev/null &
cl=$!
for _ in $(seq 30); do [ "$(fds)" -ge $((base + 64 * 5)) ] && break; sleep 0.1; done
during=$(fds)
out=$("$peer" -S "$sock" -t 20000 info 2>&1)
check "64 peers x 4 vectors at once: still serving ($during fds in use)" \
	'grep -q "^id " <<<"$out" && [ "$during" -ge $((base + 64 * 5)) ]'
wait "$cl"
sleep 0.5
check "... and every descriptor is released afterwards" '[ "$(fds)" = "$base" ]'
stop_server
rm -f "/dev/shm/$shm"

start_server -M "$shm" -l 1M -P 2
pclient hold 3 &
c1=$!
pclient hold 3 &
c2=$!
sleep 0.5
"$peer" -S "$sock" -t 1000 info >/dev/null 2>&1
rc=$?
wait $c1 $c2
check "-P 2: a third client waits (times out) while two are connected" '[ $rc = 1 ]'
out=$("$peer" -S "$sock" -t 3000 info 2>&1)
check "... and gets in once they left" 'grep -q "^id " <<<"$out"'
stop_server
rm -f "/dev/shm/$shm"

# ---- daemon mode, pid file, a second server ----
"$srv" -S "$sock" -M "$shm" -l 1M -p "$tmp/pid" 2>"$tmp/err"
rc=$?
dpid=$(cat "$tmp/pid" 2>/dev/null)
check "daemon mode: the parent exits 0 once serving; pid file written" \
	'[ $rc = 0 ] && [ -n "$dpid" ] && kill -0 "$dpid" && [ -S "$sock" ]'
"$srv" -F -S "$sock" -M "$shm-2" -l 1M 2>"$tmp/err"
rc=$?
check "a second server on a live socket fails (exit 1) with a message" \
	'[ $rc = 1 ] && grep -q "another server" "$tmp/err"'
kill -TERM "$dpid"
for _ in $(seq 30); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
check "SIGTERM stops the daemon; pid file and socket removed" \
	'! kill -0 "$dpid" 2>/dev/null && [ ! -e "$tmp/pid" ] && [ ! -e "$sock" ]'
echo "# server log:"
sed 's/^/#   /' "$tmp/srv.log" | tail -n 5
