/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "correlator.h"
#include "names.h"
#include "spamtraps.h"
#include "unit.h"

#define T0 ((time_t)1800000000)

/*
 * The correlator sees matches; these tests build them directly, as the
 * matcher would from the sample patterns in tests/data/patterns.
 */
static struct pattern pat_client, pat_delivery, pat_removed, pat_unknown, pat_reject,
		      pat_spam, pat_from;

static void pattern_set(struct pattern *p, const char *name, enum class_id cls, bool qid_end)
{
	memset(p, 0, sizeof(*p));
	p->name = names_intern(name, strlen(name));
	p->cls = cls;
	p->weight = WEIGHT_ONE;
	p->qid_end = qid_end;
}

static void patterns(void)
{
	pattern_set(&pat_client, "client", CLASS_CONTEXT, false);	/* qid + addr */
	pattern_set(&pat_delivery, "delivery", CLASS_CONTEXT, false);	/* qid + rcpt */
	pattern_set(&pat_removed, "removed", CLASS_CONTEXT, true);	/* qid */
	pattern_set(&pat_unknown, "unknown", CLASS_UNKNOWN_RECIPIENT, false);	/* qid + rcpt */
	pattern_set(&pat_reject, "reject", CLASS_UNKNOWN_RECIPIENT, false);	/* addr + rcpt */
	pattern_set(&pat_spam, "spam", CLASS_SPAM, false);	/* qid + addr + score */
	pattern_set(&pat_from, "from", CLASS_CONTEXT, false);	/* qid + addr */
}

/* --- the sightings, one line each --- */

static char slog[1 << 14];
static size_t slen;

static void on_sighting(void *ctx, const struct sighting *s)
{
	char b[ADDR_STRLEN];
	int n;

	(void)ctx;
	n = snprintf(slog + slen, sizeof(slog) - slen, "%s %s %s t=%+ld line=%llu%s",
		     s->addr_ok ? addr_format(&s->addr, b) : "invalid",
		     class_name(s->cls), names_get(s->pattern), (long)(s->time - T0),
		     (unsigned long long)s->origin.line, s->has_score ? " score=" : "");
	ck_assert_int_gt(n, 0);
	slen += (size_t)n;
	if (s->has_score)
		slen += (size_t)snprintf(slog + slen, sizeof(slog) - slen, "%g", s->score);
	if (!s->addr_ok)
		slen += (size_t)snprintf(slog + slen, sizeof(slog) - slen, " text=%.*s",
					 (int)s->addr_len, s->addr_text);
	slen += (size_t)snprintf(slog + slen, sizeof(slog) - slen, "\n");
	ck_assert_uint_lt(slen, sizeof(slog) - 1);
}

static const char *take(void)
{
	static char out[sizeof(slog)];

	memcpy(out, slog, slen + 1);
	slen = 0;
	slog[0] = '\0';
	return out;
}

static uint32_t tw;

static void on_weight(void *ctx, const struct sighting *s)
{
	(void)ctx;
	tw = s->weight;
}

static void mk(struct correlator *c, size_t max, long timeout)
{
	patterns();
	slen = 0;
	slog[0] = '\0';
	ck_assert_int_eq(correlator_init(c, max, timeout, on_sighting, NULL), 0);
}

static void cap(struct match *m, enum capture k, const char *v)
{
	m->cap[k].p = v;
	m->cap[k].len = v ? strlen(v) : 0;
}

/* One matched line: the pattern and its captures (NULL: did not take part). */
static void feed(struct correlator *c, time_t t, uint64_t line, const struct pattern *p,
		 const char *qid, const char *addr, const char *rcpt, const char *score)
{
	struct match m;
	struct origin o = { .source = names_intern("mail.log", 8), .line = line };

	memset(&m, 0, sizeof(m));
	m.pattern = p;
	cap(&m, CAP_QID, qid);
	cap(&m, CAP_ADDR, addr);
	cap(&m, CAP_RCPT, rcpt);
	cap(&m, CAP_SCORE, score);
	correlator_feed(c, &m, &o, t);
}

/* A loopback client (amavis without XFORWARD) is no client: it does not
 * replace the one the queue id has. */
START_TEST(loopback_links_nothing)
{
	struct correlator c;

	mk(&c, 100, 3600);
	feed(&c, T0, 1, &pat_client, "4BDE51F3A2", "203.0.113.10", NULL, NULL);
	feed(&c, T0 + 1, 2, &pat_client, "4BDE51F3A2", "127.0.0.1", NULL, NULL);
	feed(&c, T0 + 2, 3, &pat_unknown, "4BDE51F3A2", NULL, "nobody@example.org", NULL);
	ck_assert_str_eq(take(), "203.0.113.10 unknown-recipient unknown t=+2 line=3\n");
	/* an id only loopback named still waits for its client */
	feed(&c, T0 + 3, 4, &pat_client, "4BDE51F3A4", "::1", NULL, NULL);
	feed(&c, T0 + 4, 5, &pat_unknown, "4BDE51F3A4", NULL, "nobody@example.org", NULL);
	ck_assert_str_eq(take(), "");
	ck_assert_uint_eq(correlator_pending(&c), 1);
	correlator_free(&c);
}
END_TEST

/* A trap makes a line a whole offence, whatever the pattern weighs. */
START_TEST(trap_weighs_one)
{
	struct correlator c;
	struct pattern zero;
	char *traps[] = { "trap@example.org" };

	mk(&c, 100, 3600);
	pattern_set(&zero, "temporary", CLASS_HELO, false);
	zero.weight = 0;
	ck_assert_int_eq(correlator_set_traps(&c, traps, 1), 0);
	tw = UINT32_MAX;
	c.emit = on_weight;
	feed(&c, T0, 1, &zero, NULL, "203.0.113.10", "trap@example.org", NULL);
	ck_assert_uint_eq(tw, WEIGHT_ONE);
	feed(&c, T0, 2, &zero, NULL, "203.0.113.10", "user@example.org", NULL);
	ck_assert_uint_eq(tw, 0);
	correlator_free(&c);
}
END_TEST

