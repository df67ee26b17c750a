/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * swready: starts a command as systemd would start a Type=notify service
 * (NOTIFY_SOCKET names a datagram socket of ours) and prints
 * "ready=S pid=P", S the seconds from fork to its READY=1. With -k it then
 * stops the command (SIGTERM) and waits for it; without, the command keeps
 * running and the caller stops it. Exit status 1 when the command exits or
 * the timeout passes before READY=1.
 *
 * usage: swready [-k] [-t SECONDS] -- COMMAND [ARG...]
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double ready_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* True when the notification holds the line READY=1. */
static int ready_says_ready(const char *msg, size_t n)
{
	const char *p = msg, *end = msg + n;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);

		if (len == 7 && memcmp(p, "READY=1", 7) == 0)
			return 1;
		p = nl ? nl + 1 : end;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	double timeout = 60, t0;
	int kill_after = 0, c, fd, status, ready = 0;
	pid_t pid;

	while ((c = getopt(argc, argv, "+kt:")) != -1) {
		switch (c) {
		case 'k': kill_after = 1; break;
		case 't': timeout = atof(optarg); break;
		default:
			fprintf(stderr, "usage: swready [-k] [-t SECONDS] -- COMMAND [ARG...]\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: swready [-k] [-t SECONDS] -- COMMAND [ARG...]\n");
		return 2;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sw-bench-notify-%ld",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());
	unlink(sa.sun_path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "swready: %s: %s\n", sa.sun_path, strerror(errno));
		return 1;
	}
	setenv("NOTIFY_SOCKET", sa.sun_path, 1);
	t0 = ready_now();
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "swready: fork: %s\n", strerror(errno));
		unlink(sa.sun_path);
		return 1;
	}
	if (pid == 0) {
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "swready: %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}
	while (!ready) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		double left = t0 + timeout - ready_now();
		char msg[4096];
		ssize_t n;

		if (left <= 0 || waitpid(pid, &status, WNOHANG) == pid)
			break;
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(fd, msg, sizeof(msg), 0);
		if (n > 0 && ready_says_ready(msg, (size_t)n)) {
			printf("ready=%.6f pid=%ld\n", ready_now() - t0, (long)pid);
			ready = 1;
		}
	}
	unlink(sa.sun_path);
	close(fd);
	if (!ready) {
		fprintf(stderr, "swready: %s did not say READY=1\n", argv[optind]);
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
		return 1;
	}
	if (kill_after) {
		kill(pid, SIGTERM);
		if (waitpid(pid, &status, 0) == pid && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
			fprintf(stderr, "swready: %s did not exit cleanly after SIGTERM\n", argv[optind]);
			return 1;
		}
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
