#!/usr/bin/env python3
"""The SASL gate through real Postfix and Dovecot: every cause, from real clients.

Each test drives swaks or Python's smtplib (or, for bad input, the auth-client protocol itself)
and asserts both what the client reads and the one log line with the same ref.
"""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab, auth_client_handshake, wait_until  # noqa: E402
from gatelab import (teardown_suite, Gate, GateClient, auth_line, b64, new_gate_dir, ref_of,  # noqa: E402
                     swaks_auth_reply)
from tap import Suite  # noqa: E402

suite = Suite("gate")
S = {}          # lab, gate, dir
PASSWORDS = {}  # user -> every password a test sent, for the leak check

ACCOUNTS = """\
# accounts_map source: postmap cdb:accounts
bob@example.test     app-password-required
carol@example.test   oauth-only
frozen@example.test  disabled
"""


def setup():
    gdir = S["dir"] = new_gate_dir()
    lab = S["lab"] = Lab(sasl_path=os.path.join(gdir, "auth"))
    with open(os.path.join(gdir, "accounts"), "w") as f:
        f.write(ACCOUNTS)
    subprocess.run(["postmap", "-c", lab.postfix_dir, "cdb:" + os.path.join(gdir, "accounts")],
                   check=True)
    lab.start_dovecot()
    S["gate"] = Gate(lab, gdir, accounts_map=os.path.join(gdir, "accounts.cdb"),
                     tls_exempt_networks="127.0.0.5/32", upstream_timeout="3s",
                     # this suite is about causes: limits out of the way (test_limits.py)
                     account_fail_limit="255/1m", ip_fail_limit="255/1m",
                     guessing_threshold="255").start()
    lab.start_postfix()


def teardown():
    teardown_suite(S)


def swaks_auth(user, password, mech="PLAIN", tls="starttls", li=None):
    PASSWORDS.setdefault(user, set()).add(password)
    args = ["-a", mech, "-au", user, "-ap", password, "--quit-after", "AUTH"]
    port = None
    if tls == "starttls":
        args.append("-tls")
    elif tls == "implicit":
        args.append("-tlsc")
        port = S["lab"].smtps_port
    if li:
        args += ["-li", li]
    rc, out = S["lab"].swaks(*args, port=port)
    code, text = swaks_auth_reply(out)
    assert code is not None, "no AUTH reply in swaks output:\n" + out
    return code, text


def expect_fail(reply, cause, client_text):
    """535 with the cause's text and a ref; exactly one log line with that ref and cause."""
    code, text = reply
    assert code == 535, "expected 535, got %r %r" % (code, text)
    assert text.startswith("5.7.8 Error: authentication failed: "), text
    assert client_text in text, "client text %r not in %r" % (client_text, text)
    ref = ref_of(text)
    assert ref, "no ref in %r" % text
    ev = S["gate"].event(ref)
    assert ev["result"] == "fail" and ev["cause"] == cause, ev["_line"]
    assert ev.get("hint"), ev["_line"]
    return ev


def dovecot_saw(user):
    return user in S["lab"].dovecot_log_text()


def unread_by(pids):
    """Bytes waiting, unread, in the connected unix sockets of these processes (ss -x)."""
    out = subprocess.run(["ss", "-x", "-p", "-H"], capture_output=True, text=True).stdout
    return sum(int(l.split()[2]) for l in out.splitlines()
               if l.split()[1] == "ESTAB" and any("pid=%d," % p in l for p in pids))


def last_event(pred):
    evs = [e for e in S["gate"].events() if pred(e)]
    return evs[-1] if evs else None


@suite.test
def pass_plain_starttls():
    code, text = swaks_auth("alice@example.test", "correct horse")
    assert code == 235, (code, text)
    ev = S["gate"].wait_events(lambda e: e["result"] == "pass" and e["mech"] == "PLAIN")[-1]
    assert ev["user"] == "alice@example.test" and ev["tls"] == "yes", ev["_line"]
    assert ev["ip"] == "127.0.0.1" and int(ev["smtpd_pid"]) in S["lab"].smtpd_pids(), ev["_line"]
    assert len(ev["ref"]) >= 8 and "cause" not in ev, ev["_line"]


