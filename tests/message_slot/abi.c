// SPDX-License-Identifier: GPL-2.0
/*
 * message_slot/abi - the course ABI of message_slot.ko, rule by rule: check
 * order of write/read/ioctl, errnos, persistence, isolation, ids, binary
 * messages, censorship, both ioctl encodings, module parameters, unload.
 */
#include "lib/kt.h"
#include "lib/kt_slot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

/* Raw syscalls: glibc's attributes would reject the bad arguments. */
#define WR(fd, p, n) syscall(SYS_write, (fd), (p), (n))
#define RD(fd, p, n) syscall(SYS_read, (fd), (p), (n))

static void test_encodings(void **state)
{
	(void)state;
	/* what course testers are compiled with: unsigned int / unsigned long */
	assert_int_equal(MSG_SLOT_CHANNEL, 0x4004eb00);
	assert_int_equal(MSG_SLOT_SET_CEN, 0x4004eb01);
	assert_int_equal(MSG_SLOT_CHANNEL_LONG, 0x4008eb00);
	assert_int_equal(MSG_SLOT_SET_CEN_LONG, 0x4008eb01);
	assert_int_equal(MSG_SLOT_SET_BLOCKING, 0x4004eb02);
	assert_int_equal(MAJOR_NUM, 235);
	assert_int_equal(BUF_LEN, 128);
	assert_int_equal(MAX_MSG_LEN, 128);
	assert_int_equal(SUCCESS, 0);
	assert_string_equal(DEVICE_RANGE_NAME, "message_slot");
}

static void test_registered_major(void **state)
{
	char line[128];
	bool found = false;
	FILE *f = fopen("/proc/devices", "r");

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		found |= !strcmp(line, "235 message_slot\n");
	fclose(f);
	assert_true(found);
}

/* No channel: EINVAL before the buffer or the length is looked at. */
static void test_no_channel_first(void **state)
{
	char buf[8] = "x";
	int fd = kt_slot_open(0, 0);

	(void)state;
	assert_int_equal(kt_err(WR(fd, NULL, 5)), -EINVAL);
	assert_int_equal(kt_err(WR(fd, buf, 0)), -EINVAL);
	assert_int_equal(kt_err(WR(fd, buf, 1000)), -EINVAL);
	assert_int_equal(kt_err(RD(fd, NULL, 5)), -EINVAL);
	assert_int_equal(kt_err(RD(fd, buf, 0)), -EINVAL);
	/* a failed MSG_SLOT_CHANNEL does not select anything */
	assert_int_equal(kt_err(ioctl(fd, MSG_SLOT_CHANNEL, 0)), -EINVAL);
	assert_int_equal(kt_err(WR(fd, buf, 1)), -EINVAL);
	close(fd);
}

static void test_write_order(void **state)
{
	static char big[4096];
	int fd = kt_slot_open_chan(0, 11);

	(void)state;
	memset(big, 'w', sizeof(big));
	/* size before buffer */
	assert_int_equal(kt_err(WR(fd, NULL, 0)), -EMSGSIZE);
	assert_int_equal(kt_err(WR(fd, NULL, 129)), -EMSGSIZE);
	assert_int_equal(kt_err(WR(fd, big, 0)), -EMSGSIZE);
	assert_int_equal(kt_err(WR(fd, big, 129)), -EMSGSIZE);
	assert_int_equal(kt_err(WR(fd, big, sizeof(big))), -EMSGSIZE);
	assert_int_equal(kt_err(WR(fd, NULL, 5)), -EFAULT);
	assert_int_equal(kt_err(WR(fd, (void *)-4096L, 5)), -EFAULT);
	/* nothing was stored by any of these */
	assert_int_equal(kt_err(RD(fd, big, sizeof(big))), -EWOULDBLOCK);
	assert_int_equal(write(fd, big, 128), 128);
	assert_int_equal(write(fd, "z", 1), 1);
	kt_slot_expect_str(fd, "z");
	close(fd);
}

