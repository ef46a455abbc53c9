#!/usr/bin/env python3
"""Operations: SIGHUP reload without dropping connections or state, a bad new configuration
refused, SIGUSR1, systemd's readiness protocol, the systemd units checked by systemd-analyze, and
make install's layout (GNU directories, an existing configuration never replaced), the state
writer holding none of the daemon's descriptors, and the metrics listener's limits (idle
clients, the connection limit, oversized requests)."""

import hashlib
import hmac
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gatelab  # noqa: E402
from fakeauth import FakeAuth  # noqa: E402
from gatelab import GateClient, NoLab, auth_line, b64, new_gate_dir  # noqa: E402
from lab import free_port, wait_until  # noqa: E402
from milterlab import Milter  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("ops")
S = {}
TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def setup():
    d = S["dir"] = new_gate_dir()
    S["fake"] = FakeAuth(os.path.join(d, "fake-auth"))


def teardown():
    if S.get("fake"):
        S["fake"].stop()
    subprocess.run(["rm", "-rf", S["dir"]])


def plain(user, pw="pw-123"):
    return b64(b"\0%s\0%s" % (user.encode(), pw.encode()))


def answer(c, id_, user):
    """One AUTH, each with its own password (a repeated wrong one counts once)."""
    c.send(auth_line(id_, "PLAIN", resp=plain(user, "pw-%d" % id_)))
    return c.line().decode()


def cause_of(g, reply):
    ref = re.search(r"ref=([0-9A-Z]+)", reply).group(1)
    return g.event(ref).get("cause")


def set_conf(g, **kv):
    with open(g.conf_path) as f:
        lines = [l for l in f if l.split("=")[0].strip() not in kv]
    with open(g.conf_path, "w") as f:
        f.writelines(lines)
        for k, v in kv.items():
            f.write("%s = %s\n" % (k, v))


def hup_and_wait(g, text):
    mark = len(g.log_text())
    g.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 5
    while text not in g.log_text()[mark:]:
        assert time.time() < deadline, "no %r after SIGHUP:\n%s" % (text, g.log_text()[mark:])
        time.sleep(0.02)
    return g.log_text()[mark:]


@suite.test
def sighup_reloads_without_dropping_anything():
    d = os.path.join(S["dir"], "hup")
    os.makedirs(d)
    g = gatelab.Gate(NoLab(S["dir"]), d, account_fail_limit="3/10m").start()
    try:
        c = GateClient(g.socket)                  # open across every reload below
        for i in range(2):                        # two of three for the fake's bad user
            assert answer(c, i + 1, "fail-erin").startswith("FAIL")
        # A stricter limit: the third attempt is refused as locked, counting the two before.
        set_conf(g, account_fail_limit="2/10m", client_detail="full")
        log = hup_and_wait(g, "reloaded")
        assert "warning" not in log, log
        r = answer(c, 3, "fail-erin")
        assert cause_of(g, r) == "account-locked", r
        # A bad file: refused, logged with file and line, the running configuration stays.
        with open(g.conf_path, "a") as f:
            f.write("account_fail_limit = lots\n")
        log = hup_and_wait(g, "reload refused")
        assert "authguard.conf:" in log and "running configuration stays" in log, log
        assert g.alive()
        r = answer(c, 4, "fail-erin")
        assert cause_of(g, r) == "account-locked", r
        # A key only a restart can change: kept, with a warning naming it.
        set_conf(g, account_fail_limit="2/10m", state_dir=os.path.join(d, "elsewhere"))
        log = hup_and_wait(g, "reloaded")
        assert "state_dir changed" in log, log
        assert not os.path.exists(os.path.join(d, "elsewhere"))
        assert answer(c, 5, "ok-frank").startswith("OK\t5")
        c.close()
        # SIGUSR1: logs reopened, nothing else.
        mark = len(g.log_text())
        g.proc.send_signal(signal.SIGUSR1)
        deadline = time.time() + 5
        while "log reopened" not in g.log_text()[mark:]:
            assert time.time() < deadline
            time.sleep(0.02)
        c = GateClient(g.socket)
        assert answer(c, 1, "ok-frank").startswith("OK\t1")
        c.close()
    finally:
        assert g.stop() == 0


