# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the integration tests (sourced). Each test is a plain sh script
# run by automake's harness: exit 0 pass, 1 fail, 77 skip.
set -eu

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
SPAMWRATHCTL="$top_builddir/spamwrathctl"
SPAMWRATHD="$top_builddir/spamwrathd"
export TZ=UTC LC_ALL=C

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

# Tests that touch the kernel (namespaces, ipsets, iptables) need root;
# without it they skip, in CI (root) they always run.
need_root() {
	[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, ipset)"
}

# A private temporary directory, removed on exit.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/spamwrath-test.XXXXXX")
cleanup_hooks=""
at_exit() { cleanup_hooks="$*; $cleanup_hooks"; }
trap 'eval "$cleanup_hooks"; rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM
