/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "duration.h"
#include "judge.h"
#include "names.h"
#include "unit.h"

#define T0 ((time_t)1800000000)	/* 2027-01-15T08:00:00Z */
#define H 3600L
#define D 86400L

/* --- what the judge said, one line per event --- */

static char evlog[1 << 16];
static size_t evlen;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void logf_(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(evlog + evlen, sizeof(evlog) - evlen, fmt, ap);
	va_end(ap);
	ck_assert_int_ge(n, 0);
	ck_assert_uint_lt(evlen + (size_t)n, sizeof(evlog));
	evlen += (size_t)n;
}

static const char *fmt_addr(const struct addr *a, char buf[ADDR_STRLEN])
{
	if (a->family == 0)
		return "-";
	return addr_format(a, buf);
}

static void on_event(void *ctx, const struct judge_event *e)
{
	char b[ADDR_STRLEN];

	(void)ctx;
	switch (e->kind) {
	case JUDGE_OFFENCE:
		logf_("offence %s %s w=%u\n", fmt_addr(&e->addr, b), class_name(e->cls), e->weight);
		break;
	case JUDGE_IGNORED:
		logf_("ignored %s %s %s\n", fmt_addr(&e->addr, b), class_name(e->cls), e->reason);
		break;
	case JUDGE_BAN:
		logf_("ban %s %s %s d=%ld n=%u e=%u%s%s%s%s\n", fmt_addr(&e->addr, b),
		      class_name(e->cls), names_get(e->pattern), e->duration, e->offences,
		      e->earlier_bans, e->origin ? " from=" : "", e->origin ? names_get(e->origin) : "",
		      e->received ? " received" : "", e->renewed ? " renewed" : "");
		ck_assert_int_eq(e->time, e->s ? e->s->time : e->time);
		break;
	case JUDGE_UNBAN:
		logf_("unban %s %s%s%s\n", fmt_addr(&e->addr, b), class_name(e->cls),
		      e->received ? " by=" : "", e->received ? names_get(e->origin) : "");
		break;
	case JUDGE_EXPIRED:
		logf_("expired %s at=%+ld\n", fmt_addr(&e->addr, b), (long)(e->time - T0));
		break;
	}
}

/* The events since the last call. */
static const char *take(void)
{
	static char out[sizeof(evlog)];

	memcpy(out, evlog, evlen + 1);
	evlen = 0;
	evlog[0] = '\0';
	return out;
}

/* --- set-up --- */

static struct judge_rules R;

/* The built-in configuration's rules, as the daemon would use them. */
static void rules_default(void)
{
	struct config *c = NULL;
	struct diag d = { 0 };

	ck_assert_int_eq(config_load(NULL, &c, &d), 0);
	judge_rules_from_config(&R, c);
	config_free(c);
	diag_free(&d);
	evlen = 0;
	evlog[0] = '\0';
}

static struct judge *mk(const struct whitelist *wl)
{
	struct judge *j = judge_new(&R, wl, on_event, NULL);

	ck_assert_ptr_nonnull(j);
	return j;
}

static struct addr A(const char *s)
{
	struct addr a;

	ck_assert_msg(addr_parse_net(s, strlen(s), &a) == 0, "bad test address %s", s);
	return a;
}

static uint32_t P(const char *name)
{
	return names_intern(name, strlen(name));
}

/* A sighting with every knob. pweight: the pattern's factor. */
/* Each see*() is a session of its own (a process never seen before),
 * unless it says which. */
static uint32_t next_pid = 1000;

static void see_full(struct judge *j, time_t t, const char *addr, enum class_id cls,
		     uint32_t pweight, bool has_score, double score)
{
	struct sighting s = {
		.time = t, .cls = cls, .pattern = P("pat"), .weight = pweight,
		.has_score = has_score, .score = score, .session = (uint64_t)next_pid++ << 32,
	};

	if (addr_parse(addr, strlen(addr), &s.addr) == 0)
		s.addr_ok = true;
	s.addr_text = addr;
	s.addr_len = strlen(addr);
	judge_offence(j, &s);
}

static void see(struct judge *j, time_t t, const char *addr, enum class_id cls)
{
	see_full(j, t, addr, cls, WEIGHT_ONE, false, 0);
}

/* --- the rules --- */

START_TEST(threshold_one)
{
	struct judge *j;

	rules_default();
	j = mk(NULL);
	see(j, T0, "203.0.113.10", CLASS_UNKNOWN_RECIPIENT);
	ck_assert_str_eq(take(), "offence 203.0.113.10 unknown-recipient w=1000\n"
			 "ban 203.0.113.10 unknown-recipient pat d=43200 n=1 e=0\n");
	ck_assert_uint_eq(judge_tracked(j), 1);
	ck_assert_uint_eq(judge_active_bans(j, T0), 1);
	ck_assert_uint_eq(judge_active_bans(j, T0 + 12 * H - 1), 1);
	ck_assert_uint_eq(judge_active_bans(j, T0 + 12 * H), 0);
	judge_free(j);
}
END_TEST

START_TEST(threshold_three)
{
	struct judge *j;

	rules_default();
	R.threshold = 3000;
	j = mk(NULL);
	see(j, T0, "203.0.113.10", CLASS_UNKNOWN_RECIPIENT);
	see(j, T0 + 1, "203.0.113.10", CLASS_UNKNOWN_SENDER);
	see(j, T0 + 2, "203.0.113.11", CLASS_UNKNOWN_SENDER);
	ck_assert_str_eq(take(), "offence 203.0.113.10 unknown-recipient w=1000\n"
			 "offence 203.0.113.10 unknown-sender w=1000\n"
			 "offence 203.0.113.11 unknown-sender w=1000\n");
	see(j, T0 + 3, "203.0.113.10", CLASS_SPAM);
	ck_assert_str_eq(take(), "offence 203.0.113.10 spam w=1000\n"
			 "ban 203.0.113.10 spam pat d=43200 n=3 e=0\n");
	judge_free(j);
}
END_TEST

START_TEST(findtime_edges)
{
	struct judge *j;

	rules_default();
	R.threshold = 2000;
	R.findtime = H;
	j = mk(NULL);
	/* exactly findtime old: no longer counts */
	see(j, T0, "203.0.113.10", CLASS_UNKNOWN_RECIPIENT);
	see(j, T0 + H, "203.0.113.10", CLASS_UNKNOWN_RECIPIENT);
	ck_assert_str_eq(take(), "offence 203.0.113.10 unknown-recipient w=1000\n"
			 "offence 203.0.113.10 unknown-recipient w=1000\n");
	/* one second younger than findtime: still counts */
	see(j, T0 + 2 * H - 1, "203.0.113.10", CLASS_UNKNOWN_RECIPIENT);
	ck_assert_str_eq(take(), "offence 203.0.113.10 unknown-recipient w=1000\n"
			 "ban 203.0.113.10 unknown-recipient pat d=43200 n=2 e=0\n");

	see(j, T0, "203.0.113.20", CLASS_UNKNOWN_RECIPIENT);
	see(j, T0 + H - 1, "203.0.113.20", CLASS_UNKNOWN_RECIPIENT);
	ck_assert_str_eq(take(), "offence 203.0.113.20 unknown-recipient w=1000\n"
			 "offence 203.0.113.20 unknown-recipient w=1000\n"
			 "ban 203.0.113.20 unknown-recipient pat d=43200 n=2 e=0\n");
	judge_free(j);
}
END_TEST

