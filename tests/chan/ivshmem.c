// SPDX-License-Identifier: GPL-2.0
/*
 * chan/ivshmem - <kipc/chan.h> in the ivshmem locale inside one guest:
 * "ivshmem:/dev/ivshmemN@OFFSET" on the ivshmem-doorbell device that
 * tests/run-suite attaches, between two processes (and two programs),
 * with doorbells -- not futexes -- as the wake-up (docs/chan.md "Wake-ups
 * across VMs"): the device's per-vector event counts must grow.  Also a
 * peer killed in this guest (EOWNERDEAD), closes (EPIPE), the poll
 * descriptor, a record of "another VM" that is judged by its heartbeat
 * only (killed, busy, stopped), and every error of the locale.  Between guests and the host:
 * tests/rig/chan-ivshmem.sh.
 */
#include "ivshmem/ivs.h"
#include "chan/progs.h"

#include <kipc/chan.h>
#include <kipc/myshm.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IN "/tmp/chan-ivs-in"
#define OUT "/tmp/chan-ivs-out"
#define BYTES (1u << 20)
#define OFF 65536u		/* the channel's offset in BAR2 */
#define MSGS 2000u

static char where[96];		/* "ivshmem:/dev/ivshmemN@65536" */
static size_t bar;		/* BAR2's size */

static int setup(void **state)
{
	if (make_input(IN, BYTES, 4321))
		return -1;
	if (load(state))
		return -1;
	if (bell[0]) {
		char v[32];

		snprintf(where, sizeof(where), "ivshmem:%s@%u", bell, OFF);
		read_attr(bell, "size", v, sizeof(v));
		bar = strtoull(v, NULL, 0);
	}
	return 0;
}

static int teardown(void **state)
{
	unlink(IN);
	unlink(OUT);
	return unload(state);
}

/* Zero the first MiB of the channel's region (no channel there). */
static void zero_region(void)
{
	int fd = xopen(bell, O_RDWR);
	void *p = mmap(NULL, OFF + (1u << 20), PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, 0);

	assert_true(p != MAP_FAILED);
	memset((char *)p + OFF, 0, 1u << 20);
	munmap(p, OFF + (1u << 20));
	close(fd);
}

/* A fresh default SPSC channel at OFF, this endpoint with ROLE. */
static struct kipc_chan *fresh(unsigned int role)
{
	struct kipc_chan_attr a;
	struct kipc_chan *ch;

	zero_region();
	kipc_chan_attr_init(&a);
	ch = kipc_chan_create(where, &a, role);
	assert_non_null(ch);
	return ch;
}

/* Event counts of the doorbell device's vectors 0 and 1 (sysfs). */
static void events(uint64_t ev[2])
{
	char v[128];

	read_attr(bell, "events", v, sizeof(v));
	ev[0] = ev[1] = 0;
	assert_int_equal(sscanf(v, "%" SCNu64 " %" SCNu64, &ev[0], &ev[1]), 2);
}

/* kipc-chan(1) pipes 1 MiB from one program to another, byte-exact. */
static void programs(void **state)
{
	(void)state;
	NEED(bell);
	zero_region();
	pipe_through(where, IN, OUT, BYTES);
}

/*
 * Two processes, a ring of 4 slots, no spinning: both sides sleep, and
 * every wake-up is a doorbell on the sleeper's vector (receivers 0,
 * senders 1): the device's event counts grow on both.  Numbered messages:
 * none lost, duplicated or reordered.
 */
