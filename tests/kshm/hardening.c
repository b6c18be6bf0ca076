// SPDX-License-Identifier: GPL-2.0
/*
 * kshm/hardening - regression tests for issue 17's defects:
 *  1. kshm_close() unmaps only its own mappings: not an anonymous mapping
 *     that took the place of one the program munmap()ed itself, nor the
 *     mappings of another object whose descriptor had the same number;
 *  2. libkipc calls on a descriptor that is not a kshm object (a message
 *     slot answers unknown ioctls with EINVAL, /dev/null with ENOTTY, a
 *     regular file) fail with EBADF and do nothing to it, also when the
 *     number once named a kshm object the program closed with close(2);
 *  3. name squatting: KSHM_CREAT without KSHM_EXCL on an object another
 *     user owns is EACCES (the protected_names module parameter, default
 *     on; protected_names=0 restores xv6-style open-or-create sharing);
 *  4. max_per_user objects per creating user (ENOSPC beyond it), and
 *     /proc/kshm lists only the objects the reader may open unless it has
 *     CAP_IPC_OWNER;
 *  5. (issue 26.10) max_per_user defaults to a quarter of max_objects (at
 *     least 1), so one unprivileged user cannot take every object of a
 *     default load; CAP_SYS_RESOURCE/CAP_SYS_ADMIN are not limited.
 * Each failed before its fix (see the commits that added them).
 */
#include "lib/kt.h"
#include "lib/kt_fds.h"
#include "lib/kt_kshm.h"
#include "lib/kt_sys.h"
#include "lib/kt_slot.h"

#include <kipc/kshm.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>

#define PG 4096UL
#define UID_USER 1000
#define GID_USER 1000
#define UID_OTHER 65534

/* A bool parameter: 1 for "Y", 0 for "N", -1 if missing. */
static int param_bool(const char *p)
{
	char path[128], c = 0;
	int fd;

	snprintf(path, sizeof(path), "/sys/module/kshm/parameters/%s", p);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	return c == 'Y' ? 1 : c == 'N' ? 0 : -1;
}

#define assert_errno(expr, err) do {					\
		errno = 0;						\
		assert_int_equal((expr), -1);				\
		assert_int_equal(errno, (err));				\
	} while (0)

/* ---- 1. kshm_close() unmaps only its own mappings ---------------------- */

/*
 * The program unmaps the kshm mapping itself and maps anonymous memory at
 * the same address; kshm_close() must leave that alone.  In a child: a
 * wrong munmap shows as SIGSEGV.
 */
