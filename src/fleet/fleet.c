/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The local state stays the record: the fleet only adds. A ban decided
 * here goes out through SCRIPT_BAN, which stores it in the index and
 * publishes it in one step unless a ban of that address is in force in
 * the fleet already (then ours stays local: one ban, one escalation). An
 * offence counted here goes to SCRIPT_OFFENCE; the host whose offence
 * brings the fleet's sum to the threshold gets the lock and the offences,
 * verifies their signatures, and bans (its ban then goes out as above).
 *
 * While Redis is out of reach, bans and unbans wait in a bounded queue
 * (the oldest dropped and counted) and offences count here only. Each
 * (re)connect reads the whole index first (HSCAN, page by page), applies
 * what this host lacks, and then publishes again every ban of ours in
 * force that the index lacks (Redis restarted empty, or they were made
 * during the outage): that replaces the queued bans. Unbans in flight
 * when the link drops go back to the queue; bans in flight need not, the
 * next sync publishes them again.
 *
 * Limits: FLEET_QUEUE_MAX waiting publications, FLEET_WINDOW in flight;
 * the sync keeps every address it read (18 bytes each) until it ends; the
 * replay check keeps PROTO_PEERS_MAX senders; the lag of the last
 * FLEET_LAGS received bans.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "duration.h"
#include "fleet.h"
#include "jsonout.h"
#include "link.h"
#include "log.h"
#include "names.h"
#include "proto.h"
#include "scripts.h"

#define FLEET_LAGS 1024
#define FLEET_SCAN_COUNT "5000"
#define FLEET_KEY_MAX (PROTO_NAME_MAX + ADDR_STRLEN + 16)
#define FLEET_PASSWORD_MAX 1024

enum fleet_reject { REJ_MALFORMED, REJ_SIGNATURE, REJ_ADDRESS, REJ_REPLAY, REJ_DURATION,
		    REJ_FORGED_OFFENCE, REJ_COUNT };

static const char *const fleet_reject_names[REJ_COUNT] = {
	"malformed", "signature", "address", "replay", "duration", "forged_offences",
};

/* A publication waiting for Redis. */
struct fleet_out {
	bool unban;
	bool forget;
	struct fleet_ban b;	/* b.origin unused: ours */
};

struct fleet {
	sd_event *ev;
	struct link *link;
	struct proto_key key;
	struct proto_peers *peers;
	struct fleet_rules r;
	bool share_offences;
	struct fleet_ops ops;
	bool closing;
	char *k_bans, *k_expiry, *k_hosts, *k_hostkey, *k_hostprefix, *chan;

	/* reachability */
	bool up, ever_up, said_down;
	time_t since;		/* up since, or out of reach since */

	/* the read of the index at each (re)connect */
	bool syncing;
	uint64_t sync_start_ms;
	struct addr *seen;
	size_t nseen, capseen;
	size_t sync_records, sync_applied, sync_had, sync_refused, sync_unbans;

	/* publications */
	struct fleet_out *q;	/* ring of FLEET_QUEUE_MAX */
	size_t qhead, qcount;
	size_t inflight;

	/* heartbeat */
	sd_event_source *beat;
	struct json_object *hosts;
	time_t hosts_time;

	/* counters */
	uint64_t published, had_in_fleet, lifted_in_fleet, received, applied, had_here,
		 refused_here, unbans_received, unbans_applied, offences_sent, offences_dropped,
		 decided, dropped, republished, syncs;
	uint64_t rejected[REJ_COUNT];
	uint32_t lag[FLEET_LAGS];
	size_t nlag, lagpos;
	uint64_t lag_last;
};

/* A command's context. */
struct fleet_call {
	struct fleet *f;
	struct fleet_out o;	/* bans and unbans */
	/* offences */
	time_t when;
	uint32_t pattern;
	enum class_id cls;
};

static void fleet_pump(struct fleet *f);
static void fleet_sync_page(struct fleet *f, const char *cursor);

static time_t fleet_now(void)
{
	return time(NULL);
}

static int fleet_asprintf(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fleet_asprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(out, fmt, ap);
	va_end(ap);
	if (r < 0)
		*out = NULL;
	return r < 0 ? -1 : 0;
}

/* "NS:what:ADDR" into buf. */
static void fleet_addr_key(const struct fleet *f, const char *what, const struct addr *a,
			   char buf[FLEET_KEY_MAX])
{
	char t[ADDR_STRLEN];

	snprintf(buf, FLEET_KEY_MAX, "%s:%s:%s", f->key.ns, what, addr_format(a, t));
}

/* The per-address keys every decision script takes after the index's two. */
struct fleet_addr_keys {
	char off[FLEET_KEY_MAX], hist[FLEET_KEY_MAX], lock[FLEET_KEY_MAX];
};

