/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "htab.h"
#include "unit.h"

/*
 * The caller's side: entry id -> key, and the key is its own hash, so a
 * test chooses exactly which slot every entry wants.
 */
#define NKEYS 4096

struct ents {
	uint32_t key[NKEYS];
	bool live[NKEYS];
};

static uint32_t ent_rehash(const void *ctx, uint32_t id)
{
	const struct ents *e = ctx;

	return e->key[id];
}

static bool ent_eq(const void *ctx, uint32_t id, const void *key)
{
	const struct ents *e = ctx;

	return e->key[id] == *(const uint32_t *)key;
}

static uint32_t find(const struct htab *h, const struct ents *e, uint32_t key)
{
	return htab_find(h, key, ent_eq, e, &key);
}

static void put(struct htab *h, struct ents *e, uint32_t id, uint32_t key)
{
	e->key[id] = key;
	e->live[id] = true;
	if (htab_insert(h, key, id, ent_rehash, e) != 0)
		ck_abort_msg("htab_insert failed");
}

static void del(struct htab *h, struct ents *e, uint32_t id)
{
	htab_remove(h, e->key[id], id, ent_rehash, e);
	e->live[id] = false;
}

/*
 * Every live entry is found; the table holds exactly the live entries; and
 * no entry stands behind an empty slot on the way from its home slot
 * (which would make it unreachable for linear probing).
 */
static void check_table(const struct htab *h, const struct ents *e, uint32_t nids)
{
	size_t live = 0, used = 0;

	/* plain tests in the loops: every ck_assert costs Check a write */
	for (uint32_t id = 0; id < nids; id++) {
		uint32_t got;

		if (!e->live[id])
			continue;
		live++;
		got = find(h, e, e->key[id]);
		if (got != id)
			ck_abort_msg("key %u: found id %u, not %u", e->key[id], got, id);
	}
	for (uint32_t i = 0; i <= h->mask; i++) {
		uint32_t s = h->slot[i];

		if (!s)
			continue;
		used++;
		if (s - 1 >= nids || !e->live[s - 1])
			ck_abort_msg("slot %u holds id %u, which is not live", i, s - 1);
		for (uint32_t k = e->key[s - 1] & h->mask; k != i; k = (k + 1) & h->mask)
			if (h->slot[k] == 0)
				ck_abort_msg("slot %u unreachable: hole at %u", i, k);
	}
	ck_assert_uint_eq(live, h->n);
	ck_assert_uint_eq(used, h->n);
	ck_assert_uint_le(h->n * 2, (size_t)h->mask + 1);
}

START_TEST(init_sizes)
{
	struct htab h;

	ck_assert_int_eq(htab_init(&h, 0), 0);
	ck_assert_uint_eq(h.mask, 15);
	ck_assert_uint_eq(h.n, 0);
	htab_free(&h);
	ck_assert_int_eq(htab_init(&h, 8), 0);
	ck_assert_uint_eq(h.mask, 15);
	htab_free(&h);
	ck_assert_int_eq(htab_init(&h, 9), 0);
	ck_assert_uint_eq(h.mask, 31);
	htab_free(&h);
	ck_assert_int_eq(htab_init(&h, 1000), 0);
	ck_assert_uint_eq(h.mask, 2047);
	htab_free(&h);
}
END_TEST

START_TEST(insert_find_remove)
{
	static struct ents e;
	struct htab h;

	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(htab_init(&h, 1), 0);
	ck_assert_uint_eq(find(&h, &e, 7), HTAB_NONE);
	put(&h, &e, 0, 7);
	put(&h, &e, 1, 100);
	ck_assert_uint_eq(find(&h, &e, 7), 0);
	ck_assert_uint_eq(find(&h, &e, 100), 1);
	ck_assert_uint_eq(find(&h, &e, 8), HTAB_NONE);
	ck_assert_uint_eq(h.n, 2);
	del(&h, &e, 0);
	ck_assert_uint_eq(find(&h, &e, 7), HTAB_NONE);
	ck_assert_uint_eq(find(&h, &e, 100), 1);
	ck_assert_uint_eq(h.n, 1);
	/* removing an id that is not there changes nothing */
	htab_remove(&h, 7, 0, ent_rehash, &e);
	ck_assert_uint_eq(h.n, 1);
	check_table(&h, &e, 2);
	htab_free(&h);
	ck_assert_ptr_null(h.slot);
}
END_TEST

