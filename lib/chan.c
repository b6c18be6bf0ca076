// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * chan.c - libkipc's message channels (see <kipc/chan.h>).
 *
 * The shared layout, the memory-ordering contract and the wake-up protocol
 * are specified in docs/chan.md; the comments here name its sections.  In
 * short: a header of 64-byte lines (geometry, the senders' head, one wait
 * line per direction, attach counters), one line per endpoint record, then
 * at the first 4096-byte boundary the ring of slots, each a 16-byte slot
 * header (seq, len, owner, flags) and the payload.  A slot's seq says what
 * it holds: seq == p, free for position p; seq == p + 1, message p.
 *
 * Nothing read from the shared memory is trusted: the geometry is read
 * once at attach, checked and kept in the endpoint; indices and lengths
 * are checked against it on every use; every loop over shared state is
 * bounded; every sleep is a futex wait of at most WAIT_SLICE_MS.
 */
#include <kipc/chan.h>
#include <kipc/ivshmem.h>
#include <kipc/kshm.h>
#include <kipc/myshm.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define LINE		64u
#define PAGE		4096u
#define KC_MAGIC	0x4e48434bu	/* "KCHN" in little-endian memory */
#define KC_VERSION	1u
#define SLOT_HDR	16u
#define WAIT_SLICE_MS	200	/* longest single futex sleep (default) */
#define MAX_JUMPS	64	/* overwritten-slot skips per call */
#define MAX_RACES	4096	/* MPSC claim retries per call */
#define SPIN_CHECK	64	/* spin rounds between clock reads */

/* Record states. */
#define REC_FREE	0u
#define REC_OPEN	1u
#define REC_CLAIMING	2u
#define REC_POLL	1u	/* record flag: poke its socket on wake-ups */
#define REC_IVS		2u	/* record flag: sleeps on doorbell (ivs_peer, ivs_vector) */
#define REC_HB		4u	/* record flag: its heartbeat is kept */

/* docs/chan.md "Heartbeats": the owner's period, the reader's default bound. */
#define HB_PERIOD_MS	100
#define HB_DEAD_MS	2000

/* Geometry flags (docs/chan.md "Layout"). */
#define KC_F_DOORBELL	1u	/* wake-ups by ivshmem doorbells, not futexes */

/* Locale kinds of a map. */
enum { IVS_NONE, IVS_GUEST, IVS_HOST };
#define IVS_CONNECT_MS	5000	/* ivshmem-host: the server's setup */

typedef _Atomic uint32_t au32;
typedef _Atomic uint64_t au64;

/* Line 0: geometry, written once by the creator; magic last (release). */
struct kc_geom {
	au32 magic;
	au32 version;
	au32 shape;
	au32 policy;
	au32 slot_size;
	au32 slot_count;
	au32 slot_stride;
	au32 max_peers;
	au32 slots_offset;
	au32 records;
	au64 total_size;
	au64 nonce;
	au32 flags;
	au32 reserved;
};

/* Line 1: written by senders. */
struct kc_tx {
	au32 head;
	au32 reserved[15];
};

/* Lines 2 (receivers sleep here) and 3 (senders sleep here). */
struct kc_wait {
	au32 bell;	/* futex word: bumped by every wake */
	au32 armed;	/* 1: someone may sleep on bell */
	au32 want;	/* event index: the position the sleeper needs */
	au32 reserved[13];
};

/* Line 4: attach state, written on open and close only. */
struct kc_state {
	au32 tx_attached;
	au32 rx_attached;
	au32 tx_seen;
	au32 rx_seen;
	au32 rx_gen;	/* bumped when a receiver attaches or leaves (SPMC) */
	au32 tx_dead;	/* a sender died without closing (reaped) */
	au32 rx_dead;	/* a receiver died (SPSC, MPSC) */
	au32 reserved[9];
};

/* One line per endpoint: senders' records first, then receivers'. */
struct kc_rec {
	au32 state;
	au32 pid;
	au32 pos;	/* receiver: next position; MPSC sender: last claim */
	au32 flags;	/* REC_POLL: has a poll socket */
	au64 lost;	/* receiver: messages lost (DROP_OLDEST) */
	au64 heartbeat;	/* REC_HB: bumped every HB_PERIOD_MS by its process */
	au64 start;	/* the process's start time (/proc/PID/stat field 22) */
	au64 pidns;	/* its pid namespace (inode of /proc/PID/ns/pid) */
	au32 ivs_peer;	/* REC_IVS: ivshmem peer id of its VM or host program */
	au32 ivs_vector; /* REC_IVS: the doorbell vector it sleeps on */
	au32 cpu;	/* hint: 1 + the CPU of its last operation; 0 unknown */
	au32 reserved;
};

struct kc_hdr {
	struct kc_geom geom;
	struct kc_tx tx;
	struct kc_wait rxw;
	struct kc_wait txw;
	struct kc_state st;
	struct kc_rec rec[];
};

struct kc_slot {
	au32 seq;
	au32 len;
	au32 owner;	/* MPSC: the sender record that claimed it */
	au32 flags;
	unsigned char data[];
};

_Static_assert(sizeof(struct kc_geom) == LINE, "geometry line");
_Static_assert(sizeof(struct kc_tx) == LINE, "tx line");
_Static_assert(sizeof(struct kc_wait) == LINE, "wait line");
_Static_assert(sizeof(struct kc_state) == LINE, "state line");
_Static_assert(sizeof(struct kc_rec) == LINE, "record line");
_Static_assert(offsetof(struct kc_hdr, rec) == 5 * LINE, "records at line 5");
_Static_assert(sizeof(struct kc_slot) == SLOT_HDR, "slot header");
_Static_assert(sizeof(au32) == 4 && sizeof(au64) == 8, "lock-free words");

/* The shared region, shared by the endpoints of this process on it. */
struct kc_map {
	_Atomic int refs;
	void *base;
	size_t len;
	int fd;		/* memfd or shm descriptor, or -1 */
	bool owned;	/* unmap (and close fd) when the last endpoint goes */
	bool kshm;	/* mapped by kshm_map(): kshm_close() undoes both */
	int ivs;	/* IVS_NONE, IVS_GUEST (fd: /dev/ivshmemN), IVS_HOST */
	uint32_t ivs_id;	/* own ivshmem peer id */
	uint32_t vectors;	/* doorbell vectors per peer */
	char *path;		/* IVS_GUEST: the device, opened per endpoint */
	struct kipc_ivshmem *iv;	/* IVS_HOST: the server connection */
	pthread_mutex_t iv_lock;	/* IVS_HOST: protects iv's peer table */
};

/* Geometry derived from (shape, policy, slot_size, slot_count, max_peers). */
struct kc_layout {
	uint32_t shape, policy, slot_size, count, peers;
	uint32_t n_tx, n_rx, stride, slots_off;
	uint64_t total;
};

struct kipc_chan {
	struct kc_map *map;
	struct kc_hdr *h;
	unsigned char *slots;
	struct kc_layout l;	/* checked once at attach; never re-read */
	uint32_t mask;
	unsigned int role;
	struct kc_rec *self;	/* own record, or NULL (role NONE) */
	uint32_t rec;		/* own record's index among its role's */
	pid_t pid;		/* the process that attached */
	uint32_t pos;		/* next position to send (SPSC, SPMC) or read */
	/* SPMC sender: positions before free_until are free (cache). */
	uint32_t free_until, gen;
	bool loaned, peeked;
	uint32_t loan_pos, peek_pos;
	uint64_t lost, pending_lost, msgs, waits, wakes;
	long spin_ns;
	int pollfd;		/* kipc_chan_pollfd()'s socket, or -1 */
	bool pollfd_own;	/* pollfd is ours to close (a socket) */
	uint64_t nonce;		/* the channel's, read once at attach */
	int wfd;		/* IVS_GUEST: own device file to wait on, or -1 */
	uint32_t vec;		/* ivshmem: the doorbell vector it sleeps on */
	/* docs/chan.md "Heartbeats" (ivshmem endpoints only) */
	struct kipc_chan *hb_next;	/* in hb.list (under hb.lock) */
	uint64_t hb_last;	/* own heartbeat's last value (under hb.lock) */
	_Atomic bool hb_lost;	/* own record was reaped (or stolen) */
	struct kc_seen *seen;	/* every record's heartbeat as last seen */
};

/* A heartbeat as a reader saw it: VAL, first seen at AT (ns), 0: never. */
struct kc_seen {
	uint64_t val;
	int64_t at;
};

/* ---- small helpers -------------------------------------------------- */

#define LD(p, mo)	atomic_load_explicit((p), memory_order_##mo)
#define ST(p, v, mo)	atomic_store_explicit((p), (v), memory_order_##mo)

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#endif
}

static inline int32_t dist(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long futex(au32 *w, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, w, op, val, ts, NULL, 0);
}

static inline struct kc_slot *slot_at(const struct kipc_chan *ch, uint32_t p)
{
	return (struct kc_slot *)(ch->slots + (size_t)(p & ch->mask) * ch->l.stride);
}

static inline struct kc_rec *tx_rec(const struct kipc_chan *ch, uint32_t i)
{
	return &ch->h->rec[i];
}

static inline struct kc_rec *rx_rec(const struct kipc_chan *ch, uint32_t i)
{
	return &ch->h->rec[ch->l.n_tx + i];
}

static long default_spin(void)
{
	static _Atomic long spin = -2;
	long v = LD(&spin, relaxed);
	cpu_set_t set;

	if (v != -2)
		return v;
	v = 0;
	if (!sched_getaffinity(0, sizeof(set), &set) && CPU_COUNT(&set) >= 2)
		v = 20000;
	ST(&spin, v, relaxed);
	return v;
}

/*
 * The longest single sleep: WAIT_SLICE_MS, or KIPC_CHAN_WAIT_SLICE_MS from
 * the environment (1 .. 3600000; the stress tests make it an hour, so that
 * a lost wake-up hangs them instead of costing one slice).
 */
static long env_ms(const char *name, long def, long min)
{
	const char *e = getenv(name);
	char *end;
	long n;

	if (!e)
		return def;
	n = strtol(e, &end, 10);
	return end != e && !*end && n >= min && n <= 3600000 ? n : def;
}

