// SPDX-License-Identifier: GPL-2.0
/* kt_fault.c - systematic fault injection for guest tests; see kt_fault.h. */
#include "kt_fault.h"
#include "kt.h"
#include "kt_debug.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#define KT_FAULT_NTH "/proc/thread-self/fail-nth"
#define KT_FAULT_DEBUGFS "/sys/kernel/debug"
#define KT_KMEMLEAK KT_FAULT_DEBUGFS "/kmemleak"

/*
 * Lines in the kernel log that mean a report.  vm/run scans the console
 * for the same things; this list only lets a walk say which fault point
 * caused one.  The stack dump of an allocation-failure warning that the
 * injected fault caused is expected: its KT_FAULT_DUMP lines are skipped up to
 * the dump's end.
 */
static const char *const kt_fault_dump[] = { "Call Trace:", "RIP:", NULL };
static const char *const kt_fault_reports[] = {
	"BUG:", "WARNING:", "KASAN", "UBSAN", "Oops", "kernel BUG at",
	"general protection fault", "Kernel panic", "RIP:", "Call Trace:",
	"list_add corruption", "list_del corruption",
	"possible circular locking", "possible recursive locking",
	"inconsistent lock state", "sleeping function called",
	"unreferenced object", "INFO: trying to register non-static key",
	NULL
};
/* The warnings whose stack dump the fault window forgives (kt_fault.h). */
static const char *const kt_fault_alloc_warnings[] = {
	"page allocation failure:", "vmalloc error:", "vmemmap alloc failure:",
	NULL
};
static const int kt_fault_default_errnos[] = { ENOMEM, EFAULT, 0 };

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	n = n < 0 ? -errno : 0;
	close(fd);
	return (int)n;
}

bool kt_fault_available(void)
{
	if (access(KT_FAULT_NTH, W_OK))
		return false;
	if (access(KT_FAULT_DEBUGFS "/failslab", F_OK))
		mount("debugfs", KT_FAULT_DEBUGFS, "debugfs", 0, NULL);
	return !access(KT_FAULT_DEBUGFS "/failslab/ignore-gfp-wait", W_OK) &&
	       !access(KT_FAULT_DEBUGFS "/fail_page_alloc/min-order", W_OK) &&
	       !access(KT_FAULT_DEBUGFS "/fail_usercopy/verbose", W_OK);
}

static void kt_fault_set(const char *dir, const char *file, const char *val)
{
	char path[256];
	int rc;

	snprintf(path, sizeof(path), KT_FAULT_DEBUGFS "/%s/%s", dir, file);
	rc = write_file(path, val);
	if (rc)
		fail_msg("kt_fault: %s <- %s: %s", path, val, strerror(-rc));
}

void kt_fault_require(void)
{
	static const char *const dirs[] = {
		"failslab", "fail_page_alloc", "fail_usercopy", NULL
	};
	const char *const *d;

	if (!kt_fault_available()) {
		/*
		 * The debug kernel is built with fault injection: a missing
		 * knob there is a broken lane, not a kernel to skip on.
		 */
		if (kt_debug_kernel())
			fail_msg("kt_fault: the debug kernel has no usable fail-nth/debugfs fault injection (%s)",
				 access(KT_FAULT_NTH, W_OK) ? KT_FAULT_NTH :
				 KT_FAULT_DEBUGFS "/{failslab,fail_page_alloc,fail_usercopy}");
		printf("# kipc-fault: no fail-nth fault injection in this kernel (make check-debug has it)\n");
		skip();
	}
	for (d = dirs; *d; d++) {
		kt_fault_set(*d, "probability", "0");
		kt_fault_set(*d, "interval", "1");
		kt_fault_set(*d, "times", "-1");
		kt_fault_set(*d, "space", "0");
		kt_fault_set(*d, "verbose", "0");
		kt_fault_set(*d, "task-filter", "Y");
	}
	kt_fault_set("failslab", "ignore-gfp-wait", "N");
	kt_fault_set("fail_page_alloc", "ignore-gfp-wait", "N");
	kt_fault_set("fail_page_alloc", "ignore-gfp-highmem", "N");
	kt_fault_set("fail_page_alloc", "min-order", "0");
	/*
	 * The walk marks its windows in the log: no rate limit on /dev/kmsg
	 * (the sysctl insists on the newline).
	 */
	if (write_file("/proc/sys/kernel/printk_devkmsg", "on\n"))
		fail_msg("kt_fault: cannot lift the /dev/kmsg rate limit");
}

