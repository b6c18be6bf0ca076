// SPDX-License-Identifier: GPL-2.0
/*
 * kshm/fault - fault-injection walks (tests/lib/kt_fault.h) over every
 * entry point of kshm.ko that allocates memory or copies from or to user
 * space: open of /dev/kshm, KSHM_IOC_OPEN (create, open existing,
 * KSHM_EXCL, read-only), KSHM_IOC_TRUNC (every page allocation),
 * KSHM_IOC_INFO, mmap and first touch, splitting and forking a mapping
 * (the VMA open/close hooks), close and the last munmap (release), open and
 * read of /proc/kshm (a listing longer than a page), one libkipc sequence,
 * and module loading with each parameter form.
 *
 * Every injected failure must return the documented errno with no kernel
 * report, and leave everything as it was: an object "base" made before the
 * walk keeps its size and bytes for us and for a holder process, the
 * object, page and process counters of /proc/kshm do not move, no name
 * stays registered, no descriptor is installed, the per-process open limit
 * is not consumed, and a failed load leaves no module, /dev/kshm or
 * /proc/kshm.  kmemleak is clean after unloading.  Skipped on kernels
 * without fault injection (Debian's stock kernels); runs under
 * make check-debug.
 */
#include "lib/kt.h"
#include "lib/kt_fault.h"
#include "lib/kt_fault_load.h"
#include "lib/kt_fds.h"
#include "lib/kt_kshm.h"
#include "lib/kt_sys.h"

#include <kipc/kshm.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MOD "kshm"
#define DEV "/dev/kshm"
#define PG 4096
#define BASE_PAGES 2
#define TRUNC_PAGES 8

static const int enomem_efault[] = { ENOMEM, EFAULT, 0 };
static const int enomem_only[] = { ENOMEM, 0 };
static const int efault_only[] = { EFAULT, 0 };
static const int no_error[] = { 0 };

/* ---- helpers ---------------------------------------------------------- */

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/*
 * Our /dev/kshm descriptor, numbered 100 or above: out of the way of the
 * low number that libkipc caches.
 */
static int open_ctl(void)
{
	int fd = open(DEV, O_RDWR | O_CLOEXEC), high;

	assert_true(fd >= 0);
	high = fcntl(fd, F_DUPFD_CLOEXEC, 100);
	assert_true(high >= 100);
	close(fd);
	return high;
}

#define OBJ_LINK "anon_inode:[kshm]"

/* Unmap every kshm mapping of this process (after a failed test). */
static void unmap_all(void)
{
	unsigned long start, end;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[kshm]") &&
		    sscanf(line, "%lx-%lx", &start, &end) == 2)
			munmap((void *)start, end - start);
	fclose(f);
}

/* Close every kshm descriptor of this process (after a failed test). */
static void close_all(void)
{
	kt_close_fds_to(DEV);
	kt_close_fds_to(OBJ_LINK);
}

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 13 + 5);
}

static void assert_pattern(const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != pattern(i))
			fail_msg("byte %zu is %u, not %u", i, p[i], pattern(i));
}

/*
 * The state every walk starts from: the object "base" (BASE_PAGES pages
 * of pattern()), created, sized and mapped read-only by a holder process,
 * which checks the bytes and the size again when told to finish.  We take
 * the holder's descriptor with pidfd_getfd() and map it read-write: one
 * open file, charged to the holder, and 2 maps.  So this process starts
 * every walk holding no kshm charge of its own, and its first
 * KSHM_IOC_OPEN allocates its per-process entry too.
 */
struct base {
	int ctl;		/* our /dev/kshm descriptor */
	int fd;			/* base, read-write (the holder's open file) */
	unsigned char *map;	/* base, mapped read-write */
	pid_t holder;
	int go;			/* write end: the holder checks and exits */
	long objects;		/* objects we hold besides base */
};

static struct base base = { .ctl = -1, .fd = -1, .holder = -1, .go = -1 };

