// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem/fault - fault injection on kipc_ivshmem's entry points: probe
 * (sysfs bind of the doorbell device), open, the ioctls (GET_INFO, RING,
 * WAIT, SET_POLL), read, write, mmap with a first touch, and the sysfs
 * attributes.  Every allocation and user copy of the call fails once in
 * turn (tests/lib/kt_fault.h); each failure must return the documented
 * errno (or be absorbed), print no kernel report and leave things as they
 * were: the module's reference count, the bytes, an unconsumed doorbell,
 * no device after a failed probe (and the next bind works).  Then
 * kmemleak must find nothing.  Skipped on kernels without fault injection
 * (Debian's) and without the devices tests/run-suite attaches.  The probe
 * walk binds without struct pages (module parameter struct_pages=0; see
 * test_walk_probe()), test_probe_pages() the default way, uninjected.
 */
#include "lib/kt.h"
#include "lib/kt_fault.h"
#include "lib/kt_fds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <kipc/ivshmem_ioctl.h>
#include <kipc/myshm.h>

#define MOD "kipc_ivshmem"
#define DRV "/sys/bus/pci/drivers/kipc_ivshmem"

static char bell[64], bell_pci[32], plain_pci[32];
static const int efault_only[] = { EFAULT, 0 };
static const int enomem_only[] = { ENOMEM, 0 };
/*
 * What the kernel makes of a failed allocation inside probe: misc_register()
 * reports a failed minor allocation as EBUSY, the MSI-X irq domain a failed
 * descriptor allocation as ENOSPC.
 */
static const int probe_errs[] = { ENOMEM, EFAULT, EBUSY, ENOSPC, 0 };

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		r = -errno;
	close(fd);
	return r;
}

static void find_bell(void)
{
	char p[128], v[32];
	int i;

	bell[0] = plain_pci[0] = '\0';
	for (i = 0; i < 8; i++) {
		snprintf(p, sizeof(p), "/sys/class/misc/ivshmem%d/doorbell", i);
		if (read_file(p, v, sizeof(v)) == 0 && v[0] == '0' &&
		    !plain_pci[0]) {
			snprintf(p, sizeof(p),
				 "/sys/class/misc/ivshmem%d/pci_address", i);
			read_file(p, plain_pci, sizeof(plain_pci));
			continue;
		}
		if (read_file(p, v, sizeof(v)) == 0 && v[0] == '1') {
			snprintf(bell, sizeof(bell), "/dev/ivshmem%d", i);
			snprintf(p, sizeof(p),
				 "/sys/class/misc/ivshmem%d/pci_address", i);
			read_file(p, bell_pci, sizeof(bell_pci));
		}
	}
}

static int load(void **state)
{
	(void)state;
	kt_unload_if_loaded(MOD);
	if (kt_load(MOD, NULL))
		return -1;
	usleep(100000);
	find_bell();
	return 0;
}

static int unload(void **state)
{
	int fd;

	(void)state;
	for (fd = 3; fd < 256; fd++)
		close(fd);
	return kt_unload(MOD) ? -1 : 0;
}

static void require(void)
{
	kt_fault_require();
	if (!bell[0]) {
		printf("# no ivshmem-doorbell device (tests/run-suite attaches one)\n");
		skip();
	}
}

static int refcnt(void)
{
	char v[32];

	if (read_file("/sys/module/" MOD "/refcnt", v, sizeof(v)))
		return -1;
	return atoi(v);
}

struct walk {
	int fd;
	int refs;
	__u32 id;
	char buf[8192];
	unsigned char *map;
	bool bound;
};

/* ---- open ---- */

static int open_run(void *arg)
{
	struct walk *w = arg;

	w->fd = open(bell, O_RDWR | O_CLOEXEC);
	return w->fd < 0 ? -errno : 0;
}

static void open_check(void *arg, unsigned int nth, int rc)
{
	struct walk *w = arg;

	(void)nth;
	if (rc)
		assert_int_equal(refcnt(), w->refs);
}

static void close_undo(void *arg)
{
	close(((struct walk *)arg)->fd);
}

static void test_walk_open(void **state)
{
	struct walk w = { 0 };
	const struct kt_fault_op op = {
		.name = "ivshmem open", .run = open_run, .check = open_check,
		.undo = close_undo, .arg = &w,
	};
	struct kt_fault_result r;

	(void)state;
	require();
	w.refs = refcnt();
	kt_fault_walk(&op, &r);
	assert_true(r.failed >= 1);
	assert_int_equal(refcnt(), w.refs);
}

/* ---- ioctls ---- */