START_TEST(link_then_event)
{
	struct correlator c;

	mk(&c, 100, 3600);
	feed(&c, T0, 1, &pat_client, "4BDE51F3A2", "203.0.113.10", NULL, NULL);
	ck_assert_str_eq(take(), "");
	feed(&c, T0 + 5, 2, &pat_unknown, "4BDE51F3A2", NULL, "nobody@example.org", NULL);
	ck_assert_str_eq(take(), "203.0.113.10 unknown-recipient unknown t=+5 line=2\n");
	/* another id knows nothing of that client */
	feed(&c, T0 + 6, 3, &pat_unknown, "4BDE51F3A3", NULL, "nobody@example.org", NULL);
	ck_assert_str_eq(take(), "");
	ck_assert_uint_eq(correlator_pending(&c), 1);
	ck_assert_uint_eq(c.linked, 1);
	correlator_free(&c);
}
END_TEST

START_TEST(event_then_link)
{
	struct correlator c;

	mk(&c, 100, 3600);
	/* Sendmail logs the rejections before the from=... relay=[addr] line */
	feed(&c, T0, 10, &pat_unknown, "0ARAxk8M012345", NULL, "a@example.org", NULL);
	feed(&c, T0 + 1, 11, &pat_unknown, "0ARAxk8M012345", NULL, "b@example.org", NULL);
	feed(&c, T0 + 1, 12, &pat_unknown, "0ARAxk8M099999", NULL, "c@example.org", NULL);
	ck_assert_str_eq(take(), "");
	ck_assert_uint_eq(correlator_pending(&c), 3);
	feed(&c, T0 + 2, 13, &pat_from, "0ARAxk8M012345", "IPv6:2001:DB8:0:0:0:0:0:1", NULL,
	     NULL);
	/* each waiting event keeps its own time and line, in order */
	ck_assert_str_eq(take(), "2001:db8::1 unknown-recipient unknown t=+0 line=10\n"
			 "2001:db8::1 unknown-recipient unknown t=+1 line=11\n");
	ck_assert_uint_eq(correlator_pending(&c), 1);
	ck_assert_uint_eq(c.resolved, 2);
	/* and later lines of the same id find the client at once */
	feed(&c, T0 + 3, 14, &pat_unknown, "0ARAxk8M012345", NULL, "d@example.org", NULL);
	ck_assert_str_eq(take(), "2001:db8::1 unknown-recipient unknown t=+3 line=14\n");
	correlator_free(&c);
}
END_TEST

/* What a restart carries over: every link, least recently seen first; put
 * back, a verdict line finds its client, and expiry goes on by their times. */
static int collect_link(void *ctx, const char *qid, size_t len, const struct addr *a,
			time_t seen)
{
	struct correlator *to = ctx;
	char b[ADDR_STRLEN];

	slen += (size_t)snprintf(slog + slen, sizeof(slog) - slen, "%.*s=%s@%+ld\n", (int)len,
				 qid, addr_format(a, b), (long)(seen - T0));
	return correlator_link(to, qid, len, a, seen);
}

START_TEST(links_carried_over)
{
	struct correlator c, d;
	struct addr a;

	mk(&c, 100, 3600);
	ck_assert_int_eq(correlator_init(&d, 100, 3600, on_sighting, NULL), 0);
	feed(&c, T0, 1, &pat_client, "A1", "203.0.113.1", NULL, NULL);
	feed(&c, T0 + 5, 2, &pat_client, "B2", "2001:db8::2", NULL, NULL);
	feed(&c, T0 + 7, 3, &pat_delivery, "A1", NULL, "user@example.org", NULL);
	feed(&c, T0 + 8, 4, &pat_unknown, "C3", NULL, "x@example.org", NULL);	/* waits */
	ck_assert_str_eq(take(), "");
	ck_assert_int_eq(correlator_walk_links(&c, collect_link, &d), 0);
	/* A1 was seen last: it comes last; C3 has no client to carry */
	ck_assert_str_eq(take(), "B2=2001:db8::2@+5\nA1=203.0.113.1@+7\n");
	correlator_free(&c);

	feed(&d, T0 + 9, 5, &pat_unknown, "A1", NULL, "y@example.org", NULL);
	ck_assert_str_eq(take(), "203.0.113.1 unknown-recipient unknown t=+9 line=5\n");
	/* B2 was seen at +5: gone after the timeout, A1 (+9) not yet */
	correlator_expire(&d, T0 + 5 + 3600);
	feed(&d, T0 + 5 + 3600, 6, &pat_unknown, "B2", NULL, "z@example.org", NULL);
	feed(&d, T0 + 5 + 3600, 7, &pat_unknown, "A1", NULL, "z@example.org", NULL);
	ck_assert_str_eq(take(), "203.0.113.1 unknown-recipient unknown t=+3605 line=7\n");
	/* a link put back resolves what waits for it; ids no MTA writes are refused */
	ck_assert_int_eq(addr_parse("198.51.100.3", 12, &a), 0);
	ck_assert_int_eq(correlator_link(&d, "B2", 2, &a, T0 + 3606), 0);
	ck_assert_str_eq(take(), "198.51.100.3 unknown-recipient unknown t=+3605 line=6\n");
	ck_assert_int_eq(correlator_link(&d, "", 0, &a, T0), -1);
	ck_assert_int_eq(correlator_link(&d, "0123456789012345678901234567890123", 34, &a, T0), -1);
	correlator_free(&d);
}
END_TEST

START_TEST(direct_and_invalid)
{
	struct correlator c;

	mk(&c, 100, 3600);
	/* a line naming its client needs no queue id */
	feed(&c, T0, 1, &pat_reject, NULL, "::ffff:198.51.100.7", "x@example.org", NULL);
	ck_assert_str_eq(take(), "198.51.100.7 unknown-recipient reject t=+0 line=1\n");
	/* an address that does not parse is passed on as text, and never linked */
	feed(&c, T0, 2, &pat_spam, "AAA1", "999.1.2.3", NULL, "20");
	ck_assert_str_eq(take(), "invalid spam spam t=+0 line=2 score=20 text=999.1.2.3\n");
	feed(&c, T0, 3, &pat_unknown, "AAA1", NULL, "x@example.org", NULL);
	ck_assert_str_eq(take(), "");
	ck_assert_uint_eq(correlator_pending(&c), 1);
	/* a context line with an invalid address emits nothing */
	feed(&c, T0, 4, &pat_client, "AAA2", "unknown", NULL, NULL);
	ck_assert_str_eq(take(), "");
	/* an offence line with a queue id and an address: its own sighting */
	feed(&c, T0, 5, &pat_spam, "AAA3", "203.0.113.5", NULL, "17.5");
	ck_assert_str_eq(take(), "203.0.113.5 spam spam t=+0 line=5 score=17.5\n");
	feed(&c, T0, 6, &pat_spam, "AAA4", "203.0.113.6", NULL, "x17");
	feed(&c, T0, 7, &pat_spam, "AAA5", "203.0.113.7", NULL, "");
	ck_assert_str_eq(take(), "203.0.113.6 spam spam t=+0 line=6\n"
			 "203.0.113.7 spam spam t=+0 line=7\n");
	correlator_free(&c);
}
END_TEST

