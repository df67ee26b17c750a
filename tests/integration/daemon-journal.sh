#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A journal source on a directory of journal files written by
# systemd-journal-remote from export-format input: an offence bans the
# right address, reading goes on when a new journal file appears, entries
# already there at start are not read, and under trusted = yes an entry
# whose _SYSTEMD_UNIT is not the mail system's bans nobody.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"

remote=/usr/lib/systemd/systemd-journal-remote
[ -x "$remote" ] || remote=/lib/systemd/systemd-journal-remote
[ -x "$remote" ] || fail "systemd-journal-remote is missing: apt-get install systemd-journal-remote"

jdir="$TMP/journal"
mkdir "$jdir"
mono=1000000

# entry FILE UNIT IDENTIFIER MESSAGE [UID]: appends one entry (now) to FILE.
entry() {
	mono=$((mono + 1000))
	{
		printf '__REALTIME_TIMESTAMP=%s\n' "$(date +%s%6N)"
		printf '__MONOTONIC_TIMESTAMP=%s\n' "$mono"
		printf '_BOOT_ID=5f1c4a9e2b7d4c0e8a6b3d2f1e0c9b8a\n'
		printf '_HOSTNAME=mx\n'
		[ -n "$2" ] && printf '_SYSTEMD_UNIT=%s\n' "$2"
		printf '_UID=%s\n' "${5:-107}"
		printf 'SYSLOG_IDENTIFIER=%s\n' "$3"
		printf 'MESSAGE=%s\n\n' "$4"
	} | "$remote" -o "$jdir/$1" - 2>>"$TMP/remote.err" ||
		{ cat "$TMP/remote.err" >&2; fail "systemd-journal-remote failed"; }
}
unknown_msg() {
	echo "NOQUEUE: reject: RCPT from unknown[$1]: 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local recipient table; from=<spam@bulk.example> to=<nobody@example.org> proto=ESMTP helo=<bulk>"
}

# There before the start: not read (the journal is followed from its tail).
entry remote-a.journal postfix@-.service postfix/smtpd "$(unknown_msg 198.51.100.99)"

write_conf <<CONF
source journal {
    journal = { "_SYSTEMD_UNIT=postfix@-.service", "SYSLOG_IDENTIFIER=postfix/smtpd" }
    journal_dir = "$jdir"
}
CONF
start_daemon

t0=$(date +%s%N)
entry remote-a.journal postfix@-.service postfix/smtpd "$(unknown_msg 203.0.113.20)"
wait_banned "$SET4" 203.0.113.20 "$t0"
timeout=$(set_timeout "$SET4" 203.0.113.20)
[ "$timeout" -ge 3590 ] && [ "$timeout" -le 3600 ] || fail "timeout $timeout is not about 3600"

# Forged: any local user can log this with `logger -t postfix/smtpd`; the
# trusted unit says it did not come from Postfix.
entry remote-a.journal session-7.scope postfix/smtpd "$(unknown_msg 203.0.113.66)" 1000
# No unit and a user that is not the mail system's: forged too.
entry remote-a.journal "" postfix/smtpd "$(unknown_msg 203.0.113.67)" 1000
# A new journal file (rotation): still followed.
t0=$(date +%s%N)
entry remote-b.journal postfix@-.service postfix/smtpd "$(unknown_msg 203.0.113.21)"
wait_banned "$SET4" 203.0.113.21 "$t0"
for a in 198.51.100.99 203.0.113.66 203.0.113.67; do
	in_set "$SET4" "$a" && fail "$a was banned"
done
grep -q "ignoring journal entries from session-7.scope" "$DAEMON_ERR" ||
	fail "the forged entry was not reported"
[ "$(grep -c 'ignoring journal entries' "$DAEMON_ERR")" = 1 ] ||
	fail "forged entries were logged more than once"

# An entry without a unit from root (uid 0) counts.
entry remote-b.journal "" postfix/smtpd "$(unknown_msg 203.0.113.22)" 0
wait_banned "$SET4" 203.0.113.22

# Old files vacuumed away while running: reading goes on.
rm -f "$jdir/remote-a.journal"
entry remote-c.journal postfix@-.service postfix/smtpd "$(unknown_msg 203.0.113.23)"
wait_banned "$SET4" 203.0.113.23

daemon_alive || fail "spamwrathd died"
stop_daemon
grep "error" "$DAEMON_ERR" && fail "spamwrathd logged an error"
echo "daemon-journal: ok"
