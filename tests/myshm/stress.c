// SPDX-License-Identifier: GPL-2.0
/*
 * myshm/stress - bounded-time stress of myshm.ko (issue 7): 4 processes
 * mapping and unmapping random ranges (random page offsets, lengths that
 * are not always page multiples) of two buffers and touching random pages,
 * 2 processes using pread/pwrite/read on the same pages, one process with
 * O_RDONLY files checking that it can never write, one process opening and
 * closing the devices in every mode, and one trying to unload the module.
 *
 * Worker I owns the 8-byte word at offset I * 64 of every page and stores
 * (I + 1) << 56 | counter there, alternately through a mapping and
 * pwrite(); after each store it reads the word back the other way.  Any
 * word whose tag is neither 0 nor its owner's, any value that does not
 * read back, and any errno other than the documented ones is a defect.
 *
 * Run time: KIPC_STRESS_SECONDS (default 12); see tests/lib/kt_stress.h.
 */
#include "lib/kt.h"
#include "lib/kt_stress.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kipc/myshm.h>

#define PS		4096UL
#define NDEV		2
#define SLOT		64	/* bytes per worker in a page */

static const char *const devs[NDEV] = { "/dev/myshm", "/dev/kstress" };
static const unsigned long sizes[NDEV] = { 4UL << 20, 64UL << 10 };

static int open_dev(struct kt_stress *st, int d, int mode)
{
	int fd = open(devs[d], mode | O_CLOEXEC);

	if (fd < 0) {
		kt_stress_defect(st, "open %s: %s", devs[d], strerror(errno));
		_exit(90);
	}
	return fd;
}

/* Does WORD belong at slot J (tag 0 = never written, or J + 1)? */
static void check_word(struct kt_stress *st, uint64_t word, unsigned int j)
{
	unsigned int tag = word >> 56;

	if (tag && tag != j + 1)
		kt_stress_defect(st, "slot %u holds a word tagged %u", j, tag);
}

/* Check every slot of the page at P (a mapping or a copy). */
static void check_page(struct kt_stress *st, const volatile unsigned char *p)
{
	unsigned int j;

	for (j = 0; j < KT_STRESS_MAX_WORKERS; j++)
		check_word(st, *(const volatile uint64_t *)(p + j * SLOT), j);
}

static void mapper(struct kt_stress *st, int idx, void *arg)
{
	unsigned long long rnd = 0xabcdef01ULL + idx;
	uint64_t ctr = 0, v, x;
	int fd[NDEV], d, k;

	(void)arg;
	for (d = 0; d < NDEV; d++)
		fd[d] = open_dev(st, d, O_RDWR);
	while (!st->stop) {
		unsigned long long r = kt_rand(&rnd);
		unsigned long npages, off, pages, len, pg;
		unsigned char *p;

		d = r & 1;
		npages = sizes[d] / PS;
		off = (r >> 1) % npages;
		pages = 1 + (r >> 12) % (npages - off < 64 ? npages - off : 64);
		len = pages * PS - ((r >> 20) & 1 ? (r >> 24) % PS : 0);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd[d],
			 off * PS);
		if (p == MAP_FAILED) {
			kt_stress_defect(st, "mmap %s off %lu len %lu: %s",
					 devs[d], off * PS, len,
					 strerror(errno));
			continue;
		}
		for (k = 0; k < 4; k++) {
			unsigned char *w;
			off_t pos;

			pg = kt_rand(&rnd) % pages;
			w = p + pg * PS + idx * SLOT;
			pos = (off + pg) * PS + idx * SLOT;
			check_page(st, p + pg * PS);
			v = ((uint64_t)(idx + 1) << 56) | ++ctr;
			*(volatile uint64_t *)w = v;
			if (pread(fd[d], &x, 8, pos) != 8 || x != v)
				kt_stress_defect(st, "pread after store: %#llx"
						 " != %#llx",
						 (unsigned long long)x,
						 (unsigned long long)v);
			v = ((uint64_t)(idx + 1) << 56) | ++ctr;
			if (pwrite(fd[d], &v, 8, pos) != 8)
				kt_stress_defect(st, "pwrite: %s",
						 strerror(errno));
			if (*(volatile uint64_t *)w != v)
				kt_stress_defect(st, "mapping misses pwrite");
		}
		switch ((r >> 40) % 4) {
		case 0:
			if (madvise(p, len, MADV_DONTNEED))
				kt_stress_defect(st, "madvise: %s",
						 strerror(errno));
			check_page(st, p);
			break;
		case 1:
			if (mprotect(p, len, PROT_READ))
				kt_stress_defect(st, "mprotect: %s",
						 strerror(errno));
			check_page(st, p + (pages - 1) * PS);
			break;
		case 2:
			/* refused: private, and one page past the end */
			if (mmap(NULL, PS, PROT_READ, MAP_PRIVATE, fd[d], 0) !=
			    MAP_FAILED || errno != EINVAL)
				kt_stress_defect(st, "MAP_PRIVATE not EINVAL");
			if (mmap(NULL, 2 * PS, PROT_READ, MAP_SHARED, fd[d],
				 sizes[d] - PS) != MAP_FAILED ||
			    errno != EINVAL)
				kt_stress_defect(st, "mmap past end not EINVAL");
			break;
		default:
			if (pages > 1 && munmap(p, PS))	/* partial first */
				kt_stress_defect(st, "munmap: %s",
						 strerror(errno));
		}
		if (munmap(p, len))
			kt_stress_defect(st, "munmap: %s", strerror(errno));
		st->ops[idx]++;
	}
}

