/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mkstate DIR COUNT SECONDS [ADDRESS...]: writes a state with COUNT
 * running bans of SECONDS each (addresses 10.0.0.0 upwards, every eighth
 * an IPv6 /64), then one for each ADDRESS given (as written: "0.0.0.0",
 * "2001:db8::/64"), through the same state module the daemon uses. For
 * the restore tests and the benchmarks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "names.h"
#include "state.h"

int main(int argc, char **argv)
{
	struct diag d = { 0 };
	struct state *s;
	long n, secs;
	time_t now = time(NULL);

	if (argc < 4 || (n = atol(argv[2])) < 0 || (secs = atol(argv[3])) <= 0) {
		fprintf(stderr, "usage: mkstate DIR COUNT SECONDS [ADDRESS...]\n");
		return 2;
	}
	if (state_open(argv[1], &s, &d) < 0) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "mkstate: %s\n", d.msgs[i]);
		return 1;
	}
	for (long i = 0; i < n; i++) {
		struct judge_event e = {
			.kind = JUDGE_BAN, .cls = CLASS_UNKNOWN_RECIPIENT, .time = now,
			.duration = secs, .offences = 1,
			.pattern = names_intern("mkstate", 7),
		};

		if (i % 8 == 7) {
			e.addr.family = 6;
			e.addr.prefix = 64;
			e.addr.bytes[0] = 0x20;
			e.addr.bytes[1] = 0x01;
			e.addr.bytes[2] = 0x0d;
			e.addr.bytes[3] = 0xb8;
			e.addr.bytes[4] = (uint8_t)(i >> 16);
			e.addr.bytes[5] = (uint8_t)(i >> 8);
			e.addr.bytes[6] = (uint8_t)i;
		} else {
			e.addr.family = 4;
			e.addr.prefix = 32;
			e.addr.bytes[0] = 10;
			e.addr.bytes[1] = (uint8_t)(i >> 16);
			e.addr.bytes[2] = (uint8_t)(i >> 8);
			e.addr.bytes[3] = (uint8_t)i;
		}
		state_event(s, &e);
		if (i % 10000 == 9999 && state_flush(s) < 0)
			return 1;
	}
	for (int i = 4; i < argc; i++) {
		struct judge_event e = {
			.kind = JUDGE_BAN, .cls = CLASS_UNKNOWN_RECIPIENT, .time = now,
			.duration = secs, .offences = 1,
			.pattern = names_intern("mkstate", 7),
		};

		if (addr_parse_net(argv[i], strlen(argv[i]), &e.addr) < 0) {
			fprintf(stderr, "mkstate: \"%s\" is not an address\n", argv[i]);
			return 2;
		}
		state_event(s, &e);
	}
	if (state_flush(s) < 0)
		return 1;
	state_close(s);
	return 0;
}
