/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * swgen: writes a reproducible mail log for the benchmarks, and what a
 * correct spamwrath must find in it.
 *
 * The log is a Debian mail server's day: Postfix (postscreen, smtpd,
 * submission, cleanup, qmgr, local, virtual, smtp, anvil) with MIMEDefang
 * and amavis as milters, SMTP sessions interleaved as they are in real
 * logs. About 85 % of the lines are benign (connect, TLS, client=,
 * cleanup, qmgr, deliveries, disconnect, anvil statistics, spam checks
 * below the score, a whitelisted backup MX); about 15 % are offences of
 * every class, from tens of thousands of IPv4 and IPv6 clients, many of
 * them coming back (campaigns), so bans expire and escalate.
 *
 * Line formats follow what the programs write, from their sources, their
 * binaries and real logs, and fail2ban's real Postfix test log.
 * Which lines are offences, of which class and weight, is the README's and
 * the default patterns' answer (bench/README has the table): a spamtrap
 * offence is any line naming a trap recipient with the client or its
 * queue id; the auth=0/N session summary weighs a quarter of a failed
 * login; "lost connection after AUTH" and milter-discard lines count for
 * nothing.
 *
 * The expected events come from swmodel.c, a model of the judge's rules
 * (swmodel.h says which, and how it is kept in step with the judge), fed
 * each offence line as it is written. The generator uses only integers
 * and its own random numbers, so a seed gives the same bytes on every
 * machine.
 *
 * usage: swgen [-s SEED] [-n LINES] [-f 3164|3339] [-o LOG] [-e EXPECTED]
 *              [-S STATS]
 * EXPECTED has one event a line: LINE TAB KIND TAB ADDRESS TAB CLASS TAB
 * EXTRA, KIND offence (EXTRA the weight), ignored (the reason) or ban (the
 * duration in seconds); ADDRESS is the client, or the judged network of a
 * ban. STATS holds key=value counts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "swmodel.h"

/* What the generator counted; the model counts the rest (model_st). */
static struct {
	uint64_t lines, sessions, benign_sessions, offence_sessions, v4_seen, v6_seen;
} st;

/* 2026-11-20 00:00:00 UTC */
#define START_EPOCH	1795132800ULL

