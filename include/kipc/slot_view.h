/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <kipc/slot_view.h> - read a message slot channel's latest message with
 * no system call (libkipc, needs message_slot.ko).
 *
 * A view is a read-only page the kernel updates on every write to the
 * channel (struct msg_slot_view in <kipc/message_slot.h>).  These calls
 * map it and read it under its seqcount, so no program writes the
 * memory-ordering code by hand.  Notification stays with the slot file:
 * poll/epoll (or a blocking read) on a file that selected the channel says
 * "changed", the view gives the value.
 *
 *	int fd = open("/dev/slot0", O_RDONLY);
 *	const struct msg_slot_view *v = kipc_slot_view_map(fd, 7);
 *	char buf[MSG_SLOT_MAX_MSG_LEN];
 *	uint64_t seq;
 *	ssize_t n = kipc_slot_view_read(v, buf, sizeof(buf), &seq);
 *
 * Every function that can fail returns -1 (or NULL) and sets errno.  See
 * kipc_slot_view_map(3) and docs/message_slot.md.  Link with -lkipc.
 */
#ifndef KIPC_SLOT_VIEW_H
#define KIPC_SLOT_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <kipc/message_slot.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * kipc_slot_view_map - map the view of channel CHANNEL (not 0) of the slot
 * FD is open on (for reading).  The view stays valid after close(FD),
 * until kipc_slot_view_unmap().  Errors (mmap's): EINVAL (CHANNEL 0),
 * EACCES (FD not open for reading), ENOSPC (the slot's view limit, the
 * memory ceiling or the caller's quota), ENODEV (FD is not a slot),
 * ENOMEM, EBADF.
 */
const struct msg_slot_view *kipc_slot_view_map(int fd, uint32_t channel);

/* kipc_slot_view_unmap - unmap VIEW.  0, or -1 (EINVAL) */
int kipc_slot_view_unmap(const struct msg_slot_view *view);

/*
 * kipc_slot_view_read - copy the channel's latest message into BUF (SIZE
 * bytes) and return its length; store its sequence number in *SEQ (if
 * SEQ is not NULL).  The copy is one whole message as read(2) would return
 * it, never a torn or mixed one: the call retries while a write is under
 * way.  Errors, as read(2)'s: EWOULDBLOCK (no message yet), ENOSPC (SIZE
 * smaller than the message).  No system call.  Unlike read(2), the bytes
 * of BUF past the message (up to SIZE and MSG_SLOT_MAX_MSG_LEN) may be
 * overwritten, with zeros, and so may BUF after an error.
 */
ssize_t kipc_slot_view_read(const struct msg_slot_view *view, void *buf,
			    size_t size, uint64_t *seq);

/*
 * kipc_slot_view_seq - the sequence number of the channel's latest message
 * (the count of messages written to it; 0 before the first).
 */
uint64_t kipc_slot_view_seq(const struct msg_slot_view *view);

/* kipc_slot_view_changed - has a message newer than SEQ been written? */
bool kipc_slot_view_changed(const struct msg_slot_view *view, uint64_t seq);

#ifdef __cplusplus
}
#endif

#endif /* KIPC_SLOT_VIEW_H */
