// SPDX-License-Identifier: GPL-2.0
/*
 * message_slot/params - bad module parameters of message_slot.ko (issue 7):
 * out-of-range, malformed, missing and zero values of every parameter, and
 * every character major already registered in the guest (/proc/devices).
 * Each must fail the load with the right errno and exactly one clear
 * kernel-log line, and leave nothing behind: no module, no /proc/devices
 * entry, no /dev nodes, no /sys/class or debugfs directory, no vmalloc or
 * slab growth.  Also the caps refuse 0 through sysfs, and the boundary
 * values (nodes=256, caps of 1) work.
 */
#include "lib/kt.h"
#include "lib/kt_params.h"
#include "lib/kt_sys.h"
#include "lib/kt_slot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define MOD "message_slot"

static bool exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

/* Nothing of the module is left anywhere. */
static void assert_nothing_left(void)
{
	assert_false(kt_loaded(MOD));
	assert_true(kt_chrdev_major(MOD, 0) < 0);
	assert_false(exists("/sys/module/" MOD));
	assert_false(exists("/sys/class/" MOD));
	assert_false(exists("/dev/" MOD "0"));
	assert_false(exists("/sys/kernel/debug/" MOD));
}

static const struct kt_bad_param bad[] = {
	{ "major=512", "major=512: must be below 512", 0 },
	{ "major=4095", "major=4095: must be below 512", 0 },
	{ "major=4294967295", "major=4294967295: must be below 512", 0 },
	{ "major=4294967296", "`4294967296' invalid for parameter `major'",
	  -ERANGE },
	{ "major=-1", "`-1' invalid for parameter `major'", 0 },
	{ "major=abc", "`abc' invalid for parameter `major'", 0 },
	{ "major=", "`' invalid for parameter `major'", 0 },
	{ "major", "`' invalid for parameter `major'", 0 },
	{ "major=235,236", "`235,236' invalid for parameter `major'", 0 },
	{ "nodes=257", "nodes=257: at most 256", 0 },
	{ "nodes=4294967295", "nodes=4294967295: at most 256", 0 },
	{ "nodes=99999999999", "`99999999999' invalid for parameter `nodes'",
	  -ERANGE },
	{ "nodes=1,2", "`1,2' invalid for parameter `nodes'", 0 },
	{ "nodes=-0x1", "`-0x1' invalid for parameter `nodes'", 0 },
	{ "max_channels=0", "`0' invalid for parameter `max_channels'", 0 },
	{ "max_channels=0x0",
	  "`0x0' invalid for parameter `max_channels'", 0 },
	{ "max_channels=4294967296",
	  "`4294967296' invalid for parameter `max_channels'", -ERANGE },
	{ "max_channels=-5", "`-5' invalid for parameter `max_channels'", 0 },
	{ "max_channels=1k", "`1k' invalid for parameter `max_channels'", 0 },
	{ "max_channels", "`' invalid for parameter `max_channels'", 0 },
	{ "max_bytes=0", "`0' invalid for parameter `max_bytes'", 0 },
	{ "max_bytes=18446744073709551616",
	  "`18446744073709551616' invalid for parameter `max_bytes'",
	  -ERANGE },
	{ "max_bytes=12M", "`12M' invalid for parameter `max_bytes'", 0 },
	{ "max_bytes=", "`' invalid for parameter `max_bytes'", 0 },
	{ "max_views=0", "`0' invalid for parameter `max_views'", 0 },
	{ "max_views=4294967296",
	  "`4294967296' invalid for parameter `max_views'", -ERANGE },
	{ "max_views=1k", "`1k' invalid for parameter `max_views'", 0 },
	/* a good value does not save a bad one */
	{ "nodes=4 max_channels=0",
	  "`0' invalid for parameter `max_channels'", 0 },
	{ "major=0 nodes=300", "nodes=300: at most 256", 0 },
};

static void test_bad_values(void **state)
{
	(void)state;
	kt_expect_all_refused(MOD, bad, sizeof(bad) / sizeof(bad[0]), 3,
			      assert_nothing_left);
}

