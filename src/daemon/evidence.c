/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The evidence behind bans. Three bounded stores:
 *
 *   - a direct-mapped cache of the last matched lines, slot by (source,
 *     line): the judge's verdict on a line comes later (a queue id's other
 *     half, the judge's short wait), and finds the text there, or finds it
 *     overwritten and says so;
 *   - per address, its last EVIDENCE_OFFENCES offences (and lines ignored,
 *     with the reason: the whitelist, the host's own address, ...), for at
 *     most EVIDENCE_ADDRS addresses, the oldest address dropped first;
 *   - per address, its last EVIDENCE_BANS bans, each with the offences
 *     that made it, for at most EVIDENCE_ADDRS addresses likewise.
 *
 * Each ban is one JSON line appended to state_dir/why.jsonl; a start
 * reads them back (the bans that ended less than `keep` ago) and rewrites
 * the file with only those (temporary file, rename), so that it stays
 * bounded across restarts too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "evidence.h"
#include "htab.h"
#include "jsonout.h"
#include "log.h"
#include "names.h"
#include "source.h"

struct evidence_line {
	uint32_t source;
	uint64_t line;		/* 0: empty slot */
	time_t time;
	char *text;
	size_t cap;
};

#define EVIDENCE_ITEMS (EVIDENCE_OFFENCES > EVIDENCE_BANS ? EVIDENCE_OFFENCES : EVIDENCE_BANS)

/* An offence (or ignored line) waiting for a ban: a small record, made
 * JSON only when a ban takes it or `why` shows it (JSON for every offence
 * cost the daemon about as much CPU as the rest of a line's way). */
struct evidence_off {
	time_t time;
	uint64_t line;		/* the file's line, or the journal entry's time in us */
	uint32_t name, file;	/* the source's name and file, interned (0: none) */
	uint32_t pattern, weight, reason;	/* reason: interned, 0 for an offence */
	enum class_id cls;
	bool ignored, journal;
	char *text;		/* "tag: message", or NULL when overwritten in the cache */
};

/* An address's last few records, oldest first: offences (struct
 * evidence_off) in the pending table, bans as their JSON text (a few
 * hundred bytes, where json-c's tree of one takes about 1.5 KB) in the
 * bans table. */
struct evidence_entry {
	char *key;		/* the address as text; NULL: a free slot */
	void *item[EVIDENCE_ITEMS];
	unsigned n;
	uint32_t hash;
};

/* The records by address text: a ring of EVIDENCE_ADDRS entries in the
 * order they came, so that the oldest address goes first when it is full,
 * and an index over it. (Not a json-c object: its hash table keeps a
 * tombstone for every key deleted and never rehashes them away, so that
 * after a few hundred thousand addresses came and went each lookup read
 * the whole table.) */
struct evidence_table {
	void (*free_item)(void *);
	struct evidence_entry *ent;
	size_t next;
	struct htab idx;	/* key -> its entry */
};

struct evidence {
	struct evidence_line cache[EVIDENCE_CACHE];
	struct evidence_table pending, bans;
	char *path;		/* why.jsonl, or NULL */
	int fd;			/* appended to, or -1 */
	bool failing;		/* an append failed: said once */
	size_t appended;	/* bans appended since the file was last rewritten */
	evidence_where_fn *where;
	void *ctx;
};

/* How a record is written, in why.jsonl and in memory: one line. */
#define EVIDENCE_JSON (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static size_t evidence_slot(uint32_t source, uint64_t line)
{
	uint64_t h = (line ^ ((uint64_t)source << 40)) * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 52) % EVIDENCE_CACHE;
}

/* --- the tables ---------------------------------------------------------- */

static int evidence_table_init(struct evidence_table *t, void (*free_item)(void *))
{
	t->free_item = free_item;
	t->ent = calloc(EVIDENCE_ADDRS, sizeof(*t->ent));
	return t->ent && htab_init(&t->idx, EVIDENCE_ADDRS) == 0 ? 0 : -1;
}

static void evidence_off_free(void *p)
{
	struct evidence_off *o = p;

	if (o)
		free(o->text);
	free(o);
}

