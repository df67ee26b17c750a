/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "duration.h"
#include "names.h"
#include "state.h"
#include "unit.h"
#include "unit_rules.h"

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

/* The daemon's sink in miniature: every decision goes to the state. */
static void to_state(void *ctx, const struct judge_event *e)
{
	state_event(ctx, e);
}

/* What a test opened: its judge (or NULL) and the state (st is NULL
 * again: the next open may reuse it). */
static void close_all(struct judge *j)
{
	judge_free(j);
	state_close(st);
	st = NULL;
}

/* The end of a test: close_all, and its messages go too. */
static void finish(struct judge *j, struct diag *d)
{
	close_all(j);
	diag_free(d);
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

	unit_rules(&r);
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

	unit_rules(&r);
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
	finish(j, &d);
}
END_TEST

START_TEST(unban_and_forget)
{
	struct judge_rules r;
	struct diag d = { 0 };
	struct judge *j;
	struct found f;
	struct addr a;

	unit_rules(&r);
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
	finish(j, &d);
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

	unit_rules(&r);
	ck_assert_int_eq(state_open(dir, &st, &d), 0);
	j = judge_new(&r, NULL, to_state, st);
	offend(j, "203.0.113.1", CLASS_SPAM, T0);
	offend(j, "203.0.113.2", CLASS_SPAM, T0);
	offend(j, "203.0.113.3", CLASS_SPAM, T0);
	ck_assert_int_eq(state_flush(st), 0);
	close_all(j);
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
	close_all(j);

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
	finish(j, &d);
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
		close_all(j);
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
	finish(j, &d);
}
END_TEST

/* A ban or offence read back passes the checks a new one does, under the
 * rules and whitelist in force now (issue 17, item 5): the rest is dropped
 * and said, and the compaction that follows leaves it out of the file. */
START_TEST(restore_refused)
{
	char *wlv[] = { "192.0.2.0/24" };
	struct judge_rules r;
	struct whitelist wl;
	struct diag d = { 0 };
	struct judge *j;
	struct found f;
	char text[200], path[300], *buf;
	FILE *fp;
	size_t len;
	static const char *const refused[][2] = {
		{ "10.9.0.0/16", "not a single address" },
		{ "127.0.0.1", "loopback" },
		{ "224.0.0.1", "not-unicast" },
		{ "0.0.0.0", "unspecified" },
		{ "192.0.2.7", "whitelist" },
		{ "2001:db8::1", "not a single /ipv6_prefix network" },
		{ "2001:db8::/48", "not a single /ipv6_prefix network" },
		{ "::/64", "unspecified" },
		{ "ff02::/64", "not-unicast" },
	};
	size_t nref = sizeof(refused) / sizeof(refused[0]);

	ck_assert_int_eq(whitelist_init(&wl, wlv, 1, "t", &d), 0);
	for (size_t i = 0; i < nref; i++) {
		snprintf(text, sizeof(text), "ban %s %ld %ld spam p 1", refused[i][0], T0, T0 + 3600);
		append_record(text);
	}
	append_record("off 192.0.2.8 1795000000 500");
	append_record("ban 203.0.113.9 1795000000 1795003600 spam p 1");
	append_record("ban 2001:db8:1::/64 1795000000 1795003600 spam p 1");
	append_record("off 203.0.113.10 1795000000 500");
	unit_rules(&r);
	ck_assert_int_eq(state_open(dir, &st, &d), 0);
	j = judge_new(&r, &wl, to_state, st);
	ck_assert_int_eq(state_load(st, j, T0 + 10, NULL, &d), 0);
	/* each refusal named, with its address and reason */
	ck_assert_uint_eq(d.n, nref + 1);
	for (size_t i = 0; i < nref; i++) {
		ck_assert_msg(strstr(d.msgs[i], refused[i][0]) && strstr(d.msgs[i], refused[i][1]),
			      "%zu: %s", i, d.msgs[i]);
	}
	ck_assert_ptr_nonnull(strstr(d.msgs[nref], "192.0.2.8: whitelist"));
	ck_assert_uint_eq(judge_tracked(j), 3);
	ck_assert_int_eq(lookup(j, "203.0.113.9", &f), 1);
	ck_assert_int_eq(f.until, T0 + 3600);
	ck_assert_int_eq(lookup(j, "2001:db8:1::/64", &f), 1);
	ck_assert_int_eq(lookup(j, "203.0.113.10", &f), 1);
	ck_assert_uint_eq(f.noff, 1);
	ck_assert_uint_eq(judge_active_bans(j, T0 + 10), 2);
	/* compacted: the refused records are gone from the file */
	snprintf(path, sizeof(path), "%s/spamwrath.state", dir);
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	buf = calloc(1, 65536);
	ck_assert_ptr_nonnull(buf);
	len = fread(buf, 1, 65535, fp);
	fclose(fp);
	ck_assert_uint_gt(len, 0);
	ck_assert_ptr_null(strstr(buf, "10.9.0.0"));
	ck_assert_ptr_null(strstr(buf, "192.0.2."));
	ck_assert_ptr_nonnull(strstr(buf, "203.0.113.9"));
	free(buf);
	close_all(j);
	whitelist_free(&wl);
	diag_free(&d);
}
END_TEST

