#!/bin/sh
# deps.sh - make sure the Debian packages kipc needs are installed.
#
# Usage: scripts/deps.sh [GROUP...]    (default group: base)
#   base   build modules and user space, run guests and tests
#   lint   W=1/sparse/checkpatch/cppcheck (checkpatch comes from linux-source-6.1)
#   bench  benchmark charts (gnuplot)
#   debug  build the debug guest kernel from linux-source-6.1
#   deb    make deb / make check-deb: Debian packaging, DKMS, lintian, man
#
# Idempotent and quiet: when everything is present it prints nothing and
# exits 0 within a fraction of a second.  When something is missing it runs
# apt-get as root, or prints the exact command to run and exits 1.
set -eu

base="make gcc libc6-dev pkg-config kmod cpio gzip busybox-static qemu-system-x86
linux-image-amd64 linux-headers-amd64 linux-image-6.12-amd64 linux-headers-6.12-amd64
libcmocka-dev trinity"
lint="sparse cppcheck linux-source-6.1 xz-utils"
bench="gnuplot-nox"
debug="linux-source-6.1 xz-utils bc bison flex libelf-dev libssl-dev perl"
deb="build-essential dpkg-dev debhelper dh-dkms dkms fakeroot lintian groff-base
man-db xz-utils"

[ $# -gt 0 ] || set -- base
want=
for g in "$@"; do
	case $g in
	base) want="$want $base" ;;
	lint) want="$want $base $lint" ;;
	bench) want="$want $base $bench" ;;
	debug) want="$want $base $debug" ;;
	deb) want="$want $base $deb" ;;
	*) echo "deps.sh: unknown group '$g' (base, lint, bench, debug, deb)" >&2; exit 2 ;;
	esac
done

missing=
for p in $want; do
	case " $missing " in *" $p "*) continue ;; esac
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$s" = installed ] || missing="$missing $p"
done
[ -n "$missing" ] || exit 0

cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" != 0 ]; then
	echo "kipc needs these Debian packages:$missing" >&2
	echo "Run as root:  apt-get update && $cmd" >&2
	exit 1
fi
echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
