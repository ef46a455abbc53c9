#!/usr/bin/env python3
"""Limits of the auth policy door that hold under load and odd attributes: each allow holds its
own place (with or without session_id), the entry cap forgets the oldest login and says so, an
oauth-only account's token login passes when Dovecot names no mechanism while a named password
mechanism is refused, and an auth_policy_max_wait that Dovecot would not wait for is warned of.
The daemon and Dovecot are real."""

import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab, free_port  # noqa: E402
from gatelab import Gate, new_gate_dir, teardown_suite  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("door_limits")
S = {}
NONCE = "n"
API_KEY = "limits-api-key"


def setup():
    S["dir"] = new_gate_dir()
    S["lab"] = Lab(sasl_path=os.path.join(S["dir"], "auth"), auth_debug=True)
    S["lab"].start_dovecot()
    with open(os.path.join(S["dir"], "accounts"), "w") as f:
        f.write("olivia@example.test oauth-only\n")
    subprocess.run(["postmap", "-c", S["lab"].postfix_dir,
                    "cdb:" + os.path.join(S["dir"], "accounts")], check=True)
    S["port"] = free_port()
    S["gate"] = Gate(S["lab"], S["dir"], auth_policy_listen="inet:127.0.0.1:%d" % S["port"],
                     auth_policy_hash_nonce=NONCE,
                     auth_policy_api_header="X-API-Key: " + API_KEY,
                     accounts_map=os.path.join(S["dir"], "accounts.cdb"),
                     account_fail_limit="3/10m", ip_fail_limit="100/10m").start()


def teardown():
    teardown_suite(S)


def body(login, session, pwhash, remote):
    return {"login": login, "pwhash": pwhash, "remote": remote, "device_id": "",
            "protocol": "imap", "session_id": session, "tls": False}


def post(conn, command, payload):
    conn.request("POST", "/?command=" + command, body=json.dumps(payload).encode(),
                 headers={"Content-Type": "application/json", "X-API-Key": API_KEY})
    r = conn.getresponse()
    return r.status, json.loads(r.read().decode())


def allows(login, sessions, remote):
    """Allows of one account, none reported yet: how many were let through."""
    c = http.client.HTTPConnection("127.0.0.1", S["port"], timeout=10)
    let = 0
    try:
        for i, s in enumerate(sessions):
            st, ans = post(c, "allow", body(login, s, "%04x" % (0x200 + i), remote))
            assert st == 200, (st, ans)
            let += ans["status"] == 0
    finally:
        c.close()
    return let


