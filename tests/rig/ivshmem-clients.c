// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem-clients - many ivshmem server clients in one process, for the
 * host-side server tests (tests/rig/ivshmem-server-load.sh).  Built for the
 * host as build/user/rig/ivshmem-clients; never installed.
 *
 * Client kinds:
 *   prompt  reads everything as soon as it arrives and stays connected;
 *   churn   reads promptly, but leaves and joins again at random;
 *   slow    reads a few messages per tick (-k per 10 ms);
 *   never   connects and never reads (-r: connects again when dropped).
 * Never readers connect first, then prompt, slow and churn clients.
 *
 * Every reader checks the protocol as it reads (version 0, an id in
 * 0..65535, -1 with a descriptor, the other peers' vectors, its own N
 * vectors, then joins with a descriptor and leaves without one; no peer
 * gets more than N descriptors, nobody is told about itself).  Received
 * descriptors are closed at once (only counted).  A prompt or churn client
 * the server closes while it is connected is a failure.  At the end the
 * slow and never readers leave, and once nothing has arrived for 500 ms
 * every prompt and churn reader must know exactly the other prompt and
 * churn readers (plus -o N peers of other processes), each with N descriptors.
 *
 * Exit status 0: every check passed; 1: a check failed; 2: bad usage.
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_ID 65536

enum kind { PROMPT, CHURN, SLOW, NEVER };
static const char *const kind_name[] = { "prompt", "churn", "slow", "never" };

struct client {
	enum kind kind;
	int sock;		/* -1: not connected */
	int stage;		/* 0 version, 1 id, 2 shm, 3 setup, 4 running */
	int id;
	unsigned int own;	/* own vectors received */
	unsigned char got[8];
	unsigned int ngot;
	int msg_fds;		/* descriptors with the message being read */
	unsigned long msgs;	/* messages read on this connection */
	unsigned char *nfds;	/* per peer id: descriptors received */
	long long next_churn;	/* ms: when a churn client leaves/joins */
};

static const char *sock_path;
static unsigned int vectors = 1;
static unsigned int slow_per_tick = 4;
static unsigned int extra_peers;	/* -o: peers of other processes */
static int failures;
static unsigned long total_msgs, server_drops[4], joins, protocol_errors;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void fail(const struct client *c, const char *what)
{
	failures++;
	if (failures <= 20)
		printf("# FAIL %s client (id %d): %s after %lu messages\n",
		       kind_name[c->kind], c->id, what, c->msgs);
}

static void disconnect(struct client *c)
{
	if (c->sock >= 0)
		close(c->sock);
	c->sock = -1;
}

static int do_connect(struct client *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	strncpy(sa.sun_path, sock_path, sizeof(sa.sun_path) - 1);
	c->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->sock < 0) {
		perror("socket");
		exit(1);
	}
	if (connect(c->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
	    errno != EINPROGRESS && errno != EAGAIN) {
		fprintf(stderr, "connect %s: %s\n", sock_path, strerror(errno));
		exit(1);
	}
	c->stage = 0;
	c->id = -1;
	c->own = 0;
	c->ngot = 0;
	c->msg_fds = 0;
	c->msgs = 0;
	if (c->nfds)
		memset(c->nfds, 0, MAX_ID);
	joins++;
	return 0;
}

/* One complete message VAL with NFD descriptors: check and apply it. */
static void apply(struct client *c, int64_t val, int nfd)
{
	c->msgs++;
	total_msgs++;
	if (nfd > 1)
		goto bad;
	switch (c->stage) {
	case 0:
		if (val != 0 || nfd)
			goto bad;
		c->stage = 1;
		return;
	case 1:
		if (val < 0 || val >= MAX_ID || nfd)
			goto bad;
		c->id = val;
		c->stage = 2;
		return;
	case 2:
		if (val != -1 || !nfd)
			goto bad;
		c->stage = 3;
		return;
	}
	if (val < 0 || val >= MAX_ID)
		goto bad;
	if (val == c->id) {
		/* own vectors: only during setup, all N in a row */
		if (c->stage != 3 || !nfd)
			goto bad;
		if (++c->own == vectors)
			c->stage = 4;
		return;
	}
	if (c->stage == 3 && (c->own || !nfd))
		goto bad;	/* peers before own vectors; no leave in setup */
	if (!nfd) {
		c->nfds[val] = 0;	/* left (maybe before it finished) */
		return;
	}
	if (c->nfds[val] >= vectors)
		goto bad;
	c->nfds[val]++;
	return;
bad:
	protocol_errors++;
	{
		char buf[96];

		snprintf(buf, sizeof(buf),
			 "protocol error at stage %d: value %lld, %d fds",
			 c->stage, (long long)val, nfd);
		fail(c, buf);
	}
	disconnect(c);
}

