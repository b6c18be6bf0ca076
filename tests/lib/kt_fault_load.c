// SPDX-License-Identifier: GPL-2.0
/* kt_fault_load.c - fault walks over module loading; see kt_fault_load.h. */
#include "kt_fault_load.h"
#include "kt.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KT_FAULT_NTH "/proc/thread-self/fail-nth"
#define KT_KMEMLEAK "/sys/kernel/debug/kmemleak"
/* More fault points than any load passes: none of them fails. */
#define KT_FAULT_NEVER 1000000

unsigned int kt_fault_load_first(const char *mod, const char *failing)
{
	char buf[32] = "";
	int fd = open(KT_FAULT_NTH, O_RDWR | O_CLOEXEC);
	int len, rc;
	long left;

	if (fd < 0)
		fail_msg("kt_fault_load: " KT_FAULT_NTH ": %m");
	len = snprintf(buf, sizeof(buf), "%d", KT_FAULT_NEVER);
	if (pwrite(fd, buf, len, 0) != len)
		fail_msg("kt_fault_load: " KT_FAULT_NTH ": %m");
	rc = kt_load(mod, failing);
	/* the count left before this read's own copy */
	if (pread(fd, buf, sizeof(buf) - 1, 0) <= 0)
		fail_msg("kt_fault_load: " KT_FAULT_NTH ": %m");
	left = atol(buf);
	if (pwrite(fd, "0", 1, 0) != 1)
		fail_msg("kt_fault_load: " KT_FAULT_NTH ": %m");
	close(fd);
	if (!rc)
		fail_msg("kt_fault_load: %s '%s' loaded; it must fail", mod, failing);
	printf("# kipc-fault: loading %s '%s' (failing init) passes %ld points\n",
	       mod, failing, KT_FAULT_NEVER - left);
	if (KT_FAULT_NEVER - left <= KT_FAULT_LOAD_MARGIN)
		fail_msg("kt_fault_load: only %ld points", KT_FAULT_NEVER - left);
	return (unsigned int)(KT_FAULT_NEVER - left - KT_FAULT_LOAD_MARGIN);
}

struct kt_fault_load_walk {
	const char *mod, *params;
	void (*check)(void *arg, unsigned int nth, int rc);
	void *arg;
};

static int kt_fault_load_run(void *arg)
{
	struct kt_fault_load_walk *l = arg;

	return kt_load(l->mod, l->params);
}

static void kt_fault_load_check(void *arg, unsigned int nth, int rc)
{
	struct kt_fault_load_walk *l = arg;

	if (l->check)
		l->check(l->arg, nth, rc);
}

static void kt_fault_load_undo(void *arg)
{
	struct kt_fault_load_walk *l = arg;
	int rc = kt_unload(l->mod);

	if (rc)
		fail_msg("kt_fault_load: unload %s: %s", l->mod, strerror(-rc));
}

void kt_fault_walk_load(const char *mod, const char *params,
			const char *failing,
			void (*check)(void *arg, unsigned int nth, int rc),
			void *arg, struct kt_fault_result *res)
{
	kt_fault_walk_load_sampled(mod, params, failing, 0, 0, check, arg, res);
}

void kt_fault_walk_load_sampled(const char *mod, const char *params,
				const char *failing, unsigned int dense,
				unsigned int stride,
				void (*check)(void *arg, unsigned int nth, int rc),
				void *arg, struct kt_fault_result *res)
{
	struct kt_fault_load_walk l = { mod, params, check, arg };
	char name[128];
	struct kt_fault_op op = {
		.name = name, .run = kt_fault_load_run, .check = kt_fault_load_check,
		.undo = kt_fault_load_undo, .arg = &l,
	};

	if (kt_loaded(mod))
		fail_msg("kt_fault_load: %s is loaded", mod);
	op.first = kt_fault_load_first(mod, failing);
	op.dense = dense;
	op.stride = stride;
	snprintf(name, sizeof(name), "%s load '%s' (from point %u)", mod,
		 params, op.first);
	kt_fault_walk(&op, res);
}

/* Is the kmemleak report OBJ (one object's lines) the class name leak? */
static bool class_name_leak(const char *obj, const char *name)
{
	const char *set_name = strstr(obj, "kobject_set_name+");
	char ascii[64];

	snprintf(ascii, sizeof(ascii), "  %s.", name);
	return strstr(obj, ascii) && set_name &&
	       strstr(set_name, "__class_register+");
}

int kt_kmemleak_forgive_class_name(const char *name)
{
	char line[512], obj[8192] = "";
	int known = 0, other = 0, fd;
	size_t len = 0;
	FILE *f = fopen(KT_KMEMLEAK, "r");

	if (!f)
		return 0;
	for (;;) {
		bool eof = !fgets(line, sizeof(line), f);

		if (eof || !strncmp(line, "unreferenced object", 19)) {
			if (len && class_name_leak(obj, name))
				known++;
			else if (len)
				other++;
			len = 0;
			obj[0] = '\0';
		}
		if (eof)
			break;
		if (len + strlen(line) < sizeof(obj)) {
			strcpy(obj + len, line);
			len += strlen(line);
		}
	}
	fclose(f);
	if (!known || other)
		return other;
	printf("# kmemleak: %d of Linux 6.1's kset_register() leaks (the name of class \"%s\" after a failed class_create()), cleared\n",
	       known, name);
	fd = open(KT_KMEMLEAK, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "clear", 5) != 5)
		fail_msg("kt_fault_load: kmemleak clear: %m");
	close(fd);
	return 0;
}
