#!/usr/bin/env python3
"""The admin's toolbox against the lab (real Postfix + Dovecot + authguard-policyd): authguard
why --since, top by user/address/cause, lock --for and unlock with their effect on real logins,
and the Prometheus exposition on metrics_listen, checked by promtool."""

import json
import os
import re
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab, free_port, wait_until  # noqa: E402
from gatelab import BUILD, teardown_suite, Gate, b64, new_gate_dir, ref_of  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("toolbox")
S = {}
ALICE, ALICE_PW = "alice@example.test", "correct horse"
CAROL, CAROL_PW = "carol@example.test", "Carol-Pass-1"
PROMTOOL = "/usr/bin/promtool"


def setup():
    d = S["dir"] = new_gate_dir()
    policy = os.path.join(d, "policy")
    S["lab"] = Lab(sasl_path=os.path.join(d, "auth"), extra_main_cf={
        "smtpd_relay_restrictions": "check_policy_service unix:%s, permit_sasl_authenticated, "
                                    "reject_unauth_destination" % policy,
        "smtpd_policy_service_policy_context": "submission"})
    S["lab"].start_dovecot()
    S["metrics_port"] = free_port()
    S["gate"] = Gate(S["lab"], d, policy_listen="unix:" + policy, guessing_threshold="4",
                     account_fail_limit="50/10m", ip_fail_limit="50/10m",
                     metrics_listen="inet:127.0.0.1:%d" % S["metrics_port"]).start()
    S["lab"].start_postfix()


def teardown():
    if "dlab" in S:
        S["dlab"].stop()
    teardown_suite(S)


def cli(*args):
    p = subprocess.run([os.path.join(BUILD, "authguard"), "-s", S["gate"].control] +
                       list(args), capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def auth(source, user, password):
    """One AUTH PLAIN over STARTTLS from source; (code, text)."""
    s = S["lab"].smtp_connect(starttls=True, source_address=source)
    try:
        code, text = s.docmd("AUTH", "PLAIN " + b64("\0%s\0%s" % (user, password)))
        return code, text.decode()
    finally:
        s.close()


@suite.test
def why_since_and_ref():
    code, text = auth("127.0.0.41", ALICE, "wrong-1")
    assert code == 535
    ref = ref_of(text)
    rc, out, _ = cli("why", ref)
    assert rc == 0 and "cause=bad-password" in out and "what to do about bad-password" in out, out
    assert " result=fail cause=bad-password proto=smtp user=%s " % ALICE in out, out
    rc, out, _ = cli("--json", "why", ALICE, "--since", "1h")
    j = json.loads(out)
    assert any(a["ref"] == ref and a["proto"] == "smtp" for a in j["attempts"]), j
    time.sleep(2.1)
    rc, out, _ = cli("--json", "why", ALICE, "--since", "1s")
    assert rc == 0 and json.loads(out)["attempts"] == [], out
    rc, out, _ = cli("why", ref, "--since", "1s")     # a ref is found whatever its age
    assert rc == 0 and ref in out, out


@suite.test
def top_by_user_address_and_cause():
    for i in range(5):      # five different wrong passwords: guessing from the 4th
        assert auth("127.0.0.42", CAROL, "guess-%d" % i)[0] == 535
    assert auth("127.0.0.43", "nobody@example.test", "x")[0] == 535
    rc, out, _ = cli("--json", "top", "--since", "10m")
    rows = json.loads(out)
    assert rows[0]["user"] == CAROL and rows[0]["failures"] == "5", rows
    assert rows[0]["pattern"] == "password-guessing", rows[0]
    assert rows[0]["dominant_cause"] in ("bad-password", "password-guessing"), rows[0]
    assert rows[0]["locked_until"] == "no"
    assert rows[0]["protos"] == {"smtp": "5"}, rows[0]       # all through smtpd
    rc, out, _ = cli("--json", "top", "--by", "proto", "--since", "10m")
    rows = json.loads(out)
    assert [r["proto"] for r in rows] == ["smtp"] and int(rows[0]["failures"]) >= 6, rows
    rc, out, _ = cli("--json", "top", "--by", "address")
    rows = json.loads(out)
    assert any(r["address"] == "127.0.0.42" and r["failures"] == "5" for r in rows), rows
    rc, out, _ = cli("--json", "top", "--by", "cause")
    causes = {r["cause"]: int(r["failures"]) for r in json.loads(out)}
    assert causes.get("unknown-user", 0) >= 1 and causes.get("password-guessing", 0) >= 2, causes
    rc, out, _ = cli("top")
    assert rc == 0 and out.startswith("  user=carol@example.test failures=5 passes=0 "
                                      "protos=smtp:5 "), out
    rc, _, err = cli("top", "--by", "colour")
    assert rc == 1 and "by:" in err


@suite.test
def lock_for_then_unlock():
    code, _ = auth("127.0.0.44", CAROL, CAROL_PW)
    assert code == 235
    rc, out, _ = cli("lock", CAROL, "--for", "10m")
    assert rc == 0 and "locked=carol@example.test" in out, out
    code, text = auth("127.0.0.45", CAROL, CAROL_PW)     # an address carol never used
    assert code == 535 and "too many failed attempts for this account" in text, (code, text)
    assert "cause=account-locked" in cli("why", ref_of(text))[1]
    rc, out, _ = cli("why", CAROL)
    assert "locked=yes" in out, out
    rc, out, _ = cli("unlock", CAROL)
    assert rc == 0
    assert auth("127.0.0.45", CAROL, CAROL_PW)[0] == 235
    rc, out, _ = cli("lock", "127.0.0.46", "--for", "1m")
    assert rc == 0 and "locked=127.0.0.46" in out
    code, text = auth("127.0.0.46", CAROL, CAROL_PW)
    assert code == 535 and "this address" in text, text
    assert cli("unlock", "127.0.0.46")[0] == 0
    rc, _, err = cli("lock", CAROL, "--for", "forever")
    assert rc == 2 and "duration" in err


def scrape():
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % S["metrics_port"],
                                timeout=10) as r:
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")
        return r.read().decode()


