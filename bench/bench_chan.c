// SPDX-License-Identifier: GPL-2.0
/*
 * bench_chan - libkipc channels (<kipc/chan.h>) against a pipe, between two
 * processes (area "chan"; mechanism kipc_chan*):
 *   pingpong       ns per 64 B round trip, 2 CPUs: kipc_chan (the default
 *                  wait: bounded spin, then sleep), kipc_chan-busy (spin
 *                  forever), pipe
 *   pingpong-1cpu  the same with both processes pinned to CPU 0 and no
 *                  spinning: every wait sleeps (futex against pipe)
 *   stream         messages/s received, a child sending as fast as it can:
 *                  64 B (kipc_chan copying, pipe) and 64 KiB (kipc_chan
 *                  copying send/recv, kipc_chan-zerocopy loan/peek with the
 *                  sequence number written and checked in place, pipe)
 *   syscalls       system calls (futex waits + wakes, counted by the
 *                  library) per message in steady 64 B streaming with the
 *                  default wait, both sides together
 * Beside them, what users would pick instead (issue 27), in the ping-pong
 * (64 B) and stream (64 B, 64 KiB) rows: ZeroMQ over ipc:// between
 * processes (zmq-ipc) and inproc:// between two threads (zmq-inproc), nng
 * over ipc:// (nng-ipc), all PAIR sockets; Boost.Interprocess
 * message_queue is bench_chan_boost (C++).  A library's serving process is
 * this program exec'd afresh (--serve: nng refuses to run in a child
 * forked after it started); zmq-inproc's is a thread.
 * Channels: SPSC in MAP_SHARED anonymous memory across fork(); 64 slots,
 * except the 64 B stream, which gets 512 (64 KiB of slots, the pipe's
 * 64 KiB buffer; kipc_chan-64slots is the 64-slot ring beside it, and
 * kipc_chan-nospin the 512-slot one with no spinning at either end).
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>

#include "bench.h"

#include <kipc/chan.h>
#include <nng/nng.h>
#include <nng/protocol/pair0/pair.h>
#include <zmq.h>

#define SMALL 64
#define BIG (64 * 1024)
#define STREAM_SLOTS 512	/* 64 B stream: 64 KiB of slots, as a pipe */

static char buf[BIG], src[BIG];

/* ---- ZeroMQ and nng: one PAIR connection ------------------------------- */

enum { LIB_ZMQ_IPC, LIB_ZMQ_INPROC, LIB_NNG_IPC, NLIBS };

static const char *const lib_mech[NLIBS] = { "zmq-ipc", "zmq-inproc",
					     "nng-ipc" };

struct lib {
	int which;
	size_t size;		/* message size: sets the queue lengths */
	char url[96];
	void *zctx;		/* zmq-inproc: shared by both threads */
	void *zsock;
	nng_socket nsock;
	pthread_t thread;	/* zmq-inproc: the peer thread */
};

/* Queue lengths: 1000 messages (the libraries' default) of 64 B, 64 of 64 KiB. */
static int lib_queue(const struct lib *l)
{
	return l->size > SMALL ? 64 : 1000;
}

static void *zmq_pair(void *ctx, const struct lib *l)
{
	void *s = zmq_socket(ctx, ZMQ_PAIR);
	int hwm = lib_queue(l), zero = 0;

	if (s && (zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof(hwm)) ||
		  zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof(hwm)) ||
		  zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero)))) {
		zmq_close(s);
		return NULL;
	}
	return s;
}

