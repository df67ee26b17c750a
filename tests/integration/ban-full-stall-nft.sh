#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# ban-full-stall.sh with the nftables backend.
BACKEND=nftables exec sh "$(dirname "$0")/ban-full-stall.sh"
