/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's side of the fleet (src/fleet): what the fleet says goes
 * through the judge, so that a received ban is recorded, logged and put
 * in the sets like any other (its event carries received and origin, and
 * is never published again); the bans a (re)connect reads in bulk go to
 * the sets in one batch per page. What the judge decides here is
 * published from the judge's sink in daemon.c.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon_int.h"
#include "log.h"
#include "names.h"

/* A name from the fleet as an interned id; 0 when the pool is full. */
static uint32_t daemon_fleet_name(const char *s)
{
	uint32_t id = names_intern(s, strlen(s));

	return id == UINT32_MAX ? 0 : id;
}

static enum fleet_verdict daemon_fleet_ban(void *ctx, const struct fleet_ban *b, bool bulk,
					   const char **why)
{
	struct daemon *dm = ctx;
	struct judge_foreign jf = {
		.addr = b->addr, .start = b->start, .until = b->until, .cls = b->cls,
		.pattern = b->pattern, .origin = daemon_fleet_name(b->origin),
		.offences = b->offences, .earlier = b->earlier,
	};
	int r;

	dm->fleet_bulk = bulk;
	r = judge_adopt(dm->pl.j, &jf, time(NULL), why);
	dm->fleet_bulk = false;
	if (r < 0) {
		char a[ADDR_STRLEN];
		struct log_fields f = { .address = addr_format(&b->addr, a), .origin = b->origin,
					.duration = -1 };

		if (strcmp(*why, "whitelist") == 0)
			*why = "whitelisted here";
		log_event(LOG_EV_NOTE, LOG_INFO, &f, "fleet: ban of %s decided by %s ignored: %s", a,
			  b->origin, *why);
		return FLEET_REFUSED;
	}
	return r == 1 ? FLEET_HAD : FLEET_APPLIED;
}

static bool daemon_fleet_unban(void *ctx, const struct addr *a, time_t when, bool forget,
			       const char *by)
{
	struct daemon *dm = ctx;

	return judge_unban_received(dm->pl.j, a, time(NULL), when, forget,
				    daemon_fleet_name(by)) == 0;
}

void daemon_fleet_bulk_add(struct daemon *dm, const struct judge_event *e)
{
	if (dm->nbulk == dm->capbulk) {
		size_t cap = dm->capbulk ? 2 * dm->capbulk : 1024;
		struct banset_entry *v = realloc(dm->bulkv, cap * sizeof(*v));

		if (!v) {
			/* no room for the batch: this one alone */
			if (banset_ban(dm->ban, &e->addr, (long)(e->time + e->duration - time(NULL)),
				       time(NULL)) < 0)
				dm->ban_errors++;
			return;
		}
		dm->bulkv = v;
		dm->capbulk = cap;
	}
	dm->bulkv[dm->nbulk++] = (struct banset_entry){ e->addr, e->time + e->duration };
}

/* The bans read from the fleet so far, into the sets in one batch. */
static void daemon_fleet_flush(void *ctx)
{
	struct daemon *dm = ctx;

	if (dm->nbulk && banset_ban_many(dm->ban, dm->bulkv, dm->nbulk, time(NULL)) < 0)
		dm->ban_errors++;
	dm->nbulk = 0;
}

static void daemon_fleet_decided(void *ctx, const struct addr *a, time_t when,
				 enum class_id cls, uint32_t pattern, unsigned offences,
				 unsigned earlier)
{
	struct daemon *dm = ctx;
	const char *why;

	if (judge_ban_decided(dm->pl.j, a, when, cls, pattern, offences, earlier, &why) < 0) {
		char t[ADDR_STRLEN];

		log_warn("fleet: a ban of %s decided by the fleet was not made here: %s",
			 addr_format(a, t), why);
	}
}

static void daemon_fleet_escalate(void *ctx, const struct addr *a, unsigned earlier)
{
	struct daemon *dm = ctx;

	judge_extend(dm->pl.j, a, time(NULL), earlier);
}

struct daemon_own {
	fleet_own_fn *fn;
	void *fctx;
	time_t now;
};

static int daemon_own_ban(void *ctx, const struct judge_entry *e)
{
	struct daemon_own *o = ctx;
	struct fleet_ban b = {
		.addr = e->addr, .start = e->ban_start, .until = e->ban_until, .cls = e->ban_class,
		.pattern = e->ban_pattern, .offences = e->ban_offences,
		.earlier = e->nbans ? e->nbans - 1 : 0,
	};

	if (e->ban_until > o->now && !e->ban_origin)
		o->fn(o->fctx, &b);
	return 0;
}

