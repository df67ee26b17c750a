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
	/*
	 * Which of the n bans of v (one family) are in their set: left[i] is
	 * -1 for a missing one, else what the kernel has left of it, seconds
	 * (0 unknown). From one listing, or tests in batches: never a kernel
	 * call per ban. 0, or -1 logged.
	 */
	int (*present)(struct ban_backend *be, const struct banset_entry *const *v, size_t n,
		       long *left);
	/*
	 * Adds the n bans of v (one family) with what is left of them at now,
	 * capped at timeout_max, in as few netlink batches as the kernel
	 * allows; with update some may be present already, and take the new
	 * timeout (banset_ban_many relies on it); each element the kernel
	 * refused is reported through refused and the others go in. 0, or -1
	 * logged when nothing could be tried.
	 */
	int (*add_many)(struct ban_backend *be, const struct banset_entry *const *v, size_t n,
			time_t now, bool update, ban_refused_fn *refused, void *ctx);
	/*
	 * Optional, once a second, and cheap (no listing): 1 when a set was
	 * made anew under us, empty (a whole ruleset flushed and loaded again),
	 * and is in use again; else 0.
	 */
	int (*renewed)(struct ban_backend *be);
};

extern const struct ban_ops ban_ipset_ops;
extern const struct ban_ops ban_nftables_ops;

#endif
