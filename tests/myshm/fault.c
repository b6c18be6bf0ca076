// SPDX-License-Identifier: GPL-2.0
/*
 * myshm/fault - fault injection on every myshm entry point that allocates
 * memory or copies from or to user space (issue 7): module loading with
 * each parameter form (default, size=, buffers= with several buffers
 * including a one-page one), open, MYSHM_GET_SIZE, read, write, lseek,
 * mmap, the first touch of a mapping from user space and from the kernel
 * (page faults that need page tables), and the sysfs size.  Every
 * allocation and user copy of the call fails once in turn
 * (tests/lib/kt_fault.h); each failure must return the documented errno
 * (or be absorbed where the kernel retries), print no kernel report, and
 * leave everything as it was: the buffer's bytes, the file position, the
 * module's reference count, the process's mappings, and after a failed
 * load no module, device or vmalloc memory, with the next load working.
 * Then kmemleak must find nothing after unloading.  Skipped on kernels
 * without fault injection (Debian's); runs under make check-debug.
 *
 * Page faults: a page table allocation failing inside a fault taken in
 * user mode makes the fault return VM_FAULT_OOM, and the kernel retries
 * the access (pagefault_out_of_memory() logs "Huh VM_FAULT_OOM leaked out
 * to the #PF handler. Retrying PF"): the touch succeeds, never SIGBUS.  In
 * a fault taken by a kernel copy (write(2) from a mapping) the copy
 * retries the faulting bytes: the write succeeds too; only a failure of
 * the copy itself is EFAULT, and then the write changes nothing.
 */
#include "lib/kt.h"
#include "lib/kt_fault.h"
#include "lib/kt_fault_load.h"
#include "lib/kt_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <kipc/myshm.h>

#define MOD "myshm"
#define DEV "/dev/myshm"
#define PG 4096UL
#define SIZE (1UL << 20)	/* the buffer of the device walks */
#define CHUNK (256UL << 10)	/* myshm copies this much at a time */
#define IO_LEN (CHUNK + CHUNK / 2)	/* a read/write of two chunks */

/* Far from everything else, so that a first touch needs page tables. */
#define FAR_ADDR ((void *)0x400000000000UL)
#define FAR_ADDR2 ((void *)0x480000000000UL)

/* VmallocUsed may move this much (KiB) by itself: modules' init sections */
#define VMALLOC_SLACK_KB 64

static unsigned char pattern[SIZE];	/* what the device walks' buffer holds */
static unsigned char scratch[SIZE];

static void fill(unsigned char *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(seed + i * 7 + (i >> 12));
}

static int open_dev(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		fail_msg("open %s: %s", path, strerror(errno));
	return fd;
}

/* The whole buffer of FD equals EXPECT (SIZE bytes). */
static void assert_buffer(const unsigned char *expect)
{
	int fd = open_dev(DEV, O_RDONLY);

	assert_int_equal(pread(fd, scratch, SIZE, 0), SIZE);
	close(fd);
	assert_memory_equal(scratch, expect, SIZE);
}

static void set_buffer(const unsigned char *bytes)
{
	int fd = open_dev(DEV, O_WRONLY);

	assert_int_equal(pwrite(fd, bytes, SIZE, 0), SIZE);
	close(fd);
}

static long long refcnt(void)
{
	return kt_read_ll("/sys/module/" MOD "/refcnt");
}

/* Mappings a test made, unmapped by cleanup even when the test fails. */
static struct {
	void *addr;
	size_t len;
} maps[4];

static void *map_at(int slot, void *addr, size_t len, int fd, off_t off)
{
	void *p = mmap(addr, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | (addr ? MAP_FIXED_NOREPLACE : 0), fd, off);

	if (p == MAP_FAILED)
		fail_msg("mmap %zu at %p: %s", len, addr, strerror(errno));
	maps[slot].addr = p;
	maps[slot].len = len;
	return p;
}

