// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * kshm.c - libkipc's named shared memory calls (see <kipc/kshm.h>).
 *
 * The control device /dev/kshm is opened once per process (O_CLOEXEC) and
 * cached.  If the program closed it behind our back, the next kshm_open()
 * whose ioctl fails finds that the descriptor is no longer /dev/kshm
 * (fstat) and reopens it.  The cached descriptor holds a reference on
 * kshm.ko, like any open device.  Mappings made by kshm_map() are recorded
 * in a table (fd, address, length) so kshm_close() can unmap them; the
 * table is copied into children by fork() along with the mappings.
 * kshm_close() asks the kernel (KSHM_IOC_MAPPED) whether a recorded range
 * is still mapped from that very open file before it unmaps it: a range
 * the program unmapped or replaced itself, or one recorded for an earlier
 * descriptor with the same number, is forgotten and left alone.
 *
 * Every call on an object descriptor first checks that it is one
 * (kshm_fd()): anything else is EBADF, and no ioctl reaches it.  The check
 * costs an fstat(2), which made the whole open -> trunc -> map -> close
 * cycle a third slower, so a descriptor kshm_open_mode() returned, or one
 * that passed the check and answered an ioctl, is remembered (a bit per
 * descriptor number, below KNOWN_MAX) until kshm_close() and trusted
 * without the fstat.  If the program closed such a descriptor with
 * close(2) and the number now names another file, one kshm ioctl (type
 * 0xE5; the registry's only other user, /dev/fuse, has no command of the
 * same number and size) reaches that file: it answers an error, the check
 * then runs, and the call fails with EBADF as before.  Only a driver that
 * answers every unknown ioctl with success would be fooled; using a stale
 * descriptor number is the program's bug in any case.
 */
#include <kipc/kshm.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define KSHM_DEV "/dev/kshm"

static int ctl_fd = -1;		/* cached /dev/kshm descriptor, or -1 */
static dev_t ctl_rdev;		/* its device number, set before ctl_fd */

#define KNOWN_MAX	4096
#define KNOWN_BITS	(8 * sizeof(unsigned long))

/* Descriptors known to be kshm objects (see the top comment); atomic. */
static unsigned long known[KNOWN_MAX / KNOWN_BITS];

static bool known_test(int fd)
{
	if (fd < 0 || fd >= KNOWN_MAX)
		return false;
	return __atomic_load_n(&known[fd / KNOWN_BITS], __ATOMIC_RELAXED) &
	       (1UL << (fd % KNOWN_BITS));
}

static void known_set(int fd)
{
	if (fd >= 0 && fd < KNOWN_MAX)
		__atomic_fetch_or(&known[fd / KNOWN_BITS],
				  1UL << (fd % KNOWN_BITS), __ATOMIC_RELAXED);
}

static void known_clear(int fd)
{
	if (fd >= 0 && fd < KNOWN_MAX)
		__atomic_fetch_and(&known[fd / KNOWN_BITS],
				   ~(1UL << (fd % KNOWN_BITS)),
				   __ATOMIC_RELAXED);
}

struct kshm_mapping {
	int fd;
	void *addr;
	size_t len;
};

/* Protects maps, nmaps and cap. */
static pthread_mutex_t maps_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kshm_mapping *maps;
static size_t nmaps, cap;

static void maps_prepare(void)
{
	pthread_mutex_lock(&maps_lock);
}

static void maps_unlock(void)
{
	pthread_mutex_unlock(&maps_lock);
}

/* Keep the table usable in a child forked while another thread held it. */
__attribute__((constructor)) static void kshm_lib_init(void)
{
	pthread_atfork(maps_prepare, maps_unlock, maps_unlock);
}

