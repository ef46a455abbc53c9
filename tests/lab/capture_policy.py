#!/usr/bin/env python3
"""Record what Dovecot's auth policy client really sends, and what login clients see of the answer.

Runs the lab's Dovecot with its imap, pop3 and sieve login services and its policy client pointed
at tests/lab/policyspy.py, drives real clients (imaplib, poplib, curl, a ManageSieve dialog, and
SMTP AUTH through Postfix and authguard-policyd's gate), and prints for each case what the client
saw, every policy request (URL, headers, body) and, where it matters, the time it took and
Dovecot's log lines about the policy.

    sudo python3 tests/lab/capture_policy.py [--fixtures DIR] [CASE ...]   (default: all cases)

--fixtures DIR writes each captured body to DIR/<name>.json (tests/fixtures/authpolicy/ holds
one such capture from Dovecot 2.3.19).  It runs against whichever Dovecot is installed and prints
its version first.
"""

import hashlib
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab, POLICY_NONCE, plain_response, dovecot_version, _recv_lines  # noqa: E402
from policyspy import PolicySpy, closed_port  # noqa: E402

ALICE, ALICE_PW = "alice@example.test", "correct horse"
API_HEADER = "X-API-Key:lab-api-key"
FIXTURES = {}   # name -> body (bytes)


