/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The configuration is one table, config_rows[] below: a row per key with
 * its section, its type, the field it fills and the range and default of
 * its value. Everything else follows from the table, in the manner of
 * nginx's ngx_command_t arrays: the libconfuse schema (config_schema), the
 * defaults (applied from the rows' text through the very code that reads
 * the files), the reading of each file (config_apply_rows), --get
 * (config_print), --list-keys (config_list_keys) and the freeing. A new key
 * is a new row, and its documentation in spamwrath.conf(5), which
 * tests/integration/manpages.sh holds to the table.
 *
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

/* The sections of a file; a row's field lives in its section's struct. */
enum config_section {
	SEC_TOP,		/* struct config */
	SEC_IPSET,		/* struct config, keys written ipset.KEY */
	SEC_FIREWALL,		/* struct config, keys written firewall.KEY */
	SEC_EXPORT,		/* struct config, keys written export.KEY */
	SEC_FLEET,		/* struct config's fleet, keys written fleet.KEY */
	SEC_SOURCE,		/* struct source_conf, one per title */
	SEC_CLASS,		/* struct class_conf, one per class name */
	SEC_COUNT
};

static const struct {
	const char *name;	/* NULL: the top level */
	int flags;		/* libconfuse's */
} config_sections[SEC_COUNT] = {
	[SEC_TOP] = { NULL, CFGF_NONE },
	[SEC_IPSET] = { "ipset", CFGF_NONE },
	[SEC_FIREWALL] = { "firewall", CFGF_NONE },
	[SEC_EXPORT] = { "export", CFGF_NONE },
	[SEC_FLEET] = { "fleet", CFGF_NONE },
	[SEC_SOURCE] = { "source", CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES },
	[SEC_CLASS] = { "class", CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES },
};

/* One pass over the configuration under construction: a file's, or the
 * defaults' (f NULL), which takes each row's text from the table. */
struct config_pass {
	struct config *c;
	struct diag *d;
	struct cfgfile *f;
	const char *basedir;	/* of the main file: relative paths start here */
	cfg_t *sec;		/* the section being read, or the file's root */
	const char *secname, *title;
};

struct config_row;

/* How the text of a row becomes its field, and how --get prints it. */
struct config_type {
	const char *name;	/* for --list-keys */
	bool list;		/* a libconfuse list: each file appends */
	bool owns;		/* the field holds allocated text: config_free frees it */
	/* Reads the row's value(s) of this pass into base + off: 0, or -1
	 * with the reason in the pass's diag. */
	int (*set)(const struct config_pass *P, const struct config_row *r, char *base);
	void (*print)(const struct config_row *r, const char *base, FILE *out);
	void (*store)(void *field, double x);	/* numbers: the field's C type */
};

struct config_row {
	const char *name;
	enum config_section sec;
	const struct config_type *type;
	size_t off;		/* of the field in the section's struct */
	size_t aux;		/* lists: of the element count; scores: of the "set" flag */
	double lo, hi;		/* numbers: the accepted range */
	bool positive;		/* weights: 0 refused */
	const char *def;	/* the default as a file would write it; NULL: none */
	bool (*check)(char *s);	/* lists: validates (and may normalise) an element */
	const char *what;	/* lists: what an element must be; words: the choices;
				 * texts with maxlen: whose limit that is */
	size_t maxlen;		/* texts, paths: longest accepted in bytes (0: any) */
};

/* --- reading one value --------------------------------------------------- */

static int config_pass_line(const struct config_pass *P, const char *key, unsigned idx)
{
	return P->f ? cfgfile_line(P->f, P->secname, P->title, key, idx) : 0;
}

