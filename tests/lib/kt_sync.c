// SPDX-License-Identifier: GPL-2.0
/* kt_sync.c - process-shared synchronization scenarios; see kt_sync.h. */
#include "kt_sync.h"
#include "kt.h"

#include <kipc/kshm.h>
#include <kipc/myshm.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PG 4096UL
#define ROUNDS 500		/* ping-pong round trips per pair */
#define SEM_ROUNDS 500
#define RW_ROUNDS 300
#define BARRIER_ROUNDS 40
#define CHILD_ALARM 60		/* seconds before a stuck child dies */
#define PEER_ARG "--kt-sync-peer"

/* What the scenarios keep in the region's last page. */
struct area {
	pthread_mutex_t mutex;
	pthread_cond_t cond;
	pthread_mutex_t robust;
	pthread_rwlock_t rwlock;
	pthread_barrier_t barrier;
	sem_t sem_a, sem_b;
	uint32_t futex;
	uint32_t turn;		/* ping-pong: 0 or 1 may go */
	uint32_t rounds;	/* ping-pong: turns taken */
	_Atomic uint32_t ready;
	_Atomic uint64_t counter;
};

_Static_assert(sizeof(struct area) <= PG, "the area fits in one page");

static struct area *area_of(void *base, size_t size)
{
	return (struct area *)((char *)base + size - PG);
}

static long futex(uint32_t *addr, int op, uint32_t val,
		  const struct timespec *ts)
{
	return syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* In a child: exit with a message (status 1) unless RC is 0. */
static void child_ok(int rc, const char *what)
{
	if (rc) {
		fprintf(stderr, "# child %d: %s: %s\n", (int)getpid(), what,
			strerror(rc));
		_exit(1);
	}
}

static pid_t fork_child(void)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (!pid)
		alarm(CHILD_ALARM);
	return pid;
}

/* The child's exit status, 1000 + signal if one killed it. */
static int reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			fail_msg("waitpid: %s", strerror(errno));
	return WIFSIGNALED(st) ? KT_SIGNALED(WTERMSIG(st)) : WEXITSTATUS(st);
}

static void expect_child(pid_t pid, const char *scenario)
{
	int st = reap(pid);

	if (st)
		fail_msg("%s: child %d ended with %s %d", scenario, (int)pid,
			 st >= 1000 ? "signal" : "status",
			 st >= 1000 ? st - 1000 : st);
}

/* Wait (in any process) until A->ready reaches N; 0, or -1 after 20 s. */
static int wait_ready(struct area *a, uint32_t n)
{
	double end = now() + 20;

	while (atomic_load(&a->ready) < n) {
		if (now() > end)
			return -1;
		usleep(1000);
	}
	return 0;
}

/* ---- setting the area up (in the test process) ---- */

static void init_area(struct area *a)
{
	pthread_mutexattr_t ma;
	pthread_condattr_t ca;
	pthread_rwlockattr_t ra;
	pthread_barrierattr_t ba;

	memset(a, 0, sizeof(*a));
	assert_int_equal(pthread_mutexattr_init(&ma), 0);
	assert_int_equal(pthread_mutexattr_setpshared(&ma,
						      PTHREAD_PROCESS_SHARED), 0);
	assert_int_equal(pthread_mutex_init(&a->mutex, &ma), 0);
	assert_int_equal(pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST),
			 0);
	assert_int_equal(pthread_mutex_init(&a->robust, &ma), 0);
	pthread_mutexattr_destroy(&ma);
	assert_int_equal(pthread_condattr_init(&ca), 0);
	assert_int_equal(pthread_condattr_setpshared(&ca,
						     PTHREAD_PROCESS_SHARED), 0);
	assert_int_equal(pthread_cond_init(&a->cond, &ca), 0);
	pthread_condattr_destroy(&ca);
	assert_int_equal(pthread_rwlockattr_init(&ra), 0);
	assert_int_equal(pthread_rwlockattr_setpshared(&ra,
						       PTHREAD_PROCESS_SHARED),
			 0);
	assert_int_equal(pthread_rwlock_init(&a->rwlock, &ra), 0);
	pthread_rwlockattr_destroy(&ra);
	assert_int_equal(pthread_barrierattr_init(&ba), 0);
	assert_int_equal(pthread_barrierattr_setpshared(&ba,
							PTHREAD_PROCESS_SHARED),
			 0);
	assert_int_equal(pthread_barrier_init(&a->barrier, &ba, 3), 0);
	pthread_barrierattr_destroy(&ba);
	assert_int_equal(sem_init(&a->sem_a, 1, 0), 0);
	assert_int_equal(sem_init(&a->sem_b, 1, 0), 0);
}

