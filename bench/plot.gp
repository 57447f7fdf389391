# plot.gp -- median ns per operation and per process, for every system, on a
# log scale: one panel for 1 process, one for 2. Written by bench/run.sh:
#   gnuplot -e "datafile='bench/results/plot.dat'; outfile='bench/results/bench.png'" bench/plot.gp
if (!exists("datafile")) datafile = 'bench/results/plot.dat'
if (!exists("outfile")) outfile = 'bench/results/bench.png'
titles = "shmc Python-Manager Boost-unordered_map/vector Boost-map floor"
set terminal pngcairo size 1800,1200 font ",10"
set output outfile
set datafile missing "?"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set yrange [1:*]
set format y "10^{%L}"
set ylabel "ns per operation, per process (log scale)"
set grid ytics mytics
set xtics rotate by -35 noenhanced scale 0
set key top left horizontal noenhanced
set lmargin 10
set rmargin 8
set bmargin 7
set multiplot layout 2,1 title "shmc beside its peers (median ns/op; lower is better)"
set title "1 process"
plot for [i=2:6] datafile index 0 using i:xtic(1) title word(titles, i-1)
set title "2 processes on one object"
plot for [i=2:6] datafile index 1 using i:xtic(1) title word(titles, i-1)
unset multiplot
