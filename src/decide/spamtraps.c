/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A recipient is a trap when it equals an entry, or its part from its last
 * '@' equals a "@domain" entry, both without regard to case. The entries
 * are kept sorted for bsearch(), and filters come before any lookup, for
 * most recipients are no trap:
 *  - full: a bit for each entry's length, first and last byte, hashed
 *    together; a recipient whose bit is clear equals no entry;
 *  - dom: the lengths of the "@domain" entries, the only places a
 *    recipient's domain part may start;
 *  - at: when every entry a recipient could equal holds an '@' and those
 *    that are no "@domain" make few (offset of the first '@', length)
 *    pairs, a whole list is searched from its '@'s alone, without
 *    cutting it into recipients first.
 */
#include <stdlib.h>
#include <string.h>

#include "spamtraps.h"

#define SPAMTRAPS_FILTER 1024	/* bits */
#define SPAMTRAPS_PAIRS 8

struct spamtraps {
	char **v;		/* lower-case, sorted; "@domain" for a whole domain;
				 * none holds a separator (no recipient could) */
	size_t n;
	uint64_t full[SPAMTRAPS_FILTER / 64];
	uint16_t *dom;		/* sorted, each once */
	size_t ndom;
	bool at_ok;		/* the '@' search serves */
	uint8_t nat;
	uint16_t at[SPAMTRAPS_PAIRS][2];
};

static int spamtraps_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int spamtraps_u16cmp(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/*
 * Where a recipient of this length, first and last byte has its bit in
 * full. The bytes count with bit 0x20 set: a byte and its lower
 * case agree there, so an entry that matches a recipient, whatever its
 * case, has set the same bit.
 */
static unsigned spamtraps_bit(size_t len, unsigned char first, unsigned char last)
{
	uint32_t x = (uint32_t)len * 0x9e3779b1u ^
		     (uint32_t)((first | 0x20) << 8 | (last | 0x20)) * 0x85ebca6bu;

	return (x ^ x >> 16) % SPAMTRAPS_FILTER;
}

/* Only an entry with its one '@' in front can be a recipient's domain. */
static bool spamtraps_is_domain(const char *t)
{
	return t[0] == '@' && !strchr(t + 1, '@');
}

/* Separators of a recipient list; NUL too, which a hostile line may hold
 * and no address does. */
static const bool spamtraps_sep[256] = {
	['\0'] = true, [' '] = true, ['\t'] = true, [','] = true,
	[';'] = true, ['<'] = true, ['>'] = true,
};

/* An entry that holds a separator can equal no recipient, nor the part
 * of one from its last '@'. */
static bool spamtraps_has_sep(const char *t)
{
	for (; *t; t++)
		if (spamtraps_sep[(unsigned char)*t])
			return true;
	return false;
}

/* Adds the (first '@', length) pair of entry t of length l; false when
 * the '@' search cannot serve: no '@', or too many pairs. */
static bool spamtraps_add_pair(uint16_t at[SPAMTRAPS_PAIRS][2], uint8_t *n, const char *t, size_t l)
{
	const char *q = strchr(t, '@');
	uint16_t k;

	if (!q)
		return false;
	k = (uint16_t)(q - t);
	for (uint8_t i = 0; i < *n; i++)
		if (at[i][0] == k && at[i][1] == l)
			return true;
	if (*n == SPAMTRAPS_PAIRS)
		return false;
	at[*n][0] = k;
	at[*n][1] = (uint16_t)l;
	(*n)++;
	return true;
}

void spamtraps_free(struct spamtraps *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	free(t->dom);
	free(t);
}

/* Entry e (of length l, on the list) in the filters. */
static void spamtraps_note(struct spamtraps *t, const char *e, size_t l)
{
	unsigned k;

	if (l == 0 || l > SPAMTRAPS_RCPT_MAX)
		return;		/* no recipient is that long */
	k = spamtraps_bit(l, (unsigned char)e[0], (unsigned char)e[l - 1]);
	t->full[k / 64] |= 1ULL << (k % 64);
	/* a domain entry equal to a whole recipient is found by the domain
	 * search too: it needs no pair */
	if (spamtraps_is_domain(e))
		t->dom[t->ndom++] = (uint16_t)l;
	else if (t->at_ok && !spamtraps_add_pair(t->at, &t->nat, e, l))
		t->at_ok = false;
}

struct spamtraps *spamtraps_new(char **entries, size_t n)
{
	struct spamtraps *t = calloc(1, sizeof(*t));
	size_t k = 0;

	if (!t)
		return NULL;
	t->v = calloc(n ? n : 1, sizeof(*t->v));
	t->dom = calloc(n ? n : 1, sizeof(*t->dom));
	if (!t->v || !t->dom) {
		spamtraps_free(t);
		return NULL;
	}
	t->at_ok = true;
	for (size_t i = 0; i < n; i++) {
		if (spamtraps_has_sep(entries[i]))
			continue;
		t->v[t->n] = strdup(entries[i]);
		if (!t->v[t->n]) {
			spamtraps_free(t);
			return NULL;
		}
		spamtraps_note(t, t->v[t->n], strlen(t->v[t->n]));
		t->n++;
	}
	qsort(t->v, t->n, sizeof(*t->v), spamtraps_strcmp);
	qsort(t->dom, t->ndom, sizeof(*t->dom), spamtraps_u16cmp);
	for (size_t i = 0; i < t->ndom; i++)
		if (k == 0 || t->dom[k - 1] != t->dom[i])
			t->dom[k++] = t->dom[i];
	t->ndom = k;
	return t;
}

/*
 * s[0..len) lower-cased is on the list. A domain candidate (dom) must not
 * hold a second '@': it would not be the part after the last one.
 */
static bool spamtraps_lookup(const struct spamtraps *t, const char *s, size_t len, bool dom)
{
	char buf[SPAMTRAPS_RCPT_MAX + 1];
	const char *key = buf;

	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		else if (ch == '@' && dom && i > 0)
			return false;
		buf[i] = ch;
	}
	buf[len] = '\0';
	return bsearch(&key, t->v, t->n, sizeof(*t->v), spamtraps_strcmp) != NULL;
}

