// SPDX-License-Identifier: GPL-2.0
/*
 * message_sender - write one message to a message slot channel.
 *
 * Usage: message_sender DEVICE CHANNEL MESSAGE
 *        message_sender DEVICE CHANNEL CENSOR MESSAGE
 *
 * Behaves exactly like the course's sender: open DEVICE, (with four
 * arguments: set censorship to CENSOR first,) select CHANNEL, write
 * strlen(MESSAGE) bytes (no NUL), close, exit 0.  Nothing is validated
 * here: the driver decides (channel 0 -> "Invalid argument", an empty
 * message -> "Message too long").  Any error: a strerror message on
 * stderr and exit status 1; a wrong argument count: usage, exit 1.
 * Builds with a plain `gcc -O3 -Wall -std=c11`.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <kipc/message_slot.h>

#define TOOL_NAME "message_sender"
#include "tool.h"

int main(int argc, char **argv)
{
	const char *msg;
	size_t len;
	ssize_t n;
	int fd;

	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("message_sender (kipc) %s\n", KIPC_VERSION);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--help")) {
		printf("usage: message_sender DEVICE CHANNEL [CENSOR] MESSAGE\n"
		       "Write MESSAGE to CHANNEL (a number > 0) of the message slot\n"
		       "DEVICE; with CENSOR (0 or 1), censorship is set first.\n"
		       "Exit status 0 when written, 1 on any error.  message_sender(1).\n");
		return 0;
	}
	if (argc != 4 && argc != 5) {
		fprintf(stderr,
			"usage: message_sender DEVICE CHANNEL [CENSOR] MESSAGE\n");
		return 1;
	}
	msg = argv[argc - 1];
	len = strlen(msg);

	fd = open(argv[1], O_RDWR);
	if (fd < 0)
		tool_die("open", argv[1]);
	/* The 8-byte encoding: an id that does not fit in 32 bits is EINVAL. */
	if (argc == 5 &&
	    ioctl(fd, MSG_SLOT_SET_CEN_LONG,
		  tool_ioctl_number("ioctl MSG_SLOT_SET_CEN", argv[3])) < 0)
		tool_die("ioctl MSG_SLOT_SET_CEN", argv[3]);
	if (ioctl(fd, MSG_SLOT_CHANNEL_LONG,
		  tool_ioctl_number("ioctl MSG_SLOT_CHANNEL", argv[2])) < 0)
		tool_die("ioctl MSG_SLOT_CHANNEL", argv[2]);
	n = write(fd, msg, len);
	if (n < 0)
		tool_die("write", NULL);
	if ((size_t)n != len) {
		fprintf(stderr, "message_sender: write: %zd of %zu bytes\n", n,
			len);
		return 1;
	}
	if (close(fd) < 0)
		tool_die("close", NULL);
	return 0;
}
