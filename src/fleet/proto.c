/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The signature is checked before any field is read: whoever lacks the key
 * reaches nothing but the comparison, which takes the same time whatever
 * the digits (nettle's memeql_sec). The key's HMAC state is computed once;
 * each message copies it (about a microsecond a message).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nettle/memops.h>

#include "proto.h"
#include "number.h"

#define PROTO_DOMAIN "spamwrath-fleet 1\n"
#define PROTO_FIELDS_MAX 16

static const char proto_hex[] = "0123456789abcdef";

static const char *const proto_kinds[] = {
	[PROTO_BAN] = "ban", [PROTO_UNBAN] = "unban", [PROTO_OFFENCE] = "off",
	[PROTO_HEARTBEAT] = "hb",
};

uint64_t proto_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t proto_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int proto_key_set(struct proto_key *k, const void *key, size_t len, const char *ns,
		  const char *host)
{
	if (len < PROTO_KEY_MIN || !config_fleet_name_ok(ns) || !config_fleet_name_ok(host))
		return -1;
	memset(k, 0, sizeof(*k));
	hmac_sha256_set_key(&k->base, len, key);
	strcpy(k->ns, ns);
	strcpy(k->host, host);
	k->seq = proto_now_us();
	return 0;
}

void proto_key_clear(struct proto_key *k)
{
	/* volatile: the compiler must not drop a store nobody reads */
	volatile unsigned char *p = (volatile unsigned char *)&k->base;

	for (size_t i = 0; i < sizeof(k->base); i++)
		p[i] = 0;
}

static int proto_secret_fd(int fd, const char *path, const char *what, unsigned char *buf,
			   size_t cap, size_t *len, struct diag *d)
{
	struct stat st;
	ssize_t r;
	size_t n = 0;

	if (fstat(fd, &st) < 0) {
		diag_error(d, path, 0, "%s: %s", what, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		diag_error(d, path, 0, "%s: not a regular file", what);
		return -1;
	}
	if (st.st_mode & 077) {
		diag_error(d, path, 0, "%s: mode %04o lets group or others at a secret; make it "
			   "readable by spamwrathd alone (chmod 600, owned by its user)", what,
			   (unsigned)(st.st_mode & 07777));
		return -1;
	}
	while ((r = read(fd, buf + n, cap + 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			diag_error(d, path, 0, "%s: %s", what, strerror(errno));
			return -1;
		}
		n += (size_t)r;
		if (n > cap) {
			diag_error(d, path, 0, "%s: longer than %zu bytes", what, cap);
			return -1;
		}
	}
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	*len = n;
	return 0;
}

int proto_read_secret(const char *path, const char *what, unsigned char *buf, size_t cap,
		      size_t *len, struct diag *d)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), rc;

	if (fd < 0) {
		diag_error(d, path, 0, "%s: %s", what, strerror(errno));
		return -1;
	}
	rc = proto_secret_fd(fd, path, what, buf, cap, len, d);
	close(fd);
	return rc;
}

int proto_key_load(struct proto_key *k, const char *path, const char *ns, const char *host,
		   struct diag *d)
{
	unsigned char buf[PROTO_KEY_MAX + 1];
	size_t len = 0;
	int rc = proto_read_secret(path, "key_file", buf, PROTO_KEY_MAX, &len, d);

	if (rc == 0 && len < PROTO_KEY_MIN) {
		diag_error(d, path, 0, "key_file: the key has %zu bytes, fewer than %d (make one "
			   "with: head -c 32 /dev/urandom | base64)", len, PROTO_KEY_MIN);
		rc = -1;
	}
	if (rc == 0 && proto_key_set(k, buf, len, ns, host) < 0) {
		diag_error(d, path, 0, "key_file: namespace or host is not a valid name");
		rc = -1;
	}
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

/* --- writing --- */

struct proto_out {
	char *p, *end;
	bool full;
};

static void proto_put(struct proto_out *o, const char *s, size_t n)
{
	if (o->full || (size_t)(o->end - o->p) < n) {
		o->full = true;
		return;
	}
	memcpy(o->p, s, n);
	o->p += n;
}

static void proto_put_text(struct proto_out *o, const char *s, size_t max)
{
	char esc[3] = { '%' };

	proto_put(o, " ", 1);
	if (*s == '\0') {
		proto_put(o, "-", 1);
		return;
	}
	for (size_t i = 0; s[i] && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c >= 0x7f || c == '%') {
			esc[1] = proto_hex[c >> 4];
			esc[2] = proto_hex[c & 15];
			proto_put(o, esc, 3);
		} else {
			proto_put(o, (const char *)&c, 1);
		}
	}
}

static void proto_put_u64(struct proto_out *o, uint64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), " %llu", (unsigned long long)v);

	proto_put(o, buf, (size_t)n);
}

