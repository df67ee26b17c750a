#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The Debian package that `make deb` built (run by `make deb-check`, as
# root, after it): lintian finds no error and no warning; the package holds
# the binaries, units, configuration (conffiles), man pages and completion
# where the README says, naming no /usr/local; on this machine (where
# systemd is not PID 1 in CI) it installs, upgrades over itself, upgrades
# to a version whose defaults changed while keeping a local edit, removes
# without touching the kernel's sets, and purges the configuration, state
# and user. It changes the machine: it installs the package and leaves it
# purged, as it found it.
. "$(dirname "$0")/../lib.sh"

need_root
for t in dpkg-deb dpkg-parsechangelog lintian apt-get ip ipset; do
	command -v "$t" >/dev/null || fail "$t is missing (see the README's first apt-get line)"
done
: "${DEB_VERSION:?}" "${DEB_ARCH:?}"
deb="$top_builddir/spamwrath_${DEB_VERSION}_$DEB_ARCH.deb"
changes="$top_builddir/spamwrath_${DEB_VERSION}_$DEB_ARCH.changes"
[ -f "$deb" ] && [ -f "$changes" ] || fail "$deb or $changes is missing: run make deb"

v=$(dpkg-parsechangelog -l "$top_srcdir/debian/changelog" -S Version)
[ "$v" = "$DEB_VERSION" ] ||
	fail "debian/changelog is at $v, configure.ac at $DEB_VERSION: add a changelog entry"
grep -q "apt-get install ./spamwrath_${DEB_VERSION}_amd64.deb" "$top_srcdir/README" ||
	fail "the README does not name spamwrath_${DEB_VERSION}_amd64.deb"

# --- lintian: no error, no warning (info tags are printed, not fatal) ---
lintian -I --fail-on error,warning "$changes" >"$TMP/lintian.out" 2>&1 ||
	{ cat "$TMP/lintian.out"; fail "lintian reports errors or warnings"; }
grep -v '^running with root' "$TMP/lintian.out" || :
echo "lintian: no errors, no warnings"

# --- contents ---
dpkg-deb -x "$deb" "$TMP/root"
dpkg-deb -e "$deb" "$TMP/ctl"
for f in /usr/sbin/spamwrathd /usr/bin/spamwrathctl /usr/sbin/spamwrath-firewall; do
	[ -x "$TMP/root$f" ] || fail "the package has no executable $f"
done
for f in /lib/systemd/system/spamwrath.service /lib/systemd/system/spamwrath-firewall.service \
	/usr/lib/sysusers.d/spamwrath.conf /usr/lib/tmpfiles.d/spamwrath.conf \
	/etc/spamwrath/spamwrath.conf /usr/share/bash-completion/completions/spamwrathctl \
	/usr/share/man/man8/spamwrathd.8.gz /usr/share/man/man8/spamwrathctl.8.gz \
	/usr/share/man/man8/spamwrath-firewall.8.gz /usr/share/man/man5/spamwrath.conf.5.gz \
	/usr/share/man/man5/spamwrath-patterns.5.gz /usr/share/doc/spamwrath/copyright \
	/usr/share/doc/spamwrath/examples/grafana-spamwrath.json \
	/usr/share/doc/spamwrath/examples/prometheus-alerts.yml; do
	[ -f "$TMP/root$f" ] || fail "the package has no $f"
done
[ -d "$TMP/root/etc/spamwrath/conf.d" ] || fail "the package has no /etc/spamwrath/conf.d"
# Every shipped file under /etc is a conffile, the patterns included.
(cd "$TMP/root" && find etc -type f | sed 's|^|/|' | sort) >"$TMP/etcfiles"
sort "$TMP/ctl/conffiles" >"$TMP/conffiles"
cmp "$TMP/etcfiles" "$TMP/conffiles" ||
	{ diff "$TMP/etcfiles" "$TMP/conffiles"; fail "the conffiles are not the files under /etc"; }
np=$(ls "$top_srcdir"/patterns/*.conf | wc -l)
[ "$(grep -c '^/etc/spamwrath/patterns/.*\.conf$' "$TMP/conffiles")" = "$np" ] ||
	fail "not every pattern file is a conffile"
# The units, the firewall script and the pages name the installed paths.
grep -qx 'ExecStart=/usr/sbin/spamwrathd' "$TMP/root/lib/systemd/system/spamwrath.service" ||
	fail "spamwrath.service does not start /usr/sbin/spamwrathd"
grep -qx 'ExecReload=/usr/bin/spamwrathctl reload' "$TMP/root/lib/systemd/system/spamwrath.service" ||
	fail "spamwrath.service does not reload through /usr/bin/spamwrathctl"
grep -qx 'ExecStart=/usr/sbin/spamwrath-firewall start' \
	"$TMP/root/lib/systemd/system/spamwrath-firewall.service" ||
	fail "spamwrath-firewall.service does not run /usr/sbin/spamwrath-firewall"
mkdir "$TMP/pages"
for p in "$TMP"/root/usr/share/man/man?/*.gz; do
	gzip -dc "$p" >"$TMP/pages/${p##*/}"
