/* SPDX-License-Identifier: GPL-2.0-or-later */
/* backend: owns the calls every ban backend (ipset.c, ...) gives banset.c, as one table of operations.
 * A backend speaks to its kernel subsystem and says what it refused and why; banset.c keeps the books.
 * It must never be used outside src/ban: the daemon sees banset.h only. */
#ifndef SPAMWRATH_BAN_BACKEND_H
#define SPAMWRATH_BAN_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "banset.h"

/* Room for a refusal's reason: the kernel's and the libraries' messages
 * are one short sentence. */
#define BAN_WHY_MAX 256

/* What an add can end in besides 0. */
enum ban_refusal {
	BAN_REFUSED = -1,	/* the kernel refused this element (why says why) */
	BAN_FULL = -2,		/* the set holds no more elements */
};

/* Each backend's own struct begins with this. */
struct ban_backend {
	const struct ban_ops *ops;
};

/* One member of a set as a listing gives it. */
struct ban_member {
	struct addr a;
	long timeout;		/* what the kernel has left, seconds; 0 unknown */
};

/* add_many's report of element i of its array: refused (BAN_REFUSED or BAN_FULL). */
typedef void ban_refused_fn(void *ctx, size_t i, enum ban_refusal r, const char *why);

struct ban_ops {
	const char *name;	/* the backend's name in the configuration */
	long timeout_max;	/* the kernel's largest element timeout, seconds */
	/* NULL with the reason logged */
	struct ban_backend *(*open)(void);
	void (*close)(struct ban_backend *be);
	/* checks the sets c names, creates missing ones; 0 or -1 logged */
	int (*ensure)(struct ban_backend *be, const struct config *c);
	/* adds and deletes go to the sets c names from now on (checked by ensure) */
	int (*use)(struct ban_backend *be, const struct config *c);
	/* the set of family 4 or 6, for messages */
	const char *(*set_name)(const struct ban_backend *be, int family);
	/* one add (0 < timeout <= timeout_max): 0, or a refusal with why filled;
	 * a set destroyed under us is created again first */
	int (*add)(struct ban_backend *be, const struct addr *a, long timeout,
		   char why[BAN_WHY_MAX]);
	/* one delete, absent is no error; 0 or -1 logged */
	int (*del)(struct ban_backend *be, const struct addr *a);
	/* the members of the set of family 4 or 6, sorted by ban_member_cmp; 0 or -1 logged */
	int (*list)(struct ban_backend *be, int family, struct ban_member **v, size_t *n);
	/*
	 * Adds the n bans of v (one family) with what is left of them at now,
	 * capped at timeout_max, in as few netlink batches as the kernel
	 * allows; a member present takes the new timeout (banset_ban_many
	 * relies on it); each element the kernel refused is reported through
	 * refused and the others go in. 0, or -1 logged when nothing could be
	 * tried.
	 */
	int (*add_many)(struct ban_backend *be, const struct banset_entry *const *v, size_t n,
			time_t now, ban_refused_fn *refused, void *ctx);
};

extern const struct ban_ops ban_ipset_ops;

int ban_member_cmp(const void *x, const void *y);

#endif
