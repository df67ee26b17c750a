/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Limits: at most max queue ids and max waiting events; past that the
 * least recently seen id (with its events) and the oldest event go first.
 * Both live in arrays that grow by doubling up to max and are reused
 * through free lists, so memory follows what is live, not the traffic.
 * Ids and events also leave after timeout seconds of silence. Beside
 * them, 64 slots of recently parsed address texts (4 KB), fixed size.
 */
#include <stdlib.h>
#include <string.h>

#include "correlator.h"
#include "htab.h"

#define NONE UINT32_MAX

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
	uint32_t rec;		/* NONE: free */
	uint32_t chain;		/* next event of the same queue id */
	uint32_t prev, next;	/* FIFO of all events; next is the free link */
	time_t queued;
	time_t time;
	struct origin origin;
	uint32_t pattern, weight;
	uint8_t cls;
	bool has_score;
	double score;
};

/* The last texts parsed as addresses, by their hash: an offender's
 * lines follow each other (43 % of the parses on the benchmark hit 64
 * slots, 48 % 256), and a hit costs a multiply and a compare where a
 * dotted quad costs ~120 instructions and IPv6 ~400. The text is kept
 * whole and compared whole: a hit is addr_parse's own answer. */
#define CORR_ACACHE_BITS 6
#define CORR_ACACHE (1u << CORR_ACACHE_BITS)
#define CORR_ACACHE_TEXT 47	/* longer texts are parsed each time */

struct corr_acache {
	uint8_t len;		/* 0: empty */
	bool ok;
	char text[CORR_ACACHE_TEXT];
	struct addr addr;
};

struct corr_table {
	struct qrec *rec;
	uint32_t nrec, caprec, rec_free, lru_head, lru_tail, live;
	struct pend *pend;
	uint32_t npend, cappend, pend_free, fifo_head, fifo_tail, waiting;
	struct htab idx;
	struct corr_acache acache[CORR_ACACHE];
};

/* A slot from the text's last eight (or four) bytes, where addresses
 * differ most, and its length. Unseeded: texts made to share a slot
 * only make the cache miss, and a miss costs what no cache cost. */
static unsigned corr_acache_slot(const char *p, size_t len)
{
	uint64_t w;

	if (len >= 8) {
		memcpy(&w, p + len - 8, 8);
	} else {
		uint32_t a, b;

		/* len >= 4 here: a shorter text parses at once anyway */
		memcpy(&a, p, 4);
		memcpy(&b, p + len - 4, 4);
		w = (uint64_t)a << 32 | b;
	}
	w = (w ^ len) * 0x9e3779b97f4a7c15ULL;
	return (unsigned)(w >> (64 - CORR_ACACHE_BITS));
}

