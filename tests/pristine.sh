#!/bin/sh
# NAME
#	pristine.sh - the README's commands in a minimal Debian root file system
# SUMMARY
#	sh tests/pristine.sh bookworm|trixie [BUILD_DIR]
# DESCRIPTION
#	Does what a new user does on a freshly installed Debian: from a clean
#	clone of this repository's HEAD, as root, runs "make demo", then
#	"make check". A missing install step fails here even when this machine
#	has the package from earlier work.
#
#	The root file system comes from debootstrap --variant=minbase with git
#	and make (what a new user installs first) and ca-certificates (which
#	"apt-get install git" brings along, and an https mirror needs), with
#	the release's updates and security suites as the installer sets them
#	up. It is cached under PRISTINE_CACHE/DIST (default
#	/var/cache/authguard/pristine/DIST, outside the clone, so that a new
#	clone on the same machine finds it) and made again when its package
#	list, mirror or this script's version of it changes, and at least once
#	a week, so that it stays what a new install gets. Each run starts from
#	the cached root behind an overlay whose changes are thrown away, so
#	every run is pristine. Downloaded .deb files are kept beside it (about
#	200 MB), which saves downloads, not installs. One run at a time makes
#	or uses a cache (flock on its lock file).
#
#	A run has its own mount and pid namespaces (every process it started
#	ends with it) and uses the host's network: the tests listen on
#	127.0.0.1 on free ports, and tests/deps.sh reaches the mirror. No
#	service starts when a package is installed (policy-rc.d), as in any
#	root file system that shares its host's network.
#
#	The mirrors are the host's own, read from apt's configuration; MIRROR
#	and SECURITY_MIRROR override them. http_proxy, https_proxy and
#	no_proxy pass through to the run, and so does NODE_EXTRA_CA_CERTS
#	(its file copied into the root): on a network that inspects TLS with
#	its own CA, npm needs it to reach the npm registry for the browser
#	tests' node modules. A run that takes longer than
#	PRISTINE_TIMEOUT seconds (default 3000) is killed with everything it
#	started.
#
#	Output: BUILD_DIR/pristine/DIST/run.log has everything; the last lines
#	printed say how long each step took, the demo's exit status and
#	make check's closing line. Exit status 0 when both passed. A failed
#	run keeps its root's changes in BUILD_DIR/pristine/DIST/upper for a
#	look; a run that passed removes them.
set -eu

dist=${1:?usage: pristine.sh bookworm|trixie [BUILD_DIR]}
build=${2:-build}
case "$dist" in
bookworm | trixie) ;;
*) echo "pristine: DIST must be bookworm or trixie, not '$dist'" >&2; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || { echo "pristine: run as root (debootstrap, namespaces)" >&2; exit 2; }

top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$top/$build/pristine/$dist"
dir=$(cd "$top/$build/pristine/$dist" && pwd)
mkdir -p "${PRISTINE_CACHE:-/var/cache/authguard/pristine}/$dist"
cache=$(cd "${PRISTINE_CACHE:-/var/cache/authguard/pristine}/$dist" && pwd)
# The cache is one run's at a time: the lock is held until this script ends.
exec 9>"$cache/lock"
flock 9

# host_mirror SUITE - the URI apt on this host uses for SUITE/main
host_mirror() {
	uri=$(apt-cache policy 2>/dev/null |
	    awk -v want="$1/main" '$3 == want && $2 ~ /^(https?|mirror\+file):/ { print $2; exit }')
	case "$uri" in
	mirror+file:*)		# a list of mirrors: its first one
		sed -n 's/^[[:space:]]*\(https\{0,1\}:\/\/[^[:space:]]*\).*/\1/p' \
		    "${uri#mirror+file:}" 2>/dev/null | head -1 ;;
	*) echo "$uri" ;;
	esac
}

# mirrors - the host's Debian and Debian security mirrors, or MIRROR/SECURITY_MIRROR
mirrors() {
	. /etc/os-release
	mirror=${MIRROR:-$(host_mirror "$VERSION_CODENAME")}
	security=${SECURITY_MIRROR:-$(host_mirror "$VERSION_CODENAME-security")}
	if [ -z "$mirror" ] || [ -z "$security" ]; then
		apt-get update -q >/dev/null
		mirror=${MIRROR:-$(host_mirror "$VERSION_CODENAME")}
		security=${SECURITY_MIRROR:-$(host_mirror "$VERSION_CODENAME-security")}
	fi
	if [ -z "$mirror" ] || [ -z "$security" ]; then
		echo "pristine: no Debian mirror in apt's sources; set MIRROR and SECURITY_MIRROR" >&2
		exit 2
	fi
}

