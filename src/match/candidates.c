/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Limits: the tag cache holds TAG_SLOTS/2 distinct tags and is emptied
 * when full; each candidate list keeps at most PAIR_SLOTS/2 first-byte
 * pairs (and as many sets of probes) and empties them when full (tags and messages are
 * written by whoever logs, so an attacker can only make us recompute,
 * never grow). At most LIST_MAX distinct candidate lists get a pair
 * cache; they are set by the pattern files, not by log lines (a handful
 * in practice). Tags longer than TAG_MAX and lists beyond LIST_MAX are
 * worked out line by line into scratch space.
 *
 * The pair cache is what makes most lines cheap: a busy tag
 * (postfix/smtpd) has dozens of patterns, and PCRE2 says by partial
 * matching of the first two bytes which of them can start so; "connect
 * from" and "Anonymous TLS" are told from every reject there. The
 * probes of a pair lie in one array, read in order.
 */
#include <stdlib.h>
#include <string.h>

#include "candidates.h"
#include "literal.h"

#define TAG_SLOTS 1024
#define TAG_MAX 63
#define LIST_MAX 256
#define PAIR_SLOTS 1024

/* The probes of one list for messages starting with two given bytes
 * (256 for "no byte": a message shorter than two). */
struct pair {
	uint32_t key;		/* 1 + b1 * 257 + b2; 0: empty slot */
	uint32_t set;		/* index into list.sets */
};

/* Probes for one set of patterns. Many pairs share one: every queue id
 * starts a Postfix line with another of 256 hex pairs, and all of them
 * allow the same patterns, which then lie in one array, hot in cache. */
struct probeset {
	uint32_t hash, n;
	struct probe *v;
};

/* A candidate list (the patterns one tag could match) and its pairs. */
struct list {
	uint32_t hash, n;
	uint32_t *idx;
	size_t used;		/* pairs */
	struct probeset *sets;
	size_t nsets;
	struct pair pair[PAIR_SLOTS];
};

/* A tag, keyed by its first and last eight bytes (overlapping below 16,
 * which with the length is the whole tag); longer ones compare the rest. */
struct tagkey {
	uint64_t a, b;
};

struct tagentry {
	struct tagkey key;
	uint8_t len;		/* 0: empty slot */
	struct list *list;	/* owned by candidates.lists, or NULL: uncached */
	char tag[TAG_MAX + 1];
};

struct candidates {
	const struct patternset *ps;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	uint32_t *order;	/* every enabled pattern: offences first, then context */
	size_t norder;
	uint32_t *scratch;	/* a list worked out for one line */
	struct probe *scratch_probes;
	struct list **lists;
	size_t nlists;
	size_t used;		/* tags */
	struct tagentry *last;	/* the previous line's: logs repeat it */
	struct tagentry slot[TAG_SLOTS];
};

static struct tagkey tag_key(const char *s, size_t n)
{
	struct tagkey k = { 0, 0 };

	if (n >= 8) {
		memcpy(&k.a, s, 8);
		memcpy(&k.b, s + n - 8, 8);
	} else {
		for (size_t i = 0; i < n; i++)
			k.a |= (uint64_t)(unsigned char)s[i] << (8 * i);
	}
	return k;
}

static uint32_t tag_hash(struct tagkey k, size_t n)
{
	uint64_t h = (k.a ^ (k.b * 0x9e3779b97f4a7c15u) ^ n) * 0xff51afd7ed558ccdu;

	return (uint32_t)(h >> 32);
}

static bool tagentry_is(const struct tagentry *e, struct tagkey k, const char *tag, size_t len)
{
	return e->len == len && e->key.a == k.a && e->key.b == k.b &&
	       (len <= 16 || memcmp(e->tag + 8, tag + 8, len - 16) == 0);
}

/* The same for a tag of at most TAG_FAST bytes, without a call: what
 * lies between the words (at most eight bytes) as one more word. */
#define TAG_FAST 24

static inline bool tagentry_is_short(const struct tagentry *e, struct tagkey k, const char *tag,
				     size_t len)
{
	uint64_t x, y;

	if (e->len != len || e->key.a != k.a || e->key.b != k.b)
		return false;
	if (len <= 16)
		return true;
	memcpy(&x, e->tag + 8, 8);
	memcpy(&y, tag + 8, 8);
	return x == y;
}