/* addr_parse(p, len, out) == 0, through the cache. */
static bool corr_addr(struct corr_table *t, const char *p, size_t len, struct addr *out)
{
	struct corr_acache *e;
	bool ok;

	if (len < 4 || len > CORR_ACACHE_TEXT)
		return addr_parse(p, len, out) == 0;
	e = &t->acache[corr_acache_slot(p, len)];
	if (e->len == len && htab_same(e->text, p, len)) {
		if (e->ok)
			*out = e->addr;
		return e->ok;
	}
	ok = addr_parse(p, len, out) == 0;
	e->len = (uint8_t)len;
	memcpy(e->text, p, len);
	e->ok = ok;
	if (ok)
		e->addr = *out;
	return ok;
}

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
static bool corr_eq(const void *ctx, uint32_t id, const void *key)
{
	const struct qrec *r = &((const struct corr_table *)ctx)->rec[id];
	const struct qkey *k = key;

	return r->hash == k->hash && r->qlen == k->len && htab_same(r->qid, k->p, k->len);
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
	c->t->rec_free = c->t->lru_head = c->t->lru_tail = NONE;
	c->t->pend_free = c->t->fifo_head = c->t->fifo_tail = NONE;
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

static void correlator_free_traps(struct correlator *c)
{
	for (size_t i = 0; i < c->ntraps; i++)
		free(c->traps[i]);
	free(c->traps);
	free(c->trap_dom);
	c->traps = NULL;
	c->ntraps = 0;
	c->trap_dom = NULL;
	c->ntrap_dom = 0;
	memset(c->trap_full, 0, sizeof(c->trap_full));
	c->trap_at_ok = false;
	c->ntrap_at = 0;
}

void correlator_free(struct correlator *c)
{
	if (c->t) {
		free(c->t->rec);
		free(c->t->pend);
		htab_free(&c->t->idx);
		free(c->t);
	}
	correlator_free_traps(c);
	memset(c, 0, sizeof(*c));
}

static int corr_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int corr_u16cmp(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/*
 * Where a recipient of this length, first and last byte has its bit in
 * trap_full. The bytes count with bit 0x20 set: a byte and its lower
 * case agree there, so an entry that matches a recipient, whatever its
 * case, has set the same bit.
 */
static unsigned corr_full_bit(size_t len, unsigned char first, unsigned char last)
{
	uint32_t x = (uint32_t)len * 0x9e3779b1u ^
		     (uint32_t)((first | 0x20) << 8 | (last | 0x20)) * 0x85ebca6bu;

	return (x ^ x >> 16) % CORR_TRAP_FILTER;
}

/* Only an entry with its one '@' in front can be a recipient's domain. */
static bool corr_is_domain(const char *t)
{
	return t[0] == '@' && !strchr(t + 1, '@');
}

/* Separators of a recipient list. NUL too: strchr() used to find it in
 * its set, and a hostile line may hold one. */
static const bool corr_sep[256] = {
	['\0'] = true, [' '] = true, ['\t'] = true, [','] = true,
	[';'] = true, ['<'] = true, ['>'] = true,
};

/* An entry that holds a separator can equal no recipient, nor the part
 * of one from its last '@'. */
static bool corr_has_sep(const char *t)
{
	for (; *t; t++)
		if (corr_sep[(unsigned char)*t])
			return true;
	return false;
}

/* Adds the (first '@', length) pair of entry t of length l; false when
 * the '@' search cannot serve: no '@', or too many pairs. */
static bool corr_add_pair(uint16_t at[CORR_TRAP_PAIRS][2], uint8_t *n, const char *t, size_t l)
{
	const char *q = strchr(t, '@');
	uint16_t k;

	if (!q)
		return false;
	k = (uint16_t)(q - t);
	for (uint8_t i = 0; i < *n; i++)
		if (at[i][0] == k && at[i][1] == l)
			return true;
	if (*n == CORR_TRAP_PAIRS)
		return false;
	at[*n][0] = k;
	at[*n][1] = (uint16_t)l;
	(*n)++;
	return true;
}

int correlator_set_traps(struct correlator *c, char **traps, size_t n)
{
	char **v = calloc(n ? n : 1, sizeof(*v));
	uint16_t *dom = calloc(n ? n : 1, sizeof(*dom));
	uint64_t full[sizeof(c->trap_full) / sizeof(*c->trap_full)] = { 0 };
	uint16_t at[CORR_TRAP_PAIRS][2];
	uint8_t nat = 0;
	bool at_ok = true;
	size_t ndom = 0, nv = 0;

	if (!v || !dom)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		size_t l;

		if (corr_has_sep(traps[i]))
			continue;
		v[nv] = strdup(traps[i]);
		if (!v[nv]) {
			while (nv-- > 0)
				free(v[nv]);
			goto fail;
		}
		l = strlen(v[nv]);
		nv++;
		if (l == 0 || l > CORR_RCPT_MAX)
			continue;	/* no recipient is that long */
		{
			unsigned k = corr_full_bit(l, (unsigned char)v[nv - 1][0],
						   (unsigned char)v[nv - 1][l - 1]);

			full[k / 64] |= 1ULL << (k % 64);
		}
		/* a domain entry equal to a whole recipient is found by the
		 * domain search too: it needs no pair */
		if (corr_is_domain(v[nv - 1]))
			dom[ndom++] = (uint16_t)l;
		else if (at_ok && !corr_add_pair(at, &nat, v[nv - 1], l))
			at_ok = false;
	}
	qsort(v, nv, sizeof(*v), corr_strcmp);
	qsort(dom, ndom, sizeof(*dom), corr_u16cmp);
	{
		size_t k = 0;

		for (size_t i = 0; i < ndom; i++)
			if (k == 0 || dom[k - 1] != dom[i])
				dom[k++] = dom[i];
		ndom = k;
	}
	correlator_free_traps(c);
	c->traps = v;
	c->ntraps = nv;
	c->trap_dom = dom;
	c->ntrap_dom = ndom;
	memcpy(c->trap_full, full, sizeof(full));
	c->trap_at_ok = at_ok;
	c->ntrap_at = nat;
	memcpy(c->trap_at, at, sizeof(at));
	return 0;
fail:
	free(v);
	free(dom);
	return -1;
}

/*
 * s[0..len) lower-cased is on the list. A domain candidate (dom) must not
 * hold a second '@': it would not be the part after the last one.
 */
static bool corr_trap_lookup(const struct correlator *c, const char *s, size_t len, bool dom)
{
	char buf[CORR_RCPT_MAX + 1];
	const char *key = buf;

	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		else if (ch == '@' && dom && i > 0)
			return false;
		buf[i] = ch;
	}
	buf[len] = '\0';
	return bsearch(&key, c->traps, c->ntraps, sizeof(*c->traps), corr_strcmp) != NULL;
}

