#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 17.3: a full set of a million members costs the loop nothing per
# ban. It is noticed once, said once, and remembered: 4,000 offenders are
# judged at once, while the control socket keeps answering, and SIGTERM still ends
# the daemon at once. (Each refused add that reads the set again costs
# tens of milliseconds at this size: 4,000 of them would take a minute or more.)
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"
command -v jq >/dev/null || fail "jq is missing: apt-get install jq"

N=1000000
write_file_conf </dev/null
set_create_small "$SET4" 4 "$N"
set_fill "$SET4" "$N"
start_daemon
stamp=$(stamp)
awk -v s="$stamp" 'BEGIN { for (i = 0; i < 4000; i++)
	printf "%s mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[10.200.%d.%d]: 550 5.1.1 <n@example.org>: Recipient address rejected: User unknown in local recipient table; from=<s@b.example> to=<n@example.org> proto=ESMTP helo=<b>\n", s, int(i / 256), i % 256 }' >>"$log"
# The generous limit stands for "at once": the old behaviour took minutes.
deadline=$(( $(date +%s) + 15 ))
until timeout 5 "$SPAMWRATHCTL" -s "$TMP/control.sock" status --json 2>/dev/null |
	jq -e '.bans == 4000' >/dev/null; do
	[ "$(date +%s)" -lt "$deadline" ] ||
		{ ctl status; fail "4,000 bans into a full set were not judged within 15 s"; }
	sleep 0.2
done
ctl status --json >"$TMP/status"
# (a hash:ip set counts its fill per region of its table: now and then an
# address still finds room in a set full for the others)
jq -e '.bans_not_in_force["'"$SET4"'"] + .active_bans["'"$SET4"'"] == 4000
	and .bans_not_in_force["'"$SET4"'"] >= 3900 and .full_sets == ["'"$SET4"'"]' "$TMP/status" \
	>/dev/null || { cat "$TMP/status"; fail "status does not show the 4,000 as not in force"; }
for a in $(ctl list --json | jq -r '.[] | select(.in_force) | .address'); do
	in_set "$SET4" "$a" || fail "$a is listed in force but is not in the set"
done
# the same in the metrics: a gauge per family, the refusals counted
ctl metrics >"$TMP/metrics" || fail "metrics failed"
kept=$(jq -r '.bans_not_in_force["'"$SET4"'"]' "$TMP/status")
grep -qx 'spamwrath_set_full{family="ipv4"} 1' "$TMP/metrics" &&
	grep -qx 'spamwrath_set_full{family="ipv6"} 0' "$TMP/metrics" &&
	grep -qx "spamwrath_bans_not_in_force{family=\"ipv4\"} $kept" "$TMP/metrics" &&
	awk '$1 == "spamwrath_ban_errors_total" && $2 >= 1 { ok = 1 } END { exit !ok }' "$TMP/metrics" ||
	{ grep -e _full -e not_in_force -e ban_errors "$TMP/metrics"; fail "the metrics do not show the full set"; }
n=$(grep -c "set $SET4 is full (" "$DAEMON_ERR" || true)
[ "$n" = 1 ] ||
	{ grep "is full" "$DAEMON_ERR" | head; fail "the full set was not said exactly once"; }
kill -TERM "$DAEMON_PID"
i=0
while daemon_alive; do
	i=$((i + 1))
	[ $i -lt 50 ] || fail "SIGTERM did not stop spamwrathd within 5 s"
	sleep 0.1
done
wait "$DAEMON_PID" || fail "spamwrathd exited with an error after SIGTERM"
echo "ban-full-stall: ok"
