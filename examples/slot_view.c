// SPDX-License-Identifier: GPL-2.0
/*
 * slot_view - follow a message slot channel's latest value: epoll says
 * "changed", the mapped view gives the value (no read(2) per look).
 *
 * Usage: slot_view DEVICE CHANNEL [COUNT]
 * Prints each new message of CHANNEL as "SEQ: MESSAGE" (the message's
 * sequence number; messages written faster than we look are skipped, as
 * with any latest-value board), COUNT times (default: forever).  Exit 0
 * after COUNT messages, 1 on an error.  Try it with message_sender:
 *
 *	slot_view /dev/slot0 7 3 &
 *	message_sender /dev/slot0 7 one; message_sender /dev/slot0 7 two
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <kipc/slot_view.h>

static int die(const char *what)
{
	fprintf(stderr, "slot_view: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	const struct msg_slot_view *view;
	char msg[MSG_SLOT_MAX_MSG_LEN];
	unsigned long channel;
	long count, shown = 0;
	uint64_t seen = 0, seq;
	ssize_t n;
	int fd, ep;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "Usage: slot_view DEVICE CHANNEL [COUNT]\n");
		return 1;
	}
	channel = strtoul(argv[2], NULL, 10);
	count = argc > 3 ? strtol(argv[3], NULL, 10) : -1;
	fd = open(argv[1], O_RDONLY);
	if (fd < 0)
		return die(argv[1]);
	/* the file's channel: its epoll readiness follows that channel */
	if (ioctl(fd, MSG_SLOT_CHANNEL, channel) < 0)
		return die("MSG_SLOT_CHANNEL");
	view = kipc_slot_view_map(fd, channel);
	if (!view)
		return die("kipc_slot_view_map");
	ep = epoll_create1(0);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		return die("epoll");
	while (count < 0 || shown < count) {
		/* the value, with no system call; then wait only if unchanged */
		n = kipc_slot_view_read(view, msg, sizeof(msg), &seq);
		if (n > 0 && seq != seen) {
			printf("%" PRIu64 ": %.*s\n", seq, (int)n, msg);
			fflush(stdout);
			seen = seq;
			shown++;
			continue;
		}
		if (n < 0 && errno != EWOULDBLOCK)
			return die("kipc_slot_view_read");
		/*
		 * Edge-triggered: each write to the channel after the last
		 * wait wakes us once; the view is read again before waiting,
		 * so a write between the read and the wait is not missed.
		 */
		if (epoll_wait(ep, &ev, 1, -1) < 0 && errno != EINTR)
			return die("epoll_wait");
	}
	kipc_slot_view_unmap(view);
	close(ep);
	close(fd);
	return 0;
}
