/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The loop's event sources: each log source's own (inotify, journal fd,
 * deferred reads), SIGTERM/SIGINT/SIGHUP, a one-second tick (expiry,
 * correlation timeouts, long-ban refresh, source safety polls, STATUS=),
 * an hourly whitelist refresh, and the watchdog sd-event keeps by itself.
 * The control socket's views and commands are in daemon_control.c, the
 * bookkeeping of the sources' saved positions in positions.c.
 *
 * A ban's kernel timeout is what is left of it at the moment it is
 * applied (its start is the offending line's time), so a ban decided on
 * an old line never outlasts the judge's own record of it.
 */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "grow.h"
#include "daemon_int.h"
#include "fleet.h"
#include "duration.h"
#include "jsonout.h"
#include "log.h"
#include "names.h"

#define USEC_PER_SEC 1000000ULL
#define DAEMON_TICK_USEC USEC_PER_SEC
#define DAEMON_RESOLVE_USEC (3600 * USEC_PER_SEC)
/* judge_active_bans walks every entry: not every second. */
#define DAEMON_ACTIVE_EVERY 10
/* Seconds a failed compaction of the state waits: not once an iteration. */
#define DAEMON_COMPACT_RETRY 60

/* --- the judge's sink ------------------------------------------------ */

/* Where a sighting's line is, for a message: pos then *name, as
 * ", line 211 of" "/var/log/mail.log" or ", journal entry @1796579631.123706". */
static void daemon_where(const struct origin *o, char *pos, size_t cap, const char **name)
{
	const char *w = names_get(o->where);

	*name = "";
	if (strcmp(w, SOURCE_WHERE_JOURNAL) == 0) {
		snprintf(pos, cap, ", journal entry @%llu.%06llu",
			 (unsigned long long)(o->line / 1000000), (unsigned long long)(o->line % 1000000));
	} else if (*w) {
		snprintf(pos, cap, ", line %llu of ", (unsigned long long)o->line);
		*name = w;
	} else {
		snprintf(pos, cap, " line %llu", (unsigned long long)o->line);
	}
}

/* A ban's log entry; kernel is the kernel's reason when it refused the
 * ban (kept, not in force), else NULL. */
static void daemon_log_ban(const struct judge_event *e, const struct log_fields *f,
			   const char *dur, const char *kernel)
{
	char where[64] = "", *out = NULL;	/* numbers and words: they fit */
	const char *name = "", *tail = "";
	int prio = kernel ? LOG_WARNING : LOG_NOTICE;

	if (e->s)
		daemon_where(&e->s->origin, where, sizeof(where), &name);
	if (kernel && asprintf(&out, ", not in force (%s): kept, and added as soon as the kernel "
			       "takes it", kernel) >= 0)
		tail = out;
	if (e->renewed)
		log_event(LOG_EV_BAN, prio, f, "ban of %s lengthened to %s in all (%u earlier "
			  "ban%s in the fleet%s%s)%s", f->address, dur, e->earlier_bans,
			  e->earlier_bans == 1 ? "" : "s", e->received ? ", decided by " : "",
			  e->received ? f->origin : "", tail);
	else if (e->received)
		log_event(LOG_EV_BAN, prio, f, "ban %s for %s: %s (pattern %s, %u offence%s, "
			  "%u earlier ban%s, decided by %s)%s", f->address, dur, f->cls, f->pattern,
			  e->offences, e->offences == 1 ? "" : "s", e->earlier_bans,
			  e->earlier_bans == 1 ? "" : "s", f->origin, tail);
	else
		log_event(LOG_EV_BAN, prio, f, "ban %s for %s: %s (pattern %s, %u offence%s, "
			  "%u earlier ban%s, source %s%s%s)%s", f->address, dur, f->cls, f->pattern,
			  e->offences, e->offences == 1 ? "" : "s", e->earlier_bans,
			  e->earlier_bans == 1 ? "" : "s", f->source, where, name, tail);
	free(out);
}

static void daemon_on_ban(struct daemon *dm, const struct judge_event *e)
{
	char addr[ADDR_STRLEN], dur[32];
	time_t now = time(NULL);
	long left = (long)(e->time + e->duration - now);
	struct log_fields f;
	char where[64] = "";	/* numbers and words: they fit */
	const char *name = "", *why = NULL;
	int rc;

	if (left > e->duration)
		left = e->duration;	/* a line stamped in the future */
	if (dm->fleet_bulk && !e->renewed && left > 0) {
		dm->active++;
		daemon_fleet_bulk_add(dm, e);	/* many at once: one batch, one summary */
		return;
	}
	f = (struct log_fields){
		.address = addr_format(&e->addr, addr), .cls = class_name(e->cls),
		.pattern = names_get(e->pattern),
		.source = e->received ? "fleet" : e->s ? names_get(e->s->origin.source) : "manual",
		.duration = e->duration,
		/* in a fleet, the host that decided it */
		.origin = e->origin ? names_get(e->origin) : dm->fleet ? fleet_host(dm->fleet) : NULL,
	};
	if (e->s)
		daemon_where(&e->s->origin, where, sizeof(where), &name);
	duration_format(e->duration, dur, sizeof(dur));
	if (left <= 0) {
		log_event(LOG_EV_NOTE, LOG_INFO, &f, "ban of %s for %s already over (line of %lds "
			  "ago): not added", addr, dur, (long)(now - e->time));
		return;
	}
	if (dm->dry_run) {
		log_event(LOG_EV_BAN, LOG_NOTICE, &f, "would ban %s for %s: %s (pattern %s, %u "
			  "offence%s, %u earlier ban%s, source %s%s%s) [dry run]", addr, dur, f.cls,
			  f.pattern, e->offences, e->offences == 1 ? "" : "s", e->earlier_bans,
			  e->earlier_bans == 1 ? "" : "s", f.source, where, name);
		dm->active++;
		return;
	}
	dm->active += !e->renewed;
	rc = banset_ban(dm->ban, &e->addr, now + left, now);
	dm->last_ban_rc = rc;
	if (rc < 0) {
		dm->ban_errors++;	/* the reason is logged; the fleet still hears of it */
	} else {
		daemon_export_banned(dm, e);
		if (rc > 0)
			banset_in_force(dm->ban, &e->addr, &why);
		daemon_log_ban(e, &f, dur, why);
	}
	daemon_fleet_publish(dm, e);
}

static void daemon_on_event(void *ctx, const struct judge_event *e)
{
	struct daemon *dm = ctx;
	char addr[ADDR_STRLEN];
	struct log_fields f = {
		.address = addr_format(&e->addr, addr), .cls = class_name(e->cls),
		.pattern = names_get(e->pattern), .duration = -1,
	};

	/* the record first: on a crash between the two, a restart re-adds a
	 * ban the state knows, while one only in the kernel would be lost
	 * to escalation (the flush itself comes at the end of the iteration) */
	if (dm->state)
		state_event(dm->state, e);
	daemon_export_event(dm, e);
	if (dm->evid)
		evidence_event(dm->evid, e);
	switch (e->kind) {
	case JUDGE_OFFENCE:
		/* notes stay here: capped per host (judge.h), summed across
		 * hosts they could ban alone */
		if (dm->fleet && e->counted && !e->note)
			fleet_offence(dm->fleet, &e->addr, e->time, e->weight, e->cls, e->pattern);
		/* an offence while banned: a ban the kernel refused is tried again */
		if (dm->ban && !e->counted)
			banset_offence(dm->ban, &e->addr, time(NULL));
		break;		/* counted by the pipeline; never a log line each */
	case JUDGE_IGNORED:
		break;
	case JUDGE_BAN:
		daemon_on_ban(dm, e);
		break;
	case JUDGE_UNBAN:
		if (!dm->dry_run)
			banset_unban(dm->ban, &e->addr);
		if (dm->active)
			dm->active--;
		f.origin = e->received ? names_get(e->origin) : NULL;
		log_event(LOG_EV_UNBAN, LOG_NOTICE, &f, "unban %s%s%s%s", addr,
			  e->received ? ", lifted by " : "", e->received ? f.origin : "",
			  dm->dry_run ? " [dry run]" : dm->fleet && !e->received && dm->unban_local ?
			  " (this host only)" : "");
		if (dm->fleet && !e->received && !dm->unban_local)
			fleet_unban(dm->fleet, &e->addr, e->reason && strcmp(e->reason, "forget") == 0);
		break;
	case JUDGE_EXPIRED:
		if (!dm->dry_run)
			banset_forget(dm->ban, &e->addr);
		if (dm->active)
			dm->active--;
		log_event(LOG_EV_EXPIRY, LOG_INFO, &f, "ban of %s expired (%s, pattern %s)", addr,
			  f.cls, f.pattern);
		break;
	}
}

/* --- sources --------------------------------------------------------- */

static void daemon_unparsed(void *ctx, const struct pipeline_line *l)
{
	struct daemon *dm = ctx;

	source_unparsed(dm->batch_src, l->text, l->len);
}

/* A source's lines go to the pipeline a read at a time (l NULL ends one),
 * so that the judge can work ahead within it; lines of another source or
 * clock start a batch of their own. */
static void daemon_on_line(void *ctx, struct source *src, const struct source_line *l)
{
	struct daemon *dm = ctx;
	struct pipeline_batch *b = &dm->batch;
	enum pipeline_clock clock;

	if (!l) {
		pipeline_batch_feed(&dm->pl, b);
		return;
	}
	src->last_line = l->arrival;
	clock = l->catchup ? PIPELINE_CATCHUP : l->entry ? PIPELINE_LINE : PIPELINE_ARRIVAL;
	if (b->n && (src != dm->batch_src || clock != b->from.clock || l->arrival != b->from.now))
		pipeline_batch_feed(&dm->pl, b);
	if (b->n == 0) {
		b->from = (struct pipeline_source){
			.name = src->name_id, .parser = &src->parser, .now = l->arrival, .clock = clock,
		};
		dm->batch_src = src;
	}
	pipeline_batch_add(&dm->pl, b, l->too_long ? NULL : l->text, l->len,
			   l->too_long ? NULL : l->entry, l->where, l->lineno);
}

/* A matched line: its time for the ban latency, its text for why. */
static void daemon_on_match(void *ctx, const struct origin *o, const struct logline *l,
			    uint32_t pattern)
{
	struct daemon *dm = ctx;

	daemon_export_match(dm, o, l, pattern);
	if (dm->evid)
		evidence_match(dm->evid, o, l);
}

/* What the evidence records of a source: its name and file. */
static void daemon_source_where(void *ctx, uint32_t source, const char **name, const char **file)
{
	struct daemon *dm = ctx;

	for (size_t i = 0; i < dm->nsrc; i++) {
		if (dm->src[i]->name_id == source) {
			*name = dm->src[i]->conf.name;
			*file = dm->src[i]->conf.file;
			return;
		}
	}
}

static void daemon_close_sources(struct source **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		source_close(v[i]);
	free(v);
}

/* Closes those of the n sources in v that are not running ones (dm->src),
 * then frees v: a new set of sources given up. */
static void daemon_close_new(struct daemon *dm, struct source **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool old = false;

		for (size_t k = 0; k < dm->nsrc; k++)
			old |= dm->src[k] == v[i];
		if (!old)
			source_close(v[i]);
	}
	free(v);
}

