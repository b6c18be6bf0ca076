#!/bin/sh
# deps.sh - make sure the Debian packages a make target needs are installed.
#
# Usage: scripts/deps.sh [-n|--dry-run] GROUP...    (default group: rig)
# Each make target asks only for what it uses, so building or installing
# kipc on a real machine never pulls the test rig (QEMU, busybox, trinity,
# cmocka, multilib, a second kernel):
#   build      make, gcc, libc: libkipc and the tools (make lib tools
#              install-lib install-tools; make install adds "modules")
#   modules    build + the headers of each kernel in $KERNELS (default
#              "6.1 6.12"; "running" is linux-headers-$(uname -r), a
#              release REL is linux-headers-REL); headers only: when apt
#              would pull a kernel image with them (bookworm's 6.12
#              headers depend on the 6.12 image, which would become the
#              default boot entry) it refuses and says what to do, unless
#              a rig group (rig, lint, check-deb, all) is asked for too or
#              KIPC_IMAGES_OK=1 (the Makefile sets it for the rig's goals)
#   user       build + what the tests, benchmarks and 32-bit course tools
#              link (cmocka, liburing, gcc-multilib; ZeroMQ, nng, Boost and
#              g++ for the libraries bench_chan measures): make user, make
#   rig        modules + user + the QEMU guests: QEMU, busybox, the guest
#              kernel images of $KERNELS, trinity (make check, demo, shell,
#              bench-insn, check-debug, check-kcsan); "base" is its old name
#   lint       modules + user + sparse, cppcheck, checkpatch (make lint)
#   bench      gnuplot, xz (make bench, with rig)
#   debug      what building the debug/KCSAN kernels takes (make
#              debug-kernel, kcsan-kernel; check-debug adds rig)
#   deb        debian/control's Build-Depends, nothing else: the one list
#              (dpkg-checkbuilddeps; installed by apt-get build-dep, which
#              adds build-essential) (make deb)
#   check-deb  deb + rig + dkms, lintian, man, pkg-config (make check-deb)
#   all        every group (.ci/run on a fresh machine)
#
# Idempotent and quiet: when everything is present it prints nothing and
# exits 0 within a fraction of a second.  When something is missing it runs
# apt-get as root, or prints the exact command to run and exits 1, before
# anything is built.  --dry-run prints what it would run and exits 0
# (with DPKG_ADMINDIR=DIR, dpkg-query and dpkg-checkbuilddeps read DIR's
# status file instead of the system's: scripts/deps-proof.sh uses that).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

build="make gcc libc6-dev"
user="libcmocka-dev liburing-dev libdrm-dev gcc-multilib libc6-dev-i386 libzmq3-dev libnng-dev libboost-dev g++"
rig="qemu-system-x86 busybox-static cpio gzip kmod trinity xz-utils"
lint="sparse cppcheck linux-source-6.1 xz-utils"
bench="gnuplot-nox xz-utils"
debug="make gcc linux-source-6.1 xz-utils bc bison flex libelf-dev libssl-dev perl cpio kmod"
checkdeb="dkms lintian groff-base man-db xz-utils pkg-config"

