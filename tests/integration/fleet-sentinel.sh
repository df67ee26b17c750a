#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A Sentinel-managed pair loses no ban in a failover: two redis-server
# (a master and its replica) and three redis-sentinel in a namespace of
# their own, reached by the hosts over veth pairs. The hosts find the
# master through the sentinels; it is killed, a ban is made while the
# sentinels elect the replica, and afterwards every ban is in every
# host's set, and in the set of a host that starts after the failover.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/fleet-lib.sh"

command -v redis-sentinel >/dev/null || fail "redis-sentinel is not installed (see the README's first command)"

RD="sw-$$-rd"
ip netns add "$RD" || fail "cannot create network namespace $RD"
at_exit "ip netns del $RD 2>/dev/null || true"
ip -n "$RD" link set lo up
# mxN reaches the Redis namespace at 10.77.N.1; the servers are known by 10.77.1.1
n=0
for h in mx1 mx2 mx3; do
	n=$((n + 1))
	ip netns add "sw-$$-$h" || fail "cannot create network namespace sw-$$-$h"
	at_exit "ip netns del sw-$$-$h 2>/dev/null || true"
	ip -n "$RD" link add "r$n" type veth peer name eth0 netns "sw-$$-$h"
	ip -n "$RD" addr add "10.77.$n.1/24" dev "r$n"
	ip -n "$RD" link set "r$n" up
	ip -n "sw-$$-$h" addr add "10.77.$n.2/24" dev eth0
	ip -n "sw-$$-$h" link set eth0 up
	ip -n "sw-$$-$h" link set lo up
	ip -n "sw-$$-$h" route add default via "10.77.$n.1"
done
IP=10.77.1.1

rd() {	# a command in the Redis namespace
	ip netns exec "$RD" "$@"
}
rdcli() {	# PORT ARGS...
	_p=$1
	shift
	rd redis-cli -h "$IP" -p "$_p" "$@"
}
# redis_bg NAME ARGS...: a server (or, with --sentinel, a sentinel) in the
# Redis namespace; killed and waited for at exit.
redis_bg() {
	_name=$1
	shift
	mkdir -p "$TMP/$_name"
	# not through rd: a backgrounded function is a subshell, and killing it
	# would leave the server running
	ip netns exec "$RD" redis-server "$@" --dir "$TMP/$_name" --logfile "$TMP/$_name/log" &
	eval "PID_$_name=$!"
	at_exit "{ kill_child KILL $!; wait $!; } 2>/dev/null || true"
}

redis_bg ra --port 6379 --bind "$IP" --save '' --appendonly no --protected-mode no \
	--repl-diskless-sync-delay 0
redis_bg rb --port 6380 --bind "$IP" --save '' --appendonly no --protected-mode no \
	--replicaof "$IP" 6379 --replica-announce-ip "$IP"
for p in 26379 26380 26381; do
	mkdir -p "$TMP/s$p"
	cat >"$TMP/s$p/sentinel.conf" <<CONF
port $p
bind $IP
protected-mode no
sentinel monitor spamwrath $IP 6379 2
sentinel down-after-milliseconds spamwrath 1000
sentinel failover-timeout spamwrath 4000
sentinel parallel-syncs spamwrath 1
CONF
	redis_bg "s$p" "$TMP/s$p/sentinel.conf" --sentinel
done
wait_for 20 sh -c "ip netns exec $RD redis-cli -h $IP -p 26379 sentinel ckquorum spamwrath | grep -q OK" ||
	fail "the sentinels did not agree on the master"
# Each sentinel learns of the replica from the master's INFO, which it asks
# for every 10 s: a leader elected before it did finds "no good slave" and
# cannot fail over once the master is gone. All three must know it.
for p in 26379 26380 26381; do
	wait_for 30 sh -c "ip netns exec $RD redis-cli -h $IP -p $p sentinel replicas spamwrath | grep -q 6380" ||
		fail "sentinel $p did not find the replica"
done

# the first sentinel listed is not there: the hosts go on to the next
FLEET_TARGET="sentinels = { \"$IP:26399\", \"$IP:26379\", \"$IP:26380\", \"$IP:26381\" } master_name = \"spamwrath\""
sentinel_conf() {
	host_conf "$1" </dev/null
}

line_spam() {
	echo "$(stamp) mx mimedefang.pl[2001]: MDLOG,ABC123,spam,25.5,$1,<s@bulk.example>,<u@example.org>,Buy now"
}

for h in mx1 mx2; do
	sentinel_conf "$h"
	start_host "$h"
	wait_for 10 grep -q "fleet: in step" "$TMP/$h/daemon.err" ||
		fail "$h did not join through the sentinels"
done
grep -q "through Redis at $IP:6379" "$TMP/mx1/daemon.err" || fail "mx1 is not on the master"

host_log mx1 "$(line_spam 203.0.113.90)"
wait_in_set 3 mx2 203.0.113.90
wait_for 5 sh -c "ip netns exec $RD redis-cli -h $IP -p 6380 HEXISTS sw$$:bans 203.0.113.90 | grep -q 1" ||
	fail "the replica did not get the ban"

# The master dies; a ban is made while the sentinels elect the replica.
kill_child KILL "$PID_ra"
wait "$PID_ra" 2>/dev/null || true
host_log mx2 "$(line_spam 203.0.113.91)"
wait_in_set 3 mx2 203.0.113.91
wait_for 30 sh -c "ip netns exec $RD redis-cli -h $IP -p 26379 sentinel get-master-addr-by-name spamwrath | grep -q 6380" ||
	{ tail -n 20 "$TMP/s26379/log" "$TMP/rb/log"; fail "the sentinels did not fail over"; }
wait_in_set 30 mx1 203.0.113.91
wait_for 10 grep -q "reachable again" "$TMP/mx1/daemon.err" || fail "mx1 did not come back"
grep -q "Redis at $IP:6380 reachable again" "$TMP/mx1/daemon.err" ||
	fail "mx1 did not follow the failover to the new master"

# Nothing lost: a host started now gets both bans from the new master.
sentinel_conf mx3
start_host mx3
wait_in_set 10 mx3 203.0.113.90
wait_in_set 2 mx3 203.0.113.91
host_log mx3 "$(line_spam 203.0.113.92)"
wait_in_set 3 mx1 203.0.113.92
wait_in_set 3 mx2 203.0.113.92

for h in mx1 mx2 mx3; do
	host_alive "$h" || fail "$h died"
	stop_host "$h"
done
exit 0