static void fleet_addr_keys(const struct fleet *f, const struct addr *a,
			    struct fleet_addr_keys *k)
{
	fleet_addr_key(f, "off", a, k->off);
	fleet_addr_key(f, "hist", a, k->hist);
	fleet_addr_key(f, "lock", a, k->lock);
}

#define FLEET_ARGS_MAX 16

/*
 * EVALSHA of script, the first nkeys of the argc arguments its keys;
 * argv[rec] is a signed message of reclen bytes (the others are strings).
 * 0, or -1 when the link refused it (fn is then never called).
 */
static int fleet_eval(struct fleet *f, unsigned script, int nkeys, const char **argv, size_t argc,
		      size_t rec, size_t reclen, link_reply_fn *fn, void *ctx)
{
	size_t lens[FLEET_ARGS_MAX];

	if (argc > FLEET_ARGS_MAX)
		return -1;
	for (size_t i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	lens[rec] = reclen;
	return link_eval(f->link, script, nkeys, (int)argc, argv, lens, fn, ctx);
}

#define FLEET_NARGS(v) (sizeof(v) / sizeof((v)[0]))

/*
 * A decision script (SCRIPT_BAN, SCRIPT_UNBAN, SCRIPT_OFFENCE) about a, for
 * the call c: its five keys (the index's two, a's three) and a come first,
 * then the argc arguments args, args[rec] the signed message of reclen
 * bytes. 0, or -1 when the link refused it (c is then freed).
 */
static int fleet_decision_eval(struct fleet *f, unsigned script, const struct addr *a,
			       const char **args, size_t argc, size_t rec, size_t reclen,
			       link_reply_fn *fn, struct fleet_call *c)
{
	const char *argv[FLEET_ARGS_MAX];
	struct fleet_addr_keys k;
	char t[ADDR_STRLEN];

	if (argc > FLEET_ARGS_MAX - 6) {
		free(c);
		return -1;
	}
	fleet_addr_keys(f, a, &k);
	argv[0] = f->k_bans;
	argv[1] = f->k_expiry;
	argv[2] = k.off;
	argv[3] = k.hist;
	argv[4] = k.lock;
	argv[5] = addr_format(a, t);
	memcpy(argv + 6, args, argc * sizeof(*args));
	if (fleet_eval(f, script, 5, argv, argc + 6, rec + 6, reclen, fn, c) < 0) {
		free(c);
		return -1;
	}
	return 0;
}

static void fleet_reject(struct fleet *f, enum fleet_reject why)
{
	f->rejected[why]++;
	/* a flood must not flood the journal: the first, then every 1000th */
	if (f->rejected[why] == 1 || f->rejected[why] % 1000 == 0)
		log_warn("fleet: refused a message (%s); %llu so far, see spamwrathctl status",
			 fleet_reject_names[why], (unsigned long long)f->rejected[why]);
}

/* --- the queue of publications --- */

static void fleet_enqueue(struct fleet *f, const struct fleet_out *o, bool front)
{
	if (f->qcount == FLEET_QUEUE_MAX) {
		f->dropped++;		/* the oldest makes room */
		f->qhead = (f->qhead + 1) % FLEET_QUEUE_MAX;
		f->qcount--;
	}
	if (front) {
		f->qhead = (f->qhead + FLEET_QUEUE_MAX - 1) % FLEET_QUEUE_MAX;
		f->q[f->qhead] = *o;
	} else {
		f->q[(f->qhead + f->qcount) % FLEET_QUEUE_MAX] = *o;
	}
	f->qcount++;
}

/* Queued bans go: the sync after a reconnect publishes every ban of ours
 * the fleet lacks, those among them. */
static void fleet_drop_queued_bans(struct fleet *f)
{
	size_t n = 0;

	for (size_t i = 0; i < f->qcount; i++) {
		struct fleet_out *o = &f->q[(f->qhead + i) % FLEET_QUEUE_MAX];

		if (o->unban)
			f->q[(f->qhead + n++) % FLEET_QUEUE_MAX] = *o;
	}
	f->qcount = n;
}

static struct fleet_call *fleet_call(struct fleet *f)
{
	struct fleet_call *c = calloc(1, sizeof(*c));

	if (c)
		c->f = f;
	return c;
}

/* Publishes o, a ban or an unban, by script (fleet_decision_eval): args[0]
 * is its signed message, reclen bytes; fn gets the reply. */
static int fleet_publish(struct fleet *f, const struct fleet_out *o, unsigned script,
			 const char **args, size_t argc, size_t reclen, link_reply_fn *fn)
{
	struct fleet_call *c = fleet_call(f);

	if (!c)
		return -1;
	c->o = *o;
	if (fleet_decision_eval(f, script, &o->b.addr, args, argc, 0, reclen, fn, c) < 0)
		return -1;
	f->inflight++;
	return 0;
}

static bool fleet_int(const redisReply *r, size_t i, long long *v)
{
	if (!r || r->type != REDIS_REPLY_ARRAY || i >= r->elements ||
	    r->element[i]->type != REDIS_REPLY_INTEGER)
		return false;
	*v = r->element[i]->integer;
	return true;
}

/* --- bans --- */

static void fleet_on_ban_reply(void *ctx, const redisReply *r)
{
	struct fleet_call *c = ctx;
	struct fleet *f = c->f;
	long long code = 0, earlier = 0;

	f->inflight--;
	if (!r || f->closing) {
		free(c);	/* the next sync publishes it again */
		return;
	}
	if (r->type == REDIS_REPLY_ERROR)
		log_warn("fleet: publishing a ban: %s", r->str);
	else if (!fleet_int(r, 0, &code))
		log_warn("fleet: publishing a ban: unexpected reply");
	if (code == 1)
		f->published++;
	else if (code == 2)
		f->had_in_fleet++;
	else if (code == 3)
		f->lifted_in_fleet++;
	else if (code == 4 && fleet_int(r, 1, &earlier) && earlier > 0)
		f->ops.escalate(f->ops.ctx, &c->o.b.addr, (unsigned)earlier);
	free(c);
	fleet_pump(f);
}

static int fleet_send_ban(struct fleet *f, const struct fleet_out *o)
{
	struct proto_msg m = {
		.kind = PROTO_BAN, .addr = o->b.addr, .start = (uint64_t)o->b.start,
		.until = (uint64_t)o->b.until, .cls = o->b.cls, .offences = o->b.offences,
		.earlier = o->b.earlier,
	};
	char rec[PROTO_MSG_MAX + 1], start[24], until[24], earlier[24], now[24], window[24],
	     hist[PROTO_NAME_MAX + 32];
	const char *args[] = { rec, start, until, earlier, now, window, f->chan, hist };
	size_t len;

	snprintf(m.pattern, sizeof(m.pattern), "%s", names_get(o->b.pattern));
	snprintf(m.origin, sizeof(m.origin), "%s", f->key.host);
	len = proto_sign(&f->key, &m, proto_now_ms(), rec, sizeof(rec));
	if (len == 0)
		return 0;	/* cannot be: the fields are bounded */
	snprintf(start, sizeof(start), "%lld", (long long)o->b.start);
	snprintf(until, sizeof(until), "%lld", (long long)o->b.until);
	snprintf(earlier, sizeof(earlier), "%u", o->b.earlier);
	snprintf(now, sizeof(now), "%lld", (long long)fleet_now());
	snprintf(window, sizeof(window), "%ld", f->r.repeat_window);
	snprintf(hist, sizeof(hist), "%lld:%s", (long long)o->b.start, f->key.host);
	return fleet_publish(f, o, SCRIPT_BAN, args, FLEET_NARGS(args), len, fleet_on_ban_reply);
}

/* --- unbans --- */

static void fleet_on_unban_reply(void *ctx, const redisReply *r)
{
	struct fleet_call *c = ctx;
	struct fleet *f = c->f;

	f->inflight--;
	if (f->closing) {
		free(c);
		return;
	}
	if (!r) {
		fleet_enqueue(f, &c->o, true);	/* again after the reconnect */
		free(c);
		return;
	}
	if (r->type == REDIS_REPLY_ERROR)
		log_warn("fleet: publishing an unban: %s", r->str);
	else
		f->published++;
	free(c);
	fleet_pump(f);
}

static int fleet_send_unban(struct fleet *f, const struct fleet_out *o)
{
	struct proto_msg m = { .kind = PROTO_UNBAN, .addr = o->b.addr, .forget = o->forget };
	char rec[PROTO_MSG_MAX + 1], now[24], keep[24];
	const char *args[] = { rec, now, o->forget ? "1" : "0", f->chan, keep };
	time_t t = fleet_now();
	size_t len = proto_sign(&f->key, &m, proto_now_ms(), rec, sizeof(rec));

	if (len == 0)
		return 0;
	snprintf(now, sizeof(now), "%lld", (long long)t);
	/* as long as any ban begun before it could last */
	snprintf(keep, sizeof(keep), "%lld", (long long)t + f->r.bantime_max);
	return fleet_publish(f, o, SCRIPT_UNBAN, args, FLEET_NARGS(args), len, fleet_on_unban_reply);
}

static void fleet_pump(struct fleet *f)
{
	while (f->up && !f->syncing && f->qcount && f->inflight < FLEET_WINDOW) {
		struct fleet_out *o = &f->q[f->qhead];
		int r = o->unban ? fleet_send_unban(f, o) : fleet_send_ban(f, o);

		if (r < 0)
			return;		/* the link refused: it is going down, or full */
		f->qhead = (f->qhead + 1) % FLEET_QUEUE_MAX;
		f->qcount--;
	}
}

void fleet_ban(struct fleet *f, const struct fleet_ban *b)
{
	struct fleet_out o = { .b = *b };

	o.b.origin = NULL;
	fleet_enqueue(f, &o, false);
	fleet_pump(f);
}

void fleet_unban(struct fleet *f, const struct addr *a, bool forget)
{
	struct fleet_out o = { .unban = true, .forget = forget, .b.addr = *a };

	fleet_enqueue(f, &o, false);
	fleet_pump(f);
}

/* --- offences --- */

static void fleet_on_unlock_reply(void *ctx, const redisReply *r)
{
}

/* The offences the lock came with: only those we can verify count. */
static void fleet_decide(struct fleet *f, struct fleet_call *c, const redisReply *offs,
			 long long earlier)
{
	uint64_t now_ms = proto_now_ms(), sum = 0;
	unsigned n = 0;

	for (size_t i = 0; offs && i < offs->elements; i++) {
		const redisReply *e = offs->element[i];
		struct proto_msg m;

		if (e->type != REDIS_REPLY_STRING ||
		    proto_read(&f->key, e->str, e->len, &m) != PROTO_OK || m.kind != PROTO_OFFENCE ||
		    memcmp(&m.addr, &c->o.b.addr, sizeof(m.addr)) != 0 ||
		    m.time_ms + (uint64_t)f->r.findtime * 1000u < now_ms) {
			fleet_reject(f, REJ_FORGED_OFFENCE);
			continue;
		}
		sum += m.weight;
		n++;
	}
	if (sum >= f->r.threshold) {
		f->decided++;
		f->ops.decided(f->ops.ctx, &c->o.b.addr, c->when, c->cls, c->pattern, n,
			       earlier > 0 ? (unsigned)earlier : 0);
		return;
	}
	{
		struct fleet_addr_keys k;
		const char *argv[] = { k.lock, f->key.host };

		fleet_addr_keys(f, &c->o.b.addr, &k);
		link_eval(f->link, SCRIPT_UNLOCK, 1, 2, argv, NULL, fleet_on_unlock_reply, NULL);
	}
}

static void fleet_on_offence_reply(void *ctx, const redisReply *r)
{
	struct fleet_call *c = ctx;
	struct fleet *f = c->f;
	long long code, earlier;

	if (r && !f->closing && fleet_int(r, 0, &code) && code == 1 && fleet_int(r, 1, &earlier) &&
	    r->elements == 3 && r->element[2]->type == REDIS_REPLY_ARRAY)
		fleet_decide(f, c, r->element[2], earlier);
	else if (r && r->type == REDIS_REPLY_ERROR)
		log_warn("fleet: sharing an offence: %s", r->str);
	free(c);
}

void fleet_offence(struct fleet *f, const struct addr *a, time_t when, uint32_t weight,
		   enum class_id cls, uint32_t pattern)
{
	struct proto_msg m = { .kind = PROTO_OFFENCE, .addr = *a, .weight = weight, .cls = cls };
	char rec[PROTO_MSG_MAX + 1], now[24], w[16], thr[16], find[24], window[24], ttl[16];
	const char *args[] = { now, rec, w, thr, find, window, f->key.host, ttl };
	struct fleet_call *c;
	size_t len;

	if (!f->share_offences)
		return;
	if (!f->up) {
		f->offences_dropped++;
		return;
	}
	snprintf(m.pattern, sizeof(m.pattern), "%s", names_get(pattern));
	len = proto_sign(&f->key, &m, proto_now_ms(), rec, sizeof(rec));
	c = len ? fleet_call(f) : NULL;
	if (!c) {
		f->offences_dropped++;
		return;
	}
	c->o.b.addr = *a;
	c->when = when;
	c->cls = cls;
	c->pattern = pattern;
	snprintf(now, sizeof(now), "%lld", (long long)when);
	snprintf(w, sizeof(w), "%u", weight);
	snprintf(thr, sizeof(thr), "%u", f->r.threshold);
	snprintf(find, sizeof(find), "%ld", f->r.findtime);
	snprintf(window, sizeof(window), "%ld", f->r.repeat_window);
	snprintf(ttl, sizeof(ttl), "%d", FLEET_LOCK_TTL);
	if (fleet_decision_eval(f, SCRIPT_OFFENCE, a, args, FLEET_NARGS(args), 1, len,
				fleet_on_offence_reply, c) < 0) {
		f->offences_dropped++;
		return;
	}
	f->offences_sent++;
}

/* --- what others publish --- */

static void fleet_lag(struct fleet *f, uint64_t sent_ms)
{
	uint64_t now = proto_now_ms();
	uint64_t lag = now > sent_ms ? now - sent_ms : 0;

	f->lag_last = lag;
	f->lag[f->lagpos] = lag > UINT32_MAX ? UINT32_MAX : (uint32_t)lag;
	f->lagpos = (f->lagpos + 1) % FLEET_LAGS;
	if (f->nlag < FLEET_LAGS)
		f->nlag++;
}

/* A received ban, checked against our rules, handed to the daemon. */
static void fleet_apply_ban(struct fleet *f, const struct proto_msg *m, bool bulk)
{
	time_t now = fleet_now();
	uint32_t pattern = names_intern(m->pattern, strlen(m->pattern));
	struct fleet_ban b = {
		.addr = m->addr, .start = (time_t)m->start, .until = (time_t)m->until,
		.cls = m->cls, .pattern = pattern == UINT32_MAX ? 0 : pattern, .origin = m->origin,
		.offences = m->offences, .earlier = m->earlier, .sent_ms = m->time_ms,
	};
	const char *why = NULL;

	if (m->until - m->start > (uint64_t)f->r.bantime_max ||
	    (time_t)m->until - now > f->r.bantime_max) {
		fleet_reject(f, REJ_DURATION);
		if (bulk)
			f->sync_refused++;
		return;
	}
	if ((time_t)m->until <= now)
		return;		/* over already: nothing to do */
	switch (f->ops.ban(f->ops.ctx, &b, bulk, &why)) {
	case FLEET_APPLIED:
		f->applied++;
		f->sync_applied += bulk;
		break;
	case FLEET_HAD:
		f->had_here++;
		f->sync_had += bulk;
		break;
	case FLEET_REFUSED:
		f->refused_here++;
		f->sync_refused += bulk;
		break;
	}
}

static void fleet_apply_unban(struct fleet *f, const struct proto_msg *m)
{
	f->unbans_received++;
	if (f->ops.unban(f->ops.ctx, &m->addr, (time_t)(m->time_ms / 1000), m->forget, m->sender))
		f->unbans_applied++;
}

static void fleet_on_message(void *ctx, const char *msg, size_t len)
{
	struct fleet *f = ctx;
	struct proto_msg m;
	enum proto_error e = proto_read(&f->key, msg, len, &m);

	if (e == PROTO_OK && strcmp(m.sender, f->key.host) == 0)
		return;		/* our own, back from the channel */
	if (e == PROTO_OK)
		e = proto_fresh(f->peers, &m, proto_now_ms());
	if (e == PROTO_OK && m.kind != PROTO_BAN && m.kind != PROTO_UNBAN)
		e = PROTO_E_MALFORMED;	/* signed, but nothing for the channel */
	if (e != PROTO_OK) {
		fleet_reject(f, (enum fleet_reject)(e - 1));
		return;
	}
	f->received++;
	if (m.kind == PROTO_BAN) {
		fleet_lag(f, m.time_ms);
		fleet_apply_ban(f, &m, false);
	} else {
		fleet_apply_unban(f, &m);
	}
}

/* --- the read of the index at each (re)connect --- */

static int fleet_addr_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct addr));
}

