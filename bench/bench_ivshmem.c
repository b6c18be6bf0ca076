// SPDX-License-Identifier: GPL-2.0
/*
 * bench_ivshmem - guest-to-guest benchmarks (bench/ivshmem.sh runs two
 * guests): 64 KiB messages through a ring in ivshmem-doorbell memory with
 * doorbell wake-ups vs TCP over virtio-net, and a doorbell ping-pong vs a
 * 64-byte TCP ping-pong.  One side per guest:
 *
 *   bench_ivshmem ring-rx DEV N [copy]  receive N 64 KiB messages, each
 *                                      checked in place in its slot (or
 *                                      copied out first); prints MB/s
 *   bench_ivshmem ring-tx DEV PEER N   send them to PEER
 *   bench_ivshmem pong DEV N           answer N doorbells on vector 0
 *   bench_ivshmem ping DEV PEER N      N round trips; prints us per trip
 *   bench_ivshmem tcp-rx PORT N        / tcp-tx ADDR PORT N
 *   bench_ivshmem tcp-pong PORT N      / tcp-ping ADDR PORT N
 *
 * Ring layout (offsets in the shared memory): 0 head, 64 tail (counters,
 * __u64), 128 rx_waiting, 192 tx_waiting, 256 ready (the receiver's id + 1,
 * cleared by the sender when it starts, so rounds follow each other), 264
 * the sender's id; 32 slots of 64 KiB from 4096.  A side that finds the ring
 * empty (receiver) or full (sender) first polls it for up to 100 us
 * (BENCH_SPIN_US), then sets its waiting flag and sleeps on a doorbell: the
 * receiver rings vector 1 of the sender when it frees a slot and the sender
 * waits; the sender rings vector 0 when the receiver waits.  Each message
 * is checked (first and last word = its sequence number).  The sleeps and
 * rings of each side are printed after its result.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <kipc/ivshmem_ioctl.h>

#define MSG (64 * 1024)
#define SLOTS 32
#define DATA_OFF 4096

static int fd = -1;
static unsigned char *mem;
static uint32_t self;
static unsigned long sleeps, rings;	/* doorbell waits and rings */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *w)
{
	fprintf(stderr, "bench_ivshmem: %s: %s\n", w, strerror(errno));
	exit(1);
}

static void open_dev(const char *dev)
{
	struct kipc_ivshmem_info info;

	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, KIPC_IVSHMEM_GET_INFO, &info))
		die(dev);
	if (info.size < DATA_OFF + SLOTS * MSG || info.vectors < 2) {
		fprintf(stderr, "bench_ivshmem: need >= %d bytes and 2 vectors\n",
			DATA_OFF + SLOTS * MSG);
		exit(1);
	}
	self = info.peer_id;
	mem = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		die("mmap");
}

#define U64(off) ((uint64_t *)(mem + (off)))
#define LOAD(off) __atomic_load_n(U64(off), __ATOMIC_ACQUIRE)
#define STORE(off, v) __atomic_store_n(U64(off), (v), __ATOMIC_RELEASE)

static void ring(uint32_t peer, uint32_t vec)
{
	struct kipc_ivshmem_ring r = { peer, vec };

	if (ioctl(fd, KIPC_IVSHMEM_RING, &r))
		die("ring");
	rings++;
}

static void wait_vec(uint32_t vec)
{
	struct kipc_ivshmem_wait w = { .vector = vec, .timeout_ms = 20000 };

	if (ioctl(fd, KIPC_IVSHMEM_WAIT, &w))
		die("wait");
}

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#else
#define cpu_relax() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#endif

static double spin_s = 100e-6;	/* poll this long before sleeping */

/* Wait until *off differs from old, with the doorbell protocol. */
static void sleep_on(uint64_t flag, uint64_t off, uint64_t old, uint32_t vec)
{
	double t0 = now();

	while (LOAD(off) == old && now() - t0 < spin_s)
		cpu_relax();
	while (LOAD(off) == old) {
		STORE(flag, 1);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (LOAD(off) != old)
			break;
		wait_vec(vec);
		sleeps++;
	}
	STORE(flag, 0);
}

