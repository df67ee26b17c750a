/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctlclient: owns the client side of the control protocol (see control.h), for spamwrathctl.
 * Blocking I/O with a timeout: a tool run from a shell or a filter, not part of the event loop.
 * It must never hang forever on a daemon that does not answer. */
#ifndef SPAMWRATH_CTLCLIENT_H
#define SPAMWRATH_CTLCLIENT_H

#include <stddef.h>

struct ctl_reply {
	int code;		/* of the final line: 200, 400, ... */
	char **lines;		/* every line's text, without "NNN-" */
	size_t n;
};

/* Seconds spamwrathctl waits for a reply. */
#define CTLCLIENT_TIMEOUT 60

/* A connected socket, or -errno (ENOENT/ECONNREFUSED: no daemon there). */
int ctlclient_connect(const char *path);

/* Sends one request line and reads the whole reply. 0 or -errno. */
int ctlclient_request(int fd, const char *request, struct ctl_reply *r);
void ctlclient_reply_free(struct ctl_reply *r);

#endif
