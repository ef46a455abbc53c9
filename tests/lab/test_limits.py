#!/usr/bin/env python3
"""Failure limits through real Postfix and Dovecot: lockout at exactly the limit and before
Dovecot, bursts over many smtpd processes, the familiar address during an attack, stale password
vs guessing, address blocks, and lockouts that survive a restart, a kill -9 and a damaged file.

Dovecot logs every password it checks (auth_verbose), so "never reached Dovecot" is counted in
its log."""

import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab  # noqa: E402
import gatelab  # noqa: E402
from gatelab import teardown_suite, Gate, b64, new_gate_dir, ref_of, swaks_auth_reply  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("limits")
S = {}
CONF = dict(account_fail_limit="3/10m", ip_fail_limit="6/10m", lockout_time="1m",
            lockout_max="10m", guessing_threshold="3")


def setup():
    S["dir"] = new_gate_dir()
    S["lab"] = Lab(sasl_path=os.path.join(S["dir"], "auth"), maxproc=20)
    S["lab"].start_dovecot()
    S["gate"] = Gate(S["lab"], S["dir"], **CONF).start()
    S["lab"].start_postfix()


def teardown():
    teardown_suite(S)


def auth(user, password, src="127.0.0.1", tls=True):
    """One AUTH PLAIN through Postfix from a loopback source address: (code, text)."""
    s = S["lab"].smtp_connect(starttls=tls, source_address=src)
    try:
        code, msg = s.docmd("AUTH PLAIN", b64("\0%s\0%s" % (user, password)))
        return code, msg.decode()
    finally:
        s.close()


def cause_of(text):
    return S["gate"].event(ref_of(text))["cause"]


_libc_time = ctypes.CDLL(None).time
_libc_time.restype = ctypes.c_long


def gate_clock():
    """The gate's clock: time(2), whole seconds, which its lock times and texts use."""
    return _libc_time(None)


def dovecot_checks(user):
    """How many times Dovecot checked a password for user (auth_verbose lines: Dovecot 2.3
    writes `auth: Info: passwd-file(USER,IP): Password mismatch`, Dovecot 2.4.1
    `auth(USER,IP,sasl:plain): Info: passwd-file: Password mismatch`; a userdb lookup,
    `(USER)` alone, is not a password check).  Its log process writes a moment after the
    answers: a user lookup made now is logged after all of them."""
    barrier = "log-barrier-%s@example.test" % os.urandom(4).hex()
    S["lab"].userdb_lookup(barrier)
    S["lab"].wait_log(S["lab"].dovecot_log, barrier)
    return sum(1 for l in S["lab"].dovecot_log_text().splitlines()
               if "(%s," % user in l and ("Password mismatch" in l or "unknown user" in l))


@suite.test
def lockout_at_exactly_the_limit_before_dovecot():
    causes = []
    for i in range(3):
        locked_at = gate_clock()        # the third failure locks, at this second or later
        code, text = auth("alice@example.test", "wrong-%d" % i, src="127.0.0.11")
        assert code == 535, text
        causes.append(cause_of(text))
    # three different wrong passwords: the third is guessing (guessing_threshold = 3)
    assert causes == ["bad-password", "bad-password", "password-guessing"], causes
    code, text = auth("alice@example.test", "correct horse", src="127.0.0.12")
    gone = gate_clock() - locked_at     # at most this many seconds of the lock have passed
    assert code == 535 and cause_of(text) == "account-locked", text
    m = re.search(r"try again in (\d+) seconds \(ref=", text)
    assert m and 60 - gone <= int(m.group(1)) <= 60, (gone, text)     # lockout_time = 1m
    assert dovecot_checks("alice@example.test") == 3
    lock = S["gate"].wait_events(lambda e: True, count=1, timeout=2) and \
        [e for e in S["gate"].events("lock") if e["key"] == "alice@example.test"]
    assert len(lock) == 1 and lock[0]["kind"] == "account", lock


@suite.test
def burst_over_many_smtpd_never_passes_the_limit():
    user, results = "burst-target@example.test", []

    def one(i):
        try:
            results.append(auth(user, "guess-%d" % i, src="127.0.1.%d" % (i + 1)))
        except Exception as e:   # recorded, asserted below
            results.append((None, repr(e)))
    threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 20 and all(c == 535 for c, _ in results), results
    causes = sorted(cause_of(t) for _, t in results)
    assert causes.count("account-locked") == 17, causes
    assert dovecot_checks(user) == 3, dovecot_checks(user)
    pids = {e["smtpd_pid"] for e in S["gate"].events() if e["user"] == user}
    assert len(pids) > 1, "the burst should have used several smtpd processes"


@suite.test
def familiar_address_logs_in_during_an_attack():
    code, _ = auth("carol@example.test", "Carol-Pass-1", src="127.0.0.21")   # her usual device
    assert code == 235
    for i in range(3):
        auth("carol@example.test", "attack-%d" % i, src="127.0.0.22")
    code, text = auth("carol@example.test", "Carol-Pass-1", src="127.0.0.22")
    assert code == 535 and cause_of(text) == "account-locked", text
    code, text = auth("carol@example.test", "Carol-Pass-1", src="127.0.0.21")
    assert code == 235, text


