# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the integration tests (sourced). Each test is a plain sh script
# run by automake's harness: exit 0 pass, 1 fail, 77 skip.
set -eu

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
SPAMWRATHCTL="$top_builddir/spamwrathctl"
SPAMWRATHD="$top_builddir/spamwrathd"
export TZ=UTC LC_ALL=C

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

# Tests that touch the kernel (namespaces, ipsets, iptables) need root;
# without it they skip, in CI (root) they always run.
need_root() {
	[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, ipset)"
}

# wait_for TIMEOUT_SECONDS COMMAND...: polls every 0.1 s until COMMAND
# succeeds. TIMEOUT is wall-clock time on a machine others load too: a
# limit says "it is broken", never "it is slow" (speed is bench/'s).
wait_for() {
	_limit=$(( $1 * 10 ))
	shift
	_i=0
	while ! "$@" >/dev/null 2>&1; do
		_i=$((_i + 1))
		[ "$_i" -ge "$_limit" ] && return 1
		sleep 0.1
	done
	return 0
}

# journald_up: a real systemd-journald over a private /run/systemd and
# /run/log, stopped at the end. Only for a test that runs in a mount
# namespace of its own: it executes itself again under `unshare -m` (with
# SW_IN_MNTNS=1) before it sources this file (see daemon-journald.sh).
journald_up() {
	[ -n "${SW_IN_MNTNS:-}" ] || fail "journald_up needs the test's own mount namespace"
	_jd=/lib/systemd/systemd-journald
	[ -x "$_jd" ] || fail "$_jd is missing (Debian package systemd)"
	mkdir -p /run/systemd /run/log
	mount -t tmpfs tmpfs /run/systemd
	mount -t tmpfs tmpfs /run/log
	"$_jd" 2>"$TMP/journald.err" &
	at_exit "kill_child TERM $!"
	wait_for 10 test -S /run/systemd/journal/socket || fail "systemd-journald did not start"
}

# --- the test's daemons, and what a failure prints about them ------------
# watch_daemon NAME PID ERRFILE: a daemon (a child of this shell) whose
# stderr is ERRFILE. Whatever makes the test fail (fail, a failed command
# under set -e, a signal), the exit prints for each watched daemon how it
# ended (still running, its exit status, or the signal that killed it)
# and its stderr. A NAME watched again is its newest process.
watched=""
watch_daemon() {
	case " $watched " in *" $1 "*) ;; *) watched="$watched $1" ;; esac
	eval "WATCH_PID_$1=\$2 WATCH_ERR_$1=\$3"
}

# reap PID: waits for the child PID and returns its status, which is kept
# for report_daemons (a shell can wait for a child only once).
reap() {
	_st=0
	wait "$1" || _st=$?
	eval "REAPED_$1=$_st"
	return "$_st"
}

# kill_child SIGNAL PID...: SIGNAL to each PID that is still a child of
# this shell, and to no other process. A child that ended was reaped (by
# wait, or by the shell while it waited for another command) and its pid
# goes to the next process to start: pid_max is 32768 here, which a busy
# machine wraps within minutes, so a plain kill of a remembered pid can
# hit an unrelated process, another test's daemon among them.
kill_child() {
	_sig=$1
	shift
	for _p in "$@"; do
		[ "$(awk '$1 == "PPid:" { print $2 }' "/proc/$_p/status" 2>/dev/null)" = "$$" ] &&
			kill -s "$_sig" "$_p" 2>/dev/null
	done
	return 0
}

# stop_child PID NAME: SIGTERM to the child PID, and its exit status must
# be 0 (a sanitizer's report is not).
stop_child() {
	kill_child TERM "$1"
	_st=0
	reap "$1" || _st=$?
	[ "$_st" = 0 ] || fail "$2 $(how_ended "$_st") after SIGTERM"
}

# alive PID: PID runs (a zombie, dead but not yet waited for, does not).
alive() {
	kill -0 "$1" 2>/dev/null && ! grep -qs '^State:[[:space:]]*Z' "/proc/$1/status"
}

# how_ended STATUS: a wait status in words.
how_ended() {
	if [ "$1" -gt 128 ] && _sig=$(kill -l "$(($1 - 128))" 2>/dev/null); then
		echo "was killed by SIG$_sig (status $1)"
	else
		echo "exited with status $1"
	fi
}

report_daemons() {
	for _n in $watched; do
		eval "_p=\$WATCH_PID_$_n _e=\$WATCH_ERR_$_n"
		eval "_r=\${REAPED_$_p:-}"
		if [ -n "$_r" ]; then
			_how=$(how_ended "$_r")
		elif alive "$_p"; then
			_how="is still running"
		else
			_r=0
			wait "$_p" 2>/dev/null || _r=$?
			# 127: not this shell's child (or waited for elsewhere)
			if [ "$_r" = 127 ]; then _how="has ended (its status is unknown)"; else _how=$(how_ended "$_r"); fi
		fi
		_lines=$(wc -l <"$_e" 2>/dev/null || echo 0)
		_cut=""
		[ "$_lines" -gt 200 ] && _cut=", the last 200 of $_lines lines"
		echo "--- $_n (pid $_p) $_how; its stderr ($_e$_cut):"
		tail -n 200 "$_e" 2>/dev/null | sed 's/^/    /'
	done >&2
}

# A private temporary directory, removed on exit. at_failure COMMAND: run
# at the exit of a failed test, before at_exit's, after report_daemons:
# more of what tells what went wrong.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/spamwrath-test.XXXXXX")
cleanup_hooks=""
failure_hooks=""
at_exit() { cleanup_hooks="$*; $cleanup_hooks"; }
at_failure() { failure_hooks="$failure_hooks { $*; } >&2 || true;"; }
trap '_rc=$?; case $_rc in 0|77) ;; *) report_daemons || true; eval "$failure_hooks" ;; esac
	eval "$cleanup_hooks"; rm -rf "$TMP"' EXIT
trap 'echo "FAIL: the test got SIGINT" >&2; exit 1' INT
trap 'echo "FAIL: the test got SIGTERM (a harness timeout?)" >&2; exit 1' TERM
