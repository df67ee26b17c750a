/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "whitelist.h"

static struct addr A(const char *s)
{
	struct addr a;

	ck_assert_msg(addr_parse_net(s, strlen(s), &a) == 0, "bad test address %s", s);
	return a;
}

/* whitelist_check's answer, or "-" for none. */
static const char *check(const struct whitelist *w, const char *s)
{
	struct addr a = A(s);
	const char *r = whitelist_check(w, &a);

	return r ? r : "-";
}

static void init_ok(struct whitelist *w, char **v, size_t n)
{
	struct diag d = { 0 };

	ck_assert_int_eq(whitelist_init(w, v, n, "test.conf", &d), 0);
	ck_assert_uint_eq(d.n, 0);
	diag_free(&d);
}

START_TEST(entry_syntax)
{
	static const char *good[] = {
		"192.0.2.0/24", "2001:db8:25::/48", "198.51.100.7", "2001:db8::1", "0.0.0.0/0",
		"::/0", "2001:db8::/128", "198.51.100.7/32", "backup-mx.example.net", "mx1",
		"localhost", "MX.Example.NET", "3com.example", "example.net.", "a-b.c-d.example",
		"xn--bcher-kva.example",
	};
	static const char *bad[] = {
		"", "192.0.2.1/24", "192.0.2.0/33", "192.0.2.0/", "/24", "2001:db8::/129",
		"2001:db8:25::1/48", "192.0.2.300", "999.1.2.3", "1.2.3.4.5", "10.1", "1.2.3",
		"bad_host.example", "-mx.example", "mx-.example", "mx.-example.net", "a..b",
		".example", "host name", "host,name", "*.example.net", "[192.0.2.1]",
		"mx.example.123", "user@example.net", "192.0.2.1:25", "fe80::1%eth0",
		"IPv6:2001:db8::1", "192.0.2.0:25/24",
	};
	char longlabel[70], longname[300];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(whitelist_entry_valid(good[i]), "refused \"%s\"", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!whitelist_entry_valid(bad[i]), "accepted \"%s\"", bad[i]);

	/* labels up to 63, names up to 253 */
	memset(longlabel, 'a', 63);
	strcpy(longlabel + 63, ".net");
	ck_assert(whitelist_entry_valid(longlabel));
	memset(longlabel, 'a', 64);
	strcpy(longlabel + 64, ".net");
	ck_assert(!whitelist_entry_valid(longlabel));
	for (int i = 0; i < 63; i++)
		memcpy(longname + 4 * i, "abc.", 4);
	strcpy(longname + 252, "n");	/* 253 */
	ck_assert(whitelist_entry_valid(longname));
	strcpy(longname + 252, "ne");	/* 254 */
	ck_assert(!whitelist_entry_valid(longname));
}
END_TEST

START_TEST(init_sorts_and_refuses)
{
	char *v[] = { "192.0.2.0/24", "backup-mx.example.net", "2001:db8:25::/48",
		      "198.51.100.7", "bad_host", "192.0.2.1/24" };
	struct whitelist w;
	struct diag d = { 0 };

	ck_assert_int_eq(whitelist_init(&w, v, 4, "x.conf", &d), 0);
	ck_assert_uint_eq(w.nnets, 3);
	ck_assert_uint_eq(w.nhosts, 1);
	ck_assert_str_eq(w.hosts[0].name, "backup-mx.example.net");
	ck_assert_uint_eq(w.hosts[0].naddrs, 0);
	ck_assert_uint_eq(w.nself, 0);
	whitelist_free(&w);
	ck_assert_uint_eq(d.n, 0);

	/* every bad entry is named, and nothing is kept */
	ck_assert_int_eq(whitelist_init(&w, v, 6, "x.conf", &d), -1);
	ck_assert_uint_eq(d.errors, 2);
	ck_assert_str_eq(d.msgs[0], "x.conf: whitelist: \"bad_host\" is not an address, "
			 "network or host name");
	ck_assert_str_eq(d.msgs[1], "x.conf: whitelist: \"192.0.2.1/24\" is not an address, "
			 "network or host name");
	ck_assert_ptr_null(w.nets);
	ck_assert_uint_eq(w.nnets, 0);
	ck_assert_uint_eq(w.nhosts, 0);
	diag_free(&d);

	/* an empty list is valid and lists nothing */
	init_ok(&w, NULL, 0);
	ck_assert_str_eq(check(&w, "192.0.2.1"), "-");
	whitelist_free(&w);
}
END_TEST

