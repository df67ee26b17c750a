/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loader.h"

/*
 * Settings that are valid but rarely what the site means. A filter may log
 * a spam verdict for mail it only tags and delivers (Debian's MIMEDefang
 * filter writes MDLOG spam for every message over SpamAssassin's
 * required_hits): min_score is then all that stands between that mail and
 * a ban.
 */
static void loader_warn(const struct config *c, struct diag *d)
{
	const struct class_conf *spam = &c->classes[CLASS_SPAM];

	if (spam->enabled && !spam->has_min_score)
		diag_warn(d, c->path ? c->path : "configuration", 0,
			  "class spam has no min_score: every spam verdict a filter logs counts, "
			  "also those it only tags and delivers (Debian's MIMEDefang filter logs "
			  "one for every message over required_hits); set class spam { min_score "
			  "= N } to the score your filter rejects at");
}

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
	if (patternset_load_dir(&l.ps, l.cfg->patterns_dir, d) < 0 ||
	    patternset_choose(&l.ps, l.cfg->enable_patterns, l.cfg->nenable_patterns,
			      l.cfg->disable_patterns, l.cfg->ndisable_patterns,
			      l.cfg->path ? l.cfg->path : "configuration", d) < 0) {
		patternset_free(&l.ps);
		config_free(l.cfg);
		return -1;
	}
	loader_warn(l.cfg, d);
	*out = l;
	return 0;
}

void loader_free(struct loaded *l)
{
	patternset_free(&l->ps);
	config_free(l->cfg);
	l->cfg = NULL;
}