static int64_t slice_ns(void)
{
	static _Atomic int64_t slice;
	int64_t v = LD(&slice, relaxed);

	if (v)
		return v;
	v = env_ms("KIPC_CHAN_WAIT_SLICE_MS", WAIT_SLICE_MS, 1) * 1000000LL;
	ST(&slice, v, relaxed);
	return v;
}

/*
 * docs/chan.md "Heartbeats": how long a record's heartbeat may stand
 * still before this process judges its owner dead -- HB_DEAD_MS, or
 * KIPC_CHAN_HEARTBEAT_MS (400 .. 3600000; 0: this process neither keeps
 * heartbeats nor judges by them).  -1 when off.
 */
static int64_t hb_bound_ns(void)
{
	static _Atomic int64_t bound;
	int64_t v = LD(&bound, relaxed);
	long ms;

	if (v)
		return v;
	ms = env_ms("KIPC_CHAN_HEARTBEAT_MS", HB_DEAD_MS, 0);
	if (ms && ms < 4 * HB_PERIOD_MS)
		ms = HB_DEAD_MS;
	v = ms ? ms * 1000000LL : -1;
	ST(&bound, v, relaxed);
	return v;
}

/* ---- layout (docs/chan.md "Layout") --------------------------------- */

static int kc_layout(uint32_t shape, uint32_t policy, uint32_t slot_size,
		     uint32_t count, uint32_t peers, struct kc_layout *l)
{
	uint64_t recs, off;

	if (shape < KIPC_CHAN_SPSC || shape > KIPC_CHAN_SPMC)
		return -1;
	if (policy > KIPC_CHAN_DROP_OLDEST ||
	    (policy && shape != KIPC_CHAN_SPMC))
		return -1;
	if (!slot_size || slot_size > KIPC_CHAN_MAX_SLOT_SIZE)
		return -1;
	if (count < 2 || count > KIPC_CHAN_MAX_SLOTS || (count & (count - 1)))
		return -1;
	if (shape == KIPC_CHAN_SPSC)
		peers = 1;
	if (!peers || peers > KIPC_CHAN_MAX_PEERS)
		return -1;
	l->shape = shape;
	l->policy = policy;
	l->slot_size = slot_size;
	l->count = count;
	l->peers = peers;
	l->n_tx = shape == KIPC_CHAN_MPSC ? peers : 1;
	l->n_rx = shape == KIPC_CHAN_SPMC ? peers : 1;
	l->stride = (SLOT_HDR + slot_size + LINE - 1) & ~(LINE - 1);
	recs = l->n_tx + l->n_rx;
	off = sizeof(struct kc_hdr) + recs * LINE;
	off = (off + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	l->slots_off = (uint32_t)off;
	l->total = off + (uint64_t)count * l->stride;
	if (l->total > SIZE_MAX)
		return -1;
	return 0;
}

void kipc_chan_attr_init(struct kipc_chan_attr *attr)
{
	if (!attr)
		return;
	memset(attr, 0, sizeof(*attr));
	attr->shape = KIPC_CHAN_SPSC;
	attr->policy = KIPC_CHAN_BLOCK;
	attr->slot_size = 1024;
	attr->slot_count = 64;
	attr->max_peers = 8;
	attr->mode = 0600;
}

static int attr_layout(const struct kipc_chan_attr *attr, struct kc_layout *l)
{
	if (!attr || attr->mode > 0777 ||
	    kc_layout(attr->shape, attr->policy, attr->slot_size,
		      attr->slot_count, attr->max_peers, l)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

size_t kipc_chan_size(const struct kipc_chan_attr *attr)
{
	struct kc_layout l;

	if (attr_layout(attr, &l))
		return 0;
	return (size_t)l.total;
}

/* Lay out a channel (kipc_chan_format) with geometry FLAGS. */
static int kc_format(void *mem, size_t len, const struct kipc_chan_attr *attr,
		     uint32_t flags)
{
	struct kc_layout l;
	struct kc_hdr *h = mem;
	uint64_t nonce;

	if (attr_layout(attr, &l))
		return -1;
	if (!mem || ((uintptr_t)mem & (LINE - 1))) {
		errno = EINVAL;
		return -1;
	}
	if (len < l.total) {
		errno = ENOSPC;
		return -1;
	}
	/* Zero the header and records (the slots' seq words are set below). */
	ST(&h->geom.magic, 0, relaxed);
	atomic_thread_fence(memory_order_release);
	memset((char *)mem + sizeof(h->geom.magic), 0,
	       l.slots_off - sizeof(h->geom.magic));
	for (uint32_t i = 0; i < l.count; i++) {
		struct kc_slot *s = (struct kc_slot *)((char *)mem + l.slots_off +
						       (size_t)i * l.stride);

		ST(&s->seq, i, relaxed);
		ST(&s->len, 0, relaxed);
		ST(&s->owner, 0, relaxed);
		ST(&s->flags, 0, relaxed);
	}
	nonce = (uint64_t)now_ns() ^ ((uint64_t)getpid() << 32) ^
		(uint64_t)(uintptr_t)mem;
	ST(&h->geom.version, KC_VERSION, relaxed);
	ST(&h->geom.shape, l.shape, relaxed);
	ST(&h->geom.policy, l.policy, relaxed);
	ST(&h->geom.slot_size, l.slot_size, relaxed);
	ST(&h->geom.slot_count, l.count, relaxed);
	ST(&h->geom.slot_stride, l.stride, relaxed);
	ST(&h->geom.max_peers, l.peers, relaxed);
	ST(&h->geom.slots_offset, l.slots_off, relaxed);
	ST(&h->geom.records, l.n_tx + l.n_rx, relaxed);
	ST(&h->geom.total_size, l.total, relaxed);
	ST(&h->geom.nonce, nonce, relaxed);
	ST(&h->geom.flags, flags, relaxed);
	/* Publish: an opener that reads the magic (acquire) sees the rest. */
	ST(&h->geom.magic, KC_MAGIC, release);
	return 0;
}

int kipc_chan_format(void *mem, size_t len, const struct kipc_chan_attr *attr)
{
	return kc_format(mem, len, attr, 0);
}

/*
 * Read and check the geometry at MEM (LEN bytes mapped) into *L.  FLAGS:
 * the geometry flags the locale needs (KC_F_DOORBELL for the ivshmem
 * locales, else 0): a channel whose wake-ups this locale cannot deliver
 * is refused (EPROTO), as is an unknown flag.
 */
static int read_geom(const void *mem, size_t len, uint32_t flags,
		     struct kc_layout *l)
{
	const struct kc_hdr *h = mem;
	uint32_t magic;

	if (len < sizeof(struct kc_hdr)) {
		errno = len ? EPROTO : EAGAIN;
		return -1;
	}
	magic = LD(&h->geom.magic, acquire);
	if (magic == 0) {
		errno = EAGAIN;	/* not formatted (yet) */
		return -1;
	}
	if (magic != KC_MAGIC || LD(&h->geom.version, relaxed) != KC_VERSION ||
	    LD(&h->geom.flags, relaxed) != flags)
		goto bad;
	if (kc_layout(LD(&h->geom.shape, relaxed), LD(&h->geom.policy, relaxed),
		      LD(&h->geom.slot_size, relaxed),
		      LD(&h->geom.slot_count, relaxed),
		      LD(&h->geom.max_peers, relaxed), l))
		goto bad;
	/* Everything derivable must match what was derived. */
	if (l->shape == KIPC_CHAN_SPSC && LD(&h->geom.max_peers, relaxed) != 1)
		goto bad;
	if (LD(&h->geom.slot_stride, relaxed) != l->stride ||
	    LD(&h->geom.slots_offset, relaxed) != l->slots_off ||
	    LD(&h->geom.records, relaxed) != l->n_tx + l->n_rx ||
	    LD(&h->geom.total_size, relaxed) != l->total || l->total > len)
		goto bad;
	return 0;
bad:
	errno = EPROTO;
	return -1;
}

/* ---- maps and endpoints --------------------------------------------- */

static void map_put(struct kc_map *m)
{
	if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (m->ivs == IVS_HOST) {
		kipc_ivshmem_close(m->iv);	/* unmaps too */
		pthread_mutex_destroy(&m->iv_lock);
	} else if (m->kshm) {
		kshm_close(m->fd);
	} else if (m->owned) {
		munmap(m->base, m->len);
		if (m->fd >= 0)
			close(m->fd);
	}
	free(m->path);
	free(m);
}

/* ---- processes (docs/chan.md "Peers that die") ---------------------- */

struct proc_id {
	pid_t pid;
	uint64_t start, pidns;
};

/* Start time (field 22) and state (field 3) of /proc/PID/stat: 0 or -1. */
static int proc_stat(const char *path, uint64_t *start, char *state)
{
	char buf[1024], *p;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		goto bad;
	buf[n] = 0;
	p = strrchr(buf, ')');	/* the command may hold spaces and parens */
	if (!p || p[1] != ' ')
		goto bad;
	*state = p[2];
	for (int field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			goto bad;
	}
	*start = strtoull(p + 1, NULL, 10);
	return 0;
bad:
	errno = EIO;	/* not "gone": a read error proves nothing */
	return -1;
}

static uint64_t ns_inode(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (uint64_t)st.st_ino;
}

/* This process's identity, recomputed after fork(). */
static const struct proc_id *self_id(void)
{
	static __thread struct proc_id id;
	pid_t pid = getpid();
	char state;

	if (id.pid != pid) {
		id.pid = pid;
		if (proc_stat("/proc/self/stat", &id.start, &state))
			id.start = 0;
		id.pidns = ns_inode("/proc/self/ns/pid");
	}
	return &id;
}

/*
 * Heartbeats (docs/chan.md "Heartbeats"): a thread of this process bumps
 * the heartbeat of every ivshmem endpoint it has open, every HB_PERIOD_MS,
 * whatever the endpoint's owner is doing, so a peer in another VM can tell
 * a live process from a dead one (or a dead VM).  It starts with the first
 * such endpoint and ends when the last one closes.  A bump is a
 * compare-and-swap from the value it wrote last: if that fails, or the
 * record is no longer open, a peer has reaped the endpoint (it judged it
 * dead: a paused VM) -- the endpoint is marked lost and its next wait
 * fails with ECONNRESET.
 */
static struct {
	pthread_mutex_t lock;	/* protects list, running and each hb_last */
	struct kipc_chan *list;	/* endpoints whose heartbeat we keep */
	bool running;		/* the thread runs in this process */
} hb = { .lock = PTHREAD_MUTEX_INITIALIZER };
static pthread_once_t hb_once = PTHREAD_ONCE_INIT;

static void hb_prepare(void)
{
	pthread_mutex_lock(&hb.lock);
}

static void hb_parent(void)
{
	pthread_mutex_unlock(&hb.lock);
}

/* A child has no heartbeat thread; the parent's endpoints stay the parent's. */
static void hb_child(void)
{
	hb.list = NULL;
	hb.running = false;
	pthread_mutex_unlock(&hb.lock);
}

static void hb_atfork(void)
{
	pthread_atfork(hb_prepare, hb_parent, hb_child);
}

/* Bump CH's heartbeat: false if its record is not ours any more. */
static bool hb_bump(struct kipc_chan *ch)
{
	uint64_t v = ch->hb_last;

	if (LD(&ch->self->state, acquire) != REC_OPEN ||
	    !atomic_compare_exchange_strong_explicit(&ch->self->heartbeat, &v,
			v + 1, memory_order_release, memory_order_relaxed))
		return false;
	ch->hb_last = v + 1;
	return true;
}

static void *hb_main(void *arg)
{
	const struct timespec period = { 0, HB_PERIOD_MS * 1000000L };

	(void)arg;
	for (;;) {
		struct kipc_chan **pp;

		pthread_mutex_lock(&hb.lock);
		if (!hb.list) {
			hb.running = false;
			pthread_mutex_unlock(&hb.lock);
			return NULL;
		}
		for (pp = &hb.list; *pp;) {
			struct kipc_chan *ch = *pp;

			if (hb_bump(ch)) {
				pp = &ch->hb_next;
				continue;
			}
			ST(&ch->hb_lost, true, release);
			*pp = ch->hb_next;
		}
		pthread_mutex_unlock(&hb.lock);
		nanosleep(&period, NULL);
	}
}

/* Keep CH's heartbeat (its record has REC_HB): 0, or -1 if no thread. */
static int hb_add(struct kipc_chan *ch)
{
	int ret = 0;

	pthread_once(&hb_once, hb_atfork);
	pthread_mutex_lock(&hb.lock);
	if (!hb.running) {
		sigset_t all, old;
		pthread_attr_t a;
		pthread_t t;

		/* The thread takes no signals: they stay the caller's. */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		pthread_attr_init(&a);
		pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
		ret = pthread_create(&t, &a, hb_main, NULL) ? -1 : 0;
		pthread_attr_destroy(&a);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		hb.running = !ret;
	}
	if (!ret) {
		ch->hb_next = hb.list;
		hb.list = ch;
	}
	pthread_mutex_unlock(&hb.lock);
	return ret;
}

/*
 * Stop keeping CH's heartbeat.  True if its record is still its own (not
 * reaped by a peer): the caller may then free it.
 */
static bool hb_del(struct kipc_chan *ch)
{
	bool mine;

	pthread_mutex_lock(&hb.lock);
	for (struct kipc_chan **pp = &hb.list; *pp; pp = &(*pp)->hb_next) {
		if (*pp == ch) {
			*pp = ch->hb_next;
			break;
		}
	}
	mine = !LD(&ch->hb_lost, acquire) &&
	       LD(&ch->self->heartbeat, relaxed) == ch->hb_last;
	pthread_mutex_unlock(&hb.lock);
	return mine;
}

/*
 * Has a peer reaped this endpoint (judged it dead: a paused VM)?  Its own
 * record is no longer open -- seen at once, before the heartbeat thread
 * notices -- or the thread found it taken by another endpoint.  Slow
 * paths only (a wait, an overtaken subscriber).
 */
static bool hb_reaped(const struct kipc_chan *ch)
{
	return ch->seen && (LD(&ch->hb_lost, relaxed) ||
			    LD(&ch->self->state, relaxed) != REC_OPEN);
}

/*
 * Has the heartbeat of record R (REC_HB) stood still for the bound?  Each
 * reader times a value from when it first saw it, on its own clock.
 */
static bool hb_silent(struct kipc_chan *ch, const struct kc_rec *r)
{
	struct kc_seen *s = &ch->seen[r - ch->h->rec];
	uint64_t v = LD(&r->heartbeat, acquire);
	int64_t t = now_ns();

	if (!s->at || s->val != v) {
		s->val = v;
		s->at = t;
		return false;
	}
	return t - s->at >= hb_bound_ns();
}

/*
 * ivshmem-host: has PEER left the server (or never been there)?  Applies
 * what the server sent first.  A peer is judged only while the server
 * connection lives: without it the peer list is stale.
 */
static bool host_peer_gone(struct kc_map *m, uint32_t peer)
{
	unsigned int ids[256];
	bool gone = true;
	int n, r;

	if (peer == m->ivs_id)
		return false;
	pthread_mutex_lock(&m->iv_lock);
	while ((r = kipc_ivshmem_process(m->iv, NULL)) > 0)
		;
	if (r < 0 && errno == ECONNRESET) {
		gone = false;
	} else {
		n = kipc_ivshmem_peers(m->iv, ids, 256);
		for (int i = 0; i < n && i < 256 && gone; i++)
			gone = ids[i] != peer;
		if (n > 256)
			gone = false;	/* not all seen: do not guess */
	}
	pthread_mutex_unlock(&m->iv_lock);
	return gone;
}

/*
 * Is the process of record R dead?  Only a record from our own pid
 * namespace is judged (another namespace's pid means nothing here); a pid
 * whose /proc entry is gone, a zombie, or a pid now used by a process
 * started at another time (recycled) is dead.  ivshmem (docs/chan.md
 * "Peers that die"): a record of another VM or host program (another
 * ivshmem peer id) is never judged by /proc -- every guest's initial pid
 * namespace has the same inode -- but by its heartbeat, and on the host
 * also by the server's peer list.
 */
static bool rec_dead(struct kipc_chan *ch, const struct kc_rec *r)
{
	uint32_t pid = LD(&r->pid, relaxed);
	uint64_t start = LD(&r->start, relaxed), st;
	char path[32], state;

	if (ch->map->ivs && (LD(&r->flags, relaxed) & REC_IVS) &&
	    LD(&r->ivs_peer, relaxed) != ch->map->ivs_id) {
		if (ch->map->ivs == IVS_HOST &&
		    host_peer_gone(ch->map, LD(&r->ivs_peer, relaxed)))
			return true;
		return ch->seen && (LD(&r->flags, relaxed) & REC_HB) &&
		       hb_silent(ch, r);
	}
	if (LD(&r->pidns, relaxed) != self_id()->pidns || !self_id()->pidns)
		return false;
	if (!pid || pid > INT_MAX)
		return true;
	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	if (proc_stat(path, &st, &state))
		return errno == ENOENT || errno == ESRCH;
	return state == 'Z' || state == 'X' || (start && st != start);
}

/* Claim a record of ROLE: CAS FREE -> CLAIMING, fill, then OPEN. */
static int claim_rec(struct kipc_chan *ch)
{
	struct kc_hdr *h = ch->h;
	uint32_t n = ch->role == KIPC_CHAN_SEND ? ch->l.n_tx : ch->l.n_rx;

	for (uint32_t i = 0; i < n; i++) {
		struct kc_rec *r = ch->role == KIPC_CHAN_SEND ? tx_rec(ch, i) :
								rx_rec(ch, i);
		uint32_t want = REC_FREE;

		if (!atomic_compare_exchange_strong_explicit(&r->state, &want,
				REC_CLAIMING, memory_order_acq_rel,
				memory_order_relaxed))
			continue;
		ch->self = r;
		ch->rec = i;
		ST(&r->pid, (uint32_t)ch->pid, relaxed);
		/* docs/chan.md "Wake-ups across VMs": where to ring us. */
		ST(&r->ivs_peer, ch->map->ivs ? ch->map->ivs_id : 0, relaxed);
		ST(&r->ivs_vector, ch->vec, relaxed);
		ST(&r->lost, 0, relaxed);
		ST(&r->cpu, 0, relaxed);	/* no operation yet */
		/* docs/chan.md "Heartbeats": a fresh value per claim. */
		ch->hb_last = ch->seen ? (uint64_t)now_ns() ^ ch->nonce ^
					 ((uint64_t)ch->pid << 40) ^ i : 0;
		ST(&r->heartbeat, ch->hb_last, relaxed);
		ST(&r->flags, !ch->map->ivs ? 0 :
			      ch->seen ? REC_IVS | REC_HB : REC_IVS, relaxed);
		ST(&r->start, self_id()->start, relaxed);
		ST(&r->pidns, self_id()->pidns, relaxed);
		if (ch->role == KIPC_CHAN_SEND) {
			ch->pos = LD(&h->tx.head, acquire);
			ST(&r->state, REC_OPEN, release);
			atomic_fetch_add_explicit(&h->st.tx_attached, 1,
						  memory_order_seq_cst);
			ST(&h->st.tx_seen, 1, release);
			ST(&h->st.tx_dead, 0, release);
			return 0;
		}
		if (ch->l.shape != KIPC_CHAN_SPMC) {
			ch->pos = LD(&r->pos, acquire);
		} else {
			/*
			 * docs/chan.md "Subscribing": the cursor is in place
			 * and counted before the sender's cached limit can
			 * miss it (rx_gen); then start at the head seen after
			 * that, so nothing the sender wrote meanwhile was ours.
			 */
			ch->pos = LD(&h->tx.head, acquire);
			ST(&r->pos, ch->pos, relaxed);
			ST(&r->state, REC_OPEN, release);
			atomic_fetch_add_explicit(&h->st.rx_gen, 1,
						  memory_order_seq_cst);
			ch->pos = LD(&h->tx.head, seq_cst);
			ST(&r->pos, ch->pos, release);
		}
		ST(&r->state, REC_OPEN, release);
		atomic_fetch_add_explicit(&h->st.rx_attached, 1,
					  memory_order_seq_cst);
		ST(&h->st.rx_seen, 1, release);
		if (ch->l.shape != KIPC_CHAN_SPMC)
			ST(&h->st.rx_dead, 0, release);
		return 0;
	}
	errno = EBUSY;
	return -1;
}

static struct kipc_chan *attach_map(struct kc_map *m, unsigned int role)
{
	struct kipc_chan *ch;
	struct kc_layout l;

	if (role > KIPC_CHAN_RECV) {
		errno = EINVAL;
		return NULL;
	}
	if (read_geom(m->base, m->len, m->ivs ? KC_F_DOORBELL : 0, &l))
		return NULL;
	ch = calloc(1, sizeof(*ch));
	if (!ch) {
		errno = ENOMEM;
		return NULL;
	}
	ch->map = m;
	ch->h = m->base;
	ch->l = l;
	ch->slots = (unsigned char *)m->base + l.slots_off;
	ch->mask = l.count - 1;
	ch->role = role;
	ch->pid = getpid();
	ch->spin_ns = default_spin();
	ch->pollfd = -1;
	ch->wfd = -1;
	ch->nonce = LD(&ch->h->geom.nonce, relaxed);
	ch->gen = LD(&ch->h->st.rx_gen, acquire) - 1;	/* recompute first */
	/* Receivers sleep on vector 0, senders on 1 (0 if there is one). */
	ch->vec = role == KIPC_CHAN_SEND && m->vectors >= 2 ? 1 : 0;
	if (m->ivs && role != KIPC_CHAN_NONE && hb_bound_ns() > 0) {
		/* Heartbeats: kept and judged (docs/chan.md "Heartbeats"). */
		ch->seen = calloc(l.n_tx + l.n_rx, sizeof(*ch->seen));
		if (!ch->seen) {
			free(ch);
			errno = ENOMEM;
			return NULL;
		}
	}
	if (m->ivs == IVS_GUEST && role != KIPC_CHAN_NONE) {
		/* Its own file: the driver counts consumed doorbells per file. */
		ch->wfd = open(m->path, O_RDWR | O_CLOEXEC);
		if (ch->wfd < 0) {
			int err = errno;

			free(ch->seen);
			free(ch);
			errno = err;
			return NULL;
		}
	}
	if (role != KIPC_CHAN_NONE && claim_rec(ch)) {
		int err = errno;

		if (ch->wfd >= 0)
			close(ch->wfd);
		free(ch->seen);
		free(ch);
		errno = err;
		return NULL;
	}
	/* No thread to keep it: peers must not judge us by our heartbeat. */
	if (ch->seen && hb_add(ch))
		atomic_fetch_and_explicit(&ch->self->flags, ~REC_HB,
					  memory_order_relaxed);
	atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
	return ch;
}

static struct kc_map *map_new(void *base, size_t len, int fd, bool owned)
{
	struct kc_map *m = calloc(1, sizeof(*m));

	if (!m) {
		errno = ENOMEM;
		return NULL;
	}
	m->base = base;
	m->len = len;
	m->fd = fd;
	m->owned = owned;
	return m;
}

/* Attach ROLE over a fresh map M; on failure M is released. */
static struct kipc_chan *attach_new(struct kc_map *m, unsigned int role)
{
	struct kipc_chan *ch = attach_map(m, role);
	int err = errno;

	if (!ch) {
		atomic_store(&m->refs, 1);
		map_put(m);
		errno = err;
	}
	return ch;
}

/* Format a fresh map M and attach ROLE; on failure M is released. */
static struct kipc_chan *format_attach(struct kc_map *m,
				       const struct kipc_chan_attr *attr,
				       unsigned int role)
{
	if (kc_format(m->base, m->len, attr, m->ivs ? KC_F_DOORBELL : 0)) {
		int err = errno;

		atomic_store(&m->refs, 1);
		map_put(m);
		errno = err;
		return NULL;
	}
	return attach_new(m, role);
}

struct kipc_chan *kipc_chan_attach(void *mem, size_t len, unsigned int role)
{
	struct kc_map *m;

	if (!mem || ((uintptr_t)mem & (LINE - 1))) {
		errno = EINVAL;
		return NULL;
	}
	m = map_new(mem, len, -1, false);
	return m ? attach_new(m, role) : NULL;
}

struct kipc_chan *kipc_chan_peer(struct kipc_chan *ch, unsigned int role)
{
	if (!ch) {
		errno = EINVAL;
		return NULL;
	}
	return attach_map(ch->map, role);
}

/* ---- locales (docs/chan.md "Locales") ------------------------------- */

static struct kc_map *map_fd(int fd, size_t len)
{
	void *p;
	struct kc_map *m;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	m = map_new(p, len, fd, true);
	if (!m)
		munmap(p, len);
	return m;
}

/* Size of FD's file, checked to be mappable: 0 with errno on error. */
static size_t fd_size(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return 0;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return 0;
	}
	if (st.st_size <= 0) {
		errno = EAGAIN;	/* created, not sized and formatted yet */
		return 0;
	}
	if ((uint64_t)st.st_size > SIZE_MAX) {
		errno = EFBIG;
		return 0;
	}
	return (size_t)st.st_size;
}

static bool is_memfd(int fd)
{
	char path[40], link[16];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link));
	return n >= 7 && !memcmp(link, "/memfd:", 7);
}

