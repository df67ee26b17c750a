#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A real Postfix 3.7 with a real MIMEDefang 3.3 (SpamAssassin and clamd
# behind it), from Debian's packages, logging through Debian's rsyslog to
# mail.log as a Debian 12 machine with rsyslog does; real SMTP sessions
# (swaks) from clients on their own addresses; spamwrathd in the server's
# network namespace with its real ipsets and an iptables DROP rule for
# set4 and set6. How the servers are fetched, unpacked and run without
# being installed: tests/realmta-lib.sh.
#
# Postfix runs Debian's main.cf and master.cf with what a site adds (see
# postfix_up), MIMEDefang as milter; dnsmasq is its resolver: example.net
# exists, every other name (nx.example, the clients' PTRs) does not.
#
# The MIMEDefang filter is written as users write theirs (Debian's own,
# plus a reject): SpamAssassin's score beyond 15 is refused and logged
# as spam, a lower score over SpamAssassin's required 5 is logged as spam
# and only tagged; a virus (clamd, which has one signature the test
# writes: EICAR, since there is no freshclam here) is logged and refused.
#
# Each offender must be banned after its offending line and its
# next connection must fail; the innocent (a legitimate sender, a monitor
# that connects and QUITs ten times, a whitelisted host that does every
# offence, an IPv6 sender, a sender whose spam is only tagged) are never
# banned and still connect; then the log replayed offline with
# `spamwrathctl test` must ban exactly the same addresses for the same
# classes. Checks waiting for a fix of issue 12 are marked with its item
# (see ISSUE12_PENDING in tests/realmta-lib.sh).
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"
. "$top_srcdir/tests/realmta-lib.sh"

debs

postfix_host_up /usr/bin/mimedefang /usr/bin/mimedefang-multiplexor

# --- MIMEDefang's user (Postfix may use its socket), and SpamAssassin -----
add_user defang 60104
in_server sh -c 'sed -i "s/^\(defang:x:60104:\)\$/\1postfix/" /etc/group'

in_server sh -c 'cat >>/etc/spamassassin/local.cf' <<'EOF'
# a rule of the site's own, so that a message can score between
# required_score (5) and the filter's reject score (15)
body     SW_TAGGED  /sw-tagged-spam-marker/
score    SW_TAGGED  8.0
EOF
in_server sh -c 'cat >/etc/mail/mimedefang-filter' <<'EOF'
# -*- Perl -*-  Debian's filter, and what a site adds: viruses (clamd) and
# spam beyond 15 refused.
$AdminAddress = 'postmaster@example.org';
$DaemonAddress = 'mimedefang@example.org';
md_graphdefang_log_enable('mail', 1);
detect_and_load_perl_modules();

sub filter_initialize {
    spam_assassin_init()->compile_now(1) if $Features{"SpamAssassin"};
}

sub filter_begin {
    my($entity) = @_;
    my($code, $category, $action) = message_contains_virus_clamd('/run/clamav/clamd.ctl');
    if ($category eq "virus") {
        md_graphdefang_log('virus', $VirusName, $RelayAddr);
        return action_bounce("Virus $VirusName found in message");
    }
    if ($action eq "tempfail") {
        action_tempfail("Problem running virus-scanner");
        md_syslog('warning', "Problem running virus scanner: code=$code, category=$category, action=$action");
    }
}

sub filter {
    my($entity, $fname, $ext, $type) = @_;
    return action_accept();
}

sub filter_end {
    my($entity) = @_;
    return if message_rejected();
    if ($Features{"SpamAssassin"}) {
        my($hits, $req, $names, $report) = spam_assassin_check();
        if ($hits >= 15) {
            md_graphdefang_log('spam', $hits, $RelayAddr);
            return action_bounce("Message rejected as spam (score $hits)");
        }
        if ($hits >= $req) {
            action_change_header("X-Spam-Score", "$hits $names");
            md_graphdefang_log('spam', $hits, $RelayAddr);
        }
    }
    md_graphdefang_log('mail_in');
}

1;
EOF
in_server sh -c 'install -d -o defang -g defang -m 750 /var/spool/MIMEDefang /run/mimedefang'
# the options of Debian's init script, with its defaults (MX_LOG=yes, ...)
in_server env HOME=/var/spool/MIMEDefang mimedefang-multiplexor -p /run/mimedefang/mimedefang-multiplexor.pid \
	-o /var/spool/MIMEDefang/mimedefang-multiplexor.lock -z /var/spool/MIMEDefang -m 2 -x 10 -y 0 \
	-U defang -b 600 -l -G -s /var/spool/MIMEDefang/mimedefang-multiplexor.sock ||
	fail "mimedefang-multiplexor did not start"
in_server env HOME=/var/spool/MIMEDefang mimedefang -P /run/mimedefang/mimedefang.pid \
	-o /var/spool/MIMEDefang/mimedefang.lock -m /var/spool/MIMEDefang/mimedefang-multiplexor.sock \
	-z /var/spool/MIMEDefang -U defang -G -p /var/spool/MIMEDefang/mimedefang.sock ||
	fail "mimedefang did not start"

postfix_up unix:/var/spool/MIMEDefang/mimedefang.sock

# --- spamwrathd ------------------------------------------------------------
# the shipped classes (conf.d/spamwrath.conf), the real patterns
sw_conf() {
	write_conf <<CONF
patterns_dir = "$top_srcdir/patterns"
spamtraps += { "honeypot@example.org" }
source maillog { file = "$MAILLOG" }
class spam { min_score = 15 ${1:-} }
${2:-}
CONF
}
sw_conf
start_daemon
firewall_up

