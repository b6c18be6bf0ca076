// SPDX-License-Identifier: GPL-2.0
/*
 * bench_msg - message passing: a message slot against Linux's own IPC.
 *
 * Area "msg", two benchmarks, each with 1, 64 and 128-byte messages:
 *   write+read  one process writes a message and reads it back (ns/msg):
 *               slot, pipe, socketpair (SOCK_SEQPACKET), POSIX mq, and the
 *               baselines eventfd (8 bytes) and getppid() (no data).
 *   pingpong    two processes bounce a message (ns per round trip): the
 *               slot woken by poll(), pipe (blocking read), pipe woken by
 *               poll(), socketpair, mq, and eventfd (8 bytes).
 *   uring32     128-byte write+read pairs in one process, 32 pairs (64
 *               requests) per io_uring_enter (ns/msg): slot and pipe through
 *               io_uring (liburing), and both through plain write()/read()
 *               in the same group (the ratios the targets use).
 *   view        a slot channel's latest 128-byte message read through its
 *               mapped view (libkipc's kipc_slot_view_read(), no system
 *               call) against read(2) (ns/msg); "has it changed?" through
 *               the view (kipc_slot_view_changed()) against poll(2) with a
 *               zero timeout; write(2) + view read against a pipe's
 *               write+read; write(2) on a channel with a mapped view
 *               against one without.
 * The slot device must exist (default /dev/slot0, a node for major 235); if
 * it does not, its rows are skipped with a note on stderr.
 */
#include <fcntl.h>
#include <liburing.h>
#include <mqueue.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "bench.h"
#include <kipc/message_slot.h>

#include <kipc/slot_view.h>

#define MAXMSG 128

static const int sizes[] = { 1, 64, 128 };

struct ctx {
	int wfd, rfd;		/* write side, read side */
	mqd_t mq;
	size_t len;
	unsigned char buf[MAXMSG], rbuf[MAXMSG];
};

static int loop_rw(void *p, long iters)
{
	struct ctx *c = p;

	for (long i = 0; i < iters; i++) {
		if (write(c->wfd, c->buf, c->len) != (ssize_t)c->len)
			return -1;
		if (read(c->rfd, c->rbuf, MAXMSG) != (ssize_t)c->len)
			return -1;
	}
	return 0;
}

static int loop_mq(void *p, long iters)
{
	struct ctx *c = p;

	for (long i = 0; i < iters; i++) {
		if (mq_send(c->mq, (char *)c->buf, c->len, 0) < 0)
			return -1;
		if (mq_receive(c->mq, (char *)c->rbuf, MAXMSG, NULL) !=
		    (ssize_t)c->len)
			return -1;
	}
	return 0;
}

static int loop_eventfd(void *p, long iters)
{
	struct ctx *c = p;
	uint64_t one = 1, v;

	for (long i = 0; i < iters; i++) {
		if (write(c->wfd, &one, 8) != 8 || read(c->rfd, &v, 8) != 8)
			return -1;
	}
	return 0;
}

static int loop_getppid(void *p, long iters)
{
	(void)p;
	for (long i = 0; i < iters; i++)
		if (getppid() < 0)
			return -1;
	return 0;
}

static mqd_t open_mq(const char *name)
{
	struct mq_attr attr = { .mq_maxmsg = 8, .mq_msgsize = MAXMSG };
	mqd_t q;

	mq_unlink(name);
	q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
	if (q != (mqd_t)-1)
		mq_unlink(name);
	return q;
}

