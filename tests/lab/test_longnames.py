#!/usr/bin/env python3
"""User names of every length the gate accepts, through real Postfix and Dovecot: names of 127,
128, 255, 256 and 1024 bytes (SASL_FIELD_MAX, the longest) that fail AUTH PLAIN are each counted
against their own account and locked at the limit, shown whole by `authguard top` and `authguard
why`, kept in the state file across a restart, and recorded in Redis's lists of recent attempts.
A longer argument or request line is refused by the control socket with its reason and a log
line, never cut short.

A 1024-byte name is a 1.4 KB AUTH PLAIN line, below smtpd's line_length_limit (2048): Postfix
relays every one of these names to the gate, which the test checks in the gate's log (where a
value is cut at LOGLINE_VALUE_MAX, 512 bytes, marked with the number of bytes left out).

Dovecot's auth-userdb socket reads lines of at most 1024 bytes: a lookup of a 1024-byte name
cannot be asked there, so that name's failure is bad-credentials, not unknown-user; asking
anyway makes Dovecot drop the connection, and every lookup in flight on it."""

import json
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab, wait_until  # noqa: E402
import gatelab  # noqa: E402
from gatelab import (Gate, GateClient, auth_line, b64, new_gate_dir, ref_of,  # noqa: E402
                     teardown_suite)
from redislab import Redis  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("longnames")
S = {}
LENGTHS = (127, 128, 255, 256, 1024)
CONF = dict(account_fail_limit="3/10m", ip_fail_limit="200/10m", lockout_time="10m",
            lockout_max="10m", guessing_threshold="100")


def name_of(n, tag="Long"):
    """A user name of exactly n bytes, upper case in front (the account is lower case)."""
    head, tail = "%s%d-" % (tag, n), "@example.test"
    return head + "x" * (n - len(head) - len(tail)) + tail


NAMES = {n: name_of(n) for n in LENGTHS}
LOG_VALUE_MAX = 512             # logline.h: LOGLINE_VALUE_MAX
USERDB_NAME_MAX = 900           # a lookup line with such a name fits Dovecot's 1024 bytes


def logged(name):
    """A name as the gate's log shows it: whole, or cut and marked."""
    if len(name) <= LOG_VALUE_MAX:
        return name
    return name[:LOG_VALUE_MAX] + "...(+%d bytes)" % (len(name) - LOG_VALUE_MAX)


def not_found_cause(n):
    """What a failure of an unknown n-byte name is: unknown-user where Dovecot can be asked."""
    return ("unknown-user",) if n <= USERDB_NAME_MAX else ("unknown-user", "bad-credentials")


def setup():
    S["dir"] = new_gate_dir()
    S["lab"] = Lab(sasl_path=os.path.join(S["dir"], "auth"), maxproc=5)
    S["lab"].start_dovecot()
    S["gate"] = Gate(S["lab"], S["dir"], **CONF).start()
    S["lab"].start_postfix()


def teardown():
    rc = S["rgate"].stop() if S.get("rgate") else 0
    if S.get("redis"):
        S["redis"].stop()
    teardown_suite(S)
    assert rc in (0, None), "the gate on Redis exited %s" % rc


def auth(user, password, src="127.0.0.1"):
    """One AUTH PLAIN through Postfix over STARTTLS: (code, text)."""
    s = S["lab"].smtp_connect(starttls=True, source_address=src)
    try:
        code, msg = s.docmd("AUTH PLAIN", b64("\0%s\0%s" % (user, password)))
        return code, msg.decode()
    finally:
        s.close()


def cli(*args):
    r = subprocess.run([os.path.join(gatelab.BUILD, "authguard"), "-s", S["gate"].control]
                       + list(args), capture_output=True, text=True, timeout=20)
    return r.returncode, r.stdout, r.stderr


def top_rows():
    """authguard --json top: {user: row}."""
    rc, out, err = cli("--json", "top")
    assert rc == 0, err
    return {row["user"]: row for row in json.loads(out)}


def check_shown(locked=True):
    """Each name in top (whole, lower case) and in why (asked in its own case)."""
    rows = top_rows()
    for n, name in NAMES.items():
        row = rows.get(name.lower())
        assert row, "no %d-byte name in top: %r" % (n, sorted(len(k) for k in rows))
        assert row["failures"] == "4", row
        assert (row["locked_until"] != "no") == locked, row
        rc, out, err = cli("--json", "why", name)
        assert rc == 0, err
        why = json.loads(out)
        assert len(why["attempts"]) == 4, (n, why["attempts"])
        assert all(a["user"] == name for a in why["attempts"]), n
        assert why["account"]["key"] == name.lower(), (n, why["account"])
        assert why["account"]["locked"] == ("yes" if locked else "no"), why["account"]
    rc, out, err = cli("top")
    assert rc == 0, err
    for name in NAMES.values():
        assert "user=%s " % name.lower() in out, out[:2000]


