// SPDX-License-Identifier: GPL-2.0
/*
 * myshm/dev - /dev/myshm with the default parameters: the node, zero fill,
 * sharing between forked and separately executed processes, offset and
 * refused mappings, read-only enforcement, read/write/lseek edge cases,
 * ioctls, unload while in use, access control, the write_test example.
 * Every test loads myshm freshly and unloads it afterwards.
 */
#include "lib/kt.h"
#include "lib/kt_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kipc/myshm.h>

#define DEV "/dev/myshm"
#define SIZE (4UL << 20)
#define PG 4096UL

static int load(void **state)
{
	(void)state;
	kt_unload_if_loaded("myshm");
	return kt_load("myshm", NULL) ? -1 : 0;
}

static int unload(void **state)
{
	int fd;

	(void)state;
	/* files a failed test left open would keep the module */
	for (fd = 3; fd < 256; fd++)
		close(fd);
	return kt_unload("myshm") ? -1 : 0;
}

static int open_dev(int flags)
{
	int fd = open(DEV, flags | O_CLOEXEC);

	if (fd < 0)
		fail_msg("open %s: %s", DEV, strerror(errno));
	return fd;
}

static unsigned char *map_dev(int fd, size_t len, int prot, off_t off)
{
	unsigned char *p = mmap(NULL, len, prot, MAP_SHARED, fd, off);

	if (p == MAP_FAILED)
		fail_msg("mmap %zu at %lld: %s", len, (long long)off,
			 strerror(errno));
	return p;
}

/* mmap must fail with ERR. */
static void map_fails(int fd, size_t len, int prot, int flags, off_t off,
		      int err)
{
	void *p;

	errno = 0;
	p = mmap(NULL, len, prot, flags, fd, off);
	if (p != MAP_FAILED) {
		munmap(p, len);
		fail_msg("mmap len %zu off %#llx flags %#x succeeded", len,
			 (unsigned long long)off, flags);
	}
	if (errno != err)
		fail_msg("mmap len %zu off %#llx flags %#x: %s, expected %s",
			 len, (unsigned long long)off, flags, strerror(errno),
			 strerror(err));
}

