// SPDX-License-Identifier: GPL-2.0
/*
 * kshm/sync - process-shared synchronization in kshm objects (issue 12):
 * every scenario of tests/lib/kt_sync.h (mutex + condvar ping-pong across
 * fork and between two exec'd programs that open the object by name,
 * robust mutex with a SIGKILLed holder, semaphore handoff, FUTEX_WAIT
 * timing out, FUTEX_WAKE across processes, rwlock, barrier), in the last
 * page of objects of 1 and of 32 pages (the default max_pages); and
 * (issue 26.9) a thread left asleep in FUTEX_WAIT on an object that died
 * under it is not woken by FUTEX_WAKE on any later object, also across
 * the module's switch to a new shmem file.
 */
#include "lib/kt.h"
#include "lib/kt_kshm.h"
#include "lib/kt_sync.h"

#include <kipc/kshm.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PG 4096
/* Objects made after the dead one: past kshm's 256 per shmem file. */
#define LATER_OBJECTS 300

static void run_in(const char *name, size_t pages)
{
	struct kt_region r = { true, name, pages * PG };
	void *p = NULL;
	int fd;

	fd = kshm_open_mode(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		fail_msg("kshm_open %s: %s", name, strerror(errno));
	assert_int_equal(kshm_trunc(fd, pages * PG), pages * PG);
	assert_int_equal(kshm_map(fd, &p, O_RDWR), 0);
	kt_sync_all(&r, p);
	assert_int_equal(kshm_close(fd), 0);
	assert_int_equal(kt_kshm_counter("objects"), 0);
	assert_int_equal(kt_kshm_counter("pages"), 0);
}

static void test_one_page(void **state)
{
	(void)state;
	run_in("sync-1", 1);
}

static void test_32_pages(void **state)
{
	(void)state;
	run_in("/sync 32 pages", 32);
}

/* ---- a waiter on a dead object ---------------------------------------- */

struct waiter {
	uint32_t *word;		/* the futex, in the object */
	pid_t tid;		/* set by the thread before it waits */
	long ret;		/* FUTEX_WAIT's result and errno */
	int err;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;
	/* bounds the test if the wake-up signal is lost */
	struct timespec timeout = { 30, 0 };

	__atomic_store_n(&w->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	w->ret = syscall(SYS_futex, w->word, FUTEX_WAIT, 0, &timeout, NULL, 0);
	w->err = errno;
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;	/* only to interrupt FUTEX_WAIT (no SA_RESTART) */
}

/* The state letter of thread TID of this process ('S': sleeping). */
static char thread_state(pid_t tid)
{
	char path[64], buf[256], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	f = fopen(path, "r");
	if (!f)
		return '?';
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

/* Map a new object of 32 pages; *FD its descriptor. */
static uint32_t *map_object(const char *name, int *fd)
{
	void *p = NULL;

	*fd = kshm_open_mode(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (*fd < 0)
		fail_msg("kshm_open %s: %s", name, strerror(errno));
	assert_int_equal(kshm_trunc(*fd, 32 * PG), 32 * PG);
	assert_int_equal(kshm_map(*fd, &p, O_RDWR), 0);
	return p;
}

/*
 * A thread sleeps in FUTEX_WAIT on a word in the last page of an object;
 * another thread closes and unmaps the object, which dies with it.  Then
 * LATER_OBJECTS new objects, one at a time, FUTEX_WAKE the same offset:
 * none may reach the sleeper (a process-shared futex is keyed by the shmem
 * inode and page index; a reused range would be the same futex).  Before
 * the fix the first new object took the dead one's range and woke it.
 */
static void test_dead_object_waiter(void **state)
{
	const size_t off = 31 * PG + 64;
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct waiter w = { 0 };
	pthread_t th;
	char name[32];
	int fd, i, tries;

	(void)state;
	assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
	w.word = (uint32_t *)((char *)map_object("futex-dead", &fd) + off);
	*w.word = 0;
	assert_int_equal(pthread_create(&th, NULL, wait_thread, &w), 0);
	for (tries = 0; tries < 1000; tries++) {
		pid_t tid = __atomic_load_n(&w.tid, __ATOMIC_SEQ_CST);

		if (tid && thread_state(tid) == 'S')
			break;
		usleep(2000);
	}
	assert_true(tries < 1000);
	assert_int_equal(kshm_close(fd), 0);	/* unmaps: the object dies */
	assert_int_equal(kt_kshm_counter("objects"), 0);
	assert_int_equal(kt_kshm_counter("pages"), 0);

	for (i = 0; i < LATER_OBJECTS; i++) {
		uint32_t *word;
		long woken;

		snprintf(name, sizeof(name), "futex-new-%d", i);
		word = (uint32_t *)((char *)map_object(name, &fd) + off);
		woken = syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL,
				NULL, 0);
		assert_int_equal(kshm_close(fd), 0);
		if (woken)
			fail_msg("object %d woke %ld waiter(s) of a dead object",
				 i, woken);
	}
	/* still asleep: only the signal ends its wait */
	assert_int_equal(thread_state(w.tid), 'S');
	assert_int_equal(pthread_kill(th, SIGUSR1), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(w.ret, -1);
	assert_int_equal(w.err, EINTR);
	assert_int_equal(kt_kshm_counter("objects"), 0);
}

static int setup(void **state)
{
	(void)state;
	kt_unload_if_loaded("kshm");
	return kt_load("kshm", NULL);
}

static int teardown(void **state)
{
	(void)state;
	return kt_kshm_unload();
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_page),
		cmocka_unit_test(test_32_pages),
		cmocka_unit_test(test_dead_object_waiter),
	};
	int peer = kt_sync_peer_main(argc, argv);

	if (peer >= 0)
		return peer;
	return kt_run_group(tests, setup, teardown);
}