/*
 * A source that is new or changed. When a running, not taken over source
 * follows the same file or journal, the new one starts where it stands,
 * so that changing, say, a source's program loses no line.
 */
static struct source *daemon_open_changed(struct daemon *dm, const struct source_conf *c,
					  size_t max_line, const bool *reused)
{
	struct source_pos pos = { 0 };
	struct source *s;

	for (size_t k = 0; reused && k < dm->nsrc; k++) {
		const struct source_conf *o = &dm->src[k]->conf;
		bool same = c->file ? o->file && strcmp(o->file, c->file) == 0
				    : !o->file && strcmp(o->name, c->name) == 0;

		if (!reused[k] && same) {
			if (source_position(dm->src[k], &pos) < 0)
				source_pos_free(&pos);
			break;
		}
	}
	/* at start: where the state says this source stopped */
	if (!pos.valid)
		positions_take(&dm->saved, c->name, &pos);
	s = source_open(dm->ev, c, max_line, pos.valid ? &pos : NULL, daemon_on_line, dm);
	source_pos_free(&pos);
	return s;
}

/*
 * The sources of cfg: those equal to a running one are taken over (their
 * position stays), the others opened. *reused marks taken ones in dm->src.
 * NULL when one cannot be opened (the new ones are closed again).
 */