static void unmap(int slot)
{
	if (maps[slot].addr)
		assert_int_equal(munmap(maps[slot].addr, maps[slot].len), 0);
	maps[slot].addr = NULL;
}

/* myshm with a SIZE buffer holding pattern[]. */
static int fresh(void **state)
{
	(void)state;
	kt_unload_if_loaded(MOD);
	if (kt_load(MOD, "size=1M"))
		return -1;
	set_buffer(pattern);
	return 0;
}

static int cleanup(void **state)
{
	unsigned int i;
	int fd;

	(void)state;
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		if (maps[i].addr)
			munmap(maps[i].addr, maps[i].len);
	memset(maps, 0, sizeof(maps));
	for (fd = 3; fd < 256; fd++)
		close(fd);
	return kt_loaded(MOD) ? kt_unload(MOD) : 0;
}

static const int efault_only[] = { EFAULT, 0 };
static const int enomem_only[] = { ENOMEM, 0 };
static const int no_error[] = { 0 };

/* ---- module load ---- */

struct buf_spec {
	const char *name;
	size_t size;
};

struct load_walk {
	const char *params;
	const struct buf_spec *bufs;	/* NULL-name terminated */
	long long vmalloc_kb;		/* VmallocUsed without the module */
	int kmsg;			/* kernel log mark for the next attempt */
	bool saw_enomem;
	bool saw_vmalloc_fail;		/* a buffer's allocation failed */
};

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static void assert_vmalloc_near(long long base_kb)
{
	long long kb = kt_meminfo_kb("VmallocUsed");

	if (kb > base_kb + VMALLOC_SLACK_KB)
		fail_msg("VmallocUsed %lld kB, %lld kB without the module",
			 kb, base_kb);
}

/* LEN bytes of FD from OFF are all 0. */
static void assert_zero(int fd, const char *name, off_t off, size_t len)
{
	size_t i;

	assert_int_equal(pread(fd, scratch, len, off), len);
	for (i = 0; i < len; i++)
		if (scratch[i])
			fail_msg("/dev/%s: byte %llu is %u, not 0", name,
				 (unsigned long long)(off + i), scratch[i]);
}

static void load_check(void *arg, unsigned int nth, int rc)
{
	struct load_walk *w = arg;
	const struct buf_spec *b;
	char path[96];
	size_t off;
	__u64 sz;
	int fd;

	(void)nth;
	w->saw_enomem |= rc == -ENOMEM;
	w->saw_vmalloc_fail |= kt_kmsg_find(w->kmsg, "cannot allocate");
	w->kmsg = kt_kmsg_mark();
	if (rc) {
		assert_false(kt_loaded(MOD));
		assert_false(exists("/sys/module/" MOD));
		for (b = w->bufs; b->name; b++) {
			snprintf(path, sizeof(path), "/dev/%s", b->name);
			assert_false(exists(path));
			snprintf(path, sizeof(path), "/sys/class/misc/%s",
				 b->name);
			assert_false(exists(path));
		}
		assert_vmalloc_near(w->vmalloc_kb);
		return;
	}
	/* absorbed: every buffer is there, of its size, zeroed */
	assert_true(kt_loaded(MOD));
	for (b = w->bufs; b->name; b++) {
		snprintf(path, sizeof(path), "/sys/class/misc/%s/size",
			 b->name);
		assert_int_equal(kt_read_ll(path), b->size);
		snprintf(path, sizeof(path), "/dev/%s", b->name);
		fd = open_dev(path, O_RDONLY);
		assert_int_equal(ioctl(fd, MYSHM_GET_SIZE, &sz), 0);
		assert_int_equal(sz, b->size);
		for (off = 0; off < b->size; off += SIZE)
			assert_zero(fd, b->name, off,
				    b->size - off < SIZE ? b->size - off : SIZE);
		close(fd);
	}
}

