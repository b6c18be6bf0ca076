// SPDX-License-Identifier: GPL-2.0
/*
 * message_slot.c - message slots: a character device for messages that stay.
 *
 * Each minor is a slot of channels (non-zero 32-bit ids); each channel keeps
 * its last message (1-128 bytes) until it is overwritten, and reading does
 * not consume it.  The ABI is the operating-systems course's, kept exactly
 * (include/uapi/kipc/message_slot.h, docs/message_slot.md); kipc adds safe
 * concurrency, poll/epoll, an opt-in blocking read, caps, memory limits and
 * debugfs statistics.  From user space:
 *
 *	int fd = open("/dev/slot0", O_RDWR);
 *	ioctl(fd, MSG_SLOT_CHANNEL, 7);	// by value
 *	write(fd, "hello", 5);
 *	n = read(fd, buf, MSG_SLOT_MAX_MSG_LEN);	// 5: "hello", still stored
 *	close(fd);
 *
 * The notes on each design decision stand above the code that makes it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cdev.h>
#include <linux/cred.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/hash.h>
#include <linux/hashtable.h>
#include <linux/jhash.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/poll.h>
#include <linux/rculist_nulls.h>
#include <linux/rcupdate.h>
#include <linux/rhashtable.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/seqlock.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include <kipc/message_slot.h>

#include "kipc_compat.h"

/* ---- module parameters ---- */

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

static unsigned int max_views = 1024;
module_param_cb(max_views, &ms_cap_ops, &max_views, 0644);
MODULE_PARM_DESC(max_views,
		 "channels with a mapped view per slot (default 1024)");

/*
 * The memory limits, in bytes of real memory (what a message is charged:
 * see ms_store_new() and MS_HT_SHARE).  0 until ms_init() computes the
 * defaults: max_mem 1/16 of the RAM, user_max_mem a quarter of max_mem,
 * unless given at load.
 */
static unsigned long max_mem;
static unsigned long user_max_mem;
static bool user_max_mem_given;

/* Memory charged to all stored messages; under ms_acct_lock. */
static unsigned long ms_mem_used;

/*
 * Like the caps, a limit must be at least 1: 0 or a malformed number is
 * EINVAL (too big for the type: ERANGE) and changes nothing.
 */
static int ms_set_mem(const char *val, const struct kernel_param *kp)
{
	unsigned long v;
	int err = kstrtoul(val, 0, &v);

	if (err)
		return err;
	if (!v)
		return -EINVAL;
	WRITE_ONCE(*(unsigned long *)kp->arg, v);
	if (kp->arg == &user_max_mem)
		user_max_mem_given = true;
	return 0;
}

static const struct kernel_param_ops ms_mem_ops = {
	.set = ms_set_mem,
	.get = param_get_ulong,
};

module_param_cb(max_mem, &ms_mem_ops, &max_mem, 0644);
MODULE_PARM_DESC(max_mem,
		 "memory all messages may use, bytes (default 1/16 of RAM)");

module_param_cb(user_max_mem, &ms_mem_ops, &user_max_mem, 0644);
MODULE_PARM_DESC(user_max_mem,
		 "memory one user's messages may use, bytes (default max_mem/4)");

/* mem_used is a statistic: reading shows it, setting it is refused. */
static int ms_set_ro(const char *val, const struct kernel_param *kp)
{
	return -EPERM;
}

static int ms_get_used(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%lu\n", READ_ONCE(ms_mem_used));
}

static const struct kernel_param_ops ms_used_ops = {
	.set = ms_set_ro,
	.get = ms_get_used,
};

module_param_cb(mem_used, &ms_used_ops, NULL, 0444);
MODULE_PARM_DESC(mem_used, "memory the stored messages use, bytes (read-only)");

/* ---- data structures ---- */

/*
 * Each message's share of its slot's channel table: the rhashtable keeps
 * between 30% and 75% of its buckets (one pointer each) in use, and holds
 * two tables while it resizes, so a channel costs at most about 3-4
 * pointers of table.
 */
#define MS_HT_SHARE (4 * sizeof(struct rhash_head *))

/**
 * struct ms_user - one user's share of the module's memory
 * @node: entry in ms_users
 * @uid: the user: the real uid of the writers charged
 * @mem: memory charged to this user's messages
 * @msgs: messages charged to this user, including a write's reservation;
 *	the entry is freed when it drops to 0
 */
struct ms_user {
	struct hlist_node node;
	kuid_t uid;
	unsigned long mem;
	unsigned long msgs;
};

/* Users holding a charge, by uid; under ms_acct_lock. */
static DEFINE_HASHTABLE(ms_users, 6);
static unsigned long ms_nr_users;
/* Protects ms_users, every struct ms_user, ms_nr_users and ms_mem_used. */
static DEFINE_SPINLOCK(ms_acct_lock);

/*
 * A channel's message is the hash table entry itself, allocated with room
 * for its length rounded up to the kmalloc size class.  A write that fits
 * overwrites it in place inside a seqcount write section: no allocation,
 * no table update, no RCU callback per message, so the common write costs
 * about what a pipe's does.  Only a longer message allocates a bigger entry
 * that replaces the old one, freed after an RCU grace period.  Each message
 * carries its channel's sequence number (1 for the first message, +1 per
 * write), which drives poll and blocking reads.
 */

struct ms_vpage;

/**
 * struct ms_msg - one channel's current message
 * @node: entry in the slot's channel table
 * @id: channel id (the key)
 * @charge: memory charged for this entry (object size + table share)
 * @cap: bytes @data can hold (fixed at allocation)
 * @len: number of bytes in @data (1..@cap)
 * @seq: the channel's sequence number of this message (1, 2, ...)
 * @owner: the user charged @charge (its last writer); valid while the
 *	message exists, changed only by writers holding the slot's mutex
 * @uid: @owner's uid, here for the common write's check (same cache line)
 * @sc: protects @len, @seq and @data against readers; writers hold the
 *	slot's mutex and write with preemption disabled
 * @vp: while the message is the channel's: the channel's mapped view (in
 *	the slot's @views), or NULL; changed under the slot's mutex
 * @rcu: once the message was replaced: frees the entry after readers
 *	that may see it are gone (no writer looks at @vp any more)
 * @data: the message bytes
 */
struct ms_msg {
	struct rhash_head node;
	u32 id;
	u16 charge;
	u8 cap;
	u8 len;
	u64 seq;
	struct ms_user *owner;
	seqcount_t sc;		/* @len, @seq, @data; see above */
	kuid_t uid;
	union {
		struct ms_vpage *vp;
		struct rcu_head rcu;
	};
	u8 data[];
};

