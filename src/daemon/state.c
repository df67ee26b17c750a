/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The record is one text file, STATE_DIR/spamwrath.state, one record per
 * line, each ending in " *" and the CRC-32 of what precedes it:
 *
 *   spamwrath-state 1 CREATED
 *   ban ADDR START UNTIL CLASS PATTERN OFFENCES [ORIGIN]
 *                                                   (UNTIL 0: history only; ORIGIN:
 *                                                   the fleet host that decided it)
 *   off ADDR TIME WEIGHT                            (an offence below threshold)
 *   unban ADDR TIME | forget ADDR TIME
 *   file SOURCE DEV INO OFFSET HEAD
 *   journal SOURCE CURSOR
 *
 * Text, so that an administrator can read it; checksummed per line, so
 * that a torn or damaged line costs only itself. Replaying it in order
 * rebuilds the judge. Compaction writes the same records for what the
 * judge still remembers into a new file and renames it over the old one.
 *
 * Limits: records wait in memory until state_flush (one per loop
 * iteration) or until STATE_SPILL bytes gather, when they are written
 * without an fsync (the flush still syncs them); a failed write keeps them,
 * up to STATE_BUF_MAX, and retries. Compaction streams its snapshot to the
 * temporary file through the same buffer, so its size is not bounded by
 * memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "grow.h"
#include "duration.h"
#include "names.h"
#include "state.h"

#define STATE_FILE "spamwrath.state"
#define STATE_TMP "spamwrath.state.tmp"
#define STATE_LOCK "spamwrath.lock"
#define STATE_VERSION 1
#define STATE_BUF_MAX (64u << 20)
#define STATE_SPILL (1u << 20)
#define STATE_COMPACT_MIN (16u << 20)
#define STATE_CHUNK (1u << 20)	/* read at a time by state_load; no record is longer */

struct state_pos {
	char *source;
	char *record;		/* the whole line, ready to write again */
};

struct state {
	char *dir;
	int dirfd, fd, lockfd;
	int out;		/* where the buffer goes: fd, or the snapshot being written */
	uint64_t outsize;	/* bytes written to out */
	uint64_t size;		/* bytes known to be whole on disk */
	uint64_t compacted;	/* size right after the last compaction */
	char *buf;
	size_t len, cap;
	bool need_sync;
	struct state_pos *pos;
	size_t npos;
	struct state_stats st;
	size_t refused;		/* records the judge's rules refused, this load */
	char why[ADDR_STRLEN + 80];	/* the last refusal, for its message */
};

/* --- writing records --- */

static int state_reserve(struct state *s, size_t more)
{
	if (s->len + more <= s->cap)
		return 0;
	if (s->len + more > STATE_BUF_MAX)
		return -1;
	return grow(&s->buf, &s->cap, s->len + more, 1, 4096);
}

/* Appends one formatted token, percent-encoding what would break a line;
 * false (buf unchanged past *n) when it would not fit in cap bytes. */
static bool state_token(char *out, size_t *n, size_t cap, const char *t)
{
	for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
		if (*n + 4 > cap)
			return false;
		if (*p <= ' ' || *p >= 0x7f || *p == '%' || *p == '*') {
			snprintf(out + *n, 4, "%%%02X", *p);
			*n += 3;
		} else {
			out[(*n)++] = (char)*p;
		}
	}
	return true;
}