static void config_pass_error(const struct config_pass *P, const char *key, unsigned idx,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void config_pass_error(const struct config_pass *P, const char *key, unsigned idx,
		       const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	diag_error(P->d, P->f ? P->f->path : "built-in configuration", config_pass_line(P, key, idx),
		   "%s: %s", key, msg ? msg : "invalid value");
	free(msg);
}

/* The row's value when this pass sets it, else NULL. */
static const char *config_pass_value(const struct config_pass *P, const struct config_row *r)
{
	cfg_opt_t *o;

	if (!P->f)
		return r->def;
	o = cfg_getopt(P->sec, r->name);
	if (!o || !(o->flags & CFGF_MODIFIED) || cfg_opt_size(o) == 0)
		return NULL;
	return cfg_opt_getnstr(o, 0);
}

#define FIELD(type, base, r) ((type *)(void *)((base) + (r)->off))

/* --- the types ------------------------------------------------------------- */

/* Replaces the row's text with copy (NULL: out of memory). */
static int config_keep_text(const struct config_pass *P, const struct config_row *r,
			    char *base, char *copy)
{
	char **dst = FIELD(char *, base, r);

	if (!copy) {
		config_pass_error(P, r->name, 0, "out of memory");
		return -1;
	}
	if (r->maxlen && strlen(copy) > r->maxlen) {
		/* cut later, it would name another set or socket */
		config_pass_error(P, r->name, 0, "\"%s\" is %zu bytes long, more than the %zu that %s",
				  copy, strlen(copy), r->maxlen, r->what);
		free(copy);
		return -1;
	}
	free(*dst);
	*dst = copy;
	return 0;
}

static int config_set_str(const struct config_pass *P, const struct config_row *r, char *base)
{
	const char *v = config_pass_value(P, r);

	if (!v)
		return 0;
	if (*v == '\0') {
		config_pass_error(P, r->name, 0, "must not be empty");
		return -1;
	}
	return config_keep_text(P, r, base, strdup(v));
}

/* A relative path is taken from the main file's directory. */
static int config_set_path(const struct config_pass *P, const struct config_row *r, char *base)
{
	const char *v = config_pass_value(P, r);
	char *copy;

	if (!v)
		return 0;
	if (*v == '\0') {
		config_pass_error(P, r->name, 0, "must not be empty");
		return -1;
	}
	if (v[0] == '/' || !P->basedir)
		copy = strdup(v);
	else if (asprintf(&copy, "%s/%s", P->basedir, v) < 0)
		copy = NULL;
	return config_keep_text(P, r, base, copy);
}

/* A text r->check accepts (a fleet's names, Redis's address). */
static int config_set_checked(const struct config_pass *P, const struct config_row *r,
			      char *base)
{
	const char *v = config_pass_value(P, r);
	char *copy;

	if (!v)
		return 0;
	copy = strdup(v);
	if (copy && !r->check(copy)) {
		config_pass_error(P, r->name, 0, "\"%s\" is not %s", v, r->what);
		free(copy);
		return -1;
	}
	return config_keep_text(P, r, base, copy);
}

/* One of the words in r->what ("auto, tarpit, drop"), any case, kept in lower case. */
static int config_set_word(const struct config_pass *P, const struct config_row *r, char *base)
{
	const char *v = config_pass_value(P, r);
	size_t n = v ? strlen(v) : 0;
	char *copy;

	if (!v)
		return 0;
	for (const char *w = r->what; *w; w += strspn(w, ", ")) {
		size_t len = strcspn(w, ", ");

		if (n > 0 && len == n && strncasecmp(w, v, n) == 0) {
			copy = strdup(v);
			for (char *p = copy; p && *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char)(*p - 'A' + 'a');
			return config_keep_text(P, r, base, copy);
		}
		w += len;
	}
	config_pass_error(P, r->name, 0, "\"%s\" is none of %s", v, r->what);
	return -1;
}

static int config_set_duration(const struct config_pass *P, const struct config_row *r,
			       char *base)
{
	const char *v = config_pass_value(P, r);
	long s;
	int rc;

	if (!v)
		return 0;
	rc = duration_parse(v, &s);
	if (rc < 0 || s <= 0) {
		config_pass_error(P, r->name, 0, "\"%s\" is %s", v,
				  duration_error(rc == -2 ? rc : -1));
		return -1;
	}
	*FIELD(long, base, r) = s;
	return 0;
}

static int config_set_bool(const struct config_pass *P, const struct config_row *r, char *base)
{
	static const char *yes[] = { "true", "yes", "on", "1" };
	static const char *no[] = { "false", "no", "off", "0" };
	const char *v = config_pass_value(P, r);

	if (!v)
		return 0;
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*FIELD(bool, base, r) = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*FIELD(bool, base, r) = false;
			return 0;
		}
	}
	config_pass_error(P, r->name, 0, "\"%s\" is not a boolean (yes or no)", v);
	return -1;
}

/* "start": where a file source begins reading the first time. */
static int config_set_start(const struct config_pass *P, const struct config_row *r, char *base)
{
	const char *v = config_pass_value(P, r);

	if (!v)
		return 0;
	if (strcmp(v, "beginning") == 0) {
		*FIELD(bool, base, r) = true;
	} else if (strcmp(v, "end") == 0) {
		*FIELD(bool, base, r) = false;
	} else {
		config_pass_error(P, r->name, 0, "\"%s\" is neither \"beginning\" nor \"end\"", v);
		return -1;
	}
	return 0;
}

