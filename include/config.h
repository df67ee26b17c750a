/* SPDX-License-Identifier: GPL-2.0-or-later */
/* config: owns the configuration schema and its loading from spamwrath.conf and conf.d/.
 * A load either yields a complete, validated struct config or errors as FILE:LINE: reason.
 * It must never leave a half-loaded config behind, nor exit the process. */
#ifndef SPAMWRATH_CONFIG_H
#define SPAMWRATH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "class.h"
#include "diag.h"

struct class_conf {
	bool enabled;
	uint32_t weight;	/* thousandths */
	bool has_min_score;
	double min_score;
};

struct source_conf {
	char *name;		/* the section title */
	char *file;		/* a file source, or NULL */
	char *program;		/* tag for lines without one, or NULL */
	char **journal;		/* journal matches ("FIELD=value", "+") */
	size_t njournal;
	char *journal_dir;	/* read journal files from here, not the system journal */
	bool trusted;		/* journal: only entries from the mail system's units */
	char **trusted_units;	/* extra _SYSTEMD_UNIT values (globs) counted as the mail system */
	size_t ntrusted_units;
	char **trusted_users;	/* extra _UID users (names or numbers) for entries without a unit */
	size_t ntrusted_users;
	bool start_beginning;	/* first start reads the whole file, not just new lines */
	const char *where;	/* "FILE:LINE" of the section, for messages */
};

/* The fleet section: hosts sharing bans and offences through Redis. */
struct fleet_conf {
	bool enabled;		/* a fleet section is there */
	char *redis;		/* "/path.sock" or "host:port", or NULL with sentinels */
	char **sentinels;	/* "host:port" each */
	size_t nsentinels;
	char *master_name;
	char *user;
	char *password_file;
	char *key_file;
	char *host;		/* this host's name in the fleet */
	char *ns;		/* namespace: the prefix of every key */
	bool share_offences;
	char *where;		/* "FILE:LINE" of the section, for messages */
};

/* The kernel's IPSET_MAXNAMELEN (32) less its NUL; sockaddr_un's
 * sun_path (108) less its NUL. Longer names would be cut, silently. */
#define CONFIG_SET_NAME_MAX 31
#define CONFIG_SOCKET_MAX 107

struct config {
	char *path;		/* the main file, or NULL for built-in defaults */
	char *patterns_dir;
	char *state_dir;
	char *control_socket;
	char *control_group;

	uint32_t threshold;	/* thousandths */
	long findtime, bantime, bantime_max, repeat_window;
	double bantime_factor;

	char **whitelist;
	size_t nwhitelist;
	char **spamtraps;
	size_t nspamtraps;
	/* pattern names turned on or off after their files (enabled = ...) */
	char **enable_patterns;
	size_t nenable_patterns;
	char **disable_patterns;
	size_t ndisable_patterns;
	bool ignore_self;

	char *set4, *set6;
	unsigned ipv4_prefix, ipv6_prefix;
	long ipset_maxelem;

	/* Read by spamwrath-firewall through spamwrathd --get, not by the daemon. */
	char **fw_ports;	/* "25" or "6000:6010", at most 15 multiport slots */
	size_t nfw_ports;
	char *fw_target;	/* "auto", "tarpit", "drop" or "reject" */

	/* export { }: files kept rewritten for Prometheus and rbldnsd, or NULL */
	char *metrics_file;
	long metrics_interval;	/* seconds between rewrites of metrics_file */
	char *rbldnsd_file;

	struct source_conf *sources;
	size_t nsources;

	struct class_conf classes[CLASS_COUNT];

	struct fleet_conf fleet;

	size_t max_line;	/* longer lines are skipped and counted */
	size_t max_tracked;	/* addresses the judge remembers at most */
	long correlate_timeout;	/* how long a queue id waits for its other half */
	size_t correlate_max;	/* queue ids remembered at most */

	/* config.c's own: where each key was last set, for the messages of
	 * the rules checked across keys once every file is in. */
	struct config_origin *origin;
};

/* Host and namespace names of a fleet: 1..CONFIG_FLEET_NAME_MAX of [A-Za-z0-9._-]. */
#define CONFIG_FLEET_NAME_MAX 64
bool config_fleet_name_ok(const char *s);

/* Where spamwrath.conf lives when -c is not given. */
const char *config_default_path(void);

/*
 * Loads path (or built-in defaults when path is NULL), then every
 * conf.d/\*.conf beside it in name order. On error returns -1 with the
 * reasons in d and *out untouched. Relative paths in the files are taken
 * relative to the main file's directory.
 */
int config_load(const char *path, struct config **out, struct diag *d);
void config_free(struct config *c);

/*
 * Prints the effective value of key ("findtime", "ipset.set4",
 * "firewall.ports"...) to out: durations in seconds, booleans as yes or
 * no, one line per list element. Returns -1 for a key it does not know.
 */
int config_print(const struct config *c, const char *key, FILE *out);

/* Prints every key the files accept, one "KEY TYPE" a line, sections'
 * keys written SECTION.KEY ("ipset.set4", "source.file"). */
void config_list_keys(FILE *out);

#endif