/*
 * A slot's channels are a resizable hash table (rhashtable) of messages
 * keyed by channel id: O(1) lookups under RCU at any number of channels,
 * and memory proportional to the number of channels whatever their ids (an
 * xarray costs up to ~1.2 KiB of index per channel for scattered 32-bit
 * ids, enough to exhaust a 1 GiB machine at 2^20 channels).
 *
 * The key is one u32: hash and compare it as such (the generic jhash2 and
 * memcmp cost a third of the lookup; bench/insn counts them).
 */
static u32 ms_ht_hash(const void *data, u32 len, u32 seed)
{
	return jhash_1word(*(const u32 *)data, seed);
}

static int ms_ht_cmp(struct rhashtable_compare_arg *arg, const void *obj)
{
	const struct ms_msg *msg = obj;

	return msg->id != *(const u32 *)arg->key;
}

static const struct rhashtable_params ms_ht_params = {
	.key_len = sizeof(u32),
	.key_offset = offsetof(struct ms_msg, id),
	.head_offset = offsetof(struct ms_msg, node),
	.hashfn = ms_ht_hash,
	.obj_cmpfn = ms_ht_cmp,
	.automatic_shrinking = true,
};

/* Buckets of a slot's hash of open files by channel: 64 (512 bytes). */
#define MS_WATCH_BITS 6

/**
 * struct ms_slot - one slot (minor)
 * @lock: serializes writers of this slot; protects @nr_channels, @bytes
 *	and the insertion and replacement of messages in @channels (the
 *	table's bucket locks protect its structure against its resizing
 *	worker; RCU protects messages from readers)
 * @channels: channel id -> current struct ms_msg
 * @nr_channels: number of channels holding a message
 * @bytes: sum of the lengths of all stored messages
 * @watch_lock: serializes changes to @watchers (writers walk it under RCU)
 * @gen: bumped (under @lock, with release) each time a message is replaced
 *	by a bigger one, before the old one is freed: a file's cached message
 *	(struct ms_file @cmsg) is valid while @gen is what it was when cached
 * @watchers: the slot's open files that selected a channel, hashed by the
 *	channel (hash_32(id, MS_WATCH_BITS)); a nulls list whose end marker
 *	is the bucket's number, since a file moving between buckets can lead
 *	a walker into another bucket (it then starts again)
 * @views: channel id -> its mapped view (struct ms_vpage); under @lock
 * @nr_views: number of entries in @views; under @lock
 * @minor: this slot's minor number
 */
struct ms_slot {
	struct mutex lock;	/* writers; see @lock above */
	struct rhashtable channels;
	unsigned long nr_channels;
	unsigned long bytes;
	unsigned long gen;
	spinlock_t watch_lock;	/* changes to @watchers */
	struct hlist_nulls_head watchers[1 << MS_WATCH_BITS];
	struct xarray views;
	unsigned int nr_views;
	unsigned int minor;
};

/**
 * struct ms_file - state of one open file
 * @slot: the slot of the file's minor
 * @lock: serializes changes to the fields below
 * @sc: lets reads and writes snapshot @channel, @censor, @blocking and
 *	@last_seq without taking @lock (changes happen inside it)
 * @channel: selected channel id, 0 if none
 * @censor: censorship on
 * @blocking: blocking reads on
 * @last_seq: sequence number of the last message read on @channel
 * @cmsg: @channel's message as last looked up, or NULL: use it instead of a
 *	lookup only under rcu_read_lock() and while the slot's gen is @cgen
 * @cgen: the slot's gen loaded before the lookup that found @cmsg
 * @wq: this file's blocking readers and pollers wait here
 * @wnode: entry in the slot's @watchers bucket of @channel (once set);
 *	changed under the slot's watch_lock
 * @rcu: frees the file's state after writers walking @wnode are gone
 */
struct ms_file {
	struct ms_slot *slot;
	spinlock_t lock;	/* changes of the fields up to @cgen */
	seqcount_spinlock_t sc;	/* lockless snapshots of them; see above */
	u32 channel;
	bool censor;
	bool blocking;
	u64 last_seq;
	struct ms_msg *cmsg;
	unsigned long cgen;
	wait_queue_head_t wq;
	struct hlist_nulls_node wnode;
	struct rcu_head rcu;
};

/*
 * Slots by minor, created on first open of their minor and kept until the
 * module is unloaded; the xarray's lock protects it, ms_slots_mutex
 * creation.
 */
static DEFINE_XARRAY(ms_slots);
/* Serializes slot creation (lookup + insert) and the debugfs walk. */
static DEFINE_MUTEX(ms_slots_mutex);

static dev_t ms_dev;
static struct cdev ms_cdev;
static struct class *ms_class;
static struct dentry *ms_debugfs;

/* ---- memory accounting ---- */

/*
 * Every stored message is charged its real memory (the entry's slab object
 * size plus its share of the channel table) to the module's total and to
 * the real uid of its last writer.  A write that would add memory past the
 * ceiling (max_mem) or past its writer's quota (user_max_mem; openers with
 * CAP_SYS_RESOURCE or CAP_SYS_ADMIN are exempt) fails with ENOSPC and
 * changes nothing: the charge is reserved before the entry is allocated
 * (ms_charge_reserve()), then settled (ms_charge_commit()) or given back
 * (ms_charge_cancel()).  An overwrite in place by the message's owner
 * changes no charge and takes no global lock.
 */

static struct ms_user *ms_user_find(kuid_t uid)
{
	struct ms_user *u;

	lockdep_assert_held(&ms_acct_lock);
	hash_for_each_possible(ms_users, u, node, __kuid_val(uid))
		if (uid_eq(u->uid, uid))
			return u;
	return NULL;
}

/* Drop one message of U's; free U with its last.  Under ms_acct_lock. */
static void ms_user_drop(struct ms_user *u, unsigned long mem)
{
	lockdep_assert_held(&ms_acct_lock);
	WARN_ON_ONCE(u->mem < mem || !u->msgs);
	u->mem -= mem;
	if (--u->msgs)
		return;
	WARN_ON_ONCE(u->mem);
	hash_del(&u->node);
	ms_nr_users--;
	kfree(u);
}

/*
 * Is the writer exempt from the per-user quota?  Like pipes' limits,
 * CAP_SYS_RESOURCE or CAP_SYS_ADMIN (in the initial user namespace)
 * exempts; checked against the credentials the file was opened with, not
 * the writer's (a privilege check in write() would let a user pass a file
 * to a setuid program and have it write past the quota).
 */
static bool ms_exempt(struct file *file)
{
	return file_ns_capable(file, &init_user_ns, CAP_SYS_RESOURCE) ||
	       file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN);
}