/* --- random numbers: splitmix64, integers only --- */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static uint32_t rng_below(uint32_t n)
{
	return (uint32_t)(((rng_next() >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [lo, hi]. */
static uint32_t rng_range(uint32_t lo, uint32_t hi)
{
	return lo + rng_below(hi - lo + 1);
}

static bool rng_permille(uint32_t p)
{
	return rng_below(1000) < p;
}

/* Skewed towards 0: a few clients are very busy. */
static uint32_t rng_skewed(uint32_t n)
{
	uint64_t u = rng_below(65536);

	return (uint32_t)((u * u * n) >> 32);
}

/* --- clients and judged keys --- */
struct client {
	int family;
	uint8_t bytes[16];
	char text[INET6_ADDRSTRLEN];
	char name[64];		/* PTR name, or "unknown" */
	uint32_t key;		/* judged network (IPv6 per /64) */
	bool whitelisted;
	bool seen;
};

static struct client *clients;
static uint32_t nclients;
/* Pools: [0, nbenign) senders that behave, then offenders, then the
 * whitelisted backup MXes. */
static uint32_t nbenign, noffenders, first_offender, first_wl, nwl;

#define BENIGN_V4	10500
#define BENIGN_V6	4500
#define OFFENDER_V4	31500
#define OFFENDER_V6_NETS 5000	/* each /64 holds 1 to 4 offenders */

static const char *name_words[] = {
	"mail", "smtp", "mx", "out", "relay", "mta", "post", "mailout",
};
static const char *name_domains[] = {
	"example.com", "example.net", "shop.example", "news.example", "bank.example",
	"lists.example", "travel.example", "cloud.example", "isp.example", "uni.example",
};

static void client_name(struct client *c, bool benign)
{
	/* benign senders have a name; most offenders have none */
	if (benign || rng_permille(250))
		snprintf(c->name, sizeof(c->name), "%s%u.%s",
			 name_words[rng_below(8)], rng_below(100),
			 name_domains[rng_below(10)]);
	else
		snprintf(c->name, sizeof(c->name), "unknown");
}

/* A public-looking IPv4 address outside the ranges spamwrath or the
 * bench configuration treat specially. */
static void client_v4(struct client *c)
{
	static const uint8_t skip[] = { 0, 10, 100, 127, 169, 172, 192, 198, 203 };
	uint8_t a;

	for (;;) {
		bool bad = false;

		a = (uint8_t)rng_range(1, 223);
		for (size_t i = 0; i < sizeof(skip); i++)
			bad |= a == skip[i];
		if (!bad)
			break;
	}
	c->family = 4;
	c->bytes[0] = a;
	c->bytes[1] = (uint8_t)rng_below(256);
	c->bytes[2] = (uint8_t)rng_below(256);
	c->bytes[3] = (uint8_t)rng_range(1, 254);
	inet_ntop(AF_INET, c->bytes, c->text, sizeof(c->text));
}

/* A /64 in 2001:db8::/32 outside the whitelisted 2001:db8:25::/48. */
static void net_v6(uint8_t b[16])
{
	uint16_t g3;

	memset(b, 0, 16);
	b[0] = 0x20;
	b[1] = 0x01;
	b[2] = 0x0d;
	b[3] = 0xb8;
	do
		g3 = (uint16_t)rng_below(65536);
	while (g3 == 0x25);
	b[4] = (uint8_t)(g3 >> 8);
	b[5] = (uint8_t)g3;
	b[6] = (uint8_t)rng_below(256);
	b[7] = (uint8_t)rng_range(1, 255);
}

static void client_v6(struct client *c, const uint8_t net[16])
{
	c->family = 6;
	memcpy(c->bytes, net, 8);
	if (rng_permille(300)) {
		/* a short interface id: printed compressed, "::1a" */
		memset(c->bytes + 8, 0, 8);
		c->bytes[14] = (uint8_t)rng_below(256);
		c->bytes[15] = (uint8_t)rng_range(1, 255);
	} else {
		for (int i = 8; i < 16; i++)
			c->bytes[i] = (uint8_t)rng_below(256);
		c->bytes[8] |= 0x02;	/* never a run of zero groups */
	}
	inet_ntop(AF_INET6, c->bytes, c->text, sizeof(c->text));
}

static void key_for_v6(struct client *c)
{
	uint8_t net[16] = { 0 };
	char buf[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 4];

	memcpy(net, c->bytes, 8);
	inet_ntop(AF_INET6, net, buf, sizeof(buf));
	snprintf(text, sizeof(text), "%s/64", buf);
	c->key = model_key(text);
}

static struct client *client_add(void)
{
	struct client *c = &clients[nclients++];

	memset(c, 0, sizeof(*c));
	return c;
}

static void pools_build(void)
{
	uint32_t cap = BENIGN_V4 + BENIGN_V6 + OFFENDER_V4 + 4 * OFFENDER_V6_NETS + 2;

	clients = sw_alloc(cap * sizeof(*clients));
	for (uint32_t i = 0; i < BENIGN_V4 + BENIGN_V6; i++) {
		struct client *c = client_add();

		if (i < BENIGN_V4) {
			client_v4(c);
			c->key = model_key(c->text);
		} else {
			uint8_t net[16];

			net_v6(net);
			client_v6(c, net);
			key_for_v6(c);
		}
		client_name(c, true);
	}
	nbenign = nclients;
	first_offender = nclients;
	for (uint32_t i = 0; i < OFFENDER_V4; i++) {
		struct client *c = client_add();

		client_v4(c);
		c->key = model_key(c->text);
		client_name(c, false);
	}
	for (uint32_t i = 0; i < OFFENDER_V6_NETS; i++) {
		uint8_t net[16];
		uint32_t n = rng_permille(700) ? 1 : rng_range(2, 4);
		uint32_t key = 0;

		net_v6(net);
		for (uint32_t k = 0; k < n; k++) {
			struct client *c = client_add();

			client_v6(c, net);
			if (k == 0) {
				key_for_v6(c);
				key = c->key;
			} else {
				c->key = key;
			}
			client_name(c, false);
		}
	}
	noffenders = nclients - first_offender;
	first_wl = nclients;
	{
		struct client *c = client_add();

		c->family = 4;
		inet_pton(AF_INET, "192.0.2.25", c->bytes);
		snprintf(c->text, sizeof(c->text), "192.0.2.25");
		snprintf(c->name, sizeof(c->name), "backup-mx.example.net");
		c->whitelisted = true;
		c->key = model_key(c->text);
		c = client_add();
		c->family = 6;
		inet_pton(AF_INET6, "2001:db8:25::25", c->bytes);
		snprintf(c->text, sizeof(c->text), "2001:db8:25::25");
		snprintf(c->name, sizeof(c->name), "backup-mx6.example.net");
		c->whitelisted = true;
		key_for_v6(c);
	}
	nwl = nclients - first_wl;
}

/* --- the event queue: lines and sessions yet to come, by time --- */
enum item_kind { IT_LINE, IT_SESSION, IT_ANVIL };

struct item {
	uint64_t t;		/* microseconds since the epoch */
	uint64_t seq;		/* ties keep insertion order */
	uint8_t kind;
	int8_t cls;		/* IT_LINE: offence class, GC_NONE for benign */
	int8_t stype;		/* IT_SESSION: what to start */
	int16_t score;		/* IT_LINE, spam: hundredths, -1 none */
	uint16_t factor;	/* IT_LINE: the pattern's weight on the class, thousandths */
	uint16_t repeats;	/* IT_SESSION: sessions still to come */
	uint32_t client;
	uint32_t sess;		/* IT_LINE: its SMTP session (judge.h) */
	uint64_t msg;		/* IT_LINE: its queue id, 0: none */
	char *text;		/* IT_LINE: "tag[pid]: message" */
};

static struct item *heap;
static size_t nheap, capheap;
static uint64_t heap_seq;

static bool item_before(const struct item *a, const struct item *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void heap_push(struct item it)
{
	size_t i;

	if (nheap == capheap) {
		capheap = capheap ? 2 * capheap : 1024;
		heap = sw_grow(heap, capheap * sizeof(*heap));
	}
	it.seq = heap_seq++;
	i = nheap++;
	while (i > 0 && item_before(&it, &heap[(i - 1) / 2])) {
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = it;
}

static struct item heap_pop(void)
{
	struct item top = heap[0], last = heap[--nheap];
	size_t i = 0;

	for (;;) {
		size_t l = 2 * i + 1, m = i;

		if (l < nheap && item_before(&heap[l], &last))
			m = l;
		if (l + 1 < nheap && item_before(&heap[l + 1], m == i ? &last : &heap[l]))
			m = l + 1;
		if (m == i)
			break;
		heap[i] = heap[m];
		i = m;
	}
	if (nheap)
		heap[i] = last;
	return top;
}

/* --- sessions --- */
enum session_type {
	ST_ACCEPT, ST_SUBMIT, ST_BACKUP,
	ST_UNKREC, ST_UNKSND, ST_TRAP_ACC, ST_TRAP_REJ, ST_SPAM, ST_VIRUS,
	ST_RELAY, ST_HELO, ST_DNSBL, ST_AUTH, ST_PROTO,
	ST_COUNT
};

/* New sessions per mille; the offence classes come back in campaigns
 * (repeats), which adds to their share of the lines. */
static const uint16_t session_mix[ST_COUNT] = {
	[ST_ACCEPT] = 515, [ST_SUBMIT] = 60, [ST_BACKUP] = 25,
	[ST_UNKREC] = 110, [ST_UNKSND] = 30, [ST_TRAP_ACC] = 12, [ST_TRAP_REJ] = 12,
	[ST_SPAM] = 45, [ST_VIRUS] = 12, [ST_RELAY] = 30, [ST_HELO] = 30,
	[ST_DNSBL] = 45, [ST_AUTH] = 35, [ST_PROTO] = 39,
};

/* Most campaigns are one session; these come back up to this often. */
static const uint16_t session_repeat_max[ST_COUNT] = {
	[ST_UNKREC] = 4, [ST_UNKSND] = 2, [ST_TRAP_REJ] = 2, [ST_SPAM] = 3,
	[ST_RELAY] = 4, [ST_HELO] = 4, [ST_DNSBL] = 4, [ST_AUTH] = 12, [ST_PROTO] = 6,
};

struct session {
	uint64_t t;
	uint32_t client;
	const struct client *c;
	const char *smtpd;	/* tag */
	unsigned pid;
	char qid[16];
	char mid[80];
	char sender[96];
	char rcpt[96];
	char helo[96];
	unsigned port, size;
	unsigned factor;	/* the next line's pattern weight, thousandths */
	bool tls;
	uint32_t serial;	/* the session's number */
	uint64_t qidn;		/* its queue id's number, 0: none yet */
};

static uint32_t session_serial;

static uint64_t qid_counter;

/* Postfix short queue ids: 11 upper-case hex digits, never repeated
 * (an odd multiplier is a bijection modulo 2^44). */
static uint64_t session_qid(char *buf)
{
	uint64_t v = (++qid_counter * 0x5bd1e9955bd1e995ULL) & ((1ULL << 44) - 1);

	snprintf(buf, 16, "%011llX", (unsigned long long)v);
	return qid_counter;
}

static void random_token(char *buf, size_t n, const char *alphabet)
{
	size_t k = strlen(alphabet);

	for (size_t i = 0; i + 1 < n; i++)
		buf[i] = alphabet[rng_below((uint32_t)k)];
	buf[n - 1] = '\0';
}

static const char lower_alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static const char *first_names[] = {
	"anna", "ben", "carla", "dieter", "eva", "frank", "greta", "hans", "ines", "jonas",
	"karin", "lukas", "maria", "nils", "olga", "paul", "rosa", "stefan", "tina", "uwe",
};

/* Our mailboxes: name.N@example.org (local) and @example.com (virtual). */
static void local_user(char *buf, size_t n, const char **domain)
{
	*domain = rng_permille(600) ? "example.org" : "example.com";
	snprintf(buf, n, "%s.%u@%s", first_names[rng_below(20)], rng_below(25), *domain);
}

static void remote_sender(char *buf, size_t n)
{
	char local[9];

	random_token(local, sizeof(local), lower_alnum);
	snprintf(buf, n, "%s@%s", local, name_domains[rng_below(10)]);
}

static void session_begin(struct session *s, uint64_t t, uint32_t client)
{
	memset(s, 0, sizeof(*s));
	s->t = t;
	s->client = client;
	s->c = &clients[client];
	s->smtpd = "postfix/smtpd";
	s->serial = ++session_serial;
	/* a real smtpd serves one session at a time: a pid is not reused by
	 * two at once (the draw stays, so that the log is the same but
	 * for the pids) */
	(void)rng_range(2000, 2099);
	s->pid = 2000 + s->serial % 100;
	s->port = rng_range(1024, 65535);
	s->size = rng_range(1500, 90000);
	s->tls = rng_permille(650);
	if (s->c->name[0] != 'u')
		snprintf(s->helo, sizeof(s->helo), "%s", s->c->name);
	else
		snprintf(s->helo, sizeof(s->helo), "%s", rng_permille(500) ? "ylmf-pc" : "User");
	remote_sender(s->sender, sizeof(s->sender));
	st.sessions++;
}

/* Adds one line to the session, a little after the previous one. */
static void __attribute__((format(printf, 4, 5)))
session_line(struct session *s, int cls, int score, const char *fmt, ...)
{
	struct item it = { .kind = IT_LINE, .cls = (int8_t)cls, .score = (int16_t)score,
			   .factor = (uint16_t)(s->factor ? s->factor : 1000), .client = s->client,
			   .sess = 2 * s->serial };
	va_list ap;
	int n;

	s->factor = 0;
	s->t += rng_range(200, 900000);
	it.t = s->t;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	it.text = sw_alloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(it.text, (size_t)n + 1, fmt, ap);
	va_end(ap);
	/* postscreen's lines are a session of their own to the judge (by the
	 * port), smtpd's another (by the connect line); a line naming the
	 * queue id is of its message */
	if (strncmp(it.text, "postfix/postscreen[", 19) == 0)
		it.sess++;
	if (s->qidn && strstr(it.text, s->qid))
		it.msg = s->qidn;
	heap_push(it);
}

static void s_connect(struct session *s)
{
	const struct client *c = s->c;

	session_line(s, GC_NONE, -1, "%s[%u]: connect from %s[%s]", s->smtpd, s->pid,
		     c->name, c->text);
	if (s->tls) {
		if (rng_permille(700))
			session_line(s, GC_NONE, -1, "%s[%u]: Anonymous TLS connection established "
				     "from %s[%s]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 "
				     "(256/256 bits) key-exchange X25519 server-signature ECDSA "
				     "(P-256) server-digest SHA256", s->smtpd, s->pid, c->name,
				     c->text);
		else
			session_line(s, GC_NONE, -1, "%s[%u]: Anonymous TLS connection established "
				     "from %s[%s]: TLSv1.2 with cipher ECDHE-RSA-AES128-GCM-SHA256 "
				     "(128/128 bits)", s->smtpd, s->pid, c->name, c->text);
	}
}

static void s_disconnect(struct session *s, const char *counts)
{
	session_line(s, GC_NONE, -1, "%s[%u]: disconnect from %s[%s] %s%s", s->smtpd, s->pid,
		     s->c->name, s->c->text, s->tls ? "ehlo=2 starttls=1 " : "ehlo=1 ", counts);
}

static void s_postscreen_pass(struct session *s)
{
	unsigned pid = rng_range(900, 909);

	session_line(s, GC_NONE, -1, "postfix/postscreen[%u]: CONNECT from [%s]:%u to "
		     "[198.51.100.25]:25", pid, s->c->text, s->port);
	session_line(s, GC_NONE, -1, "postfix/postscreen[%u]: PASS OLD [%s]:%u", pid,
		     s->c->text, s->port);
}

static const char *subjects[] = {
	"Invoice 2026-11", "Meeting tomorrow", "Your order has shipped", "Re: project plan",
	"Newsletter November", "Photos from the weekend", "Password reset", "Re: Re: lunch?",
};

static void s_mdlog(struct session *s, const char *event, int score, bool trap)
{
	char sc[16];

	if (score < 0)
		snprintf(sc, sizeof(sc), "-%d.%d", -score / 100, (-score / 10) % 10);
	else
		snprintf(sc, sizeof(sc), "%d.%d", score / 100, (score / 10) % 10);
	session_line(s, strcmp(event, "spam") == 0 ? GC_SPAM : trap ? GC_TRAP : GC_NONE, score,
		     "mimedefang.pl[%u]: %s: MDLOG,%s,%s,%s,%s,<%s>,<%s>,%s", rng_range(3300, 3309),
		     s->qid, s->qid, event, sc, s->c->text, s->sender, s->rcpt,
		     subjects[rng_below(8)]);
}

static void s_amavis(struct session *s, bool infected, bool trap)
{
	static const char *viruses[] = {
		"Eicar-Signature", "Win.Test.EICAR_HDB-1", "Porcupine.Phishing.55542.UNOFFICIAL",
		"Win.Trojan.Agent-1234567", "Doc.Dropper.Agent-7654321",
	};
	unsigned apid = rng_range(4000, 4019);
	char mail_id[13];

	random_token(mail_id, sizeof(mail_id), b64url);
	if (infected)
		session_line(s, GC_VIRUS, -1, "amavis[%u]: (%05u-%02u) Blocked INFECTED (%s) "
			     "{DiscardedInbound,Quarantined}, [%s]:%u [%s] <%s> -> <%s>, quarantine: "
			     "virus-%s, Queue-ID: %s, Message-ID: <%s>, mail_id: %s, Hits: -, size: %u, "
			     "%u ms", apid, apid, rng_range(1, 99), viruses[rng_below(5)], s->c->text,
			     s->port, s->c->text, s->sender, s->rcpt, mail_id, s->qid, s->mid, mail_id,
			     s->size, rng_range(40, 900));
	else
		session_line(s, trap ? GC_TRAP : GC_NONE, -1, "amavis[%u]: (%05u-%02u) Passed CLEAN {RelayedInbound}, "
			     "[%s]:%u [%s] <%s> -> <%s>, Queue-ID: %s, Message-ID: <%s>, mail_id: %s, "
			     "Hits: -, size: %u, %u ms", apid, apid, rng_range(1, 99), s->c->text,
			     s->port, s->c->text, s->sender, s->rcpt, s->qid, s->mid, mail_id, s->size,
			     rng_range(40, 900));
}

/* smtpd accepts the message: client=, cleanup, milters. */
static void s_receive(struct session *s)
{
	char tok[17];

	s->qidn = session_qid(s->qid);
	random_token(tok, sizeof(tok), lower_alnum);
	snprintf(s->mid, sizeof(s->mid), "%s@%s", tok,
		 strchr(s->sender, '@') ? strchr(s->sender, '@') + 1 : "example.net");
	session_line(s, GC_NONE, -1, "%s[%u]: %s: client=%s[%s]", s->smtpd, s->pid, s->qid,
		     s->c->name, s->c->text);
	session_line(s, GC_NONE, -1, "postfix/cleanup[%u]: %s: message-id=<%s>",
		     rng_range(2500, 2509), s->qid, s->mid);
}

static void s_deliver(struct session *s, const char *domain, int cls)
{
	unsigned qmgr = 1500;
	unsigned d1 = rng_range(1, 40), d2 = rng_range(0, 9);

	session_line(s, GC_NONE, -1, "postfix/qmgr[%u]: %s: from=<%s>, size=%u, nrcpt=1 "
		     "(queue active)", qmgr, s->qid, s->sender, s->size);
	s_disconnect(s, "mail=1 rcpt=1 data=1 quit=1 commands=5");
	if (strcmp(domain, "example.org") == 0)
		session_line(s, cls, -1, "postfix/local[%u]: %s: to=<%s>, relay=local, "
			     "delay=0.%02u, delays=0.%02u/0.01/0/0.0%u, dsn=2.0.0, status=sent "
			     "(delivered to mailbox)", rng_range(2600, 2609), s->qid, s->rcpt,
			     d1 + d2, d1, d2);
	else
		session_line(s, cls, -1, "postfix/virtual[%u]: %s: to=<%s>, relay=virtual, "
			     "delay=0.%02u, delays=0.%02u/0/0/0.0%u, dsn=2.0.0, status=sent "
			     "(delivered to maildir)", rng_range(2700, 2709), s->qid, s->rcpt,
			     d1 + d2, d1, d2);
	session_line(s, GC_NONE, -1, "postfix/qmgr[%u]: %s: removed", qmgr, s->qid);
}

/* A message that arrives and is delivered; rcpt a trap when trap. */
static void session_accept(struct session *s, bool trap)
{
	const char *domain;

	if (trap) {
		if (rng_permille(500)) {
			snprintf(s->rcpt, sizeof(s->rcpt), "trap@example.org");
			domain = "example.org";
		} else {
			char tok[9];

			random_token(tok, sizeof(tok), lower_alnum);
			snprintf(s->rcpt, sizeof(s->rcpt), "%s@honeypot.example.net", tok);
			domain = "honeypot.example.net";
		}
	} else {
		local_user(s->rcpt, sizeof(s->rcpt), &domain);
	}
	if (rng_permille(400))
		s_postscreen_pass(s);
	s_connect(s);
	s_receive(s);
	if (rng_permille(500)) {
		/* a spam check below the threshold now and then: not an offence */
		if (!trap && rng_permille(60))
			s_mdlog(s, "spam", (int)rng_range(500, 1490), false);
		else
			s_mdlog(s, "non-spam", (int)rng_range(0, 990) - 500, trap);
	}
	if (rng_permille(600))
		s_amavis(s, false, trap);
	s_deliver(s, domain, trap ? GC_TRAP : GC_NONE);
}

/* A local user sends mail out, sometimes after mistyping the password. */
static void session_submit(struct session *s)
{
	char user[96];
	const char *domain;
	unsigned fails = rng_permille(100) ? rng_range(1, 2) : 0;

	s->smtpd = "postfix/submission/smtpd";
	s->tls = true;
	local_user(user, sizeof(user), &domain);
	snprintf(s->sender, sizeof(s->sender), "%s", user);
	remote_sender(s->rcpt, sizeof(s->rcpt));
	s_connect(s);
	for (unsigned i = 0; i < fails; i++)
		session_line(s, GC_AUTH, -1, "%s[%u]: warning: %s[%s]: SASL PLAIN authentication "
			     "failed: authentication failure, sasl_username=%s", s->smtpd, s->pid,
			     s->c->name, s->c->text, user);
	session_qid(s->qid);
	session_line(s, GC_NONE, -1, "%s[%u]: %s: client=%s[%s], sasl_method=PLAIN, "
		     "sasl_username=%s", s->smtpd, s->pid, s->qid, s->c->name, s->c->text, user);
	snprintf(s->mid, sizeof(s->mid), "%08x.%04x@%s", (unsigned)rng_next(),
		 rng_below(65536), domain);
	session_line(s, GC_NONE, -1, "postfix/cleanup[%u]: %s: message-id=<%s>",
		     rng_range(2500, 2509), s->qid, s->mid);
	session_line(s, GC_NONE, -1, "postfix/qmgr[1500]: %s: from=<%s>, size=%u, nrcpt=1 "
		     "(queue active)", s->qid, s->sender, s->size);
	s_disconnect(s, fails ? "auth=1/2 mail=1 rcpt=1 data=1 quit=1 commands=6/7"
		     : "auth=1 mail=1 rcpt=1 data=1 quit=1 commands=6");
	session_line(s, GC_NONE, -1, "postfix/smtp[%u]: %s: to=<%s>, relay=mx%u.%s[%s]:25, "
		     "delay=1.%u, delays=0.03/0.01/0.4/0.%u, dsn=2.0.0, status=sent (250 2.0.0 Ok: "
		     "queued as %06X)", rng_range(2800, 2809), s->qid, s->rcpt, rng_below(3),
		     strchr(s->rcpt, '@') + 1, clients[rng_below(nbenign)].text, rng_below(10),
		     rng_below(10), rng_below(1 << 24));
	session_line(s, GC_NONE, -1, "postfix/qmgr[1500]: %s: removed", s->qid);
}

static void s_reject(struct session *s, int cls, const char *code, const char *text,
		     const char *to)
{
	session_line(s, cls, -1, "%s[%u]: NOQUEUE: reject: RCPT from %s[%s]: %s %s; from=<%s> "
		     "to=<%s> proto=ESMTP helo=<%s>", s->smtpd, s->pid, s->c->name, s->c->text,
		     code, text, s->sender, to, s->helo);
}

/* Attackers write what they like into HELO, sometimes someone else's
 * address: spamwrath must take the client from where Postfix puts it. */
static void s_hostile_helo(struct session *s)
{
	if (rng_permille(60))
		snprintf(s->helo, sizeof(s->helo), "[%s]",
			 clients[rng_below(nclients)].text);
}

static void session_unknown_rcpt(struct session *s, bool trap)
{
	static const char *tables[] = {
		"local recipient table", "virtual mailbox table", "virtual alias table",
	};
	unsigned n = trap ? 1 : rng_range(1, 3);
	char text[256], tok[9];

	s->tls = rng_permille(200);
	s_hostile_helo(s);
	s_connect(s);
	for (unsigned i = 0; i < n; i++) {
		const char *domain;

		random_token(tok, sizeof(tok), lower_alnum);
		if (trap) {
			domain = "honeypot.example.net";
			snprintf(s->rcpt, sizeof(s->rcpt), "%s@%s", tok, domain);
		} else {
			domain = rng_permille(600) ? "example.org" : "example.com";
			snprintf(s->rcpt, sizeof(s->rcpt), "%s.%s@%s", first_names[rng_below(20)],
				 tok, domain);
		}
		snprintf(text, sizeof(text), "<%s>: Recipient address rejected: User unknown in %s",
			 s->rcpt, tables[strcmp(domain, "example.org") == 0 ? 0 : 1 + rng_below(2)]);
		s_reject(s, trap ? GC_TRAP : GC_UNKREC, "550 5.1.1", text, s->rcpt);
	}
	{
		char counts[64];

		snprintf(counts, sizeof(counts), "mail=1 rcpt=0/%u quit=1 commands=3/%u", n, n + 3);
		s_disconnect(s, counts);
	}
}

static void session_unknown_sender(struct session *s)
{
	unsigned n = rng_range(1, 2);
	char text[256], tok[9], sender[64];
	const char *domain;

	random_token(tok, sizeof(tok), lower_alnum);
	snprintf(sender, sizeof(sender), "%s@%s.invalid", first_names[rng_below(20)], tok);
	snprintf(s->sender, sizeof(s->sender), "%s", sender);
	s_connect(s);
	for (unsigned i = 0; i < n; i++) {
		local_user(s->rcpt, sizeof(s->rcpt), &domain);
		snprintf(text, sizeof(text), "<%s>: Sender address rejected: Domain not found", sender);
		s_reject(s, GC_UNKSND, "550 5.1.8", text, s->rcpt);
	}
	s_disconnect(s, n == 1 ? "mail=1 rcpt=0/1 quit=1 commands=3/4"
		     : "mail=1 rcpt=0/2 quit=1 commands=3/5");
}

static void session_spam(struct session *s)
{
	const char *domain;

	local_user(s->rcpt, sizeof(s->rcpt), &domain);
	s_connect(s);
	s_receive(s);
	/* MIMEDefang discards it: no queue manager, no delivery */
	s_mdlog(s, "spam", (int)rng_range(1500, 4000), false);
	session_line(s, GC_NONE, -1, "postfix/cleanup[%u]: %s: milter-discard: END-OF-MESSAGE "
		     "from %s[%s]: milter triggers DISCARD action; from=<%s> to=<%s> proto=ESMTP "
		     "helo=<%s>", rng_range(2500, 2509), s->qid, s->c->name, s->c->text, s->sender,
		     s->rcpt, s->helo);
	s_disconnect(s, "mail=1 rcpt=1 data=1 quit=1 commands=5");
}

static void session_virus(struct session *s)
{
	const char *domain;

	local_user(s->rcpt, sizeof(s->rcpt), &domain);
	s_connect(s);
	s_receive(s);
	if (rng_permille(500))
		s_mdlog(s, "non-spam", (int)rng_range(0, 400), false);
	s_amavis(s, true, false);
	s_disconnect(s, "mail=1 rcpt=1 data=1 quit=1 commands=5");
}

static void session_relay(struct session *s)
{
	unsigned n = rng_range(1, 3);
	char text[256], to[96];

	s_hostile_helo(s);
	s_connect(s);
	for (unsigned i = 0; i < n; i++) {
		remote_sender(to, sizeof(to));
		snprintf(text, sizeof(text), "<%s>: Relay access denied", to);
		session_line(s, GC_RELAY, -1, "%s[%u]: NOQUEUE: reject: RCPT from %s[%s]: 554 5.7.1 "
			     "%s; from=<%s> to=<%s> proto=SMTP helo=<%s>", s->smtpd, s->pid,
			     s->c->name, s->c->text, text, s->sender, to, s->helo);
	}
	s_disconnect(s, "mail=1 rcpt=0/1 quit=1 commands=3/4");
}

static void session_helo(struct session *s)
{
	unsigned n = rng_range(1, 2);
	char text[256], helo[24];
	const char *domain;

	snprintf(helo, sizeof(helo), "WIN-%08X", (unsigned)rng_next());
	snprintf(s->helo, sizeof(s->helo), "%s", rng_permille(500) ? helo : "User");
	s->tls = false;
	s_connect(s);
	for (unsigned i = 0; i < n; i++) {
		local_user(s->rcpt, sizeof(s->rcpt), &domain);
		snprintf(text, sizeof(text), "<%s>: Helo command rejected: need fully-qualified "
			 "hostname", s->helo);
		s_reject(s, GC_HELO, "504 5.5.2", text, s->rcpt);
	}
	s_disconnect(s, "mail=1 rcpt=0/1 quit=1 commands=3/4");
}

static void session_dnsbl(struct session *s)
{
	static const char *zones[] = { "zen.spamhaus.org", "bl.spamcop.net", "b.barracudacentral.org" };
	unsigned n = rng_range(1, 2);
	char text[256];
	const char *domain;

	s->tls = false;
	s_connect(s);
	for (unsigned i = 0; i < n; i++) {
		local_user(s->rcpt, sizeof(s->rcpt), &domain);
		snprintf(text, sizeof(text), "Service unavailable; Client host [%s] blocked using %s",
			 s->c->text, zones[rng_below(3)]);
		s_reject(s, GC_DNSBL, "554 5.7.1", text, s->rcpt);
	}
	s_disconnect(s, "mail=1 rcpt=0/1 quit=1 commands=3/4");
}

/* Password guessing. The session ends with the client hanging up during
 * AUTH or quitting, and Postfix's summary with auth=0/N, which the
 * default patterns count as a quarter of a failed login. */
static void session_auth(struct session *s)
{
	unsigned n = rng_range(1, 3);
	char counts[64];

	s->smtpd = rng_permille(500) ? "postfix/submission/smtpd" : "postfix/smtpd";
	s->tls = rng_permille(800);
	s_connect(s);
	for (unsigned i = 0; i < n; i++) {
		if (rng_permille(800))
			session_line(s, GC_AUTH, -1, "%s[%u]: warning: %s[%s]: SASL %s authentication "
				     "failed: authentication failure, sasl_username=%s@example.org",
				     s->smtpd, s->pid, s->c->name, s->c->text,
				     rng_permille(500) ? "LOGIN" : "PLAIN", first_names[rng_below(20)]);
		else
			session_line(s, GC_AUTH, -1, "%s[%u]: warning: %s[%s]: SASL LOGIN authentication "
				     "failed: UGFzc3dvcmQ6", s->smtpd, s->pid, s->c->name, s->c->text);
	}
	if (rng_permille(500)) {
		session_line(s, GC_NONE, -1, "%s[%u]: lost connection after AUTH from %s[%s]",
			     s->smtpd, s->pid, s->c->name, s->c->text);
		snprintf(counts, sizeof(counts), "auth=0/%u commands=%u/%u", n, s->tls ? 3 : 1,
			 n + (s->tls ? 3 : 1));
	} else {
		snprintf(counts, sizeof(counts), "auth=0/%u quit=1 commands=%u/%u", n,
			 s->tls ? 4 : 2, n + (s->tls ? 4 : 2));
	}
	s->factor = 250;
	session_line(s, GC_AUTH, -1, "%s[%u]: disconnect from %s[%s] %s%s", s->smtpd, s->pid,
		     s->c->name, s->c->text, s->tls ? "ehlo=2 starttls=1 " : "ehlo=1 ", counts);
}


static void session_protocol(struct session *s)
{
	if (rng_permille(500)) {
		unsigned pid = rng_range(900, 909);

		session_line(s, GC_NONE, -1, "postfix/postscreen[%u]: CONNECT from [%s]:%u to "
			     "[198.51.100.25]:25", pid, s->c->text, s->port);
		session_line(s, GC_PROTO, -1, "postfix/postscreen[%u]: PREGREET %u after 0.%02u from "
			     "[%s]:%u: EHLO %s\\r\\n", pid, 5 + (unsigned)strlen(s->helo) + 2,
			     rng_range(1, 99), s->c->text, s->port, s->helo);
		session_line(s, GC_NONE, -1, "postfix/postscreen[%u]: DISCONNECT [%s]:%u", pid,
			     s->c->text, s->port);
	} else {
		s->tls = false;
		s_connect(s);
		session_line(s, GC_PROTO, -1, "%s[%u]: improper command pipelining after CONNECT "
			     "from %s[%s]: QUIT", s->smtpd, s->pid, s->c->name, s->c->text);
		s_disconnect(s, "quit=1 commands=1");
	}
}

/* The backup MX forwards what it accepted, the bad with the good: its
 * offences must be ignored (whitelist), never banned. */
static void session_backup(struct session *s)
{
	uint32_t r = rng_below(1000);

	if (r < 100) {
		session_unknown_rcpt(s, false);
	} else if (r < 130) {
		s_connect(s);
		local_user(s->rcpt, sizeof(s->rcpt), &(const char *){ NULL });
		s_receive(s);
		s_mdlog(s, "spam", (int)rng_range(1500, 3000), false);
		s_disconnect(s, "mail=1 rcpt=1 data=1 quit=1 commands=5");
	} else {
		session_accept(s, false);
	}
}

static uint32_t pick_benign(void)
{
	return rng_skewed(nbenign);
}

static uint32_t pick_offender(void)
{
	return first_offender + rng_below(noffenders);
}

static void session_run(int type, uint64_t t, uint32_t client, unsigned repeats)
{
	struct session s;

	session_begin(&s, t, client);
	if (type <= ST_BACKUP)
		st.benign_sessions++;
	else
		st.offence_sessions++;
	switch (type) {
	case ST_ACCEPT: session_accept(&s, false); break;
	case ST_SUBMIT: session_submit(&s); break;
	case ST_BACKUP: session_backup(&s); break;
	case ST_UNKREC: session_unknown_rcpt(&s, false); break;
	case ST_UNKSND: session_unknown_sender(&s); break;
	case ST_TRAP_ACC: session_accept(&s, true); break;
	case ST_TRAP_REJ: session_unknown_rcpt(&s, true); break;
	case ST_SPAM: session_spam(&s); break;
	case ST_VIRUS: session_virus(&s); break;
	case ST_RELAY: session_relay(&s); break;
	case ST_HELO: session_helo(&s); break;
	case ST_DNSBL: session_dnsbl(&s); break;
	case ST_AUTH: session_auth(&s); break;
	case ST_PROTO: session_protocol(&s); break;
	}
	if (repeats > 0) {
		/* the same client comes back for more, seconds to minutes later */
		struct item it = {
			.kind = IT_SESSION, .stype = (int8_t)type, .client = client,
			.repeats = (uint16_t)(repeats - 1),
			.t = s.t + (uint64_t)rng_range(5, type == ST_AUTH ? 120 : 900) * 1000000,
		};

		heap_push(it);
	}
}

static void session_new(uint64_t t)
{
	uint32_t r = rng_below(1000), acc = 0;
	int type = ST_ACCEPT;
	uint32_t client;
	unsigned repeats = 0;

	for (int i = 0; i < ST_COUNT; i++) {
		acc += session_mix[i];
		if (r < acc) {
			type = i;
			break;
		}
	}
	if (type == ST_BACKUP)
		client = first_wl + rng_below(nwl);
	else if (type <= ST_SUBMIT)
		client = pick_benign();
	else
		client = pick_offender();
	if (session_repeat_max[type] && rng_permille(400))
		repeats = rng_range(1, session_repeat_max[type]);
	session_run(type, t, client, repeats);
}

/* Postfix's anvil reports its peaks every 10 minutes. */
static void anvil_lines(uint64_t t)
{
	const struct client *c = &clients[rng_below(nclients)];
	time_t peak = (time_t)(t / 1000000) - rng_range(10, 590);
	struct tm tm;
	char when[32];
	struct session s = { .t = t, .client = (uint32_t)(c - clients), .c = c };

	gmtime_r(&peak, &tm);
	strftime(when, sizeof(when), "%b %e %H:%M:%S", &tm);
	session_line(&s, GC_NONE, -1, "postfix/anvil[1600]: statistics: max connection rate "
		     "%u/60s for (smtp:%s) at %s", rng_range(2, 40), c->text, when);
	session_line(&s, GC_NONE, -1, "postfix/anvil[1600]: statistics: max connection count "
		     "%u for (smtp:%s) at %s", rng_range(2, 12), c->text, when);
	session_line(&s, GC_NONE, -1, "postfix/anvil[1600]: statistics: max cache size %u at %s",
		     rng_range(20, 400), when);
}

/* --- output --- */
static int fmt3164;

static void write_line(FILE *out, const struct item *it)
{
	static const char *mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
				     "Sep", "Oct", "Nov", "Dec" };
	static time_t cached = (time_t)-1;
	static struct tm tm;
	time_t sec = (time_t)(it->t / 1000000);

	if (sec != cached) {
		gmtime_r(&sec, &tm);
		cached = sec;
	}
	if (fmt3164)
		fprintf(out, "%s %2d %02d:%02d:%02d mx1 %s\n", mon[tm.tm_mon], tm.tm_mday,
			tm.tm_hour, tm.tm_min, tm.tm_sec, it->text);
	else
		fprintf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%06u+00:00 mx1 %s\n",
			tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			tm.tm_sec, (unsigned)(it->t % 1000000), it->text);
}

static void usage(void)
{
	fprintf(stderr, "usage: swgen [-s SEED] [-n LINES] [-f 3164|3339] [-o LOG] "
		"[-e EXPECTED] [-S STATS]\n");
	exit(2);
}

static void write_stats(FILE *f, uint64_t seed, uint64_t span)
{
	fprintf(f, "seed=%llu\nlines=%llu\nseconds=%llu\n", (unsigned long long)seed,
		(unsigned long long)st.lines, (unsigned long long)span);
	fprintf(f, "offence_lines=%llu\nignored_lines=%llu\nbenign_lines=%llu\n",
		(unsigned long long)model_st.offence_lines, (unsigned long long)model_st.ignored_lines,
		(unsigned long long)(st.lines - model_st.offence_lines));
	fprintf(f, "ignored_whitelist=%llu\nignored_score=%llu\nignored_repeat=%llu\n",
		(unsigned long long)model_st.ignored_whitelist,
		(unsigned long long)model_st.ignored_score,
		(unsigned long long)model_st.ignored_repeat);
	for (int c = 0; c < GC_COUNT; c++)
		fprintf(f, "offences.%s=%llu\nbans.%s=%llu\n", gen_class_name[c],
			(unsigned long long)model_st.offences[c], gen_class_name[c],
			(unsigned long long)model_st.bans[c]);
	fprintf(f, "clients_v4=%llu\nclients_v6=%llu\nbanned_networks=%llu\n",
		(unsigned long long)st.v4_seen, (unsigned long long)st.v6_seen,
		(unsigned long long)model_st.keys_banned);
	fprintf(f, "sessions=%llu\n", (unsigned long long)st.sessions);
}

int main(int argc, char **argv)
{
	uint64_t seed = 7, nlines = 100000, next_session, next_anvil;
	const char *out_path = NULL, *exp_path = NULL, *stats_path = NULL;
	static char outbuf[1 << 20];
	FILE *out = stdout, *expected = NULL;
	int c;

	while ((c = getopt(argc, argv, "s:n:f:o:e:S:")) != -1) {
		char *end;

		switch (c) {
		case 's':
			seed = strtoull(optarg, &end, 10);
			if (*end)
				usage();
			break;
		case 'n':
			nlines = strtoull(optarg, &end, 10);
			if (*end == 'k')
				nlines *= 1000, end++;
			else if (*end == 'M')
				nlines *= 1000000, end++;
			if (*end || nlines == 0)
				usage();
			break;
		case 'f':
			if (strcmp(optarg, "3164") == 0)
				fmt3164 = 1;
			else if (strcmp(optarg, "3339") != 0)
				usage();
			break;
		case 'o': out_path = optarg; break;
		case 'e': exp_path = optarg; break;
		case 'S': stats_path = optarg; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (out_path && !(out = fopen(out_path, "w"))) {
		fprintf(stderr, "swgen: %s: %s\n", out_path, strerror(errno));
		return 1;
	}
	setvbuf(out, outbuf, _IOFBF, sizeof(outbuf));
	if (exp_path && !(expected = fopen(exp_path, "w"))) {
		fprintf(stderr, "swgen: %s: %s\n", exp_path, strerror(errno));
		return 1;
	}
	model_init(expected);
	rng_state = seed;
	pools_build();
	next_session = next_anvil = START_EPOCH * 1000000;
	while (st.lines < nlines) {
		if (nheap && heap[0].t <= next_session && heap[0].t <= next_anvil) {
			struct item it = heap_pop();

			if (it.kind == IT_SESSION) {
				session_run(it.stype, it.t, it.client, it.repeats);
				continue;
			}
			st.lines++;
			write_line(out, &it);
			if (it.cls != GC_NONE)
				model_offence(st.lines, (uint32_t)(it.t / 1000000),
					      clients[it.client].key, clients[it.client].text,
					      clients[it.client].whitelisted, it.cls, it.factor,
					      it.score, it.sess, it.msg);
			if (!clients[it.client].seen) {
				clients[it.client].seen = true;
				if (clients[it.client].family == 4)
					st.v4_seen++;
				else
					st.v6_seen++;
			}
			free(it.text);
		} else if (next_anvil <= next_session) {
			anvil_lines(next_anvil);
			next_anvil += 600ULL * 1000000;
		} else {
			session_new(next_session);
			/* about 2.5 new sessions a second, i.e. 20-odd lines */
			next_session += rng_range(1000, 799000);
		}
	}
	if (fflush(out) != 0 || (out != stdout && fclose(out) != 0)) {
		fprintf(stderr, "swgen: writing the log: %s\n", strerror(errno));
		return 1;
	}
	if (expected && fclose(expected) != 0) {
		fprintf(stderr, "swgen: writing the expectations: %s\n", strerror(errno));
		return 1;
	}
	{
		FILE *f = stats_path ? fopen(stats_path, "w") : NULL;
		uint64_t span = next_session / 1000000 - START_EPOCH;

		if (stats_path && !f) {
			fprintf(stderr, "swgen: %s: %s\n", stats_path, strerror(errno));
			return 1;
		}
		if (f) {
			write_stats(f, seed, span);
			if (fclose(f) != 0)
				return 1;
		}
	}
	while (nheap) {
		struct item it = heap_pop();

		free(it.text);
	}
	return 0;
}
