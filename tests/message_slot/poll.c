// SPDX-License-Identifier: GPL-2.0
/*
 * message_slot/poll - notification extensions: poll/select/epoll readiness
 * (a message this file has not read yet), wake-up by another process, the
 * opt-in blocking read with O_NONBLOCK, signals (EINTR and SA_RESTART), and
 * that without the opt-in reads behave exactly like the course's.
 */
#include "lib/kt.h"
#include "lib/kt_slot.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

static short revents(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };

	p.events |= timeout_ms ? 0 : POLLRDNORM | POLLWRNORM;
	int r = poll(&p, 1, timeout_ms);

	assert_true(r >= 0);
	if (!timeout_ms && r) {
		/* the *NORM bits come with their plain counterparts */
		assert_int_equal(!!(p.revents & POLLIN),
				 !!(p.revents & POLLRDNORM));
		assert_int_equal(!!(p.revents & POLLOUT),
				 !!(p.revents & POLLWRNORM));
	}
	return r ? p.revents & (POLLIN | POLLOUT | POLLERR | POLLHUP) : 0;
}

/* poll() reports only the requested events (plus errors) */
/* Wait for POLLIN alone (POLLOUT is always there); returns revents. */
static short wait_in(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r = poll(&p, 1, timeout_ms);

	assert_true(r >= 0);
	return r ? p.revents : 0;
}

#define RW (POLLIN | POLLOUT)
#define WO POLLOUT

static void test_poll_readiness(void **state)
{
	int a = kt_slot_open(0, 0), b = kt_slot_open_chan(0, 1);
	char buf[8];

	(void)state;
	assert_int_equal(revents(a, 0), WO);	/* no channel: writable only */
	kt_slot_chan(a, 1);
	assert_int_equal(revents(a, 0), WO);	/* no message */
	kt_slot_put_str(b, "one");
	assert_int_equal(revents(a, 0), RW);
	assert_int_equal(revents(b, 0), RW);	/* the writer has not read it */
	/* a failed read (too small) does not mark the message read */
	assert_int_equal(read(a, buf, 2), -1);
	assert_int_equal(revents(a, 0), RW);
	kt_slot_expect_str(a, "one");
	assert_int_equal(revents(a, 0), WO);
	assert_int_equal(revents(b, 0), RW);	/* per open file */
	/* the same bytes again are a new message */
	kt_slot_put_str(b, "one");
	assert_int_equal(revents(a, 0), RW);
	kt_slot_expect_str(a, "one");
	/* selecting the same channel keeps the mark, another one resets it */
	kt_slot_chan(a, 1);
	assert_int_equal(revents(a, 0), WO);
	kt_slot_chan(a, 2);
	assert_int_equal(revents(a, 0), WO);
	kt_slot_chan(a, 1);
	assert_int_equal(revents(a, 0), RW);
	/* without the opt-in a read never blocks and repeats the message */
	kt_slot_expect_str(a, "one");
	kt_slot_expect_str(a, "one");
	/* a failed write does not make anything readable */
	assert_int_equal(write(b, buf, 0), -1);
	assert_int_equal(revents(a, 0), WO);
	/* writes on other channels and minors do not either */
	kt_slot_chan(b, 2);
	kt_slot_put_str(b, "two");
	assert_int_equal(revents(a, 0), WO);
	close(a);
	close(b);
}

static void test_select(void **state)
{
	int a = kt_slot_open_chan(1, 5), b = kt_slot_open_chan(1, 5);
	struct timeval tv = { 0, 0 };
	fd_set r, w;

	(void)state;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(a, &r);
	FD_SET(a, &w);
	assert_int_equal(select(a + 1, &r, &w, NULL, &tv), 1);
	assert_false(FD_ISSET(a, &r));
	assert_true(FD_ISSET(a, &w));
	kt_slot_put_str(b, "x");
	FD_SET(a, &r);
	assert_int_equal(select(a + 1, &r, NULL, NULL, &tv), 1);
	assert_true(FD_ISSET(a, &r));
	close(a);
	close(b);
}

struct later {
	unsigned int minor;
	unsigned long chan;
	int delay_ms;
	const char *msg;
	pid_t sig_to;		/* also send SIGUSR1 to this process first */
	int sig_delay_ms;
};

static void write_later(void *arg)
{
	const struct later *l = arg;
	int fd;

	if (l->sig_to) {
		usleep(l->sig_delay_ms * 1000);
		kill(l->sig_to, SIGUSR1);
	}
	usleep(l->delay_ms * 1000);
	fd = kt_slot_child_open_chan(l->minor, l->chan);
	if (write(fd, l->msg, strlen(l->msg)) != (ssize_t)strlen(l->msg))
		_exit(3);
	close(fd);
}

