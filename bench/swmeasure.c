/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * swmeasure: runs one command and prints what it cost, as
 * "wall=S user=S sys=S maxrss_kib=N status=N" on stderr (or -r FILE).
 * Wall time is CLOCK_MONOTONIC around fork and wait4; user, system and
 * peak RSS come from the child's rusage. The command's stdout goes to
 * -o FILE (default /dev/null), its stderr stays.
 *
 * usage: swmeasure [-o OUT] [-r REPORT] -- COMMAND [ARG...]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double measure_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double measure_tv(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	const char *out = "/dev/null", *report = NULL;
	struct rusage ru;
	double t0, t1;
	pid_t pid;
	int c, status, code;
	FILE *rf = stderr;

	while ((c = getopt(argc, argv, "+o:r:")) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'r': report = optarg; break;
		default:
			fprintf(stderr, "usage: swmeasure [-o OUT] [-r REPORT] -- COMMAND [ARG...]\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: swmeasure [-o OUT] [-r REPORT] -- COMMAND [ARG...]\n");
		return 2;
	}
	t0 = measure_now();
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "swmeasure: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0) {
			fprintf(stderr, "swmeasure: %s: %s\n", out, strerror(errno));
			_exit(127);
		}
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "swmeasure: %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "swmeasure: wait4: %s\n", strerror(errno));
			return 1;
		}
	}
	t1 = measure_now();
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (report && !(rf = fopen(report, "w"))) {
		fprintf(stderr, "swmeasure: %s: %s\n", report, strerror(errno));
		return 1;
	}
	fprintf(rf, "wall=%.6f user=%.6f sys=%.6f maxrss_kib=%ld status=%d\n", t1 - t0,
		measure_tv(&ru.ru_utime), measure_tv(&ru.ru_stime), ru.ru_maxrss, code);
	if (rf != stderr && fclose(rf) != 0)
		return 1;
	return code;
}