/* 1 and *out set, 0 when the pass does not set the row, -1 when out of range. */
static int config_number(const struct config_pass *P, const struct config_row *r,
			 bool integer, double *out)
{
	const char *v = config_pass_value(P, r);
	char *end;
	double x;

	if (!v)
		return 0;
	errno = 0;
	x = strtod(v, &end);
	if (end == v || *end != '\0' || errno || !isfinite(x) || x < r->lo || x > r->hi ||
	    (integer && x != floor(x))) {
		config_pass_error(P, r->name, 0, "\"%s\" is not %s between %g and %g", v,
			   integer ? "a whole number" : "a number", r->lo, r->hi);
		return -1;
	}
	*out = x;
	return 1;
}

static void config_store_double(void *field, double x)
{
	*(double *)field = x;
}

static void config_store_long(void *field, double x)
{
	*(long *)field = (long)x;
}

static void config_store_size(void *field, double x)
{
	*(size_t *)field = (size_t)x;
}

static void config_store_unsigned(void *field, double x)
{
	*(unsigned *)field = (unsigned)x;
}

/* A number in [lo, hi], whole unless the type stores a double. */
static int config_set_number(const struct config_pass *P, const struct config_row *r,
			     char *base)
{
	double x;
	int n = config_number(P, r, r->type->store != config_store_double, &x);

	if (n > 0)
		r->type->store(base + r->off, x);
	return n < 0 ? -1 : 0;
}

/* A number that may stay unset: the flag at aux says whether it is. */
static int config_set_score(const struct config_pass *P, const struct config_row *r,
			    char *base)
{
	double x;
	int n = config_number(P, r, false, &x);

	if (n > 0) {
		*FIELD(double, base, r) = x;
		*(bool *)(void *)(base + r->aux) = true;
	}
	return n < 0 ? -1 : 0;
}

static int config_set_weight(const struct config_pass *P, const struct config_row *r,
			     char *base)
{
	double x;
	uint32_t w;
	int n = config_number(P, r, false, &x);

	if (n <= 0)
		return n;
	if (weight_parse(x, &w) < 0 || (r->positive && w == 0)) {
		config_pass_error(P, r->name, 0, "\"%s\" must be %sin steps of 0.001",
			   config_pass_value(P, r), r->positive ? "positive, " : "");
		return -1;
	}
	*FIELD(uint32_t, base, r) = w;
	return 0;
}

/* Appends this file's values of a list; r->check validates each. */
static int config_set_list(const struct config_pass *P, const struct config_row *r, char *base)
{
	cfg_opt_t *o = P->f ? cfg_getopt(P->sec, r->name) : NULL;
	unsigned k = o && (o->flags & CFGF_MODIFIED) ? cfg_opt_size(o) : 0;
	char ***v = FIELD(char **, base, r);
	size_t *n = (size_t *)(void *)(base + r->aux);
	char **nv;
	int rc = 0;

	if (k == 0)
		return 0;
	nv = realloc(*v, (*n + k) * sizeof(**v));
	if (!nv) {
		config_pass_error(P, r->name, 0, "out of memory");
		return -1;
	}
	*v = nv;
	for (unsigned i = 0; i < k; i++) {
		char *s = strdup(cfg_opt_getnstr(o, i));

		if (!s) {
			config_pass_error(P, r->name, i, "out of memory");
			return -1;
		}
		if (r->check && !r->check(s)) {
			config_pass_error(P, r->name, i, "\"%s\" is not %s", s, r->what);
			free(s);
			rc = -1;
			continue;
		}
		(*v)[(*n)++] = s;
	}
	return rc;
}

/* A text never set (a path without default) prints as an empty line. */
static void config_print_text(const struct config_row *r, const char *base, FILE *out)
{
	const char *v = *FIELD(char *const, base, r);

	if (v)		/* an optional key left unset prints nothing */
		fprintf(out, "%s\n", v);
}

static void config_print_list(const struct config_row *r, const char *base, FILE *out)
{
	char *const *list = *FIELD(char **const, base, r);
	size_t n = *(const size_t *)(const void *)(base + r->aux);

	for (size_t j = 0; j < n; j++)
		fprintf(out, "%s\n", list[j]);
}

static void config_print_long(const struct config_row *r, const char *base, FILE *out)
{
	fprintf(out, "%ld\n", *FIELD(const long, base, r));
}

static void config_print_weight(const struct config_row *r, const char *base, FILE *out)
{
	fprintf(out, "%g\n", *FIELD(const uint32_t, base, r) / (double)WEIGHT_ONE);
}

