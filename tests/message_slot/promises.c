// SPDX-License-Identifier: GPL-2.0
/*
 * message_slot/promises - behaviour docs/message_slot.md promises that the
 * other tests take for granted: a blocking read really waits (the reader is
 * seen asleep in read(2) in /proc before anything is written); the "last
 * message read" mark belongs to the open file, so dup and fork copies share
 * it; a read that fails with EFAULT marks nothing; what a blocked reader
 * does when another thread switches the file's channel; and the nodes=
 * parameter makes 0600 root nodes that other users cannot open.
 */
#include "lib/kt.h"
#include "lib/kt_slot.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Field 3 (state) of /proc/<TID>/stat: 'R', 'S', ...; 0 if unreadable. */
static char task_state(pid_t tid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", getpid(), tid);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		snprintf(path, sizeof(path), "/proc/%d/stat", tid);
		fd = open(path, O_RDONLY);
	}
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');	/* the name may hold spaces and ')' */
	return p && p[1] == ' ' ? p[2] : 0;
}

/* First line of /proc/<TID>/FILE (syscall, wchan), or "" . */
static void task_file(pid_t tid, const char *file, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/%s", getpid(), tid,
		 file);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		snprintf(path, sizeof(path), "/proc/%d/%s", tid, file);
		fd = open(path, O_RDONLY);
	}
	buf[0] = '\0';
	if (fd < 0)
		return;
	n = read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/*
 * Wait (up to 20 s) until TID sleeps interruptibly inside read(2) on FD:
 * state 'S' and /proc/<TID>/syscall "0 0x<fd> ..." (x86-64 read is 0).
 */
static void wait_blocked_in_read(pid_t tid, int fd)
{
	char sc[256], want[32], wchan[128];
	int i;

	snprintf(want, sizeof(want), "%d 0x%x ", SYS_read, fd);
	for (i = 0; i < 20000; i++) {
		task_file(tid, "syscall", sc, sizeof(sc));
		if (task_state(tid) == 'S' && !strncmp(sc, want, strlen(want))) {
			task_file(tid, "wchan", wchan, sizeof(wchan));
			printf("# reader %d asleep in read(%d): wchan %s\n", tid,
			       fd, wchan[0] ? wchan : "?");
			return;
		}
		usleep(1000);
	}
	fail_msg("reader %d never slept in read(%d): state %c, syscall '%s'",
		 tid, fd, task_state(tid), sc);
}

/* Is FD readable within MS milliseconds? */
static bool readable(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static void set_blocking(int fd, unsigned int on)
{
	assert_int_equal(ioctl(fd, MSG_SLOT_SET_BLOCKING, on), 0);
}

/* ---- a blocking read is blocked before the write ------------------------ */

static void test_blocking_read_sleeps(void **state)
{
	int res[2], fd, st;
	char buf[64];
	pid_t pid;
	ssize_t n;

	(void)state;
	assert_int_equal(pipe(res), 0);
	fd = kt_slot_open_chan(0, 77);
	set_blocking(fd, 1);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		n = read(fd, buf, sizeof(buf));
		if (n > 0 && write(res[1], buf, n) != n)
			_exit(2);
		_exit(n > 0 ? 0 : 1);
	}
	close(res[1]);
	wait_blocked_in_read(pid, fd);
	assert_false(readable(res[0], 0));	/* it has not returned */
	{
		int w = kt_slot_open_chan(0, 77);

		kt_slot_put_str(w, "wake up");
		close(w);
	}
	n = read(res[0], buf, sizeof(buf));
	assert_int_equal(n, 7);
	assert_memory_equal(buf, "wake up", 7);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(res[0]);
	close(fd);
}

/* ---- the read mark belongs to the open file ----------------------------- */

/* With blocking on and O_NONBLOCK: EAGAIN means "already read". */
static void test_marks_shared_by_dup_and_fork(void **state)
{
	int fd = kt_slot_open_chan(1, 5), other = kt_slot_open_chan(1, 5), d, st;
	char buf[64];
	pid_t pid;

	(void)state;
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(fcntl(other, F_SETFL, O_NONBLOCK), 0);
	set_blocking(fd, 1);
	set_blocking(other, 1);
	kt_slot_put_str(fd, "once");
	d = dup(fd);
	assert_true(d >= 0);
	assert_true(readable(d, 0));
	kt_slot_expect_str(fd, "once");
	/* the dup is the same file: the message is read there too */
	assert_int_equal(kt_err(read(d, buf, sizeof(buf))), -EAGAIN);
	assert_false(readable(d, 0));
	/* a fork copy too */
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(read(fd, buf, sizeof(buf)) == -1 && errno == EAGAIN ? 0 :
		      1);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* another open file has its own mark */
	kt_slot_expect_str(other, "once");
	/* a read in the fork child marks the parent's file */
	kt_slot_put_str(other, "twice");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(read(d, buf, sizeof(buf)) == 5 ? 0 : 1);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(kt_err(read(fd, buf, sizeof(buf))), -EAGAIN);
	assert_false(readable(fd, 0));
	close(d);
	close(fd);
	close(other);
}

/* ---- a failed read marks nothing --------------------------------------- */

