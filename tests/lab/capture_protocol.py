"""Record what Postfix and Dovecot really say to each other (and to SMTP clients), verbatim.

Runs the lab with tests/lab/sockspy.py between Postfix (smtpd_sasl_path) and Dovecot's auth-client
socket, drives SMTP clients through each case, and prints for each case:
  the SMTP dialog as the client saw it (C: / S:), the auth-client lines (Postfix -> Dovecot is
  "C>S", Dovecot -> Postfix is "S>C"; tabs shown as \\t), and the new maillog lines.
Some cases make the spy rewrite Dovecot's FAIL line or drop the connection ("S>C*" is what
the spy forwarded instead of the line above it).

    sudo python3 tests/lab/capture_protocol.py [CASE ...]     (cases 1-10, default all)

It runs against whichever Dovecot is installed (2.3 on Debian 12, 2.4 on Debian 13) and prints
its version first; the unit tests quote lines captured this way (tests/unit/test_authproto24.c).
"""

import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as labmod  # noqa: E402
from lab import Lab, b64, plain_response  # noqa: E402
from sockspy import SockSpy, escape  # noqa: E402

ALICE, ALICE_PW = "alice@example.test", "correct horse"


class Capture:
    def __init__(self, lab, spy):
        self.lab, self.spy = lab, spy
        self._rec = 0
        self._log = 0

    def begin(self, title):
        print("\n" + "=" * 100 + "\n" + title + "\n" + "=" * 100, flush=True)
        self._rec = len(self.spy.snapshot())
        self._log = Lab.log_mark(self.lab.maillog)

    def show(self, what=""):
        time.sleep(0.3)  # postlogd writes a moment after the reply
        if what:
            print("--- " + what)
        recs = self.spy.snapshot()[self._rec:]
        print("  [auth-client]")
        for r in recs:
            print("    " + r.text())
        print("  [maillog]")
        for line in self.lab.maillog_text(self._log).splitlines():
            if "Anonymous TLS connection" in line:
                continue
            print("    " + line.split(" lab ", 1)[-1])
        self._rec = len(recs) + self._rec
        self._log = Lab.log_mark(self.lab.maillog)

    def swaks(self, title, *args, port=None, show_lines=("<", " ~>", " ->", "***")):
        rc, out = self.lab.swaks(*args, port=port)
        print("--- %s: swaks %s%s (rc=%s)" % (title, " ".join(args),
                                              " --port %s" % port if port else "", rc))
        print("  [client]")
        for line in out.splitlines():
            if any(line.startswith(p) for p in ("<~  250-", "<-  250-", "<~  250 ", "<-  250 ")):
                continue  # EHLO capabilities: not interesting here
            if line.startswith(show_lines):
                print("    " + line)
        self.show()

    def dialog(self, title, steps, starttls=True, implicit_tls=False, port=None):
        """A raw SMTP dialog with smtplib.docmd; steps are command lines sent one by one."""
        print("--- %s (%s)" % (title, "implicit TLS" if implicit_tls else
                               "STARTTLS" if starttls else "cleartext"))
        print("  [client]")
        s = self.lab.smtp_connect(port=port, starttls=starttls, implicit_tls=implicit_tls)
        try:
            for cmd in steps:
                print("    C: " + cmd)
                s.putcmd(cmd)
                code, msg = s.getreply()
                for line in msg.decode("utf-8", "replace").splitlines() or [""]:
                    print("    S: %d %s" % (code, line))
                if code == -1:
                    break
        finally:
            s.close()
        self.show()


def fail_rewriter(template):
    """Spy hook: replace every FAIL line from Dovecot by template.format(id=<request id>)."""
    def hook(conn, line):
        if line.startswith(b"FAIL\t"):
            rid = line.split(b"\t")[1].decode()
            return template.format(id=rid).encode("utf-8", "surrogateescape")
        return line
    return hook


def case1(c):
    c.begin("1. Handshake (first SMTP session of a fresh smtpd opens the auth connection)")
    s = socket.create_connection(("127.0.0.1", c.lab.submission_port))
    banner = s.recv(1000)
    time.sleep(0.5)
    opened = [r.text() for r in c.spy.snapshot()[c._rec:]]
    print("  client got banner %r; auth-client records so far: %r" % (banner, opened))
    s.sendall(b"EHLO client.example.test\r\n")
    time.sleep(0.3)
    ehlo = s.recv(4000)
    print("  after EHLO (%d bytes of reply)" % len(ehlo))
    s.sendall(b"QUIT\r\n")
    s.recv(1000)
    s.close()
    print("  smtpd pids now: %r" % c.lab.smtpd_pids())
    c.show()


