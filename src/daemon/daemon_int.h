/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon_int: the state of spamwrathd's loop, shared by the loop itself (daemon.c) and the
 * views and commands it serves on the control socket (daemon_control.c), and by nothing else.
 * The loop owns every field; the control side reads them and acts through the judge. */
#ifndef SPAMWRATH_DAEMON_INT_H
#define SPAMWRATH_DAEMON_INT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <systemd/sd-event.h>

#include "banset.h"
#include "control.h"
#include "daemon.h"
#include "loader.h"
#include "pipeline.h"
#include "positions.h"
#include "resolver.h"
#include "source.h"
#include "state.h"

struct daemon {
	const char *config_path;
	bool dry_run;
	sd_event *ev;
	struct loaded *cur;	/* on the heap: the pipeline keeps &cur->ps */
	struct pipeline pl;
	bool pl_ready;
	size_t nlinks;		/* queue-id links the state gave back at start */
	struct banset *ban;	/* NULL in a dry run */
	struct source **src;
	size_t nsrc;
	struct resolver *res;
	sd_event_source *tick, *hourly;
	time_t started;
	unsigned ticks;
	size_t active;		/* bans in force, as of the last count */
	uint64_t ban_errors;
	uint64_t reloads, reload_failures;
	char *status;		/* last STATUS= sent */
	/* durable state (not in dry runs) and the control socket */
	struct state *state;
	bool state_failing;	/* the last flush failed: said once, until it works */
	struct control *ctl;
	sd_event_source *post;
	bool compact_due;	/* once after start, then when the log grew */
	time_t compact_retry;	/* a failed compaction waits until then */
	struct positions saved;	/* read from the state, until the sources open */
	/* the last reload, for status */
	time_t reload_time;
	bool reload_ok;
	struct json_object *reload_msgs;
};

/* Logs the messages of d from number from on: errors when failed, else warnings. */
void daemon_log_diag(const struct diag *d, size_t from, bool failed);

/* Opens the control socket with the daemon's views and commands. 0, or -1
 * with the reason logged (a dry run goes on without the socket). */
int daemon_control_start(struct daemon *dm);

#endif
