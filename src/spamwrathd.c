/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spamwrathd: follows the mail logs and bans offenders. Only main() exits;
 * everything below it returns errors. It never forks and writes no pid
 * file: systemd (Type=notify) or a terminal keeps it in the foreground.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon.h"
#include "loader.h"
#include "log.h"

static void daemon_usage(FILE *f)
{
	fprintf(f,
		"usage: spamwrathd [-c CONFIG] [-n|--dry-run] [-t] [--version] [--help]\n"
		"  -c, --config FILE   configuration (default %s)\n"
		"  -n, --dry-run       judge and log, but change no ipset (needs no privileges)\n"
		"  -t, --test          check the configuration and patterns, then exit\n",
		config_default_path());
}

static int daemon_check(const char *config)
{
	struct diag d = { 0 };
	struct loaded l;
	int rc;

	rc = loader_load(config ? config : config_default_path(), true, NULL, &l, &d);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "spamwrathd: %s\n", d.msgs[i]);
	diag_free(&d);
	if (rc < 0)
		return 1;
	printf("spamwrathd: configuration %s and %zu patterns from %s are valid\n",
	       l.cfg->path, l.ps.n, l.cfg->patterns_dir);
	loader_free(&l);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "test", no_argument, NULL, 't' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon_opts o = { 0 };
	bool check = false;
	int c;

	while ((c = getopt_long(argc, argv, "c:nth", opts, NULL)) != -1) {
		switch (c) {
		case 'c': o.config = optarg; break;
		case 'n': o.dry_run = true; break;
		case 't': check = true; break;
		case 'V': printf("spamwrathd %s\n", PACKAGE_VERSION); return 0;
		case 'h': daemon_usage(stdout); return 0;
		default: daemon_usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		daemon_usage(stderr);
		return 2;
	}
	if (check)
		return daemon_check(o.config);
	log_init("spamwrathd", LOG_TARGET_AUTO);
	return daemon_run(&o) == 0 ? 0 : 1;
}
