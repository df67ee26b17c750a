/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "pipeline.h"

/* Housekeeping runs when the clock has moved this far (seconds). */
#define PIPELINE_TICK 10
/*
 * Each tick visits 1/LAP of the judge's table (at least SWEEP_MIN
 * entries), so a lap takes that many ticks whatever the size. The daemon
 * ticks every second: a lap takes 18 s and small tables are swept at once.
 * A replay or catch-up ticks every PIPELINE_TICK seconds of the log's
 * clock, every few thousand lines: a lap there takes 3 hours of log. What
 * a replay sweeps mostly still matters (a ban is remembered for
 * repeat_window, days), so a shorter lap would only read it again, every
 * remembered address cold in cache each time. Entries that stop mattering
 * linger at most a lap, and max_tracked bounds them all the same.
 */
#define PIPELINE_LAP_TICKS 18
#define PIPELINE_SWEEP_MIN 1024
#define PIPELINE_LINE_LAP_TICKS 1080
#define PIPELINE_LINE_SWEEP_MIN 16

static void pipeline_on_judge(void *ctx, const struct judge_event *e)
{
	struct pipeline *pl = ctx;

	switch (e->kind) {
	case JUDGE_OFFENCE:
		pl->st.offences++;
		pl->st.by_class[e->cls]++;
		/* from the first note on, accepted mail matters (judge.h) */
		if (e->note)
			pl->c.want_accepted = true;
		break;
	case JUDGE_IGNORED:
		pl->st.ignored++;
		break;
	case JUDGE_BAN:
		/* bans made here: not another host's, not one lengthened */
		pl->st.bans += !e->received && !e->renewed;
		break;
	case JUDGE_UNBAN:
	case JUDGE_EXPIRED:
		break;
	}
	if (pl->emit)
		pl->emit(pl->ctx, e);
}

/* The judge works ahead within a batch (see pipeline_feed). */
static void pipeline_on_sighting(void *ctx, const struct sighting *s)
{
	struct pipeline *pl = ctx;

	judge_offence_later(pl->j, s);
}

/* Everything that depends on cfg and ps, built aside so a failed reload
 * leaves the running pipeline untouched. */
struct pipeline_parts {
	struct whitelist wl;
	struct matcher m;
	uint64_t *hits;
};

static int pipeline_parts_build(struct pipeline_parts *pp, const struct config *cfg,
				struct patternset *ps, struct diag *d)
{
	const char *where = cfg->path ? cfg->path : "configuration";

	memset(pp, 0, sizeof(*pp));
	if (whitelist_init(&pp->wl, cfg->whitelist, cfg->nwhitelist, where, d) < 0)
		return -1;
	whitelist_resolve(&pp->wl, d);
	if (cfg->ignore_self && whitelist_load_self(&pp->wl) < 0)
		diag_warn(d, where, 0, "ignore_self: cannot list this host's addresses");
	pp->hits = calloc(ps->n ? ps->n : 1, sizeof(*pp->hits));
	if (!pp->hits || matcher_init(&pp->m, ps) < 0) {
		diag_error(d, where, 0, "out of memory");
		free(pp->hits);
		whitelist_free(&pp->wl);
		return -1;
	}
	return 0;
}

int pipeline_init(struct pipeline *pl, const struct config *cfg, struct patternset *ps,
		  judge_emit_fn *emit, void *ctx, struct diag *d)
{
	struct pipeline_parts pp;
	struct judge_rules rules;

	memset(pl, 0, sizeof(*pl));
	if (pipeline_parts_build(&pp, cfg, ps, d) < 0)
		return -1;
	pl->cfg = cfg;
	pl->ps = ps;
	pl->wl = pp.wl;
	pl->m = pp.m;
	pl->st.hits = pp.hits;
	pl->emit = emit;
	pl->ctx = ctx;
	judge_rules_from_config(&rules, cfg);
	pl->j = judge_new(&rules, &pl->wl, pipeline_on_judge, pl);
	if (!pl->j ||
	    correlator_init(&pl->c, cfg->correlate_max, cfg->correlate_timeout,
			    pipeline_on_sighting, pl) < 0 ||
	    correlator_set_traps(&pl->c, cfg->spamtraps, cfg->nspamtraps) < 0) {
		diag_error(d, cfg->path ? cfg->path : "configuration", 0, "out of memory");
		pipeline_free(pl);
		return -1;
	}
	return 0;
}

void pipeline_free(struct pipeline *pl)
{
	judge_free(pl->j);
	if (pl->c.t)
		correlator_free(&pl->c);
	matcher_free(&pl->m);
	whitelist_free(&pl->wl);
	free(pl->st.hits);
	memset(pl, 0, sizeof(*pl));
}

int pipeline_reload(struct pipeline *pl, const struct config *cfg, struct patternset *ps,
		    struct diag *d)
{
	struct pipeline_parts pp;
	struct judge_rules rules;

