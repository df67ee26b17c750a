/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Limits: at most max queue ids and max waiting events; past that the
 * least recently seen id (with its events) and the oldest event go first.
 * Both live in arrays that grow by doubling up to max and are reused
 * through free lists, so memory follows what is live, not the traffic.
 * Ids and events also leave after timeout seconds of silence. Beside
 * them, a fixed cache of recently parsed address texts (struct addr_cache)
 * and 4096 slots of the sessions processes began (32 KB).
 */
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "correlator.h"
#include "bytes.h"
#include "htab.h"
#include "number.h"
#include "spamtraps.h"


struct qrec {
	char qid[QID_MAX + 1];
	uint8_t qlen;		/* 0: free */
	bool has_addr;
	struct addr addr;
	uint32_t hash;		/* of qid */
	time_t seen;
	uint32_t prev, next;	/* LRU list; next is the free list link too */
	uint32_t head, tail;	/* waiting events, oldest first */
};

/* An event that names a queue id whose client is not known yet. */
struct pend {
	uint32_t rec;		/* HTAB_NONE: free */
	uint32_t chain;		/* next event of the same queue id */
	uint32_t prev, next;	/* FIFO of all events; next is the free link */
	time_t queued;
	time_t time;
	struct origin origin;
	uint32_t pattern, weight;
	uint8_t cls;
	bool has_score;
	bool note;
	double score;
	uint64_t session;
};

/*
 * Which session each process is in: a Postfix smtpd serves one client
 * after another, and writes "connect from" (a signal = connect pattern)
 * when the next begins. Slots by pid: two processes sharing one lose
 * their count, and their sessions then look alike (counted once, the
 * safe side).
 */
#define CORR_SESSIONS 4096

struct corr_session {
	uint32_t pid;
	uint32_t gen;
};

struct corr_table {
	struct qrec *rec;
	uint32_t nrec, caprec, rec_free, lru_head, lru_tail, live;
	struct pend *pend;
	uint32_t npend, cappend, pend_free, fifo_head, fifo_tail, waiting;
	struct htab idx;
	struct addr_cache acache;
	struct corr_session sess[CORR_SESSIONS];
	uint32_t sess_gen;
};

static uint32_t corr_rehash(const void *ctx, uint32_t id)
{
	const struct corr_table *t = ctx;

	return t->rec[id].hash;
}

struct qkey {
	const char *p;
	size_t len;
	uint32_t hash;
};

/* The stored hash first: a probe that passes a record of another id
 * costs no comparison of bytes. */
static inline __attribute__((always_inline)) bool corr_eq(const void *ctx, uint32_t id,
							  const void *key)
{
	const struct qrec *r = &((const struct corr_table *)ctx)->rec[id];
	const struct qkey *k = key;

	return r->hash == k->hash && r->qlen == k->len && bytes_equal(r->qid, k->p, k->len);
}

int correlator_init(struct correlator *c, size_t max, long timeout,
		    correlator_emit_fn *emit, void *ctx)
{
	memset(c, 0, sizeof(*c));
	c->t = calloc(1, sizeof(*c->t));
	if (!c->t || htab_init(&c->t->idx, 64) < 0) {
		free(c->t);
		c->t = NULL;
		return -1;
	}
	c->t->rec_free = c->t->lru_head = c->t->lru_tail = HTAB_NONE;
	c->t->pend_free = c->t->fifo_head = c->t->fifo_tail = HTAB_NONE;
	c->max = max > UINT32_MAX - 1 ? UINT32_MAX - 1 : max;
	c->timeout = timeout;
	c->emit = emit;
	c->ctx = ctx;
	return 0;
}

void correlator_set_limits(struct correlator *c, size_t max, long timeout)
{
	c->max = max > UINT32_MAX - 1 ? UINT32_MAX - 1 : max;
	c->timeout = timeout;
}

int correlator_set_traps(struct correlator *c, char **traps, size_t n)
{
	struct spamtraps *t = NULL;

	if (n > 0 && !(t = spamtraps_new(traps, n)))
		return -1;
	spamtraps_free(c->traps);
	c->traps = t;
	return 0;
}

void correlator_free(struct correlator *c)
{
	if (c->t) {
		free(c->t->rec);
		free(c->t->pend);
		htab_free(&c->t->idx);
		free(c->t);
	}
	spamtraps_free(c->traps);
	memset(c, 0, sizeof(*c));
}

/* --- queue id records, in LRU order --- */

