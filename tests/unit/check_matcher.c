/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matcher.h"
#include "names.h"
#include "pattern.h"
#include "unit.h"
#define UNIT_TMP_NAME "matcher"
#include "unit_tmp.h"

/*
 * The matcher skips regexes by first bytes, leads and needles; none of
 * that may change an answer. Its answer must be the brute-force one: the
 * first pattern (offences before context, file order) whose program glob
 * takes the tag and whose regex matches.
 */
static const char patterns[] =
	"pattern p-reject {\n"
	"  class = \"unknown-recipient\"\n  program = { \"postfix*/smtpd\" }\n"
	"  regex = '^(?:NOQUEUE|(?<qid>[0-9A-F]{6,16})): reject: RCPT from [^\\s\\[\\]]*\\[(?<addr>[0-9.]+)\\]: 550 5\\.1\\.1 (?:(?:[^;\\n]*+;)+?(?: from=<[^<>]*>)? to=<(?<rcpt>[^<>]*)>)?'\n}\n"
	"pattern p-auth {\n"
	"  class = \"auth\"\n  program = { \"postfix*/smtpd\" }\n"
	"  regex = '^disconnect from [^\\s\\[\\]]*\\[(?<addr>[0-9.]+)\\](?: [a-z]+=\\d+(?:/\\d+)?)*? auth=0/[1-9]'\n}\n"
	"pattern p-lost {\n"
	"  class = \"protocol\"\n  program = { \"postfix*/smtpd\" }\n"
	"  regex = '^(?:(?:NOQUEUE|[0-9A-F]{6,16}): )?lost connection after [A-Z]+ from [^\\s\\[\\]]*\\[(?<addr>[0-9.]+)\\]$'\n}\n"
	"pattern p-virus {\n"
	"  class = \"virus\"\n  program = { \"postfix*/smtpd\" }\n"
	"  regex = '^(?<qid>[0-9A-F]{6,16}): milter-reject: END-OF-MESSAGE from x\\[(?<addr>[0-9.]+)\\]: 5\\.7\\.1 [^;]*?(?i:virus)'\n}\n"
	"pattern p-client {\n"
	"  class = \"context\"\n  program = { \"postfix*/smtpd\" }\n"
	"  regex = '^(?<qid>[0-9A-F]{6,16}): client=[^\\s\\[\\]]*\\[(?<addr>[0-9.]+)\\]$'\n}\n"
	"pattern p-any {\n"
	"  class = \"context\"\n  program = { \"postfix*/*\" }\n"
	"  regex = '^(?:NOQUEUE|(?<qid>[0-9A-F]{6,16})): (?:milter-)?(?:reject|discard): [A-Z]+ from [^\\s\\[\\]]*\\[(?<addr>[0-9.]+)\\]'\n}\n"
	"pattern p-mdlog {\n"
	"  class = \"spam\"\n  program = { \"mimedefang*\" }\n"
	"  regex = '^(?:[0-9A-Za-z]+: )?MDLOG,(?<qid>[0-9A-Za-z]+),spam,[^,]*,(?<addr>[0-9.]+),'\n}\n"
	/* a lead shorter than a word, which a match may end right after */
	"pattern p-gone {\n"
	"  class = \"context\"\n  program = { \"postfix*/*\" }\n"
	"  regex = '^(?<qid>[0-9A-F]{2,16}): gone$'\n}\n"
	/* neighbours with one lead (a line without it skips both), then one
	 * of the same length that differs */
	"pattern p-held1 {\n"
	"  class = \"relay\"\n  program = { \"postfix*/cleanup\" }\n"
	"  regex = '^(?<qid>[0-9A-F]{6,16}): held: (?<addr>[0-9.]+) one$'\n}\n"
	"pattern p-held2 {\n"
	"  class = \"relay\"\n  program = { \"postfix*/cleanup\" }\n"
	"  regex = '^(?<qid>[0-9A-F]{6,16}): held: (?<addr>[0-9.]+) two$'\n}\n"
	"pattern p-hold {\n"
	"  class = \"relay\"\n  program = { \"postfix*/cleanup\" }\n"
	"  regex = '^(?<qid>[0-9A-F]{6,16}): hold: (?<addr>[0-9.]+)'\n}\n";

