#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# What spamwrathd tells systemd (Type=notify), read from a stand-in
# notification socket: READY=1 once sets and sources are ready, STATUS=
# with live counters, WATCHDOG=1 when WatchdogSec is set, RELOADING=1 and
# READY=1 around a reload, STOPPING=1 at the end.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"

command -v python3 >/dev/null || fail "python3 is not installed"
sock="$TMP/notify.sock"
python3 "$top_srcdir/tests/data/notify-listener.py" "$sock" >"$TMP/notify.out" 2>&1 &
listener=$!
at_exit "kill_child TERM $listener"
wait_for 20 grep -q listening "$TMP/notify.out" || fail "the notify stand-in did not start"

log="$TMP/mail.log"
: >"$log"
write_conf <<CONF
source maillog { file = "$log" }
CONF
: >"$DAEMON_ERR"
ip netns exec "$NS" env SPAMWRATH_LOG=stderr NOTIFY_SOCKET="$sock" WATCHDOG_USEC=2000000 \
	"$SPAMWRATHD" -c "$TMP/sw.conf" 2>>"$DAEMON_ERR" &
daemon_started $!

wait_for 20 grep -qx "READY=1" "$TMP/notify.out" || { cat "$TMP/notify.out"; fail "no READY=1"; }
# READY=1 comes after the sets exist
nsx ipset list -n | grep -qx "$SET4" || fail "READY=1 before set4 exists"
line_unknown 203.0.113.50 >>"$log"
wait_banned "$SET4" 203.0.113.50
wait_for 20 grep -q "^STATUS=1 lines, 1 offences, 1 bans, 1 active" "$TMP/notify.out" ||
	{ cat "$TMP/notify.out"; fail "no STATUS= with the counters"; }
wait_for 20 grep -qx "WATCHDOG=1" "$TMP/notify.out" || fail "no WATCHDOG=1 with WATCHDOG_USEC set"

kill -HUP "$DAEMON_PID"
wait_for 20 grep -q "reloaded" "$DAEMON_ERR" || fail "no reload"
wait_for 20 grep -qx "RELOADING=1" "$TMP/notify.out" || fail "no RELOADING=1"
ready_again() { [ "$(grep -cx 'READY=1' "$TMP/notify.out")" -ge 2 ]; }
wait_for 20 ready_again || fail "no READY=1 after the reload"
stop_daemon
wait_for 20 grep -qx "STOPPING=1" "$TMP/notify.out" || fail "no STOPPING=1"
echo "daemon-notify: ok"
