// SPDX-License-Identifier: GPL-2.0
/*
 * message_slot/nowait - a write that must not wait (pwritev2 with
 * RWF_NOWAIT; io_uring's inline attempt sets the same IOCB_NOWAIT) never
 * sleeps for the slot: while another writer holds the slot's mutex it
 * fails with EAGAIN and changes nothing, and an io_uring write issued then
 * still completes (io_uring retries it where it may wait).
 *
 * Holding the mutex from user space: no write sleeps inside it (the bytes
 * are copied from the user before it is taken), so the test stops the
 * holder there.  A writer process loops on write(2) on CPU 1; a SCHED_FIFO
 * spinner on the same CPU, woken on demand, preempts it wherever it is
 * (the kernel is switched to preempt=full for the test through
 * /sys/kernel/debug/sched/preempt), sometimes inside the mutex, and keeps
 * it off the CPU until the test says done (or HOLD_MS passed).  Each round
 * the test makes one RWF_NOWAIT write from CPU 0, which either succeeds at
 * once (the holder was stopped outside the mutex: the round proves
 * nothing), fails with EAGAIN (the holder was inside), or sleeps until the
 * spinner gives up: the defect, seen as a voluntary context switch in the
 * write.
 */
#include "lib/kt.h"
#include "lib/kt_slot.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define PREEMPT "/sys/kernel/debug/sched/preempt"
/* How long the spinner keeps the holder off its CPU at most (< RT throttle). */
#define HOLD_MS 500
/*
 * Rounds until the holder is caught inside the mutex: one round in a few
 * hundred does (the mutex is held for a small part of each write), so at
 * most this many, or ROUNDS_MS.
 */
#define ROUNDS 6000
#define ROUNDS_MS 60000

struct shared {
	atomic_int spinning;	/* the spinner runs (the holder does not) */
	atomic_int done;	/* the round is over: the spinner may sleep */
};

static struct shared *sh;
static pid_t holder, spinner;
static int go[2];
static char old_preempt[32];

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		_exit(91);
}

/* The holder: 128-byte writes to channel 1, forever, on CPU 1. */
static void run_holder(void)
{
	char msg[MSG_SLOT_MAX_MSG_LEN];
	int fd;

	pin(1);
	memset(msg, 'h', sizeof(msg));
	fd = kt_slot_child_open_chan(0, 1);
	for (;;)
		if (write(fd, msg, sizeof(msg)) != sizeof(msg))
			_exit(92);
}

/* The spinner: on each byte from GO, hog CPU 1 until done or HOLD_MS. */
static void run_spinner(void)
{
	struct sched_param sp = { .sched_priority = 50 };
	char c;

	pin(1);
	if (sched_setscheduler(0, SCHED_FIFO, &sp))
		_exit(93);
	while (read(go[0], &c, 1) == 1) {
		long t0 = kt_now_ms();

		atomic_store(&sh->spinning, 1);
		while (!atomic_load(&sh->done) && kt_now_ms() - t0 < HOLD_MS)
			;
		atomic_store(&sh->spinning, 0);
	}
	_exit(0);
}

static long voluntary_switches(void)
{
	struct rusage ru;

	assert_int_equal(getrusage(RUSAGE_THREAD, &ru), 0);
	return ru.ru_nvcsw;
}

static bool set_preempt(const char *mode)
{
	int fd = open(PREEMPT, O_WRONLY);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, mode, strlen(mode)) == (ssize_t)strlen(mode);
	close(fd);
	return ok;
}

/* The current mode: the word in parentheses of "none (voluntary) full". */
static void get_preempt(char *buf, size_t size)
{
	char line[128], *open_p, *close_p;
	FILE *f = fopen(PREEMPT, "r");

	buf[0] = '\0';
	if (!f)
		return;
	if (fgets(line, sizeof(line), f) && (open_p = strchr(line, '(')) &&
	    (close_p = strchr(open_p, ')')) &&
	    (size_t)(close_p - open_p - 1) < size) {
		memcpy(buf, open_p + 1, close_p - open_p - 1);
		buf[close_p - open_p - 1] = '\0';
	}
	fclose(f);
}

static int setup(void **state)
{
	if (kt_slot_setup(state))
		return -1;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return sh == MAP_FAILED ? -1 : 0;
}

static int teardown(void **state)
{
	munmap(sh, sizeof(*sh));
	return kt_slot_teardown(state);
}

/* Start the holder and the spinner; false (and a skip) if we cannot. */
static bool start_contention(void)
{
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("# needs 2 CPUs\n");
		return false;
	}
	get_preempt(old_preempt, sizeof(old_preempt));
	/* a debug kernel built with PREEMPT=y has no switch and is full */
	if (old_preempt[0] && strcmp(old_preempt, "full") &&
	    !set_preempt("full")) {
		printf("# cannot switch to preempt=full (%s)\n", PREEMPT);
		return false;
	}
	atomic_store(&sh->spinning, 0);
	atomic_store(&sh->done, 0);
	assert_int_equal(pipe(go), 0);
	holder = fork();
	assert_true(holder >= 0);
	if (!holder)
		run_holder();
	spinner = fork();
	assert_true(spinner >= 0);
	if (!spinner) {
		close(go[1]);
		run_spinner();
	}
	close(go[0]);
	pin(0);
	return true;
}

