/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto.h"

#define UNIT_TMP_NAME "fleet"
#include "unit_tmp.h"

#define KEY32 "0123456789abcdef0123456789abcdef"
static const char key32[] = KEY32;
#define NOW_MS 1796000000000ULL

static struct proto_key key(const char *ns, const char *host)
{
	struct proto_key k;

	ck_assert_int_eq(proto_key_set(&k, key32, 32, ns, host), 0);
	return k;
}

static struct proto_msg a_ban(void)
{
	struct proto_msg m = {
		.kind = PROTO_BAN, .start = 1796000000, .until = 1796003600,
		.cls = CLASS_SPAMTRAP, .pattern = "postfix-trap", .origin = "mx1", .offences = 2,
		.earlier = 1,
	};

	ck_assert_int_eq(addr_parse_net("2001:db8:1::/64", 15, &m.addr), 0);
	return m;
}

START_TEST(ban_round_trip)
{
	struct proto_key k = key("spamwrath", "mx1");
	struct proto_msg m = a_ban(), r;
	char buf[PROTO_MSG_MAX + 1];
	size_t n = proto_sign(&k, &m, NOW_MS, buf, sizeof(buf));

	ck_assert_uint_gt(n, PROTO_BODY_OFFSET);
	ck_assert_uint_eq(strlen(buf), n);
	ck_assert(strncmp(buf, "SW1 ", 4) == 0);
	/* the scripts in Redis find the kind at this offset */
	ck_assert(strncmp(buf + PROTO_BODY_OFFSET, "ban mx1 ", 8) == 0);
	ck_assert_int_eq(proto_read(&k, buf, n, &r), PROTO_OK);
	ck_assert_int_eq(r.kind, PROTO_BAN);
	ck_assert_str_eq(r.sender, "mx1");
	ck_assert_uint_eq(r.time_ms, NOW_MS);
	ck_assert_uint_eq(r.seq, m.seq);
	ck_assert_mem_eq(&r.addr, &m.addr, sizeof(r.addr));
	ck_assert_uint_eq(r.start, 1796000000);
	ck_assert_uint_eq(r.until, 1796003600);
	ck_assert_int_eq(r.cls, CLASS_SPAMTRAP);
	ck_assert_str_eq(r.pattern, "postfix-trap");
	ck_assert_str_eq(r.origin, "mx1");
	ck_assert_uint_eq(r.offences, 2);
	ck_assert_uint_eq(r.earlier, 1);
}
END_TEST

START_TEST(other_kinds_round_trip)
{
	struct proto_key k = key("spamwrath", "mx2");
	struct proto_msg u = { .kind = PROTO_UNBAN, .forget = true }, o = {
		.kind = PROTO_OFFENCE, .weight = 500, .cls = CLASS_HELO, .pattern = "helo",
	}, h = { .kind = PROTO_HEARTBEAT, .active = 7, .lag_ms = 3, .received = 99 }, r;
	char buf[PROTO_MSG_MAX + 1];
	size_t n;

	ck_assert_int_eq(addr_parse_net("192.0.2.9", 9, &u.addr), 0);
	o.addr = u.addr;
	n = proto_sign(&k, &u, NOW_MS, buf, sizeof(buf));
	ck_assert_int_eq(proto_read(&k, buf, n, &r), PROTO_OK);
	ck_assert_int_eq(r.kind, PROTO_UNBAN);
	ck_assert(r.forget);
	n = proto_sign(&k, &o, NOW_MS, buf, sizeof(buf));
	ck_assert_int_eq(proto_read(&k, buf, n, &r), PROTO_OK);
	ck_assert_int_eq(r.kind, PROTO_OFFENCE);
	ck_assert_uint_eq(r.weight, 500);
	ck_assert_int_eq(r.cls, CLASS_HELO);
	n = proto_sign(&k, &h, NOW_MS, buf, sizeof(buf));
	ck_assert_int_eq(proto_read(&k, buf, n, &r), PROTO_OK);
	ck_assert_int_eq(r.kind, PROTO_HEARTBEAT);
	ck_assert_uint_eq(r.active, 7);
	ck_assert_uint_eq(r.received, 99);
}
END_TEST

