#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# End to end over a real network: a server namespace joined to two client
# namespaces by veth pairs, an iptables rule in the server namespace that
# drops port 25 traffic from members of set4 (what the firewall script
# does where TARPIT is missing), an SMTP stand-in on port 25 that logs
# like Postfix. Client 1 connects and asks for an unknown user; the
# logged reject bans it, its next connection fails, client 2 still
# connects.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"

command -v iptables >/dev/null || fail "iptables is not installed"
command -v python3 >/dev/null || fail "python3 is not installed"
command -v bash >/dev/null || fail "bash is not installed"

C1="sw-$$-c1"
C2="sw-$$-c2"
for c in "$C1" "$C2"; do
	ip netns add "$c" || fail "cannot create namespace $c"
	at_exit "ip netns del $c 2>/dev/null || true"
done
# Created inside the namespaces: no interface name in the host's namespace.
ip -n "$NS" link add s1 type veth peer name c1 netns "$C1"
ip -n "$NS" link add s2 type veth peer name c2 netns "$C2"
ip -n "$NS" addr add 203.0.113.1/30 dev s1
ip -n "$NS" addr add 203.0.113.5/30 dev s2
ip -n "$C1" addr add 203.0.113.2/30 dev c1
ip -n "$C2" addr add 203.0.113.6/30 dev c2
for n in "$NS" "$C1" "$C2"; do ip -n "$n" link set lo up; done
ip -n "$NS" link set s1 up
ip -n "$NS" link set s2 up
ip -n "$C1" link set c1 up
ip -n "$C2" link set c2 up

log="$TMP/mail.log"
: >"$log"
# not through nsx: a backgrounded function is a subshell, and killing it
# would leave the listener running
ip netns exec "$NS" python3 "$top_srcdir/tests/data/smtp-listener.py" "$log" >"$TMP/listener.out" 2>&1 &
listener=$!
at_exit "kill_child TERM $listener"
wait_for 20 grep -q listening "$TMP/listener.out" || fail "the SMTP stand-in did not start"

write_conf <<CONF
source maillog { file = "$log" }
CONF
start_daemon
nsx iptables -I INPUT -p tcp --dport 25 -m set --match-set "$SET4" src -j DROP ||
	fail "cannot add the iptables rule"

# smtp NAMESPACE SERVER RCPT: connects, prints the greeting and the reply
# to RCPT; fails when no connection is made within 5 s.
smtp() {
	ip netns exec "$1" timeout 5 bash -c '
		exec 3<>"/dev/tcp/$0/25" || exit 1
		read -r greeting <&3 || exit 1
		echo "$greeting"
		echo "RCPT TO:<$1>" >&3
		read -r reply <&3
		echo "$reply"' "$2" "$3"
}

out=$(smtp "$C1" 203.0.113.1 alice@example.org) || fail "client 1 could not connect at first"
echo "$out" | grep -q "^220 " || fail "no greeting: $out"
t0=$(date +%s%N)
out=$(smtp "$C1" 203.0.113.1 nobody@example.org) || fail "client 1 could not connect for its offence"
echo "$out" | grep -q "^550 " || fail "no reject: $out"
wait_banned "$SET4" 203.0.113.2 "$t0"
grep -q "reject: RCPT from unknown\[203.0.113.2\]" "$log" || fail "the offence was not logged"

if smtp "$C1" 203.0.113.1 alice@example.org >/dev/null 2>&1; then
	fail "client 1 still connects after its ban"
fi
out=$(smtp "$C2" 203.0.113.5 alice@example.org) || fail "client 2 cannot connect any more"
echo "$out" | grep -q "^220 " || fail "client 2: no greeting"
in_set "$SET4" 203.0.113.6 && fail "client 2 was banned"
drops=$(nsx iptables -L INPUT -v -n | awk '/match-set/ { print $1 }')
[ "${drops:-0}" -gt 0 ] || fail "the DROP rule counted no packet"
echo "packets dropped from the banned client: $drops"
daemon_alive || fail "spamwrathd died"
stop_daemon
echo "daemon-e2e: ok"