@suite.test
def stale_password_counts_once_guessing_is_flagged():
    causes = []
    for i in range(5):
        code, text = auth("bob@example.test", "Old-Bob-Pass", src="127.0.0.31")
        causes.append(cause_of(text))
        if i == 1:
            time.sleep(10.5)        # a device retrying later, not PLAIN-then-LOGIN
    assert causes[:2] == ["bad-password", "bad-password"], causes
    assert causes[2:] == ["stale-password"] * 3, causes
    code, _ = auth("bob@example.test", "abcdefghijklmnop", src="127.0.0.32")
    assert code == 235          # five tries of one old password did not lock the account
    causes = [cause_of(auth("nemo@example.test", "try-%d" % i, src="127.0.0.33")[1])
              for i in range(3)]
    assert causes == ["unknown-user", "unknown-user", "password-guessing"], causes
    ev = [e for e in S["gate"].events() if e.get("cause") == "password-guessing"][-1]
    assert "warning: event=auth" in ev["_line"], ev["_line"]      # logged at warning level
    causes = [cause_of(auth("spray%d@example.test" % i, "Summer2026!", src="127.0.0.34")[1])
              for i in range(3)]
    assert causes[-1] == "password-guessing", causes


@suite.test
def address_blocked_after_its_limit():
    for i in range(6):
        code, text = auth("cleartext%d@example.test" % i, "pw", src="127.0.0.41", tls=False)
        assert cause_of(text) == "tls-required", text
    code, text = auth("alice@example.test", "correct horse", src="127.0.0.41")
    assert code == 535 and cause_of(text) == "ip-blocked", text
    assert "this address" in text
    code, _ = auth("bob@example.test", "abcdefghijklmnop", src="127.0.0.42")
    assert code == 235          # other addresses are served


@suite.test
def lockout_survives_restart_and_kill9():
    gate = S["gate"]
    assert gate.stop() == 0
    gate.start()
    code, text = auth("alice@example.test", "correct horse", src="127.0.0.13")
    assert cause_of(text) == "account-locked", text
    time.sleep(1.5)             # the snapshot is at most a second old
    gate.proc.send_signal(signal.SIGKILL)
    gate.proc.wait()
    gate.proc = None
    gate.start()
    code, text = auth("alice@example.test", "correct horse", src="127.0.0.14")
    assert cause_of(text) == "account-locked", text
    mode = os.stat(os.path.join(gate.state_dir, "state")).st_mode & 0o777
    assert mode == 0o600, oct(mode)
    # The fingerprint key is read from fingerprint_key, never written into state_dir.
    assert "secret" not in os.listdir(gate.state_dir), os.listdir(gate.state_dir)


def cli(*args):
    r = subprocess.run([os.path.join(gatelab.BUILD, "authguard"), "-s", S["gate"].control]
                       + list(args), capture_output=True, text=True, timeout=10)
    return r.returncode, r.stdout, r.stderr


@suite.test
def why_explains_and_unlock_lifts():
    code, text = auth("alice@example.test", "correct horse", src="127.0.0.16")
    ref = ref_of(text)
    rc, out, err = cli("why", ref)
    assert rc == 0, err
    assert "cause=account-locked" in out and "account: key=alice@example.test locked=yes" \
        in out and "what to do about account-locked" in out, out
    rc, out, err = cli("--json", "why", "alice@example.test")
    assert rc == 0, err
    doc = json.loads(out)
    causes = [a.get("cause") for a in doc["attempts"]]
    assert "bad-password" in causes and "account-locked" in causes, causes
    assert doc["account"]["locked"] == "yes" and "account-locked" in doc["hints"], doc
    rc, out, err = cli("why", "127.0.0.11")
    assert rc == 0 and "address: key=127.0.0.11/32" in out and "ip=127.0.0.11" in out, out
    rc, out, err = cli("unlock", "Alice@Example.Test")
    assert rc == 0 and "unlocked alice@example.test" in out, (out, err)
    code, text = auth("alice@example.test", "correct horse", src="127.0.0.16")
    assert code == 235, text
    rc, out, err = cli("unlock", "nobody-tracked@example.test")
    assert rc == 1 and "nothing is tracked" in err, (out, err)
    rc, out, err = cli("why", "ZZZZZZZZZZ")
    assert rc == 1 and "no attempt with ref" in err, err


@suite.test
def damaged_state_file_starts_empty_and_serves():
    gate = S["gate"]
    assert gate.stop() == 0
    with open(os.path.join(gate.state_dir, "state"), "wb") as f:
        f.write(b"\x00\xffgarbage\nE a x\n")
    gate.start()
    code, _ = auth("alice@example.test", "correct horse", src="127.0.0.15")
    assert code == 235          # the lock was in the damaged file: gone, and service goes on
    assert "set aside" in gate.log_text()
    assert os.path.exists(os.path.join(gate.state_dir, "state.bad"))


if __name__ == "__main__":
    suite.run(setup, teardown)
