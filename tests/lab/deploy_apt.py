#!/usr/bin/env python3
"""apt-get for the replay of doc/deploy.md (tests/lab/test_deploy.py).

The replay runs in a sandbox without network, on a machine that may have pending updates, so
the guide's "apt-get install PACKAGE..." cannot and must not install or upgrade anything there.
This stands in for it, the way deploy_systemctl.py stands in for systemctl: it checks that every
package the guide names is installed on this machine, and fails with one line naming those that
are not (tests/deps.sh installs them); otherwise it succeeds without touching anything.  It
adds the names it was given, one a line, to /run/deploy-apt/named (or $DEPLOY_APT_NAMED), so
that the replay can check that the guide names every package the build needs."""

import os
import subprocess
import sys

NAMED = os.environ.get("DEPLOY_APT_NAMED", "/run/deploy-apt/named")


def installed(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Status}", pkg], capture_output=True,
                       text=True)
    return r.returncode == 0 and r.stdout.endswith(" installed")


def install(args):
    pkgs = [a for a in args if not a.startswith("-")]
    if not pkgs:
        sys.exit("apt-get: install names no package")
    os.makedirs(os.path.dirname(NAMED), exist_ok=True)
    with open(NAMED, "a") as f:
        f.writelines(p + "\n" for p in pkgs)
    missing = [p for p in pkgs if not installed(p)]
    if missing:
        print("apt-get: the replay installs nothing (no network); not installed on this "
              "machine: %s" % " ".join(missing), file=sys.stderr)
        sys.exit(100)
    print("apt-get: %s already installed (replay: nothing changed)" % " ".join(pkgs))


def main(args):
    words = [a for a in args if not a.startswith("-")]
    if not words or words[0] != "install":
        sys.exit("apt-get: %s: not needed by the guide" % (words[0] if words else "(none)"))
    install(args[args.index("install") + 1:])


if __name__ == "__main__":
    main(sys.argv[1:])
