#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# spamwrathd --dry-run as an unprivileged user: it reads the log, logs each
# would-be ban, and makes no ipset or nftables call (no set is created).
# A log it may not read, as Postfix's maillog_file is created (root:root
# 0600), is an error that says who it is, what the file is and the
# remedies: at start it refuses to start; after a rotation it says so
# once, and reads the new file from its start once it may.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"

command -v setpriv >/dev/null || fail "setpriv (util-linux) is missing"
log="$TMP/mail.log"
: >"$log"
chmod 644 "$log"
write_conf <<CONF
source maillog { file = "$log" }
CONF
chmod 644 "$TMP/sw.conf"
: >"$DAEMON_ERR"
ip netns exec "$NS" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	env SPAMWRATH_LOG=stderr "$SPAMWRATHD" -n -c "$TMP/sw.conf" 2>>"$DAEMON_ERR" &
daemon_started $!
wait_for 20 grep -q "started in dry run" "$DAEMON_ERR" || fail "no start"
line_unknown 203.0.113.40 >>"$log"
wait_for 20 grep -q "would ban 203.0.113.40 for 1h: unknown-recipient" "$DAEMON_ERR" ||
	fail "the would-be ban was not logged"
no_sets || fail "a dry run touched the kernel's sets"
grep "error" "$DAEMON_ERR" && fail "spamwrathd logged an error"

# rotated, and the new file is root:root 0600
(umask 077 && line_unknown 203.0.113.41 >"$log.new")
mv "$log" "$log.1"
mv "$log.new" "$log"
remedy="source maillog: cannot open $log: Permission denied: spamwrathd runs as user nobody, and the file is uid 0, gid 0, mode 0600. Postfix's maillog_file is created root:root 0600; to read Postfix, unset maillog_file and follow the journal"
wait_for 20 grep -q "$remedy" "$DAEMON_ERR" || fail "no error with the remedies"
grep -q 'setfacl -m u:nobody:r '"$log"', after `postfix logrotate`' "$DAEMON_ERR" ||
	fail "the error does not give the setfacl remedy"
sleep 3	# the safety poll runs every second: still said once
[ "$(grep -c "cannot open" "$DAEMON_ERR")" = 1 ] || { cat "$DAEMON_ERR"; fail "said more than once"; }
chmod 644 "$log"
wait_for 20 grep -q "would ban 203.0.113.41" "$DAEMON_ERR" ||
	fail "the file was not read once it could be"
stop_daemon

# unreadable at start: no start, and the same remedies
chmod 600 "$log"
rc=0
ip netns exec "$NS" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	env SPAMWRATH_LOG=stderr "$SPAMWRATHD" -n -c "$TMP/sw.conf" 2>"$TMP/start.err" || rc=$?
[ "$rc" = 1 ] && grep -q "$remedy" "$TMP/start.err" || { cat "$TMP/start.err"; fail "start: exit $rc"; }
echo "daemon-dryrun: ok"