/**
 * struct ms_charge - one write's change to the accounting
 * @user: the writer's entry, charged @mem (set by ms_charge_reserve())
 * @prev: the owner of the message the write replaces, or NULL
 * @mem: the new message's charge
 * @prev_mem: the replaced message's charge (0 without one); entries never
 *	shrink, so @mem >= @prev_mem
 */
struct ms_charge {
	struct ms_user *user;
	struct ms_user *prev;
	unsigned long mem;
	unsigned long prev_mem;
};

/*
 * A write that must not wait (IOCB_NOWAIT: RWF_NOWAIT, io_uring's inline
 * attempt) allocates with these flags: no reclaim, and a failure is EAGAIN
 * (the caller retries where it may wait: io_uring in its worker), not
 * ENOMEM.
 */
#define MS_GFP_NOWAIT (GFP_NOWAIT | __GFP_ACCOUNT | __GFP_NOWARN)

static int ms_nomem(gfp_t gfp)
{
	return gfpflags_allow_blocking(gfp) ? -ENOMEM : -EAGAIN;
}

/*
 * Reserve C's memory for the writer (the real uid of current, like the
 * user_struct that pipes and POSIX message queues charge): the module's
 * total grows by what the write adds, the writer's share by the new
 * message's charge (less its own old message's).  -ENOSPC past the
 * ceiling or the writer's quota, -ENOMEM (-EAGAIN with GFP_NOWAIT) if the
 * writer's entry cannot be allocated; nothing changes then.  Called with
 * the slot's mutex held.
 */
static int ms_charge_reserve(struct ms_charge *c, struct file *file,
			     gfp_t gfp)
{
	unsigned long add = c->mem - c->prev_mem, own, mine;
	kuid_t uid = current_uid();
	struct ms_user *u, *fresh = NULL;
	int exempt = -1;	/* not checked yet */

again:
	spin_lock(&ms_acct_lock);
	u = ms_user_find(uid);
	mine = u ? u->mem : 0;
	own = c->mem - (u && c->prev == u ? c->prev_mem : 0);
	if (add && ms_mem_used + add > READ_ONCE(max_mem))
		goto nospc;
	if (own && mine + own > READ_ONCE(user_max_mem)) {
		if (exempt < 0) {
			/* capable() may audit: not under the spinlock */
			spin_unlock(&ms_acct_lock);
			exempt = ms_exempt(file);
			goto again;
		}
		if (!exempt)
			goto nospc;
	}
	if (!u && !fresh) {
		spin_unlock(&ms_acct_lock);
		fresh = kzalloc(sizeof(*fresh), gfp);
		if (!fresh)
			return ms_nomem(gfp);
		goto again;	/* check again: others wrote meanwhile */
	}
	if (!u) {
		u = fresh;
		fresh = NULL;
		u->uid = uid;
		hash_add(ms_users, &u->node, __kuid_val(uid));
		ms_nr_users++;
	}
	ms_mem_used += add;
	u->mem += c->mem;
	u->msgs++;
	c->user = u;
	spin_unlock(&ms_acct_lock);
	kfree(fresh);
	return 0;

nospc:
	spin_unlock(&ms_acct_lock);
	kfree(fresh);
	return -ENOSPC;
}

/* The write succeeded: the replaced message's charge goes. */
static void ms_charge_commit(struct ms_charge *c)
{
	if (!c->prev)
		return;
	spin_lock(&ms_acct_lock);
	ms_user_drop(c->prev, c->prev_mem);
	spin_unlock(&ms_acct_lock);
}

/* The write failed after ms_charge_reserve(): give everything back. */
static void ms_charge_cancel(struct ms_charge *c)
{
	spin_lock(&ms_acct_lock);
	ms_mem_used -= c->mem - c->prev_mem;
	ms_user_drop(c->user, c->mem);
	spin_unlock(&ms_acct_lock);
}

/* MSG is being freed with its slot: release its charge. */
static void ms_uncharge(struct ms_msg *msg)
{
	spin_lock(&ms_acct_lock);
	WARN_ON_ONCE(ms_mem_used < msg->charge);
	ms_mem_used -= msg->charge;
	ms_user_drop(msg->owner, msg->charge);
	spin_unlock(&ms_acct_lock);
}

/* ---- slots and open files ---- */

static struct ms_slot *ms_slot_get(unsigned int minor)
{
	struct ms_slot *slot;
	unsigned int i;
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
	spin_lock_init(&slot->watch_lock);
	for (i = 0; i < ARRAY_SIZE(slot->watchers); i++)
		INIT_HLIST_NULLS_HEAD(&slot->watchers[i], i);
	xa_init(&slot->views);
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
	ms_uncharge(ptr);
	kfree(ptr);
}

static void ms_slot_free(struct ms_slot *slot)
{
	rhashtable_free_and_destroy(&slot->channels, ms_msg_free, NULL);
	/* every view went with its last mapping, which held the module */
	WARN_ON(!xa_empty(&slot->views));
	xa_destroy(&slot->views);
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
	seqcount_spinlock_init(&mf->sc, &mf->lock);
	init_waitqueue_head(&mf->wq);
	file->private_data = mf;
	/* read_iter/write_iter honour IOCB_NOWAIT: io_uring runs them inline */
	kipc_file_set_nowait(file);
	return 0;
}

static int ms_release(struct inode *inode, struct file *file)
{
	struct ms_file *mf = file->private_data;
	struct ms_slot *slot = mf->slot;

	/* No waiter is left: epoll let go before, poll and read returned. */
	if (mf->channel) {
		spin_lock(&slot->watch_lock);
		hlist_nulls_del_rcu(&mf->wnode);
		spin_unlock(&slot->watch_lock);
	}
	kfree_rcu(mf, rcu);
	return 0;
}

/* Snapshot of an open file's state, taken at the start of an operation. */
struct ms_snap {
	u32 channel;
	bool censor;
	bool blocking;
	u64 last_seq;
	struct ms_msg *cmsg;
	unsigned long cgen;
};

/* Lockless: a consistent snapshot through the file's seqcount. */
static void ms_snap_take(struct ms_file *mf, struct ms_snap *v)
{
	unsigned int start;

	do {
		start = read_seqcount_begin(&mf->sc);
		v->channel = mf->channel;
		v->censor = mf->censor;
		v->blocking = mf->blocking;
		v->last_seq = mf->last_seq;
		v->cmsg = mf->cmsg;
		v->cgen = mf->cgen;
	} while (read_seqcount_retry(&mf->sc, start));
}

/*
 * Remember MSG, found by a lookup after the slot's gen was GEN, as the
 * file's message of CHANNEL (unless the file switched channel since).
 */
