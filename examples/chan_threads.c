// SPDX-License-Identifier: GPL-2.0
/*
 * chan_threads - docs/chan.md's dozen lines between two threads: the main
 * thread sends three messages through an "anon" channel, a second thread
 * prints them; closing the sender ends the receiver's loop (EPIPE).
 */
#include <kipc/chan.h>

#include <pthread.h>
#include <stdio.h>

static void *receiver(void *arg)
{
	struct kipc_chan *rx = arg;
	char buf[1024];
	ssize_t n;

	while ((n = kipc_chan_recv(rx, buf, sizeof(buf), -1)) >= 0)
		printf("received: %.*s\n", (int)n, buf);
	return NULL;
}

int main(void)
{
	struct kipc_chan_attr a;
	struct kipc_chan *tx, *rx;
	pthread_t t;

	kipc_chan_attr_init(&a);
	tx = kipc_chan_create("anon", &a, KIPC_CHAN_SEND);
	rx = kipc_chan_peer(tx, KIPC_CHAN_RECV);
	if (!tx || !rx || pthread_create(&t, NULL, receiver, rx)) {
		perror("chan_threads");
		return 1;
	}
	for (int i = 0; i < 3; i++) {
		char msg[32];
		int len = snprintf(msg, sizeof(msg), "hello %d", i);

		kipc_chan_send(tx, msg, (size_t)len, -1);
	}
	kipc_chan_close(tx);
	pthread_join(t, NULL);
	kipc_chan_close(rx);
	return 0;
}
