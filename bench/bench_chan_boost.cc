// SPDX-License-Identifier: GPL-2.0
/*
 * bench_chan_boost - Boost.Interprocess message_queue beside libkipc's
 * channels (area "chan", mechanism boost-mq; issue 27): the rows of
 * bench_chan that a C program cannot measure, between two processes.
 *   pingpong  ns per 64 B round trip through two queues of 64 messages
 *   stream    messages/s received, a child sending as fast as it can:
 *             64 B (a queue of 1000 messages) and 64 KiB (64 messages)
 * The queues live in POSIX shared memory (/dev/shm), created before the
 * fork() and removed after each group.  Header-only Boost (libboost-dev).
 */
#include <boost/interprocess/ipc/message_queue.hpp>

#include <memory>

#include "bench.h"

namespace bip = boost::interprocess;

enum { SMALL = 64, BIG = 64 * 1024 };

static char buf[BIG], src[BIG];

struct mq_pair {
	std::string to_child, to_parent;
	std::unique_ptr<bip::message_queue> tx, rx;	/* the parent's ends */
	size_t size;
	bool stream;	/* one queue, child -> parent */
};

static std::string mq_name(const char *what)
{
	return "kipc-bench-" + std::string(what) + "-" + std::to_string(getpid());
}

static void serve(void *arg, int ready)
{
	mq_pair *p = static_cast<mq_pair *>(arg);

	try {
		bip::message_queue from(bip::open_only, p->to_child.c_str());
		bip::message_queue to(bip::open_only, p->to_parent.c_str());

		if (write(ready, "r", 1) != 1)
			_exit(1);
		for (;;) {
			size_t got;
			unsigned int prio;

			if (!p->stream) {
				from.receive(buf, sizeof(buf), got, prio);
				to.send(buf, got, 0);
			} else {
				to.send(src, p->size, 0);
			}
		}
	} catch (...) {
	}
	_exit(1);
}

static int loop(void *arg, long iters)
{
	mq_pair *p = static_cast<mq_pair *>(arg);

	try {
		for (long i = 0; i < iters; i++) {
			size_t got;
			unsigned int prio;

			if (!p->stream)
				p->tx->send(src, SMALL, 0);
			p->rx->receive(buf, sizeof(buf), got, prio);
			if (got != p->size) {
				errno = EPROTO;
				return -1;
			}
		}
	} catch (const bip::interprocess_exception &e) {
		bench_note("boost-mq: %s", e.what());
		errno = EIO;
		return -1;
	}
	return 0;
}

/* One group: ping-pong (STREAM false) or a stream of SIZE-byte messages. */
static void group(const char *bench, bool stream, size_t size)
{
	mq_pair p;
	struct bench_case bc;
	size_t depth = stream ? (size > SMALL ? 64 : 1000) : 64;
	pid_t pid;

	p.to_child = mq_name("c");
	p.to_parent = mq_name("p");
	p.size = size;
	p.stream = stream;
	bip::message_queue::remove(p.to_child.c_str());
	bip::message_queue::remove(p.to_parent.c_str());
	try {
		p.tx.reset(new bip::message_queue(bip::create_only,
						  p.to_child.c_str(), 64, SMALL));
		p.rx.reset(new bip::message_queue(bip::create_only,
						  p.to_parent.c_str(), depth,
						  size));
	} catch (const bip::interprocess_exception &e) {
		bench_skip("chan", bench, "boost-mq", "message_queue: %s",
			   e.what());
		return;
	}
	pid = bench_spawn(serve, &p);
	memset(&bc, 0, sizeof(bc));
	bc.mech = "boost-mq";
	bc.fn = loop;
	bc.ctx = &p;
	if (stream)
		bc.rate = 1e9;	/* messages per second */
	snprintf(bc.param, sizeof(bc.param), "%zu", size);
	if (pid < 0)
		bench_skip("chan", bench, "boost-mq", "the peer did not start");
	else
		bench_group("chan", bench, stream ? "msg/s" : "ns", &bc, 1,
			    stream ? 16 : 1);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	p.tx.reset();
	p.rx.reset();
	bip::message_queue::remove(p.to_child.c_str());
	bip::message_queue::remove(p.to_parent.c_str());
}

int main(int argc, char **argv)
{
	bench_options(argc, argv,
		      "Usage: bench_chan_boost [OPTIONS]\n"
		      "Boost.Interprocess message_queue beside kipc channels (area chan).");
	memset(src, 0x5a, sizeof(src));
	group("pingpong", false, SMALL);
	group("stream", true, SMALL);
	group("stream", true, BIG);
	return 0;
}