/* A manual ban's reason has spaces, '%' and bytes past ASCII: encoded, back as they were. */
START_TEST(text_fields_encoded)
{
	struct proto_key k = key("spamwrath", "mx1");
	struct proto_msg m = a_ban(), r;
	char buf[PROTO_MSG_MAX + 1];
	size_t n;

	m.cls = CLASS_MANUAL;
	strcpy(m.pattern, "mimedefang: 100% spam \xc3\xa9\ttab");
	n = proto_sign(&k, &m, NOW_MS, buf, sizeof(buf));
	ck_assert_ptr_null(strchr(buf + PROTO_BODY_OFFSET, '\t'));
	ck_assert_ptr_nonnull(strstr(buf, "mimedefang:%20100%25%20spam%20%c3%a9%09tab"));
	ck_assert_int_eq(proto_read(&k, buf, n, &r), PROTO_OK);
	ck_assert_int_eq(r.cls, CLASS_MANUAL);
	ck_assert_str_eq(r.pattern, m.pattern);
	/* an empty pattern travels as "-" */
	m.pattern[0] = '\0';
	n = proto_sign(&k, &m, NOW_MS, buf, sizeof(buf));
	ck_assert_int_eq(proto_read(&k, buf, n, &r), PROTO_OK);
	ck_assert_str_eq(r.pattern, "");
}
END_TEST

START_TEST(any_change_breaks_the_signature)
{
	struct proto_key k = key("spamwrath", "mx1");
	struct proto_msg m = a_ban(), r;
	char buf[PROTO_MSG_MAX + 1], copy[PROTO_MSG_MAX + 1];
	size_t n = proto_sign(&k, &m, NOW_MS, buf, sizeof(buf));

	for (size_t i = 4; i < n; i++) {
		if (buf[i] == ' ')
			continue;	/* a space moved is a malformed message, tested below */
		memcpy(copy, buf, n + 1);
		copy[i] = copy[i] == '1' ? '2' : '1';
		ck_assert_int_eq(proto_read(&k, copy, n, &r), PROTO_E_SIGNATURE);
	}
}
END_TEST

START_TEST(other_key_or_namespace_refused)
{
	struct proto_key k = key("spamwrath", "mx1"), other_ns = key("fleet2", "mx1"), other;
	struct proto_msg m = a_ban(), r;
	char buf[PROTO_MSG_MAX + 1];
	size_t n = proto_sign(&k, &m, NOW_MS, buf, sizeof(buf));

	ck_assert_int_eq(proto_key_set(&other, "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", 32, "spamwrath",
				       "mx1"), 0);
	ck_assert_int_eq(proto_read(&other, buf, n, &r), PROTO_E_SIGNATURE);
	ck_assert_int_eq(proto_read(&other_ns, buf, n, &r), PROTO_E_SIGNATURE);
	/* a key of the same bytes but one longer is another key */
	ck_assert_int_eq(proto_key_set(&other, KEY32 "x", 33, "spamwrath", "mx1"), 0);
	ck_assert_int_eq(proto_read(&other, buf, n, &r), PROTO_E_SIGNATURE);
	ck_assert_int_eq(proto_key_set(&other, key32, 31, "spamwrath", "mx1"), -1);
}
END_TEST

START_TEST(garbage_refused)
{
	struct proto_key k = key("spamwrath", "mx1");
	struct proto_msg r;
	char big[PROTO_MSG_MAX + 2];
	static const char *const junk[] = {
		"", "SW1", "SW1 ", "ban 203.0.113.1", "SW2 0000 ban",
		"SW1 0123456789012345678901234567890123456789012345678901234567890123",
	};

	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		ck_assert_int_ne(proto_read(&k, junk[i], strlen(junk[i]), &r), PROTO_OK);
	memset(big, 'a', sizeof(big));
	memcpy(big, "SW1 ", 4);
	ck_assert_int_eq(proto_read(&k, big, sizeof(big), &r), PROTO_E_MALFORMED);
	ck_assert_int_eq(proto_read(&k, "SW1 x ban", 9, &r), PROTO_E_SIGNATURE);
}
END_TEST

/* Signed with the key, but wrong inside: each is refused, and says why. */
static enum proto_error sealed(const char *body)
{
	struct proto_key k = key("spamwrath", "mx1");
	struct proto_msg r;
	char buf[PROTO_MSG_MAX + 1];
	size_t n = proto_seal(&k, body, strlen(body), buf, sizeof(buf));

	ck_assert_uint_gt(n, 0);
	return proto_read(&k, buf, n, &r);
}