/*
 * One recipient: the whole address, or the part from its last '@' on, is
 * on the list (case-insensitive). Filters come first: most recipients
 * have no entry of their length, first and last byte; and the part from
 * the last '@' is found by trying the lengths of the domain entries.
 */
static bool corr_trap_one(const struct correlator *c, const char *p, size_t len)
{
	unsigned k;

	if (len == 0 || len > CORR_RCPT_MAX)
		return false;
	k = corr_full_bit(len, (unsigned char)p[0], (unsigned char)p[len - 1]);
	if ((c->trap_full[k / 64] >> (k % 64) & 1) && corr_trap_lookup(c, p, len, false))
		return true;
	for (size_t i = 0; i < c->ntrap_dom && c->trap_dom[i] <= len; i++) {
		size_t d = c->trap_dom[i];

		if (p[len - d] == '@' && corr_trap_lookup(c, p + len - d, d, true))
			return true;
	}
	return false;
}

static size_t corr_token_end(const char *s, size_t i, size_t len)
{
	for (; i + 4 <= len; i += 4) {
		if (corr_sep[(unsigned char)s[i]])
			return i;
		if (corr_sep[(unsigned char)s[i + 1]])
			return i + 1;
		if (corr_sep[(unsigned char)s[i + 2]])
			return i + 2;
		if (corr_sep[(unsigned char)s[i + 3]])
			return i + 3;
	}
	while (i < len && !corr_sep[(unsigned char)s[i]])
		i++;
	return i;
}

/*
 * The list searched from its '@'s: every entry a recipient could equal
 * holds one, so a trap recipient's first '@' is at its entry's offset
 * from the recipient's start, and a trap domain starts at an '@' and
 * ends the recipient. The bytes around a candidate must be separators
 * (or the list's ends); the lookup compares all bytes between, and no
 * entry holds a separator, so a match is a whole recipient (or its part
 * from its last '@': a domain entry has no other). A recipient equal
 * to a domain entry is its own part from its last '@', so domain
 * entries have no pair. Lists of at most CORR_RCPT_MAX bytes only, so
 * that no recipient is too long.
 */
static bool corr_trap_at(const struct correlator *c, const char *s, size_t len)
{
	const char *q = memchr(s, '@', len);

	for (; q; q = memchr(q + 1, '@', (size_t)(s + len - q - 1))) {
		size_t at = (size_t)(q - s);

		for (unsigned i = 0; i < c->ntrap_at; i++) {
			size_t k = c->trap_at[i][0], l = c->trap_at[i][1], a;
			unsigned b;

			if (at < k || at - k + l > len)
				continue;
			a = at - k;
			if ((a > 0 && !corr_sep[(unsigned char)s[a - 1]]) ||
			    (a + l < len && !corr_sep[(unsigned char)s[a + l]]))
				continue;
			b = corr_full_bit(l, (unsigned char)s[a], (unsigned char)s[a + l - 1]);
			if ((c->trap_full[b / 64] >> (b % 64) & 1) &&
			    corr_trap_lookup(c, s + a, l, false))
				return true;
		}
		for (size_t i = 0; i < c->ntrap_dom && at + c->trap_dom[i] <= len; i++) {
			size_t d = c->trap_dom[i];

			if ((at + d == len || corr_sep[(unsigned char)s[at + d]]) &&
			    corr_trap_lookup(c, q, d, true))
				return true;
		}
	}
	return false;
}

