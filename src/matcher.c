/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Limits: the tag cache holds TAGCACHE_SLOTS/2 distinct tags and is emptied
 * when full (tags are written by whoever logs, so an attacker can only make
 * us recompute, never grow). Tags longer than TAGCACHE_TAGMAX are matched
 * uncached. One match data block serves every pattern.
 *
 * Most lines match no pattern, and a busy tag (postfix/smtpd) has dozens:
 * calling each regex in turn costs more in calls than in matching. So each
 * candidate list gets a dispatch table by the message's first byte (an
 * anchored pattern can only start with some bytes, as PCRE2 says), and a
 * pattern with a needle (a literal all its matches contain) runs only when
 * the line holds it; needles shared by several patterns are looked for
 * once per line. Before that, a pattern's lead (a literal at a known
 * place: the start, or right after a queue id) is compared in place. Neither changes an answer: they only skip regexes that
 * could not match. At most DISPATCH_MAX candidate lists get a table (they
 * are set by the pattern files, not by log lines: a handful in practice).
 */
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "matcher.h"

#define TAGCACHE_SLOTS 1024
#define TAGCACHE_TAGMAX 63
#define DISPATCH_MAX 256

/* The candidates of a list that can match a message starting with two
 * given bytes, worked out on first sight of the pair. */
struct pairs {
	uint32_t *list[256];	/* by second byte; NULL: not worked out yet */
	uint32_t n[256];
};

/* The candidates of one list that can match a message starting with byte
 * b: list[start[b] .. start[b + 1]); b = 256 for an empty message. */
struct dispatch {
	uint32_t hash, n;
	uint32_t *idx;		/* the candidate list it serves */
	uint32_t start[258];
	uint32_t *list;
	struct pairs *pairs[256];	/* by first byte, made on first use */
};

struct tagkey {
	uint64_t a, b;
};

struct tagentry {
	struct tagkey key;
	uint8_t len;		/* 0: empty slot */
	char tag[TAGCACHE_TAGMAX + 1];
	uint32_t *idx;		/* candidate patterns, in trial order */
	uint32_t n;
	struct dispatch *dispatch;	/* owned by the tagcache's list, or NULL */
};

struct tagcache {
	struct tagentry slot[TAGCACHE_SLOTS];
	size_t used;
	uint32_t *order;	/* every pattern: offences first, then context */
	uint32_t *scratch;	/* candidates of an uncached tag */
	size_t npatterns;
	struct dispatch **dispatch;
	size_t ndispatch;
	struct tagentry *last;	/* the previous line's tag: logs repeat it */
};

/*
 * A tag as two words: its first and its last eight bytes (overlapping
 * when shorter than 16). With the length they are the whole tag up to 16
 * bytes; a longer one is compared in full as well. Every line needs a
 * lookup, and this one calls nothing.
 */
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

static void tagcache_clear(struct tagcache *tc)
{
	for (size_t i = 0; i < TAGCACHE_SLOTS; i++) {
		free(tc->slot[i].idx);
		tc->slot[i].idx = NULL;
		tc->slot[i].dispatch = NULL;	/* tables outlive the tags */
		tc->slot[i].len = 0;
	}
	tc->used = 0;
	tc->last = NULL;
}

/* Writes the candidates for tag (NUL-terminated) into out; returns count. */
static uint32_t tagcache_compute(const struct matcher *m, const char *tag, uint32_t *out)
{
	uint32_t n = 0;

	for (size_t i = 0; i < m->tags->npatterns; i++) {
		uint32_t k = m->tags->order[i];

		if (pattern_wants_tag(&m->ps->v[k], tag))
			out[n++] = k;
	}
	return n;
}

/* --- dispatch by first byte --- */

static bool dispatch_can_start(const struct pattern *p, int b)
{
	if (!p->has_first)
		return true;
	return b < 256 && (p->first[b / 8] & (1u << (b % 8)));
}

