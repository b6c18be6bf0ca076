// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * version.c - kipc_version() (see <kipc/version.h>).  KIPC_VERSION comes
 * from the Makefile (scripts/version.sh, i.e. debian/changelog).
 */
#include <kipc/version.h>

/* The Makefile always defines it; "unknown" only for other builds (cppcheck). */
#ifndef KIPC_VERSION
#define KIPC_VERSION "unknown"
#endif

const char *kipc_version(void)
{
	return KIPC_VERSION;
}
