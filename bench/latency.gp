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
plot datafile using 1:(100.0 * $0 / n) with steps lw 2 lc rgb "#2e8b57" title "cumulative", \
     5 with lines dt 2 lc rgb "#888888" notitle
