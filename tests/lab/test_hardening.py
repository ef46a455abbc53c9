#!/usr/bin/env python3
"""Faults and hostile input against authguard-policyd behind real Postfix and Dovecot: thousands
of idle connections, 10 MiB lines on every socket, a state directory that is full and then
read-only, a truncated state file, the daemon killed while Postfix sessions are open, and user
names built to break log lines.  Each test asserts that nothing is lost and that service goes on.
authguard probe sends no credentials to a server whose certificate it cannot verify."""

import json
import re
import os
import resource
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab, wait_until  # noqa: E402
import gatelab  # noqa: E402
from gatelab import (GateClient, Gate, auth_line, b64, new_gate_dir, parse_logfmt,  # noqa: E402
                     teardown_suite)
from milterlab import Milter  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("hardening")
S = {}
IDLE = 5000
BIG = 10 * 1024 * 1024
ALICE, ALICE_PW = "alice@example.test", "correct horse"


def policy_main_cf(path):
    return {"smtpd_relay_restrictions": "check_policy_service unix:%s, "
            "permit_sasl_authenticated, reject_unauth_destination" % path,
            "smtpd_policy_service_policy_context": "submission"}


def setup():
    # Room for IDLE connections on each of two sockets, here and in the daemon.
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (65536, 65536))
    except (ValueError, OSError):       # a container may not let even root raise it
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    have = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    assert have >= 2 * IDLE + 512, "open files limit %d: too low for %d idle connections" % (
        have, IDLE)
    d = S["dir"] = new_gate_dir()
    S["policy"] = os.path.join(d, "policy")
    S["lab"] = Lab(sasl_path=os.path.join(d, "auth"), maxproc=4,
                   extra_main_cf=policy_main_cf(S["policy"]))
    S["lab"].start_dovecot()
    # The state directory is a small tmpfs of its own, so that it can be filled and remounted
    # read-only.
    S["state"] = os.path.join(d, "state")
    os.makedirs(S["state"])
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", S["state"]],
                   check=True)
    S["gate"] = Gate(S["lab"], d, policy_listen="unix:" + S["policy"], state_dir=S["state"],
                     account_fail_limit="3/10m", guessing_threshold="255").start()
    lab_ca(S["lab"], d)
    S["lab"].start_postfix()


def lab_ca(lab, d):
    """Postfix's certificate, signed by a CA of this test (for 127.0.0.1 and lab.example.test),
    in place of the lab's self-signed one."""
    ca_key, ca = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    csr, ext = os.path.join(d, "smtpd.csr"), os.path.join(d, "smtpd.ext")
    run = lambda *a: subprocess.run(["openssl"] + list(a), check=True, capture_output=True,
                                    stdin=subprocess.DEVNULL)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
        "/CN=authguard test CA", "-keyout", ca_key, "-out", ca)
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=lab.example.test", "-keyout",
        lab.tls_key, "-out", csr)
    with open(ext, "w") as f:
        f.write("subjectAltName = DNS:lab.example.test, IP:127.0.0.1\n")
    run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-days", "2",
        "-extfile", ext, "-out", lab.tls_cert)
    os.chmod(lab.tls_key, 0o600)
    S["ca"] = ca


def teardown():
    try:
        if S.get("gate"):
            S["gate"].stop()
    finally:
        if "state" in S:
            subprocess.run(["umount", "-l", S["state"]], capture_output=True)
        teardown_suite(S)


def login_ok():
    code, text = S["lab"].smtplib_login(ALICE, ALICE_PW)
    assert code == 235, (code, text)


def send_ok():
    """Authenticated mail through the policy service."""
    rc, out = S["lab"].swaks("-tls", "-a", "PLAIN", "-au", ALICE, "-ap", ALICE_PW,
                             "--from", ALICE, "--quit-after", "RCPT")
    assert rc == 0, out


def stats():
    r = subprocess.run([os.path.join(gatelab.BUILD, "authguard"), "-s",
                        S["gate"].control, "stats"], capture_output=True, text=True, timeout=10)
    return dict(kv.split("=", 1) for kv in r.stdout.split() if "=" in kv)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        return [int(l.split()[1]) for l in f if l.startswith("VmRSS")][0]