static void syscaller(struct kt_stress *st, int idx, void *arg)
{
	unsigned long long rnd = 0x13572468ULL + idx;
	unsigned char page[PS];
	uint64_t ctr = 0, v, x;
	int fd[NDEV], d;

	(void)arg;
	for (d = 0; d < NDEV; d++)
		fd[d] = open_dev(st, d, O_RDWR);
	while (!st->stop) {
		unsigned long long r = kt_rand(&rnd);
		off_t pos;

		d = r & 1;
		pos = ((r >> 1) % (sizes[d] / PS)) * PS;
		v = ((uint64_t)(idx + 1) << 56) | ++ctr;
		if (pwrite(fd[d], &v, 8, pos + idx * SLOT) != 8)
			kt_stress_defect(st, "pwrite: %s", strerror(errno));
		if (lseek(fd[d], pos, SEEK_SET) != pos ||
		    read(fd[d], page, PS) != (ssize_t)PS) {
			kt_stress_defect(st, "lseek/read: %s", strerror(errno));
			continue;
		}
		check_page(st, page);
		memcpy(&x, page + idx * SLOT, 8);
		if (x != v)
			kt_stress_defect(st, "read back %#llx != %#llx",
					 (unsigned long long)x,
					 (unsigned long long)v);
		/* at the end: 0 bytes read, nothing written */
		if (pread(fd[d], page, 8, sizes[d]) != 0 ||
		    pwrite(fd[d], &v, 8, sizes[d]) != -1 || errno != ENOSPC)
			kt_stress_defect(st, "I/O at the end");
		st->ops[idx]++;
	}
}

/* Read-only files: writing must be impossible in every way. */
static void reader_ro(struct kt_stress *st, int idx, void *arg)
{
	unsigned long long rnd = 0x24681357ULL;
	int fd[NDEV], d;

	(void)arg;
	for (d = 0; d < NDEV; d++)
		fd[d] = open_dev(st, d, O_RDONLY);
	while (!st->stop) {
		unsigned long long r = kt_rand(&rnd);
		unsigned long npages, off, i;
		unsigned char *p;
		uint64_t v = 0;

		d = r & 1;
		npages = sizes[d] / PS;
		off = (r >> 1) % npages;
		if (mmap(NULL, PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd[d],
			 off * PS) != MAP_FAILED || errno != EACCES)
			kt_stress_defect(st, "writable mapping of O_RDONLY");
		p = mmap(NULL, (npages - off) * PS, PROT_READ, MAP_SHARED,
			 fd[d], off * PS);
		if (p == MAP_FAILED) {
			kt_stress_defect(st, "read-only mmap: %s",
					 strerror(errno));
			continue;
		}
		for (i = 0; i < npages - off; i += 1 + (r >> 30) % 7)
			check_page(st, p + i * PS);
		if (mprotect(p, PS, PROT_READ | PROT_WRITE) == 0 ||
		    errno != EACCES)
			kt_stress_defect(st, "mprotect(PROT_WRITE) not EACCES");
		munmap(p, (npages - off) * PS);
		if (write(fd[d], &v, 8) != -1 || errno != EBADF ||
		    pwrite(fd[d], &v, 8, 0) != -1 || errno != EBADF)
			kt_stress_defect(st, "write on O_RDONLY not EBADF");
		st->ops[idx]++;
	}
}

