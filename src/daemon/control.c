/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Each client has an input buffer of CONTROL_REQUEST_MAX bytes, an output
 * buffer that grows with the reply, an io source and an idle timer. While
 * a reply is being written the client is not read: one request at a time.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "grow.h"
#include "control.h"
#include "duration.h"
#include "jsonout.h"
#include "names.h"

struct client {
	struct control *c;
	int fd;
	sd_event_source *io, *timer;
	char in[CONTROL_REQUEST_MAX + 1];
	size_t inlen;
	char *out;
	size_t outlen, outoff, outcap;
	bool closing;		/* close once the reply is out */
	struct client *next;
};

struct control {
	sd_event *e;
	int fd;
	char *path;
	gid_t gid;
	bool have_group;
	sd_event_source *listen;
	struct control_ops ops;
	struct client *clients;
	unsigned nclients;
	uint64_t idle_usec;
};

void control_set_idle(struct control *c, unsigned ms)
{
	c->idle_usec = ms * 1000ULL;
}

unsigned control_clients(const struct control *c)
{
	return c->nclients;
}

static void client_free(struct client *cl)
{
	struct control *c = cl->c;

	for (struct client **p = &c->clients; *p; p = &(*p)->next) {
		if (*p == cl) {
			*p = cl->next;
			break;
		}
	}
	c->nclients--;
	sd_event_source_disable_unref(cl->io);
	sd_event_source_disable_unref(cl->timer);
	close(cl->fd);
	free(cl->out);
	free(cl);
}

static int client_append(struct client *cl, const char *s, size_t n)
{
	if (grow(&cl->out, &cl->outcap, cl->outlen + n, 1, 1024) < 0)
		return -1;
	memcpy(cl->out + cl->outlen, s, n);
	cl->outlen += n;
	return 0;
}

/* One reply line: "NNN-text" (more follows) or "NNN text" (the last).
 * Text with line breaks becomes several lines. */
static void client_reply(struct client *cl, int code, bool last, const char *text)
{
	char head[8];

	for (;;) {
		const char *nl = strchr(text, '\n');
		size_t n = nl ? (size_t)(nl - text) : strlen(text);
		bool final = last && !nl;

		snprintf(head, sizeof(head), "%03d%c", code, final ? ' ' : '-');
		if (client_append(cl, head, 4) < 0 || client_append(cl, text, n) < 0 ||
		    client_append(cl, "\n", 1) < 0) {
			cl->closing = true;	/* out of memory: give up on this client */
			return;
		}
		if (!nl)
			return;
		text = nl + 1;
	}
}

/* A text of lines, each a "200-" line, then "200 ok". */
static void client_text(struct client *cl, char *text)
{
	size_t n;

	if (!text) {
		client_reply(cl, 500, true, "failed: out of memory");
		return;
	}
	n = strlen(text);
	if (n && text[n - 1] == '\n')
		text[n - 1] = '\0';
	client_reply(cl, 200, false, text);
	client_reply(cl, 200, true, "ok");
	free(text);
}

static void client_json(struct client *cl, struct json_object *o)
{
	const char *s;

	if (!o) {
		client_reply(cl, 500, true, "failed: out of memory");
		return;
	}
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					   JSON_C_TO_STRING_NOSLASHESCAPE);
	client_reply(cl, 200, false, s ? s : "null");
	client_reply(cl, 200, true, "ok");
	json_object_put(o);
}

/* The next space-separated word of *p (NUL-terminated in place), or NULL.
 * With rest, the whole remainder of the line instead. */
static char *control_word(char **p, bool rest)
{
	char *w = *p, *e;

	while (*w == ' ')
		w++;
	if (*w == '\0')
		return NULL;
	if (rest) {
		*p = w + strlen(w);
		return w;
	}
	e = strchr(w, ' ');
	if (e) {
		*e = '\0';
		*p = e + 1;
	} else {
		*p = w + strlen(w);
	}
	return w;
}

