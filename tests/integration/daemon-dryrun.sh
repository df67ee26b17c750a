#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# spamwrathd --dry-run as an unprivileged user: it reads the log, logs each
# would-be ban, and makes no ipset or nftables call (no set is created).
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
DAEMON_PID=$!
at_exit "kill $DAEMON_PID 2>/dev/null || true"
wait_for 20 grep -q "started in dry run" "$DAEMON_ERR" || { cat "$DAEMON_ERR" >&2; fail "no start"; }
line_unknown 203.0.113.40 >>"$log"
wait_for 20 grep -q "would ban 203.0.113.40 for 1h: unknown-recipient" "$DAEMON_ERR" ||
	{ cat "$DAEMON_ERR" >&2; fail "the would-be ban was not logged"; }
no_sets || fail "a dry run touched the kernel's sets"
stop_daemon
grep "error" "$DAEMON_ERR" && fail "spamwrathd logged an error"
echo "daemon-dryrun: ok"
