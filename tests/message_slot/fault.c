// SPDX-License-Identifier: GPL-2.0
/*
 * message_slot/fault - fault injection on every message_slot entry point
 * that allocates memory or copies from or to user space (issue 7): open
 * (of a new slot and of an existing one), the six ioctl encodings, write
 * (a new channel, an overwrite in place, a longer message than the one
 * stored), read, poll(2) and epoll_ctl(), the writable module parameters,
 * and module loading with each parameter form.  Every allocation and user
 * copy of the call fails once in turn (tests/lib/kt_fault.h); each
 * failure must return the documented errno, print no kernel report, and
 * leave everything as it was: the messages stored (exact bytes), the
 * channel and byte counts (debugfs), the module's reference count, the
 * read marks (poll), the parameter values, and after a failed load no
 * module, major, class, /dev node or debugfs directory, with the next
 * load working.  The memory accounting (issue 16) too: a failed write
 * leaves the memory in use and every user's charge as they were (debugfs
 * memory and users), also for writes by a user with no charge yet (its
 * entry is allocated) and overwrites that move a charge to a new writer.
 * Creating a mapped view (mmap) of a channel with and without a message:
 * a failure leaves no view and no charge.
 * Then kmemleak must find nothing after unloading.
 * Skipped on kernels without fault injection (Debian's); runs under
 * make check-debug.
 */
#include "lib/kt.h"
#include "lib/kt_fault.h"
#include "lib/kt_fault_load.h"
#include "lib/kt_sys.h"
#include "lib/kt_slot.h"
#include "lib/kt_slot_quota.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MOD "message_slot"
#define DEBUGFS "/sys/kernel/debug/" MOD
#define PARAMS "/sys/module/" MOD "/parameters/"

/* Slot 0 keeps this message on channel KEEP_CH through every walk. */
#define KEEP_CH 7
static const char keep[] = "the message kept on channel 7 of slot 0";
#define KEEP_LEN (sizeof(keep) - 1)

/* The keeper's file: open on slot 0, channel KEEP_CH. */
static int keeper = -1;

static void keeper_setup(void)
{
	keeper = kt_slot_open_chan(0, KEEP_CH);
	kt_slot_put(keeper, keep, KEEP_LEN);
}

/* A freshly loaded module whose only state is the keeper's message. */
static int fresh(void **state)
{
	(void)state;
	kt_unload_if_loaded(MOD);
	if (kt_slot_load(NULL))
		return -1;
	keeper_setup();
	return 0;
}

static int cleanup(void **state)
{
	int fd;

	(void)state;
	/* files a failed test left open would keep the module */
	for (fd = 3; fd < 256; fd++)
		close(fd);
	keeper = -1;
	return kt_loaded(MOD) ? kt_unload(MOD) : 0;
}

/* Open files of the module (its reference count). */
static long long refcnt(void)
{
	return kt_read_ll("/sys/module/" MOD "/refcnt");
}

/* The keeper's message is intact, and so is slot 0 otherwise. */
static void assert_keeper(unsigned long channels, unsigned long bytes)
{
	kt_slot_expect(keeper, keep, KEEP_LEN);
	kt_slot_expect_stats(0, channels, bytes);
}

/* Is FD readable (a message it has not read) right now? */
static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	assert_true(poll(&p, 1, 0) >= 0);
	return p.revents & POLLIN;
}

static void fill(char *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (char)(seed + i * 13);
}

/* ---- open ---- */

/*
 * open() of a minor without a slot creates the slot (allocation, hash
 * table, xarray entry) and the file's state; of slot 0 only the latter.
 * A failed open leaves no file (the module's reference count) and no slot.
 */
struct open_walk {
	unsigned int minor;
	bool new_slot;
	int fd;
	long long refs;	/* the module's references without the file */
	bool saw_enomem;
};

static int open_run(void *arg)
{
	struct open_walk *w = arg;

	w->fd = open(kt_slot_path(w->minor), O_RDWR | O_CLOEXEC);
	return w->fd < 0 ? -errno : 0;
}

