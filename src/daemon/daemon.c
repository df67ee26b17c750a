/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The loop's event sources: each log source's own (inotify, journal fd,
 * deferred reads), SIGTERM/SIGINT/SIGHUP, a one-second tick (expiry,
 * correlation timeouts, long-ban refresh, source safety polls, STATUS=),
 * an hourly whitelist refresh, and the watchdog sd-event keeps by itself.
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "banset.h"
#include "control.h"
#include "daemon.h"
#include "duration.h"
#include "jsonout.h"
#include "loader.h"
#include "log.h"
#include "names.h"
#include "pipeline.h"
#include "resolver.h"
#include "source.h"
#include "state.h"

#define USEC_PER_SEC 1000000ULL
#define DAEMON_TICK_USEC USEC_PER_SEC
#define DAEMON_RESOLVE_USEC (3600 * USEC_PER_SEC)
/* judge_active_bans walks every entry: not every second. */
#define DAEMON_ACTIVE_EVERY 10

struct daemon {
	const char *config_path;
	bool dry_run;
	sd_event *ev;
	struct loaded *cur;	/* on the heap: the pipeline keeps &cur->ps */
	struct pipeline pl;
	bool pl_ready;
	size_t nlinks;		/* queue-id links the state gave back at start */
	struct banset *ban;	/* NULL in a dry run */
	struct source **src;
	size_t nsrc;
	struct resolver *res;
	sd_event_source *tick, *hourly;
	time_t started;
	unsigned ticks;
	size_t active;		/* bans in force, as of the last count */
	uint64_t ban_errors;
	uint64_t reloads, reload_failures;
	char *status;		/* last STATUS= sent */
	/* durable state (not in dry runs) and the control socket */
	struct state *state;
	bool state_failing;	/* the last flush failed: said once, until it works */
	struct control *ctl;
	sd_event_source *post;
	bool compact_due;	/* once after start, then when the log grew */
	time_t compact_retry;	/* a failed compaction waits until then */
	struct saved_pos *saved;	/* positions read from state, until sources open */
	size_t nsaved;
	/* the last reload, for status */
	time_t reload_time;
	bool reload_ok;
	struct json_object *reload_msgs;
};

/* A source's position as the state recorded it, by source name. */
struct saved_pos {
	char *name;
	struct source_pos pos;
};

/* --- the judge's sink ------------------------------------------------ */

static const char *daemon_class(enum class_id c)
{
	return c == CLASS_COUNT ? "manual" : class_name(c);
}

static void daemon_on_ban(struct daemon *dm, const struct judge_event *e)
{
	char addr[ADDR_STRLEN], dur[32];
	time_t now = time(NULL);
	long left = (long)(e->time + e->duration - now);
	const char *source = e->s ? names_get(e->s->origin.source) : "manual";
	struct log_fields f = {
		.address = addr_format(&e->addr, addr), .cls = daemon_class(e->cls),
		.pattern = names_get(e->pattern), .source = source, .duration = e->duration,
	};
	char where[64] = "";

	if (left > e->duration)
		left = e->duration;	/* a line stamped in the future */
	if (e->s)
		snprintf(where, sizeof(where), " line %llu", (unsigned long long)e->s->origin.line);
	duration_format(e->duration, dur, sizeof(dur));
	if (left <= 0) {
		log_event(LOG_EV_NOTE, LOG_INFO, &f, "ban of %s for %s already over (line of %lds "
			  "ago): not added", addr, dur, (long)(now - e->time));
		return;
	}
	if (dm->dry_run) {
		log_event(LOG_EV_BAN, LOG_NOTICE, &f, "would ban %s for %s: %s (pattern %s, %u "
			  "offence%s, %u earlier ban%s, source %s%s) [dry run]", addr, dur, f.cls,
			  f.pattern, e->offences, e->offences == 1 ? "" : "s", e->earlier_bans,
			  e->earlier_bans == 1 ? "" : "s", source, where);
		dm->active++;
		return;
	}
	if (banset_ban(dm->ban, &e->addr, left, now) < 0) {
		dm->ban_errors++;
		return;		/* the reason is logged */
	}
	dm->active++;
	log_event(LOG_EV_BAN, LOG_NOTICE, &f, "ban %s for %s: %s (pattern %s, %u offence%s, "
		  "%u earlier ban%s, source %s%s)", addr, dur, f.cls, f.pattern, e->offences,
		  e->offences == 1 ? "" : "s", e->earlier_bans, e->earlier_bans == 1 ? "" : "s",
		  source, where);
}