dry=
case ${1:-} in -n | --dry-run) dry=1; shift ;; esac
[ $# -gt 0 ] || set -- rig

# The Debian package of a kernel's headers (h) or image (i) for a KERNELS
# name; a path to a kernel image (the debug kernel) needs nothing.
kpkg() {
	case $2 in
	6.1) echo "linux-$1-amd64" ;;	# bookworm's default kernel series
	6.12) echo "linux-$1-6.12-amd64" ;;
	running) echo "linux-$1-$(uname -r)" ;;
	*/*) ;;
	*) echo "linux-$1-$2" ;;
	esac
}
kernels=${KERNELS:-6.1 6.12}
headers=
images=
for k in $kernels; do
	headers="$headers $(kpkg headers "$k")"
	images="$images $(kpkg image "$k")"
done

want=
builddeps=
imageok=${KIPC_IMAGES_OK:-}
add() {
	for g in "$@"; do
		case $g in
		build) want="$want $build" ;;
		modules) add build; want="$want $headers" ;;
		user) add build; want="$want $user" ;;
		rig | base) imageok=1; add modules user; want="$want $rig $images" ;;
		lint) imageok=1; add modules user; want="$want $lint" ;;
		bench) want="$want $bench" ;;
		debug) want="$want $debug" ;;
		deb) builddeps=1 ;;
		check-deb) add deb rig; want="$want $checkdeb" ;;
		all) add rig lint bench debug check-deb ;;
		*)
			echo "deps.sh: unknown group '$g' (build, modules, user, rig, lint, bench, debug, deb, check-deb, all)" >&2
			exit 2
			;;
		esac
	done
}
add "$@"

installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]
}
# A kernel's headers count as present when its build tree is there (a
# kernel not from a Debian package, e.g. built by hand); with DPKG_ADMINDIR
# only that status file counts.
present() {
	case $1 in
	linux-headers-*)
		[ -z "${DPKG_ADMINDIR:-}" ] &&
			[ -f "/lib/modules/${1#linux-headers-}/build/Makefile" ] && return 0 ;;
	esac
	installed "$1"
}
missing=
for p in $want; do
	case " $missing " in *" $p "*) continue ;; esac
	present "$p" || missing="$missing $p"
done
# Build-Depends: dpkg-checkbuilddeps (dpkg-dev, in build-essential) reads
# debian/control; without it build-essential itself is missing.
checkbd() { dpkg-checkbuilddeps ${DPKG_ADMINDIR:+--admindir="$DPKG_ADMINDIR"}; }
bdep=
if [ -n "$builddeps" ]; then
	if ! command -v dpkg-checkbuilddeps >/dev/null 2>&1 ||
		! (cd "$top" && checkbd >/dev/null 2>&1); then
		bdep=1
	fi
fi
[ -n "$missing" ] || [ -n "$bdep" ] || exit 0

# Kernel images that installing the missing packages would bring in (apt's
# simulation; nothing if apt cannot tell, e.g. no package lists yet).
status_opt=${DPKG_ADMINDIR:+-o Dir::State::status=$DPKG_ADMINDIR/status}
pulled_images() {
	# shellcheck disable=SC2086
	apt-get -s $status_opt install --no-install-recommends $missing 2>/dev/null |
		sed -n 's/^Inst \(linux-image-[^ ]*\) .*/\1/p' | xargs
}
refuse_images() {
	[ -z "$imageok" ] || return 0
	case $missing in *linux-headers-*) ;; *) return 0 ;; esac
	img=$(pulled_images)
	[ -n "$img" ] || return 0
	echo "deps.sh: the kernel headers for KERNELS='$kernels' ($(echo "$missing" |
		xargs -n1 | grep '^linux-headers-' | xargs)) would also install the kernel" \
		"image(s) $img, which would become this machine's default boot entry." >&2
	echo "On a real machine build for the kernel it runs: make modules KERNELS=running" >&2
	echo "For the test rig's kernels: make deps (installs the rig), or as root:" \
		"apt-get install --no-install-recommends$missing" >&2
	exit 1
}

opts="-y --no-install-recommends"
cmd=
[ -z "$missing" ] || cmd="apt-get install $opts$missing"
[ -z "$bdep" ] || cmd="${cmd:+$cmd && }apt-get build-dep $opts $top"
# A package apt does not know (after an update): say which and why, e.g.
# the headers of a kernel that is not Debian's (make modules KERNELS=running
# on a custom kernel).
unknown_packages() {
	for p in $missing; do
		apt-cache show "$p" >/dev/null 2>&1 || echo "$p"
	done | xargs
}
refuse_unknown() {
	# no package lists yet (a fresh container): apt cannot tell
	apt-cache show dpkg >/dev/null 2>&1 || return 0
	unk=$(unknown_packages)
	[ -n "$unk" ] || return 0
	echo "deps.sh: apt knows no package $unk." >&2
	for p in $unk; do
		case $p in linux-headers-*)
			echo "A kernel not from Debian? Install its headers yourself, so that" \
				"/lib/modules/${p#linux-headers-}/build/Makefile exists, and run make again." >&2 ;;
		esac
	done
	exit 1
}
if [ -n "$dry" ]; then
	refuse_unknown
	refuse_images
	echo "apt-get update && $cmd"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	refuse_unknown
	refuse_images
	[ -z "$missing" ] || echo "kipc needs these Debian packages:$missing" >&2
	[ -z "$bdep" ] || echo "kipc's Build-Depends (debian/control) are not all installed:" \
		"$(cd "$top" && checkbd 2>&1 | sed 's/.*: Unmet build dependencies: //')" >&2
	echo "Run as root:  apt-get update && $cmd" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# make -j runs several groups at once: one apt at a time (and wait for
# anyone else's apt on the dpkg lock instead of failing)
exec 9>/run/lock/kipc-deps.lock
flock 9
lock="-o DPkg::Lock::Timeout=600"
# shellcheck disable=SC2086
apt-get $lock update -qq >&2
refuse_unknown
refuse_images
echo "deps.sh: installing${missing:+$missing}${bdep:+ (Build-Depends of debian/control)}" >&2
if [ -n "$missing" ]; then
	# shellcheck disable=SC2086
	apt-get $lock install $opts -qq $missing >/dev/null
fi
if [ -n "$bdep" ]; then
	# shellcheck disable=SC2086
	apt-get $lock build-dep $opts -qq "$top" >/dev/null
fi
