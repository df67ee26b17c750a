/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "linebuf.h"
#include "names.h"
#include "replay.h"

#define REPLAY_CHUNK (1u << 16)
/* Input is binary when more than an eighth of its first REPLAY_SNIFF
 * bytes are control characters (tab, CR and LF aside): executables,
 * archives, journal files and UTF-16 are, a log with a stray NUL in a
 * hostile line is not. */
#define REPLAY_SNIFF 4096

/* The lines of one chunk, fed to the pipeline as one batch. */
struct replay_ctx {
	struct pipeline *pl;
	struct parser parser;
	struct pipeline_batch batch;
	uint64_t lineno;
	uint64_t unparsed;
	const char *hint;	/* the program the first unparsed line looks like */
};

/* The input: a file's bytes as they are, or inflated when it is gzip. */
struct replay_in {
	int fd;
	const char *path;
	bool gz;
	bool gz_end;		/* the last member ended where the input did */
	z_stream z;
	unsigned char *raw;	/* gzip: compressed bytes read, REPLAY_CHUNK */
};

/* read() that retries on EINTR; the reason in d on failure. */
static ssize_t replay_read(struct replay_in *in, void *buf, size_t cap, struct diag *d)
{
	for (;;) {
		ssize_t n = read(in->fd, buf, cap);

		if (n >= 0)
			return n;
		if (errno != EINTR) {
			diag_error(d, in->path, 0, "%s", strerror(errno));
			return -1;
		}
	}
}

/* Compressed and binary formats that are no log, with the command that
 * reads them; NULL for none of these. */
struct replay_kind {
	const char *magic;
	size_t len;
	const char *what, *reader;
};