/*
 * A load allocates every page of its buffers, each through the same shmem
 * path (folio, page-cache slot, memory cgroup charge): a 4 MiB buffer
 * passes thousands of fault points.  Walks of big buffers walk the first
 * DENSE points (the loader, the mount, the first pages) and the tail (the
 * last pages, registering the devices) whole and sample every STRIDE-th
 * point of the loop in between (kt_fault_walk_load_sampled()); 0: every point.
 */
#define LOAD_DENSE 400
#define LOAD_STRIDE 37

static void walk_load(const char *params, const struct buf_spec *bufs,
		      unsigned int min_failed, bool sampled)
{
	struct load_walk w = { .params = params, .bufs = bufs };
	struct kt_fault_result r;

	kt_fault_require();
	assert_int_equal(kt_unload(MOD), 0);
	w.vmalloc_kb = kt_meminfo_kb("VmallocUsed");
	w.kmsg = kt_kmsg_mark();
	/* init fails at once (after its first allocation) with size 0 */
	kt_fault_walk_load_sampled(MOD, params, "size=0",
				   sampled ? LOAD_DENSE : 0, sampled ? LOAD_STRIDE : 0,
				   load_check, &w, &r);
	assert_true(r.failed >= min_failed);
	assert_true(w.saw_enomem);
	printf("# the buffers' allocation %s\n", w.saw_vmalloc_fail ?
	       "failed at least once" : "was not hit (points drift)");
	/* the next load works */
	assert_int_equal(kt_load(MOD, params), 0);
	load_check(&w, 0, 0);
	close(w.kmsg);
}

static void test_walk_load_default(void **state)
{
	static const struct buf_spec bufs[] = {
		{ "myshm", MYSHM_DEFAULT_SIZE }, { NULL, 0 },
	};

	(void)state;
	walk_load("", bufs, 5, true);
}

static void test_walk_load_size(void **state)
{
	static const struct buf_spec bufs[] = {
		{ "myshm", 64 << 10 }, { NULL, 0 },
	};

	(void)state;
	walk_load("size=64K", bufs, 5, false);
}

static void test_walk_load_buffers(void **state)
{
	static const struct buf_spec bufs[] = {
		{ "ring", 8 << 10 }, { "plain", 16 << 10 },
		{ "mmapdemo", 4 << 10 }, { NULL, 0 },
	};

	(void)state;
	walk_load("size=16K buffers=ring:8K,plain,mmapdemo:4K", bufs, 15,
		  false);
}

/* ---- open, ioctl, lseek ---- */

struct fd_walk {
	int fd;
	int flags;
	__u64 sz;
	int whence;
	off_t off, pos;
	long long refs;	/* the module's references without the file */
	bool saw_enomem;
};

static int open_run(void *arg)
{
	struct fd_walk *w = arg;

	w->fd = open(DEV, w->flags | O_CLOEXEC);
	return w->fd < 0 ? -errno : 0;
}

static void open_check(void *arg, unsigned int nth, int rc)
{
	struct fd_walk *w = arg;

	(void)nth;
	w->saw_enomem |= rc == -ENOMEM;
	if (rc)
		assert_int_equal(refcnt(), w->refs);
	else
		assert_true(refcnt() > w->refs);
	if (!rc) {
		assert_int_equal(pread(w->fd, scratch, PG, 0), PG);
		assert_memory_equal(scratch, pattern, PG);
	}
	assert_buffer(pattern);
}

static void open_undo(void *arg)
{
	struct fd_walk *w = arg;

	assert_int_equal(close(w->fd), 0);
}

static void test_walk_open(void **state)
{
	struct fd_walk w = { .flags = O_RDWR };
	const struct kt_fault_op op = {
		.name = "myshm open", .run = open_run, .check = open_check,
		.undo = open_undo, .arg = &w,
	};
	struct kt_fault_result r;

	(void)state;
	kt_fault_require();
	w.refs = refcnt();
	kt_fault_walk(&op, &r);
	assert_true(r.failed >= 2);	/* the struct file and its path */
	assert_true(w.saw_enomem);
	assert_int_equal(refcnt(), w.refs);
}