/* One end: the serving side listens (LISTEN), the measuring side dials. */
static int lib_open(struct lib *l, int listen, void *zctx)
{
	if (l->which == LIB_NNG_IPC) {
		int q = lib_queue(l);

		if (nng_pair0_open(&l->nsock) ||
		    nng_socket_set_int(l->nsock, NNG_OPT_SENDBUF, q) ||
		    nng_socket_set_int(l->nsock, NNG_OPT_RECVBUF, q))
			return -1;
		return (listen ? nng_listen(l->nsock, l->url, NULL, 0) :
				 nng_dial(l->nsock, l->url, NULL, 0)) ? -1 : 0;
	}
	if (!zctx)
		zctx = l->zctx = zmq_ctx_new();
	l->zsock = zctx ? zmq_pair(zctx, l) : NULL;
	if (!l->zsock)
		return -1;
	return (listen ? zmq_bind(l->zsock, l->url) :
			 zmq_connect(l->zsock, l->url)) ? -1 : 0;
}

static int lib_send(struct lib *l, const void *p, size_t n)
{
	if (l->which == LIB_NNG_IPC)
		return nng_send(l->nsock, (void *)p, n, 0) ? -1 : 0;
	return zmq_send(l->zsock, p, n, 0) == (int)n ? 0 : -1;
}

static ssize_t lib_recv(struct lib *l, void *p, size_t n)
{
	if (l->which == LIB_NNG_IPC) {
		size_t got = n;

		return nng_recv(l->nsock, p, &got, 0) ? -1 : (ssize_t)got;
	}
	return zmq_recv(l->zsock, p, n, 0);
}

static void lib_url(struct lib *l, int which, size_t size, const char *what)
{
	static int serial;

	l->which = which;
	l->size = size;
	if (which == LIB_ZMQ_INPROC)
		snprintf(l->url, sizeof(l->url), "inproc://kipc-bench-%s-%d",
			 what, serial++);
	else
		snprintf(l->url, sizeof(l->url),
			 "ipc:///tmp/kipc-bench-%s-%s-%d-%d", lib_mech[which],
			 what, (int)getpid(), serial++);
}

/*
 * zmq-inproc: the serving end is a thread of this process with its own
 * socket on the shared context; SERVE runs it until the context is shut
 * down (ETERM), then it closes its socket.
 */
struct inproc {
	struct lib *l;
	void (*serve)(struct lib *peer);
	int ready[2];
};

static void *inproc_main(void *arg)
{
	struct inproc *ip = arg;
	struct lib peer = *ip->l;
	char r = 'r';

	peer.zsock = NULL;
	if (lib_open(&peer, 1, ip->l->zctx))
		r = 'x';
	if (write(ip->ready[1], &r, 1) != 1 || r != 'r') {
		if (peer.zsock)
			zmq_close(peer.zsock);
		return NULL;
	}
	ip->serve(&peer);
	zmq_close(peer.zsock);
	return NULL;
}

static void inproc_start(struct lib *l, void (*serve)(struct lib *peer))
{
	static struct inproc ip;
	char r;

	l->zctx = zmq_ctx_new();
	ip = (struct inproc){ .l = l, .serve = serve };
	if (!l->zctx || pipe(ip.ready) ||
	    pthread_create(&l->thread, NULL, inproc_main, &ip))
		bench_die("zmq-inproc setup");
	if (read(ip.ready[0], &r, 1) != 1 || r != 'r' ||
	    lib_open(l, 0, l->zctx))
		bench_die("zmq-inproc setup");
	close(ip.ready[0]);
	close(ip.ready[1]);
}

/*
 * Close the measuring end (and stop and join an inproc thread).  An ipc://
 * socket file outlives a serving process that was killed: remove it.
 */
static void lib_close(struct lib *l)
{
	if (l->which == LIB_NNG_IPC) {
		nng_close(l->nsock);
	} else {
		zmq_close(l->zsock);
		if (l->which == LIB_ZMQ_INPROC) {
			zmq_ctx_shutdown(l->zctx);
			pthread_join(l->thread, NULL);
		}
		zmq_ctx_term(l->zctx);
	}
	if (!strncmp(l->url, "ipc://", 6))
		unlink(l->url + 6);
}

/* After a group: nng's threads must not be inherited by the next fork(). */
static void libs_fini(void)
{
	nng_fini();
}

