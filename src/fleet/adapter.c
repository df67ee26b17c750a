/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hiredis 0.14 calls addRead/delRead/addWrite/delWrite whenever it wants
 * more or less, and cleanup from inside redisAsyncFree, which may run in
 * the middle of our own io callback (a reply callback that drops the
 * connection, a read that finds EOF). The record of an attached context
 * therefore outlives cleanup until the dispatch that triggered it ends.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "adapter.h"

struct adapter {
	redisAsyncContext *ac;
	sd_event_source *io;
	uint32_t events;
	bool dispatching;	/* inside adapter_on_io */
	bool dead;		/* hiredis's cleanup ran: free at the end of the dispatch */
};

static void adapter_update(struct adapter *a, uint32_t events)
{
	if (!a->io || events == a->events)
		return;
	/* an io source with no events still reports hangups: off instead */
	if (sd_event_source_set_io_events(a->io, events) >= 0 &&
	    sd_event_source_set_enabled(a->io, events ? SD_EVENT_ON : SD_EVENT_OFF) >= 0)
		a->events = events;
}

static void adapter_add_read(void *privdata)
{
	struct adapter *a = privdata;

	adapter_update(a, a->events | EPOLLIN);
}

static void adapter_del_read(void *privdata)
{
	struct adapter *a = privdata;

	adapter_update(a, a->events & ~(uint32_t)EPOLLIN);
}

static void adapter_add_write(void *privdata)
{
	struct adapter *a = privdata;

	adapter_update(a, a->events | EPOLLOUT);
}

static void adapter_del_write(void *privdata)
{
	struct adapter *a = privdata;

	adapter_update(a, a->events & ~(uint32_t)EPOLLOUT);
}

static void adapter_cleanup(void *privdata)
{
	struct adapter *a = privdata;

	a->io = sd_event_source_disable_unref(a->io);
	a->ac = NULL;
	if (a->dispatching)
		a->dead = true;
	else
		free(a);
}

static int adapter_on_io(sd_event_source *es, int fd, uint32_t revents, void *userdata)
{
	struct adapter *a = userdata;

	a->dispatching = true;
	/* an error or hangup is found by the read: hiredis then disconnects */
	if (revents & (EPOLLIN | EPOLLERR | EPOLLHUP))
		redisAsyncHandleRead(a->ac);
	if (!a->dead && (revents & EPOLLOUT))
		redisAsyncHandleWrite(a->ac);
	a->dispatching = false;
	if (a->dead)
		free(a);
	return 0;
}

int adapter_attach(redisAsyncContext *ac, sd_event *e)
{
	struct adapter *a;

	if (ac->ev.data)
		return -1;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -1;
	a->ac = ac;
	if (sd_event_add_io(e, &a->io, ac->c.fd, 0, adapter_on_io, a) < 0 ||
	    sd_event_source_set_enabled(a->io, SD_EVENT_OFF) < 0) {
		sd_event_source_disable_unref(a->io);
		free(a);
		return -1;
	}
	ac->ev.addRead = adapter_add_read;
	ac->ev.delRead = adapter_del_read;
	ac->ev.addWrite = adapter_add_write;
	ac->ev.delWrite = adapter_del_write;
	ac->ev.cleanup = adapter_cleanup;
	ac->ev.data = a;
	/* a connect in progress completes when the socket becomes writable */
	adapter_add_read(a);
	adapter_add_write(a);
	return 0;
}
