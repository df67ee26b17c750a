/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"
#include "unit.h"

/* The value, or -2 when the text is refused (no accepted text gives -2). */
static long parse(const char *s)
{
	long v = -2;

	if (duration_parse(s, &v) < 0)
		return -2;
	return v;
}

START_TEST(accepted_forms)
{
	ck_assert_int_eq(parse("90s"), 90);
	ck_assert_int_eq(parse("15m"), 900);
	ck_assert_int_eq(parse("12h"), 43200);
	ck_assert_int_eq(parse("7d"), 604800);
	ck_assert_int_eq(parse("1w"), 604800);
	ck_assert_int_eq(parse("2w"), 1209600);
	ck_assert_int_eq(parse("3600"), 3600);
	ck_assert_int_eq(parse("0"), 0);
	ck_assert_int_eq(parse("0s"), 0);
	ck_assert_int_eq(parse("007"), 7);
	ck_assert_int_eq(parse("30d"), 2592000);
}
END_TEST

START_TEST(rejected_forms)
{
	long v = 12345;

	ck_assert_int_eq(parse(""), -2);
	ck_assert_int_eq(parse("-5"), -2);
	ck_assert_int_eq(parse("-5s"), -2);
	ck_assert_int_eq(parse("+5"), -2);
	ck_assert_int_eq(parse("12x"), -2);
	ck_assert_int_eq(parse("12H"), -2);
	ck_assert_int_eq(parse("1h30m"), -2);	/* one number, one unit */
	ck_assert_int_eq(parse("5ms"), -2);
	ck_assert_int_eq(parse("h"), -2);
	ck_assert_int_eq(parse(" 5"), -2);
	ck_assert_int_eq(parse("5 "), -2);
	ck_assert_int_eq(parse("5 s"), -2);
	ck_assert_int_eq(parse("1.5h"), -2);
	ck_assert_int_eq(parse("0x10"), -2);
	ck_assert_int_eq(parse("1e3"), -2);
	/* a refusal leaves the output alone */
	ck_assert_int_eq(duration_parse("12x", &v), -1);
	ck_assert_int_eq(v, 12345);
	ck_assert_int_eq(duration_parse(NULL, &v), -1);
	ck_assert_int_eq(v, 12345);
}
END_TEST

START_TEST(overflow)
{
	char buf[64];
	long v = 12345;

	/* the cap is accepted, one second more is not, nor anything that
	 * would overflow on the way */
	snprintf(buf, sizeof(buf), "%ld", DURATION_MAX);
	ck_assert_int_eq(parse(buf), DURATION_MAX);
	ck_assert_int_eq(parse(DURATION_MAX_TEXT), DURATION_MAX);
	snprintf(buf, sizeof(buf), "%lds", DURATION_MAX + 1);
	ck_assert_int_eq(duration_parse(buf, &v), -2);
	ck_assert_int_eq(v, 12345);
	ck_assert_int_eq(duration_parse("3651d", &v), -2);
	ck_assert_int_eq(duration_parse("522w", &v), -2);
	ck_assert_int_eq(parse("521w"), 521 * 604800L);
	ck_assert_int_eq(duration_parse("52561m", &v), 0);
	ck_assert_int_eq(duration_parse("87601h", &v), -2);
	/* spamwrathctl ban X --for 9223372036854775807s (issue 17, item 6) */
	ck_assert_int_eq(duration_parse("9223372036854775807s", &v), -2);
	snprintf(buf, sizeof(buf), "%ld", LONG_MAX);
	ck_assert_int_eq(duration_parse(buf, &v), -2);
	ck_assert_int_eq(duration_parse("9223372036854775808", &v), -2);
	ck_assert_int_eq(duration_parse("99999999999999999999999999999999999999s", &v), -2);
	snprintf(buf, sizeof(buf), "%ldd", LONG_MAX / 86400 + 1);
	ck_assert_int_eq(duration_parse(buf, &v), -2);
	ck_assert_int_eq(v, 52561 * 60L);
	ck_assert_ptr_nonnull(strstr(duration_error(-2), DURATION_MAX_TEXT));
	ck_assert_ptr_nonnull(strstr(duration_error(-1), "not a duration"));
}
END_TEST

