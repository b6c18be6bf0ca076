// SPDX-License-Identifier: GPL-2.0
/*
 * message_slot/model - a long random sequence of ioctls, writes, reads,
 * closes and reopens on several files, minors and channels, each result
 * checked against the model of tests/lib/kt_slot_model.c (return value, errno,
 * message bytes), plus the debugfs counts now and then.
 *
 * KT_MS_SEED=N in the environment repeats a run; the seed is printed.
 */
#include "lib/kt.h"
#include "lib/kt_debug.h"
#include "lib/kt_slot.h"
#include "lib/kt_slot_model.h"

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

struct mfile {
	int fd;
	struct kt_model_file ms;
};

static struct kt_model *model;
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
	f->fd = kt_slot_open(minor, 0);
	kt_model_open(&f->ms, minor, false);
}

static void check_stats(void)
{
	unsigned long ch, by, want_ch, want_by;
	unsigned int m;

	for (m = 0; m < NMINORS; m++) {
		kt_model_stats(model, m, &want_ch, &want_by);
		assert_true(kt_slot_stats(m, &ch, &by));
		assert_int_equal(ch, want_ch);
		assert_int_equal(by, want_by);
	}
}

#define EXPECT_MODEL(why, op) do {					\
		const char *why_ = (why);				\
		if (why_)						\
			fail_msg("op %ld: %s", (op), why_);		\
	} while (0)

static void op_write(struct mfile *f, long op)
{
	unsigned char buf[3 * MSG_SLOT_MAX_MSG_LEN];
	size_t len = rnd(10) ? 1 + rnd(MSG_SLOT_MAX_MSG_LEN) : rnd(3) * 129;
	ssize_t n;
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)rnd(256);
	n = write(f->fd, buf, len);
	EXPECT_MODEL(kt_model_write(model, &f->ms, buf, len, sizeof(buf), n, errno),
		     op);
}

static void op_read(struct mfile *f, long op)
{
	unsigned char buf[MSG_SLOT_MAX_MSG_LEN + 16];
	size_t size = rnd(4) ? sizeof(buf) : rnd(sizeof(buf));
	ssize_t n;

	n = read(f->fd, buf, size);
	EXPECT_MODEL(kt_model_read(model, &f->ms, buf, size, sizeof(buf), n, errno),
		     op);
}

static void op_ioctl(struct mfile *f, long op)
{
	bool lng = rnd(2);
	unsigned long arg;
	unsigned int cmd;
	int r, want;

	if (rnd(4)) {
		cmd = lng ? MSG_SLOT_CHANNEL_LONG : MSG_SLOT_CHANNEL;
		arg = ids[rnd(NIDS)];
	} else {
		cmd = lng ? MSG_SLOT_SET_CEN_LONG : MSG_SLOT_SET_CEN;
		arg = rnd(3);
	}
	r = ioctl(f->fd, cmd, arg);
	want = kt_model_ioctl(&f->ms, cmd, arg);
	if (want ? r != -1 || errno != -want : r != 0)
		fail_msg("op %ld: ioctl %#x %lu = %d (%s), the model says %d",
			 op, cmd, arg, r, r ? strerror(errno) : "ok", want);
}

static void test_random_vs_model(void **state)
{
	const char *env = getenv("KT_MS_SEED");
	long op, start = kt_now_ms(), nops = kt_scaled(OPS);
	struct mfile *f;
	int i;

	(void)state;
	rng = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) * 2654435761u;
	if (!rng)
		rng = 1;
	printf("# seed %llu (KT_MS_SEED), %ld operations\n",
	       (unsigned long long)rng, nops);
	model = kt_model_new();
	assert_non_null(model);
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
	kt_model_free(model);
	printf("# %ld operations in %ld ms\n", nops, kt_now_ms() - start);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_vs_model),
	};

	return kt_run_group(tests, kt_slot_setup, kt_slot_teardown);
}
