#!/bin/bash
# bench/report.sh - charts and ratio tables from a benchmark run.
#
# Usage: bench/report.sh [DIR]     (default build/bench)
# Reads DIR/all.csv (area,benchmark,mechanism,param,unit,median,p10,p90,
# samples) and writes:
#   DIR/*.png        charts (gnuplot; pngcairo, or png where it is missing)
#   DIR/ratios.md    every kipc row against every peer row: kipc ÷ peer
#   DIR/targets.md   the targets of bench/targets.txt, met or missed
#   DIR/results.md   both tables, the charts and the run's metadata
# Plain shell, awk and gnuplot: nothing else to install on a fresh machine.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/build/bench}
csv=$dir/all.csv
[ -s "$csv" ] || { echo "bench/report.sh: no $csv (run make bench)" >&2; exit 1; }
# Image links in results.md (make bench-docs points them at docs/bench).
imgdir=${BENCH_IMG_PREFIX:-.}

# kipc's own mechanisms; everything else is a peer.
kipc_re='^(slot|myshm|kshm|kipc_chan)'

# ---- ratio tables ----------------------------------------------------------
# One table per area/benchmark: a row per kipc measurement, a column per
# peer, each cell kipc median ÷ peer median (same param; a peer whose param
# no kipc row has, like eventfd's 8 bytes, is a baseline for every row).
# Without peers (channel scaling) the columns are the kipc rows themselves
# at the smallest param.
awk -F, -v kre="$kipc_re" '
function fmt(v) {
	if (v >= 1000) return sprintf("%.0f", v)
	if (v >= 100) return sprintf("%.1f", v)
	return sprintf("%.3g", v)
}
NR == 1 { next }
{
	g = $1 SUBSEP $2
	if (!(g in seen)) { seen[g] = 1; groups[++ng] = g }
	n = ++cnt[g]
	mech[g, n] = $3; par[g, n] = $4; unit[g, n] = $5; med[g, n] = $6
	if ($3 ~ kre) kpar[g SUBSEP $4] = 1
}
END {
	for (gi = 1; gi <= ng; gi++) {
		g = groups[gi]; split(g, ab, SUBSEP)
		# Peer columns in order of appearance.
		np = 0; split("", pcol); split("", pidx)
		minp = ""
		for (j = 1; j <= cnt[g]; j++) {
			if (mech[g, j] ~ kre) {
				if (minp == "" || par[g, j] + 0 < minp + 0) minp = par[g, j]
				continue
			}
			base = !((g SUBSEP par[g, j]) in kpar)
			key = base ? mech[g, j] " (" par[g, j] ")" : mech[g, j]
			if (!(key in pidx)) { pidx[key] = ++np; pcol[np] = key }
			pv[g, key, base ? "*" : par[g, j]] = med[g, j]
		}
		selfref = (np == 0)
		if (selfref) {
			for (j = 1; j <= cnt[g]; j++)
				if (par[g, j] == minp) {
					key = mech[g, j] " @ " minp
					if (!(key in pidx)) { pidx[key] = ++np; pcol[np] = key }
					pv[g, key, "*"] = med[g, j]
				}
		}
		rate = unit[g, 1] ~ /\/s$/
		printf "\n**%s / %s** (%s; kipc ÷ peer: %s)\n\n", ab[1], ab[2], unit[g, 1],
			rate ? "above 1 means kipc is faster" : "below 1 means kipc is faster"
		line = "| param | kipc | median |"; sep = "| ---: | --- | ---: |"
		for (c = 1; c <= np; c++) { line = line " ÷ " pcol[c] " |"; sep = sep " ---: |" }
		print line; print sep
		for (i = 1; i <= cnt[g]; i++) {
			if (mech[g, i] !~ kre) continue
			line = "| " par[g, i] " | " mech[g, i] " | " fmt(med[g, i]) " |"
			for (c = 1; c <= np; c++) {
				k = pcol[c]
				v = (g SUBSEP k SUBSEP par[g, i]) in pv ? pv[g, k, par[g, i]] : \
				    ((g SUBSEP k SUBSEP "*") in pv ? pv[g, k, "*"] : "")
				if (v == "" || v + 0 == 0) { line = line " – |"; continue }
				r = med[g, i] / v
				win = rate ? r > 1.02 : r < 0.98
				line = line sprintf(win ? " **%.2f** |" : " %.2f |", r)
			}
			print line
		}
	}
}' "$csv" >"$dir/ratios.md"

