// SPDX-License-Identifier: GPL-2.0
/*
 * message_slot.c - message slots: a character device for messages that stay.
 *
 * Each minor of the device is a slot; each slot holds channels keyed by a
 * non-zero 32-bit id; each channel keeps its last message (1-128 bytes)
 * until it is overwritten.  An open file picks a channel with an ioctl and
 * then writes or reads whole messages.  The ABI is the operating-systems
 * course's message slot, kept exactly (see include/uapi/kipc/message_slot.h
 * and docs/message_slot.md); on top of it kipc adds safe concurrency,
 * poll/epoll, an opt-in blocking read, caps and debugfs statistics.
 *
 * Design:
 *  - Slots are created on first open of their minor and live in the
 *    ms_slots xarray until the module is unloaded.
 *  - A slot's channels are a resizable hash table (rhashtable) of messages
 *    keyed by channel id: O(1) lookups under RCU at any number of channels,
 *    and memory proportional to the number of channels whatever their ids
 *    (an xarray costs up to ~1.2 KiB of index per channel for scattered
 *    32-bit ids, enough to exhaust a 1 GiB machine at 2^20 channels).
 *  - A channel's message (struct ms_msg, the hash table entry itself) is
 *    allocated with room for its length rounded up to the kmalloc size
 *    class.  A write that fits overwrites it in place inside a seqcount
 *    write section (no allocation, no table update, no RCU callback per
 *    message: the common case costs about what a pipe's write does); only
 *    a longer message allocates a bigger entry, replaces the old one
 *    (rhashtable_replace_fast()) and frees it after an RCU grace period.
 *    Readers need no lock: under rcu_read_lock() they copy the message to
 *    a stack buffer, retrying if a write raced (read_seqcount_retry()),
 *    then copy it to user space; a torn message is never returned.
 *  - A write copies the user's bytes to a stack buffer before it takes any
 *    lock, so a fault (EFAULT) leaves the stored message intact.
 *  - Writers of a slot are serialized by the slot's mutex, which keeps the
 *    cap accounting exact: a write either replaces the message and updates
 *    the counters, or fails and changes nothing.
 *  - Each message carries its channel's sequence number (1 for the first
 *    message, +1 per write); each open file remembers the number of the
 *    last message it read, which drives poll and blocking reads.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cdev.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/poll.h>
#include <linux/rcupdate.h>
#include <linux/rhashtable.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/seqlock.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include <kipc/message_slot.h>

#include "kipc_compat.h"

static unsigned int major = MSG_SLOT_MAJOR;
module_param(major, uint, 0444);
MODULE_PARM_DESC(major, "character major (default 235; 0 = dynamic)");

static unsigned int nodes;
module_param(nodes, uint, 0444);
MODULE_PARM_DESC(nodes,
		 "create /dev/message_slotN for minors 0..nodes-1 (default 0)");

static unsigned int max_channels = 1U << 20;
static unsigned long max_bytes = (1UL << 20) * MSG_SLOT_MAX_MSG_LEN;

/*
 * The caps must be at least 1 (a zero cap would make every slot unusable):
 * 0 fails the load, or the sysfs write, with EINVAL (a number too big for
 * the type with ERANGE); at load the kernel's parameter parser logs
 * "`0' invalid for parameter `max_channels'".
 */
static int ms_set_cap(const char *val, const struct kernel_param *kp)
{
	unsigned long v;
	int err = kstrtoul(val, 0, &v);

	if (err)
		return err;
	if (!v)
		return -EINVAL;
	return kp->arg == &max_bytes ? param_set_ulong(val, kp) :
				       param_set_uint(val, kp);
}

static const struct kernel_param_ops ms_cap_ops = {
	.set = ms_set_cap,
	.get = param_get_uint,
};

static const struct kernel_param_ops ms_cap_ulong_ops = {
	.set = ms_set_cap,
	.get = param_get_ulong,
};

module_param_cb(max_channels, &ms_cap_ops, &max_channels, 0644);
MODULE_PARM_DESC(max_channels, "channels per slot (default 1048576)");

module_param_cb(max_bytes, &ms_cap_ulong_ops, &max_bytes, 0644);
MODULE_PARM_DESC(max_bytes,
		 "message bytes stored per slot (default 134217728)");