static void corr_lru_unlink(struct corr_table *t, uint32_t i)
{
	struct qrec *r = &t->rec[i];

	if (r->prev != HTAB_NONE)
		t->rec[r->prev].next = r->next;
	else
		t->lru_head = r->next;
	if (r->next != HTAB_NONE)
		t->rec[r->next].prev = r->prev;
	else
		t->lru_tail = r->prev;
}

static void corr_lru_push(struct corr_table *t, uint32_t i)
{
	struct qrec *r = &t->rec[i];

	r->prev = HTAB_NONE;
	r->next = t->lru_head;
	if (t->lru_head != HTAB_NONE)
		t->rec[t->lru_head].prev = i;
	t->lru_head = i;
	if (t->lru_tail == HTAB_NONE)
		t->lru_tail = i;
}

static inline void corr_touch(struct corr_table *t, uint32_t i, time_t now)
{
	if (t->lru_head != i) {
		corr_lru_unlink(t, i);
		corr_lru_push(t, i);
	}
	if (now > t->rec[i].seen)
		t->rec[i].seen = now;
}

/* --- waiting events, in FIFO order --- */

static void corr_pend_release(struct corr_table *t, uint32_t k)
{
	struct pend *e = &t->pend[k];

	if (e->prev != HTAB_NONE)
		t->pend[e->prev].next = e->next;
	else
		t->fifo_head = e->next;
	if (e->next != HTAB_NONE)
		t->pend[e->next].prev = e->prev;
	else
		t->fifo_tail = e->prev;
	e->rec = HTAB_NONE;
	e->next = t->pend_free;
	t->pend_free = k;
	t->waiting--;
}

/* Drops every event waiting on record i; returns how many. */
static uint64_t corr_drop_chain(struct corr_table *t, uint32_t i)
{
	uint64_t n = 0;

	for (uint32_t k = t->rec[i].head; k != HTAB_NONE;) {
		uint32_t next = t->pend[k].chain;

		corr_pend_release(t, k);
		k = next;
		n++;
	}
	t->rec[i].head = t->rec[i].tail = HTAB_NONE;
	return n;
}

static void corr_rec_delete(struct correlator *c, uint32_t i, uint64_t *lost)
{
	struct corr_table *t = c->t;
	struct qrec *r = &t->rec[i];

	*lost += corr_drop_chain(t, i);
	htab_remove(&t->idx, r->hash, i, corr_rehash, t);
	corr_lru_unlink(t, i);
	r->qlen = 0;
	r->next = t->rec_free;
	t->rec_free = i;
	t->live--;
}

/* Drops the oldest waiting event, counted in *counter. It is the first of
 * its own queue id's chain, since both keep arrival order. */
static void corr_pend_drop_oldest(struct correlator *c, uint64_t *counter)
{
	struct corr_table *t = c->t;
	uint32_t k = t->fifo_tail;
	struct qrec *r = &t->rec[t->pend[k].rec];

	r->head = t->pend[k].chain;
	if (r->head == HTAB_NONE)
		r->tail = HTAB_NONE;
	corr_pend_release(t, k);
	(*counter)++;
}

static uint32_t corr_rec_new(struct correlator *c, const char *qid, size_t len, uint32_t hash,
			     time_t now)
{
	struct corr_table *t = c->t;
	uint32_t i;

	if (t->live >= c->max && t->lru_tail != HTAB_NONE)
		corr_rec_delete(c, t->lru_tail, &c->dropped);
	if (t->rec_free != HTAB_NONE) {
		i = t->rec_free;
		t->rec_free = t->rec[i].next;
	} else {
		if (t->nrec == t->caprec &&
		    grow32(&t->rec, &t->caprec, (size_t)t->nrec + 1, sizeof(*t->rec), 64,
			   (uint32_t)c->max + 1) < 0)
			return HTAB_NONE;
		i = t->nrec++;
	}
	memset(&t->rec[i], 0, sizeof(t->rec[i]));
	memcpy(t->rec[i].qid, qid, len);
	t->rec[i].qlen = (uint8_t)len;
	t->rec[i].hash = hash;
	t->rec[i].seen = now;
	t->rec[i].head = t->rec[i].tail = HTAB_NONE;
	if (htab_insert(&t->idx, hash, i, corr_rehash, t) < 0) {
		t->rec[i].qlen = 0;
		t->rec[i].next = t->rec_free;
		t->rec_free = i;
		return HTAB_NONE;
	}
	corr_lru_push(t, i);
	t->live++;
	return i;
}