/* Lines each pattern matches in full. */
static const struct {
	const char *tag, *msg;
	size_t index;		/* of the pattern, in file order */
} cases[] = {
	{ "postfix/smtpd", "NOQUEUE: reject: RCPT from x[192.0.2.1]: 550 5.1.1 <a>; from=<b> to=<c>", 0 },
	{ "postfix/smtpd", "ABCDEF12: reject: RCPT from [192.0.2.1]: 550 5.1.1 ", 0 },
	{ "postfix/smtpd", "disconnect from x[192.0.2.2] ehlo=1 auth=0/1", 1 },
	{ "postfix/smtpd", "disconnect from x[192.0.2.2] auth=0/1 quit=1", 1 },
	{ "postfix/smtpd", "lost connection after RCPT from x[192.0.2.3]", 2 },
	{ "postfix/smtpd", "ABCDEF: lost connection after DATA from x[192.0.2.3]", 2 },
	{ "postfix/smtpd", "ABCDEF: milter-reject: END-OF-MESSAGE from x[192.0.2.4]: 5.7.1 a ViRuS", 3 },
	{ "postfix/smtpd", "ABCDEF: client=x[192.0.2.5]", 4 },
	{ "postfix/cleanup", "NOQUEUE: discard: RCPT from x[192.0.2.6]", 5 },
	{ "mimedefang.pl", "MDLOG,q1,spam,5,192.0.2.7,", 6 },
	{ "mimedefang.pl", "ab12: MDLOG,q1,spam,5,192.0.2.7,", 6 },
	{ "postfix/cleanup", "ABCDEF: gone", 7 },
	{ "postfix/smtpd", "AB: gone", 7 },
	{ "postfix/cleanup", "ABCDEF: held: 192.0.2.8 one", 8 },
	{ "postfix/cleanup", "ABCDEF: held: 192.0.2.8 two", 9 },
	{ "postfix/cleanup", "ABCDEF: hold: 192.0.2.9", 10 },
};

/* Pieces random lines are made of: the patterns' literals, near misses,
 * queue ids and noise, so that leads and needles are met at every
 * offset and cut at every length. */
static const char *const pieces[] = {
	"NOQUEUE", "8A2B3C4D5E", "8a2b", "Z9", ": ", ":", " ", "reject: ", "RCPT from ",
	"unknown[", "192.0.2.1", "]", "]: ", "550 5.1.1 ", "<a@b>", ";", "; from=<x@y>", " to=<t@u>",
	"disconnect from ", "disconnect", " ehlo=1", " auth=0/1", " auth=0/", "auth=0/2", " rcpt=0/1",
	"lost connection after ", "RCPT", " from ", "x[", "milter-reject: ", "END-OF-MESSAGE from ",
	"5.7.1 ", "VIRUS", "Virus found", "client=", "mail.example[", "discard: ", "MDLOG,", ",spam,",
	"1.5,", "ab: ", ": gone", ": gon", "A: gone", ": held: ", ": hold: ", " one", " two",
	"\n", "\xff", "",
};

static unsigned long rnd_state = 12345;

static unsigned rnd(unsigned n)
{
	rnd_state = rnd_state * 6364136223846793005u + 1442695040888963407u;
	return (unsigned)(rnd_state >> 33) % n;
}

/* The pattern set of one test, and its matcher. */
static struct patternset ps;
static struct matcher m;

/* Loads text as a pattern file and makes the matcher for it. */
static void load(const char *text)
{
	struct diag d = { 0 };
	const char *path = unit_put("m.conf", text);

	memset(&ps, 0, sizeof(ps));
	ck_assert_msg(patternset_load_file(&ps, path, &d) == 0, "%s", unit_diag_text(&d));
	diag_free(&d);
	ck_assert_int_eq(matcher_init(&m, &ps), 0);
}

static void unload(void)
{
	matcher_free(&m);
	patternset_free(&ps);
}

