/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What spamwrathd serves on its control socket (control.c speaks the
 * protocol): the status and list views, built as JSON from the loop's
 * state, and the ban, unban and reload commands, which act through the
 * judge and the loop exactly as a log line or SIGHUP would.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon_int.h"
#include "jsonout.h"
#include "log.h"
#include "names.h"

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
	if (src->kind == SOURCE_FILE)
		jsonout_add(o, "unparsed", json_object_new_int64((int64_t)src->unparsed));
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
	for (int c = 0; c < CLASS_COUNT; c++)
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
	{
		struct judge_evictions ev;

		judge_evictions(dm->pl.j, &ev);
		jsonout_add(o, "evicted", json_object_new_int64((int64_t)ev.addresses));
		jsonout_add(o, "evicted_banned", json_object_new_int64((int64_t)ev.bans));
	}
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
	if (dm->fleet)
		jsonout_add(o, "fleet", fleet_status(dm->fleet));
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
	const char *host;	/* in a fleet: this host's name there */
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
	if (e->ban_origin || l->host)
		jsonout_add(o, "origin", jsonout_cstring(e->ban_origin ? names_get(e->ban_origin) :
							 l->host));
	return json_object_array_add(l->a, o) < 0 ? -1 : 0;
}

static struct json_object *daemon_ctl_list(void *ctx)
{
	struct daemon *dm = ctx;
	struct daemon_list l = { json_object_new_array(), time(NULL),
				 dm->fleet ? fleet_host(dm->fleet) : NULL };

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

static int daemon_ctl_unban(void *ctx, const struct addr *a, bool forget, bool local)
{
	struct daemon *dm = ctx;
	int r;

	dm->unban_local = local;
	r = judge_unban(dm->pl.j, a, time(NULL), forget);
	dm->unban_local = false;
	return r;
}

static int daemon_ctl_reload(void *ctx, struct diag *d)
{
	return daemon_reload(ctx, d);
}

struct daemon_find {
	struct addr key;
	struct judge_entry e;
	bool found;
};

static int daemon_find_entry(void *ctx, const struct judge_entry *e)
{
	struct daemon_find *f = ctx;

	if (e->addr.family != f->key.family || e->addr.prefix != f->key.prefix ||
	    memcmp(e->addr.bytes, f->key.bytes, f->key.family == 4 ? 4 : 16) != 0)
		return 0;
	f->e = *e;
	f->found = true;
	return 1;
}

/* why: what the judge holds now about the address's key, what the
 * evidence recorded, and whether the rules would ever ban it. */
static struct json_object *daemon_ctl_why(void *ctx, const struct addr *a)
{
	struct daemon *dm = ctx;
	struct daemon_find f = { .found = false };
	time_t now = time(NULL);
	char buf[ADDR_STRLEN];
	const char *refused;
	struct json_object *o;
	bool banned;

	judge_key(dm->pl.j, a, &f.key);
	o = dm->evid ? evidence_why(dm->evid, &f.key) : json_object_new_object();
	if (!o)
		return NULL;
	jsonout_add(o, "address", jsonout_cstring(addr_format(a, buf)));
	jsonout_add(o, "key", jsonout_cstring(addr_format(&f.key, buf)));
	judge_walk(dm->pl.j, daemon_find_entry, &f);
	banned = f.found && f.e.ban_until > now;
	jsonout_add(o, "banned", json_object_new_boolean(banned));
	if (banned) {
		jsonout_add(o, "until", jsonout_time(f.e.ban_until));
		jsonout_add(o, "remaining", json_object_new_int64((int64_t)(f.e.ban_until - now)));
		jsonout_add(o, "class", jsonout_cstring(class_name(f.e.ban_class)));
		jsonout_add(o, "pattern", jsonout_cstring(names_get(f.e.ban_pattern)));
	}
	jsonout_add(o, "bans_remembered", json_object_new_int64(f.found ? f.e.nbans : 0));
	jsonout_add(o, "offences_counting", json_object_new_int64(f.found ? f.e.noffences : 0));
	/* whitelisted, the host's own, loopback...: why lines never count */
	refused = judge_refuses(dm->pl.j, &f.key);
	jsonout_add(o, "never_banned", refused ? jsonout_cstring(refused) : NULL);
	return o;
}

static char *daemon_ctl_metrics(void *ctx)
{
	return daemon_metrics_text(ctx);
}

int daemon_control_start(struct daemon *dm)
{
	static const struct control_ops ops = {
		.status = daemon_ctl_status, .list = daemon_ctl_list, .ban = daemon_ctl_ban,
		.unban = daemon_ctl_unban, .reload = daemon_ctl_reload,
		.metrics = daemon_ctl_metrics, .why = daemon_ctl_why,
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