static void ms_cache(struct ms_file *mf, u32 channel, struct ms_msg *msg,
		     unsigned long gen)
{
	spin_lock(&mf->lock);
	if (mf->channel == channel) {
		write_seqcount_begin(&mf->sc);
		mf->cmsg = msg;
		mf->cgen = gen;
		write_seqcount_end(&mf->sc);
	}
	spin_unlock(&mf->lock);
}

/* ---- wake-ups ---- */

/*
 * Wake-ups are targeted: each open file has its own wait queue (blocking
 * reads, poll, select and epoll wait there), and each slot keeps its files
 * in a small hash by selected channel.  A write walks only its channel's
 * bucket under RCU and wakes only the files that selected its channel and
 * have a waiter; a file that switches channel moves buckets and wakes its
 * own waiters to re-evaluate (ms_switch_channel()).
 */
static unsigned int ms_watch_bucket(u32 id)
{
	return hash_32(id, MS_WATCH_BITS);
}

/*
 * Wake the waiters of the files that selected channel ID, and only those.
 * The caller has published the message; the barrier orders that before
 * the lockless look at each file's wait queue, and pairs with the one in
 * ms_poll() after poll_wait() and with set_current_state() in blocking
 * reads (as wq_has_sleeper() does).
 */
static void ms_wake_channel(struct ms_slot *slot, u32 id)
{
	unsigned int b = ms_watch_bucket(id);
	struct hlist_nulls_node *pos;
	struct ms_file *mf;

	/* the message before the wait queues: pairs with ms_poll()'s */
	smp_mb();
	rcu_read_lock();
again:
	hlist_nulls_for_each_entry_rcu(mf, pos, &slot->watchers[b], wnode) {
		if (READ_ONCE(mf->channel) != id)
			continue;
		/* lockless: ordered by the smp_mb() above */
		if (waitqueue_active(&mf->wq))
			wake_up_interruptible_poll(&mf->wq,
						   EPOLLIN | EPOLLRDNORM);
	}
	/* a file moved to another bucket led us there: walk ours again */
	if (get_nulls_value(pos) != b)
		goto again;
	rcu_read_unlock();
}

/* ---- reading ---- */

/* Sequence number of the channel's current message; 0 if it has none. */
static u64 ms_current_seq(struct ms_slot *slot, u32 id)
{
	struct ms_msg *msg;
	unsigned int start;
	u64 seq = 0;

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
 * -ERESTARTSYS if a signal arrives.  If the file switches channel
 * meanwhile (another process sharing it), V is taken again and the wait
 * goes on for the new channel.
 */
static int ms_wait_newer(struct ms_file *mf, struct ms_snap *v,
			 bool nonblock)
{
	struct ms_slot *slot = mf->slot;
	int err;

	for (;;) {
		if (ms_current_seq(slot, v->channel) > v->last_seq)
			return 0;
		if (nonblock)
			return -EAGAIN;
		err = wait_event_interruptible(mf->wq,
					       ms_current_seq(slot, v->channel) >
					       v->last_seq ||
					       READ_ONCE(mf->channel) !=
					       v->channel);
		if (err)
			return err;
		ms_snap_take(mf, v);
	}
}

/*
 * The channel's current message, under rcu_read_lock(): the file's cached
 * one while no message of the slot was replaced since it was looked up
 * (see struct ms_slot @gen), else a lookup, then cached.  NULL if none.
 */
static struct ms_msg *ms_find(struct ms_file *mf, const struct ms_snap *v)
{
	struct ms_slot *slot = mf->slot;
	/* before the lookup: a replacement after it changes @gen */
	unsigned long gen = smp_load_acquire(&slot->gen);
	struct ms_msg *msg;

	if (v->cmsg && v->cgen == gen)
		return v->cmsg;
	msg = rhashtable_lookup(&slot->channels, &v->channel, ms_ht_params);
	if (msg)
		ms_cache(mf, v->channel, msg, gen);
	return msg;
}

/*
 * The read path of read(2) and of read_iter: wait if in blocking mode
 * (unless NOWAIT), then copy the channel's message into KBUF if it fits in
 * COUNT bytes.  Its length, and its sequence number in *SEQ, or -errno.
 *
 * Readers take no lock: under rcu_read_lock() they copy the message to a
 * stack buffer, retrying if a write raced (read_seqcount_retry()), and
 * copy it to user space only after rcu_read_unlock(); a torn message is
 * never returned.
 */
static ssize_t ms_fetch(struct ms_file *mf, struct ms_snap *v, bool nowait,
			size_t count, u8 *kbuf, u64 *seq)
{
	struct ms_msg *msg;
	unsigned int start;
	u32 len;
	int err;

	ms_snap_take(mf, v);
	if (!v->channel)
		return -EINVAL;
	if (v->blocking) {
		err = ms_wait_newer(mf, v, nowait);
		if (err)
			return err;
	}

	rcu_read_lock();
	msg = ms_find(mf, v);
	if (!msg) {
		rcu_read_unlock();
		return -EWOULDBLOCK;
	}
	do {
		start = read_seqcount_begin(&msg->sc);
		len = min_t(u32, msg->len, MSG_SLOT_MAX_MSG_LEN);
		*seq = msg->seq;
		if (count >= len)
			memcpy(kbuf, msg->data, len);
	} while (read_seqcount_retry(&msg->sc, start));
	rcu_read_unlock();
	if (count < len)
		return -ENOSPC;
	return len;
}

/* Mark message SEQ of V's channel read (no lock if a read did so already). */
static void ms_mark_read(struct ms_file *mf, const struct ms_snap *v, u64 seq)
{
	if (READ_ONCE(mf->last_seq) >= seq)
		return;
	spin_lock(&mf->lock);
	if (mf->channel == v->channel && mf->last_seq < seq) {
		write_seqcount_begin(&mf->sc);
		WRITE_ONCE(mf->last_seq, seq);
		write_seqcount_end(&mf->sc);
	}
	spin_unlock(&mf->lock);
}

/*
 * read(2).  The same as ms_read_iter() on a plain user buffer: vfs_read()
 * calls this directly, without the kiocb and iterator a read_iter needs
 * (bench/insn: with ms_write(), about 150 of a write+read's 2575
 * instructions).  readv(2) and io_uring go through ms_read_iter().
 */
static ssize_t ms_read(struct file *file, char __user *buf, size_t count,
		       loff_t *ppos)
{
	struct ms_file *mf = file->private_data;
	u8 kbuf[MSG_SLOT_MAX_MSG_LEN];
	struct ms_snap v;
	ssize_t len;
	u64 seq;

	len = ms_fetch(mf, &v, file->f_flags & O_NONBLOCK, count, kbuf, &seq);
	if (len < 0)
		return len;
	/* a short copy (a fault part way) is EFAULT; the mark does not move */
	if (copy_to_user(buf, kbuf, len))
		return -EFAULT;
	ms_mark_read(mf, &v, seq);
	return len;
}

/*
 * readv(2) and io_uring's READ/READV.  The user's buffer is the iterator
 * TO; its total length is the read's size.  IOCB_NOWAIT (io_uring's first,
 * inline attempt; RWF_NOWAIT) turns a blocking-mode wait into -EAGAIN,
 * after which io_uring waits through ms_poll() and tries again.
 */
static ssize_t ms_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct file *file = iocb->ki_filp;
	struct ms_file *mf = file->private_data;
	u8 kbuf[MSG_SLOT_MAX_MSG_LEN];
	struct ms_snap v;
	ssize_t len;
	u64 seq;

	len = ms_fetch(mf, &v, (file->f_flags & O_NONBLOCK) ||
		       (iocb->ki_flags & IOCB_NOWAIT), iov_iter_count(to),
		       kbuf, &seq);
	if (len < 0)
		return len;
	/* a short copy (a fault part way) is EFAULT; the mark does not move */
	if (copy_to_iter(kbuf, len, to) != len)
		return -EFAULT;
	ms_mark_read(mf, &v, seq);
	return len;
}

