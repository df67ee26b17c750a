#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A set that exists with the wrong type, or without timeout support, stops
# spamwrathd at start with status 1 and a message saying what exists and
# what is needed; the set and its members are left as they were.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"

write_file_conf </dev/null

# set4 as hash:net (a type that could never hold what we add as asked).
nsx ipset create "$SET4" hash:net timeout 0
nsx ipset add "$SET4" 198.51.100.0/24
start_refused "wrong type"
grep -q "set $SET4 exists as hash:net family inet, but spamwrath needs hash:ip family inet with timeout" "$TMP/out" ||
	fail "the message does not say what exists and what is needed"
nsx ipset test "$SET4" 198.51.100.1 2>/dev/null || fail "the wrong set lost its member"
nsx ipset destroy "$SET4"

# set6 as IPv4.
nsx ipset create "$SET6" hash:net family inet timeout 0
start_refused "wrong family"
grep -q "set $SET6 exists as hash:net family inet, but spamwrath needs hash:net family inet6" "$TMP/out" ||
	fail "the message does not name the wrong family"
nsx ipset destroy "$SET6"
nsx ipset destroy "$SET4" 2>/dev/null || true

# set4 without timeout support.
nsx ipset create "$SET4" hash:ip
nsx ipset add "$SET4" 198.51.100.7
start_refused "no timeout"
grep -q "set $SET4 exists as hash:ip family inet without timeout support" "$TMP/out" ||
	fail "the message does not say the timeout is missing"
nsx ipset test "$SET4" 198.51.100.7 2>/dev/null || fail "the set lost its member"

# A broken configuration: status 1, FILE:LINE: reason.
echo 'bantime = forever' >>"$TMP/sw.conf"
start_refused "bad configuration"
grep -q "sw.conf:[0-9]*: bantime: \"forever\" is not a duration" "$TMP/out" ||
	fail "the configuration error does not name FILE:LINE"
echo "daemon-wrongset: ok"
