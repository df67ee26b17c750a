#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Three MX hosts as one: three spamwrathd in three network namespaces
# (their own sets each), one redis-server of the test's own. A ban on one
# host reaches the others; half-weight offences on two hosts make one ban
# on all three; a host's own whitelist keeps an address out of that host
# only; an unban anywhere lifts it everywhere (--local: on one host);
# repeat offenders escalate by their bans anywhere; Redis killed, the
# hosts judge alone and nobody dies, and when it comes back empty the
# bans made meanwhile reach the others; a host started late gets every
# ban in force. Redis takes only an ACL user, with the rights the README
# gives it; the hosts read its password from a file.
. "$(dirname "$0")/../lib.sh"
FLEET_ACL=yes
. "$top_srcdir/tests/fleet-lib.sh"

start_redis
for h in mx1 mx2 mx3; do
	case $h in
	mx3) extra='whitelist = { "198.51.100.7" }' ;;
	*) extra='' ;;
	esac
	host_conf "$h" <<CONF
$extra
class unknown-recipient { weight = 0.5 }
class spam { weight = 1 }
CONF
	start_host "$h"
done
for h in mx1 mx2 mx3; do
	wait_for 10 grep -q "fleet: in step" "$TMP/$h/daemon.err" ||
		fail "$h did not read the fleet's bans"
done

# The seed patterns' MIMEDefang spam line is class spam: weight 1 here.
line_spam() {
	echo "$(stamp) mx mimedefang.pl[2001]: MDLOG,ABC123,spam,25.5,$1,<s@bulk.example>,<u@example.org>,Buy now"
}
spamwrathctl_test_line() {	# the line must give a ban of weight 1 on its own
	printf '%s\n' "$(line_spam 198.51.100.99)" |
		"$SPAMWRATHCTL" test --json -c "$TMP/mx1/sw.conf" - | grep -q '"event":"ban"'
}
spamwrathctl_test_line || fail "the spam line gives no ban: see tests/data/patterns"

# 1. A ban on mx1 is in mx2's and mx3's sets within 2 s.
host_log mx1 "$(line_spam 203.0.113.10)"
wait_in_set 5 mx1 203.0.113.10
wait_in_set 2 mx2 203.0.113.10
wait_in_set 2 mx3 203.0.113.10
host_ctl mx2 list --json | grep -q '"address":"203.0.113.10".*"origin":"mx1"' ||
	fail "mx2's list does not show mx1 as the ban's origin"
host_ctl mx1 list --json | grep -q '"origin":"mx1"' || fail "mx1's list shows no origin"
host_ctl mx2 list | grep -q 'ORIGIN' || fail "the list has no ORIGIN column"
grep -q "ban 203.0.113.10 for 1h: spam.*decided by mx1" "$TMP/mx3/daemon.err" ||
	fail "mx3 did not log the ban as decided by mx1"
# ... counted as the fleet's in mx2's metrics, which promtool accepts, and
# explained by spamwrathctl why as decided by mx1.
host_ctl mx2 metrics >"$TMP/mx2.prom" || fail "metrics on mx2 failed"
if command -v promtool >/dev/null; then
	promtool check metrics <"$TMP/mx2.prom" || fail "promtool rejects mx2's metrics"
fi
grep -qx 'spamwrath_bans_total{class="spam",origin="fleet"} 1' "$TMP/mx2.prom" ||
	{ grep bans_total "$TMP/mx2.prom"; fail "mx2 does not count mx1's ban as the fleet's"; }
grep -q '^spamwrath_fleet_bans_received_total [1-9]' "$TMP/mx2.prom" || fail "mx2 counts no ban received"
host_ctl mx1 metrics | grep -q '^spamwrath_fleet_bans_sent_total [1-9]' || fail "mx1 counts no ban sent"
host_ctl mx2 why 203.0.113.10 --json | grep -q '"origin":"fleet","decided_by":"mx1"' ||
	{ host_ctl mx2 why 203.0.113.10 --json; fail "why on mx2 does not name mx1"; }
host_ctl mx2 why 203.0.113.10 | grep -q '^  decided by mx1 of the fleet$' || fail "why's text does not name mx1"

# 2. Half-weight offences on mx1 and mx2 ban on all three: one ban, decided once.
host_log mx1 "$(line_unknown 203.0.113.20)"
sleep 0.5
in_host_set mx1 203.0.113.20 && fail "half a weight banned on mx1 alone"
host_log mx2 "$(line_unknown 203.0.113.20)"
for h in mx1 mx2 mx3; do wait_in_set 3 "$h" 203.0.113.20; done
host_ctl mx1 list --json | grep -q '"address":"203.0.113.20"[^}]*"offences":2[^}]*"origin":"mx2"' ||
	{ host_ctl mx1 list --json; fail "mx1 does not show mx2's ban on 2 offences"; }
[ "$(rcli HGET "sw$$:bans" 203.0.113.20 | grep -c ' ban mx2 ')" = 1 ] ||
	fail "the fleet's record of 203.0.113.20 is not mx2's ban"

# 3. mx3's own whitelist keeps an address out of mx3 only.
host_log mx1 "$(line_spam 198.51.100.7)"
wait_in_set 5 mx1 198.51.100.7
wait_in_set 2 mx2 198.51.100.7
wait_for 2 grep -q "fleet: ban of 198.51.100.7 decided by mx1 ignored: whitelisted here" \
	"$TMP/mx3/daemon.err" || fail "mx3 did not say it ignored a whitelisted ban"
