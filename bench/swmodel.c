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

struct offrec {
	uint32_t time, weight;
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
		if ((uint64_t)k->offs[i].time + FINDTIME > now)
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
	k->noffs = 0;
	if (!k->banned_once)
		model_st.keys_banned++;
	k->banned_once = true;
	model_st.bans[cls]++;
	snprintf(extra, sizeof(extra), "%llu", (unsigned long long)d);
	model_emit(line, EV_BAN, k->text, cls, extra);
}

void model_offence(uint64_t line, uint32_t now, uint32_t key, const char *text,
		   bool whitelisted, int cls, unsigned factor, int score)
{
	struct key *k = &keys[key];
	unsigned w = (gen_class_weight[cls] * factor + 500) / 1000, sum = 0;
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
	model_st.offence_lines++;
	model_st.offences[cls]++;
	weight_text(w, wtext, sizeof(wtext));
	model_emit(line, EV_OFFENCE, text, cls, wtext);
	if (k->ban_until > now)
		return;		/* no second ban while one runs */
	model_prune(k, now);
	if (w < THRESHOLD) {
		if (k->noffs == k->capoffs) {
			k->capoffs = k->capoffs ? 2 * k->capoffs : 8;
			k->offs = sw_grow(k->offs, k->capoffs * sizeof(*k->offs));
		}
		k->offs[k->noffs++] = (struct offrec){ now, w };
		for (uint32_t i = 0; i < k->noffs; i++)
			sum += k->offs[i].weight;
		if (sum < THRESHOLD)
			return;
	}
	model_ban(k, line, now, cls);
}

void model_init(FILE *out)
{
	expected = out;
}
