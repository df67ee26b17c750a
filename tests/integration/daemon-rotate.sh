#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A tailed file that is rotated by rename, copied and truncated, deleted
# and re-created, replaced by a symlink, or missing at start: no line is
# lost and none is counted twice. Counting uses auth failures (weight
# 0.2): five across a rotation must ban (none lost), four must not (none
# read twice).
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"

log="$TMP/mail.log"
write_conf <<CONF
source maillog { file = "$log" }
CONF
# Missing at start: one warning, then picked up when it appears.
start_daemon
grep -q "mail.log does not exist; waiting for it" "$DAEMON_ERR" ||
	fail "no warning about the missing file"
sleep 1.5	# a few safety polls: still one warning
[ "$(grep -c 'mail.log does not exist' "$DAEMON_ERR")" = 1 ] || fail "the missing file was warned about more than once"
line_unknown 203.0.113.1 >"$log"
wait_banned "$SET4" 203.0.113.1

# fill: benign lines so that a truncated file is shorter than what was read
filler() {
	i=0
	while [ $i -lt 40 ]; do line_benign 198.51.100.200; i=$((i + 1)); done
}

# auth N ADDRESS: N failed logins
auth() {
	i=0
	while [ $i -lt "$1" ]; do line_auth "$2"; i=$((i + 1)); done
}

# check FIVE FOUR SENTINEL: waits for the sentinel's ban (every line before
# it read), then FIVE must be banned and FOUR not.
check() {
	line_unknown "$3" >>"$log"
	wait_banned "$SET4" "$3"
	wait_banned "$SET4" "$1"
	in_set "$SET4" "$2" && fail "$4: $2 was banned: a line was read twice"
	echo "$4: ok"
}

# 1. rotation by rename (logrotate's default): 2 + 3 and 2 + 2.
{ filler; auth 2 198.51.100.11; auth 2 198.51.100.12; } >>"$log"
mv "$log" "$log.1"
{ auth 3 198.51.100.11; auth 2 198.51.100.12; } >>"$log"
check 198.51.100.11 198.51.100.12 203.0.113.2 "rename"

# 1b. the writer still writes to the renamed file for a moment after the
# new one exists (a syslog daemon before it reopens its files).
{ auth 2 198.51.100.13; auth 2 198.51.100.14; } >>"$log"
mv "$log" "$log.2"
auth 1 198.51.100.13 >"$log"
{ auth 2 198.51.100.13; auth 2 198.51.100.14; } >>"$log.2"
check 198.51.100.13 198.51.100.14 203.0.113.3 "rename, late writes to the old file"

# 2. copytruncate: copy, then truncate in place. What is written between
# the copy and the truncation is lost to any reader (logrotate says so):
# the sentinel makes sure that no line is written before the truncation
# that the daemon has not read yet, however slow the machine.
{ filler; auth 2 198.51.100.21; auth 2 198.51.100.22; line_unknown 203.0.113.40; } >>"$log"
wait_banned "$SET4" 203.0.113.40
cp "$log" "$log.3"
: >"$log"
{ auth 3 198.51.100.21; auth 2 198.51.100.22; } >>"$log"
check 198.51.100.21 198.51.100.22 203.0.113.4 "copytruncate"

# 3. delete and re-create.
{ auth 2 198.51.100.31; auth 2 198.51.100.32; } >>"$log"
rm -f "$log"
{ auth 3 198.51.100.31; auth 2 198.51.100.32; } >"$log"
check 198.51.100.31 198.51.100.32 203.0.113.5 "delete and re-create"

# 4. replaced by a symlink to a file elsewhere (written with its lines).
{ auth 2 198.51.100.41; auth 2 198.51.100.42; } >>"$log"
mkdir "$TMP/elsewhere"
{ auth 3 198.51.100.41; auth 2 198.51.100.42; } >"$TMP/elsewhere/mail.log"
ln -s "$TMP/elsewhere/mail.log" "$TMP/mail.log.new"
mv "$TMP/mail.log.new" "$log"
check 198.51.100.41 198.51.100.42 203.0.113.6 "symlink replacement"

daemon_alive || fail "spamwrathd died"
stop_daemon
grep "error" "$DAEMON_ERR" && fail "spamwrathd logged an error"
echo "daemon-rotate: ok"