/*
 * One recipient: the whole address, or the part from its last '@' on, is
 * on the list (case-insensitive). Filters come first: most recipients
 * have no entry of their length, first and last byte; and the part from
 * the last '@' is found by trying the lengths of the domain entries.
 */
static bool spamtraps_one(const struct spamtraps *t, const char *p, size_t len)
{
	unsigned k;

	if (len == 0 || len > SPAMTRAPS_RCPT_MAX)
		return false;
	k = spamtraps_bit(len, (unsigned char)p[0], (unsigned char)p[len - 1]);
	if ((t->full[k / 64] >> (k % 64) & 1) && spamtraps_lookup(t, p, len, false))
		return true;
	for (size_t i = 0; i < t->ndom && t->dom[i] <= len; i++) {
		size_t d = t->dom[i];

		if (p[len - d] == '@' && spamtraps_lookup(t, p + len - d, d, true))
			return true;
	}
	return false;
}

static size_t spamtraps_token_end(const char *s, size_t i, size_t len)
{
	for (; i + 4 <= len; i += 4) {
		if (spamtraps_sep[(unsigned char)s[i]])
			return i;
		if (spamtraps_sep[(unsigned char)s[i + 1]])
			return i + 1;
		if (spamtraps_sep[(unsigned char)s[i + 2]])
			return i + 2;
		if (spamtraps_sep[(unsigned char)s[i + 3]])
			return i + 3;
	}
	while (i < len && !spamtraps_sep[(unsigned char)s[i]])
		i++;
	return i;
}

/*
 * The list searched from its '@'s: every entry a recipient could equal
 * holds one, so a trap recipient's first '@' is at its entry's offset
 * from the recipient's start, and a trap domain starts at an '@' and
 * ends the recipient. The bytes around a candidate must be separators
 * (or the list's ends); the lookup compares all bytes between, and no
 * entry holds a separator, so a match is a whole recipient (or its part
 * from its last '@': a domain entry has no other). A recipient equal
 * to a domain entry is its own part from its last '@', so domain
 * entries have no pair. Lists of at most SPAMTRAPS_RCPT_MAX bytes only, so
 * that no recipient is too long.
 */
static bool spamtraps_at_search(const struct spamtraps *t, const char *s, size_t len)
{
	const char *q = memchr(s, '@', len);

	for (; q; q = memchr(q + 1, '@', (size_t)(s + len - q - 1))) {
		size_t at = (size_t)(q - s);

		for (unsigned i = 0; i < t->nat; i++) {
			size_t k = t->at[i][0], l = t->at[i][1], a;
			unsigned b;

			if (at < k || at - k + l > len)
				continue;
			a = at - k;
			if ((a > 0 && !spamtraps_sep[(unsigned char)s[a - 1]]) ||
			    (a + l < len && !spamtraps_sep[(unsigned char)s[a + l]]))
				continue;
			b = spamtraps_bit(l, (unsigned char)s[a], (unsigned char)s[a + l - 1]);
			if ((t->full[b / 64] >> (b % 64) & 1) &&
			    spamtraps_lookup(t, s + a, l, false))
				return true;
		}
		for (size_t i = 0; i < t->ndom && at + t->dom[i] <= len; i++) {
			size_t d = t->dom[i];

			if ((at + d == len || spamtraps_sep[(unsigned char)s[at + d]]) &&
			    spamtraps_lookup(t, q, d, true))
				return true;
		}
	}
	return false;
}

bool spamtraps_match(const struct spamtraps *t, const char *rcpt, size_t len)
{
	size_t i = 0;

	if (t->n == 0)
		return false;
	if (t->at_ok && len <= SPAMTRAPS_RCPT_MAX)
		return spamtraps_at_search(t, rcpt, len);
	while (i < len) {
		size_t j;

		while (i < len && spamtraps_sep[(unsigned char)rcpt[i]])
			i++;
		j = spamtraps_token_end(rcpt, i, len);
		if (j > i && spamtraps_one(t, rcpt + i, j - i))
			return true;
		i = j;
	}
	return false;
}

bool spamtraps_search_at(const struct spamtraps *t)
{
	return t->at_ok;
}