@suite.test
def pass_login_implicit_tls():
    n = len(S["gate"].events())
    code, text = swaks_auth("alice@example.test", "correct horse", mech="LOGIN", tls="implicit")
    assert code == 235, (code, text)
    evs = S["gate"].events()[n:]
    assert len(evs) == 1, [e["_line"] for e in evs]
    assert evs[0]["result"] == "pass" and evs[0]["mech"] == "LOGIN" and evs[0]["tls"] == "yes"


@suite.test
def mechanism_names_case_blind():
    """SMTP mechanism names are case-blind (RFC 4954): Postfix passes AUTH plain on as typed."""
    user, pw = "alice@example.test", "correct horse"
    n = len(S["gate"].events())
    for mech in ("plain", "Plain"):
        s = S["lab"].smtp_connect(starttls=True)
        try:
            code, resp = s.docmd("AUTH", "%s %s" % (mech, b64("\0%s\0%s" % (user, pw))))
        finally:
            s.close()
        assert code == 235, (mech, code, resp)
    s = S["lab"].smtp_connect(starttls=True)
    try:
        assert s.docmd("AUTH", "login")[0] == 334
        assert s.docmd(b64(user))[0] == 334
        code, resp = s.docmd(b64(pw))
    finally:
        s.close()
    assert code == 235, (code, resp)
    evs = S["gate"].events()[n:]
    assert [(e["result"], e["mech"]) for e in evs] == \
        [("pass", "PLAIN"), ("pass", "PLAIN"), ("pass", "LOGIN")], [e["_line"] for e in evs]


@suite.test
def bad_password():
    expect_fail(swaks_auth("alice@example.test", "wrong horse"), "bad-password",
                "wrong password for this account")


@suite.test
def unknown_user():
    ev = expect_fail(swaks_auth("nosuchuser@example.test", "whatever1"), "unknown-user",
                     "no such account")
    assert ev["user"] == "nosuchuser@example.test"
    # the control: this one did reach Dovecot (its log process writes a moment after the answer)
    S["lab"].wait_log(S["lab"].dovecot_log, "nosuchuser@example.test")


@suite.test
def app_password_spaces():
    ev = expect_fail(swaks_auth("alice@example.test", "abcd efgh ijkl mnop"),
                     "app-password-spaces", "without the spaces")
    assert ev["mech"] == "PLAIN"


@suite.test
def app_password_required():
    expect_fail(swaks_auth("bob@example.test", "Bobs-Normal-Pass9"), "app-password-required",
                "needs an app password")
    code, _ = swaks_auth("bob@example.test", "abcdefghijklmnop")
    assert code == 235       # the flagged account still works with its app password


@suite.test
def oauth_required_never_reaches_dovecot():
    expect_fail(swaks_auth("carol@example.test", "Carol-Pass-1"), "oauth-required", "OAuth2")
    assert not dovecot_saw("carol@example.test")


@suite.test
def account_disabled_by_map():
    expect_fail(swaks_auth("frozen@example.test", "anything1"), "account-disabled",
                "this account is disabled")
    assert not dovecot_saw("frozen@example.test")


@suite.test
def account_disabled_by_dovecot():
    expect_fail(swaks_auth("disabled@example.test", "anything1"), "account-disabled",
                "this account is disabled")


@suite.test
def password_expired_by_dovecot():
    expect_fail(swaks_auth("expired@example.test", "anything1"), "password-expired",
                "the password has expired")


