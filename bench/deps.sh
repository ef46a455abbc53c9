#!/bin/sh
# The peers make bench compares with (Debian packages): fail2ban, postfwd,
# policyd-rate-limit. Run as root; their services are not needed (each is
# started by the benchmark with its own configuration).
set -e
missing=""
for p in fail2ban postfwd policyd-rate-limit iproute2 openssl; do
	dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "bench/deps.sh: missing:$missing (run as root)" >&2
	exit 1
fi
apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null
