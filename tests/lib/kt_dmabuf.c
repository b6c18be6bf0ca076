// SPDX-License-Identifier: GPL-2.0
/* kt_dmabuf.c - dma-bufs and vgem in guest tests (see kt_dmabuf.h). */
#include "kt_dmabuf.h"
#include "kt.h"
#include "kt_fds.h"

#include <errno.h>
#include <fcntl.h>
#include <libdrm/drm.h>
#include <linux/dma-buf.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

int kt_dmabuf_count(void)
{
	/* what readlink() says of a dma-buf without a name */
	return kt_count_fds_to("/dmabuf:");
}

int kt_dmabuf_sync(int buf_fd, unsigned long long flags)
{
	struct dma_buf_sync s = { .flags = DMA_BUF_SYNC_START | flags };

	if (ioctl(buf_fd, DMA_BUF_IOCTL_SYNC, &s))
		return -1;
	s.flags = DMA_BUF_SYNC_END | flags;
	return ioctl(buf_fd, DMA_BUF_IOCTL_SYNC, &s);
}

/* In-tree modules vm/mkinitramfs carries, in load order. */
#define INTREE "/kipc/intree"

int kt_vgem_open(void)
{
	char name[32], path[96], line[64];
	struct drm_version v;
	FILE *order;
	int i, fd;

	order = fopen(INTREE "/order", "r");
	while (order && fgets(line, sizeof(line), order)) {
		line[strcspn(line, "\n")] = '\0';
		if (!line[0] || kt_loaded(line))
			continue;
		snprintf(path, sizeof(path), INTREE "/%s.ko", line);
		kt_load(path, NULL);
	}
	if (order)
		fclose(order);
	for (i = 0; i < 16; i++) {
		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(&v, 0, sizeof(v));
		memset(name, 0, sizeof(name));
		v.name = name;
		v.name_len = sizeof(name) - 1;
		if (!ioctl(fd, DRM_IOCTL_VERSION, &v) && !strcmp(name, "vgem"))
			return fd;
		close(fd);
	}
	errno = ENODEV;
	return -1;
}

int kt_vgem_open_or_skip(void)
{
	int card = kt_vgem_open();

	if (card >= 0)
		return card;
	fail_msg("no vgem card (/kipc/intree, /dev/dri/card*): %s",
		 strerror(errno));
	return -1;
}

__u32 kt_vgem_import(int card, int buf_fd)
{
	struct drm_prime_handle h = { .fd = buf_fd };

	if (ioctl(card, DRM_IOCTL_PRIME_FD_TO_HANDLE, &h))
		return 0;
	return h.handle;
}

int kt_vgem_export(int card, __u32 handle)
{
	struct drm_prime_handle h = {
		.handle = handle, .flags = DRM_CLOEXEC | DRM_RDWR,
	};

	if (ioctl(card, DRM_IOCTL_PRIME_HANDLE_TO_FD, &h))
		return -1;
	return h.fd;
}

int kt_vgem_close(int card, __u32 handle)
{
	struct drm_gem_close c = { .handle = handle };

	return ioctl(card, DRM_IOCTL_GEM_CLOSE, &c);
}

void kt_vgem_round_trip(int card, int dev_fd, int buf_fd, long off,
			size_t len, const char *exporter)
{
	char info[8192];
	unsigned char *b;
	__u32 handle;
	int vfd, n;
	FILE *f;

	assert_int_equal(pwrite(dev_fd, "seen by vgem", 13, off + 8), 13);
	handle = kt_vgem_import(card, buf_fd);
	if (!handle)
		fail_msg("PRIME fd-to-handle: %s", strerror(errno));
	f = fopen("/sys/kernel/debug/dma_buf/bufinfo", "r");
	if (f) {
		n = fread(info, 1, sizeof(info) - 1, f);
		info[n > 0 ? n : 0] = '\0';
		fclose(f);
		assert_non_null(strstr(info, exporter));
		assert_non_null(strstr(info, "vgem"));
	}
	close(buf_fd);
	vfd = kt_vgem_export(card, handle);
	assert_true(vfd >= 0);
	b = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, vfd, 0);
	assert_true(b != MAP_FAILED);
	assert_memory_equal(b + 8, "seen by vgem", 13);
	memcpy(b + 64, "back from vgem", 15);
	assert_int_equal(pread(dev_fd, info, 15, off + 64), 15);
	assert_memory_equal(info, "back from vgem", 15);
	munmap(b, len);
	close(vfd);
	assert_int_equal(kt_vgem_close(card, handle), 0);
}

void kt_dmabuf_check_readonly(int buf_fd, size_t len, size_t at,
			      const char *bytes, size_t n)
{
	unsigned char *b;

	assert_true(buf_fd >= 0);
	assert_true(mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, buf_fd,
			 0) == MAP_FAILED);
	assert_int_equal(errno, EACCES);
	b = mmap(NULL, len, PROT_READ, MAP_SHARED, buf_fd, 0);
	assert_true(b != MAP_FAILED);
	assert_memory_equal(b + at, bytes, n);
	munmap(b, len);
	close(buf_fd);
}
