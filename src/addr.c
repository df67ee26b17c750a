/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "addr.h"

/* The longest text inet_pton could accept, with a zone; anything longer
 * (a 5000-digit "address" in a forged line) is not an address at all. */
#define ADDR_TEXT_MAX 63

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static int addr_parse_v4(const char *s, struct addr *out)
{
	struct in_addr in;

	if (inet_pton(AF_INET, s, &in) != 1)
		return -1;
	memset(out, 0, sizeof(*out));
	out->family = 4;
	out->prefix = 32;
	memcpy(out->bytes, &in, 4);
	return 0;
}

int addr_parse(const char *s, size_t len, struct addr *out)
{
	char buf[ADDR_TEXT_MAX + 1];
	struct in6_addr in6;
	char *colon, *pct;

	if (len >= 5 && strncasecmp(s, "IPv6:", 5) == 0) {
		s += 5;
		len -= 5;
	}
	if (len == 0 || len > ADDR_TEXT_MAX || memchr(s, '\0', len))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';

	colon = strchr(buf, ':');
	if (!colon)
		return addr_parse_v4(buf, out);
	if (!strchr(colon + 1, ':')) {
		/* exactly one colon: IPv4 with a port */
		*colon = '\0';
		for (const char *p = colon + 1; *p; p++)
			if (*p < '0' || *p > '9')
				return -1;
		return colon[1] ? addr_parse_v4(buf, out) : -1;
	}
	pct = strchr(buf, '%');
	if (pct) {
		if (pct[1] == '\0')
			return -1;
		*pct = '\0';
	}
	if (inet_pton(AF_INET6, buf, &in6) != 1)
		return -1;
	memset(out, 0, sizeof(*out));
	if (memcmp(in6.s6_addr, v4mapped, sizeof(v4mapped)) == 0) {
		out->family = 4;
		out->prefix = 32;
		memcpy(out->bytes, in6.s6_addr + 12, 4);
		return 0;
	}
	out->family = 6;
	out->prefix = 128;
	memcpy(out->bytes, in6.s6_addr, 16);
	return 0;
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
