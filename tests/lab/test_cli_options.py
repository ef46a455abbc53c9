#!/usr/bin/env python3
"""The authguard command line against a real authguard-policyd: the global options (--json,
-c FILE, -s SOCKET) anywhere on the line, before or after the command and its argument; a
command's own options (why --since, top --by, lock --for, doctor -c) kept for it; "--" ending
the options, so that an argument starting with "-" is an argument; and the usage text listing
every command the daemon answers.

Dovecot is tests/lab/fakeauth.py: one failed attempt gives why a ref to find."""

import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gatelab  # noqa: E402
from fakeauth import FakeAuth  # noqa: E402
from gatelab import GateClient, NoLab, auth_line, b64, new_gate_dir  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("cli_options")
S = {}
USER = "fail-erin"


def setup():
    d = S["dir"] = new_gate_dir()
    S["fake"] = FakeAuth(os.path.join(d, "fake-auth"))
    g = S["gate"] = gatelab.Gate(NoLab(d), d).start()
    c = GateClient(g.socket)
    c.send(auth_line(1, "PLAIN", resp=b64("\0%s\0wrong-1" % USER)))
    reply = c.line().decode()
    c.close()
    assert reply.startswith("FAIL"), reply
    S["ref"] = re.search(r"ref=([0-9A-Z]+)", reply).group(1)


def teardown():
    try:
        if S.get("gate"):
            assert S["gate"].stop() == 0, S["gate"].log_text()[-3000:]
    finally:
        if S.get("fake"):
            S["fake"].stop()
        subprocess.run(["rm", "-rf", S["dir"]])


def cli(*args):
    p = subprocess.run([os.path.join(gatelab.BUILD, "authguard")] + list(args),
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def json_ok(rc, out, err):
    assert rc == 0 and not err, (rc, out, err)
    return json.loads(out)


@suite.test
def json_after_the_argument():
    ctl = S["gate"].control
    want = cli("-s", ctl, "--json", "why", S["ref"])
    assert json_ok(*want)["query"] == S["ref"]
    for line in (["-s", ctl, "why", S["ref"], "--json"],
                 ["-s", ctl, "why", "--json", S["ref"]],
                 ["why", S["ref"], "-s", ctl, "--json"],
                 ["why", S["ref"], "--json", "-s", ctl]):
        assert cli(*line) == want, (line, cli(*line), want)


@suite.test
def json_with_command_options():
    ctl = S["gate"].control
    want = cli("-s", ctl, "--json", "why", USER, "--since", "1h")
    assert len(json_ok(*want)["attempts"]) == 1, want
    for line in (["-s", ctl, "why", USER, "--since", "1h", "--json"],
                 ["-s", ctl, "why", "--since", "1h", USER, "--json"],
                 ["why", "--json", USER, "-s", ctl, "--since", "1h"]):
        assert cli(*line) == want, (line, cli(*line), want)
    top = cli("-s", ctl, "top", "--by", "address", "--json")
    assert json_ok(*top)[0]["address"] == "127.0.0.1", top
    assert cli("-s", ctl, "--json", "top", "--by", "address") == top
    assert json_ok(*cli("stats", "-s", ctl, "--json"))["recent_attempts"] == 1


@suite.test
def config_file_after_the_command():
    conf = S["gate"].conf_path
    want = cli("-c", conf, "--json", "why", S["ref"])
    assert json_ok(*want)["query"] == S["ref"]
    assert cli("why", S["ref"], "-c", conf, "--json") == want
    assert cli("why", S["ref"], "--json", "-c", conf) == want
    text = cli("-c", conf, "why", S["ref"])
    assert text[0] == 0 and "ref=" + S["ref"] in text[1], text
    assert cli("why", S["ref"], "-c", conf) == text


@suite.test
def lock_for_then_unlock_with_json_anywhere():
    ctl = S["gate"].control
    rc, out, err = cli("lock", "mallory@example.test", "--for", "1h", "-s", ctl, "--json")
    assert json_ok(rc, out, err)["locked"] == "mallory@example.test"
    rc, out, err = cli("--json", "unlock", "-s", ctl, "mallory@example.test")
    assert json_ok(rc, out, err)["unlocked"] == "mallory@example.test"


@suite.test
def double_dash_ends_options():
    ctl = S["gate"].control
    # After "--" an argument starting with "-" is the user asked about, not an option.
    rc, out, err = cli("-s", ctl, "why", "--", "--json")
    assert rc == 0 and out.startswith("0 recent attempts:"), (rc, out, err)
    rc, out, err = cli("-s", ctl, "--json", "why", "--", "-s")
    assert json_ok(rc, out, err)["query"] == "-s"
    # An option after "--" is an argument too: one argument too many for why.
    rc, out, err = cli("-s", ctl, "why", S["ref"], "--", "--json")
    assert rc == 2 and err.startswith("usage:"), (rc, out, err)


@suite.test
def unknown_or_misplaced_options_are_usage_errors():
    ctl = S["gate"].control
    for line in (["-s", ctl, "why", S["ref"], "--frob"],
                 ["-s", ctl, "why", S["ref"], "--by", "user"],     # top's, not why's
                 ["-s", ctl, "stats", "--since", "1h"],
                 ["-s", ctl, "why"],
                 ["-s", ctl, "why", S["ref"], "--since"],
                 ["-s", ctl, "why", S["ref"], "-c"],
                 ["-s", ctl, "stats", "extra"],
                 ["-s", ctl, "frob"],
                 ["--json"],
                 []):
        rc, out, err = cli(*line)
        assert rc == 2 and err.startswith("usage:") and not out, (line, rc, out, err)


@suite.test
def doctor_keeps_its_own_c():
    """After doctor, -c is doctor's Postfix directory; the configuration file, -c before it."""
    d = os.path.join(S["dir"], "doctor")
    os.makedirs(d)
    conf = os.path.join(d, "authguard.conf")
    with open(conf, "w") as f:
        f.write("sasl_upstream = unix:%s\n" % os.path.join(d, "no-dovecot"))
    nothing = os.path.join(d, "no-postfix-here")
    a = subprocess.run([os.path.join(gatelab.BUILD, "authguard"), "-c", conf, "--json", "doctor",
                        "-c", nothing], capture_output=True, text=True, timeout=60)
    b = subprocess.run([os.path.join(gatelab.BUILD, "authguard"), "doctor", "-c", nothing,
                        "--json"], capture_output=True, text=True, timeout=60)
    # Without the global -c the default configuration file is read (or its defaults): the two
    # runs differ in configuration, yet both took -c after doctor as the Postfix directory.
    for p in (a, b):
        assert nothing in p.stdout + p.stderr, (p.returncode, p.stdout, p.stderr)
        assert "usage:" not in p.stderr, p.stderr


@suite.test
def local_commands_get_double_dash_as_a_word():
    """doctor, probe and analyze read their own words: -- is one of them, as before."""
    missing = os.path.join(S["dir"], "no-such.log")
    rc, out, err = cli("analyze", "--", missing)
    assert rc == 2 and "cannot read --" in err, (rc, out, err)
    rc, out, err = cli("analyze", missing, "--json")
    assert rc == 2 and "cannot read " + missing in err and "usage:" not in err, (rc, out, err)


@suite.test
def usage_lists_every_command():
    rc, out, err = cli()
    assert rc == 2 and not out
    commands = [l.split()[0] for l in err.splitlines()[1:] if l.startswith("  ") and
                not l.startswith("   ")]
    for c in ("why", "top", "lock", "unlock", "stats", "metrics", "doctor", "probe", "analyze"):
        assert c in commands, (c, err)


suite.run(setup, teardown)