static const struct replay_kind *replay_kind(const unsigned char *b, size_t n)
{
	static const struct replay_kind kinds[] = {
		{ "\xfd" "7zXZ\0", 6, "xz-compressed", "xzcat" },
		{ "\x28\xb5\x2f\xfd", 4, "zstd-compressed", "zstdcat" },
		{ "\x04\x22\x4d\x18", 4, "lz4-compressed", "lz4cat" },
		{ "PK\3\4", 4, "a zip archive", "unzip -p" },
		{ "LPKSHHRH", 8, "a systemd journal file", "journalctl -o short-iso --file" },
		/* "BZh", the block size, then the block magic (pi's digits) */
		{ "BZh", 3, "bzip2-compressed", "bzcat" },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (n >= kinds[i].len && memcmp(b, kinds[i].magic, kinds[i].len) == 0 &&
		    (kinds[i].len > 3 || (n >= 10 && b[3] >= '1' && b[3] <= '9' &&
					  memcmp(b + 4, "\x31\x41\x59\x26\x53\x59", 6) == 0)))
			return &kinds[i];
	return NULL;
}

/* Up to cap bytes of inflated text, 0 at the end, -1 (reason in d). */
static ssize_t replay_inflate(struct replay_in *in, char *out, size_t cap, struct diag *d)
{
	in->z.next_out = (unsigned char *)out;
	in->z.avail_out = (uInt)cap;
	while (in->z.avail_out == cap) {
		int r;

		if (in->z.avail_in == 0) {
			ssize_t n = replay_read(in, in->raw, REPLAY_CHUNK, d);

			if (n < 0)
				return -1;
			if (n == 0) {
				if (in->gz_end)
					return 0;
				diag_error(d, in->path, 0, "the gzip data ends early (a truncated file?)");
				return -1;
			}
			in->z.next_in = in->raw;
			in->z.avail_in = (uInt)n;
		}
		if (in->gz_end) {
			/* gzip -c a b > ab: members one after the other */
			in->gz_end = false;
			inflateReset(&in->z);
		}
		r = inflate(&in->z, Z_NO_FLUSH);
		if (r == Z_STREAM_END) {
			in->gz_end = true;
		} else if (r != Z_OK && r != Z_BUF_ERROR) {
			diag_error(d, in->path, 0, "not valid gzip data (%s)",
				   in->z.msg ? in->z.msg : "zlib error");
			return -1;
		}
	}
	return (ssize_t)(cap - in->z.avail_out);
}

/*
 * The first bytes of text into buf: a gzip file is inflated from here on,
 * and an input that is no text is refused with what it seems to be.
 * Their number, 0 for an empty input, or -1 (reason in d).
 */
static ssize_t replay_first(struct replay_in *in, char *buf, struct diag *d)
{
	const struct replay_kind *kind;
	ssize_t n = replay_read(in, buf, REPLAY_CHUNK, d);
	size_t sniff, ctl = 0;

	if (n >= 2 && (unsigned char)buf[0] == 0x1f && (unsigned char)buf[1] == 0x8b) {
		in->raw = malloc(REPLAY_CHUNK);
		if (!in->raw || inflateInit2(&in->z, 15 + 16) != Z_OK) {
			diag_error(d, in->path, 0, "out of memory");
			return -1;
		}
		in->gz = true;
		memcpy(in->raw, buf, (size_t)n);
		in->z.next_in = in->raw;
		in->z.avail_in = (uInt)n;
		n = replay_inflate(in, buf, REPLAY_CHUNK, d);
	}
	if (n <= 0)
		return n;
	kind = replay_kind((const unsigned char *)buf, (size_t)n);
	sniff = (size_t)n < REPLAY_SNIFF ? (size_t)n : REPLAY_SNIFF;
	for (size_t i = 0; i < sniff; i++) {
		unsigned char c = (unsigned char)buf[i];

		ctl += c < 0x20 && c != '\t' && c != '\n' && c != '\r';
	}
	if (kind && in->gz) {
		diag_error(d, in->path, 0, "%s inside gzip, not a text log", kind->what);
		return -1;
	}
	if (kind) {
		diag_error(d, in->path, 0, "%s, not a text log: read it with %s %s | spamwrathctl "
			   "test -", kind->what, kind->reader, in->path);
		return -1;
	}
	if (ctl * 8 > sniff) {
		diag_error(d, in->path, 0, "binary data%s, not a text log (%zu of its first %zu bytes "
			   "are control characters); it reads text and gzip", in->gz ? " inside gzip" : "",
			   ctl, sniff);
		return -1;
	}
	return n;
}

static ssize_t replay_next(struct replay_in *in, char *buf, struct diag *d)
{
	return in->gz ? replay_inflate(in, buf, REPLAY_CHUNK, d) :
			replay_read(in, buf, REPLAY_CHUNK, d);
}

static void replay_close(struct replay_in *in)
{
	if (in->gz)
		inflateEnd(&in->z);
	free(in->raw);
	if (in->fd != STDIN_FILENO)
		close(in->fd);
}

static void replay_unparsed(void *ctx, const struct pipeline_line *l)
{
	struct replay_ctx *rc = ctx;

	if (rc->unparsed++ == 0)
		rc->hint = parser_program_hint(l->text, l->len);
}

static void replay_line(void *ctx, const char *line, size_t len, bool too_long)
{
	struct replay_ctx *rc = ctx;

	pipeline_batch_add(rc->pl, &rc->batch, too_long ? NULL : line, len, NULL, 0, ++rc->lineno);
}

/* A file whose lines mostly have no header: matched by nothing, silently,
 * unless told. Exim's mainlog without --program is the common case. */
static void replay_tell_unparsed(const struct replay_ctx *rc, const char *path, struct diag *d)
{
	if (rc->unparsed * 2 <= rc->lineno)
		return;
	if (rc->hint)
		diag_warn(d, path, 0, "%llu of its %llu lines have no syslog header, so no pattern "
			  "can match them; they look like a log %s writes itself: give --program %s",
			  (unsigned long long)rc->unparsed, (unsigned long long)rc->lineno, rc->hint,
			  rc->hint);
	else
		diag_warn(d, path, 0, "%llu of its %llu lines have no syslog header spamwrath reads, "
			  "so no pattern can match them; a log that a program writes itself (not "
			  "through syslog) needs --program NAME", (unsigned long long)rc->unparsed,
			  (unsigned long long)rc->lineno);
}

int replay_file(struct pipeline *pl, const char *path, const struct replay_opts *o,
		struct diag *d)
{
	struct replay_ctx rc = { .pl = pl };
	struct replay_in in = { .path = path };
	struct linebuf lb;
	struct stat st;
	uint64_t done = 0, total = 0;
	char *buf;
	ssize_t n;

	parser_init(&rc.parser, o->program);
	rc.parser.first_year = o->year;
	rc.batch = (struct pipeline_batch){
		.from = {
			.name = names_intern(path, strlen(path)), .parser = &rc.parser,
			.now = time(NULL), .clock = PIPELINE_LINE,
		},
		.unparsed = replay_unparsed, .ctx = &rc,
	};
	in.fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (in.fd < 0) {
		diag_error(d, path, 0, "%s", strerror(errno));
		return -1;
	}
	buf = malloc(REPLAY_CHUNK);
	if (!buf) {
		diag_error(d, path, 0, "out of memory");
		replay_close(&in);
		return -1;
	}
	if (fstat(in.fd, &st) == 0 && S_ISREG(st.st_mode))
		total = (uint64_t)st.st_size;
	posix_fadvise(in.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	linebuf_init(&lb, pl->cfg->max_line);
	for (n = replay_first(&in, buf, d); n > 0; n = replay_next(&in, buf, d)) {
		if (linebuf_push(&lb, buf, (size_t)n, replay_line, &rc) < 0)
			diag_warn(d, path, 0, "out of memory: a line was skipped");
		pipeline_batch_feed(pl, &rc.batch);	/* before buf is read into again */
		/* compressed input: how far into the file, not into its text */
		done = in.gz ? (uint64_t)in.z.total_in : done + (uint64_t)n;
		if (o->progress)
			o->progress(o->progress_arg, done, total, rc.lineno);
	}
	linebuf_finish(&lb, replay_line, &rc);
	pipeline_batch_feed(pl, &rc.batch);
	if (!o->program)
		replay_tell_unparsed(&rc, path, d);
	linebuf_free(&lb);
	pipeline_batch_free(&rc.batch);
	free(buf);
	replay_close(&in);
	return n < 0 ? -1 : 0;
}
