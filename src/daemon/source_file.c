/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A file source follows a path, not an inode: the file open now ("cur")
 * is read to its end on every change; when the path names another file
 * (rotation by rename, delete and re-create, a replaced symlink), cur is
 * drained and kept open for a grace period as "old", because a syslog
 * daemon may write to it until it reopens its files, and the new file is
 * read from its start. A file that shrinks was truncated (copytruncate)
 * and is read again from 0. inotify watches the open files (through
 * /proc/self/fd, so exactly the inode we read) and the directory; a stat
 * once a second (source_poll) catches what inotify cannot see.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linebuf.h"
#include "log.h"
#include "names.h"
#include "source.h"

#define FILE_CHUNK (64u * 1024)
/* Bytes read per loop iteration before yielding to signals and timers. */
#define FILE_BUDGET (4u * 1024 * 1024)
/* How long a rotated-away file is still read (seconds). */
#define FILE_GRACE 30
/* The first line is hashed over at most this many bytes. */
#define FILE_HEAD_MAX 4096
/* A file opened this far in or less has the lines before counted at
 * once, so that its lines get the file's own numbers; further in, they
 * are counted from where reading starts, and the messages say from
 * which byte (counting a big file would delay a start). */
#define FILE_COUNT_MAX (32u * 1024 * 1024)

struct source_file;

struct tail {
	struct source_file *f;
	int fd;
	int wd;
	uint64_t dev, ino;
	uint64_t off;		/* bytes consumed from fd */
	uint64_t head;		/* hash of the first line, 0 while unknown */
	struct linebuf lb;
	uint64_t line;		/* lines so far, counted from base */
	uint64_t base;		/* a line's start: 0, or where reading began */
	uint32_t where;		/* the file's name [and base], interned: see struct origin */
};

struct source_file {
	struct source *s;
	char *dir, *base;
	int ifd;
	int dir_wd;
	sd_event_source *io, *defer;
	struct tail cur, old;
	time_t old_until;
	bool warned_missing, warned_dir;
	bool warned_open;	/* cannot open the file at the path: said once, until it opens */
	int bad;		/* what the path names that cannot be read (file_stat), 0 */
	bool drop_first;	/* started inside a line: its rest is not a line */
	char *buf;
	time_t arrival;
};

static void tail_init(struct source_file *f, struct tail *t)
{
	memset(t, 0, sizeof(*t));
	t->f = f;
	t->fd = -1;
	t->wd = -1;
	linebuf_init(&t->lb, f->s->max_line);
}

/* t's where: name, what follows it (" before its rotation"), and the
 * byte its lines are counted from unless 0. */
static void tail_where(struct tail *t, const char *name, const char *note)
{
	char *w = NULL;
	int n = t->base ? asprintf(&w, "%s%s from byte %llu", name, note,
				   (unsigned long long)t->base) :
			  asprintf(&w, "%s%s", name, note);

	t->where = n > 0 ? names_intern(w, (size_t)n) : UINT32_MAX;
	if (t->where == UINT32_MAX)
		t->where = NAMES_NONE;	/* no memory, or the pool is full: no name */
	free(w);
}

/*
 * Where the lines of t, named name and about to be read from off, are
 * counted from: the file's start when the lines before off are counted
 * now (up to FILE_COUNT_MAX), else off itself.
 */
static void tail_count(struct tail *t, const char *name, uint64_t off)
{
	char *buf = t->f->buf;
	uint64_t at = 0, n = 0;

	while (off <= FILE_COUNT_MAX && at < off) {
		ssize_t r = pread(t->fd, buf, off - at < FILE_CHUNK ? (size_t)(off - at) : FILE_CHUNK,
				  (off_t)at);

		if (r <= 0)
			break;
		for (const char *p = buf; (p = memchr(p, '\n', (size_t)(buf + r - p))) != NULL; p++)
			n++;
		at += (uint64_t)r;
	}
	t->base = at == off ? 0 : off;
	t->line = at == off ? n : 0;
	tail_where(t, name, "");
}

static void file_line(void *ctx, const char *line, size_t len, bool too_long)
{
	struct tail *t = ctx;
	struct source_file *f = t->f;
	struct source *s = f->s;
	struct source_line l = {
		.text = line, .len = len, .too_long = too_long, .arrival = f->arrival,
		.catchup = s->catchup,
	};

	t->line++;
	if (f->drop_first) {
		f->drop_first = false;
		return;
	}
	l.where = t->where;
	l.lineno = t->line;
	s->lines++;
	s->fn(s->ctx, s, &l);
}