START_TEST(cidr_ipv4)
{
	char *v[] = { "192.0.2.0/24", "198.51.100.7", "10.0.0.0/8" };
	struct whitelist w;

	init_ok(&w, v, 3);
	ck_assert_str_eq(check(&w, "192.0.2.0"), "whitelist");
	ck_assert_str_eq(check(&w, "192.0.2.1"), "whitelist");
	ck_assert_str_eq(check(&w, "192.0.2.255"), "whitelist");
	ck_assert_str_eq(check(&w, "192.0.3.0"), "-");
	ck_assert_str_eq(check(&w, "192.0.1.255"), "-");
	ck_assert_str_eq(check(&w, "198.51.100.7"), "whitelist");
	ck_assert_str_eq(check(&w, "198.51.100.6"), "-");
	ck_assert_str_eq(check(&w, "198.51.100.8"), "-");
	ck_assert_str_eq(check(&w, "10.255.255.254"), "whitelist");
	ck_assert_str_eq(check(&w, "11.0.0.1"), "-");
	ck_assert_str_eq(check(&w, "203.0.113.10"), "-");
	/* networks: any overlap counts, either way round */
	ck_assert_str_eq(check(&w, "192.0.2.128/25"), "whitelist");
	ck_assert_str_eq(check(&w, "192.0.0.0/16"), "whitelist");
	ck_assert_str_eq(check(&w, "198.51.100.0/24"), "whitelist");
	ck_assert_str_eq(check(&w, "198.51.101.0/24"), "-");
	/* the same bits in the other family are not the same address */
	ck_assert_str_eq(check(&w, "c000:200::1"), "-");
	ck_assert_str_eq(check(&w, "::ffff:c000:201"), "whitelist");	/* v4-mapped = 192.0.2.1 */
	whitelist_free(&w);
}
END_TEST

START_TEST(cidr_ipv6)
{
	char *v[] = { "2001:db8:25::/48", "2001:db8:99::7", "2001:db8:aa:bb::/64" };
	struct whitelist w;

	init_ok(&w, v, 3);
	ck_assert_str_eq(check(&w, "2001:db8:25::1"), "whitelist");
	ck_assert_str_eq(check(&w, "2001:db8:25:ffff:ffff:ffff:ffff:ffff"), "whitelist");
	ck_assert_str_eq(check(&w, "2001:db8:26::"), "-");
	ck_assert_str_eq(check(&w, "2001:db8:24:ffff::1"), "-");
	ck_assert_str_eq(check(&w, "2001:db8:99::7"), "whitelist");
	ck_assert_str_eq(check(&w, "2001:db8:99::8"), "-");
	ck_assert_str_eq(check(&w, "2001:db8:aa:bb:1:2:3:4"), "whitelist");
	ck_assert_str_eq(check(&w, "2001:db8:aa:bc::1"), "-");
	ck_assert_str_eq(check(&w, "192.0.2.1"), "-");
	/* a /64 the judge would ban, with the whitelisted /128 inside it */
	ck_assert_str_eq(check(&w, "2001:db8:99::/64"), "whitelist");
	ck_assert_str_eq(check(&w, "2001:db8:99:1::/64"), "-");
	/* a /64 inside the whitelisted /48, and a /32 around it */
	ck_assert_str_eq(check(&w, "2001:db8:25:7::/64"), "whitelist");
	ck_assert_str_eq(check(&w, "2001:db8::/32"), "whitelist");
	ck_assert_str_eq(check(&w, "2001:db9::/32"), "-");
	whitelist_free(&w);
}
END_TEST

