/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kt_sys.h - more guest test helpers: kernel log counts, /proc/meminfo,
 * numbers from sysfs files, running commands with captured output,
 * character-device majors, and whether (and how often) a process sleeps.
 */
#ifndef KT_SYS_H
#define KT_SYS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * The kernel log since MARK (from kt_kmsg_mark), one message per line
 * without the record prefix; malloc'd, free() it.  Closes MARK.
 */
char *kt_kmsg_text(int mark);
/* Lines of TEXT that contain NEEDLE. */
int kt_count_lines(const char *text, const char *needle);
/* FIELD ("MemFree", "VmallocUsed", ...) of /proc/meminfo in KiB, or -1. */
long long kt_meminfo_kb(const char *field);
/*
 * Is MemFree above KB?  Retries for a few seconds, dropping caches, since
 * after near-OOM reclaim freed pages can sit on per-CPU lists for a while.
 */
bool kt_memfree_above(long long kb);
/* The decimal number at the start of file PATH, or -1. */
long long kt_read_ll(const char *path);
/* Module MOD's parameter NAME (/sys/module/MOD/parameters/NAME), or -1. */
long long kt_module_param(const char *mod, const char *name);
/*
 * Run shell command CMD with stdout (and stderr) captured into OUT
 * (NUL-terminated, truncated to OUTLEN).  Returns the exit status, or
 * 1000 + signal number, or -1.
 */
int kt_run(const char *cmd, char *out, size_t outlen);
/*
 * The character-device major registered as NAME in /proc/devices, or, with
 * NAME NULL, MAJOR itself if some driver has it; -1 if there is none.
 * Aborts if /proc/devices cannot be read.
 */
int kt_chrdev_major(const char *name, int major);

/*
 * Voluntary context switches of PID (/proc/PID/status): each wake-up that
 * runs a sleeping process is one.  Fails the calling test if unreadable.
 */
long kt_ctxsw(pid_t pid);
/*
 * Wait until PID sleeps (state S) and has stayed asleep 50 ms; fails the
 * calling test after 10 s.
 */
void kt_wait_asleep(pid_t pid);

#endif /* KT_SYS_H */
