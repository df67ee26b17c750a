/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"

static char fuzz_tmp[64];

static int fuzz_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void fuzz_cleanup(void)
{
	nftw(fuzz_tmp, fuzz_rm, 8, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_dir(void)
{
	if (!fuzz_tmp[0]) {
		snprintf(fuzz_tmp, sizeof(fuzz_tmp), "/tmp/sw-fuzz-%ld-XXXXXX", (long)getpid());
		if (!mkdtemp(fuzz_tmp))
			fuzz_fail("mkdtemp %s", fuzz_tmp);
		atexit(fuzz_cleanup);
	}
	return fuzz_tmp;
}

void fuzz_write(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		fuzz_fail("cannot write %s", path);
	while (size > 0) {
		ssize_t w = write(fd, data, size);

		if (w <= 0)
			fuzz_fail("cannot write %s", path);
		data += w;
		size -= (size_t)w;
	}
	close(fd);
}

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fuzz: invariant broken: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}
