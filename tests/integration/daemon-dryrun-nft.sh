#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# daemon-dryrun.sh with the nftables backend.
BACKEND=nftables exec sh "$(dirname "$0")/daemon-dryrun.sh"
