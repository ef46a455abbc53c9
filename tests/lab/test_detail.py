#!/usr/bin/env python3
"""What the client reads under client_detail = safe (the default), full and none, through real
Postfix; and log_format = json. Safe must not let a client tell an unknown account from a wrong
password, and must still show the causes that say nothing about the account."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab  # noqa: E402
from gatelab import teardown_suite, Gate, new_gate_dir, ref_of, swaks_auth_reply  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("detail")
S = {}


def setup():
    S["dir"] = new_gate_dir()
    S["lab"] = Lab(sasl_path=os.path.join(S["dir"], "auth"))
    S["lab"].start_dovecot()
    start_gate(client_detail=None)      # not set: the default must be safe
    S["lab"].start_postfix()


def start_gate(**conf):
    conf.setdefault("ip_fail_limit", "255/1m")       # limits are test_limits.py's business
    conf.setdefault("guessing_threshold", "255")
    S["gate"] = Gate(S["lab"], S["dir"], **conf).start()


def restart_gate(**conf):
    """Postfix keeps one SASL connection per smtpd: stop it around the gate's restart."""
    S["lab"].stop_postfix()
    assert S["gate"].stop() == 0
    os.unlink(S["gate"].log)
    start_gate(**conf)
    S["lab"].start_postfix()


def teardown():
    teardown_suite(S)


def auth(user, password, tls=True):
    args = ["-a", "PLAIN", "-au", user, "-ap", password, "--quit-after", "AUTH"]
    if tls:
        args.append("-tls")
    code, text = swaks_auth_reply(S["lab"].swaks(*args)[1])
    assert code == 535, (code, text)
    return text


def reason(text):
    prefix = "5.7.8 Error: authentication failed: "
    assert text.startswith(prefix), text
    return text[len(prefix):]


@suite.test
def safe_hides_account_facts():
    wrong = reason(auth("alice@example.test", "wrong-1"))
    unknown = reason(auth("nobody-here@example.test", "wrong-1"))
    assert wrong.replace(ref_of(wrong), "") == unknown.replace(ref_of(unknown), ""), \
        (wrong, unknown)
    assert wrong.startswith("credentials rejected (ref="), wrong
    causes = {e["ref"]: e["cause"] for e in S["gate"].events()}
    assert causes[ref_of(wrong)] == "bad-password"       # the log still tells the admin
    assert causes[ref_of(unknown)] == "unknown-user"


@suite.test
def safe_shows_harmless_causes():
    assert reason(auth("alice@example.test", "x", tls=False)).startswith(
        "TLS is required before AUTH")
    assert reason(auth("alice@example.test", "abcd efgh ijkl mnop")).startswith(
        "app password typed with spaces")


@suite.test
def none_gives_the_ref_alone_and_json_log():
    restart_gate(client_detail="none", log_format="json")
    r = reason(auth("alice@example.test", "x", tls=False))
    ref = ref_of(r)
    assert r == "(ref=%s)" % ref, r
    S["gate"].event(ref)            # the gate answers, then logs: wait for its line
    lines = [l for l in S["gate"].log_text().splitlines() if ref in l]
    assert len(lines) == 1, lines
    ev = json.loads(lines[0][lines[0].index("{"):])
    assert ev["event"] == "auth" and ev["cause"] == "tls-required" and ev["ref"] == ref, ev


@suite.test
def full_names_every_cause():
    restart_gate(client_detail="full")
    assert reason(auth("nobody-here@example.test", "x")).startswith("no such account")
    assert reason(auth("alice@example.test", "x")).startswith("wrong password")


if __name__ == "__main__":
    suite.run(setup, teardown)
