"""A stand-in auth policy server that records what Dovecot's policy client sends.

    spy = PolicySpy().start()          # http://127.0.0.1:PORT/policy on a free port
    lab = Lab(logins=("imap",), auth_policy={"url": spy.url})
    ...
    spy.requests()                     # [Request(command, path, headers, body, json), ...]
    spy.answer = {"status": -1, "msg": "go away"}    # what `allow` gets from now on
    spy.answer = PolicySpy.HTTP_500 / PolicySpy.GARBAGE / ("sleep", 5.0)
    spy.stop()

It answers every request with HTTP/1.1 and keep-alive, as Dovecot's client expects: `allow`
with spy.answer (default {"status": 0, "msg": ""}), `report` with {"status": 0, "msg": ""}
unless spy.report_answer is set.  Python 3 standard library only; used by the lab tests and by
tests/lab/capture_policy.py.
"""

import http.server
import json
import socket
import threading
import time
import urllib.parse


class Request:
    """One request as received: the command (allow/report), path with query, headers, raw body
    and its JSON (None if it does not parse)."""

    def __init__(self, method, path, headers, body):
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
        self.command = (q.get("command") or [None])[0]
        try:
            self.json = json.loads(body.decode("utf-8"))
        except ValueError:
            self.json = None
        self.time = time.monotonic()

    def __repr__(self):
        return "Request(%s %s %r)" % (self.method, self.path, self.body)


class PolicySpy:
    HTTP_500 = "http-500"
    GARBAGE = "garbage"

    def __init__(self, host="127.0.0.1", port=0, path="/policy"):
        self.host = host
        self.path = path
        self.answer = {"status": 0, "msg": ""}
        self.report_answer = {"status": 0, "msg": ""}
        self._lock = threading.Lock()
        self._requests = []
        self._server = None
        self._thread = None
        self._port = port

    @property
    def url(self):
        return "http://%s:%d%s" % (self.host, self.port, self.path)

    def start(self):
        spy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                req = Request("POST", self.path, dict(self.headers.items()), body)
                with spy._lock:
                    spy._requests.append(req)
                    answer = spy.answer if req.command == "allow" else spy.report_answer
                spy._respond(self, answer)

            def log_message(self, fmt, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server((self.host, self._port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    @staticmethod
    def _respond(handler, answer):
        if isinstance(answer, tuple) and answer[0] == "sleep":
            time.sleep(answer[1])
            answer = answer[2] if len(answer) > 2 else {"status": 0, "msg": ""}
        if answer == PolicySpy.HTTP_500:
            status, body = 500, b"internal error\n"
            ctype = "text/plain"
        elif answer == PolicySpy.GARBAGE:
            status, body = 200, b"<html>this is not json"
            ctype = "application/json"
        elif isinstance(answer, bytes):
            status, body, ctype = 200, answer, "application/json"
        else:
            status, body = 200, json.dumps(answer).encode()
            ctype = "application/json"
        head = "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n" % (
            status, "OK" if status == 200 else "Internal Server Error", ctype, len(body))
        try:    # one write: headers and body apart would meet Nagle and the delayed ACK
            handler.wfile.write(head.encode() + body)
        except OSError:
            pass

    def requests(self, command=None):
        with self._lock:
            return [r for r in self._requests if command is None or r.command == command]

    def clear(self):
        with self._lock:
            self._requests = []

    def wait(self, count, command=None, timeout=10):
        """Wait until at least count requests (of command) were received; return them."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.requests(command)
            if len(got) >= count:
                return got
            if time.monotonic() > deadline:
                raise TimeoutError("policy spy: %d %s requests, wanted %d"
                                   % (len(got), command or "", count))
            time.sleep(0.02)

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def closed_port(host="127.0.0.1"):
    """A port where nobody listens (connections are refused)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]
