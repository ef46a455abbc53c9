#!/usr/bin/env python3
"""Faults on Dovecot's side that real Dovecot cannot produce on demand (tests/lab/fakeauth.py),
the configuration check (-t), and the handshake when Dovecot has never been reachable.

The gate is driven with the auth-client protocol directly, as smtpd drives it; no Postfix."""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gatelab  # noqa: E402
from fakeauth import FakeAuth  # noqa: E402
from gatelab import GateClient, NoLab, auth_line, b64, new_gate_dir, parse_logfmt, ref_of  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("faults")
S = {}



def setup():
    d = S["dir"] = new_gate_dir()
    S["fake"] = FakeAuth(os.path.join(d, "fake-auth"))
    S["gate"] = gatelab.Gate(NoLab(d), d, upstream_timeout="1s").start()


def teardown():
    rc = S["gate"].stop() if S.get("gate") else 0
    if S.get("fake"):
        S["fake"].stop()
    subprocess.run(["rm", "-rf", S.get("dir", "/nonexistent")])
    assert rc in (0, None), "authguard-policyd exited %s" % rc


def plain(user, pw="pw-123"):
    return b64("\0%s\0%s" % (user, pw))



def attempt(user, expect_close):
    """Send one PLAIN AUTH for user; return (reply line or None, the log event)."""
    gate = S["gate"]
    n = len(gate.events())
    c = GateClient(gate.socket)
    try:
        c.send(auth_line(1, "PLAIN", resp=plain(user)))
        if expect_close:
            assert c.closed(timeout=3), "gate did not close the connection"
            reply = None
        else:
            reply = c.line().decode()
    finally:
        c.close()
    ev = gate.wait_events(lambda e: True, count=n + 1)[n]
    assert ev["user"] == user, ev["_line"]
    return reply, ev


@suite.test
def normal_ok_and_fail():
    reply, ev = attempt("ok-dana", False)
    assert reply == "OK\t1\tuser=ok-dana" and ev["result"] == "pass"
    reply, ev = attempt("someone", False)
    assert reply.startswith("FAIL\t1\t") and ev["cause"] == "bad-credentials", reply
    assert ref_of(reply) == ev["ref"]


@suite.test
def overlong_reply_from_dovecot():
    _, ev = attempt("overlong", True)
    assert ev["cause"] == "auth-service-unavailable" and "overlong" in ev["detail"], ev["_line"]
    assert "longer than" in S["gate"].log_text()


@suite.test
def nul_in_reply_then_timeout():
    t0 = time.time()
    _, ev = attempt("nul", True)
    assert ev["cause"] == "auth-service-unavailable", ev["_line"]
    assert time.time() - t0 < 3
    assert "NUL byte" in S["gate"].log_text()


@suite.test
def unknown_command_ignored():
    reply, ev = attempt("unknown", False)
    assert reply.startswith("FAIL\t1\t") and ev["cause"] == "bad-credentials"
    assert "unexpected line from Dovecot" in S["gate"].log_text()


@suite.test
def cont_for_plain_is_a_fault():
    _, ev = attempt("cont", True)
    assert ev["cause"] == "auth-service-unavailable", ev["_line"]


@suite.test
def dovecot_hangs_up_then_reconnects():
    before = S["fake"].connections
    _, ev = attempt("hangup", True)
    assert ev["cause"] == "auth-service-unavailable", ev["_line"]
    reply, ev = attempt("ok-after", False)      # reconnected, nothing restarted
    assert reply.startswith("OK\t1\t") and S["fake"].connections > before


@suite.test
def silent_dovecot_answered_in_time():
    t0 = time.time()
    _, ev = attempt("silent", True)
    took = time.time() - t0
    assert ev["cause"] == "auth-service-unavailable" and 0.9 < took < 3, (took, ev["_line"])


# Responses of the shape the mechanisms send (the gate reads the account from them, and refuses
# one that cannot be what the mechanism sends): RFC 2195's "user SP 32 hex digits", RFC 2831's
# directives.
CRAM_RESPONSE = "cram-user " + "0123456789abcdef" * 2
DIGEST_RESPONSE = ('username="cram-user",nonce="abc",cnonce="def",nc=00000001,qop=auth,'
                   'digest-uri="smtp/localhost",response=' + "0123456789abcdef" * 2)


