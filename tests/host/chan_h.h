/* SPDX-License-Identifier: GPL-2.0 */
/*
 * chan_h.h - helpers of the host-side channel tests (tests/host/chan_*.c):
 * numbered, self-checking messages and a watchdog.
 */
#ifndef KIPC_TEST_CHAN_H
#define KIPC_TEST_CHAN_H

/*
 * A heartbeat's judgement takes its bound (2 s) plus up to two wait slices
 * (docs/chan.md: 2.4 s); the assertions allow a loaded CI machine
 * (sanitizers) a margin and still tell it from a time-out (10 s).
 */
#define HB_SLACK_MS 8000

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A test message: this header, then LEN - 16 bytes derived from it. */
struct tmsg {
	uint32_t sender;
	uint32_t len;
	uint64_t seq;
};

static inline unsigned char tm_byte(uint32_t sender, uint64_t seq, size_t i)
{
	return (unsigned char)(seq * 31u + sender * 7u + i * 13u);
}

/* Length of message SEQ of SENDER in a channel of SLOT bytes (16..SLOT). */
static inline uint32_t tm_len(uint32_t sender, uint64_t seq, uint32_t slot)
{
	uint64_t x = (seq + 1) * 0x9e3779b97f4a7c15ull ^ sender;

	return 16 + (uint32_t)((x >> 33) % (slot - 16 + 1));
}

static inline void tm_fill(void *buf, uint32_t sender, uint64_t seq,
			   uint32_t len)
{
	struct tmsg h = { .sender = sender, .len = len, .seq = seq };
	unsigned char *p = buf;

	memcpy(p, &h, sizeof(h));
	for (size_t i = sizeof(h); i < len; i++)
		p[i] = tm_byte(sender, seq, i);
}

/* Is BUF (N bytes) an intact message?  Fills *H. */
static inline int tm_check(const void *buf, size_t n, struct tmsg *h)
{
	const unsigned char *p = buf;

	if (n < sizeof(*h))
		return 0;
	memcpy(h, p, sizeof(*h));
	if (h->len != n)
		return 0;
	for (size_t i = sizeof(*h); i < n; i++)
		if (p[i] != tm_byte(h->sender, h->seq, i))
			return 0;
	return 1;
}

/* N bytes aligned to a page (aligned_alloc wants a multiple of it). */
static inline void *tc_page_alloc(size_t n)
{
	return aligned_alloc(4096, (n + 4095) & ~(size_t)4095);
}

static inline void tc_watchdog_fire(int sig)
{
	static const char msg[] = "not ok - watchdog: a test hung (lost wake-up?)\n";

	(void)sig;
	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(3);
	_exit(3);
}

/* Kill the whole test after SECONDS (a hang is a failure, not a wait). */
static inline void tc_watchdog(unsigned int seconds)
{
	signal(SIGALRM, tc_watchdog_fire);
	alarm(seconds);
}

/* Unsigned number from the environment, or DEF. */
static inline unsigned long tc_env(const char *name, unsigned long def)
{
	const char *e = getenv(name);
	char *end;
	unsigned long v;

	if (!e || !*e)
		return def;
	v = strtoul(e, &end, 10);
	return *end ? def : v;
}

#endif
