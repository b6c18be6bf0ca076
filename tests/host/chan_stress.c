// SPDX-License-Identifier: GPL-2.0
/*
 * host/chan_stress - counting stress of every channel shape: numbered,
 * self-checking messages of varying length through small rings, so both
 * sides keep finding the ring full or empty and sleep and wake each other.
 * Every receiver checks that no message is lost, duplicated, reordered
 * within its sender or torn; pub/sub with DROP_OLDEST checks that what it
 * received plus what it was told it lost is everything, in order.
 *
 * No wake-up may be lost: every wait is unbounded (timeout -1) and the
 * library's safety slice is set to an hour (KIPC_CHAN_WAIT_SLICE_MS), so a
 * lost wake-up hangs the test and the watchdog fails it.  Half of the
 * endpoints never spin (every wait sleeps in the kernel).
 *
 * KIPC_CHAN_STRESS_MSGS: messages per case (default 100000); each case
 * prints "# stress chan_<case>: ops=N defects=0" like the guest stress tests.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <kipc/chan.h>

#include "chan_h.h"

static unsigned long nmsgs;

struct worker {
	struct kipc_chan *ch;
	uint32_t id;		/* sender id */
	uint32_t nsenders;	/* receivers: senders to expect */
	uint32_t slot;
	uint64_t count;		/* sender: messages to send */
	bool zero_copy;
	bool drop;		/* DROP_OLDEST receiver */
	bool slow;		/* receiver dawdles now and then */
	/* results */
	uint64_t got, lost, defects, waits, wakes;
	char why[160];
};

static void defect(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	if (!w->defects++) {
		va_start(ap, fmt);
		vsnprintf(w->why, sizeof(w->why), fmt, ap);
		va_end(ap);
	}
}

static void *sender(void *arg)
{
	struct worker *w = arg;

	for (uint64_t i = 0; i < w->count; i++) {
		uint32_t len = tm_len(w->id, i, w->slot);

		if (w->zero_copy && (i & 1)) {
			void *slot;

			if (kipc_chan_loan(w->ch, &slot, -1)) {
				defect(w, "loan: %s", strerror(errno));
				break;
			}
			tm_fill(slot, w->id, i, len);
			if (kipc_chan_publish(w->ch, len)) {
				defect(w, "publish: %s", strerror(errno));
				break;
			}
		} else {
			char buf[4096];

			tm_fill(buf, w->id, i, len);
			if (kipc_chan_send(w->ch, buf, len, -1)) {
				defect(w, "send: %s", strerror(errno));
				break;
			}
		}
	}
	return NULL;
}

static void *receiver(void *arg)
{
	struct worker *w = arg;
	uint64_t next[64] = { 0 };
	char buf[4096];

	for (uint64_t k = 0;; k++) {
		struct kipc_chan_msg m;
		struct tmsg h;
		const void *p;
		size_t n;
		uint64_t lost = 0;
		bool peeked = false;

		if (w->slow && k % 1024 == 0)
			usleep(200);
		if (w->zero_copy && (k & 1) && !w->drop) {
			if (kipc_chan_peek(w->ch, &m, -1)) {
				if (errno == EPIPE)
					break;
				defect(w, "peek: %s", strerror(errno));
				break;
			}
			p = m.data;
			n = m.len;
			lost = m.lost;
			peeked = true;
		} else {
			ssize_t r = kipc_chan_recv(w->ch, buf, sizeof(buf), -1);

			if (r < 0) {
				if (errno == EPIPE)
					break;
				defect(w, "recv: %s", strerror(errno));
				break;
			}
			p = buf;
			n = (size_t)r;
		}
		if (!tm_check(p, n, &h) || h.sender >= w->nsenders) {
			defect(w, "torn message at %llu (len %zu)",
			       (unsigned long long)w->got, n);
		} else if (w->drop) {
			(void)lost;
			if (h.seq < next[h.sender])
				defect(w, "seq %llu after %llu",
				       (unsigned long long)h.seq,
				       (unsigned long long)next[h.sender]);
			next[h.sender] = h.seq + 1;
		} else if (h.seq != next[h.sender]) {
			defect(w, "sender %u: seq %llu, expected %llu", h.sender,
			       (unsigned long long)h.seq,
			       (unsigned long long)next[h.sender]);
			next[h.sender] = h.seq + 1;
		} else {
			next[h.sender]++;
		}
		w->got++;
		if (peeked && kipc_chan_release(w->ch))
			defect(w, "release: %s", strerror(errno));
	}
	{
		struct kipc_chan_stat st;

		kipc_chan_stat(w->ch, &st);
		w->lost = st.lost;
		w->waits = st.waits;
		w->wakes = st.wakes;
	}
	return NULL;
}

static void sender_stats(struct worker *w)
{
	struct kipc_chan_stat st;

	kipc_chan_stat(w->ch, &st);
	w->waits = st.waits;
	w->wakes = st.wakes;
}