static uint32_t corr_pend_new(struct correlator *c)
{
	struct corr_table *t = c->t;
	uint32_t k;

	if (t->waiting >= c->max && t->fifo_tail != HTAB_NONE)
		corr_pend_drop_oldest(c, &c->dropped);
	if (t->pend_free != HTAB_NONE) {
		k = t->pend_free;
		t->pend_free = t->pend[k].next;
		return k;
	}
	if (t->npend == t->cappend &&
	    grow32(&t->pend, &t->cappend, (size_t)t->npend + 1, sizeof(*t->pend), 64,
		   (uint32_t)c->max + 1) < 0)
		return HTAB_NONE;
	return t->npend++;
}

static void corr_pend_add(struct correlator *c, uint32_t ri, const struct sighting *s,
			  time_t now)
{
	struct corr_table *t = c->t;
	uint32_t k = corr_pend_new(c);
	struct pend *e;

	if (k == HTAB_NONE) {
		c->dropped++;
		return;
	}
	e = &t->pend[k];
	*e = (struct pend){
		.rec = ri, .chain = HTAB_NONE, .prev = HTAB_NONE, .next = t->fifo_head,
		.queued = now, .time = s->time, .origin = s->origin,
		.pattern = s->pattern, .weight = s->weight, .cls = (uint8_t)s->cls,
		.has_score = s->has_score, .note = s->note, .score = s->score,
		.session = s->session,
	};
	if (t->fifo_head != HTAB_NONE)
		t->pend[t->fifo_head].prev = k;
	t->fifo_head = k;
	if (t->fifo_tail == HTAB_NONE)
		t->fifo_tail = k;
	if (t->rec[ri].tail != HTAB_NONE)
		t->pend[t->rec[ri].tail].chain = k;
	else
		t->rec[ri].head = k;
	t->rec[ri].tail = k;
	t->waiting++;
}

/*
 * A queue id as the judge compares messages: a fixed 64-bit digest
 * (FNV-1a, then a final mix), never 0. Fixed, unlike htab_hash's seed, so
 * that a replay decides the same each time; the judge compares it only
 * together with the client's address and the class, so a collision would
 * merge two messages of one client and class, never two clients.
 */
static uint64_t corr_qid_key(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h ? h : 1;
}

/* The client of record i is now known: every waiting event gets it. */
static void corr_resolve(struct correlator *c, uint32_t i)
{
	struct corr_table *t = c->t;

	while (t->rec[i].head != HTAB_NONE) {
		uint32_t k = t->rec[i].head;
		struct pend e = t->pend[k];
		struct sighting s = {
			.time = e.time, .origin = e.origin, .cls = (enum class_id)e.cls,
			.pattern = e.pattern, .weight = e.weight, .addr_ok = true,
			.addr = t->rec[i].addr, .has_score = e.has_score, .score = e.score,
			.note = e.note, .session = e.session,
			.qid_key = class_once_per_message((enum class_id)e.cls) ?
				   corr_qid_key(t->rec[i].qid, t->rec[i].qlen) : 0,
		};

		t->rec[i].head = e.chain;
		if (e.chain == HTAB_NONE)
			t->rec[i].tail = HTAB_NONE;
		corr_pend_release(t, k);
		c->resolved++;
		/* emit last: the callback may not re-enter, but keep state whole */
		c->emit(c->ctx, &s);
	}
}

/* The record of a queue id (hash: of the id), made when absent and
 * create is true; HTAB_NONE when absent or out of memory. Inline: every line
 * with a queue id asks. */
static inline __attribute__((always_inline)) uint32_t
corr_rec_get(struct correlator *c, const char *qid, size_t len, uint32_t hash, time_t now,
	     bool create)
{
	struct qkey k = { qid, len, hash };
	uint32_t ri = htab_find(&c->t->idx, hash, corr_eq, c->t, &k);

	if (ri == HTAB_NONE && create)
		ri = corr_rec_new(c, qid, len, hash, now);
	return ri;
}

/* addr_kind(a) == ADDR_UNICAST, the common IPv4 answer inline: every
 * line that links a queue id asks. */
static inline bool corr_unicast(const struct addr *a)
{
	if (a->family == 4)
		return a->bytes[0] != 127 && a->bytes[0] != 0 && a->bytes[0] < 224;
	/* ::, ::1 start with 0, multicast with 0xff: ask only then */
	return (a->bytes[0] != 0 && a->bytes[0] != 0xff) || addr_kind(a) == ADDR_UNICAST;
}