START_TEST(overlap_from_judge_key)
{
	/* the judge masks an IPv6 client to /64 and asks about that network:
	 * a whitelisted host inside it must make the answer "whitelist" */
	char *v[] = { "2001:db8:1:2::25" };
	struct whitelist w;
	struct addr a;

	init_ok(&w, v, 1);
	a = A("2001:db8:1:2::bad");
	ck_assert_str_eq(whitelist_check(&w, &a) ? whitelist_check(&w, &a) : "-", "-");
	addr_mask(&a, 64);
	ck_assert_str_eq(whitelist_check(&w, &a) ? whitelist_check(&w, &a) : "-", "whitelist");
	whitelist_free(&w);
}
END_TEST

START_TEST(hosts_and_self)
{
	char *v[] = { "192.0.2.0/24", "mx.example.net" };
	struct whitelist w;

	init_ok(&w, v, 2);
	/* a host name answers for its resolved addresses only */
	ck_assert_str_eq(check(&w, "203.0.113.5"), "-");
	w.hosts[0].addrs = calloc(2, sizeof(struct addr));
	ck_assert_ptr_nonnull(w.hosts[0].addrs);
	w.hosts[0].addrs[0] = A("203.0.113.5");
	w.hosts[0].addrs[1] = A("2001:db8:5::5");
	w.hosts[0].naddrs = 2;
	ck_assert_str_eq(check(&w, "203.0.113.5"), "whitelist");
	ck_assert_str_eq(check(&w, "203.0.113.6"), "-");
	ck_assert_str_eq(check(&w, "2001:db8:5::/64"), "whitelist");

	/* own addresses say "self"; a listed network still says "whitelist" */
	w.self = calloc(2, sizeof(struct addr));
	ck_assert_ptr_nonnull(w.self);
	w.self[0] = A("198.51.100.25");
	w.self[1] = A("192.0.2.25");
	w.nself = 2;
	ck_assert_str_eq(check(&w, "198.51.100.25"), "self");
	ck_assert_str_eq(check(&w, "198.51.100.26"), "-");
	ck_assert_str_eq(check(&w, "198.51.100.0/24"), "self");
	ck_assert_str_eq(check(&w, "192.0.2.25"), "whitelist");
	whitelist_free(&w);
	ck_assert_ptr_null(w.self);
	ck_assert_ptr_null(w.hosts);
}
END_TEST

START_TEST(load_self)
{
	struct whitelist w;

	init_ok(&w, NULL, 0);
	ck_assert_str_eq(check(&w, "127.0.0.1"), "-");
	/* every Linux host has a loopback interface with 127.0.0.1 */
	ck_assert_int_eq(whitelist_load_self(&w), 0);
	ck_assert_uint_gt(w.nself, 0);
	ck_assert_str_eq(check(&w, "127.0.0.1"), "self");
	ck_assert_str_eq(check(&w, "192.0.2.254"), "-");
	/* loading again replaces the list rather than growing it */
	{
		size_t n = w.nself;

		ck_assert_int_eq(whitelist_load_self(&w), 0);
		ck_assert_uint_eq(w.nself, n);
	}
	whitelist_free(&w);
}
END_TEST

START_TEST(resolve_localhost)
{
	char *v[] = { "localhost" };
	struct whitelist w;
	struct diag d = { 0 };

	init_ok(&w, v, 1);
	ck_assert_str_eq(check(&w, "127.0.0.1"), "-");
	/* /etc/hosts answers without a network */
	ck_assert_uint_eq(whitelist_resolve(&w, &d), 0);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_uint_gt(w.hosts[0].naddrs, 0);
	ck_assert_str_eq(check(&w, "127.0.0.1"), "whitelist");
	whitelist_free(&w);
	diag_free(&d);
}
END_TEST

static Suite *whitelist_suite(void)
{
	Suite *s = suite_create("whitelist");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, entry_syntax);
	tcase_add_test(tc, init_sorts_and_refuses);
	tcase_add_test(tc, cidr_ipv4);
	tcase_add_test(tc, cidr_ipv6);
	tcase_add_test(tc, overlap_from_judge_key);
	tcase_add_test(tc, hosts_and_self);
	tcase_add_test(tc, load_self);
	tcase_add_test(tc, resolve_localhost);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(whitelist_suite)
