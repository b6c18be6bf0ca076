/* SPDX-License-Identifier: GPL-2.0 */
/*
 * msgslot.h - helpers for the message_slot guest tests.
 *
 * Device nodes are made by the tests themselves, as course users do:
 * ms_path(minor) is /tmp/kt-slot<minor>, a node for major 235.
 */
#ifndef KT_MSGSLOT_H
#define KT_MSGSLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <kipc/message_slot.h>

/* Path of the test node for MINOR (a static buffer per minor). */
const char *ms_path(unsigned int minor);
/* (Re)create the node for MINOR with major MAJOR; fails the test on error. */
void ms_mknod_major(unsigned int major, unsigned int minor);
#define ms_mknod(minor) ms_mknod_major(MSG_SLOT_MAJOR, (minor))
/* Open MINOR's node O_RDWR | FLAGS; fails the test on error. */
int ms_open(unsigned int minor, int flags);
/* Open MINOR's node and select channel ID; fails the test on error. */
int ms_open_chan(unsigned int minor, unsigned int id);
/*
 * For child processes (no cmocka asserts there): open MINOR's node with
 * channel ID, or exit the process with status 90.
 */
int ms_child_open_chan(unsigned int minor, unsigned long id);
/* Set FD's channel (MSG_SLOT_CHANNEL); fails the test on error. */
void ms_chan(int fd, unsigned long id);
/* Write BUF/LEN (or the string S) as one message, asserting success. */
void ms_put(int fd, const void *buf, size_t len);
void ms_put_str(int fd, const char *s);
/* Read FD's message and assert it equals BUF/LEN. */
void ms_expect(int fd, const void *buf, size_t len);
void ms_expect_str(int fd, const char *s);
/* -errno of a failed call's result R (asserts R == -1): ms_err(write(..)) */
int ms_err(long r);
/* Per-slot counts from debugfs; false if MINOR has no slot yet. */
bool ms_stats(unsigned int minor, unsigned long *channels,
	      unsigned long *bytes);
/* Slot MINOR exists and holds CHANNELS channels with BYTES bytes in all. */
void ms_expect_stats(unsigned int minor, unsigned long channels,
		     unsigned long bytes);
/* Load message_slot with PARAMS and make nodes 0..7; cmocka setup. */
int ms_load(const char *params);
int ms_setup(void **state);
/* Unload message_slot (every file must be closed); cmocka teardown. */
int ms_teardown(void **state);
/* Milliseconds of CLOCK_MONOTONIC. */
long ms_now_ms(void);

#endif /* KT_MSGSLOT_H */