static void evidence_entry_clear(const struct evidence_table *t, struct evidence_entry *en)
{
	free(en->key);
	for (unsigned i = 0; i < en->n; i++)
		t->free_item(en->item[i]);
	*en = (struct evidence_entry){ .key = NULL };
}

static void evidence_table_free(struct evidence_table *t)
{
	for (size_t i = 0; t->ent && i < EVIDENCE_ADDRS; i++)
		evidence_entry_clear(t, &t->ent[i]);
	free(t->ent);
	htab_free(&t->idx);
}

static uint32_t evidence_rehash(const void *ctx, uint32_t id)
{
	const struct evidence_table *t = ctx;

	return t->ent[id].hash;
}

static bool evidence_eq(const void *ctx, uint32_t id, const void *key)
{
	const struct evidence_table *t = ctx;

	return strcmp(t->ent[id].key, key) == 0;
}

/* The entry of key, or NULL. */
static struct evidence_entry *evidence_table_find(struct evidence_table *t, const char *key)
{
	uint32_t id = htab_find(&t->idx, htab_hash(key, strlen(key)), evidence_eq, t, key);

	return id == HTAB_NONE ? NULL : &t->ent[id];
}

/* Empties the slot of an entry. */
static void evidence_table_drop(struct evidence_table *t, struct evidence_entry *en)
{
	htab_remove(&t->idx, en->hash, (uint32_t)(en - t->ent), evidence_rehash, t);
	evidence_entry_clear(t, en);
}

/* The entry of key, made (and the oldest address dropped when full) when
 * missing. NULL out of memory. */
static struct evidence_entry *evidence_table_get(struct evidence_table *t, const char *key)
{
	struct evidence_entry *en = evidence_table_find(t, key);
	uint32_t id = (uint32_t)t->next;

	if (en)
		return en;
	en = &t->ent[id];
	if (en->key)
		evidence_table_drop(t, en);
	en->key = strdup(key);
	en->hash = htab_hash(key, strlen(key));
	if (!en->key || htab_insert(&t->idx, en->hash, id, evidence_rehash, t) < 0) {
		evidence_entry_clear(t, en);
		return NULL;
	}
	t->next = (t->next + 1) % EVIDENCE_ADDRS;
	return en;
}

/* Appends item (NULL: nothing) to en, keeping its last max records. */
static void evidence_push(const struct evidence_table *t, struct evidence_entry *en, void *item,
			  unsigned max)
{
	if (!item)
		return;
	if (en->n == max) {
		t->free_item(en->item[0]);
		memmove(en->item, en->item + 1, (max - 1) * sizeof(en->item[0]));
		en->n--;
	}
	en->item[en->n++] = item;
}

/* Appends the JSON text of ban (put) to en. */
static void evidence_push_ban(const struct evidence_table *t, struct evidence_entry *en,
			      struct json_object *ban)
{
	evidence_push(t, en, strdup(json_object_to_json_string_ext(ban, EVIDENCE_JSON)),
		      EVIDENCE_BANS);
	json_object_put(ban);
}

static struct json_object *evidence_off_json(const struct evidence_off *o);

/* en's records as a new JSON array (empty for NULL): offences or bans. */
static struct json_object *evidence_array(const struct evidence_entry *en, bool offences)
{
	struct json_object *a = json_object_new_array();

	for (unsigned i = 0; a && en && i < en->n; i++) {
		struct json_object *v = offences ? evidence_off_json(en->item[i])
						 : json_tokener_parse(en->item[i]);

		if (v && json_object_array_add(a, v) < 0)
			json_object_put(v);
	}
	return a;
}

/* --- lines and offences ---------------------------------------------------- */

