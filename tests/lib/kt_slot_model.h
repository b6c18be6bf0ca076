/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kt_slot_model.h - a model of message slots (docs/message_slot.md) for tests
 * that check every result against it: message_slot/model and fuzz/kipc.
 *
 * The model keeps what the module keeps: per minor, each channel's last message
 * (length, bytes, sequence number); per open file, its channel, censorship,
 * blocking mode, O_NONBLOCK and the sequence number of the last message it
 * read.  Given the arguments of a call and what the call returned,
 * kt_model_read()/kt_model_write()/kt_model_ioctl() say whether that result is
 * the one the module must give, and if it succeeded, update the model. Only the
 * driver's part is modelled: VFS checks before it (EBADF for the wrong open
 * mode, access_ok(), a negative pread position) are the caller's.
 */
#ifndef KT_SLOT_MODEL_H
#define KT_SLOT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kipc/message_slot.h>

/* "How many bytes at the buffer are accessible" is not known. */
#define KT_MODEL_UNKNOWN	(-1L)

struct kt_model;	/* every minor's channels */

/**
 * struct kt_model_file - the model of one open file
 * @minor:    the file's minor
 * @channel:  selected channel id, 0 if none
 * @censor:   censorship on
 * @blocking: blocking reads on (MSG_SLOT_SET_BLOCKING 1)
 * @nonblock: opened with O_NONBLOCK
 * @last_seq: sequence number of the last message read on @channel
 */
struct kt_model_file {
	unsigned int minor;
	uint32_t channel;
	bool censor;
	bool blocking;
	bool nonblock;
	uint64_t last_seq;
};

/* A model of freshly loaded slots (no channel anywhere); kt_model_free() it. */
struct kt_model *kt_model_new(void);
void kt_model_free(struct kt_model *m);

/* F is a new open file of MINOR (O_NONBLOCK if NONBLOCK). */
void kt_model_open(struct kt_model_file *f, unsigned int minor, bool nonblock);

/*
 * The result ioctl(F, CMD, ARG) must have: 0, or -EINVAL (unknown CMD,
 * channel 0, a _LONG argument above 32 bits, a flag above 1); a success
 * is applied to F.
 */
int kt_model_ioctl(struct kt_model_file *f, unsigned int cmd,
		   unsigned long arg);

/*
 * write(F, BUF, LEN) returned RET (errno ERR when RET is -1), where AVAIL
 * bytes at BUF were readable (KT_MODEL_UNKNOWN: not known; then EFAULT and
 * success are both accepted, and a success stores bytes the model does not
 * know).  NULL if that is the module's result (the model is updated), else
 * a description of the mismatch in a static buffer.
 */
const char *kt_model_write(struct kt_model *m, struct kt_model_file *f,
			   const void *buf, size_t len, long avail, long ret,
			   int err);

/*
 * read(F, BUF, SIZE) returned RET/ERR, where AVAIL bytes at BUF were
 * writable (or KT_MODEL_UNKNOWN).  A read that would wait (blocking mode, no
 * newer message, no O_NONBLOCK) must end with EINTR: the caller interrupts
 * it with a signal (no SA_RESTART).  NULL or a mismatch, as kt_model_write().
 */
const char *kt_model_read(struct kt_model *m, struct kt_model_file *f,
			  const void *buf, size_t size, long avail, long ret,
			  int err);

/* The poll(2) events F must report: POLLOUT, and POLLIN for a newer message. */
short kt_model_poll(struct kt_model *m, const struct kt_model_file *f);

/* Channels holding a message and their bytes in all, on MINOR. */
void kt_model_stats(struct kt_model *m, unsigned int minor,
		    unsigned long *channels, unsigned long *bytes);

#endif /* KT_SLOT_MODEL_H */