/* ---- ping-pong ---------------------------------------------------------- */

struct pp {
	int kind;		/* 0 chan, 1 pipe, 2 a library (lib) */
	int thread;		/* chan: the peer is a thread (peer_tid) */
	pthread_t peer_tid;
	struct kipc_chan *prx, *ptx;	/* the thread's endpoints */
	struct lib lib;
	long spin;		/* channel spin (ns, -1 busy, -2 default) */
	int cpu0;		/* pin both to CPU 0 */
	struct kipc_chan *ab, *ba;	/* bases: parent->child, child->parent */
	struct kipc_chan *tx, *rx;	/* the parent's endpoints */
	int p2c[2], c2p[2];
};

static void pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		bench_die("sched_setaffinity");
}

static void set_spin(struct kipc_chan *ch, long spin)
{
	if (spin != -2)
		kipc_chan_set_spin(ch, spin);
}

/* The serving end of a library: echo every 64 B message until it fails. */
static void pp_echo(struct lib *l)
{
	char b[SMALL];

	while (lib_recv(l, b, sizeof(b)) == SMALL && !lib_send(l, b, SMALL))
		;
}

static void st_send(struct lib *l);

/*
 * The serving end of a library in a process of its own: this program
 * exec'd with --serve MODE LIB SIZE URL READYFD (see lib_child).
 */
static int lib_serve(char **argv)
{
	struct lib l;

	memset(&l, 0, sizeof(l));
	l.which = atoi(argv[1]);
	l.size = strtoul(argv[2], NULL, 0);
	snprintf(l.url, sizeof(l.url), "%s", argv[3]);
	if (l.which < 0 || l.which >= NLIBS || l.size > BIG ||
	    lib_open(&l, 1, NULL) || write(atoi(argv[4]), "r", 1) != 1)
		return 1;
	if (!strcmp(argv[0], "pp"))
		pp_echo(&l);
	else
		st_send(&l);
	return 1;
}

/* bench_spawn() child: exec the serving end of library L (MODE pp or st). */
static __attribute__((noreturn)) void lib_child(const struct lib *l,
						const char *mode, int ready)
{
	char which[16], size[24], fd[16];

	snprintf(which, sizeof(which), "%d", l->which);
	snprintf(size, sizeof(size), "%zu", l->size);
	snprintf(fd, sizeof(fd), "%d", ready);
	execl("/proc/self/exe", "bench_chan", "--serve", mode, which, size,
	      l->url, fd, (char *)NULL);
	_exit(1);
}

static __attribute__((noreturn)) void pp_child(void *arg, int ready)
{
	struct pp *p = arg;
	struct kipc_chan *rx = NULL, *tx = NULL;

	if (p->kind == 2)
		lib_child(&p->lib, "pp", ready);

	if (p->cpu0)
		pin_cpu0();
	if (p->kind == 0) {
		rx = kipc_chan_peer(p->ab, KIPC_CHAN_RECV);
		tx = kipc_chan_peer(p->ba, KIPC_CHAN_SEND);
		if (!rx || !tx)
			_exit(1);
		set_spin(rx, p->spin);
		set_spin(tx, p->spin);
	}
	if (write(ready, "r", 1) != 1)
		_exit(1);
	for (;;) {
		if (p->kind == 0) {
			if (kipc_chan_recv(rx, buf, sizeof(buf), -1) != SMALL ||
			    kipc_chan_send(tx, buf, SMALL, -1))
				_exit(1);
		} else {
			if (read(p->p2c[0], buf, SMALL) != SMALL ||
			    write(p->c2p[1], buf, SMALL) != SMALL)
				_exit(1);
		}
	}
}

