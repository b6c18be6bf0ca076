/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kt.h - helpers shared by kipc's guest tests (cmocka, TAP output).
 *
 * Tests run inside a vm/run guest as root, with kipc's modules in
 * /kipc/modules and test-only modules in /kipc/test-modules.
 */
#ifndef KT_H
#define KT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <cmocka.h>

#define KT_MODULE_DIR "/kipc/modules"
#define KT_TEST_MODULE_DIR "/kipc/test-modules"

/* Load MOD (from KT_MODULE_DIR, or a path) with PARAMS; 0 or -errno. */
int kt_load(const char *mod, const char *params);
/* Unload MOD without waiting (O_NONBLOCK); 0 or -errno. */
int kt_unload(const char *mod);
/* Unload MOD if it is loaded; fails the test if it cannot be unloaded. */
void kt_unload_if_loaded(const char *mod);
/* Is MOD listed in /proc/modules? */
bool kt_loaded(const char *mod);
/* Names of the modules in kernel/ (NULL-terminated), from the build. */
const char *const *kt_modules(void);
/* Unload every kipc module that is loaded (a cmocka setup or teardown). */
int kt_unload_all(void **state);
/*
 * Nothing holds kipc any more: message_slot and myshm unload, no kshm
 * object is left, and kshm unloads (each is a test assertion).
 */
void kt_unload_kipc(void);

/*
 * Run FN(ARG) in a child process.  Returns the child's exit status (0-255),
 * or 1000 + signal number if a signal killed it.
 */
int kt_in_child(void (*fn)(void *arg), void *arg);
#define KT_SIGNALED(sig) (1000 + (sig))

/* Run FN(ARG) in a child as UID/GID (an unprivileged user); as above. */
int kt_as_user(unsigned int uid, unsigned int gid, void (*fn)(void *arg),
	       void *arg);

/* A position in the kernel log (/dev/kmsg) to search from later. */
int kt_kmsg_mark(void);
/* Does the kernel log since MARK contain NEEDLE?  Closes MARK. */
bool kt_kmsg_find(int mark, const char *needle);

/* -errno of a failed call's result R (asserts R == -1): kt_err(write(..)) */
int kt_err(long r);
/* Milliseconds of CLOCK_MONOTONIC. */
long kt_now_ms(void);

/* Run a cmocka group with TAP output; use as main's return value. */
#define kt_run_group(tests, setup, teardown) \
	(cmocka_set_message_output(CM_OUTPUT_TAP), \
	 cmocka_run_group_tests(tests, setup, teardown))

#endif /* KT_H */
