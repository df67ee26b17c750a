/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What every backend shares: the choice of backend, the long bans (longer
 * than the kernel's timeout cap) re-added before their kernel entry runs
 * out, and the restore at start. The backends (backend.h) only speak to
 * the kernel.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "backend.h"
#include "log.h"

/* Re-add a long ban when its kernel entry has less than this left. */
#define BANSET_REFRESH_MARGIN 3600

struct banset_long {
	struct addr a;
	time_t until;		/* the ban's end */
	time_t kernel_until;	/* when the kernel entry runs out */
};

struct banset {
	struct ban_backend *be;
	const struct ban_ops *ops;
	struct banset_long *longs;
	size_t nlongs, caplongs;
};

int ban_member_cmp(const void *x, const void *y)
{
	return memcmp(&((const struct ban_member *)x)->a, &((const struct ban_member *)y)->a,
		      sizeof(struct addr));
}

static const struct ban_ops *banset_ops_for(const struct config *c)
{
	(void)c;
	return &ban_ipset_ops;
}

struct banset *banset_open(const struct config *c)
{
	struct banset *b = calloc(1, sizeof(*b));

	if (!b) {
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
	free(b->longs);
	free(b);
}

int banset_prepare(struct banset *b, const struct config *nc, struct diag *d)
{
	if (b->ops->ensure(b->be, nc) < 0) {
		diag_error(d, nc->path, 0, "%s: sets %s/%s cannot be used (see above)", b->ops->name,
			   nc->set4, nc->set6);
		return -1;
	}
	return 0;
}

void banset_commit(struct banset *b, const struct config *nc)
{
	b->ops->use(b->be, nc);
}

const char *banset_backend(const struct banset *b)
{
	return b->ops->name;
}

/* --- long bans --- */

static struct banset_long *banset_find_long(struct banset *b, const struct addr *a)
{
	for (size_t i = 0; i < b->nlongs; i++)
		if (memcmp(&b->longs[i].a, a, sizeof(*a)) == 0)
			return &b->longs[i];
	return NULL;
}

void banset_forget(struct banset *b, const struct addr *a)
{
	struct banset_long *l = banset_find_long(b, a);

	if (l)
		*l = b->longs[--b->nlongs];
}

static int banset_remember_long(struct banset *b, const struct addr *a, time_t until,
				time_t kernel_until)
{
	struct banset_long *l = banset_find_long(b, a);

	if (!l) {
		if (grow(&b->longs, &b->caplongs, b->nlongs + 1, sizeof(*b->longs), 16) < 0)
			return -1;
		l = &b->longs[b->nlongs++];
		l->a = *a;
	}
	l->until = until;
	l->kernel_until = kernel_until;
	return 0;
}

/* --- bans --- */

int banset_ban(struct banset *b, const struct addr *a, long timeout, time_t now)
{
	long max = b->ops->timeout_max;
	long t = timeout > max ? max : timeout;
	char text[ADDR_STRLEN];

	if (t <= 0)
		t = 1;
	if (b->ops->add(b->be, a, t, false) < 0)
		return -1;
	if (timeout > max) {
		if (banset_remember_long(b, a, now + timeout, now + t) < 0)
			log_error("%s: out of memory: the ban of %s ends after %lds, not %lds",
				  b->ops->name, addr_format(a, text), t, timeout);
	} else {
		banset_forget(b, a);
	}
	return 0;
}

int banset_unban(struct banset *b, const struct addr *a)
{
	banset_forget(b, a);
	return b->ops->del(b->be, a);
}

void banset_tick(struct banset *b, time_t now)
{
	long max = b->ops->timeout_max;

	for (size_t i = 0; i < b->nlongs;) {
		struct banset_long *l = &b->longs[i];
		long left = (long)(l->until - now);

		if (left <= 0) {
			*l = b->longs[--b->nlongs];
			continue;
		}
		if (l->kernel_until - now < BANSET_REFRESH_MARGIN) {
			long t = left > max ? max : left;

			if (b->ops->add(b->be, &l->a, t, false) == 0) {
				l->kernel_until = now + t;
				if (t == left) {
					/* the kernel entry now ends with the ban */
					*l = b->longs[--b->nlongs];
					continue;
				}
			}
		}
		i++;
	}
}

/* --- restoring at start --- */

int banset_ban_many(struct banset *b, const struct banset_entry *v, size_t n, time_t now)
{
	const struct banset_entry **p4 = calloc(n ? n : 1, sizeof(*p4));
	const struct banset_entry **p6 = calloc(n ? n : 1, sizeof(*p6));
	size_t k4 = 0, k6 = 0;
	int rc = -1;

	if (!p4 || !p6) {
		log_error("%s: out of memory adding %zu bans", b->ops->name, n);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		long left = (long)(v[i].until - now);

		if (left <= 0)
			continue;
		if (v[i].a.family == 4)
			p4[k4++] = &v[i];
		else
			p6[k6++] = &v[i];
		if (left > b->ops->timeout_max)
			banset_remember_long(b, &v[i].a, v[i].until, now + b->ops->timeout_max);
	}
	rc = b->ops->add_many(b->be, p4, k4, now) < 0 || b->ops->add_many(b->be, p6, k6, now) < 0 ?
		-1 : 0;
out:
	free(p4);
	free(p6);
	return rc;
}

int banset_restore(struct banset *b, const struct banset_entry *v, size_t n, time_t now,
		   size_t *added)
{
	const struct ban_ops *ops = b->ops;
	long max = ops->timeout_max;
	struct ban_member *m4 = NULL, *m6 = NULL;
	const struct banset_entry **miss4, **miss6;
	size_t n4 = 0, n6 = 0, k4 = 0, k6 = 0;
	int rc = 0;

	size_t want4 = 0, want6 = 0, have4, have6;
	bool all4, all6;

	*added = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i].until <= now)
			continue;
		if (v[i].a.family == 4)
			want4++;
		else
			want6++;
	}
	miss4 = calloc(n ? n : 1, sizeof(*miss4));
	miss6 = calloc(n ? n : 1, sizeof(*miss6));
	if (!miss4 || !miss6 || ops->count(b->be, 4, &have4) < 0 ||
	    ops->count(b->be, 6, &have6) < 0) {
		rc = -1;
		goto out;
	}
	/*
	 * Reading a whole set costs more than adding it again, so the member
	 * list is read only when it can tell something: an empty set (after
	 * a reboot) lacks every ban, and a set holding at least as many
	 * members as there are bans (a restart) is taken to hold them all.
	 */
	all4 = have4 > 0 && have4 >= want4;
	all6 = have6 > 0 && have6 >= want6;
	if ((have4 > 0 && !all4 && ops->list(b->be, 4, &m4, &n4) < 0) ||
	    (have6 > 0 && !all6 && ops->list(b->be, 6, &m6, &n6) < 0)) {
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct ban_member key = { .a = v[i].a };
		bool v4 = v[i].a.family == 4;
		const struct ban_member *hit;
		long left = (long)(v[i].until - now);

		if (left <= 0)
			continue;
		if (v4 ? all4 : all6) {
			/* present, and its kernel timeout unknown: a long one is
			 * re-added by the next banset_tick */
			if (left > max)
				banset_remember_long(b, &v[i].a, v[i].until, now);
			continue;
		}
		/* an empty set has no array at all (bsearch wants one) */
		hit = (v4 ? n4 : n6) == 0 ? NULL :
			bsearch(&key, v4 ? m4 : m6, v4 ? n4 : n6, sizeof(key), ban_member_cmp);
		if (hit) {
			/* present: untouched; a long one is kept alive from what is left */
			if (left > max && hit->timeout > 0)
				banset_remember_long(b, &v[i].a, v[i].until, now + hit->timeout);
			continue;
		}
		if (v4)
			miss4[k4++] = &v[i];
		else
			miss6[k6++] = &v[i];
		if (left > max)
			banset_remember_long(b, &v[i].a, v[i].until, now + max);
	}
	if (ops->add_many(b->be, miss4, k4, now) < 0 || ops->add_many(b->be, miss6, k6, now) < 0)
		rc = -1;
	else
		*added = k4 + k6;
out:
	free(m4);
	free(m6);
	free(miss4);
	free(miss6);
	return rc;
}