static void config_print_double(const struct config_row *r, const char *base, FILE *out)
{
	fprintf(out, "%g\n", *FIELD(const double, base, r));
}

static void config_print_bool(const struct config_row *r, const char *base, FILE *out)
{
	fprintf(out, "%s\n", *FIELD(const bool, base, r) ? "yes" : "no");
}

static void config_print_size(const struct config_row *r, const char *base, FILE *out)
{
	fprintf(out, "%zu\n", *FIELD(const size_t, base, r));
}

static void config_print_unsigned(const struct config_row *r, const char *base, FILE *out)
{
	fprintf(out, "%u\n", *FIELD(const unsigned, base, r));
}

static const struct config_type
	type_str = { "string", .owns = true, .set = config_set_str, .print = config_print_text },
	type_path = { "path", .owns = true, .set = config_set_path, .print = config_print_text },
	type_word = { "word", .owns = true, .set = config_set_word, .print = config_print_text },
	type_checked = { "string", .owns = true, .set = config_set_checked,
			 .print = config_print_text },
	type_list = { "list", .list = true, .owns = true, .set = config_set_list,
		      .print = config_print_list },
	type_duration = { "duration", .set = config_set_duration, .print = config_print_long },
	type_bool = { "boolean", .set = config_set_bool, .print = config_print_bool },
	type_start = { "word", .set = config_set_start },
	type_weight = { "weight", .set = config_set_weight, .print = config_print_weight },
	type_double = { "number", .set = config_set_number, .print = config_print_double,
			.store = config_store_double },
	type_score = { "number", .set = config_set_score },
	type_long = { "integer", .set = config_set_number, .print = config_print_long,
		      .store = config_store_long },
	type_size = { "integer", .set = config_set_number, .print = config_print_size,
		      .store = config_store_size },
	type_unsigned = { "integer", .set = config_set_number, .print = config_print_unsigned,
			  .store = config_store_unsigned };

/* --- list elements ----------------------------------------------------- */

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

/* A pattern's name as pattern files allow it (the patterns are loaded
 * after the configuration and say whether it exists). */
static bool config_check_pattern_name(char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || (i > 0 && strchr("-_.", s[i]))))
			return false;
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

static bool config_check_fleet_name(char *s)
{
	return config_fleet_name_ok(s);
}

/* "host:port", "[v6]:port", or a host alone. */
static bool config_check_hostport(char *s)
{
	char host[256];
	unsigned port;

	return addr_split_port(s, 1, host, sizeof(host), &port) == 0;
}

/* Redis: a Unix socket's path, or host:port. */
static bool config_check_redis(char *s)
{
	return s[0] == '/' ? strlen(s) <= CONFIG_SOCKET_MAX : config_check_hostport(s);
}

/* --- the table ----------------------------------------------------------- */

#define TOP(f) .off = offsetof(struct config, f)
#define FLT(f) .off = offsetof(struct config, fleet.f)
#define SRC(f) .off = offsetof(struct source_conf, f)
#define CLS(f) .off = offsetof(struct class_conf, f)
#define LIST_OF(st, f, n) .off = offsetof(st, f), .aux = offsetof(st, n)
#define RANGE(l, h) .lo = (l), .hi = (h)

/*
 * Rows are read in this order, so a file's errors come in this order too.
 * A default is written as a file would write it and goes through the same
 * conversion and checks. Lists start empty; a class's weight starts at
 * class_default_weight() (config_defaults).
 */
