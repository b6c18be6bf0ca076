// SPDX-License-Identifier: GPL-2.0
/*
 * chan/locales - <kipc/chan.h> between unrelated programs in a guest, in
 * the locales that need kipc's modules or another program: a myshm buffer,
 * a kshm object, a memfd inherited across exec, POSIX shm by name.  Two
 * kipc-chan(1) processes (or this test and one) pipe 2 MiB of random bytes
 * through each; the copy must be byte-exact.  Also: the myshm and kshm
 * locales' own errors.  A sender program killed mid-stream in each
 * (myshm, kshm, memfd): its receiver ends with EOWNERDEAD within 2 s.
 */
#include "lib/kt.h"
#include "lib/kt_kshm.h"
#include "chan/progs.h"

#include <kipc/chan.h>
#include <kipc/myshm.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IN "/tmp/chan-in"
#define OUT "/tmp/chan-out"
#define BYTES (2u << 20)

static int setup(void **state)
{
	(void)state;
	if (make_input(IN, BYTES, 12345))
		return -1;
	kt_unload_if_loaded("myshm");
	kt_unload_if_loaded("kshm");
	if (kt_load("myshm", "buffers=chan:8M"))
		return -1;
	return kt_load("kshm", NULL) ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(IN);
	unlink(OUT);
	/* kt_kshm_unload(): libkipc keeps /dev/kshm open once used */
	return kt_unload("myshm") || kt_kshm_unload() ? -1 : 0;
}

static void zero_myshm(void)
{
	int fd = open("/dev/chan", O_RDWR);
	void *p;

	assert_true(fd >= 0);
	p = mmap(NULL, 8u << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	memset(p, 0, 8u << 20);
	munmap(p, 8u << 20);
	close(fd);
}

static int64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * Start ARGV (a kipc-chan sender) reading from a pipe, feed it one
 * 4000-byte message and keep the pipe open: it waits on its input,
 * holding a loan.  *FEED gets the pipe's write end.
 */
static pid_t blocked_sender(char *const argv[], int *feed)
{
	static char msg[4000];
	int p[2];
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		if (dup2(p[0], 0) < 0)
			_exit(120);
		execv(argv[0], argv);
		_exit(122);
	}
	assert_true(pid > 0);
	close(p[0]);
	memset(msg, 'k', sizeof(msg));
	assert_int_equal(write(p[1], msg, sizeof(msg)), sizeof(msg));
	*feed = p[1];
	return pid;
}

/*
 * Are dead peers judged here?  Not on kernels without pid namespaces (the
 * tinyconfig debug kernels): the library never judges a peer there
 * (docs/chan.md "Peers that die").
 */
static bool judged(void)
{
	if (!access("/proc/self/ns/pid", F_OK))
		return true;
	printf("# no /proc/self/ns/pid: killed peers not checked here\n");
	return false;
}

/* Wait up to 20 s for PATH to hold BYTES bytes. */
static void wait_size(const char *path, off_t bytes)
{
	struct stat st;

	for (int i = 0; i < 2000; i++) {
		if (!stat(path, &st) && st.st_size >= bytes)
			return;
		usleep(10000);
	}
	fail_msg("%s: not %lld bytes after 20 s", path, (long long)bytes);
}

/*
 * Two programs on WHERE: the sender is killed (SIGKILL) after its first
 * message arrived; the receiver must exit 1 ("the sender died",
 * EOWNERDEAD) within 2 s.
 */
static void killed_sender(const char *where)
{
	char *rx[] = { TOOL, "-c", "-S", "4000", "-n", "16", "recv",
		       (char *)where, NULL };
	char *tx[] = { TOOL, "-w", "20000", "send", (char *)where, NULL };
	int64_t t0;
	pid_t r, s;
	int feed;

	if (!judged())
		return;
	unlink(OUT);
	r = spawn(rx, NULL, OUT);
	assert_true(r > 0);
	s = blocked_sender(tx, &feed);
	wait_size(OUT, 4000);
	kill(s, SIGKILL);
	t0 = ms_now();
	assert_int_equal(status_of(s), 1000 + SIGKILL);
	assert_int_equal(status_of(r), 1);
	printf("# %s: the receiver ended %lld ms after the kill\n", where,
	       (long long)(ms_now() - t0));
	assert_true(ms_now() - t0 < SLACK_MS);
	close(feed);
}

static void myshm_programs(void **state)
{
	(void)state;
	zero_myshm();
	pipe_through("myshm:/dev/chan", IN, OUT, BYTES);
	zero_myshm();
	pipe_through("myshm:/dev/chan@4096", IN, OUT, BYTES);
	zero_myshm();
	killed_sender("myshm:/dev/chan");
}

