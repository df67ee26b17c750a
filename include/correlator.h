/* SPDX-License-Identifier: GPL-2.0-or-later */
/* correlator: owns queue id -> client links and the events waiting for their client.
 * It turns matches into sightings (an address, a class, a time) in either line order.
 * It must never invent an address: a sighting's client comes from a line's own addr capture. */
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
 * since 1970 (which journalctl --since/--until @SECONDS take).
 */
struct origin {
	uint32_t source;
	uint32_t where;		/* 0: none */
	uint64_t line;
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
};

typedef void correlator_emit_fn(void *ctx, const struct sighting *s);

struct corr_table;

/* Longest recipient checked against the spamtraps (an RFC 5321 path is
 * 256 bytes at most); a longer one is no trap. */
#define CORR_RCPT_MAX 320
#define CORR_TRAP_FILTER 1024	/* bits */
#define CORR_TRAP_PAIRS 8

struct correlator {
	struct corr_table *t;
	char **traps;		/* lower-case, sorted; "@domain" for a whole domain;
				 * none holds a separator (no recipient could) */
	size_t ntraps;
	/* filters before a lookup: trap_full has a bit set for each entry's
	 * length, first and last byte (hashed together); trap_dom lists
	 * the lengths of the "@domain" entries */
	uint64_t trap_full[CORR_TRAP_FILTER / 64];
	uint16_t *trap_dom;
	size_t ntrap_dom;
	/* when every entry a recipient could equal holds an '@' and those
	 * that are no "@domain" make few (offset of the first '@', length)
	 * pairs, a list is searched from its '@'s alone: trap_at holds
	 * those pairs */
	bool trap_at_ok;
	uint8_t ntrap_at;
	uint16_t trap_at[CORR_TRAP_PAIRS][2];
	long timeout;
	size_t max;
	correlator_emit_fn *emit;
	void *ctx;
	/* counters */
	uint64_t linked, resolved, expired, dropped;
};

/* Longest queue id kept; longer ids (no MTA writes them) are not linked. */
#define QID_MAX 31

int correlator_init(struct correlator *c, size_t max, long timeout,
		    correlator_emit_fn *emit, void *ctx);
void correlator_free(struct correlator *c);

/* Replaces the spamtrap list (config strings). 0 or -1 (no memory). */
int correlator_set_traps(struct correlator *c, char **traps, size_t n);
void correlator_set_limits(struct correlator *c, size_t max, long timeout);

/* True when one of the recipients in rcpt (a list separated by space,
 * comma or angle brackets) is a spamtrap. */
bool correlator_is_trap(const struct correlator *c, const char *rcpt, size_t len);

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
