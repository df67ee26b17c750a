#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# spamwrath-firewall in network namespaces, with iptables-nft and with
# iptables-legacy: start installs one rule per family (twice: still one);
# banned clients can no longer connect to port 25 while others can; the
# kernel here has no TARPIT, so it chooses DROP and says why; stop removes
# exactly its rules and leaves the others as they were.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/firewall-lib.sh"
need_root
for c in ip ipset iptables-nft iptables-legacy ip6tables-nft ip6tables-legacy perl timeout; do
	command -v "$c" >/dev/null || fail "$c is missing"
done

FW="$top_builddir/systemd/spamwrath-firewall"
[ -x "$FW" ] || fail "$FW was not generated"
export SPAMWRATHD
id="sw-$$-fw"
set4="sw$$-4"
set6="sw$$-6"
namespaces=""
at_exit 'for n in $namespaces; do ip netns pids "$n" 2>/dev/null | xargs -r kill 2>/dev/null; ip netns del "$n" 2>/dev/null; done'

cat >"$TMP/fw.conf" <<CONF
ipset { set4 = "$set4"  set6 = "$set6" }
firewall { ports = { 25, 587 } }
CONF

in_ns() { ip netns exec "$NS" "$@"; }

# Every rule of the filter table, both families: what "untouched" compares.
rules() { in_ns "$IPT" -w -S; in_ns "$IP6T" -w -S; }

fw() { in_ns env IPTABLES="$IPT" IP6TABLES="$IP6T" "$FW" -c "$TMP/fw.conf" "$@"; }

count() {	# family-command pattern
	in_ns "$1" -w -S | grep -c -- "$2" || true
}

