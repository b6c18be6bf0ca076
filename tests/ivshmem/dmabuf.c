// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem/dmabuf - KIPC_IVSHMEM_DMABUF (issue 24, item 2): every errno
 * (and nothing created on error), mmap of the dma-buf showing the
 * device's bytes both ways, DMA_BUF_IOCTL_SYNC, read-only export, the
 * dma-buf outliving the device's file (module unload refused until it
 * closes), import by another driver (vgem: PRIME fd-to-handle attaches
 * and maps it; vgem's re-export maps the same bytes), and unbind with a
 * live, mapped dma-buf (SIGBUS, later imports fail) and with a vgem
 * import that lets go while the unbind waits.
 *
 * vgem comes from /kipc/intree (Debian's kernels) or is built in (the
 * debug and data-race kernels, vm/debug.config); without it the import
 * cases fail.
 */
#include "ivshmem/ivs.h"
#include "lib/kt_dmabuf.h"

#include <linux/dma-buf.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <kipc/myshm.h>

#define PAGE 4096
#define OFF (2 * PAGE)
#define LEN (4 * PAGE)

static int export(int fd, __u64 off, __u64 size, __u32 flags)
{
	struct kipc_ivshmem_dmabuf a = {
		.offset = off, .size = size, .flags = flags, .fd = -1,
	};

	if (ioctl(fd, KIPC_IVSHMEM_DMABUF, &a))
		return -1;
	return a.fd;
}

static void test_errnos(void **state)
{
	struct kipc_ivshmem_dmabuf a = { .offset = 0, .size = PAGE,
					 .reserved = 1 };
	__u64 sz;
	int fd, n;

	(void)state;
	NEED(bell);
	need_pages(bell);
	fd = xopen(bell, O_RDWR);
	assert_int_equal(ioctl(fd, MYSHM_GET_SIZE, &sz), 0);
	n = kt_dmabuf_count();
	struct { __u64 off, size; __u32 flags; } bad[] = {
		{ 1, PAGE, 0 },			/* offset not aligned */
		{ 0, 0, 0 },			/* empty */
		{ 0, PAGE + 1, 0 },		/* size not aligned */
		{ 0, sz + PAGE, 0 },		/* past the end */
		{ sz, PAGE, 0 },		/* starts at the end */
		{ sz - PAGE, 2 * PAGE, 0 },	/* ends past the end */
		{ -(__u64)PAGE, 2 * PAGE, 0 },	/* wraps around */
		{ 0, PAGE, 2 },			/* unknown flag */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		assert_int_equal(export(fd, bad[i].off, bad[i].size,
					bad[i].flags), -1);
		if (errno != EINVAL)
			fail_msg("case %zu: %s, want EINVAL", i,
				 strerror(errno));
	}
	assert_int_equal(ioctl(fd, KIPC_IVSHMEM_DMABUF, &a), -1);
	assert_int_equal(errno, EINVAL);	/* reserved not 0 */
	assert_int_equal(ioctl(fd, KIPC_IVSHMEM_DMABUF, NULL), -1);
	assert_int_equal(errno, EFAULT);
	assert_int_equal(kt_dmabuf_count(), n);	/* nothing created */
	/* the whole region is fine */
	n = export(fd, 0, sz, KIPC_IVSHMEM_DMABUF_CLOEXEC);
	assert_true(n >= 0);
	assert_true(fcntl(n, F_GETFD) & FD_CLOEXEC);
	close(n);
	n = export(fd, 0, PAGE, 0);
	assert_true(n >= 0);
	assert_false(fcntl(n, F_GETFD) & FD_CLOEXEC);
	close(n);
	close(fd);
}

static void test_mmap_sync(void **state)
{
	unsigned char *dev, *b;
	char buf[32];
	int fd, buf_fd, ro;

	(void)state;
	NEED(plain);
	need_pages(plain);
	fd = xopen(plain, O_RDWR);
	dev = mmap(NULL, OFF + LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(dev != MAP_FAILED);
	buf_fd = export(fd, OFF, LEN, 0);
	assert_true(buf_fd >= 0);
	assert_int_equal(lseek(buf_fd, 0, SEEK_END), LEN);
	b = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, buf_fd, 0);
	assert_true(b != MAP_FAILED);
	memcpy(dev + OFF + 100, "device to dma-buf", 18);
	assert_int_equal(kt_dmabuf_sync(buf_fd, DMA_BUF_SYNC_READ), 0);
	assert_memory_equal(b + 100, "device to dma-buf", 18);
	assert_int_equal(kt_dmabuf_sync(buf_fd, DMA_BUF_SYNC_WRITE), 0);
	memcpy(b + LEN - 32, "dma-buf to device", 18);
	assert_int_equal(pread(fd, buf, 18, OFF + LEN - 32), 18);
	assert_memory_equal(buf, "dma-buf to device", 18);
	/* only the range, only shared */
	assert_true(mmap(NULL, LEN + PAGE, PROT_READ, MAP_SHARED, buf_fd, 0) ==
		    MAP_FAILED);
	assert_int_equal(errno, EINVAL);
	assert_true(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, buf_fd, 0) ==
		    MAP_FAILED);
	assert_int_equal(errno, EINVAL);
	munmap(b, LEN);
	close(buf_fd);
	/* read-only device file: read-only dma-buf */
	ro = xopen(plain, O_RDONLY);
	kt_dmabuf_check_readonly(export(ro, OFF, LEN, 0), LEN, 100,
				 "device to dma-buf", 18);
	close(ro);
	munmap(dev, OFF + LEN);
	close(fd);
}

