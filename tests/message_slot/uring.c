// SPDX-License-Identifier: GPL-2.0
/*
 * message_slot/uring - message slots through io_uring (liburing): every
 * errno of the read/write contract through IORING_OP_READ, WRITE, READV and
 * WRITEV compared with the system calls, readv/writev messages as the
 * concatenation of their iovecs, faults part way through a buffer, batches
 * over mixed channels and minors, inline issue (no io-wq worker thread is
 * ever created), a blocking-mode read that completes when another process
 * writes, IORING_OP_POLL_ADD, IORING_OP_ASYNC_CANCEL of a pending read, ring
 * teardown with requests pending, and unload refused while a request holds
 * a file.
 */
#include "lib/kt.h"
#include "lib/kt_slot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <liburing.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static struct io_uring ring;
/* NULL that the compiler cannot see (read(2) is declared nonnull) */
static void *volatile nullp;

/* io-wq worker threads of this process (named "iou-wrk-<pid>"). */
static int iou_workers(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	char path[300], comm[32];
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
			 e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;	/* exited meanwhile */
		if (fgets(comm, sizeof(comm), f) &&
		    !strncmp(comm, "iou-wrk", 7))
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

static struct io_uring_sqe *sqe_get(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	assert_non_null(sqe);
	return sqe;
}

/* Submit what is queued; wait for one completion: its result and data. */
static int complete(unsigned long long *data, int timeout_ms)
{
	struct __kernel_timespec ts = {
		.tv_sec = timeout_ms / 1000,
		.tv_nsec = (timeout_ms % 1000) * 1000000L,
	};
	struct io_uring_cqe *cqe;
	int r;

	io_uring_submit(&ring);
	r = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
	if (r == -ETIME)
		return INT_MIN;		/* nothing completed */
	assert_int_equal(r, 0);
	r = cqe->res;
	if (data)
		*data = cqe->user_data;
	io_uring_cqe_seen(&ring, cqe);
	return r;
}

/* One request's result (it must complete within 5 s). */
static int run1(void)
{
	int r = complete(NULL, 5000);

	assert_int_not_equal(r, INT_MIN);
	return r;
}

static int ur_write(int fd, const void *buf, size_t n)
{
	io_uring_prep_write(sqe_get(), fd, buf, n, 0);
	return run1();
}

static int ur_read(int fd, void *buf, size_t n)
{
	io_uring_prep_read(sqe_get(), fd, buf, n, 0);
	return run1();
}

/* A read with RWF_NOWAIT: never waits, -EAGAIN is final. */
static int ur_read_nowait(int fd, void *buf, size_t n)
{
	struct io_uring_sqe *sqe = sqe_get();

	io_uring_prep_read(sqe, fd, buf, n, 0);
	sqe->rw_flags = RWF_NOWAIT;
	return run1();
}

static int ur_writev(int fd, const struct iovec *iov, int n)
{
	io_uring_prep_writev(sqe_get(), fd, iov, n, 0);
	return run1();
}

static int ur_readv(int fd, const struct iovec *iov, int n)
{
	io_uring_prep_readv(sqe_get(), fd, iov, n, 0);
	return run1();
}

/* Nothing has completed within MS milliseconds. */
static void assert_pending(int ms)
{
	struct io_uring_cqe *cqe;

	io_uring_submit(&ring);
	usleep(ms * 1000);
	assert_int_equal(io_uring_peek_cqe(&ring, &cqe), -EAGAIN);
}

/* The kernel has io_uring (Debian's and the debug kernel do). */
static bool have_uring;

static int ring_setup(void **state)
{
	(void)state;
	if (!have_uring)
		return 0;
	return io_uring_queue_init(64, &ring, 0) ? -1 : 0;
}

static int ring_teardown(void **state)
{
	(void)state;
	if (have_uring)
		io_uring_queue_exit(&ring);
	return 0;
}

/* Every case starts here: skipped, with the reason, without io_uring. */
static void need_uring(void)
{
	if (!have_uring) {
		printf("# skip: this kernel has no io_uring (CONFIG_IO_URING=n)\n");
		skip();
	}
}

/* A page that faults after N valid bytes: returns the start of them. */
static char *edge(size_t n, void **map)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	assert_int_equal(mprotect(p + pg, pg, PROT_NONE), 0);
	memset(p, 'v', pg);
	*map = p;
	return p + pg - n;
}