/* Open the slot device on CHANNEL; -1 with errno on failure. */
static int open_slot(const char *dev, unsigned int channel)
{
	int fd = open(dev, O_RDWR);

	if (fd < 0)
		return -1;
	if (ioctl(fd, MSG_SLOT_CHANNEL, channel) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static void write_read(const char *slot)
{
	enum { NS = sizeof(sizes) / sizeof(sizes[0]) };
	static struct ctx c[NS * 4 + 2];
	struct bench_case bc[NS * 4 + 2];
	int n = 0, fds[2];

	memset(bc, 0, sizeof(bc));
	for (size_t s = 0; s < NS; s++) {
		for (int m = 0; m < 4; m++) {
			struct ctx *x = &c[n];
			struct bench_case *b = &bc[n];

			x->len = (size_t)sizes[s];
			for (size_t i = 0; i < sizeof(x->buf); i++)
				x->buf[i] = (unsigned char)(i * 7 + 1);
			snprintf(b->param, sizeof(b->param), "%d", sizes[s]);
			b->ctx = x;
			b->fn = loop_rw;
			switch (m) {
			case 0:
				b->mech = "slot";
				x->wfd = x->rfd = open_slot(slot, 1);
				if (x->wfd < 0) {
					bench_skip("msg", "write+read", "slot",
						   "%s: %s", slot, strerror(errno));
					continue;
				}
				break;
			case 1:
				b->mech = "pipe";
				if (pipe(fds) < 0)
					bench_die("pipe");
				x->wfd = fds[1];
				x->rfd = fds[0];
				break;
			case 2:
				b->mech = "socketpair";
				if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds) < 0)
					bench_die("socketpair");
				x->wfd = fds[0];
				x->rfd = fds[1];
				break;
			case 3:
				b->mech = "mq";
				b->fn = loop_mq;
				x->mq = open_mq("/kipc-bench-msg");
				if (x->mq == (mqd_t)-1) {
					bench_skip("msg", "write+read", "mq",
						   "mq_open: %s", strerror(errno));
					continue;
				}
				break;
			}
			n++;
		}
	}
	c[n].wfd = c[n].rfd = eventfd(0, 0);
	if (c[n].wfd < 0)
		bench_die("eventfd");
	bc[n] = (struct bench_case){ .mech = "eventfd", .param = "8",
				     .fn = loop_eventfd, .ctx = &c[n] };
	n++;
	bc[n] = (struct bench_case){ .mech = "getppid", .param = "0",
				     .fn = loop_getppid };
	n++;
	bench_group("msg", "write+read", "ns/msg", bc, n, 100);
	for (int i = 0; i < n; i++) {
		struct ctx *x = bc[i].ctx;

		if (!x)
			continue;
		if (bc[i].fn == loop_mq) {
			mq_close(x->mq);
			continue;
		}
		if (x->rfd != x->wfd)
			close(x->rfd);
		close(x->wfd);
	}
}

/* ---- ping-pong between two processes ---------------------------------- */

enum pp_kind {
	PP_SLOT, PP_SLOT_BLOCK, PP_PIPE, PP_PIPE_POLL, PP_SOCK, PP_MQ, PP_EVENTFD
};

static int is_slot(enum pp_kind k)
{
	return k == PP_SLOT || k == PP_SLOT_BLOCK;
}

struct pp {
	enum pp_kind kind;
	const char *slot;
	size_t len;
	/* Parent's ends: request out, reply in.  Child's: request in, reply out. */
	int p_out, p_in, c_in, c_out;
	mqd_t q_req, q_rep;
	unsigned int ch_req, ch_rep;
	pid_t child;
	unsigned char seq;
	unsigned char buf[MAXMSG], rbuf[MAXMSG];
};