/* The brute-force answer: index of the first matching pattern, or -1. */
static long brute(const char *tag, const char *msg, size_t len)
{
	pcre2_match_data *md = pcre2_match_data_create(32, NULL);
	long found = -1;

	ck_assert_ptr_nonnull(md);
	/* the matcher's order: offences first, then context, each in file order */
	for (int pass = 0; pass < 2 && found < 0; pass++) {
		for (size_t i = 0; i < ps.n && found < 0; i++) {
			const struct pattern *p = &ps.v[i];

			if ((p->cls == CLASS_CONTEXT) != (pass == 1) || !pattern_wants_tag(p, tag))
				continue;
			if (pcre2_match(p->re, (PCRE2_SPTR)msg, len, 0, 0, md, m.mctx) >= 0)
				found = (long)i;
		}
	}
	pcre2_match_data_free(md);
	return found;
}

START_TEST(same_as_brute_force)
{
	static const char *const tags[] = { "postfix/smtpd", "postfix/cleanup", "mimedefang.pl" };
	char msg[400];
	unsigned long hits = 0;

	load(patterns);
	for (int round = 0; round < 200000; round++) {
		struct logline l = { .time = 0 };
		struct match out;
		size_t len = 0;
		unsigned n = rnd(9);
		long want;
		bool got;

		if (rnd(2)) {
			/* a full line, then a few pieces written over it or a cut */
			size_t c = rnd(sizeof(cases) / sizeof(cases[0]));

			len = strlen(cases[c].msg);
			memcpy(msg, cases[c].msg, len);
			n = rnd(3);
			for (unsigned k = 0; k < n && len > 0; k++) {
				const char *pc = pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))];
				size_t at = rnd((unsigned)len), pl = strlen(pc);

				if (rnd(3) == 0) {
					len = at;	/* truncated */
				} else if (at + pl < sizeof(msg)) {
					memcpy(msg + at, pc, pl);
					if (at + pl > len)
						len = at + pl;
				}
			}
			n = 0;
		}
		for (unsigned k = 0; k < n; k++) {
			const char *pc = pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))];
			size_t pl = strlen(pc);

			if (rnd(4) == 0 && pl > 1)
				pl = 1 + rnd((unsigned)pl - 1);	/* cut short */
			if (len + pl >= sizeof(msg))
				break;
			memcpy(msg + len, pc, pl);
			len += pl;
		}
		l.tag = tags[rnd(3)];
		l.taglen = strlen(l.tag);
		l.msg = msg;
		l.msglen = len;
		want = brute(l.tag, msg, len);
		got = matcher_match(&m, &l, &out);
		ck_assert_msg(got == (want >= 0) && (!got || (long)out.index == want),
			      "tag %s line \"%.*s\": matcher %ld, regexes %ld", l.tag, (int)len, msg,
			      got ? (long)out.index : -1L, want);
		hits += got;
	}
	/* the generator must reach the patterns, or the test proves nothing */
	ck_assert_uint_gt(hits, 10000);
	unload();
}
END_TEST

/* Lines made to hit every pattern in full, at every length of the line
 * around the 16-byte blocks the needle search reads. */
