#!/bin/sh
# deps.sh - install the Debian packages that build and test authguard.
#
# Run as root, installs what is missing (one apt-get update, then
# apt-get install). As another user, lists what is missing and fails.
set -eu

PKGS="gcc make pkg-config libc6-dev libcdb-dev tinycdb libssl-dev
      libmilter-dev miltertest valgrind prometheus
      postfix postfix-cdb dovecot-core dovecot-auth-lua swaks python3 openssl
      procps groff-base clang libclang-rt-14-dev iproute2 adduser util-linux
      libhiredis-dev redis-server"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
# Postfix asks how to configure itself; the tests bring their own main.cf.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
