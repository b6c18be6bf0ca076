// SPDX-License-Identifier: GPL-2.0
/*
 * kshm_cycle - operations per second of the named shared memory cycle
 * open -> trunc -> map -> write -> close, with kshm (libkipc) and with
 * POSIX shm (shm_open/ftruncate/mmap/write/munmap/close/shm_unlink), for
 * 1, 2, 4, 8 and 16 processes, in the same run.
 *
 * CSV on stdout (area,benchmark,mechanism,param,unit,median,p10,p90,samples;
 * param = processes), progress on stderr.  bench/kshm_cycle.gp charts it.
 */
#include <kipc/kshm.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum mech { KSHM, POSIX, NMECH };
static const char *const mech_name[NMECH] = { "kshm", "posix_shm" };

static size_t size = 4096;
static long ops = 2000;
static int samples = 5;
static int procs[16] = { 1, 2, 4, 8, 16 };
static int nprocs = 5;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: kshm_cycle [--samples N] [--ops N] [--size BYTES] [--procs LIST]\n"
		"Measure the named shared memory cycle open -> trunc -> map -> write\n"
		"-> close with kshm (libkipc; loads kshm.ko if /dev/kshm is missing)\n"
		"and with POSIX shm (shm_open, ftruncate, mmap, write, munmap, close,\n"
		"shm_unlink), every process using its own new name each iteration.\n\n"
		"  --samples N   samples per point (default %d)\n"
		"  --ops N       cycles per sample, split over the processes (default %ld)\n"
		"  --size BYTES  object size, written in full each cycle (default %zu)\n"
		"  --procs LIST  process counts, comma-separated (default 1,2,4,8,16)\n\n"
		"Output: CSV on stdout with the header\n"
		"  area,benchmark,mechanism,param,unit,median,p10,p90,samples\n"
		"(mechanism kshm or posix_shm, param = processes, unit ops/s);\n"
		"progress on stderr.  Chart: gnuplot -e \"in='x.csv'; out='x.png'\"\n"
		"bench/kshm_cycle.gp\n", samples, ops, size);
}

static void die(const char *what)
{
	fprintf(stderr, "kshm_cycle: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int cycle_kshm(long i)
{
	char name[64];
	void *p;
	int fd;

	snprintf(name, sizeof(name), "kc%d.%ld", getpid(), i);
	fd = kshm_open_mode(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return -1;
	if (kshm_trunc(fd, size) < 0 || kshm_map(fd, &p, O_RDWR) < 0) {
		kshm_close(fd);
		return -1;
	}
	memset(p, (int)i, size);
	return kshm_close(fd);
}

static int cycle_posix(long i)
{
	char name[64];
	void *p;
	int fd;

	snprintf(name, sizeof(name), "/kc%d.%ld", getpid(), i);
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)size) < 0)
		goto fail;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	memset(p, (int)i, size);
	if (munmap(p, size) || close(fd))
		return -1;
	return shm_unlink(name);
fail:
	close(fd);
	shm_unlink(name);
	return -1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One sample: NPROC processes share OPS cycles; returns ops/s. */
static double run(enum mech m, int nproc)
{
	int ready[2], go[2], i, st, bad = 0;
	long per = ops / nproc;
	double t;
	char c;

	if (per < 1)
		per = 1;
	if (pipe(ready) || pipe(go))
		die("pipe");
	for (i = 0; i < nproc; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			long k;

			close(ready[0]);
			close(go[1]);
			cycle_kshm(-1);	/* warm up: library, caches */
			cycle_posix(-1);
			if (write(ready[1], "r", 1) != 1 ||
			    read(go[0], &c, 1) != 0)
				_exit(3);
			for (k = 0; k < per; k++)
				if ((m == KSHM ? cycle_kshm(k) : cycle_posix(k)) < 0) {
					fprintf(stderr, "kshm_cycle: %s cycle: %s\n",
						mech_name[m], strerror(errno));
					_exit(1);
				}
			_exit(0);
		}
	}
	close(ready[1]);
	close(go[0]);
	for (i = 0; i < nproc; i++)
		if (read(ready[0], &c, 1) != 1)
			die("worker start");
	t = now();
	close(go[1]);		/* go */
	while (wait(&st) > 0)
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			bad++;
	t = now() - t;
	close(ready[0]);
	if (bad) {
		fprintf(stderr, "kshm_cycle: %d workers failed\n", bad);
		exit(1);
	}
	return per * nproc / t;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Percentile P (0-100) of N sorted values, linear interpolation. */
static double pct(const double *v, int n, double p)
{
	double r = p / 100 * (n - 1);
	int lo = (int)r;

	if (lo >= n - 1)
		return v[n - 1];
	return v[lo] + (r - lo) * (v[lo + 1] - v[lo]);
}

static void parse_procs(char *s)
{
	char *tok, *save = NULL;

	nprocs = 0;
	for (tok = strtok_r(s, ",", &save); tok && nprocs < 16;
	     tok = strtok_r(NULL, ",", &save)) {
		procs[nprocs] = atoi(tok);
		if (procs[nprocs] < 1 || procs[nprocs] > 16) {
			fprintf(stderr, "kshm_cycle: process counts are 1-16\n");
			exit(2);
		}
		nprocs++;
	}
	if (!nprocs)
		exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "samples", required_argument, NULL, 's' },
		{ "ops", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 'z' },
		{ "procs", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double v[NMECH][64];
	int o, p, s, m;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			samples = atoi(optarg);
			break;
		case 'n':
			ops = atol(optarg);
			break;
		case 'z':
			size = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			parse_procs(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || samples < 1 || samples > 64 || ops < 1 ||
	    size < 1 || size > 32 * 4096) {
		usage(stderr);
		return 2;
	}
	if (access("/dev/kshm", F_OK) && system("modprobe kshm"))
		fprintf(stderr, "kshm_cycle: modprobe kshm failed\n");
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("area,benchmark,mechanism,param,unit,median,p10,p90,samples\n");
	for (p = 0; p < nprocs; p++) {
		/* Alternate the mechanisms so both see the same noise. */
		for (s = 0; s < samples; s++)
			for (m = 0; m < NMECH; m++)
				v[m][s] = run(m, procs[p]);
		for (m = 0; m < NMECH; m++) {
			qsort(v[m], samples, sizeof(double), cmp);
			printf("kshm,cycle,%s,%d,ops/s,%.0f,%.0f,%.0f,%d\n",
			       mech_name[m], procs[p], pct(v[m], samples, 50),
			       pct(v[m], samples, 10), pct(v[m], samples, 90),
			       samples);
		}
		fprintf(stderr, "kshm_cycle: %2d procs: kshm %.0f ops/s, posix_shm %.0f ops/s\n",
			procs[p], pct(v[KSHM], samples, 50),
			pct(v[POSIX], samples, 50));
	}
	return 0;
}
