/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "literal.h"
#include "unit.h"

/*
 * What the reader says of a regex, as "LEAD|NEEDLE": LEAD is "^text"
 * (at the start), "@text" (after the leading [0-9A-Za-z] run), "^@Ntext"
 * (at the start or N bytes after that run) or "-";
 * NEEDLE is the text or "-". A lead or needle a match could lack would
 * make the matcher skip a pattern that matches.
 */
static const char *lits(const char *src)
{
	static char buf[512];
	struct literals l;

	ck_assert_int_eq(literal_read(src, 3, &l), 0);
	if (l.lead)
		ck_assert_uint_eq(l.lead_len, strlen(l.lead));
	if (l.needle)
		ck_assert_uint_eq(l.needle_len, strlen(l.needle));
	snprintf(buf, sizeof(buf), "%s%s|%s",
		 !l.lead ? "" : l.lead_at == LITERAL_START ? "^" : l.lead_at == LITERAL_TOKEN_END ? "@" :
		 l.lead_skip == 1 ? "^@1" : l.lead_skip == 2 ? "^@2" : "^@?",
		 l.lead ? l.lead : "-", l.needle ? l.needle : "-");
	literal_free(&l);
	return buf;
}

START_TEST(needles)
{
	ck_assert_str_eq(lits("(?:NOQUEUE|(?<qid>[0-9A-F]+)): reject: RCPT from (?<addr>x)"),
			 "-|: reject: RCPT from ");	/* not anchored: no lead */
	ck_assert_str_eq(lits("^abc|defgh"), "-|-");		/* top-level alternation */
	ck_assert_str_eq(lits("^(?:abc|defgh)"), "-|-");	/* inside a group: unknown */
	ck_assert_str_eq(lits("(?i)^foobar"), "-|-");		/* case folding */
	ck_assert_str_eq(lits("^foo(?i)barbaz"), "-|-");
	ck_assert_str_eq(lits("^foo(?-i)barbaz"), "-|-");
	ck_assert_str_eq(lits("^foo(?m)barbaz"), "-|-");
	ck_assert_str_eq(lits("^foo(?R)?barbaz"), "-|-");	/* recursion: stop reading */
	ck_assert_str_eq(lits("(?x)^foo bar"), "-|-");		/* extended: spaces mean nothing */
	ck_assert_str_eq(lits("^x(?x:a b)cdefg"), "-|-");
	ck_assert_str_eq(lits("^abc\\Qdefghij\\E"), "-|-");
	ck_assert_str_eq(lits("^(*COMMIT)abcdef"), "-|-");
	ck_assert_str_eq(lits("^a+bcd"), "-|bcd");		/* a quantified atom is not required */
	ck_assert_str_eq(lits("^ab?cdef"), "-|cdef");
	ck_assert_str_eq(lits("^xy{2}zab"), "-|zab");
	ck_assert_str_eq(lits("^ab{,3}cde"), "-|cde");		/* {,3}: a quantifier since 10.43 */
	ck_assert_str_eq(lits("^ab{2,}+cde"), "-|cde");
	ck_assert_str_eq(lits("^ab*?cdef"), "-|cdef");
	ck_assert_str_eq(lits("^a{x}bc"), "^a{x}bc|-");		/* not a quantifier: literal */
	ck_assert_str_eq(lits("^[abc]def[^]x]ghij"), "-|ghij");	/* "]" first in a class */
	ck_assert_str_eq(lits("^foo\\dbarbaz"), "^foo|barbaz");
	ck_assert_str_eq(lits("^foo\\x5cbar"), "^foo\\bar|-");	/* a hex escape is one byte */
	ck_assert_str_eq(lits("^a\\.b\\[cd\\]"), "^a.b[cd]|-");	/* escaped punctuation */
	ck_assert_str_eq(lits("^ab\\x{41}cd"), "-|-");		/* \x{..}: not read */
	ck_assert_str_eq(lits("^(?=abcdef)xy"), "-|-");		/* lookahead: a group */
	ck_assert_str_eq(lits("^H=\\[(?<addr>[^]]+)\\] rejected RCPT"), "^H=[|] rejected RCPT");
	ck_assert_str_eq(lits("^ab.cd$"), "-|-");		/* too short either side */
	ck_assert_str_eq(lits("^(abc"), "-|-");			/* unbalanced */
	/* the needle fewer lines hold: capitals over structure, more over less */
	ck_assert_str_eq(lits("^.+ SPAM(?:MY)?y+> -> "), "-| SPAM");
	ck_assert_str_eq(lits("^.MDLOG,(?<qid>[0-9A-Z]+),spam,"), "-|MDLOG,");
	ck_assert_str_eq(lits("^x+abc,y+abcd"), "-|abcd");
	/* of two alike, the later */
	ck_assert_str_eq(lits("^x+abc,y+abd,"), "-|abd,");
	/* (?i:...) is a group: it hides only itself */
	ck_assert_str_eq(lits("^(?<q>[0-9A-F]+): milter-reject: x (?i:virus) to=<"),
			 "@: milter-reject: x | to=<");
}
END_TEST

