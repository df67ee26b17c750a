/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"
#define UNIT_TMP_NAME "config"
#include "unit_tmp.h"

/* --- a configuration directory of our own, written by each test --- */

/* Writes dir/name (creating conf.d when needed); returns the full path. */
static const char *put(const char *name, const char *text)
{
	char confd[256];

	if (strncmp(name, "conf.d/", 7) == 0) {
		snprintf(confd, sizeof(confd), "%s/conf.d", dir);
		ck_assert(mkdir(confd, 0700) == 0 || errno == EEXIST);
	}
	return unit_put(name, text);
}

static char main_path[256];

static const char *put_main(const char *text)
{
	snprintf(main_path, sizeof(main_path), "%s", put("spamwrath.conf", text));
	return main_path;
}

/* The messages of a failed load, one per line, with the directory as DIR. */
static const char *load_err(const char *path)
{
	struct config *c = (struct config *)0x1;	/* must stay untouched */
	struct diag d = { 0 };
	const char *out;

	ck_assert_int_eq(config_load(path, &c, &d), -1);
	ck_assert_ptr_eq(c, (struct config *)0x1);
	ck_assert_uint_gt(d.errors, 0);
	out = unit_diag_text(&d);
	diag_free(&d);
	return out;
}

static struct config *load_ok(const char *path)
{
	struct config *c = NULL;
	struct diag d = { 0 };

	if (config_load(path, &c, &d) < 0) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", d.msgs[i]);
		ck_abort_msg("config_load failed");
	}
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(d.errors, 0);
	diag_free(&d);
	return c;
}

/* dir + "/" + rel, to compare resolved paths. */
static const char *in_dir(const char *rel)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "%s/%s", dir, rel);
	return buf;
}

static const struct source_conf *source(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->nsources; i++)
		if (strcmp(c->sources[i].name, name) == 0)
			return &c->sources[i];
	ck_abort_msg("no source %s", name);
	return NULL;
}

/* --- defaults --- */

START_TEST(builtin_defaults)
{
	struct config *c = load_ok(NULL);

	ck_assert_ptr_null(c->path);
	ck_assert_str_eq(c->patterns_dir, SYSCONFDIR "/spamwrath/patterns");
	ck_assert_str_eq(c->state_dir, "/var/lib/spamwrath");
	ck_assert_str_eq(c->control_socket, "/run/spamwrath/control.sock");
	ck_assert_str_eq(c->control_group, "spamwrath");
	ck_assert_uint_eq(c->threshold, 1000);
	ck_assert_int_eq(c->findtime, 43200);
	ck_assert_int_eq(c->bantime, 43200);
	ck_assert(c->bantime_factor == 2.0);
	ck_assert_int_eq(c->bantime_max, 2592000);
	ck_assert_int_eq(c->repeat_window, 2592000);
	ck_assert_uint_eq(c->nwhitelist, 0);
	ck_assert_uint_eq(c->nspamtraps, 0);
	ck_assert(c->ignore_self);
	ck_assert_str_eq(c->set4, "spamwrath4");
	ck_assert_str_eq(c->set6, "spamwrath6");
	ck_assert_uint_eq(c->ipv4_prefix, 32);
	ck_assert_uint_eq(c->ipv6_prefix, 64);
	ck_assert_int_eq(c->ipset_maxelem, 1048576);
	ck_assert_str_eq(c->backend, "ipset");
	ck_assert_str_eq(c->nft_table, "spamwrath");
	ck_assert_str_eq(c->nft_set4, "banned4");
	ck_assert_str_eq(c->nft_set6, "banned6");
	ck_assert_int_eq(c->nft_size, 1048576);
	ck_assert_uint_eq(c->nsources, 0);
	ck_assert_uint_eq(c->max_line, 65536);
	ck_assert_uint_eq(c->max_tracked, 1000000);
	ck_assert_int_eq(c->correlate_timeout, 3600);
	ck_assert_uint_eq(c->correlate_max, 100000);
	for (int i = 0; i < CLASS_COUNT; i++) {
		ck_assert(c->classes[i].enabled);
		ck_assert_uint_eq(c->classes[i].weight, class_default_weight((enum class_id)i));
		ck_assert(!c->classes[i].has_min_score);
	}
	ck_assert_uint_eq(c->classes[CLASS_AUTH].weight, 200);
	ck_assert_str_eq(config_default_path(), SYSCONFDIR "/spamwrath/spamwrath.conf");
	config_free(c);
}
END_TEST

START_TEST(empty_file)
{
	struct config *c = load_ok(put_main("# nothing set\n"));

	ck_assert_str_eq(c->path, main_path);
	ck_assert_int_eq(c->bantime, 43200);
	ck_assert_str_eq(c->patterns_dir, SYSCONFDIR "/spamwrath/patterns");
	config_free(c);
}
END_TEST

/* --- a full configuration --- */

