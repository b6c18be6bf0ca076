// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem/sync - process-shared synchronization in /dev/ivshmemN mappings
 * (issue 24, item 1), on the plain and on the doorbell device: every
 * scenario of tests/lib/kt_sync.h (the suite myshm and kshm pass: mutex +
 * condvar across fork and between two exec'd programs, robust mutex with
 * a SIGKILLed holder, semaphore, shared FUTEX_WAIT/FUTEX_WAKE, rwlock,
 * barrier), plus a priority-inheritance process-shared mutex handed
 * between two processes (FUTEX_LOCK_PI/UNLOCK_PI on a shared key) and
 * private FUTEX_WAIT/FUTEX_WAKE between two threads.  Before BAR2 had
 * struct pages, every shared futex failed with EFAULT here.
 *
 * Needs the devices tests/run-suite attaches (both 4 MiB: BAR2 must be
 * 2 MiB-aligned for struct pages).
 */
#include "ivshmem/ivs.h"
#include "lib/kt_sync.h"

#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <kipc/myshm.h>

#define PI_ROUNDS 200

/* The region's first page: what the extra scenarios share. */
struct extra {
	pthread_mutex_t pi;
	atomic_uint turn;	/* whose round: 0 parent, 1 child */
	unsigned int counter;
	atomic_uint word;	/* the private futex */
};

static void pi_rounds(struct extra *e, unsigned int me)
{
	int i;

	for (i = 0; i < PI_ROUNDS; i++) {
		for (;;) {
			if (pthread_mutex_lock(&e->pi))
				_exit(3);
			if (atomic_load(&e->turn) == me)
				break;
			pthread_mutex_unlock(&e->pi);
			sched_yield();
		}
		e->counter++;
		atomic_store(&e->turn, !me);
		if (pthread_mutex_unlock(&e->pi))
			_exit(4);
	}
}

static void scenario_pi(struct extra *e)
{
	pthread_mutexattr_t ma;
	pid_t pid;
	int st;

	assert_int_equal(pthread_mutexattr_init(&ma), 0);
	assert_int_equal(pthread_mutexattr_setpshared(&ma,
						      PTHREAD_PROCESS_SHARED), 0);
	assert_int_equal(pthread_mutexattr_setprotocol(&ma,
						       PTHREAD_PRIO_INHERIT), 0);
	assert_int_equal(pthread_mutex_init(&e->pi, &ma), 0);
	e->counter = 0;
	atomic_store(&e->turn, 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		alarm(60);
		pi_rounds(e, 1);
		_exit(0);
	}
	pi_rounds(e, 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(e->counter, 2 * PI_ROUNDS);
	/* held by nobody: the lock word is 0 again (no FUTEX_WAITERS left) */
	assert_int_equal(pthread_mutex_trylock(&e->pi), 0);
	assert_int_equal(pthread_mutex_unlock(&e->pi), 0);
	pthread_mutex_destroy(&e->pi);
}

static void *private_waiter(void *arg)
{
	struct extra *e = arg;
	long r;

	r = syscall(SYS_futex, &e->word, FUTEX_WAIT_PRIVATE, 0, NULL,
		    NULL, 0);
	return (void *)(r == 0 || (r < 0 && errno == EAGAIN) ? 0L : 1L);
}

static void scenario_private(struct extra *e)
{
	pthread_t t;
	void *ret;
	long woken = 0;
	int i;

	atomic_store(&e->word, 0);
	assert_int_equal(pthread_create(&t, NULL, private_waiter, e), 0);
	for (i = 0; i < 500 && !woken; i++) {
		usleep(10000);
		woken = syscall(SYS_futex, &e->word, FUTEX_WAKE_PRIVATE, 1,
				NULL, NULL, 0);
		assert_true(woken >= 0);
	}
	assert_int_equal(woken, 1);
	pthread_join(t, &ret);
	assert_null(ret);
	/* and a private wait that times out */
	{
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		assert_int_equal(syscall(SYS_futex, &e->word,
					 FUTEX_WAIT_PRIVATE, 0, &ts, NULL,
					 0), -1);
		assert_int_equal(errno, ETIMEDOUT);
	}
}

static void run_on(const char *dev)
{
	struct kt_region r = { false, dev, 0 };
	__u64 sz;
	void *p;
	int fd;

	fd = xopen(dev, O_RDWR);
	assert_int_equal(ioctl(fd, MYSHM_GET_SIZE, &sz), 0);
	r.size = sz;
	p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_ptr_not_equal(p, MAP_FAILED);
	kt_sync_all(&r, p);
	scenario_pi(p);
	printf("# ivshmem %s: PI process-shared mutex, %d hand-offs: ok\n",
	       dev, PI_ROUNDS);
	scenario_private(p);
	printf("# ivshmem %s: private FUTEX_WAIT/WAKE: ok\n", dev);
	assert_int_equal(munmap(p, sz), 0);
	close(fd);
}

static void test_plain(void **state)
{
	(void)state;
	NEED(plain);
	need_pages(plain);
	run_on(plain);
}

static void test_doorbell(void **state)
{
	(void)state;
	NEED(bell);
	need_pages(bell);
	run_on(bell);
}

int main(int argc, char **argv)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, load, unload)
	const struct CMUnitTest tests[] = {
		T(test_plain),
		T(test_doorbell),
	};
	int peer = kt_sync_peer_main(argc, argv);

	if (peer >= 0)
		return peer;
	return kt_run_group(tests, NULL, NULL);
}
