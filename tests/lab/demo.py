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
    gatelab.BUILD = os.path.abspath(sys.argv[1])
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
    policy = os.path.join(gdir, "policy")
    lab = Lab(sasl_path=os.path.join(gdir, "auth"), extra_main_cf={
        "smtpd_relay_restrictions": "check_policy_service unix:%s, permit_sasl_authenticated, "
                                    "reject_unauth_destination" % policy,
        "smtpd_policy_service_policy_context": "submission"})
    gate = None
    try:
        with open(os.path.join(gdir, "accounts"), "w") as f:
            f.write("bob@example.test app-password-required\ncarol@example.test oauth-only\n"
                    "frozen@example.test disabled\n")
        subprocess.run(["postmap", "-c", lab.postfix_dir, "cdb:" + gdir + "/accounts"],
                       check=True)
        lab.start_dovecot()
        gate = Gate(lab, gdir, accounts_map=gdir + "/accounts.cdb", upstream_timeout="3s",
                    client_detail="full", guessing_threshold="255", policy_listen="unix:" + policy,
                    account_fail_limit="3/10m").start()
        lab.start_postfix()
        print("lab: Postfix submission 127.0.0.1:%d (STARTTLS), 127.0.0.1:%d (TLS), "
              "Dovecot, authguard-policyd (client_detail = full, account_fail_limit = 3/10m, "
              "policy service on)" % (lab.submission_port, lab.smtps_port))
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
        limits_and_policy(lab, gate)
        helpdesk_walk(lab, gate)
    finally:
        if gate:
            gate.stop()
        lab.stop()
        subprocess.run(["rm", "-rf", gdir])


def plain_auth(lab, user, password, src, tls=True):
    s = lab.smtp_connect(starttls=tls, source_address=src)
    try:
        code, msg = s.docmd("AUTH PLAIN", b64("\0%s\0%s" % (user, password)))
        return "%d %s" % (code, msg.decode())
    finally:
        s.close()


def logged(gate, text):
    if text.startswith("235"):
        return gate.events()[-1]["_line"].split(": ", 1)[1]
    ref = ref_of(text)
    lines = [e["_line"].split(": ", 1)[1] for kind in ("auth", "policy")
             for e in gate.events(kind) if e.get("ref") == ref]
    return lines[0] if lines else "(none)"


def limits_and_policy(lab, gate):
    """The failure limits, the familiar address, the policy service and authguard why."""
    reply = plain_auth(lab, "alice@example.test", "correct horse", "127.0.0.21")
    show("alice logs in from her phone (127.0.0.21)", reply, logged(gate, reply))
    for i in range(3):
        reply = plain_auth(lab, "alice@example.test", "guess-%d" % i, "127.0.0.66")
    show("an attacker's third wrong password for alice (127.0.0.66)", reply, logged(gate, reply))
    reply = plain_auth(lab, "alice@example.test", "correct horse", "127.0.0.66")
    show("the attacker again, even with the right password: refused before Dovecot", reply,
         logged(gate, reply) + "\n           " + "\n           ".join(
             e["_line"].split(": ", 1)[1] for e in gate.events("lock")))
    reply = plain_auth(lab, "alice@example.test", "correct horse", "127.0.0.21")
    show("alice's phone, a familiar address, still gets in", reply, logged(gate, reply))
    rc, out = lab.swaks("-tls", "--from", "someone@example.test", "--quit-after", "RCPT")
    text = [l for l in out.splitlines() if " 530 " in l][-1].split(None, 1)[1]
    show("a client with TLS but no credentials configured sends mail (policy service)", text,
         logged(gate, text))
    out = subprocess.run([os.path.join(gatelab.BUILD, "authguard"), "-s", gate.control, "why",
                          "127.0.0.66"], capture_output=True, text=True).stdout
    print("\n## authguard why 127.0.0.66")
    print("\n".join("   " + l for l in out.splitlines()))


def run_cli(*args, password=None):
    env = dict(os.environ, AUTHGUARD_PASSWORD=password) if password else None
    p = subprocess.run([os.path.join(gatelab.BUILD, "authguard")] + list(args),
                       capture_output=True, text=True, env=env)
    return p.stdout + p.stderr


def helpdesk_walk(lab, gate):
    """A user calls: "my mail app says 535". From the ref to the fix, with the admin's tools."""
    print("\n# The helpdesk walk")
    print("\n## Bob's phone (2FA account) sends his account password; his app shows:")
    # The lab's certificate is self-signed (for lab.example.test, not 127.0.0.1): --insecure.
    out = run_cli("probe", "127.0.0.1:%d" % lab.submission_port, "--user", "bob@example.test",
                  "--insecure", password="Bobs-Old-Password")
    print("\n".join("   " + l for l in out.splitlines()))
    ref = [l.split()[-1] for l in out.splitlines() if l.startswith("ref ")][0]
    print("\n## Bob reads the ref to the helpdesk: authguard why %s" % ref)
    out = run_cli("-s", gate.control, "why", ref)
    print("\n".join("   " + l for l in out.splitlines()))
    print("\n## The fix: Bob creates an app password and enters it (without spaces)")
    out = run_cli("probe", "127.0.0.1:%d" % lab.submission_port, "--user", "bob@example.test",
                  "--insecure", password="abcdefghijklmnop")
    print("\n".join("   " + l for l in out.splitlines() if l.split(" ")[0] in
                     ("auth", "result", "source", "meaning")))
    print("\n## Who else is failing: authguard top --since 1h")
    out = run_cli("-s", gate.control, "top", "--since", "1h")
    print("\n".join("   " + l for l in out.splitlines()))


if __name__ == "__main__":
    main()
