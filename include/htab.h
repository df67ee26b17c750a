/* SPDX-License-Identifier: GPL-2.0-or-later */
/* htab: owns an open-addressing index from hashed keys to the caller's entry ids (uint32).
 * 4 bytes per slot, load at most 1/2, linear probing with backward-shift deletion (no tombstones).
 * It must never own or compare keys itself: callers keep entries and pass eq/hash callbacks. */
#ifndef SPAMWRATH_HTAB_H
#define SPAMWRATH_HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HTAB_NONE UINT32_MAX

struct htab {
	uint32_t *slot;		/* id + 1; 0 = empty */
	uint32_t mask;
	size_t n;
};

/* The hash of the entry with this id (for moving entries on grow/delete). */
typedef uint32_t htab_rehash_fn(const void *ctx, uint32_t id);
/* True when the entry with this id has this key. */
typedef bool htab_eq_fn(const void *ctx, uint32_t id, const void *key);

int htab_init(struct htab *h, size_t expect);
void htab_free(struct htab *h);

/* Inline, so that the compiler can inline eq too: a lookup is a few
 * instructions per slot, and it runs for every line that names a key. */
static inline uint32_t htab_find(const struct htab *h, uint32_t hash, htab_eq_fn *eq,
				 const void *ctx, const void *key)
{
	for (uint32_t i = hash & h->mask;; i = (i + 1) & h->mask) {
		uint32_t s = h->slot[i];

		if (s == 0)
			return HTAB_NONE;
		if (eq(ctx, s - 1, key))
			return s - 1;
	}
}

/*
 * For a lookup of hash coming soon: htab_prefetch asks the cache for the
 * slot it starts at; once that is in, htab_first names the entry there
 * (HTAB_NONE for an empty slot), the likely answer, whose memory the
 * caller may prefetch in turn. Neither compares keys nor changes anything.
 */
static inline void htab_prefetch(const struct htab *h, uint32_t hash)
{
	__builtin_prefetch(&h->slot[hash & h->mask]);
}

static inline uint32_t htab_first(const struct htab *h, uint32_t hash)
{
	return h->slot[hash & h->mask] - 1;	/* 0 (empty) becomes HTAB_NONE */
}

/* Adds id (not present yet); may grow. 0 or -1 (no memory). */
int htab_insert(struct htab *h, uint32_t hash, uint32_t id, htab_rehash_fn *rh, const void *ctx);
void htab_remove(struct htab *h, uint32_t hash, uint32_t id, htab_rehash_fn *rh, const void *ctx);
/* The entry id moved (swap-remove in a dense array). */
void htab_renumber(struct htab *h, uint32_t hash, uint32_t from, uint32_t to);

/* Seeded hash of a short key. The seed is random per process (drawn by
 * the first htab_init), so that addresses chosen by an attacker cannot be
 * made to collide. */
uint32_t htab_hash(const void *p, size_t n);

#endif
