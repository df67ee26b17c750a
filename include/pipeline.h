/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pipeline: owns the wiring parser -> matcher -> correlator -> judge and the counters along it.
 * Replay and daemon feed it lines; what the judge decides leaves through one callback.
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

/* One raw line (no newline) from a source whose parser is p. now is the
 * clock for PIPELINE_ARRIVAL and the reference for the others. The last
 * offence or two may wait in the judge (judge_offence_later): call
 * pipeline_flush after a batch of lines. -1 when the line has no header
 * the parser reads (counted as unparsed), else 0. */
int pipeline_feed_text(struct pipeline *pl, struct parser *p, const struct origin *o,
		       const char *line, size_t len, time_t now, enum pipeline_clock clock);

/* One line already split (a journal entry), judged by its own time. */
void pipeline_feed_line(struct pipeline *pl, const struct origin *o, const struct logline *l,
			time_t now, enum pipeline_clock clock);

/* Judges the offences still waiting; every event of the lines fed so far
 * has been emitted when it returns. */
void pipeline_flush(struct pipeline *pl);

/* A line longer than max_line that the source skipped. */
void pipeline_skip(struct pipeline *pl);

/* Housekeeping at time now: expiry of links, waiting events, memory. */
void pipeline_tick(struct pipeline *pl, time_t now);

#endif
