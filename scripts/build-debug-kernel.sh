#!/bin/bash
# build-debug-kernel.sh - build kipc's debug guest kernel (KASAN, lockdep,
# kmemleak, UBSAN, fault injection) from Debian's linux-source-6.1.
#
# Usage: scripts/build-debug-kernel.sh [--flavour NAME] [--print-image]
#   --flavour NAME  vm/NAME.config merged after vm/debug.config (its lines
#                   win): kcsan is the data-race flavour (KCSAN cannot share
#                   a kernel with KASAN).  Default: vm/debug.config alone.
# Steps: extract /usr/src/linux-source-6.1.tar.xz, `make tinyconfig`, merge
# vm/debug.config with scripts/kconfig/merge_config.sh, `make olddefconfig`,
# check that every option of the fragment survived (Kconfig silently drops
# options whose dependencies are unmet), `make bzImage modules_prepare
# modules` (the last one only writes Module.symvers, which out-of-tree
# modules need), and check that the image's release string is the tree's
# `make kernelrelease`.
# The tree is cached in build/debug-kernel/<source-version>-<fragment-hash>/
# (build/debug-kernel/current links to the newest default build,
# current-NAME to the newest of flavour NAME): a second run with the
# same source package and fragment only prints the path.  The tree doubles
# as KDIR for scripts/build-modules.sh.
# Prints the kernel tree (or, with --print-image, its bzImage) on stdout;
# progress and timings go to stderr, the full build log to <tree>/kipc-build.log.
# Env: KIPC_DEBUG_JOBS (make -j, default 3).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
frags=("$top/vm/debug.config")
tarball=/usr/src/linux-source-6.1.tar.xz
jobs=${KIPC_DEBUG_JOBS:-3}
what=tree link=current
makeargs=()
while [ $# -gt 0 ]; do
	case $1 in
	--print-image) what=image; shift ;;
	--flavour)
		[ -r "$top/vm/${2:-}.config" ] || {
			echo "build-debug-kernel.sh: no flavour '${2:-}' (vm/${2:-}.config)" >&2
			exit 2
		}
		frags+=("$top/vm/$2.config") link=current-$2
		# Linux 6.1 has no KCSAN_SANITIZE_ALL: KCSAN instruments every
		# object unless its Makefile says KCSAN_SANITIZE := n.  On the
		# command line the variable overrides every Makefile, so the core
		# kernel is built uninstrumented; kipc's modules ask for it in
		# their own Kbuild (a separate make).
		[ "$2" = kcsan ] && makeargs+=(KCSAN_SANITIZE=n)
		shift 2 ;;
	-h|--help) sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) echo "build-debug-kernel.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
done

log() { echo "build-debug-kernel: $*" >&2; }
[ -r "$tarball" ] || { log "no $tarball (scripts/deps.sh debug installs linux-source-6.1)"; exit 1; }
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || true)
[ -n "$srcver" ] || srcver=$(stat -c %s-%Y "$tarball")
key=$srcver-$({ cat "${frags[@]}"; [ ${#makeargs[@]} = 0 ] || echo "make ${makeargs[*]}"; } |
	sha256sum | cut -c1-12)
base=$top/build/debug-kernel
tree=$base/$key
image=$tree/arch/x86/boot/bzImage

out() {
	ln -sfn "$key" "$base/$link"
	if [ $what = image ]; then echo "$image"; else echo "$tree"; fi
}
[ -f "$tree/.kipc-done" ] && { out; exit 0; }

mkdir -p "$base"
exec 9>"$base/.lock"
flock 9 # one build at a time; the loser finds the winner's tree
[ -f "$tree/.kipc-done" ] && { out; exit 0; }

# Every option the fragments set (the last setting of an option wins, as in
# merge_config.sh), checked against a .config.
wanted() {
	sed -n 's/^\(CONFIG_[A-Za-z0-9_]*\)=.*/\1 &/p; s/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1 &/p' \
		"${frags[@]}" | awk '{ v[$1] = substr($0, length($1) + 2); if (!($1 in o)) o[$1] = n++ }
		END { for (k in v) print o[k] "\t" v[k] }' | sort -n | cut -f2-
}
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
	done < <(wanted)
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
	scripts/kconfig/merge_config.sh -m .config "${frags[@]}"
	make olddefconfig
} >kipc-build.log 2>&1 || { tail -n 30 kipc-build.log >&2; exit 1; }
if ! verify; then
	log "${frags[*]#"$top/"}: the options above did not survive Kconfig (unmet dependencies?)"
	exit 1
fi
log "building bzImage, modules_prepare and Module.symvers (make -j$jobs)"
bstart=$SECONDS
if ! make -j"$jobs" "${makeargs[@]+"${makeargs[@]}"}" bzImage modules_prepare modules \
	>>kipc-build.log 2>&1 ||
	[ ! -f Module.symvers ]; then
	grep -E 'error|Error' kipc-build.log | head -n 30 >&2
	log "build failed; full log in $tree/kipc-build.log"
	exit 1
fi
verify || { log "the final .config lost options of ${frags[*]#"$top/"}"; exit 1; }
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
