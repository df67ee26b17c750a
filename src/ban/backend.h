/* SPDX-License-Identifier: GPL-2.0-or-later */
/* backend: owns the calls every ban backend (ipset.c, ...) gives banset.c, as one table of operations.
 * A backend speaks to its kernel subsystem and reports what it refused; banset.c keeps the books.
 * It must never be used outside src/ban: the daemon sees banset.h only. */
#ifndef SPAMWRATH_BAN_BACKEND_H
#define SPAMWRATH_BAN_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "banset.h"

/* Each backend's own struct begins with this. */
struct ban_backend {
	const struct ban_ops *ops;
};

/* One member of a set as a listing gives it. */
struct ban_member {
	struct addr a;
	long timeout;		/* what the kernel has left, seconds; 0 unknown */
};

struct ban_ops {
	const char *name;	/* the backend's name in the configuration */
	long timeout_max;	/* the kernel's largest element timeout, seconds */
	/* NULL with the reason logged */
	struct ban_backend *(*open)(void);
	void (*close)(struct ban_backend *be);
	/* check the sets c names, create missing ones; 0 or -1 logged */
	int (*ensure)(struct ban_backend *be, const struct config *c);
	/* adds, deletes go to the sets c names from now on (checked by ensure) */
	int (*use)(struct ban_backend *be, const struct config *c);
	/* one add (timeout <= timeout_max) or delete; 0, or -1 logged unless quiet */
	int (*add)(struct ban_backend *be, const struct addr *a, long timeout, bool quiet);
	int (*del)(struct ban_backend *be, const struct addr *a);
	/* the number of members of the set of family 4 or 6 */
	int (*count)(struct ban_backend *be, int family, size_t *n);
	/* the members of the set of family 4 or 6, sorted by address */
	int (*list)(struct ban_backend *be, int family, struct ban_member **v, size_t *n);
	/* adds the n bans of v (one family) as one batch; a member present
	 * takes the new timeout (banset_ban_many relies on it) */
	int (*add_many)(struct ban_backend *be, const struct banset_entry *const *v, size_t n,
			time_t now);
};

extern const struct ban_ops ban_ipset_ops;

int ban_member_cmp(const void *x, const void *y);

#endif
