/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "names.h"
#include "pattern.h"
#include "unit.h"
#define UNIT_TMP_NAME "pattern"
#include "unit_tmp.h"

/* --- pattern files in a directory of our own: unit_put --- */


/* Patterns the last load_err kept (only good ones can be). */
static size_t last_n;

/* Loads one file's text into a fresh set; returns its messages. */
static const char *load_err(const char *text)
{
	static char out[8192];
	struct patternset ps = { 0 };
	struct diag d = { 0 };

	ck_assert_int_eq(patternset_load_file(&ps, unit_put("p.conf", text), &d), -1);
	ck_assert_uint_gt(d.errors, 0);
	last_n = ps.n;
	snprintf(out, sizeof(out), "%s", unit_diag_text(&d));
	patternset_free(&ps);
	diag_free(&d);
	return out;
}

static const struct pattern *by_name(const struct patternset *ps, const char *name)
{
	uint32_t id = names_intern(name, strlen(name));

	for (size_t i = 0; i < ps->n; i++)
		if (ps->v[i].name == id)
			return &ps->v[i];
	ck_abort_msg("no pattern %s", name);
	return NULL;
}

static const char good[] =
	"# two offence patterns and two context patterns\n"
	"pattern postfix-unknown-recipient {\n"
	"    class   = \"unknown-recipient\"\n"
	"    program = { \"postfix*/smtpd\" }\n"
	"    regex   = '^(?:NOQUEUE|[0-9A-F]+): reject: RCPT from [^[ ]*\\[(?<addr>[^]]+)\\]"
	"(?::\\d+)?: 5\\d\\d 5\\.1\\.1 .*? to=<(?<rcpt>[^>]*)>'\n"
	"}\n"
	"\n"
	"pattern postfix-removed {\n"
	"    class   = \"context\"\n"
	"    program = { \"postfix*/qmgr\" }\n"
	"    regex   = '^(?<qid>[0-9A-F]+): removed$'\n"
	"    qid_end = yes\n"
	"}\n"
	"pattern mimedefang-spam {\n"
	"    class   = \"spam\"\n"
	"    program = { \"mimedefang.pl\", \"mimedefang\" }\n"
	"    regex   = '^MDLOG,(?<qid>[^,]+),spam,(?<score>-?[\\d.]+),(?<addr>[^,]+),'\n"
	"    weight  = 0.5\n"
	"    description = \"MIMEDefang's spam verdict\"\n"
	"}\n"
	"pattern sendmail-from {\n"
	"    class   = \"context\"\n"
	"    program = { \"sm-mta\", \"sendmail\" }\n"
	"    regex   = '^(?<qid>\\w{14}): from=.*, relay=(?:\\S+ )?\\[(?<addr>[^]]+)\\]"
	"|^(?<qid>\\w{14}): to=<(?<rcpt>[^>]*)>'\n"
	"}\n";

START_TEST(valid_file)
{
	struct patternset ps = { 0 };
	struct diag d = { 0 };
	const struct pattern *p;
	const char *path = unit_put("good.conf", good);
	uint32_t jit = 0;

	ck_assert_int_eq(patternset_load_file(&ps, path, &d), 0);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_uint_eq(ps.n, 4);
	ck_assert_uint_eq(ps.nfiles, 1);

	p = by_name(&ps, "postfix-unknown-recipient");
	ck_assert_int_eq(p->cls, CLASS_UNKNOWN_RECIPIENT);
	ck_assert_uint_eq(p->weight, 1000);
	ck_assert(!p->qid_end);
	ck_assert_uint_eq(p->nprograms, 1);
	ck_assert_str_eq(p->programs[0], "postfix*/smtpd");
	ck_assert_str_eq(names_get(p->file), path);
	ck_assert_int_eq(p->line, 2);
	ck_assert_uint_eq(p->ngroups[CAP_ADDR], 1);
	ck_assert_uint_eq(p->ngroups[CAP_RCPT], 1);
	ck_assert_uint_eq(p->ngroups[CAP_QID], 0);
	ck_assert_ptr_nonnull(p->re);

	p = by_name(&ps, "postfix-removed");
	ck_assert_int_eq(p->cls, CLASS_CONTEXT);
	ck_assert(p->qid_end);
	ck_assert_int_eq(p->line, 8);

	p = by_name(&ps, "mimedefang-spam");
	ck_assert_int_eq(p->cls, CLASS_SPAM);
	ck_assert_uint_eq(p->weight, 500);
	ck_assert_uint_eq(p->nprograms, 2);
	ck_assert_str_eq(p->programs[1], "mimedefang");
	ck_assert_uint_eq(p->ngroups[CAP_SCORE], 1);
	ck_assert_uint_eq(p->ngroups[CAP_QID], 1);

	/* one name on several alternatives (PCRE2_DUPNAMES) */
	p = by_name(&ps, "sendmail-from");
	ck_assert_uint_eq(p->ngroups[CAP_QID], 2);
	ck_assert_uint_eq(p->ngroups[CAP_ADDR], 1);
	ck_assert_uint_eq(p->ngroups[CAP_RCPT], 1);
	ck_assert_uint_eq(ps.max_capture, 4);

	/* compiled for JIT where this PCRE2 has it (the interpreter otherwise) */
	ck_assert_int_ge(pcre2_config(PCRE2_CONFIG_JIT, &jit), 0);
	if (jit) {
		ck_assert_uint_eq(ps.njit, 4);
		for (size_t i = 0; i < ps.n; i++)
			ck_assert(ps.v[i].jit);
	} else {
		ck_assert_uint_eq(ps.njit, 0);
	}
	patternset_free(&ps);
	ck_assert_uint_eq(ps.n, 0);
	ck_assert_ptr_null(ps.v);
	diag_free(&d);
}
END_TEST

