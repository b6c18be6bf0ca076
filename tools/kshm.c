// SPDX-License-Identifier: GPL-2.0
/*
 * kshm - list and inspect kipc's named shared memory objects.
 *
 * Reads /proc/kshm (kshm.ko's listing); never opens an object, so it
 * changes no counts and needs no permission on the objects.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kipc/kshm_ioctl.h>

#include "tool.h"	/* KIPC_VERSION */

#define PROC_KSHM "/proc/kshm"
/* A name as /proc/kshm escapes it: up to 4 characters ("\\ooo") per byte. */
#define ESCAPED_NAME_MAX	(4 * KSHM_NAME_MAX)
#define ESCAPED_NAME_BUF	(ESCAPED_NAME_MAX + 1)
_Static_assert(ESCAPED_NAME_MAX == 252, "the width in load()'s sscanf");

struct obj {
	unsigned long size;
	unsigned int uid, gid, mode, opens;
	int maps;
	char name[ESCAPED_NAME_BUF];
};

struct listing {
	char summary[512];
	struct obj *objs;
	size_t n;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: kshm ls            list live kshm objects\n"
		"       kshm stat NAME     show one object (a leading '/' is ignored)\n"
		"       kshm limits        show the module's limits and counters\n"
		"       kshm --help        this text\n"
		"       kshm --version     print the version\n\n"
		"Reads " PROC_KSHM " (kshm.ko must be loaded).  Columns: NAME, SIZE\n"
		"in bytes (0 = not sized yet), OWNER and GROUP of the creator,\n"
		"MODE, OPENS (open file descriptions; dup and fork share one) and\n"
		"MAPS (memory mappings in all processes).  Bytes of a name outside\n"
		"0x20-0x7e, and '\\', are shown as '\\' and three octal digits.\n"
		"Exit status: 0 ok, 1 error or no such object, 2 bad usage.\n");
}

static int load(struct listing *l)
{
	FILE *f = fopen(PROC_KSHM, "r");
	char line[512];
	size_t cap = 0;

	memset(l, 0, sizeof(*l));
	if (!f) {
		fprintf(stderr, "kshm: %s: %s%s\n", PROC_KSHM, strerror(errno),
			errno == ENOENT ? " (is kshm.ko loaded?)" : "");
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		struct obj o;

		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#') {
			snprintf(l->summary, sizeof(l->summary), "%s", line + 2);
			continue;
		}
		if (sscanf(line, "%lu %u %u %o %u %d %252[^\n]", &o.size, &o.uid,
			   &o.gid, &o.mode, &o.opens, &o.maps, o.name) != 7)
			continue;	/* the column header */
		if (l->n == cap) {
			struct obj *p;

			cap = cap ? 2 * cap : 64;
			p = realloc(l->objs, cap * sizeof(*p));
			if (!p) {
				fclose(f);
				fprintf(stderr, "kshm: out of memory\n");
				return -1;
			}
			l->objs = p;
		}
		l->objs[l->n++] = o;
	}
	fclose(f);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct obj *)a)->name,
		      ((const struct obj *)b)->name);
}

static const char *user(unsigned int uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw)
		return pw->pw_name;
	snprintf(buf, len, "%u", uid);
	return buf;
}

static const char *group(unsigned int gid, char *buf, size_t len)
{
	struct group *gr = getgrgid(gid);

	if (gr)
		return gr->gr_name;
	snprintf(buf, len, "%u", gid);
	return buf;
}

static void perms(unsigned int mode, char *s)
{
	const char *rwx = "rwxrwxrwx";
	int i;

	for (i = 0; i < 9; i++)
		s[i] = mode & (0400 >> i) ? rwx[i] : '-';
	s[9] = '\0';
}

static int cmd_ls(void)
{
	struct listing l;
	char ub[16], gb[16], p[10];
	size_t i;

	if (load(&l))
		return 1;
	qsort(l.objs, l.n, sizeof(*l.objs), by_name);
	printf("%-24s %8s %-10s %-10s %-10s %5s %5s\n", "NAME", "SIZE",
	       "OWNER", "GROUP", "MODE", "OPENS", "MAPS");
	for (i = 0; i < l.n; i++) {
		const struct obj *o = &l.objs[i];

		perms(o->mode, p);
		printf("%-24s %8lu %-10s %-10s %-10s %5u %5d\n", o->name, o->size,
		       user(o->uid, ub, sizeof(ub)),
		       group(o->gid, gb, sizeof(gb)), p, o->opens, o->maps);
	}
	printf("%zu object%s (%s)\n", l.n, l.n == 1 ? "" : "s", l.summary);
	free(l.objs);
	return 0;
}

/* NAME escaped as /proc/kshm shows it, into OUT (4 * strlen + 1 bytes). */
static void escape_name(const char *name, char *out)
{
	for (; *name; name++) {
		unsigned char c = *name;

		if (c < 0x20 || c > 0x7e || c == '\\')
			out += sprintf(out, "\\%03o", c);
		else
			*out++ = c;
	}
	*out = '\0';
}

static int cmd_stat(const char *raw)
{
	struct listing l;
	char ub[16], gb[16], p[10], name[ESCAPED_NAME_BUF];
	size_t i;

	if (raw[0] == '/')
		raw++;
	if (strlen(raw) > KSHM_NAME_MAX) {
		fprintf(stderr, "kshm: stat: name longer than %d bytes\n",
			KSHM_NAME_MAX);
		return 1;
	}
	escape_name(raw, name);
	if (load(&l))
		return 1;
	for (i = 0; i < l.n; i++) {
		const struct obj *o = &l.objs[i];

		if (strcmp(o->name, name))
			continue;
		perms(o->mode, p);
		printf("name:  %s\nsize:  %lu bytes (%lu pages)\n", o->name,
		       o->size, o->size / 4096);
		printf("owner: %s (uid %u)\ngroup: %s (gid %u)\n",
		       user(o->uid, ub, sizeof(ub)), o->uid,
		       group(o->gid, gb, sizeof(gb)), o->gid);
		printf("mode:  %04o (%s)\nopens: %u\nmaps:  %d\n", o->mode, p,
		       o->opens, o->maps);
		free(l.objs);
		return 0;
	}
	free(l.objs);
	fprintf(stderr, "kshm: stat: %s: no such object\n", name);
	return 1;
}

static int cmd_limits(void)
{
	struct listing l;

	if (load(&l))
		return 1;
	printf("%s\n", l.summary);
	free(l.objs);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("kshm (kipc) %s\n", KIPC_VERSION);
		return 0;
	}
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "ls"))
		return cmd_ls();
	if (argc == 3 && !strcmp(argv[1], "stat"))
		return cmd_stat(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "limits"))
		return cmd_limits();
	usage(stderr);
	return 2;
}
