/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * swlatency: measures ban latency, from an offence line's write() to its
 * address's presence in the kernel set. It appends N Postfix "User
 * unknown" rejects, each from a new address (10.201.x.y), to LOG at RATE a
 * second, and between writes asks the kernel (libipset, `ipset test`)
 * whether the addresses written are in SET yet. Prints one latency in
 * milliseconds a line to OUT, a line "timeout" for an address not banned
 * within TIMEOUT seconds, and "written=N banned=B" on stdout. Run it in
 * the daemon's network namespace.
 *
 * With -s, LOG is a syslog socket (journald's: /run/systemd/journal/dev-log)
 * and each line is a datagram, as glibc's syslog() sends it for Postfix:
 * "<22>Mmm dd hh:mm:ss postfix/smtpd[2001]: NOQUEUE: reject: ...".
 *
 * usage: swlatency [-s] [-n N] [-r RATE] [-t TIMEOUT] LOG SET OUT
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <libipset/ipset.h>

struct pending {
	char addr[16];
	double written;
	int done;
};

static double lat_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int lat_quiet_error(struct ipset *is, void *p, int status, const char *msg, ...)
{
	return -1;
}

static int lat_quiet_standard(struct ipset *is, void *p)
{
	return -1;
}

/* 0 when addr is in set. */
static int lat_test(struct ipset *is, const char *set, const char *addr)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "test %s %s", set, addr);
	return ipset_parse_line(is, cmd);
}

#define LAT_MSG "NOQUEUE: reject: RCPT from unknown[%s]: 550 5.1.1 <nobody@example.org>: " \
	"Recipient address rejected: User unknown in local recipient table; " \
	"from=<bulk@spam.example> to=<nobody@example.org> proto=ESMTP helo=<bot>"

/* A line to the log file, or a datagram to the syslog socket (mail.info). */
static int lat_write(int fd, bool dgram, const char *addr)
{
	char stamp[40], line[512];
	struct timespec ts;
	struct tm tm;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	if (dgram) {
		strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
		n = snprintf(line, sizeof(line), "<22>%s postfix/smtpd[2001]: " LAT_MSG, stamp, addr);
		return send(fd, line, (size_t)n, 0) == n ? 0 : -1;
	}
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%06ld+00:00 mx1 postfix/smtpd[2001]: " LAT_MSG "\n",
		     stamp, ts.tv_nsec / 1000, addr);
	return write(fd, line, (size_t)n) == n ? 0 : -1;
}

/* A datagram socket connected to the syslog socket at path, or -1. */
static int lat_syslog(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void lat_usage(void)
{
	fprintf(stderr, "usage: swlatency [-s] [-n N] [-r RATE] [-t TIMEOUT] LOG SET OUT\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned n = 1000, banned = 0;
	double rate = 100, timeout = 5, t0;
	struct pending *v;
	struct ipset *is;
	unsigned written = 0, first = 0;
	FILE *out;
	bool dgram = false;
	int c, fd;

	while ((c = getopt(argc, argv, "sn:r:t:")) != -1) {
		switch (c) {
		case 's': dgram = true; break;
		case 'n': n = (unsigned)atoi(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 't': timeout = atof(optarg); break;
		default: lat_usage();
		}
	}
	if (argc - optind != 3 || n == 0 || n > 65000 || rate <= 0)
		lat_usage();
	fd = dgram ? lat_syslog(argv[optind]) :
		     open(argv[optind], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	out = fopen(argv[optind + 2], "w");
	v = calloc(n, sizeof(*v));
	ipset_load_types();
	is = ipset_init();
	if (fd < 0 || !out || !v || !is) {
		fprintf(stderr, "swlatency: cannot start: %s\n", strerror(errno));
		return 1;
	}
	ipset_custom_printf(is, lat_quiet_error, lat_quiet_standard, NULL, NULL);
	for (unsigned i = 0; i < n; i++)
		snprintf(v[i].addr, sizeof(v[i].addr), "10.201.%u.%u", (i + 1) / 250, (i + 1) % 250 + 1);
	t0 = lat_now();
	while (first < n) {
		double now = lat_now();
		int busy = 0;

		if (written < n && now >= t0 + written / rate) {
			v[written].written = lat_now();
			if (lat_write(fd, dgram, v[written].addr) < 0) {
				fprintf(stderr, "swlatency: %s: %s\n", argv[optind], strerror(errno));
				return 1;
			}
			written++;
			busy = 1;
		}
		for (unsigned i = first; i < written; i++) {
			if (v[i].done)
				continue;
			if (lat_test(is, argv[optind + 1], v[i].addr) == 0) {
				fprintf(out, "%.3f\n", (lat_now() - v[i].written) * 1000);
				v[i].done = 1;
				banned++;
				busy = 1;
			} else if (lat_now() - v[i].written > timeout) {
				fprintf(out, "timeout\n");
				v[i].done = 1;
			}
		}
		while (first < written && v[first].done)
			first++;
		/* leave the CPU to the daemon between polls: 2 cores */
		if (!busy)
			usleep(first < written ? 20 : 50);
	}
	printf("written=%u banned=%u\n", written, banned);
	ipset_fini(is);
	close(fd);
	return fclose(out) == 0 ? 0 : 1;
}
