#!/bin/bash
# doc-blocks.sh KERNEL - the doc test: every ```sh block of README.md,
# tests/README.md and docs/*.md runs, so a documented command that stops
# working fails `make check`.  TAP, one test per block.
#
# Each block says how it is tested with a marker on the line right above
# its opening fence (an HTML comment: invisible on GitHub and in renderers):
#   <!-- doc-test: guest -->        the block is one `sh -e` script in a
#                                    test guest (KERNEL): tools on PATH, no
#                                    kipc module loaded when it starts
#   <!-- doc-test: guest-lines -->  every line is an alternative: each runs
#                                    alone (`sh -e`) with no kipc module loaded
#   <!-- doc-test: host -->         one `bash -e` script on this host, in a
#                                    copy of the tree's top directory (links
#                                    to the real files; ./myprog is a tiny
#                                    program for vm/run --add examples)
#   <!-- doc-test: dry -->          too long to run here (a suite, a kernel
#                                    build): each line is checked, not run:
#                                    `make T...`: each T has a rule,
#                                    `tests/run-suite ARGS` by its --list
#                                    (every pattern must select a test), any
#                                    other command must exist
#   <!-- doc-test: skip REASON -->  not run; REASON says why (shown as a
#                                    TAP SKIP)
# A ```sh block without a marker fails: a new block must choose.  In the
# guest the current directory has the modules as NAME.ko and
# build/modules/$(uname -r)/kipc/ (as in the tree), so `insmod
# message_slot.ko` and `insmod build/modules/$(uname -r)/kipc/myshm.ko`
# work as they do on a real machine.  Guest blocks share one guest boot;
# each block (or line) has 60 s, a host block 300 s.
#
# KIPC_DOC_TEST_MODES=dry,skip (say) runs only the blocks of those modes
# (while writing docs); the others are reported as skipped.
#
# Besides the blocks: `make modules KERNELS=running` (README) names the
# missing linux-headers-RELEASE package when this host has no headers for
# its own kernel, and builds when it has.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
k=${1:-6.1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$top" || exit 1

# ---- the blocks: $tmp/b/N.sh (text), N.meta (file line mode reason) ----
mkdir -p "$tmp/b"
for f in README.md tests/README.md docs/*.md; do
	awk -v f="$f" -v dir="$tmp/b" '
	BEGIN { n = 0 }
	FNR == 1 { inb = 0; prev = "" }
	/^```/ {
		if (inb) { inb = 0; close(out); prev = ""; next }
		lang = substr($0, 4)
		inb = 1
		if (lang != "sh" && lang != "bash" && lang != "shell") { run = 0; next }
		run = 1
		mark = ""
		if (match(prev, /^<!-- doc-test: .* -->$/))
			mark = substr(prev, 16, length(prev) - 19)
		id = FILENAME ":" FNR
		gsub(/[^A-Za-z0-9]/, "_", id)
		out = dir "/" id ".sh"
		printf "" >out
		printf "%s\t%d\t%s\n", f, FNR, mark >(dir "/" id ".meta")
		close(dir "/" id ".meta")
		next
	}
	inb && run { print >out; next }
	!inb && NF { prev = $0 }
	' "$f"
done
ids=()
for m in "$tmp"/b/*.meta; do
	[ -e "$m" ] && ids+=("$(basename "$m" .meta)")
done
# in document order: README first, then tests/README.md, then docs/
mapfile -t ids < <(for id in "${ids[@]}"; do
	IFS=$'\t' read -r f l _ <"$tmp/b/$id.meta"
	case $f in README.md) o=0 ;; tests/*) o=1 ;; *) o=2 ;; esac
	printf '%s\t%s\t%06d\t%s\n' "$o" "$f" "$l" "$id"
done | sort | cut -f4)

echo "1..$((${#ids[@]} + 1))"
n=0
t0=$SECONDS
result() {	# result OK|FAIL|SKIP DESCRIPTION [DETAIL-FILE]
	n=$((n + 1))
	[ "$1" = SKIP ] || echo "# $((SECONDS - t0)) s"
	t0=$SECONDS
	case $1 in
	OK) echo "ok $n - $2" ;;
	SKIP) echo "ok $n - $2" ;;
	*) echo "not ok $n - $2"
	   [ -n "${3:-}" ] && [ -s "$3" ] && sed 's/^/#   /' "$3" | tail -n 40 ;;
	esac
}

if [ "${KIPC_RIG_KERNEL_ONLY:-0}" = 1 ]; then
	for id in "${ids[@]}"; do
		IFS=$'\t' read -r f l _ <"$tmp/b/$id.meta"
		n=$((n + 1))
		echo "ok $n - $f:$l # SKIP kernel-independent, checked with the first kernel"
	done
	echo "ok $((n + 1)) - make modules KERNELS=running # SKIP checked with the first kernel"
	exit 0
fi

modes=${KIPC_DOC_TEST_MODES:-guest,guest-lines,host,dry,skip,,running}
selected() { [[ ,$modes, == *",$1,"* ]]; }

# ---- guest blocks: one guest runs them all, results as DOC-RESULT lines ----
mkdir -p "$tmp/g"
for id in "${ids[@]}"; do
	IFS=$'\t' read -r f l mark <"$tmp/b/$id.meta"
	selected "${mark%% *}" || continue
	case ${mark%% *} in
	guest | guest-lines)
		cp "$tmp/b/$id.sh" "$tmp/g/$id.sh"
		echo "$id ${mark%% *}" >>"$tmp/g/list" ;;
	esac
done
cat >"$tmp/g/run" <<'EOF'
#!/bin/sh
# Runs in the guest: each listed block (or each line of it) from a clean
# state: no kipc module loaded, no /dev/slot0.
rel=$(uname -r)
d=/root/doc
mkdir -p $d/build/modules/$rel
ln -s /lib/modules/$rel/extra $d/build/modules/$rel/kipc
for ko in /lib/modules/$rel/extra/*.ko; do ln -s "$ko" $d/; done
unload() {
	for m in kipc_ivshmem myshm kshm message_slot; do
		grep -q "^$m " /proc/modules && rmmod $m
	done
	rm -f /dev/slot0
	return 0
}
one() {	# one SCRIPT: its output as TAP comments; its status in $rc
	unload >/dev/null 2>&1
	(cd $d && timeout 60 sh -e "$1") </dev/null >/tmp/out 2>&1
	rc=$?
	awk '{ print "#   | " $0 }' /tmp/out	# also a last line without a newline
}
while read -r id mode; do
	if [ "$mode" = guest ]; then
		one /root/g/$id.sh
		res=$rc
	else
		res=0
		i=0
		while IFS= read -r line; do
			i=$((i + 1))
			case $line in '' | '#'*) continue ;; esac
			printf '%s\n' "$line" >/tmp/line.sh
			echo "#   \$ $line"
			one /tmp/line.sh
			[ $rc = 0 ] || { echo "#   line $i failed (exit status $rc)"; res=$rc; }
		done </root/g/$id.sh
	fi
	unload >/dev/null 2>&1
	echo "DOC-RESULT $id $res"
done </root/g/list
EOF
chmod +x "$tmp/g/run"
declare -A gres=()
if [ -s "$tmp/g/list" ]; then
	"$top/vm/run" --kernel "$k" --timeout 900 --add "$tmp/g:/root/g" \
		-- sh /root/g/run >"$tmp/g.out" 2>"$tmp/g.err"
	grc=$?
	echo "# the guest blocks: one guest, $((SECONDS - t0)) s"
	t0=$SECONDS
	while read -r tag id rc; do
		[ "$tag" = DOC-RESULT ] && gres[$id]=$rc
	done <"$tmp/g.out"
	if [ $grc != 0 ]; then
		echo "# the guest of the guest blocks ended with status $grc:"
		sed 's/^/#   /' "$tmp/g.err" | tail -n 20
	fi
fi
# per block, its part of the guest's output
guest_log() {
	awk -v id="$1" '
	/^DOC-RESULT / { if ($2 == id) exit; buf = ""; next }
	{ buf = buf $0 "\n" }
	END { printf "%s", buf }' "$tmp/g.out"
}

# ---- host blocks run in a copy of the top directory (links) ----
hostdir=$tmp/host
mkdir -p "$hostdir"
for e in "$top"/* "$top"/.ci; do
	ln -s "$e" "$hostdir/"
done
printf '#!/bin/sh\necho "myprog ran in $(uname -r)"\n' >"$hostdir/myprog"
chmod +x "$hostdir/myprog"

# dry LINE: check a command without running it
dry() {
	local line=$1 w
	line=${line%%#*}
	# leading VAR=value assignments
	read -ra w <<<"$line"
	while [ ${#w[@]} -gt 0 ] && [[ ${w[0]} == *=* ]]; do
		case ${w[0]} in
		*'$('*) # tree=$(cmd ...): check cmd
			w[0]=${w[0]#*\$(}; break ;;
		esac
		w=("${w[@]:1}")
	done
	[ ${#w[@]} -gt 0 ] || return 0
	case ${w[0]} in
	make)	# each target has a rule (make -n would run the + recipes)
		local t
		[ -s "$tmp/make-db" ] || (cd "$hostdir" &&
			make -pq __kipc_doc_test_none__ >"$tmp/make-db" 2>/dev/null)
		for t in "${w[@]:1}"; do
			case $t in *=* | -*) continue ;; esac
			grep -q "^$t:" "$tmp/make-db" || { echo "no make target $t"; return 1; }
		done ;;
	tests/run-suite)
		(cd "$hostdir" && set +u && eval "tests/run-suite --list ${w[*]:1}") ;;
	*)
		local c=${w[0]%)}
		[ -x "$hostdir/$c" ] || command -v "$c" >/dev/null ||
			{ echo "no such command: $c"; return 1; } ;;
	esac
}

for id in "${ids[@]}"; do
	IFS=$'\t' read -r f l mark <"$tmp/b/$id.meta"
	mode=${mark%% *}
	reason=${mark#"$mode"}
	reason=${reason# }
	desc="$f:$l ($mode)"
	if ! selected "$mode"; then
		result SKIP "$desc # SKIP not in KIPC_DOC_TEST_MODES"
		continue
	fi
	case $mode in
	guest | guest-lines)
		if [ "${gres[$id]:-x}" = 0 ]; then
			result OK "$desc"
		else
			guest_log "$id" >"$tmp/detail"
			[ -n "${gres[$id]:-}" ] || echo "the guest did not run it" >>"$tmp/detail"
			result FAIL "$desc" "$tmp/detail"
		fi ;;
	host)
		(cd "$hostdir" && timeout 300 bash -e "$tmp/b/$id.sh") \
			</dev/null >"$tmp/detail" 2>&1
		rc=$?
		if [ $rc = 0 ]; then
			result OK "$desc"
		else
			echo "exit status $rc" >>"$tmp/detail"
			result FAIL "$desc" "$tmp/detail"
		fi ;;
	dry)
		: >"$tmp/detail"
		ok=1
		while IFS= read -r line; do
			case $line in '' | '#'*) continue ;; esac
			if ! dry "$line" >>"$tmp/detail" 2>&1; then
				echo "not as documented: $line" >>"$tmp/detail"
				ok=0
			fi
		done <"$tmp/b/$id.sh"
		if [ $ok = 1 ]; then result OK "$desc"; else result FAIL "$desc" "$tmp/detail"; fi ;;
	skip)
		if [ -n "$reason" ]; then
			result SKIP "$f:$l # SKIP $reason"
		else
			echo "a skip marker must say why" >"$tmp/detail"
			result FAIL "$desc" "$tmp/detail"
		fi ;;
	'')
		echo "no <!-- doc-test: MODE --> marker above this block (tests/README.md)" >"$tmp/detail"
		result FAIL "$f:$l" "$tmp/detail" ;;
	*)
		echo "unknown doc-test mode '$mode'" >"$tmp/detail"
		result FAIL "$desc" "$tmp/detail" ;;
	esac
done

# ---- make modules KERNELS=running ----
if ! selected running; then
	result SKIP "make modules KERNELS=running # SKIP not in KIPC_DOC_TEST_MODES"
	exit 0
fi
rel=$(uname -r)
(cd "$hostdir" && make modules KERNELS=running) >"$tmp/detail" 2>&1
rc=$?
if [ -f "/lib/modules/$rel/build/Makefile" ]; then
	if [ $rc = 0 ] && [ -f "$top/build/modules/$rel/kipc/myshm.ko" ]; then
		result OK "make modules KERNELS=running builds for $rel"
	else
		result FAIL "make modules KERNELS=running builds for $rel" "$tmp/detail"
	fi
elif [ $rc != 0 ] && grep -q "linux-headers-$rel" "$tmp/detail"; then
	# scripts/deps.sh (as root: its apt-get) or scripts/kver.sh names it
	result OK "make modules KERNELS=running without headers names linux-headers-$rel"
else
	result FAIL "make modules KERNELS=running without headers names linux-headers-$rel" "$tmp/detail"
fi
