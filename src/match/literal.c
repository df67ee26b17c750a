/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Limits: only the top level of a regex is read, atom by atom; groups,
 * classes and quantified atoms are skipped whole (their literals may be
 * absent from a match), except that a leading run of atoms is checked for
 * matching nothing but [0-9A-Za-z], which places the literal after it.
 * Anything not understood makes the reader say less, never more.
 */
#include <stdlib.h>
#include <string.h>

#include "literal.h"
#include "number.h"

static bool literal_alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* 0 digit, 1 upper case, 2 lower case: a range must stay inside one. */
static int literal_alnum_kind(int c)
{
	return c <= '9' ? 0 : c <= 'Z' ? 1 : 2;
}

/* "(?i)", "(?-s)", "(?R)": changes the rest of the top level (or recurses). */
static bool literal_option_setting(const char *p)
{
	const char *q = p + 2;

	if (p[0] != '(' || p[1] != '?')
		return false;
	while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || *q == '-' || *q == '^')
		q++;
	return *q == ')' && q > p + 2;
}

/* The end of the class opening at s ('['), or NULL. */
static const char *literal_skip_class(const char *s)
{
	const char *p = s + 1;

	if (*p == '^')
		p++;
	if (*p == ']')
		p++;	/* a literal ']' first */
	for (; *p; p++) {
		if (*p == '\\') {
			if (!*++p)
				return NULL;
		} else if (*p == '[' && p[1] == ':') {
			const char *e = strstr(p + 2, ":]");

			if (!e)
				return NULL;
			p = e + 1;
		} else if (*p == ']') {
			return p + 1;
		}
	}
	return NULL;
}

/* The end of the group opening at s ('('), or NULL. */
static const char *literal_skip_group(const char *s)
{
	int depth = 0;

	for (const char *p = s; *p; p++) {
		if (*p == '\\') {
			if (!*++p)
				return NULL;
		} else if (*p == '[') {
			p = literal_skip_class(p);
			if (!p)
				return NULL;
			p--;
		} else if (*p == '(') {
			depth++;
		} else if (*p == ')' && --depth == 0) {
			return p + 1;
		}
	}
	return NULL;
}

/*
 * "{...}" holding only digits, commas and spaces: a quantifier for some
 * PCRE2 version ("{,3}" became one in 10.43), so never read as literals.
 */
static bool literal_brace_quantifier(const char *p)
{
	if (*p != '{')
		return false;
	for (p++; *p && *p != '}'; p++)
		if (!((*p >= '0' && *p <= '9') || *p == ',' || *p == ' '))
			return false;
	return *p == '}';
}

/*
 * One top-level atom at p: sets *next past it (and past a quantifier on
 * it) and returns its literal byte, or -1 when it is not one plain byte
 * that must match exactly once. -2 when nothing can be said (a top-level
 * alternation, an option setting, something unbalanced).
 */