static pid_t spawn(void (*fn)(void *), void *arg)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	return pid;
}

static void reap(pid_t pid)
{
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_poll_wakeup(void **state)
{
	struct later l = { 2, 9, 300, "wake", 0, 0 };
	struct later other = { 2, 8, 100, "other channel", 0, 0 };
	int a = kt_slot_open_chan(2, 9);
	long t0 = kt_now_ms(), dt;
	pid_t p1, p2;

	(void)state;
	p1 = spawn(write_later, &other);
	p2 = spawn(write_later, &l);
	assert_int_equal(wait_in(a, 5000), POLLIN);
	dt = kt_now_ms() - t0;
	assert_true(dt >= 250);
	assert_true(dt < 4000);
	kt_slot_expect_str(a, "wake");
	reap(p1);
	reap(p2);
	close(a);
}

static void test_epoll(void **state)
{
	struct later l = { 3, 1, 200, "e2", 0, 0 };
	int a = kt_slot_open_chan(3, 1), b = kt_slot_open_chan(3, 1);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	long t0;
	pid_t p;

	(void)state;
	assert_true(ep >= 0);
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev), 0);
	assert_int_equal(epoll_wait(ep, &ev, 1, 0), 0);
	kt_slot_put_str(b, "e1");
	assert_int_equal(epoll_wait(ep, &ev, 1, 1000), 1);
	assert_int_equal(ev.events, EPOLLIN);
	/* edge-triggered: reported once per new message */
	assert_int_equal(epoll_wait(ep, &ev, 1, 0), 0);
	kt_slot_expect_str(a, "e1");
	t0 = kt_now_ms();
	p = spawn(write_later, &l);
	assert_int_equal(epoll_wait(ep, &ev, 1, 5000), 1);
	assert_true(kt_now_ms() - t0 >= 150);
	kt_slot_expect_str(a, "e2");
	reap(p);
	/* level-triggered: readable until read */
	ev.events = EPOLLIN;
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_MOD, a, &ev), 0);
	assert_int_equal(epoll_wait(ep, &ev, 1, 0), 0);
	kt_slot_put_str(b, "e3");
	assert_int_equal(epoll_wait(ep, &ev, 1, 0), 1);
	assert_int_equal(epoll_wait(ep, &ev, 1, 0), 1);
	kt_slot_expect_str(a, "e3");
	assert_int_equal(epoll_wait(ep, &ev, 1, 0), 0);
	close(ep);
	close(a);
	close(b);
}

static void test_blocking_read(void **state)
{
	struct later l = { 4, 3, 300, "newer", 0, 0 };
	int a = kt_slot_open(4, 0), b = kt_slot_open_chan(4, 3);
	char buf[16];
	long t0;
	pid_t p;

	(void)state;
	assert_int_equal(kt_err(ioctl(a, MSG_SLOT_SET_BLOCKING, 2)), -EINVAL);
	assert_int_equal(ioctl(a, MSG_SLOT_SET_BLOCKING, 1), 0);
	/* no channel is still EINVAL, immediately */
	assert_int_equal(kt_err(read(a, buf, sizeof(buf))), -EINVAL);
	kt_slot_chan(a, 3);
	kt_slot_put_str(b, "first");
	kt_slot_expect_str(a, "first");		/* unread: returns at once */
	t0 = kt_now_ms();
	p = spawn(write_later, &l);
	kt_slot_expect_str(a, "newer");		/* waits for the next one */
	assert_true(kt_now_ms() - t0 >= 250);
	reap(p);
	/* ENOSPC after the wait does not mark the message read */
	kt_slot_put_str(b, "0123456789");
	assert_int_equal(kt_err(read(a, buf, 4)), -ENOSPC);
	kt_slot_expect_str(a, "0123456789");
	/* O_NONBLOCK: EAGAIN instead of waiting */
	assert_int_equal(fcntl(a, F_SETFL, O_NONBLOCK), 0);
	t0 = kt_now_ms();
	assert_int_equal(kt_err(read(a, buf, sizeof(buf))), -EAGAIN);
	assert_true(kt_now_ms() - t0 < 1000);
	kt_slot_put_str(b, "nb");
	kt_slot_expect_str(a, "nb");
	assert_int_equal(kt_err(read(a, buf, sizeof(buf))), -EAGAIN);
	/* an empty channel with O_NONBLOCK */
	kt_slot_chan(a, 4);
	assert_int_equal(kt_err(read(a, buf, sizeof(buf))), -EAGAIN);
	/* opting out restores the course behaviour */
	assert_int_equal(ioctl(a, MSG_SLOT_SET_BLOCKING_LONG, 0UL), 0);
	assert_int_equal(fcntl(a, F_SETFL, 0), 0);
	assert_int_equal(kt_err(read(a, buf, sizeof(buf))), -EWOULDBLOCK);
	kt_slot_chan(a, 3);
	kt_slot_expect_str(a, "nb");
	kt_slot_expect_str(a, "nb");
	close(a);
	close(b);
}

