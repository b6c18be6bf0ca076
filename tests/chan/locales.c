// SPDX-License-Identifier: GPL-2.0
/*
 * chan/locales - <kipc/chan.h> between unrelated programs in a guest, in
 * the locales that need kipc's modules or another program: a myshm buffer,
 * a kshm object, a memfd inherited across exec, POSIX shm by name.  Two
 * kipc-chan(1) processes (or this test and one) pipe 2 MiB of random bytes
 * through each; the copy must be byte-exact.  Also: the myshm and kshm
 * locales' own errors.  (Dead peers: host/chan_dead.)
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

static void myshm_programs(void **state)
{
	(void)state;
	zero_myshm();
	pipe_through("myshm:/dev/chan", IN, OUT, BYTES);
	zero_myshm();
	pipe_through("myshm:/dev/chan@4096", IN, OUT, BYTES);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(myshm_programs),
		cmocka_unit_test(myshm_errors),
		cmocka_unit_test(kshm_programs),
		cmocka_unit_test(shm_programs),
		cmocka_unit_test(memfd_exec),
	};

	return kt_run_group(tests, setup, teardown);
}