static __poll_t ms_poll(struct file *file, struct poll_table_struct *wait)
{
	struct ms_file *mf = file->private_data;
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;
	struct ms_snap v;

	poll_wait(file, &mf->wq, wait);
	/* the wait queue entry before the check; see ms_wake_channel() */
	smp_mb();
	ms_snap_take(mf, &v);
	if (v.channel && ms_current_seq(mf->slot, v.channel) > v.last_seq)
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

/* ---- mapped views ---- */

/*
 * A view lets a reader see a channel's latest message with no system call,
 * as the vDSO's data page lets it read the time: the channel's message,
 * length and sequence number are copied, by the writer that stores them,
 * into a zeroed kernel page that readers map read-only (struct
 * msg_slot_view at its start).  Readers of the page follow the seqcount
 * protocol of ms_view_publish(); libkipc's kipc_slot_view_read() does it.
 *
 * One view (struct ms_vpage) per channel per slot, shared by every mapping
 * of it, created by the first mmap(2) of the channel and freed by the last
 * munmap(2).  Each is charged PAGE_SIZE plus its header to the mapper's
 * real uid like a message (same ceiling, same quota), and a slot holds at
 * most max_views.  A mapping holds its file, the file holds the module:
 * the module cannot be unloaded while a view is mapped, and a closed file
 * keeps its mappings valid until munmap.  Writers find a channel's view
 * through its message (@vp, sharing room with the RCU head the message
 * needs only once replaced), so views cost the writers of other channels
 * nothing and those of a viewed channel no lookup.
 */

/**
 * struct ms_vpage - one channel's mapped view
 * @maps: mappings (VMAs) of the view; the last one frees it
 * @id: the channel
 * @slot: the slot holding the channel
 * @page: the page mapped into the readers (zeroed at allocation)
 * @cell: the page's struct msg_slot_view, written under the slot's mutex
 * @owner: the user charged @charge (the mapper who created the view)
 * @charge: memory charged: the page and this header
 */
struct ms_vpage {
	refcount_t maps;
	u32 id;
	struct ms_slot *slot;
	struct page *page;
	struct msg_slot_view *cell;
	struct ms_user *owner;
	unsigned long charge;
};

/*
 * Copy MSG (the channel's message, just stored) into VP's page.  Under the
 * slot's mutex, so there is one writer per page, and with preemption off
 * so readers spin only briefly.  The seqcount protocol: @sequence odd,
 * write barrier, the fields, write barrier, @sequence even.  A reader that
 * loads an even @sequence (acquire), copies the fields, issues a read
 * barrier and loads the same @sequence again saw no write in between, so
 * its copy is one message whole; lengths are bounds-checked by the reader
 * (the page is read-only to it, but it must not trust a torn copy).  The
 * bytes past the new length are zeroed, so the page never shows more than
 * the current message.
 */
static void ms_view_publish(struct ms_vpage *vp, const struct ms_msg *msg)
{
	struct msg_slot_view *cell = vp->cell;
	u32 sequence = cell->sequence, old_len = cell->len;

	lockdep_assert_held(&vp->slot->lock);
	WRITE_ONCE(cell->sequence, sequence + 1);
	/* odd before the fields: pairs with the reader's second barrier */
	smp_wmb();
	memcpy(cell->data, msg->data, msg->len);
	if (old_len > msg->len)
		memset(cell->data + msg->len, 0, old_len - msg->len);
	WRITE_ONCE(cell->len, msg->len);
	WRITE_ONCE(cell->seq, msg->seq);
	/* the fields before even: pairs with the reader's acquire load */
	smp_wmb();
	WRITE_ONCE(cell->sequence, sequence + 2);
}

/*
 * Channel ID's view in FILE's slot, with one more mapping: the existing
 * one, or a new one charged to the caller (-ENOSPC past max_views, the
 * ceiling or the quota; -ENOMEM).
 */
static struct ms_vpage *ms_vpage_get(struct file *file, u32 id)
{
	struct ms_file *mf = file->private_data;
	struct ms_slot *slot = mf->slot;
	struct ms_charge c = {};
	struct ms_vpage *vp;
	struct ms_msg *msg;
	int err;

	mutex_lock(&slot->lock);
	vp = xa_load(&slot->views, id);
	if (vp) {
		refcount_inc(&vp->maps);
		goto out;
	}
	err = -ENOSPC;
	if (slot->nr_views >= READ_ONCE(max_views))
		goto err_unlock;
	c.mem = PAGE_SIZE + kmalloc_size_roundup(sizeof(*vp));
	err = ms_charge_reserve(&c, file, GFP_KERNEL_ACCOUNT);
	if (err)
		goto err_unlock;
	err = -ENOMEM;
	vp = kzalloc(sizeof(*vp), GFP_KERNEL_ACCOUNT);
	if (!vp)
		goto err_cancel;
	vp->page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!vp->page)
		goto err_free;
	err = xa_insert(&slot->views, id, vp, GFP_KERNEL_ACCOUNT);
	if (err)
		goto err_page;
	refcount_set(&vp->maps, 1);
	vp->id = id;
	vp->slot = slot;
	vp->cell = page_address(vp->page);
	vp->owner = c.user;
	vp->charge = c.mem;
	slot->nr_views++;
	ms_charge_commit(&c);
	msg = rhashtable_lookup_fast(&slot->channels, &id, ms_ht_params);
	if (msg) {
		msg->vp = vp;
		ms_view_publish(vp, msg);
	}
out:
	mutex_unlock(&slot->lock);
	return vp;

err_page:
	__free_page(vp->page);
err_free:
	kfree(vp);
err_cancel:
	ms_charge_cancel(&c);
err_unlock:
	mutex_unlock(&slot->lock);
	return ERR_PTR(err);
}

