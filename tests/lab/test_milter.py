#!/usr/bin/env python3
"""authguard-milter: the miltertest scripts of tests/milter (Postfix- and Sendmail-style macro
sets, hostile input, missing macros) against the milter with and without authguard-policyd, under
valgrind too; then end to end through the lab's Postfix (gate, policy service and milter) to
smtp-sink, reading the headers of the delivered messages."""

import email
import email.policy
import os
import signal
import smtplib
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab, wait_until  # noqa: E402
from gatelab import BUILD, teardown_suite, Gate, b64, new_gate_dir, ref_of  # noqa: E402
from milterlab import Milter  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("milter")
S = {}
SERVID = "mx.example.test"
ALICE, ALICE_PW = "alice@example.test", "correct horse"
HERE = os.path.dirname(os.path.abspath(__file__))
SANITIZED = "asan" in os.path.basename(os.path.normpath(BUILD))


def milter_main_cf(d, policy):
    """What conf-examples/postfix-main.cf tells the admin to add."""
    return {
        "smtpd_relay_restrictions": "check_policy_service unix:%s, permit_sasl_authenticated, "
                                    "reject_unauth_destination" % policy,
        "smtpd_policy_service_policy_context": "submission",
        "smtpd_milters": "unix:" + os.path.join(d, "milter.sock"),
        "milter_default_action": "accept",
        "milter_macro_daemon_name": "ORIGINATING",
        "milter_connect_macros": "j {daemon_name} {daemon_addr} v _ {client_addr} {client_port}",
        "milter_helo_macros": "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}",
        "milter_mail_macros": "i {auth_type} {auth_authen} {auth_author} {mail_addr} "
                              "{mail_host} {mail_mailer} {tls_version} {cipher}",
        "smtpd_recipient_limit": "1000",
    }


def setup():
    d = S["dir"] = new_gate_dir()
    policy = os.path.join(d, "policy")
    S["lab"] = Lab(sasl_path=os.path.join(d, "auth"), extra_main_cf=milter_main_cf(d, policy))
    S["lab"].start_dovecot()
    S["gate"] = Gate(S["lab"], d, policy_listen="unix:" + policy, guessing_threshold="255",
                     account_fail_limit="255/1m", ip_fail_limit="255/1m").start()
    S["milter"] = Milter(d, control=S["gate"].control, authserv_id=SERVID,
                         milter_submission_daemons="ORIGINATING MSA",
                         tls_exempt_networks="127.0.0.2/32").start()
    S["lab"].start_postfix()


def teardown():
    errors = []
    for m in S.get("milters", []) + [S.get("milter")]:
        if m is not None:
            rc = m.stop()
            if rc not in (0, None):
                errors.append("authguard-milter exited %s:\n%s" % (rc, m.log_text()[-3000:]))
    try:
        teardown_suite(S)
    except AssertionError as e:
        errors.append(str(e))
    if errors:
        raise AssertionError("\n".join(errors))


def extra_milter(name, **conf):
    """A second milter instance (own socket and config), stopped at teardown."""
    m = Milter(S["dir"], name=name, **conf).start()
    S.setdefault("milters", []).append(m)
    return m


def run_script(m, script, policyd):
    """One miltertest script: its lines are results of their own; it must end cleanly."""
    lines, rc = m.miltertest(script, policyd)
    for line in lines:
        print(line if line.startswith(("ok ", "not ok ")) else "# " + line)
    sys.stdout.flush()
    bad = [l for l in lines if l.startswith("not ok")]
    assert rc == 0 and not bad, "miltertest %s: rc=%s, %d failures" % (script, rc, len(bad))
    assert any(l.startswith("ok ") for l in lines), "miltertest %s printed no result" % script


@suite.test
def miltertest_postfix_macros():
    run_script(S["milter"], "auth_postfix", policyd=True)


@suite.test
def miltertest_sendmail_macros():
    run_script(S["milter"], "cleartext_sendmail", policyd=True)


@suite.test
def miltertest_hostile_input():
    run_script(S["milter"], "hostile", policyd=True)


@suite.test
def miltertest_missing_macros():
    run_script(S["milter"], "macros", policyd=True)


@suite.test
def miltertest_policyd_down():
    m = extra_milter("nopolicyd", milter_submission_daemons="ORIGINATING MSA",
                     tls_exempt_networks="127.0.0.2/32", milter_control_timeout="200ms")
    t0 = time.time()
    run_script(m, "auth_postfix", policyd=False)
    assert time.time() - t0 < 20
    assert "session details unavailable" in m.log_text(), m.log_text()


