/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ms_model.h - a model of message slots (docs/message_slot.md) for tests
 * that check every result against it: message_slot/model and fuzz/kipc.
 *
 * The model keeps what the module keeps: per minor, each channel's last
 * message (length, bytes, sequence number); per open file, its channel,
 * censorship, blocking mode, O_NONBLOCK and the sequence number of the
 * last message it read.  Given the arguments of a call and what the call
 * returned, msm_read()/msm_write()/msm_ioctl() say whether that result is
 * the one the module must give, and if it succeeded, update the model.
 * Only the driver's part is modelled: VFS checks before it (EBADF for the
 * wrong open mode, access_ok(), a negative pread position) are the
 * caller's.
 */
#ifndef KT_MS_MODEL_H
#define KT_MS_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kipc/message_slot.h>

/* "How many bytes at the buffer are accessible" is not known. */
#define MSM_UNKNOWN	(-1L)

struct msm;	/* every minor's channels */

/**
 * struct msm_file - the model of one open file
 * @minor:    the file's minor
 * @channel:  selected channel id, 0 if none
 * @censor:   censorship on
 * @blocking: blocking reads on (MSG_SLOT_SET_BLOCKING 1)
 * @nonblock: opened with O_NONBLOCK
 * @last_seq: sequence number of the last message read on @channel
 */
struct msm_file {
	unsigned int minor;
	uint32_t channel;
	bool censor;
	bool blocking;
	bool nonblock;
	uint64_t last_seq;
};

/* A model of freshly loaded slots (no channel anywhere); msm_free() it. */
struct msm *msm_new(void);
void msm_free(struct msm *m);

/* F is a new open file of MINOR (O_NONBLOCK if NONBLOCK). */
void msm_open(struct msm_file *f, unsigned int minor, bool nonblock);

/*
 * The result ioctl(F, CMD, ARG) must have: 0, or -EINVAL (unknown CMD,
 * channel 0, a _LONG argument above 32 bits, a flag above 1); a success
 * is applied to F.
 */
int msm_ioctl(struct msm_file *f, unsigned int cmd, unsigned long arg);

/*
 * write(F, BUF, LEN) returned RET (errno ERR when RET is -1), where AVAIL
 * bytes at BUF were readable (MSM_UNKNOWN: not known; then EFAULT and
 * success are both accepted, and a success stores bytes the model does not
 * know).  NULL if that is the module's result (the model is updated), else
 * a description of the mismatch in a static buffer.
 */
const char *msm_write(struct msm *m, struct msm_file *f, const void *buf,
		      size_t len, long avail, long ret, int err);

/*
 * read(F, BUF, SIZE) returned RET/ERR, where AVAIL bytes at BUF were
 * writable (or MSM_UNKNOWN).  A read that would wait (blocking mode, no
 * newer message, no O_NONBLOCK) must end with EINTR: the caller interrupts
 * it with a signal (no SA_RESTART).  NULL or a mismatch, as msm_write().
 */
const char *msm_read(struct msm *m, struct msm_file *f, const void *buf,
		     size_t size, long avail, long ret, int err);

/* The poll(2) events F must report: POLLOUT, and POLLIN for a newer message. */
short msm_poll(struct msm *m, const struct msm_file *f);

/* Channels holding a message and their bytes in all, on MINOR. */
void msm_stats(struct msm *m, unsigned int minor, unsigned long *channels,
	       unsigned long *bytes);

#endif /* KT_MS_MODEL_H */
