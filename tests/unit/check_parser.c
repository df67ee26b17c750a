/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parser.h"
#include "unit.h"

/* --- the result of one parse, as text --- */

/* Appends bytes with everything outside 0x20..0x7e (and "\") as \xHH. */
static size_t put_escaped(char *out, size_t cap, size_t at, const char *p, size_t n)
{
	for (size_t i = 0; i < n && at + 5 < cap; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\\')
			at += (size_t)snprintf(out + at, cap - at, "\\\\");
		else if (c < 0x20 || c > 0x7e)
			at += (size_t)snprintf(out + at, cap - at, "\\x%02x", c);
		else
			out[at++] = (char)c;
	}
	out[at] = '\0';
	return at;
}

/* "time=... tag=... msg=..." or "unparsed"; out must hold the message. */
static void describe(int r, const struct logline *l, char *out, size_t cap)
{
	struct tm tm;
	size_t at;

	if (r < 0) {
		snprintf(out, cap, "unparsed");
		return;
	}
	ck_assert_int_eq(r, 0);
	ck_assert_ptr_nonnull(gmtime_r(&l->time, &tm));
	at = strftime(out, cap, "time=%Y-%m-%dT%H:%M:%SZ tag=", &tm);
	ck_assert_uint_gt(at, 0);
	at = put_escaped(out, cap, at, l->tag, l->taglen);
	at += (size_t)snprintf(out + at, cap - at, " msg=");
	put_escaped(out, cap, at, l->msg, l->msglen);
}

/* Parses exactly len bytes from a buffer of exactly that size, so that
 * AddressSanitizer sees any read past the line. */
static int parse_exact(struct parser *p, const char *line, size_t len, time_t now,
		       struct logline *l)
{
	char *copy = malloc(len ? len : 1);
	int r;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, line, len);
	r = parser_parse(p, copy, len, now, l);
	if (r == 0) {
		/* the pointers stay inside the line, or at the program name */
		ck_assert(l->msg >= copy && l->msg + l->msglen == copy + len);
		ck_assert(l->taglen > 0);
		ck_assert((l->tag >= copy && l->tag + l->taglen <= copy + len) ||
			  l->tag == p->program);
		/* tests describe the result after the buffer is gone */
		if (l->tag != p->program)
			l->tag = line + (l->tag - copy);
		l->msg = line + (l->msg - copy);
	}
	free(copy);
	return r;
}

/* --- the data file --- */

static time_t parse_utc(const char *s)
{
	struct tm tm = { 0 };
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);

	ck_assert_msg(end && *end == '\0', "bad time in the data file: %s", s);
	return timegm(&tm);
}

/* \xHH and \\ to bytes, in place; returns the length. */
static size_t unescape(char *s)
{
	size_t o = 0;

	for (size_t i = 0; s[i]; i++) {
		if (s[i] == '\\' && s[i + 1] == '\\') {
			s[o++] = '\\';
			i++;
		} else if (s[i] == '\\' && s[i + 1] == 'x' && s[i + 2] && s[i + 3]) {
			char hex[3] = { s[i + 2], s[i + 3], 0 };
			char *end;
			long v = strtol(hex, &end, 16);

			ck_assert_msg(*end == '\0', "bad escape in the data file: %s", s + i);
			s[o++] = (char)v;
			i += 3;
		} else {
			s[o++] = s[i];
		}
	}
	s[o] = '\0';
	return o;
}

static char *chomp(char *s)
{
	size_t n = strlen(s);

	if (n && s[n - 1] == '\n')
		s[--n] = '\0';
	return s;
}

START_TEST(data_file)
{
	const char *path = UNIT_DATA("unit/parser_cases.txt");
	FILE *f = fopen(path, "r");
	static char line[1 << 16], want[1 << 16], got[1 << 18], prog[64];
	struct parser p;
	time_t now = 0;
	int lineno = 0, cases = 0, failures = 0, first_year = 0;
	bool have_prog = false;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	parser_init(&p, NULL);
	while (fgets(line, sizeof(line), f)) {
		struct logline l;
		size_t len;
		int r, at;

		lineno++;
		chomp(line);
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (strncmp(line, "%now ", 5) == 0) {
			now = parse_utc(line + 5);
			continue;
		}
		if (strncmp(line, "%reset", 6) == 0) {
			char *opt = line + 6;

			have_prog = false;
			first_year = 0;
			for (char *tok = strtok(opt, " "); tok; tok = strtok(NULL, " ")) {
				if (strncmp(tok, "program=", 8) == 0) {
					snprintf(prog, sizeof(prog), "%s", tok + 8);
					have_prog = true;
				} else if (strncmp(tok, "first_year=", 11) == 0) {
					first_year = atoi(tok + 11);
				} else {
					ck_abort_msg("%s:%d: unknown %%reset option %s", path, lineno, tok);
				}
			}
			parser_init(&p, have_prog ? prog : NULL);
			p.first_year = first_year;
			continue;
		}
		ck_assert_msg(line[0] != '%', "%s:%d: unknown directive", path, lineno);
		/* a case: input, expectation, blank line */
		at = lineno;
		ck_assert_msg(fgets(want, sizeof(want), f) != NULL, "%s:%d: no expectation", path, at);
		lineno++;
		chomp(want);
		{
			char blank[8];

			if (fgets(blank, sizeof(blank), f)) {
				lineno++;
				ck_assert_msg(strcmp(blank, "\n") == 0, "%s:%d: no blank line after the case",
					      path, lineno);
			}
		}
		ck_assert_msg(strcmp(want, "unparsed") == 0 || strncmp(want, "time=", 5) == 0,
			      "%s:%d: bad expectation", path, at + 1);
		len = unescape(line);
		r = parse_exact(&p, line, len, now, &l);
		/* describe() writes the escaped form the file uses */
		describe(r, &l, got, sizeof(got));
		if (strcmp(got, want) != 0) {
			fprintf(stderr, "%s:%d: got\n  %s\nwant\n  %s\n", path, at, got, want);
			failures++;
		}
		cases++;
	}
	fclose(f);
	ck_assert_int_eq(failures, 0);
	/* a reader that lost its way must not pass with few cases */
	ck_assert_int_ge(cases, 130);
}
END_TEST

