#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# nftables bans survive what a host does to them (issue 15): kill -9 and
# emptied sets (a reboot), then a start, put every ban back with what is
# left of it; a start with the sets full adds nothing twice; `nft flush
# ruleset` while the daemon runs (the first line of Debian's
# nftables.conf) and a reload of a ruleset that declares our table anew
# are noticed, and every ban goes back within seconds.
. "$(dirname "$0")/../lib.sh"
BACKEND=nftables
. "$top_srcdir/tests/daemon-lib.sh"

write_file_conf </dev/null
start_daemon
for a in 203.0.113.20 203.0.113.21 2001:db8:5::1; do line_unknown "$a"; done >>"$log"
wait_banned "$SET4" 203.0.113.21
wait_banned "$SET6" 2001:db8:5::/64
before=$(set_timeout "$SET4" 203.0.113.20)
kill9_daemon

# A reboot: the sets are empty, then a start.
set_flush "$SET4"
set_flush "$SET6"
sleep 2
start_daemon
grep -q "3 bans in force (3 put back into the sets, 0 were there)" "$DAEMON_ERR" ||
	{ cat "$DAEMON_ERR"; fail "after kill -9 and a reboot, not every ban came back"; }
for a in 203.0.113.20 203.0.113.21; do in_set "$SET4" "$a" || fail "$a did not come back"; done
in_set "$SET6" 2001:db8:5::/64 || fail "the /64 did not come back"
after=$(set_timeout "$SET4" 203.0.113.20)
[ "$after" -lt "$before" ] && [ "$after" -ge $((before - 10)) ] ||
	fail "a restored ban has $after s left, not what was left of $before s"
stop_daemon

# A restart with the sets full: nothing added twice.
start_daemon
grep -q "3 bans in force (0 put back into the sets, 3 were there)" "$DAEMON_ERR" ||
	{ cat "$DAEMON_ERR"; fail "a restart added bans again"; }

# nft flush ruleset: the table is made again and the bans go back.
nsx nft flush ruleset
wait_for 10 in_set "$SET4" 203.0.113.20 || { cat "$DAEMON_ERR"; fail "the bans did not come back after nft flush ruleset"; }
wait_for 10 in_set "$SET6" 2001:db8:5::/64 || fail "the /64 did not come back after nft flush ruleset"
grep -q "table inet $TABLE or its sets disappeared" "$DAEMON_ERR" || fail "the flush was not said"

# A ruleset that flushes and declares our table itself (an administrator's
# nftables.conf): the sets are new and empty, and are filled again.
nsx nft -f - <<NFT
flush ruleset
table inet $TABLE {
	set $SET4 { type ipv4_addr; flags timeout; size 65536; }
	set $SET6 { type ipv6_addr; flags interval,timeout; size 65536; }
}
NFT
wait_for 10 in_set "$SET4" 203.0.113.21 || { cat "$DAEMON_ERR"; fail "the bans did not come back into sets declared anew"; }
grep -q "the sets were made anew under spamwrathd (emptied): 3 bans put back" "$DAEMON_ERR" ||
	fail "the renewal was not said"
t=$(set_timeout "$SET4" 203.0.113.21)
[ "$t" -le "$before" ] && [ "$t" -ge $((before - 30)) ] || fail "a ban put back has $t s left"
daemon_alive || fail "spamwrathd died"
stop_daemon
echo "nft-restore: ok"