void evidence_match(struct evidence *ev, const struct origin *o, const struct logline *l)
{
	struct evidence_line *c = &ev->cache[evidence_slot(o->source, o->line)];
	size_t msg = l->msglen, need;

	if (msg > EVIDENCE_TEXT_MAX)
		msg = EVIDENCE_TEXT_MAX;
	need = l->taglen + 2 + msg + 4;
	if (need > c->cap) {
		char *p = realloc(c->text, need);

		if (!p) {
			c->line = 0;
			return;
		}
		c->text = p;
		c->cap = need;
	}
	/* "tag: message", as the line's tail reads; its header is the time */
	memcpy(c->text, l->tag, l->taglen);
	memcpy(c->text + l->taglen, ": ", 2);
	memcpy(c->text + l->taglen + 2, l->msg, msg);
	strcpy(c->text + l->taglen + 2 + msg, l->msglen > msg ? "..." : "");
	c->source = o->source;
	c->line = o->line;
	c->time = l->time;
}

static uint32_t evidence_intern(const char *t)
{
	uint32_t id = t ? names_intern(t, strlen(t)) : 0;

	return id == UINT32_MAX ? 0 : id;
}

/* One offence (or ignored line) as a record: the line's text from the
 * cache, the source's name and file as they are now. NULL: no memory. */
static struct evidence_off *evidence_offence(struct evidence *ev, const struct judge_event *e)
{
	const struct sighting *s = e->s;
	const struct evidence_line *c = &ev->cache[evidence_slot(s->origin.source, s->origin.line)];
	struct evidence_off *o = malloc(sizeof(*o));
	const char *name = names_get(s->origin.source), *file = NULL;
	const char *w = s->origin.where ? names_get(s->origin.where) : "";

	if (!o)
		return NULL;
	*o = (struct evidence_off){
		.time = s->time, .line = s->origin.line, .pattern = s->pattern,
		.weight = e->weight, .cls = e->cls, .ignored = e->kind == JUDGE_IGNORED,
		.journal = strcmp(w, SOURCE_WHERE_JOURNAL) == 0,
	};
	if (ev->where)
		ev->where(ev->ctx, s->origin.source, &name, &file);
	if (*w && !o->journal)
		file = w;	/* the file, as the source names where it counts lines */
	o->name = evidence_intern(name);
	o->file = o->journal ? 0 : evidence_intern(file);
	if (o->ignored)
		o->reason = evidence_intern(e->reason ? e->reason : "?");
	if (c->line == s->origin.line && c->source == s->origin.source && c->text)
		o->text = strdup(c->text);	/* NULL (no memory) shows as overwritten */
	return o;
}

/* An offence as the record shows it. */
static struct json_object *evidence_off_json(const struct evidence_off *r)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	jsonout_add(o, "time", jsonout_time(r->time));
	jsonout_add(o, "source", jsonout_cstring(names_get(r->name)));
	if (r->file)
		jsonout_add(o, "file", jsonout_cstring(names_get(r->file)));
	if (r->journal) {
		/* the entry's own time, to the microsecond: journalctl --since @... */
		char at[48];

		snprintf(at, sizeof(at), "@%llu.%06llu", (unsigned long long)(r->line / 1000000),
			 (unsigned long long)(r->line % 1000000));
		jsonout_add(o, "journal_time", jsonout_cstring(at));
	} else {
		jsonout_add(o, "line", json_object_new_int64((int64_t)r->line));
	}
	jsonout_add(o, "pattern", jsonout_cstring(names_get(r->pattern)));
	jsonout_add(o, "class", jsonout_cstring(class_name(r->cls)));
	jsonout_add(o, "weight", jsonout_weight(r->weight));
	if (r->ignored)
		jsonout_add(o, "ignored", jsonout_cstring(names_get(r->reason)));
	/* NULL: overwritten in the cache before the judge spoke */
	jsonout_add(o, "text", r->text ? jsonout_cstring(r->text) : NULL);
	return o;
}

/* --- bans ---------------------------------------------------------------- */

static void evidence_compact(struct evidence *ev);

/* Appends a ban's record (its JSON text) to why.jsonl. The tables must
 * hold it already: a rewrite here writes what they hold. */
