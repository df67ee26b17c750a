# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the tests/integration/daemon-*.sh tests (sourced after
# tests/lib.sh): a network namespace of the test's own, spamwrathd run in
# it, and polling helpers. Names carry the test's pid: other engineers run
# tests on the same machine. BACKEND=nftables (from the environment) runs
# the daemon and the set helpers below with nftables sets in table $TABLE
# instead of ipsets.
need_root
command -v ip >/dev/null || skip "ip (iproute2) is not installed"
BACKEND=${BACKEND:-ipset}
case $BACKEND in
ipset) command -v ipset >/dev/null || fail "ipset is not installed" ;;
nftables)
	command -v nft >/dev/null || fail "nft is not installed: apt-get install nftables"
	command -v jq >/dev/null || fail "jq is missing: apt-get install jq" ;;
*) fail "BACKEND=$BACKEND is neither ipset nor nftables" ;;
esac

NS="sw-$$-$(basename "$0" .sh | sed 's/^daemon-//')"
SET4="sw$$a"
SET6="sw$$b"
TABLE="sw$$t"
DAEMON_PID=""
DAEMON_ERR="$TMP/daemon.err"
chmod 755 "$TMP"

ip netns add "$NS" || fail "cannot create network namespace $NS"
at_exit "ip netns del $NS 2>/dev/null || true"

# Runs a command inside the test's namespace.
nsx() {
	ip netns exec "$NS" "$@"
}

# A configuration with the test patterns, the test's sets, state and
# control socket; extra lines from stdin are appended.
write_conf() {
	cat >"$TMP/sw.conf" <<CONF
patterns_dir = "$top_srcdir/tests/data/patterns"
state_dir = "$TMP/state"
control_socket = "$TMP/control.sock"
whitelist = { "192.0.2.0/24" }
spamtraps = { "trap@example.org" }
bantime = 1h
bantime_max = 1d
ipset {
    set4 = "$SET4"
    set6 = "$SET6"
    maxelem = 65536
}
CONF
	[ "$BACKEND" = ipset ] || cat >>"$TMP/sw.conf" <<CONF
backend = "$BACKEND"
nftables {
    table = "$TABLE"
    set4 = "$SET4"
    set6 = "$SET6"
    size = 65536
}
CONF
	cat >>"$TMP/sw.conf"
}

# start_daemon [ARGS...]: spamwrathd -c $TMP/sw.conf in the namespace,
# stderr to $DAEMON_ERR; returns once it has said "started".
start_daemon() {
	: >"$DAEMON_ERR"
	ip netns exec "$NS" env SPAMWRATH_LOG=stderr "$SPAMWRATHD" -c "$TMP/sw.conf" "$@" \
		2>>"$DAEMON_ERR" &
	daemon_started $!
	wait_for 20 grep -q "started" "$DAEMON_ERR" || fail "spamwrathd did not start"
}

# start_refused WHAT: spamwrathd -c $TMP/sw.conf in the namespace must
# exit with status 1 at once (within 20 s); its stderr is in $TMP/out,
# and printed.
start_refused() {
	_rc=0
	timeout 20 ip netns exec "$NS" env SPAMWRATH_LOG=stderr "$SPAMWRATHD" -c "$TMP/sw.conf" \
		2>"$TMP/out" || _rc=$?
	cat "$TMP/out"
	[ "$_rc" = 1 ] || fail "$1: exit status $_rc, expected 1"
}

# daemon_started PID: spamwrathd, started by the test as PID (a child of
# the test's shell), writing to $DAEMON_ERR: killed at the end, and on a
# failure its status and stderr are printed (watch_daemon).
daemon_started() {
	DAEMON_PID=$1
	at_exit "kill_child TERM $DAEMON_PID"
	watch_daemon spamwrathd "$DAEMON_PID" "$DAEMON_ERR"
}

# SIGTERM, then the exit status must be 0 (a sanitizer's report is not).
stop_daemon() {
	stop_child "$DAEMON_PID" spamwrathd
}

daemon_alive() {
	alive "$DAEMON_PID"
}

# in_set SET ADDRESS: is the address (or network) in the set?
in_set() {
	if [ "$BACKEND" = ipset ]; then
		ip netns exec "$NS" ipset test "$1" "$2" 2>/dev/null
	else
		ip netns exec "$NS" nft get element inet "$TABLE" "$1" "{ $2 }" >/dev/null 2>&1
	fi
}

