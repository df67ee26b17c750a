# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the tests/integration/realmta-*.sh tests (sourced after
# tests/lib.sh and tests/daemon-lib.sh): real mail servers from Debian's
# packages, run without installing them, and real SMTP sessions against
# them from client namespaces.
#
# Where the servers come from: `apt-get download` fetches the packages
# (Debian's current versions: Postfix 3.7, Exim 4.96, MIMEDefang 3.3, ...)
# into a cache in the build tree (tests/debcache, or $SPAMWRATH_DEB_CACHE),
# and `dpkg -x` unpacks them there into one tree, root/, with every
# set-id bit stripped. Nothing is installed: no maintainer script runs, the
# machine's own MTA (if it has one) is neither replaced nor started. The
# libraries and Perl modules the servers load at run time are installed by
# the README's first apt-get line (never an MTA, nor a package that pulls
# one in). When the packages cannot be had (no archive reachable), the test
# skips and says so.
#
# How they run: the server namespace of daemon-lib.sh gets a mount
# namespace of its own (kept by an anchor process; in_server enters it),
# in which
#   /usr, /etc and /var are unions of root/usr, root/etc, root/var over
#     the machine's, with a writable layer in $TMP/mnt (mode 0700): the
#     servers' configuration, the users Debian's packages would create
#     (postfix, Debian-exim, ...), and the set-id modes their postinsts
#     give (exim4 is set-uid root, as it must be to deliver; set_mode),
#   /dev is a union too, so that a syslog daemon can make /dev/log,
#   /run is a fresh tmpfs, /var/log is $TMP/log.
# So every server finds its files where Debian puts them and runs with
# its compiled-in paths and Debian's own configuration files, while the
# machine sees none of it: the unions vanish with the namespace.
# spamwrathd runs in the same network namespace but outside that mount
# namespace, reading the logs under $TMP/log as any log reader would.
#
# Clients: namespace $OUT (the Internet: 203.0.113.0/24, 2001:db8:113::/64
# and 2001:db8:114::/64, one address per client) and $WL (192.0.2.0/24,
# whitelisted by write_conf), each joined to the server by a veth pair.
# The server's IPv6 address is in a /64 of its own: spamwrathd never bans
# a /64 that holds one of the host's addresses (ignore_self).
# SMTP sessions are Debian's swaks.

command -v iptables >/dev/null || fail "iptables is not installed"
command -v swaks >/dev/null || fail "swaks is not installed (the README's first apt-get line installs it)"
command -v dnsmasq >/dev/null || fail "dnsmasq is not installed (the README's first apt-get line installs it)"
command -v apt-get >/dev/null || skip "apt-get is missing: the Debian packages of the servers cannot be had"
command -v dpkg >/dev/null || skip "dpkg is missing: the Debian packages of the servers cannot be unpacked"
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
	skip "the kernel has no overlay file system"

DEB_CACHE=${SPAMWRATH_DEB_CACHE:-$top_builddir/tests/debcache}
DEB_ROOT=$DEB_CACHE/root

# SW_REALMTA_KEEP=DIR keeps the servers' logs, spamwrathd's and the
# replays' output in DIR/<test> (they are the record of what real servers
# write).
if [ -n "${SW_REALMTA_KEEP:-}" ]; then
	_keep="$SW_REALMTA_KEEP/$(basename "$0" .sh)"
	at_exit "mkdir -p '$_keep' && cp -r '$TMP/log' '$TMP'/*.json '$TMP'/*.conf '$TMP/daemon.err' '$_keep/' 2>/dev/null || true"
fi

# The packages of every realmta test. All are unpacked before the first
# test mounts the tree (an overlay's lower layer must not change while it
# is mounted, and the tests run side by side).
REALMTA_DEBS="postfix rsyslog mimedefang spamassassin clamav-daemon clamav-milter
	exim4-daemon-light exim4-base exim4-config rspamd amavisd-new"

