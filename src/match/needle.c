/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Wojciech Mula's "SIMD-friendly" substring search: a vector of places at
 * a time, those where both the needle's first and last bytes are; only
 * those few are compared in full. The last vector overlaps the one before
 * it rather than leave a tail, so every load lies inside the line; a line
 * shorter than one vector plus the needle goes to the portable code.
 */
#include <stdint.h>
#include <string.h>

#include "bytes.h"
#include "needle.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define NEEDLE_X86 1
#endif

static bool needle_portable(const char *hay, size_t n, const char *s, size_t len, size_t anchor)
{
	const char *p = hay + anchor, *end;
	unsigned char c = (unsigned char)s[anchor];

	if (n < len)
		return false;
	end = hay + n - (len - anchor) + 1;
	while (p < end && (p = memchr(p, c, (size_t)(end - p))) != NULL) {
		if (p[len - 1 - anchor] == s[len - 1] && memcmp(p - anchor, s, len) == 0)
			return true;
		p++;
	}
	return false;
}

/* The candidates of one vector: bit i set when hay[i] and hay[i + k]
 * are the needle's first and last bytes; true when one is the needle. */
static inline __attribute__((always_inline)) bool needle_check(const char *at, unsigned mask,
							       const char *s, size_t k)
{
	while (mask) {
		unsigned bit = (unsigned)__builtin_ctz(mask);

		if (bytes_equal(at + bit, s, k + 1))
			return true;
		mask &= mask - 1;
	}
	return false;
}

#ifdef NEEDLE_X86
__attribute__((target("sse2")))
static bool needle_sse2(const char *hay, size_t n, const char *s, size_t len, size_t anchor)
{
	const __m128i first = _mm_set1_epi8(s[0]), last = _mm_set1_epi8(s[len - 1]);
	size_t i = 0, k = len - 1, stop;

	if (n < k + 16)
		return needle_portable(hay, n, s, len, anchor);
	stop = n - k - 16;
	for (;;) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)(hay + i));
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(hay + i + k));
		unsigned mask = (unsigned)_mm_movemask_epi8(
			_mm_and_si128(_mm_cmpeq_epi8(a, first), _mm_cmpeq_epi8(b, last)));

		if (mask && needle_check(hay + i, mask, s, k))
			return true;
		if (i == stop)
			return false;
		i = i + 16 < stop ? i + 16 : stop;
	}
}

/* needle_sse2's twin with 32-byte vectors: the intrinsics differ in type
 * and width, not in what they do, so the two loops read alike. */
__attribute__((target("avx2")))
static bool needle_avx2(const char *hay, size_t n, const char *s, size_t len, size_t anchor)
{
	const __m256i first = _mm256_set1_epi8(s[0]), last = _mm256_set1_epi8(s[len - 1]);
	size_t i = 0, k = len - 1, stop;

	if (n < k + 32)
		return needle_sse2(hay, n, s, len, anchor);
	stop = n - k - 32;
	for (;;) {
		__m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(hay + i));
		__m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(hay + i + k));
		unsigned mask = (unsigned)_mm256_movemask_epi8(
			_mm256_and_si256(_mm256_cmpeq_epi8(a, first), _mm256_cmpeq_epi8(b, last)));

		if (mask && needle_check(hay + i, mask, s, k))
			return true;
		if (i == stop)
			return false;
		i = i + 32 < stop ? i + 32 : stop;
	}
}
#endif

needle_find_fn *needle_finder(enum needle_impl impl)
{
	switch (impl) {
	case NEEDLE_BEST:
#ifdef NEEDLE_X86
		__builtin_cpu_init();
		if (__builtin_cpu_supports("avx2"))
			return needle_avx2;
		if (__builtin_cpu_supports("sse2"))
			return needle_sse2;
#endif
		return needle_portable;
	case NEEDLE_PORTABLE:
		return needle_portable;
	case NEEDLE_SSE2:
#ifdef NEEDLE_X86
		__builtin_cpu_init();
		return __builtin_cpu_supports("sse2") ? needle_sse2 : NULL;
#else
		return NULL;
#endif
	case NEEDLE_AVX2:
#ifdef NEEDLE_X86
		__builtin_cpu_init();
		return __builtin_cpu_supports("avx2") ? needle_avx2 : NULL;
#else
		return NULL;
#endif
	}
	return NULL;
}