static void daemon_fleet_walk_own(void *ctx, fleet_own_fn *fn, void *fctx)
{
	struct daemon *dm = ctx;
	struct daemon_own o = { fn, fctx, time(NULL) };

	judge_walk(dm->pl.j, daemon_own_ban, &o);
}

static size_t daemon_fleet_active(void *ctx)
{
	struct daemon *dm = ctx;

	return dm->active;
}

static void daemon_fleet_rules(const struct config *cfg, struct fleet_rules *r)
{
	*r = (struct fleet_rules){
		.threshold = cfg->threshold, .findtime = cfg->findtime,
		.bantime_max = cfg->bantime_max, .repeat_window = cfg->repeat_window,
	};
}

/* A fleet for cfg's section, not connected yet; NULL with the reasons in d. */
static struct fleet *daemon_fleet_new(struct daemon *dm, const struct config *cfg,
				      struct diag *d)
{
	static const struct fleet_ops ops = {
		daemon_fleet_ban, daemon_fleet_unban, daemon_fleet_flush, daemon_fleet_decided,
		daemon_fleet_escalate, daemon_fleet_walk_own, daemon_fleet_active, NULL,
	};
	struct fleet_ops o = ops;
	struct fleet_rules r;
	struct fleet *f = NULL;

	o.ctx = dm;
	daemon_fleet_rules(cfg, &r);
	if (fleet_new(dm->ev, &cfg->fleet, &r, &o, &f, d) < 0)
		return NULL;
	return f;
}

static bool daemon_str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool daemon_fleet_same(const struct fleet_conf *a, const struct fleet_conf *b)
{
	bool same = a->enabled == b->enabled && daemon_str_eq(a->redis, b->redis) &&
		    a->nsentinels == b->nsentinels && daemon_str_eq(a->master_name, b->master_name) &&
		    daemon_str_eq(a->user, b->user) &&
		    daemon_str_eq(a->password_file, b->password_file) &&
		    daemon_str_eq(a->key_file, b->key_file) && daemon_str_eq(a->host, b->host) &&
		    daemon_str_eq(a->ns, b->ns) && a->share_offences == b->share_offences;

	for (size_t i = 0; same && i < a->nsentinels; i++)
		same = strcmp(a->sentinels[i], b->sentinels[i]) == 0;
	return same;
}

int daemon_fleet_start(struct daemon *dm)
{
	const struct config *cfg = dm->cur->cfg;
	struct diag d = { 0 };

	if (!cfg->fleet.enabled)
		return 0;
	if (dm->dry_run) {
		log_info("dry run: the fleet of %s is not joined", cfg->fleet.where);
		return 0;
	}
	dm->fleet = daemon_fleet_new(dm, cfg, &d);
	daemon_log_diag(&d, 0, true);
	diag_free(&d);
	if (!dm->fleet)
		return -1;
	fleet_start(dm->fleet);
	return 0;
}

int daemon_fleet_prepare(struct daemon *dm, const struct config *nc, struct fleet **out,
			 bool *changed, struct diag *d)
{
	*out = NULL;
	*changed = !daemon_fleet_same(&dm->cur->cfg->fleet, &nc->fleet);
	if (!*changed || !nc->fleet.enabled || dm->dry_run)
		return 0;
	*out = daemon_fleet_new(dm, nc, d);
	return *out ? 0 : -1;
}

void daemon_fleet_commit(struct daemon *dm, const struct config *nc, struct fleet *nf,
			 bool changed)
{
	struct fleet_rules r;

	if (!changed) {
		daemon_fleet_rules(nc, &r);
		if (dm->fleet)
			fleet_set_rules(dm->fleet, &r);
		return;
	}
	fleet_free(dm->fleet);
	dm->fleet = nf;
	if (nf)
		fleet_start(nf);
	else if (dm->cur->cfg->fleet.enabled && !dm->dry_run)
		log_info("fleet: left (no fleet section any more)");
}

void daemon_fleet_publish(struct daemon *dm, const struct judge_event *e)
{
	struct fleet_ban b = {
		.addr = e->addr, .start = e->time, .until = e->time + e->duration, .cls = e->cls,
		.pattern = e->pattern, .offences = e->offences, .earlier = e->earlier_bans,
	};

	if (dm->fleet && !e->received)
		fleet_ban(dm->fleet, &b);
}