/* A memfd must be sealed against resizing (docs/chan.md "Locales"). */
static int check_seals(int fd)
{
	int seals;

	if (!is_memfd(fd))
		return 0;
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) !=
			 (F_SEAL_SHRINK | F_SEAL_GROW)) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

static const char *prefixed(const char *where, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(where, prefix, n) ? NULL : where + n;
}

/* "shm:/NAME": a name shm_open() takes (one leading slash, no other). */
static const char *shm_name(const char *where)
{
	const char *name = prefixed(where, "shm:");

	if (!name || name[0] != '/' || !name[1] || strchr(name + 1, '/') ||
	    strlen(name) > NAME_MAX) {
		errno = EINVAL;
		return NULL;
	}
	return name;
}

static struct kipc_chan *create_fd(int fd, const struct kc_layout *l,
				   const struct kipc_chan_attr *attr,
				   unsigned int role, bool seal)
{
	struct kc_map *m;
	int err;

	if (ftruncate(fd, (off_t)l->total) < 0)
		goto fail;
	if (seal && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
			  F_SEAL_SEAL) < 0)
		goto fail;
	m = map_fd(fd, (size_t)l->total);
	if (!m)
		goto fail;
	return format_attach(m, attr, role);
fail:
	err = errno;
	close(fd);
	errno = err;
	return NULL;
}