static void doorbells(void **state)
{
	struct kipc_chan_attr a;
	struct kipc_chan_stat st;
	struct kipc_chan *tx;
	uint64_t before[2], after[2];
	pid_t pid;

	(void)state;
	NEED(bell);
	zero_region();
	kipc_chan_attr_init(&a);
	a.slot_size = 64;
	a.slot_count = 4;
	tx = kipc_chan_create(where, &a, KIPC_CHAN_SEND);
	assert_non_null(tx);
	assert_int_equal(kipc_chan_set_spin(tx, 0), 0);
	events(before);
	pid = fork();
	if (pid == 0) {
		struct kipc_chan *rx = kipc_chan_open(where, KIPC_CHAN_RECV);
		uint32_t m;

		if (!rx || kipc_chan_set_spin(rx, 0))
			_exit(10);
		for (uint32_t i = 0; i < MSGS; i++) {
			if (kipc_chan_recv(rx, &m, sizeof(m), 20000) != sizeof(m))
				_exit(11);
			if (m != i)
				_exit(12);
			if (i % 64 == 0)
				usleep(2000);	/* let the sender fill up */
		}
		if (kipc_chan_recv(rx, &m, sizeof(m), 20000) != -1 ||
		    errno != EPIPE)
			_exit(13);
		kipc_chan_stat(rx, &st);
		printf("# receiver: %" PRIu64 " waits, %" PRIu64 " wakes\n",
		       st.waits, st.wakes);
		if (!st.waits || !st.wakes)
			_exit(14);
		kipc_chan_close(rx);
		_exit(0);
	}
	assert_true(pid > 0);
	for (uint32_t i = 0; i < MSGS; i++) {
		assert_int_equal(kipc_chan_send(tx, &i, sizeof(i), 20000), 0);
		if (i % 50 == 0)
			usleep(3000);	/* let the receiver go to sleep */
	}
	assert_int_equal(kipc_chan_stat(tx, &st), 0);
	printf("# sender: %" PRIu64 " waits, %" PRIu64 " wakes for %u messages\n",
	       st.waits, st.wakes, MSGS);
	assert_true(st.waits > 0);
	assert_true(st.wakes > 0);
	assert_true(st.wakes <= MSGS);
	kipc_chan_close(tx);
	assert_int_equal(status_of(pid), 0);
	events(after);
	printf("# doorbell events: vector 0 +%" PRIu64 ", vector 1 +%" PRIu64 "\n",
	       after[0] - before[0], after[1] - before[1]);
	assert_true(after[0] > before[0]);	/* the receiver was rung */
	assert_true(after[1] > before[1]);	/* the sender was rung */
}

