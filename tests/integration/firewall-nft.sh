#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# spamwrath-firewall with the nftables backend (issue 15), against a real
# spamwrathd in a network namespace: start installs its own base chain in
# spamwrathd's table (twice: the same), a banned client can no longer open
# a TCP connection to port 25 while an innocent one can, for IPv4 and
# IPv6; DROP is chosen and the reason said (nftables has no TARPIT),
# reject answers with a reset, tarpit is refused; after `nft flush
# ruleset` a start waits for spamwrathd to make its sets again; stop
# leaves no trace in `nft list ruleset`.
. "$(dirname "$0")/../lib.sh"
BACKEND=nftables
. "$top_srcdir/tests/daemon-lib.sh"
. "$top_srcdir/tests/firewall-lib.sh"
for c in perl timeout; do command -v "$c" >/dev/null || fail "$c is missing"; done

FW="$top_builddir/systemd/spamwrath-firewall"
[ -x "$FW" ] || fail "$FW was not generated"
export SPAMWRATHD
CNS="$NS-c"
ip netns add "$CNS" || fail "cannot create $CNS"
at_exit "ip netns pids $CNS 2>/dev/null | xargs -r kill 2>/dev/null; ip netns pids $NS 2>/dev/null | xargs -r kill 2>/dev/null; ip netns del $CNS 2>/dev/null || true"
# the IPv6 clients in /64s of their own: the server's own /64 is never banned
fw_net 2001:db8:f:2::10 2001:db8:f:3::11
ip -n "$NS" -6 route add 2001:db8:f:2::/64 dev veth0
ip -n "$NS" -6 route add 2001:db8:f:3::/64 dev veth0
ip -n "$CNS" -6 route add 2001:db8:f::/64 dev veth0

# The ruleset without set elements (they come and go with bans) and handles
# (a rule replaced in place gets a new one).
ruleset() {
	nsx nft -j list ruleset | jq -S '[.nftables[] | select(has("metainfo") | not) |
		del(.set.elem) | walk(if type == "object" then del(.handle) else . end)]'
}
fw() { nsx env NFT=nft "$FW" -c "$TMP/sw.conf" "$@"; }

write_file_conf <<CONF
whitelist = { "198.51.100.0/24" }
firewall { ports = { 25, 587 } }
CONF
start_daemon
fw_listen
ruleset >"$TMP/before"

fw start >"$TMP/start1" 2>&1 || { cat "$TMP/start1"; fail "start failed"; }
cat "$TMP/start1"
grep -q "^spamwrath-firewall: IPv4 and IPv6: new connections to tcp port(s) 25,587 from members of inet $TABLE $SET4 and $SET6 go to DROP (nftables has no TARPIT: it needs backend = ipset, with iptables and xtables-addons)$" "$TMP/start1" ||
	fail "start did not say it chose DROP, and why"
ruleset >"$TMP/after1"
fw start >/dev/null 2>&1 || fail "a second start failed"
ruleset | diff -u "$TMP/after1" - || fail "a second start changed the ruleset"
[ "$(nsx nft list chain inet "$TABLE" firewall | grep -c 'saddr @')" = 2 ] ||
	{ nsx nft list chain inet "$TABLE" firewall; fail "not one rule per family"; }
nsx nft list chain inet "$TABLE" firewall | grep -q "hook input priority filter - 10" ||
	fail "the chain is not an input base chain"
fw status >/dev/null || fail "status does not report the rules installed"

# Before any ban everybody connects; then the banned ones no longer.
connects 192.0.2.10 192.0.2.1 || fail "a client cannot connect before its ban"
connects 2001:db8:f:2::10 2001:db8:f::1 || fail "an IPv6 client cannot connect before its ban"
ctl ban 192.0.2.10 >/dev/null || fail "ban failed"
ctl ban 2001:db8:f:2::10 >/dev/null || fail "ban of an IPv6 client failed"
! connects 192.0.2.10 192.0.2.1 || fail "a banned IPv4 client still connects"
! connects 2001:db8:f:2::10 2001:db8:f::1 || fail "a banned IPv6 client still connects"
connects 192.0.2.11 192.0.2.1 || fail "an innocent IPv4 client is blocked"
connects 2001:db8:f:3::11 2001:db8:f::1 || fail "an innocent IPv6 client is blocked"
echo "banned clients are dropped, others connect"

# reject: refused at once (a reset), not after the timeout
sed 's/firewall { ports = { 25, 587 } }/firewall { ports = { 25, 587 }  target = reject }/' \
	"$TMP/sw.conf" >"$TMP/reject.conf"
nsx env NFT=nft "$FW" -c "$TMP/reject.conf" start | grep -q "go to REJECT$" || fail "reject not chosen"
t0=$(date +%s%N)
! connects 192.0.2.10 192.0.2.1 || fail "a banned client connects with reject"
[ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 1500 ] || fail "reject did not answer with a reset"

# tarpit: refused, with the reason, nothing changed
sed 's/firewall { ports = { 25, 587 } }/firewall { ports = { 25 }  target = tarpit }/' \
	"$TMP/sw.conf" >"$TMP/tarpit.conf"
ruleset >"$TMP/before-tarpit"
if nsx env NFT=nft "$FW" -c "$TMP/tarpit.conf" start >"$TMP/tarpit" 2>&1; then
	fail "target = tarpit succeeded with nftables"
fi
grep -q "nftables has no TARPIT" "$TMP/tarpit" || { cat "$TMP/tarpit"; fail "no reason given"; }
ruleset | diff -u "$TMP/before-tarpit" - || fail "a refused start changed the ruleset"

# nft flush ruleset (nftables.service reloading Debian's nftables.conf):
# a start (systemd propagates the reload) waits for spamwrathd's sets.
nsx nft flush ruleset
fw start >"$TMP/start3" 2>&1 || { cat "$TMP/start3"; fail "start after nft flush ruleset failed"; }
wait_for 10 in_set "$SET4" 192.0.2.10 || fail "the ban did not come back after the flush"
! connects 192.0.2.10 192.0.2.1 || fail "a banned client connects after flush and start"
connects 192.0.2.11 192.0.2.1 || fail "an innocent client is blocked after flush and start"

fw stop >"$TMP/stop" 2>&1 || { cat "$TMP/stop"; fail "stop failed"; }
grep -q "removed chain inet $TABLE firewall" "$TMP/stop" || { cat "$TMP/stop"; fail "stop said nothing"; }
ruleset | diff -u "$TMP/before" - || fail "stop did not leave the ruleset as start found it"
connects 192.0.2.10 192.0.2.1 || fail "a banned client is still blocked after stop"
fw stop >/dev/null 2>&1 || fail "a second stop failed"
fw status >/dev/null && fail "status says installed after stop"
stop_daemon
echo "firewall-nft: ok"
