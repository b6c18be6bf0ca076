// SPDX-License-Identifier: GPL-2.0
/*
 * myshm/sync - process-shared synchronization in /dev/myshm buffers
 * (issue 12): every scenario of tests/lib/kt_sync.h (mutex + condvar
 * ping-pong across fork and between two exec'd programs that open the
 * device by name, robust mutex with a SIGKILLed holder, semaphore
 * handoff, FUTEX_WAIT timing out, FUTEX_WAKE across processes, rwlock,
 * barrier), in the last page of a buffer of every size form: the default
 * (4 MiB, huge pages where the kernel has them), size=, and buffers= with
 * a one-page buffer next to a bigger one.
 */
#include "lib/kt.h"
#include "lib/kt_sync.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <kipc/myshm.h>

#define MOD "myshm"

static void run_in(const char *params, const char *dev, size_t size)
{
	struct kt_region r = { false, dev, size };
	__u64 sz;
	void *p;
	int fd;

	kt_unload_if_loaded(MOD);
	assert_int_equal(kt_load(MOD, params), 0);
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fail_msg("open %s: %s", dev, strerror(errno));
	assert_int_equal(ioctl(fd, MYSHM_GET_SIZE, &sz), 0);
	assert_int_equal(sz, size);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_ptr_not_equal(p, MAP_FAILED);
	kt_sync_all(&r, p);
	assert_int_equal(munmap(p, size), 0);
	assert_int_equal(close(fd), 0);
	assert_int_equal(kt_unload(MOD), 0);
}

static void test_default(void **state)
{
	(void)state;
	run_in(NULL, "/dev/myshm", MYSHM_DEFAULT_SIZE);
}

static void test_size(void **state)
{
	(void)state;
	run_in("size=64K", "/dev/myshm", 64 << 10);
}

static void test_buffers_big(void **state)
{
	(void)state;
	run_in("buffers=ring:8M,one:4K", "/dev/ring", 8 << 20);
}

static void test_buffers_one_page(void **state)
{
	(void)state;
	run_in("buffers=ring:8M,one:4K", "/dev/one", 4096);
}

static void test_buffers_default_size(void **state)
{
	(void)state;
	run_in("size=12K buffers=first:4K,second", "/dev/second", 12 << 10);
}

static int teardown(void **state)
{
	(void)state;
	kt_unload_if_loaded(MOD);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_buffers_big),
		cmocka_unit_test(test_buffers_one_page),
		cmocka_unit_test(test_buffers_default_size),
	};
	int peer = kt_sync_peer_main(argc, argv);

	if (peer >= 0)
		return peer;
	return kt_run_group(tests, NULL, teardown);
}
