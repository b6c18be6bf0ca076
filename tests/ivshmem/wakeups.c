// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem/wakeups - a doorbell wakes only who waits for it (issue 26,
 * item 7): a process asleep in KIPC_IVSHMEM_WAIT on vector 0, and one
 * asleep in poll() on a file that watches vector 0 only, are not woken
 * (their voluntary context switches do not move) by interrupts on vector
 * 1 or by another file's KIPC_IVSHMEM_SET_POLL; a doorbell on vector 0
 * then wakes both.
 *
 * Needs the doorbell device (2 vectors) tests/run-suite attaches.
 */
#include "ivshmem/ivs.h"
#include "lib/kt_sys.h"

#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>

#define ROUNDS 30

static void waiter(void *arg)
{
	int fd = open(bell, O_RDWR | O_CLOEXEC);

	(void)arg;
	alarm(60);
	_exit(fd >= 0 && waitv(fd, 0, -1, NULL) == 0 ? 0 : 1);
}

static void poller(void *arg)
{
	int fd = open(bell, O_RDWR | O_CLOEXEC);
	__u64 mask = 1;	/* vector 0 only */
	struct pollfd p = { fd, POLLIN, 0 };

	(void)arg;
	alarm(60);
	if (fd < 0 || ioctl(fd, KIPC_IVSHMEM_SET_POLL, &mask))
		_exit(2);
	_exit(poll(&p, 1, -1) == 1 && (p.revents & POLLIN) ? 0 : 1);
}

static pid_t spawn(void (*fn)(void *))
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (!pid)
		fn(NULL);
	return pid;
}

static void test_other_vector_wakes_nobody(void **state)
{
	__u64 mask = 3;
	long w0, p0, w1, p1;
	pid_t w, p;
	int fd, i, st;

	(void)state;
	NEED(bell);
	fd = xopen(bell, O_RDWR);
	w = spawn(waiter);
	p = spawn(poller);
	kt_wait_asleep(w);
	kt_wait_asleep(p);
	w0 = kt_ctxsw(w);
	p0 = kt_ctxsw(p);
	for (i = 0; i < ROUNDS; i++) {
		/* one interrupt on vector 1 per round: wait for it */
		assert_int_equal(ring(fd, my_id(fd), 1), 0);
		assert_int_equal(waitv(fd, 1, 5000, NULL), 0);
		/* and a SET_POLL on another file */
		assert_int_equal(ioctl(fd, KIPC_IVSHMEM_SET_POLL, &mask), 0);
	}
	usleep(100000);
	w1 = kt_ctxsw(w);
	p1 = kt_ctxsw(p);
	printf("# %d rounds: waiter woken %ld times, poller %ld times\n",
	       ROUNDS, w1 - w0, p1 - p0);
	/* nothing but their own vector may wake them: not even once */
	assert_int_equal(w1 - w0, 0);
	assert_int_equal(p1 - p0, 0);
	assert_int_equal(waitpid(w, &st, WNOHANG), 0);
	assert_int_equal(waitpid(p, &st, WNOHANG), 0);
	/* their own vector wakes both */
	assert_int_equal(ring(fd, my_id(fd), 0), 0);
	assert_int_equal(waitpid(w, &st, 0), w);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(waitpid(p, &st, 0), p);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(fd);
}

struct poll_arg {
	int fd;
	int ret;
	short revents;
};

static void *poll_thread(void *arg)
{
	struct poll_arg *a = arg;
	struct pollfd p = { a->fd, POLLIN, 0 };

	a->ret = poll(&p, 1, 20000);
	a->revents = p.revents;
	return NULL;
}

/*
 * A poller asleep on a file that watches vector 0 while vector 1 has an
 * unconsumed event: SET_POLL on that file widening the mask to vector 1
 * wakes it at once.
 */
static void test_set_poll_wakes_own_file(void **state)
{
	struct poll_arg a = { .ret = -2 };
	__u64 mask = 1, c;
	pthread_t t;
	int fd, i;

	(void)state;
	NEED(bell);
	fd = xopen(bell, O_RDWR);
	assert_int_equal(ioctl(fd, KIPC_IVSHMEM_SET_POLL, &mask), 0);
	/* an event on vector 1, noticed (count moved) but not consumed */
	assert_int_equal(waitv(fd, 1, 0, &c), -1);
	assert_int_equal(ring(fd, my_id(fd), 1), 0);
	for (i = 0; i < 250; i++) {
		struct kipc_ivshmem_info info;
		char v[64], *sp;

		assert_int_equal(ioctl(fd, KIPC_IVSHMEM_GET_INFO, &info), 0);
		read_attr(bell, "events", v, sizeof(v));
		sp = strchr(v, ' ');
		if (sp && strtoull(sp + 1, NULL, 10) > c)
			break;
		usleep(20000);
	}
	a.fd = fd;
	assert_int_equal(pthread_create(&t, NULL, poll_thread, &a), 0);
	usleep(300000);
	assert_int_equal(a.ret, -2);	/* asleep: vector 1 is not watched */
	mask = 2;
	assert_int_equal(ioctl(fd, KIPC_IVSHMEM_SET_POLL, &mask), 0);
	pthread_join(t, NULL);
	assert_int_equal(a.ret, 1);
	assert_true(a.revents & POLLIN);
	close(fd);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, load, unload)
	const struct CMUnitTest tests[] = {
		T(test_other_vector_wakes_nobody),
		T(test_set_poll_wakes_own_file),
	};

	return kt_run_group(tests, NULL, NULL);
}
