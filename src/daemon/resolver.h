/* SPDX-License-Identifier: GPL-2.0-or-later */
/* resolver: owns looking whitelist host names up again, off the event loop, while bans go on.
 * One worker thread per round resolves copies of the names; an eventfd hands results back to the loop.
 * It must never touch the live whitelist from the worker, nor block the loop on DNS. */
#ifndef SPAMWRATH_RESOLVER_H
#define SPAMWRATH_RESOLVER_H

#include <stddef.h>

#include <systemd/sd-event.h>

#include "addr.h"

struct resolver_result {
	char *name;
	int error;		/* 0, or getaddrinfo's code */
	struct addr *addrs;	/* the caller may take them (set to NULL) */
	size_t naddrs;
};

/* Called in the loop when a round is done; the results are freed after. */
typedef void resolver_done_fn(void *ctx, struct resolver_result *v, size_t n);

struct resolver;

struct resolver *resolver_new(sd_event *ev, resolver_done_fn *done, void *ctx);
/* Waits for a running round (getaddrinfo cannot be cancelled). */
void resolver_free(struct resolver *r);

/* Starts a round over names (copied). 0 started, 1 a round is still
 * running (nothing done), -1 error (logged). */
int resolver_start(struct resolver *r, char *const *names, size_t n);

#endif
