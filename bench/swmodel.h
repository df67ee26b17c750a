/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * swmodel: the benchmarks' own model of the rules the judge follows, which
 * writes the events a correct spamwrath finds in swgen's log.
 *
 * How it is kept in step with the judge, in this one place: the model is
 * written from the rules as the README and spamwrath.conf(5) state them
 * and from bench/spamwrath.conf, never from src/decide/judge.c, so that
 * bench/compare (run by bench/run on every log) catches the judge
 * straying from what is documented. A change of a rule, a default class
 * weight (src/core/class.c), a pattern's weight or bench/spamwrath.conf
 * changes the model in the same commit; bench/run then shows whether the
 * two still agree, class by class.
 *
 * The rules modelled: whitelist first, then min_score; each offence
 * weighs its class weight times its pattern's; a ban when the weights
 * inside findtime reach the threshold; no second ban while one runs; a
 * ban clears the running total; each ban inside repeat_window doubles the
 * next (up to bantime_max); IPv6 judged per /64 (the caller's keys);
 * include/judge.h's once per message and once per session: a repeat of a
 * helo, dnsbl, protocol or unknown-sender offence inside one SMTP session
 * is ignored, "same-session", and of a spam, virus or spamtrap offence of
 * one queue id, "same-message". Only integers: a seed gives the same
 * bytes on every machine.
 */
#ifndef SW_MODEL_H
#define SW_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* bench/spamwrath.conf, as the model judges by it */
#define THRESHOLD	1000	/* thousandths */
#define FINDTIME	43200
#define BANTIME		43200
#define BANTIME_MAX	2592000
#define REPEAT_WINDOW	2592000
#define SPAM_MIN_SCORE	1500	/* hundredths */

enum gen_class {
	GC_NONE = -1,
	GC_UNKREC, GC_UNKSND, GC_TRAP, GC_SPAM, GC_VIRUS,
	GC_RELAY, GC_HELO, GC_DNSBL, GC_AUTH, GC_PROTO,
	GC_COUNT
};

extern const char *const gen_class_name[GC_COUNT];

/* What the model counted. */
struct model_stats {
	uint64_t offence_lines, ignored_lines;
	uint64_t offences[GC_COUNT], bans[GC_COUNT];
	uint64_t ignored_whitelist, ignored_score, ignored_repeat;
	uint64_t keys_banned;
};

extern struct model_stats model_st;

/* Events go to expected (NULL: counted only): one a line, LINE TAB KIND
 * TAB ADDRESS TAB CLASS TAB EXTRA (see swgen.c). */
void model_init(FILE *expected);

/* A new judged key (an address, or an IPv6 /64 as "N::/64"): its number. */
uint32_t model_key(const char *text);

/*
 * One offence line (its number in the log) at time now, of the client
 * whose address is text and judged key is key; factor is the pattern's
 * weight on the class (thousandths), score in hundredths or -1; sess the
 * line's SMTP session, msg its queue id (0: none).
 */
void model_offence(uint64_t line, uint32_t now, uint32_t key, const char *text,
		   bool whitelisted, int cls, unsigned factor, int score, uint32_t sess,
		   uint64_t msg);

/* calloc and realloc that exit on failure: a generator has nothing to save. */
void *sw_alloc(size_t n);
void *sw_grow(void *p, size_t n);

#endif
