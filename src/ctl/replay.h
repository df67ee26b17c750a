/* SPDX-License-Identifier: GPL-2.0-or-later */
/* replay: owns reading whole log files (or stdin) through the pipeline, each line's time as clock.
 * Big reads, lines cut in place, no system call per line: as fast as the pipeline allows.
 * It must never touch an ipset or state: what it finds goes to the pipeline's sink only. */
#ifndef SPAMWRATH_REPLAY_H
#define SPAMWRATH_REPLAY_H

#include "pipeline.h"

struct replay_opts {
	const char *program;	/* tag for lines without one */
	int year;		/* year of the first classic timestamp, 0 = nearest today */
	/* Called after each chunk read, when not NULL: bytes read so far, the
	 * file's size (0 when not a regular file) and lines so far. */
	void (*progress)(void *arg, uint64_t done, uint64_t total, uint64_t lines);
	void *progress_arg;
};

/* Replays path ("-" for stdin). 0, or -1 with the reason in d. */
int replay_file(struct pipeline *pl, const char *path, const struct replay_opts *o,
		struct diag *d);

#endif