static const struct config_row config_rows[] = {
	{ "patterns_dir", SEC_TOP, &type_path, TOP(patterns_dir),
	  .def = SYSCONFDIR "/spamwrath/patterns" },
	{ "state_dir", SEC_TOP, &type_path, TOP(state_dir), .def = "/var/lib/spamwrath" },
	{ "control_socket", SEC_TOP, &type_path, TOP(control_socket),
	  .def = "/run/spamwrath/control.sock", .maxlen = CONFIG_SOCKET_MAX,
	  .what = "a Unix socket's path may have" },
	{ "control_group", SEC_TOP, &type_str, TOP(control_group), .def = "spamwrath" },
	{ "threshold", SEC_TOP, &type_weight, TOP(threshold), RANGE(0, 1000), .positive = true,
	  .def = "1" },
	{ "findtime", SEC_TOP, &type_duration, TOP(findtime), .def = "12h" },
	{ "bantime", SEC_TOP, &type_duration, TOP(bantime), .def = "12h" },
	{ "bantime_max", SEC_TOP, &type_duration, TOP(bantime_max), .def = "30d" },
	{ "repeat_window", SEC_TOP, &type_duration, TOP(repeat_window), .def = "30d" },
	{ "bantime_factor", SEC_TOP, &type_double, TOP(bantime_factor), RANGE(1, 100),
	  .def = "2" },
	{ "whitelist", SEC_TOP, &type_list, LIST_OF(struct config, whitelist, nwhitelist),
	  .check = config_check_whitelist,
	  .what = "an address, a network (CIDR) or a host name" },
	{ "spamtraps", SEC_TOP, &type_list, LIST_OF(struct config, spamtraps, nspamtraps),
	  .check = config_check_spamtrap,
	  .what = "an address (user@domain) or a domain (@domain)" },
	{ "enable_patterns", SEC_TOP, &type_list,
	  LIST_OF(struct config, enable_patterns, nenable_patterns),
	  .check = config_check_pattern_name, .what = "a pattern's name" },
	{ "disable_patterns", SEC_TOP, &type_list,
	  LIST_OF(struct config, disable_patterns, ndisable_patterns),
	  .check = config_check_pattern_name, .what = "a pattern's name" },
	{ "ignore_self", SEC_TOP, &type_bool, TOP(ignore_self), .def = "yes" },
	{ "max_line", SEC_TOP, &type_size, TOP(max_line), RANGE(1024, 64u << 20),
	  .def = "65536" },
	{ "max_tracked", SEC_TOP, &type_size, TOP(max_tracked), RANGE(1000, 100000000),
	  .def = "1000000" },
	{ "correlate_timeout", SEC_TOP, &type_duration, TOP(correlate_timeout), .def = "1h" },
	{ "correlate_max", SEC_TOP, &type_size, TOP(correlate_max), RANGE(100, 10000000),
	  .def = "100000" },

	{ "set4", SEC_IPSET, &type_str, TOP(set4), .def = "spamwrath4",
	  .maxlen = CONFIG_SET_NAME_MAX, .what = "the kernel takes for a set's name" },
	{ "set6", SEC_IPSET, &type_str, TOP(set6), .def = "spamwrath6",
	  .maxlen = CONFIG_SET_NAME_MAX, .what = "the kernel takes for a set's name" },
	/* Coarser than these would ban whole providers for one client. */
	{ "ipv4_prefix", SEC_IPSET, &type_unsigned, TOP(ipv4_prefix), RANGE(16, 32),
	  .def = "32" },
	{ "ipv6_prefix", SEC_IPSET, &type_unsigned, TOP(ipv6_prefix), RANGE(32, 128),
	  .def = "64" },
	{ "maxelem", SEC_IPSET, &type_long, TOP(ipset_maxelem), RANGE(1024, 1L << 28),
	  .def = "1048576" },

	/* ports: "25" unless a file names some (config_firewall_ports). */
	{ "ports", SEC_FIREWALL, &type_list, LIST_OF(struct config, fw_ports, nfw_ports),
	  .check = config_check_port, .what = "a TCP port (25) or range (6000:6010)" },
	{ "target", SEC_FIREWALL, &type_word, TOP(fw_target), .what = "auto, tarpit, drop, reject",
	  .def = "auto" },

	/* Files spamwrathd keeps rewritten (atomically) for other programs;
	 * none unless named. */
	{ "metrics_file", SEC_EXPORT, &type_path, TOP(metrics_file) },
	{ "metrics_interval", SEC_EXPORT, &type_duration, TOP(metrics_interval), .def = "15s" },
	{ "rbldnsd_file", SEC_EXPORT, &type_path, TOP(rbldnsd_file) },
	/* A fleet: used only when a file has the section (config_validate_fleet). */
	{ "redis", SEC_FLEET, &type_checked, FLT(redis), .check = config_check_redis,
	  .what = "a Unix socket's path or host:port" },
	{ "sentinels", SEC_FLEET, &type_list, LIST_OF(struct config, fleet.sentinels,
	  fleet.nsentinels), .check = config_check_hostport, .what = "host:port" },
	{ "master_name", SEC_FLEET, &type_str, FLT(master_name) },
	{ "user", SEC_FLEET, &type_str, FLT(user) },
	{ "password_file", SEC_FLEET, &type_path, FLT(password_file) },
	{ "key_file", SEC_FLEET, &type_path, FLT(key_file) },
	{ "host", SEC_FLEET, &type_checked, FLT(host), .check = config_check_fleet_name,
	  .what = "a name of 1 to 64 letters, digits, '.', '_' or '-'" },
	{ "namespace", SEC_FLEET, &type_checked, FLT(ns), .check = config_check_fleet_name,
	  .what = "a name of 1 to 64 letters, digits, '.', '_' or '-'", .def = "spamwrath" },
	{ "share_offences", SEC_FLEET, &type_bool, FLT(share_offences), .def = "yes" },

	{ "file", SEC_SOURCE, &type_path, SRC(file) },
	{ "program", SEC_SOURCE, &type_str, SRC(program) },
	{ "journal_dir", SEC_SOURCE, &type_path, SRC(journal_dir) },
	{ "trusted", SEC_SOURCE, &type_bool, SRC(trusted), .def = "yes" },
	{ "journal", SEC_SOURCE, &type_list, LIST_OF(struct source_conf, journal, njournal),
	  .check = config_check_journal, .what = "a journal match (FIELD=value or +)" },
	{ "trusted_units", SEC_SOURCE, &type_list,
	  LIST_OF(struct source_conf, trusted_units, ntrusted_units),
	  .check = config_check_unit, .what = "a systemd unit name" },
	{ "trusted_users", SEC_SOURCE, &type_list,
	  LIST_OF(struct source_conf, trusted_users, ntrusted_users),
	  .check = config_check_user, .what = "a user name or number" },
	{ "start", SEC_SOURCE, &type_start, SRC(start_beginning), .def = "end" },

	{ "enabled", SEC_CLASS, &type_bool, CLS(enabled), .def = "yes" },
	{ "weight", SEC_CLASS, &type_weight, CLS(weight), RANGE(0, 1000) },
	{ "min_score", SEC_CLASS, &type_score, CLS(min_score), .aux = offsetof(struct class_conf,
	  has_min_score), RANGE(-1e6, 1e6) },
};

