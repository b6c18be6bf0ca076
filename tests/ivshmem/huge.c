// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem/huge - 2 MiB (PMD) mappings of /dev/ivshmemN memory with struct
 * pages (issue 24's memcpy benchmark): a mapping of 2 MiB or more is placed
 * 2 MiB-aligned and each whole aligned 2 MiB of BAR2 in it takes one page
 * fault (one PMD), as device-dax's do; a range that holds no whole aligned
 * 2 MiB falls back to a fault per 4 KiB page.  The bytes are the device's
 * (read/write see them), a shared futex keys on a PMD-mapped page, an
 * munmap of one page inside a PMD leaves its neighbours mapped with their
 * bytes and the page unmapped, and unbind makes the PMD mapping SIGBUS.
 *
 * Needs a kernel with transparent huge pages and DAX (Debian's 6.1 and
 * 6.12); the debug and KCSAN kernels (vm/debug.config has neither) skip.
 * Needs the plain device tests/run-suite attaches (4 MiB, struct pages).
 */
#include "ivshmem/ivs.h"

#include <linux/futex.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#define PAGE 4096ul
#define HUGE (2ul << 20)

static long minflt(void)
{
	struct rusage ru;

	assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_minflt;
}

/* Skip without THP (the debug kernels); the plain device with pages. */
static size_t need_huge(void)
{
	char v[32];

	NEED(plain);
	if (access("/sys/kernel/mm/transparent_hugepage", F_OK)) {
		printf("# no transparent huge pages in this kernel (vm/debug.config)\n");
		skip();
	}
	need_pages(plain);
	read_attr(plain, "size", v, sizeof(v));
	if (strtoul(v, NULL, 0) < 2 * HUGE)
		fail_msg("%s: %s bytes, the test wants 4 MiB", plain, v);
	return 2 * HUGE;
}

/* Write one byte per page of [M, M + LEN): minor faults taken. */
static long touch(unsigned char *m, size_t len, unsigned char seed)
{
	long before = minflt();
	size_t off;

	for (off = 0; off < len; off += PAGE)
		m[off] = (unsigned char)(seed + off / PAGE);
	return minflt() - before;
}

/* The device's bytes (pread) match what touch() wrote at [OFF, OFF+LEN). */
static void check_bytes(int fd, off_t off, size_t len, unsigned char seed)
{
	unsigned char b;
	size_t o;

	for (o = 0; o < len; o += PAGE) {
		assert_int_equal(pread(fd, &b, 1, off + (off_t)o), 1);
		assert_int_equal(b, (unsigned char)(seed + o / PAGE));
	}
}

/* Map LEN bytes of FD from offset 0 and touch them: PMDs, a few faults. */
static unsigned char *map_pmds(int fd, size_t len, unsigned char seed)
{
	unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
				fd, 0);

	assert_true(m != MAP_FAILED);
	assert_true(touch(m, len, seed) <= 4);
	return m;
}

/* 4 MiB: 2 MiB-aligned, two faults for 1024 pages, the device's bytes. */
static void test_pmd_faults(void **state)
{
	size_t len = need_huge();
	unsigned char *m;
	long faults;
	int fd;

	(void)state;
	fd = xopen(plain, O_RDWR);
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(m != MAP_FAILED);
	assert_int_equal((uintptr_t)m & (HUGE - 1), 0);
	faults = touch(m, len, 7);
	printf("# %zu KiB touched page by page: %ld faults\n", len >> 10,
	       faults);
	/* one per 2 MiB (a stray one on the stack or in libc at most) */
	assert_true(faults >= 1 && faults <= 4);
	check_bytes(fd, 0, len, 7);
	/* and the other way: a write() shows in the PMD mapping */
	assert_int_equal(pwrite(fd, "\xa5", 1, HUGE + 5 * PAGE + 3), 1);
	assert_int_equal(m[HUGE + 5 * PAGE + 3], 0xa5);
	munmap(m, len);
	close(fd);
}

/* No whole aligned 2 MiB in range: a fault per 4 KiB page, same bytes. */
static void test_pte_fallback(void **state)
{
	unsigned char *m;
	long faults;
	int fd;

	(void)state;
	need_huge();
	fd = xopen(plain, O_RDWR);
	/* offsets 4 KiB .. 2 MiB + 4 KiB: no aligned 2 MiB of BAR2 inside */
	m = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PAGE);
	assert_true(m != MAP_FAILED);
	faults = touch(m, HUGE, 3);
	printf("# 2 MiB at offset 4 KiB touched: %ld faults\n", faults);
	assert_true(faults >= (long)(HUGE / PAGE) - 4);
	check_bytes(fd, PAGE, HUGE, 3);
	munmap(m, HUGE);
	/* 1 MiB: smaller than a PMD */
	m = mmap(NULL, HUGE / 2, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(m != MAP_FAILED);
	faults = touch(m, HUGE / 2, 9);
	assert_true(faults >= (long)(HUGE / 2 / PAGE) - 4);
	check_bytes(fd, 0, HUGE / 2, 9);
	munmap(m, HUGE / 2);
	close(fd);
}

