#!/bin/sh
# NAME
#	install.sh - the browser tests' node modules, as the lock file says
# SUMMARY
#	sh tests/browser/install.sh
# DESCRIPTION
#	Runs "npm ci" in tests/browser: puppeteer-core at the exact version
#	of package-lock.json, from the npm registry, into
#	tests/browser/node_modules (not committed). puppeteer-core downloads
#	no browser; the tests drive Debian's chromium.
#
#	A stamp (node_modules/.authguard-lock) holds the hash of the lock file
#	that was installed; while it matches, nothing is done, so the tests
#	reach the network only when the lock file changes.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
stamp=node_modules/.authguard-lock
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
    [ -f node_modules/puppeteer-core/package.json ]; then
	exit 0
fi
command -v npm >/dev/null 2>&1 || {
	echo "browser: npm is missing (sh tests/deps.sh installs Debian's npm)" >&2
	exit 1
}
echo "browser: npm ci (puppeteer-core as package-lock.json says)"
rm -rf node_modules
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >npm-ci.log 2>&1 || {
	tail -20 npm-ci.log >&2
	echo "browser: npm ci failed; see $here/npm-ci.log" >&2
	exit 1
}
rm -f npm-ci.log
echo "$want" >"$stamp"
