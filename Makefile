# kipc - Linux kernel IPC toolkit.  `make help` lists the targets.

SHELL := /bin/bash
KERNELS ?= 6.1 6.12
DEMO_KERNEL ?= 6.1
BENCH_KERNEL ?= 6.1
B := build/user

CC ?= gcc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror
ALL_CFLAGS := $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude/uapi -Iinclude $(CFLAGS)

# Shipped modules: one per kernel/*.c (the test list is built from this).
MODULES := $(patsubst kernel/%.c,%,$(wildcard kernel/*.c))

LIB_SRCS := $(wildcard lib/*.c)
LIB_OBJS := $(patsubst lib/%.c,$(B)/lib/%.o,$(LIB_SRCS))
LIB_A := $(if $(LIB_SRCS),$(B)/lib/libkipc.a)
LIB_SO := $(if $(LIB_SRCS),$(B)/lib/libkipc.so.0)
TOOLS := $(patsubst tools/%.c,$(B)/tools/%,$(wildcard tools/*.c))
# The course tools also as static 32-bit (i386) programs: their ioctls go
# through the modules' compat_ioctl (message_slot/tools runs both builds).
# Needs gcc-multilib and libc6-dev-i386 (scripts/deps.sh).
TOOLS32 := $(B)/tools/message_sender32 $(B)/tools/message_reader32
EXAMPLES := $(patsubst examples/%.c,$(B)/examples/%,$(wildcard examples/*.c))
BENCHES := $(patsubst bench/%.c,$(B)/bench/%,$(wildcard bench/*.c))
# Guest tests: every tests/AREA/NAME.c (not lib/ or kmod/) is the test
# AREA/NAME, built as $(B)/tests/AREA/NAME; no list to keep in sync.
TEST_SRCS := $(filter-out tests/lib/% tests/kmod/%,$(wildcard tests/*/*.c))
TESTS := $(patsubst tests/%.c,$(B)/tests/%,$(TEST_SRCS))
TESTLIB_SRCS := $(wildcard tests/lib/*.c)
HDRS := $(wildcard include/*/*.h include/*/*/*.h tests/lib/*.h lib/*.h bench/*.h)

.PHONY: all help deps modules user check check-debug debug-kernel check-kcsan kcsan-kernel demo shell lint bench bench-docs clean install install-lib
.DEFAULT_GOAL := all

all: modules user

help:
	@echo "make            build modules (for KERNELS='$(KERNELS)') and user space"
	@echo "make check      install deps, build, run the test suite on every kernel"
	@echo "make check-debug  the suite on a KASAN/lockdep/kmemleak/UBSAN/fault-injection kernel"
	@echo "make check-kcsan  module tests and stress on a KCSAN (data-race) kernel"
	@echo "make demo       narrated showcase in a $(DEMO_KERNEL) guest"
	@echo "make shell      interactive guest shell with kipc loaded"
	@echo "make lint       W=1, sparse, checkpatch --strict, cppcheck"
	@echo "make bench      benchmarks against Linux IPC in a $(BENCH_KERNEL) guest (build/bench/)"
	@echo "make bench-docs copy the last make bench results into docs/benchmarks.md"
	@echo "make modules KERNELS=running   build for the running kernel"
	@echo "make install    install modules (running kernel), lib, headers, tools"
	@echo "make install-lib  libkipc, kipc.pc, headers, man pages (DESTDIR ok)"

deps:
	@scripts/deps.sh

modules: deps
	+@for k in $(KERNELS); do \
		rel=$$(scripts/kver.sh $$k) || exit 1; \
		echo "  MODULES $$rel"; \
		scripts/build-modules.sh $$rel 2>&1 | grep -v 'Skipping BTF' ; \
		[ $${PIPESTATUS[0]:-0} = 0 ] || exit 1; \
	done

LIB_PC := $(if $(LIB_SRCS),$(B)/lib/pkgconfig/kipc.pc)
user: $(LIB_A) $(LIB_SO) $(LIB_PC) $(TOOLS) $(TOOLS32) $(EXAMPLES) $(BENCHES) $(TESTS)

$(B)/lib/%.o: lib/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -c -o $@ $<

$(B)/lib/libkipc.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/lib/libkipc.so.0: $(LIB_OBJS)
	$(CC) $(ALL_CFLAGS) -shared -Wl,-soname,libkipc.so.0 -o $@ $^
	ln -sf libkipc.so.0 $(B)/lib/libkipc.so

# pkg-config file for the installed library (PREFIX as for make install).
$(B)/lib/pkgconfig/kipc.pc: Makefile
	@mkdir -p $(@D)
	printf '%s\n' 'prefix=$(PREFIX)' 'exec_prefix=$${prefix}' \
		'libdir=$${exec_prefix}/lib' 'includedir=$${prefix}/include' '' \
		'Name: kipc' \
		'Description: kipc Linux kernel IPC toolkit library (kshm named shared memory, ...)' \
		'Version: 0.1' 'Libs: -L$${libdir} -lkipc' 'Libs.private: -lpthread' \
		'Cflags: -I$${includedir}' >$@

# Programs link libkipc statically, so they run anywhere without -L games.
$(B)/tools/% $(B)/examples/% $(B)/bench/%: EXTRA_LIBS = -lpthread -lrt -lm
$(B)/tools/%: tools/%.c $(HDRS) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB_A) $(EXTRA_LIBS)

$(B)/tools/%32: tools/%.c $(HDRS)
	@mkdir -p $(@D)
	@echo 'int main(void) { return 0; }' | $(CC) -m32 -static -x c -o /dev/null - 2>/dev/null || \
		{ echo "$@: $(CC) -m32 -static cannot link: run scripts/deps.sh (gcc-multilib, libc6-dev-i386)" >&2; exit 1; }
	$(CC) -m32 -static $(ALL_CFLAGS) -o $@ $<

$(B)/examples/%: examples/%.c $(HDRS) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB_A) $(EXTRA_LIBS)

$(B)/bench/%: bench/%.c $(HDRS) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB_A) $(EXTRA_LIBS)

TREE_MODULES := $(foreach m,$(MODULES),"$(m)",)
$(B)/tests/%: tests/%.c $(TESTLIB_SRCS) $(HDRS) $(LIB_A) Makefile
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests '-DKIPC_TREE_MODULES=$(TREE_MODULES)' -o $@ $< \
		$(TESTLIB_SRCS) $(LIB_A) -lcmocka -lpthread -lrt -lm

check: modules user
	@tests/run-suite $(foreach k,$(KERNELS),--kernel $(k))

# The debug guest kernel (scripts/build-debug-kernel.sh, vm/debug.config):
# built once from linux-source-6.1 and cached under build/debug-kernel/.
debug-kernel:
	@scripts/deps.sh debug
	@scripts/build-debug-kernel.sh >/dev/null

check-debug: deps user
	@scripts/deps.sh debug
	@tree=$$(scripts/build-debug-kernel.sh) || exit 1; \
	rel=$$(cat "$$tree/kipc-release"); \
	echo "  MODULES $$rel"; \
	KDIR=$$tree scripts/build-modules.sh $$rel 2>&1 | grep -v 'Skipping BTF'; \
	[ $${PIPESTATUS[0]} = 0 ] || exit 1; \
	KIPC_SUITE_TIMEOUT=$${KIPC_SUITE_TIMEOUT:-5400} \
	KIPC_APPEND="KIPC_STRESS_SECONDS=$${KIPC_STRESS_SECONDS:-60} $${KIPC_APPEND:-}" \
		tests/run-suite --rig-kernel-only --fault-lane \
			--kernel "$$tree/arch/x86/boot/bzImage"

# The data-race lane (vm/kcsan.config over vm/debug.config): KCSAN cannot
# share a kernel with KASAN, so it is a second cached kernel.  The modules'
# guest tests and stress run on it (fault walks skip: no fault injection
# there); any KCSAN report fails the run.
KCSAN_TESTS ?= message_slot/ myshm/ kshm/
kcsan-kernel:
	@scripts/deps.sh debug
	@scripts/build-debug-kernel.sh --flavour kcsan >/dev/null

check-kcsan: deps user
	@scripts/deps.sh debug
	@tree=$$(scripts/build-debug-kernel.sh --flavour kcsan) || exit 1; \
	rel=$$(cat "$$tree/kipc-release"); \
	echo "  MODULES $$rel"; \
	KDIR=$$tree scripts/build-modules.sh $$rel 2>&1 | grep -v 'Skipping BTF'; \
	[ $${PIPESTATUS[0]} = 0 ] || exit 1; \
	tests/run-suite --rig-kernel-only --kernel "$$tree/arch/x86/boot/bzImage" \
		$(KCSAN_TESTS)

demo: modules user
	@vm/run --kernel $(DEMO_KERNEL) -- kipc-demo

shell: modules user
	@vm/run --kernel $(DEMO_KERNEL) --load --timeout 86400 --shell

lint: user
	@scripts/deps.sh lint
	@scripts/lint.sh $(KERNELS)

# One guest runs every benchmark (bench/run.sh); CSV, PNG charts and the
# ratio tables land in build/bench/.  BENCH_ARGS: e.g. --quick, or areas.
bench: modules user
	@scripts/deps.sh bench
	@bench/run.sh --kernel $(BENCH_KERNEL) $(BENCH_ARGS)

# Put the last results into docs/benchmarks.md (between its RESULTS markers)
# and the charts and CSV into docs/bench/.
bench-docs:
	@bench/docs.sh

clean:
	rm -rf build

PREFIX ?= /usr/local
install: user install-lib
	@rel=$$(uname -r); \
	scripts/build-modules.sh $$rel && \
	install -d /lib/modules/$$rel/extra && \
	install -m 0644 build/modules/$$rel/kipc/*.ko /lib/modules/$$rel/extra/ && \
	depmod -a $$rel
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include/kipc
	install -m 0755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 include/uapi/kipc/*.h $(wildcard include/kipc/*.h) \
		$(DESTDIR)$(PREFIX)/include/kipc/

# Library, pkg-config file, headers and man pages (no modules, no root needed
# with DESTDIR).
install-lib: user
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/kipc
	install -m 0644 $(LIB_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 0755 $(LIB_SO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libkipc.so.0 $(DESTDIR)$(PREFIX)/lib/libkipc.so
	sed 's|^prefix=.*|prefix=$(PREFIX)|' $(LIB_PC) >$(DESTDIR)$(PREFIX)/lib/pkgconfig/kipc.pc
	install -m 0644 include/uapi/kipc/*.h $(wildcard include/kipc/*.h) \
		$(DESTDIR)$(PREFIX)/include/kipc/
	for s in 1 3 4; do \
		ls docs/man/*.$$s >/dev/null 2>&1 || continue; \
		install -d $(DESTDIR)$(PREFIX)/share/man/man$$s && \
		install -m 0644 docs/man/*.$$s $(DESTDIR)$(PREFIX)/share/man/man$$s/ || exit 1; \
	done
