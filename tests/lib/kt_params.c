// SPDX-License-Identifier: GPL-2.0
/* kt_params.c - bad-module-parameter test helpers; see kt_params.h. */
#include "kt.h"
#include "kt_params.h"
#include "kt_sys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

void kt_expect_refused(const char *mod, const struct kt_bad_param *b,
		       void (*left)(void))
{
	int want = b->err ? b->err : -EINVAL;
	int mark = kt_kmsg_mark(), rc = kt_load(mod, b->params);
	char *text = kt_kmsg_text(mark);
	char prefix[64];
	int lines;
	bool good;

	snprintf(prefix, sizeof(prefix), "%s:", mod);
	lines = kt_count_lines(text, prefix) - kt_count_lines(text, "taint");
	good = rc == want && kt_count_lines(text, b->log) == 1 && lines == 1;
	if (!good)
		printf("# %s: load returned %d (want %d); log: %s\n",
		       b->params, rc, want, text);
	free(text);
	if (!good && rc == 0)
		kt_unload(mod);
	if (!good)
		fail_msg("%s %s: not refused as expected", mod, b->params);
	left();
}

void kt_expect_all_refused(const char *mod, const struct kt_bad_param *bad,
			   size_t n, int rounds, void (*left)(void))
{
	long long vm0 = kt_meminfo_kb("VmallocUsed");
	long long slab0 = kt_meminfo_kb("SUnreclaim");
	size_t i;
	int r;

	for (r = 0; r < rounds; r++)
		for (i = 0; i < n; i++)
			kt_expect_refused(mod, &bad[i], left);
	printf("# %zu bad %s parameter forms refused %d times each\n", n, mod,
	       rounds);
	assert_true(kt_meminfo_kb("VmallocUsed") < vm0 + 1024);
	assert_true(kt_meminfo_kb("SUnreclaim") < slab0 + 1024);
}
