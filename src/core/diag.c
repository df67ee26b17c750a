/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "grow.h"
#include "diag.h"

static void diag_add(struct diag *d, int is_error, const char *file, int line,
		     const char *fmt, va_list ap)
{
	char *msg = NULL, *full = NULL;
	int r;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	if (!file)
		r = asprintf(&full, "%s", msg ? msg : "out of memory");
	else if (line > 0)
		r = asprintf(&full, "%s:%d: %s", file, line, msg ? msg : "out of memory");
	else
		r = asprintf(&full, "%s: %s", file, msg ? msg : "out of memory");
	free(msg);
	if (r < 0)
		full = NULL;
	if (is_error)
		d->errors++;
	if (!full)
		return;		/* the count above still records that it failed */
	if (grow(&d->msgs, &d->cap, d->n + 1, sizeof(*d->msgs), 8) < 0) {
		free(full);
		return;
	}
	d->msgs[d->n++] = full;
}

void diag_error(struct diag *d, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add(d, 1, file, line, fmt, ap);
	va_end(ap);
}

void diag_warn(struct diag *d, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add(d, 0, file, line, fmt, ap);
	va_end(ap);
}

void diag_free(struct diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->msgs[i]);
	free(d->msgs);
	d->msgs = NULL;
	d->n = d->cap = d->errors = 0;
}
