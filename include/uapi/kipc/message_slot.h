/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * message_slot.h - ABI of kipc's message slot device (message_slot.ko).
 *
 * A message slot is a character device (major MSG_SLOT_MAJOR, minors 0-255,
 * one slot per minor).  Each slot holds channels, identified by non-zero
 * 32-bit ids; each channel keeps the last message written to it (1 to
 * MSG_SLOT_MAX_MSG_LEN arbitrary bytes) until it is overwritten or the
 * module is unloaded.  An open file selects a channel with
 * MSG_SLOT_CHANNEL, then write(2) stores a message and read(2) returns it
 * without consuming it.
 *
 * The ioctl argument is passed by value, not through a pointer:
 *
 *	ioctl(fd, MSG_SLOT_CHANNEL, 42);
 *
 * Course headers declare the commands with either "unsigned int" or
 * "unsigned long" as the size; the driver accepts both encodings
 * (MSG_SLOT_CHANNEL and MSG_SLOT_CHANNEL_LONG, and so on), so a program
 * built against either works unchanged.  With a 4-byte encoding only the
 * low 32 bits of the argument count; with an 8-byte one a value that does
 * not fit in 32 bits is rejected with EINVAL.
 *
 * write(2): EINVAL if no channel is set (checked before anything else);
 * EMSGSIZE if the length is 0 or more than MSG_SLOT_MAX_MSG_LEN; EFAULT if
 * the buffer is unreadable; ENOSPC if the slot's channel or byte cap (module
 * parameters max_channels, max_bytes) would be exceeded; ENOMEM (rarely
 * EBUSY: the slot's channel table could not grow); with RWF_NOWAIT
 * (pwritev2, io_uring) EAGAIN if another writer holds the slot or memory
 * is not at hand.  On success
 * all bytes are stored and their number returned; on any error the
 * channel's previous message is untouched.
 *
 * read(2): EINVAL if no channel is set; EWOULDBLOCK if the channel holds no
 * message (in blocking mode see MSG_SLOT_SET_BLOCKING); ENOSPC if the buffer
 * is smaller than the message; EFAULT if the buffer is unwritable.  Returns
 * the message length; the message stays in the channel.
 *
 * poll(2)/select(2)/epoll(7): always writable; readable when the channel
 * holds a message this open file has not read yet.
 *
 * mmap(2), kipc extension: a read-only view of one channel's latest
 * message, read with no system call (struct msg_slot_view below; libkipc's
 * kipc_slot_view_map(3) does all of it).
 */
#ifndef _UAPI_KIPC_MESSAGE_SLOT_H
#define _UAPI_KIPC_MESSAGE_SLOT_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Default character major (module parameter "major") and number of minors. */
#define MSG_SLOT_MAJOR		235
#define MSG_SLOT_MINORS		256
/* Longest message in bytes. */
#define MSG_SLOT_MAX_MSG_LEN	128
/* Name of the registered device range (/proc/devices). */
#define MSG_SLOT_NAME		"message_slot"

/**
 * MSG_SLOT_CHANNEL - select the channel of this open file
 *
 * Argument (by value): the channel id, any non-zero 32-bit value.  The
 * choice belongs to the open file and is not shared with other files.
 * Selecting a different channel resets the file's read mark (see poll and
 * MSG_SLOT_SET_BLOCKING).  Channels need no creation; a channel exists
 * once a message was written to it.
 *
 * Return: 0; EINVAL if the id is 0 (or, for MSG_SLOT_CHANNEL_LONG, does
 * not fit in 32 bits).
 */
#define MSG_SLOT_CHANNEL	_IOW(MSG_SLOT_MAJOR, 0, __u32)

/**
 * MSG_SLOT_SET_CEN - set censorship for this open file
 *
 * Argument (by value): 0 (off, the default) or 1 (on).  With censorship
 * on, a message written through this file is stored with the bytes at
 * 0-based offsets 3, 7, 11, ... replaced by '#'.
 *
 * Return: 0; EINVAL for any other value.
 */
#define MSG_SLOT_SET_CEN	_IOW(MSG_SLOT_MAJOR, 1, __u32)

/**
 * MSG_SLOT_SET_BLOCKING - kipc extension: blocking reads for this file
 *
 * Argument (by value): 0 (off, the default: reads behave exactly as in the
 * course) or 1 (on).  With blocking on, read(2) returns only a message
 * newer than the last one this open file read, waiting for it if needed:
 * EAGAIN instead of waiting if the file has O_NONBLOCK, EINTR (or a
 * transparent restart with SA_RESTART) if a signal arrives while waiting.
 *
 * Return: 0; EINVAL for any other value.
 */
#define MSG_SLOT_SET_BLOCKING	_IOW(MSG_SLOT_MAJOR, 2, __u32)

/**
 * struct msg_slot_view - kipc extension: a channel's mapped view
 *
 * mmap(NULL, page size, PROT_READ, MAP_SHARED, fd, MSG_SLOT_VIEW_OFFSET(id,
 * page size)) on a slot file open for reading maps one page whose start is
 * this structure for channel ID (any non-zero 32-bit id, with or without a
 * message yet); the rest of the page is zeros.  Every write to the channel
 * updates it, with the bytes read(2) would return (censorship applied).
 *
 * @sequence is a seqcount: odd while the kernel writes the fields below,
 * even and bumped by 2 per message otherwise.  A consistent message is
 * read as: S = @sequence (acquire load), retry while odd; copy @len
 * (retry if above MSG_SLOT_MAX_MSG_LEN), @seq and @len bytes of @data;
 * read barrier; retry unless @sequence is still S.  @len 0 (and @seq 0)
 * means the channel holds no message yet.  @seq is the channel's sequence
 * number, the count of messages written to it (read(2) and poll use the
 * same numbers).
 *
 * Errors of mmap: EINVAL length not one page, offset 0 or not below
 * 2^32 pages, MAP_PRIVATE; EACCES PROT_WRITE, or the file not open for
 * reading; ENOSPC the slot's view limit (max_views), the memory ceiling or
 * the opener's memory quota; ENOMEM.  The mapping stays read-only
 * (mprotect(PROT_WRITE) is EACCES) and valid after close(2) until
 * munmap(2); the module cannot be unloaded while one exists.
 */
struct msg_slot_view {
	__u32 sequence;
	__u32 len;
	__u64 seq;
	__u8 data[MSG_SLOT_MAX_MSG_LEN];
};

/* The mmap offset of channel ID's view, for a page size PAGE. */
#define MSG_SLOT_VIEW_OFFSET(id, page)	((__u64)(id) * (__u64)(page))

/* The same commands as encoded by headers that use "unsigned long" (LP64). */
#define MSG_SLOT_CHANNEL_LONG	_IOW(MSG_SLOT_MAJOR, 0, __u64)
#define MSG_SLOT_SET_CEN_LONG	_IOW(MSG_SLOT_MAJOR, 1, __u64)
#define MSG_SLOT_SET_BLOCKING_LONG _IOW(MSG_SLOT_MAJOR, 2, __u64)

/*
 * Names used by the course's headers, so that course programs build
 * unchanged against this header.  Plain literals, so that a program that
 * defines the same name with the same value gets no redefinition warning.
 * Not for the kernel.
 */
#ifndef __KERNEL__
#ifndef MAJOR_NUM
#define MAJOR_NUM		235
#endif
#ifndef DEVICE_RANGE_NAME
#define DEVICE_RANGE_NAME	"message_slot"
#endif
#ifndef BUF_LEN
#define BUF_LEN			128
#endif
#ifndef MAX_MSG_LEN
#define MAX_MSG_LEN		128
#endif
#ifndef SUCCESS
#define SUCCESS			0
#endif
#endif /* !__KERNEL__ */

#endif /* _UAPI_KIPC_MESSAGE_SLOT_H */
