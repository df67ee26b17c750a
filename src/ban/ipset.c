/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ipset backend: set4 hash:ip, set6 hash:net, through one libipset
 * session for the process's life. libipset has no call that returns a
 * set's creation options as data, so ban_ipset_ensure reads the terse
 * listing ("Type:", "Header:" lines), the same text `ipset list -t`
 * prints: its format is part of ipset's user interface and stable.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libipset/ipset.h>

#include "grow.h"
#include "backend.h"
#include "log.h"

/* The kernel's largest timeout: (UINT_MAX / 2) ms, in seconds. */
#define BAN_IPSET_TIMEOUT_MAX 2147483L

struct ban_ipset {
	struct ban_backend base;
	struct ipset_session *ss;
	char *set4, *set6;
	long maxelem, default_timeout;	/* for re-creating a set destroyed under us */
	char why[256];		/* the last add or delete's failure */
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
	char why[256];

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
	char why[256], got_type[64] = "", got_family[16] = "", got_max[32] = "", tbuf[32];
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

/* An add or delete; a failure is logged unless quiet (the caller may still recover). */
static int ban_ipset_adt(struct ban_ipset *s, enum ipset_cmd cmd, const struct addr *a, long timeout,
		     bool quiet)
{
	const char *set = a->family == 4 ? s->set4 : s->set6;
	uint8_t family = a->family == 4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
	uint8_t cidr = a->prefix;
	uint32_t t = (uint32_t)timeout;
	char *why = s->why, text[ADDR_STRLEN];

	if (ban_ipset_reset(s) < 0)
		return -1;
	if (ipset_session_data_set(s->ss, IPSET_SETNAME, set) < 0 ||
	    !ipset_type_get(s->ss, cmd) ||
	    ipset_session_data_set(s->ss, IPSET_OPT_FAMILY, &family) < 0 ||
	    ipset_session_data_set(s->ss, IPSET_OPT_IP, a->bytes) < 0 ||
	    (a->prefix < addr_width(a) && ipset_session_data_set(s->ss, IPSET_OPT_CIDR, &cidr) < 0) ||
	    (cmd == IPSET_CMD_ADD && ipset_session_data_set(s->ss, IPSET_OPT_TIMEOUT, &t) < 0) ||
	    ipset_cmd(s->ss, cmd, 0) < 0) {
		ban_ipset_reason(s, why, sizeof(s->why));
		if (quiet)
			return -1;
		log_error("ipset: cannot %s %s %s %s: %s", cmd == IPSET_CMD_ADD ? "add" : "delete",
			  addr_format(a, text), cmd == IPSET_CMD_ADD ? "to" : "from", set, why);
		return -1;
	}
	return 0;
}


/*
 * The add failed: when the set is gone (destroyed by hand), creates it
 * again and adds once more, so a ban is not lost to a stray
 * `ipset destroy`. 1 added, 0 not (the set exists: the first error
 * stands), -1 failed again.
 */
static int ban_ipset_recreate(struct ban_ipset *s, const struct addr *a, long t)
{
	bool v4 = a->family == 4;
	const char *name = v4 ? s->set4 : s->set6;
	int r = ban_ipset_check_one(s, name, v4 ? "hash:ip" : "hash:net",
				    v4 ? NFPROTO_IPV4 : NFPROTO_IPV6, s->maxelem);

	if (r != 1)
		return 0;
	log_warn("ipset: set %s disappeared; creating it again", name);
	if (ban_ipset_create(s, name, v4 ? "hash:ip" : "hash:net", v4 ? NFPROTO_IPV4 : NFPROTO_IPV6,
			     s->maxelem, s->default_timeout) < 0 ||
	    ban_ipset_adt(s, IPSET_CMD_ADD, a, t, false) < 0)
		return -1;
	return 1;
}

static int ban_ipset_add(struct ban_backend *be, const struct addr *a, long timeout, bool quiet)
{
	struct ban_ipset *s = ban_ipset_of(be);
	char why[256], text[ADDR_STRLEN];
	int r;

	if (ban_ipset_adt(s, IPSET_CMD_ADD, a, timeout, true) == 0)
		return 0;
	snprintf(why, sizeof(why), "%s", s->why);
	r = ban_ipset_recreate(s, a, timeout);
	if (r == 0 && !quiet)
		log_error("ipset: cannot add %s to %s: %s", addr_format(a, text),
			  a->family == 4 ? s->set4 : s->set6, why);
	return r > 0 ? 0 : -1;
}

static int ban_ipset_del(struct ban_backend *be, const struct addr *a)
{
	/* with IPSET_ENV_EXIST (always set) deleting an absent entry succeeds */
	return ban_ipset_adt(ban_ipset_of(be), IPSET_CMD_DEL, a, 0, false);
}

/* Runs a listing of set into s->out (the header alone when header_only). */
static int ban_ipset_list_text(struct ban_ipset *s, const char *set, bool header_only)
{
	char why[256];

	if (ban_ipset_reset(s) < 0)
		return -1;
	if (header_only)
		ipset_envopt_set(s->ss, IPSET_ENV_LIST_HEADER);
	ipset_session_output(s->ss, IPSET_LIST_PLAIN);
	if (ipset_session_data_set(s->ss, IPSET_SETNAME, set) < 0 ||
	    ipset_cmd(s->ss, IPSET_CMD_LIST, 0) < 0) {
		log_error("ipset: cannot read set %s: %s", set,
			  ban_ipset_reason(s, why, sizeof(why)));
		return -1;
	}
	ipset_envopt_unset(s->ss, IPSET_ENV_LIST_HEADER);
	ipset_session_output(s->ss, IPSET_LIST_NONE);
	return 0;
}

/* The members of a set from its plain listing ("ADDR timeout N"), sorted. */
static int ban_ipset_list(struct ban_backend *be, int family, struct ban_member **out,
			  size_t *n)
{
	struct ban_ipset *s = ban_ipset_of(be);
	const char *set = family == 4 ? s->set4 : s->set6;
	struct ban_member *v = NULL;
	size_t cap = 0;
	char *p;

	*n = 0;
	*out = NULL;
	if (ban_ipset_list_text(s, set, false) < 0)
		return -1;
	p = s->out ? strstr(s->out, "\nMembers:\n") : NULL;
	for (p = p ? p + 10 : NULL; p && *p;) {
		char *nl = strchr(p, '\n'), *sp, *t;
		struct ban_member m = { .timeout = 0 };

		if (nl)
			*nl = '\0';
		sp = strchr(p, ' ');
		if (addr_parse_net(p, sp ? (size_t)(sp - p) : strlen(p), &m.a) == 0) {
			t = sp ? strstr(sp, " timeout ") : NULL;
			m.timeout = t ? strtol(t + 9, NULL, 10) : 0;
			if (grow(&v, &cap, *n + 1, sizeof(*v), 1024) < 0) {
				free(v);
				log_error("ipset: out of memory listing %s", set);
				return -1;
			}
			v[(*n)++] = m;
		}
		p = nl ? nl + 1 : NULL;
	}
	if (*n)
		qsort(v, *n, sizeof(*v), ban_member_cmp);
	*out = v;
	return 0;
}

/* The number of members of a set, from its header. */
static int ban_ipset_count(struct ban_backend *be, int family, size_t *n)
{
	struct ban_ipset *s = ban_ipset_of(be);
	const char *p;

	if (ban_ipset_list_text(s, family == 4 ? s->set4 : s->set6, true) < 0)
		return -1;
	p = s->out ? strstr(s->out, "Number of entries: ") : NULL;
	*n = p ? (size_t)strtoul(p + strlen("Number of entries: "), NULL, 10) : 0;
	return 0;
}

/* Adds the k entries of v (one family) as one batch; present ones take the new timeout
 * (IPSET_ENV_EXIST is set). */
static int ban_ipset_add_many(struct ban_backend *be, const struct banset_entry *const *v,
			      size_t k, time_t now)
{
	struct ban_ipset *s = ban_ipset_of(be);
	char why[256], text[ADDR_STRLEN];

	if (k == 0)
		return 0;
	if (ban_ipset_reset(s) < 0)
		return -1;
	for (size_t i = 0; i < k; i++) {
		const struct addr *a = &v[i]->a;
		const char *set = a->family == 4 ? s->set4 : s->set6;
		uint8_t family = a->family == 4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
		uint8_t cidr = a->prefix;
		long left = (long)(v[i]->until - now);
		uint32_t t = (uint32_t)(left > BAN_IPSET_TIMEOUT_MAX ? BAN_IPSET_TIMEOUT_MAX : left);

		/* a line number makes libipset gather the adds into few messages */
		if (ipset_session_data_set(s->ss, IPSET_SETNAME, set) < 0 ||
		    !ipset_type_get(s->ss, IPSET_CMD_ADD) ||
		    ipset_session_data_set(s->ss, IPSET_OPT_FAMILY, &family) < 0 ||
		    ipset_session_data_set(s->ss, IPSET_OPT_IP, a->bytes) < 0 ||
		    (a->prefix < addr_width(a) &&
		     ipset_session_data_set(s->ss, IPSET_OPT_CIDR, &cidr) < 0) ||
		    ipset_session_data_set(s->ss, IPSET_OPT_TIMEOUT, &t) < 0 ||
		    ipset_cmd(s->ss, IPSET_CMD_ADD, (uint32_t)i + 1) < 0) {
			log_error("ipset: cannot restore %s: %s", addr_format(a, text),
				  ban_ipset_reason(s, why, sizeof(why)));
			return -1;
		}
	}
	if (ipset_commit(s->ss) < 0) {
		log_error("ipset: restoring %zu bans failed: %s", k,
			  ban_ipset_reason(s, why, sizeof(why)));
		return -1;
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
	.add = ban_ipset_add,
	.del = ban_ipset_del,
	.count = ban_ipset_count,
	.list = ban_ipset_list,
	.add_many = ban_ipset_add_many,
};
