/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What every backend shares: the choice of backend; a record per address
 * that needs more than one add, namely the long bans (longer than the
 * kernel's timeout cap, re-added before their kernel entry runs out) and
 * the kept bans (refused by the kernel, not in force, tried again); and
 * the restore at start. The backends (backend.h) only speak to the kernel.
 *
 * A full set is noticed by the add it refuses and remembered: until a
 * probe (one add a second, of a kept ban) goes in, bans of that family are
 * kept without asking the kernel, so that a full set costs the loop no
 * kernel call per ban.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "grow.h"
#include "htab.h"
#include "log.h"
#include "names.h"

/* Re-add a long ban when its kernel entry has less than this left. */
#define BANSET_REFRESH_MARGIN 3600
/* Refusals said one by one at a restore; the rest are counted. */
#define BANSET_RESTORE_SAY 10

struct banset_rec {
	struct addr a;
	time_t until;		/* the ban's end */
	time_t kernel_until;	/* in force: when its kernel entry runs out */
	bool kept;		/* refused by the kernel: not in force */
	bool full;		/* kept because its set was full */
	uint32_t why;		/* kept: the reason, interned (UINT32_MAX: none) */
};

struct banset {
	struct ban_backend *be;
	const struct ban_ops *ops;
	struct banset_rec *rec;
	size_t nrec, caprec;
	struct htab idx;	/* address -> rec */
	size_t kept[2];		/* kept records per family (0: IPv4, 1: IPv6) */
	size_t kept_full[2];	/* of them, kept for a full set */
	bool full[2];		/* the family's set is known to be full */
	uint64_t refused;
};

static int banset_fam(const struct addr *a)
{
	return a->family == 4 ? 0 : 1;
}

/* --- the records --- */

static uint32_t banset_rehash(const void *ctx, uint32_t id)
{
	const struct banset *b = ctx;

	return htab_hash(&b->rec[id].a, sizeof(struct addr));
}

static bool banset_eq(const void *ctx, uint32_t id, const void *key)
{
	const struct banset *b = ctx;

	return memcmp(&b->rec[id].a, key, sizeof(struct addr)) == 0;
}

static struct banset_rec *banset_find(const struct banset *b, const struct addr *a)
{
	uint32_t i;

	if (b->nrec == 0)
		return NULL;
	i = htab_find(&b->idx, htab_hash(a, sizeof(*a)), banset_eq, b, a);
	return i == HTAB_NONE ? NULL : &b->rec[i];
}

/* The record of a, made when missing (not kept, no kernel timeout yet). NULL: no memory. */
static struct banset_rec *banset_get(struct banset *b, const struct addr *a, time_t until)
{
	struct banset_rec *r = banset_find(b, a);

	if (r) {
		r->until = until;
		return r;
	}
	if (grow(&b->rec, &b->caprec, b->nrec + 1, sizeof(*b->rec), 64) < 0)
		return NULL;
	if (htab_insert(&b->idx, htab_hash(a, sizeof(*a)), (uint32_t)b->nrec, banset_rehash, b) <
	    0)
		return NULL;
	r = &b->rec[b->nrec++];
	*r = (struct banset_rec){ .a = *a, .until = until, .why = UINT32_MAX };
	return r;
}

static void banset_unkeep(struct banset *b, struct banset_rec *r)
{
	if (!r->kept)
		return;
	b->kept[banset_fam(&r->a)]--;
	if (r->full)
		b->kept_full[banset_fam(&r->a)]--;
	r->kept = r->full = false;
}

static void banset_drop(struct banset *b, struct banset_rec *r)
{
	uint32_t i = (uint32_t)(r - b->rec), last = (uint32_t)(b->nrec - 1);

	banset_unkeep(b, r);
	htab_remove(&b->idx, htab_hash(&r->a, sizeof(r->a)), i, banset_rehash, b);
	if (i != last) {
		b->rec[i] = b->rec[last];
		htab_renumber(&b->idx, htab_hash(&b->rec[i].a, sizeof(struct addr)), last, i);
	}
	b->nrec--;
}

/* Marks r kept, for the reason an add gave. */
static void banset_keep(struct banset *b, struct banset_rec *r, enum ban_refusal why,
			const char *text)
{
	int f = banset_fam(&r->a);

	if (!r->kept)
		b->refused++;	/* a ban, not each try of it */
	banset_unkeep(b, r);
	r->kept = true;
	r->full = why == BAN_FULL;
	r->why = names_intern(text, strlen(text));
	b->kept[f]++;
	if (r->full)
		b->kept_full[f]++;
}

/* The set of r's family refused an add for want of room: said once. */
static void banset_now_full(struct banset *b, int f, const char *why)
{
	if (b->full[f])
		return;
	b->full[f] = true;
	log_error("%s: set %s is full (%s): new bans are kept, not in force, and added as soon "
		  "as it has room", b->ops->name, b->ops->set_name(b->be, f ? 6 : 4), why);
}

/* After an add that went in: a long ban keeps its record, another loses it. */
static void banset_in(struct banset *b, struct banset_rec *r, long t, time_t now)
{
	banset_unkeep(b, r);
	if (r->until - now > t)
		r->kernel_until = now + t;
	else
		banset_drop(b, r);
}

/* --- open, close, reload --- */

static const struct ban_ops *banset_ops_for(const struct config *c)
{
	return strcmp(c->backend, "nftables") == 0 ? &ban_nftables_ops : &ban_ipset_ops;
}

struct banset *banset_open(const struct config *c)
{
	struct banset *b = calloc(1, sizeof(*b));

	if (!b || htab_init(&b->idx, 64) < 0) {
		free(b);
		log_error("out of memory");
		return NULL;
	}
	b->ops = banset_ops_for(c);
	b->be = b->ops->open();
	if (!b->be || b->ops->ensure(b->be, c) < 0 || b->ops->use(b->be, c) < 0) {
		banset_close(b);
		return NULL;
	}
	return b;
}

void banset_close(struct banset *b)
{
	if (!b)
		return;
	if (b->be)
		b->ops->close(b->be);
	htab_free(&b->idx);
	free(b->rec);
	free(b);
}

/* Whether two configurations name the same sets of the same backend. */
static bool banset_same(const struct config *a, const struct config *b)
{
	const char *a4, *a6, *b4, *b6;

	banset_set_names(a, &a4, &a6);
	banset_set_names(b, &b4, &b6);
	return strcmp(a->backend, b->backend) == 0 && strcmp(a4, b4) == 0 &&
	       strcmp(a6, b6) == 0 && strcmp(a->nft_table, b->nft_table) == 0;
}

int banset_prepare(struct banset *b, const struct config *oc, const struct config *nc,
		   struct diag *d)
{
	const char *s4, *s6;

	if (banset_same(oc, nc))
		return 0;
	if (banset_ops_for(nc) != b->ops) {
		/* the firewall rule refers to the sets of one backend: moving the
		 * bans alone would leave them without a rule */
		diag_error(d, nc->path, 0, "backend: changing from %s to %s takes a restart "
			   "(systemctl restart spamwrath, which puts every ban into the new sets, "
			   "then systemctl restart spamwrath-firewall); still using %s",
			   b->ops->name, banset_backend_of(nc), b->ops->name);
		return -1;
	}
	if (b->ops->ensure(b->be, nc) < 0) {
		banset_set_names(nc, &s4, &s6);
		diag_error(d, nc->path, 0, "%s: sets %s/%s cannot be used (see above)", b->ops->name,
			   s4, s6);
		return -1;
	}
	return 0;
}

void banset_commit(struct banset *b, const struct config *nc)
{
	b->ops->use(b->be, nc);
	/* other sets: whether they have room is not known; the kept bans
	 * are tried at the next tick */
	b->full[0] = b->full[1] = false;
}

const char *banset_backend(const struct banset *b)
{
	return b->ops->name;
}

const char *banset_backend_of(const struct config *c)
{
	return banset_ops_for(c)->name;
}

void banset_set_names(const struct config *c, const char **set4, const char **set6)
{
	bool nft = banset_ops_for(c) == &ban_nftables_ops;

	*set4 = nft ? c->nft_set4 : c->set4;
	*set6 = nft ? c->nft_set6 : c->set6;
}

/* --- bans --- */

/* One add of r with what is left of it; 0, or the refusal (r kept). */
static int banset_try(struct banset *b, struct banset_rec *r, time_t now)
{
	long left = (long)(r->until - now), t = left > b->ops->timeout_max ? b->ops->timeout_max
									      : left;
	char why[BAN_WHY_MAX];
	int rc;

	if (t <= 0)
		t = 1;
	rc = b->ops->add(b->be, &r->a, t, why);
	if (rc == 0) {
		b->full[banset_fam(&r->a)] = false;
		banset_in(b, r, t, now);
		return 0;
	}
	if (rc == BAN_FULL)
		banset_now_full(b, banset_fam(&r->a), why);
	banset_keep(b, r, rc, why);
	return rc;
}

int banset_ban(struct banset *b, const struct addr *a, time_t until, time_t now)
{
	struct banset_rec *r = banset_get(b, a, until);
	char text[ADDR_STRLEN];

	if (!r) {
		log_error("%s: out of memory: %s not banned", b->ops->name, addr_format(a, text));
		return -1;
	}
	if (b->full[banset_fam(a)]) {
		char why[BAN_WHY_MAX];

		/* known full: no kernel call until a probe finds room */
		snprintf(why, sizeof(why), "set %s is full", b->ops->set_name(b->be, a->family));
		banset_keep(b, r, BAN_FULL, why);
		return 1;
	}
	return banset_try(b, r, now) == 0 ? 0 : 1;
}

int banset_unban(struct banset *b, const struct addr *a)
{
	banset_forget(b, a);
	return b->ops->del(b->be, a);
}

void banset_forget(struct banset *b, const struct addr *a)
{
	struct banset_rec *r = banset_find(b, a);

	if (r)
		banset_drop(b, r);
}

void banset_offence(struct banset *b, const struct addr *a, time_t now)
{
	struct banset_rec *r;
	char text[ADDR_STRLEN];

	if (b->kept[banset_fam(a)] == 0 || b->full[banset_fam(a)])
		return;
	r = banset_find(b, a);
	if (r && r->kept && banset_try(b, r, now) == 0)
		log_info("%s: the ban of %s is in force now (tried again at its next offence)",
			 b->ops->name, addr_format(a, text));
}

bool banset_in_force(const struct banset *b, const struct addr *a, const char **why)
{
	const struct banset_rec *r = b->kept[banset_fam(a)] ? banset_find(b, a) : NULL;

	if (!r || !r->kept)
		return true;
	if (why)
		*why = r->why == UINT32_MAX ? "refused by the kernel" : names_get(r->why);
	return false;
}

void banset_stats(const struct banset *b, struct banset_stats *st)
{
	st->backend = b->ops->name;
	st->refused = b->refused;
	for (int f = 0; f < 2; f++) {
		st->kept[f] = b->kept[f];
		st->full[f] = b->full[f];
	}
}

/* --- what one tick does --- */

struct banset_batch {
	struct banset *b;
	const struct banset_entry **v;	/* the entries handed to add_many */
	bool update;			/* some may be present: they take the new timeout */
	bool *refused;
	size_t n, said;
	const char *what;		/* "restore" or "retry", for messages */
};

static void banset_batch_refused(void *ctx, size_t i, enum ban_refusal r, const char *why)
{
	struct banset_batch *bb = ctx;
	struct banset *b = bb->b;
	const struct addr *a = &bb->v[i]->a;
	struct banset_rec *rec = banset_get(b, a, bb->v[i]->until);
	char text[ADDR_STRLEN];

	bb->refused[i] = true;
	if (r == BAN_FULL) {
		banset_now_full(b, banset_fam(a), why);
	} else if (bb->said++ < BANSET_RESTORE_SAY) {
		log_error("%s: %s: the kernel refused %s: %s; kept, not in force", b->ops->name,
			  bb->what, addr_format(a, text), why);
	}
	if (!rec) {
		log_error("%s: out of memory: the ban of %s is lost", b->ops->name,
			  addr_format(a, text));
		return;
	}
	banset_keep(b, rec, r, why);
}

/* Adds the n entries of one family through add_many; refused ones are kept.
 * The entries that went in get their long-ban records. -1: nothing tried. */
static int banset_add_many(struct banset *b, struct banset_batch *bb, time_t now)
{
	long max = b->ops->timeout_max;

	bb->b = b;
	if (bb->n == 0)
		return 0;
	if (b->ops->add_many(b->be, bb->v, bb->n, now, bb->update, banset_batch_refused, bb) < 0)
		return -1;
	for (size_t i = 0; i < bb->n; i++) {
		long left = (long)(bb->v[i]->until - now);
		struct banset_rec *r;

		if (bb->refused[i])
			continue;
		/* looked up by address: banset_drop moves records */
		r = left > max ? banset_get(b, &bb->v[i]->a, bb->v[i]->until)
			       : banset_find(b, &bb->v[i]->a);
		if (r)
			banset_in(b, r, left > max ? max : left, now);
	}
	return 0;
}

static void banset_refresh(struct banset *b, time_t now)
{
	long max = b->ops->timeout_max;

	for (size_t i = 0; i < b->nrec;) {
		struct banset_rec *r = &b->rec[i];
		long left = (long)(r->until - now);

		if (left <= 0) {
			banset_drop(b, r);	/* the last one moved here */
			continue;
		}
		if (!r->kept && r->kernel_until - now < BANSET_REFRESH_MARGIN) {
			long t = left > max ? max : left;
			char why[BAN_WHY_MAX], text[ADDR_STRLEN];

			if (b->ops->add(b->be, &r->a, t, why) == 0) {
				r->kernel_until = now + t;
				if (t == left) {
					/* the kernel entry now ends with the ban */
					banset_drop(b, r);
					continue;
				}
			} else {
				log_error("%s: cannot renew the long ban of %s: %s", b->ops->name,
					  addr_format(&r->a, text), why);
			}
		}
		i++;
	}
}

/* Adds the bans of family f kept for a full set, in batches; those that
 * find no room stay kept. The family stays marked full meanwhile, so
 * that refusals in the batch say nothing new. */
static void banset_add_kept(struct banset *b, int f, time_t now)
{
	struct banset_batch bb = { .what = "retry", .update = true };
	size_t n = b->kept_full[f];
	struct banset_entry *e = calloc(n ? n : 1, sizeof(*e));
	const struct banset_entry **v = calloc(n ? n : 1, sizeof(*v));
	bool *refused = calloc(n ? n : 1, sizeof(*refused));

	if (e && v && refused) {
		for (size_t i = 0; i < b->nrec && bb.n < n; i++) {
			struct banset_rec *k = &b->rec[i];

			if (k->kept && k->full && banset_fam(&k->a) == f) {
				e[bb.n] = (struct banset_entry){ k->a, k->until };
				v[bb.n] = &e[bb.n];
				bb.n++;
			}
		}
		bb.v = v;
		bb.refused = refused;
		banset_add_many(b, &bb, now);
	}
	free(e);
	free(v);
	free(refused);
}

/*
 * A probe of family f: one kept ban. When it goes in, the others follow
 * in one batch; the set has room again only when all of them went in
 * (a hash:ip set counts its fill per region of its table, so an address
 * can find room in a set that is full for most others).
 */
static void banset_probe(struct banset *b, int f, time_t now)
{
	struct banset_rec *r = NULL;
	size_t n = b->kept_full[f];
	long t;
	int rc;
	char why[BAN_WHY_MAX];

	for (size_t i = 0; i < b->nrec && !r; i++)
		if (b->rec[i].kept && b->rec[i].full && banset_fam(&b->rec[i].a) == f)
			r = &b->rec[i];
	if (!r)
		return;
	t = (long)(r->until - now) > b->ops->timeout_max ? b->ops->timeout_max
							  : (long)(r->until - now);
	rc = b->ops->add(b->be, &r->a, t > 0 ? t : 1, why);
	if (rc == BAN_FULL)
		return;		/* still no room */
	if (rc != 0) {
		/* refused for another reason: tried at its next offence, and the
		 * next probe takes another */
		banset_keep(b, r, rc, why);
		return;
	}
	banset_in(b, r, t, now);
	b->full[f] = true;
	banset_add_kept(b, f, now);
	if (b->kept_full[f])
		return;
	b->full[f] = false;
	log_info("%s: set %s has room again: the %zu bans kept meanwhile are in force",
		 b->ops->name, b->ops->set_name(b->be, f ? 6 : 4), n);
}

int banset_tick(struct banset *b, time_t now)
{
	if (b->ops->renewed && b->ops->renewed(b->be) > 0) {
		b->full[0] = b->full[1] = false;
		return 1;	/* the caller restores every ban */
	}
	banset_refresh(b, now);
	for (int f = 0; f < 2; f++)
		if (b->kept_full[f])
			banset_probe(b, f, now);
	return 0;
}

/* --- restoring at start --- */

int banset_ban_many(struct banset *b, const struct banset_entry *v, size_t n, time_t now)
{
	int rc = 0;

	for (int f = 0; f < 2 && rc == 0; f++) {
		struct banset_batch bb = { .what = "fleet", .update = true };
		char why[BAN_WHY_MAX];

		bb.v = calloc(n ? n : 1, sizeof(*bb.v));
		bb.refused = calloc(n ? n : 1, sizeof(*bb.refused));
		if (!bb.v || !bb.refused) {
			log_error("%s: out of memory adding %zu bans", b->ops->name, n);
			rc = -1;
		}
		for (size_t i = 0; rc == 0 && i < n; i++)
			if (v[i].until > now && banset_fam(&v[i].a) == f)
				bb.v[bb.n++] = &v[i];
		if (rc == 0 && b->full[f]) {
			/* known full: kept without a kernel call, as by banset_ban */
			snprintf(why, sizeof(why), "set %s is full", b->ops->set_name(b->be, f ? 6 : 4));
			for (size_t i = 0; i < bb.n; i++) {
				struct banset_rec *r = banset_get(b, &bb.v[i]->a, bb.v[i]->until);

				if (r)
					banset_keep(b, r, BAN_FULL, why);
			}
		} else if (rc == 0 && banset_add_many(b, &bb, now) < 0) {
			rc = -1;
		}
		free(bb.v);
		free(bb.refused);
	}
	return rc;
}

/* The bans of v of family f still running at now, in all[] (room for them). */
static size_t banset_running(const struct banset_entry *v, size_t n, int f, time_t now,
			     const struct banset_entry **all)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i].until > now && banset_fam(&v[i].a) == f)
			all[k++] = &v[i];
	return k;
}