def notify_socket(d):
    path = os.path.join(d, "notify")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(10)
    return s, path


@suite.test
def tells_systemd_ready_reloading_stopping():
    d = os.path.join(S["dir"], "notify")
    os.makedirs(d)
    s, path = notify_socket(d)
    try:
        g = gatelab.Gate(NoLab(S["dir"]), d)
        g.start(env={"NOTIFY_SOCKET": path})
        assert s.recv(256) == b"READY=1"
        assert os.path.exists(g.socket)           # ready means the socket is there
        g.proc.send_signal(signal.SIGHUP)
        assert s.recv(256) == b"RELOADING=1"
        assert s.recv(256) == b"READY=1"
        assert g.stop() == 0
        assert s.recv(256) == b"STOPPING=1"
        m = Milter(d)
        m.start(env={"NOTIFY_SOCKET": path})
        assert s.recv(256) == b"READY=1"
        assert os.path.exists(m.socket)
        assert m.stop() == 0
    finally:
        s.close()


def blocked_in_sendto(pid, timeout=10):
    """Wait until the process sits in sendto(2): its READY=1 waits for room in a full queue."""
    nr = {"x86_64": 44, "aarch64": 206}.get(os.uname().machine)
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open("/proc/%d/syscall" % pid) as f:
                first = f.read().split()[0]
        except (OSError, IndexError):
            first = ""
        if nr is not None and first == str(nr):
            return True
        time.sleep(0.01)
    return False


@suite.test
def sigterm_as_ready_is_told_stops_cleanly():
    """A SIGTERM that comes while a daemon tells systemd READY=1 is a clean stop, never death by
    the signal's default action. The notification queue is filled first, so that the daemon waits
    in sendto(2) with READY=1, and the signal surely comes then."""
    d = os.path.join(S["dir"], "ready-race")
    os.makedirs(d)
    s, path = notify_socket(d)
    filler = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        for daemon in (gatelab.Gate(NoLab(S["dir"]), d), Milter(d)):
            while True:
                try:
                    filler.sendto(b"x", socket.MSG_DONTWAIT, path)
                except BlockingIOError:
                    break
            daemon.start(env={"NOTIFY_SOCKET": path})
            assert blocked_in_sendto(daemon.proc.pid), daemon.name
            daemon.proc.send_signal(signal.SIGTERM)
            time.sleep(0.2)
            told = []                           # the queue drains; READY=1 goes out
            s.settimeout(1)
            try:
                while True:
                    told.append(s.recv(256))
            except socket.timeout:
                pass
            s.settimeout(10)
            rc = daemon.stop()
            assert rc == 0, (daemon.name, rc, daemon.log_text()[-2000:])
            assert b"READY=1" in told, (daemon.name, told[-3:])
    finally:
        filler.close()
        s.close()


@suite.test
def systemd_units_verify():
    d = os.path.join(S["dir"], "units")
    os.makedirs(d)
    names = ("authguard-policyd", "authguard-milter", "authguard-web")
    for u in names:
        with open(os.path.join(TOP, "systemd", u + ".service.in")) as f:
            text = f.read()
        # The binaries of this build stand where make install would put them.
        text = text.replace("@SBINDIR@", os.path.abspath(gatelab.BUILD)) \
            .replace("@SYSCONFDIR@", "/etc").replace("@LOCALSTATEDIR@", "/var")
        assert "@" not in text.replace("$MAINPID", ""), text
        with open(os.path.join(d, u + ".service"), "w") as f:
            f.write(text)
    units = [os.path.join(d, u + ".service") for u in names]
    r = subprocess.run(["systemd-analyze", "verify", "--man=no"] + units, capture_output=True,
                       text=True)
    ours = [l for l in (r.stdout + r.stderr).splitlines() if "authguard" in l]
    assert r.returncode == 0 and not ours, r.stdout + r.stderr
    with open(units[0]) as f:
        text = f.read()
    for want in ("Type=notify", "ProtectSystem=strict", "PrivateTmp=yes", "NoNewPrivileges=yes",
                 "RuntimeDirectory=authguard", "StateDirectory=authguard", "ReadWritePaths="):
        assert want in text, want