run_variant() {
	v=$1
	IPT=iptables-$v IP6T=ip6tables-$v
	NS="$id-$v" CNS="$id-$v-c"
	namespaces="$namespaces $NS $CNS"
	ip netns add "$NS"
	ip netns add "$CNS"
	fw_net 2001:db8:f::10 2001:db8:f::11
	# The sets as spamwrathd makes them (issue 4): it owns them, the
	# firewall script only refers to them.
	in_ns ipset create "$set4" hash:ip family inet timeout 0 maxelem 1048576
	in_ns ipset create "$set6" hash:net family inet6 timeout 0 maxelem 1048576
	in_ns ipset add "$set4" 192.0.2.10
	in_ns ipset add "$set6" 2001:db8:f::10/128
	# Other rules, which start and stop must leave alone.
	for t in "$IPT" "$IP6T"; do
		in_ns "$t" -w -A INPUT -p tcp --dport 22 -j ACCEPT
		in_ns "$t" -w -N MINE
		in_ns "$t" -w -A MINE -p tcp --dport 110 -j REJECT
		in_ns "$t" -w -A INPUT -j MINE
	done
	fw_listen "$v"
	connects 192.0.2.10 192.0.2.1 || fail "$v: a client cannot connect before any rule"
	connects 2001:db8:f::10 2001:db8:f::1 || fail "$v: an IPv6 client cannot connect before any rule"
	rules >"$TMP/$v.before"
	in_ns "$IPT" -w -S >"$TMP/$v.before4"

	fw start >"$TMP/$v.start1" 2>&1 || { cat "$TMP/$v.start1"; fail "$v: start failed"; }
	cat "$TMP/$v.start1"
	for fam in IPv4 IPv6; do
		grep -q "^spamwrath-firewall: $fam: new connections to tcp port(s) 25,587 .* go to DROP (TARPIT, from xtables-addons, is not usable here: " "$TMP/$v.start1" ||
			fail "$v: start did not say it chose DROP for $fam, and why"
	done
	rules >"$TMP/$v.after1"
	fw start >"$TMP/$v.start2" 2>&1 || { cat "$TMP/$v.start2"; fail "$v: second start failed"; }
	rules >"$TMP/$v.after2"
	diff -u "$TMP/$v.after1" "$TMP/$v.after2" || fail "$v: a second start changed the rules"
	for t in "$IPT" "$IP6T"; do
		[ "$(count "$t" '^-A INPUT .*-j SPAMWRATH$')" = 1 ] || fail "$v: $t: not one jump to SPAMWRATH"
		[ "$(count "$t" '^-A SPAMWRATH ')" = 1 ] || fail "$v: $t: not one rule in SPAMWRATH"
		[ "$(in_ns "$t" -w -S INPUT | sed -n 2p)" = "-A INPUT -m comment --comment spamwrath-firewall -j SPAMWRATH" ] ||
			fail "$v: $t: the jump is not the first rule of INPUT"
	done
	in_ns "$IPT" -w -S SPAMWRATH | grep -qx -- "-A SPAMWRATH -p tcp -m multiport --dports 25,587 -m set --match-set $set4 src -m conntrack --ctstate NEW,UNTRACKED -j DROP" ||
		{ in_ns "$IPT" -w -S SPAMWRATH; fail "$v: the IPv4 rule is not as documented"; }
	in_ns "$IP6T" -w -S SPAMWRATH | grep -qx -- "-A SPAMWRATH -p tcp -m multiport --dports 25,587 -m set --match-set $set6 src -m conntrack --ctstate NEW,UNTRACKED -j DROP" ||
		{ in_ns "$IP6T" -w -S SPAMWRATH; fail "$v: the IPv6 rule is not as documented"; }
	fw status >/dev/null || fail "$v: status does not report the rules installed"

	# The rule bites: banned addresses can't connect, the others can.
	connects 192.0.2.11 192.0.2.1 || fail "$v: an innocent IPv4 client is blocked"
	connects 2001:db8:f::11 2001:db8:f::1 || fail "$v: an innocent IPv6 client is blocked"
	! connects 192.0.2.10 192.0.2.1 || fail "$v: a banned IPv4 client still connects"
	! connects 2001:db8:f::10 2001:db8:f::1 || fail "$v: a banned IPv6 client still connects"
	echo "$v: banned clients are dropped, others connect"

	# A changed configuration is applied in place by another start.
	sed 's/ports = { 25, 587 }/ports = { 25 }/' "$TMP/fw.conf" >"$TMP/fw2.conf"
	in_ns env IPTABLES="$IPT" IP6TABLES="$IP6T" "$FW" -c "$TMP/fw2.conf" start >/dev/null ||
		fail "$v: start with new ports failed"
	[ "$(count "$IPT" '^-A SPAMWRATH .*--dports 25 -m set')" = 1 ] || fail "$v: new ports not applied"
	[ "$(count "$IPT" '^-A SPAMWRATH ')" = 1 ] || fail "$v: a refresh left two rules"

	fw stop >"$TMP/$v.stop" 2>&1 || { cat "$TMP/$v.stop"; fail "$v: stop failed"; }
	cat "$TMP/$v.stop"
	rules >"$TMP/$v.after-stop"
	diff -u "$TMP/$v.before" "$TMP/$v.after-stop" || fail "$v: stop did not restore the rules exactly"
	connects 192.0.2.10 192.0.2.1 || fail "$v: a banned client is still blocked after stop"
	fw stop >/dev/null 2>&1 || fail "$v: a second stop failed"
	rules >"$TMP/$v.after-stop2"
	diff -u "$TMP/$v.before" "$TMP/$v.after-stop2" || fail "$v: a second stop changed the rules"
	fw status >/dev/null && fail "$v: status says installed after stop"

	# target = tarpit where there is none: a clear failure, nothing half done.
	printf 'ipset { set4 = "%s"  set6 = "%s" }\nfirewall { target = tarpit }\n' "$set4" "$set6" >"$TMP/tarpit.conf"
	if in_ns env IPTABLES="$IPT" IP6TABLES="$IP6T" "$FW" -c "$TMP/tarpit.conf" start >"$TMP/$v.tarpit" 2>&1; then
		fail "$v: target = tarpit succeeded on a kernel without TARPIT"
	fi
	grep -q "target = tarpit, but" "$TMP/$v.tarpit" || { cat "$TMP/$v.tarpit"; fail "$v: no reason given"; }
	rules >"$TMP/$v.after-tarpit"
	diff -u "$TMP/$v.before" "$TMP/$v.after-tarpit" || fail "$v: a failed start left rules behind"

	# A set that does not exist (the daemon never ran): refused, with the remedy.
	printf 'ipset { set4 = "%s-none"  set6 = "%s-none" }\n' "$set4" "$set6" >"$TMP/noset.conf"
	if in_ns env IPTABLES="$IPT" IP6TABLES="$IP6T" "$FW" -c "$TMP/noset.conf" start >"$TMP/$v.noset" 2>&1; then
		fail "$v: start succeeded without the sets"
	fi
	grep -q "ipset $set4-none does not exist.*start spamwrath.service first" "$TMP/$v.noset" ||
		{ cat "$TMP/$v.noset"; fail "$v: no useful message for a missing set"; }
	rules >"$TMP/$v.after-noset"
	diff -u "$TMP/$v.before" "$TMP/$v.after-noset" || fail "$v: a failed start left rules behind"

	# IPv6 unusable (disabled kernel): the IPv4 rule alone, and it says so.
	in_ns env IPTABLES="$IPT" IP6TABLES=false "$FW" -c "$TMP/fw.conf" start >"$TMP/$v.nov6" 2>&1 ||
		{ cat "$TMP/$v.nov6"; fail "$v: start failed without IPv6"; }
	grep -q "IPv6: false does not work, no IPv6 rule" "$TMP/$v.nov6" || fail "$v: IPv6 absence not reported"
	[ "$(count "$IPT" '^-A SPAMWRATH ')" = 1 ] || fail "$v: no IPv4 rule without IPv6"
	in_ns env IPTABLES="$IPT" IP6TABLES=false "$FW" -c "$TMP/fw.conf" stop >/dev/null 2>&1 ||
		fail "$v: stop failed without IPv6"
	in_ns "$IPT" -w -S | diff -u "$TMP/$v.before4" - || fail "$v: IPv4 rules not restored"

	# Stop leaves a chain someone else still jumps to, emptied, and says so.
	fw start >/dev/null 2>&1 || fail "$v: start failed"
	in_ns "$IPT" -w -A FORWARD -j SPAMWRATH
	fw stop >"$TMP/$v.stop-used" 2>&1 || fail "$v: stop failed with a foreign jump"
	grep -q "IPv4: chain SPAMWRATH is still used by a rule that is not ours" "$TMP/$v.stop-used" ||
		{ cat "$TMP/$v.stop-used"; fail "$v: stop did not report the foreign jump"; }
	[ "$(count "$IPT" '^-A FORWARD -j SPAMWRATH$')" = 1 ] || fail "$v: stop removed a rule that is not its own"
	[ "$(count "$IPT" '^-A SPAMWRATH ')" = 0 ] || fail "$v: stop left the ban rule"
	[ "$(count "$IPT" '^-A INPUT .*-j SPAMWRATH$')" = 0 ] || fail "$v: stop left its jump"
	echo "$v: start, restart, stop, failures: as documented"
}

run_variant nft
run_variant legacy
