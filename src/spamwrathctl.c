/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spamwrathctl: the administrator's tool. `test` replays logs offline
 * through the daemon's own engine; the other commands speak to a running
 * spamwrathd over its control socket.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fixture.h"
#include "loader.h"
#include "pipeline.h"
#include "replay.h"
#include "report.h"

#define EXIT_USAGE 2

static void ctl_usage(FILE *f)
{
	fprintf(f,
		"usage: spamwrathctl test [-c CONFIG] [-p PATTERNS_DIR] [--program TAG] [--year YEAR]\n"
		"                         [--json] FILE...\n"
		"       spamwrathctl test --check [--coverage] [-c CONFIG] [-p PATTERNS_DIR] FIXTURE...\n"
		"\n"
		"  test   replay log files (\"-\" for stdin) through the patterns, correlation\n"
		"         and judge of spamwrathd, with each line's own time as the clock;\n"
		"         touches no ipset. Prints a report, or one JSON event per line.\n"
		"\n"
		"  -c, --config FILE       configuration (default %s)\n"
		"  -p, --patterns DIR      pattern directory instead of the configured one\n"
		"      --program TAG       tag for lines without one (Exim's mainlog: exim)\n"
		"      --year YEAR         year of the first timestamp that has none\n"
		"      --json              one JSON object per event, then a summary\n"
		"      --check             the files are fixtures (sample lines, each with the\n"
		"                          result it must give): report every line that gives\n"
		"                          something else, exit 1 if any does\n"
		"      --coverage          with --check: also fail when a pattern has no fixture\n"
		"                          line that it matches, or no near miss\n",
		config_default_path());
}

static void ctl_print_diag(const struct diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "spamwrathctl: %s\n", d->msgs[i]);
}

static double ctl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* test --check: every file is a fixture file; 1 if any line disagrees. */
static int ctl_check(struct loaded *l, const struct replay_opts *ro, bool coverage, int n,
		     char **files)
{
	struct fixture_run r;
	struct diag d = { 0 };
	int rc = 0;

	if (fixture_init(&r, l->cfg, &l->ps, stdout) < 0) {
		fprintf(stderr, "spamwrathctl: out of memory\n");
		return 1;
	}
	r.program = ro->program;
	r.year = ro->year;
	for (int i = 0; i < n; i++) {
		if (fixture_check_file(&r, files[i], &d) != 0)
			rc = 1;
		ctl_print_diag(&d);
		diag_free(&d);
	}
	if (coverage && fixture_coverage(&r) > 0)
		rc = 1;
	printf("%zu fixture files, %zu log lines, %zu not as expected\n", r.files, r.lines,
	       r.mismatches);
	if (fflush(stdout) != 0)
		rc = 1;
	fixture_free(&r);
	return rc;
}

static int ctl_test(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "patterns", required_argument, NULL, 'p' },
		{ "program", required_argument, NULL, 'P' },
		{ "year", required_argument, NULL, 'Y' },
		{ "json", no_argument, NULL, 'j' },
		{ "check", no_argument, NULL, 'C' },
		{ "coverage", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *patterns = NULL;
	struct replay_opts ro = { 0 };
	struct diag d = { 0 };
	struct loaded l;
	struct pipeline pl;
	struct report rep;
	bool json = false, check = false, coverage = false;
	double t0;
	int c, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'p': patterns = optarg; break;
		case 'P': ro.program = optarg; break;
		case 'j': json = true; break;
		case 'C': check = true; break;
		case 'V': coverage = true; break;
		case 'Y': {
			char *end;
			long y = strtol(optarg, &end, 10);

			if (*end || y < 1970 || y > 9999) {
				fprintf(stderr, "spamwrathctl: --year: \"%s\" is not a year\n", optarg);
				return EXIT_USAGE;
			}
			ro.year = (int)y;
			break;
		}
		case 'h': ctl_usage(stdout); return 0;
		default: ctl_usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "spamwrathctl test: no log file given (\"-\" reads stdin)\n");
		return EXIT_USAGE;
	}
	if ((json && check) || (coverage && !check)) {
		fprintf(stderr, "spamwrathctl test: --check takes no --json; --coverage needs --check\n");
		return EXIT_USAGE;
	}
	if (loader_load(config, config != NULL, patterns, &l, &d) < 0) {
		ctl_print_diag(&d);
		diag_free(&d);
		return 1;
	}
	if (check) {
		rc = ctl_check(&l, &ro, coverage, argc - optind, argv + optind);
		loader_free(&l);
		return rc;
	}
	report_init(&rep, stdout, json);
	if (pipeline_init(&pl, l.cfg, &l.ps, report_event, &rep, &d) < 0) {
		ctl_print_diag(&d);
		diag_free(&d);
		loader_free(&l);
		return 1;
	}
	ctl_print_diag(&d);	/* warnings: unresolved whitelist names */
	diag_free(&d);
	t0 = ctl_now();
	for (int i = optind; i < argc; i++) {
		if (replay_file(&pl, argv[i], &ro, &d) < 0)
			rc = 1;
		ctl_print_diag(&d);
		diag_free(&d);
	}
	report_summary(&rep, &pl, ctl_now() - t0);
	if (fflush(stdout) != 0)
		rc = 1;
	report_free(&rep);
	pipeline_free(&pl);
	loader_free(&l);
	return rc;
}

int main(int argc, char **argv)
{
	static char outbuf[1 << 16];

	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	if (argc < 2) {
		ctl_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "test") == 0)
		return ctl_test(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		ctl_usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("spamwrathctl %s\n", PACKAGE_VERSION);
		return 0;
	}
	fprintf(stderr, "spamwrathctl: unknown command \"%s\"\n", argv[1]);
	ctl_usage(stderr);
	return EXIT_USAGE;
}
