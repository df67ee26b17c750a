/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cfgfile: owns reading one libconfuse file and knowing the line of every value in it.
 * libconfuse reports the line of its look-ahead token; we scan the text once more for exact lines.
 * It must never interpret values: config and pattern loaders do, and report with cfgfile_line. */
#ifndef SPAMWRATH_CFGFILE_H
#define SPAMWRATH_CFGFILE_H

#include <confuse.h>
#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

struct cfgloc;

struct cfgfile {
	const char *path;
	cfg_t *cfg;
	struct cfgloc *locs;
	size_t nlocs, caplocs;
};

/* Parses path against opts. 0, or -1 with libconfuse's reasons in d. */
int cfgfile_parse(struct cfgfile *f, const char *path, cfg_opt_t *opts, struct diag *d);
void cfgfile_free(struct cfgfile *f);

/*
 * The line of value number index of key, inside the section named sec with
 * title title (both NULL at top level; title NULL for an untitled section),
 * or of the section itself when key is NULL. 0 when not found.
 */
int cfgfile_line(const struct cfgfile *f, const char *sec, const char *title,
		 const char *key, unsigned index);

/*
 * The *.conf files of dir (hidden ones aside), in byte order of their
 * names, as "dir/name" paths in *paths (free each, then the array). The
 * count, or -1 with errno set (ENOENT: no such directory).
 */
int cfgfile_list(const char *dir, char ***paths);

/* True when the file assigned key (so it overrides earlier files). */
bool cfgfile_has(const struct cfgfile *f, const char *sec, const char *title, const char *key);

#endif