@suite.test
def relayed_mechanism_round_trip():
    gate = S["gate"]
    c = GateClient(gate.socket)
    assert b"MECH\tCRAM-MD5\tplaintext" in c.handshake     # Dovecot's list, passed on
    c.send(auth_line(7, "CRAM-MD5"))
    line = c.line().decode()
    assert line.startswith("CONT\t7\t"), line
    c.send("CONT\t7\t%s\n" % b64(CRAM_RESPONSE))
    assert c.line().decode() == "OK\t7\tuser=cram-user"
    c.close()
    ev = gate.wait_events(lambda e: e["mech"] == "CRAM-MD5")[-1]
    assert ev["result"] == "pass" and ev["user"] == "cram-user", ev["_line"]


@suite.test
def long_relayed_challenge_arrives_whole():
    c = GateClient(S["gate"].socket)
    c.send(auth_line(8, "DIGEST-MD5"))
    line = c.line().decode()
    assert line.startswith("CONT\t8\t") and len(line) > 300, line
    c.send("CONT\t8\t%s\n" % b64(DIGEST_RESPONSE))
    assert c.line().decode() == "OK\t8\tuser=cram-user"
    c.close()


@suite.test
def relayed_mechanism_cannot_bypass_an_account_lock():
    gate = S["gate"]
    c = GateClient(gate.socket)
    for i in range(10):            # account_fail_limit defaults to 10/15m
        c.send(auth_line(i + 1, "PLAIN", resp=plain("cram-user", "guess-%d" % i),
                         rip="203.0.113.%d" % (i + 1)))
        assert c.line().startswith(b"FAIL\t")
    c.send(auth_line(20, "CRAM-MD5", rip="203.0.113.50"))
    assert c.line().startswith(b"CONT\t20\t")
    c.send("CONT\t20\t%s\n" % b64(CRAM_RESPONSE))
    line = c.line().decode()       # the account read from the response: refused before Dovecot
    assert line.startswith("FAIL\t20\t") and "this account" in line, line
    c.close()
    assert gate.event(ref_of(line))["cause"] == "account-locked"


@suite.test
def peers_that_hang_up_at_once_do_not_hurt():
    gate = S["gate"]
    for i in range(40):            # answered at once, while the peer is already gone
        rip = "198.51.100.%d" % (i + 1)
        c = GateClient(gate.socket)
        c.send(auth_line(1, "PLAIN", resp="!!!!", rip=rip) if i % 2 else
               auth_line(1, "PLAIN", secured=False, resp=plain("ok-z"), rip=rip))
        c.s.shutdown(2)
        c.close()
    evs = gate.wait_events(lambda e: e["ip"].startswith("198.51.100."), count=40)
    assert len(evs) == 40 and len({e["ref"] for e in evs}) == 40, [e["_line"][60:140] for e in evs]
    c = GateClient(gate.socket)
    c.send(auth_line(2, "PLAIN", resp=plain("ok-still-here"), rip="198.51.100.99"))
    assert c.line().startswith(b"OK\t2\t") and gate.alive()
    c.close()


@suite.test
def last_known_mechanisms_survive_restart_while_down():
    gate = S["gate"]
    assert gate.stop() == 0
    S["fake"].stop()
    with open(os.path.join(gate.state_dir, "mechanisms")) as f:
        assert "CRAM-MD5" in f.read()
    gate.start()
    c = GateClient(gate.socket)
    assert b"MECH\tCRAM-MD5\tplaintext" in c.handshake and c.handshake[-1] == b"DONE"
    c.send(auth_line(1, "PLAIN", resp=plain("ok-x")))
    assert c.closed(timeout=3)
    c.close()
    S["fake"] = FakeAuth(S["fake"].path)


