/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parser.h"
#include "unit.h"

/*
 * Check reports every assertion that passes to its runner, a write each:
 * the helpers below run hundreds of thousands of times, so they complain
 * only when something is wrong.
 */
#define QUIET_ASSERT(cond)                                                   \
	do {                                                                 \
		if (!(cond))                                                 \
			ck_abort_msg("Assertion '%s' failed", #cond);        \
	} while (0)

/* got must be want */
#define QUIET_STR_EQ(got, want)                                              \
	do {                                                                 \
		const char *got_ = (got), *want_ = (want);                   \
		if (strcmp(got_, want_) != 0)                                \
			ck_abort_msg("got \"%s\", want \"%s\"", got_, want_);  \
	} while (0)

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
	QUIET_ASSERT(r == 0);
	QUIET_ASSERT(gmtime_r(&l->time, &tm) != NULL);
	at = strftime(out, cap, "time=%Y-%m-%dT%H:%M:%SZ tag=", &tm);
	QUIET_ASSERT(at > 0);
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

	QUIET_ASSERT(copy != NULL);
	memcpy(copy, line, len);
	r = parser_parse(p, copy, len, now, l);
	if (r == 0) {
		/* the pointers stay inside the line, or at the program name */
		QUIET_ASSERT(l->msg >= copy && l->msg + l->msglen == copy + len);
		QUIET_ASSERT(l->taglen > 0);
		QUIET_ASSERT((l->tag >= copy && l->tag + l->taglen <= copy + len) ||
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
	time_t boot = 0;
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
			boot = 0;
			for (char *tok = strtok(opt, " "); tok; tok = strtok(NULL, " ")) {
				if (strncmp(tok, "program=", 8) == 0) {
					snprintf(prog, sizeof(prog), "%s", tok + 8);
					have_prog = true;
				} else if (strncmp(tok, "first_year=", 11) == 0) {
					first_year = atoi(tok + 11);
				} else if (strncmp(tok, "boot=", 5) == 0) {
					boot = parse_utc(tok + 5);
				} else {
					ck_abort_msg("%s:%d: unknown %%reset option %s", path, lineno, tok);
				}
			}
			parser_init(&p, have_prog ? prog : NULL);
			p.first_year = first_year;
			p.boot = boot;
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

/* The pid of a line as the parser gives it: its digits, or "-". */
static const char *pid_of(struct parser *p, const char *line)
{
	static char out[32];
	struct logline l;
	size_t n;

	if (parser_parse(p, line, strlen(line), 1795780800, &l) < 0)
		return "unparsed";
	if (!l.pid)
		return "-";
	n = strspn(l.pid, "0123456789");
	ck_assert_uint_lt(n, sizeof(out));
	ck_assert_int_eq(l.pid[n], ']');
	memcpy(out, l.pid, n);
	out[n] = '\0';
	return out;
}

/* The process a line names (syslog's "tag[pid]", else Exim's "[pid] "):
 * the judge's sessions (judge.h) are told apart by it. */
START_TEST(pids)
{
	struct parser p;

	parser_init(&p, NULL);
	ck_assert_str_eq(pid_of(&p, "Nov  7 06:44:16 mail postfix/smtpd[1234]: x"), "1234");
	/* the same head again: the fast path */
	ck_assert_str_eq(pid_of(&p, "Nov  7 06:44:17 mail postfix/smtpd[1235]: x"), "1235");
	ck_assert_str_eq(pid_of(&p, "Nov  7 06:44:18 mail postfix/smtpd[1235]: x"), "1235");
	ck_assert_str_eq(pid_of(&p, "Nov  7 06:44:19 mail kernel: x"), "-");
	/* Exim through syslog: syslog's pid, also where Exim repeats its own */
	ck_assert_str_eq(pid_of(&p, "Nov  7 06:44:20 mail exim[77]: 2026-11-07 06:44:20 [77] x"),
			 "77");
	parser_init(&p, "exim");
	ck_assert_str_eq(pid_of(&p, "2026-11-07 06:44:21.123 [3962] rejected EHLO from [x]"), "3962");
	ck_assert_str_eq(pid_of(&p, "2026-11-07 06:44:22 rejected EHLO from [x]"), "-");
}
END_TEST

/* Solaris syslogd's message id comes before the message and is not part
 * of it. */
START_TEST(solaris_id)
{
	static const char *const cases[][2] = {
		{ "Jun 17 14:37:39 mx sendmail[2794]: [ID 801593 mail.info] s5HEbdj1002794: from=<x>",
		  "time=2026-06-17T14:37:39Z tag=sendmail msg=s5HEbdj1002794: from=<x>" },
		/* not that shape: the text stays */
		{ "Jun 17 14:37:39 mx sendmail[2794]: [ID x mail.info] y",
		  "time=2026-06-17T14:37:39Z tag=sendmail msg=[ID x mail.info] y" },
		{ "Jun 17 14:37:39 mx sendmail[2794]: [ID 8]",
		  "time=2026-06-17T14:37:39Z tag=sendmail msg=[ID 8]" },
		{ "Jun 17 14:37:39 mx sendmail[2794]: [ID 8 mailinfo] y",
		  "time=2026-06-17T14:37:39Z tag=sendmail msg=[ID 8 mailinfo] y" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_str_eq(parse_one(NULL, cases[i][0], strlen(cases[i][0])), cases[i][1]);
}
END_TEST

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
	/* journalctl -o short-full and short-iso in this zone (journalctl 252) */
	ck_assert_str_eq(parse_tz(&p, "Sun 2026-12-06 18:53:51 CET mx1 postfix/smtpd[1234]: w"),
			 "time=2026-12-06T17:53:51Z tag=postfix/smtpd msg=w");
	ck_assert_str_eq(parse_tz(&p, "Fri 2026-07-17 06:44:16 CEST mx1 postfix/smtpd[1234]: s"),
			 "time=2026-07-17T04:44:16Z tag=postfix/smtpd msg=s");
	ck_assert_str_eq(parse_tz(&p, "2026-12-06T18:53:51+0100 mx1 postfix/smtpd[1234]: w"),
			 "time=2026-12-06T17:53:51Z tag=postfix/smtpd msg=w");
	ck_assert_str_eq(parse_tz(&p, "2026-07-17T06:44:16.123706+0200 mx1 postfix/smtpd[1234]: s"),
			 "time=2026-07-17T04:44:16Z tag=postfix/smtpd msg=s");
	/* the next tests read local time as UTC, forked or not */
	setenv("TZ", "UTC", 1);
	tzset();
}
END_TEST

/* --- what the parser remembers changes how fast, never what --- */

/* A deterministic sequence: the same cases on every run. */
static uint64_t rnd_state;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/*
 * Parses with warm (a parser that read earlier lines) and with a new
 * parser that knows only warm's previous time (the one state that decides
 * anything): both must answer alike. Returns warm's answer.
 */
static const char *warm_cold(struct parser *warm, const char *line, size_t len, time_t now)
{
	static char a[4096], b[4096];
	struct parser cold;
	struct logline l;

	parser_init(&cold, warm->program);
	cold.first_year = warm->first_year;
	cold.boot = warm->boot;
	cold.last = warm->last;
	describe(parse_exact(&cold, line, len, now, &l), &l, b, sizeof(b));
	describe(parse_exact(warm, line, len, now, &l), &l, a, sizeof(a));
	if (strcmp(a, b) != 0)
		ck_abort_msg("line \"%.*s\" (%zu bytes): warm %s, new %s", (int)len, line, len, a, b);
	return a;
}

/* Each line after its primer (a line of the same minute, zone and host,
 * or of the same classic stamp): every byte of its head changed, dropped
 * or doubled, and every cut. */
START_TEST(warm_like_cold)
{
	static const char *const pairs[][2] = {
		{ "2026-11-20T00:00:00.473925+00:00 mx1 postfix/anvil[1600]: statistics",
		  "2026-11-20T00:00:01.191785+00:00 mx1 postfix/smtpd[2027]: 9955BD1E995: client=x" },
		{ "2026-11-20T23:59:00+05:30 mail.example.org postfix/qmgr[7]: a",
		  "2026-11-20T23:59:59.5-05:30 mail.example.org postfix/submission/smtpd[12345]: b" },
		{ "2026-11-20T23:59:00Z mx1 sm-mta[7]: a",
		  "2026-11-20T23:59:58.123Z mx1 sm-mta[7]: s5HEbdj1002794: from=<x@example.org>" },
		{ "2026-11-20T23:59:00 mx1 sm-mta[7]: local",
		  "2026-11-20T23:59:01 mx1 sm-mta[8]: local too" },
		{ "2026-11-20T23:59:00.1+00:00 mx1 exim[7]: 2026-11-20 23:59:00 [7] a",
		  "2026-11-20T23:59:00.2+00:00 mx1 exim[7]: 2026-11-20 23:59:00.123 +0000 [7] b" },
		{ "2026-11-20T23:59:00.1+00:00 mx1 postfix/smtpd[1]: a",
		  "2026-11-20T23:59:00.2+00:00 <mail.info> mx1 postfix/smtpd[1]: with priority" },
		{ "Nov 20 00:00:01 mx1 postfix/smtpd[2027]: a",
		  "Nov 20 00:00:01 mx1 postfix/smtpd[2040]: connect from x[203.0.113.7]" },
		{ "Nov  7 06:44:16 mail postfix/smtpd[1]: a",
		  "Nov  7 06:44:16.123 mail postfix/cleanup[99]: b" },
		{ "Nov 7 06:44:16 mail postfix/smtpd[1]: a", "Nov 7 06:44:16 mail kernel: b" },
		{ "Dec 31 23:59:59 a-host-name-longer-than-32-bytes.example.org x[1]: a",
		  "Dec 31 23:59:59 a-host-name-longer-than-32-bytes.example.org x[1]: b" },
		/* the fast path's template: other seconds of the minute */
		{ "Nov 20 00:00:01 mx1 postfix/smtpd[2027]: a",
		  "Nov 20 00:00:59 mx1 postfix/smtpd[2040]: connect from x[203.0.113.7]" },
		{ "Nov  7 06:44:16.123 mail postfix/smtpd[1]: a",
		  "Nov  7 06:44:09.999 mail postfix/cleanup[4194304]: b" },
		{ "2026-11-20T00:00:00.473925+00:00 a-29-byte-host.example.org.x postfix/smtpd[1]: a",
		  "2026-11-20T00:00:47.191785+00:00 a-29-byte-host.example.org.x postfix/smtpd[2]: b" },
		{ "2026-11-20T00:00:00.123456789-03:00 mx1 exim[1]: a",
		  "2026-11-20T00:00:31.000000000-03:00 mx1 exim[12]: 2026-11-19 21:00:31 [12] b" },
		/* journalctl's short-iso, short-full, short-unix, short-monotonic */
		{ "2026-12-06T17:53:51+0000 mx1 postfix/smtpd[1234]: a",
		  "2026-12-06T17:53:59+0000 mx1 postfix/smtpd[1235]: b" },
		{ "2026-12-06T23:23:51.123706+0530 mx1 postfix/smtpd[1234]: a",
		  "2026-12-06T23:23:52.123956+0530 mx1 postfix/smtpd[1235]: b" },
		{ "Sun 2026-12-06 17:53:51 UTC mx1 postfix/smtpd[1234]: a",
		  "Sun 2026-12-06 17:53:58 UTC mx1 postfix/smtpd[1235]: b" },
		{ "Sun 2026-12-06 17:53:51 CET mx1 postfix/smtpd[1234]: a",
		  "Sun 2026-12-06 17:53:58 CET mx1 postfix/smtpd[1235]: b" },
		{ "Sun 2026-12-06 14:53:51 -03 mx1 postfix/smtpd[1234]: a",
		  "Sun 2026-12-06 14:53:58 -03 mx1 postfix/smtpd[1235]: b" },
		{ "1796579631.123706 mx1 postfix/smtpd[1234]: a",
		  "1796579639.123956 mx1 postfix/smtpd[1235]: b" },
		{ "[  184.457039] mx1 postfix/smtpd[1234]: a",
		  "[  245.457289 <   61.000250 >] mx1 postfix/smtpd[1235]: b" },
	};
	static const char bytes[] = "09/:;[]Z\\.,+-T <>a\x00\x80\xb0\xb9\xba\xdb\xff";
	static const char *const programs[] = { NULL, "exim" };
	char buf[256];

	for (size_t pr = 0; pr < sizeof(programs) / sizeof(programs[0]); pr++) {
		for (size_t k = 0; k < sizeof(pairs) / sizeof(pairs[0]); k++) {
			const char *line = pairs[k][1];
			size_t n = strlen(line), head = n < 72 ? n : 72;
			struct parser primed, w;
			struct logline l;

			parser_init(&primed, programs[pr]);
			primed.first_year = 2026;
			primed.boot = 1796579386;	/* 2026-12-06T17:49:46Z */
			QUIET_ASSERT(parse_exact(&primed, pairs[k][0], strlen(pairs[k][0]), 0, &l) == 0);
			/* the line itself, then every cut */
			for (size_t cut = 0; cut <= n; cut++) {
				w = primed;
				warm_cold(&w, line, cut, 1795780800);
			}
			for (size_t i = 0; i < head; i++) {
				for (size_t b = 0; b < sizeof(bytes) - 1; b++) {
					/* changed */
					memcpy(buf, line, n);
					buf[i] = bytes[b];
					w = primed;
					warm_cold(&w, buf, n, 1795780800);
					/* one more before it */
					memcpy(buf, line, i);
					buf[i] = bytes[b];
					memcpy(buf + i + 1, line + i, n - i);
					w = primed;
					warm_cold(&w, buf, n + 1, 1795780800);
				}
				/* dropped */
				memcpy(buf, line, i);
				memcpy(buf + i, line + i + 1, n - i - 1);
				w = primed;
				warm_cold(&w, buf, n - 1, 1795780800);
			}
		}
	}
}
END_TEST

enum stamp { STAMP_3339, STAMP_3164, STAMP_3164_ZERO, STAMP_WANT };

/* gmtime's fields of t as a stamp of that kind, or as describe() puts it */
static size_t put_stamp(char *out, size_t cap, time_t t, enum stamp kind)
{
	struct tm tm;

	QUIET_ASSERT(gmtime_r(&t, &tm) != NULL);
	switch (kind) {
	case STAMP_3339:
		return strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	case STAMP_3164:
		return strftime(out, cap, "%b %e %H:%M:%S", &tm);
	case STAMP_3164_ZERO:
		return strftime(out, cap, "%b %d %H:%M:%S", &tm);
	case STAMP_WANT:
		break;
	}
	return strftime(out, cap, "time=%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * A file's lines walking through minutes, hours, days, months, years and
 * a leap day, now and then in the same second, under several zones, with
 * fractions of every length: each time must be the one timegm() gives
 * for the stamp, less the zone.
 */
START_TEST(stamp_walk)
{
	static const struct {
		const char *text;
		long east;	/* seconds */
	} zones[] = {
		{ "Z", 0 }, { "+00:00", 0 }, { "+05:30", 19800 }, { "-08:00", -28800 },
		{ "+14:00", 50400 }, { "-00:01", -60 }, { "", 0 },	/* local: UTC here */
	};
	static const char *const starts[] = {
		"2026-12-31T23:50:00Z", "2028-02-28T23:50:00Z", "2026-11-30T23:50:00Z",
		"2026-06-30T22:50:00Z", "2099-12-31T23:55:00Z", "1970-01-01T00:00:00Z",
	};
	static const char *const hosts[] = { "mx1 ", "mail.example.org ", "", "m " };
	char line[256];

	rnd_state = 0x9E3779B97F4A7C15ULL;
	for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
		for (size_t k = 0; k < sizeof(starts) / sizeof(starts[0]); k++) {
			time_t t = parse_utc(starts[k]);
			struct parser p;
			const char *host = hosts[0];

			parser_init(&p, NULL);
			for (int i = 0; i < 600; i++) {
				char want[256];
				size_t n, fl = rnd() % 13;
				unsigned pid = (unsigned)(rnd() % 100000);

				t += (time_t)(rnd() % 5);	/* 0: the same second */
				if (rnd() % 64 == 0)
					host = hosts[rnd() % (sizeof(hosts) / sizeof(hosts[0]))];
				n = put_stamp(line, sizeof(line), t, STAMP_3339);
				if (fl) {
					line[n++] = rnd() % 2 ? '.' : ',';
					for (size_t d = 0; d < fl; d++)
						line[n++] = (char)('0' + rnd() % 10);
				}
				n += (size_t)snprintf(line + n, sizeof(line) - n, "%s %spostfix/smtpd[%u]: "
						      "line %d", zones[z].text, host, pid, i);
				put_stamp(want, sizeof(want), t - zones[z].east, STAMP_WANT);
				snprintf(want + strlen(want), sizeof(want) - strlen(want),
					 " tag=postfix/smtpd msg=line %d", i);
				QUIET_STR_EQ(warm_cold(&p, line, n, 0), want);
			}
		}
	}
}
END_TEST

/* The same with classic stamps, repeated as syslog repeats them: the year
 * follows the file. */
START_TEST(classic_walk)
{
	static const char *const starts[] = {
		"2026-12-31T23:50:00Z", "2028-02-28T23:50:00Z", "2026-11-30T23:50:00Z",
		"2026-06-30T22:50:00Z",
	};
	char line[256];

	rnd_state = 0x2545F4914F6CDD1DULL;
	for (size_t k = 0; k < sizeof(starts) / sizeof(starts[0]); k++) {
		time_t t = parse_utc(starts[k]);
		struct parser p;
		struct tm tm;

		QUIET_ASSERT(gmtime_r(&t, &tm) != NULL);
		parser_init(&p, NULL);
		p.first_year = tm.tm_year + 1900;
		for (int i = 0; i < 600; i++) {
			char want[256];
			size_t n;

			t += (time_t)(rnd() % 4);
			n = put_stamp(line, sizeof(line), t, rnd() % 2 ? STAMP_3164 : STAMP_3164_ZERO);
			if (rnd() % 8 == 0)
				n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03u",
						      (unsigned)(rnd() % 1000));
			n += (size_t)snprintf(line + n, sizeof(line) - n, " mx1 postfix/qmgr[%u]: line %d",
					      (unsigned)(rnd() % 100000), i);
			put_stamp(want, sizeof(want), t, STAMP_WANT);
			snprintf(want + strlen(want), sizeof(want) - strlen(want),
				 " tag=postfix/qmgr msg=line %d", i);
			QUIET_STR_EQ(warm_cold(&p, line, n, 0), want);
		}
	}
}
END_TEST

/*
 * The runs the parser finds a word or sixteen bytes at a time (the tag,
 * the pid, the fraction), at every length and every place of their end,
 * beside the bytes nearest the ones that end them (and those with the high
 * bit), compared with what reading one byte at a time finds.
 */
START_TEST(run_ends)
{
	/* no ' ', '[', ':' nor digit, but their neighbours */
	static const char tagbytes[] = "Z\\;!\x1f\x00\x80\xba\xdb\xa0\xb0\xb9/a-.";
	static const char stops[] = " :[";
	static const char notpid[] = "/:\x00\xb0\xb9[a";
	char line[256], tag[128], want[512];

	rnd_state = 0xD1B54A32D192ED03ULL;
	/* tags of every length behind hosts of several lengths */
	for (size_t hl = 1; hl <= 9; hl++) {
		for (size_t n = 1; n <= 70; n++) {
			struct parser p;
			size_t len;

			for (size_t i = 0; i < n; i++)
				tag[i] = tagbytes[rnd() % (sizeof(tagbytes) - 1)];
			len = (size_t)snprintf(line, sizeof(line), "Nov  7 06:44:16 %.*s ", (int)hl,
					       "mmmmmmmmm");
			memcpy(line + len, tag, n);
			len += n;
			len += (size_t)snprintf(line + len, sizeof(line) - len, "[42]: m");
			parser_init(&p, NULL);
			snprintf(want, sizeof(want), "time=2026-11-07T06:44:16Z tag=");
			put_escaped(want, sizeof(want), strlen(want), tag, n);
			snprintf(want + strlen(want), sizeof(want) - strlen(want), " msg=m");
			QUIET_STR_EQ(warm_cold(&p, line, len, 1795780800), want);
			/* and the same again, now that the host is known */
			QUIET_STR_EQ(warm_cold(&p, line, len, 1795780800), want);
			/* a stop at k ends the tag there */
			for (size_t k = 0; k < n; k++) {
				for (size_t c = 0; c < sizeof(stops) - 1; c++) {
					size_t at = len - n - 7 + k;	/* the tag's byte k */
					char saved = line[at];

					line[at] = stops[c];
					if (k == 0 || stops[c] != ':') {
						/* an empty tag, a space, or "[" without digits */
						snprintf(want, sizeof(want), "unparsed");
					} else {
						snprintf(want, sizeof(want), "time=2026-11-07T06:44:16Z tag=");
						put_escaped(want, sizeof(want), strlen(want), tag, k);
						snprintf(want + strlen(want), sizeof(want) - strlen(want), " msg=");
						put_escaped(want, sizeof(want), strlen(want), tag + k + 1,
							    n - k - 1);
						snprintf(want + strlen(want), sizeof(want) - strlen(want),
							 "[42]: m");
					}
					QUIET_STR_EQ(warm_cold(&p, line, len, 1795780800), want);
					line[at] = saved;
				}
			}
		}
	}
	/* pids of every length, ended by "]" or by anything else */
	for (size_t tl = 1; tl <= 17; tl++) {
		for (size_t n = 0; n <= 24; n++) {
			for (size_t e = 0; e < sizeof(notpid); e++) {
				struct parser p;
				size_t len = (size_t)snprintf(line, sizeof(line), "Nov  7 06:44:16 mail %.*s[",
							      (int)tl, "ttttttttttttttttt");

				for (size_t i = 0; i < n; i++)
					line[len++] = (char)('0' + rnd() % 10);
				/* the last round ends it with "]" */
				line[len++] = e < sizeof(notpid) - 1 ? notpid[e] : ']';
				len += (size_t)snprintf(line + len, sizeof(line) - len, ": m");
				if (n > 0 && e == sizeof(notpid) - 1)
					snprintf(want, sizeof(want), "time=2026-11-07T06:44:16Z tag=%.*s msg=m",
						 (int)tl, "ttttttttttttttttt");
				else
					snprintf(want, sizeof(want), "unparsed");
				parser_init(&p, NULL);
				QUIET_STR_EQ(warm_cold(&p, line, len, 1795780800), want);
				QUIET_STR_EQ(warm_cold(&p, line, len, 1795780800), want);
			}
		}
	}
	/* fractions of every length, of both kinds of stamp, ended by what
	 * may follow them or by anything else */
	for (int classic = 0; classic < 2; classic++) {
		struct parser primed;
		struct logline l;
		const char *primer = classic ? "Nov 20 00:00:01 mx1 t[1]: p" :
					       "2026-11-20T00:00:00.5+00:00 mx1 t[1]: p";

		parser_init(&primed, NULL);
		primed.first_year = 2026;
		QUIET_ASSERT(parse_exact(&primed, primer, strlen(primer), 0, &l) == 0);
		for (size_t n = 0; n <= 24; n++) {
			static const char *const after[] = {
				"+00:00 mx1 t[1]: m", "Z mx1 t[1]: m", " mx1 t[1]: m", "\xb0 mx1 t[1]: m",
				"/ mx1 t[1]: m", ": mx1 t[1]: m", "\x00 mx1 t[1]: m",
			};

			for (size_t e = 0; e < sizeof(after) / sizeof(after[0]); e++) {
				struct parser w = primed;
				size_t len = (size_t)snprintf(line, sizeof(line), "%s%c",
							      classic ? "Nov 20 00:00:01" :
									"2026-11-20T00:00:01",
							      n % 2 ? ',' : '.');
				bool ok;

				for (size_t i = 0; i < n; i++)
					line[len++] = (char)('0' + rnd() % 10);
				memcpy(line + len, after[e], e == 6 ? 14 : strlen(after[e]));
				len += e == 6 ? 14 : strlen(after[e]);
				/* no digits: the point is no fraction, and no zone */
				ok = n > 0 && (classic ? e == 2 : e <= 2);
				QUIET_STR_EQ(warm_cold(&w, line, len, 1795780800),
						 ok ? "time=2026-11-20T00:00:01Z tag=t msg=m" : "unparsed");
			}
		}
	}
}
END_TEST

/* "[<fac.lvl>] [host] tag[pid]: msg" read one byte at a time, as the
 * parser read it before it took words: the reference for envelope_oracle. */
static int ref_envelope(const char *s, const char *end, struct logline *out)
{
	const char *tok, *sp, *t;
	bool bracket = false;

	if (s < end && *s == '<') {
		const char *gt = memchr(s, '>', (size_t)(end - s));

		if (!gt || gt + 1 >= end || gt[1] != ' ')
			return -1;
		s = gt + 2;
	}
	tok = s;
	for (sp = tok; sp < end && *sp != ' '; sp++)
		bracket |= *sp == '[';
	if (!(bracket || (sp > tok && sp[-1] == ':'))) {
		if (sp == end)
			return -1;
		tok = sp + 1;
	}
	for (t = tok; t < end && *t != ' ' && *t != '[' && *t != ':'; t++)
		;
	if (t == tok || t == end)
		return -1;
	out->tag = tok;
	out->taglen = (size_t)(t - tok);
	if (*t == '[') {
		const char *q = t + 1;

		while (q < end && *q >= '0' && *q <= '9')
			q++;
		if (q == t + 1 || q == end || *q != ']')
			return -1;
		t = q + 1;
	}
	if (t == end || *t != ':')
		return -1;
	t++;
	if (t < end && *t == ' ')
		t++;
	out->msg = t;
	out->msglen = (size_t)(end - t);
	return 0;
}

/* n bytes, mostly of a word, now and then one that ends something */
static size_t put_word(char *out, size_t n, bool digits)
{
	static const char plain[] = "abmxZ/.-_\\;!0123456789\x1f\x80\xa0\xb0\xb9\xba\xdb\xff";
	static const char odd[] = " []:<>\x00";

	for (size_t i = 0; i < n; i++) {
		if (rnd() % 24 == 0)
			out[i] = odd[rnd() % (sizeof(odd) - 1)];
		else if (digits)
			out[i] = (char)('0' + rnd() % 10);
		else
			out[i] = plain[rnd() % (sizeof(plain) - 1)];
	}
	return n;
}

/*
 * Envelopes of every shape and length after stamps of both kinds, read
 * by one parser after the other as a file's lines are (so that what it
 * remembers is used), must be read as the byte-at-a-time reference reads
 * them.
 */
START_TEST(envelope_oracle)
{
	static const char *const stamps[] = {
		"Nov  7 06:44:16 ", "2026-11-07T06:44:16Z ", "2026-11-07T06:44:16.5+00:00 ",
		"Nov  7 06:44:16.250 ", "2026-11-07T06:44:16.250000+0000 ",
		"Sat 2026-11-07 06:44:16 UTC ", "1794033856.250000 ", "[ 1000.250000] ",
	};
	static const char *const hosts[] = { "mx1", "mail.example.org", "a", "h:x" };
	char line[512];
	int parsed = 0, refused = 0;

	rnd_state = 0xA0761D6478BD642FULL;
	for (size_t k = 0; k < sizeof(stamps) / sizeof(stamps[0]); k++) {
		struct parser p;

		parser_init(&p, NULL);
		p.first_year = 2026;
		p.boot = 1794033856 - 1000;	/* for "[ 1000.25]" */
		for (int i = 0; i < 40000; i++) {
			size_t hl = strlen(stamps[k]), n = hl;
			struct logline want;
			char ref[1024];
			int r;

			memcpy(line, stamps[k], hl);
			if (rnd() % 16 == 0)
				n += put_word(line + n, rnd() % 6, false);
			if (rnd() % 16 == 0) {
				line[n++] = '<';
				n += put_word(line + n, rnd() % 6, false);
				line[n++] = '>';
				line[n++] = ' ';
			}
			if (rnd() % 4) {	/* a host: mostly the same one */
				const char *h = hosts[rnd() % 8 < 5 ? 0 : rnd() % 4];

				memcpy(line + n, h, strlen(h));
				n += strlen(h);
				if (rnd() % 8 == 0)
					n += put_word(line + n, rnd() % 40, false);
				line[n++] = ' ';
			}
			n += put_word(line + n, rnd() % 48, false);		/* the tag */
			if (rnd() % 4) {
				line[n++] = '[';
				n += put_word(line + n, rnd() % 24, true);	/* the pid */
				line[n++] = ']';
			}
			if (rnd() % 8)
				line[n++] = ':';
			if (rnd() % 4)
				line[n++] = ' ';
			n += put_word(line + n, rnd() % 12, false);		/* the message */
			if (rnd() % 8 == 0)
				n = hl + rnd() % (n - hl + 1);			/* cut */
			memset(&want, 0, sizeof(want));
			r = ref_envelope(line + hl, line + n, &want);
			want.time = 1794033856;	/* 2026-11-07T06:44:16Z */
			describe(r, &want, ref, sizeof(ref));
			QUIET_STR_EQ(warm_cold(&p, line, n, 1795780800), ref);
			if (r == 0)
				parsed++;
			else
				refused++;
		}
	}
	/* both answers, often: the shapes are near the real ones */
	ck_assert_int_gt(parsed, 40000);
	ck_assert_int_gt(refused, 40000);
}
END_TEST

/*
 * The fast path's template (parser.c) is made from a line the long way
 * read, where its answer cannot depend on what the parser remembers; a
 * classic stamp's only while the previous time is within its minute and
 * parser_local() holds its hour. Here the template is made or refused as
 * it should be, and each line still reads as a new parser reads it. A
 * parser holds a template of line when the same line read again (with
 * more message), by a copy of it, takes the fast way (fast_lines counts
 * those).
 */
static bool has_template(const struct parser *p, const char *line)
{
	struct parser q = *p;
	struct logline l;
	char longer[256];	/* the fast way wants a few bytes after the pid */
	uint64_t before = q.fast_lines;
	int n = snprintf(longer, sizeof(longer), "%s and some more", line);

	ck_assert(n > 0 && (size_t)n < sizeof(longer));
	QUIET_ASSERT(parse_exact(&q, longer, (size_t)n, 0, &l) == 0);
	return q.fast_lines > before;
}

static const char *warm_line(struct parser *p, const char *line)
{
	return warm_cold(p, line, strlen(line), 0);
}

START_TEST(template)
{
	static const char *const made[] = {
		"2026-11-20T00:00:00.473925+00:00 mx1 postfix/anvil[1600]: statistics",
		"2026-11-20T00:00:00Z mx1 postfix/anvil[1600]: statistics",
		"Nov 20 00:00:01 mx1 postfix/smtpd[2027]: a",
		"Nov  2 00:00:01 mx1 postfix/smtpd[2027]: a",
		"Jan  1 00:00:01 mx1 postfix/smtpd[2027]: a",
		"2026-11-20T00:00:00.4+00:00 a-host-name-of-35-bytes.example.org postfix/smtpd[1]: a",
	};
	static const char *const refused[] = {
		"2026-11-20T00:00:00.473925 mx1 postfix/anvil[1600]: local time",
		"2026-11-20T00:00:00.473925+00:00 <mail.info> mx1 postfix/anvil[1600]: a",
		"2026-11-20T00:00:00.473925+00:00 postfix/anvil[1600]: no host",
		"2026-11-20T00:00:00.4+00:00 a-host-name-of-36-bytes.example.org1 postfix/smtpd[1]: a",
		"2026-11-20 00:00:00 mx1 postfix/anvil[1600]: SQL-style",
		"Dec 31 23:00:01 mx1 postfix/smtpd[2027]: the year's last day",
		"Nov 20 00:00:01 postfix/smtpd[2027]: no host",
	};
	struct parser p;
	struct logline l;

	for (size_t k = 0; k < sizeof(made) / sizeof(made[0]); k++) {
		parser_init(&p, NULL);
		p.first_year = 2026;
		QUIET_ASSERT(parse_exact(&p, made[k], strlen(made[k]), 0, &l) == 0);
		ck_assert_msg(has_template(&p, made[k]), "no template from \"%s\"", made[k]);
	}
	for (size_t k = 0; k < sizeof(refused) / sizeof(refused[0]); k++) {
		parser_init(&p, NULL);
		p.first_year = 2026;
		QUIET_ASSERT(parse_exact(&p, refused[k], strlen(refused[k]), 0, &l) == 0);
		ck_assert_msg(!has_template(&p, refused[k]), "a template from \"%s\"", refused[k]);
	}

	/* a classic minute elsewhere in time, or with another hour cached */
	parser_init(&p, NULL);
	p.first_year = 2026;
	ck_assert_str_eq(warm_line(&p, "Nov 20 10:00:01 mx1 x[1]: a message the fast path reads"),
			 "time=2026-11-20T10:00:01Z tag=x msg=a message the fast path reads");
	ck_assert(has_template(&p, "Nov 20 10:00:01 mx1 x[1]: a message the fast path reads"));
	ck_assert_str_eq(warm_line(&p, "Nov 20 10:00:02 mx1 x[1]: a message the fast path reads"),
			 "time=2026-11-20T10:00:02Z tag=x msg=a message the fast path reads");
	ck_assert_uint_eq(p.fast_lines, 1);
	p.last += 400 * 86400;	/* as if a line of next year had come between */
	ck_assert_str_eq(warm_line(&p, "Nov 20 10:00:03 mx1 x[1]: a message the fast path reads"),
			 "time=2027-11-20T10:00:03Z tag=x msg=a message the fast path reads");
	ck_assert_uint_eq(p.fast_lines, 1);
	/* Exim's own stamp of 11:00 leaves that hour cached, not the template's */
	parser_init(&p, NULL);
	p.first_year = 2026;
	ck_assert_str_eq(warm_line(&p, "Nov 20 10:00:01 mx1 exim[1]: 2026-11-20 11:00:00 a"),
			 "time=2026-11-20T10:00:01Z tag=exim msg=a");
	ck_assert_str_eq(warm_line(&p, "Nov 20 10:00:02 mx1 exim[1]: 2026-11-20 10:00:02 b"),
			 "time=2026-11-20T10:00:02Z tag=exim msg=b");
	ck_assert_uint_eq(p.fast_lines, 0);

	/* central Europe: the hours around a change of offset get none */
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	tzset();
	parser_init(&p, NULL);
	p.first_year = 2026;
	ck_assert_str_eq(warm_line(&p, "Oct 24 02:30:00 mx1 x[1]: a message the fast path reads"),
			 "time=2026-10-24T00:30:00Z tag=x msg=a message the fast path reads");
	ck_assert(!has_template(&p, "Oct 24 02:30:00 mx1 x[1]: a message the fast path reads"));
	ck_assert_str_eq(warm_line(&p, "Oct 21 02:30:00 mx1 x[1]: a message the fast path reads"),
			 "time=2026-10-21T00:30:00Z tag=x msg=a message the fast path reads");
	ck_assert(has_template(&p, "Oct 21 02:30:00 mx1 x[1]: a message the fast path reads"));
	ck_assert_str_eq(warm_line(&p, "Oct 21 02:30:59 mx1 x[1]: b message the fast path reads"),
			 "time=2026-10-21T00:30:59Z tag=x msg=b message the fast path reads");
	/* a line that fits no template makes one at the second in a row */
	ck_assert_str_eq(warm_line(&p, "Oct 28 02:30:00 mx1 x[1]: a message the fast path reads"),
			 "time=2026-10-28T01:30:00Z tag=x msg=a message the fast path reads");
	ck_assert(!has_template(&p, "Oct 28 02:30:00 mx1 x[1]: a message the fast path reads"));
	ck_assert_str_eq(warm_line(&p, "Oct 28 02:30:01 mx2 x[1]: b message the fast path reads"),
			 "time=2026-10-28T01:30:01Z tag=x msg=b message the fast path reads");
	ck_assert(has_template(&p, "Oct 28 02:30:01 mx2 x[1]: b message the fast path reads"));
	/* two hosts taking turns */
	for (int i = 0; i < 8; i++) {
		char line[128], want[128];

		snprintf(line, sizeof(line), "Oct 28 02:31:%02d mx%d x[1]: a message the fast path reads",
			 i, 1 + i % 2);
		snprintf(want, sizeof(want),
			 "time=2026-10-28T01:31:%02dZ tag=x msg=a message the fast path reads", i);
		ck_assert_str_eq(warm_line(&p, line), want);
	}
	setenv("TZ", "UTC", 1);
	tzset();
}
END_TEST

static Suite *parser_suite(void)
{
	Suite *s = suite_create("parser");
	TCase *tc = tcase_create("core");

	/* envelope_oracle, run_ends, warm_like_cold, stamp_walk: generated cases,
	 * seconds under ASan */
	tcase_set_timeout(tc, UNIT_HEAVY_TIMEOUT);
	tcase_add_test(tc, data_file);
	tcase_add_test(tc, empty);
	tcase_add_test(tc, brackets_64k);
	tcase_add_test(tc, tag_10k);
	tcase_add_test(tc, nul_everywhere);
	tcase_add_test(tc, every_prefix);
	tcase_add_test(tc, local_time_zone);
	tcase_add_test(tc, warm_like_cold);
	tcase_add_test(tc, stamp_walk);
	tcase_add_test(tc, classic_walk);
	tcase_add_test(tc, template);
	tcase_add_test(tc, run_ends);
	tcase_add_test(tc, envelope_oracle);
	tcase_add_test(tc, pids);
	tcase_add_test(tc, solaris_id);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(parser_suite)
