/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ipset backend: set4 hash:ip, set6 hash:net, through one libipset
 * session for the process's life. libipset has no call that returns a
 * set's creation options as data, so ban_ipset_ensure reads the terse
 * listing ("Type:", "Header:" lines), the same text `ipset list -t`
 * prints: its format is part of ipset's user interface and stable. Nor
 * does it give a set's members as data: those come from the kernel's dump
 * itself, read through libmnl (ban_ipset_members_read).
 *
 * libipset reports a failure as its message text only, no errno: a full
 * set and a missing one are told by those texts (its errcode.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <libipset/ipset.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>

#include "backend.h"
#include "grow.h"
#include "htab.h"
#include "log.h"

/* As large as the kernel makes a dump's messages (32 KiB), and some. */
#define BAN_IPSET_DUMP_BUF (64 * 1024)
/* The kernel's largest timeout: (UINT_MAX / 2) ms, in seconds. */
#define BAN_IPSET_TIMEOUT_MAX 2147483L

struct ban_ipset {
	struct ban_backend base;
	struct ipset_session *ss;
	char *set4, *set6;
	long maxelem, default_timeout;	/* for re-creating a set destroyed under us */
	char *out;		/* listing text captured by ban_ipset_out */
	size_t outlen, outcap;
};

static int ban_ipset_out(struct ipset_session *ss, void *p, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int ban_ipset_out(struct ipset_session *ss, void *p, const char *fmt, ...)
{
	struct ban_ipset *s = p;
	va_list ap;
	char *chunk;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&chunk, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if (grow(&s->out, &s->outcap, s->outlen + (size_t)n + 1, 1, 256) < 0) {
		free(chunk);
		return -1;
	}
	memcpy(s->out + s->outlen, chunk, (size_t)n + 1);
	s->outlen += (size_t)n;
	free(chunk);
	return n;
}

static int ban_ipset_renew(struct ban_ipset *s);

/* libipset's report of a failure, without its trailing newline; the
 * session is renewed (see ban_ipset_renew). */
static const char *ban_ipset_reason(struct ban_ipset *s, char *buf, size_t len)
{
	const char *m = s->ss ? ipset_session_report_msg(s->ss) : NULL;
	size_t n;

	snprintf(buf, len, "%s", m && *m ? m : "unknown error");
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	if (ban_ipset_renew(s) < 0)
		log_error("ipset: cannot reopen the netlink session");
	return buf;
}

/*
 * After a failed command libipset's session is left unusable (the next
 * type lookup fails without a word), so every failure starts a new one.
 */
static int ban_ipset_renew(struct ban_ipset *s)
{
	if (s->ss)
		ipset_session_fini(s->ss);
	s->ss = ipset_session_init(ban_ipset_out, s);
	if (!s->ss)
		return -1;
	/* adding a present address updates its timeout instead of failing */
	ipset_envopt_set(s->ss, IPSET_ENV_EXIST);
	return 0;
}

static struct ban_ipset *ban_ipset_of(struct ban_backend *be)
{
	return (struct ban_ipset *)be;
}

static struct ban_backend *ban_ipset_open(void)
{
	struct ban_ipset *s = calloc(1, sizeof(*s));

	if (!s) {
		log_error("ipset: out of memory");
		return NULL;
	}
	ipset_load_types();
	if (ban_ipset_renew(s) < 0) {
		log_error("ipset: cannot open a netlink session to the kernel's ip_set "
			  "(needs CAP_NET_ADMIN and the ip_set module)");
		free(s);
		return NULL;
	}
	s->base.ops = &ban_ipset_ops;
	return &s->base;
}

static void ban_ipset_close(struct ban_backend *be)
{
	struct ban_ipset *s = ban_ipset_of(be);

	ipset_session_fini(s->ss);
	free(s->set4);
	free(s->set6);
	free(s->out);
	free(s);
}

static int ban_ipset_reset(struct ban_ipset *s)
{
	if (!s->ss && ban_ipset_renew(s) < 0) {
		log_error("ipset: no netlink session to the kernel");
		return -1;
	}
	ipset_session_report_reset(s->ss);
	ipset_data_reset(ipset_session_data(s->ss));
	s->outlen = 0;
	if (s->out)
		s->out[0] = '\0';
	return 0;
}

/* The value after "key " in the listing's "Header:" line, or NULL. */
static const char *ban_ipset_header_word(const char *header, const char *key, char *buf, size_t len)
{
	size_t kl = strlen(key);
	const char *p = header;

	while ((p = strstr(p, key)) != NULL) {
		if ((p == header || p[-1] == ' ') && p[kl] == ' ') {
			size_t n = strcspn(p + kl + 1, " \n");

			if (n >= len)
				n = len - 1;
			memcpy(buf, p + kl + 1, n);
			buf[n] = '\0';
			return buf;
		}
		p += kl;
	}
	return NULL;
}

static int ban_ipset_create(struct ban_ipset *s, const char *name, const char *typename, uint8_t family,
			long maxelem, long default_timeout)
{
	const struct ipset_type *type;
	uint32_t timeout = (uint32_t)(default_timeout > BAN_IPSET_TIMEOUT_MAX ? BAN_IPSET_TIMEOUT_MAX
							   : default_timeout);
	uint32_t max = (uint32_t)maxelem;
	char why[BAN_WHY_MAX];

	if (ban_ipset_reset(s) < 0)
		return -1;
	/* the family first: libipset picks the type's revision by it */
	if (ipset_session_data_set(s->ss, IPSET_SETNAME, name) < 0 ||
	    ipset_session_data_set(s->ss, IPSET_OPT_TYPENAME, typename) < 0 ||
	    ipset_session_data_set(s->ss, IPSET_OPT_FAMILY, &family) < 0)
		goto fail;
	type = ipset_type_get(s->ss, IPSET_CMD_CREATE);
	if (!type)
		goto fail;
	if (ipset_session_data_set(s->ss, IPSET_OPT_TYPE, type) < 0 ||
	    ipset_session_data_set(s->ss, IPSET_OPT_TIMEOUT, &timeout) < 0 ||
	    ipset_session_data_set(s->ss, IPSET_OPT_MAXELEM, &max) < 0 ||
	    ipset_cmd(s->ss, IPSET_CMD_CREATE, 0) < 0)
		goto fail;
	log_info("ipset: created %s (%s family %s timeout %u maxelem %ld)", name, typename,
		 family == NFPROTO_IPV4 ? "inet" : "inet6", timeout, maxelem);
	return 0;
fail:
	log_error("ipset: cannot create set %s (%s family %s timeout maxelem %ld): %s", name,
		  typename, family == NFPROTO_IPV4 ? "inet" : "inet6", maxelem,
		  ban_ipset_reason(s, why, sizeof(why)));
	return -1;
}

/* 0 when the set exists and will do, 1 when it is missing, -1 (logged) otherwise. */
static int ban_ipset_check_one(struct ban_ipset *s, const char *name, const char *typename,
			   uint8_t family, long maxelem)
{
	const char *fam = family == NFPROTO_IPV4 ? "inet" : "inet6";
	char why[BAN_WHY_MAX], got_type[64] = "", got_family[16] = "", got_max[32] = "", tbuf[32];
	const char *header, *p;

	if (ban_ipset_reset(s) < 0)
		return -1;
	ipset_envopt_set(s->ss, IPSET_ENV_LIST_HEADER);
	ipset_session_output(s->ss, IPSET_LIST_PLAIN);
	if (ipset_session_data_set(s->ss, IPSET_SETNAME, name) < 0) {
		log_error("ipset: \"%s\" is not a valid set name", name);
		return -1;
	}
	if (ipset_cmd(s->ss, IPSET_CMD_LIST, 0) < 0) {
		const char *reason = ban_ipset_reason(s, why, sizeof(why));

		if (strstr(reason, "does not exist"))
			return 1;
		log_error("ipset: cannot read set %s: %s", name, reason);
		return -1;
	}
	ipset_envopt_unset(s->ss, IPSET_ENV_LIST_HEADER);
	ipset_session_output(s->ss, IPSET_LIST_NONE);
	p = s->out ? strstr(s->out, "Type: ") : NULL;
	if (p)
		sscanf(p, "Type: %63s", got_type);
	header = s->out ? strstr(s->out, "Header: ") : NULL;
	if (header) {
		ban_ipset_header_word(header, "family", got_family, sizeof(got_family));
		ban_ipset_header_word(header, "maxelem", got_max, sizeof(got_max));
	}
	if (strcmp(got_type, typename) != 0 || strcmp(got_family, fam) != 0) {
		log_error("ipset: set %s exists as %s family %s, but spamwrath needs %s family %s "
			  "with timeout; destroy it (ipset destroy %s, after removing the firewall "
			  "rules that use it) or name another set in the ipset section",
			  name, *got_type ? got_type : "(unknown type)",
			  *got_family ? got_family : "(unknown)", typename, fam, name);
		return -1;
	}
	if (!header || !ban_ipset_header_word(header, "timeout", tbuf, sizeof(tbuf))) {
		log_error("ipset: set %s exists as %s family %s without timeout support, but "
			  "spamwrath needs %s family %s with timeout (bans must expire); recreate it "
			  "with \"timeout 0\" or let spamwrathd create it", name, got_type, got_family,
			  typename, fam);
		return -1;
	}
	if (*got_max && strtol(got_max, NULL, 10) != maxelem)
		log_info("ipset: set %s exists with maxelem %s (configured %ld); keeping it",
			 name, got_max, maxelem);
	return 0;
}

static int ban_ipset_use(struct ban_backend *be, const struct config *c)
{
	struct ban_ipset *s = ban_ipset_of(be);
	char *a = strdup(c->set4), *b = strdup(c->set6);

	if (!a || !b) {
		free(a);
		free(b);
		log_error("ipset: out of memory");
		return -1;
	}
	free(s->set4);
	free(s->set6);
	s->set4 = a;
	s->set6 = b;
	return 0;
}

static int ban_ipset_ensure(struct ban_backend *be, const struct config *c)
{
	struct ban_ipset *s = ban_ipset_of(be);
	const char *set4 = c->set4, *set6 = c->set6;
	long maxelem = c->ipset_maxelem, default_timeout = c->bantime;
	/* both checked before either is created: a refusal changes nothing */
	int r4 = ban_ipset_check_one(s, set4, "hash:ip", NFPROTO_IPV4, maxelem);
	int r6 = ban_ipset_check_one(s, set6, "hash:net", NFPROTO_IPV6, maxelem);

	if (r4 < 0 || r6 < 0)
		return -1;
	s->maxelem = maxelem;
	s->default_timeout = default_timeout;
	if (r4 > 0 && ban_ipset_create(s, set4, "hash:ip", NFPROTO_IPV4, maxelem, default_timeout) < 0)
		return -1;
	if (r6 > 0 && ban_ipset_create(s, set6, "hash:net", NFPROTO_IPV6, maxelem, default_timeout) < 0)
		return -1;
	return 0;
}

/* An add or delete of one element; a failure's reason goes to why. */
static int ban_ipset_adt(struct ban_ipset *s, enum ipset_cmd cmd, const struct addr *a,
			 long timeout, char why[BAN_WHY_MAX])
{
	const char *set = a->family == 4 ? s->set4 : s->set6;
	uint8_t family = a->family == 4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
	uint8_t cidr = a->prefix;
	uint32_t t = (uint32_t)timeout;

	if (ban_ipset_reset(s) < 0) {
		snprintf(why, BAN_WHY_MAX, "no netlink session to the kernel");
		return -1;
	}
	if (ipset_session_data_set(s->ss, IPSET_SETNAME, set) < 0 ||
	    !ipset_type_get(s->ss, cmd) ||
	    ipset_session_data_set(s->ss, IPSET_OPT_FAMILY, &family) < 0 ||
	    ipset_session_data_set(s->ss, IPSET_OPT_IP, a->bytes) < 0 ||
	    (a->prefix < addr_width(a) && ipset_session_data_set(s->ss, IPSET_OPT_CIDR, &cidr) < 0) ||
	    (cmd == IPSET_CMD_ADD && ipset_session_data_set(s->ss, IPSET_OPT_TIMEOUT, &t) < 0) ||
	    ipset_cmd(s->ss, cmd, 0) < 0) {
		ban_ipset_reason(s, why, BAN_WHY_MAX);
		return -1;
	}
	return 0;
}

/* What a failed add's message means. libipset passes on no errno: its
 * message texts (errcode.c) are what it gives. */
static enum ban_refusal ban_ipset_refusal(const char *why)
{
	return strstr(why, "is full") ? BAN_FULL : BAN_REFUSED;
}

static bool ban_ipset_gone(const char *why)
{
	return strstr(why, "The set with the given name does not exist") != NULL;
}

/*
 * The add failed because the set is gone (destroyed by hand): creates it
 * again and adds once more, so a ban is not lost to a stray `ipset
 * destroy`. Only then is the set looked at: listing even a header costs
 * the kernel a walk of a large set.
 */
static int ban_ipset_recreate(struct ban_ipset *s, const struct addr *a, long t,
			      char why[BAN_WHY_MAX])
{
	bool v4 = a->family == 4;
	const char *name = v4 ? s->set4 : s->set6;
	const char *type = v4 ? "hash:ip" : "hash:net";
	uint8_t family = v4 ? NFPROTO_IPV4 : NFPROTO_IPV6;

	if (ban_ipset_check_one(s, name, type, family, s->maxelem) != 1)
		return BAN_REFUSED;
	log_warn("ipset: set %s disappeared; creating it again", name);
	if (ban_ipset_create(s, name, type, family, s->maxelem, s->default_timeout) < 0) {
		snprintf(why, BAN_WHY_MAX, "set %s is gone and cannot be created again", name);
		return BAN_REFUSED;
	}
	return ban_ipset_adt(s, IPSET_CMD_ADD, a, t, why) == 0 ? 0 : ban_ipset_refusal(why);
}

static int ban_ipset_add(struct ban_backend *be, const struct addr *a, long timeout,
			 char why[BAN_WHY_MAX])
{
	struct ban_ipset *s = ban_ipset_of(be);

	if (ban_ipset_adt(s, IPSET_CMD_ADD, a, timeout, why) == 0)
		return 0;
	if (ban_ipset_gone(why))
		return ban_ipset_recreate(s, a, timeout, why);
	return ban_ipset_refusal(why);
}

static int ban_ipset_del(struct ban_backend *be, const struct addr *a)
{
	struct ban_ipset *s = ban_ipset_of(be);
	char why[BAN_WHY_MAX], text[ADDR_STRLEN];

	/* with IPSET_ENV_EXIST (always set) deleting an absent entry succeeds */
	if (ban_ipset_adt(s, IPSET_CMD_DEL, a, 0, why) == 0)
		return 0;
	log_error("ipset: cannot delete %s from %s: %s", addr_format(a, text),
		  a->family == 4 ? s->set4 : s->set6, why);
	return -1;
}

static const char *ban_ipset_set_name(const struct ban_backend *be, int family)
{
	const struct ban_ipset *s = (const struct ban_ipset *)be;

	return family == 4 ? s->set4 : s->set6;
}

/* A set's members from one listing, by address. */
struct ban_ipset_members {
	struct addr *a;
	long *left;
	size_t n, cap;
	struct htab idx;
};

/* The address's 16 bytes (htab's fast length) and its prefix: family and
 * unused bytes follow from them. */
static uint32_t ban_ipset_members_hash(const struct addr *a)
{
	return htab_hash(a->bytes, sizeof(a->bytes)) ^ (uint32_t)a->prefix * 0x9e3779b1u;
}

static uint32_t ban_ipset_members_rehash(const void *ctx, uint32_t id)
{
	return ban_ipset_members_hash(&((const struct ban_ipset_members *)ctx)->a[id]);
}

static bool ban_ipset_members_eq(const void *ctx, uint32_t id, const void *key)
{
	return memcmp(&((const struct ban_ipset_members *)ctx)->a[id], key,
		      sizeof(struct addr)) == 0;
}

static int ban_ipset_members_add(struct ban_ipset_members *m, const struct addr *a, long left)
{
	if (m->n == m->cap) {
		size_t cap = m->cap, capl = m->cap;

		/* two arrays of the same capacity: the second grows as the first did */
		if (grow(&m->a, &cap, m->n + 1, sizeof(*m->a), 1024) < 0 ||
		    grow(&m->left, &capl, cap, sizeof(*m->left), cap) < 0)
			return -1;
		m->cap = cap;
	}
	m->a[m->n] = *a;
	m->left[m->n] = left;
	if (htab_insert(&m->idx, ban_ipset_members_hash(a), (uint32_t)m->n,
			ban_ipset_members_rehash, m) < 0)
		return -1;
	m->n++;
	return 0;
}

/* One member of a dump: IPSET_ATTR_DATA { IP { IPADDR_IPV4|6 }, CIDR, TIMEOUT }. */
static int ban_ipset_dump_member(const struct nlattr *data, struct ban_ipset_members *m)
{
	const struct nlattr *a, *b;
	struct addr key = { .family = 0 };
	long left = 0;

	mnl_attr_for_each_nested(a, data) {
		switch (mnl_attr_get_type(a)) {
		case IPSET_ATTR_IP:
			mnl_attr_for_each_nested(b, a) {
				uint16_t len = mnl_attr_get_payload_len(b);

				if (mnl_attr_get_type(b) == IPSET_ATTR_IPADDR_IPV4 && len == 4) {
					key.family = 4;
					key.prefix = 32;
				} else if (mnl_attr_get_type(b) == IPSET_ATTR_IPADDR_IPV6 && len == 16) {
					key.family = 6;
					key.prefix = 128;
				} else {
					continue;
				}
				memcpy(key.bytes, mnl_attr_get_payload(b), len);
			}
			break;
		case IPSET_ATTR_CIDR:
			if (mnl_attr_get_payload_len(a) >= 1)
				key.prefix = mnl_attr_get_u8(a);
			break;
		case IPSET_ATTR_TIMEOUT:
			if (mnl_attr_get_payload_len(a) == 4)
				left = (long)ntohl(mnl_attr_get_u32(a));
			break;
		}
	}
	if (key.family == 0 || key.prefix > addr_width(&key))
		return 0;	/* not an element we could have added */
	return ban_ipset_members_add(m, &key, left);
}

static int ban_ipset_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a, *d;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != IPSET_ATTR_ADT)
			continue;
		mnl_attr_for_each_nested(d, a)
			if (mnl_attr_get_type(d) == IPSET_ATTR_DATA &&
			    ban_ipset_dump_member(d, data) < 0)
				return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

/*
 * The members of set, from the kernel's dump of it read here through
 * libmnl: libipset would print every member as text to be parsed again,
 * a tenth of a second for 100,000 members at each restart.
 */
static int ban_ipset_members_read(const char *set, struct ban_ipset_members *m)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	char *buf = malloc(BAN_IPSET_DUMP_BUF);
	struct nlmsghdr *nlh;
	struct nfgenmsg *g;
	uint32_t seq = (uint32_t)time(NULL);
	ssize_t r = -1;
	int rc = MNL_CB_ERROR;

	if (!nl || !buf || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_IPSET << 8) | IPSET_CMD_LIST;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = NFPROTO_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = 0;
	mnl_attr_put_u8(nlh, IPSET_ATTR_PROTOCOL, IPSET_PROTOCOL);
	mnl_attr_put_strz(nlh, IPSET_ATTR_SETNAME, set);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	while ((r = mnl_socket_recvfrom(nl, buf, BAN_IPSET_DUMP_BUF)) > 0) {
		rc = mnl_cb_run(buf, (size_t)r, seq, mnl_socket_get_portid(nl), ban_ipset_dump_cb, m);
		if (rc <= MNL_CB_STOP)
			break;
	}
out:
	if (rc != MNL_CB_STOP)
		log_error("ipset: cannot list set %s: %s", set, errno ? strerror(errno) :
			  "no answer from the kernel");
	if (nl)
		mnl_socket_close(nl);
	free(buf);
	return rc == MNL_CB_STOP ? 0 : -1;
}

