/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "bytes.h"

void bytes_key_init(struct bytes_key *k, const char *p, size_t len)
{
	char pad[8] = { 0 };

	k->p = p;
	k->len = len;
	if (len >= 8) {
		k->first = bytes_word(p);
		k->last = bytes_word(p + len - 8);
		k->mask = UINT64_MAX;
		return;
	}
	memcpy(pad, p, len);
	k->first = bytes_word(pad);
	k->last = 0;
	k->mask = bytes_mask(len);
}
