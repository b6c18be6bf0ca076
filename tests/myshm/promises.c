// SPDX-License-Identifier: GPL-2.0
/*
 * myshm/promises - a read-only mapping of a myshm buffer stays read-only
 * for FOLL_FORCE writers too: /proc/self/mem (what ptrace(POKEDATA) and
 * debuggers use) cannot write through it, for a mapping of an O_RDONLY
 * file and for a PROT_READ mapping of an O_RDWR file, while it reads
 * through both and writes through a writable mapping.
 */
#include "lib/kt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define DEV "/dev/myshm"
#define PG 4096UL

static int load(void **state)
{
	(void)state;
	kt_unload_if_loaded("myshm");
	return kt_load("myshm", NULL) ? -1 : 0;
}

static int unload(void **state)
{
	(void)state;
	return kt_unload("myshm") ? -1 : 0;
}

static void *map(int fd, int prot)
{
	void *p = mmap(NULL, PG, prot, MAP_SHARED, fd, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

static void test_procmem_readonly(void **state)
{
	int rwfd = open(DEV, O_RDWR | O_CLOEXEC), rofd, mem;
	unsigned char *rw, *p, *q, b;

	(void)state;
	assert_true(rwfd >= 0);
	rofd = open(DEV, O_RDONLY | O_CLOEXEC);
	assert_true(rofd >= 0);
	rw = map(rwfd, PROT_READ | PROT_WRITE);
	p = map(rofd, PROT_READ);
	q = map(rwfd, PROT_READ);
	rw[0] = 1;
	mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	assert_true(mem >= 0);
	b = 0x5a;
	errno = 0;
	assert_int_equal(pwrite(mem, &b, 1, (off_t)(uintptr_t)p), -1);
	assert_int_equal(errno, EIO);
	errno = 0;
	assert_int_equal(pwrite(mem, &b, 1, (off_t)(uintptr_t)q), -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(rw[0], 1);
	b = 0;
	assert_int_equal(pread(mem, &b, 1, (off_t)(uintptr_t)p), 1);
	assert_int_equal(b, 1);
	b = 2;
	assert_int_equal(pwrite(mem, &b, 1, (off_t)(uintptr_t)rw), 1);
	assert_int_equal(p[0], 2);
	rw[0] = 0;
	close(mem);
	munmap(rw, PG);
	munmap(p, PG);
	munmap(q, PG);
	close(rofd);
	close(rwfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_procmem_readonly),
	};

	return kt_run_group(tests, load, unload);
}
