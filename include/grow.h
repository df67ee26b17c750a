/* SPDX-License-Identifier: GPL-2.0-or-later */
/* grow: owns the one way an array grows: its capacity doubles, from a first size, until it holds enough.
 * Amortised constant time per element, and a size computed without overflow.
 * It must never shrink an array nor change it when it fails: the caller's array stays as it was. */
#ifndef SPAMWRATH_GROW_H
#define SPAMWRATH_GROW_H

#include <stddef.h>
#include <stdint.h>

/*
 * Makes the array *pv (a pointer to a T *) of *cap elements of elem bytes
 * hold at least need: doubles *cap (first when 0) until it does, then
 * reallocates. 0, or -1 (no memory, or a size past PTRDIFF_MAX bytes) with
 * *pv and *cap untouched.
 */
int grow(void *pv, size_t *cap, size_t need, size_t elem, size_t first);

/* The same for a uint32_t capacity, never past max elements (-1 when need is). */
int grow32(void *pv, uint32_t *cap, size_t need, size_t elem, uint32_t first, uint32_t max);

#endif