static int pp_loop(void *arg, long iters)
{
	struct pp *p = arg;

	for (long i = 0; i < iters; i++) {
		if (p->kind == 2) {
			if (lib_send(&p->lib, src, SMALL) ||
			    lib_recv(&p->lib, buf, SMALL) != SMALL)
				return -1;
		} else if (p->kind == 0) {
			if (kipc_chan_send(p->tx, src, SMALL, -1) ||
			    kipc_chan_recv(p->rx, buf, sizeof(buf), -1) != SMALL)
				return -1;
		} else {
			if (write(p->p2c[1], src, SMALL) != SMALL ||
			    read(p->c2p[0], buf, SMALL) != SMALL)
				return -1;
		}
	}
	return 0;
}

/* Pinned variant: pin around the loop, restore the old mask after. */
static int pp_loop_cpu0(void *arg, long iters)
{
	cpu_set_t old;
	int r;

	if (sched_getaffinity(0, sizeof(old), &old))
		return -1;
	pin_cpu0();
	r = pp_loop(arg, iters);
	sched_setaffinity(0, sizeof(old), &old);
	return r;
}

static struct kipc_chan *spsc_n(size_t slot, uint32_t count);

static struct kipc_chan *spsc(size_t slot)
{
	return spsc_n(slot, 64);
}

/* The peer thread of a threads ping-pong: echo until a side closes. */
static void *pp_thread(void *arg)
{
	struct pp *p = arg;

	while (kipc_chan_recv(p->prx, buf, sizeof(buf), -1) == SMALL &&
	       !kipc_chan_send(p->ptx, buf, SMALL, -1))
		;
	kipc_chan_close(p->prx);
	kipc_chan_close(p->ptx);
	return NULL;
}

/* KIND 2: library LIB (its serving end a child process, or a thread: 0). */
static pid_t pp_setup(struct pp *p, int kind, long spin, int cpu0, int lib)
{
	pid_t pid;

	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->spin = spin;
	p->cpu0 = cpu0;
	if (kind == 2) {
		lib_url(&p->lib, lib, SMALL, "pp");
		if (lib == LIB_ZMQ_INPROC) {
			inproc_start(&p->lib, pp_echo);
			return 0;
		}
		pid = bench_spawn(pp_child, p);
		if (pid < 0 || lib_open(&p->lib, 0, NULL))
			bench_die("library setup");
		return pid;
	}
	if (kind == 0) {
		p->ab = spsc(SMALL);
		p->ba = spsc(SMALL);
		p->tx = kipc_chan_peer(p->ab, KIPC_CHAN_SEND);
		p->rx = kipc_chan_peer(p->ba, KIPC_CHAN_RECV);
		if (!p->tx || !p->rx)
			bench_die("kipc_chan_peer");
		set_spin(p->tx, spin);
		set_spin(p->rx, spin);
		if (lib) {	/* kipc_chan-threads: the peer is a thread */
			p->thread = 1;
			p->prx = kipc_chan_peer(p->ab, KIPC_CHAN_RECV);
			p->ptx = kipc_chan_peer(p->ba, KIPC_CHAN_SEND);
			if (!p->prx || !p->ptx ||
			    pthread_create(&p->peer_tid, NULL, pp_thread, p))
				bench_die("kipc_chan-threads setup");
			return 0;
		}
	} else if (pipe(p->p2c) || pipe(p->c2p)) {
		bench_die("pipe");
	}
	pid = bench_spawn(pp_child, p);
	if (pid < 0)
		bench_die("spawn");
	return pid;
}

static void pp_teardown(struct pp *p, pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (p->kind == 2) {
		lib_close(&p->lib);
	} else if (p->kind == 0) {
		kipc_chan_close(p->tx);
		kipc_chan_close(p->rx);
		if (p->thread)
			pthread_join(p->peer_tid, NULL);
		kipc_chan_close(p->ab);
		kipc_chan_close(p->ba);
	} else {
		close(p->p2c[0]);
		close(p->p2c[1]);
		close(p->c2p[0]);
		close(p->c2p[1]);
	}
}

