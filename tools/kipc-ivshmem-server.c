// SPDX-License-Identifier: GPL-2.0
/*
 * kipc-ivshmem-server - the shared memory / doorbell server for QEMU's
 * ivshmem-doorbell device (and for libkipc's host peers).
 *
 * Protocol (QEMU docs/specs/ivshmem-spec.rst): a UNIX stream socket; the
 * server sends, one little-endian int64 per sendmsg(), optionally with one
 * SCM_RIGHTS descriptor:
 *   0                      protocol version
 *   ID                     the new client's peer id (0..65535)
 *   -1 + shm fd            the shared memory (before any eventfd)
 *   P x N + eventfds       every existing peer P, one per vector, in order
 *   ID x N + eventfds      the client's own vectors
 * later: ID + fd = peer ID joined (N messages), ID alone = peer ID left.
 * Clients never send: data or EOF from a client means it left.
 *
 * One thread, one poll() loop.  Sends never block.  Descriptors a client
 * has not read yet stay "in flight", and Linux counts every descriptor in
 * flight against the *sender's* RLIMIT_NOFILE (sendmsg() fails with
 * ETOOMANYREFS past it), so one client that never reads could otherwise
 * make sends to every other client fail.  Hence each client's socket send
 * buffer is made just big enough for `window` messages (measured at start),
 * and max_peers x window fits in RLIMIT_NOFILE: no client can hold more
 * than `window` of our descriptors, all of them together never reach the
 * limit.  What does not fit in a client's socket waits in its queue inside
 * the server as a reference (peer slot + join generation + vector), not as
 * a descriptor: it is looked up when sent, and a message for a peer that
 * left meanwhile is skipped (its "left" message follows in the same queue).
 * A client whose queue passes a bound (it stopped reading) is dropped --
 * only ever the client that does not read.
 * SIGTERM, SIGINT and SIGHUP shut the server down cleanly (socket and pid
 * file removed).  Options follow QEMU's example ivshmem-server.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <linux/sockios.h>
#include <unistd.h>

#include <kipc/ivshmem_ioctl.h>

#define PROG "kipc-ivshmem-server"
#include "tool.h"	/* KIPC_VERSION */

#define DEF_SOCKET "/tmp/ivshmem_socket"
#define DEF_PIDFILE "/var/run/ivshmem-server.pid"
#define DEF_SHM_NAME "ivshmem"
#define DEF_SIZE (4ULL << 20)
#define DEF_VECTORS 1
#define DEF_MAX_PEERS 64
/* Largest shared memory: 1 TiB. */
#define MAX_SIZE (1ULL << 40)

/* What a queued message carries: nothing, the memory, or a peer's eventfd. */
enum qkind { Q_NONE, Q_SHM, Q_EFD };

/* One message waiting for a client's socket to drain. */
struct qmsg {
	int64_t val;
	uint64_t gen;		/* Q_EFD: the join generation of peers[slot] */
	uint32_t slot;		/* Q_EFD: index into peers[] */
	uint8_t vector;		/* Q_EFD: which of its eventfds */
	uint8_t kind;		/* enum qkind */
};

struct peer {
	bool used;
	bool announced;		/* the other peers were told it joined */
	uint16_t id;
	uint64_t gen;		/* join generation: tells a slot's users apart */
	uid_t uid;		/* of the connecting process (SO_PEERCRED) */
	int sock;
	int efd[KIPC_IVSHMEM_MAX_VECTORS];
	struct qmsg *q;		/* ring of queued messages, qcap slots */
	unsigned int qhead, qlen, qcap;
};

static struct {
	bool foreground, verbose;
	const char *pidfile, *sock_path, *shm_name, *shm_dir;
	uint64_t size;
	unsigned int vectors, max_peers, max_per_uid;
	bool pidfile_given;
} opt = {
	.pidfile = DEF_PIDFILE, .sock_path = DEF_SOCKET,
	.shm_name = DEF_SHM_NAME, .size = DEF_SIZE,
	.vectors = DEF_VECTORS, .max_peers = DEF_MAX_PEERS,
};

static struct peer *peers;	/* opt.max_peers slots */
static unsigned int npeers;
static unsigned int qmax;	/* queued messages one client may have */
static unsigned int window;	/* messages one client's socket holds */
static int sndbuf;		/* the SO_SNDBUF value giving that window */
static uint64_t next_gen = 1;	/* join generations, never reused */
static bool refs_blocked;	/* a send hit ETOOMANYREFS: retry on a timer */
static uint16_t next_id;	/* where the search for a free id starts */
static int shm_fd = -1, listen_fd = -1, sig_fd = -1;
static bool sock_created, pidfile_created;

