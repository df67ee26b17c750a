/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The line pipeline as `spamwrathctl test` runs it: the input is a log
 * file, replayed (replay_file: linebuf, parser, matcher, correlator,
 * judge) with the shipped patterns, a spamtrap and a whitelist. A fresh
 * pipeline per input.
 *
 * Invariant beyond "no crash": every ban names an address that the input
 * spells out somewhere (a hostile line must never ban an address that it
 * does not name), and nothing whitelisted, loopback or non-unicast is
 * banned.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "loader.h"
#include "pipeline.h"
#include "replay.h"

static struct loaded fz_loaded;
static char fz_log[256];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char conf[256], text[1024];
	struct diag d = { 0 };
	int n;

	(void)argc;
	(void)argv;
	snprintf(conf, sizeof(conf), "%s/spamwrath.conf", fuzz_dir());
	snprintf(fz_log, sizeof(fz_log), "%s/mail.log", fuzz_dir());
	n = snprintf(text, sizeof(text),
		     "patterns_dir = \"%s/patterns\"\n"
		     "whitelist = { \"192.0.2.0/24\", \"2001:db8:ffff::/48\" }\n"
		     "spamtraps = { \"trap@example.org\", \"@spamtrap.example\" }\n"
		     "ignore_self = no\n", UNIT_SRCDIR);
	fuzz_write(conf, (const uint8_t *)text, (size_t)n);
	if (loader_load(conf, true, NULL, &fz_loaded, &d) < 0) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", d.msgs[i]);
		fuzz_fail("the fuzz configuration does not load");
	}
	diag_free(&d);
	return 0;
}

#define FZ_KEYS 65536

struct fz_run {
	const uint8_t *data;
	size_t size;
	struct judge *j;	/* for the key of each address in the input */
	struct pipeline *pl;
	bool collected;
	size_t nkeys;
	struct addr *keys;	/* FZ_KEYS */
};

/* Every address the input spells out, keyed as the judge keys them: each
 * run of address characters, from its start or any ':' in it ("IPv6:...",
 * "[::1]:25"), to its end or any ':' or '.' (a port, a full stop). */
static void fz_collect(struct fz_run *r)
{
	const char *p = (const char *)r->data, *end = p + r->size;

	r->collected = true;
	while (p < end) {
		const char *q = p;

		while (q < end && *q && strchr("0123456789abcdefABCDEF.:", *q))
			q++;
		for (const char *s = p; s < q; s++) {
			if (s != p && s[-1] != ':')
				continue;
			/* no address text is longer than 64 bytes: bounded work */
			for (const char *e = q - s > 64 ? s + 64 : q; e > s; e--) {
				struct addr a;

				if (e != q && *e != ':' && *e != '.')
					continue;
				if (addr_parse(s, (size_t)(e - s), &a) == 0 && r->nkeys < FZ_KEYS)
					judge_key(r->j, &a, &r->keys[r->nkeys++]);
			}
		}
		p = q + 1;
	}
}

static bool fz_named(struct fz_run *r, const struct addr *key)
{
	if (!r->collected)
		fz_collect(r);
	for (size_t i = 0; i < r->nkeys; i++)
		if (memcmp(&r->keys[i], key, sizeof(*key)) == 0)
			return true;
	return r->nkeys == FZ_KEYS;	/* too many to tell: not a finding */
}

static void fz_emit(void *ctx, const struct judge_event *e)
{
	struct fz_run *r = ctx;
	char buf[ADDR_STRLEN];

	if (e->kind != JUDGE_BAN)
		return;
	if (addr_kind(&e->addr) != ADDR_UNICAST)
		fuzz_fail("banned %s, which is not unicast", addr_format(&e->addr, buf));
	if (whitelist_check(&r->pl->wl, &e->addr))
		fuzz_fail("banned %s, which is whitelisted", addr_format(&e->addr, buf));
	if (!fz_named(r, &e->addr))
		fuzz_fail("banned %s, which the input does not name", addr_format(&e->addr, buf));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct replay_opts o = { .program = "postfix/smtpd", .year = 2026 };
	struct fz_run r = { .data = data, .size = size };
	struct pipeline pl;
	struct diag d = { 0 };

	static struct addr keys[FZ_KEYS];

	fuzz_write(fz_log, data, size);
	r.keys = keys;
	r.pl = &pl;
	if (pipeline_init(&pl, fz_loaded.cfg, &fz_loaded.ps, fz_emit, &r, &d) < 0)
		fuzz_fail("pipeline_init failed");
	r.j = pl.j;
	if (replay_file(&pl, fz_log, &o, &d) < 0)
		fuzz_fail("replay of a written file failed");
	pipeline_tick(&pl, time(NULL));
	pipeline_free(&pl);
	diag_free(&d);
	return 0;
}