static void pingpong(void)
{
	static struct pp p[4 + NLIBS], q[2];
	struct bench_case bc[4 + NLIBS], bq[2];
	pid_t pid[4 + NLIBS], qid[2];
	int n = 4;

	memset(bc, 0, sizeof(bc));
	pid[0] = pp_setup(&p[0], 0, -2, 0, 0);
	bc[0].mech = "kipc_chan";
	pid[1] = pp_setup(&p[1], 0, -1, 0, 0);
	bc[1].mech = "kipc_chan-busy";
	pid[2] = pp_setup(&p[2], 1, 0, 0, 0);
	bc[2].mech = "pipe";
	pid[3] = pp_setup(&p[3], 0, -2, 0, 1);
	bc[3].mech = "kipc_chan-threads";
	/* The fork()ing libraries first: zmq-inproc is a thread. */
	for (int k = 0; k < NLIBS; k++, n++) {
		static const int order[NLIBS] = { LIB_NNG_IPC, LIB_ZMQ_IPC,
						  LIB_ZMQ_INPROC };

		pid[n] = pp_setup(&p[n], 2, 0, 0, order[k]);
		bc[n].mech = lib_mech[order[k]];
	}
	for (int i = 0; i < n; i++) {
		bc[i].fn = pp_loop;
		bc[i].ctx = &p[i];
		snprintf(bc[i].param, sizeof(bc[i].param), "%d", SMALL);
	}
	bench_group("chan", "pingpong", "ns", bc, n, 1);
	for (int i = 0; i < n; i++)
		pp_teardown(&p[i], pid[i]);
	libs_fini();

	memset(bq, 0, sizeof(bq));
	qid[0] = pp_setup(&q[0], 0, 0, 1, 0);
	bq[0].mech = "kipc_chan";
	qid[1] = pp_setup(&q[1], 1, 0, 1, 0);
	bq[1].mech = "pipe";
	for (int i = 0; i < 2; i++) {
		bq[i].fn = pp_loop_cpu0;
		bq[i].ctx = &q[i];
		snprintf(bq[i].param, sizeof(bq[i].param), "%d", SMALL);
	}
	bench_group("chan", "pingpong-1cpu", "ns", bq, 2, 1);
	for (int i = 0; i < 2; i++)
		pp_teardown(&q[i], qid[i]);
}

/* ---- streaming ------------------------------------------------------------ */

struct st {
	int kind;		/* 0 chan copy, 1 chan zero-copy, 2 pipe, 3 lib */
	int thread;		/* chan: the sender is a thread (tid, tx) */
	int nospin;		/* chan: both ends never spin (sleep at once) */
	pthread_t tid;
	struct kipc_chan *tx;
	struct lib lib;
	size_t size;
	struct kipc_chan *base, *rx;
	int fds[2];
	uint64_t seq;
};

/* The serving end of a library: send until it fails. */
static void st_send(struct lib *l)
{
	while (!lib_send(l, src, l->size))
		;
}

static __attribute__((noreturn)) void st_child(void *arg, int ready)
{
	struct st *s = arg;
	struct kipc_chan *tx = NULL;

	if (s->kind == 3)
		lib_child(&s->lib, "st", ready);
	if (s->kind != 2) {
		tx = kipc_chan_peer(s->base, KIPC_CHAN_SEND);
		if (!tx || (s->nospin && kipc_chan_set_spin(tx, 0)))
			_exit(1);
	}
	if (write(ready, "r", 1) != 1)
		_exit(1);
	for (uint64_t seq = 0;; seq++) {
		if (s->kind == 0) {
			if (kipc_chan_send(tx, src, s->size, -1))
				_exit(1);
		} else if (s->kind == 1) {
			void *slot;

			if (kipc_chan_loan(tx, &slot, -1))
				_exit(1);
			memcpy(slot, &seq, sizeof(seq));	/* made in place */
			kipc_chan_publish(tx, s->size);
		} else {
			for (size_t done = 0; done < s->size;) {
				ssize_t n = write(s->fds[1], src + done,
						  s->size - done);

				if (n <= 0)
					_exit(1);
				done += (size_t)n;
			}
		}
	}
}