/* One mapping of VP less; the last one frees it and its charge. */
static void ms_vpage_put(struct ms_vpage *vp)
{
	struct ms_slot *slot = vp->slot;
	struct ms_msg *msg;

	if (!refcount_dec_and_mutex_lock(&vp->maps, &slot->lock))
		return;
	xa_erase(&slot->views, vp->id);
	slot->nr_views--;
	msg = rhashtable_lookup_fast(&slot->channels, &vp->id, ms_ht_params);
	if (msg)
		msg->vp = NULL;
	mutex_unlock(&slot->lock);

	spin_lock(&ms_acct_lock);
	WARN_ON_ONCE(ms_mem_used < vp->charge);
	ms_mem_used -= vp->charge;
	ms_user_drop(vp->owner, vp->charge);
	spin_unlock(&ms_acct_lock);
	/* the mappings let go of the page before their close */
	put_page(vp->page);
	kfree(vp);
}

/* A mapping copied (fork) or moved: one more of the view. */
static void ms_vm_open(struct vm_area_struct *vma)
{
	struct ms_vpage *vp = vma->vm_private_data;

	refcount_inc(&vp->maps);
}

static void ms_vm_close(struct vm_area_struct *vma)
{
	ms_vpage_put(vma->vm_private_data);
}

/*
 * The page is inserted at mmap time; this serves a fault after it was
 * zapped (madvise(MADV_DONTNEED)).  A read fault: the mapping cannot be
 * written.
 */
static vm_fault_t ms_vm_fault(struct vm_fault *vmf)
{
	struct ms_vpage *vp = vmf->vma->vm_private_data;

	get_page(vp->page);
	vmf->page = vp->page;
	return 0;
}

static const struct vm_operations_struct ms_vm_ops = {
	.open = ms_vm_open,
	.close = ms_vm_close,
	.fault = ms_vm_fault,
};

/*
 * mmap(2): the view of the channel whose id is the offset in pages; one
 * page, shared, read-only for good.  The VFS refuses a file not open for
 * reading (EACCES) and PROT_WRITE on an O_RDONLY file; here PROT_WRITE on
 * any file is EACCES, and VM_MAYWRITE goes so that mprotect(PROT_WRITE)
 * fails too (EACCES) and neither ptrace nor /proc/PID/mem can force a
 * write.  MAP_PRIVATE is EINVAL: a private copy is not a view.
 */
static int ms_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct ms_vpage *vp;
	int err;

	if (vma_pages(vma) != 1 || !vma->vm_pgoff || vma->vm_pgoff > U32_MAX)
		return -EINVAL;
	/* MAP_SHARED of an O_RDONLY file keeps only VM_MAYSHARE */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_flags & VM_WRITE)
		return -EACCES;
	vp = ms_vpage_get(file, vma->vm_pgoff);
	if (IS_ERR(vp))
		return PTR_ERR(vp);
	kipc_vm_flags_clear(vma, VM_MAYWRITE);
	kipc_vm_flags_set(vma, VM_DONTEXPAND);
	vma->vm_private_data = vp;
	vma->vm_ops = &ms_vm_ops;
	err = vm_insert_page(vma, vma->vm_start, vp->page);
	if (err) {
		/* the mapping fails as a whole: ->close is not called */
		ms_vpage_put(vp);
		return err;
	}
	return 0;
}

/* ---- writing ---- */

/*
 * The checks a write makes before it copies the message in: no channel is
 * EINVAL, then a length of 0 or more than the maximum EMSGSIZE.
 */
static int ms_write_check(struct ms_file *mf, struct ms_snap *v, size_t count)
{
	ms_snap_take(mf, v);
	if (!v->channel)
		return -EINVAL;
	if (count == 0 || count > MSG_SLOT_MAX_MSG_LEN)
		return -EMSGSIZE;
	return 0;
}

/*
 * The channel's current message for a writer, or NULL.  Under the slot's
 * mutex: only writers free messages, and they hold it, so the message
 * stays.  The file's cached message is current while the slot's gen
 * (changed under the mutex) is what it was when cached.
 */
static struct ms_msg *ms_store_find(struct ms_file *mf, const struct ms_snap *v)
{
	struct ms_slot *slot = mf->slot;
	struct ms_msg *msg;

	lockdep_assert_held(&slot->lock);
	if (v->cmsg && v->cgen == slot->gen)
		return v->cmsg;
	msg = rhashtable_lookup_fast(&slot->channels, &v->channel,
				     ms_ht_params);
	if (msg)
		ms_cache(mf, v->channel, msg, slot->gen);
	return msg;
}

/*
 * Another user's message becomes the writer's: the whole charge of MSG
 * moves to the writer's quota (which must hold it).  0, or -ENOSPC/-ENOMEM
 * with nothing changed.  Under the slot's mutex.
 */
static int ms_charge_move(struct file *file, struct ms_msg *msg, gfp_t gfp)
{
	struct ms_charge c = {
		.prev = msg->owner,
		.prev_mem = msg->charge,
		.mem = msg->charge,
	};
	int err;

	err = ms_charge_reserve(&c, file, gfp);
	if (err)
		return err;
	ms_charge_commit(&c);
	msg->owner = c.user;
	msg->uid = c.user->uid;
	return 0;
}

/*
 * The common write: COUNT bytes fit in MSG's entry, so overwrite it in
 * place.  No memory is added.  0, or -ENOSPC/-ENOMEM (the writer's quota,
 * when the message changes owner) with nothing changed.  Under the slot's
 * mutex.
 */
static int ms_store_in_place(struct file *file, struct ms_msg *msg,
			     const u8 *kbuf, size_t count, gfp_t gfp)
{
	if (!uid_eq(msg->uid, current_uid())) {
		int err = ms_charge_move(file, msg, gfp);

		if (err)
			return err;
	}
	/* no preemption inside: readers spin while the section is open */
	preempt_disable();
	write_seqcount_begin(&msg->sc);
	memcpy(msg->data, kbuf, count);
	msg->len = count;
	msg->seq++;
	/*
	 * The view inside the message's write section: a read(2) that
	 * starts after a view read ended sees the view's message or a newer
	 * one, never an older one, and never a newer one than a view read
	 * that starts after it ended.
	 */
	if (msg->vp)
		ms_view_publish(msg->vp, msg);
	write_seqcount_end(&msg->sc);
	preempt_enable();
	return 0;
}