START_TEST(weights)
{
	struct judge *j;

	rules_default();
	j = mk(NULL);
	/* auth weighs 0.2: four don't ban, the fifth does */
	for (int i = 0; i < 4; i++)
		see(j, T0 + i, "203.0.113.10", CLASS_AUTH);
	ck_assert_str_eq(take(), "offence 203.0.113.10 auth w=200\n"
			 "offence 203.0.113.10 auth w=200\n"
			 "offence 203.0.113.10 auth w=200\n"
			 "offence 203.0.113.10 auth w=200\n");
	see(j, T0 + 4, "203.0.113.10", CLASS_AUTH);
	ck_assert_str_eq(take(), "offence 203.0.113.10 auth w=200\n"
			 "ban 203.0.113.10 auth pat d=43200 n=5 e=0\n");

	/* mixed classes add up: helo 0.5 + protocol 0.25 x2 = 1 */
	see(j, T0, "203.0.113.11", CLASS_HELO);
	see(j, T0 + 1, "203.0.113.11", CLASS_PROTOCOL);
	see(j, T0 + 2, "203.0.113.11", CLASS_PROTOCOL);
	ck_assert_str_eq(take(), "offence 203.0.113.11 helo w=500\n"
			 "offence 203.0.113.11 protocol w=250\n"
			 "offence 203.0.113.11 protocol w=250\n"
			 "ban 203.0.113.11 protocol pat d=43200 n=3 e=0\n");

	/* class weight x pattern weight: helo 0.5 x 2 = one ban */
	see_full(j, T0, "203.0.113.12", CLASS_HELO, 2000, false, 0);
	ck_assert_str_eq(take(), "offence 203.0.113.12 helo w=1000\n"
			 "ban 203.0.113.12 helo pat d=43200 n=1 e=0\n");
	/* auth 0.2 x 0.5 = 0.1: ten of them */
	for (int i = 0; i < 9; i++)
		see_full(j, T0 + i, "203.0.113.13", CLASS_AUTH, 500, false, 0);
	ck_assert_uint_eq(judge_active_bans(j, T0 + 9), 3);
	see_full(j, T0 + 9, "203.0.113.13", CLASS_AUTH, 500, false, 0);
	ck_assert_uint_eq(judge_active_bans(j, T0 + 9), 4);
	take();
	/* a product that rounds to nothing is never an offence */
	R.classes[CLASS_AUTH].weight = 1;
	judge_reconfigure(j, &R, NULL);
	see_full(j, T0, "203.0.113.14", CLASS_AUTH, 400, false, 0);
	see_full(j, T0, "203.0.113.14", CLASS_AUTH, 500, false, 0);
	ck_assert_str_eq(take(), "ignored 203.0.113.14 auth weight\n"
			 "offence 203.0.113.14 auth w=1\n");
	judge_free(j);
}
END_TEST

START_TEST(below_then_sure)
{
	struct judge *j;

	rules_default();
	R.findtime = 2 * D;
	j = mk(NULL);
	/* three auth failures, then one sure offence: the ban counts all four */
	for (int i = 0; i < 3; i++)
		see(j, T0 + i, "203.0.113.10", CLASS_AUTH);
	see(j, T0 + 3, "203.0.113.10", CLASS_UNKNOWN_RECIPIENT);
	ck_assert_str_eq(take(), "offence 203.0.113.10 auth w=200\n"
			 "offence 203.0.113.10 auth w=200\n"
			 "offence 203.0.113.10 auth w=200\n"
			 "offence 203.0.113.10 unknown-recipient w=1000\n"
			 "ban 203.0.113.10 unknown-recipient pat d=43200 n=4 e=0\n");
	/* the ban cleared the running total (findtime would still hold the
	 * three auth failures): after it, four auth make no ban */
	for (int i = 0; i < 4; i++)
		see(j, T0 + 3 + 12 * H + i, "203.0.113.10", CLASS_AUTH);
	ck_assert_uint_eq(judge_active_bans(j, T0 + 3 + 12 * H + 4), 0);
	see(j, T0 + 3 + 12 * H + 4, "203.0.113.10", CLASS_AUTH);
	ck_assert_uint_eq(judge_active_bans(j, T0 + 3 + 12 * H + 4), 1);
	judge_free(j);
}
END_TEST

START_TEST(min_score)
{
	struct judge *j;

	rules_default();
	R.classes[CLASS_SPAM].has_min_score = true;
	R.classes[CLASS_SPAM].min_score = 15;
	j = mk(NULL);
	see_full(j, T0, "203.0.113.10", CLASS_SPAM, WEIGHT_ONE, true, 14.9);
	see_full(j, T0, "203.0.113.10", CLASS_SPAM, WEIGHT_ONE, true, -3);
	ck_assert_str_eq(take(), "ignored 203.0.113.10 spam score\n"
			 "ignored 203.0.113.10 spam score\n");
	ck_assert_uint_eq(judge_tracked(j), 0);
	see_full(j, T0, "203.0.113.10", CLASS_SPAM, WEIGHT_ONE, true, 15);
	ck_assert_str_eq(take(), "offence 203.0.113.10 spam w=1000\n"
			 "ban 203.0.113.10 spam pat d=43200 n=1 e=0\n");
	/* no score captured: the verdict alone is the offence */
	see_full(j, T0, "203.0.113.11", CLASS_SPAM, WEIGHT_ONE, false, 0);
	ck_assert_str_eq(take(), "offence 203.0.113.11 spam w=1000\n"
			 "ban 203.0.113.11 spam pat d=43200 n=1 e=0\n");
	/* min_score belongs to its class only */
	see_full(j, T0, "203.0.113.12", CLASS_VIRUS, WEIGHT_ONE, true, 1);
	ck_assert_str_eq(take(), "offence 203.0.113.12 virus w=1000\n"
			 "ban 203.0.113.12 virus pat d=43200 n=1 e=0\n");
	judge_free(j);
}
END_TEST

START_TEST(disabled_class)
{
	struct judge *j;

	rules_default();
	R.classes[CLASS_RELAY].enabled = false;
	j = mk(NULL);
	see(j, T0, "203.0.113.10", CLASS_RELAY);
	ck_assert_str_eq(take(), "ignored 203.0.113.10 relay class-disabled\n");
	ck_assert_uint_eq(judge_tracked(j), 0);
	see(j, T0, "203.0.113.10", CLASS_HELO);
	ck_assert_str_eq(take(), "offence 203.0.113.10 helo w=500\n");
	judge_free(j);
}
END_TEST

START_TEST(escalation)
{
	static const long want[] = {
		43200, 86400, 172800, 345600, 691200, 1382400, 2592000, 2592000,
	};
	struct judge *j;
	time_t t = T0;

	rules_default();
	R.repeat_window = 365 * D;
	j = mk(NULL);
	/* each ban ends, the next offence comes at once: 12h x 2^n, up to 30d */
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char expect[200];

		see(j, t, "203.0.113.10", CLASS_UNKNOWN_RECIPIENT);
		snprintf(expect, sizeof(expect), "offence 203.0.113.10 unknown-recipient w=1000\n"
			 "ban 203.0.113.10 unknown-recipient pat d=%ld n=1 e=%u\n", want[i], i);
		ck_assert_str_eq(take(), expect);
		t += want[i];
	}
	judge_free(j);

	/* a factor that is not whole */
	R.bantime_factor = 1.5;
	j = mk(NULL);
	see(j, T0, "203.0.113.10", CLASS_VIRUS);
	see(j, T0 + 12 * H, "203.0.113.10", CLASS_VIRUS);
	see(j, T0 + 30 * H, "203.0.113.10", CLASS_VIRUS);
	ck_assert_str_eq(take(), "offence 203.0.113.10 virus w=1000\n"
			 "ban 203.0.113.10 virus pat d=43200 n=1 e=0\n"
			 "offence 203.0.113.10 virus w=1000\n"
			 "ban 203.0.113.10 virus pat d=64800 n=1 e=1\n"
			 "offence 203.0.113.10 virus w=1000\n"
			 "ban 203.0.113.10 virus pat d=97200 n=1 e=2\n");
	judge_free(j);
}
END_TEST

START_TEST(repeat_window)
{
	struct judge *j;

	rules_default();
	R.repeat_window = 7 * D;
	j = mk(NULL);
	/* a ban that started exactly repeat_window ago no longer counts */
	see(j, T0, "203.0.113.10", CLASS_VIRUS);
	see(j, T0 + 7 * D, "203.0.113.10", CLASS_VIRUS);
	/* one second younger does */
	see(j, T0, "203.0.113.11", CLASS_VIRUS);
	see(j, T0 + 7 * D - 1, "203.0.113.11", CLASS_VIRUS);
	ck_assert_str_eq(take(), "offence 203.0.113.10 virus w=1000\n"
			 "ban 203.0.113.10 virus pat d=43200 n=1 e=0\n"
			 "offence 203.0.113.10 virus w=1000\n"
			 "ban 203.0.113.10 virus pat d=43200 n=1 e=0\n"
			 "offence 203.0.113.11 virus w=1000\n"
			 "ban 203.0.113.11 virus pat d=43200 n=1 e=0\n"
			 "offence 203.0.113.11 virus w=1000\n"
			 "ban 203.0.113.11 virus pat d=86400 n=1 e=1\n");
	/* three bans: only those inside the window count */
	see(j, T0 + 8 * D, "203.0.113.11", CLASS_VIRUS);
	ck_assert_str_eq(take(), "offence 203.0.113.11 virus w=1000\n"
			 "ban 203.0.113.11 virus pat d=86400 n=1 e=1\n");	/* T0 is out */
	/* now T0+9d: the T0 ban is out, T0+7d-1 and T0+8d are in */
	see(j, T0 + 9 * D, "203.0.113.11", CLASS_VIRUS);
	ck_assert_str_eq(take(), "offence 203.0.113.11 virus w=1000\n"
			 "ban 203.0.113.11 virus pat d=172800 n=1 e=2\n");
	judge_free(j);
}
END_TEST

