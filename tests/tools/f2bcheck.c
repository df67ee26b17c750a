/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * f2bcheck: compares `spamwrathctl test --json` events over one of
 * fail2ban's annotated sample logs with the "# failJSON:" annotation of
 * each log line. Used by tests/integration/conformance.sh.
 *
 *   f2bcheck NAME LOGFILE EVENTS
 *
 * Rules (the test runs with every class enabled, i.e. like fail2ban's
 * most inclusive mode):
 *  - a "match": true line is detected when an offence or ignored event of
 *    that line names its "host";
 *  - an event that names another address on a "match": true line is a
 *    wrong address;
 *  - an event on a "match": false line is a false positive, except when the
 *    line shares its queue id with a "match": true line of the same host
 *    (Sendmail's "QID: <x>... User unknown" waits for the "QID: from=...
 *    relay=" line: the address comes from the linked line, and the event
 *    belongs to the line that waited);
 *  - a "match": false annotation only holds in a narrower fail2ban mode,
 *    and is not checked, when its block's filterOptions name modes and
 *    none of them is "aggressive", or when the very same log line is
 *    annotated "match": true elsewhere in the file (fail2ban's way of
 *    saying "aggressive mode only").
 * Exit 0 when at least 95 % of the true lines are detected and there is
 * no wrong address and no false positive, 1 otherwise, 2 on bad input.
 */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

struct annot {
	long line;		/* physical line of the log line */
	char *text;
	bool match;
	char host[ADDR_STRLEN];
	bool narrow;		/* annotated in a narrower mode's block */
	bool skip;		/* a negative not checked (see above) */
	char qid[32];
	bool detected, linked, wrong, falsepos;
};

static struct annot *annots;
static size_t nannots, capannots;

static void canon(const char *s, char *out, size_t len)
{
	struct addr a;

	if (addr_parse(s, strlen(s), &a) == 0) {
		char buf[ADDR_STRLEN];

		snprintf(out, len, "%s", addr_format(&a, buf));
	} else {
		snprintf(out, len, "%s", s);
	}
}

