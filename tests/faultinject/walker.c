// SPDX-License-Identifier: GPL-2.0
/*
 * faultinject/walker - the fault-injection walk (tests/lib/kt_fault.h) really
 * injects: walked over the test-only kipc_fi module (tests/kmod/kipc_fi.c),
 * every allocation and user copy of open(), its ioctls and module loading
 * fails once, each failure comes back as the right errno with the earlier
 * state intact, and nothing leaks.  Skipped on kernels without fault
 * injection (Debian's stock kernels); runs under make check-debug.
 */
#include "lib/kt.h"
#include "lib/kt_fault.h"
#include "kmod/kipc_fi.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define FI_MOD "kipc_fi"
#define FI_KO KT_TEST_MODULE_DIR "/kipc_fi.ko"
#define FI_DEV "/dev/kipc_fi"

static const char first[] = "the first string, pushed before the walk";

/* The file a test has open; closed by test_teardown even when it fails. */
static int fi_fd = -1;

static int fi_open(void)
{
	fi_fd = open(FI_DEV, O_RDWR | O_CLOEXEC);
	assert_true(fi_fd >= 0);
	return fi_fd;
}

static int test_teardown(void **state)
{
	(void)state;
	if (fi_fd >= 0)
		close(fi_fd);
	fi_fd = -1;
	return 0;
}

static int fi_push(int fd, const void *data, uint32_t len)
{
	struct kipc_fi_buf b = { .ptr = (uintptr_t)data, .len = len };
	int rc = ioctl(fd, KIPC_FI_PUSH, &b);

	return rc < 0 ? -errno : rc;
}

static int fi_get(int fd, uint32_t index, void *data, uint32_t *len)
{
	struct kipc_fi_buf b = { .ptr = (uintptr_t)data, .len = *len,
				 .index = index };

	if (ioctl(fd, KIPC_FI_GET, &b) < 0)
		return -errno;
	*len = b.len;
	return 0;
}

/* String INDEX of FD is exactly DATA/LEN. */
static void assert_string(int fd, uint32_t index, const void *data,
			  uint32_t len)
{
	char buf[KIPC_FI_MAX_LEN];
	uint32_t got = sizeof(buf);

	assert_int_equal(fi_get(fd, index, buf, &got), 0);
	assert_int_equal(got, len);
	assert_memory_equal(buf, data, len);
}

static int setup(void **state)
{
	(void)state;
	kt_unload_if_loaded(FI_MOD);
	return kt_load(FI_KO, NULL);
}

static int teardown(void **state)
{
	(void)state;
	return kt_unload(FI_MOD);
}

/* open(): the file's state is allocated; a failure leaves nothing open. */
struct open_walk {
	int fd;
};

static int open_run(void *arg)
{
	struct open_walk *w = arg;

	w->fd = open(FI_DEV, O_RDWR | O_CLOEXEC);
	return w->fd < 0 ? -errno : 0;
}

static void open_undo(void *arg)
{
	struct open_walk *w = arg;

	assert_int_equal(ioctl(w->fd, KIPC_FI_COUNT), 0);
	close(w->fd);
}

static void test_walk_open(void **state)
{
	struct open_walk w = { -1 };
	const struct kt_fault_op op = {
		.name = "kipc_fi open", .run = open_run, .undo = open_undo,
		.arg = &w,
	};
	struct kt_fault_result r;

	(void)state;
	kt_fault_require();
	kt_fault_walk(&op, &r);
	assert_true(r.failed >= 1);	/* at least the kzalloc of open */
}

/* KIPC_FI_PUSH: two allocations and two copies from user space. */
struct push_walk {
	int fd;
	unsigned int count;	/* strings the file should hold */
	char payload[1000];
	bool saw_enomem, saw_efault;
};

static int push_run(void *arg)
{
	struct push_walk *w = arg;
	int rc = fi_push(w->fd, w->payload, sizeof(w->payload));

	return rc < 0 ? rc : 0;
}

static void push_check(void *arg, unsigned int nth, int rc)
{
	struct push_walk *w = arg;
	unsigned int i;

	(void)nth;
	w->saw_enomem |= rc == -ENOMEM;
	w->saw_efault |= rc == -EFAULT;
	if (!rc)
		w->count++;	/* the kernel absorbed the fault */
	/* the list is exactly what it was, and still readable */
	assert_int_equal(ioctl(w->fd, KIPC_FI_COUNT), w->count);
	assert_string(w->fd, 0, first, sizeof(first));
	for (i = 1; i < w->count; i++)
		assert_string(w->fd, i, w->payload, sizeof(w->payload));
}

