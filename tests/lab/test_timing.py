#!/usr/bin/env python3
"""Equal texts take equal time: with client_detail = safe (the default), an account that the
accounts map restricts, an unknown account, a wrong password and a locked account are answered
at the same time after the client's response, against real Dovecot with its production
auth_failure_delay (2 s).

Dovecot holds its own failures (unknown account, wrong password) for auth_failure_delay; the
gate decides the other two without Dovecot. Without refusal_delay, an oauth-only account was
refused in a few milliseconds while an unknown one took about 2 s: the time told that the
account exists and is flagged, where the texts did not.

Each attempt speaks the auth-client protocol to the gate as smtpd does, from its own client
address, so that Dovecot's per-address penalty and the gate's limits stay out of the
measurement; the attempts of one round run at the same time. The medians of the four kinds
must lie within 100 ms of one another. The numbers are printed for the record.

Before the rounds, 64 clients send AUTH CRAM-MD5 with a response that is not base64, which
Dovecot fails at once, without its delay: were such failures taken as a measure of Dovecot's
delay, a client could bring the gate's wait down to nothing, and the flagged account would be
told apart again.
"""

import os
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gatelab  # noqa: E402
from lab import Lab  # noqa: E402
from gatelab import teardown_suite, Gate, GateClient, auth_line, b64, new_gate_dir  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("timing")
S = {}
ACCOUNTS = "carol@example.test oauth-only\n"
ROUNDS = 12         # attempts of each kind
KINDS = {
    # kind: (user, password); bob is locked by the admin before the rounds
    "flagged": ("carol@example.test", "Carol-Pass-1"),
    "unknown": ("nobody-here@example.test", "Some-Pass-1"),
    "wrong-password": ("alice@example.test", "wrong horse"),
    "locked": ("bob@example.test", "abcdefghijklmnop"),
}
CAUSES = {"flagged": "oauth-required", "unknown": "unknown-user",
          "wrong-password": "bad-password", "locked": "account-locked"}


def setup():
    gdir = S["dir"] = new_gate_dir()
    lab = S["lab"] = Lab(sasl_path=os.path.join(gdir, "auth"),
                         auth_mechanisms="plain login cram-md5",
                         extra_dovecot_conf="auth_failure_delay = 2s\n")
    with open(os.path.join(gdir, "accounts"), "w") as f:
        f.write(ACCOUNTS)
    subprocess.run(["postmap", "-c", lab.postfix_dir, "cdb:" + os.path.join(gdir, "accounts")],
                   check=True)
    lab.start_dovecot()
    S["gate"] = Gate(lab, gdir, client_detail=None,   # not set: the default, safe
                     accounts_map=os.path.join(gdir, "accounts.cdb"),
                     account_fail_limit="255/1m", ip_fail_limit="255/1m",
                     guessing_threshold="255").start()


def teardown():
    teardown_suite(S)


def fast_failure(i, out):
    """AUTH CRAM-MD5 with a response that is not base64: Dovecot fails it at once."""
    c = GateClient(S["gate"].socket)
    try:
        c.send("AUTH\t1\tCRAM-MD5\tservice=smtp\tnologin\tlip=127.0.0.1\t"
               "rip=203.0.113.%d\tsecured\tresp=!!!!\n" % (1 + i))
        out[i] = c.line().decode()
    finally:
        c.close()


def attempt(kind, i, out):
    """One PLAIN attempt of a kind from its own address: (seconds to the FAIL, the FAIL line)."""
    user, password = KINDS[kind]
    rip = "198.51.100.%d" % (1 + i + 20 * list(KINDS).index(kind))
    c = GateClient(S["gate"].socket)
    try:
        line = auth_line(1, "PLAIN", resp=b64("\0%s\0%s" % (user, password)), rip=rip)
        t0 = time.monotonic()
        c.send(line)
        reply = c.line().decode()
        out[(kind, i)] = (time.monotonic() - t0, reply)
    finally:
        c.close()


def round_of(kinds, n):
    """n attempts of each kind, all at once; {(kind, i): (seconds, line)}."""
    out = {}
    threads = [threading.Thread(target=attempt, args=(k, i, out)) for k in kinds for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(out) == len(threads), "%d of %d attempts answered" % (len(out), len(threads))
    return out


@suite.test
def equal_texts_take_equal_time():
    r = subprocess.run([os.path.join(gatelab.BUILD, "authguard"), "-s", S["gate"].control,
                        "lock", "bob@example.test"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stdout + r.stderr
    # Dovecot's own failures first, as a running server has them: the gate learns their time.
    # Dovecot 2.3 counts auth_failure_delay in whole seconds and looks every 500 ms, so its
    # failures take from 1 to 2.5 s by when in a second they came: arrivals spread over one.
    warm = [threading.Thread(target=attempt, args=("wrong-password", i, {}))
            for i in range(10)]
    for t in warm:
        t.start()
        time.sleep(0.1)
    for t in warm:
        t.join(30)
    fast = {}
    threads = [threading.Thread(target=fast_failure, args=(i, fast)) for i in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(fast) == 64 and all(v.startswith("FAIL\t1\t") for v in fast.values()), fast
    out = round_of(list(KINDS), ROUNDS)
    medians = {}
    for kind in KINDS:
        times = sorted(out[(kind, i)][0] for i in range(ROUNDS))
        for i in range(ROUNDS):
            line = out[(kind, i)][1]
            assert line.startswith("FAIL\t1\t"), (kind, line)
            ev = S["gate"].event(gatelab.ref_of(line))
            assert ev["cause"] == CAUSES[kind], ev["_line"]
        medians[kind] = statistics.median(times)
        print("# %-15s median %.3f s, from %.3f to %.3f s" % (kind, medians[kind], times[0],
                                                              times[-1]))
    assert max(medians.values()) - min(medians.values()) <= 0.100, medians
    # and the texts that must not differ do not (the lock says so: its text is its own)
    texts = {kind: gatelab.REF_RE.sub("", out[(kind, 0)][1].split("reason=", 1)[1])
             for kind in ("flagged", "unknown", "wrong-password")}
    assert len(set(texts.values())) == 1, texts


if __name__ == "__main__":
    suite.run(setup, teardown)
