#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# nftables sets that would not block (issue 15): a set of another type, one
# without the timeout flag, a set6 without intervals stop spamwrathd at
# start with status 1 and a message saying what exists and what is needed;
# the sets, their elements and the rest of the table stay as they were.
. "$(dirname "$0")/../lib.sh"
BACKEND=nftables
. "$top_srcdir/tests/daemon-lib.sh"

write_file_conf </dev/null

# run WHAT: spamwrathd must exit 1 (in time) and leave the ruleset alone.
run() {
	nsx nft list ruleset >"$TMP/before"
	start_refused "$1"
	nsx nft list ruleset | diff -u "$TMP/before" - || fail "$1: the ruleset was changed"
}

nsx nft add table inet "$TABLE"
nsx nft add set inet "$TABLE" "$SET4" '{ type ipv6_addr; flags timeout; }'
nsx nft add element inet "$TABLE" "$SET4" '{ 2001:db8::7 }'
run "wrong type"
grep -q "set inet $TABLE $SET4 exists as type ipv6_addr, flags timeout, but spamwrath needs type ipv4_addr with flags timeout" "$TMP/out" ||
	fail "the message does not say what exists and what is needed"
nsx nft delete set inet "$TABLE" "$SET4"

nsx nft add set inet "$TABLE" "$SET4" '{ type ipv4_addr; }'
nsx nft add element inet "$TABLE" "$SET4" '{ 198.51.100.7 }'
run "no timeout"
grep -q "set inet $TABLE $SET4 exists as type ipv4_addr, flags none, but spamwrath needs type ipv4_addr with flags timeout" "$TMP/out" ||
	fail "the message does not say the timeout flag is missing"
nsx nft delete set inet "$TABLE" "$SET4"

nsx nft add set inet "$TABLE" "$SET6" '{ type ipv6_addr; flags timeout; }'
run "set6 without intervals"
grep -q "set inet $TABLE $SET6 exists as type ipv6_addr, flags timeout, but spamwrath needs type ipv6_addr with flags interval,timeout" "$TMP/out" ||
	fail "the message does not say set6 needs intervals"
grep -q "nftables: created" "$TMP/out" && fail "a set was created although the start was refused"
echo "nft-wrongset: ok"
