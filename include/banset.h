/* SPDX-License-Identifier: GPL-2.0-or-later */
/* banset: owns the kernel side of bans: the backend the configuration names (ipset or nftables)
 * behind one set of calls, in process over netlink; bans the kernel refused are kept and retried.
 * It must never flush or destroy a set, touch another table, start on a set that would not block,
 * nor wait on a full set. */
#ifndef SPAMWRATH_BANSET_H
#define SPAMWRATH_BANSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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
 * A reload from oc to nc: makes sure the sets nc names can be used
 * (created when missing), changing nothing in use yet. A change of
 * backend is refused: it takes a restart (the firewall rule refers to the
 * sets of one backend). 0, or -1 with the reason in d.
 */
int banset_prepare(struct banset *b, const struct config *oc, const struct config *nc,
		   struct diag *d);
/* The reload is committed: bans from now on go to the sets of nc. */
void banset_commit(struct banset *b, const struct config *nc);

/*
 * Adds a (an IPv4 address or network into set4, IPv6 into set6) until
 * until; an address already present gets the new timeout. A ban longer
 * than the kernel's timeout cap is re-added by banset_tick until it ends.
 * 0: in force. 1: the kernel refused it (a full set: then no further add
 * reaches the kernel until a probe finds room); it is kept, not in force,
 * banset_why says why, and it is added when room appears or at the
 * address's next offence. -1: out of memory (logged), not kept.
 */
int banset_ban(struct banset *b, const struct addr *a, time_t until, time_t now);

/* Removes a from its set (manual unban); absent is not an error. */
int banset_unban(struct banset *b, const struct addr *a);

/* A ban ended (expiry): stop re-adding or retrying it. */
void banset_forget(struct banset *b, const struct addr *a);

/* An offence of a, banned and so not judged again: a kept ban of a is
 * tried again (unless its set is known to be full). */
void banset_offence(struct banset *b, const struct addr *a, time_t now);

/*
 * Once a second: re-adds long bans whose kernel timeout runs out within
 * the hour, and while a set holds no room, tries one kept ban: when it
 * goes in, the others follow in one batch. At most a few kernel calls.
 * 1 when the sets were made anew under us, empty (nftables: a ruleset
 * flushed and loaded again), and are in use again: the caller then puts
 * every ban back with banset_restore. Else 0.
 */
int banset_tick(struct banset *b, time_t now);

/* A ban to put back at start: its address and its end. */
struct banset_entry {
	struct addr a;
	time_t until;
};

struct banset_restored {
	size_t present;		/* already in their sets (a restart) */
	size_t added;		/* put back (after a reboot) */
	size_t kept;		/* refused by the kernel: not in force (said in the log) */
};

/*
 * Puts the bans of v that are missing from their sets back in, with their
 * remaining time: membership comes from one listing of each set, the
 * missing ones go in one netlink batch per set. What the kernel refuses
 * (a full set, an element it will not store) is kept as by banset_ban,
 * and said; the others go in. 0, or -1 with the reason logged when the
 * sets cannot be read.
 */
int banset_restore(struct banset *b, const struct banset_entry *v, size_t n, time_t now,
		   struct banset_restored *r);

/* False for a ban kept because the kernel refused it, with *why (may be NULL) set. */
bool banset_in_force(const struct banset *b, const struct addr *a, const char **why);

struct banset_stats {
	const char *backend;	/* "ipset" */
	uint64_t refused;	/* adds the kernel refused, since start */
	size_t kept[2];		/* bans not in force: IPv4, IPv6 */
	bool full[2];		/* the set is known to be full */
};

void banset_stats(const struct banset *b, struct banset_stats *st);

/*
 * Adds every ban of v, present or not, with its remaining time, in
 * batches per set (many at once: the bans read from the fleet); a member
 * present takes the new timeout. What the kernel refuses is kept as by
 * banset_ban. 0, or -1 with the reason logged when nothing could be tried.
 */
int banset_ban_many(struct banset *b, const struct banset_entry *v, size_t n, time_t now);

/* The backend's name, as the configuration writes it ("ipset"). */
const char *banset_backend(const struct banset *b);

/* The same for a configuration, and the names of the sets it bans into,
 * with nothing opened (a dry run reports them too). */
const char *banset_backend_of(const struct config *c);
void banset_set_names(const struct config *c, const char **set4, const char **set6);

#endif
