/* SPDX-License-Identifier: GPL-2.0-or-later */
/* parser: owns the reading of one log line's envelope: timestamp, host, tag, message.
 * It knows RFC 3164 and RFC 3339 syslog, Exim's and clamav's own file formats, and infers years.
 * It must never copy or allocate per line, nor read the message text but Exim's own stamp and pid at its start. */
#ifndef SPAMWRATH_PARSER_H
#define SPAMWRATH_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Room for struct parser_memo (parser.c checks that it fits). */
#define PARSER_MEMO_SIZE 352

/* One parsed line. The pointers point into the caller's line buffer. */
struct logline {
	time_t time;		/* UTC seconds */
	const char *tag;	/* program, without "[pid]" */
	size_t taglen;
	const char *msg;	/* the text after "tag[pid]: " */
	size_t msglen;
	const char *pid;	/* the first digit of "[pid]" (syslog's, else Exim's):
				 * digits up to ']'; NULL when the line has none */
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
	uint64_t fast_lines;	/* lines whose head matched the last one's (parser.c):
				 * a figure for tests and benchmarks */
	/* What parser.c remembers of the lines before, to read the next ones
	 * with less work: its own (struct parser_memo there), never read here. */
	union {
		_Alignas(16) unsigned char bytes[PARSER_MEMO_SIZE];
	} memo;
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
