// SPDX-License-Identifier: GPL-2.0
/* kt_slot.c - helpers for the message_slot guest tests; see kt_slot.h. */
#include "kt.h"
#include "kt_slot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

const char *kt_slot_path(unsigned int minor)
{
	static char paths[256][32];

	minor &= 255;
	snprintf(paths[minor], sizeof(paths[minor]), "/tmp/kt-slot%u", minor);
	return paths[minor];
}

void kt_slot_mknod_major(unsigned int major, unsigned int minor)
{
	const char *p = kt_slot_path(minor);

	unlink(p);
	if (mknod(p, S_IFCHR | 0666, makedev(major, minor)))
		fail_msg("mknod %s: %s", p, strerror(errno));
}

int kt_slot_open(unsigned int minor, int flags)
{
	int fd = open(kt_slot_path(minor), O_RDWR | O_CLOEXEC | flags);

	if (fd < 0)
		fail_msg("open %s: %s", kt_slot_path(minor), strerror(errno));
	return fd;
}

int kt_slot_child_open_chan(unsigned int minor, unsigned long id)
{
	int fd = open(kt_slot_path(minor), O_RDWR | O_CLOEXEC);

	if (fd < 0 || ioctl(fd, MSG_SLOT_CHANNEL, id))
		_exit(90);
	return fd;
}

void kt_slot_chan(int fd, unsigned long id)
{
	if (ioctl(fd, MSG_SLOT_CHANNEL, id))
		fail_msg("MSG_SLOT_CHANNEL %lu: %s", id, strerror(errno));
}

int kt_slot_open_chan(unsigned int minor, unsigned int id)
{
	int fd = kt_slot_open(minor, 0);

	kt_slot_chan(fd, id);
	return fd;
}

void kt_slot_put(int fd, const void *buf, size_t len)
{
	ssize_t n = write(fd, buf, len);

	if (n < 0)
		fail_msg("write %zu bytes: %s", len, strerror(errno));
	assert_int_equal(n, len);
}

void kt_slot_put_str(int fd, const char *s)
{
	kt_slot_put(fd, s, strlen(s));
}

void kt_slot_expect(int fd, const void *buf, size_t len)
{
	unsigned char got[MSG_SLOT_MAX_MSG_LEN + 16];
	ssize_t n = read(fd, got, sizeof(got));

	if (n < 0)
		fail_msg("read: %s", strerror(errno));
	assert_int_equal(n, len);
	assert_memory_equal(got, buf, len);
}

void kt_slot_expect_str(int fd, const char *s)
{
	kt_slot_expect(fd, s, strlen(s));
}

bool kt_slot_stats(unsigned int minor, unsigned long *channels,
		   unsigned long *bytes)
{
	FILE *f = fopen("/sys/kernel/debug/message_slot/slots", "r");
	unsigned long c, b;
	unsigned int m;
	char line[128];
	bool found = false;

	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "minor channels bytes\n");
	while (fgets(line, sizeof(line), f)) {
		assert_int_equal(sscanf(line, "%u %lu %lu", &m, &c, &b), 3);
		if (m == minor) {
			*channels = c;
			*bytes = b;
			found = true;
		}
	}
	fclose(f);
	return found;
}

void kt_slot_expect_stats(unsigned int minor, unsigned long channels,
			  unsigned long bytes)
{
	unsigned long c, b;

	assert_true(kt_slot_stats(minor, &c, &b));
	assert_int_equal(c, channels);
	assert_int_equal(b, bytes);
}

int kt_slot_load(const char *params)
{
	unsigned int i;
	int rc;

	rc = kt_load("message_slot", params);
	if (rc)
		return rc;
	for (i = 0; i < 8; i++)
		kt_slot_mknod(i);
	return 0;
}

int kt_slot_setup(void **state)
{
	(void)state;
	kt_unload_if_loaded("message_slot");
	return kt_slot_load(NULL) ? -1 : 0;
}

int kt_slot_teardown(void **state)
{
	(void)state;
	return kt_loaded("message_slot") ? kt_unload("message_slot") : 0;
}
