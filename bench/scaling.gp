# scaling.gp -- combined throughput against the number of processes, one
# panel per operation, every system that ran it (log scales). Written by
# bench/run.sh from report.py's scaling.dat:
#   gnuplot -e "datafile='bench/results/scaling.dat'; outfile='bench/results/bench_scaling.png'" bench/scaling.gp
# scaling.dat: a first line "# ops: ID ID ...", then one block per operation
# (in that order) of lines "P shmc python boost boost_map floor", '?' where
# a system has no figure.
if (!exists("datafile")) datafile = 'bench/results/scaling.dat'
if (!exists("outfile")) outfile = 'bench/results/bench_scaling.png'
ops = system("sed -n 's/^# ops: //p' '".datafile."'")
n = words(ops)
cols = 5
rows = int((n + cols - 1) / cols)
titles = "shmc Python-Manager Boost Boost-map floor"
set terminal pngcairo size 1800, 330 * rows font ",9"
set output outfile
set datafile missing "?"
set logscale x 2
set logscale y 10
set xrange [0.8:10]
set xtics (1, 2, 4, 8)
set format y "10^{%L}"
set grid ytics xtics
set key bottom left noenhanced font ",8" samplen 2
set style line 1 lc rgb "#d62728" lw 2 pt 7 ps 0.8
set style line 2 lc rgb "#7f7f7f" lw 1 pt 6 ps 0.8 dt 2
set style line 3 lc rgb "#1f77b4" lw 2 pt 5 ps 0.8
set style line 4 lc rgb "#17becf" lw 1 pt 4 ps 0.8
set style line 5 lc rgb "#2ca02c" lw 1 pt 2 ps 0.8 dt 3
set multiplot layout rows, cols title "combined throughput (ops/s, all P processes) against P; 2 CPUs, so P = 4 and 8 oversubscribe"
do for [i = 1:n] {
	set title word(ops, i) noenhanced
	if (i == 1) { set key } else { unset key }
	plot for [c = 2:6] datafile index (i - 1) using 1:c with linespoints ls (c - 1) \
		title word(titles, c - 1)
}
unset multiplot