@suite.test
def handshake_without_any_dovecot():
    d = new_gate_dir()
    try:
        g = gatelab.Gate(NoLab(d), d).start()      # nothing listens, no state yet
        c = GateClient(g.socket)
        assert c.handshake[0] == b"VERSION\t1\t2"
        assert b"MECH\tPLAIN\tplaintext" in c.handshake
        assert b"MECH\tLOGIN\tplaintext" in c.handshake
        assert c.handshake[-1] == b"DONE"
        c.close()
        assert g.stop() == 0
    finally:
        subprocess.run(["rm", "-rf", d])


@suite.test
def dovecot_without_done_or_wrong_version():
    for mode in ("never", "version2"):
        d = new_gate_dir()
        fake = FakeAuth(os.path.join(d, "fake-auth"), handshake=mode)
        try:
            g = gatelab.Gate(NoLab(d), d, upstream_timeout="1s").start()
            c = GateClient(g.socket)
            t0 = time.time()
            c.send(auth_line(1, "PLAIN", resp=plain("ok-y")))
            assert c.closed(timeout=3) and time.time() - t0 < 2.5, mode
            c.close()
            ev = g.wait_events(lambda e: True)[-1]
            assert ev["cause"] == "auth-service-unavailable", ev["_line"]
            assert g.stop() == 0
        finally:
            fake.stop()
            subprocess.run(["rm", "-rf", d])


@suite.test
def protocol_1_3_and_a_channel_binding_mechanism():
    # Dovecot 2.4 announces VERSION 1 3; a mechanism that needs TLS channel binding (which
    # Postfix cannot give) is not offered to Postfix, the others are, and requests flow.
    d = new_gate_dir()
    fake = FakeAuth(os.path.join(d, "fake-auth"), handshake="dovecot24")
    try:
        g = gatelab.Gate(NoLab(d), d).start()
        c = GateClient(g.socket)
        c.send(auth_line(1, "PLAIN", resp=plain("ok-24")))
        assert c.line() == b"OK\t1\tuser=ok-24"
        c.close()
        c = GateClient(g.socket)
        assert c.handshake[0] == b"VERSION\t1\t2", c.handshake
        assert b"MECH\tCRAM-MD5\tplaintext" in c.handshake, c.handshake
        assert not [l for l in c.handshake if b"SCRAM-SHA-256-PLUS" in l], c.handshake
        c.close()
        assert ("mechanism SCRAM-SHA-256-PLUS needs TLS channel binding"
                in g.log_text()), g.log_text()[-2000:]
        assert g.stop() == 0
    finally:
        fake.stop()
        subprocess.run(["rm", "-rf", d])


@suite.test
def drops_privileges_and_keeps_no_core():
    import pwd
    d = new_gate_dir()
    fake = FakeAuth(os.path.join(d, "fake-auth"))
    try:
        g = gatelab.Gate(NoLab(d), d, user="nobody").start()
        nobody = pwd.getpwnam("nobody")
        c = GateClient(g.socket)                  # serves, reaches its upstream
        c.send(auth_line(1, "PLAIN", resp=plain("ok-dropped")))
        assert c.line() == b"OK\t1\tuser=ok-dropped"
        c.close()
        with open("/proc/%d/status" % g.proc.pid) as f:
            status = dict(l.split(":", 1) for l in f if ":" in l)
        assert status["Uid"].split()[:3] == [str(nobody.pw_uid)] * 3, status["Uid"]
        assert status["Gid"].split()[0] == str(nobody.pw_gid), status["Gid"]
        st = os.stat(g.state_dir)                 # the state is the daemon's user's
        assert st.st_uid == nobody.pw_uid, st.st_uid
        for f in os.listdir(g.state_dir):
            st = os.stat(os.path.join(g.state_dir, f))
            assert st.st_uid == nobody.pw_uid, (f, st.st_uid)
        # The fingerprint key is not kept in state_dir, where a copy of the state would carry it.
        assert not os.path.exists(os.path.join(g.state_dir, "secret")), os.listdir(g.state_dir)
        with open("/proc/%d/limits" % g.proc.pid) as f:
            core = [l for l in f if l.startswith("Max core file size")][0].split()
        assert core[4] == "0", core               # no core dumps: passwords are in memory
        # Not dumpable after the change of uid (which resets the flag): /proc says so by
        # leaving the process's files to root.
        assert os.stat("/proc/%d/status" % g.proc.pid).st_uid == 0
        assert g.stop() == 0
    finally:
        fake.stop()
        subprocess.run(["rm", "-rf", d])