static void proto_put_addr(struct proto_out *o, const struct addr *a)
{
	char buf[ADDR_STRLEN];

	proto_put_text(o, addr_format(a, buf), ADDR_STRLEN);
}

static void proto_body(struct proto_out *o, const struct proto_msg *m)
{
	proto_put(o, proto_kinds[m->kind], strlen(proto_kinds[m->kind]));
	proto_put_text(o, m->sender, PROTO_NAME_MAX);
	proto_put_u64(o, m->seq);
	proto_put_u64(o, m->time_ms);
	switch (m->kind) {
	case PROTO_BAN:
		proto_put_addr(o, &m->addr);
		proto_put_u64(o, m->start);
		proto_put_u64(o, m->until);
		proto_put_text(o, class_name(m->cls), 32);
		proto_put_text(o, m->pattern, PROTO_TEXT_MAX);
		proto_put_text(o, m->origin, PROTO_NAME_MAX);
		proto_put_u64(o, m->offences);
		proto_put_u64(o, m->earlier);
		break;
	case PROTO_UNBAN:
		proto_put_addr(o, &m->addr);
		proto_put_u64(o, m->forget);
		break;
	case PROTO_OFFENCE:
		proto_put_addr(o, &m->addr);
		proto_put_u64(o, m->weight);
		proto_put_text(o, class_name(m->cls), 32);
		proto_put_text(o, m->pattern, PROTO_TEXT_MAX);
		break;
	case PROTO_HEARTBEAT:
		proto_put_u64(o, m->active);
		proto_put_u64(o, m->lag_ms);
		proto_put_u64(o, m->received);
		break;
	}
}

static void proto_mac(const struct proto_key *k, const char *body, size_t len,
		      char hex[PROTO_SIG_HEX])
{
	struct hmac_sha256_ctx c = k->base;
	uint8_t mac[SHA256_DIGEST_SIZE];

	hmac_sha256_update(&c, sizeof(PROTO_DOMAIN) - 1, (const uint8_t *)PROTO_DOMAIN);
	hmac_sha256_update(&c, strlen(k->ns), (const uint8_t *)k->ns);
	hmac_sha256_update(&c, 1, (const uint8_t *)"\n");
	hmac_sha256_update(&c, len, (const uint8_t *)body);
	hmac_sha256_digest(&c, sizeof(mac), mac);
	for (size_t i = 0; i < sizeof(mac); i++) {
		hex[2 * i] = proto_hex[mac[i] >> 4];
		hex[2 * i + 1] = proto_hex[mac[i] & 15];
	}
}

/* Writes the header before the body already at out + PROTO_BODY_OFFSET. */
static size_t proto_head(const struct proto_key *k, char *out, size_t blen)
{
	memcpy(out, PROTO_MAGIC, sizeof(PROTO_MAGIC) - 1);
	proto_mac(k, out + PROTO_BODY_OFFSET, blen, out + sizeof(PROTO_MAGIC) - 1);
	out[PROTO_BODY_OFFSET - 1] = ' ';
	out[PROTO_BODY_OFFSET + blen] = '\0';
	return PROTO_BODY_OFFSET + blen;
}

size_t proto_sign(struct proto_key *k, struct proto_msg *m, uint64_t now_ms, char *out,
		  size_t cap)
{
	struct proto_out o = { out + PROTO_BODY_OFFSET, out + cap, cap <= PROTO_BODY_OFFSET };
	uint64_t us = now_ms * 1000u;

	k->seq = us > k->seq ? us : k->seq + 1;
	strcpy(m->sender, k->host);
	m->seq = k->seq;
	m->time_ms = now_ms;
	proto_body(&o, m);
	if (o.full || o.p == o.end || (size_t)(o.p - out) > PROTO_MSG_MAX)
		return 0;
	return proto_head(k, out, (size_t)(o.p - out) - PROTO_BODY_OFFSET);
}

