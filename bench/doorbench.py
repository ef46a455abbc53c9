"""The auth policy door's cost: IMAP LOGIN through real Dovecot with its auth policy client asking
authguard-policyd, against the same Dovecot without a policy; and the door's requests/s.

Two labs run side by side (same users, same passwd-file passdb, auth cache off), one with
Dovecot's policy client set up as conf-examples/dovecot-auth-policy-2.3.conf (-2.4.conf) says
(ask before the password check, report after, nothing after a right password).  LOGINS
logins each, one at a time on a fresh connection, alternating between the labs; the time is from
sending LOGIN to reading its tagged OK (the login process, Dovecot's auth, the policy request and
the post-login process start).  Then build/doorload (bench/doorload.c) keeps one request in
flight on each of LOAD_CONNS keep-alive connections to the door for SECS seconds: for each login
(a new account from a new address) a Dovecot-shaped allow, then its report.
"""

import os
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LOGINS, WARMUP = 600, 10
LOAD_CONNS, SECS = (1, 8, 32), 3
NONCE, API_KEY = "bench-nonce", "bench-api-key"
USER, PASSWORD = "alice@example.test", "correct horse"


def _percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100.0))]


def _imap_login_us(port):
    """One IMAP LOGIN on a fresh connection: microseconds from LOGIN to its tagged OK."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        f = s.makefile("rb")
        greeting = f.readline()
        if not greeting.startswith(b"* OK"):
            raise RuntimeError("IMAP greeting: %r" % greeting)
        t0 = time.perf_counter()
        s.sendall(b'a LOGIN "%s" "%s"\r\n' % (USER.encode(), PASSWORD.encode()))
        while True:
            line = f.readline()
            if not line:
                raise RuntimeError("IMAP: connection closed during LOGIN")
            if line.startswith(b"a "):
                break
        took = time.perf_counter() - t0
        if not line.startswith(b"a OK"):
            raise RuntimeError("IMAP LOGIN: %r" % line)
        s.sendall(b"b LOGOUT\r\n")
        while True:
            line = f.readline()
            if not line or line.startswith(b"b "):
                break
        return int(took * 1e6)
    finally:
        s.close()


def _door_load(build, port, conns):
    r = subprocess.run([os.path.join(build, "doorload"), "127.0.0.1:%d" % port, str(conns),
                        str(SECS), API_KEY], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("doorload: %s" % r.stderr.strip())
    n, rps, p50, p99, err = r.stdout.split()
    return int(n), float(rps), int(p50), int(p99), int(err)


def bench(build):
    os.environ["AUTHGUARD_BUILD"] = os.path.abspath(build)
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "lab"))
    from lab import Lab, dovecot_version, free_port, tcp_listening, wait_until
    from gatelab import Gate, new_gate_dir

    gdir = new_gate_dir()
    door = free_port()
    plain = Lab(logins=("imap",))
    policy = Lab(logins=("imap",), auth_policy={
        "url": "http://127.0.0.1:%d/" % door, "nonce": NONCE,
        "api_header": "X-API-Key: " + API_KEY, "check_before_auth": True,
        "check_after_auth": False, "report_after_auth": True, "reject_on_fail": False})
    gate = None
    lat = {"plain": [], "policy": []}
    try:
        plain.start_dovecot()
        policy.start_dovecot()
        gate = Gate(policy, gdir, auth_policy_listen="inet:127.0.0.1:%d" % door,
                    auth_policy_api_header="X-API-Key: " + API_KEY,
                    auth_policy_hash_nonce=NONCE).start()
        wait_until(lambda: tcp_listening(door), 10, "the auth policy door")
        for lab in (plain, policy):         # warm up: login processes, the keep-alive link
            for _ in range(WARMUP):
                _imap_login_us(lab.imap_port)
        for _ in range(LOGINS):      # alternating: the same background for both
            for name, lab in (("plain", plain), ("policy", policy)):
                lat[name].append(_imap_login_us(lab.imap_port))
        # every policy login was asked about: the door's lines say so
        seen = sum(1 for e in gate.events() if e.get("proto") == "imap")
        loads = [(c, _door_load(build, door, c)) for c in LOAD_CONNS]
        rc = gate.stop()
        gate = None
    finally:
        if gate:
            gate.stop()
        plain.stop()
        policy.stop()
        shutil.rmtree(gdir, ignore_errors=True)
    p50 = {k: _percentile(v, 50) for k, v in lat.items()}
    p99 = {k: _percentile(v, 99) for k, v in lat.items()}
    rows = [
        "| IMAP LOGIN through | logins | p50 µs | p99 µs |",
        "|---|---:|---:|---:|",
        "| Dovecot without a policy | %d | %d | %d |" % (len(lat["plain"]), p50["plain"],
                                                     p99["plain"]),
        "| Dovecot asking authguard-policyd (allow + report) | %d | %d | %d |"
        % (len(lat["policy"]), p50["policy"], p99["policy"]),
        "| the policy's cost | | **%+d** | **%+d** |" % (p50["policy"] - p50["plain"],
                                                      p99["policy"] - p99["plain"]),
        "",
        "| door load: connections (one request in flight each) | requests | requests/s "
        "| p50 µs | p99 µs | errors |",
        "|---:|---:|---:|---:|---:|---:|",
    ] + ["| %d | %d | %.0f | %d | %d | %d |" % ((c,) + load) for c, load in loads] + [
    ]
    text = [
        "## Auth policy door (IMAP, POP3, ManageSieve)",
        "",
        "`make bench`: real Dovecot %s with imap, its passwd-file passdb, auth cache off; %d "
        "IMAP LOGINs each (one at a time, a fresh connection each, LOGIN to tagged OK) "
        "against Dovecot without a policy and Dovecot whose auth policy client asks "
        "authguard-policyd (`auth_policy_check_after_auth = no`: one allow before the password "
        "check, one report after), alternating; %d of those logins were logged by the door "
        "(proto=imap; with the warm-up logins). Then build/doorload (bench/doorload.c) keeps "
        "one request in flight on each of 1, 8 and 32 keep-alive connections for %d s each, as "
        "Dovecot's policy client does: for each login of a new account from a new address an "
        "allow, then its report (a success), with Dovecot 2.3's headers and bodies."
        % (".".join(map(str, dovecot_version())), LOGINS, seen, SECS),
        "",
    ] + rows + [""]
    ok = rc == 0 and all(load[4] == 0 for _, load in loads) and \
        seen == LOGINS + WARMUP
    return text, ok


if __name__ == "__main__":
    # python3 bench/doorbench.py BUILD: this section alone, printed (RESULTS.md untouched)
    out, good = bench(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "build"))
    print("\n".join(out))
    sys.exit(0 if good else 1)
