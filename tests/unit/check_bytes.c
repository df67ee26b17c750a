/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Every scanner of bytes.h against the plainest code that answers the same
 * question, on each input in an allocation of exactly its length so that
 * ASan sees any read past it; the portable and, where the CPU has it, the
 * SSE2 version of each, whichever the build's own bytes_* use.
 */
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "unit.h"

static unsigned long rnd_state = 5;

static unsigned rnd(unsigned n)
{
	rnd_state = rnd_state * 6364136223846793005u + 1442695040888963407u;
	return (unsigned)(rnd_state >> 33) % n;
}

/* text[0..n) copied into an allocation of exactly n bytes (free it). */
static char *own(const char *text, size_t n)
{
	char *p = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(p);
	memcpy(p, text, n);
	return p;
}

/* Random text of n bytes from the alphabet, some bytes anything at all. */
static void fill(char *s, size_t n, const char *alpha)
{
	for (size_t i = 0; i < n; i++)
		s[i] = rnd(16) ? alpha[rnd((unsigned)strlen(alpha))] : (char)rnd(256);
}

/* bytes_equal against memcmp: every length to 40, equal keys and keys
 * that differ in any one byte (by one bit or by all). */
START_TEST(equal_as_memcmp)
{
	for (size_t n = 0; n <= 40; n++) {
		unsigned char *a = malloc(n ? n : 1), *b = malloc(n ? n : 1);

		ck_assert_ptr_nonnull(a);
		ck_assert_ptr_nonnull(b);
		for (size_t i = 0; i < n; i++)
			a[i] = b[i] = (unsigned char)(i * 29 + n);
		ck_assert(bytes_equal(a, b, n));
		for (size_t i = 0; i < n; i++) {
			for (unsigned f = 0; f < 3; f++) {
				unsigned char flip = f == 0 ? 0x01 : f == 1 ? 0x80 : 0xff;

				b[i] ^= flip;
				ck_assert_msg(!bytes_equal(a, b, n), "length %zu, byte %zu", n, i);
				ck_assert(!bytes_equal(b, a, n));
				b[i] ^= flip;
			}
		}
		ck_assert(bytes_equal(a, b, n));
		free(a);
		free(b);
	}
}
END_TEST

/* A key at the start of texts of every length, equal to it or not in any
 * one byte: bytes_key_at answers as "long enough and memcmp". */
START_TEST(key_at_as_memcmp)
{
	for (size_t len = 1; len <= 40; len++) {
		char key[41], text[64];
		struct bytes_key k;

		fill(key, len, "ab: ");
		bytes_key_init(&k, key, len);
		for (size_t left = 0; left <= 50; left++) {
			for (size_t i = 0; i <= left; i++) {
				char *t;
				bool want;

				fill(text, left, "ab: ");
				memcpy(text, key, left < len ? left : len);
				if (i < left)
					text[i] ^= (char)(1 << rnd(8));
				want = left >= len && memcmp(text, key, len) == 0;
				t = own(text, left);
				ck_assert_msg(bytes_key_at(&k, t, left) == want, "len %zu left %zu byte %zu",
					      len, left, i);
				free(t);
			}
		}
	}
}
END_TEST

typedef const char *find3_fn(const char **at, const char *end, char a, char b, char c);

static const char *find3_ref(const char *s, const char *end, char a, char b, char c)
{
	while (s < end && *s != a && *s != b && *s != c)
		s++;
	return s;
}

/* The block scanner's answer, then the byte-by-byte tail, as bytes_find3. */
static const char *find3_with(find3_fn *f, const char *s, const char *end, char a, char b, char c)
{
	const char *at = s, *t = f(&at, end, a, b, c);

	if (t) {
		ck_assert(t >= s && t < end);
		return t;
	}
	ck_assert(at >= s && at <= end);
	ck_assert_msg(find3_ref(s, at, a, b, c) == at, "a match before the tail was missed");
	return find3_ref(at, end, a, b, c);
}

