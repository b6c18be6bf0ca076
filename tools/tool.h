/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tool.h - what kipc's command-line tools share: the version they print,
 * a strerror exit, the number parsing of the message-slot tools.
 *
 * Header-only and included by relative path ("tool.h"), so that a course
 * build of one file still works: `gcc -O3 -Wall -std=c11 message_sender.c`
 * (tests/rig/message-slot-build.sh checks it).  Define TOOL_NAME (the
 * program's name, a string literal) before including it for tool_die()
 * and tool_ioctl_number().
 */
#ifndef KIPC_TOOL_H
#define KIPC_TOOL_H

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* From the Makefile (scripts/version.sh); a plain gcc build says "unknown". */
#ifndef KIPC_VERSION
#define KIPC_VERSION "unknown"
#endif

#ifdef TOOL_NAME
/* "TOOL_NAME: WHAT[ ARG]: strerror(errno)" on stderr, then exit status 1. */
static inline void tool_die(const char *what, const char *arg)
{
	int err = errno;

	fprintf(stderr, TOOL_NAME ": %s%s%s: %s\n", what, arg ? " " : "",
		arg ? arg : "", strerror(err));
	exit(1);
}

/*
 * A number argument for an 8-byte ioctl: strtoul() as the course does (no
 * digits: 0), but a value above ULONG_MAX fails with EINVAL like an id
 * above 32 bits does in the module, where strtoul() would saturate (a
 * 32-bit build would otherwise send 4294967295 for 4294967296).  WHAT
 * names the call in the error message.
 */
static inline unsigned long tool_ioctl_number(const char *what, const char *s)
{
	unsigned long long v;

	errno = 0;
	v = strtoull(s, NULL, 10);
	if (v > ULONG_MAX || (errno == ERANGE && sizeof(long) < 8)) {
		errno = EINVAL;
		tool_die(what, s);
	}
	return (unsigned long)v;
}

#endif /* TOOL_NAME */

#endif /* KIPC_TOOL_H */
