/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>

#include "duration.h"

int duration_parse(const char *s, long *out)
{
	long v = 0, unit = 1;
	const char *p = s;

	if (!s || !isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		int digit = *p - '0';

		if (v > (LONG_MAX - digit) / 10)
			return -2;	/* all digits: a span, just far too long */
		v = v * 10 + digit;
	}
	switch (*p) {
	case '\0': break;
	case 's': unit = 1; p++; break;
	case 'm': unit = 60; p++; break;
	case 'h': unit = 3600; p++; break;
	case 'd': unit = 86400; p++; break;
	case 'w': unit = 7 * 86400; p++; break;
	default: return -1;
	}
	if (*p != '\0')
		return -1;
	if (v > DURATION_MAX / unit)
		return -2;
	*out = v * unit;
	return 0;
}

const char *duration_error(int r)
{
	return r == -2 ? DURATION_TOO_LONG :
		"not a duration (90s, 15m, 12h, 7d or seconds)";
}

char *duration_format(long s, char *buf, size_t len)
{
	static const struct { long n; char u; } units[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' },
	};
	size_t off = 0;

	if (s <= 0) {
		snprintf(buf, len, "0s");
		return buf;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && off < len; i++) {
		if (s >= units[i].n) {
			int w = snprintf(buf + off, len - off, "%ld%c", s / units[i].n, units[i].u);

			if (w < 0)
				break;
			off += (size_t)w;
			s %= units[i].n;
		}
	}
	return buf;
}
