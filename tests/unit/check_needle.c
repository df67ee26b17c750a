/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>	/* memmem (_GNU_SOURCE, set by the build) is the reference */
#include <string.h>

#include "needle.h"
#include "unit.h"

static unsigned long rnd_state = 99;

static unsigned rnd(unsigned n)
{
	rnd_state = rnd_state * 6364136223846793005u + 1442695040888963407u;
	return (unsigned)(rnd_state >> 33) % n;
}

/* Every implementation this machine runs: the portable one always. */
static needle_find_fn *impl(int i)
{
	static const enum needle_impl v[] = { NEEDLE_PORTABLE, NEEDLE_SSE2, NEEDLE_AVX2, NEEDLE_BEST };

	return i < 4 ? needle_finder(v[i]) : NULL;
}

/* Hay in a buffer of exactly n bytes, so that ASan sees any read past it;
 * the caller frees it. */
static char *hay_of(const char *text, size_t n)
{
	char *hay = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(hay);
	memcpy(hay, text, n);
	return hay;
}

START_TEST(portable_and_best_exist)
{
	ck_assert_ptr_nonnull(needle_finder(NEEDLE_PORTABLE));
	ck_assert_ptr_nonnull(needle_finder(NEEDLE_BEST));
}
END_TEST

/* The needle at every place of lines of every length around the vector
 * sizes, and lines that hold only its first or last byte there. */
START_TEST(every_place)
{
	static const char *const needles[] = {
		"abc", ": client=", "x", "ab", ", status=sent (250 2.7.0 Ok", "abcd", "abcdefghi",
		"0123456789abcdef", "0123456789abcdefg", "0123456789abcdefghijklmnopqrstuv",
		", dsn=5.1.1, status=bounced (unknown user: ",
	};

	for (int i = 0; i < 4; i++) {
		needle_find_fn *f = impl(i);

		if (!f)
			continue;
		for (size_t w = 0; w < sizeof(needles) / sizeof(needles[0]); w++) {
			const char *s = needles[w];
			size_t len = strlen(s);

			for (size_t n = 0; n < 100; n++) {
				/* exactly n bytes, as hay_of() gives, but one
				 * buffer for every place: a malloc per call was
				 * most of the time under ASan */
				char *text = malloc(n ? n : 1);

				ck_assert_ptr_nonnull(text);
				memset(text, '.', n);
				ck_assert(!f(text, n, s, len, len / 2));
				for (size_t at = 0; at + len <= n; at++) {
					memset(text, '.', n);
					memcpy(text + at, s, len);
					ck_assert_msg(f(text, n, s, len, len / 2),
						      "impl %d needle %s n %zu at %zu", i, s, n, at);
					/* first and last bytes right, one between wrong */
					for (size_t k = 1; k + 1 < len; k++) {
						text[at + k] = '#';
						ck_assert_msg(!f(text, n, s, len, len / 2),
							      "impl %d needle %s n %zu at %zu byte %zu",
							      i, s, n, at, k);
						text[at + k] = s[k];
					}
				}
				free(text);
			}
		}
	}
}
END_TEST

START_TEST(same_as_memmem)
{
	static const char alpha[] = "ab:= ,.";

	for (int round = 0; round < 100000; round++) {
		char text[200], s[12], *hay;
		size_t n = rnd(200), len = 1 + rnd(sizeof(s));
		bool want;

		for (size_t k = 0; k < n; k++)
			text[k] = alpha[rnd(sizeof(alpha) - 1)];
		for (size_t k = 0; k < len; k++)
			s[k] = alpha[rnd(3)];
		want = memmem(text, n, s, len) != NULL;
		hay = hay_of(text, n);
		for (int i = 0; i < 4; i++)
			if (impl(i))
				ck_assert_int_eq(impl(i)(hay, n, s, len, len / 2), want);
		free(hay);
	}
}
END_TEST

static Suite *needle_suite(void)
{
	Suite *s = suite_create("needle");
	TCase *tc = tcase_create("find");

	/* every_place and same_as_memmem: generated cases, seconds under ASan */
	tcase_set_timeout(tc, UNIT_HEAVY_TIMEOUT);
	tcase_add_test(tc, portable_and_best_exist);
	tcase_add_test(tc, every_place);
	tcase_add_test(tc, same_as_memmem);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(needle_suite)
