#!/usr/bin/env python3
"""HTTP/1.1 on metrics_listen (policy/http.c over libmicrohttpd, on the daemon's one loop), with
authguard-policyd in front of the lab's real Dovecot: several requests on one kept-alive
connection, pipelined requests, a header too big (and its warning), a body where none is allowed,
404 and 405, an idle connection closed, the connection limit (the oldest idle connection closed
for a new client), and the SASL gate answering while an HTTP client stalls in the middle of its
request."""

import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab, free_port  # noqa: E402
from gatelab import BUILD, GateClient, Gate, auth_line, b64, new_gate_dir  # noqa: E402
from gatelab import teardown_suite  # noqa: E402
from tap import Suite  # noqa: E402

suite = Suite("http")
S = {}
ALICE, ALICE_PW = "alice@example.test", "correct horse"
GET = b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n"
IDLE_S = 10             # metrics_listen's idle timeout
CONN_MAX = 64           # metrics_listen's connections at once


def setup():
    d = S["dir"] = new_gate_dir()
    S["lab"] = Lab(sasl_path=os.path.join(d, "auth"))
    S["lab"].start_dovecot()
    S["port"] = free_port()
    S["gate"] = Gate(S["lab"], d, metrics_listen="inet:127.0.0.1:%d" % S["port"]).start()


def teardown():
    teardown_suite(S)