#define CONFIG_NROWS (sizeof(config_rows) / sizeof(config_rows[0]))

/* Where each row was last set: "FILE:LINE", NULL while its default holds. */
struct config_origin {
	char *at[CONFIG_NROWS];
};

/* Where key (of an untitled section) was last set, else NULL. */
static const char *config_where(const struct config *c, const char *key)
{
	for (size_t i = 0; i < CONFIG_NROWS; i++)
		if (config_rows[i].sec < SEC_SOURCE && strcmp(config_rows[i].name, key) == 0)
			return c->origin->at[i];
	return NULL;
}

/* --- the libconfuse schema ---------------------------------------------- */

/* Every value is a string (or a list of them): config_rows converts. */
struct config_schema {
	cfg_opt_t opts[SEC_COUNT][CONFIG_NROWS + SEC_COUNT + 1];
};

static cfg_opt_t *config_schema(struct config_schema *s)
{
	size_t n[SEC_COUNT] = { 0 };

	for (size_t i = 0; i < CONFIG_NROWS; i++) {
		const struct config_row *r = &config_rows[i];

		s->opts[r->sec][n[r->sec]++] = r->type->list ?
			(cfg_opt_t)CFG_STR_LIST(r->name, NULL, CFGF_NODEFAULT) :
			(cfg_opt_t)CFG_STR(r->name, NULL, CFGF_NODEFAULT);
	}
	for (int sec = SEC_TOP + 1; sec < SEC_COUNT; sec++) {
		s->opts[sec][n[sec]] = (cfg_opt_t)CFG_END();
		s->opts[SEC_TOP][n[SEC_TOP]++] = (cfg_opt_t)CFG_SEC(config_sections[sec].name,
			s->opts[sec], config_sections[sec].flags);
	}
	s->opts[SEC_TOP][n[SEC_TOP]] = (cfg_opt_t)CFG_END();
	return s->opts[SEC_TOP];
}

/* --- applying the rows ------------------------------------------------- */

/* Reads the rows of section sec of this pass into base. */
static int config_apply_rows(struct config_pass *P, enum config_section sec, char *base)
{
	int rc = 0;

	for (size_t i = 0; i < CONFIG_NROWS; i++) {
		const struct config_row *r = &config_rows[i];
		char **at = &P->c->origin->at[i];

		if (r->sec != sec)
			continue;
		if (r->type->set(P, r, base) < 0)
			rc = -1;
		if (!P->f || sec >= SEC_SOURCE || !cfgfile_has(P->f, P->secname, NULL, r->name))
			continue;
		free(*at);
		if (asprintf(at, "%s:%d", P->f->path, config_pass_line(P, r->name, 0)) < 0) {
			*at = NULL;
			config_pass_error(P, r->name, 0, "out of memory");
			rc = -1;
		}
	}
	return rc;
}

