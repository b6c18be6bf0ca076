/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <kipc/chan.h> - message channels in shared memory (libkipc).
 *
 * A channel is a ring of fixed-size slots in shared memory, laid out as
 * docs/chan.md specifies (layout version 1).  Its shape is chosen at
 * creation: one sender and one receiver (SPSC), many senders and one
 * receiver (MPSC), or one sender and many receivers that each see every
 * message (SPMC, publish/subscribe).  Senders either copy a message in
 * (kipc_chan_send) or loan a slot, fill it in place and publish it
 * (kipc_chan_loan, kipc_chan_publish); receivers copy a message out
 * (kipc_chan_recv) or look at it in place and release it (kipc_chan_peek,
 * kipc_chan_release).
 *
 * Waiting spins for a bounded time, then sleeps on a process-shared futex
 * in the channel (between VMs: on an ivshmem doorbell); a side that finds
 * its peer awake makes no system call.
 *
 * An endpoint (struct kipc_chan) is used by one thread at a time; make one
 * endpoint per sending or receiving thread.  Everything the library reads
 * from the shared memory is checked: a peer that writes nonsense there
 * makes calls fail with EPROTO or EBADMSG, never makes this side read or
 * write outside the channel.
 *
 * Every function returning int or ssize_t returns -1 and sets errno on
 * failure; functions returning a pointer return NULL and set errno.
 * See kipc_chan(7) and docs/chan.md.  Link with -lkipc.
 */
#ifndef KIPC_CHAN_H
#define KIPC_CHAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Shapes (struct kipc_chan_attr.shape). */
#define KIPC_CHAN_SPSC		1	/* one sender, one receiver */
#define KIPC_CHAN_MPSC		2	/* many senders, one receiver */
#define KIPC_CHAN_SPMC		3	/* one sender, many receivers (pub/sub) */

/* What a full SPMC channel does (struct kipc_chan_attr.policy). */
#define KIPC_CHAN_BLOCK		0	/* the sender waits for the slowest receiver */
#define KIPC_CHAN_DROP_OLDEST	1	/* a slow receiver loses the oldest messages */

/* Roles of an endpoint. */
#define KIPC_CHAN_NONE		0	/* neither: formats, inspects (stat) */
#define KIPC_CHAN_SEND		1
#define KIPC_CHAN_RECV		2

/* Limits of layout version 1. */
#define KIPC_CHAN_MAX_SLOTS	(1u << 20)	/* slot_count: 2 .. this, power of 2 */
#define KIPC_CHAN_MAX_SLOT_SIZE	(1u << 28)	/* slot_size: 1 .. this bytes */
#define KIPC_CHAN_MAX_PEERS	64u		/* MPSC senders, SPMC receivers */

struct kipc_chan;

/* Geometry and behaviour of a new channel; kipc_chan_attr_init() fills defaults. */
struct kipc_chan_attr {
	uint32_t shape;		/* KIPC_CHAN_SPSC (default), _MPSC, _SPMC */
	uint32_t policy;	/* SPMC only: KIPC_CHAN_BLOCK (default), _DROP_OLDEST */
	uint32_t slot_size;	/* largest message in bytes (default 1024) */
	uint32_t slot_count;	/* slots in the ring, a power of 2 (default 64) */
	uint32_t max_peers;	/* MPSC: senders; SPMC: receivers (default 8); else 1 */
	uint32_t mode;		/* shm: and memfd: permission bits (default 0600) */
};

/* A message in place (kipc_chan_peek). */
struct kipc_chan_msg {
	const void *data;	/* inside the channel; valid until kipc_chan_release() */
	size_t len;		/* its length, at most the slot size */
	uint64_t lost;		/* DROP_OLDEST: messages lost just before this one */
};

/* State of a channel as one endpoint sees it (kipc_chan_stat). */
struct kipc_chan_stat {
	uint32_t shape, policy, slot_size, slot_count, max_peers;
	uint32_t role;		/* this endpoint's */
	uint32_t senders;	/* endpoints attached now, as the header says */
	uint32_t receivers;
	uint32_t head;		/* messages claimed by senders, mod 2^32 */
	uint32_t pos;		/* receiver: next message; sender: next slot */
	uint32_t pending;	/* receiver: messages waiting for it */
	uint32_t reserved;
	size_t map_size;	/* bytes of the shared region */
	uint64_t messages;	/* this endpoint sent or received */
	uint64_t lost;		/* this receiver lost (DROP_OLDEST) */
	uint64_t waits;		/* futex waits this endpoint made */
	uint64_t wakes;		/* futex wakes this endpoint made */
};

/* Defaults: SPSC, 64 slots of 1024 bytes, 8 peers, mode 0600. */
void kipc_chan_attr_init(struct kipc_chan_attr *attr);