START_TEST(no_second_ban)
{
	struct judge *j;

	rules_default();
	R.threshold = 2000;
	R.findtime = 2 * D;	/* every offence below stays inside findtime */
	j = mk(NULL);
	see(j, T0, "203.0.113.10", CLASS_UNKNOWN_RECIPIENT);
	see(j, T0 + 1, "203.0.113.10", CLASS_UNKNOWN_RECIPIENT);
	take();
	/* banned: offences are still reported, no new ban */
	for (int i = 0; i < 5; i++)
		see(j, T0 + 10 + i, "203.0.113.10", CLASS_UNKNOWN_RECIPIENT);
	ck_assert_str_eq(take(), "offence 203.0.113.10 unknown-recipient w=1000\n"
			 "offence 203.0.113.10 unknown-recipient w=1000\n"
			 "offence 203.0.113.10 unknown-recipient w=1000\n"
			 "offence 203.0.113.10 unknown-recipient w=1000\n"
			 "offence 203.0.113.10 unknown-recipient w=1000\n");
	/* the last second of the ban still counts as banned */
	see(j, T0 + 1 + 12 * H - 1, "203.0.113.10", CLASS_UNKNOWN_RECIPIENT);
	ck_assert_str_eq(take(), "offence 203.0.113.10 unknown-recipient w=1000\n");
	/* after it: the ban cleared the total and offences during a ban do
	 * not count, so one offence is not enough */
	see(j, T0 + 1 + 12 * H, "203.0.113.10", CLASS_UNKNOWN_RECIPIENT);
	ck_assert_str_eq(take(), "offence 203.0.113.10 unknown-recipient w=1000\n");
	see(j, T0 + 2 + 12 * H, "203.0.113.10", CLASS_UNKNOWN_RECIPIENT);
	ck_assert_str_eq(take(), "offence 203.0.113.10 unknown-recipient w=1000\n"
			 "ban 203.0.113.10 unknown-recipient pat d=86400 n=2 e=1\n");
	judge_free(j);
}
END_TEST

START_TEST(ipv6_prefix)
{
	struct judge *j;

	rules_default();
	R.threshold = 2000;
	j = mk(NULL);
	/* two addresses of one /64 add up; the ban names the /64 */
	see(j, T0, "2001:db8:1:2::a", CLASS_UNKNOWN_RECIPIENT);
	see(j, T0 + 1, "2001:db8:1:3::a", CLASS_UNKNOWN_RECIPIENT);
	see(j, T0 + 2, "2001:db8:1:2:ffff:ffff:ffff:ffff", CLASS_UNKNOWN_RECIPIENT);
	ck_assert_str_eq(take(), "offence 2001:db8:1:2::/64 unknown-recipient w=1000\n"
			 "offence 2001:db8:1:3::/64 unknown-recipient w=1000\n"
			 "offence 2001:db8:1:2::/64 unknown-recipient w=1000\n"
			 "ban 2001:db8:1:2::/64 unknown-recipient pat d=43200 n=2 e=0\n");
	ck_assert_uint_eq(judge_tracked(j), 2);
	judge_free(j);

	R.ipv6_prefix = 48;
	j = mk(NULL);
	see(j, T0, "2001:db8:1:2::a", CLASS_UNKNOWN_RECIPIENT);
	see(j, T0 + 1, "2001:db8:1:3::a", CLASS_UNKNOWN_RECIPIENT);
	ck_assert_str_eq(take(), "offence 2001:db8:1::/48 unknown-recipient w=1000\n"
			 "offence 2001:db8:1::/48 unknown-recipient w=1000\n"
			 "ban 2001:db8:1::/48 unknown-recipient pat d=43200 n=2 e=0\n");
	judge_free(j);

	R.ipv6_prefix = 128;
	j = mk(NULL);
	see(j, T0, "2001:db8:1:2::a", CLASS_UNKNOWN_RECIPIENT);
	see(j, T0 + 1, "2001:db8:1:2::b", CLASS_UNKNOWN_RECIPIENT);
	ck_assert_str_eq(take(), "offence 2001:db8:1:2::a unknown-recipient w=1000\n"
			 "offence 2001:db8:1:2::b unknown-recipient w=1000\n");
	judge_free(j);
}
END_TEST

START_TEST(ipv4_prefix)
{
	struct judge *j;

	rules_default();
	R.threshold = 2000;
	j = mk(NULL);
	see(j, T0, "203.0.113.10", CLASS_UNKNOWN_RECIPIENT);
	see(j, T0 + 1, "203.0.113.20", CLASS_UNKNOWN_RECIPIENT);
	ck_assert_str_eq(take(), "offence 203.0.113.10 unknown-recipient w=1000\n"
			 "offence 203.0.113.20 unknown-recipient w=1000\n");
	judge_free(j);

	R.ipv4_prefix = 24;
	j = mk(NULL);
	see(j, T0, "203.0.113.10", CLASS_UNKNOWN_RECIPIENT);
	see(j, T0 + 1, "203.0.113.20", CLASS_UNKNOWN_RECIPIENT);
	see(j, T0 + 2, "203.0.114.20", CLASS_UNKNOWN_RECIPIENT);
	ck_assert_str_eq(take(), "offence 203.0.113.0/24 unknown-recipient w=1000\n"
			 "offence 203.0.113.0/24 unknown-recipient w=1000\n"
			 "ban 203.0.113.0/24 unknown-recipient pat d=43200 n=2 e=0\n"
			 "offence 203.0.114.0/24 unknown-recipient w=1000\n");
	judge_free(j);
}
END_TEST

START_TEST(never_banned)
{
	char *wlv[] = { "192.0.2.0/24", "2001:db8:99::25" };
	struct whitelist wl;
	struct diag d = { 0 };
	struct judge *j;

	rules_default();
	ck_assert_int_eq(whitelist_init(&wl, wlv, 2, "t", &d), 0);
	j = mk(&wl);
	see(j, T0, "127.0.0.1", CLASS_VIRUS);
	see(j, T0, "127.255.0.9", CLASS_VIRUS);
	see(j, T0, "::1", CLASS_VIRUS);
	see(j, T0, "::ffff:127.0.0.1", CLASS_VIRUS);
	see(j, T0, "0.0.0.0", CLASS_VIRUS);
	see(j, T0, "::", CLASS_VIRUS);
	see(j, T0, "224.0.0.5", CLASS_VIRUS);
	see(j, T0, "255.255.255.255", CLASS_VIRUS);
	see(j, T0, "ff02::1", CLASS_VIRUS);
	see(j, T0, "999.1.2.3", CLASS_VIRUS);
	see(j, T0, "unknown", CLASS_VIRUS);
	see(j, T0, "192.0.2.77", CLASS_VIRUS);
	/* the /64 around a client holds a whitelisted host: not banned */
	see(j, T0, "2001:db8:99::bad", CLASS_VIRUS);
	/* [::2]'s /64 is ::/64, which holds :: and ::1 (found by fuzzing) */
	see(j, T0, "::2", CLASS_VIRUS);
	see(j, T0, "::1.2.3.4", CLASS_VIRUS);
	ck_assert_str_eq(take(), "ignored 127.0.0.1 virus loopback\n"
			 "ignored 127.255.0.9 virus loopback\n"
			 "ignored ::/64 virus loopback\n"
			 "ignored 127.0.0.1 virus loopback\n"
			 "ignored 0.0.0.0 virus unspecified\n"
			 "ignored ::/64 virus unspecified\n"
			 "ignored 224.0.0.5 virus not-unicast\n"
			 "ignored 255.255.255.255 virus not-unicast\n"
			 "ignored ff02::/64 virus not-unicast\n"
			 "ignored - virus invalid-address\n"
			 "ignored - virus invalid-address\n"
			 "ignored 192.0.2.77 virus whitelist\n"
			 "ignored 2001:db8:99::/64 virus whitelist\n"
			 "ignored ::/64 virus unspecified\n"
			 "ignored ::/64 virus unspecified\n");
	ck_assert_uint_eq(judge_tracked(j), 0);
	ck_assert_uint_eq(judge_active_bans(j, T0), 0);
	judge_free(j);
	whitelist_free(&wl);
}
END_TEST