START_TEST(id_reuse)
{
	struct correlator c;

	mk(&c, 100, 3600);
	feed(&c, T0, 1, &pat_client, "4BDE51F3A2", "203.0.113.10", NULL, NULL);
	feed(&c, T0 + 1, 2, &pat_removed, "4BDE51F3A2", NULL, NULL, NULL);
	ck_assert_str_eq(take(), "");
	/* the short id comes back for another message from another client */
	feed(&c, T0 + 2, 3, &pat_unknown, "4BDE51F3A2", NULL, "x@example.org", NULL);
	ck_assert_str_eq(take(), "");
	ck_assert_uint_eq(correlator_pending(&c), 1);
	feed(&c, T0 + 3, 4, &pat_client, "4BDE51F3A2", "198.51.100.20", NULL, NULL);
	ck_assert_str_eq(take(), "198.51.100.20 unknown-recipient unknown t=+2 line=3\n");
	/* removed ends the waiting events of an id that never got its client */
	feed(&c, T0 + 4, 5, &pat_unknown, "4BDE51F3B0", NULL, "x@example.org", NULL);
	feed(&c, T0 + 5, 6, &pat_removed, "4BDE51F3B0", NULL, NULL, NULL);
	ck_assert_uint_eq(correlator_pending(&c), 0);
	feed(&c, T0 + 6, 7, &pat_client, "4BDE51F3B0", "203.0.113.99", NULL, NULL);
	ck_assert_str_eq(take(), "");
	/* removed for an id never seen is harmless */
	feed(&c, T0 + 7, 8, &pat_removed, "FFFF", NULL, NULL, NULL);
	ck_assert_str_eq(take(), "");
	correlator_free(&c);
}
END_TEST

START_TEST(timeout)
{
	struct correlator c;

	mk(&c, 100, 3600);
	feed(&c, T0, 1, &pat_unknown, "Q1", NULL, "x@example.org", NULL);
	correlator_expire(&c, T0 + 3599);
	ck_assert_uint_eq(correlator_pending(&c), 1);
	correlator_expire(&c, T0 + 3600);
	ck_assert_uint_eq(correlator_pending(&c), 0);
	ck_assert_uint_eq(c.expired, 1);	/* the counter counts events */
	feed(&c, T0 + 3601, 2, &pat_client, "Q1", "203.0.113.10", NULL, NULL);
	ck_assert_str_eq(take(), "");

	/* a link goes silent for the timeout, then the id means nothing */
	feed(&c, T0 + 4000, 3, &pat_client, "Q2", "203.0.113.11", NULL, NULL);
	correlator_expire(&c, T0 + 4000 + 3599);
	feed(&c, T0 + 4000 + 3599, 4, &pat_unknown, "Q2", NULL, "x@example.org", NULL);
	ck_assert_str_eq(take(), "203.0.113.11 unknown-recipient unknown t=+7599 line=4\n");
	/* that line touched it: it lives another timeout from there */
	correlator_expire(&c, T0 + 4000 + 3599 + 3599);
	feed(&c, T0 + 4000 + 3599 + 3599, 5, &pat_unknown, "Q2", NULL, "x@example.org", NULL);
	ck_assert_str_eq(take(), "203.0.113.11 unknown-recipient unknown t=+11198 line=5\n");
	correlator_expire(&c, T0 + 4000 + 3599 + 3599 + 3600);
	feed(&c, T0 + 20000, 6, &pat_unknown, "Q2", NULL, "x@example.org", NULL);
	ck_assert_str_eq(take(), "");
	ck_assert_uint_eq(correlator_pending(&c), 1);
	correlator_free(&c);
}
END_TEST

START_TEST(count_bound_events)
{
	struct correlator c;
	char q[16];

	mk(&c, 3, 3600);
	for (int i = 0; i < 5; i++) {
		snprintf(q, sizeof(q), "Q%d", i);
		feed(&c, T0 + i, (uint64_t)i, &pat_unknown, q, NULL, "x@example.org", NULL);
		ck_assert_uint_le(correlator_pending(&c), 3);
	}
	ck_assert_uint_eq(correlator_pending(&c), 3);
	/* the oldest went first */
	feed(&c, T0 + 10, 10, &pat_client, "Q0", "203.0.113.10", NULL, NULL);
	feed(&c, T0 + 10, 11, &pat_client, "Q1", "203.0.113.11", NULL, NULL);
	ck_assert_str_eq(take(), "");
	feed(&c, T0 + 10, 12, &pat_client, "Q4", "203.0.113.14", NULL, NULL);
	ck_assert_str_eq(take(), "203.0.113.14 unknown-recipient unknown t=+4 line=4\n");
	correlator_free(&c);

	/* several events of one id: the bound counts events, not ids */
	mk(&c, 3, 3600);
	for (int i = 0; i < 5; i++)
		feed(&c, T0 + i, (uint64_t)i, &pat_unknown, "Q", NULL, "x@example.org", NULL);
	ck_assert_uint_eq(correlator_pending(&c), 3);
	feed(&c, T0 + 9, 9, &pat_client, "Q", "203.0.113.1", NULL, NULL);
	ck_assert_str_eq(take(), "203.0.113.1 unknown-recipient unknown t=+2 line=2\n"
			 "203.0.113.1 unknown-recipient unknown t=+3 line=3\n"
			 "203.0.113.1 unknown-recipient unknown t=+4 line=4\n");
	correlator_free(&c);
}
END_TEST

