/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include <stdlib.h>

#include "grow.h"
#include "unit.h"

/* From nothing to the first capacity, then doubling; a need the array
 * already meets changes nothing; the elements stay. */
START_TEST(doubles)
{
	int *v = NULL;
	size_t cap = 0;

	ck_assert_int_eq(grow(&v, &cap, 1, sizeof(*v), 8), 0);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(cap, 8);
	for (int i = 0; i < 8; i++)
		v[i] = i;
	ck_assert_int_eq(grow(&v, &cap, 8, sizeof(*v), 8), 0);
	ck_assert_uint_eq(cap, 8);
	ck_assert_int_eq(grow(&v, &cap, 9, sizeof(*v), 8), 0);
	ck_assert_uint_eq(cap, 16);
	ck_assert_int_eq(grow(&v, &cap, 100, sizeof(*v), 8), 0);
	ck_assert_uint_eq(cap, 128);
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(v[i], i);
	free(v);
}
END_TEST

/* A size no object may have fails, without asking for it, and leaves the
 * array as it was. */
START_TEST(overflow)
{
	char *v = malloc(4);
	size_t cap = 4;

	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(grow(&v, &cap, SIZE_MAX / 2, 16, 4), -1);
	ck_assert_uint_eq(cap, 4);
	ck_assert_int_eq(grow(&v, &cap, SIZE_MAX, 1, 4), -1);
	ck_assert_uint_eq(cap, 4);
	free(v);
}
END_TEST

/* grow32 stops at max: up to it, then no further. */
START_TEST(bounded)
{
	uint64_t *v = NULL;
	uint32_t cap = 0;

	ck_assert_int_eq(grow32(&v, &cap, 1, sizeof(*v), 64, 100), 0);
	ck_assert_uint_eq(cap, 64);
	ck_assert_int_eq(grow32(&v, &cap, 65, sizeof(*v), 64, 100), 0);
	ck_assert_uint_eq(cap, 100);
	ck_assert_int_eq(grow32(&v, &cap, 100, sizeof(*v), 64, 100), 0);
	ck_assert_int_eq(grow32(&v, &cap, 101, sizeof(*v), 64, 100), -1);
	ck_assert_uint_eq(cap, 100);
	free(v);
	v = NULL;
	cap = 0;
	ck_assert_int_eq(grow32(&v, &cap, 1, sizeof(*v), 64, 10), 0);
	ck_assert_uint_eq(cap, 10);	/* a first size over max: max */
	free(v);
}
END_TEST

static Suite *grow_suite(void)
{
	Suite *s = suite_create("grow");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, doubles);
	tcase_add_test(tc, overflow);
	tcase_add_test(tc, bounded);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(grow_suite)