static int info_run(void *arg)
{
	struct walk *w = arg;
	struct kipc_ivshmem_info info;

	return ioctl(w->fd, KIPC_IVSHMEM_GET_INFO, &info) ? -errno : 0;
}

static int ring_wait_run(void *arg)
{
	struct walk *w = arg;
	struct kipc_ivshmem_ring r = { w->id, 1 };
	struct kipc_ivshmem_wait wt = { .vector = 1, .timeout_ms = 5000 };

	if (ioctl(w->fd, KIPC_IVSHMEM_RING, &r))
		return -errno;
	return ioctl(w->fd, KIPC_IVSHMEM_WAIT, &wt) ? -errno : 0;
}

/* A failed wait consumed nothing: the doorbell is still pending. */
static void ring_wait_check(void *arg, unsigned int nth, int rc)
{
	struct walk *w = arg;
	struct kipc_ivshmem_wait wt = { .vector = 1, .timeout_ms = 5000 };

	(void)nth;
	if (rc == -EFAULT) {
		/* either the ring's copy failed (nothing rung) or the wait's */
		if (ioctl(w->fd, KIPC_IVSHMEM_WAIT, &wt) == 0)
			return;
		assert_int_equal(errno, ETIMEDOUT);
	}
}

static int poll_run(void *arg)
{
	struct walk *w = arg;
	__u64 mask = 3;

	return ioctl(w->fd, KIPC_IVSHMEM_SET_POLL, &mask) ? -errno : 0;
}

static void test_walk_ioctls(void **state)
{
	struct walk w = { 0 };
	const struct kt_fault_op info = {
		.name = "ivshmem GET_INFO", .run = info_run, .arg = &w,
		.errnos = efault_only,
	};
	const struct kt_fault_op ring = {
		.name = "ivshmem RING + WAIT", .run = ring_wait_run,
		.check = ring_wait_check, .arg = &w, .errnos = efault_only,
	};
	const struct kt_fault_op poll = {
		.name = "ivshmem SET_POLL", .run = poll_run, .arg = &w,
		.errnos = efault_only,
		/* get_user() is no fault point: nothing to inject */
		.no_points = true,
	};

	(void)state;
	require();
	w.fd = open(bell, O_RDWR | O_CLOEXEC);
	assert_true(w.fd >= 0);
	assert_int_equal(ioctl(w.fd, KIPC_IVSHMEM_GET_PEER_ID, &w.id), 0);
	assert_int_equal(kt_fault_walk(&info, NULL), 1);
	assert_true(kt_fault_walk(&ring, NULL) >= 3);
	/* get_user() is no fault point: nothing to inject, must still work */
	assert_true(kt_fault_walk(&poll, NULL) <= 1);
	close(w.fd);
}

/* ---- dma-buf export ---- */

static const int dmabuf_errs[] = { ENOMEM, EFAULT, EMFILE, 0 };

/*
 * Export two pages, map and touch them through the dma-buf, close.  6.1's
 * munmap() allocates (maple tree nodes) and can fail with ENOMEM, leaving
 * the mapping, and with it the dma-buf and a module reference, alive
 * until the process exits: that failure is the run's, and the mapping is
 * removed by a second munmap() (the one injected fault is spent).
 */
static int dmabuf_run(void *arg)
{
	struct walk *w = arg;
	struct kipc_ivshmem_dmabuf a = { .offset = 4096, .size = 8192,
					 .flags = KIPC_IVSHMEM_DMABUF_CLOEXEC };
	volatile unsigned char *m;
	int r = 0;

	if (ioctl(w->fd, KIPC_IVSHMEM_DMABUF, &a))
		return -errno;
	m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, a.fd, 0);
	if (m == MAP_FAILED) {
		r = -errno;
	} else {
		m[0] = m[4096];
		if (munmap((void *)m, 8192)) {
			r = -errno;
			if (munmap((void *)m, 8192))
				r = -EBUSY;	/* not an accepted errno: fails */
		}
	}
	close(a.fd);
	return r;
}

/* A failed export leaves no descriptor and no device reference. */
static void dmabuf_check(void *arg, unsigned int nth, int rc)
{
	struct walk *w = arg;

	(void)nth;
	if (rc) {
		assert_int_equal(kt_count_fds_to("/dmabuf:"), 0);
		assert_int_equal(refcnt(), w->refs);
	}
}