static void unmap(void *map)
{
	munmap(map, 2 * sysconf(_SC_PAGESIZE));
}

static void set_param(const char *name, const char *val)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/message_slot/parameters/%s",
		 name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(val, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

/* Every write errno, in order, as the system calls give them. */
static void test_write_errnos(void **state)
{
	int fd = kt_slot_open(0, 0);
	char big[200], buf[16];
	struct iovec iov[3];
	void *map;
	char *e;

	(void)state;
	memset(big, 'x', sizeof(big));
	/* no channel first: before the size and the buffer */
	assert_int_equal(ur_write(fd, "hi", 2), -EINVAL);
	assert_int_equal(ur_write(fd, NULL, 0), -EINVAL);
	assert_int_equal(ur_write(fd, NULL, 500), -EINVAL);
	iov[0] = (struct iovec){ big, 1 };
	assert_int_equal(ur_writev(fd, iov, 1), -EINVAL);
	assert_int_equal(kt_err(write(fd, "hi", 2)), -EINVAL);

	kt_slot_chan(fd, 7);
	/* the size before the buffer; a writev's size is its total */
	assert_int_equal(ur_write(fd, big, 0), -EMSGSIZE);
	assert_int_equal(ur_write(fd, big, 129), -EMSGSIZE);
	assert_int_equal(ur_write(fd, NULL, 129), -EMSGSIZE);
	assert_int_equal(kt_err(write(fd, big, 129)), -EMSGSIZE);
	iov[0] = (struct iovec){ big, 100 };
	iov[1] = (struct iovec){ big, 29 };
	assert_int_equal(ur_writev(fd, iov, 2), -EMSGSIZE);
	assert_int_equal(kt_err(writev(fd, iov, 2)), -EMSGSIZE);
	iov[1] = (struct iovec){ NULL, 29 };
	assert_int_equal(ur_writev(fd, iov, 2), -EMSGSIZE);
	iov[0] = (struct iovec){ big, 0 };
	iov[1] = (struct iovec){ NULL, 0 };
	assert_int_equal(ur_writev(fd, iov, 2), -EMSGSIZE);
	/* (writev(2) itself returns 0 for a total of 0: the VFS's shortcut) */
	assert_int_equal(writev(fd, iov, 2), 0);

	assert_int_equal(ur_write(fd, "old message", 11), 11);
	/* an unreadable buffer, all of it or part way: EFAULT, nothing kept */
	assert_int_equal(ur_write(fd, NULL, 5), -EFAULT);
	e = edge(10, &map);
	assert_int_equal(ur_write(fd, e, 20), -EFAULT);
	assert_int_equal(kt_err(write(fd, e, 20)), -EFAULT);
	iov[0] = (struct iovec){ "abc", 3 };
	iov[1] = (struct iovec){ e, 20 };
	assert_int_equal(ur_writev(fd, iov, 2), -EFAULT);
	assert_int_equal(kt_err(writev(fd, iov, 2)), -EFAULT);
	iov[1] = (struct iovec){ NULL, 4 };
	assert_int_equal(ur_writev(fd, iov, 2), -EFAULT);
	assert_int_equal(ur_read(fd, buf, sizeof(buf)), 11);
	assert_memory_equal(buf, "old message", 11);
	/* the 10 readable bytes alone are a fine message */
	assert_int_equal(ur_write(fd, e, 10), 10);
	kt_slot_expect(fd, "vvvvvvvvvv", 10);
	unmap(map);
	kt_slot_expect_stats(0, 1, 10);

	/* ENOSPC: a cap, through io_uring as through write(2) */
	set_param("max_channels", "1");
	kt_slot_chan(fd, 8);
	assert_int_equal(ur_write(fd, "new", 3), -ENOSPC);
	assert_int_equal(kt_err(write(fd, "new", 3)), -ENOSPC);
	iov[0] = (struct iovec){ "ne", 2 };
	iov[1] = (struct iovec){ "w", 1 };
	assert_int_equal(ur_writev(fd, iov, 2), -ENOSPC);
	set_param("max_channels", "1048576");
	kt_slot_expect_stats(0, 1, 10);
	close(fd);
}

/* A writev's message is its iovecs concatenated; 128 in all is the most. */
static void test_vectors(void **state)
{
	int fd = kt_slot_open_chan(0, 9), i;
	char big[128], out[128], a[64], b[64];
	struct iovec iov[4];

	(void)state;
	for (i = 0; i < 128; i++)
		big[i] = (char)i;
	iov[0] = (struct iovec){ big, 64 };
	iov[1] = (struct iovec){ big + 64, 0 };
	iov[2] = (struct iovec){ big + 64, 64 };
	assert_int_equal(ur_writev(fd, iov, 3), 128);
	kt_slot_expect(fd, big, 128);
	/* readv scatters the message over its iovecs in order */
	iov[0] = (struct iovec){ a, 64 };
	iov[1] = (struct iovec){ b, 64 };
	memset(a, 0, 64);
	memset(b, 0, 64);
	assert_int_equal(ur_readv(fd, iov, 2), 128);
	assert_memory_equal(a, big, 64);
	assert_memory_equal(b, big + 64, 64);
	/* the size is the total: 127 bytes of room is ENOSPC */
	iov[1].iov_len = 63;
	assert_int_equal(ur_readv(fd, iov, 2), -ENOSPC);
	assert_int_equal(kt_err(readv(fd, iov, 2)), -ENOSPC);
	/* a short message fills the first iovec only */
	assert_int_equal(ur_write(fd, "short", 5), 5);
	assert_int_equal(ur_readv(fd, iov, 2), 5);
	assert_memory_equal(a, "short", 5);
	/* writev(2) makes the same single message */
	iov[0] = (struct iovec){ "one,", 4 };
	iov[1] = (struct iovec){ "two", 3 };
	assert_int_equal(writev(fd, iov, 2), 7);
	assert_int_equal(ur_read(fd, out, sizeof(out)), 7);
	assert_memory_equal(out, "one,two", 7);
	/* censorship counts offsets over the whole message */
	assert_int_equal(ioctl(fd, MSG_SLOT_SET_CEN, 1), 0);
	iov[0] = (struct iovec){ "abc", 3 };
	iov[1] = (struct iovec){ "defgh", 5 };
	assert_int_equal(ur_writev(fd, iov, 2), 8);
	kt_slot_expect(fd, "abc#efg#", 8);
	close(fd);
}

/* Every read errno, in order; a failed read marks nothing read. */
static void test_read_errnos(void **state)
{
	int fd = kt_slot_open(0, 0), w = kt_slot_open_chan(0, 11);
	char buf[128], small[4];
	struct iovec iov[2];
	struct pollfd p;
	void *map;
	char *e;

	(void)state;
	assert_int_equal(ur_read(fd, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(ur_read(fd, NULL, 0), -EINVAL);
	iov[0] = (struct iovec){ buf, 10 };
	assert_int_equal(ur_readv(fd, iov, 1), -EINVAL);
	kt_slot_chan(fd, 11);
	/* empty channel: EWOULDBLOCK before the size and the buffer */
	assert_int_equal(ur_read_nowait(fd, buf, sizeof(buf)), -EWOULDBLOCK);
	assert_int_equal(ur_read_nowait(fd, NULL, 0), -EWOULDBLOCK);
	assert_int_equal(ur_read_nowait(fd, NULL, 100), -EWOULDBLOCK);
	assert_int_equal(kt_err(read(fd, nullp, 100)), -EWOULDBLOCK);

	kt_slot_put_str(w, "0123456789");
	/* too small before the buffer */
	assert_int_equal(ur_read(fd, small, sizeof(small)), -ENOSPC);
	assert_int_equal(ur_read(fd, NULL, 9), -ENOSPC);
	assert_int_equal(kt_err(read(fd, small, sizeof(small))), -ENOSPC);
	/* unwritable, wholly or part way: EFAULT, and still unread */
	assert_int_equal(ur_read(fd, NULL, 10), -EFAULT);
	e = edge(5, &map);
	assert_int_equal(ur_read(fd, e, 10), -EFAULT);
	assert_int_equal(kt_err(read(fd, e, 10)), -EFAULT);
	iov[0] = (struct iovec){ buf, 3 };
	iov[1] = (struct iovec){ e, 10 };
	assert_int_equal(ur_readv(fd, iov, 2), -EFAULT);
	unmap(map);
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 0), 1);
	/* a good read returns it and marks it read (poll agrees) */
	assert_int_equal(ur_read(fd, buf, 10), 10);
	assert_memory_equal(buf, "0123456789", 10);
	assert_int_equal(poll(&p, 1, 0), 0);
	/* reading does not consume */
	assert_int_equal(ur_read(fd, buf, sizeof(buf)), 10);
	close(fd);
	close(w);
}

/*
 * Without RWF_NOWAIT, io_uring answers -EAGAIN (== EWOULDBLOCK) by waiting
 * through poll, as for any pollable file: a course-mode read on an empty
 * channel completes with the channel's first message.
 */
static void test_empty_waits(void **state)
{
	int fd = kt_slot_open_chan(0, 12), w = kt_slot_open_chan(0, 12);
	int o = kt_slot_open_chan(0, 13);
	unsigned long long data;
	char buf[32];

	(void)state;
	io_uring_prep_read(sqe_get(), fd, buf, sizeof(buf), 0);
	assert_pending(100);
	kt_slot_put_str(o, "other channel");
	assert_pending(100);
	kt_slot_put_str(w, "first");
	assert_int_equal(complete(&data, 5000), 5);
	assert_memory_equal(buf, "first", 5);
	assert_int_equal(iou_workers(), 0);
	close(fd);
	close(w);
	close(o);
}

/* Batches: 32 writes over mixed channels and minors, then 32 reads. */
static void test_batch(void **state)
{
	int fds[32], bad = kt_slot_open(4, 0), i, r, seen = 0;
	char msg[32][16], out[32][128];
	struct iovec iov[32][2];
	unsigned long long d;

	(void)state;
	for (i = 0; i < 32; i++)
		fds[i] = kt_slot_open_chan(2 + i % 2, 100 + i);
	for (i = 0; i < 32; i++) {
		struct io_uring_sqe *sqe = sqe_get();

		snprintf(msg[i], sizeof(msg[i]), "msg-%02d", i);
		if (i % 2) {
			iov[i][0] = (struct iovec){ msg[i], 4 };
			iov[i][1] = (struct iovec){ msg[i] + 4, 2 };
			io_uring_prep_writev(sqe, fds[i], iov[i], 2, 0);
		} else {
			io_uring_prep_write(sqe, fds[i], msg[i], 6, 0);
		}
		sqe->user_data = i;
	}
	/* failures in the same batch do not disturb the others */
	{
		struct io_uring_sqe *sqe = sqe_get();

		io_uring_prep_write(sqe, bad, "x", 1, 0);
		sqe->user_data = 1000;
	}
	assert_int_equal(io_uring_submit(&ring), 33);
	for (i = 0; i < 33; i++) {
		struct io_uring_cqe *cqe;

		assert_int_equal(io_uring_wait_cqe(&ring, &cqe), 0);
		d = cqe->user_data;
		r = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		if (d == 1000) {
			assert_int_equal(r, -EINVAL);
			seen |= 1;
			continue;
		}
		assert_true(d < 32);
		assert_int_equal(r, 6);
	}
	assert_int_equal(seen, 1);
	for (i = 0; i < 32; i++) {
		struct io_uring_sqe *sqe = sqe_get();

		if (i % 3 == 0) {
			iov[i][0] = (struct iovec){ out[i], 3 };
			iov[i][1] = (struct iovec){ out[i] + 3, 100 };
			io_uring_prep_readv(sqe, fds[i], iov[i], 2, 0);
		} else {
			io_uring_prep_read(sqe, fds[i], out[i], 128, 0);
		}
		sqe->user_data = i;
	}
	assert_int_equal(io_uring_submit(&ring), 32);
	for (i = 0; i < 32; i++) {
		struct io_uring_cqe *cqe;

		assert_int_equal(io_uring_wait_cqe(&ring, &cqe), 0);
		d = cqe->user_data;
		assert_int_equal(cqe->res, 6);
		io_uring_cqe_seen(&ring, cqe);
		assert_memory_equal(out[d], msg[d], 6);
	}
	/* each landed on its own channel and minor */
	for (i = 0; i < 32; i++) {
		kt_slot_expect(fds[i], msg[i], 6);
		close(fds[i]);
	}
	kt_slot_expect_stats(2, 16, 16 * 6);
	kt_slot_expect_stats(3, 16, 16 * 6);
	close(bad);
	assert_int_equal(iou_workers(), 0);
}

/* A child that submits one write with IOSQE_ASYNC: io-wq must start. */
static void child_async(void *arg)
{
	struct io_uring r;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	int fd = kt_slot_child_open_chan(0, 1), n;

	(void)arg;
	if (io_uring_queue_init(4, &r, 0))
		_exit(91);
	sqe = io_uring_get_sqe(&r);
	io_uring_prep_write(sqe, fd, "async", 5, 0);
	sqe->flags |= IOSQE_ASYNC;
	io_uring_submit(&r);
	if (io_uring_wait_cqe(&r, &cqe) || cqe->res != 5)
		_exit(92);
	n = iou_workers();
	_exit(n > 0 ? 0 : 93);
}

/*
 * Inline issue: hundreds of reads and writes of every kind, successful and
 * failing, create no io-wq worker (the check itself is shown to see one).
 */
static void test_inline(void **state)
{
	int fd = kt_slot_open_chan(0, 20), none = kt_slot_open(0, 0), i;
	char buf[128];
	struct iovec iov[2] = { { buf, 64 }, { buf + 64, 64 } };

	(void)state;
	assert_int_equal(iou_workers(), 0);
	for (i = 0; i < 200; i++) {
		assert_int_equal(ur_write(fd, "inline", 6), 6);
		assert_int_equal(ur_read(fd, buf, sizeof(buf)), 6);
		assert_int_equal(ur_writev(fd, iov, 2), 128);
		assert_int_equal(ur_readv(fd, iov, 2), 128);
		assert_int_equal(ur_write(none, "x", 1), -EINVAL);
		assert_int_equal(ur_read(fd, buf, 1), -ENOSPC);
		assert_int_equal(ur_write(fd, buf, 129), -EMSGSIZE);
	}
	assert_int_equal(iou_workers(), 0);
	assert_int_equal(kt_in_child(child_async, NULL), 0);
	close(fd);
	close(none);
}

struct later {
	unsigned int id;
	const char *msg;
	int delay_ms;
};

static void child_write_later(void *arg)
{
	struct later *l = arg;
	int fd = kt_slot_child_open_chan(0, l->id);

	usleep(l->delay_ms * 1000);
	if (write(fd, l->msg, strlen(l->msg)) != (ssize_t)strlen(l->msg))
		_exit(91);
}

/* Blocking mode: a read waits through poll until another process writes. */
static void test_blocking_later(void **state)
{
	int fd = kt_slot_open_chan(0, 30), nb, st;
	struct later l = { 30, "from the child", 400 };
	unsigned long long d;
	char buf[64];
	pid_t pid;

	(void)state;
	assert_int_equal(ioctl(fd, MSG_SLOT_SET_BLOCKING, 1), 0);
	/* RWF_NOWAIT: EAGAIN at once, as read(2) with O_NONBLOCK */
	assert_int_equal(ur_read_nowait(fd, buf, sizeof(buf)), -EAGAIN);

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		child_write_later(&l);
		_exit(0);
	}
	io_uring_prep_read(sqe_get(), fd, buf, sizeof(buf), 0);
	assert_pending(150);
	assert_int_equal(iou_workers(), 0);
	assert_int_equal(complete(&d, 10000), 14);
	assert_memory_equal(buf, "from the child", 14);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* it was marked read: the next read waits for a newer message */
	{
		struct iovec iov[2] = { { buf, 4 }, { buf + 4, 60 } };

		io_uring_prep_readv(sqe_get(), fd, iov, 2, 0);
		assert_pending(100);
		nb = kt_slot_open_chan(0, 30);
		kt_slot_put_str(nb, "second one");
		assert_int_equal(complete(&d, 5000), 10);
		assert_memory_equal(buf, "second one", 10);
		close(nb);
	}
	/* ENOSPC after the wait, and the message stays unread */
	nb = kt_slot_open_chan(0, 30);
	io_uring_prep_read(sqe_get(), fd, buf, 3, 0);
	assert_pending(50);
	kt_slot_put_str(nb, "too long");
	assert_int_equal(complete(&d, 5000), -ENOSPC);
	assert_int_equal(ur_read(fd, buf, sizeof(buf)), 8);
	close(nb);
	assert_int_equal(iou_workers(), 0);
	close(fd);
}

