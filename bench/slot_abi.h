/* SPDX-License-Identifier: GPL-2.0 */
/*
 * slot_abi.h - the message-slot ABI as the benchmarks use it.
 *
 * Prefer the project's uapi header; the course ABI is fixed (issue 3), so
 * the two ioctls it needs are spelled out when the header is absent.
 */
#ifndef KIPC_BENCH_SLOT_ABI_H
#define KIPC_BENCH_SLOT_ABI_H

#include <sys/ioctl.h>

#if __has_include(<kipc/message_slot.h>)
#include <kipc/message_slot.h>
#endif
#ifndef MSG_SLOT_CHANNEL
#define MSG_SLOT_CHANNEL _IOW(235, 0, unsigned int)
#endif
#ifndef MSG_SLOT_MAJOR
#define MSG_SLOT_MAJOR 235
#endif

#endif /* KIPC_BENCH_SLOT_ABI_H */