/* ---- mutex + condvar ping-pong ---- */

/* Take ROUNDS turns as SIDE (0 or 1); returns 0 or an error number. */
static int ping_pong(struct area *a, uint32_t side)
{
	int i, rc;

	for (i = 0; i < ROUNDS; i++) {
		rc = pthread_mutex_lock(&a->mutex);
		if (rc)
			return rc;
		while (a->turn != side) {
			rc = pthread_cond_wait(&a->cond, &a->mutex);
			if (rc)
				return rc;
		}
		a->turn = !side;
		a->rounds++;
		rc = pthread_cond_broadcast(&a->cond);
		if (rc)
			return rc;
		rc = pthread_mutex_unlock(&a->mutex);
		if (rc)
			return rc;
	}
	return 0;
}

static void scenario_ping_pong_fork(struct area *a)
{
	pid_t pid = fork_child();

	if (!pid) {
		child_ok(ping_pong(a, 1), "ping-pong");
		_exit(0);
	}
	assert_int_equal(ping_pong(a, 0), 0);
	expect_child(pid, "mutex+condvar ping-pong (fork)");
	assert_int_equal(a->rounds, 2 * ROUNDS);
}

/* Run this program again as a peer: ROLE (and ARG) on region R. */
static pid_t spawn_peer(const struct kt_region *r, const char *role,
			const char *arg)
{
	char size[32];
	pid_t pid;

	snprintf(size, sizeof(size), "%zu", r->size);
	pid = fork_child();
	if (!pid) {
		execl("/proc/self/exe", "kt-sync-peer", PEER_ARG,
		      r->kshm ? "kshm" : "myshm", r->name, size, role, arg,
		      (char *)NULL);
		fprintf(stderr, "# exec /proc/self/exe: %s\n", strerror(errno));
		_exit(127);
	}
	return pid;
}

static void scenario_ping_pong_exec(const struct kt_region *r,
				    struct area *a)
{
	pid_t p0 = spawn_peer(r, "ping-pong", "0");
	pid_t p1 = spawn_peer(r, "ping-pong", "1");

	expect_child(p0, "mutex+condvar ping-pong (exec'd peer 0)");
	expect_child(p1, "mutex+condvar ping-pong (exec'd peer 1)");
	assert_int_equal(a->rounds, 2 * ROUNDS);
}

/* ---- robust mutex, holder killed ---- */

static void scenario_robust(struct area *a)
{
	pid_t pid = fork_child();
	int rc;

	if (!pid) {
		child_ok(pthread_mutex_lock(&a->robust), "lock robust");
		atomic_store(&a->ready, 1);
		for (;;)
			pause();
	}
	if (wait_ready(a, 1))
		fail_msg("robust: the child never took the mutex");
	assert_int_equal(pthread_mutex_trylock(&a->robust), EBUSY);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(reap(pid), KT_SIGNALED(SIGKILL));
	rc = pthread_mutex_lock(&a->robust);
	if (rc != EOWNERDEAD)
		fail_msg("robust: lock after the holder died: %d (%s), want EOWNERDEAD",
			 rc, strerror(rc));
	assert_int_equal(pthread_mutex_consistent(&a->robust), 0);
	assert_int_equal(pthread_mutex_unlock(&a->robust), 0);
	/* consistent again: another process takes it normally */
	pid = fork_child();
	if (!pid) {
		child_ok(pthread_mutex_lock(&a->robust), "lock again");
		child_ok(pthread_mutex_unlock(&a->robust), "unlock");
		_exit(0);
	}
	expect_child(pid, "robust mutex after recovery");
	assert_int_equal(pthread_mutex_lock(&a->robust), 0);
	assert_int_equal(pthread_mutex_unlock(&a->robust), 0);
}

/* ---- semaphore handoff ---- */

static void scenario_semaphore(struct area *a)
{
	pid_t pid = fork_child();
	int i;

	if (!pid) {
		for (i = 0; i < SEM_ROUNDS; i++) {
			if (sem_wait(&a->sem_a))
				child_ok(errno, "sem_wait");
			atomic_fetch_add(&a->counter, 1);
			if (sem_post(&a->sem_b))
				child_ok(errno, "sem_post");
		}
		_exit(0);
	}
	for (i = 0; i < SEM_ROUNDS; i++) {
		assert_int_equal(sem_post(&a->sem_a), 0);
		while (sem_wait(&a->sem_b))
			assert_int_equal(errno, EINTR);
		assert_int_equal(atomic_load(&a->counter), i + 1);
	}
	expect_child(pid, "semaphore handoff");
}