def sample(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return None


def http_response(c):
    """One response off a kept-alive connection: (head, body)."""
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = c.recv(65536)
        assert chunk, "closed before the end of the head"
        got += chunk
    head, body = got.split(b"\r\n\r\n", 1)
    n = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", head).group(1))
    while len(body) < n:
        chunk = c.recv(65536)
        assert chunk, "closed before the end of the body"
        body += chunk
    return head, body


@suite.test
def prometheus_metrics():
    before = scrape()
    assert auth("127.0.0.47", ALICE, "wrong-2")[0] == 535
    assert auth("127.0.0.47", ALICE, ALICE_PW)[0] == 235
    s = S["lab"].smtp_connect(source_address="127.0.0.48")       # no TLS, no AUTH: refused
    s.docmd("MAIL", "FROM:<x@example.test>")
    code, _ = s.docmd("RCPT", "TO:<y@example.net>")
    s.close()
    assert code == 530
    text = scrape()
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    fail = 'authguard_auth_attempts_total{proto="smtp",result="fail",cause="bad-password"}'
    ok = 'authguard_auth_attempts_total{proto="smtp",result="pass",cause=""}'
    assert sample(text, fail) == (sample(before, fail) or 0) + 1, text
    assert sample(text, ok) == (sample(before, ok) or 0) + 1
    # Every door's series are there from the start; SMTP's attempts count on SMTP's alone.
    for door in ("imap", "pop3", "sieve"):
        other = 'authguard_auth_attempts_total{proto="%s",result="pass",cause=""}' % door
        assert sample(text, other) == sample(before, other) == 0, text
        other = 'authguard_auth_duration_seconds_count{proto="%s"}' % door
        assert sample(text, other) == sample(before, other) == 0, text
    assert 'proto="imap",result="fail"' not in text, text
    refused = 'authguard_policy_decisions_total{action="refuse",cause="no-auth-no-tls"}'
    assert sample(text, refused) >= 1
    count = sample(text, 'authguard_auth_duration_seconds_count{proto="smtp"}')
    assert count == sample(before, 'authguard_auth_duration_seconds_count{proto="smtp"}') + 2
    assert sample(text, 'authguard_upstream_up{state="ready"}') == 1
    assert sample(text, 'authguard_tracked_entries{kind="account"}') >= 1
    rc, out, _ = cli("metrics")
    assert rc == 0 and "authguard_auth_attempts_total" in out
    # The control socket gives the exposition metrics_listen serves, family for family.
    families = [l for l in text.splitlines() if l.startswith("# ")]
    assert [l for l in out.splitlines() if l.startswith("# ")] == families, out
    # Not /metrics, not GET, headers too big: an HTTP error, and the service goes on.
    try:
        urllib.request.urlopen("http://127.0.0.1:%d/" % S["metrics_port"], timeout=5)
        raise AssertionError("/ answered 200")
    except urllib.error.HTTPError as e:
        assert e.code == 404
    try:
        urllib.request.urlopen(urllib.request.Request(
            "http://127.0.0.1:%d/metrics" % S["metrics_port"], data=b"x=1"), timeout=5)
        raise AssertionError("POST /metrics answered 200")
    except urllib.error.HTTPError as e:
        assert e.code == 405 and e.headers["Allow"] == "GET", (e.code, e.headers)
    import socket
    c = socket.create_connection(("127.0.0.1", S["metrics_port"]), timeout=5)
    c.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"x" * 40000 + b"\r\n\r\n")
    assert c.recv(100).startswith(b"HTTP/1.1 431")
    c.close()
    # Keep-alive: two GETs on one connection, both answered.
    c = socket.create_connection(("127.0.0.1", S["metrics_port"]), timeout=5)
    for _ in range(2):
        c.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        head, body = http_response(c)
        assert head.startswith(b"HTTP/1.1 200") and b"authguard_upstream_up" in body, head
    c.close()
    assert "authguard_auth_attempts_total" in scrape()