static void open_check(void *arg, unsigned int nth, int rc)
{
	struct open_walk *w = arg;
	unsigned long c, b;

	(void)nth;
	w->saw_enomem |= rc == -ENOMEM;
	/* an open file holds the module (twice: its cdev and its fops) */
	if (rc)
		assert_int_equal(refcnt(), w->refs);
	else
		assert_true(refcnt() > w->refs);
	if (w->new_slot)
		assert_int_equal(kt_slot_stats(w->minor, &c, &b), rc == 0);
	assert_keeper(1, KEEP_LEN);
	if (rc)
		return;
	/* the file works: it reads what the slot holds */
	kt_slot_chan(w->fd, KEEP_CH);
	if (w->new_slot)
		assert_int_equal(kt_err(read(w->fd, &c, sizeof(c))),
				 -EWOULDBLOCK);
	else
		kt_slot_expect(w->fd, keep, KEEP_LEN);
}

static void open_undo(void *arg)
{
	struct open_walk *w = arg;

	assert_int_equal(close(w->fd), 0);
	if (!w->new_slot)
		return;
	/* slots live until unload: start again without one */
	assert_int_equal(close(keeper), 0);
	assert_int_equal(kt_unload(MOD), 0);
	assert_int_equal(kt_slot_load(NULL), 0);
	keeper_setup();
}

static void walk_open(bool new_slot, unsigned int min_failed)
{
	struct open_walk w = { .minor = new_slot ? 1 : 0,
			       .new_slot = new_slot };
	const struct kt_fault_op op = {
		.name = new_slot ? "message_slot open (new slot)" :
				   "message_slot open (existing slot)",
		.run = open_run, .check = open_check, .undo = open_undo,
		.arg = &w,
	};
	struct kt_fault_result r;
	unsigned long c, b;

	kt_fault_require();
	w.refs = refcnt();
	kt_fault_walk(&op, &r);
	assert_true(r.failed >= min_failed);
	assert_true(w.saw_enomem);
	assert_int_equal(refcnt(), w.refs);
	if (new_slot)
		assert_false(kt_slot_stats(1, &c, &b));
}

static void test_walk_open_new_slot(void **state)
{
	(void)state;
	/*
	 * the file's state, the slot, its xarray node (the hash table's
	 * allocation is retried with __GFP_NOFAIL); the points drift a little
	 */
	walk_open(true, 2);
}

static void test_walk_open_existing_slot(void **state)
{
	(void)state;
	/* the file's state at least */
	walk_open(false, 1);
}

/* ---- ioctl ---- */

/*
 * The ioctls take their argument by value and allocate nothing: no fault
 * point at all, in all six encodings (4- and 8-byte argument sizes).
 */
struct ioctl_walk {
	int fd;
	unsigned long cmd, arg;
};

static int ioctl_run(void *arg)
{
	struct ioctl_walk *w = arg;

	return ioctl(w->fd, w->cmd, w->arg) < 0 ? -errno : 0;
}

static void test_walk_ioctls(void **state)
{
	static const struct {
		const char *name;
		unsigned long cmd, arg;
	} cmds[] = {
		{ "MSG_SLOT_CHANNEL", MSG_SLOT_CHANNEL, 11 },
		{ "MSG_SLOT_CHANNEL_LONG", MSG_SLOT_CHANNEL_LONG, 12 },
		{ "MSG_SLOT_SET_CEN", MSG_SLOT_SET_CEN, 1 },
		{ "MSG_SLOT_SET_CEN_LONG", MSG_SLOT_SET_CEN_LONG, 0 },
		{ "MSG_SLOT_SET_BLOCKING", MSG_SLOT_SET_BLOCKING, 0 },
		{ "MSG_SLOT_SET_BLOCKING_LONG", MSG_SLOT_SET_BLOCKING_LONG, 1 },
	};
	struct ioctl_walk w;
	struct kt_fault_op op = { .run = ioctl_run, .arg = &w, .no_points = true };
	char name[64];
	size_t i;

	(void)state;
	kt_fault_require();
	w.fd = kt_slot_open(0, O_NONBLOCK);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		snprintf(name, sizeof(name), "message_slot %s", cmds[i].name);
		op.name = name;
		w.cmd = cmds[i].cmd;
		w.arg = cmds[i].arg;
		assert_int_equal(kt_fault_walk(&op, NULL), 0);
	}
	/* and each took effect: channel 12, censorship off, blocking on */
	kt_slot_put_str(w.fd, "abcdefgh");
	kt_slot_expect_str(w.fd, "abcdefgh");
	assert_int_equal(kt_err(read(w.fd, name, sizeof(name))), -EAGAIN);
	assert_keeper(2, KEEP_LEN + 8);
}

