/* SPDX-License-Identifier: GPL-2.0-or-later */
/* addr: owns the canonical form of client addresses and networks: parse, mask, compare, print.
 * Every address enters spamwrath here once; later stages compare the bytes.
 * It must never accept text that is not exactly one address, nor resolve a name. */
#ifndef SPAMWRATH_ADDR_H
#define SPAMWRATH_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A host (prefix 32 or 128) or a network. Unused bytes are always zero so
 * that two equal addresses are equal with memcmp. */
struct addr {
	uint8_t family;		/* 4 or 6 */
	uint8_t prefix;		/* 0..32 or 0..128 */
	uint8_t bytes[16];	/* network byte order; IPv4 in bytes[0..3] */
};

/* Longest text addr_format writes, with "/128" and the NUL. */
#define ADDR_STRLEN 48

enum addr_kind {
	ADDR_UNICAST = 0,
	ADDR_LOOPBACK,		/* 127/8, ::1 */
	ADDR_UNSPECIFIED,	/* 0/8, :: */
	ADDR_NOT_UNICAST,	/* multicast, broadcast, 240/4 */
};

/*
 * Parses one address as MTAs log it: IPv4 dotted quad, IPv6 in any RFC 4291
 * form, Sendmail's "IPv6:" prefix, a "%zone" suffix and an IPv4 ":port"
 * suffix (both dropped). IPv4-mapped IPv6 becomes IPv4. Returns 0 or -1.
 */
int addr_parse(const char *s, size_t len, struct addr *out);

/*
 * An address as a person writes it (configuration, spamwrathctl): what
 * addr_parse takes, but no port, zone or "IPv6:" prefix: "192.0.2.1:25"
 * in a whitelist is a mistake to report, not a host to guess. 0 or -1.
 */
int addr_parse_host(const char *s, size_t len, struct addr *out);

/* "A/P" or a bare address (a host), as addr_parse_host takes it. Host bits
 * must be zero. 0 or -1. */
int addr_parse_net(const char *s, size_t len, struct addr *out);

/*
 * The last address texts parsed, by a hash of their tail: an offender's
 * lines come close together, so recent texts come back, and a hit costs a
 * hash and a compare where a parse costs far more. Fixed size; a text
 * longer than ADDR_CACHE_TEXT is parsed each time. A hit is addr_parse's
 * own answer: the text is kept whole and compared whole.
 */
#define ADDR_CACHE_BITS 6
#define ADDR_CACHE_TEXT 47

struct addr_cache {
	struct addr_cache_slot {
		uint8_t len;	/* 0: empty */
		bool ok;
		char text[ADDR_CACHE_TEXT];
		struct addr addr;
	} slot[1u << ADDR_CACHE_BITS];
};

/* addr_parse(s, len, out) == 0, through c (all zero: empty). */
bool addr_parse_cached(struct addr_cache *c, const char *s, size_t len, struct addr *out);

/*
 * "host:port", "[v6]:port", or a host alone (then *port is defport; an
 * IPv6 address with more than one colon needs the brackets for a port).
 * The host, a name or an address, is copied to host. 0, or -1 when it is
 * empty or longer than cap - 1, or the port is not a number in 1..65535.
 */
int addr_split_port(const char *s, unsigned defport, char *host, size_t cap, unsigned *port);

/* Clears the host bits beyond prefix (clamped to the family's width). */
void addr_mask(struct addr *a, unsigned prefix);

enum addr_kind addr_kind(const struct addr *a);

/* True when the two networks share any address. */
bool addr_overlaps(const struct addr *a, const struct addr *b);

/* Canonical text: dotted quad or RFC 5952 IPv6, "/P" for networks. */
char *addr_format(const struct addr *a, char buf[ADDR_STRLEN]);

/* Host width of the family: 32 or 128. */
static inline unsigned addr_width(const struct addr *a)
{
	return a->family == 4 ? 32 : 128;
}

#endif