/**
 * struct ms_msg - one channel's current message
 * @node: entry in the slot's channel table
 * @id: channel id (the key)
 * @cap: bytes @data can hold (fixed at allocation)
 * @len: number of bytes in @data (1..@cap)
 * @seq: the channel's sequence number of this message (1, 2, ...)
 * @sc: protects @len, @seq and @data against readers; writers hold the
 *	slot's mutex and write with preemption disabled
 * @rcu: frees the entry after readers that may see it are gone
 * @data: the message bytes
 */
struct ms_msg {
	struct rhash_head node;
	u32 id;
	u32 cap;
	u32 len;
	u64 seq;
	seqcount_t sc;		/* @len, @seq, @data; see above */
	struct rcu_head rcu;
	u8 data[];
};

static const struct rhashtable_params ms_ht_params = {
	.key_len = sizeof(u32),
	.key_offset = offsetof(struct ms_msg, id),
	.head_offset = offsetof(struct ms_msg, node),
	.automatic_shrinking = true,
};

/**
 * struct ms_slot - one slot (minor)
 * @lock: serializes writers of this slot; protects @nr_channels, @bytes
 *	and the insertion and replacement of messages in @channels (the
 *	table's bucket locks protect its structure against its resizing
 *	worker; RCU protects messages from readers)
 * @channels: channel id -> current struct ms_msg
 * @nr_channels: number of channels holding a message
 * @bytes: sum of the lengths of all stored messages
 * @wq: readers and pollers of this slot wait here for new messages
 * @minor: this slot's minor number
 */
struct ms_slot {
	struct mutex lock;	/* writers; see @lock above */
	struct rhashtable channels;
	unsigned long nr_channels;
	unsigned long bytes;
	wait_queue_head_t wq;
	unsigned int minor;
};

/**
 * struct ms_file - state of one open file
 * @slot: the slot of the file's minor
 * @lock: protects the fields below
 * @channel: selected channel id, 0 if none
 * @censor: censorship on
 * @blocking: blocking reads on
 * @last_seq: sequence number of the last message read on @channel
 */
struct ms_file {
	struct ms_slot *slot;
	spinlock_t lock;	/* channel, censor, blocking, last_seq */
	u32 channel;
	bool censor;
	bool blocking;
	u64 last_seq;
};

/* Slots by minor; the xarray's lock protects it, ms_slots_mutex creation. */
static DEFINE_XARRAY(ms_slots);
/* Serializes slot creation (lookup + insert) and the debugfs walk. */
static DEFINE_MUTEX(ms_slots_mutex);

static dev_t ms_dev;
static struct cdev ms_cdev;
static struct class *ms_class;
static struct dentry *ms_debugfs;

static struct ms_slot *ms_slot_get(unsigned int minor)
{
	struct ms_slot *slot;
	int err;

	slot = xa_load(&ms_slots, minor);
	if (slot)
		return slot;

	mutex_lock(&ms_slots_mutex);
	slot = xa_load(&ms_slots, minor);
	if (slot)
		goto out;
	slot = kzalloc(sizeof(*slot), GFP_KERNEL);
	if (!slot) {
		slot = ERR_PTR(-ENOMEM);
		goto out;
	}
	err = rhashtable_init(&slot->channels, &ms_ht_params);
	if (err)
		goto err_free;
	mutex_init(&slot->lock);
	init_waitqueue_head(&slot->wq);
	slot->minor = minor;
	err = xa_err(xa_store(&ms_slots, minor, slot, GFP_KERNEL));
	if (err)
		goto err_table;
	goto out;

err_table:
	rhashtable_destroy(&slot->channels);
err_free:
	kfree(slot);
	slot = ERR_PTR(err);
out:
	mutex_unlock(&ms_slots_mutex);
	return slot;
}

static void ms_msg_free(void *ptr, void *arg)
{
	kfree(ptr);
}

static void ms_slot_free(struct ms_slot *slot)
{
	rhashtable_free_and_destroy(&slot->channels, ms_msg_free, NULL);
	mutex_destroy(&slot->lock);
	kfree(slot);
}

