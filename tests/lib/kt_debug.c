// SPDX-License-Identifier: GPL-2.0
/* kt_debug.c - adapt guest tests to the debug kernel; see kt_debug.h. */
#include "kt_debug.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static bool kt_release_has(const char *tag)
{
	struct utsname u;

	return !uname(&u) && strstr(u.release, tag);
}

bool kt_debug_kernel(void)
{
	return kt_release_has("-kipc-debug");
}

bool kt_kcsan_kernel(void)
{
	return kt_release_has("-kipc-kcsan");
}

long kt_scaled(long n)
{
	if (kt_debug_kernel())
		n /= KT_DEBUG_SLOWDOWN;
	else if (kt_kcsan_kernel())
		n /= KT_KCSAN_SLOWDOWN;
	else
		return n;
	return n > 0 ? n : 1;
}

int kt_slab_shrink(void)
{
	DIR *d = opendir("/sys/kernel/slab");
	struct dirent *e;
	char path[512];
	int fd, n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink",
			 e->d_name);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n += write(fd, "1", 1) == 1;
		close(fd);
	}
	closedir(d);
	return n;
}
