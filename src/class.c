/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <math.h>
#include <string.h>

#include "class.h"

/*
 * The built-in weights answer "how sure is one such line?". A mail to an
 * unknown user, a trap, a sender domain that does not exist, spam over the
 * score and a virus are surefire: one is enough. A relay attempt is almost
 * as clear. HELO and DNSBL rejects are strong but hit misconfigured
 * legitimate senders too; protocol errors and failed logins happen to real
 * users, so it takes several of them (a single failed login never bans).
 */
static const struct {
	const char *name;
	uint32_t weight;
} classes[CLASS_COUNT + 1] = {
	[CLASS_UNKNOWN_RECIPIENT] = { "unknown-recipient", 1000 },
	[CLASS_UNKNOWN_SENDER] = { "unknown-sender", 1000 },
	[CLASS_SPAMTRAP] = { "spamtrap", 1000 },
	[CLASS_SPAM] = { "spam", 1000 },
	[CLASS_VIRUS] = { "virus", 1000 },
	[CLASS_RELAY] = { "relay", 1000 },
	[CLASS_HELO] = { "helo", 500 },
	[CLASS_DNSBL] = { "dnsbl", 500 },
	[CLASS_AUTH] = { "auth", 200 },
	[CLASS_PROTOCOL] = { "protocol", 250 },
	[CLASS_CONTEXT] = { "context", 0 },
	[CLASS_COUNT] = { "manual", 1000 },
};

int class_from_name(const char *name)
{
	for (int i = 0; i < CLASS_COUNT; i++)
		if (strcmp(name, classes[i].name) == 0)
			return i;
	return -1;
}

const char *class_name(enum class_id c)
{
	return (unsigned)c <= CLASS_COUNT ? classes[c].name : "?";
}

uint32_t class_default_weight(enum class_id c)
{
	return (unsigned)c <= CLASS_COUNT ? classes[c].weight : 0;
}

int weight_parse(double v, uint32_t *out)
{
	double milli = v * 1000.0;
	double r = round(milli);

	if (!(v >= 0.0) || v > 1000.0 || fabs(milli - r) > 1e-6)
		return -1;
	*out = (uint32_t)r;
	return 0;
}
