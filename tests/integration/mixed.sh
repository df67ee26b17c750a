#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A day's mail log mixing every program and offence class the default
# patterns know, IPv4 and IPv6, classic and RFC 3339 stamps, Exim's own
# mainlog beside syslog: every offender must be banned with its class
# (tests/data/mixed/bans, nothing more), and nothing may name a client
# that only did ordinary things (connects, accepted mail, clean verdicts,
# greylisting, reject_warning), nor an address that appears only inside
# the text a client wrote (HELO, sender, subject).
. "$(dirname "$0")/../lib.sh"

data="$top_srcdir/tests/data/mixed"
conf="$data/spamwrath.conf"
"$SPAMWRATHCTL" test -c "$conf" --json "$data/mail.log" >"$TMP/events" \
	|| fail "spamwrathctl test mail.log exited with $?"
"$SPAMWRATHCTL" test -c "$conf" --json --program exim "$data/mainlog" >>"$TMP/events" \
	|| fail "spamwrathctl test mainlog exited with $?"

sed -n 's/.*"event":"ban".*"address":"\([^"]*\)","class":"\([^"]*\)".*/\1 \2/p' "$TMP/events" \
	| sort >"$TMP/bans"
sort "$data/bans" >"$TMP/expected"
diff -u "$TMP/expected" "$TMP/bans" || fail "the bans differ from tests/data/mixed/bans"

# Clients that did nothing wrong, and addresses only the clients' own text
# names: no event of any kind.
for a in 198.51.100.1 198.51.100.3 198.51.100.4 198.51.100.5 198.51.100.6 \
	198.51.100.7 198.51.100.8 198.51.100.9 198.51.100.10 198.51.100.11 \
	198.51.100.14 198.51.100.15 198.51.100.230 2001:db8:1::99; do
	if grep -q "\"address\":\"$a\"" "$TMP/events"; then
		grep "\"address\":\"$a\"" "$TMP/events" >&2
		fail "$a gave an event"
	fi
done

# Seen but never banned: the whitelisted backup MX, a spam score under
# min_score, one failed login.
for a in 192.0.2.25 198.51.100.12 198.51.100.13; do
	grep -q "\"address\":\"$a\"" "$TMP/events" || fail "$a was not recognised"
	if grep "\"address\":\"$a\"" "$TMP/events" | grep -q '"event":"ban"'; then
		fail "$a was banned"
	fi
done
grep -q '"address":"192.0.2.25".*"reason":"whitelist"' "$TMP/events" || fail "whitelist not applied"
grep -q '"address":"198.51.100.12".*"reason":"score"' "$TMP/events" || fail "min_score not applied"