/*
 * Read up to MAX messages (0: all that is there).  Returns false when the
 * server closed the connection.
 */
static bool read_msgs(struct client *c, unsigned int max)
{
	unsigned int n = 0;

	while (c->sock >= 0 && (!max || n < max)) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * 8)];
			struct cmsghdr align;
		} u;
		struct iovec iov = { c->got + c->ngot, 8 - c->ngot };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = u.buf,
				    .msg_controllen = sizeof(u.buf) };
		struct cmsghdr *cm;
		ssize_t r;

		r = recvmsg(c->sock, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (r < 0)
			return errno == EAGAIN || errno == EINTR;
		if (r == 0)
			return false;
		for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
			int *fds = (int *)CMSG_DATA(cm);
			size_t i, k;

			if (cm->cmsg_level != SOL_SOCKET ||
			    cm->cmsg_type != SCM_RIGHTS)
				continue;
			k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (i = 0; i < k; i++) {
				if (c->stage == 2 && !c->msg_fds) {
					struct stat st;

					if (fstat(fds[i], &st) < 0 ||
					    st.st_size <= 0)
						fail(c, "the memory descriptor has no size");
				}
				close(fds[i]);
				c->msg_fds++;
			}
		}
		if (m.msg_flags & MSG_CTRUNC)
			fail(c, "descriptors truncated (MSG_CTRUNC)");
		c->ngot += r;
		if (c->ngot == 8) {
			uint64_t le;

			memcpy(&le, c->got, 8);
			c->ngot = 0;
			apply(c, (int64_t)le64toh(le), c->msg_fds);
			c->msg_fds = 0;
			n++;
		}
	}
	return true;
}