/*
 * "myshm:PATH[@OFFSET]": a myshm-interface device (/dev/myshm*, and
 * /dev/ivshmemN of kipc_ivshmem.ko), the channel at OFFSET (a multiple of
 * 4096).  NEED: bytes to map (create), or 0: all from OFFSET (open).
 */
/*
 * Split "PATH[@OFFSET]" (PATH absolute, OFFSET a multiple of 4096) into
 * PATH (LEN bytes) and *OFF.  0, or -1 with EINVAL.
 */
static int path_at(const char *spec, char *path, size_t len,
		   unsigned long long *off)
{
	char *at, *end;

	*off = 0;
	if (strlen(spec) >= len || spec[0] != '/')
		goto inval;
	strcpy(path, spec);
	at = strrchr(path, '@');
	if (at) {
		*at = 0;
		errno = 0;
		*off = strtoull(at + 1, &end, 0);
		if (errno || end == at + 1 || *end || *off % PAGE)
			goto inval;
	}
	return 0;
inval:
	errno = EINVAL;
	return -1;
}

static struct kipc_chan *dev_locale(const char *spec, size_t need,
				    const struct kipc_chan_attr *attr,
				    unsigned int role, bool doorbell)
{
	char path[256];
	unsigned long long off;
	struct kipc_ivshmem_info info;
	__u64 size;
	struct kc_map *m;
	int fd, err;

	if (path_at(spec, path, sizeof(path), &off))
		return NULL;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (ioctl(fd, MYSHM_GET_SIZE, &size) < 0) {
		err = errno == ENOTTY ? EINVAL : errno;
		goto fail;
	}
	if (doorbell) {
		/* docs/chan.md "Locales": a doorbell device of kipc_ivshmem. */
		memset(&info, 0, sizeof(info));
		if (ioctl(fd, KIPC_IVSHMEM_GET_INFO, &info) < 0) {
			err = errno == ENOTTY ? EINVAL : errno;
			goto fail;
		}
		err = EOPNOTSUPP;
		if (!info.doorbell || !info.vectors)
			goto fail;
	}
	err = ENOSPC;
	if (off >= size || (need && need > size - off))
		goto fail;
	if (!need)
		need = (size_t)(size - off);
	m = map_new(NULL, need, fd, true);
	if (!m) {
		err = errno;
		goto fail;
	}
	if (doorbell) {
		m->ivs = IVS_GUEST;
		m->ivs_id = info.peer_id;
		m->vectors = info.vectors;
		m->path = strdup(path);
		if (!m->path) {
			err = ENOMEM;
			free(m);
			goto fail;
		}
	}
	m->base = mmap(NULL, need, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       (off_t)off);
	if (m->base == MAP_FAILED) {
		err = errno;
		free(m->path);
		free(m);
		goto fail;
	}
	return attr ? format_attach(m, attr, role) : attach_new(m, role);
fail:
	close(fd);
	errno = err;
	return NULL;
}

/*
 * "ivshmem-host:SOCKET[@OFFSET]": a host program joins the ivshmem server
 * on SOCKET (kipc_ivshmem_connect) as a peer of the guests; the channel
 * is at OFFSET of the shared memory.  NEED as for dev_locale().
 */
static struct kipc_chan *host_locale(const char *spec, size_t need,
				     const struct kipc_chan_attr *attr,
				     unsigned int role)
{
	char path[256];
	unsigned long long off;
	struct kipc_ivshmem *iv;
	struct kc_map *m;
	size_t size;
	int err;

	if (path_at(spec, path, sizeof(path), &off))
		return NULL;
	iv = kipc_ivshmem_connect(path, 0, IVS_CONNECT_MS);
	if (!iv)
		return NULL;
	size = kipc_ivshmem_size(iv);
	err = ENOSPC;
	if (off >= size || (need && need > size - off))
		goto fail;
	err = EOPNOTSUPP;
	if (!kipc_ivshmem_vectors(iv))
		goto fail;
	/* Sleepers read their eventfds without blocking (docs/chan.md). */
	for (unsigned int v = 0; v < kipc_ivshmem_vectors(iv); v++) {
		int fd = kipc_ivshmem_vector_fd(iv, v);
		int fl = fcntl(fd, F_GETFL);

		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
			err = errno;
			goto fail;
		}
	}
	if (!need)
		need = size - (size_t)off;
	m = map_new((char *)kipc_ivshmem_mem(iv) + off, need, -1, true);
	if (!m) {
		err = errno;
		goto fail;
	}
	m->ivs = IVS_HOST;
	m->iv = iv;
	m->ivs_id = kipc_ivshmem_id(iv);
	m->vectors = kipc_ivshmem_vectors(iv);
	pthread_mutex_init(&m->iv_lock, NULL);
	return attr ? format_attach(m, attr, role) : attach_new(m, role);
