/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <kipc/kshm.h> - named shared memory (libkipc, needs kshm.ko).
 *
 * Processes share memory by name: one opens "foo", sizes it once with
 * kshm_trunc(), maps it with kshm_map(); every other process that opens
 * "foo" maps the same pages.  Descriptors are real file descriptors, so
 * fork(), dup() and exec() treat them like any other.  The object and its
 * name disappear when the last descriptor and the last mapping of it are
 * gone, in every process (exit and SIGKILL included).
 *
 * Every function returns -1 and sets errno on failure.  See docs/kshm.md
 * and kshm(3).  Link with -lkipc (pkg-config --libs kipc).
 */
#ifndef KIPC_KSHM_H
#define KIPC_KSHM_H

#include <stddef.h>
#include <sys/types.h>

#include <kipc/kshm_ioctl.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * kshm_open - open NAME read-write, creating it (mode 0600, less the
 * umask) if it does not exist.  Same as
 * kshm_open_mode(name, O_RDWR | O_CREAT, 0600).
 */
int kshm_open(const char *name);

/*
 * kshm_open_mode - open NAME like shm_open(3): OFLAG is O_RDONLY or
 * O_RDWR, optionally ORed with O_CREAT, O_EXCL (with O_CREAT only) and
 * O_CLOEXEC; MODE (at most 0777, less the umask) applies to an object this
 * call creates.  Errors: EINVAL (flags, mode, name), ENAMETOOLONG, ENOENT,
 * EEXIST, EACCES, ENOSPC, EMFILE, ENODEV (kshm.ko not loaded), ENOMEM.
 */
int kshm_open_mode(const char *name, int oflag, mode_t mode);

/*
 * kshm_trunc - give the object its size; only the first call on an object
 * succeeds.  Returns the size allocated (SIZE rounded up to whole pages);
 * the pages are zeroed.  Errors: EINVAL (SIZE 0), EFBIG (more than
 * max_pages pages), EBUSY (already sized; nothing changed), EBADF (not a
 * kshm descriptor open for writing), ENOMEM.
 */
int kshm_trunc(int fd, size_t size);

/*
 * kshm_map - map the whole object shared and store its address in *VA.
 * FLAGS is O_RDONLY or O_RDWR (anything else: EINVAL).  A read-only
 * mapping faults (SIGSEGV) on write and mprotect() cannot make it
 * writable.  Errors: EINVAL (flags, VA NULL, object not sized yet),
 * EACCES (O_RDWR on a read-only descriptor), EBADF, ENOMEM.
 */
int kshm_map(int fd, void **va, int flags);

/*
 * kshm_size - the object's size in bytes (0 before the first kshm_trunc).
 */
ssize_t kshm_size(int fd);

/*
 * kshm_stat - describe the object behind FD (see struct kshm_info).
 */
int kshm_stat(int fd, struct kshm_info *info);

/*
 * kshm_close - unmap everything this process mapped through FD with
 * kshm_map(), then close FD.  Touching those mappings afterwards faults.
 * If munmap() fails (ENOMEM), FD stays open and what could not be unmapped
 * stays recorded: call kshm_close() again.
 */
int kshm_close(int fd);

#ifdef __cplusplus
}
#endif

#endif /* KIPC_KSHM_H */
