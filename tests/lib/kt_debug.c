// SPDX-License-Identifier: GPL-2.0
/* kt_debug.c - adapt guest tests to the debug kernel; see kt_debug.h. */
#include "kt_debug.h"

#include <string.h>
#include <sys/utsname.h>

bool kt_debug_kernel(void)
{
	struct utsname u;

	return !uname(&u) && strstr(u.release, "-kipc-debug");
}

long kt_scaled(long n)
{
	if (!kt_debug_kernel())
		return n;
	n /= KT_DEBUG_SLOWDOWN;
	return n > 0 ? n : 1;
}
