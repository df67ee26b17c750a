/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "grow.h"
#include "ctlclient.h"

int ctlclient_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

static int ctlclient_wait(int fd, short ev)
{
	struct pollfd p = { fd, ev, 0 };
	int r;

	do
		r = poll(&p, 1, CTLCLIENT_TIMEOUT * 1000);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return -ETIMEDOUT;
	return r < 0 ? -errno : 0;
}

static int ctlclient_line(struct ctl_reply *r, const char *s, size_t n)
{
	char **v = realloc(r->lines, (r->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	r->lines = v;
	v[r->n] = strndup(s, n);
	if (!v[r->n])
		return -ENOMEM;
	r->n++;
	return 0;
}

int ctlclient_request(int fd, const char *request, struct ctl_reply *r)
{
	size_t len = strlen(request), off = 0, have = 0, cap = 65536;
	char *buf = malloc(cap);
	int e = 0;

	memset(r, 0, sizeof(*r));
	if (!buf)
		return -ENOMEM;
	while (off < len + 1) {
		const char *p = off < len ? request + off : "\n";
		size_t n = off < len ? len - off : 1;
		ssize_t w;

		if ((e = ctlclient_wait(fd, POLLOUT)) < 0)
			goto out;
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && (errno == EPIPE || errno == ECONNRESET))
			break;	/* refused at once: its reason is waiting to be read */
		if (w < 0 && errno != EINTR) {
			e = -errno;
			goto out;
		}
		if (w > 0)
			off += (size_t)w;
	}
	for (;;) {
		char *nl;
		ssize_t n;

		while ((nl = memchr(buf, '\n', have)) != NULL) {
			size_t l = (size_t)(nl - buf);

			if (l < 4 || buf[0] < '0' || buf[0] > '9' || (buf[3] != ' ' && buf[3] != '-')) {
				e = -EPROTO;
				goto out;
			}
			if ((e = ctlclient_line(r, buf + 4, l - 4)) < 0)
				goto out;
			if (buf[3] == ' ') {
				r->code = atoi(buf);
				goto out;
			}
			memmove(buf, nl + 1, have - l - 1);
			have -= l + 1;
		}
		if (grow(&buf, &cap, have + 1, 1, cap) < 0) {
			e = -ENOMEM;
			goto out;
		}
		if ((e = ctlclient_wait(fd, POLLIN)) < 0)
			goto out;
		n = read(fd, buf + have, cap - have);
		if (n == 0) {
			e = -ECONNRESET;
			goto out;
		}
		if (n < 0 && errno != EINTR) {
			e = -errno;
			goto out;
		}
		if (n > 0)
			have += (size_t)n;
	}
out:
	free(buf);
	if (e < 0)
		ctlclient_reply_free(r);
	return e;
}

void ctlclient_reply_free(struct ctl_reply *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->lines[i]);
	free(r->lines);
	r->lines = NULL;
	r->n = 0;
}
