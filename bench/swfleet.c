/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * swfleet: one simulated MX host of a fleet, for the benchmarks. It runs
 * the daemon's own fleet module (src/fleet: the link to Redis, the
 * signed messages, the scripts) in an sd-event loop, with a sink that
 * counts what it receives instead of a judge and ipsets, and publishes
 * bans of its own: addresses 10.I.x.y from I = 100 + its index on (65536
 * to an I, the next I after them: space hosts' indexes accordingly), an
 * hour each.
 *
 *   -c COUNT              publish COUNT bans as fast as the fleet takes
 *                         them (filling a fleet), then exit once all are out
 *   -R RATE -s SECONDS    publish RATE bans a second for SECONDS, from the
 *                         wall-clock time -t START on, then listen -g more
 *                         seconds for the other hosts' last ones
 *
 * Prints one line at the end: "host=NAME published=P received=R
 * lag_p50_ms=.. lag_p99_ms=.. lag_max_ms=.. cpu_s=..", the lag of each
 * received ban from its signature on the sending host to its arrival.
 *
 * usage: swfleet -r REDIS -k KEY_FILE [-n NAMESPACE] -H NAME -i INDEX
 *                (-c COUNT | -R RATE -s SECONDS [-t START] [-g GRACE])
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <systemd/sd-event.h>

#include "fleet.h"
#include "names.h"

struct sim {
	sd_event *ev;
	struct fleet *f;
	unsigned index;
	long count, rate, seconds, grace;
	double start;
	long published, received;
	uint32_t *lag;		/* ms, one per received ban */
	size_t nlag, caplag;
	uint32_t pattern;
	sd_event_source *tick;
	double next;		/* when the next ban is due (wall clock) */
};

static double sim_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static enum fleet_verdict sim_ban(void *ctx, const struct fleet_ban *b, bool bulk,
				  const char **why)
{
	struct sim *s = ctx;
	uint64_t now = (uint64_t)(sim_now() * 1000);

	if (bulk)
		return FLEET_HAD;
	s->received++;
	if (s->nlag == s->caplag) {
		size_t cap = s->caplag ? 2 * s->caplag : 4096;
		uint32_t *v = realloc(s->lag, cap * sizeof(*v));

		if (!v)
			return FLEET_APPLIED;
		s->lag = v;
		s->caplag = cap;
	}
	s->lag[s->nlag++] = now > b->sent_ms ? (uint32_t)(now - b->sent_ms) : 0;
	return FLEET_APPLIED;
}

static bool sim_unban(void *ctx, const struct addr *a, time_t when, bool forget, const char *by)
{
	return false;
}

static void sim_flush(void *ctx)
{
}

static void sim_decided(void *ctx, const struct addr *a, time_t when, enum class_id cls,
			uint32_t pattern, unsigned offences, unsigned earlier)
{
}

static void sim_escalate(void *ctx, const struct addr *a, unsigned earlier)
{
}


static size_t sim_active(void *ctx)
{
	struct sim *s = ctx;

	return (size_t)s->published;
}

/* Our n-th ban. */
static struct fleet_ban sim_nth(const struct sim *s, long n)
{
	time_t now = time(NULL);
	struct fleet_ban b = {
		.start = now, .until = now + 3600, .cls = CLASS_UNKNOWN_RECIPIENT,
		.pattern = s->pattern, .offences = 1,
	};

	b.addr.family = 4;
	b.addr.prefix = 32;
	b.addr.bytes[0] = 10;
	b.addr.bytes[1] = (uint8_t)(100 + s->index + (unsigned)(n >> 16));
	b.addr.bytes[2] = (uint8_t)(n >> 8);
	b.addr.bytes[3] = (uint8_t)n;
	return b;
}

/* What the daemon's judge would give: every ban of ours (the fleet
 * publishes again those it lacks, the ones queued during a sync too). */
static void sim_walk_own(void *ctx, fleet_own_fn *fn, void *fctx)
{
	struct sim *s = ctx;

	for (long n = 0; n < s->published; n++) {
		struct fleet_ban b = sim_nth(s, n);

		fn(fctx, &b);
	}
}

static void sim_publish(struct sim *s)
{
	struct fleet_ban b = sim_nth(s, s->published);

	fleet_ban(s->f, &b);
	s->published++;
}

static long sim_status(struct sim *s, const char *key)
{
	struct json_object *o = fleet_status(s->f), *v;
	long n = json_object_object_get_ex(o, key, &v) ? (long)json_object_get_int64(v) : -1;

	json_object_put(o);
	return n;
}

/* Every millisecond: the bans due, the end. */
static int sim_on_tick(sd_event_source *es, uint64_t usec, void *userdata)
{
	struct sim *s = userdata;
	double now = sim_now();

	if (s->count) {
		/* filling: keep FLEET_WINDOW in flight; done when all are answered */
		if (s->published < s->count && sim_status(s, "queued") < FLEET_WINDOW) {
			for (int i = 0; i < FLEET_WINDOW && s->published < s->count; i++)
				sim_publish(s);
		}
		if (s->published == s->count && sim_status(s, "queued") == 0 &&
		    sim_status(s, "published") + sim_status(s, "in_fleet_already") >= s->count)
			return sd_event_exit(sd_event_source_get_event(es), 0);
	} else {
		while (now >= s->start && s->next <= now && s->published < s->rate * s->seconds) {
			sim_publish(s);
			s->next += 1.0 / (double)s->rate;
		}
		if (now > s->start + (double)(s->seconds + s->grace))
			return sd_event_exit(sd_event_source_get_event(es), 0);
	}
	sd_event_source_set_time_relative(es, 1000);
	return 0;
}

static int sim_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t sim_pct(const struct sim *s, double p)
{
	size_t i;

	if (!s->nlag)
		return 0;
	i = (size_t)((double)s->nlag * p + 0.999999);
	if (i < 1)
		i = 1;
	return s->lag[(i > s->nlag ? s->nlag : i) - 1];
}

static int sim_usage(void)
{
	fprintf(stderr, "usage: swfleet -r REDIS -k KEY_FILE [-n NAMESPACE] -H NAME -i INDEX\n"
		"               (-c COUNT | -R RATE -s SECONDS [-t START] [-g GRACE])\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct fleet_ops ops = {
		sim_ban, sim_unban, sim_flush, sim_decided, sim_escalate, sim_walk_own, sim_active,
		NULL,
	};
	struct sim s = { .grace = 5 };
	struct fleet_conf fc = { .enabled = true, .ns = "spamwrath" };
	struct fleet_rules r = { .threshold = WEIGHT_ONE, .findtime = 43200,
				 .bantime_max = 30 * 86400, .repeat_window = 30 * 86400 };
	struct fleet_ops o = ops;
	struct diag d = { 0 };
	struct rusage ru;
	int c;

	while ((c = getopt(argc, argv, "r:k:n:H:i:c:R:s:t:g:")) != -1) {
		switch (c) {
		case 'r': fc.redis = optarg; break;
		case 'k': fc.key_file = optarg; break;
		case 'n': fc.ns = optarg; break;
		case 'H': fc.host = optarg; break;
		case 'i': s.index = (unsigned)atoi(optarg); break;
		case 'c': s.count = atol(optarg); break;
		case 'R': s.rate = atol(optarg); break;
		case 's': s.seconds = atol(optarg); break;
		case 't': s.start = atof(optarg); break;
		case 'g': s.grace = atol(optarg); break;
		default: return sim_usage();
		}
	}
	if (!fc.redis || !fc.key_file || !fc.host || (!s.count && (s.rate <= 0 || s.seconds <= 0)) ||
	    s.index > 100 || s.count > 50 * 65536 || s.rate * s.seconds > 50 * 65536)
		return sim_usage();
	if (s.start == 0)
		s.start = sim_now() + 1;
	s.next = s.start;
	s.pattern = names_intern("swfleet", 7);
	o.ctx = &s;
	if (sd_event_default(&s.ev) < 0 || fleet_new(s.ev, &fc, &r, &o, &s.f, &d) < 0) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "swfleet: %s\n", d.msgs[i]);
		return 1;
	}
	fleet_start(s.f);
	if (sd_event_add_time_relative(s.ev, &s.tick, CLOCK_MONOTONIC, 1000, 0, sim_on_tick, &s) < 0 ||
	    sd_event_source_set_enabled(s.tick, SD_EVENT_ON) < 0 || sd_event_loop(s.ev) < 0) {
		fprintf(stderr, "swfleet: the event loop failed\n");
		return 1;
	}
	qsort(s.lag, s.nlag, sizeof(*s.lag), sim_cmp);
	getrusage(RUSAGE_SELF, &ru);
	printf("host=%s published=%ld received=%ld lag_p50_ms=%u lag_p99_ms=%u lag_max_ms=%u "
	       "cpu_s=%.2f\n", fc.host, s.published, s.received, sim_pct(&s, 0.5),
	       sim_pct(&s, 0.99), sim_pct(&s, 1.0),
	       (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	sd_event_source_disable_unref(s.tick);
	fleet_free(s.f);
	sd_event_unref(s.ev);
	free(s.lag);
	return 0;
}