# debs: fetches and unpacks $REALMTA_DEBS into $DEB_ROOT, once per cache
# (other tests may do the same at the same time: one at a time, under a
# lock). Skips when apt-get cannot download them.
debs() {
	# shellcheck disable=SC2086
	set -- $REALMTA_DEBS
	_rc=0
	mkdir -p "$DEB_CACHE/debs" "$DEB_CACHE/stamps" || fail "cannot create $DEB_CACHE"
	(
		flock 9
		_missing=""
		for _p in "$@"; do
			[ -e "$DEB_CACHE/stamps/$_p" ] || _missing="$_missing $_p"
		done
		[ -z "$_missing" ] && exit 0
		rm -rf "$DEB_CACHE/dl" && mkdir "$DEB_CACHE/dl"
		# apt's download sandbox user, where there is one, writes there
		chown _apt "$DEB_CACHE/dl" 2>/dev/null || true
		# shellcheck disable=SC2086
		if ! (cd "$DEB_CACHE/dl" && apt-get download $_missing) >"$DEB_CACHE/dl.log" 2>&1; then
			cat "$DEB_CACHE/dl.log" >&2
			exit 77
		fi
		for _d in "$DEB_CACHE"/dl/*.deb; do
			dpkg -x "$_d" "$DEB_ROOT" || exit 1
			mv "$_d" "$DEB_CACHE/debs/"
		done
		# run as root, never installed: no set-id program belongs in a build tree
		find "$DEB_ROOT" -perm /6000 -type f -exec chmod ug-s {} +
		for _p in $_missing; do : >"$DEB_CACHE/stamps/$_p"; done
	) 9>"$DEB_CACHE/lock" || _rc=$?
	[ "$_rc" = 77 ] && skip "apt-get download $* failed (no Debian archive reachable?): the real servers cannot be had"
	[ "$_rc" = 0 ] || fail "cannot unpack $* into $DEB_ROOT"
	ls "$DEB_CACHE"/debs/*.deb | sed 's|.*/||; s|\.deb$||; s|^|  using |'
}

# need_libs FILE...: every shared library the unpacked programs load must
# be on the machine (the README's first apt-get line installs them); run
# after server_up.
need_libs() {
	for _f in "$@"; do
		_miss=$(in_server ldd "$_f" 2>/dev/null | awk '/not found/ { print $1 }' | tr '\n' ' ')
		[ -z "$_miss" ] ||
			fail "$_f needs $_miss: run the README's first apt-get line"
	done
}

# --- the server's mount namespace ---------------------------------------

MNT="$TMP/mnt"
ANCHOR=""

# server_up: the server's mount namespace (see the top of this file),
# with an anchor process that keeps it while the test runs.
server_up() {
	mkdir -p "$MNT" "$TMP/log"
	chmod 700 "$MNT"
	for _d in usr etc var dev; do mkdir -p "$MNT/$_d.up" "$MNT/$_d.work"; done
	mkdir -p "$MNT/olddev"
	ip netns exec "$NS" unshare -m --propagation private sh -c '
		set -e
		R=$1 M=$2 L=$3
		mount -t overlay overlay -o lowerdir="$R/usr:/usr,upperdir=$M/usr.up,workdir=$M/usr.work" /usr
		mount -t overlay overlay -o lowerdir="$R/etc:/etc,upperdir=$M/etc.up,workdir=$M/etc.work" /etc
		mount -t overlay overlay -o lowerdir="$R/var:/var,upperdir=$M/var.up,workdir=$M/var.work" /var
		mount --bind "$L" /var/log
		mount --rbind /dev "$M/olddev"
		mount -t overlay overlay -o lowerdir=/dev,upperdir="$M/dev.up,workdir=$M/dev.work" /dev
		for d in pts shm; do mount --rbind "$M/olddev/$d" "/dev/$d"; done
		mount -t tmpfs -o mode=755 tmpfs /run
		echo up >"$M/anchor.up"
		exec sleep 100000' sh "$DEB_ROOT" "$MNT" "$TMP/log" 2>"$TMP/anchor.err" &
	ANCHOR=$!
	at_exit "server_down"
	wait_for 10 test -e "$MNT/anchor.up" || { cat "$TMP/anchor.err" >&2; fail "cannot set up the server's mount namespace"; }
}

# server_down: ends every process of the server's mount namespace (the
# servers daemonize: their pids are not ours to know), TERM then KILL.
server_down() {
	# (the anchor's pid, once it ended, may be another process's: see kill_child)
	[ "$(awk '$1 == "PPid:" { print $2 }' "/proc/$ANCHOR/status" 2>/dev/null)" = "$$" ] || return 0
	_ns=$(readlink "/proc/$ANCHOR/ns/mnt" 2>/dev/null) || return 0
	for _sig in TERM TERM KILL; do
		_left=""
		for _p in /proc/[0-9]*; do
			[ "$(readlink "$_p/ns/mnt" 2>/dev/null)" = "$_ns" ] && _left="$_left ${_p#/proc/}"
		done
		[ -z "$_left" ] && return 0
		# shellcheck disable=SC2086
		kill -s "$_sig" $_left 2>/dev/null || true
		sleep 0.5
	done
}

# in_server COMMAND...: runs COMMAND in the server's network and mount
# namespaces.
in_server() {
	nsenter -t "$ANCHOR" -m -n -- "$@"
}

# set_mode MODE OWNER FILE...: what a package's postinst (dpkg-statoverride)
# gives its set-id programs, in the server's /usr only.
set_mode() {
	_m=$1 _o=$2
	shift 2
	in_server chown "$_o" "$@" && in_server chmod "$_m" "$@" || fail "cannot set the mode of $*"
}

# add_user NAME UID [HOME]: a system user (and its group) in the server's
# /etc only, as a package's postinst would create it.
add_user() {
	_g=$1
	_gid=$2
	in_server sh -c "
		grep -q '^$_g:' /etc/group || echo '$_g:x:$_gid:' >>/etc/group
		grep -q '^$1:' /etc/passwd || echo '$1:x:$2:$_gid::${3:-/nonexistent}:/usr/sbin/nologin' >>/etc/passwd
		grep -q '^$1:' /etc/shadow || echo '$1:*:20000:0:99999:7:::' >>/etc/shadow"
}

# rsyslog_up: Debian's rsyslogd on /dev/log, mail.* to $MAILLOG in
# Debian 12's default file format (RFC 3339 time stamps), as Debian's
# /etc/rsyslog.conf says "mail.* -/var/log/mail.log".
MAILLOG="$TMP/log/mail.log"
rsyslog_up() {
	cat >"$TMP/rsyslog.conf" <<'EOF'
module(load="imuxsock" SysSock.RateLimit.Interval="0")
$FileCreateMode 0640
mail.*	-/var/log/mail.log
EOF
	: >"$MAILLOG"
	in_server /usr/sbin/rsyslogd -f "$TMP/rsyslog.conf" -i "$TMP/rsyslogd.pid" 2>"$TMP/rsyslogd.err" ||
		{ cat "$TMP/rsyslogd.err" >&2; fail "rsyslogd did not start"; }
	wait_for 10 in_server test -S /dev/log || fail "rsyslogd made no /dev/log"
}

# server_log FILE: the log the test's checks read ($SERVER_LOG); a failed
# test prints its end.
server_log() {
	SERVER_LOG=$1
	at_failure "echo '--- the last 60 lines of $1:'; tail -n 60 '$1' | sed 's/^/    /'"
}

# --- the network ----------------------------------------------------------

OUT="sw-$$-out"
WL="sw-$$-wl"
SRV4=203.0.113.1
SRV6=2001:db8:25::1
SRVWL=192.0.2.1

# net_up: the client namespaces and their veth pairs to the server. Client
# addresses are added by client_addr.
net_up() {
	for _c in "$OUT" "$WL"; do
		ip netns add "$_c" || fail "cannot create namespace $_c"
		at_exit "ip netns del $_c 2>/dev/null || true"
		ip -n "$_c" link set lo up
	done
	ip -n "$NS" link set lo up
	ip -n "$NS" link add so type veth peer name co netns "$OUT"
	ip -n "$NS" link add sw type veth peer name cw netns "$WL"
	ip -n "$NS" addr add "$SRV4/24" dev so
	ip -n "$NS" addr add "$SRV6/64" dev so nodad
	ip -n "$NS" addr add "$SRVWL/24" dev sw
	for _l in so sw; do ip -n "$NS" link set "$_l" up; done
	ip -n "$OUT" link set co up
	ip -n "$WL" link set cw up
	ip -n "$OUT" route add default dev co
	ip -n "$OUT" -6 route add default dev co
	ip -n "$WL" route add default dev cw
	ip -n "$NS" -6 route add 2001:db8:113::/64 dev so
	ip -n "$NS" -6 route add 2001:db8:114::/64 dev so
}

# client_addr ADDRESS...: more addresses of clients, in $OUT (or $WL for
# 192.0.2.x).
client_addr() {
	for _ca in "$@"; do
		case $_ca in
		192.0.2.*) ip -n "$WL" addr add "$_ca/24" dev cw ;;
		*:*) ip -n "$OUT" addr add "$_ca/64" dev co nodad ;;
		*) ip -n "$OUT" addr add "$_ca/24" dev co ;;
		esac
	done
}

