# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the tests/integration/fleet-*.sh tests (sourced after
# tests/lib.sh): a redis-server of the test's own (never the machine's
# service), and fleet hosts: each a spamwrathd in a network namespace of
# its own, with its own sets, state, control socket and mail log. Names
# carry the test's pid: other engineers run tests on the same machine.
need_root
command -v ip >/dev/null || skip "ip (iproute2) is not installed"
command -v ipset >/dev/null || skip "ipset is not installed"
command -v redis-server >/dev/null || fail "redis-server is not installed (see the README's first command)"
command -v redis-cli >/dev/null || fail "redis-cli is not installed (see the README's first command)"

chmod 755 "$TMP"
KEY="$TMP/fleet.key"
head -c 32 /dev/urandom | base64 >"$KEY"
chmod 600 "$KEY"
REDIS_SOCK="$TMP/redis.sock"
REDIS_PID=""
# With FLEET_ACL=yes (set before start_redis), the server takes only the ACL
# user spamwrath, with the rights the README's "Running a fleet" gives it,
# its password in $TMP/redis.pass; the hosts authenticate as it.
FLEET_ACL=${FLEET_ACL:-no}
REDIS_RIGHTS="-@all +evalsha +script|load +role +hscan +subscribe +ping +hset +hget +hdel +zadd +zscore +zrange +zrangebyscore +zremrangebyscore +zrem +zcard +rpush +lrange +exists +expire +set +get +del +publish"
head -c 24 /dev/urandom | base64 >"$TMP/redis.pass"
chmod 600 "$TMP/redis.pass"

# start_redis [ARGS...]: a redis-server on $REDIS_SOCK only (no TCP port),
# keeping nothing on disk: a restart comes back empty.
start_redis() {
	mkdir -p "$TMP/redis"
	if [ "$FLEET_ACL" = yes ]; then
		# shellcheck disable=SC2086 # the rights are words
		set -- --user default off --user spamwrath on ">$(cat "$TMP/redis.pass")" \
			"~sw$$:*" "&sw$$:*" $REDIS_RIGHTS "$@"
	fi
	redis-server --port 0 --unixsocket "$REDIS_SOCK" --unixsocketperm 700 --save '' \
		--appendonly no --dir "$TMP/redis" --logfile "$TMP/redis.log" "$@" &
	REDIS_PID=$!
	# killed and waited for: rm -rf $TMP must not race its writes
	at_exit "{ kill_child KILL $REDIS_PID; wait $REDIS_PID; } 2>/dev/null || true"
	wait_for 10 rcli ping || fail "redis-server did not start"
}

stop_redis() {
	kill_child KILL "$REDIS_PID"
	wait "$REDIS_PID" 2>/dev/null || true
	rm -f "$REDIS_SOCK"
}

rcli() {
	if [ "$FLEET_ACL" = yes ]; then
		redis-cli -s "$REDIS_SOCK" --user spamwrath --pass "$(cat "$TMP/redis.pass")" \
			--no-auth-warning "$@"
	else
		redis-cli -s "$REDIS_SOCK" "$@"
	fi
}

# host_conf NAME: writes $TMP/NAME/sw.conf for host NAME (its own sets,
# state, socket and log, the fleet section, which reaches Redis as
# $FLEET_TARGET says, by default at $REDIS_SOCK); extra lines from stdin.
host_conf() {
	_d="$TMP/$1"
	mkdir -p "$_d"
	: >"$_d/mail.log"
	{
		cat <<CONF
patterns_dir = "$top_srcdir/tests/data/patterns"
state_dir = "$_d/state"
control_socket = "$_d/control.sock"
whitelist = { "192.0.2.0/24" }
bantime = 1h
bantime_max = 1d
source maillog { file = "$_d/mail.log" }
ipset {
    set4 = "sw$$${1}a"
    set6 = "sw$$${1}b"
    maxelem = 262144
}
fleet {
    ${FLEET_TARGET:-redis = \"$REDIS_SOCK\"}
    key_file = "$KEY"
    host = "$1"
    namespace = "sw$$"
    $([ "$FLEET_ACL" = yes ] && echo "user = \"spamwrath\" password_file = \"$TMP/redis.pass\"")
}
CONF
		cat
	} >"$_d/sw.conf"
}

# start_host NAME: creates the namespace sw-PID-NAME (once) and starts
# spamwrathd there; returns once it has said "started".
start_host() {
	_ns="sw-$$-$1"
	if [ ! -e "/run/netns/$_ns" ]; then
		ip netns add "$_ns" || fail "cannot create network namespace $_ns"
		at_exit "ip netns del $_ns 2>/dev/null || true"
	fi
	: >"$TMP/$1/daemon.err"
	# FLEET_LOG=auto: stderr, and the journal too where its socket is
	ip netns exec "$_ns" env SPAMWRATH_LOG="${FLEET_LOG:-stderr}" "$SPAMWRATHD" -c "$TMP/$1/sw.conf" \
		2>>"$TMP/$1/daemon.err" &
	eval "PID_$1=$!"
	at_exit "{ kill_child KILL $!; wait $!; } 2>/dev/null || true"
	watch_daemon "spamwrathd_$1" $! "$TMP/$1/daemon.err"
	wait_for 20 grep -q "started" "$TMP/$1/daemon.err" || fail "spamwrathd $1 did not start"
}

host_pid() {
	eval "echo \$PID_$1"
}

# stop_host NAME: SIGTERM, and the exit status must be 0.
stop_host() {
	stop_child "$(host_pid "$1")" "spamwrathd $1"
}

host_alive() {
	alive "$(host_pid "$1")"
}

# in_host_set NAME ADDRESS: ADDRESS is in NAME's IPv4 set.
in_host_set() {
	ip netns exec "sw-$$-$1" ipset test "sw$$${1}a" "$2" 2>/dev/null
}

set_count() {
	ip netns exec "sw-$$-$1" ipset list -t "sw$$${1}a" | awk '/^Number of entries:/ { print $4 }'
}

# host_ctl NAME ARGS...: spamwrathctl on NAME's control socket.
host_ctl() {
	_h=$1
	shift
	"$SPAMWRATHCTL" -s "$TMP/$_h/control.sock" "$@"
}

# host_log NAME LINE: appends a log line to NAME's mail log.
host_log() {
	echo "$2" >>"$TMP/$1/mail.log"
}

# wait_in_set TIMEOUT NAME ADDRESS
wait_in_set() {
	wait_for "$1" in_host_set "$2" "$3" || fail "$3 did not get into $2's set within $1 s"
}

# Log lines as the test patterns know them (classic syslog headers).
stamp() {
	date -u '+%b %e %H:%M:%S'
}
line_unknown() {	# ADDRESS -> a Postfix "User unknown" reject (weight 1)
	echo "$(stamp) mx postfix/smtpd[1001]: NOQUEUE: reject: RCPT from unknown[$1]: 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local recipient table; from=<spam@bulk.example> to=<nobody@example.org> proto=ESMTP helo=<bulk>"
}
