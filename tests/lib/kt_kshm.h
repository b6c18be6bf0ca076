/* SPDX-License-Identifier: GPL-2.0 */
/* kt_kshm.h - helpers for the kshm guest tests. */
#ifndef KT_KSHM_H
#define KT_KSHM_H

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

#endif /* KT_KSHM_H */
