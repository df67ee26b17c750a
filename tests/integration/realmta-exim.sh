#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A real Exim 4.96 from Debian's packages (exim4-daemon-light), configured
# the Debian way: update-exim4.conf from Debian's template with an
# "internet site" debconf answer set, example.org as a local domain whose
# users are system users (alice, bob, trap), sender verification on
# (CHECK_RCPT_VERIFY_SENDER), the spamtrap honeypot@example.org refused
# as the unknown user it is, and MAIN_LOG_SELECTOR = +all -subject -arguments as
# Debian's template suggests, logging to its own mainlog. Real SMTP
# sessions (swaks) from clients on their own addresses; spamwrathd in the
# server's network namespace with its real ipsets and an iptables DROP
# rule. How the server is fetched, unpacked and run without being
# installed: tests/realmta-lib.sh.
#
# Each offender must be banned after its offending line and its
# next connection must fail; the innocent (a legitimate sender, a monitor
# that connects and QUITs ten times, a whitelisted host that does every
# offence, an IPv6 sender) are never banned and still connect; then the
# mainlog replayed offline with `spamwrathctl test` must ban exactly the
# same addresses for the same classes. Checks waiting for a fix of issue
# 12 are marked with its item (see ISSUE12_PENDING in tests/realmta-lib.sh).
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"
. "$top_srcdir/tests/realmta-lib.sh"

debs

server_up
need_libs /usr/sbin/exim4
net_up
dns_up --mx-host=example.net,mx.example.net,10 --host-record=mx.example.net,198.51.100.25 \
	--host-record=mail.example.net,203.0.113.10 --host-record=mx.example.org,203.0.113.1

# --- what exim4-base's and exim4-config's postinsts do ---------------------
add_user Debian-exim 60201
set_mode 4755 root:root /usr/sbin/exim4
for u in alice:60211 bob:60212 trap:60213; do add_user "${u%:*}" "${u#*:}" /var/mail; done
in_server sh -c '
	set -e
	echo mx.example.org >/etc/mailname
	printf "postmaster: root\n" >/etc/aliases
	cat >/etc/exim4/update-exim4.conf.conf <<EOF
dc_eximconfig_configtype='"'"'internet'"'"'
dc_other_hostnames='"'"'example.org'"'"'
dc_local_interfaces='"'"''"'"'
dc_readhost='"'"''"'"'
dc_relay_domains='"'"''"'"'
dc_minimaldns='"'"'false'"'"'
dc_relay_nets='"'"''"'"'
dc_smarthost='"'"''"'"'
CFILEMODE='"'"'644'"'"'
dc_use_split_config='"'"'false'"'"'
dc_hide_mailname='"'"''"'"'
dc_mailname_in_oh='"'"'true'"'"'
dc_localdelivery='"'"'mail_spool'"'"'
EOF
	cat >/etc/exim4/exim4.conf.localmacros <<EOF
MAIN_LOG_SELECTOR = +all -subject -arguments
CHECK_RCPT_VERIFY_SENDER = true
EOF
	mkdir -p /var/lib/exim4 /var/spool/exim4 /var/log/exim4 /run/exim4
	chown Debian-exim:Debian-exim /var/spool/exim4 /var/log/exim4 /run/exim4
	update-exim4.conf
	exim4 -bd -q30m' >"$TMP/exim.out" 2>&1 || { cat "$TMP/exim.out" >&2; fail "Exim did not start"; }
server_log "$TMP/log/exim4/mainlog"
wait_for 20 grep -q "exim .* daemon started" "$SERVER_LOG" 2>/dev/null ||
	{ cat "$TMP/exim.out" "$SERVER_LOG" "$TMP/log/exim4/paniclog" >&2; fail "Exim did not start"; }

# --- spamwrathd ------------------------------------------------------------
write_conf <<CONF
patterns_dir = "$top_srcdir/patterns"
spamtraps += { "honeypot@example.org" }
source exim { file = "$SERVER_LOG" program = "exim" }
class spam { min_score = 15 }
CONF
start_daemon
firewall_up

# --- the clients -----------------------------------------------------------
LEGIT=203.0.113.10 MONITOR=203.0.113.11 UNKNOWN=203.0.113.12 TRAP_OK=203.0.113.13
TRAP_NO=203.0.113.14 NXSENDER=203.0.113.15 RELAY=203.0.113.16 HELO=203.0.113.17
WLHOST=192.0.2.10 V6BAD=2001:db8:113::12 V6GOOD=2001:db8:114::10
client_addr $LEGIT $MONITOR $UNKNOWN $TRAP_OK $TRAP_NO $NXSENDER $RELAY $HELO $WLHOST $V6BAD $V6GOOD
ACCEPTED="id="	# Exim's reply to the data: "250 OK id=..."

legit $LEGIT
show_lines $LEGIT

monitor $MONITOR
show_lines $MONITOR
innocent $MONITOR 1

# shellcheck disable=SC2046
offends $UNKNOWN unknown-recipient - "rejected RCPT <nosuchuser@example.org>" \
	$(sender) --to nosuchuser@example.org

# shellcheck disable=SC2046
accepted $TRAP_OK "the spamtrap accepted the message" $(sender) --to trap@example.org --body "Cheap watches"
offender $TRAP_OK spamtrap - "for trap@example.org"
show_lines $TRAP_OK

# shellcheck disable=SC2046
offends $TRAP_NO spamtrap - "rejected RCPT <honeypot@example.org>" $(sender) --to honeypot@example.org

offends $NXSENDER unknown-sender - "sender verify fail for" \
	--from sales@nx.example --helo mail.example.net --to alice@example.org

# shellcheck disable=SC2046
offends $RELAY relay - "relay not permitted" $(sender) --to victim@elsewhere.example

# a HELO Exim finds syntactically invalid: swaks tries EHLO, then HELO,
# in one session: one offence, half a ban. A second session bans.
helo_twice $HELO bad_helo 1+2 "syntactically invalid argument"

# IPv6: an offender, and a legitimate sender in another /64
# shellcheck disable=SC2046
offends $V6BAD unknown-recipient - "rejected RCPT <nosuchuser@example.org>" \
	$(sender) --to nosuchuser@example.org
# shellcheck disable=SC2046
accepted $V6GOOD "a legitimate message over IPv6 is accepted" $(sender) --to bob@example.org
show_lines $V6GOOD

# the whitelisted host does all of it
sessions $WLHOST "--to nosuchuser@example.org" "--to trap@example.org" "--to honeypot@example.org" \
	"--to victim@elsewhere.example"
smtp $WLHOST --from sales@nx.example --helo mail.example.net --to alice@example.org || true
smtp $WLHOST --from news@example.net --helo bad_helo --to alice@example.org || true
smtp $WLHOST --from news@example.net --helo bad_helo --to alice@example.org || true
monitor $WLHOST
settled $WLHOST

# --- the innocent, and the verdicts ---------------------------------------
for a in $LEGIT $WLHOST $V6GOOD; do innocent "$a" -; done
innocent $MONITOR 1
delivered() { [ "$(in_server sh -c 'cat /var/mail/alice /var/mail/bob /var/mail/trap 2>/dev/null' | grep -c '^From ')" -ge "$1" ]; }
check - "the accepted messages reached their mailboxes" delivered 3
verdicts "$SERVER_LOG" --program exim

# one RCPT refused for its sender is one offence, though Exim writes two
# lines ("sender verify fail for", "rejected RCPT ...: Sender verify failed")
one_offence 5 $NXSENDER unknown-sender

the_end realmta-exim