in_host_set mx3 198.51.100.7 && fail "mx3 banned an address it whitelists"

# 4. An unban on mx2 lifts the ban everywhere; --local on one host only.
host_ctl mx2 unban 203.0.113.10 || fail "unban on mx2 failed"
for h in mx1 mx2 mx3; do
	wait_for 2 sh -c "! ip netns exec sw-$$-$h ipset test sw$$${h}a 203.0.113.10" ||
		fail "the unban on mx2 did not lift 203.0.113.10 on $h"
done
grep -q "unban 203.0.113.10, lifted by mx2" "$TMP/mx1/daemon.err" || fail "mx1 did not log the unban"
host_ctl mx3 unban 203.0.113.20 --local || fail "unban --local on mx3 failed"
in_host_set mx3 203.0.113.20 && fail "unban --local did not lift the ban on mx3"
sleep 1
in_host_set mx1 203.0.113.20 || fail "unban --local on mx3 lifted the ban on mx1"
in_host_set mx2 203.0.113.20 || fail "unban --local on mx3 lifted the ban on mx2"

# 5. Escalation by bans anywhere: 203.0.113.10 was banned (by mx1) and
# lifted; its next offence, on mx3, bans it for twice bantime.
host_log mx3 "$(line_spam 203.0.113.10)"
for h in mx1 mx2 mx3; do wait_in_set 3 "$h" 203.0.113.10; done
host_ctl mx3 list --json | grep -q '"address":"203.0.113.10"[^}]*"remaining":7[0-9][0-9][0-9],[^}]*"earlier_bans":1' ||
	{ host_ctl mx3 list --json; fail "mx3 did not escalate by mx1's earlier ban"; }

# 6. Redis killed: mx1 still bans locally, nobody dies; Redis comes back
# empty and the ban reaches mx2 and mx3.
stop_redis
host_log mx1 "$(line_spam 203.0.113.30)"
wait_in_set 5 mx1 203.0.113.30
wait_for 5 grep -q "fleet: Redis out of reach" "$TMP/mx2/daemon.err" || fail "mx2 did not notice"
host_ctl mx1 status --json | grep -q '"state":"out of reach","out_of_reach_since"' ||
	{ host_ctl mx1 status; fail "mx1's status does not say since when Redis is out of reach"; }
for h in mx1 mx2 mx3; do host_alive "$h" || fail "$h died without Redis"; done
in_host_set mx2 203.0.113.30 && fail "mx2 got a ban without Redis?"
start_redis
wait_in_set 15 mx2 203.0.113.30
wait_in_set 2 mx3 203.0.113.30
wait_for 5 grep -q "fleet: Redis at .* reachable again" "$TMP/mx1/daemon.err" ||
	fail "mx1 did not say Redis was back"
# every ban mx1 decided and still in force is in the fleet again
[ "$(rcli HGET "sw$$:bans" 203.0.113.30 | grep -c ' ban mx1 ')" = 1 ] ||
	fail "mx1 did not publish its bans again to the empty Redis"

# 7. A fourth host started late gets every ban in force; and although it
# never saw 203.0.113.40's earlier ban (lifted before it started), its own
# ban of that address escalates by it: the fleet's history says so.
host_log mx1 "$(line_spam 203.0.113.40)"
wait_in_set 3 mx2 203.0.113.40
host_ctl mx1 unban 203.0.113.40 >/dev/null
wait_for 3 sh -c "! ip netns exec sw-$$-mx2 ipset test sw$$mx2a 203.0.113.40" ||
	fail "the unban of 203.0.113.40 did not reach mx2"
host_conf mx4 </dev/null
start_host mx4
for a in 203.0.113.10 203.0.113.20 203.0.113.30 198.51.100.7; do wait_in_set 5 mx4 "$a"; done
in_host_set mx4 203.0.113.40 && fail "mx4 got a ban that was lifted before it started"
host_log mx4 "$(line_spam 203.0.113.40)"
wait_in_set 3 mx4 203.0.113.40
wait_in_set 3 mx1 203.0.113.40
wait_for 3 sh -c "'$SPAMWRATHCTL' -s '$TMP/mx1/control.sock' list --json |
	grep -q '\"address\":\"203.0.113.40\"[^}]*\"remaining\":7[0-9][0-9][0-9],'" ||
	{ host_ctl mx1 list --json; fail "mx1 did not get mx4's ban at twice bantime"; }
host_ctl mx4 list --json | grep -q '"address":"203.0.113.40"[^}]*"remaining":7[0-9][0-9][0-9],' ||
	{ host_ctl mx4 list --json; fail "mx4 did not escalate by the fleet's history"; }
grep -q "ban of 203.0.113.40 lengthened to 2h in all (1 earlier ban in the fleet)" \
	"$TMP/mx4/daemon.err" || fail "mx4 did not say why its ban grew"

for h in mx1 mx2 mx3 mx4; do
	host_alive "$h" || fail "$h died"
	stop_host "$h"
done
grep -i "sanitizer\|runtime error" "$TMP"/mx*/daemon.err && fail "a sanitizer spoke"
exit 0
