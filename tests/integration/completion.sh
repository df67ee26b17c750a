#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The bash completion of spamwrathctl (completion/spamwrathctl), run by a
# real bash as it runs at a prompt: commands, each command's options, files
# where a file goes, and for unban the addresses of the active bans, which
# it asks from a running spamwrathd through `spamwrathctl list`.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"
command -v bash >/dev/null || fail "bash is missing"

# comp WORD...: the completions bash offers for the last word (sorted, one
# line); COMP_WORDS[0] is this build's spamwrathctl.
comp() {
	bash -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_spamwrathctl
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " " | sed "s/ $//"
	' comp "$top_srcdir/completion/spamwrathctl" "$SPAMWRATHCTL" "$@"
}
expect() {	# EXPECTED WORD...
	want=$1; shift
	got=$(comp "$@")
	[ "$got" = "$want" ] || fail "completing \"$*\": got \"$got\", want \"$want\""
}

expect "--help --socket --version -s ban list metrics reload status test unban why" ""
expect "status" st
expect "list" -s /tmp/x.sock li
expect "--for --reason" ban 203.0.113.9 --
expect "--forget" unban --
expect "--json" list --
expect "--check --config --coverage" test --c
expect "12h" ban 203.0.113.9 --for 12
mkdir "$TMP/dir" && : >"$TMP/dir/mail.log"
expect "$TMP/dir/mail.log" test "$TMP/dir/m"
expect "$TMP/dir/mail.log" test -c "$TMP/dir/mail.log" --json "$TMP/dir/m"
expect "$TMP/dir" test -p "$TMP/di"
echo "commands, options and files complete"

# Addresses: those the daemon lists, for unban's one argument.
: >"$log"
write_conf <<CONF
source maillog { file = "$log" }
CONF
start_daemon
ctl ban 203.0.113.21 >/dev/null || fail "ban failed"
ctl ban 203.0.113.22 >/dev/null || fail "ban failed"
ctl ban 198.51.100.3 >/dev/null || fail "ban failed"
expect "203.0.113.21 203.0.113.22" -s "$TMP/control.sock" unban 203.
expect "198.51.100.3 203.0.113.21 203.0.113.22" -s "$TMP/control.sock" unban ""
expect "" -s "$TMP/control.sock" unban 203.0.113.21 ""
expect "203.0.113.21 203.0.113.22" -s "$TMP/control.sock" why 203.
# No daemon on that socket: nothing, and no error on the terminal.
expect "" -s "$TMP/none.sock" unban ""
stop_daemon
echo "unban and why complete the active bans"