/* nbans running bans in a table of 8, then a stream of new addresses. */
static void max_tracked_with(int nbans)
{
	struct judge *j;
	char a[32];
	time_t t = T0;

	rules_default();
	R.threshold = 2000;
	R.max_tracked = 8;
	j = mk(NULL);
	for (int i = 0; i < nbans; i++) {
		snprintf(a, sizeof(a), "198.51.100.%d", i + 1);
		see(j, t, a, CLASS_VIRUS);
		see(j, t, a, CLASS_VIRUS);
	}
	ck_assert_uint_eq(judge_active_bans(j, t), (size_t)nbans);
	/* single offences from new addresses: each one evicts an entry */
	for (int i = 0; i < 2000; i++) {
		snprintf(a, sizeof(a), "203.0.%d.%d", i / 250, 1 + i % 250);
		see(j, ++t, a, CLASS_VIRUS);
		take();
		if (judge_tracked(j) > 8)
			ck_abort_msg("%zu tracked after %d new addresses", judge_tracked(j), i + 1);
		if (judge_active_bans(j, t) != (size_t)nbans)
			ck_abort_msg("%d bans: a running ban was evicted after %d new addresses",
				     nbans, i + 1);
	}
	ck_assert_uint_eq(judge_tracked(j), 8);
	{
		struct judge_evictions ev;

		/* 2000 + nbans addresses in 8 slots; no ban among those forgotten */
		judge_evictions(j, &ev);
		ck_assert_uint_eq(ev.addresses, 2000 + (uint64_t)nbans - 8);
		ck_assert_uint_eq(ev.bans, 0);
	}
	/* the latest address is remembered: one more offence bans it */
	see(j, ++t, a, CLASS_VIRUS);
	ck_assert_uint_eq(judge_active_bans(j, t), (size_t)nbans + 1);
	/* every banned address is still known */
	for (int i = 0; i < nbans; i++) {
		struct addr x;

		snprintf(a, sizeof(a), "198.51.100.%d", i + 1);
		x = A(a);
		ck_assert_int_eq(judge_unban(j, &x, t, false), 0);
	}
	judge_free(j);
}

START_TEST(max_tracked)
{
	/* running bans survive eviction over idle entries, even when the
	 * random samples of the table find bans only */
	max_tracked_with(2);
	max_tracked_with(6);
	max_tracked_with(7);
}
END_TEST

START_TEST(max_tracked_all_banned)
{
	struct judge *j;
	char a[32];

	rules_default();
	R.max_tracked = 4;
	j = mk(NULL);
	/* a table of running bans only: it still never grows past the cap */
	for (int i = 0; i < 20; i++) {
		snprintf(a, sizeof(a), "203.0.113.%d", i + 1);
		see(j, T0 + i, a, CLASS_VIRUS);
		ck_assert_uint_le(judge_tracked(j), 4);
	}
	ck_assert_uint_eq(judge_tracked(j), 4);
	ck_assert_uint_eq(judge_active_bans(j, T0 + 20), 4);
	/* and each ban forgotten so is counted (issue 17, item 10) */
	{
		struct judge_evictions ev;

		judge_evictions(j, &ev);
		ck_assert_uint_eq(ev.addresses, 16);
		ck_assert_uint_eq(ev.bans, 16);
	}
	judge_free(j);
}
END_TEST

/* --- manual bans, unbans, expiry --- */

START_TEST(manual_ban)
{
	char *wlv[] = { "192.0.2.0/24" };
	struct whitelist wl;
	struct diag d = { 0 };
	struct judge *j;
	const char *why = NULL;
	struct addr a;

	rules_default();
	ck_assert_int_eq(whitelist_init(&wl, wlv, 1, "t", &d), 0);
	j = mk(&wl);
	a = A("203.0.113.10");
	ck_assert_int_eq(judge_ban(j, &a, T0, 0, 0, &why), 0);
	ck_assert_ptr_null(why);
	ck_assert_str_eq(take(), "ban 203.0.113.10 manual manual d=43200 n=0 e=0\n");
	/* duration 0 escalates like the judge; an explicit one is kept */
	ck_assert_int_eq(judge_ban(j, &a, T0 + 12 * H, 0, P("by-hand"), &why), 0);
	ck_assert_str_eq(take(), "ban 203.0.113.10 manual by-hand d=86400 n=0 e=1\n");
	ck_assert_int_eq(judge_ban(j, &a, T0 + 36 * H, 600, 0, &why), 0);
	ck_assert_str_eq(take(), "ban 203.0.113.10 manual manual d=600 n=0 e=2\n");
	/* past DURATION_MAX: refused, nothing emitted (issue 17, item 6) */
	ck_assert_int_eq(judge_ban(j, &a, T0 + 36 * H, LONG_MAX, 0, &why), -1);
	ck_assert_ptr_nonnull(strstr(why, "longer than"));
	ck_assert_int_eq(judge_ban(j, &a, T0 + 36 * H, DURATION_MAX + 1, 0, &why), -1);
	ck_assert_str_eq(take(), "");
	ck_assert_uint_eq(judge_active_bans(j, T0 + 36 * H + 599), 1);
	ck_assert_uint_eq(judge_active_bans(j, T0 + 36 * H + 600), 0);
	/* an IPv6 address is banned as its /64 */
	a = A("2001:db8:5:6::7");
	ck_assert_int_eq(judge_ban(j, &a, T0, 0, 0, &why), 0);
	ck_assert_str_eq(take(), "ban 2001:db8:5:6::/64 manual manual d=43200 n=0 e=0\n");

	/* refusals, with their reasons, and nothing emitted */
	a = A("192.0.2.9");
	ck_assert_int_eq(judge_ban(j, &a, T0, 0, 0, &why), -1);
	ck_assert_str_eq(why, "whitelist");
	a = A("127.0.0.1");
	ck_assert_int_eq(judge_ban(j, &a, T0, 0, 0, &why), -1);
	ck_assert_str_eq(why, "loopback");
	a = A("::");
	ck_assert_int_eq(judge_ban(j, &a, T0, 0, 0, &why), -1);
	ck_assert_str_eq(why, "unspecified");
	a = A("239.1.2.3");
	ck_assert_int_eq(judge_ban(j, &a, T0, 0, 0, &why), -1);
	ck_assert_str_eq(why, "not-unicast");
	ck_assert_str_eq(take(), "");
	judge_free(j);
	whitelist_free(&wl);
}
END_TEST

START_TEST(unban)
{
	struct judge *j;
	struct addr a = A("203.0.113.10"), b = A("203.0.113.11");

	rules_default();
	j = mk(NULL);
	ck_assert_int_eq(judge_unban(j, &a, T0, false), -1);
	see(j, T0, "203.0.113.10", CLASS_VIRUS);
	see(j, T0, "203.0.113.11", CLASS_VIRUS);
	take();
	/* without forget: the ban goes, its history stays */
	ck_assert_int_eq(judge_unban(j, &a, T0 + 60, false), 0);
	ck_assert_str_eq(take(), "unban 203.0.113.10 virus\n");
	ck_assert_uint_eq(judge_active_bans(j, T0 + 60), 1);
	ck_assert_int_eq(judge_unban(j, &a, T0 + 61, false), -1);
	see(j, T0 + 120, "203.0.113.10", CLASS_VIRUS);
	ck_assert_str_eq(take(), "offence 203.0.113.10 virus w=1000\n"
			 "ban 203.0.113.10 virus pat d=86400 n=1 e=1\n");
	/* with forget: the address starts afresh */
	ck_assert_int_eq(judge_unban(j, &b, T0 + 60, true), 0);
	ck_assert_str_eq(take(), "unban 203.0.113.11 virus\n");
	ck_assert_uint_eq(judge_tracked(j), 1);
	see(j, T0 + 120, "203.0.113.11", CLASS_VIRUS);
	ck_assert_str_eq(take(), "offence 203.0.113.11 virus w=1000\n"
			 "ban 203.0.113.11 virus pat d=43200 n=1 e=0\n");
	/* an expired ban cannot be lifted */
	ck_assert_int_eq(judge_unban(j, &b, T0 + 120 + 12 * H, false), -1);
	/* an IPv6 address lifts the ban of its /64 */
	see(j, T0, "2001:db8::1", CLASS_VIRUS);
	take();
	a = A("2001:db8::2");
	ck_assert_int_eq(judge_unban(j, &a, T0 + 1, false), 0);
	ck_assert_str_eq(take(), "unban 2001:db8::/64 virus\n");
	judge_free(j);
}
END_TEST

