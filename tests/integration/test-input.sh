#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# What `spamwrathctl test` reads: a gzip-compressed log (a file, several
# gzip members one after the other, standard input) gives exactly what the
# plain log gives; a truncated gzip file gives the lines before the cut and
# an error; xz, bzip2, zstd, a journal file and other binary data are
# refused with what they are and how to read them, and nothing is read. A
# file whose lines mostly have no header says so, with the fix.
. "$(dirname "$0")/../lib.sh"

conf="$top_srcdir/tests/data/replay.conf"
cp "$top_srcdir/tests/replay/basic.log" "$TMP/mail.log"
run() {	# run NAME ARGS...: exit status in $TMP/NAME.rc, JSON events without timings
	_name=$1
	shift
	_rc=0
	"$SPAMWRATHCTL" test --json --year 2026 -c "$conf" "$@" >"$TMP/$_name.out" 2>"$TMP/$_name.err" || _rc=$?
	echo "$_rc" >"$TMP/$_name.rc"
	sed -e 's/,"seconds":[0-9.e-]*}/}/' -e 's|"file":"[^"]*"|"file":"F"|' "$TMP/$_name.out" >"$TMP/$_name.got"
}
run plain "$TMP/mail.log"
[ "$(cat "$TMP/plain.rc")" = 0 ] || fail "the plain log: exit $(cat "$TMP/plain.rc")"
grep -q '"event":"ban"' "$TMP/plain.got" || fail "the plain log bans nobody: the test proves nothing"

gzip -c "$TMP/mail.log" >"$TMP/mail.log.2.gz"
run gz "$TMP/mail.log.2.gz"
[ "$(cat "$TMP/gz.rc")" = 0 ] && cmp -s "$TMP/plain.got" "$TMP/gz.got" ||
	{ cat "$TMP/gz.err"; diff "$TMP/plain.got" "$TMP/gz.got"; fail "a gzip file reads otherwise than its text"; }
run stdin - <"$TMP/mail.log.2.gz"
cmp -s "$TMP/plain.got" "$TMP/stdin.got" || fail "gzip on standard input reads otherwise"

# two members (gzip -c a b, or logs concatenated): both halves, in order
half=$(($(wc -l <"$TMP/mail.log") / 2))
{ head -n "$half" "$TMP/mail.log" | gzip -c; tail -n "+$((half + 1))" "$TMP/mail.log" | gzip -c; } >"$TMP/two.gz"
run two "$TMP/two.gz"
cmp -s "$TMP/plain.got" "$TMP/two.got" || { diff "$TMP/plain.got" "$TMP/two.got"; fail "a two-member gzip file"; }

# cut inside the data: an error, exit 1, the lines before it still read
size=$(wc -c <"$TMP/mail.log.2.gz")
head -c $((size - 12)) "$TMP/mail.log.2.gz" >"$TMP/cut.gz"
run cut "$TMP/cut.gz"
[ "$(cat "$TMP/cut.rc")" = 1 ] && grep -q "cut.gz: the gzip data ends early" "$TMP/cut.err" ||
	{ cat "$TMP/cut.err"; fail "a truncated gzip file: exit $(cat "$TMP/cut.rc")"; }
jq -s -e '.[-1].lines > 0' "$TMP/cut.got" >/dev/null || fail "a truncated gzip file lost the lines before the cut"

# refused: exit 1, what it is and what reads it, not one line read
refused() {	# refused NAME WORDS
	run "$1" "$TMP/$1"
	[ "$(cat "$TMP/$1.rc")" = 1 ] || fail "$1: exit $(cat "$TMP/$1.rc"), not 1"
	grep -q "$1: $2" "$TMP/$1.err" || { cat "$TMP/$1.err"; fail "$1: the error does not say \"$2\""; }
	jq -s -e '.[-1].lines == 0' "$TMP/$1.got" >/dev/null || fail "$1: lines were read"
}
printf '\375\067zXZ\000\000\004\346\326\264F' >"$TMP/log.xz"
refused log.xz "xz-compressed, not a text log: read it with xzcat"
printf 'BZh91AY&SY\001\002\003' >"$TMP/log.bz2"
refused log.bz2 "bzip2-compressed, not a text log: read it with bzcat"
printf '\050\265\057\375\044\000' >"$TMP/log.zst"
refused log.zst "zstd-compressed"
{ printf 'Nov 20 08:00:01 mx postfix/smtpd[100]: x\n'; head -c 100 /dev/zero; } >"$TMP/binary"
refused binary "binary data, not a text log (100 of its first 141 bytes are control characters)"
head -c 100 /dev/zero | gzip -c >"$TMP/binary.gz"
refused binary.gz "binary data inside gzip, not a text log"
# a stray NUL or two in hostile lines is still a log (tests/replay/hostile.log)
remote=/usr/lib/systemd/systemd-journal-remote
[ -x "$remote" ] || remote=/lib/systemd/systemd-journal-remote
[ -x "$remote" ] || fail "systemd-journal-remote is missing: apt-get install systemd-journal-remote"
printf '__REALTIME_TIMESTAMP=1796579570123456\nMESSAGE=x\n\n' | "$remote" -o "$TMP/system.journal" - 2>/dev/null ||
	fail "systemd-journal-remote failed"
refused system.journal "a systemd journal file, not a text log: read it with journalctl -o short-iso --file"

run hostile "$top_srcdir/tests/replay/hostile.log"
[ "$(cat "$TMP/hostile.rc")" = 0 ] || { cat "$TMP/hostile.err"; fail "hostile.log was refused"; }
# a line of text that starts like one of those formats is still a line
printf 'BZh91 is no bzip2 header\nPK\n' >"$TMP/textlike"
run textlike "$TMP/textlike"
[ "$(cat "$TMP/textlike.rc")" = 0 ] && jq -s -e '.[-1].lines == 2' "$TMP/textlike.got" >/dev/null ||
	fail "text that starts like BZh or PK was refused"
# an Exim mainlog without --program: most lines have no header, said once
# with the fix; with --program, and for a syslog file, nothing is said
grep -q "no syslog header" "$TMP/plain.err" && fail "a syslog file was said to have no headers"
run mainlog "$top_srcdir/tests/replay/exim.log"
[ "$(grep -c "no syslog header" "$TMP/mainlog.err")" = 1 ] &&
	grep -q "exim.log: 4 of its 5 lines have no syslog header, so no pattern can match them; they look like a log exim writes itself: give --program exim" \
		"$TMP/mainlog.err" || { cat "$TMP/mainlog.err"; fail "the mainlog without --program"; }
run mainlog2 --program exim "$top_srcdir/tests/replay/exim.log"
grep -q "no syslog header" "$TMP/mainlog2.err" && fail "said with --program exim too"
printf 'no header here\nnor here\n' >"$TMP/odd"
run odd "$TMP/odd"
grep -q "odd: 2 of its 2 lines have no syslog header spamwrath reads, so no pattern can match them; a log that a program writes itself (not through syslog) needs --program NAME" \
	"$TMP/odd.err" || { cat "$TMP/odd.err"; fail "a file of unknown lines"; }
echo "test-input: ok"
