// SPDX-License-Identifier: GPL-2.0
/*
 * kipc_warn - test-only module that raises a WARN() when loaded.
 *
 * It exists to prove that the VM rig fails a run whose guest printed a
 * kernel warning, even when the command itself succeeded.  Never shipped.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bug.h>
#include <linux/module.h>

static int __init kipc_warn_init(void)
{
	WARN(1, "kipc rig self-test: deliberate warning\n");
	return 0;
}

static void __exit kipc_warn_exit(void)
{
}

module_init(kipc_warn_init);
module_exit(kipc_warn_exit);
MODULE_DESCRIPTION("kipc test-only module: WARN() on load");
MODULE_LICENSE("GPL");