fail:
	kipc_ivshmem_close(iv);
	errno = err;
	return NULL;
}

/* "kshm:NAME": a kshm object (kshm.ko), created exclusively or opened. */
static struct kipc_chan *kshm_locale(const char *name, size_t need,
				     const struct kipc_chan_attr *attr,
				     unsigned int role)
{
	struct kc_map *m;
	void *va;
	ssize_t size;
	int fd, err;

	fd = kshm_open_mode(name, attr ? O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC :
					 O_RDWR | O_CLOEXEC,
			    attr ? attr->mode : 0);
	if (fd < 0)
		return NULL;
	if (attr && kshm_trunc(fd, need) < 0)
		goto fail;
	size = kshm_size(fd);
	if (size < 0)
		goto fail;
	if (size == 0) {
		errno = EAGAIN;	/* created, not sized yet */
		goto fail;
	}
	if (kshm_map(fd, &va, O_RDWR) < 0)
		goto fail;
	m = map_new(va, (size_t)size, fd, true);
	if (!m)
		goto fail;
	m->kshm = true;
	return attr ? format_attach(m, attr, role) : attach_new(m, role);
fail:
	err = errno;
	kshm_close(fd);
	errno = err;
	return NULL;
}

struct kipc_chan *kipc_chan_create(const char *where,
				   const struct kipc_chan_attr *attr,
				   unsigned int role)
{
	struct kc_layout l;
	const char *name;
	struct kipc_chan *ch;
	int fd, err;

	if (!where || role > KIPC_CHAN_RECV) {
		errno = EINVAL;
		return NULL;
	}
	if (attr_layout(attr, &l))
		return NULL;
	if (!strcmp(where, "anon")) {
		struct kc_map *m;
		void *p = mmap(NULL, (size_t)l.total, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			return NULL;
		m = map_new(p, (size_t)l.total, -1, true);
		if (!m) {
			munmap(p, (size_t)l.total);
			return NULL;
		}
		return format_attach(m, attr, role);
	}
	if ((name = prefixed(where, "memfd:"))) {
		if (strlen(name) > 249) {	/* memfd_create's limit */
			errno = EINVAL;
			return NULL;
		}
		fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (fd < 0)
			return NULL;
		if (fchmod(fd, attr->mode) < 0) {
			err = errno;
			close(fd);
			errno = err;
			return NULL;
		}
		return create_fd(fd, &l, attr, role, true);
	}
	if ((name = prefixed(where, "myshm:")))
		return dev_locale(name, (size_t)l.total, attr, role, false);
	if ((name = prefixed(where, "ivshmem:")))
		return dev_locale(name, (size_t)l.total, attr, role, true);
	if ((name = prefixed(where, "ivshmem-host:")))
		return host_locale(name, (size_t)l.total, attr, role);
	if ((name = prefixed(where, "kshm:")))
		return kshm_locale(name, (size_t)l.total, attr, role);
	if (!strncmp(where, "shm:", 4)) {
		name = shm_name(where);
		if (!name)
			return NULL;
		fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
			      attr->mode);
		if (fd < 0)
			return NULL;
		ch = create_fd(fd, &l, attr, role, false);
		if (!ch) {
			err = errno;
			shm_unlink(name);
			errno = err;
		}
		return ch;
	}
	errno = EINVAL;
	return NULL;
}

static struct kipc_chan *open_fd(int fd, unsigned int role, bool own)
{
	struct kc_map *m;
	size_t len;
	int err;

	len = fd_size(fd);
	if (!len || check_seals(fd))
		goto fail;
	m = map_fd(fd, len);
	if (!m)
		goto fail;
	m->owned = true;
	if (!own) {
		/* Keep our own descriptor: the caller's stays the caller's. */
		m->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (m->fd < 0) {
			err = errno;
			munmap(m->base, m->len);
			free(m);
			errno = err;
			return NULL;
		}
	}
	return attach_new(m, role);
fail:
	err = errno;
	if (own)
		close(fd);
	errno = err;
	return NULL;
}

struct kipc_chan *kipc_chan_open(const char *where, unsigned int role)
{
	const char *arg;
	char *end;
	long n;
	int fd;

	if (!where || role > KIPC_CHAN_RECV) {
		errno = EINVAL;
		return NULL;
	}
	if ((arg = prefixed(where, "fd:"))) {
		errno = 0;
		n = strtol(arg, &end, 10);
		if (errno || end == arg || *end || n < 0 || n > INT_MAX) {
			errno = EINVAL;
			return NULL;
		}
		return open_fd((int)n, role, false);
	}
	if ((arg = prefixed(where, "myshm:")))
		return dev_locale(arg, 0, NULL, role, false);
	if ((arg = prefixed(where, "ivshmem:")))
		return dev_locale(arg, 0, NULL, role, true);
	if ((arg = prefixed(where, "ivshmem-host:")))
		return host_locale(arg, 0, NULL, role);
	if ((arg = prefixed(where, "kshm:")))
		return kshm_locale(arg, 0, NULL, role);
	if (!strncmp(where, "shm:", 4)) {
		arg = shm_name(where);
		if (!arg)
			return NULL;
		fd = shm_open(arg, O_RDWR | O_CLOEXEC, 0);
		if (fd < 0)
			return NULL;
		return open_fd(fd, role, true);
	}
	errno = EINVAL;
	return NULL;
}

int kipc_chan_unlink(const char *where)
{
	const char *name;

	if (!where) {
		errno = EINVAL;
		return -1;
	}
	name = shm_name(where);
	if (!name)
		return -1;
	return shm_unlink(name);
}

int kipc_chan_fd(const struct kipc_chan *ch)
{
	if (!ch || ch->map->fd < 0) {
		errno = EBADF;
		return -1;
	}
	return ch->map->fd;
}

/* ---- waking and waiting (docs/chan.md "Wake-ups") ------------------- */

/*
 * Poll sockets (docs/chan.md "Polling"): an endpoint's is an abstract
 * UNIX datagram socket named after the channel's nonce, the role and the
 * record; a wake-up sends it one byte.  A full socket is readable anyway,
 * so a failed send loses nothing.
 */
static socklen_t poll_name(const struct kipc_chan *ch, bool sender,
			   uint32_t rec, struct sockaddr_un *sa)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1,
		     "kipc-chan-%016llx-%c%u", (unsigned long long)ch->nonce,
		     sender ? 's' : 'r', rec);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

/* Poke the poll sockets of the side that sleeps on W. */
static void kc_poke(struct kipc_chan *ch, struct kc_wait *w)
{
	bool senders = w == &ch->h->txw;
	uint32_t n = senders ? ch->l.n_tx : ch->l.n_rx;
	struct sockaddr_un sa;
	int fd = -1;

	for (uint32_t i = 0; i < n; i++) {
		struct kc_rec *r = senders ? tx_rec(ch, i) : rx_rec(ch, i);
		socklen_t len;

		if (LD(&r->state, acquire) != REC_OPEN ||
		    !(LD(&r->flags, relaxed) & REC_POLL))
			continue;
		if (fd < 0)
			fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return;
		len = poll_name(ch, senders, i, &sa);
		sendto(fd, "", 1, MSG_DONTWAIT | MSG_NOSIGNAL,
		       (struct sockaddr *)&sa, len);
	}
	if (fd >= 0)
		close(fd);
}

/*
 * Host: ring PEER's doorbell VECTOR through the server connection; a
 * peer that joined after our last look is learnt first (ENOENT).
 */
static void host_ring(struct kc_map *m, uint32_t peer, uint32_t vector)
{
	pthread_mutex_lock(&m->iv_lock);
	if (kipc_ivshmem_ring(m->iv, peer, vector) < 0 && errno == ENOENT) {
		while (kipc_ivshmem_process(m->iv, NULL) > 0)
			;
		kipc_ivshmem_ring(m->iv, peer, vector);
	}
	pthread_mutex_unlock(&m->iv_lock);
}

/*
 * ivshmem (docs/chan.md "Wake-ups across VMs"): ring the doorbell of every
 * open record of the side that sleeps on W, each (peer, vector) once.
 * The values are the peer's: a nonsense peer or vector rings nobody (the
 * driver refuses it, the host finds no such peer).
 */
static void kc_doorbells(struct kipc_chan *ch, struct kc_wait *w)
{
	bool senders = w == &ch->h->txw;
	uint32_t n = senders ? ch->l.n_tx : ch->l.n_rx, rung[KIPC_CHAN_MAX_PEERS];
	uint32_t nrung = 0;

	for (uint32_t i = 0; i < n; i++) {
		struct kc_rec *r = senders ? tx_rec(ch, i) : rx_rec(ch, i);
		uint32_t peer, vec, key, j;

		if (LD(&r->state, acquire) != REC_OPEN ||
		    !(LD(&r->flags, relaxed) & REC_IVS))
			continue;
		peer = LD(&r->ivs_peer, relaxed);
		vec = LD(&r->ivs_vector, relaxed);
		if (peer >= KIPC_IVSHMEM_MAX_PEERS || vec >= ch->map->vectors)
			continue;
		key = peer << 8 | vec;
		for (j = 0; j < nrung && rung[j] != key; j++)
			;
		if (j < nrung)
			continue;
		rung[nrung++] = key;
		if (ch->map->ivs == IVS_HOST) {
			host_ring(ch->map, peer, vec);
		} else {
			struct kipc_ivshmem_ring rr = { peer, vec };

			ioctl(ch->map->fd, KIPC_IVSHMEM_RING, &rr);
		}
	}
}

/* Wake the sleepers of W: a futex wake, or (ivshmem) their doorbells. */
static void kc_bell(struct kipc_chan *ch, struct kc_wait *w)
{
	if (ch->map->ivs)
		kc_doorbells(ch, w);
	else
		futex(&w->bell, FUTEX_WAKE, INT_MAX, NULL);
}