/* ---- write ---- */

/*
 * A write copies the message in, then either overwrites the channel's
 * message in place or allocates a new entry and inserts it (new channel)
 * or replaces the old one (longer message).  A failed write changes
 * nothing: the channel's message (or its absence), the slot's counts and
 * the read mark of a file that read the old message.
 */
struct write_walk {
	int fd;		/* writes the message */
	int reader;	/* has read the channel's current message */
	unsigned int chan;
	char msg[MSG_SLOT_MAX_MSG_LEN];	/* what the walk writes */
	size_t len;
	char old[MSG_SLOT_MAX_MSG_LEN];	/* what the channel holds */
	size_t old_len;	/* 0: nothing (a new channel) */
	unsigned long channels, bytes;	/* slot 0 */
	bool saw_enomem, saw_efault;
	unsigned int uid;	/* the writer's real uid (0: root) */
	/* the accounting before the attempt */
	unsigned long mem, users, root_mem, root_msgs;
};

/* Real uid UID, effective root (the file's opener stays root: exempt). */
static void as_ruid(unsigned int uid)
{
	assert_int_equal(setresuid(uid, 0, 0), 0);
}

static void acct_snapshot(struct write_walk *w)
{
	w->mem = kt_slot_memory("mem_used");
	w->users = kt_slot_memory("users");
	assert_true(kt_slot_user(0, &w->root_mem, &w->root_msgs));
}

/* The accounting is as before the attempt; W's writer holds nothing. */
static void acct_unchanged(struct write_walk *w)
{
	assert_int_equal(kt_slot_memory("mem_used"), w->mem);
	assert_int_equal(kt_slot_memory("users"), w->users);
	kt_slot_expect_user(0, w->root_mem, w->root_msgs);
	if (w->uid)
		kt_slot_expect_user(w->uid, 0, 0);
}

static int write_run(void *arg)
{
	struct write_walk *w = arg;
	ssize_t n = write(w->fd, w->msg, w->len);

	if (n < 0)
		return -errno;
	return n == (ssize_t)w->len ? 0 : -EIO;
}

/*
 * Select W's channel on both files and store the old message, if any (as
 * root), then take the accounting snapshot.
 */
static void write_prepare(struct write_walk *w)
{
	kt_slot_chan(w->fd, w->chan);
	kt_slot_chan(w->reader, w->chan);
	if (w->old_len) {
		as_ruid(0);
		kt_slot_put(w->fd, w->old, w->old_len);
		as_ruid(w->uid);
		kt_slot_expect(w->reader, w->old, w->old_len);
		w->channels++;
		w->bytes += w->old_len;
	}
	acct_snapshot(w);
}

static void write_check(void *arg, unsigned int nth, int rc)
{
	struct write_walk *w = arg;

	(void)nth;
	w->saw_enomem |= rc == -ENOMEM;
	w->saw_efault |= rc == -EFAULT;
	if (!rc) {
		/* absorbed: the new message is there, and news to the reader */
		assert_true(readable(w->reader));
		kt_slot_expect(w->reader, w->msg, w->len);
		return;
	}
	assert_false(readable(w->reader));
	if (w->old_len)
		kt_slot_expect(w->reader, w->old, w->old_len);
	else
		assert_int_equal(kt_err(read(w->reader, w->old, sizeof(w->old))),
				 -EWOULDBLOCK);
	assert_keeper(w->channels, w->bytes);
	acct_unchanged(w);
}

