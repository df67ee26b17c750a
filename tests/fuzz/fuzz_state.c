/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The state reader: the input is a state file (spamwrath.state), loaded
 * into a judge as at a start, then compacted.
 *
 * The first byte chooses how the rest is taken: odd, as the file's bytes;
 * even, as lines each of which gets its checksum appended, so that the
 * fuzzer reaches the records' fields and not only the checksum test.
 *
 * Invariant beyond "no crash": what the compaction wrote loads again
 * without a single warning, with the same running bans and no address
 * more (one that no longer matters may go), and a second compaction
 * changes nothing: the daemon's own file never costs a record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "fuzz.h"
#include "state.h"
#include "unit_rules.h"

#define FZ_NOW 1795000000L	/* 2026-11-18: fixed, so that a crash replays */

static char fz_state_dir[256], fz_state_file[300];
static struct whitelist fz_wl;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *wlv[] = { "192.0.2.0/24", "2001:db8:ffff::/48" };
	struct diag d = { 0 };

	(void)argc;
	(void)argv;
	snprintf(fz_state_dir, sizeof(fz_state_dir), "%s/state", fuzz_dir());
	snprintf(fz_state_file, sizeof(fz_state_file), "%s/spamwrath.state", fz_state_dir);
	if (whitelist_init(&fz_wl, wlv, 2, "fuzz", &d) < 0)
		fuzz_fail("whitelist_init");
	diag_free(&d);
	return 0;
}

static void fz_file(void *ctx, const struct state_file_pos *p)
{
	(void)ctx;
	(void)p;
}

static void fz_journal(void *ctx, const char *source, const char *cursor)
{
	(void)ctx;
	(void)source;
	(void)cursor;
}

static void fz_link(void *ctx, const char *qid, size_t len, const struct addr *a, time_t seen)
{
	(void)ctx;
	(void)qid;
	(void)len;
	(void)a;
	(void)seen;
}

/* Opens the state in the fuzz directory and loads it into a new judge.
 * 0, or -1 when it could not be read or rewritten. */
static int fz_load(struct state **s, struct judge **j, struct diag *d)
{
	struct state_positions pos = { fz_file, fz_journal, NULL, fz_link };
	struct judge_rules r;

	unit_rules(&r);	/* max_tracked 1000 is small: eviction while loading is fuzzed too */
	r.repeat_window = 7 * 86400;
	if (state_open(fz_state_dir, s, d) < 0)
		fuzz_fail("state_open: %s", d->n ? d->msgs[0] : "?");
	*j = judge_new(&r, &fz_wl, NULL, NULL);
	if (!*j)
		fuzz_fail("judge_new");
	return state_load(*s, *j, FZ_NOW, &pos, d);
}

/* Each line of data, with " *CRC" appended as state.c writes it. */
static void fz_write_checksummed(const uint8_t *data, size_t size)
{
	uint8_t *out = malloc(size + (size + 1) * 11 + 1), *o = out;
	const uint8_t *p = data, *end = data + size;

	if (!out)
		fuzz_fail("out of memory");
	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		memcpy(o, p, len);
		o += len;
		o += sprintf((char *)o, " *%08lx\n", (unsigned long)crc32(0L, p, (uInt)len));
		p += len + 1;
	}
	fuzz_write(fz_state_file, out, (size_t)(o - out));
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag d = { 0 }, d2 = { 0 };
	struct state *s;
	struct judge *j, *j2;
	size_t tracked, bans;

	mkdir(fz_state_dir, 0700);
	if (size > 0 && !(data[0] & 1))
		fz_write_checksummed(data + 1, size - 1);
	else
		fuzz_write(fz_state_file, size ? data + 1 : data, size ? size - 1 : 0);
	if (fz_load(&s, &j, &d) == 0 && state_compact(s, j, FZ_NOW, &d) == 0) {
		tracked = judge_tracked(j);
		bans = judge_active_bans(j, FZ_NOW);
		state_close(s);
		judge_free(j);
		/* the compacted file: clean, the same bans, no address more (some
		 * that no longer matter may go), and compacting it changes nothing */
		for (int round = 0; round < 2; round++) {
			if (fz_load(&s, &j2, &d2) < 0 || d2.n)
				fuzz_fail("the compacted state does not load cleanly: %s",
					  d2.n ? d2.msgs[0] : "load failed");
			if (judge_active_bans(j2, FZ_NOW) != bans || judge_tracked(j2) > tracked ||
			    (round == 1 && judge_tracked(j2) != tracked))
				fuzz_fail("compaction changed what the judge remembers: %zu/%zu "
					  "addresses, %zu/%zu bans (round %d)", tracked,
					  judge_tracked(j2), bans, judge_active_bans(j2, FZ_NOW), round);
			tracked = judge_tracked(j2);
			if (round == 0) {
				if (state_compact(s, j2, FZ_NOW, &d2) < 0)
					fuzz_fail("the compacted state cannot be compacted again");
				state_close(s);
				judge_free(j2);
			}
		}
		j = j2;
	}
	state_close(s);
	judge_free(j);
	diag_free(&d);
	diag_free(&d2);
	return 0;
}
