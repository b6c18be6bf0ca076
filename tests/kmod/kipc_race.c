// SPDX-License-Identifier: GPL-2.0
/*
 * kipc_race - test-only module with a deliberate data race, on load.
 *
 * Two kernel threads update one plain counter with no lock for a while.
 * On a KCSAN kernel (make check-kcsan) that must produce a "BUG: KCSAN:
 * data-race" report, which proves the lane sees races in kipc's modules
 * (they are instrumented, the core kernel is not).  Elsewhere it only
 * counts.  Never shipped.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/sched.h>

/* Deliberately unprotected: the race this module exists for. */
static unsigned long kipc_race_counter;

static int kipc_race_fn(void *arg)
{
	struct completion *done = arg;
	unsigned long end = jiffies + msecs_to_jiffies(2000);

	while (time_before(jiffies, end)) {
		kipc_race_counter++;
		cond_resched();
	}
	complete(done);
	return 0;
}

static int __init kipc_race_init(void)
{
	struct completion done[2];
	struct task_struct *t;
	int i, started = 0;

	for (i = 0; i < 2; i++) {
		init_completion(&done[i]);
		t = kthread_run(kipc_race_fn, &done[i], "kipc_race/%d", i);
		if (IS_ERR(t))
			break;
		started++;
	}
	for (i = 0; i < started; i++)
		wait_for_completion(&done[i]);
	pr_info("%d threads, counter %lu\n", started, kipc_race_counter);
	return started == 2 ? 0 : -ENOMEM;
}

static void __exit kipc_race_exit(void)
{
}

module_init(kipc_race_init);
module_exit(kipc_race_exit);
MODULE_DESCRIPTION("kipc test-only module: a deliberate data race on load");
MODULE_LICENSE("GPL");
