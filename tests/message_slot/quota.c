// SPDX-License-Identifier: GPL-2.0
/*
 * message_slot/quota - memory limits (issue 16): the ceiling for the whole
 * module (max_mem) and the per-user quota (user_max_mem), in real memory.
 *
 * The scenario: an unprivileged user (uid 1000) writes 128-byte
 * messages to channels 1, 2, 3, ... of 8 slots.  It must stop at its
 * quota with ENOSPC, losing nothing and never driving the guest into the
 * OOM killer; another uid still writes; root (exempt from the quota) then
 * fills up to the ceiling and gets ENOSPC there; an overwrite in place at
 * the ceiling still succeeds; the counters return to zero with the module.
 * Also: what each write charges to whom (debugfs memory and users, the
 * parameters), charges moving to a message's new writer, who is exempt
 * (the opener's CAP_SYS_RESOURCE / CAP_SYS_ADMIN; the writer's real uid is
 * charged), the errno order at the ceiling, and bad parameter values at
 * load and at run time.
 */
#include "lib/kt.h"
#include "lib/kt_debug.h"
#include "lib/kt_params.h"
#include "lib/kt_sys.h"
#include "lib/kt_slot.h"
#include "lib/kt_slot_quota.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MOD "message_slot"
#define USER_A 1000
#define USER_B 1001
#define NSLOTS 8
/* Root's channels in the scenario: above uid 1000's */
#define ROOT_CH 10000000UL

/* Raw write(2): bad buffers and lengths on purpose (no fortify). */
#define WR(fd, p, n) syscall(SYS_write, (fd), (p), (n))

/* Results of a child, in shared memory. */
struct child {
	unsigned int minor;
	unsigned long chan, first, max;	/* channels to write */
	size_t len;
	int fd;				/* an inherited file, or -1 */
	unsigned long written;
	int err;			/* errno of the first failure, 0 */
	long ms;
};

static struct child *shared_child(void)
{
	struct child *c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	assert_true(c != MAP_FAILED);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	return c;
}

/* A message that says which slot and channel it is on. */
static void pattern(char *buf, size_t len, unsigned int minor,
		    unsigned long chan)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (char)(minor * 31 + chan * 7 + i);
}

/*
 * The writer: 128-byte messages to channels 1, 2, 3, ... of slots
 * 0..NSLOTS-1 (channel 1 of every slot, then channel 2, ...) until a write
 * fails or C->max messages are written.
 */
static void scenario_writer(void *arg)
{
	struct child *c = arg;
	char msg[MSG_SLOT_MAX_MSG_LEN];
	int fds[NSLOTS];
	unsigned int s;
	unsigned long ch;
	long t0;

	for (s = 0; s < NSLOTS; s++)
		fds[s] = kt_slot_child_open_chan(s, 1);
	t0 = kt_now_ms();
	for (ch = 1; c->written < c->max; ch++)
		for (s = 0; s < NSLOTS && c->written < c->max; s++) {
			pattern(msg, sizeof(msg), s, ch);
			if (ioctl(fds[s], MSG_SLOT_CHANNEL, ch) ||
			    write(fds[s], msg, sizeof(msg)) != sizeof(msg)) {
				c->err = errno;
				goto out;
			}
			c->written++;
		}
out:
	c->ms = kt_now_ms() - t0;
	c->chan = ch;
	c->minor = s;
}

/*
 * Write C->len-byte messages to channels C->first.. of slot C->minor
 * (through C->fd if set, else a file this process opens) until C->max
 * are written or one fails.
 */
static void writer(void *arg)
{
	struct child *c = arg;
	char msg[MSG_SLOT_MAX_MSG_LEN];
	int fd = c->fd >= 0 ? c->fd : kt_slot_child_open_chan(c->minor, 1);
	unsigned long ch;
	long t0 = kt_now_ms();

	for (ch = c->first; c->written < c->max; ch++) {
		pattern(msg, c->len, c->minor, ch);
		if (ioctl(fd, MSG_SLOT_CHANNEL, ch) ||
		    write(fd, msg, c->len) != (ssize_t)c->len) {
			c->err = errno;
			break;
		}
		c->written++;
	}
	c->ms = kt_now_ms() - t0;
	c->chan = ch;
}

