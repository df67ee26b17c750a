/* SPDX-License-Identifier: GPL-2.0-or-later */
/* whitelist: owns the networks spamwrath must never ban: listed nets, resolved hosts, own addresses.
 * A host whose lookup fails keeps its last good answer; at start that is only a warning.
 * It must never answer "not listed" for an address inside, or overlapping, a listed network. */
#ifndef SPAMWRATH_WHITELIST_H
#define SPAMWRATH_WHITELIST_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "diag.h"

struct wl_host {
	char *name;
	struct addr *addrs;	/* last good answer */
	size_t naddrs;
};

struct whitelist {
	struct addr *nets;	/* literal networks from the configuration */
	size_t nnets;
	struct wl_host *hosts;	/* host names, resolved */
	size_t nhosts;
	struct addr *self;	/* the host's own addresses (ignore_self) */
	size_t nself;
};

/* True when the text is a network, an address or a host name. */
bool whitelist_entry_valid(const char *s);

/* Sorts the entries into networks and host names. -1 (with reasons in d)
 * for an entry that is neither. Does not resolve. */
int whitelist_init(struct whitelist *w, char *const *entries, size_t n,
		   const char *where, struct diag *d);
void whitelist_free(struct whitelist *w);

/* Looks every host name up again; a failure keeps the previous answer and
 * adds a warning to d. Returns the number of names that failed. */
size_t whitelist_resolve(struct whitelist *w, struct diag *d);

/* Looks one name up; blocking, but safe in any thread (the daemon's
 * resolver runs it off the event loop). 0 with *out (malloc'd, the
 * caller's) and *n set, or getaddrinfo's error code. */
int whitelist_lookup_name(const char *name, struct addr **out, size_t *n);

/* Replaces the addresses of host i with v (taken over; the old freed). */
void whitelist_set_host(struct whitelist *w, size_t i, struct addr *v, size_t n);

/* Replaces the list of own addresses with the interfaces' current ones. */
int whitelist_load_self(struct whitelist *w);

/* The reason net must not be banned ("whitelist", "self"), or NULL.
 * net may be a network (an IPv6 /64): any overlap counts. */
const char *whitelist_check(const struct whitelist *w, const struct addr *net);

#endif
