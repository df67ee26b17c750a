#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# spamwrathd tails a file inside a network namespace of its own: an
# offence appended to the file puts the address into set4 with a timeout
# near bantime, an IPv6 offender's /64 lands in set6, whitelisted and
# benign lines add nothing, threshold and findtime hold live (five auth
# failures ban, four don't; failures further apart than findtime don't
# add up), and lines already in the file at the first start are not read.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"

log="$TMP/mail.log"
# Already there at start: the first start reads from the end.
line_unknown 198.51.100.99 >"$log"
write_conf <<CONF
findtime = 6s
source maillog { file = "$log" }
CONF
start_daemon

t0=$(date +%s%N)
line_unknown 203.0.113.10 >>"$log"
wait_banned "$SET4" 203.0.113.10 "$t0"
timeout=$(set_timeout "$SET4" 203.0.113.10)
[ -n "$timeout" ] || fail "203.0.113.10 has no timeout in $SET4"
[ "$timeout" -ge 3590 ] && [ "$timeout" -le 3600 ] ||
	fail "203.0.113.10 timeout is $timeout, not about bantime (3600)"

t0=$(date +%s%N)
line_unknown 2001:db8:1:2::5 >>"$log"
wait_banned "$SET6" 2001:db8:1:2::/64 "$t0"
in_set "$SET6" 2001:db8:1:2:ffff::1 || fail "the /64 of 2001:db8:1:2::5 is not banned whole"
in_set "$SET6" 2001:db8:1:3::1 && fail "a neighbouring /64 is banned too"
nsx ipset list "$SET6" | grep -q '^2001:db8:1:2::/64 timeout' || fail "set6 does not hold the /64"

# Whitelisted, benign, a line with no header, four auth failures: nothing.
{
	line_unknown 192.0.2.25
	line_benign 198.51.100.20
	echo "garbage without a header [198.51.100.21]"
	for i in 1 2 3 4; do line_auth 198.51.100.77; done
	for i in 1 2 3 4 5; do line_auth 198.51.100.78; done
} >>"$log"
# Lines are judged in order: once the fifth failure of .78 is banned, every
# line before it has been read.
wait_banned "$SET4" 198.51.100.78
for a in 192.0.2.25 198.51.100.20 198.51.100.21 198.51.100.77 198.51.100.99; do
	in_set "$SET4" "$a" && fail "$a was banned"
done

# findtime = 6s, counted from when a line is read: three failures, a pause
# past findtime from the moment they were read (a ban after them says so),
# two more: no ban. Waiting for the daemon at each step, a busy machine
# makes the pause longer, never shorter.
for i in 1 2 3; do line_auth 198.51.100.79; done >>"$log"
line_unknown 203.0.113.13 >>"$log"
wait_banned "$SET4" 203.0.113.13
sleep 7
for i in 1 2; do line_auth 198.51.100.79; done >>"$log"
line_unknown 203.0.113.11 >>"$log"
wait_banned "$SET4" 203.0.113.11
in_set "$SET4" 198.51.100.79 && fail "failures further apart than findtime added up"
# ... and three more inside findtime make five: ban.
for i in 1 2 3; do line_auth 198.51.100.79; done >>"$log"
wait_banned "$SET4" 198.51.100.79

# A partial line waits for its newline.
# (the pause lets the daemon see the unfinished line; any length would do)
printf '%s' "$(line_unknown 203.0.113.12)" >>"$log"
sleep 0.5
in_set "$SET4" 203.0.113.12 && fail "a line without its newline was judged"
printf '\n' >>"$log"
wait_banned "$SET4" 203.0.113.12

members=$(nsx ipset list "$SET4" | sed -n '/^Members:/,$p' | grep -c timeout)
[ "$members" = 6 ] || { nsx ipset list "$SET4"; fail "set4 holds $members members, expected 6"; }
daemon_alive || fail "spamwrathd died"
stop_daemon
grep -q "error" "$DAEMON_ERR" && fail "spamwrathd logged an error"
echo "daemon-file: ok"
