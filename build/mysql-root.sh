#!/usr/bin/env bash
# Builds and caches a minimal Debian sid root holding MySQL (9.7, the LTS sid carries), so the
# integration tests can run a real MySQL beside MariaDB on a Debian 12 host. Debian 12 has no
# MySQL server and sid packages must never land in the host: they live in their own root,
# reached through a one-line chroot wrapper (see ../shared/docs/mysql-real.md).
#
#   bash build/mysql-root.sh          # as root; a second run is a no-op (the stamp matches)
#
# Writes, under VIGIL_MYSQL_CACHE (default /var/cache/vigil/mysql):
#   root/    the sid root (mysql-server-core, mysql-client-core; no docs, man pages, locales)
#   mysqld   the host-side wrapper: exec chroot root /usr/sbin/mysqld "$@"; pass it as binary=
#   stamp    what was built: the MySQL version and the mysql uid/gid it was built for
# Any failure exits non-zero with a line saying what failed: a missing MySQL is never skipped.
set -euo pipefail

CACHE=${VIGIL_MYSQL_CACHE:-/var/cache/vigil/mysql}
ROOT=$CACHE/root
WRAPPER=$CACHE/mysqld
STAMP=$CACHE/stamp
SUITE=sid
PACKAGES=mysql-server-core,mysql-client-core

fail() { echo "build/mysql-root.sh: $*" >&2; exit 1; }
# mmdebstrap removes the policy-rc.d it keeps during the build: the root keeps its own for good.
policy() { mkdir -p "$1/usr/sbin" && printf '#!/bin/sh\nexit 101\n' > "$1/usr/sbin/policy-rc.d" && chmod 755 "$1/usr/sbin/policy-rc.d"; }

[ "$(id -u)" = 0 ] || fail "must run as root (it builds a root with mmdebstrap and chroot)"
command -v mmdebstrap >/dev/null || fail "mmdebstrap is missing (apt-get install mmdebstrap; build/install-deps.sh installs it)"
# The datadir is written from both sides of the chroot: the root's mysql must be the host's.
host_uid=$(id -u mysql 2>/dev/null) || fail "the host has no mysql user (install mariadb-server first: build/install-deps.sh)"
host_gid=$(id -g mysql)
want="uid=$host_uid gid=$host_gid packages=$PACKAGES"

if [ -f "$STAMP" ] && [ -x "$WRAPPER" ] && grep -qxF "$want" "$STAMP" && "$WRAPPER" --version >/dev/null 2>&1; then
  [ -x "$ROOT/usr/sbin/policy-rc.d" ] || policy "$ROOT" # roots built before it was kept
  echo "MySQL root cached in $ROOT: $(sed -n 's/^version=//p' "$STAMP")"
  exit 0
fi

# The archive the host itself uses, from its own apt sources (deb822 first, then one-line):
# never a host name written here. The security archive has no sid.
archive() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk '
      /^[[:space:]]*$/ { if (uri != "" && suites !~ /-security/) { print uri; exit } uri = ""; suites = ""; next }
      tolower($1) == "uris:" { uri = $2 }
      tolower($1) == "suites:" { suites = $0 }
      END { if (uri != "" && suites !~ /-security/) print uri }
    ' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i+1) !~ /-security/) print $i }' "$f"
  done
}
MIRROR=$(archive | grep -E '^(https?|file)://' | head -1 || true)
[ -n "$MIRROR" ] || fail "found no Debian archive address in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$KEYRING" ] || fail "$KEYRING is missing (apt-get install debian-archive-keyring)"

echo "building a $SUITE root with $PACKAGES from $MIRROR into $ROOT (about a minute and 440 MB)"
mkdir -p "$CACHE"
chmod 0755 "$CACHE"
rm -rf "$ROOT.new" "$STAMP"
started=$(date +%s)
# policy-rc.d from extraction on: no maintainer script may start a service in the root.
# The archive may be a dated copy whose sid Release file has expired: mmdebstrap ignores the
# host's apt configuration, so the validity check is turned off here.
if ! mmdebstrap --quiet --variant=essential --include="$PACKAGES" \
    --keyring="$KEYRING" \
    --aptopt='Acquire::Check-Valid-Until "false"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --extract-hook='mkdir -p "$1/usr/sbin" && printf "#!/bin/sh\nexit 101\n" > "$1/usr/sbin/policy-rc.d" && chmod 755 "$1/usr/sbin/policy-rc.d"' \
    --customize-hook="sed -i '/^mysql:/d' \"\$1/etc/passwd\" \"\$1/etc/group\" \"\$1/etc/shadow\" \"\$1/etc/gshadow\" 2>/dev/null; \
echo 'mysql:x:$host_gid:' >> \"\$1/etc/group\"; \
echo 'mysql:x:$host_uid:$host_gid:MySQL Server:/nonexistent:/bin/false' >> \"\$1/etc/passwd\"; \
echo 'mysql:!:1::::::' >> \"\$1/etc/shadow\"; \
mkdir -p \"\$1/var/lib/mysql-files\" \"\$1/var/lib/mysql\" \"\$1/run/mysqld\"; \
chown mysql:mysql \"\$1/var/lib/mysql-files\" \"\$1/var/lib/mysql\" \"\$1/run/mysqld\" 2>/dev/null || chown $host_uid:$host_gid \"\$1/var/lib/mysql-files\" \"\$1/var/lib/mysql\" \"\$1/run/mysqld\"; \
chmod 0700 \"\$1/var/lib/mysql-files\"; chmod 1777 \"\$1/tmp\"" \
    "$SUITE" "$ROOT.new" "$MIRROR"; then
  rm -rf "$ROOT.new"
  fail "mmdebstrap could not build the $SUITE root from $MIRROR (see its messages above)"
fi
[ -x "$ROOT.new/usr/sbin/mysqld" ] || { rm -rf "$ROOT.new"; fail "the root has no /usr/sbin/mysqld: $PACKAGES did not install it"; }
[ "$(chroot "$ROOT.new" id -u mysql)" = "$host_uid" ] || { rm -rf "$ROOT.new"; fail "the root's mysql uid is not the host's ($host_uid)"; }
version=$(chroot "$ROOT.new" /usr/sbin/mysqld --version 2>&1) || { rm -rf "$ROOT.new"; fail "mysqld --version failed in the root: $version"; }
policy "$ROOT.new" || { rm -rf "$ROOT.new"; fail "cannot write the root's policy-rc.d"; }

rm -rf "$ROOT"
mv "$ROOT.new" "$ROOT"
# The pid, comm (mysqld) and a command line naming the datadir stay those of the server, so the
# agent's pid-file and /proc/<pid>/cmdline checks work through it unchanged.
printf '#!/bin/sh\n# MySQL from the sid root beside this file (build/mysql-root.sh). Every path given to it must\n# exist at the same path inside the root (bind-mount it there).\nexec chroot %s /usr/sbin/mysqld "$@"\n' "$ROOT" > "$WRAPPER.new"
chmod 0755 "$WRAPPER.new"
mv "$WRAPPER.new" "$WRAPPER"
version=$(echo "$version" | head -1)
printf '%s\nversion=%s\n' "$want" "$version" > "$STAMP"
echo "MySQL root built in $(( $(date +%s) - started )) s, $(du -sh "$ROOT" | cut -f1): $version"
echo "wrapper: $WRAPPER"