START_TEST(signed_but_wrong)
{
	ck_assert_int_eq(sealed("ban mx1 1 2 203.0.113.1 10 20 spam p mx1 1 0"), PROTO_OK);
	ck_assert_int_eq(sealed("ban mx1 1 2 999.0.113.1 10 20 spam p mx1 1 0"), PROTO_E_ADDRESS);
	ck_assert_int_eq(sealed("ban mx1 1 2 203.0.113.1/24 10 20 spam p mx1 1 0"),
			 PROTO_E_ADDRESS);
	ck_assert_int_eq(sealed("ban mx1 1 2 hostname 10 20 spam p mx1 1 0"), PROTO_E_ADDRESS);
	ck_assert_int_eq(sealed("ban mx1 1 2 203.0.113.1 20 10 spam p mx1 1 0"), PROTO_E_MALFORMED);
	ck_assert_int_eq(sealed("ban mx1 1 2 203.0.113.1 10 20 context p mx1 1 0"),
			 PROTO_E_MALFORMED);
	ck_assert_int_eq(sealed("ban mx1 1 2 203.0.113.1 10 20 nonsense p mx1 1 0"),
			 PROTO_E_MALFORMED);
	ck_assert_int_eq(sealed("ban mx1 1 2 203.0.113.1 10 20 spam p mx1 1"), PROTO_E_MALFORMED);
	ck_assert_int_eq(sealed("ban mx1 1 2 203.0.113.1 10 20 spam p mx1 1 0 extra"),
			 PROTO_E_MALFORMED);
	ck_assert_int_eq(sealed("ban mx1 1 2 203.0.113.1 10 99999999999 spam p mx1 1 0"),
			 PROTO_E_MALFORMED);
	ck_assert_int_eq(sealed("ban mx1 -1 2 203.0.113.1 10 20 spam p mx1 1 0"), PROTO_E_MALFORMED);
	ck_assert_int_eq(sealed("ban mx/1 1 2 203.0.113.1 10 20 spam p mx1 1 0"), PROTO_E_MALFORMED);
	ck_assert_int_eq(sealed("ban mx1 1 2 203.0.113.1 10 20 spam p%0 mx1 1 0"),
			 PROTO_E_MALFORMED);
	ck_assert_int_eq(sealed("ban mx1 1 2 203.0.113.1 10 20 spam p%00 mx1 1 0"),
			 PROTO_E_MALFORMED);
	ck_assert_int_eq(sealed("ban  mx1 1 2 203.0.113.1 10 20 spam p mx1 1 0"), PROTO_E_MALFORMED);
	ck_assert_int_eq(sealed("unban mx1 1 2 203.0.113.1 2"), PROTO_E_MALFORMED);
	ck_assert_int_eq(sealed("off mx1 1 2 203.0.113.1 0 spam p"), PROTO_E_MALFORMED);
	ck_assert_int_eq(sealed("reset mx1 1 2"), PROTO_E_MALFORMED);
}
END_TEST

START_TEST(replays_refused)
{
	struct proto_peers *p = calloc(1, sizeof(*p));
	struct proto_msg m = { .sender = "mx1", .seq = 100, .time_ms = NOW_MS };

	ck_assert_int_eq(proto_fresh(p, &m, NOW_MS), PROTO_OK);
	ck_assert_int_eq(proto_fresh(p, &m, NOW_MS), PROTO_E_REPLAY);	/* the same again */
	m.seq = 99;
	ck_assert_int_eq(proto_fresh(p, &m, NOW_MS), PROTO_E_REPLAY);	/* an older one */
	m.seq = 101;
	ck_assert_int_eq(proto_fresh(p, &m, NOW_MS), PROTO_OK);
	strcpy(m.sender, "mx2");	/* sequences are per sender */
	m.seq = 5;
	ck_assert_int_eq(proto_fresh(p, &m, NOW_MS), PROTO_OK);
	m.seq = 6;
	m.time_ms = NOW_MS - PROTO_SKEW_MS - 1;	/* signed too long ago */
	ck_assert_int_eq(proto_fresh(p, &m, NOW_MS), PROTO_E_REPLAY);
	m.time_ms = NOW_MS + PROTO_SKEW_MS + 1;	/* or too far ahead */
	ck_assert_int_eq(proto_fresh(p, &m, NOW_MS), PROTO_E_REPLAY);
	m.time_ms = NOW_MS - PROTO_SKEW_MS;
	ck_assert_int_eq(proto_fresh(p, &m, NOW_MS), PROTO_OK);
	/* a full table: the sender heard from longest ago makes room */
	for (int i = 0; i < PROTO_PEERS_MAX; i++) {
		struct proto_msg x = { .seq = 1, .time_ms = NOW_MS };

		snprintf(x.sender, sizeof(x.sender), "h%d", i);
		ck_assert_int_eq(proto_fresh(p, &x, NOW_MS + 1 + (uint64_t)i), PROTO_OK);
	}
	ck_assert_uint_eq(p->n, PROTO_PEERS_MAX);
	free(p);
}
END_TEST

