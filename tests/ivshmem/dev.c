// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem/dev - kipc_ivshmem.ko in one guest: probe and sysfs, the myshm
 * interface on BAR2 (mmap, read/write/lseek, MYSHM_GET_SIZE, errnos),
 * doorbells to itself on two vectors, every wait errno, poll/epoll,
 * waiters on different vectors, unbind while open, mapped and waited on
 * (ENODEV, SIGBUS), rebind, unload refused while mapped.
 *
 * tests/run-suite boots the guest with an ivshmem-plain device (4 MiB, a
 * host file starting with HOST_MARK) and an ivshmem-doorbell device (2
 * vectors, kipc-ivshmem-server); without them every case skips.
 */
#include "ivshmem/ivs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kipc/ivshmem_ioctl.h>
#include <kipc/myshm.h>

#define HOST_MARK "kipc-ivshmem-host-marker"

static void test_probe(void **state)
{
	struct kipc_ivshmem_info info;
	char v[64];
	__u64 sz;
	__u32 id;
	int fd;

	(void)state;
	NEED(plain);
	NEED(bell);
	read_attr(plain, "size", v, sizeof(v));
	assert_string_equal(v, "4194304");
	read_attr(plain, "vectors", v, sizeof(v));
	assert_string_equal(v, "0");
	read_attr(bell, "vectors", v, sizeof(v));
	assert_string_equal(v, "2");
	read_attr(bell, "name", v, sizeof(v));
	assert_true(strncmp(v, "ivshmem-", 8) == 0);
	assert_string_equal(v + 8, bell_pci);
	fd = xopen(bell, O_RDWR);
	assert_int_equal(ioctl(fd, KIPC_IVSHMEM_GET_INFO, &info), 0);
	assert_int_equal(info.vectors, 2);
	assert_int_equal(info.doorbell, 1);
	assert_int_equal(ioctl(fd, MYSHM_GET_SIZE, &sz), 0);
	assert_int_equal(sz, info.size);
	assert_int_equal(ioctl(fd, KIPC_IVSHMEM_GET_PEER_ID, &id), 0);
	assert_int_equal(id, info.peer_id);
	read_attr(bell, "peer_id", v, sizeof(v));
	assert_int_equal(atoi(v), id);
	assert_int_equal(ioctl(fd, KIPC_IVSHMEM_GET_INFO, NULL), -1);
	assert_int_equal(errno, EFAULT);
	assert_int_equal(ioctl(fd, _IO(KIPC_IVSHMEM_IOC_MAGIC, 99)), -1);
	assert_int_equal(errno, ENOTTY);
	close(fd);
}

static void test_plain_myshm(void **state)
{
	char buf[64];
	unsigned char *m;
	__u64 sz;
	int fd;

	(void)state;
	NEED(plain);
	fd = xopen(plain, O_RDWR);
	assert_int_equal(ioctl(fd, MYSHM_GET_SIZE, &sz), 0);
	assert_int_equal(sz, 4 << 20);
	/* the host wrote its marker into the file before boot */
	assert_int_equal(pread(fd, buf, sizeof(HOST_MARK), 0),
			 sizeof(HOST_MARK));
	assert_memory_equal(buf, HOST_MARK, sizeof(HOST_MARK));
	m = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(m != MAP_FAILED);
	assert_memory_equal(m, HOST_MARK, sizeof(HOST_MARK));
	memcpy(m + 4096, "via mmap", 9);
	assert_int_equal(pread(fd, buf, 9, 4096), 9);
	assert_string_equal(buf, "via mmap");
	assert_int_equal(pwrite(fd, "via write", 10, 8192), 10);
	assert_string_equal((char *)m + 8192, "via write");
	munmap(m, sz);
	/* myshm's rules at the edges */
	assert_int_equal(lseek(fd, 0, SEEK_END), sz);
	assert_int_equal(read(fd, buf, 1), 0);
	assert_int_equal(write(fd, "x", 1), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(lseek(fd, sz - 2, SEEK_SET), sz - 2);
	assert_int_equal(write(fd, "abcd", 4), 2);
	assert_int_equal(lseek(fd, sz + 1, SEEK_SET), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(lseek(fd, -1, SEEK_SET), -1);
	assert_int_equal(errno, EINVAL);
	{ void *volatile bad = (void *)8; assert_int_equal(pread(fd, bad, 16, 0), -1); }
	assert_int_equal(errno, EFAULT);
	assert_true(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) ==
		    MAP_FAILED);
	assert_int_equal(errno, EINVAL);
	assert_true(mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, sz - 4096) ==
		    MAP_FAILED);
	assert_int_equal(errno, EINVAL);
	close(fd);
	fd = xopen(plain, O_RDONLY);
	assert_true(mmap(NULL, 4096, PROT_WRITE, MAP_SHARED, fd, 0) ==
		    MAP_FAILED);
	assert_int_equal(errno, EACCES);
	close(fd);
}