static int ctl_get(void)
{
	int fd = __atomic_load_n(&ctl_fd, __ATOMIC_ACQUIRE);
	int expected = -1;
	struct stat st;

	if (fd >= 0)
		return fd;
	fd = open(KSHM_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			errno = ENODEV;	/* kshm.ko is not loaded */
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		int err = errno;	/* ENOMEM, EFAULT: not a wrong device */

		close(fd);
		errno = err;
		return -1;
	}
	if (!S_ISCHR(st.st_mode)) {
		close(fd);
		errno = ENODEV;
		return -1;
	}
	__atomic_store_n(&ctl_rdev, st.st_rdev, __ATOMIC_RELEASE);
	if (!__atomic_compare_exchange_n(&ctl_fd, &expected, fd, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		close(fd);
		fd = expected;
	}
	return fd;
}

/*
 * After a failed ioctl: is FD still our /dev/kshm?  If not (the program
 * closed it, maybe reused the number), forget it and return false.
 */
static bool ctl_valid(int fd)
{
	struct stat st;
	int err = errno;

	if (!fstat(fd, &st) && S_ISCHR(st.st_mode) &&
	    st.st_rdev == __atomic_load_n(&ctl_rdev, __ATOMIC_ACQUIRE)) {
		errno = err;
		return true;
	}
	__atomic_compare_exchange_n(&ctl_fd, &fd, -1, false, __ATOMIC_ACQ_REL,
				    __ATOMIC_ACQUIRE);
	errno = err;
	return false;
}

/* Does /proc/self/fd/FD read "anon_inode:[kshm]"? */
static bool kshm_link(int fd)
{
	static const char want[] = "anon_inode:[kshm]";
	char path[40], link[sizeof(want)];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link));
	return n == sizeof(want) - 1 && !memcmp(link, want, n);
}

/*
 * May FD be a kshm object descriptor?  Only an anonymous-inode file can
 * be: on 6.1 and 6.12 its st_mode has no file type (newer kernels make it
 * S_IFREG, then the /proc/self/fd link must read "anon_inode:[kshm]").
 * A message slot, /dev/kshm, a pipe, a socket or a regular file is refused
 * before any ioctl reaches it.  The ioctl numbers of kshm belong to no
 * other anonymous-inode file (eventfd, epoll, timerfd, ...): those answer
 * ENOTTY, which obj_ioctl() reports as EBADF too.  False with errno EBADF
 * (or fstat's own error, e.g. ENOMEM) if not.
 */
static bool kshm_fd(int fd)
{
	struct stat st;

	if (fd < 0)
		goto bad;
	if (fstat(fd, &st) < 0)
		return false;
	if (!(st.st_mode & S_IFMT))
		return true;
	if (S_ISREG(st.st_mode) && kshm_link(fd))
		return true;
bad:
	errno = EBADF;
	return false;
}

/*
 * ioctl on an object descriptor: ENOTTY (an unknown file) is EBADF.  A
 * remembered descriptor skips the check; if its ioctl fails, the check
 * decides whether the error is kshm's own or the descriptor's.
 */
static int obj_ioctl(int fd, unsigned long cmd, void *arg)
{
	bool trusted = known_test(fd);
	int err;

	if (!trusted && !kshm_fd(fd))
		return -1;
	if (ioctl(fd, cmd, arg) < 0) {
		err = errno;
		if (trusted && err != EBADF && !kshm_fd(fd))
			err = EBADF;	/* the number names another file now */
		if (err == ENOTTY)
			err = EBADF;
		if (err == EBADF)
			known_clear(fd);
		errno = err;
		return -1;
	}
	if (!trusted)
		known_set(fd);
	return 0;
}

int kshm_open_mode(const char *name, int oflag, mode_t mode)
{
	struct kshm_open_args args;
	int acc = oflag & O_ACCMODE;
	size_t len;
	int fd, ret, tries;

	if (!name) {
		errno = EFAULT;
		return -1;
	}
	if ((acc != O_RDONLY && acc != O_RDWR) ||
	    (oflag & ~(O_ACCMODE | O_CREAT | O_EXCL | O_CLOEXEC))) {
		errno = EINVAL;
		return -1;
	}
	memset(&args, 0, sizeof(args));
	/* The kernel validates the name; an unterminated buffer is too long. */
	len = strnlen(name, sizeof(args.name));
	memcpy(args.name, name, len);
	args.flags = (acc == O_RDWR ? KSHM_RDWR : KSHM_RDONLY) |
		     (oflag & O_CREAT ? KSHM_CREAT : 0) |
		     (oflag & O_EXCL ? KSHM_EXCL : 0) |
		     (oflag & O_CLOEXEC ? KSHM_CLOEXEC : 0);
	args.mode = mode;
	for (tries = 0; tries < 2; tries++) {
		fd = ctl_get();
		if (fd < 0)
			return -1;
		ret = ioctl(fd, KSHM_IOC_OPEN, &args);
		if (ret >= 0)
			known_set(ret);
		if (ret >= 0 || ctl_valid(fd))
			return ret;
	}
	return -1;
}

