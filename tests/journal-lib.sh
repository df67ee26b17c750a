# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the tests that read a journal source (sourced after
# tests/lib.sh and tests/daemon-lib.sh): journal files written by
# systemd-journal-remote from export-format input into $jdir, one entry
# at a time.
remote=/usr/lib/systemd/systemd-journal-remote
[ -x "$remote" ] || remote=/lib/systemd/systemd-journal-remote
[ -x "$remote" ] || fail "systemd-journal-remote is missing: apt-get install systemd-journal-remote"

jdir="$TMP/journal"
mkdir "$jdir"
mono=1000000

# entry FILE UNIT IDENTIFIER MESSAGE [UID]: appends one entry (now) to FILE.
entry() {
	mono=$((mono + 1000))
	{
		printf '__REALTIME_TIMESTAMP=%s\n' "$(date +%s%6N)"
		printf '__MONOTONIC_TIMESTAMP=%s\n' "$mono"
		printf '_BOOT_ID=5f1c4a9e2b7d4c0e8a6b3d2f1e0c9b8a\n'
		printf '_HOSTNAME=mx\n'
		[ -n "$2" ] && printf '_SYSTEMD_UNIT=%s\n' "$2"
		printf '_UID=%s\n' "${5:-107}"
		printf 'SYSLOG_IDENTIFIER=%s\n' "$3"
		printf 'MESSAGE=%s\n\n' "$4"
	} | "$remote" -o "$jdir/$1" - 2>>"$TMP/remote.err" ||
		{ cat "$TMP/remote.err" >&2; fail "systemd-journal-remote failed"; }
}
unknown_msg() {
	echo "NOQUEUE: reject: RCPT from unknown[$1]: 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in local recipient table; from=<spam@bulk.example> to=<nobody@example.org> proto=ESMTP helo=<bulk>"
}

