/* SPDX-License-Identifier: GPL-2.0-or-later */
/* log: owns how spamwrathd tells what it does: structured journal entries, or lines on stderr.
 * Under journald each event kind has one fixed MESSAGE_ID and SPAMWRATH_* fields to filter on.
 * It must never be called per benign log line, nor fail the caller when the journal is gone. */
#ifndef SPAMWRATH_LOG_H
#define SPAMWRATH_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* Event kinds with a fixed MESSAGE_ID (see log.c); LOG_EV_NOTE has none. */
enum log_event {
	LOG_EV_NOTE,
	LOG_EV_START,
	LOG_EV_STOP,
	LOG_EV_BAN,
	LOG_EV_UNBAN,
	LOG_EV_EXPIRY,
	LOG_EV_RELOAD_OK,
	LOG_EV_RELOAD_FAILED,
	LOG_EV_ERROR,
	LOG_EV_COUNT
};

/* Fields of a ban-like event; NULL strings and negative durations are left out. */
struct log_fields {
	const char *address;	/* SPAMWRATH_ADDRESS */
	const char *cls;	/* SPAMWRATH_CLASS */
	const char *pattern;	/* SPAMWRATH_PATTERN */
	const char *source;	/* SPAMWRATH_SOURCE */
	long duration;		/* SPAMWRATH_DURATION, seconds */
	const char *origin;	/* SPAMWRATH_ORIGIN: the fleet host that decided a ban */
};

enum log_target {
	LOG_TARGET_AUTO,	/* journal when stderr is journald's (JOURNAL_STREAM), see log_init */
	LOG_TARGET_STDERR,
	LOG_TARGET_JOURNAL,
};

/*
 * AUTO: structured journal entries when stderr is connected to journald
 * (JOURNAL_STREAM names stderr's device and inode); else plain lines on
 * stderr, and, when the journal socket exists, journal entries too. The
 * environment variable SPAMWRATH_LOG=stderr|journal overrides AUTO.
 */
void log_init(const char *ident, enum log_target target);

/* True when entries go to the journal. */
bool log_to_journal(void);

/* One message of priority (LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO). */
void log_event(enum log_event ev, int priority, const struct log_fields *f,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define log_error(...) log_event(LOG_EV_ERROR, LOG_ERR, NULL, __VA_ARGS__)
#define log_warn(...) log_event(LOG_EV_NOTE, LOG_WARNING, NULL, __VA_ARGS__)
#define log_info(...) log_event(LOG_EV_NOTE, LOG_INFO, NULL, __VA_ARGS__)

/* The MESSAGE_ID of an event kind, 32 hex digits, or NULL. */
const char *log_message_id(enum log_event ev);

#endif
