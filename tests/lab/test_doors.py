#!/usr/bin/env python3
"""One lock for every door: real Dovecot (imap, pop3, managesieve) asking authguard-policyd
through its auth policy client, real Postfix through the gate, real clients (imaplib, poplib,
smtplib, curl, a ManageSieve dialog).

Dovecot is set up as conf-examples/dovecot-auth-policy-2.3.conf (or -2.4.conf) says: ask before
the password check, report after, no question after a right password, logins go on when authguard
is not there (auth_policy_reject_on_fail = no).  Dovecot logs each passdb lookup (auth_debug),
so "never reached Dovecot's passdb" is counted in its log, per door.
"""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab, free_port, tcp_listening, wait_until  # noqa: E402
import gatelab  # noqa: E402
from gatelab import teardown_suite, Gate, b64, new_gate_dir, ref_of  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("doors")
S = {}
NONCE = "doors-lab-nonce"
API_KEY = "doors-lab-api-key"
# Fresh accounts, one or two per test, so that no test sees another's failures.
ACCOUNTS = {
    "imapfail@example.test": "Imap-Fail-1",
    "smtpfail@example.test": "Smtp-Fail-1",
    "familiar@example.test": "Familiar-1",
    "stale@example.test": "New-Stale-Pass",
    "phone@example.test": "New-Phone-Pass",
    "timeline@example.test": "Timeline-1",
    "once@example.test": "Once-1",
    "passdb@example.test": "Passdb-1",
    "outage@example.test": "Outage-1",
}
CONF = dict(account_fail_limit="3/10m", ip_fail_limit="50/10m", lockout_time="1m",
            lockout_max="10m", guessing_threshold="3")
ACCOUNT_LOCKED = "account-locked"


def setup():
    gdir = S["dir"] = new_gate_dir()
    port = S["door_port"] = free_port()
    S["lab"] = lab = Lab(
        sasl_path=os.path.join(gdir, "auth"), maxproc=10, logins=("imap", "pop3", "sieve"),
        extra_users=ACCOUNTS, auth_debug=True,
        auth_policy={"url": "http://127.0.0.1:%d/" % port, "nonce": NONCE,
                     "api_header": "X-API-Key: " + API_KEY, "check_before_auth": True,
                     "check_after_auth": False, "report_after_auth": True,
                     "reject_on_fail": False, "timeout_ms": 2000})
    lab.start_dovecot()
    S["gate"] = Gate(lab, gdir, auth_policy_listen="inet:127.0.0.1:%d" % port,
                     auth_policy_api_header="X-API-Key: " + API_KEY,
                     auth_policy_hash_nonce=NONCE, **CONF).start()
    wait_until(lambda: tcp_listening(port), 10, "the auth policy door")
    lab.start_postfix()


def teardown():
    teardown_suite(S)


# --- the doors, as clients use them ----------------------------------------------------------

def smtp(user, password, src="127.0.0.1"):
    """One AUTH PLAIN through Postfix and the gate: (code, text)."""
    s = S["lab"].smtp_connect(starttls=True, source_address=src)
    try:
        code, msg = s.docmd("AUTH PLAIN", b64("\0%s\0%s" % (user, password)))
        return code, msg.decode()
    finally:
        s.close()


def imap(user, password, src="127.0.0.1"):
    return S["lab"].imap_login(user, password, source_address=src)


def pop3(user, password, src="127.0.0.1"):
    return S["lab"].pop3_login(user, password, source_address=src)