bool correlator_is_trap(const struct correlator *c, const char *rcpt, size_t len)
{
	size_t i = 0;

	if (c->ntraps == 0)
		return false;
	if (c->trap_at_ok && len <= CORR_RCPT_MAX)
		return corr_trap_at(c, rcpt, len);
	while (i < len) {
		size_t j;

		while (i < len && corr_sep[(unsigned char)rcpt[i]])
			i++;
		j = corr_token_end(rcpt, i, len);
		if (j > i && corr_trap_one(c, rcpt + i, j - i))
			return true;
		i = j;
	}
	return false;
}

/* --- queue id records, in LRU order --- */

static void corr_lru_unlink(struct corr_table *t, uint32_t i)
{
	struct qrec *r = &t->rec[i];

	if (r->prev != NONE)
		t->rec[r->prev].next = r->next;
	else
		t->lru_head = r->next;
	if (r->next != NONE)
		t->rec[r->next].prev = r->prev;
	else
		t->lru_tail = r->prev;
}

static void corr_lru_push(struct corr_table *t, uint32_t i)
{
	struct qrec *r = &t->rec[i];

	r->prev = NONE;
	r->next = t->lru_head;
	if (t->lru_head != NONE)
		t->rec[t->lru_head].prev = i;
	t->lru_head = i;
	if (t->lru_tail == NONE)
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

	if (e->prev != NONE)
		t->pend[e->prev].next = e->next;
	else
		t->fifo_head = e->next;
	if (e->next != NONE)
		t->pend[e->next].prev = e->prev;
	else
		t->fifo_tail = e->prev;
	e->rec = NONE;
	e->next = t->pend_free;
	t->pend_free = k;
	t->waiting--;
}

