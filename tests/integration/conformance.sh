#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Conformance with fail2ban's own annotated sample logs: replays postfix,
# sendmail-reject, sendmail-auth, exim and exim-spam with every class
# enabled and compares each event with the "# failJSON:" annotation of its
# line (tests/tools/f2bcheck.c says how). The logs are GPL data kept
# outside the repository (../shared/conformance beside the source tree in
# CI); without them the test is skipped, with them it must pass.
. "$(dirname "$0")/../lib.sh"

logs=""
for d in "$top_srcdir/../shared/conformance" /work/shared/conformance; do
	if [ -d "$d/fail2ban-logs" ]; then
		logs="$d/fail2ban-logs"
		break
	fi
done
[ -n "$logs" ] || skip "no fail2ban sample logs in $top_srcdir/../shared/conformance"

# Every class enabled, no score threshold, no whitelist: the most
# inclusive setting, like fail2ban's "aggressive" mode.
{
	echo "patterns_dir = \"$top_srcdir/patterns\""
	echo "ignore_self = no"
	for c in unknown-recipient unknown-sender spamtrap spam virus relay helo dnsbl auth protocol; do
		echo "class $c { enabled = yes }"
	done
} >"$TMP/conformance.conf"

bad=0
for name in postfix sendmail-reject sendmail-auth exim exim-spam; do
	log="$logs/$name"
	[ -f "$log" ] || fail "$log is missing"
	args=""
	case $name in exim*) args="--program exim" ;; esac
	# shellcheck disable=SC2086
	"$SPAMWRATHCTL" test -c "$TMP/conformance.conf" --json $args "$log" >"$TMP/$name.json" \
		|| fail "$name: spamwrathctl test exited with $?"
	"$top_builddir/tests/tools/f2bcheck" "$name" "$log" "$TMP/$name.json" || bad=$((bad + 1))
done
[ "$bad" = 0 ] || fail "$bad of 5 fail2ban logs below 95 % or with a wrong address"
