/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bytes: owns looking at runs of bytes a word (8 bytes) or a vector (16, SSE2) at a time.
 * Each scanner exists as portable word code and as SSE2 code, both always compiled; check_bytes holds them to one answer.
 * It must never read outside the bytes it is given, except where a function says how many it may. */
#ifndef SPAMWRATH_BYTES_H
#define SPAMWRATH_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Why two versions: the word code runs on any CPU; SSE2 looks at twice
 * the bytes per step, and every x86-64 has it. The build's own target
 * decides which one bytes_* use (BYTES_SSE2): SSE2 is part of the x86-64
 * baseline, so no test at run time is needed, unlike needle.c's AVX2.
 * The SSE2 versions carry the target attribute, so that every x86 build
 * compiles them and the unit test can run both.
 */
#if defined(__x86_64__) || defined(__i386__)
#include <emmintrin.h>
#define BYTES_HAVE_SSE2 1
#define BYTES_SSE2_FN static inline __attribute__((target("sse2")))
#endif
#if defined(__SSE2__)
#define BYTES_SSE2 1
#endif

/* --- words ------------------------------------------------------------ */

/* c in every byte of a word. */
#define BYTES_EACH(c) (0x0101010101010101ULL * (uint8_t)(c))

/* The 8 bytes at s, the first one lowest on any host: the first match in
 * the text is then the lowest flagged byte. */
static inline uint64_t bytes_word(const char *s)
{
	uint64_t x;

	memcpy(&x, s, sizeof(x));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	x = __builtin_bswap64(x);
#endif
	return x;
}

/* The first n bytes of a word (n <= 8). */
static inline uint64_t bytes_mask(size_t n)
{
	return n >= 8 ? ~0ULL : (1ULL << (8 * n)) - 1;
}

/* 0x80 in the bytes of x equal to c. A byte above a flagged one may be
 * flagged wrongly (the borrow runs upward), one below never: the lowest
 * flag is exact, and the scanners look at no other. */
static inline uint64_t bytes_eq(uint64_t x, uint8_t c)
{
	uint64_t y = x ^ BYTES_EACH(c);

	return (y - BYTES_EACH(1)) & ~y & BYTES_EACH(0x80);
}

/* 0x80 in the bytes of x that are not '0'-'9'; exact (no carry crosses
 * a byte: at most 0x7f + 0x76). */
static inline uint64_t bytes_nondigit(uint64_t x)
{
	uint64_t y = x ^ BYTES_EACH('0');	/* the digits become 0-9 */

	return (((y & BYTES_EACH(0x7f)) + BYTES_EACH(0x76)) | y) & BYTES_EACH(0x80);
}

/* The byte of the word at s whose flag is the lowest in m (m != 0). */
static inline const char *bytes_flagged(const char *s, uint64_t m)
{
	return s + (__builtin_ctzll(m) >> 3);
}

/* --- equality ------------------------------------------------------------ */

/*
 * Whether the n bytes at a and b are equal, reading no other byte: words
 * from both ends, overlapping, and between them, so that a comparison of
 * a short key (a queue id, a host, a needle) costs no call to memcmp.
 */
static inline bool bytes_equal(const void *a, const void *b, size_t n)
{
	const char *x = a, *y = b;
	uint32_t c, d, u, v;

	if (n >= 8) {
		if (bytes_word(x) != bytes_word(y) || bytes_word(x + n - 8) != bytes_word(y + n - 8))
			return false;
		for (size_t i = 8; i + 8 < n; i += 8)
			if (bytes_word(x + i) != bytes_word(y + i))
				return false;
		return true;
	}
	if (n >= 4) {
		memcpy(&c, x, 4);
		memcpy(&u, y, 4);
		memcpy(&d, x + n - 4, 4);
		memcpy(&v, y + n - 4, 4);
		return c == u && d == v;
	}
	return n == 0 || (x[0] == y[0] && x[n - 1] == y[n - 1] && x[n / 2] == y[n / 2]);
}

