/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfgfile.h"
#include "literal.h"
#include "names.h"
#include "pattern.h"

static cfg_opt_t pattern_opts[] = {
	CFG_STR("class", NULL, CFGF_NODEFAULT),
	CFG_STR_LIST("program", NULL, CFGF_NODEFAULT),
	CFG_STR("regex", NULL, CFGF_NODEFAULT),
	CFG_STR("weight", NULL, CFGF_NODEFAULT),
	CFG_STR("qid_end", NULL, CFGF_NODEFAULT),
	CFG_STR("enabled", NULL, CFGF_NODEFAULT),
	CFG_STR("note", NULL, CFGF_NODEFAULT),
	CFG_STR("signal", NULL, CFGF_NODEFAULT),
	CFG_STR("description", NULL, CFGF_NODEFAULT),
	CFG_END()
};

static cfg_opt_t pattern_file_opts[] = {
	CFG_SEC("pattern", pattern_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_END()
};

static const char *capture_names[CAP_COUNT] = {
	[CAP_ADDR] = "addr",
	[CAP_QID] = "qid",
	[CAP_RCPT] = "rcpt",
	[CAP_SENDER] = "sender",
	[CAP_SCORE] = "score",
};

const char *capture_name(enum capture c)
{
	return (unsigned)c < CAP_COUNT ? capture_names[c] : "?";
}

bool pattern_wants_tag(const struct pattern *p, const char *tag)
{
	for (size_t i = 0; i < p->nprograms; i++)
		if (fnmatch(p->programs[i], tag, 0) == 0)
			return true;
	return false;
}

static void pattern_clear(struct pattern *p)
{
	for (size_t i = 0; i < p->nprograms; i++)
		free(p->programs[i]);
	free(p->programs);
	free(p->source);
	free(p->lead);
	if (p->re)
		pcre2_code_free(p->re);
	memset(p, 0, sizeof(*p));
}

void patternset_free(struct patternset *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		pattern_clear(&ps->v[i]);
	for (size_t i = 0; i < ps->nneedles; i++)
		free(ps->needles[i].s);
	free(ps->needles);
	free(ps->v);
	memset(ps, 0, sizeof(*ps));
}

static bool pattern_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (i > 0 && (c == '-' || c == '_' || c == '.'))))
			return false;
	}
	return true;
}

/* Reads the name table: which group numbers carry which capture. */
static int pattern_groups(struct pattern *p, const struct cfgfile *f, const char *title,
			  int line, struct diag *d)
{
	uint32_t count = 0, size = 0;
	PCRE2_SPTR table = NULL;

	pcre2_pattern_info(p->re, PCRE2_INFO_NAMECOUNT, &count);
	pcre2_pattern_info(p->re, PCRE2_INFO_NAMEENTRYSIZE, &size);
	pcre2_pattern_info(p->re, PCRE2_INFO_NAMETABLE, &table);
	for (uint32_t i = 0; i < count; i++) {
		PCRE2_SPTR e = table + (size_t)i * size;
		unsigned group = ((unsigned)e[0] << 8) | e[1];
		const char *name = (const char *)e + 2;
		int c;

		for (c = 0; c < CAP_COUNT; c++)
			if (strcmp(name, capture_names[c]) == 0)
				break;
		if (c == CAP_COUNT) {
			diag_error(d, f->path, line, "pattern %s: named group \"%s\" is not one of "
				   "addr, qid, rcpt, sender, score (use (?:...) to group)", title, name);
			return -1;
		}
		if (p->ngroups[c] == CAPTURE_MAX_GROUPS) {
			diag_error(d, f->path, line, "pattern %s: more than %d groups named \"%s\"",
				   title, CAPTURE_MAX_GROUPS, name);
			return -1;
		}
		/* the table lists a name's groups together, in order */
		p->ngroups[c]++;
		p->slot[p->nslots++] = (struct capture_slot){ (uint8_t)c, (uint16_t)group };
	}
	return 0;
}

