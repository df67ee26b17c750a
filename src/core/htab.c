/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "htab.h"

static uint64_t htab_seed;

static uint64_t htab_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/* Once per process, at the first htab_init: no table is used before it,
 * and htab_hash stays a leaf without a test for it. */
static void htab_seed_init(void)
{
	uint64_t seed = 0;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (uint64_t)(uintptr_t)&seed ^ 0x9e3779b97f4a7c15ULL;
	htab_seed = seed | 1;
}

/* Two words folded by one 64x64->128-bit multiply (the "mum" of
 * wyhash): one multiply for a key of 9..16 bytes (queue ids), where
 * two rounds of htab_mix cost twice as much. */
static uint64_t htab_mum(uint64_t a, uint64_t b)
{
	__extension__ unsigned __int128 m = (unsigned __int128)a * b;

	return (uint64_t)m ^ (uint64_t)(m >> 64);
}

/*
 * Whole words, the last one read so that it ends with the key (it may
 * overlap the one before): no byte-by-byte tail. Every byte is read and
 * the length is mixed in, so keys that differ still hash apart.
 */
uint32_t htab_hash(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h, w, w2;

	h = htab_seed ^ (n * 0x9e3779b97f4a7c15ULL);
	if (n > 8) {
		for (; n > 16; n -= 8, s += 8) {
			memcpy(&w, s, 8);
			h = htab_mix(h ^ w);
		}
		memcpy(&w, s, 8);
		memcpy(&w2, s + n - 8, 8);
		h = htab_mum(w ^ h, w2 ^ (h >> 32 | h << 32) ^ 0xe7037ed1a0b428dbULL);
		return (uint32_t)(h ^ (h >> 32));
	} else if (n >= 4) {
		uint32_t lo, hi;

		memcpy(&lo, s, 4);
		memcpy(&hi, s + n - 4, 4);
		w = (uint64_t)hi << 32 | lo;
	} else if (n > 0) {
		w = (uint64_t)s[0] << 16 | (uint64_t)s[n / 2] << 8 | s[n - 1];
	} else {
		w = 0;
	}
	h = htab_mix(h ^ w);
	return (uint32_t)(h ^ (h >> 32));
}

int htab_init(struct htab *h, size_t expect)
{
	size_t size = 16;

	if (!htab_seed)
		htab_seed_init();

	while (size < expect * 2)
		size *= 2;
	h->slot = calloc(size, sizeof(*h->slot));
	if (!h->slot)
		return -1;
	h->mask = (uint32_t)(size - 1);
	h->n = 0;
	return 0;
}

void htab_free(struct htab *h)
{
	free(h->slot);
	memset(h, 0, sizeof(*h));
}

static int htab_grow(struct htab *h, htab_rehash_fn *rh, const void *ctx)
{
	size_t size = ((size_t)h->mask + 1) * 2;
	uint32_t *v = calloc(size, sizeof(*v));

	if (!v)
		return -1;
	for (size_t i = 0; i <= h->mask; i++) {
		uint32_t s = h->slot[i];

		if (s) {
			uint32_t j = rh(ctx, s - 1) & (uint32_t)(size - 1);

			while (v[j])
				j = (j + 1) & (uint32_t)(size - 1);
			v[j] = s;
		}
	}
	free(h->slot);
	h->slot = v;
	h->mask = (uint32_t)(size - 1);
	return 0;
}

int htab_insert(struct htab *h, uint32_t hash, uint32_t id, htab_rehash_fn *rh, const void *ctx)
{
	uint32_t i;

	if ((h->n + 1) * 2 > (size_t)h->mask + 1 && htab_grow(h, rh, ctx) < 0)
		return -1;
	for (i = hash & h->mask; h->slot[i]; i = (i + 1) & h->mask)
		;
	h->slot[i] = id + 1;
	h->n++;
	return 0;
}

static uint32_t htab_slot_of(const struct htab *h, uint32_t hash, uint32_t id)
{
	for (uint32_t i = hash & h->mask;; i = (i + 1) & h->mask) {
		if (h->slot[i] == id + 1)
			return i;
		if (h->slot[i] == 0)
			return HTAB_NONE;
	}
}

void htab_remove(struct htab *h, uint32_t hash, uint32_t id, htab_rehash_fn *rh, const void *ctx)
{
	uint32_t i = htab_slot_of(h, hash, id), j;

	if (i == HTAB_NONE)
		return;
	/* Backward shift: pull later members of the run into the hole when
	 * the hole lies between their home slot and where they stand. */
	for (j = (i + 1) & h->mask; h->slot[j]; j = (j + 1) & h->mask) {
		uint32_t home = rh(ctx, h->slot[j] - 1) & h->mask;

		if (((j - home) & h->mask) >= ((j - i) & h->mask)) {
			h->slot[i] = h->slot[j];
			i = j;
		}
	}
	h->slot[i] = 0;
	h->n--;
}

void htab_renumber(struct htab *h, uint32_t hash, uint32_t from, uint32_t to)
{
	uint32_t i = htab_slot_of(h, hash, from);

	if (i != HTAB_NONE)
		h->slot[i] = to + 1;
}
