// SPDX-License-Identifier: GPL-2.0
/*
 * message_slot/views - read-only mapped views of a channel's latest message
 * (mmap of a slot file, libkipc's kipc_slot_view_*): "no message yet", the
 * same bytes and sequence numbers as read(2) (longer and shorter messages,
 * censorship, other channels untouched, the rest of the page zero), every
 * refusal with its errno (PROT_WRITE, MAP_PRIVATE, lengths, offsets, a
 * write-only file, mprotect, /proc/PID/mem, mremap growth, a store faults),
 * the per-slot limit, the memory ceiling and quota (ENOSPC, charges given
 * back), close keeps a mapping valid and unloading is refused while one
 * exists, fork and threads sharing a view, and a storm of writers changing
 * lengths and censorship read through views and read(2) with no torn or
 * mismatched message.
 */
#include "lib/kt.h"
#include "lib/kt_stress.h"
#include "lib/kt_slot.h"
#include "lib/kt_slot_quota.h"

#include <kipc/slot_view.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXLEN MSG_SLOT_MAX_MSG_LEN

static long page;

static int setup(void **state)
{
	page = sysconf(_SC_PAGESIZE);
	return kt_slot_setup(state);
}

/* mmap of channel ID's view on FD with PROT and FLAGS: -errno or 0. */
static int try_map(int fd, unsigned long long id, size_t len, int prot,
		   int flags)
{
	void *p = mmap(NULL, len, prot, flags, fd, (off_t)(id * page));

	if (p == MAP_FAILED)
		return -errno;
	munmap(p, len);
	return 0;
}

static const struct msg_slot_view *map_view(int fd, unsigned int id)
{
	const struct msg_slot_view *v = kipc_slot_view_map(fd, id);

	if (!v)
		fail_msg("kipc_slot_view_map(%u): %s", id, strerror(errno));
	return v;
}

/* The view holds exactly MSG (LEN bytes) with sequence number SEQ. */
static void expect_view(const struct msg_slot_view *v, const void *msg,
			size_t len, uint64_t seq)
{
	char buf[MAXLEN];
	uint64_t q = 0;
	const unsigned char *raw = (const unsigned char *)v;
	long i;

	assert_int_equal(kipc_slot_view_read(v, buf, sizeof(buf), &q), len);
	assert_memory_equal(buf, msg, len);
	assert_int_equal(q, seq);
	assert_int_equal(kipc_slot_view_seq(v), seq);
	/* nothing past the message: no older bytes, no kernel memory */
	for (i = offsetof(struct msg_slot_view, data) + len; i < page; i++)
		if (raw[i])
			fail_msg("byte %ld of the view page is %#x", i, raw[i]);
}

