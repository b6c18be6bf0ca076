// SPDX-License-Identifier: GPL-2.0
/* kt_slot_model.c - a model of message slots; see kt_slot_model.h. */
#include "kt_slot_model.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

struct kt_model_chan {
	unsigned int minor;
	uint32_t id;
	int len;		/* 1..MSG_SLOT_MAX_MSG_LEN */
	bool known;		/* @data holds the bytes */
	uint64_t seq;
	unsigned char data[MSG_SLOT_MAX_MSG_LEN];
};

/* Channels in a growing array: the tests hold a few thousand at most. */
struct kt_model {
	struct kt_model_chan *chans;
	size_t n, cap;
};

static char kt_model_why[256];

struct kt_model *kt_model_new(void)
{
	return calloc(1, sizeof(struct kt_model));
}

void kt_model_free(struct kt_model *m)
{
	if (m)
		free(m->chans);
	free(m);
}

void kt_model_open(struct kt_model_file *f, unsigned int minor, bool nonblock)
{
	*f = (struct kt_model_file){ .minor = minor, .nonblock = nonblock };
}

static struct kt_model_chan *kt_model_find(struct kt_model *m,
					   unsigned int minor, uint32_t id)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->chans[i].minor == minor && m->chans[i].id == id)
			return &m->chans[i];
	return NULL;
}

static struct kt_model_chan *kt_model_add(struct kt_model *m,
					  unsigned int minor, uint32_t id)
{
	struct kt_model_chan *c;

	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 64;
		m->chans = realloc(m->chans, m->cap * sizeof(*m->chans));
		if (!m->chans)
			abort();
	}
	c = &m->chans[m->n++];
	*c = (struct kt_model_chan){ .minor = minor, .id = id };
	return c;
}

int kt_model_ioctl(struct kt_model_file *f, unsigned int cmd, unsigned long arg)
{
	uint32_t val = (uint32_t)arg;

	switch (cmd) {
	case MSG_SLOT_CHANNEL:
	case MSG_SLOT_CHANNEL_LONG:
	case MSG_SLOT_SET_CEN:
	case MSG_SLOT_SET_CEN_LONG:
	case MSG_SLOT_SET_BLOCKING:
	case MSG_SLOT_SET_BLOCKING_LONG:
		break;
	default:
		return -EINVAL;
	}
	if (_IOC_SIZE(cmd) == 8 && arg > 0xffffffffUL)
		return -EINVAL;
	if (_IOC_NR(cmd) == _IOC_NR(MSG_SLOT_CHANNEL)) {
		if (!val)
			return -EINVAL;
		if (f->channel != val) {
			f->channel = val;
			f->last_seq = 0;
		}
		return 0;
	}
	if (val > 1)
		return -EINVAL;
	if (_IOC_NR(cmd) == _IOC_NR(MSG_SLOT_SET_CEN))
		f->censor = val;
	else
		f->blocking = val;
	return 0;
}

/* NULL if RET/ERR is WANT (a length, or a -errno). */
static const char *kt_model_is(const char *call, long want, long ret, int err)
{
	if (want >= 0 ? ret == want : ret == -1 && err == -want)
		return NULL;
	snprintf(kt_model_why, sizeof(kt_model_why), "%s returned %ld (%s), the model says %ld (%s)",
		 call, ret, ret == -1 ? strerror(err) : "no error", want,
		 want < 0 ? strerror((int)-want) : "success");
	return kt_model_why;
}

const char *kt_model_write(struct kt_model *m, struct kt_model_file *f,
			   const void *buf, size_t len, long avail, long ret,
			   int err)
{
	const unsigned char *b = buf;
	struct kt_model_chan *c;
	const char *why;
	size_t i;

	if (!f->channel)
		return kt_model_is("write (no channel)", -EINVAL, ret, err);
	if (len == 0 || len > MSG_SLOT_MAX_MSG_LEN)
		return kt_model_is("write (length)", -EMSGSIZE, ret, err);
	if (avail == KT_MODEL_UNKNOWN && ret == -1 && err == EFAULT)
		return NULL;
	if (avail != KT_MODEL_UNKNOWN && (size_t)avail < len)
		return kt_model_is("write (bad buffer)", -EFAULT, ret, err);
	why = kt_model_is("write", (long)len, ret, err);
	if (why)
		return why;
	c = kt_model_find(m, f->minor, f->channel);
	if (!c)
		c = kt_model_add(m, f->minor, f->channel);
	c->len = (int)len;
	c->seq++;
	c->known = avail != KT_MODEL_UNKNOWN;
	if (c->known)
		for (i = 0; i < len; i++)
			c->data[i] = f->censor && i % 4 == 3 ? '#' : b[i];
	return NULL;
}

const char *kt_model_read(struct kt_model *m, struct kt_model_file *f,
			  const void *buf, size_t size, long avail, long ret,
			  int err)
{
	struct kt_model_chan *c;
	const char *why;

	if (!f->channel)
		return kt_model_is("read (no channel)", -EINVAL, ret, err);
	c = kt_model_find(m, f->minor, f->channel);
	if (f->blocking && (!c || c->seq <= f->last_seq))
		return kt_model_is("read (would wait)",
				   f->nonblock ? -EAGAIN : -EINTR, ret, err);
	if (!c)
		return kt_model_is("read (no message)", -EWOULDBLOCK, ret, err);
	if (size < (size_t)c->len)
		return kt_model_is("read (short buffer)", -ENOSPC, ret, err);
	if (avail == KT_MODEL_UNKNOWN && ret == -1 && err == EFAULT)
		return NULL;
	if (avail != KT_MODEL_UNKNOWN && avail < c->len)
		return kt_model_is("read (bad buffer)", -EFAULT, ret, err);
	why = kt_model_is("read", c->len, ret, err);
	if (why)
		return why;
	if (c->known && avail != KT_MODEL_UNKNOWN && memcmp(buf, c->data, c->len)) {
		snprintf(kt_model_why, sizeof(kt_model_why),
			 "read returned other bytes than channel %u holds",
			 c->id);
		return kt_model_why;
	}
	f->last_seq = c->seq;
	return NULL;
}

short kt_model_poll(struct kt_model *m, const struct kt_model_file *f)
{
	struct kt_model_chan *c = f->channel ? kt_model_find(m, f->minor, f->channel) :
					  NULL;

	return POLLOUT | (c && c->seq > f->last_seq ? POLLIN : 0);
}

void kt_model_stats(struct kt_model *m, unsigned int minor,
		    unsigned long *channels, unsigned long *bytes)
{
	size_t i;

	*channels = *bytes = 0;
	for (i = 0; i < m->n; i++) {
		if (m->chans[i].minor != minor)
			continue;
		(*channels)++;
		*bytes += m->chans[i].len;
	}
}
