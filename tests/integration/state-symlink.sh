#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A local user who owns the state directory cannot make spamwrathd (root)
# overwrite or create files elsewhere (issue 17, item 8). The test makes
# an unprivileged user, gives it the state directory and lets it plant
# symlinks there as the state and as the compaction's temporary file:
# spamwrathd refuses the directory and touches neither target. Given back
# to root with the symlinks still there, it refuses the planted state and
# leaves its target alone; with only the temporary one left, it starts,
# compacts (a damaged record forces it) and still creates nothing.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"
command -v useradd >/dev/null || skip "useradd (passwd) is not installed"

user="swu$$"
useradd -M -N -r -s /usr/sbin/nologin -d /nonexistent "$user" || fail "cannot create user $user"
at_exit "userdel $user 2>/dev/null || true"
uid=$(id -u "$user")
as_user() {
	setpriv --reuid="$uid" --regid=65534 --clear-groups "$@"
}

printf 'precious\n' >"$TMP/victim"
mkdir -m 0750 "$TMP/state"
chown "$user" "$TMP/state"
as_user ln -s "$TMP/victim" "$TMP/state/spamwrath.state" || fail "the user could not plant a symlink"
as_user ln -s "$TMP/created" "$TMP/state/spamwrath.state.tmp" || fail "the user could not plant a symlink"

write_file_conf </dev/null
# must_refuse PATTERN: spamwrathd exits with status 1 at once, saying PATTERN
must_refuse() {
	start_refused "$1"
	grep -q "$1" "$TMP/out" || fail "spamwrathd did not say: $1"
	[ "$(cat "$TMP/victim")" = precious ] || fail "the symlink's target was written"
	[ ! -e "$TMP/created" ] || fail "a file was created through the planted symlink"
}

must_refuse "refusing the state directory: it is owned by uid $uid"
chown root "$TMP/state"
chmod 0770 "$TMP/state"
must_refuse "refusing the state directory: it is writable by its group (mode 0770)"
chmod 0750 "$TMP/state"
must_refuse "cannot open spamwrath.state: .*a symlink"

rm "$TMP/state/spamwrath.state"
printf 'ban 203.0.113.5 1 2 spam damaged 1 *00000000\n' >"$TMP/state/spamwrath.state"
start_daemon
grep -q "record dropped: checksum mismatch" "$DAEMON_ERR" || fail "no compaction at start"
[ ! -e "$TMP/created" ] || fail "the compaction wrote through the planted symlink"
[ ! -L "$TMP/state/spamwrath.state.tmp" ] || fail "the planted symlink is still there"
[ -f "$TMP/state/spamwrath.state" ] && [ ! -L "$TMP/state/spamwrath.state" ] ||
	fail "the state is not a file of its own"
[ "$(cat "$TMP/victim")" = precious ] || fail "the victim was written"
stop_daemon
echo "state-symlink: ok"
