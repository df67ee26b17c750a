/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linebuf.h"
#include "unit.h"

/* What the callback saw: "line\n" for a line, "<too long N>\n" for a skip. */
struct rec {
	char *text;
	size_t len, cap;
	unsigned lines, skips;
};

static void rec_add(struct rec *r, const char *p, size_t n)
{
	if (r->len + n + 1 > r->cap) {
		r->cap = (r->len + n + 1) * 2;
		r->text = realloc(r->text, r->cap);
		ck_assert_ptr_nonnull(r->text);
	}
	memcpy(r->text + r->len, p, n);
	r->len += n;
	r->text[r->len] = '\0';
}

static void rec_line(void *ctx, const char *line, size_t len, bool too_long)
{
	struct rec *r = ctx;

	if (too_long) {
		char buf[64];
		int n = snprintf(buf, sizeof(buf), "<too long %zu>\n", len);

		ck_assert_ptr_null(line);
		rec_add(r, buf, (size_t)n);
		r->skips++;
		return;
	}
	ck_assert_ptr_nonnull(line);
	/* a line never holds its newline, nor a trailing "\r" */
	ck_assert_ptr_null(memchr(line, '\n', len));
	rec_add(r, line, len);
	rec_add(r, "\n", 1);
	r->lines++;
}

static void rec_free(struct rec *r)
{
	free(r->text);
	memset(r, 0, sizeof(*r));
}

/* Feeds in as chunks cut at the given offsets (sorted), then finishes. */
static void feed_cuts(struct rec *r, size_t max, const char *in, size_t n,
		      const size_t *cuts, size_t ncuts)
{
	struct linebuf lb;
	size_t at = 0;

	memset(r, 0, sizeof(*r));
	rec_add(r, "", 0);
	linebuf_init(&lb, max);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : n;

		if (to > at)
			ck_assert_int_eq(linebuf_push(&lb, in + at, to - at, rec_line, r), 0);
		at = to;
	}
	linebuf_finish(&lb, rec_line, r);
	ck_assert_uint_eq(linebuf_pending(&lb), 0);
	linebuf_free(&lb);
}

/*
 * The lines must not depend on where the reads cut the stream: one chunk,
 * two chunks cut at every offset, three chunks, and one byte at a time all
 * give exactly expect.
 */
static void check_every_cut(size_t max, const char *in, size_t n, const char *expect)
{
	struct rec r;
	size_t *cuts = malloc((n + 1) * sizeof(*cuts));

	ck_assert_ptr_nonnull(cuts);
	feed_cuts(&r, max, in, n, NULL, 0);
	ck_assert_str_eq(r.text, expect);
	rec_free(&r);
	for (size_t i = 1; i < n; i++) {
		feed_cuts(&r, max, in, n, &i, 1);
		ck_assert_msg(strcmp(r.text, expect) == 0, "cut at %zu: got \"%s\"", i, r.text);
		rec_free(&r);
	}
	for (size_t i = 1; i + 1 < n && n < 200; i++) {
		for (size_t j = i + 1; j < n; j++) {
			size_t two[2] = { i, j };

			feed_cuts(&r, max, in, n, two, 2);
			ck_assert_msg(strcmp(r.text, expect) == 0, "cuts at %zu,%zu: got \"%s\"",
				      i, j, r.text);
			rec_free(&r);
		}
	}
	for (size_t i = 0; i < n; i++)
		cuts[i] = i + 1;
	feed_cuts(&r, max, in, n, cuts, n - 1);
	ck_assert_str_eq(r.text, expect);
	rec_free(&r);
	free(cuts);
}

#define CHECK(max, lit, expect) check_every_cut(max, lit, sizeof(lit) - 1, expect)

START_TEST(split_lines)
{
	CHECK(100, "alpha\nbeta\ngamma\n", "alpha\nbeta\ngamma\n");
	CHECK(100, "a\n\nb\n", "a\n\nb\n");
	CHECK(100, "\n\n", "\n\n");
}
END_TEST

START_TEST(crlf)
{
	CHECK(100, "alpha\r\nbeta\r\n", "alpha\nbeta\n");
	/* only the "\r" right before the newline goes */
	CHECK(100, "a\rb\r\n\r\n", "a\rb\n\n");
	CHECK(100, "x\r\r\n", "x\r\n");
}
END_TEST