static bool has_any(const char *msg, const char *const *needles)
{
	for (; *needles; needles++)
		if (strstr(msg, *needles))
			return true;
	return false;
}

/*
 * Read the kernel log records since the last seek of FD.  Returns a
 * report line (in BUF) or NULL.  The stack dump of an allocation-failure
 * warning is skipped when TOLERATE_ALLOC_WARN (a fault was injected).
 */
static const char *kmsg_report(int fd, bool tolerate_alloc_warn, char *buf,
			       size_t size)
{
	bool in_dump = false;
	char *msg, *nl;
	ssize_t n;

	for (;;) {
		n = read(fd, buf, size - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			return NULL;
		buf[n] = '\0';
		msg = strchr(buf, ';');
		msg = msg ? msg + 1 : buf;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		if (strstr(msg, KT_FAULT_WINDOW))
			continue;
		if (tolerate_alloc_warn && has_any(msg, kt_fault_alloc_warnings)) {
			in_dump = true;
			continue;
		}
		if (in_dump && strstr(msg, "</TASK>")) {
			in_dump = false;
			continue;
		}
		if (in_dump && has_any(msg, kt_fault_dump))
			continue;
		if (has_any(msg, kt_fault_reports))
			return msg;
	}
}

static void kmsg_write(int fd, const char *fmt, const char *name,
		       unsigned int n)
{
	char line[256];
	int len = snprintf(line, sizeof(line), fmt, name, n);

	if (fd >= 0 && write(fd, line, len) != len)
		fail_msg("kt_fault: /dev/kmsg: %s", strerror(errno));
}

/* Did the last attempt consume the injected fault?  Resets fail-nth. */
static bool fault_injected(int nth_fd)
{
	char buf[32];
	ssize_t n;
	bool injected;

	/* reading copies to user space: a pending last point fails it */
	n = pread(nth_fd, buf, sizeof(buf) - 1, 0);
	injected = n > 0 && buf[0] == '0';
	/* writing copies from user space: same; either way ends at 0 */
	if (pwrite(nth_fd, "0", 1, 0) != 1 && errno != EFAULT)
		fail_msg("kt_fault: reset " KT_FAULT_NTH ": %s", strerror(errno));
	n = pread(nth_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0 || buf[0] != '0')
		fail_msg("kt_fault: " KT_FAULT_NTH " did not reset");
	return injected;
}

static bool errno_allowed(const struct kt_fault_op *op, int rc)
{
	const int *e = op->errnos ? op->errnos : kt_fault_default_errnos;

	for (; *e; e++)
		if (rc == -*e)
			return true;
	return false;
}

unsigned int kt_fault_walk(const struct kt_fault_op *op,
			   struct kt_fault_result *res)
{
	unsigned int max = op->max_points ? op->max_points : 20000;
	struct kt_fault_result r = { 0 };
	char nbuf[16], log[8192];
	const char *report;
	int nth_fd, kmsg, mark, rc, len;
	unsigned int n, step = 1, last = 0, skipped = 0;
	bool injected, sampled = false;
	bool verbose = getenv("KIPC_FAULT_VERBOSE") != NULL;

	nth_fd = open(KT_FAULT_NTH, O_RDWR | O_CLOEXEC);
	if (nth_fd < 0)
		fail_msg("kt_fault: " KT_FAULT_NTH
			 ": %s (call kt_fault_require() first)",
			 strerror(errno));
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	mark = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (kmsg < 0 || mark < 0)
		fail_msg("kt_fault: /dev/kmsg: %s", strerror(errno));

	for (n = op->first ? op->first : 1;; n += step) {
		if (op->stride > 1 && !sampled && last &&
		    last + 1 - (op->first ? op->first : 1) >= op->dense) {
			sampled = true;		/* sample the middle */
			step = op->stride;
			n = last + step;
		}
		if (n > max)
			fail_msg("%s: still failing after %u fault points",
				 op->name, max);
		lseek(kmsg, 0, SEEK_END);
		/* the fault window (kt_fault.h) */
		kmsg_write(mark, "<4>" KT_FAULT_WINDOW_OPEN "%s point %u\n",
			   op->name, n);
		len = snprintf(nbuf, sizeof(nbuf), "%u", n);
		if (pwrite(nth_fd, nbuf, len, 0) != len)
			fail_msg("kt_fault: " KT_FAULT_NTH ": %s", strerror(errno));
		rc = op->run(op->arg);
		injected = fault_injected(nth_fd);
		kmsg_write(mark, "<4>" KT_FAULT_WINDOW_CLOSE "%s point %u\n",
			   op->name, n);
		report = kmsg_report(kmsg, injected, log, sizeof(log));
		if (report)
			fail_msg("%s: fault point %u%s: kernel report: %s",
				 op->name, n, injected ? "" : " (not reached)",
				 report);
		if (!injected) {
			if (rc)
				fail_msg("%s: failed with no fault injected: %s",
					 op->name, strerror(-rc));
			if (op->undo)
				op->undo(op->arg);
			if (step > 1) {
				/* past the end: walk the tail whole */
				step = 1;
				n = last;
				continue;
			}
			break;
		}
		r.points++;
		if (step > 1)
			skipped += step - 1;
		last = n;
		if (verbose)
			printf("# kipc-fault: %s: point %u: %s\n", op->name, n,
			       rc ? strerror(-rc) : "absorbed");
		if (rc) {
			r.failed++;
			if (!errno_allowed(op, rc))
				fail_msg("%s: fault point %u: unexpected error %d (%s)",
					 op->name, n, rc, strerror(-rc));
		} else {
			r.absorbed++;
		}
		if (op->check)
			op->check(op->arg, n, rc);
		if (!rc && op->undo)
			op->undo(op->arg);
	}
	close(mark);
	close(kmsg);
	close(nth_fd);
	if (skipped)
		printf("# kipc-fault: %s: %u points (%u failed, %u absorbed; %u more sampled every %u)%s\n",
		       op->name, r.points, r.failed, r.absorbed, skipped,
		       op->stride, op->no_points ? " none expected" : "");
	else
		printf("# kipc-fault: %s: %u points (%u failed, %u absorbed)%s\n",
		       op->name, r.points, r.failed, r.absorbed,
		       op->no_points ? " none expected" : "");
	fflush(stdout);
	/* a walk that reached no fault point tested nothing */
	if (!r.points && !op->no_points)
		fail_msg("%s: walked zero fault points (nothing injected)",
			 op->name);
	if (r.points && op->no_points)
		fail_msg("%s: %u fault points where none were expected",
			 op->name, r.points);
	if (res)
		*res = r;
	return r.points;
}

int kt_kmemleak_scan(void)
{
	char line[512];
	int count = 0;
	FILE *f;

	if (access(KT_KMEMLEAK, W_OK)) {
		if (kt_debug_kernel())
			fail_msg("kt_fault: the debug kernel has no writable " KT_KMEMLEAK);
		return -1;
	}
	sleep(6);	/* kmemleak ignores objects younger than 5 s */
	if (write_file(KT_KMEMLEAK, "scan") || write_file(KT_KMEMLEAK, "scan"))
		fail_msg("kt_fault: kmemleak scan failed (kmemleak disabled?)");
	f = fopen(KT_KMEMLEAK, "r");
	if (!f) {
		fail_msg("kt_fault: " KT_KMEMLEAK ": %s", strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "unreferenced object"))
			count++;
		printf("# %s", line);
	}
	fclose(f);
	fflush(stdout);
	return count;
}