static void test_read_order(void **state)
{
	char buf[256];
	int fd = kt_slot_open_chan(0, 12);

	(void)state;
	/* no message: EWOULDBLOCK before the size and the buffer */
	assert_int_equal(kt_err(RD(fd, buf, 0)), -EWOULDBLOCK);
	assert_int_equal(kt_err(RD(fd, NULL, 0)), -EWOULDBLOCK);
	assert_int_equal(kt_err(RD(fd, NULL, 100)), -EWOULDBLOCK);
	kt_slot_put_str(fd, "0123456789");
	/* too small before the buffer */
	assert_int_equal(kt_err(RD(fd, buf, 9)), -ENOSPC);
	assert_int_equal(kt_err(RD(fd, NULL, 9)), -ENOSPC);
	assert_int_equal(kt_err(RD(fd, buf, 0)), -ENOSPC);
	assert_int_equal(kt_err(RD(fd, NULL, 10)), -EFAULT);
	assert_int_equal(kt_err(RD(fd, (void *)-4096L, 10)), -EFAULT);
	/* exact and larger buffers; not consumed */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(read(fd, buf, 10), 10);
	assert_memory_equal(buf, "0123456789", 10);
	memset(buf, '!', sizeof(buf));
	assert_int_equal(read(fd, buf, sizeof(buf)), 10);
	assert_memory_equal(buf, "0123456789", 10);
	assert_int_equal(buf[10], '!');	/* nothing past the message */
	kt_slot_expect_str(fd, "0123456789");
	close(fd);
}

/* A failed write leaves the previous message intact. */
static void test_failed_write_atomic(void **state)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *map;
	int fd = kt_slot_open_chan(0, 13);

	(void)state;
	kt_slot_put_str(fd, "old message");
	map = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(map != MAP_FAILED);
	memset(map, 'n', pg);
	assert_int_equal(mprotect(map + pg, pg, PROT_NONE), 0);
	/* the first 64 bytes are readable, the rest faults */
	assert_int_equal(kt_err(WR(fd, map + pg - 64, 100)), -EFAULT);
	kt_slot_expect_str(fd, "old message");
	assert_int_equal(kt_err(WR(fd, map, 129)), -EMSGSIZE);
	kt_slot_expect_str(fd, "old message");
	/*
	 * A read into a partly unwritable buffer fails (whatever fitted may
	 * have been copied) and keeps the message.
	 */
	assert_int_equal(kt_err(RD(fd, map + pg - 4, 100)), -EFAULT);
	kt_slot_expect_str(fd, "old message");
	assert_int_equal(write(fd, map + pg - 64, 64), 64);
	kt_slot_expect(fd, map + pg - 64, 64);
	munmap(map, 2 * pg);
	close(fd);
}

static void test_ioctl_errors(void **state)
{
	int fd = kt_slot_open(0, 0);

	(void)state;
	assert_int_equal(kt_err(ioctl(fd, MSG_SLOT_CHANNEL, 0)), -EINVAL);
	assert_int_equal(kt_err(ioctl(fd, MSG_SLOT_CHANNEL_LONG, 0)), -EINVAL);
	/* 8-byte encoding: the id must fit in 32 bits */
	assert_int_equal(kt_err(ioctl(fd, MSG_SLOT_CHANNEL_LONG, 1UL << 32)),
			 -EINVAL);
	assert_int_equal(kt_err(ioctl(fd, MSG_SLOT_CHANNEL_LONG, -1L)), -EINVAL);
	assert_int_equal(kt_err(ioctl(fd, MSG_SLOT_SET_CEN, 2)), -EINVAL);
	assert_int_equal(kt_err(ioctl(fd, MSG_SLOT_SET_CEN, 0xffffffffUL)),
			 -EINVAL);
	assert_int_equal(kt_err(ioctl(fd, MSG_SLOT_SET_CEN_LONG, 1UL << 32)),
			 -EINVAL);
	assert_int_equal(kt_err(ioctl(fd, MSG_SLOT_SET_BLOCKING, 2)), -EINVAL);
	/* unknown commands: EINVAL, not ENOTTY */
	assert_int_equal(kt_err(ioctl(fd, _IOW(235, 3, __u32), 1)), -EINVAL);
	assert_int_equal(kt_err(ioctl(fd, _IOR(235, 0, __u32), 1)), -EINVAL);
	assert_int_equal(kt_err(ioctl(fd, _IO(235, 0), 1)), -EINVAL);
	assert_int_equal(kt_err(ioctl(fd, _IOW(240, 0, __u32), 1)), -EINVAL);
	assert_int_equal(kt_err(ioctl(fd, 0, 1)), -EINVAL);
	assert_int_equal(kt_err(ioctl(fd, TCGETS, NULL)), -EINVAL);
	/* the valid ones */
	assert_int_equal(ioctl(fd, MSG_SLOT_SET_CEN, 1), 0);
	assert_int_equal(ioctl(fd, MSG_SLOT_SET_CEN_LONG, 0), 0);
	assert_int_equal(ioctl(fd, MSG_SLOT_SET_BLOCKING, 0), 0);
	assert_int_equal(ioctl(fd, MSG_SLOT_CHANNEL, 0xffffffffUL), 0);
	close(fd);
}