static void myshm_errors(void **state)
{
	struct kipc_chan_attr a;
	struct kipc_chan *tx, *rx;
	char buf[16];

	(void)state;
	kipc_chan_attr_init(&a);
	zero_myshm();
	errno = 0;
	assert_null(kipc_chan_open("myshm:/dev/chan", KIPC_CHAN_RECV));
	assert_int_equal(errno, EAGAIN);	/* zeroed: no channel yet */
	assert_null(kipc_chan_open("myshm:/dev/chan@100", KIPC_CHAN_RECV));
	assert_int_equal(errno, EINVAL);	/* not page aligned */
	assert_null(kipc_chan_open("myshm:/dev/chan@8388608", KIPC_CHAN_RECV));
	assert_int_equal(errno, ENOSPC);	/* past the end */
	assert_null(kipc_chan_open("myshm:/dev/null", KIPC_CHAN_RECV));
	assert_int_equal(errno, EINVAL);	/* not a myshm device */
	assert_null(kipc_chan_open("myshm:/dev/nonexistent", KIPC_CHAN_RECV));
	assert_int_equal(errno, ENOENT);
	a.slot_size = 1 << 20;
	a.slot_count = 16;			/* 16 MiB: does not fit in 8 */
	assert_null(kipc_chan_create("myshm:/dev/chan", &a, KIPC_CHAN_SEND));
	assert_int_equal(errno, ENOSPC);
	kipc_chan_attr_init(&a);
	tx = kipc_chan_create("myshm:/dev/chan@1048576", &a, KIPC_CHAN_SEND);
	assert_non_null(tx);
	rx = kipc_chan_open("myshm:/dev/chan@1048576", KIPC_CHAN_RECV);
	assert_non_null(rx);
	assert_int_equal(kipc_chan_send(tx, "dev", 3, 0), 0);
	assert_int_equal(kipc_chan_recv(rx, buf, sizeof(buf), 1000), 3);
	assert_memory_equal(buf, "dev", 3);
	kipc_chan_close(tx);
	kipc_chan_close(rx);
}

static void kshm_programs(void **state)
{
	struct kipc_chan_attr a;

	(void)state;
	pipe_through("kshm:chan-test", IN, OUT, BYTES);
	/* the object went with its last user */
	errno = 0;
	assert_null(kipc_chan_open("kshm:chan-test", KIPC_CHAN_RECV));
	assert_int_equal(errno, ENOENT);
	kipc_chan_attr_init(&a);
	{
		struct kipc_chan *tx = kipc_chan_create("kshm:chan-x", &a,
							KIPC_CHAN_SEND);

		assert_non_null(tx);
		assert_null(kipc_chan_create("kshm:chan-x", &a, KIPC_CHAN_SEND));
		assert_int_equal(errno, EEXIST);
		kipc_chan_close(tx);
	}
	killed_sender("kshm:chan-dead");
}

static void shm_programs(void **state)
{
	(void)state;
	shm_unlink("/chan-test");
	pipe_through("shm:/chan-test", IN, OUT, BYTES);
	assert_int_equal(kipc_chan_unlink("shm:/chan-test"), 0);
}

/* A memfd channel this test creates, inherited by an exec'd sender. */
static void memfd_exec(void **state)
{
	struct kipc_chan_attr a;
	struct kipc_chan *rx;
	char where[32], *tx[] = { TOOL, "send", where, NULL };
	static char buf[4096];
	int fd, out;
	pid_t s;
	ssize_t n;

	(void)state;
	kipc_chan_attr_init(&a);
	a.slot_size = 4096;
	rx = kipc_chan_create("memfd:chan-test", &a, KIPC_CHAN_RECV);
	assert_non_null(rx);
	fd = kipc_chan_fd(rx);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_SETFD, 0), 0);	/* inherit it */
	snprintf(where, sizeof(where), "fd:%d", fd);
	s = spawn(tx, IN, NULL);
	assert_true(s > 0);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	out = open(OUT, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(out >= 0);
	/* (its end of input goes out as one 0-byte message) */
	while ((n = kipc_chan_recv(rx, buf, sizeof(buf), 20000)) >= 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	assert_int_equal(n, -1);
	assert_int_equal(errno, EPIPE);
	close(out);
	assert_int_equal(status_of(s), 0);
	assert_true(same_files(IN, OUT, BYTES));
	kipc_chan_close(rx);
}

/* The exec'd sender over an inherited memfd, killed: EOWNERDEAD here. */
static void memfd_killed(void **state)
{
	struct kipc_chan_attr a;
	struct kipc_chan *rx;
	char where[32], *tx[] = { TOOL, "send", where, NULL };
	static char buf[4096];
	int64_t t0;
	int fd, feed;
	pid_t s;

	(void)state;
	if (!judged())
		skip();
	kipc_chan_attr_init(&a);
	a.slot_size = 4000;	/* one message fills a slot: no waiting for more */
	rx = kipc_chan_create("memfd:chan-dead", &a, KIPC_CHAN_RECV);
	assert_non_null(rx);
	fd = kipc_chan_fd(rx);
	assert_int_equal(fcntl(fd, F_SETFD, 0), 0);
	snprintf(where, sizeof(where), "fd:%d", fd);
	s = blocked_sender(tx, &feed);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	assert_int_equal(kipc_chan_recv(rx, buf, sizeof(buf), 20000), 4000);
	kill(s, SIGKILL);
	t0 = ms_now();
	assert_int_equal(status_of(s), 1000 + SIGKILL);
	assert_int_equal(kipc_chan_recv(rx, buf, sizeof(buf), 10000), -1);
	assert_int_equal(errno, EOWNERDEAD);
	printf("# memfd: EOWNERDEAD %lld ms after the kill\n",
	       (long long)(ms_now() - t0));
	assert_true(ms_now() - t0 < SLACK_MS);
	close(feed);
	kipc_chan_close(rx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(myshm_programs),
		cmocka_unit_test(myshm_errors),
		cmocka_unit_test(kshm_programs),
		cmocka_unit_test(shm_programs),
		cmocka_unit_test(memfd_exec),
		cmocka_unit_test(memfd_killed),
	};

	return kt_run_group(tests, setup, teardown);
}
