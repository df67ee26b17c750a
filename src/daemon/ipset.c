/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One libipset session for the process's life. libipset has no call that
 * returns a set's creation options as data, so ipset_ensure reads the
 * terse listing ("Type:", "Header:" lines), the same text `ipset list -t`
 * prints: its format is part of ipset's user interface and stable.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libipset/ipset.h>

#include "ipset.h"
#include "log.h"

/* Re-add a long ban when its kernel entry has less than this left. */
#define IPSET_REFRESH_MARGIN 3600

struct ipset_long {
	struct addr a;
	time_t until;		/* the ban's end */
	time_t kernel_until;	/* when the kernel entry runs out */
};

struct ipset {
	struct ipset_session *ss;
	char *set4, *set6;
	long maxelem, default_timeout;	/* for re-creating a set destroyed under us */
	char why[256];		/* the last add or delete's failure */
	char *out;		/* listing text captured by ipset_out */
	size_t outlen, outcap;
	struct ipset_long *longs;
	size_t nlongs, caplongs;
};

static int ipset_out(struct ipset_session *ss, void *p, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int ipset_out(struct ipset_session *ss, void *p, const char *fmt, ...)
{
	struct ipset *s = p;
	va_list ap;
	char *chunk;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&chunk, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if (s->outlen + (size_t)n + 1 > s->outcap) {
		size_t cap = (s->outlen + (size_t)n + 1) * 2;
		char *v = realloc(s->out, cap);

		if (!v) {
			free(chunk);
			return -1;
		}
		s->out = v;
		s->outcap = cap;
	}
	memcpy(s->out + s->outlen, chunk, (size_t)n + 1);
	s->outlen += (size_t)n;
	free(chunk);
	return n;
}

static int ipset_renew(struct ipset *s);

/* libipset's report of a failure, without its trailing newline; the
 * session is renewed (see ipset_renew). */
static const char *ipset_reason(struct ipset *s, char *buf, size_t len)
{
	const char *m = s->ss ? ipset_session_report_msg(s->ss) : NULL;
	size_t n;

	snprintf(buf, len, "%s", m && *m ? m : "unknown error");
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	if (ipset_renew(s) < 0)
		log_error("ipset: cannot reopen the netlink session");
	return buf;
}

/*
 * After a failed command libipset's session is left unusable (the next
 * type lookup fails without a word), so every failure starts a new one.
 */
static int ipset_renew(struct ipset *s)
{
	if (s->ss)
		ipset_session_fini(s->ss);
	s->ss = ipset_session_init(ipset_out, s);
	if (!s->ss)
		return -1;
	/* adding a present address updates its timeout instead of failing */
	ipset_envopt_set(s->ss, IPSET_ENV_EXIST);
	return 0;
}

struct ipset *ipset_open(void)
{
	struct ipset *s = calloc(1, sizeof(*s));

	if (!s) {
		log_error("ipset: out of memory");
		return NULL;
	}
	ipset_load_types();
	if (ipset_renew(s) < 0) {
		log_error("ipset: cannot open a netlink session to the kernel's ip_set "
			  "(needs CAP_NET_ADMIN and the ip_set module)");
		free(s);
		return NULL;
	}
	return s;
}

void ipset_close(struct ipset *s)
{
	if (!s)
		return;
	ipset_session_fini(s->ss);
	free(s->set4);
	free(s->set6);
	free(s->out);
	free(s->longs);
	free(s);
}

static int ipset_reset(struct ipset *s)
{
	if (!s->ss && ipset_renew(s) < 0) {
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
static const char *ipset_header_word(const char *header, const char *key, char *buf, size_t len)
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

static int ipset_create(struct ipset *s, const char *name, const char *typename, uint8_t family,
			long maxelem, long default_timeout)
{
	const struct ipset_type *type;
	uint32_t timeout = (uint32_t)(default_timeout > IPSET_TIMEOUT_MAX ? IPSET_TIMEOUT_MAX
							   : default_timeout);
	uint32_t max = (uint32_t)maxelem;
	char why[256];

	if (ipset_reset(s) < 0)
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
		  ipset_reason(s, why, sizeof(why)));
	return -1;
}

/* 0 when the set exists and will do, 1 when it is missing, -1 (logged) otherwise. */
static int ipset_check_one(struct ipset *s, const char *name, const char *typename,
			   uint8_t family, long maxelem)
{
	const char *fam = family == NFPROTO_IPV4 ? "inet" : "inet6";
	char why[256], got_type[64] = "", got_family[16] = "", got_max[32] = "", tbuf[32];
	const char *header, *p;

	if (ipset_reset(s) < 0)
		return -1;
	ipset_envopt_set(s->ss, IPSET_ENV_LIST_HEADER);
	ipset_session_output(s->ss, IPSET_LIST_PLAIN);
	if (ipset_session_data_set(s->ss, IPSET_SETNAME, name) < 0) {
		log_error("ipset: \"%s\" is not a valid set name", name);
		return -1;
	}
	if (ipset_cmd(s->ss, IPSET_CMD_LIST, 0) < 0) {
		const char *reason = ipset_reason(s, why, sizeof(why));

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
		ipset_header_word(header, "family", got_family, sizeof(got_family));
		ipset_header_word(header, "maxelem", got_max, sizeof(got_max));
	}
	if (strcmp(got_type, typename) != 0 || strcmp(got_family, fam) != 0) {
		log_error("ipset: set %s exists as %s family %s, but spamwrath needs %s family %s "
			  "with timeout; destroy it (ipset destroy %s, after removing the firewall "
			  "rules that use it) or name another set in the ipset section",
			  name, *got_type ? got_type : "(unknown type)",
			  *got_family ? got_family : "(unknown)", typename, fam, name);
		return -1;
	}
	if (!header || !ipset_header_word(header, "timeout", tbuf, sizeof(tbuf))) {
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

int ipset_use(struct ipset *s, const char *set4, const char *set6)
{
	char *a = strdup(set4), *b = strdup(set6);

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

int ipset_ensure(struct ipset *s, const char *set4, const char *set6, long maxelem,
		 long default_timeout)
{
	/* both checked before either is created: a refusal changes nothing */
	int r4 = ipset_check_one(s, set4, "hash:ip", NFPROTO_IPV4, maxelem);
	int r6 = ipset_check_one(s, set6, "hash:net", NFPROTO_IPV6, maxelem);

	if (r4 < 0 || r6 < 0)
		return -1;
	s->maxelem = maxelem;
	s->default_timeout = default_timeout;
	if (r4 > 0 && ipset_create(s, set4, "hash:ip", NFPROTO_IPV4, maxelem, default_timeout) < 0)
		return -1;
	if (r6 > 0 && ipset_create(s, set6, "hash:net", NFPROTO_IPV6, maxelem, default_timeout) < 0)
		return -1;
	return 0;
}

/* An add or delete; a failure is logged unless quiet (the caller may still recover). */
static int ipset_adt(struct ipset *s, enum ipset_cmd cmd, const struct addr *a, long timeout,
		     bool quiet)
{
	const char *set = a->family == 4 ? s->set4 : s->set6;
	uint8_t family = a->family == 4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
	uint8_t cidr = a->prefix;
	uint32_t t = (uint32_t)timeout;
	char *why = s->why, text[ADDR_STRLEN];

	if (!set) {
		log_error("ipset: no sets chosen (ipset_use was not called)");
		return -1;
	}
	if (ipset_reset(s) < 0)
		return -1;
	if (ipset_session_data_set(s->ss, IPSET_SETNAME, set) < 0 ||
	    !ipset_type_get(s->ss, cmd) ||
	    ipset_session_data_set(s->ss, IPSET_OPT_FAMILY, &family) < 0 ||
	    ipset_session_data_set(s->ss, IPSET_OPT_IP, a->bytes) < 0 ||
	    (a->prefix < addr_width(a) && ipset_session_data_set(s->ss, IPSET_OPT_CIDR, &cidr) < 0) ||
	    (cmd == IPSET_CMD_ADD && ipset_session_data_set(s->ss, IPSET_OPT_TIMEOUT, &t) < 0) ||
	    ipset_cmd(s->ss, cmd, 0) < 0) {
		ipset_reason(s, why, sizeof(s->why));
		if (quiet)
			return -1;
		log_error("ipset: cannot %s %s %s %s: %s", cmd == IPSET_CMD_ADD ? "add" : "delete",
			  addr_format(a, text), cmd == IPSET_CMD_ADD ? "to" : "from", set, why);
		return -1;
	}
	return 0;
}

static struct ipset_long *ipset_find_long(struct ipset *s, const struct addr *a)
{
	for (size_t i = 0; i < s->nlongs; i++)
		if (memcmp(&s->longs[i].a, a, sizeof(*a)) == 0)
			return &s->longs[i];
	return NULL;
}

void ipset_forget(struct ipset *s, const struct addr *a)
{
	struct ipset_long *l = ipset_find_long(s, a);

	if (l)
		*l = s->longs[--s->nlongs];
}

static int ipset_remember_long(struct ipset *s, const struct addr *a, time_t until,
			       time_t kernel_until)
{
	struct ipset_long *l = ipset_find_long(s, a);

	if (!l) {
		if (s->nlongs == s->caplongs) {
			size_t cap = s->caplongs ? 2 * s->caplongs : 16;
			struct ipset_long *v = realloc(s->longs, cap * sizeof(*v));

			if (!v)
				return -1;
			s->longs = v;
			s->caplongs = cap;
		}
		l = &s->longs[s->nlongs++];
		l->a = *a;
	}
	l->until = until;
	l->kernel_until = kernel_until;
	return 0;
}

/*
 * The add failed: when the set is gone (destroyed by hand), creates it
 * again and adds once more, so a ban is not lost to a stray
 * `ipset destroy`. 1 added, 0 not (the set exists: the first error
 * stands), -1 failed again.
 */
static int ipset_recreate(struct ipset *s, const struct addr *a, long t)
{
	bool v4 = a->family == 4;
	const char *name = v4 ? s->set4 : s->set6;
	int r = ipset_check_one(s, name, v4 ? "hash:ip" : "hash:net",
				v4 ? NFPROTO_IPV4 : NFPROTO_IPV6, s->maxelem);

	if (r != 1)
		return 0;
	log_warn("ipset: set %s disappeared; creating it again", name);
	if (ipset_create(s, name, v4 ? "hash:ip" : "hash:net", v4 ? NFPROTO_IPV4 : NFPROTO_IPV6,
			 s->maxelem, s->default_timeout) < 0 ||
	    ipset_adt(s, IPSET_CMD_ADD, a, t, false) < 0)
		return -1;
	return 1;
}

int ipset_ban(struct ipset *s, const struct addr *a, long timeout, time_t now)
{
	long t = timeout > IPSET_TIMEOUT_MAX ? IPSET_TIMEOUT_MAX : timeout;
	char text[ADDR_STRLEN];
	int r;

	if (t <= 0)
		t = 1;
	if (ipset_adt(s, IPSET_CMD_ADD, a, t, true) < 0) {
		char why[256];

		snprintf(why, sizeof(why), "%s", s->why);
		r = ipset_recreate(s, a, t);
		if (r == 0)
			log_error("ipset: cannot add %s to %s: %s", addr_format(a, text),
				  a->family == 4 ? s->set4 : s->set6, why);
		if (r <= 0)
			return -1;
	}
	if (timeout > IPSET_TIMEOUT_MAX) {
		if (ipset_remember_long(s, a, now + timeout, now + t) < 0)
			log_error("ipset: out of memory: the ban of %s ends after %lds, not %lds",
				  addr_format(a, text), t, timeout);
	} else {
		ipset_forget(s, a);
	}
	return 0;
}

int ipset_unban(struct ipset *s, const struct addr *a)
{
	/* with IPSET_ENV_EXIST (always set) deleting an absent entry succeeds */
	ipset_forget(s, a);
	return ipset_adt(s, IPSET_CMD_DEL, a, 0, false);
}

/* --- restoring at start --- */

struct ipset_member {
	struct addr a;
	long timeout;		/* what the kernel has left, seconds */
};

static int ipset_member_cmp(const void *x, const void *y)
{
	return memcmp(&((const struct ipset_member *)x)->a, &((const struct ipset_member *)y)->a,
		      sizeof(struct addr));
}

/* The members of set, sorted, from the plain listing ("ADDR timeout N"). */
static int ipset_members(struct ipset *s, const char *set, struct ipset_member **out,
			 size_t *n)
{
	struct ipset_member *v = NULL;
	size_t cap = 0;
	char why[256];
	char *p;

	*n = 0;
	if (ipset_reset(s) < 0)
		return -1;
	ipset_session_output(s->ss, IPSET_LIST_PLAIN);
	if (ipset_session_data_set(s->ss, IPSET_SETNAME, set) < 0 ||
	    ipset_cmd(s->ss, IPSET_CMD_LIST, 0) < 0) {
		log_error("ipset: cannot list set %s: %s", set, ipset_reason(s, why, sizeof(why)));
		return -1;
	}
	ipset_session_output(s->ss, IPSET_LIST_NONE);
	p = s->out ? strstr(s->out, "\nMembers:\n") : NULL;
	for (p = p ? p + 10 : NULL; p && *p;) {
		char *nl = strchr(p, '\n'), *sp, *t;
		struct ipset_member m = { .timeout = 0 };

		if (nl)
			*nl = '\0';
		sp = strchr(p, ' ');
		if (addr_parse_net(p, sp ? (size_t)(sp - p) : strlen(p), &m.a) == 0) {
			t = sp ? strstr(sp, " timeout ") : NULL;
			m.timeout = t ? strtol(t + 9, NULL, 10) : 0;
			if (*n == cap) {
				size_t c = cap ? 2 * cap : 1024;
				struct ipset_member *nv = realloc(v, c * sizeof(*nv));

				if (!nv) {
					free(v);
					log_error("ipset: out of memory listing %s", set);
					return -1;
				}
				v = nv;
				cap = c;
			}
			v[(*n)++] = m;
		}
		p = nl ? nl + 1 : NULL;
	}
	if (*n)
		qsort(v, *n, sizeof(*v), ipset_member_cmp);
	*out = v;
	return 0;
}

/* Adds the k entries of v (one family) as one batch; present ones take the new timeout. */
static int ipset_batch(struct ipset *s, const struct ipset_entry **v, size_t k, time_t now)
{
	char why[256], text[ADDR_STRLEN];

	if (k == 0)
		return 0;
	if (ipset_reset(s) < 0)
		return -1;
	for (size_t i = 0; i < k; i++) {
		const struct addr *a = &v[i]->a;
		const char *set = a->family == 4 ? s->set4 : s->set6;
		uint8_t family = a->family == 4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
		uint8_t cidr = a->prefix;
		long left = (long)(v[i]->until - now);
		uint32_t t = (uint32_t)(left > IPSET_TIMEOUT_MAX ? IPSET_TIMEOUT_MAX : left);

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
				  ipset_reason(s, why, sizeof(why)));
			return -1;
		}
	}
	if (ipset_commit(s->ss) < 0) {
		log_error("ipset: restoring %zu bans failed: %s", k,
			  ipset_reason(s, why, sizeof(why)));
		return -1;
	}
	return 0;
}

/* The number of members of set, from its header. 0 or -1 (logged). */
static int ipset_count(struct ipset *s, const char *set, size_t *n)
{
	char why[256];
	const char *p;

	if (ipset_reset(s) < 0)
		return -1;
	ipset_envopt_set(s->ss, IPSET_ENV_LIST_HEADER);
	ipset_session_output(s->ss, IPSET_LIST_PLAIN);
	if (ipset_session_data_set(s->ss, IPSET_SETNAME, set) < 0 ||
	    ipset_cmd(s->ss, IPSET_CMD_LIST, 0) < 0) {
		log_error("ipset: cannot read set %s: %s", set, ipset_reason(s, why, sizeof(why)));
		return -1;
	}
	ipset_envopt_unset(s->ss, IPSET_ENV_LIST_HEADER);
	ipset_session_output(s->ss, IPSET_LIST_NONE);
	p = s->out ? strstr(s->out, "Number of entries: ") : NULL;
	*n = p ? (size_t)strtoul(p + 19, NULL, 10) : 0;
	return 0;
}

int ipset_restore(struct ipset *s, const struct ipset_entry *v, size_t n, time_t now,
		  size_t *added)
{
	struct ipset_member *m4 = NULL, *m6 = NULL;
	const struct ipset_entry **miss4, **miss6;
	size_t n4 = 0, n6 = 0, k4 = 0, k6 = 0;
	int rc = 0;

	size_t want4 = 0, want6 = 0, have4, have6;
	bool all4, all6;

	*added = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i].until <= now)
			continue;
		if (v[i].a.family == 4)
			want4++;
		else
			want6++;
	}
	miss4 = calloc(n ? n : 1, sizeof(*miss4));
	miss6 = calloc(n ? n : 1, sizeof(*miss6));
	if (!miss4 || !miss6 || ipset_count(s, s->set4, &have4) < 0 ||
	    ipset_count(s, s->set6, &have6) < 0) {
		rc = -1;
		goto out;
	}
	/*
	 * Reading a whole set costs more than adding it again, so the member
	 * list is read only when it can tell something: an empty set (after
	 * a reboot) lacks every ban, and a set holding at least as many
	 * members as there are bans (a restart) is taken to hold them all.
	 */
	all4 = have4 > 0 && have4 >= want4;
	all6 = have6 > 0 && have6 >= want6;
	if ((have4 > 0 && !all4 && ipset_members(s, s->set4, &m4, &n4) < 0) ||
	    (have6 > 0 && !all6 && ipset_members(s, s->set6, &m6, &n6) < 0)) {
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct ipset_member key = { .a = v[i].a };
		bool v4 = v[i].a.family == 4;
		const struct ipset_member *hit;
		long left = (long)(v[i].until - now);

		if (left <= 0)
			continue;
		if (v4 ? all4 : all6) {
			/* present, and its kernel timeout unknown: a long one is
			 * re-added by the next ipset_refresh */
			if (left > IPSET_TIMEOUT_MAX)
				ipset_remember_long(s, &v[i].a, v[i].until, now);
			continue;
		}
		/* an empty set has no array at all (bsearch wants one) */
		hit = (v4 ? n4 : n6) == 0 ? NULL :
			bsearch(&key, v4 ? m4 : m6, v4 ? n4 : n6, sizeof(key), ipset_member_cmp);
		if (hit) {
			/* present: untouched; a long one is kept alive from what is left */
			if (left > IPSET_TIMEOUT_MAX && hit->timeout > 0)
				ipset_remember_long(s, &v[i].a, v[i].until, now + hit->timeout);
			continue;
		}
		if (v4)
			miss4[k4++] = &v[i];
		else
			miss6[k6++] = &v[i];
		if (left > IPSET_TIMEOUT_MAX)
			ipset_remember_long(s, &v[i].a, v[i].until, now + IPSET_TIMEOUT_MAX);
	}
	if (ipset_batch(s, miss4, k4, now) < 0 || ipset_batch(s, miss6, k6, now) < 0)
		rc = -1;
	else
		*added = k4 + k6;
out:
	free(m4);
	free(m6);
	free(miss4);
	free(miss6);
	return rc;
}

