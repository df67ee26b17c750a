# SPDX-License-Identifier: GPL-2.0-or-later
# bench/daemon.sh: the daemon's figures, sourced by bench/run (which
# provides $tmp, $data, $top_srcdir, $daemon, $ctl, the helpers and say).
# spamwrathd runs as in production: a file source followed through
# inotify, real ipsets (in a network namespace of the bench's own, named
# after its pid: other engineers use this machine), durable state in a
# directory of its own, the control socket. Each figure starts a fresh
# daemon with empty sets and state unless it measures a restart. With
# dm_backend=nftables the daemon bans into nftables sets instead, in a
# table of its own.

dm_ns="sw-bench-$$"
dm_set=0
dm_pid=""
dm_backend=ipset

# Why the daemon's figures cannot be measured here, or nothing.
dm_unavailable() {
	[ "$(id -u)" = 0 ] || { echo "needs root (network namespace, ipset)"; return; }
	command -v ip >/dev/null 2>&1 || { echo "needs ip (apt-get install iproute2)"; return; }
	command -v ipset >/dev/null 2>&1 || { echo "needs ipset (apt-get install ipset)"; return; }
	for p in "$swready" "$swwrite" "$swlatency"; do
		[ -x "$p" ] || { echo "needs $p (make bench builds it)"; return; }
	done
	ip netns add "$dm_ns" 2>/dev/null || { echo "cannot create a network namespace"; return; }
	ip netns del "$dm_ns"
}

# Why the nftables backend's figures cannot be measured here, or nothing.
dm_nft_unavailable() {
	command -v nft >/dev/null 2>&1 || { echo "needs nft (apt-get install nftables)"; return; }
	command -v jq >/dev/null 2>&1 || { echo "needs jq (apt-get install jq)"; return; }
}

dm_begin() {
	ip netns add "$dm_ns"
	chmod 755 "$tmp"
}

dm_end() {
	[ -z "$dm_pid" ] || dm_stop
	ip netns del "$dm_ns" 2>/dev/null || true
}

nsx() { ip netns exec "$dm_ns" "$@"; }

# dm_conf DIR [PATTERNS_DIR]: a configuration in DIR, with fresh set names.
dm_conf() {
	dm_set=$((dm_set + 1))
	dm_set4="swb$$n${dm_set}a"
	dm_set6="swb$$n${dm_set}b"
	dm_table="swb$$n${dm_set}t"
	mkdir -p "$1"
	: >"$1/mail.log"
	cat >"$1/sw.conf" <<CONF
patterns_dir = "${2:-$top_srcdir/patterns}"
state_dir = "$1/state"
control_socket = "$1/control.sock"
whitelist = { "192.0.2.0/24", "2001:db8:25::/48" }
ignore_self = no
spamtraps = { "trap@example.org", "@honeypot.example.net" }
class spam { min_score = 15 }
max_tracked = 1000000
ipset {
    set4 = "$dm_set4"
    set6 = "$dm_set6"
    maxelem = 2097152
}
source maillog { file = "$1/mail.log" }
CONF
	[ "$dm_backend" = ipset ] || cat >>"$1/sw.conf" <<CONF
backend = "$dm_backend"
nftables {
    table = "$dm_table"
    set4 = "$dm_set4"
    set6 = "$dm_set6"
    size = 2097152
}
CONF
	dm_dir=$1
}

# Starts spamwrathd on $dm_dir/sw.conf; returns once it has said "started".
dm_start() {
	# not through nsx: $! must be the daemon (ip netns exec execs it)
	ip netns exec "$dm_ns" env SPAMWRATH_LOG=stderr "$daemon" -c "$dm_dir/sw.conf" \
		</dev/null >/dev/null 2>>"$dm_dir/err" &
	dm_pid=$!
	dm_i=0
	until grep -q "started" "$dm_dir/err" 2>/dev/null; do
		dm_i=$((dm_i + 1))
		if [ "$dm_i" -gt 300 ] || ! kill -0 "$dm_pid" 2>/dev/null; then
			cat "$dm_dir/err" >&2
			echo "bench/run: spamwrathd did not start" >&2
			return 1
		fi
		sleep 0.1
	done
	[ "$(cat "/proc/$dm_pid/comm" 2>/dev/null)" = spamwrathd ] ||
		{ echo "bench/run: pid $dm_pid is not spamwrathd" >&2; return 1; }
}

dm_stop() {
	kill -TERM "$dm_pid" 2>/dev/null || true
	wait "$dm_pid" 2>/dev/null || true
	dm_pid=""
}

