/* SPDX-License-Identifier: GPL-2.0 */
/* kt_kshm.h - helpers for the kshm guest tests. */
#ifndef KT_KSHM_H
#define KT_KSHM_H

#include <kipc/kshm_ioctl.h>

/*
 * A counter from the first line of /proc/kshm ("# objects=N pages=N ..."),
 * e.g. "objects", "pages", "processes"; -1 if missing.
 */
long kt_kshm_counter(const char *key);

/* Close libkipc's cached /dev/kshm descriptor, then unload kshm; 0/-errno. */
int kt_kshm_unload(void);

/*
 * The kshm tests' shared fixtures (cmocka's setup and teardown; the
 * FIXTURE_SETUP/FIXTURE_TEARDOWN of the kernel's selftests):
 * kt_kshm_setup(), a group setup: umask 022, kshm freshly loaded with its
 * default parameters; kt_kshm_teardown(), a group teardown: libkipc's
 * descriptor closed, kshm unloaded; kt_kshm_reset(), a per-case teardown:
 * this process's descriptors of kshm objects closed (a failed case's), no
 * object and no process left (else the case fails), kshm reloaded with
 * its default parameters.
 */
int kt_kshm_setup(void **state);
int kt_kshm_teardown(void **state);
int kt_kshm_reset(void **state);

/* Load kshm with PARAMS, unloading it first if loaded (test assertions). */
void kt_kshm_reload(const char *params);

/* No kshm object, page or process is left (test assertions). */
void kt_kshm_assert_empty(void);

/*
 * Raw ioctls, without libkipc (which caches a /dev/kshm descriptor):
 * KSHM_IOC_OPEN of NAME with FLAGS (KSHM_CLOEXEC added) and MODE on control
 * descriptor CTL, a descriptor or -errno; KSHM_IOC_TRUNC to *SIZE (the
 * allocated size written back), 0 or -errno; KSHM_IOC_INFO into a buffer
 * filled with 0xff first (a test assertion that it succeeds).
 */
int kt_kshm_open(int ctl, const char *name, unsigned int flags,
		 unsigned int mode);
int kt_kshm_trunc(int fd, unsigned long long *size);
struct kshm_info kt_kshm_info(int fd);

#endif /* KT_KSHM_H */