static void opener(struct kt_stress *st, int idx, void *arg)
{
	static const int modes[] = { O_RDONLY, O_WRONLY, O_RDWR };
	unsigned long long rnd = 0x31415926ULL;
	__u64 size;
	int fd, d;

	(void)arg;
	while (!st->stop) {
		unsigned long long r = kt_rand(&rnd);

		d = r & 1;
		fd = open_dev(st, d, modes[(r >> 1) % 3]);
		if (ioctl(fd, MYSHM_GET_SIZE, &size) || size != sizes[d])
			kt_stress_defect(st, "MYSHM_GET_SIZE");
		if (ioctl(fd, MYSHM_GET_SIZE + 1, &size) != -1 ||
		    errno != ENOTTY)
			kt_stress_defect(st, "unknown ioctl not ENOTTY");
		close(fd);
		st->ops[idx]++;
	}
}

/* The checker itself: a word tagged for another slot is a defect. */
static void test_checker(void **state)
{
	struct kt_stress *st = kt_stress_new();
	uint64_t page[PS / 8] = { 0 };

	(void)state;
	st->quiet = 1;
	page[3 * SLOT / 8] = (4ULL << 56) | 77;
	check_page(st, (unsigned char *)page);
	assert_int_equal(st->defects, 0);
	page[5 * SLOT / 8] = (4ULL << 56) | 78;
	check_page(st, (unsigned char *)page);
	assert_int_equal(st->defects, 1);
}

static int setup(void **state)
{
	(void)state;
	kt_unload_if_loaded("myshm");
	return kt_load("myshm", "buffers=myshm,kstress:64K") ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	return kt_loaded("myshm") ? kt_unload("myshm") : 0;
}

static void test_stress(void **state)
{
	struct kt_stress *st = kt_stress_new();
	int secs = kt_stress_seconds();
	long m = 0, s = 0;
	struct stat sb;
	int i;

	(void)state;
	for (i = 0; i < 4; i++)
		kt_stress_spawn(st, mapper, NULL);
	for (i = 0; i < 2; i++)
		kt_stress_spawn(st, syscaller, NULL);
	kt_stress_spawn(st, reader_ro, NULL);
	kt_stress_spawn(st, opener, NULL);
	usleep(200000);
	kt_stress_spawn(st, kt_stress_unloader, "myshm");
	kt_stress_finish(st, secs);

	for (i = 0; i < 4; i++)
		m += st->ops[i];
	s = st->ops[4] + st->ops[5];
	printf("# stress myshm: %d processes, %d s: ops=%ld (map/touch/unmap"
	       " %ld, pread/pwrite/read %ld, read-only %ld, open/close %ld,"
	       " unload tries %ld) defects=%ld\n", st->nworkers, secs,
	       kt_stress_ops(st), m, s, st->ops[6], st->ops[7],
	       st->unload_tries, st->defects);
	assert_int_equal(st->defects, 0);
	assert_true(m > 0 && s > 0 && st->unload_tries > 0);

	assert_int_equal(kt_unload("myshm"), 0);
	assert_false(kt_loaded("myshm"));
	assert_int_equal(stat("/dev/kstress", &sb), -1);
	assert_int_equal(stat("/sys/class/misc/kstress", &sb), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checker),
		cmocka_unit_test(test_stress),
	};

	return kt_run_group(tests, setup, teardown);
}