START_TEST(collisions)
{
	static struct ents e;
	struct htab h;

	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(htab_init(&h, 1), 0);
	/* eight keys that all want slot 5 (keys differ above the mask) */
	for (uint32_t id = 0; id < 8; id++)
		put(&h, &e, id, 5 + 16 * id);
	ck_assert_uint_eq(h.mask, 15);
	for (uint32_t id = 0; id < 8; id++)
		ck_assert_uint_eq(h.slot[5 + id], id + 1);
	check_table(&h, &e, 8);
	ck_assert_uint_eq(find(&h, &e, 5 + 16 * 8), HTAB_NONE);
	/* delete from the middle of the run: the rest shift back */
	del(&h, &e, 3);
	check_table(&h, &e, 8);
	ck_assert_uint_eq(h.slot[12], 0);
	del(&h, &e, 0);
	check_table(&h, &e, 8);
	del(&h, &e, 7);
	check_table(&h, &e, 8);
	ck_assert_uint_eq(h.n, 5);
	htab_free(&h);
}
END_TEST

START_TEST(wraparound)
{
	static struct ents e;
	struct htab h;

	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(htab_init(&h, 1), 0);
	/* a run that starts at the last slot and wraps to the front, then
	 * entries whose home is at the front inside that run */
	put(&h, &e, 0, 15);
	put(&h, &e, 1, 31);
	put(&h, &e, 2, 47);
	put(&h, &e, 3, 0);
	put(&h, &e, 4, 1);
	put(&h, &e, 5, 14);
	ck_assert_uint_eq(h.slot[15], 1);
	ck_assert_uint_eq(h.slot[0], 2);
	ck_assert_uint_eq(h.slot[1], 3);
	ck_assert_uint_eq(h.slot[2], 4);
	ck_assert_uint_eq(h.slot[3], 5);
	ck_assert_uint_eq(h.slot[14], 6);
	check_table(&h, &e, 6);
	del(&h, &e, 0);		/* the hole at 15 is filled across the wrap */
	check_table(&h, &e, 6);
	ck_assert_uint_eq(h.slot[15], 2);
	del(&h, &e, 5);
	check_table(&h, &e, 6);
	del(&h, &e, 1);
	check_table(&h, &e, 6);
	/* 0 and 1 are at home now; 47 (home 15) moved back to slot 15 */
	ck_assert_uint_eq(h.slot[15], 3);
	ck_assert_uint_eq(h.slot[0], 4);
	ck_assert_uint_eq(h.slot[1], 5);
	htab_free(&h);
}
END_TEST

START_TEST(growth)
{
	static struct ents e;
	struct htab h;

	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(htab_init(&h, 1), 0);
	for (uint32_t id = 0; id < 8; id++)
		put(&h, &e, id, id * 7);
	ck_assert_uint_eq(h.mask, 15);
	put(&h, &e, 8, 8 * 7);	/* 9 > 1/2 of 16 */
	ck_assert_uint_eq(h.mask, 31);
	check_table(&h, &e, 9);
	/* growth keeps colliding runs findable */
	for (uint32_t id = 9; id < 3000; id++)
		put(&h, &e, id, (id % 3) ? id * 2654435761u : (id << 16) | 9);
	ck_assert_uint_eq(h.mask, 8191);
	check_table(&h, &e, 3000);
	htab_free(&h);
}
END_TEST

static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* Random inserts and deletes against the live[] model, on keys that pile
 * into few home slots so that deletions shift long runs. */
