// SPDX-License-Identifier: GPL-2.0
/*
 * host/chan_api - <kipc/chan.h> calls one by one: every documented errno,
 * every locale (anon across threads and fork, memfd passed by descriptor,
 * POSIX shm by name), zero-copy and copying paths, timeouts, peers that
 * close, pub/sub policies.  Runs on the build host (no module), built with
 * AddressSanitizer+UBSan and with ThreadSanitizer (tests/run-suite).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <cmocka.h>

#include <kipc/chan.h>

#include "chan_h.h"

static char shm_name[64];

static struct kipc_chan_attr attr_of(uint32_t shape, uint32_t size,
				     uint32_t count)
{
	struct kipc_chan_attr a;

	kipc_chan_attr_init(&a);
	a.shape = shape;
	a.slot_size = size;
	a.slot_count = count;
	return a;
}

static long long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

#define assert_errno(expr, err) do { \
	errno = 0; \
	assert_true((expr)); \
	assert_int_equal(errno, (err)); \
} while (0)

static void attr_and_size(void **state)
{
	struct kipc_chan_attr a;
	size_t n;

	(void)state;
	kipc_chan_attr_init(&a);
	assert_int_equal(a.shape, KIPC_CHAN_SPSC);
	assert_int_equal(a.slot_size, 1024);
	assert_int_equal(a.slot_count, 64);
	n = kipc_chan_size(&a);
	/* header page + 64 slots of 16 + 1024 bytes rounded to 64 */
	assert_int_equal(n, 4096 + 64 * 1088);
	a.slot_count = 3;
	assert_errno(kipc_chan_size(&a) == 0, EINVAL);
	a.slot_count = 1;
	assert_errno(kipc_chan_size(&a) == 0, EINVAL);
	a.slot_count = KIPC_CHAN_MAX_SLOTS * 2;
	assert_errno(kipc_chan_size(&a) == 0, EINVAL);
	a.slot_count = 4;
	a.slot_size = 0;
	assert_errno(kipc_chan_size(&a) == 0, EINVAL);
	a.slot_size = KIPC_CHAN_MAX_SLOT_SIZE + 1;
	assert_errno(kipc_chan_size(&a) == 0, EINVAL);
	a.slot_size = 8;
	a.shape = 4;
	assert_errno(kipc_chan_size(&a) == 0, EINVAL);
	a.shape = KIPC_CHAN_SPSC;
	a.policy = KIPC_CHAN_DROP_OLDEST;	/* SPMC only */
	assert_errno(kipc_chan_size(&a) == 0, EINVAL);
	a.shape = KIPC_CHAN_SPMC;
	assert_true(kipc_chan_size(&a) > 0);
	a.max_peers = KIPC_CHAN_MAX_PEERS + 1;
	assert_errno(kipc_chan_size(&a) == 0, EINVAL);
	a.max_peers = 0;
	assert_errno(kipc_chan_size(&a) == 0, EINVAL);
	assert_errno(kipc_chan_size(NULL) == 0, EINVAL);
}

