// SPDX-License-Identifier: GPL-2.0
/*
 * message_reader - print the message of a message slot channel.
 *
 * Usage: message_reader DEVICE CHANNEL
 *
 * Behaves exactly like the course's reader: open DEVICE, select CHANNEL,
 * read the message, close, then write exactly the message bytes to
 * standard output and nothing else.  Any error: a strerror message on
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

#define TOOL_NAME "message_reader"
#include "tool.h"

int main(int argc, char **argv)
{
	char buf[MSG_SLOT_MAX_MSG_LEN];
	ssize_t n, done, w;
	int fd;

	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("message_reader (kipc) %s\n", KIPC_VERSION);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--help")) {
		printf("usage: message_reader DEVICE CHANNEL\n"
		       "Print the message stored in CHANNEL of the message slot\n"
		       "DEVICE, exactly its bytes.  Exit status 0 when read, 1 on\n"
		       "any error.  message_reader(1).\n");
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: message_reader DEVICE CHANNEL\n");
		return 1;
	}
	fd = open(argv[1], O_RDWR);
	if (fd < 0)
		tool_die("open", argv[1]);
	/* The 8-byte encoding: an id that does not fit in 32 bits is EINVAL. */
	if (ioctl(fd, MSG_SLOT_CHANNEL_LONG,
		  tool_ioctl_number("ioctl MSG_SLOT_CHANNEL", argv[2])) < 0)
		tool_die("ioctl MSG_SLOT_CHANNEL", argv[2]);
	n = read(fd, buf, sizeof(buf));
	if (n < 0)
		tool_die("read", NULL);
	if (close(fd) < 0)
		tool_die("close", NULL);
	for (done = 0; done < n; done += w) {
		w = write(STDOUT_FILENO, buf + done, n - done);
		if (w < 0) {
			if (errno == EINTR) {
				w = 0;
				continue;
			}
			tool_die("write", "stdout");
		}
	}
	return 0;
}
