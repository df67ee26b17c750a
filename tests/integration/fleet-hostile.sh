#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Whoever else can write to the fleet's Redis: forged, unsigned, replayed
# and garbage messages published on the fleet's channel ban nothing, lift
# nothing and crash nothing; each is counted. A key others can read, or
# too short, stops the start; spamwrathctl test never touches Redis.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/fleet-lib.sh"

FLEETMSG="$top_builddir/tests/tools/fleetmsg"
NSP="sw$$"
CHAN="$NSP:events"

start_redis
for h in mx1 mx2; do
	host_conf "$h" </dev/null
	start_host "$h"
done
for h in mx1 mx2; do
	wait_for 10 grep -q "fleet: in step" "$TMP/$h/daemon.err" ||
		fail "$h did not read the fleet's bans"
done

line_spam() {
	echo "$(stamp) mx mimedefang.pl[2001]: MDLOG,ABC123,spam,25.5,$1,<s@bulk.example>,<u@example.org>,Buy now"
}
pub() {
	rcli PUBLISH "$CHAN" "$1" >/dev/null
}
now_ms() {
	echo $(( $(date +%s%N) / 1000000 ))
}
rejected() {	# HOST KIND: that host's count of refused messages of KIND
	host_ctl "$1" status --json | sed -n "s/.*\"rejected\":{[^}]*\"$2\":\\([0-9]*\\).*/\\1/p"
}

# Everything published on the channel, as it is, one payload per line.
redis-cli -s "$REDIS_SOCK" --raw SUBSCRIBE "$CHAN" >"$TMP/channel" 2>/dev/null &
sub=$!
at_exit "kill_child TERM $sub"
wait_for 5 grep -q "^$CHAN\$" "$TMP/channel" || fail "cannot subscribe to the channel"

# A real ban and a real unban, captured for the replays.
host_log mx1 "$(line_spam 203.0.113.50)"
wait_in_set 3 mx2 203.0.113.50
host_ctl mx1 unban 203.0.113.50 >/dev/null
wait_for 3 sh -c "! ip netns exec sw-$$-mx2 ipset test sw$$mx2a 203.0.113.50" ||
	fail "the unban did not reach mx2"
wait_for 3 grep -q "^SW1 .* unban mx1 " "$TMP/channel" || fail "no unban on the channel"
ban_msg=$(grep -m1 "^SW1 [0-9a-f]* ban mx1 .* 203.0.113.50 " "$TMP/channel")
unban_msg=$(grep -m1 "^SW1 [0-9a-f]* unban mx1 .* 203.0.113.50 " "$TMP/channel")
[ -n "$ban_msg" ] && [ -n "$unban_msg" ] || fail "the ban and unban were not captured"

# Replays: the old ban again (the address stays free), then a new ban and
# the old unban again (the address stays banned).
pub "$ban_msg"
host_log mx1 "$(line_spam 203.0.113.51)"	# something real after it, to wait for
wait_in_set 3 mx2 203.0.113.51
in_host_set mx2 203.0.113.50 && fail "a replayed ban banned"
[ "$(rejected mx2 replay)" -ge 1 ] || fail "the replayed ban was not counted"
host_log mx1 "$(line_spam 203.0.113.52)"
wait_in_set 3 mx2 203.0.113.52
pub "$(echo "$unban_msg" | sed 's/203\.0\.113\.50/203.0.113.52/')"	# forged: the signature no longer fits
pub "$unban_msg"
sleep 0.5
in_host_set mx2 203.0.113.52 || fail "a replayed or altered unban lifted a ban"

# Signed with the fleet key, but older than the replay window.
t=$(( $(now_ms) - 600000 ))
pub "$("$FLEETMSG" "$KEY" "$NSP" "ban mx9 $((t * 1000)) $t 203.0.113.60 $((t / 1000)) $((t / 1000 + 86000)) spam p mx9 1 0")"
# Signed, fresh, but an address that is none, and a ban past bantime_max (1d).
t=$(now_ms)
pub "$("$FLEETMSG" "$KEY" "$NSP" "ban mx9 $((t * 1000 + 1)) $t 999.0.113.61 $((t / 1000)) $((t / 1000 + 3600)) spam p mx9 1 0")"
pub "$("$FLEETMSG" "$KEY" "$NSP" "ban mx9 $((t * 1000 + 2)) $t 203.0.113.62 $((t / 1000)) $((t / 1000 + 90000)) spam p mx9 1 0")"
# Signed by a key that is not the fleet's.
head -c 48 /dev/urandom | base64 >"$TMP/other.key"
chmod 600 "$TMP/other.key"
pub "$("$FLEETMSG" "$TMP/other.key" "$NSP" "ban mx9 $((t * 1000 + 3)) $t 203.0.113.63 $((t / 1000)) $((t / 1000 + 3600)) spam p mx9 1 0")"
pub "$("$FLEETMSG" "$TMP/other.key" "$NSP" "unban mx9 $((t * 1000 + 4)) $t 203.0.113.51 0")"
# Unsigned, and garbage.
pub "SW1 ban mx9 1 $t 203.0.113.64 $((t / 1000)) $((t / 1000 + 3600)) spam p mx9 1 0"
pub "ban 203.0.113.65"
pub ""
pub "$(head -c 3000 /dev/urandom | base64 -w0)"
pub "SW1 $(printf '%064d' 0) unban mx9 5 $t 203.0.113.51 0"
printf 'SW1 \001\377%s\n' "$(head -c 200 /dev/urandom | tr -d '\0\n')" | redis-cli -s "$REDIS_SOCK" -x PUBLISH "$CHAN" >/dev/null
# Signed, but for another namespace: another fleet's message.
pub "$(
	"$FLEETMSG" "$KEY" other "ban mx9 $((t * 1000 + 6)) $t 203.0.113.66 $((t / 1000)) $((t / 1000 + 3600)) spam p mx9 1 0")"