START_TEST(count_bound_links)
{
	struct correlator c;
	char q[16], a[32];

	mk(&c, 3, 3600);
	for (int i = 0; i < 5; i++) {
		snprintf(q, sizeof(q), "Q%d", i);
		snprintf(a, sizeof(a), "203.0.113.%d", 10 + i);
		feed(&c, T0 + i, (uint64_t)i, &pat_client, q, a, NULL, NULL);
	}
	/* the least recently seen ids were forgotten */
	feed(&c, T0 + 10, 10, &pat_unknown, "Q0", NULL, "x@example.org", NULL);
	ck_assert_str_eq(take(), "");
	feed(&c, T0 + 10, 11, &pat_unknown, "Q4", NULL, "x@example.org", NULL);
	feed(&c, T0 + 10, 12, &pat_unknown, "Q3", NULL, "x@example.org", NULL);
	ck_assert_str_eq(take(), "203.0.113.14 unknown-recipient unknown t=+10 line=11\n"
			 "203.0.113.13 unknown-recipient unknown t=+10 line=12\n");
	correlator_free(&c);

	/* a lowered limit takes effect at the next expiry */
	mk(&c, 10, 3600);
	for (int i = 0; i < 5; i++) {
		snprintf(q, sizeof(q), "Q%d", i);
		snprintf(a, sizeof(a), "203.0.113.%d", 10 + i);
		feed(&c, T0 + i, (uint64_t)i, &pat_client, q, a, NULL, NULL);
	}
	correlator_set_limits(&c, 2, 3600);
	correlator_expire(&c, T0 + 5);
	feed(&c, T0 + 10, 10, &pat_unknown, "Q3", NULL, "x@example.org", NULL);
	feed(&c, T0 + 10, 11, &pat_unknown, "Q2", NULL, "x@example.org", NULL);
	ck_assert_str_eq(take(), "203.0.113.13 unknown-recipient unknown t=+10 line=10\n");
	correlator_free(&c);
}
END_TEST

/* Ids are compared word-wise for 8..16 bytes, memcmp otherwise: a
 * difference in any byte, at every length, keeps two ids apart. */
START_TEST(qid_every_byte)
{
	struct correlator c;
	char id[QID_MAX + 1], other[QID_MAX + 1], want[128];
	uint64_t line = 1;

	mk(&c, 100000, 3600);
	for (size_t n = 1; n <= QID_MAX; n++) {
		for (size_t i = 0; i < n; i++)
			id[i] = (char)('A' + (n * 7 + i * 3) % 26);
		id[n] = '\0';
		feed(&c, T0, line++, &pat_client, id, "203.0.113.9", NULL, NULL);
		for (size_t i = 0; i < n; i++) {
			memcpy(other, id, n + 1);
			other[i] = (char)(other[i] ^ 0x20);
			feed(&c, T0, line++, &pat_unknown, other, NULL, "x@example.org", NULL);
			ck_assert_msg(strcmp(take(), "") == 0, "length %zu, byte %zu", n, i);
		}
		feed(&c, T0, line, &pat_unknown, id, NULL, "x@example.org", NULL);
		snprintf(want, sizeof(want), "203.0.113.9 unknown-recipient unknown t=+0 line=%llu\n",
			 (unsigned long long)line);
		line++;
		ck_assert_str_eq(take(), want);
	}
	correlator_free(&c);
}
END_TEST

START_TEST(long_qid)
{
	struct correlator c;
	char q[64];

	mk(&c, 100, 3600);
	memset(q, 'A', sizeof(q));
	q[QID_MAX] = '\0';
	feed(&c, T0, 1, &pat_client, q, "203.0.113.10", NULL, NULL);
	feed(&c, T0, 2, &pat_unknown, q, NULL, "x@example.org", NULL);
	ck_assert_str_eq(take(), "203.0.113.10 unknown-recipient unknown t=+0 line=2\n");
	/* one longer is never linked, and nothing waits for it */
	q[QID_MAX] = 'A';
	q[QID_MAX + 1] = '\0';
	feed(&c, T0, 3, &pat_client, q, "203.0.113.11", NULL, NULL);
	feed(&c, T0, 4, &pat_unknown, q, NULL, "x@example.org", NULL);
	ck_assert_str_eq(take(), "");
	ck_assert_uint_eq(correlator_pending(&c), 0);
	ck_assert_uint_eq(c.dropped, 1);
	correlator_free(&c);
}
END_TEST

/* --- spamtraps --- */

static char *trap_list[] = { "trap@example.org", "@honeypot.example.net", "x.y@traps.example" };

/* The correlator's list (spamtraps.c) asked about recipients rcpt. */
static bool trap_in(const struct correlator *c, const char *rcpt, size_t len)
{
	return c->traps && spamtraps_match(c->traps, rcpt, len);
}

static bool is_trap(const struct correlator *c, const char *r)
{
	return trap_in(c, r, strlen(r));
}

START_TEST(trap_matching)
{
	struct correlator c;

	mk(&c, 100, 3600);
	ck_assert(!is_trap(&c, "trap@example.org"));	/* no list yet */
	ck_assert_int_eq(correlator_set_traps(&c, trap_list, 3), 0);
	/* exact, and a whole domain */
	ck_assert(is_trap(&c, "trap@example.org"));
	ck_assert(is_trap(&c, "x.y@traps.example"));
	ck_assert(is_trap(&c, "anyone@honeypot.example.net"));
	ck_assert(is_trap(&c, "a@b@honeypot.example.net"));
	/* case-insensitive */
	ck_assert(is_trap(&c, "TRAP@Example.ORG"));
	ck_assert(is_trap(&c, "Someone@HONEYPOT.example.NET"));
	/* lists: space, comma, angle brackets */
	ck_assert(is_trap(&c, "<trap@example.org>"));
	ck_assert(is_trap(&c, "a@example.com trap@example.org"));
	ck_assert(is_trap(&c, "a@example.com,trap@example.org"));
	ck_assert(is_trap(&c, "a@example.com, trap@example.org"));
	ck_assert(is_trap(&c, "<a@example.com>,<trap@example.org>"));
	ck_assert(is_trap(&c, "<a@example.com> <u@honeypot.example.net>"));
	ck_assert(is_trap(&c, "trap@example.org,a@example.com"));
	/* near misses */
	ck_assert(!is_trap(&c, "trap@example.org.evil"));
	ck_assert(!is_trap(&c, "xtrap@example.org"));
	ck_assert(!is_trap(&c, "trap@example.orgx"));
	ck_assert(!is_trap(&c, "trap@example.or"));
	ck_assert(!is_trap(&c, "trap@sub.example.org"));
	ck_assert(!is_trap(&c, "trap"));
	ck_assert(!is_trap(&c, "example.org"));
	ck_assert(!is_trap(&c, "u@sub.honeypot.example.net"));
	ck_assert(!is_trap(&c, "u@honeypot.example.net.evil"));
	ck_assert(!is_trap(&c, "u@xhoneypot.example.net"));
	ck_assert(!is_trap(&c, "honeypot.example.net"));
	ck_assert(!is_trap(&c, "\"trap@example.org\"@evil.example"));
	ck_assert(!is_trap(&c, ""));
	ck_assert(!is_trap(&c, " , <> "));
	ck_assert(!trap_in(&c, "trap@example.org", 15));	/* length counts */
	/* a recipient over any real length is not matched, nor does it crash */
	{
		char big[2000];

		memset(big, 'a', sizeof(big));
		memcpy(big + sizeof(big) - 17, "trap@example.org", 16);
		big[sizeof(big) - 1] = '\0';
		ck_assert(!is_trap(&c, big));
		big[sizeof(big) - 18] = ' ';
		ck_assert(is_trap(&c, big));
	}
	/* the list can be replaced */
	ck_assert_int_eq(correlator_set_traps(&c, trap_list + 1, 1), 0);
	ck_assert(!is_trap(&c, "trap@example.org"));
	ck_assert(is_trap(&c, "a@honeypot.example.net"));
	ck_assert_int_eq(correlator_set_traps(&c, NULL, 0), 0);
	ck_assert(!is_trap(&c, "a@honeypot.example.net"));
	correlator_free(&c);
}
END_TEST