/* The sending thread of a threads stream: until the receiver closes. */
static void *st_thread(void *arg)
{
	struct st *s = arg;

	while (!kipc_chan_send(s->tx, src, s->size, -1))
		;
	kipc_chan_close(s->tx);
	return NULL;
}

static int st_loop(void *arg, long iters)
{
	struct st *s = arg;

	for (long i = 0; i < iters; i++) {
		if (s->kind == 3) {
			if (lib_recv(&s->lib, buf, sizeof(buf)) !=
			    (ssize_t)s->size)
				return -1;
		} else if (s->kind == 0) {
			if (kipc_chan_recv(s->rx, buf, sizeof(buf), -1) !=
			    (ssize_t)s->size)
				return -1;
		} else if (s->kind == 1) {
			struct kipc_chan_msg m;
			uint64_t seq;

			if (kipc_chan_peek(s->rx, &m, -1))
				return -1;
			memcpy(&seq, m.data, sizeof(seq));	/* used in place */
			if (seq != s->seq++ || kipc_chan_release(s->rx))
				return -1;
		} else {
			for (size_t done = 0; done < s->size;) {
				ssize_t n = read(s->fds[0], buf + done,
						 s->size - done);

				if (n <= 0)
					return -1;
				done += (size_t)n;
			}
		}
	}
	return 0;
}

static struct kipc_chan *spsc_n(size_t slot, uint32_t count)
{
	struct kipc_chan_attr a;
	struct kipc_chan *ch;

	kipc_chan_attr_init(&a);
	a.slot_size = (uint32_t)slot;
	a.slot_count = count;
	ch = kipc_chan_create("anon", &a, KIPC_CHAN_NONE);
	if (!ch)
		bench_die("kipc_chan_create");
	return ch;
}

static void stream(size_t size)
{
	enum { NK = 6, NCASE = NK + NLIBS };
	static struct st s[NCASE];
	struct bench_case bc[NCASE];
	/* the channel (64 B: 512 slots), zero-copy, pipe, 64 slots, threads */
	static const char *const mech[NK] = { "kipc_chan", "kipc_chan-zerocopy",
					      "pipe", "kipc_chan-64slots",
					      "kipc_chan-threads",
					      "kipc_chan-nospin" };
	static const int order[NLIBS] = { LIB_NNG_IPC, LIB_ZMQ_IPC,
					  LIB_ZMQ_INPROC };
	pid_t pid[NCASE];
	int n = 0;

	memset(bc, 0, sizeof(bc));
	for (int k = 0; k < NK + NLIBS; k++) {
		struct st *c = &s[n];

		if ((k == 1 && size == SMALL) ||
		    ((k == 3 || k == 5) && size != SMALL))
			continue;	/* 64 B: copying; 64 KiB: 64 slots */
		memset(c, 0, sizeof(*c));
		c->kind = k >= 3 ? 0 : k;
		c->size = size;
		pid[n] = 0;
		if (k >= NK) {
			int which = order[k - NK];

			c->kind = 3;
			lib_url(&c->lib, which, size, "st");
			if (which == LIB_ZMQ_INPROC) {
				inproc_start(&c->lib, st_send);
			} else {
				pid[n] = bench_spawn(st_child, c);
				if (pid[n] < 0 || lib_open(&c->lib, 0, NULL))
					bench_die("library setup");
			}
			bc[n].mech = lib_mech[which];
		} else {
			if (k == 2) {
				if (pipe(c->fds))
					bench_die("pipe");
				if (size > SMALL)
					fcntl(c->fds[1], F_SETPIPE_SZ, 1 << 20);
			} else {
				c->base = spsc_n(size, size == SMALL && k != 3 ?
						 STREAM_SLOTS : 64);
				c->rx = kipc_chan_peer(c->base, KIPC_CHAN_RECV);
				if (!c->rx)
					bench_die("kipc_chan_peer");
				c->nospin = k == 5;
				if (c->nospin)
					kipc_chan_set_spin(c->rx, 0);
			}
			if (k == 4) {
				c->thread = 1;
				c->tx = kipc_chan_peer(c->base, KIPC_CHAN_SEND);
				if (!c->tx ||
				    pthread_create(&c->tid, NULL, st_thread, c))
					bench_die("kipc_chan-threads setup");
			} else {
				pid[n] = bench_spawn(st_child, c);
				if (pid[n] < 0)
					bench_die("spawn");
			}
			bc[n].mech = mech[k];
		}
		bc[n].fn = st_loop;
		bc[n].ctx = c;
		bc[n].rate = 1e9;	/* messages per second */
		snprintf(bc[n].param, sizeof(bc[n].param), "%zu", size);
		n++;
	}
	bench_group("chan", "stream", "msg/s", bc, n, 16);
	for (int i = 0; i < n; i++) {
		if (pid[i] > 0) {
			kill(pid[i], SIGKILL);
			waitpid(pid[i], NULL, 0);
		}
		if (s[i].kind == 3) {
			lib_close(&s[i].lib);
		} else if (s[i].kind == 2) {
			close(s[i].fds[0]);
			close(s[i].fds[1]);
		} else {
			kipc_chan_close(s[i].rx);
			if (s[i].thread)
				pthread_join(s[i].tid, NULL);
			kipc_chan_close(s[i].base);
		}
	}
	libs_fini();
}