/* Which bans of v are in their set: one listing of it, looked up by address. */
static int ban_ipset_present(struct ban_backend *be, const struct banset_entry *const *v,
			     size_t n, long *left)
{
	struct ban_ipset *s = ban_ipset_of(be);
	struct ban_ipset_members m = { .a = NULL };
	int rc = -1;

	if (n == 0)
		return 0;
	if (htab_init(&m.idx, n) < 0) {	/* the set holds about as many */
		log_error("ipset: out of memory");
		return -1;
	}
	if (ban_ipset_members_read(v[0]->a.family == 4 ? s->set4 : s->set6, &m) == 0) {
		for (size_t i = 0; i < n; i++) {
			uint32_t k = m.n ? htab_find(&m.idx, ban_ipset_members_hash(&v[i]->a),
						     ban_ipset_members_eq, &m, &v[i]->a) : HTAB_NONE;

			left[i] = k == HTAB_NONE ? -1 : m.left[k];
		}
		rc = 0;
	}
	htab_free(&m.idx);
	free(m.a);
	free(m.left);
	return rc;
}

/* Queues the add of e (its line number: lineno) in the session's batch. */
static int ban_ipset_queue(struct ban_ipset *s, const struct banset_entry *e, time_t now,
			   uint32_t lineno)
{
	const struct addr *a = &e->a;
	uint8_t family = a->family == 4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
	uint8_t cidr = a->prefix;
	long left = (long)(e->until - now);
	uint32_t t = (uint32_t)(left > BAN_IPSET_TIMEOUT_MAX ? BAN_IPSET_TIMEOUT_MAX :
				left < 1 ? 1 : left);

	if (ipset_session_data_set(s->ss, IPSET_SETNAME, a->family == 4 ? s->set4 : s->set6) < 0 ||
	    !ipset_type_get(s->ss, IPSET_CMD_ADD) ||
	    ipset_session_data_set(s->ss, IPSET_OPT_FAMILY, &family) < 0 ||
	    ipset_session_data_set(s->ss, IPSET_OPT_IP, a->bytes) < 0 ||
	    (a->prefix < addr_width(a) && ipset_session_data_set(s->ss, IPSET_OPT_CIDR, &cidr) < 0) ||
	    ipset_session_data_set(s->ss, IPSET_OPT_TIMEOUT, &t) < 0)
		return -1;
	return ipset_cmd(s->ss, IPSET_CMD_ADD, lineno);
}

