// SPDX-License-Identifier: GPL-2.0
/* kt_fds.c - descriptor helpers for kipc's guest tests; see kt_fds.h. */
#include "kt_fds.h"

#include <dirent.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Count the descriptors that refer to TARGET; close them if CLOSE_THEM. */
static int fds_to(const char *target, bool close_them)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char path[64], link[PATH_MAX];
	int n = 0, fd, self;
	ssize_t len;

	if (!d)
		return -1;
	self = dirfd(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		fd = atoi(e->d_name);
		if (fd == self)
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		len = readlink(path, link, sizeof(link) - 1);
		if (len < 0)
			continue;
		link[len] = '\0';
		if (strcmp(link, target))
			continue;
		if (!close_them || !close(fd))
			n++;
	}
	closedir(d);
	return n;
}

int kt_close_fds_to(const char *target)
{
	return fds_to(target, true);
}

int kt_count_fds_to(const char *target)
{
	return fds_to(target, false);
}