/* The rule in its plainest form: split at the separators, then compare
 * each recipient lower-cased, whole or from its last '@' on. */
static bool trap_reference(const char *s, size_t len)
{
	static const char seps[] = " \t,;<>";
	size_t i = 0;

	while (i < len) {
		size_t j = i, at = SIZE_MAX;

		while (j < len && s[j] != '\0' && !strchr(seps, s[j]))
			j++;
		if (j > i && j - i <= SPAMTRAPS_RCPT_MAX) {
			char low[SPAMTRAPS_RCPT_MAX + 1];

			for (size_t k = i; k < j; k++) {
				low[k - i] = (char)((s[k] >= 'A' && s[k] <= 'Z') ? s[k] + 32 : s[k]);
				if (s[k] == '@')
					at = k - i;
			}
			low[j - i] = '\0';
			for (size_t t = 0; t < sizeof(trap_list) / sizeof(*trap_list); t++)
				if (strcmp(low, trap_list[t]) == 0 ||
				    (trap_list[t][0] == '@' && at != SIZE_MAX &&
				     strcmp(low + at, trap_list[t]) == 0))
					return true;
		}
		i = j + 1;
	}
	return false;
}

/* Generated recipient lists against the reference, each in a buffer of
 * exactly its length (ASan sees any read past it), at every length the
 * sixteen-byte scan and its tail share. */
START_TEST(trap_matching_generated)
{
	static const char *const bits[] = {
		"trap@example.org", "TRAP@Example.org", "@honeypot.example.net", "u@HoneyPot.Example.Net",
		"x.y@traps.example", "a@b", "example.org", "@", "a", "bcdefghij", "trap", " ", ",",
		";", "<", ">", "\t", "\0", "\xc3\xa9", "@@", ".", "klmnopqrstuvwxyz0123456789",
	};
	struct correlator c;
	uint64_t rng = 7;
	unsigned hits = 0;

	mk(&c, 100, 3600);
	ck_assert_int_eq(correlator_set_traps(&c, trap_list, 3), 0);
	for (int n = 0; n < 100000; n++) {
		char tmp[512];
		size_t len = 0;
		int parts;
		char *buf;
		bool want, got;

		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		parts = (int)(rng >> 60) + 1;
		for (int k = 0; k < parts; k++) {
			uint64_t r;
			const char *b;
			size_t bl;

			rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
			r = rng >> 33;
			b = bits[r % (sizeof(bits) / sizeof(*bits))];
			bl = b[0] ? strlen(b) : 1;	/* "\0" is one NUL byte */
			if (len + bl > sizeof(tmp))
				break;
			memcpy(tmp + len, b, bl);
			len += bl;
		}
		buf = malloc(len ? len : 1);
		ck_assert_ptr_nonnull(buf);
		memcpy(buf, tmp, len);
		want = trap_reference(buf, len);
		got = trap_in(&c, buf, len);
		if (want != got) {
			for (size_t k = 0; k < len; k++)
				if (buf[k] == '\0')
					buf[k] = '0';
			ck_abort_msg("\"%.*s\": %d, the rule says %d", (int)len, buf, got, want);
		}
		hits += want;
		free(buf);
	}
	ck_assert_uint_gt(hits, 10000);
	correlator_free(&c);
}
END_TEST

START_TEST(traps_from_config)
{
	/* the configuration's spamtraps, as the pipeline hands them over */
	char dir[] = "/tmp/sw-unit-corr-XXXXXX", path[64];
	struct config *cfg = NULL;
	struct diag d = { 0 };
	struct correlator c;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/spamwrath.conf", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("spamtraps = { \"Trap@Example.ORG\", \"@HoneyPot.example.net\" }\n", f);
	fclose(f);
	{
		int r = config_load(path, &cfg, &d);

		unlink(path);
		rmdir(dir);
		ck_assert_int_eq(r, 0);
	}
	mk(&c, 100, 3600);
	ck_assert_int_eq(correlator_set_traps(&c, cfg->spamtraps, cfg->nspamtraps), 0);
	ck_assert(is_trap(&c, "trap@example.org"));
	ck_assert(is_trap(&c, "TRAP@EXAMPLE.ORG"));
	ck_assert(is_trap(&c, "x@honeypot.EXAMPLE.net"));
	ck_assert(!is_trap(&c, "trap@example.org.evil"));
	correlator_free(&c);
	config_free(cfg);
	diag_free(&d);
}
END_TEST

