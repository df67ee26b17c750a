#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `journalctl -o MODE | spamwrathctl test -`, as the README says, with the
# real journalctl: systemd-journal-remote writes a journal file of two
# Postfix rejects, journalctl prints it in each of its short output modes
# and in several zones (the reader in the same zone, as on one machine),
# and each print must give both bans at the entries' own times (the
# monotonic modes: 61 s apart, counted from this machine's boot).
. "$(dirname "$0")/../lib.sh"

remote=/usr/lib/systemd/systemd-journal-remote
[ -x "$remote" ] || remote=/lib/systemd/systemd-journal-remote
[ -x "$remote" ] || fail "systemd-journal-remote is missing: apt-get install systemd-journal-remote"

# entry N: a reject of 203.0.113.1N, 61.000250 s after the one before
entry() {
	printf '__REALTIME_TIMESTAMP=%s\n' $((1796579570123456 + $1 * 61000250))
	printf '__MONOTONIC_TIMESTAMP=%s\n' $((123456789 + $1 * 61000250))
	printf '_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=mx1\n'
	printf '_SYSTEMD_UNIT=postfix@-.service\n_UID=0\n_PID=%s\n' $((1233 + $1))
	printf 'SYSLOG_IDENTIFIER=postfix/smtpd\nPRIORITY=6\n'
	printf 'MESSAGE=NOQUEUE: reject: RCPT from unknown[203.0.113.1%s]: 550 5.1.1 <x@example.org>: Recipient address rejected: User unknown in local recipient table; from=<s@bulk.example> to=<x@example.org> proto=ESMTP helo=<bulk>\n\n' "$1"
}
{ entry 1; entry 2; } | "$remote" -o "$TMP/t.journal" - 2>"$TMP/remote.err" ||
	{ cat "$TMP/remote.err" >&2; fail "systemd-journal-remote failed"; }

n=0
for mode in short short-precise short-iso short-iso-precise short-full short-unix \
	short-monotonic short-delta; do
	for zone in UTC Europe/Berlin Asia/Kolkata America/Sao_Paulo; do
		TZ=$zone journalctl --file "$TMP/t.journal" --no-pager -o "$mode" >"$TMP/out" ||
			fail "journalctl -o $mode failed"
		[ "$(wc -l <"$TMP/out")" = 2 ] || { cat "$TMP/out"; fail "-o $mode: not two lines"; }
		TZ=$zone "$SPAMWRATHCTL" test --json -c "$top_srcdir/tests/data/replay.conf" - \
			<"$TMP/out" >"$TMP/got" 2>"$TMP/err" || { cat "$TMP/err"; fail "-o $mode: test failed"; }
		case $mode in
		short-monotonic | short-delta)
			want='[.[] | select(.event == "ban") | .address] == ["203.0.113.11", "203.0.113.12"]
				and ([.[] | select(.event == "ban") | .time | fromdate] | .[1] - .[0]) == 61' ;;
		*)
			want='[.[] | select(.event == "ban") | [.address, .time]] ==
				[["203.0.113.11", "2026-12-06T17:53:51Z"], ["203.0.113.12", "2026-12-06T17:54:52Z"]]' ;;
		esac
		jq -s -e "$want and (.[-1].unparsed == 0)" "$TMP/got" >/dev/null ||
			{ cat "$TMP/out" "$TMP/got"; fail "-o $mode in $zone: not both bans at their times"; }
		n=$((n + 1))
	done
done
echo "journalctl-modes: $n prints read right"