START_TEST(full)
{
	struct config *c;
	const struct source_conf *s;

	c = load_ok(put_main(
		"# every key of the schema\n"
		"patterns_dir   = \"patterns\"\n"
		"state_dir      = \"/var/lib/spamwrath-test\"\n"
		"control_socket = \"/run/spamwrath-test/control.sock\"\n"
		"control_group  = \"mailadm\"\n"
		"threshold      = 1\n"
		"findtime       = 90s\n"
		"bantime        = 15m\n"
		"bantime_factor = 2.5\n"
		"bantime_max    = 7d\n"
		"repeat_window  = 1w\n"
		"whitelist = { \"192.0.2.0/24\", \"2001:db8:25::/48\", \"198.51.100.7\", "
		"\"backup-mx.example.net\" }\n"
		"spamtraps = { \"trap@example.org\", \"@honeypot.example.net\" }\n"
		"ignore_self = no\n"
		"max_line = 131072\n"
		"max_tracked = 5000\n"
		"correlate_timeout = 30m\n"
		"correlate_max = 2000\n"
		"ipset {\n"
		"    set4 = \"sw4\"\n"
		"    set6 = \"sw6\"\n"
		"    ipv4_prefix = 24\n"
		"    ipv6_prefix = 56\n"
		"    maxelem = 65536\n"
		"}\n"
		"source maillog { file = \"/var/log/mail.log\" }\n"
		"source exim    { file = \"/var/log/exim4/mainlog\"  program = \"exim\" "
		"start = beginning }\n"
		"source journal { journal = { \"_SYSTEMD_UNIT=postfix@-.service\", "
		"\"SYSLOG_IDENTIFIER=mimedefang.pl\" }\n"
		"                 trusted = no  trusted_units = { \"mimedefang.service\" } }\n"
		"source files   { journal_dir = \"journal\" }\n"
		"class spam { min_score = 15 }\n"
		"class auth { weight = 0.2 }\n"
		"class relay { enabled = false }\n"
		"class helo { weight = 0.75  enabled = yes }\n"));
	ck_assert_str_eq(c->path, main_path);
	ck_assert_str_eq(c->patterns_dir, in_dir("patterns"));
	ck_assert_str_eq(c->state_dir, "/var/lib/spamwrath-test");
	ck_assert_str_eq(c->control_socket, "/run/spamwrath-test/control.sock");
	ck_assert_str_eq(c->control_group, "mailadm");
	ck_assert_uint_eq(c->threshold, 1000);
	ck_assert_int_eq(c->findtime, 90);
	ck_assert_int_eq(c->bantime, 900);
	ck_assert(c->bantime_factor == 2.5);
	ck_assert_int_eq(c->bantime_max, 604800);
	ck_assert_int_eq(c->repeat_window, 604800);
	ck_assert_uint_eq(c->nwhitelist, 4);
	ck_assert_str_eq(c->whitelist[0], "192.0.2.0/24");
	ck_assert_str_eq(c->whitelist[1], "2001:db8:25::/48");
	ck_assert_str_eq(c->whitelist[2], "198.51.100.7");
	ck_assert_str_eq(c->whitelist[3], "backup-mx.example.net");
	ck_assert_uint_eq(c->nspamtraps, 2);
	ck_assert_str_eq(c->spamtraps[0], "trap@example.org");
	ck_assert_str_eq(c->spamtraps[1], "@honeypot.example.net");
	ck_assert(!c->ignore_self);
	ck_assert_uint_eq(c->max_line, 131072);
	ck_assert_uint_eq(c->max_tracked, 5000);
	ck_assert_int_eq(c->correlate_timeout, 1800);
	ck_assert_uint_eq(c->correlate_max, 2000);
	ck_assert_str_eq(c->set4, "sw4");
	ck_assert_str_eq(c->set6, "sw6");
	ck_assert_uint_eq(c->ipv4_prefix, 24);
	ck_assert_uint_eq(c->ipv6_prefix, 56);
	ck_assert_int_eq(c->ipset_maxelem, 65536);

	ck_assert_uint_eq(c->nsources, 4);
	s = source(c, "maillog");
	ck_assert_str_eq(s->file, "/var/log/mail.log");
	ck_assert_ptr_null(s->program);
	ck_assert_uint_eq(s->njournal, 0);
	ck_assert(!s->start_beginning);
	ck_assert(s->trusted);
	s = source(c, "exim");
	ck_assert_str_eq(s->file, "/var/log/exim4/mainlog");
	ck_assert_str_eq(s->program, "exim");
	ck_assert(s->start_beginning);
	s = source(c, "journal");
	ck_assert_ptr_null(s->file);
	ck_assert_uint_eq(s->njournal, 2);
	ck_assert_str_eq(s->journal[0], "_SYSTEMD_UNIT=postfix@-.service");
	ck_assert_str_eq(s->journal[1], "SYSLOG_IDENTIFIER=mimedefang.pl");
	ck_assert(!s->trusted);
	ck_assert_uint_eq(s->ntrusted_units, 1);
	ck_assert_str_eq(s->trusted_units[0], "mimedefang.service");
	s = source(c, "files");
	ck_assert_str_eq(s->journal_dir, in_dir("journal"));
	{
		char where[300];

		snprintf(where, sizeof(where), "%s:30", main_path);
		ck_assert_str_eq(source(c, "files")->where, where);
	}

	ck_assert(c->classes[CLASS_SPAM].has_min_score);
	ck_assert(c->classes[CLASS_SPAM].min_score == 15);
	ck_assert_uint_eq(c->classes[CLASS_SPAM].weight, 1000);
	ck_assert_uint_eq(c->classes[CLASS_AUTH].weight, 200);
	ck_assert(!c->classes[CLASS_RELAY].enabled);
	ck_assert_uint_eq(c->classes[CLASS_HELO].weight, 750);
	ck_assert(c->classes[CLASS_HELO].enabled);
	ck_assert(c->classes[CLASS_VIRUS].enabled);
	ck_assert(!c->classes[CLASS_VIRUS].has_min_score);
	config_free(c);
}
END_TEST