static int ms_open(struct inode *inode, struct file *file)
{
	struct ms_file *mf;
	struct ms_slot *slot;

	/* First the file's state: a failed open must not create a slot. */
	mf = kzalloc(sizeof(*mf), GFP_KERNEL_ACCOUNT);
	if (!mf)
		return -ENOMEM;
	slot = ms_slot_get(iminor(inode));
	if (IS_ERR(slot)) {
		kfree(mf);
		return PTR_ERR(slot);
	}
	mf->slot = slot;
	spin_lock_init(&mf->lock);
	file->private_data = mf;
	return 0;
}

static int ms_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
}

/* Snapshot of an open file's state, taken at the start of an operation. */
struct ms_view {
	u32 channel;
	bool censor;
	bool blocking;
	u64 last_seq;
};

static void ms_view(struct ms_file *mf, struct ms_view *v)
{
	spin_lock(&mf->lock);
	v->channel = mf->channel;
	v->censor = mf->censor;
	v->blocking = mf->blocking;
	v->last_seq = mf->last_seq;
	spin_unlock(&mf->lock);
}

/* Sequence number of the channel's current message; 0 if it has none. */
static u64 ms_current_seq(struct ms_slot *slot, u32 id)
{
	struct ms_msg *msg;
	u64 seq = 0;

	unsigned int start;

	rcu_read_lock();
	msg = rhashtable_lookup(&slot->channels, &id, ms_ht_params);
	if (msg) {
		do {
			start = read_seqcount_begin(&msg->sc);
			seq = msg->seq;
		} while (read_seqcount_retry(&msg->sc, start));
	}
	rcu_read_unlock();
	return seq;
}

/*
 * Blocking mode: wait until the channel holds a message newer than the
 * last one this file read.  -EAGAIN instead of waiting if NONBLOCK,
 * -ERESTARTSYS if a signal arrives.
 */
static int ms_wait_newer(struct ms_slot *slot, const struct ms_view *v,
			 bool nonblock)
{
	if (ms_current_seq(slot, v->channel) > v->last_seq)
		return 0;
	if (nonblock)
		return -EAGAIN;
	return wait_event_interruptible(slot->wq,
					ms_current_seq(slot, v->channel) >
					v->last_seq);
}

static ssize_t ms_read(struct file *file, char __user *buf, size_t count,
		       loff_t *ppos)
{
	struct ms_file *mf = file->private_data;
	struct ms_slot *slot = mf->slot;
	u8 kbuf[MSG_SLOT_MAX_MSG_LEN];
	struct ms_msg *msg;
	unsigned int start;
	struct ms_view v;
	u32 len;
	u64 seq;
	int err;

	ms_view(mf, &v);
	if (!v.channel)
		return -EINVAL;
	if (v.blocking) {
		err = ms_wait_newer(slot, &v, file->f_flags & O_NONBLOCK);
		if (err)
			return err;
	}

	rcu_read_lock();
	msg = rhashtable_lookup(&slot->channels, &v.channel, ms_ht_params);
	if (!msg) {
		rcu_read_unlock();
		return -EWOULDBLOCK;
	}
	do {
		start = read_seqcount_begin(&msg->sc);
		len = min_t(u32, msg->len, sizeof(kbuf));
		seq = msg->seq;
		if (count >= len)
			memcpy(kbuf, msg->data, len);
	} while (read_seqcount_retry(&msg->sc, start));
	rcu_read_unlock();
	if (count < len)
		return -ENOSPC;

	if (copy_to_user(buf, kbuf, len))
		return -EFAULT;

	spin_lock(&mf->lock);
	if (mf->channel == v.channel && mf->last_seq < seq)
		mf->last_seq = seq;
	spin_unlock(&mf->lock);
	return len;
}