/* Both encodings address the same channels; 4-byte takes the low 32 bits. */
static void test_both_encodings(void **state)
{
	int a = kt_slot_open(1, 0), b = kt_slot_open(1, 0);

	(void)state;
	assert_int_equal(ioctl(a, MSG_SLOT_CHANNEL, 77), 0);
	assert_int_equal(ioctl(b, MSG_SLOT_CHANNEL_LONG, 77UL), 0);
	kt_slot_put_str(a, "via int");
	kt_slot_expect_str(b, "via int");
	kt_slot_put_str(b, "via long");
	kt_slot_expect_str(a, "via long");
	/* an "unsigned int" argument is the low 32 bits of the register */
	assert_int_equal(ioctl(a, MSG_SLOT_CHANNEL, (7UL << 32) | 77), 0);
	kt_slot_expect_str(a, "via long");
	assert_int_equal(kt_err(ioctl(a, MSG_SLOT_CHANNEL, 7UL << 32)),
			 -EINVAL);
	/* censorship through the 8-byte encoding */
	assert_int_equal(ioctl(b, MSG_SLOT_SET_CEN_LONG, 1UL), 0);
	kt_slot_put_str(b, "abcdefgh");
	kt_slot_expect_str(a, "abc#efg#");
	close(a);
	close(b);
}

static void test_persistence(void **state)
{
	int fd = kt_slot_open_chan(2, 5);

	(void)state;
	kt_slot_put_str(fd, "kept");
	close(fd);
	fd = kt_slot_open_chan(2, 5);
	kt_slot_expect_str(fd, "kept");
	close(fd);
	/* another node for the same minor is the same slot */
	unlink("/tmp/kt-slot2-alias");
	assert_int_equal(mknod("/tmp/kt-slot2-alias", S_IFCHR | 0600,
			       makedev(235, 2)), 0);
	fd = open("/tmp/kt-slot2-alias", O_RDWR);
	assert_true(fd >= 0);
	kt_slot_chan(fd, 5);
	kt_slot_expect_str(fd, "kept");
	kt_slot_put_str(fd, "from alias");
	close(fd);
	unlink("/tmp/kt-slot2-alias");
	fd = kt_slot_open_chan(2, 5);
	kt_slot_expect_str(fd, "from alias");
	/* a read-only or write-only open works as its mode allows */
	close(fd);
	fd = open(kt_slot_path(2), O_RDONLY);
	assert_true(fd >= 0);
	kt_slot_chan(fd, 5);
	kt_slot_expect_str(fd, "from alias");
	assert_int_equal(kt_err(WR(fd, "x", 1)), -EBADF);
	close(fd);
}

static void test_isolation(void **state)
{
	int m0 = kt_slot_open_chan(3, 1), m1 = kt_slot_open_chan(4, 1);
	int c2 = kt_slot_open_chan(3, 2), other = kt_slot_open(3, 0);
	char buf[8];

	(void)state;
	/* minors */
	kt_slot_put_str(m0, "minor3");
	assert_int_equal(kt_err(RD(m1, buf, sizeof(buf))), -EWOULDBLOCK);
	kt_slot_put_str(m1, "minor4");
	kt_slot_expect_str(m0, "minor3");
	kt_slot_expect_str(m1, "minor4");
	/* channels */
	assert_int_equal(kt_err(RD(c2, buf, sizeof(buf))), -EWOULDBLOCK);
	kt_slot_put_str(c2, "chan2");
	kt_slot_expect_str(m0, "minor3");
	/* open files: channel and censorship are per file */
	assert_int_equal(kt_err(RD(other, buf, sizeof(buf))), -EINVAL);
	assert_int_equal(ioctl(m0, MSG_SLOT_SET_CEN, 1), 0);
	kt_slot_chan(other, 1);
	kt_slot_put_str(other, "uncensored");
	kt_slot_expect_str(m0, "uncensored");
	kt_slot_chan(other, 2);
	kt_slot_expect_str(other, "chan2");
	kt_slot_expect_str(m0, "uncensored");	/* m0 is still on channel 1 */
	kt_slot_put_str(m0, "censored!");
	kt_slot_expect_str(other, "chan2");
	kt_slot_chan(other, 1);
	kt_slot_expect_str(other, "cen#ore#!");
	close(m0);
	close(m1);
	close(c2);
	close(other);
}

