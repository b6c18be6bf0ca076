#!/bin/bash
# check-deb.sh [KERNEL...] - make check-deb: the Debian packages end to end.
#
# Needs root, the packages in build/deb/ (make deb), the tree's guest tests
# and test-only modules (make modules user).  KERNEL: 6.1 6.12 by default.
#   1. the packages: all four there, lintian clean (errors and warnings),
#      contents derived from the tree (every kernel/*.c in the DKMS source
#      and dkms.conf, every tools/*.c in kipc-utils), man pages groff-clean
#   2. apt-get install of all four on this host: the group kipc, the udev
#      rules; DKMS builds and installs for every KERNEL (nothing is loaded
#      on the host), modinfo says our version; the kernel-upgrade hook
#      (/etc/kernel/postinst.d/dkms) builds again after a dkms remove
#   3. per KERNEL: a guest boots with the DKMS-built modules (vm/run
#      --modules), they load and say our version, and the message_slot/,
#      myshm/ and kshm/ guest tests pass against them
#   4. the installed tools: --version and --help, man pages found by man
#   5. libkipc-dev unpacked into a scratch root (dpkg -x): an example built
#      with `pkg-config --cflags --libs kipc` only, run against it; make
#      install-lib install-tools / uninstall with DESTDIR and PREFIX
#   6. apt-get purge: dkms status has no kipc, no file of the packages left
# Output is TAP-like; the last line is "N passed, N failed".  Whatever
# fails, the packages are purged again on exit.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
[ $# -gt 0 ] || set -- 6.1 6.12
export DEBIAN_FRONTEND=noninteractive
# Wait for anyone else's apt on the dpkg lock instead of failing (a purge
# that fails on the lock leaves the packages installed).
apt_get() { apt-get -o DPkg::Lock::Timeout=900 "$@"; }
if [ "$(id -u)" != 0 ]; then
	echo "check-deb.sh: needs root (installs the packages on this host)" >&2
	exit 1
fi

ver=$(scripts/version.sh) || exit 1
arch=$(dpkg --print-architecture)
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
debdir=$top/build/deb
pkgs="kipc-dkms libkipc0 libkipc-dev kipc-utils"
modules=$(for c in kernel/*.c; do basename "$c" .c; done | xargs)
tools=$(for c in tools/*.c; do basename "$c" .c; done | xargs)
work=$(mktemp -d "${TMPDIR:-/tmp}/kipc-check-deb.XXXXXX")
n=0 P=0 F=0

ok() { n=$((n + 1)) P=$((P + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)) F=$((F + 1)); echo "not ok $n - $*"; }
# check NAME CMD...: one test; CMD's output is shown (as # lines) on failure
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$name"
	else
		not_ok "$name"
		sed 's/^/#   /' <<<"$out" | tail -n 40
	fi
}
note() { sed 's/^/# /'; }
deb_of() {
	local a=$arch
	[ "$1" = kipc-dkms ] && a=all
	echo "$debdir/${1}_${ver}_$a.deb"
}
installed() { dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null | grep -qx installed; }
purge_all() {
	local p any=
	for p in $pkgs; do
		dpkg-query -W "$p" >/dev/null 2>&1 && any="$any $p"
	done
	[ -z "$any" ] || apt_get purge -y -qq $any >/dev/null 2>&1
}
cleanup() {
	purge_all
	rm -rf "$work"
}
trap cleanup EXIT

# ---- 1. the packages --------------------------------------------------
have_all() {
	local p
	for p in $pkgs; do
		[ -f "$(deb_of "$p")" ] || { echo "missing $(deb_of "$p")"; return 1; }
	done
}
check "the four packages are built (make deb)" have_all
for p in $pkgs; do
	[ -f "$(deb_of "$p")" ] && echo "$p $(stat -c %s "$(deb_of "$p")") bytes"
done | note

lintian_clean() {
	# lintian says "running with root privileges is not recommended!"
	lintian --fail-on error,warning -I "$debdir/kipc_${ver}_$arch.changes" 2>&1 |
		grep -v 'running with root privileges'
	return "${PIPESTATUS[0]}"
}
out=$(lintian_clean)
rc=$?
if [ $rc = 0 ]; then ok "lintian: no errors or warnings"; else not_ok "lintian (exit $rc)"; fi
echo "${out:-lintian: no tags}" | note

dkms_contents() {
	local list conf m f bad=0
	list=$(dpkg-deb -c "$(deb_of kipc-dkms)" | awk '{print $6}')
	for f in kernel/*.c kernel/*.h kernel/Kbuild include/uapi/kipc/*.h; do
		case $f in kernel/*) f=${f#kernel/} ;; esac
		grep -qx "./usr/src/kipc-$ver/$f" <<<"$list" || { echo "no $f"; bad=1; }
	done
	grep -qx "./lib/udev/rules.d/60-kipc.rules" <<<"$list" || { echo "no udev rules"; bad=1; }
	conf=$(dpkg-deb --fsys-tarfile "$(deb_of kipc-dkms)" |
		tar -xO "./usr/src/kipc-$ver/dkms.conf")
	for m in $modules; do
		grep -q "^BUILT_MODULE_NAME\[[0-9]*\]=\"$m\"" <<<"$conf" ||
			{ echo "dkms.conf: no $m"; bad=1; }
	done
	grep -qx 'AUTOINSTALL="yes"' <<<"$conf" || { echo "dkms.conf: no AUTOINSTALL"; bad=1; }
	grep -qx "PACKAGE_VERSION=\"$ver\"" <<<"$conf" || { echo "dkms.conf: version"; bad=1; }
	return $bad
}
check "kipc-dkms: every kernel/*.c, the uapi headers, dkms.conf for $modules, udev rules" dkms_contents

utils_contents() {
	local list t bad=0
	list=$(dpkg-deb -c "$(deb_of kipc-utils)" | awk '{print $6}')
	for t in $tools; do
		grep -qx "./usr/bin/$t" <<<"$list" || { echo "no /usr/bin/$t"; bad=1; }
		grep -qx "./usr/share/man/man1/$t.1.gz" <<<"$list" || { echo "no $t(1)"; bad=1; }
	done
	return $bad
}
check "kipc-utils: every tools/*.c with its man page" utils_contents

man_pages() {
	local f m out so bad=0
	for m in $modules; do
		[ -f "docs/man/$m.4" ] || { echo "no docs/man/$m.4"; bad=1; }
	done
	for f in docs/man/*.[0-9]; do
		# a link page (".so man3/kshm.3" for kshm_open(3)): its target
		so=$(sed -n '1s/^\.so //p' "$f")
		if [ -n "$so" ]; then
			[ "$(wc -l <"$f")" = 1 ] && [ -f "docs/man/${so#man*/}" ] ||
				{ echo "$f: .so $so: no such page"; bad=1; }
			continue
		fi
		out=$(groff -ww -z -man "$f" 2>&1)
		[ -z "$out" ] || { echo "$f: $out"; bad=1; }
		out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$f" 2>&1 >/dev/null)
		[ -z "$out" ] || { echo "man -l $f: $out"; bad=1; }
	done
	return $bad
}
check "man pages: one per module (4), groff -ww -z and man -l clean ($(ls docs/man | wc -l) pages)" man_pages

