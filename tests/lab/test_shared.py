#!/usr/bin/env python3
"""Two authguard-policyd servers sharing their state through a real redis-server (Debian's), each
driven through the gate protocol as Postfix's smtpd drives it, both in front of the lab's real
Dovecot: a password spray split across both locks at exactly the global limit; a lock made on one
holds on the other, and so does a familiar address; `authguard why` on either shows the attempts
of both; Redis killed (and stopped) mid-run: decisions go on locally within redis_timeout, and
what happened meanwhile is merged back when it returns.

Redis over TLS (rediss://) where the build's hiredis has hiredis_ssl (Debian 13): a redis-server
that speaks only TLS and asks for client certificates, with certificates from a test CA; limits
shared through it; a wrong CA, a certificate for another name, a missing client certificate and a
server that never answers the handshake are each refused with their reason while the gate decides
locally at once. Where hiredis has no TLS (Debian 12), rediss:// is refused at the start with a
clear message.

Dovecot logs every password it checks (auth_verbose), so "reached Dovecot" is counted in its log.
"""

import base64
import hashlib
import hmac
import json
import os
import pwd
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
from redislab import Redis, TestPKI  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("shared")
S = {"more": []}        # more: (gates, redis servers) started by single tests
# The build has TLS for Redis exactly when hiredis_ssl is there (the Makefile asks the same).
HIREDIS_SSL = subprocess.run(["pkg-config", "--exists", "hiredis_ssl"]).returncode == 0
# redis_timeout: these servers share their limits only while Redis answers in time; on a busy
# machine redis-server can take longer than the default 5ms, and a server then rightly decides
# alone.  1s is the gate's own bound for a Redis that answers (it drops one silent for longer).
# The test of the timeout itself sets 5ms.
LIMITS = dict(account_fail_limit="5/10m", ip_fail_limit="50/10m", lockout_time="2m",
              lockout_max="10m", guessing_threshold="100", redis_timeout="1s")


def start_gate(name, env=None, **conf):
    d = os.path.join(S["dir"], name)
    os.makedirs(os.path.join(d, "state"), exist_ok=True)
    os.chmod(d, 0o755)
    settings = dict(LIMITS, state_backend=S["redis"].url(), redis_prefix="lab:",
                    fingerprint_key=S["secret"])    # one key file for all
    settings.update(conf)
    return Gate(S["lab"], d, **settings).start(env=env)