START_TEST(sequence_grows)
{
	struct proto_key k = key("spamwrath", "mx1");
	struct proto_msg m = a_ban();
	char buf[PROTO_MSG_MAX + 1];
	uint64_t last;

	proto_sign(&k, &m, NOW_MS, buf, sizeof(buf));
	last = m.seq;
	for (int i = 0; i < 100; i++) {
		proto_sign(&k, &m, NOW_MS, buf, sizeof(buf));	/* the same millisecond */
		ck_assert_uint_gt(m.seq, last);
		last = m.seq;
	}
	proto_sign(&k, &m, NOW_MS - 1000, buf, sizeof(buf));	/* the clock stepped back */
	ck_assert_uint_gt(m.seq, last);
}
END_TEST

static void write_key(const char *name, const char *text, mode_t mode)
{
	ck_assert_int_eq(chmod(unit_put(name, text), mode), 0);
}

static int load(const char *name, struct diag *d)
{
	struct proto_key k;
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return proto_key_load(&k, path, "spamwrath", "mx1", d);
}

START_TEST(key_file_rules)
{
	struct diag d = { 0 };

	write_key("good", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n", 0600);
	ck_assert_int_eq(load("good", &d), 0);
	write_key("owner-only", "0123456789abcdef0123456789abcdef", 0400);
	ck_assert_int_eq(load("owner-only", &d), 0);
	ck_assert_uint_eq(d.n, 0);
	write_key("group", "0123456789abcdef0123456789abcdef", 0640);
	ck_assert_int_eq(load("group", &d), -1);
	write_key("world", "0123456789abcdef0123456789abcdef", 0604);
	ck_assert_int_eq(load("world", &d), -1);
	/* 31 bytes and a newline: the newline is not key */
	write_key("short", "0123456789abcdef0123456789abcde\n", 0600);
	ck_assert_int_eq(load("short", &d), -1);
	ck_assert_int_eq(load("missing", &d), -1);
	ck_assert_str_eq(unit_diag_text(&d),
			 "DIR/group: key_file: mode 0640 lets group or others at a secret; make it "
			 "readable by spamwrathd alone (chmod 600, owned by its user)\n"
			 "DIR/world: key_file: mode 0604 lets group or others at a secret; make it "
			 "readable by spamwrathd alone (chmod 600, owned by its user)\n"
			 "DIR/short: key_file: the key has 31 bytes, fewer than 32 (make one with: "
			 "head -c 32 /dev/urandom | base64)\n"
			 "DIR/missing: key_file: No such file or directory\n");
	diag_free(&d);
}
END_TEST

/* Two keys loaded from files with and without the newline sign alike. */
START_TEST(key_file_newline_dropped)
{
	struct proto_key a, b;
	struct diag d = { 0 };
	struct proto_msg m = a_ban(), r;
	char path[256], buf[PROTO_MSG_MAX + 1];
	size_t n;

	write_key("a", "0123456789abcdef0123456789abcdef\n", 0600);
	write_key("b", "0123456789abcdef0123456789abcdef", 0600);
	snprintf(path, sizeof(path), "%s/a", dir);
	ck_assert_int_eq(proto_key_load(&a, path, "spamwrath", "mx1", &d), 0);
	snprintf(path, sizeof(path), "%s/b", dir);
	ck_assert_int_eq(proto_key_load(&b, path, "spamwrath", "mx2", &d), 0);
	n = proto_sign(&a, &m, NOW_MS, buf, sizeof(buf));
	ck_assert_int_eq(proto_read(&b, buf, n, &r), PROTO_OK);
	diag_free(&d);
}
END_TEST

static Suite *fleet_proto_suite(void)
{
	Suite *s = suite_create("fleet_proto");
	TCase *tc = tcase_create("messages"), *tk = tcase_create("key");

	tcase_add_test(tc, ban_round_trip);
	tcase_add_test(tc, other_kinds_round_trip);
	tcase_add_test(tc, text_fields_encoded);
	tcase_add_test(tc, any_change_breaks_the_signature);
	tcase_add_test(tc, other_key_or_namespace_refused);
	tcase_add_test(tc, garbage_refused);
	tcase_add_test(tc, signed_but_wrong);
	tcase_add_test(tc, replays_refused);
	tcase_add_test(tc, sequence_grows);
	suite_add_tcase(s, tc);
	tcase_add_unchecked_fixture(tk, base_setup, base_teardown);
	tcase_add_checked_fixture(tk, setup, teardown);
	tcase_add_test(tk, key_file_rules);
	tcase_add_test(tk, key_file_newline_dropped);
	suite_add_tcase(s, tk);
	return s;
}

UNIT_MAIN(fleet_proto_suite)
