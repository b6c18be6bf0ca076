// SPDX-License-Identifier: GPL-2.0
/*
 * message_slot/stress - bounded-time stress of message_slot.ko (issue 7):
 * 4 writer processes on shared and private channels of two slots, 4 reader
 * processes (plain reads with channel switching, poll, blocking reads
 * interrupted by a timer signal), one process opening and closing files on
 * four minors, and one trying to unload the module all the time.
 *
 * Every message is self-checking: magic, writer id, minor, length, channel
 * id, the writer's sequence number, a payload derived from them, and an
 * FNV-1a checksum of everything before it; lengths vary from 16 to 128
 * bytes.  A reader counts as a defect any message that is torn (length or
 * checksum wrong), foreign (another channel or minor, or on a private
 * channel another writer) or out of order (a private channel's sequence
 * number going backwards; for poll and blocking readers not strictly
 * increasing), and any errno other than the documented ones.
 *
 * Run time: KIPC_STRESS_SECONDS (default 12); see tests/lib/kt_stress.h.
 */
#include "lib/kt.h"
#include "lib/kt_stress.h"
#include "lib/kt_sys.h"
#include "lib/kt_slot.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <unistd.h>

#define WRITERS		4
#define MAGIC		0xA5
#define HDR		12
#define MIN_LEN		(HDR + 4)
#define SHARED_A	7UL
#define SHARED_B	0xffffffffUL

/* Private channel of writer W (1..WRITERS) on MINOR (0 or 1). */
static unsigned long priv_chan(unsigned int w, unsigned int minor)
{
	return (minor ? 2000UL : 1000UL) + w;
}

