// SPDX-License-Identifier: GPL-2.0
/*
 * bench_channels - message-slot cost against the number of live channels.
 *
 * Area "channels".  Channels 1..N of one slot (default /dev/slot1) are
 * populated with a 1-byte message each (N = 1, 1,000, 1,000,000, growing
 * in place), then two costs are measured at each N:
 *   write+read        128-byte write and read on one fixed channel
 *                     (N/2 + 1) set once with ioctl (ns/msg);
 *   ioctl+write+read  MSG_SLOT_CHANNEL to a random live channel, then a
 *                     128-byte write and read (ns/msg): every operation
 *                     looks a channel up among N.
 */
#include <fcntl.h>

#include "bench.h"
#include "slot_abi.h"

struct ctx {
	int fd;
	unsigned int nchan;
	uint64_t rng;
	unsigned char buf[128], rbuf[128];
};

static int loop_fixed(void *p, long iters)
{
	struct ctx *c = p;

	for (long i = 0; i < iters; i++) {
		if (write(c->fd, c->buf, sizeof(c->buf)) != sizeof(c->buf))
			return -1;
		if (read(c->fd, c->rbuf, sizeof(c->rbuf)) != sizeof(c->rbuf))
			return -1;
	}
	return 0;
}

static int loop_random(void *p, long iters)
{
	struct ctx *c = p;

	for (long i = 0; i < iters; i++) {
		unsigned int id;

		/* xorshift64: cheap next to three system calls. */
		c->rng ^= c->rng << 13;
		c->rng ^= c->rng >> 7;
		c->rng ^= c->rng << 17;
		id = 1 + (unsigned int)(c->rng % c->nchan);
		if (ioctl(c->fd, MSG_SLOT_CHANNEL, id) < 0)
			return -1;
		if (write(c->fd, c->buf, sizeof(c->buf)) != sizeof(c->buf))
			return -1;
		if (read(c->fd, c->rbuf, sizeof(c->rbuf)) != sizeof(c->rbuf))
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const unsigned int counts[] = { 1, 1000, 1000000 };
	int i = bench_options(argc, argv,
		"Usage: bench_channels [OPTIONS] [SLOT_DEVICE]\n"
		"Message-slot write+read cost with 1, 1,000 and 1,000,000 live\n"
		"channels in SLOT_DEVICE (default /dev/slot1).");
	const char *dev = i < argc ? argv[i] : "/dev/slot1";
	struct ctx c = { .rng = 0x9e3779b97f4a7c15ull };
	unsigned int have = 0;
	struct bench_case fixed = { .mech = "slot", .fn = loop_fixed, .ctx = &c };
	struct bench_case rnd = { .mech = "slot", .fn = loop_random, .ctx = &c };

	bench_header();
	memset(c.buf, 'x', sizeof(c.buf));
	c.fd = open(dev, O_RDWR);
	if (c.fd < 0) {
		bench_skip("channels", "write+read", "slot", "%s: %s", dev,
			   strerror(errno));
		return 0;
	}
	for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		unsigned int n = counts[k];
		uint64_t t0 = bench_now_ns();

		for (; have < n; have++) {
			if (ioctl(c.fd, MSG_SLOT_CHANNEL, have + 1) < 0 ||
			    write(c.fd, "p", 1) != 1) {
				bench_skip("channels", "write+read", "slot",
					   "populating channel %u: %s",
					   have + 1, strerror(errno));
				return 0;
			}
		}
		bench_note("channels: %u live (populated in %.1f s)", n,
			   (double)(bench_now_ns() - t0) / 1e9);
		snprintf(fixed.param, sizeof(fixed.param), "%u", n);
		snprintf(rnd.param, sizeof(rnd.param), "%u", n);
		c.nchan = n;
		if (ioctl(c.fd, MSG_SLOT_CHANNEL, n / 2 + 1) < 0)
			bench_die("ioctl MSG_SLOT_CHANNEL");
		bench_group("channels", "write+read", "ns/msg", &fixed, 1, 100);
		bench_group("channels", "ioctl+write+read", "ns/msg", &rnd, 1,
			    100);
	}
	close(c.fd);
	return 0;
}
