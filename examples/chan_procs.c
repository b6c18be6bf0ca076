// SPDX-License-Identifier: GPL-2.0
/*
 * chan_procs - docs/chan.md's dozen lines between two processes:
 *   chan_procs recv [WHERE] &     creates the channel, prints what arrives
 *   chan_procs send [WHERE]       opens it, sends three messages, closes
 * WHERE defaults to shm:/kipc-example; kshm:NAME or myshm:/dev/NAME work
 * the same (kipc_chan(7)).
 */
#include <kipc/chan.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *where = argc > 2 ? argv[2] : "shm:/kipc-example";
	struct kipc_chan_attr a;
	struct kipc_chan *ch;
	char buf[1024];
	ssize_t n;

	if (argc < 2 || (strcmp(argv[1], "send") && strcmp(argv[1], "recv"))) {
		fprintf(stderr, "usage: chan_procs send|recv [WHERE]\n");
		return 2;
	}
	kipc_chan_attr_init(&a);
	if (!strcmp(argv[1], "recv")) {
		kipc_chan_unlink(where);	/* a leftover of an earlier run */
		ch = kipc_chan_create(where, &a, KIPC_CHAN_RECV);
		if (!ch) {
			perror(where);
			return 1;
		}
		while ((n = kipc_chan_recv(ch, buf, sizeof(buf), -1)) >= 0)
			printf("received: %.*s\n", (int)n, buf);
		kipc_chan_close(ch);
		kipc_chan_unlink(where);
		return errno == EPIPE ? 0 : 1;
	}
	while (!(ch = kipc_chan_open(where, KIPC_CHAN_SEND)) &&
	       (errno == ENOENT || errno == EAGAIN))
		usleep(10000);	/* the receiver has not created it yet */
	if (!ch) {
		perror(where);
		return 1;
	}
	for (int i = 0; i < 3; i++) {
		int len = snprintf(buf, sizeof(buf), "hello %d", i);

		kipc_chan_send(ch, buf, (size_t)len, -1);
	}
	kipc_chan_close(ch);
	return 0;
}
