#!/bin/bash
# message-slot-build.sh [KERNEL] - host-side build checks of the message
# slot user-space ABI (no guest): message_sender and message_reader build
# without a single diagnostic with the course's `gcc -O3 -Wall -std=c11`,
# and include/uapi/kipc/message_slot.h is a drop-in for a course program
# (copied next to it as message_slot.h, the course's names in use).
# KERNEL is accepted for run-suite's sake and ignored; with
# KIPC_RIG_KERNEL_ONLY=1 (every kernel after the first) all are skipped.
top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..4"
if [ "${KIPC_RIG_KERNEL_ONLY:-0}" = 1 ]; then	# see rig.sh: host-only checks
	for n in 1 2 3 4; do
		echo "ok $n - host-side build check # SKIP kernel-independent, checked with the first kernel"
	done
	exit 0
fi
n=0
check() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; fi; }

for t in sender reader; do
	gcc -O3 -Wall -std=c11 -I"$top/include/uapi" -o "$tmp/$t" \
		"$top/tools/message_$t.c" >"$tmp/$t.log" 2>&1
	rc=$?
	sed 's/^/# /' "$tmp/$t.log"
	check "message_$t builds silently with gcc -O3 -Wall -std=c11" \
		'[ $rc = 0 ] && [ ! -s "$tmp/$t.log" ]'
done

cp "$top/include/uapi/kipc/message_slot.h" "$tmp/message_slot.h"
cat >"$tmp/course.c" <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "message_slot.h"

#define BUF_LEN 128	/* a program's own identical definition is fine */

int main(int argc, char **argv)
{
	char buf[BUF_LEN];
	int fd = open(argc > 1 ? argv[1] : "/dev/slot0", O_RDWR);

	if (fd < 0 || ioctl(fd, MSG_SLOT_SET_CEN, 1) != SUCCESS ||
	    ioctl(fd, MSG_SLOT_CHANNEL, 1u) != SUCCESS)
		return 1;
	printf("%s %d %d\n", DEVICE_RANGE_NAME, MAJOR_NUM, MAX_MSG_LEN);
	return read(fd, buf, sizeof(buf)) < 0;
}
C
gcc -O3 -Wall -Wextra -pedantic -std=c11 -o "$tmp/course" "$tmp/course.c" \
	>"$tmp/course.log" 2>&1
rc=$?
sed 's/^/# /' "$tmp/course.log"
check "the header is a drop-in for a course program (-std=c11 -pedantic)" \
	'[ $rc = 0 ] && [ ! -s "$tmp/course.log" ]'
cat >"$tmp/abi.c" <<'C'
#include "message_slot.h"
_Static_assert(MSG_SLOT_CHANNEL == 0x4004eb00 && MSG_SLOT_SET_CEN == 0x4004eb01 &&
	       MSG_SLOT_CHANNEL_LONG == 0x4008eb00 &&
	       MSG_SLOT_SET_CEN_LONG == 0x4008eb01, "course ioctl numbers");
C
check "the ioctl numbers are 0x4004eb00/01 and 0x4008eb00/01" \
	'gcc -std=c11 -Wall -c -o /dev/null "$tmp/abi.c"'