	/* what was read under the old rules is judged by them */
	judge_flush(pl->j);
	if (pipeline_parts_build(&pp, cfg, ps, d) < 0)
		return -1;
	if (correlator_set_traps(&pl->c, cfg->spamtraps, cfg->nspamtraps) < 0) {
		diag_error(d, cfg->path ? cfg->path : "configuration", 0, "out of memory");
		matcher_free(&pp.m);
		whitelist_free(&pp.wl);
		free(pp.hits);
		return -1;
	}
	matcher_free(&pl->m);
	whitelist_free(&pl->wl);
	free(pl->st.hits);
	pl->wl = pp.wl;
	pl->m = pp.m;
	pl->st.hits = pp.hits;
	pl->cfg = cfg;
	pl->ps = ps;
	correlator_set_limits(&pl->c, cfg->correlate_max, cfg->correlate_timeout);
	judge_rules_from_config(&rules, cfg);
	judge_reconfigure(pl->j, &rules, &pl->wl);
	return 0;
}

static void pipeline_housekeep(struct pipeline *pl, time_t now, size_t lap, size_t min)
{
	size_t budget = judge_tracked(pl->j) / lap + 1;

	if (budget < min)
		budget = min;
	pl->last_expire = now;
	correlator_expire(&pl->c, now);
	judge_expire(pl->j, now, budget);
}

/* The judging part, once the line is split and its clock chosen: the
 * pattern that matched, or PIPELINE_NO_MATCH. */
static uint32_t pipeline_judge_line(struct pipeline *pl, const struct origin *o,
				    const struct logline *l)
{
	struct match m;

	pl->st.lines++;
	if (l->time >= pl->last_expire + PIPELINE_TICK)
		pipeline_housekeep(pl, l->time, PIPELINE_LINE_LAP_TICKS, PIPELINE_LINE_SWEEP_MIN);
	if (!matcher_match(&pl->m, l, &m))
		return PIPELINE_NO_MATCH;
	pl->st.matched++;
	pl->st.hits[m.index]++;
	/* every session has one: the short way */
	if (m.pattern->signal == SIGNAL_CONNECT) {
		correlator_connect(&pl->c, &m);
		return (uint32_t)m.index;
	}
	if (pl->on_match)
		pl->on_match(pl->match_ctx, o, l, pl->ps->v[m.index].name);
	correlator_feed(&pl->c, &m, o, l->time);
	return (uint32_t)m.index;
}

static uint32_t pipeline_entry(struct pipeline *pl, const struct pipeline_source *from,
			       const struct pipeline_line *in, const struct logline *l)
{
	struct origin o = { .source = from->name, .where = in->where, .line = in->lineno };

	if (from->clock == PIPELINE_CATCHUP && l->time + pl->cfg->findtime <= from->now) {
		/* it could only make a ban that has run out, or count
		 * towards none: the judge does not see it */
		pl->st.lines++;
		pl->st.stale++;
		return PIPELINE_NO_MATCH;
	}
	if (from->clock == PIPELINE_ARRIVAL && l->time != from->now) {
		struct logline at = *l;

		at.time = from->now;
		return pipeline_judge_line(pl, &o, &at);
	}
	return pipeline_judge_line(pl, &o, l);
}

static uint32_t pipeline_line(struct pipeline *pl, const struct pipeline_source *from,
			      const struct pipeline_line *in)
{
	struct logline l;

	if (in->entry)
		return pipeline_entry(pl, from, in, in->entry);
	if (!in->text || in->len > pl->cfg->max_line) {
		pl->st.lines++;
		pl->st.skipped++;
		return PIPELINE_NO_MATCH;
	}
	if (parser_parse(from->parser, in->text, in->len, from->now, &l) < 0) {
		pl->st.lines++;
		pl->st.unparsed++;
		return PIPELINE_UNPARSED;
	}
	return pipeline_entry(pl, from, in, &l);
}

void pipeline_feed(struct pipeline *pl, const struct pipeline_source *from,
		   struct pipeline_line *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		v[i].matched = pipeline_line(pl, from, &v[i]);
	judge_flush(pl->j);
}

/* Feeds the n lines at v as b's, and reports the unparsed ones. */
static void pipeline_batch_run(struct pipeline *pl, struct pipeline_batch *b,
			       struct pipeline_line *v, size_t n)
{
	uint64_t unparsed = pl->st.unparsed;

	pipeline_feed(pl, &b->from, v, n);
	for (size_t i = 0; b->unparsed && pl->st.unparsed != unparsed && i < n; i++)
		if (v[i].matched == PIPELINE_UNPARSED)
			b->unparsed(b->ctx, &v[i]);
}

void pipeline_batch_feed(struct pipeline *pl, struct pipeline_batch *b)
{
	pipeline_batch_run(pl, b, b->v, b->n);
	b->n = 0;
}

void pipeline_batch_add_more(struct pipeline *pl, struct pipeline_batch *b, const char *text,
			     size_t len, const struct logline *entry, uint32_t where,
			     uint64_t lineno)
{
	if (grow(&b->v, &b->cap, b->n + 1, sizeof(*b->v), 256) < 0) {
		struct pipeline_line one = {
			.text = text, .len = len, .entry = entry, .lineno = lineno, .where = where,
		};

		pipeline_batch_feed(pl, b);
		pipeline_batch_run(pl, b, &one, 1);
		return;
	}
	pipeline_batch_add(pl, b, text, len, entry, where, lineno);
}

void pipeline_batch_free(struct pipeline_batch *b)
{
	free(b->v);
	b->v = NULL;
	b->n = b->cap = 0;
}

void pipeline_tick(struct pipeline *pl, time_t now)
{
	pipeline_housekeep(pl, now, PIPELINE_LAP_TICKS, PIPELINE_SWEEP_MIN);
}
