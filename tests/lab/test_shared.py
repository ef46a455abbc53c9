#!/usr/bin/env python3
"""Two authguard-policyd servers sharing their state through a real redis-server (Debian's), each
driven through the gate protocol as Postfix's smtpd drives it, both in front of the lab's real
Dovecot: a password spray split across both locks at exactly the global limit; a lock made on one
holds on the other, and so does a familiar address; `authguard why` on either shows the attempts
of both; Redis killed (and stopped) mid-run: decisions go on locally within redis_timeout, and
what happened meanwhile is merged back when it returns.

Dovecot logs every password it checks (auth_verbose), so "reached Dovecot" is counted in its log.
"""

import base64
import hashlib
import hmac
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab, wait_until  # noqa: E402
import gatelab  # noqa: E402
from gatelab import Gate, GateClient, auth_line, b64, new_gate_dir, teardown_suite  # noqa: E402
from redislab import Redis  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("shared")
S = {}
LIMITS = dict(account_fail_limit="5/10m", ip_fail_limit="50/10m", lockout_time="2m",
              lockout_max="10m", guessing_threshold="100")


def start_gate(name, **conf):
    d = os.path.join(S["dir"], name)
    os.makedirs(os.path.join(d, "state"), exist_ok=True)
    os.chmod(d, 0o755)
    shutil.copy(S["secret"], os.path.join(d, "state", "secret"))  # one key for all
    settings = dict(LIMITS, state_backend=S["redis"].url(), redis_prefix="lab:")
    settings.update(conf)
    return Gate(S["lab"], d, **settings).start()


def setup():
    S["dir"] = new_gate_dir()
    S["secret"] = os.path.join(S["dir"], "secret")
    with open(S["secret"], "wb") as f:
        f.write(os.urandom(32))
    S["redis"] = Redis(S["dir"], password="lab pass:1").start()
    # CRAM-MD5 too: a mechanism the gate relays without seeing the user until Dovecot's OK
    S["lab"] = Lab(sasl_path=os.path.join(S["dir"], "unused"),
                   extra_dovecot_conf="auth_mechanisms = plain login cram-md5")
    S["lab"].start_dovecot()
    S["a"] = start_gate("a")                                    # TCP
    S["b"] = start_gate("b", state_backend=S["redis"].unix_url())  # unix socket
    for g in (S["a"], S["b"]):
        wait_until(lambda: "shared state: Redis at" in g.log_text() and " ready" in
                   g.log_text(), 5, "gate connected to Redis")


def teardown():
    errors = []
    for k in ("a", "b", "c", "d"):
        g = S.get(k)
        if g:
            rc = g.stop()
            if rc not in (0, None):
                errors.append("%s exited %s:\n%s" % (k, rc, g.log_text()[-3000:]))
    if S.get("redis"):
        S["redis"].stop()
    S.pop("a", None)
    teardown_suite({"lab": S.get("lab"), "dir": S.get("dir")})
    if errors:
        raise AssertionError("\n".join(errors))


def attempt(gate, user, password, rip, client=None):
    """One AUTH PLAIN through a gate: (result line, seconds it took)."""
    c = client or GateClient(gate.socket)
    t0 = time.time()
    c.send(auth_line(1, "PLAIN", resp=b64("\0%s\0%s" % (user, password)), rip=rip))
    line = c.read_until(lambda l: l.startswith((b"OK\t", b"FAIL\t")))[-1].decode()
    took = time.time() - t0
    if client is None:
        c.close()
    return line, took


def cause(gate, line):
    ref = re.search(r"ref=([0-9A-Z]+)", line).group(1)
    return gate.event(ref)["cause"]


def dovecot_checks(user):
    return sum(1 for l in S["lab"].dovecot_log_text().splitlines()
               if "(%s," % user in l and ("Password mismatch" in l or "unknown user" in l))


def why(gate, arg):
    r = subprocess.run([os.path.join(gatelab.BUILD, "authguard"), "-s", gate.control, "why",
                        arg], capture_output=True, text=True, timeout=10)
    return r.returncode, r.stdout + r.stderr


