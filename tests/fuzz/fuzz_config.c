/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The configuration reader: the input is spamwrath.conf (no drop-ins),
 * loaded as `spamwrathd -t` loads it, then every key printed as
 * `spamwrathd --get` prints it.
 *
 * Invariant beyond "no crash": a load either succeeds without an error
 * or fails with at least one, each message naming the file.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"

static char fz_conf[256];
static FILE *fz_null;

static const char *const fz_keys[] = {
	"patterns_dir", "state_dir", "control_socket", "control_group", "threshold", "findtime",
	"bantime", "bantime_factor", "bantime_max", "repeat_window", "whitelist", "spamtraps",
	"ignore_self", "max_line", "max_tracked", "correlate_timeout", "correlate_max",
	"ipset.set4", "ipset.set6", "ipset.ipv4_prefix", "ipset.ipv6_prefix", "ipset.maxelem",
	"firewall.ports", "firewall.target",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(fz_conf, sizeof(fz_conf), "%s/spamwrath.conf", fuzz_dir());
	fz_null = fopen("/dev/null", "w");
	if (!fz_null)
		fuzz_fail("/dev/null");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c = NULL;
	struct diag d = { 0 };
	int r;

	fuzz_write(fz_conf, data, size);
	r = config_load(fz_conf, &c, &d);
	if (r < 0 && d.errors == 0)
		fuzz_fail("a failed load said no error");
	if (r == 0 && d.errors != 0)
		fuzz_fail("a load that succeeded said %zu errors", d.errors);
	for (size_t i = 0; i < d.n; i++)
		if (strncmp(d.msgs[i], fz_conf, strlen(fz_conf)) != 0)
			fuzz_fail("a message that names no file: %s", d.msgs[i]);
	if (r == 0) {
		for (size_t i = 0; i < sizeof(fz_keys) / sizeof(fz_keys[0]); i++)
			if (config_print(c, fz_keys[i], fz_null) < 0)
				fuzz_fail("config_print does not know %s", fz_keys[i]);
		config_free(c);
	}
	diag_free(&d);
	return 0;
}
