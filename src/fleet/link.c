/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * States: WAIT (the backoff timer runs) -> DISCOVER (asking the sentinels
 * in turn for the master) -> HANDSHAKE (the command context sends AUTH,
 * ROLE and SCRIPT LOAD while the other one sends AUTH and SUBSCRIBE) ->
 * READY. Any failure drops every context and goes back to WAIT, with the
 * backoff doubled up to LINK_BACKOFF_MAX_MS; READY resets it.
 *
 * Two contexts because hiredis 0.14 takes no other command on a context
 * once it has subscribed. Replies come back in order, so the send times of
 * the commands waiting for one form a queue; the one-second watch drops a
 * link whose oldest command waits longer than LINK_REPLY_TIMEOUT_MS (a
 * master that stopped answering without closing the socket).
 *
 * hiredis frees a context by itself after its connect or disconnect
 * callback; a context we drop ourselves first loses its data pointer, so
 * that every callback it still makes (pending replies come back NULL) is
 * recognised as coming from the past.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/async.h>

#include "adapter.h"
#include "addr.h"
#include "link.h"

#define LINK_WATCH_MS 1000
#define LINK_HOST_MAX 256
#define LINK_SENTINEL_PORT 26379
#define LINK_REDIS_PORT 6379

enum link_state { L_IDLE, L_WAIT, L_DISCOVER, L_HANDSHAKE, L_READY };

struct link {
	sd_event *ev;
	/* the configuration, owned */
	char *redis, **sentinels, *master_name, *user, *password, *channel, **scripts;
	size_t nsentinels, nscripts;
	struct link_ops ops;

	enum link_state st;
	redisAsyncContext *cmd, *sub, *sen;
	size_t sentinel;	/* the one being asked */
	char **shas;
	unsigned handshake;	/* replies the command context still awaits */
	bool subscribed;
	sd_event_source *timer, *watch;
	uint64_t backoff_ms;
	char *where;		/* the master in use or last tried, for messages */
	char *error;		/* why the last attempt failed */

	uint64_t *sent;		/* send times (ms, monotonic) of commands awaiting a reply */
	size_t head, count, cap;
};

/* A user command in flight. */
struct link_call {
	struct link *l;
	link_reply_fn *fn;
	void *ctx;
};

static void link_connect(struct link *l);
static void link_next_sentinel(struct link *l);

static uint64_t link_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void link_set(char **dst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Replaces *dst by the formatted text (kept as it was when out of memory). */
static void link_set(char **dst, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) >= 0) {
		free(*dst);
		*dst = s;
	}
	va_end(ap);
}

/* --- the queue of send times --- */

static int link_sent_push(struct link *l)
{
	if (l->count == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		uint64_t *v;

		if (cap > LINK_INFLIGHT_MAX)
			return -1;
		v = malloc(cap * sizeof(*v));
		if (!v)
			return -1;
		for (size_t i = 0; i < l->count; i++)
			v[i] = l->sent[(l->head + i) % l->cap];
		free(l->sent);
		l->sent = v;
		l->cap = cap;
		l->head = 0;
	}
	l->sent[(l->head + l->count++) % l->cap] = link_mono_ms();
	return 0;
}

static void link_sent_pop(struct link *l)
{
	if (l->count) {
		l->head = (l->head + 1) % l->cap;
		l->count--;
	}
}

/* --- failing and retrying --- */

static void link_timer(struct link *l, uint64_t ms)
{
	sd_event_source_set_time_relative(l->timer, ms * 1000u);
	sd_event_source_set_enabled(l->timer, SD_EVENT_ONESHOT);
}

static void link_drop(redisAsyncContext **pp)
{
	redisAsyncContext *ac = *pp;

	if (!ac)
		return;
	*pp = NULL;
	ac->data = NULL;
	redisAsyncFree(ac);
}

static void link_drop_all(struct link *l)
{
	link_drop(&l->sen);
	link_drop(&l->sub);
	link_drop(&l->cmd);
	l->head = l->count = 0;
	l->handshake = 0;
	l->subscribed = false;
}

