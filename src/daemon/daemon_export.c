/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What spamwrathd exports for other programs, without a listening socket
 * of its own: its metrics in Prometheus' text format (served by
 * `spamwrathctl metrics` and kept in export.metrics_file, node-exporter's
 * textfile convention), and its active bans as an rbldnsd data file
 * (export.rbldnsd_file), so that hosts without spamwrath can consult them
 * as a DNS blocklist. Both files are replaced whole (a temporary file in
 * the same directory, then rename): a reader sees the old or the new one.
 * It must never slow the loop down: the rbldnsd file is rewritten at most
 * once a second, and only when the bans changed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "banset.h"
#include "daemon_int.h"
#include "duration.h"
#include "log.h"
#include "names.h"

#define USEC_PER_SEC 1000000ULL

/* Upper bounds of the ban latency's buckets, in seconds. */
static const double export_latency_le[DAEMON_LATENCY_BUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5,
};

static const char *const export_origin_name[DAEMON_ORIGIN_COUNT] = {
	[DAEMON_ORIGIN_LOG] = "log",
	[DAEMON_ORIGIN_MANUAL] = "manual",
	[DAEMON_ORIGIN_FLEET] = "fleet",
};

static uint64_t export_now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

/* --- counting ---------------------------------------------------------- */

static void export_count_ignored(struct daemon_counts *c, const char *reason)
{
	for (size_t i = 0; i < DAEMON_IGNORE_REASONS; i++) {
		if (!c->ignored[i].reason)
			c->ignored[i].reason = reason;
		if (c->ignored[i].reason == reason || strcmp(c->ignored[i].reason, reason) == 0) {
			c->ignored[i].n++;
			return;
		}
	}
	c->ignored_other++;
}

void daemon_export_event(struct daemon *dm, const struct judge_event *e)
{
	struct daemon_counts *c = &dm->counts;

	switch (e->kind) {
	case JUDGE_OFFENCE:
		return;
	case JUDGE_IGNORED:
		export_count_ignored(c, e->reason ? e->reason : "unknown");
		return;
	case JUDGE_BAN:
		if (!e->renewed)	/* a fleet's lengthening of a running ban */
			c->bans[e->cls][e->received ? DAEMON_ORIGIN_FLEET :
					e->s ? DAEMON_ORIGIN_LOG : DAEMON_ORIGIN_MANUAL]++;
		break;
	case JUDGE_UNBAN:
		c->unbans++;
		break;
	case JUDGE_EXPIRED:
		c->expiries++;
		break;
	}
	dm->exp.rbl_dirty = true;
}

void daemon_export_match(void *ctx, const struct origin *o, const struct logline *l,
			 uint32_t pattern)
{
	struct daemon *dm = ctx;

	dm->counts.match_usec = export_now_usec();
}

void daemon_export_banned(struct daemon *dm, const struct judge_event *e)
{
	struct daemon_counts *c = &dm->counts;
	double secs;
	size_t b = 0;

	if (!e->s || e->received || !c->match_usec)
		return;		/* by hand or from the fleet: no line to measure from */
	secs = (double)(export_now_usec() - c->match_usec) / 1e6;
	while (b < DAEMON_LATENCY_BUCKETS && secs > export_latency_le[b])
		b++;
	c->latency[b]++;
	c->latency_count++;
	c->latency_sum += secs;
}

/* --- the metrics text -------------------------------------------------- */

/* A label value as the text format wants it: \, " and newline escaped. */
static void export_label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void export_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A family of one sample without labels: "name n". */
static void export_one(FILE *f, const char *name, const char *type, const char *help, uint64_t n)
{
	export_family(f, name, type, help);
	fprintf(f, "%s %llu\n", name, (unsigned long long)n);
}

/* name{label="value"} n */
static void export_sample1(FILE *f, const char *name, const char *label, const char *value,
			   uint64_t n)
{
	fprintf(f, "%s{%s=\"", name, label);
	export_label(f, value);
	fprintf(f, "\"} %llu\n", (unsigned long long)n);
}

