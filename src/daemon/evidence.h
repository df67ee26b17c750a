/* SPDX-License-Identifier: GPL-2.0-or-later */
/* evidence: owns why an address is banned: the log lines behind each recent ban, for `spamwrathctl why`.
 * Matched lines wait in a small cache until the judge counts them; a ban takes its address's last few;
 * bans are appended to state_dir/why.jsonl, rewritten with only what it keeps at start and every
 * EVIDENCE_REWRITE_EVERY bans.
 * It must never decide anything nor grow without bound: it only remembers, within fixed limits. */
#ifndef SPAMWRATH_EVIDENCE_H
#define SPAMWRATH_EVIDENCE_H

#include <json-c/json.h>
#include <stdint.h>
#include <time.h>

#include "correlator.h"
#include "judge.h"
#include "parser.h"

#define EVIDENCE_CACHE 4096	/* matched lines waiting for the judge (direct-mapped) */
#define EVIDENCE_TEXT_MAX 512	/* bytes of a line kept; longer ones end in "..." */
#define EVIDENCE_OFFENCES 5	/* offences kept per address, the last ones */
#define EVIDENCE_BANS 3		/* bans kept per address, the last ones */
#define EVIDENCE_ADDRS 10000	/* addresses with offences, and with bans, each at most */
/* bans appended to why.jsonl before it is rewritten with only what the
 * tables hold (a rewrite writes at most EVIDENCE_ADDRS * EVIDENCE_BANS) */
#define EVIDENCE_REWRITE_EVERY (2 * EVIDENCE_ADDRS * EVIDENCE_BANS)

struct evidence;

/* Where a source's lines come from, for the record: its name and, for a
 * file source, the file. */
typedef void evidence_where_fn(void *ctx, uint32_t source, const char **name,
			       const char **file);

/* Opens state_dir/why.jsonl (dir NULL: in memory only, a dry run), reading
 * back the bans that ended less than keep seconds before now. NULL with
 * the reason logged when out of memory; an unreadable file is a warning. */
struct evidence *evidence_open(const char *dir, time_t now, long keep,
			       evidence_where_fn *where, void *ctx);
void evidence_close(struct evidence *ev);

/* A line matched a pattern: its text waits for the judge's verdict. */
void evidence_match(struct evidence *ev, const struct origin *o, const struct logline *l);

/* A judge event: offences and ignored lines join their address's last
 * few; a ban takes them and is appended to why.jsonl; an unban is noted. */
void evidence_event(struct evidence *ev, const struct judge_event *e);

/* What is known about key (as the judge keys it): {"bans": [...],
 * "pending": [...]}; NULL out of memory. */
struct json_object *evidence_why(struct evidence *ev, const struct addr *key);

#endif