# --- authguard doctor on a lab configuration ------------------------------------------------

def doctor_lab():
    """A second lab, configured but never started: doctor only reads its files."""
    if "dlab" not in S:
        d = S["dir"]
        S["dlab"] = Lab(sasl_path=os.path.join(d, "auth"))
        S["dconf"] = os.path.join(d, "doctor.conf")
    return S["dlab"]


def postconf(*args):
    subprocess.run(["postconf", "-c", doctor_lab().postfix_dir] + list(args), check=True,
                   capture_output=True)


def doctor(extra_conf="", dovecot=None):
    lab = doctor_lab()
    with open(S["dconf"], "w") as f:
        f.write("sasl_listen = unix:%s\npolicy_listen = unix:%s\nmilter_listen = unix:%s\n"
                "submission_ports = %d %d\nmilter_submission_daemons = ORIGINATING\n%s"
                % (os.path.join(S["dir"], "auth"), os.path.join(S["dir"], "policy"),
                   os.path.join(S["dir"], "milter.sock"), lab.submission_port,
                   lab.smtps_port, extra_conf))
    p = subprocess.run([os.path.join(BUILD, "authguard"), "-c", S["dconf"], "--json", "doctor",
                        "-c", lab.postfix_dir, "-d", dovecot or lab.dovecot_conf],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode in (0, 1), (p.returncode, p.stderr)
    return p.returncode, [f["id"] for f in json.loads(p.stdout)], p.stdout


GOOD_MAIN = {
    "smtpd_tls_auth_only": "yes",
    "smtpd_relay_restrictions": None,    # filled in good_config (needs the path)
    "smtpd_policy_service_default_action": "DUNNO",
    "smtpd_milters": None,
    "milter_default_action": "accept",
    "milter_connect_macros": "j {daemon_name} {daemon_addr} v _ {client_addr} {client_port}",
    "milter_helo_macros": "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}",
    "milter_mail_macros": "i {auth_type} {auth_authen} {auth_author} {mail_addr} "
                          "{tls_version} {cipher}",
}


def good_config():
    lab = doctor_lab()
    main = dict(GOOD_MAIN)
    main["smtpd_relay_restrictions"] = ("check_policy_service unix:%s, permit_sasl_authenticated,"
                                        " reject_unauth_destination"
                                        % os.path.join(S["dir"], "policy"))
    main["smtpd_milters"] = "unix:" + os.path.join(S["dir"], "milter.sock")
    postconf("-e", *["%s=%s" % kv for kv in main.items()])
    postconf("-e", "smtpd_sasl_path=" + os.path.join(S["dir"], "auth"))
    postconf("-P", "%d/inet/smtpd_tls_security_level=encrypt" % lab.submission_port)
    postconf("-MX", "465/inet")
    return main


@suite.test
def doctor_silent_on_good_config():
    good_config()
    rc, ids, out = doctor()
    assert rc == 0 and ids == [], out


@suite.test
def doctor_finds_each_planted_problem():
    lab = doctor_lab()
    main = good_config()
    sub = "%d/inet" % lab.submission_port
    plants = [
        ("tls-not-enforced", ["-P", sub + "/smtpd_tls_security_level=may"],
         ["-P", sub + "/smtpd_tls_security_level=encrypt"]),
        ("auth-before-tls", [["-e", "smtpd_tls_auth_only=no"],
                             ["-P", sub + "/smtpd_tls_security_level=may"]],
         [["-e", "smtpd_tls_auth_only=yes"], ["-P", sub + "/smtpd_tls_security_level=encrypt"]]),
        ("wrapper-mode-off", ["-M", "465/inet=465 inet n - n - - smtpd"], ["-MX", "465/inet"]),
        ("sasl-not-through-gate", ["-e", "smtpd_sasl_path=/run/dovecot/auth-client"],
         ["-e", "smtpd_sasl_path=" + os.path.join(S["dir"], "auth")]),
        ("sasl-not-through-gate", ["-e", "smtpd_sasl_type=cyrus"],
         ["-e", "smtpd_sasl_type=dovecot"]),
        ("no-policy-service", ["-e", "smtpd_relay_restrictions=permit_sasl_authenticated, "
                                     "reject_unauth_destination"],
         ["-e", "smtpd_relay_restrictions=" + main["smtpd_relay_restrictions"]]),
        ("policy-default-rejects", ["-e", "smtpd_policy_service_default_action=451 4.3.5 "
                                          "Server configuration problem"],
         ["-e", "smtpd_policy_service_default_action=DUNNO"]),
        ("milter-default-rejects", ["-e", "milter_default_action=tempfail"],
         ["-e", "milter_default_action=accept"]),
        ("milter-macros", ["-e", "milter_mail_macros=i {mail_addr}"],
         ["-e", "milter_mail_macros=" + main["milter_mail_macros"]]),
        ("milter-macros", ["-e", "milter_connect_macros=j v _"],
         ["-e", "milter_connect_macros=" + main["milter_connect_macros"]]),
    ]
    def apply(calls):
        for call in calls if isinstance(calls[0], list) else [calls]:
            postconf(*call)
    for want, plant, undo in plants:
        apply(plant)
        try:
            rc, ids, out = doctor()
        finally:
            apply(undo)
        assert rc == 1 and want in ids, (want, plant, out)
    rc, ids, out = doctor()
    assert rc == 0, out
    # Dovecot: no PLAIN; and clear passwords accepted despite disable_plaintext_auth.
    nopl = os.path.join(S["dir"], "dovecot-noplain.conf")
    with open(lab.dovecot_conf) as f:
        text = f.read()
    with open(nopl, "w") as f:
        f.write(text.replace("auth_mechanisms = plain login", "auth_mechanisms = login"))
    rc, ids, out = doctor(dovecot=nopl)
    assert rc == 1 and ids == ["dovecot-no-plain"], out
    apply([["-e", "smtpd_tls_auth_only=no"], ["-P", sub + "/smtpd_tls_security_level=may"]])
    try:
        rc, ids, out = doctor(extra_conf="require_tls_for_auth = no\n")
    finally:
        apply([["-e", "smtpd_tls_auth_only=yes"],
               ["-P", sub + "/smtpd_tls_security_level=encrypt"]])
    assert "dovecot-plaintext-mismatch" in ids, out
    rc, out, err = cli("doctor", "-x", "y")
    assert rc == 2



@suite.test
def userdb_listener_0666_warns_once():
    """A gate running as an unprivileged user on a 0666 auth-userdb listener (the lab's): Dovecot
    answers FAIL for every existing user, so wrong passwords become bad-credentials; the gate says
    why once, with the line to change. Unknown users are still told apart (NOTFOUND)."""
    d = new_gate_dir()
    lab = gate = None
    try:
        lab = Lab(sasl_path=os.path.join(d, "auth"))
        lab.start_dovecot()
        assert os.stat(lab.auth_userdb_socket).st_mode & 0o777 == 0o666
        gate = Gate(lab, d, user="nobody", guessing_threshold="255",
                    account_fail_limit="255/1m", ip_fail_limit="255/1m").start()
        lab.start_postfix()
        refs = []
        for user, pw in [(ALICE, "wrong-a"), (ALICE, "wrong-b"), ("bob@example.test", "wrong-c"),
                         ("ghost@example.test", "whatever")]:
            s = lab.smtp_connect(starttls=True, source_address="127.0.0.71")
            code, text = s.docmd("AUTH", "PLAIN " + b64("\0%s\0%s" % (user, pw)))
            s.close()
            assert code == 535, (code, text)
            refs.append(ref_of(text.decode()))
        causes = [gate.event(r)["cause"] for r in refs]
        assert causes == ["bad-credentials"] * 3 + ["unknown-user"], causes
        lab.wait_log(lab.dovecot_log, "client doesn't have lookup permissions")
        warn = [l for l in gate.log_text().splitlines() if "has mode 0666" in l]
        assert len(warn) == 1, gate.log_text()
        assert lab.auth_userdb_socket in warn[0] and "bad-credentials" in warn[0], warn
        assert "unix_listener auth-userdb { mode = 0660  user = nobody }" in warn[0], warn
    finally:
        if gate:
            gate.stop()
        if lab:
            lab.stop()
        subprocess.run(["rm", "-rf", d])


@suite.test
def doctor_userdb_listener_0666():
    """The lab's Dovecot configuration (2.3 or 2.4 syntax, read by the real doveconf -n) with
    auth-userdb at mode 0666: doctor flags it for an unprivileged authguard, with the line to
    change, not for root, and not once the listener has mode 0660 and authguard's user."""
    lab = doctor_lab()
    good_config()
    with open(lab.dovecot_conf) as f:
        text = f.read()
    def listener(body):
        path = os.path.join(S["dir"], "dovecot-userdb-%d.conf" % len(body))
        with open(path, "w") as f:
            f.write(re.sub(r"unix_listener auth-userdb \{[^}]*\}",
                           "unix_listener auth-userdb {\n    %s\n  }" % body, text))
        return path
    open666, fixed = listener("mode = 0666"), listener("mode = 0660\n    user = nobody")
    upstream = "userdb_upstream = unix:%s\n" % lab.auth_userdb_socket
    rc, ids, out = doctor(extra_conf=upstream + "user = nobody\n", dovecot=open666)
    assert rc == 1 and ids == ["dovecot-userdb-restricted"], out
    f = json.loads(out)[0]
    assert f["fix"] == "service auth { unix_listener auth-userdb { mode = 0660  user = nobody } }", f
    assert "bad-credentials" in f["problem"], f
    rc, ids, out = doctor(extra_conf=upstream + "user = root\n", dovecot=open666)
    assert rc == 0 and ids == [], out
    rc, ids, out = doctor(extra_conf=upstream + "user = nobody\n", dovecot=fixed)
    assert rc == 0 and ids == [], out
    bad = os.path.join(S["dir"], "dovecot-refused.conf")
    with open(bad, "w") as f:
        f.write("no_such_setting = yes\n")      # doveconf refuses it, 2.3 and 2.4 alike
    # Dovecot 2.4 refusing a 2.3 dovecot.conf (the Debian 12 to 13 upgrade) is not "healthy":
    # exit 2, as when postconf cannot be run, in text and JSON alike.
    p = subprocess.run([os.path.join(BUILD, "authguard"), "-c", S["dconf"], "doctor", "-c",
                        lab.postfix_dir, "-d", bad], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and p.stdout.endswith("0 problems found (doveconf -n failed, see "
                                                    "above: Dovecot settings not checked)\n"), p
    assert "doveconf: Fatal" in p.stderr, p.stderr
    assert "authguard: doctor: doveconf -c %s -n failed" % bad in p.stderr, p.stderr
    p = subprocess.run([os.path.join(BUILD, "authguard"), "-c", S["dconf"], "--json", "doctor",
                        "-c", lab.postfix_dir, "-d", bad], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 2 and json.loads(p.stdout) == [], p
    assert "authguard: doctor: doveconf -c %s -n failed" % bad in p.stderr, p.stderr

# --- authguard probe against the lab's listeners ---------------------------------------------

def probe(port, user, password, *extra):
    """The lab's certificate is self-signed for lab.example.test, not for the 127.0.0.1 probed:
    --insecure (the verification itself is test_hardening's, with a CA and names that match)."""
    p = subprocess.run([os.path.join(BUILD, "authguard"), "--json", "probe",
                        "127.0.0.1:%d" % port, "--user", user, "--insecure"] + list(extra),
                       capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, AUTHGUARD_PASSWORD=password))
    assert p.stdout, p.stderr
    out = json.loads(p.stdout)
    assert out["exit"] == str(p.returncode), out
    assert password not in p.stdout and b64("\0%s\0%s" % (user, password)) not in p.stdout
    return p.returncode, out


@suite.test
def probe_explains_gate_scenarios():
    lab = S["lab"]
    rc, out = probe(lab.submission_port, ALICE, ALICE_PW)
    assert rc == 0 and out["result"] == "authenticated", out
    assert out["tls"].startswith("TLSv1.") and "PLAIN" in out["auth after TLS"], out
    assert out["starttls"] == "offered" and "CN=" in out["certificate"], out
    assert out["verify"] != "ok: trusted, and the name matches"      # the lab's self-signed
    assert "not verified" in out["tls warning"], out                  # said, with --insecure
    rc, out = probe(lab.smtps_port, ALICE, ALICE_PW, "--tls", "implicit")
    assert rc == 0 and "auth before TLS" not in out, out
    rc, out = probe(lab.submission_port, ALICE, ALICE_PW, "--mech", "login")
    assert rc == 0, out
    rc, out = probe(lab.submission_port, ALICE, "not-it")
    assert rc == 1 and out["source"] == "authguard" and out["cause"] == "bad-password", out
    assert "cause=bad-password" in cli("why", out["ref"])[1]
    rc, out = probe(lab.submission_port, "nobody@example.test", "no-such-user-pw")
    assert rc == 1 and out["cause"] == "unknown-user", out
    rc, out = probe(lab.submission_port, "bob@example.test", "abcd efgh ijkl mnop")
    assert rc == 1 and out["cause"] == "app-password-spaces" and "spaces" in out["warning"], out
    rc, out = probe(lab.submission_port, ALICE, ALICE_PW, "--tls", "none")
    assert rc == 1 and out["cause"] == "tls-required", out
    assert out["auth before TLS"] != "not offered", out
    lab.stop_dovecot()
    try:
        rc, out = probe(lab.submission_port, ALICE, ALICE_PW)
    finally:
        lab.start_dovecot()
    # The gate drops smtpd's connection so that Postfix answers 454 (no ref in Postfix's text).
    assert rc == 6 and out["source"] == "Postfix", out
    assert "Connection lost" in out["auth reply"] and "Dovecot" in out["meaning"], out
    rc, out = probe(free_port(), ALICE, ALICE_PW)
    assert rc == 3 and out["result"] == "cannot connect", out
    p = subprocess.run([os.path.join(BUILD, "authguard"), "probe", "127.0.0.1"],
                       capture_output=True, text=True)
    assert p.returncode == 2


@suite.test
def probe_explains_postfix_texts():
    """The doctor lab, started: smtpd_tls_auth_only = yes, and TLS required on submission."""
    lab = doctor_lab()
    good_config()
    postconf("-e", "smtpd_milters=")
    lab.start_dovecot()
    lab.start_postfix()
    rc, out = probe(lab.submission_port, ALICE, ALICE_PW, "--tls", "none")
    assert rc == 4 and out["source"] == "Postfix", out
    assert "STARTTLS" in out["auth reply"] and out["auth before TLS"] == "not offered", out
    postconf("-P", "%d/inet/smtpd_tls_security_level=may" % lab.submission_port)
    mark, old = lab.log_mark(lab.maillog), lab.smtpd_pids()
    subprocess.run(["postfix", "-c", lab.postfix_dir, "reload"], capture_output=True)
    # in force once the master has read it and the smtpd processes started before are gone
    lab.wait_log(lab.maillog, "reload -- version", since=mark)
    wait_until(lambda: not set(old) & set(lab.smtpd_pids()), 10, "smtpd of the old configuration")
    rc, out = probe(lab.submission_port, ALICE, ALICE_PW, "--tls", "none")
    assert rc == 5 and out["source"] == "Postfix", out
    assert "authentication not enabled" in out["auth reply"], out
    rc, out = probe(lab.submission_port, ALICE, ALICE_PW)      # the same port with STARTTLS
    assert rc == 0, out


# --- authguard analyze on the logs a lab's Postfix and Dovecot wrote ----------------------------

@suite.test
def analyze_reproduces_gate_counts():
    """A fresh lab and gate: the same failures counted by the gate (top --by cause) and by analyze
    from the Postfix and Dovecot logs of that lab, which the test never writes itself."""
    d = new_gate_dir()
    lab = gate = None
    try:
        lab = Lab(sasl_path=os.path.join(d, "auth"))
        lab.start_dovecot()
        gate = Gate(lab, d, guessing_threshold="255", account_fail_limit="255/1m",
                    ip_fail_limit="255/1m").start()
        lab.start_postfix()
        p = subprocess.run([os.path.join(BUILD, "authguard"), "-s", gate.control, "top"],
                           capture_output=True, text=True)
        assert p.returncode == 0 and p.stdout == "no failures\n", (p.stdout, p.stderr)
        tries = [("127.0.0.61", ALICE, "nope-%d" % i) for i in range(3)] + \
                [("127.0.0.62", "ghost%d@example.test" % i, "whatever") for i in range(2)] + \
                [("127.0.0.63", "bob@example.test", "not-bobs"),
                 ("127.0.0.64", ALICE, ALICE_PW)]
        for src, user, pw in tries:
            s = lab.smtp_connect(starttls=True, source_address=src)
            s.docmd("AUTH", "PLAIN " + b64("\0%s\0%s" % (user, pw)))
            s.close()
        # Postfix (postlogd) and Dovecot (its log process) write a moment after the replies:
        # wait for each failure's line in both logs
        failed = [re.compile(r"\(%s,%s[,)].*(Password mismatch|unknown user)"
                             % (re.escape(user), re.escape(src))) for src, user, _ in tries[:-1]]

        def all_logged():
            dovecot = lab.dovecot_log_text().splitlines()
            return (lab.maillog_text().count("authentication failed") == len(failed) and
                    all(sum(bool(f.search(l)) for l in dovecot) >= failed.count(f)
                        for f in failed))
        wait_until(all_logged, 10, "each failure in the Postfix and Dovecot logs")
        p = subprocess.run([os.path.join(BUILD, "authguard"), "-s", gate.control, "--json", "top",
                            "--by", "cause"], capture_output=True, text=True)
        gate_counts = {r["cause"]: int(r["failures"]) for r in json.loads(p.stdout)}
        p = subprocess.run([os.path.join(BUILD, "authguard"), "--json", "analyze", "--by",
                            "cause", lab.maillog, lab.dovecot_log], capture_output=True,
                           text=True)
        assert p.returncode == 0, p.stderr
        log_counts = {r["cause"]: r["failures"] for r in json.loads(p.stdout)}
        assert gate_counts == {"bad-password": 4, "unknown-user": 2}, gate_counts
        assert log_counts == gate_counts, (log_counts, gate_counts)
        p = subprocess.run([os.path.join(BUILD, "authguard"), "analyze", "-"],
                           input=open(lab.maillog).read() + open(lab.dovecot_log).read(),
                           capture_output=True, text=True)
        assert "user=alice@example.test failures=3 dominant_cause=bad-password" in p.stdout, \
            p.stdout
        assert "6 failed AUTH attempts" in p.stdout
        p = subprocess.run([os.path.join(BUILD, "authguard"), "analyze", "--by", "address",
                            lab.maillog], capture_output=True, text=True)
        # Without Dovecot's log every failure is bad-credentials, as for Cyrus SASL.
        assert "address=127.0.0.62 failures=2 dominant_cause=bad-credentials" in p.stdout, \
            p.stdout
        p = subprocess.run([os.path.join(BUILD, "authguard"), "analyze", "/nonexistent"],
                           capture_output=True, text=True)
        assert p.returncode == 2
    finally:
        if gate:
            gate.stop()
        if lab:
            lab.stop()
        subprocess.run(["rm", "-rf", d])



FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "maillog")


def analyze(*args):
    p = subprocess.run([os.path.join(BUILD, "authguard")] + list(args), capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, (p.returncode, p.stderr)
    return p.stdout


@suite.test
def analyze_captured_logs_of_each_release():
    """The logs real Postfix 3.7 + Dovecot 2.3 (Debian 12) and Postfix 3.10 + Dovecot 2.4 (Debian
    13) wrote for the same plays (tests/fixtures/maillog/capture.py): two wrong passwords for
    alice, an unknown user, a wrong LOGIN password for bob, and a success followed by a rejected
    recipient (Postfix 3.10 puts sasl_method and sasl_username on that reject line)."""
    for release in ("postfix-3.7-dovecot-2.3", "postfix-3.10-dovecot-2.4"):
        d = os.path.join(FIXTURES, release)
        logs = [os.path.join(d, "maillog"), os.path.join(d, "dovecot.log")]
        causes = {r["cause"]: r["failures"] for r in
                  json.loads(analyze("--json", "analyze", "--by", "cause", *logs))}
        assert causes == {"bad-password": 3, "unknown-user": 1}, (release, causes)
        users = {r["user"]: (r["failures"], r["dominant_cause"]) for r in
                 json.loads(analyze("--json", "analyze", *logs))}
        assert users == {"alice@example.test": (2, "bad-password"),
                         "ghost@example.test": (1, "unknown-user"),
                         "bob@example.test": (1, "bad-password")}, (release, users)
        out = analyze("analyze", "--by", "address", *logs)
        assert out == ("  address=127.0.0.21 failures=2 dominant_cause=bad-password\n"
                       "  address=127.0.0.22 failures=1 dominant_cause=unknown-user\n"
                       "  address=127.0.0.23 failures=1 dominant_cause=bad-password\n"
                       "4 failed AUTH attempts\n"), (release, out)
        # Postfix's log alone: the failures are there, their causes are not.
        causes = {r["cause"]: r["failures"] for r in
                  json.loads(analyze("--json", "analyze", "--by", "cause", logs[0]))}
        assert causes == {"bad-credentials": 4}, (release, causes)


if __name__ == "__main__":
    suite.run(setup, teardown)
