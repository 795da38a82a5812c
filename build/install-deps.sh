#!/usr/bin/env bash
# Installs the Debian packages vigil's build, tests, lab and packages need (run as root).
# Idempotent: packages already present are skipped; nothing is started (policy-rc.d forbids it,
# because the tests and the lab start their own daemons inside namespaces).
set -euo pipefail
PKGS=(
  iproute2 iputils-arping ndisc6 libxml2-utils procps psmisc
  pacemaker pacemaker-cli-utils corosync pcs resource-agents fence-agents
  mariadb-server mariadb-client openipmi ipmitool openssh-server openssh-client
  rpm rpmlint dpkg-dev cpio man-db mmdebstrap
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  # Packages' postinst scripts must not start services on this machine.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v node >/dev/null || { echo "node is missing: install Node.js 18.19 or later" >&2; exit 1; }
# MySQL 9.7 for the integration tests, in its own sid root (never in the host); cached, fails loudly.
bash "$(dirname "$0")/mysql-root.sh"
