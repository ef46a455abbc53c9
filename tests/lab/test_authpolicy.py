#!/usr/bin/env python3
"""The auth policy door of authguard-policyd, spoken to over HTTP/1.1 keep-alive with the bodies
Dovecot's auth process sends (tests/fixtures/authpolicy when captured, else the same attributes):
allow and report, the lock after ten failures with the client text and ref in msg, `authguard
why`, the API header, bad bodies, and the SMTP AUTH that the gate forwarded and so counted once.

The daemon is real and so are Dovecot (its auth-userdb tells unknown-user from bad-password for
Dovecot 2.3's reports, which carry no fail_type) and the gate's SMTP path. The logins through real
Dovecot IMAP and POP3 are tests/lab/test_doors.py's."""

import hashlib
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab, USERS, free_port, wait_until  # noqa: E402
import gatelab  # noqa: E402
from gatelab import GateClient, Gate, auth_line, b64, new_gate_dir, ref_of, teardown_suite  # noqa: E402
from redislab import Redis  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("authpolicy")
S = {}
KEY = "s3cret-key"
NONCE = "lab-nonce-1"
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "authpolicy")


ACCOUNTS = """\
frozen@example.test   disabled
token@example.test    oauth-only
"""


def setup():
    S["dir"] = new_gate_dir()
    S["lab"] = Lab(sasl_path=os.path.join(S["dir"], "auth"))
    source = os.path.join(S["dir"], "accounts")
    with open(source, "w") as f:
        f.write(ACCOUNTS)
    subprocess.run(["postmap", "-c", S["lab"].postfix_dir, "cdb:" + source], check=True)
    S["lab"].start_dovecot()
    S["port"] = free_port()
    S["mport"] = free_port()
    S["gate"] = Gate(S["lab"], S["dir"], auth_policy_listen="inet:127.0.0.1:%d" % S["port"],
                     auth_policy_api_header="X-API-Key: " + KEY,
                     auth_policy_hash_nonce=NONCE,
                     metrics_listen="inet:127.0.0.1:%d" % S["mport"],
                     accounts_map=source + ".cdb",
                     account_fail_limit="10/10m", ip_fail_limit="100/10m").start()
    S["http"] = http.client.HTTPConnection("127.0.0.1", S["port"], timeout=10)


def teardown():
    if S.get("http"):
        S["http"].close()
    errors = []
    for d in S.get("more", []):         # daemons and servers of single tests
        rc = d.stop()
        if rc not in (0, None):
            errors.append("%s exited %s:\n%s" % (d.name, rc, d.log_text()[-3000:]))
    teardown_suite(S)
    assert not errors, errors