START_TEST(shipped_file)
{
	/* the configuration the package installs loads as it is */
	struct config *c = load_ok(UNIT_DATA("../conf.d/spamwrath.conf"));

	ck_assert_uint_eq(c->threshold, 1000);
	config_free(c);
}
END_TEST

/* --get knows every key of the table outside titled sections, by the
 * name --list-keys gives it, and no other. */
START_TEST(table_keys)
{
	struct config *c = load_ok(NULL);
	char *text = NULL, *line, *save = NULL;
	size_t len = 0, n = 0, get = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	config_list_keys(f);
	ck_assert_int_eq(fclose(f), 0);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char key[64], type[32], *out = NULL;
		size_t outlen = 0;
		FILE *o = open_memstream(&out, &outlen);

		ck_assert_ptr_nonnull(o);
		ck_assert_int_eq(sscanf(line, "%63s %31s", key, type), 2);
		n++;
		if (strncmp(key, "source.", 7) == 0 || strncmp(key, "class.", 6) == 0) {
			ck_assert_int_eq(config_print(c, key, o), -1);
		} else {
			ck_assert_msg(config_print(c, key, o) == 0, "--get %s", key);
			get++;
		}
		ck_assert_int_eq(fclose(o), 0);
		free(out);
	}
	ck_assert_uint_gt(n, 30);
	ck_assert_uint_gt(get, 20);
	ck_assert_int_eq(config_print(c, "set4", stdout), -1);
	ck_assert_int_eq(config_print(c, "ipset.", stdout), -1);
	ck_assert_int_eq(config_print(c, "ipsetset4", stdout), -1);
	free(text);
	config_free(c);
}
END_TEST

/* --- errors: FILE:LINE: reason --- */

#define ERR(text, want) ck_assert_str_eq(load_err(put_main(text)), want)

START_TEST(unknown_key)
{
	ERR("threshold = 1\nfindtim = 12h\n",
	    "DIR/spamwrath.conf:2: no such option 'findtim'\n");
	ERR("\n\nclass spam {\n  min_score = 15\n  minscore = 15\n}\n",
	    "DIR/spamwrath.conf:5: no such option 'minscore'\n");
	ERR("ipset {\n  set5 = \"x\"\n}\n",
	    "DIR/spamwrath.conf:2: no such option 'set5'\n");
}
END_TEST

START_TEST(bad_duration)
{
	ERR("findtime = 12h\n\n\nbantime = 12x\n",
	    "DIR/spamwrath.conf:4: bantime: \"12x\" is not a duration (90s, 15m, 12h, 7d or "
	    "seconds)\n");
	ERR("findtime = 1h30m\n",
	    "DIR/spamwrath.conf:1: findtime: \"1h30m\" is not a duration (90s, 15m, 12h, 7d or "
	    "seconds)\n");
	ERR("repeat_window = 0\n",
	    "DIR/spamwrath.conf:1: repeat_window: \"0\" is not a duration (90s, 15m, 12h, 7d or "
	    "seconds)\n");
	ERR("correlate_timeout = -5m\n",
	    "DIR/spamwrath.conf:1: correlate_timeout: \"-5m\" is not a duration (90s, 15m, 12h, "
	    "7d or seconds)\n");
	/* past the cap (issue 17, item 6): said so, not "not a duration" */
	ERR("bantime_max = 9223372036854775807s\n",
	    "DIR/spamwrath.conf:1: bantime_max: \"9223372036854775807s\" is longer than 3650d, "
	    "the longest span spamwrath takes\n");
	ERR("bantime_max = 3651d\n",
	    "DIR/spamwrath.conf:1: bantime_max: \"3651d\" is longer than 3650d, the longest span "
	    "spamwrath takes\n");
}
END_TEST