static int wait_readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	for (;;) {
		int n = poll(&pfd, 1, -1);

		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* One message from IN (after waiting, if the kind needs it). */
static ssize_t pp_recv(struct pp *p, int in, mqd_t q, unsigned char *buf)
{
	switch (p->kind) {
	case PP_MQ:
		return mq_receive(q, (char *)buf, MAXMSG, NULL);
	case PP_EVENTFD:
		return read(in, buf, 8);
	case PP_SLOT:
	case PP_PIPE_POLL:
		if (wait_readable(in) < 0)
			return -1;
		/* fall through */
	default:
		return read(in, buf, MAXMSG);
	}
}

static ssize_t pp_send(struct pp *p, int out, mqd_t q, const unsigned char *buf)
{
	static const uint64_t one = 1;

	switch (p->kind) {
	case PP_MQ:
		return mq_send(q, (const char *)buf, p->len, 0) < 0 ? -1 :
		       (ssize_t)p->len;
	case PP_EVENTFD:
		return write(out, &one, 8);
	default:
		return write(out, buf, p->len);
	}
}

static int loop_pingpong(void *ctx, long iters)
{
	struct pp *p = ctx;
	size_t want = p->kind == PP_EVENTFD ? 8 : p->len;

	for (long i = 0; i < iters; i++) {
		p->buf[0] = ++p->seq;
		if (pp_send(p, p->p_out, p->q_req, p->buf) != (ssize_t)want)
			return -1;
		if (pp_recv(p, p->p_in, p->q_rep, p->rbuf) != (ssize_t)want)
			return -1;
		/* The slot keeps old messages: make sure this one is new. */
		if (is_slot(p->kind) && p->rbuf[0] != p->seq) {
			errno = EPROTO;
			return -1;
		}
	}
	return 0;
}

/* Mark whatever the channel holds as read by this file. */
static void slot_drain(int fd)
{
	unsigned char b[MAXMSG];

	if (read(fd, b, sizeof(b)) < 0 && errno != EWOULDBLOCK)
		bench_note("warning: draining slot: %s", strerror(errno));
}

/*
 * The slot's opt-in blocking mode: read() waits for a message newer than
 * the last one this file read (like a pipe's blocking read).
 */
static int slot_blocking(int fd)
{
#ifdef MSG_SLOT_SET_BLOCKING
	return ioctl(fd, MSG_SLOT_SET_BLOCKING, 1);
#else
	(void)fd;
	errno = ENOTSUP;
	return -1;
#endif
}

static __attribute__((noreturn)) void pp_child(void *arg, int ready)
{
	struct pp *p = arg;
	unsigned char m[MAXMSG];
	size_t want = p->kind == PP_EVENTFD ? 8 : p->len;

	if (is_slot(p->kind)) {
		p->c_in = open_slot(p->slot, p->ch_req);
		p->c_out = open_slot(p->slot, p->ch_rep);
		if (p->c_in < 0 || p->c_out < 0)
			_exit(1);
		slot_drain(p->c_in);
		if (p->kind == PP_SLOT_BLOCK && slot_blocking(p->c_in) < 0)
			_exit(1);
	}
	if (write(ready, "r", 1) != 1)
		_exit(1);
	for (;;) {
		if (pp_recv(p, p->c_in, p->q_req, m) != (ssize_t)want)
			_exit(1);
		if (pp_send(p, p->c_out, p->q_rep, m) != (ssize_t)want)
			_exit(1);
	}
}

static int pp_setup(struct pp *p)
{
	int a[2], b[2];

	switch (p->kind) {
	case PP_SLOT:
	case PP_SLOT_BLOCK:
		p->p_out = open_slot(p->slot, p->ch_req);
		if (p->p_out < 0)
			return -1;
		p->p_in = open_slot(p->slot, p->ch_rep);
		if (p->p_in < 0)
			return -1;
		slot_drain(p->p_in);
		if (p->kind == PP_SLOT_BLOCK)
			return slot_blocking(p->p_in);
		return 0;
	case PP_PIPE:
	case PP_PIPE_POLL:
		if (pipe(a) < 0 || pipe(b) < 0)
			return -1;
		p->p_out = a[1];
		p->c_in = a[0];
		p->c_out = b[1];
		p->p_in = b[0];
		return 0;
	case PP_SOCK:
		if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, a) < 0)
			return -1;
		p->p_out = p->p_in = a[0];
		p->c_out = p->c_in = a[1];
		return 0;
	case PP_MQ:
		p->q_req = open_mq("/kipc-bench-req");
		p->q_rep = open_mq("/kipc-bench-rep");
		return p->q_req == (mqd_t)-1 || p->q_rep == (mqd_t)-1 ? -1 : 0;
	case PP_EVENTFD:
		p->p_out = p->c_in = eventfd(0, 0);
		p->c_out = p->p_in = eventfd(0, 0);
		return p->p_out < 0 || p->p_in < 0 ? -1 : 0;
	}
	return -1;
}

static void pp_close(struct pp *p)
{
	int fds[] = { p->p_out, p->p_in, p->c_in, p->c_out };

	for (int i = 0; i < 4; i++) {
		for (int j = 0; j < i; j++)
			if (fds[j] == fds[i])
				fds[i] = -1;
		if (fds[i] >= 0)
			close(fds[i]);
	}
	if (p->q_req != (mqd_t)-1)
		mq_close(p->q_req);
	if (p->q_rep != (mqd_t)-1)
		mq_close(p->q_rep);
}

