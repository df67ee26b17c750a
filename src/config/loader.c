/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loader.h"

int loader_load(const char *path, bool path_given, const char *patterns_dir,
		struct loaded *out, struct diag *d)
{
	struct loaded l = { 0 };

	if (!path_given) {
		path = config_default_path();
		if (access(path, F_OK) != 0)
			path = NULL;
	}
	if (config_load(path, &l.cfg, d) < 0)
		return -1;
	if (patterns_dir) {
		char *dir = strdup(patterns_dir);

		if (!dir) {
			diag_error(d, patterns_dir, 0, "out of memory");
			config_free(l.cfg);
			return -1;
		}
		free(l.cfg->patterns_dir);
		l.cfg->patterns_dir = dir;
	}
	if (patternset_load_dir(&l.ps, l.cfg->patterns_dir, d) < 0) {
		config_free(l.cfg);
		return -1;
	}
	*out = l;
	return 0;
}

void loader_free(struct loaded *l)
{
	patternset_free(&l->ps);
	config_free(l->cfg);
	l->cfg = NULL;
}
