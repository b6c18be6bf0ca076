#!/bin/sh
# kver.sh - resolve a kernel name to an installed Debian kernel release.
#
# Usage: scripts/kver.sh NAME
#   NAME is a series such as 6.1 or 6.12, an exact release such as
#   6.1.0-56-amd64, a path to a kernel image (bzImage/vmlinuz), or
#   "running": the kernel this machine runs (`uname -r`), whose headers
#   must be in /lib/modules/RELEASE/build (or $KDIR); if they are not, it
#   fails naming the Debian package linux-headers-RELEASE.
# Prints the release string (what `uname -r` says in that kernel).  For a
# series, the newest installed /boot/vmlinuz-<series>.* wins (else, with
# headers only, the newest /lib/modules/<series>.*/build); nothing is
# hard-coded, so a kernel update is picked up automatically.
set -eu
name=${1:?usage: kver.sh 6.1|6.12|RELEASE|PATH|running}

if [ "$name" = running ]; then
	rel=$(uname -r)
	kdir=${KDIR:-/lib/modules/$rel/build}
	if [ ! -f "$kdir/Makefile" ]; then
		echo "kver.sh: the running kernel $rel has no headers in $kdir:" \
			"install the package linux-headers-$rel" \
			"(apt-get install linux-headers-$rel), or set KDIR to its build tree" >&2
		exit 1
	fi
	echo "$rel"
	exit 0
fi

if [ -f "$name" ]; then
	# The x86 boot header stores the offset of the version string at 0x20e
	# (relative to 0x200); the string begins with the release.
	off=$(od -An -tu2 -j 526 -N 2 "$name" | tr -d ' ')
	dd if="$name" bs=1 skip=$((off + 512)) count=128 2>/dev/null |
		tr '\0' '\n' | head -n 1 | cut -d' ' -f1
	exit 0
fi
if [ -f "/boot/vmlinuz-$name" ] || [ -f "/lib/modules/$name/build/Makefile" ]; then
	echo "$name"
	exit 0
fi
rel=$(ls /boot 2>/dev/null | sed -n "s/^vmlinuz-\(${name}[.-].*\)/\1/p" |
	sort -V | tail -n 1)
# Headers without the image (make modules installs only linux-headers-*):
# the newest /lib/modules/<series>.*/build.
[ -n "$rel" ] || rel=$(for d in /lib/modules/"$name".* /lib/modules/"$name"-*; do
	[ -f "$d/build/Makefile" ] && echo "${d#/lib/modules/}"
done | sort -V | tail -n 1)
if [ -z "$rel" ]; then
	echo "kver.sh: no installed kernel matches '$name' (try scripts/deps.sh)" >&2
	exit 1
fi
echo "$rel"