/* --- hostile lines too big for the data file --- */

static const char *parse_one(const char *program, const char *line, size_t len)
{
	static char out[1 << 20];
	struct parser p;
	struct logline l;
	int r;

	parser_init(&p, program);
	r = parse_exact(&p, line, len, 1795780800 /* 2026-11-27T12:00:00Z */, &l);
	describe(r, &l, out, sizeof(out));
	return out;
}

START_TEST(empty)
{
	ck_assert_str_eq(parse_one(NULL, "", 0), "unparsed");
	ck_assert_str_eq(parse_one("exim", "", 0), "time=2026-11-27T12:00:00Z tag=exim msg=");
}
END_TEST

START_TEST(brackets_64k)
{
	size_t n = 64 * 1024, hdr;
	char *s = malloc(n + 64);
	const char *r;

	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < n; i++)
		s[i] = "a[a["[i % 4];
	ck_assert_str_eq(parse_one(NULL, s, n), "unparsed");
	r = parse_one("exim", s, n);
	ck_assert_uint_eq(strlen(r), strlen("time=2026-11-27T12:00:00Z tag=exim msg=") + n);
	ck_assert_int_eq(strncmp(r, "time=2026-11-27T12:00:00Z tag=exim msg=a[a[a[", 45), 0);
	/* behind a valid stamp and host: "a[a[..." is the tag, with no pid */
	hdr = (size_t)sprintf(s, "Nov  7 06:44:16 mail ");
	for (size_t i = hdr; i < n; i++)
		s[i] = "a[a["[(i - hdr) % 4];
	ck_assert_str_eq(parse_one(NULL, s, n), "unparsed");
	/* and as a message after a good tag it is kept whole */
	hdr = (size_t)sprintf(s, "Nov  7 06:44:16 mail postfix/smtpd[1]: ");
	for (size_t i = hdr; i < n; i++)
		s[i] = "a[a["[(i - hdr) % 4];
	r = parse_one(NULL, s, n);
	ck_assert_uint_eq(strlen(r), strlen("time=2026-11-07T06:44:16Z tag=postfix/smtpd msg=") +
			  n - hdr);
	free(s);
}
END_TEST

START_TEST(tag_10k)
{
	size_t taglen = 10 * 1024, n;
	char *s = malloc(taglen + 64), *want = malloc(taglen + 128);
	size_t hdr = (size_t)sprintf(s, "Nov  7 06:44:16 mail ");

	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(want);
	memset(s + hdr, 't', taglen);
	n = hdr + taglen + (size_t)sprintf(s + hdr + taglen, "[42]: hello");
	sprintf(want, "time=2026-11-07T06:44:16Z tag=");
	memset(want + strlen(want), 't', taglen);
	sprintf(want + strlen("time=2026-11-07T06:44:16Z tag=") + taglen, " msg=hello");
	ck_assert_str_eq(parse_one(NULL, s, n), want);
	/* without host */
	memmove(s + 16, s + hdr, n - hdr);
	n -= hdr - 16;
	ck_assert_str_eq(parse_one(NULL, s, n), want);
	free(s);
	free(want);
}
END_TEST