static int config_apply_source(struct config_pass *P, cfg_t *s)
{
	struct config *c = P->c;
	struct source_conf *src = NULL;
	const char *title = cfg_title(s);
	char *where = NULL;

	for (size_t i = 0; i < c->nsources; i++)
		if (strcmp(c->sources[i].name, title) == 0)
			src = &c->sources[i];
	if (!src) {
		struct config_pass defaults = { .c = c, .d = P->d };
		struct source_conf *v = realloc(c->sources, (c->nsources + 1) * sizeof(*v));

		if (!v)
			return -1;
		c->sources = v;
		src = &v[c->nsources];
		memset(src, 0, sizeof(*src));
		src->name = strdup(title);
		if (!src->name)
			return -1;
		c->nsources++;
		if (config_apply_rows(&defaults, SEC_SOURCE, (char *)src) < 0)
			return -1;
	}
	P->sec = s;
	P->secname = "source";
	P->title = title;
	if (asprintf(&where, "%s:%d", P->f->path, config_pass_line(P, NULL, 0)) < 0)
		return -1;
	free((char *)src->where);
	src->where = where;
	return config_apply_rows(P, SEC_SOURCE, (char *)src);
}

static int config_apply_class(struct config_pass *P, cfg_t *s)
{
	const char *title = cfg_title(s);
	int id = class_from_name(title);

	P->sec = s;
	P->secname = "class";
	P->title = title;
	if (id < 0 || id == CLASS_CONTEXT) {
		diag_error(P->d, P->f->path, config_pass_line(P, NULL, 0),
			   "class \"%s\" is not an offence class (unknown-recipient, unknown-sender, "
			   "spamtrap, spam, virus, relay, helo, dnsbl, auth, protocol)", title);
		return -1;
	}
	return config_apply_rows(P, SEC_CLASS, (char *)&P->c->classes[id]);
}

/* A fleet section: the fleet is on; where, for the messages of its rules. */
static int config_fleet_where(struct config_pass *P)
{
	struct fleet_conf *fc = &P->c->fleet;

	fc->enabled = true;
	free(fc->where);
	if (asprintf(&fc->where, "%s:%d", P->f->path, config_pass_line(P, NULL, 0)) < 0) {
		fc->where = NULL;
		return -1;
	}
	return 0;
}

static int config_apply(struct config_pass *P)
{
	cfg_t *root = P->f->cfg;
	int rc = 0;

	P->sec = root;
	P->secname = P->title = NULL;
	rc |= config_apply_rows(P, SEC_TOP, (char *)P->c);
	for (int sec = SEC_IPSET; sec <= SEC_FLEET; sec++) {
		P->secname = config_sections[sec].name;
		if (!cfgfile_has(P->f, P->secname, NULL, NULL))
			continue;
		P->sec = cfg_getsec(root, P->secname);
		rc |= config_apply_rows(P, (enum config_section)sec, (char *)P->c);
		if (sec == SEC_FLEET)
			rc |= config_fleet_where(P);
	}
	for (unsigned i = 0; i < cfg_size(root, "source"); i++)
		if (config_apply_source(P, cfg_getnsec(root, "source", i)) < 0)
			rc = -1;
	for (unsigned i = 0; i < cfg_size(root, "class"); i++)
		if (config_apply_class(P, cfg_getnsec(root, "class", i)) < 0)
			rc = -1;
	return rc ? -1 : 0;
}

static int config_defaults(struct config *c, struct diag *d)
{
	struct config_pass P = { .c = c, .d = d };
	int rc = 0;

	c->origin = calloc(1, sizeof(*c->origin));
	if (!c->origin)
		return -1;
	for (int sec = SEC_TOP; sec <= SEC_FLEET; sec++)
		rc |= config_apply_rows(&P, (enum config_section)sec, (char *)c);
	for (int i = 0; i < CLASS_COUNT; i++) {
		rc |= config_apply_rows(&P, SEC_CLASS, (char *)&c->classes[i]);
		c->classes[i].weight = class_default_weight((enum class_id)i);
	}
	return rc;
}

/* --- files ---------------------------------------------------------------- */

const char *config_default_path(void)
{
	return SYSCONFDIR "/spamwrath/spamwrath.conf";
}

static int config_load_file(struct config *c, const char *path, const char *basedir,
			    struct diag *d)
{
	struct config_schema schema;
	struct cfgfile f;
	struct config_pass P = { .c = c, .d = d, .f = &f, .basedir = basedir };
	int r;