dm_destroy_sets() {
	if [ "$dm_backend" = nftables ]; then
		nsx nft delete table inet "$dm_table" 2>/dev/null || true
		return
	fi
	nsx ipset destroy "$dm_set4" 2>/dev/null || true
	nsx ipset destroy "$dm_set6" 2>/dev/null || true
}

# The members of set4 and set6 together.
dm_members() {
	if [ "$dm_backend" = nftables ]; then
		for dm_s in "$dm_set4" "$dm_set6"; do
			nsx nft -j list set inet "$dm_table" "$dm_s" |
				jq '[.nftables[] | select(.set) | (.set.elem // [])[]] | length'
		done | awk '{ n += $1 } END { print n + 0 }'
		return
	fi
	for dm_s in "$dm_set4" "$dm_set6"; do
		nsx ipset list -t "$dm_s" | sed -n 's/^Number of entries: //p'
	done | awk '{ n += $1 } END { print n + 0 }'
}

dm_status() { "$ctl" -s "$dm_dir/control.sock" status --json; }
# lines read by the (only) source
dm_lines() { dm_status | sed -n 's/.*"sources":\[{[^]]*"lines":\([0-9]*\).*/\1/p'; }
now_s() { date +%s.%N; }
# dm_wait_lines N TIMEOUT: polls until the source has read N lines; prints
# the time it saw them, or fails after TIMEOUT seconds
dm_wait_lines() {
	dm_limit=$(($(date +%s) + $2))
	while :; do
		dm_l=$(dm_lines)
		[ "${dm_l:-0}" -ge "$1" ] && { now_s; return 0; }
		[ "$(date +%s)" -le "$dm_limit" ] || return 1
		sleep 0.01
	done
}
dm_hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$dm_pid/status"; }
dm_cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$dm_pid/stat"; }
dm_stat() { dm_status | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }

# dm_distinct FILE N KIND: N lines, each from a new address 10.x.y.z;
# KIND unknown (a surefire offence: a ban each), mixed (the same, every
# eighth from an IPv6 address of a /64 of its own) or auth (a failed
# login: tracked, not banned).
dm_distinct() {
	[ -s "$1" ] && [ "$(wc -l <"$1")" = "$2" ] && return 0
	awk -v n="$2" -v kind="$3" 'BEGIN {
		for (i = 1; i <= n; i++) {
			a = sprintf("10.%d.%d.%d", int(i / 65536), int(i / 256) % 256, i % 256)
			if (kind == "mixed" && i % 8 == 0)
				a = sprintf("2001:db8:%x:%x::1", int(i / 65536) + 256, i % 65536)
			if (kind == "auth")
				printf "2026-11-27T08:00:00.000000+00:00 mx1 postfix/smtpd[2001]: warning: unknown[%s]: SASL LOGIN authentication failed: authentication failure, sasl_username=anna@example.org\n", a
			else
				printf "2026-11-27T08:00:00.000000+00:00 mx1 postfix/smtpd[2001]: NOQUEUE: reject: RCPT from unknown[%s]: 550 5.1.1 <x%d@example.org>: Recipient address rejected: User unknown in local recipient table; from=<bulk@spam.example> to=<x%d@example.org> proto=ESMTP helo=<bot>\n", a, i, i
		}
	}' >"$1"
}

# --- live throughput --------------------------------------------------
# dm_live RATE SRC: a fresh daemon follows a file that gets SRC appended at
# RATE lines/s (0: as fast as the writer can). Leaves dm_r_* set.
dm_live() {
	dm_n=$(wc -l <"$2")
	dm_conf "$tmp/live$dm_set"
	dm_start
	dm_w=$("$swwrite" -r "$1" "$2" "$dm_dir/mail.log")
	dm_at_end=$(dm_lines)
	dm_done=$(dm_wait_lines "$dm_n" 120) || dm_done=""
	dm_t0=$(echo "$dm_w" | sed 's/.*start=\([0-9.]*\).*/\1/')
	dm_t1=$(echo "$dm_w" | sed 's/.*end=\([0-9.]*\).*/\1/')
	dm_r_written=$(awk -v n="$dm_n" -v s="$dm_t0" -v e="$dm_t1" 'BEGIN { printf "%.0f", n / (e - s) }')
	dm_r_lag=$((dm_n - ${dm_at_end:-0}))
	if [ -n "$dm_done" ]; then
		dm_r_rate=$(awk -v n="$dm_n" -v s="$dm_t0" -v d="$dm_done" 'BEGIN { printf "%.0f", n / (d - s) }')
		dm_r_drain=$(awk -v e="$dm_t1" -v d="$dm_done" 'BEGIN { x = d - e; printf "%.2f", x < 0 ? 0 : x }')
	else
		dm_r_rate="" dm_r_drain="timeout"
	fi
	dm_r_cpu=$(dm_cpu_s)
	dm_r_bans=$(dm_stat bans)
	dm_stop
	dm_destroy_sets
	rm -rf "$dm_dir"
}

