#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The systemd units generated for this build: `systemd-analyze verify`
# accepts them without a single warning (unknown keys, bad values, missing
# binaries, missing man pages), and spamwrath.service's sandbox rates an
# exposure of 2.5 or lower in `systemd-analyze security`.
. "$(dirname "$0")/../lib.sh"

command -v systemd-analyze >/dev/null || fail "systemd-analyze is missing (Debian package systemd)"
units="spamwrath.service spamwrath-firewall.service"

# verify checks that every Exec*= binary exists and that every
# Documentation=man: page is found by man(1). The units name the install
# paths; point them at this build's binaries and pages instead, changing
# nothing else.
mkdir -p "$TMP/units" "$TMP/man/man5" "$TMP/man/man8"
for p in "$top_builddir"/man/*.[58]; do
	sec=${p##*.}
	ln -s "$p" "$TMP/man/man$sec/"
done
for u in $units; do
	src="$top_builddir/systemd/$u"
	[ -f "$src" ] || fail "$src was not generated"
	if grep -n '@[a-z_]*@' "$src"; then
		fail "$u: placeholders left unsubstituted"
	fi
	cp "$src" "$TMP/units/$u"
	grep '^Exec[A-Za-z]*=' "$src" | sed 's/^[^=]*=[-@:+!]*//; s/ .*//' | sort -u >"$TMP/paths"
	[ -s "$TMP/paths" ] || fail "$u: no Exec lines"
	while read -r path; do
		base=${path##*/}
		if [ -x "$top_builddir/$base" ]; then
			built="$top_builddir/$base"
		elif [ -x "$top_builddir/systemd/$base" ]; then
			built="$top_builddir/systemd/$base"
		else
			fail "$u names $path, which this build does not make"
		fi
		sed "s|=\([-@:+!]*\)$path\\b|=\\1$built|" "$TMP/units/$u" >"$TMP/units/$u.new"
		mv "$TMP/units/$u.new" "$TMP/units/$u"
	done <"$TMP/paths"
done
grep -h '^Exec' "$TMP"/units/*.service
(cd "$TMP/units" && MANPATH="$TMP/man" systemd-analyze verify $units) >"$TMP/verify.out" 2>&1 ||
	{ cat "$TMP/verify.out"; fail "systemd-analyze verify failed"; }
if [ -s "$TMP/verify.out" ]; then
	cat "$TMP/verify.out"
	fail "systemd-analyze verify warned"
fi
echo "systemd-analyze verify: $units clean"

# The exposure of the unit as generated, as the issue states it.
systemd-analyze security --offline=true --no-pager "$top_builddir/systemd/spamwrath.service" \
	>"$TMP/security.out" 2>&1 || { cat "$TMP/security.out"; fail "systemd-analyze security failed"; }
line=$(grep 'Overall exposure level' "$TMP/security.out") ||
	{ cat "$TMP/security.out"; fail "no overall exposure level"; }
echo "$line"
level=$(printf '%s\n' "$line" | sed -n 's/.*: \([0-9][0-9]*\.[0-9]\) .*/\1/p')
[ -n "$level" ] || fail "cannot read the level from: $line"
awk -v l="$level" 'BEGIN { exit !(l <= 2.5) }' ||
	{ cat "$TMP/security.out"; fail "exposure $level is above 2.5"; }