static struct dispatch *dispatch_build(const struct patternset *ps, const uint32_t *idx,
				       uint32_t n, uint32_t hash)
{
	struct dispatch *dp = calloc(1, sizeof(*dp));
	uint32_t k = 0;

	if (!dp || !(dp->idx = malloc(n * sizeof(*dp->idx))) ||
	    !(dp->list = malloc((size_t)257 * n * sizeof(*dp->list)))) {
		if (dp)
			free(dp->idx);
		free(dp);
		return NULL;
	}
	memcpy(dp->idx, idx, n * sizeof(*idx));
	dp->n = n;
	dp->hash = hash;
	for (int b = 0; b <= 256; b++) {
		dp->start[b] = k;
		for (uint32_t i = 0; i < n; i++)
			if (dispatch_can_start(&ps->v[idx[i]], b))
				dp->list[k++] = idx[i];
	}
	dp->start[257] = k;
	return dp;
}

static void dispatch_free(struct dispatch *dp)
{
	if (dp) {
		for (int b = 0; b < 256; b++) {
			for (int c = 0; dp->pairs[b] && c < 256; c++)
				free(dp->pairs[b]->list[c]);
			free(dp->pairs[b]);
		}
		free(dp->list);
		free(dp->idx);
		free(dp);
	}
}

/*
 * The candidates that can match a message starting with bytes b1 b2: those
 * of b1 for which PCRE2 says (partial matching of the two bytes) that a
 * match could begin so. Most benign lines ("connect from", "disconnect
 * from", "Anonymous TLS") are told from every reject at the second byte.
 * NULL (then b1's list serves) when out of memory.
 */
static const uint32_t *dispatch_pair(struct matcher *m, struct dispatch *dp, int b1, int b2,
				     uint32_t *n)
{
	struct pairs *pr = dp->pairs[b1];
	const uint32_t *from = dp->list + dp->start[b1];
	uint32_t nfrom = dp->start[b1 + 1] - dp->start[b1], k = 0;
	unsigned char subj[2] = { (unsigned char)b1, (unsigned char)b2 };
	uint32_t *v;

	if (!pr) {
		pr = dp->pairs[b1] = calloc(1, sizeof(*pr));
		if (!pr)
			return NULL;
	}
	if (pr->list[b2]) {
		*n = pr->n[b2];
		return pr->list[b2];
	}
	v = malloc((nfrom ? nfrom : 1) * sizeof(*v));
	if (!v)
		return NULL;
	for (uint32_t i = 0; i < nfrom; i++) {
		const struct pattern *p = &m->ps->v[from[i]];
		int rc = pcre2_match(p->re, subj, 2, 0, PCRE2_PARTIAL_HARD, m->md, m->mctx);

		/* a match, a partial one, or a limit: it may start so */
		if (rc != PCRE2_ERROR_NOMATCH)
			v[k++] = from[i];
	}
	pr->list[b2] = v;
	pr->n[b2] = k;
	*n = k;
	return v;
}

/* The table of a candidate list, built on first use; NULL: try every
 * candidate (no memory, or DISPATCH_MAX lists already). */
static struct dispatch *dispatch_get(struct matcher *m, const uint32_t *idx, uint32_t n)
{
	struct tagcache *tc = m->tags;
	struct dispatch *dp, **v;
	uint32_t hash = 2166136261u;

	for (uint32_t i = 0; i < n; i++)
		hash = (hash ^ idx[i]) * 16777619u;
	for (size_t i = 0; i < tc->ndispatch; i++) {
		dp = tc->dispatch[i];
		if (dp->hash == hash && dp->n == n && memcmp(dp->idx, idx, n * sizeof(*idx)) == 0)
			return dp;
	}
	if (tc->ndispatch >= DISPATCH_MAX || n == 0)
		return NULL;
	v = realloc(tc->dispatch, (tc->ndispatch + 1) * sizeof(*v));
	if (!v)
		return NULL;
	tc->dispatch = v;
	dp = dispatch_build(m->ps, idx, n, hash);
	if (dp)
		tc->dispatch[tc->ndispatch++] = dp;
	return dp;
}

