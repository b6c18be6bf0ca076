// SPDX-License-Identifier: GPL-2.0
/*
 * message_slot/model - a long random sequence of ioctls, writes, reads,
 * closes and reopens on several files, minors and channels, each result
 * checked against a model of the course ABI kept by the test (return value,
 * errno, message bytes), plus the debugfs counts now and then.
 *
 * KT_MS_SEED=N in the environment repeats a run; the seed is printed.
 */
#include "lib/kipc_test.h"
#include "lib/kt_debug.h"
#include "lib/msgslot.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define OPS	300000
#define NFILES	6
#define NMINORS	2
/* The last id is 0, which is invalid. */
static const unsigned long ids[] = {
	1, 2, 3, 1UL << 20, (1UL << 20) + 1, 0xfffffffeUL, 0xffffffffUL, 0,
};
#define NIDS (sizeof(ids) / sizeof(ids[0]))

struct mchan {
	int len;			/* 0: no message */
	unsigned char data[MSG_SLOT_MAX_MSG_LEN];
};

struct mfile {
	int fd;
	unsigned int minor;
	int chan;			/* index into ids, -1: none */
	int censor;
};

static struct mchan model[NMINORS][NIDS];
static struct mfile files[NFILES];
static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)((rng >> 11) % n);
}

static void reopen(struct mfile *f, unsigned int minor)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = ms_open(minor, 0);
	f->minor = minor;
	f->chan = -1;
	f->censor = 0;
}

static void check_stats(void)
{
	unsigned long ch, by, want_ch, want_by;
	unsigned int m;
	size_t i;

	for (m = 0; m < NMINORS; m++) {
		want_ch = want_by = 0;
		for (i = 0; i < NIDS; i++) {
			want_ch += model[m][i].len > 0;
			want_by += model[m][i].len;
		}
		assert_true(ms_stats(m, &ch, &by));
		assert_int_equal(ch, want_ch);
		assert_int_equal(by, want_by);
	}
}

#define EXPECT(cond, ...) do { if (!(cond)) fail_msg(__VA_ARGS__); } while (0)

static void op_write(struct mfile *f, long op)
{
	unsigned char buf[3 * MSG_SLOT_MAX_MSG_LEN];
	size_t len = rnd(10) ? 1 + rnd(MSG_SLOT_MAX_MSG_LEN) : rnd(3) * 129;
	struct mchan *c;
	ssize_t n;
	size_t i;
	int want;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)rnd(256);
	n = write(f->fd, buf, len);
	if (f->chan < 0)
		want = -EINVAL;
	else if (len == 0 || len > MSG_SLOT_MAX_MSG_LEN)
		want = -EMSGSIZE;
	else
		want = (int)len;
	EXPECT(n == want || (n < 0 && -errno == want),
	       "op %ld: write(%zu) = %zd (errno %d), want %d", op, len, n,
	       errno, want);
	if (want < 0)
		return;
	c = &model[f->minor][f->chan];
	for (i = 0; i < len; i++)
		c->data[i] = f->censor && i % 4 == 3 ? '#' : buf[i];
	c->len = (int)len;
}

static void op_read(struct mfile *f, long op)
{
	unsigned char buf[MSG_SLOT_MAX_MSG_LEN + 16];
	size_t size = rnd(4) ? sizeof(buf) : rnd(sizeof(buf));
	struct mchan *c = f->chan < 0 ? NULL : &model[f->minor][f->chan];
	ssize_t n;
	int want;

	n = read(f->fd, buf, size);
	if (!c)
		want = -EINVAL;
	else if (!c->len)
		want = -EWOULDBLOCK;
	else if (size < (size_t)c->len)
		want = -ENOSPC;
	else
		want = c->len;
	EXPECT(n == want || (n < 0 && -errno == want),
	       "op %ld: read(%zu) = %zd (errno %d), want %d", op, size, n,
	       errno, want);
	if (want > 0)
		EXPECT(!memcmp(buf, c->data, want),
		       "op %ld: read returned different bytes", op);
}

static void op_ioctl(struct mfile *f, long op)
{
	int idx = (int)rnd(NIDS), r, val;
	bool lng = rnd(2);

	if (rnd(4)) {
		r = ioctl(f->fd, lng ? MSG_SLOT_CHANNEL_LONG : MSG_SLOT_CHANNEL,
			  ids[idx]);
		if (ids[idx]) {
			EXPECT(r == 0, "op %ld: channel %lu: %s", op, ids[idx],
			       strerror(errno));
			f->chan = idx;
		} else {
			EXPECT(r == -1 && errno == EINVAL,
			       "op %ld: channel 0 = %d", op, r);
		}
		return;
	}
	val = (int)rnd(3);
	r = ioctl(f->fd, lng ? MSG_SLOT_SET_CEN_LONG : MSG_SLOT_SET_CEN,
		  (unsigned long)val);
	if (val <= 1) {
		EXPECT(r == 0, "op %ld: censor %d: %s", op, val,
		       strerror(errno));
		f->censor = val;
	} else {
		EXPECT(r == -1 && errno == EINVAL, "op %ld: censor 2 = %d",
		       op, r);
	}
}

static void test_random_vs_model(void **state)
{
	const char *env = getenv("KT_MS_SEED");
	long op, start = ms_now_ms(), nops = kt_scaled(OPS);
	struct mfile *f;
	int i;

	(void)state;
	rng = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) * 2654435761u;
	if (!rng)
		rng = 1;
	printf("# seed %llu (KT_MS_SEED), %ld operations\n",
	       (unsigned long long)rng, nops);
	for (i = 0; i < NFILES; i++) {
		files[i].fd = -1;
		reopen(&files[i], i % NMINORS);
	}
	for (op = 0; op < nops; op++) {
		f = &files[rnd(NFILES)];
		switch (rnd(20)) {
		case 0:
			reopen(f, rnd(NMINORS));
			break;
		case 1: case 2: case 3:
			op_ioctl(f, op);
			break;
		case 4: case 5: case 6: case 7: case 8: case 9: case 10:
			op_write(f, op);
			break;
		default:
			op_read(f, op);
			break;
		}
		if (op % 50000 == 0)
			check_stats();
	}
	check_stats();
	for (i = 0; i < NFILES; i++)
		close(files[i].fd);
	printf("# %ld operations in %ld ms\n", nops, ms_now_ms() - start);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_vs_model),
	};

	return kt_run_group(tests, ms_setup, ms_teardown);
}
