// SPDX-License-Identifier: GPL-2.0
/* kt_stress.c - stress and fuzz test helpers; see kt_stress.h. */
#include "kt.h"
#include "kt_stress.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

long kt_env_long(const char *name, long def)
{
	char buf[4096], *p, *end;
	size_t n = strlen(name);
	const char *v = getenv(name);
	ssize_t len;
	long val;
	int fd;

	if (v && *v) {
		val = strtol(v, &end, 0);
		return *end ? def : val;
	}
	fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return def;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return def;
	buf[len] = '\0';
	for (p = buf; (p = strstr(p, name)); p += n) {
		if ((p != buf && p[-1] != ' ') || p[n] != '=')
			continue;
		val = strtol(p + n + 1, &end, 0);
		if (end != p + n + 1 && (*end == ' ' || *end == '\n' || !*end))
			return val;
	}
	return def;
}

int kt_stress_seconds(void)
{
	long s = kt_env_long("KIPC_STRESS_SECONDS", 12);

	return s < 1 ? 1 : s > 3600 ? 3600 : (int)s;
}

struct kt_stress *kt_stress_new(void)
{
	struct kt_stress *st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (st == MAP_FAILED)
		fail_msg("mmap: %s", strerror(errno));
	memset(st, 0, sizeof(*st));
	return st;
}

int kt_stress_spawn(struct kt_stress *st,
		    void (*fn)(struct kt_stress *st, int idx, void *arg),
		    void *arg)
{
	int idx = st->nworkers;
	pid_t pid;

	if (idx >= KT_STRESS_MAX_WORKERS)
		fail_msg("too many workers");
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		fn(st, idx, arg);
		_exit(0);
	}
	st->pids[idx] = pid;
	st->nworkers++;
	return idx;
}

int kt_stress_finish(struct kt_stress *st, int seconds)
{
	long end = kt_now_ms() + seconds * 1000L;
	int i, bad = 0, status;

	while (kt_now_ms() < end && !st->stop)
		usleep(100000);
	st->stop = 1;
	for (i = 0; i < st->nworkers; i++) {
		while (waitpid(st->pids[i], &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			bad++;
			kt_stress_defect(st, "worker %d: %s %d", i,
					 WIFEXITED(status) ? "exit status" :
					 "killed by signal",
					 WIFEXITED(status) ? WEXITSTATUS(status) :
					 WTERMSIG(status));
		}
	}
	return bad;
}

long kt_stress_ops(const struct kt_stress *st)
{
	long sum = 0;
	int i;

	for (i = 0; i < st->nworkers; i++)
		sum += st->ops[i];
	return sum;
}

void kt_stress_defect(struct kt_stress *st, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	long n = __atomic_add_fetch(&st->defects, 1, __ATOMIC_SEQ_CST);

	if (n > 20 || st->quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("# DEFECT %ld (pid %d): %s\n", n, (int)getpid(), msg);
	fflush(stdout);
}

void kt_stress_unloader(struct kt_stress *st, int idx, void *arg)
{
	const char *mod = arg;

	while (!st->stop) {
		if (syscall(SYS_delete_module, mod, O_NONBLOCK) == 0) {
			kt_stress_defect(st, "%s unloaded while in use", mod);
			st->stop = 1;
			return;
		}
		if (errno != EWOULDBLOCK && errno != EBUSY)
			kt_stress_defect(st, "delete_module(%s): %s", mod,
					 strerror(errno));
		st->ops[idx]++;
		__atomic_add_fetch(&st->unload_tries, 1, __ATOMIC_RELAXED);
		usleep(2000);
	}
}

unsigned long long kt_rand(unsigned long long *state)
{
	unsigned long long x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}