static void format_and_attach(void **state)
{
	struct kipc_chan_attr a = attr_of(KIPC_CHAN_SPSC, 64, 4);
	size_t n = kipc_chan_size(&a);
	void *mem = tc_page_alloc(n);
	struct kipc_chan *tx, *rx, *tx2;
	struct kipc_chan_stat st;
	char buf[64];

	(void)state;
	assert_non_null(mem);
	assert_errno(kipc_chan_format(mem, n - 1, &a) < 0, ENOSPC);
	assert_errno(kipc_chan_format((char *)mem + 8, n, &a) < 0, EINVAL);
	assert_errno(kipc_chan_format(NULL, n, &a) < 0, EINVAL);
	memset(mem, 0, n);
	/* Not formatted: magic 0. */
	assert_errno(kipc_chan_attach(mem, n, KIPC_CHAN_RECV) == NULL, EAGAIN);
	assert_int_equal(kipc_chan_format(mem, n, &a), 0);
	assert_errno(kipc_chan_attach(mem, n - 1, KIPC_CHAN_RECV) == NULL,
		     EPROTO);
	assert_errno(kipc_chan_attach(mem, n, 7) == NULL, EINVAL);
	tx = kipc_chan_attach(mem, n, KIPC_CHAN_SEND);
	assert_non_null(tx);
	assert_errno(kipc_chan_attach(mem, n, KIPC_CHAN_SEND) == NULL, EBUSY);
	rx = kipc_chan_attach(mem, n, KIPC_CHAN_RECV);
	assert_non_null(rx);
	assert_errno(kipc_chan_peer(tx, KIPC_CHAN_RECV) == NULL, EBUSY);
	assert_int_equal(kipc_chan_stat(tx, &st), 0);
	assert_int_equal(st.senders, 1);
	assert_int_equal(st.receivers, 1);
	assert_int_equal(st.slot_size, 64);
	assert_int_equal(st.slot_count, 4);
	assert_int_equal(st.map_size, n);
	assert_errno(kipc_chan_fd(tx) < 0, EBADF);
	assert_int_equal(kipc_chan_send(tx, "hello", 5, 0), 0);
	assert_int_equal(kipc_chan_recv(rx, buf, sizeof(buf), 0), 5);
	assert_memory_equal(buf, "hello", 5);
	/* A sender leaves; a new one takes its record and goes on. */
	kipc_chan_close(tx);
	tx2 = kipc_chan_attach(mem, n, KIPC_CHAN_SEND);
	assert_non_null(tx2);
	assert_int_equal(kipc_chan_send(tx2, "again", 5, 0), 0);
	assert_int_equal(kipc_chan_recv(rx, buf, sizeof(buf), 0), 5);
	assert_memory_equal(buf, "again", 5);
	kipc_chan_close(tx2);
	kipc_chan_close(rx);
	kipc_chan_close(NULL);
	/* The memory is still the caller's (not unmapped): reusable. */
	assert_int_equal(kipc_chan_format(mem, n, &a), 0);
	free(mem);
}

static void bad_where(void **state)
{
	struct kipc_chan_attr a = attr_of(KIPC_CHAN_SPSC, 64, 4);

	(void)state;
	assert_errno(kipc_chan_create("nowhere", &a, 0) == NULL, EINVAL);
	assert_errno(kipc_chan_create(NULL, &a, 0) == NULL, EINVAL);
	assert_errno(kipc_chan_create("anon", NULL, 0) == NULL, EINVAL);
	assert_errno(kipc_chan_create("anon", &a, 3) == NULL, EINVAL);
	assert_errno(kipc_chan_create("shm:noslash", &a, 0) == NULL, EINVAL);
	assert_errno(kipc_chan_create("shm:/a/b", &a, 0) == NULL, EINVAL);
	assert_errno(kipc_chan_create("shm:/", &a, 0) == NULL, EINVAL);
	assert_errno(kipc_chan_open("anon", 0) == NULL, EINVAL);
	assert_errno(kipc_chan_open("fd:x", 0) == NULL, EINVAL);
	assert_errno(kipc_chan_open("fd:-1", 0) == NULL, EINVAL);
	assert_errno(kipc_chan_open("fd:12345", 0) == NULL, EBADF);
	assert_errno(kipc_chan_open("shm:/kipc-chan-test-none", 0) == NULL,
		     ENOENT);
	assert_errno(kipc_chan_unlink("anon") < 0, EINVAL);
	a.mode = 01000;
	assert_errno(kipc_chan_create("anon", &a, 0) == NULL, EINVAL);
}