/* ---- raw shared futexes ---- */

static void scenario_futex_timeout(struct area *a)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	double t0;
	long rc;

	a->futex = 5;
	/* the value differs: EAGAIN at once */
	rc = futex(&a->futex, FUTEX_WAIT, 4, &ts);
	if (rc != -1 || errno != EAGAIN)
		fail_msg("FUTEX_WAIT, other value: %ld (%s), want EAGAIN", rc,
			 strerror(errno));
	t0 = now();
	rc = futex(&a->futex, FUTEX_WAIT, 5, &ts);
	if (rc != -1 || errno != ETIMEDOUT)
		fail_msg("FUTEX_WAIT 50 ms: %ld (%s), want ETIMEDOUT", rc,
			 strerror(errno));
	assert_true(now() - t0 >= 0.045);
	/* nobody waits */
	assert_int_equal(futex(&a->futex, FUTEX_WAKE, 1, NULL), 0);
}

/* FUTEX_WAIT on A->futex (value 0) for at most 30 s; exit 0 if woken. */
static void futex_waiter(struct area *a)
{
	struct timespec ts = { 30, 0 };

	if (futex(&a->futex, FUTEX_WAIT, 0, &ts)) {
		fprintf(stderr, "# waiter %d: FUTEX_WAIT: %s\n",
			(int)getpid(), strerror(errno));
		_exit(errno == ETIMEDOUT ? 3 : 2);
	}
	_exit(0);
}

/* Wake the waiter in PID: FUTEX_WAKE until it reports one woken. */
static void wake_waiter(struct area *a, pid_t pid, const char *scenario)
{
	double end = now() + 20;
	long n;

	do {
		usleep(2000);
		n = futex(&a->futex, FUTEX_WAKE, 1, NULL);
		if (n < 0)
			fail_msg("%s: FUTEX_WAKE: %s", scenario,
				 strerror(errno));
	} while (!n && now() < end);
	if (n != 1)
		fail_msg("%s: FUTEX_WAKE never found the waiter", scenario);
	expect_child(pid, scenario);
}

static void scenario_futex_wake(const struct kt_region *r, struct area *a)
{
	pid_t pid;

	a->futex = 0;
	pid = fork_child();
	if (!pid)
		futex_waiter(a);
	wake_waiter(a, pid, "FUTEX_WAKE of a forked waiter");
	pid = spawn_peer(r, "futex-wait", "-");
	wake_waiter(a, pid, "FUTEX_WAKE of an exec'd waiter");
}

/* ---- rwlock ---- */

static void scenario_rwlock(struct area *a)
{
	struct timespec ts;
	pid_t pid, pids[2];
	int i, j;

	atomic_store(&a->ready, 0);
	pid = fork_child();
	if (!pid) {
		child_ok(pthread_rwlock_wrlock(&a->rwlock), "wrlock");
		atomic_store(&a->ready, 1);
		if (sem_wait(&a->sem_a))
			child_ok(errno, "sem_wait");
		child_ok(pthread_rwlock_unlock(&a->rwlock), "unlock");
		_exit(0);
	}
	if (wait_ready(a, 1))
		fail_msg("rwlock: the child never took the write lock");
	assert_int_equal(pthread_rwlock_tryrdlock(&a->rwlock), EBUSY);
	assert_int_equal(pthread_rwlock_trywrlock(&a->rwlock), EBUSY);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 50 * 1000 * 1000;
	if (ts.tv_nsec >= 1000 * 1000 * 1000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000 * 1000 * 1000;
	}
	assert_int_equal(pthread_rwlock_timedrdlock(&a->rwlock, &ts),
			 ETIMEDOUT);
	assert_int_equal(sem_post(&a->sem_a), 0);
	/* blocks until the writer in the other process lets go */
	assert_int_equal(pthread_rwlock_rdlock(&a->rwlock), 0);
	assert_int_equal(pthread_rwlock_unlock(&a->rwlock), 0);
	expect_child(pid, "rwlock writer");

	/* two processes increment under the write lock */
	a->counter = 0;
	for (i = 0; i < 2; i++) {
		pids[i] = fork_child();
		if (pids[i])
			continue;
		for (j = 0; j < RW_ROUNDS; j++) {
			uint64_t v;

			child_ok(pthread_rwlock_wrlock(&a->rwlock), "wrlock");
			v = atomic_load_explicit(&a->counter,
						 memory_order_relaxed);
			atomic_store_explicit(&a->counter, v + 1,
					      memory_order_relaxed);
			child_ok(pthread_rwlock_unlock(&a->rwlock), "unlock");
			child_ok(pthread_rwlock_rdlock(&a->rwlock), "rdlock");
			child_ok(pthread_rwlock_unlock(&a->rwlock), "unlock");
		}
		_exit(0);
	}
	for (i = 0; i < 2; i++)
		expect_child(pids[i], "rwlock counters");
	assert_int_equal(a->counter, 2 * RW_ROUNDS);
}

