// SPDX-License-Identifier: GPL-2.0
/* ms_model.c - a model of message slots; see ms_model.h. */
#include "ms_model.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

struct msm_chan {
	unsigned int minor;
	uint32_t id;
	int len;		/* 1..MSG_SLOT_MAX_MSG_LEN */
	bool known;		/* @data holds the bytes */
	uint64_t seq;
	unsigned char data[MSG_SLOT_MAX_MSG_LEN];
};

/* Channels in a growing array: the tests hold a few thousand at most. */
struct msm {
	struct msm_chan *chans;
	size_t n, cap;
};

static char msm_why[256];

struct msm *msm_new(void)
{
	return calloc(1, sizeof(struct msm));
}

void msm_free(struct msm *m)
{
	if (m)
		free(m->chans);
	free(m);
}

void msm_open(struct msm_file *f, unsigned int minor, bool nonblock)
{
	*f = (struct msm_file){ .minor = minor, .nonblock = nonblock };
}

static struct msm_chan *msm_find(struct msm *m, unsigned int minor,
				 uint32_t id)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->chans[i].minor == minor && m->chans[i].id == id)
			return &m->chans[i];
	return NULL;
}

static struct msm_chan *msm_add(struct msm *m, unsigned int minor,
				uint32_t id)
{
	struct msm_chan *c;

	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 64;
		m->chans = realloc(m->chans, m->cap * sizeof(*m->chans));
		if (!m->chans)
			abort();
	}
	c = &m->chans[m->n++];
	*c = (struct msm_chan){ .minor = minor, .id = id };
	return c;
}

int msm_ioctl(struct msm_file *f, unsigned int cmd, unsigned long arg)
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
static const char *msm_is(const char *call, long want, long ret, int err)
{
	if (want >= 0 ? ret == want : ret == -1 && err == -want)
		return NULL;
	snprintf(msm_why, sizeof(msm_why), "%s returned %ld (%s), the model says %ld (%s)",
		 call, ret, ret == -1 ? strerror(err) : "no error", want,
		 want < 0 ? strerror((int)-want) : "success");
	return msm_why;
}

const char *msm_write(struct msm *m, struct msm_file *f, const void *buf,
		      size_t len, long avail, long ret, int err)
{
	const unsigned char *b = buf;
	struct msm_chan *c;
	const char *why;
	size_t i;

	if (!f->channel)
		return msm_is("write (no channel)", -EINVAL, ret, err);
	if (len == 0 || len > MSG_SLOT_MAX_MSG_LEN)
		return msm_is("write (length)", -EMSGSIZE, ret, err);
	if (avail == MSM_UNKNOWN && ret == -1 && err == EFAULT)
		return NULL;
	if (avail != MSM_UNKNOWN && (size_t)avail < len)
		return msm_is("write (bad buffer)", -EFAULT, ret, err);
	why = msm_is("write", (long)len, ret, err);
	if (why)
		return why;
	c = msm_find(m, f->minor, f->channel);
	if (!c)
		c = msm_add(m, f->minor, f->channel);
	c->len = (int)len;
	c->seq++;
	c->known = avail != MSM_UNKNOWN;
	if (c->known)
		for (i = 0; i < len; i++)
			c->data[i] = f->censor && i % 4 == 3 ? '#' : b[i];
	return NULL;
}

const char *msm_read(struct msm *m, struct msm_file *f, const void *buf,
		     size_t size, long avail, long ret, int err)
{
	struct msm_chan *c;
	const char *why;

	if (!f->channel)
		return msm_is("read (no channel)", -EINVAL, ret, err);
	c = msm_find(m, f->minor, f->channel);
	if (f->blocking && (!c || c->seq <= f->last_seq))
		return msm_is("read (would wait)",
			      f->nonblock ? -EAGAIN : -EINTR, ret, err);
	if (!c)
		return msm_is("read (no message)", -EWOULDBLOCK, ret, err);
	if (size < (size_t)c->len)
		return msm_is("read (short buffer)", -ENOSPC, ret, err);
	if (avail == MSM_UNKNOWN && ret == -1 && err == EFAULT)
		return NULL;
	if (avail != MSM_UNKNOWN && avail < c->len)
		return msm_is("read (bad buffer)", -EFAULT, ret, err);
	why = msm_is("read", c->len, ret, err);
	if (why)
		return why;
	if (c->known && avail != MSM_UNKNOWN && memcmp(buf, c->data, c->len)) {
		snprintf(msm_why, sizeof(msm_why),
			 "read returned other bytes than channel %u holds",
			 c->id);
		return msm_why;
	}
	f->last_seq = c->seq;
	return NULL;
}

short msm_poll(struct msm *m, const struct msm_file *f)
{
	struct msm_chan *c = f->channel ? msm_find(m, f->minor, f->channel) :
					  NULL;

	return POLLOUT | (c && c->seq > f->last_seq ? POLLIN : 0);
}

void msm_stats(struct msm *m, unsigned int minor, unsigned long *channels,
	       unsigned long *bytes)
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