static void errnos_of_calls(void **state)
{
	struct kipc_chan_attr a = attr_of(KIPC_CHAN_SPSC, 32, 4);
	struct kipc_chan *tx = kipc_chan_create("anon", &a, KIPC_CHAN_SEND);
	struct kipc_chan *rx, *none;
	struct kipc_chan_msg m;
	char big[64] = { 0 }, buf[64];
	void *slot, *slot2;
	long long t0;

	(void)state;
	assert_non_null(tx);
	rx = kipc_chan_peer(tx, KIPC_CHAN_RECV);
	assert_non_null(rx);
	none = kipc_chan_peer(tx, KIPC_CHAN_NONE);
	assert_non_null(none);
	/* wrong roles */
	assert_errno(kipc_chan_send(rx, "x", 1, 0) < 0, EBADF);
	assert_errno(kipc_chan_recv(tx, buf, sizeof(buf), 0) < 0, EBADF);
	assert_errno(kipc_chan_peek(none, &m, 0) < 0, EBADF);
	assert_errno(kipc_chan_loan(none, &slot, 0) < 0, EBADF);
	/* bad arguments */
	assert_errno(kipc_chan_loan(tx, NULL, 0) < 0, EINVAL);
	assert_errno(kipc_chan_loan(tx, &slot, -2) < 0, EINVAL);
	assert_errno(kipc_chan_peek(rx, NULL, 0) < 0, EINVAL);
	assert_errno(kipc_chan_recv(rx, NULL, 4, 0) < 0, EINVAL);
	assert_errno(kipc_chan_send(tx, NULL, 4, 0) < 0, EINVAL);
	assert_errno(kipc_chan_set_spin(tx, -2) < 0, EINVAL);
	assert_errno(kipc_chan_stat(tx, NULL) < 0, EINVAL);
	/* empty: non-blocking and timed */
	assert_errno(kipc_chan_recv(rx, buf, sizeof(buf), 0) < 0, EAGAIN);
	assert_errno(kipc_chan_peek(rx, &m, 0) < 0, EAGAIN);
	t0 = ms_now();
	assert_errno(kipc_chan_recv(rx, buf, sizeof(buf), 50) < 0, ETIMEDOUT);
	assert_true(ms_now() - t0 >= 50);
	/* sizes */
	assert_errno(kipc_chan_send(tx, big, 33, 0) < 0, EMSGSIZE);
	assert_errno(kipc_chan_publish(tx, 1) < 0, EINVAL);	/* no loan */
	assert_int_equal(kipc_chan_loan(tx, &slot, 0), 0);
	assert_errno(kipc_chan_loan(tx, &slot2, 0) < 0, EBUSY);
	assert_errno(kipc_chan_send(tx, "x", 1, 0) < 0, EBUSY);
	assert_errno(kipc_chan_publish(tx, 33) < 0, EMSGSIZE);
	memcpy(slot, "0123456789", 10);
	assert_int_equal(kipc_chan_publish(tx, 10), 0);
	/* too small a buffer: EMSGSIZE, the message stays */
	assert_errno(kipc_chan_recv(rx, buf, 9, 0) < 0, EMSGSIZE);
	assert_int_equal(kipc_chan_peek(rx, &m, 0), 0);
	assert_int_equal(m.len, 10);
	assert_memory_equal(m.data, "0123456789", 10);
	assert_errno(kipc_chan_peek(rx, &m, 0) < 0, EBUSY);
	assert_errno(kipc_chan_recv(rx, buf, sizeof(buf), 0) < 0, EBUSY);
	assert_int_equal(kipc_chan_release(rx), 0);
	assert_errno(kipc_chan_release(rx) < 0, EINVAL);
	/* full: 4 slots */
	for (int i = 0; i < 4; i++)
		assert_int_equal(kipc_chan_send(tx, &i, sizeof(i), 0), 0);
	assert_errno(kipc_chan_send(tx, "x", 1, 0) < 0, EAGAIN);
	t0 = ms_now();
	assert_errno(kipc_chan_loan(tx, &slot, 30) < 0, ETIMEDOUT);
	assert_true(ms_now() - t0 >= 30);
	for (int i = 0; i < 4; i++) {
		int v;

		assert_int_equal(kipc_chan_recv(rx, &v, sizeof(v), 0), sizeof(v));
		assert_int_equal(v, i);
	}
	/* zero-length messages exist */
	assert_int_equal(kipc_chan_send(tx, NULL, 0, 0), 0);
	assert_int_equal(kipc_chan_recv(rx, NULL, 0, 0), 0);
	kipc_chan_close(none);
	kipc_chan_close(rx);
	kipc_chan_close(tx);
}

static void closed_peers(void **state)
{
	struct kipc_chan_attr a = attr_of(KIPC_CHAN_SPSC, 32, 4);
	struct kipc_chan *tx = kipc_chan_create("anon", &a, KIPC_CHAN_SEND);
	struct kipc_chan *rx = kipc_chan_peer(tx, KIPC_CHAN_RECV);
	char buf[32];
	void *slot;

	(void)state;
	assert_non_null(rx);
	assert_int_equal(kipc_chan_send(tx, "a", 1, 0), 0);
	assert_int_equal(kipc_chan_send(tx, "b", 1, 0), 0);
	/* an outstanding loan is published as a 0-byte message on close */
	assert_int_equal(kipc_chan_loan(tx, &slot, 0), 0);
	kipc_chan_close(tx);
	assert_int_equal(kipc_chan_recv(rx, buf, sizeof(buf), -1), 1);
	assert_int_equal(buf[0], 'a');
	assert_int_equal(kipc_chan_recv(rx, buf, sizeof(buf), -1), 1);
	assert_int_equal(buf[0], 'b');
	assert_int_equal(kipc_chan_recv(rx, buf, sizeof(buf), -1), 0);
	assert_errno(kipc_chan_recv(rx, buf, sizeof(buf), -1) < 0, EPIPE);
	/* and the other way: the receiver left, the sender gets EPIPE */
	tx = kipc_chan_peer(rx, KIPC_CHAN_SEND);
	assert_non_null(tx);
	kipc_chan_close(rx);
	assert_errno(kipc_chan_send(tx, "c", 1, -1) < 0, EPIPE);
	kipc_chan_close(tx);
}

