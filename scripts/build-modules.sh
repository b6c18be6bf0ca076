#!/bin/sh
# build-modules.sh - build kipc's kernel modules for one kernel.
#
# Usage: scripts/build-modules.sh RELEASE [KBUILD-ARGS...]
#   RELEASE  a kernel release (see scripts/kver.sh); headers are taken from
#            /lib/modules/RELEASE/build unless KDIR is set in the environment
#            (a configured kernel tree, e.g. the debug kernel).
# Output: build/modules/RELEASE/kipc/*.ko  (kernel/, the shipped modules)
#         build/modules/RELEASE/test/*.ko  (tests/kmod/, test-only modules)
# The modules' MODULE_VERSION is scripts/version.sh's (KIPC_VERSION).
# Kbuild cannot put objects outside M=, so each output directory is a farm
# of symlinks to the sources; 6.1 and 6.12 builds coexist side by side.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
rel=${1:?usage: build-modules.sh RELEASE [KBUILD-ARGS...]}
shift
kdir=${KDIR:-/lib/modules/$rel/build}
if [ ! -f "$kdir/Makefile" ]; then
	echo "build-modules.sh: no kernel headers at $kdir (scripts/deps.sh installs them)" >&2
	exit 1
fi

version=$("$top/scripts/version.sh")

for part in kipc:kernel test:tests/kmod; do
	name=${part%%:*}
	src=$top/${part#*:}
	out=$top/build/modules/$rel/$name
	mkdir -p "$out"
	# drop links whose source went away, then link every source file
	for l in "$out"/*; do
		[ -L "$l" ] && [ ! -e "$l" ] && rm -f "$l"
	done
	for f in "$src"/*.c "$src"/*.h "$src"/Kbuild; do
		[ -e "$f" ] && ln -sfn "$f" "$out/"
	done
	make -s -C "$kdir" M="$out" KIPC_INCLUDE="$top/include/uapi" \
		KIPC_VERSION="$version" "$@" modules
done