static void pp_stop(struct pp *p)
{
	int st;

	if (p->child > 0) {
		kill(p->child, SIGKILL);
		waitpid(p->child, &st, 0);
	}
	pp_close(p);
}

/* Set up P and fork its echo child; 0, or -1 after reporting a skip. */
static int pp_start(struct pp *p, const char *mech)
{
	if (pp_setup(p) < 0) {
		bench_skip("msg", "pingpong", mech, "%s%s%s",
			   is_slot(p->kind) ? p->slot : "",
			   is_slot(p->kind) ? ": " : "", strerror(errno));
		pp_close(p);
		return -1;
	}
	p->child = bench_spawn(pp_child, p);
	if (p->child < 0) {
		bench_skip("msg", "pingpong", mech, "child failed to start");
		pp_stop(p);
		return -1;
	}
	return 0;
}

/*
 * A node of its own (minor 64 + IDX of the slot's major, in /tmp) for a
 * slot case, so that its waiters share no wait queue with other cases, as
 * each pipe has its own; IDX -1 gives the herd node (minor 63) shared with
 * HERD idle pollers, IDX -2 the big herd's (minor 62, HERD_BIG pollers).
 * Falls back to SLOT itself if the node can't be made.
 */
#define HERD 4
#define HERD_BIG 64
static const char *slot_node(const char *slot, int idx, char *buf)
{
	unsigned int minor = (unsigned int)(64 + idx);
	struct stat st;

	if (stat(slot, &st) < 0 || !S_ISCHR(st.st_mode) || minor > 255)
		return slot;
	snprintf(buf, 64, "/tmp/kipc-bench-slot.%u", minor);
	if (mknod(buf, S_IFCHR | 0600, makedev(major(st.st_rdev), minor)) < 0 &&
	    errno != EEXIST)
		return slot;
	return buf;
}

/* A child that waits forever in poll() on CHANNEL of DEV (never written). */
static pid_t idle_poller(const char *dev, unsigned int channel)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open_slot(dev, channel);

		if (fd < 0)
			_exit(1);
		slot_drain(fd);
		for (;;)
			wait_readable(fd);
	}
	return pid;
}

/*
 * Every ping-pong case runs at once (one idle echo child each) and is
 * sampled in rounds.  With SAME_CPU, parent and children are bound to the
 * guest's CPU 0, so a round trip is two context switches on one vCPU;
 * otherwise the guest scheduler places them (usually on both vCPUs, where
 * every wake-up is an inter-processor interrupt between two host threads).
 */
