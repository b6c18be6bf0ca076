// SPDX-License-Identifier: GPL-2.0
/*
 * host/chan_fuzz - a hostile peer: a forked "vandal" process rewrites the
 * channel's shared header, records and slots at random (words and bytes,
 * geometry included) while a sender and a receiver process keep using the
 * channel, and this process keeps attaching fresh endpoints to it.
 *
 * Every call must succeed or fail with one of the errors the API documents
 * for a lying peer (EPROTO, EBADMSG, EPIPE, EOWNERDEAD, ESTALE, EAGAIN,
 * ETIMEDOUT, EBUSY); a peeked message must lie inside the mapping and be at most a
 * slot long; nothing may crash, hang (every call has a timeout; the
 * watchdog fails a hang) or draw a sanitizer report.  Then the same in one
 * thread with corruption between calls (no vandal process).
 *
 * KIPC_CHAN_FUZZ_SECONDS: seconds per shape with the vandal (default 2).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <cmocka.h>

#include <kipc/chan.h>

#include "chan_h.h"

static unsigned long seconds;

struct fz {
	unsigned char *mem;
	size_t len;
	uint32_t slot_size;
	struct kipc_chan *ch;
	int64_t until;
	uint64_t calls, fails, defects;
	uint64_t by_errno[160];
	char why[160];
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static bool allowed(int err)
{
	switch (err) {
	case EPROTO: case EBADMSG: case EPIPE: case ESTALE: case EAGAIN:
	case ETIMEDOUT: case EBUSY: case EOWNERDEAD:
		return true;
	default:
		return false;
	}
}

static void result(struct fz *f, int ok, const char *what)
{
	int err = errno;

	f->calls++;
	if (ok)
		return;
	f->fails++;
	if (err >= 0 && err < 160)
		f->by_errno[err]++;
	if (!allowed(err) && !f->defects++)
		snprintf(f->why, sizeof(f->why), "%s: errno %d (%s)", what, err,
			 strerror(err));
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *fz_sender(void *arg)
{
	struct fz *f = arg;
	uint64_t r = 0x1234567 ^ (uintptr_t)f;
	char buf[512];

	memset(buf, 0x5a, sizeof(buf));
	while (now_ms() < f->until) {
		size_t len = rnd(&r) % (f->slot_size + 1);
		int t = (int)(rnd(&r) % 3);

		if (rnd(&r) & 1) {
			result(f, !kipc_chan_send(f->ch, buf, len, t), "send");
		} else {
			void *slot;
			int ok = !kipc_chan_loan(f->ch, &slot, t);

			result(f, ok, "loan");
			if (!ok)
				continue;
			if ((unsigned char *)slot < f->mem ||
			    (unsigned char *)slot + f->slot_size > f->mem + f->len) {
				f->defects++;
				snprintf(f->why, sizeof(f->why), "loan outside");
				break;
			}
			memset(slot, 0x33, len);
			result(f, !kipc_chan_publish(f->ch, len), "publish");
		}
	}
	return NULL;
}

static void *fz_receiver(void *arg)
{
	struct fz *f = arg;
	uint64_t r = 0x7654321 ^ (uintptr_t)f;
	char buf[512];

	while (now_ms() < f->until) {
		int t = (int)(rnd(&r) % 3);

		if (rnd(&r) & 1) {
			ssize_t n = kipc_chan_recv(f->ch, buf, f->slot_size, t);

			result(f, n >= 0, "recv");
			if (n > (ssize_t)f->slot_size) {
				f->defects++;
				snprintf(f->why, sizeof(f->why), "recv %zd", n);
			}
		} else {
			struct kipc_chan_msg m;
			int ok = !kipc_chan_peek(f->ch, &m, t);
			const unsigned char *d;
			unsigned int sum = 0;

			result(f, ok, "peek");
			if (!ok)
				continue;
			d = m.data;
			if (d < f->mem || m.len > f->slot_size ||
			    d + m.len > f->mem + f->len) {
				f->defects++;
				snprintf(f->why, sizeof(f->why), "peek outside");
				break;
			}
			for (size_t i = 0; i < m.len; i++)
				sum += d[i];	/* touch it all (ASan) */
			(void)sum;
			result(f, !kipc_chan_release(f->ch), "release");
		}
	}
	return NULL;
}

/* The vandal: random words and bytes at random places, forever. */
static void vandal(unsigned char *mem, size_t len, size_t slots_off,
		   uint64_t seed)
{
	for (uint64_t i = 0;; i++) {
		uint64_t x = rnd(&seed);
		size_t off;

		switch (x % 8) {
		case 0:	/* geometry and header lines */
			off = (x >> 8) % slots_off;
			break;
		case 1: case 2:	/* the wait and state lines */
			off = 64 + (x >> 8) % (4 * 64);
			break;
		default:	/* slot headers, mostly */
			off = slots_off + (x >> 8) % (len - slots_off);
			if (x & 0x10000)
				off &= ~(size_t)63;
			break;
		}
		off &= ~(size_t)3;
		if (off + 4 > len)
			continue;
		if (x & 0x20000) {
			uint32_t v = (uint32_t)rnd(&seed);

			if (x & 0x40000)	/* plausible: near the old value */
				v = *(volatile uint32_t *)(mem + off) +
				    (uint32_t)((int)(v % 5) - 2);
			*(volatile uint32_t *)(mem + off) = v;
		} else {
			mem[off + (x >> 40) % 4] = (unsigned char)(x >> 48);
		}
		if (i % 16 == 0)
			usleep(100);
	}
}

