/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "names.h"
#include "state.h"
#include "unit.h"

#define T0 1795000000L	/* 2026-11-18 */

static char dir[256];
static struct state *st;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sw-check-state-%d-XXXXXX", (int)getpid());
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void rules(struct judge_rules *r)
{
	memset(r, 0, sizeof(*r));
	r->threshold = WEIGHT_ONE;
	r->findtime = 3600;
	r->bantime = 600;
	r->bantime_max = 86400;
	r->bantime_factor = 2;
	r->repeat_window = 86400;
	r->ipv4_prefix = 32;
	r->ipv6_prefix = 64;
	r->max_tracked = 1000;
	for (int c = 0; c < CLASS_COUNT; c++) {
		r->classes[c].enabled = true;
		r->classes[c].weight = class_default_weight((enum class_id)c);
	}
}

/* The daemon's sink in miniature: every decision goes to the state. */
static void to_state(void *ctx, const struct judge_event *e)
{
	state_event(ctx, e);
}

static void offend(struct judge *j, const char *a, enum class_id c, time_t t)
{
	struct sighting s = {
		.time = t, .cls = c, .pattern = names_intern("p", 1), .weight = WEIGHT_ONE,
		.addr_ok = true,
	};

	ck_assert_int_eq(addr_parse(a, strlen(a), &s.addr), 0);
	judge_offence(j, &s);
}

struct found {
	char addr[ADDR_STRLEN];
	time_t until;
	unsigned nbans, noff;
	uint32_t origin;
};

static int find_cb(void *ctx, const struct judge_entry *e)
{
	struct found *f = ctx;
	char a[ADDR_STRLEN];

	if (strcmp(addr_format(&e->addr, a), f->addr) == 0) {
		f->until = e->ban_until;
		f->nbans = e->nbans;
		f->noff = e->noffences;
		f->origin = e->ban_origin;
		return 1;
	}
	return 0;
}

static int lookup(struct judge *j, const char *a, struct found *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->addr, sizeof(f->addr), "%s", a);
	return judge_walk(j, find_cb, f);
}

/* A new start: the state reopened and loaded into a new judge; pos, when
 * given, receives the positions and links. */
static struct judge *reload_with(time_t now, const struct state_positions *pos, struct diag *d)
{
	struct judge_rules r;
	struct judge *j;

	rules(&r);
	state_close(st);
	ck_assert_int_eq(state_open(dir, &st, d), 0);
	j = judge_new(&r, NULL, to_state, st);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(state_load(st, j, now, pos, d), 0);
	return j;
}

static struct judge *reload(time_t now, struct diag *d)
{
	return reload_with(now, NULL, d);
}

START_TEST(round_trip)
{
	struct judge_rules r;
	struct diag d = { 0 };
	struct judge *j;
	struct found f;

	rules(&r);
	ck_assert_int_eq(state_open(dir, &st, &d), 0);
	j = judge_new(&r, NULL, to_state, st);
	offend(j, "203.0.113.1", CLASS_SPAM, T0);		/* ban 600 s */
	offend(j, "203.0.113.1", CLASS_SPAM, T0 + 700);	/* second ban: 1200 s */
	offend(j, "198.51.100.2", CLASS_AUTH, T0 + 10);	/* 0.2: below threshold */
	offend(j, "198.51.100.2", CLASS_AUTH, T0 + 20);
	offend(j, "2001:db8:1:2::5", CLASS_VIRUS, T0 + 30);
	ck_assert_int_eq(state_flush(st), 0);
	judge_free(j);

	j = reload(T0 + 800, &d);
	ck_assert_int_eq(d.n, 0);
	ck_assert_int_eq(lookup(j, "203.0.113.1", &f), 1);
	ck_assert_int_eq(f.until, T0 + 700 + 1200);
	ck_assert_uint_eq(f.nbans, 2);
	ck_assert_int_eq(lookup(j, "198.51.100.2", &f), 1);
	ck_assert_uint_eq(f.noff, 2);
	ck_assert_int_eq(f.until, 0);
	/* its ban ran out before the restart; the history stays for escalation */
	ck_assert_int_eq(lookup(j, "2001:db8:1:2::/64", &f), 1);
	ck_assert_int_eq(f.until, 0);
	ck_assert_uint_eq(f.nbans, 1);

	/* the remembered offences still count: three more make five */
	offend(j, "198.51.100.2", CLASS_AUTH, T0 + 801);
	offend(j, "198.51.100.2", CLASS_AUTH, T0 + 802);
	ck_assert_int_eq(lookup(j, "198.51.100.2", &f), 1);
	ck_assert_int_eq(f.until, 0);
	offend(j, "198.51.100.2", CLASS_AUTH, T0 + 803);
	ck_assert_int_eq(lookup(j, "198.51.100.2", &f), 1);
	ck_assert_int_eq(f.until, T0 + 803 + 600);
	ck_assert_int_eq(state_flush(st), 0);
	judge_free(j);

	/* escalation survives: the third ban of .1 lasts 4 x 600 */
	j = reload(T0 + 3000, &d);
	offend(j, "203.0.113.1", CLASS_SPAM, T0 + 3000);
	ck_assert_int_eq(lookup(j, "203.0.113.1", &f), 1);
	ck_assert_int_eq(f.until, T0 + 3000 + 2400);
	/* outside the windows, entries are gone */
	judge_free(j);
	state_flush(st);
	j = reload(T0 + 10 * 86400, &d);
	ck_assert_uint_eq(judge_tracked(j), 0);
	judge_free(j);
	state_close(st);
	st = NULL;
	diag_free(&d);
}
END_TEST