host_log mx1 "$(line_spam 203.0.113.53)"	# the last real one
wait_in_set 3 mx2 203.0.113.53
for a in 203.0.113.60 203.0.113.61 203.0.113.62 203.0.113.63 203.0.113.64 203.0.113.65 \
	203.0.113.66; do
	in_host_set mx1 "$a" && fail "mx1 banned $a from a hostile message"
	in_host_set mx2 "$a" && fail "mx2 banned $a from a hostile message"
done
in_host_set mx2 203.0.113.51 || fail "a hostile unban lifted 203.0.113.51"
for h in mx1 mx2; do host_alive "$h" || fail "$h died"; done
[ "$(rejected mx2 replay)" -ge 3 ] || { host_ctl mx2 status; fail "replays not counted"; }
[ "$(rejected mx2 signature)" -ge 5 ] || { host_ctl mx2 status; fail "bad signatures not counted"; }
[ "$(rejected mx2 malformed)" -ge 3 ] || { host_ctl mx2 status; fail "garbage not counted"; }
[ "$(rejected mx2 address)" -ge 1 ] || { host_ctl mx2 status; fail "the bad address not counted"; }
[ "$(rejected mx2 duration)" -ge 1 ] || { host_ctl mx2 status; fail "the long ban not counted"; }
grep -q "fleet: refused a message (signature)" "$TMP/mx2/daemon.err" ||
	fail "mx2 did not log the refused messages"

# The same garbage written straight into the index is refused by a host
# that reads it at its start; the real bans come through.
rcli HSET "$NSP:bans" 203.0.113.70 "garbage" 203.0.113.71 "$(
	"$FLEETMSG" "$TMP/other.key" "$NSP" "ban mx9 1 $t 203.0.113.71 $((t / 1000)) $((t / 1000 + 3600)) spam p mx9 1 0")" >/dev/null
rcli ZADD "$NSP:expiry" $((t / 1000 + 3600)) 203.0.113.70 $((t / 1000 + 3600)) 203.0.113.71 >/dev/null
host_conf mx3 </dev/null
start_host mx3
wait_for 10 grep -q "fleet: in step" "$TMP/mx3/daemon.err" || fail "mx3 did not sync"
wait_in_set 2 mx3 203.0.113.53
in_host_set mx3 203.0.113.70 && fail "mx3 banned from garbage in the index"
in_host_set mx3 203.0.113.71 && fail "mx3 banned from a forged record in the index"
[ "$(rejected mx3 signature)" -ge 1 ] || fail "mx3 did not count the forged record"

for h in mx1 mx2 mx3; do stop_host "$h"; done

# The key: others may read it, or it is too short: no start, and why.
chmod 640 "$KEY"
host_conf mx5 </dev/null
mkdir -p "$TMP/mx5"
ip netns add "sw-$$-mx5"
at_exit "ip netns del sw-$$-mx5 2>/dev/null || true"
ip netns exec "sw-$$-mx5" env SPAMWRATH_LOG=stderr "$SPAMWRATHD" -c "$TMP/mx5/sw.conf" \
	2>"$TMP/mx5/err" && fail "spamwrathd started with a key others can read"
grep -q "key_file: mode 0640 lets group or others at a secret" "$TMP/mx5/err" ||
	{ cat "$TMP/mx5/err"; fail "no reason given for the key's mode"; }
head -c 31 /dev/urandom >"$KEY"
chmod 600 "$KEY"
ip netns exec "sw-$$-mx5" env SPAMWRATH_LOG=stderr "$SPAMWRATHD" -c "$TMP/mx5/sw.conf" \
	2>"$TMP/mx5/err" && fail "spamwrathd started with a 31-byte key"
grep -q "key_file: the key has 31 bytes, fewer than 32" "$TMP/mx5/err" ||
	{ cat "$TMP/mx5/err"; fail "no reason given for the short key"; }

# spamwrathctl test stays local: no Redis, not even a working key.
stop_redis
line_spam 203.0.113.80 >"$TMP/replay.log"
"$SPAMWRATHCTL" test -c "$TMP/mx5/sw.conf" "$TMP/replay.log" >"$TMP/test.out" 2>&1 ||
	{ cat "$TMP/test.out"; fail "spamwrathctl test failed with a fleet section"; }
grep -q "203.0.113.80" "$TMP/test.out" || fail "spamwrathctl test did not ban"
grep -i "fleet:\|redis" "$TMP/test.out" && { cat "$TMP/test.out"; fail "spamwrathctl test spoke of the fleet"; }
exit 0