START_TEST(expire)
{
	struct judge *j;

	rules_default();
	R.threshold = 2000;
	R.findtime = H;
	R.repeat_window = 7 * D;
	j = mk(NULL);
	see(j, T0, "203.0.113.10", CLASS_VIRUS);
	see(j, T0, "203.0.113.10", CLASS_VIRUS);	/* banned until T0+12h */
	see(j, T0, "203.0.113.11", CLASS_VIRUS);	/* one offence, no ban */
	take();
	ck_assert_uint_eq(judge_tracked(j), 2);
	judge_expire(j, T0 + H - 1, 100);
	ck_assert_str_eq(take(), "");
	ck_assert_uint_eq(judge_tracked(j), 2);
	/* the lone offence left findtime: its entry no longer matters */
	judge_expire(j, T0 + H, 100);
	ck_assert_str_eq(take(), "");
	ck_assert_uint_eq(judge_tracked(j), 1);
	judge_expire(j, T0 + 12 * H - 1, 100);
	ck_assert_str_eq(take(), "");
	/* the ban ran out: reported once, with the time it ended */
	judge_expire(j, T0 + 12 * H + 5, 100);
	ck_assert_str_eq(take(), "expired 203.0.113.10 at=+43200\n");
	judge_expire(j, T0 + 12 * H + 6, 100);
	ck_assert_str_eq(take(), "");
	/* kept for escalation while its start is inside repeat_window */
	ck_assert_uint_eq(judge_tracked(j), 1);
	judge_expire(j, T0 + 7 * D - 1, 100);
	ck_assert_uint_eq(judge_tracked(j), 1);
	judge_expire(j, T0 + 7 * D, 100);
	ck_assert_uint_eq(judge_tracked(j), 0);
	ck_assert_str_eq(take(), "");
	judge_free(j);
}
END_TEST

START_TEST(expire_budget)
{
	struct judge *j;
	char a[32];

	rules_default();
	j = mk(NULL);
	for (int i = 0; i < 50; i++) {
		snprintf(a, sizeof(a), "203.0.113.%d", i + 1);
		see(j, T0, a, CLASS_VIRUS);
	}
	take();
	/* a small budget visits a few entries per call, resuming: every ban
	 * is reported exactly once in the end */
	for (int k = 0; k < 60; k++)
		judge_expire(j, T0 + 12 * H, 3);
	{
		const char *out = take();
		int n = 0;

		for (const char *p = out; (p = strstr(p, "expired ")) != NULL; p++)
			n++;
		ck_assert_int_eq(n, 50);
		for (int i = 0; i < 50; i++) {
			char line[64];

			snprintf(line, sizeof(line), "expired 203.0.113.%d at=+43200\n", i + 1);
			ck_assert_msg(strstr(out, line) != NULL, "no \"%s\"", line);
		}
	}
	ck_assert_uint_eq(judge_active_bans(j, T0 + 12 * H), 0);
	judge_free(j);
}
END_TEST

/* --- walk and restore --- */

struct saved {
	struct judge_entry e[64];
	uint32_t times[64][64], weights[64][64], bans[64][64];
	size_t n;
};

static int save_one(void *ctx, const struct judge_entry *e)
{
	struct saved *s = ctx;
	struct judge_entry *c = &s->e[s->n];

	ck_assert_uint_lt(s->n, 64);
	ck_assert_uint_le(e->nbans, 64);
	ck_assert_uint_le(e->noffences, 64);
	*c = *e;
	/* the arrays are NULL when empty */
	if (e->nbans)
		memcpy(s->bans[s->n], e->ban_times, e->nbans * sizeof(uint32_t));
	if (e->noffences) {
		memcpy(s->times[s->n], e->off_times, e->noffences * sizeof(uint32_t));
		memcpy(s->weights[s->n], e->off_weights, e->noffences * sizeof(uint32_t));
	}
	c->ban_times = s->bans[s->n];
	c->off_times = s->times[s->n];
	c->off_weights = s->weights[s->n];
	s->n++;
	return 0;
}

/* One line per entry, sorted, so two walks compare as text. */
static char *dump(struct judge *j)
{
	static struct saved s;
	static char out[8192];
	char *lines[64];
	size_t len = 0;

	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(judge_walk(j, save_one, &s), 0);
	for (size_t i = 0; i < s.n; i++) {
		const struct judge_entry *e = &s.e[i];
		char buf[1024], ab[ADDR_STRLEN];
		int n = snprintf(buf, sizeof(buf), "%s until=%+ld start=%+ld %s n=%u bans=",
				 addr_format(&e->addr, ab),
				 e->ban_until ? (long)(e->ban_until - T0) : 0,
				 e->ban_start ? (long)(e->ban_start - T0) : 0,
				 class_name(e->ban_class), e->ban_offences);

		for (unsigned k = 0; k < e->nbans; k++)
			n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%+ld,",
				      (long)e->ban_times[k] - (long)T0);
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, " offs=");
		for (unsigned k = 0; k < e->noffences; k++)
			n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%+ld/%u,",
				      (long)e->off_times[k] - (long)T0, e->off_weights[k]);
		lines[i] = strdup(buf);
		ck_assert_ptr_nonnull(lines[i]);
	}
	for (size_t i = 0; i < s.n; i++)
		for (size_t k = i + 1; k < s.n; k++)
			if (strcmp(lines[k], lines[i]) < 0) {
				char *x = lines[i];

				lines[i] = lines[k];
				lines[k] = x;
			}
	out[0] = '\0';
	for (size_t i = 0; i < s.n; i++) {
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s\n", lines[i]);
		free(lines[i]);
	}
	return out;
}

static int stop_at_first(void *ctx, const struct judge_entry *e)
{
	(void)e;
	(*(int *)ctx)++;
	return 7;
}

START_TEST(walk_restore)
{
	static struct saved s;
	struct judge *a, *b;
	static char before[sizeof(evlog)];
	int calls = 0;

	rules_default();
	a = mk(NULL);
	/* a repeat offender, banned now for the third time */
	see(a, T0, "203.0.113.10", CLASS_VIRUS);
	see(a, T0 + 12 * H, "203.0.113.10", CLASS_VIRUS);
	see(a, T0 + 36 * H, "203.0.113.10", CLASS_SPAM);
	/* a single earlier ban, over */
	see(a, T0, "203.0.113.11", CLASS_UNKNOWN_RECIPIENT);
	/* offences under the threshold */
	see(a, T0 + 36 * H, "2001:db8:7::1", CLASS_AUTH);
	see(a, T0 + 36 * H + 5, "2001:db8:7::2", CLASS_AUTH);
	take();
	ck_assert_str_eq(dump(a),
			 "2001:db8:7::/64 until=+0 start=+0 unknown-recipient n=0 bans= "
			 "offs=+129600/200,+129605/200,\n"
			 "203.0.113.10 until=+302400 start=+129600 spam n=1 "
			 "bans=+0,+43200,+129600, offs=\n"
			 "203.0.113.11 until=+43200 start=+0 unknown-recipient n=1 bans=+0, offs=\n");
	snprintf(before, sizeof(before), "%s", dump(a));
	ck_assert_int_eq(judge_walk(a, stop_at_first, &calls), 7);
	ck_assert_int_eq(calls, 1);

	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(judge_walk(a, save_one, &s), 0);
	b = mk(NULL);
	for (size_t i = 0; i < s.n; i++)
		ck_assert_int_eq(judge_restore(b, &s.e[i], T0 + 36 * H + 10), 0);
	ck_assert_str_eq(dump(b), before);
	ck_assert_uint_eq(judge_active_bans(b, T0 + 36 * H + 10), 1);
	ck_assert_str_eq(take(), "");

	/* the restored judge decides as the first would */
	see(a, T0 + 36 * H + 20, "2001:db8:7::3", CLASS_AUTH);
	see(a, T0 + 36 * H + 21, "2001:db8:7::3", CLASS_AUTH);
	see(a, T0 + 36 * H + 22, "2001:db8:7::3", CLASS_AUTH);
	see(a, T0 + 84 * H, "203.0.113.10", CLASS_VIRUS);
	see(a, T0 + 84 * H, "203.0.113.11", CLASS_VIRUS);
	snprintf(before, sizeof(before), "%s", take());
	see(b, T0 + 36 * H + 20, "2001:db8:7::3", CLASS_AUTH);
	see(b, T0 + 36 * H + 21, "2001:db8:7::3", CLASS_AUTH);
	see(b, T0 + 36 * H + 22, "2001:db8:7::3", CLASS_AUTH);
	see(b, T0 + 84 * H, "203.0.113.10", CLASS_VIRUS);
	see(b, T0 + 84 * H, "203.0.113.11", CLASS_VIRUS);
	ck_assert_str_eq(take(), before);
	ck_assert_str_eq(before, "offence 2001:db8:7::/64 auth w=200\n"
			 "offence 2001:db8:7::/64 auth w=200\n"
			 "offence 2001:db8:7::/64 auth w=200\n"
			 "ban 2001:db8:7::/64 auth pat d=43200 n=5 e=0\n"
			 "offence 203.0.113.10 virus w=1000\n"
			 "ban 203.0.113.10 virus pat d=345600 n=1 e=3\n"
			 "offence 203.0.113.11 virus w=1000\n"
			 "ban 203.0.113.11 virus pat d=86400 n=1 e=1\n");
	judge_free(a);
	judge_free(b);
}
END_TEST