@suite.test
def miltertest_policyd_hung():
    """authguard-policyd stopped (SIGSTOP): its socket accepts, nothing answers; each message
    waits milter_control_timeout at most, then goes on with details=unavailable."""
    m = extra_milter("hung", control=S["gate"].control, milter_control_timeout="300ms")
    S["gate"].proc.send_signal(signal.SIGSTOP)
    try:
        t0 = time.time()
        run_script(m, "auth_postfix", policyd=False)
        took = time.time() - t0
    finally:
        S["gate"].proc.send_signal(signal.SIGCONT)
    assert took < 5, took
    assert "session details unavailable" in m.log_text() and "timed out" in m.log_text()


@suite.test
def miltertest_headers_switched_off():
    m = extra_milter("headersoff", milter_auth_results="no", milter_header_user="no")
    run_script(m, "headers_off", policyd=False)


# One session as Postfix drives the milter, with the client address and the mechanism the
# client typed in the macros (globals CLIENT, MECH, QID): the diagnostic header it inserts.
ONE_FORM_LUA = """
dofile(DIR .. "/common.lua")
local conn = open({"j", "lab.example.test", "{daemon_name}", "ORIGINATING",
	"{client_addr}", CLIENT, "{client_port}", "40003"}, POSTFIX_TLS)
check(mail(conn, {"i", QID, "{auth_type}", MECH, "{auth_authen}", "alice@example.test",
	"{mail_addr}", "alice@example.test"}) == SMFIR_CONTINUE, "MAIL continues")
message(conn, {})
local flat = string.gsub(tostring(mt.getheader(conn, "X-Authguard", 0)), "%s+", " ")
print("HEADER " .. flat)
mt.disconnect(conn)
"""


def one_form(client, mech):
    """The X-Authguard header and the event=milter line of one message through miltertest."""
    script = os.path.join(S["dir"], "one_form.lua")
    with open(script, "w") as f:
        f.write(ONE_FORM_LUA)
    qid = "Q" + os.urandom(5).hex().upper()
    m = S["milter"]
    p = subprocess.run(["/usr/bin/miltertest", "-D", "SOCK=unix:" + m.socket,
                        "-D", "SERVID=" + SERVID, "-D", "SCRIPT=one_form",
                        "-D", "DIR=" + os.path.join(HERE, "..", "milter"),
                        "-D", "CLIENT=" + client, "-D", "MECH=" + mech, "-D", "QID=" + qid,
                        "-s", script], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=60)
    lines = p.stdout.splitlines()
    assert p.returncode == 0 and not [l for l in lines if l.startswith("not ok")], p
    header = [l[7:] for l in lines if l.startswith("HEADER ")]
    assert len(header) == 1, lines
    wait_until(lambda: any(e.get("queue_id") == qid for e in m.events()), 5,
               "the milter's line for %s" % qid)
    ev = [e for e in m.events() if e.get("queue_id") == qid]
    assert len(ev) == 1, ev
    return " ".join(header[0].split()), ev[0]


@suite.test
def mechanism_typed_in_lower_case_shows_upper_case():
    """{auth_type} is what the client typed (Postfix passes "AUTH plain" on as "plain"):
    mechanism names are case-blind (RFC 4954), so the header and the log say PLAIN."""
    for typed in ("plain", "Plain", "PLAIN", "login"):
        d, ev = one_form("127.0.0.1", typed)
        assert "auth=%s;" % typed.upper() in d + ";", (typed, d)
        assert ev["sasl_method"] == typed.upper(), (typed, ev["_line"])