/*
 * kipc_chan_size - bytes of shared memory a channel with ATTR needs.
 * Errors: EINVAL (ATTR out of range).  Returns 0 on error.
 */
size_t kipc_chan_size(const struct kipc_chan_attr *attr);

/*
 * kipc_chan_create - create a channel in the locale WHERE and open an
 * endpoint with ROLE on it:
 *   "anon"          MAP_SHARED anonymous memory: threads of this process,
 *                   and children forked after this call
 *   "memfd:NAME"    a memfd sealed against resizing; kipc_chan_fd() gives
 *                   the descriptor to pass (inherit, SCM_RIGHTS)
 *   "shm:/NAME"     POSIX shared memory (shm_open), created exclusively;
 *                   remove the name with kipc_chan_unlink()
 *   "kshm:NAME"     a kshm object (kshm.ko), created exclusively
 *   "myshm:/dev/NAME[@OFFSET]"  a myshm-interface device (myshm.ko's
 *                   buffers, kipc_ivshmem.ko's /dev/ivshmemN), formatted
 *                   in place at OFFSET (a multiple of 4096); futex
 *                   wake-ups: processes of one kernel only
 *   "ivshmem:/dev/ivshmemN[@OFFSET]"  in a guest: an ivshmem-doorbell
 *                   device, the channel at OFFSET; wake-ups by doorbells,
 *                   so peers may be in other guests or on the host
 *   "ivshmem-host:SOCKET[@OFFSET]"  on the host: join the ivshmem server
 *                   on SOCKET as a peer (kipc_ivshmem_connect), the
 *                   channel at OFFSET of its memory
 * Errors: EINVAL (WHERE, ATTR or ROLE; not a myshm or ivshmem device),
 * EEXIST (shm or kshm name taken), ENOSPC (myshm, ivshmem: does not fit
 * after OFFSET, or OFFSET beyond the end), EOPNOTSUPP (ivshmem: no
 * doorbells), ENODEV (kshm.ko not loaded), ENOMEM,
 * EMFILE, EACCES, and those of the underlying calls.
 */
struct kipc_chan *kipc_chan_create(const char *where,
				   const struct kipc_chan_attr *attr,
				   unsigned int role);

/*
 * kipc_chan_open - open an endpoint with ROLE on an existing channel:
 *   "shm:/NAME"     by name
 *   "fd:N"          a descriptor this process holds (a memfd passed to it,
 *                   or any shared-memory file); memfds must be sealed
 *                   against shrinking and growing (EPERM otherwise)
 *   "kshm:NAME", "myshm:/dev/NAME[@OFFSET]",
 *   "ivshmem:/dev/ivshmemN[@OFFSET]", "ivshmem-host:SOCKET[@OFFSET]"
 *                   as for kipc_chan_create()
 * Errors: ENOENT, EAGAIN (the channel exists but is not formatted yet),
 * EPROTO (not a channel of a layout this library speaks, nonsense
 * geometry, or a doorbell channel opened through myshm: or the reverse), EBUSY (every endpoint record of ROLE is taken: SPSC has one
 * sender and one receiver, MPSC max_peers senders, SPMC max_peers
 * receivers), EPERM, EINVAL, ENOMEM.
 */
struct kipc_chan *kipc_chan_open(const char *where, unsigned int role);

/*
 * kipc_chan_format - lay out a channel with ATTR in LEN bytes at MEM
 * (64-byte aligned, at least kipc_chan_size(ATTR) bytes) that the caller
 * shares by its own means.  Errors: EINVAL, ENOSPC (LEN too small).
 */
int kipc_chan_format(void *mem, size_t len, const struct kipc_chan_attr *attr);

/*
 * kipc_chan_attach - open an endpoint with ROLE on the channel at MEM (LEN
 * bytes mapped), which stays the caller's: kipc_chan_close() does not
 * unmap it.  Errors as kipc_chan_open().
 */
struct kipc_chan *kipc_chan_attach(void *mem, size_t len, unsigned int role);

/*
 * kipc_chan_peer - another endpoint with ROLE on the channel CH is on,
 * sharing its mapping (for another thread, or in a child forked after CH
 * was opened).  Errors as kipc_chan_open().
 */
struct kipc_chan *kipc_chan_peer(struct kipc_chan *ch, unsigned int role);

/*
 * kipc_chan_close - detach the endpoint (the other side sees it gone),
 * unmap the channel when no endpoint of this process uses it any more, free
 * CH.  In a child, closing an endpoint inherited through fork() only frees
 * this process's copy.  An outstanding loan is published as a 0-byte
 * message.  NULL is ignored.  Never fails.
 */
void kipc_chan_close(struct kipc_chan *ch);

/* kipc_chan_unlink - remove the name of a "shm:/NAME" channel. */
int kipc_chan_unlink(const char *where);

