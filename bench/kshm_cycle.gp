# kshm_cycle.gp - chart kshm_cycle's CSV: ops/s against processes.
# Usage: gnuplot -e "in='kshm_cycle.csv'; out='kshm_cycle.png'" bench/kshm_cycle.gp
# (defaults: in='kshm_cycle.csv', out='kshm_cycle.png')
if (!exists("in")) in = 'kshm_cycle.csv'
if (!exists("out")) out = 'kshm_cycle.png'
set terminal pngcairo size 900,560 noenhanced font ",11"
set output out
set datafile separator ","
set title "Named shared memory: open -> trunc -> map -> write -> close (median, p10-p90)"
set xlabel "processes"
set ylabel "cycles per second (all processes)"
set logscale x 2
set xtics (1, 2, 4, 8, 16)
set xrange [0.8:20]
set yrange [0:*]
set grid ytics
set key top right Left reverse
# One series per mechanism (awk keeps the lines connected).
rows(m) = sprintf("< awk -F, '$1==\"kshm\" && $2==\"cycle\" && $3==\"%s\"' '%s'", m, in)
plot rows("kshm") using 4:6:7:8 with yerrorlines lw 2 pt 7 \
	title "kshm (libkipc)", \
     rows("posix_shm") using 4:6:7:8 with yerrorlines lw 2 pt 5 \
	title "POSIX shm (shm_open ... shm_unlink)"