START_TEST(format_exact)
{
	char buf[32];

	ck_assert_str_eq(duration_format(0, buf, sizeof(buf)), "0s");
	ck_assert_str_eq(duration_format(-5, buf, sizeof(buf)), "0s");
	ck_assert_str_eq(duration_format(1, buf, sizeof(buf)), "1s");
	ck_assert_str_eq(duration_format(90, buf, sizeof(buf)), "1m30s");
	ck_assert_str_eq(duration_format(900, buf, sizeof(buf)), "15m");
	ck_assert_str_eq(duration_format(43200, buf, sizeof(buf)), "12h");
	ck_assert_str_eq(duration_format(129600, buf, sizeof(buf)), "1d12h");
	ck_assert_str_eq(duration_format(604800, buf, sizeof(buf)), "7d");
	ck_assert_str_eq(duration_format(90061, buf, sizeof(buf)), "1d1h1m1s");
	ck_assert_str_eq(duration_format(86401, buf, sizeof(buf)), "1d1s");
	snprintf(buf, sizeof(buf), "x");
	ck_assert_str_eq(duration_format(LONG_MAX, buf, sizeof(buf)), "106751991167300d15h30m7s");
}
END_TEST

/* duration_format's text read back: every unit part through duration_parse. */
static long parse_formatted(const char *s)
{
	long total = 0;

	while (*s) {
		char part[32];
		size_t n = strspn(s, "0123456789");
		long v;

		ck_assert_uint_gt(n, 0);
		ck_assert_uint_lt(n + 1, sizeof(part));
		memcpy(part, s, n + 1);
		part[n + 1] = '\0';
		ck_assert_int_eq(duration_parse(part, &v), 0);
		total += v;
		s += n + 1;
	}
	return total;
}

START_TEST(format_round_trip)
{
	static const long single[] = { 1, 59, 60, 3600, 43200, 86400, 2592000, 604800 };
	char buf[32];

	/* a single-unit form is a valid configuration value for the same span */
	for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++)
		ck_assert_int_eq(parse(duration_format(single[i], buf, sizeof(buf))), single[i]);
	for (long s = 1; s < 200000; s += 37)
		ck_assert_int_eq(parse_formatted(duration_format(s, buf, sizeof(buf))), s);
	for (long s = 86400 * 29; s < 86400 * 31; s += 3599)
		ck_assert_int_eq(parse_formatted(duration_format(s, buf, sizeof(buf))), s);
	ck_assert_int_eq(parse_formatted(duration_format(DURATION_MAX, buf, sizeof(buf))),
			 DURATION_MAX);
}
END_TEST

START_TEST(format_small_buffer)
{
	char buf[32];

	memset(buf, 'x', sizeof(buf));
	/* too small a buffer (the contract asks for 32) is never overrun */
	duration_format(90061, buf, 5);
	ck_assert_uint_lt(strlen(buf), 5);
	for (size_t i = 5; i < sizeof(buf); i++)
		ck_assert_int_eq(buf[i], 'x');
}
END_TEST

static Suite *duration_suite(void)
{
	Suite *s = suite_create("duration");
	TCase *tc = tcase_create("core");

	/* format_round_trip: generated cases, a second under ASan */
	tcase_set_timeout(tc, UNIT_HEAVY_TIMEOUT);
	tcase_add_test(tc, accepted_forms);
	tcase_add_test(tc, rejected_forms);
	tcase_add_test(tc, overflow);
	tcase_add_test(tc, format_exact);
	tcase_add_test(tc, format_round_trip);
	tcase_add_test(tc, format_small_buffer);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(duration_suite)