# --- the clients -----------------------------------------------------------
LEGIT=203.0.113.10 MONITOR=203.0.113.11 UNKNOWN=203.0.113.12 TRAP_OK=203.0.113.13
TRAP_NO=203.0.113.14 NXSENDER=203.0.113.15 RELAY=203.0.113.16 HELO=203.0.113.17
GTUBE=203.0.113.18 VIRUS=203.0.113.19 GTUBE2=203.0.113.20 TAGGED=203.0.113.21
WLHOST=192.0.2.10 V6BAD=2001:db8:113::12 V6GOOD=2001:db8:114::10
client_addr $LEGIT $MONITOR $UNKNOWN $TRAP_OK $TRAP_NO $NXSENDER $RELAY $HELO $GTUBE $VIRUS \
	$GTUBE2 $TAGGED $WLHOST $V6BAD $V6GOOD

# a legitimate message; the first one also warms SpamAssassin up
legit $LEGIT
show_lines $LEGIT

monitor $MONITOR
show_lines $MONITOR

# unknown recipient
# shellcheck disable=SC2046
offends $UNKNOWN unknown-recipient - "User unknown" $(sender) --to nobody@example.org

# a spamtrap that exists and accepts the message
# shellcheck disable=SC2046
accepted $TRAP_OK "the spamtrap accepted the message" $(sender) --to trap@example.org --body "Cheap watches"
offender $TRAP_OK spamtrap - "to=<trap@example.org>"
show_lines $TRAP_OK

# a spamtrap the access map refuses
# shellcheck disable=SC2046
offends $TRAP_NO spamtrap - "honeypot@example.org" $(sender) --to honeypot@example.org

# a sender domain that does not exist (450 4.1.8 Domain not found)
offends $NXSENDER unknown-sender - "Domain not found" \
	--from sales@nx.example --helo mail.example.net --to alice@example.org

# relaying (Debian's defer_unauth_destination: 454 4.7.1)
# shellcheck disable=SC2046
offends $RELAY relay - "Relay access denied" $(sender) --to victim@elsewhere.example

# a HELO that is no host name: one session is half an offence, two ban
helo_twice $HELO bogus - "Helo command rejected"

# GTUBE: SpamAssassin's score 1000, refused by the filter
# shellcheck disable=SC2046
offends $GTUBE spam - "Message rejected as spam" $(sender) --to alice@example.org --body "$GTUBE_BODY"

# EICAR, found by clamd through MIMEDefang
# shellcheck disable=SC2046
offends $VIRUS virus - "Virus Eicar" $(sender) --to alice@example.org \
	--attach @"$EICAR_FILE" --attach-name eicar.com

# GTUBE to two recipients: one message, one offence
# shellcheck disable=SC2046
offends $GTUBE2 spam - "Message rejected as spam" $(sender) --to alice@example.org,bob@example.org \
	--body "$GTUBE_BODY"

# spam that only scores 8: tagged and delivered; the filter logs it as
# spam, and min_score 15 keeps it from counting
# shellcheck disable=SC2046
accepted $TAGGED "the tagged message is delivered" $(sender) --to alice@example.org \
	--body "sw-tagged-spam-marker"
show_lines $TAGGED

# IPv6: an offender, and a legitimate sender in another /64
# shellcheck disable=SC2046
offends $V6BAD unknown-recipient - "User unknown" $(sender) --to nobody@example.org
# shellcheck disable=SC2046
accepted $V6GOOD "a legitimate message over IPv6 is accepted" $(sender) --to bob@example.org
show_lines $V6GOOD

# the whitelisted host does all of it
sessions $WLHOST "--to nobody@example.org" "--to trap@example.org" "--to honeypot@example.org" \
	"--to victim@elsewhere.example" "--to alice@example.org --body $GTUBE_BODY" \
	"--to alice@example.org --attach @$EICAR_FILE"
smtp $WLHOST --from sales@nx.example --helo mail.example.net --to alice@example.org || true
smtp $WLHOST --from news@example.net --helo bogus --to alice@example.org || true
smtp $WLHOST --from news@example.net --helo bogus --to alice@example.org || true
settled $WLHOST

# --- the innocent, and the verdicts ---------------------------------------
# (the daemon has read everything by now: read_all)
for a in $LEGIT $TAGGED $WLHOST $V6GOOD; do innocent "$a" -; done
innocent $MONITOR -
delivered() { [ "$(in_server find /var/mail/vhosts -type f -path '*/new/*' | wc -l)" -ge "$1" ]; }
check - "the accepted messages reached their mailboxes" delivered 4
verdicts "$MAILLOG"

# one message is one offence: with spam and virus weighing 0.5, a client
# that sent one message must not be banned
sw_conf "weight = 0.5" "class virus { weight = 0.5 }"
"$SPAMWRATHCTL" test -c "$TMP/sw.conf" --json "$MAILLOG" >"$TMP/half.json" || fail "spamwrathctl test failed"
# (GTUBE to one recipient: the MDLOG line and the milter-reject; EICAR: the
# same; GTUBE to two: an MDLOG line per recipient and the milter-reject)
for a in "$GTUBE -" "$VIRUS 5" "$GTUBE2 5"; do
	set -- $a
	one_offence "$2" "$1"
	n=$(jq -r --arg a "$1" 'select(.event == "ban" and .address == $a) | .line' "$TMP/half.json" | wc -l)
	check "$2" "$1: one message weighing 0.5 bans nobody (replay bans it $n times)" [ "$n" = 0 ]
done

the_end realmta-postfix