/* IORING_OP_POLL_ADD reports what poll(2) reports, woken per channel. */
static void test_poll_add(void **state)
{
	int fd = kt_slot_open_chan(0, 40), w = kt_slot_open_chan(0, 40);
	int o = kt_slot_open_chan(0, 41);
	unsigned long long d;
	char buf[16];
	int r;

	(void)state;
	io_uring_prep_poll_add(sqe_get(), fd, POLLOUT);
	assert_int_equal(run1() & (POLLOUT | POLLIN), POLLOUT);
	io_uring_prep_poll_add(sqe_get(), fd, POLLIN);
	assert_pending(100);
	kt_slot_put_str(o, "not yours");
	assert_pending(100);
	kt_slot_put_str(w, "yours");
	r = complete(&d, 5000);
	assert_true(r > 0 && (r & POLLIN));
	/* readable until read, then not */
	io_uring_prep_poll_add(sqe_get(), fd, POLLIN);
	assert_true(run1() & POLLIN);
	assert_int_equal(ur_read(fd, buf, sizeof(buf)), 5);
	io_uring_prep_poll_add(sqe_get(), fd, POLLIN);
	assert_pending(100);
	/* a channel switch re-evaluates: channel 41 holds an unread message */
	kt_slot_chan(fd, 41);
	r = complete(&d, 5000);
	assert_true(r > 0 && (r & POLLIN));
	close(fd);
	close(w);
	close(o);
}

