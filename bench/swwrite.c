/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * swwrite: appends the lines of SRC to DST the way a busy syslog daemon
 * would: whole lines, in one write() per batch, at RATE lines a second
 * (batches every millisecond) or, with -r 0, as fast as it can. Prints
 * "lines=N seconds=S start=T end=T" (T: CLOCK_REALTIME seconds) when done.
 *
 * usage: swwrite [-r RATE] [-n LINES] SRC DST
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SWWRITE_BUF (1u << 20)

static double swwrite_now(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int swwrite_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void swwrite_usage(void)
{
	fprintf(stderr, "usage: swwrite [-r RATE] [-n LINES] SRC DST\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long long rate = 0, max = 0, lines = 0;
	double t0, r0;
	char *buf;
	size_t have = 0;
	int c, in, out;

	while ((c = getopt(argc, argv, "r:n:")) != -1) {
		char *end;

		switch (c) {
		case 'r':
			rate = strtoull(optarg, &end, 10);
			if (*end)
				swwrite_usage();
			break;
		case 'n':
			max = strtoull(optarg, &end, 10);
			if (*end)
				swwrite_usage();
			break;
		default:
			swwrite_usage();
		}
	}
	if (argc - optind != 2)
		swwrite_usage();
	in = open(argv[optind], O_RDONLY | O_CLOEXEC);
	out = open(argv[optind + 1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	buf = malloc(SWWRITE_BUF);
	if (in < 0 || out < 0 || !buf) {
		fprintf(stderr, "swwrite: %s\n", strerror(errno));
		return 1;
	}
	r0 = swwrite_now(CLOCK_REALTIME);
	t0 = swwrite_now(CLOCK_MONOTONIC);
	for (;;) {
		ssize_t n = read(in, buf + have, SWWRITE_BUF - have);
		size_t off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "swwrite: %s: %s\n", argv[optind], strerror(errno));
			return 1;
		}
		have += (size_t)n;
		/* hand out whole lines, a batch at a time */
		while (off < have && (!max || lines < max)) {
			unsigned long long want = rate ? rate / 1000 + 1 : ~0ULL, k = 0;
			size_t end = off;

			if (rate) {
				/* sleep (not spin: the reader needs the CPU) until
				 * this batch is due */
				double due = t0 + (double)lines / (double)rate;
				struct timespec ts = {
					.tv_sec = (time_t)due,
					.tv_nsec = (long)((due - (double)(time_t)due) * 1e9),
				};

				while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
					;
			}
			while (end < have && k < want && (!max || lines + k < max)) {
				char *nl = memchr(buf + end, '\n', have - end);

				if (!nl)
					break;
				end = (size_t)(nl - buf) + 1;
				k++;
			}
			if (k == 0)
				break;
			if (swwrite_all(out, buf + off, end - off) < 0) {
				fprintf(stderr, "swwrite: %s: %s\n", argv[optind + 1], strerror(errno));
				return 1;
			}
			lines += k;
			off = end;
		}
		memmove(buf, buf + off, have - off);
		have -= off;
		if (n == 0 || (max && lines >= max))
			break;
	}
	printf("lines=%llu seconds=%.6f start=%.6f end=%.6f\n", lines,
	       swwrite_now(CLOCK_MONOTONIC) - t0, r0, swwrite_now(CLOCK_REALTIME));
	free(buf);
	close(in);
	return close(out) == 0 ? 0 : 1;
}