START_TEST(bad_whitelist)
{
	/* the bad entry on the third line of a list: that line */
	ERR("# whitelist\n"
	    "whitelist = { \"192.0.2.0/24\",\n"
	    "              \"2001:db8:25::/48\",\n"
	    "              \"192.0.2.1/24\",\n"
	    "              \"backup-mx.example.net\" }\n",
	    "DIR/spamwrath.conf:4: whitelist: \"192.0.2.1/24\" is not an address, a network "
	    "(CIDR) or a host name\n");
	/* every bad entry, each on its own line */
	ERR("whitelist = {\n"
	    "  \"10.0.0.0/33\",\n"
	    "  \"198.51.100.7\",\n"
	    "  \"192.0.2.300\",\n"
	    "  \"bad_name.example\"\n"
	    "}\n",
	    "DIR/spamwrath.conf:2: whitelist: \"10.0.0.0/33\" is not an address, a network "
	    "(CIDR) or a host name\n"
	    "DIR/spamwrath.conf:4: whitelist: \"192.0.2.300\" is not an address, a network "
	    "(CIDR) or a host name\n"
	    "DIR/spamwrath.conf:5: whitelist: \"bad_name.example\" is not an address, a network "
	    "(CIDR) or a host name\n");
	/* appended with +=: the line of the appended value */
	ERR("whitelist = { \"192.0.2.0/24\" }\n"
	    "\n"
	    "whitelist += { \"198.51.100.7\",\n"
	    "               \"2001:db8::/129\" }\n",
	    "DIR/spamwrath.conf:4: whitelist: \"2001:db8::/129\" is not an address, a network "
	    "(CIDR) or a host name\n");
}
END_TEST

START_TEST(bad_spamtrap)
{
	ERR("spamtraps = { \"trap@example.org\",\n"
	    "  \"trap\",\n"
	    "  \"a@b@example.org\", \"user@\", \"<trap@example.org>\" }\n",
	    "DIR/spamwrath.conf:2: spamtraps: \"trap\" is not an address (user@domain) or a "
	    "domain (@domain)\n"
	    "DIR/spamwrath.conf:3: spamtraps: \"a@b@example.org\" is not an address "
	    "(user@domain) or a domain (@domain)\n"
	    "DIR/spamwrath.conf:3: spamtraps: \"user@\" is not an address (user@domain) or a "
	    "domain (@domain)\n"
	    "DIR/spamwrath.conf:3: spamtraps: \"<trap@example.org>\" is not an address "
	    "(user@domain) or a domain (@domain)\n");
}
END_TEST

START_TEST(bad_class)
{
	ERR("threshold = 1\n\nclass spma {\n  min_score = 15\n}\n",
	    "DIR/spamwrath.conf:3: class \"spma\" is not an offence class (unknown-recipient, "
	    "unknown-sender, spamtrap, spam, virus, relay, helo, dnsbl, auth, protocol)\n");
	ERR("class spam { min_score = 15 }\nclass context { weight = 1 }\n",
	    "DIR/spamwrath.conf:2: class \"context\" is not an offence class (unknown-recipient, "
	    "unknown-sender, spamtrap, spam, virus, relay, helo, dnsbl, auth, protocol)\n");
	ERR("class auth {\n  weight = 1001\n}\n",
	    "DIR/spamwrath.conf:2: weight: \"1001\" is not a number between 0 and 1000\n");
	ERR("class auth {\n  weight = 0.0005\n}\n",
	    "DIR/spamwrath.conf:2: weight: \"0.0005\" must be in steps of 0.001\n");
	ERR("class relay {\n  enabled = maybe\n}\n",
	    "DIR/spamwrath.conf:2: enabled: \"maybe\" is not a boolean (yes or no)\n");
	ERR("class spam {\n\n  min_score = lots\n}\n",
	    "DIR/spamwrath.conf:3: min_score: \"lots\" is not a number between -1e+06 and "
	    "1e+06\n");
}
END_TEST