int kshm_open(const char *name)
{
	return kshm_open_mode(name, O_RDWR | O_CREAT, 0600);
}

int kshm_trunc(int fd, size_t size)
{
	struct kshm_trunc_args args = { .size = size };

	if (obj_ioctl(fd, KSHM_IOC_TRUNC, &args) < 0)
		return -1;
	return (int)args.size;
}

int kshm_stat(int fd, struct kshm_info *info)
{
	if (!info) {
		errno = EFAULT;
		return -1;
	}
	return obj_ioctl(fd, KSHM_IOC_INFO, info);
}

ssize_t kshm_size(int fd)
{
	struct kshm_info info;

	if (kshm_stat(fd, &info) < 0)
		return -1;
	return (ssize_t)info.size;
}

int kshm_map(int fd, void **va, int flags)
{
	struct kshm_mapping *m;
	ssize_t size;
	void *addr;
	int prot;

	if (!va || (flags != O_RDONLY && flags != O_RDWR)) {
		errno = EINVAL;
		return -1;
	}
	size = kshm_size(fd);
	if (size < 0)
		return -1;
	if (size == 0) {
		errno = EINVAL;	/* not sized yet */
		return -1;
	}
	prot = flags == O_RDWR ? PROT_READ | PROT_WRITE : PROT_READ;
	addr = mmap(NULL, (size_t)size, prot, MAP_SHARED, fd, 0);
	if (addr == MAP_FAILED)
		return -1;
	pthread_mutex_lock(&maps_lock);
	if (nmaps == cap) {
		size_t ncap = cap ? 2 * cap : 16;

		m = realloc(maps, ncap * sizeof(*maps));
		if (!m) {
			pthread_mutex_unlock(&maps_lock);
			munmap(addr, (size_t)size);
			errno = ENOMEM;
			return -1;
		}
		maps = m;
		cap = ncap;
	}
	maps[nmaps].fd = fd;
	maps[nmaps].addr = addr;
	maps[nmaps].len = (size_t)size;
	nmaps++;
	pthread_mutex_unlock(&maps_lock);
	*va = addr;
	return 0;
}

/*
 * Unmap what is left of M that is still mapped from FD's open file, and
 * nothing else: the program may have unmapped or replaced parts of it, or
 * M may be an earlier descriptor's with the same number.  0, or -1 with
 * errno and M shrunk to what remains to be done.
 */
static int close_unmap(int fd, struct kshm_mapping *m)
{
	uintptr_t pos = (uintptr_t)m->addr, end = pos + m->len;
	struct kshm_range r;

	while (pos < end) {
		r.addr = pos;
		r.len = end - pos;
		if (obj_ioctl(fd, KSHM_IOC_MAPPED, &r) < 0)
			goto fail;
		if (!r.len)
			break;
		if (munmap((void *)(uintptr_t)r.addr, (size_t)r.len))
			goto fail;
		pos = (uintptr_t)(r.addr + r.len);
	}
	return 0;
fail:
	m->addr = (void *)pos;
	m->len = end - pos;
	return -1;
}

int kshm_close(int fd)
{
	struct kshm_info info;
	bool mapped = false;
	size_t i;
	int err = 0;

	pthread_mutex_lock(&maps_lock);
	for (i = 0; i < nmaps; i++)
		mapped |= maps[i].fd == fd;
	/*
	 * Close only a kshm descriptor: the first KSHM_IOC_MAPPED of a
	 * recorded mapping checks that, or KSHM_IOC_INFO if there is none.
	 */
	if (!mapped && obj_ioctl(fd, KSHM_IOC_INFO, &info) < 0) {
		pthread_mutex_unlock(&maps_lock);
		return -1;
	}
	for (i = 0; i < nmaps;) {
		if (maps[i].fd != fd) {
			i++;
			continue;
		}
		if (close_unmap(fd, &maps[i])) {
			err = errno;	/* kept (what is left) for a retry */
			if (err == EBADF)
				break;	/* not a kshm descriptor */
			i++;
			continue;
		}
		maps[i] = maps[--nmaps];
	}
	pthread_mutex_unlock(&maps_lock);
	if (err) {
		errno = err;
		return -1;
	}
	known_clear(fd);
	return close(fd);
}
