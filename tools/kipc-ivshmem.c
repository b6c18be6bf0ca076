// SPDX-License-Identifier: GPL-2.0
/*
 * kipc-ivshmem - talk over ivshmem: as a host peer of an ivshmem server
 * (libkipc, -S) or, in a guest, through kipc_ivshmem.ko's device (-d).
 * The same commands work both ways, so scripts and docs can drive host
 * and guests alike.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <kipc/ivshmem.h>
#include <kipc/myshm.h>

#define PROG "kipc-ivshmem"
#define TOOL_NAME PROG
#include "tool.h"

/* Argument limits: a doorbell names a 16-bit peer id and an 8-bit vector. */
#define PEER_MAX	65535UL
#define VECTOR_MAX	255UL
#define COUNT_MAX	(1UL << 30)	/* rings or wake-ups in one command */

static const char *sock_path, *dev_path;
static unsigned int nvec;
static int timeout_ms = 10000;
static struct kipc_ivshmem *iv;	/* host mode */
static int dfd = -1;		/* device mode */
static void *mem;
static size_t size;
static unsigned int own_id, vectors;
static uint64_t seen[KIPC_IVSHMEM_MAX_VECTORS];	/* host mode counts */

static void usage(FILE *f)
{
	fprintf(f,
"Usage: " PROG " (-S SOCKET | -d DEVICE) [OPTION]... COMMAND [ARG]...\n"
"Use ivshmem shared memory and doorbells, as a host peer of an ivshmem\n"
"server (-S, e.g. kipc-ivshmem-server's socket) or in a guest through the\n"
"kipc_ivshmem driver (-d /dev/ivshmem0).\n\n"
"  -S, --socket PATH    join the ivshmem server at PATH (host)\n"
"  -d, --device PATH    use the kipc_ivshmem device PATH (guest)\n"
"  -n, --vectors N      the server's vectors per peer (-S; default: learn)\n"
"  -t, --timeout MS     for connecting and waiting (default 10000, -1 none)\n"
"  -h, --help           this text\n"
"  -V, --version        print the version\n\n"
"Commands:\n"
"  info                 own peer id, size, vectors (and peers with -S)\n"
"  write OFFSET TEXT    write TEXT (and a NUL) at OFFSET of the memory\n"
"  read OFFSET [LEN]    print the NUL-terminated text at OFFSET (max LEN)\n"
"  ring PEER VECTOR [N] ring PEER's doorbell VECTOR N times (default 1)\n"
"  wait VECTOR [N]      wait until VECTOR was rung (N wake-ups; default 1)\n"
"  monitor [SECONDS]    (-S) print 'join ID' / 'leave ID' as peers come and go\n"
"  await OFFSET TEXT    wait (-t) until TEXT and its NUL are at OFFSET of the\n"
"                       memory (so an empty TEXT waits for a NUL byte there)\n"
"  mark-wait VECTOR OFFSET TEXT  start listening on VECTOR, then write TEXT\n"
"                       at OFFSET (so a peer knows), then wait once\n"
"  burst-send PEER VECTOR N OFFSET  N times: store the sequence number\n"
"                       (a __u64) at OFFSET, then ring\n"
"  burst-recv VECTOR N OFFSET [TEXT_OFF TEXT]  wake up until the number at\n"
"                       OFFSET is N (fails on a wait timeout: a lost ring);\n"
"                       writes TEXT at TEXT_OFF once listening\n\n"
"Exit status: 0 ok, 1 error or timeout, 2 bad usage.\n");
}

static unsigned long num(const char *s, unsigned long max, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || v > max) {
		fprintf(stderr, PROG ": bad %s '%s' (0..%lu)\n", what, s, max);
		exit(2);
	}
	return v;
}

static void open_it(void)
{
	if (sock_path) {
		iv = kipc_ivshmem_connect(sock_path, nvec, timeout_ms);
		if (!iv)
			tool_die(sock_path, NULL);
		mem = kipc_ivshmem_mem(iv);
		size = kipc_ivshmem_size(iv);
		own_id = kipc_ivshmem_id(iv);
		vectors = kipc_ivshmem_vectors(iv);
	} else {
		struct kipc_ivshmem_info info;

		dfd = open(dev_path, O_RDWR | O_CLOEXEC);
		if (dfd < 0)
			tool_die(dev_path, NULL);
		if (ioctl(dfd, KIPC_IVSHMEM_GET_INFO, &info) < 0)
			tool_die("KIPC_IVSHMEM_GET_INFO", NULL);
		size = info.size;
		own_id = info.peer_id;
		vectors = info.vectors;
		mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
		if (mem == MAP_FAILED)
			tool_die("mmap", NULL);
	}
}