START_TEST(bad_numbers)
{
	ERR("ipset {\n  set4 = \"sw4\"\n  ipv4_prefix = 8\n}\n",
	    "DIR/spamwrath.conf:3: ipv4_prefix: \"8\" is not a whole number between 16 and 32\n");
	ERR("ipset {\n  ipv6_prefix = 129\n}\n",
	    "DIR/spamwrath.conf:2: ipv6_prefix: \"129\" is not a whole number between 32 and "
	    "128\n");
	ERR("ipset {\n  ipv4_prefix = 24.5\n}\n",
	    "DIR/spamwrath.conf:2: ipv4_prefix: \"24.5\" is not a whole number between 16 and "
	    "32\n");
	ERR("threshold = 0\n",
	    "DIR/spamwrath.conf:1: threshold: \"0\" must be positive, in steps of 0.001\n");
	ERR("threshold = x\n",
	    "DIR/spamwrath.conf:1: threshold: \"x\" is not a number between 0 and 1000\n");
	ERR("bantime_factor = 0.5\n",
	    "DIR/spamwrath.conf:1: bantime_factor: \"0.5\" is not a number between 1 and 100\n");
	ERR("max_tracked = 10\n",
	    "DIR/spamwrath.conf:1: max_tracked: \"10\" is not a whole number between 1000 and "
	    "1e+08\n");
	ERR("ignore_self = 2\n",
	    "DIR/spamwrath.conf:1: ignore_self: \"2\" is not a boolean (yes or no)\n");
	ERR("state_dir = \"\"\n",
	    "DIR/spamwrath.conf:1: state_dir: must not be empty\n");
}
END_TEST

START_TEST(bad_sources)
{
	ERR("source maillog { file = \"/var/log/mail.log\" }\n"
	    "\n"
	    "source exim {\n"
	    "    program = \"exim\"\n"
	    "}\n",
	    "DIR/spamwrath.conf:3: source exim: needs file or journal\n");
	ERR("source both {\n"
	    "    file = \"/var/log/mail.log\"\n"
	    "    journal = { \"SYSLOG_IDENTIFIER=postfix/smtpd\" }\n"
	    "}\n",
	    "DIR/spamwrath.conf:1: source both: has both file and journal; make them two "
	    "sources\n");
	ERR("source j {\n"
	    "    journal = { \"SYSLOG_IDENTIFIER=x\",\n"
	    "                \"syslog_identifier=x\" }\n"
	    "}\n",
	    "DIR/spamwrath.conf:3: journal: \"syslog_identifier=x\" is not a journal match "
	    "(FIELD=value or +)\n");
	ERR("source f {\n    file = \"/var/log/mail.log\"\n    start = middle\n}\n",
	    "DIR/spamwrath.conf:3: start: \"middle\" is neither \"beginning\" nor \"end\"\n");
}
END_TEST

START_TEST(bad_bantime_max)
{
	ERR("bantime = 12h\nbantime_max = 1h\n",
	    "DIR/spamwrath.conf:2: bantime_max (3600s) is shorter than bantime (43200s)\n");
	/* with bantime_max left at its default, bantime's line */
	ERR("# long first bans\n\nbantime = 31d\n",
	    "DIR/spamwrath.conf:3: bantime_max (2592000s) is shorter than bantime (2678400s)\n");
	/* set in a drop-in: that file and line */
	put("conf.d/50-short.conf", "# oops\nbantime_max = 6h\n");
	ERR("bantime = 12h\n",
	    "DIR/conf.d/50-short.conf:2: bantime_max (21600s) is shorter than bantime "
	    "(43200s)\n");
}
END_TEST

START_TEST(bad_ipset_names)
{
	ERR("ipset {\n  set4 = \"sw\"\n  set6 = \"sw\"\n}\n",
	    "DIR/spamwrath.conf:3: ipset: set4 and set6 are both \"sw\"\n");
	ERR("\nipset {\n  set6 = \"spamwrath4\"\n}\n",
	    "DIR/spamwrath.conf:3: ipset: set4 and set6 are both \"spamwrath4\"\n");
}
END_TEST

/* The nftables backend: its names are what nft takes unquoted, its two
 * sets differ, and the backend is one of the two. */
START_TEST(nftables_section)
{
	struct config *c = load_ok(put_main("backend = NFTables\nnftables {\n  table = \"mail-bans\"\n"
				   "  set4 = \"v4\"\n  set6 = \"v6\"\n  size = 4096\n}\n"));

	ck_assert_str_eq(c->backend, "nftables");
	ck_assert_str_eq(c->nft_table, "mail-bans");
	ck_assert_str_eq(c->nft_set4, "v4");
	ck_assert_str_eq(c->nft_set6, "v6");
	ck_assert_int_eq(c->nft_size, 4096);
	config_free(c);
	ERR("backend = firewalld\n",
	    "DIR/spamwrath.conf:1: backend: \"firewalld\" is none of ipset, nftables\n");
	ERR("nftables {\n  set4 = \"x\"\n  set6 = \"x\"\n}\n",
	    "DIR/spamwrath.conf:3: nftables: set4 and set6 are both \"x\"\n");
	ERR("nftables {\n  table = \"my table\"\n}\n",
	    "DIR/spamwrath.conf:2: nftables: table: \"my table\" is not a name nft takes unquoted "
	    "(a letter, then letters, digits, _ or -)\n");
	ERR("\n\nnftables {\n  set6 = \"6bans\"\n}\n",
	    "DIR/spamwrath.conf:4: nftables: set6: \"6bans\" is not a name nft takes unquoted "
	    "(a letter, then letters, digits, _ or -)\n");
}
END_TEST

