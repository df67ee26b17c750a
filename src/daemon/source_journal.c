/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A journal source reads the system journal (or a directory of journal
 * files) through sd-journal, whose inotify fd joins the event loop.
 *
 * Matches: the configured list is ORed entry by entry. A list containing
 * "+" is read as journalctl reads its arguments instead: terms between
 * "+" are combined as journalctl does (AND across fields, OR within one
 * field), "+" separates alternatives.
 *
 * Trust: MESSAGE and SYSLOG_IDENTIFIER are written by whoever logs, so
 * `logger -t postfix/smtpd` by any local user could name any address.
 * With trusted = yes an entry counts only when journald's own _UID
 * (which no client can set) is one of the mail system's users, and its
 * _SYSTEMD_UNIT, when it has one, is one of the mail system's units: a
 * mail unit alone is not enough, as a user's .forward pipe runs inside
 * postfix@-.service as that user. The units are the built-in list below,
 * those the source's own _SYSTEMD_UNIT= matches name, and trusted_units;
 * the users are root, the mail users below that exist here, and
 * trusted_users. dovecot.service is not on the list: it runs users' sieve
 * scripts, and no shipped pattern reads Dovecot's lines.
 *
 * Rotation and vacuuming are sd-journal's business (it follows the
 * directory); when reading fails anyway, the journal is reopened at the
 * last cursor read.
 *
 * Latency: journald writes entries into the mapped file at once, but
 * tells readers (an inotify event, through an ftruncate()) only when its
 * post-change timer runs out: 250 ms after the first write, with
 * sd-event's default accuracy of 250 ms more, so 250 to 500 ms late. So
 * the journal is also looked at: every JOURNAL_POLL_USEC while entries
 * come (until JOURNAL_BUSY_USEC pass without one), every JOURNAL_SLOW_USEC
 * for JOURNAL_RECENT_USEC after the last one, and after that only when
 * journald says so: a journal quiet for long costs no wake-up.
 */
#include <errno.h>
#include <fnmatch.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-journal.h>

#include "log.h"
#include "names.h"
#include "source.h"

/* Entries read per loop iteration before yielding to signals and timers. */
#define JOURNAL_BUDGET 20000
/* How often to look for entries (microseconds): while they come, and
 * for how long after the last one; then more slowly, and for how long. */
#define JOURNAL_POLL_USEC 5000
#define JOURNAL_BUSY_USEC 2000000
#define JOURNAL_SLOW_USEC 100000
#define JOURNAL_RECENT_USEC 600000000

const char *const source_mail_units[] = {
	"postfix.service", "postfix@*.service",
	"sendmail.service", "sm-mta.service",
	"exim4.service", "exim.service",
	"mimedefang.service", "mimedefang-multiplexor.service",
	"amavis.service", "amavisd.service", "amavisd-new.service",
	"rspamd.service", "clamav-milter.service", "clamav-daemon.service",
	"spamassassin.service", "spamd.service",
	"opensmtpd.service",
	NULL
};

const char *const source_mail_users[] = {
	"postfix", "Debian-exim", "exim", "smmta", "smmsp", "defang", "amavis", "_rspamd",
	"clamav", "debian-spamd", "opensmtpd", "mail", NULL
};

struct source_journal {
	struct source *s;
	sd_journal *j;
	sd_event_source *io, *defer;
	sd_event_source *poll;	/* looks while busy: see the top */
	uint64_t last_entry;	/* CLOCK_MONOTONIC of the last read that found one, 0: none */
	char **units;		/* fnmatch globs, borrowed from the conf copy or the list above */
	size_t nunits;
	uid_t *uids;
	size_t nuids;
	char *cursor;		/* last entry read */
	char *tag;		/* the current entry's tag, NUL-terminated */
	size_t tagcap;
	bool warned_untrusted;
	char who[256];		/* whose entry was not trusted, for the warning */
	char pid[12];		/* the current entry's SYSLOG_PID and ']', as a
				 * line's "[pid]" (struct logline) */
	uint32_t where;		/* SOURCE_WHERE_JOURNAL, interned */
};

