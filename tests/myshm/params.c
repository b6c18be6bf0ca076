// SPDX-License-Identifier: GPL-2.0
/*
 * myshm/params - myshm's module parameters: every bad form fails to load
 * with EINVAL, one clear kernel log line and nothing left behind; sizes
 * are rounded and defaulted as documented; several buffers are independent
 * devices; a 256 MiB buffer works; a buffer that does not fit in memory
 * fails with ENOMEM and leaks nothing; the test_mmap example.
 */
#include "lib/kipc_test.h"
#include "lib/kt_sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kipc/myshm.h>

#define PG 4096UL
#define MiB (1UL << 20)

#define KT_MEMFREE_NOISE_KB (64 * 1024)

static int clean(void **state)
{
	(void)state;
	kt_unload_if_loaded("myshm");
	return 0;
}

/* Number of entries in /dev and /sys/class/misc: nothing may stay behind. */
static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static unsigned long long dev_size(const char *name)
{
	char path[128];
	__u64 sz = 0;
	long long sys;
	int fd;

	snprintf(path, sizeof(path), "/dev/%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		fail_msg("open %s: %s", path, strerror(errno));
	if (ioctl(fd, MYSHM_GET_SIZE, &sz))
		fail_msg("MYSHM_GET_SIZE %s: %s", path, strerror(errno));
	close(fd);
	snprintf(path, sizeof(path), "/sys/class/misc/%s/size", name);
	sys = kt_read_ll(path);
	if (sys != (long long)sz)
		fail_msg("%s: ioctl says %llu, sysfs %lld", name,
			 (unsigned long long)sz, sys);
	return sz;
}

static const struct {
	const char *params;
	const char *log;	/* the one line the kernel log must show */
} bad[] = {
	{ "size=0", "invalid size=\"0\": size 0" },
	{ "size=0K", "size 0" },
	{ "size=", "invalid size=\"\": no size" },
	{ "size=k", "no size" },
	{ "size", "invalid for parameter" },
	{ "size=abc", "not a decimal number" },
	{ "size=4X", "not a decimal number" },
	{ "size=4K4", "not a decimal number" },
	{ "size=-4K", "not a decimal number" },
	{ "size=+4K", "not a decimal number" },
	{ "size=0x1000", "not a decimal number" },
	{ "size=4KB", "not a decimal number" },
	{ "size=1025M", "above the limit of 1G" },
	{ "size=2G", "above the limit of 1G" },
	{ "size=1073741825", "above the limit of 1G" },
	{ "size=1048577K", "above the limit of 1G" },
	{ "size=99999999999999999999999", "above the limit of 1G" },
	{ "size=18446744073709551617", "above the limit of 1G" },
	{ "size=17179869185G", "above the limit of 1G" },
	{ "size=0 buffers=a:4K", "invalid size=\"0\"" },
	{ "buffers=a:0", "invalid buffers entry \"a:0\": size 0" },
	{ "buffers=a:", "invalid buffers entry \"a:\": no size" },
	{ "buffers=a:4K:5", "not a decimal number" },
	{ "buffers=a:2G", "above the limit of 1G" },
	{ "buffers=:4K", "empty name" },
	{ "buffers=a,,b", "empty name" },
	{ "buffers=a,", "empty name" },
	{ "buffers=,a", "empty name" },
	{ "buffers=1abc", "does not start with a letter" },
	{ "buffers=_a", "does not start with a letter" },
	{ "buffers=a/b", "characters other than" },
	{ "buffers=a.b", "characters other than" },
	{ "buffers=../x", "does not start with a letter" },
	{ "buffers=aa\\x", "characters other than" },
	{ "buffers=abcdefghijabcdefghijabcdefghij12",
	  "name longer than 31 characters" },
	{ "buffers=a,a", "duplicate name \"a\"" },
	{ "buffers=a:4K,b:4K,a:8K", "duplicate name \"a\"" },
	{ "buffers=myshm:8K,myshm", "duplicate name \"myshm\"" },
	{ "buffers=big:256M,bad:0", "invalid buffers entry \"bad:0\"" },
	{ "buffers=a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", "more than 16 entries" },
};

static void test_bad_params(void **state)
{
	int ndev = count_dir("/dev"), nmisc = count_dir("/sys/class/misc");
	long long vm0 = kt_meminfo_kb("VmallocUsed");
	long long free0 = kt_meminfo_kb("MemFree");
	size_t i;

	(void)state;
	assert_true(ndev > 0 && nmisc > 0 && vm0 >= 0 && free0 > 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int mark = kt_kmsg_mark(), rc;
		char *log;

		rc = kt_load("myshm", bad[i].params);
		log = kt_kmsg_text(mark);
		if (rc != -EINVAL)
			fail_msg("'%s': load returned %d, expected -EINVAL",
				 bad[i].params, rc);
		if (kt_count_lines(log, bad[i].log) != 1 ||
		    kt_count_lines(log, "myshm") -
		    kt_count_lines(log, "taint") != 1)
			fail_msg("'%s': want one line with '%s', log:\n%s",
				 bad[i].params, bad[i].log, log);
		free(log);
		assert_false(kt_loaded("myshm"));
		assert_int_equal(count_dir("/dev"), ndev);
		assert_int_equal(count_dir("/sys/class/misc"), nmisc);
	}
	/* the same through the shared kt_kmsg_find() */
	{
		int mark = kt_kmsg_mark();

		assert_int_equal(kt_load("myshm", "size=0"), -EINVAL);
		assert_true(kt_kmsg_find(mark, "myshm: invalid size=\"0\": size 0"));
	}
	/* nothing allocated stays (tolerance: 1 MiB for others' noise) */
	assert_true(kt_meminfo_kb("VmallocUsed") < vm0 + 1024);
	assert_true(kt_meminfo_kb("MemFree") > free0 - 8 * 1024);
	/* and a good load works afterwards */
	assert_int_equal(kt_load("myshm", NULL), 0);
	assert_int_equal(dev_size("myshm"), 4 * MiB);
	assert_int_equal(kt_unload("myshm"), 0);
}

static void test_sizes(void **state)
{
	static const char *const name31 = "Abcdefghij-bcdefghij_bcdefghij1";
	char params[512];
	size_t i;

	(void)state;
	assert_int_equal(kt_load("myshm", "size=1"), 0);
	assert_int_equal(dev_size("myshm"), PG);
	assert_int_equal(kt_unload("myshm"), 0);

	assert_int_equal(kt_load("myshm", "buffers="), 0);
	assert_int_equal(dev_size("myshm"), 4 * MiB);
	assert_int_equal(kt_unload("myshm"), 0);

	/* entries without a size get size=; suffixes in either case */
	snprintf(params, sizeof(params),
		 "size=5000 buffers=a,b:1,c:8k,d:1m,e:4097,f:1024K,%s:3K",
		 name31);
	assert_int_equal(kt_load("myshm", params), 0);
	assert_int_equal(dev_size("a"), 2 * PG);
	assert_int_equal(dev_size("b"), PG);
	assert_int_equal(dev_size("c"), 2 * PG);
	assert_int_equal(dev_size("d"), MiB);
	assert_int_equal(dev_size("e"), 2 * PG);
	assert_int_equal(dev_size("f"), MiB);
	assert_int_equal(dev_size(name31), PG);
	/* no /dev/myshm when buffers= does not list it */
	assert_int_equal(access("/dev/myshm", F_OK), -1);
	assert_int_equal(kt_unload("myshm"), 0);

	/* 16 buffers, the most allowed */
	strcpy(params, "buffers=");
	for (i = 0; i < MYSHM_MAX_BUFFERS; i++)
		sprintf(params + strlen(params), "%sb%zu:%zuK", i ? "," : "",
			i, i + 1);
	assert_int_equal(kt_load("myshm", params), 0);
	assert_int_equal(dev_size("b0"), PG);
	assert_int_equal(dev_size("b15"), 16 * 1024);
	assert_int_equal(kt_unload("myshm"), 0);
}

static void test_several_buffers(void **state)
{
	static const char *const names[] = { "myshm", "mmapdemo", "big" };
	static const unsigned long sizes[] = { 4 * MiB, PG, 64 * MiB };
	unsigned char *maps[3], c;
	char out[512];
	int fds[3], i, j;

	(void)state;
	assert_int_equal(kt_load("myshm", "buffers=myshm,mmapdemo:4K,big:64M"),
			 0);
	for (i = 0; i < 3; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/dev/%s", names[i]);
		fds[i] = open(path, O_RDWR);
		assert_true(fds[i] >= 0);
		assert_int_equal(dev_size(names[i]), sizes[i]);
		maps[i] = mmap(NULL, sizes[i], PROT_READ | PROT_WRITE,
			       MAP_SHARED, fds[i], 0);
		assert_ptr_not_equal(maps[i], MAP_FAILED);
		/* one page past this buffer's end is refused */
		assert_ptr_equal(mmap(NULL, PG, PROT_READ, MAP_SHARED, fds[i],
				      sizes[i]), MAP_FAILED);
		assert_int_equal(errno, EINVAL);
	}
	/* each buffer keeps its own bytes */
	for (i = 0; i < 3; i++)
		memset(maps[i], 'A' + i, PG);
	for (i = 0; i < 3; i++) {
		for (j = 0; j < (int)PG; j++)
			assert_int_equal(maps[i][j], 'A' + i);
		assert_int_equal(pread(fds[i], &c, 1, PG - 1), 1);
		assert_int_equal(c, 'A' + i);
	}
	assert_int_equal(maps[2][PG], 0);
	assert_int_equal(maps[0][PG], 0);
	/* one buffer in use keeps the whole module */
	for (i = 0; i < 3; i++)
		if (i != 1)
			close(fds[i]);
	assert_int_equal(kt_unload("myshm"), -EAGAIN);
	memset(maps[1], 0, PG);
	/* the classic one-page demo */
	assert_int_equal(kt_run("test_mmap", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "mapping holds: \"\"\n"));
	assert_non_null(strstr(out, "read() returns: \"Hello from user space!\""));
	assert_string_equal((char *)maps[1], "Hello from user space!");
	assert_int_equal(kt_run("test_mmap /dev/mmapdemo again", out,
				sizeof(out)), 0);
	assert_non_null(strstr(out, "mapping holds: \"Hello from user space!\""));
	assert_non_null(strstr(out, "read() returns: \"again\""));
	for (i = 0; i < 3; i++)
		munmap(maps[i], sizes[i]);
	close(fds[1]);
	assert_int_equal(kt_unload("myshm"), 0);
	for (i = 0; i < 3; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/dev/%s", names[i]);
		assert_int_equal(access(path, F_OK), -1);
	}
	/* without buffers=..., there is no /dev/mmapdemo */
	assert_int_equal(kt_load("myshm", NULL), 0);
	assert_int_equal(kt_run("test_mmap", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "/dev/mmapdemo: No such file or directory"));
	assert_int_equal(kt_unload("myshm"), 0);
}

static void test_256m(void **state)
{
	const size_t size = 256 * MiB;
	long long free0 = kt_meminfo_kb("MemFree"), free1;
	long long shmem0 = kt_meminfo_kb("Shmem");
	long long unevictable0 = kt_meminfo_kb("Unevictable");
	unsigned long long v;
	unsigned char *map;
	size_t i;
	int fd;

	(void)state;
	assert_int_equal(kt_load("myshm", "buffers=big:256M"), 0);
	free1 = kt_meminfo_kb("MemFree");
	/* allocated at load, not at first touch: shmem, never reclaimed */
	assert_true(kt_meminfo_kb("Shmem") >= shmem0 + 256 * 1024);
	assert_true(kt_meminfo_kb("Unevictable") >= unevictable0 + 256 * 1024);
	assert_true(free1 < free0 - 200 * 1024);
	assert_int_equal(dev_size("big"), size);
	fd = open("/dev/big", O_RDWR);
	assert_true(fd >= 0);
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_ptr_not_equal(map, MAP_FAILED);
	for (i = 0; i < size; i += PG)
		if (*(unsigned long long *)(map + i))
			fail_msg("page %zu not zero", i / PG);
	for (i = 0; i < size; i += PG)
		*(unsigned long long *)(map + i + PG - 8) = i / PG + 1;
	/* no page more was needed to touch every page */
	assert_true(kt_meminfo_kb("MemFree") > free1 - 16 * 1024);
	for (i = 0; i < size; i += 97 * PG) {
		assert_int_equal(pread(fd, &v, 8, i + PG - 8), 8);
		assert_int_equal(v, i / PG + 1);
	}
	assert_int_equal(pread(fd, &v, 8, size - 8), 8);
	assert_int_equal(v, size / PG);
	munmap(map, size);
	close(fd);
	assert_int_equal(kt_unload("myshm"), 0);
	assert_true(kt_meminfo_kb("Shmem") < shmem0 + 1024);
	assert_true(kt_meminfo_kb("Unevictable") < unevictable0 + 1024);
	/*
	 * Measured noise of MemFree across a 256 MiB load/touch/unload cycle
	 * is up to ~40 MiB (per-CPU lists, reclaim); a leaked buffer would
	 * show as the whole 256 MiB, and repeated cycles do not drift.
	 */
	assert_true(kt_memfree_above(free0 - KT_MEMFREE_NOISE_KB));
}

static void test_enomem(void **state)
{
	long long free0 = kt_meminfo_kb("MemFree");
	long long vm0 = kt_meminfo_kb("VmallocUsed");
	long long shmem0 = kt_meminfo_kb("Shmem");
	int mark = kt_kmsg_mark();
	char *log;

	(void)state;
	/* valid, but more than this 1 GiB guest has: ENOMEM, quietly */
	assert_int_equal(kt_load("myshm", "buffers=a:512M,b:1G"), -ENOMEM);
	log = kt_kmsg_text(mark);
	if (kt_count_lines(log, "myshm: cannot allocate") != 1 ||
	    kt_count_lines(log, "myshm") - kt_count_lines(log, "taint") != 1)
		fail_msg("want one 'cannot allocate' line, log:\n%s", log);
	free(log);
	assert_false(kt_loaded("myshm"));
	assert_int_equal(access("/dev/a", F_OK), -1);
	assert_true(kt_meminfo_kb("VmallocUsed") < vm0 + 1024);
	assert_true(kt_meminfo_kb("Shmem") < shmem0 + 1024);
	/*
	 * Measured noise of MemFree across a 256 MiB load/touch/unload cycle
	 * is up to ~40 MiB (per-CPU lists, reclaim); a leaked buffer would
	 * show as the whole 256 MiB, and repeated cycles do not drift.
	 */
	assert_true(kt_memfree_above(free0 - KT_MEMFREE_NOISE_KB));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, clean, clean)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_bad_params),
		T(test_sizes),
		T(test_several_buffers),
		T(test_256m),
		T(test_enomem),
	};

	return kt_run_group(tests, NULL, NULL);
}
