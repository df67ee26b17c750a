/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control socket with a real sd-event loop in this process and real
 * clients in a child process; the daemon side is a real judge.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control.h"
#include "ctlclient.h"
#include "duration.h"
#include "judge.h"
#include "names.h"
#include "unit.h"

static char dir[128], sock[200];
static struct judge *judge;
static int reloads;

static struct json_object *t_status(void *ctx)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "tracked", json_object_new_int64((int64_t)judge_tracked(judge)));
	return o;
}

static struct json_object *t_list(void *ctx)
{
	return json_object_new_array();
}

static int t_ban(void *ctx, const struct addr *a, long duration, const char *reason,
		 const char **why)
{
	return judge_ban(judge, a, 1795000000, duration,
			 reason ? names_intern(reason, strlen(reason)) : 0, why);
}

static int t_unban(void *ctx, const struct addr *a, bool forget, bool local)
{
	return judge_unban(judge, a, 1795000001, forget);
}

static int t_reload(void *ctx, struct diag *d)
{
	if (reloads++ == 0)
		return 0;
	diag_error(d, "spamwrath.conf", 3, "findtime: \"x\" is not a duration");
	return -1;
}

static const struct control_ops ops = { t_status, t_list, t_ban, t_unban, t_reload, NULL, NULL, NULL };

/* --- the client side, run in a child --- */

static int raw_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strcpy(sa.sun_path, sock);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

/* Everything the server sends until it closes or 5 s pass. */
static size_t raw_read(int fd, char *buf, size_t cap, int ms)
{
	size_t n = 0;
	struct pollfd p = { fd, POLLIN, 0 };

	while (n + 1 < cap && poll(&p, 1, ms) > 0) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);

		if (r <= 0)
			break;
		n += (size_t)r;
		if (memchr(buf, '\n', n) && ms < 1000)
			break;
	}
	buf[n] = '\0';
	return n;
}

static int request(const char *req, struct ctl_reply *r)
{
	int fd = ctlclient_connect(sock), e;

	if (fd < 0)
		return fd;
	e = ctlclient_request(fd, req, r);
	close(fd);
	return e;
}

#define CHILD_CHECK(step, cond) do { if (!(cond)) _exit(step); } while (0)