/* A receiver sleeping in recv(-1) is woken by the sender's close. */
static void *sleepy_recv(void *arg)
{
	char buf[8];
	ssize_t n = kipc_chan_recv(arg, buf, sizeof(buf), -1);

	return (void *)(intptr_t)(n < 0 ? errno : 0);
}

static void close_wakes_sleeper(void **state)
{
	struct kipc_chan_attr a = attr_of(KIPC_CHAN_SPSC, 32, 4);
	struct kipc_chan *tx = kipc_chan_create("anon", &a, KIPC_CHAN_SEND);
	struct kipc_chan *rx = kipc_chan_peer(tx, KIPC_CHAN_RECV);
	struct kipc_chan_stat st;
	pthread_t t;
	void *ret;

	(void)state;
	kipc_chan_set_spin(rx, 0);
	assert_int_equal(pthread_create(&t, NULL, sleepy_recv, rx), 0);
	usleep(200 * 1000);	/* (the endpoint is the thread's meanwhile) */
	kipc_chan_close(tx);
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_int_equal((intptr_t)ret, EPIPE);
	kipc_chan_stat(rx, &st);
	assert_true(st.waits >= 1);	/* it did sleep, and was woken */
	kipc_chan_close(rx);
}

/* Corrupt shared state: documented errors, nothing else. */
static void lying_peer(void **state)
{
	struct kipc_chan_attr a = attr_of(KIPC_CHAN_SPSC, 32, 4);
	size_t n = kipc_chan_size(&a);
	unsigned char *mem = tc_page_alloc(n);
	struct kipc_chan *tx, *rx;
	char buf[64];
	uint32_t v;

	(void)state;
	assert_int_equal(kipc_chan_format(mem, n, &a), 0);
	/* geometry lies: wrong magic, version, stride, size */
	mem[0] ^= 1;
	assert_errno(kipc_chan_attach(mem, n, 0) == NULL, EPROTO);
	mem[0] ^= 1;
	mem[4] = 2;
	assert_errno(kipc_chan_attach(mem, n, 0) == NULL, EPROTO);
	mem[4] = 1;
	memcpy(&v, mem + 24, 4);
	v += 64;
	memcpy(mem + 24, &v, 4);
	assert_errno(kipc_chan_attach(mem, n, 0) == NULL, EPROTO);
	v -= 64;
	memcpy(mem + 24, &v, 4);
	v = 1u << 30;		/* slot_size: huge, stride then mismatches */
	memcpy(mem + 16, &v, 4);
	assert_errno(kipc_chan_attach(mem, n, 0) == NULL, EPROTO);
	v = 32;
	memcpy(mem + 16, &v, 4);
	tx = kipc_chan_attach(mem, n, KIPC_CHAN_SEND);
	rx = kipc_chan_attach(mem, n, KIPC_CHAN_RECV);
	assert_non_null(tx);
	assert_non_null(rx);
	/* a length beyond the slot: EBADMSG, the message is skipped */
	assert_int_equal(kipc_chan_send(tx, "abc", 3, 0), 0);
	assert_int_equal(kipc_chan_send(tx, "def", 3, 0), 0);
	v = 4096;
	memcpy(mem + 4096 + 4, &v, 4);	/* slot 0's len */
	assert_errno(kipc_chan_recv(rx, buf, sizeof(buf), 0) < 0, EBADMSG);
	assert_int_equal(kipc_chan_recv(rx, buf, sizeof(buf), 0), 3);
	assert_memory_equal(buf, "def", 3);
	/* a sequence number from the future: EPROTO */
	v = 1000;
	memcpy(mem + 4096 + 2 * 64, &v, 4);	/* slot 2's seq */
	assert_errno(kipc_chan_recv(rx, buf, sizeof(buf), 0) < 0, EPROTO);
	kipc_chan_close(tx);
	kipc_chan_close(rx);
	free(mem);
}

