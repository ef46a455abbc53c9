#!/usr/bin/env python3
"""Seeded random schedules of Dovecot's auth policy requests against the real authguard-policyd
(the door, policy/door.c), over several kept-alive HTTP connections at once: allows with a
pwhash from a small set (so that repeats happen), reports of success or failure of the allows
still outstanding, reports of unknown sessions and of refused allows, allows never reported,
bursts of allows at once, `authguard lock` and `unlock`, and pauses.

A model in Python keeps what the rules surely say (lib/limits.c, policy/enforce.c, door 3) and,
after every step, the invariants are checked: one HTTP 200 answer with JSON status 0 or -1 for
each request, a -1 with "(ref=" and ten characters; an account the model knows is locked never
gets 0 from an address it does not know; a familiar address never hears the account's lockout;
authguard_authpolicy_logins within the allows that surely and possibly hold a place; the daemon
answers `authguard stats`; `authguard why ACCOUNT` shows each ref at most once.  Where timing or
a rule the model does not follow make a prediction uncertain, the account is "fuzzy" and only
the invariants that always hold are checked, until an unlock makes it known again.

Each run prints its seed; a failure prints the seed and the steps so far.  AUTHGUARD_SEEDS
(comma-separated) replays given seeds."""

import http.client
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import free_port  # noqa: E402
import gatelab  # noqa: E402
from gatelab import Gate, NoLab, new_gate_dir, teardown_suite  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("door_schedules")
S = {}
KEY = "sched-key-19"
LIMIT = 3                   # account_fail_limit = 3/30s
LOCKOUT = 3.0               # lockout_time = 3s, and authguard lock --for 3s
GRAIN = 1.0                 # lockouts end on a whole second of the daemon's clock
ENTRY_S = 30.0              # DOOR_ENTRY_MS: an allow without a report holds its place this long
MARGIN = 0.4                # seconds of slack on each side of a lockout's end
STEPS = 100
SEEDS = [int(s) for s in os.environ.get("AUTHGUARD_SEEDS", "").split(",") if s] or \
    [19001, 19002, 19003, 19004, 19005, 19006]
PWHASHES = ["0a1", "0b2", "0c3", "0d4"]
REF_MSG = re.compile(r"\(ref=[0-9A-Za-z]{10}\)")
ACCOUNT_LOCKED = "too many failed attempts for this account"


def setup():
    d = S["dir"] = new_gate_dir()
    S["port"] = free_port()
    S["mport"] = free_port()
    S["gate"] = Gate(NoLab(d), d, auth_policy_listen="inet:127.0.0.1:%d" % S["port"],
                     auth_policy_api_header="X-API-Key: " + KEY,
                     auth_policy_max_wait="200ms",
                     metrics_listen="inet:127.0.0.1:%d" % S["mport"],
                     account_fail_limit="%d/30s" % LIMIT, ip_fail_limit="6/30s",
                     lockout_time="3s").start()
    S["conns"] = [http.client.HTTPConnection("127.0.0.1", S["port"], timeout=10)
                  for _ in range(4)]
    S["held"] = []          # (time of the allow's answer, key) of allows never reported


def teardown():
    for c in S.get("conns", []):
        c.close()
    teardown_suite(S)


class Broken(AssertionError):
    pass


def post(conn, command, payload):
    """One request on a kept-alive connection: the parsed answer, after the shape checks."""
    conn.request("POST", "/?command=" + command, body=json.dumps(payload).encode(),
                 headers={"Content-Type": "application/json", "X-API-Key": KEY})
    r = conn.getresponse()
    text = r.read().decode()
    if r.status != 200:
        raise Broken("HTTP %d to %s: %r" % (r.status, command, text))
    try:
        ans = json.loads(text)
    except ValueError:
        raise Broken("not JSON to %s: %r" % (command, text))
    if not isinstance(ans, dict) or ans.get("status") not in (0, -1):
        raise Broken("bad answer to %s: %r" % (command, ans))
    if ans["status"] == 0 and set(ans) != {"status"}:
        raise Broken("0 with more: %r" % ans)
    if ans["status"] == -1 and not REF_MSG.search(ans.get("msg", "")):
        raise Broken("-1 without (ref=XXXXXXXXXX): %r" % ans)
    if command == "report" and ans != {"status": 0}:
        raise Broken("report not answered 0: %r" % ans)
    return ans


