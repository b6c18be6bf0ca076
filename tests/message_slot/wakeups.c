// SPDX-License-Identifier: GPL-2.0
/*
 * message_slot/wakeups - targeted wake-ups (issue 15): a write wakes only
 * the waiters of the channel it wrote.  Idle waiters of every kind (poll,
 * select, epoll level- and edge-triggered, blocking read) on other
 * channels of the same slot, including channels that share the module's
 * wake-up hash bucket with the written one, are not woken at all by
 * thousands of writes (their voluntary context switches, from
 * /proc/PID/status, do not move), and each is woken by a write to its own
 * channel.  A file that switches channel under epoll or in a blocking read
 * reports and wakes for its new channel only; EPOLLONESHOT and
 * EPOLLEXCLUSIVE behave as epoll documents them.
 */
#include "lib/kt.h"
#include "lib/kt_slot.h"
#include "lib/kt_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

#define WRITTEN 1	/* the channel the herd tests write */

enum kind { K_POLL, K_SELECT, K_EPOLL, K_EPOLLET, K_BLOCKING, NKINDS };
static const char *const kind_names[NKINDS] = {
	"poll", "select", "epoll", "epoll-et", "blocking read",
};

/* A waiter of KIND on CHANNEL of slot 0; exits 0 once it saw a message. */
static pid_t waiter(enum kind kind, unsigned long channel)
{
	pid_t pid = fork();
	struct epoll_event ev = { .events = EPOLLIN };
	char buf[MSG_SLOT_MAX_MSG_LEN];
	struct pollfd p;
	fd_set rd;
	int fd, ep;

	assert_true(pid >= 0);
	if (pid)
		return pid;
	fd = kt_slot_child_open_chan(0, channel);
	switch (kind) {
	case K_POLL:
		p = (struct pollfd){ .fd = fd, .events = POLLIN };
		_exit(poll(&p, 1, -1) == 1 && p.revents == POLLIN ? 0 : 1);
	case K_SELECT:
		FD_ZERO(&rd);
		FD_SET(fd, &rd);
		_exit(select(fd + 1, &rd, NULL, NULL, NULL) == 1 ? 0 : 2);
	case K_EPOLL:
	case K_EPOLLET:
		ep = epoll_create1(0);
		if (kind == K_EPOLLET)
			ev.events |= EPOLLET;
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
			_exit(3);
		_exit(epoll_wait(ep, &ev, 1, -1) == 1 ? 0 : 4);
	case K_BLOCKING:
		if (ioctl(fd, MSG_SLOT_SET_BLOCKING, 1))
			_exit(5);
		_exit(read(fd, buf, sizeof(buf)) > 0 ? 0 : 6);
	default:
		_exit(7);
	}
}

/* PID exits with status 0 within 10 s. */
static void reaped_ok(pid_t pid)
{
	long t0 = kt_now_ms();
	int st;

	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (kt_now_ms() - t0 > 10000) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			fail_msg("waiter %d was not woken by its channel",
				 (int)pid);
		}
		usleep(10000);
	}
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/*
 * Channels that share the module's wake-up bucket with WRITTEN
 * (hash_32(id, 6), as kernel/message_slot.c hashes them): white-box, so
 * that the walk over a shared bucket is covered, not only empty ones.
 */
static unsigned int bucket(unsigned int id)
{
	return (unsigned int)(id * 0x61C88647u) >> 26;
}

#define PER_KIND 6

static void test_herd(void **state)
{
	unsigned long chans[NKINDS * PER_KIND];
	pid_t pids[NKINDS * PER_KIND];
	long before[NKINDS * PER_KIND];
	unsigned int id, n = 0, shared = 0;
	int fd, i;

	(void)state;
	/* half in WRITTEN's bucket, half the next channels */
	for (id = WRITTEN + 1; shared < NKINDS * PER_KIND / 2; id++)
		if (bucket(id) == bucket(WRITTEN))
			chans[n++] = id, shared++;
	for (id = WRITTEN + 1; n < NKINDS * PER_KIND; id++)
		if (bucket(id) != bucket(WRITTEN))
			chans[n++] = id;
	for (i = 0; i < (int)n; i++)
		pids[i] = waiter((enum kind)(i % NKINDS), chans[i]);
	for (i = 0; i < (int)n; i++) {
		kt_wait_asleep(pids[i]);
		before[i] = kt_ctxsw(pids[i]);
	}
	fd = kt_slot_open_chan(0, WRITTEN);
	for (i = 0; i < 3000; i++) {
		kt_slot_put(fd, "herd", 4);
		if (i % 100 == 0) {	/* and channels nobody waits on */
			kt_slot_chan(fd, 100000 + i);
			kt_slot_put(fd, "x", 1);
			kt_slot_chan(fd, WRITTEN);
		}
	}
	usleep(100000);
	for (i = 0; i < (int)n; i++)
		if (kt_ctxsw(pids[i]) != before[i])
			fail_msg("%s waiter on channel %lu woken %ld times by"
				 " writes to channel %d", kind_names[i % NKINDS],
				 chans[i], kt_ctxsw(pids[i]) - before[i],
				 WRITTEN);
	printf("# %u idle waiters (%d kinds, %u in channel %d's bucket): not"
	       " woken by 3,030 writes\n", n, NKINDS, shared, WRITTEN);
	/* each is woken by its own channel */
	for (i = 0; i < (int)n; i++) {
		kt_slot_chan(fd, chans[i]);
		kt_slot_put(fd, "yours", 5);
	}
	for (i = 0; i < (int)n; i++)
		reaped_ok(pids[i]);
	close(fd);
}

static int ready(int ep)
{
	struct epoll_event ev;

	return epoll_wait(ep, &ev, 1, 0);
}