static int get_size_run(void *arg)
{
	struct fd_walk *w = arg;

	w->sz = 12345;
	return ioctl(w->fd, MYSHM_GET_SIZE, &w->sz) ? -errno : 0;
}

static void get_size_check(void *arg, unsigned int nth, int rc)
{
	struct fd_walk *w = arg;

	(void)nth;
	(void)rc;
	assert_int_equal(w->sz, 12345);	/* nothing written */
}

static void test_walk_get_size(void **state)
{
	struct fd_walk w;
	const struct kt_fault_op op = {
		.name = "myshm MYSHM_GET_SIZE", .run = get_size_run,
		.check = get_size_check, .arg = &w, .errnos = efault_only,
	};

	(void)state;
	kt_fault_require();
	w.fd = open_dev(DEV, O_RDONLY);
	/* the copy out */
	assert_int_equal(kt_fault_walk(&op, NULL), 1);
	assert_int_equal(w.sz, SIZE);
}

static int lseek_run(void *arg)
{
	struct fd_walk *w = arg;

	w->pos = lseek(w->fd, w->off, w->whence);
	return w->pos < 0 ? -errno : 0;
}

static void test_walk_lseek(void **state)
{
	static const struct {
		const char *name;
		int whence;
		off_t off, pos;
	} seeks[] = {
		{ "myshm lseek(SEEK_SET)", SEEK_SET, 100, 100 },
		{ "myshm lseek(SEEK_CUR)", SEEK_CUR, 50, 150 },
		{ "myshm lseek(SEEK_END)", SEEK_END, -(off_t)PG, SIZE - PG },
	};
	struct fd_walk w;
	struct kt_fault_op op = { .run = lseek_run, .arg = &w, .no_points = true };
	size_t i;

	(void)state;
	kt_fault_require();
	w.fd = open_dev(DEV, O_RDONLY);
	for (i = 0; i < sizeof(seeks) / sizeof(seeks[0]); i++) {
		op.name = seeks[i].name;
		w.whence = seeks[i].whence;
		w.off = seeks[i].off;
		/* no allocation, no copy: nothing to inject */
		assert_int_equal(kt_fault_walk(&op, NULL), 0);
		assert_int_equal(w.pos, seeks[i].pos);
	}
}

/* ---- read, write ---- */

/*
 * IO_LEN bytes from position 0 are copied page by page (the buffer is a
 * shmem file's pages, not one vmalloc range): a fault in the first page's
 * copy fails the call (EFAULT, position unchanged), one in a later page
 * makes it short (the pages before it, position after them).
 */
struct io_walk {
	int fd;
	unsigned char *buf;	/* IO_LEN bytes */
	ssize_t n;
	unsigned int shorts;
	unsigned int first;	/* the fault point of the first page's copy */
};

static int read_run(void *arg)
{
	struct io_walk *w = arg;

	w->n = read(w->fd, w->buf, IO_LEN);
	return w->n < 0 ? -errno : 0;
}

static int write_run(void *arg)
{
	struct io_walk *w = arg;

	w->n = write(w->fd, w->buf, IO_LEN);
	return w->n < 0 ? -errno : 0;
}

/*
 * The position moved by exactly the bytes done: none, the whole pages
 * before the failed copy, or all.
 */
static void io_position(struct io_walk *w, int rc, unsigned int nth)
{
	off_t pos = lseek(w->fd, 0, SEEK_CUR);

	if (rc) {
		assert_int_equal(pos, 0);
		return;
	}
	assert_true(w->n > 0 && w->n <= (ssize_t)IO_LEN && !(w->n % PG));
	if (w->n < (ssize_t)IO_LEN) {
		/* the N-th copy failed: N - 1 pages were done */
		assert_int_equal(w->n, (ssize_t)((nth - w->first) * PG));
		w->shorts++;
	}
	assert_int_equal(pos, w->n);
}