def pwhash(nonce, user, password, bits=12):
    """Dovecot's pwhash: sha256(nonce || user || NUL || password), the first `bits` bits as a
    number in ceil(bits/8) bytes (buffer_truncate_rshift_bits), lower-case hex; bits=0: whole."""
    d = hashlib.sha256(nonce.encode() + user.encode() + b"\0" + password.encode()).digest()
    if bits == 0:
        return d.hex()
    n = int.from_bytes(d, "big") >> (len(d) * 8 - bits)
    return n.to_bytes((bits + 7) // 8, "big").hex()


class Run:
    """One lab (Dovecot with logins and policy, optionally Postfix + the gate) and its spy."""

    def __init__(self, policy=None, gate=False, extra=""):
        self.spy = PolicySpy().start()
        pol = {"url": self.spy.url, "api_header": API_HEADER}
        pol.update(policy or {})
        self.gate = None
        sasl = "gate/auth" if gate else None
        self.lab = Lab(logins=("imap", "pop3", "sieve"), auth_policy=pol, auth_debug=True,
                       sasl_path=sasl, extra_dovecot_conf=extra)
        self.lab.start_dovecot()
        if gate:
            from gatelab import Gate
            gdir = os.path.join(self.lab.dir, "gate")
            os.makedirs(gdir, mode=0o755)
            self.gate = Gate(self.lab, gdir, upstream_timeout="5s").start()
            self.lab.start_postfix()
        self.mark = 0
        self.logmark = 0

    def begin(self, title):
        print("\n" + "=" * 100 + "\n" + title + "\n" + "=" * 100, flush=True)
        self.mark = len(self.spy.requests())
        self.logmark = Lab.log_mark(self.lab.dovecot_log)

    def show(self, names=(), settle=0.4, loglines=("policy", "Policy")):
        time.sleep(settle)
        reqs = self.spy.requests()[self.mark:]
        for i, r in enumerate(reqs):
            hdr = {k: v for k, v in r.headers.items() if k not in ("Date", "Host")}
            print("  %s %s  %s" % (r.method, r.path, json.dumps(hdr)))
            print("    " + r.body.decode("utf-8", "replace"))
            if i < len(names) and names[i]:
                FIXTURES[names[i]] = r.body
        print("  [dovecot log]")
        for line in self.lab.dovecot_log_text(self.logmark).splitlines():
            if any(k in line for k in loglines) and "http-client" not in line \
                    and "request JSON" not in line:
                print("    " + line)
        self.mark += len(reqs)
        self.logmark = Lab.log_mark(self.lab.dovecot_log)
        return reqs

    def stop(self):
        if self.gate:
            self.gate.stop()
        self.lab.stop()
        self.spy.stop()


def timed(fn, *args, **kw):
    t0 = time.monotonic()
    r = fn(*args, **kw)
    return r, time.monotonic() - t0


def auth_by_hand(path, lines, timeout=10):
    """Send auth-client lines to Dovecot's socket, return its answers to the AUTH lines."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(b"VERSION\t1\t0\nCPID\t%d\n" % os.getpid())
        _recv_lines(s, ("DONE",), timeout)
        out = []
        for line in lines:
            s.sendall(line.encode() + b"\n")
            out += _recv_lines(s, ("OK\t", "FAIL\t", "CONT\t"), timeout)[-1:]
        return out


# --- the cases ----------------------------------------------------------------------------------

def case_basic(R):
    R.begin("1. IMAP LOGIN, right password (imaplib)")
    print("  client:", R.lab.imap_login(ALICE, ALICE_PW))
    R.show(("allow-imap", "allow-imap-after-auth", "report-imap-success"))

    R.begin("2. IMAP LOGIN, wrong password (imaplib)")
    print("  client:", R.lab.imap_login(ALICE, "wrong password"))
    R.show(("allow-imap-badpass", "report-imap-fail"))

    R.begin("3. IMAP LOGIN, unknown user (imaplib)")
    print("  client:", R.lab.imap_login("nobody@example.test", "whatever"))
    R.show(("allow-imap-unknown", "report-imap-unknown"))

    R.begin("4. IMAP STARTTLS + LOGIN, right password (imaplib)")
    print("  client:", R.lab.imap_login(ALICE, ALICE_PW, starttls=True))
    R.show((None, None, "report-imap-tls-success"))

    R.begin("5. IMAP LOGIN from 127.0.0.2, wrong password")
    print("  client:", R.lab.imap_login(ALICE, "wrong password", source_address="127.0.0.2"))
    R.show((None, "report-imap-fail-remote2"))

    R.begin("6. POP3 USER/PASS right password, then wrong password (poplib)")
    print("  client:", R.lab.pop3_login(ALICE, ALICE_PW))
    print("  client:", R.lab.pop3_login(ALICE, "wrong password"))
    R.show(("allow-pop3", None, "report-pop3-success", "allow-pop3-badpass", "report-pop3-fail"))

    R.begin("7. ManageSieve AUTHENTICATE PLAIN, right password")
    print("  client:", R.lab.sieve_login(ALICE, ALICE_PW))
    R.show(("allow-sieve", None, "report-sieve-success"))

    R.begin("8. curl imap:// right password, pop3:// wrong password")
    rc, out = R.lab.curl_login("imap", ALICE, ALICE_PW)
    print("  curl imap rc=%d" % rc)
    rc, out = R.lab.curl_login("pop3", ALICE, "wrong password")
    print("  curl pop3 rc=%d: %s" % (rc, out.strip().splitlines()[-1]))
    R.show()

    R.begin("9. special accounts: user_disabled, pass_expired, internal failure (imaplib)")
    for user in ("disabled@example.test", "expired@example.test", "tempfail@example.test"):
        print("  client %s:" % user, R.lab.imap_login(user, "any"))
    R.show((None, "report-imap-disabled", None, "report-imap-expired", None,
            "report-imap-tempfail"))

    R.begin("10. IMAP ID (name \"LabMail\") then LOGIN (imap_id_retain = yes): device_id")
    import imaplib
    c = imaplib.IMAP4("127.0.0.1", R.lab.imap_port)
    print("  ID:", c.xatom("ID", '("name" "LabMail" "version" "1.0")'))
    try:
        print("  client:", c.login(ALICE, ALICE_PW))
        c.logout()
    except imaplib.IMAP4.error as e:
        print("  client:", e)
    R.show(("allow-imap-device-id",))

    R.begin("11. auth-client AUTH by hand, service=smtp with session=XYZ (as the gate could send)")
    resp = plain_response(ALICE, "wrong password")
    print("  dovecot:", auth_by_hand(R.lab.auth_client_socket, [
        "AUTH\t1\tPLAIN\tservice=smtp\tsession=AG7K2M4P9Q\tlip=127.0.0.1\trip=127.0.0.9\t"
        "lport=587\trport=40000\tsecured=tls\tresp=" + resp]))
    R.show(("allow-smtp-session", "report-smtp-session-fail"))

    R.begin("12. pwhash check: the bodies' pwhash against the Python computation")
    seen = set()
    for r in R.spy.requests():
        j = r.json
        for pw in (ALICE_PW, "wrong password"):
            if j and j.get("login") == ALICE and (pw, j["pwhash"]) not in seen \
                    and j["pwhash"] == pwhash(POLICY_NONCE, ALICE, pw):
                seen.add((pw, j["pwhash"]))
                print("  %s / %r -> Dovecot %s, Python %s" % (ALICE, pw, j["pwhash"],
                                                             pwhash(POLICY_NONCE, ALICE, pw)))


def case_gate(R):
    R.begin("13. SMTP AUTH through Postfix -> authguard-policyd gate -> Dovecot (swaks PLAIN)")
    rc, out = R.lab.swaks("-tls", "-a", "PLAIN", "-au", ALICE, "-ap", "wrong password",
                          "--quit-after", "AUTH")
    print("  swaks:", [l for l in out.splitlines() if l.startswith("<~") and "535" in l])
    R.show(("allow-smtp-gate-badpass", "report-smtp-gate-fail"))
    rc, out = R.lab.swaks("-tls", "-a", "PLAIN", "-au", ALICE, "-ap", ALICE_PW,
                          "--quit-after", "AUTH")
    print("  swaks:", [l for l in out.splitlines() if l.startswith("<~") and "235" in l])
    R.show(("allow-smtp-gate", None, "report-smtp-gate-success"))


def case_answers(R):
    lab, spy = R.lab, R.spy
    R.begin("14. allow answered {\"status\": -1, \"msg\": ...} (right password)")
    spy.answer = {"status": -1, "msg": "Account locked by policy (ref=AG7K2M4P9Q)"}
    print("  imap:", timed(lab.imap_login, ALICE, ALICE_PW))
    print("  pop3:", timed(lab.pop3_login, ALICE, ALICE_PW))
    print("  sieve:", timed(lab.sieve_login, ALICE, ALICE_PW))
    rc, out = lab.curl_login("imap", ALICE, ALICE_PW)
    print("  curl imap rc=%d: %s" % (rc, [l for l in out.splitlines() if "NO" in l or "BAD" in l]))
    R.show((None, "report-imap-policy-reject"))
    spy.answer = {"status": -1, "msg": ""}
    R.begin("15. allow answered {\"status\": -1} without a msg (wrong password)")
    print("  imap:", timed(lab.imap_login, ALICE, "wrong password"))
    R.show()

    R.begin("16. allow answered {\"status\": 2, \"msg\": \"slow down\"} (right password)")
    spy.answer = {"status": 2, "msg": "slow down"}
    print("  imap:", timed(lab.imap_login, ALICE, ALICE_PW))
    R.show()

    R.begin("17. allow answered HTTP 500 (right password)")
    spy.answer = PolicySpy.HTTP_500
    print("  imap:", timed(lab.imap_login, ALICE, ALICE_PW))
    R.show()

    R.begin("18. allow answered garbage (right password)")
    spy.answer = PolicySpy.GARBAGE
    print("  imap:", timed(lab.imap_login, ALICE, ALICE_PW))
    R.show()

    R.begin("19. allow answered {\"status\": 0} after 3 s (timeout 2000 ms by default)")
    spy.answer = ("sleep", 3.0)
    print("  imap:", timed(lab.imap_login, ALICE, ALICE_PW))
    R.show(settle=3.5)
    spy.answer = {"status": 0, "msg": ""}


def case_noserver(reject_on_fail):
    """The policy URL points at a closed port."""
    port = closed_port()
    spy_url = "http://127.0.0.1:%d/policy" % port
    lab = Lab(logins=("imap",), auth_policy={"url": spy_url, "reject_on_fail": reject_on_fail},
              auth_debug=True)
    try:
        lab.start_dovecot()
        print("\n" + "=" * 100)
        print("20%s. no policy server (connection refused), auth_policy_reject_on_fail = %s"
              % ("b" if reject_on_fail else "a", "yes" if reject_on_fail else "no"))
        print("=" * 100)
        mark = Lab.log_mark(lab.dovecot_log)
        print("  imap right password:", timed(lab.imap_login, ALICE, ALICE_PW))
        print("  imap wrong password:", timed(lab.imap_login, ALICE, "wrong password"))
        time.sleep(0.3)
        for line in lab.dovecot_log_text(mark).splitlines():
            if ("olicy" in line and "http-client" not in line and "JSON" not in line) \
                    or "Error" in line:
                print("    " + line)
    finally:
        lab.stop()


def case_reject_on_fail():
    R = Run(policy={"reject_on_fail": True})
    try:
        R.begin("21. auth_policy_reject_on_fail = yes: allow answered HTTP 500, garbage, 3 s late")
        for ans in (PolicySpy.HTTP_500, PolicySpy.GARBAGE, ("sleep", 3.0)):
            R.spy.answer = ans
            print("  %r imap:" % (ans,), timed(R.lab.imap_login, ALICE, ALICE_PW))
        R.show(settle=3.5)
    finally:
        R.stop()


def case_timeout():
    R = Run(policy={"timeout_ms": 500})
    try:
        R.begin("22. auth_policy_server_timeout_msecs = 500: allow answered after 3 s")
        R.spy.answer = ("sleep", 3.0)
        print("  imap:", timed(R.lab.imap_login, ALICE, ALICE_PW))
        R.show(settle=3.0)
    finally:
        R.stop()


PWHASH_CASES = (
    ("alice@example.test", "correct horse"),
    ("alice@example.test", "wrong password"),
    ("Alice@Example.TEST", "correct horse"),
    ("nobody@example.test", ""),
    ("carol@example.test", "p\u00e4ss w\u00f6rd"),
)


def case_pwhash():
    """Dovecot's pwhash for known nonces, users, passwords and truncations, against pwhash()."""
    print("\n" + "=" * 100 + "\n23. pwhash vectors (auth-client AUTH PLAIN by hand, service=smtp)\n"
          + "=" * 100)
    for nonce, bits in (("lab-policy-nonce", None), ("lab-policy-nonce", 0),
                        ("lab-policy-nonce", 8), ("lab-policy-nonce", 13),
                        ("lab-policy-nonce", 16), ("another nonce", 12), ("n", 255)):
        spy = PolicySpy().start()
        pol = {"url": spy.url, "nonce": nonce}
        if bits is not None:
            pol["hash_truncate"] = bits
        lab = Lab(auth_policy=pol)
        try:
            lab.start_dovecot()
            for i, (user, pw) in enumerate(PWHASH_CASES):
                spy.clear()
                auth_by_hand(lab.auth_client_socket, [
                    "AUTH\t%d\tPLAIN\tservice=smtp\tlip=127.0.0.1\trip=127.0.0.1\tresp=%s"
                    % (i + 1, plain_response(user, pw))])
                got = spy.wait(1, "allow")[0].json
                want = pwhash(nonce, got["login"], pw, 12 if bits is None else bits)
                print("  nonce=%r truncate=%s user=%r login=%r password=%r pwhash=%s python=%s %s"
                      % (nonce, "default(12)" if bits is None else bits, user, got["login"], pw,
                         got["pwhash"], want, "MATCH" if want == got["pwhash"] else "DIFFER"))
        finally:
            lab.stop()
            spy.stop()


def main():
    args = sys.argv[1:]
    fixtures = None
    if args[:1] == ["--fixtures"]:
        fixtures, args = args[1], args[2:]
    want = set(args)
    print("Dovecot %s" % ".".join(map(str, dovecot_version())))

    def on(name):
        return not want or name in want

    if on("basic") or on("gate") or on("answers"):
        R = Run(gate=on("gate"), extra="protocol imap {\n  imap_id_retain = yes\n}\n")
        try:
            if on("basic"):
                case_basic(R)
            if on("gate"):
                case_gate(R)
            if on("answers"):
                case_answers(R)
        finally:
            R.stop()
    if on("noserver"):
        case_noserver(False)
        case_noserver(True)
    if on("reject"):
        case_reject_on_fail()
    if on("timeout"):
        case_timeout()
    if on("pwhash"):
        case_pwhash()
    if fixtures:
        os.makedirs(fixtures, exist_ok=True)
        for name, body in FIXTURES.items():
            with open(os.path.join(fixtures, name + ".json"), "wb") as f:
                f.write(body + b"\n")
        print("\nwrote %d fixtures to %s" % (len(FIXTURES), fixtures))


if __name__ == "__main__":
    main()
