// SPDX-License-Identifier: GPL-2.0
/* msgslot.c - helpers for the message_slot guest tests; see msgslot.h. */
#include "kipc_test.h"
#include "msgslot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

const char *ms_path(unsigned int minor)
{
	static char paths[256][32];

	minor &= 255;
	snprintf(paths[minor], sizeof(paths[minor]), "/tmp/kt-slot%u", minor);
	return paths[minor];
}

void ms_mknod_major(unsigned int major, unsigned int minor)
{
	const char *p = ms_path(minor);

	unlink(p);
	if (mknod(p, S_IFCHR | 0666, makedev(major, minor)))
		fail_msg("mknod %s: %s", p, strerror(errno));
}

int ms_open(unsigned int minor, int flags)
{
	int fd = open(ms_path(minor), O_RDWR | O_CLOEXEC | flags);

	if (fd < 0)
		fail_msg("open %s: %s", ms_path(minor), strerror(errno));
	return fd;
}

int ms_child_open_chan(unsigned int minor, unsigned long id)
{
	int fd = open(ms_path(minor), O_RDWR | O_CLOEXEC);

	if (fd < 0 || ioctl(fd, MSG_SLOT_CHANNEL, id))
		_exit(90);
	return fd;
}

void ms_chan(int fd, unsigned long id)
{
	if (ioctl(fd, MSG_SLOT_CHANNEL, id))
		fail_msg("MSG_SLOT_CHANNEL %lu: %s", id, strerror(errno));
}

int ms_open_chan(unsigned int minor, unsigned int id)
{
	int fd = ms_open(minor, 0);

	ms_chan(fd, id);
	return fd;
}

void ms_put(int fd, const void *buf, size_t len)
{
	ssize_t n = write(fd, buf, len);

	if (n < 0)
		fail_msg("write %zu bytes: %s", len, strerror(errno));
	assert_int_equal(n, len);
}

void ms_put_str(int fd, const char *s)
{
	ms_put(fd, s, strlen(s));
}

void ms_expect(int fd, const void *buf, size_t len)
{
	unsigned char got[MSG_SLOT_MAX_MSG_LEN + 16];
	ssize_t n = read(fd, got, sizeof(got));

	if (n < 0)
		fail_msg("read: %s", strerror(errno));
	assert_int_equal(n, len);
	assert_memory_equal(got, buf, len);
}

void ms_expect_str(int fd, const char *s)
{
	ms_expect(fd, s, strlen(s));
}

int ms_err(long r)
{
	int e = errno;

	assert_int_equal(r, -1);
	return -e;
}

bool ms_stats(unsigned int minor, unsigned long *channels,
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

void ms_expect_stats(unsigned int minor, unsigned long channels,
		     unsigned long bytes)
{
	unsigned long c, b;

	assert_true(ms_stats(minor, &c, &b));
	assert_int_equal(c, channels);
	assert_int_equal(b, bytes);
}

int ms_load(const char *params)
{
	unsigned int i;
	int rc;

	rc = kt_load("message_slot", params);
	if (rc)
		return rc;
	for (i = 0; i < 8; i++)
		ms_mknod(i);
	return 0;
}

int ms_setup(void **state)
{
	(void)state;
	kt_unload_if_loaded("message_slot");
	return ms_load(NULL) ? -1 : 0;
}

int ms_teardown(void **state)
{
	(void)state;
	return kt_loaded("message_slot") ? kt_unload("message_slot") : 0;
}

long ms_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}
