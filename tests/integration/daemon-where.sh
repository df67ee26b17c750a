#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A ban says where its line is, as the file's own line number and the
# file's name (sed -n Np FILE finds it): at a first start from the end of
# a file that holds lines already, after a restart from the saved
# position, in the file that a rotation renamed away, in the new file,
# and after a copytruncate; a file opened far into it (the lines before
# are not counted) says from which byte its lines are counted.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"

log="$TMP/mail.log"
for i in $(seq 1 210); do line_benign 198.51.100.9; done >"$log"
write_conf <<CONF
source maillog { file = "$log" }
CONF
start_daemon

# banned_at ADDRESS WHERE: the ban message of ADDRESS names WHERE, and
# when WHERE is "line N of FILE", that line of FILE is ADDRESS's
banned_at() {
	wait_banned "$SET4" "$1"
	wait_for 10 grep -q "ban $1 for .*, source maillog, $2)" "$DAEMON_ERR" ||
		{ grep "ban $1 " "$DAEMON_ERR" >&2; fail "the ban of $1 does not say \"$2\""; }
	case $2 in
	*" before its rotation" | *" from byte "*) ;;	# checked by the caller
	"line "*" of "*)
		_n=${2#line } _n=${_n%% *} _f=${2#line * of }
		sed -n "${_n}p" "$_f" | grep -q "unknown\[$1\]" || fail "line $_n of $_f is not $1's"
		;;
	esac
}

line_unknown 203.0.113.1 >>"$log"
banned_at 203.0.113.1 "line 211 of $log"

# a restart: from the saved position, the lines before counted again
stop_daemon
line_benign 198.51.100.9 >>"$log"
line_unknown 203.0.113.2 >>"$log"
start_daemon
banned_at 203.0.113.2 "line 213 of $log"

# rotation by rename: a line still written to the old file, then the new one
mv "$log" "$log.1"
line_benign 198.51.100.9 >"$log"
line_unknown 203.0.113.3 >>"$log"
banned_at 203.0.113.3 "line 2 of $log"
line_unknown 203.0.113.4 >>"$log.1"
banned_at 203.0.113.4 "line 214 of $log before its rotation"
sed -n 214p "$log.1" | grep -q "unknown\[203.0.113.4\]" || fail "line 214 of the rotated file is not .4's"

# copytruncate: counted from 1 again
for i in 1 2 3; do line_benign 198.51.100.9; done >>"$log"
line_unknown 203.0.113.5 >>"$log"
banned_at 203.0.113.5 "line 6 of $log"
: >"$log"
sleep 1.5	# the safety poll sees the truncation
line_benign 198.51.100.9 >>"$log"
line_unknown 203.0.113.6 >>"$log"
banned_at 203.0.113.6 "line 2 of $log"
stop_daemon

# far into a big file: counted from where reading began, which is said
big="$TMP/big.log"
head -c $((33 * 1024 * 1024)) /dev/zero | tr '\0' 'x' >"$big"
echo >>"$big"
size=$(wc -c <"$big")
write_conf <<CONF
source maillog { file = "$big" }
CONF
rm -rf "$TMP/state"	# a first start: from the end
start_daemon
line_benign 198.51.100.9 >>"$big"
line_unknown 203.0.113.7 >>"$big"
banned_at 203.0.113.7 "line 2 of $big from byte $size"
tail -c "+$((size + 1))" "$big" | sed -n 2p | grep -q "unknown\[203.0.113.7\]" ||
	fail "line 2 from byte $size is not .7's"
stop_daemon
echo "daemon-where: ok"