static void evidence_append(struct evidence *ev, const char *text)
{
	size_t len = strlen(text);
	struct iovec iov[2] = { { (void *)text, len }, { "\n", 1 } };
	ssize_t n = (ssize_t)len + 1, w;

	if (ev->fd < 0)
		return;
	/* one write of one line (O_APPEND): a crash leaves a whole record or a
	 * torn last line, which the next start skips */
	w = writev(ev->fd, iov, 2);
	if (w != n && !ev->failing) {
		log_error("evidence: cannot append to %s: %s", ev->path,
			  w < 0 ? strerror(errno) : "short write");
		ev->failing = true;
	} else if (w == n) {
		ev->failing = false;
		/* the file holds every ban since the last rewrite, the tables only
		 * the last few per address: a spam wave must not fill the disk */
		if (++ev->appended >= EVIDENCE_REWRITE_EVERY)
			evidence_compact(ev);
	}
}

static void evidence_ban(struct evidence *ev, const struct judge_event *e, const char *key)
{
	struct json_object *b = json_object_new_object();
	struct evidence_entry *pend, *list;
	char *text;

	if (!b)
		return;
	jsonout_add(b, "address", jsonout_cstring(key));
	jsonout_add(b, "time", jsonout_time(e->time));
	jsonout_add(b, "until", jsonout_time(e->time + e->duration));
	jsonout_add(b, "expires", json_object_new_int64((int64_t)(e->time + e->duration)));
	jsonout_add(b, "duration", json_object_new_int64(e->duration));
	jsonout_add(b, "class", jsonout_cstring(class_name(e->cls)));
	jsonout_add(b, "pattern", jsonout_cstring(names_get(e->pattern)));
	/* a ban by hand: its reason stands as its pattern; from the fleet:
	 * the host that decided it */
	jsonout_add(b, "origin", jsonout_cstring(e->received ? "fleet" : e->s ? "log" : "manual"));
	if (e->received && e->origin)
		jsonout_add(b, "decided_by", jsonout_cstring(names_get(e->origin)));
	jsonout_add(b, "offences_counted", json_object_new_int64(e->offences));
	jsonout_add(b, "earlier_bans", json_object_new_int64(e->earlier_bans));
	/* the offences that made it: what this address did lately */
	pend = evidence_table_find(&ev->pending, key);
	jsonout_add(b, "offences", evidence_array(pend, true));
	if (pend)
		evidence_table_drop(&ev->pending, pend);
	text = strdup(json_object_to_json_string_ext(b, EVIDENCE_JSON));
	json_object_put(b);
	if (!text)
		return;
	/* into the table first: the append may rewrite the file from it */
	list = evidence_table_get(&ev->bans, key);
	if (list)
		evidence_push(&ev->bans, list, text, EVIDENCE_BANS);
	evidence_append(ev, text);
	if (!list)
		free(text);
}

void evidence_event(struct evidence *ev, const struct judge_event *e)
{
	char key[ADDR_STRLEN];
	struct evidence_entry *list;

	addr_format(&e->addr, key);
	switch (e->kind) {
	case JUDGE_OFFENCE:
	case JUDGE_IGNORED:
		if (!e->s || !e->s->addr_ok)
			return;
		list = evidence_table_get(&ev->pending, key);
		if (list)
			evidence_push(&ev->pending, list, evidence_offence(ev, e),
				      EVIDENCE_OFFENCES);
		return;
	case JUDGE_BAN:
		if (!e->renewed)	/* a lengthening is no new ban */
			evidence_ban(ev, e, key);
		return;
	case JUDGE_UNBAN:
	case JUDGE_EXPIRED:
		return;		/* the ban's record stays: it is why it was */
	}
}

struct json_object *evidence_why(struct evidence *ev, const struct addr *key)
{
	char k[ADDR_STRLEN];
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	addr_format(key, k);
	jsonout_add(o, "bans", evidence_array(evidence_table_find(&ev->bans, k), false));
	jsonout_add(o, "pending", evidence_array(evidence_table_find(&ev->pending, k), true));
	return o;
}

/* --- the file -------------------------------------------------------------- */

