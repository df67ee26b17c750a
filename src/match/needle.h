/* SPDX-License-Identifier: GPL-2.0-or-later */
/* needle: owns looking for a literal (a pattern's needle) in a line, a vector of bytes at a time.
 * The widest code this CPU runs (AVX2, SSE2, else memchr) is chosen once, at first use.
 * It must never read a byte outside [hay, hay + n): lines end where their buffers do. */
#ifndef SPAMWRATH_NEEDLE_H
#define SPAMWRATH_NEEDLE_H

#include <stdbool.h>
#include <stddef.h>

/* True when hay (n bytes) holds s (len >= 1 bytes); anchor is the index
 * of s's rarest byte, which the portable code looks for first. */
typedef bool needle_find_fn(const char *hay, size_t n, const char *s, size_t len, size_t anchor);

enum needle_impl {
	NEEDLE_BEST,		/* the fastest of the others this CPU runs */
	NEEDLE_PORTABLE,	/* memchr and memcmp */
	NEEDLE_SSE2,
	NEEDLE_AVX2,
};

/* The implementation asked for, or NULL when this build or CPU lacks it. */
needle_find_fn *needle_finder(enum needle_impl impl);

#endif