# make_base - debootstrap the cached root unless its recipe is unchanged
make_base() {
	recipe="dist=$dist variant=minbase include=git,make,ca-certificates mirror=$mirror"
	recipe="$recipe security=$security week=$(date -u +%G-%V) recipe=3"
	if [ -f "$cache/base.recipe" ] && [ "$(cat "$cache/base.recipe")" = "$recipe" ] &&
	    [ -x "$cache/base/usr/bin/git" ]; then
		echo "pristine: cached $dist root ($cache/base)"
		return
	fi
	echo "pristine: debootstrap $dist"
	rm -f "$cache/base.recipe"
	rm -rf --one-file-system "$cache/base" "$cache/base.new"
	# In a mount namespace of its own: the proc and sys that debootstrap mounts in
	# the new root go with it, even when it is killed.
	unshare --mount --propagation private --kill-child \
	    debootstrap --variant=minbase --include=git,make,ca-certificates \
	    "$dist" "$cache/base.new" "$mirror" >"$cache/debootstrap.log" 2>&1 || {
		tail -20 "$cache/debootstrap.log" >&2
		echo "pristine: debootstrap $dist failed; see $cache/debootstrap.log" >&2
		exit 1
	}
	cat >"$cache/base.new/etc/apt/sources.list" <<-EOF
	deb $mirror $dist main
	deb $mirror $dist-updates main
	deb $security $dist-security main
	EOF
	printf '#!/bin/sh\nexit 101\n' >"$cache/base.new/usr/sbin/policy-rc.d"
	chmod 0755 "$cache/base.new/usr/sbin/policy-rc.d"
	rm -f "$cache/base.new/var/cache/apt/archives/"*.deb
	mv "$cache/base.new" "$cache/base"
	echo "$recipe" >"$cache/base.recipe"
}

# clone - a clean clone: HEAD as committed, nothing of the work tree's build output
clone() {
	rm -rf "$dir/src"
	git clone --quiet --no-hardlinks "$top" "$dir/src"
	git -C "$dir/src" log -1 --format='pristine: clone of %h %s' | cut -c1-100
}

# The run, inside new mount and pid namespaces: the overlay, /dev, /proc, then the commands.
INSIDE='
set -eu
dir=$1 cache=$3
mount --make-rprivate /
rm -rf --one-file-system "$dir/upper" "$dir/work"
mkdir -p "$dir/upper" "$dir/work" "$dir/root" "$cache/archives"
mount -t overlay overlay -o "lowerdir=$cache/base,upperdir=$dir/upper,workdir=$dir/work" "$dir/root"
r=$dir/root
mount --rbind /dev "$r/dev"
mount -t tmpfs -o mode=1777 tmpfs "$r/dev/shm"
mount -t proc proc "$r/proc"
mount -t sysfs sysfs "$r/sys"
mount -t tmpfs -o mode=1777 tmpfs "$r/tmp"
mount -t tmpfs -o mode=0755 tmpfs "$r/run"
mount --bind "$cache/archives" "$r/var/cache/apt/archives"
cp /etc/resolv.conf "$r/etc/resolv.conf"
extra_ca=
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -r "$NODE_EXTRA_CA_CERTS" ]; then
	cp "$NODE_EXTRA_CA_CERTS" "$r/root/node-extra-ca.crt"
	extra_ca=/root/node-extra-ca.crt
fi
mkdir -p "$r/root/authguard"
cp -a "$dir/src/." "$r/root/authguard/"
exec chroot "$r" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    ${http_proxy:+http_proxy="$http_proxy"} ${https_proxy:+https_proxy="$https_proxy"} \
    ${no_proxy:+no_proxy="$no_proxy"} ${extra_ca:+NODE_EXTRA_CA_CERTS="$extra_ca"} \
    sh -c "cd /root/authguard && $2"
'

# step NAME COMMAND - run COMMAND in a fresh pristine root; print its time and status
step() {
	name=$1; cmd=$2
	t0=$(date +%s)
	echo "== $dist: $name" >>"$dir/run.log"
	set +e
	timeout --kill-after=30 "${PRISTINE_TIMEOUT:-3000}" \
	    unshare --mount --pid --fork --propagation private --kill-child \
	    sh -c "$INSIDE" inside "$dir" "$cmd" "$cache" >>"$dir/run.log" 2>&1
	rc=$?
	set -e
	t=$(($(date +%s) - t0))
	echo "pristine: $dist: $name: exit $rc in ${t} s"
	return $rc
}

t_start=$(date +%s)
: >"$dir/run.log"
mirrors
make_base
clone
# One root for both commands, as on a new machine: the demo installs the packages that make
# check then finds. The overlay is made anew here, so the run starts pristine.
status=0
step "make demo, then make check" 'make demo; echo "demo exit status $?"; make check' || status=$?
demo=$(grep -E '^demo exit status [0-9]+$' "$dir/run.log" | tail -1)
counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$dir/run.log" | tail -1)
echo "pristine: $dist: ${demo:-demo did not finish}; make check: ${counts:-no closing line}"
echo "pristine: $dist: $(($(date +%s) - t_start)) s in all; log: $dir/run.log"
case "$demo" in
"demo exit status 0") ;;
*) grep -E '^(not ok|deps:|Error|make: \*\*\*)' "$dir/run.log" | head -40 >&2; exit 1 ;;
esac
if [ "$status" -ne 0 ]; then
	grep -E '^(not ok|deps:|make: \*\*\*)' "$dir/run.log" | head -40 >&2
	exit 1
fi
# Passed: the run's changes (a few GB of installed packages) go; a failed run keeps them.
rm -rf --one-file-system "$dir/upper" "$dir/work" "$dir/src"
exit 0
