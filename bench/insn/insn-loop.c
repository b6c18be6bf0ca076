// SPDX-License-Identifier: GPL-2.0
/*
 * insn-loop - the guest side of bench/insn/run.sh: loops whose every
 * iteration is marked for bench/insn/insn-plugin.c, which counts the
 * instructions (kernel and user) each one executes.
 *
 * Usage: insn-loop [-n ITERS] [--help] [--version] SLOT_DEVICE
 * Experiments, in this order (numbered from 1 in the plugin's output):
 *   1 slot  128-byte write(2) + read(2) on one message-slot descriptor
 *   2 pipe  128-byte write(2) + read(2) through a pipe
 *   3 null  two getppid(2) calls: the bare cost of two system calls
 *   4 uring 32 write+read pairs on the slot in one io_uring_enter
 *           (registered file, as bench_msg's uring32)
 *   5 write 128-byte write(2) on a slot channel without a mapped view
 *   6 wview 128-byte write(2) on a slot channel with a mapped view
 *   7 read  128-byte read(2) of the slot channel
 *   8 view  the same message through the channel's view (libkipc's
 *           kipc_slot_view_read(), no system call)
 *   9 poll  poll(2) of the slot file with a zero timeout
 *  10 vchg  kipc_slot_view_changed(): "has the channel changed?"
 * Not a benchmark on its own: without the plugin the markers do nothing.
 */
#include <kipc/message_slot.h>
#include <kipc/slot_view.h>

#include <errno.h>
#include <liburing.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* xchg of a 16-bit register with itself: 66 87 /r, a no-op */
#define MARK(insn) __asm__ volatile(insn ::: "memory")
#define EXP_BEGIN() MARK(".byte 0x66, 0x87, 0xd2")
#define ITER_BEGIN() MARK(".byte 0x66, 0x87, 0xdb")
#define ITER_END() MARK(".byte 0x66, 0x87, 0xc9")
#define EXP_END() MARK(".byte 0x66, 0x87, 0xf6")

static unsigned char buf[128], back[128];

static int loop(int wfd, int rfd, long n)
{
	long i;

	EXP_BEGIN();
	for (i = 0; i < n; i++) {
		ITER_BEGIN();
		if (write(wfd, buf, sizeof(buf)) != sizeof(buf) ||
		    read(rfd, back, sizeof(back)) != sizeof(back)) {
			EXP_END();
			return -1;
		}
		ITER_END();
	}
	EXP_END();
	return 0;
}

/* One system call or library call per iteration, 128 bytes. */
enum one { ONE_WRITE, ONE_READ, ONE_VIEW, ONE_POLL, ONE_CHANGED };

static int loop_one(enum one what, int fd, const struct msg_slot_view *v,
		    long n)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t seq = v ? kipc_slot_view_seq(v) : 0;
	int bad = 0;
	long i;

	EXP_BEGIN();
	for (i = 0; i < n && !bad; i++) {
		ITER_BEGIN();
		switch (what) {
		case ONE_WRITE:
			bad = write(fd, buf, sizeof(buf)) != sizeof(buf);
			break;
		case ONE_READ:
			bad = read(fd, back, sizeof(back)) != sizeof(back);
			break;
		case ONE_VIEW:
			bad = kipc_slot_view_read(v, back, sizeof(back),
						  NULL) != sizeof(back);
			break;
		case ONE_POLL:
			bad = poll(&pfd, 1, 0) < 0;
			break;
		case ONE_CHANGED:
			bad = kipc_slot_view_changed(v, seq);
			break;
		}
		ITER_END();
	}
	EXP_END();
	return bad ? -1 : 0;
}

static void loop_null(long n)
{
	long i;

	EXP_BEGIN();
	for (i = 0; i < n; i++) {
		ITER_BEGIN();
		getppid();
		getppid();
		ITER_END();
	}
	EXP_END();
}

#define PAIRS 32