def case2(c):
    c.begin("2. AUTH PLAIN with initial response (swaks default), wrong then right")
    for pw in ("wrong password", ALICE_PW):
        c.swaks("cleartext, pw=%r" % pw, "-a", "PLAIN", "-au", ALICE, "-ap", pw,
                "--quit-after", "AUTH")
        c.swaks("STARTTLS, pw=%r" % pw, "-tls", "-a", "PLAIN", "-au", ALICE, "-ap", pw,
                "--quit-after", "AUTH")
        c.swaks("465 wrapper mode, pw=%r" % pw, "-tlsc", "-a", "PLAIN", "-au", ALICE, "-ap", pw,
                "--quit-after", "AUTH", port=c.lab.smtps_port)
    c.swaks("STARTTLS from 127.0.0.2, right password", "-tls", "-li", "127.0.0.2", "-a", "PLAIN",
            "-au", ALICE, "-ap", ALICE_PW, "--quit-after", "AUTH")


def case3(c):
    c.begin("3. AUTH LOGIN (swaks -a LOGIN)")
    for pw in ("wrong password", ALICE_PW):
        c.swaks("STARTTLS, pw=%r" % pw, "-tls", "-a", "LOGIN", "-au", ALICE, "-ap", pw,
                "--quit-after", "AUTH")
    c.dialog("AUTH LOGIN with the user name as initial response (RFC 4954 allows it)",
             ["AUTH LOGIN " + b64(ALICE), b64(ALICE_PW)])


def case4(c):
    c.begin("4. AUTH PLAIN without initial response (raw client)")
    c.dialog("right password", ["AUTH PLAIN", plain_response(ALICE, ALICE_PW)])
    c.dialog("wrong password", ["AUTH PLAIN", plain_response(ALICE, "nope")])
    c.dialog("empty initial response '='", ["AUTH PLAIN =", ])
    c.dialog("bad base64", ["AUTH PLAIN", "!!!notbase64"])


def case5(c):
    c.begin("5. Client cancels with '*' at a 334 challenge")
    c.dialog("PLAIN, no initial response, then *", ["AUTH PLAIN", "*", "NOOP"])
    c.dialog("LOGIN, cancel at the password prompt", ["AUTH LOGIN", b64(ALICE), "*",
                                                      "AUTH PLAIN " +
                                                      plain_response(ALICE, ALICE_PW)])


def case6(c):
    c.begin("6. What the client sees and Postfix logs for FAIL variants (spy rewrites Dovecot's FAIL)")
    variants = [
        "FAIL\t{id}",
        "FAIL\t{id}\tuser=alice@example.test",
        "FAIL\t{id}\treason=Custom reason from the gate",
        "FAIL\t{id}\tuser=someone-else@example.test\treason=user differs from the login",
        "FAIL\t{id}\tcode=temp_fail",
        "FAIL\t{id}\ttemp\treason=Temporary failure, try later",
        "FAIL\t{id}\tuser=alice@example.test\tcode=temp_fail\treason=Service unavailable",
        "FAIL\t{id}\tuser=alice@example.test\tcode=authz_fail\treason=authz",
        "FAIL\t{id}\treason=",
    ]
    try:
        for v in variants:
            c.spy.on_server_line = fail_rewriter(v)
            c.swaks("spy sends %s" % escape(v), "-tls", "-a", "PLAIN", "-au", ALICE,
                    "-ap", "wrong password", "--quit-after", "AUTH")
        c.spy.on_server_line = fail_rewriter("FAIL\t{id}\treason=Custom reason via LOGIN")
        c.swaks("LOGIN, spy sends FAIL with reason", "-tls", "-a", "LOGIN", "-au", ALICE,
                "-ap", "wrong password", "--quit-after", "AUTH")

        def ok_other_user(conn, line):
            if line.startswith(b"OK\t"):
                return b"OK\t" + line.split(b"\t")[1] + b"\tuser=mallory@example.test"
            return line
        c.spy.on_server_line = ok_other_user
        c.swaks("right password, spy turns OK's user= into another user; a message is sent",
                "-tls", "-a", "PLAIN", "-au", ALICE, "-ap", ALICE_PW,
                "--from", ALICE, "--to", "rcpt@example.net")
    finally:
        c.spy.on_server_line = None


def case7(c):
    c.begin("7. Dovecot's own FAIL lines for the special accounts (real Dovecot, no rewriting)")
    for u in ("disabled", "expired", "tempfail"):
        c.swaks("%s@example.test" % u, "-tls", "-a", "PLAIN", "-au", "%s@example.test" % u,
                "-ap", "any password", "--quit-after", "AUTH")
    c.swaks("unknown user", "-tls", "-a", "PLAIN", "-au", "nobody@example.test",
            "-ap", "any password", "--quit-after", "AUTH")


