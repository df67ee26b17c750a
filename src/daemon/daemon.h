/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon: owns spamwrathd's one sd-event loop: sources in, pipeline, bans out, signals, timers, sd_notify,
 * and what it serves on the control socket (daemon_control.c, over daemon_int.h's struct daemon).
 * Every verdict of the judge leaves through daemon's sink: a ban is an ipset add and a log entry.
 * It must never exit the process, flush or destroy a set, nor give up a running config for a broken one. */
#ifndef SPAMWRATH_DAEMON_H
#define SPAMWRATH_DAEMON_H

#include <stdbool.h>

#include "diag.h"

struct daemon_opts {
	const char *config;	/* -c, or NULL for the default path */
	bool dry_run;		/* judge and log, but make no ipset call */
};

struct daemon;

/*
 * Loads the configuration and patterns, readies the sets, opens every
 * source, tells systemd READY=1 and runs until SIGTERM or SIGINT.
 * Returns 0 after a clean stop, 1 when it could not start (reasons logged).
 */
int daemon_run(const struct daemon_opts *o);

/*
 * Reads configuration and patterns again (SIGHUP; the control socket
 * later). On any error the running configuration stays, every reason is
 * logged and appended to d, and -1 is returned. Unchanged sources keep
 * their position; bans and offence counts stay.
 */
int daemon_reload(struct daemon *dm, struct diag *d);

#endif
