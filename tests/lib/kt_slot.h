/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kt_slot.h - helpers for the message_slot guest tests.
 *
 * Device nodes are made by the tests themselves, as course users do:
 * kt_slot_path(minor) is /tmp/kt-slot<minor>, a node for major 235.
 */
#ifndef KT_SLOT_H
#define KT_SLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <kipc/message_slot.h>

/* Path of the test node for MINOR (a static buffer per minor). */
const char *kt_slot_path(unsigned int minor);
/* (Re)create the node for MINOR with major MAJOR; fails the test on error. */
void kt_slot_mknod_major(unsigned int major, unsigned int minor);
#define kt_slot_mknod(minor) kt_slot_mknod_major(MSG_SLOT_MAJOR, (minor))
/* Open MINOR's node O_RDWR | FLAGS; fails the test on error. */
int kt_slot_open(unsigned int minor, int flags);
/* Open MINOR's node and select channel ID; fails the test on error. */
int kt_slot_open_chan(unsigned int minor, unsigned int id);
/*
 * For child processes (no cmocka asserts there): open MINOR's node with
 * channel ID, or exit the process with status 90.
 */
int kt_slot_child_open_chan(unsigned int minor, unsigned long id);
/* Set FD's channel (MSG_SLOT_CHANNEL); fails the test on error. */
void kt_slot_chan(int fd, unsigned long id);
/* Write BUF/LEN (or the string S) as one message, asserting success. */
void kt_slot_put(int fd, const void *buf, size_t len);
void kt_slot_put_str(int fd, const char *s);
/* Read FD's message and assert it equals BUF/LEN. */
void kt_slot_expect(int fd, const void *buf, size_t len);
void kt_slot_expect_str(int fd, const char *s);
/* Per-slot counts from debugfs; false if MINOR has no slot yet. */
bool kt_slot_stats(unsigned int minor, unsigned long *channels,
		   unsigned long *bytes);
/* Slot MINOR exists and holds CHANNELS channels with BYTES bytes in all. */
void kt_slot_expect_stats(unsigned int minor, unsigned long channels,
			  unsigned long bytes);
/* Load message_slot with PARAMS and make nodes 0..7; cmocka setup. */
int kt_slot_load(const char *params);
int kt_slot_setup(void **state);
/* Unload message_slot (every file must be closed); cmocka teardown. */
int kt_slot_teardown(void **state);

#endif /* KT_SLOT_H */