START_TEST(shipped_sets)
{
	/* the patterns the package installs and those the replay tests use load */
	struct patternset ps;
	struct diag d = { 0 };

	ck_assert_int_eq(patternset_load_dir(&ps, UNIT_DATA("data/patterns"), &d), 0);
	ck_assert_uint_gt(ps.n, 5);
	patternset_free(&ps);
	ck_assert_int_eq(patternset_load_dir(&ps, UNIT_DATA("../patterns"), &d), 0);
	ck_assert_uint_gt(ps.n, 0);
	patternset_free(&ps);
	ck_assert_uint_eq(d.n, 0);
}
END_TEST

/* --- errors: FILE:LINE: reason --- */

START_TEST(bad_regex)
{
	ck_assert_str_eq(load_err(
		"pattern broken {\n"
		"    class   = \"unknown-recipient\"\n"
		"    program = { \"postfix*/smtpd\" }\n"
		"\n"
		"    regex   = '^(?<addr>[0-9.]+'\n"
		"}\n"),
		"DIR/p.conf:5: pattern broken: regex does not compile at offset 16: missing "
		"closing parenthesis\n");
	/* the regex on a later line than its key */
	ck_assert_str_eq(load_err(
		"pattern broken {\n"
		"    class   = \"unknown-recipient\"\n"
		"    program = { \"postfix*/smtpd\" }\n"
		"    regex   =\n"
		"        '(?<addr>[z-a])'\n"
		"}\n"),
		"DIR/p.conf:5: pattern broken: regex does not compile at offset 11: range out of "
		"order in character class\n");
}
END_TEST

START_TEST(bad_groups)
{
	ck_assert_str_eq(load_err(
		"pattern nogroups {\n"
		"    class   = \"auth\"\n"
		"    program = { \"postfix*/smtpd\" }\n"
		"    regex   = '^warning: [^[ ]*\\[([^]]+)\\]: SASL'\n"
		"}\n"),
		"DIR/p.conf:4: pattern nogroups: regex captures neither (?<addr>...) nor "
		"(?<qid>...)\n");
	/* rcpt alone is not enough either */
	ck_assert_str_eq(load_err(
		"pattern rcptonly {\n"
		"    class   = \"context\"\n"
		"    program = { \"postfix*/local\" }\n"
		"    regex   = 'to=<(?<rcpt>[^>]*)>'\n"
		"}\n"),
		"DIR/p.conf:4: pattern rcptonly: regex captures neither (?<addr>...) nor "
		"(?<qid>...)\n");
	ck_assert_str_eq(load_err(
		"pattern badname {\n"
		"    class   = \"auth\"\n"
		"    program = { \"postfix*/smtpd\" }\n"
		"    regex   = '\\[(?<addr>[^]]+)\\] user=(?<user>\\S+)'\n"
		"}\n"),
		"DIR/p.conf:4: pattern badname: named group \"user\" is not one of addr, qid, rcpt, "
		"sender, score (use (?:...) to group)\n");
	ck_assert_str_eq(load_err(
		"pattern toomany {\n"
		"    class   = \"auth\"\n"
		"    program = { \"x\" }\n"
		"    regex   = '(?<addr>a)|(?<addr>b)|(?<addr>c)|(?<addr>d)|(?<addr>e)|(?<addr>f)|"
		"(?<addr>g)|(?<addr>h)|(?<addr>i)'\n"
		"}\n"),
		"DIR/p.conf:4: pattern toomany: more than 8 groups named \"addr\"\n");
}
END_TEST

