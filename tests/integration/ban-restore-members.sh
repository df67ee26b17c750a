#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 17.4: the restore at start checks membership, not a count. Bans
# deleted from the set by hand or by another tool and replaced by as many
# unrelated members are put back; the unrelated members stay; nothing
# present is added twice.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"

mkstate="$top_builddir/tests/tools/mkstate"
[ -x "$mkstate" ] || fail "$mkstate is not built"
write_file_conf </dev/null
"$mkstate" "$TMP/state" 1000 86400 || fail "mkstate failed"
start_daemon
grep -q "1000 bans in force (1000 put back into the sets, 0 were there)" "$DAEMON_ERR" ||
	{ cat "$DAEMON_ERR"; fail "not every ban went in"; }
stop_daemon
# 100 bans of set4 out, 100 strangers in: the count stays what it was.
set_members "$SET4" | head -n 100 >"$TMP/gone"
while read -r a; do set_del "$SET4" "$a"; done <"$TMP/gone"
i=0
while [ $i -lt 100 ]; do set_add "$SET4" "198.18.0.$i"; i=$((i + 1)); done
start_daemon
grep -q "1000 bans in force (100 put back into the sets, 900 were there)" "$DAEMON_ERR" ||
	{ cat "$DAEMON_ERR"; fail "the restore trusted a count"; }
while read -r a; do in_set "$SET4" "$a" || fail "$a was not put back"; done <"$TMP/gone"
in_set "$SET4" 198.18.0.99 || fail "a member that is not ours was removed"
[ "$(set_members "$SET4" | wc -l)" = 975 ] || fail "set4 does not hold 775 + 100 + 100"
stop_daemon
echo "ban-restore-members: ok"
