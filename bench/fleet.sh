# SPDX-License-Identifier: GPL-2.0-or-later
# bench/fleet.sh: the fleet's figures, sourced by bench/run after the
# daemon's (which provides $tmp, $data, $top_srcdir, $daemon, $ctl,
# $swlatency, the helpers and say). A redis-server of the bench's own on a
# Unix socket in $tmp (never the machine's service); spamwrathd hosts in
# network namespaces of their own (sw-bench-PID-NAME), each with its sets;
# bench/swfleet for the simulated hosts of the load test and to fill the
# fleet. Sets fl_r_* for the targets.
#
# 1. propagation: BENCH_FLEET_N (1000) offence lines written on mx1 at
#    BENCH_FLEET_RATE (100) a second, each timed from its write() to its
#    address in mx2's set (bench/swlatency in mx2's namespace);
# 2. sync: a host joins a fleet of BENCH_FLEET_SYNC (100000) bans in force:
#    from its start to all of them in its set, BENCH_RUNS times;
# 3. load: BENCH_FLEET_HOSTS (10) simulated hosts publish BENCH_FLEET_LOAD
#    (1000) bans a second together for BENCH_FLEET_SECONDS (60): every host
#    must receive every other host's bans; lag, CPU, Redis's memory per ban.

fl_sock=""
fl_redis=""

fl_unavailable() {
	[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces, ipset)"; return; }
	command -v redis-server >/dev/null 2>&1 || { echo "needs redis-server (apt-get install redis-server)"; return; }
	command -v redis-cli >/dev/null 2>&1 || { echo "needs redis-cli (apt-get install redis-tools)"; return; }
	for p in "$swlatency" "$swfleet"; do
		[ -x "$p" ] || { echo "needs $p (make bench builds it)"; return; }
	done
	ip netns add "sw-bench-$$-probe" 2>/dev/null || { echo "cannot create a network namespace"; return; }
	ip netns del "sw-bench-$$-probe"
}

fl_cli() { redis-cli -s "$fl_sock" "$@"; }

# A fresh, empty redis-server (the previous one killed).
fl_redis_start() {
	fl_redis_stop
	mkdir -p "$tmp/fl-redis"
	fl_sock=$tmp/fl-redis/redis.sock
	redis-server --port 0 --unixsocket "$fl_sock" --unixsocketperm 700 --save '' \
		--appendonly no --dir "$tmp/fl-redis" --logfile "$tmp/fl-redis/log" &
	fl_redis=$!
	fl_i=0
	until fl_cli ping >/dev/null 2>&1; do
		fl_i=$((fl_i + 1))
		[ "$fl_i" -lt 100 ] || { echo "bench/run: redis-server did not start" >&2; return 1; }
		sleep 0.1
	done
}

fl_redis_stop() {
	[ -z "$fl_redis" ] || { kill -KILL "$fl_redis" 2>/dev/null; wait "$fl_redis" 2>/dev/null; } || true
	fl_redis=""
}

fl_key() {
	head -c 32 /dev/urandom | base64 >"$tmp/fl.key"
	chmod 600 "$tmp/fl.key"
}

# fl_host NAME: a spamwrathd of the fleet in namespace sw-bench-PID-NAME,
# its configuration and files in $tmp/fl-NAME; waits until it is in step.
fl_host() {
	fl_ns="sw-bench-$$-$1"
	fl_dir="$tmp/fl-$1"
	ip netns add "$fl_ns" 2>/dev/null || true
	mkdir -p "$fl_dir"
	: >"$fl_dir/mail.log"
	: >"$fl_dir/err"
	cat >"$fl_dir/sw.conf" <<CONF
patterns_dir = "$top_srcdir/patterns"
state_dir = "$fl_dir/state"
control_socket = "$fl_dir/control.sock"
ignore_self = no
ipset {
    set4 = "swb$$$1a"
    set6 = "swb$$$1b"
    maxelem = 2097152
}
source maillog { file = "$fl_dir/mail.log" }
fleet {
    redis = "$fl_sock"
    key_file = "$tmp/fl.key"
    host = "$1"
    namespace = "bench"
}
CONF
	ip netns exec "$fl_ns" env SPAMWRATH_LOG=stderr "$daemon" -c "$fl_dir/sw.conf" \
		</dev/null >/dev/null 2>>"$fl_dir/err" &
	eval "fl_pid_$1=$!"
	fl_i=0
	until grep -q "fleet: in step" "$fl_dir/err" 2>/dev/null; do
		fl_i=$((fl_i + 1))
		if [ "$fl_i" -gt 600 ]; then
			cat "$fl_dir/err" >&2
			echo "bench/run: spamwrathd $1 did not join the fleet" >&2
			return 1
		fi
		sleep 0.01
	done
}

