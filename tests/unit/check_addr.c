/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "unit.h"

static const char *norm(const char *in)
{
	static char buf[ADDR_STRLEN];
	struct addr a;

	if (addr_parse(in, strlen(in), &a) < 0)
		return "invalid";
	return addr_format(&a, buf);
}

START_TEST(parse_ipv4)
{
	ck_assert_str_eq(norm("203.0.113.10"), "203.0.113.10");
	ck_assert_str_eq(norm("203.0.113.10:25"), "203.0.113.10");
	ck_assert_str_eq(norm("999.1.2.3"), "invalid");
	ck_assert_str_eq(norm("1.2.3"), "invalid");
	ck_assert_str_eq(norm("1.2.3.4.5"), "invalid");
	ck_assert_str_eq(norm("01.2.3.4"), "invalid");
	ck_assert_str_eq(norm("1.2.3.4:"), "invalid");
	ck_assert_str_eq(norm("1.2.3.4:x"), "invalid");
	ck_assert_str_eq(norm(""), "invalid");
	ck_assert_str_eq(norm("unknown"), "invalid");
}
END_TEST

START_TEST(parse_ipv6)
{
	ck_assert_str_eq(norm("2001:db8::1"), "2001:db8::1");
	ck_assert_str_eq(norm("2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
	ck_assert_str_eq(norm("IPv6:2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
	ck_assert_str_eq(norm("ipv6:2001:db8::1"), "2001:db8::1");
	ck_assert_str_eq(norm("::ffff:192.0.2.7"), "192.0.2.7");
	ck_assert_str_eq(norm("IPv6:::ffff:192.0.2.7"), "192.0.2.7");
	ck_assert_str_eq(norm("fe80::1%eth0"), "fe80::1");
	ck_assert_str_eq(norm("fe80::1%"), "invalid");
	ck_assert_str_eq(norm("2001:db8:::1"), "invalid");
	ck_assert_str_eq(norm("[2001:db8::1]"), "invalid");
}
END_TEST

START_TEST(parse_hostile)
{
	char big[5001];
	struct addr a;

	memset(big, '7', sizeof(big) - 1);
	big[5000] = '\0';
	ck_assert_int_eq(addr_parse(big, 5000, &a), -1);
	ck_assert_int_eq(addr_parse("1.2.3.4\0" "5", 9, &a), -1);
	ck_assert_int_eq(addr_parse("1.2.3.4", 7, &a), 0);
	ck_assert_int_eq(addr_parse("1.2.3.4 ", 8, &a), -1);
}
END_TEST

/*
 * addr_parse as it was before it had its own parsers: copy, then glibc's
 * inet_pton(). The new code must give exactly its answers.
 */
static int ref_parse_v4(const char *s, struct addr *out)
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

static int ref_parse(const char *s, size_t len, struct addr *out)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char buf[64];
	struct in6_addr in6;
	char *colon, *pct;

	if (len >= 5 && strncasecmp(s, "IPv6:", 5) == 0) {
		s += 5;
		len -= 5;
	}
	if (len == 0 || len > 63 || memchr(s, '\0', len))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	colon = strchr(buf, ':');
	if (!colon)
		return ref_parse_v4(buf, out);
	if (!strchr(colon + 1, ':')) {
		*colon = '\0';
		for (const char *p = colon + 1; *p; p++)
			if (*p < '0' || *p > '9')
				return -1;
		return colon[1] ? ref_parse_v4(buf, out) : -1;
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

static unsigned long n_same, n_valid;

/* Both parsers on s[0..len), which is followed by junk, not a NUL; one
 * time in 16 it ends its own allocation, for ASan to see any read past. */
static void same(const char *s, size_t len)
{
	static char junk[128];
	char *copy = junk;
	struct addr a, b;
	int ra, rb;

	if (len > sizeof(junk) - 8)
		ck_abort_msg("test string too long: %zu", len);
	if (n_same % 16 == 0) {
		copy = malloc(len ? len : 1);
		ck_assert_ptr_nonnull(copy);
	} else {
		memcpy(copy + len, "12:3.4f", 8);
	}
	memcpy(copy, s, len);
	memset(&a, 0xa5, sizeof(a));
	memset(&b, 0xa5, sizeof(b));
	ra = addr_parse(copy, len, &a);
	rb = ref_parse(copy, len, &b);
	if (ra != rb || memcmp(&a, &b, sizeof(a)) != 0) {
		char shown[4 * 80 + 1] = "";

		for (size_t i = 0; i < len && i < 80; i++) {
			size_t n = strlen(shown);

			snprintf(shown + n, sizeof(shown) - n,
				 (s[i] >= 0x21 && s[i] < 0x7f && s[i] != '\\') ? "%c" : "\\x%02x",
				 (unsigned char)s[i]);
		}
		ck_abort_msg("addr_parse(\"%s\", %zu): %d, inet_pton: %d", shown, len, ra, rb);
	}
	if (copy != junk)
		free(copy);
	n_same++;
	n_valid += ra == 0;
}

/* Every string up to max characters over the alphabet. */
static void same_all(const char *alphabet, size_t max)
{
	size_t k = strlen(alphabet);
	char s[16];
	size_t idx[16];

	ck_assert_uint_lt(max, sizeof(s));
	for (size_t len = 0; len <= max; len++) {
		memset(idx, 0, sizeof(idx));
		for (;;) {
			size_t i;

			for (i = 0; i < len; i++)
				s[i] = alphabet[idx[i]];
			same(s, len);
			for (i = 0; i < len && ++idx[i] == k; i++)
				idx[i] = 0;
			if (i == len)
				break;
		}
	}
}

START_TEST(same_as_inet_pton_short)
{
	n_same = n_valid = 0;
	same_all("0125.:9", 6);
	same_all("0f1:.", 7);
	same_all("0a:%.", 6);
	ck_assert_uint_gt(n_valid, 1000);
}
END_TEST

/* Dotted quads are 7 to 15 bytes, copied whole into a padded buffer
 * (up to 16 of them) before they are read: every length around those,
 * with ports, leading zeros, three-digit parts over 255, and NULs. */
START_TEST(same_as_inet_pton_quads)
{
	n_same = n_valid = 0;
	same_all("0259.", 8);
	same_all("25.", 11);
	same_all("10.:", 9);
	ck_assert_uint_gt(n_valid, 5000);
	{
		static const char *const base[] = {
			"255.255.255.255", "255.255.255.2555", "255.255.255.255:65535",
			"1.1.1.1", "1.1.1.10", "100.100.100.100", "100.100.100.1000",
			"10.10.10.10:1", "1.2.3.4:5", "249.250.251.252:25",
		};
		char t[32];

		for (size_t k = 0; k < sizeof(base) / sizeof(*base); k++) {
			size_t n = strlen(base[k]);

			for (size_t cut = 0; cut <= n; cut++)
				same(base[k], cut);
			for (size_t i = 0; i < n; i++) {
				memcpy(t, base[k], n);
				t[i] = '\0';
				same(t, n);
				t[i] = (char)0xb2;
				same(t, n);
			}
		}
	}
}
END_TEST

/* A small deterministic generator: the same strings on every run. */
static uint64_t rng_state;

static unsigned rnd(unsigned n)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((rng_state >> 33) % n);
}

static size_t gen_part(char *s, size_t at)
{
	static const char *parts[] = { "0", "1", "9", "00", "01", "10", "99", "100", "199",
				       "200", "249", "250", "255", "256", "260", "300", "999",
				       "1000", "0255", "025" };

	return at + (size_t)sprintf(s + at, "%s", parts[rnd(sizeof(parts) / sizeof(*parts))]);
}

static size_t gen_v4(char *s, size_t at)
{
	unsigned n = rnd(10) == 0 ? 3 + rnd(3) : 4;

	for (unsigned i = 0; i < n; i++) {
		if (i)
			s[at++] = '.';
		at = rnd(4) ? (size_t)(at + (size_t)sprintf(s + at, "%u", rnd(256)))
			    : gen_part(s, at);
	}
	return at;
}

static size_t gen_group(char *s, size_t at)
{
	static const char hex[] = "0123456789abcdefABCDEF";
	unsigned n = rnd(8) == 0 ? 5 : 1 + rnd(4);

	for (unsigned i = 0; i < n; i++)
		s[at++] = hex[rnd(sizeof(hex) - 1)];
	return at;
}

static size_t gen_v6(char *s, size_t at)
{
	unsigned groups = rnd(6) == 0 ? 6 + rnd(4) : 8, quad = rnd(4) == 0;
	unsigned gap = rnd(3) ? rnd(groups + 1) : 99, skip = rnd(groups + 1);

	if (quad && groups >= 2)
		groups -= 2;
	if (rnd(8) == 0)
		at = (size_t)(at + (size_t)sprintf(s + at, "%s", rnd(2) ? "IPv6:" : "ipV6:"));
	for (unsigned i = 0; i < groups; i++) {
		if (i == gap) {
			s[at++] = ':';
			s[at++] = ':';
			i += skip;
			if (i >= groups)
				break;
		} else if (i) {
			s[at++] = ':';
		}
		at = gen_group(s, at);
	}
	if (gap == groups) {
		s[at++] = ':';
		s[at++] = ':';
	}
	if (quad) {
		if (s[at - 1] != ':')
			s[at++] = ':';
		at = gen_v4(s, at);
	}
	if (rnd(10) == 0) {
		s[at++] = '%';
		at += (size_t)sprintf(s + at, "%s", rnd(2) ? "eth0" : "");
	}
	return at;
}

static void mutate(char *s, size_t *len)
{
	static const char junk[] = "0123456789.:.:%abfxAFIPv/ -[]";
	size_t n = *len, i = n ? rnd((unsigned)n + 1) : 0;
	unsigned what = rnd(6);
	unsigned pick = rnd(16);
	char ch = pick == 0 ? '\0' : pick == 1 ? (char)rnd(256) : junk[rnd(sizeof(junk) - 1)];

	if (what == 0 && n < 90) {	/* insert */
		memmove(s + i + 1, s + i, n - i);
		s[i] = ch;
		n++;
	} else if (what == 1 && i < n) {	/* delete */
		memmove(s + i, s + i + 1, n - i - 1);
		n--;
	} else if (what == 2 && i < n) {	/* replace */
		s[i] = ch;
	} else if (what == 3 && n > 0) {	/* cut */
		n = i;
	} else if (what == 4 && i < n && n + (n - i) < 90) {	/* repeat a tail */
		memcpy(s + n, s + i, n - i);
		n += n - i;
	}
	*len = n;
}

START_TEST(same_as_inet_pton_generated)
{
	char s[256];

	rng_state = 20260101;
	n_same = n_valid = 0;
	for (unsigned k = 0; k < 150000; k++) {
		size_t len;

		switch (rnd(4)) {
		case 0:
			len = gen_v4(s, 0);
			if (rnd(3) == 0) {
				s[len++] = ':';
				len += (size_t)sprintf(s + len, "%u", rnd(3) ? rnd(70000) : 0);
			}
			break;
		case 1:
		case 2:
			len = gen_v6(s, 0);
			break;
		default: {	/* random text of digits, dots, colons, letters, bytes */
			static const char any[] = "0123456789..::abcdefxyz%IPv6";

			len = rnd(61);
			for (size_t i = 0; i < len; i++)
				s[i] = rnd(16) == 0 ? (char)rnd(256) : any[rnd(sizeof(any) - 1)];
			break;
		}
		}
		same(s, len);
		for (unsigned m = rnd(4); m > 0; m--) {
			mutate(s, &len);
			same(s, len);
		}
	}
	/* the generators must reach both answers often */
	ck_assert_uint_gt(n_valid, n_same / 8);
	ck_assert_uint_lt(n_valid, n_same / 2);
}
END_TEST

START_TEST(same_as_inet_pton_edges)
{
	static const char *cases[] = {
		"1.2.3.4", "0.0.0.0", "255.255.255.255", "256.1.1.1", "1.2.3.256", "01.2.3.4",
		"1.02.3.4", "1.2.3.04", "1.2.3.0", "00.0.0.0", "1.2.3.4.", ".1.2.3.4", "1..2.3",
		"1.2.3", "1.2.3.4.5", "1.2.3.4:25", "1.2.3.4:", "1.2.3.4::25", "1.2.3.4:2x",
		"1.2.3.4:99999999999999999999", ":25", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4\n",
		"IPv6:1.2.3.4", "IPv6:", "IPv6", "ipv6:::1", "IPV6:::1", "IPv6::::1", "::", ":::",
		"::1", "1::", ":1::", "1:::2", "::1:2:3:4:5:6:7", "::1:2:3:4:5:6:7:8",
		"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7",
		"1:2:3:4:5:6:7:", ":1:2:3:4:5:6:7:8", "12345::", "1234::", "ffff::FFFF",
		"::ffff:1.2.3.4", "::ffff:1.2.3", "::ffff:1.2.3.4.5", "::ffff:01.2.3.4",
		"::1.2.3.4", "1.2.3.4::", "::ffff:1.2.3.4:5", "1:2:3:4:5:6:1.2.3.4",
		"1:2:3:4:5:6:7:1.2.3.4", "1:2:3:4:5::1.2.3.4", "::ffff:256.1.1.1",
		"::ffff:1234.1.1.1", "::ffff:a.1.1.1", "fe80::1%eth0", "fe80::1%", "fe80::1%%",
		"%eth0", "1.2.3.4%eth0", "::%1", "::1%1:2", "[::1]", "::g", "g::",
		"::ffff:0:1.2.3.4", "0:0:0:0:0:ffff:1.2.3.4", "::ffff:7f00:1",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		same(cases[i], strlen(cases[i]));
	/* lengths around the limit, and NULs anywhere */
	{
		char s[80];

		for (size_t len = 55; len < 70; len++) {
			memset(s, '0', len);
			for (size_t i = 4; i < len; i += 5)
				s[i] = ':';
			same(s, len);
			memcpy(s, "::ffff:", 7);
			same(s, len);
		}
		static const char *nul[] = { "1.2.3.4:25", "fe80::1%eth0", "::ffff:1.2.3.4",
					     "IPv6:1:2::3%x" };

		for (size_t k = 0; k < sizeof(nul) / sizeof(*nul); k++) {
			size_t n = strlen(nul[k]);

			for (size_t i = 0; i < n; i++) {
				memcpy(s, nul[k], n);
				s[i] = '\0';
				same(s, n);
			}
		}
	}
}
END_TEST

START_TEST(kinds)
{
	struct addr a;

	addr_parse("127.0.0.1", 9, &a);
	ck_assert_int_eq(addr_kind(&a), ADDR_LOOPBACK);
	addr_parse("0.0.0.0", 7, &a);
	ck_assert_int_eq(addr_kind(&a), ADDR_UNSPECIFIED);
	addr_parse("255.255.255.255", 15, &a);
	ck_assert_int_eq(addr_kind(&a), ADDR_NOT_UNICAST);
	addr_parse("224.0.0.1", 9, &a);
	ck_assert_int_eq(addr_kind(&a), ADDR_NOT_UNICAST);
	addr_parse("::1", 3, &a);
	ck_assert_int_eq(addr_kind(&a), ADDR_LOOPBACK);
	addr_parse("::", 2, &a);
	ck_assert_int_eq(addr_kind(&a), ADDR_UNSPECIFIED);
	addr_parse("ff02::1", 7, &a);
	ck_assert_int_eq(addr_kind(&a), ADDR_NOT_UNICAST);
	addr_parse("::ffff:127.0.0.1", 16, &a);
	ck_assert_int_eq(addr_kind(&a), ADDR_LOOPBACK);
	addr_parse("203.0.113.1", 11, &a);
	ck_assert_int_eq(addr_kind(&a), ADDR_UNICAST);
}
END_TEST

START_TEST(networks)
{
	struct addr n, a;
	char buf[ADDR_STRLEN];

	ck_assert_int_eq(addr_parse_net("192.0.2.0/24", 12, &n), 0);
	ck_assert_str_eq(addr_format(&n, buf), "192.0.2.0/24");
	ck_assert_int_eq(addr_parse_net("192.0.2.1/24", 12, &n), -1);	/* host bits */
	ck_assert_int_eq(addr_parse_net("192.0.2.0/33", 12, &n), -1);
	ck_assert_int_eq(addr_parse_net("192.0.2.0/", 10, &n), -1);
	ck_assert_int_eq(addr_parse_net("2001:db8:25::/48", 16, &n), 0);
	ck_assert_str_eq(addr_format(&n, buf), "2001:db8:25::/48");

	addr_parse("2001:db8:25:1::9", 16, &a);
	ck_assert(addr_overlaps(&n, &a));
	addr_parse("2001:db8:26::9", 14, &a);
	ck_assert(!addr_overlaps(&n, &a));
	/* a /64 ban that would cover a whitelisted host overlaps it */
	addr_parse("2001:db8:25::7", 14, &a);
	addr_parse("2001:db8:25::8", 14, &n);
	addr_mask(&n, 64);
	ck_assert_str_eq(addr_format(&n, buf), "2001:db8:25::/64");
	ck_assert(addr_overlaps(&n, &a));
	/* families never overlap */
	addr_parse("0.0.0.1", 7, &a);
	addr_parse_net("::/0", 4, &n);
	ck_assert(!addr_overlaps(&n, &a));
}
END_TEST

/* What logs carry around an address is no part of one a person writes. */
START_TEST(hosts_as_written)
{
	static const char *const logged[] = {
		"192.0.2.1:25", "192.0.2.1:0", "fe80::1%eth0", "IPv6:2001:db8::1",
		"ipv6:2001:db8::1",
	};
	static const char *const plain[] = {
		"192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1", "0:0:0:0:0:ffff:192.0.2.1", "::",
	};
	struct addr a, b;
	char net[80];

	for (size_t i = 0; i < sizeof(logged) / sizeof(*logged); i++) {
		const char *s = logged[i];

		/* a log line may say so; a whitelist or a ban may not */
		ck_assert_msg(addr_parse(s, strlen(s), &a) == 0, "%s", s);
		ck_assert_msg(addr_parse_host(s, strlen(s), &a) == -1, "%s", s);
		ck_assert_msg(addr_parse_net(s, strlen(s), &a) == -1, "%s", s);
		snprintf(net, sizeof(net), "%s/32", s);
		ck_assert_msg(addr_parse_net(net, strlen(net), &a) == -1, "%s", net);
	}
	for (size_t i = 0; i < sizeof(plain) / sizeof(*plain); i++) {
		const char *s = plain[i];

		ck_assert_msg(addr_parse_host(s, strlen(s), &a) == 0, "%s", s);
		ck_assert_int_eq(addr_parse(s, strlen(s), &b), 0);
		ck_assert_mem_eq(&a, &b, sizeof(a));
		ck_assert_msg(addr_parse_net(s, strlen(s), &a) == 0, "%s", s);
	}
}
END_TEST

/* addr_mask as it was, a byte at a time: the reference. */
static void mask_bytes(struct addr *a, unsigned prefix)
{
	unsigned width = a->family == 4 ? 32 : 128;

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

START_TEST(mask_every_prefix)
{
	uint32_t x = 2463534242u;

	for (int round = 0; round < 2000; round++) {
		struct addr a = { .family = round % 3 ? 6 : 4 }, b;

		for (int i = 0; i < 16; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			a.bytes[i] = (uint8_t)(round % 7 == 0 ? 0xff : x);
		}
		a.prefix = a.family == 4 ? 32 : 128;
		for (unsigned p = 0; p <= 130; p++) {
			struct addr c = a;

			b = a;
			mask_bytes(&b, p);
			addr_mask(&c, p);
			ck_assert_mem_eq(&b, &c, sizeof(b));
		}
	}
}
END_TEST

static Suite *addr_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("core");

	/* same_as_inet_pton_*, mask_every_prefix: generated cases, seconds under ASan */
	tcase_set_timeout(tc, UNIT_HEAVY_TIMEOUT);
	tcase_add_test(tc, parse_ipv4);
	tcase_add_test(tc, parse_ipv6);
	tcase_add_test(tc, parse_hostile);
	tcase_add_test(tc, same_as_inet_pton_short);
	tcase_add_test(tc, same_as_inet_pton_quads);
	tcase_add_test(tc, same_as_inet_pton_generated);
	tcase_add_test(tc, same_as_inet_pton_edges);
	tcase_add_test(tc, kinds);
	tcase_add_test(tc, networks);
	tcase_add_test(tc, hosts_as_written);
	tcase_add_test(tc, mask_every_prefix);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(addr_suite)