# What each target would install on a machine with only build-essential
# (a status file of that, apt's simulation): no rig package for make deb,
# make lib tools, make install, make modules.
out=$(scripts/deps-proof.sh 2>&1)
rc=$?
if [ $rc = 0 ]; then
	ok "deps-proof: make deb, lib tools, install, modules on a build-essential-only machine install no QEMU, busybox, trinity, cmocka, multilib or kernel image"
else
	not_ok "deps-proof (exit $rc)"
fi
grep -E '^(ok|not ok|# fake)' <<<"$out" | note

# ---- 2. install on this host -----------------------------------------
purge_all
debs=()
for p in $pkgs; do debs+=("$(deb_of "$p")"); done
start=$SECONDS
check "apt-get install of the four packages" \
	apt_get install -y --no-install-recommends "${debs[@]}"
echo "install (DKMS builds included) took $((SECONDS - start))s" | note
check "group kipc exists (dh_installsysusers: /usr/lib/sysusers.d/kipc-dkms.conf)" \
	sh -c 'test -f /usr/lib/sysusers.d/kipc-dkms.conf && getent group kipc'
check "udev rules installed (dh_installudev: /lib/udev/rules.d/60-kipc.rules)" \
	cmp /lib/udev/rules.d/60-kipc.rules config/60-kipc.rules
