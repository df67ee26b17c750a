/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The parsers below take exactly the text glibc's inet_pton() takes (the
 * unit tests compare them over many generated strings): addr_parse runs
 * once per matched line, and inet_pton() with the NUL-terminated copy it
 * needs cost a third of all the correlator's work.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "bytes.h"

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

/* One part of a dotted quad at p: 0..255 without leading zeros. Returns
 * the position after it, NULL when there is none. "01" ends after the 0.
 * p lies in a buffer that ends in NULs: no end to test. */
static inline const unsigned char *addr_quad_part(const unsigned char *p, uint8_t *out)
{
	unsigned d0 = p[0] - (unsigned)'0', d1, d2, v;

	if (d0 > 9)
		return NULL;
	if (d0 == 0 || (d1 = p[1] - (unsigned)'0') > 9) {
		*out = (uint8_t)d0;
		return p + 1;
	}
	if ((d2 = p[2] - (unsigned)'0') > 9) {
		*out = (uint8_t)(d0 * 10 + d1);
		return p + 2;
	}
	v = d0 * 100 + d1 * 10 + d2;
	if (v > 255)
		return NULL;
	*out = (uint8_t)v;
	return p + 3;
}

/*
 * The dotted quad at the start of s[0..n), as inet_pton(AF_INET) takes
 * them. Returns its length, 0 when there is none; whatever follows is the
 * caller's to judge (a digit after a third digit or a "0" ends no quad).
 * A quad is 7 to 15 bytes: the first 16 (or all n) are copied, with
 * overlapping word loads, into a buffer of NULs, which end a part as the
 * end of s would; the parts then need no test of the end.
 */
static size_t addr_quad_span(const char *s, size_t n, uint8_t b[4])
{
	unsigned char buf[24] = { 0 };
	const unsigned char *p = buf;
	uint64_t lo, hi;
	uint32_t l4, h4;

	if (n < 7)
		return 0;
	if (n >= 16) {
		memcpy(&lo, s, 8);
		memcpy(&hi, s + 8, 8);
		memcpy(buf, &lo, 8);
		memcpy(buf + 8, &hi, 8);
	} else if (n >= 8) {
		memcpy(&lo, s, 8);
		memcpy(&hi, s + n - 8, 8);
		memcpy(buf + n - 8, &hi, 8);
		memcpy(buf, &lo, 8);
	} else {
		memcpy(&l4, s, 4);
		memcpy(&h4, s + n - 4, 4);
		memcpy(buf + n - 4, &h4, 4);
		memcpy(buf, &l4, 4);
	}
	if (!(p = addr_quad_part(p, &b[0])) || *p++ != '.' ||
	    !(p = addr_quad_part(p, &b[1])) || *p++ != '.' ||
	    !(p = addr_quad_part(p, &b[2])) || *p++ != '.' ||
	    !(p = addr_quad_part(p, &b[3])))
		return 0;
	return (size_t)(p - buf);
}

/* A dotted quad filling all of s[0..n) (inet_pton(AF_INET)). */
static bool addr_quad(const char *s, size_t n, uint8_t b[4])
{
	return n > 0 && addr_quad_span(s, n, b) == n;
}

/* Up to four hex digits at p, their value in *val. Returns the position
 * after them: p itself when there are none. p lies in a buffer that ends
 * in NULs (no hex digit): no end to test. */
static inline const unsigned char *addr_group(const unsigned char *p, unsigned *val)
{
	unsigned d0 = addr_hex[p[0]], d1, d2, d3;

	if (!d0)
		return *val = 0, p;
	if (!(d1 = addr_hex[p[1]]))
		return *val = d0 - 1, p + 1;
	if (!(d2 = addr_hex[p[2]]))
		return *val = (d0 - 1) << 4 | (d1 - 1), p + 2;
	if (!(d3 = addr_hex[p[3]]))
		return *val = (d0 - 1) << 8 | (d1 - 1) << 4 | (d2 - 1), p + 3;
	*val = (d0 - 1) << 12 | (d1 - 1) << 8 | (d2 - 1) << 4 | (d3 - 1);
	return p + 4;
}