START_TEST(restore_drops_stale)
{
	struct judge *j;
	uint32_t offt[1] = { (uint32_t)T0 }, offw[1] = { 200 };
	uint32_t bans[1] = { (uint32_t)T0 };
	struct judge_entry e = {
		.addr = A("203.0.113.10"), .noffences = 1, .off_times = offt, .off_weights = offw,
	};

	rules_default();
	j = mk(NULL);
	/* an offence older than findtime: nothing worth keeping */
	ck_assert_int_eq(judge_restore(j, &e, T0 + 12 * H), 0);
	ck_assert_uint_eq(judge_tracked(j), 0);
	ck_assert_int_eq(judge_restore(j, &e, T0 + 12 * H - 1), 0);
	ck_assert_uint_eq(judge_tracked(j), 1);
	judge_free(j);

	/* a ban that ended, started longer than repeat_window ago */
	j = mk(NULL);
	e = (struct judge_entry){
		.addr = A("203.0.113.11"), .ban_until = T0 + 12 * H, .ban_start = T0,
		.ban_class = CLASS_VIRUS, .nbans = 1, .ban_times = bans,
	};
	ck_assert_int_eq(judge_restore(j, &e, T0 + 30 * D), 0);
	ck_assert_uint_eq(judge_tracked(j), 0);
	ck_assert_int_eq(judge_restore(j, &e, T0 + 30 * D - 1), 0);
	ck_assert_uint_eq(judge_tracked(j), 1);
	ck_assert_uint_eq(judge_active_bans(j, T0 + 30 * D - 1), 0);
	/* a running ban is kept and counts */
	e.addr = A("203.0.113.12");
	e.ban_until = T0 + 40 * D;
	ck_assert_int_eq(judge_restore(j, &e, T0 + 35 * D), 0);
	ck_assert_uint_eq(judge_active_bans(j, T0 + 35 * D), 1);
	ck_assert_str_eq(take(), "");
	/* and expires as one the judge set itself */
	judge_expire(j, T0 + 40 * D, 10);
	ck_assert_str_eq(take(), "expired 203.0.113.12 at=+3456000\n");
	judge_free(j);
}
END_TEST

/* --- judging later --- */

/* Every event of one judge, in order, with the sighting it came from. */
struct evbuf {
	char *p;
	size_t len, cap;
};

static void on_event_buf(void *ctx, const struct judge_event *e)
{
	struct evbuf *b = ctx;
	char a[ADDR_STRLEN];
	char line[256];
	int n;

	n = snprintf(line, sizeof(line), "%d %s %s %s %ld %ld %u %u %u %s %llu\n", (int)e->kind,
		     fmt_addr(&e->addr, a), class_name(e->cls), names_get(e->pattern),
		     (long)e->time, e->duration, e->weight, e->offences, e->earlier_bans,
		     e->reason ? e->reason : "-", e->s ? (unsigned long long)e->s->origin.line : 0ULL);
	ck_assert_int_gt(n, 0);
	ck_assert_int_lt(n, (int)sizeof(line));
	if (b->len + (size_t)n + 1 > b->cap) {
		b->cap = 2 * (b->len + (size_t)n + 1);
		b->p = realloc(b->p, b->cap);
		ck_assert_ptr_nonnull(b->p);
	}
	memcpy(b->p + b->len, line, (size_t)n + 1);
	b->len += (size_t)n;
}

/*
 * judge_offence_later against judge_offence over a random stream that
 * mixes offences (valid, invalid, loopback, whitelisted, weak ones) with
 * every other call: the same events in the same order, whenever the
 * flushes come. A small table makes eviction happen too.
 */
START_TEST(later_same_events)
{
	static const enum class_id cls[] = { CLASS_AUTH, CLASS_UNKNOWN_RECIPIENT, CLASS_SPAM,
					     CLASS_PROTOCOL };
	struct evbuf now = { 0 }, later = { 0 };
	struct whitelist wl;
	struct diag d = { 0 };
	char wl0[] = "198.51.100.0/28";
	char *wls[] = { wl0 };
	struct judge *a, *b;
	uint64_t rng = 42;
	time_t t = T0;
	size_t waiting = 0, deferred = 0;

	rules_default();
	R.threshold = 3 * WEIGHT_ONE;
	R.max_tracked = 24;
	ck_assert_int_eq(whitelist_init(&wl, wls, 1, "test", &d), 0);
	a = judge_new(&R, &wl, on_event_buf, &now);
	b = judge_new(&R, &wl, on_event_buf, &later);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	for (int i = 0; i < 20000; i++) {
		unsigned r, what;
		char text[64];
		struct sighting s = { .pattern = P("pat"), .origin = { 1, (uint64_t)i } };

		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		r = (unsigned)(rng >> 11);
		what = r % 100;
		t += (time_t)(r >> 8) % 900;
		if (what < 80) {
			unsigned host = (r >> 16) % 40;

			if (host == 0)
				snprintf(text, sizeof(text), "not-an-address");
			else if (host == 1)
				snprintf(text, sizeof(text), "127.0.0.1");
			else if (host < 4)
				snprintf(text, sizeof(text), "198.51.100.%u", host);
			else if (host < 30)
				snprintf(text, sizeof(text), "203.0.113.%u", host);
			else
				snprintf(text, sizeof(text), "2001:db8:%x::%u", host, r % 7);
			s.time = t;
			s.cls = cls[(r >> 4) % 4];
			s.weight = (r >> 6) % 3 ? WEIGHT_ONE : WEIGHT_ONE / 2;
			s.addr_ok = addr_parse(text, strlen(text), &s.addr) == 0;
			s.addr_text = text;
			s.addr_len = strlen(text);
			judge_offence(a, &s);
			judge_offence_later(b, &s);
			if (s.addr_ok)
				deferred++;
			/* the caller's copy is gone: the judge must not need it */
			memset(&s, 0xa5, sizeof(s));
			memset(text, 'x', sizeof(text) - 1);
		} else if (what < 88) {
			judge_flush(b);
		} else if (what < 92) {
			judge_expire(a, t, 7);
			judge_expire(b, t, 7);
		} else if (what < 95) {
			struct addr x = A("203.0.113.7");
			const char *w1, *w2;

			ck_assert_int_eq(judge_ban(a, &x, t, 0, 0, &w1),
					 judge_ban(b, &x, t, 0, 0, &w2));
		} else if (what < 98) {
			struct addr x = A("203.0.113.7");

			ck_assert_int_eq(judge_unban(a, &x, t, what == 97),
					 judge_unban(b, &x, t, what == 97));
		} else {
			ck_assert_uint_eq(judge_active_bans(a, t), judge_active_bans(b, t));
			ck_assert_uint_eq(judge_tracked(a), judge_tracked(b));
		}
		/* b may be behind by the sightings it holds, never ahead */
		if (later.len < now.len)
			waiting++;
		ck_assert_msg(later.len <= now.len && memcmp(later.p ? later.p : "",
							     now.p ? now.p : "", later.len) == 0,
			      "the events differ by step %d", i);
	}
	judge_flush(b);
	ck_assert_uint_eq(later.len, now.len);
	ck_assert_str_eq(later.p, now.p);
	/* the stream did make it wait, and did ban */
	ck_assert_uint_gt(waiting, 1000);
	ck_assert_uint_gt(deferred, 10000);
	ck_assert_ptr_nonnull(strstr(now.p, "\n2 "));
	judge_free(a);
	judge_free(b);
	whitelist_free(&wl);
	diag_free(&d);
	free(now.p);
	free(later.p);
}
END_TEST

/* --- once per message, once per session, notes (judge.h) --- */

/* A sighting of a given session and message; note: the pattern's. */
static void see_in(struct judge *j, time_t t, const char *addr, enum class_id cls,
		   uint32_t pweight, bool note, uint64_t session, uint64_t qid_key)
{
	struct sighting s = {
		.time = t, .cls = cls, .pattern = P("pat"), .weight = pweight, .note = note,
		.session = session, .qid_key = qid_key,
	};

	ck_assert_int_eq(addr_parse(addr, strlen(addr), &s.addr), 0);
	s.addr_ok = true;
	judge_offence(j, &s);
}

static void accepted(struct judge *j, time_t t, const char *addr)
{
	struct sighting s = { .time = t, .cls = CLASS_CONTEXT, .accepted = true };

	ck_assert_int_eq(addr_parse(addr, strlen(addr), &s.addr), 0);
	s.addr_ok = true;
	judge_offence(j, &s);
}

