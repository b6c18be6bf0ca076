// SPDX-License-Identifier: GPL-2.0
/*
 * kshm/params - bad module parameters of kshm.ko (issue 7): zero, too
 * large, out-of-range, negative, malformed, empty and missing values of
 * max_objects, max_pages and max_per_process, alone and next to good ones.
 * Each must fail the load with the right errno and exactly one clear
 * kernel-log line naming kshm, and leave nothing behind: no module, no
 * /dev/kshm, /proc/kshm, /sys/class/misc/kshm or /sys/module/kshm, no
 * vmalloc or slab growth.  The boundary values (1 and 65536) load.
 */
#include "lib/kt.h"
#include "lib/kt_kshm.h"
#include "lib/kt_params.h"
#include "lib/kt_sys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MOD "kshm"

static bool exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

static void assert_nothing_left(void)
{
	assert_false(kt_loaded(MOD));
	assert_false(exists("/dev/kshm"));
	assert_false(exists("/proc/kshm"));
	assert_false(exists("/sys/class/misc/kshm"));
	assert_false(exists("/sys/module/kshm"));
}

#define LIMITS(o, p, g) \
	"bad limits: max_objects=" #o " max_per_process=" #p " max_pages=" \
	#g " (1..65536)"

static const struct kt_bad_param bad[] = {
	{ "max_objects=0", LIMITS(0, 16, 32), 0 },
	{ "max_per_process=0", LIMITS(64, 0, 32), 0 },
	{ "max_pages=0", LIMITS(64, 16, 0), 0 },
	{ "max_pages=65537", LIMITS(64, 16, 65537), 0 },
	{ "max_pages=4294967295", LIMITS(64, 16, 4294967295), 0 },
	{ "max_objects=0 max_pages=0", LIMITS(0, 16, 0), 0 },
	{ "max_pages=4 max_per_process=0", LIMITS(64, 0, 4), 0 },
	{ "max_pages=4294967296",
	  "`4294967296' invalid for parameter `max_pages'", -ERANGE },
	{ "max_objects=99999999999",
	  "`99999999999' invalid for parameter `max_objects'", -ERANGE },
	{ "max_objects=-1", "`-1' invalid for parameter `max_objects'", 0 },
	{ "max_objects=abc", "`abc' invalid for parameter `max_objects'", 0 },
	{ "max_pages=32k", "`32k' invalid for parameter `max_pages'", 0 },
	{ "max_pages=1,2", "`1,2' invalid for parameter `max_pages'", 0 },
	{ "max_pages=", "`' invalid for parameter `max_pages'", 0 },
	{ "max_per_process", "`' invalid for parameter `max_per_process'", 0 },
	{ "max_per_process=0x", "`0x' invalid for parameter `max_per_process'",
	  0 },
};

static void test_bad_values(void **state)
{
	(void)state;
	kt_expect_all_refused(MOD, bad, sizeof(bad) / sizeof(bad[0]), 3,
			      assert_nothing_left);
}

static void test_bounds(void **state)
{
	(void)state;
	assert_int_equal(kt_load(MOD, "max_objects=1 max_per_process=1"
				 " max_pages=65536"), 0);
	assert_int_equal(kt_kshm_counter("max_objects"), 1);
	assert_int_equal(kt_kshm_counter("max_pages"), 65536);
	assert_int_equal(kt_kshm_unload(), 0);
	assert_nothing_left();
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_bounds),
	};

	return kt_run_group(tests, kt_unload_all, kt_unload_all);
}
