/* SPDX-License-Identifier: GPL-2.0-or-later */
/* banset: owns the kernel side of bans: the backend the configuration names (ipset), behind one
 * set of calls, in process over netlink; the kernel expires entries, long bans are re-added.
 * It must never flush or destroy a set, nor start on a set that would not block (wrong type, no timeout). */
#ifndef SPAMWRATH_BANSET_H
#define SPAMWRATH_BANSET_H

#include <stddef.h>
#include <time.h>

#include "addr.h"
#include "config.h"
#include "diag.h"

struct banset;

/*
 * Opens the backend c names (in the caller's network namespace) and makes
 * sure its sets exist as spamwrath needs them: creates a missing one; a
 * set of another type or family, or without timeouts, is an error that
 * says what exists and what is needed. An existing set's members are
 * never touched. NULL with the reason logged.
 */
struct banset *banset_open(const struct config *c);
void banset_close(struct banset *b);

/*
 * A reload: makes sure the sets nc names can be used (created when
 * missing), changing nothing in use yet. 0, or -1 with the reason in d.
 */
int banset_prepare(struct banset *b, const struct config *nc, struct diag *d);
/* The reload is committed: bans from now on go to the sets of nc. */
void banset_commit(struct banset *b, const struct config *nc);

/*
 * Adds a (an IPv4 address or network into set4, IPv6 into set6) for
 * timeout seconds; an address already present gets the new timeout. A
 * timeout above the kernel's cap is remembered and re-added by
 * banset_tick until it runs out. 0, or -1 with the reason logged.
 */
int banset_ban(struct banset *b, const struct addr *a, long timeout, time_t now);

/* Removes a from its set (manual unban); absent is not an error. */
int banset_unban(struct banset *b, const struct addr *a);

/* A ban ended (expiry): stop re-adding it. */
void banset_forget(struct banset *b, const struct addr *a);

/* Once a second: re-adds long bans whose kernel timeout runs out within the hour. */
void banset_tick(struct banset *b, time_t now);

/* A ban to put back at start: its address and its end. */
struct banset_entry {
	struct addr a;
	time_t until;
};

/*
 * Puts the bans of v that are missing from their sets back in, with their
 * remaining time, in one netlink batch per set (after a reboot the sets
 * are empty); members already present are left as they are (a restart).
 * Sets *added to the number added. 0, or -1 with the reason logged.
 */
int banset_restore(struct banset *b, const struct banset_entry *v, size_t n, time_t now,
		   size_t *added);

/*
 * Adds every ban of v, present or not, with its remaining time, in one
 * batch per set (many at once: the bans read from the fleet); a member
 * present takes the new timeout. 0, or -1 with the reason logged.
 */
int banset_ban_many(struct banset *b, const struct banset_entry *v, size_t n, time_t now);

/* The backend's name, as the configuration writes it ("ipset"). */
const char *banset_backend(const struct banset *b);

#endif
