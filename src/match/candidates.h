/* SPDX-License-Identifier: GPL-2.0-or-later */
/* candidates: owns which patterns a line could match, by its tag and the first two bytes of its message.
 * Worked out on first sight (program globs, PCRE2 partial matches) and kept as compact probes.
 * It must never grow on what log lines say: every cache has a fixed size and is emptied when full. */
#ifndef SPAMWRATH_CANDIDATES_H
#define SPAMWRATH_CANDIDATES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "pattern.h"

/* One candidate pattern with all the matcher reads to rule it out or run
 * it, so that the loop over a line's candidates walks one array. */
struct probe {
	struct bytes_key lead;	/* the pattern's lead; lead.p NULL: none */
	pcre2_code *re;
	uint32_t index;		/* of the pattern in its set */
	uint32_t needle;	/* or PATTERN_NO_NEEDLE */
	uint32_t lead_skip;
	uint8_t lead_at;	/* enum literal_at */
	bool jit;
	bool whole;		/* the lead is all of the regex (struct pattern) */
	uint16_t same_lead;	/* how many probes right after this one have
				 * the same lead: a line without it fails them too */
};

struct candidates;

/* md and mctx serve the partial matches that sort patterns by first bytes. */
struct candidates *candidates_new(const struct patternset *ps, pcre2_match_data *md,
				  pcre2_match_context *mctx);
void candidates_free(struct candidates *c);

/*
 * The patterns, offences first then context, each in load order, that a
 * message of this tag starting with msg could match (a superset: the
 * matcher still runs each). *n is their number; NULL with *n == 0 when
 * none (or out of memory: the line then goes unmatched rather than the
 * daemon down).
 */
const struct probe *candidates_get(struct candidates *c, const char *tag, size_t taglen,
				   const char *msg, size_t msglen, uint32_t *n);

#endif