static struct source **daemon_open_sources(struct daemon *dm, const struct config *cfg,
					   bool *reused)
{
	struct source **v = calloc(cfg->nsources ? cfg->nsources : 1, sizeof(*v));

	if (!v) {
		log_error("out of memory");
		return NULL;
	}
	for (size_t i = 0; i < cfg->nsources; i++) {
		const struct source_conf *c = &cfg->sources[i];

		for (size_t k = 0; reused && k < dm->nsrc; k++) {
			if (!reused[k] && dm->src[k]->max_line == cfg->max_line &&
			    source_conf_equal(&dm->src[k]->conf, c)) {
				reused[k] = true;
				v[i] = dm->src[k];
				break;
			}
		}
		if (!v[i])
			v[i] = daemon_open_changed(dm, c, cfg->max_line, reused);
		if (!v[i]) {
			daemon_close_new(dm, v, i);
			if (reused)
				memset(reused, 0, dm->nsrc * sizeof(*reused));
			return NULL;
		}
	}
	return v;
}

/* --- status and timers ----------------------------------------------- */

static void daemon_sets_renewed(struct daemon *dm);

/* Bans the judge holds that the kernel refused (kept by banset). */
static size_t daemon_kept(const struct daemon *dm)
{
	struct banset_stats bs;

	if (!dm->ban)
		return 0;
	banset_stats(dm->ban, &bs);
	return bs.kept[0] + bs.kept[1];
}