static int pattern_compile(struct pattern *p, const struct cfgfile *f, const char *title,
			   const char *regex, int line, struct diag *d)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	int err;

	/* Byte mode, not UTF: log lines may hold any bytes. */
	p->re = pcre2_compile((PCRE2_SPTR)regex, PCRE2_ZERO_TERMINATED, PCRE2_DUPNAMES,
			      &err, &off, NULL);
	if (!p->re) {
		pcre2_get_error_message(err, msg, sizeof(msg));
		diag_error(d, f->path, line, "pattern %s: regex does not compile at offset %zu: %s",
			   title, (size_t)off, (const char *)msg);
		return -1;
	}
	if (pattern_groups(p, f, title, line, d) < 0)
		return -1;
	/* a session's start needs no capture: the line's process is its news */
	if (!p->ngroups[CAP_ADDR] && !p->ngroups[CAP_QID] && p->signal != SIGNAL_CONNECT) {
		diag_error(d, f->path, line, "pattern %s: regex captures neither (?<addr>...) "
			   "nor (?<qid>...)", title);
		return -1;
	}
	p->source = strdup(regex);
	if (!p->source) {
		diag_error(d, f->path, line, "out of memory");
		return -1;
	}
	/* JIT needs memory it can write and execute; under a sandbox that
	 * forbids it the interpreter does the same work, more slowly. */
	p->jit = pcre2_jit_compile(p->re, PCRE2_JIT_COMPLETE) == 0;
	return 0;
}

static int pattern_bool(const struct cfgfile *f, cfg_t *s, const char *title, const char *key,
			bool *out, struct diag *d)
{
	const char *v = cfg_getstr(s, key);

	if (!v)
		return 0;
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1")) {
		*out = true;
	} else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcmp(v, "0")) {
		*out = false;
	} else {
		diag_error(d, f->path, cfgfile_line(f, "pattern", title, key, 0),
			   "pattern %s: %s: \"%s\" is not a boolean (yes or no)", title, key, v);
		return -1;
	}
	return 0;
}

static int pattern_signal(const struct cfgfile *f, cfg_t *s, const char *title,
			  enum pattern_signal *out, struct diag *d)
{
	const char *v = cfg_getstr(s, "signal");

	if (!v)
		return 0;
	if (strcmp(v, "accepted") == 0) {
		*out = SIGNAL_ACCEPTED;
	} else if (strcmp(v, "connect") == 0) {
		*out = SIGNAL_CONNECT;
	} else {
		diag_error(d, f->path, cfgfile_line(f, "pattern", title, "signal", 0),
			   "pattern %s: signal \"%s\" is not accepted or connect", title, v);
		return -1;
	}
	return 0;
}

/*
 * The bytes a match of an anchored pattern can start with: PCRE2 works
 * them out for the same regex without its "^" (a match at the start of the
 * line is a match of that one too). Nothing when it cannot say.
 */
static void pattern_first_bytes(struct pattern *p)
{
	uint32_t opts = 0, type = 0, unit = 0;
	const uint8_t *map = NULL;
	pcre2_code *re;
	PCRE2_SIZE off;
	int err;

	p->has_first = false;
	pcre2_pattern_info(p->re, PCRE2_INFO_ALLOPTIONS, &opts);
	if (!(opts & PCRE2_ANCHORED) || p->source[0] != '^')
		return;
	re = pcre2_compile((PCRE2_SPTR)p->source + 1, PCRE2_ZERO_TERMINATED, PCRE2_DUPNAMES, &err,
			   &off, NULL);
	if (!re)
		return;
	pcre2_pattern_info(re, PCRE2_INFO_FIRSTCODETYPE, &type);
	if (type == 1) {
		pcre2_pattern_info(re, PCRE2_INFO_FIRSTCODEUNIT, &unit);
		memset(p->first, 0, sizeof(p->first));
		p->first[unit / 8] |= (uint8_t)(1u << (unit % 8));
		p->has_first = unit < 256;
	} else if (pcre2_pattern_info(re, PCRE2_INFO_FIRSTBITMAP, &map) == 0 && map) {
		memcpy(p->first, map, sizeof(p->first));
		p->has_first = true;
	}
	pcre2_code_free(re);
}

/* Gives p its lead and its needle (shared with the other patterns of ps
 * that have it). -1 when out of memory. */