/*
 * Sleep on W for at most LEFT_NS: FUTEX_WAIT on its bell while it still
 * holds BELL, or (ivshmem) wait for a doorbell on the endpoint's own
 * vector -- the driver and the eventfd remember one that rang since the
 * last wait, so one that rang after we armed is never missed.  0 or
 * -errno (EINTR, ENODEV: the device went away).
 */
static int kc_sleep(struct kipc_chan *ch, struct kc_wait *w, uint32_t bell,
		    int64_t left_ns)
{
	int ms = (int)((left_ns + 999999) / 1000000);
	uint64_t v;
	int r;

	if (ch->map->ivs == IVS_GUEST) {
		struct kipc_ivshmem_wait wt = { .vector = ch->vec,
						.timeout_ms = ms };

		if (ioctl(ch->wfd, KIPC_IVSHMEM_WAIT, &wt) < 0) {
			if (errno == EINTR || errno == ENODEV)
				return -errno;
			return errno == ETIMEDOUT;
		}
		return 0;
	}
	if (ch->map->ivs == IVS_HOST) {
		struct pollfd p = {
			.fd = kipc_ivshmem_vector_fd(ch->map->iv, ch->vec),
			.events = POLLIN,
		};

		r = poll(&p, 1, ms);
		if (r <= 0)
			return r < 0 && errno == EINTR ? -EINTR : r == 0;
		/* Consume it (EAGAIN: a sibling on this connection did). */
		if ((p.revents & POLLIN) && read(p.fd, &v, sizeof(v)) < 0)
			return 0;
		return 0;
	}
	struct timespec ts = {
		.tv_sec = left_ns / 1000000000LL,
		.tv_nsec = left_ns % 1000000000LL,
	};

	if (futex(&w->bell, FUTEX_WAIT, bell, &ts) < 0)
		return errno == EINTR ? -EINTR : errno == ETIMEDOUT;
	return 0;
}

/* Timeout 0 with a poll descriptor: consume what made it readable. */
static void kc_drain(struct kipc_chan *ch)
{
	char junk[64];
	uint64_t v;

	if (ch->map->ivs == IVS_GUEST) {
		struct kipc_ivshmem_wait wt = { .vector = ch->vec };

		ioctl(ch->wfd, KIPC_IVSHMEM_WAIT, &wt);
	} else if (ch->map->ivs == IVS_HOST) {
		if (read(ch->pollfd, &v, sizeof(v)) < 0)
			return;
	} else {
		while (recv(ch->pollfd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
			;
	}
}

enum { WAKE_ANY, WAKE_REACHED, WAKE_EXACT };

/*
 * After making progress visible (a release store), wake the other side if
 * it announced a sleep and POS satisfies its event index.  The seq_cst
 * fence pairs with the one in kc_wait(): either the sleeper's re-check sees
 * our store, or we see its armed flag.  Only the exchange's winner rings.
 */
static void kc_wake(struct kipc_chan *ch, struct kc_wait *w, uint32_t pos,
		    int mode)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (!LD(&w->armed, relaxed))
		return;
	if (mode == WAKE_REACHED && dist(pos, LD(&w->want, relaxed)) < 0)
		return;
	if (mode == WAKE_EXACT && pos != LD(&w->want, relaxed))
		return;
	if (!atomic_exchange_explicit(&w->armed, 0, memory_order_acq_rel))
		return;
	atomic_fetch_add_explicit(&w->bell, 1, memory_order_release);
	kc_bell(ch, w);
	ch->wakes++;
	kc_poke(ch, w);
}

/* Wake every sleeper and poller on W, whatever it waits for (close). */
static void kc_ring(struct kipc_chan *ch, struct kc_wait *w)
{
	atomic_fetch_add_explicit(&w->bell, 1, memory_order_seq_cst);
	kc_bell(ch, w);
	kc_poke(ch, w);
}

/* >0 ready, 0 not yet, <0 -errno. */
typedef int (*kc_ready_fn)(struct kipc_chan *ch);

static int reap_dead(struct kipc_chan *ch);

/*
 * The CPU hint (docs/chan.md "Wake-ups"): each operation that may wait
 * notes in its own record the CPU it runs on, so that the other side can
 * tell whether spinning could help.  sched_getcpu() reads the rseq area
 * (glibc 2.35 and later), or the vDSO: no system call.  Stored only when
 * it changed, so the record's line stays in this CPU's cache.
 */
static inline void note_cpu(struct kipc_chan *ch)
{
	int cpu = sched_getcpu();

	if (cpu >= 0 && ch->self &&
	    LD(&ch->self->cpu, relaxed) != (uint32_t)cpu + 1)
		ST(&ch->self->cpu, (uint32_t)cpu + 1, relaxed);
}

/*
 * May a peer we wait for be running beside us?  Spinning only helps while
 * it is: one that last ran on this very CPU cannot run until we yield it,
 * and a spin there burns the time it needs.  True if some open record of
 * the other side last ran on another CPU, said nothing (0: an older
 * implementation, or no operation yet), or lives under another kernel (an
 * ivshmem peer in another VM or on the host: its CPU numbers are not
 * ours).  The hint is read from shared memory and only ever decides
 * whether to spin.
 */
static bool peer_beside(const struct kipc_chan *ch)
{
	bool senders = ch->role == KIPC_CHAN_RECV;
	uint32_t n = senders ? ch->l.n_tx : ch->l.n_rx;
	int me = sched_getcpu();

	if (me < 0)
		return true;
	for (uint32_t i = 0; i < n; i++) {
		const struct kc_rec *r = senders ? tx_rec(ch, i) : rx_rec(ch, i);

		if (LD(&r->state, relaxed) != REC_OPEN)
			continue;
		if (LD(&r->cpu, relaxed) != (uint32_t)me + 1)
			return true;
		if (ch->map->ivs != IVS_NONE &&
		    (LD(&r->flags, relaxed) & REC_IVS) &&
		    LD(&r->ivs_peer, relaxed) != ch->map->ivs_id)
			return true;
	}
	return false;
}

/*
 * Wait until READY says so, at most TIMEOUT_MS: spin up to spin_ns (while
 * a peer may run beside us), then sleep on W's bell announcing WANT.
 * 0 or -errno.
 */
static int kc_wait(struct kipc_chan *ch, struct kc_wait *w, uint32_t want,
		   kc_ready_fn ready, int timeout_ms)
{
	int64_t deadline = 0, left, checked = 0;
	int r;

	r = ready(ch);
	if (r)
		return r < 0 ? r : 0;
	if (timeout_ms == 0) {
		if (ch->pollfd < 0)
			return -EAGAIN;
		/*
		 * A pollable endpoint arms itself before EAGAIN, as a sleeper
		 * would: its socket becomes readable when it may proceed.
		 * Old pokes are drained first.
		 */
		kc_drain(ch);
		ST(&w->want, want, relaxed);
		ST(&w->armed, 1, seq_cst);
		atomic_thread_fence(memory_order_seq_cst);
		r = ready(ch);
		if (r)
			return r < 0 ? r : 0;
		return -EAGAIN;
	}
	/*
	 * No clock read on the way in: where the clock has no vDSO (a guest
	 * on hpet or acpi_pm) every read is a system call, and a spin that
	 * ends within its first SPIN_CHECK rounds -- the common case while
	 * both sides run -- would pay one per message.  The spin's bound is
	 * timed from its first check; a spin for ever without a deadline
	 * never reads the clock.
	 */
	if (timeout_ms > 0)
		deadline = now_ns() + timeout_ms * 1000000LL;
	if (ch->spin_ns < 0 || (ch->spin_ns && peer_beside(ch))) {
		int64_t spin_end = 0;

		for (unsigned int i = 1;; i++) {
			cpu_relax();
			r = ready(ch);
			if (r)
				return r < 0 ? r : 0;
			if (i % SPIN_CHECK || (ch->spin_ns < 0 && !deadline))
				continue;
			int64_t t = now_ns();

			if (deadline && t >= deadline)
				return -ETIMEDOUT;
			if (ch->spin_ns > 0 && !spin_end)
				spin_end = t + ch->spin_ns;
			else if (ch->spin_ns > 0 && t >= spin_end)
				break;
		}
	}
	/*
	 * Asleep without progress for a slice: is the other side alive?  A
	 * sleep that timed out tells so without a clock read (a system call
	 * in guests, above); the clock is read only after a wake-up that did
	 * not let us proceed (another sleeper's, on a shared line).
	 */
	for (bool slept = false, timed_out = false;;) {
		uint32_t bell = LD(&w->bell, acquire);

		ST(&w->want, want, relaxed);
		ST(&w->armed, 1, seq_cst);
		atomic_thread_fence(memory_order_seq_cst);
		r = ready(ch);
		if (r)
			return r < 0 ? r : 0;
		if (timed_out) {
			r = reap_dead(ch);
			if (r)
				return r;
			checked = 0;
		} else if (slept) {
			int64_t t = now_ns();

			if (!checked) {
				checked = t;
			} else if (t - checked >= slice_ns()) {
				r = reap_dead(ch);
				if (r)
					return r;
				checked = t;
			}
		}
		left = slice_ns();
		if (deadline) {
			int64_t rest = deadline - now_ns();

			if (rest <= 0)
				return -ETIMEDOUT;
			if (rest < left)
				left = rest;
		}
		if (hb_reaped(ch))
			return -ECONNRESET;	/* a peer judged us dead */
		ch->waits++;
		r = kc_sleep(ch, w, bell, left);
		if (r < 0)
			return r;
		slept = true;
		timed_out = r > 0;
	}
}

/*
 * Release the records of the other side whose processes died (docs/chan.md
 * "Peers that die"), so the channel reads as closed by a death:
 * EOWNERDEAD instead of EPIPE.  An MPSC sender that died between claiming
 * a slot and publishing it would block the receiver at that slot forever:
 * the slot is given back and the message counts as lost (-EOWNERDEAD now).
 * Its record is left alone while its claim lies ahead of the receiver, so
 * the receiver can still recognise the slot when it gets there.  A dead
 * SPMC subscriber is dropped silently (the publisher goes on).
 */
static int reap_dead(struct kipc_chan *ch)
{
	struct kc_hdr *h = ch->h;
	bool senders = ch->role == KIPC_CHAN_RECV;
	uint32_t n = senders ? ch->l.n_tx : ch->l.n_rx;
	int ret = 0;

	if (ch->role == KIPC_CHAN_NONE)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		struct kc_rec *r = senders ? tx_rec(ch, i) : rx_rec(ch, i);
		uint32_t open = REC_OPEN;

		if (LD(&r->state, acquire) != REC_OPEN || !rec_dead(ch, r))
			continue;
		if (senders && ch->l.shape == KIPC_CHAN_MPSC) {
			uint32_t c = LD(&r->pos, relaxed);
			struct kc_slot *s = slot_at(ch, c);
			bool claimed = LD(&s->seq, acquire) == c &&
				       dist(LD(&h->tx.head, acquire), c) > 0;

			if (claimed && c != ch->pos)
				continue;	/* not there yet */
			if (claimed) {
				ST(&s->seq, c + ch->l.count, release);
				ch->pos = c + 1;
				ch->lost++;
				ST(&ch->self->pos, c + 1, release);
				ret = -EOWNERDEAD;
			}
		}
		if (!atomic_compare_exchange_strong_explicit(&r->state, &open,
				REC_FREE, memory_order_acq_rel,
				memory_order_relaxed))
			continue;	/* someone else reaped it */
		if (senders) {
			ST(&h->st.tx_dead, 1, release);
			atomic_fetch_sub_explicit(&h->st.tx_attached, 1,
						  memory_order_seq_cst);
		} else if (ch->l.shape == KIPC_CHAN_SPMC) {
			atomic_fetch_sub_explicit(&h->st.rx_attached, 1,
						  memory_order_seq_cst);
			atomic_fetch_add_explicit(&h->st.rx_gen, 1,
						  memory_order_seq_cst);
		} else {
			ST(&h->st.rx_dead, 1, release);
			atomic_fetch_sub_explicit(&h->st.rx_attached, 1,
						  memory_order_seq_cst);
		}
		/* Others waiting on either side re-check. */
		kc_ring(ch, &h->rxw);
		kc_ring(ch, &h->txw);
	}
	return ret;
}

