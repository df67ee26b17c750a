#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 17.1: a restore into a set too small for every ban does not stop
# spamwrathd from starting: what fits goes in, the rest is said (how many
# did not fit, and where), kept and shown as not in force. (A record the
# kernel would refuse for another reason, such as ban 0.0.0.0, no longer
# reaches it: state-refused.sh. With nftables, one can: a /64 inside a
# range someone else put into set6.)
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"
command -v jq >/dev/null || fail "jq is missing: apt-get install jq"

mkstate="$top_builddir/tests/tools/mkstate"
[ -x "$mkstate" ] || fail "$mkstate is not built"
write_file_conf </dev/null

# Every ban listed in force is in its set, every other one is not.
check_list() {
	ctl list --json >"$TMP/list" || fail "list failed"
	for a in $(jq -r '.[] | select(.in_force) | .address' "$TMP/list"); do
		in_set "$(set_of "$a")" "$a" || fail "$a is listed in force but is not in its set"
	done
	for a in $(jq -r '.[] | select(.in_force == false) | .address' "$TMP/list"); do
		! in_set "$(set_of "$a")" "$a" || fail "$a is listed not in force but is in its set"
	done
}

if [ "$BACKEND" = nftables ]; then
	# A range of someone else's in set6 that holds one of our /64s: the
	# kernel refuses that one (an interval set takes no overlap), the
	# batch it came in is split until it alone stays out.
	"$mkstate" "$TMP/state" 40 86400 || fail "mkstate failed"
	set_create_small "$SET6" 6 1024
	set_add "$SET6" 2001:db8:0:700::/56
	start_daemon
	grep -q "the kernel refused 2001:db8:0:700::/64: " "$DAEMON_ERR" ||
		{ cat "$DAEMON_ERR"; fail "the log does not say why 2001:db8:0:700::/64 was refused"; }
	grep -q "state: 39 bans in force (39 put back into the sets, 0 were there), 1 not in force" "$DAEMON_ERR" ||
		{ cat "$DAEMON_ERR"; fail "the summary is not what it should be"; }
	ctl list --json | jq -e '.[] | select(.address == "2001:db8:0:700::/64") | .in_force == false' \
		>/dev/null || fail "list shows the refused /64 in force"
	[ "$(set_members "$SET6" | wc -l)" = 5 ] || fail "set6 does not hold its range and 4 of ours"
	stop_daemon
	nsx nft delete table inet "$TABLE"
	rm -rf "$TMP/state"
fi

# 40 bans (35 IPv4 from 10.0.0.0, 5 IPv6 /64s); set4 made by hand for 16
# members: 16 of the 35 go in, 19 do not.
"$mkstate" "$TMP/state" 40 86400 || fail "mkstate failed"
set_create_small "$SET4" 4 16
start_daemon
daemon_alive || fail "spamwrathd did not stay up"
grep -q "restore: 19 bans did not fit into set $SET4 (full)" "$DAEMON_ERR" ||
	{ cat "$DAEMON_ERR"; fail "the log does not say how many did not fit, and where"; }
grep -q "state: 21 bans in force (21 put back into the sets, 0 were there), 19 not in force" "$DAEMON_ERR" ||
	{ cat "$DAEMON_ERR"; fail "the summary is not what it should be"; }
[ "$(set_members "$SET4" | wc -l)" = 16 ] || fail "set4 is not filled up to its size"
[ "$(set_members "$SET6" | wc -l)" = 5 ] || fail "set6 lacks bans it had room for"
ctl status --json >"$TMP/status" || fail "status failed"
jq -e '.active_bans["'"$SET4"'"] == 16 and .bans_not_in_force["'"$SET4"'"] == 19
	and .active_bans["'"$SET6"'"] == 5 and .bans_not_in_force["'"$SET6"'"] == 0
	and .full_sets == ["'"$SET4"'"] and .ipset_errors == 19' "$TMP/status" >/dev/null ||
	{ cat "$TMP/status"; fail "status does not tell the bans in force from the others"; }
check_list
stop_daemon
echo "ban-restore-full: ok"