START_TEST(full_lines)
{
	load(patterns);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* padding after the match moves the needle across block edges */
		for (size_t pad = 0; pad < 40; pad++) {
			char msg[200];
			struct logline l = { .tag = cases[i].tag, .taglen = strlen(cases[i].tag) };
			struct match out;
			size_t len = strlen(cases[i].msg);

			memcpy(msg, cases[i].msg, len);
			memset(msg + len, ' ', pad);
			l.msg = msg;
			/* p-lost, p-client, p-gone and p-held* end with "$": their
			 * padding is cut off */
			l.msglen = len + (cases[i].index == 2 || cases[i].index == 4 ||
					  cases[i].index == 7 || cases[i].index == 8 ||
					  cases[i].index == 9 ? 0 : pad);
			ck_assert_msg(matcher_match(&m, &l, &out), "%s: no match", cases[i].msg);
			ck_assert_uint_eq(out.index, cases[i].index);
			ck_assert_int_eq(brute(l.tag, msg, l.msglen), (long)out.index);
		}
	}
	/* queue ids of every length around the 16-byte blocks the token is
	 * measured in: the lead sits right after it */
	for (size_t qlen = 0; qlen < 40; qlen++) {
		char msg[100];
		struct logline l = { .tag = "postfix/smtpd", .taglen = 13, .msg = msg };
		struct match out;
		long want;

		for (size_t k = 0; k < qlen; k++)
			msg[k] = "0123456789ABCDEF"[(k * 7) % 16];
		l.msglen = qlen + (size_t)sprintf(msg + qlen, ": client=x[192.0.2.5]");
		want = brute(l.tag, msg, l.msglen);
		ck_assert_int_eq(want, qlen >= 6 && qlen <= 16 ? 4 : -1);
		ck_assert_int_eq(matcher_match(&m, &l, &out) ? (long)out.index : -1L, want);
	}
	/* every first two bytes, so that the pair cache fills and is emptied
	 * (and lines of one and no byte) */
	for (unsigned b = 0; b < 65536 + 257; b++) {
		char msg[64];
		struct logline l = { .tag = "postfix/smtpd", .taglen = 13, .msg = msg };
		struct match out;
		long want;

		if (b < 65536) {
			msg[0] = (char)(b >> 8);
			msg[1] = (char)b;
			l.msglen = 2 + (size_t)sprintf(msg + 2, "CDEF: client=x[192.0.2.5]");
		} else {
			msg[0] = (char)(b - 65536);
			l.msglen = b == 65536 + 256 ? 0 : 1;
		}
		want = brute(l.tag, msg, l.msglen);
		ck_assert_int_eq(matcher_match(&m, &l, &out) ? (long)out.index : -1L, want);
	}
	unload();
}
END_TEST

/* A needle every line has been holding is taken on trust for a while:
 * lines that lack it must still get the brute-force answer then, and it
 * must be searched for again afterwards. */
static void needle_line(size_t c)
{
	static const char *const lines[] = {
		"disconnect from x[192.0.2.2] ehlo=1 auth=0/1",	/* holds " auth=0/" */
		"disconnect from x[192.0.2.2] ehlo=1 quit=1",	/* lacks it */
		"disconnect from x[192.0.2.2] ehlo=1 auth=1/1",
	};
	struct logline l = { .tag = "postfix/smtpd", .taglen = 13, .msg = lines[c],
			     .msglen = strlen(lines[c]) };
	struct match out;
	long want = brute(l.tag, l.msg, l.msglen);

	ck_assert_int_eq(matcher_match(&m, &l, &out) ? (long)out.index : -1L, want);
	ck_assert_int_eq(want, c == 0 ? 1 : -1);
}

START_TEST(needle_trust)
{
	int round = 0;
	uint64_t trusted;

	load(patterns);
	/* the needle held until it is trusted ... */
	for (; m.needles_trusted == 0 && round < 100000; round++)
		needle_line(0);
	ck_assert_msg(m.needles_trusted > 0, "no needle was ever taken on trust: the test proves nothing");
	/* ... then lines of all three kinds, long enough for the trust to
	 * run out and the needle to be tried again, and trusted again */
	for (int k = 0; k < 5 * round + 10000; k++)
		needle_line((size_t)rnd(3));
	trusted = m.needles_trusted;
	for (int k = 0; k < 10000; k++)
		needle_line(0);
	ck_assert_uint_gt(m.needles_trusted, trusted);
	unload();
}
END_TEST

/*
 * Shipped regexes rewritten for speed must match what their plain forms
 * match, with the same groups: each is run beside its plain form over
 * lines built from the pieces that tell them apart.
 */