/* Times a record may not name (issue 17, item 6): a ban longer than
 * DURATION_MAX, one that ends before it starts, moments past 2106 or far
 * in the future. Each is dropped and said; none wraps into the past. */
START_TEST(restore_times)
{
	static const char *const bad[] = {
		"ban 203.0.113.20 1795000000 18446744073709551615 spam p 1",
		"ban 203.0.113.21 1795000000 9223372036854775807 spam p 1",
		"ban 203.0.113.22 1795000000 1795000000 spam p 1",	/* placeholder, replaced */
		"ban 203.0.113.23 1795003600 1795000000 spam p 1",
		"ban 203.0.113.24 18446744073709551615 0 spam p 1",
		"off 203.0.113.25 4294967296 500",
		"off 203.0.113.26 9223372036854775807 500",
	};
	size_t nbad = sizeof(bad) / sizeof(bad[0]);
	struct diag d = { 0 };
	struct judge *j;
	struct found f;
	char text[200];

	for (size_t i = 0; i < nbad; i++) {
		if (i == 2)
			snprintf(text, sizeof(text), "ban 203.0.113.22 %ld %ld spam p 1", T0,
				 T0 + DURATION_MAX + 1);
		else
			snprintf(text, sizeof(text), "%s", bad[i]);
		append_record(text);
	}
	snprintf(text, sizeof(text), "ban 203.0.113.27 %ld %ld spam p 1", T0, T0 + DURATION_MAX);
	append_record(text);
	j = reload(T0 + 10, &d);
	ck_assert_uint_eq(d.n, nbad);
	for (size_t i = 0; i < nbad; i++)
		ck_assert_msg(strstr(d.msgs[i], "out of range"), "%zu: %s", i, d.msgs[i]);
	ck_assert_uint_eq(judge_tracked(j), 1);
	ck_assert_int_eq(lookup(j, "203.0.113.27", &f), 1);
	ck_assert_int_eq(f.until, T0 + DURATION_MAX);
	finish(j, &d);
}
END_TEST

/* A file's whole text, or "" when it cannot be read. */
static const char *slurp(const char *path)
{
	static char buf[4096];
	FILE *fp = fopen(path, "r");
	size_t n = 0;

	if (fp) {
		n = fread(buf, 1, sizeof(buf) - 1, fp);
		fclose(fp);
	}
	buf[n] = '\0';
	return buf;
}

/* state_dir as sshd's StrictModes would have it (issue 17, item 8): a
 * directory that another user owns or may write is refused, at start,
 * before anything in it is opened. */