static int journal_add_unit(struct source_journal *jr, char *u)
{
	char **v = realloc(jr->units, (jr->nunits + 1) * sizeof(*v));

	if (!v)
		return -1;
	jr->units = v;
	v[jr->nunits++] = u;
	return 0;
}

static int journal_add_uid(struct source_journal *jr, uid_t uid)
{
	uid_t *v = realloc(jr->uids, (jr->nuids + 1) * sizeof(*v));

	if (!v)
		return -1;
	jr->uids = v;
	v[jr->nuids++] = uid;
	return 0;
}

static int journal_trust_init(struct source_journal *jr)
{
	const struct source_conf *c = &jr->s->conf;

	for (size_t i = 0; source_mail_units[i]; i++)
		if (journal_add_unit(jr, (char *)source_mail_units[i]) < 0)
			return -1;
	for (size_t i = 0; i < c->ntrusted_units; i++)
		if (journal_add_unit(jr, c->trusted_units[i]) < 0)
			return -1;
	for (size_t i = 0; i < c->njournal; i++) {
		const char *m = c->journal[i];

		if (strncmp(m, "_SYSTEMD_UNIT=", 14) == 0 &&
		    journal_add_unit(jr, (char *)m + 14) < 0)
			return -1;
	}
	if (journal_add_uid(jr, 0) < 0)
		return -1;
	for (size_t i = 0; source_mail_users[i]; i++) {
		struct passwd *pw = getpwnam(source_mail_users[i]);

		if (pw && journal_add_uid(jr, pw->pw_uid) < 0)
			return -1;
	}
	for (size_t i = 0; i < c->ntrusted_users; i++) {
		const char *u = c->trusted_users[i];
		char *end;
		unsigned long n = strtoul(u, &end, 10);
		struct passwd *pw;

		if (*u && *end == '\0') {
			if (journal_add_uid(jr, (uid_t)n) < 0)
				return -1;
		} else if ((pw = getpwnam(u)) != NULL) {
			if (journal_add_uid(jr, pw->pw_uid) < 0)
				return -1;
		} else {
			log_warn("source %s: trusted_users: no user \"%s\" on this system",
				 c->name, u);
		}
	}
	return 0;
}

/* The value of field in the current entry (not NUL-terminated), or NULL. */
static const char *journal_field(sd_journal *j, const char *field, size_t *len)
{
	size_t fl = strlen(field);
	const void *data;
	size_t n;

	if (sd_journal_get_data(j, field, &data, &n) < 0 || n <= fl)
		return NULL;
	*len = n - fl - 1;
	return (const char *)data + fl + 1;
}

/* The current entry's _UID is root, a mail user or a trusted user. */
static bool journal_uid_trusted(struct source_journal *jr)
{
	char num[16], *end;
	unsigned long uid;
	const char *v;
	size_t len;

	v = journal_field(jr->j, "_UID", &len);
	if (!v || len == 0 || len >= sizeof(num))
		return false;
	memcpy(num, v, len);
	num[len] = '\0';
	errno = 0;
	uid = strtoul(num, &end, 10);
	if (*end != '\0' || errno || num[0] < '0' || num[0] > '9')
		return false;
	for (size_t i = 0; i < jr->nuids; i++)
		if (jr->uids[i] == (uid_t)uid)
			return true;
	return false;
}

/*
 * An entry counts when journald's _UID is root or a mail user AND, when it
 * has a _SYSTEMD_UNIT, that unit is a mail unit: a mail unit alone is not
 * enough, as a local user's .forward pipe (or sieve script) runs inside
 * it as that user. Both fields are journald's own; no client sets them.
 * When not, jr->who says whose entry it was.
 */
static bool journal_trusted(struct source_journal *jr)
{
	const char *unit, *uid;
	size_t ulen, idlen;
	bool ok = true;

	unit = journal_field(jr->j, "_SYSTEMD_UNIT", &ulen);
	if (unit) {
		ok = false;
		if (ulen < sizeof(jr->who)) {
			memcpy(jr->who, unit, ulen);
			jr->who[ulen] = '\0';
			for (size_t i = 0; i < jr->nunits && !ok; i++)
				ok = fnmatch(jr->units[i], jr->who, 0) == 0;
		}
	}
	if (ok && journal_uid_trusted(jr))
		return true;
	uid = journal_field(jr->j, "_UID", &idlen);
	snprintf(jr->who, sizeof(jr->who), "%.*s%s%s%.*s", unit ? (int)(ulen > 200 ? 200 : ulen) : 0,
		 unit ? unit : "", unit ? " as " : "", uid ? "uid " : "no _UID",
		 uid ? (int)(idlen > 20 ? 20 : idlen) : 0, uid ? uid : "");
	return false;
}

