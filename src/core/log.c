/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Journal entries are sent with sd_journal_sendv: the number of fields
 * varies with the event. A send that fails (journald restarting) falls
 * back to stderr for that message, so nothing said is lost silently.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>

#include "log.h"

/* Fixed for ever: `journalctl MESSAGE_ID=...` finds every ban of every version. */
static const char *const log_ids[LOG_EV_COUNT] = {
	[LOG_EV_NOTE] = NULL,
	[LOG_EV_START] = "9179b311ca964629865b9c44a4bab5c5",
	[LOG_EV_STOP] = "9ad8054741334fba91932964eb291de3",
	[LOG_EV_BAN] = "488ac9ebae594c768f2b90210a6927c3",
	[LOG_EV_UNBAN] = "7b3cee4eda3543ad951f41d9f63cf495",
	[LOG_EV_EXPIRY] = "d1be634857884429a266307af650ce72",
	[LOG_EV_RELOAD_OK] = "d87fbdfa98324b22a2ed19311d6ece4a",
	[LOG_EV_RELOAD_FAILED] = "333e6256b70f4cdaa501c0313d3248ee",
	[LOG_EV_ERROR] = "d1aaeeba5b094c97b76f1295ebfc1af5",
};

static struct {
	const char *ident;
	bool journal;
	bool stderr_too;
} log_state = { "spamwrathd", false, true };

static bool log_stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(const char *ident, enum log_target target)
{
	const char *env = getenv("SPAMWRATH_LOG");

	log_state.ident = ident;
	if (target == LOG_TARGET_AUTO && env) {
		if (strcmp(env, "stderr") == 0)
			target = LOG_TARGET_STDERR;
		else if (strcmp(env, "journal") == 0)
			target = LOG_TARGET_JOURNAL;
	}
	switch (target) {
	case LOG_TARGET_STDERR:
		log_state.journal = false;
		log_state.stderr_too = true;
		break;
	case LOG_TARGET_JOURNAL:
		log_state.journal = true;
		log_state.stderr_too = false;
		break;
	case LOG_TARGET_AUTO:
		if (log_stderr_is_journal()) {
			log_state.journal = true;
			log_state.stderr_too = false;
		} else {
			/* From a terminal on a systemd machine: show it, and keep it findable. */
			log_state.journal = access("/run/systemd/journal/socket", W_OK) == 0;
			log_state.stderr_too = true;
		}
		break;
	}
}

bool log_to_journal(void)
{
	return log_state.journal;
}

const char *log_message_id(enum log_event ev)
{
	return ev >= 0 && ev < LOG_EV_COUNT ? log_ids[ev] : NULL;
}

static const char *log_prefix(int priority)
{
	switch (priority) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
	case LOG_ERR:
		return "error: ";
	case LOG_WARNING:
		return "warning: ";
	default:
		return "";
	}
}

#define LOG_MAXFIELDS 12

static int log_field(struct iovec *iov, size_t *n, char **owned, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int log_field(struct iovec *iov, size_t *n, char **owned, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -1;
	owned[*n] = s;
	iov[*n].iov_base = s;
	iov[*n].iov_len = (size_t)r;
	(*n)++;
	return 0;
}

static int log_send_journal(enum log_event ev, int priority, const struct log_fields *f,
			    const char *msg)
{
	struct iovec iov[LOG_MAXFIELDS];
	char *owned[LOG_MAXFIELDS];
	size_t n = 0;
	int r = 0;

	r |= log_field(iov, &n, owned, "MESSAGE=%s", msg);
	r |= log_field(iov, &n, owned, "PRIORITY=%d", priority);
	r |= log_field(iov, &n, owned, "SYSLOG_IDENTIFIER=%s", log_state.ident);
	if (log_ids[ev])
		r |= log_field(iov, &n, owned, "MESSAGE_ID=%s", log_ids[ev]);
	if (f && f->address)
		r |= log_field(iov, &n, owned, "SPAMWRATH_ADDRESS=%s", f->address);
	if (f && f->cls)
		r |= log_field(iov, &n, owned, "SPAMWRATH_CLASS=%s", f->cls);
	if (f && f->pattern)
		r |= log_field(iov, &n, owned, "SPAMWRATH_PATTERN=%s", f->pattern);
	if (f && f->source)
		r |= log_field(iov, &n, owned, "SPAMWRATH_SOURCE=%s", f->source);
	if (f && f->duration >= 0)
		r |= log_field(iov, &n, owned, "SPAMWRATH_DURATION=%ld", f->duration);
	if (f && f->origin)
		r |= log_field(iov, &n, owned, "SPAMWRATH_ORIGIN=%s", f->origin);
	if (r == 0)
		r = sd_journal_sendv(iov, (int)n);
	for (size_t i = 0; i < n; i++)
		free(owned[i]);
	return r;
}

void log_event(enum log_event ev, int priority, const struct log_fields *f, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	bool sent = false;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg) {
		fprintf(stderr, "%s: %s(message lost: out of memory)\n", log_state.ident,
			log_prefix(priority));
		return;
	}
	if (log_state.journal)
		sent = log_send_journal(ev, priority, f, msg) >= 0;
	if (log_state.stderr_too || !sent)
		fprintf(stderr, "%s: %s%s\n", log_state.ident, log_prefix(priority), msg);
	free(msg);
}
