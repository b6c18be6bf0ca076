/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kt_fault.h - systematic fault injection for kipc's guest tests.
 *
 * On the debug kernel (make check-debug) every kernel allocation and user
 * copy is a numbered "fault point" of the calling thread, and writing N to
 * /proc/thread-self/fail-nth makes the N-th one fail.  kt_fault_walk() runs an
 * operation with point 1, 2, 3, ... failing until it runs through without
 * reaching the injected point, and checks after every injected attempt that
 * the operation failed cleanly (or absorbed the fault), that the kernel
 * printed no report, and whatever the test's check callback asserts
 * (state intact, no count changed, the device still works).
 *
 * On a kernel without fault injection (Debian's stock kernels)
 * kt_fault_require() skips the calling test, so `make check` stays green there;
 * on the debug kernel (kt_debug_kernel()) a missing knob fails the test
 * instead, and so does a walk that reached no fault point (unless @no_points
 * says that is the point) and a missing kmemleak: the lane must not pass by
 * testing nothing.
 */
#ifndef KT_FAULT_H
#define KT_FAULT_H

#include <stdbool.h>

/*
 * The fault window, a contract with vm/run (tests/README.md, "The fault
 * window"): kt_fault_walk() brackets every injected attempt with the
 * kernel-log lines
 *	kipc-fault-window open: NAME point N
 *	kipc-fault-window close: NAME point N
 * and between them vm/run forgives the stack dump of an allocation-failure
 * warning ("page allocation failure:", "vmalloc error:", "vmemmap alloc
 * failure:") up to its "</TASK>"; every other report still fails the run.
 */
#define KT_FAULT_WINDOW		"kipc-fault-window"
#define KT_FAULT_WINDOW_OPEN	KT_FAULT_WINDOW " open: "
#define KT_FAULT_WINDOW_CLOSE	KT_FAULT_WINDOW " close: "

/* Does this kernel have fail-nth and the debugfs fault controls? */
bool kt_fault_available(void);

/*
 * Skip the calling cmocka test unless kt_fault_available(); otherwise configure
 * failslab, fail_page_alloc and fail_usercopy for walks: never fail by
 * chance (probability 0, task-filter on), no messages (verbose 0), and
 * every allocation injectable (sleeping ones, highmem, order 0).
 */
void kt_fault_require(void);

/**
 * struct kt_fault_op - one operation to walk
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
 *         before a module's init (see kt_fault_load.h)
 * @dense: with @stride: walk every point of the first @dense ones (from
 *         @first), then only every @stride-th; when a point is no longer
 *         reached, walk every point after the last one reached, so the
 *         head and the tail are walked whole and only the middle is
 *         sampled.  For operations that pass one long loop of identical
 *         allocations (myshm's load allocates every page of a buffer).
 * @stride: see @dense; 0 or 1: every point
 * @no_points: the operation is expected to reach no fault point at all
 *         (no allocation, no user copy); without it a walk of zero points
 *         fails the test, with it any point does
 */
struct kt_fault_op {
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
	bool no_points;
};

/**
 * struct kt_fault_result - what a walk did
 * @points:   fault points walked (attempts with a fault injected); with
 *            kt_fault_op.stride, the sampled middle counts only its walked points
 * @failed:   of those, attempts where run returned an error
 * @absorbed: of those, attempts where run succeeded anyway
 */
struct kt_fault_result {
	unsigned int points;
	unsigned int failed;
	unsigned int absorbed;
};

/*
 * Walk OP: for N = 1, 2, ... make the N-th fault point fail and run it.
 * Fails the test (cmocka) if an injected attempt returned an errno not in
 * OP->errnos, if the kernel logged a report (a "Call Trace:" is tolerated
 * only after a "page allocation failure" / "vmalloc error" / "vmemmap alloc
 * failure" line caused by the injected fault), or if the final run without
 * a fault failed.
 * Prints "# kipc-fault: NAME: P points (F failed, A absorbed)" (with
 * " none expected" appended for @no_points walks) and returns
 * the number of points walked (with KIPC_FAULT_VERBOSE set in the
 * environment, also each point's result).  Call kt_fault_require() first.
 */
unsigned int kt_fault_walk(const struct kt_fault_op *op,
			   struct kt_fault_result *res);

/*
 * Ask kmemleak for a scan (twice, after waiting for the young objects to
 * age) and return the number of unreferenced objects it reports, printing
 * the report; -1 without kmemleak.  Slow (seconds): once per test group.
 */
int kt_kmemleak_scan(void);

#endif /* KT_FAULT_H */
