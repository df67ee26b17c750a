/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "linebuf.h"

void linebuf_init(struct linebuf *lb, size_t max)
{
	memset(lb, 0, sizeof(*lb));
	lb->max = max;
}

void linebuf_free(struct linebuf *lb)
{
	free(lb->buf);
	free(lb->done);
	memset(lb, 0, sizeof(*lb));
}

void linebuf_reset(struct linebuf *lb)
{
	lb->len = 0;
	lb->skipped = 0;
	lb->skipping = false;
}

size_t linebuf_pending(const struct linebuf *lb)
{
	return lb->skipping ? lb->skipped : lb->len;
}

static inline void linebuf_emit(const char *line, size_t len, linebuf_fn *fn, void *ctx, size_t max)
{
	size_t n = len;

	if (n > 0 && line[n - 1] == '\r')
		n--;
	/* A skipped line's length counts its "\r", as when it spans chunks
	 * (its bytes are gone by then): the same line, the same report. */
	if (n > max)
		fn(ctx, NULL, len, true);
	else
		fn(ctx, line, n, false);
}

/* The line just handed out from buf stays where it is; the next
 * unfinished line goes to the other buffer. */
static void linebuf_swap(struct linebuf *lb)
{
	char *b = lb->buf;
	size_t cap = lb->cap;

	lb->buf = lb->done;
	lb->cap = lb->donecap;
	lb->done = b;
	lb->donecap = cap;
}

static int linebuf_hold(struct linebuf *lb, const char *p, size_t n)
{
	if (lb->skipping || lb->len + n > lb->max + 1) {
		/* over max (one byte kept for a "\r"): count it, keep nothing */
		if (!lb->skipping) {
			lb->skipped = lb->len;
			lb->len = 0;
			lb->skipping = true;
		}
		lb->skipped += n;
		return 0;
	}
	if (grow(&lb->buf, &lb->cap, lb->len + n, 1, 256) < 0) {
		lb->skipped = lb->len + n;
		lb->len = 0;
		lb->skipping = true;
		return -1;
	}
	memcpy(lb->buf + lb->len, p, n);
	lb->len += n;
	return 0;
}

int linebuf_push(struct linebuf *lb, const char *data, size_t n, linebuf_fn *fn, void *ctx)
{
	const char *p = data, *end = data + n;
	int rc = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t k;

		if (!nl)
			return linebuf_hold(lb, p, (size_t)(end - p));
		k = (size_t)(nl - p);
		if (lb->skipping) {
			fn(ctx, NULL, lb->skipped + k, true);
			lb->skipping = false;
			lb->skipped = 0;
		} else if (lb->len) {
			if (linebuf_hold(lb, p, k) < 0)
				rc = -1;
			if (lb->skipping) {
				fn(ctx, NULL, lb->skipped, true);
				lb->skipping = false;
				lb->skipped = 0;
			} else {
				linebuf_emit(lb->buf, lb->len, fn, ctx, lb->max);
				linebuf_swap(lb);
			}
			lb->len = 0;
		} else {
			linebuf_emit(p, k, fn, ctx, lb->max);
		}
		p = nl + 1;
	}
	return rc;
}

void linebuf_finish(struct linebuf *lb, linebuf_fn *fn, void *ctx)
{
	if (lb->skipping)
		fn(ctx, NULL, lb->skipped, true);
	else if (lb->len)
		linebuf_emit(lb->buf, lb->len, fn, ctx, lb->max);
	linebuf_reset(lb);
}
