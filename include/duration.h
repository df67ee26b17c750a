/* SPDX-License-Identifier: GPL-2.0-or-later */
/* duration: owns the text form of time spans ("90s", "15m", "12h", "7d", "3600").
 * Parsing is strict: the whole string must be one number and at most one unit.
 * It must never accept a negative, empty, overflowing or longer than DURATION_MAX span. */
#ifndef SPAMWRATH_DURATION_H
#define SPAMWRATH_DURATION_H

#include <stddef.h>

/*
 * The longest span any key, request or record may give: ten years. A ban
 * end (now + span) then stays inside the judge's uint32 seconds and every
 * time_t sum; nothing spamwrath does needs longer.
 */
#define DURATION_MAX (3650L * 86400)
#define DURATION_MAX_TEXT "3650d"
#define DURATION_TOO_LONG "longer than " DURATION_MAX_TEXT ", the longest span spamwrath takes"

/* 0 and *out set in seconds; -1 when the text is not a duration, -2 when
 * it is one longer than DURATION_MAX (*out untouched either way). */
int duration_parse(const char *s, long *out);

/* The reason for duration_parse's refusal r, for a message. */
const char *duration_error(int r);

/* Shortest exact form ("12h", "90s", "1d12h"). buf needs 32 bytes. */
char *duration_format(long seconds, char *buf, size_t len);

#endif
