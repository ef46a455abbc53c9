#!/usr/bin/env python3
"""The door of every attempt where an admin reads it, with real Dovecot (imap, pop3, managesieve)
asking authguard-policyd through its auth policy client, real Postfix through the gate, and real
clients (imaplib, poplib, smtplib): the log line's proto= (smtpd_pid for SMTP alone), why --json,
top's failures by door and top --by proto, and the metrics' proto label, checked by promtool.
"""

import json
import os
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab, free_port, tcp_listening, wait_until  # noqa: E402
import gatelab  # noqa: E402
from gatelab import teardown_suite, Gate, b64, new_gate_dir  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("proto")
S = {}
NONCE = "proto-lab-nonce"
API_KEY = "proto-lab-api-key"
ACCOUNTS = {
    "lines@example.test": "Lines-1",
    "toprow@example.test": "Top-Row-1",
    "counted@example.test": "Counted-1",
}
# High limits: these tests read what is shown, no test locks an account.
CONF = dict(account_fail_limit="50/10m", ip_fail_limit="200/10m", guessing_threshold="40")
PROMTOOL = "/usr/bin/promtool"


def setup():
    gdir = S["dir"] = new_gate_dir()
    port = free_port()
    S["metrics_port"] = free_port()
    S["lab"] = lab = Lab(
        sasl_path=os.path.join(gdir, "auth"), maxproc=10, logins=("imap", "pop3", "sieve"),
        extra_users=ACCOUNTS,
        auth_policy={"url": "http://127.0.0.1:%d/" % port, "nonce": NONCE,
                     "api_header": "X-API-Key: " + API_KEY, "check_before_auth": True,
                     "check_after_auth": False, "report_after_auth": True,
                     "reject_on_fail": False, "timeout_ms": 2000})
    lab.start_dovecot()
    S["gate"] = Gate(lab, gdir, auth_policy_listen="inet:127.0.0.1:%d" % port,
                     auth_policy_api_header="X-API-Key: " + API_KEY,
                     auth_policy_hash_nonce=NONCE,
                     metrics_listen="inet:127.0.0.1:%d" % S["metrics_port"], **CONF).start()
    wait_until(lambda: tcp_listening(port), 10, "the auth policy door")
    lab.start_postfix()


def teardown():
    teardown_suite(S)


def smtp(user, password):
    s = S["lab"].smtp_connect(starttls=True)
    try:
        return s.docmd("AUTH PLAIN", b64("\0%s\0%s" % (user, password)))[0]
    finally:
        s.close()


def cli(*args):
    r = subprocess.run([os.path.join(gatelab.BUILD, "authguard"), "-s", S["gate"].control]
                       + list(args), capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, (args, r.returncode, r.stdout, r.stderr)
    return r.stdout


def wait_lines(user, count):
    """The gate's auth lines for user, once there are count of them (a door logs its line at
    Dovecot's report)."""
    S["gate"].wait_events(lambda e: e.get("user") == user, count=count)
    return [e for e in S["gate"].events() if e.get("user") == user]


def scrape():
    url = "http://127.0.0.1:%d/metrics" % S["metrics_port"]
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.status == 200
        return r.read().decode()


def sample(text, series):
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return None


@suite.test
def each_line_names_its_door():
    """One line per login, whichever door: proto=imap, pop3, sieve or smtp after result and
    cause; smtpd_pid on SMTP's line alone."""
    lab, user, pw = S["lab"], "lines@example.test", ACCOUNTS["lines@example.test"]
    assert not lab.imap_login(user, "wrong-imap")[0]
    assert lab.pop3_login(user, pw)[0]
    assert not lab.sieve_login(user, "wrong-sieve")[0]
    assert smtp(user, "wrong-smtp") == 535
    lines = wait_lines(user, 4)
    assert sorted(e["proto"] for e in lines) == ["imap", "pop3", "sieve", "smtp"], lines
    for e in lines:
        line = e["_line"]
        assert (" result=%s " % e["result"]) in line and (" proto=%s user=" % e["proto"]) in line
        assert ("smtpd_pid" in e) == (e["proto"] == "smtp"), line
        if e["result"] == "fail":
            assert " cause=%s proto=" % e["cause"] in line, line
    assert [e["result"] for e in lines if e["proto"] == "pop3"] == ["pass"], lines
    j = json.loads(cli("--json", "why", user))
    assert sorted(a["proto"] for a in j["attempts"]) == ["imap", "pop3", "sieve", "smtp"], j
    assert all(("smtpd_pid" in a) == (a["proto"] == "smtp") for a in j["attempts"]), j


@suite.test
def top_shows_the_doors_of_each_row():
    """top: an account's failures by door (SMTP's first), in text and JSON; --by proto: which
    door fails most."""
    lab, user = S["lab"], "toprow@example.test"
    for i in range(3):
        assert not lab.imap_login(user, "imap-%d" % i)[0]
    assert not lab.pop3_login(user, "pop3-0")[0]
    assert smtp(user, "smtp-0") == 535
    wait_lines(user, 5)
    rows = json.loads(cli("--json", "top", "--since", "10m"))
    row = [r for r in rows if r["user"] == user]
    assert len(row) == 1 and row[0]["failures"] == "5", rows
    assert row[0]["protos"] == {"smtp": "1", "imap": "3", "pop3": "1"}, row
    assert list(row[0]["protos"]) == ["smtp", "imap", "pop3"], row      # the doors' order
    text = cli("top", "--since", "10m")
    assert "  user=%s failures=5 passes=0 protos=smtp:1,imap:3,pop3:1 " % user in text, text
    doors = {r["proto"]: int(r["failures"]) for r in
             json.loads(cli("--json", "top", "--by", "proto", "--since", "10m"))}
    assert doors.get("imap", 0) >= 3 and doors.get("pop3", 0) >= 1 and \
        doors.get("smtp", 0) >= 1, doors
    assert "locked_until" not in cli("top", "--by", "proto"), "a door has no lock"


@suite.test
def metrics_count_each_door():
    """authguard_auth_attempts_total and authguard_auth_duration_seconds by door: an IMAP
    failure counts on imap's series, not on smtp's; promtool takes the exposition."""
    lab, user, pw = S["lab"], "counted@example.test", ACCOUNTS["counted@example.test"]
    before = scrape()
    assert not lab.imap_login(user, "wrong")[0]
    assert lab.imap_login(user, pw)[0]
    wait_lines(user, 2)
    text = scrape()
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stdout + p.stderr

    def grew(series):
        return sample(text, series) - (sample(before, series) or 0)

    assert grew('authguard_auth_attempts_total{proto="imap",result="fail",'
                'cause="bad-password"}') == 1, text
    assert grew('authguard_auth_attempts_total{proto="imap",result="pass",cause=""}') == 1
    assert grew('authguard_auth_attempts_total{proto="smtp",result="pass",cause=""}') == 0
    assert grew('authguard_auth_duration_seconds_count{proto="imap"}') == 2
    assert grew('authguard_auth_duration_seconds_count{proto="smtp"}') == 0
    assert sample(text, 'authguard_auth_duration_seconds_bucket{proto="imap",le="+Inf"}') == \
        sample(text, 'authguard_auth_duration_seconds_count{proto="imap"}')


if __name__ == "__main__":
    suite.run(setup, teardown)
