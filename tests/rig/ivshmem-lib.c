// SPDX-License-Identifier: GPL-2.0
/*
 * ivshmem-lib - libkipc's ivshmem host peer against a fake, hostile
 * server (TAP, on the host; run by tests/rig/ivshmem-lib.sh).  Each case
 * forks a server that sends a scripted sequence of messages, then holds
 * the connection or closes it; kipc_ivshmem_connect()/_process() must fail
 * with the documented errno and leave this process with exactly the
 * descriptors it had (counted in /proc/self/fd), or succeed where the
 * script is valid.  Issue 26 item 4.
 */
#include <kipc/ivshmem.h>

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

enum att { NONE, SHM, EFD };
struct step {
	int64_t val;
	enum att att;
	bool half;		/* send only 4 of the 8 bytes (with the fd) */
};
#define END { 0, NONE, false }	/* att NONE and val 0 after the first: end */

static char path[108];
static int tests, failed;

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own descriptor */
}

static void send_step(int s, const struct step *st)
{
	uint64_t le = htole64((uint64_t)st->val);
	struct iovec iov = { &le, st->half ? 4 : 8 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fd = -1;

	if (st->att == SHM) {
		fd = memfd_create("fake-ivshmem", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, 4096) < 0)
			_exit(3);
	} else if (st->att == EFD) {
		fd = eventfd(0, EFD_CLOEXEC);
	}
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
	if (sendmsg(s, &m, MSG_NOSIGNAL) < 0)
		_exit(4);
	if (fd >= 0)
		close(fd);
}

/* Fork a server that plays N steps to one client, then holds or closes. */
static pid_t fake_server(const struct step *steps, int n, bool hold)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int l, s, i;
	pid_t pid;

	unlink(path);
	strcpy(sa.sun_path, path);
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(l, 4) < 0) {
		perror("fake server socket");
		exit(1);
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		s = accept(l, NULL, NULL);
		if (s < 0)
			_exit(2);
		for (i = 0; i < n; i++)
			send_step(s, &steps[i]);
		if (hold)
			sleep(5);
		_exit(0);
	}
	close(l);
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	unlink(path);
}

static void ok(bool cond, const char *what)
{
	tests++;
	if (!cond)
		failed++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tests, what);
	fflush(stdout);
}

/*
 * Connect (VECTORS) to a server playing STEPS ATTEMPTS times; the connect
 * must fail with WANT_ERRNO, and no descriptor may be left over.
 */
static void expect_fail(const char *what, const struct step *steps, int n,
			bool hold, unsigned int vectors, int want_errno,
			int attempts)
{
	int base = count_fds(), a, bad_errno = 0, leaked = 0;
	bool succeeded = false;
	char buf[256];

	for (a = 0; a < attempts; a++) {
		pid_t pid = fake_server(steps, n, hold);
		struct kipc_ivshmem *iv;

		iv = kipc_ivshmem_connect(path, vectors, 3000);
		if (iv) {
			succeeded = true;
			kipc_ivshmem_close(iv);
		} else if (errno != want_errno) {
			bad_errno = errno;
		}
		reap(pid);
		if (count_fds() != base)
			leaked = count_fds() - base;
	}
	if (succeeded || bad_errno || leaked)
		printf("# %s: %s, errno %s, %d descriptors left over after %d attempts\n",
		       what, succeeded ? "connected" : "failed",
		       strerror(bad_errno ? bad_errno : want_errno),
		       count_fds() - base, attempts);
	snprintf(buf, sizeof(buf), "%s: %s, no descriptor leaked (%d attempts)",
		 what, strerror(want_errno), attempts);
	ok(!succeeded && !bad_errno && !leaked && count_fds() == base, buf);
}

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

