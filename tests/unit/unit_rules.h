/* SPDX-License-Identifier: GPL-2.0-or-later */
/* unit_rules: the judge's rules that the state and control tests and fuzz targets start from:
 * weight 1 within an hour bans for 600 s, doubled per repeat up to a day, every class on at its
 * shipped weight, 1000 addresses tracked. A test that needs other rules changes its copy after. */
#ifndef SPAMWRATH_UNIT_RULES_H
#define SPAMWRATH_UNIT_RULES_H

#include <string.h>

#include "class.h"
#include "judge.h"

static inline void unit_rules(struct judge_rules *r)
{
	memset(r, 0, sizeof(*r));
	r->threshold = WEIGHT_ONE;
	r->findtime = 3600;
	r->bantime = 600;
	r->bantime_max = 86400;
	r->bantime_factor = 2;
	r->repeat_window = 86400;
	r->ipv4_prefix = 32;
	r->ipv6_prefix = 64;
	r->max_tracked = 1000;
	for (int c = 0; c < CLASS_COUNT; c++) {
		r->classes[c].enabled = true;
		r->classes[c].weight = class_default_weight((enum class_id)c);
	}
}

#endif
