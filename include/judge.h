/* SPDX-License-Identifier: GPL-2.0-or-later */
/* judge: owns the decision: whitelist, class rules, weights, threshold, findtime, escalation.
 * Replay and daemon share this one implementation; it remembers a bounded number of addresses.
 * It must never touch the kernel, a file or the clock: time comes with each sighting. */
#ifndef SPAMWRATH_JUDGE_H
#define SPAMWRATH_JUDGE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "addr.h"
#include "class.h"
#include "config.h"
#include "correlator.h"
#include "whitelist.h"

enum judge_kind {
	JUDGE_OFFENCE,		/* counted against the address */
	JUDGE_IGNORED,		/* matched, but never an offence (reason says why) */
	JUDGE_BAN,		/* the address is to be banned for duration */
	JUDGE_UNBAN,		/* a ban lifted by hand */
	JUDGE_EXPIRED,		/* a ban ran out (noticed by judge_expire) */
};

struct judge_event {
	enum judge_kind kind;
	const struct sighting *s;	/* NULL for manual bans */
	struct addr addr;	/* judged address: the /ipv6_prefix network for IPv6 */
	enum class_id cls;
	uint32_t pattern;	/* interned name */
	uint32_t weight;	/* offence: thousandths */
	bool counted;		/* offence: it joined the running total (not banned, no ban yet) */
	bool note;		/* offence: a note (see below); never kept in state */
	const char *reason;	/* ignored: "whitelist", "self", "loopback", ...;
				 * unban: "forget" when the history goes too */
	time_t time;
	long duration;		/* ban: seconds */
	unsigned offences;	/* ban: offences that made it, notes not counted */
	unsigned earlier_bans;	/* ban: earlier bans inside repeat_window */
	uint32_t origin;	/* ban: the fleet host that decided it; unban: that lifted it
				 * (interned names); 0: this host */
	bool received;		/* from the fleet: never to be published again */
	bool renewed;		/* ban: one in force, with the same start, lasting longer */
};

typedef void judge_emit_fn(void *ctx, const struct judge_event *e);

/* What the judge needs from the configuration. */
struct judge_rules {
	uint32_t threshold;
	long findtime, bantime, bantime_max, repeat_window;
	double bantime_factor;
	unsigned ipv4_prefix, ipv6_prefix;
	struct class_conf classes[CLASS_COUNT];
	size_t max_tracked;
};

void judge_rules_from_config(struct judge_rules *r, const struct config *c);

struct judge;

struct judge *judge_new(const struct judge_rules *r, const struct whitelist *wl,
			judge_emit_fn *emit, void *ctx);
/* Sightings still waiting are dropped: flush first to have their events. */
void judge_free(struct judge *j);

/* New rules and whitelist (a reload); what the judge remembers stays. */
void judge_reconfigure(struct judge *j, const struct judge_rules *r,
		       const struct whitelist *wl);

/*
 * Judges one sighting: emits ignored, or offence and perhaps ban. A
 * sighting of accepted mail (s->accepted) emits nothing.
 *
 * Once per message, for class_once_per_message() classes: an offence of
 * the class an earlier one of the same client and queue id had (inside
 * JUDGE_MESSAGE_WINDOW) is ignored, "same-message": MIMEDefang's line per
 * recipient, a verdict that the filter and the MTA both log.
 *
 * Once per session, for class_once_per_session() classes: an offence of
 * the class an earlier one of the same client had in the same session
 * (s->session, from the correlator) inside JUDGE_SESSION_WINDOW of that
 * one is ignored, "same-session": an EHLO and its HELO retry, Postfix's
 * HELO reject repeated at every RCPT. A session is the process that wrote
 * the line (Exim and Sendmail run one per connection), counted on by its
 * "connect" lines where one process serves one client after another
 * (Postfix's smtpd), and the client's port where the line gives it
 * (postscreen serves all of them in one process). Lines that give none of
 * these make one session per client and window: two sessions inside it
 * count once, the safe side.
 *
 * The judge knows these repeats from the address's own offences below the
 * threshold, which carry their keys, and keeps the keys (at weight 0)
 * past a ban for JUDGE_MESSAGE_WINDOW: no other memory, no other limit.
 *
 * Notes (a pattern's note = yes: a reverse-DNS warning, a lost connection,
 * a connect without mail) are no offence in themselves: the notes inside
 * findtime weigh together at most half the threshold, so that notes alone
 * never ban; a ban's offence count leaves them out, state never keeps
 * them, a fleet never hears of them (summed across hosts, they could ban),
 * and accepted mail from the address drops those it has.
 */
#define JUDGE_MESSAGE_WINDOW 600
#define JUDGE_SESSION_WINDOW 300
void judge_offence(struct judge *j, const struct sighting *s);

/*
 * The same judgement, a little later: at most two sightings wait (their
 * memory is fetched meanwhile), and judge_flush or any other call below
 * judges them first. Events and their order are judge_offence's; a
 * sighting without a valid address is judged at once. The pipeline uses
 * these within each batch of lines and flushes at its end (pipeline_feed),
 * so that no ban waits for the next line.
 */
void judge_offence_later(struct judge *j, const struct sighting *s);
void judge_flush(struct judge *j);

