#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A real Postfix 3.7 with a real amavisd-new 2.13 as its content_filter
# (Debian's README.Postfix: smtp-amavis to 127.0.0.1:10024, re-injection
# on 127.0.0.1:10025), SpamAssassin and clamd behind amavis, all from
# Debian's packages, logging through Debian's rsyslog. amavis runs
# Debian's conf.d with what a site sets in 50-user: virus and spam checks
# on (Debian ships them off), clamd as scanner, spam beyond 15 discarded
# (kill level), local tests only.
#
# GTUBE (to one recipient, and to two) and EICAR must ban their senders
# after amavis's "Blocked" line, as spam and virus, once per
# message (amavis's line and Postfix's "discarded" both report it); a
# legitimate sender and a whitelisted host that sends both are never
# banned. Then the log replayed offline must give the same bans. How the
# servers are fetched, unpacked and run without being installed:
# tests/realmta-lib.sh.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"
. "$top_srcdir/tests/realmta-lib.sh"

debs

postfix_host_up
in_server perl -MNet::Server -MBerkeleyDB -MArchive::Zip -MConvert::TNEF -MConvert::UUlib \
	-MNet::LibIDN -MMail::SpamAssassin -e 1 2>"$TMP/perl.err" ||
	{ cat "$TMP/perl.err" >&2; fail "amavisd-new's Perl modules are missing: run the README's first apt-get line"; }

# --- amavisd-new: Debian's conf.d, the site's 50-user ------------------------
add_user amavis 60401
in_server sh -c '
	set -e
	echo mx.example.org >/etc/mailname
	mkdir -p /var/lib/amavis/tmp /var/lib/amavis/db /var/lib/amavis/virusmails /run/amavis
	chown -R amavis:amavis /var/lib/amavis /run/amavis
	cat >/etc/amavis/conf.d/50-user <<EOF
use strict;
\$myhostname = "mx.example.org";
@local_domains_acl = (".example.org");
@bypass_virus_checks_maps = (
   \\%bypass_virus_checks, \\@bypass_virus_checks_acl, \\\$bypass_virus_checks_re);
@bypass_spam_checks_maps = (
   \\%bypass_spam_checks, \\@bypass_spam_checks_acl, \\\$bypass_spam_checks_re);
\$sa_local_tests_only = 1;
\$sa_kill_level_deflt = 15;
\$final_spam_destiny = D_DISCARD;
1;
EOF
	amavisd' >"$TMP/amavis.out" 2>&1 || { cat "$TMP/amavis.out" "$MAILLOG" >&2; fail "amavisd did not start"; }
wait_for 60 in_server sh -c 'ss -ltn | grep -q "127.0.0.1:10024 "' ||
	{ cat "$TMP/amavis.out" "$MAILLOG" >&2; fail "amavisd does not listen"; }

# --- Postfix, with amavis as content_filter (Debian's README.Postfix) -------
postfix_up ""
in_server sh -c 'cat >>/etc/postfix/master.cf' <<'EOF'
smtp-amavis unix -      -       n       -       2       smtp
    -o smtp_data_done_timeout=1200
    -o smtp_send_xforward_command=yes
    -o disable_dns_lookups=yes
    -o max_use=20
127.0.0.1:10025 inet n  -       n       -       -       smtpd
    -o content_filter=
    -o local_recipient_maps=
    -o relay_recipient_maps=
    -o smtpd_restriction_classes=
    -o smtpd_delay_reject=no
    -o smtpd_client_restrictions=permit_mynetworks,reject
    -o smtpd_helo_restrictions=
    -o smtpd_sender_restrictions=
    -o smtpd_recipient_restrictions=permit_mynetworks,reject
    -o smtpd_data_restrictions=reject_unauth_pipelining
    -o smtpd_end_of_data_restrictions=
    -o mynetworks=127.0.0.0/8
    -o smtpd_error_sleep_time=0
    -o smtpd_soft_error_limit=1001
    -o smtpd_hard_error_limit=1000
    -o smtpd_client_connection_count_limit=0
    -o smtpd_client_connection_rate_limit=0
    -o receive_override_options=no_header_body_checks,no_unknown_recipient_checks,no_milters
EOF
in_server postconf -e "content_filter = smtp-amavis:[127.0.0.1]:10024"
in_server postfix reload >/dev/null 2>&1 || fail "postfix reload failed"

write_conf <<CONF
patterns_dir = "$top_srcdir/patterns"
source maillog { file = "$MAILLOG" }
class spam { min_score = 15 }
CONF
start_daemon
firewall_up

LEGIT=203.0.113.10 GTUBE=203.0.113.50 GTUBE2=203.0.113.51 VIRUS=203.0.113.52 WLHOST=192.0.2.10
client_addr $LEGIT $GTUBE $GTUBE2 $VIRUS $WLHOST

legit $LEGIT
wait_for 30 logged_since_mark "status=sent (delivered to maildir)" ||
	check - "$LEGIT: its message went through amavis to the mailbox" false
show_lines $LEGIT

# (amavis takes every message and discards spam and viruses: swaks must succeed)
# shellcheck disable=SC2046
smtp $GTUBE $(sender) --to alice@example.org --body "$GTUBE_BODY"
offender $GTUBE spam - "Blocked SPAM"
show_lines $GTUBE

# shellcheck disable=SC2046
smtp $GTUBE2 $(sender) --to alice@example.org,bob@example.org --body "$GTUBE_BODY"
offender $GTUBE2 spam - "Blocked SPAM"
show_lines $GTUBE2

# shellcheck disable=SC2046
smtp $VIRUS $(sender) --to alice@example.org --attach @"$EICAR_FILE" --attach-name eicar.com
offender $VIRUS virus - "Blocked INFECTED"
show_lines $VIRUS

for args in "--to alice@example.org --body $GTUBE_BODY" "--to alice@example.org --attach @$EICAR_FILE"; do
	# shellcheck disable=SC2046,SC2086
	smtp $WLHOST $(sender) $args
	wait_for 30 logged_since_mark "Blocked" || true
	MARK_ADDR=""
done
read_all
show_lines $WLHOST

for a in $LEGIT $WLHOST; do innocent "$a" -; done
verdicts "$MAILLOG"
for a in $GTUBE $GTUBE2 $VIRUS; do one_offence 5 "$a"; done

the_end realmta-amavis
