// SPDX-License-Identifier: GPL-2.0
/*
 * bench_ivshmem - guest-to-guest benchmarks (bench/ivshmem.sh runs two
 * guests): 64 KiB messages through a libkipc channel in ivshmem-doorbell
 * memory (<kipc/chan.h>, locale "ivshmem:DEV@4096": doorbell wake-ups) vs
 * TCP over virtio-net, a 64 B ping-pong through two such channels and a
 * bare doorbell ping-pong vs a 64-byte TCP ping-pong.  One side per guest:
 *
 *   bench_ivshmem ring-rx DEV N [copy]  receive N 64 KiB messages, each
 *                                      checked in place in its slot
 *                                      (peek/release; or copied out first:
 *                                      kipc_chan_recv); prints MB/s
 *   bench_ivshmem ring-tx DEV PEER N   send them, each made in place in
 *                                      its slot (loan/publish)
 *   bench_ivshmem chan-pong DEV N      answer N 64 B messages
 *   bench_ivshmem chan-ping DEV N      N round trips; prints us per trip
 *   bench_ivshmem pong DEV N           answer N doorbells on vector 0
 *   bench_ivshmem ping DEV PEER N      N round trips; prints us per trip
 *   bench_ivshmem tcp-rx PORT N        / tcp-tx ADDR PORT N
 *   bench_ivshmem tcp-pong PORT N      / tcp-ping ADDR PORT N
 *
 * The shared memory: the channel of the ring at 4096 (SPSC, 32 slots of
 * 64 KiB), the ping-pong's two channels (64 slots of 64 B) at 3 MiB and
 * 3 MiB + 64 KiB; a round's receiver (the pong) formats them and then
 * sets the word at 256 (768) to its peer id + 1, which the other side
 * clears when it opens them, so rounds follow each other; a receiver
 * returns only after the sender closed (EPIPE), before the next round
 * formats the memory again.  A side that finds the ring empty or full
 * spins up to 100 us (BENCH_SPIN_US; kipc_chan_set_spin) before it sleeps
 * on its doorbell.  PEER is not needed any more (the channel's records
 * say where to ring) and is ignored.  Each message is checked (first and
 * last word = its sequence number).  The library's waits and wakes
 * (doorbell sleeps and rings) of each side are printed after its result.
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

#include <kipc/chan.h>
#include <kipc/ivshmem_ioctl.h>

#define MSG (64 * 1024)
#define SLOTS 32
#define DATA_OFF 4096		/* the ring's channel */
#define PP_OFF (3u << 20)	/* the ping-pong's two channels */
#define PP_MSG 64

static int fd = -1;
static unsigned char *mem;
static uint32_t self;
static unsigned long rings;	/* bare doorbell rings (ping, pong) */
static const char *dev_path;

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
	dev_path = dev;
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

/* The channel at OFF of the device: created (formatted) or opened. */
static struct kipc_chan *chan_at(unsigned long off, int create,
				 unsigned int role, uint32_t slot,
				 uint32_t count)
{
	struct kipc_chan_attr a;
	struct kipc_chan *ch;
	char where[512];

	snprintf(where, sizeof(where), "ivshmem:%s@%lu", dev_path, off);
	kipc_chan_attr_init(&a);
	a.slot_size = slot;
	a.slot_count = count;
	ch = create ? kipc_chan_create(where, &a, role) :
		      kipc_chan_open(where, role);
	if (!ch || kipc_chan_set_spin(ch, (long)(spin_s * 1e9)))
		die(where);
	return ch;
}

/* Wait for the other side's mark at OFF (its id + 1), then take it. */
static void take_mark(uint64_t off)
{
	while (!LOAD(off))
		usleep(1000);
	STORE(off, 0);	/* taken: a second round waits for a new mark */
}

/* The receiving end: after N messages, wait until the sender closed. */
static void await_close(struct kipc_chan *rx)
{
	struct kipc_chan_msg m;

	if (!kipc_chan_peek(rx, &m, 20000) || errno != EPIPE)
		die("the sender did not close");
}

