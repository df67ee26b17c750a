#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The manual pages render without a single groff warning, and document
# what the code accepts: every configuration key of src/config/config.c in
# spamwrath.conf(5), every pattern key and class in spamwrath-patterns(5),
# every long option of the programs in their pages.
. "$(dirname "$0")/../lib.sh"

man="$top_builddir/man"
pages="spamwrathd.8 spamwrathctl.8 spamwrath-firewall.8 spamwrath.conf.5 spamwrath-patterns.5"
command -v groff >/dev/null || fail "groff is missing (Debian package groff-base)"

# A long configured prefix (distcheck's, say) is printed with a break point
# after each slash (Makefile.am, sw_man_path): groff may then break a path
# across lines and cannot adjust the short line left before it. Only that
# warning, and only on such pages, is expected.
warnings() {	# page file: the warnings that count
	if grep -q '/\\:' "$1"; then
		grep -v 'cannot adjust line' "$2" || :
	else
		cat "$2"
	fi
}

for p in $pages; do
	[ -f "$man/$p" ] || fail "$man/$p was not generated"
	if grep -n '@[A-Za-z_]*@' "$man/$p"; then
		fail "$p: placeholders left unsubstituted"
	fi
	groff -ww -man -Tutf8 -z "$man/$p" 2>"$TMP/groff.raw" || fail "$p: groff failed"
	warnings "$man/$p" "$TMP/groff.raw" >"$TMP/groff.err"
	if [ -s "$TMP/groff.err" ]; then
		cat "$TMP/groff.err"
		fail "$p: groff -ww warns"
	fi
	if command -v man >/dev/null; then
		MANWIDTH=80 man --warnings -l "$man/$p" >"$TMP/man.out" 2>"$TMP/man.raw" ||
			{ cat "$TMP/man.raw"; fail "$p: man -l failed"; }
		warnings "$man/$p" "$TMP/man.raw" >"$TMP/man.err"
		if [ -s "$TMP/man.err" ]; then
			cat "$TMP/man.err"
			fail "$p: man -l warns"
		fi
		[ "$(wc -l <"$TMP/man.out")" -gt 20 ] || fail "$p: renders to almost nothing"
	fi
done
echo "$pages render without warnings"
missing=0

# A key is documented where a .TP item or a section heading names it:
# ".BI \"findtime = \" duration", ".SS \"ipset { ... }\"".
documented() {	# page key
	grep -Eq "^\.(B|BI|BR|SS) \"?$2( |\"|$)" "$man/$1"
}

# The names in one cfg_opt_t table of a source file.
cfg_names() {	# file table
	sed -n "/^static cfg_opt_t $2\[\]/,/CFG_END/p" "$1" |
		sed -n 's/.*CFG_[A-Z_]*("\([^"]*\)".*/\1/p'
}

# spamwrath.conf(5) documents exactly the keys of the configuration table
# (src/config/config.c, printed by spamwrathd --list-keys): each key is an
# item ".TP" / ".BI \"key = \"" under GLOBAL KEYS or under its section's
# heading (.SS "ipset { ... }", .SS "source \fIname\fP { ... }"), written
# here as the table writes it (findtime, ipset.set4, source.file).
"$top_builddir/spamwrathd" --list-keys >"$TMP/keys.out" || fail "spamwrathd --list-keys failed"
cut -d' ' -f1 "$TMP/keys.out" | sort >"$TMP/keys.table"
awk '
	/^\.SH GLOBAL KEYS/ { prefix = ""; inkeys = 1; next }
	/^\.SH / { inkeys = 0; next }
	/^\.SS "/ { split(substr($0, 6), w, /[ "]/); prefix = w[1] "."; inkeys = 1; next }
	/^\.SS / { inkeys = 0; next }
	/^\.TP/ { item = 1; next }
	item && inkeys && /^\.BI "[a-z_0-9]+ = / { split(substr($0, 6), w, " "); print prefix w[1] }
	{ item = 0 }
' "$man/spamwrath.conf.5" | sort >"$TMP/keys.man"
keys=$(wc -l <"$TMP/keys.table")
[ "$keys" -gt 20 ] || fail "only $keys keys in spamwrathd --list-keys"
for k in $(comm -23 "$TMP/keys.table" "$TMP/keys.man"); do
	echo "spamwrath.conf(5) does not document $k (src/config/config.c, config_rows)" >&2
	missing=$((missing + 1))
done
for k in $(comm -13 "$TMP/keys.table" "$TMP/keys.man"); do
	echo "spamwrath.conf(5) documents $k, which the configuration table lacks" >&2
	missing=$((missing + 1))
done
echo "$keys configuration keys in the table, checked against spamwrath.conf(5)"

pkeys=$(cfg_names "$top_srcdir/src/match/pattern.c" pattern_opts)
[ -n "$pkeys" ] || fail "no pattern keys found in src/match/pattern.c"
for k in $pkeys; do
	documented spamwrath-patterns.5 "$k" && continue
	echo "spamwrath-patterns(5) does not document pattern key $k" >&2
	missing=$((missing + 1))
done

# Classes and named groups, from their tables in the code; "manual" is the
# class of bans made with spamwrathctl ban, not a pattern class.
classes=$(sed -n 's/^.*\[CLASS_[A-Z_]*\] = { "\([a-z-]*\)".*/\1/p' "$top_srcdir/src/core/class.c" | grep -vx manual)
groups=$(sed -n 's/^.*\[CAP_[A-Z_]*\] = "\([a-z]*\)".*/\1/p' "$top_srcdir/src/match/pattern.c")
[ -n "$classes" ] && [ -n "$groups" ] || fail "no classes or groups found in the code"
for k in $classes $groups; do
	pat=$(printf '%s' "$k" | sed 's/-/\\\\-/g')
	documented spamwrath-patterns.5 "$pat" && continue
	echo "spamwrath-patterns(5) does not document $k" >&2
	missing=$((missing + 1))
done

# Long options, from each program's struct option tables.
long_opts() {	# source file
	sed -n 's/^[[:space:]]*{ "\([a-z-]*\)", [a-z_]*_argument,.*/\1/p' "$1" | sort -u
}
for prog in daemon/spamwrathd ctl/spamwrathctl; do
	opts=$(long_opts "$top_srcdir/src/$prog.c")
	[ -n "$opts" ] || fail "no options found in src/$prog.c"
	prog=${prog#*/}
	for o in $opts; do
		pat=$(printf '%s' "$o" | sed 's/-/\\\\-/g')
		grep -q -- "\\\\-\\\\-$pat" "$man/$prog.8" && continue
		echo "$prog(8) does not document --$o" >&2
		missing=$((missing + 1))
	done
done
[ "$missing" = 0 ] || fail "$missing undocumented names"
echo "every key, class, group and option is documented"