done
if grep -rn '/usr/local\|@[a-z_]*@' "$TMP/root/lib" "$TMP/root/usr/lib" "$TMP/root/usr/sbin/spamwrath-firewall" \
	"$TMP/root/etc" "$TMP/pages"; then
	fail "/usr/local or a placeholder is left in an installed file"
fi
echo "contents: binaries, units, conffiles, pages and completion in place"

# --- install, upgrade over itself, upgrade, remove, purge ---
apt_get() {
	DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300 \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}
status() {
	dpkg-query -W -f '${db:Status-Status}' spamwrath 2>/dev/null || :
}
installed() {
	[ "$(status)" = installed ]
}
known() {
	[ -n "$(status)" ] && [ "$(status)" != not-installed ]
}
if known; then
	echo "spamwrath was installed before this test: purging it first"
	apt_get purge spamwrath >"$TMP/prepurge.log" 2>&1 || { cat "$TMP/prepurge.log"; fail "cannot purge it"; }
fi
at_exit "! known || apt_get purge spamwrath >/dev/null 2>&1 || :"
# The package's unit files name the machine's systemd; this test needs
# none running, and must not leave a unit enabled.
wants=/etc/systemd/system/multi-user.target.wants

cp "$deb" "$TMP/spamwrath.deb"
apt_get install "$TMP/spamwrath.deb" >"$TMP/install.log" 2>&1 ||
	{ cat "$TMP/install.log"; fail "apt-get install of the package failed"; }
installed || fail "the package is not installed after apt-get install"
grep -q "spamwrath: not started" "$TMP/install.log" ||
	{ cat "$TMP/install.log"; fail "the first install does not say that it started nothing"; }
getent passwd spamwrath >/dev/null || fail "no user spamwrath after install"
getent group spamwrath >/dev/null || fail "no group spamwrath after install"
uid=$(id -u spamwrath)
[ "$uid" -lt 1000 ] || fail "spamwrath is not a system user (uid $uid)"
[ "$(stat -c '%U:%G %a' /var/lib/spamwrath)" = "spamwrath:spamwrath 750" ] ||
	fail "/var/lib/spamwrath is $(stat -c '%U:%G %a' /var/lib/spamwrath)"
[ ! -e "$wants/spamwrath.service" ] && [ ! -e "$wants/spamwrath-firewall.service" ] ||
	fail "installing enabled a unit"
/usr/sbin/spamwrathd -t >"$TMP/t.out" 2>&1 ||
	{ cat "$TMP/t.out"; fail "the installed configuration and patterns do not load"; }
[ "$(/usr/sbin/spamwrathd --get patterns_dir)" = /etc/spamwrath/patterns ] ||
	fail "the installed spamwrathd does not read /etc/spamwrath/patterns"
/usr/bin/spamwrathctl --version | grep -qx "spamwrathctl $DEB_VERSION" ||
	fail "spamwrathctl --version is not $DEB_VERSION"
echo "install: binaries work, user, group and state directory exist, nothing enabled"

# A local edit of a pattern file and a drop-in of the administrator's.
echo "# a local edit" >>/etc/spamwrath/patterns/postfix.conf
cp /etc/spamwrath/patterns/postfix.conf "$TMP/edited.conf"
echo "# a local drop-in" >/etc/spamwrath/conf.d/local.conf

# Upgrade over itself: the same version again.
apt_get install --reinstall "$TMP/spamwrath.deb" >"$TMP/reinstall.log" 2>&1 ||
	{ cat "$TMP/reinstall.log"; fail "reinstalling the package failed"; }
installed || fail "the package is not installed after the reinstall"
if grep -q "spamwrath: not started" "$TMP/reinstall.log"; then
	fail "an upgrade repeats the first install's message"
fi
cmp -s "$TMP/edited.conf" /etc/spamwrath/patterns/postfix.conf || fail "the reinstall lost a local edit"
[ -f /etc/spamwrath/conf.d/local.conf ] || fail "the reinstall removed a drop-in"

# Upgrade to a later version whose defaults changed: the locally edited
# conffile stays (dpkg's question, answered "keep" here), the new default
# lands beside it as .dpkg-dist, which the daemon does not read; an
# unchanged conffile takes the new default.
dpkg-deb -R "$deb" "$TMP/next"
sed -i "s/^Version: .*/Version: $DEB_VERSION+debcheck1/" "$TMP/next/DEBIAN/control"
for f in postfix.conf exim.conf; do
	echo "# a new default" >>"$TMP/next/etc/spamwrath/patterns/$f"
	sum=$(md5sum "$TMP/next/etc/spamwrath/patterns/$f" | cut -d' ' -f1)
	sed -i "s|^[0-9a-f]*  etc/spamwrath/patterns/$f\$|$sum  etc/spamwrath/patterns/$f|" \
		"$TMP/next/DEBIAN/md5sums"