static void vlog(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static void vlog(const char *fmt, ...)
{
	va_list ap;

	if (!opt.verbose)
		return;
	va_start(ap, fmt);
	fprintf(stderr, PROG ": ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, PROG ": ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: " PROG " [OPTION]...\n"
"Serve shared memory and doorbell eventfds to QEMU ivshmem-doorbell devices\n"
"and libkipc host peers over a UNIX socket (QEMU's ivshmem protocol).\n\n"
"  -F, --foreground        stay in the foreground (default: daemonize)\n"
"  -v, --verbose           log joins, leaves and errors to stderr (needs -F)\n"
"  -p, --pid-file PATH     write the pid here (default " DEF_PIDFILE ",\n"
"                          written when daemonizing or when given)\n"
"  -S, --socket-path PATH  listening socket (default " DEF_SOCKET ")\n"
"  -M, --shm-name NAME     POSIX shm object NAME (default " DEF_SHM_NAME ")\n"
"  -m, --shm-dir DIR       instead, an unlinked file in DIR (e.g. hugetlbfs)\n"
"  -l, --size SIZE         shared memory bytes, K/M/G/T suffixes, rounded up\n"
"                          to a power of two (default 4M, at most 1T)\n"
"  -n, --vectors N         doorbell vectors per peer, 1..%d (default 1)\n"
"  -P, --max-peers N       most peers at once, 1..65536 (default %d)\n"
"  -U, --max-per-uid N     most peers of one user (SO_PEERCRED) at once,\n"
"                          1..65536 (default: no limit but -P)\n"
"  -h, --help              this text\n"
"  -V, --version           print the version\n\n"
"SIGTERM, SIGINT or SIGHUP stop the server; the socket and pid file are\n"
"removed, a -M shm object is kept.  Exit status: 0 after a signal, 1 on a\n"
"runtime error, 2 on bad usage.\n",
		KIPC_IVSHMEM_MAX_VECTORS, DEF_MAX_PEERS);
}

/* Parse a size "N[KMGT]" (case-insensitive, optional B); 0 on error. */
static uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	if (!*s || *s == '-' || *s == '+')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	if (shift && (*end == 'b' || *end == 'B'))
		end++;
	if (*end || v == 0 || v > (MAX_SIZE >> shift))
		return 0;
	return (uint64_t)v << shift;
}

