/* SPDX-License-Identifier: GPL-2.0-or-later */
/* source: owns following one configured log source: a file through inotify, or the systemd journal.
 * Each hands complete lines (files) or entries (journal) to one callback, in order, each once.
 * It must never lose or repeat a line across rotation, truncation or re-creation, nor block the loop. */
#ifndef SPAMWRATH_SOURCE_H
#define SPAMWRATH_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <systemd/sd-event.h>

#include "config.h"
#include "parser.h"

enum source_kind {
	SOURCE_FILE,
	SOURCE_JOURNAL,
};

/*
 * Where a source stands, to save and to start from again. A file: the
 * identity of the file being read, the offset of its next unread line and
 * a hash of its first line (0 when it has none yet), so that a rotated or
 * replaced file is told from the same one. A journal: the cursor of the
 * last entry read.
 */
struct source_pos {
	enum source_kind kind;
	bool valid;
	uint64_t dev, ino;
	uint64_t offset;
	uint64_t head_hash;
	char *cursor;		/* owned; NULL before the first entry */
};

void source_pos_free(struct source_pos *p);

/* One line handed out. Files give raw text (to be parsed with the
 * source's parser); the journal gives an entry already split. */
struct source_line {
	const char *text;	/* file: the line without "\n" */
	size_t len;
	bool too_long;		/* over max_line: skipped, text is NULL */
	const struct logline *entry;	/* journal: tag, message, time */
	uint32_t where;		/* interned: the file and where its lines are counted
				 * from, or SOURCE_WHERE_JOURNAL (struct origin) */
	uint64_t lineno;	/* the file's own line number; journal: the entry's
				 * time, microseconds since 1970 */
	time_t arrival;		/* when it was read: the live clock */
	bool catchup;		/* written while spamwrathd was not running: judge it by
				 * its own time (read since a saved position, up to the
				 * first time the source reached its end) */
};

/* The where of every journal entry: lineno then is the entry's time. */
#define SOURCE_WHERE_JOURNAL "journal entry"

struct source;

/* One line, or l NULL after the lines of one read: their text (and
 * entries) stay valid until that call returns and no longer, so a
 * callback may collect them and use them all then. */
typedef void source_fn(void *ctx, struct source *src, const struct source_line *l);

/* What both kinds share; the rest is private to source_file.c and source_journal.c. */
struct source {
	enum source_kind kind;
	struct source_conf conf;	/* a deep copy: independent of any struct config */
	uint32_t name_id;	/* interned name, the origin of what it hands out */
	struct parser parser;	/* files: year inference and the program tag */
	size_t max_line;
	source_fn *fn;
	void *ctx;
	sd_event *ev;
	uint64_t lines;		/* handed out */
	uint64_t untrusted;	/* journal: entries dropped by the trusted check */
	uint64_t unparsed;	/* file: lines without a header the parser reads */
	bool told_unparsed;	/* that most lines are: said once */
	bool catchup;		/* reading what was written while we were down */
	uint64_t saved_lines;	/* the daemon's: lines when its position was last recorded */
	time_t last_line;	/* the daemon's: when the last line was handed out, 0 */
	void *impl;
};

/*
 * Opens the source described by c and starts following it on ev. start,
 * when valid and still matching, is where reading resumes; otherwise a
 * file is read from its end (from its beginning with start = beginning,
 * or when it appears after start) and the journal from its tail. A file
 * that does not exist yet is waited for (one warning). NULL with the
 * reason logged when the source cannot be followed at all.
 */
struct source *source_open(sd_event *ev, const struct source_conf *c, size_t max_line,
			   const struct source_pos *start, source_fn *fn, void *ctx);
void source_close(struct source *s);

/* The position to save (the caller frees it with source_pos_free). 0 or -1. */
int source_position(struct source *s, struct source_pos *out);

/* A line of this file source had no header the parser reads: counted, and
 * when most of its lines (of 20 or more) have none, said once in the log
 * with the fix (program = "exim" for Exim's mainlog, say). */
void source_unparsed(struct source *s, const char *line, size_t len);

/* Safety net, about once a second: notices what inotify cannot see (a
 * directory that appears, a symlink's target directory) and reads on. */
void source_poll(struct source *s);

/* True when two configurations describe the same source (a reload keeps
 * its position); the max_line limit is compared by the caller. */
bool source_conf_equal(const struct source_conf *a, const struct source_conf *b);

/* Deep copy and release of a source_conf. 0 or -1 (no memory). */
int source_conf_copy(struct source_conf *dst, const struct source_conf *src);
void source_conf_free(struct source_conf *c);

/* Kind-specific halves, called by source_open/close/position/poll. */
int source_file_start(struct source *s, const struct source_pos *start);
void source_file_stop(struct source *s);
int source_file_position(struct source *s, struct source_pos *out);
void source_file_poll(struct source *s);
int source_journal_start(struct source *s, const struct source_pos *start);
void source_journal_stop(struct source *s);
int source_journal_position(struct source *s, struct source_pos *out);
void source_journal_poll(struct source *s);

/* The units, users and journal matches a journal source trusts by
 * default (see source_journal.c); for documentation and tests. */
extern const char *const source_mail_units[];
extern const char *const source_mail_users[];

#endif
