/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kipc_fault.h - systematic fault injection for kipc's guest tests.
 *
 * On the debug kernel (make check-debug) every kernel allocation and user
 * copy is a numbered "fault point" of the calling thread, and writing N to
 * /proc/thread-self/fail-nth makes the N-th one fail.  kf_walk() runs an
 * operation with point 1, 2, 3, ... failing until it runs through without
 * reaching the injected point, and checks after every injected attempt that
 * the operation failed cleanly (or absorbed the fault), that the kernel
 * printed no report, and whatever the test's check callback asserts
 * (state intact, no count changed, the device still works).
 *
 * On a kernel without fault injection (Debian's stock kernels) kf_require()
 * skips the calling test, so `make check` stays green there.
 */
#ifndef KIPC_FAULT_H
#define KIPC_FAULT_H

#include <stdbool.h>

/* Does this kernel have fail-nth and the debugfs fault controls? */
bool kf_available(void);

/*
 * Skip the calling cmocka test unless kf_available(); otherwise configure
 * failslab, fail_page_alloc and fail_usercopy for walks: never fail by
 * chance (probability 0, task-filter on), no messages (verbose 0), and
 * every allocation injectable (sleeping ones, highmem, order 0).
 */
void kf_require(void);

/**
 * struct kf_op - one operation to walk
 * @name:  shown in messages and in the "# kipc-fault:" summary line
 * @run:   the operation: as few syscalls as possible, all in this thread
 *         (faults count per thread); 0 on success or a negative errno
 * @check: optional; called after every attempt that had a fault injected,
 *         with the fault point and run's result (0 when the kernel absorbed
 *         the fault and the operation succeeded anyway)
 * @undo:  optional; called after every successful run (absorbed fault or
 *         the final clean run) to restore the state the walk started from
 * @arg:   passed to the callbacks
 * @errnos: optional, 0-terminated: the only errors run may return under an
 *         injected fault (default: ENOMEM, EFAULT)
 * @max_points: give up (and fail) after this many points (default 20000)
 * @first: optional; the first fault point to fail (default 1), for a walk
 *         that skips a prefix walked elsewhere: the kernel's module loader
 *         before a module's init (see kf_load.h)
 * @dense: with @stride: walk every point of the first @dense ones (from
 *         @first), then only every @stride-th; when a point is no longer
 *         reached, walk every point after the last one reached, so the
 *         head and the tail are walked whole and only the middle is
 *         sampled.  For operations that pass one long loop of identical
 *         allocations (myshm's load allocates every page of a buffer).
 * @stride: see @dense; 0 or 1: every point
 */
struct kf_op {
	const char *name;
	int (*run)(void *arg);
	void (*check)(void *arg, unsigned int nth, int rc);
	void (*undo)(void *arg);
	void *arg;
	const int *errnos;
	unsigned int max_points;
	unsigned int first;
	unsigned int dense;
	unsigned int stride;
};

/**
 * struct kf_result - what a walk did
 * @points:   fault points walked (attempts with a fault injected); with
 *            kf_op.stride, the sampled middle counts only its walked points
 * @failed:   of those, attempts where run returned an error
 * @absorbed: of those, attempts where run succeeded anyway
 */
struct kf_result {
	unsigned int points;
	unsigned int failed;
	unsigned int absorbed;
};

/*
 * Walk OP: for N = 1, 2, ... make the N-th fault point fail and run it.
 * Fails the test (cmocka) if an injected attempt returned an errno not in
 * OP->errnos, if the kernel logged a report (a "Call Trace:" is tolerated
 * only after a "page allocation failure" / "vmalloc error" line caused by
 * the injected fault), or if the final run without a fault failed.
 * Prints "# kipc-fault: NAME: P points (F failed, A absorbed)" and returns
 * the number of points walked (with KIPC_FAULT_VERBOSE set in the
 * environment, also each point's result).  Call kf_require() first.
 */
unsigned int kf_walk(const struct kf_op *op, struct kf_result *res);

/*
 * Ask kmemleak for a scan (twice, after waiting for the young objects to
 * age) and return the number of unreferenced objects it reports, printing
 * the report; -1 without kmemleak.  Slow (seconds): once per test group.
 */
int kf_kmemleak_scan(void);

#endif /* KIPC_FAULT_H */
