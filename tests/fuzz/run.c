/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A fuzz target as a plain test program, without libFuzzer: every file
 * under the directories named (default: the target's seed folders,
 * FUZZ_SEEDS, and tests/fuzz/regress/TARGET) goes through LLVMFuzzerTestOneInput
 * once. A crash or a broken invariant aborts, which fails `make check`.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#ifndef FUZZ_TARGET
#error "FUZZ_TARGET names the target (its regress folder)"
#endif
#ifndef FUZZ_SEEDS
#error "FUZZ_SEEDS lists the target's seed folders under the source tree, colon-separated"
#endif
#ifndef UNIT_SRCDIR
#define UNIT_SRCDIR "."
#endif

static unsigned run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f) {
		perror(path);
		exit(1);
	}
	if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
		perror(path);
		exit(1);
	}
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		perror(path);
		exit(1);
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 1;
}

/* Every regular file in dir, in name order; a missing dir counts none. */
static unsigned run_dir(const char *dir)
{
	struct dirent **v = NULL;
	unsigned n = 0;
	int k = scandir(dir, &v, NULL, alphasort);

	if (k < 0)
		return 0;

	for (int i = 0; i < k; i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, v[i]->d_name);
		if (v[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode))
			n += run_file(path);
		free(v[i]);
	}
	free(v);
	return n;
}

int main(int argc, char **argv)
{
	unsigned n = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (int i = 1; i < argc; i++) {
			struct stat st;

			n += stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode) ? run_dir(argv[i]) :
				run_file(argv[i]);
		}
	} else {
		const char *p = FUZZ_SEEDS;

		while (*p) {
			size_t len = strcspn(p, ":");
			char dir[4096];

			snprintf(dir, sizeof(dir), "%s/%.*s", UNIT_SRCDIR, (int)len, p);
			n += run_dir(dir);
			p += len + (p[len] == ':');
		}
		n += run_dir(UNIT_SRCDIR "/tests/fuzz/regress/" FUZZ_TARGET);
	}
	if (n == 0) {
		fprintf(stderr, "fuzz %s: no input found: the test would prove nothing\n", FUZZ_TARGET);
		return 1;
	}
	printf("fuzz %s: %u inputs, no crash, every invariant held\n", FUZZ_TARGET, n);
	return 0;
}
