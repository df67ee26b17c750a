/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A second, tiny scan of the file text that follows libconfuse's grammar
 * (comments, quoted and bare values, "=" and "+=", lists, titled sections)
 * only far enough to note on which line each value stands.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "cfgfile.h"
#include "readfile.h"

struct cfgloc {
	char *sec, *title, *key;	/* key NULL: the section itself */
	unsigned index;
	int line;
};

struct scan {
	const char *p, *end;
	int line;
	int unclosed;		/* line of a section the file ends inside, 0 */
	char unclosed_name[64];
};

enum tok { T_EOF, T_WORD, T_STRING, T_LBRACE, T_RBRACE, T_EQ, T_PLUSEQ, T_COMMA, T_LPAREN, T_RPAREN };

struct token {
	enum tok t;
	const char *s;		/* word: the raw text; string: between quotes */
	size_t len;
	int line;
};

static void scan_space(struct scan *sc)
{
	while (sc->p < sc->end) {
		char c = *sc->p;

		if (c == '\n') {
			sc->line++;
			sc->p++;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
			sc->p++;
		} else if (c == '#' || (c == '/' && sc->p + 1 < sc->end && sc->p[1] == '/')) {
			while (sc->p < sc->end && *sc->p != '\n')
				sc->p++;
		} else if (c == '/' && sc->p + 1 < sc->end && sc->p[1] == '*') {
			sc->p += 2;
			while (sc->p + 1 < sc->end && !(sc->p[0] == '*' && sc->p[1] == '/')) {
				if (*sc->p == '\n')
					sc->line++;
				sc->p++;
			}
			sc->p = sc->p + 2 <= sc->end ? sc->p + 2 : sc->end;
		} else {
			break;
		}
	}
}

static struct token scan_next(struct scan *sc)
{
	struct token t = { T_EOF, NULL, 0, 0 };
	char c;

	scan_space(sc);
	t.line = sc->line;
	if (sc->p >= sc->end)
		return t;
	c = *sc->p;
	switch (c) {
	case '{': t.t = T_LBRACE; sc->p++; return t;
	case '}': t.t = T_RBRACE; sc->p++; return t;
	case '=': t.t = T_EQ; sc->p++; return t;
	case ',': t.t = T_COMMA; sc->p++; return t;
	case '(': t.t = T_LPAREN; sc->p++; return t;
	case ')': t.t = T_RPAREN; sc->p++; return t;
	case '+':
		if (sc->p + 1 < sc->end && sc->p[1] == '=') {
			t.t = T_PLUSEQ;
			sc->p += 2;
			return t;
		}
		break;
	case '"':
	case '\'':
		t.t = T_STRING;
		t.s = ++sc->p;
		while (sc->p < sc->end && *sc->p != c) {
			if (*sc->p == '\\' && sc->p + 1 < sc->end)
				sc->p++;
			if (*sc->p == '\n')
				sc->line++;
			sc->p++;
		}
		t.len = (size_t)(sc->p - t.s);
		if (sc->p < sc->end)
			sc->p++;
		return t;
	default:
		break;
	}
	t.t = T_WORD;
	t.s = sc->p;
	while (sc->p < sc->end && !strchr(" \t\r\n{}=,()\"'#", *sc->p) &&
	       !(*sc->p == '+' && sc->p + 1 < sc->end && sc->p[1] == '='))
		sc->p++;
	if (sc->p == t.s)
		sc->p++;	/* a lone character libconfuse will complain about */
	t.len = (size_t)(sc->p - t.s);
	return t;
}

static int cfgfile_note(struct cfgfile *f, const char *sec, const char *title,
			const char *key, size_t keylen, unsigned index, int line)
{
	struct cfgloc *l;

	if (grow(&f->locs, &f->caplocs, f->nlocs + 1, sizeof(*f->locs), 64) < 0)
		return -1;
	l = &f->locs[f->nlocs];
	memset(l, 0, sizeof(*l));
	l->sec = sec ? strdup(sec) : NULL;
	l->title = title ? strdup(title) : NULL;
	l->key = key ? strndup(key, keylen) : NULL;
	if ((sec && !l->sec) || (title && !l->title) || (key && !l->key)) {
		free(l->sec);
		free(l->title);
		free(l->key);
		return -1;
	}
	l->index = index;
	l->line = line;
	f->nlocs++;
	return 0;
}

