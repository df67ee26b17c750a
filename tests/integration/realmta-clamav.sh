#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A real Postfix 3.7 with a real clamav-milter 1.4 (and clamd) as its
# milter, from Debian's packages, logging through Debian's rsyslog; an
# EICAR message from a client of its own under each of four clamav-milter
# settings, clamav-milter restarted between them:
#   1. Debian's debconf defaults (OnInfected Quarantine, LogInfected Off,
#      LogSyslog false): Postfix writes only "milter-hold: ... milter
#      triggers HOLD action", which names no virus;
#   2. OnInfected Reject without RejectMsg: "5.7.1 Command rejected";
#   3. OnInfected Reject, RejectMsg "Blocked by ClamAV - FOUND VIRUS: %v":
#      the reject names the virus;
#   4. Debian's defaults with LogInfected Full and LogSyslog on (facility
#      mail): clamav-milter's own "... infected by ..." line names the
#      queue id, the message is held;
#   5. both 3 and 4: two lines name the virus of one message.
# 3, 4 and 5 are the setups that make a verdict visible: there the client
# must be banned as virus after the line, and once (one message,
# one offence). 1 and 2 name no virus: a site whose only milter that holds
# or rejects so is clamav-milter says so (enable_patterns = {
# "postfix-milter-hold", "postfix-milter-rejected" }), and the test's
# daemon does: there they are banned as virus too; a second daemon with
# the shipped patterns as they are bans nobody for them. Nobody else may
# be banned. Then the log replayed offline must give the same bans, with
# either configuration. How the servers are fetched, unpacked and run
# without being installed: tests/realmta-lib.sh.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"
. "$top_srcdir/tests/realmta-lib.sh"

debs

postfix_host_up /usr/sbin/clamav-milter
postfix_up unix:/run/clamav/clamav-milter.ctl

# milter_up SETTING...: clamav-milter with Debian's debconf defaults
# (clamav-milter's postinst writes them), each SETTING ("Name value")
# in place of the default of that name; a running one is stopped first.
# It runs in the foreground (server_daemon in tests/realmta-lib.sh says
# why), and is up once its socket takes a connection.
MILTER_PID=""
milter_up() {
	if [ -n "$MILTER_PID" ]; then
		kill_child TERM "$MILTER_PID"
		reap "$MILTER_PID" || true
		in_server rm -f /run/clamav/clamav-milter.ctl /run/clamav/clamav-milter.pid
	fi
	set -- "Foreground true" "$@"
	_sed="-e s/^//"
	for _s in "$@"; do _sed="$_sed -e /^${_s%% *}[[:space:]]/d"; done
	{
		# shellcheck disable=SC2086
		sed $_sed <<'CONF'
MilterSocket /run/clamav/clamav-milter.ctl
FixStaleSocket true
MilterSocketMode 666
ReadTimeout 120
Foreground false
PidFile /run/clamav/clamav-milter.pid
TemporaryDirectory /tmp
ClamdSocket unix:/run/clamav/clamd.ctl
OnInfected Quarantine
OnFail Defer
AddHeader Replace
LogFile /var/log/clamav/clamav-milter.log
LogFileUnlock false
LogFileMaxSize 1M
LogTime true
LogSyslog false
LogFacility LOG_LOCAL6
LogVerbose false
LogInfected Off
LogClean Off
MaxFileSize 25M
SupportMultipleRecipients false
LogRotate true
CONF
		for _s in "$@"; do echo "$_s"; done
	} | in_server sh -c 'cat >/etc/clamav/clamav-milter.conf'
	server_daemon clamav_milter "$TMP/milter.err" clamav-milter --config-file=/etc/clamav/clamav-milter.conf
	MILTER_PID=$SERVER_PID
	wait_for 30 in_server socat -u OPEN:/dev/null UNIX-CONNECT:/run/clamav/clamav-milter.ctl ||
		fail "clamav-milter takes no connection on /run/clamav/clamav-milter.ctl"
}

