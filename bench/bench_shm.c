// SPDX-License-Identifier: GPL-2.0
/*
 * bench_shm - shared-memory bandwidth: /dev/myshm against anonymous memory
 * and POSIX shm (tmpfs).
 *
 * Area "shm"; SIZE is the myshm buffer's size (4 MiB by default; at most
 * 4 MiB are used), or 4 MiB when the device is missing:
 *   memcpy       GB/s copying 1 MiB at a time from a private buffer into
 *                a SIZE mapping whose pages are already touched: myshm,
 *                anon (private anonymous), posix-shm (shm_open, /dev/shm),
 *                ivshmem (/dev/ivshmem0, when the guest has one).
 *   first-touch  ns per page to map 256 KiB fresh, write one byte in every
 *                page and unmap: myshm (pages exist since load), posix-shm
 *                (pages exist, object touched once before: the like-for-like
 *                peer), posix-shm-new (a new object each time: allocation
 *                and zeroing included), anon (new zeroed pages).
 *   transfer     MB/s of 64 KiB messages from a child process to the
 *                parent: a libkipc channel (<kipc/chan.h>, SPSC, 16 slots
 *                of 64 KiB, futex wake-ups) in a /dev/myshm buffer
 *                (myshm-ring+futex: "myshm:DEV@0"), the same channel in
 *                POSIX shm (posix-shm-ring+futex: "shm:/NAME"), and a pipe
 *                (default 64 KiB, and enlarged to 1 MiB, the ring's
 *                capacity).  Each side copies every message once
 *                (kipc_chan_send() into the ring, kipc_chan_recv() out of
 *                it), as write() and read() do for the pipe; sequence
 *                numbers are checked.  (Until issue 27 this was a ring of
 *                its own, also woken through a message slot.)
 *   mutex        ns per lock+unlock of one PTHREAD_PROCESS_SHARED mutex that
 *                a child process takes and releases in a loop at the same
 *                time, each side yielding the CPU while it holds the lock
 *                so that the other finds it taken: every round is a
 *                contended hand-off (FUTEX_WAIT, FUTEX_WAKE, two context
 *                switches) on one vCPU or several.  The mutex lives in
 *                /dev/myshm (myshm), a kshm object (kshm), an ivshmem
 *                device's memory (ivshmem: IVSHMEM_DEVICE, default
 *                /dev/ivshmem0) and MAP_SHARED|MAP_ANONYMOUS memory
 *                (anon-shared).
 */
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "bench.h"
#include <kipc/chan.h>

#if __has_include(<kipc/myshm.h>)
#include <kipc/myshm.h>
#endif
#include <kipc/kshm.h>

#define PAGE 4096ul
#define MSG (64ul * 1024)
#define RING_SLOTS 16u
#define COPY (1ul << 20)	/* bytes per memcpy iteration */
#define TOUCH (256ul << 10)	/* bytes per first-touch mapping */

static size_t size = 4ul << 20;	/* bytes per mapping */
static const char *myshm_dev = "/dev/myshm";
static const char *ivshmem_dev = "/dev/ivshmem0";

/* ---- memcpy bandwidth --------------------------------------------------- */

struct copy {
	char *dst;
	const void *src;
	size_t next;		/* offset of the next copy in dst */
};

/* Copy COPY bytes per iteration, walking through the whole mapping. */
static int loop_copy(void *p, long iters)
{
	struct copy *c = p;

	for (long i = 0; i < iters; i++) {
		memcpy(c->dst + c->next, c->src, COPY);
		c->next += COPY;
		if (c->next + COPY > size)
			c->next = 0;
		/* Keep the compiler from dropping or merging the copies. */
		__asm__ volatile("" : : "r"(c->dst) : "memory");
	}
	return 0;
}

/* Map LEN bytes at OFF of the device DEV (a myshm-interface device). */
static void *map_dev(const char *dev, int prot, off_t off, size_t len)
{
	int fd = open(dev, O_RDWR);
	void *p;

	if (fd < 0)
		return MAP_FAILED;
	p = mmap(NULL, len, prot, MAP_SHARED, fd, off);
	close(fd);
	return p;
}

static void *map_myshm(int prot, off_t off, size_t len)
{
	return map_dev(myshm_dev, prot, off, len);
}

static void *map_posix(const char *name, size_t len, int touch)
{
	int fd = shm_open(name, O_RDWR | O_CREAT, 0600);
	void *p;

	if (fd < 0)
		return MAP_FAILED;
	if (ftruncate(fd, (off_t)len) < 0) {
		close(fd);
		return MAP_FAILED;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p != MAP_FAILED && touch)
		memset(p, 0, len);
	return p;
}

