#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A burst: 20,000 offenders appended at once, so that the file source
# always has more to read. Every ban must reach the state on disk in the
# loop iteration that made it: after a kill -9 at the moment the last ban
# is in the set, and a reboot (sets emptied), all 20,000 come back.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"

write_file_conf </dev/null
start_daemon
stamp=$(stamp)
awk -v s="$stamp" 'BEGIN { for (i = 0; i < 20000; i++)
	printf "%s mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[10.%d.%d.%d]: 550 5.1.1 <n@example.org>: Recipient address rejected: User unknown in local recipient table; from=<s@b.example> to=<n@example.org> proto=ESMTP helo=<b>\n", s, int(i / 65536), int(i / 256) % 256, i % 256 }' >>"$log"
wait_for 60 in_set "$SET4" 10.0.78.31 || fail "the burst's last ban never came"
kill9_daemon
n=$(members "$SET4" | grep -c '^10\.')
[ "$n" = 20000 ] || fail "$n of the burst's 20000 bans were made before the kill"
nsx ipset flush "$SET4"
start_daemon
n=$(members "$SET4" | grep -c '^10\.')
[ "$n" = 20000 ] || fail "after kill -9 and a reboot, $n of 20000 bans came back"
stop_daemon
echo "state-burst: ok"