static void daemon_status(struct daemon *dm)
{
	const struct pipeline_stats *st = &dm->pl.st;
	char *s = NULL;
	char errs[64] = "";
	size_t kept = daemon_kept(dm);

	if (kept)
		snprintf(errs, sizeof(errs), ", %zu not in force (refused by the kernel)", kept);
	if (asprintf(&s, "%s%llu lines, %llu offences, %llu bans, %zu active%s",
		     dm->dry_run ? "dry run: " : "", (unsigned long long)st->lines,
		     (unsigned long long)st->offences, (unsigned long long)st->bans,
		     dm->active > kept ? dm->active - kept : 0, errs) < 0)
		return;
	if (dm->status && strcmp(dm->status, s) == 0) {
		free(s);
		return;
	}
	sd_notifyf(0, "STATUS=%s", s);
	free(dm->status);
	dm->status = s;
}

/*
 * Addresses the judge forgot to stay within max_tracked: said when it
 * starts, then at most once a minute while it goes on, with the totals,
 * so that a max_tracked too small for the traffic does not go unseen.
 */
static void daemon_log_evictions(struct daemon *dm, time_t now)
{
	struct judge_evictions ev;

	judge_evictions(dm->pl.j, &ev);
	if (ev.addresses == dm->evicted_said || now < dm->evicted_next)
		return;
	log_warn("judge: max_tracked (%zu) reached: %llu addresses forgotten so far, %llu of them "
		 "while banned (the kernel keeps those bans until they expire, but list, state "
		 "and escalation no longer know them); raise max_tracked", dm->cur->cfg->max_tracked,
		 (unsigned long long)ev.addresses, (unsigned long long)ev.bans);
	dm->evicted_said = ev.addresses;
	dm->evicted_next = now + 60;
}

static int daemon_on_tick(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct daemon *dm = userdata;
	time_t now = time(NULL);

	for (size_t i = 0; i < dm->nsrc; i++)
		source_poll(dm->src[i]);
	pipeline_tick(&dm->pl, now);
	if (!dm->dry_run && banset_tick(dm->ban, now) > 0)
		daemon_sets_renewed(dm);
	if (++dm->ticks % DAEMON_ACTIVE_EVERY == 0)
		dm->active = judge_active_bans(dm->pl.j, now);
	daemon_export_tick(dm);
	daemon_log_evictions(dm, now);
	daemon_status(dm);
	sd_event_source_set_time_relative(es, DAEMON_TICK_USEC);
	return 0;
}

static void daemon_on_resolved(void *ctx, struct resolver_result *v, size_t n)
{
	struct daemon *dm = ctx;
	struct whitelist *wl = &dm->pl.wl;

	for (size_t i = 0; i < n; i++) {
		if (v[i].error) {
			log_warn("whitelist: cannot resolve %s (%s); keeping its last addresses",
				 v[i].name, gai_strerror(v[i].error));
			continue;
		}
		/* by name: a reload may have changed the list meanwhile */
		for (size_t k = 0; k < wl->nhosts; k++) {
			if (strcmp(wl->hosts[k].name, v[i].name) == 0) {
				whitelist_set_host(wl, k, v[i].addrs, v[i].naddrs);
				v[i].addrs = NULL;
				break;
			}
		}
	}
}

static int daemon_on_hourly(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct daemon *dm = userdata;
	struct whitelist *wl = &dm->pl.wl;
	char **names = calloc(wl->nhosts ? wl->nhosts : 1, sizeof(*names));

	if (names) {
		for (size_t i = 0; i < wl->nhosts; i++)
			names[i] = wl->hosts[i].name;
		resolver_start(dm->res, names, wl->nhosts);
		free(names);
	}
	if (dm->cur->cfg->ignore_self && whitelist_load_self(wl) < 0)
		log_warn("ignore_self: cannot list this host's addresses; keeping the last list");
	sd_event_source_set_time_relative(es, DAEMON_RESOLVE_USEC);
	return 0;
}

