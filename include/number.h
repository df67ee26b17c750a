/* SPDX-License-Identifier: GPL-2.0-or-later */
/* number: owns reading a decimal number from a slice of text (a spam score), as strtod() reads it,
 * and a byte written as two hex digits (a pattern's \xHH, a fleet field's %HH).
 * Plain decimals ("15", "-0.5") are read without strtod(): the same answer for less work.
 * It must never accept text strtod() refuses, read past the slice, or answer other than strtod(). */
#ifndef SPAMWRATH_NUMBER_H
#define SPAMWRATH_NUMBER_H

#include <stdbool.h>
#include <stddef.h>

/* The longest text read; a longer one is no number. */
#define NUMBER_TEXT_MAX 31

/* True with *out set when the len bytes at s are one whole number that
 * strtod() reads (not NaN), at most NUMBER_TEXT_MAX of them. */
bool number_parse(const char *s, size_t len, double *out);

/* The byte that the two hex digits at s (either case) stand for, 0 to 255;
 * -1 when they are not two hex digits. s[1] is read only when s[0] is a
 * hex digit, so a NUL-terminated string can end at s[0]. */
int number_hex_byte(const char *s);

#endif