# ---- targets ---------------------------------------------------------------
awk -F'|' -v csv="$csv" '
BEGIN {
	while ((getline line < csv) > 0) {
		split(line, f, ",")
		if (f[1] == "area") continue
		k = f[1] SUBSEP f[2] SUBSEP f[3]
		# The least disturbed samples: p10 of times, p90 of rates.
		b = f[5] ~ /\/s$/ ? f[8] : f[7]
		if (!((k, "*") in v)) { v[k, "*"] = f[6]; lo[k, "*"] = b }
		v[k, f[4]] = f[6]; lo[k, f[4]] = b
	}
	print "| target | kipc | peer | ratio of medians | result | ratio of best decile |"
	print "| --- | --- | --- | ---: | --- | ---: |"
}
/^#/ || NF < 9 { next }
{
	kv = ""; nk = split($4, km, "/")
	for (i = 1; i <= nk && kv == ""; i++)
		if (($2 SUBSEP $3 SUBSEP km[i] SUBSEP $5) in v) {
			kmech = km[i]; kv = v[$2 SUBSEP $3 SUBSEP kmech SUBSEP $5]
			kl = lo[$2 SUBSEP $3 SUBSEP kmech SUBSEP $5]
		}
	# A peer list a/b/c: the best of them that was measured, the one
	# that makes the kipc ratio worst (the highest for <=, lowest for >=).
	pv = ""; pl = ""; pmech = ""; np = split($6, pm, "/")
	for (i = 1; i <= np; i++) {
		pk = $2 SUBSEP $3 SUBSEP pm[i] SUBSEP $7
		if (!(pk in v) || v[pk] + 0 == 0) continue
		if (pv != "" && kv != "") {
			worse = ($8 == "<=") ? kv / v[pk] > kv / pv : kv / v[pk] < kv / pv
			if (!worse) continue
		}
		pv = v[pk]; pl = lo[pk]; pmech = pm[i]
	}
	ks = kmech "" ($5 == "*" ? "" : " @ " $5)
	ps = (np > 1 ? (pmech != "" ? "best of " $6 ": " pmech : $6) : $6) ($7 == "*" ? "" : " @ " $7)
	# Peer "-": an absolute limit on the kipc median (a count, not a ratio).
	if ($6 == "-" && kv != "") { pv = 1; pl = 1; ps = "– (absolute)" }
	if (kv == "" || pv == "" || pv + 0 == 0) {
		printf "| %s | %s | %s | – | **not measured** | – |\n", $1, (nk > 1 ? $4 : $4 ($5 == "*" ? "" : " @ " $5)), ps
		next
	}
	r = kv / pv; lim = $9 + 0
	if ($8 == "<=") {
		met = r <= lim
		how = met ? sprintf("%.0f%% under the limit", (1 - r / lim) * 100) \
			  : sprintf("%.0f%% over the limit", (r / lim - 1) * 100)
	} else {
		met = r >= lim
		how = met ? sprintf("%.0f%% above the limit", (r / lim - 1) * 100) \
			  : sprintf("%.0f%% short of the limit", (1 - r / lim) * 100)
	}
	printf "| %s | %s | %s | %.3f (%s %s) | %s, %s | %s |\n", $1, ks, ps, r, $8, $9,
		met ? "**met**" : "**missed**", how, \
		(pl + 0 > 0 ? sprintf("%.3f", kl / pl) : "–")
}' "$top/bench/targets.txt" >"$dir/targets.md"

# ---- charts ----------------------------------------------------------------
if gnuplot -e 'set terminal' 2>&1 | grep -qw pngcairo; then
	term='pngcairo size 900,480 font "DejaVu Sans,10" noenhanced'
else
	term='png size 900,480 noenhanced'
fi

# pivot AREA BENCH_RE XFIELD SFIELD SERIES EXCLUDE_RE > DAT
# One line per X value (field XFIELD: 2 benchmark, 3 mechanism, 4 param),
# then median p10 p90 of each series (field SFIELD) in the order SERIES
# (space-separated), NaN where a series has no row.  Rows whose mechanism
# matches EXCLUDE_RE are left out (baselines drawn as lines).
pivot() {
	awk -F, -v area="$1" -v bre="$2" -v xf="$3" -v sf="$4" -v series="$5" \
		-v ex="$6" -v scale="$7" '
	NR == 1 || $1 != area || $2 !~ ("^(" bre ")$") { next }
	ex != "" && $3 ~ ex { next }
	{
		if (!($xf in xs)) { xs[$xf] = 1; xo[++nx] = $xf }
		d[$xf, $sf] = $6 / scale " " $7 / scale " " $8 / scale
	}
	END {
		ns = split(series, s, " ")
		for (i = 1; i <= nx; i++) {
			line = "\"" xo[i] "\""
			for (j = 1; j <= ns; j++)
				line = line " " ((xo[i], s[j]) in d ? d[xo[i], s[j]] : "NaN NaN NaN")
			print line
		}
	}' "$csv"
}

