#!/usr/bin/env python3
"""Requests that end while others are ending: an smtpd connection closed with requests waiting
at the failure limits, a connection whose requests are lost to Dovecot one after another, the
admin's lock and unlock while requests wait, and Dovecot hanging up with requests in flight
while others wait.

Dovecot is tests/lab/fakeauth.py (it can keep a request unanswered and hang up on demand); the
gate is driven with the auth-client protocol directly, as smtpd drives it. Run it with the
sanitizer build too (AUTHGUARD_BUILD): every test stops its gate and requires a clean exit and
no sanitizer report in its log.
"""

import contextlib
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gatelab  # noqa: E402
from fakeauth import FakeAuth  # noqa: E402
from gatelab import GateClient, NoLab, auth_line, b64, new_gate_dir  # noqa: E402
from redislab import Redis  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("teardown")
PROMPT = 1.0        # s: "at once", well below upstream_timeout


def plain(user, pw):
    return b64("\0%s\0%s" % (user, pw))


@contextlib.contextmanager
def lab(shared=False, **conf):
    """A FakeAuth and a gate on it (shared: with a real redis-server as its shared state); at
    the end the gate must exit cleanly, sanitizers silent."""
    d = new_gate_dir()
    fake = FakeAuth(os.path.join(d, "fake-auth"))
    conf.setdefault("upstream_timeout", "4s")
    gate = redis = None
    try:
        if shared:
            redis = Redis(d).start()
            conf.update(state_backend=redis.url(), redis_prefix="teardown:")
        gate = gatelab.Gate(NoLab(d), d, **conf).start()
        if shared:
            wait_for(lambda: "shared=up" in cli(gate, "stats").split(), what="Redis")
        yield fake, gate
        assert gate.alive(), gate.log_text()[-3000:]
    finally:
        rc = gate.stop() if gate else None
        log = gate.log_text() if gate else ""
        fake.stop()
        if redis:
            redis.stop()
        subprocess.run(["rm", "-rf", d])
    assert rc == 0, "authguard-policyd exited %s:\n%s" % (rc, log[-3000:])
    for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
        assert bad not in log, log[-3000:]


def wait_for(pred, timeout=5, what="condition"):
    deadline = time.time() + timeout
    while not pred():
        assert time.time() < deadline, "timed out waiting for " + what
        time.sleep(0.02)