static void pingpong(const char *slot, int same_cpu)
{
	static const struct { enum pp_kind kind; const char *mech; } k[] = {
		{ PP_SLOT, "slot+poll" },
		{ PP_SLOT, "slot+poll-herd" },
		{ PP_SLOT, "slot+poll-herd64" },
		{ PP_SLOT_BLOCK, "slot+blocking" },
		{ PP_PIPE, "pipe" },
		{ PP_PIPE_POLL, "pipe+poll" },
		{ PP_SOCK, "socketpair" },
		{ PP_MQ, "mq" },
	};
	enum { NS = sizeof(sizes) / sizeof(sizes[0]),
	       NK = sizeof(k) / sizeof(k[0]) };
	static struct pp pp[NS * NK + 1];
	static char nodes[NS * NK + 1][64];
	struct bench_case bc[NS * NK + 1];
	const char *name = same_cpu ? "pingpong-1cpu" : "pingpong-2cpu";
	pid_t idle[HERD + HERD_BIG];
	cpu_set_t all, one;
	int n = 0;

	if (sched_getaffinity(0, sizeof(all), &all) < 0)
		bench_die("sched_getaffinity");
	if (same_cpu) {
		CPU_ZERO(&one);
		CPU_SET(0, &one);
		if (sched_setaffinity(0, sizeof(one), &one) < 0)
			bench_die("sched_setaffinity");
	}
	memset(bc, 0, sizeof(bc));
	for (size_t s = 0; s <= NS; s++) {
		for (size_t i = 0; i < NK; i++) {
			struct pp *p = &pp[n];
			enum pp_kind kind = k[i].kind;
			const char *mech = k[i].mech;

			if (s == NS) {	/* eventfd: 8 bytes, once */
				if (i)
					break;
				kind = PP_EVENTFD;
				mech = "eventfd";
			}
			/* The herd cases: 128 bytes only, on the shared nodes. */
			if (!strncmp(mech, "slot+poll-herd", 14) &&
			    sizes[s] != 128)
				continue;
			*p = (struct pp){ .kind = kind, .slot = slot,
				.len = s < NS ? (size_t)sizes[s] : 8,
				.p_out = -1, .p_in = -1, .c_in = -1, .c_out = -1,
				.q_req = (mqd_t)-1, .q_rep = (mqd_t)-1,
				/* Channels of their own per case and run. */
				.ch_req = 100 + 2 * (unsigned int)n +
					  (same_cpu ? 50 : 0),
				.ch_rep = 101 + 2 * (unsigned int)n +
					  (same_cpu ? 50 : 0) };
			if (is_slot(kind))
				p->slot = slot_node(slot,
					!strcmp(mech, "slot+poll-herd") ? -1 :
					!strcmp(mech, "slot+poll-herd64") ? -2 :
					n, nodes[n]);
			if (pp_start(p, mech) < 0)
				continue;
			bc[n].mech = mech;
			snprintf(bc[n].param, sizeof(bc[n].param), "%zu", p->len);
			bc[n].fn = loop_pingpong;
			bc[n].ctx = p;
			n++;
		}
	}
	for (int i = 0; i < HERD; i++)
		idle[i] = idle_poller(slot_node(slot, -1, nodes[NS * NK]),
				      9000 + (unsigned int)i);
	for (int i = HERD; i < HERD + HERD_BIG; i++)
		idle[i] = idle_poller(slot_node(slot, -2, nodes[NS * NK]),
				      9000 + (unsigned int)i);
	bench_group("msg", name, "ns/roundtrip", bc, n, 2);
	for (int i = 0; i < n; i++)
		pp_stop(&pp[i]);
	for (int i = 0; i < HERD + HERD_BIG; i++) {
		if (idle[i] > 0) {
			kill(idle[i], SIGKILL);
			waitpid(idle[i], NULL, 0);
		}
	}
	if (sched_setaffinity(0, sizeof(all), &all) < 0)
		bench_die("sched_setaffinity");
}

/* ---- 32 write+read pairs per io_uring_enter ------------------------- */

#define URING_PAIRS 32

struct uctx {
	struct io_uring ring;
	int wfd, rfd;
	unsigned char buf[MAXMSG], rbuf[URING_PAIRS][MAXMSG];
};

/* One iteration: 32 writes, each followed by a read, in one enter. */
static int loop_uring(void *p, long iters)
{
	struct uctx *u = p;
	struct io_uring_cqe *cqe;

	for (long i = 0; i < iters; i++) {
		for (int k = 0; k < URING_PAIRS; k++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

			/*
			 * Unlinked: inline requests run in submission order.
			 * (A pipe's read punted to io-wq just waits there.)
			 */
			io_uring_prep_write(sqe, 0, u->buf, MAXMSG, 0);
			sqe->flags |= IOSQE_FIXED_FILE;
			sqe = io_uring_get_sqe(&u->ring);
			io_uring_prep_read(sqe, 1, u->rbuf[k], MAXMSG, 0);
			sqe->flags |= IOSQE_FIXED_FILE;
		}
		if (io_uring_submit_and_wait(&u->ring, 2 * URING_PAIRS) !=
		    2 * URING_PAIRS)
			return -1;
		for (int k = 0; k < 2 * URING_PAIRS; k++) {
			if (io_uring_peek_cqe(&u->ring, &cqe) ||
			    cqe->res != MAXMSG) {
				errno = EPROTO;
				return -1;
			}
			io_uring_cqe_seen(&u->ring, cqe);
		}
	}
	return 0;
}

