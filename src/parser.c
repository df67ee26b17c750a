/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hand-written, because it runs on every line: no regex, no sscanf, no
 * allocation, no system call but the mktime() of a new local hour.
 *
 * Recognised envelopes:
 *   Nov  7 06:44:16 [<fac.lvl>] host tag[pid]: msg        RFC 3164
 *   2026-11-27T06:44:16.123456+00:00 host tag[pid]: msg    RFC 3339
 *   2026-11-27 06:44:16[.frac] host tag[pid]: msg          SQL-style date
 *   2026-11-27 06:44:16[.mmm][ +hhmm] [[pid]] msg          Exim/rspamd files
 *   Fri Nov 27 06:44:16 2026 -> msg                        clamav-milter file
 * The last two carry no tag: the source's program supplies it. A source
 * with a program also takes lines with no header at all. The SQL-style
 * date (syslog-ng or rsyslog templates) is Exim's own stamp too, so it is
 * taken as a syslog header only when a "tag[pid]:" follows.
 */
#include <string.h>
#include <time.h>

#include "parser.h"

#define DAY (24 * 3600L)

void parser_init(struct parser *p, const char *program)
{
	memset(p, 0, sizeof(*p));
	p->program = program;
	p->programlen = program ? strlen(program) : 0;
	p->cache_key = -1;
}

static int parser_digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int parser_month(const char *s)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

	for (int i = 0; i < 12; i++)
		if (memcmp(s, names + 3 * i, 3) == 0)
			return i;
	return -1;
}