size_t proto_seal(const struct proto_key *k, const char *body, size_t len, char *out, size_t cap)
{
	if (PROTO_BODY_OFFSET + len >= cap)
		return 0;
	memcpy(out + PROTO_BODY_OFFSET, body, len);
	return proto_head(k, out, len);
}

/* --- reading --- */

struct proto_fields {
	const char *f[PROTO_FIELDS_MAX];
	size_t len[PROTO_FIELDS_MAX];
	size_t n;
};

/* Splits at single spaces; an empty field or too many is malformed. */
static int proto_split(const char *s, size_t len, struct proto_fields *f)
{
	size_t start = 0;

	f->n = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != ' ')
			continue;
		if (i == start || f->n == PROTO_FIELDS_MAX)
			return -1;
		f->f[f->n] = s + start;
		f->len[f->n++] = i - start;
		start = i + 1;
	}
	return 0;
}

static int proto_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 20)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static int proto_u32(const char *s, size_t len, uint32_t *out)
{
	uint64_t v;

	if (proto_u64(s, len, UINT32_MAX, &v) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* A percent-encoded field into out (at most max bytes); "-" is empty. */
static int proto_text(const char *s, size_t len, char *out, size_t max)
{
	size_t n = 0;

	if (len == 1 && s[0] == '-') {
		out[0] = '\0';
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			c = i + 2 < len ? number_hex_byte(s + i + 1) : -1;
			if (c <= 0)
				return -1;	/* not two hex digits, or a NUL */
			i += 2;
		}
		if (n == max)
			return -1;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return 0;
}

static int proto_class(const char *s, size_t len, enum class_id *out)
{
	char name[33];
	int c;

	if (proto_text(s, len, name, sizeof(name) - 1) < 0)
		return -1;
	if (strcmp(name, class_name(CLASS_MANUAL)) == 0) {
		*out = CLASS_MANUAL;
		return 0;
	}
	c = class_from_name(name);
	if (c < 0 || c == CLASS_CONTEXT)
		return -1;
	*out = (enum class_id)c;
	return 0;
}

static enum proto_error proto_addr(const char *s, size_t len, struct addr *a)
{
	char buf[ADDR_STRLEN];

	if (proto_text(s, len, buf, sizeof(buf) - 1) < 0 ||
	    addr_parse_net(buf, strlen(buf), a) < 0)
		return PROTO_E_ADDRESS;
	return PROTO_OK;
}

static enum proto_error proto_ban(const struct proto_fields *f, struct proto_msg *m)
{
	uint64_t v;

	if (f->n != 12)
		return PROTO_E_MALFORMED;
	if (proto_addr(f->f[4], f->len[4], &m->addr) != PROTO_OK)
		return PROTO_E_ADDRESS;
	if (proto_u64(f->f[5], f->len[5], UINT32_MAX, &m->start) < 0 ||
	    proto_u64(f->f[6], f->len[6], UINT32_MAX, &m->until) < 0 || m->until <= m->start ||
	    proto_class(f->f[7], f->len[7], &m->cls) < 0 ||
	    proto_text(f->f[8], f->len[8], m->pattern, PROTO_TEXT_MAX) < 0 ||
	    proto_text(f->f[9], f->len[9], m->origin, PROTO_NAME_MAX) < 0 ||
	    !config_fleet_name_ok(m->origin) || proto_u32(f->f[10], f->len[10], &m->offences) < 0 ||
	    proto_u64(f->f[11], f->len[11], 65535, &v) < 0)
		return PROTO_E_MALFORMED;
	m->earlier = (uint32_t)v;
	return PROTO_OK;
}

static enum proto_error proto_rest(const struct proto_fields *f, struct proto_msg *m)
{
	uint64_t v;

	switch (m->kind) {
	case PROTO_BAN:
		return proto_ban(f, m);
	case PROTO_UNBAN:
		if (f->n != 6)
			return PROTO_E_MALFORMED;
		if (proto_addr(f->f[4], f->len[4], &m->addr) != PROTO_OK)
			return PROTO_E_ADDRESS;
		if (proto_u64(f->f[5], f->len[5], 1, &v) < 0)
			return PROTO_E_MALFORMED;
		m->forget = v == 1;
		return PROTO_OK;
	case PROTO_OFFENCE:
		if (f->n != 8)
			return PROTO_E_MALFORMED;
		if (proto_addr(f->f[4], f->len[4], &m->addr) != PROTO_OK)
			return PROTO_E_ADDRESS;
		if (proto_u32(f->f[5], f->len[5], &m->weight) < 0 || m->weight == 0 ||
		    proto_class(f->f[6], f->len[6], &m->cls) < 0 ||
		    proto_text(f->f[7], f->len[7], m->pattern, PROTO_TEXT_MAX) < 0)
			return PROTO_E_MALFORMED;
		return PROTO_OK;
	case PROTO_HEARTBEAT:
		if (f->n != 7 || proto_u64(f->f[4], f->len[4], UINT64_MAX, &m->active) < 0 ||
		    proto_u64(f->f[5], f->len[5], UINT64_MAX, &m->lag_ms) < 0 ||
		    proto_u64(f->f[6], f->len[6], UINT64_MAX, &m->received) < 0)
			return PROTO_E_MALFORMED;
		return PROTO_OK;
	}
	return PROTO_E_MALFORMED;
}

enum proto_error proto_read(const struct proto_key *k, const char *buf, size_t len,
			    struct proto_msg *m)
{
	const char *body = buf + PROTO_BODY_OFFSET;
	size_t blen = len - PROTO_BODY_OFFSET;
	char want[PROTO_SIG_HEX];
	struct proto_fields f;
	int kind = -1;

	memset(m, 0, sizeof(*m));
	if (len > PROTO_MSG_MAX || len < sizeof(PROTO_MAGIC) - 1 ||
	    memcmp(buf, PROTO_MAGIC, sizeof(PROTO_MAGIC) - 1) != 0)
		return PROTO_E_MALFORMED;
	if (len <= PROTO_BODY_OFFSET || buf[PROTO_BODY_OFFSET - 1] != ' ')
		return PROTO_E_SIGNATURE;
	proto_mac(k, body, blen, want);
	if (!memeql_sec(want, buf + sizeof(PROTO_MAGIC) - 1, PROTO_SIG_HEX))
		return PROTO_E_SIGNATURE;
	/* signed by a key holder: from here on, unreadable means another version */
	if (memchr(body, '\0', blen) || proto_split(body, blen, &f) < 0 || f.n < 4)
		return PROTO_E_MALFORMED;
	for (size_t i = 0; i < sizeof(proto_kinds) / sizeof(proto_kinds[0]); i++)
		if (f.len[0] == strlen(proto_kinds[i]) && memcmp(f.f[0], proto_kinds[i], f.len[0]) == 0)
			kind = (int)i;
	if (kind < 0 || proto_text(f.f[1], f.len[1], m->sender, PROTO_NAME_MAX) < 0 ||
	    !config_fleet_name_ok(m->sender) || proto_u64(f.f[2], f.len[2], UINT64_MAX, &m->seq) < 0 ||
	    proto_u64(f.f[3], f.len[3], UINT64_MAX, &m->time_ms) < 0)
		return PROTO_E_MALFORMED;
	m->kind = (enum proto_kind)kind;
	return proto_rest(&f, m);
}

/* --- replays --- */

enum proto_error proto_fresh(struct proto_peers *p, const struct proto_msg *m, uint64_t now_ms)
{
	struct proto_peer *peer = NULL;

	if (m->time_ms + PROTO_SKEW_MS < now_ms || m->time_ms > now_ms + PROTO_SKEW_MS)
		return PROTO_E_REPLAY;
	for (size_t i = 0; i < p->n && !peer; i++)
		if (strcmp(p->v[i].name, m->sender) == 0)
			peer = &p->v[i];
	if (peer && m->seq <= peer->seq)
		return PROTO_E_REPLAY;
	if (!peer && p->n < PROTO_PEERS_MAX) {
		peer = &p->v[p->n++];
	} else if (!peer) {
		peer = &p->v[0];
		for (size_t i = 1; i < p->n; i++)
			if (p->v[i].seen_ms < peer->seen_ms)
				peer = &p->v[i];
	}
	strcpy(peer->name, m->sender);
	peer->seq = m->seq;
	peer->seen_ms = now_ms;
	return PROTO_OK;
}

const char *proto_error_name(enum proto_error e)
{
	switch (e) {
	case PROTO_OK:
		return "ok";
	case PROTO_E_MALFORMED:
		return "malformed";
	case PROTO_E_SIGNATURE:
		return "signature";
	case PROTO_E_ADDRESS:
		return "address";
	case PROTO_E_REPLAY:
		return "replay";
	}
	return "?";
}