static void probe_make(struct probe *pr, const struct pattern *p, uint32_t index)
{
	*pr = (struct probe){
		.re = p->re, .index = index, .needle = p->needle, .lead_skip = p->lead_skip,
		.lead_at = (uint8_t)p->lead_at, .jit = p->jit, .whole = p->whole,
	};
	if (p->lead)
		bytes_key_init(&pr->lead, p->lead, p->lead_len);
}

/* --- candidate lists and their pairs --- */

static void list_clear_pairs(struct list *l)
{
	for (size_t i = 0; i < l->nsets; i++)
		free(l->sets[i].v);
	free(l->sets);
	l->sets = NULL;
	l->nsets = 0;
	memset(l->pair, 0, sizeof(l->pair));
	l->used = 0;
}

static void list_free(struct list *l)
{
	if (l) {
		list_clear_pairs(l);
		free(l->idx);
		free(l);
	}
}

/* Could a match of p start with b (256: with nothing)? PCRE2's first-byte
 * map, before the partial match that decides. */
static bool can_start(const struct pattern *p, int b)
{
	if (!p->has_first)
		return true;
	return b < 256 && (p->first[b / 8] & (1u << (b % 8)));
}

/*
 * Writes into out the probes of idx[0..n) that can match a message
 * starting with b1 b2 (256: absent), as PCRE2 says by partial matching of
 * those bytes: a match, a partial match or a limit all mean "may". Returns
 * their number.
 */
/* Whether two probes' leads are one: a line fails both or neither. */
static bool probes_same_lead(const struct probe *a, const struct probe *b)
{
	return a->lead.p && b->lead.p && a->lead.len == b->lead.len && a->lead_at == b->lead_at &&
	       a->lead_skip == b->lead_skip && memcmp(a->lead.p, b->lead.p, a->lead.len) == 0;
}

/* Counts for each probe the run of probes after it with the same lead. */
static void probes_mark_leads(struct probe *v, uint32_t n)
{
	for (uint32_t i = n; i-- > 0;)
		v[i].same_lead = i + 1 < n && probes_same_lead(&v[i], &v[i + 1]) &&
					 v[i + 1].same_lead < UINT16_MAX ?
				 (uint16_t)(v[i + 1].same_lead + 1) : 0;
}

static uint32_t pair_compute(const struct candidates *c, const uint32_t *idx, uint32_t n, int b1,
			     int b2, struct probe *out)
{
	unsigned char subj[2] = { (unsigned char)b1, (unsigned char)b2 };
	size_t len = b1 == 256 ? 0 : b2 == 256 ? 1 : 2;
	uint32_t k = 0;

	for (uint32_t i = 0; i < n; i++) {
		const struct pattern *p = &c->ps->v[idx[i]];

		if (!can_start(p, b1))
			continue;
		if (pcre2_match(p->re, subj, len, 0, PCRE2_PARTIAL_HARD, c->md, c->mctx) ==
		    PCRE2_ERROR_NOMATCH)
			continue;
		probe_make(&out[k++], p, idx[i]);
	}
	probes_mark_leads(out, k);
	return k;
}

static uint32_t probes_hash(const struct probe *v, uint32_t n)
{
	uint32_t h = 2166136261u;

	for (uint32_t i = 0; i < n; i++)
		h = (h ^ v[i].index) * 16777619u;
	return h;
}

static bool probes_same(const struct probe *a, const struct probe *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (a[i].index != b[i].index)
			return false;
	return true;
}

/* The set of l equal to v[0..n), added when new: its index, or -1 when
 * out of memory. */
static long list_set(struct list *l, const struct probe *v, uint32_t n)
{
	uint32_t hash = probes_hash(v, n);
	struct probeset *sets;

	for (size_t i = 0; i < l->nsets; i++)
		if (l->sets[i].hash == hash && l->sets[i].n == n && probes_same(l->sets[i].v, v, n))
			return (long)i;
	sets = realloc(l->sets, (l->nsets + 1) * sizeof(*sets));
	if (!sets)
		return -1;
	l->sets = sets;
	sets[l->nsets].v = malloc((n ? n : 1) * sizeof(*v));
	if (!sets[l->nsets].v)
		return -1;
	memcpy(sets[l->nsets].v, v, n * sizeof(*v));
	sets[l->nsets].n = n;
	sets[l->nsets].hash = hash;
	return (long)l->nsets++;
}

/* The cached probes of list l for b1 b2, worked out on first sight. */
static inline uint32_t pair_key(int b1, int b2)
{
	return 1 + (uint32_t)b1 * 257 + (uint32_t)b2;
}