/* Run one in-process case: NS senders and NR receivers as threads. */
static void run_threads(const char *name, uint32_t shape, uint32_t policy,
			uint32_t ns, uint32_t nr, uint32_t slot, uint32_t count)
{
	struct kipc_chan_attr a;
	struct worker *w = calloc(ns + nr, sizeof(*w));
	pthread_t *t = calloc(ns + nr, sizeof(*t));
	struct kipc_chan *base;
	uint64_t per = nmsgs / ns, defects = 0, sys = 0, total = 0;

	assert_non_null(w);
	kipc_chan_attr_init(&a);
	a.shape = shape;
	a.policy = policy;
	a.slot_size = slot;
	a.slot_count = count;
	a.max_peers = ns > nr ? ns : nr;
	base = kipc_chan_create("anon", &a, KIPC_CHAN_NONE);
	assert_non_null(base);
	for (uint32_t i = 0; i < nr; i++) {
		struct worker *r = &w[ns + i];

		r->ch = kipc_chan_peer(base, KIPC_CHAN_RECV);
		assert_non_null(r->ch);
		r->nsenders = ns;
		r->zero_copy = i % 2 == 0;
		r->drop = policy == KIPC_CHAN_DROP_OLDEST;
		r->slow = r->drop && i == 0;
		if (i % 2)
			kipc_chan_set_spin(r->ch, 0);
	}
	for (uint32_t i = 0; i < ns; i++) {
		w[i].ch = kipc_chan_peer(base, KIPC_CHAN_SEND);
		assert_non_null(w[i].ch);
		w[i].id = i;
		w[i].slot = slot;
		w[i].count = per;
		w[i].zero_copy = i % 2 == 0;
		if (i % 2 == 0)
			kipc_chan_set_spin(w[i].ch, 0);
	}
	for (uint32_t i = 0; i < ns + nr; i++)
		assert_int_equal(pthread_create(&t[i], NULL,
						i < ns ? sender : receiver,
						&w[i]), 0);
	for (uint32_t i = 0; i < ns; i++) {
		pthread_join(t[i], NULL);
		sender_stats(&w[i]);
		kipc_chan_close(w[i].ch);	/* receivers then see EPIPE */
	}
	for (uint32_t i = ns; i < ns + nr; i++)
		pthread_join(t[i], NULL);
	for (uint32_t i = 0; i < ns + nr; i++) {
		defects += w[i].defects;
		sys += w[i].waits + w[i].wakes;
		if (w[i].defects)
			print_message("# %s: worker %u: %s\n", name, i, w[i].why);
	}
	for (uint32_t i = ns; i < ns + nr; i++) {
		struct worker *r = &w[i];

		total += r->got;
		if (r->drop) {
			if (r->got + r->lost != per * ns) {
				defects++;
				print_message("# %s: receiver %u got %llu + lost %llu != %llu\n",
					      name, i - ns,
					      (unsigned long long)r->got,
					      (unsigned long long)r->lost,
					      (unsigned long long)(per * ns));
			}
		} else if (r->got != per * ns) {
			defects++;
			print_message("# %s: receiver %u got %llu of %llu\n",
				      name, i - ns, (unsigned long long)r->got,
				      (unsigned long long)(per * ns));
		}
		kipc_chan_close(r->ch);
	}
	kipc_chan_close(base);
	print_message("# stress %s: ops=%llu defects=%llu futex_calls=%llu\n",
		      name, (unsigned long long)total,
		      (unsigned long long)defects, (unsigned long long)sys);
	free(w);
	free(t);
	assert_int_equal(defects, 0);
}

static void spsc_threads(void **state)
{
	(void)state;
	run_threads("chan_spsc", KIPC_CHAN_SPSC, 0, 1, 1, 256, 16);
}

static void mpsc_threads(void **state)
{
	(void)state;
	run_threads("chan_mpsc", KIPC_CHAN_MPSC, 0, 4, 1, 128, 8);
}

static void spmc_block_threads(void **state)
{
	(void)state;
	run_threads("chan_spmc_block", KIPC_CHAN_SPMC, KIPC_CHAN_BLOCK, 1, 3,
		    128, 16);
}

static void spmc_drop_threads(void **state)
{
	(void)state;
	run_threads("chan_spmc_drop", KIPC_CHAN_SPMC, KIPC_CHAN_DROP_OLDEST, 1,
		    3, 128, 16);
}

/*
 * Across processes: the channel in MAP_SHARED anonymous memory, senders
 * (MPSC) or receivers (SPMC) in forked children that report through a
 * shared results array.
 */
