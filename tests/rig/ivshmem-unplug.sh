#!/bin/bash
# ivshmem-unplug.sh KERNEL - hot-unplug of kipc_ivshmem devices in use, by
# QEMU's device_del, and device_add again (issue 24 item 3).  Boots one
# guest with an ivshmem-plain (ivs0) and an ivshmem-doorbell (ivs1, 2
# vectors, a kipc-ivshmem-server of this run) device, 4 MiB each (so the
# driver gives them struct pages and dma-bufs), and a QMP monitor
# (vm/run --qmp); the guest half, tests/ivshmem/unplug, asks for
# "KIPC-HOTPLUG del ID" / "KIPC-HOTPLUG add" on its output and this script
# sends the QMP commands (tests/rig/qmp).  Every guest case becomes a check
# here, plus the QMP steps and the guest's exit.  A kernel built without
# ACPI PCI hotplug (the debug and KCSAN kernels: tinyconfig) skips it all.
#
# QEMU 7.2 (Debian 12) work-arounds, here only (docs/ivshmem.md):
# - ivshmem-doorbell's unrealize closes its own vectors' eventfds but
#   leaves their fd handlers registered in the main loop (under TCG, where
#   no KVM irqfd takes them); the next descriptors QEMU opens get those
#   numbers, and once one of them is readable QEMU calls the stale handler
#   and segfaults (our reading of QEMU's code).  Without the work-around
#   QEMU 7.2.22 died with SIGSEGV during the device_add of the doorbell
#   device.  So the rig keeps one QMP connection open for the whole run
#   and, right after each device_del, fills the freed numbers with 8 socket
#   chardevs connected to a listener that never sends (never readable).
# - the devices come back with fresh ids for the memory backend and the
#   chardev (ivp0-re, ivd1-re); the old backend objects are left alone.
top=$(cd "$(dirname "$0")/../.." && pwd)
k=${1:-6.1}
srv=$top/build/user/tools/kipc-ivshmem-server
qmp=$top/tests/rig/qmp
guest_cases=4
plan=$((guest_cases + 4))
echo "1..$plan"
rel=$("$top/scripts/kver.sh" "$k") || exit 1
# The kernel's config: the debug kernels' build tree (K is its
# arch/x86/boot/bzImage), else Debian's /boot/config-RELEASE.
cfg=/boot/config-$rel
[ -f "$k" ] && cfg=$(cd "$(dirname "$k")/../../.." && pwd)/.config
if [ -f "$cfg" ] && ! grep -q '^CONFIG_HOTPLUG_PCI_ACPI=y' "$cfg"; then
	for i in $(seq $plan); do
		echo "ok $i - unplug check $i # SKIP $rel is built without CONFIG_HOTPLUG_PCI_ACPI: QEMU's device_del cannot reach it"
	done
	exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kipc-ivsunplug.XXXXXX")
spid=
qpid=
cleanup() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null
	[ -n "$qpid" ] && kill "$qpid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
n=0
check() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; fi; }

"$srv" -F -v -S "$tmp/sock" -m "$tmp" -l 4M -n 2 2>"$tmp/srv.log" &
spid=$!
for _ in $(seq 50); do [ -S "$tmp/sock" ] && break; sleep 0.1; done
truncate -s 4M "$tmp/plain"

# One QMP connection for the whole run (tests/rig/qmp reading commands from
# a FIFO), opened at the first request: see the QEMU 7.2 notes above.
qmp_cmd() {	# JSON [EVENT]: 0 if it returned (and the event came)
	local res
	if [ ! -p "$tmp/qin" ]; then
		mkfifo "$tmp/qin" "$tmp/qout"
		"$qmp" "$tmp/qmp" <"$tmp/qin" >"$tmp/qout" 2>>"$tmp/qmp.log" &
		exec 7>"$tmp/qin" 8<"$tmp/qout"
	fi
	printf '%s\t%s\n' "$1" "${2:-}" >&7
	IFS= read -r -t 90 res <&8 || { echo "no answer to $1" >>"$tmp/qmp.log"; return 1; }
	printf '%s -> %s\n' "$1" "$res" >>"$tmp/qmp.log"
	[[ $res != ERROR* && $res != TIMEOUT* ]]
}

