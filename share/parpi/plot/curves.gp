# curves.gp - learning curves for parpi-plot. Variables (gnuplot -e):
#   out (PNG path), list (file of "datafile<TAB>label" lines, n of them),
#   ttl, ylab, w, h. Each datafile has columns: step value std.
set terminal pngcairo size w, h enhanced font "sans,10"
set output out
set title ttl noenhanced
set xlabel "environment steps"
set ylabel ylab noenhanced
set key outside right top noenhanced
set grid
set format x "%.0s%c"
set style fill transparent solid 0.18 noborder
file(i) = system(sprintf("sed -n '%dp' '%s' | cut -f1", i, list))
label(i) = system(sprintf("sed -n '%dp' '%s' | cut -f2", i, list))
plot for [i=1:n] file(i) using 1:($2-$3):($2+$3) with filledcurves lc i notitle, \
     for [i=1:n] file(i) using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc i title label(i)
