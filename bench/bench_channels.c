// SPDX-License-Identifier: GPL-2.0
/*
 * bench_channels - message-slot cost against the number of live channels.
 *
 * Area "channels".  Channels 1..N of a slot are populated with a 128-byte
 * message each, N = 1, 1,000 and 1,000,000 in three slots (minors), then
 * two costs are measured for each N, all N sampled in the same rounds:
 *   write+read        128-byte write and read on one fixed channel
 *                     (N/2 + 1) set once with ioctl (ns/msg);
 *   ioctl+write+read  MSG_SLOT_CHANNEL to a random live channel, then a
 *                     128-byte write and read (ns/msg): every operation
 *                     looks a channel up among N.
 */
#include <fcntl.h>
#include <sys/ioctl.h>

#include "bench.h"
#include <kipc/message_slot.h>

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

/*
 * Give channels 1..N of DEV a 128-byte message each (the size measured, so
 * every measured write overwrites a message of its own size, whatever N);
 * returns the open fd, or -1.
 */
static int populate(const char *dev, unsigned int n)
{
	uint64_t t0 = bench_now_ns();
	int fd = open(dev, O_RDWR);
	char msg[128];

	if (fd < 0) {
		bench_skip("channels", "write+read", "slot", "%s: %s", dev,
			   strerror(errno));
		return -1;
	}
	memset(msg, 'p', sizeof(msg));
	for (unsigned int id = 1; id <= n; id++) {
		if (ioctl(fd, MSG_SLOT_CHANNEL, id) < 0 ||
		    write(fd, msg, sizeof(msg)) != sizeof(msg)) {
			bench_skip("channels", "write+read", "slot",
				   "%s: populating channel %u: %s", dev, id,
				   strerror(errno));
			close(fd);
			return -1;
		}
	}
	bench_note("channels: %s: %u live (populated in %.1f s)", dev, n,
		   (double)(bench_now_ns() - t0) / 1e9);
	return fd;
}

int main(int argc, char **argv)
{
	static const unsigned int counts[] = { 1, 1000, 1000000 };
	enum { NC = sizeof(counts) / sizeof(counts[0]) };
	const char *devs[NC] = { "/dev/slot1", "/dev/slot2", "/dev/slot3" };
	int i = bench_options(argc, argv,
		"Usage: bench_channels [OPTIONS] [DEV_1 DEV_1000 DEV_1000000]\n"
		"Message-slot write+read cost with 1, 1,000 and 1,000,000 live\n"
		"channels, each count in its own slot (default /dev/slot1,\n"
		"/dev/slot2, /dev/slot3), all measured in the same rounds.");
	static struct ctx c[NC];
	struct bench_case fixed[NC], rnd[NC];
	int n = 0;

	for (int k = 0; k < NC && i < argc; k++)
		devs[k] = argv[i++];
	bench_header();
	memset(fixed, 0, sizeof(fixed));
	memset(rnd, 0, sizeof(rnd));
	for (int k = 0; k < NC; k++) {
		struct ctx *x = &c[n];

		x->fd = populate(devs[k], counts[k]);
		if (x->fd < 0)
			continue;
		x->nchan = counts[k];
		x->rng = 0x9e3779b97f4a7c15ull;
		memset(x->buf, 'x', sizeof(x->buf));
		/* write+read's fixed channel (loop_random moves the fd to
		 * other channels, and runs after it). */
		if (ioctl(x->fd, MSG_SLOT_CHANNEL, counts[k] / 2 + 1) < 0)
			bench_die("ioctl MSG_SLOT_CHANNEL");
		fixed[n] = (struct bench_case){ .mech = "slot",
						.fn = loop_fixed, .ctx = x };
		rnd[n] = (struct bench_case){ .mech = "slot",
					      .fn = loop_random, .ctx = x };
		snprintf(fixed[n].param, sizeof(fixed[n].param), "%u", counts[k]);
		snprintf(rnd[n].param, sizeof(rnd[n].param), "%u", counts[k]);
		n++;
	}
	if (n) {
		bench_group("channels", "write+read", "ns/msg", fixed, n, 100);
		bench_group("channels", "ioctl+write+read", "ns/msg", rnd, n, 100);
	}
	for (int k = 0; k < n; k++)
		close(c[k].fd);
	return 0;
}
