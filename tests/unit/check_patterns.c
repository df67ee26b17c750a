/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The shipped patterns against hostile lines: no catastrophic
 * backtracking, checked by counting, not by timing. Every pattern of
 * patterns/ meets 64 KiB lines built from a prefix that lets it get far
 * (the start of a real line of each program) and a filler repeated to the
 * end ("a[a[a[...", runs of '[', '<', '"', spaces, " H=", ", relay=[", ...).
 *
 * - The interpreter (PCRE2_NO_JIT) gets a budget linear in the line: four
 *   backtracking steps per byte, 262,140 for 64 KiB, forty times below
 *   PCRE2's own default. A pattern that backtracks catastrophically needs
 *   millions; one that scans the line a few times fits.
 * - The real matcher (JIT where available, MATCHER_MATCH_LIMIT, its JIT
 *   stack) must not abandon a single line at its limits.
 * - Every pattern must be anchored, so that it is tried at one position
 *   only, not at each of 65,535.
 * - The cost of every pattern over the same lines at 1, 10 and 64 KiB, in
 *   deterministic units: each pattern is compiled again with
 *   PCRE2_AUTO_CALLOUT and run on the interpreter (without the start
 *   optimizations, whose quick "no match" for a required byte PCRE2 looks
 *   for in the first few KiB only would hide the cost of short lines and
 *   not of long ones), and a line costs one
 *   unit per callout (one per item the matcher tries) plus the distance
 *   the subject pointer moved since the previous one (a class repeat
 *   scanning 64 KiB is one item, but 65,536 units). PCRE2's match limit
 *   counts backtracking only, and misses a regex that is linear per try
 *   but retried at every brace ("{[^{}]*x[^{}]*}" on an unclosed block:
 *   quadratic): these units see both. A line may cost at most
 *   COST_PER_BYTE units per byte, and its cost per byte may at most
 *   double from one size to the next (give or take COST_SLACK units): a
 *   linear cost's stays put, give or take where the filler is cut, a
 *   quadratic one's grows 10 and 6.4 times.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matcher.h"
#include "names.h"
#include "pattern.h"
#include "unit.h"

#define LINE_LEN 65535		/* max_line is 64 KiB */
#define STEPS_PER_BYTE 4
#define COST_PER_BYTE 64
#define COST_SLACK 1024	/* units of growth a short line may show */
#define COST_SIZES 3
static const size_t cost_len[COST_SIZES] = { 1024, 10240, LINE_LEN };

static const char *prefixes[] = {
	"",
	"NOQUEUE: reject: RCPT from unknown[203.0.113.1]: 550 5.1.1 <a@b>: Recipient address rejected: User unknown; ",
	"NOQUEUE: reject: RCPT from ",
	"4F2AB3C0899: to=<",
	"4F2AB3C0899: client=",
	"4F2AB3C0899: milter-reject: END-OF-MESSAGE from x[203.0.113.1]: 5.7.1 ",
	"warning: unknown[203.0.113.1]: SASL LOGIN authentication failed: ",
	"disconnect from unknown[203.0.113.1]",
	"PREGREET 11 after 0.02 from [",
	"5ARBiGk0012345: from=<",
	"5ARBiGk0012345: AUTH failure (LOGIN): ",
	"5ARBiGk0012345: <",
	"ruleset=check_rcpt, arg1=<",
	"H=(",
	"H=(x) [203.0.113.1] ",
	"1vXyZa-0001Ab-Cd <= a@b H=(x) [203.0.113.1] ",
	"SMTP protocol error in \"",
	"SMTP protocol synchronization error (x): rejected \"",
	"SA: Action: flagged as Spam but accepted: score=1 ",
	"MDLOG,ABC,spam,1,203.0.113.1,",
	"(123-01) Blocked SPAM {DiscardedInbound}, [203.0.113.1]:1 <a> -> <b>",
	"rspamd_task_write_log: id: <",
	"rspamd_task_write_log: id: <x>, ip: 203.0.113.1, (default: T (reject): [",
	"Message ABC from <a> to <b> with subject ",
	"(123-01) Blocked SPAM {",
	"(123-01) Blocked INFECTED (",
	"(123-01) Blocked INFECTED (x) {",
	"(123-01) Passed CLEAN {",
	"H=(x) [203.0.113.1]:1 F=<a> ",
	"no MAIL in SMTP connection from (",
	"no MAIL in SMTP connection from [203.0.113.1]:1 D=1s C=",
	"warning: unknown[203.0.113.1]: SASL LOGIN authentication failed",
	"NOQUEUE: reject: RCPT from [203.0.113.1]:1: 550 5.5.1 Protocol error;",
	"NOQUEUE: reject: RCPT from x[203.0.113.1]: 450 4.1.8 <a>: Sender address rejected: ",
	"ruleset=check_rcpt, arg1=<a>, relay=[203.0.113.1], reject=550 5.7.1 <a>... ",
	NULL
};

