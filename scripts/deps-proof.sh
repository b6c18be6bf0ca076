#!/bin/bash
# deps-proof.sh - what would each make target install on a machine with
# only build-essential?  (make check-deb runs it; any user can.)
#
# Builds a dpkg status file holding only what a minimal Debian 12 with
# build-essential has (the Essential and Priority: required packages and
# build-essential, with their dependencies, as installed on this host),
# then for each target runs scripts/deps.sh --dry-run against it
# (DPKG_ADMINDIR) and lets apt simulate the printed commands against it
# (apt-get -s -o Dir::State::status=...), dependencies included.  Checks
# that the real-machine targets (make deb, make lib tools, make install,
# make modules) would install nothing of the test rig: no QEMU, busybox,
# trinity, cmocka, liburing, multilib or kernel image.  Prints one line per
# target: "ok TARGET: N packages: ..." or "not ok ..."; exit 1 on a miss.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
fake=$(mktemp -d "${TMPDIR:-/tmp}/kipc-deps-proof.XXXXXX")
trap 'rm -rf "$fake"' EXIT

python3 - "$fake/status" <<'EOF'
import re, sys
stanzas = open('/var/lib/dpkg/status').read().split('\n\n')
pkgs, provides = {}, {}
for st in stanzas:
    f = dict(re.findall(r'^([\w-]+): ?(.*)$', st, re.M))
    if 'Package' not in f or not f.get('Status', '').endswith(' installed'):
        continue
    name = f['Package']
    if f.get('Architecture') not in (None, 'all', 'amd64'):
        name += ':' + f['Architecture']
    pkgs[name] = (f, st)
    for p in f.get('Provides', '').split(','):
        p = p.strip().split(' ')[0]
        if p:
            provides.setdefault(p, []).append(name)
def resolve(dep):
    for alt in dep.split('|'):
        n = alt.strip().split(' ')[0].split(':')[0]
        if n in pkgs:
            return [n]
        if n in provides:
            return provides[n][:1]
    return []
want = [n for n, (f, _) in pkgs.items()
        if f.get('Essential') == 'yes' or f.get('Priority') == 'required']
want.append('build-essential')
keep = set()
while want:
    n = want.pop()
    if n in keep or n not in pkgs:
        continue
    keep.add(n)
    f = pkgs[n][0]
    for field in ('Pre-Depends', 'Depends'):
        for dep in filter(None, (d.strip() for d in f.get(field, '').split(','))):
            want.extend(resolve(dep))
with open(sys.argv[1], 'w') as out:
    for n in sorted(keep):
        out.write(pkgs[n][1].strip() + '\n\n')
print(f'# fake system: {len(keep)} packages (Essential, required, build-essential and their dependencies)')
EOF
[ -s "$fake/status" ] || { echo "not ok - no fake status"; exit 1; }
: >"$fake/available"
mkdir -p "$fake/updates" "$fake/info"

# make install builds for the running kernel: here the installed 6.1 release
# stands for it (this host may run another kernel)
rel61=$("$top/scripts/kver.sh" 6.1 2>/dev/null || echo 6.1)
rig_re='^(qemu-.*|busybox.*|trinity|libcmocka.*|liburing.*|gcc-multilib|gcc-.*-multilib|lib32.*|libc6-dev-i386|linux-image-.*)$'
rc=0
# target  groups  KERNELS  rig-free?
while read -r target groups kernels free; do
	kernels=${kernels//,/ }
	groups=${groups//,/ }
	# shellcheck disable=SC2086
	if ! cmd=$(cd "$top" && DPKG_ADMINDIR=$fake KERNELS=$kernels scripts/deps.sh -n $groups 2>"$fake/err"); then
		if [ "$free" != rig ] && grep -q 'would also install the kernel' "$fake/err"; then
			echo "ok $target (deps.sh $groups): refused, installs nothing"
			sed 's/^/#   /' "$fake/err"
		else
			echo "not ok $target: deps.sh -n $groups failed"
			sed 's/^/#   /' "$fake/err"
			rc=1
		fi
		continue
	fi
	cmd=${cmd#apt-get update && }
	inst=
	if [ -n "$cmd" ]; then
		while IFS= read -r c; do
			# shellcheck disable=SC2086
			inst+=" $(apt-get -s -o Dir::State::status="$fake/status" ${c#apt-get } 2>&1 |
				sed -n 's/^Inst \([^ ]*\) .*/\1/p' | xargs)"
		done < <(printf '%s\n' "${cmd// && /$'\n'}")
	fi
	inst=$(xargs -n1 <<<"$inst" | sort -u | xargs)
	n=$(wc -w <<<"$inst")
	bad=$(xargs -n1 <<<"$inst" | grep -E "$rig_re" | xargs)
	if [ "$free" = yes ] && [ -n "$bad" ]; then
		echo "not ok $target ($groups): would install rig packages: $bad"
		rc=1
	elif [ "$free" = rig ] && [ -z "$bad" ]; then
		echo "not ok $target ($groups): the rig's target would not install the rig"
		rc=1
	else
		echo "ok $target (deps.sh $groups): $n packages${bad:+, rig: $bad}"
	fi
	echo "#   $cmd"
	echo "#   installs: ${inst:-nothing}"
done <<EOF
make-deb deb 6.1 yes
make-lib-tools build 6.1 yes
make-install build,modules $rel61 yes
make-modules modules 6.1,6.12 yes
make-all modules,user 6.1,6.12 any
make-check rig 6.1,6.12 rig
EOF
exit $rc