/* After a successful write: count it, move on to a fresh channel. */
static void write_undo(void *arg)
{
	struct write_walk *w = arg;

	w->channels += !w->old_len;
	w->bytes = w->bytes - w->old_len + w->len;
	assert_keeper(w->channels, w->bytes);
	if (w->uid) {
		/* the writer is charged; root takes the message back */
		assert_true(kt_slot_memory("mem_used") >= w->mem);
		as_ruid(0);
		kt_slot_put(w->reader, w->msg, w->len);
		as_ruid(w->uid);
		kt_slot_expect_user(w->uid, 0, 0);
	}
	w->chan++;
	write_prepare(w);
}

static void walk_write_as(unsigned int uid, const char *name,
			  size_t old_len, size_t len, const int *errnos,
			  struct kt_fault_result *r, struct write_walk *w)
{
	const struct kt_fault_op op = {
		.name = name, .run = write_run, .check = write_check,
		.undo = write_undo, .arg = w, .errnos = errnos,
	};

	kt_fault_require();
	w->fd = kt_slot_open(0, 0);
	w->reader = kt_slot_open(0, 0);
	w->chan = 100;
	w->channels = 1;
	w->bytes = KEEP_LEN;
	fill(w->old, sizeof(w->old), 1);
	fill(w->msg, sizeof(w->msg), 2);
	w->old_len = old_len;
	w->len = len;
	w->uid = uid;
	as_ruid(uid);
	write_prepare(w);
	kt_fault_walk(&op, r);
	as_ruid(0);
	assert_keeper(w->channels, w->bytes);
	if (uid)
		kt_slot_expect_user(uid, 0, 0);
	printf("# %s: %lu bytes in use after the walk\n", name,
	       kt_slot_memory("mem_used"));
}

static void walk_write(const char *name, size_t old_len, size_t len,
		       const int *errnos, struct kt_fault_result *r,
		       struct write_walk *w)
{
	walk_write_as(0, name, old_len, len, errnos, r, w);
}

static void test_walk_write_new_channel(void **state)
{
	struct write_walk w;
	struct kt_fault_result r;

	(void)state;
	walk_write("message_slot write (new channel)", 0, 100, NULL, &r, &w);
	/* copy in: EFAULT; the entry: ENOMEM */
	assert_true(r.failed >= 2);
	assert_true(w.saw_efault && w.saw_enomem);
}

static void test_walk_write_in_place(void **state)
{
	static const int efault_only[] = { EFAULT, 0 };
	struct write_walk w;
	struct kt_fault_result r;

	(void)state;
	walk_write("message_slot write (overwrite in place)", 100, 60,
		   efault_only, &r, &w);
	/* only the copy in: no allocation */
	assert_int_equal(r.points, 1);
	assert_int_equal(r.failed, 1);
}

static void test_walk_write_longer(void **state)
{
	struct write_walk w;
	struct kt_fault_result r;

	(void)state;
	/* a 1-byte entry has room for far less than 128 bytes */
	walk_write("message_slot write (longer message)", 1,
		   MSG_SLOT_MAX_MSG_LEN, NULL, &r, &w);
	assert_true(r.failed >= 2);
	assert_true(w.saw_efault && w.saw_enomem);
}

/*
 * Writes by a user with no charge yet (real uid 2000 through root's file:
 * exempt from the quota, charged all the same): its entry in the user
 * table is allocated first, and a failure anywhere must free it again.
 */
#define FRESH_UID 2000

static void test_walk_write_new_user(void **state)
{
	struct write_walk w;
	struct kt_fault_result r;

	(void)state;
	walk_write_as(FRESH_UID, "message_slot write (new channel, new user)",
		      0, 100, NULL, &r, &w);
	/* copy in: EFAULT; the user's entry, the message's: ENOMEM */
	assert_true(r.failed >= 3);
	assert_true(w.saw_efault && w.saw_enomem);
}

static void test_walk_write_moves_charge(void **state)
{
	struct write_walk w;
	struct kt_fault_result r;

	(void)state;
	/* in place: root's message becomes uid 2000's (its new entry) */
	walk_write_as(FRESH_UID, "message_slot write (in place, new owner)",
		      100, 60, NULL, &r, &w);
	/* copy in, the user's entry (the kernel may absorb one more) */
	assert_int_equal(r.failed, 2);
	assert_true(w.saw_efault && w.saw_enomem);
}