# client_ns ADDRESS: the namespace that holds ADDRESS; server_for ADDRESS:
# the server address it talks to.
client_ns() {
	case $1 in 192.0.2.*) echo "$WL" ;; *) echo "$OUT" ;; esac
}
server_for() {
	case $1 in 192.0.2.*) echo "$SRVWL" ;; *:*) echo "$SRV6" ;; *) echo "$SRV4" ;; esac
}

# smtp FROM_ADDRESS SWAKS_ARGS...: one SMTP session from FROM_ADDRESS to
# the server, its transcript in $TMP/smtp.out; swaks's exit status. MARK
# is where $SERVER_LOG ended before the first of the sessions in a row
# from FROM_ADDRESS (a scenario).
MARK=0
MARK_ADDR=""
smtp() {
	_a=$1
	shift
	if [ "$_a" != "$MARK_ADDR" ]; then
		MARK=$(stat -c %s "$SERVER_LOG")
		MARK_ADDR=$_a
	fi
	ip netns exec "$(client_ns "$_a")" swaks --server "$(server_for "$_a")" --local-interface "$_a" \
		--timeout 5 "$@" >"$TMP/smtp.out" 2>&1
}

# connects ADDRESS: a TCP connection from ADDRESS to the server's port 25
# is answered within 2 s (a banned client's SYN is dropped); it reads the
# greeting and says QUIT, as a polite monitor does.
connects() {
	ip netns exec "$(client_ns "$1")" python3 - "$(server_for "$1")" "$1" <<'PY'
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.settimeout(2)
s.bind((sys.argv[2], 0))
try:
    s.connect((sys.argv[1], 25))
    f = s.makefile("rb")
    if not f.readline().startswith(b"220"):
        sys.exit(1)
    s.sendall(b"QUIT\r\n")
    f.readline()
except OSError:
    sys.exit(1)
PY
}

