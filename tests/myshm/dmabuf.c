// SPDX-License-Identifier: GPL-2.0
/*
 * myshm/dmabuf - MYSHM_DMABUF (issue 24, item 2): every errno (and nothing
 * created on error), mmap of the dma-buf showing the buffer's bytes both
 * ways, DMA_BUF_IOCTL_SYNC, read-only export, the dma-buf holding the
 * module (unload refused until it closes), and import by vgem (PRIME
 * fd-to-handle attaches and maps it; vgem's re-export maps the same
 * bytes).  Without vgem the import case skips.
 */
#include "lib/kt.h"
#include "lib/kt_debug.h"
#include "lib/kt_dmabuf.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <kipc/myshm.h>

#define MOD "myshm"
#define DEV "/dev/myshm"
#define PAGE 4096
#define OFF (3 * PAGE)
#define LEN (5 * PAGE)

static int load(void **state)
{
	(void)state;
	kt_unload_if_loaded(MOD);
	return kt_load(MOD, "size=64K") ? -1 : 0;
}

static int unload(void **state)
{
	(void)state;
	return kt_unload(MOD) ? -1 : 0;
}

static int export(int fd, __u64 off, __u64 size, __u32 flags)
{
	struct myshm_dmabuf a = { .offset = off, .size = size, .flags = flags,
				  .fd = -1 };

	if (ioctl(fd, MYSHM_DMABUF, &a))
		return -1;
	return a.fd;
}

static int xopen(int flags)
{
	int fd = open(DEV, flags | O_CLOEXEC);

	if (fd < 0)
		fail_msg("open %s: %s", DEV, strerror(errno));
	return fd;
}

/*
 * The debug and data-race kernels (tinyconfig-based) have no dma-buf
 * core, and myshm answers ENOTTY there: skip on them, fail elsewhere.
 * FD is closed before skipping: skip() leaves the test at once, and an
 * open device file would make the teardown's unload fail (cmocka then
 * reports the skip as an error and the next setup finds myshm busy).
 */
static void need_dmabuf(int fd)
{
	int b = export(fd, 0, PAGE, 0);

	if (b >= 0) {
		close(b);
		return;
	}
	if (errno == ENOTTY && (kt_debug_kernel() || kt_kcsan_kernel())) {
		printf("# no dma-buf on this kernel (CONFIG_DMA_SHARED_BUFFER)\n");
		close(fd);
		skip();
	}
	fail_msg("MYSHM_DMABUF of one page: %s", strerror(errno));
}

static void test_errnos(void **state)
{
	struct myshm_dmabuf a = { .size = PAGE, .reserved = 1 };
	const __u64 sz = 64 << 10;
	const struct { __u64 off, size; __u32 flags; } bad[] = {
		{ 1, PAGE, 0 }, { 0, 0, 0 }, { 0, PAGE - 1, 0 },
		{ 0, sz + PAGE, 0 }, { sz, PAGE, 0 }, { sz - PAGE, 2 * PAGE, 0 },
		{ -(__u64)PAGE, 2 * PAGE, 0 }, { 0, PAGE, 4 },
	};
	int fd, n, b;

	(void)state;
	fd = xopen(O_RDWR);
	need_dmabuf(fd);
	n = kt_dmabuf_count();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		assert_int_equal(export(fd, bad[i].off, bad[i].size,
					bad[i].flags), -1);
		if (errno != EINVAL)
			fail_msg("case %zu: %s, want EINVAL", i,
				 strerror(errno));
	}
	assert_int_equal(ioctl(fd, MYSHM_DMABUF, &a), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ioctl(fd, MYSHM_DMABUF, NULL), -1);
	assert_int_equal(errno, EFAULT);
	assert_int_equal(kt_dmabuf_count(), n);	/* nothing created */
	b = export(fd, 0, sz, MYSHM_DMABUF_CLOEXEC);
	assert_true(b >= 0);
	assert_true(fcntl(b, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(kt_dmabuf_count(), n + 1);
	close(b);
	close(fd);
}

static void test_mmap_sync_lifetime(void **state)
{
	unsigned char *b;
	char buf[32];
	int fd, bfd, ro, r;

	(void)state;
	fd = xopen(O_RDWR);
	need_dmabuf(fd);
	assert_int_equal(pwrite(fd, "buffer to dma-buf", 18, OFF + 100), 18);
	bfd = export(fd, OFF, LEN, 0);
	assert_true(bfd >= 0);
	b = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, bfd, 0);
	assert_true(b != MAP_FAILED);
	assert_int_equal(kt_dmabuf_sync(bfd, DMA_BUF_SYNC_READ), 0);
	assert_memory_equal(b + 100, "buffer to dma-buf", 18);
	assert_int_equal(kt_dmabuf_sync(bfd, DMA_BUF_SYNC_RW), 0);
	memcpy(b + LEN - 32, "dma-buf to buffer", 18);
	assert_int_equal(pread(fd, buf, 18, OFF + LEN - 32), 18);
	assert_memory_equal(buf, "dma-buf to buffer", 18);
	/* an offset inside the dma-buf maps the right page */
	munmap(b, LEN);
	b = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, bfd, 4 * PAGE);
	assert_true(b != MAP_FAILED);
	assert_memory_equal(b + PAGE - 32, "dma-buf to buffer", 18);
	munmap(b, PAGE);
	assert_true(mmap(NULL, LEN + PAGE, PROT_READ, MAP_SHARED, bfd, 0) ==
		    MAP_FAILED);
	assert_int_equal(errno, EINVAL);
	assert_true(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, bfd, 0) ==
		    MAP_FAILED);
	assert_int_equal(errno, EINVAL);
	/* it outlives the device file and holds the module */
	close(fd);
	r = kt_unload(MOD);
	assert_true(r == -EBUSY || r == -EAGAIN);
	b = mmap(NULL, LEN, PROT_READ, MAP_SHARED, bfd, 0);
	assert_true(b != MAP_FAILED);
	assert_memory_equal(b + 100, "buffer to dma-buf", 18);
	munmap(b, LEN);
	close(bfd);
	/* read-only device file: read-only dma-buf */
	ro = xopen(O_RDONLY);
	kt_dmabuf_check_readonly(export(ro, OFF, LEN, 0), LEN, 100,
				 "buffer to dma-buf", 18);
	close(ro);
}

static void test_vgem_import(void **state)
{
	int fd, bfd, card;

	(void)state;
	card = kt_vgem_open_or_skip();
	fd = xopen(O_RDWR);
	bfd = export(fd, OFF, LEN, 0);
	assert_true(bfd >= 0);
	kt_vgem_round_trip(card, fd, bfd, OFF, LEN, "myshm");
	close(card);
	close(fd);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, load, unload)
	const struct CMUnitTest tests[] = {
		T(test_errnos),
		T(test_mmap_sync_lifetime),
		T(test_vgem_import),
	};

	return kt_run_group(tests, NULL, NULL);
}
