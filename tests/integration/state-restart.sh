#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# No ban is lost across a restart, a kill -9 or a reboot (sets emptied):
# a restart re-adds nothing and the kernel's timeouts keep counting down;
# after a reboot every running ban goes back with its remaining time;
# offences inside findtime survive; lines written while the daemon was
# stopped are judged by their own time, and those older than findtime
# are counted as stale, not judged, also across a rotation.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"

write_file_conf </dev/null
start_daemon
for a in 203.0.113.1 203.0.113.2 2001:db8:7::9; do line_unknown "$a"; done >>"$log"
for i in 1 2 3; do line_auth 198.51.100.77; done >>"$log"
wait_banned "$SET4" 203.0.113.1
wait_banned "$SET4" 203.0.113.2
wait_banned "$SET6" 2001:db8:7::/64
t_before=$(set_timeout "$SET4" 203.0.113.1)

# --- restart: nothing re-added, nothing lost, timeouts count down
stop_daemon
sleep 2
start_daemon
grep -q "3 bans in force (0 put back into the sets, 3 were there)" "$DAEMON_ERR" ||
	fail "the restart did not find its 3 bans in the sets"
t_after=$(set_timeout "$SET4" 203.0.113.1)
[ "$t_after" -lt "$t_before" ] ||
	fail "the timeout went from $t_before to $t_after: the ban was added again"
# three failures before the restart, two after: five inside findtime
for i in 1 2; do line_auth 198.51.100.77; done >>"$log"
wait_banned "$SET4" 198.51.100.77

# --- lines written while stopped: judged by their own time
stop_daemon
line_unknown_ago 600 203.0.113.40 >>"$log"		# inside findtime (12h)
line_unknown_ago 172800 203.0.113.41 >>"$log"	# two days old: stale
line_unknown 203.0.113.42 >>"$log"
start_daemon
wait_banned "$SET4" 203.0.113.42
in_set "$SET4" 203.0.113.40 || fail "a line written while stopped was not judged"
t=$(set_timeout "$SET4" 203.0.113.40)
[ "$t" -le 3000 ] && [ "$t" -ge 2900 ] ||
	fail "the ban of a line 10 min old has $t s left, not about 3600 - 600"
in_set "$SET4" 203.0.113.41 && fail "a line older than findtime made a ban"
ctl status --json | jq -e '.stale == 1' >/dev/null || fail "status does not count 1 stale line"

# --- reboot: the sets are empty at start; every ban goes back
stop_daemon
before=$(members "$SET4" | sort; members "$SET6" | sort)
nsx ipset flush "$SET4"
nsx ipset flush "$SET6"
start_daemon
after=$(members "$SET4" | sort; members "$SET6" | sort)
[ "$before" = "$after" ] || fail "after a reboot the sets hold
$after
instead of
$before"
t=$(set_timeout "$SET4" 203.0.113.1)
[ "$t" -le "$t_after" ] && [ "$t" -gt 3000 ] ||
	fail "after a reboot 203.0.113.1 has $t s left (before: $t_after)"

# --- rotated while stopped: the rest of the old file, then the new one
stop_daemon
line_unknown 203.0.113.50 >>"$log"
mv "$log" "$log.1"
line_unknown 203.0.113.51 >"$log"
start_daemon
wait_banned "$SET4" 203.0.113.51
in_set "$SET4" 203.0.113.50 || fail "the line written before a rotation while stopped was lost"
grep -q "was rotated while spamwrathd was stopped" "$DAEMON_ERR" || fail "the rotation was not said"

# --- a set that lost one member while stopped gets it back, alone
stop_daemon
nsx ipset del "$SET4" 203.0.113.2
start_daemon
grep -q "(1 put back into the sets," "$DAEMON_ERR" ||
	fail "the one missing ban was not put back alone"
in_set "$SET4" 203.0.113.2 || fail "the missing ban is not back"

# --- kill -9 right after a burst of bans, then a reboot
i=0
while [ $i -lt 50 ]; do line_unknown "198.18.0.$i"; i=$((i + 1)); done >>"$log"
wait_banned "$SET4" 198.18.0.49
kill9_daemon
count=$(members "$SET4" | grep -c '^198\.18\.0\.')
[ "$count" = 50 ] || fail "only $count of the burst were banned before the kill"
nsx ipset flush "$SET4"
nsx ipset flush "$SET6"
start_daemon
count=$(members "$SET4" | grep -c '^198\.18\.0\.')
[ "$count" = 50 ] || fail "after kill -9 and a reboot $count of 50 bans came back"
daemon_alive || fail "spamwrathd died"
stop_daemon
grep -q "error" "$DAEMON_ERR" && fail "spamwrathd logged an error"
echo "state-restart: ok"
