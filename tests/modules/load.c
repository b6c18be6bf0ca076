// SPDX-License-Identifier: GPL-2.0
/*
 * modules/load - every module in the tree loads, shows up in /proc/modules,
 * unloads, and disappears again; twice, to catch state left behind.
 */
#include "lib/kt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <unistd.h>

static void test_all_modules_present(void **state)
{
	const char *const *m;
	char path[256];

	(void)state;
	for (m = kt_modules(); *m; m++) {
		snprintf(path, sizeof(path), KT_MODULE_DIR "/%s.ko", *m);
		if (access(path, R_OK))
			fail_msg("%s: %s", path, strerror(errno));
	}
}

static void test_load_unload_each(void **state)
{
	const char *const *m;
	int round;

	(void)state;
	for (round = 0; round < 2; round++) {
		for (m = kt_modules(); *m; m++) {
			kt_unload_if_loaded(*m);
			assert_int_equal(kt_load(*m, NULL), 0);
			assert_true(kt_loaded(*m));
			assert_int_equal(kt_load(*m, NULL), -EEXIST);
			assert_int_equal(kt_unload(*m), 0);
			assert_false(kt_loaded(*m));
		}
	}
}

static void test_load_all_together(void **state)
{
	const char *const *m;

	(void)state;
	for (m = kt_modules(); *m; m++)
		assert_int_equal(kt_load(*m, NULL), 0);
	for (m = kt_modules(); *m; m++)
		assert_true(kt_loaded(*m));
	for (m = kt_modules(); *m; m++)
		assert_int_equal(kt_unload(*m), 0);
	for (m = kt_modules(); *m; m++)
		assert_false(kt_loaded(*m));
}

static void test_unload_missing(void **state)
{
	(void)state;
	assert_int_equal(kt_unload("kipc_no_such_module"), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_modules_present),
		cmocka_unit_test(test_load_unload_each),
		cmocka_unit_test(test_load_all_together),
		cmocka_unit_test(test_unload_missing),
	};

	return kt_run_group(tests, NULL, NULL);
}
