// SPDX-License-Identifier: GPL-2.0
/*
 * kshm/stress - bounded-time stress of kshm.ko (issue 7): 4 processes in a
 * create/size/map/touch/close storm over 8 shared names, 2 killers that
 * fork holders (which open, size, map and keep touching objects) and
 * SIGKILL them at random moments, one process opening and closing
 * /dev/kshm with bad requests, and one trying to unload the module.
 *
 * Every object NAME has one size (1 to 4 pages by name); whoever sizes it
 * first wins (the others get EBUSY) and everyone must then see that size.
 * Storm worker I owns the word at byte I * 8 of page 0 of every object:
 * it stores a tagged counter through its mapping and must read it back.
 * Other words may hold only 0 or their owner's tag.  Any other errno than
 * the documented races, any wrong size or word, or a worker dying is a
 * defect.  At the end every object must be gone (/proc/kshm objects=0,
 * pages=0, processes=0) and the module must unload.
 *
 * Run time: KIPC_STRESS_SECONDS (default 12); see tests/lib/kt_stress.h.
 */
#include "lib/kt.h"
#include "lib/kt_kshm.h"
#include "lib/kt_stress.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kipc/kshm.h>
#include <kipc/kshm_ioctl.h>

#define PS	4096UL
#define NAMES	8
#define STORM	4

static void name_of(char *buf, size_t n, unsigned int i)
{
	snprintf(buf, n, "kipc stress %u", i);
}

static size_t size_of(unsigned int i)
{
	return (1 + i % 4) * PS - (i & 1 ? 100 : 0);
}

static size_t rounded(unsigned int i)
{
	return (size_of(i) + PS - 1) / PS * PS;
}

static void check_words(struct kt_stress *st, const volatile uint64_t *w)
{
	unsigned int j;

	for (j = 0; j < KT_STRESS_MAX_WORKERS; j++)
		if ((w[j] >> 56) && (w[j] >> 56) != j + 1)
			kt_stress_defect(st, "word %u tagged %llu", j,
					 (unsigned long long)(w[j] >> 56));
}

/* Open, size and map object I; NULL (after a defect if unexpected). */
static void *get(struct kt_stress *st, unsigned int i, int *fdp)
{
	char name[32];
	void *va;
	int fd, r;
	ssize_t sz;

	name_of(name, sizeof(name), i);
	fd = kshm_open(name);
	if (fd < 0) {
		/* a storm of 8 names stays below max_objects=64 */
		kt_stress_defect(st, "kshm_open(%s): %s", name,
				 strerror(errno));
		return NULL;
	}
	r = kshm_trunc(fd, size_of(i));
	if (r < 0 && errno != EBUSY)
		kt_stress_defect(st, "kshm_trunc: %s", strerror(errno));
	else if (r >= 0 && (size_t)r != rounded(i))
		kt_stress_defect(st, "kshm_trunc returned %d", r);
	sz = kshm_size(fd);
	if (sz != (ssize_t)rounded(i))
		kt_stress_defect(st, "%s: size %zd, want %zu", name, sz,
				 rounded(i));
	if (kshm_map(fd, &va, O_RDWR)) {
		kt_stress_defect(st, "kshm_map: %s", strerror(errno));
		kshm_close(fd);
		return NULL;
	}
	*fdp = fd;
	return va;
}

static void storm(struct kt_stress *st, int idx, void *arg)
{
	unsigned long long rnd = 0xfeedULL + idx;
	uint64_t ctr = 0;

	(void)arg;
	while (!st->stop) {
		unsigned int i = kt_rand(&rnd) % NAMES;
		volatile uint64_t *w;
		uint64_t v;
		int fd;

		w = get(st, i, &fd);
		if (!w)
			continue;
		check_words(st, w);
		v = ((uint64_t)(idx + 1) << 56) | ++ctr;
		w[idx] = v;
		if (w[idx] != v)
			kt_stress_defect(st, "word does not read back");
		((volatile char *)w)[rounded(i) - 1] = (char)v;	/* last byte */
		if (kshm_close(fd))
			kt_stress_defect(st, "kshm_close: %s", strerror(errno));
		st->ops[idx]++;
	}
}