@suite.test
def sockets_get_owner_group_and_mode():
    import grp
    import pwd
    import stat
    d = new_gate_dir()
    fake = FakeAuth(os.path.join(d, "fake-auth"))
    try:
        g = gatelab.Gate(NoLab(d), d, user="nobody", socket_owner="postfix",
                         socket_group="postfix", socket_mode="0660",
                         policy_listen="unix:%s/policy" % d).start()
        postfix, nobody = pwd.getpwnam("postfix"), pwd.getpwnam("nobody")
        for path in (g.socket, d + "/policy"):
            st = os.stat(path)
            assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o660, \
                (path, oct(st.st_mode))
            assert st.st_uid == postfix.pw_uid, (path, st.st_uid)
            assert st.st_gid == grp.getgrnam("postfix").gr_gid, (path, st.st_gid)
        st = os.stat(g.control)
        assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == nobody.pw_uid, oct(st.st_mode)
        c = GateClient(g.socket)                  # ... and they serve
        c.send(auth_line(1, "PLAIN", resp=plain("ok-perms")))
        assert c.line() == b"OK\t1\tuser=ok-perms"
        c.close()
        assert g.stop() == 0
        st = os.stat(g.state_dir + "/state")      # the final save: the daemon's, 0600
        assert st.st_uid == nobody.pw_uid and stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    finally:
        fake.stop()
        subprocess.run(["rm", "-rf", d])


@suite.test
def refuses_to_stay_root_unless_told():
    from milterlab import Milter, MILTER
    d = new_gate_dir()
    try:
        g = gatelab.Gate(NoLab(d), d, user=None)  # no "user" at all
        r = subprocess.run(g.argv(), capture_output=True, text=True, timeout=10)
        assert r.returncode != 0 and 'started as root without "user"' in r.stderr, r.stderr
        assert not os.path.exists(g.socket)
        m = Milter(d, user=None)
        r = subprocess.run([MILTER, "-f", "-c", m.conf_path], capture_output=True, text=True,
                           timeout=10)
        assert r.returncode != 0 and 'started as root without "user"' in r.stderr, r.stderr
    finally:
        subprocess.run(["rm", "-rf", d])


@suite.test
def config_check_names_file_and_line():
    d = new_gate_dir()
    try:
        good = os.path.join(d, "good.conf")
        with open(good, "w") as f:
            f.write("sasl_listen = unix:%s/auth\nclient_detail = full\n" % d)
        r = subprocess.run([gatelab.POLICYD, "-t", "-c", good], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        bad = os.path.join(d, "bad.conf")
        with open(bad, "w") as f:
            f.write("# comment\nclient_detail = full\nrequire_tls_for_auth = perhaps\n")
        r = subprocess.run([gatelab.POLICYD, "-t", "-c", bad], capture_output=True, text=True)
        assert r.returncode == 1 and "bad.conf:3: want yes or no" in r.stderr, r.stderr
        with open(bad, "w") as f:
            f.write("sasl_listen = unix:/x\nno_such_key = 1\n")
        r = subprocess.run([gatelab.POLICYD, "-t", "-c", bad], capture_output=True, text=True)
        assert r.returncode == 1 and "bad.conf:2: unknown key" in r.stderr, r.stderr
        example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                               "conf-examples", "authguard.conf")
        r = subprocess.run([gatelab.POLICYD, "-t", "-c", example], capture_output=True,
                           text=True)
        assert r.returncode == 0, r.stderr       # the documented example is valid
        r = subprocess.run([gatelab.POLICYD, "-t", "-c", d + "/missing.conf"],
                           capture_output=True, text=True)
        assert r.returncode == 1 and "missing.conf" in r.stderr
    finally:
        subprocess.run(["rm", "-rf", d])


if __name__ == "__main__":
    suite.run(setup, teardown)
