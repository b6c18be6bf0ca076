/* SPDX-License-Identifier: GPL-2.0 */
/*
 * msquota.h - helpers for the message_slot memory-limit tests (issue 16):
 * the debugfs files memory ("KEY VALUE" lines) and users ("uid mem
 * messages", the top users, largest first), and the module parameters.
 */
#ifndef KT_MSQUOTA_H
#define KT_MSQUOTA_H

#include <stdbool.h>

/* KEY (max_mem, user_max_mem, mem_used, users) of debugfs memory. */
unsigned long msq_memory(const char *key);
/* UID's line of debugfs users; false if UID holds no charge. */
bool msq_user(unsigned int uid, unsigned long *mem, unsigned long *msgs);
/* UID holds MSGS messages charged MEM bytes (0, 0: no line at all). */
void msq_expect_user(unsigned int uid, unsigned long mem, unsigned long msgs);
/* /sys/module/message_slot/parameters/NAME as a number. */
unsigned long msq_param(const char *name);
/* Write VAL to that parameter: 0 or -errno (open or write). */
int msq_set_param(const char *name, const char *val);
/* msq_set_param() of a number, asserting success. */
void msq_set(const char *name, unsigned long val);

#endif /* KT_MSQUOTA_H */