static int fleet_seen_add(struct fleet *f, const struct addr *a)
{
	if (f->nseen == f->capseen) {
		size_t cap = f->capseen ? 2 * f->capseen : 1024;
		struct addr *v = realloc(f->seen, cap * sizeof(*v));

		if (!v)
			return -1;
		f->seen = v;
		f->capseen = cap;
	}
	f->seen[f->nseen++] = *a;
	return 0;
}

static void fleet_sync_record(struct fleet *f, const redisReply *v)
{
	struct proto_msg m;
	enum proto_error e;

	if (v->type != REDIS_REPLY_STRING) {
		fleet_reject(f, REJ_MALFORMED);
		return;
	}
	e = proto_read(&f->key, v->str, v->len, &m);
	if (e == PROTO_OK && m.kind != PROTO_BAN && m.kind != PROTO_UNBAN)
		e = PROTO_E_MALFORMED;
	if (e != PROTO_OK) {
		fleet_reject(f, (enum fleet_reject)(e - 1));
		return;
	}
	f->sync_records++;
	if (fleet_seen_add(f, &m.addr) < 0)
		log_error("fleet: out of memory reading the fleet's bans");
	if (m.kind == PROTO_BAN) {
		fleet_apply_ban(f, &m, true);
	} else {
		f->sync_unbans++;
		fleet_apply_unban(f, &m);
	}
}

