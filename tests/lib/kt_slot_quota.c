// SPDX-License-Identifier: GPL-2.0
/* kt_slot_quota.c - message_slot memory-limit helpers; see kt_slot_quota.h. */
#include "kt.h"
#include "kt_slot_quota.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEBUGFS "/sys/kernel/debug/message_slot/"
#define PARAMS "/sys/module/message_slot/parameters/"

unsigned long kt_slot_memory(const char *key)
{
	FILE *f = fopen(DEBUGFS "memory", "r");
	char name[32];
	unsigned long v, found = 0;
	bool seen = false;

	assert_non_null(f);
	while (fscanf(f, "%31s %lu", name, &v) == 2)
		if (!strcmp(name, key)) {
			found = v;
			seen = true;
		}
	fclose(f);
	if (!seen)
		fail_msg("no '%s' in " DEBUGFS "memory", key);
	return found;
}

bool kt_slot_user(unsigned int uid, unsigned long *mem, unsigned long *msgs)
{
	FILE *f = fopen(DEBUGFS "users", "r");
	unsigned long m, n, prev = (unsigned long)-1;
	unsigned int u;
	char line[128];
	bool found = false;

	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "uid mem messages\n");
	while (fgets(line, sizeof(line), f)) {
		assert_int_equal(sscanf(line, "%u %lu %lu", &u, &m, &n), 3);
		assert_true(m <= prev);		/* largest first */
		assert_true(n > 0 && m > 0);	/* only users with a charge */
		prev = m;
		if (u == uid) {
			*mem = m;
			*msgs = n;
			found = true;
		}
	}
	fclose(f);
	return found;
}

void kt_slot_expect_user(unsigned int uid, unsigned long mem,
			 unsigned long msgs)
{
	unsigned long m = 0, n = 0;
	bool found = kt_slot_user(uid, &m, &n);

	if (!mem && !msgs) {
		if (found)
			fail_msg("uid %u still charged %lu bytes, %lu messages",
				 uid, m, n);
		return;
	}
	if (!found)
		fail_msg("uid %u not in " DEBUGFS "users", uid);
	assert_int_equal(m, mem);
	assert_int_equal(n, msgs);
}

unsigned long kt_slot_param(const char *name)
{
	char path[128], buf[64] = "";
	int fd;

	snprintf(path, sizeof(path), PARAMS "%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail_msg("open %s: %s", path, strerror(errno));
	assert_true(read(fd, buf, sizeof(buf) - 1) > 0);
	close(fd);
	return strtoul(buf, NULL, 10);
}

int kt_slot_try_set_param(const char *name, const char *val)
{
	char path[128];
	int fd, rc = 0;

	snprintf(path, sizeof(path), PARAMS "%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

void kt_slot_set_param(const char *name, unsigned long val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lu", val);
	assert_int_equal(kt_slot_try_set_param(name, buf), 0);
}
