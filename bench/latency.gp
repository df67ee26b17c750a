# SPDX-License-Identifier: GPL-2.0-or-later
# Ban latency distribution, from bench/run. datafile: one latency in ms a
# line, sorted; n: how many.
set terminal pngcairo size 900,520 font "sans,10" noenhanced
set output outfile
set title "Ban latency, write() of the offence line to the address in the set\n".subtitle
set xlabel "latency (ms, log scale)"
set ylabel "offences banned within (%)"
set logscale x
set yrange [0:100]
set grid xtics ytics
set key bottom right
set xrange [0.1:50]
# the targets: median under 5 ms, p99 under 20 ms
set arrow from 5, graph 0 to 5, graph 1 nohead dt 2 lc rgb "#888888"
set arrow from 20, graph 0 to 20, graph 1 nohead dt 2 lc rgb "#888888"
set label "target: median < 5 ms" at 5, graph 0.55 right offset -0.5, 0 tc rgb "#666666"
set label "target: p99 < 20 ms" at 20, graph 0.45 right offset -0.5, 0 tc rgb "#666666"
plot datafile using 1:(100.0 * ($0 + 1) / n) with steps lw 2 lc rgb "#2e8b57" title "offences banned within x ms"
