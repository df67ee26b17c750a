/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "positions.h"

struct positions_entry {
	char *name;
	struct source_pos pos;
};

static void positions_forget(struct positions *ps, const char *name)
{
	for (size_t i = 0; i < ps->n; i++) {
		if (strcmp(ps->v[i].name, name) == 0) {
			free(ps->v[i].name);
			source_pos_free(&ps->v[i].pos);
			ps->v[i] = ps->v[--ps->n];
			return;
		}
	}
}

/* Keeps pos (whose cursor it then owns) as source name's: the state holds
 * every position it recorded, and the last one counts. */
static void positions_add(struct positions *ps, const char *name, struct source_pos pos)
{
	struct positions_entry *v;
	char *copy;

	positions_forget(ps, name);
	v = realloc(ps->v, (ps->n + 1) * sizeof(*v));
	if (v)
		ps->v = v;
	copy = strdup(name);
	if (!v || !copy) {
		free(copy);
		source_pos_free(&pos);
		log_error("state: out of memory keeping the position of source %s", name);
		return;
	}
	v[ps->n++] = (struct positions_entry){ copy, pos };
}

void positions_file(void *ctx, const struct state_file_pos *p)
{
	positions_add(ctx, p->source, (struct source_pos){
		.kind = SOURCE_FILE, .valid = true, .dev = (uint64_t)p->dev,
		.ino = (uint64_t)p->ino, .offset = p->offset, .head_hash = p->head,
	});
}

void positions_journal(void *ctx, const char *source, const char *cursor)
{
	char *cur = strdup(cursor);

	if (!cur) {
		log_error("state: out of memory keeping the position of source %s", source);
		return;
	}
	positions_add(ctx, source, (struct source_pos){
		.kind = SOURCE_JOURNAL, .valid = true, .cursor = cur,
	});
}

bool positions_take(struct positions *ps, const char *name, struct source_pos *out)
{
	for (size_t k = 0; k < ps->n; k++) {
		if (strcmp(ps->v[k].name, name) == 0) {
			*out = ps->v[k].pos;
			memset(&ps->v[k].pos, 0, sizeof(*out));
			return true;
		}
	}
	return false;
}

void positions_free(struct positions *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		free(ps->v[i].name);
		source_pos_free(&ps->v[i].pos);
	}
	free(ps->v);
	ps->v = NULL;
	ps->n = 0;
}

void positions_save(struct state *st, struct source **src, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct source *s = src[i];
		struct source_pos p;

		if (s->lines == s->saved_lines || source_position(s, &p) < 0 || !p.valid)
			continue;
		if (p.kind == SOURCE_FILE) {
			struct state_file_pos fp = {
				s->conf.name, (dev_t)p.dev, (ino_t)p.ino, p.offset, p.head_hash,
			};

			state_file_pos(st, &fp);
		} else if (p.cursor) {
			state_journal_pos(st, s->conf.name, p.cursor);
		}
		s->saved_lines = s->lines;
		source_pos_free(&p);
	}
}
