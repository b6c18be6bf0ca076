// SPDX-License-Identifier: GPL-2.0
/*
 * message_slot/tools - message_sender and message_reader end to end: exit
 * codes, strerror text on stderr, and exactly the message bytes on stdout.
 * Every case runs twice: with the 64-bit tools and with their static
 * 32-bit build (message_sender32, message_reader32), whose ioctls reach
 * the module through compat_ioctl; the same results are expected.
 */
#include "lib/kt.h"
#include "lib/kt_slot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIN "/kipc/bin/"

/* "" for the 64-bit tools, "32" for the i386 build (set per case). */
static const char *variant = "";

struct result {
	int status;		/* exit status, or 1000 + signal */
	char out[512], err[512];
	ssize_t outlen;
};

static ssize_t slurp(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, size - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	return n;
}

/* Run ARGV (NULL-terminated; argv[0] is a program in /kipc/bin). */
static void run(struct result *r, const char *const *argv)
{
	char prog[128];
	pid_t pid;
	int st;

	snprintf(prog, sizeof(prog), BIN "%s%s", argv[0], variant);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int o = open("/tmp/kt-out", O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open("/tmp/kt-err", O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(126);
		execv(prog, (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + WTERMSIG(st);
	r->outlen = slurp("/tmp/kt-out", r->out, sizeof(r->out));
	slurp("/tmp/kt-err", r->err, sizeof(r->err));
}

#define RUN(r, ...) do { \
	const char *const argv_[] = { __VA_ARGS__, NULL }; \
	run((r), argv_); \
} while (0)

static void expect_ok(const struct result *r, const char *out)
{
	if (r->status != 0)
		fail_msg("exit %d, stderr: %s", r->status, r->err);
	assert_string_equal(r->err, "");
	assert_int_equal(r->outlen, strlen(out));
	assert_memory_equal(r->out, out, r->outlen);
}

static void expect_fail(const struct result *r, const char *errtext)
{
	assert_int_equal(r->status, 1);
	assert_int_equal(r->outlen, 0);
	if (!strstr(r->err, errtext))
		fail_msg("stderr \"%s\" lacks \"%s\"", r->err, errtext);
	/* one line */
	assert_non_null(strchr(r->err, '\n'));
	assert_ptr_equal(strchr(r->err, '\n'), r->err + strlen(r->err) - 1);
}

static void test_exchange(void **state)
{
	const char *dev = kt_slot_path(0);
	struct result r;

	(void)state;
	RUN(&r, "message_sender", dev, "5", "Hello, slot!");
	expect_ok(&r, "");
	RUN(&r, "message_reader", dev, "5");
	expect_ok(&r, "Hello, slot!");		/* no newline added */
	RUN(&r, "message_reader", dev, "5");	/* not consumed */
	expect_ok(&r, "Hello, slot!");
	RUN(&r, "message_sender", dev, "4294967295", "top id");
	expect_ok(&r, "");
	RUN(&r, "message_reader", dev, "4294967295");
	expect_ok(&r, "top id");
	RUN(&r, "message_reader", dev, "5");
	expect_ok(&r, "Hello, slot!");
}

static void test_censor_form(void **state)
{
	const char *dev = kt_slot_path(1);
	struct result r;

	(void)state;
	RUN(&r, "message_sender", dev, "7", "1", "abcdefghijkl");
	expect_ok(&r, "");
	RUN(&r, "message_reader", dev, "7");
	expect_ok(&r, "abc#efg#ijk#");
	RUN(&r, "message_sender", dev, "7", "0", "abcdefghijkl");
	expect_ok(&r, "");
	RUN(&r, "message_reader", dev, "7");
	expect_ok(&r, "abcdefghijkl");
	/* censorship is set before the channel: its error comes first */
	RUN(&r, "message_sender", dev, "0", "2", "x");
	expect_fail(&r, "Invalid argument");
	assert_non_null(strstr(r.err, "MSG_SLOT_SET_CEN"));
	RUN(&r, "message_sender", dev, "7", "2", "x");
	expect_fail(&r, "Invalid argument");
	RUN(&r, "message_reader", dev, "7");
	expect_ok(&r, "abcdefghijkl");
}

static void test_errors(void **state)
{
	const char *dev = kt_slot_path(2);
	char max[129], big[130];
	struct result r;

	(void)state;
	memset(big, 'B', 129);
	big[129] = '\0';
	/* channel 0 reaches the ioctl */
	RUN(&r, "message_sender", dev, "0", "msg");
	expect_fail(&r, "Invalid argument");
	assert_non_null(strstr(r.err, "MSG_SLOT_CHANNEL"));
	RUN(&r, "message_reader", dev, "0");
	expect_fail(&r, "Invalid argument");
	RUN(&r, "message_sender", dev, "abc", "msg");	/* strtoul: 0 */
	expect_fail(&r, "Invalid argument");
	RUN(&r, "message_sender", dev, "4294967296", "msg");
	expect_fail(&r, "Invalid argument");
	/* an empty message reaches write() */
	RUN(&r, "message_sender", dev, "3", "");
	expect_fail(&r, "Message too long");
	memset(max, 'm', 128);
	max[128] = '\0';
	RUN(&r, "message_sender", dev, "3", max);
	expect_ok(&r, "");
	RUN(&r, "message_reader", dev, "3");
	expect_ok(&r, max);
	memset(max, 'M', 127);
	max[127] = '\0';
	RUN(&r, "message_sender", dev, "3", "x", max);	/* CENSOR "x" = 0 */
	expect_ok(&r, "");
	RUN(&r, "message_sender", dev, "3", big);	/* 129 bytes */
	expect_fail(&r, "Message too long");
	RUN(&r, "message_reader", dev, "3");
	expect_ok(&r, max);
	/* no message */
	RUN(&r, "message_reader", dev, "4");
	expect_fail(&r, strerror(EWOULDBLOCK));
	/* no device */
	RUN(&r, "message_sender", "/tmp/kt-no-such-node", "1", "x");
	expect_fail(&r, "No such file or directory");
	RUN(&r, "message_reader", "/tmp/kt-no-such-node", "1");
	expect_fail(&r, "No such file or directory");
	/* not a message slot */
	RUN(&r, "message_sender", "/dev/null", "1", "x");
	expect_fail(&r, strerror(ENOTTY));
}

static void test_usage(void **state)
{
	const char *dev = kt_slot_path(0);
	struct result r;

	(void)state;
	RUN(&r, "message_sender");
	expect_fail(&r, "usage");
	RUN(&r, "message_sender", dev);
	expect_fail(&r, "usage");
	RUN(&r, "message_sender", dev, "1");
	expect_fail(&r, "usage");
	RUN(&r, "message_sender", dev, "1", "1", "x", "extra");
	expect_fail(&r, "usage");
	RUN(&r, "message_reader");
	expect_fail(&r, "usage");
	RUN(&r, "message_reader", dev);
	expect_fail(&r, "usage");
	RUN(&r, "message_reader", dev, "1", "x");
	expect_fail(&r, "usage");
}

/* The reader copies binary messages (NUL bytes included) unchanged. */
static void test_reader_binary(void **state)
{
	static const char msg[] = "\0bin\0ary\xff\x80\0";
	struct result r;
	int fd = kt_slot_open_chan(3, 42);

	(void)state;
	kt_slot_put(fd, msg, sizeof(msg));
	close(fd);
	RUN(&r, "message_reader", kt_slot_path(3), "42");
	assert_int_equal(r.status, 0);
	assert_int_equal(r.outlen, sizeof(msg));
	assert_memory_equal(r.out, msg, sizeof(msg));
}

/* The tools work with the slot's other files and persistence. */
static void test_with_open_files(void **state)
{
	struct result r;
	int fd = kt_slot_open_chan(4, 9);

	(void)state;
	RUN(&r, "message_sender", kt_slot_path(4), "9", "from the tool");
	expect_ok(&r, "");
	kt_slot_expect_str(fd, "from the tool");
	kt_slot_put_str(fd, "from the test");
	RUN(&r, "message_reader", kt_slot_path(4), "9");
	expect_ok(&r, "from the test");
	close(fd);
}

static int use64(void **state)
{
	(void)state;
	variant = "";
	return 0;
}

/*
 * The 32-bit build: an i386 ELF, and a kernel that runs it (Debian's have
 * CONFIG_IA32_EMULATION; a kernel without it fails execve with ENOEXEC).
 */
static int use32(void **state)
{
	unsigned char e[5];
	int fd = open(BIN "message_sender32", O_RDONLY);

	(void)state;
	variant = "32";
	if (fd < 0 || read(fd, e, 5) != 5 || memcmp(e, "\177ELF", 4) ||
	    e[4] != 1) {
		printf("# " BIN "message_sender32 is not a 32-bit ELF\n");
		return -1;
	}
	close(fd);
	return 0;
}

/* The kernel runs i386 programs (else the 32-bit cases are skipped). */
static void skip_without_ia32(void)
{
	struct result r;

	RUN(&r, "message_reader");
	if (r.status == 127) {
		printf("# this kernel cannot run i386 programs (no CONFIG_IA32_EMULATION)\n");
		skip();
	}
}

#define BOTH(t) cmocka_unit_test_setup(t, use64), \
		cmocka_unit_test_setup(t##32, use32)
#define WRAP32(t) static void t##32(void **state) \
		{ skip_without_ia32(); t(state); }
WRAP32(test_exchange)
WRAP32(test_censor_form)
WRAP32(test_errors)
WRAP32(test_usage)
WRAP32(test_reader_binary)
WRAP32(test_with_open_files)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_exchange),
		BOTH(test_censor_form),
		BOTH(test_errors),
		BOTH(test_usage),
		BOTH(test_reader_binary),
		BOTH(test_with_open_files),
	};

	return kt_run_group(tests, kt_slot_setup, kt_slot_teardown);
}
