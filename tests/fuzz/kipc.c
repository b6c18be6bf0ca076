// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz/kipc - a kipc-aware random sequence generator (issue 7): open,
 * close, ioctl, read, write, pread, pwrite, lseek, mmap, munmap, mremap,
 * mprotect, poll and touching mappings, on message slot minors and myshm
 * buffers, with random and boundary arguments: lengths 0, 1, 127, 128,
 * 129, page sizes, huge and negative; NULL, unmapped, kernel,
 * non-canonical, read-only and half-valid pointers, and other devices'
 * mappings as buffers; positions and offsets around the ends, negative and
 * unaligned; every ioctl number of the modules, unknown numbers in their
 * type spaces and others, with boundary arguments.
 *
 * Message-slot reads, writes, ioctls and polls are checked against the
 * model of the slots' state in tests/lib/kt_slot_model.c (the one
 * message_slot/model uses) after the VFS's own checks (EBADF for the wrong
 * open mode, access_ok(), negative pread/pwrite positions): the exact
 * result, errno, bytes and poll events.  Every other failure must carry an
 * errno documented for that call on that device (docs/myshm.md,
 * docs/kshm.md, or the VFS's checks); EACCES only where the open mode or
 * the mapping asks for it (never for root's KSHM_IOC_OPEN: CAP_IPC_OWNER);
 * every success must be plausible (lengths, positions, sizes; a message
 * slot mapping only as a view: one shared page of channel 1..2^32-1,
 * never writable, not even by mprotect).  Anything
 * else is a defect.  The errnos seen per call are printed at the end; vm/run
 * fails the guest on any kernel report.
 *
 * Seeded: the seed is printed; KIPC_FUZZ_SEED=N repeats a sequence,
 * KIPC_FUZZ_SECONDS (default 10) bounds the time of the random run (from
 * the environment or the guest's kernel command line).  Seeds in
 * regress_seeds[] run first, a fixed number of calls each.
 */
#include "lib/kt.h"
#include "lib/kt_params.h"
#include "lib/kt_kshm.h"
#include "lib/kt_stress.h"
#include "lib/kt_slot.h"
#include "lib/kt_slot_model.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <kipc/myshm.h>
#include <kipc/kshm_ioctl.h>

#define PS		4096UL
#define NFD		8
#define NMAP		8
#define MAXERR		140

enum kind { SLOT, MYSHM, KSHM_DEV, KSHM_OBJ };
enum call { C_OPEN, C_CLOSE, C_IOCTL, C_READ, C_WRITE, C_PREAD, C_PWRITE,
	    C_LSEEK, C_MMAP, C_MUNMAP, C_MREMAP, C_MPROTECT, C_POLL, C_TOUCH,
	    NCALLS };
static const char *const call_names[NCALLS] = {
	"open", "close", "ioctl", "read", "write", "pread", "pwrite", "lseek",
	"mmap", "munmap", "mremap", "mprotect", "poll", "touch",
};

struct dev {
	const char *path;
	enum kind kind;
	unsigned long size;	/* myshm: bytes; message slot: the minor */
};

static struct dev devs[] = {
	{ "/tmp/kt-slot0", SLOT, 0 },	/* for slots: the minor */
	{ "/tmp/kt-slot1", SLOT, 1 },
	{ "/tmp/kt-slot255", SLOT, 255 },
	{ "/dev/myshm", MYSHM, 4UL << 20 },
	{ "/dev/kfuzz", MYSHM, 8UL << 10 },
	{ "/dev/kshm", KSHM_DEV, 0 },
	{ NULL, KSHM_OBJ, 0 },	/* kshm objects, from KSHM_IOC_OPEN; last */
};
#define NDEV (sizeof(devs) / sizeof(devs[0]))
#define OBJ_DEV (NDEV - 1)

/* Documented errnos per call and kind, 0-terminated. */
#define NERR 12
/* read, write, pread, pwrite and ioctl: the model (slot_check_rw()) */
static const int slot_ok[NCALLS][NERR] = {
	[C_LSEEK] = { ESPIPE, EINVAL },
	/* mapped views: docs/message_slot.md */
	[C_MMAP] = { EINVAL, ENOMEM, EOVERFLOW, EACCES, ENOSPC },
	[C_MUNMAP] = { EINVAL },
	[C_MREMAP] = { EFAULT, EINVAL, ENOMEM },
	[C_MPROTECT] = { EACCES, EINVAL, ENOMEM },
};

static const int myshm_ok[NCALLS][NERR] = {
	[C_IOCTL] = { ENOTTY, EFAULT },
	[C_READ] = { EFAULT, EINVAL, EBADF },
	[C_WRITE] = { EFAULT, EINVAL, ENOSPC, EBADF },
	[C_PREAD] = { EFAULT, EINVAL, EBADF },
	[C_PWRITE] = { EFAULT, EINVAL, ENOSPC, EBADF },
	[C_LSEEK] = { EINVAL },
	[C_MMAP] = { EINVAL, EOVERFLOW, EACCES, ENOMEM },
	[C_MUNMAP] = { EINVAL },
	[C_MREMAP] = { EFAULT, EINVAL, ENOMEM },
	[C_MPROTECT] = { EACCES, EINVAL, ENOMEM },
};

/* kshm.ko: include/uapi/kipc/kshm_ioctl.h, docs/kshm.md; no read/write */
#define KSHM_RW_OK { EINVAL, EBADF, ESPIPE, EFAULT }
static const int kshm_dev_ok[NCALLS][NERR] = {
	[C_IOCTL] = { EFAULT, EINVAL, ENAMETOOLONG, ENOENT, EEXIST, EACCES,
		      ENOSPC, EMFILE, ENFILE, ENOMEM, ENOTTY },
	[C_READ] = KSHM_RW_OK, [C_WRITE] = KSHM_RW_OK,
	[C_PREAD] = KSHM_RW_OK, [C_PWRITE] = KSHM_RW_OK,
	[C_LSEEK] = { EINVAL },
	[C_MMAP] = { ENODEV, EINVAL, ENOMEM, EOVERFLOW, EACCES },
};

static const int kshm_obj_ok[NCALLS][NERR] = {
	[C_IOCTL] = { EFAULT, EBADF, EINVAL, EFBIG, EBUSY, ENOMEM, ENOTTY,
		      EINTR },
	[C_READ] = KSHM_RW_OK, [C_WRITE] = KSHM_RW_OK,
	[C_PREAD] = KSHM_RW_OK, [C_PWRITE] = KSHM_RW_OK,
	[C_LSEEK] = { EINVAL },
	[C_MMAP] = { EINVAL, EOVERFLOW, EACCES, ENOMEM },
	[C_MUNMAP] = { EINVAL },
	[C_MREMAP] = { EFAULT, EINVAL, ENOMEM },
	[C_MPROTECT] = { EACCES, EINVAL, ENOMEM },
};

/* The errnos documented for call C on kind K, 0-terminated. */
static const int *ok_errs(enum kind k, enum call c)
{
	switch (k) {
	case SLOT:
		return slot_ok[c];
	case MYSHM:
		return myshm_ok[c];
	case KSHM_DEV:
		return kshm_dev_ok[c];
	default:
		return kshm_obj_ok[c];
	}
}

/* Shared with the fuzzing child: counters per call and errno. */
struct fuzz_stats {
	struct kt_stress st;
	long calls[NCALLS];
	long ok[NCALLS];
	long err[NCALLS][MAXERR];
};

struct ofile {
	int fd;		/* -1: free */
	int dev;
	int mode;	/* O_RDONLY, O_WRONLY, O_RDWR; -1: not known */
	struct kt_model_file ms;	/* message slots: the model of the file */
};

struct map {
	unsigned char *p;	/* NULL: free */
	size_t len;
	int prot;
	int dev;
	bool may_write;	/* mprotect(PROT_WRITE) allowed (VM_MAYWRITE) */
};

/* Bytes readable and writable at a buffer; KT_MODEL_UNKNOWN: not known. */
struct avail {
	long r, w;
};

struct fuzz {
	struct fuzz_stats *fs;
	unsigned long long rnd;
	struct ofile f[NFD];
	struct map m[NMAP];
	unsigned char *buf;	/* 2 pages, then a PROT_NONE guard page */
	unsigned char *ro;	/* a read-only page */
	struct kt_model *model;	/* the message slots (reloaded per seed) */
	bool root;
};

static unsigned long long rnd(struct fuzz *z)
{
	return kt_rand(&z->rnd);
}

static unsigned long pick(struct fuzz *z, unsigned long n)
{
	return rnd(z) % n;
}

static void defect(struct fuzz *z, enum call c, int dev, const char *what,
		   long ret, int err)
{
	kt_stress_defect(&z->fs->st, "%s on %s: %s (returned %ld, %s)",
			 call_names[c], dev >= 0 ? devs[dev].path : "-", what,
			 ret, err ? strerror(err) : "no errno");
}

/* Account for result RET/ERRNO of call C on DEV; false on failure. */
static bool result(struct fuzz *z, enum call c, int dev, long ret, int err)
{
	const int *ok;
	int i;

	z->fs->calls[c]++;
	z->fs->st.ops[0]++;
	if (ret != -1) {
		z->fs->ok[c]++;
		return true;
	}
	z->fs->err[c][err < MAXERR ? err : 0]++;
	if (dev < 0)
		return false;
	if (err == EACCES && c == C_IOCTL && z->root) {
		defect(z, c, dev, "EACCES for root (CAP_IPC_OWNER)", ret, err);
		return false;
	}
	ok = ok_errs(devs[dev].kind, c);
	for (i = 0; i < NERR && ok[i]; i++)
		if (ok[i] == err)
			return false;
	defect(z, c, dev, "undocumented errno", ret, err);
	return false;
}

static size_t pick_len(struct fuzz *z)
{
	static const size_t lens[] = {
		0, 1, 2, 127, 128, 129, 255, 4095, 4096, 4097, 8192,
		SIZE_MAX, SSIZE_MAX, (size_t)1 << 31, (size_t)-4096,
	};

	if (pick(z, 4) == 0)
		return pick(z, 300);
	return lens[pick(z, sizeof(lens) / sizeof(lens[0]))];
}

static struct map *live_map(struct fuzz *z)
{
	unsigned int i, start = pick(z, NMAP);

	for (i = 0; i < NMAP; i++)
		if (z->m[(start + i) % NMAP].p)
			return &z->m[(start + i) % NMAP];
	return NULL;
}

/*
 * A buffer pointer for LEN bytes: valid, partly valid or bad; *A (if not
 * NULL) gets how many bytes at it are readable and writable (a pointer
 * into a live mapping: not known, the mapping may be PROT_NONE or past
 * its object's end).
 */
static void *pick_ptr(struct fuzz *z, size_t len, struct avail *a)
{
	struct avail none = { 0, 0 }, tmp;
	struct map *m;
	size_t k;

	if (!a)
		a = &tmp;
	*a = none;
	switch (pick(z, 12)) {
	case 0:
		return NULL;
	case 1:
		return (void *)1;
	case 2:
		return (void *)0x1000;
	case 3:
		return (void *)0xffffffff81000000UL;	/* kernel */
	case 4:
		return (void *)0x8000000000000000UL;	/* non-canonical */
	case 5:
		*a = (struct avail){ PS, 0 };
		return z->ro;
	case 6:		/* runs into the guard page after a few bytes */
		k = pick(z, 130);
		*a = (struct avail){ (long)k + 1, (long)k + 1 };
		return z->buf + 2 * PS - 1 - k;
	case 7:
		m = live_map(z);
		if (m) {
			*a = (struct avail){ KT_MODEL_UNKNOWN, KT_MODEL_UNKNOWN };
			return m->p + pick(z, m->len);
		}
		*a = (struct avail){ 2 * PS, 2 * PS };
		return z->buf;
	case 8:
		*a = (struct avail){ 2 * PS - 1, 2 * PS - 1 };
		return z->buf + 1;	/* unaligned */
	default:
		if (len <= 2 * PS) {
			*a = (struct avail){ (long)len, (long)len };
			return z->buf + 2 * PS - len;
		}
		*a = (struct avail){ 2 * PS, 2 * PS };
		return z->buf;
	}
}

static unsigned long pick_arg(struct fuzz *z)
{
	static const unsigned long args[] = {
		0, 1, 2, 3, 127, 128, 129, 0xffffffffUL, 0x100000000UL,
		0x100000001UL, (unsigned long)-1, 1UL << 20, (1UL << 20) + 1,
		0x7fffffffUL, 0x80000000UL,
	};

	switch (pick(z, 4)) {
	case 0:
		return (unsigned long)pick_ptr(z, 8, NULL);
	case 1:
		return rnd(z);
	default:
		return args[pick(z, sizeof(args) / sizeof(args[0]))];
	}
}

/* ioctl numbers the VFS handles itself (FIO*, FIFREEZE, FS_IOC_*, ...). */
static bool vfs_ioctl_type(unsigned int type)
{
	return type == 0 || type == 'T' || type == 'f' || type == 'X' ||
	       type == 0x94 || type == 0x15;
}

static unsigned int pick_cmd(struct fuzz *z)
{
	static const unsigned int known[] = {
		MSG_SLOT_CHANNEL, MSG_SLOT_SET_CEN, MSG_SLOT_SET_BLOCKING,
		MSG_SLOT_CHANNEL_LONG, MSG_SLOT_SET_CEN_LONG,
		MSG_SLOT_SET_BLOCKING_LONG, MYSHM_GET_SIZE,
		KSHM_IOC_OPEN, KSHM_IOC_TRUNC, KSHM_IOC_INFO,
		KSHM_IOC_OPEN, KSHM_IOC_TRUNC, KSHM_IOC_MAPPED,
	};
	static const unsigned int types[] = {
		MSG_SLOT_MAJOR, MYSHM_IOC_MAGIC,
		KSHM_IOC_MAGIC,
	};
	unsigned int cmd, dir, size;

	switch (pick(z, 4)) {
	case 0:
	case 1:
		return known[pick(z, sizeof(known) / sizeof(known[0]))];
	case 2:		/* the modules' type spaces, any nr/dir/size */
		dir = pick(z, 4);
		size = pick(z, 4) ? 1u << pick(z, 4) : pick(z, 1u << 14);
		return _IOC(dir, types[pick(z, sizeof(types) / sizeof(types[0]))],
			    pick(z, 2) ? pick(z, 8) : pick(z, 256), size);
	default:
		do
			cmd = rnd(z);
		while (vfs_ioctl_type(_IOC_TYPE(cmd)));
		return cmd;
	}
}

static struct ofile *live_file(struct fuzz *z)
{
	unsigned int i, start = pick(z, NFD);

	for (i = 0; i < NFD; i++)
		if (z->f[(start + i) % NFD].fd >= 0)
			return &z->f[(start + i) % NFD];
	return NULL;
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* Interrupt a blocking message slot read after 20 ms (EINTR). */
static void arm(bool on)
{
	struct itimerval it = { { 0, 0 }, { 0, on ? 20000 : 0 } };

	setitimer(ITIMER_REAL, &it, NULL);
}

static off_t pick_pos(struct fuzz *z, const struct dev *d)
{
	static const off_t pos[] = { 0, 1, -1, -4096, INT64_MAX, INT64_MIN };

	switch (pick(z, 3)) {
	case 0:
		return pos[pick(z, sizeof(pos) / sizeof(pos[0]))];
	case 1:
		return d->size + pick(z, 3) - 1;
	default:
		return d->size ? (off_t)pick(z, d->size + 1) : 0;
	}
}

static void do_open(struct fuzz *z)
{
	static const int modes[] = { O_RDONLY, O_WRONLY, O_RDWR };
	unsigned int i = pick(z, NFD), d = pick(z, NDEV);
	int mode = modes[pick(z, 3)], fd;
	bool nonblock;

	while (!devs[d].path)
		d = pick(z, NDEV);

	if (z->f[i].fd >= 0)
		close(z->f[i].fd);
	z->f[i].fd = -1;
	nonblock = !pick(z, 4);
	fd = open(devs[d].path, mode | (nonblock ? O_NONBLOCK : 0) |
		  O_CLOEXEC);
	if (!result(z, C_OPEN, -1, fd < 0 ? -1 : fd, errno)) {
		defect(z, C_OPEN, d, "open failed", fd, errno);
		return;
	}
	z->f[i] = (struct ofile){ .fd = fd, .dev = d, .mode = mode };
	if (devs[d].kind == SLOT)
		kt_model_open(&z->f[i].ms, devs[d].size, nonblock);
}

#define KSHM_MAX_SIZE	(32 * PS)	/* default max_pages */

union kshm_args {
	struct kshm_open_args o;
	struct kshm_trunc_args t;
	struct kshm_info i;
	struct kshm_range r;
};

static union kshm_args kargs;

/* Valid-looking or boundary arguments for kshm ioctl CMD in kargs. */
static unsigned long kshm_arg(struct fuzz *z, unsigned int cmd)
{
	static const char *const names[] = {
		"a", "/a", "b", "fz 1", "", "/", "a/b", "\x01x", "~", "//a",
		"123456789012345678901234567890123456789012345678901234567890123",
		"1234567890123456789012345678901234567890123456789012345678901234",
	};
	static const __u32 flags[] = {
		KSHM_RDWR | KSHM_CREAT, KSHM_RDWR | KSHM_CREAT, KSHM_RDONLY,
		KSHM_RDWR, KSHM_RDWR | KSHM_CREAT | KSHM_EXCL, KSHM_EXCL,
		KSHM_CREAT | KSHM_CLOEXEC, 0x10, 0xffffffff,
	};
	static const __u32 modes[] = { 0600, 0644, 0400, 0, 0777, 01000 };
	static const __u64 sizes[] = {
		0, 1, PS - 1, PS, PS + 1, KSHM_MAX_SIZE, KSHM_MAX_SIZE + 1,
		KSHM_MAX_SIZE + PS, 1ULL << 40, ~0ULL,
	};

	memset(&kargs, 0, sizeof(kargs));
	if (cmd == KSHM_IOC_OPEN) {
		if (pick(z, 10) == 0)	/* no NUL in the whole buffer */
			memset(kargs.o.name, 'n', sizeof(kargs.o.name));
		else
			strcpy(kargs.o.name,
			       names[pick(z, sizeof(names) / sizeof(names[0]))]);
		kargs.o.flags = flags[pick(z, sizeof(flags) / sizeof(flags[0]))];
		kargs.o.mode = pick(z, 8) ?
			modes[pick(z, sizeof(modes) / sizeof(modes[0]))] :
			(__u32)rnd(z);
	} else if (cmd == KSHM_IOC_MAPPED) {
		struct map *m = live_map(z);

		kargs.r.addr = m && pick(z, 2) ? (uintptr_t)m->p : pick_arg(z);
		kargs.r.len = pick(z, 2) ? (m ? m->len : PS) : pick_len(z);
	} else if (cmd == KSHM_IOC_TRUNC) {
		kargs.t.size = pick(z, 4) ?
			sizes[pick(z, sizeof(sizes) / sizeof(sizes[0]))] :
			pick(z, KSHM_MAX_SIZE * 2);
	}
	return (unsigned long)&kargs;
}

/* A kshm ioctl on F that succeeded with result R: check, keep new fds. */
static void kshm_done(struct fuzz *z, struct ofile *f, unsigned int cmd,
		      unsigned long arg, long r)
{
	unsigned int i;

	if (cmd == KSHM_IOC_OPEN && devs[f->dev].kind == KSHM_DEV) {
		i = pick(z, NFD);
		if (z->f[i].fd >= 0 && &z->f[i] != f)
			close(z->f[i].fd);
		if (&z->f[i] == f)
			i = (i + 1) % NFD;
		if (z->f[i].fd >= 0)
			close(z->f[i].fd);
		z->f[i] = (struct ofile){ .fd = (int)r, .dev = OBJ_DEV, .mode = -1 };
		if (arg == (unsigned long)&kargs)
			z->f[i].mode = kargs.o.flags & KSHM_RDWR ? O_RDWR :
								   O_RDONLY;
		return;
	}
	if (devs[f->dev].kind != KSHM_OBJ || arg != (unsigned long)&kargs)
		return;
	if (cmd == KSHM_IOC_TRUNC &&
	    (!kargs.t.size || kargs.t.size % PS ||
	     kargs.t.size > KSHM_MAX_SIZE))
		defect(z, C_IOCTL, f->dev, "KSHM_IOC_TRUNC size", r, 0);
	if (cmd == KSHM_IOC_INFO && (kargs.i.size % PS ||
				     kargs.i.size > KSHM_MAX_SIZE))
		defect(z, C_IOCTL, f->dev, "KSHM_IOC_INFO size", r, 0);
}

/* Size of kshm object F (0 if unsized or on error). */
static unsigned long kshm_obj_size(int fd)
{
	struct kshm_info info;

	return ioctl(fd, KSHM_IOC_INFO, &info) ? 0 : info.size;
}

/* A message-slot ioctl returned R/ERR: what the model says it must. */
static void slot_ioctl(struct fuzz *z, struct ofile *f, unsigned int cmd,
		       unsigned long arg, long r, int err)
{
	int want = kt_model_ioctl(&f->ms, cmd, arg);

	result(z, C_IOCTL, -1, r, err);
	if (want ? r != -1 || err != -want : r != 0)
		defect(z, C_IOCTL, f->dev, want ? "the model says EINVAL" :
		       "the model says success", r, r == -1 ? err : 0);
}

/* x86-64 access_ok(): the whole range below the top of user space. */
static bool user_range(const void *p, size_t len)
{
	const unsigned long top = 0x7ffffffff000UL;	/* TASK_SIZE_MAX */

	return len <= top && (unsigned long)p <= top - len;
}

/*
 * A message-slot read/write (C) of LEN bytes at PTR (A accessible),
 * position POS for pread/pwrite, returned R/ERR: the VFS's checks, then
 * the model.
 */
static void slot_rw(struct fuzz *z, struct ofile *f, enum call c, void *ptr,
		    size_t len, const struct avail *a, off_t pos, long r,
		    int err)
{
	bool rd = c == C_READ || c == C_PREAD;
	bool positional = c == C_PREAD || c == C_PWRITE;
	const size_t max_rw = INT_MAX & ~(PS - 1);	/* MAX_RW_COUNT */
	const char *why = NULL;
	long want = 0;

	result(z, c, -1, r, err);
	if (positional && pos < 0)
		want = -EINVAL;
	else if (f->mode == (rd ? O_WRONLY : O_RDONLY))
		want = -EBADF;
	else if (!user_range(ptr, len))
		want = -EFAULT;
	else if (positional && (off_t)((unsigned long long)pos + len) < 0)
		want = -EINVAL;		/* rw_verify_area() */
	if (want) {
		if (r != -1 || err != -want)
			defect(z, c, f->dev, strerror((int)-want), r,
			       r == -1 ? err : 0);
		return;
	}
	if (len > max_rw)
		len = max_rw;
	if (rd)
		why = kt_model_read(z->model, &f->ms, ptr, len, a->w, r, err);
	else
		why = kt_model_write(z->model, &f->ms, ptr, len, a->r, r, err);
	if (why)
		defect(z, c, f->dev, why, r, r == -1 ? err : 0);
}

static void do_ioctl(struct fuzz *z, struct ofile *f)
{
	unsigned int cmd = pick_cmd(z);
	unsigned long arg = pick_arg(z);
	__u64 *p = (__u64 *)z->buf;
	long r;

	*p = 0;
	if (cmd == MYSHM_GET_SIZE && pick(z, 2))
		arg = (unsigned long)p;
	if (_IOC_TYPE(cmd) == KSHM_IOC_MAGIC && pick(z, 4))
		arg = kshm_arg(z, cmd);
	r = ioctl(f->fd, cmd, arg);
	if (devs[f->dev].kind == SLOT) {
		slot_ioctl(z, f, cmd, arg, r, errno);
		return;
	}
	if (!result(z, C_IOCTL, f->dev, r, errno))
		return;
	if (devs[f->dev].kind == MYSHM && arg == (unsigned long)p &&
	    *p != devs[f->dev].size)
		defect(z, C_IOCTL, f->dev, "wrong size", r, 0);
	kshm_done(z, f, cmd, arg, r);
}

static void do_rw(struct fuzz *z, struct ofile *f, enum call c)
{
	const struct dev *d = &devs[f->dev];
	size_t len = pick_len(z);
	struct avail a;
	void *ptr = pick_ptr(z, len, &a);
	off_t pos = pick_pos(z, d);
	long r;
	int err;

	if (c == C_WRITE || c == C_PWRITE)
		memset(z->buf, (int)pick(z, 256), 2 * PS);
	arm(d->kind == SLOT);
	switch (c) {
	case C_READ:
		r = read(f->fd, ptr, len);
		break;
	case C_WRITE:
		r = write(f->fd, ptr, len);
		break;
	case C_PREAD:
		r = pread(f->fd, ptr, len, pos);
		break;
	default:
		r = pwrite(f->fd, ptr, len, pos);
	}
	err = errno;
	arm(false);
	if (d->kind == SLOT) {
		slot_rw(z, f, c, ptr, len, &a, pos, r, err);
		return;
	}
	if (!result(z, c, f->dev, r, err))
		return;
	if (r > (long)len || (d->kind == SLOT && (r < 1 || r > 128)) ||
	    (d->kind == SLOT && (c == C_WRITE || c == C_PWRITE) &&
	     r != (long)len) || (d->kind == MYSHM && r > (long)d->size) ||
	    (d->kind == MYSHM && (c == C_PREAD || c == C_PWRITE) &&
	     r > 0 && pos + r > (long)d->size))
		defect(z, c, f->dev, "implausible count", r, 0);
}

static void do_lseek(struct fuzz *z, struct ofile *f)
{
	const struct dev *d = &devs[f->dev];
	int whence = pick(z, 6);
	off_t r = lseek(f->fd, pick_pos(z, d), whence);

	if (result(z, C_LSEEK, f->dev, r < 0 ? -1 : r, errno) &&
	    d->kind == MYSHM && (r < 0 || r > (off_t)d->size))
		defect(z, C_LSEEK, f->dev, "position out of range", r, 0);
}

static void do_mmap(struct fuzz *z, struct ofile *f)
{
	static const int prots[] = { PROT_READ, PROT_WRITE,
				     PROT_READ | PROT_WRITE, PROT_NONE };
	const struct dev *d = &devs[f->dev];
	unsigned int i = pick(z, NMAP);
	int prot = prots[pick(z, 4)];
	unsigned long size;
	bool shared;
	size_t len;
	off_t off;
	void *p;
	int err;

	switch (pick(z, 4)) {
	case 0:
		len = pick_len(z);
		break;
	case 1:
		len = d->size ? d->size : PS;
		break;
	default:
		len = PS * (1 + pick(z, 4)) - (pick(z, 2) ? pick(z, PS) : 0);
	}
	off = pick(z, 3) ? (off_t)(pick(z, (d->size ? d->size : PS) / PS + 2) *
				   PS) : pick_pos(z, d);
	if (z->m[i].p) {
		munmap(z->m[i].p, z->m[i].len);
		z->m[i].p = NULL;
	}
	shared = pick(z, 5);
	p = mmap(NULL, len, prot, shared ? MAP_SHARED : MAP_PRIVATE, f->fd,
		 off);
	err = errno;
	if (p == MAP_FAILED && err == EACCES && f->mode >= 0 &&
	    f->mode != O_WRONLY &&
	    !(shared && (prot & PROT_WRITE) &&
	      (f->mode == O_RDONLY || d->kind == SLOT)))
		defect(z, C_MMAP, f->dev, "EACCES with the access the file has",
		       -1, err);
	if (!result(z, C_MMAP, f->dev, p == MAP_FAILED ? -1 : 0, err))
		return;
	size = d->size;
	if (d->kind == KSHM_OBJ)
		size = kshm_obj_size(f->fd);
	if (d->kind == SLOT) {
		/* a view: one page, shared, never writable, channel 1..2^32-1 */
		if (!shared || (prot & PROT_WRITE) || !len || len > PS ||
		    off % PS || off / PS < 1 || off / PS > 0xffffffffL ||
		    f->mode == O_WRONLY)
			defect(z, C_MMAP, f->dev, "view should be refused", 0,
			       0);
		z->m[i] = (struct map){ p, len, prot, f->dev, false };
		return;
	}
	if (d->kind == KSHM_DEV || off < 0 || off + len > size) {
		defect(z, C_MMAP, f->dev, "mapping should be refused", 0, 0);
		munmap(p, len);
		return;
	}
	z->m[i] = (struct map){ p, len, prot, f->dev,
		d->kind == KSHM_OBJ ? (prot & PROT_WRITE) != 0 :
				      f->mode != O_RDONLY };
}

static void do_map_op(struct fuzz *z)
{
	struct map *m = live_map(z);
	volatile unsigned char *v;
	size_t nl;
	void *p;
	long r;

	if (!m)
		return;
	switch (pick(z, 4)) {
	case 0:		/* touch the first and the last byte */
		if (!(m->prot & PROT_READ))
			return;
		v = m->p;
		(void)v[0];
		(void)v[m->len - 1];
		if (m->prot & PROT_WRITE)
			v[pick(z, m->len)] ^= 0;
		result(z, C_TOUCH, -1, 0, 0);
		return;
	case 1:		/* unmap all, or just the first page */
		if (m->len > PS && pick(z, 2)) {
			r = munmap(m->p, PS);
			if (result(z, C_MUNMAP, m->dev, r, errno)) {
				m->p += PS;
				m->len -= PS;
			}
			return;
		}
		r = munmap(m->p, m->len);
		result(z, C_MUNMAP, m->dev, r, errno);
		m->p = NULL;
		return;
	case 2:
		nl = pick(z, 2) ? m->len + PS : (m->len + 1) / 2;
		p = mremap(m->p, m->len, nl, pick(z, 2) ? MREMAP_MAYMOVE : 0);
		if (!result(z, C_MREMAP, m->dev, p == MAP_FAILED ? -1 : 0,
			    errno))
			return;
		if (nl > m->len)
			defect(z, C_MREMAP, m->dev, "mapping grew", 0, 0);
		m->p = p;
		m->len = nl;
		return;
	default:
		r = pick(z, 4);
		r = r == 0 ? PROT_NONE : r == 1 ? PROT_READ :
		    PROT_READ | PROT_WRITE;
		nl = (size_t)r;
		r = mprotect(m->p, m->len, (int)nl);
		if (r && errno == EACCES && (m->may_write || !(nl & PROT_WRITE)))
			defect(z, C_MPROTECT, m->dev,
			       "EACCES on a mapping that may be writable", r,
			       EACCES);
		if (result(z, C_MPROTECT, m->dev, r, errno))
			m->prot = (int)nl;
	}
}

static void do_poll(struct fuzz *z)
{
	struct pollfd pfd[NFD];
	struct ofile *of[NFD];
	int i, n = 0;
	long r;

	for (i = 0; i < NFD; i++)
		if (z->f[i].fd >= 0) {
			of[n] = &z->f[i];
			pfd[n++] = (struct pollfd){ z->f[i].fd,
				POLLIN | POLLOUT | POLLPRI, 0 };
		}
	r = poll(pfd, n, 0);
	if (!result(z, C_POLL, -1, r, errno))
		defect(z, C_POLL, -1, "poll failed", -1, errno);
	for (i = 0; i < n; i++)
		if (pfd[i].revents & (POLLNVAL | POLLERR))
			defect(z, C_POLL, -1, "POLLNVAL/POLLERR", pfd[i].revents,
			       0);
		else if (r >= 0 && devs[of[i]->dev].kind == SLOT &&
			 pfd[i].revents != kt_model_poll(z->model, &of[i]->ms))
			defect(z, C_POLL, of[i]->dev,
			       "events other than the model's", pfd[i].revents,
			       0);
}

static void fuzz_step(struct fuzz *z)
{
	struct ofile *f = live_file(z);
	unsigned int op = pick(z, 20);
	long r;

	if (!f || op == 0) {
		do_open(z);
		return;
	}
	switch (op) {
	case 1:
		r = close(f->fd);
		result(z, C_CLOSE, -1, r, errno);
		f->fd = -1;
		return;
	case 2: case 3: case 4: case 5:
		do_ioctl(z, f);
		return;
	case 6: case 7:
		do_rw(z, f, C_READ);
		return;
	case 8: case 9:
		do_rw(z, f, C_WRITE);
		return;
	case 10:
		do_rw(z, f, C_PREAD);
		return;
	case 11:
		do_rw(z, f, C_PWRITE);
		return;
	case 12:
		do_lseek(z, f);
		return;
	case 13: case 14:
		do_mmap(z, f);
		return;
	case 15: case 16: case 17:
		do_map_op(z);
		return;
	default:
		do_poll(z);
	}
}

struct run {
	struct fuzz_stats *fs;
	unsigned long long seed;
	long max_calls;
	long ms;
};

static void fuzz_child(void *arg)
{
	const struct run *run = arg;
	struct sigaction sa = { .sa_handler = on_alarm };
	struct fuzz z = { .fs = run->fs, .rnd = run->seed | 1,
			  .model = kt_model_new(), .root = geteuid() == 0 };
	long end = kt_now_ms() + run->ms, n;
	int i;

	sigaction(SIGALRM, &sa, NULL);
	for (i = 0; i < NFD; i++)
		z.f[i].fd = -1;
	z.buf = mmap(NULL, 4 * PS, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (z.buf == MAP_FAILED || !z.model)
		_exit(92);
	z.ro = z.buf + 3 * PS;
	mprotect(z.buf + 2 * PS, PS, PROT_NONE);
	mprotect(z.ro, PS, PROT_READ);
	for (n = 0; n < run->max_calls && kt_now_ms() < end; n++)
		fuzz_step(&z);
}

static struct fuzz_stats *fs;

static void run_seed(unsigned long long seed, long max_calls, long ms)
{
	struct run run = { fs, seed, max_calls, ms };
	long before = fs->st.defects;
	int rc;

	/* the model starts from empty slots: a fresh message_slot.ko */
	assert_int_equal(kt_unload("message_slot"), 0);
	assert_int_equal(kt_slot_load(NULL), 0);
	kt_slot_mknod(255);
	rc = kt_in_child(fuzz_child, &run);

	if (rc)
		kt_stress_defect(&fs->st, "seed %llu: fuzzer child ended with"
				 " %d", seed, rc);
	if (fs->st.defects != before)
		printf("# fuzz: defects with KIPC_FUZZ_SEED=%llu\n", seed);
}

static void print_stats(const char *what, unsigned long long seed, long ms)
{
	long total = 0;
	int c, e;

	for (c = 0; c < NCALLS; c++)
		total += fs->calls[c];
	printf("# fuzz kipc %s: seed=%llu calls=%ld time=%ldms defects=%ld\n",
	       what, seed, total, ms, fs->st.defects);
	for (c = 0; c < NCALLS; c++) {
		char line[1024];
		int n;

		if (!fs->calls[c])
			continue;
		n = snprintf(line, sizeof(line), "#   %s: %ld calls, %ld ok",
			     call_names[c], fs->calls[c], fs->ok[c]);
		for (e = 0; e < MAXERR && n < (int)sizeof(line) - 40; e++)
			if (fs->err[c][e])
				n += snprintf(line + n, sizeof(line) - n,
					      ", %s %ld", e ? strerrorname_np(e) :
					      "other", fs->err[c][e]);
		printf("%s\n", line);
	}
}

/* Seeds kept because they once found something; run first, always. */
static const unsigned long long regress_seeds[] = { 1, 2, 3, 42 };

static void test_regress_seeds(void **state)
{
	unsigned int i;

	(void)state;
	memset(fs, 0, sizeof(*fs));
	for (i = 0; i < sizeof(regress_seeds) / sizeof(regress_seeds[0]); i++)
		run_seed(regress_seeds[i], 3000, 60000);
	print_stats("regression seeds", 0, 0);
	assert_int_equal(fs->st.defects, 0);
}

static void test_random(void **state)
{
	unsigned long long seed = kt_env_long("KIPC_FUZZ_SEED", 0);
	long secs = kt_env_long("KIPC_FUZZ_SECONDS", 10);
	long start = kt_now_ms();

	(void)state;
	memset(fs, 0, sizeof(*fs));
	if (!seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (unsigned long long)ts.tv_nsec ^ ts.tv_sec ^ getpid();
	}
	printf("# fuzz kipc: KIPC_FUZZ_SEED=%llu KIPC_FUZZ_SECONDS=%ld\n", seed,
	       secs);
	fflush(stdout);
	run_seed(seed, kt_env_long("KIPC_FUZZ_CALLS", 1L << 40), secs * 1000);
	print_stats("random", seed, kt_now_ms() - start);
	assert_int_equal(fs->st.defects, 0);
}

/* Everything fuzzed is closed and unmapped: both modules unload. */
static void test_unload(void **state)
{
	(void)state;
	kt_unload_kipc();
}

static int setup(void **state)
{
	(void)state;
	fs = mmap(NULL, sizeof(*fs), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (fs == MAP_FAILED)
		return -1;
	kt_unload_if_loaded("message_slot");
	kt_unload_if_loaded("myshm");
	if (kt_slot_load(NULL) || kt_load("myshm", "buffers=myshm,kfuzz:8K"))
		return -1;
	if (kt_loaded("kshm"))
		kt_unload("kshm");
	if (kt_load("kshm", NULL))
		return -1;
	kt_slot_mknod(255);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regress_seeds),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_unload),
	};

	return kt_run_group(tests, setup, kt_unload_all);
}