/* "ban ADDRESS [for=DURATION] [reason=TEXT...]" after the verb */
static void control_ban(struct client *cl, char *args)
{
	struct control *c = cl->c;
	char *addr = control_word(&args, false);
	char *reason = NULL;
	const char *why = NULL;
	long duration = 0;
	struct addr a;
	char msg[256], abuf[ADDR_STRLEN];
	int r;

	if (!addr || addr_parse_host(addr, strlen(addr), &a) < 0) {
		client_reply(cl, 400, true, "usage: ban ADDRESS [for=DURATION] [reason=TEXT]");
		return;
	}
	for (;;) {
		char *w;

		while (*args == ' ')
			args++;
		if (strncmp(args, "reason=", 7) == 0) {
			reason = control_word(&args, true) + 7;	/* the rest of the line */
			break;
		}
		w = control_word(&args, false);
		if (!w)
			break;
		if (strncmp(w, "for=", 4) != 0) {
			client_reply(cl, 400, true, "ban: unknown argument (for=DURATION, reason=TEXT)");
			return;
		}
		r = duration_parse(w + 4, &duration);
		if (r == -2) {
			client_reply(cl, 400, true, "for=: " DURATION_TOO_LONG);
			return;
		}
		if (r < 0 || duration <= 0) {
			client_reply(cl, 400, true, "for=: not a duration (90s, 15m, 12h, 7d)");
			return;
		}
	}
	if (reason) {
		for (char *p = reason; *p; p++)
			if ((unsigned char)*p < ' ' || (unsigned char)*p >= 0x7f)
				*p = '_';	/* shown as the ban's pattern in logs and lists */
		if (strlen(reason) > 64)
			reason[64] = '\0';
		if (*reason == '\0')
			reason = NULL;
	}
	if (c->ops.ban(c->ops.ctx, &a, duration, reason, &why) < 0) {
		snprintf(msg, sizeof(msg), "refused: %s", why ? why : "failed");
		client_reply(cl, 409, true, msg);
		return;
	}
	snprintf(msg, sizeof(msg), "banned %s", addr_format(&a, abuf));
	client_reply(cl, 200, true, msg);
}

static void control_why(struct client *cl, char *args)
{
	struct control *c = cl->c;
	char *addr = control_word(&args, false);
	struct addr a;

	if (!addr || addr_parse_host(addr, strlen(addr), &a) < 0 || control_word(&args, false)) {
		client_reply(cl, 400, true, "usage: why ADDRESS");
		return;
	}
	client_json(cl, c->ops.why(c->ops.ctx, &a));
}

static void control_unban(struct client *cl, char *args)
{
	struct control *c = cl->c;
	char *addr = control_word(&args, false), *opt;
	bool forget = false, local = false, bad = false;
	struct addr a;

	while ((opt = control_word(&args, false))) {
		if (strcmp(opt, "forget") == 0 && !forget)
			forget = true;
		else if (strcmp(opt, "local") == 0 && !local)
			local = true;
		else
			bad = true;
	}
	if (bad || !addr || addr_parse_host(addr, strlen(addr), &a) < 0) {
		client_reply(cl, 400, true, "usage: unban ADDRESS [forget] [local]");
		return;
	}
	if (c->ops.unban(c->ops.ctx, &a, forget, local) < 0) {
		client_reply(cl, 404, true, "not banned");
		return;
	}
	client_reply(cl, 200, true, forget ? "unbanned and forgotten" : "unbanned");
}

static void control_reload(struct client *cl)
{
	struct control *c = cl->c;
	struct diag d = { 0 };

	if (c->ops.reload(c->ops.ctx, &d) < 0) {
		for (size_t i = 0; i < d.n; i++)
			client_reply(cl, 500, false, d.msgs[i]);
		client_reply(cl, 500, true, "reload failed; still running the previous configuration");
	} else {
		for (size_t i = 0; i < d.n; i++)
			client_reply(cl, 200, false, d.msgs[i]);	/* warnings */
		client_reply(cl, 200, true, "reloaded");
	}
	diag_free(&d);
}