@suite.test
def client_address_in_one_form():
    """An IPv4-mapped {client_addr} is its IPv4, Sendmail's "IPv6:" literal a bare address, in
    the milter's log line, as the daemon counts and logs them."""
    for given, want in (("::ffff:192.0.2.77", "192.0.2.77"), ("::FFFF:C000:24D", "192.0.2.77"),
                        ("IPv6:2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
                        ("IPv6:::ffff:192.0.2.78", "192.0.2.78"), ("192.0.2.79", "192.0.2.79")):
        d, ev = one_form(given, "PLAIN")
        assert ev["client_address"] == want, (given, ev["_line"])


if not SANITIZED:
    @suite.test
    def valgrind_miltertest_suite():
        """The same scripts against the milter under valgrind: no error, no leak."""
        m = Milter(S["dir"], name="valgrind", valgrind=True, control=S["gate"].control,
                   authserv_id=SERVID, milter_submission_daemons="ORIGINATING MSA",
                   tls_exempt_networks="127.0.0.2/32").start(timeout=60)
        try:
            for script in ("auth_postfix", "cleartext_sendmail", "hostile", "macros"):
                run_script(m, script, policyd=True)
        finally:
            rc = m.stop()
        assert rc == 0, "valgrind reported errors (exit %s):\n%s" % (rc, m.log_text()[-4000:])


# --- end to end through Postfix ---------------------------------------------------------------

def delivered(marker, timeout=30):
    """The message smtp-sink stored whose Subject carries marker, parsed."""
    found = []

    def look():
        for path in S["lab"].sink_messages():
            with open(path, "rb") as f:
                raw = f.read()
            if marker.encode() in raw:
                found.append(raw)
                return True
        return False
    wait_until(look, timeout, "delivery of %s" % marker)
    return email.message_from_bytes(found[0], policy=email.policy.compat32), found[0]


def session(source, starttls=True):
    return S["lab"].smtp_connect(starttls=starttls, source_address=source)


def auth_plain(s, user, password):
    return s.docmd("AUTH", "PLAIN " + b64("\0%s\0%s" % (user, password)))


@suite.test
def fail_then_pass_headers_delivered():
    """535 then 235 in one session: A-R auth=pass and X-Authguard naming the failure and its ref;
    forged headers gone, a foreign A-R and a 64 KiB header line kept."""
    s = session("127.0.0.21")
    code, text = auth_plain(s, ALICE, "wrong password")
    assert code == 535, (code, text)
    fail_ref = ref_of(text.decode())
    code, text = auth_plain(s, ALICE, ALICE_PW)
    assert code == 235, (code, text)
    big = "x" * 65536
    body = ("From: <alice@example.test>\r\nTo: <bob@example.net>\r\n"
            "Subject: e2e-fail-then-pass\r\n"
            "Authentication-Results: %s; auth=pass smtp.auth=mallory@example.test\r\n"
            "Authentication-Results: (forged) \"%s\"; auth=pass\r\n"
            "Authentication-Results: other.example; spf=pass smtp.mailfrom=example.test\r\n"
            "X-Authguard: ref=FORGED0000; failed=none\r\n"
            "X-Long: %s\r\n\r\nhello\r\n" % (SERVID, SERVID.upper(), big))
    s.sendmail(ALICE, ["bob@example.net"], body)
    s.quit()
    msg, raw = delivered("e2e-fail-then-pass")
    ars = msg.get_all("Authentication-Results")
    ours = [a for a in ars if SERVID in a.lower()]
    assert ours == ["%s; auth=pass smtp.auth=%s" % (SERVID, ALICE)], ars
    assert any(a.startswith("other.example;") for a in ars), ars
    diag = msg.get_all("X-Authguard")
    assert len(diag) == 1, diag
    d = " ".join(diag[0].split())
    assert "failed=bad-password/%s" % fail_ref in d, (fail_ref, d)
    assert "auth=PLAIN" in d and "user=%s" % ALICE in d and "tls=TLSv1." in d, d
    pass_ev = [e for e in S["gate"].events() if e.get("result") == "pass"
               and e.get("ip") == "127.0.0.21"]
    assert pass_ev, S["gate"].events()[-3:]
    assert "auth-ref=%s" % pass_ev[-1]["ref"] in d, (pass_ev[-1]["ref"], d)
    # The door of the story, as the daemon's session answer gives it: smtpd's.
    assert "auth-ref=%s; proto=smtp; failed=" % pass_ev[-1]["ref"] in d, d
    # Postfix's SMTP client folds lines over smtp_line_length_limit (998).  With a milter on
    # smtpd_milters, Postfix itself keeps about the first 60,000 bytes of a 64 KiB header line
    # (the same with milter_auth_results = milter_diag_header = no, when the milter changes
    # nothing); without a milter the line arrives whole.  The milter must neither crash nor
    # lose the rest of the message.
    got = "".join((msg["X-Long"] or "").split())
    assert 59000 <= len(got) <= len(big) and set(got) == {"x"}, len(got)
    # Ours are inserted at the top: Postfix puts them right under its own Received: line,
    # above the headers the client sent.
    top = raw.index(b"Authentication-Results: " + SERVID.encode())
    assert raw.index(b"Received:") < top < raw.index(b"From: <alice"), raw[:400]
    ev = [e for e in S["milter"].events() if e.get("action") == "accept"
          and e.get("sasl_username") == ALICE and e.get("failed") == "1"]
    assert ev and ev[-1]["ref"] in d, S["milter"].events()[-2:]
    assert ev[-1]["proto"] == "smtp" and ev[-1]["auth_ref"] == pass_ev[-1]["ref"], ev[-1]


@suite.test
def clean_session_says_failed_none():
    s = session("127.0.0.22")
    assert auth_plain(s, ALICE, ALICE_PW)[0] == 235
    s.sendmail(ALICE, ["bob@example.net"], "Subject: e2e-clean\r\n\r\nhi\r\n")
    s.quit()
    msg, _ = delivered("e2e-clean")
    d = " ".join(msg["X-Authguard"].split())
    assert "failed=none" in d and "auth-ref=" in d and "; proto=smtp;" in d, d


@suite.test
def unauthenticated_after_failed_auth_refused_at_mail():
    s = session("127.0.0.23")
    code, text = auth_plain(s, ALICE, "nope")
    assert code == 535
    fail_ref = ref_of(text.decode())
    code, text = s.docmd("MAIL", "FROM:<alice@example.test>")
    text = text.decode()
    s.close()
    assert code == 530 and "5.7.0" in text, (code, text)
    ref = ref_of(text)
    assert ref and ref != fail_ref, text
    ev = [e for e in S["milter"].events() if e.get("ref") == ref]
    assert len(ev) == 1 and ev[0]["cause"] == "auth-failed-then-sent", ev


@suite.test
def auth_plain_typed_lower_case_through_postfix():
    """AUTH plain through Postfix: the delivered message's X-Authguard says auth=PLAIN, and so
    does the milter's line (needs the gate to take mechanism names in any case)."""
    s = session("127.0.0.27")
    code, text = s.docmd("AUTH", "plain " + b64("\0%s\0%s" % (ALICE, ALICE_PW)))
    assert code == 235, (code, text)
    s.sendmail(ALICE, ["bob@example.net"], "Subject: e2e-plain-lower\r\n\r\nhi\r\n")
    s.quit()
    msg, _ = delivered("e2e-plain-lower")
    d = " ".join(msg["X-Authguard"].split())
    assert "auth=PLAIN;" in d + ";" and "auth=plain" not in d, d
    ev = [e for e in S["milter"].events() if e.get("action") == "accept"
          and e.get("client_address") == "127.0.0.27"]
    assert ev and ev[-1]["sasl_method"] == "PLAIN", S["milter"].events()[-2:]


@suite.test
def thousand_recipients():
    s = session("127.0.0.24")
    assert auth_plain(s, ALICE, ALICE_PW)[0] == 235
    rcpts = ["r%d@example.net" % i for i in range(1000)]
    refused = s.sendmail(ALICE, rcpts, "Subject: e2e-1000\r\n\r\nhi\r\n")
    s.quit()
    assert refused == {}, list(refused.items())[:3]
    msg, _ = delivered("e2e-1000")
    assert msg["Authentication-Results"] == "%s; auth=pass smtp.auth=%s" % (SERVID, ALICE)


@suite.test
def milter_killed_mail_still_flows():
    """milter_default_action = accept: without the milter, mail goes on (without headers)."""
    m = S["milter"]
    m.stop(signal.SIGKILL)
    try:
        s = session("127.0.0.25")
        assert auth_plain(s, ALICE, ALICE_PW)[0] == 235
        s.sendmail(ALICE, ["bob@example.net"], "Subject: e2e-nomilter\r\n\r\nhi\r\n")
        s.quit()
        msg, _ = delivered("e2e-nomilter")
        assert msg["X-Authguard"] is None
    finally:
        m.start()
    s = session("127.0.0.26")
    assert auth_plain(s, ALICE, ALICE_PW)[0] == 235
    s.sendmail(ALICE, ["bob@example.net"], "Subject: e2e-milter-back\r\n\r\nhi\r\n")
    s.quit()
    msg, _ = delivered("e2e-milter-back")
    assert msg["X-Authguard"] is not None


@suite.test
def config_check():
    m = S["milter"]
    p = subprocess.run([os.path.join(BUILD, "authguard-milter"), "-t", "-c", m.conf_path],
                       capture_output=True, text=True)
    assert p.returncode == 0 and "configuration ok" in p.stdout, p
    bad = os.path.join(S["dir"], "bad-servid.conf")
    with open(bad, "w") as f:
        f.write("authserv_id = mx.example.test; evil\n")
    p = subprocess.run([os.path.join(BUILD, "authguard-milter"), "-t", "-c", bad],
                       capture_output=True, text=True)
    assert p.returncode == 1 and "authserv_id" in p.stderr, p
    example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                           "conf-examples", "authguard.conf")
    p = subprocess.run([os.path.join(BUILD, "authguard-milter"), "-t", "-c", example],
                       capture_output=True, text=True)
    assert p.returncode == 0 and "configuration ok" in p.stdout, p


if __name__ == "__main__":
    suite.run(setup, teardown)
