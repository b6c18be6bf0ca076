// SPDX-License-Identifier: GPL-2.0
/*
 * kshm/promises - what docs/kshm.md, kshm(4) and the uapi header promise
 * and kshm/api takes for granted, through raw ioctls (no libkipc, whose
 * cached /dev/kshm descriptor would pin the module and share a charge):
 * KSHM_IOC_TRUNC whose result cannot be copied out changes nothing;
 * RLIMIT_NOFILE at KSHM_IOC_OPEN leaves nothing behind; KSHM_IOC_INFO's
 * padding is zero; threads share their process's count; an open stays
 * charged until its last mapping is gone; the creator gets the access it
 * asked for whatever the mode; supplementary groups count; a non-root
 * process opens /dev/kshm itself; ENODEV without kshm.ko; max_pages=65536;
 * trunc racing mmap; /proc/self/mem cannot write through a read-only
 * mapping; a mapped object whose descriptor is closed keeps the module.
 */
#include "lib/kt.h"
#include "lib/kt_fds.h"
#include "lib/kt_kshm.h"

#include <kipc/kshm.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096UL
#define UID_USER 1000
#define GID_USER 1000

static int ctl_open(void)
{
	int fd = open("/dev/kshm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		fail_msg("/dev/kshm: %s", strerror(errno));
	return fd;
}

/* Create NAME (KSHM_RDWR) and give it SIZE bytes; a descriptor. */
static int mkobj(int ctl, const char *name, unsigned long long size)
{
	int fd = kt_kshm_open(ctl, name, KSHM_RDWR | KSHM_CREAT, 0600);

	if (fd < 0)
		fail_msg("open %s: %s", name, strerror(-fd));
	if (size)
		assert_int_equal(kt_kshm_trunc(fd, &size), 0);
	return fd;
}

/* Run FN(ARG) in a child as UID/GID with supplementary GROUPS. */
static int as_user(unsigned int uid, unsigned int gid, const gid_t *groups,
		   size_t ngroups, void (*fn)(void *), void *arg)
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		if (setgroups(ngroups, groups) || setgid(gid) || setuid(uid))
			_exit(99);
		fn(arg);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : KT_SIGNALED(WTERMSIG(st));
}

/* ---- KSHM_IOC_TRUNC's result cannot be copied out ---------------------- */