static void test_walk_push(void **state)
{
	struct push_walk w = { .count = 1 };
	const struct kt_fault_op op = {
		.name = "kipc_fi KIPC_FI_PUSH", .run = push_run,
		.check = push_check, .arg = &w,
	};
	struct kt_fault_result r;
	unsigned int i;

	(void)state;
	kt_fault_require();
	for (i = 0; i < sizeof(w.payload); i++)
		w.payload[i] = (char)(i * 7 + 1);
	w.fd = fi_open();
	assert_int_equal(fi_push(w.fd, first, sizeof(first)), 1);

	kt_fault_walk(&op, &r);
	/*
	 * copy arg, kmalloc entry, kmalloc data, copy data: each fails once
	 * (kmemleak adds an allocation of its own per object, which it
	 * absorbs; the exact numbers vary a little from run to run)
	 */
	assert_true(r.failed >= 3);
	assert_true(w.saw_enomem);
	assert_true(w.saw_efault);
	w.count++;	/* the final, clean push */
	assert_int_equal(ioctl(w.fd, KIPC_FI_COUNT), w.count);
	assert_string(w.fd, w.count - 1, w.payload, sizeof(w.payload));
}

/* KIPC_FI_GET: only copies; a failed copy changes nothing. */
struct get_walk {
	int fd;
	char buf[64];
};

static int get_run(void *arg)
{
	struct get_walk *w = arg;
	uint32_t len = sizeof(w->buf);

	memset(w->buf, 0, sizeof(w->buf));
	return fi_get(w->fd, 0, w->buf, &len);
}

static void get_check(void *arg, unsigned int nth, int rc)
{
	struct get_walk *w = arg;

	(void)nth;
	assert_int_equal(rc, -EFAULT);
	assert_int_equal(ioctl(w->fd, KIPC_FI_COUNT), 1);
	assert_string(w->fd, 0, first, sizeof(first));
}

static void test_walk_get(void **state)
{
	static const int efault_only[] = { EFAULT, 0 };
	struct get_walk w;
	const struct kt_fault_op op = {
		.name = "kipc_fi KIPC_FI_GET", .run = get_run,
		.check = get_check, .arg = &w, .errnos = efault_only,
	};

	(void)state;
	kt_fault_require();
	w.fd = fi_open();
	assert_int_equal(fi_push(w.fd, first, sizeof(first)), 1);
	/* copy arg in, copy the string out, copy arg back */
	assert_int_equal(kt_fault_walk(&op, NULL), 3);
	assert_memory_equal(w.buf, first, sizeof(first));
}

/* Module loading: a failed load leaves no module and no device behind. */
static int load_run(void *arg)
{
	(void)arg;
	return kt_load(FI_KO, NULL);
}

static void load_check(void *arg, unsigned int nth, int rc)
{
	(void)arg;
	(void)nth;
	if (rc)
		assert_false(kt_loaded(FI_MOD));
	assert_int_equal(access(FI_DEV, F_OK) == 0, kt_loaded(FI_MOD));
}

static void load_undo(void *arg)
{
	(void)arg;
	assert_int_equal(kt_unload(FI_MOD), 0);
}

static void test_walk_module_load(void **state)
{
	const struct kt_fault_op op = {
		.name = "kipc_fi module load", .run = load_run,
		.check = load_check, .undo = load_undo,
	};
	struct kt_fault_result r;

	(void)state;
	kt_fault_require();
	assert_int_equal(kt_unload(FI_MOD), 0);
	kt_fault_walk(&op, &r);
	assert_true(r.failed >= 2);	/* at least our own init's two steps */
	assert_int_equal(kt_load(FI_KO, NULL), 0);	/* for teardown */
}

/* After all that, unloading leaves no unreferenced object behind. */
static void test_no_leaks(void **state)
{
	int leaks;

	(void)state;
	kt_fault_require();
	assert_int_equal(kt_unload(FI_MOD), 0);
	leaks = kt_kmemleak_scan();
	assert_int_equal(kt_load(FI_KO, NULL), 0);	/* for teardown */
	if (leaks < 0)
		skip();
	assert_int_equal(leaks, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk_open),
		cmocka_unit_test_teardown(test_walk_push, test_teardown),
		cmocka_unit_test_teardown(test_walk_get, test_teardown),
		cmocka_unit_test(test_walk_module_load),
		cmocka_unit_test(test_no_leaks),
	};

	return kt_run_group(tests, setup, teardown);
}