static void client_script(void)
{
	struct ctl_reply r;
	char buf[8192];
	int fd, idle, big;

	/* status: JSON then ok */
	CHILD_CHECK(10, request("status", &r) == 0 && r.code == 200 && r.n == 2);
	CHILD_CHECK(11, strstr(r.lines[0], "\"tracked\":0") != NULL);
	ctlclient_reply_free(&r);
	/* ban, then refused bans */
	CHILD_CHECK(20, request("ban 203.0.113.5 for=1h reason=filter end", &r) == 0 &&
		    r.code == 200);
	ctlclient_reply_free(&r);
	CHILD_CHECK(21, request("ban 127.0.0.1", &r) == 0 && r.code == 409 &&
		    strstr(r.lines[0], "loopback"));
	ctlclient_reply_free(&r);
	CHILD_CHECK(22, request("ban not-an-address", &r) == 0 && r.code == 400);
	ctlclient_reply_free(&r);
	CHILD_CHECK(23, request("ban 203.0.113.6 for=soon", &r) == 0 && r.code == 400);
	ctlclient_reply_free(&r);
	/* past the cap on durations: refused, not wrapped (issue 17, item 6) */
	CHILD_CHECK(25, request("ban 203.0.113.7 for=9223372036854775807s", &r) == 0 &&
		    r.code == 400 && strstr(r.lines[0], "longer than " DURATION_MAX_TEXT));
	ctlclient_reply_free(&r);
	CHILD_CHECK(26, request("ban 203.0.113.7 for=3651d", &r) == 0 && r.code == 400);
	ctlclient_reply_free(&r);
	CHILD_CHECK(24, request("status", &r) == 0 && strstr(r.lines[0], "\"tracked\":1"));
	ctlclient_reply_free(&r);
	/* unban, twice */
	CHILD_CHECK(30, request("unban 203.0.113.5", &r) == 0 && r.code == 200);
	ctlclient_reply_free(&r);
	CHILD_CHECK(31, request("unban 203.0.113.5", &r) == 0 && r.code == 404);
	ctlclient_reply_free(&r);
	/* reload: fine, then failing with the reasons */
	CHILD_CHECK(40, request("reload", &r) == 0 && r.code == 200);
	ctlclient_reply_free(&r);
	CHILD_CHECK(41, request("reload", &r) == 0 && r.code == 500 && r.n == 2 &&
		    strcmp(r.lines[0], "spamwrath.conf:3: findtime: \"x\" is not a duration") == 0);
	ctlclient_reply_free(&r);
	CHILD_CHECK(42, request("frobnicate", &r) == 0 && r.code == 400);
	ctlclient_reply_free(&r);

	/* two requests in one write: two replies, in order */
	fd = raw_connect();
	CHILD_CHECK(50, fd >= 0 && write(fd, "list\nquit\n", 10) == 10);
	raw_read(fd, buf, sizeof(buf), 2000);
	CHILD_CHECK(51, strcmp(buf, "200-[]\n200 ok\n200 bye\n") == 0);
	close(fd);

	/* a client that says nothing, and one that sends 10 MB, do not stall
	 * anyone else */
	idle = raw_connect();
	big = raw_connect();
	CHILD_CHECK(60, idle >= 0 && big >= 0);
	{
		static char junk[1 << 20];
		size_t sent = 0;

		memset(junk, 'x', sizeof(junk));
		for (int i = 0; i < 10; i++) {
			ssize_t w = send(big, junk, sizeof(junk), MSG_NOSIGNAL | MSG_DONTWAIT);

			if (w > 0)
				sent += (size_t)w;
		}
		CHILD_CHECK(61, sent >= CONTROL_REQUEST_MAX);
	}
	CHILD_CHECK(62, request("status", &r) == 0 && r.code == 200);
	ctlclient_reply_free(&r);
	raw_read(big, buf, sizeof(buf), 2000);
	CHILD_CHECK(63, strncmp(buf, "400 request too long\n", 21) == 0);
	close(big);
	close(idle);

	/* the client limit: CONTROL_CLIENTS idle ones, then one too many */
	{
		int fds[CONTROL_CLIENTS];

		for (int i = 0; i < CONTROL_CLIENTS; i++) {
			fds[i] = raw_connect();
			CHILD_CHECK(70, fds[i] >= 0);
		}
		usleep(200000);
		fd = raw_connect();
		CHILD_CHECK(71, fd >= 0);
		raw_read(fd, buf, sizeof(buf), 2000);
		CHILD_CHECK(72, strncmp(buf, "503 ", 4) == 0);
		close(fd);
		for (int i = 0; i < CONTROL_CLIENTS; i++)
			close(fds[i]);
		usleep(200000);
		CHILD_CHECK(73, request("status", &r) == 0 && r.code == 200);
		ctlclient_reply_free(&r);
	}

	/* a NUL inside a request: refused whole, not cut into a 1 h ban
	 * (issue 17, item 10) */
	fd = raw_connect();
	CHILD_CHECK(90, fd >= 0 && write(fd, "ban 198.51.100.90\0 for=1s\n", 27) == 27);
	raw_read(fd, buf, sizeof(buf), 500);
	CHILD_CHECK(91, strncmp(buf, "400 a NUL byte in the request", 29) == 0);
	close(fd);
	CHILD_CHECK(92, request("unban 198.51.100.90", &r) == 0 && r.code == 404);
	ctlclient_reply_free(&r);

	/* idle counts whole requests: a client trickling a byte every 0.3 s
	 * is cut after the idle limit (1 s here), one asking a whole request
	 * every 0.3 s is not (issue 17, item 10) */
	{
		int trickle = raw_connect(), busy = raw_connect();
		bool cut = false;

		CHILD_CHECK(93, trickle >= 0 && busy >= 0);
		for (int i = 0; i < 10; i++) {
			struct pollfd p = { trickle, POLLIN, 0 };

			if (send(trickle, "s", 1, MSG_NOSIGNAL) != 1 ||
			    (poll(&p, 1, 0) == 1 && read(trickle, buf, sizeof(buf)) == 0)) {
				cut = true;
				break;
			}
			CHILD_CHECK(94, write(busy, "list\n", 5) == 5);
			raw_read(busy, buf, sizeof(buf), 500);
			CHILD_CHECK(95, strncmp(buf, "200-[]", 6) == 0);
			usleep(300000);
		}
		CHILD_CHECK(96, cut);
		CHILD_CHECK(97, write(busy, "quit\n", 5) == 5);
		raw_read(busy, buf, sizeof(buf), 500);
		CHILD_CHECK(98, strstr(buf, "200 bye") != NULL);
		close(trickle);
		close(busy);
	}

	/* somebody else: the socket's mode keeps them out; if it did not, the
	 * daemon's own check would */
	{
		pid_t p = fork();
		int st;

		if (p == 0) {
			if (setgid(65534) < 0 || setuid(65534) < 0)
				_exit(1);
			if (ctlclient_connect(sock) != -EACCES)
				_exit(2);
			_exit(0);
		}
		CHILD_CHECK(80, waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0);
		CHILD_CHECK(81, chmod(sock, 0666) == 0);
		p = fork();
		if (p == 0) {
			if (setgid(65534) < 0 || setuid(65534) < 0)
				_exit(1);
			if (request("status", &r) < 0 || r.code != 403)
				_exit(3);
			_exit(0);
		}
		CHILD_CHECK(82, waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	_exit(0);
}

START_TEST(protocol)
{
	struct judge_rules r = {
		.threshold = WEIGHT_ONE, .findtime = 3600, .bantime = 600, .bantime_max = 86400,
		.bantime_factor = 2, .repeat_window = 86400, .ipv4_prefix = 32,
		.ipv6_prefix = 64, .max_tracked = 100,
	};
	struct diag d = { 0 };
	struct control *c;
	sd_event *e;
	pid_t child;
	int status = -1;

	snprintf(dir, sizeof(dir), "/tmp/sw-check-control-%d", (int)getpid());
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	ck_assert_int_eq(chmod(dir, 0755), 0);	/* the socket's own mode must do the work */
	snprintf(sock, sizeof(sock), "%s/control.sock", dir);
	for (int k = 0; k < CLASS_COUNT; k++)
		r.classes[k].enabled = true;
	judge = judge_new(&r, NULL, NULL, NULL);
	ck_assert_int_eq(sd_event_new(&e), 0);
	ck_assert_int_eq(control_start(e, sock, "root", &ops, &c, &d), 0);
	control_set_idle(c, 1000);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		signal(SIGPIPE, SIG_IGN);	/* a write to a closed socket fails its step */
		client_script();
	}
	for (int i = 0; i < 3000 && waitpid(child, &status, WNOHANG) == 0; i++)
		sd_event_run(e, 10000);
	if (waitpid(child, &status, WNOHANG) == 0) {
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
		ck_abort_msg("client script did not finish in 30 s");
	}
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "client script failed at step %d (signal %d)", WEXITSTATUS(status),
		      WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	control_stop(c);
	ck_assert_int_ne(access(sock, F_OK), 0);	/* the socket is gone */
	sd_event_unref(e);
	judge_free(judge);
	rmdir(dir);
	diag_free(&d);
}
END_TEST

static Suite *control_suite(void)
{
	Suite *s = suite_create("control");
	TCase *tc = tcase_create("core");

	/* protocol: a real socket and event loop, many clients; seconds under ASan */
	tcase_set_timeout(tc, UNIT_HEAVY_TIMEOUT);
	tcase_add_test(tc, protocol);
	suite_add_tcase(s, tc);
	return s;
}

/* The permission steps switch to another user: root only; without root the
 * whole program reports a skip (77) rather than a pass. */
int main(void)
{
	SRunner *sr;
	int failed;

	if (getuid() != 0) {
		fprintf(stderr, "SKIP: check_control needs root (it tests peers of other users)\n");
		return 77;
	}
	sr = srunner_create(control_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
