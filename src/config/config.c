/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Every value is read as text and converted here, so that each error can
 * name the exact line (see cfgfile.c). Files are parsed one by one and
 * merged: a later scalar overrides, a later list appends, a later section
 * with the same title changes only the keys it sets.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "cfgfile.h"
#include "config.h"
#include "duration.h"
#include "whitelist.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

static cfg_opt_t config_ipset_opts[] = {
	CFG_STR("set4", NULL, CFGF_NODEFAULT),
	CFG_STR("set6", NULL, CFGF_NODEFAULT),
	CFG_STR("ipv4_prefix", NULL, CFGF_NODEFAULT),
	CFG_STR("ipv6_prefix", NULL, CFGF_NODEFAULT),
	CFG_STR("maxelem", NULL, CFGF_NODEFAULT),
	CFG_END()
};

static cfg_opt_t config_firewall_opts[] = {
	CFG_STR_LIST("ports", NULL, CFGF_NODEFAULT),
	CFG_STR("target", NULL, CFGF_NODEFAULT),
	CFG_END()
};

static cfg_opt_t config_fleet_opts[] = {
	CFG_STR("redis", NULL, CFGF_NODEFAULT),
	CFG_STR_LIST("sentinels", NULL, CFGF_NODEFAULT),
	CFG_STR("master_name", NULL, CFGF_NODEFAULT),
	CFG_STR("user", NULL, CFGF_NODEFAULT),
	CFG_STR("password_file", NULL, CFGF_NODEFAULT),
	CFG_STR("key_file", NULL, CFGF_NODEFAULT),
	CFG_STR("host", NULL, CFGF_NODEFAULT),
	CFG_STR("namespace", NULL, CFGF_NODEFAULT),
	CFG_STR("share_offences", NULL, CFGF_NODEFAULT),
	CFG_END()
};

static cfg_opt_t config_source_opts[] = {
	CFG_STR("file", NULL, CFGF_NODEFAULT),
	CFG_STR("program", NULL, CFGF_NODEFAULT),
	CFG_STR_LIST("journal", NULL, CFGF_NODEFAULT),
	CFG_STR("journal_dir", NULL, CFGF_NODEFAULT),
	CFG_STR("trusted", NULL, CFGF_NODEFAULT),
	CFG_STR_LIST("trusted_units", NULL, CFGF_NODEFAULT),
	CFG_STR_LIST("trusted_users", NULL, CFGF_NODEFAULT),
	CFG_STR("start", NULL, CFGF_NODEFAULT),
	CFG_END()
};

static cfg_opt_t config_class_opts[] = {
	CFG_STR("enabled", NULL, CFGF_NODEFAULT),
	CFG_STR("weight", NULL, CFGF_NODEFAULT),
	CFG_STR("min_score", NULL, CFGF_NODEFAULT),
	CFG_END()
};

