#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The journal of a fleet: with a real systemd-journald (in a mount
# namespace of the test's own, over a private /run/systemd and /run/log),
# two hosts; a ban decided on mx1 is a ban entry on both, with
# SPAMWRATH_ORIGIN=mx1 (and SPAMWRATH_SOURCE=fleet on mx2), and mx2's unban
# of it is an unban entry on mx1 with SPAMWRATH_ORIGIN=mx2.
if [ -z "${SW_IN_MNTNS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "SKIP: needs root" >&2; exit 77; }
	exec unshare -m --propagation private env SW_IN_MNTNS=1 sh "$0" "$@"
fi
. "$(dirname "$0")/../lib.sh"
FLEET_LOG=auto
. "$top_srcdir/tests/fleet-lib.sh"

journald_up

start_redis
for h in mx1 mx2; do
	host_conf "$h" </dev/null
	start_host "$h"
	wait_for 10 grep -q "fleet: in step" "$TMP/$h/daemon.err" ||
		fail "$h did not join"
done

host_log mx1 "$(line_unknown 203.0.113.77)"
wait_in_set 5 mx2 203.0.113.77
# entry: PID FIELD=VALUE...: the export of the ban entries of 203.0.113.77 by that daemon
entry() {
	journalctl -D /run/log/journal --no-pager -o export SPAMWRATH_ADDRESS=203.0.113.77 \
		"MESSAGE_ID=$2" "_PID=$1"
}
ban_id=488ac9ebae594c768f2b90210a6927c3
for h in mx1 mx2; do
	wait_for 5 sh -c "journalctl -D /run/log/journal --no-pager -o export SPAMWRATH_ADDRESS=203.0.113.77 MESSAGE_ID=$ban_id _PID=$(host_pid $h) | grep -q SPAMWRATH_ORIGIN" ||
		fail "no journal entry of $h's ban"
	entry "$(host_pid $h)" "$ban_id" >"$TMP/$h.entry" || fail "journalctl failed"
done
for f in SPAMWRATH_ORIGIN=mx1 SPAMWRATH_SOURCE=maillog SPAMWRATH_CLASS=unknown-recipient; do
	grep -q "^$f$" "$TMP/mx1.entry" || { cat "$TMP/mx1.entry"; fail "mx1's ban entry lacks $f"; }
done
for f in SPAMWRATH_ORIGIN=mx1 SPAMWRATH_SOURCE=fleet SPAMWRATH_CLASS=unknown-recipient \
	SPAMWRATH_DURATION=3600; do
	grep -q "^$f$" "$TMP/mx2.entry" || { cat "$TMP/mx2.entry"; fail "mx2's ban entry lacks $f"; }
done

host_ctl mx2 unban 203.0.113.77 >/dev/null
wait_for 5 sh -c "! ip netns exec sw-$$-mx1 ipset test sw$$mx1a 203.0.113.77" ||
	fail "the unban did not reach mx1"
wait_for 5 sh -c "journalctl -D /run/log/journal --no-pager -o export SPAMWRATH_ADDRESS=203.0.113.77 _PID=$(host_pid mx1) SPAMWRATH_ORIGIN=mx2 | grep -q '^MESSAGE=unban'" ||
	{ journalctl -D /run/log/journal --no-pager SPAMWRATH_ADDRESS=203.0.113.77; fail "mx1's unban entry lacks SPAMWRATH_ORIGIN=mx2"; }
for h in mx1 mx2; do stop_host "$h"; done
exit 0