/* kipc_chan_fd - the memfd or shm descriptor behind CH, or -1 (EBADF). */
int kipc_chan_fd(const struct kipc_chan *ch);

/*
 * kipc_chan_loan - wait up to TIMEOUT_MS (-1 forever, 0 not at all) for a
 * free slot and store its address in *BUF: kipc_chan_stat().slot_size
 * bytes to fill in place, then kipc_chan_publish().  One loan at a time.
 * Errors: EAGAIN (timeout 0, no slot), ETIMEDOUT, EINTR (a signal),
 * EPIPE (SPSC/MPSC: the receiver has closed), EBUSY (a loan is
 * outstanding), EBADF (not a sender), EPROTO (the shared state is
 * nonsense), EOWNERDEAD (SPSC/MPSC: the receiver died without closing;
 * seen within two wait slices, 400 ms; in another VM or on the host, by
 * its heartbeat, within 2.4 s: docs/chan.md "Heartbeats"), ENODEV
 * (ivshmem: the device went away), ECONNRESET (ivshmem: this endpoint
 * was judged dead -- its heartbeat stood still, a paused VM -- and
 * detached; close it).
 */
int kipc_chan_loan(struct kipc_chan *ch, void **buf, int timeout_ms);

/*
 * kipc_chan_publish - make the loaned slot, holding LEN bytes, the next
 * message.  Never waits.  Errors: EINVAL (no loan), EMSGSIZE (LEN larger
 * than the slot; the loan stays).
 */
int kipc_chan_publish(struct kipc_chan *ch, size_t len);

/*
 * kipc_chan_send - copy LEN bytes at BUF into the next slot (loan,
 * memcpy, publish).  Errors: EMSGSIZE, and those of kipc_chan_loan().
 */
int kipc_chan_send(struct kipc_chan *ch, const void *buf, size_t len,
		   int timeout_ms);

/*
 * kipc_chan_peek - wait up to TIMEOUT_MS for the next message and describe
 * it in place in *MSG, until kipc_chan_release().  One peek at a time.
 * Errors: EAGAIN, ETIMEDOUT, EINTR, EPIPE (no sender is attached any
 * more, one was, and every message has been received), EOWNERDEAD (the
 * same, but the last sender died without closing; or an MPSC sender died
 * holding the next slot, whose message is lost), EBADMSG (the
 * message's length is larger than a slot: it is skipped), EPROTO, EBUSY
 * (a peek is outstanding), EBADF (not a receiver), ECONNRESET (as for
 * kipc_chan_loan()).
 */
int kipc_chan_peek(struct kipc_chan *ch, struct kipc_chan_msg *msg,
		   int timeout_ms);

/*
 * kipc_chan_release - give the peeked message's slot back.  Errors:
 * EINVAL (no peek), ESTALE (DROP_OLDEST: the sender overwrote the slot
 * while it was peeked, so what was read may be torn; it counts as lost).
 */
int kipc_chan_release(struct kipc_chan *ch);

/*
 * kipc_chan_recv - copy the next message into BUF (LEN bytes) and return
 * its length.  Errors: EMSGSIZE (LEN too small: the message stays), and
 * those of kipc_chan_peek().
 */
ssize_t kipc_chan_recv(struct kipc_chan *ch, void *buf, size_t len,
		       int timeout_ms);

/*
 * kipc_chan_pollfd - a descriptor for poll/select/epoll beside others: it
 * becomes readable when the endpoint may proceed (a receiver: a message or
 * the end; a sender: a free slot or the end).  Use: call the endpoint with
 * timeout 0 until EAGAIN -- which arms the descriptor -- then poll it.
 * Readable may be spurious: try again with timeout 0.  The descriptor
 * belongs to the endpoint (closed with it).  Local locales: an abstract
 * UNIX socket per endpoint, peers in one network namespace; ivshmem
 * locales: the endpoint's doorbell (device file or eventfd).  Errors:
 * EBADF (a NONE endpoint), EADDRINUSE, EMFILE, ENOMEM.
 */
int kipc_chan_pollfd(struct kipc_chan *ch);

/*
 * kipc_chan_set_spin - spin up to NS nanoseconds before sleeping (0: sleep
 * at once; -1: never sleep, busy-poll).  The default is 20000 when this
 * process may run on two CPUs or more, else 0.  A bounded spin is skipped
 * when every peer last ran on the waiter's own CPU.  Errors: EINVAL.
 */
int kipc_chan_set_spin(struct kipc_chan *ch, long ns);

/* kipc_chan_stat - fill *ST (see struct kipc_chan_stat). */
int kipc_chan_stat(const struct kipc_chan *ch, struct kipc_chan_stat *st);

#ifdef __cplusplus
}
#endif

#endif /* KIPC_CHAN_H */