static void test_walk_write_longer_new_owner(void **state)
{
	struct write_walk w;
	struct kt_fault_result r;

	(void)state;
	walk_write_as(FRESH_UID, "message_slot write (longer, new owner)", 1,
		      MSG_SLOT_MAX_MSG_LEN, NULL, &r, &w);
	assert_true(r.failed >= 3);
	assert_true(w.saw_efault && w.saw_enomem);
}

/* ---- mapped views ---- */

/*
 * mmap of a channel's view allocates the view, its page, its xarray entry
 * and maybe the mapper's accounting entry, and a page table.  A failed
 * mmap leaves no view (the memory in use and the mapper's charge are as
 * before); a successful one shows the channel's message.
 */
struct view_walk {
	unsigned int channel;
	void *p;
	unsigned long used;
	bool saw_enomem;
};

static int view_run(void *arg)
{
	struct view_walk *w = arg;

	w->p = mmap(NULL, getpagesize(), PROT_READ, MAP_SHARED, keeper,
		    (off_t)w->channel * getpagesize());
	return w->p == MAP_FAILED ? -errno : 0;
}

static void view_check(void *arg, unsigned int nth, int rc)
{
	struct view_walk *w = arg;
	const struct msg_slot_view *v = w->p;

	(void)nth;
	w->saw_enomem |= rc == -ENOMEM;
	assert_keeper(1, KEEP_LEN);
	if (rc) {
		assert_int_equal(kt_slot_memory("mem_used"), w->used);
		return;
	}
	assert_true(kt_slot_memory("mem_used") > w->used);
	if (w->channel == KEEP_CH) {
		assert_int_equal(v->len, KEEP_LEN);
		assert_memory_equal(v->data, keep, KEEP_LEN);
	} else {
		assert_int_equal(v->len, 0);
	}
}

static void view_undo(void *arg)
{
	struct view_walk *w = arg;

	assert_int_equal(munmap(w->p, getpagesize()), 0);
	assert_int_equal(kt_slot_memory("mem_used"), w->used);
}

static void walk_view(unsigned int channel, const char *name)
{
	struct view_walk w = { .channel = channel };
	const struct kt_fault_op op = {
		.name = name, .run = view_run, .check = view_check,
		.undo = view_undo, .arg = &w,
	};
	struct kt_fault_result r;

	kt_fault_require();
	w.used = kt_slot_memory("mem_used");
	kt_fault_walk(&op, &r);
	assert_true(r.failed >= 3);
	assert_true(w.saw_enomem);
	assert_int_equal(kt_slot_memory("mem_used"), w.used);
}

static void test_walk_view_of_message(void **state)
{
	(void)state;
	walk_view(KEEP_CH, "message_slot mmap view (channel with a message)");
}

static void test_walk_view_empty(void **state)
{
	(void)state;
	walk_view(KEEP_CH + 1, "message_slot mmap view (empty channel)");
}

/* ---- read ---- */

/*
 * A read copies the message out.  A failed read leaves the message, and
 * in blocking mode it does not count as read: the file stays readable.
 */
struct read_walk {
	int fd;
	char buf[MSG_SLOT_MAX_MSG_LEN];
	ssize_t n;
};

static int read_run(void *arg)
{
	struct read_walk *w = arg;

	w->n = read(w->fd, w->buf, sizeof(w->buf));
	return w->n < 0 ? -errno : 0;
}

static void read_check(void *arg, unsigned int nth, int rc)
{
	struct read_walk *w = arg;

	(void)nth;
	assert_int_equal(rc, -EFAULT);
	assert_true(readable(w->fd));
	assert_keeper(1, KEEP_LEN);
}

