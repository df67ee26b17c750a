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

static void spamwrathd_usage(FILE *f)
{
	fprintf(f,
		"usage: spamwrathd [-c CONFIG] [-n|--dry-run] [-t] [--get KEY] [--list-keys] [--version]\n"
		"                  [--help]\n"
		"  -c, --config FILE   configuration (default %s)\n"
		"  -n, --dry-run       judge and log, but change no ipset (needs no privileges)\n"
		"  -t, --test          check the configuration and patterns, then exit\n"
		"      --get KEY       print the effective value of a configuration key\n"
		"                      (findtime, ipset.set4, firewall.ports...), then exit\n"
		"      --list-keys     print every configuration key and its type, then exit\n",
		config_default_path());
}

/*
 * --get: for scripts that must agree with the daemon, such as
 * spamwrath-firewall (set names, ports). Reads the configuration only,
 * not the patterns.
 */
static int spamwrathd_get(const char *config, const char *key)
{
	struct diag d = { 0 };
	struct config *c = NULL;
	int rc = 0;

	if (config_load(config ? config : config_default_path(), &c, &d) < 0)
		rc = 1;
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "spamwrathd: %s\n", d.msgs[i]);
	diag_free(&d);
	if (rc == 0 && config_print(c, key, stdout) < 0) {
		fprintf(stderr, "spamwrathd: --get: no configuration key \"%s\"\n", key);
		rc = 2;
	}
	config_free(c);
	if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}

static int spamwrathd_check(const char *config)
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
		{ "get", required_argument, NULL, 'G' },
		{ "list-keys", no_argument, NULL, 'K' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon_opts o = { 0 };
	const char *get = NULL;
	bool check = false;
	int c;

	while ((c = getopt_long(argc, argv, "c:nth", opts, NULL)) != -1) {
		switch (c) {
		case 'c': o.config = optarg; break;
		case 'n': o.dry_run = true; break;
		case 't': check = true; break;
		case 'G': get = optarg; break;
		case 'K': config_list_keys(stdout); return fflush(stdout) == 0 ? 0 : 1;
		case 'V': printf("spamwrathd %s\n", PACKAGE_VERSION); return 0;
		case 'h': spamwrathd_usage(stdout); return 0;
		default: spamwrathd_usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		spamwrathd_usage(stderr);
		return 2;
	}
	if (get)
		return spamwrathd_get(o.config, get);
	if (check)
		return spamwrathd_check(o.config);
	log_init("spamwrathd", LOG_TARGET_AUTO);
	return daemon_run(&o) == 0 ? 0 : 1;
}
