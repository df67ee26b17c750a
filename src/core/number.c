/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "number.h"

/*
 * "-?[0-9]+(\.[0-9]*)?" with at most 15 digits, without strtod: m / 10^k
 * with m < 2^53 and k <= 22 is a division of two exact doubles, correctly
 * rounded like strtod's answer. Anything else is strtod's to read.
 */
static bool number_simple(const char *s, size_t n, double *out)
{
	static const double pow10[16] = {
		1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
		1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
	};
	size_t i = s[0] == '-', int_digits = 0, frac_digits = 0;
	uint64_t m = 0;
	double v;

	for (; i < n && (unsigned char)s[i] - (unsigned)'0' <= 9; i++, int_digits++)
		m = m * 10 + (uint64_t)(s[i] - '0');
	if (i < n && s[i] == '.')
		for (i++; i < n && (unsigned char)s[i] - (unsigned)'0' <= 9; i++, frac_digits++)
			m = m * 10 + (uint64_t)(s[i] - '0');
	if (i != n || int_digits == 0 || int_digits + frac_digits > 15)
		return false;
	v = (double)m / pow10[frac_digits];
	*out = s[0] == '-' ? -v : v;
	return true;
}

bool number_parse(const char *s, size_t len, double *out)
{
	char buf[NUMBER_TEXT_MAX + 1];
	char *end;

	if (len == 0 || len > NUMBER_TEXT_MAX)
		return false;
	if (number_simple(s, len, out))
		return true;
	memcpy(buf, s, len);
	buf[len] = '\0';
	*out = strtod(buf, &end);
	return end != buf && *end == '\0' && *out == *out;
}

static int number_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int number_hex_byte(const char *s)
{
	int hi = number_hex_digit(s[0]), lo;

	if (hi < 0)
		return -1;
	lo = number_hex_digit(s[1]);
	return lo < 0 ? -1 : hi << 4 | lo;
}
