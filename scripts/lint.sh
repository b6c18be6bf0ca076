#!/bin/bash
# lint.sh [KERNEL...] - kipc's static checks; fails on any finding.
#   1. modules built with W=1 and sparse (C=2) for each kernel: no warnings
#   2. checkpatch.pl --strict (from Debian's linux-source-6.1) on kernel code
#      and the uapi headers: 0 errors, 0 warnings, 0 checks
#   3. cppcheck on all user-space C
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
[ $# -gt 0 ] || set -- 6.1 6.12
bad=0

for k in "$@"; do
	rel=$(scripts/kver.sh "$k") || exit 1
	echo "  LINT    W=1 C=2 $rel"
	# C=2 checks every file, so force a rebuild to see all warnings.
	out=$(scripts/build-modules.sh "$rel" W=1 C=2 2>&1)
	rc=$?
	found=$(grep -E 'warning|error' <<<"$out" | grep -v 'Skipping BTF')
	if [ $rc != 0 ] || [ -n "$found" ]; then
		echo "$out" | grep -v 'Skipping BTF'
		bad=1
	fi
done

cp_dir=$top/build/checkpatch
if [ ! -x "$cp_dir/scripts/checkpatch.pl" ]; then
	tarball=$(ls /usr/src/linux-source-6.1*.tar.xz 2>/dev/null | tail -n 1)
	[ -n "$tarball" ] || { echo "lint.sh: linux-source-6.1 missing (scripts/deps.sh lint)"; exit 1; }
	echo "  EXTRACT checkpatch.pl from $tarball"
	mkdir -p "$cp_dir"
	tar -xJf "$tarball" -C "$cp_dir" --strip-components=1 --wildcards \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch' || exit 1
fi
# kipc_compat.h is the one file allowed to test LINUX_VERSION_CODE.
kfiles=$(ls kernel/*.[ch] tests/kmod/*.c include/uapi/kipc/*.h 2>/dev/null |
	grep -v '^kernel/kipc_compat.h$')
echo "  LINT    checkpatch --strict"
checkpatch() {
	local out
	out=$("$cp_dir/scripts/checkpatch.pl" --strict --no-tree --quiet \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG"$1" -f "${@:2}" 2>&1)
	[ -z "$out" ] && return 0
	echo "$out"
	return 1
}
# shellcheck disable=SC2086
[ -z "$kfiles" ] || checkpatch "" $kfiles || bad=1
checkpatch ,LINUX_VERSION_CODE,CONSTANT_COMPARISON kernel/kipc_compat.h || bad=1

echo "  LINT    cppcheck"
ufiles=$(ls lib/*.c tools/*.c examples/*.c bench/*.c tests/*/*.c 2>/dev/null |
	grep -v "^tests/kmod/")
if [ -n "$ufiles" ]; then
	# shellcheck disable=SC2086
	if ! cppcheck --quiet --error-exitcode=1 --inline-suppr \
		--enable=warning,portability,performance --std=c11 \
		-D__x86_64__ -D_GNU_SOURCE -Iinclude/uapi -Iinclude -Itests \
		--suppress=missingIncludeSystem $ufiles; then
		bad=1
	fi
fi
[ $bad = 0 ] && echo "  LINT    clean"
exit $bad