static int fail(int neg_errno)
{
	errno = -neg_errno;
	return -1;
}

/* No sender any more (and one was): -EPIPE, or -EOWNERDEAD if one died. */
static int tx_gone(const struct kipc_chan *ch)
{
	if (!LD(&ch->h->st.tx_seen, acquire) ||
	    LD(&ch->h->st.tx_attached, acquire))
		return 0;
	return LD(&ch->h->st.tx_dead, acquire) ? -EOWNERDEAD : -EPIPE;
}

/* SPSC, MPSC: the receiver has gone: -EPIPE, or -EOWNERDEAD if it died. */
static int rx_gone(const struct kipc_chan *ch)
{
	if (ch->l.shape == KIPC_CHAN_SPMC ||
	    !LD(&ch->h->st.rx_seen, acquire) ||
	    LD(&ch->h->st.rx_attached, acquire))
		return 0;
	return LD(&ch->h->st.rx_dead, acquire) ? -EOWNERDEAD : -EPIPE;
}

/* ---- sending --------------------------------------------------------- */

/* SPSC: is slot pos free?  (seq == pos; seq behind: full; ahead: nonsense) */
static int ready_tx_spsc(struct kipc_chan *ch)
{
	int32_t d = dist(LD(&slot_at(ch, ch->pos)->seq, acquire), ch->pos);

	if (d == 0)
		return 1;
	if (d > 0)
		return -EPROTO;
	return rx_gone(ch);
}

/* MPSC: is the slot at the current head free, or has head moved? */
static int ready_tx_mpsc(struct kipc_chan *ch)
{
	uint32_t p = LD(&ch->h->tx.head, relaxed);

	if (dist(LD(&slot_at(ch, p)->seq, acquire), p) >= 0)
		return 1;
	return rx_gone(ch);
}

/*
 * SPMC, BLOCK: recompute free_until = min(open receivers' pos) + count.
 * A cursor that is ahead of us or more than a ring behind is nonsense (or
 * a receiver subscribing right now) and does not hold us back.
 */
static void spmc_limit(struct kipc_chan *ch)
{
	uint32_t p = ch->pos, lim = p + ch->l.count;

	ch->gen = LD(&ch->h->st.rx_gen, acquire);
	for (uint32_t i = 0; i < ch->l.n_rx; i++) {
		struct kc_rec *r = rx_rec(ch, i);
		uint32_t q;
		int32_t d;

		if (LD(&r->state, acquire) != REC_OPEN)
			continue;
		q = LD(&r->pos, acquire);
		d = dist(p, q);
		if (d < 0 || (uint32_t)d > ch->l.count)
			continue;
		if (dist(q + ch->l.count, lim) < 0)
			lim = q + ch->l.count;
	}
	ch->free_until = lim;
}

static int ready_tx_spmc(struct kipc_chan *ch)
{
	if (ch->gen != LD(&ch->h->st.rx_gen, acquire) ||
	    dist(ch->pos, ch->free_until) >= 0)
		spmc_limit(ch);
	return dist(ch->pos, ch->free_until) < 0;
}

int kipc_chan_loan(struct kipc_chan *ch, void **buf, int timeout_ms)
{
	struct kc_slot *s;
	uint32_t p;
	int r;

	if (!ch || !buf || timeout_ms < -1) {
		errno = EINVAL;
		return -1;
	}
	if (ch->role != KIPC_CHAN_SEND)
		return fail(-EBADF);
	if (ch->loaned)
		return fail(-EBUSY);
	r = rx_gone(ch);
	if (r)
		return fail(r);
	note_cpu(ch);
	switch (ch->l.shape) {
	case KIPC_CHAN_SPSC:
		r = kc_wait(ch, &ch->h->txw, ch->pos - ch->l.count + 1,
			    ready_tx_spsc, timeout_ms);
		if (r)
			return fail(r);
		p = ch->pos;
		break;
	case KIPC_CHAN_MPSC:
		for (int races = 0;; races++) {
			int32_t d;

			if (races > MAX_RACES)
				return fail(-EPROTO);
			p = LD(&ch->h->tx.head, relaxed);
			d = dist(LD(&slot_at(ch, p)->seq, acquire), p);
			if (d == 0) {
				/* docs/chan.md "Peers that die": a receiver
				 * can tell whose claim died with its sender. */
				ST(&ch->self->pos, p, relaxed);
				if (atomic_compare_exchange_weak_explicit(
					    &ch->h->tx.head, &p, p + 1,
					    memory_order_relaxed,
					    memory_order_relaxed))
					break;
				continue;
			}
			if (d > 0)
				continue;	/* head moved on: reload */
			r = kc_wait(ch, &ch->h->txw, p - ch->l.count + 1,
				    ready_tx_mpsc, timeout_ms);
			if (r)
				return fail(r);
		}
		ST(&slot_at(ch, p)->owner, ch->rec, relaxed);
		break;
	default:
		if (ch->l.policy == KIPC_CHAN_BLOCK) {
			r = kc_wait(ch, &ch->h->txw, ch->pos - ch->l.count + 1,
				    ready_tx_spmc, timeout_ms);
			if (r)
				return fail(r);
		}
		p = ch->pos;
		s = slot_at(ch, p);
		/* Seqlock write side (docs/chan.md "Publish/subscribe"). */
		ST(&s->seq, p, relaxed);
		atomic_thread_fence(memory_order_release);
		break;
	}
	ch->loaned = true;
	ch->loan_pos = p;
	*buf = slot_at(ch, p)->data;
	return 0;
}

int kipc_chan_publish(struct kipc_chan *ch, size_t len)
{
	struct kc_slot *s;
	uint32_t p;

	if (!ch || !ch->loaned) {
		errno = EINVAL;
		return -1;
	}
	if (len > ch->l.slot_size)
		return fail(-EMSGSIZE);
	p = ch->loan_pos;
	s = slot_at(ch, p);
	ST(&s->len, (uint32_t)len, relaxed);
	ST(&s->seq, p + 1, release);
	ch->loaned = false;
	ch->msgs++;
	switch (ch->l.shape) {
	case KIPC_CHAN_SPSC:
		ch->pos = p + 1;
		ST(&ch->h->tx.head, p + 1, release);
		kc_wake(ch, &ch->h->rxw, p, WAKE_ANY);
		break;
	case KIPC_CHAN_MPSC:
		kc_wake(ch, &ch->h->rxw, p, WAKE_EXACT);
		break;
	default:
		ch->pos = p + 1;
		ST(&ch->h->tx.head, p + 1, release);
		kc_wake(ch, &ch->h->rxw, p, WAKE_ANY);
		break;
	}
	return 0;
}

int kipc_chan_send(struct kipc_chan *ch, const void *buf, size_t len,
		   int timeout_ms)
{
	void *slot;

	if (!ch || (!buf && len)) {
		errno = EINVAL;
		return -1;
	}
	if (len > ch->l.slot_size)
		return fail(-EMSGSIZE);
	if (kipc_chan_loan(ch, &slot, timeout_ms))
		return -1;
	if (len)
		memcpy(slot, buf, len);
	return kipc_chan_publish(ch, len);
}

/* ---- receiving ------------------------------------------------------- */

static int ready_rx(struct kipc_chan *ch)
{
	struct kc_slot *s = slot_at(ch, ch->pos);
	int32_t d = dist(LD(&s->seq, acquire), ch->pos + 1);
	int r;

	if (d == 0)
		return 1;
	if (d > 0)
		return -EPROTO;
	/* The last sender's close is a release after its last publish. */
	r = tx_gone(ch);
	if (r && LD(&s->seq, acquire) == ch->pos + 1)
		return 1;
	return r;
}

/* SPMC: the slowest messages were overwritten: skip to the oldest kept. */
static void spmc_jump(struct kipc_chan *ch)
{
	uint32_t to = LD(&ch->h->tx.head, acquire) - ch->l.count + 1;

	if (dist(to, ch->pos) <= 0)
		to = ch->pos + 1;
	ch->lost += to - ch->pos;
	ch->pending_lost += to - ch->pos;
	ch->pos = to;
	ST(&ch->self->lost, ch->lost, relaxed);
	ST(&ch->self->pos, to, release);
}