static void read_check(void *arg, unsigned int nth, int rc)
{
	struct io_walk *w = arg;

	if (rc && !w->first)
		w->first = nth;
	io_position(w, rc, nth);
	if (!rc)
		assert_memory_equal(w->buf, pattern, w->n);
	assert_buffer(pattern);
}

static void io_undo(void *arg)
{
	struct io_walk *w = arg;

	assert_int_equal(lseek(w->fd, 0, SEEK_SET), 0);
	set_buffer(pattern);
}

static void write_check(void *arg, unsigned int nth, int rc)
{
	struct io_walk *w = arg;

	if (rc && !w->first)
		w->first = nth;
	io_position(w, rc, nth);
	/* a failed write changes nothing; a short one only its chunk */
	assert_int_equal(pread(w->fd, scratch, SIZE, 0), SIZE);
	if (!rc)
		assert_memory_equal(scratch, w->buf, w->n);
	assert_memory_equal(scratch + (rc ? 0 : w->n),
			    pattern + (rc ? 0 : w->n), SIZE - (rc ? 0 : w->n));
}

static void walk_io(bool writing)
{
	static unsigned char buf[IO_LEN];
	struct io_walk w = { .buf = buf };
	const struct kt_fault_op op = {
		.name = writing ? "myshm write" : "myshm read",
		.run = writing ? write_run : read_run,
		.check = writing ? write_check : read_check,
		.undo = io_undo, .arg = &w, .errnos = efault_only,
	};
	struct kt_fault_result r;

	kt_fault_require();
	w.fd = open_dev(DEV, O_RDWR);
	fill(buf, IO_LEN, writing ? 99 : 0);
	kt_fault_walk(&op, &r);
	/* one copy per page: the first fails, every later one makes it short */
	assert_int_equal(r.points, IO_LEN / PG);
	assert_int_equal(r.failed, 1);
	assert_int_equal(w.shorts, IO_LEN / PG - 1);
	assert_int_equal(w.n, IO_LEN);
}

static void test_walk_read(void **state)
{
	(void)state;
	walk_io(false);
}

static void test_walk_write(void **state)
{
	(void)state;
	walk_io(true);
}

/* ---- mmap ---- */

struct map_walk {
	int fd;
	unsigned char *p;
	bool saw_enomem;
};

/* Mappings of /dev/myshm in this process. */
static int dev_mappings(void)
{
	char line[512];
	int n = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, DEV) != NULL;
	fclose(f);
	return n;
}

static int mmap_run(void *arg)
{
	struct map_walk *w = arg;

	w->p = mmap(NULL, 64 << 10, PROT_READ | PROT_WRITE, MAP_SHARED,
		    w->fd, PG);
	return w->p == MAP_FAILED ? -errno : 0;
}

static void mmap_check(void *arg, unsigned int nth, int rc)
{
	struct map_walk *w = arg;

	(void)nth;
	w->saw_enomem |= rc == -ENOMEM;
	assert_int_equal(dev_mappings(), !rc);
	if (!rc)
		assert_memory_equal(w->p, pattern + PG, 64 << 10);
	assert_buffer(pattern);
}

static void mmap_undo(void *arg)
{
	struct map_walk *w = arg;

	assert_int_equal(munmap(w->p, 64 << 10), 0);
}

static void test_walk_mmap(void **state)
{
	struct map_walk w;
	const struct kt_fault_op op = {
		.name = "myshm mmap", .run = mmap_run, .check = mmap_check,
		.undo = mmap_undo, .arg = &w, .errnos = enomem_only,
	};
	struct kt_fault_result r;

	(void)state;
	kt_fault_require();
	w.fd = open_dev(DEV, O_RDWR);
	kt_fault_walk(&op, &r);
	assert_true(r.failed >= 1);	/* the VMA */
	assert_true(w.saw_enomem);
	assert_int_equal(dev_mappings(), 0);
}

