/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon_int: the state of spamwrathd's loop, shared by the loop itself (daemon.c), the views
 * and commands it serves on the control socket (daemon_control.c), its side of the fleet
 * (daemon_fleet.c) and the files it exports for Prometheus and rbldnsd (daemon_export.c),
 * and by nothing else.
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
#include "evidence.h"
#include "fleet.h"
#include "loader.h"
#include "pipeline.h"
#include "positions.h"
#include "resolver.h"
#include "source.h"
#include "state.h"

/* Where a ban came from, for the metrics. */
enum daemon_origin { DAEMON_ORIGIN_LOG, DAEMON_ORIGIN_MANUAL, DAEMON_ORIGIN_FLEET, DAEMON_ORIGIN_COUNT };

#define DAEMON_LATENCY_BUCKETS 12	/* and +Inf */
#define DAEMON_IGNORE_REASONS 16	/* distinct reasons counted by name; more: "other" */

/* What the metrics count beyond the pipeline's and the sources' counters. */
struct daemon_counts {
	uint64_t bans[CLASS_COUNT][DAEMON_ORIGIN_COUNT];
	uint64_t unbans, expiries;
	struct {
		const char *reason;	/* the judge's static text */
		uint64_t n;
	} ignored[DAEMON_IGNORE_REASONS];
	uint64_t ignored_other;
	/* ban latency: from the matching line's handling to the set updated */
	uint64_t latency[DAEMON_LATENCY_BUCKETS + 1];	/* per bucket, +Inf last */
	uint64_t latency_count;
	double latency_sum;
	uint64_t match_usec;	/* CLOCK_MONOTONIC when the last line matched */
};

/* The export { } files' bookkeeping (daemon_export.c). */
struct daemon_export {
	sd_event_source *metrics_timer;
	long metrics_interval;	/* the timer's, to notice a reload's change */
	bool metrics_failing, rbl_failing;	/* said once, until a write works */
	bool rbl_dirty;		/* bans changed since rbldnsd_file was written */
};

struct daemon {
	const char *config_path;
	bool dry_run;
	sd_event *ev;
	struct loaded *cur;	/* on the heap: the pipeline keeps &cur->ps */
	struct pipeline pl;
	bool pl_ready;
	struct pipeline_batch batch;	/* the lines of a source's read */
	struct source *batch_src;	/* ... and that source */
	size_t nlinks;		/* queue-id links the state gave back at start */
	struct banset *ban;	/* NULL in a dry run */
	struct source **src;
	size_t nsrc;
	struct resolver *res;
	sd_event_source *tick, *hourly;
	time_t started;
	unsigned ticks;
	size_t active;		/* bans in force, as of the last count */
	uint64_t evicted_said;	/* judge evictions logged so far */
	time_t evicted_next;	/* the next such message waits until then */
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
	struct daemon_counts counts;
	struct daemon_export exp;
	struct evidence *evid;	/* why: the lines behind recent bans */
	/* the fleet (hosts sharing bans through Redis): NULL without one */
	struct fleet *fleet;
	bool fleet_bulk;	/* applying bans read from the fleet: into bulkv, one batch */
	struct banset_entry *bulkv;
	size_t nbulk, capbulk;
	bool unban_local;	/* the unban being made is for this host alone */
};

/* Logs the messages of d from number from on: errors when failed, else warnings. */
void daemon_log_diag(const struct diag *d, size_t from, bool failed);

/* The metrics in Prometheus' text format (node-exporter's textfile
 * collector reads it too), as a malloc'd text, or NULL out of memory. */
char *daemon_metrics_text(struct daemon *dm);

/* Counts a judge event for the metrics, and marks rbldnsd_file for a
 * rewrite when the bans changed. */
void daemon_export_event(struct daemon *dm, const struct judge_event *e);
/* A ban is in its set: its latency, from the line that made it. */
void daemon_export_banned(struct daemon *dm, const struct judge_event *e);
/* A line matched (the pipeline's on_match). */
void daemon_export_match(void *ctx, const struct origin *o, const struct logline *l,
			 uint32_t pattern);
/* Once a second: rbldnsd_file when the bans changed. At start and after a
 * reload: the metrics timer as metrics_interval says. */
void daemon_export_tick(struct daemon *dm);
int daemon_export_setup(struct daemon *dm);
/* At stop: both files a last time. */
void daemon_export_stop(struct daemon *dm);

/* Opens the control socket with the daemon's views and commands. 0, or -1
 * with the reason logged (a dry run goes on without the socket). */
int daemon_control_start(struct daemon *dm);

/*
 * The fleet (daemon_fleet.c): joins the fleet of the configuration at
 * start (a key or password that cannot be read stops the start); at a
 * reload, a changed section makes a new fleet, NULL when there is none
 * (-1 when its key cannot be read), and daemon_fleet_commit puts it in
 * place (or hands an unchanged fleet the new rules). 0, or -1 logged.
 */
int daemon_fleet_start(struct daemon *dm);
int daemon_fleet_prepare(struct daemon *dm, const struct config *nc, struct fleet **out,
			 bool *changed, struct diag *d);
void daemon_fleet_commit(struct daemon *dm, const struct config *nc, struct fleet *nf,
			 bool changed);
/* A ban of ours, to publish (nothing outside a fleet or for a received one). */
void daemon_fleet_publish(struct daemon *dm, const struct judge_event *e);
/* A ban read from the fleet, kept for the batch daemon_fleet_flush adds. */
void daemon_fleet_bulk_add(struct daemon *dm, const struct judge_event *e);

#endif