static void test_ids(void **state)
{
	static const unsigned long ids[] = {
		1, 2, 1000, (1UL << 20) - 1, 1UL << 20, (1UL << 20) + 1,
		1UL << 24, 1UL << 31, 0xfffffffeUL, 0xffffffffUL,
	};
	char msg[32];
	size_t i;
	int fd = kt_slot_open(5, 0);

	(void)state;
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		kt_slot_chan(fd, ids[i]);
		snprintf(msg, sizeof(msg), "id %lu", ids[i]);
		kt_slot_put_str(fd, msg);
	}
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		kt_slot_chan(fd, ids[i]);
		snprintf(msg, sizeof(msg), "id %lu", ids[i]);
		kt_slot_expect_str(fd, msg);
	}
	kt_slot_chan(fd, 3);
	assert_int_equal(kt_err(RD(fd, msg, sizeof(msg))), -EWOULDBLOCK);
	close(fd);
}

static void test_binary(void **state)
{
	unsigned char msg[128];
	int i, fd = kt_slot_open_chan(5, 99);

	(void)state;
	for (i = 0; i < 128; i++)
		msg[i] = (unsigned char)(i * 37 + (i & 1 ? 128 : 0));
	msg[0] = msg[5] = msg[127] = 0;
	kt_slot_put(fd, msg, 128);
	kt_slot_expect(fd, msg, 128);
	kt_slot_put(fd, "\0", 1);
	kt_slot_expect(fd, "\0", 1);
	kt_slot_put(fd, "a\0b\0", 4);
	kt_slot_expect(fd, "a\0b\0", 4);
	close(fd);
}

static void test_censorship(void **state)
{
	char msg[129], want[129];
	int len, i, fd = kt_slot_open_chan(6, 1);
	int plain = kt_slot_open_chan(6, 1);

	(void)state;
	assert_int_equal(ioctl(fd, MSG_SLOT_SET_CEN, 1), 0);
	for (len = 1; len <= 128; len++) {
		for (i = 0; i < len; i++) {
			msg[i] = (char)('A' + i % 26);
			want[i] = i % 4 == 3 ? '#' : msg[i];
		}
		kt_slot_put(fd, msg, len);
		kt_slot_expect(plain, want, len);	/* stored censored */
		kt_slot_expect(fd, want, len);
	}
	kt_slot_put_str(fd, "abc");
	kt_slot_expect_str(plain, "abc");
	kt_slot_put_str(fd, "abcd");
	kt_slot_expect_str(plain, "abc#");
	/* censorship also covers NUL and '#' bytes themselves */
	kt_slot_put(fd, "\0\0\0\0\0", 5);
	kt_slot_expect(plain, "\0\0\0#\0", 5);
	assert_int_equal(ioctl(fd, MSG_SLOT_SET_CEN, 0), 0);
	kt_slot_put_str(fd, "abcdefgh");
	kt_slot_expect_str(plain, "abcdefgh");
	close(fd);
	close(plain);
}

/* Unloading is refused while a file is open; afterwards it frees all. */
static void test_unload(void **state)
{
	int fd = kt_slot_open_chan(0, 1), fd2;

	(void)state;
	kt_slot_put_str(fd, "before unload");
	/*
	 * The cdev holds a module reference per open file; delete_module()
	 * with O_NONBLOCK answers a busy module with EWOULDBLOCK (== EAGAIN,
	 * kernel/module/main.c: try_stop_module()).
	 */
	assert_int_equal(kt_unload("message_slot"), -EWOULDBLOCK);
	assert_true(kt_loaded("message_slot"));
	kt_slot_expect_str(fd, "before unload");
	fd2 = dup(fd);
	close(fd);
	assert_int_equal(kt_unload("message_slot"), -EWOULDBLOCK);
	close(fd2);
	assert_int_equal(kt_unload("message_slot"), 0);
	assert_false(kt_loaded("message_slot"));
	assert_int_equal(open(kt_slot_path(0), O_RDWR), -1);
	assert_int_equal(errno, ENXIO);
	assert_int_equal(kt_slot_load(NULL), 0);
	fd = kt_slot_open_chan(0, 1);
	assert_int_equal(kt_err(RD(fd, state, 1)), -EWOULDBLOCK);
	close(fd);
}