static void daemon_on_event(void *ctx, const struct judge_event *e)
{
	struct daemon *dm = ctx;
	char addr[ADDR_STRLEN];
	struct log_fields f = {
		.address = addr_format(&e->addr, addr), .cls = daemon_class(e->cls),
		.pattern = names_get(e->pattern), .duration = -1,
	};

	/* the record first: on a crash between the two, a restart re-adds a
	 * ban the state knows, while one only in the kernel would be lost
	 * to escalation (the flush itself comes at the end of the iteration) */
	if (dm->state)
		state_event(dm->state, e);
	switch (e->kind) {
	case JUDGE_OFFENCE:
	case JUDGE_IGNORED:
		break;		/* counted by the pipeline; never a log line each */
	case JUDGE_BAN:
		daemon_on_ban(dm, e);
		break;
	case JUDGE_UNBAN:
		if (!dm->dry_run)
			banset_unban(dm->ban, &e->addr);
		if (dm->active)
			dm->active--;
		log_event(LOG_EV_UNBAN, LOG_NOTICE, &f, "unban %s%s", addr,
			  dm->dry_run ? " [dry run]" : "");
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

static void daemon_on_line(void *ctx, struct source *src, const struct source_line *l)
{
	struct daemon *dm = ctx;

	if (l->too_long)
		pipeline_skip(&dm->pl);
	else if (l->entry)
		pipeline_feed_line(&dm->pl, src->name_id, l->lineno, l->entry, l->arrival,
				   l->catchup ? PIPELINE_CATCHUP : PIPELINE_LINE);
	else
		pipeline_feed_text(&dm->pl, &src->parser, src->name_id, l->lineno, l->text, l->len,
				   l->arrival, l->catchup ? PIPELINE_CATCHUP : PIPELINE_ARRIVAL);
}

static void daemon_close_sources(struct source **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		source_close(v[i]);
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
	for (size_t k = 0; !pos.valid && k < dm->nsaved; k++) {
		/* at start: where the state says this source stopped */
		if (strcmp(dm->saved[k].name, c->name) == 0) {
			pos = dm->saved[k].pos;
			memset(&dm->saved[k].pos, 0, sizeof(pos));
		}
	}
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
			for (size_t k = 0; k < i; k++) {
				bool old = false;

				for (size_t m = 0; m < dm->nsrc; m++)
					old |= dm->src[m] == v[k];
				if (!old)
					source_close(v[k]);
			}
			free(v);
			if (reused)
				memset(reused, 0, dm->nsrc * sizeof(*reused));
			return NULL;
		}
	}
	return v;
}

/* --- status and timers ----------------------------------------------- */

static void daemon_status(struct daemon *dm)
{
	const struct pipeline_stats *st = &dm->pl.st;
	char *s = NULL;
	char errs[48] = "";

	if (dm->ban_errors)
		snprintf(errs, sizeof(errs), ", %llu failed ipset adds",
			 (unsigned long long)dm->ban_errors);
	if (asprintf(&s, "%s%llu lines, %llu offences, %llu bans, %zu active%s",
		     dm->dry_run ? "dry run: " : "", (unsigned long long)st->lines,
		     (unsigned long long)st->offences, (unsigned long long)st->bans, dm->active,
		     errs) < 0)
		return;
	if (dm->status && strcmp(dm->status, s) == 0) {
		free(s);
		return;
	}
	sd_notifyf(0, "STATUS=%s", s);
	free(dm->status);
	dm->status = s;
}