static void uring32(const char *slot)
{
	static struct uctx u[2];
	static struct ctx c[2];
	struct bench_case bc[4];
	int n = 0, fds[2];

	memset(bc, 0, sizeof(bc));
	for (int m = 0; m < 2; m++) {
		/* one submitter, completions without IPIs (6.0 and later) */
		if (io_uring_queue_init(2 * URING_PAIRS, &u[m].ring,
					IORING_SETUP_SINGLE_ISSUER |
					IORING_SETUP_COOP_TASKRUN) < 0 &&
		    io_uring_queue_init(2 * URING_PAIRS, &u[m].ring, 0) < 0)
			bench_die("io_uring_queue_init");
		memset(u[m].buf, 'u', sizeof(u[m].buf));
		if (m == 0) {
			u[m].wfd = u[m].rfd = open_slot(slot, 2);
			if (u[m].wfd < 0) {
				bench_skip("msg", "uring32", "slot+uring",
					   "%s: %s", slot, strerror(errno));
				continue;
			}
		} else {
			if (pipe(fds) < 0)
				bench_die("pipe");
			u[m].wfd = fds[1];
			u[m].rfd = fds[0];
		}
		/* registered files: no fget/fput per request (0 write, 1 read) */
		if (io_uring_register_files(&u[m].ring,
					    (int[]){ u[m].wfd, u[m].rfd }, 2) < 0)
			bench_die("io_uring_register_files");
		bc[n] = (struct bench_case){
			.mech = m ? "pipe+uring" : "slot+uring", .param = "128",
			.fn = loop_uring, .ctx = &u[m], .per = URING_PAIRS };
		n++;
		c[m].len = MAXMSG;
		memset(c[m].buf, 'p', sizeof(c[m].buf));
		if (m == 0) {
			c[m].wfd = c[m].rfd = open_slot(slot, 3);
		} else {
			if (pipe(fds) < 0)
				bench_die("pipe");
			c[m].wfd = fds[1];
			c[m].rfd = fds[0];
		}
		bc[n] = (struct bench_case){ .mech = m ? "pipe" : "slot",
					     .param = "128", .fn = loop_rw,
					     .ctx = &c[m] };
		n++;
	}
	bench_group("msg", "uring32", "ns/msg", bc, n, 4);
	for (int m = 0; m < 2; m++) {
		io_uring_queue_exit(&u[m].ring);
		for (int k = 0; k < 2; k++) {
			int w = k ? c[m].wfd : u[m].wfd;
			int r = k ? c[m].rfd : u[m].rfd;

			if (r > 0 && r != w)
				close(r);
			if (w > 0)
				close(w);
		}
	}
}

/* ---- mapped views ----------------------------------------------------- */

struct vctx {
	int fd;				/* the slot, on the viewed channel */
	const struct msg_slot_view *v;	/* its view (NULL: none mapped) */
	unsigned char buf[MAXMSG], rbuf[MAXMSG];
};

static int loop_view_read(void *p, long iters)
{
	struct vctx *c = p;

	for (long i = 0; i < iters; i++)
		if (kipc_slot_view_read(c->v, c->rbuf, MAXMSG, NULL) != MAXMSG)
			return -1;
	return 0;
}

static int loop_slot_read(void *p, long iters)
{
	struct vctx *c = p;

	for (long i = 0; i < iters; i++)
		if (read(c->fd, c->rbuf, MAXMSG) != MAXMSG)
			return -1;
	return 0;
}

static int loop_view_changed(void *p, long iters)
{
	struct vctx *c = p;
	uint64_t seq = kipc_slot_view_seq(c->v);

	for (long i = 0; i < iters; i++)
		if (kipc_slot_view_changed(c->v, seq))
			return -1;
	return 0;
}

static int loop_poll0(void *p, long iters)
{
	struct vctx *c = p;
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };

	for (long i = 0; i < iters; i++)
		if (poll(&pfd, 1, 0) < 0)
			return -1;
	return 0;
}

static int loop_write_view(void *p, long iters)
{
	struct vctx *c = p;

	for (long i = 0; i < iters; i++)
		if (write(c->fd, c->buf, MAXMSG) != MAXMSG ||
		    kipc_slot_view_read(c->v, c->rbuf, MAXMSG, NULL) != MAXMSG)
			return -1;
	return 0;
}

static int loop_write(void *p, long iters)
{
	struct vctx *c = p;

	for (long i = 0; i < iters; i++)
		if (write(c->fd, c->buf, MAXMSG) != MAXMSG)
			return -1;
	return 0;
}