static bool tagentry_is(const struct tagentry *e, struct tagkey k, const char *tag, size_t len)
{
	return e->len == len && e->key.a == k.a && e->key.b == k.b &&
	       (len <= 16 || memcmp(e->tag + 8, tag + 8, len - 16) == 0);
}

/* Candidates for a tag; *n and *dp set. NULL with *n == 0 means none (or
 * no memory: then the line goes unmatched rather than the daemon down). */
static const uint32_t *tagcache_get(struct matcher *m, const char *tag, size_t len, uint32_t *n,
				    struct dispatch **dp)
{
	struct tagcache *tc = m->tags;
	struct tagentry *e;
	struct tagkey key;
	char buf[TAGCACHE_TAGMAX + 1];
	size_t i;

	*n = 0;
	*dp = NULL;
	if (len > TAGCACHE_TAGMAX) {
		char *copy = strndup(tag, len);

		if (!copy)
			return NULL;
		*n = tagcache_compute(m, copy, tc->scratch);
		free(copy);
		*dp = dispatch_get(m, tc->scratch, *n);
		return tc->scratch;
	}
	key = tag_key(tag, len);
	e = tc->last;
	if (e && tagentry_is(e, key, tag, len)) {
		*n = e->n;
		*dp = e->dispatch;
		return e->idx;
	}
	i = tag_hash(key, len) & (TAGCACHE_SLOTS - 1);
	for (;;) {
		e = &tc->slot[i];
		if (e->len == 0)
			break;
		if (tagentry_is(e, key, tag, len)) {
			*n = e->n;
			*dp = e->dispatch;
			tc->last = e;
			return e->idx;
		}
		i = (i + 1) & (TAGCACHE_SLOTS - 1);
	}
	if (tc->used >= TAGCACHE_SLOTS / 2) {
		tagcache_clear(tc);
		return tagcache_get(m, tag, len, n, dp);
	}
	memcpy(buf, tag, len);
	buf[len] = '\0';
	*n = tagcache_compute(m, buf, tc->scratch);
	*dp = dispatch_get(m, tc->scratch, *n);
	e->idx = malloc((*n ? *n : 1) * sizeof(*e->idx));
	if (!e->idx)
		return tc->scratch;
	memcpy(e->idx, tc->scratch, *n * sizeof(*e->idx));
	memcpy(e->tag, buf, len + 1);
	e->key = key;
	e->len = (uint8_t)len;
	e->n = *n;
	e->dispatch = *dp;
	tc->used++;
	tc->last = e;
	return e->idx;
}

int matcher_init(struct matcher *m, const struct patternset *ps)
{
	struct tagcache *tc;
	size_t k = 0;

	memset(m, 0, sizeof(*m));
	m->ps = ps;
	m->find = needle_finder(NEEDLE_BEST);
	tc = calloc(1, sizeof(*tc));
	if (!tc)
		return -1;
	m->tags = tc;
	tc->npatterns = ps->n;
	tc->order = calloc(ps->n ? ps->n : 1, sizeof(*tc->order));
	tc->scratch = calloc(ps->n ? ps->n : 1, sizeof(*tc->scratch));
	m->needle_gen = calloc(ps->nneedles ? ps->nneedles : 1, sizeof(*m->needle_gen));
	m->needle_hit = calloc(ps->nneedles ? ps->nneedles : 1, sizeof(*m->needle_hit));
	m->md = pcre2_match_data_create(ps->max_capture + 1, NULL);
	m->mctx = pcre2_match_context_create(NULL);
	m->jstack = pcre2_jit_stack_create(32 * 1024, 512 * 1024, NULL);
	if (!tc->order || !tc->scratch || !m->md || !m->mctx || !m->jstack ||
	    !m->needle_gen || !m->needle_hit) {
		matcher_free(m);
		return -1;
	}
	for (size_t i = 0; i < ps->n; i++)
		if (ps->v[i].cls != CLASS_CONTEXT)
			tc->order[k++] = (uint32_t)i;
	for (size_t i = 0; i < ps->n; i++)
		if (ps->v[i].cls == CLASS_CONTEXT)
			tc->order[k++] = (uint32_t)i;
	/* Bounds the work of one regex on one hostile line. */
	pcre2_set_match_limit(m->mctx, MATCHER_MATCH_LIMIT);
	pcre2_set_depth_limit(m->mctx, 1000);
	pcre2_jit_stack_assign(m->mctx, NULL, m->jstack);
	return 0;
}