static bool parse_uint(const char *s, unsigned int lo, unsigned int hi,
		       unsigned int *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static void parse_args(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "foreground", no_argument, NULL, 'F' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "socket-path", required_argument, NULL, 'S' },
		{ "shm-name", required_argument, NULL, 'M' },
		{ "shm-dir", required_argument, NULL, 'm' },
		{ "size", required_argument, NULL, 'l' },
		{ "vectors", required_argument, NULL, 'n' },
		{ "max-peers", required_argument, NULL, 'P' },
		{ "max-per-uid", required_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	bool have_M = false;
	int c;

	while ((c = getopt_long(argc, argv, "+Fvp:S:M:m:l:n:P:U:hV", lopts,
				NULL)) != -1) {
		switch (c) {
		case 'F': opt.foreground = true; break;
		case 'v': opt.verbose = true; break;
		case 'p':
			if (!*optarg)
				goto bad_empty;
			opt.pidfile = optarg;
			opt.pidfile_given = true;
			break;
		case 'S':
			if (!*optarg)
				goto bad_empty;
			if (strlen(optarg) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
				err("socket path too long (at most %zu bytes): %s",
				    sizeof(((struct sockaddr_un *)0)->sun_path) - 1,
				    optarg);
				exit(2);
			}
			opt.sock_path = optarg;
			break;
		case 'M':
			if (!*optarg || strchr(optarg + (*optarg == '/'), '/') ||
			    strlen(optarg) > NAME_MAX - 1) {
				err("bad shm name '%s' (one path component, at most %d bytes)",
				    optarg, NAME_MAX - 1);
				exit(2);
			}
			opt.shm_name = optarg;
			have_M = true;
			break;
		case 'm':
			if (!*optarg)
				goto bad_empty;
			opt.shm_dir = optarg;
			break;
		case 'l':
			opt.size = parse_size(optarg);
			if (!opt.size) {
				err("bad size '%s' (a positive number with an optional K, M, G or T suffix, at most 1T)",
				    optarg);
				exit(2);
			}
			break;
		case 'n':
			if (!parse_uint(optarg, 1, KIPC_IVSHMEM_MAX_VECTORS,
					&opt.vectors)) {
				err("bad number of vectors '%s' (1..%d)", optarg,
				    KIPC_IVSHMEM_MAX_VECTORS);
				exit(2);
			}
			break;
		case 'P':
			if (!parse_uint(optarg, 1, KIPC_IVSHMEM_MAX_PEERS,
					&opt.max_peers)) {
				err("bad number of peers '%s' (1..%d)", optarg,
				    KIPC_IVSHMEM_MAX_PEERS);
				exit(2);
			}
			break;
		case 'U':
			if (!parse_uint(optarg, 1, KIPC_IVSHMEM_MAX_PEERS,
					&opt.max_per_uid)) {
				err("bad number of peers per user '%s' (1..%d)",
				    optarg, KIPC_IVSHMEM_MAX_PEERS);
				exit(2);
			}
			break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf(PROG " (kipc) %s\n", KIPC_VERSION); exit(0);
		default:
			fprintf(stderr, "Try '" PROG " --help'.\n");
			exit(2);
		}
	}
	if (optind < argc) {
		err("unexpected argument '%s' (see --help)", argv[optind]);
		exit(2);
	}
	if (have_M && opt.shm_dir) {
		err("-M and -m exclude each other");
		exit(2);
	}
	if (opt.verbose && !opt.foreground) {
		err("-v needs -F (a daemon has no terminal to log to)");
		exit(2);
	}
	return;
bad_empty:
	err("option -%c needs a non-empty argument", c);
	exit(2);
}

/* ---- shared memory ---- */

static uint64_t round_pow2(uint64_t v)
{
	uint64_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

static int open_shm(void)
{
	uint64_t size = round_pow2(opt.size);
	int fd;

	if (size != opt.size)
		vlog("size %" PRIu64 " rounded up to %" PRIu64, opt.size, size);
	if (opt.shm_dir) {
		char *path;

		if (asprintf(&path, "%s/ivshmem.XXXXXX", opt.shm_dir) < 0) {
			err("out of memory");
			return -1;
		}
		fd = mkostemp(path, O_CLOEXEC);
		if (fd < 0) {
			err("cannot create a file in %s: %s", opt.shm_dir,
			    strerror(errno));
			free(path);
			return -1;
		}
		unlink(path);
		free(path);
	} else {
		fd = shm_open(opt.shm_name, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
		if (fd < 0) {
			err("shm_open %s: %s", opt.shm_name, strerror(errno));
			return -1;
		}
	}
	/*
	 * hugetlbfs only takes multiples of its page size: double until
	 * ftruncate() accepts the size (like QEMU's example server).
	 */
	while (ftruncate(fd, size) < 0) {
		if (errno != EINVAL || size >= MAX_SIZE) {
			err("cannot size the shared memory to %" PRIu64 " bytes: %s",
			    size, strerror(errno));
			close(fd);
			return -1;
		}
		size <<= 1;
	}
	opt.size = size;
	return fd;
}

/* ---- sending ---- */

/*
 * Send one message now; 1 sent, 0 would block (the socket holds `window`
 * messages, or the user's descriptors in flight reached RLIMIT_NOFILE:
 * refs_blocked is set then), -1 error (errno).
 */
static int send_now(int sock, int64_t val, int fd)
{
	uint64_t le = htole64((uint64_t)val);
	struct iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		m.msg_control = u.buf;
		m.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n == sizeof(le))
		return 1;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	/*
	 * Not this client's fault: descriptors in flight to all clients of
	 * this user passed RLIMIT_NOFILE (the window makes that impossible
	 * for this server alone; another program of the same user may pass
	 * descriptors too).  Back-pressure: keep it queued, retry soon.
	 */
	if (n < 0 && errno == ETOOMANYREFS) {
		if (!refs_blocked)
			vlog("descriptors in flight reached RLIMIT_NOFILE (another program of this user passes descriptors?); sends wait");
		refs_blocked = true;
		return 0;
	}
	/*
	 * A stream socket takes an 8-byte message whole or not at all
	 * (its buffer is far larger); a short send is a broken peer.
	 */
	if (n >= 0)
		errno = EPIPE;
	return -1;
}

static void drop_peer(struct peer *p, const char *why);

/* The descriptor queued message M stands for: -1 none, -2 peer gone. */
static int qmsg_fd(const struct qmsg *m)
{
	const struct peer *o;

	switch (m->kind) {
	case Q_SHM:
		return shm_fd;
	case Q_EFD:
		o = &peers[m->slot];
		if (!o->used || o->gen != m->gen)
			return -2;	/* it left; its "left" message follows */
		return o->efd[m->vector];
	default:
		return -1;
	}
}

/* Send what is queued; false if the peer was dropped. */
static bool flush_queue(struct peer *p)
{
	while (p->qlen) {
		struct qmsg *m = &p->q[p->qhead];
		int fd = qmsg_fd(m), r = 1;

		if (fd != -2)
			r = send_now(p->sock, m->val, fd);
		if (r == 0)
			return true;
		if (r < 0) {
			drop_peer(p, strerror(errno));
			return false;
		}
		p->qhead = (p->qhead + 1) % p->qcap;
		p->qlen--;
	}
	return true;
}

/* Make room for one more queued message (the ring grows up to qmax). */
static bool queue_grow(struct peer *p)
{
	unsigned int cap, i;
	struct qmsg *q;

	if (p->qlen < p->qcap)
		return true;
	cap = p->qcap ? p->qcap * 2 : 64;
	if (cap > qmax)
		cap = qmax;
	q = malloc(cap * sizeof(*q));
	if (!q)
		return false;
	for (i = 0; i < p->qlen; i++)
		q[i] = p->q[(p->qhead + i) % p->qcap];
	free(p->q);
	p->q = q;
	p->qcap = cap;
	p->qhead = 0;
	return true;
}

/*
 * Send VAL to P, in order after anything queued, with the descriptor that
 * KIND (SLOT, VECTOR for Q_EFD) names; false if P was dropped.
 */
static bool send_msg(struct peer *p, int64_t val, enum qkind kind,
		     unsigned int slot, unsigned int vector)
{
	struct qmsg *m;

	if (p->qlen == qmax) {
		drop_peer(p, "it stopped reading (queue full)");
		return false;
	}
	if (!queue_grow(p)) {
		drop_peer(p, "out of memory for its queue");
		return false;
	}
	m = &p->q[(p->qhead + p->qlen) % p->qcap];
	*m = (struct qmsg){ .val = val, .kind = kind };
	if (kind == Q_EFD) {
		m->slot = slot;
		m->vector = vector;
		m->gen = peers[slot].gen;
	}
	p->qlen++;
	/* Only the head may go out now; later ones wait for POLLOUT. */
	return p->qlen > 1 || flush_queue(p);
}

/* ---- peers ---- */

static void free_peer(struct peer *p)
{
	unsigned int v;

	for (v = 0; v < opt.vectors; v++)
		if (p->efd[v] >= 0)
			close(p->efd[v]);
	if (p->sock >= 0)
		close(p->sock);
	free(p->q);
	memset(p, 0, sizeof(*p));
	p->sock = -1;
	for (v = 0; v < KIPC_IVSHMEM_MAX_VECTORS; v++)
		p->efd[v] = -1;
}

/*
 * Remove P and tell every other peer.  Telling a peer can drop it too (a
 * broken socket); that recursion is bounded by the number of peers, since
 * a peer is marked unused before anyone is told about it.
 */
static void drop_peer(struct peer *p, const char *why)
{
	bool was_announced = p->announced;
	uint16_t id = p->id;
	unsigned int i;

	if (!p->used)
		return;
	vlog("peer %u left (%s)", id, why);
	p->used = false;
	npeers--;
	free_peer(p);
	if (!was_announced)
		return;
	for (i = 0; i < opt.max_peers; i++)
		if (peers[i].used)
			send_msg(&peers[i], id, Q_NONE, 0, 0);
}

static bool id_in_use(uint16_t id)
{
	unsigned int i;

	for (i = 0; i < opt.max_peers; i++)
		if (peers[i].used && peers[i].id == id)
			return true;
	return false;
}

static void new_client(int sock)
{
	struct ucred cred = { .uid = (uid_t)-1 };
	socklen_t clen = sizeof(cred);
	struct peer *p = NULL;
	unsigned int i, v, same = 0;
	uint16_t id;

	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0)
		cred.uid = (uid_t)-1;
	if (opt.max_per_uid) {
		for (i = 0; i < opt.max_peers; i++)
			if (peers[i].used && peers[i].uid == cred.uid)
				same++;
		if (same >= opt.max_per_uid) {
			vlog("refused a client of uid %u: %u peers of that user already (-U)",
			     (unsigned int)cred.uid, same);
			close(sock);
			return;
		}
	}

	for (i = 0; i < opt.max_peers; i++)
		if (!peers[i].used) {
			p = &peers[i];
			break;
		}
	if (!p) {
		vlog("refused a client: %u peers already (-P)", npeers);
		close(sock);
		return;
	}
	/* Ids count up and wrap, skipping ids in use, like QEMU's server. */
	for (id = next_id; id_in_use(id); id++)
		;
	next_id = id + 1;
	/* At most `window` messages (and descriptors) in its socket. */
	if (setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &sndbuf,
		       sizeof(sndbuf)) < 0) {
		err("SO_SNDBUF: %s; refusing a client", strerror(errno));
		close(sock);
		return;
	}
	p->sock = sock;
	p->id = id;
	p->uid = cred.uid;
	for (v = 0; v < opt.vectors; v++) {
		p->efd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (p->efd[v] < 0) {
			err("eventfd: %s; refusing a client", strerror(errno));
			free_peer(p);
			return;
		}
	}
	p->used = true;
	p->gen = next_gen++;
	npeers++;
	vlog("peer %u joined (%u peers)", id, npeers);

	/* The setup messages, in the spec's order. */
	if (!send_msg(p, KIPC_IVSHMEM_PROTOCOL_VERSION, Q_NONE, 0, 0) ||
	    !send_msg(p, id, Q_NONE, 0, 0) || !send_msg(p, -1, Q_SHM, 0, 0))
		return;
	for (i = 0; i < opt.max_peers; i++) {
		struct peer *o = &peers[i];

		if (!o->used || o == p)
			continue;
		for (v = 0; v < opt.vectors; v++)
			if (!send_msg(p, o->id, Q_EFD, i, v))
				return;
	}
	for (v = 0; v < opt.vectors; v++)
		if (!send_msg(p, id, Q_EFD, p - peers, v))
			return;
	/* Then tell the others. */
	p->announced = true;
	for (i = 0; i < opt.max_peers; i++) {
		struct peer *o = &peers[i];

		if (!o->used || o == p)
			continue;
		for (v = 0; v < opt.vectors && o->used; v++)
			if (!send_msg(o, id, Q_EFD, p - peers, v))
				break;
		if (!p->used)
			return;
	}
}

