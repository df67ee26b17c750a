/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pipeline: owns the wiring parser -> matcher -> correlator -> judge and the counters along it.
 * The daemon, replay and the fixture checker feed it batches of lines; what the judge decides
 * leaves through one callback, every event of a batch before the call returns.
 * It must never read a source nor act on a verdict: sources feed it, sinks act. */
#ifndef SPAMWRATH_PIPELINE_H
#define SPAMWRATH_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "correlator.h"
#include "judge.h"
#include "matcher.h"
#include "parser.h"
#include "pattern.h"
#include "whitelist.h"

struct pipeline_stats {
	uint64_t lines;		/* every line handed in */
	uint64_t skipped;	/* longer than max_line */
	uint64_t unparsed;	/* no header and no program to assume */
	uint64_t stale;		/* catching up: older than findtime, not judged */
	uint64_t matched;
	uint64_t offences, ignored, bans;
	uint64_t by_class[CLASS_COUNT];	/* offences (bans by hand under CLASS_MANUAL) */
	uint64_t *hits;		/* per pattern of the current set */
};

struct pipeline {
	const struct config *cfg;
	struct patternset *ps;
	struct whitelist wl;
	struct matcher m;
	struct correlator c;
	struct judge *j;
	struct pipeline_stats st;
	judge_emit_fn *emit;
	void *ctx;
	time_t last_expire;
	/* Set after pipeline_init by whoever wants it (the daemon: ban
	 * latency, why's evidence), NULL otherwise: every line that matched
	 * a pattern, before the correlator and the judge see it. */
	void (*on_match)(void *ctx, const struct origin *o, const struct logline *l,
			 uint32_t pattern);
	void *match_ctx;
};

/*
 * Takes cfg and ps (kept by reference: they must outlive the pipeline or
 * the next pipeline_reload). Whitelist host names are resolved here.
 * emit receives every judge event. 0, or -1 with reasons in d.
 */
int pipeline_init(struct pipeline *pl, const struct config *cfg, struct patternset *ps,
		  judge_emit_fn *emit, void *ctx, struct diag *d);
void pipeline_free(struct pipeline *pl);

/* Swaps in a new configuration and pattern set; links, waiting events and
 * the judge's memory stay. 0, or -1 with everything as it was. */
int pipeline_reload(struct pipeline *pl, const struct config *cfg, struct patternset *ps,
		    struct diag *d);

/* Which time a line is judged by. */
enum pipeline_clock {
	PIPELINE_ARRIVAL,	/* live files: when it was read */
	PIPELINE_LINE,		/* replay, the journal: the line's own time */
	PIPELINE_CATCHUP,	/* written while the daemon was down: its own time,
				 * and a line older than findtime at now is only
				 * counted (stale), never judged */
};

/* Where a batch of lines comes from, and the clock they are judged by. */
struct pipeline_source {
	uint32_t name;		/* interned name of the source or file */
	struct parser *parser;	/* the source's: reads its raw lines */
	time_t now;		/* the clock for PIPELINE_ARRIVAL, the reference for the others */
	enum pipeline_clock clock;
};

/*
 * One line: raw text (without "\n") for the source's parser, an entry a
 * source split already (a journal entry, judged by its own time), or
 * neither: a line longer than max_line that the source skipped.
 */
struct pipeline_line {
	const char *text;
	size_t len;
	const struct logline *entry;
	uint64_t lineno;	/* with where: struct origin's line */
	uint32_t where;		/* struct origin's where (0: none) */
	/* set by pipeline_feed: the index of the pattern that matched, else
	 * PIPELINE_NO_MATCH, or PIPELINE_UNPARSED when the line has no header
	 * the parser reads (counted as unparsed) */
	uint32_t matched;
};

#define PIPELINE_NO_MATCH UINT32_MAX
#define PIPELINE_UNPARSED (UINT32_MAX - 1)

/* Feeds n lines of one source in order. Every event they cause has been
 * emitted when it returns: a batch is where the judge may work a few
 * offences ahead (judge_offence_later), so larger batches run faster,
 * and none waits. */
void pipeline_feed(struct pipeline *pl, const struct pipeline_source *from,
		   struct pipeline_line *v, size_t n);

/*
 * Lines collected one by one (as a reader cuts them) and fed together: the
 * caller sets from, adds lines while their text stays valid, and feeds
 * before it does not. unparsed, when set, hears of each line fed that had
 * no header the parser reads. A line that finds no room (out of memory)
 * goes at once, after the lines before it: none is lost.
 */
struct pipeline_batch {
	struct pipeline_source from;
	struct pipeline_line *v;
	size_t n, cap;
	void (*unparsed)(void *ctx, const struct pipeline_line *l);
	void *ctx;
};

void pipeline_batch_feed(struct pipeline *pl, struct pipeline_batch *b);
/* pipeline_batch_add when b is full. */
void pipeline_batch_add_more(struct pipeline *pl, struct pipeline_batch *b, const char *text,
			     size_t len, const struct logline *entry, uint32_t where,
			     uint64_t lineno);

/* Inline: a replay adds every line of a file. */
static inline void pipeline_batch_add(struct pipeline *pl, struct pipeline_batch *b,
				      const char *text, size_t len, const struct logline *entry,
				      uint32_t where, uint64_t lineno)
{
	struct pipeline_line *l;

	if (b->n == b->cap) {
		pipeline_batch_add_more(pl, b, text, len, entry, where, lineno);
		return;
	}
	l = &b->v[b->n++];
	l->text = text;
	l->len = len;
	l->entry = entry;
	l->where = where;
	l->lineno = lineno;
}
void pipeline_batch_free(struct pipeline_batch *b);

/* Housekeeping at time now: expiry of links, waiting events, memory. */
void pipeline_tick(struct pipeline *pl, time_t now);

#endif
