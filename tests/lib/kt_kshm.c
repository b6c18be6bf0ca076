// SPDX-License-Identifier: GPL-2.0
/* kt_kshm.c - helpers for the kshm guest tests; see kt_kshm.h. */
#include "kt_kshm.h"
#include "kt_fds.h"
#include "kipc_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long kt_kshm_counter(const char *key)
{
	FILE *f = fopen("/proc/kshm", "r");
	char line[512], k[64], *p;
	long v = -1;

	if (!f)
		return -1;
	if (fgets(line, sizeof(line), f)) {
		snprintf(k, sizeof(k), " %s=", key);
		p = strstr(line, k);
		if (p)
			v = strtol(p + strlen(k), NULL, 10);
	}
	fclose(f);
	return v;
}

int kt_kshm_unload(void)
{
	/* libkipc caches a /dev/kshm descriptor, which pins the module. */
	kt_close_fds_to("/dev/kshm");
	return kt_unload("kshm");
}

void kt_unload_kipc(void)
{
	assert_int_equal(kt_unload("message_slot"), 0);
	assert_int_equal(kt_unload("myshm"), 0);
	assert_int_equal(kt_kshm_counter("objects"), 0);
	assert_int_equal(kt_unload("kshm"), 0);
}