# fl_host_stop NAME: stops it, destroys its sets and namespace.
fl_host_stop() {
	eval "fl_p=\${fl_pid_$1:-}"
	[ -z "$fl_p" ] || { kill -TERM "$fl_p" 2>/dev/null; wait "$fl_p" 2>/dev/null; } || true
	eval "fl_pid_$1="
	ip netns exec "sw-bench-$$-$1" ipset destroy "swb$$$1a" 2>/dev/null || true
	ip netns exec "sw-bench-$$-$1" ipset destroy "swb$$$1b" 2>/dev/null || true
	ip netns del "sw-bench-$$-$1" 2>/dev/null || true
}

fl_end() {
	for h in mx1 mx2 mx3; do fl_host_stop "$h"; done
	fl_redis_stop
}

fl_count() {
	ip netns exec "sw-bench-$$-$1" ipset list -t "swb$$$1a" 2>/dev/null |
		sed -n 's/^Number of entries: //p'
}

# --- propagation ----------------------------------------------------------
fl_propagation() {
	fl_redis_start
	fl_host mx1
	fl_host mx2
	ip netns exec "sw-bench-$$-mx2" "$swlatency" -n "$1" -r "$2" "$tmp/fl-mx1/mail.log" \
		"swb$$mx2a" "$tmp/fl-prop.ms" >"$tmp/fl-prop.out"
	fl_host_stop mx1
	fl_host_stop mx2
	sort -g "$tmp/fl-prop.ms" | awk -f "$top_srcdir/bench/latency.awk" >"$tmp/fl-prop.sum"
}

# --- a host joining a fleet of N bans ---------------------------------------
# fl_sync N RUNS: fills a fresh Redis with N bans (one simulated host), then
# RUNS times starts mx3 with empty sets and state and times its start to
# all N in its set; leaves "seconds in_step_ms" a line in $tmp/fl-sync.runs.
fl_sync() {
	fl_redis_start
	"$swfleet" -r "$fl_sock" -k "$tmp/fl.key" -n bench -H filler -i 0 -c "$1" \
		>"$tmp/fl-fill.out" 2>"$tmp/fl-fill.err" ||
		{ cat "$tmp/fl-fill.err" >&2; echo "bench/run: filling the fleet failed" >&2; return 1; }
	fl_r_index=$(fl_cli HLEN bench:bans)
	: >"$tmp/fl-sync.runs"
	fl_k=0
	while [ "$fl_k" -lt "$2" ]; do
		rm -rf "$tmp/fl-mx3"
		fl_t0=$(date +%s.%N)
		fl_host mx3
		until [ "$(fl_count mx3)" -ge "$1" ] 2>/dev/null; do
			awk -v s="$fl_t0" -v n="$(date +%s.%N)" 'BEGIN { exit !(n - s > 60) }' &&
				{ echo "bench/run: mx3 did not get the fleet's bans in 60 s" >&2; break; }
			sleep 0.01
		done
		fl_t1=$(date +%s.%N)
		fl_ms=$(sed -n 's/.*fleet: in step with the .* records in \([0-9]*\) ms.*/\1/p' \
			"$tmp/fl-mx3/err" | head -n 1)
		fl_r_members=$(fl_count mx3)
		echo "$(awk -v a="$fl_t0" -v b="$fl_t1" 'BEGIN { printf "%.3f", b - a }') $fl_ms" \
			>>"$tmp/fl-sync.runs"
		fl_host_stop mx3
		fl_k=$((fl_k + 1))
	done
}

