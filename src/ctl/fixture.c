/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A fixture file is read whole (they are samples, not logs), split into
 * log lines and the expectations before each, then replayed through a
 * pipeline of its own so that queue ids and judge state never leak from
 * one file into the next, as one batch: pipeline_feed says which pattern
 * matched each line.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grow.h"
#include "addr.h"
#include "class.h"
#include "fixture.h"
#include "names.h"
#include "pipeline.h"
#include "readfile.h"

#define NO_PATTERN SIZE_MAX

enum expect_kind {
	EXPECT_EVENT,		/* = ADDRESS CLASS [PATTERN [VERDICT]] */
	EXPECT_NONE,		/* = none */
	EXPECT_MATCH,		/* + PATTERN */
	EXPECT_NOMATCH,		/* - PATTERN */
};

/* What an expected event must be besides its address and class. */
enum expect_verdict {
	VERDICT_ANY,		/* offence or ignored */
	VERDICT_OFFENCE,	/* "offence": an offence that joined the total or banned */
	VERDICT_IGNORED,	/* "ignored[:REASON]": the judge's ignored event */
};

struct expect {
	enum expect_kind kind;
	int fileline;
	char addr[ADDR_STRLEN + 64];	/* canonical when it parses */
	int cls;
	size_t pattern;		/* index in the set, or NO_PATTERN */
	enum expect_verdict verdict;
	char reason[32];	/* VERDICT_IGNORED: "" for any reason */
};

struct entry {
	int fileline;
	const char *text;
	size_t len;
	struct expect *exp;
	size_t nexp;
	size_t matched;		/* pattern that matched the line, or NO_PATTERN */
};

/* One event of the judge, traced back to its line. */
struct seen {
	uint64_t line;
	char addr[ADDR_STRLEN + 64];
	int cls;
	size_t pattern;
	bool ignored;
	const char *reason;	/* ignored: the judge's reason (static text) */
};

struct fixture_file {
	const char *path;
	char *buf;
	struct entry *ent;
	size_t nent, capent;
	struct expect *pending;
	size_t npending, cappending;
	char *program;
	int year;
	char **traps;
	size_t ntraps;
	bool have_traps;
	size_t *enable;		/* @enable: patterns (indexes) tried although disabled */
	size_t nenable;
	struct seen *seen;
	size_t nseen, capseen;
	bool oom;
	const struct patternset *ps;
};

int fixture_init(struct fixture_run *r, const struct config *cfg, struct patternset *ps,
		 FILE *out)
{
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	r->ps = ps;
	r->out = out;
	r->hits = calloc(ps->n ? ps->n : 1, sizeof(*r->hits));
	r->near = calloc(ps->n ? ps->n : 1, sizeof(*r->near));
	if (!r->hits || !r->near) {
		fixture_free(r);
		return -1;
	}
	return 0;
}

void fixture_free(struct fixture_run *r)
{
	free(r->hits);
	free(r->near);
	r->hits = r->near = NULL;
}

static void fixture_file_free(struct fixture_file *f)
{
	for (size_t i = 0; i < f->nent; i++)
		free(f->ent[i].exp);
	free(f->ent);
	free(f->pending);
	for (size_t i = 0; i < f->ntraps; i++)
		free(f->traps[i]);
	free(f->traps);
	free(f->enable);
	free(f->program);
	free(f->seen);
	free(f->buf);
}

static size_t fixture_pattern(const struct patternset *ps, const char *name)
{
	uint32_t id = names_intern(name, strlen(name));

	for (size_t i = 0; i < ps->n; i++)
		if (ps->v[i].name == id)
			return i;
	return NO_PATTERN;
}

/* The address as events print it: canonical when it parses, else as written. */
static void fixture_canon(const char *s, size_t len, char *out, size_t outlen)
{
	struct addr a;

	if (addr_parse(s, len, &a) == 0) {
		char buf[ADDR_STRLEN];

		snprintf(out, outlen, "%s", addr_format(&a, buf));
	} else {
		snprintf(out, outlen, "%.*s", (int)len, s);
	}
}

