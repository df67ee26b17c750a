/* SPDX-License-Identifier: GPL-2.0-or-later */
/* report: owns what `spamwrathctl test` prints: JSON events as they happen, or a readable summary.
 * It is the judge's sink in replay, the counterpart of the daemon's ban backend.
 * It must never change a decision, only describe it. */
#ifndef SPAMWRATH_REPORT_H
#define SPAMWRATH_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "judge.h"
#include "pipeline.h"

struct report_ban;

struct report {
	FILE *out;
	bool json;
	uint64_t ignored_by[16];	/* by reason, see report.c */
	struct report_ban *bans;	/* the first bans, for the readable report */
	size_t nbans;
};

void report_init(struct report *r, FILE *out, bool json);
void report_free(struct report *r);

/* The judge's sink (judge_emit_fn). */
void report_event(void *ctx, const struct judge_event *e);

/* The closing summary: a JSON line, or the readable report. */
void report_summary(struct report *r, const struct pipeline *pl, double seconds);

#endif