static void test_walk_read(void **state)
{
	static const int efault_only[] = { EFAULT, 0 };
	struct read_walk w;
	const struct kt_fault_op op = {
		.name = "message_slot read", .run = read_run,
		.check = read_check, .arg = &w, .errnos = efault_only,
	};
	struct kt_fault_result r;

	(void)state;
	kt_fault_require();
	w.fd = kt_slot_open_chan(0, KEEP_CH);
	assert_int_equal(ioctl(w.fd, MSG_SLOT_SET_BLOCKING, 1), 0);
	assert_int_equal(fcntl(w.fd, F_SETFL, O_NONBLOCK), 0);
	kt_fault_walk(&op, &r);
	assert_true(r.failed >= 1);
	assert_int_equal(r.failed, r.points);
	/* the final read got the message and marked it read */
	assert_int_equal(w.n, KEEP_LEN);
	assert_memory_equal(w.buf, keep, KEEP_LEN);
	assert_false(readable(w.fd));
	assert_int_equal(kt_err(read(w.fd, w.buf, sizeof(w.buf))), -EAGAIN);
}

/* ---- poll ---- */

/* poll(2) and epoll_ctl(): a failure changes nothing and leaks nothing. */
struct poll_walk {
	int fd, ep;
};

static int poll_run(void *arg)
{
	struct poll_walk *w = arg;
	struct pollfd p = { .fd = w->fd, .events = POLLIN };
	int n = poll(&p, 1, 0);

	if (n < 0)
		return -errno;
	return n == 1 && p.revents == POLLIN ? 0 : -EIO;
}

static void poll_check(void *arg, unsigned int nth, int rc)
{
	struct poll_walk *w = arg;

	(void)nth;
	(void)rc;
	assert_true(readable(w->fd));
	assert_keeper(1, KEEP_LEN);
}

static int epoll_run(void *arg)
{
	struct poll_walk *w = arg;
	struct epoll_event ev = { .events = EPOLLIN };

	return epoll_ctl(w->ep, EPOLL_CTL_ADD, w->fd, &ev) ? -errno : 0;
}

static void epoll_check(void *arg, unsigned int nth, int rc)
{
	struct poll_walk *w = arg;
	struct epoll_event ev;

	(void)nth;
	if (rc) {
		/* not registered, no wait queue entry left on the slot */
		assert_int_equal(epoll_wait(w->ep, &ev, 1, 0), 0);
		assert_int_equal(epoll_ctl(w->ep, EPOLL_CTL_DEL, w->fd, NULL),
				 -1);
		assert_int_equal(errno, ENOENT);
	} else {
		assert_int_equal(epoll_wait(w->ep, &ev, 1, 0), 1);
		assert_int_equal(ev.events, EPOLLIN);
	}
	assert_keeper(1, KEEP_LEN);
}

static void epoll_undo(void *arg)
{
	struct poll_walk *w = arg;

	assert_int_equal(epoll_ctl(w->ep, EPOLL_CTL_DEL, w->fd, NULL), 0);
}

static void test_walk_poll(void **state)
{
	struct poll_walk w;
	const struct kt_fault_op pop = {
		.name = "message_slot poll", .run = poll_run,
		.check = poll_check, .arg = &w,
	};
	const struct kt_fault_op eop = {
		.name = "message_slot epoll_ctl(ADD)", .run = epoll_run,
		.check = epoll_check, .undo = epoll_undo, .arg = &w,
	};
	struct kt_fault_result r;
	struct epoll_event ev = { .events = EPOLLIN };
	char buf[16];
	int other;

	(void)state;
	kt_fault_require();
	w.fd = kt_slot_open_chan(0, KEEP_CH);
	w.ep = epoll_create1(EPOLL_CLOEXEC);
	assert_true(w.ep >= 0);
	/* copy in the pollfd: EFAULT (its revents go out with put_user) */
	kt_fault_walk(&pop, &r);
	assert_true(r.failed >= 1);
	/* the epitem, its wait queue entry on the slot: ENOMEM */
	kt_fault_walk(&eop, &r);
	assert_true(r.failed >= 2);

	/* registered once more, epoll sees the next message and only that */
	assert_int_equal(epoll_ctl(w.ep, EPOLL_CTL_ADD, w.fd, &ev), 0);
	kt_slot_expect(w.fd, keep, KEEP_LEN);
	assert_int_equal(epoll_wait(w.ep, &ev, 1, 0), 0);
	other = kt_slot_open_chan(0, KEEP_CH);
	kt_slot_put_str(other, "news");
	assert_int_equal(epoll_wait(w.ep, &ev, 1, 0), 1);
	kt_slot_expect_str(w.fd, "news");
	assert_int_equal(read(w.fd, buf, sizeof(buf)), 4);
	kt_slot_expect_stats(0, 1, 4);
}

