/* SPDX-License-Identifier: GPL-2.0-or-later */
/* names: owns the process-wide pool of interned strings (pattern names, sources).
 * An id stays valid for the process lifetime, so records survive a reload.
 * It must never free a name: the pool only grows, to NAMES_MAX names at most. */
#ifndef SPAMWRATH_NAMES_H
#define SPAMWRATH_NAMES_H

#include <stddef.h>
#include <stdint.h>

#define NAMES_NONE 0		/* id 0 is the empty name */
#define NAMES_MAX 65535		/* ids fit 16 bits (the judge stores them so) */

/* Returns the id of the string, adding it if new; 0 only for the empty
 * string, UINT32_MAX when out of memory or when NAMES_MAX names exist
 * (ban reasons come from outside: they must not grow the pool forever). */
uint32_t names_intern(const char *s, size_t len);
const char *names_get(uint32_t id);

#endif
