#!/usr/bin/env python3
"""Relayed mechanisms (CRAM-MD5, SCRAM-SHA-256) through real Postfix and Dovecot.

The gate relays mechanisms other than PLAIN and LOGIN to Dovecot. These tests assert that they
work (right password: 235, wrong password: 535 with a ref and its log line), and that an account
locked by its failure limit is locked for them too, before Dovecot: with client_detail = safe the
right and the wrong password get the same replies, and Dovecot's auth process never hears of the
account (auth_debug logs every passdb lookup by user name, which the unlocked cases show).

Python's smtplib speaks CRAM-MD5 (smtplib.SMTP.auth_cram_md5); SCRAM-SHA-256 (RFC 5802, 7677)
is written here.
"""

import base64
import hashlib
import hmac
import os
import re
import smtplib
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab, USERS  # noqa: E402
from gatelab import (teardown_suite, Gate, GateClient, auth_line, b64, new_gate_dir,  # noqa: E402
                     ref_of)
from tap import Suite  # noqa: E402

suite = Suite("relay")
S = {}
MECHS = "plain login cram-md5 scram-sha-256"
# Every lookup by user name is logged (auth_debug): the observable that Dovecot was asked.
DOVECOT_DEBUG = "auth_debug = yes\n"
CONF = dict(client_detail="safe", account_fail_limit="2/15m", ip_fail_limit="255/15m",
            lockout_time="15m", lockout_max="15m", guessing_threshold="255",
            upstream_timeout="5s")


def setup():
    S["dir"] = new_gate_dir()
    lab = S["lab"] = Lab(sasl_path=os.path.join(S["dir"], "auth"), auth_mechanisms=MECHS,
                         extra_dovecot_conf=DOVECOT_DEBUG)
    lab.start_dovecot()
    S["gate"] = Gate(lab, S["dir"], **CONF).start()
    lab.start_postfix()


def teardown():
    teardown_suite(S)


def connect(src):
    return S["lab"].smtp_connect(starttls=True, source_address=src)


def cram_md5(user, password, src="127.0.0.1"):
    """One AUTH CRAM-MD5 (smtplib's own): (code, text, rounds of 334)."""
    s = connect(src)
    rounds = []
    try:
        if "cram-md5" not in s.esmtp_features.get("auth", "").lower():
            raise AssertionError("CRAM-MD5 not offered: %r" % s.esmtp_features.get("auth"))
        s.user, s.password = user, password

        def answer(challenge):
            rounds.append(challenge)
            return s.auth_cram_md5(challenge)
        try:
            code, resp = s.auth("CRAM-MD5", answer, initial_response_ok=False)
        except smtplib.SMTPAuthenticationError as e:
            code, resp = e.smtp_code, e.smtp_error
        return code, resp.decode("utf-8", "replace"), len(rounds)
    finally:
        s.close()


def _scram_escape(name):
    return name.replace("=", "=3D").replace(",", "=2C")


def scram_sha256(user, password, src="127.0.0.1"):
    """One AUTH SCRAM-SHA-256 (RFC 5802/7677) with an initial response: (code, text, rounds of
    334). The server signature is checked when the server sends it."""
    s = connect(src)
    rounds = 0
    try:
        if "scram-sha-256" not in s.esmtp_features.get("auth", "").lower():
            raise AssertionError("SCRAM-SHA-256 not offered: %r" % s.esmtp_features.get("auth"))
        nonce = base64.b64encode(os.urandom(18)).decode()
        bare = "n=%s,r=%s" % (_scram_escape(user), nonce)
        code, resp = s.docmd("AUTH", "SCRAM-SHA-256 " + b64("n,," + bare))
        if code != 334:
            return code, resp.decode("utf-8", "replace"), rounds
        rounds += 1
        first = base64.b64decode(resp).decode()
        attrs = dict(kv.split("=", 1) for kv in first.split(","))
        if not attrs["r"].startswith(nonce):
            raise AssertionError("server nonce does not extend ours: %r" % first)
        salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(attrs["s"]),
                                     int(attrs["i"]))
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        stored = hashlib.sha256(client_key).digest()
        without_proof = "c=biws,r=" + attrs["r"]
        message = ",".join([bare, first, without_proof]).encode()
        signature = hmac.new(stored, message, hashlib.sha256).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        final = without_proof + ",p=" + base64.b64encode(proof).decode()
        code, resp = s.docmd(b64(final))
        if code == 334:
            rounds += 1
            server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
            expect = base64.b64encode(hmac.new(server_key, message, hashlib.sha256).digest())
            got = base64.b64decode(resp).decode()
            if got != "v=" + expect.decode():
                raise AssertionError("server signature wrong: %r" % got)
            code, resp = s.docmd("")
        return code, resp.decode("utf-8", "replace"), rounds
    finally:
        s.close()


def plain(user, password, src):
    s = connect(src)
    try:
        code, resp = s.docmd("AUTH PLAIN", b64("\0%s\0%s" % (user, password)))
        return code, resp.decode()
    finally:
        s.close()


def without_ref(text):
    return re.sub(r"\(ref=[0-9A-Z]+\)", "(ref=*)", text)


def dovecot_barrier():
    """Return once Dovecot's log holds all that its auth process logged so far: a lookup of
    another name on auth-userdb, logged by the same process after anything before it."""
    lab = S["lab"]
    S["barrier"] = S.get("barrier", 0) + 1
    name = "barrier-%d@example.test" % S["barrier"]
    lab.userdb_lookup(name)
    lab.wait_log(lab.dovecot_log, name)


