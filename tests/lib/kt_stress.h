/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kt_stress.h - helpers for kipc's bounded-time stress and fuzz tests.
 *
 * Run time: KIPC_STRESS_SECONDS (default 12) seconds per stress test,
 * taken from the environment or, in a vm/run guest, from the kernel
 * command line (KIPC_APPEND="KIPC_STRESS_SECONDS=60" tests/run-suite ...).
 * Worker processes share one struct kt_stress (MAP_SHARED): a stop flag,
 * per-worker operation counters and a defect counter.
 */
#ifndef KT_STRESS_H
#define KT_STRESS_H

#include <stdbool.h>
#include <sys/types.h>

#define KT_STRESS_MAX_WORKERS	32

/* State shared by the parent and every worker process. */
struct kt_stress {
	volatile int stop;			/* set by the parent at the end */
	volatile long ops[KT_STRESS_MAX_WORKERS];	/* per worker */
	volatile long defects;			/* total, all workers */
	volatile long unload_tries;		/* refused delete_module calls */
	int quiet;				/* count defects, print none */
	pid_t pids[KT_STRESS_MAX_WORKERS];
	int nworkers;
};

/*
 * NAME's value from the environment, else from "NAME=value" on the kernel
 * command line, else DEF.
 */
long kt_env_long(const char *name, long def);
/* Run time of one stress test in seconds (KIPC_STRESS_SECONDS, 12). */
int kt_stress_seconds(void);
/* A new shared state (fails the test if mmap fails). */
struct kt_stress *kt_stress_new(void);
/*
 * Start worker number st->nworkers: a child running FN(ST, IDX, ARG) until
 * it returns (then the child exits 0).  Returns IDX.
 */
int kt_stress_spawn(struct kt_stress *st,
		    void (*fn)(struct kt_stress *st, int idx, void *arg),
		    void *arg);
/*
 * Let the workers run SECONDS, set stop, wait for all of them.  Returns
 * the number of workers that did not exit 0 (each is also a defect).
 */
int kt_stress_finish(struct kt_stress *st, int seconds);
/* Sum of the workers' operation counters. */
long kt_stress_ops(const struct kt_stress *st);
/* Record a defect (printed as a TAP diagnostic, the first 20 only). */
void kt_stress_defect(struct kt_stress *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * A worker that repeatedly tries to unload MOD (delete_module O_NONBLOCK)
 * while the other workers hold its files open: every try must fail with
 * EWOULDBLOCK or EBUSY; a success or any other errno is a defect.  ARG is
 * the module name (const char *).
 */
void kt_stress_unloader(struct kt_stress *st, int idx, void *arg);
/* xorshift64* step; never returns the same state for a non-zero seed. */
unsigned long long kt_rand(unsigned long long *state);

#endif /* KT_STRESS_H */
