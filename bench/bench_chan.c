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
 * Channels: SPSC, 64 slots, in MAP_SHARED anonymous memory across fork().
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>

#include "bench.h"

#include <kipc/chan.h>

#define SMALL 64
#define BIG (64 * 1024)

static char buf[BIG], src[BIG];

/* ---- ping-pong ---------------------------------------------------------- */

struct pp {
	int kind;		/* 0 chan, 1 pipe */
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

static __attribute__((noreturn)) void pp_child(void *arg, int ready)
{
	struct pp *p = arg;
	struct kipc_chan *rx = NULL, *tx = NULL;

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
		if (p->kind == 0) {
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

static struct kipc_chan *spsc(size_t slot)
{
	struct kipc_chan_attr a;
	struct kipc_chan *ch;

	kipc_chan_attr_init(&a);
	a.slot_size = (uint32_t)slot;
	a.slot_count = 64;
	ch = kipc_chan_create("anon", &a, KIPC_CHAN_NONE);
	if (!ch)
		bench_die("kipc_chan_create");
	return ch;
}

static pid_t pp_setup(struct pp *p, int kind, long spin, int cpu0)
{
	pid_t pid;

	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->spin = spin;
	p->cpu0 = cpu0;
	if (kind == 0) {
		p->ab = spsc(SMALL);
		p->ba = spsc(SMALL);
		p->tx = kipc_chan_peer(p->ab, KIPC_CHAN_SEND);
		p->rx = kipc_chan_peer(p->ba, KIPC_CHAN_RECV);
		if (!p->tx || !p->rx)
			bench_die("kipc_chan_peer");
		set_spin(p->tx, spin);
		set_spin(p->rx, spin);
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
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (p->kind == 0) {
		kipc_chan_close(p->tx);
		kipc_chan_close(p->rx);
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
	static struct pp p[3], q[2];
	struct bench_case bc[3], bq[2];
	pid_t pid[3], qid[2];

	memset(bc, 0, sizeof(bc));
	pid[0] = pp_setup(&p[0], 0, -2, 0);
	bc[0].mech = "kipc_chan";
	pid[1] = pp_setup(&p[1], 0, -1, 0);
	bc[1].mech = "kipc_chan-busy";
	pid[2] = pp_setup(&p[2], 1, 0, 0);
	bc[2].mech = "pipe";
	for (int i = 0; i < 3; i++) {
		bc[i].fn = pp_loop;
		bc[i].ctx = &p[i];
		snprintf(bc[i].param, sizeof(bc[i].param), "%d", SMALL);
	}
	bench_group("chan", "pingpong", "ns", bc, 3, 1);
	for (int i = 0; i < 3; i++)
		pp_teardown(&p[i], pid[i]);

	memset(bq, 0, sizeof(bq));
	qid[0] = pp_setup(&q[0], 0, 0, 1);
	bq[0].mech = "kipc_chan";
	qid[1] = pp_setup(&q[1], 1, 0, 1);
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
	int kind;		/* 0 chan copy, 1 chan zero-copy, 2 pipe */
	size_t size;
	struct kipc_chan *base, *rx;
	int fds[2];
	uint64_t seq;
};

static __attribute__((noreturn)) void st_child(void *arg, int ready)
{
	struct st *s = arg;
	struct kipc_chan *tx = NULL;

	if (s->kind != 2) {
		tx = kipc_chan_peer(s->base, KIPC_CHAN_SEND);
		if (!tx)
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

static int st_loop(void *arg, long iters)
{
	struct st *s = arg;

	for (long i = 0; i < iters; i++) {
		if (s->kind == 0) {
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

static void stream(size_t size)
{
	static struct st s[3];
	struct bench_case bc[3];
	const char *mech[3] = { "kipc_chan", "kipc_chan-zerocopy", "pipe" };
	pid_t pid[3];
	int n = 0;

	memset(bc, 0, sizeof(bc));
	for (int k = 0; k < 3; k++) {
		if (k == 1 && size == SMALL)
			continue;	/* 64 B: copying is the case */
		memset(&s[n], 0, sizeof(s[n]));
		s[n].kind = k;
		s[n].size = size;
		if (k == 2) {
			if (pipe(s[n].fds))
				bench_die("pipe");
			if (size > SMALL)
				fcntl(s[n].fds[1], F_SETPIPE_SZ, 1 << 20);
		} else {
			s[n].base = spsc(size);
			s[n].rx = kipc_chan_peer(s[n].base, KIPC_CHAN_RECV);
			if (!s[n].rx)
				bench_die("kipc_chan_peer");
		}
		pid[n] = bench_spawn(st_child, &s[n]);
		if (pid[n] < 0)
			bench_die("spawn");
		bc[n].mech = mech[k];
		bc[n].fn = st_loop;
		bc[n].ctx = &s[n];
		bc[n].rate = 1e9;	/* messages per second */
		snprintf(bc[n].param, sizeof(bc[n].param), "%zu", size);
		n++;
	}
	bench_group("chan", "stream", "msg/s", bc, n, 16);
	for (int i = 0; i < n; i++) {
		kill(pid[i], SIGKILL);
		waitpid(pid[i], NULL, 0);
		if (s[i].kind == 2) {
			close(s[i].fds[0]);
			close(s[i].fds[1]);
		} else {
			kipc_chan_close(s[i].rx);
			kipc_chan_close(s[i].base);
		}
	}
}

/* ---- system calls per message ---------------------------------------------- */

static void syscalls(long msgs)
{
	double v[5];
	int n = 5;

	for (int r = 0; r < n; r++) {
		struct kipc_chan *base = spsc(SMALL);
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
	bench_options(argc, argv,
		      "Usage: bench_chan [OPTIONS]\n"
		      "kipc channels against a pipe (area chan).");
	memset(src, 0x5a, sizeof(src));
	pingpong();
	stream(SMALL);
	stream(BIG);
	syscalls(bench_samples <= 5 ? 100000 : 1000000);
	return 0;
}
