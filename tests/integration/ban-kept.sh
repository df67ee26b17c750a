#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 17.2: a ban the kernel refused (its set is full) is not taken for
# one in force: status and list show it as not in force and count it, a
# further offence does not make it look banned, and it goes in as soon as
# the set has room again. With nftables, a ban refused for another reason
# (an overlapping range) goes in at the address's next offence.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"
command -v jq >/dev/null || fail "jq is missing: apt-get install jq"

write_file_conf </dev/null
set_create_small "$SET4" 4 4
start_daemon
for i in 1 2 3 4; do line_unknown "203.0.113.$i"; done >>"$log"
wait_banned "$SET4" 203.0.113.4
line_unknown 203.0.113.5 >>"$log"
wait_for 20 sh -c "grep -q 'ban 203.0.113.5 .*not in force' '$DAEMON_ERR'" ||
	{ cat "$DAEMON_ERR"; fail "the refused ban was not logged as not in force"; }
in_set "$SET4" 203.0.113.5 && fail "a fifth address got into a set of four"
grep -q "set $SET4 is full" "$DAEMON_ERR" || fail "the full set was not said"

ctl status --json >"$TMP/status" || fail "status failed"
jq -e '.bans == 5 and .active_bans["'"$SET4"'"] == 4 and .bans_not_in_force["'"$SET4"'"] == 1
	and .full_sets == ["'"$SET4"'"] and .ipset_errors == 1' "$TMP/status" >/dev/null ||
	{ cat "$TMP/status"; fail "status counts the refused ban as in force"; }
ctl list --json | jq -e '.[] | select(.address == "203.0.113.5") | .in_force == false
	and (.not_in_force | test("full"))' >/dev/null || fail "list shows the refused ban in force"
ctl list | grep -q "^203.0.113.5 .*not in force" || fail "list text does not say it"

# Another offence: still refused (no room), still shown so, still one ban.
line_unknown 203.0.113.5 >>"$log"
line_unknown 203.0.113.6 >>"$log"
wait_for 20 sh -c "grep -q 'ban 203.0.113.6 .*not in force' '$DAEMON_ERR'" || fail "no sixth ban"
ctl status --json | jq -e '.bans == 6 and .bans_not_in_force["'"$SET4"'"] == 2' >/dev/null ||
	fail "a further offence changed what is counted"

# Room appears (one member deleted by hand): the kept bans go in.
set_del "$SET4" 203.0.113.1
wait_for 10 in_set "$SET4" 203.0.113.5 || wait_for 10 in_set "$SET4" 203.0.113.6 ||
	{ cat "$DAEMON_ERR"; fail "a kept ban did not go in when room appeared"; }
set_del "$SET4" 203.0.113.2
both_in() { in_set "$SET4" 203.0.113.5 && in_set "$SET4" 203.0.113.6; }
wait_for 10 both_in || fail "the second kept ban did not follow"
grep -q "set $SET4 has room again" "$DAEMON_ERR" || fail "room appearing was not said"
ctl status --json | jq -e '.bans_not_in_force["'"$SET4"'"] == 0' >/dev/null ||
	fail "status still counts bans as not in force"
ctl list --json | jq -e '[.[] | select(.in_force == false)] | length == 0' >/dev/null ||
	fail "list still shows bans as not in force"
t=$(set_timeout "$SET4" 203.0.113.5)
[ "$t" -gt 3500 ] && [ "$t" -le 3600 ] || fail "the late ban got timeout $t, not what is left of 1h"

if [ "$BACKEND" = nftables ]; then
	# Refused for another reason (someone's range in set6 holds the /64):
	# not in force, and tried again at the address's next offence.
	set_add "$SET6" 2001:db8:0:700::/56
	line_unknown 2001:db8:0:700::5 >>"$log"
	wait_for 20 sh -c "grep -q 'ban 2001:db8:0:700::/64 .*not in force (it overlaps' '$DAEMON_ERR'" ||
		{ cat "$DAEMON_ERR"; fail "the overlapping ban was not logged as not in force"; }
	ctl list --json | jq -e '.[] | select(.address == "2001:db8:0:700::/64") | .in_force == false' \
		>/dev/null || fail "list shows the refused /64 in force"
	set_del "$SET6" 2001:db8:0:700::/56
	sleep 2
	ctl list --json | jq -e '.[] | select(.address == "2001:db8:0:700::/64") | .in_force == false' \
		>/dev/null || fail "a ban refused for another reason was tried without an offence"
	line_unknown 2001:db8:0:700::6 >>"$log"
	wait_banned "$SET6" 2001:db8:0:700::/64
	ctl list --json | jq -e '.[] | select(.address == "2001:db8:0:700::/64") | .in_force' \
		>/dev/null || fail "list does not show the ban in force after its next offence"
	grep -q "the ban of 2001:db8:0:700::/64 is in force now (tried again at its next offence)" \
		"$DAEMON_ERR" || fail "the retry at the next offence was not said"
fi
stop_daemon
echo "ban-kept: ok"
