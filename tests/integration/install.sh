#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `make install DESTDIR=...` lays out the tree the units and pages name,
# keeps a configuration the administrator changed on reinstall, and
# `make uninstall` takes back only what it installed unchanged.
. "$(dirname "$0")/../lib.sh"

dest="$TMP/dest"
# A make of our own, not a part of the harness's jobserver.
unset MAKEFLAGS MFLAGS MAKELEVEL
MAKE=${MAKE:-make}
sw_make() {
	$MAKE -C "$top_builddir" "$@"
}

# The configured directories, as make expands them.
printf 'sw-print-dirs:\n\t@echo "sbindir=$(sbindir) bindir=$(bindir) sysconfdir=$(sysconfdir) mandir=$(mandir) unitdir=$(systemdsystemunitdir) sysusersdir=$(sysusersdir) tmpfilesdir=$(tmpfilesdir) compdir=$(bashcompletiondir)"\n' >"$TMP/print.mk"
dirs=$(sw_make -s -f Makefile -f "$TMP/print.mk" sw-print-dirs) || fail "cannot read the directories"
echo "$dirs"
eval "$dirs"
for v in "$sbindir" "$bindir" "$sysconfdir" "$mandir" "$unitdir" "$sysusersdir" "$tmpfilesdir" "$compdir"; do
	case $v in /*) ;; *) fail "a directory is not absolute: $dirs" ;; esac
done

sw_make install DESTDIR="$dest" >"$TMP/install1.log" 2>&1 ||
	{ cat "$TMP/install1.log"; fail "make install failed"; }

exe() { [ -f "$dest$1" ] && [ -x "$dest$1" ] || fail "$1 is not installed as an executable"; }
file() { [ -f "$dest$1" ] || fail "$1 is not installed"; }
exe "$sbindir/spamwrathd"
exe "$bindir/spamwrathctl"
exe "$sbindir/spamwrath-firewall"
conf="$sysconfdir/spamwrath"
file "$conf/spamwrath.conf"
cmp "$top_srcdir/conf.d/spamwrath.conf" "$dest$conf/spamwrath.conf" ||
	fail "spamwrath.conf is not conf.d/spamwrath.conf"
[ -d "$dest$conf/conf.d" ] || fail "$conf/conf.d is missing"
[ -z "$(ls -A "$dest$conf/conf.d")" ] || fail "$conf/conf.d is not empty"
np=0
for p in "$top_srcdir"/patterns/*.conf; do
	cmp "$p" "$dest$conf/patterns/${p##*/}" || fail "patterns/${p##*/} is not installed as shipped"
	np=$((np + 1))
done
[ "$np" -gt 0 ] || fail "no pattern files in the source tree"
[ "$(ls "$dest$conf/patterns" | wc -l)" = "$np" ] || fail "extra files in $conf/patterns"
file "$unitdir/spamwrath.service"
file "$unitdir/spamwrath-firewall.service"
file "$sysusersdir/spamwrath.conf"
file "$tmpfilesdir/spamwrath.conf"
cmp "$top_srcdir/completion/spamwrathctl" "$dest$compdir/spamwrathctl" ||
	fail "the bash completion is not installed as $compdir/spamwrathctl"
for p in man8/spamwrathd.8 man8/spamwrathctl.8 man8/spamwrath-firewall.8 \
	man5/spamwrath.conf.5 man5/spamwrath-patterns.5; do
	file "$mandir/$p"
done

# The installed files name the installed paths, and nothing is left as a
# template placeholder.
grep -qx "ExecStart=$sbindir/spamwrathd" "$dest$unitdir/spamwrath.service" ||
	fail "spamwrath.service does not start $sbindir/spamwrathd"
grep -qx "ExecReload=$bindir/spamwrathctl reload" "$dest$unitdir/spamwrath.service" ||
	fail "spamwrath.service does not reload through $bindir/spamwrathctl"
grep -qx "ExecStart=$sbindir/spamwrath-firewall start" "$dest$unitdir/spamwrath-firewall.service" ||
	fail "spamwrath-firewall.service does not run $sbindir/spamwrath-firewall"
grep -q "SPAMWRATHD:-$sbindir/spamwrathd}" "$dest$sbindir/spamwrath-firewall" ||
	fail "spamwrath-firewall does not ask $sbindir/spamwrathd"
if grep -rn '@[a-z_]*@' "$dest$unitdir" "$dest$sbindir/spamwrath-firewall" "$dest$mandir"; then
	fail "placeholders left in installed files"
fi
grep -q "^u spamwrath " "$dest$sysusersdir/spamwrath.conf" || fail "sysusers.d does not create spamwrath"
grep -q "^d /var/lib/spamwrath 0750 spamwrath spamwrath" "$dest$tmpfilesdir/spamwrath.conf" ||
	fail "tmpfiles.d does not create /var/lib/spamwrath"
# A DESTDIR install only says what to run on the target system.
if grep -q '^ systemd-sysusers' "$TMP/install1.log"; then
	fail "a DESTDIR install ran systemd-sysusers"
fi
grep -q 'before starting spamwrath.service' "$TMP/install1.log" ||
	fail "a DESTDIR install did not say how to create the user"

# The installed daemon reads the installed configuration and patterns (the
# patterns directory moved under DESTDIR).
"$dest$sbindir/spamwrathd" --get patterns_dir -c "$dest$conf/spamwrath.conf" >"$TMP/pd" ||
	fail "the installed spamwrathd cannot read the installed configuration"
[ "$(cat "$TMP/pd")" = "$conf/patterns" ] || fail "patterns_dir is $(cat "$TMP/pd"), not $conf/patterns"
printf 'patterns_dir = "%s"\n' "$dest$conf/patterns" >"$TMP/check.conf"
"$dest$sbindir/spamwrathd" -t -c "$TMP/check.conf" >"$TMP/t1" || fail "the installed patterns do not load"

# Reinstall over a changed configuration: the changes stay, the shipped
# version goes beside them as .new, unchanged files stay as they are.
first=$(ls "$dest$conf/patterns" | head -n 1)
echo "# changed by the administrator" >>"$dest$conf/spamwrath.conf"
echo "# a local pattern file" >"$dest$conf/patterns/zz-local.conf"
echo "# a local drop-in" >"$dest$conf/conf.d/local.conf"
echo "# changed too" >>"$dest$conf/patterns/$first"
cp "$dest$conf/spamwrath.conf" "$TMP/changed.conf"
cp "$dest$conf/patterns/$first" "$TMP/changed-pattern.conf"
sw_make install DESTDIR="$dest" >"$TMP/install2.log" 2>&1 ||
	{ cat "$TMP/install2.log"; fail "second make install failed"; }
cmp "$TMP/changed.conf" "$dest$conf/spamwrath.conf" || fail "reinstall overwrote spamwrath.conf"
cmp "$TMP/changed-pattern.conf" "$dest$conf/patterns/$first" || fail "reinstall overwrote patterns/$first"
cmp "$top_srcdir/conf.d/spamwrath.conf" "$dest$conf/spamwrath.conf.new" ||
	fail "the new default spamwrath.conf is not beside the changed one"
cmp "$top_srcdir/patterns/$first" "$dest$conf/patterns/$first.new" ||
	fail "the new default patterns/$first is not beside the changed one"
grep -q "kept your $dest$conf/spamwrath.conf" "$TMP/install2.log" || fail "reinstall did not say what it kept"
[ -f "$dest$conf/patterns/zz-local.conf" ] && [ -f "$dest$conf/conf.d/local.conf" ] ||
	fail "reinstall removed local files"
# .new files are not read: the daemon still loads the same patterns.
"$dest$sbindir/spamwrathd" -t -c "$TMP/check.conf" >"$TMP/t2" || fail "patterns do not load after reinstall"
cmp "$TMP/t1" "$TMP/t2" || fail "reinstall changed the patterns the daemon loads"

# Uninstall removes the programs, units and unchanged files, keeps the
# administrator's.
sw_make uninstall DESTDIR="$dest" >"$TMP/uninstall.log" 2>&1 ||
	{ cat "$TMP/uninstall.log"; fail "make uninstall failed"; }
for f in "$sbindir/spamwrathd" "$bindir/spamwrathctl" "$sbindir/spamwrath-firewall" \
	"$unitdir/spamwrath.service" "$sysusersdir/spamwrath.conf" "$mandir/man5/spamwrath.conf.5" \
	"$compdir/spamwrathctl" \
	"$conf/spamwrath.conf.new"; do
	[ ! -e "$dest$f" ] || fail "uninstall left $f"
done
cmp "$TMP/changed.conf" "$dest$conf/spamwrath.conf" || fail "uninstall removed the changed spamwrath.conf"
[ -f "$dest$conf/patterns/zz-local.conf" ] || fail "uninstall removed a local pattern file"
left=$(cd "$dest" && find . -type f | sort)
expected=$(printf '%s\n' ".$conf/conf.d/local.conf" ".$conf/patterns/$first" \
	".$conf/patterns/zz-local.conf" ".$conf/spamwrath.conf" | sort)
[ "$left" = "$expected" ] || { echo "$left"; fail "uninstall left other files"; }
echo "install, reinstall over changes and uninstall behave"
