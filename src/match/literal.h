/* SPDX-License-Identifier: GPL-2.0-or-later */
/* literal: owns reading a regex's source for the literals every match of it must contain.
 * It reads the top level only and says nothing whenever a construct could make it wrong.
 * It must never name a literal a match could lack: the matcher skips regexes on its word. */
#ifndef SPAMWRATH_LITERAL_H
#define SPAMWRATH_LITERAL_H

#include <stdbool.h>
#include <stddef.h>

/* Where a lead literal sits in every match of an anchored regex. */
enum literal_at {
	LITERAL_START,		/* at offset 0 */
	LITERAL_TOKEN_END,	/* right after the subject's leading run of
				 * [0-9A-Za-z] (a queue id, "NOQUEUE"...) */
	LITERAL_START_OR_TOKEN,	/* at 0, or lead_skip bytes after that run
				 * (the regex starts "^(?:QUEUEID: )?LITERAL") */
};

/*
 * What a regex's top level (outside groups, classes and quantified atoms)
 * says every match contains, each at least min bytes or NULL:
 *  - lead: a literal at a known place (the regex starts "^LITERAL", or
 *    with atoms that only match [0-9A-Za-z] followed by a literal whose
 *    first byte is not one of those, or after an optional group of that
 *    shape): a comparison, not a search;
 *  - needle: the other literal fewest lines are likely to hold (by its
 *    bytes: capitals count most, spaces nothing; the later one of equal
 *    scores, as what comes later tells lines of a program apart), to
 *    search for.
 * Nothing at all when the source uses anything that could make such a
 * reading wrong: a top-level alternation, an option setting at the top
 * level ("(?i)"), extended mode, \Q, verbs.
 */
struct literals {
	char *lead;
	size_t lead_len;
	enum literal_at lead_at;
	size_t lead_skip;
	char *needle;
	size_t needle_len;
};

/* 0, or -1 when out of memory (*out then empty). */
int literal_read(const char *src, size_t min, struct literals *out);
void literal_free(struct literals *l);

/* The byte of s least common in mail logs, to look for first. */
size_t literal_anchor(const char *s, size_t len);

#endif