@suite.test
def tls_required_plain_and_login_never_reach_dovecot():
    for mech, user in (("PLAIN", "cleartext-plain@example.test"),
                       ("LOGIN", "cleartext-login@example.test")):
        ev = expect_fail(swaks_auth(user, "secret-in-clear", mech=mech, tls="none"),
                         "tls-required", "TLS is required before AUTH: use STARTTLS on port "
                         "587 or TLS on port 465")
        assert ev["tls"] == "no" and ev["mech"] == mech, ev["_line"]
        assert not dovecot_saw(user), "%s reached Dovecot" % user
    # PLAIN with an initial response: the user name is known and logged (never the password)
    assert last_event(lambda e: e.get("cause") == "tls-required" and e["mech"] == "PLAIN")[
        "user"] == "cleartext-plain@example.test"


@suite.test
def tls_exempt_network():
    n = len([e for e in S["gate"].events() if e["result"] == "pass"])
    code, text = swaks_auth("alice@example.test", "correct horse", tls="none", li="127.0.0.5")
    assert code == 235, (code, text)
    # the gate answers, then logs: wait for this attempt's line
    ev = S["gate"].wait_events(lambda e: e["result"] == "pass", count=n + 1)[n]
    assert ev["ip"] == "127.0.0.5" and ev["tls"] == "no", ev["_line"]


@suite.test
def malformed_initial_response():
    # Invalid base64 never gets here through Postfix: smtpd answers it itself ("Invalid base64
    # data in initial response"); the gate's own check is tested below with the raw protocol.
    s = S["lab"].smtp_connect(starttls=True)
    try:
        for resp in (b64("alice@example.test correct horse"), b64("\0alice@example.test\0")):
            code, msg = s.docmd("AUTH PLAIN", resp)
            expect_fail((code, msg.decode()), "malformed-response", "malformed AUTH response")
    finally:
        s.close()


@suite.test
def malformed_continuation():
    s = S["lab"].smtp_connect(starttls=True)
    try:
        code, _ = s.docmd("AUTH PLAIN")
        assert code == 334
        code, msg = s.docmd(b64("alice@example.test\0correct horse"))   # one NUL only
        ev = expect_fail((code, msg.decode()), "malformed-response", "malformed")
        assert "NUL" in ev.get("detail", ""), ev["_line"]
    finally:
        s.close()


@suite.test
def authzid_mismatch_never_reaches_dovecot():
    s = S["lab"].smtp_connect(starttls=True)
    try:
        code, msg = s.docmd("AUTH PLAIN", b64("zed@example.test\0alice@example.test\0correct horse"))
        expect_fail((code, msg.decode()), "authzid-mismatch", "authorization identity")
    finally:
        s.close()
    assert not dovecot_saw("zed@example.test")


@suite.test
def smtplib_wrong_password_two_attempts():
    n = len(S["gate"].events())
    PASSWORDS.setdefault("carol2", set()).add("Wrong-Pass-77")
    code, text = S["lab"].smtplib_login("alice@example.test", "Wrong-Pass-77")
    assert code == 535 and ref_of(text), (code, text)
    evs = S["gate"].events()[n:]
    # smtplib tries PLAIN, then LOGIN: two attempts, two refs, one smtpd
    assert [e["mech"] for e in evs] == ["PLAIN", "LOGIN"], [e["_line"] for e in evs]
    assert all(e["cause"] == "bad-password" for e in evs)
    assert evs[0]["ref"] != evs[1]["ref"] and evs[1]["ref"] == ref_of(text)
    assert evs[0]["smtpd_pid"] == evs[1]["smtpd_pid"]
    code, text = S["lab"].smtplib_login("alice@example.test", "correct horse")
    assert code == 235, (code, text)