	if (cfgfile_parse(&f, path, config_schema(&schema), d) < 0)
		return -1;
	r = config_apply(&P);
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

/* --- rules across keys ----------------------------------------------------- */

/*
 * SMTP (25) unless a file named ports; a list can only grow across files,
 * so the default must not be in it from the start. iptables' multiport
 * match takes 15 ports, a range counting as two.
 */
static int config_firewall_ports(struct config *c, struct diag *d)
{
	const char *where = config_where(c, "ports");
	size_t slots = 0;

	if (!where)
		where = c->path ? c->path : "built-in configuration";
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

/* Where a rule between two keys is reported: where a file set the second
 * key, else the first, else the main file. */
static const char *config_where2(const struct config *c, const char *first, const char *second)
{
	const char *w = config_where(c, second);

	if (!w)
		w = config_where(c, first);
	if (!w)
		w = c->path ? c->path : "built-in configuration";
	return w;
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
	int rc = 0;

	if (c->bantime_max < c->bantime) {
		diag_error(d, config_where2(c, "bantime", "bantime_max"), 0,
			   "bantime_max (%lds) is shorter than bantime (%lds)",
			   c->bantime_max, c->bantime);
		rc = -1;
	}
	if (strcmp(c->set4, c->set6) == 0) {
		diag_error(d, config_where2(c, "set4", "set6"), 0,
			   "ipset: set4 and set6 are both \"%s\"", c->set4);
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

/* The directory of path, where relative paths in the files start. */
static char *config_basedir(const char *path)
{
	char *basedir = strdup(path), *slash;

	if (!basedir)
		return NULL;
	slash = strrchr(basedir, '/');
	if (!slash)
		strcpy(basedir, ".");
	else if (slash == basedir)
		slash[1] = '\0';
	else
		*slash = '\0';
	return basedir;
}

int config_load(const char *path, struct config **out, struct diag *d)
{
	struct config *c = calloc(1, sizeof(*c));
	size_t errors = d->errors;
	char *basedir = NULL;

	if (!c || config_defaults(c, d) < 0) {
		if (d->errors == errors)
			diag_error(d, path ? path : "configuration", 0, "out of memory");
		config_free(c);
		return -1;
	}
	if (path) {
		c->path = strdup(path);
		basedir = config_basedir(path);
		if (!c->path || !basedir) {
			diag_error(d, path, 0, "out of memory");
			free(basedir);
			config_free(c);
			return -1;
		}
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

/* --- freeing, printing ---------------------------------------------------- */

/* Frees what the rows of section sec hold in base. */
static void config_free_rows(enum config_section sec, char *base)
{
	for (size_t i = 0; i < CONFIG_NROWS; i++) {
		const struct config_row *r = &config_rows[i];

		if (r->sec != sec || !r->type->owns)
			continue;
		if (r->type->list) {
			char **v = *FIELD(char **, base, r);
			size_t n = *(size_t *)(void *)(base + r->aux);

			for (size_t j = 0; j < n; j++)
				free(v[j]);
		}
		free(*FIELD(void *, base, r));
	}
}

void config_free(struct config *c)
{
	if (!c)
		return;
	free(c->path);
	for (int sec = SEC_TOP; sec <= SEC_FLEET; sec++)
		config_free_rows((enum config_section)sec, (char *)c);
	free(c->fleet.where);
	for (size_t i = 0; c->origin && i < CONFIG_NROWS; i++)
		free(c->origin->at[i]);
	free(c->origin);
	for (size_t i = 0; i < c->nsources; i++) {
		struct source_conf *s = &c->sources[i];

		free(s->name);
		free((char *)s->where);
		config_free_rows(SEC_SOURCE, (char *)s);
	}
	free(c->sources);
	free(c);
}

/* True when key names row r: "findtime", "ipset.set4". */
static bool config_row_is(const struct config_row *r, const char *key)
{
	const char *sec = config_sections[r->sec].name;
	size_t n = sec ? strlen(sec) : 0;

	if (sec && (strncmp(key, sec, n) != 0 || key[n] != '.'))
		return false;
	return strcmp(key + (sec ? n + 1 : 0), r->name) == 0;
}

int config_print(const struct config *c, const char *key, FILE *out)
{
	for (size_t i = 0; i < CONFIG_NROWS; i++) {
		const struct config_row *r = &config_rows[i];

		if (r->sec >= SEC_SOURCE || !config_row_is(r, key))
			continue;
		r->type->print(r, (const char *)c, out);
		return 0;
	}
	return -1;
}

void config_list_keys(FILE *out)
{
	for (size_t i = 0; i < CONFIG_NROWS; i++) {
		const struct config_row *r = &config_rows[i];
		const char *sec = config_sections[r->sec].name;

		fprintf(out, "%s%s%s %s\n", sec ? sec : "", sec ? "." : "", r->name,
			r->type->name);
	}
}