static int journal_set_tag(struct source_journal *jr, const char *t, size_t len)
{
	if (len + 1 > jr->tagcap) {
		char *v = realloc(jr->tag, len + 1);

		if (!v)
			return -1;
		jr->tag = v;
		jr->tagcap = len + 1;
	}
	memcpy(jr->tag, t, len);
	jr->tag[len] = '\0';
	return 0;
}

/* The entry's process as a syslog line gives it: its digits then ']' (the
 * judge tells SMTP sessions apart by it), or NULL. */
static const char *journal_pid(struct source_journal *jr)
{
	size_t len, n = 0;
	const char *v = journal_field(jr->j, "SYSLOG_PID", &len);

	while (v && n < len && n < sizeof(jr->pid) - 2 && v[n] >= '0' && v[n] <= '9') {
		jr->pid[n] = v[n];
		n++;
	}
	if (n == 0 || n != len)
		return NULL;
	jr->pid[n] = ']';
	return jr->pid;
}

static void journal_entry(struct source_journal *jr, time_t arrival)
{
	struct source *s = jr->s;
	struct logline ll = { 0 };
	struct source_line l = { .entry = &ll, .arrival = arrival, .catchup = s->catchup };
	const char *msg, *tag;
	size_t msglen, taglen;
	uint64_t usec;

	msg = journal_field(jr->j, "MESSAGE", &msglen);
	if (!msg)
		return;
	if (s->conf.trusted && !journal_trusted(jr)) {
		s->untrusted++;
		if (!jr->warned_untrusted) {
			jr->warned_untrusted = true;
			log_warn("source %s: ignoring journal entries from %s, which is not the mail "
				 "system (trusted = yes; see trusted_units, trusted_users); further ones "
				 "are counted, not logged", s->conf.name, jr->who);
		}
		return;
	}
	tag = journal_field(jr->j, "SYSLOG_IDENTIFIER", &taglen);
	if (!tag && s->conf.program) {
		tag = s->conf.program;
		taglen = strlen(tag);
	}
	if (!tag)
		tag = journal_field(jr->j, "_COMM", &taglen);
	if (!tag) {
		tag = "";
		taglen = 0;
	}
	if (journal_set_tag(jr, tag, taglen) < 0) {
		log_error("source %s: out of memory", s->conf.name);
		return;
	}
	if (sd_journal_get_realtime_usec(jr->j, &usec) < 0)
		usec = (uint64_t)arrival * 1000000u;
	ll.time = (time_t)(usec / 1000000u);
	ll.tag = jr->tag;
	ll.taglen = taglen;
	ll.msg = msg;
	ll.msglen = msglen;
	ll.pid = journal_pid(jr);
	l.where = jr->where;
	l.lineno = usec;
	s->lines++;
	if (msglen > s->max_line) {
		l.too_long = true;
		l.entry = NULL;
	}
	s->fn(s->ctx, s, &l);
	s->fn(s->ctx, s, NULL);	/* the entry's fields last until the next one */
}

static int journal_apply_matches(struct source_journal *jr)
{
	const struct source_conf *c = &jr->s->conf;
	bool plus = false;
	int r = 0;

	for (size_t i = 0; i < c->njournal; i++)
		if (strcmp(c->journal[i], "+") == 0)
			plus = true;
	for (size_t i = 0; i < c->njournal && r >= 0; i++) {
		const char *m = c->journal[i];

		if (strcmp(m, "+") == 0) {
			r = sd_journal_add_disjunction(jr->j);
			continue;
		}
		r = sd_journal_add_match(jr->j, m, 0);
		if (r >= 0 && !plus)
			r = sd_journal_add_disjunction(jr->j);
	}
	if (r < 0)
		log_error("source %s: journal matches: %s", c->name, strerror(-r));
	return r < 0 ? -1 : 0;
}

