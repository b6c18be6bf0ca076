/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * myshm.h - user-space ABI of myshm.ko, kernel memory buffers shared
 * through character devices (/dev/myshm and friends).
 *
 * Each buffer is one misc device.  Besides ioctl() below it supports:
 *  - mmap(MAP_SHARED) of any page-aligned range inside the buffer; every
 *    mapping, in any process, shows the same bytes.  MAP_PRIVATE -> EINVAL,
 *    a range past the end -> EINVAL, PROT_WRITE on an O_RDONLY file ->
 *    EACCES (and mprotect(PROT_WRITE) on such a mapping -> EACCES).
 *  - read()/write()/pread()/pwrite() of the same bytes; reading at or past
 *    the end returns 0, writing past the end writes what fits and fails
 *    with ENOSPC when nothing fits; an inaccessible user buffer -> EFAULT
 *    (a failed write changes nothing).
 *  - lseek() with SEEK_SET/SEEK_CUR/SEEK_END to positions 0..size; other
 *    positions or whence values -> EINVAL.
 * See docs/myshm.md for the module parameters and every errno.
 * The size is also in /sys/class/misc/<name>/size (decimal, bytes).
 */
#ifndef _UAPI_KIPC_MYSHM_H
#define _UAPI_KIPC_MYSHM_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* ioctl type of myshm; 0xE6 is unused in ioctl-number.rst. */
#define MYSHM_IOC_MAGIC 0xE6

/**
 * define MYSHM_GET_SIZE - store the buffer's size in bytes in *(__u64 *)arg
 *
 * The size is a multiple of the page size and never changes while the
 * module is loaded.  Works on files opened O_RDONLY, O_WRONLY or O_RDWR.
 *
 * Errors: EFAULT if arg does not point to a writable __u64.  Any other
 * request on a myshm device fails with ENOTTY.
 */
#define MYSHM_GET_SIZE _IOR(MYSHM_IOC_MAGIC, 1, __u64)

/* Longest buffer (device) name, without the terminating NUL. */
#define MYSHM_NAME_MAX 31
/* Most buffers one module load creates (module parameter "buffers"). */
#define MYSHM_MAX_BUFFERS 16
/* Largest size of one buffer: 1 GiB. */
#define MYSHM_MAX_SIZE (1ULL << 30)
/*
 * Size of a buffer whose size is not given: 4 MiB (the module parameter
 * "size" shows it as "4M").
 */
#define MYSHM_DEFAULT_MIB 4
#define MYSHM_DEFAULT_SIZE ((unsigned long long)MYSHM_DEFAULT_MIB << 20)

#endif /* _UAPI_KIPC_MYSHM_H */
