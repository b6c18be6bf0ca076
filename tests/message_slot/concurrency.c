// SPDX-License-Identifier: GPL-2.0
/*
 * message_slot/concurrency - concurrency: several writer and reader processes
 * on the same and different channels of two slots, and threads sharing one
 * open file, with a torn-message checker.  Every message is self-describing
 * (writer, counter, length and content derived from them, censored or not
 * by writer), so any torn, mixed, truncated or stale-order message fails.
 * Then the files' cached messages against replacements (a message that
 * outgrows its entry gets a new one), one step at a time and under load.
 */
#include "lib/kt.h"
#include "lib/kt_slot.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define WRITERS		4
#define READERS		4
#define RUN_MS		2500
#define MAX_WRITES	60000	/* the counter is 16 bits */

static const unsigned long chans[] = { 1, 2, (1UL << 20) + 5 };
#define NCHANS (sizeof(chans) / sizeof(chans[0]))

/* Shared with the children. */
struct shared {
	volatile int stop;
	volatile long writes, reads;
};

static size_t msg_len(unsigned int w, unsigned int ctr)
{
	return 3 + (w * 7919 + ctr * 104729) % (MSG_SLOT_MAX_MSG_LEN - 2);
}

/* Writers 1 and 3 write with censorship on. */
static size_t make_msg(unsigned char *b, unsigned int w, unsigned int ctr)
{
	size_t i, len = msg_len(w, ctr);

	b[0] = (unsigned char)w;
	b[1] = ctr & 0xff;
	b[2] = (ctr >> 8) & 0xff;
	for (i = 3; i < len; i++)
		b[i] = (w & 1) && i % 4 == 3 ? '#' :
		       (unsigned char)(w * 31 + ctr * 17 + i * 13);
	return len;
}

/* 0 if B/N is a well-formed message; its writer and counter in W, CTR. */
static int check_msg(const unsigned char *b, ssize_t n, unsigned int *w,
		     unsigned int *ctr)
{
	unsigned char want[MSG_SLOT_MAX_MSG_LEN];

	if (n < 3 || b[0] >= WRITERS)
		return -1;
	*w = b[0];
	*ctr = b[1] | b[2] << 8;
	if ((size_t)n != make_msg(want, *w, *ctr))
		return -1;
	return memcmp(b, want, n) ? -1 : 0;
}

static uint32_t xs(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static struct shared *sh;

static void writer(unsigned int w)
{
	unsigned char b[MSG_SLOT_MAX_MSG_LEN];
	int fd[2], m;
	uint32_t seed = 12345 + w;
	unsigned int ctr;
	size_t len;

	for (m = 0; m < 2; m++) {
		fd[m] = kt_slot_child_open_chan(m, 1);
		if (ioctl(fd[m], MSG_SLOT_SET_CEN, w & 1))
			_exit(91);
	}
	for (ctr = 0; ctr < MAX_WRITES && !sh->stop; ctr++) {
		m = xs(&seed) & 1;
		if (ioctl(fd[m], MSG_SLOT_CHANNEL, chans[xs(&seed) % NCHANS]))
			_exit(92);
		len = make_msg(b, w, ctr);
		/* the stored message is the censored one we computed */
		if (write(fd[m], b, len) != (ssize_t)len)
			_exit(93);
		__atomic_add_fetch(&sh->writes, 1, __ATOMIC_RELAXED);
	}
	_exit(0);
}

static void reader(unsigned int r)
{
	int last[2][NCHANS][WRITERS];
	unsigned char b[MSG_SLOT_MAX_MSG_LEN];
	unsigned int w, ctr, c;
	int fd[2], m;
	uint32_t seed = 777 + r;
	ssize_t n;

	memset(last, -1, sizeof(last));
	for (m = 0; m < 2; m++)
		fd[m] = kt_slot_child_open_chan(m, 1);
	while (!sh->stop) {
		m = xs(&seed) & 1;
		c = xs(&seed) % NCHANS;
		if (ioctl(fd[m], MSG_SLOT_CHANNEL, chans[c]))
			_exit(94);
		n = read(fd[m], b, sizeof(b));
		if (n < 0 && errno == EWOULDBLOCK)
			continue;
		if (check_msg(b, n, &w, &ctr)) {
			fprintf(stderr, "# reader %u: torn message (%zd bytes)\n",
				r, n);
			_exit(95);
		}
		/* a writer's messages on a channel never go back in time */
		if ((int)ctr < last[m][c][w]) {
			fprintf(stderr, "# reader %u: writer %u went %d -> %u\n",
				r, w, last[m][c][w], ctr);
			_exit(96);
		}
		last[m][c][w] = (int)ctr;
		__atomic_add_fetch(&sh->reads, 1, __ATOMIC_RELAXED);
	}
	_exit(0);
}

static void test_processes(void **state)
{
	pid_t pids[WRITERS + READERS];
	unsigned char b[MSG_SLOT_MAX_MSG_LEN];
	unsigned long ch, by;
	unsigned int i, w, ctr, m, c;
	int st, fd;
	ssize_t n;

	(void)state;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(sh != MAP_FAILED);
	memset((void *)sh, 0, sizeof(*sh));
	fflush(NULL);
	for (i = 0; i < WRITERS + READERS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			if (i < WRITERS)
				writer(i);
			reader(i - WRITERS);
		}
	}
	usleep(RUN_MS * 1000);
	sh->stop = 1;
	for (i = 0; i < WRITERS + READERS; i++) {
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			fail_msg("child %u: status 0x%x", i, st);
	}
	printf("# %ld writes, %ld reads checked in %d ms\n", sh->writes,
	       sh->reads, RUN_MS);
	assert_true(sh->writes > 1000);
	assert_true(sh->reads > 1000);
	/* every channel ends with one well-formed message */
	for (m = 0; m < 2; m++) {
		fd = kt_slot_open(m, 0);
		for (c = 0; c < NCHANS; c++) {
			kt_slot_chan(fd, chans[c]);
			n = read(fd, b, sizeof(b));
			assert_int_equal(check_msg(b, n, &w, &ctr), 0);
		}
		close(fd);
		assert_true(kt_slot_stats(m, &ch, &by));
		assert_int_equal(ch, NCHANS);
	}
	munmap((void *)sh, sizeof(*sh));
}