def dovecot_pwhash(nonce, login, password, bits=12):
    """Dovecot 2.3's %{hashed_password}: sha256(nonce login NUL password), first bits."""
    d = int.from_bytes(hashlib.sha256(nonce.encode() + login.encode() + b"\0" +
                                      password.encode()).digest(), "big") >> (256 - bits)
    return "%0*x" % ((bits + 7) // 8 * 2, d)


@suite.test
def logins_without_session_id_each_hold_a_place():
    """account_fail_limit 3: three allows go, the others are refused, with distinct
    session_ids and without any (each allow its own entry, keyed by remote and login)."""
    with_sessions = allows("carol@example.test", [uuid.uuid4().hex[:16] for _ in range(10)],
                           "192.0.2.30")
    assert with_sessions == 3, with_sessions
    without = allows("dave@example.test", [""] * 10, "192.0.2.31")
    assert without == 3, "%d of 10 allows without session_id let through (limit 3)" % without


@suite.test
def reports_without_session_id_give_the_places_back():
    """Three allows without session_id hold the places; each report takes the oldest entry
    of its remote and login and gives its place back: then three more go."""
    user, ip = "erin@example.test", "192.0.2.32"
    assert allows(user, [""] * 3, ip) == 3
    c = http.client.HTTPConnection("127.0.0.1", S["port"], timeout=10)
    try:
        for i in range(3):
            assert post(c, "report", dict(body(user, "", "%04x" % (0x200 + i), ip),
                                          success=True, policy_reject=False)) == \
                (200, {"status": 0})
    finally:
        c.close()
    assert allows(user, [""] * 3, ip) == 3


@suite.test
def the_check_after_the_password_holds_no_second_place():
    """Dovecot asks allow again after the password (auth_policy_check_after_auth), with the
    same pwhash: without session_id that is the same login's entry, so its report gives the one
    place back and three new allows go."""
    user, ip = "finn@example.test", "192.0.2.34"
    b = body(user, "", "0abc", ip)
    c = http.client.HTTPConnection("127.0.0.1", S["port"], timeout=10)
    try:
        assert post(c, "allow", b) == (200, {"status": 0})
        assert post(c, "allow", b) == (200, {"status": 0})
        assert post(c, "report", dict(b, success=True, policy_reject=False)) == \
            (200, {"status": 0})
    finally:
        c.close()
    assert allows(user, [""] * 3, ip) == 3


@suite.test
def oauth_only_account_refused_a_password_login():
    """accounts_map oauth-only, mech=PLAIN named in the attributes: refused at allow."""
    c = http.client.HTTPConnection("127.0.0.1", S["port"], timeout=10)
    try:
        st, ans = post(c, "allow", dict(body("olivia@example.test", "oa-1", "0123",
                                             "192.0.2.80"), mech="PLAIN"))
    finally:
        c.close()
    assert st == 200 and ans["status"] == -1, "oauth-only account, mech PLAIN: %r" % (ans,)


@suite.test
def oauth_only_account_logs_in_with_its_token():
    """Dovecot 2.3 hashes an XOAUTH2/OAUTHBEARER token as it does a password: without a mech
    attribute the door cannot tell them apart and lets the passdb decide; mech=XOAUTH2 goes."""
    user = "olivia@example.test"
    tok = dovecot_pwhash(NONCE, user, "ya29.a0AfH6SMBexampletoken")
    c = http.client.HTTPConnection("127.0.0.1", S["port"], timeout=10)
    try:
        st, ans = post(c, "allow", body(user, "oa-tok", tok, "192.0.2.82"))
        st2, ans2 = post(c, "allow", dict(body(user, "oa-tok2", tok, "192.0.2.82"),
                                          mech="XOAUTH2"))
    finally:
        c.close()
    assert st == 200 and ans["status"] == 0, \
        "an oauth-only account's token login (no mech attribute) refused: %r" % (ans,)
    assert st2 == 200 and ans2["status"] == 0, ans2


@suite.test
def a_reports_user_lookup_names_the_logins_service():
    """Dovecot 2.3's report carries no fail_type: the door asks auth-userdb whether the user
    exists, for the login's service (pop3 here), not smtp."""
    mark = len(S["lab"].dovecot_log_text())
    user, ip = "alice@example.test", "192.0.2.33"
    b = dict(body(user, "svc-1", "0abc", ip), protocol="pop3")
    c = http.client.HTTPConnection("127.0.0.1", S["port"], timeout=10)
    try:
        assert post(c, "allow", b) == (200, {"status": 0})
        assert post(c, "report", dict(b, success=False, policy_reject=False)) == \
            (200, {"status": 0})
    finally:
        c.close()
    S["gate"].sync()
    time.sleep(0.3)
    new = S["lab"].dovecot_log_text()[mark:]
    seen = [ln for ln in new.splitlines() if "service=" in ln and user in ln]
    print("# " + "\n# ".join(seen))
    assert any("service=pop3" in ln for ln in seen), "\n".join(seen) or new[-3000:]


@suite.test
def max_wait_that_dovecot_does_not_wait_for_is_warned_of():
    """auth_policy_max_wait 2s: Dovecot's policy timeout is 2 s by default: a warning at start;
    1s (the default): none."""
    d = new_gate_dir()
    g = Gate(S["lab"], d, auth_policy_listen="inet:127.0.0.1:%d" % free_port(),
             auth_policy_api_header="X-API-Key: " + API_KEY,
             auth_policy_max_wait="2s").start()
    try:
        time.sleep(0.3)
        text = g.log_text()
    finally:
        g.stop()
        subprocess.run(["rm", "-rf", d])
    assert "auth_policy_max_wait" in text, text[-2000:]
    assert "auth_policy_max_wait" not in S["gate"].log_text()


@suite.test
def at_the_entry_cap_allows_hold_their_place():
    """65536 allows awaiting their report (DOOR_ENTRY_MAX), each of its own login and
    address: past that, each new allow forgets the oldest login and holds its own place, so
    ten allows of one account with account_fail_limit 3 let three through; the log says the
    door is full."""
    n = 65536
    s = socket.create_connection(("127.0.0.1", S["port"]), timeout=30)
    got = {"n": 0}

    def reader():
        buf = b""
        while got["n"] < n:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            buf += chunk
            k = buf.count(b"HTTP/1.1 ")
            got["n"] += k
            buf = buf[buf.rfind(b"HTTP/1.1 ") + 9:] if k else buf
    t = threading.Thread(target=reader)
    t.start()
    t0 = time.time()
    batch = []
    for i in range(n):
        b = json.dumps({"login": "cap%d@example.test" % i, "pwhash": "0001",
                        "remote": "10.%d.%d.%d" % (i >> 16, (i >> 8) & 255, i & 255),
                        "protocol": "imap", "session_id": "cap%d" % i}).encode()
        batch.append(b"POST /?command=allow HTTP/1.1\r\nHost: t\r\nX-API-Key: %s\r\n"
                     b"Content-Length: %d\r\n\r\n%s"
                     % (API_KEY.encode(), len(b), b))
        if len(batch) == 2048:
            s.sendall(b"".join(batch))
            batch = []
    if batch:
        s.sendall(b"".join(batch))
    t.join(60)
    s.close()
    spent = time.time() - t0
    print("# %d allows answered in %.1f s" % (got["n"], spent))
    assert got["n"] == n, got
    assert spent < 25, "too slow to fill the table within DOOR_ENTRY_MS: %.1f s" % spent
    let = allows("ruth@example.test", [uuid.uuid4().hex[:16] for _ in range(10)], "192.0.2.90")
    assert let == 3, "%d of 10 allows let through at the entry cap (limit 3 in flight)" % let
    S["gate"].sync()
    assert "logins awaiting their report" in S["gate"].log_text(), S["gate"].log_text()[-2000:]


if __name__ == "__main__":
    if len(sys.argv) > 1:
        suite.tests = [t for t in suite.tests if t.__name__ in sys.argv[1:]]
    suite.run(setup, teardown)
