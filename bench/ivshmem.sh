#!/bin/bash
# bench/ivshmem.sh [--kernel K] [--out DIR] [--quick] - two guests (each
# --smp 1) on one kipc-ivshmem-server (4 MiB, 2 vectors) and one virtio-net
# link (-netdev stream over a UNIX socket: no host network): 64 KiB messages
# through a libkipc channel in ivshmem memory with doorbell wake-ups vs TCP
# (the receiver checking each message in place, then copying each out), a
# 64 B ping-pong through two channels and a bare doorbell ping-pong vs a
# 64-byte TCP ping-pong (bench/bench_ivshmem.c).  Prints
# the numbers and writes DIR/ivshmem.txt.  Under TCG only the ratios mean
# anything.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kernel=6.1 out=$top/build/bench msgs=2000 trips=2000
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--quick) msgs=200 trips=200; shift ;;
	-h|--help) sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) echo "bench/ivshmem.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
done
rel=$("$top/scripts/kver.sh" "$kernel")
mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kipc-ivbench.XXXXXX")
srvpid=
apid=
cleanup() {
	[ -z "$apid" ] || kill "$apid" 2>/dev/null || true
	[ -z "$srvpid" ] || kill "$srvpid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
# virtio-net and what it needs, uncompressed for busybox insmod
mods=()
mkdir -p "$tmp/nm"
while read -r _ m; do
	b=$(basename "$m"); b=${b%.xz}
	case $m in *.xz) xz -dc "$m" >"$tmp/nm/$b" ;; *) cp "$m" "$tmp/nm/$b" ;; esac
	mods+=("$b")
	echo "$b" >>"$tmp/nm/netmods.list"
done < <(modprobe -a --show-depends -S "$rel" virtio_pci virtio_net | awk '$1 == "insmod" {print $1, $2}' | awk '!seen[$2]++')
cat >"$tmp/nm/side" <<'EOS'
#!/bin/sh
role=$1 msgs=$2 trips=$3
for m in $(cat /root/nm/netmods.list); do insmod /root/nm/$m || echo "insmod $m failed" >&2; done
insmod /kipc/modules/kipc_ivshmem.ko
sleep 0.3
for d in /sys/class/misc/ivshmem*; do [ "$(cat $d/doorbell)" = 1 ] && D=/dev/${d##*/}; done
ip link set eth0 up
if [ $role = A ]; then ip addr add 10.77.0.1/24 dev eth0; else ip addr add 10.77.0.2/24 dev eth0; fi
id=$(cat /sys/class/misc/${D#/dev/}/peer_id)
if [ $role = A ]; then
	kipc-ivshmem -d $D write 3072 "$id"
	kipc-ivshmem -d $D write 3200 "ready"
	bench_ivshmem ring-rx $D $msgs
	bench_ivshmem ring-rx $D $msgs copy
	bench_ivshmem chan-pong $D $trips
	bench_ivshmem pong $D $((trips + 0))
	bench_ivshmem tcp-rx 5001 $msgs
	bench_ivshmem tcp-pong 5002 $((trips + 1))
else
	kipc-ivshmem -t 120000 -d $D await 3200 "ready"
	peer=$(kipc-ivshmem -d $D read 3072)
	bench_ivshmem ring-tx $D $peer $msgs
	bench_ivshmem ring-tx $D $peer $msgs
	bench_ivshmem chan-ping $D $trips
	bench_ivshmem ping $D $peer $trips
	bench_ivshmem tcp-tx 10.77.0.1 5001 $msgs
	bench_ivshmem tcp-ping 10.77.0.1 5002 $trips
fi
echo BENCH-DONE
EOS
"$top/build/user/tools/kipc-ivshmem-server" -F -S "$tmp/ivs.sock" -m "$tmp" -l 4M -n 2 &
srvpid=$!
for _ in $(seq 50); do [ -S "$tmp/ivs.sock" ] && break; sleep 0.1; done
guest() {
	local role=$1 net=$2 mac=$3
	"$top/vm/run" --kernel "$kernel" --smp 1 --timeout 900 \
		--ivshmem-doorbell "$tmp/ivs.sock:2" \
		--qemu-arg -netdev --qemu-arg "stream,id=n0,$net,addr.type=unix,addr.path=$tmp/net.sock" \
		--qemu-arg -device --qemu-arg "virtio-net-pci,netdev=n0,mac=$mac" \
		--add "$tmp/nm:/root/nm" -- sh /root/nm/side "$role" "$msgs" "$trips"
}
echo "bench: ivshmem vs TCP, two $rel guests ($(date -u '+%Y-%m-%d %H:%M UTC'))"
guest A server=on 52:54:00:77:00:01 >"$tmp/A.out" 2>"$tmp/A.err" &
apid=$!
for _ in $(seq 100); do [ -S "$tmp/net.sock" ] && break; sleep 0.1; done
guest B server=off 52:54:00:77:00:02 >"$tmp/B.out" 2>"$tmp/B.err" || true
wait $apid || true
cat "$tmp/A.out" "$tmp/B.out" >"$out/ivshmem.log"
val() { sed -n "s/^$1 //p" "$out/ivshmem.log" | tail -n 1; }
rb=$(val ring_MBps) rc=$(val ring_copy_MBps) tb=$(val tcp_MBps)
dr=$(val doorbell_rtt_us) tr=$(val tcp_rtt_us) cr=$(val chan_rtt_us)
if [ -z "$rb" ] || [ -z "$rc" ] || [ -z "$tb" ] || [ -z "$dr" ] || [ -z "$tr" ] || [ -z "$cr" ]; then
	echo "bench: a guest failed; logs:" >&2
	tail -n 20 "$tmp/A.err" "$tmp/B.err" "$out/ivshmem.log" >&2
	exit 1
fi
{
	echo "| benchmark | ivshmem | TCP (virtio-net, -netdev stream on a UNIX socket) | ratio |"
	echo "| --- | --- | --- | --- |"
	awk -v a="$rb" -v b="$tb" 'BEGIN { printf "| 64 KiB messages B -> A through a kipc channel, MB/s (%d messages; A checks each in place) | %.1f | %.1f | %.2fx |\n", '"$msgs"', a, b, a / b }'
	awk -v a="$rc" -v b="$tb" 'BEGIN { printf "| the same, A copies each message out of its slot first (kipc_chan_recv) | %.1f | %.1f | %.2fx |\n", a, b, a / b }'
	awk -v a="$cr" -v b="$tr" 'BEGIN { printf "| round trip, us (64 B through two kipc channels vs 64-byte TCP, %d trips) | %.1f | %.1f | %.2fx |\n", '"$trips"', a, b, a / b }'
	awk -v a="$dr" -v b="$tr" 'BEGIN { printf "| round trip, us (bare doorbell vs 64-byte TCP, %d trips) | %.1f | %.1f | %.2fx |\n", '"$trips"', a, b, a / b }'
	echo
	echo "$rel guests, --smp 1 each, $(cut -d' ' -f1-3 /proc/loadavg) load, $(date -u '+%Y-%m-%d %H:%M UTC')"
} | tee "$out/ivshmem.md"