/* Drops every event waiting on record i; returns how many. */
static uint64_t corr_drop_chain(struct corr_table *t, uint32_t i)
{
	uint64_t n = 0;

	for (uint32_t k = t->rec[i].head; k != NONE;) {
		uint32_t next = t->pend[k].chain;

		corr_pend_release(t, k);
		k = next;
		n++;
	}
	t->rec[i].head = t->rec[i].tail = NONE;
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

/* Doubles an array of records or events, never past max + 1 of them. */
static int corr_grow(void **v, uint32_t *cap, size_t size, size_t max)
{
	uint32_t n = *cap ? 2 * *cap : 64;
	void *nv;

	if (n > max + 1)
		n = (uint32_t)max + 1;
	if (n <= *cap)
		return -1;
	nv = realloc(*v, (size_t)n * size);
	if (!nv)
		return -1;
	*v = nv;
	*cap = n;
	return 0;
}

/* Drops the oldest waiting event, counted in *counter. It is the first of
 * its own queue id's chain, since both keep arrival order. */
static void corr_pend_drop_oldest(struct correlator *c, uint64_t *counter)
{
	struct corr_table *t = c->t;
	uint32_t k = t->fifo_tail;
	struct qrec *r = &t->rec[t->pend[k].rec];

	r->head = t->pend[k].chain;
	if (r->head == NONE)
		r->tail = NONE;
	corr_pend_release(t, k);
	(*counter)++;
}

static uint32_t corr_rec_new(struct correlator *c, const char *qid, size_t len, uint32_t hash,
			     time_t now)
{
	struct corr_table *t = c->t;
	uint32_t i;

	if (t->live >= c->max && t->lru_tail != NONE)
		corr_rec_delete(c, t->lru_tail, &c->dropped);
	if (t->rec_free != NONE) {
		i = t->rec_free;
		t->rec_free = t->rec[i].next;
	} else {
		if (t->nrec == t->caprec &&
		    corr_grow((void **)&t->rec, &t->caprec, sizeof(*t->rec), c->max) < 0)
			return NONE;
		i = t->nrec++;
	}
	memset(&t->rec[i], 0, sizeof(t->rec[i]));
	memcpy(t->rec[i].qid, qid, len);
	t->rec[i].qlen = (uint8_t)len;
	t->rec[i].hash = hash;
	t->rec[i].seen = now;
	t->rec[i].head = t->rec[i].tail = NONE;
	if (htab_insert(&t->idx, hash, i, corr_rehash, t) < 0) {
		t->rec[i].qlen = 0;
		t->rec[i].next = t->rec_free;
		t->rec_free = i;
		return NONE;
	}
	corr_lru_push(t, i);
	t->live++;
	return i;
}

static uint32_t corr_pend_new(struct correlator *c)
{
	struct corr_table *t = c->t;
	uint32_t k;

	if (t->waiting >= c->max && t->fifo_tail != NONE)
		corr_pend_drop_oldest(c, &c->dropped);
	if (t->pend_free != NONE) {
		k = t->pend_free;
		t->pend_free = t->pend[k].next;
		return k;
	}
	if (t->npend == t->cappend &&
	    corr_grow((void **)&t->pend, &t->cappend, sizeof(*t->pend), c->max) < 0)
		return NONE;
	return t->npend++;
}

static void corr_pend_add(struct correlator *c, uint32_t ri, const struct sighting *s,
			  time_t now)
{
	struct corr_table *t = c->t;
	uint32_t k = corr_pend_new(c);
	struct pend *e;

	if (k == NONE) {
		c->dropped++;
		return;
	}
	e = &t->pend[k];
	*e = (struct pend){
		.rec = ri, .chain = NONE, .prev = NONE, .next = t->fifo_head,
		.queued = now, .time = s->time, .origin = s->origin,
		.pattern = s->pattern, .weight = s->weight, .cls = (uint8_t)s->cls,
		.has_score = s->has_score, .score = s->score,
	};
	if (t->fifo_head != NONE)
		t->pend[t->fifo_head].prev = k;
	t->fifo_head = k;
	if (t->fifo_tail == NONE)
		t->fifo_tail = k;
	if (t->rec[ri].tail != NONE)
		t->pend[t->rec[ri].tail].chain = k;
	else
		t->rec[ri].head = k;
	t->rec[ri].tail = k;
	t->waiting++;
}

/* The client of record i is now known: every waiting event gets it. */
static void corr_resolve(struct correlator *c, uint32_t i)
{
	struct corr_table *t = c->t;

	while (t->rec[i].head != NONE) {
		uint32_t k = t->rec[i].head;
		struct pend e = t->pend[k];
		struct sighting s = {
			.time = e.time, .origin = e.origin, .cls = (enum class_id)e.cls,
			.pattern = e.pattern, .weight = e.weight, .addr_ok = true,
			.addr = t->rec[i].addr, .has_score = e.has_score, .score = e.score,
		};

		t->rec[i].head = e.chain;
		if (e.chain == NONE)
			t->rec[i].tail = NONE;
		corr_pend_release(t, k);
		c->resolved++;
		/* emit last: the callback may not re-enter, but keep state whole */
		c->emit(c->ctx, &s);
	}
}

/*
 * "-?[0-9]+(\.[0-9]*)?" with at most 15 digits, without strtod: m / 10^k
 * with m < 2^53 and k <= 22 is a division of two exact doubles, correctly
 * rounded like strtod's answer. Anything else is strtod's to read.
 */
static bool corr_score_simple(const char *s, size_t n, double *out)
{
	static const double pow10[16] = {
		1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
		1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
	};
	size_t i = s[0] == '-', int_digits = 0, frac_digits = 0;
	uint64_t m = 0;
	double v;

	for (; i < n && (unsigned char)s[i] - (unsigned)'0' <= 9; i++, int_digits++)
		m = m * 10 + (uint64_t)(s[i] - '0');
	if (i < n && s[i] == '.')
		for (i++; i < n && (unsigned char)s[i] - (unsigned)'0' <= 9; i++, frac_digits++)
			m = m * 10 + (uint64_t)(s[i] - '0');
	if (i != n || int_digits == 0 || int_digits + frac_digits > 15)
		return false;
	v = (double)m / pow10[frac_digits];
	*out = s[0] == '-' ? -v : v;
	return true;
}

static bool corr_score(const struct slice *sl, double *out)
{
	char buf[32];
	char *end;

	if (!sl->p || sl->len == 0 || sl->len >= sizeof(buf))
		return false;
	if (corr_score_simple(sl->p, sl->len, out))
		return true;
	memcpy(buf, sl->p, sl->len);
	buf[sl->len] = '\0';
	*out = strtod(buf, &end);
	return end != buf && *end == '\0' && *out == *out;
}

/* The record of a queue id (hash: of the id), made when absent and
 * create is true; NONE when absent or out of memory. Inline: every line
 * with a queue id asks. */
static inline __attribute__((always_inline)) uint32_t
corr_rec_get(struct correlator *c, const char *qid, size_t len, uint32_t hash, time_t now,
	     bool create)
{
	struct qkey k = { qid, len, hash };
	uint32_t ri = htab_find(&c->t->idx, hash, corr_eq, c->t, &k);

	if (ri == NONE && create)
		ri = corr_rec_new(c, qid, len, hash, now);
	return ri;
}

/* Record ri's client is a: the events waiting for it go out. */
static void corr_set_client(struct correlator *c, uint32_t ri, const struct addr *a)
{
	c->t->rec[ri].addr = *a;
	c->t->rec[ri].has_addr = true;
	corr_resolve(c, ri);
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
	uint32_t ri = NONE, hash = 0;
	bool has_qid = qid->p && qid->len > 0 && qid->len <= QID_MAX;

	if (rcpt->p && correlator_is_trap(c, rcpt->p, rcpt->len))
		cls = CLASS_SPAMTRAP;
	/* a context line without a queue id links nothing and tells no one */
	if (cls == CLASS_CONTEXT && !has_qid)
		return;
	/* the rest of s only for a line that emits it: most are context */
	memset(&s.addr, 0, sizeof(s.addr));
	s.addr_ok = false;
	if (addr->p)
		s.addr_ok = corr_addr(t, addr->p, addr->len, &s.addr);

	if (has_qid) {
		hash = htab_hash(qid->p, qid->len);
		ri = corr_rec_get(c, qid->p, qid->len, hash, now, s.addr_ok);
		if (ri != NONE) {
			/* a record this line ends is deleted below: no move */
			if (!p->qid_end)
				corr_touch(t, ri, now);
			/* loopback (amavis without XFORWARD) names no client:
			 * it must not replace the one a queue id has */
			if (s.addr_ok && addr_kind(&s.addr) == ADDR_UNICAST) {
				c->linked++;
				corr_set_client(c, ri, &s.addr);
			}
		}
	}

	if (cls != CLASS_CONTEXT) {
		s.time = now;
		s.origin = *o;
		s.cls = cls;
		s.pattern = p->name;
		/* a trap among the recipients is a whole offence, whatever
		 * the line weighs as its own class (0: a temporary reject) */
		s.weight = cls == p->cls ? p->weight : WEIGHT_ONE;
		s.addr_text = addr->p;
		s.addr_len = addr->len;
		s.score = 0;
		s.has_score = corr_score(&m->cap[CAP_SCORE], &s.score);
		if (addr->p) {
			c->emit(c->ctx, &s);
		} else if (ri != NONE && t->rec[ri].has_addr) {
			s.addr = t->rec[ri].addr;
			s.addr_ok = true;
			c->emit(c->ctx, &s);
		} else if (has_qid && !p->qid_end) {
			if (ri == NONE)
				ri = corr_rec_new(c, qid->p, qid->len, hash, now);
			if (ri != NONE)
				corr_pend_add(c, ri, &s, now);
			else
				c->dropped++;
		} else {
			c->dropped++;	/* nothing names the client */
		}
	}
	if (p->qid_end && ri != NONE)
		corr_rec_delete(c, ri, &c->expired);
}

void correlator_expire(struct correlator *c, time_t now)
{
	struct corr_table *t = c->t;

	while (t->fifo_tail != NONE && t->pend[t->fifo_tail].queued + c->timeout <= now)
		corr_pend_drop_oldest(c, &c->expired);
	while (t->lru_tail != NONE && t->rec[t->lru_tail].seen + c->timeout <= now)
		corr_rec_delete(c, t->lru_tail, &c->expired);
	/* a lowered limit (reload) takes effect here */
	while (t->live > c->max && t->lru_tail != NONE)
		corr_rec_delete(c, t->lru_tail, &c->dropped);
}

size_t correlator_pending(const struct correlator *c)
{
	return c->t->waiting;
}

int correlator_walk_links(const struct correlator *c, correlator_link_fn *fn, void *ctx)
{
	const struct corr_table *t = c->t;

	for (uint32_t i = t->lru_tail; i != NONE; i = t->rec[i].prev) {
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
	if (ri == NONE)
		return -1;
	corr_touch(c->t, ri, seen);
	corr_set_client(c, ri, a);
	return 0;
}
