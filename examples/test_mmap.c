// SPDX-License-Identifier: GPL-2.0
/*
 * test_mmap - the classic one-page mmap demo, against /dev/mmapdemo.
 *
 * Load myshm with a one-page buffer that starts with the classic text:
 *   modprobe myshm 'buffers=myshm,mmapdemo:4K:Hello\x20from\x20kernel\x20space!'
 * Usage: test_mmap [DEVICE [TEXT]]
 * Prints what the page holds and writes TEXT (default "Hello from user
 * space!") through the mapping, with the classic demo's own two lines;
 * then checks through read() that the device holds TEXT (exit 1 and a
 * message on stderr if not).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "/dev/mmapdemo";
	const char *text = argc > 2 ? argv[2] : "Hello from user space!";
	long page = sysconf(_SC_PAGESIZE);
	char buf[256];
	char *map;
	ssize_t n;
	int fd;

	fd = open(dev, O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "test_mmap: %s: %s\n", dev, strerror(errno));
		return 1;
	}
	map = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "test_mmap: mmap: %s\n", strerror(errno));
		return 1;
	}

	/* the classic demo's first line, whatever the kernel put there */
	printf("Data read from kernel: %.*s\n", (int)sizeof(buf) - 1, map);

	snprintf(map, page, "%s", text);
	printf("Data written to shared memory.\n");

	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n < 0) {
		fprintf(stderr, "test_mmap: read: %s\n", strerror(errno));
		return 1;
	}
	buf[n] = '\0';
	munmap(map, page);
	close(fd);
	if (strcmp(buf, text)) {
		fprintf(stderr, "test_mmap: read() returns \"%s\", not \"%s\"\n",
			buf, text);
		return 1;
	}
	return 0;
}
