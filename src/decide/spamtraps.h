/* SPDX-License-Identifier: GPL-2.0-or-later */
/* spamtraps: owns the spamtrap list and whether a line's recipients name one of its entries.
 * Entries are "user@domain" or "@domain", compared without regard to case; filters spare most lookups.
 * It must never call a recipient a trap that no entry names, nor read outside the list it is given. */
#ifndef SPAMWRATH_SPAMTRAPS_H
#define SPAMWRATH_SPAMTRAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest recipient checked against the list (an RFC 5321 path is 256
 * bytes at most); a longer one is no trap. */
#define SPAMTRAPS_RCPT_MAX 320

struct spamtraps;

/* The list of n entries (the configuration's, lower case): a copy. NULL
 * when out of memory. Entries that hold a separator can name no recipient
 * and are left out. */
struct spamtraps *spamtraps_new(char **entries, size_t n);
void spamtraps_free(struct spamtraps *t);

/* True when one of the recipients in rcpt (a list separated by space,
 * tab, comma, semicolon, angle brackets or NUL) is on the list. */
bool spamtraps_match(const struct spamtraps *t, const char *rcpt, size_t len);

/* Whether lists are searched from their '@'s (see spamtraps.c): the two
 * searches answer alike, and tests make sure both run. */
bool spamtraps_search_at(const struct spamtraps *t);

#endif