unit_ok() {
	local u=/lib/systemd/system/kipc-ivshmem-server.service st
	grep -qx 'ExecStart=/usr/bin/kipc-ivshmem-server .*' "$u" || { grep ExecStart "$u"; return 1; }
	systemd-analyze verify "$u" || return 1
	st=$(systemctl is-enabled kipc-ivshmem-server.service 2>&1)
	[ "$st" = disabled ] || { echo "is-enabled: $st"; return 1; }
}
check "systemd unit kipc-ivshmem-server.service: ExecStart /usr/bin, systemd-analyze verify clean, not enabled" unit_ok

rels=()
for k in "$@"; do
	rel=$(scripts/kver.sh "$k") || { not_ok "kernel $k: not installed"; continue; }
	rels+=("$rel")
done
dkms status -m kipc 2>/dev/null | note
dkms_installed() {
	dkms status -m kipc -v "$ver" -k "$1" | grep -q ": installed"
}
# the modules DKMS installed for RELEASE, uncompressed or not
dkms_dir() { echo "/lib/modules/$1/updates/dkms"; }
mod_versions() {
	local m f bad=0 v
	for m in $modules; do
		f=$(ls "$(dkms_dir "$1")/$m".ko* 2>/dev/null | head -n 1)
		[ -n "$f" ] || { echo "no $m in $(dkms_dir "$1")"; bad=1; continue; }
		v=$(modinfo -F version "$f")
		[ "$v" = "$ver" ] || { echo "$f: version '$v'"; bad=1; }
	done
	return $bad
}
for rel in "${rels[@]}"; do
	check "dkms status: kipc/$ver built and installed for $rel" dkms_installed "$rel"
	check "$rel: modinfo of $modules: version $ver" mod_versions "$rel"
done

