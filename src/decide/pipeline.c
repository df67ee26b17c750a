/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

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
 * repeat_window, days), so a shorter lap only re-reads it: at 18 minutes
 * the sweep, touching every remembered address cold in cache, cost 8 % of
 * a 1M-line replay. Entries that stop mattering linger at most a lap,
 * and max_tracked bounds them all the same.
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

/* The judging part, once the line is split and its clock chosen. */
static void pipeline_judge_line(struct pipeline *pl, const struct origin *o,
				const struct logline *l)
{
	struct match m;

	pl->st.lines++;
	if (l->time >= pl->last_expire + PIPELINE_TICK)
		pipeline_housekeep(pl, l->time, PIPELINE_LINE_LAP_TICKS, PIPELINE_LINE_SWEEP_MIN);
	if (!matcher_match(&pl->m, l, &m))
		return;
	pl->st.matched++;
	pl->st.hits[m.index]++;
	if (pl->on_match)
		pl->on_match(pl->match_ctx, o, l, pl->ps->v[m.index].name);
	correlator_feed(&pl->c, &m, o, l->time);
}

void pipeline_feed_line(struct pipeline *pl, const struct origin *o, const struct logline *l,
			time_t now, enum pipeline_clock clock)
{
	if (clock == PIPELINE_CATCHUP && l->time + pl->cfg->findtime <= now) {
		/* it could only make a ban that has run out, or count
		 * towards none: the judge does not see it */
		pl->st.lines++;
		pl->st.stale++;
		return;
	}
	if (clock == PIPELINE_ARRIVAL && l->time != now) {
		struct logline at = *l;

		at.time = now;
		pipeline_judge_line(pl, o, &at);
		return;
	}
	pipeline_judge_line(pl, o, l);
}

int pipeline_feed_text(struct pipeline *pl, struct parser *p, const struct origin *o,
		       const char *line, size_t len, time_t now, enum pipeline_clock clock)
{
	struct logline l;

	if (len > pl->cfg->max_line) {
		pipeline_skip(pl);
		return 0;
	}
	if (parser_parse(p, line, len, now, &l) < 0) {
		pl->st.lines++;
		pl->st.unparsed++;
		return -1;
	}
	pipeline_feed_line(pl, o, &l, now, clock);
	return 0;
}

void pipeline_flush(struct pipeline *pl)
{
	judge_flush(pl->j);
}

void pipeline_skip(struct pipeline *pl)
{
	pl->st.lines++;
	pl->st.skipped++;
}

void pipeline_tick(struct pipeline *pl, time_t now)
{
	pipeline_housekeep(pl, now, PIPELINE_LAP_TICKS, PIPELINE_SWEEP_MIN);
}