done
dpkg-deb -b "$TMP/next" "$TMP/spamwrath-next.deb" >/dev/null
apt_get install "$TMP/spamwrath-next.deb" >"$TMP/upgrade.log" 2>&1 ||
	{ cat "$TMP/upgrade.log"; fail "the upgrade failed"; }
[ "$(dpkg-query -W -f '${Version}' spamwrath)" = "$DEB_VERSION+debcheck1" ] ||
	fail "the upgrade did not install the new version"
cmp -s "$TMP/edited.conf" /etc/spamwrath/patterns/postfix.conf || fail "the upgrade lost a local edit"
tail -n 1 /etc/spamwrath/patterns/postfix.conf.dpkg-dist | grep -qx '# a new default' ||
	fail "the new default of an edited conffile is not beside it as .dpkg-dist"
tail -n 1 /etc/spamwrath/patterns/exim.conf | grep -qx '# a new default' ||
	fail "an unchanged conffile did not take the new default"
/usr/sbin/spamwrathd -t >"$TMP/t2.out" 2>&1 ||
	{ cat "$TMP/t2.out"; fail "the configuration does not load after the upgrade"; }
echo "upgrade: over itself and to a new version, local edits kept"

# Remove, with the installed daemon running and a ban in its set, in a
# network namespace of this test where dpkg runs too: the maintainer
# scripts leave the set and the ban alone.
NS="sw-$$-deb"
ip netns add "$NS" || fail "cannot create network namespace $NS"
at_exit "ip netns del $NS 2>/dev/null || true"
cat >"$TMP/sw.conf" <<CONF
state_dir = "$TMP/state"
control_socket = "$TMP/control.sock"
source maillog { file = "$TMP/mail.log" }
CONF
: >"$TMP/mail.log"
ip netns exec "$NS" env SPAMWRATH_LOG=stderr /usr/sbin/spamwrathd -c "$TMP/sw.conf" 2>"$TMP/daemon.err" &
dpid=$!
at_exit "kill $dpid 2>/dev/null || true"
i=0
until /usr/bin/spamwrathctl -s "$TMP/control.sock" status >/dev/null 2>&1; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || { cat "$TMP/daemon.err"; fail "the installed spamwrathd did not start"; }
	sleep 0.1
done
/usr/bin/spamwrathctl -s "$TMP/control.sock" ban 203.0.113.7 --reason "deb test" >/dev/null ||
	fail "the installed spamwrathctl cannot ban"
ip netns exec "$NS" ipset test spamwrath4 203.0.113.7 2>/dev/null || fail "203.0.113.7 is not in spamwrath4"
ip netns exec "$NS" sh -c 'DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300 remove spamwrath' \
	>"$TMP/remove.log" 2>&1 || { cat "$TMP/remove.log"; fail "apt-get remove failed"; }
kill "$dpid" 2>/dev/null || :
wait "$dpid" 2>/dev/null || :
[ "$(status)" = config-files ] ||
	fail "after remove the package is not in the config-files state"
for f in /usr/sbin/spamwrathd /usr/bin/spamwrathctl /usr/sbin/spamwrath-firewall \
	/lib/systemd/system/spamwrath.service; do
	[ ! -e "$f" ] || fail "remove left $f"
done
ip netns exec "$NS" ipset test spamwrath4 203.0.113.7 2>/dev/null || fail "remove took the ban out of the set"
cmp -s "$TMP/edited.conf" /etc/spamwrath/patterns/postfix.conf || fail "remove changed the configuration"
getent passwd spamwrath >/dev/null || fail "remove deleted the user"
[ -d /var/lib/spamwrath ] || fail "remove deleted /var/lib/spamwrath"
echo "remove: programs gone, configuration, state, user and the set's bans kept"

apt_get purge spamwrath >"$TMP/purge.log" 2>&1 || { cat "$TMP/purge.log"; fail "apt-get purge failed"; }
! known || fail "the package is still known to dpkg after purge"
[ ! -e /etc/spamwrath ] || fail "purge left /etc/spamwrath"
[ ! -e /var/lib/spamwrath ] || fail "purge left /var/lib/spamwrath"
! getent passwd spamwrath >/dev/null || fail "purge left the user spamwrath"
! getent group spamwrath >/dev/null || fail "purge left the group spamwrath"
echo "purge: configuration, state, user and group gone"