def cli(*args):
    r = subprocess.run([os.path.join(gatelab.BUILD, "authguard"), "-s", S["gate"].control]
                       + list(args), capture_output=True, text=True, timeout=10)
    return r.returncode, r.stdout, r.stderr


def metric(name):
    c = http.client.HTTPConnection("127.0.0.1", S["mport"], timeout=5)
    try:
        c.request("GET", "/metrics")
        r = c.getresponse()
        text = r.read().decode()
    finally:
        c.close()
    m = re.search(r"^%s (\d+)$" % name, text, re.M)
    if r.status != 200 or not m:
        raise Broken("metrics: %d, no %s" % (r.status, name))
    return int(m.group(1))


class Account:
    def __init__(self, name):
        self.name = name
        self.fails = set()          # pwhashes of the counted failures since the last clear
        self.locked_at = None       # the model's lock (send time of the report that made it)
        self.admin_until = None     # authguard lock --for: locked until then
        self.admin_any = False      # an admin lock may still be on (until an unlock)
        self.fuzzy = False          # the counting is not surely known (until an unlock)
        self.familiar = set()       # addresses that logged in to it


class Run:
    """One seeded schedule and its model."""

    def __init__(self, seed):
        self.seed = seed
        self.rnd = random.Random(seed)
        n = S["runs"] = S.get("runs", 0) + 1     # fresh accounts and addresses for each run
        tag = "s%d-%d" % (seed, n)
        self.accounts = [Account("%s-%s@example.test" % (a, tag)) for a in ("ann", "ben", "cy")]
        base = 4 * n + 10
        self.addrs = ["198.51.100.%d" % (base + i) for i in range(3)]
        self.outstanding = []       # dicts of allows answered 0, not reported yet
        self.refused = []           # bodies of allows answered -1
        self.trace = []

    def body(self, acct, addr, pwhash, session=None):
        return {"login": acct.name, "pwhash": pwhash, "remote": addr, "device_id": "",
                "protocol": self.rnd.choice(["imap", "pop3", "sieve"]),
                "session_id": session or uuid.uuid4().hex[:16], "tls": True}

    def note(self, text):
        self.trace.append("%.3f %s" % (time.time() - self.t0, text))

    # -- what the model surely knows -------------------------------------------------------

    def surely_locked(self, acct, now):
        if acct.admin_until is not None and now < acct.admin_until - GRAIN - MARGIN:
            return True
        return acct.locked_at is not None and now < acct.locked_at + LOCKOUT - GRAIN - MARGIN

    def check_allow(self, acct, addr, ans, t_send):
        familiar = addr in acct.familiar
        if not familiar and self.surely_locked(acct, t_send):
            S["locked_checks"] = S.get("locked_checks", 0) + 1
        if familiar and not acct.admin_any:
            S["familiar_checks"] = S.get("familiar_checks", 0) + 1
        if not familiar and ans["status"] == 0 and self.surely_locked(acct, t_send):
            raise Broken("%s locked in the model, yet allowed from %s" % (acct.name, addr))
        if familiar and not acct.admin_any and ans["status"] == -1 and \
                ACCOUNT_LOCKED in ans["msg"]:
            raise Broken("%s refused as locked to its familiar address %s: %r"
                         % (acct.name, addr, ans))

    def counted_failure(self, acct, pwhash, t_send):
        if acct.fuzzy:
            return
        if acct.locked_at is not None or acct.admin_any:
            acct.fuzzy = True       # counting during and after a lockout: not modelled
            return
        acct.fails.add(pwhash)
        if len(acct.fails) >= LIMIT:
            acct.locked_at = t_send
            self.note("model: %s locked" % acct.name)

    def success(self, acct, addr):
        acct.familiar.add(addr)
        if not acct.fuzzy and acct.locked_at is None and not acct.admin_any:
            acct.fails.clear()

    # -- the steps ---------------------------------------------------------------------------

    def conn(self):
        return self.rnd.choice(S["conns"])

    def allow(self, acct=None, addr=None, conn=None, keep=True):
        acct = acct or self.rnd.choice(self.accounts)
        addr = addr or self.rnd.choice(self.addrs)
        b = self.body(acct, addr, self.rnd.choice(PWHASHES))
        t = time.time()
        ans = post(conn or self.conn(), "allow", b)
        self.note("allow %s %s %s -> %r" % (acct.name, addr, b["pwhash"], ans))
        return acct, addr, b, ans, t

    def settle_allow(self, acct, addr, b, ans, t, orphan=False):
        if ans["status"] == 0:
            item = {"acct": acct, "addr": addr, "body": b, "t": time.time()}
            if orphan:
                S["held"].append((time.time(), b["session_id"]))
            else:
                self.outstanding.append(item)
        else:
            self.refused.append({"body": b, "t": time.time()})
        self.check_allow(acct, addr, ans, t)

    def step_allow(self):
        self.settle_allow(*self.allow())

    def step_orphan(self):
        self.settle_allow(*self.allow(), orphan=True)

    def step_burst(self):
        """Allows at once on different connections, each in its own thread."""
        n = self.rnd.randint(2, 4)
        picks = [(self.rnd.choice(self.accounts), self.rnd.choice(self.addrs),
                  self.rnd.choice(PWHASHES)) for _ in range(n)]
        out = [None] * n

        def one(i):
            acct, addr, pw = picks[i]
            b = self.body(acct, addr, pw)
            t = time.time()
            try:
                out[i] = (acct, addr, b, post(S["conns"][i], "allow", b), t)
            except Exception as e:      # noqa: BLE001 -- reported below
                out[i] = e
        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(15)
        for i, r in enumerate(out):
            if not isinstance(r, tuple):
                raise Broken("burst allow %d: %r" % (i, r))
            self.note("burst allow %s %s %s -> %r" % (r[0].name, r[1], r[2]["pwhash"], r[3]))
        first = None
        for r in out:           # each one in the model, then the first that broke
            try:
                self.settle_allow(*r)
            except Broken as e:
                first = first or e
        if first:
            raise first

    def step_report(self):
        if not self.outstanding:
            return self.step_allow()
        item = self.outstanding.pop(self.rnd.randrange(len(self.outstanding)))
        acct, addr, b = item["acct"], item["addr"], item["body"]
        kind = self.rnd.choice(["success", "success", "credentials", "credentials",
                                "account", "none"])
        rep = dict(b, success=kind == "success", policy_reject=False)
        if kind in ("credentials", "account"):
            rep["fail_type"] = kind
        t = time.time()
        post(self.conn(), "report", rep)
        self.note("report %s %s %s %s" % (acct.name, addr, b["pwhash"], kind))
        if kind == "success":
            self.success(acct, addr)
        elif kind == "credentials":
            self.counted_failure(acct, b["pwhash"], t)
        else:
            acct.fuzzy = True       # unknown-user / no userdb: not modelled

    def step_report_unknown(self):
        acct = self.rnd.choice(self.accounts)
        addr = self.rnd.choice(self.addrs)
        b = self.body(acct, addr, self.rnd.choice(PWHASHES))
        ok = self.rnd.random() < 0.3
        rep = dict(b, success=ok, policy_reject=False)
        if not ok:
            rep["fail_type"] = "credentials"
        t = time.time()
        post(self.conn(), "report", rep)
        self.note("report-unknown %s %s %s %s" % (acct.name, addr, b["pwhash"], ok))
        if ok:
            self.success(acct, addr)    # any success makes its address familiar (door 3)
        else:
            self.counted_failure(acct, b["pwhash"], t)

    def step_report_refused(self):
        if not self.refused:
            return self.step_allow()
        b = self.refused.pop(self.rnd.randrange(len(self.refused)))["body"]
        post(self.conn(), "report", dict(b, success=False, policy_reject=True,
                                         fail_type="policy"))
        self.note("report-refused %s %s" % (b["login"], b["remote"]))

    def step_lock(self):
        acct = self.rnd.choice(self.accounts)
        t = time.time()
        rc, out, err = cli("lock", acct.name, "--for", "3s")
        self.note("lock %s -> %d %s" % (acct.name, rc, (out + err).strip()[:80]))
        if rc != 0:
            raise Broken("authguard lock %s: %d %r %r" % (acct.name, rc, out, err))
        acct.admin_until = t + LOCKOUT
        acct.admin_any = True
        acct.fuzzy = True

    def step_unlock(self):
        if self.rnd.random() < 0.3:
            addr = self.rnd.choice(self.addrs)
            rc, out, err = cli("unlock", addr)
            self.note("unlock %s -> %d" % (addr, rc))
            if rc not in (0, 1):
                raise Broken("authguard unlock %s: %d %r %r" % (addr, rc, out, err))
            return
        acct = self.rnd.choice(self.accounts)
        rc, out, err = cli("unlock", acct.name)
        self.note("unlock %s -> %d %s" % (acct.name, rc, (out + err).strip()[:80]))
        if rc not in (0, 1):
            raise Broken("authguard unlock %s: %d %r %r" % (acct.name, rc, out, err))
        acct.fails.clear()
        acct.locked_at = acct.admin_until = None
        acct.admin_any = acct.fuzzy = False
        # allows still outstanding hold their places; their failures count from now on

    def step_pause(self):
        d = self.rnd.choice([0.05, 0.2, 0.5, 1.0, 3.2])
        self.note("pause %.2f" % d)
        time.sleep(d)

    STEPS = [("step_allow", 30), ("step_report", 30), ("step_burst", 6), ("step_orphan", 2),
             ("step_report_unknown", 6), ("step_report_refused", 5), ("step_lock", 2),
             ("step_unlock", 6), ("step_pause", 4)]

    # -- invariants after each step ---------------------------------------------------------

    def invariants(self):
        if not S["gate"].alive():
            raise Broken("authguard-policyd died: %s" % S["gate"].log_text()[-2000:])
        rc, out, err = cli("stats")
        if rc != 0:
            raise Broken("authguard stats: %d %r %r" % (rc, out, err))
        now = time.time()
        # The door keeps the entry of a login until its report or for ENTRY_S; the gauge
        # counts those that hold a place: the allowed ones, not the refused ones (whose entry
        # is kept only so that their report, with policy_reject, counts nothing more).
        mine = [o["t"] for o in self.outstanding] + [t for t, _ in S["held"]]
        surely = sum(1 for t in mine if now - t < ENTRY_S - 1)
        possibly = sum(1 for t in mine if now - t < ENTRY_S + 2)
        logins = metric("authguard_authpolicy_logins")
        if not surely <= logins <= possibly:
            raise Broken("authguard_authpolicy_logins %d, model: at least %d, at most %d"
                         % (logins, surely, possibly))
        acct = self.rnd.choice(self.accounts)
        rc, out, err = cli("why", acct.name)
        if rc not in (0, 1):
            raise Broken("authguard why %s: %d %r" % (acct.name, rc, err))
        refs = re.findall(r"\bref=([0-9A-Za-z]+)", out)
        dup = {r for r in refs if refs.count(r) > 1}
        if dup:
            raise Broken("authguard why %s shows refs more than once: %s\n%s"
                         % (acct.name, sorted(dup), out))

    def run(self):
        self.t0 = time.time()
        names = [n for n, _ in self.STEPS]
        weights = [w for _, w in self.STEPS]
        try:
            for i in range(STEPS):
                name = self.rnd.choices(names, weights)[0]
                self.note("step %d %s" % (i, name))
                getattr(self, name)()
                self.invariants()
        except Exception:
            print("# seed %d failed; its steps:" % self.seed)
            for line in self.trace[-80:]:
                print("#   " + line)
            raise
        finally:        # what a run leaves unreported stays in later runs' counts
            for o in self.outstanding:  # the refused hold no place
                S["held"].append((o["t"], o["body"]["session_id"]))


def make_test(seed):
    def test():
        print("# seed %d, %d steps (replay: AUTHGUARD_SEEDS=%d)" % (seed, STEPS, seed))
        Run(seed).run()
    test.__name__ = "schedule_seed_%d" % seed
    return test


for _seed in SEEDS:
    suite.test(make_test(_seed))


@suite.test
def the_schedules_met_locks_and_familiar_addresses():
    """The invariants about lockouts were checked, not only held vacuously: allows of
    accounts the model knew locked, and allows from familiar addresses."""
    locked, familiar = S.get("locked_checks", 0), S.get("familiar_checks", 0)
    print("# %d allows of accounts known locked, %d from familiar addresses"
          % (locked, familiar))
    assert locked >= 5 and familiar >= 20, (locked, familiar)


if __name__ == "__main__":
    suite.run(setup, teardown)
