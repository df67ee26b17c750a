/* SPDX-License-Identifier: GPL-2.0-or-later */
/* class: owns the fixed vocabulary of offence classes and their built-in weights.
 * Patterns, configuration and the judge all speak of classes through these ids.
 * It must never grow at run time: a new class is a change of the public contract. */
#ifndef SPAMWRATH_CLASS_H
#define SPAMWRATH_CLASS_H

#include <stdbool.h>
#include <stdint.h>

enum class_id {
	CLASS_UNKNOWN_RECIPIENT,
	CLASS_UNKNOWN_SENDER,
	CLASS_SPAMTRAP,
	CLASS_SPAM,
	CLASS_VIRUS,
	CLASS_RELAY,
	CLASS_HELO,
	CLASS_DNSBL,
	CLASS_AUTH,
	CLASS_PROTOCOL,
	CLASS_CONTEXT,		/* never an offence by itself */
	CLASS_MANUAL,		/* a ban made by hand (spamwrathctl ban), never a pattern's */
	CLASS_COUNT
};

/* Weights are fixed point, in thousandths, so that 5 x 0.2 is exactly 1. */
#define WEIGHT_ONE 1000u

/* The id of a class a pattern or the configuration may name (every one
 * but manual), or -1 for a name outside that vocabulary. */
int class_from_name(const char *name);
const char *class_name(enum class_id c);

/*
 * True for the classes whose repeats inside one SMTP session restate one
 * fact about the client (its HELO, its listing, its sender domain, its
 * manners): the judge counts them once per session. A repeat of the
 * others is a new attempt (another recipient, another password).
 */
static inline bool class_once_per_session(enum class_id c)
{
	return (1u << c) & (1u << CLASS_HELO | 1u << CLASS_DNSBL | 1u << CLASS_PROTOCOL |
			    1u << CLASS_UNKNOWN_SENDER);
}

/*
 * True for the classes whose verdict is about a whole message (its spam,
 * its virus, its trap, its sender): the judge counts them once per
 * message, whichever lines report it. Not for unknown-recipient and relay
 * (each recipient is an attempt of its own) nor auth (no message).
 */
static inline bool class_once_per_message(enum class_id c)
{
	return !((1u << c) & (1u << CLASS_UNKNOWN_RECIPIENT | 1u << CLASS_RELAY |
			      1u << CLASS_AUTH));
}

/* The weight a class has when the configuration does not set one. */
uint32_t class_default_weight(enum class_id c);

/* Weight text ("0.2", "1") to thousandths; 0 or -1 when not in [0, 1000]
 * or finer than a thousandth. */
int weight_parse(double v, uint32_t *out);

#endif
