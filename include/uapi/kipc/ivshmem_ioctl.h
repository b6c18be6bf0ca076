/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ivshmem_ioctl.h - user-space ABI of kipc_ivshmem.ko, the guest driver for
 * QEMU's ivshmem-plain and ivshmem-doorbell PCI devices (1af4:1110), and
 * the constants of QEMU's ivshmem server protocol (kipc-ivshmem-server,
 * libkipc's <kipc/ivshmem.h>).  The device's PCI ids and registers are the
 * driver's business (kernel/kipc_ivshmem.c), not part of this ABI.
 *
 * Each device is a misc device /dev/ivshmemN (N in probe order) with the
 * myshm interface of <kipc/myshm.h>: mmap(MAP_SHARED) of BAR2 (mapped
 * write-back cached, as RAM), read()/write()/pread()/pwrite(), lseek()
 * and MYSHM_GET_SIZE, with the same rules and errnos as myshm.  sysfs
 * (/sys/class/misc/ivshmemN/): size, peer_id, vectors, doorbell (0 plain,
 * 1 doorbell), name ("ivshmem-<PCI address>", stable), pci_address,
 * events (one count per vector), struct_pages (1: the memory has struct
 * pages, so process-shared futexes and KIPC_IVSHMEM_DMABUF work in it; 0:
 * raw PFNs); "device" links to the PCI device.
 *
 * Doorbells (ivshmem-doorbell only): every vector has an event count, the
 * number of interrupts that vector took since the device was bound.  An
 * interrupt may stand for several rings (QEMU and the eventfd coalesce
 * them), never for none: after a peer rings, the count grows at least once.
 * Each open file remembers the last count it consumed per vector ("seen",
 * set to the current counts at open); KIPC_IVSHMEM_WAIT and poll() compare
 * against it, so no wake-up is lost between two waits.
 *
 * If the device goes away (unbind, hot-unplug) while files are open:
 * waiters wake with ENODEV, every later call fails with ENODEV, poll()
 * reports EPOLLERR | EPOLLHUP, and touching an old mapping raises SIGBUS.
 */
#ifndef _UAPI_KIPC_IVSHMEM_IOCTL_H
#define _UAPI_KIPC_IVSHMEM_IOCTL_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* ---- QEMU's server protocol (docs/specs/ivshmem-spec.rst) ---- */

/* The server's first message. */
#define KIPC_IVSHMEM_PROTOCOL_VERSION 0
/* Peer ids are 0..KIPC_IVSHMEM_MAX_PEERS - 1. */
#define KIPC_IVSHMEM_MAX_PEERS 65536
/* Vectors per peer that kipc's server, library and driver support. */
#define KIPC_IVSHMEM_MAX_VECTORS 64

/* ---- the driver's ioctls ---- */

/* ioctl type of kipc_ivshmem; 0xE7 is unused in ioctl-number.rst. */
#define KIPC_IVSHMEM_IOC_MAGIC 0xE7

/**
 * struct kipc_ivshmem_info - what KIPC_IVSHMEM_GET_INFO returns
 * @size: bytes of shared memory (BAR2), as MYSHM_GET_SIZE
 * @peer_id: own peer id (IVPosition register; 0 on ivshmem-plain)
 * @vectors: doorbell vectors (MSI-X vectors used, at most
 *	KIPC_IVSHMEM_MAX_VECTORS); 0 on ivshmem-plain
 * @doorbell: 1 on ivshmem-doorbell, 0 on ivshmem-plain
 * @reserved: 0
 */
struct kipc_ivshmem_info {
	__u64 size;
	__u32 peer_id;
	__u32 vectors;
	__u32 doorbell;
	__u32 reserved;
};

/**
 * define KIPC_IVSHMEM_GET_INFO - fill a struct kipc_ivshmem_info
 *
 * Errors: EFAULT (bad pointer), ENODEV (device gone).
 */
#define KIPC_IVSHMEM_GET_INFO _IOR(KIPC_IVSHMEM_IOC_MAGIC, 1, \
				   struct kipc_ivshmem_info)

/**
 * define KIPC_IVSHMEM_GET_PEER_ID - store the own peer id in *(__u32 *)arg
 *
 * Errors: EFAULT, ENODEV.
 */
#define KIPC_IVSHMEM_GET_PEER_ID _IOR(KIPC_IVSHMEM_IOC_MAGIC, 2, __u32)

/**
 * struct kipc_ivshmem_ring - argument of KIPC_IVSHMEM_RING
 * @peer: peer id to ring, 0..65535 (own id allowed)
 * @vector: its vector, 0..255 (QEMU decodes 8 bits)
 */
struct kipc_ivshmem_ring {
	__u32 peer;
	__u32 vector;
};