static void views(const char *slot)
{
	static struct vctx viewed, plain;
	static struct ctx pipe_ctx;
	struct bench_case bc[6];
	int n = 0, fds[2];

	/* channel 4 with a mapped view, channel 5 without */
	viewed.fd = open_slot(slot, 4);
	plain.fd = open_slot(slot, 5);
	if (viewed.fd < 0 || plain.fd < 0) {
		bench_skip("msg", "view", "slot-view", "%s: %s", slot,
			   strerror(errno));
		return;
	}
	viewed.v = kipc_slot_view_map(viewed.fd, 4);
	if (!viewed.v) {
		bench_skip("msg", "view", "slot-view", "mmap: %s",
			   strerror(errno));
		return;
	}
	memset(viewed.buf, 'v', MAXMSG);
	memset(plain.buf, 'w', MAXMSG);
	if (write(viewed.fd, viewed.buf, MAXMSG) != MAXMSG ||
	    write(plain.fd, plain.buf, MAXMSG) != MAXMSG)
		bench_die("write");
	if (pipe(fds) < 0)
		bench_die("pipe");
	pipe_ctx = (struct ctx){ .wfd = fds[1], .rfd = fds[0], .len = MAXMSG };
	memset(pipe_ctx.buf, 'p', MAXMSG);
	memset(bc, 0, sizeof(bc));
	bc[n++] = (struct bench_case){ .mech = "slot-view", .param = "128",
				       .fn = loop_view_read, .ctx = &viewed };
	bc[n++] = (struct bench_case){ .mech = "slot-read", .param = "128",
				       .fn = loop_slot_read, .ctx = &viewed };
	bc[n++] = (struct bench_case){ .mech = "slot-view-changed",
				       .param = "0", .fn = loop_view_changed,
				       .ctx = &viewed };
	bc[n++] = (struct bench_case){ .mech = "slot-poll", .param = "0",
				       .fn = loop_poll0, .ctx = &viewed };
	bc[n++] = (struct bench_case){ .mech = "slot-write+view",
				       .param = "128", .fn = loop_write_view,
				       .ctx = &viewed };
	bc[n++] = (struct bench_case){ .mech = "pipe", .param = "128",
				       .fn = loop_rw, .ctx = &pipe_ctx };
	bench_group("msg", "view", "ns/msg", bc, n, 100);
	/* the writer's cost without a view, in a group of its own */
	memset(bc, 0, sizeof(bc));
	bc[0] = (struct bench_case){ .mech = "slot-write-viewed",
				     .param = "128", .fn = loop_write,
				     .ctx = &viewed };
	bc[1] = (struct bench_case){ .mech = "slot-write", .param = "128",
				     .fn = loop_write, .ctx = &plain };
	bench_group("msg", "view-write", "ns/msg", bc, 2, 100);
	kipc_slot_view_unmap(viewed.v);
	close(viewed.fd);
	close(plain.fd);
	close(fds[0]);
	close(fds[1]);
}

static int want(int argc, char **argv, int first, const char *part)
{
	for (int i = first; i < argc; i++)
		if (!strcmp(argv[i], part))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	int i = bench_options(argc, argv,
		"Usage: bench_msg [OPTIONS] [SLOT_DEVICE [PART...]]\n"
		"Message passing: write+read in one process and a ping-pong\n"
		"between two, through a message slot (SLOT_DEVICE, default\n"
		"/dev/slot0) and pipe, socketpair, POSIX mq, eventfd, getppid.\n"
		"PART: write+read, pingpong-1cpu, pingpong-2cpu, uring32, view\n"
		"(default: all).");
	const char *slot = i < argc ? argv[i++] : "/dev/slot0";
	int all = i >= argc;

	bench_header();
	if (all || want(argc, argv, i, "write+read"))
		write_read(slot);
	if (all || want(argc, argv, i, "pingpong-1cpu"))
		pingpong(slot, 1);
	if (all || want(argc, argv, i, "pingpong-2cpu"))
		pingpong(slot, 0);
	if (all || want(argc, argv, i, "uring32"))
		uring32(slot);
	if (all || want(argc, argv, i, "view"))
		views(slot);
	return 0;
}