static void test_view_reads_like_read(void **state)
{
	int fd = kt_slot_open_chan(0, 7), other = kt_slot_open_chan(0, 8);
	const struct msg_slot_view *v, *v2, *vo;
	char buf[MAXLEN], big[MAXLEN];

	(void)state;
	v = map_view(fd, 7);
	/* no message yet: length and sequence 0, EWOULDBLOCK like read(2) */
	assert_int_equal(v->len, 0);
	assert_int_equal(kipc_slot_view_seq(v), 0);
	assert_int_equal(kipc_slot_view_read(v, buf, sizeof(buf), NULL), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	assert_int_equal(kt_err(read(fd, buf, sizeof(buf))), -EWOULDBLOCK);
	assert_false(kipc_slot_view_changed(v, 0));

	kt_slot_put_str(fd, "hello");
	expect_view(v, "hello", 5, 1);
	assert_true(kipc_slot_view_changed(v, 0));
	assert_false(kipc_slot_view_changed(v, 1));
	/* too small a buffer: ENOSPC like read(2) */
	assert_int_equal(kipc_slot_view_read(v, buf, 4, NULL), -1);
	assert_int_equal(errno, ENOSPC);
	/* a longer message (a new entry), then a shorter one (in place) */
	memset(big, 'x', sizeof(big));
	kt_slot_put(fd, big, sizeof(big));
	expect_view(v, big, sizeof(big), 2);
	kt_slot_put_str(fd, "hi");
	expect_view(v, "hi", 2, 3);
	/* censorship is applied at write time: the view shows the # */
	assert_int_equal(ioctl(fd, MSG_SLOT_SET_CEN, 1), 0);
	kt_slot_put_str(fd, "censored");
	expect_view(v, "cen#ore#", 8, 4);
	kt_slot_expect_str(fd, "cen#ore#");
	/* another channel's writes do not touch it */
	kt_slot_put_str(other, "other channel");
	expect_view(v, "cen#ore#", 8, 4);
	/* a second view of the channel, made later, shows the same */
	v2 = map_view(other, 7);
	expect_view(v2, "cen#ore#", 8, 4);
	/* a view of a channel with messages starts with its latest */
	vo = map_view(fd, 8);
	expect_view(vo, "other channel", 13, 1);
	assert_int_equal(kipc_slot_view_unmap(v2), 0);
	assert_int_equal(kipc_slot_view_unmap(vo), 0);
	assert_int_equal(kipc_slot_view_unmap(v), 0);
	close(fd);
	close(other);
}

static void store_to_view(void *arg)
{
	signal(SIGSEGV, SIG_DFL);	/* not cmocka's handler: die of it */
	*(volatile char *)arg = 1;	/* must fault */
	_exit(0);
}

static void test_view_refusals(void **state)
{
	int fd = kt_slot_open_chan(0, 1), rd, wr;
	const struct msg_slot_view *v;
	char path[64];
	int mem;

	(void)state;
	kt_slot_put_str(fd, "ro");
	assert_int_equal(try_map(fd, 1, page, PROT_READ, MAP_SHARED), 0);
	assert_int_equal(try_map(fd, 1, page, PROT_READ | PROT_WRITE,
				 MAP_SHARED), -EACCES);
	assert_int_equal(try_map(fd, 1, page, PROT_READ, MAP_PRIVATE),
			 -EINVAL);
	assert_int_equal(try_map(fd, 1, 2 * page, PROT_READ, MAP_SHARED),
			 -EINVAL);
	assert_int_equal(try_map(fd, 0, page, PROT_READ, MAP_SHARED), -EINVAL);
	assert_int_equal(try_map(fd, 1ULL << 32, page, PROT_READ, MAP_SHARED),
			 -EINVAL);
	assert_int_equal(try_map(fd, 0xffffffffULL, page, PROT_READ,
				 MAP_SHARED), 0);
	/* the library says EINVAL for channel 0 without a system call */
	assert_null(kipc_slot_view_map(fd, 0));
	assert_int_equal(errno, EINVAL);
	/* a write-only file cannot map; a read-only one can */
	wr = open(kt_slot_path(0), O_WRONLY);
	assert_true(wr >= 0);
	assert_int_equal(try_map(wr, 1, page, PROT_READ, MAP_SHARED), -EACCES);
	close(wr);
	rd = open(kt_slot_path(0), O_RDONLY);
	assert_true(rd >= 0);
	assert_int_equal(try_map(rd, 1, page, PROT_READ | PROT_WRITE,
				 MAP_SHARED), -EACCES);
	v = map_view(rd, 1);
	expect_view(v, "ro", 2, 1);
	/* read-only for good */
	assert_int_equal(mprotect((void *)v, page, PROT_READ | PROT_WRITE), -1);
	assert_int_equal(errno, EACCES);
	snprintf(path, sizeof(path), "/proc/%d/mem", getpid());
	mem = open(path, O_RDWR);
	assert_true(mem >= 0);
	assert_int_equal(pwrite(mem, "XX", 2, (off_t)(uintptr_t)v), -1);
	close(mem);
	assert_int_equal(kt_in_child(store_to_view, (void *)v),
			 KT_SIGNALED(SIGSEGV));
	/* it cannot grow */
	assert_true(mremap((void *)v, page, 2 * page, 0) == MAP_FAILED);
	expect_view(v, "ro", 2, 1);
	/* a zapped page comes back on the next read */
	assert_int_equal(madvise((void *)v, page, MADV_DONTNEED), 0);
	expect_view(v, "ro", 2, 1);
	kt_slot_put_str(fd, "r2");
	expect_view(v, "r2", 2, 2);
	assert_int_equal(kipc_slot_view_unmap(v), 0);
	close(rd);
	close(fd);
}

static void test_view_limit(void **state)
{
	const struct msg_slot_view *v[4], *again;
	int fd = kt_slot_open_chan(1, 1), fd2 = kt_slot_open_chan(2, 1);
	unsigned int i;

	(void)state;
	kt_slot_set_param("max_views", 4);
	for (i = 0; i < 4; i++)
		v[i] = map_view(fd, 100 + i);
	assert_int_equal(try_map(fd, 200, page, PROT_READ, MAP_SHARED),
			 -ENOSPC);
	/* a channel with a view already takes no new one */
	again = map_view(fd, 100);
	assert_int_equal(kipc_slot_view_unmap(again), 0);
	/* the limit is per slot */
	assert_int_equal(try_map(fd2, 200, page, PROT_READ, MAP_SHARED), 0);
	/* the last unmap of a view frees its place */
	assert_int_equal(kipc_slot_view_unmap(v[0]), 0);
	assert_int_equal(try_map(fd, 200, page, PROT_READ, MAP_SHARED), 0);
	for (i = 1; i < 4; i++)
		assert_int_equal(kipc_slot_view_unmap(v[i]), 0);
	kt_slot_set_param("max_views", 1024);
	close(fd);
	close(fd2);
}

struct quota_arg {
	int fd;
	unsigned int made;
};

/*
 * Map views until ENOSPC: exit 0 if it came, with MADE views.  The file is
 * the caller's own (the quota exemption goes by the opener).
 */
static void map_until_enospc(void *arg)
{
	struct quota_arg *q = arg;
	unsigned int id;

	q->fd = open(kt_slot_path(3), O_RDONLY);
	if (q->fd < 0)
		_exit(12);

	for (id = 1; id < 100000; id++) {
		void *p = mmap(NULL, page, PROT_READ, MAP_SHARED, q->fd,
			       (off_t)id * page);

		if (p == MAP_FAILED)
			_exit(errno == ENOSPC && id > 1 ? 0 : 10);
		q->made++;
	}
	_exit(11);
}

static void test_view_quota_and_ceiling(void **state)
{
	struct quota_arg *q = mmap(NULL, sizeof(*q), PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	unsigned long used0, mem, n, per_view, max_mem0, user0, root0 = 0;
	const struct msg_slot_view *v;
	int fd;

	(void)state;
	assert_true(q != MAP_FAILED);
	max_mem0 = kt_slot_param("max_mem");
	user0 = kt_slot_param("user_max_mem");
	used0 = kt_slot_memory("mem_used");
	kt_slot_user(0, &root0, &n);	/* root's messages of earlier tests */
	/* one view's charge: a page and its header, to the mapper */
	fd = kt_slot_open_chan(3, 1);
	v = map_view(fd, 1);
	per_view = kt_slot_memory("mem_used") - used0;
	assert_true(per_view >= (unsigned long)page &&
		    per_view <= (unsigned long)page + 256);
	assert_true(kt_slot_user(0, &mem, &n));
	assert_int_equal(mem - root0, per_view);
	assert_int_equal(kipc_slot_view_unmap(v), 0);
	assert_int_equal(kt_slot_memory("mem_used"), used0);
	mem = 0;
	kt_slot_user(0, &mem, &n);
	assert_int_equal(mem, root0);

	/* a user's quota: 10 views' worth, then ENOSPC, nothing else lost */
	kt_slot_set_param("user_max_mem", 10 * per_view + per_view / 2);
	q->made = 0;
	assert_int_equal(kt_as_user(1000, 1000, map_until_enospc, q), 0);
	assert_int_equal(q->made, 10);
	/* the child's mappings went with it: every charge given back */
	kt_slot_expect_user(1000, 0, 0);
	assert_int_equal(kt_slot_memory("mem_used"), used0);

	/* the ceiling binds root too */
	kt_slot_set_param("max_mem", used0 + 3 * per_view + per_view / 2);
	q->made = 0;
	kt_in_child(map_until_enospc, q);
	assert_int_equal(q->made, 3);
	assert_int_equal(kt_slot_memory("mem_used"), used0);
	kt_slot_set_param("max_mem", max_mem0);
	kt_slot_set_param("user_max_mem", user0);
	close(fd);
	munmap(q, sizeof(*q));
}

static void test_view_outlives_close_and_holds_module(void **state)
{
	int fd = kt_slot_open_chan(4, 9), w;
	const struct msg_slot_view *v;

	(void)state;
	v = map_view(fd, 9);
	close(fd);
	/* the mapping keeps the file, and the file the module */
	assert_int_equal(kt_unload("message_slot"), -EWOULDBLOCK);
	w = kt_slot_open_chan(4, 9);
	kt_slot_put_str(w, "after close");
	close(w);
	expect_view(v, "after close", 11, 1);
	assert_int_equal(kt_unload("message_slot"), -EWOULDBLOCK);
	assert_int_equal(kipc_slot_view_unmap(v), 0);
	assert_int_equal(kt_unload("message_slot"), 0);
	assert_int_equal(kt_slot_load(NULL), 0);
}

struct share_arg {
	const struct msg_slot_view *v;
	int fd;
};

/* In a child: wait for message 2 on the inherited view, then write 3. */
static void child_shares_view(void *arg)
{
	struct share_arg *s = arg;
	char buf[MAXLEN];
	long t0 = kt_now_ms();

	while (kipc_slot_view_seq(s->v) < 2)
		if (kt_now_ms() - t0 > 10000)
			_exit(20);
	if (kipc_slot_view_read(s->v, buf, sizeof(buf), NULL) != 6 ||
	    memcmp(buf, "second", 6))
		_exit(21);
	if (write(s->fd, "third", 5) != 5)
		_exit(22);
	_exit(0);
}

static void *thread_reads_view(void *arg)
{
	struct share_arg *s = arg;
	char buf[MAXLEN];
	long t0 = kt_now_ms();
	uint64_t seq = 0;

	while (kipc_slot_view_read(s->v, buf, sizeof(buf), &seq) < 0 ||
	       seq < 3)
		if (kt_now_ms() - t0 > 10000)
			return (void *)1;
	return memcmp(buf, "third", 5) ? (void *)2 : NULL;
}

static void test_view_fork_and_threads(void **state)
{
	struct share_arg s = { .fd = kt_slot_open_chan(5, 3) };
	pthread_t th;
	void *res;
	pid_t pid;
	int status;

	(void)state;
	s.v = map_view(s.fd, 3);
	kt_slot_put_str(s.fd, "first");
	assert_int_equal(pthread_create(&th, NULL, thread_reads_view, &s), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid)
		child_shares_view(&s);
	kt_slot_put_str(s.fd, "second");
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(pthread_join(th, &res), 0);
	assert_null(res);
	expect_view(s.v, "third", 5, 3);
	assert_int_equal(kipc_slot_view_unmap(s.v), 0);
	close(s.fd);
}

/*
 * The storm: writers with and without censorship write messages whose
 * length and bytes follow from a counter, so any mix of two messages is
 * seen; readers check every copy from the view, and compare a read(2)
 * with the view when no write came in between (same sequence number
 * before and after).
 */
#define STORM_WRITERS 3
#define STORM_READERS 2
#define STORM_CHANNEL 77

static void make_msg(unsigned char *m, unsigned int w, unsigned int n,
		     size_t *len)
{
	size_t i;

	*len = 1 + n % MAXLEN;
	m[0] = 'A' + w;
	for (i = 1; i < *len; i++)
		m[i] = (unsigned char)(n + i);
	if (w & 1)	/* odd writers censor */
		for (i = 3; i < *len; i += 4)
			m[i] = '#';
}

/* Is M (LEN bytes) one whole message of make_msg()? */
static bool msg_ok(const unsigned char *m, size_t len)
{
	unsigned char want[MAXLEN];
	unsigned int w, n;
	size_t l;

	if (len < 1 || len > MAXLEN || m[0] < 'A' ||
	    m[0] >= 'A' + STORM_WRITERS)
		return false;
	w = m[0] - 'A';
	if (len == 1)
		return true;
	/* the writer's counter modulo 256 is in byte 1 */
	n = (unsigned char)(m[1] - 1);
	make_msg(want, w, n, &l);
	return l == len && !memcmp(want, m, len);
}

struct storm {
	atomic_long torn, views, compared, mismatched, backwards;
	atomic_int stop;
};

static void storm_writer(struct storm *st, unsigned int w)
{
	unsigned char m[MAXLEN];
	unsigned int n;
	size_t len;
	int fd = kt_slot_child_open_chan(6, STORM_CHANNEL);

	if ((w & 1) && ioctl(fd, MSG_SLOT_SET_CEN, 1))
		_exit(30);
	for (n = 0; !atomic_load(&st->stop); n++) {
		make_msg(m, w, n * 7 + w, &len);
		if (write(fd, m, len) != (ssize_t)len)
			_exit(31);
	}
	_exit(0);
}

static void storm_reader(struct storm *st)
{
	int fd = kt_slot_child_open_chan(6, STORM_CHANNEL);
	const struct msg_slot_view *v = kipc_slot_view_map(fd, STORM_CHANNEL);
	unsigned char a[MAXLEN], b[MAXLEN];
	uint64_t s1, s2, last = 0;
	ssize_t n, r;

	if (!v)
		_exit(40);
	while (!atomic_load(&st->stop)) {
		n = kipc_slot_view_read(v, a, sizeof(a), &s1);
		if (n < 0)
			continue;	/* no message yet */
		atomic_fetch_add(&st->views, 1);
		if (!msg_ok(a, n))
			atomic_fetch_add(&st->torn, 1);
		if (s1 < last)
			atomic_fetch_add(&st->backwards, 1);
		last = s1;
		r = read(fd, b, sizeof(b));
		s2 = kipc_slot_view_seq(v);
		if (r < 0)
			_exit(41);
		if (!msg_ok(b, r))
			atomic_fetch_add(&st->torn, 1);
		if (s1 == s2) {
			/* no write since the view read: read(2) agrees */
			atomic_fetch_add(&st->compared, 1);
			if (r != n || memcmp(a, b, n))
				atomic_fetch_add(&st->mismatched, 1);
		}
	}
	_exit(0);
}

static void test_view_storm(void **state)
{
	struct storm *st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pids[STORM_WRITERS + STORM_READERS];
	unsigned int i, n = 0;
	int status, secs = kt_stress_seconds() / 3;

	(void)state;
	assert_true(st != MAP_FAILED);
	memset(st, 0, sizeof(*st));
	/*
	 * A 128-byte message first: every storm write then fits the entry
	 * and updates the message and the view in one write section (a
	 * write that allocates a bigger entry shows in read(2) a moment
	 * before the view, which is documented, not a torn read).
	 */
	{
		int fd = kt_slot_open_chan(6, STORM_CHANNEL);
		unsigned char m[MAXLEN];
		size_t len;

		make_msg(m, 0, MAXLEN - 1, &len);	/* writer 0's, 128 B */
		kt_slot_put(fd, m, len);
		close(fd);
	}
	for (i = 0; i < STORM_WRITERS + STORM_READERS; i++) {
		pids[n] = fork();
		assert_true(pids[n] >= 0);
		if (!pids[n]) {
			if (i < STORM_WRITERS)
				storm_writer(st, i);
			storm_reader(st);
		}
		n++;
	}
	sleep(secs > 2 ? secs : 2);
	atomic_store(&st->stop, 1);
	for (i = 0; i < n; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	printf("# storm: %ld view reads, %ld compared with read(2), %ld torn, %ld mismatched, %ld backwards\n",
	       atomic_load(&st->views), atomic_load(&st->compared),
	       atomic_load(&st->torn), atomic_load(&st->mismatched),
	       atomic_load(&st->backwards));
	assert_true(atomic_load(&st->views) > 100);
	assert_true(atomic_load(&st->compared) > 0);
	assert_int_equal(atomic_load(&st->torn), 0);
	assert_int_equal(atomic_load(&st->mismatched), 0);
	assert_int_equal(atomic_load(&st->backwards), 0);
	munmap(st, sizeof(*st));
}

/* One line of the example's output (at most 10 s), without the newline. */
static void expect_line(FILE *f, const char *want)
{
	char line[256];

	assert_non_null(fgets(line, sizeof(line), f));
	line[strcspn(line, "\n")] = '\0';
	assert_string_equal(line, want);
}

/* examples/slot_view: epoll for "changed", the view for the value. */
static void test_example_program(void **state)
{
	int fd = kt_slot_open_chan(7, 5), out[2], status;
	pid_t pid;
	FILE *f;

	(void)state;
	assert_int_equal(pipe(out), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		dup2(out[1], 1);
		alarm(20);
		execl("/kipc/bin/slot_view", "slot_view", kt_slot_path(7), "5", "2",
		      (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	f = fdopen(out[0], "r");
	assert_non_null(f);
	kt_slot_put_str(fd, "one");
	expect_line(f, "1: one");
	kt_slot_put_str(fd, "two");
	expect_line(f, "2: two");
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	fclose(f);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_view_reads_like_read),
		cmocka_unit_test(test_view_refusals),
		cmocka_unit_test(test_view_limit),
		cmocka_unit_test(test_view_quota_and_ceiling),
		cmocka_unit_test(test_view_outlives_close_and_holds_module),
		cmocka_unit_test(test_view_fork_and_threads),
		cmocka_unit_test(test_view_storm),
		cmocka_unit_test(test_example_program),
	};

	return kt_run_group(tests, setup, kt_slot_teardown);
}