static void ring(unsigned int peer, unsigned int vector)
{
	if (iv) {
		if (kipc_ivshmem_ring(iv, peer, vector) < 0)
			tool_die("ring", NULL);
	} else {
		struct kipc_ivshmem_ring r = { peer, vector };

		if (ioctl(dfd, KIPC_IVSHMEM_RING, &r) < 0)
			tool_die("KIPC_IVSHMEM_RING", NULL);
	}
}

/* Wait for one wake-up; returns the count (device) or rings (host). */
static uint64_t wait1(unsigned int vector, int tmo)
{
	uint64_t c;

	if (iv) {
		if (kipc_ivshmem_wait(iv, vector, tmo, &c) < 0)
			tool_die("wait", NULL);
		seen[vector] += c;
		return seen[vector];
	} else {
		struct kipc_ivshmem_wait w = { .vector = vector,
					       .timeout_ms = tmo };

		if (ioctl(dfd, KIPC_IVSHMEM_WAIT, &w) < 0)
			tool_die("KIPC_IVSHMEM_WAIT", NULL);
		return w.count;
	}
}

/* ---- commands: ARGV holds the command's ARGC arguments ---------------- */

static int cmd_info(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	open_it();
	printf("id %u\nsize %zu\nvectors %u\n", own_id, size, vectors);
	if (iv) {
		unsigned int ids[256];
		int n = kipc_ivshmem_peers(iv, ids, 256), i;

		printf("peers");
		for (i = 0; i < n && i < 256; i++)
			printf(" %u", ids[i]);
		printf("\n");
	}
	return 0;
}

static int cmd_write(int argc, char **argv)
{
	unsigned long off;
	size_t len = strlen(argv[1]) + 1;

	(void)argc;
	open_it();
	off = num(argv[0], size, "offset");
	if (len > size - off) {
		fprintf(stderr, PROG ": text does not fit at %lu\n", off);
		return 1;
	}
	memcpy((char *)mem + off, argv[1], len);
	__sync_synchronize();
	return 0;
}

static int cmd_read(int argc, char **argv)
{
	unsigned long off, max;

	open_it();
	off = num(argv[0], size - 1, "offset");
	max = argc == 2 ? num(argv[1], size - off, "length") : size - off;
	printf("%.*s\n", (int)strnlen((char *)mem + off, max),
	       (char *)mem + off);
	return 0;
}

static int cmd_ring(int argc, char **argv)
{
	unsigned long peer = num(argv[0], PEER_MAX, "peer");
	unsigned long vec = num(argv[1], VECTOR_MAX, "vector");
	unsigned long n = argc == 3 ? num(argv[2], COUNT_MAX, "count") : 1;

	open_it();
	while (n--)
		ring(peer, vec);
	return 0;
}

static int cmd_wait(int argc, char **argv)
{
	unsigned long vec = num(argv[0], VECTOR_MAX, "vector");
	unsigned long n = argc == 2 ? num(argv[1], COUNT_MAX, "count") : 1;
	uint64_t cnt = 0;

	open_it();
	while (n--)
		cnt = wait1(vec, timeout_ms);
	printf("count %" PRIu64 "\n", cnt);
	return 0;
}

static int cmd_monitor(int argc, char **argv)
{
	unsigned long secs = argc ? num(argv[0], 86400, "seconds") : 0;
	time_t end = time(NULL) + secs;

	open_it();
	printf("id %u\n", own_id);
	fflush(stdout);
	for (;;) {
		struct kipc_ivshmem_event ev;
		struct pollfd p = { kipc_ivshmem_fd(iv), POLLIN, 0 };
		int r, left = secs ? (int)(end - time(NULL)) * 1000 : -1;

		if (secs && left <= 0)
			break;
		if (poll(&p, 1, left) <= 0)
			continue;
		while ((r = kipc_ivshmem_process(iv, &ev)) > 0) {
			printf("%s %u\n", ev.joined ? "join" : "leave",
			       ev.peer);
			fflush(stdout);
		}
		if (r < 0)
			tool_die("server", NULL);
	}
	return 0;
}

static int cmd_await(int argc, char **argv)
{
	unsigned long off;
	size_t len = strlen(argv[1]) + 1;
	struct timespec t0, t;

	(void)argc;
	open_it();
	off = num(argv[0], size - len, "offset");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (__sync_synchronize(), memcmp((char *)mem + off, argv[1], len)) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (timeout_ms >= 0 && (t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000 > timeout_ms) {
			fprintf(stderr, PROG ": '%s' did not appear at %lu\n",
				argv[1], off);
			return 1;
		}
		usleep(10000);
	}
	return 0;
}

static int cmd_mark_wait(int argc, char **argv)
{
	unsigned long vec = num(argv[0], VECTOR_MAX, "vector"), off;

	(void)argc;
	open_it();
	off = num(argv[1], size - strlen(argv[2]) - 1, "offset");
	memcpy((char *)mem + off, argv[2], strlen(argv[2]) + 1);
	__sync_synchronize();
	printf("count %" PRIu64 "\n", wait1(vec, timeout_ms));
	return 0;
}