/* The lines handed out since the last call are all there is of this read. */
static void file_lines_done(struct source_file *f)
{
	f->s->fn(f->s->ctx, f->s, NULL);
}

static void tail_close(struct source_file *f, struct tail *t, bool finish)
{
	if (finish) {
		linebuf_finish(&t->lb, file_line, t);
		file_lines_done(f);
	}
	if (t->wd >= 0)
		inotify_rm_watch(f->ifd, t->wd);
	if (t->fd >= 0)
		close(t->fd);
	linebuf_free(&t->lb);
	tail_init(f, t);
}

/*
 * Reads t to its end, or until budget bytes were read. Returns 1 when
 * more may be waiting, 0 at the end, -1 on a read error (logged).
 */
static int tail_drain(struct source_file *f, struct tail *t, size_t *budget)
{
	while (*budget > 0) {
		ssize_t n = read(t->fd, f->buf, FILE_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_error("source %s: reading %s: %s", f->s->conf.name, f->s->conf.file,
				  strerror(errno));
			return -1;
		}
		if (n == 0)
			return 0;
		t->off += (uint64_t)n;
		*budget = (size_t)n >= *budget ? 0 : *budget - (size_t)n;
		f->arrival = time(NULL);
		if (linebuf_push(&t->lb, f->buf, (size_t)n, file_line, t) < 0)
			log_error("source %s: out of memory: a line was skipped", f->s->conf.name);
		file_lines_done(f);	/* before f->buf is read into again */
	}
	return 1;
}

static int tail_watch(struct source_file *f, struct tail *t)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t->fd);
	t->wd = inotify_add_watch(f->ifd, proc,
				  IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF);
	return t->wd;
}

/* FNV-1a of the file's first line, 0 when it has no complete first line. */
static uint64_t file_head_hash(int fd)
{
	char head[FILE_HEAD_MAX];
	ssize_t n = pread(fd, head, sizeof(head), 0);
	uint64_t h = 1469598103934665603ULL;
	ssize_t i;

	if (n <= 0)
		return 0;
	for (i = 0; i < n && head[i] != '\n'; i++)
		h = (h ^ (uint8_t)head[i]) * 1099511628211ULL;
	if (i == n && n < (ssize_t)sizeof(head))
		return 0;	/* no newline yet */
	return h ? h : 1;
}

/* The offset just after the last newline before end: a start "at the end"
 * that still reads the line being written whole. */
static uint64_t file_last_line_start(struct source_file *f, int fd, uint64_t end)
{
	uint64_t from = end > FILE_CHUNK ? end - FILE_CHUNK : 0;
	ssize_t n;

	if (end == 0)
		return 0;
	n = pread(fd, f->buf, (size_t)(end - from), (off_t)from);
	if (n <= 0)
		return end;
	for (ssize_t i = n; i > 0; i--)
		if (f->buf[i - 1] == '\n')
			return from + (uint64_t)i;
	if (from == 0)
		return 0;
	f->drop_first = true;	/* a line longer than the window: skip its rest */
	return end;
}

/*
 * The saved file is not the one at the path any more: rotated while we
 * were not running. When it is still in the same directory under another
 * name (mail.log.1), it becomes "old" at the saved offset, so the lines
 * written to it before the rotation are read too.
 */
static void file_find_rotated(struct source_file *f, const struct source_pos *start)
{
	DIR *d = opendir(f->dir);
	struct dirent *e;
	struct stat st;
	int fd = -1;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (fstatat(dirfd(d), e->d_name, &st, 0) == 0 && S_ISREG(st.st_mode) &&
		    (uint64_t)st.st_dev == start->dev && (uint64_t)st.st_ino == start->ino &&
		    start->offset <= (uint64_t)st.st_size) {
			fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
			break;
		}
	}
	if (fd >= 0 && (start->head_hash && start->head_hash != file_head_hash(fd))) {
		close(fd);
		fd = -1;
	}
	if (fd >= 0 && lseek(fd, (off_t)start->offset, SEEK_SET) >= 0) {
		char *path = NULL;

		log_info("source %s: %s was rotated while spamwrathd was stopped; reading the rest "
			 "of %s/%s first", f->s->conf.name, f->s->conf.file, f->dir, e->d_name);
		f->old.fd = fd;
		f->old.dev = start->dev;
		f->old.ino = start->ino;
		f->old.off = start->offset;
		f->old.head = start->head_hash;
		f->old_until = time(NULL) + FILE_GRACE;
		tail_watch(f, &f->old);
		tail_count(&f->old, asprintf(&path, "%s/%s", f->dir, e->d_name) > 0 ? path :
				    f->s->conf.file, start->offset);
		free(path);
	} else if (fd >= 0) {
		close(fd);
	}
	closedir(d);
}