static void control_request(struct client *cl, char *line)
{
	struct control *c = cl->c;
	char *verb = line, *args;

	while (*verb == ' ')
		verb++;
	args = strchr(verb, ' ');
	if (args)
		*args++ = '\0';
	else
		args = verb + strlen(verb);
	if (strcmp(verb, "status") == 0)
		client_json(cl, c->ops.status(c->ops.ctx));
	else if (strcmp(verb, "list") == 0)
		client_json(cl, c->ops.list(c->ops.ctx));
	else if (strcmp(verb, "ban") == 0)
		control_ban(cl, args);
	else if (strcmp(verb, "unban") == 0)
		control_unban(cl, args);
	else if (strcmp(verb, "reload") == 0)
		control_reload(cl);
	else if (strcmp(verb, "why") == 0 && c->ops.why)
		control_why(cl, args);
	else if (strcmp(verb, "metrics") == 0 && c->ops.metrics)
		client_text(cl, c->ops.metrics(c->ops.ctx));
	else if (strcmp(verb, "quit") == 0) {
		client_reply(cl, 200, true, "bye");
		cl->closing = true;
	} else
		client_reply(cl, 400, true, "unknown command (status, list, ban, unban, reload, metrics, why, quit)");
}

static int client_update_events(struct client *cl)
{
	uint32_t ev = cl->outoff < cl->outlen ? EPOLLOUT : (cl->closing ? 0 : EPOLLIN);

	if (ev == 0)
		return -1;
	return sd_event_source_set_io_events(cl->io, ev);
}

/* A whole request handled or a whole reply read: the client is not idle.
 * Bytes alone do not count, or a byte every few seconds (or a reply read
 * a byte at a time) would hold one of the CONTROL_CLIENTS slots forever. */
static void client_touch(struct client *cl)
{
	uint64_t now;

	sd_event_now(cl->c->e, CLOCK_MONOTONIC, &now);
	sd_event_source_set_time(cl->timer, now + cl->c->idle_usec);
}

/* Handles every complete line in the input while no reply is pending. */
static void client_process(struct client *cl)
{
	while (!cl->closing && cl->outoff == cl->outlen) {
		char *nl = memchr(cl->in, '\n', cl->inlen);
		size_t used;

		if (!nl) {
			if (cl->inlen >= CONTROL_REQUEST_MAX) {
				client_reply(cl, 400, true, "request too long");
				cl->closing = true;
			}
			return;
		}
		*nl = '\0';
		if (nl > cl->in && nl[-1] == '\r')
			nl[-1] = '\0';
		cl->outlen = cl->outoff = 0;
		if (memchr(cl->in, '\0', (size_t)(nl - cl->in)))
			client_reply(cl, 400, true, "a NUL byte in the request: refused whole");
		else
			control_request(cl, cl->in);
		client_touch(cl);
		used = (size_t)(nl - cl->in) + 1;
		memmove(cl->in, nl + 1, cl->inlen - used);
		cl->inlen -= used;
	}
}

static int client_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct client *cl = userdata;

	if (revents & EPOLLIN) {
		ssize_t n = read(fd, cl->in + cl->inlen, CONTROL_REQUEST_MAX - cl->inlen);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			client_free(cl);
			return 0;
		}
		if (n > 0)
			cl->inlen += (size_t)n;
	}
	if (revents & (EPOLLHUP | EPOLLERR) && !(revents & EPOLLIN)) {
		client_free(cl);
		return 0;
	}
	client_process(cl);
	if ((revents & EPOLLOUT) || cl->outoff < cl->outlen) {
		ssize_t n = send(fd, cl->out + cl->outoff, cl->outlen - cl->outoff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			client_free(cl);
			return 0;
		}
		if (n > 0)
			cl->outoff += (size_t)n;
		if (cl->outoff == cl->outlen) {
			cl->outoff = cl->outlen = 0;
			client_touch(cl);
			client_process(cl);	/* a pipelined request may be waiting */
		}
	}
	if (client_update_events(cl) < 0)
		client_free(cl);
	return 0;
}

static int client_idle(sd_event_source *s, uint64_t usec, void *userdata)
{
	client_free(userdata);
	return 0;
}

