#!/usr/bin/env python3
"""An account Dovecot renames keeps its lock and its flags.

With auth_default_realm (Dovecot 2.4: auth_default_domain), or auth_username_format, Dovecot
authenticates "alice" as alice@example.test. The gate checks the name the client typed before Dovecot, and the account
Dovecot names in its answer after: a lock of alice@example.test, or carol@example.test's
oauth-only flag, must not be escaped by typing the short name, and failures under the short
name count for the account. Through the auth-client protocol, as smtpd speaks it.
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gatelab  # noqa: E402
from lab import Lab, USERS, dovecot_version  # noqa: E402
from gatelab import teardown_suite, Gate, GateClient, auth_line, b64, new_gate_dir  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("realm")
S = {}


def setup():
    gdir = S["dir"] = new_gate_dir()
    # Dovecot 2.4 renamed auth_default_realm to auth_default_domain
    key = "auth_default_domain" if dovecot_version() >= (2, 4) else "auth_default_realm"
    lab = S["lab"] = Lab(sasl_path=os.path.join(gdir, "auth"),
                         extra_dovecot_conf="%s = example.test\n" % key)
    with open(os.path.join(gdir, "accounts"), "w") as f:
        f.write("carol@example.test oauth-only\n")
    subprocess.run(["postmap", "-c", lab.postfix_dir, "cdb:" + os.path.join(gdir, "accounts")],
                   check=True)
    lab.start_dovecot()
    S["gate"] = Gate(lab, gdir, accounts_map=os.path.join(gdir, "accounts.cdb"),
                     account_fail_limit="3/15m", ip_fail_limit="255/15m",
                     guessing_threshold="255").start()


def teardown():
    teardown_suite(S)


def cli(*args):
    r = subprocess.run([os.path.join(gatelab.BUILD, "authguard"), "-s", S["gate"].control]
                       + list(args), capture_output=True, text=True, timeout=10)
    return r.returncode, r.stdout + r.stderr


def login(user, password, rip):
    c = GateClient(S["gate"].socket)
    try:
        c.send(auth_line(1, "PLAIN", resp=b64("\0%s\0%s" % (user, password)), rip=rip))
        return c.line().decode()
    finally:
        c.close()


@suite.test
def short_name_passes_as_the_account():
    line = login("alice", USERS["alice@example.test"], "198.51.100.1")
    assert line.startswith("OK\t1\tuser=alice@example.test"), line


@suite.test
def locked_account_stays_locked_under_its_short_name():
    rc, out = cli("lock", "alice@example.test")
    assert rc == 0, out
    try:
        for user in ("alice@example.test", "alice", "Alice"):
            line = login(user, USERS["alice@example.test"], "198.51.100.2")
            assert line.startswith("FAIL\t1\t") and "too many failed attempts" in line, \
                (user, line)
        ev = S["gate"].wait_events(lambda e: e.get("cause") == "account-locked", count=3)[-1]
        assert ev["user"] == "alice@example.test", ev["_line"]
    finally:
        cli("unlock", "alice@example.test")


@suite.test
def flags_of_the_account_apply_under_its_short_name():
    for user in ("carol@example.test", "carol", "Carol"):
        line = login(user, USERS["carol@example.test"], "198.51.100.3")
        assert line.startswith("FAIL\t1\t") and "OAuth2" in line, (user, line)
    evs = [e for e in S["gate"].events() if e.get("cause") == "oauth-required"]
    assert len(evs) == 3, [e["_line"] for e in evs]


@suite.test
def failures_under_the_short_name_count_for_the_account():
    for i, user in enumerate(("bob", "Bob", "bob@example.test")):
        line = login(user, "wrong-%d" % i, "198.51.100.4")
        assert line.startswith("FAIL\t1\t"), (user, line)
    rc, out = cli("why", "bob@example.test")
    assert "locked" in out, out          # three failures: account_fail_limit = 3/15m
    line = login("bob", USERS["bob@example.test"], "198.51.100.5")
    assert line.startswith("FAIL\t1\t") and "too many failed attempts" in line, line
    cli("unlock", "bob@example.test")


if __name__ == "__main__":
    suite.run(setup, teardown)
