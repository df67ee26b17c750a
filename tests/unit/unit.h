/* SPDX-License-Identifier: GPL-2.0-or-later */
/* unit: what every Check test program shares: its main(), and where test data lives.
 * One program per module (tests/unit/check_<module>.c), run by `make check`.
 * It must never hide a failure: the exit status is non-zero when any test failed. */
#ifndef SPAMWRATH_UNIT_H
#define SPAMWRATH_UNIT_H

#include <check.h>
#include <stdlib.h>

#ifndef UNIT_SRCDIR
#define UNIT_SRCDIR "."
#endif

/* Check's own limit, 4 s of wall-clock time per test, is a watchdog for a
 * test that hangs, not a speed target (speed is measured in bench/). A
 * test that does generated work (thousands of cases) takes seconds under
 * ASan, and several times that on a busy machine: its test case sets this
 * limit instead, with a comment naming its heavy tests. */
#define UNIT_HEAVY_TIMEOUT 300

/* A file under tests/ in the source tree. */
#define UNIT_DATA(rel) UNIT_SRCDIR "/tests/" rel

#define UNIT_MAIN(make_suite)                                   \
	int main(void)                                          \
	{                                                       \
		SRunner *sr = srunner_create(make_suite());     \
		int failed;                                     \
								\
		setenv("TZ", "UTC", 1);                         \
		srunner_run_all(sr, CK_NORMAL);                 \
		failed = srunner_ntests_failed(sr);             \
		srunner_free(sr);                               \
		return failed ? EXIT_FAILURE : EXIT_SUCCESS;    \
	}

#endif
