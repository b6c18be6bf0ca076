// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem/unplug - hot-unplug of kipc_ivshmem devices through QEMU's
 * device_del while they are in use, and device_add again.  Driven by
 * tests/rig/ivshmem-unplug.sh: the guest prints "KIPC-HOTPLUG del ID" or
 * "KIPC-HOTPLUG add" on its output and the rig sends the QMP commands
 * (vm/run --qmp); the guest sees the result in sysfs.  Elsewhere (plain
 * tests/run-suite guests, no KIPC_UNPLUG=1 on the command line) every
 * case skips.
 *
 * Plain device (QEMU id ivs0), open and mapped: after device_del an old
 * mapping raises SIGBUS, read and ioctl fail with ENODEV, poll reports
 * POLLERR|POLLHUP.  Doorbell device (ivs1), open, mapped, a waiter blocked
 * in KIPC_IVSHMEM_WAIT and a poller blocked in poll(): the waiter gets
 * ENODEV, the poller POLLERR|POLLHUP, the mapping SIGBUSes, RING fails with
 * ENODEV.  Unloading the module is refused while those files are open or
 * mapped and succeeds once they are closed.  After device_add of both
 * devices (with fresh backend ids) the driver binds them again: the plain
 * memory still holds what was written through the old mapping, the
 * doorbell rings itself.
 */
#include "ivshmem/ivs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <kipc/ivshmem_ioctl.h>
#include <kipc/myshm.h>

#define MARK "written before the unplug"
#define MARK_OFF 4096

static bool driven;		/* KIPC_UNPLUG=1: the rig answers requests */
static int plain_fd = -1, bell_fd = -1;
static unsigned char *plain_map, *bell_map;

/* ivs.h's read_attr(), but a missing attribute is -1, not a failure. */
static int try_attr(const char *dev, const char *attr, char *buf, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/misc/%s/%s", dev + 5, attr);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, len, f))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
	return 0;
}

/*
 * ivs.h's find_devices(), tolerant of nodes whose attributes are not there
 * (yet or any more) while devices come and go.
 */
static int scan_devices(void)
{
	char name[64], v[32];
	int i;

	plain[0] = bell[0] = '\0';
	for (i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), "/dev/ivshmem%d", i);
		if (access(name, F_OK) || try_attr(name, "doorbell", v,
						   sizeof(v)))
			continue;
		if (v[0] == '1' && !bell[0])
			strcpy(bell, name);
		else if (v[0] == '0' && !plain[0])
			strcpy(plain, name);
	}
	return plain[0] && bell[0] ? 0 : -1;
}

/* Ask the rig for a QMP action (one line on our output). */
static void request(const char *what)
{
	printf("KIPC-HOTPLUG %s\n", what);
	fflush(stdout);
}

/*
 * Have the rig device_del DEV (QEMU id ID) and wait up to 90 s until its
 * PCI device is gone: then remove() has run to the end (the misc node goes
 * first, the mappings are zapped later).  0 if it went.
 */
static int unplug(const char *dev, const char *id)
{
	char path[128], pci[32], req[32];
	int i;

	if (try_attr(dev, "pci_address", pci, sizeof(pci)) || !pci[0])
		return -1;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", pci);
	if (access(path, F_OK))
		return -1;
	snprintf(req, sizeof(req), "del %s", id);
	request(req);
	for (i = 0; i < 900; i++) {
		if (access(path, F_OK))
			return 0;
		usleep(100000);
	}
	return -1;
}

static void touch_child(void *arg)
{
	volatile unsigned char *m = arg;

	signal(SIGBUS, SIG_DFL);	/* cmocka catches it otherwise */
	(void)m[0];
	_exit(0);
}

static int setup(void **state)
{
	const char *e = getenv("KIPC_UNPLUG");

	(void)state;
	driven = e && !strcmp(e, "1");
	if (!driven)
		return 0;
	kt_unload_if_loaded(MOD);
	if (kt_load(MOD, NULL))
		return -1;
	usleep(100000);
	scan_devices();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (plain_map)
		munmap(plain_map, 4096 * 2);
	if (bell_map)
		munmap(bell_map, 4096);
	if (plain_fd >= 0)
		close(plain_fd);
	if (bell_fd >= 0)
		close(bell_fd);
	kt_unload_if_loaded(MOD);
	return 0;
}

#define NEED_RIG() do { if (!driven) { \
	printf("# needs tests/rig/ivshmem-unplug.sh (QMP device_del/device_add)\n"); \
	skip(); } } while (0)

