#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A real Postfix 3.7 with a real rspamd 3.4 as its milter (the proxy
# worker in milter mode, as Debian configures it), both from Debian's
# packages; Postfix logs through Debian's rsyslog, rspamd to its own log
# file (Debian's default), and spamwrathd follows both. rspamd runs
# Debian's configuration with what a site adds in local.d: clamd as
# antivirus (one EICAR signature, see clamd_up), GTUBE honoured, and a
# rule of the site's own that scores 3 (with what swaks's messages score
# anyway, about 6, over "add header", 6, under "reject", 15).
#
# GTUBE (refused, to one recipient and to two) must ban its sender as
# spam after its line, and once per message; a message that only gets a
# header (under the shipped min_score 15), a legitimate sender and a
# whitelisted host that sends all of it are never banned. EICAR is
# refused by rspamd (rspamd's line says reject, Postfix's names the
# virus): its sender must be banned, once; its class is recorded, not
# judged here. Then the logs replayed offline must give the same bans. How the servers are fetched,
# unpacked and run without being installed: tests/realmta-lib.sh.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"
. "$top_srcdir/tests/realmta-lib.sh"

debs

postfix_host_up /usr/bin/rspamd

# --- rspamd: Debian's configuration, the site's local.d ----------------------
add_user _rspamd 60301
in_server sh -c '
	set -e
	mkdir -p /var/lib/rspamd /var/log/rspamd /run/rspamd
	chown _rspamd:_rspamd /var/lib/rspamd /var/log/rspamd /run/rspamd
	cat >/etc/rspamd/local.d/options.inc <<EOF
enable_test_patterns = true;
EOF
	cat >/etc/rspamd/local.d/antivirus.conf <<EOF
clamav {
  type = "clamav";
  servers = "/run/clamav/clamd.ctl";
  action = "reject";
  symbol = "CLAM_VIRUS";
  scan_mime_parts = true;
}
EOF
	cat >/etc/rspamd/rspamd.local.lua <<EOF
config["regexp"]["SW_TAGGED"] = {
  re = "/sw-tagged-spam-marker/{sa_body}",
  score = 3.0,
  description = "a rule of the site",
}
EOF
	rspamd -c /etc/rspamd/rspamd.conf -u _rspamd -g _rspamd' >"$TMP/rspamd.out" 2>&1 ||
	{ cat "$TMP/rspamd.out" >&2; fail "rspamd did not start"; }
RSPAMD_LOG="$TMP/log/rspamd/rspamd.log"
wait_for 30 in_server sh -c 'ss -ltn | grep -q "127.0.0.1:11332 "' ||
	{ cat "$RSPAMD_LOG" >&2; fail "rspamd's proxy (milter) does not listen"; }
postfix_up inet:localhost:11332
in_server postconf -e "milter_mail_macros = i {mail_addr} {client_addr} {client_name} {auth_authen}"
in_server postfix reload >/dev/null 2>&1 || fail "postfix reload failed"

write_conf <<CONF
patterns_dir = "$top_srcdir/patterns"
source maillog { file = "$MAILLOG" }
source rspamd { file = "$RSPAMD_LOG" program = "rspamd" }
class spam { min_score = 15 }
CONF
start_daemon
firewall_up

LEGIT=203.0.113.10 GTUBE=203.0.113.40 GTUBE2=203.0.113.41 TAGGED=203.0.113.42 VIRUS=203.0.113.43
WLHOST=192.0.2.10
client_addr $LEGIT $GTUBE $GTUBE2 $TAGGED $VIRUS $WLHOST

legit $LEGIT
show_lines $LEGIT

# shellcheck disable=SC2046
offends $GTUBE spam - "Gtube pattern" $(sender) --to alice@example.org --body "$GTUBE_BODY"

# shellcheck disable=SC2046
offends $GTUBE2 spam - "Gtube pattern" $(sender) --to alice@example.org,bob@example.org \
	--body "$GTUBE_BODY"

# shellcheck disable=SC2046
accepted $TAGGED "the tagged message is delivered" $(sender) --to alice@example.org \
	--body "sw-tagged-spam-marker"
show_lines $TAGGED

# shellcheck disable=SC2046
offends $VIRUS "?" - "virus found" $(sender) --to alice@example.org \
	--attach @"$EICAR_FILE" --attach-name eicar.com

sessions $WLHOST "--to alice@example.org --body $GTUBE_BODY" "--to alice@example.org --attach @$EICAR_FILE"
settled $WLHOST

for a in $LEGIT $TAGGED $WLHOST; do innocent "$a" -; done
# (rspamd's own log has no syslog tag: --program gives its lines one)
verdicts "$MAILLOG" --program rspamd "$RSPAMD_LOG"
one_offence - $GTUBE
one_offence - $GTUBE2
one_offence 5 $VIRUS

echo "--- rspamd's task log lines:"
grep 'rspamd_task_write_log' "$RSPAMD_LOG" | sed 's/^/    /'
the_end realmta-rspamd
