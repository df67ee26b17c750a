/* SPDX-License-Identifier: GPL-2.0-or-later */
/* loader: owns loading a configuration together with the pattern set it names, as one unit.
 * Used at start, by `spamwrathd -t`, by replay and by every reload, so all judge files alike.
 * It must never hand out a configuration whose patterns failed to load, nor exit. */
#ifndef SPAMWRATH_LOADER_H
#define SPAMWRATH_LOADER_H

#include "config.h"
#include "diag.h"
#include "pattern.h"

struct loaded {
	struct config *cfg;
	struct patternset ps;
};

/*
 * path NULL: the default file if it exists, else built-in defaults.
 * patterns_dir, when given, replaces the configured one. 0, or -1 with
 * every reason in d and *out untouched.
 */
int loader_load(const char *path, bool path_given, const char *patterns_dir,
		struct loaded *out, struct diag *d);
void loader_free(struct loaded *l);

#endif