/* The slot of l that holds key, or NULL with *empty (when asked for) at
 * the empty one where it would go. */
static inline __attribute__((always_inline)) struct pair *
pair_find(struct list *l, uint32_t key, struct pair **empty)
{
	for (size_t i = (key * 2654435761u) >> 22 & (PAIR_SLOTS - 1);; i = (i + 1) & (PAIR_SLOTS - 1)) {
		struct pair *pr = &l->pair[i];

		if (pr->key == key)
			return pr;
		if (pr->key == 0) {
			if (empty)
				*empty = pr;
			return NULL;
		}
	}
}

static const struct probe *list_pair(struct candidates *c, struct list *l, int b1, int b2,
				     uint32_t *n)
{
	uint32_t key = pair_key(b1, b2);
	struct pair *pr, *empty;
	long set;

	if ((pr = pair_find(l, key, &empty)) != NULL) {
		*n = l->sets[pr->set].n;
		return l->sets[pr->set].v;
	}
	if (l->used >= PAIR_SLOTS / 2) {
		list_clear_pairs(l);
		return list_pair(c, l, b1, b2, n);
	}
	*n = pair_compute(c, l->idx, l->n, b1, b2, c->scratch_probes);
	set = list_set(l, c->scratch_probes, *n);
	if (set < 0)
		return c->scratch_probes;
	empty->key = key;
	empty->set = (uint32_t)set;
	l->used++;
	return l->sets[set].v;
}

/* The list equal to idx[0..n), made on first sight; NULL: none left
 * (LIST_MAX reached, or no memory): the caller works lines out uncached. */
static struct list *list_get(struct candidates *c, const uint32_t *idx, uint32_t n)
{
	struct list *l, **v;
	uint32_t hash = 2166136261u;

	for (uint32_t i = 0; i < n; i++)
		hash = (hash ^ idx[i]) * 16777619u;
	for (size_t i = 0; i < c->nlists; i++) {
		l = c->lists[i];
		if (l->hash == hash && l->n == n && memcmp(l->idx, idx, n * sizeof(*idx)) == 0)
			return l;
	}
	if (c->nlists >= LIST_MAX)
		return NULL;
	v = realloc(c->lists, (c->nlists + 1) * sizeof(*v));
	if (!v)
		return NULL;
	c->lists = v;
	l = calloc(1, sizeof(*l));
	if (!l || !(l->idx = malloc((n ? n : 1) * sizeof(*l->idx)))) {
		free(l);
		return NULL;
	}
	memcpy(l->idx, idx, n * sizeof(*idx));
	l->n = n;
	l->hash = hash;
	c->lists[c->nlists++] = l;
	return l;
}

/* --- tags --- */

/* Writes the patterns for tag (NUL-terminated) into out; returns count. */
static uint32_t tag_compute(const struct candidates *c, const char *tag, uint32_t *out)
{
	uint32_t n = 0;

	for (size_t i = 0; i < c->norder; i++) {
		uint32_t k = c->order[i];

		if (pattern_wants_tag(&c->ps->v[k], tag))
			out[n++] = k;
	}
	return n;
}

static void tags_clear(struct candidates *c)
{
	for (size_t i = 0; i < TAG_SLOTS; i++) {
		c->slot[i].len = 0;
		c->slot[i].list = NULL;	/* lists outlive the tags */
	}
	c->used = 0;
	c->last = NULL;
}

/*
 * The entry of tag (the previous line's first: logs repeat it), or NULL
 * with *empty (when asked for) at the empty slot where it would go.
 * is_short: the tag has at most TAG_FAST bytes and is compared without a
 * call (a constant where inlined).
 */
static inline __attribute__((always_inline)) struct tagentry *
tag_find(struct candidates *c, struct tagkey key, const char *tag, size_t len, bool is_short,
	 struct tagentry **empty)
{
	if (c->last && (is_short ? tagentry_is_short(c->last, key, tag, len) :
			tagentry_is(c->last, key, tag, len)))
		return c->last;
	for (size_t i = tag_hash(key, len) & (TAG_SLOTS - 1);; i = (i + 1) & (TAG_SLOTS - 1)) {
		struct tagentry *e = &c->slot[i];

		if (e->len == 0) {
			if (empty)
				*empty = e;
			return NULL;
		}
		if (is_short ? tagentry_is_short(e, key, tag, len) : tagentry_is(e, key, tag, len))
			return c->last = e;
	}
}

