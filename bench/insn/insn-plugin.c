// SPDX-License-Identifier: GPL-2.0
/*
 * insn-plugin.c - a QEMU TCG plugin that counts the guest instructions a
 * code path executes, kernel and user space together, and where.
 *
 * The guest program marks what to count with four instructions that do
 * nothing (xchg of a 16-bit register with itself, as Bochs' magic
 * breakpoint):
 *   66 87 d2  xchg %dx,%dx  begin an experiment: snapshot every block's
 *                           execution count
 *   66 87 db  xchg %bx,%bx  begin one iteration: remember the count
 *   66 87 c9  xchg %cx,%cx  end it: record the instructions since
 *   66 87 f6  xchg %si,%si  end the experiment: write its iteration
 *                           statistics and, per translated block address,
 *                           the instructions executed there since it began
 * Output (plugin argument out=FILE, default insn-plugin.out):
 *   exp N iters I min M median D p90 P blocks B   (B: median block
 *                            executions per iteration)
 *   prof N ADDR INSNS        (instructions executed in blocks at ADDR)
 * bench/insn/run.sh maps the addresses to the guest's /proc/kallsyms.
 *
 * Written against the plugin API of Debian 12's QEMU 7.2 (version 1); its
 * header is not packaged, so the few declarations used are below, as that
 * release's include/qemu/qemu-plugin.h states them.  One vCPU (-smp 1):
 * the counters are not per CPU.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- QEMU 7.2 plugin API (include/qemu/qemu-plugin.h, version 1) ---- */
typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags {
	QEMU_PLUGIN_CB_NO_REGS,
	QEMU_PLUGIN_CB_R_REGS,
	QEMU_PLUGIN_CB_RW_REGS,
};
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id,
					       struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index,
					    void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
					   qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb,
					      enum qemu_plugin_op op,
					      void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
					    qemu_plugin_vcpu_udata_cb_t cb,
					    enum qemu_plugin_cb_flags flags,
					    void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb,
						 size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
				    qemu_plugin_udata_cb_t cb, void *userdata);
/* ---- end of the API ---- */

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

/* One translation of a block; a block may be translated again. */
struct block {
	uint64_t vaddr;
	uint64_t n_insns;
	uint64_t execs;		/* incremented inline at each execution */
	uint64_t snap;		/* @execs at the experiment's begin */
};

enum mark { M_EXP_BEGIN, M_ITER_BEGIN, M_ITER_END, M_EXP_END };

static struct block **blocks;
static size_t nblocks, capblocks;
static uint64_t insns;		/* all instructions, inline */
static uint64_t tbs;		/* all block executions, inline */
static uint64_t iter_start, iter_tbs;
static uint64_t *deltas, *tb_deltas;
static size_t ndeltas, capdeltas;
static unsigned int exp_nr;
static FILE *out;

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct prof {
	uint64_t vaddr, insns;
};

static int cmp_vaddr(const void *a, const void *b)
{
	const struct prof *x = a, *y = b;

	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

static void exp_end(void)
{
	struct prof *p;
	size_t i, n = 0;

	if (ndeltas) {
		qsort(deltas, ndeltas, sizeof(*deltas), cmp_u64);
		qsort(tb_deltas, ndeltas, sizeof(*tb_deltas), cmp_u64);
		fprintf(out, "exp %u iters %zu min %llu median %llu p90 %llu"
			" blocks %llu\n",
			exp_nr, ndeltas, (unsigned long long)deltas[0],
			(unsigned long long)deltas[ndeltas / 2],
			(unsigned long long)deltas[ndeltas * 9 / 10],
			(unsigned long long)tb_deltas[ndeltas / 2]);
	}
	p = calloc(nblocks ? nblocks : 1, sizeof(*p));
	if (!p)
		abort();
	for (i = 0; i < nblocks; i++) {
		uint64_t e = blocks[i]->execs - blocks[i]->snap;

		if (e) {
			p[n].vaddr = blocks[i]->vaddr;
			p[n].insns = e * blocks[i]->n_insns;
			n++;
		}
	}
	qsort(p, n, sizeof(*p), cmp_vaddr);
	for (i = 0; i < n; i++) {
		uint64_t sum = p[i].insns;

		while (i + 1 < n && p[i + 1].vaddr == p[i].vaddr)
			sum += p[++i].insns;
		fprintf(out, "prof %u %016llx %llu\n", exp_nr,
			(unsigned long long)p[i].vaddr,
			(unsigned long long)sum);
	}
	free(p);
	fflush(out);
	ndeltas = 0;
}

static void on_mark(unsigned int vcpu, void *udata)
{
	size_t i;

	(void)vcpu;
	switch ((enum mark)(uintptr_t)udata) {
	case M_EXP_BEGIN:
		exp_nr++;
		ndeltas = 0;
		for (i = 0; i < nblocks; i++)
			blocks[i]->snap = blocks[i]->execs;
		break;
	case M_ITER_BEGIN:
		iter_start = insns;
		iter_tbs = tbs;
		break;
	case M_ITER_END:
		if (ndeltas == capdeltas) {
			capdeltas = capdeltas ? 2 * capdeltas : 4096;
			deltas = realloc(deltas, capdeltas * sizeof(*deltas));
			tb_deltas = realloc(tb_deltas,
					    capdeltas * sizeof(*tb_deltas));
			if (!deltas || !tb_deltas)
				abort();
		}
		tb_deltas[ndeltas] = tbs - iter_tbs;
		deltas[ndeltas++] = insns - iter_start;
		break;
	case M_EXP_END:
		exp_end();
		break;
	}
}

static int mark_of(const struct qemu_plugin_insn *insn)
{
	const unsigned char *d = qemu_plugin_insn_data(insn);

	if (qemu_plugin_insn_size(insn) != 3 || d[0] != 0x66 || d[1] != 0x87)
		return -1;
	switch (d[2]) {
	case 0xd2: return M_EXP_BEGIN;
	case 0xdb: return M_ITER_BEGIN;
	case 0xc9: return M_ITER_END;
	case 0xf6: return M_EXP_END;
	}
	return -1;
}

static void on_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t i, n = qemu_plugin_tb_n_insns(tb);
	struct block *b = calloc(1, sizeof(*b));

	(void)id;
	if (!b)
		abort();
	b->vaddr = qemu_plugin_tb_vaddr(tb);
	b->n_insns = n;
	if (nblocks == capblocks) {
		capblocks = capblocks ? 2 * capblocks : 65536;
		blocks = realloc(blocks, capblocks * sizeof(*blocks));
		if (!blocks)
			abort();
	}
	blocks[nblocks++] = b;
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
						 &b->execs, 1);
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
						 &insns, n);
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
						 &tbs, 1);
	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		int m = mark_of(insn);

		if (m >= 0)
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_mark,
					QEMU_PLUGIN_CB_NO_REGS,
					(void *)(uintptr_t)m);
	}
}

static void at_exit_cb(qemu_plugin_id_t id, void *udata)
{
	(void)id;
	(void)udata;
	fflush(out);
}

__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
			int argc, char **argv)
{
	const char *path = "insn-plugin.out";
	int i;

	(void)info;
	for (i = 0; i < argc; i++)
		if (!strncmp(argv[i], "out=", 4))
			path = argv[i] + 4;
	out = fopen(path, "w");
	if (!out)
		return -1;
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_trans);
	qemu_plugin_register_atexit_cb(id, at_exit_cb, NULL);
	return 0;
}