static void link_fail(struct link *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void link_fail(struct link *l, const char *fmt, ...)
{
	va_list ap;
	char *why;

	if (l->st == L_WAIT || l->st == L_IDLE)
		return;		/* already failing: the first reason stands */
	va_start(ap, fmt);
	if (vasprintf(&why, fmt, ap) >= 0) {
		free(l->error);
		l->error = why;
	}
	va_end(ap);
	l->st = L_WAIT;
	link_drop_all(l);
	link_timer(l, l->backoff_ms);
	l->backoff_ms = l->backoff_ms * 2 > LINK_BACKOFF_MAX_MS ? LINK_BACKOFF_MAX_MS :
		l->backoff_ms * 2;
	l->ops.down(l->ops.ctx, l->error ? l->error : "out of memory");
}

static int link_on_timer(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct link *l = userdata;

	if (l->st == L_WAIT) {
		link_connect(l);
	} else if (l->st == L_DISCOVER) {
		link_set(&l->error, "%s: no answer within %d ms", l->where,
			 LINK_CONNECT_TIMEOUT_MS);
		link_next_sentinel(l);
	} else if (l->st == L_HANDSHAKE) {
		link_fail(l, "%s: no answer within %d ms", l->where, LINK_CONNECT_TIMEOUT_MS);
	}
	return 0;
}

static int link_on_watch(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct link *l = userdata;

	if (l->st == L_READY && l->count &&
	    link_mono_ms() - l->sent[l->head] > LINK_REPLY_TIMEOUT_MS)
		link_fail(l, "%s: no reply for %d ms", l->where, LINK_REPLY_TIMEOUT_MS);
	sd_event_source_set_time_relative(es, LINK_WATCH_MS * 1000u);
	return 0;
}

/* An error reply that means "not the master any more" or "not ready". */
static bool link_fatal_error(const redisReply *r)
{
	static const char *const fatal[] = { "READONLY", "NOSCRIPT", "LOADING", "MASTERDOWN" };

	if (!r || r->type != REDIS_REPLY_ERROR)
		return false;
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		if (strncmp(r->str, fatal[i], strlen(fatal[i])) == 0)
			return true;
	return false;
}

/* --- contexts --- */

/* hiredis frees ac once its callback returns: no pointer to it may stay. */
static void link_forget(struct link *l, const redisAsyncContext *ac)
{
	if (ac == l->sen)
		l->sen = NULL;
	else if (ac == l->cmd)
		l->cmd = NULL;
	else if (ac == l->sub)
		l->sub = NULL;
}

static void link_on_connect(const redisAsyncContext *ac, int status)
{
	struct link *l = ac->data;
	bool sentinel;

	if (!l || status == REDIS_OK)
		return;
	sentinel = ac == l->sen;
	link_forget(l, ac);
	if (sentinel) {
		link_set(&l->error, "%s: %s", l->where, ac->errstr ? ac->errstr : "cannot connect");
		((redisAsyncContext *)ac)->data = NULL;	/* its pending query: not ours now */
		link_next_sentinel(l);
		return;
	}
	link_fail(l, "%s: %s", l->where, ac->errstr ? ac->errstr : "cannot connect");
}

static void link_on_disconnect(const redisAsyncContext *ac, int status)
{
	struct link *l = ac->data;
	bool sentinel;

	if (!l)
		return;
	sentinel = ac == l->sen;
	link_forget(l, ac);
	if (!sentinel)
		link_fail(l, "%s: connection lost%s%s", l->where,
			  ac->errstr && *ac->errstr ? ": " : "", ac->errstr ? ac->errstr : "");
}

/* A new context to host:port or a socket path, driven by the loop. */
static redisAsyncContext *link_open(struct link *l, const char *target, unsigned defport)
{
	char host[LINK_HOST_MAX];
	unsigned port = 0;
	redisAsyncContext *ac;

	if (target[0] == '/') {
		link_set(&l->where, "%s", target);
		ac = redisAsyncConnectUnix(target);
	} else {
		if (addr_split_port(target, defport, host, sizeof(host), &port) < 0) {
			link_set(&l->error, "\"%s\" is not host:port", target);
			return NULL;
		}
		link_set(&l->where, "%s:%u", host, port);
		ac = redisAsyncConnect(host, (int)port);
	}
	if (!ac) {
		link_set(&l->error, "%s: out of memory", l->where);
		return NULL;
	}
	if (ac->err) {
		link_set(&l->error, "%s: %s", l->where, ac->errstr);
		redisAsyncFree(ac);
		return NULL;
	}
	if (target[0] != '/')
		redisEnableKeepAlive(&ac->c);	/* a dead peer found within a minute */
	if (adapter_attach(ac, l->ev) < 0) {
		link_set(&l->error, "%s: cannot add to the event loop", l->where);
		redisAsyncFree(ac);
		return NULL;
	}
	ac->data = l;
	redisAsyncSetConnectCallback(ac, link_on_connect);
	redisAsyncSetDisconnectCallback(ac, link_on_disconnect);
	return ac;
}

/* --- the handshake --- */

static void link_ready_if_done(struct link *l)
{
	if (l->st != L_HANDSHAKE || l->handshake || !l->subscribed)
		return;
	l->st = L_READY;
	l->backoff_ms = LINK_BACKOFF_MIN_MS;
	sd_event_source_set_enabled(l->timer, SD_EVENT_OFF);
	l->ops.up(l->ops.ctx);
}

/* Replies of AUTH, ROLE and SCRIPT LOAD on the command context. */
static void link_on_handshake(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct link *l = ac->data;
	const redisReply *r = reply;
	uintptr_t what = (uintptr_t)privdata;	/* 0 AUTH, 1 ROLE, 2 + n SCRIPT LOAD n */

	if (!l || !r)
		return;
	link_sent_pop(l);
	if (r->type == REDIS_REPLY_ERROR) {
		link_fail(l, "%s: %s: %s", l->where, what == 0 ? "AUTH" : what == 1 ? "ROLE" :
			  "SCRIPT LOAD", r->str);
		return;
	}
	if (what == 1 && (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
			  r->element[0]->type != REDIS_REPLY_STRING ||
			  strcmp(r->element[0]->str, "master") != 0)) {
		link_fail(l, "%s: not the master (a failover under way?)", l->where);
		return;
	}
	if (what >= 2) {
		char *sha = r->type == REDIS_REPLY_STRING ? strdup(r->str) : NULL;

		if (!sha) {
			link_fail(l, "%s: SCRIPT LOAD: no SHA1 in the reply", l->where);
			return;
		}
		free(l->shas[what - 2]);
		l->shas[what - 2] = sha;
	}
	l->handshake--;
	link_ready_if_done(l);
}

static int link_auth(struct link *l, redisAsyncContext *ac, redisCallbackFn *fn)
{
	const char *argv[3] = { "AUTH" };
	int argc = 1;

	if (!l->password)
		return 0;
	if (l->user)
		argv[argc++] = l->user;
	argv[argc++] = l->password;
	return redisAsyncCommandArgv(ac, fn, NULL, argc, argv, NULL) == REDIS_OK ? 1 : -1;
}

/* Messages and the SUBSCRIBE confirmation; the reply to AUTH before them. */
static void link_on_sub(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct link *l = ac->data;
	const redisReply *r = reply;
	const redisReply *kind, *payload;

	if (!l || !r)
		return;
	if (r->type == REDIS_REPLY_ERROR) {
		link_fail(l, "%s: subscribing: %s", l->where, r->str);
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 3)
		return;		/* the reply to AUTH ("OK") */
	kind = r->element[0];
	payload = r->element[2];
	if (kind->type != REDIS_REPLY_STRING)
		return;
	if (strcmp(kind->str, "subscribe") == 0) {
		l->subscribed = true;
		link_ready_if_done(l);
	} else if (strcmp(kind->str, "message") == 0 && payload->type == REDIS_REPLY_STRING &&
		   l->st == L_READY) {
		l->ops.message(l->ops.ctx, payload->str, payload->len);
	}
}

static void link_start_handshake(struct link *l, const char *target, unsigned defport)
{
	const char *role[] = { "ROLE" };
	int r;

	l->st = L_HANDSHAKE;
	link_timer(l, LINK_CONNECT_TIMEOUT_MS);
	l->cmd = link_open(l, target, defport);
	l->sub = l->cmd ? link_open(l, target, defport) : NULL;
	if (!l->cmd || !l->sub) {
		char *why = l->error;

		l->error = NULL;
		link_fail(l, "%s", why ? why : "out of memory");
		free(why);
		return;
	}
	r = link_auth(l, l->cmd, link_on_handshake);
	l->handshake = (unsigned)(r > 0) + 1 + (unsigned)l->nscripts;
	for (unsigned i = 0; i < l->handshake; i++)
		link_sent_push(l);
	if (r < 0 ||
	    redisAsyncCommandArgv(l->cmd, link_on_handshake, (void *)(uintptr_t)1, 1, role, NULL)) {
		link_fail(l, "%s: out of memory", l->where);
		return;
	}
	for (size_t i = 0; i < l->nscripts; i++) {
		const char *argv[] = { "SCRIPT", "LOAD", l->scripts[i] };

		if (redisAsyncCommandArgv(l->cmd, link_on_handshake, (void *)(uintptr_t)(2 + i), 3,
					  argv, NULL) != REDIS_OK) {
			link_fail(l, "%s: out of memory", l->where);
			return;
		}
	}
	{
		const char *argv[] = { "SUBSCRIBE", l->channel };

		if (link_auth(l, l->sub, link_on_sub) < 0 ||
		    redisAsyncCommandArgv(l->sub, link_on_sub, NULL, 2, argv, NULL) != REDIS_OK)
			link_fail(l, "%s: out of memory", l->where);
	}
}

/* --- Sentinel --- */

static void link_ask_sentinel(struct link *l);

static void link_next_sentinel(struct link *l)
{
	link_drop(&l->sen);
	if (++l->sentinel < l->nsentinels) {
		link_ask_sentinel(l);
		return;
	}
	link_fail(l, "no sentinel knows a master \"%s\"%s%s", l->master_name,
		  l->error ? "; last: " : "", l->error ? l->error : "");
}

static void link_on_sentinel(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct link *l = privdata;
	const redisReply *r = reply;
	char target[LINK_HOST_MAX + 16];

	if (!ac->data)
		return;		/* dropped: whoever dropped it moved on */
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_STRING) {
		link_set(&l->error, "%s: %s", l->where,
			 r && r->type == REDIS_REPLY_ERROR ? r->str : "no master of that name");
		link_next_sentinel(l);
		return;
	}
	snprintf(target, sizeof(target), strchr(r->element[0]->str, ':') ? "[%s]:%s" : "%s:%s",
		 r->element[0]->str, r->element[1]->str);
	link_drop(&l->sen);
	link_start_handshake(l, target, LINK_REDIS_PORT);
}