# dns_up RECORD...: Debian's dnsmasq on the server's 127.0.0.1:53 as its
# resolver (/etc/resolv.conf). Every name is NXDOMAIN (no PTR for the
# clients, sender domains that do not exist) but what the arguments give:
# dnsmasq options such as --mx-host=DOMAIN,HOST or --host-record=NAME,ADDR.
dns_up() {
	in_server sh -c 'rm -f /etc/resolv.conf && echo "nameserver 127.0.0.1" >/etc/resolv.conf'
	in_server dnsmasq --no-resolv --no-hosts --listen-address=127.0.0.1 --bind-interfaces \
		--address=/#/ --pid-file="$TMP/dnsmasq.pid" --log-facility="$TMP/log/dnsmasq.log" \
		"$@" || fail "dnsmasq did not start"
	wait_for 10 in_server sh -c 'ss -lun | grep -q "127.0.0.1:53 "' ||
		fail "dnsmasq does not listen"
}

# --- checks ----------------------------------------------------------------

# Issue 12's items whose fixes have not landed yet: a check that depends on
# one of them is run and reported (XFAIL, or XPASS once it passes), but
# does not fail the test. Take an item out of this list when its fix
# lands (SW_ISSUE12_PENDING overrides it, e.g. "" to run every check).
ISSUE12_PENDING=${SW_ISSUE12_PENDING-""}
CHECK_FAILED=0

# pending ITEM: ITEM (a number, or numbers joined by "+") waits for a fix.
pending() {
	for _i in $(echo "$1" | tr + ' '); do
		case " $ISSUE12_PENDING " in *" $_i "*) return 0 ;; esac
	done
	return 1
}

# check ITEM WHAT COMMAND...: runs COMMAND. ITEM is "-", or the number of
# the item of issue 12 the check waits for ("1+2" for two). A failure is reported at once
# and fails the test at its end (finish), so that one run shows them all.
check() {
	_item=$1 _what=$2
	shift 2
	if "$@"; then
		if [ "$_item" != - ] && pending "$_item"; then
			echo "XPASS (issue 12 item $_item): $_what -- its fix has landed? take $_item out of ISSUE12_PENDING in tests/realmta-lib.sh"
		else
			echo "ok: $_what"
		fi
	elif [ "$_item" != - ] && pending "$_item"; then
		echo "XFAIL (issue 12 item $_item, pending): $_what"
	else
		echo "FAIL: $_what" >&2
		CHECK_FAILED=$((CHECK_FAILED + 1))
	fi
	return 0
}

finish() {
	[ "$CHECK_FAILED" = 0 ] || fail "$CHECK_FAILED check(s) failed"
}

# within_ms MS COMMAND...: COMMAND succeeds within MS milliseconds.
within_ms() {
	_end=$(( $(date +%s%N) + $1 * 1000000 ))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -gt "$_end" ] && return 1
		sleep 0.02
	done
	return 0
}

# banned ADDRESS: in set4, or (IPv6) its /64 in set6.
banned() {
	case $1 in
	*:*) in_set "$SET6" "$1" ;;
	*) in_set "$SET4" "$1" ;;
	esac
}
not_banned() { ! banned "$1"; }
refused() { ! connects "$1"; }

