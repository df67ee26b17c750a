#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# export.rbldnsd_file: the active bans as an rbldnsd "combined" data file,
# served by a real rbldnsd (Debian's package) on a loopback port of the
# test's namespace and queried with dig: a banned IPv4 address and a banned
# IPv6 /64 answer 127.0.0.2 with a TXT naming the class; an unbanned one
# disappears once the file is rewritten; a restart writes it again.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"
command -v rbldnsd >/dev/null || fail "rbldnsd is missing: apt-get install rbldnsd"
command -v dig >/dev/null || fail "dig is missing: apt-get install dnsutils"
id rbldns >/dev/null 2>&1 || fail "the user rbldns (Debian's rbldnsd package) is missing"

data="$TMP/export/bl.data"
zone=bl.spamwrath.test
mkdir "$TMP/export"
chmod 755 "$TMP/export"
write_file_conf <<CONF
export { rbldnsd_file = "$data" }
CONF
ip -n "$NS" link set lo up
start_daemon

line_unknown 203.0.113.51 >>"$log"
wait_banned "$SET4" 203.0.113.51
ctl ban 2001:db8:7::9 --reason "by hand" >/dev/null || fail "ban of an IPv6 address failed"
ctl ban 198.51.100.52 >/dev/null || fail "ban failed"
wait_for 5 grep -q '^2001:db8:7::/64 ' "$data" || { cat "$data" 2>&1; fail "$data lacks the bans"; }
grep -q '^203\.0\.113\.51 :127\.0\.0\.2:spamwrath: unknown-recipient, until ' "$data" ||
	{ cat "$data"; fail "the IPv4 ban's line is not as documented"; }
[ "$(grep -c '^\$DATASET' "$data")" = 2 ] || { cat "$data"; fail "not one ip4set and one ip6trie"; }
[ "$(ls "$TMP/export")" = bl.data ] || { ls "$TMP/export"; fail "temporary files left beside $data"; }

port=5353
# not through nsx: a backgrounded function is a subshell, and killing it
# would leave rbldnsd running (holding the port and whatever it inherited)
ip netns exec "$NS" rbldnsd -n -q -c 1 -b "127.0.0.1/$port" -p "$TMP/rbldnsd.pid" \
	"$zone:combined:$data" >"$TMP/rbldnsd.out" 2>&1 &
rpid=$!
at_exit "kill $rpid 2>/dev/null || true"
q() {	# NAME TYPE
	nsx dig @127.0.0.1 -p "$port" +short +tries=1 +time=1 "$1.$zone" "$2"
}
v4name() { echo "$1" | awk -F. '{ print $4 "." $3 "." $2 "." $1 }'; }
v6name=$(python3 -c "import ipaddress; print(ipaddress.ip_address('2001:db8:7::9').reverse_pointer[:-len('.ip6.arpa')])")
wait_for 10 sh -c "ip netns exec $NS dig @127.0.0.1 -p $port +short +tries=1 +time=1 $(v4name 203.0.113.51).$zone A | grep -qx 127.0.0.2" ||
	{ cat "$TMP/rbldnsd.out"; fail "rbldnsd does not list 203.0.113.51"; }
q "$(v4name 203.0.113.51)" TXT | grep -q 'spamwrath: unknown-recipient, until .* left when listed' ||
	fail "the TXT of 203.0.113.51 does not name its class and end"
[ "$(q "$v6name" A)" = 127.0.0.2 ] || fail "rbldnsd does not list the banned /64"
q "$v6name" TXT | grep -q 'spamwrath: manual' || fail "the /64's TXT does not name its class"
[ -z "$(q "$(v4name 203.0.113.59)" A)" ] || fail "rbldnsd lists an address never banned"
echo "rbldnsd serves the bans"

# An unban leaves the file, and so rbldnsd (which rereads it, -c 1).
ctl unban 198.51.100.52 >/dev/null || fail "unban failed"
wait_for 5 sh -c "! grep -q '^198\.51\.100\.52 ' '$data'" || fail "the unbanned address stays in $data"
wait_for 10 sh -c "[ -z \"\$(ip netns exec $NS dig @127.0.0.1 -p $port +short +tries=1 +time=1 $(v4name 198.51.100.52).$zone A)\" ]" ||
	fail "rbldnsd still lists the unbanned address"

# A restart writes the file again from the restored bans.
stop_daemon
rm -f "$data"
start_daemon
wait_for 5 grep -q '^203\.0\.113\.51 ' "$data" || fail "no file after a restart"
grep -q '^2001:db8:7::/64 ' "$data" || fail "the restart's file lacks the IPv6 ban"
stop_daemon
echo "an unban and a restart rewrite it"