def cli(gate, *args):
    r = subprocess.run([os.path.join(gatelab.BUILD, "authguard"), "-s", gate.control] +
                       list(args), capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def cram_md5(gate, user, password, rip):
    """A relayed CRAM-MD5 exchange with the real Dovecot through a gate: the result line."""
    c = GateClient(gate.socket)
    try:
        c.send(auth_line(7, "CRAM-MD5", rip=rip))
        line = c.line().decode()
        assert line.startswith("CONT\t7\t"), line
        challenge = base64.b64decode(line.split("\t")[2])
        digest = hmac.new(password.encode(), challenge, hashlib.md5).hexdigest()
        c.send("CONT\t7\t%s\n" % b64("%s %s" % (user, digest)))
        return c.line().decode()
    finally:
        c.close()


@suite.test
def a_lock_made_elsewhere_holds_for_a_relayed_mechanism():
    user = "carol@example.test"
    assert cram_md5(S["b"], user, "Carol-Pass-1", "127.0.2.1").startswith("OK\t7\t")
    cli(S["a"], "lock", user, "--for", "10m")       # on the other server, by the admin
    line = cram_md5(S["b"], user, "Carol-Pass-1", "127.0.2.2")
    assert line.startswith("FAIL\t7\t") and "this account" in line, line
    assert cause(S["b"], line) == "account-locked"
    cli(S["a"], "unlock", user)                     # lifted everywhere
    assert cram_md5(S["b"], user, "Carol-Pass-1", "127.0.2.3").startswith("OK\t7\t")


@suite.test
def spray_split_across_both_locks_at_the_global_limit():
    user, results = "carol@example.test", []
    lock = threading.Lock()

    def one(i):
        g = S["a"] if i % 2 else S["b"]
        line, _ = attempt(g, user, "guess-%d" % i, "127.0.3.%d" % (i + 1))
        with lock:
            results.append((g, line))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(60)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 60, results
    causes = sorted(cause(g, line) for g, line in results)
    assert dovecot_checks(user) == 5, (dovecot_checks(user), causes)
    assert causes.count("bad-password") == 5, causes
    assert causes.count("account-locked") == 55, causes
    for g in (S["a"], S["b"]):          # each server refused some: the lock is global
        assert any(c == "account-locked" for gg, l in results if gg is g
                   for c in [cause(g, l)]), g.log_text()[-2000:]
    locks = S["a"].events("lock") + S["b"].events("lock")
    assert len([e for e in locks if e["key"] == user]) == 1, locks


@suite.test
def a_lock_made_on_one_server_holds_on_the_other():
    user = "alice@example.test"
    for i in range(5):
        line, _ = attempt(S["a"], user, "nope-%d" % i, "127.0.4.1")
        assert line.startswith("FAIL"), line
    line, _ = attempt(S["b"], user, "whatever", "127.0.4.2")
    assert cause(S["b"], line) == "account-locked", line
    assert "try again in" in line, line


@suite.test
def a_familiar_address_from_one_server_passes_on_the_other():
    user = "bob@example.test"
    line, _ = attempt(S["a"], user, "abcdefghijklmnop", "127.0.5.1")
    assert line.startswith("OK"), line
    for i in range(5):                  # an attacker elsewhere locks the account
        attempt(S["b"], user, "attack-%d" % i, "127.0.5.%d" % (i + 10))
    line, _ = attempt(S["b"], user, "x", "127.0.5.99")
    assert cause(S["b"], line) == "account-locked", line
    line, _ = attempt(S["b"], user, "abcdefghijklmnop", "127.0.5.1")
    assert line.startswith("OK"), line   # the user's usual address, seen by server a


@suite.test
def why_on_either_server_shows_the_attempts_of_both():
    user = "erin@example.test"
    la, _ = attempt(S["a"], user, "first", "127.0.6.1")
    lb, _ = attempt(S["b"], user, "second", "127.0.6.2")
    ra = re.search(r"ref=([0-9A-Z]+)", la).group(1)
    rb = re.search(r"ref=([0-9A-Z]+)", lb).group(1)
    for g in (S["a"], S["b"]):
        rc, out = why(g, user)
        assert rc == 0 and ra in out and rb in out, out
        assert "2 recent attempts" in out and "failures_in_window=2" in out, out
        other = rb if g is S["a"] else ra        # by ref: the other server's attempt
        rc, out = why(g, other)
        assert rc == 0 and other in out and "result=fail" in out, out


@suite.test
def redis_killed_and_restarted_mid_run():
    user, r = "frank@example.test", S["redis"]
    r.kill()                            # no persistence: it comes back empty
    wait_until(lambda: "unreachable" in S["a"].log_text(), 5, "outage logged")
    took = []
    for i in range(1, 5):               # decided from local state meanwhile
        line, t = attempt(S["a"], user, "during-%d" % i, "127.0.7.1")
        assert line.startswith("FAIL"), line
        took.append(t)
    st = stats(S["a"])
    assert st["shared"] in ("down", "connecting") and int(st["shared_kept"]) >= 4, st
    m = metrics(S["a"])
    assert re.search(r'^authguard_shared_up\{state="(down|connecting)"\} 0$', m, re.M), m
    assert re.search(r"^authguard_shared_outages_total [1-9]", m, re.M), m
    r.start()
    wait_until(lambda: stats(S["a"])["shared"] == "up" and
               int(stats(S["a"])["shared_kept"]) == 0, 10, "gate a back on Redis")
    assert int(stats(S["a"])["shared_merged"]) >= 4, stats(S["a"])
    # Redis came back empty; the 4 failures server a saw are there again: one more
    # on server b reaches the limit of 5 and locks, the next is refused
    line, _ = attempt(S["b"], user, "after-5", "127.0.7.2")
    assert cause(S["b"], line) == "unknown-user", line
    line, _ = attempt(S["b"], user, "after-6", "127.0.7.2")
    assert cause(S["b"], line) == "account-locked", line
    assert max(took) < 1.0, took


@suite.test
def changes_kept_in_an_outage_arrive_in_order():
    user, r = "quinn@example.test", S["redis"]
    r.kill()
    wait_until(lambda: stats(S["a"])["shared"] != "up", 5, "outage seen")
    for i in range(5):                  # locks here, locally
        attempt(S["a"], user, "q-%d" % i, "127.0.10.1")
    line, _ = attempt(S["a"], user, "q-x", "127.0.10.1")
    assert cause(S["a"], line) == "account-locked", line
    time.sleep(1.1)                     # the unlock comes a second after the lock
    cli(S["a"], "unlock", user)         # ... and the admin lifts it, still offline
    r.start()
    wait_until(lambda: stats(S["a"])["shared"] == "up" and
               int(stats(S["a"])["shared_kept"]) == 0, 10, "gate a back on Redis")
    # Redis got the failures, then the unlock: server b lets the user try
    line, _ = attempt(S["b"], user, "q-y", "127.0.10.2")
    assert cause(S["b"], line) == "unknown-user", line


@suite.test
def a_stalled_redis_delays_no_auth_beyond_redis_timeout():
    user = "alice@example.test"         # locked above: refused before Dovecot
    r = S["redis"]
    r.signal(signal.SIGSTOP)
    try:
        # an smtpd that goes away while its check waits for Redis: nothing
        # goes on to Dovecot for it (asked at once, before the stall is seen)
        c = GateClient(S["a"].socket)
        c.send(auth_line(1, "PLAIN", resp=b64("\0ghost@example.test\0boo"),
                         rip="127.0.8.2"))
        c.close()
        ev = S["a"].wait_events(lambda e: e.get("user") == "ghost@example.test")[0]
        assert ev["result"] == "abort", ev
        assert dovecot_checks("ghost@example.test") == 0
        took = []
        for i in range(5):              # the gate's own time for each (ms= in its log)
            line, _ = attempt(S["a"], user, "x", "127.0.8.1")
            assert cause(S["a"], line) == "account-locked", line
            took.append(int(S["a"].event(re.search(r"ref=([0-9A-Z]+)", line).group(1))["ms"]))
        # redis_timeout is 5ms: the first waits for it, the rest decide locally at once
        assert max(took) <= 50, took
        wait_until(lambda: "no answer" in S["a"].log_text(), 5, "stall noticed")
    finally:
        r.signal(signal.SIGCONT)
    wait_until(lambda: stats(S["a"])["shared"] == "up", 10, "gate a back on Redis")


@suite.test
def a_change_sent_again_counts_once_and_never_shortens_a_lock():
    acct, fid = ("t:a:zed", "", "t:f:1"), "t:f:"
    now = 2000000000
    for i in range(3):                  # the third failure locks (limit 3)
        out = script("fail", now + i, 1 | 8, (acct[0], "", fid + str(i)), fp=i + 1,
                     a17=str(i))
    assert out[2] == now + 2 + 100, out
    # the third again (its answer was lost with the connection): not counted again,
    # although the lock emptied the window
    out = script("fail", now + 2, 1 | 8, (acct[0], "", fid + "2"), fp=3, a17="2")
    assert out == [0, 0, 0, 0], out
    assert script("info", now + 3, 1, acct)[:2] == [now + 102, 0]
    # a failure kept during an outage arrives with an older time: the lock stays
    script("fail", now + 1, 1 | 8, (acct[0], "", fid + "9"), fp=9, a17="9")
    assert script("info", now + 3, 1, acct)[0] == now + 102
    # an unlock kept from before that lock lifts nothing; an admin lock from before
    # does not shorten it
    script("unlock", now + 1, 3, acct)
    script("lock", now + 1, 1, acct, a16=str(now + 50))
    assert script("info", now + 3, 1, acct)[0] == now + 102
    # failures an hour old, sent after an outage: the lock they made then is over
    old, key = int(time.time()) - 3600, ("t:a:yan", "", "")
    for i in range(3):
        out = script("fail", old + i, 1 | 8, (key[0], "", fid + "y%d" % i), fp=i + 1,
                     a17="y%d" % i)
    assert out == [0, 0, 0, 0], out
    assert script("info", int(time.time()), 1, key)[:2] == [0, 0]
    # a reservation is given back by its id, and expires with its server
    out = script("check", now + 3, 2, ("", "t:i:1.2.3.4/32", ""), resid="r1",
                 a16=str(now + 13))
    assert out[:4] == [0, 0, 0, 1], out
    script("release", now + 3, 2, ("", "t:i:1.2.3.4/32", ""), resid="r1")
    assert S["redis"].cli("EXISTS", "t:i:1.2.3.4/32").strip() == "0"   # nothing left


@suite.test
def a_refused_password_is_logged_and_the_server_decides_alone():
    d = os.path.join(S["dir"], "d")
    os.makedirs(d, exist_ok=True)
    url = S["redis"].url().replace("lab%20pass", "wrong")
    S["d"] = Gate(S["lab"], d, state_backend=url, redis_prefix="lab:").start()
    wait_until(lambda: "WRONGPASS" in S["d"].log_text(), 5, "refusal logged")
    log = S["d"].log_text()
    assert "lab pass" not in log and "lab%20pass" not in log and "wrong%3A1" not in log, log
    line, _ = attempt(S["d"], "carol@example.test", "Carol-Pass-1", "127.0.9.1")
    assert line.startswith("OK"), line  # carol is locked in Redis, not here
    assert stats(S["d"])["shared"] != "up"


@suite.test
def a_server_with_another_fingerprint_key_is_told():
    d = os.path.join(S["dir"], "c", "state")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "secret"), "wb") as f:
        f.write(os.urandom(32))
    S["c"] = Gate(S["lab"], os.path.join(S["dir"], "c"), state_backend=S["redis"].url(),
                  redis_prefix="lab:").start()
    wait_until(lambda: "differs from the one the other servers use" in S["c"].log_text(), 5,
               "key mismatch logged")
    assert stats(S["c"])["shared_key_mismatch"] == "1"


def script(op, now, flags, keys=("", "", ""), fp=0, who=0, resid="", a16="", a17="",
           a18=""):
    """shared.lua run directly (account limit 3/60s, address 50/60s, lock 100s, max 1000s)."""
    r = S["redis"]
    sha = r.cli("SCRIPT", "LOAD", open(os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "..", "..", "policy", "shared.lua")).read()).strip()
    out = r.cli("EVALSHA", sha, 3, *keys, op, now, 3, 60, 50, 60, 100, 1000, 86400, 100, 10,
                fp, who, flags, resid, a16, a17, a18)
    return [int(x) for x in out.split()]


def metrics(gate):
    r = subprocess.run([os.path.join(gatelab.BUILD, "authguard"), "-s", gate.control, "metrics"],
                       capture_output=True, text=True, timeout=10)
    return r.stdout


def stats(gate):
    r = subprocess.run([os.path.join(gatelab.BUILD, "authguard"), "-s", gate.control, "stats"],
                       capture_output=True, text=True, timeout=10)
    return dict(re.findall(r"([a-z_]+)=(\S+)", r.stdout))


if __name__ == "__main__":
    suite.run(setup, teardown)
