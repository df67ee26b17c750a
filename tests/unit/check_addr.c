/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

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

static Suite *addr_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, parse_ipv4);
	tcase_add_test(tc, parse_ipv6);
	tcase_add_test(tc, parse_hostile);
	tcase_add_test(tc, kinds);
	tcase_add_test(tc, networks);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(addr_suite)