START_TEST(find3_as_bytewise)
{
	find3_fn *impls[2] = { bytes_find3_words, NULL };
#ifdef BYTES_HAVE_SSE2
	impls[1] = bytes_find3_sse2;
#endif
	for (int round = 0; round < 20000; round++) {
		size_t n = rnd(70);
		char text[70], *t;
		const char *want;

		fill(text, n, "postfix/smtpd01234567890abcdefghijklmnopq");
		if (rnd(2) && n)
			text[rnd((unsigned)n)] = ":[ "[rnd(3)];
		t = own(text, n);
		want = find3_ref(t, t + n, ' ', '[', ':');
		for (int i = 0; i < 2; i++)
			if (impls[i])
				ck_assert_ptr_eq(find3_with(impls[i], t, t + n, ' ', '[', ':'), want);
		ck_assert_ptr_eq(bytes_find3(t, t + n, ' ', '[', ':'), want);
		free(t);
	}
}
END_TEST

START_TEST(digits_end_as_bytewise)
{
	for (int round = 0; round < 20000; round++) {
		size_t n = rnd(40), k = 0;
		char text[40], *t;

		fill(text, n, "0123456789");
		if (n && rnd(2))
			text[rnd((unsigned)n)] = "]./:a"[rnd(5)];
		t = own(text, n);
		while (k < n && t[k] >= '0' && t[k] <= '9')
			k++;
		ck_assert_ptr_eq(bytes_digits_end(t, t + n), t + k);
		free(t);
	}
}
END_TEST

START_TEST(alnum_run_as_bytewise)
{
	size_t (*impls[2])(const char *, size_t) = { bytes_alnum_run_portable, NULL };
#ifdef BYTES_HAVE_SSE2
	impls[1] = bytes_alnum_run_sse2;
#endif
	for (int round = 0; round < 20000; round++) {
		size_t n = rnd(60), k = 0;
		char text[60], *t;

		/* queue ids, and the bytes around the ranges' ends */
		fill(text, n, "0123456789ABCDEFXYZabcxyz/:@[`{");
		t = own(text, n);
		while (k < n && ((t[k] >= '0' && t[k] <= '9') || (t[k] >= 'A' && t[k] <= 'Z') ||
				 (t[k] >= 'a' && t[k] <= 'z')))
			k++;
		for (int i = 0; i < 2; i++)
			if (impls[i])
				ck_assert_uint_eq(impls[i](t, n), k);
		ck_assert_uint_eq(bytes_alnum_run(t, n), k);
		free(t);
	}
}
END_TEST

START_TEST(in_ranges_as_bytewise)
{
	bool (*impls[2])(const char *, const uint8_t *, const uint8_t *, unsigned) = {
		bytes_in_ranges_portable, NULL,
	};
	_Alignas(16) uint8_t lo[64], span[64];
#ifdef BYTES_HAVE_SSE2
	impls[1] = bytes_in_ranges_sse2;
#endif
	for (int round = 0; round < 20000; round++) {
		unsigned blocks = 1 + rnd(4);
		size_t n = 16 * (size_t)blocks;
		char text[64], *t;
		bool want = true;

		for (size_t i = 0; i < n; i++) {
			lo[i] = (uint8_t)rnd(256);
			span[i] = rnd(4) == 0 ? 255 : (uint8_t)rnd(10);
			text[i] = (char)(lo[i] + rnd((unsigned)span[i] + 1));
		}
		if (rnd(2))
			text[rnd((unsigned)n)] = (char)rnd(256);
		for (size_t i = 0; i < n; i++)
			want = want && (uint8_t)((uint8_t)text[i] - lo[i]) <= span[i];
		t = own(text, n);
		for (int i = 0; i < 2; i++)
			if (impls[i])
				ck_assert_int_eq(impls[i](t, lo, span, blocks), want);
		ck_assert_int_eq(bytes_in_ranges(t, lo, span, blocks), want);
		free(t);
	}
}
END_TEST

static Suite *bytes_suite(void)
{
	Suite *s = suite_create("bytes");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, equal_as_memcmp);
	tcase_add_test(tc, key_at_as_memcmp);
	tcase_add_test(tc, find3_as_bytewise);
	tcase_add_test(tc, digits_end_as_bytewise);
	tcase_add_test(tc, alnum_run_as_bytewise);
	tcase_add_test(tc, in_ranges_as_bytewise);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(bytes_suite)