static void fleet_republish(void *fctx, const struct fleet_ban *b)
{
	struct fleet *f = fctx;

	/* an empty index leaves seen NULL: bsearch and qsort want an array */
	if (f->nseen && bsearch(&b->addr, f->seen, f->nseen, sizeof(*f->seen), fleet_addr_cmp))
		return;
	f->republished++;
	fleet_ban(f, b);
}

static void fleet_sync_done(struct fleet *f)
{
	uint64_t ms = proto_now_ms() - f->sync_start_ms;

	f->ops.flush(f->ops.ctx);
	if (f->nseen)
		qsort(f->seen, f->nseen, sizeof(*f->seen), fleet_addr_cmp);
	fleet_drop_queued_bans(f);
	f->republished = 0;
	f->ops.walk_own(f->ops.ctx, fleet_republish, f);	/* queued: the pump waits for the end */
	f->syncing = false;
	log_info("fleet: in step with the fleet's %zu records in %llu ms: %zu bans applied here, "
		 "%zu here already, %zu refused, %zu unbans; %llu bans of ours to publish again",
		 f->sync_records, (unsigned long long)ms, f->sync_applied, f->sync_had,
		 f->sync_refused, f->sync_unbans, (unsigned long long)f->republished);
	free(f->seen);
	f->seen = NULL;
	f->nseen = f->capseen = 0;
	fleet_pump(f);
}

