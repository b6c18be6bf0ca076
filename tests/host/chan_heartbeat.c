// SPDX-License-Identifier: GPL-2.0
/*
 * host/chan_heartbeat - heartbeats of the ivshmem locales (docs/chan.md
 * "Heartbeats") on the host, no guest needed: this test runs a
 * kipc-ivshmem-server of its own, receives on "ivshmem-host:SOCK@OFF" and
 * exec's kipc-chan(1) senders (each its own server connection, so another
 * peer id: judged by its heartbeat, and by the server's peer list).
 *  - a sender stopped (SIGSTOP, as a paused VM; its connection stays, so
 *    only the heartbeat can tell): EOWNERDEAD within the bound (2 s) plus
 *    two slices; continued, its next wait fails with ECONNRESET and its
 *    close frees nothing twice (the channel counts 0 senders, not -1);
 *  - a sender busy outside the library (blocked reading its input) for
 *    3 s, longer than the bound: not judged, its messages and close
 *    arrive (EPIPE);
 *  - a sender killed: its connection closes, the server's "peer left"
 *    makes it dead at the next check (well under the heartbeat's bound);
 *  - a receiver stopped: the sender, waiting on a full ring, gets
 *    EOWNERDEAD; continued, the receiver gets ECONNRESET;
 *  - a pub/sub subscriber stopped: the BLOCK publisher is held back only
 *    until the bound, then it is dropped; continued: ECONNRESET.
 * Under ASan+UBSan and TSan: the heartbeat thread against attach, calls
 * and close.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <cmocka.h>

#include <kipc/chan.h>

#include "chan_h.h"

#define MSG 4000

static char dir[] = "/tmp/kipc-chan-hb.XXXXXX";
static char sock[64], tool[PATH_MAX], server[PATH_MAX];
static pid_t srv = -1;

static long long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* fork + exec ARGV, stdin from a new pipe (*FEED its write end, or none). */
static pid_t run(char *const argv[], int *feed, const char *err_path)
{
	int p[2] = { -1, -1 };
	pid_t pid;

	if (feed)
		assert_int_equal(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		int fd = open(err_path ? err_path : "/dev/null",
			      O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(120);
		if (feed && (close(p[1]) || dup2(p[0], 0) < 0))
			_exit(121);
		execv(argv[0], argv);
		_exit(122);
	}
	assert_true(pid > 0);
	if (feed) {
		close(p[0]);
		*feed = p[1];
	}
	return pid;
}

static int status_of(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + WTERMSIG(st);
}

/* The kipc-ivshmem-server and kipc-chan built beside this test. */
static int setup(void **state)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *argv[] = { server, "-F", "-S", sock, "-m", dir, "-l", "8M",
			 "-n", "2", NULL };
	struct stat st;
	const char *d;

	(void)state;
	if (n <= 0)
		return -1;
	self[n] = 0;
	/* build/user/host-tests/SAN/NAME -> build/user/tools/ */
	d = dirname(self);
	snprintf(tool, sizeof(tool), "%s/../../tools/kipc-chan", d);
	snprintf(server, sizeof(server), "%s/../../tools/kipc-ivshmem-server",
		 d);
	if (access(tool, X_OK) || access(server, X_OK) || !mkdtemp(dir))
		return -1;
	snprintf(sock, sizeof(sock), "%s/sock", dir);
	srv = fork();
	if (srv == 0) {
		execv(server, argv);
		_exit(122);
	}
	for (int i = 0; i < 100 && stat(sock, &st); i++)
		usleep(50000);
	return srv > 0 && !stat(sock, &st) ? 0 : -1;
}