static const char *fillers[] = {
	"a[", "[", "]", "<", ">", " ", "(", ")", "\"", ":", ": ", "1.", "a", "=",
	"H=(", " H=", "x) [203.0.113.1] ", "[203.0.113.1] ", "\" H=(x) [203.0.113.1]",
	", relay=[", "; from=<", "> to=<", ", ip: 203.0.113.1, ", " for ", "(host=",
	", mail_id: x, Hits: ", " a=1", "Inbound", "{Inbound", ") {", "), ", ",<a>",
	") [203.0.113.1] F=", ") [203.0.113.1] ", "C=QUIT", " temporarily", ": Sender ",
	", forced: reject \"", ", forced: reject \"x: virus", NULL
};

/* One tag per program the shipped patterns are written for. */
static const char *tags[] = {
	"postfix/smtpd", "postfix/submission/smtpd", "postfix/postscreen", "postfix/cleanup",
	"postfix/local", "postfix/virtual", "postfix/smtp", "postfix/lmtp", "postfix/qmgr",
	"sm-mta", "sendmail", "exim", "mimedefang.pl", "amavis", "rspamd", "clamav-milter",
	NULL
};

static struct patternset ps;
static char *line;

static void fill(const char *prefix, const char *filler)
{
	size_t n = strlen(prefix), fl = strlen(filler);

	memcpy(line, prefix, n);
	while (n < LINE_LEN) {
		size_t c = fl < LINE_LEN - n ? fl : LINE_LEN - n;

		memcpy(line + n, filler, c);
		n += c;
	}
	line[LINE_LEN] = '\0';
}

static void setup(void)
{
	struct diag d = { 0 };
	int rc = patternset_load_dir(&ps, UNIT_SRCDIR "/patterns", &d);

	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s\n", d.msgs[i]);
	ck_assert_int_eq(rc, 0);
	diag_free(&d);
	ck_assert_uint_gt(ps.n, 50);
	line = malloc(LINE_LEN + 1);
	ck_assert_ptr_nonnull(line);
}

static void teardown(void)
{
	patternset_free(&ps);
	free(line);
}

START_TEST(anchored)
{
	for (size_t i = 0; i < ps.n; i++) {
		uint32_t opts = 0;

		pcre2_pattern_info(ps.v[i].re, PCRE2_INFO_ALLOPTIONS, &opts);
		ck_assert_msg(opts & PCRE2_ANCHORED, "pattern %s is not anchored with ^",
			      names_get(ps.v[i].name));
	}
}
END_TEST

START_TEST(linear_budget)
{
	pcre2_match_context *mc = pcre2_match_context_create(NULL);
	pcre2_match_data *md = pcre2_match_data_create(ps.max_capture + 1, NULL);

	ck_assert_ptr_nonnull(mc);
	ck_assert_ptr_nonnull(md);
	pcre2_set_match_limit(mc, STEPS_PER_BYTE * LINE_LEN);
	pcre2_set_depth_limit(mc, 1000);
	for (size_t p = 0; prefixes[p]; p++) {
		for (size_t f = 0; fillers[f]; f++) {
			fill(prefixes[p], fillers[f]);
			for (size_t i = 0; i < ps.n; i++) {
				int rc = pcre2_match(ps.v[i].re, (PCRE2_SPTR)line, LINE_LEN, 0,
						     PCRE2_NO_JIT, md, mc);

				ck_assert_msg(rc >= 0 || rc == PCRE2_ERROR_NOMATCH,
					      "pattern %s: error %d over \"%s\" + \"%s\"...",
					      names_get(ps.v[i].name), rc, prefixes[p], fillers[f]);
			}
		}
	}
	pcre2_match_data_free(md);
	pcre2_match_context_free(mc);
}
END_TEST

/* What the callouts saw of one match. */
struct cost {
	uint64_t units;
	size_t last;
};

static int cost_callout(pcre2_callout_block *cb, void *data)
{
	struct cost *c = data;
	size_t p = cb->current_position;

	c->units += 1 + (p > c->last ? p - c->last : c->last - p);
	c->last = p;
	return 0;
}

/* The most units any line of a size cost a pattern, and the line. */
struct cost_worst {
	uint64_t units[COST_SIZES];
	size_t prefix[COST_SIZES], filler[COST_SIZES];
};

/* The units one pattern costs on the line at each size. */
static void cost_of(pcre2_code *re, pcre2_match_data *md, pcre2_match_context *mc,
		    struct cost *c, const char *name, uint64_t u[COST_SIZES])
{
	for (size_t k = 0; k < COST_SIZES; k++) {
		int rc;

		/* a match that cost the same at 1 and 10 KiB never moved past
		 * the first KiB: the units count every byte the subject
		 * pointer travels */
		if (k == 2 && u[1] == u[0]) {
			u[2] = u[1];
			break;
		}
		*c = (struct cost){ 0, 0 };
		rc = pcre2_match(re, (PCRE2_SPTR)line, cost_len[k], 0, PCRE2_NO_JIT, md, mc);
		ck_assert_msg(rc >= 0 || rc == PCRE2_ERROR_NOMATCH, "pattern %s: error %d", name, rc);
		u[k] = c->units;
	}
}