# --- load: simulated hosts ----------------------------------------------------
# fl_load HOSTS RATE SECONDS: HOSTS swfleet publish RATE bans a second
# together for SECONDS; their summary lines in $tmp/fl-load.out.
fl_load() {
	fl_redis_start
	fl_mem0=$(fl_cli INFO memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
	fl_each=$(( $2 / $1 ))
	fl_start=$(( $(date +%s) + 3 ))
	fl_redis_cpu0=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$fl_redis/stat")
	: >"$tmp/fl-load.out"
	fl_pids=""
	fl_k=0
	while [ "$fl_k" -lt "$1" ]; do
		"$swfleet" -r "$fl_sock" -k "$tmp/fl.key" -n bench -H "sim$fl_k" -i $((fl_k + 2)) \
			-R "$fl_each" -s "$3" -t "$fl_start" -g 5 >>"$tmp/fl-load.out" 2>>"$tmp/fl-load.err" &
		fl_pids="$fl_pids $!"
		fl_k=$((fl_k + 1))
	done
	for p in $fl_pids; do wait "$p" || true; done
	fl_redis_cpu=$(awk -v hz="$(getconf CLK_TCK)" -v c0="$fl_redis_cpu0" '{ printf "%.2f", ($14 + $15) / hz - c0 }' "/proc/$fl_redis/stat")
	fl_r_index=$(fl_cli HLEN bench:bans)
	fl_mem1=$(fl_cli INFO memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
	fl_r_per_ban=$(awk -v a="$fl_mem0" -v b="$fl_mem1" -v n="$fl_r_index" 'BEGIN { if (n > 0) printf "%.0f", (b - a) / n; else print "-" }')
	fl_r_keys=$(fl_cli DBSIZE)
	fl_r_expected=$(( fl_each * $3 * ($1 - 1) ))
	fl_r_behind=$(awk -v want="$fl_r_expected" '{ sub("received=", "", $3); if ($3 + 0 < want) n++ } END { print n + 0 }' "$tmp/fl-load.out")
}

fl_bench() {
	fl_why=""
	[ "${BENCH_FLEET:-1}" = 1 ] || fl_why="skipped (BENCH_FLEET=0)"
	[ -n "$fl_why" ] || fl_why=$(fl_unavailable)
	fl_r_med="" fl_r_p99="" fl_r_sync="" fl_r_behind=""
	if [ -n "$fl_why" ]; then
		say "Fleet figures: not measured: $fl_why"
		say ""
		return 0
	fi
	trap 'fl_end; rm -rf "$tmp"' EXIT
	fl_key
	say "Fleet: spamwrathd hosts in network namespaces of their own (real ipsets each),"
	say "one redis-server $(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p') on a Unix socket; load $(load)"

	fl_n=${BENCH_FLEET_N:-1000}
	fl_rate=${BENCH_FLEET_RATE:-100}
	fl_propagation "$fl_n" "$fl_rate"
	read -r fl_r_med fl_r_p99 fl_r_max fl_r_lost <"$tmp/fl-prop.sum"
	say "$(printf '  %-52s %s' "propagation, $fl_n offences on mx1 at $fl_rate/s" \
		"median $fl_r_med ms, p99 $fl_r_p99 ms, max $fl_r_max ms,")"
	say "$(printf '  %-52s %s' "  (write() on mx1 to the address in mx2's set):" \
		"$fl_r_lost not in mx2's set within 5 s")"

	fl_sync_n=${BENCH_FLEET_SYNC:-100000}
	fl_sync "$fl_sync_n" "$runs"
	fl_r_sync=$(awk '{ print $1 }' "$tmp/fl-sync.runs" | median)
	fl_r_step=$(awk '{ print $2 }' "$tmp/fl-sync.runs" | median)
	say "$(printf '  %-52s %s' "a host joining a fleet of $fl_r_index bans in force:" \
		"$(printf '%.3f s from its start to all in its set' "$fl_r_sync")")"
	say "$(printf '  %-52s %s' "" "(its own count: read and applied in $fl_r_step ms; median of $runs;")"
	say "$(printf '  %-52s %s' "" " $fl_r_members members in its set after the last)")"
	[ "$fl_r_members" = "$fl_sync_n" ] || { say "  BANS LOST: $fl_r_members of $fl_sync_n"; fl_r_sync=99; }

	fl_hosts=${BENCH_FLEET_HOSTS:-10}
	fl_load_rate=${BENCH_FLEET_LOAD:-1000}
	fl_secs=${BENCH_FLEET_SECONDS:-60}
	fl_load "$fl_hosts" "$fl_load_rate" "$fl_secs"
	say "$(printf '  %-52s %s' "load, $fl_hosts simulated hosts, $fl_load_rate bans/s together" \
		"for $fl_secs s ($fl_r_index bans; each host must receive $fl_r_expected):")"
	while read -r l; do
		say "    $l"
	done <"$tmp/fl-load.out"
	say "$(printf '  %-52s %s' "  hosts that fell behind:" "$fl_r_behind of $fl_hosts")"
	say "$(printf '  %-52s %s' "  Redis:" "$fl_redis_cpu CPU s, $fl_r_keys keys, $fl_r_per_ban bytes of used_memory per ban")"
	say "    (a ban: its record in bench:bans, its end in bench:expiry, its history key)"
	fl_end
	trap 'rm -rf "$tmp"' EXIT
	say ""
}