static int teardown(void **state)
{
	char path[96];

	(void)state;
	if (srv > 0) {
		kill(srv, SIGTERM);
		waitpid(srv, NULL, 0);
	}
	snprintf(path, sizeof(path), "%s/err", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

/* A fresh channel at OFF (this test receives) and a kipc-chan sender. */
static struct kipc_chan *chan_at(unsigned int off, pid_t *sender, int *feed,
				 const char *err_path)
{
	static char where[96];
	static char msg[MSG];
	struct kipc_chan_attr a;
	struct kipc_chan *rx;
	char *argv[] = { tool, "-w", "5000", "send", where, NULL };
	char buf[MSG];

	snprintf(where, sizeof(where), "ivshmem-host:%s@%u", sock, off);
	kipc_chan_attr_init(&a);
	a.slot_size = MSG;
	a.slot_count = 8;
	rx = kipc_chan_create(where, &a, KIPC_CHAN_RECV);
	assert_non_null(rx);
	*sender = run(argv, feed, err_path);
	memset(msg, 'h', sizeof(msg));
	assert_int_equal(write(*feed, msg, sizeof(msg)), sizeof(msg));
	assert_int_equal(kipc_chan_recv(rx, buf, sizeof(buf), 10000), MSG);
	return rx;
}

/* Stopped: looks dead (EOWNERDEAD); continued: ECONNRESET, closed once. */
static void stopped_sender(void **state)
{
	static char msg[MSG * 16];
	struct kipc_chan_stat st;
	struct kipc_chan *rx;
	char err[96], text[256] = "";
	long long t0, ms;
	char buf[MSG];
	int feed, fd;
	ssize_t n;
	pid_t s;

	(void)state;
	snprintf(err, sizeof(err), "%s/err", dir);
	rx = chan_at(0, &s, &feed, err);
	kill(s, SIGSTOP);
	t0 = ms_now();
	assert_int_equal(kipc_chan_recv(rx, buf, sizeof(buf), 10000), -1);
	assert_int_equal(errno, EOWNERDEAD);
	ms = ms_now() - t0;
	printf("# stopped sender: EOWNERDEAD after %lld ms\n", ms);
	assert_true(ms >= 1500 && ms < HB_SLACK_MS);
	assert_int_equal(kipc_chan_stat(rx, &st), 0);
	assert_int_equal(st.senders, 0);
	kill(s, SIGCONT);
	/* more than the ring holds: it must wait, and learn it was reaped */
	memset(msg, 'c', sizeof(msg));
	assert_int_equal(write(feed, msg, sizeof(msg)), sizeof(msg));
	assert_int_equal(status_of(s), 1);
	close(feed);
	fd = open(err, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	text[n > 0 ? n : 0] = 0;
	printf("# its stderr: %s", text);
	assert_non_null(strstr(text, strerror(ECONNRESET)));
	/* its close after the reap took nothing more off */
	assert_int_equal(kipc_chan_stat(rx, &st), 0);
	assert_int_equal(st.senders, 0);
	kipc_chan_close(rx);
}

/* Busy outside the library for 3 s (> the bound): still alive. */
static void busy_sender(void **state)
{
	static char msg[MSG];
	struct kipc_chan *rx;
	char buf[MSG];
	int feed;
	pid_t s;

	pid_t w;

	(void)state;
	rx = chan_at(1u << 20, &s, &feed, NULL);
	memset(msg, 'b', sizeof(msg));
	w = fork();	/* its input comes 3 s later, while we wait */
	if (w == 0) {
		sleep(3);
		_exit(write(feed, msg, sizeof(msg)) == sizeof(msg) ? 0 : 1);
	}
	assert_true(w > 0);
	close(feed);
	assert_int_equal(kipc_chan_recv(rx, buf, sizeof(buf), 10000), MSG);
	assert_int_equal(status_of(w), 0);
	assert_int_equal(buf[0], 'b');
	/* its end of input: a 0-byte message, then the close */
	assert_int_equal(kipc_chan_recv(rx, buf, sizeof(buf), 10000), 0);
	assert_int_equal(kipc_chan_recv(rx, buf, sizeof(buf), 10000), -1);
	assert_int_equal(errno, EPIPE);
	assert_int_equal(status_of(s), 0);
	kipc_chan_close(rx);
}

/* Start kipc-chan recv on WHERE (output discarded); wait for N receivers. */
static pid_t receiver(struct kipc_chan *tx, const char *where, uint32_t n,
		      const char *err_path)
{
	char *argv[] = { tool, "-w", "5000", "recv", (char *)where, NULL };
	struct kipc_chan_stat st;
	pid_t pid;
	int fd;

	pid = fork();
	if (pid == 0) {
		fd = open("/dev/null", O_WRONLY);
		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(120);
		fd = open(err_path ? err_path : "/dev/null",
			  O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(121);
		execv(argv[0], argv);
		_exit(122);
	}
	assert_true(pid > 0);
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(kipc_chan_stat(tx, &st), 0);
		if (st.receivers >= n)
			return pid;
		usleep(10000);
	}
	fail_msg("%u receivers did not attach", n);
	return -1;
}

/* The text of file PATH contains WHAT. */
static bool file_has(const char *path, const char *what)
{
	char text[512];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	text[n > 0 ? n : 0] = 0;
	printf("# %s: %s", path, text);
	return strstr(text, what) != NULL;
}

/*
 * A receiver stopped while the ring is full: the sender's wait judges it
 * by its heartbeat (EOWNERDEAD); continued, the receiver drains what is
 * there and its next wait fails with ECONNRESET.
 */
static void stopped_receiver(void **state)
{
	struct kipc_chan_attr a;
	struct kipc_chan_stat st;
	struct kipc_chan *tx;
	char where[96], err[96], msg[MSG] = "r";
	long long t0, ms;
	pid_t r;
	int i, ret;

	(void)state;
	snprintf(where, sizeof(where), "ivshmem-host:%s@%u", sock, 3u << 20);
	snprintf(err, sizeof(err), "%s/err", dir);
	kipc_chan_attr_init(&a);
	a.slot_size = MSG;
	a.slot_count = 8;
	tx = kipc_chan_create(where, &a, KIPC_CHAN_SEND);
	assert_non_null(tx);
	r = receiver(tx, where, 1, err);
	kill(r, SIGSTOP);
	t0 = ms_now();
	for (i = 0; i < 100; i++)
		if ((ret = kipc_chan_send(tx, msg, sizeof(msg), 10000)))
			break;
	assert_int_equal(ret, -1);
	assert_int_equal(errno, EOWNERDEAD);
	assert_true(i >= 8);	/* the ring filled first */
	ms = ms_now() - t0;
	printf("# stopped receiver: EOWNERDEAD after %lld ms\n", ms);
	assert_true(ms >= 1500 && ms < HB_SLACK_MS);
	assert_int_equal(kipc_chan_stat(tx, &st), 0);
	assert_int_equal(st.receivers, 0);
	kill(r, SIGCONT);
	assert_int_equal(status_of(r), 1);
	assert_true(file_has(err, strerror(ECONNRESET)));
	kipc_chan_close(tx);
}

/*
 * Pub/sub (SPMC, BLOCK): one of two subscribers stopped holds the
 * publisher back only until its heartbeat is judged (then dropped); the
 * live one gets every message.  Continued, the dropped one learns it:
 * ECONNRESET (not lost messages, not EPROTO).
 */
static void stopped_subscriber(void **state)
{
	struct kipc_chan_attr a;
	struct kipc_chan_stat st;
	struct kipc_chan *tx;
	char where[96], err[96], msg[MSG] = "s";
	long long t0, ms;
	pid_t live, stopped;

	(void)state;
	snprintf(where, sizeof(where), "ivshmem-host:%s@%u", sock, 4u << 20);
	snprintf(err, sizeof(err), "%s/err", dir);
	kipc_chan_attr_init(&a);
	a.shape = KIPC_CHAN_SPMC;
	a.policy = KIPC_CHAN_BLOCK;
	a.max_peers = 2;
	a.slot_size = MSG;
	a.slot_count = 8;
	tx = kipc_chan_create(where, &a, KIPC_CHAN_SEND);
	assert_non_null(tx);
	live = receiver(tx, where, 1, NULL);
	stopped = receiver(tx, where, 2, err);
	kill(stopped, SIGSTOP);
	t0 = ms_now();
	for (int i = 0; i < 100; i++)
		assert_int_equal(kipc_chan_send(tx, msg, sizeof(msg), 10000), 0);
	ms = ms_now() - t0;
	printf("# stopped subscriber dropped: 100 messages in %lld ms\n", ms);
	assert_true(ms >= 1500 && ms < HB_SLACK_MS);
	assert_int_equal(kipc_chan_stat(tx, &st), 0);
	assert_int_equal(st.receivers, 1);
	kipc_chan_close(tx);
	assert_int_equal(status_of(live), 0);
	kill(stopped, SIGCONT);
	assert_int_equal(status_of(stopped), 1);
	assert_true(file_has(err, strerror(ECONNRESET)));
}

/* Killed: the server's "peer left", well before the heartbeat's bound. */
static void killed_sender(void **state)
{
	struct kipc_chan *rx;
	long long t0, ms;
	char buf[MSG];
	int feed;
	pid_t s;

	(void)state;
	rx = chan_at(2u << 20, &s, &feed, NULL);
	kill(s, SIGKILL);
	t0 = ms_now();
	assert_int_equal(status_of(s), 1000 + SIGKILL);
	assert_int_equal(kipc_chan_recv(rx, buf, sizeof(buf), 10000), -1);
	assert_int_equal(errno, EOWNERDEAD);
	ms = ms_now() - t0;
	printf("# killed sender: EOWNERDEAD after %lld ms\n", ms);
	assert_true(ms < 1500);
	close(feed);
	kipc_chan_close(rx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stopped_sender),
		cmocka_unit_test(busy_sender),
		cmocka_unit_test(killed_sender),
		cmocka_unit_test(stopped_receiver),
		cmocka_unit_test(stopped_subscriber),
	};

	signal(SIGPIPE, SIG_IGN);
	tc_watchdog(120);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, setup, teardown);
}