/*
 * The first message of V's channel, or one longer than OLD's entry holds:
 * allocate an entry that fits, and insert it or let it replace OLD in the
 * channel table; OLD is freed after an RCU grace period.  The entry is
 * charged its slab object size plus MS_HT_SHARE.  0, or -ENOSPC/-ENOMEM
 * (rarely -EBUSY from the table) with nothing changed.  Under the slot's
 * mutex.
 */
static int ms_store_new(struct file *file, const struct ms_snap *v,
			struct ms_msg *old, const u8 *kbuf, size_t count,
			gfp_t gfp)
{
	struct ms_file *mf = file->private_data;
	struct ms_slot *slot = mf->slot;
	struct ms_charge c = {};
	struct ms_msg *msg;
	size_t size;
	int err;

	size = kmalloc_size_roundup(struct_size(msg, data, count));
	c.mem = size + MS_HT_SHARE;
	if (old) {
		c.prev = old->owner;
		c.prev_mem = old->charge;
	}
	err = ms_charge_reserve(&c, file, gfp);
	if (err)
		return err;
	msg = kmalloc(size, gfp);
	if (!msg) {
		err = ms_nomem(gfp);
		goto err_cancel;
	}
	msg->id = v->channel;
	msg->cap = min_t(size_t, size - offsetof(struct ms_msg, data),
			 MSG_SLOT_MAX_MSG_LEN);
	msg->len = count;
	msg->charge = c.mem;
	msg->owner = c.user;
	msg->uid = c.user->uid;
	memcpy(msg->data, kbuf, count);
	seqcount_init(&msg->sc);
	/* the view goes with the channel; one may exist before a message */
	msg->vp = old ? old->vp : slot->nr_views ?
		xa_load(&slot->views, v->channel) : NULL;
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
		goto err_free;
	if (old) {
		/*
		 * @old is unreachable now: invalidate the files' caches
		 * before it is freed.  Release: a reader that loads the new
		 * gen (acquire, in ms_find()) then finds the new message.
		 */
		smp_store_release(&slot->gen, slot->gen + 1);
		kfree_rcu(old, rcu);
	} else {
		slot->nr_channels++;
	}
	/*
	 * The view follows once the entry is in the table: for the moment
	 * between, a read(2) may return the new message while the view still
	 * shows the one before.  Entries only grow, so on a channel this
	 * happens at most once per size class.
	 */
	if (msg->vp) {
		preempt_disable();
		ms_view_publish(msg->vp, msg);
		preempt_enable();
	}
	ms_cache(mf, v->channel, msg, slot->gen);
	ms_charge_commit(&c);
	return 0;

err_free:
	kfree(msg);
err_cancel:
	ms_charge_cancel(&c);
	return err;
}

static void ms_censor(u8 *kbuf, size_t count)
{
	size_t i;

	for (i = 3; i < count; i += 4)
		kbuf[i] = '#';
}

/*
 * Store the COUNT bytes in KBUF (already copied from the user: a fault
 * stored nothing) as V's channel's message.  COUNT, or -ENOSPC/-ENOMEM
 * (-EAGAIN if NOWAIT) with nothing changed.
 *
 * Writers of a slot are serialized by its mutex, which keeps the cap and
 * memory accounting exact: a write either replaces the message and
 * updates the counters, or fails and changes nothing.  A write waits for
 * nothing but the mutex (held briefly, like a pipe's) and memory; with
 * NOWAIT (IOCB_NOWAIT) it waits for neither: a busy mutex or memory that
 * is not at hand is -EAGAIN.
 */
static ssize_t ms_store(struct file *file, const struct ms_snap *v, u8 *kbuf,
			size_t count, bool nowait)
{
	gfp_t gfp = nowait ? MS_GFP_NOWAIT : GFP_KERNEL_ACCOUNT;
	struct ms_file *mf = file->private_data;
	struct ms_slot *slot = mf->slot;
	unsigned long bytes;
	struct ms_msg *old;
	int err;

	if (v->censor)
		ms_censor(kbuf, count);

	if (!nowait)
		mutex_lock(&slot->lock);
	else if (!mutex_trylock(&slot->lock))
		return -EAGAIN;
	old = ms_store_find(mf, v);
	bytes = slot->bytes - (old ? old->len : 0) + count;
	if ((!old && slot->nr_channels >= READ_ONCE(max_channels)) ||
	    bytes > READ_ONCE(max_bytes))
		err = -ENOSPC;
	else if (old && count <= old->cap)
		err = ms_store_in_place(file, old, kbuf, count, gfp);
	else
		err = ms_store_new(file, v, old, kbuf, count, gfp);
	if (!err)
		slot->bytes = bytes;
	mutex_unlock(&slot->lock);
	if (err)
		return err;

	ms_wake_channel(slot, v->channel);
	return count;
}

/*
 * write(2): the message is the user's buffer.  Like ms_read(), this spares
 * the plain system call a kiocb and an iterator.  Both write paths copy
 * the user's bytes to a stack buffer before they take any lock, so a fault
 * (EFAULT) leaves the stored message intact.
 */
static ssize_t ms_write(struct file *file, const char __user *buf,
			size_t count, loff_t *ppos)
{
	u8 kbuf[MSG_SLOT_MAX_MSG_LEN];
	struct ms_snap v;
	int err;

	err = ms_write_check(file->private_data, &v, count);
	if (err)
		return err;
	/* all of it or EFAULT: a fault part way stores nothing */
	if (copy_from_user(kbuf, buf, count))
		return -EFAULT;
	return ms_store(file, &v, kbuf, count, false);
}

/*
 * writev(2) and io_uring's WRITE/WRITEV.  The message is the whole iterator
 * FROM (a writev's message is its iovecs concatenated; the length limits
 * apply to the total).  IOCB_NOWAIT (RWF_NOWAIT; io_uring's inline
 * attempt, which retries in its worker) makes a busy slot or a lack of
 * memory -EAGAIN instead of a wait.
 */
static ssize_t ms_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	size_t count = iov_iter_count(from);
	u8 kbuf[MSG_SLOT_MAX_MSG_LEN];
	struct ms_snap v;
	int err;

	err = ms_write_check(iocb->ki_filp->private_data, &v, count);
	if (err)
		return err;
	/* all of it or EFAULT: a fault part way stores nothing */
	if (copy_from_iter(kbuf, count, from) != count)
		return -EFAULT;
	return ms_store(iocb->ki_filp, &v, kbuf, count,
			iocb->ki_flags & IOCB_NOWAIT);
}

