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
 * Nothing holds kipc any more: message_slot and myshm unload, no kshm
 * object is left, and kshm unloads (each is a test assertion).
 */
void kt_unload_kipc(void);

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