START_TEST(bad_class)
{
	ck_assert_str_eq(load_err(
		"pattern c1 {\n"
		"    program = { \"postfix*/smtpd\" }\n"
		"    regex   = '\\[(?<addr>[^]]+)\\]'\n"
		"\n"
		"    class   = \"spammer\"\n"
		"}\n"),
		"DIR/p.conf:5: pattern c1: unknown class \"spammer\" (unknown-recipient, "
		"unknown-sender, spamtrap, spam, virus, relay, helo, dnsbl, auth, protocol, "
		"context)\n");
	ck_assert_str_eq(load_err(
		"\n"
		"pattern c2 {\n"
		"    program = { \"postfix*/smtpd\" }\n"
		"    regex   = '\\[(?<addr>[^]]+)\\]'\n"
		"}\n"),
		"DIR/p.conf:2: pattern c2: no class\n");
	ck_assert_uint_eq(last_n, 0);
}
END_TEST

START_TEST(bad_keys)
{
	ck_assert_str_eq(load_err(
		"pattern np {\n"
		"    class   = \"auth\"\n"
		"    regex   = '\\[(?<addr>[^]]+)\\]'\n"
		"}\n"),
		"DIR/p.conf:1: pattern np: no program (the syslog tags it applies to, e.g. "
		"program = { \"postfix*/smtpd\" })\n");
	ck_assert_str_eq(load_err(
		"pattern nr {\n"
		"    class   = \"auth\"\n"
		"    program = { \"x\" }\n"
		"}\n"),
		"DIR/p.conf:1: pattern nr: no regex\n");
	ck_assert_str_eq(load_err(
		"pattern qe {\n"
		"    class   = \"context\"\n"
		"    program = { \"postfix*/qmgr\" }\n"
		"    regex   = '\\[(?<addr>[^]]+)\\] removed'\n"
		"    qid_end = yes\n"
		"}\n"),
		"DIR/p.conf:1: pattern qe: qid_end without (?<qid>...)\n");
	ck_assert_str_eq(load_err(
		"pattern qb {\n"
		"    class   = \"context\"\n"
		"    program = { \"postfix*/qmgr\" }\n"
		"    regex   = '^(?<qid>[0-9A-F]+): removed'\n"
		"    qid_end = sometimes\n"
		"}\n"),
		"DIR/p.conf:5: pattern qb: qid_end: \"sometimes\" is not a boolean (yes or no)\n");
	ck_assert_str_eq(load_err(
		"pattern w {\n"
		"    class   = \"auth\"\n"
		"    program = { \"x\" }\n"
		"    regex   = '(?<addr>a)'\n"
		"    weight  = \"heavy\"\n"
		"}\n"),
		"DIR/p.conf:5: pattern w: weight \"heavy\" is not a number from 0 to 1000 in steps "
		"of 0.001\n");
	ck_assert_str_eq(load_err(
		"pattern w2 {\n"
		"    class   = \"auth\"\n"
		"    program = { \"x\" }\n"
		"    regex   = '(?<addr>a)'\n"
		"    weight  = -1\n"
		"}\n"),
		"DIR/p.conf:5: pattern w2: weight \"-1\" is not a number from 0 to 1000 in steps "
		"of 0.001\n");
	ck_assert_str_eq(load_err(
		"pattern -dash {\n"
		"    class   = \"auth\"\n"
		"    program = { \"x\" }\n"
		"    regex   = '(?<addr>a)'\n"
		"}\n"),
		"DIR/p.conf:1: pattern name \"-dash\" must be letters, digits, '-', '_' or '.' "
		"(at most 64)\n");
	ck_assert_str_eq(load_err(
		"pattern k {\n"
		"    class   = \"auth\"\n"
		"    program = { \"x\" }\n"
		"    regex   = '(?<addr>a)'\n"
		"    programme = { \"y\" }\n"
		"}\n"),
		"DIR/p.conf:5: no such option 'programme'\n");
}
END_TEST