static void export_sources(FILE *f, struct daemon *dm, time_t now)
{
	static const char *const names[] = {
		"spamwrath_lines_read_total", "spamwrath_parse_failures_total",
		"spamwrath_source_lag_bytes", "spamwrath_source_seconds_since_last_line",
	};
	static const char *const types[] = { "counter", "counter", "gauge", "gauge" };
	static const char *const helps[] = {
		"Lines read from a log source.",
		"Lines of a source whose syslog header could not be read.",
		"Bytes written to a file source and not read yet.",
		"Seconds since a source handed out its last line (since the start when none).",
	};

	for (size_t k = 0; k < 4; k++) {
		export_family(f, names[k], types[k], helps[k]);
		for (size_t i = 0; i < dm->nsrc; i++) {
			struct source *src = dm->src[i];
			struct source_pos p;
			struct stat st;
			uint64_t v;

			switch (k) {
			case 0: v = src->lines; break;
			case 1: v = src->unparsed; break;
			case 2:
				if (src->kind != SOURCE_FILE || source_position(src, &p) < 0)
					continue;
				v = 0;
				if (p.valid && stat(src->conf.file, &st) == 0 &&
				    (uint64_t)st.st_ino == p.ino && (uint64_t)st.st_size >= p.offset)
					v = (uint64_t)st.st_size - p.offset;
				source_pos_free(&p);
				break;
			default:
				v = (uint64_t)(now - (src->last_line ? src->last_line : dm->started));
				break;
			}
			export_sample1(f, names[k], "source", src->conf.name, v);
		}
	}
}

static void export_judged(FILE *f, struct daemon *dm, const struct banset_stats *bs)
{
	const struct pipeline_stats *st = &dm->pl.st;
	const struct daemon_counts *c = &dm->counts;

	export_one(f, "spamwrath_lines_too_long_total", "counter",
		   "Lines longer than max_line, skipped.", st->skipped);
	export_family(f, "spamwrath_pattern_matches_total", "counter",
		      "Lines each pattern matched (since the last reload).");
	for (size_t i = 0; i < dm->cur->ps.n; i++)
		export_sample1(f, "spamwrath_pattern_matches_total", "pattern",
			       names_get(dm->cur->ps.v[i].name), st->hits[i]);
	export_family(f, "spamwrath_offences_total", "counter", "Offences, by class.");
	for (int i = 0; i < CLASS_COUNT; i++)
		if (i != CLASS_CONTEXT && i != CLASS_MANUAL)
			export_sample1(f, "spamwrath_offences_total", "class",
				       class_name((enum class_id)i), st->by_class[i]);
	export_family(f, "spamwrath_bans_total", "counter",
		      "Bans, by class and origin (log: a pattern's offences; manual: spamwrathctl ban; "
		      "fleet: decided by another host of the fleet).");
	for (int i = 0; i < CLASS_COUNT; i++) {
		if (i == CLASS_CONTEXT)
			continue;
		for (int o = 0; o < DAEMON_ORIGIN_COUNT; o++)
			fprintf(f, "spamwrath_bans_total{class=\"%s\",origin=\"%s\"} %llu\n",
				class_name((enum class_id)i), export_origin_name[o],
				(unsigned long long)c->bans[i][o]);
	}
	export_one(f, "spamwrath_unbans_total", "counter",
		   "Bans lifted by hand.", c->unbans);
	export_one(f, "spamwrath_expiries_total", "counter",
		   "Bans that ran out.", c->expiries);
	export_family(f, "spamwrath_ignored_total", "counter",
		      "Matched lines that were no offence, by reason (whitelist, self, loopback, ...).");
	for (size_t i = 0; i < DAEMON_IGNORE_REASONS && c->ignored[i].reason; i++)
		export_sample1(f, "spamwrath_ignored_total", "reason", c->ignored[i].reason,
			       c->ignored[i].n);
	if (c->ignored_other)
		export_sample1(f, "spamwrath_ignored_total", "reason", "other", c->ignored_other);
	export_one(f, "spamwrath_ban_errors_total", "counter",
		   "Bans the kernel's set refused, or that could not be tried (see the journal).",
		   dm->ban_errors + bs->refused);
}