static void test_walk_dmabuf(void **state)
{
	struct walk w = { 0 };
	const struct kt_fault_op op = {
		.name = "ivshmem DMABUF", .run = dmabuf_run,
		.check = dmabuf_check, .arg = &w, .errnos = dmabuf_errs,
	};
	char v[8] = "";

	(void)state;
	require();
	snprintf(w.buf, sizeof(w.buf), "/sys/class/misc/%s/struct_pages",
		 bell + 5);
	/* the debug kernel has ZONE_DEVICE and dma-buf (vm/debug.config) */
	if (read_file(w.buf, v, sizeof(v)) || v[0] != '1')
		fail_msg("%s has no struct pages: no dma-buf export", bell);
	w.fd = open(bell, O_RDWR | O_CLOEXEC);
	assert_true(w.fd >= 0);
	w.refs = refcnt();
	assert_true(kt_fault_walk(&op, NULL) >= 1);
	assert_int_equal(refcnt(), w.refs);
	close(w.fd);
}

/* ---- read, write ---- */

static int write_run(void *arg)
{
	struct walk *w = arg;

	memset(w->buf, 0x5a, sizeof(w->buf));
	return pwrite(w->fd, w->buf, sizeof(w->buf), 4096) ==
	       sizeof(w->buf) ? 0 : -errno;
}

static int read_run(void *arg)
{
	struct walk *w = arg;

	return pread(w->fd, w->buf, sizeof(w->buf), 4096) ==
	       sizeof(w->buf) ? 0 : -errno;
}

static void test_walk_rw(void **state)
{
	struct walk w = { 0 };
	const struct kt_fault_op wr = {
		.name = "ivshmem write", .run = write_run, .arg = &w,
		.errnos = efault_only,
	};
	const struct kt_fault_op rd = {
		.name = "ivshmem read", .run = read_run, .arg = &w,
		.errnos = efault_only,
	};
	size_t i;

	(void)state;
	require();
	w.fd = open(bell, O_RDWR | O_CLOEXEC);
	assert_true(w.fd >= 0);
	kt_fault_walk(&wr, NULL);
	kt_fault_walk(&rd, NULL);
	for (i = 0; i < sizeof(w.buf); i++)
		assert_int_equal((unsigned char)w.buf[i], 0x5a);
	close(w.fd);
}

/* ---- mmap and first touch ---- */

#define FAR_ADDR ((void *)0x400000000000UL)

static int mmap_run(void *arg)
{
	struct walk *w = arg;

	w->map = mmap(FAR_ADDR, 8192, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_FIXED_NOREPLACE, w->fd, 0);
	if (w->map == MAP_FAILED)
		return -errno;
	w->map[0] = 1;		/* the first touch: page tables */
	w->map[4096] = 2;
	return 0;
}

static void mmap_undo(void *arg)
{
	struct walk *w = arg;

	munmap(w->map, 8192);
}

static void mmap_check(void *arg, unsigned int nth, int rc)
{
	struct walk *w = arg;

	(void)nth;
	if (rc) {
		/* nothing left mapped there */
		void *p = mmap(FAR_ADDR, 4096, PROT_READ,
			       MAP_PRIVATE | MAP_ANONYMOUS |
			       MAP_FIXED_NOREPLACE, -1, 0);

		assert_true(p == FAR_ADDR);
		munmap(p, 4096);
	}
	(void)w;
}

static void test_walk_mmap(void **state)
{
	struct walk w = { 0 };
	const struct kt_fault_op op = {
		.name = "ivshmem mmap + touch", .run = mmap_run,
		.check = mmap_check, .undo = mmap_undo, .arg = &w,
		.errnos = enomem_only,
	};

	(void)state;
	require();
	w.fd = open(bell, O_RDWR | O_CLOEXEC);
	assert_true(w.fd >= 0);
	kt_fault_walk(&op, NULL);
	close(w.fd);
}

/* ---- sysfs ---- */

static int sysfs_run(void *arg)
{
	static const char *const attrs[] = {
		"size", "peer_id", "vectors", "doorbell", "name",
		"pci_address", "events",
	};
	struct walk *w = arg;
	char p[128];
	size_t i;
	int r;

	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		snprintf(p, sizeof(p), "/sys/class/misc/%s/%s", bell + 5,
			 attrs[i]);
		r = read_file(p, w->buf, sizeof(w->buf));
		if (r)
			return r;
	}
	return 0;
}

static void test_walk_sysfs(void **state)
{
	struct walk w = { 0 };
	const struct kt_fault_op op = {
		.name = "ivshmem sysfs attributes", .run = sysfs_run,
		.arg = &w,
	};

	(void)state;
	require();
	kt_fault_walk(&op, NULL);
}

/* ---- probe ---- */