static uint32_t fnv1a(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

static void put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static size_t make_msg(unsigned char *b, unsigned int w, unsigned int minor,
		       unsigned long chan, uint32_t seq)
{
	size_t i, len = MIN_LEN + (seq * 7 + w * 13) %
			(MSG_SLOT_MAX_MSG_LEN - MIN_LEN + 1);

	b[0] = MAGIC;
	b[1] = w;
	b[2] = minor;
	b[3] = len;
	put32(b + 4, chan);
	put32(b + 8, seq);
	for (i = HDR; i < len - 4; i++)
		b[i] = (unsigned char)(w * 31 + seq * 17 + i * 13);
	put32(b + len - 4, fnv1a(b, len - 4));
	return len;
}

/*
 * Check message B/N read from CHAN on MINOR; OWNER is the only allowed
 * writer (0: any).  Returns its sequence number, or -1 after recording
 * a defect.
 */
static long check_msg(struct kt_stress *st, const unsigned char *b, ssize_t n,
		      unsigned int minor, unsigned long chan, unsigned int owner)
{
	size_t i;

	if (n < MIN_LEN || n > MSG_SLOT_MAX_MSG_LEN || b[3] != n ||
	    b[0] != MAGIC) {
		kt_stress_defect(st, "torn message: %zd bytes, header %02x %u",
				 n, n > 0 ? b[0] : 0, n > 3 ? b[3] : 0);
		return -1;
	}
	if (get32(b + n - 4) != fnv1a(b, n - 4)) {
		kt_stress_defect(st, "bad checksum, %zd bytes", n);
		return -1;
	}
	for (i = HDR; i < (size_t)n - 4; i++)
		if (b[i] != (unsigned char)(b[1] * 31 + get32(b + 8) * 17 +
					    i * 13)) {
			kt_stress_defect(st, "bad payload byte %zu", i);
			return -1;
		}
	if (b[2] != minor || get32(b + 4) != (uint32_t)chan ||
	    b[1] < 1 || b[1] > WRITERS || (owner && b[1] != owner)) {
		kt_stress_defect(st, "foreign message: minor %u chan %u writer %u"
				 " read on minor %u chan %lu", b[2],
				 get32(b + 4), b[1], minor, chan);
		return -1;
	}
	return get32(b + 8);
}

static void writer(struct kt_stress *st, int idx, void *arg)
{
	unsigned int w = (unsigned int)(long)arg, minor;
	unsigned long long rnd = 0x1234567ULL * w + 1;
	unsigned char b[MSG_SLOT_MAX_MSG_LEN];
	unsigned long chan;
	uint32_t seq = 0;
	int fd[2];
	size_t len;

	fd[0] = kt_slot_child_open_chan(0, 1);
	fd[1] = kt_slot_child_open_chan(1, 1);
	while (!st->stop) {
		unsigned long long r = kt_rand(&rnd);

		minor = r & 1;
		switch ((r >> 1) % 4) {
		case 0:
			chan = SHARED_A;
			break;
		case 1:
			chan = minor ? SHARED_B : SHARED_A;
			break;
		default:
			chan = priv_chan(w, minor);
		}
		if (ioctl(fd[minor], (r >> 8) & 1 ? MSG_SLOT_CHANNEL_LONG :
			  MSG_SLOT_CHANNEL, chan))
			kt_stress_defect(st, "writer ioctl: %s", strerror(errno));
		len = make_msg(b, w, minor, chan, ++seq);
		if (write(fd[minor], b, len) != (ssize_t)len)
			kt_stress_defect(st, "writer %u: write %zu: %s", w, len,
					 strerror(errno));
		st->ops[idx]++;
	}
}

/* Per reader: last sequence number per (minor, writer) private channel. */
struct last {
	long seq[2][WRITERS + 1];
};

static void check_order(struct kt_stress *st, struct last *l,
			unsigned int minor, unsigned int w, long seq,
			bool strict)
{
	if (seq < 0)
		return;
	if (seq < l->seq[minor][w] || (strict && seq == l->seq[minor][w]))
		kt_stress_defect(st, "private channel of writer %u on minor %u:"
				 " seq %ld after %ld", w, minor, seq,
				 l->seq[minor][w]);
	l->seq[minor][w] = seq;
}

/* Plain reads of random channels, switching the channel each time. */
static void reader_plain(struct kt_stress *st, int idx, void *arg)
{
	unsigned long long rnd = 0x9876543ULL + idx;
	unsigned char b[MSG_SLOT_MAX_MSG_LEN];
	struct last l = { 0 };
	unsigned int minor, w;
	unsigned long chan;
	int fd[2];
	ssize_t n;

	(void)arg;
	fd[0] = kt_slot_child_open_chan(0, 1);
	fd[1] = kt_slot_child_open_chan(1, 1);
	while (!st->stop) {
		unsigned long long r = kt_rand(&rnd);

		minor = r & 1;
		w = 1 + (r >> 1) % WRITERS;
		switch ((r >> 4) % 3) {
		case 0:
			chan = minor ? SHARED_B : SHARED_A;
			w = 0;
			break;
		case 1:
			chan = SHARED_A;
			w = 0;
			break;
		default:
			chan = priv_chan(w, minor);
		}
		if (ioctl(fd[minor], MSG_SLOT_CHANNEL, chan))
			kt_stress_defect(st, "reader ioctl: %s", strerror(errno));
		n = read(fd[minor], b, sizeof(b));
		if (n < 0) {
			if (errno != EWOULDBLOCK)
				kt_stress_defect(st, "read: %s", strerror(errno));
		} else if (w) {
			check_order(st, &l, minor, w,
				    check_msg(st, b, n, minor, chan, w), false);
		} else {
			check_msg(st, b, n, minor, chan, 0);
		}
		st->ops[idx]++;
	}
}

/* poll() on the private channels of writers 1 (minor 0) and 2 (minor 1). */
static void reader_poll(struct kt_stress *st, int idx, void *arg)
{
	unsigned char b[MSG_SLOT_MAX_MSG_LEN];
	struct pollfd pfd[2];
	struct last l = { 0 };
	unsigned int m;
	ssize_t n;

	(void)arg;
	pfd[0].fd = kt_slot_child_open_chan(0, priv_chan(1, 0));
	pfd[1].fd = kt_slot_child_open_chan(1, priv_chan(2, 1));
	pfd[0].events = pfd[1].events = POLLIN;
	while (!st->stop) {
		if (poll(pfd, 2, 100) < 0) {
			kt_stress_defect(st, "poll: %s", strerror(errno));
			continue;
		}
		for (m = 0; m < 2; m++) {
			if (pfd[m].revents & ~(POLLIN | POLLOUT))
				kt_stress_defect(st, "poll revents %#x",
						 pfd[m].revents);
			if (!(pfd[m].revents & POLLIN))
				continue;
			n = read(pfd[m].fd, b, sizeof(b));
			if (n < 0) {
				kt_stress_defect(st, "read after POLLIN: %s",
						 strerror(errno));
				continue;
			}
			check_order(st, &l, m, m + 1,
				    check_msg(st, b, n, m, priv_chan(m + 1, m),
					      m + 1), true);
			st->ops[idx]++;
		}
	}
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* Blocking reads (MSG_SLOT_SET_BLOCKING) of writer W's private channels. */
static void reader_blocking(struct kt_stress *st, int idx, void *arg)
{
	unsigned int w = (unsigned int)(long)arg, m = w & 1;
	unsigned char b[MSG_SLOT_MAX_MSG_LEN];
	struct itimerval it = { { 0, 100000 }, { 0, 100000 } };
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	struct last l = { 0 };
	int fd;
	ssize_t n;

	fd = kt_slot_child_open_chan(m, priv_chan(w, m));
	if (ioctl(fd, MSG_SLOT_SET_BLOCKING, 1))
		_exit(91);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	while (!st->stop) {
		n = read(fd, b, sizeof(b));
		if (n < 0) {
			if (errno != EINTR)
				kt_stress_defect(st, "blocking read: %s",
						 strerror(errno));
			continue;
		}
		check_order(st, &l, m, w,
			    check_msg(st, b, n, m, priv_chan(w, m), w), true);
		st->ops[idx]++;
	}
}

/* Open and close files on minors 0-3, select, read and write. */
static void opener(struct kt_stress *st, int idx, void *arg)
{
	unsigned long long rnd = 0x55aa55aaULL;
	unsigned char b[MSG_SLOT_MAX_MSG_LEN];
	unsigned int minor;
	unsigned long chan;
	int fd;
	ssize_t n;

	(void)arg;
	while (!st->stop) {
		unsigned long long r = kt_rand(&rnd);

		minor = r % 4;
		fd = open(kt_slot_path(minor), O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			kt_stress_defect(st, "open: %s", strerror(errno));
			continue;
		}
		chan = minor < 2 ? SHARED_A : 3000 + (r >> 8) % 64;
		if (ioctl(fd, MSG_SLOT_CHANNEL, chan))
			kt_stress_defect(st, "ioctl: %s", strerror(errno));
		n = read(fd, b, sizeof(b));
		if (n < 0 && errno != EWOULDBLOCK)
			kt_stress_defect(st, "read: %s", strerror(errno));
		else if (n >= 0)
			check_msg(st, b, n, minor < 2 ? minor : b[2], chan, 0);
		if (minor >= 2) {
			/* a third kind of writer: its own channels only */
			size_t len = make_msg(b, 1, minor, chan, r & 0xffff);

			if (write(fd, b, len) != (ssize_t)len)
				kt_stress_defect(st, "write: %s",
						 strerror(errno));
		}
		close(fd);
		st->ops[idx]++;
	}
}

/* The checker itself: each kind of bad message is one defect. */
static void test_checker(void **state)
{
	struct kt_stress *st = kt_stress_new();
	unsigned char b[MSG_SLOT_MAX_MSG_LEN], c[MSG_SLOT_MAX_MSG_LEN];
	struct last l = { 0 };
	size_t len = make_msg(b, 2, 1, priv_chan(2, 1), 1000);

	(void)state;
	st->quiet = 1;
	assert_int_equal(check_msg(st, b, len, 1, priv_chan(2, 1), 2), 1000);
	assert_int_equal(check_msg(st, b, len, 1, priv_chan(2, 1), 0), 1000);
	assert_int_equal(st->defects, 0);
	assert_int_equal(check_msg(st, b, len - 1, 1, priv_chan(2, 1), 2), -1);
	memcpy(c, b, len);
	c[HDR] ^= 1;					/* corrupt payload */
	assert_int_equal(check_msg(st, c, len, 1, priv_chan(2, 1), 2), -1);
	memcpy(c, b, len);
	c[len - 1] ^= 0x80;				/* checksum */
	assert_int_equal(check_msg(st, c, len, 1, priv_chan(2, 1), 2), -1);
	assert_int_equal(check_msg(st, b, len, 0, priv_chan(2, 1), 2), -1);
	assert_int_equal(check_msg(st, b, len, 1, priv_chan(3, 1), 0), -1);
	assert_int_equal(check_msg(st, b, len, 1, priv_chan(2, 1), 3), -1);
	assert_int_equal(st->defects, 6);
	check_order(st, &l, 1, 2, 10, true);
	check_order(st, &l, 1, 2, 10, false);
	assert_int_equal(st->defects, 6);
	check_order(st, &l, 1, 2, 10, true);		/* not newer */
	check_order(st, &l, 1, 2, 9, false);		/* backwards */
	assert_int_equal(st->defects, 8);
	st->defects = 0;
}

static void test_stress(void **state)
{
	struct kt_stress *st = kt_stress_new();
	int secs = kt_stress_seconds();
	long w = 0, r = 0, o = 0;
	int i, first_reader, first_other;
	FILE *f;
	char line[256];
	bool listed = false;

	(void)state;
	for (i = 1; i <= WRITERS; i++)
		kt_stress_spawn(st, writer, (void *)(long)i);
	first_reader = st->nworkers;
	kt_stress_spawn(st, reader_plain, NULL);
	kt_stress_spawn(st, reader_plain, NULL);
	kt_stress_spawn(st, reader_poll, NULL);
	kt_stress_spawn(st, reader_blocking, (void *)3L);
	first_other = st->nworkers;
	kt_stress_spawn(st, opener, NULL);
	usleep(200000);	/* everyone holds a file before unload tries */
	kt_stress_spawn(st, kt_stress_unloader, "message_slot");
	kt_stress_finish(st, secs);

	for (i = 0; i < st->nworkers; i++)
		*(i < first_reader ? &w : i < first_other ? &r : &o) +=
			st->ops[i];
	printf("# stress message_slot: %d processes, %d s: ops=%ld (writes %ld,"
	       " reads %ld, open/close %ld, unload tries %ld) defects=%ld\n",
	       st->nworkers, secs, kt_stress_ops(st), w, r,
	       st->ops[first_other], st->unload_tries, st->defects);
	assert_int_equal(st->defects, 0);
	assert_true(w > 0 && r > 0 && st->unload_tries > 0);

	/* nothing in use any more: the module unloads and leaves nothing */
	assert_int_equal(kt_unload("message_slot"), 0);
	assert_false(kt_loaded("message_slot"));
	f = fopen("/proc/devices", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		listed |= strstr(line, MSG_SLOT_NAME) != NULL;
	fclose(f);
	assert_false(listed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checker),
		cmocka_unit_test(test_stress),
	};

	return kt_run_group(tests, kt_slot_setup, kt_slot_teardown);
}
