// SPDX-License-Identifier: GPL-2.0
/*
 * host/chan_poll - kipc_chan_pollfd(): a receiver's and a sender's
 * descriptor become readable when they may proceed, waited on with
 * epoll beside an eventfd, across threads and across fork(); a call with
 * timeout 0 that says EAGAIN is what arms it; a closing peer makes it
 * readable (then EPIPE).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <kipc/chan.h>

#include "chan_h.h"

static struct kipc_chan *make(uint32_t count, struct kipc_chan **rx)
{
	struct kipc_chan_attr a;
	struct kipc_chan *tx;

	kipc_chan_attr_init(&a);
	a.slot_size = 64;
	a.slot_count = count;
	tx = kipc_chan_create("anon", &a, KIPC_CHAN_SEND);
	assert_non_null(tx);
	*rx = kipc_chan_peer(tx, KIPC_CHAN_RECV);
	assert_non_null(*rx);
	return tx;
}

static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static void *late_send(void *arg)
{
	usleep(50 * 1000);
	kipc_chan_send(arg, "late", 4, -1);
	return NULL;
}

static void receiver_with_epoll(void **state)
{
	struct kipc_chan *rx, *tx = make(4, &rx);
	int cfd = kipc_chan_pollfd(rx), efd = eventfd(0, EFD_CLOEXEC);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN }, got[2];
	char buf[64];
	pthread_t t;
	int n;

	(void)state;
	assert_true(cfd >= 0);
	assert_int_equal(kipc_chan_pollfd(rx), cfd);	/* one per endpoint */
	ev.data.u32 = 1;
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev), 0);
	ev.data.u32 = 2;
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev), 0);
	/* the other descriptor works beside it */
	assert_int_equal(eventfd_write(efd, 1), 0);
	assert_int_equal(epoll_wait(ep, got, 2, 1000), 1);
	assert_int_equal(got[0].data.u32, 2);
	eventfd_t v;
	assert_int_equal(eventfd_read(efd, &v), 0);
	/* EAGAIN arms; a message arriving later makes it readable */
	assert_true(kipc_chan_recv(rx, buf, sizeof(buf), 0) < 0);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(pthread_create(&t, NULL, late_send, tx), 0);
	n = epoll_wait(ep, got, 2, 5000);
	assert_int_equal(n, 1);
	assert_int_equal(got[0].data.u32, 1);
	assert_int_equal(kipc_chan_recv(rx, buf, sizeof(buf), 0), 4);
	assert_memory_equal(buf, "late", 4);
	pthread_join(t, NULL);
	/* drained and re-armed: not readable without news */
	assert_true(kipc_chan_recv(rx, buf, sizeof(buf), 0) < 0);
	assert_false(readable(cfd, 50));
	/* the sender closes: readable, then EPIPE */
	kipc_chan_close(tx);
	assert_true(readable(cfd, 5000));
	assert_true(kipc_chan_recv(rx, buf, sizeof(buf), 0) < 0);
	assert_int_equal(errno, EPIPE);
	close(ep);
	close(efd);
	kipc_chan_close(rx);
}

static void sender_waits_for_space(void **state)
{
	struct kipc_chan *rx, *tx = make(2, &rx);
	int fd = kipc_chan_pollfd(tx);
	char buf[64];

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(kipc_chan_send(tx, "a", 1, 0), 0);
	assert_int_equal(kipc_chan_send(tx, "b", 1, 0), 0);
	assert_true(kipc_chan_send(tx, "c", 1, 0) < 0);	/* full: armed */
	assert_int_equal(errno, EAGAIN);
	assert_false(readable(fd, 50));
	assert_int_equal(kipc_chan_recv(rx, buf, sizeof(buf), 0), 1);
	assert_true(readable(fd, 5000));
	assert_int_equal(kipc_chan_send(tx, "c", 1, 0), 0);
	kipc_chan_close(tx);
	kipc_chan_close(rx);
}

static void across_fork(void **state)
{
	struct kipc_chan *rx, *tx = make(4, &rx);
	int fd = kipc_chan_pollfd(rx), status;
	char buf[64];
	pid_t pid;

	(void)state;
	kipc_chan_close(tx);	/* the child sends on its own endpoint */
	assert_true(kipc_chan_recv(rx, buf, sizeof(buf), 0) < 0);
	assert_int_equal(errno, EPIPE);	/* (a sender was, none is) */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct kipc_chan *t = kipc_chan_peer(rx, KIPC_CHAN_SEND);

		usleep(100 * 1000);
		_exit(!t || kipc_chan_send(t, "fork", 4, -1) ? 1 : 0);
	}
	/* EPIPE until the child attaches (a closed channel stays readable,
	 * like a pipe at its end), then EAGAIN arms: wait for its message */
	for (int ms = 0; ms < 10000; ms += 10) {
		ssize_t n = kipc_chan_recv(rx, buf, sizeof(buf), 0);

		if (n == 4)
			break;
		assert_true(errno == EAGAIN || errno == EPIPE);
		if (!readable(fd, 200))
			continue;
		usleep(10 * 1000);
	}
	assert_memory_equal(buf, "fork", 4);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(status, 0);
	kipc_chan_close(rx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(receiver_with_epoll),
		cmocka_unit_test(sender_waits_for_space),
		cmocka_unit_test(across_fork),
	};

	tc_watchdog(60);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