@suite.test
def make_install_gnu_layout_keeps_the_config():
    d = os.path.join(S["dir"], "destdir")
    build = os.path.relpath(gatelab.BUILD, TOP)

    def install():
        r = subprocess.run(["make", "-s", "-C", TOP, "install", "BUILD=" + build,
                            "PREFIX=/usr", "DESTDIR=" + d], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        return r.stdout
    install()
    for exe in ("usr/sbin/authguard-policyd", "usr/sbin/authguard-milter", "usr/sbin/authguard-web",
                "usr/bin/authguard"):
        assert os.access(os.path.join(d, exe), os.X_OK), exe
    for page in ("man1/authguard.1", "man5/authguard.conf.5", "man7/authguard-causes.7",
                 "man8/authguard-policyd.8", "man8/authguard-milter.8", "man8/authguard-web.8"):
        path = os.path.join(d, "usr/share/man", page)
        r = subprocess.run(["groff", "-ww", "-man", "-Tutf8", path], capture_output=True,
                           text=True)
        assert r.returncode == 0 and r.stderr == "", (page, r.stderr)
        assert "authguard" in r.stdout
    for f in ("usr/share/doc/authguard/conf-examples/authguard.conf",
              "usr/share/doc/authguard/SECURITY.md",
              "usr/lib/systemd/system/authguard-policyd.service",
              "usr/lib/systemd/system/authguard-milter.service",
              "usr/lib/systemd/system/authguard-web.service",
              "usr/share/doc/authguard/conf-examples/authguard-web.conf",
              "usr/share/doc/authguard/conf-examples/nginx-authguard-web.conf",
              "usr/share/doc/authguard/conf-examples/grafana-authguard.json"):
        assert os.path.exists(os.path.join(d, f)), f
    with open(os.path.join(d, "usr/lib/systemd/system/authguard-policyd.service")) as f:
        unit = f.read()
    assert "ExecStart=/usr/sbin/authguard-policyd -f -c /etc/authguard/authguard.conf" in unit
    conf = os.path.join(d, "etc/authguard/authguard.conf")
    assert os.stat(conf).st_mode & 0o777 == 0o640
    with open(conf, "a") as f:
        f.write("# the admin's own change\n")
    out = install()                               # again: the admin's file stays
    with open(conf) as f:
        assert f.read().endswith("# the admin's own change\n")
    assert os.path.exists(conf + ".example") and "kept" in out, out
    # The default configuration path follows sysconfdir.
    r = subprocess.run([os.path.join(d, "usr/sbin/authguard-policyd"), "-t"],
                       capture_output=True, text=True)
    assert "/etc/authguard/authguard.conf" in r.stdout + r.stderr, r.stdout + r.stderr


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def fd_targets(pid):
    """{fd: what it points to} of a process, or None once it is gone."""
    d = "/proc/%d/fd" % pid
    try:
        out = {}
        for fd in os.listdir(d):
            try:
                out[int(fd)] = os.readlink(os.path.join(d, fd))
            except OSError:
                pass
        return out
    except OSError:
        return None


def big_state(path, entries):
    """A state file whose snapshot takes a while to write: many accounts, each with failures."""
    now = int(time.time())
    with open(path, "w") as f:
        f.write("authguard-state 1\n")
        for i in range(entries):
            f.write("E a bulk-%07d@example.test 0 0 0\n" % i)
            for j in range(4):
                f.write("F %d %d %d\n" % (now - j, 1 + i * 4 + j, 7))


@suite.test
def state_writer_holds_no_connection():
    """While the child that writes the snapshot runs (stopped here in the middle of a large
    write), it holds no descriptor but stdin, stdout, stderr and its output file: a connection
    the gate closes meanwhile ends at once for its peer (smtpd's 454), not when the child ends."""
    d = os.path.join(S["dir"], "writer")
    os.makedirs(os.path.join(d, "state"))
    big_state(os.path.join(d, "state", "state"), 150000)
    g = gatelab.Gate(NoLab(S["dir"]), d, max_tracked="1000000").start(timeout=60)
    child = None
    try:
        wait_until(lambda: "state loaded" in g.log_text(), 60, "the state to load")
        c = GateClient(g.socket)                  # smtpd's connection, open across the fork
        assert answer(c, 1, "fail-writer").startswith("FAIL")   # the state changed
        tmp = os.path.join(g.state_dir, "state.tmp")
        deadline = time.time() + 10
        while child is None:                      # the child, caught while it writes
            assert time.time() < deadline, "no state writer seen"
            for pid in children(g.proc.pid):
                fds = fd_targets(pid) or {}
                if tmp in fds.values():
                    os.kill(pid, signal.SIGSTOP)
                    child = pid
                    break
            time.sleep(0.001)
        fds = fd_targets(child)
        rest = {fd: t for fd, t in fds.items() if fd > 2}
        assert list(rest.values()) == [tmp], "the state writer holds %r" % rest
        c.send(b"VERSION\t2\t0\n")             # the gate closes this connection
        t0 = time.time()
        assert c.closed(timeout=3), "no EOF while the state writer runs"
        print("# writer fds %s; EOF after %.3f s" % (sorted(fds), time.time() - t0))
        c.s.close()
    finally:
        if child:
            os.kill(child, signal.SIGCONT)
    wait_until(lambda: child not in children(g.proc.pid), 30, "the writer to finish")
    c = GateClient(g.socket)
    assert answer(c, 2, "ok-writer").startswith("OK\t2")
    c.close()
    assert g.stop() == 0


def http_exchange(port, data, timeout=5):
    """Send data, read to EOF: (reply bytes, whether the server closed within timeout)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return got, True
            got += chunk
    except socket.timeout:
        return got, False
    except (ConnectionResetError, BrokenPipeError):
        return got, True
    finally:
        s.close()


def eof_within(s, timeout):
    """Seconds until the peer closes s (EOF or reset), or None."""
    t0 = time.time()
    s.settimeout(timeout)
    try:
        while s.recv(65536):
            pass
    except socket.timeout:
        return None
    except ConnectionResetError:
        pass
    return time.time() - t0


@suite.test
def metrics_listener_limits():
    """metrics_listen: a client that never finishes its request is closed after the idle
    timeout (10 s); request headers too big for a connection's memory get 431 and the
    connection closed; with 64 clients kept alive and idle a 65th is answered at once and the
    oldest of the 64 closed for it, while the others are served on; the daemon serves on."""
    d = os.path.join(S["dir"], "metrics")
    os.makedirs(d)
    port = free_port()
    g = gatelab.Gate(NoLab(S["dir"]), d, metrics_listen="inet:127.0.0.1:%d" % port).start()
    url = "http://127.0.0.1:%d/metrics" % port
    get = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
    held = []
    try:
        slow = socket.create_connection(("127.0.0.1", port), timeout=5)
        t_slow = time.time()
        slow.sendall(b"GET /metrics HTTP/1.1\r\nHost: x")   # and never the rest
        # 200 headers of 200 bytes, 40 KB in all: more than a connection's 32 KiB.
        big = b"GET /metrics HTTP/1.1\r\n" + b"".join(
            b"X-Pad-%03d: %s\r\n" % (i, b"p" * 190) for i in range(200)) + b"\r\n"
        reply, closed = http_exchange(port, big)
        assert reply.startswith(b"HTTP/1.1 431") and closed, reply[:200]
        with urllib.request.urlopen(url, timeout=5) as r:
            assert r.status == 200 and b"authguard_auth_attempts_total" in r.read()
        closed = eof_within(slow, 15)
        slow.close()
        assert closed is not None, "a client that never finished its request is still open"
        took = time.time() - t_slow
        assert 9 <= took <= 13, "closed after %.1f s" % took
        print("# unfinished request closed after %.1f s" % took)
        for i in range(64):
            c = socket.create_connection(("127.0.0.1", port), timeout=5)
            c.sendall(get)
            assert http_response(c).startswith(b"HTTP/1.1 200")
            held.append(c)
        extra = socket.create_connection(("127.0.0.1", port), timeout=2)
        extra.sendall(get)
        assert http_response(extra).startswith(b"HTTP/1.1 200")
        assert eof_within(held[0], 2) is not None, "the oldest idle client is still open"
        held[1].sendall(get)
        assert http_response(held[1]).startswith(b"HTTP/1.1 200")
        held.append(extra)
        assert g.alive()
    finally:
        for c in held:
            c.close()
        assert g.stop() == 0


def http_response(s):
    """One response off a kept-alive connection: its head, the body read past."""
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = s.recv(65536)
        if not chunk:
            return got
        got += chunk
    head, body = got.split(b"\r\n\r\n", 1)
    length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
    while length and len(body) < int(length.group(1)):
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return head


@suite.test
def long_mechanism_names_kept_in_recent_attempts():
    """A recent attempt with a mechanism name of 18 characters (SCRAM-SHA-256-PLUS; RFC 4422
    allows 20) is read back from the state file whole, and shown by authguard why."""
    d = os.path.join(S["dir"], "mech")
    os.makedirs(os.path.join(d, "state"))
    now = int(time.time())
    with open(os.path.join(d, "state", "state"), "w") as f:
        f.write("authguard-state 1\n")
        f.write("H MECH000001 %d 1 1 1 4242 SCRAM-SHA-256-PLUS 192.0.2.7 mech-user\n" % now)
        f.write("H MECH000002 %d 1 1 1 4243 ABCDEFGHIJKLMNOPQRST 192.0.2.7 mech-user\n" % now)
    g = gatelab.Gate(NoLab(S["dir"]), d).start()
    try:
        wait_until(lambda: "state loaded" in g.log_text(), 10, "the state to load")
        assert "unreadable" not in g.log_text(), g.log_text()
        r = subprocess.run([os.path.join(gatelab.BUILD, "authguard"), "-s", g.control, "--json",
                            "why", "mech-user"], capture_output=True, text=True, timeout=10)
        assert r.returncode == 0, r.stdout + r.stderr
        for mech in ("SCRAM-SHA-256-PLUS", "ABCDEFGHIJKLMNOPQRST"):
            assert '"mech":"%s"' % mech in r.stdout.replace(" ", ""), r.stdout
    finally:
        assert g.stop() == 0
    with open(os.path.join(d, "state", "state")) as f:
        assert " SCRAM-SHA-256-PLUS 192.0.2.7 mech-user" in f.read()


def mac32(key, account, password):
    """The first 32 bits of HMAC-SHA256(key, account NUL password)."""
    d = hmac.new(key, account.encode() + b"\0" + password.encode(), hashlib.sha256).digest()
    return int.from_bytes(d[:4], "big")


def fp20(key, account, password):
    return (mac32(key, account, password) >> 12) or 1


def saved_fps(state_dir, account):
    """The fingerprints of an account's failures in the state file."""
    fps, cur = [], None
    with open(os.path.join(state_dir, "state")) as f:
        for l in f:
            w = l.split()
            if w[0] == "E":
                cur = w[1:3] == ["a", account]
            elif w[0] == "F" and cur:
                fps.append(int(w[2]))
    return fps


@suite.test
def fingerprints_are_20_bits_and_old_ones_still_match():
    """A failed password's fingerprint is the first 20 bits of HMAC-SHA256(key, account NUL
    password); a 32-bit one in a state file of the former width still matches the same
    password again (stale-password, not counted), and is saved cut to 20 bits. (The daemon's
    default fingerprint_key, /etc/authguard/fingerprint.key, must not exist on the test host.)"""
    d = os.path.join(S["dir"], "fp")
    state = os.path.join(d, "state")
    os.makedirs(state)
    key = os.urandom(32)
    with open(os.path.join(state, "secret"), "wb") as f:     # the former place of the key
        f.write(key)
    os.chmod(os.path.join(state, "secret"), 0o600)
    now = int(time.time())
    old = mac32(key, "fail-fp", "pw-old")
    with open(os.path.join(state, "state"), "w") as f:
        f.write("authguard-state 1\nE a fail-fp 0 0 0\nF %d %d 7\n" % (now - 30, old))
    # An upgrade: the key where the older version made it, fingerprint_key left at its default.
    g = gatelab.Gate(NoLab(S["dir"]), d, account_fail_limit="3/10m",
                     fingerprint_key=None).start()
    try:
        c = GateClient(g.socket)
        c.send(auth_line(1, "PLAIN", resp=plain("fail-fp", "pw-old")))
        r = c.line().decode()
        assert cause_of(g, r) == "stale-password", r
        c.send(auth_line(2, "PLAIN", resp=plain("fail-fp", "pw-new")))
        r = c.line().decode()
        assert cause_of(g, r) != "stale-password", r
        c.close()
    finally:
        assert g.stop() == 0
    fps = saved_fps(state, "fail-fp")
    assert sorted(fps) == sorted([(old >> 12) or 1, fp20(key, "fail-fp", "pw-new")]), \
        (fps, old)
    assert all(0 < v < 1 << 20 for v in fps), fps


@suite.test
def fingerprint_key_lives_outside_state_dir():
    """The fingerprint key is read from fingerprint_key, and nothing in state_dir carries it: a
    copy of the state cannot be used to test guesses. A state_dir/secret of an older version
    holding the same key is removed; without any key file the daemon uses one for this run
    only and writes none."""
    d = os.path.join(S["dir"], "fpkey")
    state = os.path.join(d, "state")
    os.makedirs(state)
    key = os.urandom(32)
    keyfile = os.path.join(S["dir"], "fingerprint.key")
    with open(keyfile, "wb") as f:
        f.write(key)
    os.chmod(keyfile, 0o640)
    with open(os.path.join(state, "secret"), "wb") as f:     # the older version's copy
        f.write(key)
    g = gatelab.Gate(NoLab(S["dir"]), d, fingerprint_key=keyfile).start()
    try:
        c = GateClient(g.socket)
        assert answer(c, 1, "fail-key").startswith("FAIL")
        c.close()
        assert "removed %s/secret" % state in g.log_text(), g.log_text()
    finally:
        assert g.stop() == 0
    assert "secret" not in os.listdir(state), os.listdir(state)
    assert saved_fps(state, "fail-key") == [fp20(key, "fail-key", "pw-1")]
    # No key file at all: a key for this run only, said once, and no file made anywhere.
    missing = os.path.join(S["dir"], "no-such.key")
    set_conf(g, fingerprint_key=missing)
    g.start()
    try:
        c = GateClient(g.socket)
        assert answer(c, 2, "fail-key").startswith("FAIL")
        c.close()
        assert g.log_text().count("for this run only") == 1, g.log_text()
    finally:
        assert g.stop() == 0
    assert not os.path.exists(missing)
    assert "secret" not in os.listdir(state), os.listdir(state)


if __name__ == "__main__":
    if len(sys.argv) > 1:       # only the named tests
        suite.tests = [t for t in suite.tests if t.__name__ in sys.argv[1:]]
    suite.run(setup, teardown)
