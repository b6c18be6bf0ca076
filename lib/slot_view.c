// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * slot_view.c - libkipc's reader side of message slot views (see
 * <kipc/slot_view.h>).
 *
 * The ordering contract with the kernel's writer (ms_view_publish() in
 * kernel/message_slot.c): the writer makes @sequence odd, issues a write
 * barrier, writes @len, @seq and @data, issues a write barrier and makes
 * @sequence even again; writers of a channel are serialized by the kernel.
 * A reader loads @sequence with acquire ordering (the loads after it cannot
 * move before it) and retries while it is odd, copies the fields, issues an
 * acquire fence (the copies cannot move after the next load) and loads
 * @sequence again: if it is unchanged no write overlapped the copy.  The
 * length is bounds-checked before it is used, since a copy that raced a
 * write is thrown away only after it was made.
 */
#include <kipc/slot_view.h>

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Retries before a reader yields the CPU to a (preempted) writer. */
#define SPINS_BEFORE_YIELD 1000

const struct msg_slot_view *kipc_slot_view_map(int fd, uint32_t channel)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	if (!channel) {
		errno = EINVAL;
		return NULL;
	}
	p = mmap(NULL, page, PROT_READ, MAP_SHARED, fd,
		 (off_t)MSG_SLOT_VIEW_OFFSET(channel, page));
	return p == MAP_FAILED ? NULL : p;
}

int kipc_slot_view_unmap(const struct msg_slot_view *view)
{
	if (!view) {
		errno = EINVAL;
		return -1;
	}
	return munmap((void *)view, sysconf(_SC_PAGESIZE));
}

/* A write is under way: wait until @sequence is even again. */
static __attribute__((noinline)) void view_wait(const struct msg_slot_view *view)
{
	unsigned int spins = 0;

	while (__atomic_load_n(&view->sequence, __ATOMIC_RELAXED) & 1)
		if (++spins % SPINS_BEFORE_YIELD == 0)
			sched_yield();
}

/* An even @sequence (acquire), waiting out a write under way. */
static inline uint32_t view_begin(const struct msg_slot_view *view)
{
	uint32_t s;

	while ((s = __atomic_load_n(&view->sequence, __ATOMIC_ACQUIRE)) & 1)
		view_wait(view);
	return s;
}

/* Did a write overlap what was read since view_begin() returned S? */
static inline bool view_retry(const struct msg_slot_view *view, uint32_t s)
{
#ifdef __SANITIZE_THREAD__
	/* ThreadSanitizer has no fences (GCC refuses them): a seq_cst load */
	return __atomic_load_n(&view->sequence, __ATOMIC_SEQ_CST) != s;
#else
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&view->sequence, __ATOMIC_RELAXED) != s;
#endif
}

/* The general read: any SIZE, retrying while writes overlap the copy. */
static __attribute__((noinline)) ssize_t
view_read_slow(const struct msg_slot_view *view, void *buf, size_t size,
	       uint64_t *seq)
{
	uint64_t q;
	uint32_t s, len;

	do {
		s = view_begin(view);
		len = __atomic_load_n(&view->len, __ATOMIC_RELAXED);
		q = view->seq;
		if (size >= MSG_SLOT_MAX_MSG_LEN)
			memcpy(buf, view->data, MSG_SLOT_MAX_MSG_LEN);
		else if (len <= size)
			memcpy(buf, view->data, len);
	} while (view_retry(view, s));
	if (len > MSG_SLOT_MAX_MSG_LEN) {
		errno = EIO;	/* not a view the kernel wrote */
		return -1;
	}
	if (!len) {
		errno = EWOULDBLOCK;
		return -1;
	}
	if (len > size) {
		errno = ENOSPC;
		return -1;
	}
	if (seq)
		*seq = q;
	return len;
}

/*
 * The common case inline, everything else in view_read_slow(): room for
 * the longest message, no write under way, a message.  Then the copy is
 * all of @data, a fixed size the compiler turns into a few vector moves
 * (the bytes past the message are zeros in the view: the kernel clears
 * them, so BUF gets the message followed by zeros), and the function
 * calls nothing.
 */
ssize_t kipc_slot_view_read(const struct msg_slot_view *view, void *buf,
			    size_t size, uint64_t *seq)
{
	uint64_t q;
	uint32_t s, len;

	if (size < MSG_SLOT_MAX_MSG_LEN)
		return view_read_slow(view, buf, size, seq);
	s = __atomic_load_n(&view->sequence, __ATOMIC_ACQUIRE);
	len = __atomic_load_n(&view->len, __ATOMIC_RELAXED);
	q = view->seq;
	memcpy(buf, view->data, MSG_SLOT_MAX_MSG_LEN);
	if ((s & 1) || view_retry(view, s) || len - 1 >= MSG_SLOT_MAX_MSG_LEN)
		return view_read_slow(view, buf, size, seq);
	if (seq)
		*seq = q;
	return len;
}

uint64_t kipc_slot_view_seq(const struct msg_slot_view *view)
{
	uint64_t q;
	uint32_t s;

	do {
		s = view_begin(view);
		q = view->seq;
	} while (view_retry(view, s));
	return q;
}

bool kipc_slot_view_changed(const struct msg_slot_view *view, uint64_t seq)
{
	return kipc_slot_view_seq(view) != seq;
}
