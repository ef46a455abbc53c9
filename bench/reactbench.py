"""Reaction to a password burst: 1,000 wrong passwords for one account from one address over 20
concurrent SMTP connections through real Postfix.

With authguard-policyd on the SASL path (account_fail_limit = 10/15m, the default), every attempt
after the limit is refused before Dovecot: the count is of Dovecot's "Password mismatch" lines
for the account beyond the limit.  Against the same burst with Postfix talking to Dovecot
directly, Debian's fail2ban watches the lab's mail log with its postfix-sasl jail
(filter postfix[mode=auth], maxretry = 10, polling backend) and an action that records the ban
time instead of touching the firewall: the count is of attempts Dovecot answered before the ban.
"""

import os
import smtplib
import ssl
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ATTEMPTS, CONNS, LIMIT = 1000, 20, 10
ATTACKER = "127.0.0.77"
VICTIM = "alice@example.test"


def burst(lab):
    """ATTEMPTS AUTHs over CONNS threads; the time each answer came."""
    lock = threading.Lock()
    left = [ATTEMPTS]
    answered = []
    ctx = ssl._create_unverified_context()
    import base64

    def take():
        with lock:
            if left[0] == 0:
                return None
            left[0] -= 1
            return left[0]

    def worker():
        while True:
            try:
                s = smtplib.SMTP("127.0.0.1", lab.submission_port, timeout=30,
                                 local_hostname="attacker.example",
                                 source_address=(ATTACKER, 0))
                s.ehlo()
                s.starttls(context=ctx)
                s.ehlo()
            except (smtplib.SMTPException, OSError):
                time.sleep(0.05)
                continue
            try:
                for _ in range(8):      # below smtpd_soft_error_limit: no error sleep
                    n = take()
                    if n is None:
                        return
                    resp = base64.b64encode(("\0%s\0guess-%d" % (VICTIM, n)).encode())
                    code, _ = s.docmd("AUTH", "PLAIN " + resp.decode())
                    with lock:
                        answered.append((time.time(), code))
            except (smtplib.SMTPException, OSError):
                pass
            finally:
                try:
                    s.close()
                except OSError:
                    pass

    threads = [threading.Thread(target=worker) for _ in range(CONNS)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answered, time.time() - t0


def mismatches(lab):
    with open(lab.dovecot_log) as f:
        return sum(1 for l in f if "(%s,%s" % (VICTIM, ATTACKER) in l and
                   "Password mismatch" in l)


def with_gate(Lab, Gate, new_gate_dir):
    d = new_gate_dir()
    lab = gate = None
    try:
        lab = Lab(sasl_path=os.path.join(d, "auth"), maxproc=CONNS + 2)
        lab.start_dovecot()
        gate = Gate(lab, d).start()          # defaults: account_fail_limit = 10/15m
        lab.start_postfix()
        answered, secs = burst(lab)
        time.sleep(1)
        return len(answered), mismatches(lab), secs
    finally:
        if gate:
            gate.stop()
        if lab:
            lab.stop()
        subprocess.run(["rm", "-rf", d])


def fail2ban_conf(d, maillog, bans):
    conf = os.path.join(d, "f2b")
    subprocess.run(["cp", "-a", "/etc/fail2ban", conf], check=True)
    for sub in ("jail.d", "fail2ban.d"):
        subprocess.run(["sh", "-c", "rm -f %s/%s/*" % (conf, sub)], check=True)
    with open(os.path.join(conf, "action.d", "record.conf"), "w") as f:
        f.write("[Definition]\nactionstart =\nactionstop =\nactioncheck =\n"
                "actionban = echo \"<ip> $(date +%%%%s.%%%%N)\" >> %s\nactionunban =\n" % bans)
    with open(os.path.join(conf, "jail.local"), "w") as f:
        f.write("[DEFAULT]\nbackend = polling\nbanaction = record\n"
                "[sshd]\nenabled = false\n"
                "[postfix-sasl]\nenabled = true\nfilter = postfix[mode=auth]\n"
                "logpath = %s\nmaxretry = %d\nfindtime = 600\nbantime = 3600\n"
                "action = record\n" % (maillog, LIMIT))
    with open(os.path.join(conf, "fail2ban.local"), "w") as f:
        f.write("[Definition]\nlogtarget = %s/f2b.log\nsocket = %s/f2b.sock\n"
                "pidfile = %s/f2b.pid\ndbfile = :memory:\n" % (d, d, d))
    return conf


def with_fail2ban(Lab, new_gate_dir):
    d = new_gate_dir()
    lab = f2b = None
    bans = os.path.join(d, "bans")
    try:
        lab = Lab(maxproc=CONNS + 2)             # Postfix talks to Dovecot directly
        lab.start_dovecot()
        lab.start_postfix()
        open(lab.maillog, "a").close()
        conf = fail2ban_conf(d, lab.maillog, bans)
        f2b = subprocess.Popen(["fail2ban-server", "-f", "-x", "-c", conf, "-s",
                                os.path.join(d, "f2b.sock"), "-p", os.path.join(d, "f2b.pid")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if "postfix-sasl" in open(os.path.join(d, "f2b.log")).read():
                    break
            except OSError:
                pass
            time.sleep(0.2)
        time.sleep(1)
        answered, secs = burst(lab)
        time.sleep(3)
        ban_t = None
        if os.path.exists(bans):
            with open(bans) as f:
                ts = [float(l.split()[1]) for l in f if l.startswith(ATTACKER)]
                ban_t = min(ts) if ts else None
        before = sum(1 for t, c in answered if ban_t is None or t <= ban_t)
        start = min(t for t, c in answered) if answered else 0
        return len(answered), mismatches(lab), before, (ban_t - start) if ban_t else None
    finally:
        if f2b:
            f2b.terminate()
            try:
                f2b.wait(10)
            except subprocess.TimeoutExpired:
                f2b.kill()
        if lab:
            lab.stop()
        subprocess.run(["rm", "-rf", d])


def bench(build):
    os.environ["AUTHGUARD_BUILD"] = os.path.abspath(build)
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "lab"))
    from lab import Lab
    from gatelab import Gate, new_gate_dir

    g_sent, g_reached, g_secs = with_gate(Lab, Gate, new_gate_dir)
    f_sent, f_reached, f_before, f_ban = with_fail2ban(Lab, new_gate_dir)
    rows = [
        "| defence | attempts answered | reached Dovecot | beyond the limit of %d | burst took |"
        % LIMIT,
        "|---|---:|---:|---:|---:|",
        "| authguard-policyd (account_fail_limit = 10/15m) | %d | %d | **%d** | %.1f s |"
        % (g_sent, g_reached, max(0, g_reached - LIMIT), g_secs),
        "| fail2ban postfix-sasl (maxretry = 10), Postfix → Dovecot | %d | %d (all: its ban "
        "does not stop Postfix here) | **%d** answered before the ban, %s | |"
        % (f_sent, f_reached, max(0, f_before - LIMIT),
           "ban after %.1f s" % f_ban if f_ban is not None else "no ban"),
    ]
    text = [
        "## Reaction to a burst",
        "",
        "`make bench`: %d wrong passwords for one account from one address over %d concurrent "
        "SMTP connections (STARTTLS, 8 AUTHs per session) through real Postfix. Target: 0 "
        "beyond the limit." % (ATTEMPTS, CONNS),
        "",
    ] + rows + [""]
    return text, g_sent == ATTEMPTS
