# kipc - Linux kernel IPC toolkit.  `make help` lists the targets.

SHELL := /bin/bash
KERNELS ?= 6.1 6.12
DEMO_KERNEL ?= 6.1
BENCH_KERNEL ?= 6.1
# B: where user space is built (debian/rules uses its own, so the package
# build and its `clean` never touch build/user or build/modules).
B ?= build/user
# The version: line 1 of debian/changelog (scripts/version.sh), the one place.
KIPC_VERSION := $(shell scripts/version.sh)

CC ?= gcc
CFLAGS ?= -O2 -g
CXXFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror
# -MMD -MP: each compile writes the headers it read into a .d file next to
# its output (included at the end), so an edit rebuilds what it touches.
ALL_CFLAGS := $(WARN) -std=gnu11 -D_GNU_SOURCE -Iinclude/uapi -Iinclude \
	-MMD -MP $(CPPFLAGS) $(CFLAGS)
# The version, compiled only into what prints it (lib/version.c, the tools,
# insn-loop); they also depend on $(VERSION_STAMP), rewritten when it changes.
VERSION_DEF := '-DKIPC_VERSION="$(KIPC_VERSION)"'

# Shipped modules: one per kernel/*.c (the test list is built from this).
MODULES := $(patsubst kernel/%.c,%,$(wildcard kernel/*.c))

LIB_SRCS := $(wildcard lib/*.c)
LIB_OBJS := $(patsubst lib/%.c,$(B)/lib/%.o,$(LIB_SRCS))
LIB_A := $(if $(LIB_SRCS),$(B)/lib/libkipc.a)
# Real name libkipc.so.VERSION, soname libkipc.so.0 (bump the 0 on an ABI
# break, with debian/control's libkipc0 and debian/libkipc0.symbols).
LIB_SO := $(if $(LIB_SRCS),$(B)/lib/libkipc.so.$(KIPC_VERSION))
TOOLS := $(patsubst tools/%.c,$(B)/tools/%,$(wildcard tools/*.c))
# The course tools also as static 32-bit (i386) programs: their ioctls go
# through the modules' compat_ioctl (message_slot/tools runs both builds).
# Needs gcc-multilib and libc6-dev-i386 (scripts/deps.sh).
TOOLS32 := $(B)/tools/message_sender32 $(B)/tools/message_reader32
EXAMPLES := $(patsubst examples/%.c,$(B)/examples/%,$(wildcard examples/*.c))
BENCHES := $(patsubst bench/%.c,$(B)/bench/%,$(wildcard bench/*.c))
# C++ ones: Boost.Interprocess beside the channels (bench_chan_boost).
BENCHES += $(patsubst bench/%.cc,$(B)/bench/%,$(wildcard bench/*.cc))
# The instruction counter (make bench-insn): a QEMU TCG plugin and its loop.
BENCHES += $(B)/bench/insn-loop $(B)/bench/insn-plugin.so
# Guest tests: every tests/AREA/NAME.c (not lib/ or kmod/) is the test
# AREA/NAME, built as $(B)/tests/AREA/NAME; no list to keep in sync.
TEST_SRCS := $(filter-out tests/lib/% tests/kmod/% tests/rig/% tests/host/%,$(wildcard tests/*/*.c))
TESTS := $(patsubst tests/%.c,$(B)/tests/%,$(TEST_SRCS))
# Host-side helpers of the rig scripts (tests/rig/*.c), never in a guest.
RIG_PROGS := $(patsubst tests/rig/%.c,$(B)/rig/%,$(wildcard tests/rig/*.c))
# tests/lib: one static library, libkt.a, built once and linked into each test.
TESTLIB_SRCS := $(wildcard tests/lib/*.c)
TESTLIB_OBJS := $(patsubst tests/lib/%.c,$(B)/tests/lib/%.o,$(TESTLIB_SRCS))
TESTLIB_A := $(B)/tests/lib/libkt.a
# Host tests (tests/host/*.c, see below): not for the guest.
HOST_TEST_SRCS := $(wildcard tests/host/*.c)
HOST_TESTS := $(foreach s,asan tsan,$(patsubst tests/host/%.c,$(B)/host-tests/$(s)/%,$(HOST_TEST_SRCS)))
# Stamps: files rewritten only when their content changes, so that what
# depends on them rebuilds exactly then: the version (debian/changelog's)
# and the list of kernel/ modules (kt_modules() in tests/lib/kt.c).
VERSION_STAMP := $(B)/stamp/version
TREE_MODULES_STAMP := $(B)/stamp/tree-modules

.PHONY: all help deps modules user lib tools check check-debug debug-kernel check-kcsan check-ivshmem-load kcsan-kernel demo shell lint bench bench-insn bench-docs clean
.PHONY: install install-lib install-tools install-dkms uninstall deb check-deb
.PHONY: deps-build deps-modules deps-user
.DEFAULT_GOAL := all

all: modules user

help:
	@echo "make            build modules (for KERNELS='$(KERNELS)') and user space"
	@echo "make check      install deps, build, run the test suite on every kernel"
	@echo "make check-debug  the suite on a KASAN/lockdep/kmemleak/UBSAN/fault-injection kernel"
	@echo "make check-kcsan  module tests and stress on a KCSAN (data-race) kernel"
	@echo "make check-ivshmem-load  the ivshmem server's load test for 60 s (host only)"
	@echo "make demo       narrated showcase in a $(DEMO_KERNEL) guest"
	@echo "make shell      interactive guest shell with kipc loaded"
	@echo "make lint       W=1, sparse, checkpatch --strict, cppcheck"
	@echo "make bench      benchmarks against Linux IPC in a $(BENCH_KERNEL) guest (build/bench/)"
	@echo "make bench-docs copy the last make bench results into docs/benchmarks.md"
	@echo "make bench-insn instructions per 128 B write+read: slot, pipe, io_uring (QEMU TCG plugin)"
	@echo "make modules KERNELS=running   build for the running kernel"
	@echo "make deps       install the test rig's packages (QEMU, guest kernels, cmocka, ...)"
	@echo "make deb        Debian packages (kipc-dkms, libkipc0, libkipc-dev, kipc-utils) in build/deb/"
	@echo "make check-deb  build, install (DKMS), test in guests, purge and lintian the packages"
	@echo "make install    install modules (running kernel), lib, headers, tools, udev rules"
	@echo "make install-lib  libkipc, kipc.pc, headers, man 3, 4 and 7 (DESTDIR, PREFIX, LIBDIR ok)"
	@echo "make install-tools  the tools and their man 1 pages (DESTDIR, PREFIX ok)"
	@echo "make install-dkms  module sources + dkms.conf into DESTDIR/usr/src/kipc-$(KIPC_VERSION)"
	@echo "make uninstall  remove what make install put there (same DESTDIR, PREFIX)"

# Packages (scripts/deps.sh): each target asks for the groups it uses, so
# building and installing never pull the test rig; `make deps` is the rig.
# Compile rules wait for their group (order-only), and a missing package
# stops the build before anything is compiled.
deps:
	@KERNELS='$(KERNELS)' scripts/deps.sh rig
deps-build:
	@scripts/deps.sh build
# The 6.12 headers pull the 6.12 image: allowed only for the rig's goals.
RIG_GOALS := deps check check-debug check-kcsan demo shell lint bench bench-insn check-deb
deps-modules:
	@KERNELS='$(KERNELS)' $(if $(filter $(RIG_GOALS),$(MAKECMDGOALS)),KIPC_IMAGES_OK=1) \
		scripts/deps.sh modules
deps-user:
	@scripts/deps.sh user

modules: deps-modules
	+@for k in $(KERNELS); do \
		rel=$$(scripts/kver.sh $$k) || exit 1; \
		echo "  MODULES $$rel"; \
		scripts/build-modules.sh $$rel 2>&1 | grep -v 'Skipping BTF' ; \
		[ $${PIPESTATUS[0]:-0} = 0 ] || exit 1; \
	done

LIB_PC := $(if $(LIB_SRCS),$(B)/lib/pkgconfig/kipc.pc)
user: $(LIB_A) $(LIB_SO) $(LIB_PC) $(TOOLS) $(TOOLS32) $(EXAMPLES) $(BENCHES) $(TESTS) $(RIG_PROGS) $(HOST_TESTS)
# What the packages ship (no cmocka, no kernel headers needed).
lib: $(LIB_A) $(LIB_SO) $(LIB_PC)
tools: lib $(TOOLS)

$(B)/lib/version.o: VERSION_DEF_LIB = $(VERSION_DEF)
$(B)/lib/version.o: $(VERSION_STAMP)
$(B)/lib/%.o: lib/%.c | deps-build
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(VERSION_DEF_LIB) -fPIC -c -o $@ $<

$(B)/lib/libkipc.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/lib/libkipc.so.$(KIPC_VERSION): $(LIB_OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -shared -Wl,-soname,libkipc.so.0 -o $@ $^
	ln -sf $(@F) $(B)/lib/libkipc.so.0
	ln -sf libkipc.so.0 $(B)/lib/libkipc.so

# pkg-config file for the installed library (PREFIX, LIBDIR as for make
# install-lib, which writes it again with the values it is given).
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
$(B)/lib/pkgconfig/kipc.pc: Makefile debian/changelog
	@mkdir -p $(@D)
	printf '%s\n' 'prefix=$(PREFIX)' 'exec_prefix=$${prefix}' \
		'libdir=$(patsubst $(PREFIX)/%,$${exec_prefix}/%,$(LIBDIR))' \
		'includedir=$${prefix}/include' '' \
		'Name: kipc' \
		'Description: kipc Linux kernel IPC toolkit library (kshm named shared memory, ...)' \
		'Version: $(KIPC_VERSION)' 'Libs: -L$${libdir} -lkipc' 'Libs.private: -lpthread' \
		'Cflags: -I$${includedir}' >$@

# Programs link libkipc statically, so they run anywhere without -L games.
$(B)/tools/% $(B)/examples/% $(B)/bench/%: EXTRA_LIBS = -lpthread -lrt -lm
# bench_msg drives slots and pipes through io_uring too (liburing)
$(B)/bench/bench_msg: EXTRA_LIBS = -lpthread -lrt -lm -luring
# bench_chan measures ZeroMQ and nng beside the channels (issue 27)
$(B)/bench/bench_chan: EXTRA_LIBS = -lpthread -lrt -lm -lzmq -lnng
$(B)/tools/%: tools/%.c $(VERSION_STAMP) $(LIB_A) | deps-build
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(VERSION_DEF) $(LDFLAGS) -o $@ $< $(LIB_A) $(EXTRA_LIBS)

$(B)/rig/%: tests/rig/%.c $(LIB_A) | deps-build
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_A)

$(B)/tools/%32: tools/%.c $(VERSION_STAMP) | deps-user
	@mkdir -p $(@D)
	@echo 'int main(void) { return 0; }' | $(CC) -m32 -static -x c -o /dev/null - 2>/dev/null || \
		{ echo "$@: $(CC) -m32 -static cannot link: run scripts/deps.sh (gcc-multilib, libc6-dev-i386)" >&2; exit 1; }
	$(CC) -m32 -static $(ALL_CFLAGS) $(VERSION_DEF) -o $@ $<

$(B)/examples/%: examples/%.c $(LIB_A) | deps-build
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_A) $(EXTRA_LIBS)

$(B)/bench/%: bench/%.c $(LIB_A) | deps-user
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_A) $(EXTRA_LIBS)

$(B)/bench/%: bench/%.cc | deps-user
	@mkdir -p $(@D)
	$(CXX) $(WARN) -std=gnu++17 -D_GNU_SOURCE -Iinclude -MMD -MP $(CPPFLAGS) \
		$(CXXFLAGS) $(LDFLAGS) -o $@ $< -lpthread -lrt

$(B)/bench/insn-loop: bench/insn/insn-loop.c $(VERSION_STAMP) $(LIB_A) | deps-user
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(VERSION_DEF) $(LDFLAGS) -o $@ $< $(LIB_A) -luring

$(B)/bench/insn-plugin.so: bench/insn/insn-plugin.c | deps-user
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Wall -Wextra -Werror -fPIC -shared -o $@ $<

TREE_MODULES := $(foreach m,$(MODULES),"$(m)",)
# Extra libraries of one test: TEST_LIBS_<area>_<name>.
TEST_LIBS_message_slot_uring := -luring
TEST_LIBS_message_slot_nowait := -luring
# Each test is compiled to AREA/NAME.o, then linked with libkt.a: a change
# in tests/lib relinks the tests and recompiles only what includes it.
# kt_modules() lists kernel/'s modules, from the build.
$(B)/tests/lib/kt.o: TESTLIB_DEFS = '-DKIPC_TREE_MODULES=$(TREE_MODULES)'
$(B)/tests/lib/kt.o: $(TREE_MODULES_STAMP)
$(B)/tests/%.o: tests/%.c | deps-user
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests $(TESTLIB_DEFS) -c -o $@ $<

$(TESTLIB_A): $(TESTLIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

# (no chained-rule clean-up of the test objects: they are kept for relinking)
.SECONDARY: $(TESTS:=.o)
$(B)/tests/%: $(B)/tests/%.o $(TESTLIB_A) $(LIB_A)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(TESTLIB_A) $(LIB_A) \
		-lcmocka -lpthread -lrt -lm $(TEST_LIBS_$(subst /,_,$*))

# Host tests: tests/host/NAME.c need no module and run on the build host
# (tests/run-suite runs them before the guests), each built twice with
# libkipc's sources: AddressSanitizer+UBSan (asan/) and ThreadSanitizer
# (tsan/), as $(B)/host-tests/{asan,tsan}/NAME (HOST_TESTS, above).
SAN_asan := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_tsan := -fsanitize=thread
# (one compile of several sources: the headers are listed, not -MMD'd)
HOST_HDRS = $(wildcard include/*/*.h include/*/*/*.h tests/host/*.h)
define host_test_rule
$(B)/host-tests/$(1)/%: tests/host/%.c $(LIB_SRCS) $(HOST_HDRS) Makefile | deps-user
	@mkdir -p $$(@D)
	$(CC) $(filter-out -MMD -MP,$(ALL_CFLAGS)) $(VERSION_DEF) -O1 $(SAN_$(1)) \
		-o $$@ $$< $(LIB_SRCS) -lcmocka -lpthread -lrt
endef
$(foreach s,asan tsan,$(eval $(call host_test_rule,$(s))))

# A stamp's recipe always runs (FORCE) but rewrites the file only when the
# value differs, so its mtime moves only then.
$(VERSION_STAMP): FORCE
	@mkdir -p $(@D)
	@echo '$(KIPC_VERSION)' | cmp -s - $@ || echo '$(KIPC_VERSION)' >$@
$(TREE_MODULES_STAMP): FORCE
	@mkdir -p $(@D)
	@echo '$(TREE_MODULES)' | cmp -s - $@ || echo '$(TREE_MODULES)' >$@
.PHONY: FORCE
FORCE:

# The .d files of every compile (-MMD): missing before the first build.
DEPS := $(LIB_OBJS:.o=.d) $(TESTLIB_OBJS:.o=.d) \
	$(TESTS:=.d) $(addsuffix .d,$(TOOLS) $(TOOLS32) $(EXAMPLES) $(RIG_PROGS) \
	$(filter-out %.so,$(BENCHES)))
-include $(DEPS)

check: deps modules user
	@tests/run-suite $(foreach k,$(KERNELS),--kernel $(k))

# The full load test of kipc-ivshmem-server (make check runs it for 3 s):
# host only, as root (it runs the server and clients as other users).
IVSHMEM_LOAD_SECONDS ?= 60
check-ivshmem-load: user
	@KIPC_IVSHMEM_LOAD_SECONDS=$(IVSHMEM_LOAD_SECONDS) tests/rig/ivshmem-server-load.sh

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
KCSAN_TESTS ?= message_slot/ myshm/ kshm/ ivshmem/
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

demo: deps modules user
	@vm/demo --kernel $(DEMO_KERNEL)

shell: deps modules user
	@vm/run --kernel $(DEMO_KERNEL) --load --timeout 86400 --shell

lint: user
	@KERNELS='$(KERNELS)' scripts/deps.sh lint
	@scripts/lint.sh $(KERNELS)

# One guest runs every benchmark (bench/run.sh); CSV, PNG charts and the
# ratio tables land in build/bench/.  BENCH_ARGS: e.g. --quick, or areas.
bench: deps modules user
	@scripts/deps.sh bench
	@bench/run.sh --kernel $(BENCH_KERNEL) $(BENCH_ARGS)

# Instructions per 128-byte write+read, slot against pipe, by function
# (bench/insn/run.sh: a TCG plugin; counts, not times).
bench-insn: deps modules user
	@bench/insn/run.sh --kernel $(BENCH_KERNEL)

# Put the last results into docs/benchmarks.md (between its RESULTS markers)
# and the charts and CSV into docs/bench/.
bench-docs:
	@bench/docs.sh

clean:
	rm -rf build

# ---- installing -------------------------------------------------------
# Debian and derivatives: `make deb` and the packages (docs/packaging.md).
# Elsewhere: make install / make uninstall (DESTDIR, PREFIX, LIBDIR).
# Lists come from the tree: every tools/*.c, docs/man/*.N, kernel/*.c.
MAN1 := $(wildcard docs/man/*.1)
MAN34 := $(wildcard docs/man/*.3 docs/man/*.4 docs/man/*.7)
# Section 3 pages that describe several functions: a link NAME.3 -> PAGE.3
# for each other function (NAME:PAGE).
MAN3_LINKS := kipc_chan_attr_init:kipc_chan_create kipc_chan_size:kipc_chan_create \
	kipc_chan_open:kipc_chan_create kipc_chan_unlink:kipc_chan_create \
	kipc_chan_fd:kipc_chan_create kipc_chan_format:kipc_chan_attach \
	kipc_chan_peer:kipc_chan_attach kipc_chan_close:kipc_chan_attach \
	kipc_chan_loan:kipc_chan_send kipc_chan_publish:kipc_chan_send \
	kipc_chan_peek:kipc_chan_recv kipc_chan_release:kipc_chan_recv \
	kipc_chan_set_spin:kipc_chan_stat kipc_chan_pollfd:kipc_chan_stat
HEADERS := $(wildcard include/uapi/kipc/*.h include/kipc/*.h)
UDEVDIR ?= /etc/udev/rules.d
# kipc-ivshmem-server's systemd unit (not enabled; kipc-utils: /lib/systemd/system)
SYSTEMDUNITDIR ?= /etc/systemd/system
UNITS := $(wildcard tools/*.service)
KMODDIR = $(DESTDIR)/lib/modules/$$(uname -r)/extra

# Packages first (compiler, the running kernel's headers), then the build.
install:
	@KERNELS=running scripts/deps.sh modules
	@$(MAKE) --no-print-directory install-lib install-tools
	@rel=$$(uname -r); \
	scripts/build-modules.sh $$rel && \
	install -d $(KMODDIR) && \
	install -m 0644 build/modules/$$rel/kipc/*.ko $(KMODDIR)/ && \
	{ [ -n "$(DESTDIR)" ] || depmod -a $$rel; }
	install -d $(DESTDIR)$(UDEVDIR)
	install -m 0644 config/60-kipc.rules $(DESTDIR)$(UDEVDIR)/
	@getent group kipc >/dev/null || \
		echo "make install: no group kipc yet (udev rules): groupadd --system kipc"

# Library, pkg-config file, headers, man 3, 4 and 7 pages (no root needed with
# DESTDIR).
install-lib: lib
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(PREFIX)/include/kipc
	install -m 0644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	install -m 0644 $(LIB_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(LIB_SO)) $(DESTDIR)$(LIBDIR)/libkipc.so.0
	ln -sf libkipc.so.0 $(DESTDIR)$(LIBDIR)/libkipc.so
	sed -e 's|^prefix=.*|prefix=$(PREFIX)|' \
		-e 's|^libdir=.*|libdir=$(patsubst $(PREFIX)/%,$${exec_prefix}/%,$(LIBDIR))|' \
		$(LIB_PC) >$(DESTDIR)$(LIBDIR)/pkgconfig/kipc.pc
	install -m 0644 $(HEADERS) $(DESTDIR)$(PREFIX)/include/kipc/
	for m in $(MAN34); do \
		d=$(DESTDIR)$(PREFIX)/share/man/man$${m##*.}; \
		install -d $$d && install -m 0644 $$m $$d/ || exit 1; \
	done
	for l in $(MAN3_LINKS); do \
		ln -sf $${l#*:}.3 $(DESTDIR)$(PREFIX)/share/man/man3/$${l%%:*}.3 || exit 1; \
	done

# The units name /usr/local/bin/TOOL; installed, they name PREFIX/bin/TOOL.
install-tools: tools
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(MAN1) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	for u in $(UNITS); do \
		sed 's|/usr/local/bin/|$(PREFIX)/bin/|g' $$u >$(DESTDIR)$(SYSTEMDUNITDIR)/$${u##*/} && \
		chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$${u##*/} || exit 1; \
	done

# The module sources as DKMS wants them (kipc-dkms ships this): then
# `dkms install kipc/$(KIPC_VERSION)` builds for a kernel.
DKMS_SRC = $(DESTDIR)/usr/src/kipc-$(KIPC_VERSION)
install-dkms:
	install -d $(DKMS_SRC)/include/uapi/kipc
	install -m 0644 kernel/Kbuild kernel/*.c kernel/*.h $(DKMS_SRC)/
	install -m 0644 include/uapi/kipc/*.h $(DKMS_SRC)/include/uapi/kipc/
	scripts/dkms-conf.sh >$(DKMS_SRC)/dkms.conf

uninstall:
	rm -f $(foreach t,$(TOOLS),$(DESTDIR)$(PREFIX)/bin/$(notdir $(t)))
	rm -f $(foreach m,$(MAN1) $(MAN34),$(DESTDIR)$(PREFIX)/share/man/man$(subst .,,$(suffix $(m)))/$(notdir $(m)))
	rm -f $(foreach l,$(MAN3_LINKS),$(DESTDIR)$(PREFIX)/share/man/man3/$(firstword $(subst :, ,$(l))).3)
	rm -f $(foreach h,$(HEADERS),$(DESTDIR)$(PREFIX)/include/kipc/$(notdir $(h)))
	-rmdir $(DESTDIR)$(PREFIX)/include/kipc 2>/dev/null
	rm -f $(DESTDIR)$(LIBDIR)/libkipc.a $(DESTDIR)$(LIBDIR)/libkipc.so \
		$(DESTDIR)$(LIBDIR)/libkipc.so.0 $(DESTDIR)$(LIBDIR)/libkipc.so.$(KIPC_VERSION) \
		$(DESTDIR)$(LIBDIR)/pkgconfig/kipc.pc
	rm -f $(DESTDIR)$(UDEVDIR)/60-kipc.rules
	rm -f $(foreach u,$(UNITS),$(DESTDIR)$(SYSTEMDUNITDIR)/$(notdir $(u)))
	rm -f $(foreach m,$(MODULES),$(KMODDIR)/$(m).ko)
	@[ -n "$(DESTDIR)" ] || depmod -a $$(uname -r)

# ---- Debian packages (debian/, docs/packaging.md) ----------------------
# dpkg-buildpackage writes next to the checkout by default; KIPC_DEB_DIR
# (read by debian/rules) puts the .debs, .buildinfo and .changes here.
DEB_DIR := build/deb
DEB_ARCH = $$(dpkg-architecture -qDEB_HOST_ARCH)
deb:
	@scripts/deps.sh deb
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)
	KIPC_DEB_DIR=$(CURDIR)/$(DEB_DIR) dpkg-buildpackage -us -uc -b \
		--buildinfo-option=-u$(DEB_DIR) --changes-option=-u$(DEB_DIR) \
		--buildinfo-file=$(DEB_DIR)/kipc_$(KIPC_VERSION)_$(DEB_ARCH).buildinfo \
		--changes-file=$(DEB_DIR)/kipc_$(KIPC_VERSION)_$(DEB_ARCH).changes
	@ls -l $(DEB_DIR)/*.deb

# Build, install on this host (DKMS builds for both Debian kernels; nothing
# is loaded here), guest tests against the DKMS-built modules, a pkg-config
# build against libkipc-dev, purge, lintian.  Needs root.
check-deb: deb modules user
	@KERNELS='$(KERNELS)' scripts/deps.sh check-deb
	@scripts/check-deb.sh $(KERNELS)