START_TEST(trap_sightings)
{
	struct correlator c;

	mk(&c, 100, 3600);
	ck_assert_int_eq(correlator_set_traps(&c, trap_list, 3), 0);
	/* an offence line whose recipient is a trap: one spamtrap sighting */
	feed(&c, T0, 1, &pat_reject, NULL, "203.0.113.10", "Trap@example.org", NULL);
	ck_assert_str_eq(take(), "203.0.113.10 spamtrap reject t=+0 line=1\n");
	/* a context delivery line to a trap: a sighting for the linked client */
	feed(&c, T0 + 1, 2, &pat_client, "A1", "203.0.113.11", NULL, NULL);
	feed(&c, T0 + 2, 3, &pat_delivery, "A1", NULL, "u@honeypot.example.net", NULL);
	ck_assert_str_eq(take(), "203.0.113.11 spamtrap delivery t=+2 line=3\n");
	/* context lines without a trap recipient produce nothing */
	feed(&c, T0 + 3, 4, &pat_delivery, "A1", NULL, "user@example.org", NULL);
	feed(&c, T0 + 3, 5, &pat_delivery, "A1", NULL, NULL, NULL);
	feed(&c, T0 + 3, 6, &pat_delivery, "A1", NULL, "trap@example.org.evil", NULL);
	ck_assert_str_eq(take(), "");
	ck_assert_uint_eq(correlator_pending(&c), 0);
	/* a trap delivery before the client is known waits for it */
	feed(&c, T0 + 4, 7, &pat_delivery, "A2", NULL, "trap@example.org", NULL);
	ck_assert_str_eq(take(), "");
	ck_assert_uint_eq(correlator_pending(&c), 1);
	feed(&c, T0 + 5, 8, &pat_client, "A2", "203.0.113.12", NULL, NULL);
	ck_assert_str_eq(take(), "203.0.113.12 spamtrap delivery t=+4 line=7\n");
	/* and a context delivery line that is also a qid_end still counts */
	feed(&c, T0 + 6, 9, &pat_client, "A3", "203.0.113.13", NULL, NULL);
	feed(&c, T0 + 7, 10, &pat_removed, "A3", NULL, "trap@example.org", NULL);
	ck_assert_str_eq(take(), "203.0.113.13 spamtrap removed t=+7 line=10\n");
	/* an offence line with a plain recipient keeps its own class */
	feed(&c, T0 + 8, 11, &pat_reject, NULL, "203.0.113.14", "user@example.org", NULL);
	ck_assert_str_eq(take(), "203.0.113.14 unknown-recipient reject t=+8 line=11\n");
	/* a context line naming its client without a queue id (amavis):
	 * only a trap among its recipients makes it a sighting, whatever
	 * its address */
	feed(&c, T0 + 9, 12, &pat_from, NULL, "203.0.113.15", "user@example.org", NULL);
	feed(&c, T0 + 9, 13, &pat_from, NULL, "999.0.113.15", "user@example.org", NULL);
	feed(&c, T0 + 9, 14, &pat_from, NULL, "203.0.113.16", NULL, NULL);
	ck_assert_str_eq(take(), "");
	feed(&c, T0 + 9, 15, &pat_from, NULL, "203.0.113.17", "a@x, trap@example.org", NULL);
	feed(&c, T0 + 9, 16, &pat_from, NULL, "999.0.113.18", "trap@example.org", NULL);
	ck_assert_str_eq(take(), "203.0.113.17 spamtrap from t=+9 line=15\n"
			 "invalid spamtrap from t=+9 line=16 text=999.0.113.18\n");
	ck_assert_uint_eq(correlator_pending(&c), 0);
	correlator_free(&c);
}
END_TEST

/*
 * The spamtrap check as it was before its length filters: lower-case each
 * recipient, look it up, then its part from the last '@'. The new code
 * must give exactly its answers, whatever the list holds.
 */
struct ref_traps {
	char **v;
	size_t n;
};

static int ref_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ref_lookup(const struct ref_traps *t, const char *s)
{
	return bsearch(&s, t->v, t->n, sizeof(*t->v), ref_strcmp) != NULL;
}

static bool ref_one(const struct ref_traps *t, const char *p, size_t len)
{
	char buf[321];
	const char *at;

	if (len == 0 || len >= sizeof(buf))
		return false;
	for (size_t i = 0; i < len; i++)
		buf[i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] - 'A' + 'a') : p[i];
	buf[len] = '\0';
	if (ref_lookup(t, buf))
		return true;
	at = strrchr(buf, '@');
	return at && ref_lookup(t, at);
}

static bool ref_is_trap(const struct ref_traps *t, const char *rcpt, size_t len)
{
	size_t i = 0;

	if (t->n == 0)
		return false;
	while (i < len) {
		size_t j;

		while (i < len && (rcpt[i] == '\0' || strchr(" \t,;<>", rcpt[i])))
			i++;
		for (j = i; j < len && !(rcpt[j] == '\0' || strchr(" \t,;<>", rcpt[j])); j++)
			;
		if (j > i && ref_one(t, rcpt + i, j - i))
			return true;
		i = j;
	}
	return false;
}

static uint64_t rng_state;

static unsigned rnd(unsigned n)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((rng_state >> 33) % n);
}

/* Words the lists and the recipients are made of, so that they meet. */
static const char *const words[] = {
	"trap", "TRAP", "x", "a.b", "honeypot", "Honeypot", "example", "org", "net", "",
};

static size_t gen_addr(char *s, size_t at, size_t room)
{
	static const char junk[] = "@@..-_+\"'\x80\xc3\xa9 ,;<>\t";
	unsigned parts = 1 + rnd(5);

	for (unsigned i = 0; i < parts && at + 40 < room; i++) {
		unsigned k = rnd(10);

		if (i && k < 6)
			s[at++] = rnd(3) ? '@' : '.';
		if (k == 9) {
			s[at++] = rnd(12) == 0 ? '\0' : junk[rnd(sizeof(junk) - 1)];
		} else {
			const char *w = words[rnd(sizeof(words) / sizeof(*words))];

			memcpy(s + at, w, strlen(w));
			at += strlen(w);
		}
	}
	return at;
}

/* at_all: every entry holds an '@', so that the '@' search serves the
 * lists of at most SPAMTRAPS_RCPT_MAX bytes */