/* What `spamwrathd -t` must not pass (issue 17, item 10): a file that
 * ends inside a section (libconfuse takes the end as its "}", so a
 * truncated file passed for a whole one), a set name the kernel would cut
 * (IPSET_MAXNAMELEN) and a socket path longer than sun_path takes. */
START_TEST(limits_and_truncation)
{
	char name[64], path[200], text[400];

	ERR("findtime = 1h\nsource maillog {\n  file = \"/var/log/mail.log\"\n",
	    "DIR/spamwrath.conf:2: section \"source maillog\" is never closed: the file ends "
	    "before its \"}\"\n");
	ERR("ipset {\n  set4 = \"x\"\n  set6 = \"y\"\n",
	    "DIR/spamwrath.conf:1: section \"ipset\" is never closed: the file ends before its "
	    "\"}\"\n");
	ERR("source a {\n  file = \"x\"\n  journal = { \"A=b\" }\n",
	    "DIR/spamwrath.conf:1: section \"source a\" is never closed: the file ends before "
	    "its \"}\"\n");
	memset(name, 'a', 32);
	name[32] = '\0';
	snprintf(text, sizeof(text), "ipset {\n  set4 = \"%s\"\n}\n", name);
	ERR(text, "DIR/spamwrath.conf:2: set4: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" is 32 bytes "
	    "long, more than the 31 that the kernel takes for a set's name\n");
	name[31] = '\0';
	snprintf(text, sizeof(text), "ipset {\n  set6 = \"%s\"\n}\n", name);
	config_free(load_ok(put_main(text)));
	memset(path, 'p', 120);
	path[0] = '/';
	path[108] = '\0';
	snprintf(text, sizeof(text), "control_socket = \"%s\"\n", path);
	ck_assert_ptr_nonnull(strstr(load_err(put_main(text)), "is 108 bytes long, more than the "
				     "107 that a Unix socket's path may have"));
	path[107] = '\0';
	snprintf(text, sizeof(text), "control_socket = \"%s\"\n", path);
	config_free(load_ok(put_main(text)));
}
END_TEST

START_TEST(errors_everywhere)
{
	/* all errors of a file are reported, in order; a broken main file
	 * stops before conf.d */
	put("conf.d/10-x.conf", "bantime = 1x\n");
	ERR("findtime = 1x\nbantime = 2x\nwhitelist = { \"300.1.1.1\" }\n",
	    "DIR/spamwrath.conf:1: findtime: \"1x\" is not a duration (90s, 15m, 12h, 7d or "
	    "seconds)\n"
	    "DIR/spamwrath.conf:2: bantime: \"2x\" is not a duration (90s, 15m, 12h, 7d or "
	    "seconds)\n"
	    "DIR/spamwrath.conf:3: whitelist: \"300.1.1.1\" is not an address, a network "
	    "(CIDR) or a host name\n");
	/* every broken drop-in is reported, each with its own name */
	put("conf.d/20-y.conf", "\nfindtime = 2x\n");
	ERR("findtime = 1h\n",
	    "DIR/conf.d/10-x.conf:1: bantime: \"1x\" is not a duration (90s, 15m, 12h, 7d or "
	    "seconds)\n"
	    "DIR/conf.d/20-y.conf:2: findtime: \"2x\" is not a duration (90s, 15m, 12h, 7d or "
	    "seconds)\n");
}
END_TEST

START_TEST(unreadable)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/missing.conf", dir);
	FILE *f;

	ck_assert_str_eq(load_err(path), "DIR/missing.conf: No such file or directory\n");
	/* a NUL byte: not a text file, whatever libconfuse would make of it */
	f = fopen(put_main(""), "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite("threshold = 1\n\0x = 2\n", 1, 21, f), 21);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_str_eq(load_err(main_path),
			 "DIR/spamwrath.conf: contains a NUL byte: not a configuration file\n");
}
END_TEST

/* --- conf.d --- */

