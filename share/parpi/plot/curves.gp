# curves.gp - learning curves for parpi-plot. Variables (gnuplot -e):
#   out (PNG path; text: 1 for a text plot, dumb terminal, w x h characters), list (file of "datafile<TAB>label" lines, n of them),
#   ttl, ylab, w, h, and xtics (a file of "set xtics (...)": labels that
#   never repeat, e.g. 5k 5.2k 5.4k). Each datafile has columns: step value std.
if (exists("text") && text) { set terminal dumb size w, h } else { set terminal pngcairo size w, h enhanced font "sans,10" }
set output out
set title ttl noenhanced
set xlabel "environment steps"
set ylabel ylab noenhanced
set key outside right top noenhanced
set grid
if (exists("xtics")) { load xtics } else { set format x "%.0s%c" }
# ten colours that stay apart on white (no yellow); lighter bands for many lines
set linetype 1 lc rgb "#1f77b4"
set linetype 2 lc rgb "#d62728"
set linetype 3 lc rgb "#2ca02c"
set linetype 4 lc rgb "#9467bd"
set linetype 5 lc rgb "#ff7f0e"
set linetype 6 lc rgb "#8c564b"
set linetype 7 lc rgb "#e377c2"
set linetype 8 lc rgb "#17becf"
set linetype 9 lc rgb "#7f7f7f"
set linetype 10 lc rgb "#000000"
set linetype cycle 10
fa = n > 3 ? 0.08 : 0.18
set style fill transparent solid fa noborder
file(i) = system(sprintf("sed -n '%dp' '%s' | cut -f1", i, list))
label(i) = system(sprintf("sed -n '%dp' '%s' | cut -f2", i, list))
plot for [i=1:n] file(i) using 1:($2-$3):($2+$3) with filledcurves lc i notitle, \
     for [i=1:n] file(i) using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc i title label(i)
