/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grow.h"
#include "linebuf.h"
#include "names.h"
#include "replay.h"

#define REPLAY_CHUNK (1u << 16)

/* The lines of one chunk, fed to the pipeline as one batch. */
struct replay_ctx {
	struct pipeline *pl;
	struct parser parser;
	struct pipeline_source from;
	uint64_t lineno;
	struct pipeline_line *batch;
	size_t n, cap;
};

/* Judges the lines collected so far. */
static void replay_feed(struct replay_ctx *rc)
{
	pipeline_feed(rc->pl, &rc->from, rc->batch, rc->n);
	rc->n = 0;
}

static void replay_line(void *ctx, const char *line, size_t len, bool too_long)
{
	struct replay_ctx *rc = ctx;
	struct pipeline_line *l;

	if (rc->n == rc->cap && grow(&rc->batch, &rc->cap, rc->n + 1, sizeof(*rc->batch), 256) < 0)
		replay_feed(rc);	/* no room: the lines so far go now */
	if (rc->n == rc->cap) {
		struct pipeline_line one = { too_long ? NULL : line, len, NULL, ++rc->lineno, 0 };

		pipeline_feed(rc->pl, &rc->from, &one, 1);	/* and this one alone */
		return;
	}
	l = &rc->batch[rc->n++];
	l->text = too_long ? NULL : line;
	l->len = len;
	l->entry = NULL;
	l->lineno = ++rc->lineno;
}

int replay_file(struct pipeline *pl, const char *path, const struct replay_opts *o,
		struct diag *d)
{
	struct replay_ctx rc = { .pl = pl };
	struct linebuf lb;
	char *buf;
	int fd, rv = 0;

	parser_init(&rc.parser, o->program);
	rc.parser.first_year = o->year;
	rc.from = (struct pipeline_source){
		.name = names_intern(path, strlen(path)), .parser = &rc.parser, .now = time(NULL),
		.clock = PIPELINE_LINE,
	};
	fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		diag_error(d, path, 0, "%s", strerror(errno));
		return -1;
	}
	buf = malloc(REPLAY_CHUNK);
	if (!buf) {
		diag_error(d, path, 0, "out of memory");
		if (fd != STDIN_FILENO)
			close(fd);
		return -1;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	linebuf_init(&lb, pl->cfg->max_line);
	for (;;) {
		ssize_t n = read(fd, buf, REPLAY_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			diag_error(d, path, 0, "%s", strerror(errno));
			rv = -1;
			break;
		}
		if (n == 0)
			break;
		if (linebuf_push(&lb, buf, (size_t)n, replay_line, &rc) < 0)
			diag_warn(d, path, 0, "out of memory: a line was skipped");
		replay_feed(&rc);	/* before buf is read into again */
	}
	linebuf_finish(&lb, replay_line, &rc);
	replay_feed(&rc);
	linebuf_free(&lb);
	free(rc.batch);
	free(buf);
	if (fd != STDIN_FILENO)
		close(fd);
	return rv;
}