static void memfd_by_descriptor(void **state)
{
	struct kipc_chan_attr a = attr_of(KIPC_CHAN_SPSC, 64, 8);
	struct kipc_chan *tx = kipc_chan_create("memfd:kipc-test", &a,
						KIPC_CHAN_SEND);
	char where[32], buf[64];
	int fd, status, plain;
	pid_t pid;

	(void)state;
	assert_non_null(tx);
	fd = kipc_chan_fd(tx);
	assert_true(fd >= 0);
	/* sealed: the size cannot change */
	assert_errno(ftruncate(fd, 4096) < 0, EPERM);
	assert_int_equal(fcntl(fd, F_GET_SEALS) & (F_SEAL_SHRINK | F_SEAL_GROW),
			 F_SEAL_SHRINK | F_SEAL_GROW);
	snprintf(where, sizeof(where), "fd:%d", fd);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct kipc_chan *rx = kipc_chan_open(where, KIPC_CHAN_RECV);
		ssize_t n;

		if (!rx)
			_exit(10);
		n = kipc_chan_recv(rx, buf, sizeof(buf), 5000);
		if (n != 6 || memcmp(buf, "memfd!", 6))
			_exit(11);
		kipc_chan_close(rx);
		_exit(0);
	}
	assert_int_equal(kipc_chan_send(tx, "memfd!", 6, 5000), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	kipc_chan_close(tx);
	/* an unsealed memfd is refused: its owner could shrink it */
	plain = memfd_create("kipc-unsealed", MFD_CLOEXEC);
	assert_true(plain >= 0);
	assert_int_equal(ftruncate(plain, 1 << 20), 0);
	snprintf(where, sizeof(where), "fd:%d", plain);
	assert_errno(kipc_chan_open(where, KIPC_CHAN_RECV) == NULL, EPERM);
	close(plain);
}

static void shm_by_name(void **state)
{
	struct kipc_chan_attr a = attr_of(KIPC_CHAN_SPSC, 64, 8);
	char where[80], buf[64];
	struct kipc_chan *tx;
	int status;
	pid_t pid;

	(void)state;
	snprintf(where, sizeof(where), "shm:%s", shm_name);
	tx = kipc_chan_create(where, &a, KIPC_CHAN_SEND);
	assert_non_null(tx);
	assert_errno(kipc_chan_create(where, &a, KIPC_CHAN_SEND) == NULL,
		     EEXIST);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct kipc_chan *rx = kipc_chan_open(where, KIPC_CHAN_RECV);

		if (!rx)
			_exit(10);
		for (int i = 0; i < 100; i++) {
			ssize_t n = kipc_chan_recv(rx, buf, sizeof(buf), 5000);
			int v;

			if (n != sizeof(v))
				_exit(11);
			memcpy(&v, buf, sizeof(v));
			if (v != i)
				_exit(12);
		}
		kipc_chan_close(rx);
		_exit(0);
	}
	for (int i = 0; i < 100; i++)
		assert_int_equal(kipc_chan_send(tx, &i, sizeof(i), 5000), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* the receiver has gone: sending fails */
	assert_errno(kipc_chan_send(tx, "x", 1, 0) < 0, EPIPE);
	kipc_chan_close(tx);
	assert_int_equal(kipc_chan_unlink(where), 0);
	assert_errno(kipc_chan_open(where, 0) == NULL, ENOENT);
	/* a name that exists but is not sized yet: EAGAIN */
	{
		int fd = shm_open(shm_name, O_RDWR | O_CREAT | O_EXCL, 0600);

		assert_true(fd >= 0);
		assert_errno(kipc_chan_open(where, KIPC_CHAN_RECV) == NULL,
			     EAGAIN);
		assert_int_equal(ftruncate(fd, 8192), 0);
		assert_errno(kipc_chan_open(where, KIPC_CHAN_RECV) == NULL,
			     EAGAIN);	/* sized, magic still 0 */
		close(fd);
		kipc_chan_unlink(where);
	}
}