/* ---- barrier ---- */

/* BARRIER_ROUNDS rounds of increment + wait; 0 or an error number. */
static int barrier_rounds(struct area *a)
{
	uint64_t seen;
	int i, rc;

	for (i = 0; i < BARRIER_ROUNDS; i++) {
		atomic_fetch_add(&a->counter, 1);
		rc = pthread_barrier_wait(&a->barrier);
		if (rc && rc != PTHREAD_BARRIER_SERIAL_THREAD)
			return rc;
		/* all three of this round are in; at most 2 of the next */
		seen = atomic_load(&a->counter);
		if (seen < 3 * (uint64_t)(i + 1) ||
		    seen > 3 * (uint64_t)(i + 1) + 2)
			return EPROTO;
	}
	return 0;
}

static void scenario_barrier(struct area *a)
{
	pid_t pids[2];
	int i;

	a->counter = 0;
	for (i = 0; i < 2; i++) {
		pids[i] = fork_child();
		if (!pids[i]) {
			child_ok(barrier_rounds(a), "barrier");
			_exit(0);
		}
	}
	assert_int_equal(barrier_rounds(a), 0);
	for (i = 0; i < 2; i++)
		expect_child(pids[i], "barrier");
	assert_int_equal(a->counter, 3 * BARRIER_ROUNDS);
}

void kt_sync_all(const struct kt_region *r, void *base)
{
	static const char *const names[] = {
		"mutex+condvar ping-pong (fork)",
		"mutex+condvar ping-pong (two exec'd programs)",
		"robust mutex, holder SIGKILLed",
		"semaphore handoff",
		"FUTEX_WAIT timeout",
		"FUTEX_WAKE across processes",
		"rwlock",
		"barrier",
	};
	struct area *a = area_of(base, r->size);
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		double t0 = now();

		init_area(a);
		switch (i) {
		case 0: scenario_ping_pong_fork(a); break;
		case 1: scenario_ping_pong_exec(r, a); break;
		case 2: scenario_robust(a); break;
		case 3: scenario_semaphore(a); break;
		case 4: scenario_futex_timeout(a); break;
		case 5: scenario_futex_wake(r, a); break;
		case 6: scenario_rwlock(a); break;
		case 7: scenario_barrier(a); break;
		}
		printf("# %s %s (%zu bytes): %s: ok (%.2f s)\n",
		       r->kshm ? "kshm" : "myshm", r->name, r->size, names[i],
		       now() - t0);
	}
}

/* ---- the exec'd peer ---- */

/* Map region KIND NAME read-write, whole; NULL after a message. */
static void *peer_map(const char *kind, const char *name, size_t size)
{
	void *p = NULL;
	__u64 sz;
	int fd;

	if (!strcmp(kind, "kshm")) {
		fd = kshm_open_mode(name, O_RDWR, 0);
		if (fd < 0 || kshm_size(fd) != (ssize_t)size ||
		    kshm_map(fd, &p, O_RDWR)) {
			fprintf(stderr, "# peer: kshm %s: %s\n", name,
				strerror(errno));
			return NULL;
		}
		return p;
	}
	fd = open(name, O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, MYSHM_GET_SIZE, &sz) || sz != size) {
		fprintf(stderr, "# peer: %s: %s\n", name, strerror(errno));
		return NULL;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "# peer: mmap %s: %s\n", name, strerror(errno));
		return NULL;
	}
	return p;
}

int kt_sync_peer_main(int argc, char **argv)
{
	struct area *a;
	size_t size;
	void *base;

	if (argc < 2 || strcmp(argv[1], PEER_ARG))
		return -1;
	if (argc != 7) {
		fprintf(stderr, "usage: %s KIND NAME SIZE ROLE ARG\n", PEER_ARG);
		return 2;
	}
	size = strtoul(argv[4], NULL, 10);
	base = peer_map(argv[2], argv[3], size);
	if (!base)
		return 1;
	a = area_of(base, size);
	if (!strcmp(argv[5], "ping-pong"))
		child_ok(ping_pong(a, atoi(argv[6])), "ping-pong");
	else if (!strcmp(argv[5], "futex-wait"))
		futex_waiter(a);
	else
		return 2;
	return 0;
}
