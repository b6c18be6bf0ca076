// SPDX-License-Identifier: GPL-2.0
/*
 * kipc-chan - pipe bytes through a kipc channel, or show its state.
 *
 * send: standard input, cut into messages of at most the slot size, into
 * the channel; at end of input the endpoint closes, which the receiver sees
 * as the end.  recv: messages to standard output, back to back, until the
 * sender has closed (exit 0) or died (exit 1).  Either side may create the
 * channel (-c); the other waits for it to appear (-w).  See kipc-chan(1).
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kipc/chan.h>

#include "tool.h"	/* KIPC_VERSION */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: kipc-chan [OPTIONS] send WHERE   stdin -> channel\n"
		"       kipc-chan [OPTIONS] recv WHERE   channel -> stdout\n"
		"       kipc-chan stat WHERE             show the channel's state\n"
		"       kipc-chan unlink WHERE           remove a shm:/NAME channel\n"
		"       kipc-chan --help | --version\n\n"
		"WHERE: shm:/NAME (POSIX shared memory), kshm:NAME (kshm.ko),\n"
		"myshm:/dev/NAME[@OFFSET] (a myshm or kipc_ivshmem device),\n"
		"ivshmem:/dev/ivshmemN[@OFFSET] (a guest: doorbells to other VMs),\n"
		"ivshmem-host:SOCKET[@OFFSET] (the host: an ivshmem server), or fd:N\n"
		"(an inherited descriptor, e.g. a memfd); with -c also memfd:NAME\n"
		"(the descriptor number is printed on stderr for a child).\n\n"
		"Options:\n"
		"  -c, --create          create the channel (else open it)\n"
		"  -s, --shape S         spsc (default), mpsc or spmc\n"
		"  -p, --policy P        spmc: block (default) or drop\n"
		"  -S, --slot-size N     bytes per message (default 65536)\n"
		"  -n, --slots N         slots, a power of 2 (default 64)\n"
		"  -P, --peers N         mpsc senders / spmc receivers (default 8)\n"
		"  -w, --wait MS         wait this long for the channel to exist\n"
		"                        (default 10000; -1 forever)\n"
		"  -t, --timeout MS      per message (default -1: forever)\n"
		"  -u, --unlink          recv: remove the shm name at the end\n"
		"  -r, --receivers N     send: first wait (up to -w MS) until N\n"
		"                        receivers are attached (spmc: so that none\n"
		"                        misses the first messages)\n\n"
		"Exit status: 0 ok (recv: the sender closed), 1 error (recv: the\n"
		"sender died, EOWNERDEAD), 2 bad usage.\n");
}