START_TEST(nul_everywhere)
{
	static const char line[] = "Nov  7 06:44:16 mail postfix/smtpd[1]: x";
	const char *ok = "time=2026-11-07T06:44:16Z tag=postfix/smtpd msg=x";
	char buf[sizeof(line)], want[128];

	/* a NUL at every position: parsed or refused as the bytes say, never a
	 * crash or a read beyond the line (the buffer is exactly the line) */
	for (size_t i = 0; i < sizeof(line) - 1; i++) {
		memcpy(buf, line, sizeof(line) - 1);
		buf[i] = '\0';
		if (i < 16 || (i >= 35 && i <= 37))	/* stamp, pid, "]:" */
			snprintf(want, sizeof(want), "unparsed");
		else if (i < 20)			/* the host: not looked at */
			snprintf(want, sizeof(want), "%s", ok);
		else if (i == 20)			/* no host: it is the tag */
			snprintf(want, sizeof(want), "time=2026-11-07T06:44:16Z "
				 "tag=mail\\x00postfix/smtpd msg=x");
		else if (i < 34)			/* inside the tag */
			snprintf(want, sizeof(want), "time=2026-11-07T06:44:16Z tag=%.*s\\x00%s msg=x",
				 (int)(i - 21), "postfix/smtpd", "postfix/smtpd" + (i - 20));
		else if (i == 34)			/* "[" gone: "1]" joins the tag */
			snprintf(want, sizeof(want), "time=2026-11-07T06:44:16Z "
				 "tag=postfix/smtpd\\x001] msg=x");
		else if (i == 38)
			snprintf(want, sizeof(want), "time=2026-11-07T06:44:16Z "
				 "tag=postfix/smtpd msg=\\x00x");
		else
			snprintf(want, sizeof(want), "time=2026-11-07T06:44:16Z "
				 "tag=postfix/smtpd msg=\\x00");
		ck_assert_msg(strcmp(parse_one(NULL, buf, sizeof(line) - 1), want) == 0,
			      "NUL at %zu: got %s, want %s", i, parse_one(NULL, buf, sizeof(line) - 1),
			      want);
	}
}
END_TEST

START_TEST(every_prefix)
{
	static const char *lines[] = {
		"Nov  7 06:44:16 <mail.info> mail postfix/smtpd[1234]: connect",
		"2026-11-27T06:44:16.123456+00:00 mail postfix/smtpd[1234]: connect",
		"2026-11-27 06:44:16.123 +0100 [1234] 1akDqs-0005aQ-9b msg",
		"Fri Nov 27 06:44:16 2026 -> Message",
		"Nov  7 06:44:16 mail exim[1]: 2026-11-27 06:44:16.123 -0100 [1] msg",
	};

	/* a line cut anywhere (a truncated write) is parsed or refused, and
	 * never read past its end */
	for (size_t k = 0; k < sizeof(lines) / sizeof(lines[0]); k++) {
		size_t n = strlen(lines[k]);

		for (size_t cut = 0; cut <= n; cut++) {
			const char *r1 = parse_one(NULL, lines[k], cut);

			ck_assert(strcmp(r1, "unparsed") == 0 || strncmp(r1, "time=", 5) == 0);
			r1 = parse_one("exim", lines[k], cut);
			ck_assert_msg(strncmp(r1, "time=", 5) == 0, "%s", r1);
		}
	}
}
END_TEST

static const char *parse_tz(struct parser *p, const char *line)
{
	static char out[256];
	struct logline l;

	describe(parse_exact(p, line, strlen(line), 0, &l), &l, out, sizeof(out));
	return out;
}

START_TEST(local_time_zone)
{
	struct parser p;

	/* central Europe, as a POSIX rule (no tzdata needed) */
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	tzset();
	parser_init(&p, "exim");
	ck_assert_str_eq(parse_tz(&p, "2026-11-27 06:44:16 winter"),
			 "time=2026-11-27T05:44:16Z tag=exim msg=winter");
	ck_assert_str_eq(parse_tz(&p, "2026-07-17 06:44:16 summer"),
			 "time=2026-07-17T04:44:16Z tag=exim msg=summer");
	ck_assert_str_eq(parse_tz(&p, "2026-07-17 06:44:16 +0000 zoned"),
			 "time=2026-07-17T06:44:16Z tag=exim msg=zoned");
	ck_assert_str_eq(parse_tz(&p, "Jul 17 06:59:59 mail sm-mta[1]: classic"),
			 "time=2026-07-17T04:59:59Z tag=sm-mta msg=classic");
	ck_assert_str_eq(parse_tz(&p, "2026-07-17T06:44:16Z mail sm-mta[1]: utc"),
			 "time=2026-07-17T06:44:16Z tag=sm-mta msg=utc");
	ck_assert_str_eq(parse_tz(&p, "2026-07-17T06:44:16 mail sm-mta[1]: local"),
			 "time=2026-07-17T04:44:16Z tag=sm-mta msg=local");
	/* the same local hour on another day is not the cached one */
	ck_assert_str_eq(parse_tz(&p, "2026-11-17 06:00:00 cache"),
			 "time=2026-11-17T05:00:00Z tag=exim msg=cache");
	ck_assert_str_eq(parse_tz(&p, "2026-07-17 06:00:00 cache"),
			 "time=2026-07-17T04:00:00Z tag=exim msg=cache");
	ck_assert_str_eq(parse_tz(&p, "Fri Nov 27 06:44:16 2026 -> clamav"),
			 "time=2026-11-27T05:44:16Z tag=exim msg=clamav");
}
END_TEST

static Suite *parser_suite(void)
{
	Suite *s = suite_create("parser");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, data_file);
	tcase_add_test(tc, empty);
	tcase_add_test(tc, brackets_64k);
	tcase_add_test(tc, tag_10k);
	tcase_add_test(tc, nul_everywhere);
	tcase_add_test(tc, every_prefix);
	tcase_add_test(tc, local_time_zone);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(parser_suite)