START_TEST(leads)
{
	/* at the start */
	ck_assert_str_eq(lits("^disconnect from [^\\s]*\\[(?<addr>[0-9.]+)\\](?: [a-z]+=\\d+)*? auth=0/"),
			 "^disconnect from | auth=0/");
	/* after atoms that only match [0-9A-Za-z]: a queue id */
	ck_assert_str_eq(lits("^(?<qid>(?:[0-9A-F]{6,16}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]{10,12}z"
			      "[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]{3,})): client=[^\\s\\[\\]]*\\[x"),
			 "@: client=|-");
	ck_assert_str_eq(lits("^(?:NOQUEUE|(?<qid>[0-9A-F]+)): reject: RCPT from (?<addr>x)"),
			 "@: reject: RCPT from |-");
	ck_assert_str_eq(lits("^(?P<qid>\\d+)[a-z]*?(?:ab|c)?: to=<"), "@: to=<|-");
	ck_assert_str_eq(lits("^\\d+:\\d+ abcdef"), "-| abcdef");	/* ":" alone: too short */
	/* a literal starting with [0-9A-Za-z] could start inside the run */
	ck_assert_str_eq(lits("^[0-9A-F]+x: abcd"), "-|x: abcd");
	/* atoms that can match other bytes: the place is unknown */
	ck_assert_str_eq(lits("^(?:[0-9A-F]+\\.)?lost connection"), "^@1lost connection|-");
	ck_assert_str_eq(lits("^[^:]+: client="), "-|: client=");
	ck_assert_str_eq(lits("^[0-9A-F-]+: client="), "-|: client=");
	ck_assert_str_eq(lits("^[0-9A-f]+: client="), "-|: client=");	/* range across kinds */
	ck_assert_str_eq(lits("^[[:alnum:]]+: client="), "-|: client=");
	ck_assert_str_eq(lits("^\\w+: client="), "-|: client=");		/* \w has "_" */
	ck_assert_str_eq(lits("^.+: client="), "-|: client=");
	ck_assert_str_eq(lits("^(?<=a)b+: client="), "-|: client=");	/* lookbehind */
	ck_assert_str_eq(lits("^(?:a|\\.)+: client="), "-|: client=");
	ck_assert_str_eq(lits("^(?:a|b)(?#x): client="), "-|: client=");
	/* after an optional queue id: at 0 or 2 bytes after the token */
	ck_assert_str_eq(lits("^(?:(?:NOQUEUE|[0-9A-F]{6,16}): )?lost connection after [A-Z]+"),
			 "^@2lost connection after |-");
	ck_assert_str_eq(lits("^(?:[0-9A-Za-z]+: )?MDLOG,(?!NOQUEUE,)(?<qid>[0-9A-Za-z]+),spam,"),
			 "^@2MDLOG,|,spam,");
	ck_assert_str_eq(lits("^(?:NOQUEUE: )??too many"), "^@2too many|-");	/* lazy */
	ck_assert_str_eq(lits("^(?:abc-x)?defg"), "^@2defg|-");
	ck_assert_str_eq(lits("^(?:[0-9]+: )?(?:ab)?cdef"), "-|cdef");	/* not right after */
	ck_assert_str_eq(lits("^(?:[0-9]+: )+cdef"), "-|cdef");	/* repeated, not optional */
	ck_assert_str_eq(lits("^(?:[0-9]+: ?)?cdef"), "-|cdef");	/* a quantified byte */
	ck_assert_str_eq(lits("^(?:[0-9]+:\\d)?cdef"), "-|cdef");	/* not all literal after */
	ck_assert_str_eq(lits("^(?:[^:]+: )?cdef"), "-|cdef");	/* not a token */
	ck_assert_str_eq(lits("^(?:[0-9]+|x: )?cdef"), "-|cdef");	/* alternatives */
	ck_assert_str_eq(lits("^(?:[0-9]+)?cdef"), "-|cdef");		/* nothing after the token */
	ck_assert_str_eq(lits("^(?<q>[0-9]+: )?cdef"), "-|cdef");	/* only (?:...) is read */
	/* only the first run can lead */
	ck_assert_str_eq(lits("^ab[0-9]+: client=[0-9]+: other"), "-|: client=");
}
END_TEST

START_TEST(anchor)
{
	/* punctuation is rarer in logs than letters and spaces */
	ck_assert_uint_eq(literal_anchor("abc=d", 5), 3);
	ck_assert_uint_eq(literal_anchor("disconnect from ", 16), 0);
}
END_TEST

static Suite *literal_suite(void)
{
	Suite *s = suite_create("literal");
	TCase *tc = tcase_create("read");

	tcase_add_test(tc, needles);
	tcase_add_test(tc, leads);
	tcase_add_test(tc, anchor);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(literal_suite)