int ipset_ban_batch(struct ipset *s, const struct ipset_entry *v, size_t n, time_t now)
{
	const struct ipset_entry **p4 = calloc(n ? n : 1, sizeof(*p4));
	const struct ipset_entry **p6 = calloc(n ? n : 1, sizeof(*p6));
	size_t k4 = 0, k6 = 0;
	int rc = -1;

	if (!p4 || !p6) {
		log_error("ipset: out of memory adding %zu bans", n);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		long left = (long)(v[i].until - now);

		if (left <= 0)
			continue;
		if (v[i].a.family == 4)
			p4[k4++] = &v[i];
		else
			p6[k6++] = &v[i];
		if (left > IPSET_TIMEOUT_MAX)
			ipset_remember_long(s, &v[i].a, v[i].until, now + IPSET_TIMEOUT_MAX);
	}
	rc = ipset_batch(s, p4, k4, now) < 0 || ipset_batch(s, p6, k6, now) < 0 ? -1 : 0;
out:
	free(p4);
	free(p6);
	return rc;
}

void ipset_refresh(struct ipset *s, time_t now)
{
	for (size_t i = 0; i < s->nlongs;) {
		struct ipset_long *l = &s->longs[i];
		long left = (long)(l->until - now);

		if (left <= 0) {
			*l = s->longs[--s->nlongs];
			continue;
		}
		if (l->kernel_until - now < IPSET_REFRESH_MARGIN) {
			long t = left > IPSET_TIMEOUT_MAX ? IPSET_TIMEOUT_MAX : left;

			if (ipset_adt(s, IPSET_CMD_ADD, &l->a, t, false) == 0) {
				l->kernel_until = now + t;
				if (t == left) {
					/* the kernel entry now ends with the ban */
					*l = s->longs[--s->nlongs];
					continue;
				}
			}
		}
		i++;
	}
}

size_t ipset_long_bans(const struct ipset *s)
{
	return s->nlongs;
}
