/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <math.h>
#include <string.h>

#include "class.h"

/*
 * The built-in weights answer "how sure is one such line?", for a cautious
 * site: one line may ban only when no legitimate sender ever writes it.
 *
 * - 1 (one line bans): the surefire offences spamwrath exists for: mail
 *   to a user that does not exist (the MTA refused it at RCPT: nobody
 *   real sends a whole dictionary), a sender domain that does not exist
 *   (DNS said NXDOMAIN: no real mail comes from it), a spamtrap (an
 *   address nobody gave out), spam over the site's min_score, a virus,
 *   and a relay attempt (an unauthenticated client asking us to deliver
 *   elsewhere). A site whose correspondents mistype addresses through a
 *   shared provider relay can set class unknown-recipient { weight = 0.5 }.
 * - 0.5 (two inside findtime): HELO and reverse-DNS rejects and DNSBL
 *   listings, which also hit misconfigured or listed legitimate servers.
 * - 0.25 (four): protocol abuse (pipelining, pregreet, non-SMTP commands,
 *   too many errors); real clients do it now and then.
 * - 0.2 (five): a failed login, so that a user mistyping a password twice
 *   is never banned; brute force makes hundreds.
 *
 * Patterns refine these with their own weight factor where a line is
 * weaker (a temporary failure, a rate limit) or stronger (Sendmail's count
 * of repeated AUTH commands).
 */
static const struct {
	const char *name;
	uint32_t weight;
} classes[CLASS_COUNT] = {
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
	[CLASS_MANUAL] = { "manual", 1000 },
};

int class_from_name(const char *name)
{
	for (int i = 0; i < CLASS_MANUAL; i++)
		if (strcmp(name, classes[i].name) == 0)
			return i;
	return -1;
}

const char *class_name(enum class_id c)
{
	return (unsigned)c < CLASS_COUNT ? classes[c].name : "?";
}

uint32_t class_default_weight(enum class_id c)
{
	return (unsigned)c < CLASS_COUNT ? classes[c].weight : 0;
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
