#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The firewall { } section and spamwrathd --get, which spamwrath-firewall
# reads the set names and ports through: defaults, drop-ins appending,
# and every bad value named as FILE:LINE with exit status 1.
. "$(dirname "$0")/../lib.sh"

get() {	# conf key
	"$SPAMWRATHD" -c "$1" --get "$2"
}
expect() {	# what conf key expected-output
	out=$(get "$2" "$3") || fail "$1: --get $3 failed"
	[ "$out" = "$4" ] || fail "$1: --get $3 gave '$out', not '$4'"
}
expect_error() {	# what conf message
	if get "$2" firewall.ports >"$TMP/out" 2>"$TMP/err"; then
		fail "$1: accepted"
	fi
	grep -q -- "$3" "$TMP/err" || { cat "$TMP/err"; fail "$1: not the expected message"; }
}

mkdir -p "$TMP/a" "$TMP/b/conf.d" "$TMP/c"
: >"$TMP/a/spamwrath.conf"
expect "defaults" "$TMP/a/spamwrath.conf" firewall.ports 25
expect "defaults" "$TMP/a/spamwrath.conf" firewall.target auto
expect "defaults" "$TMP/a/spamwrath.conf" ipset.set4 spamwrath4
expect "defaults" "$TMP/a/spamwrath.conf" ipset.set6 spamwrath6
expect "defaults" "$TMP/a/spamwrath.conf" findtime 43200
expect "defaults" "$TMP/a/spamwrath.conf" ignore_self yes

cat >"$TMP/b/spamwrath.conf" <<'CONF'
ipset { set4 = "mail4" }
firewall {
    ports = { 25, "6000:6010" }
    target = DROP
}
CONF
echo 'firewall { ports = { 587 } }' >"$TMP/b/conf.d/50-submission.conf"
expect "drop-in" "$TMP/b/spamwrath.conf" firewall.ports "$(printf '25\n6000:6010\n587')"
expect "drop-in" "$TMP/b/spamwrath.conf" firewall.target drop
expect "drop-in" "$TMP/b/spamwrath.conf" ipset.set4 mail4
expect "drop-in" "$TMP/b/spamwrath.conf" ipset.set6 spamwrath6

printf '# ports\nfirewall {\n    ports = { 0, 25 }\n}\n' >"$TMP/c/spamwrath.conf"
expect_error "port 0" "$TMP/c/spamwrath.conf" "spamwrath.conf:3: ports: \"0\" is not a TCP port"
printf 'firewall { ports = { "30:20" } }\n' >"$TMP/c/spamwrath.conf"
expect_error "reversed range" "$TMP/c/spamwrath.conf" "spamwrath.conf:1: ports: \"30:20\" is not a TCP port"
printf 'firewall { ports = { 65536 } }\n' >"$TMP/c/spamwrath.conf"
expect_error "port 65536" "$TMP/c/spamwrath.conf" "spamwrath.conf:1: ports: \"65536\""
printf 'firewall {\n  target = tarpitt\n}\n' >"$TMP/c/spamwrath.conf"
expect_error "bad target" "$TMP/c/spamwrath.conf" "spamwrath.conf:2: target: \"tarpitt\" is none of auto, tarpit, drop, reject"
# 15 multiport slots pass, 16 do not.
printf 'firewall {\n  ports = { 1,2,3,4,5,6,7,8,9,10,11,12,13,"14:16" }\n}\n' >"$TMP/c/spamwrath.conf"
get "$TMP/c/spamwrath.conf" firewall.ports >/dev/null || fail "15 multiport slots refused"
printf 'firewall {\n  ports = { 1,2,3,4,5,6,7,8,9,10,11,12,13,"14:16",17 }\n}\n' >"$TMP/c/spamwrath.conf"
expect_error "16 slots" "$TMP/c/spamwrath.conf" "spamwrath.conf:2: firewall: ports: 16 ports"

# An unknown key: status 2, a message, nothing on stdout.
status=0
get "$TMP/a/spamwrath.conf" firewall.nope >"$TMP/out" 2>"$TMP/err" || status=$?
[ "$status" = 2 ] || fail "--get of an unknown key exited $status, not 2"
[ ! -s "$TMP/out" ] || fail "--get of an unknown key printed a value"
grep -q 'no configuration key "firewall.nope"' "$TMP/err" || fail "--get of an unknown key: no message"
echo "firewall section and --get behave"