/* A message: its sequence number in the first and last word. */
static void fill(unsigned char *p, uint64_t seq)
{
	memset(p, (int)seq, MSG);
	memcpy(p, &seq, 8);
	memcpy(p + MSG - 8, &seq, 8);
}

static void check(const unsigned char *p, uint64_t want)
{
	uint64_t seq;

	memcpy(&seq, p, 8);
	if (seq != want || memcmp(p + MSG - 8, &seq, 8)) {
		fprintf(stderr, "bench_ivshmem: message %llu corrupt\n",
			(unsigned long long)want);
		exit(1);
	}
}

static void ring_rx(unsigned long n, int copy)
{
	static unsigned char buf[MSG];
	uint64_t tail = 0;
	double t0 = 0;
	unsigned long i;

	STORE(0, 0);
	STORE(64, 0);
	STORE(128, 0);
	STORE(192, 0);
	STORE(256, (uint64_t)self + 1);	/* ready: my id + 1 */
	for (i = 0; i < n; i++) {
		sleep_on(128, 0, tail, 0);
		if (!i)
			t0 = now();
		if (copy) {
			memcpy(buf, mem + DATA_OFF + (tail % SLOTS) * MSG, MSG);
			check(buf, i);
		} else {
			check(mem + DATA_OFF + (tail % SLOTS) * MSG, i);
		}
		STORE(64, ++tail);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (LOAD(192))
			ring(LOAD(256 + 8), 1);
	}
	printf("%s %.1f\n", copy ? "ring_copy_MBps" : "ring_MBps",
	       (n - 1) * (double)MSG / (now() - t0) / 1e6);
	printf("ring_rx%s_sleeps %lu rings %lu\n", copy ? "_copy" : "", sleeps,
	       rings);
}

static void ring_tx(uint32_t peer, unsigned long n)
{
	uint64_t head = 0;
	unsigned long i;

	while (LOAD(256) != (uint64_t)peer + 1)
		usleep(1000);
	STORE(256 + 8, self);
	STORE(256, 0);	/* taken: a second round waits for a new mark */
	for (i = 0; i < n; i++) {
		uint64_t seq = i;

		if (head - LOAD(64) >= SLOTS)
			sleep_on(192, 64, LOAD(64), 1);
		while (head - LOAD(64) >= SLOTS)
			sleep_on(192, 64, LOAD(64), 1);
		/* produce the message in place, in its slot */
		fill(mem + DATA_OFF + (head % SLOTS) * MSG, seq);
		STORE(0, ++head);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (LOAD(128))
			ring(peer, 0);
	}
	printf("ring_tx_sleeps %lu rings %lu\n", sleeps, rings);
}

static void pong(unsigned long n)
{
	unsigned long i;

	STORE(512, (uint64_t)self + 1);
	while (!LOAD(520))
		usleep(1000);
	for (i = 0; i < n; i++) {
		wait_vec(0);
		ring(LOAD(520) - 1, 0);
	}
}

static void ping(uint32_t peer, unsigned long n)
{
	unsigned long i;
	double t0;

	while (LOAD(512) != (uint64_t)peer + 1)
		usleep(1000);
	STORE(520, (uint64_t)self + 1);
	usleep(100000);
	t0 = now();
	for (i = 0; i < n; i++) {
		ring(peer, 0);
		wait_vec(0);
	}
	printf("doorbell_rtt_us %.1f\n", (now() - t0) / n * 1e6);
}

static int tcp_listen(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	int s = socket(AF_INET, SOCK_STREAM, 0), c, one = 1;

	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 1))
		die("listen");
	c = accept(s, NULL, NULL);
	if (c < 0)
		die("accept");
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	close(s);
	return c;
}

static int tcp_connect(const char *addr, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	int s, one = 1, i;

	inet_pton(AF_INET, addr, &a.sin_addr);
	for (i = 0; i < 600; i++) {
		s = socket(AF_INET, SOCK_STREAM, 0);
		if (!connect(s, (struct sockaddr *)&a, sizeof(a))) {
			setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one,
				   sizeof(one));
			return s;
		}
		close(s);
		usleep(100000);
	}
	die("connect");
	return -1;
}