START_TEST(once_per_session)
{
	struct judge *j;

	rules_default();
	j = mk(NULL);
	/* an EHLO and its HELO retry: one helo offence (0.5), no ban */
	see_in(j, T0, "203.0.113.10", CLASS_HELO, WEIGHT_ONE, false, 7, 0);
	see_in(j, T0, "203.0.113.10", CLASS_HELO, WEIGHT_ONE, false, 7, 0);
	ck_assert_str_eq(take(), "offence 203.0.113.10 helo w=500\n"
			 "ignored 203.0.113.10 helo same-session\n");
	/* unknown recipients are attempts of their own, in one session too */
	see_in(j, T0 + 1, "203.0.113.11", CLASS_AUTH, WEIGHT_ONE, false, 7, 0);
	see_in(j, T0 + 1, "203.0.113.11", CLASS_AUTH, WEIGHT_ONE, false, 7, 0);
	ck_assert_str_eq(take(), "offence 203.0.113.11 auth w=200\n"
			 "offence 203.0.113.11 auth w=200\n");
	/* the next session counts again, and bans */
	see_in(j, T0 + 2, "203.0.113.10", CLASS_HELO, WEIGHT_ONE, false, 8, 0);
	ck_assert_str_eq(take(), "offence 203.0.113.10 helo w=500\n"
			 "ban 203.0.113.10 helo pat d=43200 n=2 e=0\n");
	/* a session's window: past it, one process's lines count again */
	see_in(j, T0, "203.0.113.12", CLASS_DNSBL, WEIGHT_ONE, false, 9, 0);
	see_in(j, T0 + JUDGE_SESSION_WINDOW, "203.0.113.12", CLASS_DNSBL, WEIGHT_ONE, false, 9, 0);
	ck_assert_str_eq(take(), "offence 203.0.113.12 dnsbl w=500\n"
			 "offence 203.0.113.12 dnsbl w=500\n"
			 "ban 203.0.113.12 dnsbl pat d=43200 n=2 e=0\n");
	judge_free(j);
}
END_TEST

START_TEST(once_per_message)
{
	struct judge *j;

	rules_default();
	R.classes[CLASS_SPAM].weight = 500;
	j = mk(NULL);
	/* MIMEDefang's line per recipient: one spam offence of 0.5 */
	see_in(j, T0, "203.0.113.20", CLASS_SPAM, WEIGHT_ONE, false, 0, 42);
	see_in(j, T0, "203.0.113.20", CLASS_SPAM, WEIGHT_ONE, false, 0, 42);
	ck_assert_str_eq(take(), "offence 203.0.113.20 spam w=500\n"
			 "ignored 203.0.113.20 spam same-message\n");
	/* another class of the same message counts */
	see_in(j, T0 + 1, "203.0.113.20", CLASS_VIRUS, WEIGHT_ONE, false, 0, 42);
	ck_assert_str_eq(take(), "offence 203.0.113.20 virus w=1000\n"
			 "ban 203.0.113.20 virus pat d=43200 n=2 e=0\n");
	/* the keys outlive the ban for their repeats: the MTA's line of the
	 * same verdict, while the ban runs */
	see_in(j, T0 + 2, "203.0.113.20", CLASS_VIRUS, WEIGHT_ONE, false, 0, 42);
	see_in(j, T0 + 3, "203.0.113.20", CLASS_SPAM, WEIGHT_ONE, false, 0, 42);
	ck_assert_str_eq(take(), "ignored 203.0.113.20 virus same-message\n"
			 "ignored 203.0.113.20 spam same-message\n");
	/* a message that banned at once keeps its key too */
	see_in(j, T0, "203.0.113.21", CLASS_VIRUS, WEIGHT_ONE, false, 0, 43);
	see_in(j, T0 + 1, "203.0.113.21", CLASS_VIRUS, WEIGHT_ONE, false, 0, 43);
	see_in(j, T0 + 2, "203.0.113.21", CLASS_VIRUS, WEIGHT_ONE, false, 0, 44);
	ck_assert_str_eq(take(), "offence 203.0.113.21 virus w=1000\n"
			 "ban 203.0.113.21 virus pat d=43200 n=1 e=0\n"
			 "ignored 203.0.113.21 virus same-message\n"
			 "offence 203.0.113.21 virus w=1000\n");
	/* unknown recipients of one message are attempts of their own */
	see_in(j, T0, "203.0.113.22", CLASS_UNKNOWN_RECIPIENT, 500, false, 0, 45);
	see_in(j, T0, "203.0.113.22", CLASS_UNKNOWN_RECIPIENT, 500, false, 0, 45);
	ck_assert_str_eq(take(), "offence 203.0.113.22 unknown-recipient w=500\n"
			 "offence 203.0.113.22 unknown-recipient w=500\n"
			 "ban 203.0.113.22 unknown-recipient pat d=43200 n=2 e=0\n");
	judge_free(j);
}
END_TEST

START_TEST(notes)
{
	struct judge *j;

	rules_default();
	j = mk(NULL);
	/* a thousand reverse-DNS notes (0.01 each) never ban alone: they
	 * count half the threshold at most */
	for (int i = 0; i < 1000; i++)
		see_in(j, T0 + i, "198.51.100.30", CLASS_HELO, 20, true, (uint64_t)i, 0);
	ck_assert_uint_eq(judge_active_bans(j, T0 + 1000), 0);
	take();
	/* with a real offence of half the threshold they tip it, and the
	 * ban's count of offences leaves them out */
	see_in(j, T0 + 1000, "198.51.100.30", CLASS_HELO, WEIGHT_ONE, false, 5000, 0);
	ck_assert_str_eq(take(), "offence 198.51.100.30 helo w=500\n"
			 "ban 198.51.100.30 helo pat d=43200 n=1 e=0\n");
	/* accepted mail drops an address's notes: then the same offence
	 * does not ban */
	for (int i = 0; i < 60; i++)
		see_in(j, T0 + 2000 + i, "198.51.100.31", CLASS_PROTOCOL, 200, true, (uint64_t)i, 0);
	take();
	accepted(j, T0 + 2060, "198.51.100.31");
	see_in(j, T0 + 2061, "198.51.100.31", CLASS_HELO, WEIGHT_ONE, false, 5001, 0);
	ck_assert_str_eq(take(), "offence 198.51.100.31 helo w=500\n");
	/* without the accepted mail, the same offence would have banned */
	for (int i = 0; i < 60; i++)
		see_in(j, T0 + 3000 + i, "198.51.100.33", CLASS_PROTOCOL, 200, true, (uint64_t)i, 0);
	take();
	see_in(j, T0 + 3061, "198.51.100.33", CLASS_HELO, WEIGHT_ONE, false, 5001, 0);
	ck_assert_str_eq(take(), "offence 198.51.100.33 helo w=500\n"
			 "ban 198.51.100.33 helo pat d=43200 n=1 e=0\n");
	judge_free(j);
}
END_TEST

/* Notes are never kept in state: the walk leaves them out. */
static int count_offences(void *ctx, const struct judge_entry *e)
{
	*(unsigned *)ctx += e->noffences;
	return 0;
}

START_TEST(notes_not_kept)
{
	struct judge *j;
	unsigned n = 0;

	rules_default();
	j = mk(NULL);
	see_in(j, T0, "198.51.100.32", CLASS_HELO, 20, true, 1, 0);
	see_in(j, T0 + 1, "198.51.100.32", CLASS_HELO, 20, true, 2, 0);
	see_in(j, T0 + 2, "198.51.100.32", CLASS_AUTH, WEIGHT_ONE, false, 3, 0);
	ck_assert_int_eq(judge_walk(j, count_offences, &n), 0);
	ck_assert_uint_eq(n, 1);
	judge_free(j);
}
END_TEST

struct origin_query {
	struct addr a;
	uint32_t origin;
};

static int walk_origin(void *ctx, const struct judge_entry *e)
{
	struct origin_query *q = ctx;

	if (memcmp(&e->addr, &q->a, sizeof(q->a)) == 0)
		q->origin = e->ban_origin;
	return 0;
}

/* --- the fleet's calls --- */

static struct judge_foreign foreign(const char *addr, time_t start, long duration,
				    const char *origin)
{
	struct judge_foreign f = {
		.addr = A(addr), .start = start, .until = start + duration,
		.cls = CLASS_SPAMTRAP, .pattern = P("trap"), .origin = P(origin), .offences = 1,
	};

	return f;
}

static uint32_t origin_of(struct judge *j, const char *addr)
{
	struct origin_query q = { A(addr), UINT32_MAX };

	judge_walk(j, walk_origin, &q);
	return q.origin;
}

