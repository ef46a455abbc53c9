#!/usr/bin/env python3
"""make demo: a real Postfix + Dovecot on loopback with authguard-policyd in between; each
scenario is played by a real client (swaks or Python's smtplib) and printed as the client's
reply beside the gate's log line with the same ref."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gatelab  # noqa: E402
from lab import Lab  # noqa: E402
from gatelab import Gate, b64, new_gate_dir, ref_of, swaks_auth_reply  # noqa: E402

if len(sys.argv) > 1:
    gatelab.POLICYD = os.path.join(os.path.abspath(sys.argv[1]), "authguard-policyd")

SCENARIOS = [
    ("right password, STARTTLS", "alice@example.test", "correct horse", "PLAIN", "starttls"),
    ("right password, LOGIN on 465", "alice@example.test", "correct horse", "LOGIN", "implicit"),
    ("wrong password", "alice@example.test", "Correct Horse", "PLAIN", "starttls"),
    ("unknown user", "alcie@example.test", "correct horse", "PLAIN", "starttls"),
    ("app password pasted with spaces", "bob@example.test", "abcd efgh ijkl mnop", "PLAIN",
     "starttls"),
    ("2FA account, normal password", "bob@example.test", "Bobs-Old-Password", "PLAIN",
     "starttls"),
    ("OAuth-only account, password", "carol@example.test", "Carol-Pass-1", "PLAIN", "starttls"),
    ("account disabled in accounts_map", "frozen@example.test", "anything", "PLAIN",
     "starttls"),
    ("account disabled in Dovecot", "disabled@example.test", "anything", "PLAIN", "starttls"),
    ("password expired in Dovecot", "expired@example.test", "anything", "PLAIN", "starttls"),
    ("AUTH before STARTTLS (PLAIN)", "alice@example.test", "correct horse", "PLAIN", "none"),
    ("AUTH before STARTTLS (LOGIN)", "alice@example.test", "correct horse", "LOGIN", "none"),
    ("Dovecot internal failure", "tempfail@example.test", "anything", "PLAIN", "starttls"),
]


def show(title, reply, line):
    print("\n## %s" % title)
    print("   client: %s" % reply)
    print("   log:    %s" % (line or "(none)"))


def main():
    gdir = new_gate_dir()
    lab = Lab(sasl_path=os.path.join(gdir, "auth"))
    gate = None
    try:
        with open(os.path.join(gdir, "accounts"), "w") as f:
            f.write("bob@example.test app-password-required\ncarol@example.test oauth-only\n"
                    "frozen@example.test disabled\n")
        subprocess.run(["postmap", "-c", lab.postfix_dir, "cdb:" + gdir + "/accounts"],
                       check=True)
        lab.start_dovecot()
        gate = Gate(lab, gdir, accounts_map=gdir + "/accounts.cdb", upstream_timeout="3s",
                    client_detail="full", guessing_threshold="255").start()
        lab.start_postfix()
        print("lab: Postfix submission 127.0.0.1:%d (STARTTLS), 127.0.0.1:%d (TLS), "
              "Dovecot, authguard-policyd (client_detail = full)" %
              (lab.submission_port, lab.smtps_port))
        for title, user, pw, mech, tls in SCENARIOS:
            n = len(gate.events())
            args = ["-a", mech, "-au", user, "-ap", pw, "--quit-after", "AUTH"]
            port = lab.smtps_port if tls == "implicit" else None
            args += {"starttls": ["-tls"], "implicit": ["-tlsc"], "none": []}[tls]
            code, text = swaks_auth_reply(lab.swaks(*args, port=port)[1])
            evs = gate.wait_events(lambda e: True, count=n + 1)[n:]
            show(title + " (swaks)", "%s %s" % (code, text), evs[-1]["_line"].split(": ", 1)[1])
        n = len(gate.events())
        code, text = lab.smtplib_login("alice@example.test", "wrong horse")
        evs = gate.wait_events(lambda e: True, count=n + 2)[n:]
        show("wrong password (Python smtplib: PLAIN, then LOGIN)", "%s %s" % (code, text),
             "\n           ".join(e["_line"].split(": ", 1)[1] for e in evs))
        s = lab.smtp_connect(starttls=True)
        code, msg = s.docmd("AUTH PLAIN", b64("alice@example.test\0correct horse"))
        s.close()
        show("PLAIN without its authorization-id NUL (script bug)", "%s %s" % (code, msg.decode()),
             gate.event(ref_of(msg.decode()))["_line"].split(": ", 1)[1])
        lab.stop_dovecot()
        n = len(gate.events())
        code, text = swaks_auth_reply(lab.swaks("-tls", "-a", "PLAIN", "-au", "alice@example.test",
                                                "-ap", "correct horse", "--quit-after",
                                                "AUTH")[1])
        evs = gate.wait_events(lambda e: True, count=n + 1)[n:]
        show("Dovecot is down", "%s %s" % (code, text), evs[-1]["_line"].split(": ", 1)[1])
        lab.start_dovecot()
        code, text = swaks_auth_reply(lab.swaks("-tls", "-a", "PLAIN", "-au", "alice@example.test",
                                                "-ap", "correct horse", "--quit-after",
                                                "AUTH")[1])
        show("Dovecot is back (nothing restarted)", "%s %s" % (code, text),
             gate.events()[-1]["_line"].split(": ", 1)[1])
    finally:
        if gate:
            gate.stop()
        lab.stop()
        subprocess.run(["rm", "-rf", gdir])


if __name__ == "__main__":
    main()
