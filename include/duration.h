/* SPDX-License-Identifier: GPL-2.0-or-later */
/* duration: owns the text form of time spans ("90s", "15m", "12h", "7d", "3600").
 * Parsing is strict: the whole string must be one number and at most one unit.
 * It must never accept a negative, empty or overflowing span. */
#ifndef SPAMWRATH_DURATION_H
#define SPAMWRATH_DURATION_H

#include <stddef.h>

/* 0 and *out set in seconds, or -1 when the text is not a duration. */
int duration_parse(const char *s, long *out);

/* Shortest exact form ("12h", "90s", "1d12h"). buf needs 32 bytes. */
char *duration_format(long seconds, char *buf, size_t len);

#endif
