/* SPDX-License-Identifier: GPL-2.0-or-later */
/* readfile: owns reading a small file (configuration, pattern fixtures) whole into memory.
 * The text comes back NUL-terminated, with its length, so a NUL inside it can be told.
 * It must never cut a file short: a read error is an error, with the file's name. */
#ifndef SPAMWRATH_READFILE_H
#define SPAMWRATH_READFILE_H

#include <stddef.h>

#include "diag.h"

/* path's bytes and a NUL after them (free it), *len their number; NULL
 * with the reason (path: strerror) in d. */
char *readfile(const char *path, size_t *len, struct diag *d);

#endif