/* Run FN(F) in a child process; returns its pid. */
static pid_t child(void *(*fn)(void *), struct fz *f)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		fn(f);
		_exit(0);
	}
	return pid;
}

/*
 * The sender, the receiver and the vandal are three processes (so a lie
 * that makes sender and receiver touch one slot at once is not a data race
 * inside one program for ThreadSanitizer to report: across processes it
 * is what the API expects from a hostile peer).  This process keeps
 * attaching fresh endpoints and using them meanwhile.
 */
static void fuzz_shape(uint32_t shape, uint32_t policy, const char *name)
{
	struct kipc_chan_attr a;
	struct kipc_chan *base, *tx, *rx;
	struct fz *f = mmap(NULL, 2 * sizeof(*f), PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct fz *fs = &f[0], *fr = &f[1];
	uint64_t attaches = 0, attach_fail = 0, defects = 0;
	unsigned char *mem;
	size_t len, slots_off;
	pid_t pid, ps, pr;
	int status;

	assert_true(f != MAP_FAILED);
	memset(f, 0, 2 * sizeof(*f));
	kipc_chan_attr_init(&a);
	a.shape = shape;
	a.policy = policy;
	a.slot_size = 200;
	a.slot_count = 8;
	a.max_peers = 4;
	base = kipc_chan_create("anon", &a, KIPC_CHAN_NONE);
	assert_non_null(base);
	tx = kipc_chan_peer(base, KIPC_CHAN_SEND);
	rx = kipc_chan_peer(base, KIPC_CHAN_RECV);
	assert_non_null(tx);
	assert_non_null(rx);
	{
		struct kipc_chan_stat st;

		kipc_chan_stat(base, &st);
		len = st.map_size;
	}
	{
		void *slot;

		assert_int_equal(kipc_chan_loan(tx, &slot, 0), 0);
		assert_int_equal(kipc_chan_publish(tx, 0), 0);
		/* slot 0's payload: 16 bytes into the first page after
		 * the header (docs/chan.md "Layout") */
		slots_off = 4096;
		mem = (unsigned char *)slot - 16 - slots_off;
	}
	fs->mem = fr->mem = mem;
	fs->len = fr->len = len;
	fs->slot_size = fr->slot_size = a.slot_size;
	fs->ch = tx;
	fr->ch = rx;
	fs->until = fr->until = now_ms() + (int64_t)seconds * 1000;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		vandal(mem, len, slots_off, 0x9e3779b97f4a7c15ull ^ shape);
		_exit(0);
	}
	ps = child(fz_sender, fs);
	pr = child(fz_receiver, fr);
	/* Meanwhile: fresh endpoints on the scribbled header. */
	while (now_ms() < fs->until) {
		struct kipc_chan *e = kipc_chan_attach(mem, len,
						       (attaches % 3));

		attaches++;
		if (!e) {
			attach_fail++;
			if (!allowed(errno)) {
				defects++;
				print_message("# %s: attach: %s\n", name,
					      strerror(errno));
			}
		} else {
			struct kipc_chan_msg m;
			char buf[256] = { 0 };

			if (attaches % 3 == KIPC_CHAN_RECV &&
			    !kipc_chan_peek(e, &m, 0)) {
				if ((const unsigned char *)m.data < mem ||
				    m.len > a.slot_size)
					defects++;
				kipc_chan_release(e);
			}
			if (attaches % 3 == KIPC_CHAN_SEND)
				kipc_chan_send(e, buf, 10, 0);
			kipc_chan_close(e);
		}
		usleep(500);
	}
	for (int i = 0; i < 2; i++) {
		pid_t p = i ? pr : ps;

		assert_int_equal(waitpid(p, &status, 0), p);
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			defects++;
			print_message("# %s: %s died: status %#x\n", name,
				      i ? "receiver" : "sender", status);
		}
	}
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	defects += fs->defects + fr->defects;
	if (fs->defects)
		print_message("# %s: sender: %s\n", name, fs->why);
	if (fr->defects)
		print_message("# %s: receiver: %s\n", name, fr->why);
	print_message("# fuzz %s: calls=%llu attaches=%llu defects=%llu "
		      "(failed: EPROTO %llu EBADMSG %llu EPIPE %llu ESTALE %llu "
		      "EAGAIN %llu ETIMEDOUT %llu; attach %llu)\n", name,
		      (unsigned long long)(fs->calls + fr->calls),
		      (unsigned long long)attaches, (unsigned long long)defects,
		      (unsigned long long)(fs->by_errno[EPROTO] + fr->by_errno[EPROTO]),
		      (unsigned long long)(fs->by_errno[EBADMSG] + fr->by_errno[EBADMSG]),
		      (unsigned long long)(fs->by_errno[EPIPE] + fr->by_errno[EPIPE]),
		      (unsigned long long)(fs->by_errno[ESTALE] + fr->by_errno[ESTALE]),
		      (unsigned long long)(fs->by_errno[EAGAIN] + fr->by_errno[EAGAIN]),
		      (unsigned long long)(fs->by_errno[ETIMEDOUT] + fr->by_errno[ETIMEDOUT]),
		      (unsigned long long)attach_fail);
	/* the calls really ran into the vandal's lies */
	assert_true(fs->calls + fr->calls > 100);
	kipc_chan_close(tx);
	kipc_chan_close(rx);
	kipc_chan_close(base);
	munmap(f, 2 * sizeof(*f));
	assert_int_equal(defects, 0);
}

