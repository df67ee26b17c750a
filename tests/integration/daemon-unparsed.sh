#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# An Exim mainlog followed without program = "exim" matches nothing: once
# most of its lines (of 20 or more) have no header, spamwrathd says so,
# once, with the fix; status counts them per source; a syslog file beside
# it is not reported. With the fix (a reload), its offences ban.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"

mainlog="$TMP/mainlog"
: >"$mainlog"
write_file_conf <<CONF
source mainlog { file = "$mainlog" }
CONF
start_daemon

exim_line() {	# ADDRESS: an unknown recipient, as Exim's mainlog has it
	echo "$(date -u '+%Y-%m-%d %H:%M:%S') [1234] H=(helo.example) [$1]:4321 I=[192.0.2.1]:25 F=<a@b.example> rejected RCPT <nobody@example.org>: Unknown user"
}
for i in $(seq 1 25); do line_benign 198.51.100.$i; done >>"$log"
for i in $(seq 1 24); do exim_line 203.0.113.20; done >>"$mainlog"
echo "2026-11-20 08:00:01 1vXyZa-0001Ab-Cd Completed" >>"$mainlog"
hint='source mainlog: [0-9]* of its [0-9]* lines have no syslog header, so no pattern can match them; they look like a log exim writes itself: set program = "exim" in the source'
wait_for 20 grep -q "$hint" "$DAEMON_ERR" || fail "no word of the unparsed mainlog"
for i in $(seq 1 25); do exim_line 203.0.113.21; done >>"$mainlog"
wait_for 20 sh -c "\"$SPAMWRATHCTL\" -s \"$TMP/control.sock\" status --json |
	jq -e '.sources[] | select(.name == \"mainlog\") | .lines == 50 and .unparsed == 50'" ||
	{ ctl status --json; fail "status does not count the mainlog's 50 unparsed lines"; }
[ "$(grep -c "no syslog header" "$DAEMON_ERR")" = 1 ] || { cat "$DAEMON_ERR"; fail "not said exactly once"; }
ctl status --json | jq -e '.sources[] | select(.name == "maillog") | .lines == 25 and .unparsed == 0' \
	>/dev/null || fail "the syslog file's lines are counted as unparsed"
in_set "$SET4" 203.0.113.20 && fail "a line without a header banned"

# the fix: the source changes, is followed on where it stood, and bans
sed -i "s|source mainlog { file = \"$mainlog\" }|source mainlog { file = \"$mainlog\" program = \"exim\" }|" "$TMP/sw.conf"
kill -HUP "$DAEMON_PID"
wait_for 20 grep -q "reloaded .*sw.conf" "$DAEMON_ERR" || fail "no reload"
exim_line 203.0.113.22 >>"$mainlog"
wait_banned "$SET4" 203.0.113.22
[ "$(grep -c "no syslog header" "$DAEMON_ERR")" = 1 ] || fail "said again after the fix"
stop_daemon
echo "daemon-unparsed: ok"
