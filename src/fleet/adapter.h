/* SPDX-License-Identifier: GPL-2.0-or-later */
/* adapter: owns the glue between hiredis's asynchronous contexts and the daemon's one sd-event loop.
 * hiredis asks for read and write interest through five callbacks; one io source per context follows them.
 * It must never block, run a thread, nor touch a context after hiredis has freed it. */
#ifndef SPAMWRATH_FLEET_ADAPTER_H
#define SPAMWRATH_FLEET_ADAPTER_H

#include <hiredis/async.h>
#include <systemd/sd-event.h>

/*
 * Drives ac from e: readable and writable events call hiredis's handlers;
 * the io source goes away with the context (hiredis's cleanup hook). 0, or
 * -1 when out of memory or ac already has an event library attached (ac
 * is then still the caller's to free).
 */
int adapter_attach(redisAsyncContext *ac, sd_event *e);

#endif