/* ---- system calls per message ---------------------------------------------- */

static void syscalls(long msgs)
{
	double v[5];
	int n = 5;

	for (int r = 0; r < n; r++) {
		struct kipc_chan *base = spsc_n(SMALL, STREAM_SLOTS);
		struct kipc_chan *rx = kipc_chan_peer(base, KIPC_CHAN_RECV);
		struct kipc_chan_stat st;
		uint64_t theirs = 0;
		int fds[2];
		pid_t pid;

		if (!rx || pipe(fds))
			bench_die("setup");
		pid = fork();
		if (pid < 0)
			bench_die("fork");
		if (pid == 0) {
			struct kipc_chan *tx = kipc_chan_peer(base, KIPC_CHAN_SEND);

			for (long i = 0; tx && i < msgs; i++)
				if (kipc_chan_send(tx, src, SMALL, -1))
					_exit(1);
			kipc_chan_stat(tx, &st);
			theirs = st.waits + st.wakes;
			if (write(fds[1], &theirs, sizeof(theirs)) < 0)
				_exit(1);
			_exit(0);
		}
		for (long i = 0; i < msgs; i++)
			if (kipc_chan_recv(rx, buf, sizeof(buf), -1) != SMALL)
				bench_die("recv");
		kipc_chan_stat(rx, &st);
		if (read(fds[0], &theirs, sizeof(theirs)) != sizeof(theirs))
			bench_die("child");
		waitpid(pid, NULL, 0);
		v[r] = (double)(st.waits + st.wakes + theirs) / (double)msgs;
		close(fds[0]);
		close(fds[1]);
		kipc_chan_close(rx);
		kipc_chan_close(base);
	}
	bench_row("chan", "syscalls", "kipc_chan", "64", "syscalls/msg", v, n);
}

int main(int argc, char **argv)
{
	if (argc == 7 && !strcmp(argv[1], "--serve"))
		return lib_serve(argv + 2);
	bench_options(argc, argv,
		      "Usage: bench_chan [OPTIONS]\n"
		      "kipc channels against a pipe, ZeroMQ and nng (area chan).");
	memset(src, 0x5a, sizeof(src));
	pingpong();
	stream(SMALL);
	stream(BIG);
	syscalls(bench_samples <= 5 ? 100000 : 1000000);
	return 0;
}