/*
 * Why a file cannot be opened; for a permission, who we are, what the
 * file is, and the ways out: Postfix's maillog_file (postlogd) is created
 * root:root 0600 and again so at each `postfix logrotate`, and a default
 * ACL on its directory does not help (the 0600 mode masks it).
 */
static void file_open_error(struct source_file *f, int err)
{
	const struct source *s = f->s;
	struct passwd *me = getpwuid(geteuid());
	char uid[24];
	const char *user = me ? me->pw_name : uid;
	struct stat st;

	snprintf(uid, sizeof(uid), "%lu", (unsigned long)geteuid());
	if (err != EACCES || stat(s->conf.file, &st) < 0) {
		log_error("source %s: cannot open %s: %s", s->conf.name, s->conf.file, strerror(err));
		return;
	}
	log_error("source %s: cannot open %s: %s: spamwrathd runs as user %s, and the file is "
		  "uid %lu, gid %lu, mode %04o. Postfix's maillog_file is created root:root 0600; "
		  "to read Postfix, unset maillog_file and follow the journal (a source with "
		  "journal = { \"_SYSTEMD_UNIT=postfix@-.service\" }), or let rsyslog write "
		  "/var/log/mail.log (root:adm 0640, which the unit's group adm reads), or grant "
		  "read access each time the file is created (setfacl -m u:%s:r %s, after "
		  "`postfix logrotate`); see spamwrath.conf(5), \"file\"", s->conf.name,
		  s->conf.file, strerror(err), user, (unsigned long)st.st_uid,
		  (unsigned long)st.st_gid, (unsigned)(st.st_mode & 07777), user, s->conf.file);
}

/*
 * Opens the path as cur: from a saved position, from the end (at_end) or
 * from the start. 1 opened, 0 missing, -1 error (logged).
 */
static int file_open(struct source_file *f, const struct source_pos *start, bool at_end)
{
	struct source *s = f->s;
	struct stat st;
	uint64_t off = 0;
	int fd = open(s->conf.file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		if (!f->warned_open)
			file_open_error(f, errno);
		f->warned_open = true;
		return -1;
	}
	f->warned_open = false;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_error("source %s: %s is not a regular file", s->conf.name, s->conf.file);
		close(fd);
		return -1;
	}
	if (start && start->dev == (uint64_t)st.st_dev && start->ino == (uint64_t)st.st_ino &&
	    start->offset <= (uint64_t)st.st_size &&
	    (start->head_hash == 0 || start->head_hash == file_head_hash(fd)))
		off = start->offset;
	else if (start && f->old.fd < 0 &&
		 !(start->dev == (uint64_t)st.st_dev && start->ino == (uint64_t)st.st_ino))
		file_find_rotated(f, start);	/* another file now: all of it is new */
	else if (start)
		off = 0;	/* the same file, truncated or rewritten: all of it is new */
	else if (at_end)
		off = file_last_line_start(f, fd, (uint64_t)st.st_size);
	if (lseek(fd, (off_t)off, SEEK_SET) < 0) {
		log_error("source %s: cannot seek in %s: %s", s->conf.name, s->conf.file,
			  strerror(errno));
		close(fd);
		return -1;
	}
	f->cur.fd = fd;
	f->cur.dev = (uint64_t)st.st_dev;
	f->cur.ino = (uint64_t)st.st_ino;
	f->cur.off = off;
	f->cur.head = file_head_hash(fd);
	tail_count(&f->cur, s->conf.file, off);
	if (tail_watch(f, &f->cur) < 0)
		log_warn("source %s: cannot watch %s (%s); checking it every second instead",
			 s->conf.name, s->conf.file, strerror(errno));
	return 1;
}

