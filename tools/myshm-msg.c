// SPDX-License-Identifier: GPL-2.0
/*
 * myshm-msg - put a text message into a myshm buffer, or read or await one,
 * through a shared mapping.  Lets two unrelated processes talk through
 * /dev/myshm without any system call on the data path.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <kipc/myshm.h>

#include "tool.h"	/* KIPC_VERSION */

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: myshm-msg [OPTIONS] write TEXT   store TEXT (NUL-terminated)\n"
		"       myshm-msg [OPTIONS] read         print the text stored\n"
		"       myshm-msg [OPTIONS] wait TEXT    wait until TEXT is stored\n"
		"Options:\n"
		"  -d, --device DEV    the buffer (default /dev/myshm)\n"
		"  -o, --offset N      byte offset of the message (default 0)\n"
		"  -t, --timeout SEC   give up waiting after SEC seconds (default 10)\n"
		"  -h, --help          this text\n"
		"  -V, --version       print the version\n"
		"The text lives in the mapping: a writer and a reader started\n"
		"separately see each other's data.  Exit status: 0 done, 1 error,\n"
		"2 usage, 3 wait timed out.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "offset", required_argument, NULL, 'o' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dev = "/dev/myshm", *cmd, *text = NULL;
	unsigned long long off = 0;
	double timeout = 10;
	struct timespec t0, t;
	char *map, *end;
	__u64 size;
	int c, fd, wr;

	while ((c = getopt_long(argc, argv, "d:o:t:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dev = optarg;
			break;
		case 'o':
			errno = 0;
			off = strtoull(optarg, &end, 0);
			if (errno || *end || optarg[0] == '-') {
				fprintf(stderr, "myshm-msg: bad offset '%s'\n", optarg);
				return 2;
			}
			break;
		case 't':
			timeout = strtod(optarg, &end);
			if (*end || timeout < 0) {
				fprintf(stderr, "myshm-msg: bad timeout '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("myshm-msg (kipc) %s\n", KIPC_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind++];
	if (!strcmp(cmd, "write") || !strcmp(cmd, "wait")) {
		if (optind != argc - 1) {
			usage(stderr);
			return 2;
		}
		text = argv[optind];
	} else if (strcmp(cmd, "read") || optind != argc) {
		usage(stderr);
		return 2;
	}
	wr = !strcmp(cmd, "write");

	fd = open(dev, wr ? O_RDWR : O_RDONLY);
	if (fd < 0 || ioctl(fd, MYSHM_GET_SIZE, &size) < 0) {
		fprintf(stderr, "myshm-msg: %s: %s\n", dev, strerror(errno));
		return 1;
	}
	if (off >= size || (text && strlen(text) >= size - off)) {
		fprintf(stderr, "myshm-msg: %s: message does not fit in %llu bytes\n",
			dev, (unsigned long long)size);
		return 1;
	}
	map = mmap(NULL, size, wr ? PROT_READ | PROT_WRITE : PROT_READ,
		   MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "myshm-msg: mmap %s: %s\n", dev, strerror(errno));
		return 1;
	}

	if (wr) {
		memcpy(map + off, text, strlen(text) + 1);
		return 0;
	}
	if (!text) {
		printf("%.*s\n", (int)strnlen(map + off, size - off), map + off);
		return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (strncmp(map + off, text, size - off)) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec + (t.tv_nsec - t0.tv_nsec) / 1e9 > timeout) {
			fprintf(stderr, "myshm-msg: timed out waiting for '%s'\n", text);
			return 3;
		}
		usleep(1000);
	}
	printf("%s\n", text);
	return 0;
}