/*
 * The probe walk binds the plain device with the module loaded with
 * struct_pages=0, so that no injected fault lands in memremap_pages().
 * There an injected failure of the vmemmap (or mem_section usage)
 * allocation makes __add_pages() fail, and Linux 6.1's own add_pages()
 * (arch/x86/mm/init_64.c) answers every such failure with WARN_ON_ONCE,
 * which panic_on_warn turns into the end of the guest: a kernel quirk,
 * not a kipc error path.  The fault-injection stacktrace filter
 * (reject-start/reject-end) that could exclude just those points
 * depends on !X86_64.  So the walk covers every allocation of probe but
 * the struct-pages mapping (ivs_map_pfns() instead of ivs_map_pages()),
 * and test_probe_pages() checks, without injection, that the default
 * probe does give the memory struct pages and binds again and again;
 * ivshmem/dmabuf, ivshmem/sync and the DMABUF walk above use those pages.
 */
static int bind_run(void *arg)
{
	struct walk *w = arg;
	int r = write_file(DRV "/bind", plain_pci);

	w->bound = r == 0;
	return r;
}

static void bind_check(void *arg, unsigned int nth, int rc)
{
	char p[128];

	(void)arg;
	(void)nth;
	if (rc) {
		/* a failed probe leaves no driver bound */
		snprintf(p, sizeof(p), DRV "/%s", plain_pci);
		assert_true(access(p, F_OK) != 0);
	}
}

static void bind_undo(void *arg)
{
	(void)arg;
	assert_int_equal(write_file(DRV "/unbind", plain_pci), 0);
}

/* The plain device's struct_pages attribute: 0, 1, or -1 if not bound. */
static int plain_struct_pages(void)
{
	char p[128], v[32];
	int i;

	for (i = 0; i < 8; i++) {
		snprintf(p, sizeof(p), "/sys/class/misc/ivshmem%d/pci_address",
			 i);
		if (read_file(p, v, sizeof(v)) || strcmp(v, plain_pci))
			continue;
		snprintf(p, sizeof(p), "/sys/class/misc/ivshmem%d/struct_pages",
			 i);
		if (read_file(p, v, sizeof(v)))
			return -1;
		return v[0] == '1';
	}
	return -1;
}

static void test_walk_probe(void **state)
{
	struct walk w = { 0 };
	const struct kt_fault_op op = {
		.name = "ivshmem probe (bind)", .run = bind_run,
		.check = bind_check, .undo = bind_undo, .arg = &w,
		.errnos = probe_errs,
	};
	struct kt_fault_result r;
	char v[8] = "";

	(void)state;
	require();
	if (!plain_pci[0]) {
		printf("# no ivshmem-plain device\n");
		skip();
	}
	/* raw page frames: no memremap_pages() in the walk (see above) */
	assert_int_equal(kt_unload(MOD), 0);
	assert_int_equal(kt_load(MOD, "struct_pages=0"), 0);
	assert_int_equal(read_file("/sys/module/" MOD "/parameters/struct_pages",
				   v, sizeof(v)), 0);
	assert_string_equal(v, "N");
	assert_int_equal(plain_struct_pages(), 0);
	assert_int_equal(write_file(DRV "/unbind", plain_pci), 0);
	kt_fault_walk(&op, &r);
	assert_true(r.failed >= 3);
	/* the next bind works, still without struct pages */
	assert_int_equal(write_file(DRV "/bind", plain_pci), 0);
	assert_int_equal(plain_struct_pages(), 0);
}

/*
 * The default probe, not injected: the plain device gets struct pages
 * (memremap_pages()), and unbinding releases them so that the next bind
 * maps them again (a page map leaked by an unbind would make it fall back
 * to raw page frames, struct_pages 0).
 */
static void test_probe_pages(void **state)
{
	int i;

	(void)state;
	/* no fault injection here: every kernel the suite runs on */
	if (!plain_pci[0]) {
		printf("# no ivshmem-plain device\n");
		skip();
	}
	assert_int_equal(plain_struct_pages(), 1);
	for (i = 0; i < 3; i++) {
		assert_int_equal(write_file(DRV "/unbind", plain_pci), 0);
		assert_int_equal(plain_struct_pages(), -1);
		assert_int_equal(write_file(DRV "/bind", plain_pci), 0);
		assert_int_equal(plain_struct_pages(), 1);
	}
}

static void test_kmemleak(void **state)
{
	int n;

	(void)state;
	require();
	assert_int_equal(kt_unload(MOD), 0);
	n = kt_kmemleak_scan();
	assert_true(n <= 0);
	assert_int_equal(kt_load(MOD, NULL), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, load, unload)
	const struct CMUnitTest tests[] = {
		T(test_walk_open),
		T(test_walk_ioctls),
		T(test_walk_dmabuf),
		T(test_walk_rw),
		T(test_walk_mmap),
		T(test_walk_sysfs),
		T(test_walk_probe),
		T(test_probe_pages),
		T(test_kmemleak),
	};

	return kt_run_group(tests, NULL, NULL);
}
