# particles.gp - policy samples vs Langevin particles for parpi-plot.
# Variables: out, text (1: a text plot, w x h characters), u0, uK (files of a = tanh(u): one column, or two), pairs
# (row r of u0 and row r of uK on one line: x0 y0 xK yK), ttl, dimx, dimy
# (-1 for a 1-D histogram), w, h.
if (exists("text") && text) { set terminal dumb size w, h } else { set terminal pngcairo size w, h enhanced font "sans,10" }
set output out
set title ttl noenhanced
set key top left
set grid
if (dimy < 0) {
    bins = 40
    bw = 2.0 / bins
    bin(x) = bw * floor((x + 1) / bw) - 1 + bw / 2
    set xrange [-1:1]
    set xlabel sprintf("action dimension %d (a = tanh u)", dimx)
    set ylabel "count"
    set style fill transparent solid 0.45 noborder
    set boxwidth bw
    plot u0 using (bin($1)):(1) smooth frequency with boxes lc rgb "#1f77b4" title "policy samples u_0", \
         uK using (bin($1)):(1) smooth frequency with boxes lc rgb "#d62728" title "Langevin particles u_K"
} else {
    set xrange [-1:1]
    set yrange [-1:1]
    set size ratio -1
    set key outside bottom center horizontal
    set xlabel sprintf("action dimension %d (a = tanh u)", dimx)
    set ylabel sprintf("action dimension %d", dimy)
    plot pairs using 1:2:($3-$1):($4-$2) with vectors nohead lw 0.5 lc rgb "#b0b0b0" title "u_0 to its u_K", \
         u0 using 1:2 with points pt 7 ps 0.5 lc rgb "#1f77b4" title "policy samples u_0", \
         uK using 1:2 with points pt 7 ps 0.5 lc rgb "#d62728" title "Langevin particles u_K"
}