START_TEST(unban_and_forget)
{
	struct judge_rules r;
	struct diag d = { 0 };
	struct judge *j;
	struct found f;
	struct addr a;

	rules(&r);
	ck_assert_int_eq(state_open(dir, &st, &d), 0);
	j = judge_new(&r, NULL, to_state, st);
	offend(j, "203.0.113.1", CLASS_SPAM, T0);
	offend(j, "203.0.113.2", CLASS_SPAM, T0);
	addr_parse("203.0.113.1", 11, &a);
	ck_assert_int_eq(judge_unban(j, &a, T0 + 1, false), 0);
	addr_parse("203.0.113.2", 11, &a);
	ck_assert_int_eq(judge_unban(j, &a, T0 + 1, true), 0);
	ck_assert_int_eq(state_flush(st), 0);
	judge_free(j);

	j = reload(T0 + 2, &d);
	ck_assert_int_eq(lookup(j, "203.0.113.1", &f), 1);	/* history kept */
	ck_assert_int_eq(f.until, 0);
	ck_assert_uint_eq(f.nbans, 1);
	ck_assert_int_eq(lookup(j, "203.0.113.2", &f), 0);	/* forgotten */
	judge_free(j);
	state_close(st);
	st = NULL;
	diag_free(&d);
}
END_TEST

static void append_raw(const char *text)
{
	char path[300];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/spamwrath.state", dir);
	fp = fopen(path, "a");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
}

static void corrupt_line(int n)
{
	char path[300], buf[65536];
	FILE *fp;
	size_t len;
	int line = 1;

	snprintf(path, sizeof(path), "%s/spamwrath.state", dir);
	fp = fopen(path, "r+");
	ck_assert_ptr_nonnull(fp);
	len = fread(buf, 1, sizeof(buf), fp);
	for (size_t i = 0; i < len; i++) {
		if (line == n && buf[i] >= '0' && buf[i] <= '8') {
			buf[i]++;	/* one digit off: the checksum must notice */
			break;
		}
		if (buf[i] == '\n')
			line++;
	}
	rewind(fp);
	ck_assert_uint_eq(fwrite(buf, 1, len, fp), len);
	fclose(fp);
}

START_TEST(damage)
{
	struct judge_rules r;
	struct diag d = { 0 };
	struct judge *j;
	struct found f;
	char path[300];

	rules(&r);
	ck_assert_int_eq(state_open(dir, &st, &d), 0);
	j = judge_new(&r, NULL, to_state, st);
	offend(j, "203.0.113.1", CLASS_SPAM, T0);
	offend(j, "203.0.113.2", CLASS_SPAM, T0);
	offend(j, "203.0.113.3", CLASS_SPAM, T0);
	ck_assert_int_eq(state_flush(st), 0);
	judge_free(j);
	state_close(st);
	st = NULL;
	/* file: header? no - a fresh file starts with the first record */
	corrupt_line(2);			/* the ban of .2 */
	append_raw("garbage that is no record\n");
	append_raw("ban 203.0.113.9 1795000000 1795000600 spam p 1 *0000");	/* torn */

	j = reload(T0 + 1, &d);
	ck_assert_int_eq(lookup(j, "203.0.113.1", &f), 1);
	ck_assert_int_eq(lookup(j, "203.0.113.2", &f), 0);
	ck_assert_int_eq(lookup(j, "203.0.113.3", &f), 1);
	ck_assert_int_eq(lookup(j, "203.0.113.9", &f), 0);
	ck_assert_uint_eq(d.n, 3);		/* each dropped record said so */
	ck_assert_ptr_nonnull(strstr(d.msgs[0], "checksum mismatch"));
	ck_assert_ptr_nonnull(strstr(d.msgs[2], "torn"));
	judge_free(j);
	diag_free(&d);

	/* the load compacted: the file is whole again */
	j = reload(T0 + 2, &d);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_int_eq(lookup(j, "203.0.113.3", &f), 1);
	judge_free(j);
	state_close(st);
	st = NULL;

	/* a file of pure garbage: start anyway, empty */
	snprintf(path, sizeof(path), "%s/spamwrath.state", dir);
	{
		FILE *fp = fopen(path, "w");

		for (int i = 0; i < 100; i++)
			fputs("\x01\x02 not a record at all\n", fp);
		fclose(fp);
	}
	j = reload(T0 + 3, &d);
	ck_assert_uint_eq(judge_tracked(j), 0);
	ck_assert_uint_eq(d.n, 11);	/* ten reasons and one summary */
	judge_free(j);
	state_close(st);
	st = NULL;
	diag_free(&d);
}
END_TEST

