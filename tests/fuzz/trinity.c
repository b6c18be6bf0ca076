// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz/trinity - Debian's trinity syscall fuzzer against kipc's device
 * nodes only (issue 7).  trinity runs as the unprivileged user kipc (it
 * refuses root), with file descriptors only from a directory of victim
 * nodes (-V: message slot minors 0, 1 and 255, two myshm buffers and
 * /dev/kshm, all mode 0666; every other fd provider disabled) and only the calls that reach a
 * character device: read, write, readv, writev, pread64, pwrite64, lseek,
 * ioctl, poll, mmap, munmap, mremap, mprotect (64- and 32-bit).  It is
 * bounded by a number of calls (KIPC_TRINITY_CALLS, default 2000) and a
 * time limit; the seed (KIPC_TRINITY_SEED, default random) is printed.
 *
 * Afterwards trinity must have exited 0, the kernel must not be newly
 * tainted, both modules must still work and must unload; vm/run fails the
 * guest on any kernel report.  The call counts and errnos trinity saw are
 * printed as TAP diagnostics.
 */
#include "lib/kt.h"
#include "lib/kt_params.h"
#include "lib/kt_kshm.h"
#include "lib/kt_stress.h"
#include "lib/kt_sys.h"
#include "lib/kt_slot.h"

#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <kipc/myshm.h>

#define TRINITY	"/usr/bin/trinity"
#define VICTIMS	"/tmp/kipc-victims"
#define LOG	"/tmp/trinity.log"
#define KIPC_UID 1000

static void mknode(const char *name, dev_t dev)
{
	char path[128];

	snprintf(path, sizeof(path), VICTIMS "/%s", name);
	unlink(path);
	if (mknod(path, S_IFCHR | 0666, dev) || chmod(path, 0666))
		fail_msg("mknod %s: %s", path, strerror(errno));
}

static void copy_node(const char *name, const char *from)
{
	struct stat sb;

	if (stat(from, &sb))
		fail_msg("stat %s: %s", from, strerror(errno));
	mknode(name, sb.st_rdev);
}

static long long tainted(void)
{
	return kt_read_ll("/proc/sys/kernel/tainted");
}

/* Print trinity's --stats block as diagnostics; returns the calls made. */
static long report(void)
{
	char line[512];
	long calls = 0, n;
	FILE *f = fopen(LOG, "r");
	bool stats = false;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *a = strstr(line, "attempted:");

		line[strcspn(line, "\n")] = '\0';
		if (a && sscanf(a, "attempted:%ld", &n) == 1) {
			calls += n;
			stats = true;
		}
		if (stats || strstr(line, "seed") || strstr(line, "taint"))
			printf("#   %s\n", line);
	}
	fclose(f);
	return calls;
}

static void test_trinity(void **state)
{
	long ncalls = kt_env_long("KIPC_TRINITY_CALLS", 2000);
	long seed = kt_env_long("KIPC_TRINITY_SEED", 0);
	long limit = kt_env_long("KIPC_TRINITY_SECONDS", 600);
	long long taint0 = tainted();
	char n_arg[32], s_arg[32];
	long start = kt_now_ms(), calls;
	int status, fd;
	pid_t pid;
	char buf[16];

	(void)state;
	if (access(TRINITY, X_OK))
		fail_msg(TRINITY " is not in the guest: install Debian's"
			 " trinity on the host (scripts/deps.sh)");
	if (!seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (ts.tv_nsec ^ ts.tv_sec) & 0x7fffffff;
	}
	snprintf(n_arg, sizeof(n_arg), "-N%ld", ncalls);
	snprintf(s_arg, sizeof(s_arg), "-s%ld", seed);
	printf("# fuzz trinity: KIPC_TRINITY_SEED=%ld KIPC_TRINITY_CALLS=%ld\n",
	       seed, ncalls);
	fflush(stdout);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int out = open(LOG, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (out < 0 || fchown(out, KIPC_UID, KIPC_UID) ||
		    dup2(out, 1) < 0 || dup2(out, 2) < 0 || chdir("/tmp") ||
		    setgroups(0, NULL) || setgid(KIPC_UID) ||
		    setuid(KIPC_UID))
			_exit(99);
		alarm(limit);	/* a hung trinity is killed: SIGALRM */
		execl(TRINITY, "trinity", n_arg, s_arg, "-q", "-l", "off",
		      "-C", "4", "--stats", "-V", VICTIMS,
		      "--disable-fds=sockets,pipes,perf,epoll,eventfd,"
		      "timerfd,testfile,memfd,drm",
		      "-c", "read", "-c", "write", "-c", "readv",
		      "-c", "writev", "-c", "pread64", "-c", "pwrite64",
		      "-c", "lseek", "-c", "ioctl", "-c", "poll",
		      "-c", "mmap", "-c", "munmap", "-c", "mremap",
		      "-c", "mprotect", (char *)NULL);
		_exit(98);
	}
	while (waitpid(pid, &status, 0) < 0)
		assert_int_equal(errno, EINTR);
	calls = report();
	printf("# fuzz trinity: seed=%ld calls=%ld time=%lds exit=%d\n", seed,
	       calls, (kt_now_ms() - start) / 1000,
	       WIFEXITED(status) ? WEXITSTATUS(status) :
	       1000 + WTERMSIG(status));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(calls > 0);
	assert_int_equal(tainted(), taint0);

	/* both modules still work */
	fd = kt_slot_open_chan(0, 77);
	kt_slot_put_str(fd, "after trinity");
	kt_slot_expect_str(fd, "after trinity");
	close(fd);
	fd = open("/dev/myshm", O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "ok", 2, 4096), 2);
	assert_int_equal(pread(fd, buf, 2, 4096), 2);
	assert_memory_equal(buf, "ok", 2);
	close(fd);
	/* trinity's processes are gone: nothing holds the modules */
	kt_unload_kipc();
}

static int setup(void **state)
{
	(void)state;
	kt_unload_if_loaded("message_slot");
	kt_unload_if_loaded("myshm");
	kt_unload_if_loaded("kshm");
	if (kt_slot_load(NULL) || kt_load("myshm", "buffers=myshm,ktrin:16K") ||
	    kt_load("kshm", NULL))
		return -1;
	mkdir(VICTIMS, 0755);
	chmod(VICTIMS, 0755);
	mknode("slot0", makedev(MSG_SLOT_MAJOR, 0));
	mknode("slot1", makedev(MSG_SLOT_MAJOR, 1));
	mknode("slot255", makedev(MSG_SLOT_MAJOR, 255));
	copy_node("myshm", "/dev/myshm");
	copy_node("ktrin", "/dev/ktrin");
	copy_node("kshm", "/dev/kshm");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trinity),
	};

	return kt_run_group(tests, setup, kt_unload_all);
}