/* How many values key already has in this section instance (for "+="). */
static unsigned cfgfile_count(const struct cfgfile *f, size_t from, const char *key, size_t keylen)
{
	unsigned n = 0;

	for (size_t i = from; i < f->nlocs; i++)
		if (f->locs[i].key && strlen(f->locs[i].key) == keylen &&
		    memcmp(f->locs[i].key, key, keylen) == 0 && f->locs[i].index + 1 > n)
			n = f->locs[i].index + 1;
	return n;
}

/* One level of statements: top level (sec NULL) or a section body. */
static int cfgfile_scan_body(struct cfgfile *f, struct scan *sc, const char *sec,
			     const char *title, int depth)
{
	size_t from = f->nlocs;

	for (;;) {
		struct token k = scan_next(sc), n;

		if (k.t == T_EOF && depth > 0 && !sc->unclosed)
			sc->unclosed = -1;	/* the caller, who knows the line, fills it in */
		if (k.t == T_EOF || k.t == T_RBRACE)
			return 0;
		if (k.t != T_WORD && k.t != T_STRING)
			continue;
		n = scan_next(sc);
		if (n.t == T_EQ || n.t == T_PLUSEQ) {
			unsigned idx = n.t == T_PLUSEQ ? cfgfile_count(f, from, k.s, k.len) : 0;
			struct token v = scan_next(sc);

			if (n.t == T_EQ) {
				/* a later "=" in the same section replaces earlier values */
				for (size_t i = from; i < f->nlocs; i++)
					if (f->locs[i].key && strlen(f->locs[i].key) == k.len &&
					    memcmp(f->locs[i].key, k.s, k.len) == 0)
						f->locs[i].index = (unsigned)-1;
			}
			if (v.t == T_LBRACE) {
				for (;;) {
					v = scan_next(sc);
					if (v.t == T_EOF || v.t == T_RBRACE)
						break;
					if (v.t == T_COMMA)
						continue;
					if (cfgfile_note(f, sec, title, k.s, k.len, idx++, v.line) < 0)
						return -1;
				}
			} else if (cfgfile_note(f, sec, title, k.s, k.len, idx, v.line) < 0) {
				return -1;
			}
		} else if (n.t == T_LBRACE || n.t == T_WORD || n.t == T_STRING) {
			char *name = strndup(k.s, k.len), *ttl = NULL;
			int r;

			if (!name)
				return -1;
			if (n.t != T_LBRACE) {
				ttl = strndup(n.s, n.len);
				n = scan_next(sc);
			}
			if (n.t != T_LBRACE || depth > 8) {
				free(name);
				free(ttl);
				continue;	/* libconfuse reports the syntax error */
			}
			r = cfgfile_note(f, name, ttl, NULL, 0, 0, k.line);
			if (r == 0)
				r = cfgfile_scan_body(f, sc, name, ttl, depth + 1);
			if (sc->unclosed == -1) {
				/* the innermost section the file ended in */
				sc->unclosed = k.line;
				snprintf(sc->unclosed_name, sizeof(sc->unclosed_name), "%s%s%s", name,
					 ttl ? " " : "", ttl ? ttl : "");
			}
			free(name);
			free(ttl);
			if (r < 0)
				return r;
		} else if (n.t == T_LPAREN) {
			while (n.t != T_EOF && n.t != T_RPAREN)
				n = scan_next(sc);
		}
	}
}

static struct diag *cfgfile_diag;
/* The file being parsed: cfg_parse_buf() names every buffer "[buf]". */
static const char *cfgfile_path;