/* --- reload ---------------------------------------------------------- */

void daemon_log_diag(const struct diag *d, size_t from, bool failed)
{
	for (size_t i = from; i < d->n; i++) {
		if (failed)
			log_event(LOG_EV_ERROR, LOG_ERR, NULL, "%s", d->msgs[i]);
		else
			log_warn("%s", d->msgs[i]);
	}
}

static int daemon_reload_sets(struct daemon *dm, const struct config *nc, struct diag *d)
{
	if (dm->dry_run)
		return 0;
	return banset_prepare(dm->ban, dm->cur->cfg, nc, d);
}

/* What the last reload said, for status. */
static void daemon_note_reload(struct daemon *dm, const struct diag *d, size_t from, bool ok)
{
	json_object_put(dm->reload_msgs);
	dm->reload_msgs = json_object_new_array();
	for (size_t i = from; i < d->n; i++)
		json_object_array_add(dm->reload_msgs, jsonout_cstring(d->msgs[i]));
	dm->reload_time = time(NULL);
	dm->reload_ok = ok;
}

int daemon_reload(struct daemon *dm, struct diag *d)
{
	struct loaded *nlp = calloc(1, sizeof(*nlp));
	bool restart_needed, fleet_changed = false;
	struct source **nsrc = NULL;
	struct fleet *nfleet = NULL;
	bool *reused = NULL;
	size_t from = d->n;

	sd_notify(0, "RELOADING=1");
	if (!nlp) {
		diag_error(d, dm->config_path, 0, "out of memory");
		goto failed;
	}
	if (loader_load(dm->config_path, true, NULL, nlp, d) < 0)
		goto failed;
	reused = calloc(dm->nsrc ? dm->nsrc : 1, sizeof(*reused));
	if (!reused) {
		diag_error(d, dm->config_path, 0, "out of memory");
		goto failed_loaded;
	}
	if (daemon_fleet_prepare(dm, nlp->cfg, &nfleet, &fleet_changed, d) < 0)
		goto failed_loaded;
	if (daemon_reload_sets(dm, nlp->cfg, d) < 0)
		goto failed_loaded;
	nsrc = daemon_open_sources(dm, nlp->cfg, reused);
	if (!nsrc) {
		diag_error(d, nlp->cfg->path, 0, "a source cannot be opened (see above)");
		goto failed_loaded;
	}
	if (pipeline_reload(&dm->pl, nlp->cfg, &nlp->ps, d) < 0) {
		daemon_close_new(dm, nsrc, nlp->cfg->nsources);
		goto failed_loaded;
	}
	/* committed: nothing below can fail */
	if (!dm->dry_run)
		banset_commit(dm->ban, nlp->cfg);
	daemon_fleet_commit(dm, nlp->cfg, nfleet, fleet_changed);
	nfleet = NULL;
	for (size_t k = 0; k < dm->nsrc; k++)
		if (!reused[k])
			source_close(dm->src[k]);
	free(dm->src);
	free(reused);
	dm->src = nsrc;
	dm->nsrc = nlp->cfg->nsources;
	restart_needed = strcmp(nlp->cfg->state_dir, dm->cur->cfg->state_dir) != 0 ||
			 strcmp(nlp->cfg->control_socket, dm->cur->cfg->control_socket) != 0;
	loader_free(dm->cur);
	free(dm->cur);
	dm->cur = nlp;
	dm->reloads++;
	daemon_export_setup(dm);
	daemon_log_diag(d, from, false);
	daemon_note_reload(dm, d, from, true);
	if (restart_needed)
		log_warn("state_dir and control_socket changes take effect at the next start");
	log_event(LOG_EV_RELOAD_OK, LOG_NOTICE, NULL,
		  "reloaded %s: %zu patterns from %s, %zu sources",
		  dm->cur->cfg->path, dm->cur->ps.n, dm->cur->cfg->patterns_dir, dm->nsrc);
	sd_notify(0, "READY=1");
	return 0;

failed_loaded:
	fleet_free(nfleet);
	loader_free(nlp);
failed:
	free(nlp);
	free(reused);
	dm->reload_failures++;
	daemon_log_diag(d, from, true);
	daemon_note_reload(dm, d, from, false);
	log_event(LOG_EV_RELOAD_FAILED, LOG_ERR, NULL,
		  "reload of %s failed; still running on the previous configuration",
		  dm->config_path);
	sd_notify(0, "READY=1");
	return -1;
}

