/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * swpatdump: prints "CLASS<TAB>REGEX" for every pattern of every *.conf
 * in a pattern directory, in the order spamwrath loads them. The bench
 * joins the offence regexes into the one regex it gives pcre2grep.
 * It reads the files with libconfuse, as spamwrath does, so quoting and
 * escapes come out the same; keys it does not know are skipped, and so
 * are the patterns shipped off (enabled = no), as spamwrath skips them.
 *
 * usage: swpatdump DIR
 */
#include <confuse.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cfg_opt_t patdump_pattern_opts[] = {
	CFG_STR("class", NULL, CFGF_NODEFAULT),
	CFG_STR("regex", NULL, CFGF_NODEFAULT),
	CFG_BOOL("enabled", cfg_true, CFGF_NONE),
	CFG_END()
};

static cfg_opt_t patdump_file_opts[] = {
	CFG_SEC("pattern", patdump_pattern_opts, CFGF_MULTI | CFGF_TITLE | CFGF_IGNORE_UNKNOWN),
	CFG_END()
};

static int patdump_is_conf(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return e->d_name[0] != '.' && n > 5 && strcmp(e->d_name + n - 5, ".conf") == 0;
}

static int patdump_by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int patdump_file(const char *path)
{
	cfg_t *cfg = cfg_init(patdump_file_opts, CFGF_IGNORE_UNKNOWN);
	int rc = 0;

	if (!cfg)
		return -1;
	if (cfg_parse(cfg, path) != CFG_SUCCESS) {
		cfg_free(cfg);
		return -1;
	}
	for (unsigned i = 0; i < cfg_size(cfg, "pattern"); i++) {
		cfg_t *s = cfg_getnsec(cfg, "pattern", i);
		const char *cls = cfg_getstr(s, "class"), *re = cfg_getstr(s, "regex");

		if (!cls || !re || strchr(re, '\n')) {
			fprintf(stderr, "swpatdump: %s: pattern %s: no class or regex, or a "
				"regex over several lines\n", path, cfg_title(s));
			rc = -1;
			continue;
		}
		if (!cfg_getbool(s, "enabled"))
			continue;
		printf("%s\t%s\n", cls, re);
	}
	cfg_free(cfg);
	return rc;
}

int main(int argc, char **argv)
{
	struct dirent **ents;
	int n, rc = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: swpatdump DIR\n");
		return 2;
	}
	n = scandir(argv[1], &ents, patdump_is_conf, patdump_by_name);
	if (n < 0) {
		perror(argv[1]);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", argv[1], ents[i]->d_name) >=
		    sizeof(path) || patdump_file(path) < 0)
			rc = 1;
		free(ents[i]);
	}
	free(ents);
	return fflush(stdout) == 0 ? rc : 1;
}