static int literal_atom(const char *p, const char **next)
{
	int c = -1;
	const char *n;

	if (*p == '|' || literal_option_setting(p))
		return -2;
	if (*p == '(') {
		n = literal_skip_group(p);
	} else if (*p == '[') {
		n = literal_skip_class(p);
	} else if (*p == '\\') {
		if (p[1] == 'x' && number_hex_byte(p + 2) >= 0) {
			c = number_hex_byte(p + 2);
			n = p + 4;
		} else if (p[1] && !((p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' && p[1] <= 'Z') ||
				     (p[1] >= '0' && p[1] <= '9'))) {
			c = (unsigned char)p[1];	/* an escaped punctuation mark */
			n = p + 2;
		} else if (p[1] && p[2] == '{') {
			n = strchr(p + 2, '}');	/* \x{..}, \p{..}, \g{..} */
			n = n ? n + 1 : NULL;
		} else {
			n = p[1] ? p + 2 : NULL;	/* \d, \s, \b ...: not a literal */
		}
	} else {
		n = p + 1;
		if (*p != '.' && *p != '^' && *p != '$')
			c = (unsigned char)*p;
	}
	if (!n)
		return -2;
	if (*n == '?' || *n == '*' || *n == '+' || literal_brace_quantifier(n)) {
		c = -1;	/* optional or repeated */
		if (*n == '{')
			n = strchr(n, '}');
		n++;
		if (*n == '?' || *n == '+')
			n++;	/* lazy or possessive */
	}
	*next = n;
	return c;
}

/* True when the class from s ('[') to e (past its ']') matches only
 * [0-9A-Za-z] bytes. */
static bool literal_class_alnum(const char *s, const char *e)
{
	const char *p = s + 1, *end = e - 1;

	if (*p == '^' || p >= end)
		return false;
	while (p < end) {
		if (*p == '\\') {
			if (p[1] != 'd')
				return false;
			p += 2;
		} else if (!literal_alnum(*p)) {
			return false;	/* ']' first, '[:alpha:]', punctuation */
		} else if (p[1] == '-' && p + 2 < end) {
			if (!literal_alnum(p[2]) || p[2] < p[0] ||
			    literal_alnum_kind(p[0]) != literal_alnum_kind(p[2]))
				return false;
			p += 3;
		} else {
			p++;
		}
	}
	return true;
}

/* True when the atom from s to e (its quantifier included) matches only
 * strings of [0-9A-Za-z]: literals, \d, such classes, plain, non-capturing
 * and named groups of those, alternatives and quantifiers. */
static bool literal_alnum_only(const char *s, const char *e)
{
	while (s < e) {
		const char *n;

		if (literal_alnum(*s)) {
			s++;
			continue;
		}
		switch (*s) {
		case '(':
			if (s[1] != '?') {
				s++;
			} else if (s[2] == ':') {
				s += 3;
			} else if (s[2] == '<' || (s[2] == 'P' && s[3] == '<')) {
				n = s + (s[2] == '<' ? 3 : 4);
				if (!((*n >= 'A' && *n <= 'Z') || (*n >= 'a' && *n <= 'z') || *n == '_'))
					return false;	/* (?<= (?<! are lookbehinds */
				while (n < e && (literal_alnum(*n) || *n == '_'))
					n++;
				if (n >= e || *n != '>')
					return false;
				s = n + 1;
			} else {
				return false;
			}
			break;
		case ')':
		case '|':
		case '?':
		case '*':
		case '+':
			s++;
			break;
		case '{':
			if (!literal_brace_quantifier(s))
				return false;
			s = strchr(s, '}') + 1;
			break;
		case '[':
			n = literal_skip_class(s);
			if (!n || n > e || !literal_class_alnum(s, n))
				return false;
			s = n;
			break;
		case '\\':
			if (s[1] != 'd')
				return false;
			s += 2;
			break;
		default:
			return false;
		}
	}
	return true;
}

void literal_free(struct literals *l)
{
	free(l->lead);
	free(l->needle);
	memset(l, 0, sizeof(*l));
}

/* Where the run of literal bytes being read sits, if known. */
enum literal_place { PLACE_NONE, PLACE_START, PLACE_TOKEN_END, PLACE_START_OR_TOKEN };

struct literal_reader {
	char *run, *best;	/* the current run; the rarest other one */
	size_t cur, best_len, min;
	unsigned best_score;
	enum literal_place place;	/* of the current run */
	size_t skip;		/* PLACE_START_OR_TOKEN: bytes after the token */
	bool first_done;	/* the first run is over: no lead after it */
	struct literals *out;
};

/*
 * How few log lines a literal is likely in: log text is spaces, lower
 * case and structure (": ", "=", "<>", "[]"); capitals are rarer. So
 * " SPAM" (amavis' verdict) beats "> -> " (in every amavis line), and a
 * long literal beats a short one.
 */
static unsigned literal_score(const char *s, size_t n)
{
	unsigned score = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		score += c == ' ' ? 0 : (c >= 'A' && c <= 'Z') ? 3 : literal_alnum(c) ? 2 : 1;
	}
	return score;
}

/* Ends the current run: the lead if it is the first and placed, else a
 * needle candidate. -1 when out of memory. */
static int literal_end_run(struct literal_reader *r)
{
	static const enum literal_at at[] = {
		[PLACE_START] = LITERAL_START,
		[PLACE_TOKEN_END] = LITERAL_TOKEN_END,
		[PLACE_START_OR_TOKEN] = LITERAL_START_OR_TOKEN,
	};
	bool first = !r->first_done;

	if (r->cur == 0)
		return 0;
	r->first_done = true;
	if (first && r->place != PLACE_NONE && r->cur >= r->min) {
		r->out->lead = strndup(r->run, r->cur);
		if (!r->out->lead)
			return -1;
		r->out->lead_len = r->cur;
		r->out->lead_at = at[r->place];
		r->out->lead_skip = r->place == PLACE_START_OR_TOKEN ? r->skip : 0;
	} else if (r->cur >= r->min) {
		unsigned score = literal_score(r->run, r->cur);

		if (score >= r->best_score) {
			memcpy(r->best, r->run, r->cur);
			r->best_len = r->cur;
			r->best_score = score;
		}
	}
	r->cur = 0;
	return 0;
}

