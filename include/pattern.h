/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pattern: owns the pattern files: their syntax, validation and PCRE2 (JIT) compilation.
 * A set is loaded whole or not at all; every regex is compiled exactly once, here.
 * It must never run a regex on a log line: that is the matcher's job. */
#ifndef SPAMWRATH_PATTERN_H
#define SPAMWRATH_PATTERN_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "class.h"
#include "diag.h"

/* The named groups a pattern may capture. */
enum capture {
	CAP_ADDR,
	CAP_QID,
	CAP_RCPT,
	CAP_SENDER,
	CAP_SCORE,
	CAP_COUNT
};

/* A name may be used by several alternatives (PCRE2_DUPNAMES): the first
 * group that took part in the match gives the value. */
#define CAPTURE_MAX_GROUPS 8

/* What a context line may tell besides its links (the key "signal"). */
enum pattern_signal {
	SIGNAL_NONE,
	SIGNAL_ACCEPTED,	/* mail from the client was accepted: its notes go */
	SIGNAL_CONNECT,		/* a new session of the line's process begins */
};

/* One group of a capture: the matcher reads them in this order. */
struct capture_slot {
	uint8_t cap;		/* enum capture */
	uint16_t group;
};

struct pattern {
	/* what the matcher reads for every candidate, in one cache line */
	char *lead;		/* a literal every match has at a known place, or NULL: */
	uint32_t lead_len;
	uint32_t lead_skip;
	uint8_t lead_at;	/* enum literal_at (src/match/literal.h) */
	uint32_t needle;	/* index into the set's needles, or PATTERN_NO_NEEDLE */
	pcre2_code *re;
	bool jit;
	bool has_first;		/* first: the bytes a match can start with */
	uint8_t first[32];
	/* the rest */
	uint32_t name;		/* interned, stable across reloads */
	enum class_id cls;
	uint32_t weight;	/* factor on the class weight, thousandths */
	bool qid_end;		/* the line ends its queue id (Postfix "removed") */
	bool enabled;		/* tried at all (pattern key, then enable_patterns/
				 * disable_patterns of the configuration) */
	bool note;		/* no offence in itself: see judge.h */
	enum pattern_signal signal;	/* context: what else the line tells */
	bool whole;		/* the regex is "^" and its lead: no need to run it */
	char **programs;	/* fnmatch globs against the syslog tag */
	size_t nprograms;
	char *source;		/* the regex as written */
	uint8_t ngroups[CAP_COUNT];	/* groups of each name */
	uint8_t nslots;		/* all of them, a name's together and in order */
	struct capture_slot slot[CAP_COUNT * CAPTURE_MAX_GROUPS];
	uint32_t file;		/* interned file name */
	int line;
};

#define PATTERN_NO_NEEDLE UINT32_MAX

/* A literal every match of a pattern contains: a line without it cannot
 * match, so the matcher looks for it (once per line, shared by the patterns
 * that need it) before running the regex. */
struct needle {
	char *s;
	size_t len;
	size_t anchor;		/* its rarest byte in log text, looked for first */
};

struct patternset {
	struct pattern *v;
	size_t n;
	struct needle *needles;
	size_t nneedles;
	uint32_t max_capture;	/* highest capture count: sizes match data */
	size_t njit;		/* patterns running JIT code */
	size_t nfiles;
};

const char *capture_name(enum capture c);

/* Loads every *.conf of dir in name order. 0, or -1 with reasons in d
 * and *ps empty. */
int patternset_load_dir(struct patternset *ps, const char *dir, struct diag *d);

/* Loads one file (adds to ps). 0 or -1 with reasons in d. */
int patternset_load_file(struct patternset *ps, const char *path, struct diag *d);

void patternset_free(struct patternset *ps);

/* True when the pattern applies to lines with this tag. */
bool pattern_wants_tag(const struct pattern *p, const char *tag);

/*
 * Turns the named patterns on (enable) or off (disable), after what their
 * files say; where is the configuration's name for the errors. 0, or -1
 * with a reason in d for each name no loaded pattern has.
 */
int patternset_choose(struct patternset *ps, char *const *enable, size_t nenable,
		      char *const *disable, size_t ndisable, const char *where, struct diag *d);

#endif
