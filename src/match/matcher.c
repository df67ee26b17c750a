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

#include "candidates.h"
#include "literal.h"
#include "matcher.h"
#include "needle.h"

/*
 * What the matcher knows of one needle. A needle only saves work on the
 * lines that lack it; one that every line of its patterns holds (">, "
 * of a delivery line) costs a search per line for nothing. So each
 * needle is searched for MATCHER_NEEDLE_TRIAL lines at a time, and when
 * nearly all held it, it is taken as present for the next
 * MATCHER_NEEDLE_TRUST lines (their regexes decide), then tried again.
 * No answer depends on this: it only chooses between two ways of ruling
 * a regex out, the needle or the regex itself.
 */
struct matcher_needle {
	uint32_t gen;		/* the line it was last asked about */
	bool hit;		/* ... and whether it held it (or was trusted to) */
	uint16_t searched;	/* lines of the current trial */
	uint16_t missed;	/* ... that lacked it */
	uint32_t trusted;	/* lines still to take it as present in */
};

#define MATCHER_NEEDLE_TRIAL 256
#define MATCHER_NEEDLE_MISSES 8		/* at most this many misses in a trial ... */
#define MATCHER_NEEDLE_TRUST 4096	/* ... earn this many lines unsearched */

/* The JIT's stack for one match: it starts small and may grow to the
 * most a regex may use on one line, past which the match counts as a
 * limit hit (like MATCHER_MATCH_LIMIT), not as a crash. */
#define MATCHER_JIT_STACK_START (32 * 1024)
#define MATCHER_JIT_STACK_MAX (512 * 1024)
/* The interpreter's counterpart (patterns PCRE2 cannot JIT). */
#define MATCHER_DEPTH_LIMIT 1000

int matcher_init(struct matcher *m, const struct patternset *ps)
{
	memset(m, 0, sizeof(*m));
	m->ps = ps;
	m->find = needle_finder(NEEDLE_BEST);
	m->needles = calloc(ps->nneedles ? ps->nneedles : 1, sizeof(*m->needles));
	m->md = pcre2_match_data_create(ps->max_capture + 1, NULL);
	m->mctx = pcre2_match_context_create(NULL);
	m->jstack = pcre2_jit_stack_create(MATCHER_JIT_STACK_START, MATCHER_JIT_STACK_MAX, NULL);
	if (!m->md || !m->mctx || !m->jstack || !m->needles ||
	    !(m->cands = candidates_new(ps, m->md, m->mctx))) {
		matcher_free(m);
		return -1;
	}
	m->ov = pcre2_get_ovector_pointer(m->md);
	m->ovpairs = pcre2_get_ovector_count(m->md);
	/* Bounds the work of one regex on one hostile line. */
	pcre2_set_match_limit(m->mctx, MATCHER_MATCH_LIMIT);
	pcre2_set_depth_limit(m->mctx, MATCHER_DEPTH_LIMIT);
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
		m->needles_trusted++;
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

/* The length of the message's leading run of [0-9A-Za-z] (a queue id,
 * "NOQUEUE"), measured for matcher_token. */
static __attribute__((noinline)) size_t matcher_token_measure(struct matcher *m,
							      const struct logline *l)
{
	m->token_gen = m->gen;
	m->token = bytes_alnum_run(l->msg, l->msglen);
	return m->token;
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
	return at <= l->msglen && bytes_key_at(&p->lead, l->msg + at, l->msglen - at);
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

		if (p->lead.p && !matcher_lead(m, l, p)) {
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
			out->end = l->msg + p->lead.len;
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
