/* SPDX-License-Identifier: GPL-2.0-or-later */
/* proto: owns the fleet's messages: their text form, their HMAC-SHA256 signature, the key, replay checks.
 * A message is signed as a whole under the fleet key and the namespace; nothing in it is trusted unchecked.
 * It must never accept a message it cannot verify, nor parse a field past its bound, nor touch the network. */
#ifndef SPAMWRATH_FLEET_PROTO_H
#define SPAMWRATH_FLEET_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nettle/hmac.h>

#include "addr.h"
#include "class.h"
#include "config.h"
#include "diag.h"

/*
 * The text of a message (one Redis string, on the channel and in the
 * index of bans):
 *
 *   SW1 SIGNATURE KIND SENDER SEQ TIME_MS REST...
 *
 *   ban     ADDR START UNTIL CLASS PATTERN ORIGIN OFFENCES EARLIER
 *   unban   ADDR FORGET
 *   off     ADDR WEIGHT CLASS PATTERN      (an offence, in Redis only)
 *   hb      ACTIVE LAG_MS RECEIVED         (a host's heartbeat)
 *
 * SIGNATURE is the HMAC-SHA256, in 64 lower-case hex digits, of
 * "spamwrath-fleet 1\n" NAMESPACE "\n" and everything after it. SEQ grows
 * with every message a sender signs (it starts at the start's time in
 * microseconds, so it grows across restarts too); TIME_MS is when it was
 * signed. Text fields are percent-encoded: no space, control byte, byte
 * above 0x7e or '%' appears as itself. The signature's place is fixed, so
 * the scripts in Redis can tell a ban's record from an unban's by offset.
 */
#define PROTO_MAGIC "SW1 "
#define PROTO_SIG_HEX 64
#define PROTO_BODY_OFFSET (sizeof(PROTO_MAGIC) - 1 + PROTO_SIG_HEX + 1)
#define PROTO_MSG_MAX 1024	/* longer is garbage */
#define PROTO_NAME_MAX CONFIG_FLEET_NAME_MAX	/* host names, namespaces */
#define PROTO_TEXT_MAX 128	/* pattern names and ban reasons */
#define PROTO_KEY_MIN 32	/* bytes of key */
#define PROTO_KEY_MAX 4096
#define PROTO_SKEW_MS 120000	/* a message signed further from now is a replay */
#define PROTO_PEERS_MAX 1024	/* senders whose last sequence number is kept */

enum proto_kind { PROTO_BAN, PROTO_UNBAN, PROTO_OFFENCE, PROTO_HEARTBEAT };

struct proto_msg {
	enum proto_kind kind;
	char sender[PROTO_NAME_MAX + 1];
	uint64_t seq;
	uint64_t time_ms;
	struct addr addr;	/* ban, unban, off */
	/* ban */
	uint64_t start, until;
	enum class_id cls;	/* CLASS_MANUAL for a ban by hand */
	char pattern[PROTO_TEXT_MAX + 1];
	char origin[PROTO_NAME_MAX + 1];
	uint32_t offences, earlier;
	/* unban */
	bool forget;
	/* off */
	uint32_t weight;	/* thousandths */
	/* hb */
	uint64_t active, lag_ms, received;
};

/* Why a message was refused. */
enum proto_error {
	PROTO_OK = 0,
	PROTO_E_MALFORMED,	/* not a message of ours, or unreadable once verified */
	PROTO_E_SIGNATURE,	/* no signature, or not ours */
	PROTO_E_ADDRESS,	/* signed, but its address is none */
	PROTO_E_REPLAY,		/* signed too long ago, or a sequence number seen already */
};

/* The signing side: the fleet key, the namespace, our name and sequence. */
struct proto_key {
	struct hmac_sha256_ctx base;	/* keyed once; copied per message */
	char ns[PROTO_NAME_MAX + 1];
	char host[PROTO_NAME_MAX + 1];
	uint64_t seq;
};

/*
 * Reads the key from path: the file's bytes, one trailing newline dropped,
 * at least PROTO_KEY_MIN. A file that group or others may read or write,
 * or that is no regular file, is refused. 0, or -1 with the reason in d.
 */
int proto_key_load(struct proto_key *k, const char *path, const char *ns, const char *host,
		   struct diag *d);
/*
 * A secret's bytes (key, password) from path into buf (at most cap), one
 * trailing newline dropped, under the same rules. 0, or -1 with d.
 */
int proto_read_secret(const char *path, const char *what, unsigned char *buf, size_t cap,
		      size_t *len, struct diag *d);
/* The same from bytes in memory (tests and tools). 0, or -1 when too short. */
int proto_key_set(struct proto_key *k, const void *key, size_t len, const char *ns,
		  const char *host);
/* Wipes the key. */
void proto_key_clear(struct proto_key *k);

/* Milliseconds of the wall clock. */
uint64_t proto_now_ms(void);

/*
 * Signs m (its sender, seq and time_ms are set here from k and now_ms)
 * into out. Returns the length, or 0 when it does not fit in cap (a
 * pattern name too long is cut to PROTO_TEXT_MAX first).
 */
size_t proto_sign(struct proto_key *k, struct proto_msg *m, uint64_t now_ms, char *out,
		  size_t cap);

/* Signs any body as it is (tests craft messages with it): the length, or 0. */
size_t proto_seal(const struct proto_key *k, const char *body, size_t len, char *out,
		  size_t cap);

/* Verifies and reads a message. PROTO_OK, or why it is refused. */
enum proto_error proto_read(const struct proto_key *k, const char *buf, size_t len,
			    struct proto_msg *m);

/* The last sequence number of each sender, for replay checks. */
struct proto_peers {
	struct proto_peer {
		char name[PROTO_NAME_MAX + 1];
		uint64_t seq, seen_ms;
	} v[PROTO_PEERS_MAX];
	size_t n;
};

/*
 * PROTO_OK when m was signed within PROTO_SKEW_MS of now_ms and carries a
 * sequence number above the last one of its sender (which it becomes),
 * else PROTO_E_REPLAY. A new sender beyond PROTO_PEERS_MAX takes the place
 * of the one heard from longest ago.
 */
enum proto_error proto_fresh(struct proto_peers *p, const struct proto_msg *m, uint64_t now_ms);

const char *proto_error_name(enum proto_error e);

#endif