/* Record ri's client is a: the events waiting for it go out. */
static void corr_set_client(struct correlator *c, uint32_t ri, const struct addr *a)
{
	c->t->rec[ri].addr = *a;
	c->t->rec[ri].has_addr = true;
	corr_resolve(c, ri);
}

/* The process id the match's line gives, 0 when none (or one past 32
 * bits). The parser saw digits and then ']'. */
static uint32_t corr_pid(const struct match *m)
{
	const char *q = m->pid;
	uint64_t pid = 0;

	if (!q)
		return 0;
	/* at most 10 digits, then ']': no overflow of 64 bits on the way */
	for (int i = 0; i < 10 && (unsigned char)(*q - '0') <= 9; i++, q++)
		pid = pid * 10 + (uint64_t)(*q - '0');
	return pid <= UINT32_MAX ? (uint32_t)pid : 0;
}

/* A process begins a new session (a signal = connect line). */
static void corr_session_start(struct corr_table *t, uint32_t pid)
{
	struct corr_session *e = &t->sess[pid % CORR_SESSIONS];

	e->pid = pid;
	e->gen = ++t->sess_gen;
}

/*
 * The session of a line of process pid, whose match ends at end and whose
 * client's address ends at addr_end: the process, its session count, and
 * the client's port where the MTA writes one ("[addr]:port": postscreen
 * always, Exim with +incoming_port), which tells connections of one
 * process apart (postscreen serves them all).
 */
static uint64_t corr_session(const struct corr_table *t, uint32_t pid, const char *addr_end,
			     const char *end)
{
	const struct corr_session *e = &t->sess[pid % CORR_SESSIONS];
	uint32_t port = 0;

	if (addr_end && end && end - addr_end > 2 && addr_end[0] == ']' && addr_end[1] == ':')
		for (const char *q = addr_end + 2; q < end && *q >= '0' && *q <= '9' && port < 65536; q++)
			port = port * 10 + (uint32_t)(*q - '0');
	return (uint64_t)pid << 32 | (uint64_t)(pid && e->pid == pid ? e->gen & 0xffff : 0) << 16 |
	       (port & 0xffff);
}

void correlator_connect(struct correlator *c, const struct match *m)
{
	uint32_t pid = corr_pid(m);

	if (pid)
		corr_session_start(c->t, pid);
}

/* The judge learns that mail from s's client was accepted (a signal =
 * accepted context line): no offence, but its notes go. */
static void corr_emit_accepted(struct correlator *c, struct sighting *s,
			       const struct pattern *p, const struct origin *o, time_t now)
{
	s->time = now;
	s->origin = *o;
	s->cls = CLASS_CONTEXT;
	s->pattern = p->name;
	s->weight = 0;
	s->addr_text = NULL;
	s->addr_len = 0;
	s->has_score = false;
	s->score = 0;
	s->note = false;
	s->accepted = true;
	s->qid_key = 0;
	s->session = 0;
	c->emit(c->ctx, s);
}

