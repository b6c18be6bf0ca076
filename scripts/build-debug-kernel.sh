#!/bin/bash
# build-debug-kernel.sh - build kipc's debug guest kernel (KASAN, lockdep,
# kmemleak, UBSAN, fault injection) from Debian's linux-source-6.1.
#
# Usage: scripts/build-debug-kernel.sh [--print-image]
# Steps: extract /usr/src/linux-source-6.1.tar.xz, `make tinyconfig`, merge
# vm/debug.config with scripts/kconfig/merge_config.sh, `make olddefconfig`,
# check that every option of the fragment survived (Kconfig silently drops
# options whose dependencies are unmet), `make bzImage modules_prepare
# modules` (the last one only writes Module.symvers, which out-of-tree
# modules need), and check that the image's release string is the tree's
# `make kernelrelease`.
# The tree is cached in build/debug-kernel/<source-version>-<fragment-hash>/
# (build/debug-kernel/current links to the newest): a second run with the
# same source package and fragment only prints the path.  The tree doubles
# as KDIR for scripts/build-modules.sh.
# Prints the kernel tree (or, with --print-image, its bzImage) on stdout;
# progress and timings go to stderr, the full build log to <tree>/kipc-build.log.
# Env: KIPC_DEBUG_JOBS (make -j, default 3).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
frag=$top/vm/debug.config
tarball=/usr/src/linux-source-6.1.tar.xz
jobs=${KIPC_DEBUG_JOBS:-3}
what=tree
case ${1:-} in
--print-image) what=image ;;
'') ;;
-h|--help) sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
*) echo "build-debug-kernel.sh: unknown option '$1'" >&2; exit 2 ;;
esac

log() { echo "build-debug-kernel: $*" >&2; }
[ -r "$tarball" ] || { log "no $tarball (scripts/deps.sh debug installs linux-source-6.1)"; exit 1; }
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || true)
[ -n "$srcver" ] || srcver=$(stat -c %s-%Y "$tarball")
key=$srcver-$(sha256sum "$frag" | cut -c1-12)
base=$top/build/debug-kernel
tree=$base/$key
image=$tree/arch/x86/boot/bzImage

out() {
	ln -sfn "$key" "$base/current"
	if [ $what = image ]; then echo "$image"; else echo "$tree"; fi
}
[ -f "$tree/.kipc-done" ] && { out; exit 0; }

mkdir -p "$base"
exec 9>"$base/.lock"
flock 9 # one build at a time; the loser finds the winner's tree
[ -f "$tree/.kipc-done" ] && { out; exit 0; }

# Every option the fragment sets, checked against a .config.
verify() {
	local bad=0 line opt
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			grep -qxF -- "$line" "$tree/.config" && continue
			opt=${line%%=*}
			log "  wanted $line, got: $(grep -E "^(# )?$opt[= ]" "$tree/.config" || echo 'absent')"
			bad=1 ;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }
			opt=${opt%% *}
			grep -qE "^$opt=" "$tree/.config" || continue
			log "  wanted $line, got: $(grep -E "^$opt=" "$tree/.config")"
			bad=1 ;;
		esac
	done <"$frag"
	return $bad
}

start=$SECONDS
rm -rf "$tree"
mkdir -p "$tree"
log "extracting $tarball ($srcver) into $tree"
tar -xJf "$tarball" -C "$tree" --strip-components=1
log "extracted in $((SECONDS - start))s; configuring"
cd "$tree"
{
	make tinyconfig
	scripts/kconfig/merge_config.sh -m .config "$frag"
	make olddefconfig
} >kipc-build.log 2>&1 || { tail -n 30 kipc-build.log >&2; exit 1; }
if ! verify; then
	log "vm/debug.config: the options above did not survive Kconfig (unmet dependencies?)"
	exit 1
fi
log "building bzImage, modules_prepare and Module.symvers (make -j$jobs)"
bstart=$SECONDS
if ! make -j"$jobs" bzImage modules_prepare modules >>kipc-build.log 2>&1 ||
	[ ! -f Module.symvers ]; then
	grep -E 'error|Error' kipc-build.log | head -n 30 >&2
	log "build failed; full log in $tree/kipc-build.log"
	exit 1
fi
verify || { log "the final .config lost options of vm/debug.config"; exit 1; }
rel=$(make -s kernelrelease)
irel=$("$top/scripts/kver.sh" "$image")
if [ "$rel" != "$irel" ]; then
	log "release mismatch: make kernelrelease '$rel', bzImage says '$irel'"
	exit 1
fi
echo "$rel" >kipc-release
touch .kipc-done
log "built $rel in $((SECONDS - start))s (compile $((SECONDS - bstart))s)"
out