static int daemon_on_tick(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct daemon *dm = userdata;
	time_t now = time(NULL);

	for (size_t i = 0; i < dm->nsrc; i++)
		source_poll(dm->src[i]);
	pipeline_tick(&dm->pl, now);
	if (!dm->dry_run)
		banset_tick(dm->ban, now);
	if (++dm->ticks % DAEMON_ACTIVE_EVERY == 0)
		dm->active = judge_active_bans(dm->pl.j, now);
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

static void daemon_log_diag(const struct diag *d, size_t from, bool failed)
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
	const struct config *oc = dm->cur->cfg;

	if (dm->dry_run)
		return 0;
	if (strcmp(oc->set4, nc->set4) == 0 && strcmp(oc->set6, nc->set6) == 0)
		return 0;
	return banset_prepare(dm->ban, nc, d);
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
	bool restart_needed;
	struct source **nsrc = NULL;
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
	if (daemon_reload_sets(dm, nlp->cfg, d) < 0)
		goto failed_loaded;
	nsrc = daemon_open_sources(dm, nlp->cfg, reused);
	if (!nsrc) {
		diag_error(d, nlp->cfg->path, 0, "a source cannot be opened (see above)");
		goto failed_loaded;
	}
	if (pipeline_reload(&dm->pl, nlp->cfg, &nlp->ps, d) < 0) {
		for (size_t i = 0; i < nlp->cfg->nsources; i++) {
			bool old = false;

			for (size_t k = 0; k < dm->nsrc; k++)
				old |= dm->src[k] == nsrc[i];
			if (!old)
				source_close(nsrc[i]);
		}
		free(nsrc);
		goto failed_loaded;
	}
	/* committed: nothing below can fail */
	if (!dm->dry_run)
		banset_commit(dm->ban, nlp->cfg);
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
	log_info("%s: stopping", strsignal((int)si->ssi_signo));
	sd_event_exit(sd_event_source_get_event(es), 0);
	return 0;
}

/* --- durable state ----------------------------------------------------- */

/* The state holds every position it recorded; the last one counts. */
static void daemon_forget_saved(struct daemon *dm, const char *name)
{
	for (size_t i = 0; i < dm->nsaved; i++) {
		if (strcmp(dm->saved[i].name, name) == 0) {
			free(dm->saved[i].name);
			source_pos_free(&dm->saved[i].pos);
			dm->saved[i] = dm->saved[--dm->nsaved];
			return;
		}
	}
}

static void daemon_saved_file(void *ctx, const struct state_file_pos *p)
{
	struct daemon *dm = ctx;
	struct saved_pos *v;

	daemon_forget_saved(dm, p->source);
	v = realloc(dm->saved, (dm->nsaved + 1) * sizeof(*v));

	if (!v || !(v[dm->nsaved].name = strdup(p->source))) {
		if (v)
			dm->saved = v;
		log_error("state: out of memory keeping the position of source %s", p->source);
		return;
	}
	dm->saved = v;
	v[dm->nsaved].pos = (struct source_pos){
		.kind = SOURCE_FILE, .valid = true, .dev = (uint64_t)p->dev,
		.ino = (uint64_t)p->ino, .offset = p->offset, .head_hash = p->head,
	};
	dm->nsaved++;
}

/* A link from the last stop: a verdict still to come names its client. */
static void daemon_saved_link(void *ctx, const char *qid, size_t len, const struct addr *a,
			      time_t seen)
{
	struct daemon *dm = ctx;

	if (correlator_link(&dm->pl.c, qid, len, a, seen) == 0)
		dm->nlinks++;
}

static void daemon_saved_journal(void *ctx, const char *source, const char *cursor)
{
	struct daemon *dm = ctx;
	struct saved_pos *v;
	char *name, *cur;

	daemon_forget_saved(dm, source);
	v = realloc(dm->saved, (dm->nsaved + 1) * sizeof(*v));
	name = strdup(source);
	cur = strdup(cursor);

	if (!v || !name || !cur) {
		if (v)
			dm->saved = v;
		free(name);
		free(cur);
		log_error("state: out of memory keeping the position of source %s", source);
		return;
	}
	dm->saved = v;
	v[dm->nsaved].name = name;
	v[dm->nsaved].pos = (struct source_pos){
		.kind = SOURCE_JOURNAL, .valid = true, .cursor = cur,
	};
	dm->nsaved++;
}