static const struct {
	const char *name, *plain;
} rewrites[] = {
	{ "postfix-unknown-recipient",
	  "^(?:NOQUEUE|(?<qid>(?:[0-9A-F]{6,16}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]{10,12}z"
	  "[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]{3,}))): (?:milter-)?reject: [A-Z-]+ from "
	  "[^\\s\\[\\]]*\\[(?<addr>[0-9A-Fa-f:.]+)\\](?::\\d+)?: (?:5\\d\\d 5\\.1\\.1 |[45]\\d\\d "
	  "[45]\\.1\\.1 (?:<[^<>]*>)?: Recipient address rejected: (?:User unknown|undeliverable "
	  "address))(?:(?:[^;\\n]*+;)+?(?: from=<[^<>]*>)? to=<(?<rcpt>[^<>]*)>)?" },
};

static const char *const rewrite_pieces[] = {
	"NOQUEUE", "4F2AB3C0911", "0123456789bcdzfgh", ": ", "reject: ", "milter-reject: ",
	"RCPT", "VRFY", " from ", "unknown", "[203.0.113.5]", "[2001:db8::5]", ":2525", "]",
	"550 ", "450 ", "554 ", "5.1.1 ", "4.1.1 ", "5.7.1 ", "5.1.1", "55", "5", "1", ".",
	" ", "<a@b>", "<", ">", ": Recipient address rejected: ", "User unknown",
	"undeliverable address", "User unknow", " in local recipient table", ";", "; ",
	" from=<x@y>", " to=<t@u>", "to=<", "\n", "\xff",
};

START_TEST(rewrites_same_as_plain)
{
	struct diag d = { 0 };
	struct patternset shipped = { 0 };
	pcre2_match_data *md1 = pcre2_match_data_create(32, NULL);
	pcre2_match_data *md2 = pcre2_match_data_create(32, NULL);

	ck_assert_ptr_nonnull(md1);
	ck_assert_ptr_nonnull(md2);
	ck_assert_msg(patternset_load_file(&shipped, UNIT_SRCDIR "/patterns/postfix.conf", &d) == 0,
		      "%s", unit_diag_text(&d));
	diag_free(&d);
	for (size_t r = 0; r < sizeof(rewrites) / sizeof(rewrites[0]); r++) {
		const struct pattern *p = NULL;
		unsigned long bare = 0, texts = 0;
		pcre2_code *plain;
		PCRE2_SIZE off;
		int err;

		for (size_t i = 0; i < shipped.n && !p; i++)
			if (strcmp(names_get(shipped.v[i].name), rewrites[r].name) == 0)
				p = &shipped.v[i];
		ck_assert_msg(p != NULL, "%s: not shipped", rewrites[r].name);
		ck_assert_msg(strcmp(p->source, rewrites[r].plain) != 0,
			      "%s: no longer rewritten: drop it here", rewrites[r].name);
		plain = pcre2_compile((PCRE2_SPTR)rewrites[r].plain, PCRE2_ZERO_TERMINATED,
				      PCRE2_DUPNAMES, &err, &off, NULL);
		ck_assert_ptr_nonnull(plain);
		for (int round = 0; round < 200000; round++) {
			char msg[400];
			size_t len = 0;
			unsigned n = 8 + rnd(12);
			int rc1, rc2;

			for (unsigned k = 0; k < n; k++) {
				/* a reject line's fields in order, each sometimes
				 * another piece, then pieces at random */
				static const char *const order[][3] = {
					{ "NOQUEUE", "4F2AB3C0911", "0123456789bcdzfgh" },
					{ ": ", ": ", ":" },
					{ "reject: ", "milter-reject: ", "discard: " },
					{ "RCPT", "VRFY", "" },
					{ " from ", " from ", "from" },
					{ "unknown", "mx.example", "" },
					{ "[203.0.113.5]", "[2001:db8::5]", "[203.0.113.5" },
					{ ": ", ":2525: ", "]: " },
					{ "550 ", "450 ", "554 " },
					{ "5.1.1 ", "4.1.1 ", "5.7.1 " },
					{ "<a@b>", "", "No such user" },
					{ ": Recipient address rejected: ", ": Recipient address rejected: ", ": " },
					{ "User unknown", "undeliverable address", "User unknow" },
				};
				const char *pc;
				size_t pl;

				if (k < sizeof(order) / sizeof(order[0]) && rnd(16))
					pc = order[k][rnd(3)];
				else
					pc = rewrite_pieces[rnd(sizeof(rewrite_pieces) /
								sizeof(rewrite_pieces[0]))];
				pl = strlen(pc);
				if (len + pl >= sizeof(msg))
					break;
				memcpy(msg + len, pc, pl);
				len += pl;
			}
			rc1 = pcre2_match(plain, (PCRE2_SPTR)msg, len, 0, 0, md1, NULL);
			rc2 = pcre2_match(p->re, (PCRE2_SPTR)msg, len, 0, 0, md2, NULL);
			ck_assert_msg(rc1 == rc2, "%s: line \"%.*s\": plain %d, shipped %d",
				      rewrites[r].name, (int)len, msg, rc1, rc2);
			if (rc1 > 0) {
				PCRE2_SIZE *o1 = pcre2_get_ovector_pointer(md1);
				PCRE2_SIZE *o2 = pcre2_get_ovector_pointer(md2);

				for (int k = 0; k < 2 * rc1; k++)
					ck_assert_msg(o1[k] == o2[k], "%s: line \"%.*s\": group %d",
						      rewrites[r].name, (int)len, msg, k / 2);
				if (!memmem(msg, len, "Recipient address rejected", 26))
					bare++;
				else if (memmem(msg, len, "4.1.1", 5) || memmem(msg, len, "450", 3))
					texts++;
			}
		}
		/* the generator must reach both branches, or the test proves little */
		ck_assert_msg(bare > 300 && texts > 300, "%lu bare hits, %lu with the text", bare,
			      texts);
		pcre2_code_free(plain);
	}
	pcre2_match_data_free(md1);
	pcre2_match_data_free(md2);
	patternset_free(&shipped);
}
END_TEST