static void cfgfile_errfunc(cfg_t *cfg, const char *fmt, va_list ap)
{
	char *msg = NULL;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	if (cfgfile_diag)
		diag_error(cfgfile_diag, cfgfile_path ? cfgfile_path : "?",
			   cfg ? cfg->line : 0, "%s", msg ? msg : "out of memory");
	free(msg);
}

int cfgfile_parse(struct cfgfile *f, const char *path, cfg_opt_t *opts, struct diag *d)
{
	struct scan sc;
	size_t len;
	char *text;
	int r;

	memset(f, 0, sizeof(*f));
	f->path = path;
	text = readfile(path, &len, d);
	if (!text)
		return -1;
	if (memchr(text, '\0', len)) {
		diag_error(d, path, 0, "contains a NUL byte: not a configuration file");
		free(text);
		return -1;
	}
	f->cfg = cfg_init(opts, CFGF_NONE);
	if (!f->cfg) {
		diag_error(d, path, 0, "out of memory");
		free(text);
		return -1;
	}
	cfg_set_error_function(f->cfg, cfgfile_errfunc);
	cfgfile_diag = d;
	cfgfile_path = path;
	r = cfg_parse_buf(f->cfg, text);
	cfgfile_diag = NULL;
	cfgfile_path = NULL;
	if (r != CFG_SUCCESS) {
		if (r == CFG_FILE_ERROR)
			diag_error(d, path, 0, "cannot read");
		free(text);
		cfgfile_free(f);
		return -1;
	}
	sc = (struct scan){ text, text + len, 1, 0, "" };
	r = cfgfile_scan_body(f, &sc, NULL, NULL, 0);
	free(text);
	if (r < 0) {
		diag_error(d, path, 0, "out of memory");
		cfgfile_free(f);
		return -1;
	}
	if (sc.unclosed > 0) {
		/* libconfuse takes the end of the file as the end of the section:
		 * a truncated file would pass for a whole one */
		diag_error(d, path, sc.unclosed, "section \"%s\" is never closed: the file ends "
			   "before its \"}\"", sc.unclosed_name);
		cfgfile_free(f);
		return -1;
	}
	return 0;
}

void cfgfile_free(struct cfgfile *f)
{
	for (size_t i = 0; i < f->nlocs; i++) {
		free(f->locs[i].sec);
		free(f->locs[i].title);
		free(f->locs[i].key);
	}
	free(f->locs);
	if (f->cfg)
		cfg_free(f->cfg);
	memset(f, 0, sizeof(*f));
}

static bool cfgfile_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int cfgfile_line(const struct cfgfile *f, const char *sec, const char *title,
		 const char *key, unsigned index)
{
	/* the last occurrence wins, as in libconfuse */
	for (size_t i = f->nlocs; i-- > 0;) {
		const struct cfgloc *l = &f->locs[i];

		if (!cfgfile_same(l->sec, sec) || !cfgfile_same(l->title, title))
			continue;
		if (!key && !l->key)
			return l->line;
		if (key && l->key && strcmp(l->key, key) == 0 && l->index == index)
			return l->line;
	}
	return 0;
}

bool cfgfile_has(const struct cfgfile *f, const char *sec, const char *title, const char *key)
{
	return cfgfile_line(f, sec, title, key, 0) > 0;
}

static int cfgfile_by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int cfgfile_is_conf(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return e->d_name[0] != '.' && n > 5 && strcmp(e->d_name + n - 5, ".conf") == 0;
}

int cfgfile_list(const char *dir, char ***paths)
{
	struct dirent **ents;
	char **v;
	int n = scandir(dir, &ents, cfgfile_is_conf, cfgfile_by_name), k = 0;

	if (n < 0)
		return -1;
	v = calloc((size_t)n + 1, sizeof(*v));
	for (int i = 0; i < n; i++) {
		if (v && asprintf(&v[k], "%s/%s", dir, ents[i]->d_name) >= 0)
			k++;
		free(ents[i]);
	}
	free(ents);
	if (!v || k != n) {
		for (int i = 0; v && i < k; i++)
			free(v[i]);
		free(v);
		errno = ENOMEM;
		return -1;
	}
	*paths = v;
	return n;
}