static void fuzz_spsc(void **state)
{
	(void)state;
	fuzz_shape(KIPC_CHAN_SPSC, 0, "chan_spsc");
}

static void fuzz_mpsc(void **state)
{
	(void)state;
	fuzz_shape(KIPC_CHAN_MPSC, 0, "chan_mpsc");
}

static void fuzz_spmc_block(void **state)
{
	(void)state;
	fuzz_shape(KIPC_CHAN_SPMC, KIPC_CHAN_BLOCK, "chan_spmc_block");
}

static void fuzz_spmc_drop(void **state)
{
	(void)state;
	fuzz_shape(KIPC_CHAN_SPMC, KIPC_CHAN_DROP_OLDEST, "chan_spmc_drop");
}

/* One thread: corrupt, call, corrupt, call; every shape, many seeds. */
static void fuzz_inline(void **state)
{
	uint64_t seed = 42, calls = 0, defects = 0;

	(void)state;
	for (int round = 0; round < 3000; round++) {
		struct kipc_chan_attr a;
		size_t len;
		unsigned char *mem;
		struct kipc_chan *tx, *rx;
		char buf[128] = { 0 };

		kipc_chan_attr_init(&a);
		a.shape = 1 + round % 3;
		a.policy = a.shape == KIPC_CHAN_SPMC ? (round / 3) % 2 : 0;
		a.slot_size = 100;
		a.slot_count = 4;
		a.max_peers = 2;
		len = kipc_chan_size(&a);
		mem = tc_page_alloc(len);
		assert_non_null(mem);
		assert_int_equal(kipc_chan_format(mem, len, &a), 0);
		tx = kipc_chan_attach(mem, len, KIPC_CHAN_SEND);
		rx = kipc_chan_attach(mem, len, KIPC_CHAN_RECV);
		assert_non_null(tx);
		assert_non_null(rx);
		for (int i = 0; i < 40; i++) {
			uint64_t x = rnd(&seed);
			size_t off = (x >> 8) % len & ~(size_t)3;
			struct kipc_chan_msg m;
			ssize_t n;

			if (x % 3 == 0) {
				uint32_t v = (uint32_t)rnd(&seed);

				if (x & 0x100)
					v = (uint32_t)(x >> 20) % 16;
				memcpy(mem + off, &v, 4);
			}
			errno = 0;
			if (kipc_chan_send(tx, buf, x % 101, 0) < 0 &&
			    !allowed(errno))
				defects++;
			calls++;
			if (x & 0x200) {
				n = kipc_chan_recv(rx, buf, sizeof(buf), 0);
				if ((n < 0 && !allowed(errno)) || n > 100)
					defects++;
			} else if (!kipc_chan_peek(rx, &m, 0)) {
				if ((unsigned char *)m.data < mem ||
				    (unsigned char *)m.data + m.len > mem + len)
					defects++;
				if (kipc_chan_release(rx) < 0 && !allowed(errno))
					defects++;
			} else if (!allowed(errno)) {
				defects++;
			}
			calls++;
			/* attaching to the scribbled header */
			{
				struct kipc_chan *e = kipc_chan_attach(mem, len,
						KIPC_CHAN_NONE);

				if (!e && errno != EPROTO && errno != EAGAIN)
					defects++;
				kipc_chan_close(e);
			}
		}
		kipc_chan_close(tx);
		kipc_chan_close(rx);
		free(mem);
	}
	print_message("# fuzz chan_inline: calls=%llu defects=%llu\n",
		      (unsigned long long)calls, (unsigned long long)defects);
	assert_int_equal(defects, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fuzz_inline),
		cmocka_unit_test(fuzz_spsc),
		cmocka_unit_test(fuzz_mpsc),
		cmocka_unit_test(fuzz_spmc_block),
		cmocka_unit_test(fuzz_spmc_drop),
	};

	seconds = tc_env("KIPC_CHAN_FUZZ_SECONDS", 2);
	tc_watchdog(60 + 8 * (unsigned int)seconds);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
