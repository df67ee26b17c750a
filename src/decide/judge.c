/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Limits: one 44-byte entry per judged address (IPv6 per /ipv6_prefix) in
 * a dense array, plus a 4-byte index slot; at most max_tracked of them.
 * When full, the least recently active of 8 sampled entries goes, entries
 * with a running ban last (redis's approximated LRU: no list to maintain).
 * Should all 8 hold running bans while an entry without one exists, a clock
 * hand finds that entry: a running ban is evicted only from a table of bans.
 * Offences below the threshold and repeat bans live in a side record that
 * most entries never need; notes, and offences a later one may repeat
 * (they carry the key of their message or session, judge.h), live there
 * only. Notes stop being kept once they reach their cap: an address's
 * list stays below threshold / 0.001 entries. A ban keeps the keys of the
 * offences that made it, at weight 0, for JUDGE_MESSAGE_WINDOW, so that a
 * repeat is known while the ban runs.
 *
 * Times are uint32 seconds: enough until 2106, and half the memory.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "duration.h"
#include "htab.h"
#include "judge.h"
#include "names.h"

#define EVICT_SAMPLES 8
/* Offences judge_walk hands out from the stack; more take an allocation. */
#define JUDGE_WALK_INLINE 64
/* A note's offrec weight: the flag beside its thousandths. */
#define JUDGE_NOTE 0x80000000u
/*
 * Sightings judge_offence_later keeps waiting. Each offence names an
 * address met at random: its index slot and then its entry are two cache
 * misses in a row, which the CPU would sit out. A sighting's slot is
 * prefetched when it arrives, its entry when the next one arrives, and it
 * is judged when the one after that does: the lines in between hide both.
 */
#define JUDGE_DEFER 2

struct offrec {
	uint32_t time;
	uint32_t weight;	/* thousandths, | JUDGE_NOTE; 0: a ban cleared it, the
				 * keys stay */
	uint64_t msg;		/* the queue id's digest, 0: none (judge.h) */
	uint64_t sess;		/* the session, if has_sess */
	uint8_t cls;
	bool note, has_sess;
};

/* What makes a later offence a repeat of this one. */
struct offkey {
	uint64_t msg, sess;
	bool has_sess;
};


#define JUDGE_MORE_OFFS 2

struct track_more {
	uint32_t *bans;		/* start of every ban in repeat_window, latest last */
	uint32_t nbans, capbans;
	struct offrec *offs;	/* offences in findtime since the last ban, */
	uint32_t noffs, capoffs;	/* beyond the entry's inline one: in own[]
					 * while they fit (one allocation less) */
	uint32_t origin;	/* the fleet host that decided the latest ban (interned), 0: here */
	struct offrec own[JUDGE_MORE_OFFS];
};

/*
 * 44 bytes. The first offence below the threshold is kept inline: a
 * million addresses with one failed login each need no side records.
 * When an address was last active (eviction order) is derived from its
 * ban and offence times rather than stored.
 */
struct track {
	struct addr addr;	/* the key: masked to the judged prefix */
	uint8_t ban_class;
	uint8_t banned;		/* a ban is in force (cleared when noticed expired) */
	uint16_t ban_offences;
	uint16_t ban_pattern;	/* interned name (names ids fit 16 bits) */
	uint16_t off_weight;	/* the inline offence's weight, 0 = none */
	uint32_t off_time;	/* ... and its time */
	uint32_t ban_until;
	uint32_t ban_start;	/* latest ban, 0 = none in repeat_window */
	uint32_t more;		/* index into judge.more, 0 = none */
};

/* The table's size is a benchmark target: a million entries in 64 MiB. */
_Static_assert(sizeof(struct track) == 44, "struct track grew: see bench/README");

struct judge_wait {
	struct sighting s;
	struct addr key;
	uint32_t hash;
};

struct judge {
	struct judge_rules r;
	const struct whitelist *wl;
	judge_emit_fn *emit;
	void *ctx;
	struct track *t;
	uint32_t n, cap;
	struct htab idx;
	struct track_more **more;	/* [0] unused */
	uint32_t nmore, capmore;
	uint32_t *more_free;
	uint32_t nfree;
	uint32_t sweep;
	uint32_t nbanned;	/* entries with the banned flag set */
	uint32_t hand;		/* eviction scan position */
	uint64_t rng;
	uint32_t manual;	/* interned "manual" */
	uint32_t fleet;		/* interned "fleet": the origin of a ban whose host has no name */
	struct judge_wait wait[JUDGE_DEFER];	/* oldest first */
	uint32_t nwait;
	struct judge_evictions ev;
	bool have_notes;	/* a note was ever kept: accepted mail looks for them */
};

static uint32_t judge_rehash(const void *ctx, uint32_t id)
{
	const struct judge *j = ctx;

	return htab_hash(&j->t[id].addr, sizeof(j->t[id].addr));
}

static bool judge_eq(const void *ctx, uint32_t id, const void *key)
{
	const struct judge *j = ctx;

	return memcmp(&j->t[id].addr, key, sizeof(struct addr)) == 0;
}

void judge_rules_from_config(struct judge_rules *r, const struct config *c)
{
	r->threshold = c->threshold;
	r->findtime = c->findtime;
	r->bantime = c->bantime;
	r->bantime_max = c->bantime_max;
	r->repeat_window = c->repeat_window;
	r->bantime_factor = c->bantime_factor;
	r->ipv4_prefix = c->ipv4_prefix;
	r->ipv6_prefix = c->ipv6_prefix;
	memcpy(r->classes, c->classes, sizeof(r->classes));
	r->max_tracked = c->max_tracked;
}

struct judge *judge_new(const struct judge_rules *r, const struct whitelist *wl,
			judge_emit_fn *emit, void *ctx)
{
	struct judge *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	if (htab_init(&j->idx, 1024) < 0) {
		free(j);
		return NULL;
	}
	j->r = *r;
	j->wl = wl;
	j->emit = emit;
	j->ctx = ctx;
	j->rng = 0x853c49e6748fea9bULL;
	j->nmore = 1;
	j->manual = names_intern("manual", 6);
	j->fleet = names_intern("fleet", 5);
	return j;
}

static void judge_more_free(struct track_more *m)
{
	if (m) {
		free(m->bans);
		if (m->offs != m->own)
			free(m->offs);
		free(m);
	}
}

void judge_free(struct judge *j)
{
	if (!j)
		return;
	for (uint32_t i = 1; i < j->nmore; i++)
		judge_more_free(j->more[i]);
	free(j->more);
	free(j->more_free);
	free(j->t);
	htab_free(&j->idx);
	free(j);
}

void judge_reconfigure(struct judge *j, const struct judge_rules *r, const struct whitelist *wl)
{
	judge_flush(j);
	j->r = *r;
	j->wl = wl;
}

void judge_key(const struct judge *j, const struct addr *in, struct addr *out)
{
	*out = *in;
	addr_mask(out, out->family == 4 ? j->r.ipv4_prefix : j->r.ipv6_prefix);
}

/* --- side records --- */

static struct track_more *judge_more(struct judge *j, struct track *t, bool create)
{
	struct track_more *m;
	uint32_t k;

	if (t->more)
		return j->more[t->more];
	if (!create)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	if (j->nfree) {
		k = j->more_free[--j->nfree];
	} else {
		/* more_free grows with more: a record freed always has room there */
		uint32_t cap = j->capmore, capfree = j->capmore;

		if (grow32(&j->more, &cap, (size_t)j->nmore + 1, sizeof(*j->more), 256,
			   UINT32_MAX) < 0 ||
		    grow32(&j->more_free, &capfree, cap, sizeof(*j->more_free), 256, UINT32_MAX) < 0) {
			free(m);
			return NULL;
		}
		j->capmore = capfree;
		k = j->nmore++;
	}
	j->more[k] = m;
	t->more = k;
	return m;
}

static void judge_drop_more(struct judge *j, struct track *t)
{
	if (!t->more)
		return;
	judge_more_free(j->more[t->more]);
	j->more[t->more] = NULL;
	j->more_free[j->nfree++] = t->more;
	t->more = 0;
}

static int judge_push_ban(struct track_more *m, uint32_t when)
{
	if (grow32(&m->bans, &m->capbans, (size_t)m->nbans + 1, sizeof(*m->bans), 4, UINT32_MAX) < 0)
		return -1;
	m->bans[m->nbans++] = when;
	return 0;
}

static int judge_push_offence(struct track_more *m, uint32_t when, uint32_t weight,
			      enum class_id cls, const struct offkey *k)
{
	if (!m->offs) {
		m->offs = m->own;
		m->capoffs = JUDGE_MORE_OFFS;
	}
	if (m->noffs == m->capoffs) {
		uint32_t cap = 2 * m->capoffs;
		struct offrec *v = m->offs == m->own ? malloc(cap * sizeof(*v))
						      : realloc(m->offs, cap * sizeof(*v));

		if (!v)
			return -1;
		if (m->offs == m->own)
			memcpy(v, m->own, sizeof(m->own));
		m->offs = v;
		m->capoffs = cap;
	}
	m->offs[m->noffs++] = (struct offrec){
		.time = when, .weight = weight, .cls = (uint8_t)cls, .note = weight & JUDGE_NOTE,
		.msg = k ? k->msg : 0, .sess = k ? k->sess : 0, .has_sess = k && k->has_sess,
	};
	return 0;
}

/* --- the offences below the threshold: inline one, then the side record --- */

/* An offence with a key (or a note) goes to the side record, the first
 * other one inline. */
static int judge_off_push(struct judge *j, struct track *t, uint32_t when, uint32_t weight,
			  enum class_id cls, const struct offkey *k)
{
	struct track_more *m;

	weight &= ~JUDGE_NOTE;
	if (!k && t->off_weight == 0 && weight > 0 && weight <= UINT16_MAX) {
		t->off_weight = (uint16_t)weight;
		t->off_time = when;
		return 0;
	}
	m = judge_more(j, t, true);
	return m ? judge_push_offence(m, when, weight, cls, k) : -1;
}

static int judge_note_push(struct judge *j, struct track *t, uint32_t when, uint32_t weight,
			   enum class_id cls, const struct offkey *k)
{
	struct track_more *m = judge_more(j, t, true);

	if (!m || judge_push_offence(m, when, (weight & ~JUDGE_NOTE) | JUDGE_NOTE, cls, k) < 0)
		return -1;
	j->have_notes = true;
	return 0;
}

/* An offence that counts (not a note, not a key kept past a ban). */
static bool judge_counts(const struct offrec *o)
{
	return o->weight != 0 && !(o->weight & JUDGE_NOTE);
}

/* The offences below the threshold, notes left out. */
static unsigned judge_off_count(const struct judge *j, const struct track *t)
{
	const struct track_more *m = t->more ? j->more[t->more] : NULL;
	unsigned n = t->off_weight != 0;

	for (uint32_t k = 0; m && k < m->noffs; k++)
		n += judge_counts(&m->offs[k]);
	return n;
}

/* The notes' weight: they count at most half the threshold. */
static uint64_t judge_note_sum(const struct judge *j, const struct track *t)
{
	const struct track_more *m = t->more ? j->more[t->more] : NULL;
	uint64_t notes = 0;

	for (uint32_t k = 0; m && k < m->noffs; k++)
		if (m->offs[k].weight & JUDGE_NOTE)
			notes += m->offs[k].weight & ~JUDGE_NOTE;
	return notes;
}

/* The weight of the offences below the threshold, notes at most half it. */
static uint64_t judge_off_sum(const struct judge *j, const struct track *t)
{
	const struct track_more *m = t->more ? j->more[t->more] : NULL;
	uint64_t sum = t->off_weight, notes = judge_note_sum(j, t), cap = j->r.threshold / 2;

	for (uint32_t k = 0; m && k < m->noffs; k++)
		if (judge_counts(&m->offs[k]))
			sum += m->offs[k].weight;
	return sum + (notes < cap ? notes : cap);
}

/* Accepted mail from the address: the notes it had go. */
static void judge_drop_notes(struct judge *j, struct track *t)
{
	struct track_more *m = t->more ? j->more[t->more] : NULL;
	uint32_t k = 0;

	for (uint32_t i = 0; m && i < m->noffs; i++)
		if (!m->offs[i].note)
			m->offs[k++] = m->offs[i];
	if (m)
		m->noffs = k;
}

/* A ban clears the running total: what counted goes, the keys of the
 * offences stay (at weight 0) for the repeats that may still come. */
static void judge_off_clear(struct judge *j, struct track *t)
{
	struct track_more *m = t->more ? j->more[t->more] : NULL;
	uint32_t k = 0;

	t->off_weight = 0;
	t->off_time = 0;
	for (uint32_t i = 0; m && i < m->noffs; i++) {
		if (m->offs[i].msg || m->offs[i].has_sess) {
			m->offs[k] = m->offs[i];
			m->offs[k++].weight = 0;
		}
	}
	if (m)
		m->noffs = k;
}

/* Why s repeats an offence the address has (judge.h), or NULL: one
 * below the threshold, or one that made a ban. */
static const char *judge_repeat(const struct judge *j, const struct track *t,
				const struct sighting *s, const struct offkey *k)
{
	const struct track_more *m = t->more ? j->more[t->more] : NULL;

	for (uint32_t i = 0; m && i < m->noffs; i++) {
		const struct offrec *o = &m->offs[i];
		time_t d = s->time > (time_t)o->time ? s->time - o->time : o->time - s->time;

		if (o->cls != s->cls || o->note != s->note)
			continue;
		if (k->msg && o->msg == k->msg && d < JUDGE_MESSAGE_WINDOW)
			return "same-message";
		if (k->has_sess && o->has_sess && o->sess == k->sess && d < JUDGE_SESSION_WINDOW)
			return "same-session";
	}
	return NULL;
}

/* The keys a sighting's offence carries (judge.h), or NULL for none. */
static const struct offkey *judge_offkey(const struct sighting *s, struct offkey *k)
{
	k->msg = class_once_per_message(s->cls) ? s->qid_key : 0;
	k->has_sess = class_once_per_session(s->cls);
	k->sess = s->session;
	return k->msg || k->has_sess ? k : NULL;
}

/* When the address was last active: its latest ban or offence. */
static uint32_t judge_last(const struct judge *j, const struct track *t)
{
	const struct track_more *m = t->more ? j->more[t->more] : NULL;
	uint32_t last = t->ban_start > t->off_time ? t->ban_start : t->off_time;

	for (uint32_t k = 0; m && k < m->noffs; k++)
		if (m->offs[k].time > last)
			last = m->offs[k].time;
	return last;
}

static uint16_t judge_pattern16(uint32_t pattern)
{
	return pattern <= UINT16_MAX ? (uint16_t)pattern : 0;
}

/* --- the table --- */

static uint32_t judge_find_hashed(const struct judge *j, const struct addr *key, uint32_t hash)
{
	return htab_find(&j->idx, hash, judge_eq, j, key);
}

static uint32_t judge_find(const struct judge *j, const struct addr *key)
{
	return judge_find_hashed(j, key, htab_hash(key, sizeof(*key)));
}

static void judge_set_banned(struct judge *j, struct track *t, bool on)
{
	if (t->banned != on) {
		t->banned = on;
		if (on)
			j->nbanned++;
		else
			j->nbanned--;
	}
}

static void judge_remove(struct judge *j, uint32_t i)
{
	uint32_t last = j->n - 1;

	judge_set_banned(j, &j->t[i], false);
	judge_drop_more(j, &j->t[i]);
	htab_remove(&j->idx, judge_rehash(j, i), i, judge_rehash, j);
	if (i != last) {
		j->t[i] = j->t[last];
		htab_renumber(&j->idx, judge_rehash(j, i), last, i);
	}
	j->n--;
	if (j->sweep > j->n)
		j->sweep = 0;
}

static uint64_t judge_random(struct judge *j)
{
	j->rng ^= j->rng << 13;
	j->rng ^= j->rng >> 7;
	j->rng ^= j->rng << 17;
	return j->rng;
}

static void judge_evict(struct judge *j, time_t now)
{
	uint32_t best = HTAB_NONE;

	for (int k = 0; k < EVICT_SAMPLES; k++) {
		uint32_t i = (uint32_t)(judge_random(j) % j->n);
		const struct track *a = &j->t[i];

		if (best == HTAB_NONE) {
			best = i;
		} else {
			const struct track *b = &j->t[best];
			bool ab = a->ban_until > now, bb = b->ban_until > now;

			if ((ab < bb) || (ab == bb && judge_last(j, a) < judge_last(j, b)))
				best = i;
		}
	}
	if (j->t[best].ban_until > now && j->nbanned < j->n) {
		/* an entry without the flag has no running ban: find it */
		for (uint32_t k = 0; k < j->n; k++) {
			uint32_t i = (uint32_t)(((uint64_t)j->hand + k) % j->n);

			if (j->t[i].ban_until <= now) {
				best = i;
				break;
			}
		}
		j->hand = best;
	}
	j->ev.addresses++;
	if (j->t[best].ban_until > now)
		j->ev.bans++;
	judge_remove(j, best);
}

void judge_evictions(const struct judge *j, struct judge_evictions *out)
{
	*out = j->ev;
}

static uint32_t judge_add(struct judge *j, const struct addr *key, time_t now)
{
	uint32_t i;

	if (j->n >= j->r.max_tracked && j->n > 0)
		judge_evict(j, now);
	if (j->n == j->cap) {
		/* up to max_tracked, unless a reload lowered it below what is there */
		uint32_t max = j->r.max_tracked > j->cap && j->r.max_tracked < UINT32_MAX - 1 ?
			       (uint32_t)j->r.max_tracked : UINT32_MAX - 1;

		if (grow32(&j->t, &j->cap, (size_t)j->n + 1, sizeof(*j->t), 1024, max) < 0)
			return HTAB_NONE;
	}
	i = j->n;
	memset(&j->t[i], 0, sizeof(j->t[i]));
	j->t[i].addr = *key;
	if (htab_insert(&j->idx, htab_hash(key, sizeof(*key)), i, judge_rehash, j) < 0)
		return HTAB_NONE;
	j->n++;
	return i;
}

/* --- the rules --- */

static bool judge_inside(uint32_t when, long window, time_t now)
{
	return (time_t)when + window > now;
}

/* Forgets offences and bans that fell out of their windows. */
static void judge_prune(struct judge *j, struct track *t, time_t now)
{
	struct track_more *m = judge_more(j, t, false);

	if (t->ban_start && !judge_inside(t->ban_start, j->r.repeat_window, now) &&
	    t->ban_until <= now)
		t->ban_start = 0;
	if (t->off_weight && !judge_inside(t->off_time, j->r.findtime, now)) {
		t->off_weight = 0;
		t->off_time = 0;
	}
	if (!m)
		return;
	if (!t->ban_start)
		m->origin = 0;	/* the latest ban left the history: so does its host */
	{
		uint32_t k = 0;

		for (uint32_t i = 0; i < m->noffs; i++)
			if (judge_inside(m->offs[i].time, m->offs[i].weight ? j->r.findtime :
					 JUDGE_MESSAGE_WINDOW, now))
				m->offs[k++] = m->offs[i];
		m->noffs = k;
		k = 0;
		for (uint32_t i = 0; i < m->nbans; i++)
			if (judge_inside(m->bans[i], j->r.repeat_window, now))
				m->bans[k++] = m->bans[i];
		m->nbans = k;
	}
	if (m->noffs == 0 && m->nbans <= 1 && !m->origin)
		judge_drop_more(j, t);
}

/* Earlier bans inside repeat_window (the entry is pruned). */
static unsigned judge_earlier_bans(struct judge *j, struct track *t)
{
	struct track_more *m = judge_more(j, t, false);

	if (m && m->nbans)
		return m->nbans;
	return t->ban_start ? 1 : 0;
}

static long judge_duration(const struct judge *j, unsigned earlier)
{
	double d = (double)j->r.bantime * pow(j->r.bantime_factor, (double)earlier);

	if (!(d < (double)j->r.bantime_max))
		return j->r.bantime_max;
	return (long)d;
}

static void judge_emit(struct judge *j, struct judge_event *e)
{
	if (j->emit)
		j->emit(j->ctx, e);
}

/* A ban to set: judge_apply_ban's arguments. */
struct judge_ban_args {
	time_t start;
	long duration;
	enum class_id cls;
	uint32_t pattern;
	unsigned offences, earlier;
	uint32_t origin;	/* a fleet host's name, 0: decided here */
	bool received;		/* from the fleet: not to be published again */
	const struct sighting *s;
};

/* Which fleet host decided t's latest ban; 0 for this one. */
static uint32_t judge_origin(const struct judge *j, const struct track *t)
{
	return t->more && j->more[t->more] ? j->more[t->more]->origin : 0;
}

static int judge_set_origin(struct judge *j, struct track *t, uint32_t origin)
{
	struct track_more *m = judge_more(j, t, origin != 0);

	if (m)
		m->origin = origin;
	return m || !origin ? 0 : -1;
}

/* Sets a ban on entry t and emits it. */
static void judge_apply_ban(struct judge *j, struct track *t, const struct judge_ban_args *b)
{
	struct judge_event e = {
		.kind = JUDGE_BAN, .s = b->s, .addr = t->addr, .cls = b->cls, .pattern = b->pattern,
		.time = b->start, .duration = b->duration, .offences = b->offences,
		.earlier_bans = b->earlier, .origin = b->origin, .received = b->received,
	};
	uint64_t until = (uint64_t)b->start + (uint64_t)b->duration;
	uint32_t now = (uint32_t)b->start;
	struct track_more *m;

	if (t->ban_start) {
		/* a repeat offender: keep every start in the window */
		m = judge_more(j, t, true);
		if (m && m->nbans == 0)
			judge_push_ban(m, t->ban_start);
		if (m)
			judge_push_ban(m, now);
	}
	t->ban_start = now;
	t->ban_until = until > UINT32_MAX ? UINT32_MAX : (uint32_t)until;
	judge_set_banned(j, t, true);
	t->ban_class = (uint8_t)b->cls;
	t->ban_pattern = judge_pattern16(b->pattern);
	t->ban_offences = b->offences > UINT16_MAX ? UINT16_MAX : (uint16_t)b->offences;
	if (judge_set_origin(j, t, b->origin) < 0)
		e.origin = 0;	/* out of memory: it shows as ours */
	judge_off_clear(j, t);	/* a ban clears the running total */
	judge_emit(j, &e);
}

static void judge_ignore(struct judge *j, const struct sighting *s, const struct addr *a,
			 const char *reason)
{
	struct judge_event e = {
		.kind = JUDGE_IGNORED, .s = s, .cls = s->cls, .pattern = s->pattern,
		.reason = reason, .time = s->time,
	};

	if (a)
		e.addr = *a;
	judge_emit(j, &e);
}

static const char *judge_kind(const struct addr *a)
{
	switch (addr_kind(a)) {
	case ADDR_LOOPBACK:
		return "loopback";
	case ADDR_UNSPECIFIED:
		return "unspecified";
	case ADDR_NOT_UNICAST:
		return "not-unicast";
	case ADDR_UNICAST:
		break;
	}
	return NULL;
}

/* Why an address can never be banned, or NULL. The key is checked too:
 * it is what the set gets, and [::2]'s /64 is ::/64, which holds ::1. */
static inline __attribute__((always_inline)) const char *
judge_never(const struct judge *j, const struct addr *a,
			       const struct addr *key)
{
	const char *why = judge_kind(a);

	if (!why)
		why = judge_kind(key);
	if (!why && j->wl)
		why = whitelist_check(j->wl, key);
	return why;
}

const char *judge_refuses(const struct judge *j, const struct addr *key)
{
	unsigned want = key->family == 4 ? j->r.ipv4_prefix : j->r.ipv6_prefix;

	/* what judge_key makes of one client, and nothing wider: a /16 in
	 * a hash:ip set is 65,536 kernel entries */
	if ((key->family != 4 && key->family != 6) || key->prefix != want)
		return key->family == 4 ? "not a single address (nor the configured ipv4_prefix)" :
			"not a single /ipv6_prefix network";
	return judge_never(j, key, key);
}

/* Mail from the address was accepted: its notes go (judge.h). Most
 * judges of a day hold no note at all, and then this costs nothing. */
static void judge_accepted(struct judge *j, const struct addr *key, uint32_t hash, time_t now)
{
	uint32_t i;

	if (!j->have_notes)
		return;
	i = judge_find_hashed(j, key, hash);
	if (i != HTAB_NONE && j->t[i].ban_until <= now)
		judge_drop_notes(j, &j->t[i]);
}

/* Judges a sighting with a valid address; key is its address as keyed,
 * hash that key's. */
static void judge_decide(struct judge *j, const struct sighting *s, const struct addr *key,
			 uint32_t hash)
{
	const struct class_conf *cc = &j->r.classes[s->cls];
	const struct offkey *k;
	struct offkey kbuf;
	struct judge_event e;
	const char *why;
	uint32_t weight, i;
	uint64_t sum;
	unsigned count = 0;
	time_t now = s->time;
	struct track *t;

	if (s->accepted) {
		judge_accepted(j, key, hash, now);
		return;
	}
	why = judge_never(j, &s->addr, key);
	if (why) {
		judge_ignore(j, s, key, why);
		return;
	}
	if (!cc->enabled) {
		judge_ignore(j, s, key, "class-disabled");
		return;
	}
	if (cc->has_min_score && s->has_score && s->score < cc->min_score) {
		judge_ignore(j, s, key, "score");
		return;
	}
	weight = (uint32_t)(((uint64_t)cc->weight * s->weight + WEIGHT_ONE / 2) / WEIGHT_ONE);
	if (weight == 0) {
		judge_ignore(j, s, key, "weight");
		return;
	}
	i = judge_find_hashed(j, key, hash);
	if (i == HTAB_NONE)
		i = judge_add(j, key, now);
	e = (struct judge_event){
		.kind = JUDGE_OFFENCE, .s = s, .addr = *key, .cls = s->cls,
		.pattern = s->pattern, .weight = weight, .note = s->note, .time = now,
	};
	if (i == HTAB_NONE) {
		/* out of memory: still report, but it cannot count */
		judge_emit(j, &e);
		return;
	}
	t = &j->t[i];
	k = judge_offkey(s, &kbuf);
	why = k ? judge_repeat(j, t, s, k) : NULL;
	if (why) {
		judge_ignore(j, s, key, why);
		return;
	}
	if (t->ban_until > now) {
		judge_emit(j, &e);
		return;		/* recorded, but no second ban while one runs */
	}
	judge_prune(j, t, now);
	t = &j->t[i];
	if (s->note && judge_note_sum(j, t) >= j->r.threshold / 2) {
		judge_emit(j, &e);	/* the notes are at their cap: kept no more */
		return;
	}
	if (s->note || weight < j->r.threshold) {
		if ((s->note ? judge_note_push(j, t, (uint32_t)now, weight, s->cls, k) :
			       judge_off_push(j, t, (uint32_t)now, weight, s->cls, k)) < 0) {
			judge_emit(j, &e);
			return;
		}
		sum = judge_off_sum(j, t);
		count = judge_off_count(j, t);
		e.counted = sum < j->r.threshold;
		judge_emit(j, &e);
		if (sum < j->r.threshold)
			return;
	} else {
		judge_emit(j, &e);
		count = 1 + judge_off_count(j, t);
	}
	{
		unsigned earlier = judge_earlier_bans(j, t);
		struct track_more *m;

		struct judge_ban_args b = {
			.start = now, .duration = judge_duration(j, earlier), .cls = s->cls,
			.pattern = s->pattern, .offences = count, .earlier = earlier, .s = s,
		};

		judge_apply_ban(j, t, &b);
		/* the key of an offence that banned at once, for its repeats */
		if (k && weight >= j->r.threshold && !s->note && (m = judge_more(j, t, true)))
			judge_push_offence(m, (uint32_t)now, 0, s->cls, k);
	}
}

void judge_offence(struct judge *j, const struct sighting *s)
{
	struct addr key;

	judge_flush(j);
	if (!s->addr_ok) {
		judge_ignore(j, s, NULL, "invalid-address");
		return;
	}
	judge_key(j, &s->addr, &key);
	judge_decide(j, s, &key, htab_hash(&key, sizeof(key)));
}

/* The oldest waiting sighting, judged. */
static void judge_pop(struct judge *j)
{
	judge_decide(j, &j->wait[0].s, &j->wait[0].key, j->wait[0].hash);
	j->nwait--;
	memmove(&j->wait[0], &j->wait[1], j->nwait * sizeof(j->wait[0]));
}

void judge_offence_later(struct judge *j, const struct sighting *s)
{
	struct judge_wait *w;

	if (!s->addr_ok) {
		judge_offence(j, s);	/* its text would not outlive the line */
		return;
	}
	if (j->nwait == JUDGE_DEFER)
		judge_pop(j);
	if (j->nwait > 0) {
		/* the slot asked for one sighting ago has come: its entry next */
		uint32_t id = htab_first(&j->idx, j->wait[j->nwait - 1].hash);

		if (id != HTAB_NONE)
			__builtin_prefetch(&j->t[id]);
	}
	w = &j->wait[j->nwait++];
	w->s = *s;
	w->s.addr_text = NULL;
	judge_key(j, &s->addr, &w->key);
	w->hash = htab_hash(&w->key, sizeof(w->key));
	htab_prefetch(&j->idx, w->hash);
}

void judge_flush(struct judge *j)
{
	while (j->nwait > 0)
		judge_pop(j);
}

int judge_ban(struct judge *j, const struct addr *a, time_t now, long duration,
	      uint32_t reason, const char **why)
{
	struct addr key;
	uint32_t i;
	unsigned earlier;

	judge_flush(j);
	judge_key(j, a, &key);
	*why = judge_never(j, a, &key);
	if (*why)
		return -1;
	if (duration > DURATION_MAX) {
		*why = "longer than " DURATION_MAX_TEXT;
		return -1;
	}
	i = judge_find(j, &key);
	if (i == HTAB_NONE)
		i = judge_add(j, &key, now);
	if (i == HTAB_NONE) {
		*why = "out of memory";
		return -1;
	}
	judge_prune(j, &j->t[i], now);
	earlier = judge_earlier_bans(j, &j->t[i]);
	if (duration <= 0)
		duration = judge_duration(j, earlier);
	{
		struct judge_ban_args b = {
			.start = now, .duration = duration, .cls = CLASS_MANUAL,
			.pattern = reason ? reason : j->manual, .earlier = earlier,
		};

		judge_apply_ban(j, &j->t[i], &b);
	}
	return 0;
}

/* Lifts the ban on key when one began at or before before; by: who, for a received one. */
static int judge_lift(struct judge *j, const struct addr *key, time_t now, time_t before,
		      bool forget, uint32_t by)
{
	struct judge_event e = { .kind = JUDGE_UNBAN, .time = now, .origin = by, .received = by };
	uint32_t i;
	struct track *t;

	judge_flush(j);
	i = judge_find(j, key);
	if (i == HTAB_NONE || j->t[i].ban_until <= now || j->t[i].ban_start > before)
		return -1;
	t = &j->t[i];
	e.addr = t->addr;
	e.cls = (enum class_id)t->ban_class;
	e.pattern = t->ban_pattern;
	e.reason = forget ? "forget" : NULL;
	t->ban_until = 0;
	judge_set_banned(j, t, false);
	if (forget)
		judge_remove(j, i);
	judge_emit(j, &e);
	return 0;
}

int judge_unban(struct judge *j, const struct addr *a, time_t now, bool forget)
{
	struct addr key;

	judge_key(j, a, &key);
	return judge_lift(j, &key, now, now, forget, 0);
}

int judge_unban_received(struct judge *j, const struct addr *a, time_t now, time_t before,
			 bool forget, uint32_t by)
{
	struct addr key;

	judge_key(j, a, &key);
	return judge_lift(j, &key, now, before, forget, by ? by : j->fleet);
}

/* The entry of a bannable address, pruned; HTAB_NONE with *why. */
static uint32_t judge_bannable(struct judge *j, const struct addr *a, struct addr *key,
			       time_t now, const char **why)
{
	uint32_t i;

	judge_flush(j);
	judge_key(j, a, key);
	*why = judge_never(j, a, key);
	if (*why)
		return HTAB_NONE;
	i = judge_find(j, key);
	if (i == HTAB_NONE)
		i = judge_add(j, key, now);
	if (i == HTAB_NONE) {
		*why = "out of memory";
		return HTAB_NONE;
	}
	judge_prune(j, &j->t[i], now);
	return i;
}

/* Emits t's running ban again, now lasting until (same start: no new ban in its history). */
static void judge_renew(struct judge *j, struct track *t, time_t until, unsigned earlier,
			bool received)
{
	struct judge_event e = {
		.kind = JUDGE_BAN, .addr = t->addr, .cls = (enum class_id)t->ban_class,
		.pattern = t->ban_pattern, .time = t->ban_start, .offences = t->ban_offences,
		.earlier_bans = earlier, .origin = judge_origin(j, t), .received = received,
		.renewed = true,
	};

	if (until > (time_t)t->ban_until)
		t->ban_until = until > UINT32_MAX ? UINT32_MAX : (uint32_t)until;
	e.duration = (long)t->ban_until - (long)t->ban_start;
	judge_emit(j, &e);
}

int judge_adopt(struct judge *j, const struct judge_foreign *b, time_t now, const char **why)
{
	struct addr key;
	uint32_t i = judge_bannable(j, &b->addr, &key, now, why);
	struct track *t;

	if (i == HTAB_NONE)
		return -1;
	t = &j->t[i];
	if (t->ban_until > now) {
		if (b->until <= (time_t)t->ban_until)
			return 1;
		judge_renew(j, t, b->until, b->earlier, true);
		return 2;
	}
	/* this very ban (its start and its host), or an older one than the
	 * latest here, once over (lifted here, or run out): not again */
	if (t->ban_start && ((time_t)t->ban_start > b->start ||
			     ((time_t)t->ban_start == b->start && judge_origin(j, t) == b->origin))) {
		*why = "ended here";
		return -1;
	}
	{
		struct judge_ban_args a = {
			.start = b->start, .duration = (long)(b->until - b->start), .cls = b->cls,
			.pattern = b->pattern, .offences = b->offences, .earlier = b->earlier,
			.origin = b->origin ? b->origin : j->fleet, .received = true,
		};

		judge_apply_ban(j, t, &a);
	}
	return 0;
}

int judge_ban_decided(struct judge *j, const struct addr *a, time_t now, enum class_id cls,
		      uint32_t pattern, unsigned offences, unsigned earlier, const char **why)
{
	struct addr key;
	uint32_t i = judge_bannable(j, a, &key, now, why);
	unsigned here;

	if (i == HTAB_NONE)
		return -1;
	if (j->t[i].ban_until > now)
		return 1;
	here = judge_earlier_bans(j, &j->t[i]);
	if (here > earlier)
		earlier = here;
	{
		struct judge_ban_args b = {
			.start = now, .duration = judge_duration(j, earlier), .cls = cls,
			.pattern = pattern, .offences = offences, .earlier = earlier,
		};

		judge_apply_ban(j, &j->t[i], &b);
	}
	return 0;
}

int judge_extend(struct judge *j, const struct addr *a, time_t now, unsigned earlier)
{
	struct addr key;
	uint32_t i;
	struct track *t;

	judge_flush(j);
	judge_key(j, a, &key);
	i = judge_find(j, &key);
	if (i == HTAB_NONE || j->t[i].ban_until <= now)
		return -1;
	t = &j->t[i];
	judge_renew(j, t, (time_t)t->ban_start + judge_duration(j, earlier), earlier, false);
	return 0;
}

static bool judge_matters(struct judge *j, struct track *t, time_t now)
{
	struct track_more *m;

	if (t->ban_until > now)
		return true;
	judge_prune(j, t, now);
	m = judge_more(j, t, false);
	return t->ban_start != 0 || t->off_weight || (m && (m->noffs || m->nbans));
}

void judge_expire(struct judge *j, time_t now, size_t budget)
{
	judge_flush(j);
	/* One lap at most: a second visit at the same time finds nothing new,
	 * and a replay ticks every few seconds of log time. */
	if (budget > j->n)
		budget = j->n;
	while (budget-- > 0 && j->n > 0) {
		uint32_t i = j->sweep < j->n ? j->sweep : 0;
		struct track *t = &j->t[i];

		if (t->banned && t->ban_until <= now) {
			struct judge_event e = {
				.kind = JUDGE_EXPIRED, .addr = t->addr, .cls = (enum class_id)t->ban_class,
				.pattern = t->ban_pattern, .time = t->ban_until,
			};

			judge_set_banned(j, t, false);
			judge_emit(j, &e);
		}
		if (!judge_matters(j, t, now)) {
			judge_remove(j, i);	/* the last entry moved into i: visit it next */
			j->sweep = i;
		} else {
			j->sweep = i + 1;
		}
	}
}

int judge_walk(struct judge *j, judge_walk_fn *fn, void *ctx)
{
	judge_flush(j);
	for (uint32_t i = 0; i < j->n; i++) {
		const struct track *t = &j->t[i];
		const struct track_more *m = t->more ? j->more[t->more] : NULL;
		uint32_t times[JUDGE_WALK_INLINE], weights[JUDGE_WALK_INLINE];
		struct judge_entry e = {
			.addr = t->addr, .ban_until = t->ban_until, .ban_start = t->ban_start,
			.ban_class = (enum class_id)t->ban_class, .ban_pattern = t->ban_pattern,
			.ban_offences = t->ban_offences, .ban_origin = m ? m->origin : 0,
		};
		uint32_t *tp = times, *wp = weights;
		int r;

		if (m && m->nbans) {
			e.nbans = m->nbans;
			e.ban_times = m->bans;
		} else if (t->ban_start) {
			e.nbans = 1;
			e.ban_times = &t->ban_start;
		}
		e.noffences = judge_off_count(j, t);
		if (e.noffences) {
			unsigned k = 0;

			if (e.noffences > JUDGE_WALK_INLINE) {
				tp = malloc(e.noffences * sizeof(*tp));
				wp = malloc(e.noffences * sizeof(*wp));
				if (!tp || !wp) {
					free(tp);
					free(wp);
					return -1;
				}
			}
			if (t->off_weight) {
				tp[k] = t->off_time;
				wp[k++] = t->off_weight;
			}
			/* notes and kept keys are never kept in state (judge.h) */
			for (uint32_t x = 0; m && x < m->noffs; x++) {
				if (!judge_counts(&m->offs[x]))
					continue;
				tp[k] = m->offs[x].time;
				wp[k++] = m->offs[x].weight;
			}
			e.off_times = tp;
			e.off_weights = wp;
		}
		r = fn(ctx, &e);
		if (tp != times) {
			free(tp);
			free(wp);
		}
		if (r)
			return r;
	}
	return 0;
}

int judge_restore(struct judge *j, const struct judge_entry *e, time_t now)
{
	struct track *t;
	struct track_more *m;
	uint32_t i;

	judge_flush(j);
	i = judge_find(j, &e->addr);

	if (i == HTAB_NONE)
		i = judge_add(j, &e->addr, now);
	if (i == HTAB_NONE)
		return -1;
	t = &j->t[i];
	t->ban_until = e->ban_until > UINT32_MAX ? UINT32_MAX : (uint32_t)e->ban_until;
	judge_set_banned(j, t, e->ban_until > now);
	t->ban_start = (uint32_t)e->ban_start;
	t->ban_class = (uint8_t)e->ban_class;
	t->ban_pattern = judge_pattern16(e->ban_pattern);
	t->ban_offences = e->ban_offences > UINT16_MAX ? UINT16_MAX : (uint16_t)e->ban_offences;
	judge_drop_more(j, t);
	judge_off_clear(j, t);
	if (e->nbans > 1) {
		m = judge_more(j, t, true);
		if (!m)
			return -1;
		for (unsigned k = 0; k < e->nbans; k++)
			if (judge_push_ban(m, e->ban_times[k]) < 0)
				return -1;
	}
	for (unsigned k = 0; k < e->noffences; k++)
		if (judge_off_push(j, t, e->off_times[k], e->off_weights[k], CLASS_CONTEXT, NULL) < 0)
			return -1;
	if (e->ban_start && judge_set_origin(j, t, e->ban_origin) < 0)
		return -1;
	if (!judge_matters(j, &j->t[i], now))
		judge_remove(j, i);
	return 0;
}

static uint32_t judge_get(struct judge *j, const struct addr *key, time_t now)
{
	uint32_t i;

	judge_flush(j);
	i = judge_find(j, key);

	return i != HTAB_NONE ? i : judge_add(j, key, now);
}

int judge_restore_ban(struct judge *j, const struct addr *key, time_t start, time_t until,
		      enum class_id cls, uint32_t pattern, unsigned offences, uint32_t origin,
		      time_t now)
{
	struct track_more *m;
	struct track *t;
	bool running;
	uint32_t i;

	if (until <= now && !judge_inside((uint32_t)start, j->r.repeat_window, now))
		return 0;
	i = judge_get(j, key, now);
	if (i == HTAB_NONE)
		return -1;
	t = &j->t[i];
	if (t->ban_start && (uint32_t)start != t->ban_start) {
		m = judge_more(j, t, true);
		if (!m)
			return -1;
		if (m->nbans == 0 && judge_push_ban(m, t->ban_start) < 0)
			return -1;
		if (judge_push_ban(m, (uint32_t)start) < 0)
			return -1;
	}
	/* The entry's ban is the one running, if any, whatever starts the
	 * history holds (a line stamped in the future may have started a
	 * later one): its start, class and end must come from one record, or
	 * the next compaction writes a ban that ends before it starts. */
	running = until > now && until > (time_t)t->ban_until;
	if (running || (t->ban_until <= now && (uint32_t)start >= t->ban_start)) {
		t->ban_start = (uint32_t)start;
		t->ban_class = (uint8_t)cls;
		t->ban_pattern = judge_pattern16(pattern);
		t->ban_offences = offences > UINT16_MAX ? UINT16_MAX : (uint16_t)offences;
		if (judge_set_origin(j, t, origin) < 0)
			return -1;
	}
	if (running) {
		t->ban_until = until > UINT32_MAX ? UINT32_MAX : (uint32_t)until;
		judge_set_banned(j, t, true);
	}
	judge_off_clear(j, t);	/* as when the ban was made */
	return 0;
}

int judge_restore_offence(struct judge *j, const struct addr *key, time_t when,
			  uint32_t weight, time_t now)
{
	struct track *t;
	uint32_t i;

	if (!judge_inside((uint32_t)when, j->r.findtime, now))
		return 0;
	i = judge_get(j, key, now);
	if (i == HTAB_NONE)
		return -1;
	t = &j->t[i];
	return judge_off_push(j, t, (uint32_t)when, weight, CLASS_CONTEXT, NULL);
}

void judge_restore_unban(struct judge *j, const struct addr *key, bool forget)
{
	uint32_t i;

	judge_flush(j);
	i = judge_find(j, key);

	if (i == HTAB_NONE)
		return;
	j->t[i].ban_until = 0;
	judge_set_banned(j, &j->t[i], false);
	if (forget)
		judge_remove(j, i);
}

size_t judge_tracked(struct judge *j)
{
	judge_flush(j);
	return j->n;
}

size_t judge_active_bans(struct judge *j, time_t now)
{
	size_t n = 0;

	judge_flush(j);

	for (uint32_t i = 0; i < j->n; i++)
		n += j->t[i].ban_until > now;
	return n;
}