static int cmd_burst_send(int argc, char **argv)
{
	unsigned long peer = num(argv[0], PEER_MAX, "peer");
	unsigned long vec = num(argv[1], VECTOR_MAX, "vector");
	unsigned long n = num(argv[2], COUNT_MAX, "count"), i, off;

	(void)argc;
	open_it();
	off = num(argv[3], size - 8, "offset");
	for (i = 1; i <= n; i++) {
		__atomic_store_n((uint64_t *)((char *)mem + off), i,
				 __ATOMIC_RELEASE);
		ring(peer, vec);
	}
	return 0;
}

static int cmd_burst_recv(int argc, char **argv)
{
	unsigned long vec = num(argv[0], VECTOR_MAX, "vector");
	unsigned long n = num(argv[1], COUNT_MAX, "count"), off;
	unsigned long wakes = 0;
	uint64_t v;

	open_it();
	off = num(argv[2], size - 8, "offset");
	if (argc == 5) {
		unsigned long toff = num(argv[3], size - strlen(argv[4]) - 1,
					 "offset");

		memcpy((char *)mem + toff, argv[4], strlen(argv[4]) + 1);
		__sync_synchronize();
	}
	while ((v = __atomic_load_n((uint64_t *)((char *)mem + off),
				    __ATOMIC_ACQUIRE)) != n) {
		wait1(vec, timeout_ms);
		wakes++;
	}
	printf("received %lu rings in %lu wake-ups\n", n, wakes);
	return 0;
}

#define NARGS(n)	(1U << (n))

/**
 * struct command - one COMMAND of the usage text
 * @name:      as typed
 * @nargs:     the argument counts it takes, NARGS(n) | ...
 * @host_only: only with -S (a host peer of the server)
 * @run:       does it; the exit status
 */
static const struct command {
	const char *name;
	unsigned int nargs;
	bool host_only;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ "info",	NARGS(0),		false, cmd_info },
	{ "write",	NARGS(2),		false, cmd_write },
	{ "read",	NARGS(1) | NARGS(2),	false, cmd_read },
	{ "ring",	NARGS(2) | NARGS(3),	false, cmd_ring },
	{ "wait",	NARGS(1) | NARGS(2),	false, cmd_wait },
	{ "monitor",	NARGS(0) | NARGS(1),	true,  cmd_monitor },
	{ "await",	NARGS(2),		false, cmd_await },
	{ "mark-wait",	NARGS(3),		false, cmd_mark_wait },
	{ "burst-send",	NARGS(4),		false, cmd_burst_send },
	{ "burst-recv",	NARGS(3) | NARGS(5),	false, cmd_burst_recv },
	{ NULL, 0, false, NULL }
};

/* The command NAME that takes ARGC arguments (in this mode), or NULL. */
static const struct command *find_command(const char *name, int argc)
{
	const struct command *k;

	for (k = commands; k->name; k++)
		if (!strcmp(name, k->name) && argc < 32 &&
		    (k->nargs & NARGS(argc)) && (!k->host_only || sock_path))
			return k;
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "device", required_argument, NULL, 'd' },
		{ "vectors", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const struct command *k;
	const char *cmd;
	int c;

	while ((c = getopt_long(argc, argv, "+S:d:n:t:hV", lopts, NULL)) != -1) {
		switch (c) {
		case 'S': sock_path = optarg; break;
		case 'd': dev_path = optarg; break;
		case 'n':
			nvec = num(optarg, KIPC_IVSHMEM_MAX_VECTORS, "vectors");
			if (!nvec) {
				fprintf(stderr, PROG ": -n must be 1..%d\n",
					KIPC_IVSHMEM_MAX_VECTORS);
				return 2;
			}
			break;
		case 't':
			timeout_ms = strcmp(optarg, "-1") ? (int)num(optarg,
					INT32_MAX, "timeout") : -1;
			break;
		case 'h': usage(stdout); return 0;
		case 'V': printf(PROG " (kipc) %s\n", KIPC_VERSION); return 0;
		default:
			fprintf(stderr, "Try '" PROG " --help'.\n");
			return 2;
		}
	}
	if (!sock_path == !dev_path) {
		fprintf(stderr, PROG ": give exactly one of -S SOCKET and -d DEVICE (see --help)\n");
		return 2;
	}
	if (optind >= argc) {
		fprintf(stderr, PROG ": no command (see --help)\n");
		return 2;
	}
	cmd = argv[optind++];
	argc -= optind;
	argv += optind;

	k = find_command(cmd, argc);
	if (!k) {
		fprintf(stderr, PROG ": bad command or arguments '%s' (see --help)\n",
			cmd);
		return 2;
	}
	c = k->run(argc, argv);
	if (iv)
		kipc_ivshmem_close(iv);
	return c;
}