# A kernel upgrade runs /etc/kernel/postinst.d/dkms RELEASE (AUTOINSTALL).
last=${rels[${#rels[@]}-1]:-}
if [ -n "$last" ]; then
	dkms remove -m kipc -v "$ver" -k "$last" >/dev/null 2>&1
	start=$SECONDS
	if dkms_installed "$last"; then
		not_ok "dkms remove -k $last did not remove it"
	else
		/etc/kernel/postinst.d/dkms "$last" >"$work/hook.log" 2>&1
		check "kernel hook (postinst.d/dkms $last) rebuilds and installs kipc" \
			dkms_installed "$last"
		echo "rebuild for $last took $((SECONDS - start))s" | note
	fi
fi

# BUILD_EXCLUSIVE_KERNEL (scripts/dkms-conf.sh from kernel/kipc_compat.h):
# a kernel outside 6.1-6.12 is refused with dkms's own line and exit 77
# before anything is compiled (no headers needed for that).
dkms_exclusive() {
	local out rc k=6.99.0-1-amd64
	out=$(dkms build -m kipc -v "$ver" -k $k 2>&1)
	rc=$?
	if [ $rc != 77 ] || ! grep -q 'BUILD_EXCLUSIVE directive which does not match' <<<"$out"; then
		echo "exit $rc: $out"
		return 1
	fi
	[ ! -e "/var/lib/dkms/kipc/$ver/$k" ] || { echo "/var/lib/dkms/kipc/$ver/$k made"; return 1; }
}
check "dkms build for a 6.99 kernel: refused by BUILD_EXCLUSIVE_KERNEL (exit 77, dkms's line)" dkms_exclusive

# ---- 3. guests with the DKMS-built modules -----------------------------
# One guest per kernel on the DKMS-built modules: autoload first (nothing
# is loaded yet), then every module loads and says our version.
#  - message_slot: opening a node made with mknod (major 235) makes the
#    kernel's chrdev_open call request_module("char-major-235-0"), which
#    runs /sbin/modprobe (CONFIG_MODPROBE_PATH); the alias comes from
#    MODULE_ALIAS_CHARDEV_MAJOR.  The rig's busybox has modprobe only in
#    /bin, so the guest links /sbin/modprobe to it first, as Debian has it.
#  - kipc_ivshmem: the guest has an ivshmem-plain device and no udev.  On a
#    real machine udev answers the kernel's add uevent with "kmod load
#    $MODALIAS" (80-drivers.rules); here busybox modprobe resolves the
#    device's MODALIAS (from its uevent) through the modules.alias that
#    depmod made from MODULE_DEVICE_TABLE, and the device must end up bound
#    to kipc_ivshmem.  The same MODALIAS then goes through Debian's kmod on
#    the host (modprobe -S RELEASE -R) against what DKMS installed there.
#    Not exercised: udev itself.
autoload_cmd='set -e
ln -sf /bin/busybox /sbin/modprobe
echo "modprobe_path $(cat /proc/sys/kernel/modprobe)"
for m in message_slot kipc_ivshmem; do
	[ ! -d /sys/module/$m ] || { echo "$m was loaded before"; exit 1; }
done
mknod /tmp/slot c 235 0
exec 3</tmp/slot
[ -d /sys/module/message_slot ] && echo "autoload message_slot ok"
exec 3<&-
dev=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat $d/vendor):$(cat $d/device)" = 0x1af4:0x1110 ] && dev=$d
done
[ -n "$dev" ] || { echo "no ivshmem device"; exit 1; }
[ ! -e $dev/driver ] || { echo "bound before: $(readlink $dev/driver)"; exit 1; }
ma=$(sed -n "s/^MODALIAS=//p" $dev/uevent)
echo "modalias $ma"
modprobe "$ma"
drv=$(readlink $dev/driver)
echo "driver ${drv##*/}"
[ "${drv##*/}" = kipc_ivshmem ] && echo "autoload kipc_ivshmem ok"
cd /kipc/modules && sha256sum *.ko
for m in '"$modules"'; do
	modprobe $m
	echo "version $m $(cat /sys/module/$m/version)"
done'
guest_run() {
	vm/run --kernel "$1" --modules "$(dkms_dir '{release}')" --timeout 300 \
		--ivshmem-plain "$work/ivshmem-$1:1M" -- sh -c "$autoload_cmd" >"$work/guest-$1.log" 2>&1
}
guest_modules() {
	local rel=$1 out m sum
	out=$(cat "$work/guest-$rel.log")
	for m in $modules; do
		f=$(ls "$(dkms_dir "$rel")/$m".ko* | head -n 1)
		case $f in
		*.xz) sum=$(xz -dc "$f" | sha256sum) ;;
		*) sum=$(sha256sum <"$f") ;;
		esac
		grep -q "^${sum%% *}  $m.ko" <<<"$out" || { echo "$m.ko in the guest is not $f"; return 1; }
		grep -qx "version $m $ver" <<<"$out" || { echo "$m: wrong version"; return 1; }
	done
}
guest_autoload() {
	local rel=$1 out ma r
	out=$(cat "$work/guest-$rel.log")
	grep -qx 'modprobe_path /sbin/modprobe' <<<"$out" || { echo "kernel's modprobe path"; return 1; }
	grep -qx 'autoload message_slot ok' <<<"$out" || { echo "open of a major-235 node did not load message_slot"; return 1; }
	grep -qx 'autoload kipc_ivshmem ok' <<<"$out" || { echo "the ivshmem device's MODALIAS did not bind kipc_ivshmem"; return 1; }
	r=$(modprobe -S "$rel" -R char-major-235-0) || return 1
	grep -qx message_slot <<<"$r" || { echo "host kmod: char-major-235-0 -> $r"; return 1; }
	ma=$(sed -n 's/^modalias //p' <<<"$out")
	r=$(modprobe -S "$rel" -R "$ma") || return 1
	grep -qx kipc_ivshmem <<<"$r" || { echo "host kmod: $ma -> $r"; return 1; }
	echo "host kmod, $rel: char-major-235-0 -> message_slot; $ma -> $(echo $r)"
}
# Every module's functional tests; the long loops (kshm/leaks, the */stress
# runs) are make check's: the DKMS build is the same source.
deb_tests=(message_slot/ myshm/ kshm/ ivshmem/ '!kshm/leaks' '!/stress')
for rel in "${rels[@]}"; do
	start=$SECONDS
	guest_run "$rel"
	rc=$?
	[ $rc = 0 ] || { not_ok "$rel guest on the DKMS-built modules (exit $rc)"; note <"$work/guest-$rel.log"; }
	check "$rel guest: the DKMS-built modules (sha256 = $(dkms_dir "$rel")) load, version $ver" \
		guest_modules "$rel"
	check "$rel guest: autoload: open of a mknod'ed major-235 node loads message_slot (request_module); the ivshmem device's MODALIAS binds kipc_ivshmem; host kmod resolves both" \
		guest_autoload "$rel"
	echo "guest took $((SECONDS - start))s" | note
	grep -E '^(modalias|driver) ' "$work/guest-$rel.log" | note
	start=$SECONDS
	KIPC_MODULES_DIR=$(dkms_dir '{release}') tests/run-suite --no-rig --no-host --kernel "$rel" \
		"${deb_tests[@]}" >"$work/suite-$rel.log" 2>&1
	rc=$?
	grep -E '^FAIL' "$work/suite-$rel.log" | head -n 40 | note
	last_line=$(tail -n 1 "$work/suite-$rel.log")
	read -r sp _ sf _ <<<"$last_line"
	if [ $rc = 0 ] && [ "${sp:-0}" -gt 0 ] 2>/dev/null && [ "${sf:-1}" = 0 ]; then
		ok "$rel guest tests ${deb_tests[*]} on the DKMS modules: $last_line ($((SECONDS - start))s)"
	else
		not_ok "$rel guest tests ${deb_tests[*]} on the DKMS modules: $last_line (exit $rc)"
		grep -B3 -A3 '^not ok [0-9]* - ' "$work/suite-$rel.log" | head -n 40 | note
	fi