/* Threads sharing one open file: ioctl, write, read, poll at once. */
static int shared_fd;
static volatile int bad;

static void *thread_fn(void *arg)
{
	unsigned int t = (unsigned int)(uintptr_t)arg, w, ctr, i;
	unsigned char b[MSG_SLOT_MAX_MSG_LEN];
	uint32_t seed = 99 + t;
	ssize_t n;
	size_t len;

	for (i = 0; i < 5000 && !bad; i++) {
		switch (xs(&seed) % 3) {
		case 0:
			if (ioctl(shared_fd, MSG_SLOT_CHANNEL,
				  chans[xs(&seed) % NCHANS]))
				bad = 1;
			break;
		case 1:
			len = make_msg(b, t & ~1U, i);	/* uncensored writers */
			if (write(shared_fd, b, len) != (ssize_t)len)
				bad = 2;
			break;
		default:
			n = read(shared_fd, b, sizeof(b));
			if (n < 0 && errno == EWOULDBLOCK)
				break;
			if (check_msg(b, n, &w, &ctr))
				bad = 3;
		}
	}
	return NULL;
}

static void test_threads_one_file(void **state)
{
	pthread_t th[4];
	uintptr_t i;

	(void)state;
	shared_fd = kt_slot_open_chan(2, 1);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, thread_fn,
						(void *)i), 0);
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(bad, 0);
	close(shared_fd);
}

/*
 * Each open file caches its channel's message; a write that outgrows the
 * message replaces it (and frees the old one after RCU).  A file that read
 * or wrote the old one must then see the new one, from either side.
 */
static void test_cache_replaced(void **state)
{
	unsigned char big[100], full[MSG_SLOT_MAX_MSG_LEN];
	int fa, fb, fc;

	(void)state;
	memset(big, 'X', sizeof(big));
	memset(full, 'F', sizeof(full));
	fa = kt_slot_open_chan(3, 1);
	fb = kt_slot_open_chan(3, 1);
	fc = kt_slot_open_chan(3, 2);
	kt_slot_put(fa, "a", 1);
	kt_slot_expect(fa, "a", 1);		/* fa caches the small message */
	kt_slot_expect(fb, "a", 1);
	kt_slot_put(fb, big, sizeof(big));	/* replaced by a bigger one */
	kt_slot_expect(fa, big, sizeof(big));
	kt_slot_put(fa, "bb", 2);		/* in place, into the new one */
	kt_slot_expect(fb, "bb", 2);
	kt_slot_expect(fa, "bb", 2);
	kt_slot_put(fc, "c", 1);		/* another channel's replacement */
	kt_slot_put(fc, full, sizeof(full));
	kt_slot_expect(fa, "bb", 2);
	kt_slot_put(fa, "ddd", 3);
	kt_slot_expect(fb, "ddd", 3);
	kt_slot_chan(fa, 2);			/* a switch drops the cache */
	kt_slot_expect(fa, full, sizeof(full));
	kt_slot_put(fa, "e", 1);
	kt_slot_expect(fc, "e", 1);
	kt_slot_chan(fa, 1);
	kt_slot_expect(fa, "ddd", 3);
	kt_slot_expect_stats(3, 2, 3 + 1);
	close(fa);
	close(fb);
	close(fc);
}