# Which of the series in LIST have any row (keeps legends honest).
present() {
	local area=$1 bre=$2 sf=$3 list=$4 out='' s
	for s in $list; do
		if awk -F, -v a="$area" -v b="$bre" -v sf="$sf" -v s="$s" \
			'$1 == a && $2 ~ ("^(" b ")$") && $sf == s { f = 1 } END { exit !f }' "$csv"; then
			out="$out $s"
		fi
	done
	echo "${out# }"
}

# baseline AREA BENCH MECH: "median unit" of a baseline row, if any.
baseline() {
	awk -F, -v a="$1" -v b="$2" -v m="$3" \
		'$1 == a && $2 ~ ("^(" b ")$") && $3 == m { print $6, $5; exit }' "$csv"
}

# chart NAME TITLE YLABEL XLABEL AREA BENCH_RE XFIELD SFIELD "SERIES" [BASELINES]
chart() {
	local name=$1 title=$2 ylabel=$3 xlabel=$4 area=$5 bre=$6 xf=$7 sf=$8
	local series bases=${10:-} dat=$dir/$1.dat extra='' b y u exre='' scale=1 i=0
	series=$(present "$area" "$bre" "$sf" "$9")
	[ -n "$series" ] || { echo "bench: chart $name: no rows, skipped" >&2; return 0; }
	for b in $bases; do exre="$exre${exre:+|}^$b\$"; done
	# Nanoseconds in the tens of thousands read better as microseconds.
	if [[ $ylabel == ns* ]] && awk -F, -v a="$area" -v b="$bre" \
		'$1 == a && $2 ~ ("^(" b ")$") && $6 > 20000 { f = 1 } END { exit !f }' "$csv"; then
		scale=1000
		ylabel="µs${ylabel#ns}"
	fi
	pivot "$area" "$bre" "$xf" "$sf" "$series" "$exre" "$scale" >"$dat"
	# Baselines: a dashed line each, named in the key.
	for b in $bases; do
		read -r y u <<<"$(baseline "$area" "$bre" "$b")" || true
		[ -n "${y:-}" ] || continue
		y=$(awk -v y="$y" -v s="$scale" 'BEGIN { printf "%.4g", y / s }')
		[ "$scale" = 1 ] || u="µs${u#ns}"
		i=$((i + 1))
		extra="$extra, $y with lines dt $((i + 1)) lw 2 lc rgb '$([ $i = 1 ] && echo gray20 || echo gray55)' title '$b: $y $u'"
	done
	gnuplot <<EOF
set terminal $term
set output '$dir/$name.png'
set title '$title'
set ylabel '$ylabel'
set xlabel '$xlabel'
set yrange [0:*]
set grid ytics
set key outside right top vertical
set style data histogram
set style histogram errorbars gap 1.5 lw 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set bars 0.4
set datafile missing 'NaN'
names = '$series'
$([ "$(wc -w <<<"$series")" = 1 ] && [ -z "$extra" ] && echo 'set key off')
plot for [i=1:words(names)] '$dat' using (column(3*i-1)):(column(3*i)):(column(3*i+1)):xtic(1) title word(names, i)$extra
EOF
}

chart msg-write-read "Write then read one message, one process (median, p10-p90)" \
	"ns per message" "message bytes" msg 'write\+read' 4 3 \
	"slot pipe socketpair mq" "eventfd getppid"
chart msg-pingpong-1cpu "Ping-pong, two processes on one vCPU (median, p10-p90)" \
	"ns per round trip" "message bytes" msg 'pingpong-1cpu' 4 3 \
	"slot+poll slot+blocking slot+poll-herd slot+poll-herd64 pipe pipe+poll socketpair mq" "eventfd"
chart msg-pingpong-2cpu "Ping-pong, two processes, 2 vCPUs, unpinned (median, p10-p90)" \
	"ns per round trip" "message bytes" msg 'pingpong-2cpu' 4 3 \
	"slot+poll slot+blocking slot+poll-herd slot+poll-herd64 pipe pipe+poll socketpair mq" "eventfd"