static int ready_rx_spmc(struct kipc_chan *ch)
{
	for (int jumps = 0; jumps < MAX_JUMPS; jumps++) {
		struct kc_slot *s = slot_at(ch, ch->pos);
		int32_t d = dist(LD(&s->seq, acquire), ch->pos + 1);

		if (d == 0)
			return 1;
		if (d < 0) {
			int r = tx_gone(ch);

			if (r && LD(&s->seq, acquire) == ch->pos + 1)
				return 1;
			return r;
		}
		if (hb_reaped(ch))
			return -ECONNRESET;	/* reaped: overtaken, not lost */
		spmc_jump(ch);
	}
	return -EPROTO;
}

/* Move past position ch->pos and let a waiting sender know. */
static void rx_advance(struct kipc_chan *ch)
{
	uint32_t p = ch->pos;

	ch->pos = p + 1;
	ch->msgs++;
	if (ch->l.shape == KIPC_CHAN_SPMC) {
		ST(&ch->self->pos, p + 1, release);
		if (ch->l.policy == KIPC_CHAN_BLOCK)
			kc_wake(ch, &ch->h->txw, p + 1, WAKE_REACHED);
		return;
	}
	ST(&slot_at(ch, p)->seq, p + ch->l.count, release);
	ST(&ch->self->pos, p + 1, release);
	kc_wake(ch, &ch->h->txw, p + 1,
		ch->l.shape == KIPC_CHAN_MPSC ? WAKE_ANY : WAKE_REACHED);
}

/* Wait for the next message; 0 (and its checked length in *LEN) or -errno. */
static int rx_next(struct kipc_chan *ch, int timeout_ms, uint32_t *len)
{
	int r;

	if (ch->role != KIPC_CHAN_RECV)
		return -EBADF;
	if (ch->peeked)
		return -EBUSY;
	note_cpu(ch);
	for (;;) {
		r = kc_wait(ch, &ch->h->rxw, ch->pos,
			    ch->l.shape == KIPC_CHAN_SPMC ? ready_rx_spmc :
							    ready_rx,
			    timeout_ms);
		if (r)
			return r;
		*len = LD(&slot_at(ch, ch->pos)->len, relaxed);
		if (*len <= ch->l.slot_size)
			return 0;
		if (ch->l.shape == KIPC_CHAN_SPMC &&
		    ch->l.policy == KIPC_CHAN_DROP_OLDEST &&
		    LD(&slot_at(ch, ch->pos)->seq, acquire) != ch->pos + 1)
			continue;	/* overwritten meanwhile: look again */
		rx_advance(ch);		/* skip the broken message */
		return -EBADMSG;
	}
}

int kipc_chan_peek(struct kipc_chan *ch, struct kipc_chan_msg *msg,
		   int timeout_ms)
{
	uint32_t len;
	int r;

	if (!ch || !msg || timeout_ms < -1) {
		errno = EINVAL;
		return -1;
	}
	r = rx_next(ch, timeout_ms, &len);
	if (r)
		return fail(r);
	msg->data = slot_at(ch, ch->pos)->data;
	msg->len = len;
	msg->lost = ch->pending_lost;
	ch->pending_lost = 0;
	ch->peeked = true;
	ch->peek_pos = ch->pos;
	return 0;
}

int kipc_chan_release(struct kipc_chan *ch)
{
	bool stale = false;

	if (!ch || !ch->peeked) {
		errno = EINVAL;
		return -1;
	}
	ch->peeked = false;
	if (ch->l.shape == KIPC_CHAN_SPMC &&
	    ch->l.policy == KIPC_CHAN_DROP_OLDEST) {
		atomic_thread_fence(memory_order_acquire);
		stale = LD(&slot_at(ch, ch->pos)->seq, relaxed) != ch->pos + 1;
	}
	rx_advance(ch);
	if (stale) {
		ch->msgs--;
		ch->lost++;
		ST(&ch->self->lost, ch->lost, relaxed);
		return fail(-ESTALE);
	}
	return 0;
}

/*
 * The seqlock read side copies a slot the sender may be rewriting; the
 * copy is checked afterwards and thrown away if it was.  Word by word,
 * outside ThreadSanitizer's view (the race is the protocol's, by design).
 */
__attribute__((no_sanitize_thread)) static void racy_copy(void *dst,
							  const void *src,
							  size_t n)
{
	const volatile uint64_t *s = src;
	uint64_t *d = dst;
	const volatile unsigned char *sb;
	unsigned char *db;

	for (; n >= 8; n -= 8) {
		uint64_t v = *s++;

		memcpy(d++, &v, 8);
	}
	sb = (const volatile unsigned char *)s;
	db = (unsigned char *)d;
	while (n--)
		*db++ = *sb++;
}

ssize_t kipc_chan_recv(struct kipc_chan *ch, void *buf, size_t len,
		       int timeout_ms)
{
	uint32_t n;
	int r;

	if (!ch || (!buf && len) || timeout_ms < -1) {
		errno = EINVAL;
		return -1;
	}
	for (int tries = 0;; tries++) {
		struct kc_slot *s;

		if (tries > MAX_JUMPS)
			return fail(-EPROTO);
		r = rx_next(ch, timeout_ms, &n);
		if (r)
			return fail(r);
		if (n > len)
			return fail(-EMSGSIZE);
		s = slot_at(ch, ch->pos);
		if (ch->l.shape != KIPC_CHAN_SPMC ||
		    ch->l.policy != KIPC_CHAN_DROP_OLDEST) {
			if (n)
				memcpy(buf, s->data, n);
			break;
		}
		racy_copy(buf, s->data, n);
		atomic_thread_fence(memory_order_acquire);
		if (LD(&s->seq, relaxed) == ch->pos + 1)
			break;
		spmc_jump(ch);	/* overwritten while copying */
	}
	ch->pending_lost = 0;
	rx_advance(ch);
	return (ssize_t)n;
}

/* ---- the rest -------------------------------------------------------- */

int kipc_chan_pollfd(struct kipc_chan *ch)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd;

	if (!ch) {
		errno = EINVAL;
		return -1;
	}
	if (!ch->self)
		return fail(-EBADF);
	if (ch->pollfd >= 0)
		return ch->pollfd;
	if (ch->map->ivs == IVS_GUEST) {
		/* docs/chan.md "Polling": the endpoint's own doorbell vector. */
		__u64 mask = 1ull << ch->vec;

		if (ioctl(ch->wfd, KIPC_IVSHMEM_SET_POLL, &mask) < 0)
			return -1;
		ch->pollfd = ch->wfd;
		return ch->pollfd;
	}
	if (ch->map->ivs == IVS_HOST) {
		ch->pollfd = kipc_ivshmem_vector_fd(ch->map->iv, ch->vec);
		return ch->pollfd;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	len = poll_name(ch, ch->role == KIPC_CHAN_SEND, ch->rec, &sa);
	if (bind(fd, (struct sockaddr *)&sa, len) < 0) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	ch->pollfd = fd;
	ch->pollfd_own = true;
	atomic_fetch_or_explicit(&ch->self->flags, REC_POLL,
				 memory_order_seq_cst);
	return fd;
}

int kipc_chan_set_spin(struct kipc_chan *ch, long ns)
{
	if (!ch || ns < -1) {
		errno = EINVAL;
		return -1;
	}
	ch->spin_ns = ns;
	return 0;
}

int kipc_chan_stat(const struct kipc_chan *ch, struct kipc_chan_stat *st)
{
	const struct kc_hdr *h;

	if (!ch || !st) {
		errno = EINVAL;
		return -1;
	}
	h = ch->h;
	memset(st, 0, sizeof(*st));
	st->shape = ch->l.shape;
	st->policy = ch->l.policy;
	st->slot_size = ch->l.slot_size;
	st->slot_count = ch->l.count;
	st->max_peers = ch->l.peers;
	st->role = ch->role;
	st->senders = LD(&h->st.tx_attached, relaxed);
	st->receivers = LD(&h->st.rx_attached, relaxed);
	st->head = LD(&h->tx.head, relaxed);
	st->pos = ch->role == KIPC_CHAN_NONE ? 0 :
		  ch->role == KIPC_CHAN_SEND && ch->l.shape == KIPC_CHAN_MPSC ?
		  st->head : ch->pos;
	if (ch->role == KIPC_CHAN_RECV) {
		int32_t d = dist(st->head, ch->pos);

		st->pending = d > 0 ? (uint32_t)d : 0;
	}
	st->map_size = ch->map->len;
	st->messages = ch->msgs;
	st->lost = ch->lost;
	st->waits = ch->waits;
	st->wakes = ch->wakes;
	return 0;
}

/*
 * Closing: end an outstanding loan or peek and free the own record (open
 * -> free).  False if a peer reaped it meanwhile (docs/chan.md "Peers that
 * die"): the counters were updated by the reaper, and the record may be
 * another endpoint's by now.
 */
static bool rec_release(struct kipc_chan *ch)
{
	uint32_t open = REC_OPEN;

	if (ch->loaned)
		kipc_chan_publish(ch, 0);
	if (ch->peeked)
		kipc_chan_release(ch);
	if (ch->seen && !hb_del(ch))
		return false;
	return atomic_compare_exchange_strong_explicit(&ch->self->state, &open,
			REC_FREE, memory_order_acq_rel, memory_order_relaxed);
}

void kipc_chan_close(struct kipc_chan *ch)
{
	struct kc_hdr *h;
	int err = errno;

	if (!ch)
		return;
	h = ch->h;
	if (ch->self && ch->pid == getpid() && rec_release(ch)) {
		if (ch->role == KIPC_CHAN_SEND) {
			/* The last to leave says how: closed, not died. */
			ST(&h->st.tx_dead, 0, relaxed);
			atomic_fetch_sub_explicit(&h->st.tx_attached, 1,
						  memory_order_seq_cst);
			kc_ring(ch, &h->rxw);
		} else {
			if (ch->l.shape != KIPC_CHAN_SPMC)
				ST(&h->st.rx_dead, 0, relaxed);
			atomic_fetch_sub_explicit(&h->st.rx_attached, 1,
						  memory_order_seq_cst);
			if (ch->l.shape == KIPC_CHAN_SPMC)
				atomic_fetch_add_explicit(&h->st.rx_gen, 1,
							  memory_order_seq_cst);
			kc_ring(ch, &h->txw);
		}
	}
	if (ch->pollfd_own)
		close(ch->pollfd);
	if (ch->wfd >= 0)
		close(ch->wfd);
	map_put(ch->map);
	free(ch->seen);
	free(ch);
	errno = err;
}
