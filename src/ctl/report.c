/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "jsonout.h"
#include "names.h"
#include "report.h"

/* The readable report lists this many bans; --json gives every one. */
#define REPORT_BANS_LISTED 50

struct report_ban {
	time_t time;
	struct addr addr;
	enum class_id cls;
	long duration;
	struct origin origin;
};

static const char *report_reasons[] = {
	"whitelist", "self", "loopback", "unspecified", "not-unicast", "invalid-address",
	"class-disabled", "score", "weight", NULL,
};

void report_init(struct report *r, FILE *out, bool json)
{
	memset(r, 0, sizeof(*r));
	r->out = out;
	r->json = json;
}

void report_free(struct report *r)
{
	free(r->bans);
	r->bans = NULL;
}

static struct json_object *report_address(const struct judge_event *e)
{
	char buf[ADDR_STRLEN];
	const struct sighting *s = e->s;

	if (s && !s->addr_ok)
		return jsonout_string(s->addr_text ? s->addr_text : "", s->addr_text ? s->addr_len : 0);
	/* offences and ignored lines name the client; bans the judged network */
	if (s && e->kind != JUDGE_BAN)
		return jsonout_cstring(addr_format(&s->addr, buf));
	return jsonout_cstring(addr_format(&e->addr, buf));
}

static void report_json(struct report *r, const struct judge_event *e)
{
	static const char *kinds[] = {
		[JUDGE_OFFENCE] = "offence", [JUDGE_IGNORED] = "ignored", [JUDGE_BAN] = "ban",
		[JUDGE_UNBAN] = "unban", [JUDGE_EXPIRED] = "expired",
	};
	struct json_object *o = json_object_new_object();

	jsonout_add(o, "event", json_object_new_string(kinds[e->kind]));
	if (e->s) {
		jsonout_add(o, "file", jsonout_cstring(names_get(e->s->origin.source)));
		jsonout_add(o, "line", json_object_new_int64((int64_t)e->s->origin.line));
	}
	jsonout_add(o, "time", jsonout_time(e->time));
	jsonout_add(o, "address", report_address(e));
	jsonout_add(o, "class", json_object_new_string(class_name(e->cls)));
	jsonout_add(o, "pattern", jsonout_cstring(names_get(e->pattern)));
	switch (e->kind) {
	case JUDGE_OFFENCE:
		jsonout_add(o, "weight", jsonout_weight(e->weight));
		if (e->note)	/* no offence in itself, left out of a ban's count */
			jsonout_add(o, "note", json_object_new_boolean(1));
		break;
	case JUDGE_IGNORED:
		jsonout_add(o, "reason", json_object_new_string(e->reason));
		break;
	case JUDGE_BAN:
		jsonout_add(o, "duration", json_object_new_int64(e->duration));
		jsonout_add(o, "offences", json_object_new_int64(e->offences));
		jsonout_add(o, "earlier_bans", json_object_new_int64(e->earlier_bans));
		break;
	case JUDGE_UNBAN:
	case JUDGE_EXPIRED:
		break;
	}
	jsonout_print(r->out, o);
}

void report_event(void *ctx, const struct judge_event *e)
{
	struct report *r = ctx;

	if (e->kind == JUDGE_UNBAN || e->kind == JUDGE_EXPIRED)
		return;		/* replay has no clock of its own to expire by */
	if (e->kind == JUDGE_IGNORED) {
		for (size_t i = 0; report_reasons[i]; i++)
			if (strcmp(report_reasons[i], e->reason) == 0)
				r->ignored_by[i]++;
	}
	if (r->json) {
		report_json(r, e);
		return;
	}
	if (e->kind == JUDGE_BAN && r->nbans < REPORT_BANS_LISTED) {
		if (!r->bans) {
			r->bans = calloc(REPORT_BANS_LISTED, sizeof(*r->bans));
			if (!r->bans)
				return;
		}
		r->bans[r->nbans++] = (struct report_ban){
			e->time, e->addr, e->cls, e->duration,
			e->s ? e->s->origin : (struct origin){ 0 },
		};
	}
}

