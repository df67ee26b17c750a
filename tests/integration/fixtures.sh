#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs every patterns/*.fixtures through `spamwrathctl test --check
# --coverage`: each sample line must give exactly what its fixture says,
# and every shipped pattern must have a line it matches and a near miss.
. "$(dirname "$0")/../lib.sh"

printf 'patterns_dir = "%s/patterns"\nignore_self = no\n' "$top_srcdir" >"$TMP/fixtures.conf"
set -- "$top_srcdir"/patterns/*.fixtures
[ -f "$1" ] || fail "no fixture files in $top_srcdir/patterns"
"$SPAMWRATHCTL" test --check --coverage -c "$TMP/fixtures.conf" "$@" \
	|| fail "fixtures disagree with the patterns (see above)"

# The checker itself must catch a wrong expectation.
sed 's/^= 203\.0\.113\.10 unknown-recipient/= 203.0.113.99 unknown-recipient/' \
	"$top_srcdir/patterns/postfix.fixtures" >"$TMP/wrong.fixtures"
if "$SPAMWRATHCTL" test --check -c "$TMP/fixtures.conf" "$TMP/wrong.fixtures" >"$TMP/wrong.out"; then
	fail "--check accepted a fixture with a wrong address"
fi
grep -q 'wrong.fixtures:[0-9]*: expected 203.0.113.99 unknown-recipient' "$TMP/wrong.out" \
	|| fail "--check did not name the wrong line: $(cat "$TMP/wrong.out")"

# ... and a wrong verdict: the line is recognised, never counted.
sed 's/^\(= 203\.0\.113\.90 protocol postfix-rate-limit\) ignored:weight/\1 offence/' \
	"$top_srcdir/patterns/postfix.fixtures" >"$TMP/verdict.fixtures"
grep -q '^= 203\.0\.113\.90 protocol postfix-rate-limit offence' "$TMP/verdict.fixtures" \
	|| fail "the rate-limit fixture line is gone: update this test"
if "$SPAMWRATHCTL" test --check -c "$TMP/fixtures.conf" "$TMP/verdict.fixtures" >"$TMP/verdict.out"; then
	fail "--check accepted \"offence\" for a line the judge ignores"
fi
grep -q 'expected 203.0.113.90 protocol postfix-rate-limit offence, got .*ignored:weight' "$TMP/verdict.out" \
	|| fail "--check did not say why: $(cat "$TMP/verdict.out")"
