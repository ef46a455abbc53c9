"""Self-test of the lab (tests/lab/lab.py): real Postfix with Dovecot as its SASL server, directly.

Prints what it observes for each check and ends with `N passed, N failed`; exit status 1 if any
check failed.  Run as root:  python3 tests/lab/selftest.py [--slow]
--slow adds the SIGSTOPped-Dovecot case (smtpd gives up after its 10 s auth timeout).
"""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab  # noqa: E402

RESULTS = []


def check(name, ok, seen):
    RESULTS.append(ok)
    print("%s  %-58s %s" % ("ok  " if ok else "FAIL", name, seen), flush=True)


def last_reply(out, prefix=("<~", "<-")):
    """The last server reply line of a swaks transcript (e.g. '535 5.7.8 Error: ...')."""
    replies = [l for l in out.splitlines() if l.startswith(prefix)]
    return replies[-1].split(None, 1)[1] if replies else "(no reply)"


def auth_reply(out):
    """The reply swaks got to its AUTH (the line after the last AUTH/credentials it sent)."""
    lines = out.splitlines()
    for i, l in enumerate(lines):
        if l.lstrip(" ").startswith(("~> AUTH", "-> AUTH")):
            for r in lines[i + 1:]:
                if r.startswith(("<~", "<-")) and not r[4:].startswith("334"):
                    return r[3:].strip(" *")
    return "(no AUTH reply)"


def swaks_auth(lab, user, pw, *extra, port=None):
    return lab.swaks(*(extra + ("-a", "PLAIN", "-au", user, "-ap", pw, "--quit-after", "AUTH")),
                     port=port)