static void stop_contention(void)
{
	int status;

	atomic_store(&sh->done, 1);
	close(go[1]);
	kill(holder, SIGKILL);
	assert_int_equal(waitpid(holder, &status, 0), holder);
	assert_true(WIFSIGNALED(status));	/* not an exit: it wrote */
	assert_int_equal(waitpid(spinner, &status, 0), spinner);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (old_preempt[0])
		set_preempt(old_preempt);
}

/* Stop the holder on CPU 1, wherever it is, until end_round(). */
static void begin_round(void)
{
	atomic_store(&sh->done, 0);
	assert_int_equal(write(go[1], "g", 1), 1);
	while (!atomic_load(&sh->spinning))
		;
}

static void end_round(void)
{
	atomic_store(&sh->done, 1);
	while (atomic_load(&sh->spinning))
		;
}

static ssize_t write_nowait(int fd, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return pwritev2(fd, &iov, 1, -1, RWF_NOWAIT);
}

/* Without contention, RWF_NOWAIT writes store like write(2). */
static void test_nowait_uncontended(void **state)
{
	int fd = kt_slot_open_chan(0, 2);

	(void)state;
	assert_int_equal(write_nowait(fd, "first", 5), 5);
	kt_slot_expect_str(fd, "first");
	/* a longer message: a new entry, allocated without waiting */
	assert_int_equal(write_nowait(fd, "a longer second message", 23), 23);
	kt_slot_expect_str(fd, "a longer second message");
	kt_slot_chan(fd, 3);
	assert_int_equal(write_nowait(fd, "new channel", 11), 11);
	kt_slot_expect_str(fd, "new channel");
	close(fd);
}

/*
 * The holder caught inside the mutex: RWF_NOWAIT is EAGAIN at once and
 * stores nothing; it never sleeps.  An io_uring write submitted then
 * completes once the holder runs again.
 */
static void test_nowait_busy_slot(void **state)
{
	char msg[MSG_SLOT_MAX_MSG_LEN], back[MSG_SLOT_MAX_MSG_LEN];
	int fd = kt_slot_open_chan(0, 2), rounds, eagain = 0, free_rounds = 0;
	long slept_ms = -1, slept_sw = 0;
	int bad_errno = 0, uring_res = 0;
	struct io_uring ring;
	bool uring;

	(void)state;
	kt_slot_put_str(fd, "before");
	memset(msg, 'n', sizeof(msg));
	uring = io_uring_queue_init(4, &ring, 0) == 0;
	if (!start_contention()) {
		close(fd);
		if (uring)
			io_uring_queue_exit(&ring);
		skip();
	}
	long start = kt_now_ms();

	for (rounds = 0; rounds < ROUNDS && !eagain &&
	     kt_now_ms() - start < ROUNDS_MS; rounds++) {
		long sw, t0, ms;
		ssize_t r;
		int err;

		begin_round();
		sw = voluntary_switches();
		t0 = kt_now_ms();
		r = write_nowait(fd, msg, sizeof(msg));
		err = errno;
		ms = kt_now_ms() - t0;
		sw = voluntary_switches() - sw;
		if (r < 0 && err == EAGAIN) {
			struct io_uring_cqe *cqe;

			eagain++;
			slept_sw = sw;
			if (uring) {
				/* issued while the slot is busy */
				io_uring_prep_write(io_uring_get_sqe(&ring),
						    fd, msg, sizeof(msg), 0);
				io_uring_submit(&ring);
			}
			end_round();
			if (uring && !io_uring_wait_cqe(&ring, &cqe)) {
				uring_res = cqe->res;
				io_uring_cqe_seen(&ring, cqe);
			}
			break;
		}
		end_round();
		if (r < 0) {
			bad_errno = err;
			break;
		}
		if (sw) {
			slept_ms = ms;
			slept_sw = sw;
			break;
		}
		free_rounds++;
	}
	/* the processes go before any assertion can end the test */
	stop_contention();
	printf("# %d rounds: %d with the slot free, %d EAGAIN\n",
	       free_rounds + eagain, free_rounds, eagain);
	if (bad_errno || slept_ms >= 0) {
		/* leave the module unloadable for the teardown */
		close(fd);
		if (uring)
			io_uring_queue_exit(&ring);
	}
	if (bad_errno)
		fail_msg("RWF_NOWAIT write: %s", strerror(bad_errno));
	if (slept_ms >= 0)
		fail_msg("round %d: the RWF_NOWAIT write slept %ld ms (%ld voluntary switches) waiting for the preempted holder of the slot",
			 rounds, slept_ms, slept_sw);
	if (!eagain) {
		/*
		 * Not a defect of the driver: the precondition (a writer
		 * preempted inside the mutex) was never set up.  A write that
		 * slept or failed above has already failed the test.
		 */
		printf("# the holder was never caught inside the slot's mutex in %d rounds\n",
		       rounds);
		close(fd);
		if (uring)
			io_uring_queue_exit(&ring);
		skip();
	}
	/* EAGAIN at once, without sleeping */
	assert_int_equal(slept_sw, 0);
	if (uring)
		assert_int_equal(uring_res, sizeof(msg));
	else
		kt_slot_expect_str(fd, "before");
	if (uring) {
		assert_int_equal(read(fd, back, sizeof(back)), sizeof(msg));
		assert_memory_equal(back, msg, sizeof(msg));
		io_uring_queue_exit(&ring);
	}
	/* the slot is free again: RWF_NOWAIT stores */
	assert_int_equal(write_nowait(fd, "after", 5), 5);
	kt_slot_expect_str(fd, "after");
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nowait_uncontended),
		cmocka_unit_test(test_nowait_busy_slot),
	};

	return kt_run_group(tests, setup, teardown);
}