static void export_gauges(FILE *f, struct daemon *dm, const struct banset_stats *bs,
			  time_t now)
{
	const struct daemon_counts *c = &dm->counts;
	uint64_t cum = 0;

	export_one(f, "spamwrath_active_bans", "gauge",
		   "Bans running, in force or not (see spamwrath_bans_not_in_force).",
		   judge_active_bans(dm->pl.j, now));
	export_family(f, "spamwrath_bans_not_in_force", "gauge",
		      "Bans the kernel refused, kept and retried when room appears, by family.");
	fprintf(f, "spamwrath_bans_not_in_force{family=\"ipv4\"} %zu\n", bs->kept[0]);
	fprintf(f, "spamwrath_bans_not_in_force{family=\"ipv6\"} %zu\n", bs->kept[1]);
	export_family(f, "spamwrath_set_full", "gauge",
		      "1 while the set is known to be full, by family.");
	fprintf(f, "spamwrath_set_full{family=\"ipv4\"} %d\n", bs->full[0]);
	fprintf(f, "spamwrath_set_full{family=\"ipv6\"} %d\n", bs->full[1]);
	export_one(f, "spamwrath_tracked_addresses", "gauge",
		   "Addresses the judge remembers (offences, bans, history).",
		   judge_tracked(dm->pl.j));
	export_one(f, "spamwrath_queue_ids_waiting", "gauge",
		   "Queue ids whose lines wait for their client.", correlator_pending(&dm->pl.c));
	export_family(f, "spamwrath_ban_latency_seconds", "histogram",
		      "From handling the line that made a ban to the set holding it.");
	for (size_t b = 0; b <= DAEMON_LATENCY_BUCKETS; b++) {
		cum += c->latency[b];
		if (b < DAEMON_LATENCY_BUCKETS)
			fprintf(f, "spamwrath_ban_latency_seconds_bucket{le=\"%g\"} %llu\n",
				export_latency_le[b], (unsigned long long)cum);
		else
			fprintf(f, "spamwrath_ban_latency_seconds_bucket{le=\"+Inf\"} %llu\n",
				(unsigned long long)cum);
	}
	fprintf(f, "spamwrath_ban_latency_seconds_sum %.6f\n", c->latency_sum);
	fprintf(f, "spamwrath_ban_latency_seconds_count %llu\n",
		(unsigned long long)c->latency_count);
	export_family(f, "spamwrath_reloads_total", "counter", "Reloads, by result.");
	fprintf(f, "spamwrath_reloads_total{result=\"ok\"} %llu\n",
		(unsigned long long)dm->reloads);
	fprintf(f, "spamwrath_reloads_total{result=\"failed\"} %llu\n",
		(unsigned long long)dm->reload_failures);
	export_one(f, "spamwrath_start_time_seconds", "gauge",
		   "When spamwrathd started, in seconds since the epoch.", dm->started);
	export_family(f, "spamwrath_build_info", "gauge", "spamwrathd's version, as a label.");
	fprintf(f, "spamwrath_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
}

/* A number of fleet_status()'s object, 0 when missing. */
static uint64_t export_fleet_n(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? (uint64_t)json_object_get_int64(v) : 0;
}

/* In a fleet: what went to it and came from it. */
static void export_fleet(FILE *f, struct daemon *dm)
{
	struct json_object *st = dm->fleet ? fleet_status(dm->fleet) : NULL, *rej, *v;

	if (!st)
		return;
	export_one(f, "spamwrath_fleet_bans_sent_total", "counter",
		   "Bans published to the fleet.", export_fleet_n(st, "published"));
	export_one(f, "spamwrath_fleet_bans_received_total", "counter",
		   "Bans read from the fleet's other hosts.", export_fleet_n(st, "received"));
	export_one(f, "spamwrath_fleet_offences_sent_total", "counter",
		   "Offences shared with the fleet.", export_fleet_n(st, "offences_shared"));
	export_family(f, "spamwrath_fleet_messages_refused_total", "counter",
		      "Messages from the fleet refused, by reason (refused_here: the rules here).");
	if (json_object_object_get_ex(st, "rejected", &rej) &&
	    json_object_get_type(rej) == json_type_object) {
		json_object_object_foreach(rej, k, n)
			export_sample1(f, "spamwrath_fleet_messages_refused_total", "reason", k,
				       (uint64_t)json_object_get_int64(n));
	}
	export_sample1(f, "spamwrath_fleet_messages_refused_total", "reason", "refused_here",
		       export_fleet_n(st, "refused_here"));
	export_one(f, "spamwrath_fleet_connected", "gauge",
		   "1 when connected to the fleet's Redis, else 0.",
		   json_object_object_get_ex(st, "state", &v) &&
		   strcmp(json_object_get_string(v), "out of reach") != 0);
	json_object_put(st);
}

char *daemon_metrics_text(struct daemon *dm)
{
	time_t now = time(NULL);
	char *text = NULL;
	size_t len = 0;
	struct banset_stats bs = { .refused = 0 };
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	if (dm->ban)
		banset_stats(dm->ban, &bs);
	export_sources(f, dm, now);
	export_judged(f, dm, &bs);
	export_gauges(f, dm, &bs, now);
	export_fleet(f, dm);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* --- the files ----------------------------------------------------------- */

/* Replaces path by len bytes of text: a temporary file beside it, then
 * rename. 0, or -errno (the temporary file removed). */
static int export_replace(const char *path, const char *text, size_t len)
{
	char *tmp = NULL;
	int fd, e = 0;

	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
		return -ENOMEM;
	fd = mkstemp(tmp);
	if (fd < 0) {
		e = -errno;
		free(tmp);
		return e;
	}
	/* readable by the collector or rbldnsd, whoever they run as */
	if (fchmod(fd, 0644) < 0)
		e = -errno;
	for (size_t off = 0; !e && off < len;) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			e = -errno;
		else
			off += (size_t)n;
	}
	if (close(fd) < 0 && !e)
		e = -errno;
	if (!e && rename(tmp, path) < 0)
		e = -errno;
	if (e)
		unlink(tmp);
	free(tmp);
	return e;
}

/* Says a failing file once, and once again when it works. */
static void export_result(const char *what, const char *path, int e, bool *failing)
{
	if (e < 0 && !*failing)
		log_error("export: cannot write %s %s: %s", what, path, strerror(-e));
	else if (e == 0 && *failing)
		log_info("export: writing %s %s again", what, path);
	*failing = e < 0;
}

static void export_metrics_file(struct daemon *dm)
{
	const char *path = dm->cur->cfg->metrics_file;
	char *text;

	if (!path)
		return;
	text = daemon_metrics_text(dm);
	export_result("metrics_file", path, text ? export_replace(path, text, strlen(text)) : -ENOMEM,
		      &dm->exp.metrics_failing);
	free(text);
}

struct export_rbl {
	FILE *f;
	time_t now;
	int family;
};

static int export_rbl_entry(void *ctx, const struct judge_entry *e)
{
	struct export_rbl *r = ctx;
	char addr[ADDR_STRLEN], left[32], until[32];
	struct tm tm;

	if (e->ban_until <= r->now || e->addr.family != r->family)
		return 0;
	duration_format((long)(e->ban_until - r->now), left, sizeof(left));
	gmtime_r(&e->ban_until, &tm);
	strftime(until, sizeof(until), "%Y-%m-%d %H:%M UTC", &tm);
	/* rbldnsd's TXT: "$" would stand for the queried address */
	fprintf(r->f, "%s :127.0.0.2:spamwrath: %s, until %s (%s left when listed)\n",
		addr_format(&e->addr, addr), class_name(e->ban_class), until, left);
	return 0;
}

/*
 * The active bans as one rbldnsd "combined" data file: an ip4set for the
 * IPv4 bans and an ip6trie for the IPv6 networks, both at the zone's apex,
 * each answering 127.0.0.2 with a TXT naming the class and the ban's end.
 */
static void export_rbldnsd_file(struct daemon *dm)
{
	const char *path = dm->cur->cfg->rbldnsd_file;
	struct export_rbl r = { .now = time(NULL) };
	char *text = NULL, stamp[32];
	size_t len = 0;
	struct tm tm;
	int e = 0;

	/* a dry run bans nothing: it publishes no blocklist either */
	if (!path || dm->dry_run)
		return;
	r.f = open_memstream(&text, &len);
	if (!r.f) {
		export_result("rbldnsd_file", path, -ENOMEM, &dm->exp.rbl_failing);
		return;
	}
	gmtime_r(&r.now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(r.f, "# spamwrathd's active bans at %s: rbldnsd dataset type \"combined\"\n",
		stamp);
	fputs("$DATASET ip4set @\n", r.f);
	r.family = 4;
	if (judge_walk(dm->pl.j, export_rbl_entry, &r) != 0)
		e = -ENOMEM;
	fputs("$DATASET ip6trie @\n", r.f);
	r.family = 6;
	if (judge_walk(dm->pl.j, export_rbl_entry, &r) != 0)
		e = -ENOMEM;
	if (fclose(r.f) != 0)
		e = -ENOMEM;
	if (!e)
		e = export_replace(path, text, len);
	free(text);
	export_result("rbldnsd_file", path, e, &dm->exp.rbl_failing);
	if (e == 0)
		dm->exp.rbl_dirty = false;
}

static int export_on_metrics_timer(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct daemon *dm = userdata;

	export_metrics_file(dm);
	sd_event_source_set_time_relative(es, (uint64_t)dm->exp.metrics_interval * USEC_PER_SEC);
	return 0;
}

int daemon_export_setup(struct daemon *dm)
{
	const struct config *cfg = dm->cur->cfg;
	long every = cfg->metrics_interval > 0 ? cfg->metrics_interval : 1;
	int r;

	dm->exp.rbl_dirty = true;	/* written once at start, then on changes */
	if (!cfg->metrics_file) {
		if (dm->exp.metrics_timer)
			sd_event_source_set_enabled(dm->exp.metrics_timer, SD_EVENT_OFF);
		return 0;
	}
	if (!dm->exp.metrics_timer) {
		r = sd_event_add_time_relative(dm->ev, &dm->exp.metrics_timer, CLOCK_MONOTONIC, 0,
					       0, export_on_metrics_timer, dm);
		if (r < 0) {
			log_error("export: cannot add the metrics timer: %s", strerror(-r));
			return -1;
		}
	} else if (every != dm->exp.metrics_interval) {
		sd_event_source_set_time_relative(dm->exp.metrics_timer, 0);
	}
	dm->exp.metrics_interval = every;
	sd_event_source_set_enabled(dm->exp.metrics_timer, SD_EVENT_ON);
	return 0;
}

void daemon_export_tick(struct daemon *dm)
{
	if (dm->exp.rbl_dirty)
		export_rbldnsd_file(dm);
}

void daemon_export_stop(struct daemon *dm)
{
	if (dm->cur && dm->cur->cfg && dm->pl_ready) {
		export_metrics_file(dm);
		if (dm->exp.rbl_dirty)
			export_rbldnsd_file(dm);
	}
	dm->exp.metrics_timer = sd_event_source_disable_unref(dm->exp.metrics_timer);
}
