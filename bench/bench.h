/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench.h - timing, statistics and CSV output shared by kipc's benchmarks.
 *
 * Every benchmark program writes CSV rows to stdout, one per measurement:
 *
 *   area,benchmark,mechanism,param,unit,median,p10,p90,samples
 *
 * and one human-readable progress line per row (or skip) to stderr, starting
 * with "# ".  A row's median/p10/p90 are taken over SAMPLES repeated
 * samples; each sample is a timed loop of many iterations, sized by
 * calibration so that one sample lasts about bench_sample_ms milliseconds.
 * Samples are short on purpose: the guest's vCPUs are host threads on a
 * shared host, preempted for milliseconds at a time; with short samples
 * most of them fall between two preemptions and the median stays clean,
 * while long samples would all carry a random share of stolen time.
 * Time comes from clock_gettime(CLOCK_MONOTONIC).  Nothing is pinned: the
 * guest's vCPUs are host threads, so affinity would promise nothing.
 *
 * Header-only (static functions): each bench/NAME.c is built as its own
 * program.
 */
#ifndef KIPC_BENCH_H
#define KIPC_BENCH_H

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#define BENCH_MAX_SAMPLES 64
#define BENCH_CSV_HEADER "area,benchmark,mechanism,param,unit,median,p10,p90,samples"

/* Samples per row and target duration of one sample (set from options). */
static int bench_samples = 31;
static double bench_sample_ms = 2.0;

static __attribute__((unused)) uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One whole line to stderr with a single write(), so lines never mix. */
static __attribute__((unused, format(printf, 1, 2)))
void bench_note(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "# ");
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(2, line, (size_t)n) < 0)
		return;
}

/* Print a fatal error (with errno text) and exit 1. */
static __attribute__((unused, noreturn)) void bench_die(const char *what)
{
	bench_note("error: %s: %s", what, strerror(errno));
	exit(1);
}

/*
 * Fork a helper process running FN(ARG, READY): FN sets itself up, writes
 * one byte to the pipe READY, then serves forever (it never returns).
 * Returns the helper's pid once it is ready, or -1 if it died first (it
 * is reaped).  Callers kill it with SIGKILL when done.
 */