/* Settings and expectations may end in a comment: " # ...". */
static void fixture_uncomment(char *s)
{
	for (char *p = s; *p; p++) {
		if (*p == '#' && p > s && (p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
	}
}

/* Splits s in place into at most max words; returns how many. */
static size_t fixture_words(char *s, char **w, size_t max)
{
	size_t n = 0;

	while (*s) {
		while (*s == ' ' || *s == '\t')
			*s++ = '\0';
		if (!*s)
			break;
		if (n == max)
			return max + 1;
		w[n++] = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
	}
	return n;
}

static int fixture_pattern_word(struct fixture_file *f, int ln, const char *name, size_t *out,
				struct diag *d)
{
	*out = fixture_pattern(f->ps, name);
	if (*out == NO_PATTERN) {
		diag_error(d, f->path, ln, "no pattern named \"%s\" is loaded", name);
		return -1;
	}
	return 0;
}

static int fixture_setting(struct fixture_file *f, int ln, char *line, struct diag *d)
{
	char *w[64];
	size_t n;

	fixture_uncomment(line);
	n = fixture_words(line + 1, w, 64);

	if (f->nent) {
		diag_error(d, f->path, ln, "settings (@...) go before the first log line");
		return -1;
	}
	if (n == 2 && strcmp(w[0], "program") == 0) {
		free(f->program);
		f->program = strdup(w[1]);
		return f->program ? 0 : -1;
	}
	if (n == 2 && strcmp(w[0], "year") == 0) {
		char *end;
		long y = strtol(w[1], &end, 10);

		if (*end || y < 1970 || y > 9999) {
			diag_error(d, f->path, ln, "@year: \"%s\" is not a year", w[1]);
			return -1;
		}
		f->year = (int)y;
		return 0;
	}
	if (n >= 1 && n <= 64 && strcmp(w[0], "spamtraps") == 0) {
		f->have_traps = true;
		for (size_t i = 1; i < n; i++) {
			char **v = realloc(f->traps, (f->ntraps + 1) * sizeof(*v));

			if (!v)
				return -1;
			f->traps = v;
			/* the correlator compares lower-case */
			for (char *c = w[i]; *c; c++)
				if (*c >= 'A' && *c <= 'Z')
					*c = (char)(*c - 'A' + 'a');
			f->traps[f->ntraps] = strdup(w[i]);
			if (!f->traps[f->ntraps])
				return -1;
			f->ntraps++;
		}
		return 0;
	}
	if (n >= 2 && n <= 64 && strcmp(w[0], "enable") == 0) {
		size_t *v = realloc(f->enable, (f->nenable + n - 1) * sizeof(*v));

		if (!v)
			return -1;
		f->enable = v;
		for (size_t i = 1; i < n; i++)
			if (fixture_pattern_word(f, ln, w[i], &f->enable[f->nenable++], d) < 0)
				return -1;
		return 0;
	}
	diag_error(d, f->path, ln, "unknown setting (@program TAG, @year YEAR, @spamtraps ADDR..., "
		   "@enable PATTERN...)");
	return -1;
}


/* The optional fourth word of "= ADDRESS CLASS PATTERN VERDICT". */
static int fixture_verdict(struct fixture_file *f, int ln, const char *w, struct expect *e,
			   struct diag *d)
{
	if (strcmp(w, "offence") == 0) {
		e->verdict = VERDICT_OFFENCE;
		return 0;
	}
	if (strncmp(w, "ignored", 7) == 0 && (w[7] == '\0' || (w[7] == ':' && w[8]))) {
		e->verdict = VERDICT_IGNORED;
		if (w[7] == ':' && strlen(w + 8) < sizeof(e->reason))
			memcpy(e->reason, w + 8, strlen(w + 8) + 1);
		else if (w[7] == ':')
			goto bad;
		return 0;
	}
bad:
	diag_error(d, f->path, ln, "\"%s\" is not \"offence\", \"ignored\" nor \"ignored:REASON\"", w);
	return -1;
}

static int fixture_expectation(struct fixture_file *f, int ln, char *line, struct diag *d)
{
	struct expect e = { .fileline = ln, .pattern = NO_PATTERN, .cls = -1 };
	char *w[5];
	size_t n;

	fixture_uncomment(line);
	n = fixture_words(line + 1, w, 4);

	if (line[0] == '=' && n == 1 && strcmp(w[0], "none") == 0) {
		e.kind = EXPECT_NONE;
	} else if (line[0] == '=' && (n == 2 || n == 3 || n == 4)) {
		e.kind = EXPECT_EVENT;
		fixture_canon(w[0], strlen(w[0]), e.addr, sizeof(e.addr));
		e.cls = class_from_name(w[1]);
		if (e.cls < 0 || e.cls == CLASS_CONTEXT) {
			diag_error(d, f->path, ln, "\"%s\" is not an offence class", w[1]);
			return -1;
		}
		if (n >= 3 && fixture_pattern_word(f, ln, w[2], &e.pattern, d) < 0)
			return -1;
		if (n == 4 && fixture_verdict(f, ln, w[3], &e, d) < 0)
			return -1;
	} else if ((line[0] == '+' || line[0] == '-') && n == 1) {
		e.kind = line[0] == '+' ? EXPECT_MATCH : EXPECT_NOMATCH;
		if (fixture_pattern_word(f, ln, w[0], &e.pattern, d) < 0)
			return -1;
	} else {
		diag_error(d, f->path, ln, "expected \"= ADDRESS CLASS [PATTERN [VERDICT]]\", \"= none\", "
			   "\"+ PATTERN\" or \"- PATTERN\"");
		return -1;
	}
	if (grow(&f->pending, &f->cappending, f->npending + 1, sizeof(*f->pending), 8) < 0)
		return -1;
	f->pending[f->npending++] = e;
	return 0;
}

static int fixture_logline(struct fixture_file *f, int ln, const char *text, size_t len,
			   struct diag *d)
{
	struct entry *e;

	if (f->npending == 0) {
		diag_error(d, f->path, ln, "log line without an expectation before it "
			   "(\"= none\" if it must give nothing)");
		return -1;
	}
	if (grow(&f->ent, &f->capent, f->nent + 1, sizeof(*f->ent), 64) < 0)
		return -1;
	e = &f->ent[f->nent++];
	*e = (struct entry){ .fileline = ln, .text = text, .len = len, .matched = NO_PATTERN };
	e->exp = malloc(f->npending * sizeof(*e->exp));
	if (!e->exp) {
		f->nent--;
		return -1;
	}
	memcpy(e->exp, f->pending, f->npending * sizeof(*e->exp));
	e->nexp = f->npending;
	f->npending = 0;
	return 0;
}

/* Cuts the buffer into lines and sorts them into settings, expectations
 * and log lines. 0, or -1 with the reason in d. */
static int fixture_parse(struct fixture_file *f, struct diag *d)
{
	char *p = f->buf;
	size_t errors = d->errors;
	int ln = 0;

	while (*p) {
		char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		int rc = 0;

		ln++;
		if (nl)
			*nl = '\0';
		if (len && p[len - 1] == '\r')
			p[--len] = '\0';
		if (len == 0 || p[0] == '#')
			;
		else if (p[0] == '@')
			rc = fixture_setting(f, ln, p, d);
		else if ((p[0] == '=' || p[0] == '+' || p[0] == '-') && (p[1] == ' ' || p[1] == '\t'))
			rc = fixture_expectation(f, ln, p, d);
		else
			rc = fixture_logline(f, ln, p, len, d);
		if (rc < 0) {
			if (d->errors == errors)
				diag_error(d, f->path, ln, "out of memory");
			return -1;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	if (f->npending) {
		diag_error(d, f->path, f->pending[0].fileline, "expectation without a log line after it");
		return -1;
	}
	return 0;
}

/* The judge's sink: keeps every offence and ignored event, by line. */
static void fixture_event(void *ctx, const struct judge_event *e)
{
	struct fixture_file *f = ctx;
	const struct sighting *s = e->s;
	struct seen *v;

	if (!s || (e->kind != JUDGE_OFFENCE && e->kind != JUDGE_IGNORED))
		return;
	if (grow(&f->seen, &f->capseen, f->nseen + 1, sizeof(*f->seen), 64) < 0) {
		f->oom = true;
		return;
	}
	v = &f->seen[f->nseen++];
	v->line = s->origin.line;
	v->cls = (int)e->cls;
	v->ignored = e->kind == JUDGE_IGNORED;
	v->reason = e->reason;
	v->pattern = fixture_pattern(f->ps, names_get(e->pattern));
	if (s->addr_ok) {
		char buf[ADDR_STRLEN];

		snprintf(v->addr, sizeof(v->addr), "%s", addr_format(&s->addr, buf));
	} else {
		fixture_canon(s->addr_text ? s->addr_text : "", s->addr_text ? s->addr_len : 0,
			      v->addr, sizeof(v->addr));
	}
}

static const char *fixture_pname(const struct patternset *ps, size_t i)
{
	return i == NO_PATTERN ? "-" : names_get(ps->v[i].name);
}

static int fixture_replay(struct fixture_run *r, struct fixture_file *f, struct diag *d)
{
	struct pipeline pl;
	struct parser parser;
	struct pipeline_source from;
	struct pipeline_line *lines = calloc(f->nent ? f->nent : 1, sizeof(*lines));
	bool *was = calloc(f->nenable ? f->nenable : 1, sizeof(*was));
	int rc;

	if (!lines || !was) {
		diag_error(d, f->path, 0, "out of memory");
		free(lines);
		free(was);
		return -1;
	}
	/* for this file's pipeline only: the matcher reads it once, at init */
	for (size_t i = 0; i < f->nenable; i++) {
		was[i] = r->ps->v[f->enable[i]].enabled;
		r->ps->v[f->enable[i]].enabled = true;
	}
	rc = pipeline_init(&pl, r->cfg, r->ps, fixture_event, f, d);
	for (size_t i = f->nenable; i-- > 0;)
		r->ps->v[f->enable[i]].enabled = was[i];
	free(was);
	if (rc < 0) {
		free(lines);
		return -1;
	}
	if (f->have_traps && correlator_set_traps(&pl.c, f->traps, f->ntraps) < 0) {
		diag_error(d, f->path, 0, "out of memory");
		pipeline_free(&pl);
		free(lines);
		return -1;
	}
	parser_init(&parser, f->program ? f->program : r->program);
	parser.first_year = f->year ? f->year : r->year;
	for (size_t i = 0; i < f->nent; i++)
		lines[i] = (struct pipeline_line){
			.text = f->ent[i].text, .len = f->ent[i].len,
			.lineno = (uint64_t)f->ent[i].fileline,
		};
	from = (struct pipeline_source){
		.name = names_intern(f->path, strlen(f->path)), .parser = &parser,
		.now = time(NULL), .clock = PIPELINE_LINE,
	};
	pipeline_feed(&pl, &from, lines, f->nent);
	for (size_t i = 0; i < f->nent; i++)
		if (lines[i].matched < r->ps->n)	/* not NO_MATCH nor UNPARSED */
			f->ent[i].matched = lines[i].matched;
	pipeline_free(&pl);
	free(lines);
	if (f->oom) {
		diag_error(d, f->path, 0, "out of memory");
		return -1;
	}
	return 0;
}

static void fixture_describe(const struct fixture_file *f, const struct seen *s, FILE *out)
{
	fprintf(out, "%s %s (%s%s%s)", s->addr, class_name((enum class_id)s->cls),
		fixture_pname(f->ps, s->pattern), s->ignored ? ", ignored:" : "",
		s->ignored ? (s->reason ? s->reason : "?") : "");
}

static bool fixture_event_ok(const struct expect *x, const struct seen *s)
{
	if (strcmp(x->addr, s->addr) != 0 || x->cls != s->cls ||
	    (x->pattern != NO_PATTERN && x->pattern != s->pattern))
		return false;
	switch (x->verdict) {
	case VERDICT_ANY:
		return true;
	case VERDICT_OFFENCE:
		return !s->ignored;
	case VERDICT_IGNORED:
		return s->ignored && (!x->reason[0] || (s->reason && !strcmp(x->reason, s->reason)));
	}
	return false;
}

/* Compares one line with its expectations; reports and counts mismatches. */
static bool fixture_judge(struct fixture_run *r, const struct fixture_file *f,
			  const struct entry *e)
{
	const struct seen *ev[8];
	size_t nev = 0, nwant = 0;
	bool ok = true;

	for (size_t i = 0; i < f->nseen; i++)
		if (f->seen[i].line == (uint64_t)e->fileline && nev < 8)
			ev[nev++] = &f->seen[i];
	for (size_t k = 0; k < e->nexp; k++) {
		const struct expect *x = &e->exp[k];
		bool held = true;

		switch (x->kind) {
		case EXPECT_EVENT:
			nwant++;
			held = false;
			for (size_t i = 0; i < nev; i++)
				if (fixture_event_ok(x, ev[i]))
					held = true;
			if (!held) {
				fprintf(r->out, "%s:%d: expected %s %s%s%s%s%s%s, got ", f->path,
					e->fileline, x->addr, class_name((enum class_id)x->cls),
					x->pattern == NO_PATTERN ? "" : " ",
					x->pattern == NO_PATTERN ? "" : fixture_pname(f->ps, x->pattern),
					x->verdict == VERDICT_OFFENCE ? " offence" :
					x->verdict == VERDICT_IGNORED ? " ignored" : "",
					x->reason[0] ? ":" : "", x->reason);
			}
			break;
		case EXPECT_NONE:
			held = nev == 0;
			if (!held)
				fprintf(r->out, "%s:%d: expected none, got ", f->path, e->fileline);
			break;
		case EXPECT_MATCH:
			held = e->matched == x->pattern;
			if (!held)
				fprintf(r->out, "%s:%d: expected a match by %s, got ", f->path,
					e->fileline, fixture_pname(f->ps, x->pattern));
			break;
		case EXPECT_NOMATCH:
			held = e->matched != x->pattern;
			if (!held)
				fprintf(r->out, "%s:%d: near miss matched by %s: ", f->path,
					e->fileline, fixture_pname(f->ps, x->pattern));
			break;
		}
		if (!held) {
			if (nev == 0)
				fprintf(r->out, "no event");
			for (size_t i = 0; i < nev; i++) {
				fprintf(r->out, i ? ", " : "");
				fixture_describe(f, ev[i], r->out);
			}
			fprintf(r->out, " [line matched by %s]\n", fixture_pname(f->ps, e->matched));
			ok = false;
		}
	}
	/* every event of the line must be one that was asked for */
	if (ok && nwant && nev > nwant) {
		fprintf(r->out, "%s:%d: %zu events where %zu expected\n", f->path, e->fileline,
			nev, nwant);
		ok = false;
	}
	if (ok) {
		for (size_t k = 0; k < e->nexp; k++) {
			const struct expect *x = &e->exp[k];

			if (x->kind == EXPECT_NOMATCH)
				r->near[x->pattern]++;
			else if (x->kind == EXPECT_MATCH)
				r->hits[x->pattern]++;
		}
		if (nwant && e->matched != NO_PATTERN)
			r->hits[e->matched]++;
	}
	return ok;
}

int fixture_check_file(struct fixture_run *r, const char *path, struct diag *d)
{
	struct fixture_file f = { .path = path, .ps = r->ps };
	size_t bad = 0, len;
	int rc;

	f.buf = readfile(path, &len, d);
	if (!f.buf)
		return -1;
	if (fixture_parse(&f, d) < 0 || fixture_replay(r, &f, d) < 0) {
		fixture_file_free(&f);
		return -1;
	}
	for (size_t i = 0; i < f.nent; i++)
		bad += !fixture_judge(r, &f, &f.ent[i]);
	fprintf(r->out, "%s: %zu log lines, %zu as expected, %zu not\n", path, f.nent,
		f.nent - bad, bad);
	r->files++;
	r->lines += f.nent;
	r->mismatches += bad;
	rc = bad ? 1 : 0;
	fixture_file_free(&f);
	return rc;
}

size_t fixture_coverage(const struct fixture_run *r)
{
	size_t missing = 0;

	for (size_t i = 0; i < r->ps->n; i++) {
		const struct pattern *p = &r->ps->v[i];

		if (r->hits[i] && r->near[i])
			continue;
		fprintf(r->out, "%s:%d: pattern %s has no fixture line that %s\n",
			names_get(p->file), p->line, names_get(p->name),
			!r->hits[i] ? (!r->near[i] ? "it matches, nor a near miss (- NAME)"
				       : "it matches (= ... or + NAME)")
				    : "is a near miss for it (- NAME)");
		missing++;
	}
	return missing;
}