START_TEST(dropins_merge)
{
	struct config *c;
	const struct source_conf *s;

	put("conf.d/20-b.conf",
	    "bantime = 2h\n"
	    "whitelist = { \"198.51.100.2\" }\n"
	    "spamtraps += { \"trap2@example.org\" }\n"
	    "class spam { enabled = false }\n"
	    "source maillog { program = \"postfix\" }\n"
	    "ipset { set6 = \"b6\" }\n");
	put("conf.d/10-a.conf",
	    "bantime = 1h\n"
	    "findtime = 1h\n"
	    "whitelist = { \"198.51.100.1\" }\n"
	    "whitelist += { \"198.51.100.11\" }\n"
	    "class auth { weight = 0.25 }\n"
	    "ipset { set4 = \"a4\" }\n");
	put("conf.d/9-c.conf", "bantime = 9h\n");	/* "9" sorts after "2" */
	put("conf.d/README", "not a configuration file\n");
	put("conf.d/.hidden.conf", "bantime = 1x\n");
	put("conf.d/30-d.conf.dpkg-old", "bantime = 1x\n");
	c = load_ok(put_main(
		"bantime = 12h\n"
		"findtime = 12h\n"
		"whitelist = { \"198.51.100.0\" }\n"
		"spamtraps = { \"trap@example.org\" }\n"
		"class spam { min_score = 15\n weight = 0.5 }\n"
		"source maillog { file = \"/var/log/mail.log\" }\n"));
	/* a later scalar overrides */
	ck_assert_int_eq(c->bantime, 9 * 3600);
	ck_assert_int_eq(c->findtime, 3600);
	/* a later list appends, in file order */
	ck_assert_uint_eq(c->nwhitelist, 4);
	ck_assert_str_eq(c->whitelist[0], "198.51.100.0");
	ck_assert_str_eq(c->whitelist[1], "198.51.100.1");
	ck_assert_str_eq(c->whitelist[2], "198.51.100.11");
	ck_assert_str_eq(c->whitelist[3], "198.51.100.2");
	ck_assert_uint_eq(c->nspamtraps, 2);
	ck_assert_str_eq(c->spamtraps[1], "trap2@example.org");
	/* a later section changes only the keys it sets */
	ck_assert(!c->classes[CLASS_SPAM].enabled);
	ck_assert(c->classes[CLASS_SPAM].has_min_score);
	ck_assert(c->classes[CLASS_SPAM].min_score == 15);
	ck_assert_uint_eq(c->classes[CLASS_SPAM].weight, 500);
	ck_assert_uint_eq(c->classes[CLASS_AUTH].weight, 250);
	ck_assert_uint_eq(c->nsources, 1);
	s = source(c, "maillog");
	ck_assert_str_eq(s->file, "/var/log/mail.log");
	ck_assert_str_eq(s->program, "postfix");
	ck_assert_str_eq(c->set4, "a4");
	ck_assert_str_eq(c->set6, "b6");
	ck_assert_uint_eq(c->ipv6_prefix, 64);
	config_free(c);
}
END_TEST

START_TEST(dropins_sources)
{
	struct config *c;

	/* a drop-in may add a source, and give an existing one its journal */
	put("conf.d/50-exim.conf",
	    "source exim { file = \"/var/log/exim4/mainlog\" program = \"exim\" }\n"
	    "source j { journal += { \"SYSLOG_IDENTIFIER=b\" } }\n");
	c = load_ok(put_main("source j { journal = { \"SYSLOG_IDENTIFIER=a\" } }\n"));
	ck_assert_uint_eq(c->nsources, 2);
	ck_assert_uint_eq(source(c, "j")->njournal, 2);
	ck_assert_str_eq(source(c, "j")->journal[1], "SYSLOG_IDENTIFIER=b");
	ck_assert_str_eq(source(c, "exim")->program, "exim");
	config_free(c);
}
END_TEST

START_TEST(fleet_section)
{
	struct config *c = load_ok(put_main(
		"fleet {\n  redis = \"10.0.0.5:6379\"\n  key_file = \"fleet.key\"\n"
		"  host = \"mx1\"\n  user = \"spamwrath\"\n  password_file = \"redis.pass\"\n"
		"  share_offences = no\n}\n"));

	ck_assert(c->fleet.enabled);
	ck_assert_str_eq(c->fleet.redis, "10.0.0.5:6379");
	ck_assert_str_eq(c->fleet.key_file, in_dir("fleet.key"));
	ck_assert_str_eq(c->fleet.password_file, in_dir("redis.pass"));
	ck_assert_str_eq(c->fleet.host, "mx1");
	ck_assert_str_eq(c->fleet.ns, "spamwrath");
	ck_assert(!c->fleet.share_offences);
	config_free(c);
	/* sentinels; host defaults to this host's name; namespace from a drop-in */
	put("conf.d/fleet.conf", "fleet {\n  namespace = \"mail-eu\"\n}\n");
	c = load_ok(put_main("fleet {\n  sentinels = { \"10.0.0.1:26379\", \"[2001:db8::1]\" }\n"
			     "  master_name = \"spamwrath\"\n  key_file = \"/k\"\n}\n"));
	ck_assert_uint_eq(c->fleet.nsentinels, 2);
	ck_assert_ptr_null(c->fleet.redis);
	ck_assert_str_eq(c->fleet.ns, "mail-eu");
	ck_assert(c->fleet.share_offences);
	ck_assert_ptr_nonnull(c->fleet.host);
	config_free(c);
	/* no section: no fleet */
	remove(in_dir("conf.d/fleet.conf"));
	c = load_ok(put_main("bantime = 1h\n"));
	ck_assert(!c->fleet.enabled);
	config_free(c);
}
END_TEST