START_TEST(dir_modes)
{
	struct diag d = { 0 };
	char sub[300];

	snprintf(sub, sizeof(sub), "%s/state", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	ck_assert_int_eq(chmod(sub, 0777), 0);
	ck_assert_int_eq(state_open(sub, &st, &d), -1);
	ck_assert_msg(strstr(d.msgs[0], "writable by others (mode 0777)"), "%s", d.msgs[0]);
	ck_assert_int_eq(chmod(sub, 0770), 0);
	ck_assert_int_eq(state_open(sub, &st, &d), -1);
	ck_assert_msg(strstr(d.msgs[1], "writable by its group"), "%s", d.msgs[1]);
	/* a directory above it open to others, without the sticky bit */
	ck_assert_int_eq(chmod(sub, 0750), 0);
	ck_assert_int_eq(chmod(dir, 0777), 0);
	ck_assert_int_eq(state_open(sub, &st, &d), -1);
	ck_assert_msg(strstr(d.msgs[2], "a directory above it is writable by others"), "%s",
		      d.msgs[2]);
	/* ... with it, as /tmp: fine */
	ck_assert_int_eq(chmod(dir, 01777), 0);
	ck_assert_int_eq(state_open(sub, &st, &d), 0);
	state_close(st);
	st = NULL;
	ck_assert_int_eq(chmod(dir, 0700), 0);
	if (geteuid() == 0) {
		ck_assert_int_eq(chown(sub, 65534, 65534), 0);
		ck_assert_int_eq(state_open(sub, &st, &d), -1);
		ck_assert_msg(strstr(d.msgs[3], "owned by uid 65534"), "%s", d.msgs[3]);
		ck_assert_uint_eq(d.errors, 4);
	}
	st = NULL;
	diag_free(&d);
}
END_TEST

/* Names planted in the state directory are not followed (issue 17, item
 * 8): a symlink as the state or the lock is refused and its target left
 * alone; one as the temporary file is replaced, not written through; a
 * FIFO or a second name of another file is refused, without blocking. */
START_TEST(planted_names)
{
	static const char *const names[] = { "spamwrath.lock", "spamwrath.state" };
	struct diag d = { 0 };
	struct judge_rules r;
	struct judge *j;
	char sub[300], victim[300], lnk[400], created[300];
	struct stat sb;

	snprintf(sub, sizeof(sub), "%s/state", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	snprintf(created, sizeof(created), "%s/created", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	for (size_t i = 0; i < 2; i++) {
		FILE *fp = fopen(victim, "w");

		ck_assert_ptr_nonnull(fp);
		fputs("precious\n", fp);
		fclose(fp);
		snprintf(lnk, sizeof(lnk), "%s/%s", sub, names[i]);
		ck_assert_int_eq(symlink(victim, lnk), 0);
		ck_assert_int_eq(state_open(sub, &st, &d), -1);
		ck_assert_msg(strstr(d.msgs[d.n - 1], "a symlink"), "%s", d.msgs[d.n - 1]);
		ck_assert_str_eq(slurp(victim), "precious\n");
		ck_assert_int_eq(unlink(lnk), 0);
	}
	/* the temporary file: planted, pointing at a file to create */
	snprintf(lnk, sizeof(lnk), "%s/spamwrath.state.tmp", sub);
	ck_assert_int_eq(symlink(created, lnk), 0);
	unit_rules(&r);
	ck_assert_int_eq(state_open(sub, &st, &d), 0);
	j = judge_new(&r, NULL, to_state, st);
	offend(j, "203.0.113.1", CLASS_SPAM, T0);
	ck_assert_int_eq(state_compact(st, j, T0, &d), 0);
	ck_assert_int_ne(lstat(created, &sb), 0);
	ck_assert_int_ne(lstat(lnk, &sb), 0);
	close_all(j);
	/* a FIFO, and a hard link to a file elsewhere */
	snprintf(lnk, sizeof(lnk), "%s/spamwrath.lock", sub);
	ck_assert_int_eq(unlink(lnk), 0);
	ck_assert_int_eq(mkfifo(lnk, 0600), 0);
	ck_assert_int_eq(state_open(sub, &st, &d), -1);
	ck_assert_msg(strstr(d.msgs[d.n - 1], "not a regular file"), "%s", d.msgs[d.n - 1]);
	ck_assert_int_eq(unlink(lnk), 0);
	snprintf(lnk, sizeof(lnk), "%s/spamwrath.state", sub);
	ck_assert_int_eq(unlink(lnk), 0);
	ck_assert_int_eq(link(victim, lnk), 0);
	ck_assert_int_eq(state_open(sub, &st, &d), -1);
	ck_assert_msg(strstr(d.msgs[d.n - 1], "one name"), "%s", d.msgs[d.n - 1]);
	ck_assert_str_eq(slurp(victim), "precious\n");
	st = NULL;
	diag_free(&d);
}
END_TEST

/* The state is read a chunk at a time (issue 17, item 10: a 434 MB
 * state took 480 MB to load): 64 MiB of records load with the process
 * growing by far less than that; a line longer than a chunk is dropped
 * whole and the records around it are kept. */
START_TEST(load_streams)
{
	struct diag d = { 0 };
	struct judge *j;
	struct rusage ru;
	struct found f;
	char rec[256], path[300], *big;
	size_t reclen, bigcap = 4u << 20, n = 0;
	long before;
	FILE *fp;

	/* the same ban again and again: loading it allocates nothing, so
	 * that only the reading shows (also under ASan's quarantine) */
	snprintf(rec, sizeof(rec), "ban 198.51.100.1 %ld %ld spam p 1", T0, T0 + 3600);
	reclen = strlen(rec);
	snprintf(rec + reclen, sizeof(rec) - reclen, " *%08lx\n",
		 (unsigned long)crc32(0L, (const Bytef *)rec, (uInt)reclen));
	reclen = strlen(rec);
	big = malloc(bigcap);
	ck_assert_ptr_nonnull(big);
	while (n + reclen <= bigcap) {
		memcpy(big + n, rec, reclen);
		n += reclen;
	}
	snprintf(path, sizeof(path), "%s/spamwrath.state", dir);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fprintf(fp, "ban 203.0.113.1 %ld %ld spam p 1 *%08lx\n", T0, T0 + 3600, 0ul);
	for (int i = 0; i < 16; i++)
		ck_assert_uint_eq(fwrite(big, 1, n, fp), n);
	memset(big, 'x', (3u << 20) / 2);	/* a line of 1.5 MiB, then the good records */
	ck_assert_uint_eq(fwrite(big, 1, (3u << 20) / 2, fp), (3u << 20) / 2);
	fputc('\n', fp);
	ck_assert_int_eq(fclose(fp), 0);
	free(big);
	/* the first ban's checksum was a placeholder: write it right */
	append_record("ban 203.0.113.2 1795000000 1795003600 spam p 1");
	ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru), 0);
	before = ru.ru_maxrss;
	j = reload(T0 + 10, &d);
	ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru), 0);
	ck_assert_msg(ru.ru_maxrss - before < 16 * 1024, "loading 64 MiB grew the process by %ld KiB",
		      ru.ru_maxrss - before);
	ck_assert_uint_eq(d.n, 2);
	ck_assert_msg(strstr(d.msgs[0], ":1: record dropped: checksum mismatch"), "%s", d.msgs[0]);
	ck_assert_msg(strstr(d.msgs[1], "record dropped: longer than 1048576 bytes"), "%s",
		      d.msgs[1]);
	ck_assert_int_eq(lookup(j, "203.0.113.2", &f), 1);
	ck_assert_int_eq(f.until, T0 + 3600);
	ck_assert_int_eq(lookup(j, "198.51.100.1", &f), 1);
	ck_assert_uint_eq(judge_tracked(j), 2);
	finish(j, &d);
}
END_TEST

