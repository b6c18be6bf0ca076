/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kt_slot_quota.h - helpers for the message_slot memory-limit tests (issue 16):
 * the debugfs files memory ("KEY VALUE" lines) and users ("uid mem
 * messages", the top users, largest first), and the module parameters.
 */
#ifndef KT_SLOT_QUOTA_H
#define KT_SLOT_QUOTA_H

#include <stdbool.h>

/* KEY (max_mem, user_max_mem, mem_used, users) of debugfs memory. */
unsigned long kt_slot_memory(const char *key);
/* UID's line of debugfs users; false if UID holds no charge. */
bool kt_slot_user(unsigned int uid, unsigned long *mem, unsigned long *msgs);
/* UID holds MSGS messages charged MEM bytes (0, 0: no line at all). */
void kt_slot_expect_user(unsigned int uid, unsigned long mem,
			 unsigned long msgs);
/* /sys/module/message_slot/parameters/NAME as a number. */
unsigned long kt_slot_param(const char *name);
/* Write VAL to that parameter: 0 or -errno (open or write). */
int kt_slot_try_set_param(const char *name, const char *val);
/* kt_slot_try_set_param() of a number, asserting success. */
void kt_slot_set_param(const char *name, unsigned long val);

#endif /* KT_SLOT_QUOTA_H */