static void bandwidth(void)
{
	static struct copy c[4];
	struct bench_case bc[4];
	void *src = mmap(NULL, COPY, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int n = 0;

	if (src == MAP_FAILED)
		bench_die("mmap");
	memset(src, 0x5a, COPY);
	memset(bc, 0, sizeof(bc));
	c[n].dst = size < COPY ? MAP_FAILED :
		   map_myshm(PROT_READ | PROT_WRITE, 0, size);
	if (c[n].dst == MAP_FAILED) {
		bench_skip("shm", "memcpy", "myshm", "%s: %s", myshm_dev,
			   strerror(errno));
	} else {
		memset(c[n].dst, 0, size);
		bc[n++].mech = "myshm";
	}
	c[n].dst = mmap(NULL, size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c[n].dst == MAP_FAILED)
		bench_die("mmap");
	memset(c[n].dst, 0, size);
	bc[n++].mech = "anon";
	c[n].dst = map_posix("/kipc-bench-bw", size, 1);
	if (c[n].dst == MAP_FAILED)
		bench_die("shm_open /kipc-bench-bw");
	bc[n++].mech = "posix-shm";
	c[n].dst = map_dev(ivshmem_dev, PROT_READ | PROT_WRITE, 0, size);
	if (c[n].dst == MAP_FAILED) {
		bench_skip("shm", "memcpy", "ivshmem", "%s: %s", ivshmem_dev,
			   strerror(errno));
	} else {
		memset(c[n].dst, 0, size);
		bc[n++].mech = "ivshmem";
	}
	for (int i = 0; i < n; i++) {
		c[i].src = src;
		bc[i].ctx = &c[i];
		bc[i].fn = loop_copy;
		bc[i].rate = (double)COPY;	/* bytes/ns = GB/s */
		snprintf(bc[i].param, sizeof(bc[i].param), "%lu", COPY);
	}
	bench_group("shm", "memcpy", "GB/s", bc, n, 2);
	for (int i = 0; i < n; i++)
		munmap(c[i].dst, size);
	munmap(src, COPY);
	shm_unlink("/kipc-bench-bw");
}

/* ---- first touch -------------------------------------------------------- */

enum touch_kind { T_MYSHM, T_POSIX, T_POSIX_NEW, T_ANON };

struct touch {
	enum touch_kind kind;
	int fd;			/* myshm, or the resident POSIX object */
};

static int loop_touch(void *p, long iters)
{
	struct touch *t = p;

	for (long i = 0; i < iters; i++) {
		volatile char *m;
		int fd = t->fd;

		if (t->kind == T_POSIX_NEW) {
			fd = shm_open("/kipc-bench-new", O_RDWR | O_CREAT | O_EXCL,
				      0600);
			if (fd < 0 || ftruncate(fd, (off_t)TOUCH) < 0)
				return -1;
		}
		if (t->kind == T_ANON)
			m = mmap(NULL, TOUCH, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		else
			m = mmap(NULL, TOUCH, PROT_READ | PROT_WRITE,
				 MAP_SHARED, fd, 0);
		if (m == MAP_FAILED)
			return -1;
		for (size_t off = 0; off < TOUCH; off += PAGE)
			m[off] = 1;
		if (munmap((void *)m, TOUCH) < 0)
			return -1;
		if (t->kind == T_POSIX_NEW) {
			close(fd);
			shm_unlink("/kipc-bench-new");
		}
	}
	return 0;
}

static void first_touch(void)
{
	static struct touch t[4];
	struct bench_case bc[4];
	void *m;
	int n = 0;

	memset(bc, 0, sizeof(bc));
	t[n].fd = open(myshm_dev, O_RDWR);
	if (t[n].fd < 0) {
		bench_skip("shm", "first-touch", "myshm", "%s: %s", myshm_dev,
			   strerror(errno));
	} else {
		t[n].kind = T_MYSHM;
		bc[n++].mech = "myshm";
	}
	shm_unlink("/kipc-bench-touch");
	shm_unlink("/kipc-bench-new");
	t[n].fd = shm_open("/kipc-bench-touch", O_RDWR | O_CREAT, 0600);
	if (t[n].fd < 0 || ftruncate(t[n].fd, (off_t)size) < 0)
		bench_die("shm_open /kipc-bench-touch");
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, t[n].fd, 0);
	if (m == MAP_FAILED)
		bench_die("mmap");
	memset(m, 0, size);	/* pages resident, like myshm's */
	munmap(m, size);
	t[n].kind = T_POSIX;
	bc[n++].mech = "posix-shm";
	t[n].kind = T_POSIX_NEW;
	t[n].fd = -1;
	bc[n++].mech = "posix-shm-new";
	t[n].kind = T_ANON;
	t[n].fd = -1;
	bc[n++].mech = "anon";
	for (int i = 0; i < n; i++) {
		bc[i].ctx = &t[i];
		bc[i].fn = loop_touch;
		bc[i].per = (double)(TOUCH / PAGE);
		snprintf(bc[i].param, sizeof(bc[i].param), "%lu", TOUCH);
	}
	bench_group("shm", "first-touch", "ns/page", bc, n, 1);
	for (int i = 0; i < n; i++)
		if (t[i].fd >= 0)
			close(t[i].fd);
	shm_unlink("/kipc-bench-touch");
}

/* ---- two-process transfer ----------------------------------------------- */

/* The channel of the ring rows (docs/chan.md): one sender, 16 slots. */
#define RING_NAME "shm:/kipc-bench-ring"

enum xfer_kind { X_RING, X_PIPE };

struct xfer {
	enum xfer_kind kind;
	struct kipc_chan *rx;	/* the parent's receiving endpoint */
	int rfd, wfd;		/* pipe ends */
	pid_t child;
	uint64_t seq;		/* next sequence number expected */
	char *buf;		/* consumer's private buffer */
};

/* Child: produce numbered 64 KiB messages forever. */
static __attribute__((noreturn)) void producer(void *arg, int ready)
{
	struct xfer *x = arg;
	struct kipc_chan *tx = NULL;
	char *src = malloc(MSG);
	uint64_t seq = 0;

	if (!src)
		_exit(1);
	memset(src, 0x3c, MSG);
	if (x->kind == X_RING) {
		tx = kipc_chan_peer(x->rx, KIPC_CHAN_SEND);
		if (!tx)
			_exit(1);
	}
	if (write(ready, "r", 1) != 1)
		_exit(1);
	for (;; seq++) {
		memcpy(src, &seq, sizeof(seq));
		if (x->kind == X_RING) {
			if (kipc_chan_send(tx, src, MSG, -1) < 0)
				_exit(1);
			continue;
		}
		for (size_t done = 0; done < MSG;) {
			ssize_t n = write(x->wfd, src + done, MSG - done);

			if (n <= 0)
				_exit(1);
			done += (size_t)n;
		}
	}
}

/* Parent: consume ITERS messages into a private buffer, checking order. */
static int loop_consume(void *p, long iters)
{
	struct xfer *x = p;

	for (long i = 0; i < iters; i++, x->seq++) {
		uint64_t got;

		if (x->kind == X_PIPE) {
			for (size_t done = 0; done < MSG;) {
				ssize_t n = read(x->rfd, x->buf + done, MSG - done);

				if (n <= 0)
					return -1;
				done += (size_t)n;
			}
		} else if (kipc_chan_recv(x->rx, x->buf, MSG, -1) != (ssize_t)MSG) {
			return -1;
		}
		memcpy(&got, x->buf, sizeof(got));
		if (got != x->seq) {
			errno = EPROTO;
			return -1;
		}
	}
	return 0;
}

/* The channel at WHERE (created, formatted in place), or NULL after a skip. */
static struct kipc_chan *ring_create(const char *where, const char *mech)
{
	struct kipc_chan_attr a;
	struct kipc_chan *ch;

	kipc_chan_attr_init(&a);
	a.slot_size = MSG;
	a.slot_count = RING_SLOTS;
	ch = kipc_chan_create(where, &a, KIPC_CHAN_RECV);
	if (!ch)
		bench_skip("shm", "transfer", mech, "kipc_chan_create %s: %s",
			   where, strerror(errno));
	return ch;
}

static int xfer_start(struct xfer *x, const char *mech)
{
	x->buf = malloc(MSG);
	if (!x->buf)
		bench_die("malloc");
	memset(x->buf, 0, MSG);
	x->child = bench_spawn(producer, x);
	if (x->child < 0) {
		bench_skip("shm", "transfer", mech, "producer failed to start");
		return -1;
	}
	return 0;
}

static void xfer_stop(struct xfer *x)
{
	if (x->child > 0) {
		kill(x->child, SIGKILL);
		waitpid(x->child, NULL, 0);
	}
	if (x->rfd >= 0)
		close(x->rfd);
	if (x->wfd >= 0)
		close(x->wfd);
	kipc_chan_close(x->rx);
	free(x->buf);
}

static void transfer(void)
{
	static const char *const mechs[] = {
		"myshm-ring+futex", "posix-shm-ring+futex", "pipe", "pipe-1M",
	};
	enum { NM = sizeof(mechs) / sizeof(mechs[0]) };
	static struct xfer x[NM];
	struct bench_case bc[NM];
	char where[512];
	int fds[2], n = 0;

	memset(bc, 0, sizeof(bc));
	for (int k = 0; k < NM; k++) {
		struct xfer *p = &x[n];

		*p = (struct xfer){ .rfd = -1, .wfd = -1, .child = -1 };
		switch (k) {
		case 0:
			p->kind = X_RING;
			snprintf(where, sizeof(where), "myshm:%s@0", myshm_dev);
			p->rx = ring_create(where, mechs[k]);
			if (!p->rx)
				continue;
			break;
		case 1:
			p->kind = X_RING;
			kipc_chan_unlink(RING_NAME);
			p->rx = ring_create(RING_NAME, mechs[k]);
			kipc_chan_unlink(RING_NAME);	/* mapped: the name can go */
			if (!p->rx)
				continue;
			break;
		default:
			p->kind = X_PIPE;
			if (pipe(fds) < 0)
				bench_die("pipe");
			if (k == 3 && fcntl(fds[1], F_SETPIPE_SZ,
					    RING_SLOTS * MSG) < 0)
				bench_die("F_SETPIPE_SZ");
			p->rfd = fds[0];
			p->wfd = fds[1];
			break;
		}
		if (xfer_start(p, mechs[k]) < 0) {
			xfer_stop(p);
			continue;
		}
		bc[n].mech = mechs[k];
		bc[n].ctx = p;
		bc[n].fn = loop_consume;
		bc[n].rate = (double)MSG * 1e3;	/* bytes/ns * 1e3 = MB/s */
		snprintf(bc[n].param, sizeof(bc[n].param), "%lu", MSG);
		n++;
	}
	/* At least 4 laps of the ring per sample: steady state, not start-up. */
	bench_group("shm", "transfer", "MB/s", bc, n, 4 * RING_SLOTS);
	for (int i = 0; i < n; i++)
		xfer_stop(&x[i]);
}

/* ---- contended process-shared mutex ---------------------------------- */

struct lock_page {
	pthread_mutex_t m;
	_Atomic uint64_t count;	/* increments under the lock, both sides */
	uint64_t plain;		/* the same, non-atomic: checks exclusion */
	_Atomic uint32_t go;	/* 1 while this case is timed (shared futex) */
};

static long futex(_Atomic uint32_t *w, int op, uint32_t val)
{
	return syscall(SYS_futex, w, op, val, NULL, NULL, 0);
}

struct contend {
	struct lock_page *lp;
	pid_t child;
};

/* Child: take and release the lock forever. */
static __attribute__((noreturn)) void locker(void *arg, int ready)
{
	struct contend *c = arg;

	if (write(ready, "r", 1) != 1)
		_exit(1);
	for (;;) {
		/* contend only while the parent's loop runs */
		while (!atomic_load(&c->lp->go))
			if (futex(&c->lp->go, FUTEX_WAIT, 0) < 0 &&
			    errno != EAGAIN && errno != EINTR)
				_exit(1);
		if (pthread_mutex_lock(&c->lp->m))
			_exit(1);
		sched_yield();	/* let the parent find the lock taken */
		c->lp->plain++;
		atomic_fetch_add_explicit(&c->lp->count, 1,
					  memory_order_relaxed);
		pthread_mutex_unlock(&c->lp->m);
	}
}

static int loop_lock(void *p, long iters)
{
	struct contend *c = p;
	int e = 0;

	atomic_store(&c->lp->go, 1);
	if (futex(&c->lp->go, FUTEX_WAKE, 1) < 0)
		return -1;
	for (long i = 0; i < iters && !e; i++) {
		e = pthread_mutex_lock(&c->lp->m);
		if (e)
			break;
		sched_yield();	/* let the child find the lock taken */
		c->lp->plain++;
		atomic_fetch_add_explicit(&c->lp->count, 1,
					  memory_order_relaxed);
		pthread_mutex_unlock(&c->lp->m);
	}
	atomic_store(&c->lp->go, 0);
	if (e) {
		errno = e;
		return -1;
	}
	return 0;
}

/* Set up the mutex in LP (a fresh shared page) and start the child. */
static int contend_start(struct contend *c, void *lp, const char *mech)
{
	pthread_mutexattr_t a;

	c->lp = lp;
	memset(c->lp, 0, sizeof(*c->lp));
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	if (pthread_mutex_init(&c->lp->m, &a)) {
		bench_skip("shm", "mutex", mech, "pthread_mutex_init failed");
		return -1;
	}
	pthread_mutexattr_destroy(&a);
	c->child = bench_spawn(locker, c);
	if (c->child < 0) {
		bench_skip("shm", "mutex", mech, "locker failed to start");
		return -1;
	}
	return 0;
}

static void mutex_handoff(void)
{
	static const char *const mechs[] = { "myshm", "kshm", "ivshmem",
					     "anon-shared" };
	enum { NM = sizeof(mechs) / sizeof(mechs[0]) };
	static struct contend c[NM];
	struct bench_case bc[NM];
	int kfd = -1, n = 0;

	memset(bc, 0, sizeof(bc));
	for (int k = 0; k < NM; k++) {
		void *p = MAP_FAILED;

		switch (k) {
		case 0:
			p = map_myshm(PROT_READ | PROT_WRITE, 0, PAGE);
			if (p == MAP_FAILED)
				bench_skip("shm", "mutex", mechs[k], "%s: %s",
					   myshm_dev, strerror(errno));
			break;
		case 1:
			kfd = kshm_open_mode("kipc-bench-mutex",
					     O_RDWR | O_CREAT | O_EXCL, 0600);
			if (kfd < 0 || kshm_trunc(kfd, PAGE) < 0 ||
			    kshm_map(kfd, &p, O_RDWR) < 0) {
				bench_skip("shm", "mutex", mechs[k], "kshm: %s",
					   strerror(errno));
				p = MAP_FAILED;
			}
			break;
		case 2:
			p = map_dev(ivshmem_dev, PROT_READ | PROT_WRITE, 0,
				    PAGE);
			if (p == MAP_FAILED)
				bench_skip("shm", "mutex", mechs[k], "%s: %s",
					   ivshmem_dev, strerror(errno));
			break;
		default:
			p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED)
				bench_die("mmap");
			break;
		}
		if (p == MAP_FAILED || contend_start(&c[n], p, mechs[k]) < 0)
			continue;
		bc[n].mech = mechs[k];
		bc[n].ctx = &c[n];
		bc[n].fn = loop_lock;
		snprintf(bc[n].param, sizeof(bc[n].param), "2");
		n++;
	}
	bench_group("shm", "mutex", "ns", bc, n, 1000);
	for (int i = 0; i < n; i++) {
		kill(c[i].child, SIGKILL);
		waitpid(c[i].child, NULL, 0);
		/* a lost update would mean the lock did not exclude */
		if (c[i].lp->plain != atomic_load(&c[i].lp->count))
			bench_note("shm: mutex %s: %llu locked increments, %llu atomic ones: NOT EXCLUSIVE",
				   bc[i].mech,
				   (unsigned long long)c[i].lp->plain,
				   (unsigned long long)atomic_load(&c[i].lp->count));
	}
	if (kfd >= 0)
		kshm_close(kfd);
}

