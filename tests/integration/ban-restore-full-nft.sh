#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# ban-restore-full.sh with the nftables backend.
BACKEND=nftables exec sh "$(dirname "$0")/ban-restore-full.sh"
