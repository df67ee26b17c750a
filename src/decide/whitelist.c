/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "whitelist.h"

/*
 * RFC 1123 host name: labels of letters, digits and inner hyphens. The
 * last label is never all digits (RFC 3696 section 2), so that a mistyped
 * address such as 192.0.2.300 is an error, not a name to resolve.
 */
static bool whitelist_is_hostname(const char *s)
{
	size_t label = 0, len = strlen(s);
	bool digits = true;	/* the current label is all digits so far */

	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			if (i + 1 < len) {
				label = 0;
				digits = true;
			}
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || (c == '-' && label > 0)) {
			if (++label > 63)
				return false;
			if (c < '0' || c > '9')
				digits = false;
		} else {
			return false;
		}
	}
	return s[len - 1] != '-' && !digits;
}

bool whitelist_entry_valid(const char *s)
{
	struct addr a;

	return addr_parse_net(s, strlen(s), &a) == 0 || whitelist_is_hostname(s);
}

int whitelist_init(struct whitelist *w, char *const *entries, size_t n,
		   const char *where, struct diag *d)
{
	int rc = 0;

	memset(w, 0, sizeof(*w));
	w->nets = calloc(n ? n : 1, sizeof(*w->nets));
	w->hosts = calloc(n ? n : 1, sizeof(*w->hosts));
	if (!w->nets || !w->hosts) {
		diag_error(d, where, 0, "out of memory");
		whitelist_free(w);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *e = entries[i];

		if (addr_parse_net(e, strlen(e), &w->nets[w->nnets]) == 0) {
			w->nnets++;
		} else if (whitelist_is_hostname(e)) {
			w->hosts[w->nhosts].name = strdup(e);
			if (!w->hosts[w->nhosts].name) {
				diag_error(d, where, 0, "out of memory");
				rc = -1;
				break;
			}
			w->nhosts++;
		} else {
			diag_error(d, where, 0, "whitelist: \"%s\" is not an address, network or host name", e);
			rc = -1;
		}
	}
	if (rc < 0)
		whitelist_free(w);
	return rc;
}

void whitelist_free(struct whitelist *w)
{
	for (size_t i = 0; i < w->nhosts; i++) {
		free(w->hosts[i].name);
		free(w->hosts[i].addrs);
	}
	free(w->hosts);
	free(w->nets);
	free(w->self);
	memset(w, 0, sizeof(*w));
}

static int whitelist_sockaddr(const struct sockaddr *sa, struct addr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		out->family = 4;
		out->prefix = 32;
		memcpy(out->bytes, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		out->family = 6;
		out->prefix = 128;
		memcpy(out->bytes, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		return 0;
	}
	return -1;
}

int whitelist_lookup_name(const char *name, struct addr **out, size_t *nout)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct addrinfo *res, *ai;
	struct addr *v;
	size_t n = 0;
	int r;

	r = getaddrinfo(name, NULL, &hints, &res);
	if (r != 0)
		return r;
	for (ai = res; ai; ai = ai->ai_next)
		n++;
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		freeaddrinfo(res);
		return EAI_MEMORY;
	}
	n = 0;
	for (ai = res; ai; ai = ai->ai_next)
		if (whitelist_sockaddr(ai->ai_addr, &v[n]) == 0)
			n++;
	freeaddrinfo(res);
	*out = v;
	*nout = n;
	return 0;
}

void whitelist_set_host(struct whitelist *w, size_t i, struct addr *v, size_t n)
{
	free(w->hosts[i].addrs);
	w->hosts[i].addrs = v;
	w->hosts[i].naddrs = n;
}

static int whitelist_lookup(struct wl_host *h, struct diag *d)
{
	struct addr *v;
	size_t n;
	int r = whitelist_lookup_name(h->name, &v, &n);

	if (r != 0) {
		diag_warn(d, NULL, 0, "whitelist: cannot resolve %s (%s)%s", h->name,
			  gai_strerror(r), h->naddrs ? ", keeping its last addresses" : "");
		return -1;
	}
	free(h->addrs);
	h->addrs = v;
	h->naddrs = n;
	return 0;
}

size_t whitelist_resolve(struct whitelist *w, struct diag *d)
{
	size_t failed = 0;

	for (size_t i = 0; i < w->nhosts; i++)
		if (whitelist_lookup(&w->hosts[i], d) < 0)
			failed++;
	return failed;
}

int whitelist_load_self(struct whitelist *w)
{
	struct ifaddrs *ifs, *ifa;
	struct addr *v;
	size_t n = 0;

	if (getifaddrs(&ifs) < 0)
		return -1;
	for (ifa = ifs; ifa; ifa = ifa->ifa_next)
		n++;
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		freeifaddrs(ifs);
		return -1;
	}
	n = 0;
	for (ifa = ifs; ifa; ifa = ifa->ifa_next)
		if (ifa->ifa_addr && whitelist_sockaddr(ifa->ifa_addr, &v[n]) == 0)
			n++;
	freeifaddrs(ifs);
	free(w->self);
	w->self = v;
	w->nself = n;
	return 0;
}

static bool whitelist_any(const struct addr *v, size_t n, const struct addr *net)
{
	for (size_t i = 0; i < n; i++)
		if (addr_overlaps(&v[i], net))
			return true;
	return false;
}

const char *whitelist_check(const struct whitelist *w, const struct addr *net)
{
	if (whitelist_any(w->nets, w->nnets, net))
		return "whitelist";
	for (size_t i = 0; i < w->nhosts; i++)
		if (whitelist_any(w->hosts[i].addrs, w->hosts[i].naddrs, net))
			return "whitelist";
	if (whitelist_any(w->self, w->nself, net))
		return "self";
	return NULL;
}
