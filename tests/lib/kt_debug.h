/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kt_debug.h - let guest tests adapt to the debug kernel (make check-debug).
 *
 * Under KASAN, lockdep and kmemleak in a TCG guest every kernel entry costs
 * 10-50x more than on Debian's kernels, and freed memory sits in KASAN's
 * quarantine for a while, so fixed-count stress loops and MemFree/Slab
 * growth checks do not transfer: scale the loops with kt_scaled(), and leave
 * leak detection to kmemleak (vm/guest/run-tests checks it after the last
 * test) where kt_debug_kernel() is true.
 */
#ifndef KT_DEBUG_H
#define KT_DEBUG_H

#include <stdbool.h>

/* Factor by which kt_scaled() shrinks loop counts on the debug kernel. */
#define KT_DEBUG_SLOWDOWN 50

/* Is this the debug kernel (release ends in -kipc-debug)? */
bool kt_debug_kernel(void);

/*
 * Factor for the data-race kernel (make check-kcsan): no KASAN there, but
 * every access of kipc's instrumented modules is checked by KCSAN, which
 * made kshm/leaks' 250,000 cycles take 465 s instead of a few seconds.
 */
#define KT_KCSAN_SLOWDOWN 10

/* Is this the data-race kernel (release ends in -kipc-kcsan)? */
bool kt_kcsan_kernel(void);

/*
 * N, or N / KT_DEBUG_SLOWDOWN on the debug kernel, N / KT_KCSAN_SLOWDOWN
 * on the data-race kernel (at least 1).
 */
long kt_scaled(long n);

/*
 * Shrink every slab cache (/sys/kernel/slab/NAME/shrink): frees empty
 * slabs and, under KASAN, the objects the cache has in KASAN's quarantine
 * (up to 1/32 of RAM that is freed but still counted in Slab).  Call it
 * before reading Slab from /proc/meminfo to measure what is really in use.
 * Returns the number of caches shrunk.
 */
int kt_slab_shrink(void);

#endif /* KT_DEBUG_H */