/**
 * define KIPC_IVSHMEM_RING - ring peer @peer's doorbell @vector
 *
 * Writes the Doorbell register.  Like the hardware it is fire and forget:
 * ringing a peer or vector that does not exist succeeds and does nothing.
 * Needs a file opened for writing.
 *
 * Errors: EINVAL (peer > 65535 or vector > 255), EOPNOTSUPP
 * (ivshmem-plain), EBADF (file not open for writing), EFAULT, ENODEV.
 */
#define KIPC_IVSHMEM_RING _IOW(KIPC_IVSHMEM_IOC_MAGIC, 3, \
			       struct kipc_ivshmem_ring)

/**
 * struct kipc_ivshmem_wait - argument of KIPC_IVSHMEM_WAIT
 * @vector: own vector to wait on, below kipc_ivshmem_info.vectors
 * @timeout_ms: -1 waits forever, 0 does not wait, > 0 at most this long
 * @count: out: the vector's event count (also on ETIMEDOUT and EAGAIN)
 */
struct kipc_ivshmem_wait {
	__u32 vector;
	__s32 timeout_ms;
	__u64 count;
};

/**
 * define KIPC_IVSHMEM_WAIT - wait for a doorbell on one vector
 *
 * Returns 0 as soon as the vector's event count differs from this file's
 * seen count for it, and makes the current count the seen one (consumes
 * every event so far).  Several processes may wait on different vectors
 * (or the same one) of one device.
 *
 * Errors: EAGAIN (nothing new and O_NONBLOCK or timeout_ms == 0),
 * ETIMEDOUT, EINTR (a signal arrived; nothing consumed), EINVAL (vector
 * out of range or timeout_ms < -1), EOPNOTSUPP (ivshmem-plain), EFAULT,
 * ENODEV (device gone, also for waiters asleep when it went).
 */
#define KIPC_IVSHMEM_WAIT _IOWR(KIPC_IVSHMEM_IOC_MAGIC, 4, \
				struct kipc_ivshmem_wait)

/**
 * define KIPC_IVSHMEM_SET_POLL - choose the vectors poll() watches
 *
 * *(__u64 *)arg is a bit mask of vectors (bit v = vector v) for this
 * file; the default at open is every vector.  poll()/epoll report EPOLLIN
 * while any chosen vector's count differs from the file's seen count;
 * KIPC_IVSHMEM_WAIT (timeout 0) consumes it.  The file stays writable
 * (EPOLLOUT) always.
 *
 * Errors: EINVAL (a bit at or above the number of vectors), EFAULT,
 * ENODEV.
 */
#define KIPC_IVSHMEM_SET_POLL _IOW(KIPC_IVSHMEM_IOC_MAGIC, 5, __u64)

/* kipc_ivshmem_dmabuf.flags: the dma-buf's descriptor is close-on-exec. */
#define KIPC_IVSHMEM_DMABUF_CLOEXEC 1

/**
 * struct kipc_ivshmem_dmabuf - argument of KIPC_IVSHMEM_DMABUF
 * @offset: first byte of the range in the shared memory, page-aligned
 * @size: bytes, page-aligned, > 0, offset + size <= the memory's size
 * @flags: 0 or KIPC_IVSHMEM_DMABUF_CLOEXEC
 * @fd: out: the dma-buf's file descriptor
 */
struct kipc_ivshmem_dmabuf {
	__u64 offset;
	__u64 size;
	__u32 flags;
	__s32 fd;
	__u64 reserved;
};

/**
 * define KIPC_IVSHMEM_DMABUF - export a range of the memory as a dma-buf
 *
 * The new dma-buf (see the kernel's Documentation/driver-api/dma-buf.rst)
 * covers [offset, offset + size) of the shared memory: mmap(MAP_SHARED) of
 * its descriptor maps those bytes write-back, as the device's own mapping
 * (read-only if the device was opened O_RDONLY); DMA_BUF_IOCTL_SYNC works
 * (and needs no cache maintenance); any dma-buf importer (a DRM driver's
 * PRIME import, V4L2, ...) can attach it.  It keeps the device's state
 * and the module alive until its last user closes it; when the device goes
 * away, its mappings raise SIGBUS and new attachments fail with ENODEV.
 * Needs the memory's struct pages (BAR2 of 2 MiB or more on a kernel with
 * CONFIG_ZONE_DEVICE; sysfs "struct_pages" is 1).
 *
 * Errors: EINVAL (offset or size not page-aligned, size 0, range past the
 * end, unknown flags, reserved not 0), EOPNOTSUPP (no struct pages),
 * EFAULT, ENODEV, EMFILE, ENFILE, ENOMEM.  On error nothing is created.
 */
#define KIPC_IVSHMEM_DMABUF _IOWR(KIPC_IVSHMEM_IOC_MAGIC, 6, \
				  struct kipc_ivshmem_dmabuf)

#endif /* _UAPI_KIPC_IVSHMEM_IOCTL_H */
