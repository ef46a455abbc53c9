"""sockspy: a line-logging unix-socket relay, to watch (and tamper with) Dovecot's auth protocols.

Python 3 standard library only.  It listens on a unix socket path, and for every connection it
accepts opens one to the target socket (e.g. Dovecot's auth-client socket) and relays bytes both
ways, recording every complete line with its direction:

    C>S   client -> server   (e.g. Postfix smtpd -> Dovecot)
    S>C   server -> client   (e.g. Dovecot -> Postfix smtpd)

plus OPEN / CLOSE events.  Hooks may rewrite or drop a line, or close the connection (to stage a
lost auth server, an injected FAIL reason, ...).

As a library:

    spy = SockSpy(listen_path, target_path, log_path=None)
    spy.on_server_line = lambda conn, line: line.replace(b"FAIL\\t1", b"FAIL\\t1\\treason=x")
    spy.start()
    ...
    print(spy.transcript())        # tabs shown as \\t
    spy.stop()

From the shell:  python3 sockspy.py LISTEN_PATH TARGET_PATH   (logs to stdout until ^C)

Hook contract (on_client_line for C>S lines, on_server_line for S>C lines): called in the relay
thread with (conn, line) where line is bytes without its "\\n"; return bytes to forward (the same or
changed), None to drop the line, or SockSpy.CLOSE to close both sides of this connection instead.
The record shows what arrived; a changed or dropped line is recorded again as "C>S*"/"S>C*"
(what was forwarded) or "C>S-"/"S>C-" (dropped).
"""

import os
import socket
import struct
import sys
import threading
import time

CLIENT_TO_SERVER = "C>S"
SERVER_TO_CLIENT = "S>C"


def escape(line):
    """Printable form of a protocol line: \\t for tab, \\xNN for other control bytes, \\\\ for \\."""
    if isinstance(line, str):
        line = line.encode("utf-8", "surrogateescape")
    out = []
    for b in line:
        if b == 0x09:
            out.append("\\t")
        elif b == 0x5C:
            out.append("\\\\")
        elif b < 0x20 or b == 0x7F:
            out.append("\\x%02x" % b)
        elif b < 0x80:
            out.append(chr(b))
        else:
            out.append("\\x%02x" % b)
    return "".join(out)