@suite.test
def client_abort_then_retry():
    s = S["lab"].smtp_connect(starttls=True)
    n = len(S["gate"].events())
    try:
        code, _ = s.docmd("AUTH LOGIN")
        assert code == 334
        code, _ = s.docmd("*")
        assert code == 501
        code, msg = s.docmd("AUTH PLAIN", b64("\0alice@example.test\0correct horse"))
        assert code == 235, msg
    finally:
        s.close()
    evs = S["gate"].wait_events(lambda e: True, count=n + 2)[n:]
    assert [e["result"] for e in evs] == ["abort", "pass"], [e["_line"] for e in evs]


@suite.test
def dovecot_temp_fail_gives_454():
    n = len(S["gate"].events())
    code, text = swaks_auth("tempfail@example.test", "anything1")
    assert code == 454 and text.startswith("4.7.0"), (code, text)
    ev = S["gate"].wait_events(lambda e: e["user"] == "tempfail@example.test")[-1]
    assert ev["cause"] == "auth-service-unavailable", ev["_line"]
    assert len(S["gate"].events()) == n + 1
    code, _ = swaks_auth("alice@example.test", "correct horse")
    assert code == 235      # the same smtpd reconnects at its next session


@suite.test
def dovecot_down_then_back():
    lab = S["lab"]
    lab.stop_dovecot()
    try:
        code, text = swaks_auth("alice@example.test", "correct horse")
        assert code == 454 and "4.7.0" in text, (code, text)
        ev = last_event(lambda e: True)
        assert ev["cause"] == "auth-service-unavailable" and ev["user"] == "alice@example.test"
        # the handshake still works while Dovecot is down
        c = GateClient(S["gate"].socket)
        assert b"MECH\tPLAIN\tplaintext" in c.handshake and c.handshake[-1] == b"DONE"
        c.close()
    finally:
        lab.start_dovecot()
    code, text = swaks_auth("alice@example.test", "correct horse")
    assert code == 235, (code, text)


@suite.test
def dovecot_slow_answers_in_time():
    lab = S["lab"]
    pids = lab.dovecot_auth_pids()
    for p in pids:
        os.kill(p, signal.SIGSTOP)
    try:
        t0 = time.time()
        code, text = swaks_auth("alice@example.test", "correct horse")
        took = time.time() - t0
    finally:
        for p in pids:
            os.kill(p, signal.SIGCONT)
    assert code == 454, (code, text)
    assert took < 9, "took %.1fs: Postfix's 10 s would have run out" % took
    ev = last_event(lambda e: True)
    assert ev["cause"] == "auth-service-unavailable", ev["_line"]
    code, text = swaks_auth("alice@example.test", "correct horse")
    assert code == 235, (code, text)


@suite.test
def dovecot_killed_mid_request():
    lab = S["lab"]
    c = GateClient(S["gate"].socket)
    try:
        pids = lab.dovecot_auth_pids()
        for p in pids:
            os.kill(p, signal.SIGSTOP)
        c.send(auth_line(1, "PLAIN", resp=b64("\0alice@example.test\0correct horse")))
        wait_until(lambda: unread_by(pids) > 0, 10, "the request to reach the stopped Dovecot")
        lab.stop_dovecot()
        assert c.closed(timeout=2.5), "gate kept the connection of a lost request"
    finally:
        c.close()
        lab.start_dovecot()
    ev = last_event(lambda e: True)
    assert ev["cause"] == "auth-service-unavailable" and "auth" in ev["event"]


@suite.test
def handshake_mirrors_real_dovecot():
    # Dovecot 2.3 answers its clients with protocol 1.2, Dovecot 2.4 with 1.3; the gate answers
    # Postfix with 1.2 either way and offers exactly Dovecot's mechanisms, in Dovecot's order.
    lab = S["lab"]
    dovecot = auth_client_handshake(lab.auth_client_socket)
    want = "VERSION\t1\t3" if lab.dovecot_version >= (2, 4) else "VERSION\t1\t2"
    assert dovecot[0] == want, (lab.dovecot_version, dovecot)
    c = GateClient(S["gate"].socket)
    try:
        ours = [l.decode() for l in c.handshake]
    finally:
        c.close()
    assert ours[0] == "VERSION\t1\t2" and ours[-1] == "DONE", ours
    mechs = [l for l in dovecot if l.startswith("MECH\t")]
    assert mechs == ["MECH\tPLAIN\tplaintext", "MECH\tLOGIN\tplaintext"], dovecot
    assert [l for l in ours if l.startswith("MECH\t")] == mechs, (ours, dovecot)


