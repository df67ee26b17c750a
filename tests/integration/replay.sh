#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Replays every tests/replay/NAME.log with `spamwrathctl test --json` and
# compares the events with NAME.expected. Optional NAME.args holds extra
# arguments, NAME.conf a configuration (default tests/data/replay.conf).
# SPAMWRATH_REGEN=1 rewrites the .expected files instead of comparing.
. "$(dirname "$0")/../lib.sh"

dir="$top_srcdir/tests/replay"
n=0
bad=0
for log in "$dir"/*.log; do
	name=$(basename "$log" .log)
	conf="$dir/$name.conf"
	[ -f "$conf" ] || conf="$top_srcdir/tests/data/replay.conf"
	args=""
	[ -f "$dir/$name.args" ] && args=$(cat "$dir/$name.args")
	# shellcheck disable=SC2086
	(cd "$dir" && "$SPAMWRATHCTL" test -c "$conf" --year 2026 --json $args "$name.log") \
		>"$TMP/$name.out" 2>"$TMP/$name.err" || {
		cat "$TMP/$name.err" >&2
		fail "$name: spamwrathctl test exited with $?"
	}
	sed -e 's/,"seconds":[0-9.e-]*}/}/' "$TMP/$name.out" >"$TMP/$name.got"
	if [ "${SPAMWRATH_REGEN:-}" = 1 ]; then
		cp "$TMP/$name.got" "$dir/$name.expected"
	elif ! diff -u "$dir/$name.expected" "$TMP/$name.got"; then
		echo "FAIL: $name" >&2
		bad=$((bad + 1))
	fi
	n=$((n + 1))
done
[ "$n" -gt 0 ] || fail "no replay cases in $dir"
echo "$n replay cases, $bad failed"
[ "$bad" = 0 ]