static void test_stats(void **state)
{
	unsigned long ch = 1, by = 1;
	int fd;

	(void)state;
	assert_false(kt_slot_stats(7, &ch, &by));	/* no slot until opened */
	fd = kt_slot_open(7, 0);
	assert_true(kt_slot_stats(7, &ch, &by));
	assert_int_equal(ch, 0);
	assert_int_equal(by, 0);
	kt_slot_chan(fd, 1);
	kt_slot_put_str(fd, "12345");
	kt_slot_chan(fd, 2);
	kt_slot_put_str(fd, "1234567890");
	kt_slot_chan(fd, 3000000);
	kt_slot_put(fd, state, 128 > sizeof(void *) ? sizeof(void *) : 128);
	assert_true(kt_slot_stats(7, &ch, &by));
	assert_int_equal(ch, 3);
	assert_int_equal(by, 15 + sizeof(void *));
	kt_slot_chan(fd, 2);
	kt_slot_put_str(fd, "1");
	assert_int_equal(kt_err(WR(fd, "x", 0)), -EMSGSIZE);
	assert_true(kt_slot_stats(7, &ch, &by));
	assert_int_equal(ch, 3);
	assert_int_equal(by, 6 + sizeof(void *));
	close(fd);
}

static void test_params(void **state)
{
	int mark, fd;
	char line[128];
	FILE *f;
	unsigned int dyn = 0, m;
	char name[64];

	(void)state;
	assert_int_equal(kt_unload("message_slot"), 0);
	/* major 1 (mem) is taken: a clean failure with a clear log line */
	mark = kt_kmsg_mark();
	assert_int_equal(kt_load("message_slot", "major=1"), -EBUSY);
	assert_true(kt_kmsg_find(mark, "cannot register major 1"));
	assert_false(kt_loaded("message_slot"));
	assert_int_equal(kt_load("message_slot", "major=512"), -EINVAL);
	assert_int_equal(kt_load("message_slot", "nodes=257"), -EINVAL);

	/* the older course variant's 240 */
	assert_int_equal(kt_load("message_slot", "major=240"), 0);
	kt_slot_mknod_major(240, 0);
	fd = kt_slot_open_chan(0, 4);
	kt_slot_put_str(fd, "on 240");
	kt_slot_expect_str(fd, "on 240");
	close(fd);
	assert_int_equal(kt_unload("message_slot"), 0);

	/* 0: a dynamic major, shown in /proc/devices */
	assert_int_equal(kt_load("message_slot", "major=0"), 0);
	f = fopen("/proc/devices", "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%u %63s", &m, name) == 2 &&
		    !strcmp(name, "message_slot"))
			dyn = m;
	fclose(f);
	assert_true(dyn > 0 && dyn != 235);
	kt_slot_mknod_major(dyn, 0);
	fd = kt_slot_open_chan(0, 4);
	kt_slot_put_str(fd, "dynamic");
	close(fd);
	assert_int_equal(kt_unload("message_slot"), 0);

	/* nodes=N: /dev/message_slot0..N-1 appear (devtmpfs) */
	assert_int_equal(kt_load("message_slot", "nodes=3"), 0);
	fd = open("/dev/message_slot2", O_RDWR);
	assert_true(fd >= 0);
	kt_slot_chan(fd, 1);
	kt_slot_put_str(fd, "node 2");
	close(fd);
	assert_int_equal(access("/dev/message_slot3", F_OK), -1);
	kt_slot_mknod(2);
	fd = kt_slot_open_chan(2, 1);
	kt_slot_expect_str(fd, "node 2");
	close(fd);
	assert_int_equal(kt_unload("message_slot"), 0);
	assert_int_equal(access("/dev/message_slot0", F_OK), -1);

	assert_int_equal(kt_slot_load(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encodings),
		cmocka_unit_test(test_registered_major),
		cmocka_unit_test(test_no_channel_first),
		cmocka_unit_test(test_write_order),
		cmocka_unit_test(test_read_order),
		cmocka_unit_test(test_failed_write_atomic),
		cmocka_unit_test(test_ioctl_errors),
		cmocka_unit_test(test_both_encodings),
		cmocka_unit_test(test_persistence),
		cmocka_unit_test(test_isolation),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_censorship),
		cmocka_unit_test(test_unload),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_params),
	};

	return kt_run_group(tests, kt_slot_setup, kt_slot_teardown);
}