done

# ---- 4. the installed tools ---------------------------------------------
tool_cli() {
	local t out bad=0
	for t in $tools; do
		out=$("/usr/bin/$t" --version 2>&1)
		[ "$out" = "$t (kipc) $ver" ] || { echo "$t --version: '$out'"; bad=1; }
		"/usr/bin/$t" --help >/dev/null 2>&1 || { echo "$t --help failed"; bad=1; }
		man -w "$t" >/dev/null 2>&1 || { echo "man $t: not found"; bad=1; }
	done
	for m in $modules kipc_version kshm; do
		man -w "$m" >/dev/null 2>&1 || { echo "man $m: not found"; bad=1; }
	done
	return $bad
}
check "/usr/bin/{$(echo "$tools" | tr ' ' ,)}: --version says $ver, --help exits 0, man finds them" tool_cli

# Every function libkipc.so.0 exports: in the symbols file (make deb
# enforces that too) and a man 3 page of its own name.
symbol_pages() {
	local s n=0 bad=0
	for s in $(nm -D --defined-only "/usr/lib/$ma/libkipc.so.0" | awk '$2 == "T" {print $3}'); do
		n=$((n + 1))
		man -w 3 "$s" >/dev/null 2>&1 || { echo "man 3 $s: not found"; bad=1; }
		grep -q "^ $s@Base " debian/libkipc0.symbols || { echo "$s: not in debian/libkipc0.symbols"; bad=1; }
	done
	[ $n -gt 0 ] || { echo "no exported symbol found"; return 1; }
	return $bad
}
check "every function libkipc.so.0 exports ($(nm -D --defined-only "/usr/lib/$ma/libkipc.so.0" 2>/dev/null | awk '$2 == "T"' | wc -l)) has a man 3 page and a symbols line" symbol_pages

