#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# spamwrath.service sets MemoryDenyWriteExecute=yes, under which PCRE2
# cannot compile JIT code. Under the same seccomp filter (mdwe_exec), the
# engine must fall back to the interpreter and decide exactly as with JIT:
# every replay case gives the same events, and spamwrathd -t passes.
. "$(dirname "$0")/../lib.sh"

MDWE="$top_builddir/tests/helpers/mdwe_exec"
[ -x "$MDWE" ] || fail "$MDWE was not built"
conf="$top_srcdir/tests/data/replay.conf"

"$MDWE" "$SPAMWRATHCTL" test -c "$conf" --year 2026 "$top_srcdir/tests/replay/basic.log" \
	>"$TMP/report" 2>&1 || { cat "$TMP/report"; fail "spamwrathctl test under mdwe_exec failed"; }
grep -q '(0 compiled to JIT code)' "$TMP/report" ||
	{ cat "$TMP/report"; fail "patterns were JIT-compiled under the filter: it does not bite"; }
"$SPAMWRATHCTL" test -c "$conf" --year 2026 "$top_srcdir/tests/replay/basic.log" >"$TMP/report.jit"
grep 'compiled to JIT code' "$TMP/report.jit"
if grep -q '(0 compiled to JIT code)' "$TMP/report.jit"; then
	echo "note: PCRE2 has no JIT on this machine; both runs use the interpreter"
fi

n=0
for log in "$top_srcdir"/tests/replay/*.log; do
	name=$(basename "$log" .log)
	c="$top_srcdir/tests/replay/$name.conf"
	[ -f "$c" ] || c=$conf
	args=""
	[ -f "$top_srcdir/tests/replay/$name.args" ] && args=$(cat "$top_srcdir/tests/replay/$name.args")
	# shellcheck disable=SC2086
	(cd "$top_srcdir/tests/replay" &&
		"$SPAMWRATHCTL" test -c "$c" --year 2026 --json $args "$name.log" >"$TMP/$name.jit" &&
		"$MDWE" "$SPAMWRATHCTL" test -c "$c" --year 2026 --json $args "$name.log" >"$TMP/$name.interp") ||
		fail "$name: spamwrathctl test failed"
	for f in jit interp; do
		sed -e 's/,"seconds":[0-9.e-]*}/}/' "$TMP/$name.$f" >"$TMP/$name.$f.cmp"
	done
	diff -u "$TMP/$name.jit.cmp" "$TMP/$name.interp.cmp" || fail "$name: the interpreter decided differently"
	[ -s "$TMP/$name.interp.cmp" ] || fail "$name: no events"
	n=$((n + 1))
done
[ "$n" -gt 0 ] || fail "no replay cases"
echo "$n replay cases decided the same with and without JIT"

"$MDWE" "$SPAMWRATHD" -t -c "$conf" || fail "spamwrathd -t under mdwe_exec failed"
printf 'patterns_dir = "%s/patterns"\n' "$top_srcdir" >"$TMP/default.conf"
"$MDWE" "$SPAMWRATHD" -t -c "$TMP/default.conf" || fail "the default patterns do not load under mdwe_exec"
