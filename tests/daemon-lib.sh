# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the tests/integration/daemon-*.sh tests (sourced after
# tests/lib.sh): a network namespace of the test's own, spamwrathd run in
# it, and polling helpers. Names carry the test's pid: other engineers run
# tests on the same machine.
need_root
command -v ip >/dev/null || skip "ip (iproute2) is not installed"
command -v ipset >/dev/null || skip "ipset is not installed"

NS="sw-$$-$(basename "$0" .sh | sed 's/^daemon-//')"
SET4="sw$$a"
SET6="sw$$b"
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

in_set() {
	ip netns exec "$NS" ipset test "$1" "$2" 2>/dev/null
}

# The timeout left on a member, from `ipset list`.
set_timeout() {
	ip netns exec "$NS" ipset list "$1" | awk -v a="$2" '$1 == a && $2 == "timeout" { print $3 }'
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
	ip netns exec "$NS" ipset list "$1" | sed -n '/^Members:/,$p' | awk '$2 == "timeout" { print $1 }'
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
