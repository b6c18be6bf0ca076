// SPDX-License-Identifier: GPL-2.0
/*
 * kshm/sync - process-shared synchronization in kshm objects (issue 12):
 * every scenario of tests/lib/kt_sync.h (mutex + condvar ping-pong across
 * fork and between two exec'd programs that open the object by name,
 * robust mutex with a SIGKILLed holder, semaphore handoff, FUTEX_WAIT
 * timing out, FUTEX_WAKE across processes, rwlock, barrier), in the last
 * page of objects of 1 and of 32 pages (the default max_pages).
 */
#include "lib/kt.h"
#include "lib/kt_kshm.h"
#include "lib/kt_sync.h"

#include <kipc/kshm.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#define PG 4096

static void run_in(const char *name, size_t pages)
{
	struct kt_region r = { true, name, pages * PG };
	void *p = NULL;
	int fd;

	fd = kshm_open_mode(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		fail_msg("kshm_open %s: %s", name, strerror(errno));
	assert_int_equal(kshm_trunc(fd, pages * PG), pages * PG);
	assert_int_equal(kshm_map(fd, &p, O_RDWR), 0);
	kt_sync_all(&r, p);
	assert_int_equal(kshm_close(fd), 0);
	assert_int_equal(kt_kshm_counter("objects"), 0);
	assert_int_equal(kt_kshm_counter("pages"), 0);
}

static void test_one_page(void **state)
{
	(void)state;
	run_in("sync-1", 1);
}

static void test_32_pages(void **state)
{
	(void)state;
	run_in("/sync 32 pages", 32);
}

static int setup(void **state)
{
	(void)state;
	kt_unload_if_loaded("kshm");
	return kt_load("kshm", NULL);
}

static int teardown(void **state)
{
	(void)state;
	return kt_kshm_unload();
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_page),
		cmocka_unit_test(test_32_pages),
	};
	int peer = kt_sync_peer_main(argc, argv);

	if (peer >= 0)
		return peer;
	return kt_run_group(tests, setup, teardown);
}
