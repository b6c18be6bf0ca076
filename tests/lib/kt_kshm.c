// SPDX-License-Identifier: GPL-2.0
/* kt_kshm.c - helpers for the kshm guest tests; see kt_kshm.h. */
#include "kt_kshm.h"
#include "kt_fds.h"
#include "kt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

long kt_kshm_counter(const char *key)
{
	FILE *f = fopen("/proc/kshm", "r");
	char line[512], k[64], *p;
	long v = -1;

	if (!f)
		return -1;
	if (fgets(line, sizeof(line), f)) {
		snprintf(k, sizeof(k), " %s=", key);
		p = strstr(line, k);
		if (p)
			v = strtol(p + strlen(k), NULL, 10);
	}
	fclose(f);
	return v;
}

int kt_kshm_unload(void)
{
	/* libkipc caches a /dev/kshm descriptor, which pins the module. */
	kt_close_fds_to("/dev/kshm");
	return kt_unload("kshm");
}

int kt_kshm_setup(void **state)
{
	(void)state;
	umask(022);
	kt_unload_if_loaded("kshm");
	return kt_load("kshm", NULL) ? -1 : 0;
}

int kt_kshm_teardown(void **state)
{
	(void)state;
	return kt_kshm_unload() ? -1 : 0;
}

void kt_kshm_reload(const char *params)
{
	if (kt_loaded("kshm"))
		assert_int_equal(kt_kshm_unload(), 0);
	assert_int_equal(kt_load("kshm", params), 0);
}

int kt_kshm_reset(void **state)
{
	(void)state;
	kt_close_fds_to("anon_inode:[kshm]");
	if (kt_kshm_counter("objects") || kt_kshm_counter("processes"))
		return -1;
	kt_kshm_reload(NULL);
	return 0;
}

void kt_kshm_assert_empty(void)
{
	assert_int_equal(kt_kshm_counter("objects"), 0);
	assert_int_equal(kt_kshm_counter("pages"), 0);
	assert_int_equal(kt_kshm_counter("processes"), 0);
}

int kt_kshm_open(int ctl, const char *name, unsigned int flags,
		 unsigned int mode)
{
	struct kshm_open_args a;
	int fd;

	memset(&a, 0, sizeof(a));
	snprintf(a.name, sizeof(a.name), "%s", name);
	a.flags = flags | KSHM_CLOEXEC;
	a.mode = mode;
	fd = ioctl(ctl, KSHM_IOC_OPEN, &a);
	return fd < 0 ? -errno : fd;
}

int kt_kshm_trunc(int fd, unsigned long long *size)
{
	struct kshm_trunc_args a = { .size = *size };

	if (ioctl(fd, KSHM_IOC_TRUNC, &a) < 0)
		return -errno;
	*size = a.size;
	return 0;
}

struct kshm_info kt_kshm_info(int fd)
{
	struct kshm_info info;

	memset(&info, 0xff, sizeof(info));
	assert_int_equal(ioctl(fd, KSHM_IOC_INFO, &info), 0);
	return info;
}