static void replaced_child(void *arg)
{
	volatile unsigned char *anon;
	void *va;
	int fd;

	(void)arg;
	signal(SIGSEGV, SIG_DFL);	/* not cmocka's handler: die */
	fd = kshm_open("h-replaced");
	if (fd < 0 || kshm_trunc(fd, PG) < 0 || kshm_map(fd, &va, O_RDWR))
		_exit(10);
	if (munmap(va, PG))
		_exit(11);
	anon = mmap(va, PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if ((void *)anon != va)
		_exit(12);
	anon[0] = 0x77;
	if (kshm_close(fd))
		_exit(13);
	_exit(anon[0] == 0x77 ? 0 : 14);	/* SIGSEGV if unmapped */
}

static void test_close_keeps_replaced_mapping(void **state)
{
	(void)state;
	assert_int_equal(kt_in_child(replaced_child, NULL), 0);
	assert_int_equal(kt_kshm_counter("objects"), 0);
}

/*
 * Object A is mapped, its descriptor closed with plain close(); object B
 * gets the same descriptor number.  kshm_close(B) unmaps B's mapping only:
 * A's stays (and keeps A alive).
 */
static void reuse_child(void *arg)
{
	volatile unsigned char *a, *b;
	void *va, *vb;
	int fa, fb;

	(void)arg;
	signal(SIGSEGV, SIG_DFL);
	fa = kshm_open("h-a");
	if (fa < 0 || kshm_trunc(fa, PG) < 0 || kshm_map(fa, &va, O_RDWR))
		_exit(10);
	a = va;
	a[0] = 'A';
	close(fa);
	fb = kshm_open("h-b");
	if (fb != fa)
		_exit(11);	/* the lowest free number: the same */
	if (kshm_trunc(fb, PG) < 0 || kshm_map(fb, &vb, O_RDWR))
		_exit(12);
	b = vb;
	b[0] = 'B';
	if (kshm_close(fb))
		_exit(13);
	if (a[0] != 'A')	/* SIGSEGV if A's mapping was unmapped */
		_exit(14);
	if (munmap(va, PG))
		_exit(15);
	_exit(0);
}

static void test_close_after_fd_reuse(void **state)
{
	(void)state;
	assert_int_equal(kt_in_child(reuse_child, NULL), 0);
	assert_int_equal(kt_kshm_counter("objects"), 0);
}

/* kshm_close() after the program unmapped everything itself: just closes. */
static void test_close_after_own_munmap(void **state)
{
	void *va;
	int fd = kshm_open("h-own");

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(kshm_trunc(fd, 2 * PG), 2 * PG);
	assert_int_equal(kshm_map(fd, &va, O_RDWR), 0);
	assert_int_equal(munmap(va, 2 * PG), 0);
	assert_int_equal(kshm_close(fd), 0);
	assert_errno(fcntl(fd, F_GETFD), EBADF);
	assert_int_equal(kt_kshm_counter("objects"), 0);
}

/* KSHM_IOC_MAPPED: finds this open file's runs of mappings in a range. */
static void test_ioc_mapped(void **state)
{
	int ctl = open("/dev/kshm", O_RDWR | O_CLOEXEC), fd, other;
	unsigned long long size = 4 * PG;
	struct kshm_range r;
	char *p, *q;

	(void)state;
	assert_true(ctl >= 0);
	fd = kt_kshm_open(ctl, "h-mapped", KSHM_RDWR | KSHM_CREAT, 0600);
	other = kt_kshm_open(ctl, "h-other", KSHM_RDWR | KSHM_CREAT, 0600);
	assert_true(fd >= 0 && other >= 0);
	assert_int_equal(kt_kshm_trunc(fd, &size), 0);
	assert_int_equal(kt_kshm_trunc(other, &size), 0);
	p = mmap(NULL, 4 * PG, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	/* page 1 becomes the other object's, page 2 anonymous */
	q = mmap(p + PG, PG, PROT_READ, MAP_SHARED | MAP_FIXED, other, 0);
	assert_ptr_equal(q, p + PG);
	q = mmap(p + 2 * PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
		 MAP_FIXED, -1, 0);
	assert_ptr_equal(q, p + 2 * PG);
	r = (struct kshm_range){ (uintptr_t)p, 4 * PG };
	assert_int_equal(ioctl(fd, KSHM_IOC_MAPPED, &r), 0);
	assert_int_equal(r.addr, (uintptr_t)p);
	assert_int_equal(r.len, PG);
	r = (struct kshm_range){ (uintptr_t)p + PG, 3 * PG };
	assert_int_equal(ioctl(fd, KSHM_IOC_MAPPED, &r), 0);
	assert_int_equal(r.addr, (uintptr_t)p + 3 * PG);
	assert_int_equal(r.len, PG);
	r = (struct kshm_range){ (uintptr_t)p + PG, 2 * PG };
	assert_int_equal(ioctl(fd, KSHM_IOC_MAPPED, &r), 0);
	assert_int_equal(r.len, 0);
	r = (struct kshm_range){ (uintptr_t)p + PG, PG };
	assert_int_equal(ioctl(other, KSHM_IOC_MAPPED, &r), 0);
	assert_int_equal(r.len, PG);
	/* bad ranges */
	r = (struct kshm_range){ (uintptr_t)p, 0 };
	assert_errno(ioctl(fd, KSHM_IOC_MAPPED, &r), EINVAL);
	r = (struct kshm_range){ (uintptr_t)p + 1, PG };
	assert_errno(ioctl(fd, KSHM_IOC_MAPPED, &r), EINVAL);
	r = (struct kshm_range){ ~0ULL & ~(PG - 1), PG };
	assert_errno(ioctl(fd, KSHM_IOC_MAPPED, &r), EINVAL);
	r = (struct kshm_range){ PG, ~0ULL - PG };
	assert_errno(ioctl(fd, KSHM_IOC_MAPPED, &r), EINVAL);
	assert_errno(ioctl(fd, KSHM_IOC_MAPPED, NULL), EFAULT);
	munmap(p, 4 * PG);
	close(fd);
	close(other);
	close(ctl);
}

/* ---- 2. EBADF for descriptors that are not kshm objects ---------------- */

static void expect_not_kshm(int fd)
{
	struct kshm_info info;
	void *va = NULL;

	assert_errno(kshm_trunc(fd, PG), EBADF);
	assert_errno(kshm_stat(fd, &info), EBADF);
	assert_errno(kshm_size(fd), EBADF);
	assert_errno(kshm_map(fd, &va, O_RDWR), EBADF);
	assert_null(va);
	assert_errno(kshm_close(fd), EBADF);
	/* and the descriptor is left open */
	assert_true(fcntl(fd, F_GETFD) >= 0);
}

static void test_ebadf_for_other_fds(void **state)
{
	int slot, null, file, ctl;

	(void)state;
	kt_unload_if_loaded("message_slot");
	assert_int_equal(kt_slot_load(NULL), 0);
	slot = kt_slot_open_chan(0, 1);
	expect_not_kshm(slot);		/* answers unknown ioctls EINVAL */
	kt_slot_put_str(slot, "still a slot");
	kt_slot_expect_str(slot, "still a slot");
	close(slot);
	assert_int_equal(kt_unload("message_slot"), 0);

	null = open("/dev/null", O_RDWR);
	assert_true(null >= 0);
	expect_not_kshm(null);		/* ENOTTY */
	close(null);
	file = open("/tmp/kt-kshm-file", O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(file >= 0);
	expect_not_kshm(file);
	close(file);
	unlink("/tmp/kt-kshm-file");
	ctl = open("/dev/kshm", O_RDWR);
	assert_true(ctl >= 0);
	expect_not_kshm(ctl);		/* the control device is no object */
	close(ctl);
	assert_errno(kshm_size(-1), EBADF);
	assert_errno(kshm_size(12345), EBADF);
}

/*
 * A descriptor kshm_open() returned is trusted without an fstat; closed
 * with close(2) and its number reused by another file, every call must
 * still see that it is no kshm object.  Each call gets a fresh stale number
 * (the first failure makes the library check again).
 */
enum stale_op { ST_TRUNC, ST_STAT, ST_SIZE, ST_MAP, ST_CLOSE, ST_NR };

static void expect_stale_ebadf(int other, enum stale_op op)
{
	struct kshm_info info;
	void *va = NULL;
	int fd = kshm_open("h-stale");

	assert_true(fd >= 0);
	assert_int_equal(close(fd), 0);
	assert_int_equal(dup2(other, fd), fd);
	switch (op) {
	case ST_TRUNC:
		assert_errno(kshm_trunc(fd, PG), EBADF);
		break;
	case ST_STAT:
		assert_errno(kshm_stat(fd, &info), EBADF);
		break;
	case ST_SIZE:
		assert_errno(kshm_size(fd), EBADF);
		break;
	case ST_MAP:
		assert_errno(kshm_map(fd, &va, O_RDWR), EBADF);
		assert_null(va);
		break;
	default:
		assert_errno(kshm_close(fd), EBADF);
		break;
	}
	assert_true(fcntl(fd, F_GETFD) >= 0);	/* left open */
	assert_int_equal(close(fd), 0);
	assert_int_equal(kt_kshm_counter("objects"), 0);
}

static void test_ebadf_for_reused_number(void **state)
{
	int op, slot, null, efd;
	uint64_t v = 0;

	(void)state;
	kt_unload_if_loaded("message_slot");
	assert_int_equal(kt_slot_load(NULL), 0);
	slot = kt_slot_open_chan(0, 1);
	null = open("/dev/null", O_RDWR);
	efd = eventfd(3, 0);
	assert_true(null >= 0 && efd >= 0);
	for (op = 0; op < ST_NR; op++) {
		expect_stale_ebadf(slot, op);	/* EINVAL from the slot */
		expect_stale_ebadf(null, op);	/* ENOTTY */
		expect_stale_ebadf(efd, op);	/* ENOTTY */
	}
	kt_slot_put_str(slot, "still a slot");
	kt_slot_expect_str(slot, "still a slot");
	assert_int_equal(read(efd, &v, sizeof(v)), sizeof(v));
	assert_int_equal(v, 3);
	close(efd);
	close(null);
	close(slot);
	assert_int_equal(kt_unload("message_slot"), 0);
}

/*
 * The same with a mapping recorded for the stale number: kshm_close()
 * fails with EBADF, closes nothing and unmaps nothing.
 */
static void stale_mapped_child(void *arg)
{
	volatile unsigned char *p;
	void *va;
	int fd, null;

	(void)arg;
	signal(SIGSEGV, SIG_DFL);
	fd = kshm_open("h-stale-map");
	if (fd < 0 || kshm_trunc(fd, PG) < 0 || kshm_map(fd, &va, O_RDWR))
		_exit(10);
	p = va;
	p[0] = 'x';
	null = open("/dev/null", O_RDWR);
	if (null < 0 || close(fd) || dup2(null, fd) != fd)
		_exit(11);
	errno = 0;
	if (kshm_close(fd) != -1 || errno != EBADF)
		_exit(12);
	if (fcntl(fd, F_GETFD) < 0)
		_exit(13);
	if (p[0] != 'x')	/* SIGSEGV if it was unmapped */
		_exit(14);
	_exit(munmap(va, PG) ? 15 : 0);
}

static void test_close_reused_number_mapped(void **state)
{
	(void)state;
	assert_int_equal(kt_in_child(stale_mapped_child, NULL), 0);
	assert_int_equal(kt_kshm_counter("objects"), 0);
}

/* ---- 3. name squatting --------------------------------------------------- */

struct squat {
	const char *name;
	unsigned int flags, mode;
	int want;		/* descriptor (>= 0 means any) or -errno */
};

static void open_child(void *arg)
{
	const struct squat *s = arg;
	int ctl = open("/dev/kshm", O_RDWR | O_CLOEXEC), fd;

	if (ctl < 0)
		_exit(10);
	fd = kt_kshm_open(ctl, s->name, s->flags, s->mode);
	if (s->want >= 0 ? fd < 0 : fd != s->want)
		_exit(fd < 0 ? 20 + (-fd & 63) : 11);
	_exit(0);
}

/* uid 1000 creates NAME 0666 and holds it until the pipe closes. */
static pid_t squatter(const char *name, int *release)
{
	int ready[2], hold[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(hold), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int ctl, fd;

		close(ready[0]);
		close(hold[1]);
		umask(0);
		if (setgroups(0, NULL) || setgid(GID_USER) || setuid(UID_USER))
			_exit(99);
		ctl = open("/dev/kshm", O_RDWR | O_CLOEXEC);
		fd = ctl < 0 ? -1 : kt_kshm_open(ctl, name,
						 KSHM_RDWR | KSHM_CREAT, 0666);
		if (fd < 0 || write(ready[1], "r", 1) != 1)
			_exit(10);
		(void)!read(hold[0], &c, 1);
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	*release = hold[1];
	return pid;
}

static void squatter_done(pid_t pid, int release)
{
	int st;

	close(release);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_squatting_refused(void **state)
{
	struct squat other = { "victim", KSHM_RDWR | KSHM_CREAT, 0600,
			       -EACCES };
	struct squat owner = { "victim", KSHM_RDWR | KSHM_CREAT, 0600, 0 };
	int release, fd;
	pid_t pid;

	(void)state;
	assert_int_equal(param_bool("protected_names"), 1);
	pid = squatter("victim", &release);
	/* root's open-or-create of uid 1000's object: refused */
	assert_errno(kshm_open("victim"), EACCES);
	assert_errno(kshm_open_mode("victim", O_RDONLY | O_CREAT, 0600),
		     EACCES);
	assert_errno(kshm_open_mode("victim", O_RDWR | O_CREAT | O_EXCL, 0600),
		     EEXIST);
	/* an open without O_CREAT knows it opens an existing object */
	fd = kshm_open_mode("victim", O_RDWR, 0);
	assert_true(fd >= 0);
	assert_int_equal(kshm_close(fd), 0);
	/* another user too; the owner itself may */
	assert_int_equal(kt_as_user(UID_OTHER, UID_OTHER, open_child, &other),
			 0);
	assert_int_equal(kt_as_user(UID_USER, GID_USER, open_child, &owner), 0);
	squatter_done(pid, release);
	assert_int_equal(kt_kshm_counter("objects"), 0);
	/* a fresh name is created as before */
	fd = kshm_open("victim");
	assert_true(fd >= 0);
	assert_int_equal(kshm_close(fd), 0);
}

static void test_squatting_protection_off(void **state)
{
	struct squat other = { "shared", KSHM_RDWR | KSHM_CREAT, 0600, 0 };
	int release, fd;
	pid_t pid;

	(void)state;
	kt_kshm_reload("protected_names=0");
	assert_int_equal(param_bool("protected_names"), 0);
	pid = squatter("shared", &release);
	fd = kshm_open("shared");		/* xv6-style sharing */
	assert_true(fd >= 0);
	assert_int_equal(kshm_close(fd), 0);
	assert_int_equal(kt_as_user(UID_OTHER, UID_OTHER, open_child, &other),
			 0);
	squatter_done(pid, release);
}

/* ---- 4. max_per_user and /proc/kshm ------------------------------------- */

struct hold {
	int n;			/* objects to create */
	const char *prefix;
	int third;		/* what creating one more must give */
};

static void per_user_child(void *arg)
{
	const struct hold *h = arg;
	int ctl = open("/dev/kshm", O_RDWR | O_CLOEXEC), i, fd;
	char name[64];

	if (ctl < 0)
		_exit(10);
	for (i = 0; i < h->n; i++) {
		snprintf(name, sizeof(name), "%s%d", h->prefix, i);
		if (kt_kshm_open(ctl, name, KSHM_RDWR | KSHM_CREAT, 0600) < 0)
			_exit(11);
	}
	snprintf(name, sizeof(name), "%s-more", h->prefix);
	fd = kt_kshm_open(ctl, name, KSHM_RDWR | KSHM_CREAT, 0600);
	if (h->third >= 0 ? fd < 0 : fd != h->third)
		_exit(fd < 0 ? 20 + (-fd & 63) : 12);
	/* opening an existing object is no creation: allowed */
	snprintf(name, sizeof(name), "%s0", h->prefix);
	if (h->n && kt_kshm_open(ctl, name, KSHM_RDWR, 0) < 0)
		_exit(13);
	_exit(0);
}

static void test_max_per_user(void **state)
{
	struct hold user = { 2, "u", -ENOSPC }, again = { 2, "v", -ENOSPC };
	int fd;

	(void)state;
	kt_kshm_reload("max_per_user=2");
	assert_int_equal(kt_module_param("kshm", "max_per_user"), 2);
	fd = kshm_open("root-held");		/* root's count, not uid 1000's */
	assert_true(fd >= 0);
	assert_int_equal(kt_as_user(UID_USER, GID_USER, per_user_child, &user),
			 0);
	/* the child's objects are gone with it: the count is back */
	assert_int_equal(kt_kshm_counter("objects"), 1);
	assert_int_equal(kt_as_user(UID_USER, GID_USER, per_user_child, &again),
			 0);
	assert_int_equal(kshm_close(fd), 0);
	/* below max_per_user, max_objects still rules */
	kt_kshm_reload("max_objects=1 max_per_user=1");
	fd = kshm_open("only");
	assert_true(fd >= 0);
	{
		struct hold one = { 0, "w", -ENOSPC };

		assert_int_equal(kt_as_user(UID_USER, GID_USER, per_user_child,
					    &one), 0);
	}
	assert_int_equal(kshm_close(fd), 0);
}

/*
 * The default leaves room for others: with max_objects=64 one user
 * creates 16 objects and no more (ENOSPC) while another user still can;
 * root (CAP_SYS_RESOURCE) creates past it.  Before the fix the default
 * was max_objects: one user could hold all 64.
 */
static void test_max_per_user_default(void **state)
{
	struct hold other = { 1, "o", 0 };
	int ready[2], go[2], fds[17], i, st;
	char name[32], res = 1;
	pid_t pid;

	(void)state;
	kt_kshm_reload("max_per_process=64");
	assert_int_equal(kt_module_param("kshm", "max_objects"), 64);
	assert_int_equal(kt_module_param("kshm", "max_per_user"), 16);
	for (i = 0; i < 17; i++) {		/* root: past max_per_user */
		snprintf(name, sizeof(name), "root%d", i);
		fds[i] = kshm_open(name);
		assert_true(fds[i] >= 0);
	}
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int ctl;

		close(ready[0]);
		close(go[1]);
		if (setgroups(0, NULL) || setgid(GID_USER) || setuid(UID_USER))
			_exit(99);
		ctl = open("/dev/kshm", O_RDWR | O_CLOEXEC);
		res = ctl < 0 ? 2 : 0;
		for (i = 0; !res && i < 16; i++) {
			snprintf(name, sizeof(name), "user%d", i);
			if (kt_kshm_open(ctl, name, KSHM_RDWR | KSHM_CREAT,
					 0600) < 0)
				res = 3;
		}
		if (!res && kt_kshm_open(ctl, "user-more",
					 KSHM_RDWR | KSHM_CREAT, 0600) != -ENOSPC)
			res = 4;
		if (write(ready[1], &res, 1) != 1)
			_exit(98);
		/* hold the 16 objects until the parent is done */
		while (read(go[0], &res, 1) > 0)
			;
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	assert_int_equal(read(ready[0], &res, 1), 1);
	assert_int_equal(res, 0);
	assert_int_equal(kt_kshm_counter("objects"), 17 + 16);
	/* another user still has room */
	assert_int_equal(kt_as_user(UID_OTHER, UID_OTHER, per_user_child,
				    &other), 0);
	close(go[1]);
	close(ready[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	for (i = 0; i < 17; i++)
		assert_int_equal(kshm_close(fds[i]), 0);
	/* a quarter of max_objects, at least one */
	kt_kshm_reload("max_objects=7");
	assert_int_equal(kt_module_param("kshm", "max_per_user"), 1);
	kt_kshm_reload("max_objects=8");
	assert_int_equal(kt_module_param("kshm", "max_per_user"), 2);
}

/* Bad max_per_user values fail the load (0, above max_objects). */
static void test_max_per_user_params(void **state)
{
	(void)state;
	assert_int_equal(kt_kshm_unload(), 0);
	assert_int_equal(kt_load("kshm", "max_per_user=0"), -EINVAL);
	assert_int_equal(kt_load("kshm", "max_objects=4 max_per_user=5"),
			 -EINVAL);
	assert_int_equal(kt_load("kshm", "max_objects=4 max_per_user=4"), 0);
}

/* Rows of /proc/kshm as the calling process sees it: name -> listed. */
static bool listed(const char *name)
{
	FILE *f = fopen("/proc/kshm", "r");
	char line[512], n[200];
	unsigned long size;
	unsigned int uid, gid, mode, opens;
	int maps;
	bool found = false;

	if (!f)
		_exit(90);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lu %u %u %o %u %d %199[^\n]", &size, &uid,
			   &gid, &mode, &opens, &maps, n) == 7 &&
		    !strcmp(n, name))
			found = true;
	fclose(f);
	return found;
}

static void proc_user_child(void *arg)
{
	int ctl = open("/dev/kshm", O_RDWR | O_CLOEXEC), fd;

	(void)arg;
	if (ctl < 0)
		_exit(10);
	fd = kt_kshm_open(ctl, "user-own", KSHM_RDWR | KSHM_CREAT, 0600);
	if (fd < 0)
		_exit(11);
	if (listed("root-secret"))
		_exit(12);	/* 0600 root: may not open, not listed */
	if (!listed("root-public"))
		_exit(13);	/* 0644 root: may open read-only */
	if (!listed("group-ok"))
		_exit(14);	/* 0060, group GID_USER */
	if (!listed("user-own"))
		_exit(15);
	_exit(0);
}

static void proc_root_nocap_child(void *arg)
{
	(void)arg;
	/* root without CAP_IPC_OWNER: only what its uid/groups allow */
	if (prctl(PR_CAPBSET_DROP, CAP_IPC_OWNER, 0, 0, 0))
		_exit(20);
	{
		struct __user_cap_header_struct h = {
			_LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct d[2];

		if (syscall(SYS_capget, &h, d))
			_exit(21);
		d[CAP_IPC_OWNER / 32].effective &= ~(1u << (CAP_IPC_OWNER % 32));
		d[CAP_IPC_OWNER / 32].permitted &= ~(1u << (CAP_IPC_OWNER % 32));
		if (syscall(SYS_capset, &h, d))
			_exit(22);
	}
	if (setresuid(UID_OTHER, UID_OTHER, UID_OTHER))
		_exit(23);
	if (listed("root-secret") || !listed("root-public"))
		_exit(24);
	_exit(0);
}

static void test_proc_lists_what_reader_may_open(void **state)
{
	int secret, public, group;

	(void)state;
	umask(0);
	secret = kshm_open_mode("root-secret", O_RDWR | O_CREAT, 0600);
	public = kshm_open_mode("root-public", O_RDWR | O_CREAT, 0644);
	assert_int_equal(setegid(GID_USER), 0);
	group = kshm_open_mode("group-ok", O_RDWR | O_CREAT, 0060);
	assert_int_equal(setegid(0), 0);
	umask(022);
	assert_true(secret >= 0 && public >= 0 && group >= 0);
	assert_int_equal(kt_as_user(UID_USER, GID_USER, proc_user_child, NULL),
			 0);
	assert_int_equal(kt_in_child(proc_root_nocap_child, NULL), 0);
	/* root with CAP_IPC_OWNER sees everything */
	assert_true(listed("root-secret"));
	assert_true(listed("root-public"));
	assert_true(listed("group-ok"));
	kshm_close(secret);
	kshm_close(public);
	kshm_close(group);
}

#define T(f) cmocka_unit_test_teardown(f, kt_kshm_reset)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_close_keeps_replaced_mapping),
		T(test_close_after_fd_reuse),
		T(test_close_after_own_munmap),
		T(test_ioc_mapped),
		T(test_ebadf_for_other_fds),
		T(test_ebadf_for_reused_number),
		T(test_close_reused_number_mapped),
		T(test_squatting_refused),
		T(test_squatting_protection_off),
		T(test_max_per_user),
		T(test_max_per_user_default),
		T(test_max_per_user_params),
		T(test_proc_lists_what_reader_may_open),
	};

	return kt_run_group(tests, kt_kshm_setup, kt_kshm_teardown);
}