# A set's members as nft -j gives them: one "ADDRESS[/LEN] EXPIRES" per line.
nft_members() {
	ip netns exec "$NS" nft -j list set inet "$TABLE" "$1" | jq -r '.nftables[] | select(.set) |
		(.set.elem // [])[] | (if type == "object" and has("elem") then . else { elem: { val: . } } end) |
		"\(.elem.val | if type == "object" then "\(.prefix.addr)/\(.prefix.len)" else . end) \(.elem.expires // 0)"'
}

# The timeout left on a member, in seconds.
set_timeout() {
	if [ "$BACKEND" = ipset ]; then
		ip netns exec "$NS" ipset list "$1" |
			awk -v a="$2" '$1 == a && $2 == "timeout" { print $3 }'
	else
		nft_members "$1" | awk -v a="$2" '$1 == a { print $2 }'
	fi
}

# Waits until ADDRESS is in SET; prints how long it took (ms) from $3, a
# `date +%s%N` taken before the line was written.
wait_banned() {
	wait_for 20 in_set "$1" "$2" || fail "$2 did not get into $1"
	if [ -n "${3:-}" ]; then
		_ms=$(( ($(date +%s%N) - $3) / 1000000 ))
		echo "ban latency for $2: <= ${_ms} ms"
	fi
}

# Log lines as the seed patterns know them (classic syslog headers).
stamp() {
	date -u '+%b %e %H:%M:%S'
}
line_unknown() {	# ADDRESS -> a Postfix "User unknown" reject
	echo "$(stamp) mx postfix/smtpd[1001]: NOQUEUE: reject: RCPT from unknown[$1]: 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local recipient table; from=<spam@bulk.example> to=<nobody@example.org> proto=ESMTP helo=<bulk>"
}
line_auth() {		# ADDRESS -> a failed SASL login (weight 0.2)
	echo "$(stamp) mx postfix/smtpd[1005]: warning: unknown[$1]: SASL LOGIN authentication failed: authentication failure"
}
line_benign() {		# ADDRESS -> a connect line, no offence
	echo "$(stamp) mx postfix/smtpd[1001]: connect from mail.example.com[$1]"
}

# A reject line stamped SECONDS ago (for lines written while stopped).
line_unknown_ago() {	# SECONDS ADDRESS
	_t=$(( $(date +%s) - $1 ))
	echo "$(date -u -d "@$_t" '+%b %e %H:%M:%S') mx postfix/smtpd[1001]: NOQUEUE: reject: RCPT from unknown[$2]: 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local recipient table; from=<spam@bulk.example> to=<nobody@example.org> proto=ESMTP helo=<bulk>"
}

# kill -9: no chance to write anything more.
kill9_daemon() {
	kill_child KILL "$DAEMON_PID"
	reap "$DAEMON_PID" 2>/dev/null || true
}

# Members of a set, one address per line.
members() {
	if [ "$BACKEND" = ipset ]; then
		ip netns exec "$NS" ipset list "$1" | sed -n '/^Members:/,$p' |
			awk '$2 == "timeout" { print $1 }'
	else
		nft_members "$1" | awk '{ print $1 }'
	fi
}

# Sets by hand, as an administrator or another tool would touch them.
# set_create_small SET FAMILY(4|6) MAXELEM: a set spamwrathd accepts, small.
set_create_small() {
	if [ "$BACKEND" = nftables ]; then
		nsx nft add table inet "$TABLE"
		if [ "$2" = 4 ]; then
			nsx nft add set inet "$TABLE" "$1" "{ type ipv4_addr; flags timeout; size $3; }"
		else
			nsx nft add set inet "$TABLE" "$1" \
				"{ type ipv6_addr; flags interval,timeout; size $3; }"
		fi
	elif [ "$2" = 4 ]; then
		nsx ipset create "$1" hash:ip family inet timeout 0 maxelem "$3"
	else
		nsx ipset create "$1" hash:net family inet6 timeout 0 maxelem "$3"
	fi
}
set_destroy() {
	if [ "$BACKEND" = ipset ]; then nsx ipset destroy "$1"
	else nsx nft delete set inet "$TABLE" "$1"; fi
}
# set_fill SET N: N members (11.0.0.0 upwards) in one batch.
set_fill() {
	if [ "$BACKEND" = ipset ]; then
		awk -v s="$1" -v n="$2" 'BEGIN { for (i = 0; i < n; i++)
			printf "add %s 11.%d.%d.%d\n", s, int(i / 65536), int(i / 256) % 256, i % 256 }' |
			nsx ipset restore
	else
		awk -v t="$TABLE" -v s="$1" -v n="$2" 'BEGIN { for (i = 0; i < n; i += 10000) {
			printf "add element inet %s %s { ", t, s
			for (k = i; k < i + 10000 && k < n; k++)
				printf "%s11.%d.%d.%d", (k > i ? ", " : ""), int(k / 65536), int(k / 256) % 256, k % 256
			printf " }\n" } }' >"$TMP/fill.nft"
		nsx nft -f "$TMP/fill.nft"
	fi
}
set_add() {
	if [ "$BACKEND" = ipset ]; then nsx ipset add "$1" "$2"
	else nsx nft add element inet "$TABLE" "$1" "{ $2 }"; fi
}
set_del() {
	if [ "$BACKEND" = ipset ]; then nsx ipset del "$1" "$2"
	else nsx nft delete element inet "$TABLE" "$1" "{ $2 }"; fi
}
# Empties a set, as a reboot does.
set_flush() {
	if [ "$BACKEND" = ipset ]; then nsx ipset flush "$1"
	else nsx nft flush set inet "$TABLE" "$1"; fi
}
set_members() { members "$1"; }
# True when the namespace holds no set (nftables: no table) at all.
no_sets() {
	if [ "$BACKEND" = ipset ]; then [ -z "$(nsx ipset list -n)" ]
	else [ -z "$(nsx nft list tables)" ]; fi
}
# The set an address (as list prints it) is banned into.
set_of() {
	case $1 in
	*:*) echo "$SET6" ;;
	*) echo "$SET4" ;;
	esac
}

# spamwrathctl on the test daemon's control socket.
ctl() {
	"$SPAMWRATHCTL" -s "$TMP/control.sock" "$@"
}

# The usual setup: an empty $log, followed by the source "maillog"; extra
# configuration lines from stdin (none when stdin is a terminal or empty).
log="$TMP/mail.log"
write_file_conf() {
	: >"$log"
	{ echo "source maillog { file = \"$log\" }"; cat; } | write_conf
}
