/* SPDX-License-Identifier: GPL-2.0-or-later */
/* correlator: owns queue id -> client links, the events waiting for their client, and spotting spamtraps.
 * It turns matches into sightings (an address, a class, a time) in either line order; a line one of
 * whose recipients is a spamtrap (spamtraps.c) makes a spamtrap sighting, whatever its pattern's class.
 * It must never invent an address: a sighting's client comes from a line's own addr capture or its queue id's. */
#ifndef SPAMWRATH_CORRELATOR_H
#define SPAMWRATH_CORRELATOR_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "class.h"
#include "matcher.h"

/*
 * Where a line came from. Replay: source is the file's interned name and
 * line its line number. The daemon: source is the source's name; where,
 * interned, names the file (and from which byte its lines are counted,
 * when not from its start) and line is that file's own line number, or
 * where is SOURCE_WHERE_JOURNAL and line the entry's time in microseconds
 * since 1970 (which journalctl --since/--until @SECONDS take). pid: the
 * process that wrote the line (its syslog pid or Exim's "[pid]"), 0 when
 * the line does not say: the correlator reads it from the match for the
 * sightings whose session matters (judge.h).
 */
struct origin {
	uint32_t source;
	uint32_t where;		/* 0: none */
	uint64_t line;
	uint32_t pid;
};

/* A matched line with its client, ready for the judge. */
struct sighting {
	time_t time;
	struct origin origin;
	enum class_id cls;	/* CLASS_SPAMTRAP when a recipient is a trap */
	uint32_t pattern;	/* interned pattern name */
	uint32_t weight;	/* the pattern's factor, thousandths */
	bool addr_ok;		/* addr parsed; else addr_text is what was captured */
	struct addr addr;
	const char *addr_text;
	size_t addr_len;
	bool has_score;
	double score;
	bool note;		/* the pattern's note = yes */
	bool accepted;		/* no offence: mail from the client was accepted
				 * (a context pattern's signal = accepted) */
	uint64_t qid_key;	/* the message's queue id digested, 0: none */
	uint64_t session;	/* the SMTP session as far as the line tells:
				 * pid << 32 | session of that pid << 16 | port */
};

typedef void correlator_emit_fn(void *ctx, const struct sighting *s);

struct corr_table;

struct spamtraps;

struct correlator {
	struct corr_table *t;
	struct spamtraps *traps;	/* NULL: none (spamtraps.c) */
	long timeout;
	size_t max;
	correlator_emit_fn *emit;
	void *ctx;
	/* whether news of accepted mail is wanted (only once the judge has
	 * seen a note: judge.h), set by whoever feeds */
	bool want_accepted;
	/* counters */
	uint64_t linked, resolved, expired, dropped;
};

/* Longest queue id kept; longer ids (no MTA writes them) are not linked. */
#define QID_MAX 31

int correlator_init(struct correlator *c, size_t max, long timeout,
		    correlator_emit_fn *emit, void *ctx);
void correlator_free(struct correlator *c);

/* Replaces the spamtrap list (config strings): a sighting of a line one of
 * whose recipients is on it has class spamtrap. 0 or -1 (no memory). */
int correlator_set_traps(struct correlator *c, char **traps, size_t n);
void correlator_set_limits(struct correlator *c, size_t max, long timeout);

/* A match of a signal = connect pattern: the line's process begins a new
 * session (correlator_feed does the same, the long way). */
void correlator_connect(struct correlator *c, const struct match *m);

/* Feeds one match of the line at time now; emits zero or more sightings. */
void correlator_feed(struct correlator *c, const struct match *m,
		     const struct origin *o, time_t now);

/* Drops links and waiting events older than the timeout. */
void correlator_expire(struct correlator *c, time_t now);

/* Events still waiting for their client. */
size_t correlator_pending(const struct correlator *c);

/*
 * The links from queue ids to clients, for a restart (state.c keeps them
 * across one): fn sees each, least recently seen first, and a non-zero
 * return stops the walk. correlator_link puts one back (as a line naming
 * both would, and at its own time); 0, or -1 (no memory, or an id no MTA
 * writes).
 */
typedef int correlator_link_fn(void *ctx, const char *qid, size_t len, const struct addr *a,
			       time_t seen);
int correlator_walk_links(const struct correlator *c, correlator_link_fn *fn, void *ctx);
int correlator_link(struct correlator *c, const char *qid, size_t len, const struct addr *a,
		    time_t seen);

#endif
