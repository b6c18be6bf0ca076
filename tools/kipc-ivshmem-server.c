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
 * One thread, one poll() loop.  Sends never block: a message that does not
 * fit in a client's socket buffer is queued (its descriptor dup'ed) and
 * sent when the socket is writable; a client whose queue passes a bound
 * (it stopped reading) is dropped.  Peers, vectors and queues are bounded,
 * and the descriptor budget is checked against RLIMIT_NOFILE at start.
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
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <kipc/ivshmem_ioctl.h>

#define PROG "kipc-ivshmem-server"
/* From the Makefile (scripts/version.sh); a plain gcc build says "unknown". */
#ifndef KIPC_VERSION
#define KIPC_VERSION "unknown"
#endif

#define DEF_SOCKET "/tmp/ivshmem_socket"
#define DEF_PIDFILE "/var/run/ivshmem-server.pid"
#define DEF_SHM_NAME "ivshmem"
#define DEF_SIZE (4ULL << 20)
#define DEF_VECTORS 1
#define DEF_MAX_PEERS 64
/* Largest shared memory: 1 TiB. */
#define MAX_SIZE (1ULL << 40)

/* One message waiting for a client's socket to drain. */
struct qmsg {
	int64_t val;
	int fd;			/* our dup, closed once sent; -1: none */
};

struct peer {
	bool used;
	bool announced;		/* the other peers were told it joined */
	uint16_t id;
	int sock;
	int efd[KIPC_IVSHMEM_MAX_VECTORS];
	struct qmsg *q;		/* ring of queued messages */
	unsigned int qhead, qlen;
};

static struct {
	bool foreground, verbose;
	const char *pidfile, *sock_path, *shm_name, *shm_dir;
	uint64_t size;
	unsigned int vectors, max_peers;
	bool pidfile_given;
} opt = {
	.pidfile = DEF_PIDFILE, .sock_path = DEF_SOCKET,
	.shm_name = DEF_SHM_NAME, .size = DEF_SIZE,
	.vectors = DEF_VECTORS, .max_peers = DEF_MAX_PEERS,
};

static struct peer *peers;	/* opt.max_peers slots */
static unsigned int npeers;
static unsigned int qmax;	/* queued messages one client may have */
static unsigned int qfds, qfds_max;	/* dup'ed descriptors queued, bound */
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
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	bool have_M = false;
	int c;

	while ((c = getopt_long(argc, argv, "+Fvp:S:M:m:l:n:P:hV", lopts,
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

/* Send one message now; 1 sent, 0 would block, -1 error (errno). */
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
	 * A stream socket takes an 8-byte message whole or not at all
	 * (its buffer is far larger); a short send is a broken peer.
	 */
	if (n >= 0)
		errno = EPIPE;
	return -1;
}

static void drop_peer(struct peer *p, const char *why);

/* Send what is queued; false if the peer was dropped. */
static bool flush_queue(struct peer *p)
{
	while (p->qlen) {
		struct qmsg *m = &p->q[p->qhead];
		int r = send_now(p->sock, m->val, m->fd);

		if (r == 0)
			return true;
		if (r < 0) {
			drop_peer(p, strerror(errno));
			return false;
		}
		if (m->fd >= 0) {
			close(m->fd);
			qfds--;
		}
		p->qhead = (p->qhead + 1) % qmax;
		p->qlen--;
	}
	return true;
}

/* Send VAL (+FD) to P, in order after anything queued; false if dropped. */
static bool send_msg(struct peer *p, int64_t val, int fd)
{
	struct qmsg *m;

	if (!p->qlen) {
		int r = send_now(p->sock, val, fd);

		if (r > 0)
			return true;
		if (r < 0) {
			drop_peer(p, strerror(errno));
			return false;
		}
	}
	if (p->qlen == qmax) {
		drop_peer(p, "it stopped reading (queue full)");
		return false;
	}
	m = &p->q[(p->qhead + p->qlen) % qmax];
	m->val = val;
	m->fd = -1;
	if (fd >= 0) {
		/* All queues together hold at most qfds_max descriptors. */
		if (qfds >= qfds_max) {
			drop_peer(p, "it stopped reading (descriptor budget)");
			return false;
		}
		m->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (m->fd < 0) {
			drop_peer(p, strerror(errno));
			return false;
		}
		qfds++;
	}
	p->qlen++;
	return true;
}

/* ---- peers ---- */

static void free_peer(struct peer *p)
{
	unsigned int v;

	for (v = 0; v < opt.vectors; v++)
		if (p->efd[v] >= 0)
			close(p->efd[v]);
	while (p->qlen) {
		if (p->q[p->qhead].fd >= 0) {
			close(p->q[p->qhead].fd);
			qfds--;
		}
		p->qhead = (p->qhead + 1) % qmax;
		p->qlen--;
	}
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
			send_msg(&peers[i], id, -1);
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
	struct peer *p = NULL;
	unsigned int i, v;
	uint16_t id;

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
	p->q = calloc(qmax, sizeof(*p->q));
	if (!p->q) {
		err("out of memory for a new client");
		close(sock);
		return;
	}
	p->sock = sock;
	p->id = id;
	for (v = 0; v < opt.vectors; v++) {
		p->efd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (p->efd[v] < 0) {
			err("eventfd: %s; refusing a client", strerror(errno));
			free_peer(p);
			return;
		}
	}
	p->used = true;
	npeers++;
	vlog("peer %u joined (%u peers)", id, npeers);

	/* The setup messages, in the spec's order. */
	if (!send_msg(p, KIPC_IVSHMEM_PROTOCOL_VERSION, -1) ||
	    !send_msg(p, id, -1) || !send_msg(p, -1, shm_fd))
		return;
	for (i = 0; i < opt.max_peers; i++) {
		struct peer *o = &peers[i];

		if (!o->used || o == p)
			continue;
		for (v = 0; v < opt.vectors; v++)
			if (!send_msg(p, o->id, o->efd[v]))
				return;
	}
	for (v = 0; v < opt.vectors; v++)
		if (!send_msg(p, id, p->efd[v]))
			return;
	/* Then tell the others. */
	p->announced = true;
	for (i = 0; i < opt.max_peers; i++) {
		struct peer *o = &peers[i];

		if (!o->used || o == p)
			continue;
		for (v = 0; v < opt.vectors && o->used; v++)
			if (!send_msg(o, id, p->efd[v]))
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

/* Check that peers, vectors and queues fit in RLIMIT_NOFILE. */
static int fd_budget(void)
{
	struct rlimit rl;
	uint64_t need;

	/* Queued messages: the setup of a full server, plus slack. */
	qmax = 3 + opt.max_peers * opt.vectors + 64;
	/*
	 * Each peer: a socket and its eventfds.  Queued descriptors are
	 * dup'ed only while a socket is full; budget for 4 full queues.
	 */
	qfds_max = 4 * qmax;
	need = 16 + (uint64_t)opt.max_peers * (1 + opt.vectors) + qfds_max;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need &&
	    rl.rlim_cur != RLIM_INFINITY) {
		rl.rlim_cur = need <= rl.rlim_max ? need : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < need) {
			err("%u peers x %u vectors need %" PRIu64 " descriptors; the limit is %llu (lower -P or -n, or raise ulimit -n)",
			    opt.max_peers, opt.vectors, need,
			    (unsigned long long)rl.rlim_cur);
			return -1;
		}
	}
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
				.events = POLLIN | (p->qlen ? POLLOUT : 0),
			};
		}
		if (poll(pfds, n, -1) < 0) {
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