/* Root, or a member of the control group (primary or supplementary). */
static bool control_allowed(struct control *c, int fd, uid_t *uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	gid_t groups[256];
	socklen_t glen = sizeof(groups);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	*uid = cred.uid;
	if (cred.uid == 0)
		return true;
	if (!c->have_group)
		return false;
	if (cred.gid == c->gid)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) == 0)
		for (size_t i = 0; i < glen / sizeof(gid_t); i++)
			if (groups[i] == c->gid)
				return true;
	return false;
}

/* Says why, best effort, and hangs up: no state is kept for refusals. */
static void control_refuse(int fd, const char *msg)
{
	ssize_t r = send(fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT);

	(void)r;
	close(fd);
}

static int control_accept(sd_event_source *s, int lfd, uint32_t revents, void *userdata)
{
	struct control *c = userdata;
	struct client *cl;
	uint64_t now;
	uid_t uid = (uid_t)-1;
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return 0;
	if (!control_allowed(c, fd, &uid)) {
		char msg[160];

		snprintf(msg, sizeof(msg), "403 not allowed: uid %d is neither root nor in the "
			 "control group\n", (int)uid);
		control_refuse(fd, msg);
		return 0;
	}
	if (c->nclients >= CONTROL_CLIENTS) {
		control_refuse(fd, "503 too many clients, try again\n");
		return 0;
	}
	cl = calloc(1, sizeof(*cl));
	if (!cl) {
		close(fd);
		return 0;
	}
	cl->c = c;
	cl->fd = fd;
	sd_event_now(c->e, CLOCK_MONOTONIC, &now);
	if (sd_event_add_io(c->e, &cl->io, fd, EPOLLIN, client_io, cl) < 0 ||
	    sd_event_add_time(c->e, &cl->timer, CLOCK_MONOTONIC,
			      now + c->idle_usec, 0, client_idle, cl) < 0) {
		sd_event_source_disable_unref(cl->io);
		close(fd);
		free(cl);
		return 0;
	}
	cl->next = c->clients;
	c->clients = cl;
	c->nclients++;
	return 0;
}

int control_start(sd_event *e, const char *path, const char *group,
		  const struct control_ops *ops, struct control **out, struct diag *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct control *c;
	struct stat st;
	struct group *gr;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		diag_error(d, path, 0, "control_socket: path too long");
		return -1;
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->path = strdup(path))) {
		free(c);
		diag_error(d, path, 0, "out of memory");
		return -1;
	}
	c->e = e;
	c->ops = *ops;
	c->idle_usec = CONTROL_IDLE * 1000000ULL;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		diag_error(d, path, 0, "socket: %s", strerror(errno));
		goto fail;
	}
	strcpy(sa.sun_path, path);
	/* a socket left by an earlier daemon is stale: nobody else binds here */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	if (bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		diag_error(d, path, 0, "cannot listen on the control socket: %s", strerror(errno));
		goto fail;
	}
	gr = getgrnam(group);
	if (gr) {
		c->gid = gr->gr_gid;
		c->have_group = true;
		if (chown(path, (uid_t)-1, gr->gr_gid) < 0)
			diag_warn(d, path, 0, "cannot give the control socket to group %s: %s",
				  group, strerror(errno));
	} else {
		diag_warn(d, path, 0, "control_group %s does not exist: only root may use "
			  "spamwrathctl", group);
	}
	if (chmod(path, 0660) < 0 || listen(c->fd, 16) < 0 ||
	    sd_event_add_io(e, &c->listen, c->fd, EPOLLIN, control_accept, c) < 0) {
		diag_error(d, path, 0, "cannot listen on the control socket: %s", strerror(errno));
		unlink(path);
		goto fail;
	}
	*out = c;
	return 0;
fail:
	if (c->fd >= 0)
		close(c->fd);
	free(c->path);
	free(c);
	return -1;
}

void control_stop(struct control *c)
{
	if (!c)
		return;
	while (c->clients)
		client_free(c->clients);
	sd_event_source_disable_unref(c->listen);
	close(c->fd);
	unlink(c->path);
	free(c->path);
	free(c);
}