static cfg_opt_t config_opts[] = {
	CFG_STR("patterns_dir", NULL, CFGF_NODEFAULT),
	CFG_STR("state_dir", NULL, CFGF_NODEFAULT),
	CFG_STR("control_socket", NULL, CFGF_NODEFAULT),
	CFG_STR("control_group", NULL, CFGF_NODEFAULT),
	CFG_STR("threshold", NULL, CFGF_NODEFAULT),
	CFG_STR("findtime", NULL, CFGF_NODEFAULT),
	CFG_STR("bantime", NULL, CFGF_NODEFAULT),
	CFG_STR("bantime_factor", NULL, CFGF_NODEFAULT),
	CFG_STR("bantime_max", NULL, CFGF_NODEFAULT),
	CFG_STR("repeat_window", NULL, CFGF_NODEFAULT),
	CFG_STR_LIST("whitelist", NULL, CFGF_NODEFAULT),
	CFG_STR_LIST("spamtraps", NULL, CFGF_NODEFAULT),
	CFG_STR("ignore_self", NULL, CFGF_NODEFAULT),
	CFG_STR("max_line", NULL, CFGF_NODEFAULT),
	CFG_STR("max_tracked", NULL, CFGF_NODEFAULT),
	CFG_STR("correlate_timeout", NULL, CFGF_NODEFAULT),
	CFG_STR("correlate_max", NULL, CFGF_NODEFAULT),
	CFG_SEC("ipset", config_ipset_opts, CFGF_NONE),
	CFG_SEC("firewall", config_firewall_opts, CFGF_NONE),
	CFG_SEC("fleet", config_fleet_opts, CFGF_NONE),
	CFG_SEC("source", config_source_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_SEC("class", config_class_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_END()
};

/* One file being applied to the configuration under construction. */
struct loader {
	struct config *c;
	struct diag *d;
	struct cfgfile *f;
	const char *basedir;	/* of the main file: relative paths start here */
	cfg_t *sec;		/* the section being read, or the file's root */
	const char *secname, *title;
};

const char *config_default_path(void)
{
	return SYSCONFDIR "/spamwrath/spamwrath.conf";
}

static int loader_line(const struct loader *L, const char *key, unsigned idx)
{
	return cfgfile_line(L->f, L->secname, L->title, key, idx);
}

static void loader_error(const struct loader *L, const char *key, unsigned idx,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void loader_error(const struct loader *L, const char *key, unsigned idx,
			 const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	diag_error(L->d, L->f->path, loader_line(L, key, idx), "%s: %s", key,
		   msg ? msg : "invalid value");
	free(msg);
}

/* The value of key when this file (section) sets it, else NULL. */
static const char *loader_str(const struct loader *L, const char *key)
{
	cfg_opt_t *o = cfg_getopt(L->sec, key);

	if (!o || !(o->flags & CFGF_MODIFIED) || cfg_opt_size(o) == 0)
		return NULL;
	return cfg_opt_getnstr(o, 0);
}

static int loader_set_str(const struct loader *L, const char *key, char **dst)
{
	const char *v = loader_str(L, key);
	char *copy;

	if (!v)
		return 0;
	if (*v == '\0') {
		loader_error(L, key, 0, "must not be empty");
		return -1;
	}
	copy = strdup(v);
	if (!copy) {
		loader_error(L, key, 0, "out of memory");
		return -1;
	}
	free(*dst);
	*dst = copy;
	return 0;
}

/* Like loader_set_str, but a relative path is taken from basedir. */
static int loader_set_path(const struct loader *L, const char *key, char **dst)
{
	const char *v = loader_str(L, key);
	char *copy;

	if (!v)
		return 0;
	if (*v == '\0') {
		loader_error(L, key, 0, "must not be empty");
		return -1;
	}
	if (v[0] == '/' || !L->basedir)
		copy = strdup(v);
	else if (asprintf(&copy, "%s/%s", L->basedir, v) < 0)
		copy = NULL;
	if (!copy) {
		loader_error(L, key, 0, "out of memory");
		return -1;
	}
	free(*dst);
	*dst = copy;
	return 0;
}

/* Notes where this file sets key, for checks made after the last file. */
static int loader_where(const struct loader *L, const char *key, char **dst)
{
	char *w = NULL;

	if (!loader_str(L, key))
		return 0;
	if (asprintf(&w, "%s:%d", L->f->path, loader_line(L, key, 0)) < 0) {
		loader_error(L, key, 0, "out of memory");
		return -1;
	}
	free(*dst);
	*dst = w;
	return 0;
}

static int loader_set_duration(const struct loader *L, const char *key, long *dst)
{
	const char *v = loader_str(L, key);
	long s;

	if (!v)
		return 0;
	if (duration_parse(v, &s) < 0 || s <= 0) {
		loader_error(L, key, 0, "\"%s\" is not a duration (90s, 15m, 12h, 7d or seconds)", v);
		return -1;
	}
	*dst = s;
	return 0;
}

static int loader_set_bool(const struct loader *L, const char *key, bool *dst)
{
	static const char *yes[] = { "true", "yes", "on", "1" };
	static const char *no[] = { "false", "no", "off", "0" };
	const char *v = loader_str(L, key);

	if (!v)
		return 0;
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*dst = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*dst = false;
			return 0;
		}
	}
	loader_error(L, key, 0, "\"%s\" is not a boolean (yes or no)", v);
	return -1;
}

static int loader_number(const struct loader *L, const char *key, double lo, double hi,
			 bool integer, double *out)
{
	const char *v = loader_str(L, key);
	char *end;
	double x;

	if (!v)
		return 0;
	errno = 0;
	x = strtod(v, &end);
	if (end == v || *end != '\0' || errno || !isfinite(x) || x < lo || x > hi ||
	    (integer && x != floor(x))) {
		loader_error(L, key, 0, "\"%s\" is not %s between %g and %g", v,
			     integer ? "a whole number" : "a number", lo, hi);
		return -1;
	}
	*out = x;
	return 1;
}

static int loader_set_long(const struct loader *L, const char *key, long lo, long hi, long *dst)
{
	double x;
	int r = loader_number(L, key, (double)lo, (double)hi, true, &x);

	if (r > 0)
		*dst = (long)x;
	return r < 0 ? -1 : 0;
}

static int loader_set_size(const struct loader *L, const char *key, size_t lo, size_t hi,
			   size_t *dst)
{
	long v = (long)*dst;
	int r = loader_set_long(L, key, (long)lo, (long)hi, &v);

	*dst = (size_t)v;
	return r;
}

static int loader_set_unsigned(const struct loader *L, const char *key, unsigned lo,
			       unsigned hi, unsigned *dst)
{
	long v = (long)*dst;
	int r = loader_set_long(L, key, (long)lo, (long)hi, &v);

	*dst = (unsigned)v;
	return r;
}

static int loader_set_weight(const struct loader *L, const char *key, uint32_t *dst,
			     bool positive)
{
	double x;
	uint32_t w;
	int r = loader_number(L, key, 0, 1000, false, &x);

	if (r <= 0)
		return r;
	if (weight_parse(x, &w) < 0 || (positive && w == 0)) {
		loader_error(L, key, 0, "\"%s\" must be %sin steps of 0.001",
			     loader_str(L, key), positive ? "positive, " : "");
		return -1;
	}
	*dst = w;
	return 0;
}

/* Appends this file's values of a list option; check validates each. */
static int loader_append_list(const struct loader *L, const char *key, char ***v, size_t *n,
			      bool (*check)(char *s), const char *what)
{
	cfg_opt_t *o = cfg_getopt(L->sec, key);
	unsigned k = o && (o->flags & CFGF_MODIFIED) ? cfg_opt_size(o) : 0;
	char **nv;
	int rc = 0;

	if (k == 0)
		return 0;
	nv = realloc(*v, (*n + k) * sizeof(**v));
	if (!nv) {
		loader_error(L, key, 0, "out of memory");
		return -1;
	}
	*v = nv;
	for (unsigned i = 0; i < k; i++) {
		char *s = strdup(cfg_opt_getnstr(o, i));

		if (!s) {
			loader_error(L, key, i, "out of memory");
			return -1;
		}
		if (check && !check(s)) {
			loader_error(L, key, i, "\"%s\" is not %s", s, what);
			free(s);
			rc = -1;
			continue;
		}
		(*v)[(*n)++] = s;
	}
	return rc;
}

static bool config_check_whitelist(char *s)
{
	return whitelist_entry_valid(s);
}

/* "user@domain" or "@domain", stored in lower case. */
static bool config_check_spamtrap(char *s)
{
	char *at = strchr(s, '@');

	if (!at || strchr(at + 1, '@') || at[1] == '\0' || strpbrk(s, " \t<>,\"'"))
		return false;
	for (char *p = s; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return true;
}

static bool config_check_journal(char *s)
{
	const char *eq = strchr(s, '=');

	if (strcmp(s, "+") == 0)
		return true;
	if (!eq || eq == s)
		return false;
	for (const char *p = s; p < eq; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

/* A TCP port or a range "first:last", as iptables' multiport match takes them. */
static bool config_check_port(char *s)
{
	unsigned long lo, hi;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	lo = strtoul(s, &end, 10);
	hi = lo;
	if (*end == ':') {
		if (end[1] < '0' || end[1] > '9')
			return false;
		hi = strtoul(end + 1, &end, 10);
	}
	return *end == '\0' && lo >= 1 && lo <= hi && hi <= 65535;
}

static bool config_check_unit(char *s)
{
	return *s != '\0' && !strpbrk(s, " \t/");
}

/* A user name as useradd takes it (Debian-exim, _rspamd) or a uid. */
static bool config_check_user(char *s)
{
	if (*s == '\0' || strlen(s) > 32 || *s == '-')
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
			return false;
	return true;
}

bool config_fleet_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CONFIG_FLEET_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

/* "host:port", "[v6]:port", or a host alone. */
static bool config_check_hostport(char *s)
{
	char host[256];
	unsigned port;

	return addr_split_port(s, 26379, host, sizeof(host), &port) == 0;
}

static int loader_fleet_name(const struct loader *L, const char *key, char **dst)
{
	const char *v = loader_str(L, key);

	if (v && !config_fleet_name_ok(v)) {
		loader_error(L, key, 0, "\"%s\" is not a name of 1 to %d letters, digits, '.', '_' "
			     "or '-'", v, CONFIG_FLEET_NAME_MAX);
		return -1;
	}
	return loader_set_str(L, key, dst);
}

static int loader_fleet(struct loader *L)
{
	struct fleet_conf *fc = &L->c->fleet;
	const char *redis;
	int rc = 0;

	L->sec = cfg_getsec(L->f->cfg, "fleet");
	L->secname = "fleet";
	fc->enabled = true;
	free(fc->where);
	if (asprintf(&fc->where, "%s:%d", L->f->path, loader_line(L, NULL, 0)) < 0) {
		fc->where = NULL;
		return -1;
	}
	redis = loader_str(L, "redis");
	if (redis && redis[0] != '/' && !config_check_hostport((char *)redis)) {
		loader_error(L, "redis", 0, "\"%s\" is neither a socket path nor host:port", redis);
		rc = -1;
	} else {
		rc |= loader_set_str(L, "redis", &fc->redis);
	}
	rc |= loader_append_list(L, "sentinels", &fc->sentinels, &fc->nsentinels,
				 config_check_hostport, "host:port");
	rc |= loader_set_str(L, "master_name", &fc->master_name);
	rc |= loader_set_str(L, "user", &fc->user);
	rc |= loader_set_path(L, "password_file", &fc->password_file);
	rc |= loader_set_path(L, "key_file", &fc->key_file);
	rc |= loader_fleet_name(L, "host", &fc->host);
	rc |= loader_fleet_name(L, "namespace", &fc->ns);
	rc |= loader_set_bool(L, "share_offences", &fc->share_offences);
	return rc ? -1 : 0;
}

static int loader_source(struct loader *L, cfg_t *s)
{
	struct config *c = L->c;
	struct source_conf *src = NULL;
	const char *title = cfg_title(s);
	const char *start;
	int rc = 0;

	for (size_t i = 0; i < c->nsources; i++)
		if (strcmp(c->sources[i].name, title) == 0)
			src = &c->sources[i];
	if (!src) {
		struct source_conf *v = realloc(c->sources, (c->nsources + 1) * sizeof(*v));

		if (!v)
			return -1;
		c->sources = v;
		src = &v[c->nsources];
		memset(src, 0, sizeof(*src));
		src->trusted = true;
		src->name = strdup(title);
		if (!src->name)
			return -1;
		c->nsources++;
	}
	L->sec = s;
	L->secname = "source";
	L->title = title;
	{
		char *where = NULL;

		if (asprintf(&where, "%s:%d", L->f->path, loader_line(L, NULL, 0)) < 0)
			return -1;
		free((char *)src->where);
		src->where = where;
	}
	rc |= loader_set_path(L, "file", &src->file);
	rc |= loader_set_str(L, "program", &src->program);
	rc |= loader_set_path(L, "journal_dir", &src->journal_dir);
	rc |= loader_set_bool(L, "trusted", &src->trusted);
	rc |= loader_append_list(L, "journal", &src->journal, &src->njournal,
				 config_check_journal, "a journal match (FIELD=value or +)");
	rc |= loader_append_list(L, "trusted_units", &src->trusted_units, &src->ntrusted_units,
				 config_check_unit, "a systemd unit name");
	rc |= loader_append_list(L, "trusted_users", &src->trusted_users, &src->ntrusted_users,
				 config_check_user, "a user name or number");
	start = loader_str(L, "start");
	if (start) {
		if (strcmp(start, "beginning") == 0) {
			src->start_beginning = true;
		} else if (strcmp(start, "end") == 0) {
			src->start_beginning = false;
		} else {
			loader_error(L, "start", 0, "\"%s\" is neither \"beginning\" nor \"end\"", start);
			rc = -1;
		}
	}
	return rc ? -1 : 0;
}

static int loader_class(struct loader *L, cfg_t *s)
{
	const char *title = cfg_title(s);
	int id = class_from_name(title);
	struct class_conf *cc;
	int rc = 0;

	L->sec = s;
	L->secname = "class";
	L->title = title;
	if (id < 0 || id == CLASS_CONTEXT) {
		diag_error(L->d, L->f->path, loader_line(L, NULL, 0),
			   "class \"%s\" is not an offence class (unknown-recipient, unknown-sender, "
			   "spamtrap, spam, virus, relay, helo, dnsbl, auth, protocol)", title);
		return -1;
	}
	cc = &L->c->classes[id];
	rc |= loader_set_bool(L, "enabled", &cc->enabled);
	rc |= loader_set_weight(L, "weight", &cc->weight, false);
	{
		double x;
		int r = loader_number(L, "min_score", -1e6, 1e6, false, &x);

		if (r > 0) {
			cc->has_min_score = true;
			cc->min_score = x;
		}
		rc |= r < 0;
	}
	return rc ? -1 : 0;
}

static int loader_apply(struct loader *L)
{
	struct config *c = L->c;
	cfg_t *root = L->f->cfg;
	int rc = 0;

	L->sec = root;
	L->secname = L->title = NULL;
	rc |= loader_set_path(L, "patterns_dir", &c->patterns_dir);
	rc |= loader_set_path(L, "state_dir", &c->state_dir);
	rc |= loader_set_path(L, "control_socket", &c->control_socket);
	rc |= loader_set_str(L, "control_group", &c->control_group);
	rc |= loader_set_weight(L, "threshold", &c->threshold, true);
	rc |= loader_set_duration(L, "findtime", &c->findtime);
	rc |= loader_set_duration(L, "bantime", &c->bantime);
	rc |= loader_set_duration(L, "bantime_max", &c->bantime_max);
	rc |= loader_where(L, "bantime", &c->where_bantime);
	rc |= loader_where(L, "bantime_max", &c->where_bantime_max);
	rc |= loader_set_duration(L, "repeat_window", &c->repeat_window);
	{
		double x;
		int r = loader_number(L, "bantime_factor", 1, 100, false, &x);

		if (r > 0)
			c->bantime_factor = x;
		rc |= r < 0;
	}
	rc |= loader_append_list(L, "whitelist", &c->whitelist, &c->nwhitelist,
				 config_check_whitelist, "an address, a network (CIDR) or a host name");
	rc |= loader_append_list(L, "spamtraps", &c->spamtraps, &c->nspamtraps,
				 config_check_spamtrap, "an address (user@domain) or a domain (@domain)");
	rc |= loader_set_bool(L, "ignore_self", &c->ignore_self);
	rc |= loader_set_size(L, "max_line", 1024, 64u << 20, &c->max_line);
	rc |= loader_set_size(L, "max_tracked", 1000, 100000000, &c->max_tracked);
	rc |= loader_set_duration(L, "correlate_timeout", &c->correlate_timeout);
	rc |= loader_set_size(L, "correlate_max", 100, 10000000, &c->correlate_max);

	if (cfgfile_has(L->f, "ipset", NULL, NULL)) {
		L->sec = cfg_getsec(root, "ipset");
		L->secname = "ipset";
		rc |= loader_set_str(L, "set4", &c->set4);
		rc |= loader_set_str(L, "set6", &c->set6);
		rc |= loader_where(L, "set4", &c->where_set4);
		rc |= loader_where(L, "set6", &c->where_set6);
		/* Coarser than these would ban whole providers for one client. */
		rc |= loader_set_unsigned(L, "ipv4_prefix", 16, 32, &c->ipv4_prefix);
		rc |= loader_set_unsigned(L, "ipv6_prefix", 32, 128, &c->ipv6_prefix);
		rc |= loader_set_long(L, "maxelem", 1024, 1L << 28, &c->ipset_maxelem);
	}
	if (cfgfile_has(L->f, "firewall", NULL, NULL)) {
		const char *t;

		L->sec = cfg_getsec(root, "firewall");
		L->secname = "firewall";
		rc |= loader_append_list(L, "ports", &c->fw_ports, &c->nfw_ports,
					 config_check_port, "a TCP port (25) or range (6000:6010)");
		if (cfgfile_has(L->f, "firewall", NULL, "ports")) {
			free(c->fw_ports_where);
			c->fw_ports_where = NULL;
			if (asprintf(&c->fw_ports_where, "%s:%d", L->f->path,
				     loader_line(L, "ports", 0)) < 0) {
				c->fw_ports_where = NULL;
				rc = -1;
			}
		}
		t = loader_str(L, "target");
		if (t && strcasecmp(t, "auto") && strcasecmp(t, "tarpit") &&
		    strcasecmp(t, "drop") && strcasecmp(t, "reject")) {
			loader_error(L, "target", 0, "\"%s\" is none of auto, tarpit, drop, reject", t);
			rc = -1;
		} else if (t) {
			rc |= loader_set_str(L, "target", &c->fw_target);
			for (char *p = c->fw_target; p && *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char)(*p - 'A' + 'a');
		}
	}
	if (cfgfile_has(L->f, "fleet", NULL, NULL) && loader_fleet(L) < 0)
		rc = -1;
	for (unsigned i = 0; i < cfg_size(root, "source"); i++)
		if (loader_source(L, cfg_getnsec(root, "source", i)) < 0)
			rc = -1;
	for (unsigned i = 0; i < cfg_size(root, "class"); i++)
		if (loader_class(L, cfg_getnsec(root, "class", i)) < 0)
			rc = -1;
	return rc ? -1 : 0;
}

static int config_defaults(struct config *c)
{
	c->patterns_dir = strdup(SYSCONFDIR "/spamwrath/patterns");
	c->state_dir = strdup("/var/lib/spamwrath");
	c->control_socket = strdup("/run/spamwrath/control.sock");
	c->control_group = strdup("spamwrath");
	c->set4 = strdup("spamwrath4");
	c->set6 = strdup("spamwrath6");
	c->fw_target = strdup("auto");
	c->fleet.ns = strdup("spamwrath");
	if (!c->patterns_dir || !c->state_dir || !c->control_socket || !c->control_group ||
	    !c->set4 || !c->set6 || !c->fw_target || !c->fleet.ns)
		return -1;
	c->fleet.share_offences = true;
	c->threshold = WEIGHT_ONE;
	c->findtime = 12 * 3600;
	c->bantime = 12 * 3600;
	c->bantime_factor = 2;
	c->bantime_max = 30 * 86400;
	c->repeat_window = 30 * 86400;
	c->ignore_self = true;
	c->ipv4_prefix = 32;
	c->ipv6_prefix = 64;
	c->ipset_maxelem = 1048576;
	c->max_line = 64 * 1024;
	c->max_tracked = 1000000;
	c->correlate_timeout = 3600;
	c->correlate_max = 100000;
	for (int i = 0; i < CLASS_COUNT; i++) {
		c->classes[i].enabled = true;
		c->classes[i].weight = class_default_weight((enum class_id)i);
	}
	return 0;
}

static int config_load_file(struct config *c, const char *path, const char *basedir,
			    struct diag *d)
{
	struct cfgfile f;
	struct loader L = { .c = c, .d = d, .f = &f, .basedir = basedir };
	int r;

	if (cfgfile_parse(&f, path, config_opts, d) < 0)
		return -1;
	r = loader_apply(&L);
	if (r < 0 && d->errors == 0)
		diag_error(d, path, 0, "out of memory");
	cfgfile_free(&f);
	return r;
}

static int config_load_dropins(struct config *c, const char *basedir, struct diag *d)
{
	char *dir = NULL, **paths;
	int n, rc = 0;

	if (asprintf(&dir, "%s/conf.d", basedir) < 0) {
		diag_error(d, basedir, 0, "out of memory");
		return -1;
	}
	n = cfgfile_list(dir, &paths);
	if (n < 0) {
		if (errno != ENOENT && errno != ENOTDIR) {
			diag_error(d, dir, 0, "%s", strerror(errno));
			rc = -1;
		}
		free(dir);
		return rc;
	}
	for (int i = 0; i < n; i++) {
		if (config_load_file(c, paths[i], basedir, d) < 0)
			rc = -1;
		free(paths[i]);
	}
	free(paths);
	free(dir);
	return rc;
}

/*
 * SMTP (25) unless a file named ports; a list can only grow across files,
 * so the default must not be in it from the start. iptables' multiport
 * match takes 15 ports, a range counting as two.
 */
static int config_firewall_ports(struct config *c, struct diag *d)
{
	const char *where = c->fw_ports_where ? c->fw_ports_where :
		c->path ? c->path : "built-in configuration";
	size_t slots = 0;

	if (c->nfw_ports == 0) {
		c->fw_ports = malloc(sizeof(*c->fw_ports));
		if (!c->fw_ports || !(c->fw_ports[0] = strdup("25"))) {
			diag_error(d, where, 0, "out of memory");
			return -1;
		}
		c->nfw_ports = 1;
	}
	for (size_t i = 0; i < c->nfw_ports; i++)
		slots += strchr(c->fw_ports[i], ':') ? 2 : 1;
	if (slots > 15) {
		diag_error(d, where, 0, "firewall: ports: %zu ports (a range counts as two), "
			   "more than the 15 that iptables' multiport match takes", slots);
		return -1;
	}
	return 0;
}

/* This host's name, as the fleet's default host. */
static char *config_hostname(void)
{
	char buf[256];

	if (gethostname(buf, sizeof(buf) - 1) < 0)
		return NULL;
	buf[sizeof(buf) - 1] = '\0';
	return config_fleet_name_ok(buf) ? strdup(buf) : NULL;
}

static int config_validate_fleet(struct config *c, struct diag *d)
{
	struct fleet_conf *fc = &c->fleet;
	const char *where = fc->where;
	int rc = 0;

	if (!fc->enabled)
		return 0;
	if (!fc->redis == !fc->nsentinels) {
		diag_error(d, where, 0, "fleet: needs redis (a socket or host:port) or sentinels, "
			   "not both");
		rc = -1;
	}
	if (fc->nsentinels && !fc->master_name) {
		diag_error(d, where, 0, "fleet: sentinels need master_name");
		rc = -1;
	}
	if (fc->user && !fc->password_file) {
		diag_error(d, where, 0, "fleet: user needs password_file");
		rc = -1;
	}
	if (!fc->key_file) {
		diag_error(d, where, 0, "fleet: needs key_file (the fleet's shared secret)");
		rc = -1;
	}
	if (!fc->host && !(fc->host = config_hostname())) {
		diag_error(d, where, 0, "fleet: this host's name cannot serve as host: set one");
		rc = -1;
	}
	return rc;
}

/* Rules that involve several keys, checked once every file is in. */
static int config_validate(struct config *c, struct diag *d)
{
	const char *where = c->path ? c->path : "built-in configuration";
	int rc = 0;

	/* named where a file set the second key, else the first */
	if (c->bantime_max < c->bantime) {
		diag_error(d, c->where_bantime_max ? c->where_bantime_max :
			   c->where_bantime ? c->where_bantime : where, 0,
			   "bantime_max (%lds) is shorter than bantime (%lds)",
			   c->bantime_max, c->bantime);
		rc = -1;
	}
	if (strcmp(c->set4, c->set6) == 0) {
		diag_error(d, c->where_set6 ? c->where_set6 : c->where_set4 ? c->where_set4 : where,
			   0, "ipset: set4 and set6 are both \"%s\"", c->set4);
		rc = -1;
	}
	for (size_t i = 0; i < c->nsources; i++) {
		const struct source_conf *s = &c->sources[i];
		bool journal = s->njournal > 0 || s->journal_dir;

		if (!s->file && !journal) {
			diag_error(d, s->where, 0, "source %s: needs file or journal", s->name);
			rc = -1;
		} else if (s->file && journal) {
			diag_error(d, s->where, 0, "source %s: has both file and journal; "
				   "make them two sources", s->name);
			rc = -1;
		}
	}
	if (config_firewall_ports(c, d) < 0 || config_validate_fleet(c, d) < 0)
		rc = -1;
	return rc;
}

int config_load(const char *path, struct config **out, struct diag *d)
{
	struct config *c = calloc(1, sizeof(*c));
	size_t errors = d->errors;
	char *basedir = NULL;

	if (!c || config_defaults(c) < 0) {
		diag_error(d, path ? path : "configuration", 0, "out of memory");
		config_free(c);
		return -1;
	}
	if (path) {
		char *slash;

		c->path = strdup(path);
		basedir = strdup(path);
		if (!c->path || !basedir) {
			diag_error(d, path, 0, "out of memory");
			free(basedir);
			config_free(c);
			return -1;
		}
		slash = strrchr(basedir, '/');
		if (!slash)
			strcpy(basedir, ".");
		else if (slash == basedir)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (config_load_file(c, path, basedir, d) == 0)
			config_load_dropins(c, basedir, d);
	}
	free(basedir);
	if (d->errors == errors)
		config_validate(c, d);
	if (d->errors != errors) {
		config_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

static void config_free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void config_free(struct config *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->patterns_dir);
	free(c->state_dir);
	free(c->control_socket);
	free(c->control_group);
	free(c->set4);
	free(c->set6);
	free(c->where_bantime);
	free(c->where_bantime_max);
	free(c->where_set4);
	free(c->where_set6);
	config_free_list(c->whitelist, c->nwhitelist);
	config_free_list(c->spamtraps, c->nspamtraps);
	config_free_list(c->fw_ports, c->nfw_ports);
	free(c->fw_ports_where);
	free(c->fw_target);
	free(c->fleet.redis);
	config_free_list(c->fleet.sentinels, c->fleet.nsentinels);
	free(c->fleet.master_name);
	free(c->fleet.user);
	free(c->fleet.password_file);
	free(c->fleet.key_file);
	free(c->fleet.host);
	free(c->fleet.ns);
	free(c->fleet.where);
	for (size_t i = 0; i < c->nsources; i++) {
		struct source_conf *s = &c->sources[i];

		free(s->name);
		free(s->file);
		free(s->program);
		free(s->journal_dir);
		free((char *)s->where);
		config_free_list(s->journal, s->njournal);
		config_free_list(s->trusted_units, s->ntrusted_units);
		config_free_list(s->trusted_users, s->ntrusted_users);
	}
	free(c->sources);
	free(c);
}

enum config_kind { KIND_STR, KIND_LIST, KIND_SECONDS, KIND_WEIGHT, KIND_DOUBLE, KIND_BOOL,
		   KIND_SIZE, KIND_UNSIGNED, KIND_LONG };

struct config_key {
	const char *name;
	enum config_kind kind;
	size_t off, count_off;	/* count_off: a list's element count */
};

#define KEY(n, k, f) { n, k, offsetof(struct config, f), 0 }
#define LIST(n, f, cnt) { n, KIND_LIST, offsetof(struct config, f), offsetof(struct config, cnt) }

static const struct config_key config_keys[] = {
	KEY("patterns_dir", KIND_STR, patterns_dir),
	KEY("state_dir", KIND_STR, state_dir),
	KEY("control_socket", KIND_STR, control_socket),
	KEY("control_group", KIND_STR, control_group),
	KEY("threshold", KIND_WEIGHT, threshold),
	KEY("findtime", KIND_SECONDS, findtime),
	KEY("bantime", KIND_SECONDS, bantime),
	KEY("bantime_factor", KIND_DOUBLE, bantime_factor),
	KEY("bantime_max", KIND_SECONDS, bantime_max),
	KEY("repeat_window", KIND_SECONDS, repeat_window),
	LIST("whitelist", whitelist, nwhitelist),
	LIST("spamtraps", spamtraps, nspamtraps),
	KEY("ignore_self", KIND_BOOL, ignore_self),
	KEY("max_line", KIND_SIZE, max_line),
	KEY("max_tracked", KIND_SIZE, max_tracked),
	KEY("correlate_timeout", KIND_SECONDS, correlate_timeout),
	KEY("correlate_max", KIND_SIZE, correlate_max),
	KEY("ipset.set4", KIND_STR, set4),
	KEY("ipset.set6", KIND_STR, set6),
	KEY("ipset.ipv4_prefix", KIND_UNSIGNED, ipv4_prefix),
	KEY("ipset.ipv6_prefix", KIND_UNSIGNED, ipv6_prefix),
	KEY("ipset.maxelem", KIND_LONG, ipset_maxelem),
	LIST("firewall.ports", fw_ports, nfw_ports),
	KEY("firewall.target", KIND_STR, fw_target),
	KEY("fleet.redis", KIND_STR, fleet.redis),
	LIST("fleet.sentinels", fleet.sentinels, fleet.nsentinels),
	KEY("fleet.master_name", KIND_STR, fleet.master_name),
	KEY("fleet.user", KIND_STR, fleet.user),
	KEY("fleet.password_file", KIND_STR, fleet.password_file),
	KEY("fleet.key_file", KIND_STR, fleet.key_file),
	KEY("fleet.host", KIND_STR, fleet.host),
	KEY("fleet.namespace", KIND_STR, fleet.ns),
	KEY("fleet.share_offences", KIND_BOOL, fleet.share_offences),
};

int config_print(const struct config *c, const char *key, FILE *out)
{
	const char *base = (const char *)c;

	for (size_t i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++) {
		const struct config_key *k = &config_keys[i];
		const void *v = base + k->off;

		if (strcmp(k->name, key) != 0)
			continue;
		switch (k->kind) {
		case KIND_STR:
			if (*(char *const *)v)	/* an unset optional key prints nothing */
				fprintf(out, "%s\n", *(char *const *)v);
			break;
		case KIND_LIST: {
			char *const *list = *(char **const *)v;
			size_t n = *(const size_t *)(base + k->count_off);

			for (size_t j = 0; j < n; j++)
				fprintf(out, "%s\n", list[j]);
			break;
		}
		case KIND_SECONDS:
		case KIND_LONG:
			fprintf(out, "%ld\n", *(const long *)v);
			break;
		case KIND_WEIGHT:
			fprintf(out, "%g\n", *(const uint32_t *)v / (double)WEIGHT_ONE);
			break;
		case KIND_DOUBLE:
			fprintf(out, "%g\n", *(const double *)v);
			break;
		case KIND_BOOL:
			fprintf(out, "%s\n", *(const bool *)v ? "yes" : "no");
			break;
		case KIND_SIZE:
			fprintf(out, "%zu\n", *(const size_t *)v);
			break;
		case KIND_UNSIGNED:
			fprintf(out, "%u\n", *(const unsigned *)v);
			break;
		}
		return 0;
	}
	return -1;
}