/* The dma-buf outlives the device's file; it holds the module. */
static void test_lifetime(void **state)
{
	unsigned char *b;
	int fd, buf_fd, r;

	(void)state;
	NEED(plain);
	need_pages(plain);
	fd = xopen(plain, O_RDWR);
	assert_int_equal(pwrite(fd, "still here", 11, OFF), 11);
	buf_fd = export(fd, OFF, LEN, 0);
	assert_true(buf_fd >= 0);
	close(fd);
	r = kt_unload(MOD);
	assert_true(r == -EBUSY || r == -EAGAIN);
	b = mmap(NULL, LEN, PROT_READ, MAP_SHARED, buf_fd, 0);
	assert_true(b != MAP_FAILED);
	assert_memory_equal(b, "still here", 11);
	munmap(b, LEN);
	close(buf_fd);
	/* unload() of the teardown now succeeds */
}

/* ---- vgem ---- */

static void test_vgem_import(void **state)
{
	int fd, buf_fd, card;

	(void)state;
	NEED(plain);
	need_pages(plain);
	card = kt_vgem_open_or_skip();
	fd = xopen(plain, O_RDWR);
	buf_fd = export(fd, OFF, LEN, 0);
	assert_true(buf_fd >= 0);
	kt_vgem_round_trip(card, fd, buf_fd, OFF, LEN, "kipc_ivshmem");
	close(card);
	close(fd);
}

static void touch_child(void *arg)
{
	volatile unsigned char *m = arg;

	signal(SIGBUS, SIG_DFL);
	(void)m[0];
	_exit(0);
}

static void unbind_child(void *arg)
{
	_exit(sysfs_write(DRV "/unbind", arg) ? 1 : 0);
}

/*
 * Unbind with a live, mapped dma-buf and a vgem import of another one: the
 * unbind waits for the import (its pages are referenced) and completes
 * once vgem lets go; the dma-buf's mapping raises SIGBUS, a new import
 * fails, and the device binds again with its struct pages.
 */
static void test_unbind_live(void **state)
{
	unsigned char *b;
	int fd, buf_fd, buf2, card, st;
	__u32 handle;
	pid_t pid;

	(void)state;
	NEED(plain);
	need_pages(plain);
	card = kt_vgem_open_or_skip();
	fd = xopen(plain, O_RDWR);
	buf_fd = export(fd, OFF, LEN, 0);
	buf2 = export(fd, 0, LEN, 0);
	assert_true(buf_fd >= 0 && buf2 >= 0);
	b = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, buf_fd, 0);
	assert_true(b != MAP_FAILED);
	b[0] = 1;
	handle = kt_vgem_import(card, buf2);
	assert_true(handle != 0);
	close(fd);
	pid = fork();
	if (!pid)
		unbind_child(plain_pci);
	sleep(1);
	/* still waiting for vgem's pages */
	assert_int_equal(waitpid(pid, &st, WNOHANG), 0);
	assert_int_equal(kt_vgem_close(card, handle), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(kt_in_child(touch_child, b), KT_SIGNALED(SIGBUS));
	assert_int_equal(kt_vgem_import(card, buf_fd), 0);
	assert_int_equal(errno, ENODEV);
	munmap(b, LEN);
	close(buf_fd);
	close(buf2);
	close(card);
	assert_int_equal(sysfs_write(DRV "/bind", plain_pci), 0);
	usleep(100000);
	assert_int_equal(find_devices(), 0);
	need_pages(plain);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, load, unload)
	const struct CMUnitTest tests[] = {
		T(test_errnos),
		T(test_mmap_sync),
		T(test_lifetime),
		T(test_vgem_import),
		T(test_unbind_live),
	};

	return kt_run_group(tests, NULL, NULL);
}
