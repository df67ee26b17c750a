#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# 100,000 bans in the state: after a reboot (empty sets) they all go back
# into the sets at start; after a restart (full sets) none is added
# again. The benchmarks time this; here only the outcome counts.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"

mkstate="$top_builddir/tests/tools/mkstate"
[ -x "$mkstate" ] || fail "$mkstate is not built"
write_conf <<CONF
source maillog { file = "$TMP/mail.log" }
ipset {
    maxelem = 262144
}
CONF
: >"$TMP/mail.log"
"$mkstate" "$TMP/state" 100000 86400 || fail "mkstate failed"
start_daemon
grep -q "100000 bans in force (100000 put back into the sets, 0 were there)" "$DAEMON_ERR" ||
	fail "not every ban went back"
n4=$(members "$SET4" | wc -l)
n6=$(members "$SET6" | wc -l)
[ "$n4" = 87500 ] && [ "$n6" = 12500 ] || fail "the sets hold $n4 + $n6 members, not 87500 + 12500"
stop_daemon
start_daemon
grep -q "100000 bans in force (0 put back into the sets, 100000 were there)" "$DAEMON_ERR" ||
	fail "a restart added bans again"
stop_daemon
echo "state-restore: ok"