/* Which process asked us to stop: a stop nobody expected is then told
 * apart from a stop by the service manager, a test or an operator. */
static void daemon_log_stop(const struct signalfd_siginfo *si)
{
	char path[64], comm[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/comm", si->ssi_pid);
	f = si->ssi_pid ? fopen(path, "re") : NULL;
	if (f) {
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	log_info("%s from pid %u%s%s%s, uid %u: stopping", strsignal((int)si->ssi_signo),
		 si->ssi_pid, *comm ? " (" : "", comm, *comm ? ")" : "", si->ssi_uid);
}

static int daemon_on_signal(sd_event_source *es, const struct signalfd_siginfo *si,
			    void *userdata)
{
	struct daemon *dm = userdata;

	if (si->ssi_signo == SIGHUP) {
		struct diag d = { 0 };

		daemon_reload(dm, &d);
		diag_free(&d);
		return 0;
	}
	daemon_log_stop(si);
	sd_event_exit(sd_event_source_get_event(es), 0);
	return 0;
}

/* --- durable state ----------------------------------------------------- */

static void daemon_saved_file(void *ctx, const struct state_file_pos *p)
{
	struct daemon *dm = ctx;

	positions_file(&dm->saved, p);
}

static void daemon_saved_journal(void *ctx, const char *source, const char *cursor)
{
	struct daemon *dm = ctx;

	positions_journal(&dm->saved, source, cursor);
}

/* A link from the last stop: a verdict still to come names its client. */
static void daemon_saved_link(void *ctx, const char *qid, size_t len, const struct addr *a,
			      time_t seen)
{
	struct daemon *dm = ctx;

	if (correlator_link(&dm->pl.c, qid, len, a, seen) == 0)
		dm->nlinks++;
}

/* After each loop iteration: what it decided goes to disk before the next
 * one begins (a ban with an fsync). */
static int daemon_on_post(sd_event_source *es, void *userdata)
{
	struct daemon *dm = userdata;
	int r;

	if (!dm->state)
		return 0;
	positions_save(dm->state, dm->src, dm->nsrc);
	r = state_flush(dm->state);
	if (r < 0 && !dm->state_failing) {
		dm->state_failing = true;
		log_error("state: cannot write to %s (%s); bans stay in force, but a restart now "
			  "would forget the newest ones", dm->cur->cfg->state_dir, strerror(-r));
	} else if (r == 0 && dm->state_failing) {
		dm->state_failing = false;
		log_info("state: writing to %s again", dm->cur->cfg->state_dir);
	}
	if (r == 0 && (dm->compact_due || state_wants_compaction(dm->state)) &&
	    time(NULL) >= dm->compact_retry) {
		struct diag d = { 0 };

		if (state_compact(dm->state, dm->pl.j, time(NULL), &d) < 0) {
			daemon_log_diag(&d, 0, true);
			dm->compact_retry = time(NULL) + DAEMON_COMPACT_RETRY;
		} else {
			dm->compact_due = false;
		}
		diag_free(&d);
	}
	return 0;
}

struct daemon_collect {
	struct banset_entry *v;
	size_t n, cap;
	time_t now;
};

static int daemon_collect_ban(void *ctx, const struct judge_entry *e)
{
	struct daemon_collect *c = ctx;

	if (e->ban_until <= c->now)
		return 0;
	if (grow(&c->v, &c->cap, c->n + 1, sizeof(*c->v), 1024) < 0)
		return -1;
	c->v[c->n++] = (struct banset_entry){ e->addr, e->ban_until };
	return 0;
}

/*
 * Puts every ban the judge holds into the sets that lack it (after a
 * reboot: all of them, in one batch; after a restart: none). 0, or -1
 * with the reason logged.
 */
static int daemon_restore_bans(struct daemon *dm, struct banset_restored *r)
{
	struct daemon_collect c = { .now = time(NULL) };

	*r = (struct banset_restored){ 0 };
	if (judge_walk(dm->pl.j, daemon_collect_ban, &c) != 0) {
		free(c.v);
		log_error("out of memory restoring bans");
		return -1;
	}
	if (c.n && banset_restore(dm->ban, c.v, c.n, c.now, r) < 0) {
		free(c.v);
		return -1;
	}
	free(c.v);
	dm->active = c.n;
	return 0;
}

/* The sets were made anew, empty, under us: every ban goes back. */
static void daemon_sets_renewed(struct daemon *dm)
{
	struct banset_restored r;

	if (daemon_restore_bans(dm, &r) == 0)
		log_warn("the sets were made anew under spamwrathd (emptied): %zu bans put back, "
			 "%zu not in force", r.added, r.kept);
}

/*
 * Reads the state into the judge and puts every ban still running back
 * (daemon_restore_bans). The saved positions wait in dm->saved for the
 * sources.
 */
static int daemon_load_state(struct daemon *dm)
{
	const struct config *cfg = dm->cur->cfg;
	struct state_positions pos = {
		.file = daemon_saved_file, .journal = daemon_saved_journal, .link = daemon_saved_link,
		.ctx = dm,
	};
	struct diag d = { 0 };
	struct banset_restored r;
	char kept[64] = "";
	int rc;

	rc = state_open(cfg->state_dir, &dm->state, &d);
	if (rc == 0)
		rc = state_load(dm->state, dm->pl.j, time(NULL), &pos, &d);
	/* damaged records are warnings: everything good was kept */
	daemon_log_diag(&d, 0, rc < 0);
	diag_free(&d);
	if (rc < 0 || daemon_restore_bans(dm, &r) < 0)
		return -1;
	if (r.kept)
		snprintf(kept, sizeof(kept), ", %zu not in force (see above)", r.kept);
	log_info("state: %zu bans in force (%zu put back into the sets, %zu were there)%s, "
		 "%zu addresses remembered, %zu source positions, %zu queue ids linked",
		 r.added + r.present, r.added, r.present, kept, judge_tracked(dm->pl.j),
		 dm->saved.n, dm->nlinks);
	return 0;
}

/* --- start and stop -------------------------------------------------- */

static int daemon_setup_loop(struct daemon *dm)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	sigset_t mask;
	int r;

	r = sd_event_default(&dm->ev);
	if (r < 0) {
		log_error("cannot create the event loop: %s", strerror(-r));
		return -1;
	}
	sigemptyset(&mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&mask, sigs[i]);
	/* sd_event_add_signal needs them blocked; a worker thread inherits that */
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		r = sd_event_add_signal(dm->ev, NULL, sigs[i], daemon_on_signal, dm);
		if (r < 0) {
			log_error("cannot handle signal %d: %s", sigs[i], strerror(-r));
			return -1;
		}
	}
	r = sd_event_add_time_relative(dm->ev, &dm->tick, CLOCK_MONOTONIC, DAEMON_TICK_USEC,
				       0, daemon_on_tick, dm);
	if (r >= 0)
		r = sd_event_source_set_enabled(dm->tick, SD_EVENT_ON);
	if (r >= 0)
		r = sd_event_add_time_relative(dm->ev, &dm->hourly, CLOCK_MONOTONIC,
					       DAEMON_RESOLVE_USEC, USEC_PER_SEC, daemon_on_hourly,
					       dm);
	if (r >= 0)
		r = sd_event_source_set_enabled(dm->hourly, SD_EVENT_ON);
	if (r < 0) {
		log_error("cannot add timers: %s", strerror(-r));
		return -1;
	}
	r = sd_event_set_watchdog(dm->ev, true);
	if (r < 0)
		log_warn("watchdog: %s", strerror(-r));
	return 0;
}