# --- ban latency --------------------------------------------------------
dm_latency() {
	dm_conf "$tmp/latency"
	dm_start
	if [ "$dm_backend" = nftables ]; then
		nsx "$swlatency" -n "$1" -r "$2" -T "$dm_table" "$dm_dir/mail.log" "$dm_set4" \
			"$tmp/latency.ms" >"$tmp/latency.out"
	else
		nsx "$swlatency" -n "$1" -r "$2" "$dm_dir/mail.log" "$dm_set4" "$tmp/latency.ms" \
			>"$tmp/latency.out"
	fi
	dm_stop
	dm_destroy_sets
	rm -rf "$dm_dir"
	sort -g "$tmp/latency.ms" | awk -f "$top_srcdir/bench/latency.awk" >"$tmp/latency.sum"
}

# --- memory with a million offenders ------------------------------------
# dm_million FILE: peak RSS (KiB) of a fresh daemon that read FILE, then
# the addresses it tracks and the seconds it took.
dm_million() {
	dm_n=$(wc -l <"$1")
	dm_conf "$tmp/million$dm_set"
	dm_start
	dm_t0=$(now_s)
	"$swwrite" -r 0 "$1" "$dm_dir/mail.log" >/dev/null
	dm_done=$(dm_wait_lines "$dm_n" 900) || dm_done=""
	dm_r_hwm=$(dm_hwm_kib)
	dm_r_tracked=$(dm_stat tracked)
	dm_r_bans=$(dm_stat bans)
	dm_r_secs=$( [ -n "$dm_done" ] && awk -v s="$dm_t0" -v d="$dm_done" 'BEGIN { printf "%.1f", d - s }' || echo timeout)
	dm_r_state_error=$(dm_status | sed -n 's/.*"state":{[^}]*"error":"\([^"]*\)".*/\1/p')
	dm_stop
	# every ban must be on disk once the daemon has stopped
	dm_r_state_bans=$(grep -c '^ban ' "$dm_dir/state/spamwrath.state" || true)
	dm_destroy_sets
	rm -rf "$dm_dir"
}

# --- restore ------------------------------------------------------------
# dm_restore FILE RUNS: a daemon bans every address of FILE and stops;
# then RUNS starts with the sets as they are (restart) and RUNS with the
# sets destroyed (reboot), each timed from fork to READY=1.
dm_restore() {
	dm_n=$(wc -l <"$1")
	dm_conf "$tmp/restore"
	dm_start
	"$swwrite" -r 0 "$1" "$dm_dir/mail.log" >/dev/null
	dm_wait_lines "$dm_n" 300 >/dev/null || { echo "bench/run: the restore set-up timed out" >&2; }
	dm_r_bans=$(dm_stat bans)
	dm_stop
	: >"$tmp/restart.runs"
	: >"$tmp/reboot.runs"
	dm_k=0
	while [ "$dm_k" -lt "$2" ]; do
		nsx env SPAMWRATH_LOG=stderr "$swready" -k -t 120 -- "$daemon" -c "$dm_dir/sw.conf" \
			2>>"$dm_dir/err" | sed -n 's/^ready=\([0-9.]*\).*/\1/p' >>"$tmp/restart.runs"
		dm_destroy_sets
		nsx env SPAMWRATH_LOG=stderr "$swready" -k -t 120 -- "$daemon" -c "$dm_dir/sw.conf" \
			2>>"$dm_dir/err" | sed -n 's/^ready=\([0-9.]*\).*/\1/p' >>"$tmp/reboot.runs"
		dm_k=$((dm_k + 1))
	done
	dm_r_members=$(dm_members)
	dm_destroy_sets
	rm -rf "$dm_dir"
}

# --- reload -------------------------------------------------------------
# dm_reload PATTERNS_DIR RUNS: `spamwrathctl reload` of a running daemon
# whose configuration names PATTERNS_DIR, RUNS times (the time of the whole
# command, which returns when the daemon has reloaded).
dm_reload() {
	dm_conf "$tmp/reload$dm_set" "$1"
	dm_start
	timeit "reload$dm_set" "$2" "$tmp/reload.out" "$ctl" -s "$dm_dir/control.sock" reload
	dm_r_reload=$(wall_of "reload$dm_set")
	dm_r_patterns=$(dm_stat patterns)
	dm_stop
	dm_destroy_sets
	rm -rf "$dm_dir"
}
