/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "evidence.h"
#include "names.h"
#include "parser.h"

#include "unit.h"

/* A matched line of source "maillog" at line n naming 10.x.y.z (from i),
 * then the judge's offence or ban for it. */
static void mkaddr(unsigned i, struct addr *a, char *text)
{
	snprintf(text, ADDR_STRLEN, "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
	ck_assert_int_eq(addr_parse(text, strlen(text), a), 0);
}

static void offence(struct evidence *ev, unsigned i, uint64_t n)
{
	char text[ADDR_STRLEN], msg[128];
	struct sighting s = { .time = 1000, .addr_ok = true };
	struct logline l = { .time = 1000, .tag = "postfix/smtpd", .taglen = 13 };
	struct judge_event e = { .kind = JUDGE_OFFENCE, .s = &s, .cls = CLASS_AUTH, .time = 1000 };

	mkaddr(i, &s.addr, text);
	e.addr = s.addr;
	s.origin = (struct origin){ .source = names_intern("maillog", 7), .line = n };
	l.msglen = (size_t)snprintf(msg, sizeof(msg), "warning: unknown[%s]: SASL LOGIN "
				    "authentication failed", text);
	l.msg = msg;
	evidence_match(ev, &s.origin, &l);
	evidence_event(ev, &e);
}

static void ban(struct evidence *ev, unsigned i)
{
	char text[ADDR_STRLEN];
	struct judge_event e = { .kind = JUDGE_BAN, .cls = CLASS_MANUAL, .time = 1000,
				 .duration = 3600, .pattern = names_intern("by hand", 7) };

	mkaddr(i, &e.addr, text);
	evidence_event(ev, &e);
}

/* The lengths of why(i)'s bans and pending arrays. */
static void why(struct evidence *ev, unsigned i, size_t *bans, size_t *pending)
{
	char text[ADDR_STRLEN];
	struct addr a;
	struct json_object *o, *v;

	mkaddr(i, &a, text);
	o = evidence_why(ev, &a);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_object_get_ex(o, "bans", &v));
	*bans = json_object_array_length(v);
	ck_assert(json_object_object_get_ex(o, "pending", &v));
	*pending = json_object_array_length(v);
	json_object_put(o);
}

/* A ban takes its address's pending offences; the address then starts
 * afresh, and its entry is its own again (not one freed earlier). */
START_TEST(ban_takes_offences)
{
	struct evidence *ev = evidence_open(NULL, 1000, 86400, NULL, NULL);
	size_t b, p;

	ck_assert_ptr_nonnull(ev);
	offence(ev, 1, 10);
	offence(ev, 1, 11);
	why(ev, 1, &b, &p);
	ck_assert_uint_eq(b, 0);
	ck_assert_uint_eq(p, 2);
	ban(ev, 1);
	why(ev, 1, &b, &p);
	ck_assert_uint_eq(b, 1);
	ck_assert_uint_eq(p, 0);
	offence(ev, 1, 12);
	why(ev, 1, &b, &p);
	ck_assert_uint_eq(p, 1);
	evidence_close(ev);
}
END_TEST

/* At most EVIDENCE_ADDRS addresses, the oldest going first; addresses
 * freed by bans on the way never make a newer one go. */
START_TEST(oldest_go_first)
{
	struct evidence *ev = evidence_open(NULL, 1000, 86400, NULL, NULL);
	unsigned n = 3 * EVIDENCE_ADDRS;
	size_t b, p;

	ck_assert_ptr_nonnull(ev);
	for (unsigned i = 0; i < n; i++) {
		offence(ev, i, i + 1);
		if (i % 2 == 0)
			ban(ev, i);
	}
	offence(ev, n - 1, n + 1);	/* again: its entry, not a second one */
	why(ev, 0, &b, &p);		/* banned: the ban as old as its offence */
	ck_assert_uint_eq(b + p, 0);
	why(ev, 1, &b, &p);
	ck_assert_uint_eq(b + p, 0);
	why(ev, n - 1, &b, &p);
	ck_assert_uint_eq(p, 2);
	why(ev, n - EVIDENCE_ADDRS + 1, &b, &p);	/* among the last EVIDENCE_ADDRS */
	ck_assert_uint_eq(p, 1);
	why(ev, n - 2, &b, &p);				/* banned lately */
	ck_assert_uint_eq(b, 1);
	evidence_close(ev);
}
END_TEST

static size_t lines_of(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;
	int c;

	ck_assert_ptr_nonnull(f);
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* why.jsonl is rewritten while running, so a wave of bans cannot fill the
 * disk; a start reads back what it holds. */
START_TEST(file_stays_bounded)
{
	char dir[] = "/tmp/sw-unit-evidence-XXXXXX", path[64];
	struct evidence *ev;
	size_t b, p;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/why.jsonl", dir);
	ev = evidence_open(dir, 1000, 86400, NULL, NULL);
	ck_assert_ptr_nonnull(ev);
	for (unsigned i = 0; i < EVIDENCE_REWRITE_EVERY + 10; i++)
		ban(ev, i % (2 * EVIDENCE_ADDRS));
	ck_assert_uint_le(lines_of(path), EVIDENCE_ADDRS * EVIDENCE_BANS + 10);
	ck_assert_uint_ge(lines_of(path), EVIDENCE_ADDRS);
	evidence_close(ev);
	ev = evidence_open(dir, 1000, 86400, NULL, NULL);
	ck_assert_ptr_nonnull(ev);
	why(ev, 9, &b, &p);	/* the last ban of all was of address 9 */
	ck_assert_uint_ge(b, 1);
	/* the ban whose append rewrote the file (the 60,000th) is in it */
	why(ev, (EVIDENCE_REWRITE_EVERY - 1) % (2 * EVIDENCE_ADDRS), &b, &p);
	ck_assert_uint_ge(b, 1);
	evidence_close(ev);
	unlink(path);
	rmdir(dir);
}
END_TEST

static Suite *evidence_suite(void)
{
	Suite *s = suite_create("evidence");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, UNIT_HEAVY_TIMEOUT);	/* 60,000 bans: slow under valgrind */
	tcase_add_test(tc, ban_takes_offences);
	tcase_add_test(tc, oldest_go_first);
	tcase_add_test(tc, file_stays_bounded);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(evidence_suite)
