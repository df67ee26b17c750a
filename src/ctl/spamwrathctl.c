/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spamwrathctl: the administrator's tool. `test` replays logs offline
 * through the daemon's own engine; the other commands speak to a running
 * spamwrathd over its control socket.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "ctlclient.h"
#include "duration.h"
#include "fixture.h"
#include "jsonout.h"
#include "loader.h"
#include "pipeline.h"
#include "replay.h"
#include "report.h"

/* Exit statuses: done, refused or failed, usage, no daemon. */
#define EXIT_REFUSED 1
#define EXIT_USAGE 2
#define EXIT_UNREACHABLE 3

static void ctl_usage(FILE *f)
{
	fprintf(f,
		"usage: spamwrathctl [-s SOCKET] status [--json]\n"
		"       spamwrathctl [-s SOCKET] list [--json]\n"
		"       spamwrathctl [-s SOCKET] ban ADDRESS [--for DURATION] [--reason TEXT]\n"
		"       spamwrathctl [-s SOCKET] unban ADDRESS [--forget] [--local]\n"
		"       spamwrathctl [-s SOCKET] reload\n"
		"       spamwrathctl [-s SOCKET] metrics\n"
		"       spamwrathctl [-s SOCKET] why ADDRESS [--json]\n"
		"       spamwrathctl test [-c CONFIG] [-p PATTERNS_DIR] [--program TAG] [--year YEAR]\n"
		"                         [--json] FILE...\n"
		"       spamwrathctl test --check [--coverage] [-c CONFIG] [-p PATTERNS_DIR] FIXTURE...\n"
		"\n"
		"  -s, --socket PATH       the daemon's control socket (default: control_socket\n"
		"                          of the configuration, %s)\n"
		"  status  uptime, sources, counters, active bans, last reload, and in a\n"
		"          fleet its hosts, reachability and lag\n"
		"  list    active bans: address, time left, class, pattern, offences\n"
		"          (in a fleet also the host that decided each)\n"
		"  ban     ban now, through the judge (escalation unless --for)\n"
		"  unban   lift a ban; --forget also drops the history escalation counts;\n"
		"          in a fleet on every host, with --local on this one alone\n"
		"  reload  read configuration and patterns again; report errors\n"
		"  metrics counters and gauges in Prometheus' text format\n"
		"  why     the evidence of an address's bans: the log lines that made them\n"
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
		"                          line that it matches, or no near miss\n"
		"\n"
		"Exit status: 0 done, 1 refused or failed, 2 usage error, 3 daemon unreachable.\n",
		"/run/spamwrath/control.sock", config_default_path());
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

/* test's progress line, on stderr when it is a terminal, for files of at
 * least CTL_PROGRESS_MIN bytes: redrawn every CTL_PROGRESS_EVERY seconds,
 * and left as a last line with the file's rate when the file is done. */
#define CTL_PROGRESS_MIN (4u << 20)
#define CTL_PROGRESS_EVERY 0.2

struct ctl_progress {
	const char *name;
	double t0, drawn;
	uint64_t lines;
	bool big;
};

static void ctl_progress_draw(void *arg, uint64_t done, uint64_t total, uint64_t lines)
{
	struct ctl_progress *p = arg;
	double now = ctl_now(), secs = now - p->t0;

	p->lines = lines;
	if (total < CTL_PROGRESS_MIN)
		return;
	p->big = true;
	if (now - p->drawn < CTL_PROGRESS_EVERY)
		return;
	p->drawn = now;
	fprintf(stderr, "\r\033[K%s: %3.0f%%  %llu lines  %.0f lines/s", p->name,
		100.0 * (double)done / (double)total, (unsigned long long)lines,
		secs > 0 ? (double)lines / secs : 0.0);
}

/* Replays one file; with progress, draws it and ends with the file's rate. */
static int ctl_replay(struct pipeline *pl, const char *path, struct replay_opts *ro,
		      bool progress, struct diag *d)
{
	struct ctl_progress p = { .name = path, .t0 = ctl_now() };
	int rv;

	if (progress) {
		p.drawn = p.t0;
		ro->progress = ctl_progress_draw;
		ro->progress_arg = &p;
	}
	rv = replay_file(pl, path, ro, d);
	ro->progress = NULL;
	if (p.big) {
		double secs = ctl_now() - p.t0;

		fprintf(stderr, "\r\033[K%s: %s, %llu lines in %.2f s, %.0f lines/s\n", path,
			rv < 0 ? "stopped" : "100%", (unsigned long long)p.lines, secs,
			secs > 0 ? (double)p.lines / secs : 0.0);
	}
	return rv;
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
	bool progress = isatty(STDERR_FILENO);
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
		ctl_print_diag(&d);	/* warnings: the configuration's */
		diag_free(&d);
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
		if (ctl_replay(&pl, argv[i], &ro, progress, &d) < 0)
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

/* --- commands spoken to the daemon --- */

/* The socket named by -s, else the configuration's, else the default. */
static char *ctl_socket_path(const char *given)
{
	struct diag d = { 0 };
	struct config *c;
	char *p;

	if (given)
		return strdup(given);
	if (access(config_default_path(), R_OK) == 0 && config_load(config_default_path(), &c, &d) == 0) {
		p = strdup(c->control_socket);
		config_free(c);
		diag_free(&d);
		return p;
	}
	diag_free(&d);
	return strdup("/run/spamwrath/control.sock");
}

/* Sends one request; prints what the daemon said. Returns the exit status
 * and, on success, the reply in *r (when r is not NULL). */
static int ctl_call(const char *sock, const char *request, struct ctl_reply *r)
{
	struct ctl_reply tmp;
	int fd, e;

	if (!r)
		r = &tmp;
	fd = ctlclient_connect(sock);
	if (fd == -EACCES || fd == -EPERM) {
		fprintf(stderr, "spamwrathctl: %s: permission denied (root, or a member of the "
			"daemon's control_group, may use it)\n", sock);
		return EXIT_REFUSED;
	}
	if (fd < 0) {
		fprintf(stderr, "spamwrathctl: cannot reach spamwrathd at %s: %s\n", sock,
			strerror(-fd));
		return EXIT_UNREACHABLE;
	}
	e = ctlclient_request(fd, request, r);
	close(fd);
	if (e < 0) {
		fprintf(stderr, "spamwrathctl: %s: %s\n", sock, strerror(-e));
		return EXIT_UNREACHABLE;
	}
	if (r->code / 100 != 2) {
		for (size_t i = 0; i < r->n; i++)
			fprintf(stderr, "spamwrathctl: %s\n", r->lines[i]);
		ctlclient_reply_free(r);
		return EXIT_REFUSED;
	}
	if (r == &tmp) {
		for (size_t i = 0; i < r->n; i++)
			printf("%s\n", r->lines[i]);
		ctlclient_reply_free(r);
	}
	return 0;
}

/* A scalar as text; JSON's null (a state without an error, say) is "none". */
static const char *ctl_scalar(struct json_object *v)
{
	return v ? json_object_get_string(v) : "none";
}

/* Readable form of a JSON value: objects as "key: value" lines, arrays of
 * objects as one line each. */
static void ctl_print_json(const char *key, struct json_object *v, int depth)
{
	enum json_type t = json_object_get_type(v);

	if (t == json_type_object) {
		if (key)
			printf("%*s%s:\n", depth * 2, "", key);
		json_object_object_foreach(v, k, val)
			ctl_print_json(k, val, key ? depth + 1 : depth);
	} else if (t == json_type_array) {
		size_t n = json_object_array_length(v);

		printf("%*s%s:%s\n", depth * 2, "", key ? key : "", n ? "" : " none");
		for (size_t i = 0; i < n; i++) {
			struct json_object *e = json_object_array_get_idx(v, i);

			printf("%*s-", depth * 2 + 2, "");
			if (json_object_get_type(e) == json_type_object) {
				json_object_object_foreach(e, k, val)
					printf(" %s=%s", k, ctl_scalar(val));
			} else {
				printf(" %s", ctl_scalar(e));
			}
			printf("\n");
		}
	} else {
		printf("%*s%s: %s\n", depth * 2, "", key ? key : "", ctl_scalar(v));
	}
}

static struct json_object *ctl_payload(const struct ctl_reply *r)
{
	return r->n >= 2 ? json_tokener_parse(r->lines[0]) : NULL;
}

static int ctl_status(const char *sock, bool json)
{
	struct ctl_reply r;
	struct json_object *o;
	int rc = ctl_call(sock, "status", &r);

	if (rc)
		return rc;
	o = ctl_payload(&r);
	if (!o) {
		fprintf(stderr, "spamwrathctl: the daemon's status is not JSON\n");
		rc = EXIT_REFUSED;
	} else if (json) {
		printf("%s\n", r.lines[0]);
	} else {
		ctl_print_json(NULL, o, 0);
	}
	json_object_put(o);
	ctlclient_reply_free(&r);
	return rc;
}

static const char *ctl_get(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "-";
}

static int ctl_list(const char *sock, bool json)
{
	struct ctl_reply r;
	struct json_object *o;
	char dbuf[32];
	int rc = ctl_call(sock, "list", &r);

	if (rc)
		return rc;
	o = ctl_payload(&r);
	if (!o || json_object_get_type(o) != json_type_array) {
		fprintf(stderr, "spamwrathctl: the daemon's list is not a JSON array\n");
		rc = EXIT_REFUSED;
	} else if (json) {
		printf("%s\n", r.lines[0]);
	} else {
		size_t n = json_object_array_length(o);
		bool fleet = false;	/* in a fleet, each ban names its origin host */

		for (size_t i = 0; i < n && !fleet; i++)
			fleet = json_object_object_get_ex(json_object_array_get_idx(o, i), "origin",
							  NULL);
		printf("%-28s %-10s %-18s %-32s %8s %7s%s\n", "ADDRESS", "LEFT", "CLASS", "PATTERN",
		       "OFFENCES", "EARLIER", fleet ? " ORIGIN" : "");
		for (size_t i = 0; i < n; i++) {
			struct json_object *b = json_object_array_get_idx(o, i), *v;
			long left = json_object_object_get_ex(b, "remaining", &v) ?
				(long)json_object_get_int64(v) : 0;

			printf("%-28s %-10s %-18s %-32s %8s %7s%s%s\n", ctl_get(b, "address"),
			       duration_format(left, dbuf, sizeof(dbuf)), ctl_get(b, "class"),
			       ctl_get(b, "pattern"), ctl_get(b, "offences"),
			       ctl_get(b, "earlier_bans"), fleet ? " " : "",
			       fleet ? ctl_get(b, "origin") : "");
		}
		printf("%zu active ban%s\n", n, n == 1 ? "" : "s");
	}
	json_object_put(o);
	ctlclient_reply_free(&r);
	return rc;
}

/* One offence of why's record: where, what, and the line itself. */
static void ctl_why_offence(struct json_object *o)
{
	struct json_object *v;

	printf("  %s  %s", ctl_get(o, "time"), ctl_get(o, "source"));
	if (json_object_object_get_ex(o, "file", &v))
		printf(" %s:%s", json_object_get_string(v), ctl_get(o, "line"));
	else if (json_object_object_get_ex(o, "journal_time", &v))
		printf(" entry %s", json_object_get_string(v));
	else
		printf(" entry %s", ctl_get(o, "line"));
	printf("  %s  %s  weight %s", ctl_get(o, "pattern"), ctl_get(o, "class"),
	       ctl_get(o, "weight"));
	if (json_object_object_get_ex(o, "ignored", &v))
		printf("  ignored: %s", json_object_get_string(v));
	if (json_object_object_get_ex(o, "text", &v) && v)
		printf("\n    %s\n", json_object_get_string(v));
	else
		printf("\n    (the line is no longer in memory)\n");
}

static void ctl_why_list(struct json_object *o, const char *key, const char *none)
{
	struct json_object *a;
	size_t n;

	if (!json_object_object_get_ex(o, key, &a) || json_object_get_type(a) != json_type_array)
		return;
	n = json_object_array_length(a);
	if (n == 0 && none)
		printf("%s\n", none);
	for (size_t i = 0; i < n; i++)
		ctl_why_offence(json_object_array_get_idx(a, i));
}

/* The text form of why's answer; 0 when anything is on record. */
static int ctl_why_text(struct json_object *o)
{
	struct json_object *bans, *v;
	char dbuf[32];
	size_t n = 0, npending = 0;

	if (json_object_object_get_ex(o, "bans", &bans))
		n = json_object_array_length(bans);
	if (json_object_object_get_ex(o, "pending", &v))
		npending = json_object_array_length(v);
	printf("%s", ctl_get(o, "key"));
	if (json_object_object_get_ex(o, "banned", &v) && json_object_get_boolean(v)) {
		json_object_object_get_ex(o, "remaining", &v);
		printf(": banned until %s (%s left), %s, pattern %s\n", ctl_get(o, "until"),
		       duration_format((long)json_object_get_int64(v), dbuf, sizeof(dbuf)),
		       ctl_get(o, "class"), ctl_get(o, "pattern"));
	} else {
		printf(": not banned now\n");
	}
	if (json_object_object_get_ex(o, "never_banned", &v) && v)
		printf("never banned here: %s (its lines are not offences)\n",
		       json_object_get_string(v));
	for (size_t i = n; i-- > 0;) {
		struct json_object *b = json_object_array_get_idx(bans, i);

		json_object_object_get_ex(b, "duration", &v);
		printf("ban at %s for %s: %s, pattern %s, origin %s, %s offence(s) counted, "
		       "%s earlier ban(s)\n", ctl_get(b, "time"),
		       duration_format((long)json_object_get_int64(v), dbuf, sizeof(dbuf)),
		       ctl_get(b, "class"), ctl_get(b, "pattern"), ctl_get(b, "origin"),
		       ctl_get(b, "offences_counted"), ctl_get(b, "earlier_bans"));
		if (json_object_object_get_ex(b, "decided_by", &v))
			printf("  decided by %s of the fleet\n", json_object_get_string(v));
		ctl_why_list(b, "offences", json_object_object_get_ex(b, "decided_by", &v) ? NULL :
			     "  (no log line: a ban by hand)");
	}
	if (npending) {
		printf("since then, not (yet) a ban:\n");
		ctl_why_list(o, "pending", NULL);
	}
	if (n == 0 && npending == 0)
		printf("no ban and no offence on record\n");
	return n || npending ? 0 : EXIT_REFUSED;
}

static int ctl_why(const char *sock, const char *addr, bool json)
{
	char req[CONTROL_REQUEST_MAX];
	struct ctl_reply r;
	struct json_object *o;
	int rc;

	snprintf(req, sizeof(req), "why %s", addr);
	rc = ctl_call(sock, req, &r);
	if (rc)
		return rc;
	o = ctl_payload(&r);
	if (!o || json_object_get_type(o) != json_type_object) {
		fprintf(stderr, "spamwrathctl: the daemon's answer is not a JSON object\n");
		rc = EXIT_REFUSED;
	} else if (json) {
		printf("%s\n", r.lines[0]);
	} else {
		rc = ctl_why_text(o);
	}
	json_object_put(o);
	ctlclient_reply_free(&r);
	return rc;
}

/* The reply's lines but the last ("ok"), as they came. */
static int ctl_metrics(const char *sock)
{
	struct ctl_reply r;
	int rc = ctl_call(sock, "metrics", &r);

	if (rc)
		return rc;
	for (size_t i = 0; i + 1 < r.n; i++)
		printf("%s\n", r.lines[i]);
	ctlclient_reply_free(&r);
	return 0;
}

static int ctl_command(const char *sock, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "for", required_argument, NULL, 'f' },
		{ "reason", required_argument, NULL, 'r' },
		{ "forget", no_argument, NULL, 'F' },
		{ "local", no_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = argv[0], *dur = NULL, *reason = NULL;
	bool json = false, forget = false, local = false;
	char req[CONTROL_REQUEST_MAX];
	int c;
	long secs;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'f': dur = optarg; break;
		case 'r': reason = optarg; break;
		case 'F': forget = true; break;
		case 'L': local = true; break;
		default: ctl_usage(stderr); return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if ((strcmp(cmd, "status") == 0 || strcmp(cmd, "list") == 0 ||
	     strcmp(cmd, "reload") == 0 || strcmp(cmd, "metrics") == 0) &&
	    (argc != 0 || dur || reason || forget || local)) {
		fprintf(stderr, "spamwrathctl %s: takes no argument%s\n", cmd,
			strcmp(cmd, "status") && strcmp(cmd, "list") ? "" : " but --json");
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "metrics") == 0)
		return json ? EXIT_USAGE : ctl_metrics(sock);
	if (strcmp(cmd, "status") == 0)
		return ctl_status(sock, json);
	if (strcmp(cmd, "list") == 0)
		return ctl_list(sock, json);
	if (strcmp(cmd, "reload") == 0)
		return json ? EXIT_USAGE : ctl_call(sock, "reload", NULL);
	if (strchr(argc == 1 ? argv[0] : "", ' ') || strchr(argc == 1 ? argv[0] : "", '\n')) {
		fprintf(stderr, "spamwrathctl: \"%s\" is not an address\n", argv[0]);
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "why") == 0)
		return argc != 1 || dur || reason || forget || local ? EXIT_USAGE : ctl_why(sock, argv[0], json);
	if (argc != 1 || json || (strcmp(cmd, "unban") == 0 && (dur || reason)) ||
	    (strcmp(cmd, "ban") == 0 && (forget || local))) {
		ctl_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "unban") == 0) {
		snprintf(req, sizeof(req), "unban %s%s%s", argv[0], forget ? " forget" : "",
			 local ? " local" : "");
		return ctl_call(sock, req, NULL);
	}
	if (dur) {
		int r = duration_parse(dur, &secs);

		if (r < 0 || secs <= 0) {
			fprintf(stderr, "spamwrathctl: --for: \"%s\" is %s\n", dur,
				r == -2 ? duration_error(r) : "not a duration (90s, 15m, 12h, 7d)");
			return EXIT_USAGE;
		}
	}
	if (reason && (strchr(reason, '\n') || strlen(reason) > 64)) {
		fprintf(stderr, "spamwrathctl: --reason: one line of at most 64 characters\n");
		return EXIT_USAGE;
	}
	snprintf(req, sizeof(req), "ban %s%s%s%s%s", argv[0], dur ? " for=" : "", dur ? dur : "",
		 reason ? " reason=" : "", reason ? reason : "");
	return ctl_call(sock, req, NULL);
}

int main(int argc, char **argv)
{
	static char outbuf[1 << 16];
	const char *sockopt = NULL;

	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	while (argc >= 3 && (strcmp(argv[1], "-s") == 0 || strcmp(argv[1], "--socket") == 0)) {
		sockopt = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 2) {
		ctl_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "status") == 0 || strcmp(argv[1], "list") == 0 ||
	    strcmp(argv[1], "ban") == 0 || strcmp(argv[1], "unban") == 0 ||
	    strcmp(argv[1], "reload") == 0 || strcmp(argv[1], "metrics") == 0 ||
	    strcmp(argv[1], "why") == 0) {
		char *sock = ctl_socket_path(sockopt);
		int rc;

		if (!sock) {
			fprintf(stderr, "spamwrathctl: out of memory\n");
			return EXIT_REFUSED;
		}
		rc = ctl_command(sock, argc - 1, argv + 1);
		free(sock);
		if (fflush(stdout) != 0)
			rc = EXIT_REFUSED;
		return rc;
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