void correlator_feed(struct correlator *c, const struct match *m, const struct origin *o,
		     time_t now)
{
	const struct pattern *p = m->pattern;
	const struct slice *qid = &m->cap[CAP_QID];
	const struct slice *addr = &m->cap[CAP_ADDR];
	const struct slice *rcpt = &m->cap[CAP_RCPT];
	struct corr_table *t = c->t;
	struct sighting s;
	enum class_id cls = p->cls;
	uint32_t ri = HTAB_NONE, hash = 0;
	bool has_qid = qid->p && qid->len > 0 && qid->len <= QID_MAX;

	if (p->signal == SIGNAL_CONNECT) {
		correlator_connect(c, m);
		return;
	}
	if (rcpt->p && c->traps && spamtraps_match(c->traps, rcpt->p, rcpt->len))
		cls = CLASS_SPAMTRAP;
	/* a context line without a queue id links nothing and tells no one,
	 * unless it says the client's mail was accepted */
	if (cls == CLASS_CONTEXT && !has_qid && p->signal != SIGNAL_ACCEPTED)
		return;
	/* the rest of s only for a line that emits it: most are context */
	memset(&s.addr, 0, sizeof(s.addr));
	s.addr_ok = false;
	if (addr->p)
		s.addr_ok = addr_parse_cached(&t->acache, addr->p, addr->len, &s.addr);

	if (has_qid) {
		hash = htab_hash(qid->p, qid->len);
		ri = corr_rec_get(c, qid->p, qid->len, hash, now, s.addr_ok);
		if (ri != HTAB_NONE) {
			/* a record this line ends is deleted below: no move */
			if (!p->qid_end)
				corr_touch(t, ri, now);
			/* loopback (amavis without XFORWARD) names no client:
			 * it must not replace the one a queue id has */
			if (s.addr_ok && corr_unicast(&s.addr)) {
				c->linked++;
				corr_set_client(c, ri, &s.addr);
			}
		}
	}

	if (cls == CLASS_CONTEXT && p->signal == SIGNAL_ACCEPTED && c->want_accepted &&
	    s.addr_ok && corr_unicast(&s.addr))
		corr_emit_accepted(c, &s, p, o, now);
	if (cls != CLASS_CONTEXT) {
		s.time = now;
		s.origin = *o;
		s.cls = cls;
		s.pattern = p->name;
		s.note = p->note;
		s.accepted = false;
		/* the keys of judge.h, only for the classes that use them */
		s.qid_key = has_qid && class_once_per_message(cls) ? corr_qid_key(qid->p, qid->len)
								    : 0;
		s.session = 0;
		if (class_once_per_session(cls)) {
			s.origin.pid = corr_pid(m);
			s.session = corr_session(t, s.origin.pid,
						 addr->p ? addr->p + addr->len : NULL, m->end);
		}
		/* a trap among the recipients is a whole offence, whatever
		 * the line weighs as its own class (0: a temporary reject) */
		s.weight = cls == p->cls ? p->weight : WEIGHT_ONE;
		s.addr_text = addr->p;
		s.addr_len = addr->len;
		s.score = 0;
		s.has_score = m->cap[CAP_SCORE].p &&
			      number_parse(m->cap[CAP_SCORE].p, m->cap[CAP_SCORE].len, &s.score);
		if (addr->p) {
			c->emit(c->ctx, &s);
		} else if (ri != HTAB_NONE && t->rec[ri].has_addr) {
			s.addr = t->rec[ri].addr;
			s.addr_ok = true;
			c->emit(c->ctx, &s);
		} else if (has_qid && !p->qid_end) {
			if (ri == HTAB_NONE)
				ri = corr_rec_new(c, qid->p, qid->len, hash, now);
			if (ri != HTAB_NONE)
				corr_pend_add(c, ri, &s, now);
			else
				c->dropped++;
		} else {
			c->dropped++;	/* nothing names the client */
		}
	}
	if (p->qid_end && ri != HTAB_NONE)
		corr_rec_delete(c, ri, &c->expired);
}

void correlator_expire(struct correlator *c, time_t now)
{
	struct corr_table *t = c->t;

	while (t->fifo_tail != HTAB_NONE && t->pend[t->fifo_tail].queued + c->timeout <= now)
		corr_pend_drop_oldest(c, &c->expired);
	while (t->lru_tail != HTAB_NONE && t->rec[t->lru_tail].seen + c->timeout <= now)
		corr_rec_delete(c, t->lru_tail, &c->expired);
	/* a lowered limit (reload) takes effect here */
	while (t->live > c->max && t->lru_tail != HTAB_NONE)
		corr_rec_delete(c, t->lru_tail, &c->dropped);
}

size_t correlator_pending(const struct correlator *c)
{
	return c->t->waiting;
}

int correlator_walk_links(const struct correlator *c, correlator_link_fn *fn, void *ctx)
{
	const struct corr_table *t = c->t;

	for (uint32_t i = t->lru_tail; i != HTAB_NONE; i = t->rec[i].prev) {
		const struct qrec *r = &t->rec[i];
		int rv;

		if (!r->has_addr)
			continue;
		rv = fn(ctx, r->qid, r->qlen, &r->addr, r->seen);
		if (rv)
			return rv;
	}
	return 0;
}

int correlator_link(struct correlator *c, const char *qid, size_t len, const struct addr *a,
		    time_t seen)
{
	uint32_t ri;

	if (len == 0 || len > QID_MAX)
		return -1;
	ri = corr_rec_get(c, qid, len, htab_hash(qid, len), seen, true);
	if (ri == HTAB_NONE)
		return -1;
	corr_touch(c->t, ri, seen);
	corr_set_client(c, ri, a);
	return 0;
}