/* ASYNC_CANCEL of a pending read: -ECANCELED, the file unchanged. */
static void test_cancel(void **state)
{
	int fd = kt_slot_open_chan(0, 50), w = kt_slot_open_chan(0, 50), i, res[2];
	struct io_uring_sqe *sqe;
	unsigned long long d;
	char buf[16];

	(void)state;
	assert_int_equal(ioctl(fd, MSG_SLOT_SET_BLOCKING, 1), 0);
	sqe = sqe_get();
	io_uring_prep_read(sqe, fd, buf, sizeof(buf), 0);
	sqe->user_data = 0x1234;
	assert_pending(100);
	sqe = sqe_get();
	io_uring_prep_cancel64(sqe, 0x1234, 0);
	sqe->user_data = 0x99;
	for (i = 0; i < 2; i++) {
		int r = complete(&d, 5000);

		assert_true(d == 0x1234 || d == 0x99);
		res[d == 0x99] = r;
	}
	assert_int_equal(res[0], -ECANCELED);
	assert_int_equal(res[1], 0);
	/* the file still works, and the next message is still unread */
	kt_slot_put_str(w, "after");
	assert_int_equal(ur_read(fd, buf, sizeof(buf)), 5);
	/* cancelling a finished request finds nothing */
	io_uring_prep_cancel64(sqe_get(), 0x1234, 0);
	assert_int_equal(run1(), -ENOENT);
	close(fd);
	close(w);
}

