# SPDX-License-Identifier: GPL-2.0-or-later
# bench/latency.awk: ban delays in ms, one a line and sorted (sort -g),
# "timeout" for a ban that never came, summed up in one line:
# "MEDIAN P99 MAX TIMEOUTS", or "- - - TIMEOUTS" when no ban came.
# For bench/daemon.sh, bench/fleet.sh and bench/journal-latency.
$1 == "timeout" { t++; next }
{ v[++n] = $1 }
END {
	if (n == 0) { print "- - - " t + 0; exit }
	p99 = int(n * 0.99 + 0.999999); if (p99 > n) p99 = n
	med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	printf "%.2f %.2f %.2f %d\n", med, v[p99], v[n], t + 0
}