/* The tag cache keys a tag by its first and last eight bytes and its
 * length: tags alike in those must still be told apart. */
START_TEST(tags_told_apart)
{
	static const char *const tags[] = {
		"postfix/abcd/x/smtpd", "postfix/wxyz/x/smtpd",	/* differ only between the words */
		"postfix/abcd/x/smtp", "ab", "ac", "abc", "postfix/q1", "postfix/q2", "exim",
		/* longer than the three words the fast lookup compares */
		"postfix-out/submission/smtpd", "postfix-out/submXssion/smtpd",
	};
	char conf[2048];
	size_t at = 0;

	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		at += (size_t)snprintf(conf + at, sizeof(conf) - at,
				       "pattern t%zu {\n class = \"relay\"\n program = { \"%s\" }\n"
				       " regex = '^x (?<addr>[0-9.]+)'\n}\n", i, tags[i]);
	load(conf);
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
			/* the same tag twice (the last-tag shortcut), then the next */
			for (int twice = 0; twice < 2; twice++) {
				struct logline l = { .tag = tags[i], .taglen = strlen(tags[i]),
						     .msg = "x 192.0.2.1", .msglen = 11 };
				struct match out;

				ck_assert_msg(matcher_match(&m, &l, &out), "tag %s", tags[i]);
				ck_assert_uint_eq(out.index, i);
			}
		}
	}
	{
		struct logline l = { .tag = "postfix/abcd/y/smtpd", .taglen = 20,
				     .msg = "x 192.0.2.1", .msglen = 11 };
		struct match out;

		ck_assert(!matcher_match(&m, &l, &out));
	}
	unload();
}
END_TEST

static Suite *matcher_suite(void)
{
	Suite *s = suite_create("matcher");
	TCase *tc = tcase_create("answers");

	/* same_as_brute_force, full_lines, rewrites_same_as_plain: generated
	 * cases, seconds under ASan */
	tcase_set_timeout(tc, UNIT_HEAVY_TIMEOUT);
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, same_as_brute_force);
	tcase_add_test(tc, full_lines);
	tcase_add_test(tc, needle_trust);
	tcase_add_test(tc, rewrites_same_as_plain);
	tcase_add_test(tc, tags_told_apart);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(matcher_suite)