def fixture(name):
    """A body Dovecot sent (captured in the lab), or None when none was captured."""
    path = os.path.join(FIXTURES, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def body(login, protocol="imap", session=None, pwhash="0a1b", remote="192.0.2.10", **more):
    """Dovecot 2.3's default attributes (auth_policy_request_attributes), and tls."""
    b = {"login": login, "pwhash": pwhash, "remote": remote, "device_id": "",
         "protocol": protocol, "session_id": session or uuid.uuid4().hex[:16], "tls": True}
    b.update(more)
    return b


def post(command, payload, key=KEY, raw=None):
    """POST /?command=... on the one keep-alive connection: (status, parsed JSON or text)."""
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["X-API-Key"] = key
    data = raw if raw is not None else json.dumps(payload).encode()
    S["http"].request("POST", "/?command=" + command, body=data, headers=headers)
    r = S["http"].getresponse()
    text = r.read().decode()
    try:
        return r.status, json.loads(text)
    except ValueError:
        return r.status, text


def lines(user):
    return [e for e in S["gate"].events() if e.get("user") == user]


def cli(*args):
    r = subprocess.run([os.path.join(gatelab.BUILD, "authguard"), "-s", S["gate"].control]
                       + list(args), capture_output=True, text=True, timeout=10)
    return r.returncode, r.stdout, r.stderr


@suite.test
def allow_and_report_of_one_login_on_one_connection():
    """allow → 0, report success → 0; one attempt line for the login (its allow and its report
    are one attempt), a pass; both on the same kept-alive connection."""
    user = "alice@example.test"
    b = body(user, session="sess-pass-1")
    st, ans = post("allow", b)
    assert st == 200 and ans == {"status": 0}, (st, ans)
    sock = S["http"].sock
    st, ans = post("report", dict(b, success=True, policy_reject=False))
    assert st == 200 and ans == {"status": 0}, (st, ans)
    assert S["http"].sock is sock, "the connection was not kept alive"
    evs = [e for e in lines(user) if e.get("ip") == "192.0.2.10"]
    assert len(evs) == 1 and evs[0]["result"] == "pass" and evs[0]["mech"] == "-", evs


@suite.test
def ten_failed_reports_lock_the_account_for_the_next_allow():
    """Dovecot 2.3 reports (no fail_type): the auth-userdb lookup says the account exists, so
    bad-password (then password-guessing); after ten, allow is refused with the gate's client
    text and a ref, and that ref's line says account-locked."""
    user = "bob@example.test"
    assert user in USERS
    for i in range(10):
        b = body(user, remote="192.0.2.20", pwhash="%04x" % (0x100 + i))
        assert post("allow", b) == (200, {"status": 0})
        assert post("report", dict(b, success=False, policy_reject=False)) == \
            (200, {"status": 0})
    fails = S["gate"].wait_events(lambda e: e.get("user") == user and e["result"] == "fail",
                                  count=10)
    assert {e["cause"] for e in fails} <= {"bad-password", "password-guessing"}, fails
    assert fails[0]["cause"] == "bad-password", fails[0]
    st, ans = post("allow", body(user, remote="192.0.2.21"))
    assert st == 200 and ans["status"] == -1, (st, ans)
    assert "too many failed attempts for this account" in ans["msg"], ans
    ref = ref_of(ans["msg"])
    assert ref, ans
    ev = S["gate"].event(ref)
    assert ev["cause"] == "account-locked" and ev["user"] == user, ev
    S["locked_ref"] = ref


@suite.test
def why_shows_the_door_of_each_attempt():
    """authguard why USER lists the door's attempts, with proto=imap, and the lock's ref."""
    if "locked_ref" not in S:
        ten_failed_reports_lock_the_account_for_the_next_allow()
    rc, out, err = cli("why", "bob@example.test")
    assert rc == 0, (out, err)
    assert S["locked_ref"] in out and "account-locked" in out, out
    assert "proto=imap" in out, out


@suite.test
def fail_type_gives_the_cause_and_a_repeat_counts_once():
    """Dovecot 2.4's fail_type: account → unknown-user, credentials → bad-password; the same
    pwhash again is not counted again (one failure in the window); internal is never counted
    against the user."""
    user = "carol@example.test"
    b = body(user, remote="192.0.2.30", protocol="pop3", pwhash="0c0c")
    post("report", dict(body("nobody@example.test", remote="192.0.2.30"), success=False,
                        policy_reject=False, fail_type="account"))
    for _ in range(3):
        post("report", dict(b, success=False, policy_reject=False, fail_type="credentials"))
    post("report", dict(b, success=False, policy_reject=False, fail_type="internal"))
    evs = S["gate"].wait_events(lambda e: e.get("ip") == "192.0.2.30", count=5)
    causes = [e["cause"] for e in evs]
    assert causes == ["unknown-user", "bad-password", "bad-password", "bad-password",
                      "auth-service-unavailable"], causes
    rc, out, err = cli("why", user)
    assert rc == 0 and "failures_in_window=1 " in out, out


def dovecot_pwhash(nonce, user, password, bits=12):
    """Dovecot's pwhash (auth-policy.c): sha256(nonce user NUL password), then
    buffer_truncate_rshift_bits(bits), in hex."""
    d = bytearray(hashlib.sha256(nonce.encode() + user.encode() + b"\0" +
                                 password.encode()).digest())
    n, r = (bits + 7) // 8, bits % 8
    d = d[:n]
    if r:
        for i in range(n - 1, 0, -1):
            d[i] = ((d[i] >> (8 - r)) + ((d[i - 1] & (0xff >> r)) << r)) & 0xff
        d[0] >>= 8 - r
    return d.hex()


@suite.test
def an_old_password_on_smtp_then_imap_is_one_stale_password():
    """With auth_policy_hash_nonce, the gate's fingerprint of an SMTP password is that of
    Dovecot's pwhash of it: the same old password through the gate, then reported by Dovecot
    for IMAP a while later, is stale-password."""
    user = "carol@example.test"
    g = GateClient(S["gate"].socket)
    try:
        g.send(auth_line(3, "PLAIN", resp=b64("\0%s\0Old-Carol-Pass" % user),
                         rip="192.0.2.50"))
        reply = g.line().decode()
    finally:
        g.close()
    assert S["gate"].event(ref_of(reply))["cause"] == "bad-password", reply
    time.sleep(10.5)        # a device retrying later (LIMITS_STALE_GAP)
    b = body(user, remote="192.0.2.51", pwhash=dovecot_pwhash(NONCE, user, "Old-Carol-Pass"))
    post("report", dict(b, success=False, policy_reject=False, fail_type="credentials"))
    ev = S["gate"].wait_events(lambda e: e.get("ip") == "192.0.2.51")[0]
    assert ev["cause"] == "stale-password", ev


def post_on_new_connection(command, payload, out):
    """post() on a connection of its own (another of Dovecot's), its answer and time in out."""
    c = http.client.HTTPConnection("127.0.0.1", S["port"], timeout=10)
    t0 = time.time()
    try:
        c.request("POST", "/?command=" + command, body=json.dumps(payload).encode(),
                  headers={"Content-Type": "application/json", "X-API-Key": KEY})
        r = c.getresponse()
        out.append((r.status, json.loads(r.read().decode()), time.time() - t0))
    finally:
        c.close()


@suite.test
def an_allow_at_the_limit_waits_for_the_one_in_flight():
    """Nine failures of ten, and an allowed login not yet reported: the next allow of the account
    waits (the gate's queues); the first one's success lets it go. With nobody reporting, the
    wait ends at auth_policy_max_wait as the gate's does: auth-service-unavailable, with a ref."""
    user = "wait@example.test"
    for i in range(9):
        post("report", dict(body(user, remote="192.0.2.60", pwhash="%04x" % (0x200 + i)),
                            success=False, policy_reject=False, fail_type="credentials"))
    first = body(user, remote="192.0.2.61", session="sess-wait-1")
    assert post("allow", first) == (200, {"status": 0})
    out = []
    t = threading.Thread(target=post_on_new_connection,
                         args=("allow", body(user, remote="192.0.2.62", session="sess-wait-2"),
                               out))
    t.start()
    time.sleep(0.3)
    assert not out, out                   # it waits
    post("report", dict(first, success=True, policy_reject=False))
    t.join(5)
    assert out and out[0][:2] == (200, {"status": 0}), out
    user = "wait2@example.test"           # the success cleared wait@'s window: another
    for i in range(9):
        post("report", dict(body(user, remote="192.0.2.64", pwhash="%04x" % (0x200 + i)),
                            success=False, policy_reject=False, fail_type="credentials"))
    assert post("allow", body(user, remote="192.0.2.65")) == (200, {"status": 0})
    out = []                              # that one holds the place, unreported
    post_on_new_connection("allow", body(user, remote="192.0.2.63", session="sess-wait-3"), out)
    st, ans, took = out[0]
    assert st == 200 and ans["status"] == -1, out
    assert "temporarily unavailable" in ans["msg"] and ref_of(ans["msg"]), ans
    assert 0.8 < took < 2.0, took         # auth_policy_max_wait (1s), within Dovecot's 2 s
    ev = S["gate"].event(ref_of(ans["msg"]))
    assert ev["cause"] == "auth-service-unavailable" and "waited too long" in ev["detail"], ev


@suite.test
def a_refusal_at_allow_is_counted_once():
    """The report of a login the door refused (policy_reject) adds no line."""
    if "locked_ref" not in S:
        ten_failed_reports_lock_the_account_for_the_next_allow()
    user = "bob@example.test"
    b = body(user, remote="192.0.2.22", session="sess-refused")
    before = len(lines(user))
    st, ans = post("allow", b)
    assert ans["status"] == -1, ans
    post("report", dict(b, success=False, policy_reject=True, fail_type="policy"))
    S["gate"].sync()
    assert len(lines(user)) == before + 1, lines(user)[before:]


@suite.test
def the_accounts_map_flags_apply_as_at_the_gate():
    """accounts_map: a disabled account is refused at allow (account-disabled, with its ref); an
    oauth-only one is refused a password mechanism named (oauth-required) and let through for
    an OAuth mechanism; without a mechanism a pwhash may be a token's (Dovecot 2.3 hashes it as a
    password), so the passdb decides."""
    st, ans = post("allow", body("frozen@example.test"))
    assert ans["status"] == -1 and ans["msg"].startswith("this account is disabled (ref="), ans
    assert S["gate"].event(ref_of(ans["msg"]))["cause"] == "account-disabled"
    user = "token@example.test"
    st, ans = post("allow", body(user, pwhash=dovecot_pwhash(NONCE, user, "a password"),
                                 mech="LOGIN"))
    assert ans["status"] == -1 and "OAuth2 only" in ans["msg"], ans
    assert S["gate"].event(ref_of(ans["msg"]))["cause"] == "oauth-required"
    st, ans = post("allow", body(user, pwhash=dovecot_pwhash(NONCE, user, ""), mech="PLAIN"))
    assert ans["status"] == -1 and "OAuth2 only" in ans["msg"], ans
    assert post("allow", body(user, pwhash=dovecot_pwhash(NONCE, user, "a token"))) == \
        (200, {"status": 0})
    assert post("allow", body(user, pwhash=dovecot_pwhash(NONCE, user, ""))) == \
        (200, {"status": 0})
    assert post("allow", body(user, mech="XOAUTH2")) == (200, {"status": 0})


@suite.test
def the_api_header_is_checked():
    """A wrong or missing X-API-Key: 401, nothing counted."""
    user = "dave@example.test"
    assert post("allow", body(user), key="wrong")[0] == 401
    assert post("allow", body(user), key=None)[0] == 401
    assert post("report", dict(body(user), success=False), key="s3cret")[0] == 401
    S["gate"].sync()
    assert lines(user) == []
    assert "auth_policy_api_header" in S["gate"].log_text()


@suite.test
def garbage_gets_400_and_both_doors_go_on():
    """Bodies that are not Dovecot's: 400 and a log line; the daemon keeps serving the door and
    the SMTP gate."""
    for raw in (b"not json", b"[1,2]", b'{"login":"a","login":"b"}', b'{"login":1}',
                b'{"login":"\xff"}', b"{" * 100000, b'{"login":"a\\u0000"}'):
        st, _ = post("allow", None, raw=raw)
        assert st in (400, 413), (raw[:20], st)
        if st == 413:       # the server may close after a refused body
            S["http"].close()
    st, _ = post("nosuchcommand", body("erin@example.test"))
    assert st == 400, st
    st, _ = post("report", body("erin@example.test"))     # a report without success
    assert st == 400, st
    log = S["gate"].log_text()
    assert "auth_policy_listen: bad request from 127.0.0.1: " in log, log[-2000:]
    assert post("allow", body("erin@example.test")) == (200, {"status": 0})
    g = GateClient(S["gate"].socket)
    try:
        g.send(auth_line(1, "PLAIN", resp=b64("\0alice@example.test\0%s"
                                                % USERS["alice@example.test"])))
        assert g.line().startswith(b"OK\t1"), "the gate no longer serves"
    finally:
        g.close()


@suite.test
def the_gates_own_smtp_auth_is_counted_once():
    """The gate forwards an SMTP AUTH with its ref as the session; Dovecot's policy questions
    about it (protocol smtp, session_id that ref) are answered 0 and add nothing. An smtp
    question with any other session is a door like the others."""
    user = "alice@example.test"
    g = GateClient(S["gate"].socket)
    try:
        g.send(auth_line(7, "PLAIN", resp=b64("\0%s\0wrong-one" % user), rip="192.0.2.40"))
        reply = g.line().decode()
    finally:
        g.close()
    ref = ref_of(reply)
    assert reply.startswith("FAIL\t7") and ref, reply
    S["gate"].event(ref)
    # Dovecot got the ref as the request's session (its log names it: <REF>)
    S["lab"].wait_log(S["lab"].dovecot_log, "<%s>" % ref)
    before = len(lines(user))
    b = body(user, protocol="smtp", session=ref, remote="192.0.2.40")
    assert post("allow", b) == (200, {"status": 0})
    assert post("report", dict(b, success=False, policy_reject=False)) == (200, {"status": 0})
    S["gate"].sync()
    assert len(lines(user)) == before, lines(user)[before:]
    other = body(user, protocol="smtp", session="not-a-gate-ref", remote="192.0.2.41")
    post("report", dict(other, success=False, policy_reject=False, fail_type="credentials"))
    ev = S["gate"].wait_events(lambda e: e.get("ip") == "192.0.2.41")[0]
    assert ev["cause"] == "bad-password", ev


@suite.test
def captured_dovecot_bodies_are_served():
    """The bodies real Dovecot 2.3 sent (tests/fixtures/authpolicy), as they are: a right IMAP
    login (allow, allow after the password, report) is one pass line with proto=imap; an
    unknown user's report is unknown-user (auth-userdb); an smtp login with a session that is
    no gate ref is counted; a policy_reject report alone adds nothing; every body is served."""
    names = sorted(os.listdir(FIXTURES)) if os.path.isdir(FIXTURES) else []
    assert names, "no captured bodies in %s" % FIXTURES
    def seen(user, ip):
        return [e for e in lines(user) if e.get("ip") == ip]
    alice = "alice@example.test"
    before = len(seen(alice, "127.0.0.1"))
    for n in ("allow-imap.json", "allow-imap-after-auth.json"):
        assert post("allow", fixture(n)) == (200, {"status": 0}), n
    assert post("report", fixture("report-imap-success.json")) == (200, {"status": 0})
    evs = S["gate"].wait_events(lambda e: e.get("user") == alice and
                                e.get("ip") == "127.0.0.1", count=before + 1)
    assert len(evs) == before + 1 and evs[-1]["result"] == "pass", evs[before:]
    assert evs[-1].get("proto") == "imap", evs[-1]
    post("report", fixture("report-imap-unknown.json"))
    ev = S["gate"].wait_events(lambda e: e.get("user") == "nobody@example.test" and
                               e.get("ip") == "127.0.0.1")[-1]
    assert ev["cause"] == "unknown-user", ev
    post("allow", fixture("allow-smtp-session.json"))
    post("report", fixture("report-smtp-session-fail.json"))
    ev = S["gate"].wait_events(lambda e: e.get("ip") == "127.0.0.9")
    assert len(ev) == 1 and ev[0]["cause"] == "bad-password", ev
    assert ev[0].get("proto") == "smtp" and ev[0]["tls"] == "yes", ev[0]
    before = len(lines(alice))
    post("report", fixture("report-imap-policy-reject.json"))
    S["gate"].sync()
    assert len(lines(alice)) == before, lines(alice)[before:]
    for n in names:
        command = "allow" if n.startswith("allow") else "report"
        st, ans = post(command, fixture(n))
        assert st == 200 and ans.get("status") in (0, -1), (n, st, ans)
        assert command == "allow" or ans == {"status": 0}, (n, ans)


def door_post(port, command, payload):
    """One request to another daemon's door, on a connection of its own."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("POST", "/?command=" + command, body=json.dumps(payload).encode(),
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        return r.status, json.loads(r.read().decode())
    finally:
        c.close()


@suite.test
def two_servers_sharing_redis_share_the_doors_lock():
    """Two authguard-policyd sharing their state through a real redis-server: failures reported
    to one's door lock the account at the other's door and at its gate (the shared state is
    asked, as for the gate's attempts)."""
    S.setdefault("more", [])
    r = Redis(S["dir"]).start()
    S["more"].append(r)
    ports, gates = [], []
    for name in ("ra", "rb"):
        d = os.path.join(S["dir"], name)
        os.makedirs(os.path.join(d, "state"), exist_ok=True)
        os.chmod(d, 0o755)
        ports.append(free_port())
        g = Gate(S["lab"], d, state_backend=r.url(), redis_prefix="door:",
                 redis_timeout="1s", account_fail_limit="5/10m", ip_fail_limit="100/10m",
                 auth_policy_listen="inet:127.0.0.1:%d" % ports[-1]).start()
        S["more"].append(g)
        gates.append(g)
        wait_until(lambda: "shared state: Redis at" in g.log_text() and " ready" in
                   g.log_text(), 5, "connected to Redis")
    user = "shared@example.test"
    for i in range(5):
        assert door_post(ports[0], "report", dict(
            body(user, remote="192.0.2.70", pwhash="%04x" % (0x300 + i)), success=False,
            policy_reject=False, fail_type="credentials")) == (200, {"status": 0})
    gates[0].wait_events(lambda e: e.get("user") == user, count=5)
    st, ans = door_post(ports[1], "allow", body(user, remote="192.0.2.71"))
    assert st == 200 and ans["status"] == -1, ans
    assert "too many failed attempts for this account" in ans["msg"], ans
    assert gates[1].event(ref_of(ans["msg"]))["cause"] == "account-locked"
    g = GateClient(gates[1].socket)
    try:
        g.send(auth_line(1, "PLAIN", resp=b64("\0%s\0whatever" % user), rip="192.0.2.72"))
        reply = g.line().decode()
    finally:
        g.close()
    assert "too many failed attempts for this account" in reply, reply


@suite.test
def the_doors_metrics():
    """/metrics counts the door's requests by command and answer (after the tests above)."""
    c = http.client.HTTPConnection("127.0.0.1", S["mport"], timeout=10)
    try:
        c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
    finally:
        c.close()
    got = {}
    for line in text.splitlines():
        if line.startswith("authguard_authpolicy_requests_total{"):
            labels, value = line.split("} ")
            got[labels.split("{", 1)[1]] = int(value)
    def n(command, answer):
        return got.get('command="%s",answer="%s"' % (command, answer), -1)
    assert n("allow", "refuse") >= 3 and n("allow", "allow") >= 10, got
    assert n("report", "reported") >= 10 and n("allow", "gate") >= 1, got
    assert n("report", "gate") >= 1 and n("none", "bad_request") >= 1, got
    assert n("allow", "bad_request") >= 5 and n("allow", "unauthorized") >= 2, got
    assert "authguard_authpolicy_logins " in text, text


if __name__ == "__main__":
    suite.run(setup, teardown)
