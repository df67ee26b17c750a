/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The parsers below take exactly the text glibc's inet_pton() takes (the
 * unit tests compare them over many generated strings): they run once
 * per matched line, and inet_pton() with the copy it needs (a NUL-
 * terminated string) cost several times the whole correlation.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

/* The longest text inet_pton could accept, with a zone; anything longer
 * (a 5000-digit "address" in a forged line) is not an address at all. */
#define ADDR_TEXT_MAX 63

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* A hex digit's value plus one; zero for every other byte. */
static const uint8_t addr_hex[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/*
 * The dotted quad at the start of s[0..n): four decimal parts 0..255 without
 * leading zeros, as inet_pton(AF_INET) takes them. Returns its length, 0
 * when there is none; whatever follows is the caller's to judge.
 */
static size_t addr_quad_span(const char *s, size_t n, uint8_t b[4])
{
	size_t i = 0;

	for (unsigned part = 0; part < 4; part++) {
		unsigned d, val;

		if (part) {
			if (i >= n || s[i] != '.')
				return 0;
			i++;
		}
		if (i >= n || (val = (unsigned char)s[i] - (unsigned)'0') > 9)
			return 0;
		i++;
		/* "0" ends its part: "01" stops here and fails on the '1' */
		if (val && i < n && (d = (unsigned char)s[i] - (unsigned)'0') <= 9) {
			val = val * 10 + d;
			i++;
			if (i < n && (d = (unsigned char)s[i] - (unsigned)'0') <= 9) {
				val = val * 10 + d;
				i++;
				if (val > 255)
					return 0;
			}
		}
		b[part] = (uint8_t)val;
	}
	return i;
}

/* A dotted quad filling all of s[0..n) (inet_pton(AF_INET)). */
static bool addr_quad(const char *s, size_t n, uint8_t b[4])
{
	return n > 0 && addr_quad_span(s, n, b) == n;
}

/* An IPv6 address filling all of s[0..n) (inet_pton(AF_INET6)): groups of
 * one to four hex digits, at most one "::", a dotted quad as the last 32
 * bits. */
static bool addr_six(const char *s, size_t n, uint8_t out[16])
{
	uint8_t b[16] = { 0 };
	size_t i = 0, tok, pos = 0, gap = SIZE_MAX;
	unsigned val = 0, ndig = 0;

	if (n == 0)
		return false;
	if (s[0] == ':') {
		/* a leading colon only as the first of "::" */
		if (n < 2 || s[1] != ':')
			return false;
		i = 1;
	}
	for (tok = i; i < n; i++) {
		unsigned d = addr_hex[(unsigned char)s[i]];

		if (d) {
			if (ndig == 4)
				return false;
			val = val << 4 | (d - 1);
			ndig++;
		} else if (s[i] == ':') {
			tok = i + 1;
			if (ndig == 0) {
				if (gap != SIZE_MAX)
					return false;
				gap = pos;
				continue;
			}
			if (i + 1 == n || pos + 2 > 16)
				return false;
			b[pos++] = (uint8_t)(val >> 8);
			b[pos++] = (uint8_t)val;
			val = 0;
			ndig = 0;
		} else if (s[i] == '.' && pos + 4 <= 16 && addr_quad(s + tok, n - tok, b + pos)) {
			pos += 4;
			ndig = 0;
			break;
		} else {
			return false;
		}
	}
	if (ndig > 0) {
		if (pos + 2 > 16)
			return false;
		b[pos++] = (uint8_t)(val >> 8);
		b[pos++] = (uint8_t)val;
	}
	if (gap != SIZE_MAX) {
		/* "::" stands for at least one group of zeros */
		if (pos == 16)
			return false;
		memmove(b + 16 - (pos - gap), b + gap, pos - gap);
		memset(b + gap, 0, 16 - pos);
		pos = 16;
	}
	if (pos != 16)
		return false;
	memcpy(out, b, 16);
	return true;
}

static void addr_set4(struct addr *out, const uint8_t b[4])
{
	memset(out, 0, sizeof(*out));
	out->family = 4;
	out->prefix = 32;
	memcpy(out->bytes, b, 4);
}

/* Everything but a plain dotted quad, with or without a port. */
static int addr_parse_slow(const char *s, size_t len, struct addr *out)
{
	const char *colon = memchr(s, ':', len), *pct;
	uint8_t b[16];

	/* a NUL anywhere refuses the text; the parsers below refuse it too
	 * except in a zone, which is skipped */
	if (!colon) {
		if (!addr_quad(s, len, b))
			return -1;
		addr_set4(out, b);
		return 0;
	}
	if (!memchr(colon + 1, ':', (size_t)(s + len - colon - 1))) {
		/* exactly one colon: IPv4 with a port */
		for (const char *p = colon + 1; p < s + len; p++)
			if (*p < '0' || *p > '9')
				return -1;
		if (colon + 1 == s + len || !addr_quad(s, (size_t)(colon - s), b))
			return -1;
		addr_set4(out, b);
		return 0;
	}
	pct = memchr(s, '%', len);
	if (pct) {
		size_t zone = (size_t)(s + len - pct - 1);

		if (zone == 0 || memchr(pct + 1, '\0', zone))
			return -1;
		len = (size_t)(pct - s);
	}
	if (!addr_six(s, len, b))
		return -1;
	if (memcmp(b, v4mapped, sizeof(v4mapped)) == 0) {
		addr_set4(out, b + 12);
		return 0;
	}
	memset(out, 0, sizeof(*out));
	out->family = 6;
	out->prefix = 128;
	memcpy(out->bytes, b, 16);
	return 0;
}

int addr_parse(const char *s, size_t len, struct addr *out)
{
	uint8_t b[4];
	size_t i, j;

	if (len >= 5 && (s[0] | 0x20) == 'i' && (s[1] | 0x20) == 'p' && (s[2] | 0x20) == 'v' &&
	    s[3] == '6' && s[4] == ':') {
		s += 5;
		len -= 5;
	}
	if (len == 0 || len > ADDR_TEXT_MAX)
		return -1;
	/* the common case, "a.b.c.d" or "a.b.c.d:port", without a copy */
	i = addr_quad_span(s, len, b);
	if (i == len) {
		addr_set4(out, b);
		return 0;
	}
	if (i > 0 && s[i] == ':') {
		for (j = i + 1; j < len && (unsigned char)s[j] - (unsigned)'0' <= 9; j++)
			;
		if (j == len && j > i + 1) {
			addr_set4(out, b);
			return 0;
		}
	}
	return addr_parse_slow(s, len, out);
}

int addr_parse_net(const char *s, size_t len, struct addr *out)
{
	const char *slash = memchr(s, '/', len);
	struct addr a;
	unsigned long p = 0;

	if (!slash)
		return addr_parse(s, len, out);
	if (addr_parse(s, (size_t)(slash - s), &a) < 0)
		return -1;
	/* "::ffff:1.2.3.4/120" would silently change meaning: refuse it */
	if (a.family == 4 && memchr(s, ':', (size_t)(slash - s)))
		return -1;
	if (slash + 1 == s + len || (size_t)(s + len - slash - 1) > 3)
		return -1;
	for (const char *q = slash + 1; q < s + len; q++) {
		if (*q < '0' || *q > '9')
			return -1;
		p = p * 10 + (unsigned long)(*q - '0');
	}
	if (p > addr_width(&a))
		return -1;
	{
		struct addr m = a;

		addr_mask(&m, (unsigned)p);
		if (memcmp(m.bytes, a.bytes, sizeof(a.bytes)) != 0)
			return -1;	/* host bits set: a typo, not a network */
		*out = m;
	}
	return 0;
}

void addr_mask(struct addr *a, unsigned prefix)
{
	unsigned width = addr_width(a);

	if (prefix > width)
		prefix = width;
	for (unsigned i = 0; i < 16; i++) {
		unsigned lo = i * 8;

		if (lo >= prefix)
			a->bytes[i] = 0;
		else if (lo + 8 > prefix)
			a->bytes[i] &= (uint8_t)(0xff00u >> (prefix - lo));
	}
	a->prefix = (uint8_t)prefix;
}

enum addr_kind addr_kind(const struct addr *a)
{
	static const uint8_t zero[16];
	const uint8_t *b = a->bytes;

	if (a->family == 4) {
		if (b[0] == 127)
			return ADDR_LOOPBACK;
		if (b[0] == 0)
			return ADDR_UNSPECIFIED;
		if (b[0] >= 224)
			return ADDR_NOT_UNICAST;
		return ADDR_UNICAST;
	}
	if (memcmp(b, zero, 16) == 0)
		return ADDR_UNSPECIFIED;
	if (memcmp(b, zero, 15) == 0 && b[15] == 1)
		return ADDR_LOOPBACK;
	if (b[0] == 0xff)
		return ADDR_NOT_UNICAST;
	return ADDR_UNICAST;
}

bool addr_overlaps(const struct addr *a, const struct addr *b)
{
	unsigned p = a->prefix < b->prefix ? a->prefix : b->prefix;
	unsigned full = p / 8, rest = p % 8;

	if (a->family != b->family)
		return false;
	if (memcmp(a->bytes, b->bytes, full) != 0)
		return false;
	if (rest) {
		uint8_t m = (uint8_t)(0xff00u >> rest);

		return (a->bytes[full] & m) == (b->bytes[full] & m);
	}
	return true;
}

char *addr_format(const struct addr *a, char buf[ADDR_STRLEN])
{
	size_t n;

	if (a->family == 4) {
		snprintf(buf, ADDR_STRLEN, "%u.%u.%u.%u", a->bytes[0], a->bytes[1],
			 a->bytes[2], a->bytes[3]);
	} else if (!inet_ntop(AF_INET6, a->bytes, buf, ADDR_STRLEN)) {
		snprintf(buf, ADDR_STRLEN, "?");
		return buf;
	}
	if (a->prefix < addr_width(a)) {
		n = strlen(buf);
		snprintf(buf + n, ADDR_STRLEN - n, "/%u", a->prefix);
	}
	return buf;
}
