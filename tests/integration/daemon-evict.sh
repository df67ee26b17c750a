#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Past max_tracked the judge forgets addresses, bans among them (issue 17,
# item 10): that is counted in `spamwrathctl status` and logged, once for
# a burst, not once per address, nor silently.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"

write_file_conf <<CONF
max_tracked = 1000
CONF
start_daemon
# 1100 offenders, each banned at once: 100 bans must be forgotten. The
# file comes whole (a rotation by rename), so that the daemon reads it in
# one go and the burst is one message.
now=$(stamp)
awk -v now="$now" 'BEGIN { for (i = 0; i < 1100; i++)
	printf "%s mx postfix/smtpd[1001]: NOQUEUE: reject: RCPT from unknown[10.1.%d.%d]: 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local recipient table; from=<spam@bulk.example> to=<nobody@example.org> proto=ESMTP helo=<bulk>\n", now, i / 200, 1 + i % 200 }' >"$log.new"
mv "$log.new" "$log"
wait_banned "$SET4" 10.1.5.100
evicted() {
	ctl status --json 2>/dev/null | jq -e '.evicted == 100 and .evicted_banned == 100' >/dev/null
}
wait_for 10 evicted || { ctl status --json >&2; fail "status does not count 100 evictions, all banned"; }
wait_for 5 grep -q "max_tracked (1000) reached: 100 addresses forgotten so far, 100 of them while banned" "$DAEMON_ERR" ||
	fail "the evictions were not logged"
[ "$(grep -c 'max_tracked (1000) reached' "$DAEMON_ERR")" = 1 ] || fail "the evictions were logged more than once"
stop_daemon
echo "daemon-evict: ok"