@suite.test
def bad_input_from_the_smtpd_side():
    gate = S["gate"]
    idle = GateClient(gate.socket)
    idle.send("AUTH\t1\tPLA")              # half a line, left hanging
    c = GateClient(gate.socket)
    try:
        # a line over 16 KiB: its request fails as malformed, with a ref
        c.send(auth_line(1, "PLAIN", resp="A" * 20000))
        line = c.line().decode()
        assert line.startswith("FAIL\t1\t") and "malformed" in line, line
        assert gate.event(ref_of(line))["cause"] == "malformed-response"
        # NUL bytes: the request fails as malformed; unknown commands: logged and ignored
        c.send(b"AUTH\t2\tPL\0AIN\tservice=smtp\n")
        line = c.line().decode()
        assert line.startswith("FAIL\t2\t") and gate.event(ref_of(line))["cause"] == \
            "malformed-response", line
        c.send("FROBNICATE\tnow\n")
        # invalid base64
        c.send(auth_line(3, "PLAIN", resp="@@@@"))
        line = c.line().decode()
        assert line.startswith("FAIL\t3\t") and gate.event(ref_of(line))["cause"] == \
            "malformed-response", line
        # CONT for an id nobody knows
        c.send("CONT\t99\tAAAA\n")
        line = c.line().decode()
        assert line.startswith("FAIL\t99\t"), line
        # a line of 1 MiB
        c.send("CONT\t5\t" + "B" * (1 << 20) + "\n")
        # and the same connection still works
        c.send(auth_line(6, "PLAIN", resp=b64("\0alice@example.test\0correct horse")))
        line = c.line().decode()
        assert line.startswith("OK\t6\tuser=alice@example.test"), line
    finally:
        c.close()
        idle.close()
    log = gate.log_text()
    assert "NUL byte" in log and "unknown command" in log and "longer than" in log


@suite.test
def smtpd_side_closes_mid_request():
    gate = S["gate"]
    c = GateClient(gate.socket)
    c.send(auth_line(1, "PLAIN", resp=b64("\0gone-away@example.test\0pw-1")))
    c.close()
    ev = gate.wait_events(lambda e: e["user"] == "gone-away@example.test")[-1]
    assert ev["result"] == "fail" and ev["cause"] == "unknown-user", ev["_line"]
    c = GateClient(gate.socket)          # and others are still served
    c.send(auth_line(2, "PLAIN", resp=b64("\0alice@example.test\0correct horse")))
    assert c.line().startswith(b"OK\t2\t")
    c.close()


@suite.test
def every_attempt_one_line_no_secrets():
    gate, lab = S["gate"], S["lab"]
    refs = [e["ref"] for e in gate.events()]
    assert len(refs) == len(set(refs)), "a ref was logged twice"
    texts = {"gate log": gate.log_text(), "maillog": lab.maillog_text(),
             "dovecot log": lab.dovecot_log_text()}
    for root, _dirs, files in os.walk(gate.state_dir):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                texts["state " + f] = fh.read().decode("latin-1")
    for user, pws in PASSWORDS.items():
        for pw in pws:
            needles = [pw, b64(pw), b64("\0%s\0%s" % (user, pw))]
            for where, text in texts.items():
                for n in needles:
                    assert n not in text, "a password (%r) appears in %s" % (pw, where)
    st = os.stat(gate.state_dir)
    assert st.st_mode & 0o077 == 0, "state_dir is readable by others"


if __name__ == "__main__":
    suite.run(setup, teardown)