static void test_node(void **state)
{
	struct stat st;
	char param[16] = "";
	__u64 sz = 0;
	FILE *f;
	int fd;

	(void)state;
	assert_int_equal(stat(DEV, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(kt_read_ll("/sys/class/misc/myshm/size"), SIZE);
	fd = open_dev(O_RDONLY);
	assert_int_equal(ioctl(fd, MYSHM_GET_SIZE, &sz), 0);
	assert_int_equal(sz, SIZE);
	close(fd);
	/* the sysfs attribute is read-only, even for root */
	assert_int_equal(stat("/sys/class/misc/myshm/size", &st), 0);
	assert_int_equal(st.st_mode & 0777, 0444);
	errno = 0;
	assert_int_equal(open("/sys/class/misc/myshm/size", O_WRONLY), -1);
	assert_int_equal(errno, EACCES);
	f = fopen("/sys/module/myshm/parameters/size", "r");
	assert_non_null(f);
	assert_non_null(fgets(param, sizeof(param), f));
	fclose(f);
	assert_string_equal(param, "4M\n");
}

static void test_zero_filled(void **state)
{
	unsigned char *buf = malloc(SIZE), *map;
	size_t i;
	int fd = open_dev(O_RDONLY);

	(void)state;
	assert_non_null(buf);
	memset(buf, 0xa5, SIZE);
	assert_int_equal(read(fd, buf, SIZE), SIZE);
	for (i = 0; i < SIZE; i++)
		if (buf[i])
			fail_msg("read: byte %zu is %#x after load", i, buf[i]);
	map = map_dev(fd, SIZE, PROT_READ, 0);
	for (i = 0; i < SIZE; i++)
		if (map[i])
			fail_msg("mmap: byte %zu is %#x after load", i, map[i]);
	munmap(map, SIZE);
	free(buf);
	close(fd);
}

/* Shared by the fork test: the child's half. */
struct fork_arg {
	unsigned char *map;
	int go;		/* read end: parent has written */
};

static void fork_child(void *argp)
{
	struct fork_arg *a = argp;
	char c;
	size_t i;

	if (read(a->go, &c, 1) != 1)
		_exit(10);
	for (i = 0; i < SIZE; i += PG)
		if (a->map[i + 1] != (unsigned char)(i / PG + 1))
			_exit(11);
	for (i = 0; i < SIZE; i += PG)
		a->map[i + 2] = (unsigned char)(i / PG + 3);
	_exit(0);
}

static void test_fork_sharing(void **state)
{
	int fd = open_dev(O_RDWR), p[2];
	unsigned char *map = map_dev(fd, SIZE, PROT_READ | PROT_WRITE, 0);
	struct fork_arg a = { .map = map };
	pid_t pid;
	int st;
	size_t i;

	(void)state;
	assert_int_equal(pipe(p), 0);
	a.go = p[0];
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		fork_child(&a);
	/* parent -> child, every page, after the child has the mapping */
	for (i = 0; i < SIZE; i += PG)
		map[i + 1] = (unsigned char)(i / PG + 1);
	assert_int_equal(write(p[1], "g", 1), 1);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	/* child -> parent */
	for (i = 0; i < SIZE; i += PG)
		assert_int_equal(map[i + 2], (unsigned char)(i / PG + 3));
	close(p[0]);
	close(p[1]);
	munmap(map, SIZE);
	close(fd);
}

static void test_exec_sharing(void **state)
{
	int fd = open_dev(O_RDWR);
	unsigned char *map = map_dev(fd, SIZE, PROT_READ | PROT_WRITE, 0);
	char out[256], want[64];

	(void)state;
	/* this process -> a separately executed reader */
	snprintf(want, sizeof(want), "ping from %d\n", (int)getpid());
	memcpy(map + 3 * PG + 5, want, strlen(want) - 1);
	assert_int_equal(kt_run("myshm-msg -o 12293 read", out, sizeof(out)),
			 0);
	assert_string_equal(out, want);
	/* a separately executed writer -> this process */
	assert_int_equal(kt_run("myshm-msg -o 4194000 write pong", out,
				sizeof(out)), 0);
	assert_memory_equal(map + 4194000, "pong", 5);
	/* a waiter started first sees a later write; two other processes */
	assert_int_equal(kt_run("myshm-msg -o 100 -t 20 wait hello & "
				"sleep 0.2; myshm-msg -o 100 write hello; wait $!",
				out, sizeof(out)), 0);
	assert_string_equal(out, "hello\n");
	assert_memory_equal(map + 100, "hello", 6);
	/* and it times out when nobody writes */
	assert_int_equal(kt_run("myshm-msg -o 200 -t 0.2 wait nobody", out,
				sizeof(out)), 3);
	munmap(map, SIZE);
	close(fd);
}

static void test_offset_mappings(void **state)
{
	int fd = open_dev(O_RDWR);
	unsigned char *whole = map_dev(fd, SIZE, PROT_READ | PROT_WRITE, 0);
	unsigned char *a, *b, *c, *last;
	size_t i;

	(void)state;
	for (i = 0; i < SIZE; i += PG)
		whole[i] = (unsigned char)(i / PG * 3 + 1);
	/* pages 5..7 */
	a = map_dev(fd, 3 * PG, PROT_READ | PROT_WRITE, 5 * PG);
	for (i = 0; i < 3; i++)
		assert_int_equal(a[i * PG], (unsigned char)((5 + i) * 3 + 1));
	/* a length that is not a page multiple, at an offset */
	b = map_dev(fd, 100, PROT_READ | PROT_WRITE, 6 * PG);
	assert_int_equal(b[0], (unsigned char)(6 * 3 + 1));
	/* all three alias the same page */
	b[50] = 0x77;
	assert_int_equal(a[PG + 50], 0x77);
	assert_int_equal(whole[6 * PG + 50], 0x77);
	/* the very last page */
	last = map_dev(fd, PG, PROT_READ, SIZE - PG);
	assert_int_equal(last[0], (unsigned char)((SIZE / PG - 1) * 3 + 1));
	whole[SIZE - 1] = 0x42;
	assert_int_equal(last[PG - 1], 0x42);
	/* dropped page table entries come back with the same bytes */
	assert_int_equal(madvise(whole, SIZE, MADV_DONTNEED), 0);
	assert_int_equal(whole[6 * PG + 50], 0x77);
	assert_int_equal(a[2 * PG], (unsigned char)(7 * 3 + 1));
	/* a mapping not aligned to the fault-around window, touched late */
	c = map_dev(fd, 40 * PG, PROT_READ | PROT_WRITE, 3 * PG);
	for (i = 39; i < 40; i--)
		assert_int_equal(c[i * PG], (unsigned char)((3 + i) * 3 + 1));
	munmap(c, 40 * PG);
	/* a hole punched into a mapping leaves the rest working */
	assert_int_equal(munmap(whole + PG, PG), 0);
	whole[2 * PG] = 0x11;
	assert_int_equal(whole[0], 1);
	assert_int_equal(whole[2 * PG], 0x11);
	munmap(whole, PG);
	munmap(whole + 2 * PG, SIZE - 2 * PG);
	munmap(a, 3 * PG);
	munmap(b, 100);
	munmap(last, PG);
	close(fd);
}

static void test_refused_mappings(void **state)
{
	int rw = open_dev(O_RDWR), ro = open_dev(O_RDONLY);
	int wo = open_dev(O_WRONLY);
	int prot = PROT_READ | PROT_WRITE;
	unsigned char *p, *q;

	(void)state;
	/* past the end */
	map_fails(rw, SIZE + PG, prot, MAP_SHARED, 0, EINVAL);
	map_fails(rw, PG, prot, MAP_SHARED, SIZE, EINVAL);
	map_fails(rw, 2 * PG, prot, MAP_SHARED, SIZE - PG, EINVAL);
	map_fails(rw, PG, PROT_READ, MAP_SHARED, SIZE + 100 * PG, EINVAL);
	/* offsets where offset + length overflows or nearly does */
	map_fails(rw, PG, prot, MAP_SHARED, (off_t)0x7ffffffffffff000LL,
		  EINVAL);
	map_fails(rw, PG, prot, MAP_SHARED, (off_t)-4096, EOVERFLOW);
	map_fails(rw, 2 * PG, prot, MAP_SHARED, (off_t)-8192, EOVERFLOW);
	map_fails(rw, PG, prot, MAP_SHARED, (off_t)-(off_t)SIZE, EINVAL);
	/* private mappings, on any file, with any protection */
	map_fails(rw, PG, prot, MAP_PRIVATE, 0, EINVAL);
	map_fails(rw, PG, PROT_READ, MAP_PRIVATE, 0, EINVAL);
	map_fails(ro, PG, PROT_READ, MAP_PRIVATE, 0, EINVAL);
	/* an O_WRONLY file cannot be mapped at all */
	map_fails(wo, PG, PROT_WRITE, MAP_SHARED, 0, EACCES);
	/* a mapping cannot grow (VM_DONTEXPAND) but can shrink and move */
	p = map_dev(rw, 2 * PG, prot, 0);
	p[0] = 9;
	errno = 0;
	assert_ptr_equal(mremap(p, 2 * PG, 3 * PG, MREMAP_MAYMOVE), MAP_FAILED);
	assert_int_equal(errno, EFAULT);
	q = mremap(p, 2 * PG, PG, MREMAP_MAYMOVE);
	assert_ptr_not_equal(q, MAP_FAILED);
	assert_int_equal(q[0], 9);
	munmap(q, PG);
	close(rw);
	close(ro);
	close(wo);
}

static void write_to(void *p)
{
	signal(SIGSEGV, SIG_DFL);	/* not cmocka's handler */
	*(volatile unsigned char *)p = 1;
}

static void test_read_only(void **state)
{
	int ro = open_dev(O_RDONLY), rw = open_dev(O_RDWR);
	unsigned char *w = map_dev(rw, PG, PROT_READ | PROT_WRITE, 0);
	unsigned char *r;

	(void)state;
	map_fails(ro, PG, PROT_READ | PROT_WRITE, MAP_SHARED, 0, EACCES);
	map_fails(ro, PG, PROT_WRITE, MAP_SHARED, 0, EACCES);
	r = map_dev(ro, PG, PROT_READ, 0);
	w[10] = 0x5a;
	assert_int_equal(r[10], 0x5a);
	errno = 0;
	assert_int_equal(mprotect(r, PG, PROT_READ | PROT_WRITE), -1);
	assert_int_equal(errno, EACCES);
	assert_int_equal(mprotect(r, PG, PROT_WRITE), -1);
	assert_int_equal(errno, EACCES);
	/* dropping and regaining read works */
	assert_int_equal(mprotect(r, PG, PROT_NONE), 0);
	assert_int_equal(mprotect(r, PG, PROT_READ), 0);
	assert_int_equal(r[10], 0x5a);
	/* a store through the read-only mapping kills the writer */
	assert_int_equal(kt_in_child(write_to, r + 10), KT_SIGNALED(SIGSEGV));
	assert_int_equal(w[10], 0x5a);
	munmap(r, PG);
	/* also on pages a read fault mapped around the faulting one */
	r = map_dev(ro, 32 * PG, PROT_READ, 0);
	assert_int_equal(r[PG + 10], 0);
	assert_int_equal(kt_in_child(write_to, r + 5 * PG),
			 KT_SIGNALED(SIGSEGV));
	assert_int_equal(kt_in_child(write_to, r + 31 * PG),
			 KT_SIGNALED(SIGSEGV));
	assert_int_equal(r[5 * PG], 0);
	assert_int_equal(r[31 * PG], 0);
	munmap(r, 32 * PG);
	r = map_dev(ro, PG, PROT_READ, 0);
	/* and write() on the O_RDONLY file is refused */
	errno = 0;
	assert_int_equal(write(ro, "x", 1), -1);
	assert_int_equal(errno, EBADF);
	munmap(r, PG);
	munmap(w, PG);
	close(ro);
	close(rw);
}

static void expect_seek(int fd, off_t off, int whence, off_t want)
{
	off_t got;

	errno = 0;
	got = lseek(fd, off, whence);
	if (want < 0) {
		if (got != -1 || errno != -want)
			fail_msg("lseek(%lld, %d) = %lld (%s), expected %s",
				 (long long)off, whence, (long long)got,
				 strerror(errno), strerror(-want));
	} else if (got != want) {
		fail_msg("lseek(%lld, %d) = %lld (%s), expected %lld",
			 (long long)off, whence, (long long)got,
			 strerror(errno), (long long)want);
	}
}

static void test_lseek(void **state)
{
	int fd = open_dev(O_RDWR);

	(void)state;
	expect_seek(fd, 0, SEEK_CUR, 0);
	expect_seek(fd, 0, SEEK_END, SIZE);
	expect_seek(fd, -10, SEEK_END, SIZE - 10);
	expect_seek(fd, 5, SEEK_CUR, SIZE - 5);
	expect_seek(fd, 5, SEEK_CUR, SIZE);
	expect_seek(fd, 1, SEEK_CUR, -EINVAL);
	expect_seek(fd, 0, SEEK_CUR, SIZE);	/* unchanged by the failure */
	expect_seek(fd, 1, SEEK_END, -EINVAL);
	expect_seek(fd, SIZE + 1, SEEK_SET, -EINVAL);
	expect_seek(fd, -1, SEEK_SET, -EINVAL);
	expect_seek(fd, LLONG_MAX, SEEK_SET, -EINVAL);
	expect_seek(fd, LLONG_MIN, SEEK_SET, -EINVAL);
	expect_seek(fd, -(off_t)SIZE - 1, SEEK_END, -EINVAL);
	expect_seek(fd, -(off_t)SIZE, SEEK_END, 0);
	expect_seek(fd, -1, SEEK_CUR, -EINVAL);
	expect_seek(fd, LLONG_MAX, SEEK_CUR, -EINVAL);
	expect_seek(fd, SIZE / 2, SEEK_SET, SIZE / 2);
	expect_seek(fd, 0, 42, -EINVAL);
	expect_seek(fd, 0, -1, -EINVAL);
	expect_seek(fd, 100, SEEK_DATA, -EINVAL);
	expect_seek(fd, 100, SEEK_HOLE, -EINVAL);
	expect_seek(fd, 0, SEEK_CUR, SIZE / 2);
	close(fd);
}

static void test_read_write(void **state)
{
	int fd = open_dev(O_RDWR);
	unsigned char *map = map_dev(fd, SIZE, PROT_READ | PROT_WRITE, 0);
	unsigned char *buf = malloc(SIZE), *guard;
	size_t i, got;
	ssize_t n;

	(void)state;
	assert_non_null(buf);
	for (i = 0; i < SIZE; i++)
		map[i] = (unsigned char)(i * 13 + i / PG);
	/* read() in odd chunks returns exactly the mapping's bytes */
	for (got = 0; (n = read(fd, buf + got, 4097)) > 0; got += n)
		;
	assert_int_equal(n, 0);
	assert_int_equal(got, SIZE);
	assert_memory_equal(buf, map, SIZE);
	assert_int_equal(read(fd, buf, 10), 0);		/* at the end */
	/* write() at 0, in the middle and at the end shows in the mapping */
	assert_int_equal(pwrite(fd, "start", 5, 0), 5);
	assert_memory_equal(map, "start", 5);
	assert_int_equal(pwrite(fd, "mid", 3, SIZE / 2 - 1), 3);
	assert_memory_equal(map + SIZE / 2 - 1, "mid", 3);
	assert_int_equal(pwrite(fd, "end", 3, SIZE - 3), 3);
	assert_memory_equal(map + SIZE - 3, "end", 3);
	/* crossing the end: what fits, then ENOSPC */
	assert_int_equal(lseek(fd, SIZE - 4, SEEK_SET), SIZE - 4);
	assert_int_equal(write(fd, "0123456789", 10), 4);
	assert_memory_equal(map + SIZE - 4, "0123", 4);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), SIZE);
	errno = 0;
	assert_int_equal(write(fd, "x", 1), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(write(fd, "x", 0), 0);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), SIZE);
	/* reads crossing and past the end */
	assert_int_equal(pread(fd, buf, 10, SIZE - 4), 4);
	assert_memory_equal(buf, "0123", 4);
	assert_int_equal(pread(fd, buf, 10, SIZE), 0);
	assert_int_equal(pread(fd, buf, 10, SIZE + 12345), 0);
	assert_int_equal(pread(fd, buf, 10, LLONG_MAX - 20), 0);
	assert_int_equal(pread(fd, buf, 0, 7), 0);
	errno = 0;
	assert_int_equal(pwrite(fd, "x", 1, SIZE + 1), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(pwrite(fd, "x", 1, LLONG_MAX - 20), -1);
	assert_int_equal(errno, ENOSPC);
	/* negative and overflowing positions */
	errno = 0;
	assert_int_equal(pread(fd, buf, 1, -1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(pwrite(fd, "x", 1, -1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(pread(fd, buf, 10, LLONG_MAX - 2), -1);
	assert_int_equal(errno, EINVAL);
	/* bad user pointers (an inaccessible page): EFAULT, no change */
	guard = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_ptr_not_equal(guard, MAP_FAILED);
	assert_int_equal(mprotect(guard + PG, PG, PROT_NONE), 0);
	assert_int_equal(pread(fd, guard + PG, 10, 0), -1);
	assert_int_equal(errno, EFAULT);
	assert_int_equal(pwrite(fd, guard + PG, 10, 0), -1);
	assert_int_equal(errno, EFAULT);
	assert_memory_equal(map, "start", 5);
	/* a user buffer that ends early: a short read, a short write */
	assert_int_equal(pread(fd, guard + PG - 100, 300, 0), 100);
	assert_memory_equal(guard + PG - 100, map, 100);
	memset(guard + PG - 100, 'z', 100);
	memcpy(buf, map + PG, 300);
	assert_int_equal(pwrite(fd, guard + PG - 100, 300, PG), 100);
	assert_memory_equal(map + PG, guard + PG - 100, 100);
	/* the bytes it could not write keep their value (not zeroed) */
	assert_memory_equal(map + PG + 100, buf + 100, 200);
	munmap(guard, 2 * PG);
	munmap(map, SIZE);
	free(buf);
	close(fd);
}

static void test_ioctl(void **state)
{
	int fds[3], i;
	__u64 sz;

	(void)state;
	fds[0] = open_dev(O_RDONLY);
	fds[1] = open_dev(O_WRONLY);
	fds[2] = open_dev(O_RDWR);
	for (i = 0; i < 3; i++) {
		sz = 0;
		assert_int_equal(ioctl(fds[i], MYSHM_GET_SIZE, &sz), 0);
		assert_int_equal(sz, SIZE);
	}
	errno = 0;
	assert_int_equal(ioctl(fds[0], MYSHM_GET_SIZE, NULL), -1);
	assert_int_equal(errno, EFAULT);
	assert_int_equal(ioctl(fds[0], MYSHM_GET_SIZE, (void *)-4096L), -1);
	assert_int_equal(errno, EFAULT);
	/* other requests, also near misses of MYSHM_GET_SIZE */
	assert_int_equal(ioctl(fds[0], _IOR(MYSHM_IOC_MAGIC, 2, __u64), &sz),
			 -1);
	assert_int_equal(errno, ENOTTY);
	assert_int_equal(ioctl(fds[0], _IOW(MYSHM_IOC_MAGIC, 1, __u64), &sz),
			 -1);
	assert_int_equal(errno, ENOTTY);
	assert_int_equal(ioctl(fds[0], _IOR(MYSHM_IOC_MAGIC, 1, __u32), &sz),
			 -1);
	assert_int_equal(errno, ENOTTY);
	assert_int_equal(ioctl(fds[0], _IOR(0xEB, 1, __u64), &sz), -1);
	assert_int_equal(errno, ENOTTY);
	assert_int_equal(ioctl(fds[0], 0, 0), -1);
	assert_int_equal(errno, ENOTTY);
	for (i = 0; i < 3; i++)
		close(fds[i]);
}

static void test_unload_in_use(void **state)
{
	int fd = open_dev(O_RDONLY);
	unsigned char *map;
	pid_t pid;
	int st;

	(void)state;
	assert_int_equal(kt_unload("myshm"), -EAGAIN);
	map = map_dev(fd, SIZE, PROT_READ, 0);
	assert_int_equal(map[0] + map[SIZE / 2] + map[SIZE - 1], 0);
	assert_int_equal(close(fd), 0);
	/* the mapping alone keeps the module */
	assert_int_equal(kt_unload("myshm"), -EAGAIN);
	assert_true(kt_loaded("myshm"));
	/* a forked copy of the mapping too */
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	assert_int_equal(munmap(map, SIZE), 0);
	assert_int_equal(kt_unload("myshm"), -EAGAIN);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(kt_unload("myshm"), 0);
	assert_false(kt_loaded("myshm"));
	assert_int_equal(access(DEV, F_OK), -1);
	assert_int_equal(kt_load("myshm", NULL), 0);	/* for teardown */
}

static void open_as_user(void *arg)
{
	unsigned char *p;
	int fd;

	(void)arg;
	if (access("/dev", X_OK))
		_exit(23);	/* the path, not the node, is refused */
	fd = open(DEV, O_RDWR);
	if (fd < 0)
		_exit(errno == EACCES ? 20 : 21);
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		_exit(22);
	p[0] = 0x33;
	_exit(0);
}

static void test_access(void **state)
{
	int fd;
	unsigned char c = 0;

	(void)state;
	/* mode 0600 root: another user cannot open it */
	assert_int_equal(kt_as_user(1000, 1000, open_as_user, NULL), 20);
	/* what the documented udev rule does: group kipc, mode 0660 */
	assert_int_equal(chown(DEV, 0, 1000), 0);
	assert_int_equal(chmod(DEV, 0660), 0);
	assert_int_equal(kt_as_user(1000, 1000, open_as_user, NULL), 0);
	assert_int_equal(kt_as_user(1001, 1001, open_as_user, NULL), 20);
	fd = open_dev(O_RDONLY);
	assert_int_equal(read(fd, &c, 1), 1);
	assert_int_equal(c, 0x33);
	close(fd);
}

struct counter_arg {
	unsigned long *ctr;
};

#define ROUNDS 100000

static void count_up(void *argp)
{
	struct counter_arg *a = argp;
	int i;

	for (i = 0; i < ROUNDS; i++)
		__atomic_fetch_add(a->ctr, 1, __ATOMIC_SEQ_CST);
}

static void test_concurrent(void **state)
{
	int fd = open_dev(O_RDWR);
	unsigned char *map = map_dev(fd, SIZE, PROT_READ | PROT_WRITE, 0);
	struct counter_arg a = { .ctr = (unsigned long *)(map + 64) };
	unsigned long v = 0;
	pid_t pids[2];
	int i, st;

	(void)state;
	/* atomics through two processes' mappings meet in one word */
	for (i = 0; i < 2; i++) {
		fflush(NULL);
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			count_up(&a);
			_exit(0);
		}
	}
	count_up(&a);
	for (i = 0; i < 2; i++) {
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_int_equal(st, 0);
	}
	assert_int_equal(*a.ctr, 3UL * ROUNDS);
	assert_int_equal(pread(fd, &v, sizeof(v), 64), sizeof(v));
	assert_int_equal(v, 3UL * ROUNDS);
	munmap(map, SIZE);
	close(fd);
}

struct toucher {
	const unsigned long *map;
	size_t words;		/* unsigned longs in the mapping */
	int order;		/* 0 forward, 1 backward, 2 strided */
	size_t bad;		/* mismatches seen */
};

static void *touch_all(void *argp)
{
	struct toucher *t = argp;
	size_t i, n = t->words / (PG / sizeof(long)), k, pg;

	for (k = 0; k < n; k++) {
		if (t->order == 0)
			pg = k;
		else if (t->order == 1)
			pg = n - 1 - k;
		else
			pg = (k * 7) % n;	/* n is a power of two */
		i = pg * (PG / sizeof(long)) + pg % (PG / sizeof(long));
		if (t->map[i] != i)
			t->bad++;
	}
	return NULL;
}

static void test_concurrent_faults(void **state)
{
	const size_t len = 16UL << 20 > SIZE ? SIZE : 16UL << 20;
	int fd = open_dev(O_RDWR);
	unsigned long *map, *buf = malloc(len);
	struct toucher t[4];
	pthread_t th[4];
	size_t i;
	int round, k;

	(void)state;
	assert_non_null(buf);
	for (i = 0; i < len / sizeof(long); i++)
		buf[i] = i;
	assert_int_equal(pwrite(fd, buf, len, 0), len);
	/* threads race to fault (and fault around) the same windows */
	map = (unsigned long *)map_dev(fd, len, PROT_READ, 0);
	for (round = 0; round < 4; round++) {
		for (k = 0; k < 4; k++) {
			t[k] = (struct toucher){ map, len / sizeof(long),
						 (k + round) % 3, 0 };
			assert_int_equal(pthread_create(&th[k], NULL,
							touch_all, &t[k]), 0);
		}
		for (k = 0; k < 4; k++) {
			assert_int_equal(pthread_join(th[k], NULL), 0);
			assert_int_equal(t[k].bad, 0);
		}
		assert_int_equal(madvise(map, len, MADV_DONTNEED), 0);
	}
	munmap(map, len);
	free(buf);
	close(fd);
}

static void test_write_test_example(void **state)
{
	char out[512];

	(void)state;
	assert_int_equal(kt_run("write_test", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "4194304 bytes written through mmap, verified"));
	assert_int_equal(kt_run("write_test /dev/kipc-none", out, sizeof(out)),
			 1);
	assert_non_null(strstr(out, "No such file or directory"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, load, unload)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_node),
		T(test_zero_filled),
		T(test_fork_sharing),
		T(test_exec_sharing),
		T(test_offset_mappings),
		T(test_refused_mappings),
		T(test_read_only),
		T(test_lseek),
		T(test_read_write),
		T(test_ioctl),
		T(test_unload_in_use),
		T(test_access),
		T(test_concurrent),
		T(test_concurrent_faults),
		T(test_write_test_example),
	};

	return kt_run_group(tests, NULL, NULL);
}
