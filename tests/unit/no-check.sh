#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Stands for the unit tests when configure found no Check: the suite must
# not pass without them (exit 99, a hard error, not a skip).
echo "FAIL: the unit tests need Check, which configure did not find:" \
	"apt-get install check, then run configure again" >&2
exit 99