/* The cached entry of a tag, made on first sight; NULL: the tag is too
 * long to cache, or out of memory. */
static struct tagentry *tag_get(struct candidates *c, const char *tag, size_t len)
{
	struct tagkey key;
	struct tagentry *e, *found;

	if (len > TAG_MAX || len == 0)
		return NULL;
	key = tag_key(tag, len);
	if ((found = tag_find(c, key, tag, len, false, &e)) != NULL)
		return found;
	if (c->used >= TAG_SLOTS / 2) {
		tags_clear(c);
		return tag_get(c, tag, len);
	}
	memcpy(e->tag, tag, len);
	e->tag[len] = '\0';
	e->list = list_get(c, c->scratch, tag_compute(c, e->tag, c->scratch));
	if (!e->list)
		return NULL;	/* the line is worked out uncached */
	e->key = key;
	e->len = (uint8_t)len;
	c->used++;
	return c->last = e;
}

/* The slow way: works out and caches what the fast way did not find. */
static __attribute__((noinline)) const struct probe *
candidates_work_out(struct candidates *c, const char *tag, size_t taglen, int b1, int b2,
		    uint32_t *n)
{
	struct tagentry *e = tag_get(c, tag, taglen);
	uint32_t k;

	if (e)
		return list_pair(c, e->list, b1, b2, n);
	/* uncached: a tag too long, or more lists than LIST_MAX */
	if (taglen > TAG_MAX) {
		char *copy = strndup(tag, taglen);

		if (!copy)
			return NULL;
		k = tag_compute(c, copy, c->scratch);
		free(copy);
	} else {
		char buf[TAG_MAX + 1];

		memcpy(buf, tag, taglen);
		buf[taglen] = '\0';
		k = tag_compute(c, buf, c->scratch);
	}
	*n = pair_compute(c, c->scratch, k, b1, b2, c->scratch_probes);
	return c->scratch_probes;
}

/* Nearly every line finds its tag and pair cached: that way is kept
 * short (no call, few registers), the rest goes to candidates_work_out,
 * as do tags longer than TAG_FAST (rare: "postfix-out/submission/smtpd"). */
const struct probe *candidates_get(struct candidates *c, const char *tag, size_t taglen,
				   const char *msg, size_t msglen, uint32_t *n)
{
	int b1 = msglen > 0 ? (unsigned char)msg[0] : 256;
	int b2 = msglen > 1 ? (unsigned char)msg[1] : 256;

	*n = 0;
	if (taglen == 0)
		return NULL;
	if (taglen <= TAG_FAST) {
		struct tagentry *e = tag_find(c, tag_key(tag, taglen), tag, taglen, true, NULL);
		const struct pair *pr;

		if (e && (pr = pair_find(e->list, pair_key(b1, b2), NULL)) != NULL) {
			*n = e->list->sets[pr->set].n;
			return e->list->sets[pr->set].v;
		}
	}
	return candidates_work_out(c, tag, taglen, b1, b2, n);
}

struct candidates *candidates_new(const struct patternset *ps, pcre2_match_data *md,
				  pcre2_match_context *mctx)
{
	struct candidates *c = calloc(1, sizeof(*c));
	size_t k = 0, n = ps->n ? ps->n : 1;

	if (!c)
		return NULL;
	c->ps = ps;
	c->md = md;
	c->mctx = mctx;
	c->order = calloc(n, sizeof(*c->order));
	c->scratch = calloc(n, sizeof(*c->scratch));
	c->scratch_probes = calloc(n, sizeof(*c->scratch_probes));
	if (!c->order || !c->scratch || !c->scratch_probes) {
		candidates_free(c);
		return NULL;
	}
	/* a disabled pattern is never a candidate */
	for (size_t i = 0; i < ps->n; i++)
		if (ps->v[i].cls != CLASS_CONTEXT && ps->v[i].enabled)
			c->order[k++] = (uint32_t)i;
	for (size_t i = 0; i < ps->n; i++)
		if (ps->v[i].cls == CLASS_CONTEXT && ps->v[i].enabled)
			c->order[k++] = (uint32_t)i;
	c->norder = k;
	return c;
}

void candidates_free(struct candidates *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nlists; i++)
		list_free(c->lists[i]);
	free(c->lists);
	free(c->order);
	free(c->scratch);
	free(c->scratch_probes);
	free(c);
}
