#!/usr/bin/env python3
"""tests/deps.sh: on this machine every package is there and every tool works; a tool that is
installed but cannot do what the tests need stops it with one line that names the Debian package.

The broken tool is real: swaks run with Net::SSLeay unloadable (a module on PERL5LIB that dies
when loaded, as a missing libnet-ssleay-perl does), which is how a minimal Debian's swaks is
without its recommended package."""

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import Suite  # noqa: E402

suite = Suite("deps")
TOP = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEPS = os.path.join(TOP, "tests", "deps.sh")


def deps(env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run(["sh", DEPS], capture_output=True, text=True, env=e, timeout=600)


@suite.test
def everything_there_on_this_machine():
    r = deps()
    assert r.returncode == 0 and r.stderr == "", (r.returncode, r.stderr)
    assert "installing" not in r.stdout, r.stdout


@suite.test
def swaks_without_tls_names_its_package():
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "Net"))
        with open(os.path.join(d, "Net", "SSLeay.pm"), "w") as f:
            f.write('die "Net::SSLeay is not installed\\n";\n')
        env = {"PERL5LIB": d}
        # the condition is real: swaks itself says it has no TLS
        s = subprocess.run(["swaks", "--support"], capture_output=True, text=True,
                           env=dict(os.environ, **env))
        assert "=== TLS supported" not in s.stdout, s.stdout
        assert "TLS not available" in s.stderr, s.stderr
        r = deps(env)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.splitlines()
    assert len(lines) == 1, lines
    assert "libnet-ssleay-perl" in lines[0] and "swaks" in lines[0], lines


suite.run()