static ssize_t ms_write(struct file *file, const char __user *buf,
			size_t count, loff_t *ppos)
{
	struct ms_file *mf = file->private_data;
	struct ms_slot *slot = mf->slot;
	u8 kbuf[MSG_SLOT_MAX_MSG_LEN];
	struct ms_msg *msg, *old;
	unsigned long bytes;
	struct ms_view v;
	size_t i, size;
	int err;

	ms_view(mf, &v);
	if (!v.channel)
		return -EINVAL;
	if (count == 0 || count > MSG_SLOT_MAX_MSG_LEN)
		return -EMSGSIZE;
	if (copy_from_user(kbuf, buf, count))
		return -EFAULT;
	if (v.censor)
		for (i = 3; i < count; i += 4)
			kbuf[i] = '#';

	mutex_lock(&slot->lock);
	/* Only writers free messages, and they hold the lock: @old stays. */
	old = rhashtable_lookup_fast(&slot->channels, &v.channel,
				     ms_ht_params);
	bytes = slot->bytes - (old ? old->len : 0) + count;
	if ((!old && slot->nr_channels >= READ_ONCE(max_channels)) ||
	    bytes > READ_ONCE(max_bytes)) {
		mutex_unlock(&slot->lock);
		return -ENOSPC;
	}
	if (old && count <= old->cap) {
		/* The common case: overwrite in place. */
		preempt_disable();
		write_seqcount_begin(&old->sc);
		memcpy(old->data, kbuf, count);
		old->len = count;
		old->seq++;
		write_seqcount_end(&old->sc);
		preempt_enable();
		slot->bytes = bytes;
		mutex_unlock(&slot->lock);
		goto wake;
	}

	size = kmalloc_size_roundup(struct_size(msg, data, count));
	msg = kmalloc(size, GFP_KERNEL_ACCOUNT);
	if (!msg) {
		err = -ENOMEM;
		goto out_unlock;
	}
	msg->id = v.channel;
	msg->cap = min_t(size_t, size - offsetof(struct ms_msg, data),
			 MSG_SLOT_MAX_MSG_LEN);
	msg->len = count;
	memcpy(msg->data, kbuf, count);
	seqcount_init(&msg->sc);
	if (old) {
		msg->seq = old->seq + 1;
		err = rhashtable_replace_fast(&slot->channels, &old->node,
					      &msg->node, ms_ht_params);
	} else {
		msg->seq = 1;
		err = rhashtable_insert_fast(&slot->channels, &msg->node,
					     ms_ht_params);
		if (err == -E2BIG)
			err = -ENOSPC;
	}
	if (err)
		goto out_unlock;
	slot->bytes = bytes;
	if (!old)
		slot->nr_channels++;
	mutex_unlock(&slot->lock);

	if (old)
		kfree_rcu(old, rcu);
wake:
	if (wq_has_sleeper(&slot->wq))
		wake_up_interruptible_poll(&slot->wq, EPOLLIN | EPOLLRDNORM);
	return count;

out_unlock:
	mutex_unlock(&slot->lock);
	kfree(msg);
	return err;
}

static __poll_t ms_poll(struct file *file, struct poll_table_struct *wait)
{
	struct ms_file *mf = file->private_data;
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;
	struct ms_view v;

	poll_wait(file, &mf->slot->wq, wait);
	ms_view(mf, &v);
	if (v.channel && ms_current_seq(mf->slot, v.channel) > v.last_seq)
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

/*
 * Decode a by-value ioctl argument.  The 4-byte encodings take the low 32
 * bits (what an "unsigned int" argument is); the 8-byte ones must fit.
 */
static int ms_arg(unsigned int cmd, unsigned long arg, u32 *val)
{
	if (_IOC_SIZE(cmd) == sizeof(u64) && arg > U32_MAX)
		return -EINVAL;
	*val = (u32)arg;
	return 0;
}

static long ms_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct ms_file *mf = file->private_data;
	u32 val;

	switch (cmd) {
	case MSG_SLOT_CHANNEL:
	case MSG_SLOT_CHANNEL_LONG:
		if (ms_arg(cmd, arg, &val) || !val)
			return -EINVAL;
		spin_lock(&mf->lock);
		if (mf->channel != val) {
			mf->channel = val;
			mf->last_seq = 0;
		}
		spin_unlock(&mf->lock);
		return 0;
	case MSG_SLOT_SET_CEN:
	case MSG_SLOT_SET_CEN_LONG:
	case MSG_SLOT_SET_BLOCKING:
	case MSG_SLOT_SET_BLOCKING_LONG:
		if (ms_arg(cmd, arg, &val) || val > 1)
			return -EINVAL;
		spin_lock(&mf->lock);
		if (_IOC_NR(cmd) == _IOC_NR(MSG_SLOT_SET_CEN))
			mf->censor = val;
		else
			mf->blocking = val;
		spin_unlock(&mf->lock);
		return 0;
	}
	return -EINVAL;
}