static int daemon_start(struct daemon *dm)
{
	struct diag d = { 0 };
	const struct config *cfg;
	int rc;

	dm->cur = calloc(1, sizeof(*dm->cur));
	if (!dm->cur) {
		log_error("out of memory");
		return -1;
	}
	rc = loader_load(dm->config_path, true, NULL, dm->cur, &d);
	daemon_log_diag(&d, 0, rc < 0);
	diag_free(&d);
	if (rc < 0)
		return -1;
	cfg = dm->cur->cfg;
	if (daemon_setup_loop(dm) < 0)
		return -1;
	if (!dm->dry_run) {
		dm->ban = banset_open(cfg);
		if (!dm->ban)
			return -1;
	}
	dm->batch.unparsed = daemon_unparsed;
	dm->batch.ctx = dm;
	rc = pipeline_init(&dm->pl, cfg, &dm->cur->ps, daemon_on_event, dm, &d);
	daemon_log_diag(&d, 0, rc < 0);
	diag_free(&d);
	if (rc < 0)
		return -1;
	dm->pl_ready = true;
	dm->pl.on_match = daemon_on_match;
	dm->pl.match_ctx = dm;
	if (dm->dry_run)
		log_info("dry run: the state in %s is neither read nor written", cfg->state_dir);
	else if (daemon_load_state(dm) < 0)
		return -1;
	/* after the state, which makes state_dir */
	dm->evid = evidence_open(dm->dry_run ? NULL : cfg->state_dir, time(NULL),
				 cfg->repeat_window, daemon_source_where, dm);
	if (!dm->evid)
		return -1;
	dm->res = resolver_new(dm->ev, daemon_on_resolved, dm);
	if (!dm->res)
		return -1;
	dm->src = daemon_open_sources(dm, cfg, NULL);
	positions_free(&dm->saved);
	if (!dm->src)
		return -1;
	dm->nsrc = cfg->nsources;
	if (dm->nsrc == 0)
		log_warn("%s names no source: there is nothing to follow", cfg->path);
	/* Right after every other event, before the next: a source that
	 * always has more to read must not keep the state from disk. */
	if (sd_event_add_post(dm->ev, &dm->post, daemon_on_post, dm) < 0 ||
	    sd_event_source_set_priority(dm->post, SD_EVENT_PRIORITY_IMPORTANT) < 0) {
		log_error("cannot add to the event loop");
		return -1;
	}
	/* the state is rewritten once, after READY=1: it does not delay it */
	dm->compact_due = dm->state != NULL;
	if (daemon_export_setup(dm) < 0 || daemon_control_start(dm) < 0)
		return -1;
	return daemon_fleet_start(dm);
}