static void test_efault_read_leaves_unread(void **state)
{
	int fd = kt_slot_open_chan(2, 9);
	char *volatile bad = NULL;
	char buf[64];

	(void)state;
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	set_blocking(fd, 1);
	kt_slot_put_str(fd, "keep me");
	assert_int_equal(kt_err(read(fd, bad, sizeof(buf))), -EFAULT);
	assert_true(readable(fd, 0));
	/* a short buffer (ENOSPC) marks nothing either */
	assert_int_equal(kt_err(read(fd, buf, 3)), -ENOSPC);
	assert_true(readable(fd, 0));
	kt_slot_expect_str(fd, "keep me");
	assert_false(readable(fd, 0));
	assert_int_equal(kt_err(read(fd, buf, sizeof(buf))), -EAGAIN);
	close(fd);
}

/* ---- switching the channel under a blocked reader ----------------------- */

struct reader {
	int fd;
	pid_t tid;
	int res[2];
};

static void *reader_thread(void *arg)
{
	struct reader *r = arg;
	char buf[MSG_SLOT_MAX_MSG_LEN];
	ssize_t n;

	r->tid = (pid_t)syscall(SYS_gettid);
	n = read(r->fd, buf, sizeof(buf));
	if (n < 0) {
		n = snprintf(buf, sizeof(buf), "errno %d", errno);
	}
	if (write(r->res[1], buf, n) != n)
		abort();
	return NULL;
}

/*
 * Documented (docs/message_slot.md, "Switching channel"): selecting
 * another channel wakes the file's waiters, which then wait for the new
 * channel only: a message on the old channel leaves the read asleep, the
 * next one on the new channel ends it with that message (and marks it
 * read for the file).
 */
static void test_channel_switch_under_blocked_reader(void **state)
{
	struct reader r = { .tid = 0 };
	int w1 = kt_slot_open_chan(3, 1), w2 = kt_slot_open_chan(3, 2);
	char buf[MSG_SLOT_MAX_MSG_LEN];
	pthread_t t;
	ssize_t n;

	(void)state;
	assert_int_equal(pipe(r.res), 0);
	r.fd = kt_slot_open_chan(3, 1);
	set_blocking(r.fd, 1);
	assert_int_equal(pthread_create(&t, NULL, reader_thread, &r), 0);
	while (!__atomic_load_n(&r.tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	wait_blocked_in_read(r.tid, r.fd);
	kt_slot_chan(r.fd, 2);			/* another thread switches */
	wait_blocked_in_read(r.tid, r.fd);	/* back asleep, on channel 2 */
	kt_slot_put_str(w1, "one");
	/* a message on the old channel does not end the read ... */
	assert_false(readable(r.res[0], 300));
	wait_blocked_in_read(r.tid, r.fd);
	/* ... one on the new channel does, with that message */
	kt_slot_put_str(w2, "two");
	n = read(r.res[0], buf, sizeof(buf));
	assert_int_equal(n, 3);
	assert_memory_equal(buf, "two", 3);
	assert_int_equal(pthread_join(t, NULL), 0);
	/* and it counts as read on the file's channel 2 */
	assert_false(readable(r.fd, 0));
	kt_slot_chan(r.fd, 1);	/* the old channel's message: unread there */
	assert_true(readable(r.fd, 0));
	kt_slot_expect_str(r.fd, "one");
	close(r.res[0]);
	close(r.res[1]);
	close(r.fd);
	close(w1);
	close(w2);
}

/* ---- nodes= ------------------------------------------------------------- */

static void open_as_user(void *arg)
{
	const char *path = arg;
	int fd = open(path, O_RDWR);

	if (fd >= 0)
		_exit(1);
	if (errno != EACCES)
		_exit(2);
	fd = open(path, O_RDONLY);
	if (fd >= 0)
		_exit(3);
	_exit(errno == EACCES ? 0 : 4);
}

static void test_nodes_are_0600(void **state)
{
	static const char *const paths[] = {
		"/dev/message_slot0", "/dev/message_slot1",
	};
	struct stat st;
	size_t i;
	int fd;

	(void)state;
	kt_unload_if_loaded("message_slot");
	assert_int_equal(kt_load("message_slot", "nodes=2"), 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(stat(paths[i], &st), 0);
		assert_true(S_ISCHR(st.st_mode));
		assert_int_equal(st.st_mode & 07777, 0600);
		assert_int_equal(st.st_uid, 0);
		assert_int_equal(st.st_gid, 0);
		assert_int_equal(kt_as_user(1000, 1000, open_as_user,
					    (void *)paths[i]), 0);
		/* root opens it and it is a slot */
		fd = open(paths[i], O_RDWR);
		assert_true(fd >= 0);
		kt_slot_chan(fd, 3);
		kt_slot_put_str(fd, "root");
		kt_slot_expect_str(fd, "root");
		close(fd);
	}
	assert_int_equal(stat("/dev/message_slot2", &st), -1);
	assert_int_equal(kt_unload("message_slot"), 0);
	assert_int_equal(stat(paths[0], &st), -1);
	assert_int_equal(kt_slot_load(NULL), 0);	/* for the teardown */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocking_read_sleeps),
		cmocka_unit_test(test_marks_shared_by_dup_and_fork),
		cmocka_unit_test(test_efault_read_leaves_unread),
		cmocka_unit_test(test_channel_switch_under_blocked_reader),
		cmocka_unit_test(test_nodes_are_0600),
	};

	return kt_run_group(tests, kt_slot_setup, kt_slot_teardown);
}
