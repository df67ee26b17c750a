/* SPDX-License-Identifier: GPL-2.0-or-later */
/* scripts: owns the Lua scripts that make each fleet decision one atomic step inside Redis.
 * They keep the index of bans, the offences inside findtime, the ban history and the hosts' heartbeats.
 * They must never leave a key without an end: every key has a TTL, or its entries a score pruned as they go. */
#ifndef SPAMWRATH_FLEET_SCRIPTS_H
#define SPAMWRATH_FLEET_SCRIPTS_H

/*
 * Keys, under the namespace NS (one fleet):
 *
 *   NS:bans        hash   address -> the signed ban, or the signed unban
 *                         that lifted one (a tombstone), as published
 *   NS:expiry      zset   address -> when its entry in NS:bans ends
 *   NS:off:ADDR    list   signed offences inside findtime (TTL findtime)
 *   NS:hist:ADDR   zset   "START:ORIGIN" of each ban in repeat_window (TTL)
 *   NS:lock:ADDR   string the host deciding a ban on offences (TTL 30 s)
 *   NS:host:NAME   string the host's signed heartbeat (TTL: 3 beats)
 *   NS:hosts       zset   host name -> last heartbeat, kept for a day
 *   NS:events      channel every ban and unban, as stored in NS:bans
 *
 * Addresses are the judge's keys as text: "203.0.113.10", "2001:db8::/64".
 */
enum scripts_id {
	/* KEYS bans expiry off hist lock; ARGV addr now offence weight
	 * threshold findtime repeat_window host lock_ttl.
	 * {2}: banned or being decided already; {0, sum}: counted;
	 * {1, earlier, offences...}: the threshold is reached and the lock is
	 * ours: verify the offences, then ban (or unlock). */
	SCRIPT_OFFENCE,
	/* KEYS bans expiry off hist lock; ARGV addr record start until
	 * earlier now repeat_window channel histmember.
	 * {1, earlier}: stored and published; {2}: a ban is in force already;
	 * {3}: lifted after it began (a tombstone of a later second); {4, earlier}: the
	 * fleet knows more earlier bans than the record counted. */
	SCRIPT_BAN,
	/* KEYS bans expiry off hist lock; ARGV addr record now forget
	 * channel tombstone_until. 1: stored and published. */
	SCRIPT_UNBAN,
	/* KEYS lock; ARGV host. Lifts our lock when the offences did not verify. */
	SCRIPT_UNLOCK,
	/* KEYS hosts hostkey bans expiry; ARGV host beat ttl_ms now hostprefix
	 * forget_after. Stores the beat, prunes, returns {name, last, beat}...
	 * for every host heard from within forget_after. */
	SCRIPT_HEARTBEAT,
	SCRIPT_COUNT
};

extern const char *const scripts_lua[SCRIPT_COUNT];

#endif