static int pattern_set_literals(struct patternset *ps, struct pattern *p)
{
	struct literals l;
	struct needle *v;

	p->needle = PATTERN_NO_NEEDLE;
	if (literal_read(p->source, 3, &l) < 0)
		return -1;
	p->lead = l.lead;
	p->lead_len = (uint32_t)l.lead_len;
	p->lead_at = (uint8_t)l.lead_at;
	p->lead_skip = (uint32_t)l.lead_skip;
	if (!l.needle)
		return 0;
	for (size_t i = 0; i < ps->nneedles; i++) {
		if (ps->needles[i].len == l.needle_len &&
		    memcmp(ps->needles[i].s, l.needle, l.needle_len) == 0) {
			p->needle = (uint32_t)i;
			free(l.needle);
			return 0;
		}
	}
	v = realloc(ps->needles, (ps->nneedles + 1) * sizeof(*v));
	if (!v) {
		free(l.needle);
		return -1;
	}
	ps->needles = v;
	v[ps->nneedles] = (struct needle){ l.needle, l.needle_len,
					   literal_anchor(l.needle, l.needle_len) };
	p->needle = (uint32_t)ps->nneedles++;
	return 0;
}

static const struct pattern *patternset_find(const struct patternset *ps, uint32_t name)
{
	for (size_t i = 0; i < ps->n; i++)
		if (ps->v[i].name == name)
			return &ps->v[i];
	return NULL;
}

static int pattern_load(struct patternset *ps, const struct cfgfile *f, cfg_t *s,
			struct diag *d)
{
	const char *title = cfg_title(s);
	int line = cfgfile_line(f, "pattern", title, NULL, 0);
	const char *cls = cfg_getstr(s, "class");
	const char *regex = cfg_getstr(s, "regex");
	const char *w = cfg_getstr(s, "weight");
	unsigned nprog = cfg_size(s, "program");
	struct pattern p = { .weight = WEIGHT_ONE, .line = line, .enabled = true };
	const struct pattern *dup;
	int id, rc = 0;

	p.file = names_intern(f->path, strlen(f->path));
	if (!pattern_name_ok(title)) {
		diag_error(d, f->path, line, "pattern name \"%s\" must be letters, digits, "
			   "'-', '_' or '.' (at most 64)", title);
		return -1;
	}
	p.name = names_intern(title, strlen(title));
	if (p.name == UINT32_MAX || p.file == UINT32_MAX) {
		diag_error(d, f->path, line, "out of memory");
		return -1;
	}
	dup = patternset_find(ps, p.name);
	if (dup) {
		diag_error(d, f->path, line, "pattern %s: already defined at %s:%d", title,
			   names_get(dup->file), dup->line);
		return -1;
	}
	if (!cls) {
		diag_error(d, f->path, line, "pattern %s: no class", title);
		rc = -1;
	} else if ((id = class_from_name(cls)) < 0) {
		diag_error(d, f->path, cfgfile_line(f, "pattern", title, "class", 0),
			   "pattern %s: unknown class \"%s\" (unknown-recipient, unknown-sender, "
			   "spamtrap, spam, virus, relay, helo, dnsbl, auth, protocol, context)",
			   title, cls);
		rc = -1;
	} else {
		p.cls = (enum class_id)id;
	}
	if (nprog == 0) {
		diag_error(d, f->path, line, "pattern %s: no program (the syslog tags it applies "
			   "to, e.g. program = { \"postfix*/smtpd\" })", title);
		rc = -1;
	}
	if (w) {
		char *end;
		double x = strtod(w, &end);

		if (end == w || *end || weight_parse(x, &p.weight) < 0) {
			diag_error(d, f->path, cfgfile_line(f, "pattern", title, "weight", 0),
				   "pattern %s: weight \"%s\" is not a number from 0 to 1000 "
				   "in steps of 0.001", title, w);
			rc = -1;
		}
	}
	if (pattern_bool(f, s, title, "qid_end", &p.qid_end, d) < 0 ||
	    pattern_bool(f, s, title, "enabled", &p.enabled, d) < 0 ||
	    pattern_bool(f, s, title, "note", &p.note, d) < 0 ||
	    pattern_signal(f, s, title, &p.signal, d) < 0)
		rc = -1;
	if (rc == 0 && p.note && p.cls == CLASS_CONTEXT) {
		diag_error(d, f->path, cfgfile_line(f, "pattern", title, "note", 0),
			   "pattern %s: note = yes needs an offence class, not context", title);
		rc = -1;
	}
	if (rc == 0 && p.signal != SIGNAL_NONE && p.cls != CLASS_CONTEXT) {
		diag_error(d, f->path, cfgfile_line(f, "pattern", title, "signal", 0),
			   "pattern %s: signal is for class context only", title);
		rc = -1;
	}
	if (!regex) {
		diag_error(d, f->path, line, "pattern %s: no regex", title);
		rc = -1;
	} else if (pattern_compile(&p, f, title, regex,
				   cfgfile_line(f, "pattern", title, "regex", 0), d) < 0) {
		rc = -1;
	}
	if (rc == 0 && p.qid_end && !p.ngroups[CAP_QID]) {
		diag_error(d, f->path, line, "pattern %s: qid_end without (?<qid>...)", title);
		rc = -1;
	}
	if (rc == 0) {
		p.programs = calloc(nprog, sizeof(*p.programs));
		for (unsigned i = 0; p.programs && i < nprog; i++) {
			p.programs[i] = strdup(cfg_getnstr(s, "program", i));
			if (!p.programs[i])
				break;
			p.nprograms++;
		}
		if (p.nprograms != nprog) {
			diag_error(d, f->path, line, "out of memory");
			rc = -1;
		}
	}
	if (rc == 0) {
		struct pattern *v = realloc(ps->v, (ps->n + 1) * sizeof(*v));
		uint32_t cap = 0;

		if (!v) {
			diag_error(d, f->path, line, "out of memory");
			rc = -1;
		} else {
			ps->v = v;
			pattern_first_bytes(&p);
			if (pattern_set_literals(ps, &p) < 0) {
				diag_error(d, f->path, line, "out of memory");
				pattern_clear(&p);
				return -1;
			}
			p.whole = p.lead && p.lead_at == LITERAL_START && p.source[0] == '^' &&
				  strlen(p.source) == 1 + (size_t)p.lead_len &&
				  memcmp(p.source + 1, p.lead, p.lead_len) == 0;
			pcre2_pattern_info(p.re, PCRE2_INFO_CAPTURECOUNT, &cap);
			if (cap > ps->max_capture)
				ps->max_capture = cap;
			ps->njit += p.jit;
			v[ps->n++] = p;
			return 0;
		}
	}
	pattern_clear(&p);
	return rc;
}

