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

#include "bytes.h"
#include "parser.h"

#define DAY (24 * 3600L)
/* The length of "YYYY-MM-DD?HH:MM:SS", the date and time every ISO-style
 * stamp starts with; a fraction of a second may follow. */
#define PARSER_YMDHMS 19

/*
 * What a parser remembers of the lines before: each cache answers the
 * same bytes as the long way would read them afresh (see the fast path
 * before parser_parse()).
 */
struct parser_memo {
	/* mktime() is costly: remember the start of the last local hour. */
	int cache_key;		/* hours since 1970 of that local hour, -1 = none */
	time_t cache_hour;
	/* Lines of one minute share "YYYY-MM-DDTHH:MM" (RFC 3339): the last
	 * one read, its fields and its start as UTC. */
	char min3339[16];
	bool min3339_ok;
	int min3339_f[5];	/* year, month (0-11), day, hour, minute */
	time_t min3339_utc;
	/* and its zone with the space after it ("Z " or "+hh:mm ") */
	uint64_t zone3339;	/* the bytes, as one little-endian word */
	uint64_t zone3339_mask;
	uint8_t zone3339_len;	/* 0: none */
	int zone3339_off;	/* seconds east of UTC */
	/* Lines of one second share their classic stamp: the last one read. */
	char stamp3164[15];	/* "Mmm dd HH:MM:SS" */
	uint8_t stamp3164_len;	/* 0: none */
	time_t stamp3164_time;	/* its time, good while it is the last line's */
	/* The host of the last line and its space: a file names one host.
	 * Each of these is kept only once the long way has read it, and
	 * only from the bytes that alone decided how: the same bytes then
	 * get the same answer as when read afresh. */
	char host[32];
	uint8_t hostlen;	/* 0: none (or longer than 31 bytes) */
	/* The fast path's template: the head of the last line the long way
	 * read with a host, up to its tag, as the range each byte may be in
	 * (the digits of the seconds and fraction: digits). */
	_Alignas(16) uint8_t tpl_lo[64];
	_Alignas(16) uint8_t tpl_span[64];	/* up to lo + span; 255 past the head */
	size_t tpl_need;	/* shortest line it applies to; SIZE_MAX: none */
	time_t tpl_first;	/* the UTC start of its minute */
	time_t tpl_base;	/* the same less the seconds' digits as ASCII */
	int tpl_key;		/* classic: its hour's key in the mktime() cache */
	bool tpl_classic;	/* RFC 3164: a local time, a guessed year */
	uint8_t tpl_len;	/* the head's length */
	uint8_t tpl_sec;	/* where its seconds are */
	uint8_t tpl_chunks;	/* sixteen bytes each */
	uint8_t tpl_misses;	/* lines since that missed it and could make one */
	/* whether the last classic minute asked may have a template */
	time_t steady_minute;	/* its UTC start, 0: none asked */
	int steady_key;
	bool steady_ok;
};

_Static_assert(sizeof(struct parser_memo) <= PARSER_MEMO_SIZE, "raise PARSER_MEMO_SIZE");
_Static_assert(_Alignof(struct parser_memo) <= 16, "struct parser's memo is aligned to 16");

static inline struct parser_memo *parser_memo(struct parser *p)
{
	return (struct parser_memo *)(void *)p->memo.bytes;
}

static inline const struct parser_memo *parser_memo_c(const struct parser *p)
{
	return (const struct parser_memo *)(const void *)p->memo.bytes;
}

void parser_init(struct parser *p, const char *program)
{
	struct parser_memo *pm = parser_memo(p);

	memset(p, 0, sizeof(*p));
	p->program = program;
	p->programlen = program ? strlen(program) : 0;
	pm->cache_key = -1;
	pm->tpl_need = SIZE_MAX;
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
	struct parser_memo *pm = parser_memo(p);

	/* hours since 1970: below 88 million up to 9999, so it fits an int */
	int key = (int)(parser_days(y, mon, day) * 24 + h);

	if (key != pm->cache_key) {
		struct tm tm = {
			.tm_year = y - 1900, .tm_mon = mon, .tm_mday = day,
			.tm_hour = h, .tm_isdst = -1,
		};

		pm->cache_hour = mktime(&tm);
		pm->cache_key = key;
	}
	return pm->cache_hour + m * 60 + s;
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
	if (len < PARSER_YMDHMS || s[4] != '-' || s[7] != '-' || s[10] != sep)
		return -1;
	*y = parser_digits(s, 4);
	*mon = parser_digits(s + 5, 2) - 1;
	*day = parser_digits(s + 8, 2);
	if (*y < 0 || *mon < 0 || *day < 0 || parser_hms(s + 11, h, m, sec) < 0)
		return -1;
	return parser_valid(*y, *mon, *day, *h, *m, *sec) ? 0 : -1;
}