START_TEST(random_churn)
{
	static struct ents e;
	struct htab h;
	uint32_t seed = 12345, nids = 0, maxids = 1000;

	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(htab_init(&h, 1), 0);
	for (int step = 0; step < 6000; step++) {
		uint32_t r = lcg(&seed), id;

		if (h.n < 600 && (r % 3 != 0 || h.n == 0)) {
			/* a new id, or a dead one again, with a fresh distinct key
			 * (step in the high bits) wanting one of 8 home slots */
			if (nids < maxids) {
				id = nids++;
			} else {
				id = r % nids;
				while (e.live[id])
					id = (id + 1) % nids;
			}
			put(&h, &e, id, ((uint32_t)step << 12) | (r % 8) * 3);
		} else {
			id = r % nids;
			while (!e.live[id])
				id = (id + 1) % nids;
			del(&h, &e, id);
		}
		if (step % 97 == 0)
			check_table(&h, &e, nids);
	}
	check_table(&h, &e, nids);
	/* and empty it completely */
	for (uint32_t id = 0; id < nids; id++)
		if (e.live[id])
			del(&h, &e, id);
	ck_assert_uint_eq(h.n, 0);
	for (uint32_t i = 0; i <= h.mask; i++)
		if (h.slot[i] != 0)
			ck_abort_msg("slot %u still used", i);
	htab_free(&h);
}
END_TEST

START_TEST(renumber)
{
	static struct ents e;
	struct htab h;

	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(htab_init(&h, 1), 0);
	put(&h, &e, 0, 3);
	put(&h, &e, 1, 19);	/* same home slot as 3 */
	put(&h, &e, 2, 4);
	/* a dense array's swap-remove: entry 0 goes, entry 2 moves into 0 */
	del(&h, &e, 0);
	e.key[0] = e.key[2];
	e.live[0] = true;
	e.live[2] = false;
	htab_renumber(&h, e.key[0], 2, 0);
	check_table(&h, &e, 3);
	ck_assert_uint_eq(find(&h, &e, 4), 0);
	ck_assert_uint_eq(find(&h, &e, 19), 1);
	ck_assert_uint_eq(find(&h, &e, 3), HTAB_NONE);
	/* renumbering an id that is not there changes nothing */
	htab_renumber(&h, 4, 7, 8);
	check_table(&h, &e, 3);
	htab_free(&h);
}
END_TEST

START_TEST(hash_function)
{
	const char a[] = "203.0.113.10", b[] = "203.0.113.11";
	struct htab h;
	uint32_t x;

	/* as in use: a table first, which draws the seed */
	ck_assert_int_eq(htab_init(&h, 1), 0);
	htab_free(&h);
	x = htab_hash(a, sizeof(a) - 1);

	/* stable within a process, sensitive to every byte and the length */
	ck_assert_uint_eq(htab_hash(a, sizeof(a) - 1), x);
	ck_assert_uint_ne(htab_hash(b, sizeof(b) - 1), x);
	ck_assert_uint_ne(htab_hash(a, sizeof(a) - 2), x);
	ck_assert_uint_ne(htab_hash("", 0), htab_hash("\0", 1));
	ck_assert_uint_ne(htab_hash("\0\0\0\0\0\0\0\0", 8), htab_hash("\0\0\0\0\0\0\0\0\0", 9));
	/* every byte of every length counts, the overlapping last word too:
	 * of four changes to one byte, at least one changes the hash (all
	 * four colliding by chance is a 2^-128 event) */
	for (size_t n = 1; n <= 40; n++) {
		unsigned char k[40];

		for (size_t i = 0; i < n; i++)
			k[i] = (unsigned char)(i * 37 + n);
		x = htab_hash(k, n);
		for (size_t i = 0; i < n; i++) {
			unsigned changed = 0;

			for (unsigned f = 1; f <= 4; f++) {
				k[i] ^= (unsigned char)(1u << (f * 2 - 1));
				changed += htab_hash(k, n) != x;
				k[i] ^= (unsigned char)(1u << (f * 2 - 1));
			}
			ck_assert_msg(changed > 0, "byte %zu of %zu", i, n);
		}
		ck_assert_uint_eq(htab_hash(k, n), x);
	}
}
END_TEST

static Suite *htab_suite(void)
{
	Suite *s = suite_create("htab");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, init_sizes);
	tcase_add_test(tc, insert_find_remove);
	tcase_add_test(tc, collisions);
	tcase_add_test(tc, wraparound);
	tcase_add_test(tc, growth);
	tcase_add_test(tc, random_churn);
	tcase_add_test(tc, renumber);
	tcase_add_test(tc, hash_function);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(htab_suite)