static int64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * The library judges a peer of this VM dead through /proc, and only when
 * both share a pid namespace (/proc/PID/ns/pid): a kernel without
 * namespaces (the tinyconfig-based debug kernels) has no such file, and
 * there no peer is ever judged (lib/chan.c, docs/chan.md "Peers that
 * die"): those cases skip.
 */
static void need_pidns(void)
{
	if (access("/proc/self/ns/pid", F_OK) == 0)
		return;
	printf("# no /proc/self/ns/pid (kernel without namespaces): peers are never judged dead here\n");
	skip();
}

/* A sender in this guest killed: EOWNERDEAD after its messages, < 2 s. */
static void dead_sender(void **state)
{
	struct kipc_chan *rx;
	int64_t t0;
	uint32_t m;
	pid_t pid;

	(void)state;
	NEED(bell);
	need_pidns();
	rx = fresh(KIPC_CHAN_RECV);
	pid = fork();
	if (pid == 0) {
		struct kipc_chan *tx = kipc_chan_open(where, KIPC_CHAN_SEND);

		for (uint32_t i = 0; tx && i < 3; i++)
			kipc_chan_send(tx, &i, sizeof(i), 1000);
		raise(SIGKILL);
		_exit(1);
	}
	assert_true(pid > 0);
	for (uint32_t i = 0; i < 3; i++) {
		assert_int_equal(kipc_chan_recv(rx, &m, sizeof(m), 10000),
				 sizeof(m));
		assert_int_equal(m, i);
	}
	assert_int_equal(status_of(pid), 1000 + SIGKILL);
	t0 = ms_now();
	assert_int_equal(kipc_chan_recv(rx, &m, sizeof(m), 10000), -1);
	assert_int_equal(errno, EOWNERDEAD);
	printf("# EOWNERDEAD after %" PRId64 " ms\n", ms_now() - t0);
	assert_true(ms_now() - t0 < SLACK_MS);
	kipc_chan_close(rx);
}

/*
 * A sender record of another ivshmem peer (another VM, or the host) whose
 * pid means nothing here: never judged by /proc (every guest's initial
 * pid namespace has the same inode) but by its heartbeat, which this
 * process keeps, so the receiver times out instead of declaring it dead.  Record 0 (the sender's) is the line at 320: pid at
 * +4, ivs_peer at +48 (docs/chan.md "Layout").
 */
static void other_vm_not_judged(void **state)
{
	struct kipc_chan *rx, *tx;
	unsigned char *mem;
	uint32_t m, me;
	int fd;

	(void)state;
	NEED(bell);
	need_pidns();
	rx = fresh(KIPC_CHAN_RECV);
	tx = kipc_chan_open(where, KIPC_CHAN_SEND);
	assert_non_null(tx);
	fd = xopen(bell, O_RDWR);
	me = my_id(fd);
	mem = mmap(NULL, OFF + 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(mem != MAP_FAILED);
	assert_int_equal(*(uint32_t *)(mem + OFF + 320 + 48), me);
	*(uint32_t *)(mem + OFF + 320 + 4) = 0x3ffffff0;	/* no such pid */
	*(uint32_t *)(mem + OFF + 320 + 48) = me + 1;		/* elsewhere */
	assert_int_equal(kipc_chan_recv(rx, &m, sizeof(m), 700), -1);
	assert_int_equal(errno, ETIMEDOUT);
	/* the same record back in this guest: now it is judged, and dead */
	*(uint32_t *)(mem + OFF + 320 + 48) = me;
	assert_int_equal(kipc_chan_recv(rx, &m, sizeof(m), 5000), -1);
	assert_int_equal(errno, EOWNERDEAD);
	munmap(mem, OFF + 4096);
	close(fd);
	kipc_chan_close(tx);	/* its record was reaped: frees its copy */
	kipc_chan_close(rx);
}

/*
 * A sender that poses as another VM: opens its endpoint, then rewrites its
 * own record's ivs_peer to another id (docs/chan.md "Heartbeats"), so the
 * receiver can judge it only by its heartbeat.  Sends one message, tells
 * the parent through PIPE_W, then runs BODY's choice: 0 wait (to be
 * killed or stopped), 1 sleep 3 s outside the library then send a second
 * message and close.  Stopped and continued (0): sends until the ring is
 * full; its wait must fail with ECONNRESET (a peer reaped it): exit 0.
 */
static volatile sig_atomic_t continued;

static void elsewhere_sender(int pipe_w, int body)
{
	struct kipc_chan *tx = kipc_chan_open(where, KIPC_CHAN_SEND);
	int fd = open(bell, O_RDWR);
	unsigned char *mem;
	uint32_t one = 1;

	if (!tx || fd < 0)
		_exit(10);
	mem = mmap(NULL, OFF + 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		_exit(11);
	*(volatile uint32_t *)(mem + OFF + 320 + 48) = my_id(fd) + 1;
	if (kipc_chan_send(tx, &one, sizeof(one), 1000))
		_exit(12);
	if (write(pipe_w, "x", 1) != 1)
		_exit(13);
	if (body == 1) {
		sleep(3);
		one = 2;
		if (kipc_chan_send(tx, &one, sizeof(one), 1000))
			_exit(14);
		kipc_chan_close(tx);
		_exit(0);
	}
	/* until SIGCONT after SIGSTOP (or SIGKILL); it may come before here */
	while (!continued)
		usleep(10000);
	for (int i = 0; i < 1000; i++)
		if (kipc_chan_send(tx, &one, sizeof(one), 5000))
			_exit(errno == ECONNRESET ? 0 : 15);
	_exit(16);
}

static void on_cont(int sig)
{
	(void)sig;
	continued = 1;
}

/* Fork elsewhere_sender(BODY) on a fresh channel; wait for its message. */
static pid_t elsewhere(struct kipc_chan **rx, int body)
{
	int p[2];
	pid_t pid;
	uint32_t m;
	char c;

	*rx = fresh(KIPC_CHAN_RECV);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		signal(SIGCONT, on_cont);
		close(p[0]);
		elsewhere_sender(p[1], body);
	}
	assert_true(pid > 0);
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	assert_int_equal(kipc_chan_recv(*rx, &m, sizeof(m), 5000), sizeof(m));
	assert_int_equal(m, 1);
	return pid;
}

/*
 * Heartbeats: a sender of "another VM" killed is judged dead by its
 * heartbeat standing still: EOWNERDEAD within the bound (2 s) plus two
 * slices, and not before most of the bound (nothing else could judge it).
 */
static void heartbeat_killed(void **state)
{
	struct kipc_chan *rx;
	int64_t t0, ms;
	uint32_t m;
	pid_t pid;

	(void)state;
	NEED(bell);
	pid = elsewhere(&rx, 0);
	kill(pid, SIGKILL);
	t0 = ms_now();
	assert_int_equal(status_of(pid), 1000 + SIGKILL);
	assert_int_equal(kipc_chan_recv(rx, &m, sizeof(m), 10000), -1);
	assert_int_equal(errno, EOWNERDEAD);
	ms = ms_now() - t0;
	printf("# killed elsewhere: EOWNERDEAD after %" PRId64 " ms\n", ms);
	assert_true(ms >= 1500 && ms < HB_SLACK_MS);
	kipc_chan_close(rx);
}

/*
 * A live peer busy outside the library for 3 s (longer than the bound)
 * still heartbeats (its process's thread does): not judged; its next
 * message and its close arrive.
 */
static void heartbeat_busy(void **state)
{
	struct kipc_chan *rx;
	uint32_t m;
	pid_t pid;

	(void)state;
	NEED(bell);
	pid = elsewhere(&rx, 1);
	assert_int_equal(kipc_chan_recv(rx, &m, sizeof(m), 10000), sizeof(m));
	assert_int_equal(m, 2);
	assert_int_equal(kipc_chan_recv(rx, &m, sizeof(m), 10000), -1);
	assert_int_equal(errno, EPIPE);
	assert_int_equal(status_of(pid), 0);
	kipc_chan_close(rx);
}

/*
 * A stopped peer (as a paused VM) looks dead: EOWNERDEAD.  Continued, it
 * finds itself reaped: its next wait fails with ECONNRESET.
 */
static void heartbeat_stopped(void **state)
{
	struct kipc_chan *rx;
	struct kipc_chan_stat st;
	int64_t t0;
	uint32_t m;
	pid_t pid;

	(void)state;
	NEED(bell);
	pid = elsewhere(&rx, 0);
	kill(pid, SIGSTOP);
	t0 = ms_now();
	assert_int_equal(kipc_chan_recv(rx, &m, sizeof(m), 10000), -1);
	assert_int_equal(errno, EOWNERDEAD);
	printf("# stopped elsewhere: EOWNERDEAD after %" PRId64 " ms\n",
	       ms_now() - t0);
	assert_int_equal(kipc_chan_stat(rx, &st), 0);
	assert_int_equal(st.senders, 0);
	kill(pid, SIGCONT);
	/* it fills the ring (64 slots) we leave alone, then must fail */
	assert_int_equal(status_of(pid), 0);
	kipc_chan_close(rx);
}

/* Closes: EPIPE both ways; a second SPSC receiver: EBUSY. */
static void closes(void **state)
{
	struct kipc_chan *rx, *tx;
	char buf[8];

	(void)state;
	NEED(bell);
	rx = fresh(KIPC_CHAN_RECV);
	assert_null(kipc_chan_open(where, KIPC_CHAN_RECV));
	assert_int_equal(errno, EBUSY);
	tx = kipc_chan_open(where, KIPC_CHAN_SEND);
	assert_non_null(tx);
	assert_int_equal(kipc_chan_send(tx, "last", 4, 0), 0);
	kipc_chan_close(tx);
	assert_int_equal(kipc_chan_recv(rx, buf, sizeof(buf), 1000), 4);
	assert_int_equal(kipc_chan_recv(rx, buf, sizeof(buf), 1000), -1);
	assert_int_equal(errno, EPIPE);
	tx = kipc_chan_open(where, KIPC_CHAN_SEND);
	assert_non_null(tx);
	kipc_chan_close(rx);
	assert_int_equal(kipc_chan_send(tx, "x", 1, 1000), -1);
	assert_int_equal(errno, EPIPE);
	kipc_chan_close(tx);
}

/* The poll descriptor is the endpoint's doorbell file: a send from
 * another process makes it readable. */
static void pollfd(void **state)
{
	struct kipc_chan *rx;
	struct pollfd p;
	char buf[8];
	pid_t pid;

	(void)state;
	NEED(bell);
	rx = fresh(KIPC_CHAN_RECV);
	p.fd = kipc_chan_pollfd(rx);
	assert_true(p.fd >= 0);
	p.events = POLLIN;
	assert_int_equal(kipc_chan_recv(rx, buf, sizeof(buf), 0), -1);
	assert_int_equal(errno, EAGAIN);	/* armed */
	assert_int_equal(poll(&p, 1, 0), 0);
	pid = fork();
	if (pid == 0) {
		struct kipc_chan *tx = kipc_chan_open(where, KIPC_CHAN_SEND);

		if (!tx || kipc_chan_send(tx, "poll", 4, 1000))
			_exit(1);
		pause();	/* stay attached until killed */
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(poll(&p, 1, 10000), 1);
	assert_true(p.revents & POLLIN);
	assert_int_equal(kipc_chan_recv(rx, buf, sizeof(buf), 0), 4);
	assert_memory_equal(buf, "poll", 4);
	kill(pid, SIGKILL);
	assert_int_equal(status_of(pid), 1000 + SIGKILL);
	kipc_chan_close(rx);
}

/* Every error of the locale; nothing is created by a failed call. */
static void errors(void **state)
{
	struct kipc_chan_attr a;
	struct kipc_chan *ch;
	char w[128];
	int fd;
	void *mem;

	(void)state;
	NEED(bell);
	zero_region();
	kipc_chan_attr_init(&a);
	errno = 0;
	assert_null(kipc_chan_open(where, KIPC_CHAN_RECV));
	assert_int_equal(errno, EAGAIN);		/* zeroed: no channel yet */
	snprintf(w, sizeof(w), "ivshmem:%s@100", bell);
	assert_null(kipc_chan_open(w, KIPC_CHAN_RECV));
	assert_int_equal(errno, EINVAL);		/* offset not page aligned */
	snprintf(w, sizeof(w), "ivshmem:%s@x", bell);
	assert_null(kipc_chan_create(w, &a, KIPC_CHAN_RECV));
	assert_int_equal(errno, EINVAL);
	assert_null(kipc_chan_open("ivshmem:dev/ivshmem0", KIPC_CHAN_RECV));
	assert_int_equal(errno, EINVAL);		/* not a path */
	snprintf(w, sizeof(w), "ivshmem:%s@%zu", bell, bar);
	assert_null(kipc_chan_open(w, KIPC_CHAN_RECV));
	assert_int_equal(errno, ENOSPC);		/* at the end of BAR2 */
	snprintf(w, sizeof(w), "ivshmem:%s@%zu", bell, bar * 2);
	assert_null(kipc_chan_create(w, &a, KIPC_CHAN_RECV));
	assert_int_equal(errno, ENOSPC);		/* beyond BAR2 */
	snprintf(w, sizeof(w), "ivshmem:%s@%zu", bell, bar - 4096);
	assert_null(kipc_chan_create(w, &a, KIPC_CHAN_RECV));
	assert_int_equal(errno, ENOSPC);		/* does not fit there */
	a.slot_size = 1 << 20;
	a.slot_count = 8;				/* 8 MiB > BAR2 */
	assert_null(kipc_chan_create(where, &a, KIPC_CHAN_SEND));
	assert_int_equal(errno, ENOSPC);
	kipc_chan_attr_init(&a);
	a.slot_count = 3;
	assert_null(kipc_chan_create(where, &a, KIPC_CHAN_SEND));
	assert_int_equal(errno, EINVAL);		/* not a power of 2 */
	kipc_chan_attr_init(&a);
	assert_null(kipc_chan_open("ivshmem:/dev/null", KIPC_CHAN_RECV));
	assert_int_equal(errno, EINVAL);		/* not an ivshmem device */
	assert_null(kipc_chan_open("ivshmem:/dev/ivshmem99", KIPC_CHAN_RECV));
	assert_int_equal(errno, ENOENT);
	if (plain[0]) {					/* no doorbells */
		snprintf(w, sizeof(w), "ivshmem:%s", plain);
		assert_null(kipc_chan_create(w, &a, KIPC_CHAN_RECV));
		assert_int_equal(errno, EOPNOTSUPP);
	}
	/* still nothing there: none of the calls above formatted it */
	assert_null(kipc_chan_open(where, KIPC_CHAN_RECV));
	assert_int_equal(errno, EAGAIN);

	/* wrong magic, wrong version: not a channel */
	fd = xopen(bell, O_RDWR);
	mem = mmap(NULL, OFF + 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(mem != MAP_FAILED);
	*(volatile uint32_t *)((char *)mem + OFF) = 0x12345678;
	assert_null(kipc_chan_open(where, KIPC_CHAN_RECV));
	assert_int_equal(errno, EPROTO);
	ch = kipc_chan_create(where, &a, KIPC_CHAN_RECV);
	assert_non_null(ch);
	*(volatile uint32_t *)((char *)mem + OFF + 4) = 2;
	assert_null(kipc_chan_open(where, KIPC_CHAN_SEND));
	assert_int_equal(errno, EPROTO);
	*(volatile uint32_t *)((char *)mem + OFF + 4) = 1;
	kipc_chan_close(ch);

	/* a futex channel (myshm: locale) is not a doorbell one, and back */
	snprintf(w, sizeof(w), "myshm:%s@%u", bell, OFF);
	ch = kipc_chan_create(w, &a, KIPC_CHAN_RECV);
	assert_non_null(ch);
	assert_null(kipc_chan_open(where, KIPC_CHAN_SEND));
	assert_int_equal(errno, EPROTO);
	kipc_chan_close(ch);
	ch = kipc_chan_create(where, &a, KIPC_CHAN_RECV);
	assert_non_null(ch);
	assert_null(kipc_chan_open(w, KIPC_CHAN_SEND));
	assert_int_equal(errno, EPROTO);
	kipc_chan_close(ch);
	munmap(mem, OFF + 4096);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(errors),
		cmocka_unit_test(closes),
		cmocka_unit_test(doorbells),
		cmocka_unit_test(programs),
		cmocka_unit_test(dead_sender),
		cmocka_unit_test(other_vm_not_judged),
		cmocka_unit_test(heartbeat_killed),
		cmocka_unit_test(heartbeat_busy),
		cmocka_unit_test(heartbeat_stopped),
		cmocka_unit_test(pollfd),
	};

	return kt_run_group(tests, setup, teardown);
}