static void daemon_free_saved(struct daemon *dm)
{
	for (size_t i = 0; i < dm->nsaved; i++) {
		free(dm->saved[i].name);
		source_pos_free(&dm->saved[i].pos);
	}
	free(dm->saved);
	dm->saved = NULL;
	dm->nsaved = 0;
}

/* Records where each source that handed out lines since the last time
 * stands now, so that a restart resumes exactly there. */
static void daemon_save_positions(struct daemon *dm)
{
	for (size_t i = 0; i < dm->nsrc; i++) {
		struct source *src = dm->src[i];
		struct source_pos p;

		if (src->lines == src->saved_lines || source_position(src, &p) < 0 || !p.valid)
			continue;
		if (p.kind == SOURCE_FILE) {
			struct state_file_pos fp = {
				src->conf.name, (dev_t)p.dev, (ino_t)p.ino, p.offset, p.head_hash,
			};

			state_file_pos(dm->state, &fp);
		} else if (p.cursor) {
			state_journal_pos(dm->state, src->conf.name, p.cursor);
		}
		src->saved_lines = src->lines;
		source_pos_free(&p);
	}
}

/* After each loop iteration: what it decided goes to disk before the next
 * one begins (a ban with an fsync). */
static int daemon_on_post(sd_event_source *es, void *userdata)
{
	struct daemon *dm = userdata;
	int r;

	/* every line read so far is judged before its position is saved,
	 * and no ban waits for the next offence */
	if (dm->pl_ready)
		pipeline_flush(&dm->pl);
	if (!dm->state)
		return 0;
	daemon_save_positions(dm);
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
			dm->compact_retry = time(NULL) + 60;	/* not once per iteration */
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
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 1024;
		struct banset_entry *v = realloc(c->v, cap * sizeof(*v));

		if (!v)
			return -1;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = (struct banset_entry){ e->addr, e->ban_until };
	return 0;
}

/*
 * Reads the state into the judge and puts every ban still running into
 * the sets that lack it (after a reboot: all of them, in one batch; after
 * a restart: none). The saved positions wait in dm->saved for the sources.
 */
static int daemon_load_state(struct daemon *dm)
{
	const struct config *cfg = dm->cur->cfg;
	struct state_positions pos = {
		.file = daemon_saved_file, .journal = daemon_saved_journal, .link = daemon_saved_link,
		.ctx = dm,
	};
	struct daemon_collect c = { .now = time(NULL) };
	struct diag d = { 0 };
	size_t added = 0;
	int rc;

	rc = state_open(cfg->state_dir, &dm->state, &d);
	if (rc == 0)
		rc = state_load(dm->state, dm->pl.j, c.now, &pos, &d);
	/* damaged records are warnings: everything good was kept */
	daemon_log_diag(&d, 0, rc < 0);
	diag_free(&d);
	if (rc < 0)
		return -1;
	if (judge_walk(dm->pl.j, daemon_collect_ban, &c) != 0) {
		free(c.v);
		log_error("state: out of memory restoring bans");
		return -1;
	}
	if (c.n && banset_restore(dm->ban, c.v, c.n, c.now, &added) < 0) {
		free(c.v);
		return -1;
	}
	free(c.v);
	dm->active = c.n;
	log_info("state: %zu bans in force (%zu put back into the sets, %zu were there), "
		 "%zu addresses remembered, %zu source positions, %zu queue ids linked",
		 c.n, added, c.n - added, judge_tracked(dm->pl.j), dm->nsaved, dm->nlinks);
	return 0;
}

/* --- the control socket ------------------------------------------------ */

static struct json_object *daemon_source_json(struct source *src)
{
	struct json_object *o = json_object_new_object();
	struct source_pos p;