/* Appends printf text; false when it would not fit in cap bytes. */
static bool state_append(char *buf, size_t *n, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static bool state_append(char *buf, size_t *n, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(buf + *n, cap - *n, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= cap - *n)
		return false;
	*n += (size_t)r;
	return true;
}

/* Formats a record (fields separated by spaces, strings encoded, a CRC
 * last) into buf, of cap bytes. Its length, or 0 when it would not fit
 * (state_bound computes a cap it fits in). */
static size_t state_format(char *buf, size_t cap, const char *type, const char *fmt, va_list ap)
{
	size_t n = 0;
	bool ok = state_token(buf, &n, cap, type);
	uLong crc;

	for (const char *f = fmt; *f && ok; f++) {
		ok = state_append(buf, &n, cap, " ");
		if (*f == 's')
			ok = ok && state_token(buf, &n, cap, va_arg(ap, const char *));
		else if (*f == 'u')
			ok = ok && state_append(buf, &n, cap, "%llu",
						(unsigned long long)va_arg(ap, uint64_t));
	}
	if (!ok)
		return 0;
	crc = crc32(0L, (const Bytef *)buf, (uInt)n);
	return state_append(buf, &n, cap, " *%08lx\n", (unsigned long)crc) ? n : 0;
}

/* Longest record: strings are bounded by the callers (addresses, names,
 * journal cursors), each may triple when encoded. */
static size_t state_bound(const char *fmt, va_list ap)
{
	size_t n = 64;

	for (const char *f = fmt; *f; f++) {
		if (*f == 's') {
			n += 3 * strlen(va_arg(ap, const char *)) + 1;
		} else {
			(void)va_arg(ap, uint64_t);
			n += 21;
		}
	}
	return n;
}

static int state_write_all(int fd, const char *p, size_t n);

/* Writes the buffer to its file without an fsync. 0 or -errno (then the
 * records stay in the buffer and the file is cut back to what was whole). */
static int state_spill(struct state *s)
{
	int r;

	if (s->len == 0)
		return 0;
	r = state_write_all(s->out, s->buf, s->len);
	if (r < 0) {
		if (ftruncate(s->out, (off_t)s->outsize) < 0)
			r = -errno;
		s->st.last_error = r;
		return r;
	}
	s->outsize += s->len;
	s->len = 0;
	return 0;
}

/* Formats one record at the end of the buffer. 0, or -1 (no memory). */
static int state_put(struct state *s, const char *type, const char *fmt, va_list ap)
{
	va_list aq;
	size_t need, n;

	va_copy(aq, ap);
	need = state_bound(fmt, aq) + 3 * strlen(type);
	va_end(aq);
	if (state_reserve(s, need) < 0) {
		s->st.last_error = -ENOMEM;
		return -1;
	}
	n = state_format(s->buf + s->len, need, type, fmt, ap);
	if (n == 0) {
		s->st.last_error = -EOVERFLOW;	/* state_bound is wrong */
		return -1;
	}
	s->len += n;
	return 0;
}

static int state_recordv(struct state *s, const char *type, const char *fmt, va_list ap)
{
	if (state_put(s, type, fmt, ap) < 0)
		return -1;
	s->st.records_written++;
	if (s->len >= STATE_SPILL)
		state_spill(s);	/* a burst must not pile up in memory */
	return 0;
}

static int state_record(struct state *s, const char *type, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = state_recordv(s, type, fmt, ap);
	va_end(ap);
	return r;
}

static const char *state_class(enum class_id c)
{
	return class_name(c);
}

void state_event(struct state *s, const struct judge_event *e)
{
	char a[ADDR_STRLEN];

	switch (e->kind) {
	case JUDGE_BAN:
		if (e->origin)	/* another host of the fleet decided it */
			state_record(s, "ban", "suussus", addr_format(&e->addr, a),
				     (uint64_t)e->time, (uint64_t)(e->time + e->duration),
				     state_class(e->cls), names_get(e->pattern), (uint64_t)e->offences,
				     names_get(e->origin));
		else
			state_record(s, "ban", "suussu", addr_format(&e->addr, a),
				     (uint64_t)e->time, (uint64_t)(e->time + e->duration),
				     state_class(e->cls), names_get(e->pattern), (uint64_t)e->offences);
		/* another host's ban is written with the rest, synced with the next
		 * of ours: the fleet still holds it, and a joining host's 100,000
		 * must not cost an fsync a page */
		s->need_sync |= !e->received;
		break;
	case JUDGE_OFFENCE:
		if (e->counted && !e->note)	/* notes are never kept (judge.h) */
			state_record(s, "off", "suu", addr_format(&e->addr, a), (uint64_t)e->time,
				     (uint64_t)e->weight);
		break;
	case JUDGE_UNBAN:
		/* a lifted ban must not come back after a crash either */
		state_record(s, e->reason && strcmp(e->reason, "forget") == 0 ? "forget" : "unban",
			     "su", addr_format(&e->addr, a), (uint64_t)e->time);
		s->need_sync = true;
		break;
	case JUDGE_IGNORED:
	case JUDGE_EXPIRED:
		break;
	}
}

static int state_link_record(void *ctx, const char *qid, size_t len, const struct addr *a,
			     time_t seen)
{
	struct state *s = ctx;
	char q[QID_MAX + 1], buf[ADDR_STRLEN];

	memcpy(q, qid, len);
	q[len] = '\0';
	return state_record(s, "link", "ssu", q, addr_format(a, buf), (uint64_t)seen) < 0;
}

void state_links(struct state *s, const struct correlator *c)
{
	correlator_walk_links(c, state_link_record, s);
}

/* A queue id as an MTA writes one: letters and digits. */
static bool state_qid(const char *q, size_t len)
{
	if (len == 0 || len > QID_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((q[i] >= '0' && q[i] <= '9') || ((q[i] | 0x20) >= 'a' && (q[i] | 0x20) <= 'z')))
			return false;
	return true;
}

/* Remembers the last position of a source (compaction writes it again)
 * and, unless loading, records it. */
static void state_position(struct state *s, bool record, const char *source,
			   const char *type, const char *fmt, ...)
{
	size_t start = s->len;
	struct state_pos *p = NULL;
	va_list ap;
	char *rec;
	int r;

	va_start(ap, fmt);
	r = state_put(s, type, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	rec = strndup(s->buf + start, s->len - start);
	if (!record)
		s->len = start;	/* loading: remembered, not written again */
	else if (s->len >= STATE_SPILL)
		state_spill(s);
	if (!rec)
		return;
	for (size_t i = 0; i < s->npos; i++)
		if (strcmp(s->pos[i].source, source) == 0)
			p = &s->pos[i];
	if (!p) {
		struct state_pos *v = realloc(s->pos, (s->npos + 1) * sizeof(*v));

		if (!v) {
			free(rec);
			return;
		}
		s->pos = v;
		v[s->npos].source = strdup(source);
		if (!v[s->npos].source) {
			free(rec);
			return;
		}
		p = &v[s->npos++];
		p->record = NULL;
	}
	free(p->record);
	p->record = rec;
}

static void state_file_pos_record(struct state *s, bool record, const struct state_file_pos *p)
{
	state_position(s, record, p->source, "file", "suuuu", p->source, (uint64_t)p->dev,
		       (uint64_t)p->ino, p->offset, p->head);
}

void state_file_pos(struct state *s, const struct state_file_pos *p)
{
	state_file_pos_record(s, true, p);
}

void state_journal_pos(struct state *s, const char *source, const char *cursor)
{
	state_position(s, true, source, "journal", "ss", source, cursor);
}

static int state_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int state_flush(struct state *s)
{
	int r = state_spill(s);

	if (r < 0)
		return r;
	s->size = s->outsize;
	if (s->need_sync) {
		if (fdatasync(s->fd) < 0) {
			s->st.last_error = -errno;
			return -errno;
		}
		s->st.fsyncs++;
		s->need_sync = false;
	}
	s->st.last_error = 0;
	return 0;
}

/* --- opening --- */

/* Who may own what spamwrathd trusts: root, or the user it runs as. */
static bool state_owner_ok(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/*
 * The state directory must be one that no other user can change (as
 * sshd's StrictModes): owned by root or by us, writable by nobody else;
 * so must every directory above it, unless sticky (/tmp). A local user
 * who could write there could plant a symlink and make us overwrite or
 * create any file we may write. NULL, or why not (in buf).
 */
static const char *state_dir_unsafe(int dirfd, char *buf, size_t len)
{
	struct stat st, up;
	int fd = dup(dirfd);
	bool top = true;

	if (fd < 0)
		return strerror(errno);
	for (;;) {
		int parent;

		if (fstat(fd, &st) < 0) {
			snprintf(buf, len, "%s", strerror(errno));
			break;
		}
		if (!state_owner_ok(st.st_uid)) {
			snprintf(buf, len, "%s is owned by uid %u: it must belong to root or to the user "
				 "spamwrathd runs as (uid %u)", top ? "it" : "a directory above it",
				 (unsigned)st.st_uid, (unsigned)geteuid());
			break;
		}
		if ((st.st_mode & (S_IWGRP | S_IWOTH)) && (top || !(st.st_mode & S_ISVTX))) {
			snprintf(buf, len, "%s is writable by %s (mode %04o): another user could plant "
				 "a symlink there", top ? "it" : "a directory above it",
				 st.st_mode & S_IWOTH ? "others" : "its group",
				 (unsigned)(st.st_mode & 07777));
			break;
		}
		parent = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (parent < 0 || fstat(parent, &up) < 0) {
			snprintf(buf, len, "%s", strerror(errno));
			if (parent >= 0)
				close(parent);
			break;
		}
		close(fd);
		fd = parent;
		top = false;
		if (up.st_dev == st.st_dev && up.st_ino == st.st_ino) {
			close(fd);
			return NULL;	/* "/" is its own parent: every level checked */
		}
	}
	close(fd);
	return buf;
}

/*
 * Opens name in the state directory without following a symlink, and
 * makes sure it is a file of ours with one name (not a FIFO, not a hard
 * link planted while the directory was open to others). fd, or -1 with
 * the reason in d.
 */
static int state_open_file(struct state *s, const char *name, int flags, struct diag *d)
{
	int fd = openat(s->dirfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0640);
	struct stat st;

	if (fd < 0) {
		diag_error(d, s->dir, 0, "cannot open %s: %s%s", name, strerror(errno),
			   errno == ELOOP ? " (a symlink: spamwrathd does not follow one here)" : "");
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    !state_owner_ok(st.st_uid)) {
		diag_error(d, s->dir, 0, "refusing %s: not a regular file of spamwrathd's own with "
			   "one name", name);
		close(fd);
		return -1;
	}
	if (fcntl(fd, F_SETFL, flags & O_APPEND) < 0) {
		diag_error(d, s->dir, 0, "cannot open %s: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int state_open(const char *dir, struct state **out, struct diag *d)
{
	struct state *s = calloc(1, sizeof(*s));
	struct stat st;
	char why[160];

	if (!s) {
		diag_error(d, dir, 0, "out of memory");
		return -1;
	}
	s->fd = s->dirfd = s->lockfd = s->out = -1;
	s->dir = strdup(dir);
	if (!s->dir) {
		diag_error(d, dir, 0, "out of memory");
		goto fail;
	}
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		diag_error(d, dir, 0, "cannot create the state directory: %s", strerror(errno));
		goto fail;
	}
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		diag_error(d, dir, 0, "cannot open the state directory: %s", strerror(errno));
		goto fail;
	}
	if (state_dir_unsafe(s->dirfd, why, sizeof(why))) {
		diag_error(d, dir, 0, "refusing the state directory: %s", why);
		goto fail;
	}
	s->lockfd = state_open_file(s, STATE_LOCK, O_RDWR | O_CREAT, d);
	if (s->lockfd < 0)
		goto fail;
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) < 0) {
		diag_error(d, dir, 0, "another spamwrathd uses this state directory");
		goto fail;
	}
	s->fd = state_open_file(s, STATE_FILE, O_RDWR | O_APPEND | O_CREAT, d);
	if (s->fd < 0)
		goto fail;
	if (fstat(s->fd, &st) < 0) {
		diag_error(d, dir, 0, "cannot open %s: %s", STATE_FILE, strerror(errno));
		goto fail;
	}
	s->size = s->outsize = (uint64_t)st.st_size;
	s->out = s->fd;
	*out = s;
	return 0;
fail:
	state_close(s);
	return -1;
}

void state_close(struct state *s)
{
	if (!s)
		return;
	if (s->fd >= 0) {
		state_flush(s);
		close(s->fd);
	}
	if (s->lockfd >= 0)
		close(s->lockfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	for (size_t i = 0; i < s->npos; i++) {
		free(s->pos[i].source);
		free(s->pos[i].record);
	}
	free(s->pos);
	free(s->buf);
	free(s->dir);
	free(s);
}

/* --- loading --- */

#define STATE_MAXF 8

struct state_fields {
	char *f[STATE_MAXF];
	int n;
};

/* Decodes %XX in place. -1 on a malformed escape. */
static int state_unescape(char *t)
{
	char *w = t;

	for (char *r = t; *r; r++) {
		if (*r == '%') {
			unsigned v;

			if (sscanf(r + 1, "%2x", &v) != 1 || !r[1] || !r[2])
				return -1;
			*w++ = (char)v;
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return 0;
}

/* Checks the CRC and splits the line into fields. NULL reason = fine. */
static const char *state_split(char *line, size_t len, struct state_fields *f)
{
	char *star, *end;
	unsigned long want;

	/* "... *" and eight hex digits */
	if (len < 11 || line[len - 10] != ' ' || line[len - 9] != '*')
		return "no checksum";
	star = line + len - 9;
	want = strtoul(star + 1, &end, 16);
	if (end != line + len)
		return "malformed checksum";
	if (crc32(0L, (const Bytef *)line, (uInt)(len - 10)) != want)
		return "checksum mismatch";
	line[len - 10] = '\0';
	f->n = 0;
	for (char *tok = strtok(line, " "); tok; tok = strtok(NULL, " ")) {
		if (f->n == STATE_MAXF || state_unescape(tok) < 0)
			return "malformed fields";
		f->f[f->n++] = tok;
	}
	return f->n ? NULL : "empty record";
}

static int state_u64(const char *s, uint64_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return (*end || errno) ? -1 : 0;
}

static int state_class_id(const char *name, enum class_id *out)
{
	int c = class_from_name(name);

	if (c >= 0) {
		*out = (enum class_id)c;
		return 0;
	}
	if (strcmp(name, class_name(CLASS_MANUAL)) == 0 || strcmp(name, "-") == 0) {
		*out = CLASS_MANUAL;
		return 0;
	}
	return -1;
}

/* A moment a record may name: not beyond DURATION_MAX from now (a clock
 * set back cannot reach that far), and inside the judge's uint32 seconds. */
static bool state_time_ok(uint64_t t, time_t now)
{
	return t <= UINT32_MAX && t <= (uint64_t)now + DURATION_MAX;
}

/* True, with the reason in s->why, when the rules in force now would not
 * ban this address: the record goes, as a new ban would be refused. */
static bool state_refused(struct state *s, struct judge *j, const struct addr *a)
{
	const char *why = judge_refuses(j, a);
	char buf[ADDR_STRLEN];

	if (!why)
		return false;
	snprintf(s->why, sizeof(s->why), "%s: %s", addr_format(a, buf), why);
	s->refused++;
	return true;
}

/* Applies one record. NULL, or why it was not usable. */
static const char *state_apply(struct state *s, struct state_fields *f, struct judge *j,
			       time_t now, const struct state_positions *pos)
{
	const char *type = f->f[0];
	struct addr a;
	uint64_t u[4];

	if (strcmp(type, "spamwrath-state") == 0)
		return f->n >= 2 && strcmp(f->f[1], "1") == 0 ? NULL : "unknown format version";
	if (strcmp(type, "file") == 0) {
		struct state_file_pos p;

		if (f->n != 6 || state_u64(f->f[2], &u[0]) || state_u64(f->f[3], &u[1]) ||
		    state_u64(f->f[4], &u[2]) || state_u64(f->f[5], &u[3]))
			return "malformed file position";
		p = (struct state_file_pos){ f->f[1], (dev_t)u[0], (ino_t)u[1], u[2], u[3] };
		state_file_pos_record(s, false, &p);
		if (pos && pos->file)
			pos->file(pos->ctx, &p);
		return NULL;
	}
	if (strcmp(type, "journal") == 0) {
		if (f->n != 3)
			return "malformed journal position";
		state_position(s, false, f->f[1], "journal", "ss", f->f[1], f->f[2]);
		if (pos && pos->journal)
			pos->journal(pos->ctx, f->f[1], f->f[2]);
		return NULL;
	}
	if (strcmp(type, "link") == 0) {
		/* not written again: a link lasts one restart */
		if (f->n != 4 || !state_qid(f->f[1], strlen(f->f[1])) ||
		    addr_parse_host(f->f[2], strlen(f->f[2]), &a) < 0 || state_u64(f->f[3], &u[0]))
			return "malformed link";
		if (pos && pos->link)
			pos->link(pos->ctx, f->f[1], strlen(f->f[1]), &a, (time_t)u[0]);
		return NULL;
	}
	if (f->n < 3 || addr_parse_net(f->f[1], strlen(f->f[1]), &a) < 0)
		return "malformed address";
	if (strcmp(type, "ban") == 0) {
		enum class_id c;
		uint32_t origin = 0;

		if ((f->n != 7 && f->n != 8) || state_u64(f->f[2], &u[0]) ||
		    state_u64(f->f[3], &u[1]) || state_u64(f->f[6], &u[2]) ||
		    state_class_id(f->f[4], &c) < 0 ||
		    (f->n == 8 && !config_fleet_name_ok(f->f[7])))
			return "malformed ban";
		if (!state_time_ok(u[0], now) ||
		    (u[1] && (u[1] < u[0] || u[1] - u[0] > DURATION_MAX ||
			      u[1] > (uint64_t)now + DURATION_MAX)))
			return "ban times out of range (a ban lasts at most " DURATION_MAX_TEXT ")";
		if (state_refused(s, j, &a))
			return s->why;
		if (f->n == 8 && (origin = names_intern(f->f[7], strlen(f->f[7]))) == UINT32_MAX)
			origin = 0;
		return judge_restore_ban(j, &a, (time_t)u[0], (time_t)u[1], c,
					 names_intern(f->f[5], strlen(f->f[5])), (unsigned)u[2],
					 origin, now) < 0 ? "out of memory" : NULL;
	}
	if (strcmp(type, "off") == 0) {
		if (f->n != 4 || state_u64(f->f[2], &u[0]) || state_u64(f->f[3], &u[1]) ||
		    u[1] > UINT32_MAX)
			return "malformed offence";
		if (!state_time_ok(u[0], now))
			return "offence time out of range";
		if (state_refused(s, j, &a))
			return s->why;
		return judge_restore_offence(j, &a, (time_t)u[0], (uint32_t)u[1], now) < 0 ?
			"out of memory" : NULL;
	}
	if (strcmp(type, "unban") == 0 || strcmp(type, "forget") == 0) {
		judge_restore_unban(j, &a, strcmp(type, "forget") == 0);
		return NULL;
	}
	return "unknown record type";
}

/* Where state_load is in the file. */
struct state_reading {
	const char *path;
	size_t lineno, dropped;
	struct diag *d;
};

static void state_drop(struct state_reading *rd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void state_drop(struct state_reading *rd, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	rd->dropped++;
	/* the first few say what; a whole garbage file is one summary */
	if (rd->dropped > 10)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_warn(rd->d, rd->path, (int)rd->lineno, "%s", msg);
}

/* One whole line (its newline replaced by a NUL) into the judge. */
static void state_load_line(struct state *s, struct state_reading *rd, char *line, size_t len,
			    struct judge *j, time_t now, const struct state_positions *pos)
{
	struct state_fields f;
	const char *why;

	why = state_split(line, len, &f);
	if (!why)
		why = state_apply(s, &f, j, now, pos);
	if (why)
		state_drop(rd, "record dropped: %s", why);
}

/* state_load's work, with the record's path for the messages. */
static int state_load_from(struct state *s, const char *path, struct judge *j, time_t now,
			   const struct state_positions *pos, struct diag *d)
{
	struct state_reading rd = { path, 0, 0, d };
	size_t have = 0;
	uint64_t off = 0;
	size_t dropped;
	bool overlong = false;	/* inside a line longer than the buffer */
	char *buf;

	/* read a chunk at a time: a state of hundreds of megabytes must not
	 * be as big in memory while it loads */
	buf = malloc(STATE_CHUNK);
	if (!buf) {
		diag_error(d, path, 0, "cannot read: out of memory");
		return -1;
	}
	for (;;) {
		ssize_t r = pread(s->fd, buf + have, STATE_CHUNK - have, (off_t)off);
		char *p = buf, *end, *nl;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			diag_error(d, path, 0, "cannot read: %s", strerror(errno));
			free(buf);
			return -1;
		}
		if (r == 0) {
			if (have || overlong) {
				rd.lineno++;
				state_drop(&rd, "dropped a torn last record (%zu bytes)", have);
			}
			break;
		}
		off += (uint64_t)r;
		end = buf + have + r;
		while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
			rd.lineno++;
			*nl = '\0';
			if (overlong)
				state_drop(&rd, "record dropped: longer than %u bytes",
					   STATE_CHUNK);
			else
				state_load_line(s, &rd, p, (size_t)(nl - p), j, now, pos);
			overlong = false;
			p = nl + 1;
		}
		have = (size_t)(end - p);
		if (have == STATE_CHUNK) {
			overlong = true;	/* no newline in a whole buffer: damage */
			have = 0;
		} else {
			memmove(buf, p, have);
		}
	}
	free(buf);
	dropped = rd.dropped;
	if (dropped > 10)
		diag_warn(d, path, 0, "%zu records dropped in all (%zu of them refused by the rules "
			  "in force); every good one kept", dropped, s->refused);
	s->st.dropped = dropped;
	s->st.refused = s->refused;
	/* a damaged file is made whole at once; a sound one can wait for
	 * state_compact after the start (it does not delay READY=1) */
	if (dropped || state_wants_compaction(s))
		return state_compact(s, j, now, d);
	return 0;
}

int state_load(struct state *s, struct judge *j, time_t now,
	       const struct state_positions *pos, struct diag *d)
{
	char *path = NULL;
	int r;

	if (asprintf(&path, "%s/%s", s->dir, STATE_FILE) < 0) {
		diag_error(d, s->dir, 0, "out of memory");
		return -1;
	}
	r = state_load_from(s, path, j, now, pos, d);
	free(path);
	return r;
}

/* --- compaction --- */

struct state_snap {
	struct state *s;
	time_t now;
};

static int state_snap_entry(void *ctx, const struct judge_entry *e)
{
	struct state_snap *sn = ctx;
	char a[ADDR_STRLEN];

	addr_format(&e->addr, a);
	for (unsigned k = 0; k + 1 < e->nbans; k++)
		if (state_record(sn->s, "ban", "suussu", a, (uint64_t)e->ban_times[k], (uint64_t)0,
				 "-", "-", (uint64_t)0) < 0)
			return -1;
	if ((e->ban_start || e->ban_until > sn->now) && e->ban_origin) {
		/* another host's: its origin tells it from a later one of the same second */
		if (state_record(sn->s, "ban", "suussus", a, (uint64_t)e->ban_start,
				 (uint64_t)(e->ban_until > sn->now ? e->ban_until : 0),
				 class_name(e->ban_class),
				 e->ban_pattern ? names_get(e->ban_pattern) : "-",
				 (uint64_t)e->ban_offences, names_get(e->ban_origin)) < 0)
			return -1;
	} else if (e->ban_start || e->ban_until > sn->now) {
		if (state_record(sn->s, "ban", "suussu", a, (uint64_t)e->ban_start,
				 (uint64_t)(e->ban_until > sn->now ? e->ban_until : 0),
				 class_name(e->ban_class),
				 e->ban_pattern ? names_get(e->ban_pattern) : "-",
				 (uint64_t)e->ban_offences) < 0)
			return -1;
	}
	for (unsigned k = 0; k < e->noffences; k++)
		if (state_record(sn->s, "off", "suu", a, (uint64_t)e->off_times[k],
				 (uint64_t)e->off_weights[k]) < 0)
			return -1;
	return 0;
}

bool state_wants_compaction(const struct state *s)
{
	return s->size > STATE_COMPACT_MIN && s->size > 4 * s->compacted;
}

int state_compact(struct state *s, struct judge *j, time_t now, struct diag *d)
{
	struct state_snap sn = { s, now };
	int fd, r;

	/* what waits in the buffer belongs to the old file; the snapshot
	 * covers it too, but the old file must stay whole if this fails */
	r = state_flush(s);
	if (r < 0)
		goto out;
	/* a new file of our own: whatever has the name (a crash's leftover,
	 * a planted symlink) goes first, and nothing is followed */
	if (unlinkat(s->dirfd, STATE_TMP, 0) < 0 && errno != ENOENT) {
		r = -errno;
		goto out;
	}
	fd = openat(s->dirfd, STATE_TMP, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	s->out = fd;
	s->outsize = 0;
	if (state_record(s, "spamwrath-state", "uu", (uint64_t)STATE_VERSION, (uint64_t)now) < 0 ||
	    judge_walk(j, state_snap_entry, &sn) != 0) {
		r = -ENOMEM;
	} else {
		for (size_t i = 0; r == 0 && i < s->npos; i++) {
			size_t n = strlen(s->pos[i].record);

			if (state_reserve(s, n) < 0) {
				r = -ENOMEM;
				break;
			}
			memcpy(s->buf + s->len, s->pos[i].record, n);
			s->len += n;
			if (s->len >= STATE_SPILL)
				r = state_spill(s);
		}
	}
	if (r == 0)
		r = state_spill(s);
	if (r == 0 && s->st.last_error == -ENOSPC)
		r = -ENOSPC;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && renameat(s->dirfd, STATE_TMP, s->dirfd, STATE_FILE) < 0)
		r = -errno;
	if (r == 0 && fsync(s->dirfd) < 0)
		r = -errno;
	if (r == 0 && fcntl(fd, F_SETFL, O_APPEND) < 0)
		r = -errno;
	if (r < 0) {
		close(fd);
		unlinkat(s->dirfd, STATE_TMP, 0);
		s->len = 0;
		s->out = s->fd;
		s->outsize = s->size;
		goto out;
	}
	/* the new file is the log now: keep appending to it */
	close(s->fd);
	s->fd = s->out = fd;
	s->size = s->outsize;
	s->compacted = s->size;
	s->need_sync = false;
out:
	if (r < 0) {
		diag_error(d, s->dir, 0, "cannot rewrite the state: %s", strerror(-r));
		s->st.last_error = r;
	}
	return r < 0 ? -1 : 0;
}

void state_stats(const struct state *s, struct state_stats *out)
{
	*out = s->st;
	out->size = s->size + s->len;
}
