/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "readfile.h"

/* Room for each fread(), at least. */
#define READFILE_CHUNK 4096

char *readfile(const char *path, size_t *len, struct diag *d)
{
	FILE *fp = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!fp) {
		diag_error(d, path, 0, "%s", strerror(errno));
		return NULL;
	}
	do {
		if (grow(&buf, &cap, n + READFILE_CHUNK, 1, 8192) < 0) {
			diag_error(d, path, 0, "out of memory");
			free(buf);
			fclose(fp);
			return NULL;
		}
		r = fread(buf + n, 1, cap - n - 1, fp);
		n += r;
	} while (r > 0);
	if (ferror(fp)) {
		diag_error(d, path, 0, "%s", strerror(errno));
		free(buf);
		fclose(fp);
		return NULL;
	}
	fclose(fp);
	buf[n] = '\0';
	*len = n;
	return buf;
}
