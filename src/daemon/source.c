/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What file and journal sources share: the copy of their configuration and dispatch by kind. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "names.h"
#include "source.h"

/* A source says that most of its lines have no header once it has read this many. */
#define SOURCE_UNPARSED_MIN 20

void source_unparsed(struct source *s, const char *line, size_t len)
{
	const char *hint;

	s->unparsed++;
	if (s->told_unparsed || s->lines < SOURCE_UNPARSED_MIN || s->unparsed * 2 <= s->lines)
		return;
	s->told_unparsed = true;
	hint = parser_program_hint(line, len);
	if (hint)
		log_warn("source %s: %llu of its %llu lines have no syslog header, so no pattern can "
			 "match them; they look like a log %s writes itself: set program = \"%s\" in "
			 "the source", s->conf.name, (unsigned long long)s->unparsed,
			 (unsigned long long)s->lines, hint, hint);
	else
		log_warn("source %s: %llu of its %llu lines have no syslog header spamwrath reads, so "
			 "no pattern can match them; a log that a program writes itself (not through "
			 "syslog) needs program = \"NAME\" in the source (see spamwrath.conf(5))",
			 s->conf.name, (unsigned long long)s->unparsed, (unsigned long long)s->lines);
}

void source_pos_free(struct source_pos *p)
{
	free(p->cursor);
	memset(p, 0, sizeof(*p));
}

static int source_strdup(char **dst, const char *s)
{
	*dst = NULL;
	if (!s)
		return 0;
	*dst = strdup(s);
	return *dst ? 0 : -1;
}

static int source_list_copy(char ***dst, size_t *ndst, char *const *v, size_t n)
{
	*dst = NULL;
	*ndst = 0;
	if (n == 0)
		return 0;
	*dst = calloc(n, sizeof(**dst));
	if (!*dst)
		return -1;
	for (size_t i = 0; i < n; i++) {
		(*dst)[i] = strdup(v[i]);
		if (!(*dst)[i])
			return -1;
		(*ndst)++;
	}
	return 0;
}

static void source_list_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void source_conf_free(struct source_conf *c)
{
	free(c->name);
	free(c->file);
	free(c->program);
	free(c->journal_dir);
	free((char *)c->where);
	source_list_free(c->journal, c->njournal);
	source_list_free(c->trusted_units, c->ntrusted_units);
	source_list_free(c->trusted_users, c->ntrusted_users);
	memset(c, 0, sizeof(*c));
}

int source_conf_copy(struct source_conf *dst, const struct source_conf *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->trusted = src->trusted;
	dst->start_beginning = src->start_beginning;
	if (source_strdup(&dst->name, src->name) < 0 ||
	    source_strdup(&dst->file, src->file) < 0 ||
	    source_strdup(&dst->program, src->program) < 0 ||
	    source_strdup(&dst->journal_dir, src->journal_dir) < 0 ||
	    source_strdup((char **)&dst->where, src->where) < 0 ||
	    source_list_copy(&dst->journal, &dst->njournal, src->journal, src->njournal) < 0 ||
	    source_list_copy(&dst->trusted_units, &dst->ntrusted_units, src->trusted_units,
			     src->ntrusted_units) < 0 ||
	    source_list_copy(&dst->trusted_users, &dst->ntrusted_users, src->trusted_users,
			     src->ntrusted_users) < 0) {
		source_conf_free(dst);
		return -1;
	}
	return 0;
}

static bool source_str_equal(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool source_list_equal(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

bool source_conf_equal(const struct source_conf *a, const struct source_conf *b)
{
	return source_str_equal(a->name, b->name) && source_str_equal(a->file, b->file) &&
	       source_str_equal(a->program, b->program) &&
	       source_str_equal(a->journal_dir, b->journal_dir) && a->trusted == b->trusted &&
	       a->start_beginning == b->start_beginning &&
	       source_list_equal(a->journal, a->njournal, b->journal, b->njournal) &&
	       source_list_equal(a->trusted_units, a->ntrusted_units, b->trusted_units,
				 b->ntrusted_units) &&
	       source_list_equal(a->trusted_users, a->ntrusted_users, b->trusted_users,
				 b->ntrusted_users);
}

struct source *source_open(sd_event *ev, const struct source_conf *c, size_t max_line,
			   const struct source_pos *start, source_fn *fn, void *ctx)
{
	struct source *s = calloc(1, sizeof(*s));
	int r;

	if (!s || source_conf_copy(&s->conf, c) < 0) {
		log_error("source %s: out of memory", c->name);
		free(s);
		return NULL;
	}
	s->kind = c->file ? SOURCE_FILE : SOURCE_JOURNAL;
	s->name_id = names_intern(c->name, strlen(c->name));
	parser_init(&s->parser, s->conf.program);
	s->max_line = max_line;
	s->fn = fn;
	s->ctx = ctx;
	s->ev = sd_event_ref(ev);
	if (start && (!start->valid || start->kind != s->kind))
		start = NULL;
	s->catchup = start != NULL;
	r = s->kind == SOURCE_FILE ? source_file_start(s, start) : source_journal_start(s, start);
	if (r < 0) {
		sd_event_unref(s->ev);
		source_conf_free(&s->conf);
		free(s);
		return NULL;
	}
	return s;
}

void source_close(struct source *s)
{
	if (!s)
		return;
	if (s->kind == SOURCE_FILE)
		source_file_stop(s);
	else
		source_journal_stop(s);
	sd_event_unref(s->ev);
	source_conf_free(&s->conf);
	free(s);
}

int source_position(struct source *s, struct source_pos *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = s->kind;
	return s->kind == SOURCE_FILE ? source_file_position(s, out)
				      : source_journal_position(s, out);
}

void source_poll(struct source *s)
{
	if (s->kind == SOURCE_FILE)
		source_file_poll(s);
	else
		source_journal_poll(s);
}