/* A history record that starts after the running ban (a line stamped in
 * the future) must not lend the running ban its start: the compaction
 * wrote "ban X LATER-START EARLIER-END", which the next start dropped as
 * out of range, and the ban with it (found by fuzz_state). */
START_TEST(history_after_running_ban)
{
	struct diag d = { 0 };
	struct judge *j;
	struct found f;
	char text[200];

	snprintf(text, sizeof(text), "ban 203.0.113.6 %ld 0 - - 0", T0 + 50 * 86400L);
	append_record(text);
	snprintf(text, sizeof(text), "ban 203.0.113.6 %ld %ld spam p 3", T0 - 100, T0 + 500);
	append_record(text);
	j = reload(T0, &d);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_int_eq(state_compact(st, j, T0, &d), 0);
	judge_free(j);
	j = reload(T0 + 1, &d);
	ck_assert_msg(d.n == 0, "%s", d.n ? d.msgs[0] : "");
	ck_assert_int_eq(lookup(j, "203.0.113.6", &f), 1);
	ck_assert_int_eq(f.until, T0 + 500);
	ck_assert_uint_eq(f.nbans, 2);
	finish(j, &d);
}
END_TEST

START_TEST(one_daemon_per_directory)
{
	struct state *other;
	struct diag d = { 0 };

	ck_assert_int_eq(state_open(dir, &st, &d), 0);
	ck_assert_int_eq(state_open(dir, &other, &d), -1);
	ck_assert_ptr_nonnull(strstr(d.msgs[0], "another spamwrathd"));
	finish(NULL, &d);
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

	unit_rules(&r);
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
	finish(j, &d);
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
	unit_rules(&r);
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
	finish(NULL, &d);
}
END_TEST

static Suite *state_suite(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("core");

	/* load_streams: generated streams, seconds under ASan */
	tcase_set_timeout(tc, UNIT_HEAVY_TIMEOUT);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, unban_and_forget);
	tcase_add_test(tc, damage);
	tcase_add_test(tc, positions);
	tcase_add_test(tc, links);
	tcase_add_test(tc, restore_refused);
	tcase_add_test(tc, restore_times);
	tcase_add_test(tc, history_after_running_ban);
	tcase_add_test(tc, dir_modes);
	tcase_add_test(tc, load_streams);
	tcase_add_test(tc, planted_names);
	tcase_add_test(tc, one_daemon_per_directory);
	tcase_add_test(tc, unwritable);
	tcase_add_test(tc, compaction);
	tcase_add_test(tc, fleet_origin);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(state_suite)
