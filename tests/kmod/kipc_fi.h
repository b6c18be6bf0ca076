/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kipc_fi.h - ABI of the test-only kipc_fi module (tests/kmod/kipc_fi.c).
 *
 * kipc_fi exists to prove that kipc's fault-injection walk really injects:
 * every entry point allocates memory and copies from or to user space and
 * unwinds on failure.  /dev/kipc_fi: each open file holds a list of byte
 * strings.  Never shipped.
 */
#ifndef KIPC_FI_H
#define KIPC_FI_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Longest string KIPC_FI_PUSH accepts. */
#define KIPC_FI_MAX_LEN 4096

/**
 * struct kipc_fi_buf - argument of KIPC_FI_PUSH and KIPC_FI_GET
 * @ptr:   user address of the bytes
 * @len:   number of bytes (PUSH: 1..KIPC_FI_MAX_LEN; GET: buffer size in,
 *         string length out)
 * @index: GET: which string (0 = oldest); PUSH: must be 0
 */
struct kipc_fi_buf {
	__u64 ptr;
	__u32 len;
	__u32 index;
};

/*
 * KIPC_FI_PUSH - append a copy of @len bytes at @ptr to this file's list.
 * Returns the new number of strings.  Errors: EINVAL (len 0 or too big,
 * index not 0), EFAULT (bad pointer), ENOMEM; on error the list is unchanged.
 */
#define KIPC_FI_PUSH	_IOW(0xB7, 1, struct kipc_fi_buf)
/*
 * KIPC_FI_GET - copy string @index to @ptr and store its length in @len.
 * Errors: ENOENT (no such index), ENOSPC (@len too small), EFAULT.
 */
#define KIPC_FI_GET	_IOWR(0xB7, 2, struct kipc_fi_buf)
/* KIPC_FI_COUNT - returns the number of strings of this file. */
#define KIPC_FI_COUNT	_IO(0xB7, 3)

#endif /* KIPC_FI_H */