static volatile sig_atomic_t got_sig;

static void on_usr1(int sig)
{
	(void)sig;
	got_sig++;
}

static void test_blocking_signal(void **state)
{
	struct later l = { 5, 1, 200, "after signal", getpid(), 500 };
	struct sigaction sa = { .sa_handler = on_usr1 };
	int a = kt_slot_open_chan(5, 1);
	char buf[16];
	long t0;
	pid_t p;

	(void)state;
	assert_int_equal(ioctl(a, MSG_SLOT_SET_BLOCKING, 1), 0);
	/* without SA_RESTART: EINTR */
	got_sig = 0;
	assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
	t0 = kt_now_ms();
	l.delay_ms = 2000;	/* the message comes much later */
	p = spawn(write_later, &l);
	assert_int_equal(kt_err(read(a, buf, sizeof(buf))), -EINTR);
	assert_int_equal(got_sig, 1);
	assert_true(kt_now_ms() - t0 < 2400);
	kt_slot_expect_str(a, "after signal");	/* blocks until it comes */
	reap(p);
	/* with SA_RESTART: the read restarts and gets the message */
	sa.sa_flags = SA_RESTART;
	assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
	got_sig = 0;
	l.delay_ms = 300;
	l.msg = "restarted";
	p = spawn(write_later, &l);
	kt_slot_expect_str(a, "restarted");
	assert_int_equal(got_sig, 1);
	reap(p);
	signal(SIGUSR1, SIG_DFL);
	close(a);
}

/* A reader blocked in read() can be killed; nothing stays behind. */
static void blocked_reader(void *arg)
{
	int fd = kt_slot_child_open_chan(6, 1), *ready = arg;
	char buf[8];

	if (ioctl(fd, MSG_SLOT_SET_BLOCKING, 1))
		_exit(2);
	if (write(ready[1], "r", 1) != 1)
		_exit(5);
	_exit(read(fd, buf, sizeof(buf)) < 0 ? 3 : 4);
}

static void test_blocking_kill(void **state)
{
	int st, ready[2];
	char c;
	pid_t p;

	(void)state;
	assert_int_equal(pipe(ready), 0);
	p = spawn(blocked_reader, ready);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	close(ready[1]);
	usleep(200000);		/* now it sleeps in read() */
	/* the module cannot go while the reader waits */
	assert_int_equal(kt_unload("message_slot"), -EWOULDBLOCK);
	assert_int_equal(kill(p, SIGKILL), 0);
	assert_int_equal(waitpid(p, &st, 0), p);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(kt_unload("message_slot"), 0);
	assert_int_equal(kt_slot_load(NULL), 0);
}

/* Several blocked readers on one channel all wake for one message. */
static void counted_reader(void *arg)
{
	int fd = kt_slot_child_open_chan(7, 1);
	char buf[8];

	(void)arg;
	if (ioctl(fd, MSG_SLOT_SET_BLOCKING, 1))
		_exit(2);
	_exit(read(fd, buf, sizeof(buf)) == 3 && !memcmp(buf, "all", 3) ? 0 : 4);
}

static void test_blocking_many(void **state)
{
	struct later l = { 7, 1, 500, "all", 0, 0 };
	pid_t p[4], w;
	int i;

	(void)state;
	for (i = 0; i < 4; i++)
		p[i] = spawn(counted_reader, NULL);
	w = spawn(write_later, &l);
	for (i = 0; i < 4; i++)
		reap(p[i]);
	reap(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_poll_readiness),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_poll_wakeup),
		cmocka_unit_test(test_epoll),
		cmocka_unit_test(test_blocking_read),
		cmocka_unit_test(test_blocking_signal),
		cmocka_unit_test(test_blocking_kill),
		cmocka_unit_test(test_blocking_many),
	};

	return kt_run_group(tests, kt_slot_setup, kt_slot_teardown);
}
