/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kt_dmabuf.h - dma-bufs in kipc's guest tests: how many this process
 * holds, DMA_BUF_IOCTL_SYNC, and the vgem DRM driver as an importer: load
 * it (from /kipc/intree on Debian's kernels, built into the debug
 * kernel), import a dma-buf with PRIME fd-to-handle (vgem attaches and
 * DMA-maps it), export a handle back.
 */
#ifndef KT_DMABUF_H
#define KT_DMABUF_H

#include <linux/types.h>
#include <stddef.h>

/* Descriptors of this process that are dma-bufs. */
int kt_dmabuf_count(void);
/* DMA_BUF_IOCTL_SYNC start and end with FLAGS (DMA_BUF_SYNC_READ...); 0/-1. */
int kt_dmabuf_sync(int buf_fd, unsigned long long flags);

/*
 * BUF_FD, exported through a read-only device file, is a read-only
 * dma-buf of LEN bytes: a writable mapping fails with EACCES, a readable
 * one shows the N bytes BYTES at offset AT.  Closes BUF_FD.
 */
void kt_dmabuf_check_readonly(int buf_fd, size_t len, size_t at,
			      const char *bytes, size_t n);

/* Load vgem if needed and open its card; the fd, or -1 (errno). */
int kt_vgem_open(void);
/*
 * kt_vgem_open(), or fail the calling test.  (It skipped on the debug and
 * data-race kernels until vm/debug.config built DRM and vgem in; every
 * kernel the tests run on has vgem now: Debian's ship it as a module that
 * vm/mkinitramfs carries.  The name stays for its callers.)
 */
int kt_vgem_open_or_skip(void);
/* Import dma-buf BUF_FD into vgem's CARD; the GEM handle, or 0 (errno). */
__u32 kt_vgem_import(int card, int buf_fd);
/* vgem's dma-buf of HANDLE (read-write, close-on-exec); fd or -1. */
int kt_vgem_export(int card, __u32 handle);
/* Drop HANDLE; 0 or -1 (errno). */
int kt_vgem_close(int card, __u32 handle);

/*
 * The import test both exporters share: the dma-buf BUF_FD of LEN bytes
 * shows the device DEV_FD's bytes from OFF.  Imports it into vgem's CARD
 * (vgem attaches and DMA-maps it; debugfs, when mounted, lists EXPORTER
 * with vgem attached), closes BUF_FD, maps vgem's re-export of the handle
 * and checks bytes both ways against pread()/pwrite() of DEV_FD.
 */
void kt_vgem_round_trip(int card, int dev_fd, int buf_fd, long off,
			size_t len, const char *exporter);

#endif /* KT_DMABUF_H */