static void link_ask_sentinel(struct link *l)
{
	const char *argv[] = { "SENTINEL", "get-master-addr-by-name", l->master_name };

	link_timer(l, LINK_CONNECT_TIMEOUT_MS);
	l->sen = link_open(l, l->sentinels[l->sentinel], LINK_SENTINEL_PORT);
	if (!l->sen) {
		link_next_sentinel(l);
		return;
	}
	if (redisAsyncCommandArgv(l->sen, link_on_sentinel, l, 3, argv, NULL) != REDIS_OK)
		link_next_sentinel(l);
}

static void link_connect(struct link *l)
{
	free(l->error);
	l->error = NULL;
	if (l->nsentinels) {
		l->st = L_DISCOVER;
		l->sentinel = 0;
		link_ask_sentinel(l);
	} else {
		link_start_handshake(l, l->redis, LINK_REDIS_PORT);
	}
}

/* --- commands --- */

static void link_on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct link_call *c = privdata;
	struct link *l = ac->data;
	const redisReply *r = reply;

	if (l && r)
		link_sent_pop(l);
	c->fn(c->ctx, r);
	free(c);
	if (l && link_fatal_error(r))
		link_fail(l, "%s: %s", l->where, r->str);
}

static int link_send(struct link *l, int argc, const char **argv, const size_t *argvlen,
		     link_reply_fn *fn, void *ctx)
{
	struct link_call *c;

	if (l->st != L_READY)
		return -1;
	c = malloc(sizeof(*c));
	if (!c)
		return -1;
	*c = (struct link_call){ l, fn, ctx };
	if (link_sent_push(l) < 0) {
		free(c);
		return -1;
	}
	if (redisAsyncCommandArgv(l->cmd, link_on_reply, c, argc, argv, argvlen) != REDIS_OK) {
		l->count--;
		free(c);
		return -1;
	}
	return 0;
}