# The verdicts the test expects, one "ADDRESS CLASS ITEM" line each
# (CLASS "none": never banned; "?": not judged here, but not "another
# address" either); ADDRESS as spamwrath names a ban (an IPv6 client's /64).
EXPECTED="$TMP/expected"
: >"$EXPECTED"
ban_name() {
	case $1 in
	*:*) python3 -c 'import ipaddress,sys; print(ipaddress.ip_network(sys.argv[1] + "/64", strict=False))' "$1" ;;
	*) echo "$1" ;;
	esac
}

# offender ADDRESS CLASS ITEM TEXT: the session just made from ADDRESS
# must get it banned (class CLASS) once the first log line since the
# session began that holds TEXT (a fixed string) is written, and its next
# connection must fail. ITEM as for check. How long the ban took after the
# test saw the line is printed (a ban comes within milliseconds); the limit,
# 10 s, tells a ban that never comes from a busy machine (speed is
# measured in bench/).
logged_since_mark() {
	tail -c +$((MARK + 1)) "$SERVER_LOG" | grep -qF -- "$1"
}
offender() {
	_a=$1 _cls=$2 _it=$3 _txt=$4
	echo "$(ban_name "$_a") $_cls $_it" >>"$EXPECTED"
	if ! within_ms 10000 logged_since_mark "$_txt"; then
		check - "$_a: the server logged its offence (\"$_txt\")" false
		return 0
	fi
	_t0=$(date +%s%N)
	check "$_it" "$_a ($_cls) banned after its line" within_ms 10000 banned "$_a"
	echo "    (banned $(( ($(date +%s%N) - _t0) / 1000000 )) ms after the test saw its line)"
	check "$_it" "$_a: its next connection fails" refused "$_a"
}

# innocent ADDRESS ITEM: never banned, still connects.
innocent() {
	grep -q "^$(ban_name "$1") " "$EXPECTED" || echo "$(ban_name "$1") none $2" >>"$EXPECTED"
	check "$2" "$1 is not banned" not_banned "$1"
	check "$2" "$1 still connects" connects "$1"
}

# read_all: waits until the test's daemon has read $SERVER_LOG as far as it
# is written now (its source's offset, spamwrathctl status), so that a
# check that something did not happen cannot pass only because the daemon
# lags behind on a busy machine.
read_all() {
	_size=$(stat -c %s "$SERVER_LOG")
	wait_for 30 read_to "$_size" ||
		fail "spamwrathd did not read $SERVER_LOG to byte $_size within 30 s"
}
read_to() {
	_at=$(ctl status --json | jq --arg f "$SERVER_LOG" '[.sources[] | select(.file == $f) | .offset] | max // 0')
	[ "$_at" -ge "$1" ]
}

# not_yet ADDRESS ITEM: after a first half-offence, not banned yet.
not_yet() {
	check "$2" "$1 not banned after one half-weight offence" not_banned "$1"
}

# ban_class KIND ADDRESS: the class(es) of its bans in $TMP/KIND.bans
# (live or replay, after a prefix), or "none".
ban_class() {
	_got=$(awk -v a="$2" '$1 == a { print $2 }' "$TMP/$1.bans" | sort -u | tr '\n' ' ')
	_got=${_got% }
	echo "${_got:-none}"
}

# verdicts LOG [spamwrathctl test arguments]: the bans of the live daemon
# (spamwrathctl list) and of replaying LOG offline (spamwrathctl test)
# must be the same, and exactly the expected ones: same addresses, same
# classes.
verdicts() {
	verdicts_of "" "$TMP/sw.conf" "$TMP/control.sock" "$EXPECTED" "$@"
}

# verdicts_of NAME CONF SOCKET EXPECTED LOG [arguments]: the same for
# another daemon (configuration CONF, control socket SOCKET) and its own
# expected verdicts; NAME ("" for the test's daemon) prefixes its files
# in $TMP and its checks.
verdicts_of() {
	_n=$1 _conf=$2 _sock=$3 _exp=$4 _log=$5
	shift 5
	"$SPAMWRATHCTL" -s "$_sock" list --json >"$TMP/${_n}live.json" ||
		fail "spamwrathctl list${_n:+ ($_n)} failed"
	jq -r '.[] | "\(.address) \(.class)"' "$TMP/${_n}live.json" | sort >"$TMP/${_n}live.bans"
	"$SPAMWRATHCTL" test -c "$_conf" --json "$@" "$_log" >"$TMP/${_n}replay.json" ||
		fail "spamwrathctl test -c $_conf failed"
	jq -r 'select(.event == "ban") | "\(.address) \(.class)"' "$TMP/${_n}replay.json" |
		sort >"$TMP/${_n}replay.bans"
	echo "${_n:+$_n: }live bans:"; sed 's/^/  /' "$TMP/${_n}live.bans"
	echo "${_n:+$_n: }replayed bans:"; sed 's/^/  /' "$TMP/${_n}replay.bans"
	while read -r _addr _cls _it; do
		_live=$(ban_class "${_n}live" "$_addr")
		_replay=$(ban_class "${_n}replay" "$_addr")
		check - "${_n:+$_n: }$_addr: live ($_live) and replayed ($_replay) alike" [ "$_live" = "$_replay" ]
		[ "$_cls" = "?" ] && continue
		check "$_it" "${_n:+$_n: }live: $_addr $_cls" [ "$_live" = "$_cls" ]
		check "$_it" "${_n:+$_n: }replay: $_addr $_cls" [ "$_replay" = "$_cls" ]
	done <"$_exp"
	# nobody else
	for _how in live replay; do
		_extra=$(awk 'NR == FNR { want[$1] = 1; next } !($1 in want)' "$_exp" "$TMP/$_n$_how.bans")
		check - "${_n:+$_n: }$_how: no other address banned${_extra:+ (banned: $_extra)}" [ -z "$_extra" ]
	done
}