	jsonout_add(o, "name", jsonout_cstring(src->conf.name));
	jsonout_add(o, "kind", json_object_new_string(src->kind == SOURCE_FILE ? "file" :
						       "journal"));
	if (src->conf.file)
		jsonout_add(o, "file", jsonout_cstring(src->conf.file));
	jsonout_add(o, "lines", json_object_new_int64((int64_t)src->lines));
	jsonout_add(o, "catching_up", json_object_new_boolean(src->catchup));
	if (src->kind == SOURCE_JOURNAL)
		jsonout_add(o, "untrusted", json_object_new_int64((int64_t)src->untrusted));
	if (source_position(src, &p) == 0 && p.valid) {
		struct stat st;

		if (src->kind == SOURCE_FILE) {
			jsonout_add(o, "offset", json_object_new_int64((int64_t)p.offset));
			/* lag: bytes written to the file and not read yet */
			if (stat(src->conf.file, &st) == 0 && (uint64_t)st.st_ino == p.ino &&
			    (uint64_t)st.st_size >= p.offset)
				jsonout_add(o, "lag_bytes",
					    json_object_new_int64((int64_t)((uint64_t)st.st_size -
									    p.offset)));
		} else if (p.cursor) {
			jsonout_add(o, "cursor", jsonout_cstring(p.cursor));
		}
		source_pos_free(&p);
	} else {
		jsonout_add(o, "waiting", json_object_new_boolean(true));
	}
	return o;
}

struct daemon_count {
	time_t now;
	size_t v4, v6;
};

static int daemon_count_ban(void *ctx, const struct judge_entry *e)
{
	struct daemon_count *c = ctx;

	if (e->ban_until > c->now) {
		if (e->addr.family == 4)
			c->v4++;
		else
			c->v6++;
	}
	return 0;
}

static struct json_object *daemon_ctl_status(void *ctx)
{
	struct daemon *dm = ctx;
	const struct pipeline_stats *st = &dm->pl.st;
	const struct config *cfg = dm->cur->cfg;
	struct daemon_count cnt = { .now = time(NULL) };
	struct json_object *o = json_object_new_object(), *v;

