/* SPDX-License-Identifier: GPL-2.0-or-later */
/* state: owns the durable record in state_dir: bans, ban history, offences, source positions, a stop's links.
 * An append-only log of checksummed text lines, fsync'd when it holds a ban, compacted by atomic rename.
 * It must never let a bad record cost a good one: damaged lines are dropped one by one, and said so. */
#ifndef SPAMWRATH_STATE_H
#define SPAMWRATH_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "diag.h"
#include "judge.h"

/* Where a file source stopped: the next unread line of one file. */
struct state_file_pos {
	const char *source;	/* the source's name in the configuration */
	dev_t dev;
	ino_t ino;
	uint64_t offset;
	uint64_t head;		/* hash of the file's first line: rotated or the same? */
};

/* Called while loading, once per source with a saved position, and once
 * per queue-id link saved by the last stop (state_links). */
struct state_positions {
	void (*file)(void *ctx, const struct state_file_pos *p);
	void (*journal)(void *ctx, const char *source, const char *cursor);
	void *ctx;
	void (*link)(void *ctx, const char *qid, size_t len, const struct addr *a, time_t seen);
};

struct state;

/*
 * Opens (creating if needed) the record in dir. A directory that cannot be
 * written is an error now, not a silent loss later. 0, or -1 with the
 * reason in d.
 */
int state_open(const char *dir, struct state **out, struct diag *d);
void state_close(struct state *s);

/*
 * Replays the record into the judge (entries outside their windows at now
 * are dropped) and hands saved positions to pos. Damaged records, times
 * past DURATION_MAX, and bans and offences that judge_refuses (whitelisted
 * since, loopback, a network wider than one client...) are skipped with a
 * warning in d each; the rest loads. Then compacts, so the
 * file on disk is whole again. 0, or -1 (with d) when it cannot be read or
 * rewritten.
 */
int state_load(struct state *s, struct judge *j, time_t now,
	       const struct state_positions *pos, struct diag *d);

/* Records what the judge decided (bans, counted offences, unbans); other
 * events are ignored. Buffered until state_flush. */
void state_event(struct state *s, const struct judge_event *e);

/*
 * Records the correlator's links from queue ids to clients, for a stop:
 * a message whose client= line came before it and whose verdict comes
 * after it is still judged. They last one start (state_load hands them
 * out, the compaction after it drops them); a kill -9 writes none.
 */
void state_links(struct state *s, const struct correlator *c);

void state_file_pos(struct state *s, const struct state_file_pos *p);
void state_journal_pos(struct state *s, const char *source, const char *cursor);

/* Writes the buffered records in one write(), with an fsync when a ban is
 * among them. Call once per loop iteration. 0, or -errno. */
int state_flush(struct state *s);

/* True when the log has grown enough to be worth compacting. */
bool state_wants_compaction(const struct state *s);

/* Replaces the record by what the judge remembers now plus the last known
 * positions (temporary file, fsync, rename, fsync of the directory). */
int state_compact(struct state *s, struct judge *j, time_t now, struct diag *d);

/* Counters for status. */
struct state_stats {
	uint64_t size;		/* bytes in the log now */
	uint64_t records_written;
	uint64_t fsyncs;
	uint64_t dropped;	/* records skipped at load: damaged or refused */
	uint64_t refused;	/* ... of them, bans and offences the judge's rules refuse now */
	int last_error;		/* -errno of the last failed write, 0 */
};

void state_stats(const struct state *s, struct state_stats *out);

#endif
