// SPDX-License-Identifier: GPL-2.0
/*
 * shmtest - the classic xv6 shared memory test, on kipc's kshm.
 *
 * shmtest NAME SIZE NPROC: create NAME, size it to SIZE, map it, fork NPROC
 * children that each stamp their own region and then verify every other
 * child's region; the parent verifies all regions, closes, and prints one
 * line.  Exit status 0 only if every byte checked out.
 */
#include <kipc/kshm.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tool.h"	/* KIPC_VERSION */

#define MAX_NPROC 1024

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: shmtest NAME SIZE NPROC\n"
		"       shmtest --help | --version\n"
		"Test kipc's named shared memory (kshm.ko must be loaded).\n\n"
		"Creates the kshm object NAME, truncates it to SIZE bytes, maps\n"
		"it read-write and forks NPROC children (1-%d).  The object is cut\n"
		"into NPROC equal regions; child i writes a stamp (a pattern made\n"
		"of i and the byte offset) into region i, waits until every child\n"
		"has written, then verifies every other child's region.  The\n"
		"parent then verifies all regions itself, closes the object and\n"
		"prints one line.  Exit status: 0 if all data checked out, 1 if\n"
		"not, 2 on bad usage.\n\n"
		"Example: shmtest foo 8192 4\n", MAX_NPROC);
}

static unsigned char stamp(long child, size_t off)
{
	return (unsigned char)((child + 1) * 151 + off * 7 + (off >> 8));
}

static size_t check_region(const unsigned char *p, long child, size_t len)
{
	size_t off, bad = 0;

	for (off = 0; off < len; off++)
		if (p[off] != stamp(child, off))
			bad++;
	return bad;
}

static long parse(const char *s, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "shmtest: bad %s '%s' (%ld-%ld)\n", what, s,
			min, max);
		exit(2);
	}
	return v;
}

static int child(unsigned char *base, long i, long nproc, size_t rlen,
		 int ready_wr, int go_rd)
{
	size_t bad = 0;
	char c = 'r';
	long j;

	for (size_t off = 0; off < rlen; off++)
		base[i * rlen + off] = stamp(i, off);
	if (write(ready_wr, &c, 1) != 1 || read(go_rd, &c, 1) != 1)
		return 1;
	for (j = 0; j < nproc; j++) {
		size_t b = check_region(base + j * rlen, j, rlen);

		if (b)
			fprintf(stderr,
				"shmtest: child %ld: region %ld: %zu bad bytes\n",
				i, j, b);
		bad += b;
	}
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	int ready[2], go[2], fd, got, st, failed = 0;
	long size, nproc, i;
	unsigned char *base;
	void *va;
	size_t rlen, bad = 0;
	char c;

	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("shmtest (kipc) %s\n", KIPC_VERSION);
		return 0;
	}
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc != 4) {
		usage(stderr);
		return 2;
	}
	size = parse(argv[2], 1, INT_MAX, "SIZE");
	nproc = parse(argv[3], 1, MAX_NPROC, "NPROC");
	if (size < nproc) {
		fprintf(stderr, "shmtest: SIZE %ld gives no room for %ld regions\n",
			size, nproc);
		return 2;
	}
	rlen = (size_t)size / (size_t)nproc;

	fd = kshm_open(argv[1]);
	if (fd < 0) {
		fprintf(stderr, "shmtest: kshm_open %s: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	got = kshm_trunc(fd, (size_t)size);
	if (got < 0) {
		fprintf(stderr, "shmtest: kshm_trunc %s %ld: %s\n", argv[1], size,
			strerror(errno));
		kshm_close(fd);
		return 1;
	}
	if (kshm_map(fd, &va, O_RDWR) < 0) {
		fprintf(stderr, "shmtest: kshm_map %s: %s\n", argv[1],
			strerror(errno));
		kshm_close(fd);
		return 1;
	}
	base = va;
	if (pipe(ready) || pipe(go)) {
		perror("shmtest: pipe");
		return 1;
	}
	for (i = 0; i < nproc; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("shmtest: fork");
			return 1;
		}
		if (pid == 0) {
			close(ready[0]);
			close(go[1]);
			_exit(child(base, i, nproc, rlen, ready[1], go[0]));
		}
	}
	close(ready[1]);
	close(go[0]);
	/* Wait for every stamp, then let the children check each other. */
	for (i = 0; i < nproc; i++)
		if (read(ready[0], &c, 1) != 1)
			break;
	for (long k = 0; k < nproc; k++)
		if (write(go[1], "g", 1) != 1)
			break;
	close(go[1]);
	while (wait(&st) > 0)
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			failed++;
	for (i = 0; i < nproc; i++)
		bad += check_region(base + i * rlen, i, rlen);
	if (kshm_close(fd) < 0) {
		fprintf(stderr, "shmtest: kshm_close: %s\n", strerror(errno));
		failed++;
	}
	if (failed || bad) {
		printf("shmtest %s: FAILED: %d of %ld children failed, %zu bad bytes\n",
		       argv[1], failed, nproc, bad);
		return 1;
	}
	printf("shmtest %s: OK: %ld processes shared %ld bytes (%d allocated), %zu-byte regions all verified\n",
	       argv[1], nproc, size, got, rlen);
	return 0;
}
