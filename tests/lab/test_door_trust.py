#!/usr/bin/env python3
"""Whom the auth policy door trusts: a gate ref exempts from counting only the smtp questions
about the attempt the gate forwarded (its login and address), and a report uses it up; a
local process without the API header cannot post a report that lifts a lock; and a door on
TCP without auth_policy_api_header, or with a header without its value, is a configuration
error at start and for authguard-policyd -t."""

import http.client
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab, free_port  # noqa: E402
from gatelab import POLICYD, Gate, GateClient, auth_line, b64, new_gate_dir, ref_of  # noqa: E402
from gatelab import teardown_suite  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("door_trust")
S = {}
KEY = "trust-api-secret"


def setup():
    S["dir"] = new_gate_dir()
    S["lab"] = Lab(sasl_path=os.path.join(S["dir"], "auth"))
    S["lab"].start_dovecot()
    S["port"] = free_port()
    S["gate"] = Gate(S["lab"], S["dir"], auth_policy_listen="inet:127.0.0.1:%d" % S["port"],
                     auth_policy_api_header="X-API-Key: " + KEY, auth_policy_hash_nonce="n",
                     account_fail_limit="3/10m", ip_fail_limit="100/10m").start()


def teardown():
    teardown_suite(S)


def body(login, session, pwhash, remote, protocol="imap"):
    return {"login": login, "pwhash": pwhash, "remote": remote, "device_id": "",
            "protocol": protocol, "session_id": session, "tls": False}


def post(conn, command, payload, key=KEY):
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["X-API-Key"] = key
    conn.request("POST", "/?command=" + command, body=json.dumps(payload).encode(),
                 headers=headers)
    r = conn.getresponse()
    return r.status, json.loads(r.read().decode())


def door():
    return http.client.HTTPConnection("127.0.0.1", S["port"], timeout=10)


def gate_failure(user, rip):
    """One failed SMTP AUTH through the gate: its ref."""
    g = GateClient(S["gate"].socket)
    try:
        g.send(auth_line(9, "PLAIN", resp=b64("\0%s\0wrong" % user), rip=rip))
        reply = g.line().decode()
    finally:
        g.close()
    ref = ref_of(reply)
    assert ref, reply
    return ref


def counted(user, ip):
    S["gate"].sync()
    return [e for e in S["gate"].events() if (e.get("user") or "").lower() == user and
            e.get("ip") == ip]


@suite.test
def one_gate_ref_covers_no_other_login_or_address():
    """A failed SMTP AUTH through the gate gives its client the ref (in the 535). Smtp questions
    with that session_id about another account, or from another address, are counted as any
    login: the ref names one attempt, not a minute of uncounted guesses."""
    ref = gate_failure("alice@example.test", "192.0.2.120")
    victim = "bob@example.test"
    c = door()
    answers = []
    try:
        for i in range(10):
            b = body(victim, ref, "%04x" % (0x500 + i), "203.0.113.9", protocol="smtp")
            answers.append(post(c, "allow", b)[1]["status"])
            post(c, "report", dict(b, success=False, policy_reject=False,
                                   fail_type="credentials"))
        # alice's login, from another address: not the attempt the gate forwarded either
        b = body("alice@example.test", ref, "0aaa", "203.0.113.10", protocol="smtp")
        post(c, "report", dict(b, success=False, policy_reject=False, fail_type="credentials"))
    finally:
        c.close()
    assert len(counted(victim, "203.0.113.9")) == 10, \
        "10 failures of %s from 203.0.113.9 under one gate ref (for alice, from " \
        "192.0.2.120): %d counted" % (victim, len(counted(victim, "203.0.113.9")))
    assert answers[-1] == -1, answers
    assert len(counted("alice@example.test", "203.0.113.10")) == 1