START_TEST(several_errors)
{
	/* every bad key of a pattern, and every bad pattern of a file */
	ck_assert_str_eq(load_err(
		"pattern a {\n"
		"    class   = \"nope\"\n"
		"    regex   = '(?<addr>'\n"
		"}\n"
		"pattern b {\n"
		"    class   = \"auth\"\n"
		"    program = { \"x\" }\n"
		"    regex   = '(?<addr>a)'\n"
		"}\n"
		"pattern c {\n"
		"    class   = \"auth\"\n"
		"    program = { \"x\" }\n"
		"    regex   = '(a)'\n"
		"}\n"),
		"DIR/p.conf:2: pattern a: unknown class \"nope\" (unknown-recipient, "
		"unknown-sender, spamtrap, spam, virus, relay, helo, dnsbl, auth, protocol, "
		"context)\n"
		"DIR/p.conf:1: pattern a: no program (the syslog tags it applies to, e.g. "
		"program = { \"postfix*/smtpd\" })\n"
		"DIR/p.conf:3: pattern a: regex does not compile at offset 8: missing closing "
		"parenthesis\n"
		"DIR/p.conf:13: pattern c: regex captures neither (?<addr>...) nor (?<qid>...)\n");
	ck_assert_uint_eq(last_n, 1);	/* b: the file is refused, the caller drops the set */
}
END_TEST

START_TEST(duplicate_names)
{
	struct patternset ps = { 0 };
	struct diag d = { 0 };
	const char *one =
		"\n"
		"pattern same {\n"
		"    class   = \"auth\"\n"
		"    program = { \"x\" }\n"
		"    regex   = '(?<addr>a)'\n"
		"}\n";

	ck_assert_int_eq(patternset_load_file(&ps, unit_put("10-first.conf", one), &d), 0);
	ck_assert_int_eq(patternset_load_file(&ps, unit_put("20-second.conf",
		"pattern other {\n"
		"    class   = \"auth\"\n"
		"    program = { \"x\" }\n"
		"    regex   = '(?<addr>b)'\n"
		"}\n"
		"pattern same {\n"
		"    class   = \"spam\"\n"
		"    program = { \"y\" }\n"
		"    regex   = '(?<addr>c)'\n"
		"}\n"), &d), -1);
	ck_assert_str_eq(unit_diag_text(&d),
			 "DIR/20-second.conf:6: pattern same: already defined at DIR/10-first.conf:2\n");
	ck_assert_uint_eq(ps.n, 2);	/* the first "same" and "other" */
	ck_assert_int_eq(by_name(&ps, "same")->cls, CLASS_AUTH);
	patternset_free(&ps);
	diag_free(&d);

	/* twice in one file: libconfuse says so */
	ck_assert_str_eq(load_err(
		"pattern twice {\n"
		"    class   = \"auth\"\n"
		"    program = { \"x\" }\n"
		"    regex   = '(?<addr>a)'\n"
		"}\n"
		"pattern twice {\n"
		"    class   = \"auth\"\n"
		"    program = { \"x\" }\n"
		"    regex   = '(?<addr>a)'\n"
		"}\n"),
		"DIR/p.conf:6: found duplicate title 'twice'\n");
}
END_TEST

/* --- a directory --- */

START_TEST(load_dir)
{
	struct patternset ps;
	struct diag d = { 0 };
#define PAT(name) "pattern " name " {\n class = \"auth\"\n program = { \"x\" }\n" \
		   " regex = '(?<addr>a)'\n}\n"

	unit_put("20-b.conf", PAT("second"));
	unit_put("10-a.conf", PAT("first"));
	unit_put("README", PAT("ignored1"));
	unit_put(".hidden.conf", PAT("ignored2"));
	unit_put("30-c.conf.dpkg-new", PAT("ignored3"));
	ck_assert_int_eq(patternset_load_dir(&ps, dir, &d), 0);
	ck_assert_uint_eq(ps.n, 2);
	ck_assert_uint_eq(ps.nfiles, 2);
	/* files in name order, patterns in file order */
	ck_assert_str_eq(names_get(ps.v[0].name), "first");
	ck_assert_str_eq(names_get(ps.v[1].name), "second");
	patternset_free(&ps);

	/* one bad file: the whole set is refused */
	unit_put("15-bad.conf", "pattern bad {\n class = \"auth\"\n}\n");
	ck_assert_int_eq(patternset_load_dir(&ps, dir, &d), -1);
	ck_assert_uint_eq(ps.n, 0);
	ck_assert_ptr_null(ps.v);
	ck_assert_str_eq(unit_diag_text(&d),
			 "DIR/15-bad.conf:1: pattern bad: no program (the syslog tags it applies to, "
			 "e.g. program = { \"postfix*/smtpd\" })\n"
			 "DIR/15-bad.conf:1: pattern bad: no regex\n");
	diag_free(&d);
	patternset_free(&ps);
}
END_TEST

