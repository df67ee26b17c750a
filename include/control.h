/* SPDX-License-Identifier: GPL-2.0-or-later */
/* control: owns the control socket: a Unix stream socket speaking a small line protocol.
 * Peers are checked by SO_PEERCRED (root or control_group); request size, idle time, clients are bounded.
 * It must never block the event loop: a stuck or hostile client costs a buffer and a timer, nothing more. */
#ifndef SPAMWRATH_CONTROL_H
#define SPAMWRATH_CONTROL_H

/*
 * The protocol (also for filters that speak it directly, e.g. from Perl):
 *
 *   request:  one line of at most CONTROL_REQUEST_MAX bytes, ending in "\n"
 *     status                         state of the daemon (JSON)
 *     list                           active bans (JSON array)
 *     ban ADDRESS [for=DURATION] [reason=TEXT...]
 *     unban ADDRESS [forget] [local]
 *     reload
 *     metrics                        the metrics, Prometheus' text format
 *     why ADDRESS                    the evidence of its bans (JSON)
 *     quit
 *   reply:    zero or more "NNN-text" lines, then one "NNN text" line
 *     200 done, 400 bad request, 403 not allowed, 404 not banned,
 *     409 refused by the judge (whitelisted, loopback, ...), 500 failed,
 *     503 too many clients
 *
 * A connection may send several requests, one after the other; it is
 * closed after CONTROL_IDLE seconds without a whole one (bytes trickled
 * in do not count), or without reading a whole reply. A request with a
 * NUL byte in it is refused (400), not cut short.
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

#include "addr.h"
#include "diag.h"

#define CONTROL_REQUEST_MAX 4096
#define CONTROL_IDLE 30		/* seconds */
#define CONTROL_CLIENTS 16

/* What the daemon answers; control only carries it. */
struct control_ops {
	struct json_object *(*status)(void *ctx);
	struct json_object *(*list)(void *ctx);
	/* 0, or -1 with the reason in *why */
	int (*ban)(void *ctx, const struct addr *a, long duration, const char *reason,
		   const char **why);
	/* local: on this host only, not across its fleet */
	int (*unban)(void *ctx, const struct addr *a, bool forget, bool local);
	/* 0, or -1 with the reasons in d */
	int (*reload)(void *ctx, struct diag *d);
	void *ctx;
	/* A malloc'd text of lines, or NULL out of memory; NULL op: none. */
	char *(*metrics)(void *ctx);
	/* NULL out of memory; NULL op: none. */
	struct json_object *(*why)(void *ctx, const struct addr *a);
};

struct control;

/*
 * Listens on path (a stale socket there is replaced), mode 0660, group
 * group (when it exists; otherwise root only, with a warning in d).
 * 0, or -1 with the reason in d.
 */
int control_start(sd_event *e, const char *path, const char *group,
		  const struct control_ops *ops, struct control **out, struct diag *d);
void control_stop(struct control *c);

/* The idle limit, CONTROL_IDLE seconds unless set (tests shorten it). */
void control_set_idle(struct control *c, unsigned ms);

/* Connected clients, for status. */
unsigned control_clients(const struct control *c);

#endif