/* Unload once the module is free; io_uring lets go of files lazily. */
static int unload_eventually(void)
{
	int r = 0, i;

	for (i = 0; i < 100; i++) {
		r = kt_unload("message_slot");
		if (r != -EWOULDBLOCK)
			break;
		usleep(50 * 1000);
	}
	return r;
}

/* Ring teardown with a read and a poll pending releases the files. */
static void test_teardown(void **state)
{
	int fd = kt_slot_open_chan(0, 60);
	char buf[16];

	(void)state;
	assert_int_equal(ioctl(fd, MSG_SLOT_SET_BLOCKING, 1), 0);
	io_uring_prep_read(sqe_get(), fd, buf, sizeof(buf), 0);
	io_uring_prep_poll_add(sqe_get(), fd, POLLIN);
	assert_pending(100);
	close(fd);
	io_uring_queue_exit(&ring);
	assert_int_equal(unload_eventually(), 0);
	assert_false(kt_loaded("message_slot"));
	assert_int_equal(kt_slot_load(NULL), 0);
	assert_int_equal(io_uring_queue_init(64, &ring, 0), 0);
}

/* A pending request holds its file: unload is refused until it ends. */
static void test_unload_refused(void **state)
{
	int fd = kt_slot_open_chan(0, 70), w;
	unsigned long long d;
	char buf[16];

	(void)state;
	assert_int_equal(ioctl(fd, MSG_SLOT_SET_BLOCKING, 1), 0);
	io_uring_prep_read(sqe_get(), fd, buf, sizeof(buf), 0);
	assert_pending(100);
	close(fd);	/* only the request holds the file now */
	assert_int_equal(kt_unload("message_slot"), -EWOULDBLOCK);
	usleep(200 * 1000);
	assert_int_equal(kt_unload("message_slot"), -EWOULDBLOCK);
	assert_true(kt_loaded("message_slot"));
	/* the held file still gets its message */
	w = kt_slot_open_chan(0, 70);
	kt_slot_put_str(w, "held");
	assert_int_equal(complete(&d, 5000), 4);
	assert_memory_equal(buf, "held", 4);
	close(w);
	assert_int_equal(unload_eventually(), 0);
	assert_int_equal(kt_slot_load(NULL), 0);
}