static void daemon_stop(struct daemon *dm)
{
	control_stop(dm->ctl);
	fleet_free(dm->fleet);
	dm->fleet = NULL;
	free(dm->bulkv);
	daemon_export_stop(dm);
	if (dm->state) {
		if (dm->pl_ready)
			state_links(dm->state, &dm->pl.c);
		positions_save(dm->state, dm->src, dm->nsrc);
		if (state_flush(dm->state) < 0)
			log_error("state: the last records could not be written");
		state_close(dm->state);
	}
	positions_free(&dm->saved);
	sd_event_source_disable_unref(dm->post);
	json_object_put(dm->reload_msgs);
	daemon_close_sources(dm->src, dm->nsrc);
	dm->src = NULL;
	evidence_close(dm->evid);
	dm->evid = NULL;
	dm->nsrc = 0;
	resolver_free(dm->res);
	if (dm->pl_ready)
		pipeline_free(&dm->pl);
	pipeline_batch_free(&dm->batch);
	if (dm->cur && dm->cur->cfg)
		loader_free(dm->cur);
	free(dm->cur);
	banset_close(dm->ban);	/* the sets and their members stay */
	sd_event_source_disable_unref(dm->tick);
	sd_event_source_disable_unref(dm->hourly);
	sd_event_unref(dm->ev);
	free(dm->status);
}

int daemon_run(const struct daemon_opts *o)
{
	struct daemon dm = { 0 };
	const char *set4, *set6;
	int rc = 1;

	dm.config_path = o->config ? o->config : config_default_path();
	dm.dry_run = o->dry_run;
	dm.started = time(NULL);
	if (daemon_start(&dm) < 0) {
		log_event(LOG_EV_ERROR, LOG_ERR, NULL, "not started: see the reasons above");
		goto out;
	}
	banset_set_names(dm.cur->cfg, &set4, &set6);
	log_event(LOG_EV_START, LOG_NOTICE, NULL,
		  "started%s: %s, %zu patterns from %s, %zu sources, %s sets %s and %s",
		  dm.dry_run ? " in dry run (no set changes)" : "", dm.cur->cfg->path,
		  dm.cur->ps.n, dm.cur->cfg->patterns_dir, dm.nsrc,
		  banset_backend_of(dm.cur->cfg), set4, set6);
	daemon_status(&dm);
	sd_notify(0, "READY=1");
	rc = sd_event_loop(dm.ev);
	sd_notify(0, "STOPPING=1");
	if (rc < 0) {
		log_error("event loop failed: %s", strerror(-rc));
		rc = 1;
	} else {
		rc = 0;
	}
	log_event(LOG_EV_STOP, LOG_NOTICE, NULL,
		  "stopped: %llu lines, %llu offences, %llu bans; the sets keep their members",
		  (unsigned long long)dm.pl.st.lines, (unsigned long long)dm.pl.st.offences,
		  (unsigned long long)dm.pl.st.bans);
out:
	daemon_stop(&dm);
	return rc;
}
