/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fixture: owns pattern fixture files: sample log lines, each with the result it must give.
 * Each file runs through a fresh pipeline (the daemon's own engine); every event is traced to its line.
 * It must never alter a decision, nor need the source tree: users check their own pattern files. */
#ifndef SPAMWRATH_FIXTURE_H
#define SPAMWRATH_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "diag.h"
#include "pattern.h"

/*
 * A fixture file is a log with expectations. Lines starting with '#' and
 * blank lines are comments; settings and expectations may end in " # ...". Before the first log line, settings:
 *
 *   @program TAG            tag for lines without one (Exim's mainlog: exim)
 *   @year YEAR              year of the first timestamp that has none
 *   @spamtraps ADDR...      spamtrap list for this file (default: the configuration's)
 *   @enable PATTERN...      patterns to try in this file although disabled
 *
 * Then each log line is preceded by one or more expectations:
 *
 *   = ADDRESS CLASS [PATTERN [VERDICT]]  the line gives this event (an
 *                               offence, or an ignored event naming the
 *                               address); VERDICT "offence", "ignored" or
 *                               "ignored:REASON" says which
 *   = none                      the line gives no event
 *   + PATTERN                   PATTERN matches the line (e.g. a context pattern)
 *   - PATTERN                   a near miss: PATTERN must not match the line
 *
 * An event found through a queue id belongs to the line that was waiting
 * for its client (Sendmail's "QID: <x>... User unknown"), not to the line
 * that named the client.
 */

struct fixture_run {
	const struct config *cfg;
	struct patternset *ps;
	const char *program;	/* default for files without @program */
	int year;		/* default for files without @year */
	FILE *out;		/* mismatches and the per-file lines */
	size_t files, lines, mismatches;
	uint64_t *hits;		/* per pattern: held expectations that it matched */
	uint64_t *near;		/* per pattern: held near misses */
};

int fixture_init(struct fixture_run *r, const struct config *cfg, struct patternset *ps,
		 FILE *out);
void fixture_free(struct fixture_run *r);

/*
 * Checks one file: 0 when every expectation held, 1 when some did not
 * (each reported on r->out as FILE:LINE), -1 with the reason in d when the
 * file cannot be read or is not a fixture file.
 */
int fixture_check_file(struct fixture_run *r, const char *path, struct diag *d);

/* Reports every pattern of the set without a held hit or without a held
 * near miss in the files checked so far; returns how many. */
size_t fixture_coverage(const struct fixture_run *r);

#endif
