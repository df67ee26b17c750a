#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A followed path that turns, while spamwrathd runs, into a FIFO, a
# directory or a symlink loop is said once each (issue 17, item 10), not
# silently ignored nor said every second; the daemon does not block on
# the FIFO, and a regular file at the path again is read from its start.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"

log="$TMP/mail.log"
write_file_conf </dev/null
start_daemon
line_unknown 203.0.113.1 >>"$log"
wait_banned "$SET4" 203.0.113.1

# becomes KIND MESSAGE: waits for MESSAGE, then two more seconds of the
# once-a-second checks must not repeat it
becomes() {
	wait_for 10 grep -q "$2" "$DAEMON_ERR" || fail "the $1 was not reported"
	sleep 2
	[ "$(grep -c "$2" "$DAEMON_ERR")" = 1 ] || fail "the $1 was reported more than once"
	daemon_alive || fail "spamwrathd died at the $1"
}

rm "$log"
mkfifo "$log"
becomes FIFO "mail.log is now a FIFO, which is not read"
ctl status >/dev/null || fail "the daemon does not answer with a FIFO at the path (blocked?)"
rm "$log"
mkdir "$log"
becomes directory "mail.log is now a directory, which is not read"
rmdir "$log"
ln -s "$log" "$log"
becomes "symlink loop" "mail.log cannot be followed now: Too many levels of symbolic links"
rm "$log"
line_unknown 203.0.113.2 >"$log"
wait_banned "$SET4" 203.0.113.2
# a FIFO again after a regular file: said again, once
rm "$log"
mkfifo "$log"
wait_for 10 sh -c "[ \$(grep -c 'is now a FIFO' '$DAEMON_ERR') = 2 ]" || fail "the second FIFO was not reported"
rm "$log"
stop_daemon
echo "daemon-filekinds: ok"
