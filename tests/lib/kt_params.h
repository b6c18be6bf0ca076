/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kt_params.h - helpers for bad-module-parameter tests: a load must fail
 * with the right errno and exactly one clear kernel-log line, and leave
 * nothing behind.
 */
#ifndef KT_PARAMS_H
#define KT_PARAMS_H

#include <stddef.h>

/* One refused parameter string. */
struct kt_bad_param {
	const char *params;
	const char *log;	/* text of the one expected log line */
	int err;		/* expected -errno; 0 means -EINVAL */
};

/*
 * Load MOD with B->params: fails the test unless the load returns B->err
 * and the kernel log since gained exactly one line starting with "MOD:"
 * (not counting the first load's taint line), and it contains B->log.
 * Then calls LEFT(), which asserts that nothing of MOD is left.
 */
void kt_expect_refused(const char *mod, const struct kt_bad_param *b,
		       void (*left)(void));
/*
 * kt_expect_refused() for each of BAD[0..N-1], ROUNDS times over; then
 * VmallocUsed and SUnreclaim must have grown by less than 1 MiB.
 */
void kt_expect_all_refused(const char *mod, const struct kt_bad_param *bad,
			   size_t n, int rounds, void (*left)(void));

#endif /* KT_PARAMS_H */