static void test_plain_no_doorbell(void **state)
{
	struct kipc_ivshmem_ring r = { 0, 0 };
	struct kipc_ivshmem_wait w = { 0, 0, 0 };
	int fd;

	(void)state;
	NEED(plain);
	fd = xopen(plain, O_RDWR);
	assert_int_equal(ioctl(fd, KIPC_IVSHMEM_RING, &r), -1);
	assert_int_equal(errno, EOPNOTSUPP);
	assert_int_equal(ioctl(fd, KIPC_IVSHMEM_WAIT, &w), -1);
	assert_int_equal(errno, EOPNOTSUPP);
	close(fd);
}

static void test_doorbell_self(void **state)
{
	__u64 c0, c1, c;
	int fd, i;

	(void)state;
	NEED(bell);
	fd = xopen(bell, O_RDWR);
	assert_int_equal(waitv(fd, 0, 0, &c0), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(waitv(fd, 1, 0, &c1), -1);
	assert_int_equal(ring(fd, my_id(fd), 1), 0);
	assert_int_equal(waitv(fd, 1, 5000, &c), 0);
	assert_true(c > c1);
	/* vector 0 did not move */
	assert_int_equal(waitv(fd, 0, 0, &c), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(c, c0);
	assert_int_equal(ring(fd, my_id(fd), 0), 0);
	assert_int_equal(waitv(fd, 0, 5000, &c), 0);
	assert_true(c > c0);
	/* consumed: nothing new now */
	assert_int_equal(waitv(fd, 0, 50, NULL), -1);
	assert_int_equal(errno, ETIMEDOUT);
	/* a burst: every ring is followed by at least one interrupt */
	for (i = 0; i < 200; i++)
		assert_int_equal(ring(fd, my_id(fd), 0), 0);
	assert_int_equal(waitv(fd, 0, 5000, &c), 0);
	usleep(200000);
	waitv(fd, 0, 0, NULL);
	assert_int_equal(waitv(fd, 0, 100, NULL), -1);
	assert_int_equal(errno, ETIMEDOUT);
	/* ringing an absent peer succeeds and does nothing, like hardware */
	assert_int_equal(ring(fd, 65535, 0), 0);
	close(fd);
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void test_wait_errnos(void **state)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct kipc_ivshmem_wait w = { .vector = 0, .timeout_ms = -2 };
	int fd, ro;

	(void)state;
	NEED(bell);
	fd = xopen(bell, O_RDWR);
	assert_int_equal(ioctl(fd, KIPC_IVSHMEM_WAIT, &w), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(waitv(fd, 2, 0, NULL), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ioctl(fd, KIPC_IVSHMEM_WAIT, (void *)8), -1);
	assert_int_equal(errno, EFAULT);
	assert_int_equal(ring(fd, 65536, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ring(fd, 0, 256), -1);
	assert_int_equal(errno, EINVAL);
	sigaction(SIGALRM, &sa, NULL);
	alarm(1);
	assert_int_equal(waitv(fd, 0, -1, NULL), -1);
	assert_int_equal(errno, EINTR);
	close(fd);
	fd = xopen(bell, O_RDWR | O_NONBLOCK);
	assert_int_equal(waitv(fd, 0, -1, NULL), -1);
	assert_int_equal(errno, EAGAIN);
	close(fd);
	ro = xopen(bell, O_RDONLY);
	assert_int_equal(ring(ro, 0, 0), -1);
	assert_int_equal(errno, EBADF);
	close(ro);
}

static void test_poll(void **state)
{
	struct epoll_event ev = { .events = EPOLLIN }, out;
	struct pollfd p;
	__u64 mask;
	int fd, ep;

	(void)state;
	NEED(bell);
	fd = xopen(bell, O_RDWR);
	p = (struct pollfd){ fd, POLLIN, 0 };
	assert_int_equal(poll(&p, 1, 50), 0);	/* nothing rung yet */
	p.events = POLLOUT;
	assert_int_equal(poll(&p, 1, 0), 1);	/* always writable */
	p.events = POLLIN;
	ep = epoll_create1(EPOLL_CLOEXEC);
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
	assert_int_equal(ring(fd, my_id(fd), 1), 0);
	assert_int_equal(epoll_wait(ep, &out, 1, 5000), 1);
	assert_true(out.events & EPOLLIN);
	assert_int_equal(waitv(fd, 1, 0, NULL), 0);
	assert_int_equal(epoll_wait(ep, &out, 1, 50), 0);
	/* watch vector 1 only: a ring on 0 does not wake poll */
	mask = 2;
	assert_int_equal(ioctl(fd, KIPC_IVSHMEM_SET_POLL, &mask), 0);
	assert_int_equal(ring(fd, my_id(fd), 0), 0);
	usleep(200000);
	assert_int_equal(poll(&p, 1, 0), 0);
	assert_int_equal(ring(fd, my_id(fd), 1), 0);
	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_true(p.revents & POLLIN);
	mask = 4;
	assert_int_equal(ioctl(fd, KIPC_IVSHMEM_SET_POLL, &mask), -1);
	assert_int_equal(errno, EINVAL);
	close(ep);
	close(fd);
}

static void wait_child(void *arg)
{
	int vec = (int)(long)arg;
	int fd = open(bell, O_RDWR | O_CLOEXEC);

	_exit(fd >= 0 && waitv(fd, vec, 10000, NULL) == 0 ? 0 : 1);
}

static void test_waiters_on_vectors(void **state)
{
	pid_t a, b;
	int fd, st;

	(void)state;
	NEED(bell);
	fd = xopen(bell, O_RDWR);
	a = fork();
	if (!a)
		wait_child((void *)0L);
	b = fork();
	if (!b)
		wait_child((void *)1L);
	usleep(300000);
	assert_int_equal(ring(fd, my_id(fd), 1), 0);
	assert_int_equal(waitpid(b, &st, 0), b);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* the vector-0 waiter is still asleep */
	assert_int_equal(waitpid(a, &st, WNOHANG), 0);
	assert_int_equal(ring(fd, my_id(fd), 0), 0);
	assert_int_equal(waitpid(a, &st, 0), a);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(fd);
}

static void touch_child(void *arg)
{
	volatile unsigned char *m = arg;

	signal(SIGBUS, SIG_DFL);	/* cmocka catches it otherwise */
	(void)m[0];
	_exit(0);
}

static void test_unbind_while_used(void **state)
{
	unsigned char *m;
	char buf[8];
	pid_t w;
	int fd, st;

	(void)state;
	NEED(bell);
	fd = xopen(bell, O_RDWR);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(m != MAP_FAILED);
	m[0] = 1;
	w = fork();
	if (!w)
		_exit(waitv(fd, 0, 20000, NULL) == -1 && errno == ENODEV ?
		      0 : 1);
	usleep(300000);
	/* unload is refused while a file is open or mapped */
	st = kt_unload(MOD);
	assert_true(st == -EBUSY || st == -EAGAIN);
	assert_int_equal(sysfs_write(DRV "/unbind", bell_pci), 0);
	assert_int_equal(waitpid(w, &st, 0), w);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(kt_in_child(touch_child, m), KT_SIGNALED(SIGBUS));
	assert_int_equal(pread(fd, buf, 1, 0), -1);
	assert_int_equal(errno, ENODEV);
	assert_int_equal(ring(fd, 0, 0), -1);
	assert_int_equal(errno, ENODEV);
	munmap(m, 4096);
	close(fd);
	/* bind again: the device comes back */
	assert_int_equal(sysfs_write(DRV "/bind", bell_pci), 0);
	usleep(100000);
	assert_int_equal(find_devices(), 0);
	fd = xopen(bell, O_RDWR);
	assert_int_equal(ring(fd, my_id(fd), 0), 0);
	assert_int_equal(waitv(fd, 0, 5000, NULL), 0);
	close(fd);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, load, unload)
	const struct CMUnitTest tests[] = {
		T(test_probe),
		T(test_plain_myshm),
		T(test_plain_no_doorbell),
		T(test_doorbell_self),
		T(test_wait_errnos),
		T(test_poll),
		T(test_waiters_on_vectors),
		T(test_unbind_while_used),
	};

	return kt_run_group(tests, NULL, NULL);
}