static void file_watch_dir(struct source_file *f)
{
	if (f->dir_wd >= 0)
		return;
	f->dir_wd = inotify_add_watch(f->ifd, f->dir,
				      IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
				      IN_ATTRIB | IN_ONLYDIR);
	if (f->dir_wd < 0 && !f->warned_dir) {
		f->warned_dir = true;
		log_warn("source %s: cannot watch directory %s (%s); checking every second",
			 f->s->conf.name, f->dir, strerror(errno));
	} else if (f->dir_wd >= 0) {
		f->warned_dir = false;
	}
}

/*
 * Shorter than what was read, or another first line: truncated in place
 * (copytruncate), even when the writer has already written past the old
 * offset again by the time we look.
 */
static bool file_truncated(struct source_file *f, const struct stat *st)
{
	uint64_t h;

	if ((uint64_t)st->st_size < f->cur.off)
		return true;
	h = file_head_hash(f->cur.fd);
	if (f->cur.head == 0) {
		f->cur.head = h;
		return false;
	}
	return h != f->cur.head;
}

static const char *file_kind(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISSOCK(m) ? "a socket" :
		S_ISCHR(m) || S_ISBLK(m) ? "a device" : "not a regular file";
}

/*
 * stat()s the path; true when it names something. Something that cannot
 * be followed (a FIFO, a directory, a symlink loop, no permission) is
 * said once, when the path turns into it, not once a second; a regular
 * file or none at all ends that.
 */
static bool file_stat(struct source_file *f, struct stat *st)
{
	const struct source *s = f->s;
	int r = stat(s->conf.file, st), bad;

	if (r == 0 && S_ISREG(st->st_mode))
		bad = 0;
	else if (r < 0 && (errno == ENOENT || errno == ENOTDIR))
		bad = 0;
	else
		bad = r == 0 ? (int)(st->st_mode & S_IFMT) : -errno;
	if (bad && bad != f->bad) {
		if (bad < 0)
			log_warn("source %s: %s cannot be followed now: %s; still reading the file "
				 "open before, if any, and waiting for a regular file", s->conf.name,
				 s->conf.file, strerror(-bad));
		else
			log_warn("source %s: %s is now %s, which is not read; still reading the file "
				 "open before, if any, and waiting for a regular file", s->conf.name,
				 s->conf.file, file_kind(st->st_mode));
	}
	f->bad = bad;
	return r == 0;
}

/* Reads what there is and follows the path to whatever file it names now. */
static void file_check(struct source_file *f)
{
	struct source *s = f->s;
	size_t budget = FILE_BUDGET;
	time_t now = time(NULL);
	struct stat st;
	int more = 0;

	file_watch_dir(f);
	if (f->old.fd >= 0) {
		more |= tail_drain(f, &f->old, &budget) > 0;
		if (!more && now >= f->old_until)
			tail_close(f, &f->old, true);
	}
	if (f->cur.fd >= 0) {
		struct stat cst;

		more |= tail_drain(f, &f->cur, &budget) > 0;
		if (!more && fstat(f->cur.fd, &cst) == 0 && file_truncated(f, &cst)) {
			log_info("source %s: %s was truncated; reading it from the start",
				 s->conf.name, s->conf.file);
			linebuf_reset(&f->cur.lb);
			f->cur.off = 0;
			f->cur.head = file_head_hash(f->cur.fd);
			tail_count(&f->cur, s->conf.file, 0);
			if (lseek(f->cur.fd, 0, SEEK_SET) == 0)
				more |= tail_drain(f, &f->cur, &budget) > 0;
		}
	}
	if (!more && file_stat(f, &st) && S_ISREG(st.st_mode)) {
		if (f->cur.fd < 0) {
			if (file_open(f, NULL, false) > 0) {
				log_info("source %s: %s appeared; reading it", s->conf.name, s->conf.file);
				f->warned_missing = false;
				more |= tail_drain(f, &f->cur, &budget) > 0;
			}
		} else if ((uint64_t)st.st_dev != f->cur.dev || (uint64_t)st.st_ino != f->cur.ino) {
			/* rotated or replaced: cur was read to its end above */
			if (f->old.fd >= 0)
				tail_close(f, &f->old, true);
			f->old = f->cur;
			f->old_until = now + FILE_GRACE;
			tail_where(&f->old, s->conf.file, " before its rotation");
			tail_init(f, &f->cur);
			if (file_open(f, NULL, false) > 0) {
				log_info("source %s: %s was replaced (rotation); reading the new file",
					 s->conf.name, s->conf.file);
				more |= tail_drain(f, &f->cur, &budget) > 0;
			}
		}
	} else if (!more && f->cur.fd < 0 && !f->warned_missing && !f->bad) {
		f->warned_missing = true;
		log_warn("source %s: %s does not exist; waiting for it", s->conf.name,
			 s->conf.file);
	}
	if (!more && s->catchup) {
		s->catchup = false;	/* at the end: what comes now is live */
		if (s->lines)
			log_info("source %s: caught up (%llu lines written while spamwrathd was "
				 "stopped)", s->conf.name, (unsigned long long)s->lines);
	}
	if (more && f->defer)
		sd_event_source_set_enabled(f->defer, SD_EVENT_ONESHOT);
}