/* Every character major in use in the guest is refused: EBUSY. */
static void test_taken_majors(void **state)
{
	char line[256], name[128], params[32], log[128];
	struct kt_bad_param b = { params, log, -EBUSY };
	int majors[512], owners = 0, i, m;
	bool chr = false;
	FILE *f = fopen("/proc/devices", "r");

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) && owners < 512) {
		if (!strncmp(line, "Character", 9))
			chr = true;
		else if (!strncmp(line, "Block", 5))
			chr = false;
		else if (chr && sscanf(line, "%d %127s", &m, name) == 2 &&
			 m > 0 && m < 512 &&
			 (!owners || majors[owners - 1] != m))
			majors[owners++] = m;
	}
	fclose(f);
	assert_true(owners >= 3);	/* mem, tty, misc at least */
	for (i = 0; i < owners; i++) {
		snprintf(params, sizeof(params), "major=%d", majors[i]);
		snprintf(log, sizeof(log), "cannot register major %d minors"
			 " 0-255 (error -16): in use; load with major=N",
			 majors[i]);
		kt_expect_refused(MOD, &b, assert_nothing_left);
		/* the owner keeps its major */
		assert_true(kt_chrdev_major(NULL, majors[i]) >= 0);
		/* and nodes= does not change that */
		snprintf(params, sizeof(params), "major=%d nodes=8", majors[i]);
		kt_expect_refused(MOD, &b, assert_nothing_left);
	}
	printf("# %d taken majors refused\n", owners);
}

static void sysfs_write(const char *param, const char *val, int want_err)
{
	char path[128];
	int fd, rc;

	snprintf(path, sizeof(path), "/sys/module/" MOD "/parameters/%s",
		 param);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	rc = write(fd, val, strlen(val)) < 0 ? -errno : 0;
	close(fd);
	assert_int_equal(rc, want_err);
}

/* The caps refuse 0 at run time too; boundary values work. */
static void test_runtime_and_bounds(void **state)
{
	int fd;

	(void)state;
	assert_int_equal(kt_load(MOD, "major=0 nodes=256 max_channels=1"
				 " max_bytes=1"), 0);
	assert_true(exists("/dev/" MOD "0"));
	assert_true(exists("/dev/" MOD "255"));
	assert_false(exists("/dev/" MOD "256"));
	fd = open("/dev/" MOD "255", O_RDWR);
	assert_true(fd >= 0);
	kt_slot_chan(fd, 9);
	kt_slot_put(fd, "x", 1);
	assert_int_equal(kt_err(write(fd, "xy", 2)), -ENOSPC);
	kt_slot_chan(fd, 10);
	assert_int_equal(kt_err(write(fd, "y", 1)), -ENOSPC);

	sysfs_write("max_channels", "0", -EINVAL);
	sysfs_write("max_channels", "-1", -EINVAL);
	sysfs_write("max_bytes", "0", -EINVAL);
	sysfs_write("max_bytes", "abc", -EINVAL);
	sysfs_write("max_views", "0", -EINVAL);
	sysfs_write("max_views", "x", -EINVAL);
	assert_int_equal(kt_read_ll("/sys/module/" MOD "/parameters/max_views"),
			 1024);
	assert_int_equal(kt_read_ll("/sys/module/" MOD
				    "/parameters/max_channels"), 1);
	assert_int_equal(kt_read_ll("/sys/module/" MOD "/parameters/max_bytes"),
			 1);
	sysfs_write("max_channels", "2", 0);
	sysfs_write("max_bytes", "2", 0);
	kt_slot_put(fd, "y", 1);
	close(fd);
	assert_int_equal(kt_unload(MOD), 0);
	assert_nothing_left();
	assert_false(exists("/dev/" MOD "255"));
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_taken_majors),
		cmocka_unit_test(test_runtime_and_bounds),
	};

	return kt_run_group(tests, kt_unload_all, kt_unload_all);
}