static void full(int s, void *b, size_t len, int wr)
{
	size_t done = 0;

	while (done < len) {
		ssize_t k = wr ? write(s, (char *)b + done, len - done) :
				 read(s, (char *)b + done, len - done);

		if (k <= 0)
			die(wr ? "tcp write" : "tcp read");
		done += k;
	}
}

int main(int argc, char **argv)
{
	static unsigned char buf[MSG];
	const char *m = argc > 1 ? argv[1] : "";
	unsigned long i, n;
	double t0;
	int s;

	if (!strcmp(m, "--help") || argc < 3) {
		printf("Usage: bench_ivshmem ring-rx DEV N [copy] | ring-tx DEV PEER N | pong DEV N |\n"
		       "       ping DEV PEER N | tcp-rx PORT N | tcp-tx ADDR PORT N |\n"
		       "       tcp-pong PORT N | tcp-ping ADDR PORT N\n");
		return argc < 3 && strcmp(m, "--help") ? 2 : 0;
	}
	if (getenv("BENCH_SPIN_US"))
		spin_s = atof(getenv("BENCH_SPIN_US")) / 1e6;
	if (!strcmp(m, "ring-rx") &&
	    (argc == 4 || (argc == 5 && !strcmp(argv[4], "copy")))) {
		open_dev(argv[2]);
		ring_rx(strtoul(argv[3], NULL, 0), argc == 5);
	} else if (!strcmp(m, "ring-tx") && argc == 5) {
		open_dev(argv[2]);
		ring_tx(strtoul(argv[3], NULL, 0), strtoul(argv[4], NULL, 0));
	} else if (!strcmp(m, "pong") && argc == 4) {
		open_dev(argv[2]);
		pong(strtoul(argv[3], NULL, 0));
	} else if (!strcmp(m, "ping") && argc == 5) {
		open_dev(argv[2]);
		ping(strtoul(argv[3], NULL, 0), strtoul(argv[4], NULL, 0));
	} else if (!strcmp(m, "tcp-rx") && argc == 4) {
		s = tcp_listen(atoi(argv[2]));
		n = strtoul(argv[3], NULL, 0);
		full(s, buf, MSG, 0);
		check(buf, 0);
		t0 = now();
		for (i = 1; i < n; i++) {
			full(s, buf, MSG, 0);
			check(buf, i);
		}
		printf("tcp_MBps %.1f\n", (n - 1) * (double)MSG / (now() - t0) / 1e6);
		close(s);
	} else if (!strcmp(m, "tcp-tx") && argc == 5) {
		s = tcp_connect(argv[2], atoi(argv[3]));
		n = strtoul(argv[4], NULL, 0);
		for (i = 0; i < n; i++) {
			fill(buf, i);
			full(s, buf, MSG, 1);
		}
		/* wait for the receiver's close (EOF) */
		if (read(s, buf, 1) < 0)
			die("tcp read");
	} else if (!strcmp(m, "tcp-pong") && argc == 4) {
		s = tcp_listen(atoi(argv[2]));
		n = strtoul(argv[3], NULL, 0);
		for (i = 0; i < n; i++) {
			full(s, buf, 64, 0);
			full(s, buf, 64, 1);
		}
	} else if (!strcmp(m, "tcp-ping") && argc == 5) {
		s = tcp_connect(argv[2], atoi(argv[3]));
		n = strtoul(argv[4], NULL, 0);
		full(s, buf, 64, 1);
		full(s, buf, 64, 0);
		t0 = now();
		for (i = 0; i < n; i++) {
			full(s, buf, 64, 1);
			full(s, buf, 64, 0);
		}
		printf("tcp_rtt_us %.1f\n", (now() - t0) / n * 1e6);
	} else {
		fprintf(stderr, "bench_ivshmem: bad arguments (see --help)\n");
		return 2;
	}
	return 0;
}