static int file_on_defer(sd_event_source *es, void *userdata)
{
	file_check(userdata);
	return 0;
}

static int file_on_inotify(sd_event_source *es, int fd, uint32_t revents, void *userdata)
{
	struct source_file *f = userdata;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* EAGAIN: all events read; they only say "look again" */
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)(void *)p;

			if (e->wd == f->dir_wd && (e->mask & IN_IGNORED))
				f->dir_wd = -1;	/* directory gone: file_watch_dir retries */
			p += sizeof(*e) + e->len;
		}
	}
	file_check(f);
	return 0;
}

static int file_split_path(struct source_file *f, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		f->dir = strdup(".");
		f->base = strdup(path);
	} else {
		f->dir = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
		f->base = strdup(slash + 1);
	}
	return f->dir && f->base ? 0 : -1;
}

int source_file_start(struct source *s, const struct source_pos *start)
{
	struct source_file *f = calloc(1, sizeof(*f));
	int r;

	if (!f) {
		log_error("source %s: out of memory", s->conf.name);
		return -1;
	}
	f->s = s;
	f->ifd = -1;
	f->dir_wd = -1;
	tail_init(f, &f->cur);
	tail_init(f, &f->old);
	s->impl = f;
	f->buf = malloc(FILE_CHUNK);
	if (!f->buf || file_split_path(f, s->conf.file) < 0) {
		log_error("source %s: out of memory", s->conf.name);
		goto fail;
	}
	f->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (f->ifd < 0) {
		log_error("source %s: inotify: %s", s->conf.name, strerror(errno));
		goto fail;
	}
	r = sd_event_add_io(s->ev, &f->io, f->ifd, EPOLLIN, file_on_inotify, f);
	if (r >= 0)
		r = sd_event_add_defer(s->ev, &f->defer, file_on_defer, f);
	if (r < 0) {
		log_error("source %s: cannot add to the event loop: %s", s->conf.name, strerror(-r));
		goto fail;
	}
	sd_event_source_set_enabled(f->defer, SD_EVENT_OFF);
	file_watch_dir(f);
	r = file_open(f, start, !s->conf.start_beginning);
	if (r < 0)
		goto fail;
	if (r == 0) {
		f->warned_missing = true;
		log_warn("source %s: %s does not exist; waiting for it", s->conf.name, s->conf.file);
	}
	/* read what is there now (start = beginning, or a saved position) */
	sd_event_source_set_enabled(f->defer, SD_EVENT_ONESHOT);
	return 0;
fail:
	source_file_stop(s);
	return -1;
}

void source_file_stop(struct source *s)
{
	struct source_file *f = s->impl;

	if (!f)
		return;
	sd_event_source_disable_unref(f->io);
	sd_event_source_disable_unref(f->defer);
	if (f->ifd >= 0) {
		tail_close(f, &f->old, false);
		tail_close(f, &f->cur, false);
		close(f->ifd);
	}
	linebuf_free(&f->cur.lb);
	linebuf_free(&f->old.lb);
	free(f->buf);
	free(f->dir);
	free(f->base);
	free(f);
	s->impl = NULL;
}

int source_file_position(struct source *s, struct source_pos *out)
{
	struct source_file *f = s->impl;

	if (f->cur.fd < 0)
		return 0;	/* nothing open: out->valid stays false */
	out->valid = true;
	out->dev = f->cur.dev;
	out->ino = f->cur.ino;
	out->offset = f->cur.off - linebuf_pending(&f->cur.lb);
	out->head_hash = f->cur.head ? f->cur.head : file_head_hash(f->cur.fd);
	return 0;
}

void source_file_poll(struct source *s)
{
	file_check(s->impl);
}