static void fleet_on_scan_reply(void *ctx, const redisReply *r)
{
	struct fleet *f = ctx;
	const redisReply *items;
	char cursor[32];

	if (!r || f->closing || !f->syncing)
		return;		/* the link dropped: the next connect reads again */
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_ARRAY ||
	    r->element[0]->len >= sizeof(cursor)) {
		log_warn("fleet: reading the fleet's bans: %s", r->type == REDIS_REPLY_ERROR ?
			 r->str : "unexpected reply");
		fleet_sync_done(f);
		return;
	}
	items = r->element[1];
	memcpy(cursor, r->element[0]->str, r->element[0]->len + 1);
	/* the next page is asked for first: Redis reads it while we apply this one */
	if (strcmp(cursor, "0") != 0)
		fleet_sync_page(f, cursor);
	for (size_t i = 1; i < items->elements; i += 2)
		fleet_sync_record(f, items->element[i]);
	f->ops.flush(f->ops.ctx);
	if (strcmp(cursor, "0") == 0)
		fleet_sync_done(f);
}

static void fleet_sync_page(struct fleet *f, const char *cursor)
{
	const char *argv[] = { "HSCAN", f->k_bans, cursor, "COUNT", FLEET_SCAN_COUNT };

	if (link_command(f->link, 5, argv, NULL, fleet_on_scan_reply, f) < 0)
		f->syncing = false;	/* the link is going down: the next connect reads again */
}