/* Run writer() as UID (0: this uid) in a child; returns C. */
static struct child *write_as(unsigned int uid, unsigned int minor,
			      unsigned long first, unsigned long max,
			      size_t len, int fd)
{
	struct child *c = shared_child();

	c->minor = minor;
	c->first = first;
	c->max = max;
	c->len = len;
	c->fd = fd;
	if (uid)
		assert_int_equal(kt_as_user(uid, uid, writer, c), 0);
	else
		assert_int_equal(kt_in_child(writer, c), 0);
	return c;
}

/* One message as UID: 0 or the errno. */
static int put_as(unsigned int uid, unsigned int minor, unsigned long chan,
		  size_t len)
{
	struct child *c = write_as(uid, minor, chan, 1, len, -1);
	int err = c->err;

	munmap(c, sizeof(*c));
	return err;
}

static long oom_kills(void)
{
	char line[128];
	long n = -1;
	FILE *f = fopen("/proc/vmstat", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "oom_kill %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* Slab + vmalloc in kB, slabs shrunk first (see caps.c). */
static long kernel_mem_kb(void)
{
	kt_slab_shrink();
	return kt_meminfo_kb("Slab") + kt_meminfo_kb("VmallocUsed");
}

/* The memory a len-byte message on a new channel of slot 7 is charged. */
static unsigned long charge_of(size_t len, unsigned long chan)
{
	unsigned long before = kt_slot_memory("mem_used");
	char msg[MSG_SLOT_MAX_MSG_LEN];
	int fd = kt_slot_open_chan(7, chan);

	pattern(msg, len, 7, chan);
	kt_slot_put(fd, msg, len);
	close(fd);
	return kt_slot_memory("mem_used") - before;
}

/*
 * Load with PARAMS, nodes 0..7 open to every user as in the course's
 * set-up (mknod, then chmod o+rw: mknod's mode went through the umask).
 */
static int load(const char *params)
{
	unsigned int i;
	int rc = kt_slot_load(params);

	for (i = 0; !rc && i < 8; i++)
		if (chmod(kt_slot_path(i), 0666))
			rc = -errno;
	return rc;
}

static void reload(const char *params)
{
	kt_unload_if_loaded(MOD);
	assert_int_equal(load(params), 0);
}

/* ---- defaults ---- */

static void test_defaults(void **state)
{
	unsigned long ram = (unsigned long)kt_meminfo_kb("MemTotal") * 1024;

	(void)state;
	reload(NULL);
	/* MemTotal is totalram_pages(): the ceiling is exactly 1/16 of it */
	assert_int_equal(kt_slot_param("max_mem"), ram / 16);
	assert_int_equal(kt_slot_param("user_max_mem"), ram / 16 / 4);
	assert_int_equal(kt_slot_param("mem_used"), 0);
	assert_int_equal(kt_slot_memory("max_mem"), ram / 16);
	assert_int_equal(kt_slot_memory("user_max_mem"), ram / 64);
	assert_int_equal(kt_slot_memory("mem_used"), 0);
	assert_int_equal(kt_slot_memory("users"), 0);
	kt_slot_expect_user(0, 0, 0);
	printf("# MemTotal %lu MiB: ceiling %lu KiB, per user %lu KiB\n",
	       ram >> 20, ram / 16 / 1024, ram / 64 / 1024);
	/* the per-slot caps are unchanged */
	assert_int_equal(kt_slot_param("max_channels"), 1UL << 20);
	assert_int_equal(kt_slot_param("max_bytes"), 128UL << 20);
}

/* ---- what is charged to whom ---- */

static void test_charges(void **state)
{
	unsigned long c1, c128, c5;
	char msg[MSG_SLOT_MAX_MSG_LEN];
	int fd;

	(void)state;
	reload(NULL);
	c1 = charge_of(1, 1);
	c128 = charge_of(128, 2);
	printf("# charged per channel: %lu bytes (1-byte message), %lu (128)\n",
	       c1, c128);
	/* an object of a kmalloc class plus a share of the table */
	assert_true(c1 >= 64 && c1 < c128);
	assert_true(c128 >= 128 + 64 && c128 <= 512);
	assert_int_equal(c1 % 8, 0);
	kt_slot_expect_user(0, c1 + c128, 2);
	assert_int_equal(kt_slot_memory("users"), 1);
	assert_int_equal(kt_slot_param("mem_used"), c1 + c128);

	fd = kt_slot_open(7, 0);
	/* a shorter message fits in place: the entry, and its charge, stay */
	kt_slot_chan(fd, 2);
	kt_slot_put(fd, "s", 1);
	assert_int_equal(kt_slot_memory("mem_used"), c1 + c128);
	/* a longer one replaces the entry: the old charge goes */
	kt_slot_chan(fd, 1);
	pattern(msg, 128, 7, 1);
	kt_slot_put(fd, msg, 128);
	assert_int_equal(kt_slot_memory("mem_used"), 2 * c128);
	kt_slot_expect_user(0, 2 * c128, 2);
	kt_slot_expect(fd, msg, 128);

	/* another user overwrites in place: the charge moves to it */
	assert_int_equal(put_as(USER_A, 7, 1, 5), 0);
	assert_int_equal(kt_slot_memory("mem_used"), 2 * c128);
	kt_slot_expect_user(0, c128, 1);
	kt_slot_expect_user(USER_A, c128, 1);
	assert_int_equal(kt_slot_memory("users"), 2);
	/* a new channel of its own */
	assert_int_equal(put_as(USER_A, 7, 3, 5), 0);
	c5 = kt_slot_memory("mem_used") - 2 * c128;
	assert_int_equal(c5, c1);	/* 1 and 5 bytes: the same class */
	kt_slot_expect_user(USER_A, c128 + c5, 2);
	/* root takes both back; uid 1000's entry goes with its last */
	kt_slot_chan(fd, 3);
	kt_slot_put(fd, "root", 4);
	kt_slot_expect_user(USER_A, c128, 1);
	kt_slot_chan(fd, 1);
	kt_slot_put(fd, "root", 4);
	kt_slot_expect_user(USER_A, 0, 0);
	kt_slot_expect_user(0, 2 * c128 + c5, 3);
	assert_int_equal(kt_slot_memory("users"), 1);
	assert_int_equal(kt_slot_memory("mem_used"), 2 * c128 + c5);
	/* failed writes charge nothing */
	assert_int_equal(kt_err(WR(fd, NULL, 100)), -EFAULT);
	assert_int_equal(kt_err(WR(fd, msg, 129)), -EMSGSIZE);
	assert_int_equal(kt_slot_memory("mem_used"), 2 * c128 + c5);
	close(fd);
	/* unloading releases everything (the module WARNs otherwise) */
	reload(NULL);
	assert_int_equal(kt_slot_memory("mem_used"), 0);
	assert_int_equal(kt_slot_memory("users"), 0);
}

/* ---- the scenario ---- */

static void test_scenario(void **state)
{
	unsigned long quota, ceiling, c128, mem, msgs, used, n, ch;
	long before_kb, after_kb, oom0 = oom_kills();
	char msg[MSG_SLOT_MAX_MSG_LEN], got[MSG_SLOT_MAX_MSG_LEN];
	struct child *a, *r;
	int fds[NSLOTS];
	unsigned int s;

	(void)state;
	/* the rig fails the run on the OOM killer's report in any case */
	if (oom0 < 0)
		printf("# no oom_kill in /proc/vmstat on this kernel\n");
	kt_unload_if_loaded(MOD);
	before_kb = kernel_mem_kb();
	/* the debug kernel writes 50x slower: a 4 MiB ceiling there */
	assert_int_equal(load(kt_debug_kernel() ? "max_mem=4194304" : NULL), 0);
	quota = kt_slot_param("user_max_mem");
	ceiling = kt_slot_param("max_mem");
	assert_true(quota < ceiling);

	/* uid 1000, 8 slots, 128-byte messages on channels 1, 2, 3, ... */
	a = shared_child();
	a->max = (unsigned long)-1;
	assert_int_equal(kt_as_user(USER_A, USER_A, scenario_writer, a), 0);
	assert_int_equal(a->err, ENOSPC);
	assert_true(a->written > NSLOTS);
	assert_true(kt_slot_user(USER_A, &mem, &msgs));
	assert_int_equal(msgs, a->written);
	c128 = mem / msgs;
	assert_int_equal(mem, c128 * msgs);	/* each the same charge */
	assert_true(mem <= quota && quota - mem < c128);
	assert_int_equal(kt_slot_memory("mem_used"), mem);
	after_kb = kernel_mem_kb();
	printf("# uid %d: %lu messages over %d slots in %ld ms, then ENOSPC at"
	       " its quota (%lu of %lu bytes)\n",
	       USER_A, a->written, NSLOTS, a->ms, mem, quota);
	printf("# memory per channel: %lu bytes charged, %ld measured"
	       " (slab+vmalloc)\n",
	       c128, (after_kb - before_kb) * 1024 / (long)a->written);
	if (!kt_debug_kernel()) {
		/* the charge is the real memory (KASAN/kmemleak add to it) */
		n = (after_kb - before_kb) * 1024 / a->written;
		assert_true(n > c128 / 2 && n < c128 * 3 / 2);
	}
	assert_int_equal(oom_kills(), oom0);

	/* nothing lost, and the refused write stored nothing */
	for (s = 0; s < NSLOTS; s++)
		fds[s] = kt_slot_open(s, 0);
	for (n = 0; n < a->written; n++) {
		s = n % NSLOTS;
		ch = n / NSLOTS + 1;
		kt_slot_chan(fds[s], ch);
		pattern(msg, sizeof(msg), s, ch);
		if (read(fds[s], got, sizeof(got)) != sizeof(msg) ||
		    memcmp(got, msg, sizeof(msg)))
			fail_msg("slot %u channel %lu lost", s, ch);
	}
	kt_slot_chan(fds[a->minor], a->chan);
	assert_int_equal(kt_err(read(fds[a->minor], got, sizeof(got))),
			 -EWOULDBLOCK);
	for (s = 0; s < NSLOTS; s++)
		close(fds[s]);
	/* at its quota, uid 1000 still overwrites its own messages */
	assert_int_equal(put_as(USER_A, 0, 1, 128), 0);
	assert_int_equal(put_as(USER_A, 0, 1, 3), 0);
	assert_int_equal(put_as(USER_A, a->minor, a->chan, 128), ENOSPC);
	kt_slot_expect_user(USER_A, mem, msgs);

	/* another user still writes */
	assert_int_equal(put_as(USER_B, 0, 1000000, 128), 0);
	kt_slot_expect_user(USER_B, c128, 1);
	/* and taking over one of uid 1000's messages frees room for it */
	assert_int_equal(put_as(USER_B, 0, 2, 128), 0);
	kt_slot_expect_user(USER_B, 2 * c128, 2);
	kt_slot_expect_user(USER_A, mem - c128, msgs - 1);
	assert_int_equal(put_as(USER_A, a->minor, a->chan, 128), 0);
	assert_int_equal(put_as(USER_A, a->minor, a->chan + 1, 128), ENOSPC);
	kt_slot_expect_user(USER_A, mem, msgs);

	/* root is exempt from the quota, not from the ceiling */
	r = write_as(0, 5, ROOT_CH, (unsigned long)-1, 128, -1);
	assert_int_equal(r->err, ENOSPC);
	used = kt_slot_memory("mem_used");
	assert_true(used <= ceiling && ceiling - used < c128);
	kt_slot_expect_user(0, r->written * c128, r->written);
	assert_true(r->written * c128 > quota);
	printf("# root: %lu more messages in %ld ms, then ENOSPC at the"
	       " ceiling (%lu of %lu bytes)\n", r->written, r->ms, used,
	       ceiling);
	assert_int_equal(oom_kills(), oom0);

	/* at the ceiling: no new channel for anyone, overwrites in place */
	assert_int_equal(put_as(USER_B, 0, 1000001, 128), ENOSPC);
	assert_int_equal(put_as(0, 6, 5000000, 128), ENOSPC);
	assert_int_equal(put_as(0, 5, ROOT_CH, 128), 0);	/* root's own */
	assert_int_equal(put_as(USER_B, 5, ROOT_CH + 1, 100), 0); /* moves */
	kt_slot_expect_user(USER_B, 3 * c128, 3);
	assert_int_equal(put_as(USER_A, 0, 3, 128), 0);	/* uid 1000's own */
	assert_int_equal(kt_slot_memory("mem_used"), used);
	/*
	 * uid 1000's channels in slot 5: its messages 0 .. written - 1 went
	 * to slot n % NSLOTS, and message number written (a->minor,
	 * a->chan) was stored later, above: indices 0 .. written.  (When
	 * written % NSLOTS was 5, this counted one channel too few: seen on
	 * 6.12 with 70,605 messages.)
	 */
	n = (a->written + 1 + NSLOTS - 1 - 5) / NSLOTS;
	kt_slot_expect_stats(5, n + r->written, (n + r->written) * 128 - 28);

	/* raising the ceiling at run time lets root in again */
	kt_slot_set_param("max_mem", used + 2 * c128);
	assert_int_equal(put_as(0, 6, 5000000, 128), 0);
	assert_int_equal(put_as(0, 6, 5000001, 128), 0);
	assert_int_equal(put_as(0, 6, 5000002, 128), ENOSPC);
	/* lowering the quota below what uid 1000 holds drops nothing */
	kt_slot_set_param("user_max_mem", c128);
	kt_slot_expect_user(USER_A, mem, msgs);
	assert_int_equal(put_as(USER_A, 0, 3, 128), 0);
	kt_slot_set_param("max_mem", ceiling * 2);
	assert_int_equal(put_as(USER_A, 0, 1000002, 1), ENOSPC);
	assert_int_equal(put_as(USER_B, 0, 1000002, 1), ENOSPC);
	assert_int_equal(oom_kills(), oom0);

	/* the counters go with the module */
	assert_int_equal(kt_unload(MOD), 0);
	after_kb = kernel_mem_kb();
	printf("# slab+vmalloc %ld kB before, %ld kB after unloading\n",
	       before_kb, after_kb);
	if (!kt_debug_kernel())
		assert_true(after_kb - before_kb < 4 * 1024);
	assert_int_equal(load(NULL), 0);
	assert_int_equal(kt_slot_memory("mem_used"), 0);
	assert_int_equal(kt_slot_memory("users"), 0);
	munmap(a, sizeof(*a));
	munmap(r, sizeof(*r));
}

/* ---- who is exempt, who is charged ---- */

/* Clear CAP_SYS_RESOURCE and CAP_SYS_ADMIN from the effective set. */
static void drop_caps(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		_exit(91);
	d[0].effective &= ~((1U << CAP_SYS_RESOURCE) | (1U << CAP_SYS_ADMIN));
	if (syscall(SYS_capset, &h, d))
		_exit(92);
}

/* Root without the two capabilities: its own file, four 128-byte writes. */
static void capless_writer(void *arg)
{
	struct child *c = arg;

	drop_caps();
	writer(c);
}

/* A file opened as uid 1000 (effective), written by full root. */
static void deputy_writer(void *arg)
{
	struct child *c = arg;

	if (setresuid(-1, USER_A, -1))
		_exit(93);
	c->fd = kt_slot_child_open_chan(c->minor, 1);
	if (setresuid(-1, 0, -1))
		_exit(94);
	writer(c);
}

static void test_exemption(void **state)
{
	unsigned long c128, mem, msgs;
	struct child *c;
	int fd;

	(void)state;
	reload(NULL);
	c128 = charge_of(128, 1);
	kt_slot_set_param("user_max_mem", 3 * c128);

	/* root's file: past the quota (root holds 1 + 4 messages) */
	c = write_as(0, 0, 1, 4, 128, -1);
	assert_int_equal(c->err, 0);
	kt_slot_expect_user(0, 5 * c128, 5);

	/* an unprivileged user: three, then ENOSPC */
	c = write_as(USER_B, 1, 1, 10, 128, -1);
	assert_int_equal(c->written, 3);
	assert_int_equal(c->err, ENOSPC);
	kt_slot_expect_user(USER_B, 3 * c128, 3);

	/*
	 * The exemption is the opener's: uid 1000 writing through a file
	 * root opened is exempt (charged to uid 1000 all the same) ...
	 */
	fd = kt_slot_open_chan(2, 1);
	c = write_as(USER_A, 2, 1, 5, 128, fd);
	close(fd);
	assert_int_equal(c->err, 0);
	kt_slot_expect_user(USER_A, 5 * c128, 5);

	/* ... root without the capabilities is not ... */
	c = shared_child();
	c->minor = 3;
	c->first = 1;
	c->max = 1;
	c->len = 128;
	assert_int_equal(kt_in_child(capless_writer, c), 0);
	assert_int_equal(c->err, ENOSPC);	/* root holds 5 already */

	/*
	 * ... and neither is root writing through a file an unprivileged
	 * user opened (a setuid program handed the user's file): it is
	 * charged to its real uid, 0, which is over the quota.
	 */
	c = shared_child();
	c->minor = 4;
	c->first = 1;
	c->max = 1;
	c->len = 128;
	assert_int_equal(kt_in_child(deputy_writer, c), 0);
	assert_int_equal(c->err, ENOSPC);
	c->err = 0;
	c->written = 0;
	c->len = 1;
	/* even a 1-byte message: refused too */
	assert_int_equal(kt_in_child(deputy_writer, c), 0);
	assert_int_equal(c->err, ENOSPC);
	kt_slot_expect_user(0, 5 * c128, 5);
	assert_true(kt_slot_user(USER_A, &mem, &msgs));
	assert_int_equal(msgs, 5);
	/* the quota's refusals never touched the ceiling */
	assert_int_equal(kt_slot_memory("mem_used"), 13 * c128);
	reload(NULL);
}

/* ---- the errno order at the ceiling ---- */

static void test_errno_order(void **state)
{
	char msg[MSG_SLOT_MAX_MSG_LEN] = "x";
	int fd;

	(void)state;
	reload("max_mem=1");		/* no message fits */
	assert_int_equal(kt_slot_param("user_max_mem"), 1);	/* max(1/4, 1) */
	fd = kt_slot_open(0, 0);
	assert_int_equal(kt_err(write(fd, msg, 1)), -EINVAL);	/* no channel */
	kt_slot_chan(fd, 1);
	assert_int_equal(kt_err(write(fd, msg, 0)), -EMSGSIZE);
	assert_int_equal(kt_err(WR(fd, msg, 129)), -EMSGSIZE);
	assert_int_equal(kt_err(WR(fd, NULL, 1)), -EFAULT);
	assert_int_equal(kt_err(write(fd, msg, 1)), -ENOSPC);
	assert_int_equal(kt_err(read(fd, msg, sizeof(msg))), -EWOULDBLOCK);
	/* as an unprivileged user (quota and ceiling): the same */
	assert_int_equal(put_as(USER_A, 0, 1, 1), ENOSPC);
	assert_int_equal(kt_slot_memory("mem_used"), 0);
	assert_int_equal(kt_slot_memory("users"), 0);
	/* a ceiling with room lets root in (exempt from the 1-byte quota) */
	kt_slot_set_param("max_mem", 1UL << 20);
	kt_slot_put(fd, msg, 1);
	close(fd);
	reload(NULL);
}

/* ---- parameters ---- */

static bool exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

static void assert_nothing_left(void)
{
	assert_false(kt_loaded(MOD));
	assert_true(kt_chrdev_major(MOD, 0) < 0);
	assert_false(exists("/sys/module/" MOD));
	assert_false(exists("/sys/kernel/debug/" MOD));
}

static const struct kt_bad_param bad[] = {
	{ "max_mem=0", "`0' invalid for parameter `max_mem'", 0 },
	{ "max_mem=0x0", "`0x0' invalid for parameter `max_mem'", 0 },
	{ "max_mem=-1", "`-1' invalid for parameter `max_mem'", 0 },
	{ "max_mem=64M", "`64M' invalid for parameter `max_mem'", 0 },
	{ "max_mem=abc", "`abc' invalid for parameter `max_mem'", 0 },
	{ "max_mem=", "`' invalid for parameter `max_mem'", 0 },
	{ "max_mem", "`' invalid for parameter `max_mem'", 0 },
	{ "max_mem=18446744073709551616",
	  "`18446744073709551616' invalid for parameter `max_mem'", -ERANGE },
	{ "user_max_mem=0", "`0' invalid for parameter `user_max_mem'", 0 },
	{ "user_max_mem=1,2", "`1,2' invalid for parameter `user_max_mem'",
	  0 },
	{ "user_max_mem=", "`' invalid for parameter `user_max_mem'", 0 },
	{ "user_max_mem=99999999999999999999",
	  "`99999999999999999999' invalid for parameter `user_max_mem'",
	  -ERANGE },
	/* a statistic, not a setting */
	{ "mem_used=0", "`0' invalid for parameter `mem_used'", -EPERM },
	{ "mem_used=100", "`100' invalid for parameter `mem_used'", -EPERM },
	/* a good value does not save a bad one */
	{ "max_mem=1000000 user_max_mem=0",
	  "`0' invalid for parameter `user_max_mem'", 0 },
};

struct sysfs_try {
	const char *name, *val;
	int err;
};

static void try_as_user(void *arg)
{
	const struct sysfs_try *t = arg;

	_exit(kt_slot_try_set_param(t->name, t->val) == t->err ? 0 : 1);
}

static void test_params(void **state)
{
	static const struct {
		const char *val;
		int err;
	} runtime_bad[] = {
		{ "0", -EINVAL }, { "-1", -EINVAL }, { "abc", -EINVAL },
		{ "12K", -EINVAL }, { "1 2", -EINVAL },
		{ "18446744073709551616", -ERANGE },
	};
	static const char *const names[] = { "max_mem", "user_max_mem" };
	unsigned long ram = (unsigned long)kt_meminfo_kb("MemTotal") * 1024;
	struct sysfs_try t = { "max_mem", "5000", -EACCES };
	unsigned long old;
	size_t i, j;

	(void)state;
	kt_unload_if_loaded(MOD);
	kt_expect_all_refused(MOD, bad, sizeof(bad) / sizeof(bad[0]), 2,
			      assert_nothing_left);

	/* at load: the per-user default follows the ceiling given */
	reload("max_mem=0x100000");
	assert_int_equal(kt_slot_param("max_mem"), 1UL << 20);
	assert_int_equal(kt_slot_param("user_max_mem"), 1UL << 18);
	reload("user_max_mem=5000");
	assert_int_equal(kt_slot_param("max_mem"), ram / 16);
	assert_int_equal(kt_slot_param("user_max_mem"), 5000);
	/* a quota above the ceiling is allowed (the ceiling then binds) */
	reload("user_max_mem=99999999999 max_mem=1000");
	assert_int_equal(kt_slot_param("user_max_mem"), 99999999999UL);
	assert_int_equal(kt_slot_param("max_mem"), 1000);
	assert_int_equal(kt_slot_memory("max_mem"), 1000);

	/* at run time: bad values change nothing */
	for (i = 0; i < 2; i++) {
		old = kt_slot_param(names[i]);
		for (j = 0; j < sizeof(runtime_bad) / sizeof(runtime_bad[0]);
		     j++) {
			if (kt_slot_try_set_param(names[i], runtime_bad[j].val) !=
			    runtime_bad[j].err)
				fail_msg("%s=%s: not %d", names[i],
					 runtime_bad[j].val,
					 runtime_bad[j].err);
			assert_int_equal(kt_slot_param(names[i]), old);
		}
	}
	/* good ones take effect, also in debugfs */
	kt_slot_set_param("max_mem", 123456);
	kt_slot_set_param("user_max_mem", 7890);
	assert_int_equal(kt_slot_memory("max_mem"), 123456);
	assert_int_equal(kt_slot_memory("user_max_mem"), 7890);
	/* mem_used is read-only; the limits are root's */
	assert_int_equal(kt_slot_try_set_param("mem_used", "0"), -EACCES);
	assert_int_equal(kt_as_user(USER_A, USER_A, try_as_user, &t), 0);
	t.name = "user_max_mem";
	assert_int_equal(kt_as_user(USER_A, USER_A, try_as_user, &t), 0);
	t.name = "mem_used";
	assert_int_equal(kt_as_user(USER_A, USER_A, try_as_user, &t), 0);
	assert_int_equal(kt_slot_param("max_mem"), 123456);
	assert_int_equal(kt_slot_param("user_max_mem"), 7890);
	assert_int_equal(kt_unload(MOD), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_charges),
		cmocka_unit_test(test_scenario),
		cmocka_unit_test(test_exemption),
		cmocka_unit_test(test_errno_order),
		cmocka_unit_test(test_params),
	};

	return kt_run_group(tests, kt_slot_setup, kt_slot_teardown);
}