static void run_fork(const char *name, uint32_t shape, uint32_t nprocs)
{
	struct kipc_chan_attr a;
	struct kipc_chan *base, *me;
	struct worker *res = mmap(NULL, sizeof(*res) * nprocs,
				  PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint64_t per = nmsgs / (shape == KIPC_CHAN_MPSC ? nprocs : 1);
	uint64_t defects = 0, total = 0;
	pid_t pid[16];
	int status;

	assert_true(res != MAP_FAILED);
	memset(res, 0, sizeof(*res) * nprocs);
	kipc_chan_attr_init(&a);
	a.shape = shape;
	a.slot_size = 200;
	a.slot_count = 16;
	a.max_peers = nprocs;
	base = kipc_chan_create("anon", &a, KIPC_CHAN_NONE);
	assert_non_null(base);
	/* The parent's side first, so the children's peer calls can't
	 * take its record; receivers of SPMC attach before the sender runs. */
	me = kipc_chan_peer(base, shape == KIPC_CHAN_MPSC ? KIPC_CHAN_RECV :
							    KIPC_CHAN_SEND);
	assert_non_null(me);
	for (uint32_t c = 0; c < nprocs; c++) {
		struct worker *w = &res[c];

		w->slot = a.slot_size;
		w->id = c;
		w->count = per;
		w->nsenders = 1;
		w->zero_copy = c % 2 == 0;
		pid[c] = fork();
		assert_true(pid[c] >= 0);
		if (pid[c] == 0) {
			if (shape == KIPC_CHAN_MPSC) {
				w->ch = kipc_chan_peer(base, KIPC_CHAN_SEND);
				if (!w->ch)
					_exit(10);
				if (c % 2)
					kipc_chan_set_spin(w->ch, 0);
				sender(w);
				sender_stats(w);
			} else {
				w->ch = kipc_chan_peer(base, KIPC_CHAN_RECV);
				if (!w->ch)
					_exit(10);
				if (c % 2)
					kipc_chan_set_spin(w->ch, 0);
				receiver(w);
			}
			kipc_chan_close(w->ch);
			_exit(0);
		}
	}
	if (shape == KIPC_CHAN_MPSC) {
		struct worker r = { .ch = me, .nsenders = nprocs,
				    .zero_copy = true };

		receiver(&r);
		total = r.got;
		defects += r.defects;
		if (r.defects)
			print_message("# %s: receiver: %s\n", name, r.why);
		if (r.got != per * nprocs) {
			defects++;
			print_message("# %s: got %llu of %llu\n", name,
				      (unsigned long long)r.got,
				      (unsigned long long)(per * nprocs));
		}
	} else {
		struct worker s = { .ch = me, .slot = a.slot_size, .count = per,
				    .zero_copy = true };

		struct kipc_chan_stat st;

		/* Subscribers see what is sent after they attach. */
		do {
			usleep(1000);
			kipc_chan_stat(me, &st);
		} while (st.receivers < nprocs);
		sender(&s);
		defects += s.defects;
		kipc_chan_close(me);
		me = NULL;
	}
	for (uint32_t c = 0; c < nprocs; c++) {
		assert_int_equal(waitpid(pid[c], &status, 0), pid[c]);
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			defects++;
			print_message("# %s: child %u status %#x\n", name, c,
				      status);
		}
		defects += res[c].defects;
		if (res[c].defects)
			print_message("# %s: child %u: %s\n", name, c, res[c].why);
		if (shape == KIPC_CHAN_SPMC) {
			total += res[c].got;
			if (res[c].got != per) {
				defects++;
				print_message("# %s: child %u got %llu of %llu\n",
					      name, c,
					      (unsigned long long)res[c].got,
					      (unsigned long long)per);
			}
		}
	}
	if (me)
		kipc_chan_close(me);
	kipc_chan_close(base);
	munmap(res, sizeof(*res) * nprocs);
	print_message("# stress %s: ops=%llu defects=%llu\n", name,
		      (unsigned long long)total, (unsigned long long)defects);
	assert_int_equal(defects, 0);
}

static void mpsc_fork(void **state)
{
	(void)state;
	run_fork("chan_mpsc_fork", KIPC_CHAN_MPSC, 3);
}

static void spmc_fork(void **state)
{
	(void)state;
	run_fork("chan_spmc_fork", KIPC_CHAN_SPMC, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spsc_threads),
		cmocka_unit_test(mpsc_threads),
		cmocka_unit_test(spmc_block_threads),
		cmocka_unit_test(spmc_drop_threads),
		cmocka_unit_test(mpsc_fork),
		cmocka_unit_test(spmc_fork),
	};

	nmsgs = tc_env("KIPC_CHAN_STRESS_MSGS", 100000);
	if (nmsgs < 64)
		nmsgs = 64;
	setenv("KIPC_CHAN_WAIT_SLICE_MS", "3600000", 1);
	tc_watchdog((unsigned int)tc_env("KIPC_CHAN_STRESS_WATCHDOG", 300));
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