@suite.test
def long_names_counted_locked_and_shown():
    for n, name in NAMES.items():
        for i in range(3):
            code, text = auth(name, "wrong-%d" % i, src="127.0.3.%d" % (i + 1))
            assert code == 535, (n, code, text)
            ev = S["gate"].event(ref_of(text))
            assert ev["cause"] in not_found_cause(n), (n, ev["cause"], ev.get("detail"))
            assert ev["user"] == logged(name), (n, len(ev.get("user", "")))
        # the fourth never reaches Dovecot: the account, not the address, is locked
        code, text = auth(name, "wrong-3", src="127.0.3.9")
        assert code == 535 and S["gate"].event(ref_of(text))["cause"] == "account-locked", \
            (n, text)
    locks = {e["key"] for e in S["gate"].events("lock") if e.get("kind") == "account"}
    assert locks >= {logged(name.lower()) for name in NAMES.values()}, \
        sorted(len(k) for k in locks)
    check_shown(locked=True)


@suite.test
def long_names_survive_a_restart():
    gate = S["gate"]
    assert gate.stop() == 0
    try:
        with open(os.path.join(gate.state_dir, "state")) as f:
            text = f.read()
    finally:
        gate.start()
    for name in NAMES.values():
        assert "E a %s " % name.lower() in text, len(name)
        assert text.count(" %s\n" % name) == 4, len(name)      # H lines: user last
    wait_until(lambda: "state loaded" in gate.log_text(), 10, "the state to load")
    assert "unreadable" not in gate.log_text(), gate.log_text()[-2000:]
    check_shown(locked=True)
    code, text = auth(NAMES[1024], "wrong-4", src="127.0.3.10")
    assert code == 535 and gate.event(ref_of(text))["cause"] == "account-locked", text


@suite.test
def admin_lock_and_unlock_of_the_longest_name():
    name = name_of(1024, "Admin")
    rc, out, err = cli("lock", name, "--for", "1h")
    assert rc == 0 and "locked=%s" % name.lower() in out, (rc, out, err)
    code, text = auth(name, "any", src="127.0.3.11")
    assert code == 535 and S["gate"].event(ref_of(text))["cause"] == "account-locked", text
    rc, out, err = cli("unlock", name)
    assert rc == 0 and "unlocked %s" % name.lower() in out, (rc, out, err)
    code, text = auth(name, "any", src="127.0.3.11")
    assert code == 535 and S["gate"].event(ref_of(text))["cause"] in not_found_cause(1024), text


@suite.test
def longest_name_keeps_the_userdb_connection():
    """A name too long for Dovecot's auth-userdb line (1024 bytes) is not asked there: the
    connection, and the lookups of others, go on."""
    mark = len(S["gate"].log_text())
    code, text = auth(name_of(1024, "Userdb"), "any", src="127.0.3.12")
    assert code == 535, text
    S["gate"].event(ref_of(text))
    assert "userdb_upstream: connection lost" not in S["gate"].log_text()[mark:], \
        S["gate"].log_text()[mark:][-1500:]


@suite.test
def longer_arguments_and_lines_refused_with_their_cause():
    mark = len(S["gate"].log_text())
    rc, out, err = cli("why", "y" * 1025)
    assert rc == 1 and "argument of 1025 bytes" in err and "1024" in err, (rc, out, err)
    wait_until(lambda: "an argument of 1025 bytes" in S["gate"].log_text()[mark:], 5,
               "the refusal logged")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(S["gate"].control)
        s.sendall(b"why\ttext\t" + b"z" * 4000 + b"\n")
        reply = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
    assert reply.startswith(b"ERR request too long: more than "), reply
    wait_until(lambda: "control: request too long: more than" in S["gate"].log_text()[mark:], 5,
               "the overlong line logged")
    # a request with the longest name and every option still fits
    rc, out, err = cli("--json", "why", NAMES[1024], "--since", "30d")
    assert rc == 0 and json.loads(out)["account"]["key"] == NAMES[1024].lower(), err


@suite.test
def long_names_recorded_in_redis():
    """A gate sharing its state through Redis (driven as smtpd drives it, before the lab's real
    Dovecot) puts each attempt into the list of its user, whatever the name's length."""
    d = os.path.join(S["dir"], "r")
    os.makedirs(os.path.join(d, "state"))
    os.chmod(d, 0o755)
    S["redis"] = Redis(d).start()
    S["rgate"] = g = Gate(S["lab"], d, state_backend=S["redis"].url(), redis_prefix="lab:",
                          redis_timeout="1s", **CONF).start()
    wait_until(lambda: "shared state: Redis at" in g.log_text() and " ready" in g.log_text(),
               5, "gate connected to Redis")
    c = GateClient(g.socket)
    refs = {}
    for i, (n, name) in enumerate(NAMES.items()):
        c.send(auth_line(i + 1, "PLAIN", resp=b64("\0%s\0wrong" % name)))
        reply = c.line().decode()
        assert reply.startswith("FAIL\t%d" % (i + 1)), reply
        refs[n] = ref_of(reply)
    c.close()
    for n, name in NAMES.items():
        wait_until(lambda: refs[n] in S["redis"].cli("GET", "lab:h:" + refs[n]), 5,
                   "the record of the %d-byte name in Redis" % n)
        listed = S["redis"].cli("LRANGE", "lab:hu:" + name.lower(), 0, -1)
        assert refs[n] in listed, "no %d-byte name's list in Redis: %r" % (n, listed[:200])


if __name__ == "__main__":
    if len(sys.argv) > 1:       # only the named tests
        suite.tests = [t for t in suite.tests if t.__name__ in sys.argv[1:]]
    suite.run(setup, teardown)