static void anon_across_fork(void **state)
{
	struct kipc_chan_attr a = attr_of(KIPC_CHAN_MPSC, 64, 8);
	struct kipc_chan *rx = kipc_chan_create("anon", &a, KIPC_CHAN_RECV);
	int got[2] = { 0, 0 }, status;
	int *ready = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid[2];
	char buf[64];

	(void)state;
	assert_non_null(rx);
	assert_true(ready != MAP_FAILED);
	*ready = 0;
	for (int c = 0; c < 2; c++) {
		pid[c] = fork();
		assert_true(pid[c] >= 0);
		if (pid[c] == 0) {
			struct kipc_chan *tx = kipc_chan_peer(rx, KIPC_CHAN_SEND);

			if (!tx)
				_exit(10);
			/* both attached before either may finish: a receiver
			 * with no sender left (and one seen) gets EPIPE */
			__atomic_fetch_add(ready, 1, __ATOMIC_SEQ_CST);
			while (__atomic_load_n(ready, __ATOMIC_SEQ_CST) < 2)
				usleep(1000);
			for (int i = 0; i < 50; i++) {
				int v = c * 1000 + i;

				if (kipc_chan_send(tx, &v, sizeof(v), 5000))
					_exit(11);
			}
			kipc_chan_close(tx);
			kipc_chan_close(rx);	/* inherited: only frees */
			_exit(0);
		}
	}
	for (int i = 0; i < 100; i++) {
		int v;

		assert_int_equal(kipc_chan_recv(rx, buf, sizeof(buf), 5000),
				 sizeof(v));
		memcpy(&v, buf, sizeof(v));
		assert_int_equal(v % 1000, got[v / 1000]);
		got[v / 1000]++;
	}
	for (int c = 0; c < 2; c++) {
		assert_int_equal(waitpid(pid[c], &status, 0), pid[c]);
		assert_int_equal(status, 0);
	}
	/* both senders closed, one was there: EPIPE (the child's close of
	 * the inherited receiver did not detach us) */
	assert_errno(kipc_chan_recv(rx, buf, sizeof(buf), 1000) < 0, EPIPE);
	kipc_chan_close(rx);
	munmap(ready, 4096);
}

static void mpsc_records(void **state)
{
	struct kipc_chan_attr a = attr_of(KIPC_CHAN_MPSC, 16, 4);
	struct kipc_chan *rx, *tx[3];
	struct kipc_chan_stat st;

	(void)state;
	a.max_peers = 2;
	rx = kipc_chan_create("anon", &a, KIPC_CHAN_RECV);
	assert_non_null(rx);
	tx[0] = kipc_chan_peer(rx, KIPC_CHAN_SEND);
	tx[1] = kipc_chan_peer(rx, KIPC_CHAN_SEND);
	assert_non_null(tx[0]);
	assert_non_null(tx[1]);
	assert_errno((tx[2] = kipc_chan_peer(rx, KIPC_CHAN_SEND)) == NULL, EBUSY);
	assert_errno(kipc_chan_peer(rx, KIPC_CHAN_RECV) == NULL, EBUSY);
	kipc_chan_stat(rx, &st);
	assert_int_equal(st.senders, 2);
	assert_int_equal(st.max_peers, 2);
	kipc_chan_close(tx[0]);
	/* one sender left: still open */
	assert_errno(kipc_chan_recv(rx, NULL, 0, 0) < 0, EAGAIN);
	kipc_chan_close(tx[1]);
	assert_errno(kipc_chan_recv(rx, NULL, 0, 0) < 0, EPIPE);
	kipc_chan_close(rx);
}