/*
 * The element a failed batch stopped at: libipset prefixes the kernel's
 * reason with "Error in line N: " (the line number we gave the add), and
 * the kernel stops a batch at its first failure, with every earlier
 * element in. why gets the reason alone. The element, or n when unknown.
 */
static size_t ban_ipset_failed_at(const char *msg, size_t from, size_t n, char why[BAN_WHY_MAX])
{
	unsigned long line;
	char *end;
	const char *p = strstr(msg, "Error in line ");

	snprintf(why, BAN_WHY_MAX, "%s", msg);
	if (!p)
		return n;
	line = strtoul(p + strlen("Error in line "), &end, 10);
	if (end[0] == ':' && end[1] == ' ')
		snprintf(why, BAN_WHY_MAX, "%s", end + 2);
	return line >= from + 1 && line <= n ? line - 1 : n;
}

/*
 * Adds v[0..n) in batches: libipset gathers the adds of one commit into
 * few netlink messages (a line number on each makes it do so). When the
 * kernel refuses one, the batch resumes after it; when the set is full,
 * the rest of it is refused without asking. Present ones take the new
 * timeout (IPSET_ENV_EXIST is set).
 */
static int ban_ipset_add_many(struct ban_backend *be, const struct banset_entry *const *v,
			      size_t n, time_t now, bool update, ban_refused_fn *refused, void *ctx)
{
	struct ban_ipset *s = ban_ipset_of(be);
	char msg[BAN_WHY_MAX], why[BAN_WHY_MAX];
	size_t from = 0;

	(void)update;	/* IPSET_ENV_EXIST: a present member takes the new timeout anyway */

	while (from < n) {
		size_t i, at;
		int rc = 0;

		if (ban_ipset_reset(s) < 0)
			return -1;
		for (i = from; i < n && rc == 0; i++)
			rc = ban_ipset_queue(s, v[i], now, (uint32_t)i + 1);
		if (rc == 0)
			rc = ipset_commit(s->ss);
		if (rc == 0)
			return 0;
		at = ban_ipset_failed_at(ban_ipset_reason(s, msg, sizeof(msg)), from, n, why);
		if (at == n) {
			/* not one element's fault: nothing is known to be in */
			log_error("ipset: adding %zu bans failed: %s", n - from, why);
			if (from == 0)
				return -1;
			for (i = from; i < n; i++)
				refused(ctx, i, BAN_REFUSED, why);
			return 0;
		}
		refused(ctx, at, ban_ipset_refusal(why), why);
		if (ban_ipset_refusal(why) == BAN_FULL) {
			for (i = at + 1; i < n; i++)
				refused(ctx, i, BAN_FULL, why);
			return 0;
		}
		from = at + 1;
	}
	return 0;
}

const struct ban_ops ban_ipset_ops = {
	.name = "ipset",
	.timeout_max = BAN_IPSET_TIMEOUT_MAX,
	.open = ban_ipset_open,
	.close = ban_ipset_close,
	.ensure = ban_ipset_ensure,
	.use = ban_ipset_use,
	.set_name = ban_ipset_set_name,
	.add = ban_ipset_add,
	.del = ban_ipset_del,
	.present = ban_ipset_present,
	.add_many = ban_ipset_add_many,
};