START_TEST(final_line_without_newline)
{
	struct rec r;
	struct linebuf lb;

	CHECK(100, "one\ntwo", "one\ntwo\n");
	CHECK(100, "one\r\ntwo\r", "one\ntwo\n");
	CHECK(100, "only", "only\n");
	/* without linebuf_finish the unfinished line is held back, not handed out */
	memset(&r, 0, sizeof(r));
	rec_add(&r, "", 0);
	linebuf_init(&lb, 100);
	ck_assert_int_eq(linebuf_push(&lb, "one\ntwo", 7, rec_line, &r), 0);
	ck_assert_str_eq(r.text, "one\n");
	ck_assert_uint_eq(linebuf_pending(&lb), 3);
	linebuf_finish(&lb, rec_line, &r);
	ck_assert_str_eq(r.text, "one\ntwo\n");
	/* finish twice, or on nothing, adds nothing */
	linebuf_finish(&lb, rec_line, &r);
	ck_assert_str_eq(r.text, "one\ntwo\n");
	ck_assert_uint_eq(r.lines, 2);
	linebuf_free(&lb);
	rec_free(&r);
}
END_TEST

START_TEST(max_and_over)
{
	/* max 8: a line of 8 bytes passes whole, 9 is reported with its length */
	CHECK(8, "12345678\n", "12345678\n");
	CHECK(8, "12345678\r\n", "12345678\n");
	CHECK(8, "123456789\nok\n", "<too long 9>\nok\n");
	CHECK(8, "ok\n123456789\nok\n", "ok\n<too long 9>\nok\n");
	CHECK(8, "1234567890123456789012345\nok\n", "<too long 25>\nok\n");
	CHECK(8, "123456789", "<too long 9>\n");
	CHECK(8, "1234567890123", "<too long 13>\n");
	CHECK(8, "12345678", "12345678\n");
	CHECK(8, "a\n123456789012\nb\n1234567890\n", "a\n<too long 12>\nb\n<too long 10>\n");
}
END_TEST

START_TEST(max_and_over_crlf)
{
	/* a skipped line's length is its bytes before "\n", "\r" included,
	 * whatever the cuts (only a kept line loses its "\r") */
	CHECK(8, "123456789\r\nok\n", "<too long 10>\nok\n");
	CHECK(8, "123456789012\r\nok\r\n", "<too long 13>\nok\n");
	CHECK(8, "12345678\r\n123456789\r", "12345678\n<too long 10>\n");
}
END_TEST

START_TEST(many_lines_one_chunk)
{
	struct linebuf lb;
	struct rec r;
	char *in = malloc(10000 * 8), *expect = malloc(10000 * 8 + 1);
	size_t n = 0;

	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(expect);
	for (int i = 0; i < 10000; i++)
		n += (size_t)sprintf(in + n, "l%05d\n", i);
	memcpy(expect, in, n);
	expect[n] = '\0';
	memset(&r, 0, sizeof(r));
	rec_add(&r, "", 0);
	linebuf_init(&lb, 64);
	ck_assert_int_eq(linebuf_push(&lb, in, n, rec_line, &r), 0);
	ck_assert_uint_eq(r.lines, 10000);
	ck_assert_str_eq(r.text, expect);
	/* whole lines inside the chunk are not copied into the buffer */
	ck_assert_uint_eq(lb.len, 0);
	ck_assert_uint_eq(lb.cap, 0);
	linebuf_free(&lb);
	rec_free(&r);
	free(in);
	free(expect);
}
END_TEST