int patternset_load_file(struct patternset *ps, const char *path, struct diag *d)
{
	struct cfgfile f;
	size_t errors = d->errors;

	if (cfgfile_parse(&f, path, pattern_file_opts, d) < 0)
		return -1;
	for (unsigned i = 0; i < cfg_size(f.cfg, "pattern"); i++)
		pattern_load(ps, &f, cfg_getnsec(f.cfg, "pattern", i), d);
	cfgfile_free(&f);
	ps->nfiles++;
	return d->errors == errors ? 0 : -1;
}

int patternset_load_dir(struct patternset *ps, const char *dir, struct diag *d)
{
	char **paths;
	int n, rc = 0;

	memset(ps, 0, sizeof(*ps));
	n = cfgfile_list(dir, &paths);
	if (n < 0) {
		diag_error(d, dir, 0, "cannot read the patterns directory: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (patternset_load_file(ps, paths[i], d) < 0)
			rc = -1;
		free(paths[i]);
	}
	free(paths);
	if (rc == 0 && ps->n == 0) {
		diag_error(d, dir, 0, "no patterns (*.conf files with pattern sections)");
		rc = -1;
	}
	if (rc < 0)
		patternset_free(ps);
	return rc;
}

/* Sets enabled on the patterns of names; -1 when one is not loaded. */
static int patternset_set(struct patternset *ps, char *const *names, size_t n, bool on,
			  const char *key, const char *where, struct diag *d)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t id = names_intern(names[i], strlen(names[i]));
		struct pattern *p = NULL;

		for (size_t k = 0; k < ps->n && !p; k++)
			if (ps->v[k].name == id)
				p = &ps->v[k];
		if (!p) {
			diag_error(d, where, 0, "%s: no pattern named \"%s\" is loaded", key, names[i]);
			rc = -1;
			continue;
		}
		p->enabled = on;
	}
	return rc;
}

int patternset_choose(struct patternset *ps, char *const *enable, size_t nenable,
		      char *const *disable, size_t ndisable, const char *where, struct diag *d)
{
	int rc = patternset_set(ps, enable, nenable, true, "enable_patterns", where, d);

	if (patternset_set(ps, disable, ndisable, false, "disable_patterns", where, d) < 0)
		rc = -1;
	return rc;
}
