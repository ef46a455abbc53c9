#!/usr/bin/env python3
"""A spray of thousands of distinct user names from thousands of addresses, through the gate to
the real Dovecot: tracked entries stay at max_tracked, memory stays flat, locked entries survive
the eviction, and a real login still works afterwards."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab  # noqa: E402
import gatelab  # noqa: E402
from gatelab import teardown_suite, Gate, GateClient, auth_line, b64, new_gate_dir  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("spray")
S = {}
N, INFLIGHT, MAX = 3000, 100, 500


def setup():
    S["dir"] = new_gate_dir()
    S["lab"] = Lab(sasl_path=os.path.join(S["dir"], "auth"))
    S["lab"].start_dovecot()
    # Under AddressSanitizer, freed memory waits in a quarantine (256 MiB by default) before
    # it is reused; a small one keeps the sanitizer's checks and makes RSS meaningful here.
    asan = os.environ.get("ASAN_OPTIONS", "")
    S["gate"] = Gate(S["lab"], S["dir"], max_tracked=str(MAX), history_size="1000",
                     account_fail_limit="3/10m", guessing_threshold="255").start(
        env={"ASAN_OPTIONS": (asan + ":" if asan else "") + "quarantine_size_mb=1"})


def teardown():
    teardown_suite(S)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def stats():
    r = subprocess.run([os.path.join(gatelab.BUILD, "authguard"), "-s", S["gate"].control,
                        "stats"], capture_output=True, text=True, check=True)
    return dict(kv.split("=") for kv in r.stdout.split())


def spray(first, count, c):
    """count attempts, INFLIGHT at a time on one connection; returns the FAIL lines seen."""
    sent = got = 0
    fails = 0
    while got < count:
        while sent < count and sent - got < INFLIGHT:
            i = first + sent
            rip = "10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255)
            c.send(auth_line(sent + 1, "PLAIN", resp=b64("\0spray%d@example.test\0pw%d" % (i, i)),
                             rip=rip))
            sent += 1
        line = c.line()
        got += 1
        fails += line.startswith(b"FAIL\t")
    return fails


@suite.test
def spray_stays_within_max_tracked():
    gate = S["gate"]
    locked = GateClient(gate.socket)          # one account locked before the spray
    for i in range(3):
        locked.send(auth_line(i + 1, "PLAIN", resp=b64("\0alice@example.test\0bad%d" % i),
                              rip="192.0.2.1"))
        assert locked.line().startswith(b"FAIL\t")
    locked.send(auth_line(9, "PLAIN", resp=b64("\0alice@example.test\0correct horse"),
                          rip="192.0.2.2"))
    assert b"account" in locked.line()
    locked.close()
    c = GateClient(gate.socket, timeout=60)
    spray(0, 500, c)                           # warm up: the tables reach their cap
    before = rss_kb(gate.proc.pid)
    assert spray(500, N, c) == N
    c.close()
    after = rss_kb(gate.proc.pid)
    st = stats()
    assert int(st["accounts_tracked"]) <= MAX and int(st["addresses_tracked"]) <= MAX, st
    assert int(st["accounts_evicted"]) >= N and int(st["addresses_evicted"]) >= N - MAX, st
    assert st["upstream"] == "ready" and st["sasl_connections"] == "0", st   # all released
    assert after - before < 4096, "RSS grew by %d KiB during the spray" % (after - before)
    c = GateClient(gate.socket)                # the locked account was not evicted
    c.send(auth_line(1, "PLAIN", resp=b64("\0alice@example.test\0correct horse"),
                     rip="192.0.2.3"))
    line = c.line()
    assert line.startswith(b"FAIL\t1\t") and b"account" in line, line
    c.send(auth_line(2, "PLAIN", resp=b64("\0bob@example.test\0abcdefghijklmnop"),
                     rip="192.0.2.3"))
    assert c.line().startswith(b"OK\t2\t")     # and real logins still work
    c.close()
    print("# spray: %d attempts, RSS %d -> %d KiB, %s" % (N, before, after, st))


if __name__ == "__main__":
    suite.run(setup, teardown)