# show_lines ADDRESS: what the server logged about ADDRESS, and about the
# queue ids of its messages (for the test's log, and the record).
show_lines() {
	_log=$SERVER_LOG
	echo "--- what was logged about $1:"
	python3 - "$1" "$_log" <<'PY'
import re, sys
addr, path = sys.argv[1], sys.argv[2]
lines = open(path, errors="replace").read().splitlines()
hit = re.compile(r"[\[ ,(]" + re.escape(addr) + r"[\]:, )]")
qids = set()
for l in lines:
    if hit.search(l):
        m = re.search(r": ([0-9A-F]{8,16}|[0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4}): ", l) or \
            re.search(r"MDLOG,([0-9A-Za-z]+),", l) or re.search(r"\] ([0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4}) ", l)
        if m:
            qids.add(m.group(1))
for l in lines:
    if hit.search(l) or any(q in l for q in qids):
        print("    " + l)
PY
}

# firewall_up: what spamwrath-firewall does where TARPIT is missing: new
# connections to port 25 from members of set4 and set6 are dropped (a
# session under way when its client is banned goes on to its end).
firewall_up() {
	for _s in "$SET4" "$SET6"; do
		_ipt=iptables
		[ "$_s" = "$SET6" ] && _ipt=ip6tables
		nsx "$_ipt" -I INPUT -p tcp --dport 25 -m set --match-set "$_s" src \
			-m conntrack --ctstate NEW,UNTRACKED -j DROP || fail "cannot add the $_ipt rule"
	done
}

# --- Postfix and clamd, as the tests run them ------------------------------

# postfix_users: the users and groups postfix's postinst creates (postfix,
# postdrop), set-gid postdrop and postqueue, and the virtual mailboxes'
# owner (vmail).
postfix_users() {
	add_user postfix 60101
	in_server sh -c 'echo "postdrop:x:60102:" >>/etc/group'
	set_mode 2555 root:postdrop /usr/sbin/postdrop /usr/sbin/postqueue
	add_user vmail 60103
}

# postfix_up MILTERS: Postfix with Debian's main.cf and master.cf (chroot
# off: the namespace is its jail) and what a site adds: example.org as
# virtual mailbox domain (alice, bob, trap), the usual HELO and sender
# restrictions, Debian's relay restriction, an access map refusing the
# spamtrap honeypot@example.org, MILTERS as smtpd_milters. It logs
# through syslog (rsyslog_up first).
postfix_up() {
	in_server sh -c '
	set -e
	cp /usr/share/postfix/main.cf.debian /etc/postfix/main.cf
	sed -E "/^[a-z]/ s/^(\S+\s+\S+\s+\S+\s+\S+\s+)y(\s)/\1n\2/" /usr/share/postfix/master.cf.dist >/etc/postfix/master.cf
	for u in alice bob trap; do echo "$u@example.org example.org/$u/"; done >/etc/postfix/vmailbox
	printf "honeypot@example.org REJECT\n" >/etc/postfix/recipient_access
	printf "postmaster: root\n" >/etc/aliases
	mkdir -p /var/mail/vhosts && chown vmail:vmail /var/mail/vhosts
	chown postfix /var/lib/postfix
	postconf -e \
		"myhostname = mx.example.org" "mydomain = example.org" "myorigin = \$mydomain" \
		"mydestination = \$myhostname, localhost" "alias_maps = hash:/etc/aliases" \
		"alias_database = hash:/etc/aliases" \
		"mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128" \
		"inet_interfaces = all" "inet_protocols = all" \
		"virtual_mailbox_domains = example.org" "virtual_mailbox_base = /var/mail/vhosts" \
		"virtual_mailbox_maps = texthash:/etc/postfix/vmailbox" \
		"virtual_uid_maps = static:60103" "virtual_gid_maps = static:60103" \
		"smtpd_helo_required = yes" \
		"smtpd_helo_restrictions = reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname" \
		"smtpd_sender_restrictions = reject_non_fqdn_sender, reject_unknown_sender_domain" \
		"smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination" \
		"smtpd_recipient_restrictions = check_recipient_access texthash:/etc/postfix/recipient_access" \
		"smtpd_milters = $0" \
		"milter_default_action = tempfail"
	postalias /etc/aliases
	postfix start' "$1" >"$TMP/postfix.out" 2>&1 || { cat "$TMP/postfix.out" >&2; fail "Postfix did not start"; }
	wait_for 20 grep -q "postfix/master.*daemon started" "$MAILLOG" ||
		{ cat "$MAILLOG" >&2; fail "Postfix did not start"; }
}

