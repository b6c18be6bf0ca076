// SPDX-License-Identifier: GPL-2.0
/*
 * kipc_fi - test-only module for kipc's fault-injection walk.
 *
 * /dev/kipc_fi (a misc device) keeps, per open file, a list of byte strings
 * pushed with an ioctl.  open() allocates the file's state, KIPC_FI_PUSH
 * copies the argument, allocates an entry and its bytes and copies the
 * bytes in, KIPC_FI_GET copies them back out.  Every step can fail and
 * every failure unwinds, which is what tests/faultinject/walker.c walks with
 * /proc/thread-self/fail-nth to show that the walk really injects faults.
 * Module init allocates too, so a walk over finit_module() reaches it.
 * Never shipped.  ABI: tests/kmod/kipc_fi.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "kipc_fi.h"

/**
 * struct kipc_fi_file - state of one open file
 * @lock:    protects @strings and @count
 * @strings: list of struct kipc_fi_str, oldest first
 * @count:   number of entries in @strings
 */
struct kipc_fi_file {
	struct mutex lock;	/* protects strings and count */
	struct list_head strings;
	unsigned int count;
};

/**
 * struct kipc_fi_str - one pushed string
 * @node: link in kipc_fi_file.strings
 * @len:  number of bytes at @data
 * @data: the bytes (separately allocated, so a push has two allocations)
 */
struct kipc_fi_str {
	struct list_head node;
	u32 len;
	u8 *data;
};

/* Allocated at init so that a walk over module loading meets it. */
static char *kipc_fi_banner;

static int kipc_fi_open(struct inode *inode, struct file *file)
{
	struct kipc_fi_file *f = kzalloc(sizeof(*f), GFP_KERNEL);

	if (!f)
		return -ENOMEM;
	mutex_init(&f->lock);
	INIT_LIST_HEAD(&f->strings);
	file->private_data = f;
	return 0;
}

static int kipc_fi_release(struct inode *inode, struct file *file)
{
	struct kipc_fi_file *f = file->private_data;
	struct kipc_fi_str *s, *tmp;

	list_for_each_entry_safe(s, tmp, &f->strings, node) {
		list_del(&s->node);
		kfree(s->data);
		kfree(s);
	}
	mutex_destroy(&f->lock);
	kfree(f);
	return 0;
}

static long kipc_fi_push(struct kipc_fi_file *f, void __user *argp)
{
	struct kipc_fi_buf arg;
	struct kipc_fi_str *s;
	long ret;

	if (copy_from_user(&arg, argp, sizeof(arg)))
		return -EFAULT;
	if (!arg.len || arg.len > KIPC_FI_MAX_LEN || arg.index)
		return -EINVAL;
	s = kmalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	s->len = arg.len;
	s->data = kmalloc(arg.len, GFP_KERNEL);
	if (!s->data) {
		ret = -ENOMEM;
		goto err_free_str;
	}
	if (copy_from_user(s->data, u64_to_user_ptr(arg.ptr), arg.len)) {
		ret = -EFAULT;
		goto err_free_data;
	}
	mutex_lock(&f->lock);
	list_add_tail(&s->node, &f->strings);
	ret = ++f->count;
	mutex_unlock(&f->lock);
	return ret;

err_free_data:
	kfree(s->data);
err_free_str:
	kfree(s);
	return ret;
}

static long kipc_fi_get(struct kipc_fi_file *f, void __user *argp)
{
	struct kipc_fi_buf arg;
	struct kipc_fi_str *s;
	unsigned int i = 0;
	long ret = -ENOENT;

	if (copy_from_user(&arg, argp, sizeof(arg)))
		return -EFAULT;
	mutex_lock(&f->lock);
	list_for_each_entry(s, &f->strings, node) {
		if (i++ != arg.index)
			continue;
		ret = 0;
		if (arg.len < s->len)
			ret = -ENOSPC;
		else if (copy_to_user(u64_to_user_ptr(arg.ptr), s->data, s->len))
			ret = -EFAULT;
		arg.len = s->len;
		break;
	}
	mutex_unlock(&f->lock);
	if (!ret && copy_to_user(argp, &arg, sizeof(arg)))
		ret = -EFAULT;
	return ret;
}

static long kipc_fi_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	struct kipc_fi_file *f = file->private_data;
	long ret;

	switch (cmd) {
	case KIPC_FI_PUSH:
		return kipc_fi_push(f, (void __user *)arg);
	case KIPC_FI_GET:
		return kipc_fi_get(f, (void __user *)arg);
	case KIPC_FI_COUNT:
		mutex_lock(&f->lock);
		ret = f->count;
		mutex_unlock(&f->lock);
		return ret;
	default:
		return -ENOTTY;
	}
}

static const struct file_operations kipc_fi_fops = {
	.owner = THIS_MODULE,
	.open = kipc_fi_open,
	.release = kipc_fi_release,
	.unlocked_ioctl = kipc_fi_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice kipc_fi_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "kipc_fi",
	.fops = &kipc_fi_fops,
	.mode = 0666,
};

static int __init kipc_fi_init(void)
{
	int ret;

	kipc_fi_banner = kstrdup("kipc fault-injection target", GFP_KERNEL);
	if (!kipc_fi_banner)
		return -ENOMEM;
	ret = misc_register(&kipc_fi_dev);
	if (ret)
		goto err_free_banner;
	return 0;

err_free_banner:
	kfree(kipc_fi_banner);
	return ret;
}

static void __exit kipc_fi_exit(void)
{
	misc_deregister(&kipc_fi_dev);
	kfree(kipc_fi_banner);
}

module_init(kipc_fi_init);
module_exit(kipc_fi_exit);
MODULE_DESCRIPTION("kipc test-only module: target for fault-injection walks");
MODULE_LICENSE("GPL");