/* The end of the run of digits at s (a pid, a fraction): see bytes.h. */
static inline const char *parser_digits_end(const char *s, const char *end)
{
	return bytes_digits_end(s, end);
}

/* The first ' ' or '[' at or after s, or end. */
static const char *parser_word_end(const char *s, const char *end)
{
	return bytes_find3(s, end, ' ', '[', '[');
}

/* The first ' ', '[' or ':' at or after s, or end. */
static inline const char *parser_tag_end(const char *s, const char *end)
{
	return bytes_find3(s, end, ' ', '[', ':');
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
	struct parser_memo *pm = parser_memo(p);
	size_t n = pm->hostlen;
	const char *sp;

	if (n && end - s >= (ptrdiff_t)n && bytes_equal(s, pm->host, n))
		return s + n;
	sp = parser_word_end(s, end);
	if ((sp < end && *sp == '[') || (sp > s && sp[-1] == ':'))
		return s;
	if (sp == end)
		return NULL;
	if ((size_t)(sp - s) < sizeof(pm->host)) {
		memset(pm->host, 0, sizeof(pm->host));
		memcpy(pm->host, s, (size_t)(sp - s) + 1);
		pm->hostlen = (uint8_t)(sp - s + 1);
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
		out->pid = t + 1;
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

/*
 * Solaris syslogd writes a message id before the message: "[ID 801593
 * mail.info] ". It is the envelope's, not the program's: skipped.
 */
static bool parser_solaris_id(struct logline *out)
{
	const char *s = out->msg, *end = s + out->msglen, *q;

	if (out->msglen < 8 || memcmp(s, "[ID ", 4) != 0)
		return false;
	q = parser_digits_end(s + 4, end);
	if (q == s + 4 || q == end || *q != ' ')
		return false;
	for (q++; q < end && ((*q >= 'a' && *q <= 'z') || *q == '.'); q++)
		;
	if (end - q < 2 || q[0] != ']' || q[1] != ' ' || !memchr(s, '.', (size_t)(q - s)))
		return false;
	out->msglen -= (size_t)(q + 2 - s);
	out->msg = q + 2;
	return true;
}

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
	/* a host that writes them writes them on every line: it gets no
	 * template, so that its lines never take the fast path, which does
	 * not look for them */
	if (msg < end && *msg == '[' && parser_solaris_id(out))
		sh = NULL;
	if (sh && tag != s) {
		sh->host = s;
		sh->tag = tag;
	}
	return 0;
}

/* Exim's "[pid]" where the line gave none before (syslog's is the same
 * process). */
static void parser_exim_set_pid(struct logline *out, const char *digits)
{
	if (!out->pid)
		out->pid = digits;
}

/* Exim's own stamp: "YYYY-MM-DD HH:MM:SS[.mmm][ +hhmm] [[pid] ]". Returns
 * the length of the prefix and the time, or 0. */
static size_t parser_exim_stamp(struct parser *p, const char *s, size_t len, time_t *t,
				struct logline *out)
{
	int y, mon, day, h, m, sec;
	size_t i;

	if (parser_ymdhms(s, len, ' ', &y, &mon, &day, &h, &m, &sec) < 0)
		return 0;
	i = parser_skip_fraction(s, PARSER_YMDHMS, len);
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
			parser_exim_set_pid(out, s + i + 1);
			i = j + 1;
			if (i < len && s[i] == ' ')
				i++;
		}
	}
	return i;
}

/* Exim's "[pid] " prefix alone; its length or 0. */
static size_t parser_exim_pid(const char *s, size_t len, struct logline *out)
{
	size_t j = 1;

	if (len < 4 || s[0] != '[')
		return 0;
	while (j < len && s[j] >= '0' && s[j] <= '9')
		j++;
	if (j == 1 || j + 1 >= len || s[j] != ']' || s[j + 1] != ' ')
		return 0;
	parser_exim_set_pid(out, s + 1);
	return j + 2;
}