static void holder_main(int ready, int go)
{
	unsigned long long size = BASE_PAGES * PG;
	struct kshm_info info;
	unsigned char *p, c;
	int ctl, fd;
	size_t i;

	ctl = open(DEV, O_RDWR | O_CLOEXEC);
	fd = ctl < 0 ? -1 : kt_kshm_open(ctl, "base", KSHM_RDWR | KSHM_CREAT, 0644);
	if (fd < 0 || kt_kshm_trunc(fd, &size))
		_exit(2);
	p = mmap(NULL, BASE_PAGES * PG, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		_exit(3);
	if (write(ready, &fd, sizeof(fd)) != sizeof(fd) ||
	    read(go, &c, 1) != 1)
		_exit(4);
	for (i = 0; i < BASE_PAGES * PG; i++)
		if (p[i] != pattern(i))
			_exit(5);
	if (ioctl(fd, KSHM_IOC_INFO, &info) || info.size != BASE_PAGES * PG)
		_exit(6);
	_exit(0);
}

static void base_create(void)
{
	int ready[2], go[2], hfd, pidfd;
	size_t i;

	base.objects = 0;
	base.ctl = open_ctl();
	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	base.holder = fork();
	assert_true(base.holder >= 0);
	if (!base.holder) {
		close(ready[0]);
		close(go[1]);
		holder_main(ready[1], go[0]);
	}
	close(ready[1]);
	close(go[0]);
	base.go = go[1];
	assert_int_equal(read(ready[0], &hfd, sizeof(hfd)), sizeof(hfd));
	close(ready[0]);
	pidfd = (int)syscall(SYS_pidfd_open, base.holder, 0);
	assert_true(pidfd >= 0);
	base.fd = (int)syscall(SYS_pidfd_getfd, pidfd, hfd, 0);
	assert_true(base.fd >= 0);
	close(pidfd);
	base.map = mmap(NULL, BASE_PAGES * PG, PROT_READ | PROT_WRITE,
			MAP_SHARED, base.fd, 0);
	assert_true(base.map != MAP_FAILED);
	for (i = 0; i < BASE_PAGES * PG; i++)
		base.map[i] = pattern(i);
}

/*
 * Base is intact: size, bytes, opens, maps and the counters; and the
 * device still works (base can be opened by name once more).
 */
static void base_check(unsigned int opens, unsigned int maps)
{
	struct kshm_info info = kt_kshm_info(base.fd);
	int fd;

	assert_int_equal(info.size, BASE_PAGES * PG);
	assert_int_equal(info.opens, opens);
	assert_int_equal(info.maps, maps);
	assert_string_equal(info.name, "base");
	assert_pattern(base.map, BASE_PAGES * PG);
	assert_int_equal(kt_kshm_counter("objects"), 1 + base.objects);
	/* the holder's charge, and ours only while we hold other objects */
	assert_int_equal(kt_kshm_counter("processes"), 1 + (base.objects > 0));
	fd = kt_kshm_open(base.ctl, "/base", KSHM_RDONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(kt_kshm_info(fd).opens, opens + 1);
	close(fd);
}

/*
 * Nothing of the open limit was consumed: holding HELD objects, this
 * process can open exactly max_per_process - HELD more.
 */
static void assert_open_limit(long held)
{
	long max = (long)kt_module_param("kshm", "max_per_process"), i;
	int fds[64];
	char name[32];

	assert_true(max - held <= 64);
	for (i = 0; i < max - held; i++) {
		snprintf(name, sizeof(name), "limit-%ld", i);
		fds[i] = kt_kshm_open(base.ctl, name, KSHM_RDWR | KSHM_CREAT, 0600);
		if (fds[i] < 0)
			fail_msg("open %ld of %ld: %s", held + i + 1, max,
				 strerror(-fds[i]));
	}
	assert_int_equal(kt_kshm_open(base.ctl, "limit-x", KSHM_RDWR | KSHM_CREAT,
				 0600), -EMFILE);
	for (i = 0; i < max - held; i++)
		close(fds[i]);
}

/* The holder still sees base; then nothing is left. */
static void base_finish(void)
{
	int status;
	char c = 1;

	assert_int_equal(write(base.go, &c, 1), 1);
	assert_int_equal(waitpid(base.holder, &status, 0), base.holder);
	base.holder = -1;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	base_check(1, 1);
	assert_int_equal(munmap(base.map, BASE_PAGES * PG), 0);
	base.map = NULL;
	close(base.fd);
	base.fd = -1;
	assert_int_equal(kt_kshm_counter("objects"), base.objects);
	assert_int_equal(kt_kshm_counter("pages"), 0);
	assert_int_equal(kt_kshm_counter("processes"), 0);
}

/* Whatever a failed test left: kill the holder, close everything. */
static int test_teardown(void **state)
{
	(void)state;
	if (base.holder > 0) {
		kill(base.holder, SIGKILL);
		waitpid(base.holder, NULL, 0);
	}
	if (base.go >= 0)
		close(base.go);
	unmap_all();
	close_all();
	base = (struct base){ .ctl = -1, .fd = -1, .holder = -1, .go = -1 };
	return 0;
}

static int setup(void **state)
{
	(void)state;
	umask(022);
	kt_unload_if_loaded(MOD);
	return kt_load(MOD, NULL);
}

static int teardown(void **state)
{
	(void)state;
	return kt_loaded(MOD) ? kt_kshm_unload() : 0;
}

/* Every walk test starts so: fault injection, kshm loaded with PARAMS, base. */
static void begin(const char *params)
{
	kt_fault_require();
	kt_kshm_reload(params);
	base_create();
}

/* kt_fault_walk, and how long it took. */
static void walk(const struct kt_fault_op *op, struct kt_fault_result *r)
{
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	kt_fault_walk(op, r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# kshm/fault: %s: %.1f s\n", op->name,
	       (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
}

/* Count the errnos a walk produced. */
struct seen {
	unsigned int enomem, efault;
};

static void saw(struct seen *s, int rc)
{
	s->enomem += rc == -ENOMEM;
	s->efault += rc == -EFAULT;
}

/* ---- open of /dev/kshm ------------------------------------------------ */

struct dev_walk {
	int fd;
	struct seen seen;
};

static int dev_run(void *arg)
{
	struct dev_walk *w = arg;

	w->fd = open(DEV, O_RDWR | O_CLOEXEC);
	return w->fd < 0 ? -errno : 0;
}

static void dev_check(void *arg, unsigned int nth, int rc)
{
	struct dev_walk *w = arg;

	(void)nth;
	saw(&w->seen, rc);
	if (rc)
		assert_int_equal(kt_count_fds_to(DEV), 1);	/* base.ctl */
	base_check(1, 2);
}

/* The new descriptor works: it creates and opens objects. */
static void dev_undo(void *arg)
{
	struct dev_walk *w = arg;
	int fd = kt_kshm_open(w->fd, "dev-probe", KSHM_RDWR | KSHM_CREAT, 0600);

	assert_true(fd >= 0);
	close(fd);
	fd = kt_kshm_open(w->fd, "base", KSHM_RDONLY, 0);
	assert_true(fd >= 0);
	close(fd);
	close(w->fd);
}

static void test_walk_dev_open(void **state)
{
	struct dev_walk w = { -1, { 0 } };
	const struct kt_fault_op op = {
		.name = "kshm open /dev/kshm", .run = dev_run,
		.check = dev_check, .undo = dev_undo, .arg = &w,
		.errnos = enomem_efault,
	};
	struct kt_fault_result r;

	(void)state;
	begin("max_per_process=4");
	/*
	 * getname's allocation and copies.  The fault points of one open()
	 * are not the same from attempt to attempt: a slab that runs empty
	 * adds a page allocation in front of the name copy, so an unlucky
	 * walk fails that allocation at the point where the copy would have
	 * been and never reaches the copy (seen once in check-debug: 5
	 * points, 2 failed, no EFAULT).  Walk again, at most 3 times, until
	 * both errnos were seen.
	 */
	for (int i = 0; i < 3 && !(w.seen.enomem && w.seen.efault); i++) {
		walk(&op, &r);
		assert_true(r.failed >= 1);
	}
	assert_true(w.seen.enomem >= 1);
	assert_true(w.seen.efault >= 1);
	assert_open_limit(0);
	base_finish();
}

/* ---- KSHM_IOC_OPEN ---------------------------------------------------- */

/**
 * struct open_walk - one way of calling KSHM_IOC_OPEN
 * @name:   the object it opens
 * @flags:  KSHM_* flags
 * @create: it creates @name (else @name is base)
 */
struct open_walk {
	const char *name;
	unsigned int flags;
	bool create;
	int fd;
	struct seen seen;
};

static int open_run(void *arg)
{
	struct open_walk *w = arg;

	w->fd = kt_kshm_open(base.ctl, w->name, w->flags, 0640);
	return w->fd < 0 ? w->fd : 0;
}

static void open_check(void *arg, unsigned int nth, int rc)
{
	struct open_walk *w = arg;

	(void)nth;
	saw(&w->seen, rc);
	if (!rc)
		return;		/* open_undo checks the object */
	assert_int_equal(kt_count_fds_to(OBJ_LINK), 1);	/* base.fd */
	/* no name left registered, no open charged, base untouched */
	if (w->create)
		assert_int_equal(kt_kshm_open(base.ctl, w->name, KSHM_RDONLY, 0),
				 -ENOENT);
	base_check(1, 2);
}

static void open_undo(void *arg)
{
	struct open_walk *w = arg;
	struct kshm_info info = kt_kshm_info(w->fd);
	unsigned long long size = PG;
	void *p;

	if (w->create) {
		assert_int_equal(info.size, 0);
		assert_int_equal(info.opens, 1);
		assert_int_equal(info.mode, 0640 & ~022);
		assert_string_equal(info.name, w->name);
		assert_int_equal(kt_kshm_counter("objects"), 2);
	} else {
		assert_int_equal(info.size, BASE_PAGES * PG);
		assert_int_equal(info.opens, 2);
		assert_int_equal(kt_kshm_counter("objects"), 1);
	}
	if (!(w->flags & KSHM_RDWR)) {
		/* read-only: no trunc, no writable mapping, reads fine */
		assert_int_equal(kt_kshm_trunc(w->fd, &size), -EBADF);
		p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, w->fd, 0);
		assert_true(p == MAP_FAILED && errno == EACCES);
		p = mmap(NULL, BASE_PAGES * PG, PROT_READ, MAP_SHARED, w->fd, 0);
		assert_true(p != MAP_FAILED);
		assert_pattern(p, BASE_PAGES * PG);
		munmap(p, BASE_PAGES * PG);
	}
	close(w->fd);
	base_check(1, 2);
}

static void walk_open(const char *what, const char *name, unsigned int flags)
{
	struct open_walk w = {
		.name = name, .flags = flags,
		.create = (flags & KSHM_CREAT) != 0,
	};
	char title[64];
	const struct kt_fault_op op = {
		.name = title, .run = open_run, .check = open_check,
		.undo = open_undo, .arg = &w, .errnos = enomem_efault,
	};
	struct kt_fault_result r;

	snprintf(title, sizeof(title), "kshm KSHM_IOC_OPEN %s", what);
	/* small limits: a leaked charge or object soon shows as an errno */
	begin("max_objects=6 max_per_process=4");
	walk(&op, &r);
	/* the argument copy; kshm_file; owner (create: object); the file */
	assert_true(r.failed >= 3);
	assert_int_equal(w.seen.efault, 1);
	assert_true(w.seen.enomem >= 2);
	assert_open_limit(0);
	base_finish();
}

static void test_walk_open_create(void **state)
{
	(void)state;
	walk_open("create", "fresh", KSHM_RDWR | KSHM_CREAT);
}

static void test_walk_open_existing(void **state)
{
	(void)state;
	walk_open("existing", "base", KSHM_RDWR);
}

static void test_walk_open_excl(void **state)
{
	(void)state;
	/* a name left registered would fail the next attempt with EEXIST */
	walk_open("excl", "excl", KSHM_RDWR | KSHM_CREAT | KSHM_EXCL);
}

static void test_walk_open_rdonly(void **state)
{
	(void)state;
	walk_open("rdonly", "base", KSHM_RDONLY);
}

/* ---- KSHM_IOC_TRUNC --------------------------------------------------- */

struct trunc_walk {
	int fd;
	unsigned long long size;
	struct seen seen;
};

static void trunc_fresh(struct trunc_walk *w)
{
	w->fd = kt_kshm_open(base.ctl, "sized", KSHM_RDWR | KSHM_CREAT, 0600);
	assert_true(w->fd >= 0);
}

static int trunc_run(void *arg)
{
	struct trunc_walk *w = arg;

	w->size = TRUNC_PAGES * PG - 100;
	return kt_kshm_trunc(w->fd, &w->size);
}

static void trunc_check(void *arg, unsigned int nth, int rc)
{
	struct trunc_walk *w = arg;
	void *p;

	(void)nth;
	saw(&w->seen, rc);
	if (!rc)
		return;
	/* still unsized: size 0, no pages counted, cannot be mapped */
	assert_int_equal(kt_kshm_info(w->fd).size, 0);
	assert_int_equal(kt_kshm_counter("pages"), BASE_PAGES);
	p = mmap(NULL, PG, PROT_READ, MAP_SHARED, w->fd, 0);
	assert_true(p == MAP_FAILED && errno == EINVAL);
	base_check(1, 2);
}

/* Sized, zeroed pages; then start over with a fresh unsized object. */
static void trunc_undo(void *arg)
{
	struct trunc_walk *w = arg;
	unsigned long long again = PG;
	unsigned char *p;
	size_t i;

	assert_int_equal(w->size, TRUNC_PAGES * PG);
	assert_int_equal(kt_kshm_info(w->fd).size, TRUNC_PAGES * PG);
	assert_int_equal(kt_kshm_counter("pages"), BASE_PAGES + TRUNC_PAGES);
	assert_int_equal(kt_kshm_trunc(w->fd, &again), -EBUSY);
	p = mmap(NULL, TRUNC_PAGES * PG, PROT_READ, MAP_SHARED, w->fd, 0);
	assert_true(p != MAP_FAILED);
	for (i = 0; i < TRUNC_PAGES * PG; i++)
		assert_int_equal(p[i], 0);
	munmap(p, TRUNC_PAGES * PG);
	close(w->fd);
	assert_int_equal(kt_kshm_counter("pages"), BASE_PAGES);
	trunc_fresh(w);
}

static void test_walk_trunc(void **state)
{
	struct trunc_walk w = { -1, 0, { 0 } };
	const struct kt_fault_op op = {
		.name = "kshm KSHM_IOC_TRUNC", .run = trunc_run,
		.check = trunc_check, .undo = trunc_undo, .arg = &w,
		.errnos = enomem_efault,
	};
	struct kt_fault_result r;

	(void)state;
	begin("max_per_process=4");
	base.objects = 1;
	trunc_fresh(&w);
	walk(&op, &r);
	/*
	 * both copies; the page array and every one of the pages.  KASAN's
	 * stack depot sometimes adds an absorbed point in one run, which
	 * shifts the numbering by one and skips one later point: a page, or
	 * the copy out (seen once in CI).  The copy in is point 1, before
	 * any allocation, so it always fails.
	 */
	assert_true(w.seen.efault >= 1);
	assert_true(w.seen.enomem >= TRUNC_PAGES);
	assert_true(r.failed >= TRUNC_PAGES + 2);
	close(w.fd);
	base.objects = 0;
	assert_open_limit(0);
	base_finish();
}

/* ---- KSHM_IOC_INFO ---------------------------------------------------- */

struct info_walk {
	struct kshm_info info;
};

static int info_run(void *arg)
{
	struct info_walk *w = arg;

	return ioctl(base.fd, KSHM_IOC_INFO, &w->info) ? -errno : 0;
}

static void info_check(void *arg, unsigned int nth, int rc)
{
	struct info_walk *w = arg;

	(void)nth;
	if (!rc) {
		/* a point outside kshm (KASAN's stack depot) was absorbed */
		assert_int_equal(w->info.size, BASE_PAGES * PG);
		assert_string_equal(w->info.name, "base");
	}
	base_check(1, 2);
}

static void test_walk_info(void **state)
{
	struct info_walk w;
	const struct kt_fault_op op = {
		.name = "kshm KSHM_IOC_INFO", .run = info_run,
		.check = info_check, .arg = &w, .errnos = efault_only,
	};
	struct kt_fault_result r;

	(void)state;
	begin(NULL);
	walk(&op, &r);
	assert_int_equal(r.failed, 1);	/* the one copy out */
	assert_int_equal(w.info.size, BASE_PAGES * PG);
	assert_int_equal(w.info.opens, 1);
	assert_int_equal(w.info.maps, 2);
	base_finish();
}

/* ---- mmap and first touch --------------------------------------------- */

/**
 * struct map_walk - the mapping walks' state
 * @p:     a mapping of base (mmap, split, fork) or of "gone" (release)
 * @write: map_run maps read-write
 * @fd:    "gone"'s descriptor (release), or -1
 * @child: the child of fork_run
 */
struct map_walk {
	unsigned char *p;
	bool write;
	int fd;
	pid_t child;
};

/* munmap of the first page of @p. */
static int unmap_page_run(void *arg)
{
	struct map_walk *w = arg;

	return munmap(w->p, PG) ? -errno : 0;
}

static int map_run(void *arg)
{
	struct map_walk *w = arg;
	unsigned int i;

	w->p = mmap(NULL, BASE_PAGES * PG,
		    w->write ? PROT_READ | PROT_WRITE : PROT_READ,
		    MAP_SHARED, base.fd, 0);
	if (w->p == MAP_FAILED)
		return -errno;
	for (i = 0; i < BASE_PAGES; i++) {
		volatile unsigned char *b = w->p + i * PG;
		unsigned char v = *b;

		if (w->write)
			*b = v;	/* the same byte: base stays intact */
	}
	return 0;
}

static void map_check(void *arg, unsigned int nth, int rc)
{
	(void)arg;
	(void)nth;
	if (rc)
		base_check(1, 2);
}

static void map_undo(void *arg)
{
	struct map_walk *w = arg;

	assert_pattern(w->p, BASE_PAGES * PG);
	assert_int_equal(kt_kshm_info(base.fd).maps, 3);
	assert_int_equal(munmap(w->p, BASE_PAGES * PG), 0);
	base_check(1, 2);
}

static void test_walk_mmap(void **state)
{
	struct map_walk w = { NULL, false, -1, -1 };
	const struct kt_fault_op op = {
		.name = "kshm mmap+touch", .run = map_run, .check = map_check,
		.undo = map_undo, .arg = &w, .errnos = enomem_only,
	};
	struct kt_fault_result r;

	(void)state;
	begin(NULL);
	walk(&op, &r);
	assert_true(r.failed >= 2);	/* the VMA, its page tables */
	w.write = true;
	walk(&op, &r);
	assert_true(r.failed >= 2);
	base_finish();
}

/* ---- splitting and forking a mapping (kshm's VMA open/close) ---------- */

static void vma_map(struct map_walk *w)
{
	w->p = mmap(NULL, BASE_PAGES * PG, PROT_READ, MAP_SHARED, base.fd, 0);
	assert_true(w->p != MAP_FAILED);
}

static void split_check(void *arg, unsigned int nth, int rc)
{
	struct map_walk *w = arg;

	(void)nth;
	if (!rc)
		return;
	assert_pattern(w->p, BASE_PAGES * PG);	/* all still mapped */
	base_check(1, 3);
}

static void split_undo(void *arg)
{
	struct map_walk *w = arg;

	assert_int_equal(kt_kshm_info(base.fd).maps, 3);
	assert_int_equal(w->p[PG], pattern(PG));
	assert_int_equal(munmap(w->p + PG, PG), 0);
	base_check(1, 2);
	vma_map(w);
}

static int fork_run(void *arg)
{
	struct map_walk *w = arg;

	w->child = fork();
	if (!w->child)
		_exit(0);
	return w->child < 0 ? -errno : 0;
}

static void fork_check(void *arg, unsigned int nth, int rc)
{
	(void)arg;
	(void)nth;
	if (rc)
		base_check(1, 3);
}

/* The child got our mappings and dropped them at exit. */
static void fork_undo(void *arg)
{
	struct map_walk *w = arg;
	int status;

	assert_int_equal(waitpid(w->child, &status, 0), w->child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	base_check(1, 3);
}

static void test_walk_vma(void **state)
{
	struct map_walk w = { NULL, false, -1, -1 };
	const struct kt_fault_op split = {
		.name = "kshm munmap split", .run = unmap_page_run,
		.check = split_check, .undo = split_undo, .arg = &w,
		.errnos = enomem_only,
	};
	const struct kt_fault_op fork_op = {
		.name = "kshm fork with mappings", .run = fork_run,
		.check = fork_check, .undo = fork_undo, .arg = &w,
		.errnos = enomem_only, .max_points = 5000,
	};
	struct kt_fault_result r;

	(void)state;
	begin(NULL);
	vma_map(&w);
	walk(&split, &r);
	assert_true(r.failed >= 2);	/* the new VMA, the maple tree */
	walk(&fork_op, &r);
	assert_true(r.failed >= 50);
	assert_int_equal(munmap(w.p, BASE_PAGES * PG), 0);
	base_finish();
}

/* ---- close and the last munmap (release) ------------------------------ */

static void release_fresh(struct map_walk *w, bool mapped)
{
	unsigned long long size = PG;

	w->fd = kt_kshm_open(base.ctl, "gone", KSHM_RDWR | KSHM_CREAT, 0600);
	assert_true(w->fd >= 0);
	assert_int_equal(kt_kshm_trunc(w->fd, &size), 0);
	if (!mapped)
		return;
	w->p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, w->fd, 0);
	assert_true(w->p != MAP_FAILED);
	w->p[0] = 42;
	close(w->fd);	/* the mapping keeps the object */
	w->fd = -1;
}

static void release_gone(void)
{
	int fd = kt_kshm_open(base.ctl, "gone", KSHM_RDONLY, 0);

	assert_int_equal(fd, -ENOENT);
	assert_int_equal(kt_kshm_counter("pages"), BASE_PAGES);
	base_check(1, 2);
}

static int close_run(void *arg)
{
	struct map_walk *w = arg;

	return close(w->fd) ? -errno : 0;
}

static void close_undo(void *arg)
{
	release_gone();
	release_fresh(arg, false);
}

static void unmap_check(void *arg, unsigned int nth, int rc)
{
	struct map_walk *w = arg;

	(void)nth;
	if (!rc)
		return;
	assert_int_equal(w->p[0], 42);
	assert_int_equal(kt_kshm_counter("objects"), 2);
}

static void unmap_undo(void *arg)
{
	release_gone();
	release_fresh(arg, true);
}

static void test_walk_release(void **state)
{
	struct map_walk w = { NULL, false, -1, -1 };
	const struct kt_fault_op close_op = {
		.name = "kshm close (release)", .run = close_run,
		.undo = close_undo, .arg = &w, .errnos = no_error,
		.no_points = true,
	};
	const struct kt_fault_op unmap_op = {
		.name = "kshm last munmap (release)", .run = unmap_page_run,
		.check = unmap_check, .undo = unmap_undo, .arg = &w,
		.errnos = enomem_only,
	};
	struct kt_fault_result r;

	(void)state;
	begin(NULL);
	/*
	 * Releasing allocates nothing and copies nothing, and close cannot
	 * fail: the walk checks that release frees the object, with no
	 * error and no report whatever the kernel around it absorbs.
	 */
	release_fresh(&w, false);
	walk(&close_op, &r);
	assert_int_equal(r.failed, 0);
	close(w.fd);
	release_fresh(&w, true);
	walk(&unmap_op, &r);
	assert_true(r.failed >= 1);	/* the maple tree */
	munmap(w.p, PG);
	release_gone();
	base_finish();
}

/* ---- /proc/kshm ------------------------------------------------------- */

#define PROC_OBJS 60	/* with 60-byte names: a listing of over a page */

struct proc_walk {
	int fd;
	int objs[PROC_OBJS];
	char buf[65536];
	ssize_t len;
	struct seen seen;
};

static void proc_name(char *name, size_t size, int i)
{
	snprintf(name, size, "%02d-%058d", i, 0);
}

static void proc_reopen(struct proc_walk *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = open("/proc/kshm", O_RDONLY | O_CLOEXEC);
	assert_true(w->fd >= 0);
}

static int proc_open_run(void *arg)
{
	struct proc_walk *w = arg;

	w->fd = open("/proc/kshm", O_RDONLY | O_CLOEXEC);
	return w->fd < 0 ? -errno : 0;
}

static void proc_open_check(void *arg, unsigned int nth, int rc)
{
	struct proc_walk *w = arg;

	(void)nth;
	saw(&w->seen, rc);
	if (rc)
		base_check(1, 2);
}

static void proc_listing_ok(struct proc_walk *w)
{
	char name[KSHM_NAME_BUF];
	int i;

	assert_true(w->len > PG);
	assert_true((size_t)w->len < sizeof(w->buf));
	w->buf[w->len] = '\0';
	assert_non_null(strstr(w->buf, "# objects=61 "));
	assert_non_null(strstr(w->buf, " base\n"));
	for (i = 0; i < PROC_OBJS; i++) {
		proc_name(name, sizeof(name), i);
		assert_non_null(strstr(w->buf, name));
	}
}

static void proc_open_undo(void *arg)
{
	struct proc_walk *w = arg;

	w->len = read(w->fd, w->buf, sizeof(w->buf) - 1);
	proc_listing_ok(w);
	close(w->fd);
	w->fd = -1;
}

static int proc_read_run(void *arg)
{
	struct proc_walk *w = arg;

	w->len = pread(w->fd, w->buf, sizeof(w->buf) - 1, 0);
	return w->len < 0 ? -errno : 0;
}

static void proc_read_check(void *arg, unsigned int nth, int rc)
{
	struct proc_walk *w = arg;

	(void)nth;
	saw(&w->seen, rc);
	if (!rc)
		return;
	base_check(1, 2);
	proc_reopen(w);
}

static void proc_read_undo(void *arg)
{
	struct proc_walk *w = arg;

	proc_listing_ok(w);
	proc_reopen(w);
}

static void test_walk_proc(void **state)
{
	struct proc_walk *w = calloc(1, sizeof(*w));
	const struct kt_fault_op open_op = {
		.name = "kshm open /proc/kshm", .run = proc_open_run,
		.check = proc_open_check, .undo = proc_open_undo, .arg = w,
		.errnos = enomem_efault,
	};
	const struct kt_fault_op read_op = {
		.name = "kshm read /proc/kshm", .run = proc_read_run,
		.check = proc_read_check, .undo = proc_read_undo, .arg = w,
		.errnos = enomem_efault,
	};
	char name[KSHM_NAME_BUF];
	struct kt_fault_result r;
	int i;

	(void)state;
	assert_non_null(w);
	begin("max_per_process=64");
	for (i = 0; i < PROC_OBJS; i++) {
		proc_name(name, sizeof(name), i);
		w->objs[i] = kt_kshm_open(base.ctl, name, KSHM_RDWR | KSHM_CREAT,
				     0600);
		assert_true(w->objs[i] >= 0);
	}
	base.objects = PROC_OBJS;
	memset(w->buf, 1, sizeof(w->buf));	/* no page faults in the copy */
	w->fd = -1;
	walk(&open_op, &r);
	assert_true(r.failed >= 3);	/* path name, seq_file, its ops */
	memset(&w->seen, 0, sizeof(w->seen));
	proc_reopen(w);
	walk(&read_op, &r);
	/*
	 * the first buffer fails the read; the doubled one falls back to
	 * vmalloc (absorbed)
	 */
	assert_true(w->seen.enomem >= 1);
	close(w->fd);
	for (i = 0; i < PROC_OBJS; i++)
		close(w->objs[i]);
	base.objects = 0;
	free(w);
	base_finish();
}

/* ---- libkipc: kshm_open_mode, kshm_trunc, kshm_map, kshm_close -------- */

struct lib_walk {
	struct seen seen;
};

/*
 * Close the library's cached /dev/kshm descriptor (and ours, which comes
 * back at 100 or above), so that each run goes through the library's open
 * path: the stale number fails with EBADF, and it opens the device again.
 */
static void lib_forget_ctl(void)
{
	kt_close_fds_to(DEV);
	base.ctl = open_ctl();
}

static int lib_run(void *arg)
{
	unsigned char *va = NULL;
	int fd, err = 0;

	(void)arg;
	fd = kshm_open_mode("lib", O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return -errno;
	if (kshm_trunc(fd, 3 * PG - 1) != 3 * PG ||
	    kshm_map(fd, (void **)&va, O_RDWR))
		err = -errno;
	else
		memset(va, 0x5a, 3 * PG);
	if (kshm_close(fd)) {
		/* munmap failed: still mapped, fd still open; now it works */
		if (!err)
			err = -errno;
		assert_int_equal(va[0], 0x5a);
		assert_int_equal(kshm_close(fd), 0);
	}
	return err;
}

static void lib_check(void *arg, unsigned int nth, int rc)
{
	struct lib_walk *w = arg;

	(void)nth;
	saw(&w->seen, rc);
	lib_forget_ctl();
	assert_int_equal(kt_kshm_open(base.ctl, "lib", KSHM_RDONLY, 0), -ENOENT);
	base_check(1, 2);
	assert_int_equal(kt_kshm_counter("pages"), BASE_PAGES);
}

static void lib_undo(void *arg)
{
	lib_check(arg, 0, 1);
}

static void test_walk_lib(void **state)
{
	struct lib_walk w = { { 0 } };
	const struct kt_fault_op op = {
		.name = "kshm libkipc open+trunc+map+close", .run = lib_run,
		.check = lib_check, .undo = lib_undo, .arg = &w,
		.errnos = enomem_efault,
	};
	struct kt_fault_result r;

	(void)state;
	begin("max_per_process=4");
	walk(&op, &r);
	assert_true(r.failed >= 3 + 3 + 1 + 1);
	assert_true(w.seen.efault >= 3);
	assert_true(w.seen.enomem >= 3);
	assert_open_limit(0);
	base_finish();
}

/* ---- module loading with each parameter form --------------------------- */

/**
 * struct load_walk - one parameter form
 * @params: the parameters, or NULL
 * @key:    the /proc/kshm counter the parameter sets, or NULL
 * @value:  its expected value
 */
struct load_walk {
	const char *params, *key;
	long value;
};

static int load_run(void *arg)
{
	struct load_walk *w = arg;

	return kt_load(MOD, w->params);
}

static void load_check(void *arg, unsigned int nth, int rc)
{
	(void)arg;
	(void)nth;
	if (!rc)
		return;		/* load_undo checks the loaded module */
	assert_false(kt_loaded(MOD));
	assert_false(exists(DEV));
	assert_false(exists("/proc/kshm"));
	assert_false(exists("/sys/module/kshm"));
	assert_false(exists("/sys/class/misc/kshm"));
}

/* Loaded with the parameter in effect, and working; then unloaded. */
static void load_undo(void *arg)
{
	struct load_walk *w = arg;
	unsigned long long size = PG;
	int ctl, fd;

	assert_true(kt_loaded(MOD));
	if (w->key)
		assert_int_equal(kt_kshm_counter(w->key), w->value);
	assert_int_equal(kt_kshm_counter("objects"), 0);
	ctl = open(DEV, O_RDWR | O_CLOEXEC);
	assert_true(ctl >= 0);
	fd = kt_kshm_open(ctl, "load", KSHM_RDWR | KSHM_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(kt_kshm_trunc(fd, &size), 0);
	close(fd);
	close(ctl);
	assert_int_equal(kt_unload(MOD), 0);
	assert_false(exists(DEV));
}

/*
 * Each parameter form is walked from a little before kshm_init (as myshm's
 * and message_slot's load walks are: tests/lib/kt_fault_load.h), not
 * through the ~300 points of the kernel's module loader before it, which
 * are the same for every module and form and walked once by
 * faultinject/walker: ~75 points a form instead of ~345 (the four forms
 * took 290 s of check-debug, walked whole).  max_objects=0 makes
 * kshm_init fail at once.
 */
static void walk_load(const char *params, const char *key, long value)
{
	struct load_walk w = { params, key, value };
	char title[96];
	struct kt_fault_op op = {
		.name = title, .run = load_run, .check = load_check,
		.undo = load_undo, .arg = &w,
	};
	struct kt_fault_result r;

	kt_fault_require();
	if (kt_loaded(MOD))
		assert_int_equal(kt_kshm_unload(), 0);
	op.first = kt_fault_load_first(MOD, "max_objects=0");
	snprintf(title, sizeof(title), "kshm module load %s (from point %u)",
		 params ? params : "(no parameters)", op.first);
	walk(&op, &r);
	/*
	 * the loader's last points and kshm_init's (shmem, misc, proc); 9
	 * to 25 seen, as the start point drifts with slab refills
	 */
	assert_true(r.failed >= 4);
	assert_int_equal(kt_load(MOD, params), 0);	/* again */
	if (key)
		assert_int_equal(kt_kshm_counter(key), value);
}

static void test_walk_load(void **state)
{
	(void)state;
	walk_load(NULL, "max_objects", 64);
}

static void test_walk_load_max_objects(void **state)
{
	(void)state;
	walk_load("max_objects=3", "max_objects", 3);
}

static void test_walk_load_max_pages(void **state)
{
	(void)state;
	walk_load("max_pages=5", "max_pages", 5);
}

static void test_walk_load_max_per_process(void **state)
{
	(void)state;
	walk_load("max_per_process=2", "max_per_process", 2);
}

/* ---- after all that --------------------------------------------------- */

static void test_no_leaks(void **state)
{
	int leaks;

	(void)state;
	kt_fault_require();
	if (kt_loaded(MOD))
		assert_int_equal(kt_kshm_unload(), 0);
	leaks = kt_kmemleak_scan();
	assert_int_equal(kt_load(MOD, NULL), 0);	/* for teardown */
	if (leaks < 0)
		skip();
	assert_int_equal(leaks, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_walk_dev_open, test_teardown),
		cmocka_unit_test_teardown(test_walk_open_create, test_teardown),
		cmocka_unit_test_teardown(test_walk_open_existing,
					  test_teardown),
		cmocka_unit_test_teardown(test_walk_open_excl, test_teardown),
		cmocka_unit_test_teardown(test_walk_open_rdonly, test_teardown),
		cmocka_unit_test_teardown(test_walk_trunc, test_teardown),
		cmocka_unit_test_teardown(test_walk_info, test_teardown),
		cmocka_unit_test_teardown(test_walk_mmap, test_teardown),
		cmocka_unit_test_teardown(test_walk_vma, test_teardown),
		cmocka_unit_test_teardown(test_walk_release, test_teardown),
		cmocka_unit_test_teardown(test_walk_proc, test_teardown),
		cmocka_unit_test_teardown(test_walk_lib, test_teardown),
		cmocka_unit_test(test_walk_load),
		cmocka_unit_test(test_walk_load_max_objects),
		cmocka_unit_test(test_walk_load_max_pages),
		cmocka_unit_test(test_walk_load_max_per_process),
		cmocka_unit_test(test_no_leaks),
	};

	return kt_run_group(tests, setup, teardown);
}