int main(void)
{
	static const struct step partial[] = {
		{ 0, NONE, false }, { 0, NONE, false }, { -1, SHM, true },
	};
	static const struct step partial_peer[] = {
		{ 0, NONE, false }, { 3, NONE, false }, { -1, SHM, false },
		{ 7, EFD, true },
	};
	static const struct step wide_own[] = {
		{ 0, NONE, false }, { 5, NONE, false }, { -1, SHM, false },
		{ (1LL << 32) + 5, EFD, false },
	};
	static const struct step wide_peer[] = {
		{ 0, NONE, false }, { 5, NONE, false }, { -1, SHM, false },
		{ (1LL << 32) + 7, EFD, false },
	};
	static const struct step fd_on_version[] = { { 0, EFD, false } };
	static const struct step fd_on_id[] = {
		{ 0, NONE, false }, { 2, EFD, false },
	};
	static const struct step no_shm[] = {
		{ 0, NONE, false }, { 2, NONE, false }, { 7, EFD, false },
	};
	static const struct step big_id[] = {
		{ 0, NONE, false }, { 65536, NONE, false },
	};
	static const struct step neg_id[] = {
		{ 0, NONE, false }, { -2, NONE, false },
	};
	static const struct step neg_peer[] = {
		{ 0, NONE, false }, { 1, NONE, false }, { -1, SHM, false },
		{ -2, EFD, false },
	};
	static const struct step good[] = {
		{ 0, NONE, false }, { 1, NONE, false }, { -1, SHM, false },
		{ 0, EFD, false }, { 0, EFD, false },
		{ 1, EFD, false }, { 1, EFD, false },
	};
	int base;

	snprintf(path, sizeof(path), "/tmp/kipc-ivslib-%d.sock", (int)getpid());
	signal(SIGPIPE, SIG_IGN);
	printf("1..14\n");
	base = count_fds();
	{
		pid_t pid = fake_server(good, N(good), true);
		struct kipc_ivshmem *iv = kipc_ivshmem_connect(path, 2, 3000);
		unsigned int ids[4];

		ok(iv && kipc_ivshmem_id(iv) == 1 &&
		   kipc_ivshmem_peers(iv, ids, 4) == 1 && ids[0] == 0,
		   "a valid setup (the control): id 1, peer 0 with 2 vectors");
		if (iv)
			kipc_ivshmem_close(iv);
		reap(pid);
		ok(count_fds() == base, "... and close leaves no descriptor");
	}
	{
		static const struct step later[] = {
			{ 0, NONE, false }, { 1, NONE, false },
			{ -1, SHM, false }, { 1, EFD, false }, { 1, EFD, false },
			{ 4, EFD, true },
		};
		pid_t pid = fake_server(later, N(later), false);
		struct kipc_ivshmem *iv = kipc_ivshmem_connect(path, 2, 3000);
		int before = count_fds(), r = 0, i;

		for (i = 0; iv && i < 50; i++) {
			r = kipc_ivshmem_process(iv, NULL);
			if (r < 0)
				break;
			usleep(100000);
		}
		ok(iv && r < 0 && errno == ECONNRESET && count_fds() == before - 1,
		   "after setup: half a join message with an eventfd, then EOF: process() fails with ECONNRESET, closes the socket, keeps no eventfd");
		if (iv)
			kipc_ivshmem_close(iv);
		reap(pid);
	}
	expect_fail("version, id, then half a message with the memory fd, then silence",
		    partial, N(partial), true, 2, EPROTO, 3);
	expect_fail("... the same, learning the vector count",
		    partial, N(partial), true, 0, EPROTO, 3);
	expect_fail("half a peer message with an eventfd, then EOF",
		    partial_peer, N(partial_peer), false, 1, ECONNRESET, 3);
	expect_fail("own id + 2^32 with an eventfd is not an own vector",
		    wide_own, N(wide_own), true, 1, EPROTO, 2);
	expect_fail("peer id 2^32 + 7 with an eventfd",
		    wide_peer, N(wide_peer), true, 1, EPROTO, 2);
	expect_fail("a descriptor with the version", fd_on_version,
		    N(fd_on_version), true, 1, EPROTO, 2);
	expect_fail("a descriptor with the id", fd_on_id, N(fd_on_id), true,
		    1, EPROTO, 2);
	expect_fail("an eventfd where the memory belongs", no_shm, N(no_shm),
		    true, 1, EPROTO, 2);
	expect_fail("id 65536", big_id, N(big_id), true, 1, EPROTO, 2);
	expect_fail("id -2", neg_id, N(neg_id), true, 1, EPROTO, 2);
	expect_fail("peer id -2 with an eventfd", neg_peer, N(neg_peer),
		    true, 1, EPROTO, 2);
	return failed ? 1 : 0;
}