/*
 * A key compared in place at many places of many texts (a pattern's
 * lead): its first and last words are kept ready, so that most places
 * are ruled out by one load and one compare.
 */
struct bytes_key {
	uint64_t first, last;	/* its first and last 8 bytes; a key shorter than 8:
				 * its bytes, and 0 */
	uint64_t mask;		/* the bytes of first that are the key's */
	const char *p;
	size_t len;
};

void bytes_key_init(struct bytes_key *k, const char *p, size_t len);

/* Whether the key stands at s, where left bytes remain (none read past them). */
static inline bool bytes_key_at(const struct bytes_key *k, const char *s, size_t left)
{
	if (left < 8)
		return left >= k->len && bytes_equal(s, k->p, k->len);
	/* the first word rules most places out; then the last, then between */
	if ((bytes_word(s) & k->mask) != k->first)
		return false;
	if (k->len <= 8)
		return true;
	if (left < k->len)
		return false;
	return bytes_word(s + k->len - 8) == k->last &&
	       (k->len <= 16 || bytes_equal(s + 8, k->p + 8, k->len - 16));
}

/* --- scanning: each with its portable and its SSE2 code ------------------ */

/*
 * The first of bytes a, b, c in the whole blocks (8 bytes a word, 16 a
 * vector) from *at on, or NULL with *at at the bytes left (fewer than a
 * block). The caller looks at those: the loop here then has no tail.
 */
static inline const char *bytes_find3_words(const char **at, const char *end, char a, char b,
					    char c)
{
	const char *s = *at;

	for (; end - s >= 8; s += 8) {
		uint64_t x = bytes_word(s);
		uint64_t m = bytes_eq(x, (uint8_t)a) | bytes_eq(x, (uint8_t)b) | bytes_eq(x, (uint8_t)c);

		if (m)
			return bytes_flagged(s, m);
	}
	*at = s;
	return NULL;
}

#ifdef BYTES_HAVE_SSE2
BYTES_SSE2_FN const char *bytes_find3_sse2(const char **at, const char *end, char a, char b,
					   char c)
{
	const char *s = *at;
	const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b), vc = _mm_set1_epi8(c);

	for (; end - s >= 16; s += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
		__m128i eq = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, va), _mm_cmpeq_epi8(x, vb)),
					  _mm_cmpeq_epi8(x, vc));
		unsigned m = (unsigned)_mm_movemask_epi8(eq);

		if (m)
			return s + __builtin_ctz(m);
	}
	*at = s;
	return NULL;
}
#endif

static inline const char *bytes_find3_blocks(const char **at, const char *end, char a, char b,
					     char c)
{
#ifdef BYTES_SSE2
	return bytes_find3_sse2(at, end, a, b, c);
#else
	return bytes_find3_words(at, end, a, b, c);
#endif
}

/* The first of bytes a, b, c at or after s, or end. */
static inline const char *bytes_find3(const char *s, const char *end, char a, char b, char c)
{
	const char *t = bytes_find3_blocks(&s, end, a, b, c);

	if (t)
		return t;
	while (s < end && *s != a && *s != b && *s != c)
		s++;
	return s;
}

/* The end of the run of digits at s, a word a step: a pid or a fraction
 * of a second mostly fits the first word. */
static inline const char *bytes_digits_end(const char *s, const char *end)
{
	for (; end - s >= 8; s += 8) {
		uint64_t m = bytes_nondigit(bytes_word(s));

		if (m)
			return bytes_flagged(s, m);
	}
	while (s < end && *s >= '0' && *s <= '9')
		s++;
	return s;
}

/* [0-9A-Za-z] as bits, without a branch per byte: queue ids mix digits
 * and letters at random, which a chain of comparisons mispredicts. */
static inline bool bytes_alnum(unsigned char c)
{
	static const uint64_t bits[4] = { 0x03ff000000000000u, 0x07fffffe07fffffeu, 0, 0 };

	return (bits[c >> 6] >> (c & 63)) & 1;
}

