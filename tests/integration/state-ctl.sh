#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# spamwrathctl against a running daemon: status, list, ban, unban and
# reload work and their JSON is valid; someone outside the control group
# is refused; a dead daemon is exit status 3; clients that say nothing or
# send 10 MB do not stall the bans that come from the logs.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"
command -v jq >/dev/null || fail "jq is missing: apt-get install jq"
command -v socat >/dev/null || fail "socat is missing: apt-get install socat"
command -v setpriv >/dev/null || fail "setpriv (util-linux) is missing"

mkdir "$TMP/patterns"
cp "$top_srcdir/tests/data/patterns/sample.conf" "$TMP/patterns/"
write_file_conf <<CONF
patterns_dir = "$TMP/patterns"
CONF
start_daemon
line_unknown 203.0.113.1 >>"$log"
wait_banned "$SET4" 203.0.113.1

# status and list, in JSON and as text
ctl status --json >"$TMP/status" || fail "status failed"
jq -e '.bans == 1 and .sources[0].name == "maillog" and .active_bans["'"$SET4"'"] == 1' \
	"$TMP/status" >/dev/null || { cat "$TMP/status"; fail "status JSON is not what it should be"; }
ctl status >"$TMP/status.txt" || fail "status (text) failed"
grep -q "^bans: 1$" "$TMP/status.txt" || fail "status text lacks the ban count"
# a state without an error is "none", never printf's "(null)"
grep -q "^  error: none$" "$TMP/status.txt" || { cat "$TMP/status.txt"; fail "status text: state error"; }
grep -q "(null)" "$TMP/status.txt" && fail "status text prints (null)"
ctl list --json >"$TMP/list" || fail "list failed"
jq -e 'length == 1 and .[0].address == "203.0.113.1" and .[0].class == "unknown-recipient"
	and .[0].remaining > 3500' "$TMP/list" >/dev/null || { cat "$TMP/list"; fail "list JSON"; }
ctl list | grep -q "^203.0.113.1 " || fail "list text lacks the ban"

# ban by hand: into the set, through the judge; refusals say why
ctl ban 198.51.100.5 --for 2h --reason "filter end" >/dev/null || fail "ban failed"
in_set "$SET4" 198.51.100.5 || fail "a manual ban is not in the set"
t=$(set_timeout "$SET4" 198.51.100.5)
[ "$t" -gt 7100 ] && [ "$t" -le 7200 ] || fail "--for 2h gave a timeout of $t"
ctl list --json | jq -e '.[] | select(.address == "198.51.100.5") | .class == "manual"
	and .pattern == "filter end"' >/dev/null || fail "the manual ban is not listed as such"
set +e
ctl ban 192.0.2.25 2>"$TMP/err"; rc=$?
set -e
[ "$rc" = 1 ] && grep -q whitelist "$TMP/err" || fail "a whitelisted ban: status $rc, $(cat "$TMP/err")"
set +e
ctl ban 127.0.0.1 2>"$TMP/err"; rc=$?
ctl ban nonsense 2>/dev/null; rc2=$?
ctl frobnicate 2>/dev/null; rc3=$?
set -e
[ "$rc" = 1 ] && grep -q loopback "$TMP/err" || fail "a loopback ban: status $rc"
[ "$rc2" = 1 ] || fail "a bad address: status $rc2"
[ "$rc3" = 2 ] || fail "an unknown command: status $rc3, not 2"

# unban: out of the set and out of the state
ctl unban 198.51.100.5 >/dev/null || fail "unban failed"
in_set "$SET4" 198.51.100.5 && fail "an unbanned address is still in the set"
set +e
ctl unban 198.51.100.5 2>/dev/null; rc=$?
set -e
[ "$rc" = 1 ] || fail "unbanning twice: status $rc"

# reload: fine; then broken, reported to the caller, old patterns kept
ctl reload >/dev/null || fail "reload failed"
printf 'pattern broken {\n  class = "spam"\n  program = { "x" }\n  regex = "(?<addr>"\n}\n' \
	>"$TMP/patterns/zz-broken.conf"
