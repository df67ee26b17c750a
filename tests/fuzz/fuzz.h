/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz: what every fuzz target shares: libFuzzer's entry points and the scratch directory.
 * Each tests/fuzz/fuzz_<target>.c is built twice: with clang and libFuzzer by `make fuzz`,
 * and with run.c as a plain program that `make check` runs over the seeds and regressions.
 * A target must never keep state from one input to the next: a crash replays from its file. */
#ifndef SPAMWRATH_FUZZ_H
#define SPAMWRATH_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A directory of this process's own under /tmp, made on first use and
 * removed at exit. */
const char *fuzz_dir(void);

/* Writes data to path (replacing it). Aborts when it cannot: the target
 * would test nothing. */
void fuzz_write(const char *path, const uint8_t *data, size_t size);

/* A broken invariant: says which and aborts, so that libFuzzer keeps the
 * input and `make check` fails. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