void matcher_free(struct matcher *m)
{
	if (m->tags) {
		tagcache_clear(m->tags);
		for (size_t i = 0; i < m->tags->ndispatch; i++)
			dispatch_free(m->tags->dispatch[i]);
		free(m->tags->dispatch);
		free(m->tags->order);
		free(m->tags->scratch);
		free(m->tags);
	}
	free(m->needle_gen);
	free(m->needle_hit);
	if (m->md)
		pcre2_match_data_free(m->md);
	if (m->mctx)
		pcre2_match_context_free(m->mctx);
	if (m->jstack)
		pcre2_jit_stack_free(m->jstack);
	memset(m, 0, sizeof(*m));
}

static void matcher_captures(const struct pattern *p, const struct logline *l,
			     PCRE2_SIZE *ov, uint32_t npairs, struct match *out)
{
	memset(out->cap, 0, sizeof(out->cap));
	for (unsigned k = 0; k < p->nslots; k++) {
		const struct capture_slot *s = &p->slot[k];

		/* the first group of a name that took part gives its value */
		if (!out->cap[s->cap].p && s->group < npairs && ov[2 * s->group] != PCRE2_UNSET) {
			out->cap[s->cap].p = l->msg + ov[2 * s->group];
			out->cap[s->cap].len = ov[2 * s->group + 1] - ov[2 * s->group];
		}
	}
}


/* [0-9A-Za-z] as bits, without a branch per byte: queue ids mix digits
 * and letters at random, which a chain of comparisons mispredicts. */
static bool matcher_has(const struct matcher *m, const struct logline *l, const struct needle *nd)
{
	return m->find(l->msg, l->msglen, nd->s, nd->len, nd->anchor);
}

static bool matcher_alnum(unsigned char c)
{
	static const uint64_t bits[4] = { 0x03ff000000000000u, 0x07fffffe07fffffeu, 0, 0 };

	return (bits[c >> 6] >> (c & 63)) & 1;
}

/* The length of the message's leading run of [0-9A-Za-z] (a queue id,
 * "NOQUEUE"), worked out once per line. */
static size_t matcher_token(struct matcher *m, const struct logline *l)
{
	size_t n = 0;

	if (m->token_gen == m->gen)
		return m->token;
#ifdef __SSE2__
	/* sixteen bytes at once: a queue id is rarely longer */
	while (n + 16 <= l->msglen) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(l->msg + n));
		/* bytes as signed: shift each range to start at -128 */
		__m128i d = _mm_cmplt_epi8(_mm_sub_epi8(x, _mm_set1_epi8('0' - 128)),
					   _mm_set1_epi8(-128 + 10));
		__m128i u = _mm_cmplt_epi8(_mm_sub_epi8(_mm_or_si128(x, _mm_set1_epi8(0x20)),
							_mm_set1_epi8('a' - 128)),
					   _mm_set1_epi8(-128 + 26));
		unsigned bad = ~(unsigned)_mm_movemask_epi8(_mm_or_si128(d, u)) & 0xffffu;

		if (bad) {
			n += (size_t)__builtin_ctz(bad);
			goto done;
		}
		n += 16;
	}
#endif
	while (n < l->msglen && matcher_alnum((unsigned char)l->msg[n]))
		n++;
#ifdef __SSE2__
done:
#endif
	m->token_gen = m->gen;
	m->token = n;
	return n;
}