def cli(gate, *args):
    r = subprocess.run([os.path.join(gatelab.BUILD, "authguard"), "-s", gate.control]
                       + list(args), capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r.stdout


def passwords_sent(fake):
    return [a[3] for a in fake.auths]


def in_flight(fake, gate, user, pw, rip="127.0.0.1"):
    """A client whose PLAIN for user has reached "Dovecot" and waits for its answer."""
    n = len(fake.auths)
    c = GateClient(gate.socket)
    c.send(auth_line(1, "PLAIN", resp=plain(user, pw), rip=rip))
    wait_for(lambda: len(fake.auths) > n, what="the AUTH at Dovecot")
    return c


def parked(gate, c, id_, user, pw, rip="127.0.0.1"):
    """Send a PLAIN that waits at the failure limits (nothing comes back)."""
    c.send(auth_line(id_, "PLAIN", resp=plain(user, pw), rip=rip))
    time.sleep(0.2)
    gate.sync()
    c.s.settimeout(0.1)
    try:
        got = c.s.recv(4096)
    except OSError:
        got = None
    c.s.settimeout(10)
    assert got is None, "expected the request to wait, got %r" % got


def one_line_each(gate, pred, count):
    """count attempts matched by pred, each logged once (distinct refs)."""
    evs = gate.wait_events(pred, count=count)
    time.sleep(0.2)
    evs = [e for e in gate.events() if pred(e)]
    assert len(evs) == count, [e["_line"] for e in evs]
    assert len({e["ref"] for e in evs}) == count, [e["_line"] for e in evs]
    return evs


def still_serves(gate, fake):
    c = GateClient(gate.socket)
    c.send(auth_line(9, "PLAIN", resp=plain("ok-after", "pw")))
    assert c.line() == b"OK\t9\tuser=ok-after"
    c.close()


@suite.test
def close_after_lock_with_a_waiting_request():
    # A's attempt for V is at Dovecot, which does not answer; B's PLAIN for V waits at the
    # limit, then B starts a LOGIN; the admin locks V; B goes away.
    with lab(account_fail_limit="1/15m") as (fake, gate):
        a = in_flight(fake, gate, "silent", "pw-a")
        b = GateClient(gate.socket)
        parked(gate, b, 1, "silent", "pw-b")
        b.send(auth_line(2, "LOGIN"))
        assert b.line() == b"CONT\t2\tVXNlcm5hbWU6"
        cli(gate, "lock", "silent")
        b.close()
        time.sleep(0.3)
        assert gate.alive(), gate.log_text()[-3000:]
        still_serves(gate, fake)
        assert a.closed(timeout=6)        # A: no answer from Dovecot in time, 454
        a.close()
        one_line_each(gate, lambda e: e.get("mech") == "LOGIN", 1)
        evs = one_line_each(gate, lambda e: e.get("user") == "silent", 2)
        assert sorted(e["result"] for e in evs) in (["abort", "fail"], ["fail", "fail"]), \
            [e["_line"] for e in evs]
        assert passwords_sent(fake).count("pw-b") == 0


@suite.test
def close_does_not_send_a_waiting_request():
    # B's PLAIN waits at the limit; its failure leaves the window unseen (nothing wakes it);
    # then B, with a LOGIN half-way, goes away. Ending the LOGIN must not send B's PLAIN to
    # Dovecot on behalf of a connection that is closing.
    with lab(account_fail_limit="2/2s", upstream_timeout="8s") as (fake, gate):
        c = GateClient(gate.socket)
        c.send(auth_line(1, "PLAIN", resp=plain("vic", "wrong-1")))
        assert c.line().startswith(b"FAIL\t1\t")
        c.close()
        fake.hold.add("held")
        a = in_flight(fake, gate, "vic", "held")
        b = GateClient(gate.socket)
        parked(gate, b, 1, "vic", "pw-b")
        b.send(auth_line(2, "LOGIN"))
        assert b.line() == b"CONT\t2\tVXNlcm5hbWU6"
        time.sleep(3.2)                   # the failure is out of the window
        b.close()
        time.sleep(0.5)
        gate.sync()
        assert "pw-b" not in passwords_sent(fake), fake.auths
        evs = one_line_each(gate, lambda e: e.get("user") == "vic" and
                            e.get("result") == "abort", 1)
        assert "closed" in evs[0].get("detail", ""), evs[0]["_line"]
        a.close()


@suite.test
def requests_of_one_connection_lost_with_dovecot():
    # One connection: request 1 at Dovecot, request 2 waiting behind it at the limit. Dovecot
    # goes away for good: 1 is lost, which lets 2 go ahead into a Dovecot that is down.
    with lab(account_fail_limit="1/15m") as (fake, gate):
        c = in_flight(fake, gate, "silent", "pw-1")
        parked(gate, c, 2, "silent", "pw-2")
        fake.hang_up(listen=False)
        assert c.closed(timeout=3)
        c.close()
        time.sleep(0.3)
        assert gate.alive(), gate.log_text()[-3000:]
        evs = one_line_each(gate, lambda e: e.get("user") == "silent", 2)
        # 1: Dovecot went away; 2: its connection was closed for 1 (or Dovecot was down)
        assert evs[0].get("cause") == "auth-service-unavailable", evs[0]["_line"]
        assert evs[1].get("cause") == "auth-service-unavailable" or \
            evs[1]["result"] == "abort", evs[1]["_line"]
        assert "pw-2" not in passwords_sent(fake)
        stats = cli(gate, "stats")
        assert "sasl_connections=0" in stats.split(), stats


@suite.test
def unlock_lets_a_waiting_request_go_at_once(shared=False):
    with lab(shared, account_fail_limit="2/15m") as (fake, gate):
        c = GateClient(gate.socket)
        c.send(auth_line(1, "PLAIN", resp=plain("vic", "wrong-1")))
        assert c.line().startswith(b"FAIL\t1\t")
        c.close()
        fake.hold.add("held")
        a = in_flight(fake, gate, "vic", "held")
        b = GateClient(gate.socket)
        parked(gate, b, 1, "vic", "pw-b")        # 1 failure + 1 in flight: the limit
        t0 = time.time()
        cli(gate, "unlock", "vic")
        line = b.line().decode()                  # Dovecot's answer to B (FAIL)
        took = time.time() - t0
        assert line.startswith("FAIL\t1\t"), line
        assert took < PROMPT, "answered %.2fs after unlock" % took
        assert "pw-b" in passwords_sent(fake)
        b.close()
        a.close()


@suite.test
def lock_refuses_waiting_requests_at_once(shared=False):
    with lab(shared, account_fail_limit="1/15m", ip_fail_limit="1/15m") as (fake, gate):
        fake.hold.add("held")
        a = in_flight(fake, gate, "vic", "held", rip="192.0.2.1")
        b = GateClient(gate.socket)
        parked(gate, b, 1, "vic", "pw-b", rip="192.0.2.2")       # the account's place
        t0 = time.time()
        cli(gate, "lock", "vic")
        line = b.line().decode()
        took = time.time() - t0
        assert line.startswith("FAIL\t1\t") and "this account" in line, line
        assert took < PROMPT, "refused %.2fs after lock" % took
        a2 = in_flight(fake, gate, "ursula", "held", rip="203.0.113.7")
        b2 = GateClient(gate.socket)
        parked(gate, b2, 1, "vera", "pw-b2", rip="203.0.113.7")  # the address's place
        t0 = time.time()
        cli(gate, "lock", "203.0.113.7")
        line = b2.line().decode()
        took = time.time() - t0
        assert line.startswith("FAIL\t1\t") and "this address" in line, line
        assert took < PROMPT, "refused %.2fs after lock" % took
        sent = passwords_sent(fake)
        assert "pw-b" not in sent and "pw-b2" not in sent, fake.auths
        causes = {e["user"]: e["cause"] for e in gate.events() if e.get("user") in
                  ("vic", "vera") and e.get("result") == "fail"}
        assert causes == {"vic": "account-locked", "vera": "ip-blocked"}, causes
        for c in (a, b, a2, b2):
            c.close()


@suite.test
def lock_and_unlock_with_a_shared_state():
    # With Redis, the lock or unlock goes to Redis and the waiting request asks Redis again
    # (behind the change, on the same connection). The 100 ms poll of waiting requests would
    # find the change too: this checks the wake's keys and that Redis sees the change first.
    unlock_lets_a_waiting_request_go_at_once(shared=True)
    lock_refuses_waiting_requests_at_once(shared=True)


@suite.test
def answered_request_is_never_sent_after_a_hangup():
    # A's attempt for V is at Dovecot; B's waits behind it; Dovecot hangs up (on C's request)
    # and takes new connections. A's loss lets B go ahead while the gate is still handing
    # back the requests of the lost connection.
    with lab(account_fail_limit="1/15m") as (fake, gate):
        a = in_flight(fake, gate, "silent", "pw-a")
        b = GateClient(gate.socket)
        parked(gate, b, 1, "silent", "pw-b")
        c = GateClient(gate.socket)
        c.send(auth_line(1, "PLAIN", resp=plain("hangup", "pw-c")))
        for name, cl in (("a", a), ("c", c)):
            assert cl.closed(timeout=3), name
        assert b.closed(timeout=6), "B got no 454"
        wait_for(lambda: fake.connections >= 2, what="the reconnection")
        still_serves(gate, fake)          # the new connection's handshake is done
        time.sleep(0.5)
        gate.sync()
        late = [x for x in fake.auths if x[3] == "pw-b"]
        assert not late, "B's AUTH reached Dovecot after B was answered: %r" % late
        evs = one_line_each(gate, lambda e: e.get("user") == "silent", 2)
        assert {e["cause"] for e in evs} == {"auth-service-unavailable"}, \
            [e["_line"] for e in evs]
        one_line_each(gate, lambda e: e.get("user") == "hangup", 1)
        for cl in (a, b, c):
            cl.close()


@suite.test
def cancelled_before_the_handshake_is_never_sent():
    # Dovecot hangs up and is slow to greet the gate when it reconnects: a request queued for
    # the handshake, then cancelled, must leave the queue with its password.
    with lab() as (fake, gate):
        still_serves(gate, fake)
        fake.handshake_delay = 1.5
        c = GateClient(gate.socket)
        c.send(auth_line(1, "PLAIN", resp=plain("hangup", "pw-c")))
        assert c.closed(timeout=3)
        c.close()
        wait_for(lambda: fake.connections >= 2, what="the reconnection")
        d = GateClient(gate.socket)
        d.send(auth_line(1, "PLAIN", resp=plain("ok-d", "pw-d")))
        time.sleep(0.2)
        gate.sync()
        d.send("CANCEL\t1\n")
        time.sleep(0.2)
        gate.sync()
        fake.handshake_delay = 0
        time.sleep(1.6)                   # the handshake is done
        still_serves(gate, fake)
        assert "pw-d" not in passwords_sent(fake), fake.auths
        evs = one_line_each(gate, lambda e: e.get("user") == "ok-d", 1)
        assert evs[0]["result"] == "abort", evs[0]["_line"]
        d.close()


if __name__ == "__main__":
    suite.run()