def unix_conn(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(True)
    s.connect(path)
    return s


def closed_by_peer(s, timeout=10):
    """True when the peer closes (EOF or reset) within timeout, whatever it sent before."""
    s.settimeout(timeout)
    try:
        while s.recv(65536):
            pass
        return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def send_big(s, head=b""):
    """head, then BIG bytes without a newline, as fast as the peer takes them; returns whether
    the peer cut us off before the end (what a bounded reader does)."""
    chunk = b"x" * 65536
    s.settimeout(10)
    try:
        s.sendall(head)
        for _ in range(BIG // len(chunk)):
            s.sendall(chunk)
        s.sendall(b"\n")
        return False
    except (BrokenPipeError, ConnectionResetError):
        return True


@suite.test
def idle_connections_do_not_starve_logins():
    held = []
    try:
        for i in range(IDLE):
            s = unix_conn(S["gate"].socket)
            if i % 2:
                s.sendall(b"VERSION\t1\t0\nAUTH\t1\tPL")    # a half line, held open
            held.append(s)
        for i in range(IDLE):
            s = unix_conn(S["policy"])
            if i % 2:
                s.sendall(b"request=smtpd_access_policy\nprotocol_state=RC")
            held.append(s)
        wait_until(lambda: int(stats().get("sasl_connections", 0)) >= IDLE, 30,
                   "the gate to accept %d connections" % IDLE)
        t0 = time.time()
        login_ok()
        send_ok()
        took = time.time() - t0
        assert S["gate"].alive()
        print("# %d idle SASL and %d idle policy connections held; a login and a mail took "
              "%.2f s" % (IDLE, IDLE, took))
    finally:
        for s in held:
            s.close()
    wait_until(lambda: int(stats().get("sasl_connections", IDLE)) < 10, 30,
               "the gate to see the idle connections go")
    login_ok()


@suite.test
def ten_mib_lines_on_every_socket():
    g = S["gate"]
    rss0 = rss_kb(g.proc.pid)
    # SASL: that AUTH is refused with a ref, the smtpd's connection serves on.
    c = GateClient(g.socket)
    assert not send_big(c.s, b"AUTH\t1\tPLAIN\tservice=smtp\tresp=")
    reply = c.line().decode()
    assert reply.startswith("FAIL\t1\t") and "ref=" in reply, reply
    c.send(auth_line(2, "PLAIN", resp=b64(b"\0%s\0%s" % (ALICE.encode(), ALICE_PW.encode()))))
    assert c.line().decode().startswith("OK\t2\t")
    c.close()
    # Policy: that request gets an answer (the default action), the connection serves on.
    s = unix_conn(S["policy"])
    assert not send_big(s, b"request=smtpd_access_policy\nsasl_username=")
    req = ("request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=127.0.0.1\n"
           "sasl_username=%s\nrecipient=x@example.net\n\n" % ALICE).encode()
    s.sendall(b"\n" + req)
    s.settimeout(10)
    got = b""
    while got.count(b"\n\n") < 2:
        chunk = s.recv(4096)
        assert chunk, "policy: closed after the long line: %r" % got
        got += chunk
    assert all(a.startswith(b"action=") for a in got.split(b"\n\n")[:2]), got
    s.close()
    # Control: the connection is closed or answered; the next one works.
    s = unix_conn(g.control)
    send_big(s, b"why ")
    s.close()
    assert "upstream=ready" in " ".join("%s=%s" % kv for kv in stats().items())
    grew = rss_kb(g.proc.pid) - rss0
    assert grew < 4096, "RSS grew %d KiB with three 10 MiB lines: buffered?" % grew
    log = g.log_text()
    assert "overlong" in log or "too long" in log, log[-2000:]
    login_ok()
    send_ok()

    # The milter: a 10 MiB packet length, then a real negotiation on a new connection.
    m = Milter(S["dir"], control=g.control).start()
    try:
        s = unix_conn(m.socket)
        send_big(s, struct.pack(">I", BIG) + b"C")
        assert closed_by_peer(s), "milter: kept the connection"
        s.close()
        s = unix_conn(m.socket)
        s.sendall(struct.pack(">I", 13) + b"O" + struct.pack(">III", 6, 0x1ff, 0x1fffff))
        s.settimeout(10)
        head = s.recv(5)
        assert len(head) == 5 and head[4:5] == b"O", head
        s.close()
        assert m.alive()
    finally:
        assert m.stop() == 0


def lock_account(user):
    """Three distinct wrong passwords through the gate itself: the account is then locked."""
    c = GateClient(S["gate"].socket)
    for i in range(3):
        c.send(auth_line(i + 1, "PLAIN", resp=b64(b"\0%s\0wrong-%d" % (user.encode(), i))))
        assert c.line().startswith(b"FAIL\t%d" % (i + 1))
    c.close()


def locked(user):
    """Is the account locked? Its attempt's cause, found by the ref of the gate's answer."""
    c = GateClient(S["gate"].socket)
    c.send(auth_line(9, "PLAIN", resp=b64(b"\0%s\0whatever" % user.encode())))
    reply = c.line().decode()
    c.close()
    ref = re.search(r"ref=([0-9A-Z]+)", reply)
    assert reply.startswith("FAIL\t9") and ref, reply
    return S["gate"].event(ref.group(1)).get("cause") == "account-locked"


def saved(user):
    """Is the account's lockout in the state file?"""
    try:
        with open(os.path.join(S["state"], "state"), "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return False
    return any(l.startswith("E a %s " % user) and int(l.split()[3]) > 0 for l in lines)


@suite.test
def state_dir_full_then_read_only_loses_nothing():
    g = S["gate"]
    filler = os.path.join(S["state"], "filler")
    subprocess.run(["dd", "if=/dev/zero", "of=" + filler, "bs=4k", "count=1000"],
                   capture_output=True)        # until the tmpfs is full
    mark = len(g.log_text())
    lock_account("full-disk@example.test")
    wait_until(lambda: "could not be written" in g.log_text()[mark:], 10,
               "an error about the state file")
    assert not saved("full-disk@example.test")
    login_ok()                                 # serving all along
    assert locked("full-disk@example.test")
    os.unlink(filler)
    subprocess.run(["mount", "-o", "remount,ro", S["state"]], check=True)
    mark = len(g.log_text())
    lock_account("read-only@example.test")
    wait_until(lambda: "could not be written" in g.log_text()[mark:], 10,
               "an error about the state file on a read-only directory")
    login_ok()
    t0 = time.monotonic()
    errors = g.log_text()[mark:].count("could not be written")
    time.sleep(3)
    later = g.log_text()[mark:].count("could not be written")
    took = time.monotonic() - t0            # the sleep may last longer on a busy machine
    assert later - errors <= int(took) + 1, \
        "one error a second at most (%d in %.1f s)" % (later - errors, took)
    subprocess.run(["mount", "-o", "remount,rw", S["state"]], check=True)
    wait_until(lambda: saved("full-disk@example.test") and saved("read-only@example.test"), 10,
               "the state to be saved once the disk takes it")
    assert g.stop(signal.SIGKILL) is not None
    g.start()
    assert locked("full-disk@example.test") and locked("read-only@example.test")
    assert not os.path.exists(os.path.join(S["state"], "state.bad"))


@suite.test
def truncated_state_file_keeps_what_is_whole():
    g = S["gate"]
    lock_account("before-cut@example.test")
    assert g.stop() == 0                       # the final save
    path = os.path.join(S["state"], "state")
    with open(path, "ab") as f:                # a last line cut in the middle
        f.write(b"E a half-written@example.test 17")
    g.start()
    assert locked("before-cut@example.test"), "a lockout lost to a cut last line"
    assert g.alive()
    login_ok()


@suite.test
def killed_and_restarted_under_open_sessions():
    g, lab = S["gate"], S["lab"]
    lock_account("carol@example.test")
    assert locked("carol@example.test")
    wait_until(lambda: saved("carol@example.test"), 5, "the lockout in the state file")
    sessions = [lab.smtp_connect(starttls=True) for _ in range(3)]
    try:
        assert g.stop(signal.SIGKILL) is not None
        g.start()
        for s in sessions:                     # each smtpd still holds its dead SASL socket
            codes = []
            for _ in range(3):
                code, _ = s.docmd("AUTH", "PLAIN " + b64(b"\0%s\0%s" % (ALICE.encode(),
                                                                     ALICE_PW.encode())))
                codes.append(code)
                if code == 235:
                    break
            assert codes[-1] == 235 and all(c == 454 for c in codes[:-1]), codes
    finally:
        for s in sessions:
            try:
                s.quit()
            except Exception:
                s.close()
    assert locked("carol@example.test"), "the lockout did not survive kill -9"
    code, text = lab.smtplib_login("carol@example.test", "carol-right-password")
    assert code == 535, (code, text)


@suite.test
def dovecot_slower_than_postfix_timeout():
    """With the default upstream_timeout (8 s), a Dovecot that does not answer: the client gets
    454 before Postfix's own 10 s run out, a lockout in place stays, and service comes back."""
    g, lab = S["gate"], S["lab"]
    lock_account("slow-lock@example.test")
    s = lab.smtp_connect(starttls=True)
    pids = lab.dovecot_auth_pids()
    for p in pids:
        os.kill(p, signal.SIGSTOP)
    try:
        t0 = time.time()
        code, text = s.docmd("AUTH", "PLAIN " + b64(b"\0%s\0%s" % (ALICE.encode(),
                                                                ALICE_PW.encode())))
        took = time.time() - t0
        s.close()
        assert locked("slow-lock@example.test")   # decided without Dovecot, at once
    finally:
        for p in pids:
            os.kill(p, signal.SIGCONT)
    assert code == 454, (code, text)
    assert 7 < took < 9.5, "454 after %.1f s" % took
    ev = [e for e in g.events() if e.get("user") == ALICE][-1]
    assert ev["cause"] == "auth-service-unavailable", ev["_line"]
    login_ok()


HOSTILE = [b"cr\rlf\nname", b"tab\tname", b'quote"name', b"back\\slash", b"bytes\xff\xfe\x80",
           b"esc\x1b[31mred", b"del\x7f", b"x" * 1000, b"long-" + b"y" * 10240]


def hostile_events(names):
    return [e for e in S["gate"].events() if any(n in e["_line"] for n in names)]


@suite.test
def hostile_user_names_stay_one_escaped_line():
    g, lab = S["gate"], S["lab"]
    mark = len(g.log_text())
    s = lab.smtp_connect(starttls=True)
    try:
        for name in HOSTILE:
            code, text = s.docmd("AUTH", "PLAIN " + b64(b"\0" + name + b"\0pw"))
            assert code in (535, 501), (name[:40], code, text)
    finally:
        s.close()
    # Every attempt is one line in the gate's log, whatever the name holds; no raw control
    # byte in any line; the line parses.
    wait_until(lambda: g.log_text()[mark:].count(" event=auth ") >= len(HOSTILE), 5,
               "one line per attempt")
    text = g.log_text()[mark:]
    lines = [l for l in text.splitlines() if " event=auth " in l]
    assert len(lines) == len(HOSTILE), (len(lines), lines)
    for l in text.splitlines():
        assert not any(ch in l for ch in "\r\x1b\x7f\x00"), repr(l[:200])
    for l in lines:
        ev = parse_logfmt(l[l.index(" event=") + 1:])
        assert ev["result"] == "fail" and ev.get("ref"), l[:300]
    # The same names with log_format = json: each line is one JSON object.
    g.stop()
    saved_conf = open(g.conf_path).read()
    with open(g.conf_path, "a") as f:
        f.write("log_format = json\n")
    g.start()
    try:
        mark = len(g.log_text())
        for name in HOSTILE:
            c = GateClient(g.socket)
            c.send(auth_line(1, "PLAIN", resp=b64(b"\0" + name + b"\0pw")))
            c.line()
            c.close()
        wait_until(lambda: g.log_text()[mark:].count('"event":"auth"') >= len(HOSTILE), 5,
                   "one JSON line per attempt")
        lines = [l for l in g.log_text()[mark:].splitlines() if '"event":"auth"' in l]
        assert len(lines) == len(HOSTILE), lines
        for l in lines:
            ev = json.loads(l[l.index("{"):])
            assert ev["result"] == "fail", ev
    finally:
        g.stop()
        with open(g.conf_path, "w") as f:
            f.write(saved_conf)
        g.start()
    assert "Unknown command" not in lab.dovecot_log_text()   # no split line reached Dovecot
    login_ok()


@suite.test
def hostile_policy_attributes_stay_one_escaped_line():
    """Postfix passes HELO names, addresses and user names on as they came (one line each):
    tabs, quotes, backslashes, ESC, 8-bit bytes and 10 KiB values."""
    g = S["gate"]
    mark = len(g.log_text())
    s = unix_conn(S["policy"])
    s.settimeout(10)
    for i, v in enumerate(HOSTILE):
        v = v.replace(b"\r", b"").replace(b"\n", b"")[:7000]
        req = (b"request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2.%d\n"
               b"helo_name=%s\nsasl_username=%s\nsender=%s@example.test\n"
               b"recipient=x@example.net\nccert_subject=%s\n\n" % (i + 1, v, v, v, v))
        s.sendall(req)
        got = b""
        while not got.endswith(b"\n\n"):
            chunk = s.recv(4096)
            assert chunk, "policy service closed the connection"
            got += chunk
        assert got.startswith(b"action="), got
    s.close()
    wait_until(lambda: g.log_text()[mark:].count(" event=policy ") >= len(HOSTILE), 5,
               "one policy line per request")
    lines = [l for l in g.log_text()[mark:].splitlines() if " event=policy " in l]
    assert len(lines) == len(HOSTILE), lines
    for l in lines:
        assert not any(ch in l for ch in "\r\x1b\x7f\x00\t"), repr(l[:200])
        ev = parse_logfmt(l[l.index(" event=") + 1:])
        assert ev.get("ref") and ev.get("action"), l[:300]


def probe(*extra, host="127.0.0.1"):
    p = subprocess.run([os.path.join(gatelab.BUILD, "authguard"), "--json", "probe",
                        "%s:%d" % (host, S["lab"].submission_port), "--user", ALICE] +
                       list(extra), capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, AUTHGUARD_PASSWORD=ALICE_PW))
    out = json.loads(p.stdout)
    assert out["exit"] == str(p.returncode), out
    return p.returncode, out, p.stderr


def sessions_logged_whole(lab):
    """Wait until Postfix has logged the end of every session it logged the start of (it logs
    through postlogd, a moment after the session ends)."""
    def whole():
        with open(lab.maillog, "rb") as f:
            log = f.read().decode("utf-8", "replace")
        return log.count(" connect from ") == log.count(" disconnect from ")
    wait_until(whole, 10, "Postfix to log the end of every session")


@suite.test
def probe_sends_no_credentials_to_an_unverified_server():
    """Postfix's certificate is signed by a CA the system does not know: authguard probe stops
    after the handshake (exit 4), and neither Postfix nor the gate sees an AUTH. With that CA
    (--ca) it logs in; with a name the certificate does not carry it stops again; --insecure
    logs in with a warning."""
    g, lab = S["gate"], S["lab"]
    for extra, host in (((), "127.0.0.1"), (("--ca", S["ca"]), "localhost")):
        sessions_logged_whole(lab)      # an earlier session's end is not the probe's
        mark, gmark = lab.log_mark(lab.maillog), len(g.log_text())
        rc, out, _ = probe(*extra, host=host)
        assert rc == 4 and "no credentials sent" in out["result"], out
        assert out["verify"] in ("unable to get local issuer certificate",
                                 "Hostname mismatch", "hostname mismatch"), out
        assert "auth after TLS" not in out and "auth reply" not in out, out
        lab.wait_log(lab.maillog, "disconnect from", since=mark, timeout=10)
        with open(lab.maillog, "rb") as f:
            log = f.read()[mark:].decode("utf-8", "replace")
        assert "auth=" not in log and "sasl_" not in log, log
        g.sync()
        assert " event=auth " not in g.log_text()[gmark:], g.log_text()[gmark:]
    rc, out, err = probe("--ca", S["ca"])
    assert rc == 0 and out["verify"] == "ok: trusted, and the name matches", out
    assert "tls warning" not in out and "warning" not in err, (out, err)
    rc, out, err = probe("--insecure")
    assert rc == 0 and out["result"] == "authenticated", out
    assert out["verify"] == "unable to get local issuer certificate", out
    assert "not verified" in out["tls warning"] and "--insecure" in err, (out, err)


if __name__ == "__main__":
    if len(sys.argv) > 1:       # only the named tests
        suite.tests = [t for t in suite.tests if t.__name__ in sys.argv[1:]]
    suite.run(setup, teardown)