START_TEST(load_dir_errors)
{
	struct patternset ps;
	struct diag d = { 0 };
	char path[300];

	/* no pattern at all */
	unit_put("README", "nothing\n");
	ck_assert_int_eq(patternset_load_dir(&ps, dir, &d), -1);
	ck_assert_str_eq(unit_diag_text(&d), "DIR: no patterns (*.conf files with pattern sections)\n");
	diag_free(&d);
	unit_put("empty.conf", "# no pattern here\n");
	ck_assert_int_eq(patternset_load_dir(&ps, dir, &d), -1);
	ck_assert_str_eq(unit_diag_text(&d), "DIR: no patterns (*.conf files with pattern sections)\n");
	diag_free(&d);
	snprintf(path, sizeof(path), "%s/missing", dir);
	ck_assert_int_eq(patternset_load_dir(&ps, path, &d), -1);
	ck_assert_str_eq(unit_diag_text(&d),
			 "DIR/missing: cannot read the patterns directory: No such file or directory\n");
	diag_free(&d);
}
END_TEST

/* --- tags --- */

START_TEST(tag_globs)
{
	char *globs[] = { "postfix*/smtpd" };
	char *two[] = { "sm-mta", "sendmail" };
	char *bracket[] = { "amavis[d]", "amavis" };
	struct pattern p = { .programs = globs, .nprograms = 1 };

	ck_assert(pattern_wants_tag(&p, "postfix/smtpd"));
	ck_assert(pattern_wants_tag(&p, "postfix-in/smtpd"));
	ck_assert(pattern_wants_tag(&p, "postfix/submission/smtpd"));
	ck_assert(pattern_wants_tag(&p, "postfix-in/smtps/smtpd"));
	ck_assert(!pattern_wants_tag(&p, "postfix/smtp"));
	ck_assert(!pattern_wants_tag(&p, "postfix/smtpdx"));
	ck_assert(!pattern_wants_tag(&p, "xpostfix/smtpd"));
	ck_assert(!pattern_wants_tag(&p, "Postfix/smtpd"));
	ck_assert(!pattern_wants_tag(&p, "postfix/smtpd "));
	ck_assert(!pattern_wants_tag(&p, ""));
	p.programs = two;
	p.nprograms = 2;
	ck_assert(pattern_wants_tag(&p, "sm-mta"));
	ck_assert(pattern_wants_tag(&p, "sendmail"));
	ck_assert(!pattern_wants_tag(&p, "sm-msp-queue"));
	p.programs = bracket;
	ck_assert(pattern_wants_tag(&p, "amavisd"));
	ck_assert(pattern_wants_tag(&p, "amavis"));
	ck_assert(!pattern_wants_tag(&p, "amavis[d]"));
	p.nprograms = 0;
	ck_assert(!pattern_wants_tag(&p, "amavis"));
	ck_assert_str_eq(capture_name(CAP_ADDR), "addr");
	ck_assert_str_eq(capture_name(CAP_SCORE), "score");
	ck_assert_str_eq(capture_name(CAP_COUNT), "?");
}
END_TEST

static Suite *pattern_suite(void)
{
	Suite *s = suite_create("pattern");
	TCase *tc = tcase_create("load");
	TCase *tt = tcase_create("tags");

	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, valid_file);
	tcase_add_test(tc, shipped_sets);
	tcase_add_test(tc, bad_regex);
	tcase_add_test(tc, bad_groups);
	tcase_add_test(tc, bad_class);
	tcase_add_test(tc, bad_keys);
	tcase_add_test(tc, several_errors);
	tcase_add_test(tc, duplicate_names);
	tcase_add_test(tc, load_dir);
	tcase_add_test(tc, load_dir_errors);
	suite_add_tcase(s, tc);
	tcase_add_test(tt, tag_globs);
	suite_add_tcase(s, tt);
	return s;
}

UNIT_MAIN(pattern_suite)
