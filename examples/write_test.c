// SPDX-License-Identifier: GPL-2.0
/*
 * write_test - write a pattern into a myshm buffer through mmap and check
 * that it reads back the same through the mapping and through read().
 *
 * Usage: write_test [DEVICE]      (default /dev/myshm)
 * Exit status 0 when both checks pass, 1 at the first mismatch or error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <kipc/myshm.h>

/* The byte at offset I: varies within and across pages. */
static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 7 + i / 4096);
}

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "/dev/myshm";
	unsigned char *map, *copy;
	__u64 size;
	size_t i;
	int fd;

	fd = open(dev, O_RDWR);
	if (fd < 0 || ioctl(fd, MYSHM_GET_SIZE, &size) < 0) {
		fprintf(stderr, "write_test: %s: %s\n", dev, strerror(errno));
		return 1;
	}
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	copy = malloc(size);
	if (map == MAP_FAILED || !copy) {
		fprintf(stderr, "write_test: mmap: %s\n", strerror(errno));
		return 1;
	}

	for (i = 0; i < size; i++)
		map[i] = pattern(i);

	for (i = 0; i < size; i++)
		if (map[i] != pattern(i)) {
			printf("mismatch in the mapping at %zu: %#x, expected %#x\n",
			       i, map[i], pattern(i));
			return 1;
		}

	if (pread(fd, copy, size, 0) != (ssize_t)size) {
		fprintf(stderr, "write_test: read: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < size; i++)
		if (copy[i] != pattern(i)) {
			printf("mismatch in read() at %zu: %#x, expected %#x\n",
			       i, copy[i], pattern(i));
			return 1;
		}

	printf("write_test: %s: %llu bytes written through mmap, verified through mmap and read()\n",
	       dev, (unsigned long long)size);
	munmap(map, size);
	free(copy);
	close(fd);
	return 0;
}
