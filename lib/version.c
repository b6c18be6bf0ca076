// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * version.c - kipc_version() (see <kipc/version.h>).  KIPC_VERSION comes
 * from the Makefile (scripts/version.sh, i.e. debian/changelog).
 */
#include <kipc/version.h>

#ifndef KIPC_VERSION
#error "KIPC_VERSION is not defined (build with the Makefile)"
#endif

const char *kipc_version(void)
{
	return KIPC_VERSION;
}
