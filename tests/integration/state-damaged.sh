#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Damaged state: a torn last record or a file of garbage; spamwrathd
# starts anyway, keeps every good record and says what it dropped. A
# state directory that cannot be written stops it at start.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"

write_file_conf </dev/null
start_daemon
for a in 203.0.113.1 203.0.113.2 203.0.113.3; do
	line_unknown "$a" >>"$log"
	wait_banned "$SET4" "$a"
done
stop_daemon
state="$TMP/state/spamwrath.state"
[ -s "$state" ] || fail "no state file"

# a torn last record: cut the file in the middle of its last line
size=$(stat -c %s "$state")
truncate -s $((size - 7)) "$state"
nsx ipset flush "$SET4"
start_daemon
grep -q "dropped a torn last record" "$DAEMON_ERR" ||
	fail "the torn record was not reported"
n=$(members "$SET4" | wc -l)
[ "$n" -ge 2 ] || fail "good records were lost with the torn one ($n bans back)"
stop_daemon

# garbage: start with nothing, but start
head -c 100000 /dev/urandom >"$state"
start_daemon
grep -q "record dropped" "$DAEMON_ERR" || fail "garbage in the state was not reported"
daemon_alive || fail "spamwrathd did not survive a garbage state"
line_unknown 203.0.113.9 >>"$log"
wait_banned "$SET4" 203.0.113.9
stop_daemon

# a state directory that cannot be written: an error at start, status 1
sed -i "s|^state_dir = .*|state_dir = \"$TMP/notadir/state\"|" "$TMP/sw.conf"
: >"$TMP/notadir"
start_refused "an unusable state directory"
grep -q "notadir/state" "$TMP/out" || fail "the message does not name the directory"
echo "state-damaged: ok"