# do_request LINE: carry out one "KIPC-HOTPLUG ..." request of the guest
do_request() {
	local what=${1#KIPC-HOTPLUG } i ok=1
	case $what in
	"del "*)
		qmp_cmd "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"${what#del }\"}}" DEVICE_DELETED || ok=0
		# Fill the descriptor numbers the unplugged device freed with
		# sockets that never become readable (see above).
		for i in 0 1 2 3 4 5 6 7; do
			[ $ok = 1 ] || break
			qmp_cmd "{\"execute\":\"chardev-add\",\"arguments\":{\"id\":\"ivq${what#del }$i\",\"backend\":{\"type\":\"socket\",\"data\":{\"addr\":{\"type\":\"unix\",\"data\":{\"path\":\"$tmp/quiet\"}},\"server\":false}}}}" || ok=0
		done
		[ $ok = 1 ] && echo "deleted ${what#del }" >>"$tmp/steps" ;;
	add)
		qmp_cmd "{\"execute\":\"object-add\",\"arguments\":{\"qom-type\":\"memory-backend-file\",\"id\":\"ivp0-re\",\"size\":4194304,\"share\":true,\"mem-path\":\"$tmp/plain\"}}" &&
		qmp_cmd "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"ivshmem-plain\",\"id\":\"ivs0-re\",\"memdev\":\"ivp0-re\"}}" &&
		qmp_cmd "{\"execute\":\"chardev-add\",\"arguments\":{\"id\":\"ivd1-re\",\"backend\":{\"type\":\"socket\",\"data\":{\"addr\":{\"type\":\"unix\",\"data\":{\"path\":\"$tmp/sock\"}},\"server\":false}}}}" &&
		qmp_cmd "{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"ivshmem-doorbell\",\"id\":\"ivs1-re\",\"chardev\":\"ivd1-re\",\"vectors\":2}}" &&
			echo "added" >>"$tmp/steps" ;;
	esac
}

# A listener that accepts nothing and sends nothing: the quiet chardevs
# connect to it.
perl -MIO::Socket::UNIX -e 'my $l = IO::Socket::UNIX->new(Type => SOCK_STREAM(),
	Local => $ARGV[0], Listen => 64) or die "quiet: $!\n"; sleep 600' "$tmp/quiet" &
qpid=$!

: >"$tmp/steps"
start=$SECONDS
{
	KIPC_APPEND="KIPC_UNPLUG=1 ${KIPC_APPEND:-}" "$top/vm/run" --kernel "$k" \
		--timeout 240 --qmp "$tmp/qmp" --ivshmem-plain "$tmp/plain:4M" \
		--ivshmem-doorbell "$tmp/sock:2" -- /kipc/tests/ivshmem/unplug \
		2>"$tmp/run.err"
	echo "KIPC-RUN-EXIT $?"
} | while IFS= read -r line; do
	line=${line%$'\r'}
	printf '%s\n' "$line" >>"$tmp/guest.log"
	case $line in KIPC-HOTPLUG\ *) do_request "$line" ;; esac
done
rc=$(sed -n 's/^KIPC-RUN-EXIT //p' "$tmp/guest.log")

# the guest's cases, renumbered as checks of this script
g=0
while IFS= read -r line; do
	g=$((g + 1))
	[ $g -gt $guest_cases ] && break
	if [[ $line == "ok "* ]]; then
		check "guest: ${line#ok * - }" true
	else
		check "guest: ${line#not ok * - }" false
	fi
done < <(grep -E '^(not )?ok [0-9]+ ' "$tmp/guest.log")
while [ $g -lt $guest_cases ]; do
	g=$((g + 1))
	check "guest case $g did not report" false
done
check "device_del of the plain device (ivs0) completed (DEVICE_DELETED)" 'grep -qx "deleted ivs0" "$tmp/steps"'
check "device_del of the doorbell device (ivs1) completed (DEVICE_DELETED)" 'grep -qx "deleted ivs1" "$tmp/steps"'
check "device_add of both again (fresh backend ids)" 'grep -qx added "$tmp/steps"'
check "the guest ran to the end (vm/run exit 0, $((SECONDS - start))s)" '[ "$rc" = 0 ]'
if [ "$rc" != 0 ] || grep -q "^not ok" "$tmp/guest.log"; then
	sed 's/^/# guest: /' "$tmp/guest.log" | tail -n 40
	sed 's/^/# vm\/run: /' "$tmp/run.err" | tail -n 40
	sed 's/^/# qmp: /' "$tmp/qmp.log" | tail -n 20
fi