# clamd_up: Debian's clamd with one signature, which the test writes since
# there is no freshclam here: EICAR's test string as a body signature (what
# ClamAV's own database calls Eicar-Test-Signature), found in the decoded
# attachment whatever its line end. Its socket: /run/clamav/clamd.ctl.
# It runs in the foreground, as Debian's clamav-daemon.service runs it
# (see server_daemon); it is up once it answers PING.
EICAR='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
clamd_up() {
	in_server mkdir -p /var/lib/clamav /run/clamav /etc/clamav /var/log/clamav
	printf 'Eicar-Test-Signature:0:*:%s\n' "$(printf '%s' "$EICAR" | od -An -tx1 | tr -d ' \n')" |
		in_server sh -c 'cat >/var/lib/clamav/eicar.ndb'
	in_server sh -c 'cat >/etc/clamav/clamd.conf' <<'CONF'
LocalSocket /run/clamav/clamd.ctl
LocalSocketMode 666
DatabaseDirectory /var/lib/clamav
LogFile /var/log/clamav/clamav.log
LogTime true
ScanMail true
Foreground true
CONF
	at_failure "echo '--- what clamd logged:'; sed 's/^/    /' '$TMP/log/clamav/clamav.log'"
	server_daemon clamd "$TMP/clamd.err" clamd --config-file=/etc/clamav/clamd.conf
	wait_for 60 clamd_answers || fail "clamd does not answer PING on /run/clamav/clamd.ctl"
}
clamd_answers() {
	[ "$(echo PING | in_server socat -t 5 - UNIX-CONNECT:/run/clamav/clamd.ctl)" = PONG ]
}

# --- what the clients send ---------------------------------------------------

# GTUBE_BODY: GTUBE's string, which SpamAssassin and rspamd score as spam
# in a body; EICAR_FILE: EICAR's (clamd_up's signature), to attach.
GTUBE_BODY='XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
EICAR_FILE="$TMP/eicar.com"
printf '%s\n' "$EICAR" >"$EICAR_FILE"

# sender: swaks's arguments for a sender whose domain exists (dns_up's
# example.net), and whose HELO is its client's name.
sender() { echo "--from news@example.net --helo mail.example.net"; }

# ok: the server accepted the last session's message: its 250 reply to
# the data names the queue id, "queued as" (Postfix) or ACCEPTED's words
# (the Exim test sets ACCEPTED="id="). Else it prints the transcript.
ACCEPTED="queued as"
ok() { grep -q "^<-  250 .*$ACCEPTED" "$TMP/smtp.out" || { cat "$TMP/smtp.out"; return 1; }; }

# accepted ADDRESS WHAT SWAKS_ARGS...: a session from ADDRESS (swaks must
# succeed) whose message the server must accept: check "ADDRESS: WHAT".
accepted() {
	_ca=$1 _cw=$2
	shift 2
	smtp "$_ca" "$@"
	check - "$_ca: $_cw" ok
}

# legit ADDRESS: a legitimate message from ADDRESS, accepted.
legit() {
	# shellcheck disable=SC2046
	accepted "$1" "a legitimate message is accepted" $(sender) --to alice@example.org \
		--header "Subject: hello" --body "Lunch on Friday?"
}

# monitor ADDRESS: what a monitor does, ten times: connect, read the
# greeting, QUIT (once banned, it cannot connect: it stops there).
monitor() {
	_mk=0
	while [ $_mk -lt 10 ]; do
		smtp "$1" --quit-after CONNECT || break
		_mk=$((_mk + 1))
	done
}

