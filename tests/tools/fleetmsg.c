/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fleetmsg KEY_FILE NAMESPACE BODY: prints BODY signed as a fleet message
 * ("SW1 SIGNATURE BODY") under the key in KEY_FILE, whatever BODY says:
 * the tests make well-signed messages that are wrong in other ways (an
 * address that is none, a ban longer than bantime_max) with it, and
 * forged ones with another key.
 */
#include <stdio.h>
#include <string.h>

#include "proto.h"

int main(int argc, char **argv)
{
	struct proto_key k;
	struct diag d = { 0 };
	char out[PROTO_MSG_MAX + 1];
	size_t n;

	if (argc != 4) {
		fprintf(stderr, "usage: fleetmsg KEY_FILE NAMESPACE BODY\n");
		return 2;
	}
	if (proto_key_load(&k, argv[1], argv[2], "fleetmsg", &d) < 0) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "fleetmsg: %s\n", d.msgs[i]);
		diag_free(&d);
		return 1;
	}
	n = proto_seal(&k, argv[3], strlen(argv[3]), out, sizeof(out));
	if (n == 0) {
		fprintf(stderr, "fleetmsg: the body is too long\n");
		return 1;
	}
	printf("%s\n", out);
	return 0;
}