def peer_pid(sock):
    """SO_PEERCRED pid of a connected unix socket's peer."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[0]


class Record:
    """One logged event: time, connection number, direction (or OPEN/CLOSE), raw bytes."""
    __slots__ = ("t", "conn", "dir", "data")

    def __init__(self, t, conn, direction, data):
        self.t, self.conn, self.dir, self.data = t, conn, direction, data

    def text(self):
        return "#%d %s %s" % (self.conn, self.dir, escape(self.data))

    def __repr__(self):
        return "Record(%r)" % self.text()


class Conn:
    """One relayed connection: client socket (accepted) and server socket (to the target)."""

    def __init__(self, spy, num, client):
        self.spy = spy
        self.num = num
        self.client = client
        self.server = None
        self.client_pid = None
        self.closed = threading.Event()
        self._lock = threading.Lock()

    def send_to_client(self, line):
        """Inject a line (bytes, no newline) towards the client, recorded as S>C+."""
        self.spy._record(self.num, SERVER_TO_CLIENT + "+", line)
        with self._lock:
            self.client.sendall(line + b"\n")

    def send_to_server(self, line):
        """Inject a line (bytes, no newline) towards the server, recorded as C>S+."""
        self.spy._record(self.num, CLIENT_TO_SERVER + "+", line)
        with self._lock:
            self.server.sendall(line + b"\n")

    def close(self, why):
        if self.closed.is_set():
            return
        self.closed.set()
        self.spy._record(self.num, "CLOSE", why.encode())
        for s in (self.client, self.server):
            if s is None:
                continue
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


class SockSpy:
    CLOSE = object()

    def __init__(self, listen_path, target_path, log_path=None, mode=0o666, echo=False):
        self.listen_path = listen_path
        self.target_path = target_path
        self.log_path = log_path
        self.mode = mode
        self.echo = echo                 # also print each record to stdout
        self.on_client_line = None       # hooks, see the module docstring
        self.on_server_line = None
        self.records = []
        self.conns = []
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._listener = None
        self._stopping = threading.Event()
        self._log = None
        self._count = 0

    # --- life cycle ---------------------------------------------------------------------------

    def start(self):
        if os.path.exists(self.listen_path):
            os.unlink(self.listen_path)
        if self.log_path:
            self._log = open(self.log_path, "a", buffering=1)
        ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        ls.bind(self.listen_path)
        os.chmod(self.listen_path, self.mode)   # Postfix's smtpd runs as user postfix
        ls.listen(64)
        ls.settimeout(0.2)
        self._listener = ls
        threading.Thread(target=self._accept_loop, name="sockspy-accept", daemon=True).start()
        return self

    def stop(self):
        """Stop listening, close every connection, remove the socket file.  Idempotent."""
        self._stopping.set()
        if self._listener:
            self._listener.close()
            self._listener = None
        for c in list(self.conns):
            c.close("spy stopped")
        try:
            os.unlink(self.listen_path)
        except OSError:
            pass
        if self._log:
            self._log.close()
            self._log = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # --- reading the record -------------------------------------------------------------------

    def mark(self, text):
        """Put a marker line (conn 0, direction '--') into the record, e.g. a test step's name."""
        self._record(0, "--", text.encode())

    def clear(self):
        with self._lock:
            self.records = []

    def snapshot(self):
        with self._lock:
            return list(self.records)

    def lines(self, direction=None, conn=None):
        """Raw bytes of recorded lines, filtered by direction ("C>S", "S>C", ...) and conn."""
        return [r.data for r in self.snapshot()
                if (direction is None or r.dir == direction) and (conn is None or r.conn == conn)]

    def transcript(self, since=0):
        """Text of records[since:], one per line, tabs as \\t."""
        return "\n".join(r.text() for r in self.snapshot()[since:])

    def wait_for(self, pred, timeout=10.0):
        """Wait until pred(record) is true for some record; return it (or None on timeout)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for r in self.records:
                    if pred(r):
                        return r
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    # --- internals ----------------------------------------------------------------------------

    def _record(self, conn, direction, data):
        r = Record(time.time(), conn, direction, data)
        with self._cond:
            self.records.append(r)
            self._cond.notify_all()
        text = "%.6f %s" % (r.t, r.text())
        if self._log:
            self._log.write(text + "\n")
        if self.echo:
            print(text, flush=True)

    def _accept_loop(self):
        while not self._stopping.is_set():
            ls = self._listener
            if ls is None:
                return
            try:
                client, _ = ls.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            client.settimeout(None)
            with self._lock:
                self._count += 1
                num = self._count
            conn = Conn(self, num, client)
            self.conns.append(conn)
            try:
                conn.client_pid = peer_pid(client)
            except OSError:
                pass
            try:
                server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                server.connect(self.target_path)
            except OSError as e:
                self._record(num, "OPEN", b"client_pid=%d target connect failed: %s"
                             % (conn.client_pid or 0, str(e).encode()))
                conn.close("target unavailable")
                continue
            conn.server = server
            self._record(num, "OPEN", b"client_pid=%d" % (conn.client_pid or 0))
            threading.Thread(target=self._pump, args=(conn, True), daemon=True,
                             name="sockspy-%d-c2s" % num).start()
            threading.Thread(target=self._pump, args=(conn, False), daemon=True,
                             name="sockspy-%d-s2c" % num).start()

    def _pump(self, conn, from_client):
        src = conn.client if from_client else conn.server
        dst = conn.server if from_client else conn.client
        direction = CLIENT_TO_SERVER if from_client else SERVER_TO_CLIENT
        who = "client" if from_client else "server"
        buf = b""
        try:
            while True:
                chunk = src.recv(65536)
                if not chunk:
                    if buf:
                        self._record(conn.num, direction + "(partial)", buf)
                        with conn._lock:
                            dst.sendall(buf)
                    conn.close("by " + who)
                    return
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    self._record(conn.num, direction, line)
                    hook = self.on_client_line if from_client else self.on_server_line
                    out = hook(conn, line) if hook else line
                    if out is SockSpy.CLOSE:
                        conn.close("by spy hook after %s line" % direction)
                        return
                    if out is None:
                        self._record(conn.num, direction + "-", line)
                        continue
                    if out != line:
                        self._record(conn.num, direction + "*", out)
                    with conn._lock:
                        dst.sendall(out + b"\n")
        except OSError as e:
            if not conn.closed.is_set():
                conn.close("%s error: %s" % (who, e))


def main(argv):
    if len(argv) != 3:
        print("usage: sockspy.py LISTEN_PATH TARGET_PATH", file=sys.stderr)
        return 2
    spy = SockSpy(argv[1], argv[2], echo=True).start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        spy.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