int main(int argc, char **argv)
{
	int i = bench_options(argc, argv,
		"Usage: bench_shm [OPTIONS] [MYSHM_DEVICE [SLOT_DEVICE [IVSHMEM_DEVICE]]]\n"
		"Shared-memory bandwidth, first-touch cost and a two-process\n"
		"64 KiB transfer: /dev/myshm (MYSHM_DEVICE) against anonymous\n"
		"memory, POSIX shm and a pipe.  SLOT_DEVICE is accepted and\n"
		"ignored (the ring is a libkipc channel with futex wake-ups).\n"
		"IVSHMEM_DEVICE (default /dev/ivshmem0) joins the memcpy and\n"
		"mutex rows when it exists.");
	int fd;

	if (i < argc)
		myshm_dev = argv[i++];
	if (i < argc)
		i++;	/* SLOT_DEVICE: no longer used */
	if (i < argc)
		ivshmem_dev = argv[i++];
	bench_header();
	fd = open(myshm_dev, O_RDWR);
	if (fd >= 0) {
		off_t end = lseek(fd, 0, SEEK_END);

#ifdef MYSHM_GET_SIZE
		__u64 sz = 0;

		if (ioctl(fd, MYSHM_GET_SIZE, &sz) == 0 && sz)
			end = (off_t)sz;
#endif
		/* At most 4 MiB: the same work for every mechanism. */
		if (end > 0 && (size_t)end < size)
			size = (size_t)end & ~(PAGE - 1);
		close(fd);
		bench_note("shm: %s holds %zu bytes", myshm_dev, size);
	} else {
		bench_note("shm: %s: %s (myshm rows skipped; peers use %zu bytes)",
			   myshm_dev, strerror(errno), size);
	}
	bandwidth();
	first_touch();
	transfer();
	mutex_handoff();
	return 0;
}