/* ---- first touch ---- */

/*
 * The first write to a fresh mapping, far from any other, runs the page
 * fault path: page tables, myshm's fault handler and its fault-around
 * (vm_insert_pages() of the rest of the 16-page window, best effort).
 * Each fault point in it fails once in turn: the access must still
 * complete (a fault that fails with VM_FAULT_OOM in user mode is retried),
 * never with SIGBUS or SIGSEGV, and the byte must land in the buffer.
 */
static sigjmp_buf touch_env;
static volatile sig_atomic_t touch_signal;

static void touch_handler(int sig)
{
	touch_signal = sig;
	siglongjmp(touch_env, 1);
}

struct touch_walk {
	int fd;
	unsigned char *p;
	size_t off;		/* touched byte, in the mapping and buffer */
	unsigned char val;
	unsigned char *q;	/* for write(2) from a mapping */
	size_t dst;		/* where that write goes in the buffer */
};

static int touch_run(void *arg)
{
	struct touch_walk *w = arg;

	/* no signal mask saved: a syscall here would take a fault point */
	if (sigsetjmp(touch_env, 0)) {
		printf("# touch: signal %d\n", (int)touch_signal);
		return -EIO;
	}
	((volatile unsigned char *)w->p)[w->off] = w->val;
	return 0;
}

static void touch_check(void *arg, unsigned int nth, int rc)
{
	struct touch_walk *w = arg;

	(void)nth;
	(void)rc;
	/* the byte landed in the buffer, the rest is untouched */
	pattern[w->off] = w->val;
	assert_buffer(pattern);
	/* the rest of the window is mapped, or maps now */
	assert_memory_equal(w->p + (w->off & ~(16 * PG - 1)),
			    pattern + (w->off & ~(16 * PG - 1)), 16 * PG);
}

/* Unmap and map again: the page tables are gone with the mapping. */
static void touch_undo(void *arg)
{
	struct touch_walk *w = arg;

	unmap(0);
	w->p = map_at(0, FAR_ADDR, SIZE, w->fd, 0);
	w->val++;
}

static void test_walk_touch(void **state)
{
	struct touch_walk w = { .off = 5 * 16 * PG + 3 * PG + 17, .val = 1 };
	const struct kt_fault_op op = {
		.name = "myshm first touch", .run = touch_run,
		.check = touch_check, .undo = touch_undo, .arg = &w,
		.errnos = no_error,
	};
	struct sigaction sa = { .sa_handler = touch_handler,
				.sa_flags = SA_NODEFER };
	struct sigaction old_bus, old_segv;
	struct kt_fault_result r;

	(void)state;
	kt_fault_require();
	w.fd = open_dev(DEV, O_RDWR);
	w.p = map_at(0, FAR_ADDR, SIZE, w.fd, 0);
	assert_int_equal(sigaction(SIGBUS, &sa, &old_bus), 0);
	assert_int_equal(sigaction(SIGSEGV, &sa, &old_segv), 0);
	kt_fault_walk(&op, &r);
	sigaction(SIGBUS, &old_bus, NULL);
	sigaction(SIGSEGV, &old_segv, NULL);
	assert_true(r.points >= 3);
	assert_int_equal(r.absorbed, r.points);	/* no signal, no error */
}

/*
 * write(2) from a fresh mapping of the same buffer: the copy in takes the
 * page fault in the kernel.  The copy's own injected failure is EFAULT
 * and changes nothing; a failure inside the fault fails that fault, but
 * x86's user copy retries the faulting bytes, so the page is copied.
 */
static int kwrite_run(void *arg)
{
	struct touch_walk *w = arg;
	ssize_t n = pwrite(w->fd, w->q, PG, w->dst);

	if (n < 0)
		return -errno;
	return n == (ssize_t)PG ? 0 : -EIO;
}