/* Reads why.jsonl back: the bans that ended after now - keep, in order. */
static void evidence_load(struct evidence *ev, time_t now, long keep, size_t *kept,
			  size_t *dropped)
{
	FILE *f = fopen(ev->path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f) {
		if (errno != ENOENT)
			log_warn("evidence: cannot read %s: %s", ev->path, strerror(errno));
		return;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		struct json_object *b = json_tokener_parse(line), *v;
		struct evidence_entry *list;
		const char *key;

		if (!b || !json_object_object_get_ex(b, "address", &v) ||
		    !(key = json_object_get_string(v)) ||
		    !json_object_object_get_ex(b, "expires", &v) ||
		    json_object_get_int64(v) + keep < (int64_t)now) {
			json_object_put(b);
			(*dropped)++;
			continue;
		}
		list = evidence_table_get(&ev->bans, key);
		if (!list) {
			json_object_put(b);
			break;
		}
		evidence_push_ban(&ev->bans, list, b);
		(*kept)++;
	}
	free(line);
	fclose(f);
}

/* Rewrites why.jsonl with what is kept, oldest address first. */
static int evidence_rewrite(struct evidence *ev)
{
	char *tmp = NULL;
	FILE *f;
	int fd, e = 0;

	if (asprintf(&tmp, "%s.tmp.XXXXXX", ev->path) < 0)
		return -ENOMEM;
	fd = mkstemp(tmp);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		e = -errno;
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		free(tmp);
		return e;
	}
	for (size_t i = 0; i < EVIDENCE_ADDRS; i++) {
		const struct evidence_entry *en = &ev->bans.ent[(ev->bans.next + i) % EVIDENCE_ADDRS];

		for (unsigned k = 0; k < en->n; k++)
			fprintf(f, "%s\n", (const char *)en->item[k]);
	}
	if (fflush(f) != 0 || fsync(fileno(f)) < 0)
		e = -errno;
	if (fclose(f) != 0 && !e)
		e = -errno;
	if (!e && rename(tmp, ev->path) < 0)
		e = -errno;
	if (e)
		unlink(tmp);
	free(tmp);
	return e;
}

/* Opens why.jsonl for appending; a failure is said (once per failure). */
static void evidence_reopen(struct evidence *ev)
{
	if (ev->fd >= 0)
		close(ev->fd);
	ev->fd = open(ev->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (ev->fd < 0)
		log_warn("evidence: cannot open %s: %s; `spamwrathctl why` will not outlive a "
			 "restart", ev->path, strerror(errno));
	ev->appended = 0;
}

/* Rewrites why.jsonl with what the tables hold, while running. */
static void evidence_compact(struct evidence *ev)
{
	int e = evidence_rewrite(ev);

	if (e < 0) {
		log_warn("evidence: cannot rewrite %s: %s", ev->path, strerror(-e));
		ev->appended = 0;	/* again after as many bans, not at every one */
		return;
	}
	evidence_reopen(ev);
}

struct evidence *evidence_open(const char *dir, time_t now, long keep,
			       evidence_where_fn *where, void *ctx)
{
	struct evidence *ev = calloc(1, sizeof(*ev));
	size_t kept = 0, dropped = 0;
	int e;

	if (!ev || evidence_table_init(&ev->pending, evidence_off_free) < 0 ||
	    evidence_table_init(&ev->bans, free) < 0)
		goto oom;
	ev->fd = -1;
	ev->where = where;
	ev->ctx = ctx;
	if (!dir)
		return ev;
	if (asprintf(&ev->path, "%s/why.jsonl", dir) < 0) {
		ev->path = NULL;
		goto oom;
	}
	evidence_load(ev, now, keep, &kept, &dropped);
	e = evidence_rewrite(ev);
	if (e < 0)
		log_warn("evidence: cannot rewrite %s: %s", ev->path, strerror(-e));
	evidence_reopen(ev);
	if (kept || dropped)
		log_info("evidence: %zu bans' evidence kept from %s, %zu dropped (ended, or "
			 "unreadable)", kept, ev->path, dropped);
	return ev;
oom:
	log_error("evidence: out of memory");
	evidence_close(ev);
	return NULL;
}

void evidence_close(struct evidence *ev)
{
	if (!ev)
		return;
	for (size_t i = 0; i < EVIDENCE_CACHE; i++)
		free(ev->cache[i].text);
	evidence_table_free(&ev->pending);
	evidence_table_free(&ev->bans);
	if (ev->fd >= 0)
		close(ev->fd);
	free(ev->path);
	free(ev);
}
