/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Limits: the tag cache holds TAGCACHE_SLOTS/2 distinct tags and is emptied
 * when full (tags are written by whoever logs, so an attacker can only make
 * us recompute, never grow). Tags longer than TAGCACHE_TAGMAX are matched
 * uncached. One match data block serves every pattern.
 */
#include <stdlib.h>
#include <string.h>

#include "matcher.h"

#define TAGCACHE_SLOTS 1024
#define TAGCACHE_TAGMAX 63

struct tagentry {
	uint8_t len;		/* 0: empty slot */
	char tag[TAGCACHE_TAGMAX + 1];
	uint32_t *idx;		/* candidate patterns, in trial order */
	uint32_t n;
};

struct tagcache {
	struct tagentry slot[TAGCACHE_SLOTS];
	size_t used;
	uint32_t *order;	/* every pattern: offences first, then context */
	uint32_t *scratch;	/* candidates of an uncached tag */
	size_t npatterns;
};

static uint32_t tag_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static void tagcache_clear(struct tagcache *tc)
{
	for (size_t i = 0; i < TAGCACHE_SLOTS; i++) {
		free(tc->slot[i].idx);
		tc->slot[i].idx = NULL;
		tc->slot[i].len = 0;
	}
	tc->used = 0;
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

/* Candidates for a tag; *n set. NULL with *n == 0 means none (or no memory:
 * then the line goes unmatched rather than the daemon down). */
static const uint32_t *tagcache_get(struct matcher *m, const char *tag, size_t len, uint32_t *n)
{
	struct tagcache *tc = m->tags;
	struct tagentry *e;
	char buf[TAGCACHE_TAGMAX + 1];
	size_t i;

	*n = 0;
	if (len > TAGCACHE_TAGMAX) {
		char *copy = strndup(tag, len);

		if (!copy)
			return NULL;
		*n = tagcache_compute(m, copy, tc->scratch);
		free(copy);
		return tc->scratch;
	}
	i = tag_hash(tag, len) & (TAGCACHE_SLOTS - 1);
	for (;;) {
		e = &tc->slot[i];
		if (e->len == 0)
			break;
		if (e->len == len && memcmp(e->tag, tag, len) == 0) {
			*n = e->n;
			return e->idx;
		}
		i = (i + 1) & (TAGCACHE_SLOTS - 1);
	}
	if (tc->used >= TAGCACHE_SLOTS / 2) {
		tagcache_clear(tc);
		return tagcache_get(m, tag, len, n);
	}
	memcpy(buf, tag, len);
	buf[len] = '\0';
	*n = tagcache_compute(m, buf, tc->scratch);
	e->idx = malloc((*n ? *n : 1) * sizeof(*e->idx));
	if (!e->idx)
		return tc->scratch;
	memcpy(e->idx, tc->scratch, *n * sizeof(*e->idx));
	memcpy(e->tag, buf, len + 1);
	e->len = (uint8_t)len;
	e->n = *n;
	tc->used++;
	return e->idx;
}

int matcher_init(struct matcher *m, const struct patternset *ps)
{
	struct tagcache *tc;
	size_t k = 0;

	memset(m, 0, sizeof(*m));
	m->ps = ps;
	tc = calloc(1, sizeof(*tc));
	if (!tc)
		return -1;
	m->tags = tc;
	tc->npatterns = ps->n;
	tc->order = calloc(ps->n ? ps->n : 1, sizeof(*tc->order));
	tc->scratch = calloc(ps->n ? ps->n : 1, sizeof(*tc->scratch));
	m->md = pcre2_match_data_create(ps->max_capture + 1, NULL);
	m->mctx = pcre2_match_context_create(NULL);
	m->jstack = pcre2_jit_stack_create(32 * 1024, 512 * 1024, NULL);
	if (!tc->order || !tc->scratch || !m->md || !m->mctx || !m->jstack) {
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
		free(m->tags->order);
		free(m->tags->scratch);
		free(m->tags);
	}
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
	for (int c = 0; c < CAP_COUNT; c++) {
		out->cap[c].p = NULL;
		out->cap[c].len = 0;
		for (unsigned k = 0; k < p->ngroups[c]; k++) {
			unsigned g = p->groups[c][k];

			if (g < npairs && ov[2 * g] != PCRE2_UNSET) {
				out->cap[c].p = l->msg + ov[2 * g];
				out->cap[c].len = ov[2 * g + 1] - ov[2 * g];
				break;
			}
		}
	}
}

bool matcher_match(struct matcher *m, const struct logline *l, struct match *out)
{
	const uint32_t *cand;
	uint32_t n;

	if (!l->taglen)
		return false;
	cand = tagcache_get(m, l->tag, l->taglen, &n);
	for (uint32_t i = 0; i < n; i++) {
		const struct pattern *p = &m->ps->v[cand[i]];
		int rc;

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