static void print_counts(const char *who, struct kipc_chan *ch)
{
	struct kipc_chan_stat st;

	if (!kipc_chan_stat(ch, &st))
		printf("%s_sleeps %llu rings %llu\n", who,
		       (unsigned long long)st.waits,
		       (unsigned long long)st.wakes);
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
	struct kipc_chan *rx = chan_at(DATA_OFF, 1, KIPC_CHAN_RECV, MSG, SLOTS);
	double t0 = 0;
	unsigned long i;

	STORE(256, (uint64_t)self + 1);	/* ready: my id + 1 */
	for (i = 0; i < n; i++) {
		if (copy) {
			if (kipc_chan_recv(rx, buf, MSG, 20000) != MSG)
				die("kipc_chan_recv");
			check(buf, i);
		} else {
			struct kipc_chan_msg m;

			if (kipc_chan_peek(rx, &m, 20000) || m.len != MSG)
				die("kipc_chan_peek");
			check(m.data, i);
			if (kipc_chan_release(rx))
				die("kipc_chan_release");
		}
		if (!i)
			t0 = now();
	}
	printf("%s %.1f\n", copy ? "ring_copy_MBps" : "ring_MBps",
	       (n - 1) * (double)MSG / (now() - t0) / 1e6);
	print_counts(copy ? "ring_rx_copy" : "ring_rx", rx);
	await_close(rx);
	kipc_chan_close(rx);
}

static void ring_tx(unsigned long n)
{
	struct kipc_chan *tx;
	unsigned long i;

	take_mark(256);
	tx = chan_at(DATA_OFF, 0, KIPC_CHAN_SEND, MSG, SLOTS);
	for (i = 0; i < n; i++) {
		void *slot;

		if (kipc_chan_loan(tx, &slot, 20000))
			die("kipc_chan_loan");
		fill(slot, i);	/* produce the message in place, in its slot */
		if (kipc_chan_publish(tx, MSG))
			die("kipc_chan_publish");
	}
	print_counts("ring_tx", tx);
	kipc_chan_close(tx);
}

/* 64 B ping-pong through two channels: N + 1 answers (one warms up). */
static void chan_pong(unsigned long n)
{
	struct kipc_chan *rx = chan_at(PP_OFF, 1, KIPC_CHAN_RECV, PP_MSG, 64);
	struct kipc_chan *tx = chan_at(PP_OFF + 65536, 1, KIPC_CHAN_SEND,
				       PP_MSG, 64);
	unsigned char b[PP_MSG];

	STORE(768, (uint64_t)self + 1);
	for (unsigned long i = 0; i <= n; i++)
		if (kipc_chan_recv(rx, b, sizeof(b), 20000) != PP_MSG ||
		    kipc_chan_send(tx, b, PP_MSG, 20000))
			die("chan-pong");
	print_counts("chan_pong", rx);
	await_close(rx);
	kipc_chan_close(rx);
	kipc_chan_close(tx);
}

static void chan_ping(unsigned long n)
{
	struct kipc_chan *tx, *rx;
	unsigned char b[PP_MSG] = { 0 };
	double t0 = 0;

	take_mark(768);
	tx = chan_at(PP_OFF, 0, KIPC_CHAN_SEND, PP_MSG, 64);
	rx = chan_at(PP_OFF + 65536, 0, KIPC_CHAN_RECV, PP_MSG, 64);
	for (unsigned long i = 0; i <= n; i++) {
		if (i == 1)
			t0 = now();
		if (kipc_chan_send(tx, b, PP_MSG, 20000) ||
		    kipc_chan_recv(rx, b, sizeof(b), 20000) != PP_MSG)
			die("chan-ping");
	}
	printf("chan_rtt_us %.1f\n", (now() - t0) / n * 1e6);
	print_counts("chan_ping", tx);
	kipc_chan_close(tx);
	kipc_chan_close(rx);
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
		printf("Usage: bench_ivshmem ring-rx DEV N [copy] | ring-tx DEV PEER N |\n"
		       "       chan-pong DEV N | chan-ping DEV N | pong DEV N |\n"
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
		ring_tx(strtoul(argv[4], NULL, 0));
	} else if (!strcmp(m, "chan-pong") && argc == 4) {
		open_dev(argv[2]);
		chan_pong(strtoul(argv[3], NULL, 0));
	} else if (!strcmp(m, "chan-ping") && argc == 4) {
		open_dev(argv[2]);
		chan_ping(strtoul(argv[3], NULL, 0));
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