int link_command(struct link *l, int argc, const char **argv, const size_t *argvlen,
		 link_reply_fn *fn, void *ctx)
{
	return link_send(l, argc, argv, argvlen, fn, ctx);
}

#define LINK_ARGS_MAX 16

int link_eval(struct link *l, unsigned script, int nkeys, int argc, const char **argv,
	      const size_t *argvlen, link_reply_fn *fn, void *ctx)
{
	const char *v[LINK_ARGS_MAX + 3];
	size_t len[LINK_ARGS_MAX + 3];
	char n[16];

	if (l->st != L_READY || script >= l->nscripts || argc > LINK_ARGS_MAX)
		return -1;
	snprintf(n, sizeof(n), "%d", nkeys);
	v[0] = "EVALSHA";
	v[1] = l->shas[script];
	v[2] = n;
	for (int i = 0; i < 3; i++)
		len[i] = strlen(v[i]);
	for (int i = 0; i < argc; i++) {
		v[3 + i] = argv[i];
		len[3 + i] = argvlen ? argvlen[i] : strlen(argv[i]);
	}
	return link_send(l, argc + 3, v, len, fn, ctx);
}

/* --- life --- */

bool link_ready(const struct link *l)
{
	return l->st == L_READY;
}

const char *link_where(const struct link *l)
{
	return l->where;
}