static int parser_rfc3164(struct parser *p, const char *s, size_t len, time_t now,
			  struct logline *out, struct parser_shape *sh)
{
	struct parser_memo *pm = parser_memo(p);
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
	hit = p->last && p->last == pm->stamp3164_time && pm->stamp3164_len == klen &&
	      memcmp(s, pm->stamp3164, klen) == 0;
	if (!hit && parser_hms(s + i, &h, &m, &sec) < 0)
		return -1;
	i = parser_skip_fraction(s, klen, len);
	if (i >= len || s[i] != ' ')
		return -1;
	if (hit) {
		out->time = pm->stamp3164_time;
	} else {
		out->time = parser_classic_time(p, mon, day, h, m, sec, now);
		if (out->time == (time_t)-1)
			return -1;
		memcpy(pm->stamp3164, s, klen);
		pm->stamp3164_len = (uint8_t)klen;
		pm->stamp3164_time = out->time;
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
	struct parser_memo *pm = parser_memo(p);
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
	memcpy(pm->min3339, s, sizeof(pm->min3339));
	pm->min3339_f[0] = y;
	pm->min3339_f[1] = mon;
	pm->min3339_f[2] = day;
	pm->min3339_f[3] = h;
	pm->min3339_f[4] = m;
	pm->min3339_utc = parser_utc(y, mon, day, h, m, 0);
	pm->min3339_ok = true;
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
	struct parser_memo *pm = parser_memo(p);
	int off = 0;
	size_t n = 0;

	if (q < end && *q == 'Z') {
		out->time = utc;
		n = 1;
	} else if ((n = parser_offset(q, end, false, &off)) > 0) {
		out->time = utc - off;
	} else {
		const int *f = pm->min3339_f;

		out->time = parser_local(p, f[0], f[1], f[2], f[3], f[4], sec);
	}
	if (q + n >= end || q[n] != ' ')
		return -1;
	if (n && end - q >= 8) {
		pm->zone3339 = bytes_word(q) & bytes_mask(n + 1);
		pm->zone3339_mask = bytes_mask(n + 1);
		pm->zone3339_len = (uint8_t)(n + 1);
		pm->zone3339_off = off;
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
	struct parser_memo *pm = parser_memo(p);
	const char *end = s + len, *q;
	int sec;
	time_t utc;

	if (len < PARSER_YMDHMS)
		return -1;
	if (!(pm->min3339_ok && bytes_word(s) == bytes_word(pm->min3339) &&
	      bytes_word(s + 8) == bytes_word(pm->min3339 + 8)) &&
	    parser_minute3339(p, s) < 0)
		return -1;
	if (s[16] != ':' || (sec = parser_2digits(s + 17)) < 0 || sec > 60)
		return -1;
	utc = pm->min3339_utc + sec;
	q = parser_fraction_end(s + PARSER_YMDHMS, end);
	*sh = (struct parser_shape){ .sec = 17, .frac = 20, .fracend = (size_t)(q - s) };
	if (pm->zone3339_len && end - q >= 8 &&
	    (bytes_word(q) & pm->zone3339_mask) == pm->zone3339) {
		out->time = utc - pm->zone3339_off;
		return parser_after_stamp(p, q + pm->zone3339_len, end, out, sh);
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
	i = parser_skip_fraction(s, PARSER_YMDHMS, len);
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
	n = parser_exim_stamp(p, s, len, &out->time, out);
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
	size_t n = parser_exim_stamp(p, out->msg, out->msglen, &t, out);

	if (n == 0)
		n = parser_exim_pid(out->msg, out->msglen, out);
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

/* The 1st to 4th sixteen bytes at s fit the template. */
static inline bool parser_fits(const struct parser *p, const char *s)
{
	const struct parser_memo *pm = parser_memo_c(p);

	return bytes_in_ranges(s, pm->tpl_lo, pm->tpl_span, pm->tpl_chunks);
}

/* Whether a classic stamp's minute starting at t (UTC) may be a template
 * (see above), and the key of its hour in parser_local()'s cache. The
 * answer for the last minute asked is kept: three localtime_r() calls
 * cost more than the rest of a line. */
static bool parser_steady(struct parser *p, time_t t, int mon, int day)
{
	struct parser_memo *pm = parser_memo(p);
	time_t before = t - 2 * DAY, after = t + 2 * DAY;
	struct tm a, b, c;

	if (t <= 2 * DAY || (mon == 11 && day == 31))
		return false;
	if (t == pm->steady_minute)
		return pm->steady_ok;
	pm->steady_minute = t;
	pm->steady_ok = localtime_r(&before, &a) && localtime_r(&t, &b) &&
		       localtime_r(&after, &c) && a.tm_gmtoff == b.tm_gmtoff &&
		       b.tm_gmtoff == c.tm_gmtoff;
	/* the local time of t is then the stamp's: its hours since 1970 */
	if (pm->steady_ok)
		pm->steady_key = (int)((t + b.tm_gmtoff) / 3600);
	return pm->steady_ok;
}

/* Whether a line that fits a classic template gets its time: the last
 * line's time is within the template's minute, and parser_local() holds
 * its hour (the long way would then call no mktime() either: mktime()
 * guesses from its last call, so the calls are kept as they were). */
static bool parser_classic_holds(const struct parser *p)
{
	const struct parser_memo *pm = parser_memo_c(p);

	return (uint64_t)(p->last - pm->tpl_first) <= 60 && pm->cache_key == pm->tpl_key;
}

/* The template of line, whose head the long way read as sh says and
 * whose time is t; none if it does not fit one. */
static void parser_template(struct parser *p, const char *line, const struct parser_shape *sh,
			    time_t t)
{
	struct parser_memo *pm = parser_memo(p);
	size_t n = (size_t)(sh->tag - line);
	time_t base;

	pm->tpl_need = SIZE_MAX;
	if (n > sizeof(pm->tpl_lo))
		return;
	base = t - ((line[sh->sec] - '0') * 10 + (line[sh->sec + 1] - '0'));
	if (sh->classic && !parser_steady(p, base, sh->mon, sh->day))
		return;
	pm->tpl_key = pm->steady_key;
	memset(pm->tpl_lo, 0, sizeof(pm->tpl_lo));
	memset(pm->tpl_span, 0xff, sizeof(pm->tpl_span));
	memcpy(pm->tpl_lo, line, n);
	memset(pm->tpl_span, 0, n);
	pm->tpl_lo[sh->sec] = '0';
	pm->tpl_span[sh->sec] = 5;
	pm->tpl_lo[sh->sec + 1] = '0';
	pm->tpl_span[sh->sec + 1] = 9;
	for (size_t i = sh->frac; i < sh->fracend; i++) {
		pm->tpl_lo[i] = '0';
		pm->tpl_span[i] = 9;
	}
	pm->tpl_base = base - '0' * 11;
	pm->tpl_classic = sh->classic;
	pm->tpl_first = base;
	pm->tpl_len = (uint8_t)n;
	pm->tpl_sec = (uint8_t)sh->sec;
	pm->tpl_chunks = (uint8_t)((n + 15) / 16);
	pm->tpl_need = 16 * (size_t)pm->tpl_chunks;
}

/* Every line the fast path leaves; kept out of line so that the fast
 * path's caller stays small. */
__attribute__((noinline))
static int parser_slow(struct parser *p, const char *line, const char *end, time_t now,
		       struct logline *out)
{
	struct parser_memo *pm = parser_memo(p);
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
		if (sh.host && (pm->tpl_need == SIZE_MAX || ++pm->tpl_misses >= 2)) {
			pm->tpl_misses = 0;
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
	p->fast_lines++;
	return 0;
}

/* The first ' ', '[' or ':' at or after s, as parser_tag_end() finds it,
 * but NULL where that looks at the last bytes one by one: the fast path
 * then has no loop but this one, and needs no registers saved. */
static inline const char *parser_fast_tag_end(const char *s, const char *end)
{
	return bytes_find3_blocks(&s, end, ' ', '[', ':');
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
	struct parser_memo *pm = parser_memo(p);
	const char *end = line + len, *tag, *t, *d, *msg;
	uint64_t m;
	time_t time;

	if (len < pm->tpl_need || !parser_fits(p, line) ||
	    (pm->tpl_classic && !parser_classic_holds(p)))
		return parser_slow(p, line, end, now, out);
	tag = line + pm->tpl_len;
	t = parser_fast_tag_end(tag, end);
	if (!t || t == tag || end - t < 11 || *t != '[')
		return parser_slow(p, line, end, now, out);
	/* a pid of one to seven digits, then "]:" inside the 11 bytes */
	m = bytes_nondigit(bytes_word(t + 1));
	if (!m || (m & 0x80))
		return parser_slow(p, line, end, now, out);
	d = bytes_flagged(t + 1, m);
	if (parser_half(d) != (']' | ':' << 8))
		return parser_slow(p, line, end, now, out);
	msg = d + 2 + (d[2] == ' ');
	time = pm->tpl_base + (time_t)(uint8_t)line[pm->tpl_sec] * 10 + (uint8_t)line[pm->tpl_sec + 1];
	*out = (struct logline){
		.time = time, .tag = tag, .taglen = (size_t)(t - tag), .msg = msg,
		.msglen = (size_t)(end - msg), .pid = t + 1,
	};
	if (t - tag >= 4 && memcmp(tag, "exim", 4) == 0)
		return parser_fast_exim(p, out);
	p->last = time;
	p->fast_lines++;
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
		i = parser_skip_fraction(line, PARSER_YMDHMS, len);
		return len - i > 2 && line[i] == ' ' && line[i + 1] == '#' ? "rspamd" : "exim";
	}
	parser_init(&p, "clamav-milter");
	return parser_ctime(&p, line, len, &l) == 0 ? "clamav-milter" : NULL;
}