static long num(const char *s, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end) {
		fprintf(stderr, "kipc-chan: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Open WHERE, waiting up to WAIT_MS for it to be created and formatted. */
static struct kipc_chan *open_wait(const char *where, unsigned int role,
				   long wait_ms)
{
	long long until = now_ms() + wait_ms;

	for (;;) {
		struct kipc_chan *ch = kipc_chan_open(where, role);

		if (ch || (errno != ENOENT && errno != EAGAIN))
			return ch;
		if (wait_ms >= 0 && now_ms() >= until)
			return NULL;
		usleep(10000);
	}
}

static int do_send(struct kipc_chan *ch, int timeout)
{
	struct kipc_chan_stat st;

	kipc_chan_stat(ch, &st);
	for (;;) {
		void *slot;
		size_t got = 0;
		ssize_t n = 1;

		if (kipc_chan_loan(ch, &slot, timeout)) {
			fprintf(stderr, "kipc-chan: send: %s\n", strerror(errno));
			return 1;
		}
		/* Fill the slot in place from stdin: no extra copy. */
		while (got < st.slot_size) {
			n = read(0, (char *)slot + got, st.slot_size - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				fprintf(stderr, "kipc-chan: stdin: %s\n",
					strerror(errno));
				kipc_chan_publish(ch, got);
				return 1;
			}
			if (n == 0)
				break;
			got += (size_t)n;
		}
		if (got == 0)
			return 0;	/* the loan goes out as 0 bytes at close */
		kipc_chan_publish(ch, got);
		if (got < st.slot_size && n == 0)
			return 0;
	}
}

/* Wait up to WAIT_MS until N receivers are attached: 0, or 1 (said why). */
static int wait_receivers(struct kipc_chan *ch, long n, long wait_ms)
{
	long long until = now_ms() + wait_ms;
	struct kipc_chan_stat st;

	while (kipc_chan_stat(ch, &st) == 0 && (long)st.receivers < n) {
		if (wait_ms >= 0 && now_ms() >= until) {
			fprintf(stderr, "kipc-chan: send: %u of %ld receivers "
				"after %ld ms\n", st.receivers, n, wait_ms);
			return 1;
		}
		usleep(10000);
	}
	return 0;
}

static int do_recv(struct kipc_chan *ch, int timeout)
{
	for (;;) {
		struct kipc_chan_msg m;
		const char *p;
		size_t left;

		if (kipc_chan_peek(ch, &m, timeout)) {
			if (errno == EPIPE)
				return 0;
			fprintf(stderr, "kipc-chan: recv: %s%s\n", strerror(errno),
				errno == EOWNERDEAD ? " (the sender died)" : "");
			return 1;
		}
		if (m.lost)
			fprintf(stderr, "kipc-chan: %llu messages lost\n",
				(unsigned long long)m.lost);
		for (p = m.data, left = m.len; left;) {
			ssize_t n = write(1, p, left);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				fprintf(stderr, "kipc-chan: stdout: %s\n",
					strerror(errno));
				return 1;
			}
			p += n;
			left -= (size_t)n;
		}
		if (kipc_chan_release(ch) && errno != ESTALE) {
			fprintf(stderr, "kipc-chan: release: %s\n",
				strerror(errno));
			return 1;
		}
	}
}

static const char *shape_name(uint32_t s)
{
	return s == KIPC_CHAN_SPSC ? "spsc" : s == KIPC_CHAN_MPSC ? "mpsc" :
	       "spmc";
}

static int do_stat(struct kipc_chan *ch)
{
	struct kipc_chan_stat st;

	kipc_chan_stat(ch, &st);
	printf("shape: %s\n", shape_name(st.shape));
	if (st.shape == KIPC_CHAN_SPMC)
		printf("policy: %s\n", st.policy ? "drop-oldest" : "block");
	printf("slot_size: %u\nslots: %u\nmax_peers: %u\nbytes: %zu\n"
	       "senders: %u\nreceivers: %u\nhead: %u\n",
	       st.slot_size, st.slot_count, st.max_peers, st.map_size,
	       st.senders, st.receivers, st.head);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "create", no_argument, NULL, 'c' },
		{ "shape", required_argument, NULL, 's' },
		{ "policy", required_argument, NULL, 'p' },
		{ "slot-size", required_argument, NULL, 'S' },
		{ "slots", required_argument, NULL, 'n' },
		{ "peers", required_argument, NULL, 'P' },
		{ "wait", required_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ "unlink", no_argument, NULL, 'u' },
		{ "receivers", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	struct kipc_chan_attr a;
	struct kipc_chan *ch;
	const char *cmd, *where;
	bool create = false, unlink_at_end = false;
	long wait_ms = 10000, timeout = -1, receivers = 0;
	unsigned int role;
	int c, ret;

	kipc_chan_attr_init(&a);
	a.slot_size = 65536;
	while ((c = getopt_long(argc, argv, "cs:p:S:n:P:w:t:ur:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': create = true; break;
		case 's':
			if (!strcmp(optarg, "spsc"))
				a.shape = KIPC_CHAN_SPSC;
			else if (!strcmp(optarg, "mpsc"))
				a.shape = KIPC_CHAN_MPSC;
			else if (!strcmp(optarg, "spmc"))
				a.shape = KIPC_CHAN_SPMC;
			else {
				fprintf(stderr, "kipc-chan: bad shape '%s'\n", optarg);
				return 2;
			}
			break;
		case 'p':
			if (!strcmp(optarg, "block"))
				a.policy = KIPC_CHAN_BLOCK;
			else if (!strcmp(optarg, "drop"))
				a.policy = KIPC_CHAN_DROP_OLDEST;
			else {
				fprintf(stderr, "kipc-chan: bad policy '%s'\n", optarg);
				return 2;
			}
			break;
		case 'S': a.slot_size = (uint32_t)num(optarg, "slot size"); break;
		case 'n': a.slot_count = (uint32_t)num(optarg, "slot count"); break;
		case 'P': a.max_peers = (uint32_t)num(optarg, "peer count"); break;
		case 'w': wait_ms = num(optarg, "wait"); break;
		case 't': timeout = num(optarg, "timeout"); break;
		case 'u': unlink_at_end = true; break;
		case 'r': receivers = num(optarg, "receiver count"); break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("kipc-chan (kipc) %s\n", KIPC_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind != 2 || timeout < -1 || timeout > 0x7fffffff) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	where = argv[optind + 1];
	if (!strcmp(cmd, "unlink")) {
		if (kipc_chan_unlink(where)) {
			fprintf(stderr, "kipc-chan: %s: %s\n", where, strerror(errno));
			return 1;
		}
		return 0;
	}
	if (!strcmp(cmd, "send"))
		role = KIPC_CHAN_SEND;
	else if (!strcmp(cmd, "recv"))
		role = KIPC_CHAN_RECV;
	else if (!strcmp(cmd, "stat"))
		role = KIPC_CHAN_NONE;
	else {
		usage(stderr);
		return 2;
	}
	if (create && kipc_chan_size(&a) == 0) {
		fprintf(stderr, "kipc-chan: bad channel geometry: %s\n",
			strerror(errno));
		return 2;
	}
	ch = create ? kipc_chan_create(where, &a, role) :
		      open_wait(where, role, wait_ms);
	if (!ch) {
		fprintf(stderr, "kipc-chan: %s: %s\n", where, strerror(errno));
		return 1;
	}
	if (create && kipc_chan_fd(ch) >= 0 && !strncmp(where, "memfd:", 6))
		fprintf(stderr, "kipc-chan: fd:%d\n", kipc_chan_fd(ch));
	if (role == KIPC_CHAN_SEND)
		ret = wait_receivers(ch, receivers, wait_ms) ?:
		      do_send(ch, (int)timeout);
	else if (role == KIPC_CHAN_RECV)
		ret = do_recv(ch, (int)timeout);
	else
		ret = do_stat(ch);
	kipc_chan_close(ch);
	if (unlink_at_end && kipc_chan_unlink(where) && errno != ENOENT) {
		fprintf(stderr, "kipc-chan: unlink %s: %s\n", where,
			strerror(errno));
		ret = 1;
	}
	return ret;
}