static void kwrite_check(void *arg, unsigned int nth, int rc)
{
	struct touch_walk *w = arg;

	(void)nth;
	if (!rc)	/* absorbed: the first page copied over the dst page */
		memcpy(pattern + w->dst, pattern, PG);
	assert_buffer(pattern);
}

static void kwrite_undo(void *arg)
{
	struct touch_walk *w = arg;

	unmap(1);
	w->q = map_at(1, FAR_ADDR2, 16 * PG, w->fd, 0);
}

static void test_walk_write_from_mapping(void **state)
{
	struct touch_walk w = { .dst = 100 * PG };
	const struct kt_fault_op op = {
		.name = "myshm write from a mapping", .run = kwrite_run,
		.check = kwrite_check, .undo = kwrite_undo, .arg = &w,
		.errnos = efault_only,
	};
	struct kt_fault_result r;

	(void)state;
	kt_fault_require();
	w.fd = open_dev(DEV, O_RDWR);
	w.q = map_at(1, FAR_ADDR2, 16 * PG, w.fd, 0);
	kt_fault_walk(&op, &r);
	/* the copy itself; then the fault path */
	assert_true(r.failed >= 1);
	assert_true(r.points >= 3);
	memcpy(pattern + w.dst, pattern, PG);
	assert_buffer(pattern);
}

/* ---- sysfs ---- */

struct sysfs_walk {
	char buf[32];
	bool saw_enomem;
};

static int sysfs_run(void *arg)
{
	struct sysfs_walk *w = arg;
	int fd = open("/sys/class/misc/" MOD "/size", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	memset(w->buf, 0, sizeof(w->buf));
	n = read(fd, w->buf, sizeof(w->buf) - 1);
	n = n < 0 ? -errno : 0;
	close(fd);
	return (int)n;
}

static void sysfs_check(void *arg, unsigned int nth, int rc)
{
	struct sysfs_walk *w = arg;

	(void)nth;
	w->saw_enomem |= rc == -ENOMEM;
	if (!rc)
		assert_string_equal(w->buf, "1048576\n");
	assert_int_equal(refcnt(), 0);
}

static void test_walk_sysfs_size(void **state)
{
	struct sysfs_walk w;
	const struct kt_fault_op op = {
		.name = "myshm sysfs size", .run = sysfs_run,
		.check = sysfs_check, .arg = &w,
	};
	struct kt_fault_result r;

	(void)state;
	kt_fault_require();
	kt_fault_walk(&op, &r);
	/* the open (file, kernfs open file, seq_file), the buffer, the copy */
	assert_true(r.failed >= 4);
	assert_true(w.saw_enomem);
	assert_string_equal(w.buf, "1048576\n");
}

/* ---- leaks ---- */

static long long vmalloc_before;

static int group_setup(void **state)
{
	(void)state;
	fill(pattern, SIZE, 0);
	kt_unload_if_loaded(MOD);
	vmalloc_before = kt_meminfo_kb("VmallocUsed");
	return 0;
}

/* After all that, unloading leaves no unreferenced object behind. */
static void test_no_leaks(void **state)
{
	int leaks;

	(void)state;
	kt_fault_require();
	assert_int_equal(kt_unload(MOD), 0);
	leaks = kt_kmemleak_scan();
	assert_vmalloc_near(vmalloc_before);
	if (leaks < 0)
		skip();
	assert_int_equal(leaks, 0);
}

#define WALK(fn) cmocka_unit_test_setup_teardown(fn, fresh, cleanup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		WALK(test_walk_load_default),
		WALK(test_walk_load_size),
		WALK(test_walk_load_buffers),
		WALK(test_walk_open),
		WALK(test_walk_get_size),
		WALK(test_walk_lseek),
		WALK(test_walk_read),
		WALK(test_walk_write),
		WALK(test_walk_mmap),
		WALK(test_walk_touch),
		WALK(test_walk_write_from_mapping),
		WALK(test_walk_sysfs_size),
		WALK(test_no_leaks),
	};

	return kt_run_group(tests, group_setup, NULL);
}