/* ---- ioctls ---- */

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

/*
 * Make CHANNEL the file's channel.  The read mark starts again, the cached
 * message goes, and the file moves to its new channel's watchers bucket.
 * The file's waiters (epoll, poll, a blocking read through a shared file)
 * are woken to re-evaluate for the new channel; wq_has_sleeper()'s
 * barrier orders the move before their check of the channel, so a write
 * to it either finds the file in its bucket or is seen by the waiter.
 */
static void ms_switch_channel(struct ms_file *mf, u32 channel)
{
	struct ms_slot *slot = mf->slot;

	spin_lock(&mf->lock);
	if (mf->channel == channel) {
		spin_unlock(&mf->lock);
		return;
	}
	spin_lock(&slot->watch_lock);
	if (mf->channel)
		hlist_nulls_del_rcu(&mf->wnode);
	hlist_nulls_add_head_rcu(&mf->wnode,
				 &slot->watchers[ms_watch_bucket(channel)]);
	spin_unlock(&slot->watch_lock);
	write_seqcount_begin(&mf->sc);
	WRITE_ONCE(mf->channel, channel);
	WRITE_ONCE(mf->last_seq, 0);
	mf->cmsg = NULL;
	write_seqcount_end(&mf->sc);
	spin_unlock(&mf->lock);

	if (wq_has_sleeper(&mf->wq))
		wake_up_interruptible_poll(&mf->wq, EPOLLIN | EPOLLRDNORM);
}

/* MSG_SLOT_CHANNEL: the id, non-zero. */
static long ms_ioctl_channel(struct ms_file *mf, unsigned int cmd,
			     unsigned long arg)
{
	u32 channel;

	if (ms_arg(cmd, arg, &channel) || !channel)
		return -EINVAL;
	ms_switch_channel(mf, channel);
	return 0;
}

/* MSG_SLOT_SET_CEN and MSG_SLOT_SET_BLOCKING: 0 or 1. */
static long ms_ioctl_flag(struct ms_file *mf, unsigned int cmd,
			  unsigned long arg)
{
	u32 val;

	if (ms_arg(cmd, arg, &val) || val > 1)
		return -EINVAL;
	spin_lock(&mf->lock);
	write_seqcount_begin(&mf->sc);
	if (_IOC_NR(cmd) == _IOC_NR(MSG_SLOT_SET_CEN))
		mf->censor = val;
	else
		mf->blocking = val;
	write_seqcount_end(&mf->sc);
	spin_unlock(&mf->lock);
	return 0;
}

/* Unknown commands are EINVAL (not ENOTTY), as the course's ABI says. */
static long ms_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct ms_file *mf = file->private_data;

	switch (cmd) {
	case MSG_SLOT_CHANNEL:
	case MSG_SLOT_CHANNEL_LONG:
		return ms_ioctl_channel(mf, cmd, arg);
	case MSG_SLOT_SET_CEN:
	case MSG_SLOT_SET_CEN_LONG:
	case MSG_SLOT_SET_BLOCKING:
	case MSG_SLOT_SET_BLOCKING_LONG:
		return ms_ioctl_flag(mf, cmd, arg);
	}
	return -EINVAL;
}

static const struct file_operations ms_fops = {
	.owner = THIS_MODULE,
	.open = ms_open,
	.release = ms_release,
	.read = ms_read,
	.write = ms_write,
	.read_iter = ms_read_iter,
	.write_iter = ms_write_iter,
	.poll = ms_poll,
	.mmap = ms_mmap,
	.unlocked_ioctl = ms_ioctl,
	.compat_ioctl = ms_ioctl,	/* the argument is a value, not a pointer */
};

/* ---- debugfs statistics ---- */

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

/* The limits and the memory in use (the quantities the limits bound). */
static int ms_memory_show(struct seq_file *m, void *v)
{
	unsigned long used, users;

	spin_lock(&ms_acct_lock);
	used = ms_mem_used;
	users = ms_nr_users;
	spin_unlock(&ms_acct_lock);
	seq_printf(m, "max_mem %lu\nuser_max_mem %lu\nmem_used %lu\nusers %lu\n",
		   READ_ONCE(max_mem), READ_ONCE(user_max_mem), used, users);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ms_memory);

#define MS_TOP_USERS 16

/* The MS_TOP_USERS users with the most memory, largest first. */
static int ms_users_show(struct seq_file *m, void *v)
{
	struct {
		kuid_t uid;
		unsigned long mem, msgs;
	} top[MS_TOP_USERS];
	unsigned int n = 0, i, bkt;
	struct ms_user *u;

	spin_lock(&ms_acct_lock);
	hash_for_each(ms_users, bkt, u, node) {
		if (n < MS_TOP_USERS)
			i = n++;
		else if (u->mem > top[MS_TOP_USERS - 1].mem)
			i = MS_TOP_USERS - 1;	/* the smallest one drops out */
		else
			continue;
		for (; i > 0 && top[i - 1].mem < u->mem; i--)
			top[i] = top[i - 1];
		top[i].uid = u->uid;
		top[i].mem = u->mem;
		top[i].msgs = u->msgs;
	}
	spin_unlock(&ms_acct_lock);
	seq_puts(m, "uid mem messages\n");
	for (i = 0; i < n; i++)
		seq_printf(m, "%u %lu %lu\n",
			   from_kuid_munged(seq_user_ns(m), top[i].uid),
			   top[i].mem, top[i].msgs);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ms_users);

/* ---- module load and unload ---- */

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
	/* The limits not given at load: 1/16 of the RAM, a quarter of it. */
	if (!max_mem)
		max_mem = max((totalram_pages() << PAGE_SHIFT) / 16, 1UL);
	if (!user_max_mem_given)
		user_max_mem = max(max_mem / 4, 1UL);
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
	debugfs_create_file("memory", 0444, ms_debugfs, NULL, &ms_memory_fops);
	debugfs_create_file("users", 0444, ms_debugfs, NULL, &ms_users_fops);

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
	/* Every charge went with its message. */
	WARN(ms_mem_used || ms_nr_users || !hash_empty(ms_users),
	     "message_slot: %lu bytes of %lu users still charged at unload\n",
	     ms_mem_used, ms_nr_users);
}

module_init(ms_init);
module_exit(ms_exit);

/* udev-less systems: opening a node of the default major loads the module */
MODULE_ALIAS_CHARDEV_MAJOR(MSG_SLOT_MAJOR);
MODULE_LICENSE("GPL");
MODULE_VERSION(KIPC_VERSION);
MODULE_AUTHOR("kipc contributors");
MODULE_DESCRIPTION("kipc: message slots, channels that keep their last message");
