/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control protocol through the real socket code: a control socket
 * with its sd-event loop in this process, a judge behind it; the input is
 * what one client sends (then it shuts its side down), in one write or
 * as much as the socket takes at a time.
 *
 * Invariants beyond "no crash": every reply line is "NNN-text" or
 * "NNN text", and the server hangs up once the client has said all (the
 * connection never stalls).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "fuzz.h"
#include "judge.h"
#include "names.h"
#include "unit_rules.h"

#define FZ_NOW 1795000000L
#define FZ_INPUT_MAX (256u << 10)	/* more than the socket buffers: written in turns */

static sd_event *fz_e;
static struct control *fz_c;
static struct judge *fz_j;
static char fz_sock[256];

static struct json_object *fz_status(void *ctx)
{
	struct json_object *o = json_object_new_object();

	(void)ctx;
	json_object_object_add(o, "tracked", json_object_new_int64((int64_t)judge_tracked(fz_j)));
	return o;
}

static int fz_list_one(void *ctx, const struct judge_entry *e)
{
	char a[ADDR_STRLEN];

	if (e->ban_until > FZ_NOW)
		json_object_array_add(ctx, json_object_new_string(addr_format(&e->addr, a)));
	return 0;
}

static struct json_object *fz_list(void *ctx)
{
	struct json_object *v = json_object_new_array();

	(void)ctx;
	judge_walk(fz_j, fz_list_one, v);
	return v;
}

static int fz_ban(void *ctx, const struct addr *a, long duration, const char *reason,
		  const char **why)
{
	(void)ctx;
	return judge_ban(fz_j, a, FZ_NOW, duration,
			 reason ? names_intern(reason, strlen(reason)) : 0, why);
}

static int fz_unban(void *ctx, const struct addr *a, bool forget, bool local)
{
	(void)ctx;
	return judge_unban(fz_j, a, FZ_NOW, forget);
}

static int fz_reload(void *ctx, struct diag *d)
{
	(void)ctx;
	diag_warn(d, "spamwrath.conf", 1, "a warning\nof two lines");
	return 0;
}

static const struct control_ops fz_ops = { fz_status, fz_list, fz_ban, fz_unban, fz_reload, NULL, NULL, NULL };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct diag d = { 0 };

	(void)argc;
	(void)argv;
	snprintf(fz_sock, sizeof(fz_sock), "%s/control.sock", fuzz_dir());
	if (sd_event_new(&fz_e) < 0 || control_start(fz_e, fz_sock, "root", &fz_ops, &fz_c, &d) < 0)
		fuzz_fail("control_start: %s", d.n ? d.msgs[0] : "sd_event_new");
	diag_free(&d);
	return 0;
}

/* Checks the complete reply lines in buf[0..*n) and keeps the rest. */
static void fz_check_replies(char *buf, size_t *n)
{
	char *p = buf, *nl;

	while ((nl = memchr(p, '\n', *n - (size_t)(p - buf))) != NULL) {
		if (nl - p < 4 || p[0] < '1' || p[0] > '5' || p[1] < '0' || p[1] > '9' ||
		    p[2] < '0' || p[2] > '9' || (p[3] != ' ' && p[3] != '-'))
			fuzz_fail("malformed reply line: %.*s", (int)(nl - p), p);
		p = nl + 1;
	}
	*n -= (size_t)(p - buf);
	memmove(buf, p, *n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct judge_rules r;
	static char in[1 << 16];
	size_t off = 0, inlen = 0;
	bool shut = false;
	int fd, turns;

	if (size > FZ_INPUT_MAX)
		size = FZ_INPUT_MAX;
	unit_rules(&r);	/* only bans by hand: the weights play no part */
	fz_j = judge_new(&r, NULL, NULL, NULL);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	strcpy(sa.sun_path, fz_sock);
	if (!fz_j || fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		fuzz_fail("cannot connect to the control socket");
	for (turns = 0; turns < 100000; turns++) {
		ssize_t k;

		if (off < size) {
			k = send(fd, data + off, size - off, MSG_NOSIGNAL);
			if (k > 0)
				off += (size_t)k;
			else if (k < 0 && errno != EAGAIN)
				off = size;	/* the server hung up first (request too long) */
		}
		if (off == size && !shut) {
			shutdown(fd, SHUT_WR);
			shut = true;
		}
		sd_event_run(fz_e, 0);
		k = read(fd, in + inlen, sizeof(in) - inlen);
		if (k == 0 || (k < 0 && errno != EAGAIN))
			break;		/* hung up: done */
		if (k > 0) {
			inlen += (size_t)k;
			fz_check_replies(in, &inlen);
			if (inlen == sizeof(in))
				fuzz_fail("a reply line longer than %zu bytes", sizeof(in));
		}
	}
	if (turns == 100000)
		fuzz_fail("the server never hung up after the client said all");
	close(fd);
	for (turns = 0; control_clients(fz_c) > 0; turns++)
		if (turns == 1000 || sd_event_run(fz_e, 0) < 0)
			fuzz_fail("the server kept a client the other side closed");
	judge_free(fz_j);
	return 0;
}