/* ---- module parameters written at run time ---- */

struct param_walk {
	const char *name;
	int fd;
	long long old;
	const char *val;
};

static long long param_value(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), PARAMS "%s", name);
	return kt_read_ll(path);
}

static int param_run(void *arg)
{
	struct param_walk *w = arg;
	ssize_t len = (ssize_t)strlen(w->val);
	ssize_t n = pwrite(w->fd, w->val, len, 0);

	if (n < 0)
		return -errno;
	return n == len ? 0 : -EIO;
}

static void param_check(void *arg, unsigned int nth, int rc)
{
	struct param_walk *w = arg;

	(void)nth;
	assert_int_equal(param_value(w->name), rc ? w->old : atoll(w->val));
}

static void param_undo(void *arg)
{
	struct param_walk *w = arg;
	char old[32];
	int len = snprintf(old, sizeof(old), "%lld", w->old);

	assert_int_equal(pwrite(w->fd, old, len, 0), len);
}

static void test_walk_params(void **state)
{
	static const char *const names[] = { "max_channels", "max_bytes",
					     "max_mem", "user_max_mem" };
	struct param_walk w;
	char name[64];
	const struct kt_fault_op op = {
		.name = name, .run = param_run,
		.check = param_check, .undo = param_undo, .arg = &w,
	};
	struct kt_fault_result r;
	char path[128];
	size_t i;

	(void)state;
	kt_fault_require();
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		w.name = names[i];
		w.old = param_value(w.name);
		w.val = "5000";
		snprintf(path, sizeof(path), PARAMS "%s", w.name);
		w.fd = open(path, O_WRONLY | O_CLOEXEC);
		assert_true(w.fd >= 0);
		snprintf(name, sizeof(name), "message_slot write of %s",
			 w.name);
		kt_fault_walk(&op, &r);
		/* the kernel's buffer for the value, the copy into it */
		assert_true(r.failed >= 2);
		assert_int_equal(param_value(w.name), w.old);
		close(w.fd);
	}
}

/* ---- module load ---- */

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

struct load_walk {
	const char *params;
	int major;		/* expected; 0: dynamic */
	unsigned int nodes;
	int kmsg;		/* kernel log mark for the next attempt */
	bool saw_enomem;
	bool saw_init_fail;	/* init's first allocation failed */
};

static void load_check(void *arg, unsigned int nth, int rc)
{
	struct load_walk *w = arg;
	unsigned int i;
	char path[64];
	int major, fd;

	(void)nth;
	w->saw_enomem |= rc == -ENOMEM;
	w->saw_init_fail |= kt_kmsg_find(w->kmsg, "cannot register major");
	w->kmsg = kt_kmsg_mark();
	major = kt_chrdev_major(MOD, 0);
	if (rc) {
		/* nothing left behind */
		assert_false(kt_loaded(MOD));
		assert_int_equal(major, -1);
		assert_false(exists("/sys/module/" MOD));
		assert_false(exists("/sys/class/" MOD));
		assert_false(exists("/dev/" MOD "0"));
		assert_false(exists(DEBUGFS));
		return;
	}
	/* absorbed: everything is there and works */
	assert_true(kt_loaded(MOD));
	if (w->major)
		assert_int_equal(major, w->major);
	assert_true(major > 0);
	for (i = 0; i < w->nodes; i++) {
		snprintf(path, sizeof(path), "/dev/" MOD "%u", i);
		assert_true(exists(path));
	}
	snprintf(path, sizeof(path), "/dev/" MOD "%u", w->nodes);
	assert_false(exists(path));
	kt_slot_mknod_major(major, 5);
	fd = kt_slot_open_chan(5, 1);
	kt_slot_put_str(fd, "loaded");
	kt_slot_expect_str(fd, "loaded");
	close(fd);
}

