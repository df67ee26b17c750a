#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# spamwrathd with a real systemd-journald (run in a mount namespace of the
# test's own, over a private /run/systemd and /run/log): a journal source
# on the live system journal bans an offender logged by root and nobody
# logged by an unprivileged user (a forgery under trusted = yes); every
# ban is a structured entry that `journalctl SPAMWRATH_ADDRESS=...` finds
# with its MESSAGE_ID and fields, and names its entry by a time that
# journalctl --since/--until take; after a restart the source resumes at
# its saved cursor and judges what was logged meanwhile.
if [ -z "${SW_IN_MNTNS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root" >&2; exit 77; }
	exec unshare -m --propagation private env SW_IN_MNTNS=1 sh "$0" "$@"
fi
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"

journald_up

# jlog [setpriv args] ADDRESS: a Postfix reject into the journal, as root
# or as someone else
jlog() {
	_who=""
	if [ "$1" = "--nobody" ]; then _who="setpriv --reuid=65534 --regid=65534 --clear-groups"; shift; fi
	printf 'MESSAGE=NOQUEUE: reject: RCPT from unknown[%s]: 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local recipient table; from=<s@bulk.example> to=<nobody@example.org> proto=ESMTP helo=<bulk>\nSYSLOG_IDENTIFIER=postfix/smtpd\nPRIORITY=6\n' "$1" |
		$_who logger --journald
}

write_conf <<CONF
source journal { journal = { "SYSLOG_IDENTIFIER=postfix/smtpd" } }
CONF
: >"$DAEMON_ERR"
ip netns exec "$NS" "$SPAMWRATHD" -c "$TMP/sw.conf" 2>>"$DAEMON_ERR" &
daemon_started $!
wait_for 20 grep -q "started" "$DAEMON_ERR" || fail "spamwrathd did not start"

# two entries at once, before the first is read: no entry matched at the
# start, and both are new (from the tail, sd_journal_next() would step
# back to the last one)
jlog 203.0.113.10
jlog 203.0.113.14
wait_banned "$SET4" 203.0.113.10
wait_banned "$SET4" 203.0.113.14
jlog --nobody 203.0.113.11
jlog 203.0.113.12
wait_banned "$SET4" 203.0.113.12
in_set "$SET4" 203.0.113.11 && fail "an entry logged by nobody (a forgery) banned its address"
# the ban names its entry by time, which journalctl --since/--until take
at=$(sed -n 's/.*ban 203\.0\.113\.10 for .*, source journal, journal entry @\([0-9.]*\)).*/\1/p' \
	"$DAEMON_ERR" | head -n 1)
[ -n "$at" ] || { cat "$DAEMON_ERR"; fail "the ban of 203.0.113.10 names no journal entry"; }
journalctl -D /run/log/journal --no-pager -o cat --since "@$at" --until "@$at" >"$TMP/at"
[ "$(wc -l <"$TMP/at")" = 1 ] && grep -q 'unknown\[203.0.113.10\]' "$TMP/at" ||
	{ cat "$TMP/at"; fail "journalctl --since/--until @$at does not show the entry alone"; }
journalctl -D /run/log/journal --no-pager -o export _UID=65534 | grep -q 'unknown\[203.0.113.11\]' ||
	fail "the forged entry is not in the journal: the test proves nothing"
grep -q "ignoring journal entries" "$DAEMON_ERR" || fail "the forgery was not reported"

# the ban, as the journal has it
journalctl -D /run/log/journal --no-pager -o export SPAMWRATH_ADDRESS=203.0.113.10 >"$TMP/entry"
grep -q '^MESSAGE_ID=488ac9ebae594c768f2b90210a6927c3$' "$TMP/entry" ||
	{ cat "$TMP/entry"; fail "no ban entry with the ban MESSAGE_ID"; }
for f in SPAMWRATH_CLASS=unknown-recipient SPAMWRATH_PATTERN=postfix-unknown-recipient \
	SPAMWRATH_DURATION=3600 SPAMWRATH_SOURCE=journal SYSLOG_IDENTIFIER=spamwrathd; do
	grep -q "^$f$" "$TMP/entry" || { cat "$TMP/entry"; fail "the ban entry lacks $f"; }
done
journalctl -D /run/log/journal --no-pager -o export MESSAGE_ID=9179b311ca964629865b9c44a4bab5c5 |
	grep -q '^MESSAGE=started' || fail "no start entry"

# stopped: what is logged meanwhile is read from the saved cursor
stop_daemon
jlog 203.0.113.13
ip netns exec "$NS" "$SPAMWRATHD" -c "$TMP/sw.conf" 2>>"$DAEMON_ERR" &
daemon_started $!
wait_banned "$SET4" 203.0.113.13
stop_daemon
echo "daemon-journald: ok"
