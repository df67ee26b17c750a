#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A journal source on a directory of journal files written by
# systemd-journal-remote from export-format input: an offence bans the
# right address, reading goes on when a new journal file appears, entries
# already there at start are not read, and under trusted = yes an entry
# whose _SYSTEMD_UNIT is not the mail system's bans nobody, nor does one
# of a mail unit written by a local user's process inside it (a .forward
# pipe runs in postfix@-.service as that user: issue 17, item 9), nor one
# of dovecot.service (it runs users' sieve scripts). Uid 107 stands for
# the postfix user (trusted_users), which this machine may not have.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"

. "$top_srcdir/tests/journal-lib.sh"

# There before the start: not read (the journal is followed from its tail).
entry remote-a.journal postfix@-.service postfix/smtpd "$(unknown_msg 198.51.100.99)"

write_conf <<CONF
source journal {
    journal = { "_SYSTEMD_UNIT=postfix@-.service", "SYSLOG_IDENTIFIER=postfix/smtpd" }
    journal_dir = "$jdir"
    trusted_users = { "107" }
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
# The mail unit, but a local user's uid: `logger` from a .forward pipe.
entry remote-a.journal postfix@-.service postfix/smtpd "$(unknown_msg 203.0.113.68)" 1000
# Dovecot is no longer taken for the mail system, even as root.
entry remote-a.journal dovecot.service postfix/smtpd "$(unknown_msg 203.0.113.69)" 0
# A new journal file (rotation): still followed.
t0=$(date +%s%N)
entry remote-b.journal postfix@-.service postfix/smtpd "$(unknown_msg 203.0.113.21)"
wait_banned "$SET4" 203.0.113.21 "$t0"
for a in 198.51.100.99 203.0.113.66 203.0.113.67 203.0.113.68 203.0.113.69; do
	in_set "$SET4" "$a" && fail "$a was banned"
done
grep -q "ignoring journal entries from session-7.scope" "$DAEMON_ERR" ||
	fail "the forged entry was not reported"
[ "$(grep -c 'ignoring journal entries' "$DAEMON_ERR")" = 1 ] ||
	fail "forged entries were logged more than once"

# An entry without a unit from root (uid 0) counts, as does one of the
# mail unit from root (Postfix's master).
entry remote-b.journal "" postfix/smtpd "$(unknown_msg 203.0.113.22)" 0
wait_banned "$SET4" 203.0.113.22
entry remote-b.journal postfix@-.service postfix/smtpd "$(unknown_msg 203.0.113.24)" 0
wait_banned "$SET4" 203.0.113.24
in_set "$SET4" 203.0.113.68 && fail "an entry of the mail unit by uid 1000 banned its address"

# Old files vacuumed away while running: reading goes on.
rm -f "$jdir/remote-a.journal"
entry remote-c.journal postfix@-.service postfix/smtpd "$(unknown_msg 203.0.113.23)"
wait_banned "$SET4" 203.0.113.23

daemon_alive || fail "spamwrathd died"
stop_daemon
grep "error" "$DAEMON_ERR" && fail "spamwrathd logged an error"
echo "daemon-journal: ok"
