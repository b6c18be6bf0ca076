/* SPDX-License-Identifier: GPL-2.0 */
/* kt_fds.h - descriptor helpers for kipc's guest tests. */
#ifndef KT_FDS_H
#define KT_FDS_H

/*
 * Close every descriptor of this process that refers to TARGET (as
 * readlink("/proc/self/fd/N") shows it, e.g. "/dev/kshm"), for example a
 * library's cached device descriptor that would keep a module loaded.
 * Returns how many were closed, or -1.
 */
int kt_close_fds_to(const char *target);

/* How many descriptors of this process refer to TARGET (as above); -1. */
int kt_count_fds_to(const char *target);

#endif /* KT_FDS_H */
