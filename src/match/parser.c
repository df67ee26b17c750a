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
 * and what journalctl's short output modes write before "host tag[pid]: ":
 *   Nov 27 06:44:16[.123456]                   short, short-precise (RFC 3164)
 *   2026-11-27T06:44:16[.123456]+0000          short-iso[-precise] (RFC 3339)
 *   Fri 2026-11-27 06:44:16 UTC                short-full
 *   1795675456.123456                          short-unix
 *   [ 1234.567890] or [ 1234.567890 <0.1>]     short-monotonic, short-delta:
 *                                              seconds since this machine's boot
 * The last two carry no tag: the source's program supplies it. A source
 * with a program also takes lines with no header at all. The SQL-style
 * date (syslog-ng or rsyslog templates) is Exim's own stamp too, so it is
 * taken as a syslog header only when a "tag[pid]:" follows.
 */
#include <string.h>
#include <time.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "parser.h"

#define DAY (24 * 3600L)

void parser_init(struct parser *p, const char *program)
{
	memset(p, 0, sizeof(*p));
	p->program = program;
	p->programlen = program ? strlen(program) : 0;
	p->cache_key = -1;
	p->tpl_need = SIZE_MAX;
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

static bool parser_weekday(const char *s)
{
	static const char names[] = "MonTueWedThuFriSatSun";

	for (int i = 0; i < 7; i++)
		if (memcmp(s, names + 3 * i, 3) == 0)
			return true;
	return false;
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
 * the text is then the lowest flagged byte. */
static inline uint64_t parser_word(const char *s)
{
	uint64_t x;

	memcpy(&x, s, sizeof(x));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	x = __builtin_bswap64(x);
#endif
	return x;
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

/* The end of the run of digits at s, a word a step: the rest of a run
 * longer than parser_digits_end() looks at itself. */
static const char *parser_digits_more(const char *s, const char *end)
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

/* The end of the run of digits at s: a pid or a fraction fits a word. */
static inline const char *parser_digits_end(const char *s, const char *end)
{
	if (end - s >= 8) {
		uint64_t m = parser_nondigit(parser_word(s));

		if (m)
			return parser_flagged(s, m);
		s += 8;
	}
	return parser_digits_more(s, end);
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

/* The first ' ', '[' or ':' in the whole words (sixteen bytes with
 * SSE2, eight without) from *at on, or NULL with *at at the bytes left. */
static inline const char *parser_tag_end_words(const char **at, const char *end)
{
	const char *s = *at;
#ifdef __SSE2__
	/* Tags are long ("postfix/submission/smtpd"): sixteen bytes a step
	 * where the CPU has them, and every x86-64 has. */
	const __m128i sp = _mm_set1_epi8(' '), lb = _mm_set1_epi8('['), co = _mm_set1_epi8(':');

	for (; end - s >= 16; s += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
		__m128i eq = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, sp), _mm_cmpeq_epi8(x, lb)),
					  _mm_cmpeq_epi8(x, co));
		unsigned m = (unsigned)_mm_movemask_epi8(eq);

		if (m)
			return s + __builtin_ctz(m);
	}
#else
	for (; end - s >= 8; s += 8) {
		uint64_t x = parser_word(s);
		uint64_t m = parser_eq(x, ' ') | parser_eq(x, '[') | parser_eq(x, ':');

		if (m)
			return parser_flagged(s, m);
	}
#endif
	*at = s;
	return NULL;
}

/* The first ' ', '[' or ':' at or after s, or end. */
static inline const char *parser_tag_end(const char *s, const char *end)
{
	const char *t = parser_tag_end_words(&s, end);

	if (t)
		return t;
	while (s < end && *s != ' ' && *s != '[' && *s != ':')
		s++;
	return s;
}

/* The first n bytes of a word (n <= 8). */
static inline uint64_t parser_mask(size_t n)
{
	return n >= 8 ? ~0ULL : (1ULL << (8 * n)) - 1;
}

/* Whether the n bytes at a (1 <= n <= 32, at least 8 readable) are b's. */
static inline bool parser_same(const char *a, const char *b, size_t n)
{
	if (n <= 8)
		return ((parser_word(a) ^ parser_word(b)) & parser_mask(n)) == 0;
	for (size_t i = 0; i + 8 < n; i += 8)
		if (parser_word(a + i) != parser_word(b + i))
			return false;
	return parser_word(a + n - 8) == parser_word(b + n - 8);
}

/* The end of a fraction of a second (".123", ",5") at q, or q. */
static inline const char *parser_fraction_end(const char *q, const char *end)
{
	if (q < end && (*q == '.' || *q == ',')) {
		const char *d = parser_digits_end(q + 1, end);

		if (d > q + 1)
			return d;
	}
	return q;
}

static size_t parser_skip_fraction(const char *s, size_t i, size_t len)
{
	return (size_t)(parser_fraction_end(s + i, s + len) - s);
}

/*
 * Where the tag starts: after the host word at s and its space, or at s
 * when the first word holds '[' or ends in ':' (a host name never does).
 * NULL when the line ends inside the host: no tag. A host with its space
 * is remembered: the decision read no byte past that space, so a line
 * with the same bytes there gets the same answer.
 */
static const char *parser_host(struct parser *p, const char *s, const char *end)
{
	size_t n = p->hostlen;
	const char *sp;

	if (n && end - s >= (ptrdiff_t)(n > 8 ? n : 8) && parser_same(s, p->host, n))
		return s + n;
	sp = parser_word_end(s, end);
	if ((sp < end && *sp == '[') || (sp > s && sp[-1] == ':'))
		return s;
	if (sp == end)
		return NULL;
	if ((size_t)(sp - s) < sizeof(p->host)) {
		memset(p->host, 0, sizeof(p->host));
		memcpy(p->host, s, (size_t)(sp - s) + 1);
		p->hostlen = (uint8_t)(sp - s + 1);
	}
	return sp + 1;
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

/*
 * What the long way learnt of a line's head, for the fast path's template
 * (parser_template()): where the host and tag start, where the seconds
 * and the fraction's digits are. host is NULL when the line gives no
 * template: no host, a "<fac.lvl>", a stamp in local time.
 */
struct parser_shape {
	const char *host;
	const char *tag;
	size_t sec;		/* the two digits of the seconds */
	size_t frac, fracend;	/* the fraction's digits, frac >= fracend: none */
	bool classic;		/* RFC 3164: a local time and a guessed year */
	int mon, day;
};

/* After a syslog timestamp: [<fac.lvl>] [host] tag[pid]: msg */
static int parser_after_stamp(struct parser *p, const char *s, const char *end,
			      struct logline *out, struct parser_shape *sh)
{
	const char *tag, *msg;

	if (s < end && *s == '<') {
		const char *gt = memchr(s, '>', (size_t)(end - s));

		sh = NULL;
		if (!gt || gt + 1 >= end || gt[1] != ' ')
			return -1;
		s = gt + 2;
	}
	tag = parser_host(p, s, end);
	if (!tag)
		return -1;
	msg = parser_tag(tag, end, out);
	if (!msg)
		return -1;
	out->msg = msg;
	out->msglen = (size_t)(end - msg);
	if (sh && tag != s) {
		sh->host = s;
		sh->tag = tag;
	}
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
	/* an offset is at most 23:59 (RFC 3339's hours and minutes): any
	 * other would move the time by days, so the text stays message */
	if (i + 6 <= len && s[i] == ' ' && (s[i + 1] == '+' || s[i + 1] == '-') &&
	    parser_digits(s + i + 2, 4) >= 0 && parser_digits(s + i + 2, 2) <= 23 &&
	    parser_digits(s + i + 4, 2) <= 59 && (i + 6 == len || s[i + 6] == ' ')) {
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
			  struct logline *out, struct parser_shape *sh)
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
	*sh = (struct parser_shape){
		.sec = klen - 2, .frac = klen + 1, .fracend = i, .classic = true,
		.mon = mon, .day = day,
	};
	return parser_after_stamp(p, s + i + 1, s + len, out, sh);
}

static inline int parser_2digits(const char *s)
{
	unsigned a = (unsigned char)s[0] - '0', b = (unsigned char)s[1] - '0';

	return a < 10 && b < 10 ? (int)(a * 10 + b) : -1;
}

/* "YYYY-MM-DDTHH:MM" at s (16 bytes there) into the minute cache. */
static int parser_minute3339(struct parser *p, const char *s)
{
	int y, mon, day, h, m;

	if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':')
		return -1;
	y = parser_digits(s, 4);
	mon = parser_2digits(s + 5) - 1;
	day = parser_2digits(s + 8);
	h = parser_2digits(s + 11);
	m = parser_2digits(s + 14);
	/* the second is checked apart: 0-60 on any valid minute */
	if (y < 0 || mon < 0 || day < 0 || h < 0 || m < 0 || !parser_valid(y, mon, day, h, m, 0))
		return -1;
	memcpy(p->min3339, s, sizeof(p->min3339));
	p->min3339_f[0] = y;
	p->min3339_f[1] = mon;
	p->min3339_f[2] = day;
	p->min3339_f[3] = h;
	p->min3339_f[4] = m;
	p->min3339_utc = parser_utc(y, mon, day, h, m, 0);
	p->min3339_ok = true;
	return 0;
}

/*
 * A zone offset at q: "+hh:mm" (RFC 3339), "+hhmm" (strftime's %z, as
 * journalctl -o short-iso writes it) and, when hours_alone, "+hh" (%Z of
 * a zone without a name). At most 23:59: any other would move the time
 * by days. Its length, or 0; *off is seconds east of UTC.
 */
static size_t parser_offset(const char *q, const char *end, bool hours_alone, int *off)
{
	int hh, mm = 0;
	size_t n = 3;

	if (end - q < 3 || (*q != '+' && *q != '-') || (hh = parser_2digits(q + 1)) < 0 || hh > 23)
		return 0;
	if (end - q >= 6 && q[3] == ':')
		n = 6;
	else if (end - q >= 5 && q[3] >= '0' && q[3] <= '9')
		n = 5;
	else if (!hours_alone)
		return 0;
	if (n > 3 && ((mm = parser_2digits(q + n - 2)) < 0 || mm > 59))
		return 0;
	*off = (*q == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
	return n;
}

/* After an RFC 3339 stamp's seconds and fraction, at q: "Z", "+hh:mm",
 * "-hh:mm", "+hhmm", "-hhmm" or nothing (local time), then a space. A zone
 * with its space is remembered: lines of a file share it. */
static int parser_zone3339(struct parser *p, const char *q, const char *end, time_t utc,
			   int sec, struct logline *out, struct parser_shape *sh)
{
	int off = 0;
	size_t n = 0;

	if (q < end && *q == 'Z') {
		out->time = utc;
		n = 1;
	} else if ((n = parser_offset(q, end, false, &off)) > 0) {
		out->time = utc - off;
	} else {
		const int *f = p->min3339_f;

		out->time = parser_local(p, f[0], f[1], f[2], f[3], f[4], sec);
	}
	if (q + n >= end || q[n] != ' ')
		return -1;
	if (n && end - q >= 8) {
		p->zone3339 = parser_word(q) & parser_mask(n + 1);
		p->zone3339_mask = parser_mask(n + 1);
		p->zone3339_len = (uint8_t)(n + 1);
		p->zone3339_off = off;
	}
	return parser_after_stamp(p, q + n + 1, end, out, n ? sh : NULL);
}

/*
 * "YYYY-MM-DDTHH:MM:SS[.frac][ZONE] " and the rest, the long way: a new
 * minute, zone or host goes into the caches, the line's shape into the
 * fast path's template. The minute and zone are compared first: dates are
 * not read twice.
 */
static int parser_rfc3339(struct parser *p, const char *s, size_t len, struct logline *out,
			  struct parser_shape *sh)
{
	const char *end = s + len, *q;
	int sec;
	time_t utc;

	if (len < 19)
		return -1;
	if (!(p->min3339_ok && parser_word(s) == parser_word(p->min3339) &&
	      parser_word(s + 8) == parser_word(p->min3339 + 8)) &&
	    parser_minute3339(p, s) < 0)
		return -1;
	if (s[16] != ':' || (sec = parser_2digits(s + 17)) < 0 || sec > 60)
		return -1;
	utc = p->min3339_utc + sec;
	q = parser_fraction_end(s + 19, end);
	*sh = (struct parser_shape){ .sec = 17, .frac = 20, .fracend = (size_t)(q - s) };
	if (p->zone3339_len && end - q >= 8 &&
	    (parser_word(q) & p->zone3339_mask) == p->zone3339) {
		out->time = utc - p->zone3339_off;
		return parser_after_stamp(p, q + p->zone3339_len, end, out, sh);
	}
	return parser_zone3339(p, q, end, utc, sec, out, sh);
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
	if (i >= len || s[i] != ' ' || parser_after_stamp(p, s + i + 1, s + len, out, NULL) < 0 ||
	    out->tag[out->taglen] != '[')
		return -1;
	out->time = parser_local(p, y, mon, day, h, m, sec);
	return 0;
}

/* journalctl -o short-full: "Fri 2026-11-27 06:44:16 UTC host tag[pid]: ".
 * The zone is as strftime's %Z writes it: UTC or GMT, an offset ("-03",
 * "+0530") for a zone without a name, else a name, which can only be the
 * zone journalctl ran in: read as local time, like a classic stamp. */
static int parser_full(struct parser *p, const char *s, size_t len, struct logline *out,
		       struct parser_shape *sh)
{
	const char *end = s + len, *z, *ze;
	int y, mon, day, h, m, sec, off = 0;
	size_t n, letters = 0;
	bool local;

	if (len < 26 || s[3] != ' ' || !parser_weekday(s) ||
	    parser_ymdhms(s + 4, len - 4, ' ', &y, &mon, &day, &h, &m, &sec) < 0)
		return -1;
	z = parser_fraction_end(s + 23, end);
	if (z >= end || *z != ' ')
		return -1;
	for (ze = ++z; ze < end && ze - z < 8 && *ze != ' '; ze++)
		letters += (*ze >= 'A' && *ze <= 'Z') || (*ze >= 'a' && *ze <= 'z');
	if (ze == z || ze >= end || *ze != ' ')
		return -1;
	n = (size_t)(ze - z);
	local = letters == n && !(n == 3 && (memcmp(z, "UTC", 3) == 0 || memcmp(z, "GMT", 3) == 0));
	if (letters != n && (letters || parser_offset(z, ze, true, &off) != n))
		return -1;
	out->time = local ? parser_local(p, y, mon, day, h, m, sec) :
			    parser_utc(y, mon, day, h, m, sec) - off;
	*sh = (struct parser_shape){
		.sec = 21, .frac = 24, .fracend = (size_t)(z - 1 - s), .classic = local,
		.mon = mon, .day = day,
	};
	return parser_after_stamp(p, ze + 1, end, out, sh);
}

/* journalctl -o short-unix: "1795675456.123456 host tag[pid]: ", seconds
 * since 1970 (ten digits: 2001 to 2286). */
static int parser_unix(struct parser *p, const char *s, size_t len, struct logline *out,
		       struct parser_shape *sh)
{
	const char *end = s + len, *q;
	time_t t = 0;

	for (size_t i = 0; i < 10; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		t = t * 10 + (s[i] - '0');
	}
	q = parser_fraction_end(s + 10, end);
	if (q == s + 10 || q >= end || *q != ' ')
		return -1;
	out->time = t;
	*sh = (struct parser_shape){ .sec = 8, .frac = 11, .fracend = (size_t)(q - s) };
	return parser_after_stamp(p, q + 1, end, out, sh);
}

/* The wall time of this machine's boot: what journalctl's monotonic
 * stamps count from (CLOCK_MONOTONIC, as journald's). */
static time_t parser_boot_time(void)
{
	struct timespec rt, mono;

	if (clock_gettime(CLOCK_REALTIME, &rt) < 0 || clock_gettime(CLOCK_MONOTONIC, &mono) < 0)
		return 0;
	return rt.tv_sec - mono.tv_sec - (rt.tv_nsec < mono.tv_nsec);
}

/* journalctl -o short-monotonic, "[ 1234.567890] host tag[pid]: ", and
 * short-delta, "[ 1234.567890 <    0.000001>] ...": seconds since the
 * boot, which is this one's (the spacing of the lines is right for any). */
static int parser_monotonic(struct parser *p, const char *s, size_t len, struct logline *out)
{
	const char *end = s + len, *q = s + 1, *d;
	time_t t = 0;

	while (q < end && *q == ' ')
		q++;
	d = parser_digits_end(q, end);
	if (d == q || d - q > 12)
		return -1;
	for (; q < d; q++)
		t = t * 10 + (*q - '0');
	q = parser_fraction_end(d, end);
	if (q == d)
		return -1;
	if (q < end && *q == ' ') {
		/* short-delta's "<+  0.000001>", or its padding on the first entry */
		while (q < end && *q == ' ')
			q++;
		if (q < end && *q == '<') {
			const char *gt = memchr(q, '>', (size_t)(end - q));

			if (!gt || gt - q > 24)
				return -1;
			q = gt + 1;
		}
	}
	if (end - q < 2 || q[0] != ']' || q[1] != ' ')
		return -1;
	if (!p->boot)
		p->boot = parser_boot_time();
	out->time = p->boot + t;
	return parser_after_stamp(p, q + 2, end, out, NULL);
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

/* Exim through syslog repeats its own stamp after the tag, and with +pid
 * its "[pid] " even when the stamp is off. */
static void parser_exim_msg(struct parser *p, struct logline *out)
{
	time_t t;
	size_t n = parser_exim_stamp(p, out->msg, out->msglen, &t);

	if (n == 0)
		n = parser_exim_pid(out->msg, out->msglen);
	out->msg += n;
	out->msglen -= n;
}

/*
 * The fast path: lines of a file repeat their head. From the last line the
 * long way read with a host, the parser keeps a template of its head up to
 * the tag: per byte, the range the next line's byte must be in, one value
 * for most, '0'-'9' for the digits of the seconds and fraction ('0'-'5' for
 * the tens of seconds: a leap second goes the long way). The long way read
 * those bytes alone to decide where the tag starts, and read the digits
 * only as digits, but for the seconds: a line that fits the template is
 * the template's line with other seconds, and its time is the template's
 * start of the minute plus them.
 *
 * That holds for an RFC 3339 stamp with a zone as it is. A classic stamp's
 * time also depends on the previous line's, the reference its year is
 * guessed from: the template holds only while that time is within the
 * template's minute (which then is its year), and is made only for a
 * minute whose local time has one and the same offset two days around it
 * and that is not the last of a year: mktime() of its hour then gives
 * one answer, and the long way, cached or not, the same.
 */

/* The 1st to 4th sixteen bytes at s fit the template: byte - lo <= span,
 * unsigned, which is lo <= byte <= lo + span. */
static inline bool parser_fits(const struct parser *p, const char *s)
{
#ifdef __SSE2__
	const __m128i *lo = (const __m128i *)(const void *)p->tpl_lo;
	const __m128i *span = (const __m128i *)(const void *)p->tpl_span;
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
	__m128i out = _mm_subs_epu8(_mm_sub_epi8(x, lo[0]), span[0]);

	if (p->tpl_chunks > 1) {
		x = _mm_loadu_si128((const __m128i *)(const void *)(s + 16));
		out = _mm_or_si128(out, _mm_subs_epu8(_mm_sub_epi8(x, lo[1]), span[1]));
	}
	if (p->tpl_chunks > 2) {
		x = _mm_loadu_si128((const __m128i *)(const void *)(s + 32));
		out = _mm_or_si128(out, _mm_subs_epu8(_mm_sub_epi8(x, lo[2]), span[2]));
	}
	if (p->tpl_chunks > 3) {
		x = _mm_loadu_si128((const __m128i *)(const void *)(s + 48));
		out = _mm_or_si128(out, _mm_subs_epu8(_mm_sub_epi8(x, lo[3]), span[3]));
	}
	return _mm_movemask_epi8(_mm_cmpeq_epi8(out, _mm_setzero_si128())) == 0xffff;
#else
	for (size_t i = 0; i < p->tpl_len; i++)
		if ((uint8_t)((uint8_t)s[i] - p->tpl_lo[i]) > p->tpl_span[i])
			return false;
	return true;
#endif
}

/* Whether a classic stamp's minute starting at t (UTC) may be a template
 * (see above), and the key of its hour in parser_local()'s cache. The
 * answer for the last minute asked is kept: three localtime_r() calls
 * cost more than the rest of a line. */
static bool parser_steady(struct parser *p, time_t t, int mon, int day)
{
	time_t before = t - 2 * DAY, after = t + 2 * DAY;
	struct tm a, b, c;

	if (t <= 2 * DAY || (mon == 11 && day == 31))
		return false;
	if (t == p->steady_minute)
		return p->steady_ok;
	p->steady_minute = t;
	p->steady_ok = localtime_r(&before, &a) && localtime_r(&t, &b) &&
		       localtime_r(&after, &c) && a.tm_gmtoff == b.tm_gmtoff &&
		       b.tm_gmtoff == c.tm_gmtoff;
	/* the local time of t is then the stamp's: its hours since 1970 */
	if (p->steady_ok)
		p->steady_key = (int)((t + b.tm_gmtoff) / 3600);
	return p->steady_ok;
}

/* Whether a line that fits a classic template gets its time: the last
 * line's time is within the template's minute, and parser_local() holds
 * its hour (the long way would then call no mktime() either: mktime()
 * guesses from its last call, so the calls are kept as they were). */
static bool parser_classic_holds(const struct parser *p)
{
	return (uint64_t)(p->last - p->tpl_first) <= 60 && p->cache_key == p->tpl_key;
}

/* The template of line, whose head the long way read as sh says and
 * whose time is t; none if it does not fit one. */
static void parser_template(struct parser *p, const char *line, const struct parser_shape *sh,
			    time_t t)
{
	size_t n = (size_t)(sh->tag - line);
	time_t base;

	p->tpl_need = SIZE_MAX;
	if (n > sizeof(p->tpl_lo))
		return;
	base = t - ((line[sh->sec] - '0') * 10 + (line[sh->sec + 1] - '0'));
	if (sh->classic && !parser_steady(p, base, sh->mon, sh->day))
		return;
	p->tpl_key = p->steady_key;
	memset(p->tpl_lo, 0, sizeof(p->tpl_lo));
	memset(p->tpl_span, 0xff, sizeof(p->tpl_span));
	memcpy(p->tpl_lo, line, n);
	memset(p->tpl_span, 0, n);
	p->tpl_lo[sh->sec] = '0';
	p->tpl_span[sh->sec] = 5;
	p->tpl_lo[sh->sec + 1] = '0';
	p->tpl_span[sh->sec + 1] = 9;
	for (size_t i = sh->frac; i < sh->fracend; i++) {
		p->tpl_lo[i] = '0';
		p->tpl_span[i] = 9;
	}
	p->tpl_base = base - '0' * 11;
	p->tpl_classic = sh->classic;
	p->tpl_first = base;
	p->tpl_len = (uint8_t)n;
	p->tpl_sec = (uint8_t)sh->sec;
	p->tpl_chunks = (uint8_t)((n + 15) / 16);
	p->tpl_need = 16 * (size_t)p->tpl_chunks;
}

/* Every line the fast path leaves; kept out of line so that the fast
 * path's caller stays small. */
__attribute__((noinline))
static int parser_slow(struct parser *p, const char *line, const char *end, time_t now,
		       struct logline *out)
{
	struct parser_shape sh = { .host = NULL };
	size_t len = (size_t)(end - line);
	int r;

	memset(out, 0, sizeof(*out));
	if (len > 10 && line[0] >= '0' && line[0] <= '9')
		r = line[10] == 'T' ? parser_rfc3339(p, line, len, out, &sh) :
		    line[10] == ' ' ? parser_isospace(p, line, len, out) :
		    line[10] == '.' ? parser_unix(p, line, len, out, &sh) : -1;
	else if (len > 0 && line[0] == '[')
		r = parser_monotonic(p, line, len, out);
	else if ((r = parser_rfc3164(p, line, len, now, out, &sh)) < 0)
		r = parser_full(p, line, len, out, &sh);
	if (r < 0) {
		memset(out, 0, sizeof(*out));
		r = parser_headerless(p, line, len, now, out);
	} else {
		/* a line that fits no template makes its own, but only at
		 * the second such line in a row: lines of two hosts taking
		 * turns then still find one template in two fitting */
		if (sh.host && (p->tpl_need == SIZE_MAX || ++p->tpl_misses >= 2)) {
			p->tpl_misses = 0;
			parser_template(p, line, &sh, out->time);
		}
		if (out->taglen >= 4 && memcmp(out->tag, "exim", 4) == 0)
			parser_exim_msg(p, out);
	}
	if (r == 0)
		p->last = out->time;
	return r;
}

/* The fast path's end for Exim's lines, out of line: the fast path then
 * calls nothing and saves no registers. */
__attribute__((noinline))
static int parser_fast_exim(struct parser *p, struct logline *out)
{
	parser_exim_msg(p, out);
	p->last = out->time;
	return 0;
}

/* The first ' ', '[' or ':' at or after s, as parser_tag_end() finds it,
 * but NULL where that looks at the last bytes one by one: the fast path
 * then has no loop but this one, and needs no registers saved. */
static inline const char *parser_fast_tag_end(const char *s, const char *end)
{
	return parser_tag_end_words(&s, end);
}

/* The 2 bytes at s, the first one lowest. */
static inline unsigned parser_half(const char *s)
{
	return (unsigned)(uint8_t)s[0] | (unsigned)(uint8_t)s[1] << 8;
}

/*
 * The fast path: a line that fits the template, then "tag[pid]: " as
 * parser_tag() reads it (a tag without pid, a pid of eight digits or
 * more, or a short line go the long way). It changes nothing but the
 * previous time, as the long way would.
 */
int parser_parse(struct parser *p, const char *line, size_t len, time_t now,
		 struct logline *out)
{
	const char *end = line + len, *tag, *t, *d;
	uint64_t m;
	time_t time;

	if (len < p->tpl_need || !parser_fits(p, line) ||
	    (p->tpl_classic && !parser_classic_holds(p)))
		return parser_slow(p, line, end, now, out);
	tag = line + p->tpl_len;
	t = parser_fast_tag_end(tag, end);
	if (!t || t == tag || end - t < 11 || *t != '[')
		return parser_slow(p, line, end, now, out);
	/* a pid of one to seven digits, then "]:" inside the 11 bytes */
	m = parser_nondigit(parser_word(t + 1));
	if (!m || (m & 0x80))
		return parser_slow(p, line, end, now, out);
	d = parser_flagged(t + 1, m);
	if (parser_half(d) != (']' | ':' << 8))
		return parser_slow(p, line, end, now, out);
	d += 2 + (d[2] == ' ');
	time = p->tpl_base + (time_t)(uint8_t)line[p->tpl_sec] * 10 + (uint8_t)line[p->tpl_sec + 1];
	*out = (struct logline){
		.time = time, .tag = tag, .taglen = (size_t)(t - tag), .msg = d,
		.msglen = (size_t)(end - d),
	};
	if (t - tag >= 4 && memcmp(tag, "exim", 4) == 0)
		return parser_fast_exim(p, out);
	p->last = time;
	return 0;
}

const char *parser_program_hint(const char *line, size_t len)
{
	int y, mon, day, h, m, sec;
	struct parser p;
	struct logline l;
	size_t i;

	if (parser_ymdhms(line, len, ' ', &y, &mon, &day, &h, &m, &sec) == 0) {
		/* rspamd: "2026-11-27 06:44:16[.12345] #1234(proxy) <a1b2c3>; ..." */
		i = parser_skip_fraction(line, 19, len);
		return len - i > 2 && line[i] == ' ' && line[i + 1] == '#' ? "rspamd" : "exim";
	}
	parser_init(&p, "clamav-milter");
	return parser_ctime(&p, line, len, &l) == 0 ? "clamav-milter" : NULL;
}
