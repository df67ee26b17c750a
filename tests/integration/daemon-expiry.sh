#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Ban lifetimes: the kernel expires a ban after its timeout and spamwrathd
# logs the expiry; a ban longer than the kernel's cap (2147483 s) goes in
# with the cap (and is re-added by the daemon before it runs out); a
# restart leaves the set's members and their timeouts alone; a set
# destroyed by hand while running is created again at the next ban.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"

write_file_conf </dev/null
sed -i 's/^bantime = 1h/bantime = 2s/' "$TMP/sw.conf"
start_daemon
line_unknown 203.0.113.60 >>"$log"
wait_banned "$SET4" 203.0.113.60
t=$(set_timeout "$SET4" 203.0.113.60)
[ "$t" -le 2 ] || fail "timeout $t, expected at most 2"
wait_for 20 sh -c "! ip netns exec $NS ipset test $SET4 203.0.113.60" ||
	fail "the kernel did not expire the ban"
wait_for 20 grep -q "ban of 203.0.113.60 expired" "$DAEMON_ERR" ||
	fail "the expiry was not logged"
stop_daemon

# Restart with 30-day bans: an existing member keeps its timeout.
nsx ipset add "$SET4" 198.51.100.61 timeout 1000
sed -i 's/^bantime = 2s/bantime = 30d/; s/^bantime_max = 1d/bantime_max = 60d/' "$TMP/sw.conf"
start_daemon
t=$(set_timeout "$SET4" 198.51.100.61)
[ "$t" -le 1000 ] && [ "$t" -ge 900 ] || fail "a restart changed a member's timeout ($t)"
line_unknown 203.0.113.61 >>"$log"
wait_banned "$SET4" 203.0.113.61
t=$(set_timeout "$SET4" 203.0.113.61)
[ "$t" -ge 2147400 ] && [ "$t" -le 2147483 ] || fail "a 30-day ban has timeout $t, not the cap"
grep -q "ban 203.0.113.61 for 30d" "$DAEMON_ERR" || fail "the ban is not logged as 30 days"

# set4 destroyed by hand while running: the next ban creates it again.
nsx ipset destroy "$SET4"
line_unknown 203.0.113.62 >>"$log"
wait_banned "$SET4" 203.0.113.62
grep -q "set $SET4 disappeared; creating it again" "$DAEMON_ERR" || fail "the re-creation was not logged"
line_unknown 203.0.113.63 >>"$log"
wait_banned "$SET4" 203.0.113.63
stop_daemon
in_set "$SET4" 203.0.113.63 || fail "the ban left the set at stop"
grep "error" "$DAEMON_ERR" && fail "spamwrathd logged an error"
echo "daemon-expiry: ok"