def main(argv):
    slow = "--slow" in argv
    t0 = time.monotonic()
    lab = Lab()
    try:
        lab.start()
        t_up = time.monotonic() - t0
        print("lab up in %.2fs in %s: submission=%d smtps=%d sink=%d" % (
            t_up, lab.dir, lab.submission_port, lab.smtps_port, lab.sink_port))
        print("dovecot pids %r (auth %r); postfix pids %r" % (
            lab.dovecot_pids(), lab.dovecot_auth_pids(), lab.postfix_pids()))

        rc, out = swaks_auth(lab, "alice@example.test", "correct horse", "-tls")
        r = auth_reply(out)
        check("alice, right password, STARTTLS (swaks)", r.startswith("235 "), r)

        rc, out = swaks_auth(lab, "alice@example.test", "wrong", "-tls")
        r = auth_reply(out)
        check("alice, wrong password, STARTTLS (swaks)", r.startswith("535 5.7.8"), r)

        rc, out = swaks_auth(lab, "alice@example.test", "correct horse")
        r = auth_reply(out)
        check("alice, right password, cleartext (swaks)", r.startswith("235 "), r)

        rc, out = swaks_auth(lab, "alice@example.test", "correct horse", "-tlsc",
                             port=lab.smtps_port)
        r = auth_reply(out)
        check("alice, right password, implicit TLS 465-like (swaks -tlsc)", r.startswith("235 "), r)

        rc, out = swaks_auth(lab, "alice@example.test", "wrong", "-tlsc", port=lab.smtps_port)
        r = auth_reply(out)
        check("alice, wrong password, implicit TLS (swaks -tlsc)", r.startswith("535 "), r)

        rc, out = lab.swaks("-tls", "-a", "LOGIN", "-au", "bob@example.test",
                            "-ap", "abcdefghijklmnop", "--quit-after", "AUTH")
        r = auth_reply(out)
        check("bob, app-password, AUTH LOGIN (swaks)", r.startswith("235 "), r)

        code, text = lab.smtplib_login("alice@example.test", "correct horse")
        check("alice, right password, smtplib STARTTLS", code == 235, "%s %s" % (code, text))
        code, text = lab.smtplib_login("carol@example.test", "Carol-Pass-1", implicit_tls=True)
        check("carol, right password, smtplib SMTP_SSL", code == 235, "%s %s" % (code, text))
        code, text = lab.smtplib_login("alice@example.test", "wrong")
        check("alice, wrong password, smtplib", code == 535, "%s %s" % (code, text))

        for user, want in (("disabled", "535 5.7.8 Error: authentication failed: (reason unavailable)"),
                           ("expired", "535 5.7.8 Error: authentication failed: Password expired"),
                           ("tempfail", "535 5.7.8 Error: authentication failed: (reason unavailable)")):
            rc, out = swaks_auth(lab, user + "@example.test", "anything", "-tls")
            r = auth_reply(out)
            check("%s@example.test (swaks)" % user, r == want, r)
        log = lab.dovecot_log_text()
        check("dovecot log: mismatch logged (auth_verbose)", "Password mismatch" in log,
              [l for l in log.splitlines() if "mismatch" in l][:1])

        for user, want in (("alice@example.test", "USER\t1\talice@example.test\tuid=1000"),
                           ("disabled@example.test", "USER\t1\tdisabled@example.test\tuid=1000"),
                           ("nobody@example.test", "NOTFOUND\t1")):
            line = lab.userdb_lookup(user)
            check("auth-userdb USER %s" % user, line.startswith(want), line.replace("\t", "\\t"))

        # An authenticated message goes through the relay to the sink.
        rc, out = lab.swaks("-tls", "-a", "PLAIN", "-au", "alice@example.test", "-ap",
                            "correct horse", "--from", "alice@example.test",
                            "--to", "someone@example.net")
        deadline = time.monotonic() + 10
        while not lab.sink_messages() and time.monotonic() < deadline:
            time.sleep(0.1)
        check("authenticated mail reaches the sink", bool(lab.sink_messages()),
              "%s; sink files: %d" % (last_reply(out), len(lab.sink_messages())))
        rc, out = lab.swaks("--from", "x@example.org", "--to", "someone@example.net")
        check("unauthenticated relay refused", "554 5.7.1" in out,
              [l for l in out.splitlines() if "554" in l][:1])

        # Dovecot outage: the whole Dovecot, auth included, is gone.
        t = time.monotonic()
        lab.stop_dovecot()
        t_stop = time.monotonic() - t
        check("stop_dovecot kills master and children", not lab.dovecot_pids(),
              "%.2fs" % t_stop)
        mark = Lab.log_mark(lab.maillog)
        rc, out = swaks_auth(lab, "alice@example.test", "correct horse", "-tls")
        time.sleep(0.3)
        tail = [l.split(" lab ", 1)[-1] for l in lab.maillog_text(mark).splitlines()
                if "warning" in l or "fatal" in l or "error" in l.lower()]
        check("while Dovecot is down: what the client sees", rc != 0,
              "%s | maillog: %s" % (auth_reply(out) if "AUTH" in out else last_reply(out), tail))
        t = time.monotonic()
        lab.start_dovecot()
        t_start = time.monotonic() - t
        rc, out = swaks_auth(lab, "alice@example.test", "correct horse", "-tls")
        r = auth_reply(out)
        check("after start_dovecot: alice authenticates again", r.startswith("235 "),
              "%s (restart %.2fs)" % (r, t_start))

        if slow:
            pids = lab.dovecot_auth_pids()
            for p in pids:
                os.kill(p, signal.SIGSTOP)
            t = time.monotonic()
            rc, out = swaks_auth(lab, "alice@example.test", "correct horse", "-tls")
            took = time.monotonic() - t
            for p in pids:
                os.kill(p, signal.SIGCONT)
            check("dovecot/auth SIGSTOPped: client's view", "AUTH" in out,
                  "%s after %.1fs" % (auth_reply(out), took))
            rc, out = swaks_auth(lab, "alice@example.test", "correct horse", "-tls")
            check("after SIGCONT: alice authenticates", auth_reply(out).startswith("235 "),
                  auth_reply(out))
    finally:
        before = lab.leftover_processes() if not lab._stopped else []
        t = time.monotonic()
        lab.stop()
        t_down = time.monotonic() - t
    left = lab.leftover_processes()
    print("stop() took %.2fs; lab processes before stop: %d, after: %r"
          % (t_down, len(before), left))
    check("no lab process left after stop (own scan)", not left, left)
    ps = subprocess.run(["ps", "-eo", "pid,stat,args"], stdout=subprocess.PIPE,
                        universal_newlines=True).stdout
    mine = [l for l in ps.splitlines() if lab.dir in l
            or any(l.split()[0] == str(p) for p, _ in before)]
    check("no lab process left after stop (ps)", not mine, mine)
    check("lab dir removed", not os.path.exists(lab.dir), lab.dir)

    passed = sum(1 for r in RESULTS if r)
    failed = len(RESULTS) - passed
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