/* The queue id right after "tag[pid]: " (Sendmail, Postfix), or "". */
static void find_qid(const char *line, char *out, size_t len)
{
	const char *p = strstr(line, "]: ");

	out[0] = '\0';
	if (!p)
		return;
	p += 3;
	size_t n = strspn(p, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
	if (n >= 8 && n < len && p[n] == ':')
		snprintf(out, len, "%.*s", (int)n, p);
}

/* True when the filterOptions JSON names modes, none of them aggressive. */
static bool narrow_options(const char *json)
{
	struct json_object *o = json_tokener_parse(json), *mode;
	bool narrow = true;
	size_t n;

	if (!o)
		return false;
	if (json_object_is_type(o, json_type_object)) {
		narrow = json_object_object_get_ex(o, "mode", &mode) &&
			 strcmp(json_object_get_string(mode), "aggressive") != 0;
	} else if (json_object_is_type(o, json_type_array)) {
		n = json_object_array_length(o);
		for (size_t i = 0; i < n; i++) {
			struct json_object *e = json_object_array_get_idx(o, i);

			if (!json_object_object_get_ex(e, "mode", &mode) ||
			    strcmp(json_object_get_string(mode), "aggressive") == 0)
				narrow = false;
		}
	} else {
		narrow = false;
	}
	json_object_put(o);
	return narrow;
}

static int read_log(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *pending = NULL;
	size_t cap = 0;
	ssize_t len;
	long ln = 0;
	bool narrow = false;

	if (!f) {
		perror(path);
		return -1;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		ln++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (strncmp(line, "# filterOptions:", 16) == 0) {
			narrow = narrow_options(line + 16);
		} else if (strncmp(line, "# failJSON:", 11) == 0) {
			free(pending);
			pending = strdup(line + 11);
		} else if (len > 0 && line[0] != '#' && pending) {
			struct json_object *o = json_tokener_parse(pending), *v;
			struct annot *a;

			free(pending);
			pending = NULL;
			if (!o) {
				fprintf(stderr, "%s:%ld: bad failJSON\n", path, ln - 1);
				continue;
			}
			if (nannots == capannots) {
				capannots = capannots ? 2 * capannots : 128;
				annots = realloc(annots, capannots * sizeof(*annots));
				if (!annots)
					abort();
			}
			a = &annots[nannots++];
			memset(a, 0, sizeof(*a));
			a->line = ln;
			a->text = strdup(line);
			a->narrow = narrow;
			a->match = json_object_object_get_ex(o, "match", &v) &&
				   json_object_get_boolean(v);
			if (json_object_object_get_ex(o, "host", &v))
				canon(json_object_get_string(v), a->host, sizeof(a->host));
			find_qid(line, a->qid, sizeof(a->qid));
			json_object_put(o);
		}
	}
	free(line);
	free(pending);
	fclose(f);
	return 0;
}

static struct annot *annot_at(long line)
{
	for (size_t i = 0; i < nannots; i++)
		if (annots[i].line == line)
			return &annots[i];
	return NULL;
}

static void mark_skips(void)
{
	for (size_t i = 0; i < nannots; i++) {
		struct annot *a = &annots[i];

		if (a->match)
			continue;
		if (a->narrow)
			a->skip = true;
		for (size_t k = 0; k < nannots && !a->skip; k++)
			if (annots[k].match && strcmp(annots[k].text, a->text) == 0)
				a->skip = true;
	}
}

/* The true line that shares a's queue id and names host, or NULL. */
static struct annot *linked_true(const struct annot *a, const char *host)
{
	if (!a->qid[0])
		return NULL;
	for (size_t i = 0; i < nannots; i++)
		if (annots[i].match && strcmp(annots[i].qid, a->qid) == 0 &&
		    strcmp(annots[i].host, host) == 0)
			return &annots[i];
	return NULL;
}

static int read_events(const char *path, const char *name)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	if (!f) {
		perror(path);
		return -1;
	}
	while (getline(&line, &cap, f) >= 0) {
		struct json_object *o = json_tokener_parse(line), *ev, *ln, *ad;
		const char *kind;
		char host[ADDR_STRLEN + 64];
		struct annot *a, *t;

		if (!o) {
			fprintf(stderr, "%s: not JSON: %s", path, line);
			rc = -1;
			continue;
		}
		if (!json_object_object_get_ex(o, "event", &ev) ||
		    !json_object_object_get_ex(o, "line", &ln) ||
		    !json_object_object_get_ex(o, "address", &ad)) {
			json_object_put(o);
			continue;
		}
		kind = json_object_get_string(ev);
		if (strcmp(kind, "offence") != 0 && strcmp(kind, "ignored") != 0) {
			json_object_put(o);
			continue;
		}
		canon(json_object_get_string(ad), host, sizeof(host));
		a = annot_at((long)json_object_get_int64(ln));
		if (!a) {
			printf("%s: line %ld: event for %s on a line without annotation\n", name,
			       (long)json_object_get_int64(ln), host);
			rc = -1;
		} else if (a->match && strcmp(a->host, host) == 0) {
			a->detected = true;
		} else if (a->match) {
			a->wrong = true;
			printf("%s: line %ld: WRONG ADDRESS %s, expected %s\n", name, a->line, host,
			       a->host);
		} else if ((t = linked_true(a, host)) != NULL) {
			t->detected = t->linked = true;
		} else if (!a->skip) {
			a->falsepos = true;
			printf("%s: line %ld: FALSE POSITIVE %s on a match:false line\n", name,
			       a->line, host);
		}
		json_object_put(o);
	}
	free(line);
	fclose(f);
	return rc;
}

int main(int argc, char **argv)
{
	size_t pos = 0, det = 0, linked = 0, wrong = 0, neg = 0, skipped = 0, fp = 0;
	double pct;
	bool ok;

	if (argc != 4) {
		fprintf(stderr, "usage: f2bcheck NAME LOGFILE EVENTS\n");
		return 2;
	}
	if (read_log(argv[2]) < 0)
		return 2;
	mark_skips();
	if (read_events(argv[3], argv[1]) < 0)
		return 2;
	for (size_t i = 0; i < nannots; i++) {
		struct annot *a = &annots[i];

		if (a->match) {
			pos++;
			det += a->detected;
			linked += a->linked;
			wrong += a->wrong;
			if (!a->detected)
				printf("%s: line %ld: missed (%s): %.120s\n", argv[1], a->line, a->host,
				       a->text);
		} else if (a->skip) {
			skipped++;
		} else {
			neg++;
			fp += a->falsepos;
		}
	}
	pct = pos ? 100.0 * (double)det / (double)pos : 100.0;
	ok = pos > 0 && det * 100 >= pos * 95 && wrong == 0 && fp == 0;
	printf("%-16s match:true %3zu, detected %3zu (%5.1f %%, %zu through a linked line), "
	       "wrong address %zu; match:false %zu checked, %zu with an address, "
	       "%zu of narrower modes not checked: %s\n", argv[1], pos, det, pct, linked, wrong,
	       neg, fp, skipped, ok ? "ok" : "FAIL");
	for (size_t i = 0; i < nannots; i++)
		free(annots[i].text);
	free(annots);
	return ok ? 0 : 1;
}