/* A holder: hold 1-3 objects, reading them now and then, until killed. */
static void holder(struct kt_stress *st, unsigned long long seed)
{
	volatile uint64_t *w[3];
	unsigned int n = 1 + seed % 3, k;
	int fd;

	for (k = 0; k < n; k++) {
		w[k] = get(st, (seed >> (4 + 3 * k)) % NAMES, &fd);
		if (!w[k])
			_exit(1);
	}
	for (;;) {
		for (k = 0; k < n; k++)
			check_words(st, w[k]);
		usleep(200);	/* hold, do not starve the others */
	}
}

static void killer(struct kt_stress *st, int idx, void *arg)
{
	unsigned long long rnd = 0xdeadULL + idx;
	int status;
	pid_t pid;

	(void)arg;
	while (!st->stop) {
		unsigned long long r = kt_rand(&rnd);

		pid = fork();
		if (pid == 0)
			holder(st, r);
		if (pid < 0) {
			kt_stress_defect(st, "fork: %s", strerror(errno));
			continue;
		}
		usleep(1000 + (r >> 20) % 40000);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
			kt_stress_defect(st, "holder ended with %#x", status);
		st->ops[idx]++;
	}
}

/* /dev/kshm itself: bad requests, opened and closed all the time. */
static void opener(struct kt_stress *st, int idx, void *arg)
{
	struct kshm_open_args a;
	struct kshm_info info;
	int fd;

	(void)arg;
	while (!st->stop) {
		fd = open("/dev/kshm", O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			kt_stress_defect(st, "open /dev/kshm: %s",
					 strerror(errno));
			continue;
		}
		memset(&a, 0, sizeof(a));	/* empty name */
		a.flags = KSHM_RDWR | KSHM_CREAT;
		if (ioctl(fd, KSHM_IOC_OPEN, &a) != -1 || errno != EINVAL)
			kt_stress_defect(st, "empty name not EINVAL");
		if (ioctl(fd, KSHM_IOC_INFO, &info) != -1)
			kt_stress_defect(st, "INFO on /dev/kshm succeeded");
		close(fd);
		st->ops[idx]++;
	}
}

static int setup(void **state)
{
	(void)state;
	if (kt_loaded("kshm"))
		kt_kshm_unload();
	return kt_load("kshm", NULL) ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	return kt_loaded("kshm") ? kt_kshm_unload() : 0;
}

static void test_stress(void **state)
{
	struct kt_stress *st = kt_stress_new();
	int secs = kt_stress_seconds(), i;
	long storms = 0, kills;

	(void)state;
	for (i = 0; i < STORM; i++)
		kt_stress_spawn(st, storm, NULL);
	kt_stress_spawn(st, killer, NULL);
	kt_stress_spawn(st, killer, NULL);
	kt_stress_spawn(st, opener, NULL);
	usleep(200000);
	kt_stress_spawn(st, kt_stress_unloader, "kshm");
	kt_stress_finish(st, secs);

	for (i = 0; i < STORM; i++)
		storms += st->ops[i];
	kills = st->ops[STORM] + st->ops[STORM + 1];
	for (i = 0; i < 50 && kt_kshm_counter("objects") != 0; i++)
		usleep(20000);
	printf("# stress kshm: %d processes, %d s: ops=%ld (open/trunc/map/"
	       "close %ld, holders killed %ld, /dev/kshm opens %ld, unload"
	       " tries %ld) defects=%ld objects-left=%ld\n", st->nworkers,
	       secs, kt_stress_ops(st), storms, kills, st->ops[STORM + 2],
	       st->unload_tries, st->defects, kt_kshm_counter("objects"));
	assert_int_equal(st->defects, 0);
	assert_true(storms > 0 && kills > 0 && st->unload_tries > 0);
	assert_int_equal(kt_kshm_counter("objects"), 0);
	assert_int_equal(kt_kshm_counter("pages"), 0);
	assert_int_equal(kt_kshm_counter("processes"), 0);
	assert_int_equal(kt_kshm_unload(), 0);
	assert_false(kt_loaded("kshm"));
	assert_int_equal(access("/dev/kshm", F_OK), -1);
	assert_int_equal(access("/proc/kshm", F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stress),
	};

	return kt_run_group(tests, setup, teardown);
}