/*
 * One family of a restore: which bans are in their set (membership, not a
 * count: a set may hold as many others), then the missing ones in batches.
 */
static int banset_restore_family(struct banset *b, int f, const struct banset_entry *v,
				 size_t n, time_t now, struct banset_restored *res)
{
	const struct ban_ops *ops = b->ops;
	struct banset_batch bb = { .what = "restore" };
	const struct banset_entry **all = calloc(n ? n : 1, sizeof(*all));
	long *left = calloc(n ? n : 1, sizeof(*left));
	size_t k;
	int rc = -1;

	bb.v = calloc(n ? n : 1, sizeof(*bb.v));
	bb.refused = calloc(n ? n : 1, sizeof(*bb.refused));
	if (!all || !left || !bb.v || !bb.refused) {
		log_error("%s: out of memory restoring bans", ops->name);
		goto out;
	}
	k = banset_running(v, n, f, now, all);
	if (k && ops->present(b->be, all, k, left) < 0)
		goto out;
	for (size_t i = 0; i < k; i++) {
		long rest = (long)(all[i]->until - now);
		struct banset_rec *r;

		if (left[i] < 0) {
			bb.v[bb.n++] = all[i];
			continue;
		}
		res->present++;
		/* present: untouched; a long one is kept alive from what is left */
		if (rest > ops->timeout_max && (r = banset_get(b, &all[i]->a, all[i]->until)))
			r->kernel_until = now + left[i];
	}
	if (banset_add_many(b, &bb, now) < 0)
		goto out;
	if (bb.said > BANSET_RESTORE_SAY)
		log_error("%s: restore: %zu more bans refused for other reasons than a full set; "
			  "kept, not in force", ops->name, bb.said - BANSET_RESTORE_SAY);
	for (size_t i = 0; i < bb.n; i++) {
		if (bb.refused[i])
			res->kept++;
		else
			res->added++;
	}
	if (b->kept_full[f])
		log_error("%s: restore: %zu bans did not fit into set %s (full); kept, not in force, "
			  "added as soon as it has room", ops->name, b->kept_full[f],
			  ops->set_name(b->be, f ? 6 : 4));
	rc = 0;
out:
	free(all);
	free(left);
	free(bb.v);
	free(bb.refused);
	return rc;
}

int banset_restore(struct banset *b, const struct banset_entry *v, size_t n, time_t now,
		   struct banset_restored *res)
{
	*res = (struct banset_restored){ 0 };
	for (int f = 0; f < 2; f++)
		if (banset_restore_family(b, f, v, n, now, res) < 0)
			return -1;
	return 0;
}