/* --- heartbeat and the hosts of the fleet --- */

static struct json_object *fleet_host_json(struct fleet *f, const redisReply *name,
					   const redisReply *last, const redisReply *beat)
{
	struct json_object *o = json_object_new_object();
	struct proto_msg m;
	bool ok = beat->type == REDIS_REPLY_STRING &&
		proto_read(&f->key, beat->str, beat->len, &m) == PROTO_OK &&
		m.kind == PROTO_HEARTBEAT && strcmp(m.sender, name->str) == 0;

	jsonout_add(o, "name", jsonout_string(name->str, name->len));
	jsonout_add(o, "live", json_object_new_boolean(ok));
	if (last->type == REDIS_REPLY_STRING)
		jsonout_add(o, "last_seen", jsonout_time((time_t)strtoll(last->str, NULL, 10)));
	if (ok) {
		jsonout_add(o, "active_bans", json_object_new_int64((int64_t)m.active));
		jsonout_add(o, "received", json_object_new_int64((int64_t)m.received));
		jsonout_add(o, "lag_ms", json_object_new_int64((int64_t)m.lag_ms));
	}
	return o;
}

static uint64_t fleet_lag_median(const struct fleet *f)
{
	uint32_t v[FLEET_LAGS];

	if (!f->nlag)
		return 0;
	memcpy(v, f->lag, f->nlag * sizeof(v[0]));
	for (size_t i = 1; i < f->nlag; i++) {	/* insertion sort: at most 1024 */
		uint32_t x = v[i];
		size_t k = i;

		for (; k > 0 && v[k - 1] > x; k--)
			v[k] = v[k - 1];
		v[k] = x;
	}
	return v[f->nlag / 2];
}

static void fleet_on_beat_reply(void *ctx, const redisReply *r)
{
	struct fleet *f = ctx;
	struct json_object *a;

	if (!r || f->closing || r->type != REDIS_REPLY_ARRAY)
		return;
	a = json_object_new_array();
	for (size_t i = 0; a && i + 2 < r->elements; i += 3) {
		const redisReply *name = r->element[i];

		if (name->type == REDIS_REPLY_STRING)
			json_object_array_add(a, fleet_host_json(f, name, r->element[i + 1],
								 r->element[i + 2]));
	}
	json_object_put(f->hosts);
	f->hosts = a;
	f->hosts_time = fleet_now();
}