static const struct file_operations ms_fops = {
	.owner = THIS_MODULE,
	.open = ms_open,
	.release = ms_release,
	.read = ms_read,
	.write = ms_write,
	.poll = ms_poll,
	.unlocked_ioctl = ms_ioctl,
	.compat_ioctl = ms_ioctl,	/* the argument is a value, not a pointer */
};

static int ms_slots_show(struct seq_file *m, void *v)
{
	struct ms_slot *slot;
	unsigned long minor;

	seq_puts(m, "minor channels bytes\n");
	mutex_lock(&ms_slots_mutex);
	xa_for_each(&ms_slots, minor, slot) {
		mutex_lock(&slot->lock);
		seq_printf(m, "%u %lu %lu\n", slot->minor, slot->nr_channels,
			   slot->bytes);
		mutex_unlock(&slot->lock);
	}
	mutex_unlock(&ms_slots_mutex);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ms_slots);

static void ms_destroy_nodes(unsigned int n)
{
	while (n--)
		device_destroy(ms_class, MKDEV(MAJOR(ms_dev), n));
	class_destroy(ms_class);
}

static int ms_create_nodes(void)
{
	struct device *dev;
	unsigned int i;

	ms_class = kipc_class_create(MSG_SLOT_NAME);
	if (IS_ERR(ms_class))
		return PTR_ERR(ms_class);
	for (i = 0; i < nodes; i++) {
		dev = device_create(ms_class, NULL, MKDEV(MAJOR(ms_dev), i),
				    NULL, MSG_SLOT_NAME "%u", i);
		if (IS_ERR(dev)) {
			ms_destroy_nodes(i);
			return PTR_ERR(dev);
		}
	}
	return 0;
}

static int __init ms_init(void)
{
	int err;

	if (nodes > MSG_SLOT_MINORS) {
		pr_err("nodes=%u: at most %u\n", nodes, MSG_SLOT_MINORS);
		return -EINVAL;
	}
	if (major >= CHRDEV_MAJOR_MAX) {
		pr_err("major=%u: must be below %u\n", major, CHRDEV_MAJOR_MAX);
		return -EINVAL;
	}
	if (major) {
		ms_dev = MKDEV(major, 0);
		err = register_chrdev_region(ms_dev, MSG_SLOT_MINORS,
					     MSG_SLOT_NAME);
	} else {
		err = alloc_chrdev_region(&ms_dev, 0, MSG_SLOT_MINORS,
					  MSG_SLOT_NAME);
	}
	if (err) {
		pr_err("cannot register major %u minors 0-%u (error %d)%s\n",
		       major, MSG_SLOT_MINORS - 1, err,
		       err == -EBUSY ? ": in use; load with major=N" : "");
		return err;
	}

	cdev_init(&ms_cdev, &ms_fops);
	ms_cdev.owner = THIS_MODULE;
	err = cdev_add(&ms_cdev, ms_dev, MSG_SLOT_MINORS);
	if (err)
		goto err_region;

	if (nodes) {
		err = ms_create_nodes();
		if (err)
			goto err_cdev;
	}

	/* Statistics are optional: debugfs may be absent or locked down. */
	ms_debugfs = debugfs_create_dir(MSG_SLOT_NAME, NULL);
	debugfs_create_file("slots", 0444, ms_debugfs, NULL, &ms_slots_fops);

	pr_info("major %u, minors 0-%u\n", MAJOR(ms_dev), MSG_SLOT_MINORS - 1);
	return 0;

err_cdev:
	cdev_del(&ms_cdev);
err_region:
	unregister_chrdev_region(ms_dev, MSG_SLOT_MINORS);
	return err;
}

static void __exit ms_exit(void)
{
	struct ms_slot *slot;
	unsigned long minor;

	debugfs_remove(ms_debugfs);
	if (nodes)
		ms_destroy_nodes(nodes);
	cdev_del(&ms_cdev);
	unregister_chrdev_region(ms_dev, MSG_SLOT_MINORS);

	/* No file is open (the module could not be unloaded otherwise). */
	xa_for_each(&ms_slots, minor, slot)
		ms_slot_free(slot);
	xa_destroy(&ms_slots);
}

module_init(ms_init);
module_exit(ms_exit);

MODULE_LICENSE("GPL");
MODULE_VERSION(KIPC_VERSION);
MODULE_AUTHOR("kipc");
MODULE_DESCRIPTION("Message slots: channels that keep their last message");