def asked(user, since):
    """Lines of Dovecot's log after `since` that name the user (auth_debug: every lookup)."""
    dovecot_barrier()
    return [l for l in S["lab"].dovecot_log_text(since).splitlines() if user in l]


def check_pass(mech, fn, user, src):
    dovecot_barrier()
    mark = S["lab"].log_mark(S["lab"].dovecot_log)
    code, text, _ = fn(user, USERS[user], src)
    assert code == 235, (mech, code, text)
    ev = S["gate"].wait_events(lambda e: e.get("result") == "pass" and e.get("mech") == mech
                               and e.get("user") == user)[-1]
    assert re.match(r"^[0-9A-Z]{8,}$", ev.get("ref", "")), ev
    assert asked(user, mark), "Dovecot's log does not name %s: the observable is gone" % user


def check_fail(mech, fn, user, src):
    dovecot_barrier()
    mark = S["lab"].log_mark(S["lab"].dovecot_log)
    code, text, _ = fn(user, "not " + USERS[user], src)
    assert code == 535, (mech, code, text)
    ref = ref_of(text)
    assert ref, text
    ev = S["gate"].event(ref)
    assert ev["result"] == "fail" and ev["mech"] == mech and ev["user"] == user, ev
    assert ev["cause"] in ("bad-password", "bad-credentials"), ev
    assert asked(user, mark), "Dovecot's log does not name %s: the observable is gone" % user


@suite.test
def cram_md5_right_and_wrong():
    check_pass("CRAM-MD5", cram_md5, "alice@example.test", "127.0.0.2")
    check_fail("CRAM-MD5", cram_md5, "alice@example.test", "127.0.0.2")


@suite.test
def scram_sha256_right_and_wrong():
    check_pass("SCRAM-SHA-256", scram_sha256, "alice@example.test", "127.0.0.3")
    check_fail("SCRAM-SHA-256", scram_sha256, "alice@example.test", "127.0.0.3")


def lock(user, src):
    """account_fail_limit = 2: two different wrong PLAIN passwords (a repeated one counts
    once) lock the account; the third attempt says so."""
    for i in range(2):
        code, text = plain(user, "wrong-%d-%s" % (i, USERS[user]), src)
        assert code == 535 and "too many" not in text, (code, text)
    code, text = plain(user, "wrong-2-" + USERS[user], src)
    ev = S["gate"].event(ref_of(text))
    assert code == 535 and "too many failed attempts for this account" in text, (code, text, ev)
    assert ev["cause"] == "account-locked", ev


def check_locked(mech, fn, user, src):
    lock(user, src)
    dovecot_barrier()       # the lock's own lookups are logged before the mark
    mark = S["lab"].log_mark(S["lab"].dovecot_log)
    right = fn(user, USERS[user], src)
    wrong = fn(user, "not " + USERS[user], src)
    for reply in (right, wrong):
        ev = S["gate"].event(ref_of(reply[1]) or "none")
        assert ev["user"] == user and ev["mech"] == mech, ev
    problems = []
    shown = [(c, without_ref(t), r) for c, t, r in (right, wrong)]
    if shown[0] != shown[1]:
        problems.append("the replies (code, text, rounds of 334) tell the right password from "
                        "a wrong one: right %r, wrong %r" % (right, wrong))
    for reply in (right, wrong):
        if reply[0] != 535 or "too many failed attempts for this account" not in reply[1]:
            problems.append("not refused as locked: %r" % (reply,))
    lines = asked(user, mark)
    if lines:
        problems.append("Dovecot was asked about the locked account (%d log lines):\n%s"
                        % (len(lines), "\n".join(lines)))
    assert not problems, "\n".join(problems)


@suite.test
def cram_md5_locked_account():
    check_locked("CRAM-MD5", cram_md5, "carol@example.test", "127.0.0.4")


@suite.test
def scram_sha256_locked_account():
    check_locked("SCRAM-SHA-256", scram_sha256, "bob@example.test", "127.0.0.5")



@suite.test
def unoffered_mechanism_costs_nobody_a_454():
    """A mechanism Dovecot did not list is refused by the gate as malformed: relayed, Dovecot
    would take it as a protocol error and drop its connection, and the attempt another client
    has in flight on it would get 454."""
    gate, user = S["gate"], "alice@example.test"
    a, b = GateClient(gate.socket), GateClient(gate.socket)
    try:
        a.send(auth_line(1, "cram-md5"))            # case-blind; at Dovecot, its challenge back
        line = a.line().decode()
        assert line.startswith("CONT\t1\t"), line
        challenge = base64.b64decode(line.split("\t")[2])
        b.send(auth_line(1, "NTLM", resp=b64("TlRMTVNTUAAB")))
        line = b.line().decode()
        assert line.startswith("FAIL\t1\t") and "malformed" in line, line
        ev = gate.event(ref_of(line))
        assert ev["cause"] == "malformed-response" and ev["mech"] == "NTLM", ev["_line"]
        assert "mechanism NTLM is not offered by Dovecot" in ev["detail"], ev["_line"]
        digest = hmac.new(USERS[user].encode(), challenge, hashlib.md5).hexdigest()
        a.send("CONT\t1\t%s\n" % b64("%s %s" % (user, digest)))
        line = a.line().decode()                     # the same Dovecot connection answers
        assert line.startswith("OK\t1\t"), line
        assert gate.wait_events(lambda e: e["result"] == "pass" and e["mech"] == "CRAM-MD5")
    finally:
        a.close()
        b.close()
    log = S["lab"].dovecot_log_text()
    assert "unsupported authentication mechanism" not in log, log[-2000:]


if __name__ == "__main__":
    suite.run(setup, teardown)
