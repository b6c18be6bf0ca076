/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kshm_ioctl.h - ABI of kshm.ko, kipc's named shared memory.
 *
 * /dev/kshm (mode 0666) is the control device.  KSHM_IOC_OPEN on it opens
 * (or creates) a named object and returns a new file descriptor for that
 * object.  The object descriptor takes KSHM_IOC_TRUNC, KSHM_IOC_INFO and
 * mmap(MAP_SHARED).  An object lives as long as any file descriptor or
 * mapping of it exists anywhere; then it and its name are freed.
 *
 * Applications normally use libkipc (<kipc/kshm.h>) instead of these
 * ioctls directly.
 */
#ifndef _UAPI_KIPC_KSHM_IOCTL_H
#define _UAPI_KIPC_KSHM_IOCTL_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Longest object name in bytes, without a leading '/' and the NUL. */
#define KSHM_NAME_MAX		63
/* Size of the name buffer in the ioctl arguments. */
#define KSHM_NAME_BUF		128

/* kshm_open_args.flags */
#define KSHM_RDONLY		0x00	/* open for reading */
#define KSHM_RDWR		0x01	/* open for reading and writing */
#define KSHM_CREAT		0x02	/* create the object if it is missing */
#define KSHM_EXCL		0x04	/* with KSHM_CREAT: fail if it exists */
#define KSHM_CLOEXEC		0x08	/* new descriptor gets FD_CLOEXEC */
#define KSHM_FLAGS_ALL		0x0f

/* kshm_open_args.mode: permission bits of a new object. */
#define KSHM_MODE_MASK		0777

/**
 * struct kshm_open_args - argument of KSHM_IOC_OPEN
 * @name:  object name, NUL-terminated within the buffer; 1 to
 *         KSHM_NAME_MAX bytes of any value but '/', except one
 *         optional leading '/' which is ignored ("/foo" is "foo")
 * @flags: KSHM_RDONLY or KSHM_RDWR, optionally ORed with KSHM_CREAT,
 *         KSHM_EXCL (only with KSHM_CREAT) and KSHM_CLOEXEC
 * @mode:  permission bits (at most 0777) of an object this call creates,
 *         reduced by the caller's umask; ignored when the object exists
 */
struct kshm_open_args {
	char name[KSHM_NAME_BUF];
	__u32 flags;
	__u32 mode;
};

/**
 * struct kshm_trunc_args - argument of KSHM_IOC_TRUNC
 * @size: in: requested size in bytes; out: size allocated (page-rounded)
 */
struct kshm_trunc_args {
	__u64 size;
};

/**
 * struct kshm_info - result of KSHM_IOC_INFO
 * @size:  object size in bytes, 0 before the first successful trunc
 * @uid:   creator's user id (in the caller's user namespace)
 * @gid:   creator's group id (in the caller's user namespace)
 * @mode:  permission bits
 * @opens: open file descriptions of the object (dup/fork share one)
 * @maps:  memory mappings (VMAs) of the object in all processes
 * @pad:   zero
 * @name:  the object's name, NUL-terminated, without a leading '/'
 */
struct kshm_info {
	__u64 size;
	__u32 uid;
	__u32 gid;
	__u32 mode;
	__u32 opens;
	__u32 maps;
	__u32 pad;
	char name[KSHM_NAME_BUF];
};

#define KSHM_IOC_MAGIC		0xE5

/**
 * KSHM_IOC_OPEN - open or create a named object (on /dev/kshm)
 *
 * Argument: struct kshm_open_args.  Returns a new file descriptor for the
 * object (opened for reading, or reading and writing, as @flags say).
 * The descriptor is charged to the calling process (thread group) until
 * the open file is finally released, i.e. every dup and fork copy of it
 * is closed.
 *
 * Errors: EFAULT bad pointer; EINVAL unknown flags, KSHM_EXCL without
 * KSHM_CREAT, mode bits beyond 0777, empty name, or a '/' other than a
 * leading one; ENAMETOOLONG name longer than
 * KSHM_NAME_MAX (or not NUL-terminated within KSHM_NAME_BUF); ENOENT no
 * such object and no KSHM_CREAT; EEXIST object exists and KSHM_CREAT |
 * KSHM_EXCL; EACCES the object's mode denies the requested access (and no
 * CAP_IPC_OWNER); ENOSPC creating it would exceed max_objects; EMFILE the
 * process already holds max_per_process objects open, or RLIMIT_NOFILE;
 * ENFILE, ENOMEM.
 */
#define KSHM_IOC_OPEN		_IOW(KSHM_IOC_MAGIC, 1, struct kshm_open_args)

/**
 * KSHM_IOC_TRUNC - give the object its size (on an object descriptor)
 *
 * Argument: struct kshm_trunc_args.  Only the first successful call on an
 * object allocates zeroed pages; it writes the page-rounded size back.
 *
 * Errors: EFAULT bad pointer (nothing changed); EBADF descriptor not open
 * for writing; EINVAL size 0; EFBIG more than max_pages pages; EBUSY the
 * object already has its size (nothing changed); ENOMEM.
 */
#define KSHM_IOC_TRUNC		_IOWR(KSHM_IOC_MAGIC, 2, struct kshm_trunc_args)

/**
 * KSHM_IOC_INFO - describe the object (on an object descriptor)
 *
 * Argument: struct kshm_info, filled in.  Errors: EFAULT bad pointer.
 */
#define KSHM_IOC_INFO		_IOR(KSHM_IOC_MAGIC, 3, struct kshm_info)

/*
 * mmap(2) on an object descriptor: MAP_SHARED only (MAP_PRIVATE: EINVAL);
 * offset and length must lie within the object (EINVAL, also before the
 * first trunc); PROT_WRITE needs a descriptor open for writing (EACCES).
 * A mapping made without PROT_WRITE can never be made writable: mprotect
 * fails with EACCES.
 */

#endif /* _UAPI_KIPC_KSHM_IOCTL_H */
