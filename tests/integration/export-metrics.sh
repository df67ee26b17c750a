#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The metrics: `spamwrathctl metrics` and export.metrics_file give the same
# families in Prometheus' text format, which promtool (Debian's prometheus
# package) accepts without a lint complaint; the counters follow what the
# daemon did (lines per source, matches per pattern, offences per class,
# bans by class and origin, unbans, ignored lines by reason, the ban
# latency histogram); the file is rewritten while the daemon runs, each
# time whole (no temporary file left), and once more at stop.
. "$(dirname "$0")/../lib.sh"
. "$top_srcdir/tests/daemon-lib.sh"
command -v promtool >/dev/null || fail "promtool is missing: apt-get install prometheus"
command -v jq >/dev/null || fail "jq is missing: apt-get install jq"

prom="$TMP/export/spamwrath.prom"
mkdir "$TMP/export"
write_file_conf <<CONF
export { metrics_file = "$prom"  metrics_interval = 1s }
CONF
start_daemon

line_unknown 203.0.113.31 >>"$log"
line_benign 203.0.113.32 >>"$log"
line_unknown 192.0.2.7 >>"$log"		# whitelisted
wait_banned "$SET4" 203.0.113.31
ctl ban 198.51.100.40 --reason "by hand" >/dev/null || fail "ban failed"
ctl unban 198.51.100.40 >/dev/null || fail "unban failed"

ctl metrics >"$TMP/m1" || fail "spamwrathctl metrics failed"
promtool check metrics <"$TMP/m1" >"$TMP/lint" 2>&1 || { cat "$TMP/lint"; fail "promtool rejects spamwrathctl metrics"; }
[ ! -s "$TMP/lint" ] || { cat "$TMP/lint"; fail "promtool has complaints"; }

has() {	# FILE LINE
	grep -qxF "$2" "$1" || { grep "${2%% *}" "$1" >&2 || :; fail "$1 lacks: $2"; }
}
has "$TMP/m1" 'spamwrath_lines_read_total{source="maillog"} 3'
has "$TMP/m1" 'spamwrath_parse_failures_total{source="maillog"} 0'
has "$TMP/m1" 'spamwrath_pattern_matches_total{pattern="postfix-unknown-recipient"} 2'
has "$TMP/m1" 'spamwrath_offences_total{class="unknown-recipient"} 1'
has "$TMP/m1" 'spamwrath_bans_total{class="unknown-recipient",origin="log"} 1'
has "$TMP/m1" 'spamwrath_bans_total{class="manual",origin="manual"} 1'
has "$TMP/m1" 'spamwrath_bans_total{class="spam",origin="log"} 0'
has "$TMP/m1" 'spamwrath_unbans_total 1'
has "$TMP/m1" 'spamwrath_ignored_total{reason="whitelist"} 1'
has "$TMP/m1" 'spamwrath_active_bans 1'
has "$TMP/m1" 'spamwrath_ban_latency_seconds_count 1'
has "$TMP/m1" 'spamwrath_ban_latency_seconds_bucket{le="+Inf"} 1'
has "$TMP/m1" 'spamwrath_source_lag_bytes{source="maillog"} 0'
grep -q '^spamwrath_source_seconds_since_last_line{source="maillog"} [0-9]*$' "$TMP/m1" ||
	fail "no seconds since the last line"
grep -q '^spamwrath_queue_ids_waiting 0$' "$TMP/m1" || fail "no queue ids waiting gauge"
if grep -v '^#' "$TMP/m1" | grep -v '^spamwrath_'; then
	fail "a metric whose name does not start with spamwrath_"
fi

# contrib/: the alert rules load, the dashboard is JSON, and every
# spamwrath_ name they use is one the daemon exports.
promtool check rules "$top_srcdir/contrib/prometheus-alerts.yml" >"$TMP/rules" 2>&1 ||
	{ cat "$TMP/rules"; fail "promtool rejects contrib/prometheus-alerts.yml"; }
jq -e '.panels | length > 5' "$top_srcdir/contrib/grafana-spamwrath.json" >/dev/null ||
	fail "contrib/grafana-spamwrath.json is no dashboard"
for n in $(grep -ho 'spamwrath_[a-z_]*' "$top_srcdir/contrib/prometheus-alerts.yml" \
	"$top_srcdir/contrib/grafana-spamwrath.json" | sort -u); do
	grep -q "^# TYPE $n " "$TMP/m1" || grep -q "^# TYPE ${n%_bucket} histogram" "$TMP/m1" ||
		fail "contrib/ uses $n, which spamwrathctl metrics does not give"
done

# The file: there, accepted, and rewritten as lines come.
wait_for 5 test -s "$prom" || fail "$prom was not written"
promtool check metrics <"$prom" >"$TMP/lint" 2>&1 || { cat "$TMP/lint"; fail "promtool rejects $prom"; }
[ ! -s "$TMP/lint" ] || { cat "$TMP/lint"; fail "promtool has complaints about $prom"; }
line_unknown 203.0.113.33 >>"$log"
wait_banned "$SET4" 203.0.113.33
wait_for 5 grep -qx 'spamwrath_lines_read_total{source="maillog"} 4' "$prom" ||
	{ cat "$prom"; fail "$prom was not rewritten with the new line"; }
grep -qx 'spamwrath_bans_total{class="unknown-recipient",origin="log"} 2' "$prom" ||
	fail "$prom does not count the second ban"
[ "$(ls "$TMP/export")" = spamwrath.prom ] || { ls "$TMP/export"; fail "temporary files left beside $prom"; }

# At stop, the file is written a last time.
line_benign 203.0.113.34 >>"$log"
wait_for 5 sh -c "ctl() { '$SPAMWRATHCTL' -s '$TMP/control.sock' \"\$@\"; }; ctl metrics | grep -qx 'spamwrath_lines_read_total{source=\"maillog\"} 5'" ||
	fail "the fifth line was not read"
stop_daemon
grep -qx 'spamwrath_lines_read_total{source="maillog"} 5' "$prom" || fail "no last rewrite at stop"
echo "metrics: promtool accepts them, they count, the file follows"