static char saved_source[64];
static uint64_t saved_offset;
static char saved_cursor[64];

static void on_file(void *ctx, const struct state_file_pos *p)
{
	snprintf(saved_source, sizeof(saved_source), "%s", p->source);
	saved_offset = p->offset;
}

static void on_journal(void *ctx, const char *source, const char *cursor)
{
	snprintf(saved_cursor, sizeof(saved_cursor), "%s=%s", source, cursor);
}

START_TEST(positions)
{
	struct state_positions pos = { .file = on_file, .journal = on_journal };
	struct state_file_pos p = { "mail log", 2049, 1234, 100, 0xabcdef };
	struct diag d = { 0 };
	struct judge *j;

	ck_assert_int_eq(state_open(dir, &st, &d), 0);
	state_file_pos(st, &p);
	p.offset = 4096;
	state_file_pos(st, &p);
	state_journal_pos(st, "journal", "s=1;i=2;b=3");
	ck_assert_int_eq(state_flush(st), 0);
	state_close(st);
	st = NULL;
	for (int round = 0; round < 2; round++) {	/* before and after compaction */
		saved_offset = 0;
		saved_source[0] = saved_cursor[0] = '\0';
		j = reload_with(T0, &pos, &d);
		ck_assert_str_eq(saved_source, "mail log");
		ck_assert_uint_eq(saved_offset, 4096);
		ck_assert_str_eq(saved_cursor, "journal=s=1;i=2;b=3");
		judge_free(j);
		state_close(st);
		st = NULL;
	}
	ck_assert_uint_eq(d.n, 0);
	diag_free(&d);
}
END_TEST

/* A record with a good checksum, whatever its fields say. */
static void append_record(const char *text)
{
	char line[512];

	snprintf(line, sizeof(line), "%s *%08lx\n", text,
		 (unsigned long)crc32(0L, (const Bytef *)text, (uInt)strlen(text)));
	append_raw(line);
}

static char links_seen[512];

static void on_link(void *ctx, const char *qid, size_t len, const struct addr *a, time_t seen)
{
	char buf[ADDR_STRLEN];
	size_t n = strlen(links_seen);

	(void)ctx;
	snprintf(links_seen + n, sizeof(links_seen) - n, "%.*s=%s@%lld ", (int)len, qid,
		 addr_format(a, buf), (long long)(seen - T0));
}

static void no_sighting(void *ctx, const struct sighting *s)
{
	(void)ctx;
	(void)s;
	ck_abort_msg("a link alone made a sighting");
}

/* Links from queue ids to clients last one start: the stop writes them,
 * the next load hands them out, its compaction drops them. */
START_TEST(links)
{
	struct state_positions pos = { .link = on_link };
	struct diag d = { 0 };
	struct correlator c;
	struct judge *j;
	struct addr a;

	ck_assert_int_eq(correlator_init(&c, 100, 3600, no_sighting, NULL), 0);
	ck_assert_int_eq(addr_parse("203.0.113.5", 11, &a), 0);
	ck_assert_int_eq(correlator_link(&c, "4BC5D2A1F3", 10, &a, T0 + 1), 0);
	ck_assert_int_eq(addr_parse("2001:db8::25", 12, &a), 0);
	ck_assert_int_eq(correlator_link(&c, "4dTnLq0Zx9z3Qbc", 15, &a, T0 + 2), 0);
	ck_assert_int_eq(state_open(dir, &st, &d), 0);
	state_links(st, &c);
	ck_assert_int_eq(state_flush(st), 0);
	state_close(st);
	st = NULL;
	correlator_free(&c);
	/* what a damaged or hand-made file may hold instead */
	append_record("link 4BC5D2A1F3 203.0.113.5:25 1795000001");
	append_record("link 4BC5-D2A1 203.0.113.5 1795000001");
	append_record("link 4BC5D2A1F3 203.0.113.5");
	links_seen[0] = '\0';
	j = reload_with(T0 + 10, &pos, &d);
	/* least recently seen first, as the correlator keeps them */
	ck_assert_str_eq(links_seen, "4BC5D2A1F3=203.0.113.5@1 4dTnLq0Zx9z3Qbc=2001:db8::25@2 ");
	ck_assert_uint_eq(d.n, 3);
	for (size_t i = 0; i < d.n; i++)
		ck_assert_msg(strstr(d.msgs[i], "malformed link"), "%s", d.msgs[i]);
	diag_free(&d);
	ck_assert_int_eq(state_compact(st, j, T0 + 10, &d), 0);
	judge_free(j);
	/* the next start has none */
	links_seen[0] = '\0';
	j = reload_with(T0 + 20, &pos, &d);
	ck_assert_str_eq(links_seen, "");
	ck_assert_uint_eq(d.n, 0);
	judge_free(j);
	state_close(st);
	st = NULL;
	diag_free(&d);
}
END_TEST