def cli(*args):
    r = subprocess.run([os.path.join(gatelab.BUILD, "authguard"), "-s", S["gate"].control]
                       + list(args), capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout, r.stderr


def events(user, proto=None):
    return [e for e in S["gate"].events()
            if e.get("user") == user and (proto is None or e.get("proto") == proto)]


def wait_events(user, count, proto=None):
    """The gate's auth lines for user (through proto), once there are count of them; a door
    logs its line when the outcome is known (for Dovecot's logins: at its report)."""
    S["gate"].wait_events(lambda e: e.get("user") == user
                          and (proto is None or e.get("proto") == proto), count=count)
    return events(user, proto)


def failures_in_window(user):
    rc, out, err = cli("--json", "why", user)
    assert rc == 0, (rc, out, err)
    return int(json.loads(out)["account"]["failures_in_window"])


def passdb_lookups(user):
    """How many times Dovecot's passdb was asked about user (auth_debug: 2.3 and 2.4 both log
    `Performing passdb lookup` with the user in the prefix).  Dovecot's log process writes a
    moment after the answers: a userdb lookup made now is logged after all of them."""
    lab = S["lab"]
    barrier = "log-barrier-%s@example.test" % os.urandom(4).hex()
    lab.userdb_lookup(barrier)
    lab.wait_log(lab.dovecot_log, barrier)
    return sum(1 for l in lab.dovecot_log_text().splitlines()
               if "(%s," % user in l and "Performing passdb lookup" in l)


def assert_door_locked(reply, proto, user):
    """A login refused by the door: Dovecot shows the door's text with its ref, and the gate
    logged that ref once, as account-locked through this door."""
    ok, text = reply
    assert not ok, reply
    ref = ref_of(text)
    assert ref, "no (ref=...) in what the %s client read: %r" % (proto, text)
    ev = S["gate"].event(ref)
    assert ev["result"] == "fail" and ev["cause"] == ACCOUNT_LOCKED, ev["_line"]
    assert ev["proto"] == proto and ev["user"] == user, ev["_line"]
    return ev


# --- the tests -------------------------------------------------------------------------------

@suite.test
def wrong_imap_passwords_lock_the_account_for_smtp():
    user, pw = "imapfail@example.test", ACCOUNTS["imapfail@example.test"]
    for i in range(3):
        ok, text = imap(user, "imap-guess-%d" % i, src="127.0.0.11")
        assert not ok, text
    evs = wait_events(user, 3, "imap")
    assert [e["result"] for e in evs] == ["fail"] * 3, [e["_line"] for e in evs]
    assert all(e["ip"] == "127.0.0.11" for e in evs), [e["_line"] for e in evs]
    code, text = smtp(user, pw, src="127.0.0.12")
    assert code == 535, (code, text)
    ev = S["gate"].event(ref_of(text))
    assert ev["cause"] == ACCOUNT_LOCKED and ev["proto"] == "smtp", ev["_line"]
    # and on IMAP itself, with the right password, from another address
    assert_door_locked(imap(user, pw, src="127.0.0.12"), "imap", user)


@suite.test
def wrong_smtp_passwords_lock_the_account_for_imap_pop3_and_sieve():
    user, pw = "smtpfail@example.test", ACCOUNTS["smtpfail@example.test"]
    for i in range(3):
        code, text = smtp(user, "smtp-guess-%d" % i, src="127.0.0.21")
        assert code == 535, (code, text)
    assert_door_locked(imap(user, pw, src="127.0.0.22"), "imap", user)
    assert_door_locked(pop3(user, pw, src="127.0.0.22"), "pop3", user)
    assert_door_locked(S["lab"].sieve_login(user, pw, source_address="127.0.0.22"), "sieve",
                       user)
    rc, out = S["lab"].curl_login("imap", user, pw, source_address="127.0.0.22")
    assert rc == 67, "curl imap:// of a locked account: rc %d\n%s" % (rc, out)   # login denied
    assert "(ref=" in out, out
    rc, out = S["lab"].curl_login("pop3", user, pw, source_address="127.0.0.22")
    assert rc == 67, "curl pop3:// of a locked account: rc %d\n%s" % (rc, out)
    assert "(ref=" in out, out


@suite.test
def a_familiar_address_logs_in_through_both_while_an_attacker_is_locked_out():
    user, pw = "familiar@example.test", ACCOUNTS["familiar@example.test"]
    home, attacker = "127.0.0.31", "127.0.0.32"
    ok, text = imap(user, pw, src=home)            # the usual device, through IMAP
    assert ok, text
    wait_events(user, 1, "imap")
    for i in range(3):
        ok, text = imap(user, "attack-%d" % i, src=attacker)
        assert not ok, text
    wait_events(user, 4)
    assert_door_locked(imap(user, pw, src=attacker), "imap", user)
    code, text = smtp(user, pw, src=attacker)
    assert code == 535 and S["gate"].event(ref_of(text))["cause"] == ACCOUNT_LOCKED, text
    ok, text = imap(user, pw, src=home)
    assert ok, "the familiar address is locked out of IMAP: %r" % text
    ok, text = pop3(user, pw, src=home)
    assert ok, "the familiar address is locked out of POP3: %r" % text
    code, text = smtp(user, pw, src=home)
    assert code == 235, "the familiar address is locked out of SMTP: %r %r" % (code, text)


@suite.test
def a_stale_password_on_imap_is_stale_password_counted_once():
    user, pw = "stale@example.test", ACCOUNTS["stale@example.test"]
    for i in range(5):
        ok, text = imap(user, "Old-Stale-Pass", src="127.0.0.41")
        assert not ok, text
        evs = wait_events(user, i + 1, "imap")
        assert len(events(user)) == i + 1, \
            "attempt %d: %r" % (i + 1, [e["_line"] for e in events(user)])   # one line each
        if i == 1:
            time.sleep(10.5)      # a device retrying later, not a client's second mechanism
    causes = [e["cause"] for e in evs]
    assert causes == ["bad-password"] * 2 + ["stale-password"] * 3, causes
    assert failures_in_window(user) == 1, failures_in_window(user)
    ok, text = imap(user, pw, src="127.0.0.42")
    assert ok, "five tries of one old password locked the account: %r" % text


@suite.test
def one_old_password_on_imap_and_smtp_is_one_stale_device():
    """With auth_policy_hash_nonce the gate makes its fingerprints as Dovecot's pwhash: a phone
    with an old password failing on IMAP and then on SMTP is one stale password, counted once."""
    user, pw = "phone@example.test", ACCOUNTS["phone@example.test"]
    ok, text = imap(user, "Old-Phone-Pass", src="127.0.0.45")
    assert not ok, text
    wait_events(user, 1, "imap")
    time.sleep(10.5)            # the phone's next sync, not a second mechanism
    code, text = smtp(user, "Old-Phone-Pass", src="127.0.0.45")
    assert code == 535, (code, text)
    ev = S["gate"].event(ref_of(text))
    assert ev["cause"] == "stale-password" and ev["proto"] == "smtp", ev["_line"]
    ok, text = imap(user, "Old-Phone-Pass", src="127.0.0.45")
    assert not ok, text
    evs = wait_events(user, 3)
    assert [(e["proto"], e["cause"]) for e in evs] == [
        ("imap", "bad-password"), ("smtp", "stale-password"), ("imap", "stale-password")], \
        [e["_line"] for e in evs]
    assert failures_in_window(user) == 1, failures_in_window(user)


@suite.test
def why_shows_both_doors_in_one_timeline():
    user, pw = "timeline@example.test", ACCOUNTS["timeline@example.test"]
    ok, _ = imap(user, "timeline-wrong-1", src="127.0.0.51")
    assert not ok
    code, _ = smtp(user, "timeline-wrong-2", src="127.0.0.51")
    assert code == 535
    ok, _ = pop3(user, pw, src="127.0.0.51")
    assert ok
    wait_events(user, 3)
    rc, out, err = cli("why", user)
    assert rc == 0, (rc, out, err)
    lines = [l for l in out.splitlines() if " ref=" in l]
    protos = [l.split(" proto=", 1)[1].split()[0] for l in lines if " proto=" in l]
    assert sorted(protos) == ["imap", "pop3", "smtp"], out
    rc, out, err = cli("--json", "why", user)
    assert rc == 0, (rc, out, err)
    attempts = json.loads(out)["attempts"]
    assert sorted(a.get("proto") for a in attempts) == ["imap", "pop3", "smtp"], out
    times = [a["time"] for a in attempts]
    assert times == sorted(times) or times == sorted(times, reverse=True), times   # one timeline


@suite.test
def nothing_is_counted_twice_for_smtp():
    """The gate forwards each SMTP AUTH to Dovecot, whose policy hook asks the door about it
    too (protocol smtp): the window grows by exactly one per SMTP failure, and each attempt
    has exactly one line."""
    user, pw = "once@example.test", ACCOUNTS["once@example.test"]
    assert failures_in_window(user) == 0
    lab = S["lab"]
    for i in range(2):
        mark = lab.log_mark(lab.dovecot_log)
        code, text = smtp(user, "once-wrong-%d" % i, src="127.0.0.61")
        assert code == 535, (code, text)
        ref = ref_of(text)
        # Dovecot asked the door about this very attempt (its session is the gate's ref) and
        # has its report answered: whatever the door does with it is done now.
        for step in ("Policy request", "Policy report action finished"):
            lab.wait_log(lab.dovecot_log, step, since=mark, timeout=10,
                         where=lambda l: "<%s>" % ref in l)
        assert failures_in_window(user) == i + 1, (i, failures_in_window(user))
        assert len(events(user)) == i + 1, [e["_line"] for e in events(user)]
    code, text = smtp(user, pw, src="127.0.0.62")     # two failures of three: not locked
    assert code == 235, (code, text)
    assert len(events(user)) == 3 and all(e["proto"] == "smtp" for e in events(user)), \
        [e["_line"] for e in events(user)]


@suite.test
def after_the_lock_no_attempt_reaches_dovecots_passdb():
    user, pw = "passdb@example.test", ACCOUNTS["passdb@example.test"]
    for i in range(3):
        ok, _ = imap(user, "passdb-guess-%d" % i, src="127.0.0.71")
        assert not ok
    wait_events(user, 3)
    before = passdb_lookups(user)
    assert before == 3, before             # the three failures did reach it (the count works)
    reached = {}
    for door, attempt in (("imap", lambda p: imap(user, p, src="127.0.0.72")[0]),
                          ("pop3", lambda p: pop3(user, p, src="127.0.0.72")[0]),
                          ("sieve", lambda p: S["lab"].sieve_login(
                              user, p, source_address="127.0.0.72")[0]),
                          ("smtp", lambda p: smtp(user, p, src="127.0.0.72")[0] == 235)):
        mark = passdb_lookups(user)
        for p in (pw, "after-lock-1", "after-lock-2", pw):
            assert not attempt(p), "%s let a locked account in" % door
        reached[door] = passdb_lookups(user) - mark
    print("# attempts that reached Dovecot's passdb after the lock, per door: %s"
          % " ".join("%s=%d" % kv for kv in sorted(reached.items())))
    assert reached == {"imap": 0, "pop3": 0, "sieve": 0, "smtp": 0}, reached


@suite.test
def with_authguard_down_dovecot_lets_logins_through():
    """auth_policy_reject_on_fail = no: the door is not there (the daemon stopped), Dovecot's
    policy client cannot connect, and logins go on; a wrong password still fails."""
    user, pw = "outage@example.test", ACCOUNTS["outage@example.test"]
    gate = S["gate"]
    rc = gate.stop()
    assert rc == 0, "authguard-policyd exited %s" % rc
    assert not tcp_listening(S["door_port"])
    mark = S["lab"].log_mark(S["lab"].dovecot_log)
    t0 = time.monotonic()
    ok, text = imap(user, pw)
    took = time.monotonic() - t0
    assert ok, text
    assert took < 2.0, "the login waited %.1f s for a policy server that is not there" % took
    ok, text = pop3(user, pw)
    assert ok, text
    ok, text = imap(user, "outage-wrong")
    assert not ok, text
    S["lab"].wait_log(S["lab"].dovecot_log, "Policy server HTTP error", since=mark)
    gate.start()
    wait_until(lambda: tcp_listening(S["door_port"]), 10, "the auth policy door")
    ok, text = imap(user, pw)
    assert ok, text


if __name__ == "__main__":
    suite.run(setup, teardown)