static void usage(void)
{
	fprintf(stderr,
"Usage: ivshmem-clients -S SOCK [-n VECTORS] [-p N] [-c N] [-s N] [-x N]\n"
"                       [-t SECONDS] [-i MS] [-k N] [-r] [-o N]\n"
"  -p prompt readers, -c churning readers, -s slow readers, -x never readers,\n"
"  -t how long the churn runs, -i mean time between a churn client's leave\n"
"  and join (ms), -k messages a slow reader reads per 10 ms, -r connect a\n"
"  never reader again when the server dropped it, -o the number of peers of\n"
"  other processes connected at the end (for the final peer-list check).\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned int count[4] = { 0 }, nc, i;
	unsigned int seconds = 5, churn_ms = 200;
	bool reconnect = false;
	struct client *cl;
	struct pollfd *pf;
	unsigned int *map;
	long long end, last_tick = 0;
	int o;

	while ((o = getopt(argc, argv, "S:n:p:c:s:x:t:i:k:ro:")) != -1) {
		switch (o) {
		case 'S': sock_path = optarg; break;
		case 'n': vectors = atoi(optarg); break;
		case 'p': count[PROMPT] = atoi(optarg); break;
		case 'c': count[CHURN] = atoi(optarg); break;
		case 's': count[SLOW] = atoi(optarg); break;
		case 'x': count[NEVER] = atoi(optarg); break;
		case 't': seconds = atoi(optarg); break;
		case 'i': churn_ms = atoi(optarg); break;
		case 'k': slow_per_tick = atoi(optarg); break;
		case 'r': reconnect = true; break;
		case 'o': extra_peers = atoi(optarg); break;
		default: usage();
		}
	}
	if (!sock_path || optind != argc || !vectors || vectors > 64 ||
	    !churn_ms)
		usage();
	nc = count[0] + count[1] + count[2] + count[3];
	cl = calloc(nc, sizeof(*cl));
	pf = calloc(nc, sizeof(*pf));
	map = calloc(nc, sizeof(*map));
	if (!cl || !pf || !map) {
		perror("calloc");
		return 1;
	}
	srandom(getpid());
	/* never readers first, then prompt, slow, churn */
	{
		static const enum kind order[] = { NEVER, PROMPT, SLOW, CHURN };
		unsigned int k, j, n = 0;

		for (k = 0; k < 4; k++)
			for (j = 0; j < count[order[k]]; j++) {
				struct client *c = &cl[n++];

				c->kind = order[k];
				c->sock = -1;
				c->id = -1;
				if (c->kind != NEVER) {
					c->nfds = calloc(MAX_ID, 1);
					if (!c->nfds) {
						perror("calloc");
						return 1;
					}
				}
			}
	}
	for (i = 0; i < nc; i++) {
		do_connect(&cl[i]);
		if (cl[i].kind == NEVER && (i + 1 == nc || cl[i + 1].kind != NEVER))
			usleep(200000);	/* let the never readers' setups queue */
		if (cl[i].kind == CHURN)
			cl[i].next_churn = now_ms() + random() % (2 * churn_ms);
		if (cl[i].kind != NEVER)
			usleep(2000);
	}
	end = now_ms() + seconds * 1000LL;
	/* The churn phase, then the slow and never readers leave, then quiet. */
	for (int phase = 0; phase < 2; phase++) {
		long long quiet_since = now_ms();

		for (;;) {
			long long t = now_ms();
			unsigned int n = 0;
			bool tick = t - last_tick >= 10;
			int r;

			if (phase == 0 && t >= end)
				break;
			if (phase == 1 && t - quiet_since >= 500)
				break;
			if (phase == 1 && t - end > 60000) {
				printf("# FAIL the readers did not go quiet within 60 s\n");
				failures++;
				break;
			}
			if (tick)
				last_tick = t;
			for (i = 0; i < nc; i++) {
				struct client *c = &cl[i];

				if (phase == 0 && c->kind == CHURN &&
				    t >= c->next_churn) {
					if (c->sock >= 0)
						disconnect(c);
					else
						do_connect(c);
					c->next_churn = t + 1 +
						random() % (2 * churn_ms);
				}
				if (c->sock < 0)
					continue;
				if (c->kind == SLOW && tick) {
					if (!read_msgs(c, slow_per_tick)) {
						server_drops[SLOW]++;
						disconnect(c);
					}
					continue;
				}
				map[n] = i;
				pf[n++] = (struct pollfd){
					.fd = c->sock,
					.events = c->kind == NEVER ? POLLRDHUP :
						  c->kind == SLOW ? 0 : POLLIN,
				};
			}
			r = poll(pf, n, 10);
			if (r < 0 && errno != EINTR) {
				perror("poll");
				return 1;
			}
			for (unsigned int j = 0; r > 0 && j < n; j++) {
				struct client *c = &cl[map[j]];

				if (!pf[j].revents)
					continue;
				if (c->kind == NEVER) {
					if (pf[j].revents & (POLLRDHUP | POLLHUP)) {
						server_drops[NEVER]++;
						disconnect(c);
						if (reconnect && phase == 0)
							do_connect(c);
					}
					continue;
				}
				if (c->kind == SLOW)
					continue;
				quiet_since = t;
				if (!read_msgs(c, 0)) {
					server_drops[c->kind]++;
					fail(c, "dropped by the server");
					disconnect(c);
				}
			}
		}
		if (phase == 0) {
			for (i = 0; i < nc; i++)
				if (cl[i].kind == SLOW || cl[i].kind == NEVER)
					disconnect(&cl[i]);
		}
	}
	/* Every prompt/churn reader knows exactly the others, fully joined. */
	{
		unsigned int readers = 0, bad = 0;

		for (i = 0; i < nc; i++) {
			struct client *c = &cl[i];
			unsigned int id, known = 0, others = 0;

			if (c->sock < 0 || c->kind == SLOW || c->kind == NEVER)
				continue;
			readers++;
			if (c->stage != 4) {
				fail(c, "setup did not finish");
				bad++;
				continue;
			}
			for (id = 0; id < MAX_ID; id++)
				if (c->nfds[id])
					known++;
			for (unsigned int j = 0; j < nc; j++) {
				struct client *o = &cl[j];

				if (o == c || o->sock < 0 || o->kind == SLOW ||
				    o->kind == NEVER)
					continue;
				others++;
				if (o->id < 0 || c->nfds[o->id] != vectors) {
					char buf[80];

					snprintf(buf, sizeof(buf),
						 "peer %d has %d of %u descriptors",
						 o->id, o->id < 0 ? -1 :
						 c->nfds[o->id], vectors);
					fail(c, buf);
					bad++;
					break;
				}
			}
			others += extra_peers;
			if (known != others) {
				char buf[80];

				snprintf(buf, sizeof(buf),
					 "knows %u peers, %u are connected",
					 known, others);
				fail(c, buf);
				bad++;
			}
		}
		printf("# %u connections made, %lu messages read, %lu protocol errors\n",
		       (unsigned int)joins, total_msgs, protocol_errors);
		printf("# dropped by the server: %lu prompt, %lu churn, %lu slow, %lu never\n",
		       server_drops[PROMPT], server_drops[CHURN],
		       server_drops[SLOW], server_drops[NEVER]);
		printf("# %u readers connected at the end, %u with a wrong peer list\n",
		       readers, bad);
	}
	return failures ? 1 : 0;
}
