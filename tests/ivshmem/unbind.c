// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem/unbind - removing a device must not depend on what its users
 * did or do (issue 26, items 5 and 6):
 *
 * - the first opener's device node lives on a tmpfs that is unmounted
 *   before the unbind (a container's /dev): the unmount finds no busy
 *   inode ("VFS: Busy inodes after unmount") and the unbind touches no
 *   freed superblock (the debug kernel's KASAN would report it);
 * - a write() whose source, or a read() whose destination, is a
 *   userfaultfd range whose fault nobody resolves: the unbind completes
 *   while the copy is stuck, and the copy then fails with ENODEV or EFAULT.
 *
 * Needs the devices tests/run-suite attaches, and userfaultfd (Debian's
 * kernels and, through vm/debug.config, the debug and data-race kernels
 * have it).
 */
#include "ivshmem/ivs.h"

#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#define TMPFS "/tmp/kipc-ivs-tmpfs"

/* /dev/ivshmemN's device number from sysfs. */
static dev_t devnum(const char *dev)
{
	char v[32];
	unsigned int maj, min;

	read_attr(dev, "dev", v, sizeof(v));
	assert_int_equal(sscanf(v, "%u:%u", &maj, &min), 2);
	return makedev(maj, min);
}

static void test_tmpfs_node_then_unbind(void **state)
{
	char node[64];
	unsigned char *m;
	int fd, mark;

	(void)state;
	NEED(plain);
	mark = kt_kmsg_mark();
	mkdir(TMPFS, 0700);
	assert_int_equal(mount("tmpfs", TMPFS, "tmpfs", 0, "size=64k"), 0);
	snprintf(node, sizeof(node), TMPFS "/ivshmem");
	assert_int_equal(mknod(node, S_IFCHR | 0600, devnum(plain)), 0);
	/* the first open of this device since it was bound */
	fd = xopen(node, O_RDWR);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(m != MAP_FAILED);
	m[100] = 42;
	munmap(m, 4096);
	close(fd);
	assert_int_equal(umount(TMPFS), 0);
	rmdir(TMPFS);
	/* the usual node still works and sees the byte */
	fd = xopen(plain, O_RDWR);
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(m != MAP_FAILED);
	assert_int_equal(m[100], 42);
	/* unbind with the mapping alive, then close everything */
	assert_int_equal(sysfs_write(DRV "/unbind", plain_pci), 0);
	munmap(m, 4096);
	close(fd);
	assert_int_equal(sysfs_write(DRV "/bind", plain_pci), 0);
	usleep(100000);
	assert_int_equal(find_devices(), 0);
	assert_false(kt_kmsg_find(mark, "Busy inodes"));
}

/* ---- a copy stuck on a userfaultfd fault ---- */

struct stuck {
	int fd;			/* the device */
	char *buf;		/* the userfaultfd range */
	bool write;
	ssize_t ret;
	int err;
};

static void *copier(void *arg)
{
	struct stuck *s = arg;

	s->ret = s->write ? pwrite(s->fd, s->buf, 4096, 0) :
			    pread(s->fd, s->buf, 4096, 0);
	s->err = errno;
	return NULL;
}

static void unbind_child(void *arg)
{
	_exit(sysfs_write(DRV "/unbind", arg) ? 1 : 0);
}

/* Wait up to MS for PID; its status, or -1 if it is still running. */
static int reap_within(pid_t pid, int ms)
{
	int st;

	for (; ms > 0; ms -= 20) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return st;
		usleep(20000);
	}
	return -1;
}

static void stuck_copy(bool write)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { 0 };
	struct uffdio_zeropage zero = { 0 };
	struct uffd_msg msg;
	struct stuck s = { .write = write };
	struct pollfd p;
	pthread_t t;
	pid_t pid;
	int uffd, st;

	NEED(bell);
	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		fail_msg("userfaultfd: %s (CONFIG_USERFAULTFD)", strerror(errno));
	assert_int_equal(ioctl(uffd, UFFDIO_API, &api), 0);
	s.buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(s.buf != MAP_FAILED);
	reg.range.start = (unsigned long)s.buf;
	reg.range.len = 4096;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	assert_int_equal(ioctl(uffd, UFFDIO_REGISTER, &reg), 0);
	s.fd = xopen(bell, O_RDWR);
	assert_int_equal(pthread_create(&t, NULL, copier, &s), 0);
	/* the copy is stuck once its fault reaches us */
	p = (struct pollfd){ uffd, POLLIN, 0 };
	assert_int_equal(poll(&p, 1, 10000), 1);
	assert_int_equal(read(uffd, &msg, sizeof(msg)), sizeof(msg));
	assert_int_equal(msg.event, UFFD_EVENT_PAGEFAULT);
	usleep(200000);

	pid = fork();
	if (!pid)
		unbind_child(bell_pci);
	st = reap_within(pid, 10000);
	/* resolve the fault either way, so that nothing stays stuck */
	zero.range = reg.range;
	ioctl(uffd, UFFDIO_ZEROPAGE, &zero);
	pthread_join(t, NULL);
	if (st < 0) {
		st = reap_within(pid, 30000);
		fail_msg("unbind waited for the stuck %s (status %d after the fault was resolved)",
			 write ? "write" : "read", st);
	}
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(s.ret, -1);
	if (s.err != ENODEV && s.err != EFAULT)
		fail_msg("stuck %s: %s, not ENODEV or EFAULT",
			 write ? "write" : "read", strerror(s.err));
	close(s.fd);
	close(uffd);
	munmap(s.buf, 4096);
	assert_int_equal(sysfs_write(DRV "/bind", bell_pci), 0);
	usleep(100000);
	assert_int_equal(find_devices(), 0);
}

static void test_unbind_stuck_write(void **state)
{
	(void)state;
	stuck_copy(true);
}

static void test_unbind_stuck_read(void **state)
{
	(void)state;
	stuck_copy(false);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, load, unload)
	const struct CMUnitTest tests[] = {
		T(test_tmpfs_node_then_unbind),
		T(test_unbind_stuck_write),
		T(test_unbind_stuck_read),
	};

	return kt_run_group(tests, NULL, NULL);
}
