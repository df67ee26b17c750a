/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One match data block serves every pattern. Most lines match no pattern,
 * and a busy tag (postfix/smtpd) has dozens: calling each regex in turn
 * costs more in calls than in matching. So a line meets only the patterns
 * its tag and first two bytes allow (candidates.c), and of those a
 * pattern's lead (a literal at a known place: the start, or right after a
 * queue id) is compared in place and its needle (a literal all its
 * matches contain) looked for, once per line for needles several patterns
 * share, before its regex runs (unless lines have kept holding that
 * needle: see struct matcher_needle). None of it changes an answer: it
 * only skips regexes that could not match.
 */
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "matcher.h"

int matcher_init(struct matcher *m, const struct patternset *ps)
{
	memset(m, 0, sizeof(*m));
	m->ps = ps;
	m->find = needle_finder(NEEDLE_BEST);
	m->needles = calloc(ps->nneedles ? ps->nneedles : 1, sizeof(*m->needles));
	m->md = pcre2_match_data_create(ps->max_capture + 1, NULL);
	m->mctx = pcre2_match_context_create(NULL);
	m->jstack = pcre2_jit_stack_create(32 * 1024, 512 * 1024, NULL);
	if (!m->md || !m->mctx || !m->jstack || !m->needles ||
	    !(m->cands = candidates_new(ps, m->md, m->mctx))) {
		matcher_free(m);
		return -1;
	}
	m->ov = pcre2_get_ovector_pointer(m->md);
	m->ovpairs = pcre2_get_ovector_count(m->md);
	/* Bounds the work of one regex on one hostile line. */
	pcre2_set_match_limit(m->mctx, MATCHER_MATCH_LIMIT);
	pcre2_set_depth_limit(m->mctx, 1000);
	pcre2_jit_stack_assign(m->mctx, NULL, m->jstack);
	return 0;
}

void matcher_free(struct matcher *m)
{
	candidates_free(m->cands);
	free(m->needles);
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
	out->end = l->msg + ov[1];
	out->pid = l->pid;
	for (unsigned k = 0; k < p->nslots; k++) {
		const struct capture_slot *s = &p->slot[k];

		/* the first group of a name that took part gives its value */
		if (!out->cap[s->cap].p && s->group < npairs && ov[2 * s->group] != PCRE2_UNSET) {
			out->cap[s->cap].p = l->msg + ov[2 * s->group];
			out->cap[s->cap].len = ov[2 * s->group + 1] - ov[2 * s->group];
		}
	}
}

/* Whether the line may hold needle k: searched for, or taken on trust
 * (see struct matcher_needle). */
static bool matcher_has(struct matcher *m, const struct logline *l, uint32_t k,
			struct matcher_needle *ns)
{
	const struct needle *nd = &m->ps->needles[k];
	bool hit;

	if (ns->trusted) {
		ns->trusted--;
		return true;
	}
	hit = m->find(l->msg, l->msglen, nd->s, nd->len, nd->anchor);
	ns->missed += !hit;
	if (++ns->searched == MATCHER_NEEDLE_TRIAL) {
		if (ns->missed <= MATCHER_NEEDLE_MISSES)
			ns->trusted = MATCHER_NEEDLE_TRUST;
		ns->searched = ns->missed = 0;
	}
	return hit;
}

/* [0-9A-Za-z] as bits, without a branch per byte: queue ids mix digits
 * and letters at random, which a chain of comparisons mispredicts. */
static bool matcher_alnum(unsigned char c)
{
	static const uint64_t bits[4] = { 0x03ff000000000000u, 0x07fffffe07fffffeu, 0, 0 };

	return (bits[c >> 6] >> (c & 63)) & 1;
}

/* The length of the message's leading run of [0-9A-Za-z] (a queue id,
 * "NOQUEUE"), measured for matcher_token. */
static __attribute__((noinline)) size_t matcher_token_measure(struct matcher *m,
							      const struct logline *l)
{
	size_t n = 0;

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

/* The leading token's length, measured once per line: most probes of a
 * Postfix line ask for it, so asking again must cost no call. */
static inline size_t matcher_token(struct matcher *m, const struct logline *l)
{
	if (m->token_gen == m->gen)
		return m->token;
	return matcher_token_measure(m, l);
}

static inline bool matcher_lead_at(const struct logline *l, size_t at, const struct probe *p)
{
	const char *s = l->msg + at;
	size_t left;
	uint64_t a, b;

	if (at > l->msglen)
		return false;
	left = l->msglen - at;
	if (left < 8)
		return left >= p->lead_len && memcmp(s, p->lead, p->lead_len) == 0;
	/* the first word rules most lines out; then the last, then between */
	memcpy(&a, s, 8);
	if ((a & p->lead_mask) != p->lead_a)
		return false;
	if (p->lead_len <= 8)
		return true;
	if (left < p->lead_len)
		return false;
	memcpy(&b, s + p->lead_len - 8, 8);
	return b == p->lead_b &&
	       (p->lead_len <= 16 || memcmp(s + 8, p->lead + 8, p->lead_len - 16) == 0);
}

/* True when the line has the pattern's lead where every match has it. */
static bool matcher_lead(struct matcher *m, const struct logline *l, const struct probe *p)
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

/* The candidates one by one; the first that matches wins. */
static bool matcher_each(struct matcher *m, const struct logline *l, const struct probe *v,
			 uint32_t n, struct match *out)
{
	for (uint32_t i = 0; i < n; i++) {
		const struct probe *p = &v[i];
		int rc;

		if (p->lead && !matcher_lead(m, l, p)) {
			i += p->same_lead;	/* and those after it with the same lead */
			continue;	/* a comparison rules most out */
		}
		if (p->needle != PATTERN_NO_NEEDLE) {
			struct matcher_needle *ns = &m->needles[p->needle];

			if (ns->gen != m->gen) {
				ns->gen = m->gen;
				ns->hit = matcher_has(m, l, p->needle, ns);
			}
			if (!ns->hit)
				continue;	/* the line lacks what every match contains */
		} else if (p->whole) {
			/* "^" and the lead, which the line has: a match, no captures */
			out->pattern = &m->ps->v[p->index];
			out->index = p->index;
			memset(out->cap, 0, sizeof(out->cap));
			out->end = l->msg + p->lead_len;
			out->pid = l->pid;
			return true;
		}
		if (p->jit)
			rc = pcre2_jit_match(p->re, (PCRE2_SPTR)l->msg, l->msglen, 0, 0, m->md, m->mctx);
		else
			rc = pcre2_match(p->re, (PCRE2_SPTR)l->msg, l->msglen, 0, 0, m->md, m->mctx);
		if (rc >= 0) {
			out->pattern = &m->ps->v[p->index];
			out->index = p->index;
			matcher_captures(out->pattern, l, m->ov, m->ovpairs, out);
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
	const struct probe *v;
	uint32_t n;

	if (!l->taglen)
		return false;
	if (++m->gen == 0) {
		/* wrapped: no needle may look already searched for this line */
		for (size_t k = 0; k < m->ps->nneedles; k++)
			m->needles[k].gen = 0;
		m->token_gen = 0;
		m->gen = 1;
	}
	v = candidates_get(m->cands, l->tag, l->taglen, l->msg, l->msglen, &n);
	return v && matcher_each(m, l, v, n, out);
}