static void test_epoll_switch(void **state)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int f = kt_slot_open_chan(1, 5), w = kt_slot_open(1, 0);	/* a fresh slot */
	int ep = epoll_create1(EPOLL_CLOEXEC);
	char buf[16];
	long before;
	pid_t pid;
	int st;

	(void)state;
	assert_true(ep >= 0);
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, f, &ev), 0);
	kt_slot_chan(w, 6);
	kt_slot_put_str(w, "six");
	assert_int_equal(ready(ep), 0);
	/* switched to 6: its unread message is reported at once */
	kt_slot_chan(f, 6);
	assert_int_equal(ready(ep), 1);
	kt_slot_expect_str(f, "six");
	assert_int_equal(ready(ep), 0);
	/* the old channel no longer counts, the new one does */
	kt_slot_chan(w, 5);
	kt_slot_put_str(w, "five");
	assert_int_equal(ready(ep), 0);
	kt_slot_chan(w, 6);
	kt_slot_put_str(w, "six again");
	assert_int_equal(ready(ep), 1);
	kt_slot_expect_str(f, "six again");

	/* a process blocked in epoll_wait: channel 5 does not wake it ... */
	kt_slot_chan(w, 7);
	kt_slot_put_str(w, "seven");
	pid = fork();
	assert_true(pid >= 0);
	if (!pid)
		_exit(epoll_wait(ep, &ev, 1, -1) == 1 &&
		      ev.events == EPOLLIN ? 0 : 1);
	kt_wait_asleep(pid);
	before = kt_ctxsw(pid);
	kt_slot_chan(w, 5);
	for (st = 0; st < 500; st++)
		kt_slot_put_str(w, "not yours");
	usleep(50000);
	assert_int_equal(kt_ctxsw(pid), before);
	/* ... switching the shared file to 7 (a message waits) does */
	kt_slot_chan(f, 7);
	reaped_ok(pid);
	assert_int_equal(read(f, buf, sizeof(buf)), 5);
	close(ep);
	close(f);
	close(w);
}

static void test_blocking_switch(void **state)
{
	int f = kt_slot_open_chan(2, 8), w = kt_slot_open_chan(2, 9);
	char buf[16];
	pid_t pid;

	(void)state;
	kt_slot_put_str(w, "nine");
	assert_int_equal(ioctl(f, MSG_SLOT_SET_BLOCKING, 1), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid)
		/* waits on 8, gets 9's message once the file switches */
		_exit(read(f, buf, sizeof(buf)) == 4 &&
		      !memcmp(buf, "nine", 4) ? 0 : 1);
	kt_wait_asleep(pid);
	kt_slot_chan(f, 9);
	reaped_ok(pid);
	close(f);
	close(w);
}

static void test_oneshot_exclusive(void **state)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT };
	int f = kt_slot_open_chan(3, 20), w = kt_slot_open_chan(3, 20);
	int ep = epoll_create1(EPOLL_CLOEXEC), ep1, ep2, i, st;
	pid_t p[2];
	long b[2];
	bool done[2] = { false, false };
	int j;

	(void)state;
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, f, &ev), 0);
	kt_slot_put_str(w, "one");
	assert_int_equal(ready(ep), 1);
	/* disarmed until EPOLL_CTL_MOD, even with a new message */
	kt_slot_put_str(w, "two");
	assert_int_equal(ready(ep), 0);
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_MOD, f, &ev), 0);
	assert_int_equal(ready(ep), 1);
	kt_slot_expect_str(f, "two");
	close(ep);

	/* EPOLLEXCLUSIVE: two epoll sets on one file, one blocked in each */
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ep1 = epoll_create1(0);
	ep2 = epoll_create1(0);
	assert_int_equal(epoll_ctl(ep1, EPOLL_CTL_ADD, f, &ev), 0);
	assert_int_equal(epoll_ctl(ep2, EPOLL_CTL_ADD, f, &ev), 0);
	for (j = 0; j < 2; j++) {
		p[j] = fork();
		assert_true(p[j] >= 0);
		if (!p[j])
			_exit(epoll_wait(j ? ep2 : ep1, &ev, 1, -1) == 1 ? 0 : 1);
	}
	for (j = 0; j < 2; j++) {
		kt_wait_asleep(p[j]);
		b[j] = kt_ctxsw(p[j]);
	}
	kt_slot_chan(w, 21);
	for (i = 0; i < 500; i++)
		kt_slot_put_str(w, "other channel");
	usleep(50000);
	for (j = 0; j < 2; j++)
		assert_int_equal(kt_ctxsw(p[j]), b[j]);
	/* one message wakes one or more of them; more messages the rest */
	kt_slot_chan(w, 20);
	for (i = 1; i <= 100 && !(done[0] && done[1]); i++) {
		kt_slot_put_str(w, "wake");
		usleep(20000);
		for (j = 0; j < 2; j++)
			if (!done[j] && waitpid(p[j], &st, WNOHANG) == p[j]) {
				done[j] = true;
				assert_true(WIFEXITED(st));
				assert_int_equal(WEXITSTATUS(st), 0);
			}
	}
	if (!(done[0] && done[1])) {
		for (j = 0; j < 2; j++)
			if (!done[j])
				kill(p[j], SIGKILL), waitpid(p[j], &st, 0);
		fail_msg("EPOLLEXCLUSIVE waiters not all woken");
	}
	printf("# EPOLLEXCLUSIVE: both waiters woken after %d messages\n",
	       i - 1);
	close(ep1);
	close(ep2);
	close(f);
	close(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_herd),
		cmocka_unit_test(test_epoll_switch),
		cmocka_unit_test(test_blocking_switch),
		cmocka_unit_test(test_oneshot_exclusive),
	};

	return kt_run_group(tests, kt_slot_setup, kt_slot_teardown);
}