def case8(c):
    c.begin("8. The auth server closes the connection while an AUTH is pending")
    state = {"armed": True}

    def close_on_auth(conn, line):
        if state["armed"] and line.startswith(b"AUTH\t"):
            state["armed"] = False
            return SockSpy.CLOSE
        return line
    c.spy.on_client_line = close_on_auth
    try:
        print("  smtpd pids before: %r" % c.lab.smtpd_pids())
        c.swaks("spy closes on AUTH", "-tls", "-a", "PLAIN", "-au", ALICE, "-ap", ALICE_PW,
                "--quit-after", "AUTH")
        print("  smtpd pids after: %r" % c.lab.smtpd_pids())
        c.swaks("next session, right password", "-tls", "-a", "PLAIN", "-au", ALICE,
                "-ap", ALICE_PW, "--quit-after", "AUTH")
        print("  smtpd pids after: %r" % c.lab.smtpd_pids())
        state["armed"] = True
        c.dialog("AUTH LOGIN: the spy closes at the initial AUTH, then the client goes on",
                 ["AUTH LOGIN", b64(ALICE), b64(ALICE_PW), "NOOP",
                  "AUTH PLAIN " + plain_response(ALICE, ALICE_PW)])
        print("  smtpd pids after: %r" % c.lab.smtpd_pids())
    finally:
        c.spy.on_client_line = None


def _userdb_session(path, lines, wait=0.3):
    """Send lines one by one to auth-userdb, printing everything received (verbatim, escaped)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        s.settimeout(wait)

        def drain():
            data = b""
            while True:
                try:
                    chunk = s.recv(4000)
                except socket.timeout:
                    break
                if not chunk:
                    data += b"<EOF>"
                    break
                data += chunk
            return data
        greeting = drain()
        print("    on connect, before we send anything: %s" % escape(greeting))
        for line in lines:
            s.sendall(line + b"\n")
            print("    > " + escape(line))
            data = drain()
            for l in data.split(b"\n"):
                if l:
                    print("    < " + escape(l))
            if data.endswith(b"<EOF>"):
                break


def case9(c):
    c.begin("9. auth-userdb protocol (direct to Dovecot's auth-userdb socket)")
    mark = Lab.log_mark(c.lab.dovecot_log)
    _userdb_session(c.lab.auth_userdb_socket, [
        b"VERSION\t1\t0",
        b"USER\t1\talice@example.test\tservice=smtp",
        b"USER\t2\tnobody@example.test\tservice=smtp",
        b"USER\t3\tdisabled@example.test\tservice=smtp",
        b"USER\t4\tALICE@Example.Test\tservice=smtp",
        b"USER\t5\tbob@example.test",
        b"USER\t6\tcarol@example.test\tservice=smtp"])
    print("  without VERSION first:")
    _userdb_session(c.lab.auth_userdb_socket, [b"USER\t1\talice@example.test\tservice=smtp"])
    # Dovecot 2.4 calls the service "protocol" (service= stays for compatibility); 2.3 knows
    # only service=.
    print("  protocol= instead of service=, then both:")
    _userdb_session(c.lab.auth_userdb_socket, [
        b"VERSION\t1\t0",
        b"USER\t1\talice@example.test\tservice=smtp\tprotocol=smtp",
        b"USER\t2\talice@example.test\tprotocol=smtp"])
    print("  [dovecot log]")
    for line in c.lab.dovecot_log_text(mark).splitlines():
        print("    " + line)


def case10(c):
    c.begin("10. Does Postfix unescape or alter the reason= text?")
    reasons = [
        "back\\slash and \\t and \\001",   # literal backslashes
        "tab\x01tescaped",                 # Dovecot's tab escape: \001 t
        "one\x011two \x01n \x01r",          # Dovecot's escapes for \001, \n, \r
        "Wrong password (ref=ABC)",
        "Non-ASCII: Passwort falsch \u2013 bitte",
        "ctrl\x07bell and \x7f del",
        "percent %s %d %%",
        "x" * 600,
        "y" * 3000,
    ]
    try:
        for r in reasons:
            c.spy.on_server_line = fail_rewriter("FAIL\t{id}\treason=" + r.replace("{", "{{"))
            c.swaks("reason=%s" % (escape(r) if len(r) < 100 else "%s... (%d chars)" % (r[:5], len(r))), "-tls", "-a", "PLAIN", "-au", ALICE,
                    "-ap", "wrong password", "--quit-after", "AUTH")
    finally:
        c.spy.on_server_line = None


CASES = [case1, case2, case3, case4, case5, case6, case7, case8, case9, case10]


def _postfix_version():
    r = subprocess.run(["postconf", "-dh", "mail_version"], capture_output=True, text=True)
    return r.stdout.strip() or "?"


def main(argv):
    wanted = [int(a) for a in argv[1:]] or range(1, 11)
    t0 = time.monotonic()
    lab = Lab(sasl_path="spy.sock")
    try:
        spy = SockSpy(lab.sasl_path, lab.auth_client_socket,
                      log_path=os.path.join(lab.dir, "spy.log")).start()
        lab.start()
        print("lab up in %.2fs: %s (submission %d, smtps %d, sink %d); Dovecot %s, Postfix %s"
              % (time.monotonic() - t0, lab.dir, lab.submission_port, lab.smtps_port,
                 lab.sink_port, ".".join(map(str, lab.dovecot_version)), _postfix_version()))
        c = Capture(lab, spy)
        for n in wanted:
            CASES[n - 1](c)
        spy.stop()
    finally:
        t1 = time.monotonic()
        lab.stop()
        print("\nlab stopped in %.2fs; leftovers: %r" % (time.monotonic() - t1,
                                                        lab.leftover_processes()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