/*
 * The same under load: a writer moves to a fresh channel each round and
 * grows its message twice there (1, 40, then 128 bytes: two replacements);
 * readers follow it.  A message is all one byte derived from its channel
 * and length, and on one channel a reader never sees it shrink: a stale
 * cached message (or a freed one: KASAN) fails.
 */
#define CACHE_ROUNDS	4000
#define CACHE_READERS	3

static volatile unsigned long *cache_cur;

static unsigned char cache_byte(unsigned long id, size_t len)
{
	return (unsigned char)((id * 31) ^ len);
}

static void cache_writer(void)
{
	static const size_t lens[] = { 1, 40, 128 };
	unsigned char b[MSG_SLOT_MAX_MSG_LEN];
	unsigned long id;
	int fd = kt_slot_child_open_chan(4, 1), k;

	for (id = 100; id < 100 + CACHE_ROUNDS && !sh->stop; id++) {
		if (ioctl(fd, MSG_SLOT_CHANNEL, id))
			_exit(81);
		for (k = 0; k < 3; k++) {
			memset(b, cache_byte(id, lens[k]), lens[k]);
			if (write(fd, b, lens[k]) != (ssize_t)lens[k])
				_exit(82);
			if (k == 0)
				*cache_cur = id;
			__atomic_add_fetch(&sh->writes, 1, __ATOMIC_RELAXED);
		}
	}
	_exit(0);
}

static void cache_reader(void)
{
	unsigned char b[MSG_SLOT_MAX_MSG_LEN];
	unsigned long id = 0, cur;
	int fd = kt_slot_child_open_chan(4, 1);
	ssize_t n, last = 0, i;

	while (!sh->stop) {
		cur = *cache_cur;
		if (cur != id) {
			if (ioctl(fd, MSG_SLOT_CHANNEL, cur))
				_exit(83);
			id = cur;
			last = 0;
		}
		n = read(fd, b, sizeof(b));
		if (n != 1 && n != 40 && n != 128)
			_exit(84);
		for (i = 0; i < n; i++)
			if (b[i] != cache_byte(id, n))
				_exit(85);
		if (n < last) {
			fprintf(stderr, "# channel %lu: %zd bytes after %zd\n",
				id, n, last);
			_exit(86);
		}
		last = n;
		__atomic_add_fetch(&sh->reads, 1, __ATOMIC_RELAXED);
	}
	_exit(0);
}

static void test_cache_race(void **state)
{
	pid_t pids[1 + CACHE_READERS];
	unsigned char b[1];
	unsigned int i;
	int st, fd;

	(void)state;
	sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(sh != MAP_FAILED);
	memset((void *)sh, 0, 4096);
	cache_cur = (volatile unsigned long *)((char *)sh + 2048);
	/* channel 1 holds a message so the readers' first reads succeed */
	fd = kt_slot_open_chan(4, 1);
	b[0] = cache_byte(1, 1);
	kt_slot_put(fd, b, 1);
	*cache_cur = 1;
	fflush(NULL);
	for (i = 0; i < 1 + CACHE_READERS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			if (i == 0)
				cache_writer();
			cache_reader();
		}
	}
	assert_int_equal(waitpid(pids[0], &st, 0), pids[0]);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fail_msg("writer: status 0x%x", st);
	sh->stop = 1;
	for (i = 1; i < 1 + CACHE_READERS; i++) {
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			fail_msg("reader %u: status 0x%x", i, st);
	}
	printf("# %ld writes (%d replacements), %ld reads checked\n",
	       sh->writes, 2 * CACHE_ROUNDS, sh->reads);
	assert_int_equal(sh->writes, 3 * CACHE_ROUNDS);
	assert_true(sh->reads > 100);
	kt_slot_expect_stats(4, CACHE_ROUNDS + 1, 1 + 128UL * CACHE_ROUNDS);
	close(fd);
	munmap((void *)sh, 4096);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_processes),
		cmocka_unit_test(test_threads_one_file),
		cmocka_unit_test(test_cache_replaced),
		cmocka_unit_test(test_cache_race),
	};

	return kt_run_group(tests, kt_slot_setup, kt_slot_teardown);
}