static void report_summary_json(struct report *r, const struct pipeline *pl, double seconds)
{
	const struct pipeline_stats *st = &pl->st;
	struct json_object *o = json_object_new_object();

	jsonout_add(o, "event", json_object_new_string("summary"));
	jsonout_add(o, "lines", json_object_new_int64((int64_t)st->lines));
	jsonout_add(o, "matched", json_object_new_int64((int64_t)st->matched));
	jsonout_add(o, "offences", json_object_new_int64((int64_t)st->offences));
	jsonout_add(o, "ignored", json_object_new_int64((int64_t)st->ignored));
	jsonout_add(o, "bans", json_object_new_int64((int64_t)st->bans));
	jsonout_add(o, "skipped", json_object_new_int64((int64_t)st->skipped));
	jsonout_add(o, "unparsed", json_object_new_int64((int64_t)st->unparsed));
	jsonout_add(o, "waiting", json_object_new_int64((int64_t)correlator_pending(&pl->c)));
	jsonout_add(o, "seconds", jsonout_double(seconds, 6));
	jsonout_print(r->out, o);
}

void report_summary(struct report *r, const struct pipeline *pl, double seconds)
{
	const struct pipeline_stats *st = &pl->st;
	uint64_t missed = st->lines - st->matched - st->skipped - st->unparsed;
	char buf[ADDR_STRLEN], dbuf[32];
	FILE *f = r->out;

	if (r->json) {
		report_summary_json(r, pl, seconds);
		return;
	}
	fprintf(f, "Lines:     %llu read, %llu matched, %llu missed, %llu skipped (over max_line %zu),"
		" %llu without a header\n", (unsigned long long)st->lines,
		(unsigned long long)st->matched, (unsigned long long)missed,
		(unsigned long long)st->skipped, pl->cfg->max_line, (unsigned long long)st->unparsed);
	fprintf(f, "Patterns:  %zu from %zu files (%zu compiled to JIT code)\n", pl->ps->n,
		pl->ps->nfiles, pl->ps->njit);
	for (size_t i = 0; i < pl->ps->n; i++) {
		const struct pattern *p = &pl->ps->v[i];

		fprintf(f, "  %8llu  %-40s %-18s %s:%d\n", (unsigned long long)st->hits[i],
			names_get(p->name), class_name(p->cls), names_get(p->file), p->line);
	}
	fprintf(f, "Offences:  %llu\n", (unsigned long long)st->offences);
	for (int c = 0; c < CLASS_COUNT; c++)
		if (st->by_class[c])
			fprintf(f, "  %8llu  %s\n", (unsigned long long)st->by_class[c],
				class_name((enum class_id)c));
	fprintf(f, "Ignored:   %llu\n", (unsigned long long)st->ignored);
	for (size_t i = 0; report_reasons[i]; i++)
		if (r->ignored_by[i])
			fprintf(f, "  %8llu  %s\n", (unsigned long long)r->ignored_by[i],
				report_reasons[i]);
	fprintf(f, "Bans:      %llu\n", (unsigned long long)st->bans);
	for (size_t i = 0; i < r->nbans; i++) {
		struct json_object *t = jsonout_time(r->bans[i].time);

		fprintf(f, "  %s  %-28s %-18s %-8s %s:%llu\n", json_object_get_string(t),
			addr_format(&r->bans[i].addr, buf), class_name(r->bans[i].cls),
			duration_format(r->bans[i].duration, dbuf, sizeof(dbuf)),
			names_get(r->bans[i].origin.source),
			(unsigned long long)r->bans[i].origin.line);
		json_object_put(t);
	}
	if (st->bans > r->nbans)
		fprintf(f, "  ... and %llu more (--json lists every event)\n",
			(unsigned long long)(st->bans - r->nbans));
	if (correlator_pending(&pl->c))
		fprintf(f, "Waiting:   %zu events whose queue id never met its client\n",
			correlator_pending(&pl->c));
	fprintf(f, "Time:      %.3f s", seconds);
	if (seconds > 0)
		fprintf(f, " (%.0f lines/s)", (double)st->lines / seconds);
	fprintf(f, "\n");
}