class Http:
    """One client connection; read() takes one response off it: (status, headers, body)."""

    def __init__(self, timeout=5):
        self.s = socket.create_connection(("127.0.0.1", S["port"]), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def _fill(self):
        chunk = self.s.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk

    def read(self):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for l in lines[1:]:
            k, v = l.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, headers, body

    def closed_within(self, seconds):
        """Seconds until the server closes (EOF or reset), or None."""
        t0 = time.time()
        self.s.settimeout(seconds)
        try:
            while self.s.recv(65536):
                pass
        except socket.timeout:
            return None
        except ConnectionResetError:
            pass
        return time.time() - t0

    def close(self):
        self.s.close()


def scrape_ok(c):
    c.send(GET)
    status, headers, body = c.read()
    assert status == 200, (status, body[:200])
    assert headers["content-type"].startswith("text/plain; version=0.0.4"), headers
    assert headers["cache-control"] == "no-store", headers
    assert b"authguard_auth_attempts_total" in body
    return headers


@suite.test
def keepalive_several_requests():
    """Five GETs one after the other on one connection: each answered, none closes it."""
    c = Http()
    try:
        for _ in range(5):
            headers = scrape_ok(c)
            assert "close" not in headers.get("connection", ""), headers
    finally:
        c.close()


@suite.test
def pipelined_requests():
    """Four GETs written at once (as Dovecot's client pipelines): four answers, in order, and
    the connection serves on."""
    c = Http()
    try:
        c.send(GET * 4)
        for _ in range(4):
            status, _, body = c.read()
            assert status == 200 and b"# TYPE" in body
        scrape_ok(c)
    finally:
        c.close()


@suite.test
def huge_header_refused():
    """A header of 40 KB: refused by libmicrohttpd (431) and the connection closed, with a
    warning that names the listener, the target and the client (the suite's first refusal, so
    not one held back by the once in 10 s); the listener serves on."""
    before = S["gate"].log_text()
    c = Http()
    try:
        c.send(b"GET /metrics?big=1 HTTP/1.1\r\nHost: t\r\nX-Pad: " + b"p" * 40000 +
               b"\r\n\r\n")
        status, _, _ = c.read()
        assert status == 431, status
        assert c.closed_within(5) is not None
    finally:
        c.close()
    c = Http()
    scrape_ok(c)
    c.close()
    S["gate"].sync()
    time.sleep(0.2)
    log = S["gate"].log_text()[len(before):]
    assert "metrics_listen: - /metrics?big=1 from 127.0.0.1: 431 " in log, log[-2000:]


@suite.test
def body_where_none_is_allowed():
    """/metrics takes no body: a POST is 405 (Allow: GET), a GET with a body 413, each with the
    connection closed; the listener serves on."""
    c = Http()
    try:
        c.send(b"POST /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello")
        status, headers, _ = c.read()
        assert status == 405 and headers.get("allow") == "GET", (status, headers)
        assert c.closed_within(5) is not None
    finally:
        c.close()
    c = Http()
    try:
        c.send(b"GET /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n" +
               b"x" * 1000)
        status, headers, _ = c.read()
        assert status == 413 and headers.get("connection") == "close", (status, headers)
        assert c.closed_within(5) is not None
    finally:
        c.close()
    c = Http()
    scrape_ok(c)
    c.close()


@suite.test
def unknown_path_and_method():
    """Another path: 404; another method: 405 with Allow: GET."""
    c = Http()
    c.send(b"GET /other HTTP/1.1\r\nHost: t\r\n\r\n")
    status, headers, _ = c.read()
    c.close()
    assert status == 404 and headers["cache-control"] == "no-store", (status, headers)
    c = Http()
    c.send(b"DELETE /metrics HTTP/1.1\r\nHost: t\r\n\r\n")
    status, headers, _ = c.read()
    c.close()
    assert status == 405 and headers.get("allow") == "GET", (status, headers)


def gate_auth(id_):
    """One AUTH PLAIN through the gate to Dovecot: its reply line."""
    c = GateClient(S["gate"].socket, timeout=5)
    try:
        c.send(auth_line(id_, "PLAIN", resp=b64("\0%s\0%s" % (ALICE, ALICE_PW))))
        return c.line().decode()
    finally:
        c.close()


@suite.test
def stalled_client_idle_timeout_and_gate_serves():
    """A client stalled in the middle of its request headers, one idle after an answer, one
    that sends a header line every 2 s and never a whole request: meanwhile the SASL gate
    answers AUTHs (through Dovecot), and the control socket and another HTTP client are served
    at once; the three are closed after the idle timeout (10 s)."""
    stalled = Http(timeout=IDLE_S + 5)
    stalled.send(b"GET /metrics HTTP/1.1\r\nHost: t\r\nX-Half")
    idle = Http(timeout=IDLE_S + 5)
    scrape_ok(idle)
    trickler = Http(timeout=IDLE_S + 5)
    t0 = time.time()
    trickled = threading.Thread(target=trickle, args=(trickler, t0))
    trickled.start()
    try:
        for i in range(3):
            t = time.time()
            reply = gate_auth(100 + i)
            assert reply.startswith("OK\t%d" % (100 + i)), reply
            assert time.time() - t < 2, "AUTH took %.1f s" % (time.time() - t)
            c = Http()
            scrape_ok(c)
            c.close()
            r = subprocess.run([os.path.join(BUILD, "authguard"), "-s", S["gate"].control,
                                "metrics"], capture_output=True, text=True, timeout=5)
            assert r.returncode == 0 and "authguard_auth_attempts_total" in r.stdout
        for name, c in (("stalled", stalled), ("idle", idle)):
            took = c.closed_within(IDLE_S + 5)
            assert took is not None, "the %s client is still open" % name
            since = time.time() - t0
            assert IDLE_S - 1 <= since <= IDLE_S + 4, "%s closed after %.1f s" % (name, since)
            print("# %s client closed %.1f s after it went quiet" % (name, since))
        trickled.join(IDLE_S + 10)
        since = S["trickled"]
        assert since is not None and IDLE_S - 1 <= since <= IDLE_S + 4, \
            "a client trickling its headers was closed after %r s" % since
        print("# trickling client closed %.1f s after its connect" % since)
    finally:
        stalled.close()
        idle.close()
        trickler.close()
    assert S["gate"].alive()


def trickle(c, t0):
    """A header line every 2 s, never a whole request: S["trickled"] is when the server
    closed the connection (seconds after t0), or None."""
    S["trickled"] = None
    try:
        c.send(b"GET /metrics HTTP/1.1\r\nHost: t\r\n")
        c.s.settimeout(2)
        for i in range(3 * IDLE_S):
            try:
                if not c.s.recv(65536):
                    break
            except socket.timeout:
                pass
            c.send(b"X-Slow-%d: x\r\n" % i)
        else:
            return
    except OSError:
        pass
    S["trickled"] = time.time() - t0


@suite.test
def connection_limit():
    """64 clients served and kept alive, idle between requests: a 65th is served at once, and
    the oldest of the 64 closed for it (one warning); the others go on being served."""
    before = S["gate"].log_text()
    held = []
    try:
        for _ in range(CONN_MAX):
            c = Http()
            scrape_ok(c)
            held.append(c)
        extra = Http(timeout=2)
        t0 = time.time()
        scrape_ok(extra)
        print("# a client over the limit answered in %.3f s" % (time.time() - t0))
        assert time.time() - t0 < 1
        assert held[0].closed_within(2) is not None, "the oldest idle client is still open"
        for c in held[1:4]:
            scrape_ok(c)
        held.append(extra)
        S["gate"].sync()
        time.sleep(0.2)
        log = S["gate"].log_text()[len(before):]
        assert log.count("metrics_listen: conn_max 64 connections: the oldest without a "
                         "request in progress closed for a new client") == 1, log[-2000:]
    finally:
        for c in held:
            c.close()


if __name__ == "__main__":
    if len(sys.argv) > 1:       # only the named tests
        suite.tests = [t for t in suite.tests if t.__name__ in sys.argv[1:]]
    suite.run(setup, teardown)