/* ---- start-up ---- */

static int listen_socket(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	strcpy(sa.sun_path, opt.sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		err("socket: %s", strerror(errno));
		return -1;
	}
	/*
	 * A socket file left by a dead server is removed; a live server's
	 * (it accepts a connection) or any other file is an error.
	 */
	if (lstat(opt.sock_path, &st) == 0) {
		int probe;

		if (!S_ISSOCK(st.st_mode)) {
			err("%s exists and is not a socket", opt.sock_path);
			goto fail;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa,
					  sizeof(sa)) == 0) {
			close(probe);
			err("%s: another server is listening there",
			    opt.sock_path);
			goto fail;
		}
		if (probe >= 0)
			close(probe);
		unlink(opt.sock_path);
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err("bind %s: %s", opt.sock_path, strerror(errno));
		goto fail;
	}
	sock_created = true;
	if (listen(fd, 64) < 0) {
		err("listen: %s", strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* Raise the soft RLIMIT_NOFILE to NEED if lower; the limit now. */
static uint64_t nofile_at_least(uint64_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur == RLIM_INFINITY)
		return UINT64_MAX;
	if (rl.rlim_cur < need) {
		rl.rlim_cur = need <= rl.rlim_max ? need : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur;
}

/* Check that the descriptors we hold open fit in RLIMIT_NOFILE. */
static int fd_budget(void)
{
	uint64_t need, have;

	/*
	 * Queued messages one client may have: twice the setup of a full
	 * server, plus slack for joins and leaves while it catches up.
	 * They are references (24 bytes each), not descriptors.
	 */
	qmax = 2 * (3 + opt.max_peers * opt.vectors) + 1024;
	/* Each peer: a socket and its eventfds; then the memory, the rest. */
	need = 16 + (uint64_t)opt.max_peers * (1 + opt.vectors);
	have = nofile_at_least(need);
	if (have < need) {
		err("%u peers x %u vectors need %" PRIu64 " descriptors; the limit is %" PRIu64 " (lower -P or -n, or raise ulimit -n)",
		    opt.max_peers, opt.vectors, need, have);
		return -1;
	}
	return 0;
}

/*
 * How many one-descriptor messages a client socket with SO_SNDBUF VAL
 * (0: the default) takes before it would block; -1 on error.  Measured on
 * a socket pair: the kernel's skb size and buffer rounding vary.
 */
static int window_for(int val)
{
	int sv[2], n = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if (val && setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &val,
			      sizeof(val)) < 0)
		goto out;
	while (n < 4096) {
		int r = send_now(sv[0], 0, shm_fd);

		if (r <= 0)
			break;
		n++;
	}
	refs_blocked = false;
out:
	close(sv[0]);
	close(sv[1]);	/* the descriptors in flight go with it */
	return n;
}

/* The kernel's charge for one 8-byte message (SIOCOUTQ), or a guess. */
static int msg_truesize(void)
{
	int sv[2], t = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 1024;
	if (send_now(sv[0], 0, shm_fd) > 0 && ioctl(sv[0], SIOCOUTQ, &t) < 0)
		t = 0;
	close(sv[0]);
	close(sv[1]);
	return t > 0 ? t : 1024;
}

/*
 * Choose the window: messages (so descriptors) one client's socket may
 * hold unread.  All clients' windows together stay below RLIMIT_NOFILE,
 * the kernel's limit on descriptors in flight from this user; at most 64
 * each, at least what the kernel's smallest socket buffer takes.
 */
static int choose_window(void)
{
	uint64_t have, need;
	int wmin, t, val, w;
	unsigned int want;

	wmin = window_for(1);	/* the kernel rounds up to its minimum */
	if (wmin <= 0) {
		err("cannot measure the socket buffer: %s", strerror(errno));
		return -1;
	}
	have = nofile_at_least(0);
	want = have > 64 ? (have - 64) / opt.max_peers : 0;
	if (want > 64)
		want = 64;
	if (want < (unsigned int)wmin) {
		need = (uint64_t)opt.max_peers * wmin + 64;
		have = nofile_at_least(need);
		if (have < need) {
			err("%u peers with %d messages in flight each need a descriptor limit of %" PRIu64 "; it is %" PRIu64 " (lower -P, or raise ulimit -n)",
			    opt.max_peers, wmin, need, have);
			return -1;
		}
		want = wmin;
	}
	t = msg_truesize();
	/* SO_SNDBUF takes half the buffer (the kernel doubles it). */
	val = want * t / 2;
	for (;;) {
		w = window_for(val);
		if (w < 0) {
			err("cannot measure the socket buffer: %s",
			    strerror(errno));
			return -1;
		}
		if ((unsigned int)w <= want || val <= 1)
			break;
		val = val > t / 2 ? val - t / 2 : 1;
	}
	window = w;
	sndbuf = val;
	return 0;
}

static int write_pidfile(void)
{
	char buf[32];
	int fd, len;

	fd = open(opt.pidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err("pid file %s: %s", opt.pidfile, strerror(errno));
		return -1;
	}
	len = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(fd, buf, len) != len) {
		err("pid file %s: %s", opt.pidfile, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	pidfile_created = true;
	return 0;
}

/* Fork into the background; the parent exits 0 once the child is ready. */
static int daemonize(void)
{
	int pfd[2], devnull;
	pid_t pid;
	char c;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		err("pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		err("fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0) {
		close(pfd[1]);
		/* The child writes one byte when it is ready, none on error. */
		exit(read(pfd[0], &c, 1) == 1 ? 0 : 1);
	}
	close(pfd[0]);
	setsid();
	if (chdir("/") < 0)
		return -1;
	if (opt.pidfile && write_pidfile() < 0)
		return -1;
	devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		if (devnull > 2)
			close(devnull);
	}
	if (write(pfd[1], "", 1) != 1)
		return -1;
	close(pfd[1]);
	return 0;
}

static void cleanup(void)
{
	unsigned int i;

	for (i = 0; peers && i < opt.max_peers; i++)
		if (peers[i].used) {
			peers[i].used = false;
			free_peer(&peers[i]);
		}
	free(peers);
	if (listen_fd >= 0)
		close(listen_fd);
	if (sock_created)
		unlink(opt.sock_path);
	if (pidfile_created)
		unlink(opt.pidfile);
	if (shm_fd >= 0)
		close(shm_fd);
	if (sig_fd >= 0)
		close(sig_fd);
}

int main(int argc, char **argv)
{
	struct pollfd *pfds;
	struct peer **owner;
	sigset_t sigs;
	unsigned int i;
	int rc = 1;

	parse_args(argc, argv);
	if (fd_budget() < 0)
		return 1;
	peers = calloc(opt.max_peers, sizeof(*peers));
	pfds = calloc(opt.max_peers + 2, sizeof(*pfds));
	owner = calloc(opt.max_peers + 2, sizeof(*owner));
	if (!peers || !pfds || !owner) {
		err("out of memory");
		return 1;
	}
	for (i = 0; i < opt.max_peers; i++) {
		peers[i].used = true;	/* free_peer() resets the slot */
		free_peer(&peers[i]);
	}

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	shm_fd = open_shm();
	if (shm_fd < 0)
		goto out;
	if (choose_window() < 0)
		goto out;
	listen_fd = listen_socket();
	if (listen_fd < 0)
		goto out;
	if (!opt.foreground) {
		if (daemonize() < 0)
			goto out;
	} else if (opt.pidfile_given && write_pidfile() < 0) {
		goto out;
	}
	sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sig_fd < 0) {
		err("signalfd: %s", strerror(errno));
		goto out;
	}
	vlog("serving %s: %" PRIu64 " bytes, %u vectors, at most %u peers",
	     opt.sock_path, opt.size, opt.vectors, opt.max_peers);
	vlog("each client: at most %u messages in its socket, %u queued",
	     window, qmax);

	for (;;) {
		unsigned int n = 0;

		pfds[n++] = (struct pollfd){ .fd = sig_fd, .events = POLLIN };
		/* Stop accepting while full; pending clients wait. */
		pfds[n++] = (struct pollfd){
			.fd = listen_fd,
			.events = npeers < opt.max_peers ? POLLIN : 0,
		};
		for (i = 0; i < opt.max_peers; i++) {
			struct peer *p = &peers[i];

			if (!p->used)
				continue;
			owner[n] = p;
			pfds[n++] = (struct pollfd){
				.fd = p->sock,
				/* (while refs_blocked, a timer retries) */
				.events = POLLIN |
					  (p->qlen && !refs_blocked ? POLLOUT : 0),
			};
		}
		if (poll(pfds, n, refs_blocked ? 20 : -1) < 0) {
			if (errno == EINTR)
				continue;
			err("poll: %s", strerror(errno));
			goto out;
		}
		if (pfds[0].revents) {
			struct signalfd_siginfo si;

			if (read(sig_fd, &si, sizeof(si)) == sizeof(si)) {
				vlog("signal %u: shutting down", si.ssi_signo);
				rc = 0;
				goto out;
			}
		}
		for (i = 2; i < n; i++) {
			struct peer *p = owner[i];

			if (!pfds[i].revents || !p->used || p->sock != pfds[i].fd)
				continue;
			/* Clients never send: data, EOF or an error = gone. */
			if (pfds[i].revents & (POLLIN | POLLHUP | POLLERR |
					       POLLNVAL)) {
				drop_peer(p, pfds[i].revents & POLLIN ?
					  "it sent data or closed" :
					  "hang-up");
				continue;
			}
			if (pfds[i].revents & POLLOUT)
				flush_queue(p);
		}
		if (refs_blocked) {
			refs_blocked = false;
			for (i = 0; i < opt.max_peers && !refs_blocked; i++)
				if (peers[i].used && peers[i].qlen)
					flush_queue(&peers[i]);
		}
		if (npeers < opt.max_peers && pfds[1].revents & POLLIN) {
			int s = accept4(listen_fd, NULL, NULL,
					SOCK_CLOEXEC | SOCK_NONBLOCK);

			if (s >= 0)
				new_client(s);
			else if (errno != EAGAIN && errno != EINTR &&
				 errno != ECONNABORTED)
				vlog("accept: %s", strerror(errno));
		}
	}
out:
	cleanup();
	free(pfds);
	free(owner);
	return rc;
}