static void trap_compare(bool at_all, uint64_t seed)
{
	static char big[700];
	struct correlator c;
	struct ref_traps ref;
	char *list[12], s[1200];
	unsigned hits = 0, runs = 0, fast = 0;

	rng_state = seed;
	mk(&c, 100, 3600);
	for (unsigned round = 0; round < 300; round++) {
		size_t n = rnd(8);

		/* a list: addresses, domains, odd entries (upper case, two '@',
		 * no '@', empty, separators, 320 and 321 bytes long) */
		for (size_t i = 0; i < n; i++) {
			size_t len;

			switch (rnd(12)) {
			case 0:
				len = 319 + rnd(3);
				memset(big, 'a', len);
				memcpy(big + len - 13, "@honeypot.net", 13);
				if (rnd(2))
					big[0] = '@';
				big[len] = '\0';
				list[i] = strdup(big);
				break;
			case 1:
				list[i] = strdup(rnd(2) ? "" : "@");
				break;
			default:
				len = gen_addr(s, 0, 200);
				if (rnd(2) || (at_all && !memchr(s, '@', len))) {
					size_t k = rnd(2) ? 0 : rnd((unsigned)len + 1);

					memmove(s + k + 1, s + k, len++ - k);
					s[k] = '@';
				}
				s[len] = '\0';
				list[i] = strdup(s);
				break;
			}
			ck_assert_ptr_nonnull(list[i]);
		}
		ck_assert_int_eq(correlator_set_traps(&c, list, n), 0);
		fast += c.traps && spamtraps_search_at(c.traps) && n > 0;
		ref.v = list;
		ref.n = n;
		qsort(list, n, sizeof(*list), ref_strcmp);
		for (unsigned k = 0; k < 400; k++) {
			size_t len = 0;
			unsigned nr = 1 + rnd(3);
			bool want;

			for (unsigned r = 0; r < nr; r++) {
				static const char *const seps[] = { "", " ", ",", ", ", "<", ">", ">,<", ";", "\t" };

				if (rnd(6) == 0 && n > 0) {	/* an entry, its case changed */
					const char *e = list[rnd((unsigned)n)];
					size_t el = strlen(e);

					if (rnd(4) == 0 && el < 318) {
						/* making a recipient of about the longest length */
						size_t pad = 318 + rnd(6) - el;

						memset(s + len, 'b', pad);
						len += pad;
					} else if (rnd(2)) {
						len = gen_addr(s, len, 300);
					}
					if (len + el < sizeof(s) - 50) {
						for (size_t q = 0; q < el; q++)
							s[len + q] = rnd(2) && e[q] >= 'a' && e[q] <= 'z'
								     ? (char)(e[q] - 32) : e[q];
						len += el;
					}
				} else {
					len = gen_addr(s, len, 300);
				}
				{
					const char *sep = seps[rnd(sizeof(seps) / sizeof(*seps))];

					memcpy(s + len, sep, strlen(sep));
					len += strlen(sep);
				}
			}
			want = ref_is_trap(&ref, s, len);
			if (k % 8 == 0) {
				/* in an allocation of its own, for ASan to see any
				 * read past the end */
				char *own = malloc(len ? len : 1);

				ck_assert_ptr_nonnull(own);
				memcpy(own, s, len);
				ck_assert(trap_in(&c, own, len) == want);
				free(own);
			}
			if (trap_in(&c, s, len) != want)
				ck_abort_msg("round %u: \"%.*s\" (%zu): old %d", round, (int)len, s,
					     len, want);
			hits += want;
			runs++;
		}
		for (size_t i = 0; i < n; i++)
			free(list[i]);
	}
	/* the generator must reach both answers often, and both searches */
	ck_assert_uint_gt(hits, runs / 20);
	ck_assert_uint_lt(hits, runs / 2);
	if (at_all)
		ck_assert_uint_gt(fast, 200);
	else
		ck_assert_uint_lt(fast, 150);
	correlator_free(&c);
}

START_TEST(trap_same_as_before)
{
	trap_compare(false, 7);
}
END_TEST

START_TEST(trap_same_as_before_at_search)
{
	trap_compare(true, 11);
	trap_compare(true, 12);
}
END_TEST

/* --- the parsed-address cache: addr_parse's answer, hit or miss --- */

static struct sighting last;
static unsigned nlast;

static void on_last(void *ctx, const struct sighting *s)
{
	(void)ctx;
	last = *s;
	nlast++;
}

START_TEST(addr_cache_same_as_parse)
{
	/* texts that share a cache slot (the same length and last eight
	 * bytes) but differ before them, valid and not, and IPv6, ports,
	 * NULs, the lengths around the longest one cached (47) */
	static const char *const fixed[] = {
		"1.2.3.4:25", "9.2.3.4:25", "1.2.3.4:99", "x.2.3.4:25", "11.2.3.4", "21.2.3.4",
		"256.1.1.1", "255.1.1.1", "2001:db8::1", "2001:db9::1", "::ffff:1.2.3.4",
		"::fffe:1.2.3.4", "fe80::1%eth0", "fe81::1%eth0", "IPv6:2001:db8::5",
		"1.2.3", "1.2.", "1.2", "", "0.0.0.0", "00.0.0.0",
		"2001:db8:aaaa:bbbb:cccc:dddd:1.2.3.4%eth12345678", /* 47 */
		"2001:db8:aaaa:bbbb:cccc:dddd:1.2.3.4%eth123456789", /* 48 */
		"2001:db8:aaaa:bbbb:cccc:dddd:1.2.3.4%eth1234567", /* 46 */
		"3001:db8:aaaa:bbbb:cccc:dddd:1.2.3.4%eth12345678",
	};
	char texts[400][64];
	size_t lens[400], n = 0;
	struct correlator c;
	unsigned hits = 0;

	patterns();
	ck_assert_int_eq(correlator_init(&c, 100, 3600, on_last, NULL), 0);
	for (size_t i = 0; i < sizeof(fixed) / sizeof(*fixed); i++, n++) {
		lens[n] = strlen(fixed[i]);
		memcpy(texts[n], fixed[i], lens[n]);
	}
	rng_state = 99;
	for (; n < 400; n++) {
		static const char any[] = "0123456789..::abcdef%";
		int k = snprintf(texts[n], sizeof(texts[n]), "%u.%u.%u.%u", rnd(4) * 64,
				 rnd(300), rnd(3), rnd(256));

		lens[n] = (size_t)k;
		if (rnd(3) == 0)
			lens[n] += (size_t)snprintf(texts[n] + k, sizeof(texts[n]) - (size_t)k,
						    ":%u", rnd(70000));
		if (rnd(4) == 0) {
			lens[n] = rnd(60);
			for (size_t i = 0; i < lens[n]; i++)
				texts[n][i] = rnd(20) == 0 ? (char)rnd(256) : any[rnd(sizeof(any) - 1)];
		}
	}
	for (unsigned k = 0; k < 40000; k++) {
		size_t i = rnd(8) ? rnd(40) : rnd(400);	/* some texts often */
		char *own = malloc(lens[i] ? lens[i] : 1);
		struct match m;
		struct origin o = { .line = k };
		struct addr want;
		bool ok;

		ck_assert_ptr_nonnull(own);
		memcpy(own, texts[i], lens[i]);
		memset(&m, 0, sizeof(m));
		m.pattern = &pat_reject;
		m.cap[CAP_ADDR].p = own;
		m.cap[CAP_ADDR].len = lens[i];
		nlast = 0;
		correlator_feed(&c, &m, &o, T0);
		ck_assert_uint_eq(nlast, 1);
		memset(&want, 0, sizeof(want));
		ok = addr_parse(texts[i], lens[i], &want) == 0;
		if (last.addr_ok != ok || memcmp(&last.addr, &want, sizeof(want)) != 0)
			ck_abort_msg("text %zu \"%.*s\": %d, addr_parse %d", i, (int)lens[i],
				     texts[i], last.addr_ok, ok);
		ck_assert_ptr_eq(last.addr_text, own);
		hits += ok;
		free(own);
	}
	ck_assert_uint_gt(hits, 10000);
	correlator_free(&c);
}
END_TEST