const char *link_error(const struct link *l)
{
	return l->error;
}

size_t link_pending(const struct link *l)
{
	return l->count;
}

static char *link_strdup(const char *s, bool *oom)
{
	char *c;

	if (!s)
		return NULL;
	c = strdup(s);
	*oom |= !c;
	return c;
}

static char **link_strv(char *const *v, size_t n, bool *oom)
{
	char **c = calloc(n ? n : 1, sizeof(*c));

	if (!c) {
		*oom = true;
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		c[i] = link_strdup(v[i], oom);
	return c;
}

static void link_strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

struct link *link_new(sd_event *e, const struct link_conf *c, const struct link_ops *ops)
{
	struct link *l = calloc(1, sizeof(*l));
	bool oom = !l;

	if (!l)
		return NULL;
	l->ev = sd_event_ref(e);
	l->ops = *ops;
	l->redis = link_strdup(c->redis, &oom);
	l->sentinels = link_strv(c->sentinels, c->nsentinels, &oom);
	l->nsentinels = c->nsentinels;
	l->master_name = link_strdup(c->master_name, &oom);
	l->user = link_strdup(c->user, &oom);
	l->password = link_strdup(c->password, &oom);
	l->channel = link_strdup(c->channel, &oom);
	l->scripts = link_strv((char *const *)c->scripts, c->nscripts, &oom);
	l->nscripts = c->nscripts;
	l->shas = calloc(c->nscripts ? c->nscripts : 1, sizeof(*l->shas));
	l->backoff_ms = LINK_BACKOFF_MIN_MS;
	oom |= !l->shas || (!l->redis && !l->nsentinels) || !l->channel;
	if (!oom)
		oom = sd_event_add_time_relative(e, &l->timer, CLOCK_MONOTONIC, 0, 0, link_on_timer,
						 l) < 0 ||
		      sd_event_source_set_enabled(l->timer, SD_EVENT_OFF) < 0 ||
		      sd_event_add_time_relative(e, &l->watch, CLOCK_MONOTONIC,
						 LINK_WATCH_MS * 1000u, 0, link_on_watch, l) < 0 ||
		      sd_event_source_set_enabled(l->watch, SD_EVENT_ON) < 0;
	if (oom) {
		link_free(l);
		return NULL;
	}
	link_set(&l->where, "%s", l->redis ? l->redis : l->sentinels[0]);
	if (!l->where) {
		link_free(l);
		return NULL;
	}
	return l;
}

void link_start(struct link *l)
{
	if (l->st == L_IDLE) {
		l->st = L_WAIT;
		link_connect(l);
	}
}

void link_free(struct link *l)
{
	if (!l)
		return;
	l->st = L_IDLE;		/* no link_fail from the NULL replies that follow */
	link_drop_all(l);
	sd_event_source_disable_unref(l->timer);
	sd_event_source_disable_unref(l->watch);
	sd_event_unref(l->ev);
	free(l->redis);
	link_strv_free(l->sentinels, l->nsentinels);
	free(l->master_name);
	if (l->password)
		explicit_bzero(l->password, strlen(l->password));
	free(l->user);
	free(l->password);
	free(l->channel);
	link_strv_free(l->scripts, l->nscripts);
	link_strv_free(l->shas, l->nscripts);
	free(l->sent);
	free(l->where);
	free(l->error);
	free(l);
}
