/* SPDX-License-Identifier: GPL-2.0-or-later */
/* matcher: owns running the pattern set over parsed lines and reading the named captures.
 * Patterns are chosen by tag and first two bytes (candidates.c), so most lines meet no regex.
 * It must never allocate per line nor look past the message it was given. */
#ifndef SPAMWRATH_MATCHER_H
#define SPAMWRATH_MATCHER_H

#include "parser.h"
#include "pattern.h"

struct slice {
	const char *p;
	size_t len;		/* p is NULL when the group did not take part */
};

/* The first pattern that matched a line, and its captures (slices of msg). */
struct match {
	const struct pattern *pattern;
	size_t index;		/* of the pattern in its set */
	struct slice cap[CAP_COUNT];
	const char *end;	/* where the match ends in msg */
	const char *pid;	/* the line's (struct logline), or NULL */
};

struct candidates;
struct matcher_needle;

struct matcher {
	const struct patternset *ps;
	pcre2_match_data *md;
	PCRE2_SIZE *ov;		/* md's ovector, which stays where it is */
	uint32_t ovpairs;	/* ... and its pairs */
	pcre2_match_context *mctx;
	pcre2_jit_stack *jstack;
	struct candidates *cands;
	uint32_t gen;		/* of the line being matched */
	struct matcher_needle *needles;	/* one per needle of ps (matcher.c) */
	/* needle.c's finder for this CPU, chosen once */
	bool (*find)(const char *hay, size_t n, const char *s, size_t len, size_t anchor);
	uint32_t token_gen;	/* the line whose leading token was measured */
	size_t token;		/* ... and its length */
	uint64_t limit_hits;	/* matches abandoned at the match limit */
	uint64_t needles_trusted;	/* needles taken as present unsearched (matcher.c) */
};

/* The most backtracking steps one regex may take on one line. */
#define MATCHER_MATCH_LIMIT 100000

int matcher_init(struct matcher *m, const struct patternset *ps);
void matcher_free(struct matcher *m);

/* Offence patterns are tried before context patterns, each in load order;
 * the first that matches wins. True when one matched. */
bool matcher_match(struct matcher *m, const struct logline *l, struct match *out);

#endif