static int loop_uring(int fd, long n)
{
	static unsigned char rbuf[PAIRS][128];
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	struct io_uring ring;
	long i;
	int k;

	if (io_uring_queue_init(2 * PAIRS, &ring, IORING_SETUP_SINGLE_ISSUER |
				IORING_SETUP_COOP_TASKRUN) < 0 ||
	    io_uring_register_files(&ring, &fd, 1) < 0)
		return -1;
	EXP_BEGIN();
	for (i = 0; i < n; i++) {
		ITER_BEGIN();
		for (k = 0; k < PAIRS; k++) {
			sqe = io_uring_get_sqe(&ring);
			io_uring_prep_write(sqe, 0, buf, sizeof(buf), 0);
			sqe->flags |= IOSQE_FIXED_FILE;
			sqe = io_uring_get_sqe(&ring);
			io_uring_prep_read(sqe, 0, rbuf[k], 128, 0);
			sqe->flags |= IOSQE_FIXED_FILE;
		}
		if (io_uring_submit_and_wait(&ring, 2 * PAIRS) != 2 * PAIRS)
			break;
		for (k = 0; k < 2 * PAIRS; k++) {
			if (io_uring_peek_cqe(&ring, &cqe) || cqe->res != 128)
				break;
			io_uring_cqe_seen(&ring, cqe);
		}
		if (k != 2 * PAIRS)
			break;
		ITER_END();
	}
	EXP_END();
	io_uring_queue_exit(&ring);
	return i == n ? 0 : -1;
}

int main(int argc, char **argv)
{
	const struct msg_slot_view *view;
	int slot, slot2, p[2], i;
	long n = 2000;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--help")) {
			printf("Usage: %s [-n ITERS] SLOT_DEVICE\n"
			       "Marked loops for bench/insn/insn-plugin.c "
			       "(slot, pipe, null).\n", argv[0]);
			return 0;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("insn-loop %s\n", KIPC_VERSION);
			return 0;
		}
		if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			n = strtol(argv[++i], NULL, 0);
			continue;
		}
		fprintf(stderr, "%s: unknown option '%s'\n", argv[0], argv[i]);
		return 2;
	}
	if (i != argc - 1 || n <= 0) {
		fprintf(stderr, "Usage: %s [-n ITERS] SLOT_DEVICE\n", argv[0]);
		return 2;
	}
	memset(buf, 'x', sizeof(buf));
	slot = open(argv[i], O_RDWR);
	if (slot < 0 || ioctl(slot, MSG_SLOT_CHANNEL, 1) < 0) {
		fprintf(stderr, "%s: %s: %s\n", argv[0], argv[i],
			strerror(errno));
		return 1;
	}
	if (pipe(p) < 0) {
		perror("pipe");
		return 1;
	}
	/* a first round untimed: page faults, cold paths */
	if (write(slot, buf, sizeof(buf)) < 0 || read(slot, back, 128) < 0 ||
	    write(p[1], buf, sizeof(buf)) < 0 || read(p[0], back, 128) < 0) {
		perror("warm-up");
		return 1;
	}
	if (loop(slot, slot, n) || loop(p[1], p[0], n)) {
		perror("loop");
		return 1;
	}
	loop_null(n);
	if (loop_uring(slot, n / 8 ? n / 8 : 1)) {
		fprintf(stderr, "%s: io_uring loop failed\n", argv[0]);
		return 1;
	}
	/* channel 1 has no view; channel 2 gets one */
	view = kipc_slot_view_map(slot, 2);
	if (!view || ioctl(slot2 = open(argv[i], O_RDWR), MSG_SLOT_CHANNEL,
			   2) < 0 || write(slot2, buf, sizeof(buf)) < 0) {
		fprintf(stderr, "%s: view: %s\n", argv[0], strerror(errno));
		return 1;
	}
	if (loop_one(ONE_WRITE, slot, NULL, n) ||
	    loop_one(ONE_WRITE, slot2, NULL, n) ||
	    loop_one(ONE_READ, slot2, NULL, n) ||
	    loop_one(ONE_VIEW, slot2, view, n) ||
	    loop_one(ONE_POLL, slot2, NULL, n) ||
	    loop_one(ONE_CHANGED, slot2, view, n)) {
		perror("single-call loops");
		return 1;
	}
	return 0;
}
