/* SPDX-License-Identifier: GPL-2.0 */
/*
 * progs.h - what the tests of tests/chan/ share to run programs: start one
 * with its standard input and output redirected, collect its status, and
 * compare what it wrote with what it read.  Static: each test is one
 * program.
 */
#ifndef KIPC_TESTS_CHAN_PROGS_H
#define KIPC_TESTS_CHAN_PROGS_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define TOOL "/kipc/bin/kipc-chan"

/*
 * What the tests assert of the time a death takes to be seen.  The
 * documented bounds (docs/chan.md: two wait slices, 400 ms, for a local
 * peer; the heartbeat's 2.4 s across VMs) hold for processes that get the
 * CPU; these guests are emulated (TCG) on a machine that may be busy, so
 * the assertions allow a margin.  They still tell a death seen by the
 * library's checks from one seen only by a time-out (10 s and more).
 */
#define SLACK_MS 6000
#define HB_SLACK_MS 8000

/* Start ARGV with stdin from IN_PATH and stdout to OUT_PATH (or NULL). */
static inline pid_t spawn(char *const argv[], const char *in_path,
			  const char *out_path)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd;

		if (in_path) {
			fd = open(in_path, O_RDONLY);
			if (fd < 0 || dup2(fd, 0) < 0)
				_exit(120);
		}
		if (out_path) {
			fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			if (fd < 0 || dup2(fd, 1) < 0)
				_exit(121);
		}
		execv(argv[0], argv);
		_exit(122);
	}
	return pid;
}

/* Exit status of PID, 1000 + the signal that killed it, or -1. */
static inline int status_of(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
}

/* Write BYTES pseudo-random bytes (a multiple of 4) from SEED to PATH. */
static inline int make_input(const char *path, size_t bytes, unsigned int x)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return -1;
	for (size_t i = 0; i < bytes / 4; i++) {
		x = x * 1103515245u + 12345u;
		if (write(fd, &x, 4) != 4) {
			close(fd);
			return -1;
		}
	}
	return close(fd);
}

/* Do files A and B hold the same BYTES bytes? */
static inline bool same_files(const char *a, const char *b, size_t bytes)
{
	FILE *fa = fopen(a, "r"), *fb = fopen(b, "r");
	bool same = fa && fb;
	size_t n = 0;

	while (same) {
		int ca = getc(fa), cb = getc(fb);

		if (ca != cb)
			same = false;
		if (ca == EOF)
			break;
		n++;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same && n == bytes;
}

/*
 * kipc-chan(1) pipes IN (BYTES bytes) through WHERE from one program to
 * another (the receiver creates it with 16 slots of 4000 bytes, the
 * sender waits for it): both exit 0 and OUT is a byte-exact copy.
 */
static inline void pipe_through(const char *where, const char *in,
				const char *out, size_t bytes)
{
	char *rx[] = { TOOL, "-c", "-S", "4000", "-n", "16", "recv",
		       (char *)where, NULL };
	char *tx[] = { TOOL, "-w", "20000", "send", (char *)where, NULL };
	pid_t r, s;

	unlink(out);
	r = spawn(rx, NULL, out);
	assert_true(r > 0);
	s = spawn(tx, in, NULL);
	assert_true(s > 0);
	assert_int_equal(status_of(s), 0);
	assert_int_equal(status_of(r), 0);
	assert_true(same_files(in, out, bytes));
}

#endif /* KIPC_TESTS_CHAN_PROGS_H */