static void pubsub_block(void **state)
{
	struct kipc_chan_attr a = attr_of(KIPC_CHAN_SPMC, 16, 4);
	struct kipc_chan *tx, *rx[3];
	struct kipc_chan_msg m;
	char buf[16];

	(void)state;
	a.max_peers = 3;
	tx = kipc_chan_create("anon", &a, KIPC_CHAN_SEND);
	assert_non_null(tx);
	/* no subscriber: messages go nowhere, the sender never waits */
	for (int i = 0; i < 10; i++)
		assert_int_equal(kipc_chan_send(tx, "old", 3, 0), 0);
	for (int r = 0; r < 3; r++) {
		rx[r] = kipc_chan_peer(tx, KIPC_CHAN_RECV);
		assert_non_null(rx[r]);
	}
	assert_errno(kipc_chan_peer(tx, KIPC_CHAN_RECV) == NULL, EBUSY);
	assert_errno(kipc_chan_recv(rx[0], buf, sizeof(buf), 0) < 0, EAGAIN);
	for (int i = 0; i < 4; i++)
		assert_int_equal(kipc_chan_send(tx, &i, sizeof(i), 0), 0);
	/* full for the slowest: the sender waits */
	assert_errno(kipc_chan_send(tx, "x", 1, 0) < 0, EAGAIN);
	for (int r = 0; r < 2; r++)
		for (int i = 0; i < 4; i++) {
			int v;

			assert_int_equal(kipc_chan_recv(rx[r], &v, sizeof(v), 0),
					 sizeof(v));
			assert_int_equal(v, i);
		}
	assert_errno(kipc_chan_send(tx, "x", 1, 0) < 0, EAGAIN);
	assert_int_equal(kipc_chan_peek(rx[2], &m, 0), 0);
	assert_int_equal(m.len, sizeof(int));
	assert_int_equal(m.lost, 0);
	assert_int_equal(kipc_chan_release(rx[2]), 0);
	assert_int_equal(kipc_chan_send(tx, "x", 1, 0), 0);
	/* a subscriber that leaves no longer holds the sender back */
	kipc_chan_close(rx[2]);
	for (int i = 0; i < 3; i++)
		assert_int_equal(kipc_chan_send(tx, "y", 1, 0), 0);
	assert_int_equal(kipc_chan_recv(rx[0], buf, sizeof(buf), 0), 1);
	kipc_chan_close(tx);
	for (int i = 0; i < 4; i++)
		assert_true(kipc_chan_recv(rx[1], buf, sizeof(buf), 0) == 1);
	assert_errno(kipc_chan_recv(rx[1], buf, sizeof(buf), 0) < 0, EPIPE);
	kipc_chan_close(rx[0]);
	kipc_chan_close(rx[1]);
}

static void pubsub_drop(void **state)
{
	struct kipc_chan_attr a = attr_of(KIPC_CHAN_SPMC, 16, 4);
	struct kipc_chan *tx, *fast, *slow;
	struct kipc_chan_stat st;
	struct kipc_chan_msg m;
	int v, first;

	(void)state;
	a.policy = KIPC_CHAN_DROP_OLDEST;
	tx = kipc_chan_create("anon", &a, KIPC_CHAN_SEND);
	fast = kipc_chan_peer(tx, KIPC_CHAN_RECV);
	slow = kipc_chan_peer(tx, KIPC_CHAN_RECV);
	assert_non_null(slow);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(kipc_chan_send(tx, &i, sizeof(i), 0), 0);
		assert_int_equal(kipc_chan_recv(fast, &v, sizeof(v), 0),
				 sizeof(v));
		assert_int_equal(v, i);
	}
	/* the slow one lost the oldest and is told how many */
	assert_int_equal(kipc_chan_peek(slow, &m, 0), 0);
	memcpy(&first, m.data, sizeof(first));
	assert_true(first >= 6);
	assert_int_equal(m.lost, (uint64_t)first);
	assert_int_equal(kipc_chan_release(slow), 0);
	for (int i = first + 1; i < 10; i++) {
		assert_int_equal(kipc_chan_recv(slow, &v, sizeof(v), 0),
				 sizeof(v));
		assert_int_equal(v, i);
	}
	kipc_chan_stat(slow, &st);
	assert_int_equal(st.lost, (uint64_t)first);
	assert_int_equal(st.messages + st.lost, 10);
	/* overwritten while peeked: ESTALE at release, counted as lost */
	assert_int_equal(kipc_chan_send(tx, &v, sizeof(v), 0), 0);
	assert_int_equal(kipc_chan_peek(slow, &m, 0), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(kipc_chan_send(tx, &i, sizeof(i), 0), 0);
	assert_errno(kipc_chan_release(slow) < 0, ESTALE);
	kipc_chan_stat(slow, &st);
	assert_int_equal(st.messages + st.lost, 11);
	kipc_chan_close(fast);
	kipc_chan_close(slow);
	kipc_chan_close(tx);
}

/*
 * docs/chan.md "Wake-ups": a waiter spins only while its peer may run
 * beside it.  The receiver (spin 5 s) waits for a message sent 100 ms
 * late.  Sender and receiver on one CPU: it sleeps at once instead of
 * burning the CPU the sender needs (waits >= 1).  On two CPUs: it spins,
 * and the message arrives during the spin (waits == 0).
 */