	jsonout_add(o, "version", json_object_new_string(PACKAGE_VERSION));
	jsonout_add(o, "pid", json_object_new_int64(getpid()));
	jsonout_add(o, "started", jsonout_time(dm->started));
	jsonout_add(o, "uptime", json_object_new_int64(cnt.now - dm->started));
	jsonout_add(o, "dry_run", json_object_new_boolean(dm->dry_run));
	jsonout_add(o, "config", jsonout_cstring(cfg->path));
	jsonout_add(o, "patterns", json_object_new_int64((int64_t)dm->cur->ps.n));
	jsonout_add(o, "patterns_jit", json_object_new_int64((int64_t)dm->cur->ps.njit));
	jsonout_add(o, "patterns_dir", jsonout_cstring(cfg->patterns_dir));
	v = json_object_new_array();
	for (size_t i = 0; i < dm->nsrc; i++)
		json_object_array_add(v, daemon_source_json(dm->src[i]));
	jsonout_add(o, "sources", v);
	jsonout_add(o, "lines", json_object_new_int64((int64_t)st->lines));
	jsonout_add(o, "matched", json_object_new_int64((int64_t)st->matched));
	jsonout_add(o, "skipped", json_object_new_int64((int64_t)st->skipped));
	jsonout_add(o, "unparsed", json_object_new_int64((int64_t)st->unparsed));
	jsonout_add(o, "stale", json_object_new_int64((int64_t)st->stale));
	v = json_object_new_object();
	jsonout_add(v, "total", json_object_new_int64((int64_t)st->offences));
	for (int c = 0; c <= CLASS_COUNT; c++)
		if (st->by_class[c])
			jsonout_add(v, class_name((enum class_id)c),
				    json_object_new_int64((int64_t)st->by_class[c]));
	jsonout_add(o, "offences", v);
	jsonout_add(o, "ignored", json_object_new_int64((int64_t)st->ignored));
	jsonout_add(o, "bans", json_object_new_int64((int64_t)st->bans));
	judge_walk(dm->pl.j, daemon_count_ban, &cnt);
	v = json_object_new_object();
	jsonout_add(v, cfg->set4, json_object_new_int64((int64_t)cnt.v4));
	jsonout_add(v, cfg->set6, json_object_new_int64((int64_t)cnt.v6));
	jsonout_add(o, "active_bans", v);
	jsonout_add(o, "tracked", json_object_new_int64((int64_t)judge_tracked(dm->pl.j)));
	jsonout_add(o, "waiting", json_object_new_int64((int64_t)correlator_pending(&dm->pl.c)));
	jsonout_add(o, "ipset_errors", json_object_new_int64((int64_t)dm->ban_errors));
	if (dm->state) {
		struct state_stats ss;

		state_stats(dm->state, &ss);
		v = json_object_new_object();
		jsonout_add(v, "dir", jsonout_cstring(cfg->state_dir));
		jsonout_add(v, "bytes", json_object_new_int64((int64_t)ss.size));
		jsonout_add(v, "fsyncs", json_object_new_int64((int64_t)ss.fsyncs));
		jsonout_add(v, "dropped_at_start", json_object_new_int64((int64_t)ss.dropped));
		jsonout_add(v, "error", ss.last_error ? jsonout_cstring(strerror(-ss.last_error)) :
			    NULL);
		jsonout_add(o, "state", v);
	}
	jsonout_add(o, "control_clients",
		    json_object_new_int64(dm->ctl ? control_clients(dm->ctl) : 0));
	if (dm->reload_time) {
		v = json_object_new_object();
		jsonout_add(v, "time", jsonout_time(dm->reload_time));
		jsonout_add(v, "ok", json_object_new_boolean(dm->reload_ok));
		jsonout_add(v, "messages", json_object_get(dm->reload_msgs));
		jsonout_add(o, "last_reload", v);
	}
	return o;
}

struct daemon_list {
	struct json_object *a;
	time_t now;
};

static int daemon_list_ban(void *ctx, const struct judge_entry *e)
{
	struct daemon_list *l = ctx;
	struct json_object *o;
	char buf[ADDR_STRLEN];

	if (e->ban_until <= l->now)
		return 0;
	o = json_object_new_object();
	jsonout_add(o, "address", jsonout_cstring(addr_format(&e->addr, buf)));
	jsonout_add(o, "remaining", json_object_new_int64(e->ban_until - l->now));
	jsonout_add(o, "until", jsonout_time(e->ban_until));
	jsonout_add(o, "since", jsonout_time(e->ban_start));
	jsonout_add(o, "class", json_object_new_string(class_name(e->ban_class)));
	jsonout_add(o, "pattern", jsonout_cstring(names_get(e->ban_pattern)));
	jsonout_add(o, "offences", json_object_new_int64(e->ban_offences));
	jsonout_add(o, "earlier_bans", json_object_new_int64(e->nbans ? e->nbans - 1 : 0));
	return json_object_array_add(l->a, o) < 0 ? -1 : 0;
}

static struct json_object *daemon_ctl_list(void *ctx)
{
	struct daemon *dm = ctx;
	struct daemon_list l = { json_object_new_array(), time(NULL) };

	if (l.a && judge_walk(dm->pl.j, daemon_list_ban, &l) != 0) {
		json_object_put(l.a);
		return NULL;
	}
	return l.a;
}

static int daemon_ctl_ban(void *ctx, const struct addr *a, long duration, const char *reason,
			  const char **why)
{
	struct daemon *dm = ctx;
	uint64_t errors = dm->ban_errors;
	uint32_t r = reason ? names_intern(reason, strlen(reason)) : 0;

	if (r == UINT32_MAX)
		r = 0;	/* the pool of names is full: the ban shows as "manual" */
	if (judge_ban(dm->pl.j, a, time(NULL), duration, r, why) < 0)
		return -1;
	if (dm->ban_errors != errors) {
		*why = "the judge banned it, but the ipset add failed (see the journal)";
		return -1;
	}
	return 0;
}

