#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The nftables backend (issue 15): spamwrathd creates its table and sets,
# bans land in them with about their timeout, an IPv6 offender's /64 is in
# set6 as one range, whitelisted addresses never are, unban deletes;
# status and list name the backend; another table is never touched; a
# reload that changes the backend is refused and says why, one that names
# other sets moves the next bans there.
. "$(dirname "$0")/../lib.sh"
BACKEND=nftables
. "$top_srcdir/tests/daemon-lib.sh"

# Someone else's table, which nothing of ours may touch.
nsx nft -f - <<NFT
table inet other {
	set keep { type ipv4_addr; flags timeout; elements = { 198.51.100.200 timeout 1d } }
	chain input { type filter hook input priority 0; policy accept; tcp dport 22 accept; }
}
NFT
nsx nft list table inet other | sed 's/expires [0-9dhms]*//' >"$TMP/other.before"

write_file_conf </dev/null
start_daemon
nsx nft list set inet "$TABLE" "$SET4" | grep -q "type ipv4_addr" || fail "set4 was not made as ipv4_addr"
nsx nft list set inet "$TABLE" "$SET4" | grep -q "size 65536" || fail "set4 was not made with the size asked"
nsx nft list set inet "$TABLE" "$SET6" | grep -q "flags interval,timeout" ||
	fail "set6 was not made with flags interval,timeout"

t0=$(date +%s%N)
line_unknown 203.0.113.10 >>"$log"
wait_banned "$SET4" 203.0.113.10 "$t0"
t=$(set_timeout "$SET4" 203.0.113.10)
[ "$t" -ge 3590 ] && [ "$t" -le 3600 ] || fail "203.0.113.10 expires in $t s, not about bantime (3600)"

line_unknown 2001:db8:1:2::5 >>"$log"
wait_banned "$SET6" 2001:db8:1:2::/64
in_set "$SET6" 2001:db8:1:2:ffff::1 || fail "the /64 of 2001:db8:1:2::5 is not banned whole"
in_set "$SET6" 2001:db8:1:3::1 && fail "a neighbouring /64 is banned too"
[ "$(members "$SET6")" = 2001:db8:1:2::/64 ] || fail "set6 does not hold exactly the /64"

# whitelisted and benign: never; the last line shows the others were read
{ line_unknown 192.0.2.25; line_benign 198.51.100.20; line_unknown 203.0.113.11; } >>"$log"
wait_banned "$SET4" 203.0.113.11
in_set "$SET4" 192.0.2.25 && fail "a whitelisted address was banned"
in_set "$SET4" 198.51.100.20 && fail "a benign line banned its client"

ctl status --json >"$TMP/status"
jq -e '.backend == "nftables" and .sets.set4 == "'"$SET4"'" and .sets.set6 == "'"$SET6"'"
	and .active_bans["'"$SET4"'"] == 2 and .active_bans["'"$SET6"'"] == 1' "$TMP/status" \
	>/dev/null || { cat "$TMP/status"; fail "status does not report the nftables backend"; }
ctl list --json | jq -e 'length == 3 and all(.[]; .backend == "nftables" and .in_force)' \
	>/dev/null || fail "list does not report the nftables backend"
ctl list | grep -q "^3 active bans (backend nftables)$" || fail "list text does not name the backend"

# manual ban and unban
ctl ban 198.51.100.5 --for 2h >/dev/null || fail "ban failed"
t=$(set_timeout "$SET4" 198.51.100.5)
[ "$t" -gt 7100 ] && [ "$t" -le 7200 ] || fail "--for 2h gave a timeout of $t"
ctl unban 198.51.100.5 >/dev/null || fail "unban failed"
in_set "$SET4" 198.51.100.5 && fail "an unbanned address is still in the set"
ctl unban 2001:db8:1:2::5 >/dev/null || fail "unban of an IPv6 ban failed"
[ -z "$(members "$SET6")" ] || fail "the /64 is still in set6 after unban"

# A reload to the ipset backend is refused, and the bans stay.
cp "$TMP/sw.conf" "$TMP/sw.conf.nft"
sed -i 's/^backend = "nftables"/backend = "ipset"/' "$TMP/sw.conf"
set +e
ctl reload 2>"$TMP/reload"; rc=$?
set -e
[ "$rc" = 1 ] || fail "a reload that changes the backend: status $rc, not 1"
grep -q "backend: changing from nftables to ipset takes a restart" "$TMP/reload" ||
	{ cat "$TMP/reload"; fail "the refusal does not say why"; }
in_set "$SET4" 203.0.113.10 || fail "a refused reload lost a ban"
# Other sets: created, and the next ban goes there.
sed "s/set4 = \"$SET4\"/set4 = \"${SET4}n\"/" "$TMP/sw.conf.nft" >"$TMP/sw.conf"
ctl reload || fail "a reload naming another set4 failed"
line_unknown 203.0.113.12 >>"$log"
wait_banned "${SET4}n" 203.0.113.12
stop_daemon

# The bans stay after a stop; the other table is as it was.
in_set "$SET4" 203.0.113.10 || fail "a ban left the set when spamwrathd stopped"
nsx nft list table inet other | sed 's/expires [0-9dhms]*//' | diff -u "$TMP/other.before" - ||
	fail "another table was touched"
[ "$(nsx nft list tables | sort | tr '\n' ' ')" = "table inet other table inet $TABLE " ] ||
	fail "tables other than ours and the one we found: $(nsx nft list tables)"
echo "nft-bans: ok"