START_TEST(one_daemon_per_directory)
{
	struct state *other;
	struct diag d = { 0 };

	ck_assert_int_eq(state_open(dir, &st, &d), 0);
	ck_assert_int_eq(state_open(dir, &other, &d), -1);
	ck_assert_ptr_nonnull(strstr(d.msgs[0], "another spamwrathd"));
	state_close(st);
	st = NULL;
	diag_free(&d);
}
END_TEST

START_TEST(unwritable)
{
	struct diag d = { 0 };
	char path[300];
	int fd;

	/* a file where the directory should be: an error at start */
	snprintf(path, sizeof(path), "%s/file", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(state_open(path, &st, &d), -1);
	ck_assert_uint_eq(d.errors, 1);
	st = NULL;
	diag_free(&d);
}
END_TEST

START_TEST(compaction)
{
	struct judge_rules r;
	struct diag d = { 0 };
	struct judge *j;
	struct stat sb;
	char path[300];
	off_t before;

	rules(&r);
	ck_assert_int_eq(state_open(dir, &st, &d), 0);
	j = judge_new(&r, NULL, to_state, st);
	/* the same address banned again and again: the log grows, the
	 * snapshot keeps only what escalation needs */
	for (int i = 0; i < 2000; i++)
		offend(j, "203.0.113.7", CLASS_SPAM, T0 + i * 100000L);
	ck_assert_int_eq(state_flush(st), 0);
	snprintf(path, sizeof(path), "%s/spamwrath.state", dir);
	ck_assert_int_eq(stat(path, &sb), 0);
	before = sb.st_size;
	ck_assert_int_eq(state_compact(st, j, T0 + 1999 * 100000L, &d), 0);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_lt(sb.st_size * 100, before);
	judge_free(j);
	j = reload(T0 + 1999 * 100000L + 1, &d);
	ck_assert_uint_eq(judge_tracked(j), 1);
	ck_assert_uint_eq(d.n, 0);
	judge_free(j);
	state_close(st);
	st = NULL;
	diag_free(&d);
}
END_TEST

START_TEST(fleet_origin)
{
	struct judge_rules r;
	struct diag d = { 0 };
	struct judge *j;
	struct found f;
	const char *why;
	struct judge_foreign b = {
		.start = T0, .until = T0 + 3000, .cls = CLASS_SPAM, .pattern = names_intern("p", 1),
		.origin = names_intern("mx2", 3), .offences = 1,
	};

	ck_assert_int_eq(addr_parse("203.0.113.9", 11, &b.addr), 0);
	rules(&r);
	ck_assert_int_eq(state_open(dir, &st, &d), 0);
	j = judge_new(&r, NULL, to_state, st);
	ck_assert_int_eq(judge_adopt(j, &b, T0, &why), 0);
	offend(j, "203.0.113.8", CLASS_SPAM, T0);	/* ours */
	ck_assert_int_eq(state_flush(st), 0);
	judge_free(j);

	/* replayed, then compacted and replayed again: the origin stays */
	for (int round = 0; round < 2; round++) {
		j = reload(T0 + 100, &d);
		ck_assert_uint_eq(d.n, 0);
		ck_assert_int_eq(lookup(j, "203.0.113.9", &f), 1);
		ck_assert_int_eq(f.until, T0 + 3000);
		ck_assert_uint_eq(f.origin, names_intern("mx2", 3));
		ck_assert_int_eq(lookup(j, "203.0.113.8", &f), 1);
		ck_assert_uint_eq(f.origin, 0);
		ck_assert_int_eq(state_compact(st, j, T0 + 100, &d), 0);
		judge_free(j);
	}
	state_close(st);
	st = NULL;
	diag_free(&d);
}
END_TEST

static Suite *state_suite(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, unban_and_forget);
	tcase_add_test(tc, damage);
	tcase_add_test(tc, positions);
	tcase_add_test(tc, links);
	tcase_add_test(tc, one_daemon_per_directory);
	tcase_add_test(tc, unwritable);
	tcase_add_test(tc, compaction);
	tcase_add_test(tc, fleet_origin);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(state_suite)