static int daemon_ctl_unban(void *ctx, const struct addr *a, bool forget)
{
	struct daemon *dm = ctx;

	return judge_unban(dm->pl.j, a, time(NULL), forget);
}

static int daemon_ctl_reload(void *ctx, struct diag *d)
{
	return daemon_reload(ctx, d);
}

static int daemon_start_control(struct daemon *dm)
{
	static const struct control_ops ops = {
		daemon_ctl_status, daemon_ctl_list, daemon_ctl_ban, daemon_ctl_unban,
		daemon_ctl_reload, NULL,
	};
	const struct config *cfg = dm->cur->cfg;
	struct control_ops o = ops;
	struct diag d = { 0 };
	char *dir = strdup(cfg->control_socket), *slash;
	int rc;

	o.ctx = dm;
	/* run by hand, /run/spamwrath may not exist yet (systemd makes it) */
	slash = dir ? strrchr(dir, '/') : NULL;
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			log_warn("control socket: cannot create %s: %s", dir, strerror(errno));
	}
	free(dir);
	rc = control_start(dm->ev, cfg->control_socket, cfg->control_group, &o, &dm->ctl, &d);
	/* a dry run goes on without it: it must run without privileges */
	daemon_log_diag(&d, 0, rc < 0 && !dm->dry_run);
	diag_free(&d);
	if (rc < 0 && dm->dry_run) {
		log_warn("control socket %s unavailable in this dry run; spamwrathctl will not "
			 "reach it", cfg->control_socket);
		return 0;
	}
	return rc;
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
	rc = pipeline_init(&dm->pl, cfg, &dm->cur->ps, daemon_on_event, dm, &d);
	daemon_log_diag(&d, 0, rc < 0);
	diag_free(&d);
	if (rc < 0)
		return -1;
	dm->pl_ready = true;
	if (dm->dry_run)
		log_info("dry run: the state in %s is neither read nor written", cfg->state_dir);
	else if (daemon_load_state(dm) < 0)
		return -1;
	dm->res = resolver_new(dm->ev, daemon_on_resolved, dm);
	if (!dm->res)
		return -1;
	dm->src = daemon_open_sources(dm, cfg, NULL);
	daemon_free_saved(dm);
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
	return daemon_start_control(dm);
}

static void daemon_stop(struct daemon *dm)
{
	control_stop(dm->ctl);
	if (dm->pl_ready)
		pipeline_flush(&dm->pl);
	if (dm->state) {
		if (dm->pl_ready)
			state_links(dm->state, &dm->pl.c);
		daemon_save_positions(dm);
		if (state_flush(dm->state) < 0)
			log_error("state: the last records could not be written");
		state_close(dm->state);
	}
	daemon_free_saved(dm);
	sd_event_source_disable_unref(dm->post);
	json_object_put(dm->reload_msgs);
	daemon_close_sources(dm->src, dm->nsrc);
	dm->src = NULL;
	dm->nsrc = 0;
	resolver_free(dm->res);
	if (dm->pl_ready)
		pipeline_free(&dm->pl);
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
	int rc = 1;

	dm.config_path = o->config ? o->config : config_default_path();
	dm.dry_run = o->dry_run;
	dm.started = time(NULL);
	if (daemon_start(&dm) < 0) {
		log_event(LOG_EV_ERROR, LOG_ERR, NULL, "not started: see the reasons above");
		goto out;
	}
	log_event(LOG_EV_START, LOG_NOTICE, NULL,
		  "started%s: %s, %zu patterns from %s, %zu sources, sets %s and %s",
		  dm.dry_run ? " in dry run (no ipset changes)" : "", dm.cur->cfg->path,
		  dm.cur->ps.n, dm.cur->cfg->patterns_dir, dm.nsrc, dm.cur->cfg->set4,
		  dm.cur->cfg->set6);
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
