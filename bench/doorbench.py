"""The auth policy door's cost: IMAP LOGIN through real Dovecot with its auth policy client asking
authguard-policyd, against the same Dovecot without a policy; and the door's requests/s.

Two labs run side by side (same users, same passwd-file passdb, auth cache off), one with
Dovecot's policy client set up as conf-examples/dovecot-auth-policy-2.3.conf (-2.4.conf) says
(ask before the password check, report after, nothing after a right password).  Each round makes
LOGINS logins, one at a time on a fresh connection, against each lab in turn; the time is from
sending LOGIN to reading its tagged OK (the login process, Dovecot's auth, the policy request and
the post-login process start).  Then PROCS client processes, each with one keep-alive HTTP/1.1
connection and one request in flight, POST for each login (a new account from a new address) a
Dovecot-shaped allow and then its report to the door, for SECS seconds.  Python's http.client is the load: on two cores the clients and the
door share the CPUs, so the requests/s row is a floor, not the door's ceiling.
"""

import http.client
import json
import multiprocessing
import os
import shutil
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROUNDS, LOGINS, WARMUP = 3, 200, 10
PROCS, SECS = 4, 3
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


def _body(i, report=False):
    """Dovecot-shaped request body of login i (its own account and address)."""
    fields = [("device_id", ""), ("login", "bench%d@example.test" % i), ("protocol", "imap"),
              ("pwhash", "%04x" % (i & 0xfff)),
              ("remote", "10.%d.%d.%d" % (i >> 24 & 255, i >> 8 & 255, i & 255 or 1)),
              ("session_id", "bench%011d" % i)]
    if report:
        fields += [("success", True), ("policy_reject", False)]
    return json.dumps(dict(fields + [("tls", False)]), separators=(",", ":")).encode()


def _door_client(port, secs, first, out):
    """One keep-alive connection: for each login an allow, then its report (a success), as
    Dovecot sends them; every request's time."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/json", "X-API-Key": API_KEY,
               "User-Agent": "dovecot/auth-policy-client"}
    n = errors = 0
    lat = []
    kinds = {}
    end = time.perf_counter() + secs
    while time.perf_counter() < end:
        for cmd in ("allow", "report"):
            t0 = time.perf_counter()
            try:
                c.request("POST", "/?command=" + cmd, _body(first + n // 2, cmd == "report"),
                          headers)
                r = c.getresponse()
                body = r.read()
                if r.status != 200 or json.loads(body).get("status") != 0:
                    errors += 1
                    kinds[(r.status, body[:80])] = kinds.get((r.status, body[:80]), 0) + 1
            except (OSError, http.client.HTTPException, ValueError) as e:
                errors += 1
                kinds[repr(e)[:80]] = kinds.get(repr(e)[:80], 0) + 1
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            lat.append(time.perf_counter() - t0)
            n += 1
    c.close()
    out.put((n, errors, lat[::10], kinds))


def _door_load(port):
    q = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_door_client, args=(port, SECS, i << 24, q))
             for i in range(PROCS)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    res = [q.get(timeout=SECS + 60) for _ in procs]
    for p in procs:
        p.join()
    took = time.perf_counter() - t0
    n = sum(r[0] for r in res)
    errors = sum(r[1] for r in res)
    lat = [x for r in res for x in r[2]]
    for r in res:
        for kind, count in r[3].items():
            print("# door load error: %dx %r" % (count, kind), file=sys.stderr)
    return n, n / took, int(_percentile(lat, 50) * 1e6), int(_percentile(lat, 99) * 1e6), errors


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
        for _ in range(ROUNDS):
            for name, lab in (("plain", plain), ("policy", policy)):
                lat[name] += [_imap_login_us(lab.imap_port) for _ in range(LOGINS)]
        # every policy login was asked about: the door's lines say so
        seen = sum(1 for e in gate.events() if e.get("proto") == "imap")
        load = _door_load(door)
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
        "| door load | requests | requests/s | p50 µs | p99 µs | errors |",
        "|---|---:|---:|---:|---:|---:|",
        "| %d keep-alive connections, one in flight each; allow, then report, per login "
        "| %d | %.0f | %d | %d | %d |" % ((PROCS,) + load),
    ]
    text = [
        "## Auth policy door (IMAP, POP3, ManageSieve)",
        "",
        "`make bench`: real Dovecot %s with imap, its passwd-file passdb, auth cache off; %d "
        "rounds of %d IMAP LOGINs (one at a time, a fresh connection each, LOGIN to tagged OK) "
        "against Dovecot without a policy and Dovecot whose auth policy client asks "
        "authguard-policyd (`auth_policy_check_after_auth = no`: one allow before the password "
        "check, one report after), taking turns; %d of those logins were logged by the door "
        "(proto=imap; with the warm-up logins). Then %d Python http.client processes (one "
        "keep-alive connection each) POST, for each login of a new account from a new address, "
        "an allow and then its report (a success), as Dovecot does, for %d s: the clients "
        "share the two cores with the door, so this is a floor."
        % (".".join(map(str, dovecot_version())), ROUNDS, LOGINS, seen,
           PROCS, SECS),
        "",
    ] + rows + [""]
    ok = rc == 0 and load[4] == 0 and seen == ROUNDS * LOGINS + WARMUP
    return text, ok


if __name__ == "__main__":
    # python3 bench/doorbench.py BUILD: this section alone, printed (RESULTS.md untouched)
    out, good = bench(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "build"))
    print("\n".join(out))
    sys.exit(0 if good else 1)