def setup():
    S["dir"] = new_gate_dir()
    S["secret"] = os.path.join(S["dir"], "secret")
    with open(S["secret"], "wb") as f:
        f.write(os.urandom(32))
    os.chmod(S["secret"], 0o600)
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
    for x in S["more"]:
        rc = x.stop()
        if isinstance(x, Gate) and rc not in (0, None):
            errors.append("%s exited %s:\n%s" % (x.dir, rc, x.log_text()[-3000:]))
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
    """How many times Dovecot checked a password for user (auth_verbose lines).  Its log process
    writes a moment after the answers: a user lookup made now is logged after all of them."""
    barrier = "log-barrier-%s@example.test" % os.urandom(4).hex()
    S["lab"].userdb_lookup(barrier)
    S["lab"].wait_log(S["lab"].dovecot_log, barrier)
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
    # why on b names the address whose success only a saw (its record in Redis)
    j = json.loads(cli(S["b"], "--json", "why", user))
    ok = [a for a in j["attempts"] if a["result"] == "pass"]
    assert len(ok) == 1 and ok[0]["server"] and j["familiar"] == [
        {"ip": "127.0.5.1", "last_ok": ok[0]["time"]}], j
    ov = json.loads(cli(S["b"], "--json", "overview"))
    assert ov["shared"] == "local view", ov     # its locks and counts are b's own
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
def why_shows_the_door_of_each_shared_attempt():
    """Recent attempts in Redis name their door: an SMTP attempt's record is what it always was
    (no door named, as older servers wrote and read it) and reads as smtp; a record of another
    door, as a server with Dovecot's auth policy writes it for an IMAP login, shows on every
    server as proto=imap in the same timeline."""
    user = "gina@example.test"
    line, _ = attempt(S["a"], user, "wrong", "127.0.7.1")
    ref = re.search(r"ref=([0-9A-Z]+)", line).group(1)
    wait_until(lambda: S["redis"].cli("GET", "lab:h:" + ref).strip(), 5, "the record in Redis")
    rec = S["redis"].cli("GET", "lab:h:" + ref).strip().split(" ")
    assert len(rec) == 11 and rec[:2] == ["H", ref] and rec[9] == user, rec
    assert rec[10] not in ("smtp", "imap", "pop3", "sieve"), rec    # the server's name
    imap = "IMAPDOOR%02d" % (int(time.time()) % 100)
    other = "H %s %d 1 3 1 0 PLAIN 127.0.7.2 %s mx-other imap" % (imap, int(time.time()) + 1,
                                                                  user)
    S["redis"].cli("SET", "lab:h:" + imap, other, "EX", "600")
    S["redis"].cli("LPUSH", "lab:hu:" + user, other)
    for g in (S["a"], S["b"]):
        rc, out = why(g, user)
        assert rc == 0 and "2 recent attempts" in out, out
        mine = [l for l in out.splitlines() if ref in l]
        theirs = [l for l in out.splitlines() if imap in l]
        assert len(mine) == 1 and re.search(r" result=fail cause=unknown-user proto=smtp "
                                            r"user=\S+ .* smtpd_pid=\d+", mine[0]), out
        assert len(theirs) == 1 and " result=fail cause=bad-credentials proto=imap user=" in \
            theirs[0] and "smtpd_pid" not in theirs[0] and "server=mx-other" in theirs[0], out
        assert out.index(ref) < out.index(imap), out                    # oldest first
        rc, out = why(g, imap)
        assert rc == 0 and "proto=imap" in out and "server=mx-other" in out, out
        j = json.loads(cli(g, "--json", "why", user))
        assert sorted(a["proto"] for a in j["attempts"]) == ["imap", "smtp"], j


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
    # server b lost Redis too: it must be back before its attempts can see a's
    wait_until(lambda: stats(S["b"])["shared"] == "up", 10, "gate b back on Redis")
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
        set_redis_timeout(S["a"], "5ms")
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
    set_redis_timeout(S["a"], LIMITS["redis_timeout"])


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
    d = os.path.join(S["dir"], "c")
    os.makedirs(d, exist_ok=True)
    other = os.path.join(d, "other.key")
    with open(other, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(other, 0o600)
    S["c"] = Gate(S["lab"], d, state_backend=S["redis"].url(), redis_prefix="lab:",
                  fingerprint_key=other).start()
    wait_until(lambda: "differs from the one the other servers use" in S["c"].log_text(), 5,
               "key mismatch logged")
    assert stats(S["c"])["shared_key_mismatch"] == "1"


def tls_setup():
    """Once: a test CA, a Redis that speaks only TLS (asking for a client certificate from that
    CA) with a certificate for localhost and 127.0.0.1, a client certificate, another CA."""
    if "pki" in S:
        return
    d = os.path.join(S["dir"], "tls")
    S["pki"] = pki = TestPKI(d)
    cert, key = pki.issue("redis", dns=["localhost"], ips=["127.0.0.1"])
    S["client"] = pki.issue("authguard-client", client=True)
    S["other_ca"] = TestPKI(os.path.join(d, "other"), "Another CA").ca
    S["rtls"] = more(Redis(d, password="tls pass:2", tls=(cert, key, pki.ca),
                           name="redis-tls").start())


def more(x):
    S["more"].append(x)
    return x


def tls_gate(name, url, env=None, **conf):
    """A gate on rediss:// with the test CA and the client certificate, unless conf says."""
    settings = dict(state_backend=url, redis_tls_ca=S["pki"].ca,
                    redis_tls_cert=S["client"][0], redis_tls_key=S["client"][1],
                    redis_prefix="tls:")
    settings.update(conf)
    return more(start_gate(name, env=env, **settings))


def tls_redis(name, dns=(), ips=()):
    """Another Redis that speaks only TLS, with a certificate from the test CA for dns and ips."""
    cert, key = S["pki"].issue(name, dns=dns, ips=ips)
    return more(Redis(os.path.join(S["dir"], "tls"), password="tls pass:2",
                      tls=(cert, key, S["pki"].ca), name="redis-" + name).start())


def on_a_tty(argv, timeout=10):
    """argv with a terminal of its own as its controlling terminal, where OpenSSL would ask for
    a pass phrase: (exit status, or None if it still ran after timeout; its stderr; what it
    wrote on the terminal)."""
    import fcntl
    import termios
    master, slave = os.openpty()
    seen = []

    def read_tty():
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:             # EIO: the last holder of the terminal is gone
                return
            if not data:
                return
            seen.append(data)

    p = subprocess.Popen(argv, stdin=slave, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         start_new_session=True,
                         preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
    os.close(slave)
    reader = threading.Thread(target=read_tty, daemon=True)
    reader.start()
    try:
        _, err = p.communicate(timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
        rc = None
    reader.join(2)
    os.close(master)
    return rc, err.decode("utf-8", "replace"), b"".join(seen).decode("utf-8", "replace")


def check_config(conf_path):
    """authguard-policyd -t: (exit status, stdout and stderr)."""
    r = subprocess.run([gatelab.POLICYD, "-t", "-c", conf_path], capture_output=True,
                       text=True, timeout=10)
    return r.returncode, r.stdout + r.stderr


def write_conf(path, **settings):
    with open(path, "w") as f:
        for k, v in settings.items():
            f.write("%s = %s\n" % (k, v))


def tls_refusal(name, url, reason, **conf):
    """A gate whose handshakes fail: the reason logged, and a decision made locally at once."""
    g = tls_gate(name, url, **conf)
    try:
        wait_until(lambda: re.search(reason, g.log_text()), 5, "TLS refusal logged")
    except TimeoutError:
        raise AssertionError("no %r in:\n%s" % (reason, g.log_text()))
    line = [l for l in g.log_text().splitlines() if re.search(reason, l)][0]
    assert "shared state: Redis at rediss://" in line and "tls pass" not in line, line
    user = "tina@example.test"          # locked in Redis (above), not here
    out, _ = attempt(g, user, "guess", "127.0.11.9")
    assert cause(g, out) == "unknown-user", out
    st = stats(g)
    assert st["shared"] != "up" and int(st["shared_local_decisions"]) >= 1, st
    return g


def start_fails(name, **conf):
    """A gate that must stop at its start (exit 1): its log."""
    d = os.path.join(S["dir"], name)
    os.makedirs(d, exist_ok=True)
    g = Gate(S["lab"], d, **dict(LIMITS, **conf))
    try:
        g.start()                       # the sockets may come before the error
        rc = g.proc.wait(10)
    except RuntimeError:
        rc = g.proc.returncode
    g.proc = None
    assert rc == 1, (rc, g.log_text())
    return g.log_text()


def tls_test(f):
    """Registered where hiredis has TLS; Debian 12 registers its own refusal test instead."""
    return suite.test(f) if HIREDIS_SSL else f


@tls_test
def rediss_shares_limits_between_two_servers():
    tls_setup()
    user = "tina@example.test"
    ta = tls_gate("ta", S["rtls"].tls_url("localhost"))   # a name: SNI, and the name checked
    tb = tls_gate("tb", S["rtls"].tls_url("127.0.0.1"))   # an address: checked too
    for g in (ta, tb):
        wait_until(lambda: " ready" in g.log_text(), 5, "gate ready on Redis over TLS")
        assert "shared state: TLS, the server's certificate verified against " + S["pki"].ca + \
            ", client certificate " + S["client"][0] in g.log_text(), g.log_text()
    for i in range(5):                  # 3 failures on one, 2 on the other: the limit of 5
        line, _ = attempt(ta if i < 3 else tb, user, "tls-%d" % i, "127.0.11.%d" % (i + 1))
        assert cause(ta if i < 3 else tb, line) == "unknown-user", line
    for g in (ta, tb):
        line, _ = attempt(g, user, "tls-x", "127.0.11.7")
        assert cause(g, line) == "account-locked", line
    wait_until(lambda: dovecot_checks(user) >= 5, 5, "Dovecot's log")
    assert dovecot_checks(user) == 5, dovecot_checks(user)
    assert "tls:a:" + user in S["rtls"].cli("KEYS", "tls:a:*"), S["rtls"].cli("KEYS", "*")
    for g in (ta, tb):                  # the password is never logged
        assert "tls pass" not in g.log_text() and "tls%20pass" not in g.log_text()


@tls_test
def rediss_refuses_a_server_that_a_wrong_ca_signed():
    tls_setup()
    # Redis sends its certificate alone or with the CA's (OpenSSL builds the chain)
    tls_refusal("tw", S["rtls"].tls_url("localhost"),
                r"TLS: the server's certificate is refused: (unable to get local issuer "
                r"certificate \(/CN=redis\)|self-signed certificate in certificate chain "
                r"\(/CN=authguard lab CA\))", redis_tls_ca=S["other_ca"])


@tls_test
def rediss_refuses_a_certificate_for_another_host():
    tls_setup()
    cert, key = S["pki"].issue("elsewhere", dns=["redis.elsewhere.test"])
    r = more(Redis(os.path.join(S["dir"], "tls"), password="tls pass:2",
                   tls=(cert, key, S["pki"].ca), name="redis-elsewhere").start())
    tls_refusal("tn", r.tls_url("localhost"), r"TLS: the server's certificate is refused: "
                r"hostname mismatch \(/CN=elsewhere\)")
    tls_refusal("ti", r.tls_url("127.0.0.1"), r"TLS: the server's certificate is refused: "
                r"IP address mismatch \(/CN=elsewhere\)")


@tls_test
def rediss_without_the_client_certificate_redis_asks_for():
    tls_setup()
    # Redis's alert, or, when it is lost in the reset that follows, the likely cause
    tls_refusal("tc", S["rtls"].tls_url("localhost"), r"TLS: tlsv13 alert certificate "
                r"required|Connection reset by peer during the TLS set-up \(does Redis ask for "
                r"a client certificate\? see redis_tls_cert\)",
                redis_tls_cert=None, redis_tls_key=None)


@tls_test
def rediss_handshake_never_answered_delays_nothing():
    import socket
    tls_setup()
    silent = socket.socket()            # accepts (the kernel does), never speaks TLS
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    try:
        url = "rediss://127.0.0.1:%d/0" % silent.getsockname()[1]
        g = tls_gate("ts", url)
        # Attempts spread over several rounds of handshake (1 s deadline) and retry: one that
        # the loop made wait for the handshake would take that whole second, as seen from here.
        took = []
        for i in range(10):
            line, t = attempt(g, "sam@example.test", "s-%d" % i, "127.0.12.1")
            assert line.startswith("FAIL"), line
            took.append(round(t, 3))
            time.sleep(0.3)
        assert max(took) < 0.8, took
        assert g.log_text().count("not ready within 1s") >= 1, g.log_text()
        assert stats(g)["shared"] != "up"
    finally:
        silent.close()


@tls_test
def rediss_a_key_with_a_passphrase_is_refused_without_asking():
    """The key is read with a terminal at hand: no prompt on it, a clear refusal at once, by
    -t and at the start."""
    tls_setup()
    key = os.path.join(S["dir"], "tls", "client-passphrase.key")
    TestPKI._openssl("pkey", "-in", S["client"][1], "-aes256", "-passout", "pass:x", "-out", key)
    said = ("state_backend: redis_tls_key %s: it is protected by a passphrase: it must be a PEM "
            "private key without a passphrase" % key)
    d = os.path.join(S["dir"], "tp")
    os.makedirs(os.path.join(d, "state"), exist_ok=True)
    conf = os.path.join(d, "authguard.conf")
    write_conf(conf, sasl_listen="unix:" + os.path.join(d, "auth"),
               sasl_upstream="unix:" + S["lab"].auth_client_socket,
               control_listen="unix:" + os.path.join(d, "control"),
               state_dir=os.path.join(d, "state"), user="root",
               state_backend=S["rtls"].tls_url(), redis_tls_ca=S["pki"].ca,
               redis_tls_cert=S["client"][0], redis_tls_key=key)
    for argv in ([gatelab.POLICYD, "-t", "-c", conf], [gatelab.POLICYD, "-f", "-c", conf]):
        rc, err, tty = on_a_tty(argv)
        assert rc == 1 and said in err and "pass phrase" not in tty.lower(), (argv, rc, err, tty)


@tls_test
def rediss_t_reads_the_tls_files_as_user():
    """-t as root reads the TLS files as "user", as the daemon does after becoming it."""
    tls_setup()
    d = os.path.join(S["dir"], "tls", "perm")
    os.makedirs(d, mode=0o755)
    os.chmod(d, 0o755)
    cert, key = os.path.join(d, "client.pem"), os.path.join(d, "client.key")
    shutil.copy(S["client"][0], cert)
    shutil.copy(S["client"][1], key)
    os.chmod(cert, 0o644)
    os.chown(key, 0, 0)
    os.chmod(key, 0o600)
    conf = os.path.join(d, "authguard.conf")
    write_conf(conf, user="nobody", state_backend=S["rtls"].tls_url(), redis_tls_ca=S["pki"].ca,
               redis_tls_cert=cert, redis_tls_key=key)
    rc, out = check_config(conf)
    assert rc == 1 and ("state_backend: redis_tls_key %s: Permission denied" % key) in out and \
        'user "nobody"' in out and "configuration ok" not in out, (rc, out)
    os.chown(key, pwd.getpwnam("nobody").pw_uid, 0)     # its owner now
    rc, out = check_config(conf)
    assert rc == 0 and "configuration ok" in out, (rc, out)


@tls_test
def rediss_a_refused_connection_is_no_tls_matter():
    """Nobody listens: the refusal is said as it is, without a word about client certificates."""
    from lab import free_port
    tls_setup()
    g = tls_gate("tx", "rediss://127.0.0.1:%d/0" % free_port(), redis_tls_cert=None,
                 redis_tls_key=None)
    wait_until(lambda: "Connection refused" in g.log_text(), 5, "refusal logged")
    assert "TLS set-up" not in g.log_text() and "redis_tls_cert" not in g.log_text(), \
        g.log_text()


@tls_test
def rediss_without_redis_tls_ca_uses_the_system_cas():
    tls_setup()
    # The system's CAs (Debian's) did not sign the test CA
    g = tls_refusal("tsys", S["rtls"].tls_url("localhost"),
                    r"TLS: the server's certificate is refused: (unable to get local issuer "
                    r"certificate|self-signed certificate in certificate chain)",
                    redis_tls_ca=None)
    assert "the server's certificate verified against the system's CAs, client certificate" \
        in g.log_text(), g.log_text()
    # OpenSSL's own variable for the system's CA file: the test CA stands in for them
    g = tls_gate("tsys2", S["rtls"].tls_url("localhost"), redis_tls_ca=None,
                 env={"SSL_CERT_FILE": S["pki"].ca})
    wait_until(lambda: " ready" in g.log_text(), 5, "gate ready on Redis over TLS")
    assert "the system's CAs" in g.log_text() and stats(g)["shared"] == "up", g.log_text()


@tls_test
def rediss_to_an_ipv6_address():
    tls_setup()
    r = tls_redis("redis6", ips=["::1"])     # redislab binds ::1 too
    g = tls_gate("t6", r.tls_url("[::1]"))
    wait_until(lambda: " ready" in g.log_text(), 5, "gate ready on Redis over TLS at ::1")
    assert stats(g)["shared"] == "up" and "rediss://[::1]:%d/0" % r.port in g.log_text(), \
        g.log_text()
    # a certificate for 127.0.0.1 (and localhost) does not name ::1
    tls_refusal("t6x", S["rtls"].tls_url("[::1]"), r"TLS: the server's certificate is "
                r"refused: IP address mismatch \(/CN=redis\)")


@tls_test
def rediss_host_name_never_taken_from_the_subject():
    """A certificate that says localhost only in its subject (CN), without subjectAltName."""
    tls_setup()
    r = tls_redis("localhost")
    tls_refusal("tcn", r.tls_url("localhost"), r"TLS: the server's certificate is refused: "
                r"hostname mismatch \(/CN=localhost\)")


@tls_test
def rediss_reload_rereads_the_tls_files():
    tls_setup()
    d = os.path.join(S["dir"], "tls", "reload")
    os.makedirs(d)
    ca = os.path.join(d, "ca.pem")
    shutil.copy(S["pki"].ca, ca)
    g = tls_gate("tr", S["rtls"].tls_url("localhost"), redis_tls_ca=ca)
    wait_until(lambda: " ready" in g.log_text(), 5, "gate ready on Redis over TLS")

    def reconnected(n):
        S["rtls"].cli("CLIENT", "KILL", "TYPE", "normal")
        wait_until(lambda: g.log_text().count("reachable again") >= n, 5, "reconnected")

    with open(ca, "w") as f:            # a broken file: the one read before stays
        f.write("not a certificate\n")
    g.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "reloaded" in g.log_text(), 5, "reload")
    assert "reload: state_backend: redis_tls_ca %s: not a PEM file of CA certificates" % ca \
        in g.log_text() and "the TLS files read before stay in use" in g.log_text(), \
        g.log_text()
    reconnected(1)
    shutil.copy(S["other_ca"], ca)      # a new CA, read at the reload, used at the next connection
    g.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: g.log_text().count("reloaded") == 2, 5, "second reload")
    assert stats(g)["shared"] == "up"   # the connection made before goes on
    S["rtls"].cli("CLIENT", "KILL", "TYPE", "normal")
    wait_until(lambda: "TLS: the server's certificate is refused" in g.log_text(), 5,
               "the new CA refuses the server")


@tls_test
def rediss_files_checked_at_start():
    tls_setup()
    conf = os.path.join(S["dir"], "tls-t.conf")
    with open(conf, "w") as f:
        f.write("state_backend = %s\nredis_tls_ca = %s\n" % (S["rtls"].tls_url(), S["pki"].ca))
    r = subprocess.run([gatelab.POLICYD, "-t", "-c", conf], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 0 and "configuration ok" in r.stdout, r.stdout + r.stderr
    with open(conf, "a") as f:          # a certificate without its key
        f.write("redis_tls_cert = %s\n" % S["client"][0])
    r = subprocess.run([gatelab.POLICYD, "-t", "-c", conf], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode != 0 and "redis_tls_cert and redis_tls_key go together" in r.stderr, r
    for name, conf_, said in (
            ("tf1", dict(redis_tls_ca="/nonexistent/ca.pem"),
             "state_backend: redis_tls_ca /nonexistent/ca.pem: No such file or directory"),
            ("tf2", dict(redis_tls_key=S["pki"].ca_key),
             "state_backend: redis_tls_key %s is not the key of redis_tls_cert" %
             S["pki"].ca_key),
            ("tf3", dict(redis_tls_ca=S["client"][1]),
             "state_backend: redis_tls_ca %s: not a PEM file of CA certificates" %
             S["client"][1])):
        settings = dict(state_backend=S["rtls"].tls_url(), redis_tls_ca=S["pki"].ca,
                        redis_tls_cert=S["client"][0], redis_tls_key=S["client"][1])
        settings.update(conf_)
        log = start_fails(name, **settings)
        assert said in log, log


def rediss_refused_clearly_without_hiredis_ssl():
    """Debian 12: hiredis has no TLS; rediss:// stops the check and the start, saying why."""
    said = "rediss:// is not supported: this build's hiredis has no TLS"
    conf = os.path.join(S["dir"], "tls-t.conf")
    with open(conf, "w") as f:
        f.write("state_backend = rediss://127.0.0.1:6379/0\n")
    r = subprocess.run([gatelab.POLICYD, "-t", "-c", conf], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode != 0 and said in r.stderr and ":1: " in r.stderr, r
    assert said in start_fails("tls", state_backend="rediss://127.0.0.1:6379/0")


if not HIREDIS_SSL:
    suite.test(rediss_refused_clearly_without_hiredis_ssl)


def script(op, now, flags, keys=("", "", ""), fp=0, who=0, resid="", a16="", a17="",
           a18=""):
    """shared.lua run directly (account limit 3/60s, address 50/60s, lock 100s, max 1000s)."""
    r = S["redis"]
    sha = r.cli("SCRIPT", "LOAD", open(os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "..", "..", "policy", "shared.lua")).read()).strip()
    out = r.cli("EVALSHA", sha, 3, *keys, op, now, 3, 60, 50, 60, 100, 1000, 86400, 100, 10,
                fp, who, flags, resid, a16, a17, a18)
    return [int(x) for x in out.split()]


def set_redis_timeout(gate, value):
    """Reload gate with another redis_timeout (read live on SIGHUP); return once it runs with it."""
    with open(gate.conf_path) as f:
        conf = [l for l in f if not l.startswith("redis_timeout ")]
    with open(gate.conf_path, "w") as f:
        f.writelines(conf + ["redis_timeout = %s\n" % value])
    mark = len(gate.log_text())
    gate.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "reloaded " in gate.log_text()[mark:], 5, "gate reloaded")


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