START_TEST(bad_fleet)
{
	ERR("fleet {\n  key_file = \"/k\"\n}\n",
	    "DIR/spamwrath.conf:1: fleet: needs redis (a socket or host:port) or sentinels, not both\n");
	ERR("fleet {\n  redis = \"/r.sock\"\n  sentinels = { \"h:1\" }\n  master_name = \"m\"\n"
	    "  key_file = \"/k\"\n}\n",
	    "DIR/spamwrath.conf:1: fleet: needs redis (a socket or host:port) or sentinels, not both\n");
	ERR("fleet {\n  sentinels = { \"h:1\" }\n  key_file = \"/k\"\n}\n",
	    "DIR/spamwrath.conf:1: fleet: sentinels need master_name\n");
	ERR("fleet {\n  redis = \"/r.sock\"\n}\n",
	    "DIR/spamwrath.conf:1: fleet: needs key_file (the fleet's shared secret)\n");
	ERR("fleet {\n  redis = \"/r.sock\"\n  key_file = \"/k\"\n  user = \"u\"\n}\n",
	    "DIR/spamwrath.conf:1: fleet: user needs password_file\n");
	ERR("fleet {\n  redis = \"h:99999\"\n  key_file = \"/k\"\n  host = \"mx 1\"\n"
	    "  namespace = \"a:b\"\n  sentinels = { \"h:0\" }\n}\n",
	    "DIR/spamwrath.conf:2: redis: \"h:99999\" is not a Unix socket's path or host:port\n"
	    "DIR/spamwrath.conf:6: sentinels: \"h:0\" is not host:port\n"
	    "DIR/spamwrath.conf:4: host: \"mx 1\" is not a name of 1 to 64 letters, digits, '.', "
	    "'_' or '-'\n"
	    "DIR/spamwrath.conf:5: namespace: \"a:b\" is not a name of 1 to 64 letters, digits, "
	    "'.', '_' or '-'\n");
}
END_TEST

START_TEST(relative_paths)
{
	struct config *c;

	/* relative paths start at the main file's directory, in drop-ins too */
	put("conf.d/10-src.conf",
	    "source local { file = \"logs/mail.log\" }\n"
	    "state_dir = \"state\"\n");
	c = load_ok(put_main(
		"patterns_dir = \"patterns.d\"\n"
		"control_socket = \"/run/sw.sock\"\n"
		"source abs { file = \"/var/log/mail.log\" }\n"
		"source jd { journal_dir = \"../journal\" }\n"));
	ck_assert_str_eq(c->patterns_dir, in_dir("patterns.d"));
	ck_assert_str_eq(c->state_dir, in_dir("state"));
	ck_assert_str_eq(c->control_socket, "/run/sw.sock");
	ck_assert_str_eq(source(c, "abs")->file, "/var/log/mail.log");
	ck_assert_str_eq(source(c, "local")->file, in_dir("logs/mail.log"));
	ck_assert_str_eq(source(c, "jd")->journal_dir, in_dir("../journal"));
	config_free(c);

	/* a main file named without a directory: the current one */
	ck_assert_int_eq(chdir(dir), 0);
	c = load_ok("spamwrath.conf");
	ck_assert_str_eq(c->patterns_dir, "./patterns.d");
	ck_assert_str_eq(source(c, "local")->file, "./logs/mail.log");
	config_free(c);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("load");
	TCase *te = tcase_create("errors");
	TCase *td = tcase_create("dropins");

	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_unchecked_fixture(te, base_setup, base_teardown);
	tcase_add_checked_fixture(te, setup, teardown);
	tcase_add_unchecked_fixture(td, base_setup, base_teardown);
	tcase_add_checked_fixture(td, setup, teardown);
	tcase_add_test(tc, builtin_defaults);
	tcase_add_test(tc, empty_file);
	tcase_add_test(tc, full);
	tcase_add_test(tc, shipped_file);
	tcase_add_test(tc, table_keys);
	suite_add_tcase(s, tc);
	tcase_add_test(te, unknown_key);
	tcase_add_test(te, bad_duration);
	tcase_add_test(te, bad_whitelist);
	tcase_add_test(te, bad_spamtrap);
	tcase_add_test(te, bad_class);
	tcase_add_test(te, bad_numbers);
	tcase_add_test(te, bad_sources);
	tcase_add_test(te, bad_bantime_max);
	tcase_add_test(te, bad_ipset_names);
	tcase_add_test(te, nftables_section);
	tcase_add_test(te, limits_and_truncation);
	tcase_add_test(te, errors_everywhere);
	tcase_add_test(te, unreadable);
	suite_add_tcase(s, te);
	tcase_add_test(td, dropins_merge);
	tcase_add_test(td, dropins_sources);
	tcase_add_test(td, relative_paths);
	tcase_add_test(td, fleet_section);
	tcase_add_test(td, bad_fleet);
	suite_add_tcase(s, td);
	return s;
}

UNIT_MAIN(config_suite)