# ---- 5. libkipc-dev in a scratch root: pkg-config only -----------------
pc_build() {
	local root=$work/root cflags libs out
	mkdir -p "$root"
	dpkg -x "$(deb_of libkipc0)" "$root" && dpkg -x "$(deb_of libkipc-dev)" "$root" || return 1
	cat >"$work/example.c" <<-'EOF'
	#include <errno.h>
	#include <stdio.h>
	#include <string.h>
	#include <kipc/kshm.h>
	#include <kipc/message_slot.h>
	#include <kipc/myshm.h>
	#include <kipc/version.h>

	int main(void)
	{
		int fd = kshm_open("check-deb");

		/* no kshm.ko on the build host: a clear errno, not a crash */
		printf("%s %d %s\n", kipc_version(), fd,
		       fd < 0 ? strerror(errno) : "open");
		return MSG_SLOT_MAX_MSG_LEN == 128 && MYSHM_MAX_BUFFERS > 0 ? 0 : 1;
	}
	EOF
	export PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_LIBDIR=$root/usr/lib/$ma/pkgconfig
	[ "$(pkg-config --modversion kipc)" = "$ver" ] || { echo "modversion"; return 1; }
	cflags=$(pkg-config --cflags kipc) && libs=$(pkg-config --libs kipc) || return 1
	echo "pkg-config --cflags --libs kipc: $cflags $libs" >"$work/pc.info"
	# shellcheck disable=SC2086
	gcc -Wall -Wextra -Werror -o "$work/example" "$work/example.c" $cflags $libs || return 1
	readelf -d "$work/example" | grep -q 'NEEDED.*libkipc.so.0' || { echo "not linked to libkipc.so.0"; return 1; }
	out=$(LD_LIBRARY_PATH=$root/usr/lib/$ma "$work/example") || { echo "$out"; return 1; }
	echo "runs: $out" >>"$work/pc.info"
	[ "${out%% *}" = "$ver" ] || { echo "kipc_version() is not $ver"; return 1; }
	# shellcheck disable=SC2086
	gcc -static -o "$work/example-static" "$work/example.c" $cflags \
		$(pkg-config --static --libs kipc) || return 1
	LD_LIBRARY_PATH= "$work/example-static" >/dev/null || return 1
}
check "libkipc-dev in a scratch root: example built with pkg-config --cflags --libs kipc only (shared and --static), runs, kipc_version() = $ver" pc_build
[ ! -f "$work/pc.info" ] || note <"$work/pc.info"

# ---- 5b. make install-lib install-tools / make uninstall (non-Debian) ---
make_install() {
	local d=$work/destdir left
	make -s install-lib install-tools DESTDIR="$d" PREFIX=/opt/kipc >/dev/null || return 1
	for t in $tools; do
		[ -x "$d/opt/kipc/bin/$t" ] || { echo "no bin/$t"; return 1; }
	done
	grep -qx 'prefix=/opt/kipc' "$d/opt/kipc/lib/pkgconfig/kipc.pc" || { echo "kipc.pc prefix"; return 1; }
	[ -L "$d/opt/kipc/lib/libkipc.so.0" ] || { echo "no libkipc.so.0"; return 1; }
	make -s uninstall DESTDIR="$d" PREFIX=/opt/kipc >/dev/null || return 1
	left=$(find "$d" ! -type d)
	[ -z "$left" ] || { echo "left after uninstall: $left"; return 1; }
}
check "make install-lib install-tools DESTDIR=... PREFIX=/opt/kipc, then make uninstall leaves no file" make_install

# ---- 6. purge: nothing left ---------------------------------------------
for p in $pkgs; do dpkg -L "$p" 2>/dev/null; done | sort -u >"$work/files"
for rel in "${rels[@]}"; do
	for m in $modules; do ls "$(dkms_dir "$rel")/$m".ko* 2>/dev/null; done
done >"$work/built"
check "apt-get purge of the four packages" apt_get purge -y $pkgs
dkms_empty() {
	local s
	s=$(dkms status -m kipc 2>/dev/null)
	[ -z "$s" ] || { echo "$s"; return 1; }
}
check "dkms status: no kipc left" dkms_empty
nothing_left() {
	local f bad=0
	while read -r f; do
		# directories shared with other packages (/usr, /lib/udev, ...)
		# stay; /lib itself is a symlink to usr/lib on merged-/usr systems
		[ -d "$f" ] && continue
		[ -e "$f" ] || [ -L "$f" ] && { echo "left: $f"; bad=1; }
	done <"$work/files"
	while read -r f; do
		[ -e "$f" ] && { echo "left: $f"; bad=1; }
	done <"$work/built"
	for f in /usr/src/kipc-"$ver" /var/lib/dkms/kipc; do
		[ -e "$f" ] && { echo "left: $f"; bad=1; }
	done
	[ "$(wc -l <"$work/built")" -gt 0 ] || { echo "no DKMS module was recorded"; bad=1; }
	return $bad
}
check "no file of the packages left ($(wc -l <"$work/files") paths, $(wc -l <"$work/built") DKMS modules, /usr/src, /var/lib/dkms/kipc)" nothing_left

echo "$P passed, $F failed"
[ "$F" = 0 ]
