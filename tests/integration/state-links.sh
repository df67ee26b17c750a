#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A message in flight across a restart is still judged: its client= line
# came before the stop, its verdict (a delivery to a spamtrap, naming only
# the queue id) after it. The stop saves the queue-id links, the start
# puts them back, and they last that one start.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"

matched() {	# N: the daemon has matched at least N lines
	ctl status --json | jq -e ".matched >= $1"
}
delivery() {	# QID RECIPIENT
	echo "$(stamp) mx postfix/local[1201]: $1: to=<$2>, relay=local, delay=0.1, status=sent (delivered to mailbox)"
}

write_file_conf </dev/null
start_daemon
echo "$(stamp) mx postfix/smtpd[1001]: 4A1B2C3D4E: client=unknown[203.0.113.77]" >>"$log"
echo "$(stamp) mx postfix/smtpd[1001]: 5F6A7B8C9D: client=unknown[203.0.113.78]" >>"$log"
wait_for 10 matched 2 || fail "the client= lines were not read"
stop_daemon

# written while stopped: read after the start, with the links put back
delivery 4A1B2C3D4E trap@example.org >>"$log"
delivery 5F6A7B8C9D user@example.org >>"$log"
start_daemon
grep -q "2 queue ids linked" "$DAEMON_ERR" ||
	fail "the start did not put the 2 links back"
wait_banned "$SET4" 203.0.113.77
wait_for 10 matched 2 || fail "the delivery lines were not read"
in_set "$SET4" 203.0.113.78 && fail "a delivery to a plain mailbox made a ban"
ctl status --json | jq -e '.offences.spamtrap == 1' >/dev/null ||
	{ ctl status --json >&2; fail "the trap delivery was not one spamtrap offence"; }

# the links lasted one start: the compaction after it drops them from the
# state, and a kill -9 saves none
no_links() {
	! grep -q '^link ' "$TMP/state/spamwrath.state"
}
wait_for 10 no_links || fail "the state still holds the links after the start"
kill9_daemon
start_daemon
grep -q "0 queue ids linked" "$DAEMON_ERR" ||
	fail "links came back a second time"
daemon_alive || fail "spamwrathd died"
stop_daemon
grep -q "error" "$DAEMON_ERR" && fail "spamwrathd logged an error"
echo "state-links: ok"
