/* SPDX-License-Identifier: GPL-2.0-or-later */
/* link: owns the connection to the fleet's Redis master: finding it (through Sentinel), AUTH, scripts, the channel.
 * Two hiredis contexts, one for commands and one subscribed; lost or stuck, both are dropped and retried with backoff.
 * It must never block the loop, never give up retrying, and never call back into a context hiredis has freed. */
#ifndef SPAMWRATH_FLEET_LINK_H
#define SPAMWRATH_FLEET_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>
#include <systemd/sd-event.h>

#define LINK_CONNECT_TIMEOUT_MS 5000	/* connect, AUTH, scripts, SUBSCRIBE */
#define LINK_REPLY_TIMEOUT_MS 10000	/* a reply later than this: the link is stuck */
#define LINK_BACKOFF_MIN_MS 250
#define LINK_BACKOFF_MAX_MS 10000
#define LINK_INFLIGHT_MAX 65536	/* commands waiting for their reply */

struct link_conf {
	const char *redis;	/* "/path/to.sock", "host:port" or "[v6]:port"; NULL with sentinels */
	char *const *sentinels;	/* "host:port" each */
	size_t nsentinels;
	const char *master_name;
	const char *user;	/* NULL: AUTH with the password alone */
	const char *password;	/* NULL: no AUTH */
	const char *channel;
	const char *const *scripts;
	size_t nscripts;
};

struct link_ops {
	/* ready: connected, authenticated, scripts loaded, channel subscribed */
	void (*up)(void *ctx);
	/* lost (or the attempt failed): why says so; retries follow by themselves */
	void (*down)(void *ctx, const char *why);
	/* a message published on the channel */
	void (*message)(void *ctx, const char *msg, size_t len);
	void *ctx;
};

/* A command's reply; r is NULL when the link went down before it came. */
typedef void link_reply_fn(void *ctx, const redisReply *r);

struct link;

/* Copies c; connects once link_start is called. NULL when out of memory. */
struct link *link_new(sd_event *e, const struct link_conf *c, const struct link_ops *ops);
void link_start(struct link *l);
/* Drops the connections; pending replies come as NULL first. */
void link_free(struct link *l);

bool link_ready(const struct link *l);
/* The master in use or last tried ("host:port" or the socket's path). */
const char *link_where(const struct link *l);
/* Why the last attempt failed, or NULL. */
const char *link_error(const struct link *l);
/* Commands waiting for their reply. */
size_t link_pending(const struct link *l);

/*
 * EVALSHA of script number script with nkeys of the argc arguments as
 * keys. 0 with fn to be called exactly once, or -1 (fn never called) when
 * the link is not ready or LINK_INFLIGHT_MAX commands wait.
 */
int link_eval(struct link *l, unsigned script, int nkeys, int argc, const char **argv,
	      const size_t *argvlen, link_reply_fn *fn, void *ctx);
/* Any other command, under the same terms. */
int link_command(struct link *l, int argc, const char **argv, const size_t *argvlen,
		 link_reply_fn *fn, void *ctx);

#endif