@suite.test
def the_gates_own_attempt_counted_once_and_its_ref_used_up():
    """Dovecot's questions about the attempt the gate forwarded (same login, in any case, and
    address) are answered status 0 and not counted again; allow may come twice; the report
    uses the ref up, so a second report with it is counted."""
    user, ip = "carol@example.test", "192.0.2.121"
    ref = gate_failure(user, ip)
    assert len(counted(user, ip)) == 1
    c = door()
    try:
        b = body("Carol@Example.TEST", ref, "0bbb", ip, protocol="smtp")
        assert post(c, "allow", b) == (200, {"status": 0})
        assert post(c, "allow", b) == (200, {"status": 0})
        rep = dict(b, success=False, policy_reject=False, fail_type="credentials")
        assert post(c, "report", rep) == (200, {"status": 0})
        assert len(counted(user, ip)) == 1, "the gate's attempt counted twice"
        post(c, "report", rep)
    finally:
        c.close()
    assert len(counted(user, ip)) == 2, "a second report under a used ref was not counted"


@suite.test
def a_report_without_the_api_header_lifts_no_lock():
    """A local process that does not know the API header posts a report success=true for a
    locked account from its own address: 401, and the lock holds there."""
    user = "dave@example.test"
    c = door()
    try:
        for i in range(3):
            b = body(user, "tn-%d" % i, "%04x" % (0x400 + i), "192.0.2.110")
            assert post(c, "allow", b) == (200, {"status": 0})
            assert post(c, "report", dict(b, success=False, policy_reject=False,
                                          fail_type="credentials")) == (200, {"status": 0})
        st, ans = post(c, "allow", body(user, "tn-x", "0abc", "198.51.100.7"))
        assert ans["status"] == -1, ans
        forged = dict(body(user, "tn-f", "0abc", "198.51.100.7"), success=True,
                      policy_reject=False)
        st, ans = post(c, "report", forged, key=None)
        assert st == 401, (st, ans)
        st, ans = post(c, "report", forged, key="guessed")
        assert st == 401, (st, ans)
        st, ans = post(c, "allow", body(user, "tn-y", "0abd", "198.51.100.7"))
    finally:
        c.close()
    assert ans["status"] == -1, "a report nobody authenticated lifted the lock: %r" % (ans,)


def refused(conf_extra, want):
    """A gate with these settings: both its start and -t fail, saying want."""
    d = new_gate_dir()
    try:
        g = Gate(S["lab"], d, **conf_extra)
        t = subprocess.run([POLICYD, "-t", "-c", g.conf_path], capture_output=True, text=True,
                           timeout=10)
        assert t.returncode != 0 and want in t.stderr + t.stdout, (t.returncode, t.stderr)
        try:
            g.start(timeout=5)
        except RuntimeError as e:
            assert want in str(e), str(e)[-2000:]
        else:
            g.stop()
            raise AssertionError("authguard-policyd started with %r" % (conf_extra,))
    finally:
        subprocess.run(["rm", "-rf", d])


@suite.test
def a_door_on_tcp_without_an_api_header_does_not_start():
    """Any local process may connect to a TCP port: auth_policy_listen = inet: without
    auth_policy_api_header is an error naming both keys; an empty header value as well. A
    unix: socket (its owner and mode) may go without."""
    port = free_port()
    refused({"auth_policy_listen": "inet:127.0.0.1:%d" % port},
            "auth_policy_listen on inet: needs auth_policy_api_header")
    refused({"auth_policy_listen": "inet:127.0.0.1:%d" % port,
             "auth_policy_api_header": "X-API-Key:"},
            "auth_policy_api_header: want \"Name: value\", neither empty")
    d = new_gate_dir()
    try:
        g = Gate(S["lab"], d, auth_policy_listen="unix:" + os.path.join(d, "policy-door"))
        t = subprocess.run([POLICYD, "-t", "-c", g.conf_path], capture_output=True, text=True,
                           timeout=10)
        assert t.returncode == 0, t.stderr
    finally:
        subprocess.run(["rm", "-rf", d])


if __name__ == "__main__":
    suite.run(setup, teardown)