static inline bool matcher_lead_at(const struct logline *l, size_t at, const struct pattern *p)
{
	const char *s = l->msg + at;
	uint64_t a, b;

	if (at > l->msglen || l->msglen - at < p->lead_len)
		return false;
	if (p->lead_len < 8)
		return memcmp(s, p->lead, p->lead_len) == 0;
	/* the first and last eight bytes, then whatever lies between */
	memcpy(&a, s, 8);
	memcpy(&b, s + p->lead_len - 8, 8);
	return a == p->lead_a && b == p->lead_b &&
	       (p->lead_len <= 16 || memcmp(s + 8, p->lead + 8, p->lead_len - 16) == 0);
}

/* True when the line has the pattern's lead where every match has it. */
static bool matcher_lead(struct matcher *m, const struct logline *l, const struct pattern *p)
{
	switch (p->lead_at) {
	case LITERAL_START:
		return matcher_lead_at(l, 0, p);
	case LITERAL_TOKEN_END:
		return matcher_lead_at(l, matcher_token(m, l), p);
	case LITERAL_START_OR_TOKEN:
		return matcher_lead_at(l, 0, p) ||
		       matcher_lead_at(l, matcher_token(m, l) + p->lead_skip, p);
	}
	return true;
}

/* The candidates one by one; the first that matches wins. Unless a
 * dispatch table chose them (filtered), the first byte is tested here. */
static bool matcher_each(struct matcher *m, const struct logline *l, const uint32_t *cand,
			 uint32_t n, bool filtered, struct match *out)
{
	int b = l->msglen ? (unsigned char)l->msg[0] : 256;

	for (uint32_t i = 0; i < n; i++) {
		const struct pattern *p = &m->ps->v[cand[i]];
		int rc;

		if (!filtered && !dispatch_can_start(p, b))
			continue;	/* no match starts with this byte */
		if (p->lead && !matcher_lead(m, l, p))
			continue;	/* a comparison rules most out */
		if (p->needle != PATTERN_NO_NEEDLE) {
			if (m->needle_gen[p->needle] != m->gen) {
				m->needle_gen[p->needle] = m->gen;
				m->needle_hit[p->needle] =
					matcher_has(m, l, &m->ps->needles[p->needle]);
			}
			if (!m->needle_hit[p->needle])
				continue;	/* the line lacks what every match contains */
		}
		if (p->jit)
			rc = pcre2_jit_match(p->re, (PCRE2_SPTR)l->msg, l->msglen, 0, 0, m->md, m->mctx);
		else
			rc = pcre2_match(p->re, (PCRE2_SPTR)l->msg, l->msglen, 0, 0, m->md, m->mctx);
		if (rc >= 0) {
			out->pattern = p;
			out->index = cand[i];
			matcher_captures(p, l, pcre2_get_ovector_pointer(m->md),
					 pcre2_get_ovector_count(m->md), out);
			return true;
		}
		if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
		    rc == PCRE2_ERROR_JIT_STACKLIMIT)
			m->limit_hits++;
	}
	return false;
}

bool matcher_match(struct matcher *m, const struct logline *l, struct match *out)
{
	const uint32_t *cand;
	struct dispatch *dp;
	uint32_t n;
	int b;

	if (!l->taglen)
		return false;
	if (++m->gen == 0) {
		/* wrapped: no needle may look already searched for this line */
		memset(m->needle_gen, 0, m->ps->nneedles * sizeof(*m->needle_gen));
		m->token_gen = 0;
		m->gen = 1;
	}
	cand = tagcache_get(m, l->tag, l->taglen, &n, &dp);
	if (!dp)
		return matcher_each(m, l, cand, n, false, out);
	if (l->msglen >= 2) {
		const uint32_t *v = dispatch_pair(m, dp, (unsigned char)l->msg[0],
						  (unsigned char)l->msg[1], &n);

		if (v)
			return matcher_each(m, l, v, n, true, out);
	}
	b = l->msglen ? (unsigned char)l->msg[0] : 256;
	return matcher_each(m, l, dp->list + dp->start[b], dp->start[b + 1] - dp->start[b], true,
			    out);
}
