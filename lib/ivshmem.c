// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ivshmem.c - libkipc's ivshmem host peer (see <kipc/ivshmem.h>).
 *
 * The client side of QEMU's ivshmem server protocol: one little-endian
 * int64 per message, optionally with one SCM_RIGHTS descriptor.  Messages
 * are read one at a time (8 bytes per recvmsg) so each descriptor stays
 * with its message.  The peer table is a sorted array of peers, each with
 * up to KIPC_IVSHMEM_MAX_VECTORS eventfds.
 */
#include <kipc/ivshmem.h>

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct iv_peer {
	unsigned int id;
	unsigned int nfds;
	int fd[KIPC_IVSHMEM_MAX_VECTORS];
};

struct kipc_ivshmem {
	int sock;
	unsigned int id, vectors;
	int own[KIPC_IVSHMEM_MAX_VECTORS];
	unsigned int nown;
	void *mem;
	size_t size;
	struct iv_peer *peers;
	size_t npeers, cap;
	/* A message read but not yet applied (learning the vector count). */
	bool held;
	int64_t held_val;
	int held_fd;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * Read one message: 1 read (*val, *fd or -1), 0 nothing within TIMEOUT_MS
 * (errno ETIMEDOUT), -1 error (ECONNRESET on EOF).  On 0 and -1, *fd is -1:
 * a descriptor that came with part of a message is closed.
 */
static int recv_msg(int sock, int timeout_ms, int64_t *val, int *fd)
{
	uint64_t le;
	size_t got = 0;
	int err;

	*fd = -1;
	while (got < sizeof(le)) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * 4)];
			struct cmsghdr align;
		} u;
		struct iovec iov = { (char *)&le + got, sizeof(le) - got };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = u.buf,
				    .msg_controllen = sizeof(u.buf) };
		struct pollfd p = { .fd = sock, .events = POLLIN };
		struct cmsghdr *c;
		ssize_t n;
		int r;

		r = poll(&p, 1, got ? 1000 : timeout_ms);
		if (r < 0)
			goto fail;
		if (r == 0) {
			if (got) {
				errno = EPROTO;	/* half a message, then silence */
				goto fail;
			}
			errno = ETIMEDOUT;
			return 0;
		}
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0) {
			errno = ECONNRESET;
			goto fail;
		}
		for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			int *fds = (int *)CMSG_DATA(c);
			size_t i, k;

			if (c->cmsg_level != SOL_SOCKET ||
			    c->cmsg_type != SCM_RIGHTS)
				continue;
			k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (i = 0; i < k; i++) {
				if (*fd < 0)
					*fd = fds[i];
				else
					close(fds[i]);	/* one per message */
			}
		}
		got += n;
	}
	*val = (int64_t)le64toh(le);
	return 1;
fail:
	err = errno;
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	errno = err;
	return -1;
}

/* A peer id as the protocol allows it: 0..65535. */
static bool valid_id(int64_t val)
{
	return val >= 0 && val < KIPC_IVSHMEM_MAX_PEERS;
}

