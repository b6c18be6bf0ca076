// SPDX-License-Identifier: GPL-2.0
/* kt.c - helpers shared by kipc's guest tests; see kt.h. */
#include "kt.h"
#include "kt_kshm.h"
#include "kt_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int kt_load(const char *mod, const char *params)
{
	char path[512];
	int fd, rc;

	if (strchr(mod, '/'))
		snprintf(path, sizeof(path), "%s", mod);
	else
		snprintf(path, sizeof(path), KT_MODULE_DIR "/%s.ko", mod);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = syscall(SYS_finit_module, fd, params ? params : "", 0);
	rc = rc ? -errno : 0;
	close(fd);
	return rc;
}

int kt_unload(const char *mod)
{
	return syscall(SYS_delete_module, mod, O_NONBLOCK) ? -errno : 0;
}

bool kt_loaded(const char *mod)
{
	char line[512];
	size_t n = strlen(mod);
	bool found = false;
	FILE *f = fopen("/proc/modules", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, mod, n) && line[n] == ' ';
	fclose(f);
	return found;
}

void kt_unload_if_loaded(const char *mod)
{
	if (kt_loaded(mod))
		assert_int_equal(kt_unload(mod), 0);
}

const char *const *kt_modules(void)
{
	/* KIPC_TREE_MODULES comes from the Makefile: one name per kernel source file */
	static const char *const list[] = { KIPC_TREE_MODULES NULL };

	return list;
}

int kt_unload_all(void **state)
{
	const char *const *m;

	(void)state;
	for (m = kt_modules(); *m; m++)
		if (kt_loaded(*m))
			kt_unload(*m);
	return 0;
}

void kt_unload_kipc(void)
{
	assert_int_equal(kt_unload("message_slot"), 0);
	assert_int_equal(kt_unload("myshm"), 0);
	assert_int_equal(kt_kshm_counter("objects"), 0);
	assert_int_equal(kt_unload("kshm"), 0);
}

static int wait_child(pid_t pid)
{
	int st;

	if (pid < 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFSIGNALED(st))
		return KT_SIGNALED(WTERMSIG(st));
	return WEXITSTATUS(st);
}

int kt_in_child(void (*fn)(void *arg), void *arg)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	return wait_child(pid);
}

int kt_as_user(unsigned int uid, unsigned int gid, void (*fn)(void *arg),
	       void *arg)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(gid) || setuid(uid))
			_exit(99);
		fn(arg);
		_exit(0);
	}
	return wait_child(pid);
}

int kt_kmsg_mark(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

bool kt_kmsg_find(int mark, const char *needle)
{
	char *text = kt_kmsg_text(mark);	/* closes MARK */
	bool found = text && strstr(text, needle);

	free(text);
	return found;
}

int kt_err(long r)
{
	int e = errno;

	assert_int_equal(r, -1);
	return -e;
}

long kt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}