chart channels "Message slot, 128 B write+read with N live channels" \
	"ns per message" "live channels" channels 'write\+read|ioctl\+write\+read' 4 2 \
	"write+read ioctl+write+read"
chart shm-memcpy "memcpy into a touched mapping, 1 MiB at a time (higher is better)" \
	"GB/s" "" shm memcpy 3 4 "$(awk -F, '$1=="shm" && $2=="memcpy" {print $4; exit}' "$csv")"
chart shm-first-touch "Map 256 KiB, write one byte per page, unmap (lower is better)" \
	"ns per page" "" shm first-touch 3 4 "$(awk -F, '$1=="shm" && $2=="first-touch" {print $4; exit}' "$csv")"
chart shm-transfer "64 KiB messages between two processes (higher is better)" \
	"MB/s" "" shm transfer 3 4 "65536"
chart shm-mutex "Contended process-shared mutex lock+unlock, two processes (lower is better)" \
	"ns" "" shm mutex 3 4 "2"
kshm_series=$(awk -F, '$1 == "kshm" && !s[$3]++ { printf "%s ", $3 }' "$csv")
if [ -n "$kshm_series" ]; then
	if [ -e "$top/bench/kshm_cycle.gp" ] && [[ $term == pngcairo* ]]; then
		# The kshm issue's own chart (lines over process counts).
		awk -F, 'NR == 1 || $1 == "kshm"' "$csv" >"$dir/kshm.dat"
		gnuplot -e "in='$dir/kshm.dat'; out='$dir/kshm-cycle.png'" \
			"$top/bench/kshm_cycle.gp"
	else
		kbench=$(awk -F, '$1 == "kshm" { print $2; exit }' "$csv")
		kunit=$(awk -F, '$1 == "kshm" { print $5; exit }' "$csv")
		chart kshm-cycle "Named object open, trunc, map, write, close (higher is better)" \
			"$kunit" "processes" kshm "$kbench" 4 3 "$kshm_series"
	fi
fi
rm -f "$dir"/*.dat

# ---- results page fragment -------------------------------------------------
{
	echo "Run: $(sed -n 's/^date: //p' "$dir/meta.txt" 2>/dev/null)," \
		"guest kernel $(sed -n 's/^kernel: //p' "$dir/meta.txt" 2>/dev/null)," \
		"$(sed -n 's/^guest: kernel [^,]*, //p' "$dir/meta.txt" 2>/dev/null | sed 's/, cpu .*//'), accelerator" \
		"$(sed -n 's/^accel: //p' "$dir/meta.txt" 2>/dev/null);" \
		"host: $(sed -n 's/^host: //p' "$dir/meta.txt" 2>/dev/null)." \
		"$(sed -n 's/^load: \(.*\)/Host load: \1./p' "$dir/meta.txt" 2>/dev/null)"
	if grep -q '^mode: quick' "$dir/meta.txt" 2>/dev/null; then
		echo
		echo "**Quick run (smoke test): these numbers are not meaningful.**"
	fi
	echo
	echo "### Targets"
	echo
	echo "Met or missed by the ratio of the medians, as the issue asks. The"
	echo "ratio of the best deciles (p10 of times, p90 of rates: the samples the"
	echo "host disturbed least) is shown beside it; where the two disagree, the"
	echo "host's load had a say in the verdict."
	echo
	cat "$dir/targets.md"
	echo
	echo "### Charts"
	echo
	for p in msg-write-read msg-pingpong-1cpu msg-pingpong-2cpu channels \
		shm-memcpy shm-first-touch shm-transfer shm-mutex kshm-cycle; do
		[ -e "$dir/$p.png" ] && echo "![$p]($imgdir/$p.png)" && echo
	done
	echo "### Every kipc row against every peer (kipc ÷ peer)"
	echo
	echo "Each cell is the kipc median divided by the peer median, from the same"
	echo "run; **bold** where kipc is faster by more than 2 %."
	cat "$dir/ratios.md"
	echo
	if [ "$imgdir" = . ]; then
		echo "Raw numbers: [all.csv](all.csv)."
	else
		echo "Raw numbers: [results.csv]($imgdir/results.csv) (\`build/bench/all.csv\` after \`make bench\`)."
	fi
} >"$dir/results.md"
echo "bench: wrote $dir/{ratios,targets,results}.md and $(find "$dir" -maxdepth 1 -name "*.png" | wc -l) charts"