static void test_trunc_readonly_args(void **state)
{
	int ctl = ctl_open(), fd = mkobj(ctl, "ro-args", 0);
	struct kshm_trunc_args *a;
	unsigned long long size = PG;
	struct kshm_info info;

	(void)state;
	a = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(a != MAP_FAILED);
	a->size = 100;
	assert_int_equal(mprotect(a, PG, PROT_READ), 0);
	errno = 0;
	assert_int_equal(ioctl(fd, KSHM_IOC_TRUNC, a), -1);
	assert_int_equal(errno, EFAULT);
	assert_int_equal(a->size, 100);
	info = kt_kshm_info(fd);
	assert_int_equal(info.size, 0);
	assert_int_equal(kt_kshm_counter("pages"), 0);
	/* nothing mappable, and a later trunc works (not EBUSY) */
	errno = 0;
	assert_true(mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(kt_kshm_trunc(fd, &size), 0);
	assert_int_equal(size, PG);
	assert_int_equal(kt_kshm_counter("pages"), 1);
	munmap(a, PG);
	close(fd);
	close(ctl);
}

/* ---- RLIMIT_NOFILE at KSHM_IOC_OPEN ------------------------------------ */

static void nofile_child(void *arg)
{
	struct rlimit rl;
	int ctl = ctl_open(), fd, i;

	(void)arg;
	/* use up the descriptors below the limit */
	rl.rlim_cur = rl.rlim_max = 64;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		_exit(10);
	for (i = 0; i < 64; i++)
		if (dup(ctl) < 0)
			break;
	if (errno != EMFILE)
		_exit(11);
	fd = kt_kshm_open(ctl, "nofile", KSHM_RDWR | KSHM_CREAT, 0600);
	if (fd != -EMFILE)
		_exit(12);
	close(ctl + 1);		/* one descriptor free for /proc/kshm */
	if (kt_kshm_counter("objects") != 0 ||
	    kt_kshm_counter("processes") != 0)
		_exit(13);
	_exit(0);
}

static void test_nofile(void **state)
{
	(void)state;
	assert_int_equal(kt_in_child(nofile_child, NULL), 0);
	kt_kshm_assert_empty();
}

/* ---- KSHM_IOC_INFO: padding and the bytes after the name --------------- */

static void test_info_zero_padding(void **state)
{
	int ctl = ctl_open(), fd = mkobj(ctl, "/pad", PG);
	struct kshm_info info = kt_kshm_info(fd);	/* buffer was all 0xff */
	size_t i, len;

	(void)state;
	assert_int_equal(info.pad, 0);
	assert_string_equal(info.name, "pad");
	len = strlen(info.name);
	for (i = len; i < sizeof(info.name); i++)
		if (info.name[i])
			fail_msg("name byte %zu is %#x", i,
				 (unsigned char)info.name[i]);
	close(fd);
	close(ctl);
}

/* ---- threads share the per-process count ------------------------------- */

struct topen {
	int ctl;
	const char *name;
	int fd;
};

static void *open_thread(void *arg)
{
	struct topen *t = arg;

	t->fd = kt_kshm_open(t->ctl, t->name, KSHM_RDWR | KSHM_CREAT, 0600);
	return NULL;
}

static void test_threads_share_count(void **state)
{
	struct topen t[3];
	pthread_t th[3];
	int ctl, i;

	(void)state;
	kt_kshm_reload("max_per_process=2");
	ctl = ctl_open();
	for (i = 0; i < 3; i++) {
		t[i] = (struct topen){ ctl, i == 0 ? "t0" : i == 1 ? "t1" : "t2",
				       -1 };
		assert_int_equal(pthread_create(&th[i], NULL, open_thread,
						&t[i]), 0);
		assert_int_equal(pthread_join(th[i], NULL), 0);
	}
	assert_true(t[0].fd >= 0);
	assert_true(t[1].fd >= 0);
	assert_int_equal(t[2].fd, -EMFILE);	/* a third thread: over */
	assert_int_equal(kt_kshm_counter("processes"), 1);
	assert_int_equal(kt_kshm_open(ctl, "t3", KSHM_RDWR | KSHM_CREAT, 0600),
			 -EMFILE);		/* and the main thread */
	close(t[1].fd);
	t[2].fd = kt_kshm_open(ctl, "t2", KSHM_RDWR | KSHM_CREAT, 0600);
	assert_true(t[2].fd >= 0);
	close(t[0].fd);
	close(t[2].fd);
	close(ctl);
	assert_int_equal(kt_kshm_counter("processes"), 0);
}

/* ---- an open is charged until its last mapping is gone ----------------- */

static void test_charge_until_last_munmap(void **state)
{
	int ctl, fd;
	char *p, *q;

	(void)state;
	kt_kshm_reload("max_per_process=1");
	ctl = ctl_open();
	fd = mkobj(ctl, "charged", 2 * PG);
	p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	q = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, PG);
	assert_true(q != MAP_FAILED);
	close(fd);
	assert_int_equal(kt_kshm_counter("processes"), 1);
	assert_int_equal(kt_kshm_open(ctl, "other", KSHM_RDWR | KSHM_CREAT,
				      0600), -EMFILE);
	assert_int_equal(munmap(p, 2 * PG), 0);
	/* one mapping left: still charged */
	assert_int_equal(kt_kshm_open(ctl, "other", KSHM_RDWR | KSHM_CREAT,
				      0600), -EMFILE);
	assert_int_equal(munmap(q, PG), 0);
	assert_int_equal(kt_kshm_counter("processes"), 0);
	assert_int_equal(kt_kshm_counter("objects"), 0);
	fd = kt_kshm_open(ctl, "other", KSHM_RDWR | KSHM_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	close(ctl);
}

/* ---- the creator gets the access it asked for, even with mode 0 -------- */

static void mode0_child(void *arg)
{
	unsigned long long size = PG;
	int ctl = open("/dev/kshm", O_RDWR | O_CLOEXEC), fd;
	char *p;

	(void)arg;
	if (ctl < 0)
		_exit(10);
	fd = kt_kshm_open(ctl, "mode0", KSHM_RDWR | KSHM_CREAT, 0);
	if (fd < 0)
		_exit(11);
	if (kt_kshm_trunc(fd, &size))
		_exit(12);
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		_exit(13);
	p[0] = 1;
	/* a second open, even by the owner, is checked against mode 0 */
	if (kt_kshm_open(ctl, "mode0", KSHM_RDONLY, 0) != -EACCES)
		_exit(14);
	if (kt_kshm_open(ctl, "mode0", KSHM_RDWR | KSHM_CREAT, 0600) !=
	    -EACCES)
		_exit(15);
	_exit(0);
}

static void test_creator_access_mode0(void **state)
{
	(void)state;
	assert_int_equal(kt_as_user(UID_USER, GID_USER, mode0_child, NULL), 0);
	kt_kshm_assert_empty();
}

/* ---- supplementary groups ---------------------------------------------- */

#define GID_SHARED 4242

static void group_child(void *arg)
{
	int ctl = open("/dev/kshm", O_RDWR | O_CLOEXEC), fd;
	int want = *(int *)arg;

	if (ctl < 0)
		_exit(10);
	fd = kt_kshm_open(ctl, "grp", KSHM_RDWR, 0);
	if (want ? fd < 0 : fd != -EACCES)
		_exit(fd < 0 ? 20 + (-fd & 63) : 11);
	_exit(0);
}

static void test_supplementary_groups(void **state)
{
	const gid_t with[] = { 77, GID_SHARED }, without[] = { 77 };
	int ctl = ctl_open(), fd, yes = 1, no = 0;
	struct kshm_info info;

	(void)state;
	/* root creates it with group GID_SHARED, mode 0060 */
	umask(0);
	assert_int_equal(setegid(GID_SHARED), 0);
	fd = kt_kshm_open(ctl, "grp", KSHM_RDWR | KSHM_CREAT, 0060);
	assert_int_equal(setegid(0), 0);
	umask(022);
	assert_true(fd >= 0);
	info = kt_kshm_info(fd);
	assert_int_equal(info.gid, GID_SHARED);
	assert_int_equal(info.mode, 0060);
	assert_int_equal(as_user(UID_USER, GID_USER, with, 2, group_child,
				 &yes), 0);
	assert_int_equal(as_user(UID_USER, GID_USER, without, 1, group_child,
				 &no), 0);
	/* the primary group counts too */
	assert_int_equal(as_user(UID_USER, GID_SHARED, without, 1,
				 group_child, &yes), 0);
	close(fd);
	close(ctl);
}

/* ---- a non-root process opens /dev/kshm itself ------------------------- */

static void nonroot_child(void *arg)
{
	unsigned long long size = 3 * PG;
	struct kshm_info info;
	int ctl, fd;
	char *p;

	(void)arg;
	ctl = open("/dev/kshm", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		_exit(10);
	fd = kt_kshm_open(ctl, "mine", KSHM_RDWR | KSHM_CREAT, 0640);
	if (fd < 0)
		_exit(11);
	if (kt_kshm_trunc(fd, &size) || size != 3 * PG)
		_exit(12);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		_exit(13);
	p[size - 1] = 7;
	if (ioctl(fd, KSHM_IOC_INFO, &info) || info.uid != UID_USER ||
	    info.gid != GID_USER || info.mode != 0640)
		_exit(14);
	close(ctl);
	/* also through a read-only /dev/kshm descriptor */
	ctl = open("/dev/kshm", O_RDONLY | O_CLOEXEC);
	if (ctl < 0)
		_exit(15);
	close(fd);
	fd = kt_kshm_open(ctl, "mine", KSHM_RDONLY, 0);
	if (fd < 0)
		_exit(16);
	_exit(0);
}

static void test_nonroot_opens_dev(void **state)
{
	(void)state;
	assert_int_equal(kt_as_user(UID_USER, GID_USER, nonroot_child, NULL), 0);
	kt_kshm_assert_empty();
}

/* ---- ENODEV without kshm.ko -------------------------------------------- */

static void enodev_child(void *arg)
{
	(void)arg;
	errno = 0;
	if (kshm_open("x") != -1)
		_exit(10);
	_exit(errno == ENODEV ? 0 : 20 + (errno & 63));
}

static void test_enodev_unloaded(void **state)
{
	struct stat st;

	(void)state;
	assert_int_equal(kt_kshm_unload(), 0);
	assert_int_equal(stat("/dev/kshm", &st), -1);
	/* a new process: no cached /dev/kshm descriptor in libkipc */
	assert_int_equal(kt_in_child(enodev_child, NULL), 0);
	assert_int_equal(kt_load("kshm", NULL), 0);
}

/* ---- max_pages=65536 ---------------------------------------------------- */

static void test_max_pages_limit(void **state)
{
	const unsigned long long max = 65536ULL * PG;	/* 256 MiB */
	unsigned long long size = max + 1;
	int ctl, fd, fd2;
	char *p;

	(void)state;
	kt_kshm_reload("max_pages=65536");
	ctl = ctl_open();
	fd = mkobj(ctl, "big", 0);
	assert_int_equal(kt_kshm_trunc(fd, &size), -EFBIG);
	assert_int_equal(kt_kshm_counter("pages"), 0);
	size = max;
	assert_int_equal(kt_kshm_trunc(fd, &size), 0);
	assert_int_equal(size, max);
	assert_int_equal(kt_kshm_counter("pages"), 65536);
	assert_int_equal(kt_kshm_info(fd).size, max);
	p = mmap(NULL, max, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	p[max - 1] = 1;
	assert_int_equal(p[max / 2], 0);
	munmap(p, max);
	fd2 = mkobj(ctl, "big2", 0);
	size = max + 1;
	assert_int_equal(kt_kshm_trunc(fd2, &size), -EFBIG);
	close(fd2);
	close(fd);
	close(ctl);
	assert_int_equal(kt_kshm_counter("pages"), 0);
}

/* ---- trunc racing mmap -------------------------------------------------- */

struct race {
	int fd;
	unsigned long len;
	int einval;		/* mmaps refused before the size */
	unsigned char *p;	/* the mapping that succeeded */
};

static void *mmap_thread(void *arg)
{
	struct race *r = arg;
	void *p;

	for (;;) {
		p = mmap(NULL, r->len, PROT_READ | PROT_WRITE, MAP_SHARED,
			 r->fd, 0);
		if (p != MAP_FAILED)
			break;
		if (errno != EINVAL)
			return (void *)(long)errno;
		r->einval++;
		sched_yield();
	}
	r->p = p;
	return NULL;
}

static void test_trunc_races_mmap(void **state)
{
	int ctl = ctl_open(), round, refused = 0;
	unsigned long long size;
	struct race r;
	pthread_t t;
	unsigned long i;
	void *ret;

	(void)state;
	for (round = 0; round < 50; round++) {
		r = (struct race){ .len = (1 + round % 8) * PG };
		r.fd = mkobj(ctl, "race", 0);
		assert_int_equal(pthread_create(&t, NULL, mmap_thread, &r), 0);
		if (round % 2)
			sched_yield();
		size = r.len;
		assert_int_equal(kt_kshm_trunc(r.fd, &size), 0);
		assert_int_equal(pthread_join(t, &ret), 0);
		if (ret)
			fail_msg("round %d: mmap: %s", round,
				 strerror((int)(long)ret));
		refused += r.einval > 0;
		/* the mapping covers the whole, zeroed object */
		for (i = 0; i < r.len; i += 512)
			assert_int_equal(r.p[i], 0);
		r.p[r.len - 1] = 0xaa;
		assert_int_equal(kt_kshm_info(r.fd).maps, 1);
		munmap(r.p, r.len);
		close(r.fd);
		assert_int_equal(kt_kshm_counter("objects"), 0);
	}
	printf("# %d of 50 rounds saw mmap refused before the trunc\n",
	       refused);
	close(ctl);
}

/* ---- /proc/self/mem cannot write through a read-only mapping ----------- */

static void test_procmem_readonly(void **state)
{
	int ctl = ctl_open(), fd = mkobj(ctl, "ro", PG), ro, mem;
	unsigned char *rw, *p, *q, b = 0x5a;

	(void)state;
	rw = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(rw != MAP_FAILED);
	rw[0] = 1;
	ro = kt_kshm_open(ctl, "ro", KSHM_RDONLY, 0);
	assert_true(ro >= 0);
	p = mmap(NULL, PG, PROT_READ, MAP_SHARED, ro, 0);	/* RO fd */
	assert_true(p != MAP_FAILED);
	q = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);	/* RW fd */
	assert_true(q != MAP_FAILED);
	mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	assert_true(mem >= 0);
	errno = 0;
	assert_int_equal(pwrite(mem, &b, 1, (off_t)(uintptr_t)p), -1);
	assert_int_equal(errno, EIO);
	errno = 0;
	assert_int_equal(pwrite(mem, &b, 1, (off_t)(uintptr_t)q), -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(rw[0], 1);
	assert_int_equal(p[0], 1);
	/* and reading through it works, and writing the RW mapping too */
	b = 0;
	assert_int_equal(pread(mem, &b, 1, (off_t)(uintptr_t)p), 1);
	assert_int_equal(b, 1);
	b = 2;
	assert_int_equal(pwrite(mem, &b, 1, (off_t)(uintptr_t)rw), 1);
	assert_int_equal(p[0], 2);
	close(mem);
	munmap(p, PG);
	munmap(q, PG);
	munmap(rw, PG);
	close(ro);
	close(fd);
	close(ctl);
}

/* ---- a closed but mapped object keeps kshm.ko ---------------------------- */

static void test_mapped_object_pins_module(void **state)
{
	int ctl = ctl_open(), fd = mkobj(ctl, "pin", PG);
	char *p;

	(void)state;
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	close(fd);
	close(ctl);		/* no /dev/kshm descriptor anywhere */
	assert_int_equal(kt_unload("kshm"), -EWOULDBLOCK);
	assert_true(kt_loaded("kshm"));
	p[PG - 1] = 3;		/* still there */
	assert_int_equal(kt_kshm_counter("objects"), 1);
	assert_int_equal(munmap(p, PG), 0);
	assert_int_equal(kt_kshm_counter("objects"), 0);
	assert_int_equal(kt_unload("kshm"), 0);
	assert_int_equal(kt_load("kshm", NULL), 0);
}

#define T(f) cmocka_unit_test_teardown(f, kt_kshm_reset)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_trunc_readonly_args),
		T(test_nofile),
		T(test_info_zero_padding),
		T(test_threads_share_count),
		T(test_charge_until_last_munmap),
		T(test_creator_access_mode0),
		T(test_supplementary_groups),
		T(test_nonroot_opens_dev),
		T(test_enodev_unloaded),
		T(test_max_pages_limit),
		T(test_trunc_races_mmap),
		T(test_procmem_readonly),
		T(test_mapped_object_pins_module),
	};

	return kt_run_group(tests, kt_kshm_setup, kt_kshm_teardown);
}