# --- spamwrathd -------------------------------------------------------------
# The test's daemon has the site's opt-in (enable_patterns,
# spamwrath.conf(5)): clamav-milter is its only milter that holds or
# rejects without a reason, so Postfix's "milter triggers HOLD action" and
# "5.7.1 Command rejected" are viruses. A second daemon, "shipped", follows
# the same log with the shipped patterns as they are (its own sets, state
# and control socket): for those two messages it bans nobody.
write_conf <<CONF
patterns_dir = "$top_srcdir/patterns"
source maillog { file = "$MAILLOG" }
class spam { min_score = 15 }
enable_patterns = { "postfix-milter-hold", "postfix-milter-rejected" }
CONF
start_daemon
firewall_up
SHIPPED4="${SET4}s"
sed -e '/^enable_patterns/d' -e "s|\"$TMP/state\"|\"$TMP/shipped-state\"|" \
	-e "s|\"$TMP/control.sock\"|\"$TMP/shipped.sock\"|" \
	-e "s|\"$SET4\"|\"$SHIPPED4\"|" -e "s|\"$SET6\"|\"${SET6}s\"|" "$TMP/sw.conf" >"$TMP/shipped.conf"
grep -q enable_patterns "$TMP/shipped.conf" && fail "shipped.conf keeps the opt-in"
ip netns exec "$NS" env SPAMWRATH_LOG=stderr "$SPAMWRATHD" -c "$TMP/shipped.conf" 2>"$TMP/shipped.err" &
SHIPPED_PID=$!
at_exit "kill_child TERM $SHIPPED_PID"
watch_daemon spamwrathd_shipped $SHIPPED_PID "$TMP/shipped.err"
wait_for 20 grep -q "started" "$TMP/shipped.err" || fail "the second spamwrathd (shipped) did not start"

HOLD=203.0.113.30 REJ=203.0.113.31 REJMSG=203.0.113.32 LOGFULL=203.0.113.33 BOTH=203.0.113.34
LEGIT=203.0.113.10
client_addr $HOLD $REJ $REJMSG $LOGFULL $BOTH $LEGIT
virus() {
	# shellcheck disable=SC2046
	smtp "$1" $(sender) --to alice@example.org --attach @"$EICAR_FILE" --attach-name eicar.com || true
}

# 1. Debian's defaults: Postfix holds the message and says only "milter
# triggers HOLD action"
milter_up
virus $HOLD
offender $HOLD virus - "milter triggers HOLD action"
show_lines $HOLD

# 2. Reject, no RejectMsg: Postfix's own "5.7.1 Command rejected"
milter_up "OnInfected Reject"
virus $REJ
offender $REJ virus - "5.7.1 Command rejected"
show_lines $REJ

# 3. Reject, RejectMsg with the virus name
milter_up "OnInfected Reject" "RejectMsg Blocked by ClamAV - FOUND VIRUS: %v"
virus $REJMSG
offender $REJMSG virus - "FOUND VIRUS: Eicar"
show_lines $REJMSG

# 4. Debian's defaults, with LogInfected Full to syslog
milter_up "LogSyslog true" "LogFacility LOG_MAIL" "LogInfected Full"
virus $LOGFULL
offender $LOGFULL virus - "infected by Eicar"
show_lines $LOGFULL

# 5. both
milter_up "OnInfected Reject" "RejectMsg Blocked by ClamAV - FOUND VIRUS: %v" \
	"LogSyslog true" "LogFacility LOG_MAIL" "LogInfected Full"
virus $BOTH
offender $BOTH virus - "FOUND VIRUS: Eicar"
show_lines $BOTH

# a clean message still gets through, and its sender is innocent
# shellcheck disable=SC2046
accepted $LEGIT "a clean message is accepted" $(sender) --to bob@example.org --body "Lunch?"
innocent $LEGIT -
verdicts "$MAILLOG"
one_offence - $HOLD
one_offence - $REJ
one_offence - $REJMSG
one_offence - $LOGFULL
one_offence 5 $BOTH

# the shipped patterns: the same verdicts, but nobody for the HOLD and the
# reply-less reject (once the second daemon has read as far as the first)
wait_for 20 in_set "$SHIPPED4" $BOTH || check - "shipped: $BOTH banned (it read the whole log)" false
sed -e "s/^$HOLD virus /$HOLD none /" -e "s/^$REJ virus /$REJ none /" "$EXPECTED" >"$TMP/expected.shipped"
verdicts_of shipped "$TMP/shipped.conf" "$TMP/shipped.sock" "$TMP/expected.shipped" "$MAILLOG"
stop_child "$SHIPPED_PID" "spamwrathd (shipped)"

echo "--- clamav-milter's own log:"
in_server cat /var/log/clamav/clamav-milter.log | sed 's/^/    /'
the_end realmta-clamav