/*
 * A ban decided outside the logs (spamwrathctl ban); its class is
 * "manual", reason an interned text shown as its pattern. duration 0 means
 * "as the judge would" (escalation); one past DURATION_MAX is refused. Returns 0 with the event emitted, or
 * -1 with the reason it was refused (whitelist, loopback, ...) in *why.
 */
int judge_ban(struct judge *j, const struct addr *a, time_t now, long duration,
	      uint32_t reason, const char **why);

/* Lifts a ban; forget also drops the history escalation counts on. 0, or
 * -1 when the address is not banned. */
int judge_unban(struct judge *j, const struct addr *a, time_t now, bool forget);

/*
 * The fleet's calls (see fleet.h). Every ban they set is emitted as
 * JUDGE_BAN; those from other hosts carry received and their origin.
 */

/* Another host lifted a; a ban here that began after before stays. by:
 * that host (interned). 0, or -1 when nothing was lifted. */
int judge_unban_received(struct judge *j, const struct addr *a, time_t now, time_t before,
			 bool forget, uint32_t by);

/* A ban another host decided. */
struct judge_foreign {
	struct addr addr;	/* masked here again to this judge's prefixes */
	time_t start, until;
	enum class_id cls;
	uint32_t pattern, origin;	/* interned */
	unsigned offences, earlier;
};

/*
 * Applies it under this host's rules: -1 with *why for an address this
 * host never bans (its whitelist, ...) or whose latest ban here is over
 * (lifted here, or run out) and began after it, or is this very ban (the
 * same start and host); 1 when a ban in
 * force here lasts as long already; 2 when that ban now lasts until its
 * end; 0 when banned: its start joins the history, so escalation counts
 * bans anywhere in the fleet.
 */
int judge_adopt(struct judge *j, const struct judge_foreign *b, time_t now, const char **why);

/*
 * A ban the fleet decided on offences counted on several hosts, the last
 * one ours: escalated by the larger of earlier and the bans known here.
 * 0, 1 when banned already, or -1 with *why.
 */
int judge_ban_decided(struct judge *j, const struct addr *a, time_t now, enum class_id cls,
		      uint32_t pattern, unsigned offences, unsigned earlier, const char **why);

/*
 * The fleet counts earlier bans of a than its running ban here did: it
 * lasts as escalation by earlier says (emitted again, renewed, with
 * earlier_bans set). 0, or -1 when a is not banned.
 */
int judge_extend(struct judge *j, const struct addr *a, time_t now, unsigned earlier);

/* The address as the judge keys it (masked to its family's prefix). */
void judge_key(const struct judge *j, const struct addr *in, struct addr *out);

/* Drops what can no longer matter at time now and reports bans that ran
 * out; visits at most budget entries per call, resuming where it stopped. */
void judge_expire(struct judge *j, time_t now, size_t budget);

/* What the judge remembers about one address (state, listing). */
struct judge_entry {
	struct addr addr;
	time_t ban_until;	/* 0: not banned */
	time_t ban_start;
	enum class_id ban_class;
	uint32_t ban_pattern;
	unsigned ban_offences;
	unsigned nbans;		/* bans in history, the current one included */
	const uint32_t *ban_times;	/* nbans start times, oldest first */
	unsigned noffences;	/* offences inside findtime, not yet banned */
	const uint32_t *off_times;
	const uint32_t *off_weights;
	uint32_t ban_origin;	/* the fleet host that decided the latest ban, 0: here */
};

typedef int judge_walk_fn(void *ctx, const struct judge_entry *e);

/* Calls fn for every remembered address; stops when fn returns non-zero. */
int judge_walk(struct judge *j, judge_walk_fn *fn, void *ctx);

/*
 * Restores one remembered address (from state). Entries whose bans and
 * offences lie outside the windows at now are not kept.
 */
int judge_restore(struct judge *j, const struct judge_entry *e, time_t now);

/*
 * Replaying durable state, one record at a time, without emitting events:
 * a ban (until 0 for one that only counts in the history), an offence
 * below the threshold, a lifted ban. Records outside their windows at now
 * are dropped. 0, or -1 when out of memory.
 */
/*
 * Why a remembered record for key cannot stand under the rules and
 * whitelist in force now, or NULL: the checks a new ban passes (whitelist,
 * self, loopback, unspecified, not unicast) and that key is what the judge
 * keys one client by (a single address, or the /ipv6_prefix network).
 * State calls it for every record it restores; what fails is dropped.
 */
const char *judge_refuses(const struct judge *j, const struct addr *key);

int judge_restore_ban(struct judge *j, const struct addr *key, time_t start, time_t until,
		      enum class_id cls, uint32_t pattern, unsigned offences, uint32_t origin,
		      time_t now);
int judge_restore_offence(struct judge *j, const struct addr *key, time_t when,
			  uint32_t weight, time_t now);
void judge_restore_unban(struct judge *j, const struct addr *key, bool forget);

/* Addresses forgotten to stay within max_tracked, since judge_new; bans:
 * of them, those with a ban still running (the kernel keeps it until it
 * expires, but list, state and escalation no longer know it). */
struct judge_evictions {
	uint64_t addresses, bans;
};

void judge_evictions(const struct judge *j, struct judge_evictions *out);

size_t judge_tracked(struct judge *j);
size_t judge_active_bans(struct judge *j, time_t now);

#endif
