/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ipset: owns the ban backend: the kernel sets set4 (hash:ip) and set6 (hash:net), through libipset.
 * In process over netlink, no fork of ipset(8); the kernel expires entries, long bans are re-added.
 * It must never flush or destroy a set, nor start on a set that would not block (wrong type, no timeout). */
#ifndef SPAMWRATH_IPSET_H
#define SPAMWRATH_IPSET_H

#include <stddef.h>
#include <time.h>

#include "addr.h"

/* The kernel's largest timeout: (UINT_MAX / 2) ms, in seconds. Longer bans
 * are added with this and re-added before it runs out. */
#define IPSET_TIMEOUT_MAX 2147483L

struct ipset;

/*
 * Opens a netlink session (in the caller's network namespace). NULL with
 * the reason logged (no permission, no ip_set module).
 */
struct ipset *ipset_open(void);
void ipset_close(struct ipset *s);

/*
 * Makes sure set4 (hash:ip family inet) and set6 (hash:net family inet6)
 * exist with timeout support: creates a missing one with maxelem and
 * default_timeout; a set of another type or family, or without timeout
 * support, is an error that says what exists and what is needed. An
 * existing set's members are never touched. 0, or -1 with the reason logged.
 */
int ipset_ensure(struct ipset *s, const char *set4, const char *set6, long maxelem,
		 long default_timeout);

/* Bans from now on go to these sets (checked with ipset_ensure). 0 or -1. */
int ipset_use(struct ipset *s, const char *set4, const char *set6);

/*
 * Adds a (an IPv4 address or network into set4, IPv6 into set6) for
 * timeout seconds; an address already present gets the new timeout. A
 * timeout above IPSET_TIMEOUT_MAX is remembered and re-added by
 * ipset_refresh until it runs out. 0, or -1 with the reason logged.
 */
int ipset_ban(struct ipset *s, const struct addr *a, long timeout, time_t now);

/* A ban to put back at start: its address and its end. */
struct ipset_entry {
	struct addr a;
	time_t until;
};

/*
 * Puts the bans of v that are missing from their sets back in, with their
 * remaining time, in one netlink batch per set (after a reboot the sets
 * are empty); members already present are left as they are (a restart).
 * Sets *added to the number added. 0, or -1 with the reason logged.
 */
int ipset_restore(struct ipset *s, const struct ipset_entry *v, size_t n, time_t now,
		  size_t *added);

/*
 * Adds every ban of v, present or not, with its remaining time, in one
 * netlink batch per set (many bans at once: those read from the fleet).
 * 0, or -1 with the reason logged.
 */
int ipset_ban_batch(struct ipset *s, const struct ipset_entry *v, size_t n, time_t now);

/* Removes a from its set (manual unban); absent is not an error. */
int ipset_unban(struct ipset *s, const struct addr *a);

/* A ban ended (expiry): stop re-adding it. */
void ipset_forget(struct ipset *s, const struct addr *a);

/* Re-adds long bans whose kernel timeout runs out within the hour. */
void ipset_refresh(struct ipset *s, time_t now);

/* Long bans being kept alive by ipset_refresh. */
size_t ipset_long_bans(const struct ipset *s);

#endif
