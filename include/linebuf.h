/* SPDX-License-Identifier: GPL-2.0-or-later */
/* linebuf: owns cutting a byte stream into lines, holding back the unfinished last one.
 * Whole lines inside a chunk are handed out in place; only a line split across chunks is copied.
 * It must never hand out part of a line: a line over max is reported as skipped, never cut. */
#ifndef SPAMWRATH_LINEBUF_H
#define SPAMWRATH_LINEBUF_H

#include <stdbool.h>
#include <stddef.h>

/* A complete line without its "\n" (and "\r"), or, with too_long, the
 * length of a line that was skipped (line is then NULL). A line stays
 * readable until the next call of linebuf_push, linebuf_finish or
 * linebuf_reset (one inside a chunk, while the chunk does), so a caller
 * may collect a chunk's lines and use them after linebuf_push returns. */
typedef void linebuf_fn(void *ctx, const char *line, size_t len, bool too_long);

struct linebuf {
	char *buf;		/* the unfinished line, when it fits */
	size_t len, cap;
	char *done;		/* the last line completed in buf, kept readable */
	size_t donecap;
	size_t max;
	size_t skipped;		/* bytes of an over-long line seen so far */
	bool skipping;
};

void linebuf_init(struct linebuf *lb, size_t max);
void linebuf_free(struct linebuf *lb);

/* Feeds n bytes. -1 only when out of memory (the partial line is lost and
 * counted as skipped). */
int linebuf_push(struct linebuf *lb, const char *data, size_t n, linebuf_fn *fn, void *ctx);

/* End of input: a last line without "\n" is still a line. */
void linebuf_finish(struct linebuf *lb, linebuf_fn *fn, void *ctx);

/* Bytes held back (an unfinished line): a reader's position minus these is
 * where the next line starts. */
size_t linebuf_pending(const struct linebuf *lb);

/* Forgets the unfinished line (the file was truncated or replaced). */
void linebuf_reset(struct linebuf *lb);

#endif