static __attribute__((unused))
pid_t bench_spawn(void (*fn)(void *arg, int ready), void *arg)
{
	int ready[2];
	pid_t pid;
	char r;

	if (pipe(ready) < 0)
		bench_die("pipe");
	pid = fork();
	if (pid < 0)
		bench_die("fork");
	if (pid == 0) {
		close(ready[0]);
		fn(arg, ready[1]);
		_exit(1);
	}
	close(ready[1]);
	if (read(ready[0], &r, 1) != 1) {
		close(ready[0]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	close(ready[0]);
	return pid;
}

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Quantile Q (0..1) of sorted V[N], linear interpolation. */
static double bench_quantile(const double *v, int n, double q)
{
	double pos = q * (n - 1);
	int i = (int)pos;

	if (i >= n - 1)
		return v[n - 1];
	return v[i] + (pos - i) * (v[i + 1] - v[i]);
}

/*
 * Emit one CSV row (stdout) and its progress line (stderr) for N sample
 * values V (any order; sorted in place).
 */
static __attribute__((unused))
void bench_row(const char *area, const char *bench, const char *mech,
	       const char *param, const char *unit, double *v, int n)
{
	double med, p10, p90;

	qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
	med = bench_quantile(v, n, 0.5);
	p10 = bench_quantile(v, n, 0.1);
	p90 = bench_quantile(v, n, 0.9);
	printf("%s,%s,%s,%s,%s,%.6g,%.6g,%.6g,%d\n", area, bench, mech, param,
	       unit, med, p10, p90, n);
	fflush(stdout);
	bench_note("%-9s %-12s %-20s %8s  %10.4g %s  (p10 %.4g, p90 %.4g, n=%d)",
		   area, bench, mech, param, med, unit, p10, p90, n);
}

/* Report that a row could not be measured, and why (no row is written). */
static __attribute__((unused, format(printf, 4, 5)))
void bench_skip(const char *area, const char *bench, const char *mech,
		const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	bench_note("%-9s %-12s %-20s SKIPPED: %s", area, bench, mech, why);
}

/*
 * A timed loop: run ITERS iterations of the operation and return 0, or -1
 * with errno set on failure.  CTX is the caller's state.
 */
typedef int (*bench_loop_fn)(void *ctx, long iters);

/* One row of a group of measurements taken together. */
struct bench_case {
	const char *mech;	/* mechanism column */
	char param[24];		/* param column */
	bench_loop_fn fn;
	void *ctx;
	double per;		/* operations per iteration (divides the time) */
	double rate;		/* if > 0: report rate / (ns per iteration) */
	/* filled in by bench_group(): */
	long iters;
	int failed;		/* errno of the failure, 0 if none */
	double v[BENCH_MAX_SAMPLES];
};

/* Time ITERS iterations of C; ns per operation, or -1 (C->failed set). */
static double bench_sample(struct bench_case *c, long iters)
{
	uint64_t t0 = bench_now_ns();

	if (c->fn(c->ctx, iters) < 0) {
		c->failed = errno ? errno : EIO;
		return -1;
	}
	return (double)(bench_now_ns() - t0) / (double)iters / c->per;
}

/*
 * Measure the N cases of C: calibrate each so that one sample lasts about
 * bench_sample_ms (at least MIN_ITERS iterations), then take bench_samples
 * samples in rounds -- one sample of every case per round -- so that a
 * change in the host's load over time hits every case alike and the ratios
 * between them stay fair.  Emits one row per case that did not fail (and a
 * skip for each that did).  The value is ns per iteration / per, or with
 * a rate, rate / (ns per iteration): bytes per iteration as the rate gives
 * GB/s, 1e9 gives iterations per second.
 */
static __attribute__((unused))
void bench_group(const char *area, const char *bench, const char *unit,
		 struct bench_case *c, int n, long min_iters)
{
	double target = bench_sample_ms * 1e6;
	int i, s;

	bench_note("%-9s %-12s running %d case%s x %d samples", area, bench, n,
		   n == 1 ? "" : "s", bench_samples);
	for (i = 0; i < n; i++) {
		long it = min_iters > 0 ? min_iters : 1;
		double ns;

		c[i].failed = 0;
		if (c[i].per <= 0)
			c[i].per = 1;
		/* Warm up and grow until one loop lasts >= 1/4 sample. */
		for (;;) {
			ns = bench_sample(&c[i], it);
			if (ns < 0)
				break;
			ns *= c[i].per * (double)it;
			if (ns >= target / 4 || it >= (1l << 40))
				break;
			it *= ns < 1000 ? 16 : 2;
		}
		if (c[i].failed)
			continue;
		it = (long)((double)it * target / (ns > 1 ? ns : 1));
		c[i].iters = it > min_iters ? it : (min_iters > 0 ? min_iters : 1);
	}
	for (s = 0; s < bench_samples; s++)
		for (i = 0; i < n; i++)
			if (!c[i].failed)
				c[i].v[s] = bench_sample(&c[i], c[i].iters);
	for (i = 0; i < n; i++)
		for (s = 0; s < bench_samples && c[i].rate > 0; s++)
			c[i].v[s] = c[i].rate / (c[i].v[s] * c[i].per);
	for (i = 0; i < n; i++) {
		if (c[i].failed)
			bench_skip(area, bench, c[i].mech, "%s",
				   strerror(c[i].failed));
		else
			bench_row(area, bench, c[i].mech, c[i].param, unit,
				  c[i].v, bench_samples);
	}
}

/*
 * Common options: -n SAMPLES, -t MS per sample, -q (quick: 5 samples of
 * 5 ms, for smoke tests).  Returns optind; prints usage for -h.
 */
static __attribute__((unused))
int bench_options(int argc, char **argv, const char *usage)
{
	static const struct option opts[] = {
		{ "samples", required_argument, NULL, 'n' },
		{ "sample-ms", required_argument, NULL, 't' },
		{ "quick", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "n:t:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			bench_samples = atoi(optarg);
			if (bench_samples < 3 || bench_samples > BENCH_MAX_SAMPLES) {
				fprintf(stderr, "%s: --samples must be 3..%d\n",
					argv[0], BENCH_MAX_SAMPLES);
				exit(2);
			}
			break;
		case 't':
			bench_sample_ms = atof(optarg);
			if (bench_sample_ms <= 0) {
				fprintf(stderr, "%s: --sample-ms must be > 0\n",
					argv[0]);
				exit(2);
			}
			break;
		case 'q':
			bench_samples = 5;
			bench_sample_ms = 5;
			break;
		case 'h':
			printf("%s\n"
			       "Common options:\n"
			       "  -n, --samples N     samples per row (default 31)\n"
			       "  -t, --sample-ms MS  length of one sample (default 2)\n"
			       "  -q, --quick         5 samples of 5 ms (smoke test)\n"
			       "  -h, --help          this text\n"
			       "Output: CSV rows on stdout (" BENCH_CSV_HEADER "),\n"
			       "progress lines starting with '# ' on stderr.\n",
			       usage);
			exit(0);
		default:
			exit(2);
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	return optind;
}

static __attribute__((unused)) void bench_header(void)
{
	printf("%s\n", BENCH_CSV_HEADER);
	fflush(stdout);
}

#endif /* KIPC_BENCH_H */
