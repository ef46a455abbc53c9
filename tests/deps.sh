#!/bin/sh
# NAME
#	deps.sh - install and check what authguard's build, demo and tests use
# SUMMARY
#	sh tests/deps.sh [pristine]
# DESCRIPTION
#	Installs the Debian packages that build, demonstrate and test
#	authguard on a minimal Debian 12 (bookworm) or 13 (trixie), then
#	checks that each tool the tests run is there and works (swaks with
#	TLS, for one). A missing piece stops with one line that names its
#	package, instead of a suite that fails test by test.
#
#	Run as root, it installs what is missing (one apt-get update, then
#	apt-get install --no-install-recommends: each package the tests use is
#	named here, none comes in as a recommendation). As another user it
#	lists what is missing and fails.
#
#	The browser tests drive Debian's chromium with puppeteer-core from
#	npm: Debian's nodejs and npm are installed only when the node or npm
#	command is missing (a host may have its own Node), then
#	tests/browser/install.sh fetches the locked node modules.
#
#	With "pristine", it installs and checks only what make check-pristine
#	needs on the host (debootstrap, unshare, git); the pristine root then
#	runs this script without it.
set -eu

# The release decides the versioned names: clang's runtime libraries
# (LeakSanitizer, libFuzzer) follow its default clang.
. /etc/os-release
case "${VERSION_CODENAME:-}" in
bookworm) CLANG_RT=libclang-rt-14-dev ;;
trixie) CLANG_RT=libclang-rt-19-dev ;;
*)
	echo "deps: Debian ${VERSION_CODENAME:-${PRETTY_NAME:-unknown}} is not supported (Debian 12 bookworm or 13 trixie)" >&2
	exit 1 ;;
esac

# build
PKGS="gcc make pkg-config libc6-dev libcrypt-dev libcdb-dev tinycdb libssl-dev libmilter-dev libhiredis-dev
      libmicrohttpd-dev libjansson-dev"
# the lab: the real servers and clients the tests start
PKGS="$PKGS postfix postfix-cdb dovecot-core dovecot-auth-lua dovecot-imapd dovecot-pop3d
      dovecot-managesieved redis-server swaks curl
      libnet-ssleay-perl python3 openssl ca-certificates"
# the reverse proxy the page's example puts in front of authguard-web
PKGS="$PKGS nginx"
# tools the tests run
PKGS="$PKGS miltertest valgrind prometheus procps groff-base iproute2 adduser util-linux
      mount systemd clang $CLANG_RT"
# the browser tests: Debian's chromium, a font for its screenshots, and node with npm unless the
# host has its own (commands, not packages: a Node from elsewhere stays)
PKGS="$PKGS chromium fonts-dejavu-core"
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
if [ "${1:-}" = pristine ]; then	# the host of make check-pristine needs only these
	PKGS="debootstrap util-linux mount git coreutils"
fi

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
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
fi

# need PACKAGE WHAT COMMAND... - run COMMAND quietly; on failure, name PACKAGE and stop
need() {
	pkg=$1; what=$2; shift 2
	if ! "$@" >/dev/null 2>&1; then
		echo "deps: $what does not work: install or repair the Debian package $pkg" >&2
		exit 1
	fi
}

if [ "${1:-}" = pristine ]; then
	need debootstrap "debootstrap" debootstrap --version
	need util-linux "unshare" unshare --version
	exit 0
fi

# What the tests use, checked the way they use it.
need swaks "swaks" swaks --version
need libnet-ssleay-perl "swaks with TLS (Net::SSLeay)" \
	sh -c 'swaks --support 2>/dev/null | grep -qx "=== TLS supported"'
need postfix "postfix" test -x /usr/sbin/postfix -a -x /usr/sbin/smtp-sink
need dovecot-core "dovecot" test -x /usr/sbin/dovecot
need dovecot-auth-lua "dovecot's Lua passdb" sh -c 'ls /usr/lib/dovecot/modules/auth/*authdb_lua*'
need redis-server "redis-server" redis-server --version
need miltertest "miltertest" test -x /usr/bin/miltertest
need prometheus "promtool" test -x /usr/bin/promtool
need systemd "systemd-analyze" systemd-analyze --version
need groff-base "groff" groff --version
need valgrind "valgrind" valgrind --version
need iproute2 "ip" ip -V
need util-linux "unshare" unshare --version
need procps "ps, pkill" pkill -V
need openssl "openssl" openssl version
need ca-certificates "the system's CAs (update-ca-certificates)" \
	test -x /usr/sbin/update-ca-certificates
need python3 "python3" python3 -c 'import ssl, smtplib'
need clang "clang" clang --version
need "$CLANG_RT" "clang's sanitizer and fuzzer runtime" \
	sh -c 'echo "int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }" |
	    clang -x c -fsanitize=fuzzer,address -o /dev/null -'
need nginx "nginx" test -x /usr/sbin/nginx
need chromium "chromium" /usr/bin/chromium --version
need nodejs "node 18 or later" \
	node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)'
need npm "npm" npm --version
need fonts-dejavu-core "the DejaVu font" test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
sh "$(dirname "$0")/browser/install.sh"
exit 0
