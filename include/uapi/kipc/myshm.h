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
 * Errors: EFAULT if arg does not point to a writable __u64.  Any request
 * but these two fails with ENOTTY.
 */
#define MYSHM_GET_SIZE _IOR(MYSHM_IOC_MAGIC, 1, __u64)

/* myshm_dmabuf.flags: the dma-buf's descriptor is close-on-exec. */
#define MYSHM_DMABUF_CLOEXEC 1

/**
 * struct myshm_dmabuf - argument of MYSHM_DMABUF
 * @offset: first byte of the range in the buffer, page-aligned
 * @size: bytes, page-aligned, > 0, offset + size <= the buffer's size
 * @flags: 0 or MYSHM_DMABUF_CLOEXEC
 * @fd: out: the dma-buf's file descriptor
 * @reserved: 0
 */
struct myshm_dmabuf {
	__u64 offset;
	__u64 size;
	__u32 flags;
	__s32 fd;
	__u64 reserved;
};

/**
 * define MYSHM_DMABUF - export a range of the buffer as a dma-buf
 *
 * The dma-buf covers [offset, offset + size) of the buffer: mmap(MAP_SHARED)
 * of its descriptor shows those bytes (read-only if the device was opened
 * O_RDONLY), DMA_BUF_IOCTL_SYNC works, and any dma-buf importer (a DRM
 * driver's PRIME import, ...) can attach it.  It holds the module until
 * its last user closes it (unloading is refused meanwhile).  The same
 * call as kipc_ivshmem's KIPC_IVSHMEM_DMABUF (kvmfr's KVMFR_DMABUF_CREATE
 * for its static devices).
 *
 * Errors: EINVAL (offset or size not page-aligned, size 0, range past the
 * end, unknown flags, reserved not 0), EFAULT, EMFILE, ENFILE, ENOMEM.
 * On error nothing is created.
 */
#define MYSHM_DMABUF _IOWR(MYSHM_IOC_MAGIC, 2, struct myshm_dmabuf)

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
