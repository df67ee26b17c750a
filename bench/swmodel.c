/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The model of the judge's rules: see swmodel.h for what it follows and
 * how it is kept in step. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "swmodel.h"

const char *const gen_class_name[GC_COUNT] = {
	"unknown-recipient", "unknown-sender", "spamtrap", "spam", "virus",
	"relay", "helo", "dnsbl", "auth", "protocol",
};

/* class_once_per_session() and class_once_per_message() (class.h) */
static bool gen_once_per_session(int cls)
{
	return cls == GC_HELO || cls == GC_DNSBL || cls == GC_PROTO || cls == GC_UNKSND;
}

static bool gen_once_per_message(int cls)
{
	return cls != GC_UNKREC && cls != GC_RELAY && cls != GC_AUTH;
}

/* JUDGE_MESSAGE_WINDOW, JUDGE_SESSION_WINDOW (judge.h) */
#define MESSAGE_WINDOW 600
#define SESSION_WINDOW 300

/* class weights in thousandths (src/core/class.c) */
static const unsigned gen_class_weight[GC_COUNT] = {
	1000, 1000, 1000, 1000, 1000, 1000, 500, 500, 200, 250,
};

/* A weight as spamwrath prints it: "1", "0.5", "0.05". */
static void weight_text(unsigned w, char *buf, size_t n)
{
	size_t len;

	if (w % 1000 == 0) {
		snprintf(buf, n, "%u", w / 1000);
		return;
	}
	snprintf(buf, n, "%u.%03u", w / 1000, w % 1000);
	for (len = strlen(buf); buf[len - 1] == '0'; len--)
		buf[len - 1] = '\0';
}

void *sw_alloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p) {
		fprintf(stderr, "swgen: out of memory\n");
		exit(1);
	}
	return p;
}

void *sw_grow(void *p, size_t n)
{
	void *v = realloc(p, n);

	if (!v) {
		fprintf(stderr, "swgen: out of memory\n");
		exit(1);
	}
	return v;
}

/* As the judge keeps them: weight 0 for the keys a ban kept. */
struct offrec {
	uint32_t time, weight;
	uint64_t msg;		/* the message, 0: none */
	uint32_t sess;		/* the session, if has_sess */
	int8_t cls;
	bool has_sess;
};

struct key {
	char text[INET6_ADDRSTRLEN + 4];
	uint32_t ban_until;
	uint32_t *bans;		/* starts of earlier bans */
	uint32_t nbans, capbans;
	struct offrec *offs;	/* offences since the last ban */
	uint32_t noffs, capoffs;
	bool banned_once;
};

static struct key *keys;
static uint32_t nkeys, capkeys;


uint32_t model_key(const char *text)
{
	if (nkeys == capkeys) {
		capkeys = capkeys ? 2 * capkeys : 1024;
		keys = sw_grow(keys, capkeys * sizeof(*keys));
	}
	memset(&keys[nkeys], 0, sizeof(keys[nkeys]));
	snprintf(keys[nkeys].text, sizeof(keys[nkeys].text), "%s", text);
	return nkeys++;
}

enum { EV_OFFENCE, EV_IGNORED, EV_BAN };

struct model_stats model_st;
static FILE *expected;

static void model_emit(uint64_t line, int kind, const char *addr, int cls, const char *extra)
{
	static const char *kinds[] = { "offence", "ignored", "ban" };

	if (expected)
		fprintf(expected, "%llu\t%s\t%s\t%s\t%s\n", (unsigned long long)line, kinds[kind],
			addr, gen_class_name[cls], extra);
}

static void model_prune(struct key *k, uint32_t now)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < k->noffs; i++)
		if ((uint64_t)k->offs[i].time + (k->offs[i].weight ? FINDTIME : MESSAGE_WINDOW) > now)
			k->offs[n++] = k->offs[i];
	k->noffs = n;
	n = 0;
	for (uint32_t i = 0; i < k->nbans; i++)
		if ((uint64_t)k->bans[i] + REPEAT_WINDOW > now)
			k->bans[n++] = k->bans[i];
	k->nbans = n;
}

