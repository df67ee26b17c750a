# SPDX-License-Identifier: GPL-2.0-or-later
# Throughput per tool, from bench/run. datafile: "label" lines/s tool,
# tool 1 spamwrathctl test, 2 pcre2grep, 3 fail2ban-regex, 4 spamwrathd.
set terminal pngcairo size 900,520 font "sans,10" noenhanced
set output outfile
set title "Throughput, lines per second (log scale; higher is better)\n".subtitle
set linetype 1 lc rgb "#3a6ea5"
set linetype 2 lc rgb "#8c8c8c"
set linetype 3 lc rgb "#c0504d"
set linetype 4 lc rgb "#2e8b57"
set style fill solid 0.85 border -1
set boxwidth 0.6
set logscale y
set yrange [10000:*]
set format y "%.0s%c"
set ylabel "lines/s"
set xtics rotate by -25 nomirror
set grid ytics
set key off
set xrange [-0.6:*]
plot datafile using 0:2:3:xtic(1) with boxes lc variable, \
     '' using 0:($2*1.15):(sprintf("%.0f", $2)) with labels
