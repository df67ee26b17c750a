/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fleet: owns what a host shares with the other MX hosts of its fleet through Redis: bans, unbans, offences.
 * It publishes what this host decides, applies through the daemon what others decide, and keeps in step after outages.
 * It must never decide for the local judge, re-publish what it received, or act on a message it could not verify. */
#ifndef SPAMWRATH_FLEET_H
#define SPAMWRATH_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <json-c/json.h>
#include <systemd/sd-event.h>

#include "addr.h"
#include "class.h"
#include "config.h"
#include "diag.h"

#define FLEET_QUEUE_MAX 65536	/* bans and unbans waiting for Redis; the oldest go first */
#define FLEET_WINDOW 1024	/* publications in flight at once */
#define FLEET_BEAT_MS 2000	/* heartbeat; a host missing three is not live */
#define FLEET_LOCK_TTL 30	/* seconds a host may take to turn a fleet decision into a ban */
#define FLEET_HOSTS_FORGET 86400	/* a host not heard from for a day leaves the list */

/* A ban as the fleet carries it. */
struct fleet_ban {
	struct addr addr;	/* the judge's key */
	time_t start, until;
	enum class_id cls;	/* CLASS_MANUAL for a ban by hand */
	uint32_t pattern;	/* interned name */
	const char *origin;	/* the host that decided it (received bans) */
	unsigned offences, earlier;
	uint64_t sent_ms;	/* received bans: when the sender signed it (wall clock) */
};

enum fleet_verdict {
	FLEET_APPLIED,		/* banned here now (or a ban here lengthened) */
	FLEET_HAD,		/* a ban here already covers it */
	FLEET_REFUSED,		/* not here: *why says why ("whitelisted here", ...) */
};

typedef void fleet_own_fn(void *fctx, const struct fleet_ban *b);

/* What the daemon does with what the fleet says. */
struct fleet_ops {
	/* Another host's ban. bulk: one of many read at a (re)connect, a
	 * flush follows; otherwise just published. */
	enum fleet_verdict (*ban)(void *ctx, const struct fleet_ban *b, bool bulk, const char **why);
	/* Another host lifted a ban; only a ban here that began before when
	 * is lifted. true when one was. */
	bool (*unban)(void *ctx, const struct addr *a, time_t when, bool forget, const char *by);
	/* The end of a batch of bulk bans. */
	void (*flush)(void *ctx);
	/* The fleet decided a ban on offences counted on several hosts, the
	 * last of them ours (class and pattern are its). */
	void (*decided)(void *ctx, const struct addr *a, time_t when, enum class_id cls,
			uint32_t pattern, unsigned offences, unsigned earlier);
	/* The fleet knows more earlier bans of a than our ban counted:
	 * lengthen it (the daemon then publishes it again). */
	void (*escalate)(void *ctx, const struct addr *a, unsigned earlier);
	/* Calls fn for every ban in force that this host decided. */
	void (*walk_own)(void *ctx, fleet_own_fn *fn, void *fctx);
	/* Bans in force here, for the heartbeat. */
	size_t (*active)(void *ctx);
	void *ctx;
};

/* What the fleet needs of the judge's rules. */
struct fleet_rules {
	uint32_t threshold;
	long findtime, bantime_max, repeat_window;
};

struct fleet;

/*
 * Reads the key (and the password) and checks the section; connects only
 * at fleet_start. 0, or -1 with the reasons in d (a key others can read,
 * shorter than 32 bytes, ...).
 */
int fleet_new(sd_event *e, const struct fleet_conf *c, const struct fleet_rules *r,
	      const struct fleet_ops *ops, struct fleet **out, struct diag *d);
/* Connects, and keeps reconnecting whenever the link is lost. */
void fleet_start(struct fleet *f);
/* Must not be called from inside one of the ops. */
void fleet_free(struct fleet *f);

void fleet_set_rules(struct fleet *f, const struct fleet_rules *r);
/* This host's name in the fleet. */
const char *fleet_host(const struct fleet *f);

/* A counted offence of ours (below the threshold here): shared when
 * share_offences is on and Redis is reachable, else dropped. */
void fleet_offence(struct fleet *f, const struct addr *a, time_t when, uint32_t weight,
		   enum class_id cls, uint32_t pattern);
/* A ban this host decided: published, or queued while Redis is away. */
void fleet_ban(struct fleet *f, const struct fleet_ban *b);
/* A ban lifted here by hand: lifted everywhere. */
void fleet_unban(struct fleet *f, const struct addr *a, bool forget);

/* Reachability, counters, lag and the hosts of the fleet (as of the last
 * heartbeat), for spamwrathctl status. */
struct json_object *fleet_status(struct fleet *f);
/* One line for systemd's STATUS=, into buf. */
void fleet_summary(struct fleet *f, char *buf, size_t len);

#endif