static void touch_child(void *arg)
{
	volatile unsigned char *m = arg;

	signal(SIGBUS, SIG_DFL);	/* cmocka catches them otherwise */
	signal(SIGSEGV, SIG_DFL);
	(void)m[0];
	_exit(0);
}

/* munmap of one page inside a PMD: it goes, its neighbours stay. */
static void test_split(void **state)
{
	size_t len = need_huge();
	unsigned char *m, *hole;
	size_t off;
	int fd;

	(void)state;
	fd = xopen(plain, O_RDWR);
	m = map_pmds(fd, len, 11);
	hole = m + HUGE / 2;
	assert_int_equal(munmap(hole, PAGE), 0);
	assert_int_equal(kt_in_child(touch_child, hole), KT_SIGNALED(SIGSEGV));
	for (off = 0; off < len; off += PAGE)
		if (m + off != hole)
			assert_int_equal(m[off],
					 (unsigned char)(11 + off / PAGE));
	/* the pages around the hole are writable and the device's */
	hole[PAGE] = 0x3c;
	check_bytes(fd, 0, HUGE / 2, 11);
	munmap(m, HUGE / 2);
	munmap(hole + PAGE, len - HUGE / 2 - PAGE);
	close(fd);
}

static long futex(uint32_t *uaddr, int op, uint32_t val,
		  const struct timespec *t)
{
	return syscall(SYS_futex, uaddr, op, val, t, NULL, 0);
}

/* A shared futex keys on a PMD-mapped page (get_user_pages finds it). */
static void test_futex(void **state)
{
	size_t len = need_huge();
	struct timespec t = { 0, 20 * 1000 * 1000 };
	uint32_t *w;
	unsigned char *m;
	pid_t child;
	int fd, st;

	(void)state;
	fd = xopen(plain, O_RDWR);
	m = map_pmds(fd, len, 1);
	w = (uint32_t *)(m + HUGE + 77 * PAGE);
	*w = 0;
	assert_int_equal(futex(w, FUTEX_WAIT, 0, &t), -1);
	assert_int_equal(errno, ETIMEDOUT);
	assert_int_equal(futex(w, FUTEX_WAIT, 1, &t), -1);
	assert_int_equal(errno, EAGAIN);
	child = fork();
	if (!child) {
		struct timespec l = { 20, 0 };

		while (__atomic_load_n(w, __ATOMIC_SEQ_CST) == 0)
			if (futex(w, FUTEX_WAIT, 0, &l) && errno != EAGAIN &&
			    errno != EINTR)
				_exit(1);
		_exit(0);
	}
	usleep(200000);
	__atomic_store_n(w, 1, __ATOMIC_SEQ_CST);
	while (futex(w, FUTEX_WAKE, 1, NULL) == 0 &&
	       waitpid(child, &st, WNOHANG) == 0)
		usleep(10000);
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	munmap(m, len);
	close(fd);
}

/* Unbind zaps the PMDs: SIGBUS; after a bind the bytes are still there. */
static void test_unbind(void **state)
{
	size_t len = need_huge();
	unsigned char *m;
	int fd;

	(void)state;
	fd = xopen(plain, O_RDWR);
	m = map_pmds(fd, len, 5);
	assert_int_equal(sysfs_write(DRV "/unbind", plain_pci), 0);
	assert_int_equal(kt_in_child(touch_child, m + HUGE + PAGE),
			 KT_SIGNALED(SIGBUS));
	assert_int_equal(kt_in_child(touch_child, m), KT_SIGNALED(SIGBUS));
	munmap(m, len);
	close(fd);
	assert_int_equal(sysfs_write(DRV "/bind", plain_pci), 0);
	usleep(100000);
	assert_int_equal(find_devices(), 0);
	fd = xopen(plain, O_RDWR);
	check_bytes(fd, 0, len, 5);
	close(fd);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, load, unload)
	const struct CMUnitTest tests[] = {
		T(test_pmd_faults),
		T(test_pte_fallback),
		T(test_split),
		T(test_futex),
		T(test_unbind),
	};

	return kt_run_group(tests, NULL, NULL);
}
