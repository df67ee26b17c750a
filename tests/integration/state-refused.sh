#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Bans read back from the state pass the checks a new ban passes (issue
# 17, items 5 and 6): a record for a network wider than one client, for
# loopback, multicast, the unspecified address, a whitelisted address or
# with times past the cap on durations is dropped at start with a warning
# naming it, and never reaches the set; a good record beside them does.
# A manual ban at the cap (3650d) survives a restart in `list` and in the
# set; one past it is refused by spamwrathctl and by the socket.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"

now=$(date +%s)
until=$((now + 3600))
# record TEXT: one state line with its checksum, as state.c writes them
record() {
	python3 -c 'import sys, zlib; t = sys.argv[1]; print("%s *%08x" % (t, zlib.crc32(t.encode())))' "$1" \
		>>"$TMP/state/spamwrath.state"
}
mkdir -m 0750 "$TMP/state"
for a in 10.9.0.0/16 127.0.0.1 224.0.0.5 0.0.0.0 192.0.2.9 2001:db8::/32; do
	record "ban $a $now $until spam hand-made 1"
done
record "ban 203.0.113.51 $now 9223372036854775807 spam hand-made 1"
record "ban 203.0.113.50 $now $until spam hand-made 1"

write_file_conf </dev/null
start_daemon
for a in 10.9.0.0/16 127.0.0.1 224.0.0.5 0.0.0.0 192.0.2.9 2001:db8::/32; do
	grep -q "record dropped: $a: " "$DAEMON_ERR" ||
		fail "the record for $a was not dropped with a reason"
done
grep -q "record dropped: ban times out of range" "$DAEMON_ERR" ||
	fail "the ban past the cap was not dropped with a reason"
grep -q "1 bans in force (1 put back" "$DAEMON_ERR" ||
	fail "not exactly the good ban was restored"
[ "$(members "$SET4")" = 203.0.113.50 ] ||
	fail "set4 holds $(members "$SET4" | wc -l) members, not just 203.0.113.50"
[ -z "$(members "$SET6")" ] || fail "set6 is not empty"

# the cap on manual bans, through spamwrathctl and through the socket
ctl ban 203.0.113.52 --for 9223372036854775807s 2>"$TMP/ctl.err" &&
	fail "spamwrathctl accepted a ban of 9223372036854775807s"
grep -q "longer than 3650d" "$TMP/ctl.err" || fail "spamwrathctl did not say why: $(cat "$TMP/ctl.err")"
reply=$(printf 'ban 203.0.113.52 for=9223372036854775807s\n' | socat -t 2 - "UNIX-CONNECT:$TMP/control.sock")
case "$reply" in "400 for=: longer than 3650d"*) ;; *) fail "the socket answered: $reply" ;; esac
in_set "$SET4" 203.0.113.52 && fail "the refused ban is in the set"
ctl ban 203.0.113.53 --for 3650d >/dev/null || fail "a ban of 3650d was refused"
in_set "$SET4" 203.0.113.53 || fail "the 3650d ban is not in the set"
stop_daemon
start_daemon
ctl list >"$TMP/list" || fail "list failed"
grep -q '^203\.0\.113\.53 ' "$TMP/list" || { cat "$TMP/list" >&2; fail "the 3650d ban is gone from list after a restart"; }
in_set "$SET4" 203.0.113.53 || fail "the 3650d ban left the set after a restart"
grep -q "record dropped" "$DAEMON_ERR" && fail "the second start dropped records"
stop_daemon
echo "state-refused: ok"
