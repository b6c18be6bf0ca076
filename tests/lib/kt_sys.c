// SPDX-License-Identifier: GPL-2.0
/* kt_sys.c - more guest test helpers; see kt_sys.h. */
#include "kt_sys.h"
#include "kt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

char *kt_kmsg_text(int mark)
{
	char rec[8192], *text = NULL, *msg, *nl;
	size_t len = 0;
	ssize_t n;

	if (mark < 0)
		return strdup("");
	for (;;) {
		n = read(mark, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* records overwritten; go on */
		if (n <= 0)
			break;
		rec[n] = '\0';
		/* "prio,seq,usec,flags;message\n continuation lines" */
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		nl = realloc(text, len + strlen(msg) + 2);
		if (!nl)
			break;
		text = nl;
		len += sprintf(text + len, "%s\n", msg);
	}
	close(mark);
	return text ? text : strdup("");
}

int kt_count_lines(const char *text, const char *needle)
{
	const char *line = text, *end;
	int count = 0;

	while (*line) {
		end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		if (memmem(line, end - line, needle, strlen(needle)))
			count++;
		line = *end ? end + 1 : end;
	}
	return count;
}

long long kt_meminfo_kb(const char *field)
{
	char line[256];
	size_t n = strlen(field);
	long long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':') {
			kb = atoll(line + n + 1);
			break;
		}
	fclose(f);
	return kb;
}

bool kt_memfree_above(long long kb)
{
	int i;

	for (i = 0; i < 5; i++) {
		int fd;

		if (kt_meminfo_kb("MemFree") > kb)
			return true;
		fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (write(fd, "3", 1) != 1)
				perror("drop_caches");
			close(fd);
		}
		sleep(1);
	}
	return kt_meminfo_kb("MemFree") > kb;
}

long long kt_read_ll(const char *path)
{
	long long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

long long kt_module_param(const char *mod, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", mod, name);
	return kt_read_ll(path);
}

int kt_run(const char *cmd, char *out, size_t outlen)
{
	char full[1024];
	size_t len = 0;
	FILE *p;
	int st;

	snprintf(full, sizeof(full), "%s 2>&1", cmd);
	fflush(NULL);
	p = popen(full, "r");
	if (!p)
		return -1;
	if (outlen) {
		len = fread(out, 1, outlen - 1, p);
		out[len] = '\0';
	}
	while (fgetc(p) != EOF)
		;
	st = pclose(p);
	if (st < 0)
		return -1;
	if (WIFSIGNALED(st))
		return 1000 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

int kt_chrdev_major(const char *name, int major)
{
	char line[256], n[128];
	int chr = 0, m, found = -1;
	FILE *f = fopen("/proc/devices", "r");

	if (!f) {	/* never in a guest; do not let "absent" pass */
		perror("kt_chrdev_major: /proc/devices");
		abort();
	}
	while (found < 0 && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Character", 9))
			chr = 1;
		else if (!strncmp(line, "Block", 5))
			chr = 0;
		else if (chr && sscanf(line, "%d %127s", &m, n) == 2 &&
			 (name ? !strcmp(n, name) : m == major))
			found = m;
	}
	fclose(f);
	return found;
}

long kt_ctxsw(pid_t pid)
{
	char path[64], line[128];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "voluntary_ctxt_switches: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

void kt_wait_asleep(pid_t pid)
{
	char path[64], buf[256], *p;
	long t0 = kt_now_ms();
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (;;) {
		fd = open(path, O_RDONLY);
		assert_true(fd >= 0);
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		assert_true(n > 0);
		buf[n] = 0;
		p = strrchr(buf, ')');
		if (p && p[2] == 'S')
			break;
		if (kt_now_ms() - t0 > 10000)
			fail_msg("process %d never went to sleep", (int)pid);
		usleep(10000);
	}
	usleep(50000);
}