/*
 * Each case runs through a wrapper that skips it first (before it opens
 * anything) on a kernel without io_uring.
 */
#define WRAP(fn)				\
static void run_##fn(void **state)		\
{						\
	need_uring();				\
	fn(state);				\
}
WRAP(test_write_errnos)
WRAP(test_vectors)
WRAP(test_read_errnos)
WRAP(test_empty_waits)
WRAP(test_batch)
WRAP(test_inline)
WRAP(test_blocking_later)
WRAP(test_poll_add)
WRAP(test_cancel)
WRAP(test_teardown)
WRAP(test_unload_refused)

#define UT(fn) cmocka_unit_test_setup_teardown(run_##fn, ring_setup, \
					       ring_teardown)

int main(void)
{
	struct io_uring probe;
	const struct CMUnitTest tests[] = {
		UT(test_write_errnos),
		UT(test_vectors),
		UT(test_read_errnos),
		UT(test_empty_waits),
		UT(test_batch),
		UT(test_inline),
		UT(test_blocking_later),
		UT(test_poll_add),
		UT(test_cancel),
		UT(test_teardown),
		UT(test_unload_refused),
	};

	if (!io_uring_queue_init(2, &probe, 0)) {
		have_uring = true;
		io_uring_queue_exit(&probe);
	}
	/* without io_uring every case skips: the module is not needed */
	return kt_run_group(tests, have_uring ? kt_slot_setup : NULL,
			    have_uring ? kt_slot_teardown : NULL);
}