/* --- scores --- */

static bool got_score;
static double got;

static void on_score(void *ctx, const struct sighting *s)
{
	(void)ctx;
	got_score = s->has_score;
	got = s->score;
}

/* The score as it was read before its fast path: strtod on a copy. */
static bool ref_score(const char *p, size_t len, double *out)
{
	char buf[32];
	char *end;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, p, len);
	buf[len] = '\0';
	*out = strtod(buf, &end);
	return end != buf && *end == '\0' && *out == *out;
}

START_TEST(score_same_as_strtod)
{
	static const char *const cases[] = {
		"0", "-0", "1", "-1", "15", "2.9", "-0.5", "0.1", "0.3", "1.", ".5", "-", "-.5",
		"1e3", "1E-2", "+1", " 1", "1 ", "0x10", "inf", "nan", "-nan", "1.2.3", "--1",
		"999999999999999", "9999999999999999", "0.000000000000001",
		"0.0000000000000001", "123456789.123456", "12345678.1234567", "4.35",
		"9007199254740993", "00000000000000000000000000001", "1,5", "",
	};
	struct correlator c;
	char s[40];
	unsigned fast = 0;

	patterns();
	ck_assert_int_eq(correlator_init(&c, 100, 3600, on_score, NULL), 0);
	rng_state = 11;
	for (unsigned k = 0; k < 200000; k++) {
		size_t len;
		struct match m;
		struct origin o = { .line = k };
		double want = 0;
		bool has;

		if (k < sizeof(cases) / sizeof(*cases)) {
			len = strlen(cases[k]);
			memcpy(s, cases[k], len);
		} else {
			static const char digits[] = "0123456789", junk[] = "-.e+ x";

			len = rnd(34);
			for (size_t i = 0; i < len; i++)
				s[i] = rnd(12) ? digits[rnd(10)] : junk[rnd(sizeof(junk) - 1)];
			if (len && rnd(3) == 0)
				s[0] = '-';
			if (len > 2 && rnd(2))
				s[1 + rnd((unsigned)len - 2)] = '.';
		}
		memset(&m, 0, sizeof(m));
		m.pattern = &pat_spam;
		cap(&m, CAP_ADDR, "203.0.113.9");
		m.cap[CAP_SCORE].len = len;
		s[len] = '7';	/* the capture is a slice: no NUL after it */
		got_score = false;
		if (k % 8 == 0) {
			/* in an allocation of its own, for ASan */
			char *own = malloc(len ? len : 1);

			ck_assert_ptr_nonnull(own);
			memcpy(own, s, len);
			m.cap[CAP_SCORE].p = own;
			correlator_feed(&c, &m, &o, T0);
			free(own);
		} else {
			m.cap[CAP_SCORE].p = s;
			correlator_feed(&c, &m, &o, T0);
		}
		has = ref_score(s, len, &want);
		if (got_score != has || (has && memcmp(&got, &want, sizeof(got)) != 0))
			ck_abort_msg("\"%.*s\": %d %.17g, strtod: %d %.17g", (int)len, s, got_score,
				     got, has, want);
		fast += has;
	}
	ck_assert_uint_gt(fast, 20000);
	correlator_free(&c);
}
END_TEST

static Suite *correlator_suite(void)
{
	Suite *s = suite_create("correlator");
	TCase *tc = tcase_create("links");
	TCase *tt = tcase_create("traps");

	/* addr_cache_same_as_parse, score_same_as_strtod, trap_matching_generated,
	 * trap_same_as_before*: generated cases, seconds under ASan */
	tcase_set_timeout(tc, UNIT_HEAVY_TIMEOUT);
	tcase_set_timeout(tt, UNIT_HEAVY_TIMEOUT);
	tcase_add_test(tc, link_then_event);
	tcase_add_test(tc, event_then_link);
	tcase_add_test(tc, links_carried_over);
	tcase_add_test(tc, direct_and_invalid);
	tcase_add_test(tc, id_reuse);
	tcase_add_test(tc, timeout);
	tcase_add_test(tc, count_bound_events);
	tcase_add_test(tc, count_bound_links);
	tcase_add_test(tc, long_qid);
	tcase_add_test(tc, addr_cache_same_as_parse);
	tcase_add_test(tc, qid_every_byte);
	tcase_add_test(tc, score_same_as_strtod);
	tcase_add_test(tc, loopback_links_nothing);
	suite_add_tcase(s, tc);
	tcase_add_test(tt, trap_matching);
	tcase_add_test(tt, trap_matching_generated);
	tcase_add_test(tt, traps_from_config);
	tcase_add_test(tt, trap_sightings);
	tcase_add_test(tt, trap_same_as_before);
	tcase_add_test(tt, trap_same_as_before_at_search);
	tcase_add_test(tt, trap_weighs_one);
	suite_add_tcase(s, tt);
	return s;
}

UNIT_MAIN(correlator_suite)