# offends ADDRESS CLASS ITEM TEXT SWAKS_ARGS...: a session from ADDRESS
# that the server may refuse; then it must be an offender (offender
# ADDRESS CLASS ITEM TEXT), and what was logged about it is shown.
offends() {
	_oa=$1 _oc=$2 _oi=$3 _ot=$4
	shift 4
	smtp "$_oa" "$@" || true
	offender "$_oa" "$_oc" "$_oi" "$_ot"
	show_lines "$_oa"
}

# helo_twice ADDRESS HELO ITEM TEXT: a session from ADDRESS that says
# HELO HELO, which the server refuses, logging TEXT: half an offence, not
# banned yet (ITEM as for check); a second such session bans it (helo).
helo_twice() {
	_ha=$1 _hh=$2 _hi=$3 _ht=$4
	smtp "$_ha" --from news@example.net --helo "$_hh" --to alice@example.org || true
	wait_for 10 logged_since_mark "$_ht" ||
		check - "$_ha: the server refused its HELO (\"$_ht\")" false
	read_all
	not_yet "$_ha" "$_hi"
	smtp "$_ha" --from news@example.net --helo "$_hh" --to alice@example.org || true
	offender "$_ha" helo - "$_ht"
	show_lines "$_ha"
}

# sessions ADDRESS ARGS...: a session from ADDRESS (sender) for each ARGS,
# swaks's further arguments as words; the server may refuse any.
sessions() {
	_sa=$1
	shift
	for _sargs in "$@"; do
		# shellcheck disable=SC2046,SC2086
		smtp "$_sa" $(sender) $_sargs || true
	done
}

# settled ADDRESS: once the server has written the last session's lines
# (a second) and spamwrathd has read them (read_all), what was logged
# about ADDRESS.
settled() {
	sleep 1
	read_all
	show_lines "$1"
}

# server_daemon NAME ERRFILE COMMAND...: COMMAND, a server that stays in
# the foreground, run in the server's namespaces in the background, its
# stderr to ERRFILE; $SERVER_PID is its pid, watched (watch_daemon). For
# servers whose own daemonizing is not safe under load: clamd and
# clamav-milter (1.4) fork, and the child signals the parent once it is
# ready; a parent that has not yet set its handler when the signal comes
# (a busy machine) dies of it, status 130, and the start seems to fail
# while the daemon runs on.
server_daemon() {
	_name=$1 _err=$2
	shift 2
	# nsenter itself (in_server is a function: in the background, a subshell)
	nsenter -t "$ANCHOR" -m -n -- "$@" >"$_err" 2>&1 &
	SERVER_PID=$!
	watch_daemon "$_name" "$SERVER_PID" "$_err"
}

# --- the end of a test ------------------------------------------------------

# offences JSON ADDRESS [CLASS]: how many offences of ADDRESS (of CLASS)
# a replay (spamwrathctl test --json) counted.
offences() {
	jq -r --arg a "$2" --arg c "${3:-}" \
		'select(.event == "offence" and .address == $a and ($c == "" or .class == $c)) | .line' "$1" | wc -l
}

# one_offence ITEM ADDRESS [CLASS]: the replay of verdicts counted one
# offence of ADDRESS (of CLASS) for its one message.
one_offence() {
	_n=$(offences "$TMP/replay.json" "$2" "${3:-}")
	check "$1" "$2: one message, one offence (replay counts $_n)" [ "$_n" = 1 ]
}

# the_end NAME: spamwrathd still alive and stopping cleanly, what it said,
# and the test's result from its checks.
the_end() {
	daemon_alive || fail "spamwrathd died"
	stop_daemon
	echo "--- spamwrathd said:"
	sed 's/^/    /' "$DAEMON_ERR"
	finish
	echo "$1: ok"
}

# postfix_host_up [PROGRAM...]: the server namespace for a Postfix test:
# its network, dnsmasq (example.net and its MX exist, with the legitimate
# client's name mail.example.net for 203.0.113.10; nothing else does),
# rsyslog, Postfix's users and clamd; PROGRAMs are checked for their
# libraries besides Postfix's, rsyslog's and clamd's. Postfix itself is
# started by postfix_up, once its milters are there.
postfix_host_up() {
	server_up
	need_libs /usr/sbin/postconf /usr/lib/postfix/sbin/smtpd /usr/sbin/rsyslogd /usr/sbin/clamd "$@"
	net_up
	dns_up --mx-host=example.net,mx.example.net,10 --host-record=mx.example.net,198.51.100.25 \
		--host-record=mail.example.net,203.0.113.10 --host-record=mx.example.org,203.0.113.1
	rsyslog_up
	server_log "$MAILLOG"
	postfix_users
	clamd_up
}
