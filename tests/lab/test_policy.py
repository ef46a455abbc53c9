#!/usr/bin/env python3
"""The policy service through real Postfix: each MAIL/RCPT cause from a real client, with the
reply text and the one event=policy log line of the same ref; authenticated mail passes; a
malformed request gets the default action and the connection goes on."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab  # noqa: E402
from gatelab import teardown_suite, Gate, b64, new_gate_dir, ref_of, swaks_auth_reply  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("policy")
S = {}


def policy_main_cf(path):
    return {
        # the policy answers before Postfix's own "Relay access denied"
        "smtpd_relay_restrictions": "check_policy_service unix:%s, permit_sasl_authenticated, "
                                    "reject_unauth_destination" % path,
        "smtpd_policy_service_policy_context": "submission",
    }


def setup():
    d = S["dir"] = new_gate_dir()
    S["policy"] = os.path.join(d, "policy")
    S["lab"] = Lab(sasl_path=os.path.join(d, "auth"), extra_main_cf=policy_main_cf(S["policy"]))
    S["lab"].start_dovecot()
    S["gate"] = Gate(S["lab"], d, policy_listen="unix:" + S["policy"],
                     guessing_threshold="255").start()
    S["lab"].start_postfix()


def teardown():
    teardown_suite(S)


def recv_reply(c):
    buf = b""
    while not buf.endswith(b"\n\n"):
        chunk = c.recv(4096)
        assert chunk, "policy service closed the connection"
        buf += chunk
    return buf


def policy_event(text):
    ref = ref_of(text)
    assert ref, text
    evs = [e for e in S["gate"].events("policy") if e.get("ref") == ref]
    assert len(evs) == 1, (ref, evs)
    return evs[0]


def rcpt_reply(*args):
    rc, out = S["lab"].swaks("--from", "someone@example.test", "--quit-after", "RCPT", *args)
    for line in out.splitlines():
        if "RCPT TO" in line:
            seen = True
        elif line.startswith(("<-", "<~", "<**", "<~*")) and "seen" in locals():
            code = line.split()[1]
            return int(code), line.split(None, 2)[2]
    raise AssertionError(out)


@suite.test
def no_auth_no_tls():
    code, text = rcpt_reply()
    assert code == 530 and text.startswith("5.7.0 ") and \
        "authentication required: use STARTTLS, then AUTH (ref=" in text, text
    ev = policy_event(text)
    assert ev["cause"] == "no-auth-no-tls" and ev["protocol_state"] == "RCPT", ev["_line"]


@suite.test
def no_auth_attempted():
    code, text = rcpt_reply("-tls")
    assert code == 530 and "enable SMTP authentication" in text, text
    assert policy_event(text)["cause"] == "no-auth-attempted"


@suite.test
def auth_failed_then_sent():
    s = S["lab"].smtp_connect(starttls=True)
    try:
        code, msg = s.docmd("AUTH PLAIN", b64("\0alice@example.test\0not-her-password"))
        assert code == 535
        auth_ref = ref_of(msg.decode())
        s.mail("alice@example.test")
        code, msg = s.rcpt("someone@example.net")
    finally:
        s.close()
    text = msg.decode()
    assert code == 530 and "authentication failed earlier" in text, text
    ev = policy_event(text)
    assert ev["cause"] == "auth-failed-then-sent" and ev["auth_ref"] == auth_ref, ev["_line"]


@suite.test
def a_new_session_is_not_blamed_for_the_last_one():
    s = S["lab"].smtp_connect(starttls=True)
    try:
        s.docmd("AUTH PLAIN", b64("\0alice@example.test\0not-her-password"))
        s.mail("alice@example.test")
        s.rcpt("someone@example.net")
    finally:
        s.close()
    code, text = rcpt_reply("-tls")          # same address, same smtpd, next session
    assert policy_event(text)["cause"] == "no-auth-attempted", text


@suite.test
def authenticated_mail_is_delivered():
    before = len(S["lab"].sink_messages())
    rc, out = S["lab"].swaks("-tls", "-a", "PLAIN", "-au", "alice@example.test", "-ap",
                             "correct horse", "--from", "alice@example.test")
    assert rc == 0, out
    deadline = time.time() + 15           # delivery to the sink is asynchronous
    while len(S["lab"].sink_messages()) < before + 1 and time.time() < deadline:
        time.sleep(0.1)
    assert len(S["lab"].sink_messages()) == before + 1
    evs = [e for e in S["gate"].events("policy") if e.get("sasl_username") ==
           "alice@example.test"]
    assert evs and all(e["action"] == "DUNNO" for e in evs), [e["_line"] for e in evs]


@suite.test
def malformed_request_gets_default_and_connection_goes_on():
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(5)
    c.connect(S["policy"])
    try:
        c.sendall(b"request=smtpd_access_policy\nthis line is not an attribute\n\n")
        assert recv_reply(c) == b"action=DUNNO\n\n"
        c.sendall(b"request=smtpd_access_policy\nprotocol_state=RCPT\n"
                  b"policy_context=submission\nclient_address=192.0.2.1\n"
                  b"unknown_attribute=ignored\n\n")
        reply = recv_reply(c).decode()
        assert reply.startswith("action=530 5.7.0 ") and reply.endswith("\n\n"), reply
    finally:
        c.close()
    assert "not a name=value line" in S["gate"].log_text()


@suite.test
def cleartext_auth_behind_a_misrouted_listener():
    # A listener whose smtpd talks to Dovecot directly (no gate) lets a cleartext AUTH
    # succeed; the policy service still catches the mail it tries to send.
    d = S["dir"]
    lab2 = Lab(sasl_path=None, extra_main_cf=policy_main_cf(S["policy"]))
    try:
        lab2.start()
        rc, out = lab2.swaks("-a", "PLAIN", "-au", "alice@example.test", "-ap",
                             "correct horse", "--from", "alice@example.test",
                             "--quit-after", "RCPT")
        assert "235 " in out, out
        line = [l for l in out.splitlines() if l.startswith("<**") and "530" in l]
        assert line, out
        text = line[-1].split(None, 2)[2]
        assert "without TLS" in text, text
        assert policy_event(text)["cause"] == "cleartext-auth"
    finally:
        lab2.stop()


if __name__ == "__main__":
    suite.run(setup, teardown)