static void test_del_plain_in_use(void **state)
{
	struct pollfd p;
	char buf[8];
	__u64 sz;

	(void)state;
	NEED_RIG();
	assert_true(plain[0]);
	plain_fd = open(plain, O_RDWR | O_CLOEXEC);
	assert_true(plain_fd >= 0);
	plain_map = mmap(NULL, 4096 * 2, PROT_READ | PROT_WRITE, MAP_SHARED,
			 plain_fd, 0);
	assert_true(plain_map != MAP_FAILED);
	memcpy(plain_map + MARK_OFF, MARK, sizeof(MARK));
	assert_int_equal(unplug(plain, "ivs0"), 0);
	assert_int_equal(kt_in_child(touch_child, plain_map),
			 KT_SIGNALED(SIGBUS));
	assert_int_equal(pread(plain_fd, buf, 1, 0), -1);
	assert_int_equal(errno, ENODEV);
	assert_int_equal(pwrite(plain_fd, "x", 1, 0), -1);
	assert_int_equal(errno, ENODEV);
	assert_int_equal(ioctl(plain_fd, MYSHM_GET_SIZE, &sz), -1);
	assert_int_equal(errno, ENODEV);
	p = (struct pollfd){ plain_fd, POLLIN, 0 };
	assert_int_equal(poll(&p, 1, 0), 1);
	assert_true((p.revents & (POLLERR | POLLHUP)) == (POLLERR | POLLHUP));
	/* a new mapping of the dead device fails */
	assert_true(mmap(NULL, 4096, PROT_READ, MAP_SHARED, plain_fd, 0) ==
		    MAP_FAILED);
	assert_int_equal(errno, ENODEV);
}

static void test_del_doorbell_waited_on(void **state)
{
	struct pollfd p;
	pid_t waiter, poller;
	int st, fd;

	(void)state;
	NEED_RIG();
	assert_true(bell[0]);
	bell_fd = open(bell, O_RDWR | O_CLOEXEC);
	assert_true(bell_fd >= 0);
	bell_map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
			bell_fd, 0);
	assert_true(bell_map != MAP_FAILED);
	bell_map[0] = 1;
	waiter = fork();
	if (!waiter)
		_exit(waitv(bell_fd, 0, -1, NULL) == -1 && errno == ENODEV ? 0 : 1);
	poller = fork();
	if (!poller) {
		fd = open(bell, O_RDWR | O_CLOEXEC);
		p = (struct pollfd){ fd, POLLIN, 0 };
		if (fd < 0 || poll(&p, 1, -1) != 1)
			_exit(2);
		_exit((p.revents & (POLLERR | POLLHUP)) ==
		      (POLLERR | POLLHUP) ? 0 : 1);
	}
	usleep(500000);
	/* both are still asleep */
	assert_int_equal(waitpid(waiter, &st, WNOHANG), 0);
	assert_int_equal(waitpid(poller, &st, WNOHANG), 0);
	assert_int_equal(unplug(bell, "ivs1"), 0);
	assert_int_equal(waitpid(waiter, &st, 0), waiter);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(waitpid(poller, &st, 0), poller);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(kt_in_child(touch_child, bell_map),
			 KT_SIGNALED(SIGBUS));
	assert_int_equal(ring(bell_fd, 0, 0), -1);
	assert_int_equal(errno, ENODEV);
	assert_int_equal(waitv(bell_fd, 0, 0, NULL), -1);
	assert_int_equal(errno, ENODEV);
}

static void test_unload_refused_until_closed(void **state)
{
	int r;

	(void)state;
	NEED_RIG();
	assert_true(plain_fd >= 0 && bell_fd >= 0);
	r = kt_unload(MOD);
	assert_true(r == -EBUSY || r == -EAGAIN);
	/* mapped but closed: still refused */
	close(plain_fd);
	close(bell_fd);
	plain_fd = bell_fd = -1;
	r = kt_unload(MOD);
	assert_true(r == -EBUSY || r == -EAGAIN);
	munmap(plain_map, 4096 * 2);
	munmap(bell_map, 4096);
	plain_map = bell_map = NULL;
	assert_int_equal(kt_unload(MOD), 0);
}

static void test_add_binds_again(void **state)
{
	char buf[sizeof(MARK)];
	int i, fd;

	(void)state;
	NEED_RIG();
	assert_int_equal(kt_load(MOD, NULL), 0);
	request("add");
	for (i = 0; i < 900 && scan_devices(); i++)
		usleep(100000);
	assert_int_equal(scan_devices(), 0);
	fd = open(plain, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, sizeof(buf), MARK_OFF), sizeof(buf));
	assert_memory_equal(buf, MARK, sizeof(MARK));
	close(fd);
	fd = open(bell, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ring(fd, my_id(fd), 1), 0);
	assert_int_equal(waitv(fd, 1, 10000, NULL), 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_del_plain_in_use),
		cmocka_unit_test(test_del_doorbell_waited_on),
		cmocka_unit_test(test_unload_refused_until_closed),
		cmocka_unit_test(test_add_binds_again),
	};

	return kt_run_group(tests, setup, teardown);
}