static int journal_on_io(sd_event_source *es, int fd, uint32_t revents, void *userdata);
static int journal_on_defer(sd_event_source *es, void *userdata);

static void journal_close(struct source_journal *jr)
{
	jr->io = sd_event_source_disable_unref(jr->io);
	if (jr->j)
		sd_journal_close(jr->j);
	jr->j = NULL;
}

/* Opens the journal and places it after cursor (or at the tail). 0 or -1. */
static int journal_open(struct source_journal *jr, const char *cursor)
{
	struct source *s = jr->s;
	const char *what = s->conf.journal_dir ? s->conf.journal_dir : "the system journal";
	int r, fd;

	if (s->conf.journal_dir)
		r = sd_journal_open_directory(&jr->j, s->conf.journal_dir, 0);
	else
		r = sd_journal_open(&jr->j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
	if (r < 0) {
		log_error("source %s: cannot open %s: %s", s->conf.name, what, strerror(-r));
		jr->j = NULL;
		return -1;
	}
	/* whole fields: a long MESSAGE is skipped and counted, never cut */
	sd_journal_set_data_threshold(jr->j, 0);
	if (journal_apply_matches(jr) < 0)
		goto fail;
	if (cursor) {
		r = sd_journal_seek_cursor(jr->j, cursor);
		if (r >= 0 && (r = sd_journal_next(jr->j)) > 0 &&
		    sd_journal_test_cursor(jr->j, cursor) <= 0)
			sd_journal_previous(jr->j);	/* that entry is gone: read from the next */
	} else {
		/* at the last entry that matches; when none does yet, at the
		 * head: from the tail itself, sd_journal_next() would step back
		 * to the last of the entries that arrive meanwhile, skipping
		 * the others */
		r = sd_journal_seek_tail(jr->j);
		if (r >= 0)
			r = sd_journal_previous(jr->j);
		if (r == 0)
			r = sd_journal_seek_head(jr->j);
	}
	if (r < 0) {
		log_error("source %s: cannot seek in %s: %s", s->conf.name, what, strerror(-r));
		goto fail;
	}
	fd = sd_journal_get_fd(jr->j);
	if (fd < 0) {
		log_error("source %s: cannot watch %s: %s", s->conf.name, what, strerror(-fd));
		goto fail;
	}
	r = sd_event_add_io(s->ev, &jr->io, fd, (uint32_t)sd_journal_get_events(jr->j),
			    journal_on_io, jr);
	if (r < 0) {
		log_error("source %s: cannot add to the event loop: %s", s->conf.name, strerror(-r));
		goto fail;
	}
	return 0;
fail:
	journal_close(jr);
	return -1;
}

static void journal_save_cursor(struct source_journal *jr)
{
	char *c = NULL;

	if (sd_journal_get_cursor(jr->j, &c) >= 0) {
		free(jr->cursor);
		jr->cursor = c;
	}
}

/* After a read: when to look again, by how long ago an entry came. */
static void journal_schedule(struct source_journal *jr, bool any)
{
	uint64_t now, since;

	if (sd_event_now(jr->s->ev, CLOCK_MONOTONIC, &now) < 0)
		return;
	if (any)
		jr->last_entry = now;
	since = now - jr->last_entry;
	if (!jr->last_entry || since >= JOURNAL_RECENT_USEC) {
		sd_event_source_set_enabled(jr->poll, SD_EVENT_OFF);
		return;
	}
	sd_event_source_set_time(jr->poll, now + (since < JOURNAL_BUSY_USEC ? JOURNAL_POLL_USEC :
						  JOURNAL_SLOW_USEC));
	sd_event_source_set_enabled(jr->poll, SD_EVENT_ONESHOT);
}

static void journal_read(struct source_journal *jr)
{
	struct source *s = jr->s;
	time_t now = time(NULL);
	unsigned budget = JOURNAL_BUDGET;
	bool any = false;
	int r = 0;

	if (!jr->j) {
		if (journal_open(jr, jr->cursor) < 0)
			return;
		log_info("source %s: journal reopened", s->conf.name);
	}
	r = sd_journal_process(jr->j);
	while (r >= 0 && budget > 0 && (r = sd_journal_next(jr->j)) > 0) {
		budget--;
		any = true;
		journal_entry(jr, now);
	}
	if (any)
		journal_save_cursor(jr);
	journal_schedule(jr, any);
	if (r < 0) {
		/* vacuumed or corrupted under us: reopen at the last cursor and go on */
		log_warn("source %s: reading the journal failed (%s); reopening it", s->conf.name,
			 strerror(-r));
		journal_close(jr);
		if (journal_open(jr, jr->cursor) == 0)
			sd_event_source_set_enabled(jr->defer, SD_EVENT_ONESHOT);
		return;
	}
	if (budget == 0) {
		sd_event_source_set_enabled(jr->defer, SD_EVENT_ONESHOT);
	} else if (s->catchup) {
		s->catchup = false;	/* at the end: what comes now is live */
		if (s->lines)
			log_info("source %s: caught up (%llu entries written while spamwrathd was "
				 "stopped)", s->conf.name, (unsigned long long)s->lines);
	}
}

static int journal_on_io(sd_event_source *es, int fd, uint32_t revents, void *userdata)
{
	journal_read(userdata);
	return 0;
}

static int journal_on_defer(sd_event_source *es, void *userdata)
{
	journal_read(userdata);
	return 0;
}

static int journal_on_poll(sd_event_source *es, uint64_t usec, void *userdata)
{
	journal_read(userdata);
	return 0;
}

int source_journal_start(struct source *s, const struct source_pos *start)
{
	struct source_journal *jr = calloc(1, sizeof(*jr));
	int r;

	if (!jr) {
		log_error("source %s: out of memory", s->conf.name);
		return -1;
	}
	jr->s = s;
	s->impl = jr;
	jr->where = names_intern(SOURCE_WHERE_JOURNAL, strlen(SOURCE_WHERE_JOURNAL));
	if (jr->where == UINT32_MAX)
		jr->where = NAMES_NONE;	/* the pool is full: the message names no entry */
	if (journal_trust_init(jr) < 0) {
		log_error("source %s: out of memory", s->conf.name);
		goto fail;
	}
	if (start && start->cursor) {
		jr->cursor = strdup(start->cursor);
		if (!jr->cursor)
			goto fail;
	}
	r = sd_event_add_defer(s->ev, &jr->defer, journal_on_defer, jr);
	if (r >= 0)	/* accuracy 1 us: sd-event's default would be 250 ms */
		r = sd_event_add_time(s->ev, &jr->poll, CLOCK_MONOTONIC, 0, 1, journal_on_poll, jr);
	if (r < 0) {
		log_error("source %s: cannot add to the event loop: %s", s->conf.name, strerror(-r));
		goto fail;
	}
	sd_event_source_set_enabled(jr->defer, SD_EVENT_OFF);
	sd_event_source_set_enabled(jr->poll, SD_EVENT_OFF);
	if (journal_open(jr, jr->cursor) < 0)
		goto fail;
	sd_event_source_set_enabled(jr->defer, SD_EVENT_ONESHOT);
	return 0;
fail:
	source_journal_stop(s);
	return -1;
}

void source_journal_stop(struct source *s)
{
	struct source_journal *jr = s->impl;

	if (!jr)
		return;
	journal_close(jr);
	sd_event_source_disable_unref(jr->defer);
	sd_event_source_disable_unref(jr->poll);
	free(jr->units);
	free(jr->uids);
	free(jr->cursor);
	free(jr->tag);
	free(jr);
	s->impl = NULL;
}

int source_journal_position(struct source *s, struct source_pos *out)
{
	struct source_journal *jr = s->impl;

	if (!jr->cursor)
		return 0;
	out->cursor = strdup(jr->cursor);
	if (!out->cursor)
		return -1;
	out->valid = true;
	return 0;
}

void source_journal_poll(struct source *s)
{
	struct source_journal *jr = s->impl;

	/* journals on file systems without inotify, and a failed reopen */
	journal_read(jr);
}