static void fleet_send_beat(struct fleet *f)
{
	struct proto_msg m = {
		.kind = PROTO_HEARTBEAT, .active = f->ops.active(f->ops.ctx),
		.lag_ms = fleet_lag_median(f), .received = f->received,
	};
	char beat[PROTO_MSG_MAX + 1], ttl[16], now[24], forget[24];
	size_t len = proto_sign(&f->key, &m, proto_now_ms(), beat, sizeof(beat));
	const char *argv[] = { f->k_hosts, f->k_hostkey, f->k_bans, f->k_expiry, f->key.host,
			       beat, ttl, now, f->k_hostprefix, forget };

	if (len == 0)
		return;
	snprintf(ttl, sizeof(ttl), "%d", 3 * FLEET_BEAT_MS);
	snprintf(now, sizeof(now), "%lld", (long long)fleet_now());
	snprintf(forget, sizeof(forget), "%d", FLEET_HOSTS_FORGET);
	/* a beat the link refuses is simply not sent: the next one comes */
	fleet_eval(f, SCRIPT_HEARTBEAT, 4, argv, FLEET_NARGS(argv), 5, len, fleet_on_beat_reply, f);
}

static int fleet_on_beat(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct fleet *f = userdata;

	if (f->up)
		fleet_send_beat(f);
	sd_event_source_set_time_relative(es, FLEET_BEAT_MS * 1000u);
	return 0;
}

/* --- the link --- */

static void fleet_on_up(void *ctx)
{
	struct fleet *f = ctx;
	time_t now = fleet_now();
	char d[32];

	if (f->said_down)
		log_info("fleet: Redis at %s reachable again after %s; reading the fleet's bans",
			 link_where(f->link), duration_format(now - f->since, d, sizeof(d)));
	else
		log_info("fleet: joined as %s through Redis at %s (namespace %s); reading the "
			 "fleet's bans", f->key.host, link_where(f->link), f->key.ns);
	f->up = f->ever_up = true;
	f->said_down = false;
	f->since = now;
	f->syncs++;
	f->syncing = true;
	f->sync_start_ms = proto_now_ms();
	f->nseen = 0;
	f->sync_records = f->sync_applied = f->sync_had = f->sync_refused = f->sync_unbans = 0;
	fleet_send_beat(f);
	fleet_sync_page(f, "0");
}

static void fleet_on_down(void *ctx, const char *why)
{
	struct fleet *f = ctx;

	if (f->closing)
		return;
	if (f->up || !f->said_down) {
		if (f->up || !f->ever_up)
			f->since = fleet_now();
		log_warn("fleet: Redis out of reach (%s); judging locally, bans wait for it", why);
		f->said_down = true;
	}
	f->up = false;
	f->syncing = false;
}

/* --- life --- */

static int fleet_read_password(const char *path, char *buf, size_t cap, struct diag *d)
{
	size_t len;

	if (proto_read_secret(path, "password_file", (unsigned char *)buf, cap - 1, &len, d) < 0)
		return -1;
	buf[len] = '\0';
	if (strlen(buf) != len || strpbrk(buf, "\r\n")) {
		diag_error(d, path, 0, "password_file: one line, without NUL bytes");
		explicit_bzero(buf, cap);
		return -1;
	}
	return 0;
}

static int fleet_keys(struct fleet *f)
{
	const char *ns = f->key.ns;

	return fleet_asprintf(&f->k_bans, "%s:bans", ns) | fleet_asprintf(&f->k_expiry, "%s:expiry", ns) |
	       fleet_asprintf(&f->k_hosts, "%s:hosts", ns) |
	       fleet_asprintf(&f->k_hostkey, "%s:host:%s", ns, f->key.host) |
	       fleet_asprintf(&f->k_hostprefix, "%s:host:", ns) |
	       fleet_asprintf(&f->chan, "%s:events", ns);
}

static int fleet_make_link(struct fleet *f, const struct fleet_conf *c, const char *password)
{
	static const struct link_ops lops = { fleet_on_up, fleet_on_down, fleet_on_message, NULL };
	struct link_ops o = lops;
	struct link_conf lc = {
		.redis = c->redis, .sentinels = c->sentinels, .nsentinels = c->nsentinels,
		.master_name = c->master_name, .user = c->user, .password = password,
		.channel = f->chan, .scripts = scripts_lua, .nscripts = SCRIPT_COUNT,
	};

	o.ctx = f;
	f->link = link_new(f->ev, &lc, &o);
	return f->link ? 0 : -1;
}

