#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# spamwrathctl test shows its progress on a terminal (stderr), for files
# of 4 MiB and more, and ends with the file's line count and rate; it
# prints nothing of the kind when stderr is not a terminal, nor for a
# small file. The terminal is a real pty, from script(1).
. "$(dirname "$0")/../lib.sh"
command -v script >/dev/null || fail "script (bsdutils) is missing"

conf="$top_srcdir/tests/data/mixed/spamwrath.conf"
small="$top_srcdir/tests/data/mixed/mail.log"
big="$TMP/big.log"
i=0
while [ "$i" -lt 500 ]; do
	cat "$small"
	i=$((i + 1))
done >"$big"
[ "$(stat -c %s "$big")" -ge $((4 << 20)) ] || fail "the big log is smaller than 4 MiB"
lines=$(wc -l <"$big")

# On a terminal: the last line names the file, 100 %, the lines and a rate.
script -qec "'$SPAMWRATHCTL' test -c '$conf' '$big' >'$TMP/report'" /dev/null >"$TMP/tty" 2>&1 ||
	{ cat "$TMP/tty"; fail "spamwrathctl test failed under a terminal"; }
tr '\r' '\n' <"$TMP/tty" | grep -Eq "^(.\\[K)?$big: 100%, $lines lines in [0-9.]+ s, [0-9]+ lines/s\$" ||
	{ cat -v "$TMP/tty"; fail "no final progress line on the terminal"; }
if grep -q '100%, ' "$TMP/report"; then
	fail "the progress went to stdout"
fi
grep -q '^Time: ' "$TMP/report" || fail "the report is missing"

# Not a terminal: nothing on stderr.
"$SPAMWRATHCTL" test -c "$conf" "$big" >/dev/null 2>"$TMP/err" || fail "spamwrathctl test failed"
[ ! -s "$TMP/err" ] || { cat "$TMP/err"; fail "progress printed to a stderr that is no terminal"; }

# A small file on a terminal: nothing either.
script -qec "'$SPAMWRATHCTL' test -c '$conf' '$small' >/dev/null" /dev/null >"$TMP/tty2" 2>&1 ||
	fail "spamwrathctl test failed under a terminal"
if grep -q '100%, ' "$TMP/tty2"; then
	fail "a small file got a progress line"
fi
echo "progress on a terminal for a big file, nothing otherwise"
