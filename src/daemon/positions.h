/* SPDX-License-Identifier: GPL-2.0-or-later */
/* positions: owns the sources' positions on their way between the state and the sources.
 * At start it keeps what the state recorded until each source opens and takes its own; after each
 * loop iteration it records where every source that read on stands now. It never opens a source. */
#ifndef SPAMWRATH_POSITIONS_H
#define SPAMWRATH_POSITIONS_H

#include <stddef.h>

#include "source.h"
#include "state.h"

/* The positions the state gave back, by source name, the last one of each. */
struct positions {
	struct positions_entry *v;
	size_t n;
};

/* Keep the position the state recorded for a file or journal source
 * (the callbacks of struct state_positions, with a struct positions as ctx). */
void positions_file(void *ctx, const struct state_file_pos *p);
void positions_journal(void *ctx, const char *source, const char *cursor);

/* Moves source name's saved position into *out (the caller frees it with
 * source_pos_free). False, *out untouched, when the state had none. */
bool positions_take(struct positions *ps, const char *name, struct source_pos *out);
void positions_free(struct positions *ps);

/* Records in st where each of the n sources that handed out lines since
 * its last record stands now, so that a restart resumes exactly there. */
void positions_save(struct state *st, struct source **src, size_t n);

#endif