/* The length of the run of [0-9A-Za-z] that starts s (n bytes). */
static inline size_t bytes_alnum_run_portable(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && bytes_alnum((unsigned char)s[i]))
		i++;
	return i;
}

#ifdef BYTES_HAVE_SSE2
BYTES_SSE2_FN size_t bytes_alnum_run_sse2(const char *s, size_t n)
{
	size_t i = 0;

	/* sixteen bytes at once: a queue id is rarely longer */
	for (; i + 16 <= n; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		/* bytes as signed: shift each range to start at -128 */
		__m128i d = _mm_cmplt_epi8(_mm_sub_epi8(x, _mm_set1_epi8('0' - 128)),
					   _mm_set1_epi8(-128 + 10));
		__m128i u = _mm_cmplt_epi8(_mm_sub_epi8(_mm_or_si128(x, _mm_set1_epi8(0x20)),
							_mm_set1_epi8('a' - 128)),
					   _mm_set1_epi8(-128 + 26));
		unsigned bad = ~(unsigned)_mm_movemask_epi8(_mm_or_si128(d, u)) & 0xffffu;

		if (bad)
			return i + (size_t)__builtin_ctz(bad);
	}
	return i + bytes_alnum_run_portable(s + i, n - i);
}
#endif

static inline size_t bytes_alnum_run(const char *s, size_t n)
{
#ifdef BYTES_SSE2
	return bytes_alnum_run_sse2(s, n);
#else
	return bytes_alnum_run_portable(s, n);
#endif
}

/*
 * Whether every byte of s[0..16 * blocks) lies in its range of a
 * template: lo[i] <= s[i] <= lo[i] + span[i] (span 255 lets any byte
 * through). Reads all 16 * blocks bytes; blocks is 1 to 4.
 */
static inline bool bytes_in_ranges_portable(const char *s, const uint8_t *lo, const uint8_t *span,
					     unsigned blocks)
{
	for (size_t i = 0; i < 16 * (size_t)blocks; i++)
		if ((uint8_t)((uint8_t)s[i] - lo[i]) > span[i])
			return false;
	return true;
}

#ifdef BYTES_HAVE_SSE2
/* lo and span aligned to 16 bytes. */
BYTES_SSE2_FN bool bytes_in_ranges_sse2(const char *s, const uint8_t *lo, const uint8_t *span,
					unsigned blocks)
{
	const __m128i *l = (const __m128i *)(const void *)lo;
	const __m128i *sp = (const __m128i *)(const void *)span;
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
	/* byte - lo <= span, unsigned: what it exceeds the span by */
	__m128i out = _mm_subs_epu8(_mm_sub_epi8(x, l[0]), sp[0]);

	if (blocks > 1) {
		x = _mm_loadu_si128((const __m128i *)(const void *)(s + 16));
		out = _mm_or_si128(out, _mm_subs_epu8(_mm_sub_epi8(x, l[1]), sp[1]));
	}
	if (blocks > 2) {
		x = _mm_loadu_si128((const __m128i *)(const void *)(s + 32));
		out = _mm_or_si128(out, _mm_subs_epu8(_mm_sub_epi8(x, l[2]), sp[2]));
	}
	if (blocks > 3) {
		x = _mm_loadu_si128((const __m128i *)(const void *)(s + 48));
		out = _mm_or_si128(out, _mm_subs_epu8(_mm_sub_epi8(x, l[3]), sp[3]));
	}
	return _mm_movemask_epi8(_mm_cmpeq_epi8(out, _mm_setzero_si128())) == 0xffff;
}
#endif

static inline bool bytes_in_ranges(const char *s, const uint8_t *lo, const uint8_t *span,
				   unsigned blocks)
{
#ifdef BYTES_SSE2
	return bytes_in_ranges_sse2(s, lo, span, blocks);
#else
	return bytes_in_ranges_portable(s, lo, span, blocks);
#endif
}

#endif