static bool parser_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool parser_valid(int y, int mon, int day, int h, int m, int s)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (y < 1970 || y > 9999 || mon < 0 || mon > 11 || day < 1 || day > mdays[mon] ||
	    h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 60)
		return false;
	return !(mon == 1 && day == 29 && !parser_leap(y));
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static long parser_days(int y, int mon, int day)
{
	long yy = y - (mon < 2);
	long era = (yy >= 0 ? yy : yy - 399) / 400;
	long yoe = yy - era * 400;
	long mp = (mon + 10) % 12;	/* mon is 0-based: March is 0 */
	long doy = (153 * mp + 2) / 5 + day - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

static time_t parser_utc(int y, int mon, int day, int h, int m, int s)
{
	return (time_t)(parser_days(y, mon, day) * DAY + h * 3600L + m * 60L + s);
}

/* Local time, through a one-hour cache: lines arrive in order. */
static time_t parser_local(struct parser *p, int y, int mon, int day, int h, int m, int s)
{
	/* hours since 1970: below 88 million up to 9999, so it fits an int */
	int key = (int)(parser_days(y, mon, day) * 24 + h);

	if (key != p->cache_key) {
		struct tm tm = {
			.tm_year = y - 1900, .tm_mon = mon, .tm_mday = day,
			.tm_hour = h, .tm_isdst = -1,
		};

		p->cache_hour = mktime(&tm);
		p->cache_key = key;
	}
	return p->cache_hour + m * 60 + s;
}

static int parser_year_of(time_t t)
{
	struct tm tm;

	return localtime_r(&t, &tm) ? tm.tm_year + 1900 : 1970;
}

/* A classic timestamp has no year: take the one nearest the reference. */
static time_t parser_classic_time(struct parser *p, int mon, int day, int h, int m, int s,
				  time_t now)
{
	time_t ref = p->last ? p->last : now, t;
	int y;

	if (!p->last && p->first_year) {
		y = p->first_year;
		if (!parser_valid(y, mon, day, h, m, s))
			return -1;
		return parser_local(p, y, mon, day, h, m, s);
	}
	y = parser_year_of(ref);
	if (!parser_valid(y, mon, day, h, m, s) && !parser_valid(++y, mon, day, h, m, s))
		return -1;	/* Feb 29: the next leap year is too far to be right */
	t = parser_local(p, y, mon, day, h, m, s);
	if (t - ref > 183 * DAY && parser_valid(y - 1, mon, day, h, m, s))
		t = parser_local(p, y - 1, mon, day, h, m, s);
	else if (ref - t > 183 * DAY && parser_valid(y + 1, mon, day, h, m, s))
		t = parser_local(p, y + 1, mon, day, h, m, s);
	return t;
}

/* "HH:MM:SS" at s; -1 if not. */
static int parser_hms(const char *s, int *h, int *m, int *sec)
{
	if (s[2] != ':' || s[5] != ':')
		return -1;
	*h = parser_digits(s, 2);
	*m = parser_digits(s + 3, 2);
	*sec = parser_digits(s + 6, 2);
	return (*h < 0 || *m < 0 || *sec < 0) ? -1 : 0;
}

/* "YYYY-MM-DD?HH:MM:SS" with sep at [10]; fills the fields. */
static int parser_ymdhms(const char *s, size_t len, char sep, int *y, int *mon, int *day,
			 int *h, int *m, int *sec)
{
	if (len < 19 || s[4] != '-' || s[7] != '-' || s[10] != sep)
		return -1;
	*y = parser_digits(s, 4);
	*mon = parser_digits(s + 5, 2) - 1;
	*day = parser_digits(s + 8, 2);
	if (*y < 0 || *mon < 0 || *day < 0 || parser_hms(s + 11, h, m, sec) < 0)
		return -1;
	return parser_valid(*y, *mon, *day, *h, *m, *sec) ? 0 : -1;
}

/*
 * Word-at-a-time scanning: the envelope's runs (host, tag, pid, fraction)
 * are found eight bytes per step instead of one, as long as eight bytes
 * are left; the last few go byte by byte, so nothing past the line is read.
 */
#define PARSER_EACH(c) (0x0101010101010101ULL * (uint8_t)(c))

/* The 8 bytes at s, the first one lowest on any host: the first match in
 * the text is then the lowest flagged byte. Compilers make this one load. */
static inline uint64_t parser_word(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	return (uint64_t)u[0] | (uint64_t)u[1] << 8 | (uint64_t)u[2] << 16 |
	       (uint64_t)u[3] << 24 | (uint64_t)u[4] << 32 | (uint64_t)u[5] << 40 |
	       (uint64_t)u[6] << 48 | (uint64_t)u[7] << 56;
}

/* 0x80 in the bytes of x equal to c. A byte above a flagged one may be
 * flagged wrongly (the borrow runs upward), one below never: the lowest
 * flag is exact, and the scanners look at no other. */
static inline uint64_t parser_eq(uint64_t x, uint8_t c)
{
	uint64_t y = x ^ PARSER_EACH(c);

	return (y - PARSER_EACH(1)) & ~y & PARSER_EACH(0x80);
}

/* 0x80 in the bytes of x that are not '0'-'9'; exact (no carry crosses
 * a byte: at most 0x7f + 0x76). */
static inline uint64_t parser_nondigit(uint64_t x)
{
	uint64_t y = x ^ PARSER_EACH('0');	/* the digits become 0-9 */

	return (((y & PARSER_EACH(0x7f)) + PARSER_EACH(0x76)) | y) & PARSER_EACH(0x80);
}

static inline const char *parser_flagged(const char *s, uint64_t m)
{
	return s + (__builtin_ctzll(m) >> 3);
}

/* The end of the run of digits at s. */
static const char *parser_digits_end(const char *s, const char *end)
{
	for (; end - s >= 8; s += 8) {
		uint64_t m = parser_nondigit(parser_word(s));

		if (m)
			return parser_flagged(s, m);
	}
	while (s < end && *s >= '0' && *s <= '9')
		s++;
	return s;
}

/* The first ' ' or '[' at or after s, or end. */
static const char *parser_word_end(const char *s, const char *end)
{
	for (; end - s >= 8; s += 8) {
		uint64_t x = parser_word(s), m = parser_eq(x, ' ') | parser_eq(x, '[');

		if (m)
			return parser_flagged(s, m);
	}
	while (s < end && *s != ' ' && *s != '[')
		s++;
	return s;
}

/* The first ' ', '[' or ':' at or after s, or end. */
static const char *parser_tag_end(const char *s, const char *end)
{
	for (; end - s >= 8; s += 8) {
		uint64_t x = parser_word(s);
		uint64_t m = parser_eq(x, ' ') | parser_eq(x, '[') | parser_eq(x, ':');

		if (m)
			return parser_flagged(s, m);
	}
	while (s < end && *s != ' ' && *s != '[' && *s != ':')
		s++;
	return s;
}

static size_t parser_skip_fraction(const char *s, size_t i, size_t len)
{
	if (i < len && (s[i] == '.' || s[i] == ',')) {
		size_t j = (size_t)(parser_digits_end(s + i + 1, s + len) - s);

		if (j > i + 1)
			return j;
	}
	return i;
}

/*
 * "tag[pid]: msg" at s. Tags are runs of anything but space, '[' and ':'
 * (Postfix's have slashes). Returns the message start, or NULL.
 */
static const char *parser_tag(const char *s, const char *end, struct logline *out)
{
	const char *t = parser_tag_end(s, end);

	if (t == s || t == end)
		return NULL;
	out->tag = s;
	out->taglen = (size_t)(t - s);
	if (*t == '[') {
		const char *q = parser_digits_end(t + 1, end);

		if (q == t + 1 || q == end || *q != ']')
			return NULL;
		t = q + 1;
	}
	if (t == end || *t != ':')
		return NULL;
	t++;
	if (t < end && *t == ' ')
		t++;
	return t;
}

/* After a syslog timestamp: [<fac.lvl>] [host] tag[pid]: msg */
static int parser_after_stamp(const char *s, const char *end, struct logline *out)
{
	const char *tok, *sp, *msg;

	if (s < end && *s == '<') {
		const char *gt = memchr(s, '>', (size_t)(end - s));

		if (!gt || gt + 1 >= end || gt[1] != ' ')
			return -1;
		s = gt + 2;
	}
	tok = s;
	sp = parser_word_end(tok, end);
	/* A host name never holds '[' nor ends in ':': then there is no host. */
	if (!(sp < end && *sp == '[') && !(sp > tok && sp[-1] == ':')) {
		if (sp == end)
			return -1;
		tok = sp + 1;
	}
	msg = parser_tag(tok, end, out);
	if (!msg)
		return -1;
	out->msg = msg;
	out->msglen = (size_t)(end - msg);
	return 0;
}

/* Exim's own stamp: "YYYY-MM-DD HH:MM:SS[.mmm][ +hhmm] [[pid] ]". Returns
 * the length of the prefix and the time, or 0. */
static size_t parser_exim_stamp(struct parser *p, const char *s, size_t len, time_t *t)
{
	int y, mon, day, h, m, sec;
	size_t i;

	if (parser_ymdhms(s, len, ' ', &y, &mon, &day, &h, &m, &sec) < 0)
		return 0;
	i = parser_skip_fraction(s, 19, len);
	if (i + 6 <= len && s[i] == ' ' && (s[i + 1] == '+' || s[i + 1] == '-') &&
	    parser_digits(s + i + 2, 4) >= 0 && (i + 6 == len || s[i + 6] == ' ')) {
		int off = parser_digits(s + i + 2, 2) * 3600 + parser_digits(s + i + 4, 2) * 60;

		*t = parser_utc(y, mon, day, h, m, sec) - (s[i + 1] == '+' ? off : -off);
		i += 6;
	} else {
		*t = parser_local(p, y, mon, day, h, m, sec);
	}
	if (i < len && s[i] == ' ')
		i++;
	if (i < len && s[i] == '[') {
		size_t j = i + 1;

		while (j < len && s[j] >= '0' && s[j] <= '9')
			j++;
		if (j > i + 1 && j < len && s[j] == ']') {
			i = j + 1;
			if (i < len && s[i] == ' ')
				i++;
		}
	}
	return i;
}

/* Exim's "[pid] " prefix alone; its length or 0. */
static size_t parser_exim_pid(const char *s, size_t len)
{
	size_t j = 1;

	if (len < 4 || s[0] != '[')
		return 0;
	while (j < len && s[j] >= '0' && s[j] <= '9')
		j++;
	if (j == 1 || j + 1 >= len || s[j] != ']' || s[j + 1] != ' ')
		return 0;
	return j + 2;
}

static int parser_rfc3164(struct parser *p, const char *s, size_t len, time_t now,
			  struct logline *out)
{
	int mon, day, h = 0, m = 0, sec = 0;
	size_t i, klen;
	bool hit;

	if (len < 16 || s[3] != ' ' || (mon = parser_month(s)) < 0)
		return -1;
	if (s[4] == ' ' && s[5] >= '1' && s[5] <= '9' && s[6] == ' ') {
		day = s[5] - '0';
		i = 7;
	} else if (s[5] != ' ' && (day = parser_digits(s + 4, 2)) >= 0 && s[6] == ' ') {
		i = 7;
	} else if (s[4] >= '1' && s[4] <= '9' && s[5] == ' ') {
		day = s[4] - '0';
		i = 6;
	} else {
		return -1;
	}
	if (len < i + 9)
		return -1;
	/* The same stamp as the line before, whose time is the reference:
	 * the nearest year is that line's, and so is the time. */
	klen = i + 8;
	hit = p->last && p->last == p->stamp3164_time && p->stamp3164_len == klen &&
	      memcmp(s, p->stamp3164, klen) == 0;
	if (!hit && parser_hms(s + i, &h, &m, &sec) < 0)
		return -1;
	i = parser_skip_fraction(s, klen, len);
	if (i >= len || s[i] != ' ')
		return -1;
	if (hit) {
		out->time = p->stamp3164_time;
	} else {
		out->time = parser_classic_time(p, mon, day, h, m, sec, now);
		if (out->time == (time_t)-1)
			return -1;
		memcpy(p->stamp3164, s, klen);
		p->stamp3164_len = (uint8_t)klen;
		p->stamp3164_time = out->time;
	}
	return parser_after_stamp(s + i + 1, s + len, out);
}

/* "YYYY-MM-DDTHH:MM:SS" at s, through the one-stamp cache: fills f (year,
 * month, day, hour, minute, second) and *utc (the fields read as UTC). */
static int parser_stamp3339(struct parser *p, const char *s, size_t len, int f[6], time_t *utc)
{
	if (!(p->stamp3339_ok && len >= 19 && memcmp(s, p->stamp3339, 19) == 0)) {
		int v[6];

		if (parser_ymdhms(s, len, 'T', &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) < 0)
			return -1;
		memcpy(p->stamp3339, s, 19);
		memcpy(p->stamp3339_f, v, sizeof(v));
		p->stamp3339_utc = parser_utc(v[0], v[1], v[2], v[3], v[4], v[5]);
		p->stamp3339_ok = true;
	}
	memcpy(f, p->stamp3339_f, sizeof(p->stamp3339_f));
	*utc = p->stamp3339_utc;
	return 0;
}

static int parser_rfc3339(struct parser *p, const char *s, size_t len, struct logline *out)
{
	int f[6];
	time_t utc;
	size_t i;

	if (parser_stamp3339(p, s, len, f, &utc) < 0)
		return -1;
	i = parser_skip_fraction(s, 19, len);
	if (i < len && s[i] == 'Z') {
		out->time = utc;
		i++;
	} else if (i + 6 <= len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':' &&
		   parser_digits(s + i + 1, 2) >= 0 && parser_digits(s + i + 4, 2) >= 0) {
		int off = parser_digits(s + i + 1, 2) * 3600 + parser_digits(s + i + 4, 2) * 60;

		out->time = utc - (s[i] == '+' ? off : -off);
		i += 6;
	} else {
		out->time = parser_local(p, f[0], f[1], f[2], f[3], f[4], f[5]);
	}
	if (i >= len || s[i] != ' ')
		return -1;
	return parser_after_stamp(s + i + 1, s + len, out);
}

/* "2026-11-27 06:44:16[.frac] [host] tag[pid]: msg". Without the [pid]
 * this is one of Exim's own lines ("... 1vXyZa-0001Ab-Cd SA: Action: ..."),
 * whose first words must not be taken for a host and a tag. */
static int parser_isospace(struct parser *p, const char *s, size_t len, struct logline *out)
{
	int y, mon, day, h, m, sec;
	size_t i;

	if (parser_ymdhms(s, len, ' ', &y, &mon, &day, &h, &m, &sec) < 0)
		return -1;
	i = parser_skip_fraction(s, 19, len);
	if (i >= len || s[i] != ' ' || parser_after_stamp(s + i + 1, s + len, out) < 0 ||
	    out->tag[out->taglen] != '[')
		return -1;
	out->time = parser_local(p, y, mon, day, h, m, sec);
	return 0;
}

/* clamav-milter: "Fri Nov 27 06:44:16 2026 -> msg" */
static int parser_ctime(struct parser *p, const char *s, size_t len, struct logline *out)
{
	int mon, day, h, m, sec, y;

	if (len < 28 || s[3] != ' ' || s[7] != ' ' || (mon = parser_month(s + 4)) < 0)
		return -1;
	day = s[8] == ' ' ? parser_digits(s + 9, 1) : parser_digits(s + 8, 2);
	if (day < 0 || s[10] != ' ' || parser_hms(s + 11, &h, &m, &sec) < 0 || s[19] != ' ' ||
	    (y = parser_digits(s + 20, 4)) < 0 || memcmp(s + 24, " -> ", 4) != 0 ||
	    !parser_valid(y, mon, day, h, m, sec))
		return -1;
	out->time = parser_local(p, y, mon, day, h, m, sec);
	out->msg = s + 28;
	out->msglen = len - 28;
	return 0;
}

static int parser_headerless(struct parser *p, const char *s, size_t len, time_t now,
			     struct logline *out)
{
	size_t n;

	if (!p->program)
		return -1;
	out->tag = p->program;
	out->taglen = p->programlen;
	n = parser_exim_stamp(p, s, len, &out->time);
	if (n == 0 && parser_ctime(p, s, len, out) == 0)
		return 0;
	if (n == 0)
		out->time = p->last ? p->last : now;
	out->msg = s + n;
	out->msglen = len - n;
	return 0;
}

int parser_parse(struct parser *p, const char *line, size_t len, time_t now,
		 struct logline *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (len > 0 && line[0] >= '0' && line[0] <= '9' && len > 10 && line[10] == 'T')
		r = parser_rfc3339(p, line, len, out);
	else if (len > 0 && line[0] >= '0' && line[0] <= '9' && len > 10 && line[10] == ' ')
		r = parser_isospace(p, line, len, out);
	else
		r = parser_rfc3164(p, line, len, now, out);
	if (r < 0) {
		memset(out, 0, sizeof(*out));
		r = parser_headerless(p, line, len, now, out);
	} else if (out->taglen >= 4 && memcmp(out->tag, "exim", 4) == 0) {
		/* Exim through syslog repeats its own stamp after the tag, and
		 * with +pid its "[pid] " even when the stamp is off. */
		time_t t;
		size_t n = parser_exim_stamp(p, out->msg, out->msglen, &t);

		if (n == 0)
			n = parser_exim_pid(out->msg, out->msglen);
		out->msg += n;
		out->msglen -= n;
	}
	if (r == 0)
		p->last = out->time;
	return r;
}
