/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <kipc/ivshmem.h> - a host program as an ivshmem peer (libkipc).
 *
 * kipc_ivshmem_connect() joins an ivshmem server (kipc-ivshmem-server or
 * QEMU's example server) the way QEMU's ivshmem-doorbell device does: it
 * gets a peer id, the shared memory (mapped MAP_SHARED read-write) and one
 * eventfd per vector for itself and for every other peer.  It can then ring
 * any peer's doorbell (a guest sees an MSI-X interrupt on that vector) and
 * wait for its own.  Peers joining and leaving arrive on the server socket
 * (kipc_ivshmem_fd()); kipc_ivshmem_process() applies them.
 *
 * A handle is not thread-safe: use one per thread, or lock.  Every
 * function returning int returns -1 and sets errno on failure.  Needs no
 * kernel module.  See docs/ivshmem.md and kipc-ivshmem(1).
 */
#ifndef KIPC_IVSHMEM_HOST_H
#define KIPC_IVSHMEM_HOST_H

#include <stddef.h>
#include <stdint.h>

#include <kipc/ivshmem_ioctl.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kipc_ivshmem;

/*
 * kipc_ivshmem_connect - join the server listening on SOCK_PATH.
 * VECTORS: the server's vectors per peer (its -n), or 0 to learn it from
 * the setup messages (waits until the server is quiet for 50 ms after the
 * own id).  TIMEOUT_MS bounds the whole setup (-1: none).  Errors:
 * ENOENT/ECONNREFUSED (no server), ETIMEDOUT, EPROTO (the server broke
 * the protocol: bad version, an id outside 0..65535, message order, a
 * missing or unexpected descriptor, half a message and then silence),
 * ECONNRESET (the server closed mid-setup), EINVAL (bad argument), ENOMEM,
 * EMFILE.  Returns NULL on error; a failed setup keeps no descriptor.
 */
struct kipc_ivshmem *kipc_ivshmem_connect(const char *sock_path,
					  unsigned int vectors,
					  int timeout_ms);

/* kipc_ivshmem_close - leave (the server tells the others), unmap, free. */
void kipc_ivshmem_close(struct kipc_ivshmem *iv);

/* Own peer id, vectors per peer, shared memory (size bytes, mapped). */
unsigned int kipc_ivshmem_id(const struct kipc_ivshmem *iv);
unsigned int kipc_ivshmem_vectors(const struct kipc_ivshmem *iv);
size_t kipc_ivshmem_size(const struct kipc_ivshmem *iv);
void *kipc_ivshmem_mem(const struct kipc_ivshmem *iv);

/*
 * kipc_ivshmem_ring - ring PEER's doorbell VECTOR (write its eventfd).
 * Errors: ENOENT (no such peer now; call kipc_ivshmem_process() to catch
 * up with joins), EINVAL (vector out of range).
 */
int kipc_ivshmem_ring(struct kipc_ivshmem *iv, unsigned int peer,
		      unsigned int vector);

/*
 * kipc_ivshmem_wait - wait until own VECTOR was rung, at most TIMEOUT_MS
 * (-1 forever, 0 just check).  Stores the number of rings since the last
 * wait (eventfd semantics: rings add up, none is lost) in *COUNT if COUNT
 * is not NULL.  Peer messages from the server are processed meanwhile.
 * Errors: ETIMEDOUT, EAGAIN (timeout 0 and nothing), EINTR, EINVAL,
 * EPROTO (the server broke the protocol).  The server going away is not
 * an error here: the wait goes on (doorbells keep working) and the next
 * kipc_ivshmem_process() reports ECONNRESET.
 */
int kipc_ivshmem_wait(struct kipc_ivshmem *iv, unsigned int vector,
		      int timeout_ms, uint64_t *count);

/* The server socket (readable when a peer joined or left) and own eventfd. */
int kipc_ivshmem_fd(const struct kipc_ivshmem *iv);
int kipc_ivshmem_vector_fd(const struct kipc_ivshmem *iv,
			   unsigned int vector);

/* What kipc_ivshmem_process() saw. */
struct kipc_ivshmem_event {
	int joined;		/* 1 joined, 0 left */
	unsigned int peer;
};

/*
 * kipc_ivshmem_process - read what the server sent, without blocking;
 * applies it to the peer table.  Returns 1 and fills *EV (may be NULL)
 * for a peer that finished joining (all its vectors) or left, 0 when
 * nothing complete is pending.  Errors: ECONNRESET (server gone), EPROTO.
 */
int kipc_ivshmem_process(struct kipc_ivshmem *iv,
			 struct kipc_ivshmem_event *ev);

/*
 * kipc_ivshmem_peers - store up to MAX peer ids (other than own) in IDS,
 * ascending; returns how many peers there are (may exceed MAX).
 */
int kipc_ivshmem_peers(const struct kipc_ivshmem *iv, unsigned int *ids,
		       size_t max);

#ifdef __cplusplus
}
#endif

#endif /* KIPC_IVSHMEM_HOST_H */
