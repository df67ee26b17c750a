/* SPDX-License-Identifier: GPL-2.0-or-later */
/* diag: owns the list of "FILE:LINE: reason" messages a load or reload produced.
 * Loaders append, callers print them or send them to a control client.
 * It must never print by itself nor decide whether an error is fatal. */
#ifndef SPAMWRATH_DIAG_H
#define SPAMWRATH_DIAG_H

#include <stddef.h>

struct diag {
	char **msgs;
	size_t n, cap;
	size_t errors;		/* messages that are errors, not warnings */
};

/* Appends "FILE:LINE: reason" (or "FILE: reason" when line is 0). */
void diag_error(struct diag *d, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void diag_warn(struct diag *d, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void diag_free(struct diag *d);

#endif
