#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# spamwrathctl why: for a banned address, each offence that made the ban
# (time, source, file and line, pattern, class, weight, the log line
# itself), as text and as JSON; offences not (yet) a ban; the whitelist
# where it decided; a ban by hand as such; an IPv6 address by its /64; an
# address with nothing on record is exit status 1. The evidence of the
# bans survives a restart and a kill -9. From a journal source, an
# offence is named by its entry's time, by which journalctl finds it.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"
command -v jq >/dev/null || fail "jq is missing: apt-get install jq"

write_file_conf </dev/null
start_daemon
line_unknown 203.0.113.61 >>"$log"
line_auth 203.0.113.62 >>"$log"
line_auth 203.0.113.62 >>"$log"
line_unknown 192.0.2.9 >>"$log"
line_unknown 2001:db8:7::9 >>"$log"
wait_banned "$SET4" 203.0.113.61
wait_banned "$SET6" 2001:db8:7::
ctl ban 198.51.100.63 --reason "filter verdict" >/dev/null || fail "ban failed"

ctl why 203.0.113.61 >"$TMP/why" || { cat "$TMP/why"; fail "why of a banned address failed"; }
cat "$TMP/why"
grep -q '^203\.0\.113\.61: banned until .* left), unknown-recipient, pattern postfix-unknown-recipient$' "$TMP/why" ||
	fail "why does not say the ban"
grep -q "^  .*  maillog $log:1  postfix-unknown-recipient  unknown-recipient  weight 1\$" "$TMP/why" ||
	fail "why does not name the offence's file and line"
grep -q '^    postfix/smtpd: NOQUEUE: reject: RCPT from unknown\[203\.0\.113\.61\]: 550 5\.1\.1' "$TMP/why" ||
	fail "why does not show the log line"

ctl why 203.0.113.61 --json >"$TMP/why.json" || fail "why --json failed"
jq -e --arg log "$log" '.banned and .class == "unknown-recipient" and (.bans | length) == 1
	and .bans[0].origin == "log" and .bans[0].duration == 3600
	and (.bans[0].offences | length) == 1
	and .bans[0].offences[0].file == $log and .bans[0].offences[0].line == 1
	and .bans[0].offences[0].source == "maillog"
	and .bans[0].offences[0].pattern == "postfix-unknown-recipient"
	and (.bans[0].offences[0].text | test("RCPT from unknown\\[203.0.113.61\\]"))
	and .never_banned == null' "$TMP/why.json" >/dev/null ||
	{ cat "$TMP/why.json"; fail "why --json is not what it should be"; }

# Offences below the threshold: pending, not a ban.
ctl why 203.0.113.62 --json >"$TMP/p.json" || fail "why of a pending address failed"
jq -e '(.banned | not) and (.bans | length) == 0 and (.pending | length) == 2
	and .pending[1].class == "auth" and .pending[1].line == 3 and .offences_counting == 2' \
	"$TMP/p.json" >/dev/null || { cat "$TMP/p.json"; fail "the pending offences are not shown"; }
ctl why 203.0.113.62 | grep -q '^since then, not (yet) a ban:$' || fail "the text does not show them"

# The whitelist decided: said, and the line shown as ignored.
ctl why 192.0.2.9 --json >"$TMP/w.json" || fail "why of a whitelisted address failed"
jq -e '.never_banned == "whitelist" and .pending[0].ignored == "whitelist"' "$TMP/w.json" >/dev/null ||
	{ cat "$TMP/w.json"; fail "the whitelist is not named"; }
ctl why 192.0.2.9 | grep -q '^never banned here: whitelist' || fail "the text does not name the whitelist"

# By hand; IPv6 by its /64; nothing on record.
ctl why 198.51.100.63 --json | jq -e '.bans[0].origin == "manual" and .bans[0].class == "manual"
	and (.bans[0].offences | length) == 0' >/dev/null || fail "a ban by hand is not shown as such"
ctl why 2001:db8:7::1 --json | jq -e '.key == "2001:db8:7::/64" and .banned
	and (.bans[0].offences[0].text | test("2001:db8:7::9"))' >/dev/null ||
	fail "an IPv6 address is not answered by its /64"
set +e
ctl why 203.0.113.99 >"$TMP/none"; rc=$?
ctl why nonsense 2>/dev/null; rc2=$?
set -e
[ "$rc" = 1 ] && grep -q 'no ban and no offence on record' "$TMP/none" || fail "nothing on record: status $rc"
[ "$rc2" = 1 ] || fail "why of no address: status $rc2"
echo "why shows bans, offences, the whitelist"

# A restart, then a kill -9: the bans' evidence is still there.
stop_daemon
start_daemon
ctl why 203.0.113.61 --json | jq -e '.banned and (.bans[0].offences[0].text | test("203.0.113.61"))' \
	>/dev/null || fail "the evidence did not survive a restart"
line_unknown 203.0.113.64 >>"$log"
wait_banned "$SET4" 203.0.113.64
kill9_daemon
start_daemon
# (line 6: the file's own line number, across restarts)
ctl why 203.0.113.64 --json | jq -e '.banned and .bans[0].offences[0].line == 6
	and (.bans[0].offences[0].text | test("203.0.113.64"))' >/dev/null ||
	fail "the evidence did not survive a kill -9"
stop_daemon
echo "it survives a restart and a kill -9"

# A journal source: the offence's time leads journalctl to the entry.
. "$top_srcdir/tests/journal-lib.sh"
write_conf <<CONF
source journal {
    journal = { "_SYSTEMD_UNIT=postfix@-.service" }
    journal_dir = "$jdir"
    trusted_users = { "107" }
}
CONF
entry remote.journal postfix@-.service postfix/smtpd "$(unknown_msg 198.51.100.1)"
start_daemon
entry remote.journal postfix@-.service postfix/smtpd "$(unknown_msg 203.0.113.71)"
wait_banned "$SET4" 203.0.113.71
ctl why 203.0.113.71 --json >"$TMP/j.json" || fail "why of a journal ban failed"
at=$(jq -r '.bans[0].offences[0].journal_time' "$TMP/j.json")
case $at in @[0-9]*.[0-9][0-9][0-9][0-9][0-9][0-9]) ;; *) cat "$TMP/j.json"; fail "no journal time" ;; esac
jq -e '.bans[0].offences[0].source == "journal" and (.bans[0].offences[0] | has("file") | not)
	and (.bans[0].offences[0].text | test("^postfix/smtpd: NOQUEUE: reject: RCPT from unknown\\[203.0.113.71\\]"))' \
	"$TMP/j.json" >/dev/null || { cat "$TMP/j.json"; fail "the journal offence is not as documented"; }
sec=${at#@}
sec=${sec%.*}
journalctl --directory="$jdir" --since="@$sec" --until="@$((sec + 1))" -o cat |
	grep -q 'RCPT from unknown\[203\.0\.113\.71\]' || fail "journalctl does not find the entry at $at"
ctl why 203.0.113.71 | grep -q "  journal entry $at  " || fail "the text does not show the entry's time"
stop_daemon
echo "a journal offence is named by its time"