START_TEST(adopt_foreign_ban)
{
	char *wlv[] = { "192.0.2.0/24" };
	struct whitelist wl;
	struct diag d = { 0 };
	struct judge_foreign f = foreign("203.0.113.10", T0, 12 * H, "mx1");
	const char *why = NULL;
	struct judge *j;

	rules_default();
	ck_assert_int_eq(whitelist_init(&wl, wlv, 1, "t", &d), 0);
	j = mk(&wl);
	ck_assert_int_eq(judge_adopt(j, &f, T0 + 10, &why), 0);
	ck_assert_str_eq(take(), "ban 203.0.113.10 spamtrap trap d=43200 n=1 e=0 from=mx1 "
			 "received\n");
	ck_assert_uint_eq(origin_of(j, "203.0.113.10"), P("mx1"));
	/* the same again, or shorter: had already */
	ck_assert_int_eq(judge_adopt(j, &f, T0 + 20, &why), 1);
	f.until -= H;
	ck_assert_int_eq(judge_adopt(j, &f, T0 + 20, &why), 1);
	/* longer: the running ban lasts until its end, same start, no new ban in the history */
	f = foreign("203.0.113.10", T0 + 30, 24 * H, "mx2");
	ck_assert_int_eq(judge_adopt(j, &f, T0 + 30, &why), 2);
	ck_assert_str_eq(take(), "ban 203.0.113.10 spamtrap trap d=86430 n=1 e=0 from=mx1 "
			 "received renewed\n");
	/* whitelisted here, or loopback: refused, saying why */
	f = foreign("192.0.2.7", T0, H, "mx1");
	ck_assert_int_eq(judge_adopt(j, &f, T0, &why), -1);
	ck_assert_str_eq(why, "whitelist");
	f = foreign("127.0.0.1", T0, H, "mx1");
	ck_assert_int_eq(judge_adopt(j, &f, T0, &why), -1);
	ck_assert_str_eq(why, "loopback");
	ck_assert_str_eq(take(), "");
	judge_free(j);
	whitelist_free(&wl);
}
END_TEST

/* A ban lifted here (or run out) does not come back from the fleet; a later one does. */
START_TEST(adopt_after_lift)
{
	struct judge_foreign f = foreign("203.0.113.11", T0, 12 * H, "mx1");
	struct addr ours = A("203.0.113.16");
	const char *why = NULL;
	struct judge *j;

	rules_default();
	j = mk(NULL);
	ck_assert_int_eq(judge_adopt(j, &f, T0, &why), 0);
	ck_assert_int_eq(judge_unban(j, &f.addr, T0 + 60, false), 0);
	take();
	ck_assert_int_eq(judge_adopt(j, &f, T0 + 70, &why), -1);
	ck_assert_str_eq(why, "ended here");
	/* another host's ban begun in the same second is another ban */
	f = foreign("203.0.113.11", T0, 12 * H, "mx2");
	ck_assert_int_eq(judge_adopt(j, &f, T0 + 80, &why), 0);
	ck_assert_int_eq(judge_unban(j, &f.addr, T0 + 90, false), 0);
	take();
	/* a ban begun later is another ban: applied, and it escalates */
	f = foreign("203.0.113.11", T0 + 100, 24 * H, "mx3");
	f.earlier = 1;
	ck_assert_int_eq(judge_adopt(j, &f, T0 + 100, &why), 0);
	ck_assert_str_eq(take(), "ban 203.0.113.11 spamtrap trap d=86400 n=1 e=1 from=mx3 "
			 "received\n");
	/* the fleet's bans count for escalation here */
	ck_assert_int_eq(judge_unban(j, &f.addr, T0 + 200, false), 0);
	take();
	see(j, T0 + 300, "203.0.113.11", CLASS_VIRUS);
	ck_assert_str_eq(take(), "offence 203.0.113.11 virus w=1000\n"
			 "ban 203.0.113.11 virus pat d=345600 n=1 e=3\n");
	ck_assert_uint_eq(origin_of(j, "203.0.113.11"), 0);
	/* a ban of ours lifted here is not another host's of the same second */
	see(j, T0 + 400, "203.0.113.16", CLASS_VIRUS);
	ck_assert_int_eq(judge_unban(j, &ours, T0 + 401, false), 0);
	take();
	f = foreign("203.0.113.16", T0 + 400, 24 * H, "mx4");
	ck_assert_int_eq(judge_adopt(j, &f, T0 + 402, &why), 0);
	ck_assert_uint_eq(origin_of(j, "203.0.113.16"), P("mx4"));
	judge_free(j);
}
END_TEST

START_TEST(unban_received_spares_later_bans)
{
	struct judge_foreign f = foreign("203.0.113.12", T0, 12 * H, "mx1");
	struct addr a = A("203.0.113.12");
	const char *why = NULL;
	struct judge *j;

	rules_default();
	j = mk(NULL);
	ck_assert_int_eq(judge_adopt(j, &f, T0, &why), 0);
	take();
	/* an unban from before the ban began: the ban stays */
	ck_assert_int_eq(judge_unban_received(j, &a, T0 + 10, T0 - 1, false, P("mx2")), -1);
	ck_assert_int_eq(judge_unban_received(j, &a, T0 + 10, T0 + 5, false, P("mx2")), 0);
	ck_assert_str_eq(take(), "unban 203.0.113.12 spamtrap by=mx2\n");
	ck_assert_int_eq(judge_unban_received(j, &a, T0 + 10, T0 + 5, false, P("mx2")), -1);
	judge_free(j);
}
END_TEST

START_TEST(ban_decided_by_the_fleet)
{
	struct addr a = A("203.0.113.13");
	const char *why = NULL;
	struct judge *j;

	rules_default();
	j = mk(NULL);
	/* half a weight here: counted, no ban; the fleet's sum decides */
	see_full(j, T0, "203.0.113.13", CLASS_HELO, WEIGHT_ONE, false, 0);
	take();
	ck_assert_int_eq(judge_ban_decided(j, &a, T0 + 1, CLASS_HELO, P("pat"), 2, 3, &why), 0);
	ck_assert_str_eq(take(), "ban 203.0.113.13 helo pat d=345600 n=2 e=3\n");
	ck_assert_int_eq(judge_ban_decided(j, &a, T0 + 2, CLASS_HELO, P("pat"), 2, 0, &why), 1);
	/* the offences counted here went with the ban */
	ck_assert_int_eq(judge_unban(j, &a, T0 + 3, false), 0);
	take();
	see_full(j, T0 + 4, "203.0.113.13", CLASS_HELO, WEIGHT_ONE, false, 0);
	ck_assert_str_eq(take(), "offence 203.0.113.13 helo w=500\n");
	judge_free(j);
}
END_TEST

START_TEST(extend_by_the_fleets_history)
{
	struct addr a = A("203.0.113.14");
	struct judge *j;

	rules_default();
	j = mk(NULL);
	see(j, T0, "203.0.113.14", CLASS_VIRUS);
	take();
	ck_assert_int_eq(judge_extend(j, &a, T0 + 5, 2), 0);
	ck_assert_str_eq(take(), "ban 203.0.113.14 virus pat d=172800 n=1 e=2 renewed\n");
	ck_assert_uint_eq(judge_active_bans(j, T0 + 47 * H), 1);
	a = A("203.0.113.15");
	ck_assert_int_eq(judge_extend(j, &a, T0 + 5, 2), -1);
	judge_free(j);
}
END_TEST

static Suite *judge_suite(void)
{
	Suite *s = suite_create("judge");
	TCase *tc = tcase_create("rules");
	TCase *tm = tcase_create("manual");

	/* later_same_events: generated cases, seconds under ASan */
	tcase_set_timeout(tc, UNIT_HEAVY_TIMEOUT);
	tcase_add_test(tc, threshold_one);
	tcase_add_test(tc, threshold_three);
	tcase_add_test(tc, findtime_edges);
	tcase_add_test(tc, weights);
	tcase_add_test(tc, below_then_sure);
	tcase_add_test(tc, min_score);
	tcase_add_test(tc, disabled_class);
	tcase_add_test(tc, escalation);
	tcase_add_test(tc, repeat_window);
	tcase_add_test(tc, no_second_ban);
	tcase_add_test(tc, ipv6_prefix);
	tcase_add_test(tc, ipv4_prefix);
	tcase_add_test(tc, never_banned);
	tcase_add_test(tc, max_tracked);
	tcase_add_test(tc, max_tracked_all_banned);
	tcase_add_test(tc, later_same_events);
	tcase_add_test(tc, once_per_session);
	tcase_add_test(tc, once_per_message);
	tcase_add_test(tc, notes);
	tcase_add_test(tc, notes_not_kept);
	suite_add_tcase(s, tc);
	tcase_add_test(tm, manual_ban);
	tcase_add_test(tm, unban);
	tcase_add_test(tm, expire);
	tcase_add_test(tm, expire_budget);
	tcase_add_test(tm, walk_restore);
	tcase_add_test(tm, restore_drops_stale);
	tcase_add_test(tm, adopt_foreign_ban);
	tcase_add_test(tm, adopt_after_lift);
	tcase_add_test(tm, unban_received_spares_later_bans);
	tcase_add_test(tm, ban_decided_by_the_fleet);
	tcase_add_test(tm, extend_by_the_fleets_history);
	suite_add_tcase(s, tm);
	return s;
}

UNIT_MAIN(judge_suite)
