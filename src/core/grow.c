/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "grow.h"

/* The capacity to grow cap to so that it holds need, at most max; 0 when
 * need is past max. */
static size_t grow_cap(size_t cap, size_t need, size_t first, size_t max)
{
	size_t n = cap ? cap : first;

	if (need > max)
		return 0;
	while (n < need)
		n = n > max / 2 ? max : 2 * n;
	return n > max ? max : n;
}

/* Reallocates the array at *pv to n elements; 0 or -1. */
static int grow_to(void *pv, size_t n, size_t elem)
{
	void *v;

	/* no object may be larger than PTRDIFF_MAX bytes */
	if (elem && n > (size_t)PTRDIFF_MAX / elem)
		return -1;
	memcpy(&v, pv, sizeof(v));
	v = realloc(v, n * elem);
	if (!v)
		return -1;
	memcpy(pv, &v, sizeof(v));
	return 0;
}

int grow(void *pv, size_t *cap, size_t need, size_t elem, size_t first)
{
	size_t n;

	if (need <= *cap)
		return 0;
	n = grow_cap(*cap, need, first ? first : 1, SIZE_MAX);
	if (n == 0 || grow_to(pv, n, elem) < 0)
		return -1;
	*cap = n;
	return 0;
}

int grow32(void *pv, uint32_t *cap, size_t need, size_t elem, uint32_t first, uint32_t max)
{
	size_t n;

	if (need <= *cap)
		return 0;
	n = grow_cap(*cap, need, first ? first : 1, max);
	if (n == 0 || grow_to(pv, n, elem) < 0)
		return -1;
	*cap = (uint32_t)n;
	return 0;
}
