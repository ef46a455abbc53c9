#!/usr/bin/env python3
"""The HTTP side of the auth policy door (auth_policy_listen, policy/http.c): local clients that
connect and send nothing cannot keep Dovecot's policy client out (at conn_max the oldest idle
connection is closed for the newcomer, with a warning), a client that sends no request is closed
after the header time (10 s, not the 60 s of a kept-alive connection), a policy URL with a path
(and a query of its own) is served, and a refused request is logged with its method and target.

authguard-policyd is real, in front of the lab's real Dovecot; the HTTP clients are Dovecot's
requests as its auth process sends them (tests/lab/test_authpolicy.py)."""

import http.client
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab, free_port  # noqa: E402
from gatelab import Gate, new_gate_dir, teardown_suite  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("door_http")
S = {}
DOOR_CONN_MAX = 256     # policy/door.c
DOVECOT_TIMEOUT_S = 2   # auth_policy_server_timeout_msecs, Dovecot 2.3's default
HEADER_S = 10           # HTTP_HEADER_MS: a first request within it
EVICTED = "auth_policy_listen: conn_max %d connections: the oldest without a request in " \
    "progress closed for a new client" % DOOR_CONN_MAX


def setup():
    S["dir"] = new_gate_dir()
    S["lab"] = Lab(sasl_path=os.path.join(S["dir"], "auth"))
    S["lab"].start_dovecot()
    S["port"] = free_port()
    S["gate"] = Gate(S["lab"], S["dir"], auth_policy_listen="inet:127.0.0.1:%d" % S["port"],
                     auth_policy_hash_nonce="n").start()


def teardown():
    teardown_suite(S)


def body(login, session, remote):
    return {"login": login, "pwhash": "0abc", "remote": remote, "device_id": "",
            "protocol": "imap", "session_id": session, "tls": False}


def post(conn, target, payload):
    conn.request("POST", target, body=json.dumps(payload).encode(),
                 headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    return r.status, r.read().decode()


def new_log(before):
    """What the daemon logged since before (its log's text then)."""
    S["gate"].sync()
    time.sleep(0.2)
    return S["gate"].log_text()[len(before):]


def closed(s, seconds):
    """Has the server closed s (EOF or reset) within seconds?"""
    s.settimeout(seconds)
    try:
        while s.recv(4096):
            pass
    except socket.timeout:
        return False
    except ConnectionResetError:
        pass
    return True


@suite.test
def idle_local_clients_do_not_keep_dovecot_out():
    """256 local connections that send nothing fill conn_max; Dovecot's allow, on a new
    connection, is answered within its 2 s timeout: the oldest of them was closed for it, with
    one warning, and the newest is still open. A second allow on a new connection too."""
    before = S["gate"].log_text()
    held = []
    try:
        for _ in range(DOOR_CONN_MAX):
            held.append(socket.create_connection(("127.0.0.1", S["port"]), timeout=5))
        time.sleep(0.3)
        for i in range(2):
            c = http.client.HTTPConnection("127.0.0.1", S["port"], timeout=DOVECOT_TIMEOUT_S)
            t0 = time.time()
            try:
                st, text = post(c, "/?command=allow", body("erin@example.test", "s-idle-%d" % i,
                                                          "192.0.2.40"))
            except socket.timeout:
                raise AssertionError("Dovecot's allow unanswered within its %d s timeout while "
                                     "%d idle clients hold the door" % (DOVECOT_TIMEOUT_S,
                                                                         DOOR_CONN_MAX))
            finally:
                c.close()
            took = time.time() - t0
            assert st == 200 and json.loads(text) == {"status": 0}, (st, text)
            assert took < DOVECOT_TIMEOUT_S, took
            print("# allow %d answered in %.3f s at conn_max" % (i, took))
        assert closed(held[0], 2), "the oldest idle client is still open"
        assert not closed(held[-1], 0.2), "the newest idle client was closed"
        log = new_log(before)
        assert log.count(EVICTED) == 1, log[-2000:]
    finally:
        for s in held:
            s.close()


@suite.test
def silent_client_closed_after_the_header_time():
    """A client that connects and sends nothing is closed after 10 s, not after the 60 s a
    kept-alive connection has between requests; one that was answered is still open then."""
    silent = socket.create_connection(("127.0.0.1", S["port"]), timeout=5)
    kept = http.client.HTTPConnection("127.0.0.1", S["port"], timeout=5)
    t0 = time.time()
    try:
        st, text = post(kept, "/?command=allow", body("fred@example.test", "s-kept", "192.0.2.41"))
        assert st == 200, (st, text)
        assert closed(silent, HEADER_S + 5), "a silent client open after %d s" % (HEADER_S + 5)
        took = time.time() - t0
        print("# silent client closed after %.1f s" % took)
        assert HEADER_S - 1 <= took <= HEADER_S + 4, took
        assert not closed(kept.sock, 0.5), "the kept-alive client was closed with the silent one"
        st, text = post(kept, "/?command=allow", body("fred@example.test", "s-kept-2",
                                                      "192.0.2.41"))
        assert st == 200, (st, text)
    finally:
        silent.close()
        kept.close()


@suite.test
def a_refused_request_is_logged():
    """A GET (the door takes POST): 405, and a warning with the listener, the method, the
    target as sent (not decoded) and the client; a second refusal within 10 s is not
    logged but counted, and the count comes when the 10 s end. (Before the test of a URL with
    a path, whose requests would be refusals where that path is not served.)"""
    before = S["gate"].log_text()
    c = http.client.HTTPConnection("127.0.0.1", S["port"], timeout=5)
    try:
        for target in ("/?command=allow%0a", "/?again"):
            c.request("GET", target)
            r = c.getresponse()
            r.read()
            assert r.status == 405, (target, r.status)
    finally:
        c.close()
    log = new_log(before)
    want = "auth_policy_listen: GET /?command=allow%0a from 127.0.0.1: 405 " \
        "Method Not Allowed"
    assert want in log, log[-2000:]
    assert "/?again" not in log, log[-2000:]
    time.sleep(10.5)
    log = new_log(before)
    assert "auth_policy_listen: requests refused: 1 more in the last 10 s" in log, log[-2000:]


@suite.test
def a_policy_url_with_a_path_is_served():
    """auth_policy_server_url = http://127.0.0.1:PORT/policy, or with a query of its own
    (/policy/v1?key=x&, to which Dovecot adds command=...): allow and report are answered as
    on /."""
    c = http.client.HTTPConnection("127.0.0.1", S["port"], timeout=5)
    try:
        for target in ("/policy?command=allow", "/policy/v1?key=x&command=allow"):
            st, text = post(c, target, body("gina@example.test", "p-" + target[-5:],
                                            "192.0.2.42"))
            assert st == 200 and json.loads(text) == {"status": 0}, (target, st, text)
        st, text = post(c, "/policy?command=report",
                        dict(body("gina@example.test", "p-allow", "192.0.2.42"), success=True,
                             policy_reject=False))
        assert st == 200 and json.loads(text) == {"status": 0}, (st, text)
    finally:
        c.close()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        suite.tests = [t for t in suite.tests if t.__name__ in sys.argv[1:]]
    suite.run(setup, teardown)