static void walk_load(const char *params, int major, unsigned int nodes,
		      unsigned int min_failed)
{
	struct load_walk w = { .params = params, .major = major,
			       .nodes = nodes };
	struct kt_fault_result r;
	int tries;

	kt_fault_require();
	assert_int_equal(close(keeper), 0);
	keeper = -1;
	assert_int_equal(kt_unload(MOD), 0);
	/*
	 * The points drift from one load to the next (kt_fault_load.h), and a
	 * short window can now and then miss every allocation that fails
	 * the load: walk it again then, up to three times.
	 */
	for (tries = 0; tries < 3; tries++) {
		w.kmsg = kt_kmsg_mark();
		/* init fails at once with nodes above the limit */
		kt_fault_walk_load(MOD, params, "nodes=257", load_check, &w, &r);
		close(w.kmsg);
		if (r.failed >= min_failed)
			break;
	}
	assert_true(r.failed >= min_failed);
	assert_true(w.saw_enomem);
	printf("# init's first allocation (the major) %s\n",
	       w.saw_init_fail ? "failed once" : "was not hit (points drift)");
	/* the next load works */
	assert_int_equal(kt_load(MOD, params), 0);
	if (major)
		assert_int_equal(kt_chrdev_major(MOD, 0), major);
}

static void test_walk_load_default(void **state)
{
	(void)state;
	walk_load("", MSG_SLOT_MAJOR, 0, 1);
}

static void test_walk_load_major(void **state)
{
	(void)state;
	walk_load("major=0", 0, 0, 1);
}

static void test_walk_load_nodes(void **state)
{
	(void)state;
	walk_load("nodes=2", MSG_SLOT_MAJOR, 2, 10);
}

static void test_walk_load_max_channels(void **state)
{
	(void)state;
	walk_load("max_channels=5", MSG_SLOT_MAJOR, 0, 1);
	assert_int_equal(param_value("max_channels"), 5);
}

static void test_walk_load_max_bytes(void **state)
{
	(void)state;
	walk_load("max_bytes=1000", MSG_SLOT_MAJOR, 0, 1);
	assert_int_equal(param_value("max_bytes"), 1000);
}

static void test_walk_load_mem(void **state)
{
	(void)state;
	walk_load("max_mem=1000000 user_max_mem=5000", MSG_SLOT_MAJOR, 0, 1);
	assert_int_equal(param_value("max_mem"), 1000000);
	assert_int_equal(param_value("user_max_mem"), 5000);
}

/* ---- leaks ---- */

/* After all that, unloading leaves no unreferenced object behind. */
static void test_no_leaks(void **state)
{
	int leaks;

	(void)state;
	kt_fault_require();
	assert_int_equal(close(keeper), 0);
	keeper = -1;
	assert_int_equal(kt_unload(MOD), 0);
	leaks = kt_kmemleak_scan();
	if (leaks < 0)
		skip();
	/* nodes= creates a class: see kt_fault_load.h for the kernel's leak */
	assert_int_equal(kt_kmemleak_forgive_class_name(MOD), 0);
}

#define WALK(fn) cmocka_unit_test_setup_teardown(fn, fresh, cleanup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		WALK(test_walk_open_new_slot),
		WALK(test_walk_open_existing_slot),
		WALK(test_walk_ioctls),
		WALK(test_walk_write_new_channel),
		WALK(test_walk_write_in_place),
		WALK(test_walk_write_longer),
		WALK(test_walk_write_new_user),
		WALK(test_walk_write_moves_charge),
		WALK(test_walk_write_longer_new_owner),
		WALK(test_walk_view_of_message),
		WALK(test_walk_view_empty),
		WALK(test_walk_read),
		WALK(test_walk_poll),
		WALK(test_walk_params),
		WALK(test_walk_load_default),
		WALK(test_walk_load_major),
		WALK(test_walk_load_nodes),
		WALK(test_walk_load_max_channels),
		WALK(test_walk_load_max_bytes),
		WALK(test_walk_load_mem),
		WALK(test_no_leaks),
	};

	return kt_run_group(tests, NULL, NULL);
}