int fleet_new(sd_event *e, const struct fleet_conf *c, const struct fleet_rules *r,
	      const struct fleet_ops *ops, struct fleet **out, struct diag *d)
{
	struct fleet *f = calloc(1, sizeof(*f));
	char password[FLEET_PASSWORD_MAX];
	const char *where = c->where ? c->where : "fleet";

	if (!f) {
		diag_error(d, where, 0, "fleet: out of memory");
		return -1;
	}
	f->ev = sd_event_ref(e);
	f->r = *r;
	f->share_offences = c->share_offences;
	f->ops = *ops;
	if (proto_key_load(&f->key, c->key_file, c->ns, c->host, d) < 0)
		goto failed;
	if (c->password_file &&
	    fleet_read_password(c->password_file, password, sizeof(password), d) < 0)
		goto failed;
	f->peers = calloc(1, sizeof(*f->peers));
	f->q = malloc(FLEET_QUEUE_MAX * sizeof(*f->q));
	if (!f->peers || !f->q || fleet_keys(f) < 0 ||
	    fleet_make_link(f, c, c->password_file ? password : NULL) < 0 ||
	    sd_event_add_time_relative(e, &f->beat, CLOCK_MONOTONIC, FLEET_BEAT_MS * 1000u, 0,
				       fleet_on_beat, f) < 0 ||
	    sd_event_source_set_enabled(f->beat, SD_EVENT_ON) < 0) {
		diag_error(d, where, 0, "fleet: out of memory");
		goto failed;
	}
	explicit_bzero(password, sizeof(password));
	*out = f;
	return 0;
failed:
	explicit_bzero(password, sizeof(password));
	fleet_free(f);
	return -1;
}

void fleet_start(struct fleet *f)
{
	f->since = fleet_now();
	link_start(f->link);
}

void fleet_free(struct fleet *f)
{
	if (!f)
		return;
	f->closing = true;
	link_free(f->link);	/* pending replies come back NULL: f must still be whole */
	sd_event_source_disable_unref(f->beat);
	sd_event_unref(f->ev);
	proto_key_clear(&f->key);
	json_object_put(f->hosts);
	free(f->peers);
	free(f->q);
	free(f->seen);
	free(f->k_bans);
	free(f->k_expiry);
	free(f->k_hosts);
	free(f->k_hostkey);
	free(f->k_hostprefix);
	free(f->chan);
	free(f);
}

void fleet_set_rules(struct fleet *f, const struct fleet_rules *r)
{
	f->r = *r;
}

const char *fleet_host(const struct fleet *f)
{
	return f->key.host;
}

/* --- status --- */

static struct json_object *fleet_counts(struct fleet *f)
{
	struct json_object *o = json_object_new_object();

	for (int i = 0; i < REJ_COUNT; i++)
		jsonout_add(o, fleet_reject_names[i], json_object_new_int64((int64_t)f->rejected[i]));
	return o;
}

#define FLEET_N(v) json_object_new_int64((int64_t)(v))

struct json_object *fleet_status(struct fleet *f)
{
	struct json_object *o = json_object_new_object(), *v;

	jsonout_add(o, "host", jsonout_cstring(f->key.host));
	jsonout_add(o, "namespace", jsonout_cstring(f->key.ns));
	jsonout_add(o, "redis", jsonout_cstring(link_where(f->link)));
	jsonout_add(o, "state", json_object_new_string(f->up ? (f->syncing ? "syncing" : "connected")
						     : "out of reach"));
	jsonout_add(o, f->up ? "connected_since" : "out_of_reach_since", jsonout_time(f->since));
	if (!f->up && link_error(f->link))
		jsonout_add(o, "error", jsonout_cstring(link_error(f->link)));
	jsonout_add(o, "share_offences", json_object_new_boolean(f->share_offences));
	jsonout_add(o, "published", FLEET_N(f->published));
	jsonout_add(o, "in_fleet_already", FLEET_N(f->had_in_fleet));
	jsonout_add(o, "queued", FLEET_N(f->qcount));
	jsonout_add(o, "dropped", FLEET_N(f->dropped));
	jsonout_add(o, "received", FLEET_N(f->received));
	jsonout_add(o, "applied", FLEET_N(f->applied));
	jsonout_add(o, "here_already", FLEET_N(f->had_here));
	jsonout_add(o, "refused_here", FLEET_N(f->refused_here));
	jsonout_add(o, "unbans_received", FLEET_N(f->unbans_received));
	jsonout_add(o, "offences_shared", FLEET_N(f->offences_sent));
	jsonout_add(o, "offences_not_shared", FLEET_N(f->offences_dropped));
	jsonout_add(o, "decided_by_fleet", FLEET_N(f->decided));
	jsonout_add(o, "syncs", FLEET_N(f->syncs));
	jsonout_add(o, "rejected", fleet_counts(f));
	v = json_object_new_object();
	jsonout_add(v, "last", FLEET_N(f->lag_last));
	jsonout_add(v, "median", FLEET_N(fleet_lag_median(f)));
	jsonout_add(o, "lag_ms", v);
	if (f->hosts) {
		jsonout_add(o, "hosts_as_of", jsonout_time(f->hosts_time));
		jsonout_add(o, "hosts", json_object_get(f->hosts));
	}
	return o;
}

void fleet_summary(struct fleet *f, char *buf, size_t len)
{
	if (f->up)
		snprintf(buf, len, "fleet %s: %llu published, %llu received", f->key.host,
			 (unsigned long long)f->published, (unsigned long long)f->received);
	else
		snprintf(buf, len, "fleet %s: Redis out of reach, %zu queued", f->key.host,
			 f->qcount);
}