/*
 * The optional group "(?:TOKEN LITERAL)?" opening at p and ending at next
 * (a queue id and ": " that a line may or may not start with): TOKEN only
 * matches [0-9A-Za-z], LITERAL is plain bytes, the first of them not
 * [0-9A-Za-z]. Returns LITERAL's length, or 0 when the group is not so.
 */
static size_t literal_optional_prefix(const char *p, const char *next)
{
	const char *close = literal_skip_group(p), *q;
	size_t tail = 0;
	char *inner;

	if (!close || strncmp(p, "(?:", 3) != 0 ||
	    !(next == close + 1 || (next == close + 2 && close[1] == '?')) || close[0] != '?')
		return 0;
	inner = strndup(p + 3, (size_t)(close - 1 - (p + 3)));
	if (!inner)
		return 0;
	for (q = inner; *q;) {
		const char *n;
		int c = literal_atom(q, &n);

		if (c == -2 || (c < 0 && (tail || !literal_alnum_only(q, n)))) {
			tail = 0;
			break;
		}
		if (tail || (c >= 0 && !literal_alnum(c)))
			tail++;
		q = n;
	}
	free(inner);
	return tail;
}

/* Reads the atoms; 1 when the reading holds, 0 when it must say nothing,
 * -1 when out of memory. */
static int literal_scan(struct literal_reader *r, const char *src)
{
	bool anchored = src[0] == '^', at_start = anchored, prefix_alnum = anchored;
	const char *p = anchored ? src + 1 : src;
	size_t skip = 0;	/* after an optional "(?:TOKEN: )?" at the start */

	while (*p) {
		const char *next;
		int c = literal_atom(p, &next);

		if (c == -2)
			return 0;
		if (c >= 0) {
			if (r->cur == 0) {
				r->place = r->first_done ? PLACE_NONE : at_start ? PLACE_START :
					   skip ? PLACE_START_OR_TOKEN :
					   prefix_alnum && !literal_alnum(c) ? PLACE_TOKEN_END : PLACE_NONE;
				r->skip = skip;
			}
			r->run[r->cur++] = (char)c;
			skip = 0;
		} else {
			if (literal_end_run(r) < 0)
				return -1;
			skip = at_start ? literal_optional_prefix(p, next) : 0;
			prefix_alnum = prefix_alnum && literal_alnum_only(p, next);
		}
		at_start = false;
		p = next;
	}
	return literal_end_run(r) < 0 ? -1 : 1;
}

int literal_read(const char *src, size_t min, struct literals *out)
{
	static const char *const unsafe[] = { "(?x", "\\Q", "(*", "(?^", NULL };
	struct literal_reader r = { .min = min ? min : 1, .out = out };
	size_t n = strlen(src);
	int rc;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; unsafe[i]; i++)
		if (strstr(src, unsafe[i]))
			return 0;
	r.run = malloc(n + 1);
	r.best = malloc(n + 1);
	if (!r.run || !r.best) {
		free(r.run);
		free(r.best);
		return -1;
	}
	rc = literal_scan(&r, src);
	if (rc == 1 && r.best_len) {
		out->needle = strndup(r.best, r.best_len);
		out->needle_len = r.best_len;
		if (!out->needle)
			rc = -1;
	}
	free(r.run);
	free(r.best);
	if (rc != 1)
		literal_free(out);
	return rc < 0 ? -1 : 0;
}

/*
 * Where to start looking for a needle: the byte of it least common in mail
 * logs (space and lower-case letters are everywhere, punctuation is not),
 * so that memchr() stops at few false starts.
 */
size_t literal_anchor(const char *s, size_t len)
{
	size_t best = 0;
	int bestscore = 1000;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int score = c == ' ' ? 100 : (c >= 'a' && c <= 'z') ? 60 : (c >= '0' && c <= '9') ? 50 :
			    (c >= 'A' && c <= 'Z') ? 30 : (c == '.' || c == ':' || c == '-') ? 40 : 10;

		if (score < bestscore) {
			bestscore = score;
			best = i;
		}
	}
	return best;
}

