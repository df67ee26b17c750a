/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "number.h"
#include "unit.h"

/* number_parse answers as strtod() does, or refuses what strtod() would
 * not read whole. */
START_TEST(decimal)
{
	static const char *const same[] = { "15", "-0.5", "25.5", "0", "007", "1e3", "0x10",
					    "123456789012345678", "-3.25" };
	double v;

	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		ck_assert_msg(number_parse(same[i], strlen(same[i]), &v), "%s refused", same[i]);
		ck_assert_msg(v == strtod(same[i], NULL), "%s read as %g", same[i], v);
	}
	ck_assert(!number_parse("", 0, &v));
	ck_assert(!number_parse("5x", 2, &v));
	ck_assert(!number_parse("nan", 3, &v));
	ck_assert(number_parse("12345", 2, &v) && v == 12);	/* the slice, not the string */
}
END_TEST

/* Two hex digits of either case make a byte; anything else is -1, and a
 * string ending at the first digit is not read past its end. */
START_TEST(hex_byte)
{
	char *end = malloc(1);

	ck_assert_int_eq(number_hex_byte("00"), 0);
	ck_assert_int_eq(number_hex_byte("5c"), 0x5c);
	ck_assert_int_eq(number_hex_byte("Ff"), 255);
	ck_assert_int_eq(number_hex_byte("a9z"), 0xa9);
	ck_assert_int_eq(number_hex_byte("g0"), -1);
	ck_assert_int_eq(number_hex_byte("0g"), -1);
	ck_assert_int_eq(number_hex_byte("4"), -1);
	ck_assert_ptr_nonnull(end);
	end[0] = '\0';		/* ASan: one byte, and nothing read after it */
	ck_assert_int_eq(number_hex_byte(end), -1);
	free(end);
}
END_TEST

static Suite *number_suite(void)
{
	Suite *s = suite_create("number");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, decimal);
	tcase_add_test(tc, hex_byte);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(number_suite)
