/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A tiny open-addressing set of strings. Lookups happen when patterns load
 * and when a source opens, never per line, so simplicity beats speed here.
 */
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "names.h"

static char **pool;		/* id -> string; pool[0] = "" */
static size_t npool, cappool;
static uint32_t *slots;		/* hash -> id, 0 = empty */
static size_t nslots;

static uint32_t names_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static int names_grow(void)
{
	size_t n = nslots ? 2 * nslots : 256;
	uint32_t *v = calloc(n, sizeof(*v));

	if (!v)
		return -1;
	for (size_t id = 1; id < npool; id++) {
		size_t i = names_hash(pool[id], strlen(pool[id])) & (n - 1);

		while (v[i])
			i = (i + 1) & (n - 1);
		v[i] = (uint32_t)id;
	}
	free(slots);
	slots = v;
	nslots = n;
	return 0;
}

uint32_t names_intern(const char *s, size_t len)
{
	size_t i;
	char *copy;

	if (len == 0)
		return NAMES_NONE;
	if (!pool) {
		pool = calloc(16, sizeof(*pool));
		if (!pool)
			return UINT32_MAX;
		pool[0] = "";
		npool = 1;
		cappool = 16;
	}
	if ((npool + 1) * 2 > nslots && names_grow() < 0)
		return UINT32_MAX;
	i = names_hash(s, len) & (nslots - 1);
	while (slots[i]) {
		const char *p = pool[slots[i]];

		if (strncmp(p, s, len) == 0 && p[len] == '\0')
			return slots[i];
		i = (i + 1) & (nslots - 1);
	}
	if (npool > NAMES_MAX)
		return UINT32_MAX;
	if (grow(&pool, &cappool, npool + 1, sizeof(*pool), 256) < 0)
		return UINT32_MAX;
	copy = strndup(s, len);
	if (!copy)
		return UINT32_MAX;
	pool[npool] = copy;
	slots[i] = (uint32_t)npool;
	return (uint32_t)npool++;
}

const char *names_get(uint32_t id)
{
	return id < npool ? pool[id] : "";
}