struct late {
	struct kipc_chan *tx;
	int cpu;
};

static int pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *late_sender(void *arg)
{
	struct late *l = arg;

	if (pin_to(l->cpu))
		return (void *)1;
	if (kipc_chan_send(l->tx, "a", 1, -1) < 0)
		return (void *)2;
	usleep(100 * 1000);
	if (kipc_chan_send(l->tx, "b", 1, -1) < 0)
		return (void *)3;
	return NULL;
}

static uint64_t waits_for_late(int rx_cpu, int tx_cpu)
{
	struct kipc_chan_attr a = attr_of(KIPC_CHAN_SPSC, 32, 4);
	struct kipc_chan *tx = kipc_chan_create("anon", &a, KIPC_CHAN_SEND);
	struct kipc_chan *rx = kipc_chan_peer(tx, KIPC_CHAN_RECV);
	struct late l = { tx, tx_cpu };
	struct kipc_chan_stat st;
	cpu_set_t all;
	pthread_t t;
	void *ret;
	char c;

	assert_non_null(rx);
	assert_int_equal(pthread_getaffinity_np(pthread_self(), sizeof(all),
						&all), 0);
	assert_int_equal(pin_to(rx_cpu), 0);
	assert_int_equal(kipc_chan_set_spin(rx, 5000000000L), 0);
	assert_int_equal(pthread_create(&t, NULL, late_sender, &l), 0);
	assert_int_equal(kipc_chan_recv(rx, &c, 1, 10000), 1);
	assert_int_equal(c, 'a');
	kipc_chan_stat(rx, &st);
	uint64_t before = st.waits;

	assert_int_equal(kipc_chan_recv(rx, &c, 1, 10000), 1);
	assert_int_equal(c, 'b');
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_null(ret);
	kipc_chan_stat(rx, &st);
	assert_int_equal(pthread_setaffinity_np(pthread_self(), sizeof(all),
						&all), 0);
	kipc_chan_close(tx);
	kipc_chan_close(rx);
	return st.waits - before;
}

static void spin_only_beside(void **state)
{
	cpu_set_t set;
	int cpus[2], n = 0;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	for (int i = 0; i < CPU_SETSIZE && n < 2; i++)
		if (CPU_ISSET(i, &set))
			cpus[n++] = i;
	if (n < 1)
		skip();
	assert_true(waits_for_late(cpus[0], cpus[0]) >= 1);
	if (n < 2)
		return;		/* one CPU: the other half cannot be shown */
	assert_int_equal(waits_for_late(cpus[0], cpus[1]), 0);
}

static void stat_counts(void **state)
{
	struct kipc_chan_attr a = attr_of(KIPC_CHAN_SPSC, 16, 8);
	struct kipc_chan *tx = kipc_chan_create("anon", &a, KIPC_CHAN_SEND);
	struct kipc_chan *rx = kipc_chan_peer(tx, KIPC_CHAN_RECV);
	struct kipc_chan_stat st;

	(void)state;
	for (int i = 0; i < 5; i++)
		kipc_chan_send(tx, &i, sizeof(i), 0);
	kipc_chan_stat(rx, &st);
	assert_int_equal(st.head, 5);
	assert_int_equal(st.pending, 5);
	assert_int_equal(st.role, KIPC_CHAN_RECV);
	kipc_chan_stat(tx, &st);
	assert_int_equal(st.messages, 5);
	/* nobody slept: no system call was made */
	assert_int_equal(st.waits + st.wakes, 0);
	kipc_chan_close(tx);
	kipc_chan_close(rx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(attr_and_size),
		cmocka_unit_test(format_and_attach),
		cmocka_unit_test(bad_where),
		cmocka_unit_test(errnos_of_calls),
		cmocka_unit_test(closed_peers),
		cmocka_unit_test(close_wakes_sleeper),
		cmocka_unit_test(lying_peer),
		cmocka_unit_test(memfd_by_descriptor),
		cmocka_unit_test(shm_by_name),
		cmocka_unit_test(anon_across_fork),
		cmocka_unit_test(mpsc_records),
		cmocka_unit_test(pubsub_block),
		cmocka_unit_test(pubsub_drop),
		cmocka_unit_test(stat_counts),
		cmocka_unit_test(spin_only_beside),
	};

	snprintf(shm_name, sizeof(shm_name), "/kipc-chan-test-%d", getpid());
	tc_watchdog(120);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