/* An IPv6 address filling all of s[0..n) (inet_pton(AF_INET6)): groups of
 * one to four hex digits, at most one "::", a dotted quad as the last 32
 * bits. The text is read from a copy padded with NULs: a group ends at
 * one as it would at the end (and at a NUL of the text, which is no
 * part of an address either way). */
static bool addr_six(const char *s, size_t n, uint8_t out[16])
{
	unsigned char buf[ADDR_TEXT_MAX + 1 + 16] = { 0 };
	const unsigned char *p = buf, *end = buf + n;
	uint8_t b[16];
	size_t pos = 0, gap = SIZE_MAX;

	if (n == 0 || n > ADDR_TEXT_MAX)
		return false;
	if (n >= 16) {
		/* sixteen bytes at a time, the last block overlapping */
		for (size_t i = 0; i + 16 < n; i += 16)
			memcpy(buf + i, s + i, 16);
		memcpy(buf + n - 16, s + n - 16, 16);
	} else {
		memcpy(buf, s, n);
	}
	if (*p == ':') {
		/* a leading colon only as the first of "::" */
		if (n < 2 || p[1] != ':')
			return false;
		p++;
	}
	for (;;) {
		const unsigned char *tok = p;
		unsigned val;

		p = addr_group(p, &val);
		if (p == end) {
			if (p > tok) {
				if (pos + 2 > 16)
					return false;
				b[pos++] = (uint8_t)(val >> 8);
				b[pos++] = (uint8_t)val;
			}
			break;
		}
		if (*p == ':') {
			if (p == tok) {
				/* the second colon of "::" */
				if (gap != SIZE_MAX)
					return false;
				gap = pos;
			} else {
				if (p + 1 == end || pos + 2 > 16)
					return false;
				b[pos++] = (uint8_t)(val >> 8);
				b[pos++] = (uint8_t)val;
			}
			p++;
			continue;
		}
		/* a fifth hex digit falls through to here, and fails */
		if (*p == '.' && pos + 4 <= 16 &&
		    addr_quad((const char *)tok, (size_t)(end - tok), b + pos)) {
			pos += 4;
			break;
		}
		return false;
	}
	if (gap != SIZE_MAX) {
		/* "::" stands for at least one group of zeros */
		size_t tail = pos - gap;

		if (pos == 16)
			return false;
		for (size_t k = 0; k < tail; k++)
			b[15 - k] = b[pos - 1 - k];
		memset(b + gap, 0, 16 - tail - gap);
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

/*
 * What addr_parse's fast path leaves: IPv6, maybe with a zone, or nothing
 * valid. An address with one colon or none that is valid ("a.b.c.d",
 * "a.b.c.d:port") took the fast path, and IPv6 needs two colons: so no
 * colons are counted here. Apart, so that the common case pays for no
 * registers it does not use.
 */
__attribute__((noinline))
static int addr_parse_slow(const char *s, size_t len, struct addr *out)
{
	uint8_t b[16];

	if (!addr_six(s, len, b)) {
		/* '%' is no part of an address: try again without the zone */
		const char *pct = memchr(s, '%', len);
		size_t zone;

		if (!pct)
			return -1;
		zone = (size_t)(s + len - pct - 1);
		if (zone == 0 || memchr(pct + 1, '\0', zone) || !addr_six(s, (size_t)(pct - s), b))
			return -1;
	}
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

/* Sendmail's "IPv6:" before an address, in any case. */
static bool addr_ipv6_prefix(const char *s, size_t len)
{
	return len >= 5 && (s[0] | 0x20) == 'i' && (s[1] | 0x20) == 'p' && (s[2] | 0x20) == 'v' &&
	       s[3] == '6' && s[4] == ':';
}

int addr_parse(const char *s, size_t len, struct addr *out)
{
	uint8_t b[4];
	size_t i, j;

	if (addr_ipv6_prefix(s, len)) {
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

int addr_parse_host(const char *s, size_t len, struct addr *out)
{
	const char *dot = memchr(s, '.', len);

	/* what a log may add: a zone, Sendmail's "IPv6:", a port (a ':'
	 * after the dots; IPv4-mapped IPv6 has them all before) */
	if (memchr(s, '%', len) || addr_ipv6_prefix(s, len) ||
	    (dot && memchr(dot, ':', len - (size_t)(dot - s))))
		return -1;
	return addr_parse(s, len, out);
}

int addr_parse_net(const char *s, size_t len, struct addr *out)
{
	const char *slash = memchr(s, '/', len);
	struct addr a;
	unsigned long p = 0;

	if (!slash)
		return addr_parse_host(s, len, out);
	if (addr_parse_host(s, (size_t)(slash - s), &a) < 0)
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

/* The judge keys every offence by its masked address: two 64-bit
 * halves, not a loop over 16 bytes. */
void addr_mask(struct addr *a, unsigned prefix)
{
	unsigned width = addr_width(a);
	uint64_t hi, lo;

	if (prefix > width)
		prefix = width;
	memcpy(&hi, a->bytes, 8);
	memcpy(&lo, a->bytes + 8, 8);
	hi = be64toh(hi);
	lo = be64toh(lo);
	hi &= prefix >= 64 ? ~(uint64_t)0 : prefix == 0 ? 0 : ~(uint64_t)0 << (64 - prefix);
	lo &= prefix <= 64 ? 0 : prefix >= 128 ? ~(uint64_t)0 : ~(uint64_t)0 << (128 - prefix);
	hi = htobe64(hi);
	lo = htobe64(lo);
	memcpy(a->bytes, &hi, 8);
	memcpy(a->bytes + 8, &lo, 8);
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

int addr_split_port(const char *s, unsigned defport, char *host, size_t cap, unsigned *port)
{
	const char *colon = strrchr(s, ':'), *h = s;
	size_t hlen = strlen(s);
	unsigned long p = defport;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || (close[1] != '\0' && close[1] != ':'))
			return -1;
		h = s + 1;
		hlen = (size_t)(close - h);
		colon = close[1] == ':' ? close + 1 : NULL;
	} else if (colon && strchr(s, ':') != colon) {
		colon = NULL;	/* a bare IPv6 address */
	} else if (colon) {
		hlen = (size_t)(colon - s);
	}
	if (colon) {
		char *end;

		if (colon[1] < '0' || colon[1] > '9')
			return -1;
		p = strtoul(colon + 1, &end, 10);
		if (*end != '\0')
			return -1;
	}
	if (hlen == 0 || hlen >= cap || p < 1 || p > 65535)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (unsigned)p;
	return 0;
}

/* --- the cache of parsed texts ---------------------------------------- */

/* A slot from the text's last eight (or four) bytes, where addresses
 * differ most, and its length. Unseeded: texts made to share a slot
 * only make the cache miss, and a miss costs what no cache cost. */
static unsigned addr_cache_slot(const char *p, size_t len)
{
	uint64_t w;

	if (len >= 8) {
		memcpy(&w, p + len - 8, 8);
	} else {
		uint32_t a, b;

		/* len >= 4 here: a shorter text parses at once anyway */
		memcpy(&a, p, 4);
		memcpy(&b, p + len - 4, 4);
		w = (uint64_t)a << 32 | b;
	}
	w = (w ^ len) * 0x9e3779b97f4a7c15ULL;
	return (unsigned)(w >> (64 - ADDR_CACHE_BITS));
}

bool addr_parse_cached(struct addr_cache *c, const char *s, size_t len, struct addr *out)
{
	struct addr_cache_slot *e;
	bool ok;

	if (len < 4 || len > ADDR_CACHE_TEXT)
		return addr_parse(s, len, out) == 0;
	e = &c->slot[addr_cache_slot(s, len)];
	if (e->len == len && bytes_equal(e->text, s, len)) {
		if (e->ok)
			*out = e->addr;
		return e->ok;
	}
	ok = addr_parse(s, len, out) == 0;
	e->len = (uint8_t)len;
	memcpy(e->text, s, len);
	e->ok = ok;
	if (ok)
		e->addr = *out;
	return ok;
}