START_TEST(pending)
{
	struct linebuf lb;
	struct rec r;

	memset(&r, 0, sizeof(r));
	rec_add(&r, "", 0);
	linebuf_init(&lb, 8);
	ck_assert_uint_eq(linebuf_pending(&lb), 0);
	linebuf_push(&lb, "ab\ncd", 5, rec_line, &r);
	ck_assert_uint_eq(linebuf_pending(&lb), 2);
	linebuf_push(&lb, "e", 1, rec_line, &r);
	ck_assert_uint_eq(linebuf_pending(&lb), 3);
	linebuf_push(&lb, "\n", 1, rec_line, &r);
	ck_assert_uint_eq(linebuf_pending(&lb), 0);
	ck_assert_str_eq(r.text, "ab\ncde\n");
	/* an over-long line being skipped still counts every byte seen */
	linebuf_push(&lb, "1234567", 7, rec_line, &r);
	ck_assert_uint_eq(linebuf_pending(&lb), 7);
	linebuf_push(&lb, "89012", 5, rec_line, &r);
	ck_assert_uint_eq(linebuf_pending(&lb), 12);
	linebuf_push(&lb, "345", 3, rec_line, &r);
	ck_assert_uint_eq(linebuf_pending(&lb), 15);
	linebuf_push(&lb, "\nxy", 3, rec_line, &r);
	ck_assert_uint_eq(linebuf_pending(&lb), 2);
	ck_assert_str_eq(r.text, "ab\ncde\n<too long 15>\n");
	/* reset forgets the unfinished line */
	linebuf_reset(&lb);
	ck_assert_uint_eq(linebuf_pending(&lb), 0);
	linebuf_push(&lb, "z\n", 2, rec_line, &r);
	ck_assert_str_eq(r.text, "ab\ncde\n<too long 15>\nz\n");
	linebuf_push(&lb, "1234567890", 10, rec_line, &r);
	linebuf_reset(&lb);
	linebuf_push(&lb, "w\n", 2, rec_line, &r);
	ck_assert_str_eq(r.text, "ab\ncde\n<too long 15>\nz\nw\n");
	linebuf_free(&lb);
	rec_free(&r);
}
END_TEST

START_TEST(nul_bytes)
{
	struct linebuf lb;
	struct rec r;
	static const char in[] = "a\0b\nc\0\n";

	memset(&r, 0, sizeof(r));
	rec_add(&r, "", 0);
	linebuf_init(&lb, 8);
	linebuf_push(&lb, in, sizeof(in) - 1, rec_line, &r);
	ck_assert_uint_eq(r.lines, 2);
	ck_assert_uint_eq(r.len, 7);
	ck_assert_int_eq(memcmp(r.text, "a\0b\nc\0\n", 7), 0);
	linebuf_free(&lb);
	rec_free(&r);
}
END_TEST

/* Lines collected during a push, read after it returns: the one that was
 * completed from the held part too, while a new part is held. */
struct kept {
	const char *p[8];
	size_t len[8];
	unsigned n;
};

static void keep_line(void *ctx, const char *line, size_t len, bool too_long)
{
	struct kept *k = ctx;

	ck_assert(!too_long);
	ck_assert_uint_lt(k->n, 8);
	k->p[k->n] = line;
	k->len[k->n++] = len;
}

START_TEST(lines_outlive_the_push)
{
	static const char *const chunks[] = {
		"first li", "ne\nsecond\nthird, held", " until here\nfourth, held ",
		"too\nfifth", " and last\n",
	};
	static const char *const want[][2] = {
		{ NULL }, { "first line", "second" }, { "third, held until here" },
		{ "fourth, held too" }, { "fifth and last" },
	};
	struct linebuf lb;

	linebuf_init(&lb, 100);
	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		char *copy = strdup(chunks[c]);	/* the chunk stays while its lines are read */
		struct kept k = { .n = 0 };

		ck_assert_ptr_nonnull(copy);
		ck_assert_int_eq(linebuf_push(&lb, copy, strlen(copy), keep_line, &k), 0);
		for (unsigned i = 0; i < 2; i++) {
			if (!want[c][i]) {
				ck_assert_uint_eq(k.n, i);
				break;
			}
			ck_assert_uint_gt(k.n, i);
			ck_assert_uint_eq(k.len[i], strlen(want[c][i]));
			ck_assert(memcmp(k.p[i], want[c][i], k.len[i]) == 0);
		}
		free(copy);
	}
	linebuf_free(&lb);
}
END_TEST

static Suite *linebuf_suite(void)
{
	Suite *s = suite_create("linebuf");
	TCase *tc = tcase_create("core");

	/* max_and_over*, many_lines_one_chunk: every way of cutting the input,
	 * a second on a busy machine under ASan */
	tcase_set_timeout(tc, UNIT_HEAVY_TIMEOUT);
	tcase_add_test(tc, split_lines);
	tcase_add_test(tc, crlf);
	tcase_add_test(tc, final_line_without_newline);
	tcase_add_test(tc, max_and_over);
	tcase_add_test(tc, max_and_over_crlf);
	tcase_add_test(tc, many_lines_one_chunk);
	tcase_add_test(tc, pending);
	tcase_add_test(tc, nul_bytes);
	tcase_add_test(tc, lines_outlive_the_push);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(linebuf_suite)
