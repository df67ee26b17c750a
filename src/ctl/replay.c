/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linebuf.h"
#include "names.h"
#include "replay.h"

#define REPLAY_CHUNK (1u << 16)

struct replay_ctx {
	struct pipeline *pl;
	struct parser parser;
	uint32_t source;
	uint64_t lineno;
	time_t now;
};

static void replay_line(void *ctx, const char *line, size_t len, bool too_long)
{
	struct replay_ctx *rc = ctx;

	rc->lineno++;
	if (too_long)
		pipeline_skip(rc->pl);
	else
		pipeline_feed_text(rc->pl, &rc->parser, rc->source, rc->lineno, line, len, rc->now,
				   PIPELINE_LINE);
}

int replay_file(struct pipeline *pl, const char *path, const struct replay_opts *o,
		struct diag *d)
{
	struct replay_ctx rc = { .pl = pl, .now = time(NULL) };
	struct linebuf lb;
	struct stat st;
	uint64_t done = 0, total = 0;
	char *buf;
	int fd, rv = 0;

	rc.source = names_intern(path, strlen(path));
	parser_init(&rc.parser, o->program);
	rc.parser.first_year = o->year;
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
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		total = (uint64_t)st.st_size;
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
		pipeline_flush(pl);
		done += (uint64_t)n;
		if (o->progress)
			o->progress(o->progress_arg, done, total, rc.lineno);
	}
	linebuf_finish(&lb, replay_line, &rc);
	pipeline_flush(pl);
	linebuf_free(&lb);
	free(buf);
	if (fd != STDIN_FILENO)
		close(fd);
	return rv;
}