static struct iv_peer *find_peer(const struct kipc_ivshmem *iv,
				 unsigned int id)
{
	size_t lo = 0, hi = iv->npeers;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (iv->peers[mid].id == id)
			return &iv->peers[mid];
		if (iv->peers[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static struct iv_peer *add_peer(struct kipc_ivshmem *iv, unsigned int id)
{
	size_t i;

	if (iv->npeers == iv->cap) {
		size_t cap = iv->cap ? iv->cap * 2 : 8;
		struct iv_peer *n = realloc(iv->peers, cap * sizeof(*n));

		if (!n)
			return NULL;
		iv->peers = n;
		iv->cap = cap;
	}
	for (i = iv->npeers; i > 0 && iv->peers[i - 1].id > id; i--)
		iv->peers[i] = iv->peers[i - 1];
	memset(&iv->peers[i], 0, sizeof(iv->peers[i]));
	iv->peers[i].id = id;
	iv->npeers++;
	return &iv->peers[i];
}

static void del_peer(struct kipc_ivshmem *iv, struct iv_peer *p)
{
	size_t i = p - iv->peers;
	unsigned int v;

	for (v = 0; v < p->nfds; v++)
		close(p->fd[v]);
	memmove(p, p + 1, (iv->npeers - i - 1) * sizeof(*p));
	iv->npeers--;
}

/*
 * Apply one message after setup: 1 and *EV for a completed join or a
 * leave, 0 otherwise, -1 on a protocol error (EPROTO).
 */
static int apply(struct kipc_ivshmem *iv, int64_t val, int fd,
		 struct kipc_ivshmem_event *ev)
{
	struct iv_peer *p;

	if (!valid_id(val) || val == iv->id) {
		if (fd >= 0)
			close(fd);
		errno = EPROTO;
		return -1;
	}
	p = find_peer(iv, val);
	if (fd < 0) {
		if (!p)
			return 0;	/* left before it finished joining */
		del_peer(iv, p);
		if (ev)
			*ev = (struct kipc_ivshmem_event){ 0, (unsigned int)val };
		return 1;
	}
	if (!p) {
		p = add_peer(iv, val);
		if (!p) {
			close(fd);
			return -1;
		}
	}
	if (p->nfds >= iv->vectors) {
		close(fd);
		errno = EPROTO;
		return -1;
	}
	p->fd[p->nfds++] = fd;
	if (p->nfds < iv->vectors)
		return 0;
	if (ev)
		*ev = (struct kipc_ivshmem_event){ 1, (unsigned int)val };
	return 1;
}

void kipc_ivshmem_close(struct kipc_ivshmem *iv)
{
	unsigned int v;

	if (!iv)
		return;
	while (iv->npeers)
		del_peer(iv, &iv->peers[iv->npeers - 1]);
	free(iv->peers);
	for (v = 0; v < iv->nown; v++)
		close(iv->own[v]);
	if (iv->held && iv->held_fd >= 0)
		close(iv->held_fd);
	if (iv->mem)
		munmap(iv->mem, iv->size);
	if (iv->sock >= 0)
		close(iv->sock);
	free(iv);
}

struct kipc_ivshmem *kipc_ivshmem_connect(const char *sock_path,
					  unsigned int vectors,
					  int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	struct kipc_ivshmem *iv;
	struct stat st;
	int64_t val;
	int fd = -1, r, err, step = 0;

	if (!sock_path || strlen(sock_path) >= sizeof(sa.sun_path) ||
	    vectors > KIPC_IVSHMEM_MAX_VECTORS || timeout_ms < -1) {
		errno = EINVAL;
		return NULL;
	}
	iv = calloc(1, sizeof(*iv));
	if (!iv)
		return NULL;
	iv->vectors = vectors;
	iv->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (iv->sock < 0)
		goto fail;
	strcpy(sa.sun_path, sock_path);
	if (connect(iv->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;

	/* version, own id, -1 + shm, peers' fds, own fds */
	for (;;) {
		int left = -1;

		if (deadline >= 0) {
			left = deadline - now_ms();
			if (left < 0)
				left = 0;
		}
		/* Learning the vector count: quiet for 50 ms = done. */
		if (!vectors && iv->nown && (left < 0 || left > 50))
			left = 50;
		r = recv_msg(iv->sock, left, &val, &fd);
		if (r < 0)
			goto fail;
		if (r == 0) {
			if (!vectors && iv->nown) {
				iv->vectors = iv->nown;
				break;
			}
			goto fail;	/* ETIMEDOUT */
		}
		/*
		 * Every value is range-checked before it is used; on every
		 * error path below, fd (if any) is still ours to close.
		 */
		if (step == 0) {
			if (val != KIPC_IVSHMEM_PROTOCOL_VERSION || fd >= 0)
				goto proto;
			step = 1;
		} else if (step == 1) {
			if (!valid_id(val) || fd >= 0)
				goto proto;
			iv->id = val;
			step = 2;
		} else if (step == 2) {
			if (val != -1 || fd < 0)
				goto proto;
			if (fstat(fd, &st) < 0 || st.st_size <= 0)
				goto proto;
			iv->size = st.st_size;
			iv->mem = mmap(NULL, iv->size, PROT_READ | PROT_WRITE,
				       MAP_SHARED, fd, 0);
			close(fd);
			fd = -1;
			if (iv->mem == MAP_FAILED) {
				iv->mem = NULL;
				goto fail;
			}
			step = 3;
		} else if (!valid_id(val)) {
			goto proto;
		} else if (val == iv->id && fd >= 0) {
			if (iv->nown == KIPC_IVSHMEM_MAX_VECTORS ||
			    (vectors && iv->nown == vectors))
				goto proto;
			iv->own[iv->nown++] = fd;
			fd = -1;
			if (vectors && iv->nown == vectors)
				break;
		} else if (iv->nown && !vectors) {
			/* the first message after setup: keep it */
			iv->held = true;
			iv->held_val = val;
			iv->held_fd = fd;
			fd = -1;
			iv->vectors = iv->nown;
			break;
		} else {
			/*
			 * Another peer's fds (the vector count is not known
			 * yet when learning: allow the maximum for now).
			 */
			unsigned int keep = iv->vectors;

			if (!vectors)
				iv->vectors = KIPC_IVSHMEM_MAX_VECTORS;
			r = apply(iv, val, fd, NULL);	/* takes fd */
			fd = -1;
			iv->vectors = keep;
			if (r < 0)
				goto fail;
		}
	}
	/* Every peer must have exactly the vector count. */
	for (size_t i = 0; i < iv->npeers; i++)
		if (iv->peers[i].nfds > iv->vectors)
			goto proto;
	return iv;
proto:
	errno = EPROTO;
fail:
	err = errno;
	if (fd >= 0)
		close(fd);
	kipc_ivshmem_close(iv);
	errno = err;
	return NULL;
}

unsigned int kipc_ivshmem_id(const struct kipc_ivshmem *iv)
{
	return iv->id;
}

unsigned int kipc_ivshmem_vectors(const struct kipc_ivshmem *iv)
{
	return iv->vectors;
}

size_t kipc_ivshmem_size(const struct kipc_ivshmem *iv)
{
	return iv->size;
}

void *kipc_ivshmem_mem(const struct kipc_ivshmem *iv)
{
	return iv->mem;
}

int kipc_ivshmem_fd(const struct kipc_ivshmem *iv)
{
	return iv->sock;
}

int kipc_ivshmem_vector_fd(const struct kipc_ivshmem *iv,
			   unsigned int vector)
{
	if (vector >= iv->nown) {
		errno = EINVAL;
		return -1;
	}
	return iv->own[vector];
}

int kipc_ivshmem_process(struct kipc_ivshmem *iv,
			 struct kipc_ivshmem_event *ev)
{
	int64_t val;
	int fd, r;

	for (;;) {
		if (iv->held) {
			iv->held = false;
			val = iv->held_val;
			fd = iv->held_fd;
		} else {
			if (iv->sock < 0) {
				errno = ECONNRESET;
				return -1;
			}
			r = recv_msg(iv->sock, 0, &val, &fd);
			if (r == 0)
				return 0;
			if (r < 0) {
				if (errno == ECONNRESET) {
					close(iv->sock);
					iv->sock = -1;
				}
				return -1;
			}
		}
		r = apply(iv, val, fd, ev);
		if (r != 0)
			return r;
	}
}

int kipc_ivshmem_ring(struct kipc_ivshmem *iv, unsigned int peer,
		      unsigned int vector)
{
	static const uint64_t one = 1;
	struct iv_peer *p;
	int *fd;

	if (vector >= iv->vectors) {
		errno = EINVAL;
		return -1;
	}
	if (peer == iv->id) {
		fd = &iv->own[vector];
	} else {
		p = find_peer(iv, peer);
		if (!p || vector >= p->nfds) {
			errno = ENOENT;
			return -1;
		}
		fd = &p->fd[vector];
	}
	/* A full counter (2^64 - 2 unread rings) cannot block: EAGAIN. */
	if (write(*fd, &one, sizeof(one)) != sizeof(one))
		return errno == EAGAIN ? 0 : -1;
	return 0;
}

int kipc_ivshmem_wait(struct kipc_ivshmem *iv, unsigned int vector,
		      int timeout_ms, uint64_t *count)
{
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	struct pollfd p[2];
	uint64_t v;

	if (vector >= iv->nown || timeout_ms < -1) {
		errno = EINVAL;
		return -1;
	}
	for (;;) {
		int left = -1, n = 1, r;

		if (deadline >= 0) {
			left = deadline - now_ms();
			if (left < 0)
				left = 0;
		}
		p[0] = (struct pollfd){ .fd = iv->own[vector], .events = POLLIN };
		if (iv->sock >= 0) {
			p[1] = (struct pollfd){ .fd = iv->sock, .events = POLLIN };
			n = 2;
		}
		r = poll(p, n, left);
		if (r < 0)
			return -1;
		if (p[0].revents & POLLIN) {
			/* The eventfd may be blocking (QEMU's are not). */
			int fl = fcntl(iv->own[vector], F_GETFL);

			if (!(fl & O_NONBLOCK))
				fcntl(iv->own[vector], F_SETFL, fl | O_NONBLOCK);
			if (read(iv->own[vector], &v, sizeof(v)) == sizeof(v)) {
				if (count)
					*count = v;
				return 0;
			}
			if (errno != EAGAIN)
				return -1;
		}
		if (n == 2 && p[1].revents) {
			while ((r = kipc_ivshmem_process(iv, NULL)) > 0)
				;
			if (r < 0 && errno == EPROTO)
				return -1;
		}
		if (r == 0 && left == 0) {
			errno = timeout_ms == 0 ? EAGAIN : ETIMEDOUT;
			return -1;
		}
		if (deadline >= 0 && now_ms() >= deadline) {
			errno = timeout_ms == 0 ? EAGAIN : ETIMEDOUT;
			return -1;
		}
	}
}

int kipc_ivshmem_peers(const struct kipc_ivshmem *iv, unsigned int *ids,
		       size_t max)
{
	size_t i;

	for (i = 0; i < iv->npeers && i < max; i++)
		ids[i] = iv->peers[i].id;
	return iv->npeers;
}
