/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kt_sync.h - process-shared synchronization in kipc's shared memory.
 *
 * The scenarios users put into shared memory first, run in a region of a
 * /dev/myshm buffer or a kshm object: a PTHREAD_PROCESS_SHARED mutex and
 * condvar ping-pong between a forked child and the parent, and between
 * two exec'd programs that map the region by name; a robust mutex whose
 * holder is SIGKILLed (EOWNERDEAD, then consistent); a semaphore handoff
 * (sem_init pshared=1); a shared FUTEX_WAIT that times out (ETIMEDOUT) and
 * one that FUTEX_WAKE ends from another process (forked, and exec'd); a
 * process-shared rwlock (a writer in one process blocks readers in
 * another, timed lock ETIMEDOUT); a barrier of three processes.
 *
 * All of them use shared (non-private) futexes, which the kernel keys by
 * the backing page's mapping: they fail (EFAULT, or glibc's "The futex
 * facility returned an unexpected error code." abort) on memory that has
 * none.  Every child runs under alarm(), so a lost wake-up fails the test
 * instead of hanging it.
 */
#ifndef KT_SYNC_H
#define KT_SYNC_H

#include <stdbool.h>
#include <stddef.h>

/**
 * struct kt_region - where the scenarios run
 * @kshm: a kshm object (true) or a myshm device (false)
 * @name: the device path (/dev/NAME) or the kshm object's name
 * @size: its size in bytes; the scenarios use its last page
 */
struct kt_region {
	bool kshm;
	const char *name;
	size_t size;
};

/*
 * Run every scenario in R, whose whole size the caller has mapped
 * read-write at BASE (and keeps open, for a kshm object).  Fails the
 * calling cmocka test, naming the scenario, on any error.
 */
void kt_sync_all(const struct kt_region *r, void *base);

/*
 * In main, before anything else: if ARGV asks for a peer (the exec'd
 * program of the by-name scenarios), run it and return its exit status;
 * otherwise return -1.
 */
int kt_sync_peer_main(int argc, char **argv);

#endif /* KT_SYNC_H */