static void model_ban(struct key *k, uint64_t line, uint32_t now, int cls)
{
	uint64_t d = BANTIME;
	char extra[32];

	for (uint32_t i = 0; i < k->nbans && d < BANTIME_MAX; i++)
		d *= 2;
	if (d > BANTIME_MAX)
		d = BANTIME_MAX;
	if (k->nbans == k->capbans) {
		k->capbans = k->capbans ? 2 * k->capbans : 4;
		k->bans = sw_grow(k->bans, k->capbans * sizeof(*k->bans));
	}
	k->bans[k->nbans++] = now;
	k->ban_until = (uint32_t)(now + d);
	/* the running total goes, the keys stay for the repeats */
	{
		uint32_t n = 0;

		for (uint32_t i = 0; i < k->noffs; i++) {
			if (k->offs[i].msg || k->offs[i].has_sess) {
				k->offs[n] = k->offs[i];
				k->offs[n++].weight = 0;
			}
		}
		k->noffs = n;
	}
	if (!k->banned_once)
		model_st.keys_banned++;
	k->banned_once = true;
	model_st.bans[cls]++;
	snprintf(extra, sizeof(extra), "%llu", (unsigned long long)d);
	model_emit(line, EV_BAN, k->text, cls, extra);
}

static void model_push(struct key *k, struct offrec o)
{
	if (k->noffs == k->capoffs) {
		k->capoffs = k->capoffs ? 2 * k->capoffs : 8;
		k->offs = sw_grow(k->offs, k->capoffs * sizeof(*k->offs));
	}
	k->offs[k->noffs++] = o;
}

/* Why o repeats an offence of k (judge.h), or NULL. */
static const char *model_repeat(const struct key *k, const struct offrec *o, uint32_t now)
{
	for (uint32_t i = 0; i < k->noffs; i++) {
		const struct offrec *r = &k->offs[i];
		uint32_t d = now > r->time ? now - r->time : r->time - now;

		if (r->cls != o->cls)
			continue;
		if (o->msg && r->msg == o->msg && d < MESSAGE_WINDOW)
			return "same-message";
		if (o->has_sess && r->has_sess && r->sess == o->sess && d < SESSION_WINDOW)
			return "same-session";
	}
	return NULL;
}

void model_offence(uint64_t line, uint32_t now, uint32_t key, const char *text,
		   bool whitelisted, int cls, unsigned factor, int score, uint32_t sess,
		   uint64_t msg)
{
	struct key *k = &keys[key];
	unsigned w = (gen_class_weight[cls] * factor + 500) / 1000, sum = 0;
	struct offrec o = {
		.time = now, .weight = w, .cls = (int8_t)cls, .sess = sess,
		.msg = gen_once_per_message(cls) ? msg : 0, .has_sess = gen_once_per_session(cls),
	};
	const char *why;
	char wtext[16];

	if (whitelisted) {
		model_st.ignored_lines++;
		model_st.ignored_whitelist++;
		model_emit(line, EV_IGNORED, text, cls, "whitelist");
		return;
	}
	if (cls == GC_SPAM && score >= 0 && score < SPAM_MIN_SCORE) {
		model_st.ignored_lines++;
		model_st.ignored_score++;
		model_emit(line, EV_IGNORED, text, cls, "score");
		return;
	}
	if ((o.msg || o.has_sess) && (why = model_repeat(k, &o, now))) {
		model_st.ignored_lines++;
		model_st.ignored_repeat++;
		model_emit(line, EV_IGNORED, text, cls, why);
		return;
	}
	model_st.offence_lines++;
	model_st.offences[cls]++;
	weight_text(w, wtext, sizeof(wtext));
	model_emit(line, EV_OFFENCE, text, cls, wtext);
	if (k->ban_until > now)
		return;		/* no second ban while one runs */
	model_prune(k, now);
	if (w < THRESHOLD) {
		model_push(k, o);
		for (uint32_t i = 0; i < k->noffs; i++)
			sum += k->offs[i].weight;
		if (sum < THRESHOLD)
			return;
	}
	model_ban(k, line, now, cls);
	if (w >= THRESHOLD && (o.msg || o.has_sess)) {
		o.weight = 0;
		model_push(k, o);	/* the key of what banned at once */
	}
}

void model_init(FILE *out)
{
	expected = out;
}