set +e
ctl reload 2>"$TMP/err"; rc=$?
set -e
[ "$rc" = 1 ] || fail "a broken reload: status $rc"
grep -q "zz-broken.conf:4: pattern broken: regex does not compile" "$TMP/err" ||
	{ cat "$TMP/err"; fail "the reload error does not name FILE:LINE"; }
ctl status --json | jq -e '.last_reload.ok == false' >/dev/null || fail "status: last reload"
rm "$TMP/patterns/zz-broken.conf"
line_unknown 203.0.113.2 >>"$log"
wait_banned "$SET4" 203.0.113.2

# not root and not in the group: refused, with a message
set +e
setpriv --reuid=65534 --regid=65534 --clear-groups "$SPAMWRATHCTL" -s "$TMP/control.sock" \
	status 2>"$TMP/err"; rc=$?
set -e
[ "$rc" = 1 ] && grep -q "permission denied" "$TMP/err" ||
	fail "an outsider got status $rc: $(cat "$TMP/err")"

# a client that says nothing and one that sends 10 MB: bans go on
sleep 30 | socat - "UNIX-CONNECT:$TMP/control.sock" >/dev/null 2>&1 &
idle=$!
head -c 10000000 /dev/zero | socat -u - "UNIX-CONNECT:$TMP/control.sock" 2>/dev/null &
big=$!
at_exit "kill_child TERM $idle $big"
sleep 0.5
t0=$(date +%s%N)
line_unknown 203.0.113.3 >>"$log"
wait_banned "$SET4" 203.0.113.3 "$t0"
ctl status --json | jq -e '.bans == 4' >/dev/null || fail "status during the hostile clients"
kill_child TERM $idle $big

# the README's MIMEDefang subs, as they are written there, with
# MIMEDefang's md_syslog and $RelayAddr stood in for
command -v perl >/dev/null || fail "perl is missing"
awk '/^    sub spamwrath_ban /,/^    }$/' "$top_srcdir/README" >"$TMP/filter.pl"
awk '/^    use IO::Socket::UNIX;/,/^    }$/' "$top_srcdir/README" >>"$TMP/filter.pl"
grep -q 'sub spamwrath_ban_socket' "$TMP/filter.pl" && grep -q 'sub spamwrath_ban ' "$TMP/filter.pl" ||
	fail "the MIMEDefang subs are not in the README any more"
sed -i -e "s|/usr/local/bin/spamwrathctl'|$SPAMWRATHCTL', '-s', '$TMP/control.sock'|" \
	-e "s|/run/spamwrath/control.sock|$TMP/control.sock|" "$TMP/filter.pl"
cat >"$TMP/run.pl" <<PERL
use strict;
our \$RelayAddr;
sub md_syslog { print STDERR "md_syslog: \$_[1]\n"; }
require "$TMP/filter.pl";
\$RelayAddr = '198.51.100.61'; spamwrath_ban('SpamAssassin score 20');
\$RelayAddr = '198.51.100.62'; spamwrath_ban_socket('virus Eicar');
\$RelayAddr = '192.0.2.26'; spamwrath_ban_socket('whitelisted');
1;
PERL
echo '1;' >>"$TMP/filter.pl"
perl "$TMP/run.pl" 2>"$TMP/perl.err" || { cat "$TMP/perl.err"; fail "the README's subs do not run"; }
in_set "$SET4" 198.51.100.61 || fail "spamwrath_ban (README) did not ban"
in_set "$SET4" 198.51.100.62 || fail "spamwrath_ban_socket (README) did not ban"
in_set "$SET4" 192.0.2.26 && fail "the whitelisted address was banned"
grep -q "md_syslog: spamwrath: ban of 192.0.2.26: 409 refused: whitelist" "$TMP/perl.err" ||
	{ cat "$TMP/perl.err"; fail "the refusal did not reach md_syslog"; }
ctl list --json | jq -e '.[] | select(.address == "198.51.100.62") |
	.pattern == "mimedefang: virus Eicar"' >/dev/null || fail "the reason was not kept"

# no daemon: status 3
stop_daemon
set +e
ctl status 2>/dev/null; rc=$?
set -e
[ "$rc" = 3 ] || fail "an unreachable daemon: status $rc, not 3"
echo "state-ctl: ok"
