/* SPDX-License-Identifier: GPL-2.0-or-later */
/* unit_tmp: owns the temporary directories of tests that write files (configs, patterns).
 * Every test gets dir, inside base, one per test case: base is made and removed by the runner,
 * so it must never outlive a failed test (a failed test does not reach its own teardown). */
#ifndef SPAMWRATH_UNIT_TMP_H
#define SPAMWRATH_UNIT_TMP_H

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "unit.h"

/* Define UNIT_TMP_NAME ("config", "pattern") before including. */
static char base[64], dir[96];

static void base_setup(void)
{
	snprintf(base, sizeof(base), "/tmp/sw-unit-" UNIT_TMP_NAME "-%ld-XXXXXX", (long)getpid());
	if (!mkdtemp(base))
		ck_abort_msg("mkdtemp: %s", strerror(errno));
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s/t-XXXXXX", base);
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void base_teardown(void)
{
	nftw(base, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void teardown(void)
{
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* Writes text to dir/name; returns its full path (until the next call). */
static const char *unit_put(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* The messages of d, one per line, with the test's directory written DIR
 * (so that expectations do not depend on where mkdtemp put it). */
static const char *unit_diag_text(const struct diag *d)
{
	static char out[8192];
	size_t at = 0, dl = strlen(dir);

	out[0] = '\0';
	for (size_t i = 0; i < d->n; i++) {
		const char *m = d->msgs[i];

		while (*m && at + 8 < sizeof(out)) {
			if (strncmp(m, dir, dl) == 0) {
				at += (size_t)snprintf(out + at, sizeof(out) - at, "DIR");
				m += dl;
			} else {
				out[at++] = *m++;
			}
		}
		out[at++] = '\n';
		out[at] = '\0';
	}
	return out;
}

#endif