START_TEST(cost_per_line)
{
	pcre2_match_context *mc = pcre2_match_context_create(NULL);
	pcre2_match_data *md = pcre2_match_data_create(ps.max_capture + 1, NULL);
	struct cost_worst *worst = calloc(ps.n, sizeof(*worst));
	pcre2_code **re = calloc(ps.n, sizeof(*re));
	struct cost c;

	ck_assert_ptr_nonnull(mc);
	ck_assert_ptr_nonnull(md);
	ck_assert_ptr_nonnull(worst);
	ck_assert_ptr_nonnull(re);
	pcre2_set_callout(mc, cost_callout, &c);
	for (size_t i = 0; i < ps.n; i++) {
		int err;
		PCRE2_SIZE off;

		re[i] = pcre2_compile((PCRE2_SPTR)ps.v[i].source, PCRE2_ZERO_TERMINATED,
				      PCRE2_DUPNAMES | PCRE2_AUTO_CALLOUT | PCRE2_NO_START_OPTIMIZE,
				      &err, &off, NULL);
		ck_assert_ptr_nonnull(re[i]);
	}
	for (size_t p = 0; prefixes[p]; p++) {
		for (size_t f = 0; fillers[f]; f++) {
			fill(prefixes[p], fillers[f]);
			for (size_t i = 0; i < ps.n; i++) {
				const char *name = names_get(ps.v[i].name);
				uint64_t u[COST_SIZES];

				cost_of(re[i], md, mc, &c, name, u);
				for (size_t k = 0; k < COST_SIZES; k++) {
					if (u[k] > worst[i].units[k]) {
						worst[i].units[k] = u[k];
						worst[i].prefix[k] = p;
						worst[i].filler[k] = f;
					}
				}
				ck_assert_msg(u[2] <= (uint64_t)COST_PER_BYTE * LINE_LEN,
					      "pattern %s: %llu units for 64 KiB of \"%s\" + \"%s\"... "
					      "(at most %d a byte)", name, (unsigned long long)u[2],
					      prefixes[p], fillers[f], COST_PER_BYTE);
				ck_assert_msg(u[1] <= 20 * u[0] + COST_SLACK &&
					      5 * u[2] <= 64 * u[1] + 5 * COST_SLACK,
					      "pattern %s: cost grows faster than the line over \"%s\" + "
					      "\"%s\"...: %llu, %llu, %llu units at 1, 10, 64 KiB", name,
					      prefixes[p], fillers[f], (unsigned long long)u[0],
					      (unsigned long long)u[1], (unsigned long long)u[2]);
			}
		}
	}
	/* the figures, for the reader of the test log */
	for (size_t i = 0; i < ps.n; i++) {
		fprintf(stderr, "cost %-36s %7llu %8llu %9llu units at 1/10/64 KiB "
			"(worst: \"%s\" + \"%s\")\n", names_get(ps.v[i].name),
			(unsigned long long)worst[i].units[0], (unsigned long long)worst[i].units[1],
			(unsigned long long)worst[i].units[2], prefixes[worst[i].prefix[2]],
			fillers[worst[i].filler[2]]);
		pcre2_code_free(re[i]);
	}
	free(re);
	free(worst);
	pcre2_match_data_free(md);
	pcre2_match_context_free(mc);
}
END_TEST

START_TEST(matcher_limits)
{
	struct matcher m;
	struct match out;

	/* every pattern must be tried below, under one of the tags */
	for (size_t i = 0; i < ps.n; i++) {
		bool tried = false;

		for (size_t t = 0; tags[t]; t++)
			tried |= pattern_wants_tag(&ps.v[i], tags[t]);
		ck_assert_msg(tried, "pattern %s: none of the test's tags selects it; add its "
			      "program to tags[]", names_get(ps.v[i].name));
	}
	ck_assert_int_eq(matcher_init(&m, &ps), 0);
	for (size_t p = 0; prefixes[p]; p++) {
		for (size_t f = 0; fillers[f]; f++) {
			fill(prefixes[p], fillers[f]);
			for (size_t t = 0; tags[t]; t++) {
				struct logline l = {
					.time = 1, .tag = tags[t], .taglen = strlen(tags[t]),
					.msg = line, .msglen = LINE_LEN,
				};

				matcher_match(&m, &l, &out);
				ck_assert_msg(m.limit_hits == 0, "tag %s: a pattern hit the matcher's "
					      "limits over \"%s\" + \"%s\"...", tags[t], prefixes[p],
					      fillers[f]);
			}
		}
	}
	matcher_free(&m);
}
END_TEST

static Suite *patterns_suite(void)
{
	Suite *s = suite_create("patterns");
	TCase *tc = tcase_create("hostile");

	tcase_add_checked_fixture(tc, setup, teardown);
	/* Check's watchdog, not a speed target: the work is bounded by count */
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, anchored);
	tcase_add_test(tc, linear_budget);
	tcase_add_test(tc, matcher_limits);
	tcase_add_test(tc, cost_per_line);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(patterns_suite)
