/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kt_fault_load.h - fault walks over module loading (tests/lib/kt_fault.h).
 *
 * Loading a module passes about 300 fault points in the kernel's module
 * loader before the module's init runs: the same for every module and
 * every parameter form, and walked once by tests/faultinject/walker.c.  A walk
 * over one module's loading with each of its parameter forms starts a
 * little before its init instead (kt_fault_op.first = kt_fault_load_first()).
 */
#ifndef KT_FAULT_LOAD_H
#define KT_FAULT_LOAD_H

#include "kt_fault.h"

/*
 * The fault point at which a walk over loading MOD should start:
 * kt_fault_load_points(MOD, FAILING) - KT_FAULT_LOAD_MARGIN, where FAILING are
 * parameters that make MOD's init fail at once (with few or no fault
 * points of its own).  The margin covers the points that the loader passes
 * after a failed init (about 6 on the debug kernel) and the drift of the
 * count from one load to the next (KASAN's quarantine makes slabs refill
 * at varying moments: 299-320 seen for the same load), so the walk starts
 * in the loader, before the init.  Fails the test if the load succeeds.
 */
#define KT_FAULT_LOAD_MARGIN 30
unsigned int kt_fault_load_first(const char *mod, const char *failing);

/*
 * kt_fault_walk() over loading MOD with PARAMS, from kt_fault_load_first(MOD,
 * FAILING): CHECK(ARG, nth, rc) after every injected attempt, MOD
 * unloaded after every successful one.  MOD must not be loaded.  The walk
 * is named "MOD load 'PARAMS' (from point N)"; fills RES.
 */
void kt_fault_walk_load(const char *mod, const char *params,
			const char *failing,
			void (*check)(void *arg, unsigned int nth, int rc),
			void *arg, struct kt_fault_result *res);

/*
 * kt_fault_walk_load() with kt_fault_op.dense = DENSE and kt_fault_op.stride =
 * STRIDE: for a load that passes one long loop of identical allocations (the
 * pages of a big buffer), walk the first DENSE points from the start and the
 * tail whole, and every STRIDE-th point in between.
 */
void kt_fault_walk_load_sampled(const char *mod, const char *params,
				const char *failing, unsigned int dense,
				unsigned int stride,
				void (*check)(void *arg, unsigned int nth, int rc),
				void *arg, struct kt_fault_result *res);

/*
 * Linux 6.1's kset_register() does not free the kobject's name when it
 * fails (fixed upstream by commit 1662cea4623f "kset: fix memory leak when
 * kset_register() returns error", which 6.1 does not have), so a
 * class_create() that fails there leaks the class's name: a kstrdup'd
 * string allocated by kobject_set_name() from __class_register().
 * Counts the unreferenced objects kmemleak reports now (after
 * kt_kmemleak_scan()) that are exactly that leak for class NAME; if every
 * one reported is, clears them (kmemleak "clear") so that the suite's
 * final check does not count them again.  Returns the number of the other
 * unreferenced objects; prints what it forgave.
 */
int kt_kmemleak_forgive_class_name(const char *name);

#endif /* KT_FAULT_LOAD_H */
