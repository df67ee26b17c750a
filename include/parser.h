/* SPDX-License-Identifier: GPL-2.0-or-later */
/* parser: owns the reading of one log line's envelope: timestamp, host, tag, message.
 * It knows RFC 3164 and RFC 3339 syslog, Exim's and clamav's own file formats, and infers years.
 * It must never copy or allocate per line, nor look inside the message text. */
#ifndef SPAMWRATH_PARSER_H
#define SPAMWRATH_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* One parsed line. The pointers point into the caller's line buffer. */
struct logline {
	time_t time;		/* UTC seconds */
	const char *tag;	/* program, without "[pid]" */
	size_t taglen;
	const char *msg;	/* the text after "tag[pid]: " */
	size_t msglen;
};

/*
 * Per-source state: classic timestamps carry no year, so each source keeps
 * the time of its previous line and places the next line in whichever year
 * puts it nearest (Dec 31 -> Jan 1 moves forward a year, never back).
 */
struct parser {
	const char *program;	/* tag for lines without one (Exim's mainlog) */
	size_t programlen;
	time_t last;		/* time of the previous line, 0 before the first */
	int first_year;		/* year for the first classic line, 0 = nearest now */
	time_t boot;		/* the wall time journalctl's monotonic stamps count
				 * from: this machine's boot (0: not known yet) */
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
	/* The fast path's template (see parser.c): the head of the last line
	 * the long way read with a host, up to its tag, as the range each
	 * byte may be in (the digits of the seconds and fraction: digits). */
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

void parser_init(struct parser *p, const char *program);

/*
 * Parses line (len bytes, no newline) into out. now is the clock used to
 * place the first classic timestamp and headerless lines. Returns 0, or -1
 * when the line has no header this parser knows and the source gives no
 * program.
 */
int parser_parse(struct parser *p, const char *line, size_t len, time_t now,
		 struct logline *out);

/* The program whose own log (not syslog) has lines like this one, which
 * a source then names with program = "...": "exim", "rspamd",
 * "clamav-milter"; NULL when it is none of those. */
const char *parser_program_hint(const char *line, size_t len);

#endif
