/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ivs.h - what the tests of tests/ivshmem/ share: finding the plain and
 * the doorbell device tests/run-suite attaches, their sysfs attributes,
 * bind/unbind, ring and wait.  Static functions: each test is one program.
 */
#ifndef KIPC_TESTS_IVS_H
#define KIPC_TESTS_IVS_H

#include "lib/kt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <kipc/ivshmem_ioctl.h>

#define MOD "kipc_ivshmem"
#define DRV "/sys/bus/pci/drivers/kipc_ivshmem"

/* Found by ivs_find_devices(): the plain and the doorbell device. */
static char plain[64], bell[64];	/* /dev/ivshmemN */
static char plain_pci[32], bell_pci[32];	/* their PCI addresses */

/* Attribute ATTR of DEV (/dev/ivshmemN) into BUF, without the newline. */
static inline void read_attr(const char *dev, const char *attr, char *buf,
		      size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/misc/%s/%s", dev + 5, attr);
	f = fopen(path, "r");
	if (!f) {
		fail_msg("%s: %s", path, strerror(errno));
		return;
	}
	if (!fgets(buf, len, f))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* Fill plain, bell and their PCI addresses; 0 if both exist. */
static inline int find_devices(void)
{
	char name[64], v[32];
	int i;

	plain[0] = bell[0] = '\0';
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "/dev/ivshmem%d", i);
		if (access(name, F_OK))
			continue;
		read_attr(name, "doorbell", v, sizeof(v));
		if (v[0] == '1' && !bell[0]) {
			strcpy(bell, name);
			read_attr(name, "pci_address", bell_pci,
				  sizeof(bell_pci));
		} else if (v[0] == '0' && !plain[0]) {
			strcpy(plain, name);
			read_attr(name, "pci_address", plain_pci,
				  sizeof(plain_pci));
		}
	}
	return plain[0] && bell[0] ? 0 : -1;
}

/* cmocka setup: a freshly loaded module, devices found. */
static inline int load(void **state)
{
	(void)state;
	kt_unload_if_loaded(MOD);
	if (kt_load(MOD, NULL))
		return -1;
	usleep(100000);
	find_devices();
	return 0;
}

/* cmocka teardown: close what the test left open, unload. */
static inline int unload(void **state)
{
	int fd;

	(void)state;
	for (fd = 3; fd < 256; fd++)
		close(fd);
	return kt_unload(MOD) ? -1 : 0;
}

#define NEED(dev) do { if (!(dev)[0]) { \
	printf("# no %s device (tests/run-suite attaches both)\n", #dev); \
	skip(); } } while (0)

static inline int xopen(const char *p, int fl)
{
	int fd = open(p, fl | O_CLOEXEC);

	if (fd < 0)
		fail_msg("open %s: %s", p, strerror(errno));
	return fd;
}

/* Write VAL to the sysfs file PATH; 0 or -1. */
static inline int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -1;
	r = write(fd, val, strlen(val)) < 0 ? -1 : 0;
	close(fd);
	return r;
}

/*
 * Does DEV's memory have struct pages (sysfs struct_pages)?  Needed for
 * shared futexes and dma-buf: fail the calling test when it has none.
 * Every kernel the tests run on has CONFIG_ZONE_DEVICE (Debian's, and
 * vm/debug.config for the debug and data-race kernels), and
 * tests/run-suite's BARs are 4 MiB (2 MiB-aligned, as memory hotplug
 * needs).
 */
static inline void need_pages(const char *dev)
{
	char v[8];

	read_attr(dev, "struct_pages", v, sizeof(v));
	if (v[0] != '1')
		fail_msg("%s has no struct pages (see the kernel log)", dev);
}

static inline __u32 my_id(int fd)
{
	__u32 id;

	assert_int_equal(ioctl(fd, KIPC_IVSHMEM_GET_PEER_ID, &id), 0);
	return id;
}

static inline int ring(int fd, __u32 peer, __u32 vec)
{
	struct kipc_ivshmem_ring r = { peer, vec };

	return ioctl(fd, KIPC_IVSHMEM_RING, &r);
}

static inline int waitv(int fd, __u32 vec, int tmo, __u64 *count)
{
	struct kipc_ivshmem_wait w = { .vector = vec, .timeout_ms = tmo };
	int r = ioctl(fd, KIPC_IVSHMEM_WAIT, &w);

	if (count)
		*count = w.count;
	return r;
}

#endif /* KIPC_TESTS_IVS_H */
